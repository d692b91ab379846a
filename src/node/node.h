/*
 * node.h: the node's internals (private to src/node/): the node itself, and
 * what node.c (init, open, parties, tokens, configuration), access.c
 * (sharing levels) and tls.c (certificates) provide to the rest.
 *
 * The files of src/node/ call one way (docs/node.md, "Files"):
 *
 *   serve.c     start/stop, libmicrohttpd, authentication, routing
 *     -> records.c, taxii.c, tiles.c, queries.c   the handlers; never
 *                 each other
 *       -> req.c  the request/response helpers every handler uses
 *     -> node.c, access.c, tls.c
 *
 * and below src/node/ on the intake (src/intake/), the framework's live
 * state (src/framework/live.h), the store and the log.
 */
#ifndef COMITY_NODE_H
#define COMITY_NODE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/base.h"
#include "framework/live.h"
#include "intake/intake.h"
#include "node/conns.h"
#include "stix/object.h"
#include "stix/wrapper.h"
#include "store/store.h"
#include "sync/sync.h"

#define CY_PATH_SEGS 8          /* path segments the router accepts */
#define CY_PATH_MAX 1024        /* bytes of a request path */
#define CY_API_ROOT_DEFAULT "comity"
#define CY_TAXII_PAGE_DEFAULT 100
#define CY_TAXII_PAGE_MAX 1000
/* Bytes of records in one page of GET /v1/records: a page stops before the
 * record that would take it past this (each counted as its envelope plus
 * CY_RECORDS_PAGE_ROW for the listing's fields), always holding at least
 * one record (at most COMITY_DSSE_MAX); `next` continues. */
#define CY_RECORDS_PAGE_BYTES (4u << 20)
#define CY_RECORDS_PAGE_ROW 512u
#define CY_MEDIA_TAXII "application/taxii+json;version=2.1"
#define CY_MEDIA_STIX "application/stix+json;version=2.1"

struct MHD_Daemon;
struct MHD_Connection;

struct comity_node {
    char *dir;
    comity_store *store;
    comity_nkey *key;   /* node signing key (DIR/node.key), signs the log */
    comity_log *log;    /* DIR/log, open for writing while serving */
    comity_nkey *wkey;  /* witness cosigning key (DIR/witness.key), or NULL */
    comity_witness *witness; /* DIR/witness: cosigns peer logs, or NULL */
    char origin[128];
    char api_root[64];   /* name of the one API root, e.g. "comity" */
    char title[CY_TITLE_MAX];
    struct MHD_Daemon *mhd;
    comity_serve_opts opts;
    char *cert_pem, *key_pem;
    unsigned port;
    bool tls;
    cy_intake *intake;        /* record intake (src/intake/), while serving */
    cy_fw_live *fw;           /* the framework's state (src/framework/live.c), while serving */
    atomic_bool stopping;     /* comity_node_stop: new requests get 503 */
    atomic_uint requests;     /* requests begun and not yet completed (serve.c):
                               * what a stop's grace period waits for */
    struct cy_sessions *sessions; /* browser logins (session.c), while serving */
    struct cy_enrol *enrol;   /* registration requests (enrol.c), while serving */
    char *web_dir;            /* the UI's static files (web.c), or NULL */
    cy_conns *conns;          /* per-address counts, header deadline (conns.c), while serving */
    struct cy_files *files;   /* DIR/files: sealed evidence files (src/files/), while serving */
    struct cy_alerts *alerts; /* e-mail alerts (alerts.c), while serving */
    cy_sync *sync;            /* federation pullers (src/sync/), while serving */
    struct cy_expiry *expiry; /* the retention job (expiry.c), while serving, or NULL */
    struct cy_delivery *delivery; /* delivered records signed (delivery.c), while serving */
    struct cy_corr_live *corr; /* the correlation index (src/correlate/live.c), while serving */
    struct cy_metrics *metrics; /* answers counted for /metrics (metrics.c), while serving */
    struct MHD_Daemon *metrics_mhd; /* --metrics-listen's own listener (serve.c), or NULL */
    unsigned metrics_port;          /* its bound port */
};

/* The node's store location: `given` (init's --store) when set, else
 * the location kept in DIR/CY_NODE_STORE_FILE, else SQLite in
 * DIR/node.db.  OUT out[cap]. */
#define CY_NODE_STORE_FILE "store" /* DIR/store: a store not in DIR/node.db */
comity_err cy_node_store_location(const char *dir, const char *given, char *out, size_t cap,
                                  comity_error *err);

/* The retention job (expiry.c): started once intake runs when the table
 * names a custodian (its key must load: USAGE otherwise), stopped before
 * intake stops.  Stop tolerates a job never started. */
comity_err cy_expiry_start(comity_node *node, const cy_fw_table *t, comity_error *err);
void cy_expiry_stop(comity_node *node);

/* The age recipients a record the node signs itself (a delivered record, a
 * destruction record) is sealed to (seal_to.c): the key directory's
 * parties with a recipient (`remote`: also those homed at peers), handed
 * to the record layer's rule, comity_record_seal_recipients.  On success
 * seal[0..nseal) borrows from the directory the struct holds: keep it
 * until the record is signed, then cy_node_seal_free (which tolerates a
 * zeroed or failed one; on failure nothing is held). */
