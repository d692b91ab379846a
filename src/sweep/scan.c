/*
 * scan.c: the tokenizer that finds indicator-shaped tokens in text.
 *
 * One pass over a buffer with a 256-entry byte-class table.  Bytes that can
 * be part of a host name, an IP address or a hex hash ([A-Za-z0-9._-:] and
 * UTF-8 bytes) form "runs"; while a run is read the classes of its bytes
 * are OR-ed together, so that when it ends we know, without looking again,
 * whether it has a dot, letters beyond a-f, or a colon.  A run is then:
 *   - split at colons (timestamps, host:port), after an IPv6 attempt when
 *     the set holds IPv6 values;
 *   - an IPv4 candidate when it is digits and dots;
 *   - a domain candidate when it has a dot and a letter: every label
 *     suffix is looked up in one right-to-left pass (set.c);
 *   - a hash candidate when it is 32, 40, 64 or 128 hex digits;
 *   - the host of an email (the local part is found backwards from '@')
 *     or of a URL (the scheme backwards from "://", the rest forwards to
 *     the next separator), looked up only when the set holds such values.
 * When the set holds name-like values (process:name, file:name, file:path,
 * app:id, ...), each line is also split into words at whitespace, quotes
 * and brackets, and each word (and its last path component) is looked up.
 * Sets of dotted values only take a faster path (scan_dots) that makes bit
 * masks of 64 bytes at a time (AVX2 when the CPU has it, else SSE2) and
 * visits only the runs that can hit: with domains only, runs holding a dot
 * and a letter, found with two carry-propagating additions per window.
 * Domain tokens are batched (32) so their lookups' cache misses overlap; a
 * token equal to the previous one (DNS logs name each query twice) is not
 * hashed again.  Hits still come out in input order.  Nothing here
 * allocates; the buffer is only read.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

#include "sweep/sweep.h"

enum {
    K_DIGIT = 1,
    K_HEXL = 2,     /* a-f */
    K_HEXU = 4,     /* A-F */
    K_ALPHA = 8,    /* other letters, '_', '-', bytes >= 0x80 */
    K_DOT = 16,
    K_COLON = 32,
    K_RUN = K_DIGIT | K_HEXL | K_HEXU | K_ALPHA | K_DOT | K_COLON,
    K_SEP = 64,     /* ends a word */
    K_NL = 128
};

static uint8_t class_t[256];
static bool use_avx2; /* set once with class_t */
static pthread_once_t class_once = PTHREAD_ONCE_INIT;

static void class_init(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
    use_avx2 = getenv("COMITY_NO_AVX2") == NULL && __builtin_cpu_supports("avx2");
#endif
    uint8_t *k = class_t;
    {
        for (int i = 0; i < 256; i++) {
            uint8_t c = 0;
            if (i >= '0' && i <= '9')
                c = K_DIGIT;
            else if (i >= 'a' && i <= 'f')
                c = K_HEXL;
            else if (i >= 'A' && i <= 'F')
                c = K_HEXU;
            else if ((i >= 'g' && i <= 'z') || (i >= 'G' && i <= 'Z') || i == '_' ||
                     i == '-' || i >= 0x80)
                c = K_ALPHA;
            else if (i == '.')
                c = K_DOT;
            else if (i == ':')
                c = K_COLON;
            else if (i == '\n')
                c = K_NL | K_SEP;
            else if (i <= ' ' || i == '"' || i == '\'' || i == '<' || i == '>' ||
                     i == '(' || i == ')' || i == '[' || i == ']' || i == '{' ||
                     i == '}' || i == ',' || i == ';' || i == '|' || i == '=' ||
                     i == '`' || i == 0x7f)
                c = K_SEP;
            k[i] = c;
        }
    }
}

static const uint8_t *classes(void)
{
    pthread_once(&class_once, class_init);
    return class_t;
}

/* A domain token waiting in the batch. */
#define BATCH 32
struct pend {
    const char *s;
    uint32_t len;
    int32_t same;   /* an earlier pend of this batch with the same bytes, or -1 */
    uint64_t line;
    cy_sw_dq q;     /* unused when same >= 0 */
};

