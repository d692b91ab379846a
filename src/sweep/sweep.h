/*
 * sweep.h: the sweep engine's private interface (src/sweep/).
 *
 * A sweep turns indicators into one compiled matcher set (cy_sw_set) and
 * runs input through it.  The set holds exact values in one compact
 * open-addressing table of 32-bit tags keyed by a keyed 64-bit hash, with a
 * small blocked Bloom filter in front; every candidate is verified against
 * the stored bytes, so a tag collision never becomes a false hit.  Values
 * live in one arena.  Domains match themselves and their subdomains: the
 * scanner hashes each label suffix of a token from the right.  IPv4/IPv6
 * values and CIDR ranges are stored masked, one entry per (prefix length,
 * network), and looked up from the longest prefix present to the shortest.
 *
 * Indicators come in two kinds.  Plain-list values (one domain, IP or hash a
 * line) cost one table entry and nothing else: the entry is the indicator.
 * STIX indicators are compiled into atoms (object path, operator, value)
 * grouped into observations (what one input record must satisfy) and a
 * pattern tree over observations; see compile.c.
 *
 * Layering: sweep uses base and the stix module (bundle loader, pattern
 * AST), and libsodium (keys, SHA-256/512, BLAKE2b), nettle (MD5, SHA-1),
 * zlib, jansson and vectorscan; nothing above it.
 */
#ifndef COMITY_SWEEP_H
#define COMITY_SWEEP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/base.h"

/* ---- caps on outside input ------------------------------------------- */

#define CY_SW_VALUE_MAX 4096u          /* bytes in one indicator value */
#define CY_SW_LIST_MAX (1u << 30)      /* bytes in one plain indicator list */
#define CY_SW_ENTRIES_MAX (1u << 28)   /* values in one set */
#define CY_SW_LINE_MAX (1u << 20)      /* a longer line is cut into pieces */
#define CY_SW_BLOCK (4u << 20)         /* bytes a worker scans at a time */
#define CY_SW_FIELDS_MAX 64            /* --map entries */
#define CY_SW_JSON_DEPTH 16            /* nesting followed in JSON lines */

/* ---- object paths ---------------------------------------------------- */

/* The object paths the engine knows how to look for.  Values of the
 * case-insensitive ones (domains, emails, hashes) are folded to lowercase
 * when stored and when looked up. */
enum cy_sw_path {
    CY_SW_NONE = 0,
    CY_SW_DOMAIN,        /* domain-name:value (suffix match) */
    CY_SW_IPV4,          /* ipv4-addr:value (CIDR) */
    CY_SW_IPV6,          /* ipv6-addr:value (CIDR) */
    CY_SW_URL,           /* url:value */
    CY_SW_EMAIL,         /* email-addr:value */
    CY_SW_MD5,           /* file:hashes.MD5 */
    CY_SW_SHA1,          /* file:hashes.'SHA-1' */
    CY_SW_SHA256,        /* file:hashes.'SHA-256' */
    CY_SW_SHA512,        /* file:hashes.'SHA-512' (directories only) */
    CY_SW_FILE_NAME,     /* file:name */
    CY_SW_FILE_PATH,     /* file:path (and directory:path) */
    CY_SW_PROCESS_NAME,  /* process:name */
    CY_SW_WORD0,         /* first of the "name-like" paths registered at run
                          * time: app:id, android-property:name, ... */
    CY_SW_PATH_MAX = 64
};

/* 1 for paths whose values are compared case-insensitively (folded to
 * lowercase when stored and looked up: set.c, rx.c). */
static inline bool cy_sw_path_folds(int path)
{
    return path == CY_SW_DOMAIN || path == CY_SW_EMAIL || path == CY_SW_MD5 ||
           path == CY_SW_SHA1 || path == CY_SW_SHA256 || path == CY_SW_SHA512;
}

/* Maps "domain-name:value", "file:hashes.'SHA-256'", "file:hashes.sha256"
 * ... to a path id; unknown paths are registered as name-like word paths
 * (returns CY_SW_NONE when the table is full).  `set` keeps the names. */
typedef struct cy_sw_set cy_sw_set;
int cy_sw_path_id(cy_sw_set *set, const char *name, size_t len);
const char *cy_sw_path_name(const cy_sw_set *set, int path);
/* The path a plain list's --type names (domain, ip, ipv4, ipv6, url, email,
 * md5, sha1, sha256, sha512, process, filename, filepath); CY_SW_NONE when
 * unknown. */
