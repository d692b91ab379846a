/*
 * serve.c: the node's HTTP server (libmicrohttpd, TLS through GnuTLS):
 * starting and stopping it, authentication and routing.
 *
 * libmicrohttpd runs its own pool of worker threads (epoll where available).
 * Caps and deadlines, so that slow, greedy or anonymous clients cannot hold
 * the node (docs/node.md, "Hostile input"):
 *
 *   max_connections   connections in all (--max-connections, 256)
 *   max_per_ip        connections per address, IPv6 per /64 (--max-per-ip or
 *                     node.conf max_per_ip, 16); the allow-list (--allow-many
 *                     or node.conf allow_many) is exempt (conns.c)
 *   header_timeout_s  the whole header block of a request, TLS handshake
 *                     and keep-alive wait included (--header-timeout or
 *                     node.conf header_timeout, 20 s; conns.c's watchdog)
 *   timeout_s         idle connection (--timeout, 30 s)
 *   body_timeout_s    the whole body (--body-timeout, 120 s)
 *   CONN_MEMORY_LIMIT headers and read buffer per connection (32 KiB)
 *   max_body          a request body (--max-body, 8 MiB); an anonymous
 *                     witness post COMITY_WITNESS_BODY_MAX
 *
 * Before any of the body is read (on_headers), a request is checked on its
 * headers alone, and refused there when it can be: while stopping 503;
 * ambiguous framing 400 (more than one Content-Length, Content-Length
 * beside Transfer-Encoding, a Transfer-Encoding other than chunked, which
 * libmicrohttpd 0.9.75 would wait on until the idle timeout); credentials
 * given but wrong 401; no credentials on a request that carries a body
 * 401 (except the witness endpoint, which is open by its protocol and
 * whose checkpoints are signed; every other anonymous write is refused by
 * its handler anyway); a Content-Length over the cap 413.
 * So an anonymous client never makes the node buffer or parse a body, and
 * the principal, taken from the headers, is the request's from then on
 * (and the access log's).  A body is then collected into a buffer capped
 * at the request's cap (a chunked body that grows past it is discarded
 * and answered 413).  Only once the whole body is in does route() run, so
 * a handler sees all of the body or nothing, and a handler that fails
 * stores nothing (each store write is one transaction).
 *
 * Routes:
 *   GET  /                     a pointer to the rest (JSON)
 *   GET  /v1/node              origin, node signing key, log checkpoint, TAXII roots,
 *                              the cap on an evidence file (max_file)
 *   GET  /taxii2/ and /{api-root}/...   TAXII 2.1 (taxii.c)
 *   GET  /log/checkpoint, /log/tile/...  the log, c2sp.org/tlog-tiles (tiles.c)
 *   POST /witness/add-checkpoint         c2sp.org/tlog-witness (tiles.c)
 *   GET  /federation/...       peer nodes pull records (federation.c)
 *   /v1/records...             record intake and reading (records.c)
 *   /v1/framework/..., /v1/directory   the framework's queries (queries.c)
 *   /v1/files/{sha256}         evidence files (files.c): an upload is the one
 *                              body that is not buffered: decided on its
 *                              headers, then streamed to the file store as
 *                              it arrives (cy_upload_*), capped by the
 *                              node's max_file, not max_body
 *   /v1/alerts                 a party's e-mail alerts (alerts.c)
 *   /v1/registrations          newcomers' registration requests, the operator's decisions (enrol_api.c)
 * Every error has a JSON body: a TAXII error resource on TAXII paths,
 * {"error": ..} elsewhere.
 *
 * Clean shutdown: comity_node_stop() answers every new request 503 (with
 * Connection: close), waits for open connections to finish their requests
 * for up to a grace period, stops the threads, then closes the log
 * (entries durable, final checkpoint).  It does not use
 * MHD_quiesce_daemon: with epoll and a thread pool, libmicrohttpd 0.9.75
 * races its workers for the listen socket's removal from their epoll sets
 * and aborts the process ("Failed to remove listen FD from epoll set"),
 * which a test run hit.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>
#include <sodium.h>

#include "files/files.h"
#include "node/alerts.h"
#include "node/enrol.h"
#include "node/enrol_api.h"
#include "node/conns.h"
#include "node/files.h"
#include "node/metrics.h"
#include "node/federation.h"
#include "node/queries.h"
#include "node/correlation.h"
#include "correlate/correlate.h"
#include "node/records.h"
#include "node/req.h"
#include "node/taxii.h"
#include "node/tiles.h"
#include "node/session.h"
#include "node/web.h"

/* Headers + read buffer per connection (libmicrohttpd's pool; nginx's
 * default for large headers is also 32 KiB).  libmicrohttpd zeroes the
 * whole pool after every request, so its size is paid per request: 128 KiB
 * cost about 8 us each. */
#define CONN_MEMORY_LIMIT (32 * 1024)
#define CERT_MAX (64 * 1024)

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* ---- authentication --------------------------------------------------------- */

/* Fills r->who from the request's headers.  This is the one place where a
 * request's principal is established, and it runs on the headers alone,
 * before any of the body is read (on_headers): every kind of credential
 * (Authorization now; a session cookie with its CSRF header likewise) is
 * read here, so that each goes through the same early refusals.
 * 0: ok (or anonymous, r->anon); -1: credentials given but wrong (401). */
