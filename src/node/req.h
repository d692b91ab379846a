/*
 * req.h: the request and response every handler works with, and the
 * helpers over them (req.c).  The one file of src/node/ below the
 * handlers: handlers include it (and node.h), never each other; serve.c
 * fills a cy_req, calls a handler, and turns its cy_resp into the HTTP
 * answer.
 *
 * Per-request memory comes from r->arena, freed when the request ends.
 * Handlers never talk to libmicrohttpd except through these helpers.
 */
#ifndef COMITY_NODE_REQ_H
#define COMITY_NODE_REQ_H

#include <jansson.h>

#include "node/node.h"

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
    cy_buf *body_buf;    /* serve.c's buffer that owns body (cy_req_take_body) */
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
    const char *set_cookie;  /* Set-Cookie header (session.c), or NULL */
    /* A body streamed from a file descriptor instead of `body` (files.c):
     * serve.c hands fd (then owned by libmicrohttpd) and its size over. */
    bool has_fd;
    int fd;
    uint64_t fd_size;
    uint64_t fd_off;        /* the first byte sent of fd (a 206's range) */
    char content_range[64]; /* Content-Range header ("" = none) */
    bool accept_ranges;     /* Accept-Ranges: bytes */
    /* A handler that cannot answer yet sets park and park_ops: serve.c
     * then suspends the connection and calls park_ops->go(park); whoever
     * finishes the work calls cy_req_resume(conn), and serve.c asks
     * park_ops->answer for the response and frees the park with
     * park_ops->free (also when the connection ends otherwise). */
    void *park;
    const struct cy_park_ops *park_ops;
} cy_resp;

typedef struct cy_park_ops {
    void (*go)(void *park);                          /* after the suspend */
    void (*answer)(void *park, cy_req *r, cy_resp *w); /* after the resume */
    void (*free)(void *park);                        /* always, last */
} cy_park_ops;

/* Header (case-insensitive) or query argument of the request; NULL if absent. */
const char *cy_req_header(cy_req *r, const char *name);
/* The client's address as text (IPv4 dotted, IPv6 as inet_ntop writes
 * it; "unknown" if none), into out[cap]. */
void cy_req_addr(cy_req *r, char *out, size_t cap);
/* Hands the request body over to the caller instead of copying it: OUT the
 * body (NUL-terminated, *len bytes), caller frees (cy_free); r->body keeps
 * pointing at it.  NULL when there is no body buffer to take (then copy
 * r->body).  The body is then no longer the request's. */
uint8_t *cy_req_take_body(cy_req *r, size_t *len);
/* Calls fn for each query argument (key, value may be NULL); stops and
 * returns non-zero when fn does. */
int cy_req_args(cy_req *r, int (*fn)(void *ctx, const char *key, const char *value),
                void *ctx);

/* A Range request header (RFC 9110, section 14.2) for a resource of
 * `size` bytes; hostile input (fuzzed by fuzz/fuzz_http_range.c).  One
 * range of the "bytes" unit (case-insensitive): "bytes=F-", "bytes=F-L"
 * or "bytes=-N" (the last N bytes).  Returns 1 when it is satisfiable,
 * with OUT *first and *len (L past the end is cut at the end); -1 when it
 * is not (F at or past the end, or N = 0): the answer is 416; 0 when it
 * is to be ignored and the whole resource sent (absent, another unit,
 * several ranges, a syntax error, numbers over 19 digits), as the RFC
 * lets a server do. */
int cy_http_range(const char *h, uint64_t size, uint64_t *first, uint64_t *len);

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
/* The HTTP status of a store or log failure of code `code`: 503 when the
 * node cannot store now and a retry may succeed (COMITY_ERR_IO: a file,
 * the disk or the database server failed; COMITY_ERR_LOCKED: another
 * writer), 500 otherwise (COMITY_ERR_DB, _INTERNAL: a bug). */
unsigned cy_resp_store_status(comity_err code);
/* Sets a JSON body from a jansson value (steals the reference). */
void cy_resp_json(cy_req *r, cy_resp *w, unsigned status, const char *ctype, json_t *v);


/* Resumes a connection a handler parked (see cy_resp.park); any thread. */
void cy_req_resume(struct MHD_Connection *conn);

#endif
