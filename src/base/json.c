/*
 * json.c: the strict zero-copy JSON reader declared in json.h.
 *
 * One pass over the input, no recursion (an explicit stack of open
 * containers, CY_JSON_MAX_DEPTH deep) and no allocation per token: tokens go
 * to the caller's inline array, then to one heap array grown by doubling up
 * to the token cap.  Strings are scanned 16 bytes at a time with SSE2 where
 * available (a byte table otherwise) until a quote, a backslash, a control
 * character or a non-ASCII byte; only those few bytes are looked at closely
 * (escapes and surrogate pairs decoded and checked, UTF-8 validated).
 *
 * Duplicate keys are checked when an object closes: pairwise for small
 * objects (the common case), by sorting the keys for large ones so that an
 * object with many members costs O(n log n), not O(n^2).  Keys are compared
 * as unescaped bytes, decoding escapes on the fly only when a key has any.
 *
 * With CY_JSON_REJECT_NUL and CY_JSON_INT64 the reader accepts exactly what
 * jansson (JSON_DECODE_ANY | JSON_REJECT_DUPLICATES) accepts, up to the
 * depth cap; fuzz/fuzz_json.c checks that.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "base/json.h"

#define INLINE_DUP_CHECK 16 /* objects up to this many members: pairwise */

/* 1 for bytes that end a run of plain string characters. */
static const uint8_t str_stop[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
};

/* Value of a hex digit, -1 for other bytes. */
static const int8_t hexval[256] = {
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
     0,  1,  2,  3,  4,  5,  6,  7,  8,  9, -1, -1, -1, -1, -1, -1,
    -1, 10, 11, 12, 13, 14, 15, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, 10, 11, 12, 13, 14, 15, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
};

void cy_json_init(cy_json *j, cy_json_tok *inline_toks, size_t n_inline,
                  size_t max_tokens, unsigned opts)
{
    memset(j, 0, sizeof *j);
    if (max_tokens == 0 || max_tokens > CY_JSON_MAX_TOKENS)
        max_tokens = CY_JSON_MAX_TOKENS;
    if (n_inline > max_tokens)
        n_inline = max_tokens;
    j->toks = inline_toks;
    j->cap = inline_toks ? (uint32_t)n_inline : 0;
    j->max_toks = (uint32_t)max_tokens;
    j->opts = opts;
}

void cy_json_free(cy_json *j)
{
    cy_free(j->heap);
    j->heap = NULL;
    j->toks = NULL;
    j->cap = j->ntoks = 0;
}

static comity_err grow(cy_json *j, comity_error *err)
{
    if (j->cap >= j->max_toks)
        return cy_fail(err, COMITY_ERR_TOOBIG, "more than %u values", j->max_toks);
    size_t n = j->cap < 32 ? 64 : (size_t)j->cap * 2;
    if (n > j->max_toks)
        n = j->max_toks;
    cy_json_tok *t;
    if (j->heap) {
        t = cy_realloc(j->heap, n * sizeof *t);
    } else {
        t = cy_malloc(n * sizeof *t);
        if (t && j->ntoks)
            memcpy(t, j->toks, j->ntoks * sizeof *t);
    }
    if (!t)
        return cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    j->heap = j->toks = t;
    j->cap = (uint32_t)n;
    return COMITY_OK;
}

/* ---- strings ----------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at p (n bytes available), 0 if none. */
static size_t utf8_seq(const uint8_t *p, size_t n)
{
    uint8_t c = p[0], lo = 0x80, hi = 0xbf;
    if (c < 0xc2)
        return 0; /* continuation byte or overlong 2-byte lead */
    if (c < 0xe0)
        return n >= 2 && (p[1] & 0xc0) == 0x80 ? 2 : 0;
    if (c < 0xf0) {
        if (c == 0xe0)
            lo = 0xa0; /* overlong */
        if (c == 0xed)
            hi = 0x9f; /* UTF-16 surrogates */
        return n >= 3 && p[1] >= lo && p[1] <= hi && (p[2] & 0xc0) == 0x80 ? 3 : 0;
    }
    if (c < 0xf5) {
        if (c == 0xf0)
            lo = 0x90; /* overlong */
        if (c == 0xf4)
            hi = 0x8f; /* above U+10FFFF */
        return n >= 4 && p[1] >= lo && p[1] <= hi && (p[2] & 0xc0) == 0x80 &&
                       (p[3] & 0xc0) == 0x80
                   ? 4
                   : 0;
    }
    return 0;
}