static int authenticate(cy_req *r)
{
    r->anon = true;
    const char *h = cy_req_header(r, MHD_HTTP_HEADER_AUTHORIZATION);
    if (!h)
        return cy_session_auth(r); /* a browser's session cookie (session.c) */
    char hash[CY_TOKEN_HASH_HEX];
    if (strncasecmp(h, "Basic ", 6) == 0) {
        const char *b = h + 6;
        while (*b == ' ')
            b++;
        uint8_t dec[512];
        size_t n = 0;
        if (cy_b64_decode(dec, sizeof dec - 1, &n, b, strlen(b), CY_B64_STD, NULL))
            return -1;
        dec[n] = 0;
        char *colon = memchr(dec, ':', n);
        if (!colon || memchr(dec, 0, n))
            return -1;
        *colon = 0;
        const char *user = (const char *)dec, *pass = colon + 1;
        char stored[CY_TOKEN_HASH_HEX];
        cy_token_hash(pass, strlen(pass), hash);
        bool found = strlen(user) <= COMITY_PARTY_MAX &&
                     cy_store_principal_get(r->node->store, user, &r->who, stored, NULL) ==
                         COMITY_OK;
        sodium_memzero(dec, sizeof dec);
        if (!found)
            return -1;
        if (sodium_memcmp(stored, hash, CY_TOKEN_HASH_HEX - 1) != 0)
            return -1;
    } else if (strncasecmp(h, "Token ", 6) == 0 || strncasecmp(h, "Bearer ", 7) == 0) {
        const char *t = strchr(h, ' ');
        while (*t == ' ')
            t++;
        if (!*t || strlen(t) > 256)
            return -1;
        cy_token_hash(t, strlen(t), hash);
        if (cy_store_principal_by_token(r->node->store, hash, &r->who, NULL) != COMITY_OK)
            return -1;
    } else {
        return -1;
    }
    r->anon = false;
    return 0;
}

/* ---- routing ---------------------------------------------------------------- */

/* Splits the path into segments, in buf (room for r->url and its NUL;
 * the request's state holds it, so that the path is split once, on the
 * headers); refuses dot segments, control bytes and backslashes.  A
 * trailing slash is allowed (TAXII wants it). */
static int split_path(cy_req *r, char *buf)
{
    size_t len = strlen(r->url);
    r->nseg = 0;
    if (len == 0 || len > CY_PATH_MAX || r->url[0] != '/')
        return -1;
    char *p = memcpy(buf, r->url + 1, len); /* with the NUL */
    while (*p) {
        char *slash = strchr(p, '/');
        if (slash)
            *slash = 0;
        if (!*p || !strcmp(p, ".") || !strcmp(p, ".."))
            return -1;
        for (char *c = p; *c; c++)
            if ((unsigned char)*c < 0x20 || *c == 0x7f || *c == '\\')
                return -1;
        if (r->nseg == CY_PATH_SEGS)
            return -1;
        r->segs[r->nseg++] = p;
        if (!slash)
            break;
        p = slash + 1;
    }
    return 0;
}

static void route_root(cy_req *r, cy_resp *w)
{
    if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0) {
        w->allow = "GET, HEAD";
        cy_resp_error(r, w, false, 405, "method not allowed", "only GET is served here");
        return;
    }
    json_t *v = json_pack("{s:s, s:s, s:s, s:s}", "name", "comity node", "origin",
                          r->node->origin, "taxii", "/taxii2/", "version", "0");
    cy_resp_json(r, w, 200, "application/json", v);
}

/* GET /v1/node: who this node is (origin, signing key, TAXII root, the cap
 * on an evidence file), and its witness policy as the operator wrote it
 * (DIR/witness.policy, c2sp.org/tlog-policy text) so that a client checks
 * a receipt's cosignatures and quorum itself; the rule is the policy's
 * (src/tlog/policy.c), served here as configuration only.  A file that
 * does not parse is left out (the puller reports it). */
static void node_info(cy_req *r, cy_resp *w)
{
    if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0) {
        w->allow = "GET, HEAD";
        cy_resp_error(r, w, false, 405, "method not allowed", "only GET is served here");
        return;
    }
    char *vkey = NULL;
    if (cy_store_meta_get(r->node->store, "node_vkey", &vkey, NULL) != COMITY_OK)
        vkey = NULL;
    char root[80];
    snprintf(root, sizeof root, "/%s/", r->node->api_root);
    char *cp = NULL;
    size_t cplen = 0;
    if (!r->node->log ||
        comity_log_read_checkpoint(r->node->log, &cp, &cplen, NULL, NULL, NULL) != COMITY_OK)
        cp = NULL;
    char *wvkey = NULL;
    if (cy_store_meta_get(r->node->store, "witness_vkey", &wvkey, NULL) != COMITY_OK)
        wvkey = NULL;
    json_t *v = json_pack("{s:s, s:s?, s:s?, s:s?, s:s, s:s}", "origin", r->node->origin,
                          "vkey", vkey, "witness_vkey", wvkey, "checkpoint", cp,
                          "taxii_discovery", "/taxii2/", "taxii_api_root", root);
    /* the cap on an evidence file, so that a client refuses a file before
     * sealing it rather than after sending it (the node refuses it anyway) */
    if (v && r->node->files)
        json_object_set_new(v, "max_file",
                            json_integer((json_int_t)cy_files_max_size(r->node->files)));
    char *policy = NULL;
    if (cy_witness_policy_text(r->node->dir, &policy, NULL) != COMITY_OK)
        policy = NULL;
    if (v && policy)
        json_object_set_new(v, "witness_policy", json_string(policy));
    comity_free(policy);
    cy_free(vkey);
    cy_free(wvkey);
    comity_free(cp);
    cy_resp_json(r, w, 200, "application/json", v);
}

