/*
 * set.c: the exact-match engine, the performance core of the sweep.
 *
 * Every indicator value (normalised: domains and hashes folded to lowercase,
 * IPs as binary network + prefix length) is appended to one arena and
 * described by a 12-byte entry.  Once all values are in, cy_sw_set_build
 * makes an open-addressing table (linear probing, load at most 0.8) of
 * 8-byte slots {32-bit tag, entry index}, and a blocked Bloom filter of
 * 16 bits per value whose 64-bit words are read before the table, so that
 * most misses cost one access to a structure a few times smaller than the
 * table.  A lookup hashes the token with a keyed 64-bit hash (key drawn at
 * random per set, so an adversary who writes log lines cannot aim at
 * collisions offline), then compares the candidate's stored bytes: a tag
 * collision is never reported as a hit.
 *
 * The hash reads 8-byte words from the end of its input towards the start.
 * The words of "evil.com" are therefore the last words of "b.evil.com" and
 * "a.b.evil.com" too, and one right-to-left pass over a token yields the
 * hashes of all its label suffixes (each adds one partial word); a bitmap of
 * the lengths of stored domains and the Bloom filter drop almost all of
 * them before the table is touched.  Domain lookups can be split in two
 * (cy_sw_domain_hashes, which prefetches, then cy_sw_domain_probe) so that
 * a scanner overlaps the cache misses of many tokens.
 *
 * Memory per value: one entry (12 bytes), the value bytes, table slots
 * (8 bytes at load 0.4..0.8, so 10..20 bytes) and 2 bytes of Bloom filter:
 * about 47 bytes for 1,000,000 random domains (bench_sweep).
 *
 * Ownership: the set owns everything it points to; cy_sw_set_free releases
 * it all.  Lookups only read and are safe from many threads after build.
 */
#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <sodium.h>

#include "sweep/rx.h"
#include "sweep/sweep.h"

struct entry {
    uint32_t off;   /* value bytes in the arena */
    uint16_t len;
    uint8_t path;
    uint8_t flags;
    uint32_t ref;   /* CY_SW_REF_LIST|n, an atom, or an index into multi */
};
#define E_DEAD 1    /* duplicate folded into an earlier entry */
#define E_MULTI 2   /* ref indexes `multi`: count, then the refs */
#define E_REGEX 4   /* a LIKE/MATCHES expression (rx.c), not in the table */

struct slot {
    uint32_t tag;
    uint32_t ent;   /* entry index + 1; 0 = empty */
};

struct dup {
    uint32_t ent, ref;
};

struct cy_sw_set {
    uint8_t *arena;
    size_t arena_len, arena_cap;
    struct entry *ent;
    size_t n, ent_cap;
    struct slot *slots;            /* in slots_raw (see table_alloc) */
    void *slots_raw;
    uint64_t mask;
    uint64_t *bloom;               /* in bloom_raw */
    void *bloom_raw;
    uint64_t bmask;
    uint64_t key0, key1;
    struct dup *dups;
    size_t ndups, dups_cap;
    uint32_t *multi;
    size_t nmulti;
    size_t duplicates;
    size_t nregex;
    bool built;
    bool dom_rx;                   /* regexes on domains (after build) */
    uint64_t paths_present;
    size_t per_path[CY_SW_PATH_MAX];
    uint64_t dom_lens[4];          /* bit L: a domain of length L (< 256) */
    size_t dom_min;                /* shortest stored domain (after build) */
    size_t dom_nlens;              /* distinct domain lengths (after build) */
    uint8_t dom_len_list[4];       /* them, ascending, when at most 4 */
    uint64_t v4_prefix;            /* bit p: a /p IPv4 entry */
    uint64_t v6_prefix[3];         /* bits 0..128 */
    char *names[CY_SW_PATH_MAX];   /* registered word paths */
    cy_sw_rx *rx;                  /* LIKE/MATCHES databases, or NULL */
    int npaths;
};

/* ---- paths ------------------------------------------------------------ */

static const char *const builtin_names[CY_SW_WORD0] = {
    [CY_SW_NONE] = "",
    [CY_SW_DOMAIN] = "domain-name:value",
    [CY_SW_IPV4] = "ipv4-addr:value",
    [CY_SW_IPV6] = "ipv6-addr:value",
    [CY_SW_URL] = "url:value",
    [CY_SW_EMAIL] = "email-addr:value",
    [CY_SW_MD5] = "file:hashes.MD5",
    [CY_SW_SHA1] = "file:hashes.'SHA-1'",
    [CY_SW_SHA256] = "file:hashes.'SHA-256'",
    [CY_SW_SHA512] = "file:hashes.'SHA-512'",
    [CY_SW_FILE_NAME] = "file:name",
    [CY_SW_FILE_PATH] = "file:path",
    [CY_SW_PROCESS_NAME] = "process:name",
};

/* Lowercased copy of name without quotes, for comparing path spellings. */
static size_t canon(char *out, size_t cap, const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len && n + 1 < cap; i++) {
        char c = s[i];
        if (c == '\'' || c == '-' || c == '_')
            continue;
        if (c >= 'A' && c <= 'Z')
            c = (char)(c + 32);
        out[n++] = c;
    }
    out[n] = 0;
    return n;
}

