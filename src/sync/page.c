/*
 * page.c: the pull answer parser (sync.h; docs/federation.md, section 5).
 *
 * A federation page comes from another node, so it is hostile input: the
 * size is capped before parsing, JSON duplicate keys are refused, every
 * object must be an x-comity-record carrying its envelope, log index and
 * receipt, the indexes must increase and stay below `next`.  Nothing here
 * is trusted yet: the receipts and signatures are checked by verify.c and
 * intake.  The envelope is re-serialized (compact) for intake; its
 * signature covers the payload bytes, never the JSON around them.
 *
 * Two readers.  jansson's (cy_pull_page_parse_jansson) reads any page and
 * words every refusal; building its tree cost half a raw Ed25519 verify a
 * record (bench/README.md), most of it on the receipts, ~1 KB strings.
 * The fast reader (cy_pull_page_parse_fast) walks the bytes once, strictly
 * (RFC 8259 grammar, UTF-8 and escapes as jansson checks them), decodes
 * the strings it keeps into one arena a page, and copies each envelope
 * without its whitespace, which is what json_dumps(JSON_COMPACT) writes
 * when the envelope's strings hold no escape and it holds no number.  It
 * takes a page only when sure that jansson's reader would take it the
 * same; anything else (a syntax error, a duplicate or escaped key, a
 * number other than the log index, an escape in the envelope, more than
 * FAST_KEYS_MAX keys in an object or FAST_DEPTH_MAX levels, a page that
 * breaks a rule) goes to jansson's, so a refusal is always jansson's, word
 * for word.  tests/test_sync.c and fuzz_pull_page compare the two on every
 * page the fast one takes.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "sync/sync.h"
#include "tlog/tlog.h"

void cy_pull_page_free(cy_pull_page *p)
{
    if (!p)
        return;
    for (size_t i = 0; p->items && i < p->n; i++) {
        if (!p->arena) /* else they live in it */
            free(p->items[i].envelope);
        comity_record_free(p->items[i].rec);
    }
    cy_free(p->items);
    json_decref(p->root);
    cy_free(p->arena);
    memset(p, 0, sizeof *p);
}

static comity_err bad(comity_error *err, size_t i, const char *what)
{
    return cy_fail(err, COMITY_ERR_INVALID, "federation page: object %zu: %s", i, what);
}

comity_err cy_pull_page_parse_jansson(const char *body, size_t len, cy_pull_page *out,
                                      comity_error *err)
{
    memset(out, 0, sizeof *out);
    if (len > CY_SYNC_PAGE_MAX)
        return cy_fail(err, COMITY_ERR_TOOBIG, "federation page: %zu bytes; at most %u", len,
                       CY_SYNC_PAGE_MAX);
    json_error_t je;
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return cy_fail(err, COMITY_ERR_INVALID, "federation page: not JSON at byte %d: %s",
                       je.position, je.text);
    out->root = root;
    json_t *objs = json_object_get(root, "objects"), *more = json_object_get(root, "more"),
           *next = json_object_get(root, "next");
    if (!json_is_object(root) || (objs && !json_is_array(objs)) || !json_is_boolean(more) ||
        !json_is_string(next))
        return cy_fail(err, COMITY_ERR_INVALID,
                       "federation page: want {\"objects\": [...], \"more\": bool, \"next\": "
                       "\"INDEX\"}");
    const char *ns = json_string_value(next);
    if (!cy_parse_u64(ns, json_string_length(next), &out->next))
        return cy_fail(err, COMITY_ERR_INVALID, "federation page: next is no log index");
    out->more = json_is_true(more);
    size_t n = objs ? json_array_size(objs) : 0;
    if (n > CY_FED_PAGE_MAX)
        return cy_fail(err, COMITY_ERR_TOOBIG, "federation page: %zu objects; at most %d", n,
                       CY_FED_PAGE_MAX);
    if (n && !(out->items = cy_calloc(n, sizeof *out->items)))
        return cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_array_get(objs, i);
        json_t *type = json_object_get(o, "type"), *env = json_object_get(o, "dsse_envelope"),
               *rid = json_object_get(o, "record_id"),
               *idx = json_object_get(o, "x_comity_log_index"),
               *rcpt = json_object_get(o, "x_comity_receipt");
        if (!json_is_object(o) || !json_is_string(type) ||
            strcmp(json_string_value(type), "x-comity-record") != 0)
            return bad(err, i, "not an x-comity-record object");
        if (!json_is_object(env))
            return bad(err, i, "dsse_envelope: want an object");
        if (!json_is_string(rid))
            return bad(err, i, "record_id: want a string");
        if (!json_is_integer(idx) || json_integer_value(idx) < 0)
            return bad(err, i, "x_comity_log_index: want an integer >= 0");
        if (!json_is_string(rcpt) || json_string_length(rcpt) > COMITY_TLOG_PROOF_MAX)
            return bad(err, i, "x_comity_receipt: want a tlog-proof string");
        cy_pull_item *it = &out->items[i];
        it->log_index = (uint64_t)json_integer_value(idx);
        if ((i && it->log_index <= out->items[i - 1].log_index) || it->log_index >= out->next)
            return bad(err, i, "x_comity_log_index: not increasing, or not below next");
        it->record_id = json_string_value(rid);
        it->receipt = json_string_value(rcpt);
        it->receipt_len = json_string_length(rcpt);
        out->n = i + 1; /* the envelope below is freed with the page from here on */
        if (!(it->envelope = json_dumps(env, JSON_COMPACT)))
            return cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
        it->envelope_len = strlen(it->envelope);
        if (it->envelope_len > COMITY_DSSE_MAX)
            return bad(err, i, "dsse_envelope: larger than a record may be");
    }
    out->n = n;
    return COMITY_OK;
}