/* The value of 4 hex digits at p, or -1. */
static long hex4(const uint8_t *p)
{
    int a = hexval[p[0]], b = hexval[p[1]], c = hexval[p[2]], d = hexval[p[3]];
    if ((a | b | c | d) < 0)
        return -1;
    return (long)a << 12 | b << 8 | c << 4 | d;
}

/*
 * Scans a string whose opening quote is at s[q]; on success *end is the
 * index of the closing quote and *flags gets CY_JSON_F_ESCAPED if needed.
 */
static comity_err scan_string(const cy_json *j, size_t q, size_t *end, uint8_t *flags,
                              comity_error *err)
{
    const uint8_t *s = (const uint8_t *)j->text;
    size_t len = j->len, i = q + 1;
    for (;;) {
#if defined(__SSE2__)
        const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\'),
                      space = _mm_set1_epi8(0x20);
        while (i + 16 <= len) {
            __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
            /* signed compare: < 0x20 catches control bytes and 0x80..0xff */
            __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote),
                                                  _mm_cmpeq_epi8(v, bslash)),
                                     _mm_cmplt_epi8(v, space));
            unsigned bits = (unsigned)_mm_movemask_epi8(m);
            if (bits) {
                i += (size_t)__builtin_ctz(bits);
                goto stop;
            }
            i += 16;
        }
#endif
        while (i < len && !str_stop[s[i]])
            i++;
        if (i >= len)
            return cy_fail(err, COMITY_ERR_INVALID,
                           "expected '\"' to end the string begun at byte %zu, "
                           "found the end of input", q);
#if defined(__SSE2__)
    stop:
#endif
        if (s[i] == '"') {
            *end = i;
            return COMITY_OK;
        }
        if (s[i] == '\\') {
            *flags |= CY_JSON_F_ESCAPED;
            if (i + 1 >= len)
                return cy_fail(err, COMITY_ERR_INVALID,
                               "expected an escape after '\\' at byte %zu", i);
            switch (s[i + 1]) {
            case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
                i += 2;
                continue;
            case 'u':
                break;
            default:
                return cy_fail(err, COMITY_ERR_INVALID,
                               "expected one of \"\\/bfnrtu after '\\' at byte %zu", i);
            }
            long cp = i + 6 <= len ? hex4(s + i + 2) : -1;
            if (cp < 0)
                return cy_fail(err, COMITY_ERR_INVALID,
                               "expected 4 hex digits after '\\u' at byte %zu", i);
            if (cp == 0 && (j->opts & CY_JSON_REJECT_NUL))
                return cy_fail(err, COMITY_ERR_INVALID,
                               "\\u0000 (NUL) in a string at byte %zu", i);
            if (cp >= 0xdc00 && cp <= 0xdfff)
                return cy_fail(err, COMITY_ERR_INVALID,
                               "expected a high surrogate before the low surrogate "
                               "\\u%04lx at byte %zu", cp, i);
            if (cp >= 0xd800 && cp <= 0xdbff) {
                long lo = i + 12 <= len && s[i + 6] == '\\' && s[i + 7] == 'u'
                              ? hex4(s + i + 8)
                              : -1;
                if (lo < 0xdc00 || lo > 0xdfff)
                    return cy_fail(err, COMITY_ERR_INVALID,
                                   "expected a low surrogate '\\uDC00'..'\\uDFFF' after "
                                   "\\u%04lx at byte %zu", cp, i + 6);
                i += 12;
            } else {
                i += 6;
            }
            continue;
        }
        if (s[i] < 0x20)
            return cy_fail(err, COMITY_ERR_INVALID,
                           "control character 0x%02x in a string at byte %zu "
                           "(expected an escape)", s[i], i);
        size_t n = utf8_seq(s + i, len - i);
        if (n == 0)
            return cy_fail(err, COMITY_ERR_INVALID, "invalid UTF-8 at byte %zu", i);
        i += n;
    }
}