int cy_sw_path_id(cy_sw_set *set, const char *name, size_t len)
{
    char c[128];
    if (len >= sizeof c)
        return CY_SW_NONE;
    canon(c, sizeof c, name, len);
    static const struct {
        const char *canon;
        int path;
    } known[] = {
        {"domainname:value", CY_SW_DOMAIN},
        {"ipv4addr:value", CY_SW_IPV4},
        {"ipv6addr:value", CY_SW_IPV6},
        {"url:value", CY_SW_URL},
        {"emailaddr:value", CY_SW_EMAIL},
        {"emailmessage:from_ref.value", CY_SW_EMAIL},
        {"file:hashes.md5", CY_SW_MD5},
        {"file:hashes.sha1", CY_SW_SHA1},
        {"file:hashes.sha256", CY_SW_SHA256},
        {"file:hashes.sha512", CY_SW_SHA512},
        {"artifact:hashes.md5", CY_SW_MD5},
        {"artifact:hashes.sha1", CY_SW_SHA1},
        {"artifact:hashes.sha256", CY_SW_SHA256},
        {"file:name", CY_SW_FILE_NAME},
        {"file:path", CY_SW_FILE_PATH},
        {"directory:path", CY_SW_FILE_PATH},
        {"process:name", CY_SW_PROCESS_NAME},
    };
    for (size_t i = 0; i < CY_ARRAY_LEN(known); i++)
        if (strcmp(c, known[i].canon) == 0)
            return known[i].path;
    if (!set)
        return CY_SW_NONE;
    for (int i = 0; i < set->npaths; i++)
        if (strlen(set->names[i]) == len && memcmp(set->names[i], name, len) == 0)
            return CY_SW_WORD0 + i;
    if (CY_SW_WORD0 + set->npaths >= CY_SW_PATH_MAX)
        return CY_SW_NONE;
    char *dup = cy_strndup(name, len);
    if (!dup)
        return CY_SW_NONE;
    set->names[set->npaths] = dup;
    return CY_SW_WORD0 + set->npaths++;
}

const char *cy_sw_path_name(const cy_sw_set *set, int path)
{
    if (path > 0 && path < CY_SW_WORD0)
        return builtin_names[path];
    if (set && path >= CY_SW_WORD0 && path - CY_SW_WORD0 < set->npaths)
        return set->names[path - CY_SW_WORD0];
    return "?";
}

int cy_sw_type_path(const char *t)
{
    static const struct {
        const char *name;
        int path;
    } types[] = {
        {"domain", CY_SW_DOMAIN},     {"ip", CY_SW_IPV4},
        {"ipv4", CY_SW_IPV4},         {"ipv6", CY_SW_IPV6},
        {"url", CY_SW_URL},           {"email", CY_SW_EMAIL},
        {"md5", CY_SW_MD5},           {"sha1", CY_SW_SHA1},
        {"sha256", CY_SW_SHA256},     {"sha512", CY_SW_SHA512},
        {"process", CY_SW_PROCESS_NAME}, {"filename", CY_SW_FILE_NAME},
        {"filepath", CY_SW_FILE_PATH},
    };
    for (size_t i = 0; i < CY_ARRAY_LEN(types); i++)
        if (strcmp(t, types[i].name) == 0)
            return types[i].path;
    return CY_SW_NONE;
}

/* ---- hashing ---------------------------------------------------------- */

/* Byte maps applied while hashing and comparing: ASCII lowercase for the
 * folding paths, identity for the rest.  Filled once (pthread_once) by
 * cy_sw_set_new, read-only afterwards. */
static uint8_t fold_t[256], ident[256];
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

/* Bytes of a plain host name, for cy_sw_set_add's fast path: DC_NAME
 * letters, '-', '_' and bytes >= 0x80, DC_DIGIT, DC_DOT; 0 the rest. */
enum { DC_NAME = 1, DC_DIGIT = 2, DC_DOT = 4 };
static uint8_t dom_class[256];

static void tables_init(void)
{
    for (int i = 0; i < 256; i++) {
        ident[i] = (uint8_t)i;
        fold_t[i] = (uint8_t)((i >= 'A' && i <= 'Z') ? i + 32 : i);
        dom_class[i] = (uint8_t)(((i >= 'a' && i <= 'z') || (i >= 'A' && i <= 'Z') ||
                                  i == '-' || i == '_' || i >= 0x80)
                                     ? DC_NAME
                                 : (i >= '0' && i <= '9') ? DC_DIGIT
                                 : i == '.'               ? DC_DOT
                                                          : 0);
    }
}

static inline const uint8_t *dom_class_table(void)
{
    return dom_class;
}

static inline const uint8_t *fold_table(void)
{
    return fold_t;
}

/*
 * The hash reads 8-byte little-endian words from the END of the value
 * towards its start, then the 1..7 leftover leading bytes as one partial
 * word, then mixes in the length.  Folding paths lowercase each word with
 * SWAR arithmetic (ASCII A-Z only; bytes >= 0x80 are left alone).  Because
 * the full words are taken from the end, all label suffixes of a domain
 * share one chain of word mixes: see cy_sw_lookup_domain.
 */
#define MIX_K 0x9e3779b97f4a7c15ULL
#define ONES 0x0101010101010101ULL

static inline uint64_t seed(const cy_sw_set *s, int path)
{
    return s->key0 ^ ((uint64_t)(path + 1) * 0xd6e8feb86659fd93ULL);
}

static inline uint64_t mix(uint64_t h, uint64_t w)
{
    h = (h ^ w) * MIX_K;
    return h ^ (h >> 29);
}

static inline uint64_t fold8(uint64_t w)
{
    uint64_t low7 = w & (0x7f * ONES);
    uint64_t ge_a = low7 + (0x80 - 'A') * ONES;
    uint64_t gt_z = low7 + (0x80 - 'Z' - 1) * ONES;
    uint64_t upper = ge_a & ~gt_z & ~w & (0x80 * ONES);
    return w | (upper >> 2);
}

static inline uint64_t load8(const uint8_t *p)
{
    uint64_t w;
    memcpy(&w, p, 8);
    return w; /* little-endian hosts only: x86-64, arm64 */
}

/* The r (1..7) bytes at p as a little-endian word; when at least 8 bytes
 * of the value end at p + r (base <= p + r - 8), one unaligned load. */
