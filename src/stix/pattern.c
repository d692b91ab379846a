/*
 * pattern.c: the STIX 2.1 pattern parser: a lexer and a hand-written
 * recursive-descent parser that builds the tree described in pattern.h.
 *
 * Input is untrusted (it comes from other parties' indicators), so the text
 * is capped at CY_PATTERN_MAX bytes, must be UTF-8 without NUL bytes, and
 * nesting is capped at CY_PATTERN_MAX_DEPTH, which also bounds the recursion
 * of the parser (every recursive step consumes a '(' or '[').  The first
 * error stops the parse; its message names the byte offset and what was
 * expected there.
 *
 * Lexing follows the grammar's tokens (STIXPattern.g4): keywords are upper
 * case (true/false lower case) and whole words; identifiers may contain '-'
 * but only object types may use such identifiers; numbers have no leading
 * zeros and no exponent; h'..', b'..' and t'..' are literals only when the
 * quote follows the letter immediately; whitespace includes the Unicode
 * spaces the grammar lists; comments are C style.
 *
 * Every node is allocated from one arena per pattern (cy_arena):
 * a list of chunks released together by cy_pattern_free.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stix/pattern.h"

/* The pattern's arena: every node, string and byte array of the tree. */
static void arena_free(cy_arena *a)
{
    if (a) {
        cy_arena_free(a);
        cy_free(a);
    }
}

void cy_pattern_free(cy_pattern *p)
{
    if (!p)
        return;
    /* p itself lives in its own arena */
    arena_free(p->arena);
}

/* ---- tokens ---------------------------------------------------------- */

enum tok {
    T_ERROR = 0,
    T_EOF,
    T_LBRACK, T_RBRACK, T_LPAREN, T_RPAREN, T_COLON, T_COMMA, T_DOT, T_STAR,
    T_EQ, T_NEQ, T_LT, T_LE, T_GT, T_GE,
    T_IDENT, T_STRING, T_INT, T_FLOAT, T_BOOL, T_HEX, T_BINARY, T_TIMESTAMP,
    /* keywords */
    T_AND, T_OR, T_NOT, T_FOLLOWEDBY, T_LIKE, T_MATCHES, T_ISSUPERSET,
    T_ISSUBSET, T_EXISTS, T_LAST, T_IN, T_START, T_STOP, T_SECONDS, T_WITHIN,
    T_REPEATS, T_TIMES
};

static const struct {
    const char *word;
    enum tok tok;
} keywords[] = {
    {"AND", T_AND},         {"OR", T_OR},           {"NOT", T_NOT},
    {"FOLLOWEDBY", T_FOLLOWEDBY}, {"LIKE", T_LIKE}, {"MATCHES", T_MATCHES},
    {"ISSUPERSET", T_ISSUPERSET}, {"ISSUBSET", T_ISSUBSET},
    {"EXISTS", T_EXISTS},   {"LAST", T_LAST},       {"IN", T_IN},
    {"START", T_START},     {"STOP", T_STOP},       {"SECONDS", T_SECONDS},
    {"WITHIN", T_WITHIN},   {"REPEATS", T_REPEATS}, {"TIMES", T_TIMES},
};

struct token {
    enum tok kind;
    size_t start, end; /* byte span in the text */
    bool hyphen;       /* IDENT contains '-' */
    int64_t i;         /* INT value, BOOL 0/1, TIMESTAMP ms */
    double f;          /* FLOAT value */
};

struct parser {
    const char *s;
    size_t n;
    size_t pos; /* lexer position (after cur) */
    struct token cur;
    int depth;
    bool failed;
    size_t err_at;
    comity_err code;
    comity_error *err;
    cy_arena *arena;
    size_t ncmps, nleaves;
};

/* Records the first error: "pattern: <what> at byte N". */
static void fail_at(struct parser *P, size_t at, const char *fmt, ...)
    CY_PRINTF(3, 4);