/* ---- the fast reader --------------------------------------------------------- */

#define FAST_DEPTH_MAX 16 /* levels of nesting the fast reader follows */
#define FAST_KEYS_MAX 16  /* keys an object may have for the fast reader */

struct rd {
    const unsigned char *p, *end;
    char *arena; /* where kept strings and envelopes go */
    size_t used, cap;
    bool escaped; /* a string read since the flag was cleared held an escape */
};

/* The keys of one object, as raw bytes (escaped keys are not taken). */
struct keys {
    const unsigned char *k[FAST_KEYS_MAX];
    size_t len[FAST_KEYS_MAX];
    size_t n;
};

static void ws(struct rd *r)
{
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
        r->p++;
}

static bool eat(struct rd *r, char c)
{
    ws(r);
    if (r->p < r->end && *r->p == c) {
        r->p++;
        return true;
    }
    return false;
}

static int hex4(const unsigned char *p)
{
    int v = 0;
    for (int i = 0; i < 4; i++) {
        int c = p[i], d = c >= '0' && c <= '9'   ? c - '0'
                          : c >= 'a' && c <= 'f' ? c - 'a' + 10
                          : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                                 : -1;
        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    return v;
}

/* The bytes of one UTF-8 character at p (at most n), as jansson accepts
 * them (no overlong form, no surrogate, at most U+10FFFF); 0 if invalid. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
    unsigned c = p[0];
    size_t k = c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
    if (!k || k > n)
        return 0;
    for (size_t i = 1; i < k; i++)
        if ((p[i] & 0xC0) != 0x80)
            return 0;
    if ((c == 0xE0 && p[1] < 0xA0) || (c == 0xED && p[1] > 0x9F) || (c == 0xF0 && p[1] < 0x90) ||
        (c == 0xF4 && p[1] > 0x8F))
        return 0;
    return k;
}

static size_t put_utf8(unsigned char *o, unsigned cp)
{
    if (cp < 0x80) {
        o[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (unsigned char)(0xC0 | cp >> 6);
        o[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (unsigned char)(0xE0 | cp >> 12);
        o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (unsigned char)(0xF0 | cp >> 18);
    o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

/* One string at r->p (after whitespace): checked, and with keep decoded
 * into the arena, NUL-terminated.  OUT *raw, *rawlen: its bytes between
 * the quotes; *out, *outlen: the decoded text (with keep).  Sets
 * r->escaped when it holds an escape.  A decoded string is never longer
 * than its quoted bytes, so the arena (as long as the page) holds them. */
/* The length of the run at p of characters a string holds as they are
 * (printable ASCII but '"' and '\\'): most of a receipt.  Eight bytes a
 * step while none of them is another (each test may also flag a byte
 * after one that is, never miss one), then a byte a step. */
static size_t plain_run(const unsigned char *p, const unsigned char *end)
{
    const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
    const unsigned char *s = p;
    while (end - s >= 8) {
        uint64_t v, q, b;
        memcpy(&v, s, 8);
        q = v ^ (0x22 * ones); /* '"' -> 0 */
        b = v ^ (0x5c * ones); /* '\\' -> 0 */
        uint64_t odd = (v | ((v - 0x20 * ones) & ~v) | ((q - ones) & ~q) | ((b - ones) & ~b)) &
                       highs; /* >= 0x80, < 0x20, '"', '\\' */
        if (odd)
            break;
        s += 8;
    }
    while (s < end && *s >= 0x20 && *s < 0x80 && *s != '"' && *s != '\\')
        s++;
    return (size_t)(s - p);
}

static bool str(struct rd *r, bool keep, const unsigned char **raw, size_t *rawlen,
                const char **out, size_t *outlen)
{
    ws(r);
    if (r->p >= r->end || *r->p != '"')
        return false;
    const unsigned char *p = ++r->p, *end = r->end;
    unsigned char *o = keep ? (unsigned char *)r->arena + r->used : NULL;
    size_t room = keep ? r->cap - r->used : 0, k = 0;
    for (;;) {
        if (p >= end)
            return false;
        unsigned c = *p;
        if (c == '"')
            break;
        if (c >= 0x20 && c < 0x80 && c != '\\') { /* most of a receipt */
            size_t run = plain_run(p, end);      /* >= 1: c is one */
            if (keep) {
                if (room - k < run + 1) /* the run and a NUL */
                    return false;
                memcpy(o + k, p, run);
            }
            k += run;
            p += run;
            continue;
        }
        unsigned char tmp[4];
        size_t tn;
        if (c == '\\') {
            r->escaped = true;
            if (end - p < 2)
                return false;
            unsigned e = p[1];
            if (e == 'u') {
                if (end - p < 6)
                    return false;
                int cp = hex4(p + 2);
                if (cp < 0)
                    return false;
                p += 6;
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    int lo = end - p >= 6 && p[0] == '\\' && p[1] == 'u' ? hex4(p + 2) : -1;
                    if (lo < 0xDC00 || lo > 0xDFFF)
                        return false;
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    p += 6;
                } else if ((cp >= 0xDC00 && cp <= 0xDFFF) || cp == 0) {
                    return false;
                }
                tn = put_utf8(tmp, (unsigned)cp);
            } else {
                const char *from = "\"\\/bfnrt", *to = "\"\\/\b\f\n\r\t";
                const char *at = e ? strchr(from, (int)e) : NULL;
                if (!at)
                    return false;
                tmp[0] = (unsigned char)to[at - from];
                tn = 1;
                p += 2;
            }
        } else if (c < 0x20) {
            return false;
        } else {
            if (!(tn = utf8_len(p, (size_t)(end - p))))
                return false;
            memcpy(tmp, p, tn);
            p += tn;
        }
        if (keep) {
            if (room - k < tn + 1)
                return false;
            memcpy(o + k, tmp, tn);
        }
        k += tn;
    }
    *raw = r->p;
    *rawlen = (size_t)(p - r->p);
    r->p = p + 1;
    if (keep) {
        o[k] = 0;
        *out = (const char *)o;
        *outlen = k;
        r->used += k + 1;
    }
    return true;
}