static inline uint64_t load_tail(const uint8_t *base, const uint8_t *p, size_t r)
{
    if (p + r >= base + 8)
        return load8(p + r - 8) >> (8 * (8 - r));
    uint64_t w = 0;
    for (size_t i = 0; i < r; i++)
        w |= (uint64_t)p[i] << (8 * i);
    return w;
}

static inline uint64_t load_part(const uint8_t *p, size_t r)
{
    uint64_t w = 0;
    for (size_t i = 0; i < r; i++)
        w |= (uint64_t)p[i] << (8 * i);
    return w;
}

/* The final mix: one full 64x64->128 multiply by an odd constant (the
 * key is in h), high and low halves folded (every output bit depends on every
 * input bit, in one multiply's latency). */
static inline uint64_t fmix(const cy_sw_set *s, uint64_t h)
{
    unsigned __int128 m = (unsigned __int128)(h ^ s->key1) * 0x9fb21c651e98df25ULL;
    return (uint64_t)m ^ (uint64_t)(m >> 64);
}

static uint64_t hash_bytes(const cy_sw_set *s, int path, const uint8_t *v,
                           size_t len, bool folds)
{
    uint64_t h = seed(s, path);
    size_t pos = len;
    while (pos >= 8) {
        pos -= 8;
        uint64_t w = load8(v + pos);
        h = mix(h, folds ? fold8(w) : w);
    }
    if (pos) {
        uint64_t w = load_tail(v, v, pos);
        h = mix(h, folds ? fold8(w) : w);
    }
    return fmix(s, h ^ len);
}

static inline bool eq_fold(const uint8_t *stored, const uint8_t *v, size_t len,
                           const uint8_t *fold)
{
    for (size_t i = 0; i < len; i++)
        if (stored[i] != fold[v[i]])
            return false;
    return true;
}

/* ---- building --------------------------------------------------------- */

comity_err cy_sw_set_new(cy_sw_set **out, comity_error *err)
{
    *out = NULL;
    if (sodium_init() < 0)
        return cy_fail(err, COMITY_ERR_INTERNAL, "sweep: libsodium init failed");
    cy_sw_set *s = cy_calloc(1, sizeof *s);
    if (!s)
        return cy_fail(err, COMITY_ERR_NOMEM, "sweep: out of memory");
    randombytes_buf(&s->key0, sizeof s->key0);
    randombytes_buf(&s->key1, sizeof s->key1);
    pthread_once(&tables_once, tables_init);
    *out = s;
    return COMITY_OK;
}

void cy_sw_set_free(cy_sw_set *s)
{
    if (!s)
        return;
    cy_free(s->arena);
    cy_free(s->ent);
    cy_free(s->slots_raw);
    cy_free(s->bloom_raw);
    cy_free(s->dups);
    cy_free(s->multi);
    for (int i = 0; i < s->npaths; i++)
        cy_free(s->names[i]);
    cy_sw_rx_free(s->rx);
    cy_free(s);
}

static comity_err grow_arena(cy_sw_set *s, size_t need, comity_error *err)
{
    if (s->arena_len + need <= s->arena_cap)
        return COMITY_OK;
    size_t cap = s->arena_cap ? s->arena_cap : 4096;
    while (cap < s->arena_len + need)
        cap *= 2;
    if (cap > UINT32_MAX)
        return cy_fail(err, COMITY_ERR_TOOBIG, "sweep: indicator values exceed 4 GiB");
    uint8_t *a = cy_realloc(s->arena, cap);
    if (!a)
        return cy_fail(err, COMITY_ERR_NOMEM, "sweep: out of memory");
    s->arena = a;
    s->arena_cap = cap;
    return COMITY_OK;
}

static comity_err grow_ent(cy_sw_set *s, size_t need, comity_error *err)
{
    if (s->n + need <= s->ent_cap)
        return COMITY_OK;
    size_t cap = s->ent_cap ? s->ent_cap : 256;
    while (cap < s->n + need)
        cap *= 2;
    if (cap > CY_SW_ENTRIES_MAX)
        return cy_fail(err, COMITY_ERR_TOOBIG, "sweep: more than %u indicator values",
                       CY_SW_ENTRIES_MAX);
    struct entry *e = cy_realloc(s->ent, cap * sizeof *e);
    if (!e)
        return cy_fail(err, COMITY_ERR_NOMEM, "sweep: out of memory");
    s->ent = e;
    s->ent_cap = cap;
    return COMITY_OK;
}

comity_err cy_sw_set_reserve(cy_sw_set *s, size_t values, size_t bytes,
                             comity_error *err)
{
    comity_err rc = grow_arena(s, bytes, err);
    if (rc == COMITY_OK)
        rc = grow_ent(s, values, err);
    return rc;
}

int cy_sw_parse_ipv4(const char *s, size_t len, uint8_t out[4])
{
    size_t i = 0;
    for (int part = 0; part < 4; part++) {
        if (part) {
            if (i >= len || s[i] != '.')
                return 0;
            i++;
        }
        unsigned v = 0;
        size_t d = 0;
        while (i < len && s[i] >= '0' && s[i] <= '9' && d < 4) {
            v = v * 10 + (unsigned)(s[i] - '0');
            i++;
            d++;
        }
        if (d == 0 || d > 3 || v > 255)
            return 0;
        out[part] = (uint8_t)v;
    }
    return i == len;
}

int cy_sw_parse_ipv6(const char *s, size_t len, uint8_t out[16])
{
    char tmp[64];
    if (len == 0 || len >= sizeof tmp)
        return 0;
    memcpy(tmp, s, len);
    tmp[len] = 0;
    return inet_pton(AF_INET6, tmp, out) == 1;
}