/* Unescaping reader over a validated string token. */
typedef struct ustream {
    const uint8_t *p, *e;
    uint8_t buf[4];
    unsigned bi, bn;
} ustream;

static void us_init(ustream *u, const cy_json *j, uint32_t t)
{
    u->p = (const uint8_t *)j->text + j->toks[t].start;
    u->e = (const uint8_t *)j->text + j->toks[t].end;
    u->bi = u->bn = 0;
}

/* Decodes the escape at u->p (already validated) into u->buf. */
static void us_escape(ustream *u)
{
    uint8_t c = u->p[1];
    u->bi = 0;
    u->bn = 1;
    switch (c) {
    case 'b': u->buf[0] = '\b'; u->p += 2; return;
    case 'f': u->buf[0] = '\f'; u->p += 2; return;
    case 'n': u->buf[0] = '\n'; u->p += 2; return;
    case 'r': u->buf[0] = '\r'; u->p += 2; return;
    case 't': u->buf[0] = '\t'; u->p += 2; return;
    case 'u': break;
    default: u->buf[0] = c; u->p += 2; return; /* " \ / */
    }
    unsigned long cp = (unsigned long)hex4(u->p + 2);
    u->p += 6;
    if (cp >= 0xd800 && cp <= 0xdbff) {
        cp = 0x10000 + ((cp - 0xd800) << 10) + ((unsigned long)hex4(u->p + 2) - 0xdc00);
        u->p += 6;
    }
    if (cp < 0x80) {
        u->buf[0] = (uint8_t)cp;
    } else if (cp < 0x800) {
        u->buf[0] = (uint8_t)(0xc0 | cp >> 6);
        u->buf[1] = (uint8_t)(0x80 | (cp & 0x3f));
        u->bn = 2;
    } else if (cp < 0x10000) {
        u->buf[0] = (uint8_t)(0xe0 | cp >> 12);
        u->buf[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
        u->buf[2] = (uint8_t)(0x80 | (cp & 0x3f));
        u->bn = 3;
    } else {
        u->buf[0] = (uint8_t)(0xf0 | cp >> 18);
        u->buf[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
        u->buf[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
        u->buf[3] = (uint8_t)(0x80 | (cp & 0x3f));
        u->bn = 4;
    }
}

/* The next unescaped byte, or -1 at the end. */
static int us_next(ustream *u)
{
    if (u->bi < u->bn)
        return u->buf[u->bi++];
    if (u->p >= u->e)
        return -1;
    if (*u->p != '\\')
        return *u->p++;
    us_escape(u);
    return u->buf[u->bi++];
}

/* Orders two string tokens by their unescaped bytes (memcmp order). */
static int key_cmp(const cy_json *j, uint32_t a, uint32_t b)
{
    const cy_json_tok *ta = &j->toks[a], *tb = &j->toks[b];
    if (!((ta->flags | tb->flags) & CY_JSON_F_ESCAPED)) {
        size_t la = ta->end - ta->start, lb = tb->end - tb->start;
        int c = memcmp(j->text + ta->start, j->text + tb->start, la < lb ? la : lb);
        return c ? c : (la > lb) - (la < lb);
    }
    ustream ua, ub;
    us_init(&ua, j, a);
    us_init(&ub, j, b);
    for (;;) {
        int x = us_next(&ua), y = us_next(&ub);
        if (x != y || x < 0)
            return x - y;
    }
}

bool cy_json_str_eq(const cy_json *j, uint32_t t, const char *s, size_t n)
{
    const cy_json_tok *k = &j->toks[t];
    if (k->type != CY_JSON_STRING)
        return false;
    if (!(k->flags & CY_JSON_F_ESCAPED))
        return k->end - k->start == n && memcmp(j->text + k->start, s, n) == 0;
    ustream u;
    us_init(&u, j, t);
    for (size_t i = 0; i < n; i++)
        if (us_next(&u) != (uint8_t)s[i])
            return false;
    return us_next(&u) < 0;
}

size_t cy_json_str_len(const cy_json *j, uint32_t t)
{
    const cy_json_tok *k = &j->toks[t];
    if (!(k->flags & CY_JSON_F_ESCAPED))
        return k->end - k->start;
    ustream u;
    us_init(&u, j, t);
    size_t n = 0;
    while (us_next(&u) >= 0)
        n++;
    return n;
}

size_t cy_json_unescape(const cy_json *j, uint32_t t, char *out, size_t cap)
{
    if (cap == 0)
        return 0;
    const cy_json_tok *k = &j->toks[t];
    size_t n = 0;
    if (!(k->flags & CY_JSON_F_ESCAPED)) {
        n = k->end - k->start;
        if (n > cap - 1) {
            n = cap - 1;
            /* do not cut a UTF-8 sequence */
            while (n > 0 && ((uint8_t)j->text[k->start + n] & 0xc0) == 0x80)
                n--;
        }
        memcpy(out, j->text + k->start, n);
        out[n] = 0;
        return n;
    }
    ustream u;
    us_init(&u, j, t);
    while (u.p < u.e) {
        if (*u.p != '\\') {
            size_t sl = *u.p < 0x80 ? 1 : utf8_seq(u.p, (size_t)(u.e - u.p));
            if (n + sl > cap - 1)
                break;
            memcpy(out + n, u.p, sl);
            u.p += sl;
            n += sl;
            continue;
        }
        const uint8_t *save = u.p;
        us_escape(&u);
        if (n + u.bn > cap - 1) {
            u.p = save;
            break;
        }
        memcpy(out + n, u.buf, u.bn);
        n += u.bn;
    }
    out[n] = 0;
    return n;
}

uint32_t cy_json_get(const cy_json *j, uint32_t obj, const char *key)
{
    const cy_json_tok *o = &j->toks[obj];
    if (o->type != CY_JSON_OBJECT)
        return 0;
    size_t kl = strlen(key);
    uint32_t k = obj + 1;
    for (uint32_t m = 0; m < o->size; m++, k = j->toks[k + 1].next)
        if (cy_json_str_eq(j, k, key, kl))
            return k + 1;
    return 0;
}

/* ---- duplicate keys ------------------------------------------------------ */

static comity_err dup_fail(const cy_json *j, uint32_t k, comity_error *err)
{
    const cy_json_tok *t = &j->toks[k];
    int n = (int)(t->end - t->start);
    return cy_fail(err, COMITY_ERR_INVALID, "duplicate key \"%.*s\"%s at byte %u",
                   n > 48 ? 48 : n, j->text + t->start, n > 48 ? "..." : "", t->start - 1);
}

/* Sorts idx[0..n) by key_cmp (bottom-up merge sort through tmp). */
static void sort_keys(const cy_json *j, uint32_t *idx, uint32_t *tmp, size_t n)
{
    for (size_t w = 1; w < n; w *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * w) {
            size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            size_t a = lo, b = mid, o = lo;
            while (a < mid && b < hi)
                tmp[o++] = key_cmp(j, idx[a], idx[b]) <= 0 ? idx[a++] : idx[b++];
            while (a < mid)
                tmp[o++] = idx[a++];
            while (b < hi)
                tmp[o++] = idx[b++];
        }
        memcpy(idx, tmp, n * sizeof *idx);
    }
}

static comity_err check_dups(const cy_json *j, uint32_t obj, comity_error *err)
{
    uint32_t n = j->toks[obj].size;
    if (n < 2)
        return COMITY_OK;
    if (n <= INLINE_DUP_CHECK) {
        uint32_t keys[INLINE_DUP_CHECK];
        uint32_t k = obj + 1;
        for (uint32_t m = 0; m < n; m++, k = j->toks[k + 1].next) {
            keys[m] = k;
            const cy_json_tok *tk = &j->toks[k];
            for (uint32_t p = 0; p < m; p++) {
                const cy_json_tok *tp = &j->toks[keys[p]];
                if (!((tk->flags | tp->flags) & CY_JSON_F_ESCAPED)) {
                    if (tk->end - tk->start == tp->end - tp->start &&
                        memcmp(j->text + tk->start, j->text + tp->start, tk->end - tk->start) == 0)
                        return dup_fail(j, k, err);
                } else if (key_cmp(j, k, keys[p]) == 0) {
                    return dup_fail(j, k, err);
                }
            }
        }
        return COMITY_OK;
    }
    uint32_t *idx = cy_malloc(2 * (size_t)n * sizeof *idx);
    if (!idx)
        return cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    uint32_t k = obj + 1;
    for (uint32_t m = 0; m < n; m++, k = j->toks[k + 1].next)
        idx[m] = k;
    sort_keys(j, idx, idx + n, n);
    comity_err rc = COMITY_OK;
    for (uint32_t m = 1; m < n && !rc; m++)
        if (key_cmp(j, idx[m - 1], idx[m]) == 0)
            rc = dup_fail(j, idx[m] > idx[m - 1] ? idx[m] : idx[m - 1], err);
    cy_free(idx);
    return rc;
}

/* ---- numbers ------------------------------------------------------------- */

/* Checks that the number s[st..e) is one jansson can hold: an integer within
 * int64, or a real that does not overflow a double. */
static comity_err number_fits(const cy_json *j, size_t st, size_t e, size_t int_digits,
                              bool real, long long exp10, comity_error *err)
{
    const char *s = j->text;
    bool neg = s[st] == '-';
    if (!real) {
        if (int_digits < 19)
            return COMITY_OK;
        const char *lim = neg ? "9223372036854775808" : "9223372036854775807";
        if (int_digits == 19 && memcmp(s + st + neg, lim, 19) <= 0)
            return COMITY_OK;
        return cy_fail(err, COMITY_ERR_INVALID,
                       "integer at byte %zu does not fit in 64 bits", st);
    }
    /* |value| < 10^(int_digits + exp10) <= 10^308 < DBL_MAX: cannot overflow */
    if ((long long)int_digits + exp10 <= 308)
        return COMITY_OK;
    char small[128], *buf = small;
    size_t n = e - st;
    if (n >= sizeof small && !(buf = cy_malloc(n + 1)))
        return cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    memcpy(buf, s + st, n);
    buf[n] = 0;
    errno = 0;
    double v = strtod(buf, NULL);
    bool over = errno == ERANGE && (v > 1.0 || v < -1.0);
    if (buf != small)
        cy_free(buf);
    if (over)
        return cy_fail(err, COMITY_ERR_INVALID,
                       "number at byte %zu is too large for a double", st);
    return COMITY_OK;
}

/* Scans the number at s[*ip]; leaves *ip just past it. */
static comity_err scan_number(const cy_json *j, size_t *ip, comity_error *err)
{
    const uint8_t *s = (const uint8_t *)j->text;
    size_t len = j->len, st = *ip, i = st;
    if (s[i] == '-')
        i++;
    size_t ds = i;
    if (i < len && s[i] == '0') {
        i++;
    } else if (i < len && s[i] >= '1' && s[i] <= '9') {
        do
            i++;
        while (i < len && s[i] >= '0' && s[i] <= '9');
    } else {
        return cy_fail(err, COMITY_ERR_INVALID, "expected a digit at byte %zu", i);
    }
    size_t int_digits = i - ds;
    bool real = false;
    long long exp10 = 0;
    if (i < len && s[i] == '.') {
        real = true;
        i++;
        if (i >= len || s[i] < '0' || s[i] > '9')
            return cy_fail(err, COMITY_ERR_INVALID,
                           "expected a digit after '.' at byte %zu", i);
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++;
    }
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        real = true;
        i++;
        bool eneg = false;
        if (i < len && (s[i] == '+' || s[i] == '-'))
            eneg = s[i++] == '-';
        if (i >= len || s[i] < '0' || s[i] > '9')
            return cy_fail(err, COMITY_ERR_INVALID,
                           "expected a digit in the exponent at byte %zu", i);
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            if (exp10 < 100000000)
                exp10 = exp10 * 10 + (s[i] - '0');
            i++;
        }
        if (eneg)
            exp10 = -exp10;
    }
    *ip = i;
    if (j->opts & CY_JSON_INT64)
        return number_fits(j, st, i, int_digits, real, exp10, err);
    return COMITY_OK;
}