/* Scanning state for one call. */
struct scan {
    const cy_sw_set *set;
    const char *buf;
    const char *end;
    uint64_t line;
    uint64_t off0;
    cy_sw_hit_fn fn;
    void *ud;
    const uint8_t *cls;
    struct pend batch[BATCH];
    size_t nbatch;
    /* the last domain token hashed: DNS server logs name the query twice
     * a line (BIND: "(name): query: name"), so the second is not hashed
     * again, and not probed again when the first had no hit.  Its hashes
     * are batch[prev_idx].q while it is in the batch, else prev_q. */
    const char *prev_s;
    size_t prev_len;
    int32_t prev_idx;
    cy_sw_dq prev_q;
    bool has_dom, has_v4, has_v6, has_hash, has_email, has_url;
    int stop;
};

#define FOUND_MAX 16

static void emit(struct scan *sc, const cy_sw_found *f, size_t n, const char *tok,
                 size_t len, uint64_t line)
{
    for (size_t i = 0; i < n && !sc->stop; i++) {
        cy_sw_hit h = {
            .entry = f[i].entry,
            .path = f[i].path,
            .line = line,
            .offset = sc->off0 + (uint64_t)(tok - sc->buf),
            .tok = tok,
            .tok_len = len,
        };
        sc->stop = sc->fn(sc->ud, &h);
    }
}

/* Probes the batched domain tokens (their filter words were prefetched
 * when they were queued) and reports their hits in order. */
static void flush(struct scan *sc)
{
    cy_sw_found f[FOUND_MAX];
    size_t n = sc->nbatch, nhit[BATCH];
    sc->nbatch = 0;
    if (sc->prev_idx >= 0) {
        sc->prev_q = sc->batch[sc->prev_idx].q;
        sc->prev_idx = -1;
    }
    for (size_t i = 0; i < n && !sc->stop; i++) {
        struct pend *p = &sc->batch[i];
        if (p->same >= 0 && nhit[p->same] == 0) {
            nhit[i] = 0; /* same bytes as a token without hits */
            continue;
        }
        const cy_sw_dq *q = p->same >= 0 ? &sc->batch[p->same].q : &p->q;
        size_t k = cy_sw_domain_probe(sc->set, p->s, p->len, q, f, FOUND_MAX);
        nhit[i] = k;
        if (k)
            emit(sc, f, k, p->s, p->len, p->line);
    }
}

/* Reports hits found now; earlier batched domains go first, so that hits
 * stay in input order. */
static void report(struct scan *sc, const cy_sw_found *f, size_t n,
                   const char *tok, size_t len)
{
    if (n == 0)
        return;
    if (sc->nbatch)
        flush(sc);
    emit(sc, f, n, tok, len, sc->line);
}

/* a[0..len) == b[0..len), inline: tokens are short, and a library call
 * per token costs more than the compare. */
static inline bool same_bytes(const char *a, const char *b, size_t len)
{
    if (len < 8) {
        for (size_t i = 0; i < len; i++)
            if (a[i] != b[i])
                return false;
        return true;
    }
    uint64_t x, y, d = 0;
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        memcpy(&x, a + i, 8);
        memcpy(&y, b + i, 8);
        d |= x ^ y;
    }
    memcpy(&x, a + len - 8, 8); /* the last 8 bytes, overlapping */
    memcpy(&y, b + len - 8, 8);
    return (d | (x ^ y)) == 0;
}

static void queue_domain(struct scan *sc, const char *s, size_t len)
{
    struct pend *p = &sc->batch[sc->nbatch];
    size_t n;
    if (len == sc->prev_len && same_bytes(s, sc->prev_s, len)) {
        p->same = sc->prev_idx;
        if (p->same < 0)
            p->q = sc->prev_q;
        n = p->same >= 0 ? sc->batch[p->same].q.n : p->q.n;
    } else {
        n = cy_sw_domain_hashes_at(sc->set, s, len, (size_t)(s - sc->buf), &p->q);
        p->same = -1;
        if (n == SIZE_MAX) {
            sc->prev_len = 0; /* none */
        } else {
            sc->prev_s = s;
            sc->prev_len = len;
            sc->prev_idx = n ? (int32_t)sc->nbatch : -1;
            sc->prev_q.n = 0; /* read only when n == 0 */
        }
    }
    if (n == 0)
        return;
    if (n == SIZE_MAX) {
        cy_sw_found f[FOUND_MAX];
        report(sc, f, cy_sw_lookup_domain(sc->set, s, len, f, FOUND_MAX), s, len);
        return;
    }
    p->s = s;
    p->len = (uint32_t)len;
    p->line = sc->line;
    if (++sc->nbatch == BATCH)
        flush(sc);
}