static void mask_addr(uint8_t *a, size_t alen, unsigned prefix)
{
    for (size_t i = 0; i < alen; i++) {
        unsigned bits = i * 8;
        if (bits >= prefix)
            a[i] = 0;
        else if (prefix - bits < 8)
            a[i] &= (uint8_t)(0xff00u >> (prefix - bits));
    }
}

static inline comity_err append(cy_sw_set *s, int path, const uint8_t *v, size_t len,
                                uint32_t ref, comity_error *err)
{
    comity_err rc = grow_arena(s, len, err);
    if (rc == COMITY_OK)
        rc = grow_ent(s, 1, err);
    if (rc != COMITY_OK)
        return rc;
    struct entry *e = &s->ent[s->n++];
    e->off = (uint32_t)s->arena_len;
    e->len = (uint16_t)len;
    e->path = (uint8_t)path;
    e->flags = 0;
    e->ref = ref;
    memcpy(s->arena + s->arena_len, v, len);
    s->arena_len += len;
    s->paths_present |= 1ULL << path;
    s->per_path[path]++;
    return COMITY_OK;
}

/* An IP address or CIDR range as a key: prefix length, then the address
 * masked to it (4 or 16 bytes).  OUT key[17], *klen, *kpath. */
static comity_err norm_ip(const char *v, size_t len, uint8_t *key, size_t *klen, int *kpath,
                          comity_error *err)
{
    const char *slash = memchr(v, '/', len);
    size_t alen_txt = slash ? (size_t)(slash - v) : len;
    size_t alen;
    unsigned maxp;
    int path;
    if (cy_sw_parse_ipv4(v, alen_txt, key + 1)) {
        path = CY_SW_IPV4;
        alen = 4;
        maxp = 32;
    } else if (cy_sw_parse_ipv6(v, alen_txt, key + 1)) {
        path = CY_SW_IPV6;
        alen = 16;
        maxp = 128;
    } else {
        return cy_fail(err, COMITY_ERR_INVALID, "sweep: '%.*s' is not an IP address",
                       (int)(len > 64 ? 64 : len), v);
    }
    unsigned prefix = maxp;
    if (slash) {
        size_t i = alen_txt + 1;
        if (i >= len || len - i > 3)
            return cy_fail(err, COMITY_ERR_INVALID, "sweep: bad CIDR prefix in '%.*s'",
                           (int)len, v);
        prefix = 0;
        for (; i < len; i++) {
            if (v[i] < '0' || v[i] > '9')
                return cy_fail(err, COMITY_ERR_INVALID,
                               "sweep: bad CIDR prefix in '%.*s'", (int)len, v);
            prefix = prefix * 10 + (unsigned)(v[i] - '0');
        }
        if (prefix > maxp)
            return cy_fail(err, COMITY_ERR_INVALID, "sweep: CIDR prefix /%u too long",
                           prefix);
    }
    mask_addr(key + 1, alen, prefix);
    key[0] = (uint8_t)prefix;
    *klen = alen + 1;
    *kpath = path;
    return COMITY_OK;
}

static bool is_hex(const char *v, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char c = v[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
            return false;
    }
    return true;
}

comity_err cy_sw_normalise(int path, const char *v, size_t len, uint8_t *buf, size_t *klen,
                           int *kpath, const char **note, comity_error *err)
{
    if (note)
        *note = NULL;
    *klen = 0;
    *kpath = path;
    if (path <= CY_SW_NONE || path >= CY_SW_PATH_MAX)
        return cy_fail(err, COMITY_ERR_USAGE, "sweep: bad path %d", path);
    pthread_once(&tables_once, tables_init);
    while (len && (v[0] == ' ' || v[0] == '\t'))
        v++, len--;
    while (len && (v[len - 1] == ' ' || v[len - 1] == '\t' || v[len - 1] == '\r'))
        len--;
    if (len == 0)
        return cy_fail(err, COMITY_ERR_INVALID, "sweep: empty value");
    if (len > CY_SW_VALUE_MAX)
        return cy_fail(err, COMITY_ERR_TOOBIG, "sweep: value longer than %u bytes",
                       CY_SW_VALUE_MAX);
    const uint8_t *fold = fold_table();

    switch (path) {
    case CY_SW_IPV4:
    case CY_SW_IPV6:
        return norm_ip(v, len, buf, klen, kpath, err);
    case CY_SW_DOMAIN: {
        /* The common case first, in one pass: a plain host name (letters,
         * digits, '-', '_', UTF-8, dots; a letter somewhere, so not an IP;
         * no trailing dot), folded as it is checked.  Anything else (a
         * scheme, a path, an IP, a bad byte) takes the general path. */
        if (len <= 253 && v[len - 1] != '.') {
            const uint8_t *dc = dom_class_table();
            unsigned seen = 0;
            size_t i = 0;
            for (; i < len; i++) {
                unsigned k = dc[(uint8_t)v[i]];
                if (!k)
                    break;
                seen |= k;
                buf[i] = fold[(uint8_t)v[i]];
            }
            if (i == len && (seen & DC_NAME)) {
                *klen = len;
                return COMITY_OK;
            }
        }
        const char *sep = NULL;
        for (size_t i = 0; i + 3 <= len && !sep; i++)
            if (v[i] == ':' && v[i + 1] == '/' && v[i + 2] == '/')
                sep = v + i;
        if (sep) {
            len -= (size_t)(sep + 3 - v);
            v = sep + 3;
            if (note)
                *note = "URL given as domain-name: host part used";
        }
        const char *slash = memchr(v, '/', len);
        uint8_t ip4[4];
        if (slash && cy_sw_parse_ipv4(v, (size_t)(slash - v), ip4)) {
            if (note)
                *note = "IP range given as domain-name: matched as an IP range";
            return norm_ip(v, len, buf, klen, kpath, err);
        }
        if (slash) {
            len = (size_t)(slash - v);
            if (note && !*note)
                *note = "domain-name value with a path: host part used";
        }
        while (len && v[len - 1] == '.')
            len--;
        if (len == 0)
            return cy_fail(err, COMITY_ERR_INVALID, "sweep: empty domain name");
        uint8_t ip[16];
        if (cy_sw_parse_ipv4(v, len, ip) || (memchr(v, ':', len) && cy_sw_parse_ipv6(v, len, ip))) {
            if (note)
                *note = "IP address given as domain-name: matched as an IP";
            return norm_ip(v, len, buf, klen, kpath, err);
        }
        if (len > 253)
            return cy_fail(err, COMITY_ERR_INVALID, "sweep: domain name longer than 253 bytes");
        for (size_t i = 0; i < len; i++) {
            uint8_t c = fold[(uint8_t)v[i]];
            if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                  c == '_' || c == '.' || c >= 0x80))
                return cy_fail(err, COMITY_ERR_INVALID,
                               "sweep: domain name has '%c' at byte %zu", c, i);
            buf[i] = c;
        }
        *klen = len;
        return COMITY_OK;
    }
    case CY_SW_MD5:
    case CY_SW_SHA1:
    case CY_SW_SHA256:
    case CY_SW_SHA512: {
        size_t want = path == CY_SW_MD5 ? 32 : path == CY_SW_SHA1 ? 40
                      : path == CY_SW_SHA256 ? 64 : 128;
        if (len != want || !is_hex(v, len))
            return cy_fail(err, COMITY_ERR_INVALID,
                           "sweep: %s value must be %zu hex digits", cy_sw_path_name(NULL, path), want);
        break;
    }
    case CY_SW_EMAIL:
        if (!memchr(v, '@', len))
            return cy_fail(err, COMITY_ERR_INVALID, "sweep: email address without '@'");
        break;
    default:
        break;
    }
    const uint8_t *f = cy_sw_path_folds(path) ? fold : ident;
    for (size_t i = 0; i < len; i++)
        buf[i] = f[(uint8_t)v[i]];
    *klen = len;
    return COMITY_OK;
}