static void route_v1(cy_req *r, cy_resp *w)
{
    if (r->nseg == 2 && !strcmp(r->segs[1], "node")) {
        node_info(r, w);
        return;
    }
    if (r->nseg >= 2 && !strcmp(r->segs[1], "records")) {
        cy_records_handle(r, w); /* records.c */
        return;
    }
    if (cy_session_owns(r)) {
        cy_session_handle(r, w); /* session.c */
        return;
    }
    if (r->nseg >= 2 && !strcmp(r->segs[1], "files")) {
        cy_files_handle(r, w); /* files.c */
        return;
    }
    if (cy_corr_owns(r)) {
        cy_corr_handle(r, w); /* correlation.c */
        return;
    }
    if (r->nseg >= 2 && (!strcmp(r->segs[1], "framework") || !strcmp(r->segs[1], "directory"))) {
        cy_fw_handle(r, w); /* queries.c */
        return;
    }
    if (cy_alerts_owns(r)) {
        cy_alerts_handle(r, w); /* alerts.c */
        return;
    }
    if (cy_enrol_owns(r)) {
        cy_enrol_handle(r, w); /* enrol_api.c */
        return;
    }
    cy_resp_error(r, w, false, 404, "not found", "no such endpoint: %s", r->url);
}

/* path_ok: r's path split (on the headers) and well formed. */
static void route(cy_req *r, cy_resp *w, bool path_ok)
{
    bool taxii_path = false;
    if (!path_ok) {
        cy_resp_error(r, w, false, 404, "not found", "malformed path");
        return;
    }
    taxii_path = cy_taxii_owns(r); /* r->who: on_headers */
    /* the node's own GET paths outside /v1/, /log/ and /witness/ are never
     * the UI's files: /metrics and the federation's pull paths */
    bool node_path = taxii_path || cy_federation_owns(r) ||
                     (r->nseg == 1 && strcmp(r->segs[0], "metrics") == 0);
    if (!node_path && cy_web_owns(r)) {
        cy_web_handle(r, w); /* the UI's static files (web.c) */
        return;
    }
    if (taxii_path)
        cy_taxii_handle(r, w);
    else if (r->nseg == 0)
        route_root(r, w);
    else if (strcmp(r->segs[0], "v1") == 0)
        route_v1(r, w);
    else if (strcmp(r->segs[0], "log") == 0)
        cy_tiles_handle(r, w);
    else if (strcmp(r->segs[0], "witness") == 0)
        cy_witness_handle(r, w);
    else if (r->nseg == 1 && strcmp(r->segs[0], "metrics") == 0)
        cy_metrics_handle(r, w); /* metrics.c: the operator's figures */
    else if (cy_federation_owns(r))
        cy_federation_handle(r, w); /* federation.c: peers pull here */
    else
        cy_resp_error(r, w, false, 404, "not found", "no such endpoint");
}

/* ---- libmicrohttpd glue ------------------------------------------------------ */

/* Percent-decoding of the path and query in place.  Unlike the default, a
 * decoded NUL becomes 0x7f, which the router refuses, instead of silently
 * cutting the string short ("/a/%00/b" must not become "/a/"). */
static size_t unescape(void *cls, struct MHD_Connection *c, char *s)
{
    (void)cls;
    (void)c;
    char *w = s;
    for (const char *r = s; *r; r++) {
        int hi, lo;
        if (r[0] == '%' && (hi = hexval(r[1])) >= 0 && (lo = hexval(r[2])) >= 0) {
            char b = (char)(hi * 16 + lo);
            *w++ = b ? b : 0x7f;
            r += 2;
        } else {
            *w++ = *r;
        }
    }
    *w = 0;
    return (size_t)(w - s);
}

/* One request's state (libmicrohttpd's per-request pointer), from its
 * headers to its end. */
struct conn_state {
    cy_buf body;
    size_t body_cap; /* this request's body cap (on_headers) */
    bool too_big;
    time_t started;  /* when the request's headers were complete */
    struct timespec t0; /* the same, on the monotonic clock (the intake histogram) */
    bool anon;       /* the principal, from the headers (on_headers) */
    cy_principal who;
    void *parked;    /* a handler's parked work (cy_resp.park), and its ops */
    const cy_park_ops *park_ops;
    cy_upload *upload; /* an evidence file streaming in (files.c), or NULL */
    bool path_ok;    /* the path split on the headers, into path: */
    size_t nseg;
    char *segs[CY_PATH_SEGS];
    char path[];     /* room for the URL (at most CY_PATH_MAX) and its NUL */
};

/* The path split on the headers, for a later call of the same request. */
static void path_of(const struct conn_state *cs, cy_req *r)
{
    r->nseg = cs->nseg;
    memcpy(r->segs, cs->segs, sizeof r->segs);
}

static void free_body(void *p) { cy_free(p); }

static void close_fd(int fd) { close(fd); }

/* Queues w as the answer.  close: the connection closes after it (a body
 * may follow that is not read, or the node is stopping). */