/* A key (unescaped, not seen before in ks) and its colon. */
static bool key(struct rd *r, struct keys *ks, const unsigned char **k, size_t *kl)
{
    bool was = r->escaped;
    r->escaped = false;
    if (!str(r, false, k, kl, NULL, NULL) || r->escaped || ks->n == FAST_KEYS_MAX)
        return false;
    r->escaped = was;
    for (size_t i = 0; i < ks->n; i++)
        if (ks->len[i] == *kl && !memcmp(ks->k[i], *k, *kl))
            return false;
    ks->k[ks->n] = *k;
    ks->len[ks->n++] = *kl;
    return eat(r, ':');
}

static bool is(const unsigned char *k, size_t kl, const char *name)
{
    return kl == strlen(name) && !memcmp(k, name, kl);
}

static bool word(struct rd *r, const char *w)
{
    size_t n = strlen(w);
    ws(r);
    if ((size_t)(r->end - r->p) < n || memcmp(r->p, w, n))
        return false;
    r->p += n;
    return true;
}

/* Any value but a number, checked and skipped. */
static bool value(struct rd *r, int depth)
{
    if (depth > FAST_DEPTH_MAX)
        return false;
    ws(r);
    if (r->p >= r->end)
        return false;
    const unsigned char *k;
    size_t kl;
    switch (*r->p) {
    case '{': {
        r->p++;
        struct keys ks = {0};
        if (eat(r, '}'))
            return true;
        do {
            if (!key(r, &ks, &k, &kl) || !value(r, depth + 1))
                return false;
        } while (eat(r, ','));
        return eat(r, '}');
    }
    case '[':
        r->p++;
        if (eat(r, ']'))
            return true;
        do {
            if (!value(r, depth + 1))
                return false;
        } while (eat(r, ','));
        return eat(r, ']');
    case '"':
        return str(r, false, &k, &kl, NULL, NULL);
    case 't':
        return word(r, "true");
    case 'f':
        return word(r, "false");
    case 'n':
        return word(r, "null");
    default:
        return false; /* numbers are jansson's (it rewrites them) */
    }
}