comity_err cy_sw_set_add(cy_sw_set *s, int path, const char *v, size_t len,
                         uint32_t ref, const char **note, comity_error *err)
{
    if (note)
        *note = NULL;
    if (s->built)
        return cy_fail(err, COMITY_ERR_USAGE, "sweep: set already built");
    uint8_t buf[CY_SW_KEY_MAX];
    size_t klen;
    int kpath;
    comity_err rc = cy_sw_normalise(path, v, len, buf, &klen, &kpath, note, err);
    if (rc != COMITY_OK)
        return rc;
    if (kpath == CY_SW_DOMAIN)
        s->dom_lens[klen / 64] |= 1ULL << (klen % 64);
    else if (kpath == CY_SW_IPV4)
        s->v4_prefix |= 1ULL << buf[0];
    else if (kpath == CY_SW_IPV6)
        s->v6_prefix[buf[0] / 64] |= 1ULL << (buf[0] % 64);
    return append(s, kpath, buf, klen, ref, err);
}

comity_err cy_sw_set_add_regex(cy_sw_set *s, int path, const char *v, size_t len,
                               bool like, uint32_t ref, comity_error *err)
{
    if (s->built)
        return cy_fail(err, COMITY_ERR_USAGE, "sweep: set already built");
    if (path <= CY_SW_NONE || path >= CY_SW_PATH_MAX)
        return cy_fail(err, COMITY_ERR_USAGE, "sweep: bad path %d", path);
    if (len > CY_SW_VALUE_MAX)
        return cy_fail(err, COMITY_ERR_TOOBIG, "sweep: expression longer than %u bytes",
                       CY_SW_VALUE_MAX);
    comity_err rc = cy_sw_rx_add(&s->rx, path, v, len, like, (uint32_t)s->n, err);
    if (rc == COMITY_OK)
        rc = append(s, path, (const uint8_t *)v, len, ref, err);
    if (rc == COMITY_OK) {
        s->ent[s->n - 1].flags |= E_REGEX;
        s->per_path[path]--;
        s->nregex++;
    }
    return rc;
}

static uint64_t pow2_at_least(uint64_t n)
{
    uint64_t p = 16;
    while (p < n)
        p *= 2;
    return p;
}

#define BUILD_AHEAD 16

/*
 * The table and the filter are probed at random, once or twice per domain
 * token: with 1,000,000 values they span 16 MiB and 2 MiB, and with 4 KiB
 * pages nearly every probe also misses the TLB (a long page walk, longer
 * still in a virtual machine).  Tables of 2 MiB and more are therefore
 * placed on a 2 MiB boundary (allocated 2 MiB larger; the slack is never
 * written, so it costs address space, not memory) and the kernel is asked for transparent huge pages there (a
 * hint: ignored when they are off).  *raw gets what cy_free takes.
 */
#define HUGE_PAGE ((size_t)2 << 20)

