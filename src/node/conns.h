/*
 * conns.h: who may hold the node's connections (conns.c): the per-address
 * connection cap with its allow-list, and the deadline for a request's
 * whole header block.  serve.c hands libmicrohttpd's accept-policy and
 * connection-notification callbacks to these functions; node.c reads the
 * settings from DIR/node.conf and `comity serve`'s options.
 */
#ifndef COMITY_NODE_CONNS_H
#define COMITY_NODE_CONNS_H

#include <stdbool.h>
#include <stdint.h>

#include "base/base.h"

struct sockaddr;

#define CY_ALLOW_MAX 64            /* entries of the allow-list */
#define CY_PER_IP_DEFAULT 16       /* connections per address (1/16 of the default total) */
#define CY_HEADER_TIMEOUT_DEFAULT 20 /* seconds for a request's whole header block */
#define CY_HEADER_TIMEOUT_MAX 3600

/* An address block: IPv4 as the IPv4-mapped IPv6 address (::ffff:a.b.c.d)
 * with bits + 96. */
typedef struct cy_netmask {
    uint8_t a[16];
    unsigned bits;
} cy_netmask;

typedef struct cy_conn_limits {
    unsigned max_per_ip;       /* connections one address may hold (0: the default) */
    unsigned header_timeout_s; /* 0: the default */
    cy_netmask allow[CY_ALLOW_MAX]; /* addresses exempt from max_per_ip */
    size_t nallow;
} cy_conn_limits;

/* Appends to l->allow the addresses or CIDR blocks of `list`, separated by
 * commas and/or spaces ("127.0.0.0/8, 2001:db8::/32, 203.0.113.7").  A
 * block with bits set past its prefix length is refused (a typo more often
 * than a wish).  USAGE naming `where` and the entry on anything else, or
 * past CY_ALLOW_MAX entries. */
comity_err cy_allow_parse(const char *list, cy_conn_limits *l, const char *where,
                          comity_error *err);
/* Whether the client address sa (AF_INET or AF_INET6) is in l's allow-list. */
bool cy_allow_match(const cy_conn_limits *l, const struct sockaddr *sa);

/* The live connection table of a serving node. */
typedef struct cy_conns cy_conns;

/* Starts the table and its watchdog thread (the header deadline).  OUT
 * *out: cy_conns_free. */
comity_err cy_conns_new(const cy_conn_limits *l, cy_conns **out, comity_error *err);
/* Stops the watchdog and frees the table; every connection must be closed
 * (libmicrohttpd stopped) first.  NULL is a no-op. */
void cy_conns_free(cy_conns *g);
/* The accept policy: false when sa already holds its share.  Cheap and
 * only advisory (the exact count is taken in cy_conns_opened). */
bool cy_conns_admit(cy_conns *g, const struct sockaddr *sa);
/* A connection was accepted (socket fd, client address sa): counts it
 * against its address and sets *ctx (libmicrohttpd's socket context) to
 * its entry.  Over the cap, the socket is shut down at once (libmicrohttpd
 * then closes it) and *ctx stays NULL.  Allocates the entry (freed by
 * cy_conns_closed). */
void cy_conns_opened(cy_conns *g, void **ctx, const struct sockaddr *sa, int fd);
/* The connection closed: uncounts it and frees its entry (*ctx = NULL). */
void cy_conns_closed(cy_conns *g, void **ctx);
/* A request's headers are complete (the deadline stops) / the request is
 * answered (the deadline starts again for the next one). */
void cy_conns_request_began(void *ctx);
void cy_conns_request_ended(void *ctx);

#endif