static bool is_local_char(uint8_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
}

static bool is_scheme_char(uint8_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '+' || c == '.' || c == '-';
}

/* The email or URL a host run belongs to, when the set wants them. */
static void host_context(struct scan *sc, const char *s, size_t len)
{
    cy_sw_found f[FOUND_MAX];
    if (sc->has_email && s > sc->buf && s[-1] == '@') {
        const char *a = s - 1;
        while (a > sc->buf && is_local_char((uint8_t)a[-1]))
            a--;
        if (a < s - 1) {
            size_t n = cy_sw_lookup_exact(sc->set, CY_SW_EMAIL, a,
                                          (size_t)(s + len - a), f, FOUND_MAX);
            report(sc, f, n, a, (size_t)(s + len - a));
        }
    }
    if (sc->has_url && s - sc->buf >= 4 && s[-1] == '/' && s[-2] == '/' && s[-3] == ':') {
        const char *a = s - 3;
        while (a > sc->buf && is_scheme_char((uint8_t)a[-1]))
            a--;
        const char *e = s + len;
        while (e < sc->end && !(sc->cls[(uint8_t)*e] & K_SEP))
            e++;
        if (a < s - 3) {
            size_t n = cy_sw_lookup_exact(sc->set, CY_SW_URL, a, (size_t)(e - a), f,
                                          FOUND_MAX);
            report(sc, f, n, a, (size_t)(e - a));
        }
    }
}

/* A run without colons. */
static void simple_run(struct scan *sc, const char *s, size_t len, unsigned k)
{
    cy_sw_found f[FOUND_MAX];
    if (k & K_DOT) {
        while (len && *s == '.')
            s++, len--;
        while (len && s[len - 1] == '.')
            len--;
        if (len == 0)
            return;
        if ((k & ~(unsigned)(K_DIGIT | K_DOT)) == 0) {
            uint8_t a[4];
            if (sc->has_v4 && cy_sw_parse_ipv4(s, len, a))
                report(sc, f, cy_sw_lookup_ip(sc->set, a, 4, f, FOUND_MAX), s, len);
            if (sc->has_email || sc->has_url) /* spy@1.2.3.4, http://1.2.3.4/x */
                host_context(sc, s, len);
            return;
        }
        if (sc->has_dom)
            queue_domain(sc, s, len);
        if (sc->has_email || sc->has_url)
            host_context(sc, s, len);
        return;
    }
    if (sc->has_hash && (k & ~(unsigned)(K_DIGIT | K_HEXL | K_HEXU)) == 0) {
        int path = len == 32 ? CY_SW_MD5 : len == 40 ? CY_SW_SHA1
                   : len == 64 ? CY_SW_SHA256 : len == 128 ? CY_SW_SHA512 : 0;
        if (path)
            report(sc, f, cy_sw_lookup_exact(sc->set, path, s, len, f, FOUND_MAX), s, len);
    }
}

static unsigned run_class(const uint8_t *cls, const char *s, size_t len)
{
    unsigned k = 0;
    for (size_t i = 0; i < len; i++)
        k |= cls[(uint8_t)s[i]];
    return k;
}

static void run(struct scan *sc, const char *s, size_t len, unsigned k)
{
    if (!(k & K_COLON)) {
        simple_run(sc, s, len, k);
        return;
    }
    if (sc->has_v6 && !(k & K_ALPHA)) {
        uint8_t a[16];
        const char *t = s;
        size_t tl = len;
        while (tl && t[tl - 1] == '.')
            tl--;
        if (cy_sw_parse_ipv6(t, tl, a)) {
            cy_sw_found f[FOUND_MAX];
            report(sc, f, cy_sw_lookup_ip(sc->set, a, 16, f, FOUND_MAX), t, tl);
            return;
        }
    }
    const char *p = s, *e = s + len;
    while (p < e && !sc->stop) {
        const char *q = memchr(p, ':', (size_t)(e - p));
        if (!q)
            q = e;
        if (q > p)
            simple_run(sc, p, (size_t)(q - p), run_class(sc->cls, p, (size_t)(q - p)));
        p = q + 1;
    }
}