static enum MHD_Result send_resp(comity_node *node, struct MHD_Connection *c, cy_req *r,
                                 cy_resp *w, bool close)
{
    size_t len = 0;
    struct MHD_Response *resp;
    if (w->has_fd) { /* a file (files.c): libmicrohttpd owns and closes fd */
        len = (size_t)w->fd_size;
        resp = MHD_create_response_from_fd_at_offset64(w->fd_size, w->fd, w->fd_off);
        w->has_fd = false;
        if (!resp) {
            close_fd(w->fd);
            return MHD_NO;
        }
    } else {
        uint8_t *data = cy_buf_detach(&w->body, &len);
        resp = MHD_create_response_from_buffer_with_free_callback(len, data, free_body);
        if (!resp) {
            cy_free(data);
            return MHD_NO;
        }
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                            w->ctype ? w->ctype : "application/json");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
                            w->cache ? w->cache : "no-store");
    if (w->retry_after)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, w->retry_after);
    if (w->content_range[0])
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_RANGE, w->content_range);
    if (w->accept_ranges)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ACCEPT_RANGES, "bytes");
    if (w->first[0])
        MHD_add_response_header(resp, "X-TAXII-Date-Added-First", w->first);
    if (w->last[0])
        MHD_add_response_header(resp, "X-TAXII-Date-Added-Last", w->last);
    cy_web_headers(r, w, resp); /* CSP and the rest (web.c) */
    if (w->www_auth && !(r && cy_session_browser(r)))
        MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                "Basic realm=\"comity\", charset=\"UTF-8\"");
    if (w->allow)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, w->allow);
    if (close || w->status == 413 || atomic_load(&node->stopping))
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    enum MHD_Result ok = MHD_queue_response(c, w->status, resp);
    MHD_destroy_response(resp);
    cy_metrics_answered(node->metrics, cy_metrics_route(r), w->status);
    if (node->opts.access_log) {
        /* the decoded path may hold control bytes: never let it forge lines */
        char url[256];
        snprintf(url, sizeof url, "%s", r ? r->url : "?");
        for (char *p = url; *p; p++)
            if ((unsigned char)*p < 0x20 || *p == 0x7f)
                *p = '?';
        const char *who = r && !r->anon && r->who.name[0] ? r->who.name : "-";
        const char *m = r ? r->method : "?";
        if (cy_log_is_json())
            cy_log(CY_LOG_INFO, "http.request",
                   (cy_log_kv[]){CY_KV_S("who", who), CY_KV_S("method", m), CY_KV_S("path", url),
                                 CY_KV_N("status", w->status), CY_KV_N("bytes", len)},
                   5, "%s %s %u", m, url, w->status);
        else
            fprintf(stderr, "%s %s %s %u %zu\n", who, m, url, w->status, len);
    }
    return ok;
}

/* The headers that frame a request's body, from one pass over them. */
struct framing {
    unsigned content_length, transfer_encoding;
    const char *cl, *te; /* the (first) value of each */
};

static enum MHD_Result count_framing(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
    (void)kind;
    struct framing *f = cls;
    if (!strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH)) {
        if (!f->content_length++)
            f->cl = value;
    } else if (!strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING)) {
        if (!f->transfer_encoding++)
            f->te = value;
    }
    return MHD_YES;
}

/* Reads the request's framing headers into *f; returns why its body
 * framing is ambiguous, or NULL when it is not (RFC 9112 section 6: a
 * server may refuse these, and must not guess). */
static const char *framing_fault(struct MHD_Connection *c, struct framing *f)
{
    memset(f, 0, sizeof *f);
    MHD_get_connection_values(c, MHD_HEADER_KIND, count_framing, f);
    if (f->content_length > 1)
        return "more than one Content-Length header";
    if (f->transfer_encoding > 1)
        return "more than one Transfer-Encoding header";
    if (f->transfer_encoding && f->content_length)
        return "both Transfer-Encoding and Content-Length";
    if (f->transfer_encoding && (!f->te || strcasecmp(f->te, "chunked") != 0))
        return "a Transfer-Encoding other than chunked";
    return NULL;
}

static void refuse_auth(cy_req *r, cy_resp *w, bool taxii, const char *why)
{
    if (taxii)
        cy_resp_error(r, w, true, 401, "authentication required", "%s", why);
    else
        cy_resp_rule(r, w, 401, "unauthorized", "authenticated", "%s", why);
}

/* The request's headers are in and none of its body (see the top): decides
 * what can be decided now and fills cs (the principal, the body cap).
 * true: w holds the answer, to be sent at once without reading the body. */
static bool on_headers(comity_node *node, struct conn_state *cs, cy_req *r, cy_resp *w)
{
    cs->path_ok = split_path(r, cs->path) == 0;
    cs->nseg = r->nseg;
    memcpy(cs->segs, r->segs, sizeof cs->segs);
    bool taxii = cs->path_ok && cy_taxii_owns(r);
    if (atomic_load(&node->stopping)) {
        /* stopping: no new request starts (and the connection closes) */
        w->retry_after = "5";
        cy_resp_error(r, w, taxii, 503, "shutting down",
                      "this node is stopping; retry in a moment");
        return true;
    }
    struct framing f;
    const char *fault = framing_fault(r->conn, &f);
    if (fault) {
        cy_resp_error(r, w, taxii, 400, "ambiguous framing",
                      "the request's body framing is ambiguous: %s", fault);
        return true;
    }
    if (authenticate(r) != 0) {
        r->anon = true;
        refuse_auth(r, w, taxii,
                    "credentials not accepted (HTTP Basic with party name and token, or "
                    "'Authorization: Token ...')");
        return true;
    }
    if (cs->path_ok && cy_upload_owns(r)) {
        /* an evidence file: decided here, then streamed (files.c) */
        if (cy_upload_begin(r, w, &cs->upload))
            return true;
        cs->anon = r->anon;
        cs->who = r->who;
        return false;
    }
    const char *cl = f.cl; /* the only one (framing_fault) */
    bool body = f.transfer_encoding || (cl && strcmp(cl, "0"));
    cs->body_cap = node->opts.max_body;
    if (r->anon && body) {
        /* the three open doors that take a body: a peer's checkpoint to
         * cosign, a browser's signed login challenge, and a newcomer's
         * signed registration request; each capped */
        bool witness = r->nseg == 2 && !strcmp(r->segs[0], "witness") &&
                       !strcmp(r->method, "POST");
        bool login = cy_session_login(r);
        bool enrol = cy_enrol_open_door(r);
        if (!witness && !login && !enrol) {
            refuse_auth(r, w, taxii,
                        "this request needs credentials (HTTP Basic with party name and "
                        "token, or 'Authorization: Token ...'); its body was not read");
            return true;
        }
        size_t cap = witness ? COMITY_WITNESS_BODY_MAX
                     : enrol ? CY_ENROL_BODY_MAX
                             : CY_SESSION_BODY_MAX;
        if (cs->body_cap > cap)
            cs->body_cap = cap;
    }
    if (cl) {
        char *end = NULL;
        unsigned long long n = strtoull(cl, &end, 10);
        if (end == cl || *end || n > cs->body_cap) {
            cy_resp_error(r, w, taxii, 413, "request too large",
                          "the body exceeds this node's limit of %zu bytes", cs->body_cap);
            return true;
        }
    }
    cy_buf_init(&cs->body, cs->body_cap);
    cs->anon = r->anon;
    if (!r->anon)
        cs->who = r->who;
    return false;
}