static void *table_alloc(size_t n, void **raw)
{
    if (n < HUGE_PAGE) {
        *raw = cy_calloc(1, n);
        return *raw;
    }
    *raw = cy_malloc(n + HUGE_PAGE);
    if (!*raw)
        return NULL;
    uint8_t *p = (uint8_t *)(((uintptr_t)*raw + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
#ifdef MADV_HUGEPAGE
    (void)madvise(p, n & ~(HUGE_PAGE - 1), MADV_HUGEPAGE);
#endif
    memset(p, 0, n); /* only the table is touched, not the slack */
    return p;
}

static int dup_cmp(const void *a, const void *b)
{
    const struct dup *x = a, *y = b;
    if (x->ent != y->ent)
        return x->ent < y->ent ? -1 : 1;
    return x->ref < y->ref ? -1 : x->ref > y->ref;
}

comity_err cy_sw_set_build(cy_sw_set *s, comity_error *err)
{
    if (s->built)
        return COMITY_OK;
    /* Give back what doubling over-allocated: the set is final now. */
    if (s->arena_cap > s->arena_len && s->arena_len) {
        uint8_t *a = cy_realloc(s->arena, s->arena_len);
        if (a) {
            s->arena = a;
            s->arena_cap = s->arena_len;
        }
    }
    if (s->ent_cap > s->n && s->n) {
        struct entry *e = cy_realloc(s->ent, s->n * sizeof *e);
        if (e) {
            s->ent = e;
            s->ent_cap = s->n;
        }
    }
    uint64_t cap = pow2_at_least(s->n + s->n / 4 + 1);
    s->slots = table_alloc(cap * sizeof *s->slots, &s->slots_raw);
    uint64_t bw = pow2_at_least((s->n + 3) / 4);
    s->bloom = table_alloc(bw * sizeof *s->bloom, &s->bloom_raw);
    if (!s->slots || !s->bloom)
        return cy_fail(err, COMITY_ERR_NOMEM, "sweep: out of memory building the table");
    s->mask = cap - 1;
    s->bmask = bw - 1;
    /* Hashes run BUILD_AHEAD entries ahead of the inserts, prefetching
     * their slot and filter word, so that the cache misses of a big table
     * overlap instead of coming one at a time. */
    uint64_t ahead[2 * BUILD_AHEAD]; /* entry i's hash at i % (2 * BUILD_AHEAD) */
    for (size_t i = 0; i < s->n + BUILD_AHEAD; i++) {
        if (i < s->n) {
            const struct entry *e = &s->ent[i];
            uint64_t h = hash_bytes(s, e->path, s->arena + e->off, e->len, false);
            ahead[i % (2 * BUILD_AHEAD)] = h;
            __builtin_prefetch(&s->slots[h & s->mask], 1);
            __builtin_prefetch(&s->bloom[(h >> 8) & s->bmask], 1);
        }
        if (i < BUILD_AHEAD)
            continue;
        size_t at = i - BUILD_AHEAD;
        struct entry *e = &s->ent[at];
        if (e->flags & E_REGEX)
            continue;
        const uint8_t *val = s->arena + e->off;
        uint64_t h = ahead[at % (2 * BUILD_AHEAD)];
        uint32_t tag = (uint32_t)(h >> 32);
        uint64_t j = h & s->mask;
        for (;;) {
            struct slot *sl = &s->slots[j];
            if (sl->ent == 0) {
                sl->ent = (uint32_t)at + 1;
                sl->tag = tag;
                s->bloom[(h >> 8) & s->bmask] |= (1ULL << ((h >> 40) & 63)) |
                                                  (1ULL << ((h >> 46) & 63));
                break;
            }
            struct entry *o = &s->ent[sl->ent - 1];
            if (sl->tag == tag && o->path == e->path && o->len == e->len &&
                memcmp(s->arena + o->off, val, e->len) == 0) {
                e->flags |= E_DEAD;
                s->duplicates++;
                s->per_path[e->path]--;
                if (o->ref != e->ref) {
                    if (s->ndups == s->dups_cap) {
                        size_t nc = s->dups_cap ? s->dups_cap * 2 : 64;
                        struct dup *d = cy_realloc(s->dups, nc * sizeof *d);
                        if (!d)
                            return cy_fail(err, COMITY_ERR_NOMEM, "sweep: out of memory");
                        s->dups = d;
                        s->dups_cap = nc;
                    }
                    s->dups[s->ndups++] = (struct dup){sl->ent - 1, e->ref};
                }
                break;
            }
            j = (j + 1) & s->mask;
        }
    }
    if (s->ndups) {
        /* Gather, per entry with several refs: count, own ref, the others. */
        qsort(s->dups, s->ndups, sizeof *s->dups, dup_cmp);
        s->multi = cy_malloc((s->ndups * 3 + 1) * sizeof *s->multi);
        if (!s->multi)
            return cy_fail(err, COMITY_ERR_NOMEM, "sweep: out of memory");
        size_t i = 0;
        while (i < s->ndups) {
            uint32_t en = s->dups[i].ent;
            size_t at = s->nmulti;
            struct entry *e = &s->ent[en];
            s->multi[at] = 1;
            s->multi[at + 1] = e->ref;
            s->nmulti += 2;
            for (; i < s->ndups && s->dups[i].ent == en; i++) {
                uint32_t r = s->dups[i].ref;
                bool seen = false;
                for (uint32_t k = 0; k < s->multi[at]; k++)
                    seen |= s->multi[at + 1 + k] == r;
                if (!seen) {
                    s->multi[s->nmulti++] = r;
                    s->multi[at]++;
                }
            }
            e->ref = (uint32_t)at;
            e->flags |= E_MULTI;
        }
        cy_free(s->dups);
        s->dups = NULL;
        s->ndups = s->dups_cap = 0;
    }
    s->dom_min = SIZE_MAX;
    for (size_t l = 0; l < 256; l++) {
        if (!((s->dom_lens[l / 64] >> (l % 64)) & 1))
            continue;
        if (s->dom_min == SIZE_MAX)
            s->dom_min = l;
        if (s->dom_nlens < 4)
            s->dom_len_list[s->dom_nlens] = (uint8_t)l;
        s->dom_nlens++;
    }
    comity_err rc = cy_sw_rx_build(s->rx, err);
    if (rc != COMITY_OK)
        return rc;
    s->dom_rx = cy_sw_rx_has(s->rx, CY_SW_DOMAIN);
    s->built = true;
    return COMITY_OK;
}

void cy_sw_set_stats(const cy_sw_set *s, cy_sw_stats *st)
{
    memset(st, 0, sizeof *st);
    st->values = s->n - s->duplicates - s->nregex;
    st->duplicates = s->duplicates;
    st->bytes = sizeof *s + s->arena_cap + s->ent_cap * sizeof *s->ent +
                (s->slots ? (s->mask + 1) * sizeof *s->slots : 0) +
                (s->bloom ? (s->bmask + 1) * sizeof *s->bloom : 0) +
                s->nmulti * sizeof *s->multi + s->dups_cap * sizeof *s->dups;
    memcpy(st->per_path, s->per_path, sizeof st->per_path);
}

bool cy_sw_set_has(const cy_sw_set *s, int path)
{
    return path > 0 && path < CY_SW_PATH_MAX && (s->paths_present >> path) & 1;
}

const char *cy_sw_key_text(int path, const uint8_t *v, size_t len, char *out, size_t cap)
{
    if ((path == CY_SW_IPV4 && len == 5) || (path == CY_SW_IPV6 && len == 17)) {
        char a[INET6_ADDRSTRLEN];
        inet_ntop(path == CY_SW_IPV4 ? AF_INET : AF_INET6, v + 1, a, sizeof a);
        unsigned maxp = path == CY_SW_IPV4 ? 32 : 128;
        if (v[0] == maxp)
            snprintf(out, cap, "%s", a);
        else
            snprintf(out, cap, "%s/%u", a, v[0]);
    } else {
        snprintf(out, cap, "%.*s", (int)len, (const char *)v);
    }
    return out;
}

const char *cy_sw_set_value(const cy_sw_set *s, uint32_t entry, char *out, size_t cap)
{
    const struct entry *e = &s->ent[entry];
    return cy_sw_key_text(e->path, s->arena + e->off, e->len, out, cap);
}

size_t cy_sw_set_refs(const cy_sw_set *s, uint32_t entry, const uint32_t **refs)
{
    const struct entry *e = &s->ent[entry];
    if (e->flags & E_MULTI) {
        *refs = &s->multi[e->ref + 1];
        return s->multi[e->ref];
    }
    *refs = &e->ref;
    return 1;
}

/* ---- lookups ---------------------------------------------------------- */

/* One probe of hash h for value v; returns 1 and fills *out on a hit. */
static inline int probe(const cy_sw_set *s, uint64_t h, int path,
                        const uint8_t *v, size_t len, const uint8_t *fold,
                        cy_sw_found *out)
{
    uint64_t w = s->bloom[(h >> 8) & s->bmask];
    uint64_t m = (1ULL << ((h >> 40) & 63)) | (1ULL << ((h >> 46) & 63));
    if ((w & m) != m)
        return 0;
    uint32_t tag = (uint32_t)(h >> 32);
    for (uint64_t j = h & s->mask;; j = (j + 1) & s->mask) {
        struct slot sl = s->slots[j];
        if (sl.ent == 0)
            return 0;
        if (sl.tag != tag)
            continue;
        const struct entry *e = &s->ent[sl.ent - 1];
        if (e->path == path && e->len == len && eq_fold(s->arena + e->off, v, len, fold)) {
            out->entry = sl.ent - 1;
            out->path = path;
            return 1;
        }
    }
}

size_t cy_sw_lookup_exact(const cy_sw_set *s, int path, const char *v,
                          size_t len, cy_sw_found *out, size_t cap)
{
    if (!s->built || cap == 0 || !cy_sw_set_has(s, path) || len > CY_SW_VALUE_MAX)
        return 0;
    const uint8_t *fold = cy_sw_path_folds(path) ? fold_table() : ident;
    uint64_t h = hash_bytes(s, path, (const uint8_t *)v, len, cy_sw_path_folds(path));
    size_t n = (size_t)probe(s, h, path, (const uint8_t *)v, len, fold, out);
    if (s->rx)
        n += cy_sw_rx_match(s->rx, path, v, len, out + n, cap - n);
    return n;
}

/* The bytes u[end-8 .. end) as a little-endian word, bytes before u
 * (when end < 8) zero: read with one unaligned load when the caller says
 * that `before` bytes in front of u are readable, else byte by byte. */
static inline uint64_t word_ending(const uint8_t *u, size_t end, size_t before)
{
    if (end >= 8)
        return load8(u + end - 8);
    if (end == 0)
        return 0;
    if (before >= 8 - end)
        return load8(u - (8 - end)) >> (8 * (8 - end));
    return load_part(u, end);
}

/* The r (1..7) bytes u[i .. i+r) as a little-endian word; one unaligned
 * load when the 8 bytes ending at u + i + r are readable. */
static inline uint64_t tail_word(const uint8_t *u, size_t i, size_t r, size_t before)
{
    if (i + r >= 8 || before >= 8 - (i + r))
        return load8(u + i + r - 8) >> (8 * (8 - r));
    return load_part(u + i, r);
}

/* Queues the hash of the suffix of length l starting at u + i (chain holds
 * the mix of its last l / 8 words); false when the queue is full. */
static inline bool queue_suffix(const cy_sw_set *s, const uint8_t *u, size_t i, size_t l,
                                uint64_t chain, size_t before, cy_sw_dq *q)
{
    if (q->n == CY_SW_DQ_MAX)
        return false;
    uint64_t h = chain;
    if (l % 8)
        h = mix(h, fold8(tail_word(u, i, l % 8, before)));
    h = fmix(s, h ^ l);
    q->h[q->n] = h;
    q->at[q->n] = (uint8_t)i;
    q->n++;
    __builtin_prefetch(&s->bloom[(h >> 8) & s->bmask]);
    return true;
}

size_t cy_sw_domain_hashes_at(const cy_sw_set *s, const char *v, size_t len, size_t before,
                              cy_sw_dq *q)
{
    q->n = 0;
    if (!s->built || !((s->paths_present >> CY_SW_DOMAIN) & 1) || len > 253)
        return 0;
    if (s->dom_rx)
        return SIZE_MAX; /* the caller looks up one by one, with the regexes */
    if (len < s->dom_min)
        return 0;
    const uint8_t *u = (const uint8_t *)v;
    uint64_t chain = seed(s, CY_SW_DOMAIN);
    size_t words = 0;
    if (s->dom_nlens <= 4) {
        /* Few distinct lengths (small sets): test those positions only. */
        for (size_t k = 0; k < s->dom_nlens; k++) {
            size_t l = s->dom_len_list[k];
            if (l > len)
                break;
            size_t i = len - l;
            if (i > 0 && u[i - 1] != '.')
                continue;
            while (words < l / 8) {
                words++;
                chain = mix(chain, fold8(load8(u + len - 8 * words)));
            }
            if (!queue_suffix(s, u, i, l, chain, before, q))
                return SIZE_MAX;
        }
        return q->n;
    }
    /* One pass from the end: the dots of each 8-byte word (the exact SWAR
     * zero-byte test on w ^ "........"), last first; each dot starts a
     * label suffix, probed when some stored domain has its length.  The
     * suffixes come shortest first, so the chain of full words is shared. */
    for (size_t end = len; end > 0;) {
        size_t at = end >= 8 ? end - 8 : 0;
        uint64_t x = word_ending(u, end, before) ^ ('.' * ONES);
        uint64_t z = ~(((x & (0x7f * ONES)) + 0x7f * ONES) | x | (0x7f * ONES));
        /* bytes before u read as zero or were shifted out: never a dot */
        while (z) {
            unsigned hb = 63 - (unsigned)__builtin_clzll(z);
            z &= ~(1ULL << hb);
            size_t i = at + hb / 8 + 1;
            size_t l = len - i;
            if (l == 0 || !((s->dom_lens[l / 64] >> (l % 64)) & 1))
                continue;
            while (words < l / 8) {
                words++;
                chain = mix(chain, fold8(load8(u + len - 8 * words)));
            }
            if (!queue_suffix(s, u, i, l, chain, before, q))
                return SIZE_MAX;
        }
        end = at;
    }
    if ((s->dom_lens[len / 64] >> (len % 64)) & 1) {
        while (words < len / 8) {
            words++;
            chain = mix(chain, fold8(load8(u + len - 8 * words)));
        }
        if (!queue_suffix(s, u, 0, len, chain, before, q))
            return SIZE_MAX;
    }
    return q->n;
}

size_t cy_sw_domain_hashes(const cy_sw_set *s, const char *v, size_t len, cy_sw_dq *q)
{
    return cy_sw_domain_hashes_at(s, v, len, 0, q);
}

size_t cy_sw_domain_probe(const cy_sw_set *s, const char *v, size_t len,
                          const cy_sw_dq *q, cy_sw_found *out, size_t cap)
{
    const uint8_t *u = (const uint8_t *)v;
    size_t n = 0;
    for (size_t k = 0; k < q->n && n < cap; k++)
        n += (size_t)probe(s, q->h[k], CY_SW_DOMAIN, u + q->at[k], len - q->at[k], fold_t,
                           out + n);
    return n;
}

size_t cy_sw_lookup_domain(const cy_sw_set *s, const char *v, size_t len,
                           cy_sw_found *out, size_t cap)
{
    if (!s->built || !((s->paths_present >> CY_SW_DOMAIN) & 1) || len > 253)
        return 0;
    cy_sw_dq q;
    if (cy_sw_domain_hashes(s, v, len, &q) != SIZE_MAX)
        return cy_sw_domain_probe(s, v, len, &q, out, cap);
    /* More than CY_SW_DQ_MAX candidate suffixes, or regexes: one at a time. */
    size_t n = 0;
    if (s->rx)
        n += cy_sw_rx_match(s->rx, CY_SW_DOMAIN, v, len, out, cap);
    const uint8_t *u = (const uint8_t *)v;
    for (size_t i = len; i-- > 0 && n < cap;) {
        if (i > 0 && u[i - 1] != '.')
            continue;
        size_t l = len - i;
        if (!((s->dom_lens[l / 64] >> (l % 64)) & 1))
            continue;
        uint64_t h = hash_bytes(s, CY_SW_DOMAIN, u + i, l, true);
        n += (size_t)probe(s, h, CY_SW_DOMAIN, u + i, l, fold_t, out + n);
    }
    return n;
}

size_t cy_sw_lookup_ip(const cy_sw_set *s, const uint8_t *addr, size_t alen,
                       cy_sw_found *out, size_t cap)
{
    int path = alen == 4 ? CY_SW_IPV4 : CY_SW_IPV6;
    if (!s->built || cap == 0 || !cy_sw_set_has(s, path))
        return 0;
    unsigned maxp = alen == 4 ? 32 : 128;
    uint8_t key[17];
    for (int p = (int)maxp; p >= 0; p--) {
        bool present = alen == 4 ? (s->v4_prefix >> p) & 1
                                 : (s->v6_prefix[p / 64] >> (p % 64)) & 1;
        if (!present)
            continue;
        key[0] = (uint8_t)p;
        memcpy(key + 1, addr, alen);
        mask_addr(key + 1, alen, (unsigned)p);
        uint64_t h = hash_bytes(s, path, key, alen + 1, false);
        if (probe(s, h, path, key, alen + 1, ident, out))
            return 1;
    }
    return 0;
}

int cy_sw_set_entry_path(const cy_sw_set *s, uint32_t entry)
{
    return s->ent[entry].path;
}