/* ---- the parser ---------------------------------------------------------- */

static inline size_t skip_ws(const uint8_t *s, size_t len, size_t i)
{
    while (i < len && (s[i] == ' ' || s[i] == '\n' || s[i] == '\r' || s[i] == '\t'))
        i++;
    return i;
}

static comity_err expected(const cy_json *j, const char *what, size_t i, comity_error *err)
{
    if (i >= j->len)
        return cy_fail(err, COMITY_ERR_INVALID, "expected %s at byte %zu, found the end",
                       what, i);
    uint8_t c = (uint8_t)j->text[i];
    if (c > 0x20 && c < 0x7f)
        return cy_fail(err, COMITY_ERR_INVALID, "expected %s at byte %zu, found '%c'",
                       what, i, c);
    return cy_fail(err, COMITY_ERR_INVALID, "expected %s at byte %zu, found byte 0x%02x",
                   what, i, c);
}

comity_err cy_json_parse(cy_json *j, const char *text, size_t len, comity_error *err)
{
    j->text = text;
    j->len = len;
    j->ntoks = 0;
    if (len > CY_JSON_MAX_LEN)
        return cy_fail(err, COMITY_ERR_TOOBIG, "%zu bytes, over the cap of %u", len,
                       CY_JSON_MAX_LEN);
    const uint8_t *s = (const uint8_t *)text;
    uint32_t stack[CY_JSON_MAX_DEPTH];
    unsigned depth = 0;
    size_t i = 0, w;
    uint32_t t, top = 0;
    comity_err rc;

value:
    w = skip_ws(s, len, i);
    if (w != i && depth)
        j->toks[top].flags |= CY_JSON_F_SPACE;
    i = w;
    if (i >= len)
        return expected(j, "a value", i, err);
    if (depth && j->toks[top].type == CY_JSON_ARRAY)
        j->toks[top].size++;
    if (j->ntoks == j->cap && (rc = grow(j, err)))
        return rc;
    t = j->ntoks++;
    j->toks[t].start = (uint32_t)i;
    j->toks[t].size = 0;
    j->toks[t].flags = 0;
    switch (s[i]) {
    case '{':
    case '[':
        if (depth == CY_JSON_MAX_DEPTH)
            /* a shape this reader does not take, not a size: INVALID
             * (a record nested too deep is a bad payload, 422, not 413) */
            return cy_fail(err, COMITY_ERR_INVALID, "nested deeper than %d at byte %zu",
                           CY_JSON_MAX_DEPTH, i);
        j->toks[t].type = s[i] == '{' ? CY_JSON_OBJECT : CY_JSON_ARRAY;
        stack[depth++] = top = t;
        w = skip_ws(s, len, i + 1);
        if (w != i + 1)
            j->toks[t].flags |= CY_JSON_F_SPACE;
        i = w;
        if (i < len && s[i] == (j->toks[t].type == CY_JSON_OBJECT ? '}' : ']'))
            goto close;
        if (j->toks[t].type == CY_JSON_OBJECT)
            goto key;
        goto value;
    case '"':
        j->toks[t].type = CY_JSON_STRING;
        j->toks[t].start = (uint32_t)i + 1;
        if ((rc = scan_string(j, i, &w, &j->toks[t].flags, err)))
            return rc;
        j->toks[t].end = (uint32_t)w;
        i = w + 1;
        break;
    case 't':
        if (len - i < 4 || memcmp(s + i, "true", 4) != 0)
            return expected(j, "a value", i, err);
        j->toks[t].type = CY_JSON_TRUE;
        i += 4;
        j->toks[t].end = (uint32_t)i;
        break;
    case 'f':
        if (len - i < 5 || memcmp(s + i, "false", 5) != 0)
            return expected(j, "a value", i, err);
        j->toks[t].type = CY_JSON_FALSE;
        i += 5;
        j->toks[t].end = (uint32_t)i;
        break;
    case 'n':
        if (len - i < 4 || memcmp(s + i, "null", 4) != 0)
            return expected(j, "a value", i, err);
        j->toks[t].type = CY_JSON_NULL;
        i += 4;
        j->toks[t].end = (uint32_t)i;
        break;
    case '-': case '0': case '1': case '2': case '3': case '4':
    case '5': case '6': case '7': case '8': case '9':
        j->toks[t].type = CY_JSON_NUMBER;
        if ((rc = scan_number(j, &i, err)))
            return rc;
        j->toks[t].end = (uint32_t)i;
        break;
    default:
        return expected(j, "a value", i, err);
    }
    j->toks[t].next = j->ntoks;

after:
    w = skip_ws(s, len, i);
    if (w != i && depth)
        j->toks[top].flags |= CY_JSON_F_SPACE;
    i = w;
    if (depth == 0) {
        if (i != len)
            return expected(j, "the end of input", i, err);
        return COMITY_OK;
    }
    if (i < len && s[i] == ',') {
        i++;
        if (j->toks[top].type == CY_JSON_OBJECT)
            goto key;
        goto value;
    }
    if (i < len && s[i] == (j->toks[top].type == CY_JSON_OBJECT ? '}' : ']'))
        goto close;
    return expected(j, j->toks[top].type == CY_JSON_OBJECT ? "',' or '}'" : "',' or ']'",
                    i, err);

close: /* s[i] closes the container `top` */
    t = top;
    j->toks[t].end = (uint32_t)i + 1;
    j->toks[t].next = j->ntoks;
    i++;
    depth--;
    if (j->toks[t].type == CY_JSON_OBJECT && (rc = check_dups(j, t, err)))
        return rc;
    if (depth) {
        top = stack[depth - 1];
        j->toks[top].flags |= j->toks[t].flags & CY_JSON_F_SPACE;
    }
    goto after;

key:
    w = skip_ws(s, len, i);
    if (w != i)
        j->toks[top].flags |= CY_JSON_F_SPACE;
    i = w;
    if (i >= len || s[i] != '"')
        return expected(j, "a string key", i, err);
    j->toks[top].size++;
    if (j->ntoks == j->cap && (rc = grow(j, err)))
        return rc;
    t = j->ntoks++;
    j->toks[t].type = CY_JSON_STRING;
    j->toks[t].start = (uint32_t)i + 1;
    j->toks[t].size = 0;
    j->toks[t].flags = 0;
    if ((rc = scan_string(j, i, &w, &j->toks[t].flags, err)))
        return rc;
    j->toks[t].end = (uint32_t)w;
    j->toks[t].next = j->ntoks;
    i = skip_ws(s, len, w + 1);
    if (i != w + 1)
        j->toks[top].flags |= CY_JSON_F_SPACE;
    if (i >= len || s[i] != ':')
        return expected(j, "':'", i, err);
    i++;
    goto value;
}