/* libmicrohttpd's socket context of c: its entry in node->conns. */
static void *conn_entry(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *i =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return i ? i->socket_context : NULL;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_size, void **state)
{
    (void)version;
    comity_node *node = cls;
    struct conn_state *cs = *state;
    if (!cs) {
        size_t ulen = strlen(url);
        cs = cy_calloc(1, sizeof *cs + (ulen <= CY_PATH_MAX ? ulen + 1 : 1));
        if (!cs)
            return MHD_NO;
        cs->started = time(NULL);
        clock_gettime(CLOCK_MONOTONIC, &cs->t0);
        *state = cs;
        atomic_fetch_add(&node->requests, 1); /* until on_completed */
        cy_conns_request_began(conn_entry(c)); /* the header deadline stops */
        cy_req r = {.node = node, .conn = c, .method = method, .url = url};
        cy_resp w = {0};
        cy_buf_init(&w.body, 4096);
        enum MHD_Result ok = MHD_YES;
        if (on_headers(node, cs, &r, &w))
            ok = send_resp(node, c, &r, &w, true); /* without reading the body */
        cy_buf_free(&w.body);
        cy_arena_free(&r.arena);
        sodium_memzero(&r.who, sizeof r.who);
        return ok;
    }
    if (*upload_size && cs->upload) {
        /* an evidence file: straight to the store, nothing buffered */
        if (cy_upload_data(cs->upload, upload_data, *upload_size))
            return MHD_NO;
        *upload_size = 0;
        return MHD_YES;
    }
    if (*upload_size) {
        /* a body trickled in slower than the deadline allows: drop the
         * connection (the idle timeout alone would let it last forever) */
        if (time(NULL) - cs->started > (time_t)node->opts.body_timeout_s)
            return MHD_NO;
        if (!cs->too_big && cy_buf_append(&cs->body, upload_data, *upload_size)) {
            cs->too_big = true;
            cy_buf_free(&cs->body);
        }
        *upload_size = 0;
        return MHD_YES;
    }
    cy_req r = {.node = node, .conn = c, .method = method, .url = url};
    r.body = cs->body.data;
    r.body_len = cs->body.len;
    r.body_buf = &cs->body;
    r.anon = cs->anon; /* the principal of on_headers, also for a resumed request */
    if (!cs->anon)
        r.who = cs->who;
    path_of(cs, &r);
    cy_resp w = {0};
    cy_buf_init(&w.body, SIZE_MAX / 2);
    w.status = 500;
    if (cs->upload) {
        cy_upload_end(cs->upload, &r, &w); /* frees it */
        cs->upload = NULL;
    } else if (cs->parked) {
        /* resumed: the parked work is done (e.g. a record's commit) */
        cs->park_ops->answer(cs->parked, &r, &w);
        cs->park_ops->free(cs->parked);
        cs->parked = NULL;
    } else if (cs->too_big) {
        bool taxii = cs->path_ok && cy_taxii_owns(&r);
        cy_resp_error(&r, &w, taxii, 413, "request too large",
                      "the body exceeds this node's limit of %zu bytes", cs->body_cap);
    } else {
        route(&r, &w, cs->path_ok);
        if (w.park) {
            /* wait for the work without holding this thread; the
             * connection is suspended before the work can resume it */
            cs->parked = w.park;
            cs->park_ops = w.park_ops;
            cy_buf_free(&w.body);
            cy_arena_free(&r.arena);
            sodium_memzero(&r.who, sizeof r.who);
            MHD_suspend_connection(c);
            cs->park_ops->go(cs->parked);
            return MHD_YES;
        }
    }
    enum MHD_Result ok = send_resp(node, c, &r, &w, false);
    if (!strcmp(r.method, "POST") && r.nseg == 2 && !strcmp(r.segs[0], "v1") &&
        !strcmp(r.segs[1], "records")) {
        struct timespec t1;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        cy_metrics_intake(node->metrics, (double)(t1.tv_sec - cs->t0.tv_sec) +
                                             (double)(t1.tv_nsec - cs->t0.tv_nsec) / 1e9);
    }
    cy_buf_free(&w.body);
    cy_arena_free(&r.arena);
    sodium_memzero(&r.who, sizeof r.who);
    return ok;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **state,
                         enum MHD_RequestTerminationCode toe)
{
    comity_node *node = cls;
    (void)toe;
    cy_conns_request_ended(conn_entry(c)); /* the next request's headers: a deadline */
    struct conn_state *cs = *state;
    if (!cs)
        return;
    atomic_fetch_sub(&node->requests, 1);
    if (cs->parked)
        cs->park_ops->free(cs->parked);
    cy_upload_abort(cs->upload); /* an upload cut short: nothing kept */
    cy_buf_free(&cs->body);
    sodium_memzero(&cs->who, sizeof cs->who);
    cy_free(cs);
    *state = NULL;
}

/* libmicrohttpd's accept policy: an address that holds its share is
 * refused before a connection is made for it (conns.c). */
static enum MHD_Result accept_policy(void *cls, const struct sockaddr *addr, socklen_t len)
{
    (void)len;
    comity_node *node = cls;
    return cy_conns_admit(node->conns, addr) ? MHD_YES : MHD_NO;
}

/* A connection opened or closed: counted per address, and watched for the
 * header deadline (conns.c). */
static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    comity_node *node = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *a =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        const union MHD_ConnectionInfo *f =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        if (f)
            cy_conns_opened(node->conns, socket_context, a ? a->client_addr : NULL,
                            f->connect_fd);
    } else {
        cy_conns_closed(node->conns, socket_context);
    }
}

