/*
 * req.c: the request/response helpers of the node's handlers (see req.h):
 * headers, query arguments and the body of a request; JSON and error
 * bodies of a response; resuming a parked connection.  The only file
 * besides serve.c that calls libmicrohttpd.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <microhttpd.h>

#include "node/req.h"

const char *cy_req_header(cy_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

/* Reads 1-19 decimal digits at *p (moved past them). */
static bool range_num(const char **p, uint64_t *out)
{
    const char *s = *p;
    uint64_t v = 0;
    size_t n = 0;
    while (*s >= '0' && *s <= '9' && n < 20) {
        v = v * 10 + (uint64_t)(*s - '0');
        s++;
        n++;
    }
    if (n == 0 || n > 19)
        return false;
    *out = v;
    *p = s;
    return true;
}

int cy_http_range(const char *h, uint64_t size, uint64_t *first, uint64_t *len)
{
    *first = 0;
    *len = size;
    if (!h || strncasecmp(h, "bytes", 5) != 0)
        return 0;
    const char *p = h + 5;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p++ != '=')
        return 0;
    while (*p == ' ' || *p == '\t')
        p++;
    uint64_t f = 0, l = 0;
    bool has_f = false, has_l = false;
    if (*p != '-') {
        if (!range_num(&p, &f))
            return 0;
        has_f = true;
    }
    if (*p++ != '-')
        return 0;
    if (*p >= '0' && *p <= '9') {
        if (!range_num(&p, &l))
            return 0;
        has_l = true;
    }
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p || (!has_f && !has_l) || (has_f && has_l && l < f))
        return 0; /* several ranges, trailing bytes, "bytes=-", L before F */
    if (!has_f) { /* the last l bytes */
        if (l == 0 || size == 0)
            return -1;
        *first = l < size ? size - l : 0;
        *len = size - *first;
        return 1;
    }
    if (f >= size)
        return -1;
    *first = f;
    *len = (has_l && l < size - 1 ? l + 1 : size) - f;
    return 1;
}

void cy_req_addr(cy_req *r, char *out, size_t cap)
{
    snprintf(out, cap, "unknown");
    const union MHD_ConnectionInfo *a =
        r->conn ? MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS) : NULL;
    if (!a || !a->client_addr)
        return;
    const struct sockaddr *sa = a->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out,
                  (socklen_t)cap);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out,
                  (socklen_t)cap);
}

uint8_t *cy_req_take_body(cy_req *r, size_t *len)
{
    if (!r->body_buf || !r->body_buf->data || r->body_buf->data != r->body)
        return NULL;
    uint8_t *d = cy_buf_detach(r->body_buf, len);
    r->body_buf = NULL;
    return d;
}

struct args_ctx {
    int (*fn)(void *, const char *, const char *);
    void *ctx;
    int rc;
};

static enum MHD_Result args_it(void *cls, enum MHD_ValueKind kind, const char *key,
                               const char *value)
{
    (void)kind;
    struct args_ctx *a = cls;
    a->rc = a->fn(a->ctx, key, value);
    return a->rc ? MHD_NO : MHD_YES;
}

int cy_req_args(cy_req *r, int (*fn)(void *, const char *, const char *), void *ctx)
{
    struct args_ctx a = {fn, ctx, 0};
    MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, args_it, &a);
    return a.rc;
}

void cy_resp_json(cy_req *r, cy_resp *w, unsigned status, const char *ctype, json_t *v)
{
    (void)r;
    cy_buf_reset(&w->body);
    char *s = v ? json_dumps(v, JSON_COMPACT) : NULL;
    json_decref(v);
    w->status = status;
    w->ctype = ctype;
    if (!s || cy_buf_puts(&w->body, s)) {
        cy_buf_reset(&w->body);
        w->status = 500;
        cy_buf_puts(&w->body, "{\"title\":\"out of memory\",\"http_status\":\"500\"}");
    }
    free(s);
}

void cy_resp_rule(cy_req *r, cy_resp *w, unsigned status, const char *title, const char *rule,
                  const char *fmt, ...)
{
    char desc[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(desc, sizeof desc, fmt, ap);
    va_end(ap);
    for (char *c = desc; *c; c++)
        if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e)
            *c = '?';
    json_t *v = json_pack("{s:s, s:s, s:s, s:i}", "error", title, "rule", rule, "description",
                          desc, "status", (int)status);
    cy_resp_json(r, w, status, "application/json", v);
    if (status == 401)
        w->www_auth = true;
}

void cy_resp_error(cy_req *r, cy_resp *w, bool taxii, unsigned status, const char *title,
                   const char *fmt, ...)
{
    char desc[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(desc, sizeof desc, fmt, ap);
    va_end(ap);
    /* messages may quote the request (a path, a parameter): keep them
     * printable ASCII so they are always valid JSON strings */
    for (char *c = desc; *c; c++)
        if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e)
            *c = '?';
    char code[8];
    snprintf(code, sizeof code, "%u", status);
    json_t *v;
    if (taxii)
        v = json_pack("{s:s, s:s, s:s}", "title", title, "description", desc, "http_status",
                      code);
    else
        v = json_pack("{s:s, s:s, s:i}", "error", title, "description", desc, "status",
                      (int)status);
    cy_resp_json(r, w, status, taxii ? CY_MEDIA_TAXII : "application/json", v);
    if (status == 401)
        w->www_auth = true;
}

unsigned cy_resp_store_status(comity_err code)
{
    return code == COMITY_ERR_IO || code == COMITY_ERR_LOCKED ? 503 : 500;
}

void cy_req_resume(struct MHD_Connection *conn) { MHD_resume_connection(conn); }