/* Name-like values: every word of the line, and its last '/' component. */
static void words(struct scan *sc, const char *s, const char *e)
{
    const cy_sw_set *set = sc->set;
    cy_sw_found f[FOUND_MAX];
    while (s < e && !sc->stop) {
        while (s < e && (sc->cls[(uint8_t)*s] & K_SEP))
            s++;
        const char *w = s;
        while (s < e && !(sc->cls[(uint8_t)*s] & K_SEP))
            s++;
        size_t len = (size_t)(s - w);
        while (len && (w[len - 1] == '.' || w[len - 1] == ':' || w[len - 1] == '\r'))
            len--;
        if (len == 0)
            continue;
        const char *slash = NULL;
        for (size_t i = len; i-- > 0 && !slash;)
            if (w[i] == '/')
                slash = w + i;
        for (int p = CY_SW_FILE_NAME; p < CY_SW_PATH_MAX && !sc->stop; p++) {
            if (!cy_sw_set_has(set, p))
                continue;
            if (p == CY_SW_FILE_PATH) {
                if (slash)
                    report(sc, f, cy_sw_lookup_exact(set, p, w, len, f, FOUND_MAX), w, len);
                continue;
            }
            report(sc, f, cy_sw_lookup_exact(set, p, w, len, f, FOUND_MAX), w, len);
            if (slash && slash + 1 < w + len) {
                const char *b = slash + 1;
                size_t bl = (size_t)(w + len - b);
                report(sc, f, cy_sw_lookup_exact(set, p, b, bl, f, FOUND_MAX), b, bl);
            }
        }
    }
}

static bool has_words(const cy_sw_set *set)
{
    for (int p = CY_SW_FILE_NAME; p < CY_SW_PATH_MAX; p++)
        if (cy_sw_set_has(set, p))
            return true;
    return false;
}

/*
 * The fast path, for sets whose every value is found in a token with a dot
 * (domains, IPv4, and emails and URLs, which are anchored on their host).
 * The buffer is read in 64-byte windows; for each, SSE2 compares make four
 * 64-bit masks: run bytes, dots, newlines, and "letter-like" run bytes (the
 * rest being digits, dots and colons).  Only dots and newlines are visited:
 * a dot's run is found with bit scans on the run mask, its shape (letters?
 * colons?) with two ANDs, so the bytes of a line are not looked at one by
 * one.  A run that crosses a window edge is finished byte by byte.
 */
struct masks {
    uint64_t run, dot, nl, alpha, colon;
};

static void masks_scalar(const uint8_t *cls, const char *p, size_t n, struct masks *m)
{
    memset(m, 0, sizeof *m);
    for (size_t k = 0; k < n; k++) {
        unsigned c = cls[(uint8_t)p[k]];
        uint64_t bit = 1ULL << k;
        if (c & K_RUN)
            m->run |= bit;
        if (c & K_DOT)
            m->dot |= bit;
        if (c & K_NL)
            m->nl |= bit;
        if (c & (K_ALPHA | K_HEXL | K_HEXU))
            m->alpha |= bit;
        if (c & K_COLON)
            m->colon |= bit;
    }
}

#if defined(__SSE2__)
static inline void masks16(const char *p, unsigned shift, struct masks *m)
{
    const __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
    const __m128i bias = _mm_set1_epi8((char)0x80);
    __m128i hi = _mm_cmplt_epi8(v, _mm_setzero_si128()); /* bytes >= 0x80 */
    __m128i l = _mm_sub_epi8(_mm_or_si128(v, _mm_set1_epi8(0x20)), _mm_set1_epi8('a'));
    __m128i letter = _mm_cmplt_epi8(_mm_xor_si128(l, bias), _mm_set1_epi8((char)(0x80 + 26)));
    __m128i d = _mm_sub_epi8(v, _mm_set1_epi8('0'));
    __m128i digit = _mm_cmplt_epi8(_mm_xor_si128(d, bias), _mm_set1_epi8((char)(0x80 + 10)));
    __m128i dot = _mm_cmpeq_epi8(v, _mm_set1_epi8('.'));
    __m128i nl = _mm_cmpeq_epi8(v, _mm_set1_epi8('\n'));
    __m128i colon = _mm_cmpeq_epi8(v, _mm_set1_epi8(':'));
    __m128i alpha = _mm_or_si128(_mm_or_si128(hi, letter),
                                 _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('-')),
                                              _mm_cmpeq_epi8(v, _mm_set1_epi8('_'))));
    __m128i run = _mm_or_si128(_mm_or_si128(alpha, digit), _mm_or_si128(dot, colon));
    m->run |= (uint64_t)(uint16_t)_mm_movemask_epi8(run) << shift;
    m->dot |= (uint64_t)(uint16_t)_mm_movemask_epi8(dot) << shift;
    m->nl |= (uint64_t)(uint16_t)_mm_movemask_epi8(nl) << shift;
    m->alpha |= (uint64_t)(uint16_t)_mm_movemask_epi8(alpha) << shift;
    m->colon |= (uint64_t)(uint16_t)_mm_movemask_epi8(colon) << shift;
}
#endif