/* ---- the metrics listener ------------------------------------------------------ */

/* `--metrics-listen ADDR:PORT` (comity_serve_opts.metrics_listen): a second
 * libmicrohttpd daemon, plain HTTP, one thread, that answers GET (or HEAD)
 * /metrics with metrics.c's text to anyone who reaches it, and 404 or 405
 * to everything else; no token is asked there (the node's own listener
 * keeps the operator-token rule).  It is meant for loopback or a
 * monitoring network: whoever can connect reads how busy the node is.  A
 * request body is never read (the answer closes the connection).  Caps:
 * METRICS_CONNECTIONS open connections, METRICS_TIMEOUT_S idle. */
#define METRICS_CONNECTIONS 8
#define METRICS_TIMEOUT_S 10

static enum MHD_Result metrics_plain(struct MHD_Connection *c, unsigned status, const char *msg,
                                     bool close)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        strlen(msg), (void *)(uintptr_t)msg, MHD_RESPMEM_PERSISTENT);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    if (status == 405)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    if (close)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    enum MHD_Result ok = MHD_queue_response(c, status, resp);
    MHD_destroy_response(resp);
    return ok;
}

static enum MHD_Result on_metrics_request(void *cls, struct MHD_Connection *c, const char *url,
                                          const char *method, const char *version,
                                          const char *upload_data, size_t *upload_data_size,
                                          void **con_cls)
{
    (void)version;
    (void)upload_data;
    comity_node *node = cls;
    /* answered on the headers alone: a body, if any, is not read */
    bool body = *con_cls != NULL || *upload_data_size != 0 ||
                MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                            MHD_HTTP_HEADER_CONTENT_LENGTH) != NULL ||
                MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                            MHD_HTTP_HEADER_TRANSFER_ENCODING) != NULL;
    *con_cls = node;
    if (strcmp(url, "/metrics") != 0)
        return metrics_plain(c, 404, "not found: this address serves GET /metrics only\n", body);
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return metrics_plain(c, 405, "method not allowed: GET /metrics only\n", true);
    if (atomic_load(&node->stopping))
        return metrics_plain(c, 503, "the node is stopping\n", true);
    cy_buf b;
    cy_buf_init(&b, SIZE_MAX / 2);
    cy_metrics_text(node, &b);
    size_t len = 0;
    uint8_t *data = cy_buf_detach(&b, &len);
    struct MHD_Response *resp =
        MHD_create_response_from_buffer_with_free_callback(len, data, free_body);
    if (!resp) {
        cy_free(data);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, CY_METRICS_CTYPE);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (body)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    enum MHD_Result ok = MHD_queue_response(c, 200, resp);
    MHD_destroy_response(resp);
    return ok;
}

/* ---- start / stop --------------------------------------------------------------- */

void comity_serve_opts_default(comity_serve_opts *o)
{
    memset(o, 0, sizeof *o);
    o->listen = "127.0.0.1:8443";
    o->threads = 4;
    o->max_body = 8u << 20;
    o->max_connections = 256;
    o->max_per_ip = 0; /* DIR/node.conf's, else CY_PER_IP_DEFAULT (node.c) */
    o->timeout_s = 30;
    o->body_timeout_s = 120;
}

static comity_err parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *sl,
                               comity_error *err)
{
    char host[128];
    const char *colon;
    memset(ss, 0, sizeof *ss);
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (!close || close[1] != ':' || (size_t)(close - s - 1) >= sizeof host)
            return cy_fail(err, COMITY_ERR_USAGE, "listen: want [IPv6]:PORT, got '%s'", s);
        memcpy(host, s + 1, (size_t)(close - s - 1));
        host[close - s - 1] = 0;
        colon = close + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon || (size_t)(colon - s) >= sizeof host)
            return cy_fail(err, COMITY_ERR_USAGE, "listen: want ADDR:PORT, got '%s'", s);
        memcpy(host, s, (size_t)(colon - s));
        host[colon - s] = 0;
    }
    char *end = NULL;
    long port = strtol(colon + 1, &end, 10);
    if (end == colon + 1 || *end || port < 0 || port > 65535)
        return cy_fail(err, COMITY_ERR_USAGE, "listen: bad port in '%s'", s);
    struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)port);
        *sl = sizeof *a4;
    } else if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        *sl = sizeof *a6;
    } else {
        return cy_fail(err, COMITY_ERR_USAGE, "listen: '%s' is not an IP address", host);
    }
    return COMITY_OK;
}

/* Starts the metrics listener on ss, which is addr parsed (OUT
 * node->metrics_mhd, stopped by metrics_stop); IO when it cannot listen. */
static comity_err metrics_start(comity_node *node, const struct sockaddr_storage *ss,
                                const char *addr, comity_error *err)
{
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ITC;
    if (ss->ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    node->metrics_mhd = MHD_start_daemon(
        flags, 0, NULL, NULL, on_metrics_request, node, MHD_OPTION_SOCK_ADDR,
        (const struct sockaddr *)ss, MHD_OPTION_CONNECTION_LIMIT, (unsigned)METRICS_CONNECTIONS,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)METRICS_TIMEOUT_S,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_MEMORY_LIMIT, MHD_OPTION_END);
    if (!node->metrics_mhd)
        return cy_fail(err, COMITY_ERR_IO, "node: cannot listen on %s for /metrics (in use?)",
                       addr);
    const union MHD_DaemonInfo *info =
        MHD_get_daemon_info(node->metrics_mhd, MHD_DAEMON_INFO_BIND_PORT);
    node->metrics_port = info ? info->port : 0;
    return COMITY_OK;
}