typedef struct cy_node_seal {
    const char **seal;
    size_t nseal;
    char **names, **recips; /* the directory (owned) */
    size_t n, cap;
    bool remote, nomem;
} cy_node_seal;
comity_err cy_node_seal_to(comity_store *st, const char *const *to, size_t nto, bool remote,
                           cy_node_seal *out, comity_error *err);
void cy_node_seal_free(cy_node_seal *s);

/* Delivered records (delivery.c): started once intake and the framework
 * run (it queues again the deliveries whose record is not stored yet, and
 * hooks the framework's fetches), stopped before intake stops.  Stop
 * tolerates a signer never started (and frees what a failed start made). */
comity_err cy_delivery_start(comity_node *node, comity_error *err);
void cy_delivery_stop(comity_node *node);

/* Sharing levels (access.c).  A rule is one of
 *   "public"        anyone, also without credentials
 *   "parties"       any registered party (or the operator)
 *   "state:XX"      parties whose state (first label) is XX
 *   "party:NAME"    exactly that party
 *   "operator"      only the operator
 * The operator passes every rule.  who == NULL means anonymous. */
bool cy_access_allows(const char *rule, const cy_principal *who);
/* The same rule as the correlation index's gate (correlate.h,
 * cy_corr_gate): who is a const cy_principal * or NULL.  So an object of a
 * collection is correlated for exactly those who may read the collection. */
bool cy_access_gate(const char *rule, const void *who);
bool cy_access_rule_valid(const char *rule);

/* Tokens (node.c): a fresh random token (OUT *token, cy_free) and its hash. */
comity_err cy_token_new(char **token, char hash[CY_TOKEN_HASH_HEX], comity_error *err);
void cy_token_hash(const char *token, size_t len, char hash[CY_TOKEN_HASH_HEX]);
/* What a party's registration needs (node.c; comity_node_party_add and
 * the registration requests of enrol.c apply it): a valid party name, a
 * verifier key named for it, a valid age recipient.  INVALID naming what. */
comity_err cy_node_party_check(const char *name, const char *vkey, const char *recipient,
                               comity_error *err);
/* Frees what comity_node_open made (node.c); the node must not serve. */
void cy_node_free(comity_node *node);
/* DIR/node.conf, when it exists, through `parse` (node.c); none: OK. */
comity_err cy_node_read_conf(const comity_node *node,
                             comity_err (*parse)(const char *, size_t, void *, comity_error *),
                             void *ctx, comity_error *err);
/* The deadline table the node applies (node.c): DIR/node.conf, then the
 * serve options over it.  Bad values are USAGE, naming the flag or the
 * node.conf line. */
comity_err cy_node_fw_table(const comity_node *node, const comity_serve_opts *o, cy_fw_table *t,
                            comity_error *err);
/* Reads node.conf text (at most 64 KiB, lines at most 512 bytes): blank
 * lines, '#' comments, `name = value` lines; `deadline.S = ACK/REPLY`,
 * `ping_deadline = D`, `created_ahead = D` and `created_behind = D` set *t;
 * other names are left to other parts of the
 * node.  USAGE with the line number on anything malformed. */
comity_err cy_fw_conf_parse(const char *text, size_t len, cy_fw_table *t, comity_error *err);
/* The connection settings the node applies (node.c): DIR/node.conf's
 * `max_per_ip = N`, `header_timeout = 20s` and `allow_many = ADDR[/BITS],
 * ...` (lines add up), then the serve options over them (max_per_ip,
 * header_timeout_s; allow_many adds to node.conf's list), then the
 * defaults (conns.h).  Bad values are USAGE, naming the flag or line. */
comity_err cy_node_conn_limits(const comity_node *node, const comity_serve_opts *o,
                               cy_conn_limits *l, comity_error *err);
/* Reads node.conf text for the connection settings above; other names are
 * left to other parts of the node. */
comity_err cy_conn_conf_parse(const char *text, size_t len, cy_conn_limits *l, comity_error *err);
/* Parses a duration: digits then one unit s, m, h or d ("30m", "7d"), more
 * than 0 and at most 10 years.  -1 when it is not one. */
int64_t cy_fw_duration(const char *s);

/* TLS (tls.c). */
#define CY_FP_BUF 96
extern const char cy_tls_priorities[]; /* GnuTLS: TLS 1.3, 1.2 ECDHE+AEAD only */
/* A self-signed ECDSA P-256 certificate for `cn` (also valid for localhost
 * and 127.0.0.1).  OUT *cert_pem, *key_pem: cy_free (key wiped first by
 * the caller with cy_free_secret). */
comity_err cy_tls_selfsigned(const char *cn, char **cert_pem, char **key_pem,
                             char fp[CY_FP_BUF], comity_error *err);
/* SHA-256 fingerprint "AB:CD:..." of the first certificate in a PEM text. */
comity_err cy_tls_fingerprint(const char *cert_pem, char fp[CY_FP_BUF], comity_error *err);
/* The certificate's public key pin, "sha256//BASE64" of the SHA-256 of its
 * SubjectPublicKeyInfo (what a peer gives `peer add --tls-pin`). */
comity_err cy_tls_pin(const char *cert_pem, char pin[CY_FP_BUF], comity_error *err);

#endif