/* The masks of 64 bytes: SSE2, four 16-byte steps. */
static inline void masks64_sse2(const char *p, struct masks *m)
{
#if defined(__SSE2__)
    memset(m, 0, sizeof *m);
    masks16(p, 0, m);
    masks16(p + 16, 16, m);
    masks16(p + 32, 32, m);
    masks16(p + 48, 48, m);
#else
    masks_scalar(classes(), p, 64, m);
#endif
}

#if defined(__x86_64__) && defined(__GNUC__)
#define SCAN_AVX2 1
/* The same with AVX2 (two 32-byte steps), chosen at run time. */
__attribute__((target("avx2"))) static inline void masks32(const char *p, unsigned shift,
                                                           uint64_t out[5])
{
    const __m256i v = _mm256_loadu_si256((const __m256i *)(const void *)p);
    const __m256i bias = _mm256_set1_epi8((char)0x80);
    __m256i hi = _mm256_cmpgt_epi8(_mm256_setzero_si256(), v); /* bytes >= 0x80 */
    __m256i l = _mm256_sub_epi8(_mm256_or_si256(v, _mm256_set1_epi8(0x20)),
                                _mm256_set1_epi8('a'));
    __m256i letter = _mm256_cmpgt_epi8(_mm256_set1_epi8((char)(0x80 + 26)),
                                       _mm256_xor_si256(l, bias));
    __m256i d = _mm256_sub_epi8(v, _mm256_set1_epi8('0'));
    __m256i digit = _mm256_cmpgt_epi8(_mm256_set1_epi8((char)(0x80 + 10)),
                                      _mm256_xor_si256(d, bias));
    __m256i dot = _mm256_cmpeq_epi8(v, _mm256_set1_epi8('.'));
    __m256i nl = _mm256_cmpeq_epi8(v, _mm256_set1_epi8('\n'));
    __m256i colon = _mm256_cmpeq_epi8(v, _mm256_set1_epi8(':'));
    __m256i alpha = _mm256_or_si256(
        _mm256_or_si256(hi, letter),
        _mm256_or_si256(_mm256_cmpeq_epi8(v, _mm256_set1_epi8('-')),
                        _mm256_cmpeq_epi8(v, _mm256_set1_epi8('_'))));
    __m256i run = _mm256_or_si256(_mm256_or_si256(alpha, digit), _mm256_or_si256(dot, colon));
    out[0] |= (uint64_t)(uint32_t)_mm256_movemask_epi8(run) << shift;
    out[1] |= (uint64_t)(uint32_t)_mm256_movemask_epi8(dot) << shift;
    out[2] |= (uint64_t)(uint32_t)_mm256_movemask_epi8(nl) << shift;
    out[3] |= (uint64_t)(uint32_t)_mm256_movemask_epi8(alpha) << shift;
    out[4] |= (uint64_t)(uint32_t)_mm256_movemask_epi8(colon) << shift;
}

__attribute__((target("avx2"))) static inline void masks64_avx2(const char *p,
                                                                struct masks *m)
{
    uint64_t o[5] = {0, 0, 0, 0, 0};
    masks32(p, 0, o);
    masks32(p + 32, 32, o);
    m->run = o[0];
    m->dot = o[1];
    m->nl = o[2];
    m->alpha = o[3];
    m->colon = o[4];
}
#endif

/* The loop over windows; masks64 computes a full window's masks (inlined
 * into one copy per instruction set). */