static void metrics_stop(comity_node *node)
{
    if (node->metrics_mhd)
        MHD_stop_daemon(node->metrics_mhd);
    node->metrics_mhd = NULL;
    node->metrics_port = 0;
}

/* W of a record logged here first (its author a party of this node), for
 * the framework's fold (cy_fw_live_set_witness): from the log's cosigned
 * checkpoints under the node's witness policy; 0 when unknown. */
static int64_t fw_w_local(void *ctx, const char *author, uint64_t log_index)
{
    comity_node *node = ctx;
    cy_principal p;
    comity_policy *pol = NULL;
    int64_t w = 0;
    if (!node->log || cy_store_principal_get(node->store, author, &p, NULL, NULL) != COMITY_OK ||
        strcmp(p.kind, "party") != 0 || cy_witness_policy_load(node->dir, &pol, NULL) != COMITY_OK ||
        !pol)
        return 0;
    if (cy_firstseen_local(node->log, pol, log_index, &w, NULL) != COMITY_OK)
        w = 0;
    comity_policy_free(pol);
    return w;
}

/* Stops what comity_node_start started, in the reverse order, whatever
 * part of it did start (each stop takes a part never started): the
 * pullers (nobody else submits), connection counts, alerts, the retention
 * job (its last record answered), the file store (no upload open),
 * intake, the framework's state, sessions, and last the log (every
 * appended entry durable, a final checkpoint published). */
static void unstart(comity_node *node)
{
    cy_sync_stop(node->sync);
    node->sync = NULL;
    cy_conns_free(node->conns);
    node->conns = NULL;
    cy_metrics_free(node->metrics);
    node->metrics = NULL;
    cy_alerts_stop(node);
    cy_expiry_stop(node);
    cy_delivery_stop(node);
    cy_node_files_stop(node);
    cy_intake_stop(node->intake);
    node->intake = NULL;
    cy_fw_live_free(node->fw);
    node->fw = NULL;
    cy_corr_live_free(node->corr);
    node->corr = NULL;
    cy_session_stop(node);
    cy_enrol_stop(node);
    comity_log_close(node->log);
    node->log = NULL;
}

