/*
 * refs_scan.c: a record's `refs` read from its envelope without parsing
 * the record (see refs_scan.h for the contract).
 *
 * One pass over the envelope's top-level object for `payload` (its value
 * skipped over otherwise), the payload decoded as DSSE decodes it
 * (cy_b64_decode_public_any) into the scanner's buffer, and one pass over
 * the payload's top-level object for `refs`.  Values it does not read are
 * skipped by their brackets and strings (an escape skips the byte after
 * the backslash), without checking what is inside them: where the JSON is
 * well formed this finds exactly the top-level members the full reader
 * finds, and where it is not the full parser refuses the record anyway.
 * No recursion (a depth counter, capped at CY_JSON_MAX_DEPTH), no read
 * past `len`.  Each ref's closing quote in the buffer becomes its NUL.
 */
#include <string.h>

#include "base/json.h"
#include "record/id.h"
#include "record/refs_scan.h"

typedef struct scan {
    const char *p, *end;
} scan;

static void ws(scan *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
        s->p++;
}

static bool eat(scan *s, char c)
{
    ws(s);
    if (s->p >= s->end || *s->p != c)
        return false;
    s->p++;
    return true;
}

/* A string at s->p (its opening quote): *start and *n its raw bytes,
 * *escaped whether a backslash is among them; s->p past its closing
 * quote.  False when it does not close. */
static bool string(scan *s, const char **start, size_t *n, bool *escaped)
{
    if (s->p >= s->end || *s->p != '"')
        return false;
    const char *b = ++s->p;
    /* the common case, a string without escapes, by memchr */
    const char *q = memchr(b, '"', (size_t)(s->end - b));
    if (!q)
        return false;
    bool esc = memchr(b, '\\', (size_t)(q - b)) != NULL;
    if (esc) {
        while (s->p < s->end && *s->p != '"') {
            if (*s->p == '\\' && ++s->p == s->end)
                return false;
            s->p++;
        }
        if (s->p >= s->end)
            return false;
        q = s->p;
    }
    *start = b;
    *n = (size_t)(q - b);
    *escaped = esc;
    s->p = q + 1;
    return true;
}

/* Whether c ends a number or a literal. */
static bool ends_literal(char c)
{
    return c == ',' || c == '}' || c == ']' || c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Skips the value at s->p (after whitespace). */
static bool skip_value(scan *s)
{
    const char *b;
    size_t n;
    bool e;
    ws(s);
    if (s->p >= s->end)
        return false;
    if (*s->p == '"')
        return string(s, &b, &n, &e);
    if (*s->p != '{' && *s->p != '[') {
        /* a number or a literal: up to what ends it */
        const char *st = s->p;
        while (s->p < s->end && !ends_literal(*s->p))
            s->p++;
        return s->p > st;
    }
    unsigned depth = 0;
    while (s->p < s->end) {
        char c = *s->p;
        if (c == '"') {
            if (!string(s, &b, &n, &e))
                return false;
            continue;
        }
        s->p++;
        if (c == '{' || c == '[') {
            if (++depth > CY_JSON_MAX_DEPTH)
                return false;
        } else if (c == '}' || c == ']') {
            if (--depth == 0)
                return true;
        }
    }
    return false;
}

/* The top-level object at s: calls `member` for each key (raw, without
 * escapes: one with an escape fails the scan), which either reads the
 * value itself (returns 1), leaves it to be skipped (0) or fails (-1). */
typedef int (*member_fn)(scan *s, const char *key, size_t n, void *ctx);

static bool object(scan *s, member_fn member, void *ctx)
{
    if (!eat(s, '{'))
        return false;
    ws(s);
    if (s->p < s->end && *s->p == '}') {
        s->p++;
    } else {
        for (;;) {
            const char *k;
            size_t n;
            bool esc;
            ws(s);
            if (!string(s, &k, &n, &esc) || esc || !eat(s, ':'))
                return false;
            int r = member(s, k, n, ctx);
            if (r < 0 || (r == 0 && !skip_value(s)))
                return false;
            ws(s);
            if (s->p >= s->end)
                return false;
            if (*s->p == '}') {
                s->p++;
                break;
            }
            if (*s->p++ != ',')
                return false;
        }
    }
    ws(s);
    return s->p == s->end;
}

struct env_ctx {
    const char *b64;
    size_t n;
    bool seen;
};

static int env_member(scan *s, const char *key, size_t n, void *ctx)
{
    struct env_ctx *c = ctx;
    if (n != 7 || memcmp(key, "payload", 7) != 0)
        return 0;
    bool esc;
    ws(s);
    if (c->seen || !string(s, &c->b64, &c->n, &esc) || esc)
        return -1;
    c->seen = true;
    return 1;
}

static int payload_member(scan *s, const char *key, size_t n, void *ctx)
{
    cy_refs_scan *r = ctx;
    if (n != 4 || memcmp(key, "refs", 4) != 0)
        return 0;
    if (r->n || !eat(s, '['))
        return -1;
    for (;;) {
        const char *id;
        size_t len;
        bool esc;
        ws(s);
        if (r->n == COMITY_RECORD_MAX_REFS || !string(s, &id, &len, &esc) || esc)
            return -1;
        ((char *)id)[len] = 0; /* the closing quote, in the scanner's buffer */
        if (strlen(id) != len || !cy_record_id_valid(id))
            return -1;
        for (size_t k = 0; k < r->n; k++)
            if (strcmp(r->refs[k], id) == 0)
                return -1;
        r->refs[r->n++] = id;
        ws(s);
        if (s->p >= s->end)
            return -1;
        if (*s->p == ']') {
            s->p++;
            return 1;
        }
        if (*s->p++ != ',')
            return -1;
    }
}

comity_err cy_refs_scan_envelope(cy_refs_scan *r, const char *envelope, size_t len)
{
    r->n = 0;
    if (len > COMITY_DSSE_MAX)
        return COMITY_ERR_INVALID;
    scan s = {envelope, envelope + len};
    struct env_ctx e = {0};
    if (!object(&s, env_member, &e) || !e.seen)
        return COMITY_ERR_INVALID;
    size_t pl = cy_b64_decoded_len(e.b64, e.n);
    if (pl > COMITY_RECORD_MAX)
        return COMITY_ERR_INVALID;
    if (r->cap < pl + 1) {
        uint8_t *b = cy_malloc(pl + 1);
        if (!b)
            return COMITY_ERR_NOMEM;
        cy_free(r->buf);
        r->buf = b;
        r->cap = pl + 1;
    }
    size_t got;
    if (cy_b64_decode_public_any(r->buf, r->cap, &got, e.b64, e.n, NULL))
        return COMITY_ERR_INVALID;
    r->buf[got] = 0;
    scan p = {(const char *)r->buf, (const char *)r->buf + got};
    if (!object(&p, payload_member, r)) {
        r->n = 0;
        return COMITY_ERR_INVALID;
    }
    return COMITY_OK;
}

void cy_refs_scan_clear(cy_refs_scan *r)
{
    cy_free(r->buf);
    r->buf = NULL;
    r->cap = 0;
    r->n = 0;
}