/* The envelope: an object with no escape in its strings and no number,
 * copied without the whitespace between its tokens (json_dumps's compact
 * form of it) into the arena. */
static bool envelope(struct rd *r, char **out, size_t *outlen)
{
    ws(r);
    const unsigned char *from = r->p;
    bool was = r->escaped;
    r->escaped = false;
    if (from >= r->end || *from != '{' || !value(r, 2) || r->escaped)
        return false;
    r->escaped = was;
    char *o = r->arena + r->used;
    size_t k = 0, room = r->cap - r->used;
    bool in = false;
    for (const unsigned char *p = from; p < r->p; p++) {
        if (*p == '"')
            in = !in;
        else if (!in && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
            continue;
        if (k + 1 >= room)
            return false;
        o[k++] = (char)*p;
    }
    o[k] = 0;
    *out = o;
    *outlen = k;
    r->used += k + 1;
    return true;
}

/* A log index: digits, no leading zero, at most 18 of them (jansson reads
 * more; such a page is its). */
static bool index_of(struct rd *r, uint64_t *v)
{
    ws(r);
    const unsigned char *p = r->p;
    size_t n = 0;
    *v = 0;
    while (p + n < r->end && p[n] >= '0' && p[n] <= '9' && n < 19)
        *v = *v * 10 + (uint64_t)(p[n++] - '0');
    if (!n || n > 18 || (n > 1 && p[0] == '0'))
        return false;
    r->p += n; /* what follows must be a separator: the caller's eat() says */
    return true;
}

/* One x-comity-record object of the page, as jansson's reader checks it. */
static bool record(struct rd *r, cy_pull_item *it)
{
    if (!eat(r, '{'))
        return false;
    struct keys ks = {0};
    bool type_ok = false, has_env = false, has_rid = false, has_idx = false, has_rcpt = false;
    do {
        const unsigned char *k, *raw;
        size_t kl, rl;
        if (!key(r, &ks, &k, &kl))
            return false;
        bool was = r->escaped;
        if (is(k, kl, "type")) {
            r->escaped = false;
            if (!str(r, false, &raw, &rl, NULL, NULL) || r->escaped ||
                !is(raw, rl, "x-comity-record"))
                return false;
            type_ok = true;
            r->escaped = was;
        } else if (is(k, kl, "dsse_envelope")) {
            if (!envelope(r, &it->envelope, &it->envelope_len))
                return false;
            has_env = true;
        } else if (is(k, kl, "record_id")) {
            if (!str(r, true, &raw, &rl, &it->record_id, &rl))
                return false;
            has_rid = true;
        } else if (is(k, kl, "x_comity_log_index")) {
            if (!index_of(r, &it->log_index))
                return false;
            has_idx = true;
        } else if (is(k, kl, "x_comity_receipt")) {
            if (!str(r, true, &raw, &rl, &it->receipt, &it->receipt_len))
                return false;
            has_rcpt = true;
        } else if (!value(r, 2)) {
            return false;
        }
    } while (eat(r, ','));
    return eat(r, '}') && type_ok && has_env && has_rid && has_idx && has_rcpt &&
           it->receipt_len <= COMITY_TLOG_PROOF_MAX && it->envelope_len <= COMITY_DSSE_MAX;
}

static bool fast(struct rd *r, cy_pull_page *out)
{
    if (!eat(r, '{'))
        return false;
    struct keys ks = {0};
    bool has_more = false, has_next = false;
    if (!eat(r, '}'))
        do {
            const unsigned char *k, *raw;
            size_t kl, rl;
            if (!key(r, &ks, &k, &kl))
                return false;
            if (is(k, kl, "objects")) {
                if (!eat(r, '['))
                    return false;
                if (eat(r, ']'))
                    continue;
                size_t cap = 64;
                if (!(out->items = cy_calloc(cap, sizeof *out->items)))
                    return false;
                do {
                    if (out->n == CY_FED_PAGE_MAX)
                        return false;
                    if (out->n == cap) {
                        cy_pull_item *m = cy_realloc(out->items, 2 * cap * sizeof *m);
                        if (!m)
                            return false;
                        memset(m + cap, 0, cap * sizeof *m);
                        out->items = m;
                        cap *= 2;
                    }
                    cy_pull_item *it = &out->items[out->n++];
                    if (!record(r, it) ||
                        (out->n > 1 && it->log_index <= out->items[out->n - 2].log_index))
                        return false;
                } while (eat(r, ','));
                if (!eat(r, ']'))
                    return false;
            } else if (is(k, kl, "more")) {
                ws(r);
                if (word(r, "true"))
                    out->more = true;
                else if (!word(r, "false"))
                    return false;
                has_more = true;
            } else if (is(k, kl, "next")) {
                bool was = r->escaped;
                r->escaped = false;
                if (!str(r, false, &raw, &rl, NULL, NULL) || r->escaped ||
                    !cy_parse_u64((const char *)raw, rl, &out->next))
                    return false;
                r->escaped = was;
                has_next = true;
            } else if (!value(r, 1)) {
                return false;
            }
        } while (eat(r, ','));
    if (!eat(r, '}'))
        return false;
    ws(r);
    if (r->p != r->end || !has_more || !has_next)
        return false;
    for (size_t i = 0; i < out->n; i++)
        if (out->items[i].log_index >= out->next)
            return false;
    return true;
}

bool cy_pull_page_parse_fast(const char *body, size_t len, cy_pull_page *out)
{
    memset(out, 0, sizeof *out);
    if (len > CY_SYNC_PAGE_MAX)
        return false;
    /* every kept string and envelope comes from its own bytes of the page
     * and is no longer than they are with its NUL (a record_id's quotes
     * pay for its envelope's NUL): the page's length is enough; the
     * writers check it all the same */
    struct rd r = {(const unsigned char *)body, (const unsigned char *)body + len, NULL, 0,
                   len + 1, false};
    if (!(r.arena = cy_malloc(r.cap)))
        return false;
    out->arena = r.arena;
    if (fast(&r, out))
        return true;
    cy_pull_page_free(out);
    return false;
}

comity_err cy_pull_page_parse(const char *body, size_t len, cy_pull_page *out,
                              comity_error *err)
{
    if (cy_pull_page_parse_fast(body, len, out))
        return COMITY_OK;
    return cy_pull_page_parse_jansson(body, len, out, err);
}