comity_err comity_node_start(comity_node *node, const comity_serve_opts *o, comity_error *err)
{
    if (node->mhd)
        return cy_fail(err, COMITY_ERR_USAGE, "node: already serving");
    atomic_store(&node->stopping, false);
    atomic_store(&node->requests, 0);
    comity_serve_opts d;
    comity_serve_opts_default(&d);
    node->opts = *o;
    if (!node->opts.listen)
        node->opts.listen = d.listen;
    if (!node->opts.threads)
        node->opts.threads = d.threads;
    if (!node->opts.max_body)
        node->opts.max_body = d.max_body;
    if (!node->opts.max_connections)
        node->opts.max_connections = d.max_connections;
    if (!node->opts.timeout_s)
        node->opts.timeout_s = d.timeout_s;
    if (!node->opts.body_timeout_s)
        node->opts.body_timeout_s = d.body_timeout_s;
    node->opts.cert_file = node->opts.key_file = NULL; /* not kept: may not outlive the call */
    node->opts.listen = NULL;
    memset(node->opts.deadline, 0, sizeof node->opts.deadline);
    node->opts.ping_deadline = NULL;
    node->opts.web_dir = NULL;
    cy_free(node->web_dir);
    node->web_dir = o->web_dir ? cy_strndup(o->web_dir, strlen(o->web_dir)) : NULL;
    if (o->web_dir && !node->web_dir)
        return cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    node->opts.allow_many = NULL;
    node->opts.metrics_listen = NULL;
    /* who may hold connections: node.conf, then the options */
    cy_conn_limits limits;
    comity_err rc = cy_node_conn_limits(node, o, &limits, err);
    if (rc)
        return rc;
    node->opts.max_per_ip = limits.max_per_ip;
    node->opts.header_timeout_s = limits.header_timeout_s;

    struct sockaddr_storage ss;
    socklen_t sl = 0;
    rc = parse_listen(o->listen ? o->listen : d.listen, &ss, &sl, err);
    if (rc)
        return rc;
    struct sockaddr_storage mss; /* --metrics-listen's, checked before anything starts */
    socklen_t msl = 0;
    if (o->metrics_listen && (rc = parse_listen(o->metrics_listen, &mss, &msl, err)))
        return cy_wrap(err, "--metrics-listen");
    node->tls = !o->insecure_http;
    if (node->tls) {
        char cp[4096], kp[4096];
        snprintf(cp, sizeof cp, "%s/tls/cert.pem", node->dir);
        snprintf(kp, sizeof kp, "%s/tls/key.pem", node->dir);
        size_t n;
        if ((rc = comity_read_file(o->cert_file ? o->cert_file : cp, CERT_MAX, &node->cert_pem,
                                   &n, err)) ||
            (rc = comity_read_file(o->key_file ? o->key_file : kp, CERT_MAX, &node->key_pem, &n,
                                   err)))
            return cy_wrap(err, "TLS (give --cert/--key, or --insecure-http for local use)");
    }
    /* browser sessions (session.c), registration requests (enrol.c) */
    if ((rc = cy_session_start(node, err)))
        return rc;
    if ((rc = cy_enrol_start(node, err))) {
        unstart(node);
        return rc;
    }
    /* the framework's state: deadlines, then the store replayed */
    cy_fw_table table;
    if ((rc = cy_node_fw_table(node, o, &table, err)) ||
        (rc = cy_fw_live_open(node->store, &table, &node->fw, err))) {
        unstart(node);
        return rc;
    }
    /* the correlation index (built from the store on its first query) */
    if ((rc = cy_node_corr_open(node, err))) {
        unstart(node);
        return rc;
    }
    /* the node is its log's one writer while it serves; REPLAYABLE: its
     * record rows are what make an entry durable, and intake appends a
     * lost entry again when it starts (src/intake/).  Both are up before
     * the node listens, so that no early request finds intake not
     * running. */
    char lp[4096];
    snprintf(lp, sizeof lp, "%s/log", node->dir);
    if ((rc = comity_log_open(lp, COMITY_LOG_WRITE | COMITY_LOG_BACKGROUND | COMITY_LOG_REPLAYABLE,
                              node->key, &node->log, err))) {
        unstart(node);
        return cy_wrap(err, "opening the node's log");
    }
    /* the fold weighs a revoked signer's records logged here by their W,
     * from this log's cosigned checkpoints */
    cy_fw_live_set_witness(node->fw, fw_w_local, node);
    /* record intake: checks the stored records against the log */
    cy_intake_opts io = {.store = node->store, .log = node->log, .fw = node->fw,
                         .origin = node->origin, .api_root = node->api_root,
                         .node_vkey = comity_nkey_vkey(node->key),
                         .created_ahead_ms = table.created_ahead_ms,
                         .created_behind_ms = table.created_behind_ms};
    if ((rc = cy_intake_start(&io, &node->intake, err))) {
        unstart(node);
        return rc;
    }
    /* evidence files (files.c): DIR/files, temporaries of a crash swept;
     * open before the pullers, which fetch peers' sealed files into it */
    if ((rc = cy_node_files_start(node, o, err))) {
        unstart(node);
        return rc;
    }
    /* federation: one puller per peer (src/sync/), submitting to intake */
    cy_sync_opts so = {.store = node->store, .files = node->files, .intake = node->intake,
                       .key = node->key,
                       .origin = node->origin, .dir = node->dir, .log = node->log,
                       .witness = node->witness};
    if ((rc = cy_sync_start(&so, &node->sync, err))) {
        unstart(node);
        return rc;
    }
    /* the retention job (expiry.c), which records through intake and
     * destroys through the file store; e-mail alerts (alerts.c): on the
     * framework's state, beside intake */
    if ((rc = cy_expiry_start(node, &table, err)) || (rc = cy_delivery_start(node, err)) ||
        (rc = cy_alerts_start(node, err)) || (rc = cy_conns_new(&limits, &node->conns, err)) ||
        (rc = cy_metrics_new(&node->metrics, err))) {
        unstart(node);
        return rc;
    }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC |
                     MHD_ALLOW_SUSPEND_RESUME;
    if (node->tls)
        flags |= MHD_USE_TLS;
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    struct MHD_OptionItem tls_opts[] = {
        {MHD_OPTION_HTTPS_MEM_KEY, 0, node->key_pem},
        {MHD_OPTION_HTTPS_MEM_CERT, 0, node->cert_pem},
        {MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)(uintptr_t)cy_tls_priorities},
        {MHD_OPTION_END, 0, NULL},
    };
    /* the per-address cap is conns.c's, not MHD_OPTION_PER_IP_CONNECTION_
     * LIMIT, which has no allow-list */
    node->mhd = MHD_start_daemon(
        flags, 0, accept_policy, node, on_request, node, MHD_OPTION_SOCK_ADDR,
        (struct sockaddr *)&ss, MHD_OPTION_THREAD_POOL_SIZE, (unsigned)node->opts.threads,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)node->opts.max_connections,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)node->opts.timeout_s,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_MEMORY_LIMIT,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, node, MHD_OPTION_NOTIFY_CONNECTION,
        on_connection, node, MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL, MHD_OPTION_ARRAY,
        node->tls ? tls_opts : tls_opts + 3, MHD_OPTION_END);
    if (!node->mhd) {
        unstart(node); /* a clean stop: nothing was posted */
        return cy_fail(err, COMITY_ERR_IO, "node: cannot listen on %s (in use, or bad TLS key?)",
                       o->listen ? o->listen : d.listen);
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(node->mhd, MHD_DAEMON_INFO_BIND_PORT);
    node->port = info ? info->port : 0;
    if (o->metrics_listen && (rc = metrics_start(node, &mss, o->metrics_listen, err))) {
        comity_node_stop(node, 0); /* nothing answered yet; err kept */
        return rc;
    }
    return COMITY_OK;
}

void comity_node_tls_fingerprint(const comity_node *node, char out[96])
{
    out[0] = 0;
    if (node && node->mhd && node->tls && node->cert_pem &&
        cy_tls_fingerprint(node->cert_pem, out, NULL) != COMITY_OK)
        out[0] = 0;
}

unsigned comity_node_port(const comity_node *node) { return node && node->mhd ? node->port : 0; }

unsigned comity_node_metrics_port(const comity_node *node)
{
    return node && node->metrics_mhd ? node->metrics_port : 0;
}

void comity_node_stop(comity_node *node, unsigned grace_ms)
{
    if (!node || !node->mhd)
        return;
    atomic_store(&node->stopping, true);
    metrics_stop(node); /* it reads intake, the log and the store: gone first */
    /* the grace period waits for the requests in progress (an intake
     * commit, a page being sent), not for idle keep-alive connections:
     * peers' pullers and browsers hold those open, and MHD_stop_daemon
     * below closes them */
    for (unsigned waited = 0; waited < grace_ms; waited += 20) {
        if (atomic_load(&node->requests) == 0)
            break;
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    cy_sync_stop(node->sync); /* its pages in hand committed: nobody else submits */
    node->sync = NULL;
    cy_intake_drain(node->intake); /* no connection left suspended */
    MHD_stop_daemon(node->mhd); /* every connection closed */
    node->mhd = NULL;
    node->port = 0;
    unstart(node); /* every browser logs in again; the log's entries durable */
}

void comity_node_close(comity_node *node)
{
    if (!node)
        return;
    comity_node_stop(node, 0); /* what serving started */
    cy_node_free(node);        /* what comity_node_open made (node.c) */
}
