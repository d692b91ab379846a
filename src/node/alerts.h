/*
 * alerts.h: e-mail alerts without content (alerts.c).
 *
 * A party may ask its node to tell one e-mail address, through the SMTP
 * relay the operator sets in node.conf, that something new awaits it or
 * that something it must answer fell overdue.  The mail says only that
 * something awaits and where (the node's URL): never the type, state,
 * sender, subject or any field of a record.  Alerts are batched (at most
 * one mail per party per interval), retried with back-off while the relay
 * fails, and sent by a thread of their own that never holds a lock while
 * it talks to the relay, so intake never waits on mail.
 */
#ifndef COMITY_NODE_ALERTS_H
#define COMITY_NODE_ALERTS_H

#include <stdbool.h>
#include <stdint.h>

#include "node/node.h"
#include "node/req.h"

#define CY_ALERTS_MAX 4096            /* parties with alerts on, per node */
#define CY_ALERT_EMAIL_MAX 254        /* bytes of an address (RFC 5321 path) */
#define CY_ALERTS_FILE_MAX (2u << 20) /* bytes of DIR/alerts.json */
#define CY_ALERTS_BODY_MAX 1024       /* bytes of a PUT /v1/alerts body */
#define CY_ALERTS_INTERVAL_MS (5 * 60 * 1000LL) /* default batching interval */
#define CY_ALERTS_BACKOFF_MAX_MS (60 * 60 * 1000LL) /* longest wait after failures */
#define CY_SMTP_TIMEOUT_S 30          /* one conversation with the relay */
#define CY_SMTP_URL_MAX 511

/* node.conf's mail settings (cy_smtp_conf_parse). */
typedef struct cy_smtp_conf {
    char url[CY_SMTP_URL_MAX + 1];         /* smtp_url: smtp:// or smtps://; "" off */
    char from[CY_ALERT_EMAIL_MAX + 1];     /* smtp_from */
    char public_url[CY_SMTP_URL_MAX + 1];  /* public_url: where the mail sends people */
    char ca_file[1024];                    /* smtp_ca: CA certificates (PEM) */
    char user[256];                        /* smtp_user */
    char password_file[1024];              /* smtp_password_file */
    int tls;                               /* smtp_tls: 0 required, 1 try, 2 none */
    int64_t interval_ms;                   /* alerts_interval */
} cy_smtp_conf;

/* Reads node.conf text for the mail settings: smtp_url, smtp_from,
 * smtp_tls (required, try, none), smtp_ca, smtp_user, smtp_password_file,
 * alerts_interval (1s-1d), public_url; other names are left to other parts
 * of the node.  USAGE naming the line on a bad value, or when smtp_url is
 * set without smtp_from.  *c is zeroed first. */
comity_err cy_smtp_conf_parse(const char *text, size_t len, cy_smtp_conf *c, comity_error *err);

/* Whether s is an address alerts may go to: local@domain, 3-254 bytes of
 * printable ASCII without space, quotes, brackets, commas or semicolons
 * (nothing that could end an SMTP command or a mail header), a domain of
 * letters, digits, hyphens and dots. */
bool cy_alert_email_valid(const char *s);

/* Starts alerts for a node that is starting to serve (node->fw set): reads
 * node.conf and DIR/alerts.json (the parties' choices) and, when smtp_url
 * is set, starts the sending thread.  A bad node.conf or alerts.json is
 * USAGE naming it.  Sets node->alerts (cy_alerts_stop frees it). */
comity_err cy_alerts_start(comity_node *node, comity_error *err);
/* Stops the thread (a conversation with the relay in progress is cut
 * short) and frees node->alerts; NULL is a no-op.  Call before the
 * framework's state is freed. */
void cy_alerts_stop(comity_node *node);

/* /v1/alerts: GET, PUT {"email","new","overdue"}, DELETE; a party's own. */
bool cy_alerts_owns(const cy_req *r);
void cy_alerts_handle(cy_req *r, cy_resp *w);

#endif