static void fail_at(struct parser *P, size_t at, const char *fmt, ...)
{
    if (P->failed)
        return;
    P->failed = true;
    P->err_at = at;
    P->code = COMITY_ERR_INVALID;
    char what[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    cy_fail(P->err, COMITY_ERR_INVALID, "pattern: %s at byte %zu", what, at);
}

static void fail_nomem(struct parser *P)
{
    if (P->failed)
        return;
    P->failed = true;
    P->err_at = P->cur.start;
    P->code = COMITY_ERR_NOMEM;
    cy_fail(P->err, COMITY_ERR_NOMEM, "pattern: out of memory");
}

static void *alloc(struct parser *P, size_t n)
{
    void *p = cy_arena_calloc(P->arena, n);
    if (!p)
        fail_nomem(P);
    return p;
}

/* ---- lexer ----------------------------------------------------------- */

static bool is_alpha(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_digit(int c) { return c >= '0' && c <= '9'; }

static bool is_hex(int c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool is_b64(int c)
{
    return is_alpha(c) ? c != '_' : (is_digit(c) || c == '+' || c == '/');
}

/* Length of the whitespace character at s[i], or 0.  Covers the grammar's
 * WS set: ASCII space, \t \r \n \v \f and the Unicode spaces U+0085,
 * U+00A0, U+1680, U+2000..U+200A, U+2028, U+2029, U+202F, U+205F, U+3000. */
static size_t space_len(const unsigned char *s, size_t i, size_t n)
{
    unsigned c = s[i];
    if (c == ' ' || (c >= '\t' && c <= '\r'))
        return 1;
    if (c == 0xC2 && i + 1 < n && (s[i + 1] == 0x85 || s[i + 1] == 0xA0))
        return 2;
    if (i + 2 >= n)
        return 0;
    unsigned c1 = s[i + 1], c2 = s[i + 2];
    if (c == 0xE1 && c1 == 0x9A && c2 == 0x80)
        return 3;
    if (c == 0xE2 && c1 == 0x80 &&
        ((c2 >= 0x80 && c2 <= 0x8A) || c2 == 0xA8 || c2 == 0xA9 || c2 == 0xAF))
        return 3;
    if (c == 0xE2 && c1 == 0x81 && c2 == 0x9F)
        return 3;
    if (c == 0xE3 && c1 == 0x80 && c2 == 0x80)
        return 3;
    return 0;
}

/* Skips whitespace and comments; false (with an error) on an unclosed one. */
static bool skip_blank(struct parser *P)
{
    const unsigned char *s = (const unsigned char *)P->s;
    for (;;) {
        if (P->pos >= P->n)
            return true;
        size_t w = space_len(s, P->pos, P->n);
        if (w) {
            P->pos += w;
            continue;
        }
        if (s[P->pos] == '/' && P->pos + 1 < P->n && s[P->pos + 1] == '*') {
            size_t start = P->pos;
            P->pos += 2;
            for (;;) {
                if (P->pos + 1 >= P->n) {
                    fail_at(P, start, "unclosed comment");
                    return false;
                }
                if (s[P->pos] == '*' && s[P->pos + 1] == '/') {
                    P->pos += 2;
                    break;
                }
                P->pos++;
            }
            continue;
        }
        if (s[P->pos] == '/' && P->pos + 1 < P->n && s[P->pos + 1] == '/') {
            while (P->pos < P->n && s[P->pos] != '\n' && s[P->pos] != '\r')
                P->pos++;
            continue;
        }
        return true;
    }
}

/* Scans a quoted string starting at s[i] == '\''; returns the index after
 * the closing quote, or 0 with an error. */
static size_t scan_string(struct parser *P, size_t i)
{
    size_t start = i++;
    while (i < P->n) {
        char c = P->s[i];
        if (c == '\'')
            return i + 1;
        if (c == '\\') {
            if (i + 1 >= P->n)
                break;
            char e = P->s[i + 1];
            if (e != '\'' && e != '\\') {
                fail_at(P, i, "bad escape '\\%c' in string (only \\' and \\\\)",
                        (e > 32 && e < 127) ? e : '?');
                return 0;
            }
            i += 2;
            continue;
        }
        i++;
    }
    fail_at(P, start, "unclosed string");
    return 0;
}

/* Checks the grammar's timestamp shape (YYYY-MM-DDTHH:MM:SS[.frac]Z) of the
 * text between the quotes, then the calendar (via cy_time_parse). */
static bool check_timestamp(struct parser *P, size_t at, const char *t,
                            size_t len, int64_t *ms)
{
    static const char shape[] = "dddd-dd-ddTdd:dd:dd";
    bool ok = len >= 20;
    for (size_t k = 0; ok && k < 19; k++)
        ok = shape[k] == 'd' ? is_digit((unsigned char)t[k]) : t[k] == shape[k];
    size_t k = 19;
    if (ok && t[k] == '.') {
        k++;
        size_t d0 = k;
        while (k < len && is_digit((unsigned char)t[k]))
            k++;
        ok = k > d0;
    }
    ok = ok && k + 1 == len && t[k] == 'Z';
    if (ok) {
        /* hour, minute and second ranges as the grammar writes them */
        int hh = (t[11] - '0') * 10 + (t[12] - '0');
        int mi = (t[14] - '0') * 10 + (t[15] - '0');
        int se = (t[17] - '0') * 10 + (t[18] - '0');
        ok = hh <= 23 && mi <= 59 && se <= 60;
    }
    if (ok && cy_time_parse(t, len, false, ms, NULL) != COMITY_OK)
        ok = false;
    if (!ok)
        fail_at(P, at, "bad timestamp (want t'YYYY-MM-DDTHH:MM:SS[.s]Z', a real date)");
    return ok;
}

/* Reads the next token into P->cur. */
static void next(struct parser *P)
{
    struct token *t = &P->cur;
    memset(t, 0, sizeof *t);
    if (P->failed || !skip_blank(P)) {
        t->kind = T_ERROR;
        return;
    }
    t->start = P->pos;
    if (P->pos >= P->n) {
        t->kind = T_EOF;
        t->end = P->pos;
        return;
    }
    const char *s = P->s;
    size_t i = P->pos;
    unsigned char c = (unsigned char)s[i];
    enum tok k = T_ERROR;
    size_t end = i + 1;
    switch (c) {
    case '[': k = T_LBRACK; break;
    case ']': k = T_RBRACK; break;
    case '(': k = T_LPAREN; break;
    case ')': k = T_RPAREN; break;
    case ':': k = T_COLON; break;
    case ',': k = T_COMMA; break;
    case '*': k = T_STAR; break;
    case '=':
        k = T_EQ;
        if (i + 1 < P->n && s[i + 1] == '=')
            end++;
        break;
    case '!':
        if (i + 1 < P->n && s[i + 1] == '=') {
            k = T_NEQ;
            end++;
        }
        break;
    case '<':
        k = T_LT;
        if (i + 1 < P->n && s[i + 1] == '=') {
            k = T_LE;
            end++;
        } else if (i + 1 < P->n && s[i + 1] == '>') {
            k = T_NEQ;
            end++;
        }
        break;
    case '>':
        k = T_GT;
        if (i + 1 < P->n && s[i + 1] == '=') {
            k = T_GE;
            end++;
        }
        break;
    case '\'':
        end = scan_string(P, i);
        if (!end) {
            t->kind = T_ERROR;
            return;
        }
        k = T_STRING;
        break;
    default:
        break;
    }
    if (k == T_ERROR && c == '.' &&
        !(i + 1 < P->n && is_digit((unsigned char)s[i + 1])))
        k = T_DOT;
    if (k == T_ERROR && (is_digit(c) || c == '+' || c == '-' || c == '.')) {
        /* [+-]? ('0' | [1-9][0-9]*)   or   [+-]? [0-9]* '.' [0-9]+ */
        size_t j = i;
        if (c == '+' || c == '-')
            j++;
        size_t d0 = j;
        while (j < P->n && is_digit((unsigned char)s[j]))
            j++;
        size_t int_digits = j - d0;
        bool is_float = false;
        if (j + 1 < P->n && s[j] == '.' && is_digit((unsigned char)s[j + 1])) {
            is_float = true;
            j++;
            while (j < P->n && is_digit((unsigned char)s[j]))
                j++;
        }
        if (!is_float && int_digits == 0) {
            fail_at(P, i, "expected a number after '%c'", c);
            t->kind = T_ERROR;
            return;
        }
        if (!is_float && int_digits > 1 && s[d0] == '0') {
            fail_at(P, i, "integer with a leading zero");
            t->kind = T_ERROR;
            return;
        }
        /* no integer fits in 64 chars (int64 has 19 digits and no leading
         * zeros); a float may be longer and is converted from a heap copy */
        if (!is_float && j - i >= 64) {
            fail_at(P, i, "integer out of range");
            t->kind = T_ERROR;
            return;
        }
        char small[64], *num = small;
        if (j - i >= sizeof small) {
            num = cy_strndup(s + i, j - i);
            if (!num) {
                fail_nomem(P);
                t->kind = T_ERROR;
                return;
            }
        } else {
            memcpy(small, s + i, j - i);
            small[j - i] = 0;
        }
        errno = 0;
        if (is_float) {
            t->f = strtod(num, NULL); /* huge values become inf: harmless */
            k = T_FLOAT;
        } else {
            long long v = strtoll(num, NULL, 10);
            t->i = v;
            t->f = (double)v;
            k = T_INT;
        }
        bool range = errno == ERANGE && !is_float;
        if (num != small)
            cy_free(num);
        if (range) {
            fail_at(P, i, "integer out of range");
            t->kind = T_ERROR;
            return;
        }
        end = j;
    }
    if (k == T_ERROR && (c == 'h' || c == 'b' || c == 't') && i + 1 < P->n &&
        s[i + 1] == '\'') {
        size_t q = i + 2, j = q;
        while (j < P->n && s[j] != '\'')
            j++;
        if (j >= P->n) {
            fail_at(P, i, "unclosed %c'' literal", c);
            t->kind = T_ERROR;
            return;
        }
        size_t len = j - q;
        end = j + 1;
        if (c == 'h') {
            for (size_t x = q; x < j; x++)
                if (!is_hex((unsigned char)s[x])) {
                    fail_at(P, x, "bad hex literal: not a hex digit");
                    t->kind = T_ERROR;
                    return;
                }
            if (len % 2) {
                fail_at(P, i, "bad hex literal: odd number of digits");
                t->kind = T_ERROR;
                return;
            }
            k = T_HEX;
        } else if (c == 'b') {
            bool ok = len >= 4 && len % 4 == 0;
            for (size_t x = q; ok && x < j; x++) {
                unsigned char ch = (unsigned char)s[x];
                bool pad_ok = ch == '=' && (x == j - 1 || (x == j - 2 && s[j - 1] == '='));
                ok = is_b64(ch) || pad_ok;
            }
            if (ok) {
                /* canonical: no bits set past the data (strict decoder) */
                uint8_t tmp[3];
                size_t got;
                ok = cy_b64_decode(tmp, sizeof tmp, &got, s + j - 4, 4,
                                   CY_B64_STD, NULL) == COMITY_OK;
            }
            if (!ok) {
                fail_at(P, i, "bad binary literal (want b'<padded base64>')");
                t->kind = T_ERROR;
                return;
            }
            k = T_BINARY;
        } else {
            if (!check_timestamp(P, i, s + q, len, &t->i)) {
                t->kind = T_ERROR;
                return;
            }
            k = T_TIMESTAMP;
        }
    }
    if (k == T_ERROR && is_alpha(c)) {
        size_t j = i + 1;
        bool hy = false;
        while (j < P->n && (is_alpha((unsigned char)s[j]) ||
                            is_digit((unsigned char)s[j]) || s[j] == '-')) {
            if (s[j] == '-')
                hy = true;
            j++;
        }
        k = T_IDENT;
        t->hyphen = hy;
        size_t len = j - i;
        if (!hy) {
            for (size_t w = 0; w < CY_ARRAY_LEN(keywords); w++)
                if (strlen(keywords[w].word) == len &&
                    memcmp(keywords[w].word, s + i, len) == 0)
                    k = keywords[w].tok;
            if (len == 4 && memcmp(s + i, "true", 4) == 0) {
                k = T_BOOL;
                t->i = 1;
            } else if (len == 5 && memcmp(s + i, "false", 5) == 0) {
                k = T_BOOL;
                t->i = 0;
            }
        }
        end = j;
    }
    if (k == T_ERROR) {
        if (c >= 0x21 && c < 0x7f)
            fail_at(P, i, "unexpected character '%c'", c);
        else
            fail_at(P, i, "unexpected character 0x%02x", c);
        t->kind = T_ERROR;
        return;
    }
    t->kind = k;
    t->end = end;
    P->pos = end;
}

/* A short quote of the current token for messages. */
static void describe(const struct parser *P, char *out, size_t cap)
{
    const struct token *t = &P->cur;
    if (t->kind == T_EOF) {
        snprintf(out, cap, "end of pattern");
        return;
    }
    size_t len = t->end - t->start, show = len > 24 ? 24 : len;
    /* cut on a character boundary: messages stay valid UTF-8 (they end up
     * in JSON reports) */
    while (show < len && show > 0 &&
           ((unsigned char)P->s[t->start + show] & 0xC0) == 0x80)
        show--;
    snprintf(out, cap, "'%.*s%s'", (int)show, P->s + t->start,
             show < len ? "..." : "");
    for (char *p = out; *p; p++)
        if ((unsigned char)*p < 0x20)
            *p = ' ';
}

static void expected(struct parser *P, const char *what)
{
    if (P->failed)
        return;
    char found[40];
    describe(P, found, sizeof found);
    fail_at(P, P->cur.start, "expected %s, found %s", what, found);
}

static bool accept(struct parser *P, enum tok k)
{
    if (P->cur.kind != k)
        return false;
    next(P);
    return true;
}

static bool expect(struct parser *P, enum tok k, const char *what)
{
    if (accept(P, k))
        return true;
    expected(P, what);
    return false;
}

static bool enter(struct parser *P)
{
    if (++P->depth > CY_PATTERN_MAX_DEPTH) {
        fail_at(P, P->cur.start, "nested too deep (more than %d levels)",
                CY_PATTERN_MAX_DEPTH);
        return false;
    }
    return true;
}

/* ---- building blocks ------------------------------------------------- */

/* Copies text into the arena as a NUL-terminated string. */
static char *dup_text(struct parser *P, const char *s, size_t len)
{
    char *d = alloc(P, len + 1);
    if (d && len)
        memcpy(d, s, len);
    return d;
}

/* Unescapes the current STRING token into the arena. */
static char *string_value(struct parser *P, size_t *len)
{
    const char *s = P->s + P->cur.start + 1;
    size_t n = P->cur.end - P->cur.start - 2;
    char *d = alloc(P, n + 1);
    if (!d)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\\')
            i++;
        d[o++] = s[i];
    }
    d[o] = 0;
    *len = o;
    return d;
}

/* A growable array of pointers, built in the arena (a grown array leaves
 * its old copy behind; the waste is bounded by the pattern size cap). */
struct vec {
    const void **v;
    size_t n, cap;
};

static bool vec_push(struct parser *P, struct vec *a, const void *p)
{
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 4;
        const void **v = alloc(P, cap * sizeof *v);
        if (!v)
            return false;
        if (a->n)
            memcpy(v, a->v, a->n * sizeof *v);
        a->v = v;
        a->cap = cap;
    }
    a->v[a->n++] = p;
    return true;
}

/* ---- literals -------------------------------------------------------- */

enum lit_class { LIT_PRIMITIVE, LIT_ORDERABLE, LIT_STRING_ONLY };

static bool is_lit_token(enum tok k)
{
    return k == T_STRING || k == T_INT || k == T_FLOAT || k == T_BOOL ||
           k == T_HEX || k == T_BINARY || k == T_TIMESTAMP;
}

/* Parses the current token as a literal into *l. */
static bool literal(struct parser *P, cy_pat_lit *l, enum lit_class cls)
{
    const struct token *t = &P->cur;
    const char *want = cls == LIT_STRING_ONLY ? "a string literal"
                       : cls == LIT_ORDERABLE ? "a literal (not a boolean)"
                                              : "a literal";
    if (!is_lit_token(t->kind) || (cls == LIT_ORDERABLE && t->kind == T_BOOL) ||
        (cls == LIT_STRING_ONLY && t->kind != T_STRING)) {
        expected(P, want);
        return false;
    }
    memset(l, 0, sizeof *l);
    l->pos = t->start;
    /* for h'..', b'..' and t'..': the text between the quotes */
    bool prefixed = t->kind == T_HEX || t->kind == T_BINARY || t->kind == T_TIMESTAMP;
    const char *body = prefixed ? P->s + t->start + 2 : NULL;
    size_t blen = prefixed ? t->end - t->start - 3 : 0;
    switch (t->kind) {
    case T_STRING:
        l->kind = CY_LIT_STRING;
        l->s = string_value(P, &l->len);
        if (!l->s)
            return false;
        break;
    case T_INT:
        l->kind = CY_LIT_INT;
        l->i = t->i;
        l->f = t->f;
        break;
    case T_FLOAT: {
        l->kind = CY_LIT_FLOAT;
        l->f = t->f;
        size_t a = t->start + (P->s[t->start] == '+');
        l->len = t->end - a;
        l->s = dup_text(P, P->s + a, l->len);
        if (!l->s)
            return false;
        break;
    }
    case T_BOOL:
        l->kind = CY_LIT_BOOL;
        l->i = t->i;
        break;
    case T_HEX: {
        l->kind = CY_LIT_HEX;
        l->len = blen / 2;
        uint8_t *b = alloc(P, l->len + 1);
        if (!b)
            return false;
        if (cy_hex_decode(b, l->len, body, blen, NULL) != COMITY_OK) {
            fail_at(P, t->start, "bad hex literal");
            return false;
        }
        l->bytes = b;
        break;
    }
    case T_BINARY: {
        l->kind = CY_LIT_BINARY;
        size_t cap = blen / 4 * 3;
        uint8_t *b = alloc(P, cap + 1);
        if (!b)
            return false;
        if (cy_b64_decode(b, cap, &l->len, body, blen, CY_B64_STD, NULL) !=
            COMITY_OK) {
            fail_at(P, t->start, "bad binary literal (want b'<padded base64>')");
            return false;
        }
        l->bytes = b;
        break;
    }
    case T_TIMESTAMP:
        l->kind = CY_LIT_TIMESTAMP;
        l->i = t->i;
        l->len = blen;
        l->s = dup_text(P, body, blen);
        if (!l->s)
            return false;
        break;
    default:
        return false;
    }
    next(P);
    return !P->failed;
}

/* ---- object paths ---------------------------------------------------- */

static bool path_key(struct parser *P, cy_pat_step *st, bool first)
{
    st->kind = CY_STEP_KEY;
    if (P->cur.kind == T_STRING) {
        st->key = string_value(P, &st->key_len);
        st->quoted = true;
        if (!st->key)
            return false;
        next(P);
        return true;
    }
    if (P->cur.kind == T_IDENT && !P->cur.hyphen) {
        st->key_len = P->cur.end - P->cur.start;
        st->key = dup_text(P, P->s + P->cur.start, st->key_len);
        if (!st->key)
            return false;
        next(P);
        return true;
    }
    if (P->cur.kind == T_IDENT) {
        fail_at(P, P->cur.start,
                "property name with '-' must be quoted ('%.*s')",
                (int)(P->cur.end - P->cur.start > 40 ? 40 : P->cur.end - P->cur.start),
                P->s + P->cur.start);
        return false;
    }
    expected(P, first ? "a property name after ':'" : "a property name after '.'");
    return false;
}

static bool object_path(struct parser *P, cy_pat_path *path)
{
    path->pos = P->cur.start;
    if (P->cur.kind != T_IDENT) {
        expected(P, "an object path (type:property)");
        return false;
    }
    path->type_len = P->cur.end - P->cur.start;
    path->type = dup_text(P, P->s + P->cur.start, path->type_len);
    if (!path->type)
        return false;
    next(P);
    if (!expect(P, T_COLON, "':' after the object type"))
        return false;
    /* collect steps in a temporary array, then copy into the arena */
    size_t n = 0, cap = 4;
    cy_pat_step *steps = alloc(P, cap * sizeof *steps);
    if (!steps || !path_key(P, &steps[n++], true))
        return false;
    for (;;) {
        cy_pat_step st = {0};
        if (P->cur.kind == T_DOT) {
            next(P);
            if (!path_key(P, &st, false))
                return false;
        } else if (P->cur.kind == T_LBRACK) {
            next(P);
            if (P->cur.kind == T_STAR) {
                st.kind = CY_STEP_ANY;
            } else if (P->cur.kind == T_INT) {
                st.kind = CY_STEP_INDEX;
                st.index = P->cur.i;
            } else {
                expected(P, "an index or '*' inside '[ ]'");
                return false;
            }
            next(P);
            if (!expect(P, T_RBRACK, "']' after the index"))
                return false;
        } else {
            break;
        }
        if (n == cap) {
            cy_pat_step *grown = alloc(P, cap * 2 * sizeof *grown);
            if (!grown)
                return false;
            memcpy(grown, steps, n * sizeof *steps);
            steps = grown;
            cap *= 2;
        }
        steps[n++] = st;
    }
    path->steps = steps;
    path->nsteps = n;
    return !P->failed;
}

/* ---- comparison expressions ----------------------------------------- */

static const cy_pat_cexpr *cexpr_or(struct parser *P);

static const cy_pat_cexpr *make_cmp_node(struct parser *P, cy_pat_cmp *cmp)
{
    cy_pat_cexpr *c = alloc(P, sizeof *c);
    if (!c)
        return NULL;
    c->kind = CY_CEXPR_CMP;
    c->cmp = cmp;
    P->ncmps++;
    return c;
}

static const cy_pat_cexpr *prop_test(struct parser *P)
{
    if (P->cur.kind == T_LPAREN) {
        if (!enter(P))
            return NULL;
        next(P);
        const cy_pat_cexpr *inner = cexpr_or(P);
        if (!inner || !expect(P, T_RPAREN, "')' or AND/OR"))
            return NULL;
        P->depth--;
        return inner;
    }
    cy_pat_cmp *cmp = alloc(P, sizeof *cmp);
    if (!cmp)
        return NULL;
    cmp->pos = P->cur.start;
    if (P->cur.kind == T_NOT || P->cur.kind == T_EXISTS) {
        if (accept(P, T_NOT))
            cmp->negated = true;
        if (!expect(P, T_EXISTS, "EXISTS after NOT (or a path before NOT)"))
            return NULL;
        cmp->op = CY_OP_EXISTS;
        if (!object_path(P, &cmp->path))
            return NULL;
        return make_cmp_node(P, cmp);
    }
    if (!object_path(P, &cmp->path))
        return NULL;
    if (accept(P, T_NOT))
        cmp->negated = true;
    enum lit_class cls = LIT_PRIMITIVE;
    switch (P->cur.kind) {
    case T_EQ: cmp->op = CY_OP_EQ; break;
    case T_NEQ: cmp->op = CY_OP_NEQ; break;
    case T_LT: cmp->op = CY_OP_LT; cls = LIT_ORDERABLE; break;
    case T_LE: cmp->op = CY_OP_LE; cls = LIT_ORDERABLE; break;
    case T_GT: cmp->op = CY_OP_GT; cls = LIT_ORDERABLE; break;
    case T_GE: cmp->op = CY_OP_GE; cls = LIT_ORDERABLE; break;
    case T_IN: cmp->op = CY_OP_IN; break;
    case T_LIKE: cmp->op = CY_OP_LIKE; cls = LIT_STRING_ONLY; break;
    case T_MATCHES: cmp->op = CY_OP_MATCHES; cls = LIT_STRING_ONLY; break;
    case T_ISSUBSET: cmp->op = CY_OP_ISSUBSET; cls = LIT_STRING_ONLY; break;
    case T_ISSUPERSET: cmp->op = CY_OP_ISSUPERSET; cls = LIT_STRING_ONLY; break;
    default:
        expected(P, cmp->negated ? "an operator after NOT"
                                 : "an operator (= != < <= > >= IN LIKE MATCHES ISSUBSET ISSUPERSET)");
        return NULL;
    }
    next(P);
    if (P->failed)
        return NULL;
    if (cmp->op == CY_OP_IN) {
        if (!expect(P, T_LPAREN, "'(' to open the set after IN"))
            return NULL;
        size_t n = 0, cap = 0;
        cy_pat_lit *lits = NULL;
        if (P->cur.kind != T_RPAREN) {
            for (;;) {
                if (n == cap) {
                    size_t nc = cap ? cap * 2 : 4;
                    cy_pat_lit *g = alloc(P, nc * sizeof *g);
                    if (!g)
                        return NULL;
                    if (n)
                        memcpy(g, lits, n * sizeof *g);
                    lits = g;
                    cap = nc;
                }
                if (!literal(P, &lits[n], LIT_PRIMITIVE))
                    return NULL;
                n++;
                if (!accept(P, T_COMMA))
                    break;
            }
        }
        if (!expect(P, T_RPAREN, "',' or ')' in the set"))
            return NULL;
        cmp->lits = lits;
        cmp->nlits = n;
    } else {
        cy_pat_lit *l = alloc(P, sizeof *l);
        if (!l || !literal(P, l, cls))
            return NULL;
        cmp->lits = l;
        cmp->nlits = 1;
    }
    return make_cmp_node(P, cmp);
}

/* Builds an AND/OR node from kids, splicing in kids of the same kind. */
static const cy_pat_cexpr *cexpr_join(struct parser *P, cy_pat_cexpr_kind kind,
                                      struct vec *kids)
{
    if (kids->n == 1)
        return kids->v[0];
    struct vec flat = {0};
    for (size_t i = 0; i < kids->n; i++) {
        const cy_pat_cexpr *k = kids->v[i];
        if (k->kind == kind) {
            for (size_t j = 0; j < k->nkids; j++)
                if (!vec_push(P, &flat, k->kids[j]))
                    return NULL;
        } else if (!vec_push(P, &flat, k)) {
            return NULL;
        }
    }
    cy_pat_cexpr *c = alloc(P, sizeof *c);
    if (!c)
        return NULL;
    c->kind = kind;
    c->kids = (const cy_pat_cexpr *const *)flat.v;
    c->nkids = flat.n;
    return c;
}

static const cy_pat_cexpr *cexpr_and(struct parser *P)
{
    struct vec kids = {0};
    do {
        const cy_pat_cexpr *k = prop_test(P);
        if (!k || !vec_push(P, &kids, k))
            return NULL;
    } while (accept(P, T_AND));
    return P->failed ? NULL : cexpr_join(P, CY_CEXPR_AND, &kids);
}

static const cy_pat_cexpr *cexpr_or(struct parser *P)
{
    struct vec kids = {0};
    do {
        const cy_pat_cexpr *k = cexpr_and(P);
        if (!k || !vec_push(P, &kids, k))
            return NULL;
    } while (accept(P, T_OR));
    return P->failed ? NULL : cexpr_join(P, CY_CEXPR_OR, &kids);
}

/* ---- observation expressions ---------------------------------------- */

static const cy_pat_obs *obs_fb(struct parser *P);

/* Compares two checked timestamps (grammar form, UTC): the first 19
 * characters are fixed-width digits, so they compare as text; then the
 * fractions digit by digit, as if padded with zeros.  <0, 0 or >0.  (Not via
 * milliseconds: those truncate fractions and clamp leap seconds.) */
static int ts_cmp(const char *a, const char *b)
{
    int c = memcmp(a, b, 19);
    if (c)
        return c;
    a += 19;
    b += 19;
    a += *a == '.';
    b += *b == '.';
    for (;;) {
        char x = is_digit((unsigned char)*a) ? *a++ : '0';
        char y = is_digit((unsigned char)*b) ? *b++ : '0';
        if (x != y)
            return x < y ? -1 : 1;
        if (!is_digit((unsigned char)*a) && !is_digit((unsigned char)*b))
            return 0;
    }
}

static bool qualifier(struct parser *P, cy_pat_qual *q)
{
    q->pos = P->cur.start;
    if (accept(P, T_WITHIN)) {
        q->kind = CY_QUAL_WITHIN;
        if (P->cur.kind != T_INT && P->cur.kind != T_FLOAT) {
            expected(P, "a number of seconds after WITHIN");
            return false;
        }
        size_t at = P->cur.start;
        if (P->s[at] == '-' || P->cur.f <= 0) {
            fail_at(P, at, "WITHIN needs a positive number of seconds");
            return false;
        }
        cy_pat_lit *l = alloc(P, sizeof *l);
        if (!l || !literal(P, l, LIT_ORDERABLE))
            return false;
        q->n = l;
        q->seconds = l->f;
        return expect(P, T_SECONDS, "SECONDS after the WITHIN number");
    }
    if (accept(P, T_REPEATS)) {
        q->kind = CY_QUAL_REPEATS;
        if (P->cur.kind != T_INT) {
            expected(P, "an integer after REPEATS");
            return false;
        }
        if (P->s[P->cur.start] == '-' || P->cur.i < 1) {
            fail_at(P, P->cur.start, "REPEATS needs a positive integer");
            return false;
        }
        q->times = P->cur.i;
        next(P);
        return expect(P, T_TIMES, "TIMES after the REPEATS count");
    }
    if (accept(P, T_START)) {
        q->kind = CY_QUAL_STARTSTOP;
        cy_pat_lit *a = alloc(P, sizeof *a), *b = alloc(P, sizeof *b);
        if (!a || !b)
            return false;
        if (P->cur.kind != T_TIMESTAMP) {
            expected(P, "a timestamp t'...' after START");
            return false;
        }
        if (!literal(P, a, LIT_ORDERABLE))
            return false;
        if (!expect(P, T_STOP, "STOP after the START timestamp"))
            return false;
        if (P->cur.kind != T_TIMESTAMP) {
            expected(P, "a timestamp t'...' after STOP");
            return false;
        }
        size_t stop_at = P->cur.start;
        if (!literal(P, b, LIT_ORDERABLE))
            return false;
        if (ts_cmp(b->s, a->s) <= 0) {
            fail_at(P, stop_at, "STOP must be later than START");
            return false;
        }
        q->start = a;
        q->stop = b;
        return true;
    }
    return false;
}

static bool is_qualifier(enum tok k)
{
    return k == T_WITHIN || k == T_REPEATS || k == T_START;
}

/* observationExpression: '[' cexpr ']' or '(' obs ')', then qualifiers. */
static const cy_pat_obs *obs_qualified(struct parser *P)
{
    size_t start = P->cur.start;
    const cy_pat_obs *base = NULL;
    if (P->cur.kind == T_LBRACK) {
        if (!enter(P))
            return NULL;
        next(P);
        if (P->cur.kind == T_RBRACK) {
            fail_at(P, P->cur.start, "empty observation '[]'");
            return NULL;
        }
        const cy_pat_cexpr *c = cexpr_or(P);
        if (!c || !expect(P, T_RBRACK, "']' or AND/OR"))
            return NULL;
        P->depth--;
        cy_pat_obs *o = alloc(P, sizeof *o);
        if (!o)
            return NULL;
        o->kind = CY_OBS_LEAF;
        o->cexpr = c;
        o->pos = start;
        P->nleaves++;
        base = o;
    } else if (P->cur.kind == T_LPAREN) {
        if (!enter(P))
            return NULL;
        next(P);
        base = obs_fb(P);
        if (!base || !expect(P, T_RPAREN, "')' or AND/OR/FOLLOWEDBY"))
            return NULL;
        P->depth--;
    } else {
        expected(P, "'[' or '(' to start an observation");
        return NULL;
    }
    if (!is_qualifier(P->cur.kind))
        return base;
    /* copy the node so that qualifiers are on a node of its own */
    cy_pat_obs *o = alloc(P, sizeof *o);
    if (!o)
        return NULL;
    *o = *base;
    o->pos = start;
    size_t n = base->nquals, cap = n + 4;
    cy_pat_qual *qs = alloc(P, cap * sizeof *qs);
    if (!qs)
        return NULL;
    if (n)
        memcpy(qs, base->quals, n * sizeof *qs);
    while (is_qualifier(P->cur.kind)) {
        if (n == cap) {
            cy_pat_qual *g = alloc(P, cap * 2 * sizeof *g);
            if (!g)
                return NULL;
            memcpy(g, qs, n * sizeof *qs);
            qs = g;
            cap *= 2;
        }
        memset(&qs[n], 0, sizeof qs[n]);
        if (!qualifier(P, &qs[n]))
            return NULL;
        n++;
    }
    o->quals = qs;
    o->nquals = n;
    return o;
}

/* Joins observation kids; AND/OR splice unqualified kids of their kind,
 * FOLLOWEDBY keeps nested (parenthesised) chains as children. */
static const cy_pat_obs *obs_join(struct parser *P, cy_pat_obs_kind kind,
                                  struct vec *kids, size_t start)
{
    if (kids->n == 1)
        return kids->v[0];
    struct vec flat = {0};
    for (size_t i = 0; i < kids->n; i++) {
        const cy_pat_obs *k = kids->v[i];
        if (kind != CY_OBS_FOLLOWEDBY && k->kind == kind && k->nquals == 0) {
            for (size_t j = 0; j < k->nkids; j++)
                if (!vec_push(P, &flat, k->kids[j]))
                    return NULL;
        } else if (!vec_push(P, &flat, k)) {
            return NULL;
        }
    }
    cy_pat_obs *o = alloc(P, sizeof *o);
    if (!o)
        return NULL;
    o->kind = kind;
    o->kids = (const cy_pat_obs *const *)flat.v;
    o->nkids = flat.n;
    o->pos = start;
    return o;
}

static const cy_pat_obs *obs_and(struct parser *P)
{
    size_t start = P->cur.start;
    struct vec kids = {0};
    do {
        const cy_pat_obs *k = obs_qualified(P);
        if (!k || !vec_push(P, &kids, k))
            return NULL;
    } while (accept(P, T_AND));
    return P->failed ? NULL : obs_join(P, CY_OBS_AND, &kids, start);
}

static const cy_pat_obs *obs_or(struct parser *P)
{
    size_t start = P->cur.start;
    struct vec kids = {0};
    do {
        const cy_pat_obs *k = obs_and(P);
        if (!k || !vec_push(P, &kids, k))
            return NULL;
    } while (accept(P, T_OR));
    return P->failed ? NULL : obs_join(P, CY_OBS_OR, &kids, start);
}

static const cy_pat_obs *obs_fb(struct parser *P)
{
    size_t start = P->cur.start;
    struct vec kids = {0};
    do {
        const cy_pat_obs *k = obs_or(P);
        if (!k || !vec_push(P, &kids, k))
            return NULL;
    } while (accept(P, T_FOLLOWEDBY));
    return P->failed ? NULL : obs_join(P, CY_OBS_FOLLOWEDBY, &kids, start);
}

/* ---- entry point ----------------------------------------------------- */

/* Offset of the first byte that is NUL or not strict UTF-8, or len. */
static size_t utf8_check(const unsigned char *s, size_t len)
{
    const unsigned char *nul = memchr(s, 0, len);
    return cy_utf8_check(s, nul ? (size_t)(nul - s) : len);
}

comity_err cy_pattern_parse(const char *text, size_t len, cy_pattern **out,
                            size_t *err_at, comity_error *err)
{
    *out = NULL;
    if (err_at)
        *err_at = 0;
    if (len > CY_PATTERN_MAX) {
        if (err_at)
            *err_at = CY_PATTERN_MAX;
        return cy_fail(err, COMITY_ERR_TOOBIG,
                       "pattern: %zu bytes, more than the %u allowed", len,
                       CY_PATTERN_MAX);
    }
    struct parser P = {.s = text, .n = len, .err = err};
    size_t bad = utf8_check((const unsigned char *)text, len);
    if (bad < len) {
        if (err_at)
            *err_at = bad;
        return cy_fail(err, COMITY_ERR_INVALID, "pattern: %s at byte %zu",
                       text[bad] ? "not UTF-8" : "NUL byte", bad);
    }
    P.arena = cy_calloc(1, sizeof *P.arena);
    if (!P.arena)
        return cy_fail(err, COMITY_ERR_NOMEM, "pattern: out of memory");
    cy_pattern *p = alloc(&P, sizeof *p);
    const cy_pat_obs *root = NULL;
    if (p) {
        next(&P);
        if (P.cur.kind == T_EOF)
            fail_at(&P, 0, "empty pattern");
        else
            root = obs_fb(&P);
        if (root && P.cur.kind != T_EOF)
            expected(&P, "end of pattern (or AND/OR/FOLLOWEDBY)");
    }
    if (P.failed || !p || !root) {
        if (!P.failed)
            fail_nomem(&P);
        if (err_at)
            *err_at = P.err_at;
        arena_free(P.arena);
        return P.code;
    }
    p->root = root;
    p->ncmps = P.ncmps;
    p->nleaves = P.nleaves;
    p->arena = P.arena;
    *out = p;
    return COMITY_OK;
}