static inline __attribute__((always_inline)) uint64_t
scan_dots_body(struct scan *sc, const char *buf, size_t len,
               void (*masks64)(const char *, struct masks *))
{
    const uint8_t *cls = sc->cls;
    const char *end = buf + len;
    const char *done = buf; /* end of the last run handled */
    uint64_t lines = 0;
    /* digit-and-dot runs (times, IPs) matter only to these sets; the
     * others visit only runs with a dot and a letter */
    const bool dots_only = sc->has_v4 || sc->has_url || sc->has_email;
    uint64_t c_alpha = 0, c_dot = 0; /* carries into the next window */
    const bool direct = sc->has_dom && !sc->has_email && !sc->has_url;
    for (size_t i = 0; i < len && !sc->stop; i += 64) {
        struct masks m;
        size_t n = len - i < 64 ? len - i : 64;
        if (n == 64)
            masks64(buf + i, &m);
        else
            masks_scalar(cls, buf + i, n, &m);
        uint64_t ev;
        if (dots_only) {
            ev = m.dot;
        } else {
            /* Only runs with a dot and a letter can hit: one event per
             * such run, found with carries (each window is one digit of a
             * long addition, so runs across window edges keep their
             * carries).  R + A carries from each letter through the rest
             * of its run: a dot it passes (sum bit 0) has a letter before
             * it.  N + D (N: run bytes that are not letters) carries from
             * each dot through non-letters: where it lands on a letter,
             * that letter has a dot before it. */
            uint64_t nr = m.run & ~m.alpha, t1, t2;
            bool o1 = __builtin_add_overflow(m.run, m.alpha, &t1);
            bool o2 = __builtin_add_overflow(t1, c_alpha, &t1);
            c_alpha = o1 | o2;
            bool o3 = __builtin_add_overflow(nr, m.dot, &t2);
            bool o4 = __builtin_add_overflow(t2, c_dot, &t2);
            c_dot = o3 | o4;
            ev = (m.dot & ~t1) | (t2 & ~nr & m.alpha);
        }
        ev |= m.nl;
        while (ev && !sc->stop) {
            unsigned b = (unsigned)__builtin_ctzll(ev);
            ev &= ev - 1;
            const char *p = buf + i + b;
            if ((m.nl >> b) & 1) {
                sc->line++;
                lines++;
                continue;
            }
            if (p < done)
                continue;
            /* the run around the dot: bits [lo, hi) of this window */
            uint64_t below = ~m.run & ((1ULL << b) - 1);
            uint64_t above = b == 63 ? 0 : ~m.run & ~((2ULL << b) - 1);
            unsigned lo = below ? 64 - (unsigned)__builtin_clzll(below) : 0;
            unsigned hi = above ? (unsigned)__builtin_ctzll(above) : (unsigned)n;
            uint64_t range = (hi == 64 ? ~0ULL : (1ULL << hi) - 1) & ~((1ULL << lo) - 1);
            unsigned acc = K_DOT | K_DIGIT;
            if (m.alpha & range)
                acc |= K_ALPHA;
            if (m.colon & range)
                acc |= K_COLON;
            const char *a = buf + i + lo, *z = buf + i + hi;
            if (lo == 0)
                while (a > buf && (cls[(uint8_t)a[-1]] & K_RUN))
                    acc |= cls[(uint8_t)*--a];
            if (hi == n)
                while (z < end && (cls[(uint8_t)*z] & K_RUN))
                    acc |= cls[(uint8_t)*z++];
            done = z;
            /* the run's other dots need no visit (a run holds no newline) */
            ev &= hi >= 64 ? 0 : ~((1ULL << hi) - 1);
            /* digits, dots and colons only (times, IPs): nothing to find
             * unless the set has IPv4 values or URLs/emails by IP.  (Bytes
             * added byte by byte above carry K_HEXL/K_HEXU for a-f: "ab.12"
             * across a window edge is a letter run too.) */
            if (!(acc & (K_ALPHA | K_HEXL | K_HEXU)) && !dots_only)
                continue;
            /* the common case, a plain host name: straight to the batch
             * (what simple_run would do, without its checks) */
            if (direct && !(acc & K_COLON) && (acc & (K_ALPHA | K_HEXL | K_HEXU)) &&
                *a != '.' && z[-1] != '.') {
                queue_domain(sc, a, (size_t)(z - a));
                continue;
            }
            run(sc, a, (size_t)(z - a), acc);
        }
    }
    if (len && buf[len - 1] != '\n')
        lines++;
    return lines;
}

static uint64_t scan_dots_sse2(struct scan *sc, const char *buf, size_t len)
{
    return scan_dots_body(sc, buf, len, masks64_sse2);
}

