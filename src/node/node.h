/*
 * node.h: the HTTP node's internals (private to src/node/).
 *
 * A request flows: http.c (libmicrohttpd callback: body collected into a
 * capped buffer, then one call to route()) -> auth (Basic or Token header
 * -> principal) -> a handler (taxii.c for TAXII paths, http.c for the
 * rest) that fills a cy_resp -> http.c turns it into the HTTP response.
 * Handlers never talk to libmicrohttpd directly except to read headers and
 * query arguments through the helpers below, and every allocation they make
 * for the request comes from its arena (freed when the request ends).
 *
 * Where record intake plugs in: add a handler for "/v1/records" in
 * route_v1() (http.c), using the same cy_req/cy_resp, the principal in
 * req->who, and the store through req->node->store.
 */
#ifndef COMITY_NODE_H
#define COMITY_NODE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/base.h"
#include "stix/object.h"
#include "store/store.h"

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
    struct cy_intake *intake; /* record intake (records.c) */
    struct cy_fw *fw;         /* the framework's state (framework.c), while serving */
    atomic_bool stopping;     /* comity_node_stop: new requests get 503 */
};

/* Per-request memory: everything allocated here is freed at once. */

typedef struct cy_req {
    comity_node *node;
    struct MHD_Connection *conn;
    const char *method;
    const char *url;
    char *segs[CY_PATH_SEGS];
    size_t nseg;
    const uint8_t *body; /* the whole body, NUL-terminated */
    size_t body_len;
    cy_buf *body_buf;    /* http.c's buffer that owns body (cy_req_take_body) */
    bool anon; /* no credentials given */
    cy_principal who;
    cy_arena arena;
} cy_req;

typedef struct cy_resp {
    unsigned status;
    cy_buf body;
    const char *ctype;
    char first[CY_STIX_TIME_BUF]; /* X-TAXII-Date-Added-First ("" = none) */
    char last[CY_STIX_TIME_BUF];
    bool www_auth;
    const char *allow; /* Allow header for 405 */
    const char *cache; /* Cache-Control (default "no-store") */
    const char *retry_after; /* Retry-After header, or NULL */
    void *park; /* set by records.c: suspend until the commit is done */
} cy_resp;

/* Header (case-insensitive) or query argument of the request; NULL if absent. */
const char *cy_req_header(cy_req *r, const char *name);
/* Hands the request body over to the caller instead of copying it: OUT the
 * body (NUL-terminated, *len bytes), caller frees (cy_free); r->body keeps
 * pointing at it.  NULL when there is no body buffer to take (then copy
 * r->body).  The body is then no longer the request's. */
uint8_t *cy_req_take_body(cy_req *r, size_t *len);
/* Calls fn for each query argument (key, value may be NULL); stops and
 * returns non-zero when fn does. */
int cy_req_args(cy_req *r, int (*fn)(void *ctx, const char *key, const char *value),
                void *ctx);

/* Sets an error response: a TAXII error resource on TAXII paths, else a
 * JSON {"error": ...} body. */
void cy_resp_error(cy_req *r, cy_resp *w, bool taxii, unsigned status, const char *title,
                   const char *fmt, ...) CY_PRINTF(6, 7);
/* Sets the /v1/ error body {"error": title, "rule", "description",
 * "status"} that names the rule a request broke (description made
 * printable ASCII, since it may quote the request); 401 also asks for
 * credentials. */
void cy_resp_rule(cy_req *r, cy_resp *w, unsigned status, const char *title, const char *rule,
                  const char *fmt, ...) CY_PRINTF(6, 7);
/* Sets a JSON body from a jansson value (steals the reference). */
void cy_resp_json(cy_req *r, cy_resp *w, unsigned status, const char *ctype, json_t *v);

/* POST /witness/add-checkpoint (c2sp.org/tlog-witness), in tiles.c. */
void cy_witness_handle(cy_req *r, cy_resp *w);

/* The log's tiles under /log/ (tiles.c). */
void cy_tiles_handle(cy_req *r, cy_resp *w);

/* TAXII 2.1 (taxii.c): handles every path under /taxii2/ and the API root. */
bool cy_taxii_owns(cy_req *r);
void cy_taxii_handle(cy_req *r, cy_resp *w);

/* Sharing levels (access.c).  A rule is one of
 *   "public"        anyone, also without credentials
 *   "parties"       any registered party (or the operator)
 *   "state:XX"      parties whose state (first label) is XX
 *   "party:NAME"    exactly that party
 *   "operator"      only the operator
 * The operator passes every rule.  who == NULL means anonymous. */
bool cy_access_allows(const char *rule, const cy_principal *who);
bool cy_access_rule_valid(const char *rule);

/* Tokens (node.c): a fresh random token (OUT *token, cy_free) and its hash. */
comity_err cy_token_new(char **token, char hash[CY_TOKEN_HASH_HEX], comity_error *err);
void cy_token_hash(const char *token, size_t len, char hash[CY_TOKEN_HASH_HEX]);
/* A stable collection id for (origin, alias): a name-based UUID. */
void cy_collection_id(const char *origin, const char *alias, char out[CY_UUID_BUF]);

/* TLS (tls.c). */
#define CY_FP_BUF 96
/* A self-signed ECDSA P-256 certificate for `cn` (also valid for localhost
 * and 127.0.0.1).  OUT *cert_pem, *key_pem: cy_free (key wiped first by
 * the caller with cy_free_secret). */
comity_err cy_tls_selfsigned(const char *cn, char **cert_pem, char **key_pem,
                             char fp[CY_FP_BUF], comity_error *err);
/* SHA-256 fingerprint "AB:CD:..." of the first certificate in a PEM text. */
comity_err cy_tls_fingerprint(const char *cert_pem, char fp[CY_FP_BUF], comity_error *err);

#endif