int cy_sw_type_path(const char *type);

/* ---- the exact-match set (set.c) ------------------------------------- */

/* What a stored value stands for: a plain-list value (the entry is its own
 * indicator) or an atom of a compiled STIX pattern. */
#define CY_SW_REF_LIST 0x80000000u

/* Creates an empty set.  OUT *set: cy_sw_set_free. */
comity_err cy_sw_set_new(cy_sw_set **set, comity_error *err);
void cy_sw_set_free(cy_sw_set *set);
/* Size hints so that big lists allocate once (optional). */
comity_err cy_sw_set_reserve(cy_sw_set *set, size_t values, size_t bytes,
                             comity_error *err);

/*
 * Adds one value of `path`, normalising it: domains lose a trailing dot,
 * fold case, and a value with a path ("evil.com/x") keeps its host part;
 * an IP literal given as a domain goes to the IP table; IPs accept CIDR
 * suffixes; hashes must be hex of the right length.  `ref` is
 * CY_SW_REF_LIST | source-index for plain lists or an atom index.  A value
 * already present with the same ref is a duplicate and is counted, not
 * stored twice.  *note (may be NULL) gets a static remark when the value
 * was normalised ("IP address given as domain-name").
 */
comity_err cy_sw_set_add(cy_sw_set *set, int path, const char *val,
                         size_t len, uint32_t ref, const char **note,
                         comity_error *err);
/*
 * The sweep's normalisation of one value of `path`, without storing it
 * (cy_sw_set_add is this, then an append; the correlation index of
 * src/correlate uses it too, so that both agree on what "the same value"
 * is).  OUT buf[CY_SW_KEY_MAX]: the key (domains, e-mails and hashes folded
 * to lowercase, a domain's host part only and no trailing dot; IPs and
 * CIDRs as one byte of prefix length then the address masked to it), its
 * length *klen, and the path it belongs to *kpath (an IP given as a
 * domain becomes CY_SW_IPV4 or CY_SW_IPV6).  *note as for cy_sw_set_add.
 * No allocation.
 */
#define CY_SW_KEY_MAX CY_SW_VALUE_MAX
comity_err cy_sw_normalise(int path, const char *val, size_t len, uint8_t *buf,
                           size_t *klen, int *kpath, const char **note,
                           comity_error *err);
/* A key of cy_sw_normalise as text (IPs written back, "/p" when a range),
 * NUL-terminated into out[cap]; returns out. */
const char *cy_sw_key_text(int path, const uint8_t *key, size_t klen, char *out,
                           size_t cap);
/* Adds a LIKE (like=true) or MATCHES expression for `path` (rx.c); its
 * matches are hits of a new entry carrying `ref`.  Fails with
 * COMITY_ERR_INVALID when vectorscan cannot compile it. */
comity_err cy_sw_set_add_regex(cy_sw_set *set, int path, const char *val,
                               size_t len, bool like, uint32_t ref,
                               comity_error *err);
/* Builds the lookup table; no adds afterwards.  Idempotent. */
comity_err cy_sw_set_build(cy_sw_set *set, comity_error *err);

/* Counts for reports and the memory figure. */
typedef struct cy_sw_stats {
    size_t values;       /* distinct stored values */
    size_t duplicates;   /* values added again */
    size_t bytes;        /* heap bytes held by the set */
    size_t per_path[CY_SW_PATH_MAX];
} cy_sw_stats;
void cy_sw_set_stats(const cy_sw_set *set, cy_sw_stats *st);

/* One stored value that matched: the refs it carries (usually one). */
typedef struct cy_sw_found {
    uint32_t entry;      /* entry index, for cy_sw_set_value */
    int path;
} cy_sw_found;

/* Stored value of an entry (normalised form; IPs as text). Writes up to cap
 * bytes NUL-terminated into out, returns out. */
const char *cy_sw_set_value(const cy_sw_set *set, uint32_t entry, char *out,
                            size_t cap);
/* The path an entry was stored under. */
int cy_sw_set_entry_path(const cy_sw_set *set, uint32_t entry);
/* Refs of an entry: returns the count, *refs points into the set. */
size_t cy_sw_set_refs(const cy_sw_set *set, uint32_t entry,
                      const uint32_t **refs);