#if SCAN_AVX2
__attribute__((target("avx2"))) static uint64_t scan_dots_avx2(struct scan *sc,
                                                               const char *buf, size_t len)
{
    return scan_dots_body(sc, buf, len, masks64_avx2);
}
#endif

bool cy_sw_scan_avx2(int set)
{
    classes();
#if SCAN_AVX2
    if (set >= 0)
        use_avx2 = set && __builtin_cpu_supports("avx2");
    return use_avx2;
#else
    (void)set;
    return false;
#endif
}

static uint64_t scan_dots(struct scan *sc, const char *buf, size_t len)
{
#if SCAN_AVX2
    if (use_avx2)
        return scan_dots_avx2(sc, buf, len);
#endif
    return scan_dots_sse2(sc, buf, len);
}

uint64_t cy_sw_scan_text(const cy_sw_set *set, const char *buf, size_t len,
                         uint64_t line0, uint64_t off0, cy_sw_hit_fn fn, void *ud)
{
    struct scan sc = {
        .set = set, .buf = buf, .end = buf + len, .line = line0, .off0 = off0,
        .fn = fn, .ud = ud, .cls = classes(), .prev_idx = -1,
        .has_dom = cy_sw_set_has(set, CY_SW_DOMAIN),
        .has_v4 = cy_sw_set_has(set, CY_SW_IPV4),
        .has_v6 = cy_sw_set_has(set, CY_SW_IPV6),
        .has_hash = cy_sw_set_has(set, CY_SW_MD5) || cy_sw_set_has(set, CY_SW_SHA1) ||
                    cy_sw_set_has(set, CY_SW_SHA256) || cy_sw_set_has(set, CY_SW_SHA512),
        .has_email = cy_sw_set_has(set, CY_SW_EMAIL),
        .has_url = cy_sw_set_has(set, CY_SW_URL),
    };
    bool want_words = has_words(set);
    if (!want_words && !sc.has_hash && !sc.has_v6) {
        uint64_t n = scan_dots(&sc, buf, len);
        if (sc.nbatch && !sc.stop)
            flush(&sc);
        return n;
    }
    const uint8_t *cls = sc.cls;
    const char *p = buf, *end = buf + len, *line_start = buf;
    uint64_t lines = 0;
    while (p < end && !sc.stop) {
        unsigned k = cls[(uint8_t)*p];
        if (!(k & K_RUN)) {
            if (k & K_NL) {
                if (want_words)
                    words(&sc, line_start, p);
                sc.line++;
                lines++;
                line_start = p + 1;
            }
            p++;
            continue;
        }
        const char *s = p;
        unsigned acc = 0;
        do {
            acc |= k;
            p++;
        } while (p < end && ((k = cls[(uint8_t)*p]) & K_RUN));
        run(&sc, s, (size_t)(p - s), acc);
    }
    if (line_start < end && !sc.stop) {
        if (want_words)
            words(&sc, line_start, end);
        lines++;
    }
    if (sc.nbatch && !sc.stop)
        flush(&sc);
    return lines;
}

int cy_sw_scan_value(const cy_sw_set *set, int path, const char *v, size_t len,
                     uint64_t line, uint64_t off, cy_sw_hit_fn fn, void *ud)
{
    cy_sw_found f[FOUND_MAX];
    size_t n = 0;
    uint8_t a[16];
    if (path == CY_SW_DOMAIN) {
        while (len && v[len - 1] == '.')
            len--;
        if (cy_sw_parse_ipv4(v, len, a))
            n = cy_sw_lookup_ip(set, a, 4, f, FOUND_MAX);
        else
            n = cy_sw_lookup_domain(set, v, len, f, FOUND_MAX);
    } else if (path == CY_SW_IPV4 || path == CY_SW_IPV6) {
        if (cy_sw_parse_ipv4(v, len, a))
            n = cy_sw_lookup_ip(set, a, 4, f, FOUND_MAX);
        else if (cy_sw_parse_ipv6(v, len, a))
            n = cy_sw_lookup_ip(set, a, 16, f, FOUND_MAX);
    } else {
        n = cy_sw_lookup_exact(set, path, v, len, f, FOUND_MAX);
    }
    for (size_t i = 0; i < n; i++) {
        cy_sw_hit h = {.entry = f[i].entry, .path = f[i].path, .line = line,
                       .offset = off, .tok = v, .tok_len = len};
        int r = fn(ud, &h);
        if (r)
            return r;
    }
    return 0;
}