/* True when the set holds any value of `path`. */
bool cy_sw_set_has(const cy_sw_set *set, int path);

/*
 * Lookups (thread-safe after build).  Each returns the number of matches
 * written to out (at most `cap`).
 *  - exact: value of `path` exactly (folded when the path folds);
 *  - domain: the token and every parent domain at a label boundary;
 *  - ip: the longest prefix holding the address (4 or 16 bytes).
 */
size_t cy_sw_lookup_exact(const cy_sw_set *set, int path, const char *v,
                          size_t len, cy_sw_found *out, size_t cap);
size_t cy_sw_lookup_domain(const cy_sw_set *set, const char *v, size_t len,
                           cy_sw_found *out, size_t cap);
size_t cy_sw_lookup_ip(const cy_sw_set *set, const uint8_t *addr,
                       size_t alen, cy_sw_found *out, size_t cap);

/* Domain lookups in two steps, so a scanner can hash and prefetch a batch
 * of tokens before probing any (hides memory latency): */
#define CY_SW_DQ_MAX 8
typedef struct cy_sw_dq {
    uint64_t h[CY_SW_DQ_MAX];
    uint8_t at[CY_SW_DQ_MAX];
    uint8_t n;
} cy_sw_dq;
/* Fills q with the hashes of the token's label suffixes worth probing and
 * prefetches their filter words; SIZE_MAX when there are more than
 * CY_SW_DQ_MAX (then use cy_sw_lookup_domain). */
size_t cy_sw_domain_hashes(const cy_sw_set *set, const char *v, size_t len,
                           cy_sw_dq *q);
/* The same, when `before` bytes in front of v may be read too (a token in
 * a larger buffer): the partial words are then single loads. */
size_t cy_sw_domain_hashes_at(const cy_sw_set *set, const char *v, size_t len,
                              size_t before, cy_sw_dq *q);
size_t cy_sw_domain_probe(const cy_sw_set *set, const char *v, size_t len,
                          const cy_sw_dq *q, cy_sw_found *out, size_t cap);

/* Strict IPv4 dotted quad (each part 0..255, 1..3 digits); 1 on success. */
int cy_sw_parse_ipv4(const char *s, size_t len, uint8_t out[4]);
/* IPv6 text (as inet_pton); 1 on success. */
int cy_sw_parse_ipv6(const char *s, size_t len, uint8_t out[16]);

/* ---- scanning (scan.c) ----------------------------------------------- */

/* A hit of one stored value in one input record. */
typedef struct cy_sw_hit {
    uint32_t entry;      /* matched entry */
    int path;
    uint64_t line;       /* 1-based line within the unit being scanned */
    uint64_t offset;     /* byte offset of the token within the unit */
    const char *tok;     /* the token as it stands in the input (borrowed) */
    size_t tok_len;
} cy_sw_hit;

/* Whether the tokenizer's fast path uses AVX2 (chosen once, at first use,
 * from the CPU; COMITY_NO_AVX2 in the environment turns it off).  set 0 or
 * 1 changes it (tests compare both paths; not while scans run), -1 only
 * asks. */
bool cy_sw_scan_avx2(int set);

/* Called for each hit; `ud` is the caller's.  Returning non-zero stops. */
typedef int (*cy_sw_hit_fn)(void *ud, const cy_sw_hit *hit);
/*
 * Tokenizes buf[0..len) (whole lines; a missing final newline is fine) and
 * looks every domain, IP, URL, email, hash and, when the set has name-like
 * values, every word up.  Line numbers start at line0, offsets at off0.
 * Hits come in input order (domain lookups are batched across a few lines
 * to overlap their memory accesses, but flushed before any other hit is
 * reported).  Returns the number of lines seen.  No allocation.
 */
uint64_t cy_sw_scan_text(const cy_sw_set *set, const char *buf, size_t len,
                         uint64_t line0, uint64_t off0, cy_sw_hit_fn fn,
                         void *ud);

/* Looks one typed value up (JSON-lines / CSV fields, file names, hashes):
 * domains by suffix, IPs by prefix, the rest exactly.  Calls fn per hit. */
int cy_sw_scan_value(const cy_sw_set *set, int path, const char *v,
                     size_t len, uint64_t line, uint64_t off,
                     cy_sw_hit_fn fn, void *ud);

#endif /* COMITY_SWEEP_H */
