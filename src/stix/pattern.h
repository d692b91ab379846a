/*
 * pattern.h: the STIX 2.1 patterning language: a parser into a small tagged
 * tree, a printer back to canonical text, and a JSON dump (private to
 * libcomity; the sweep compiler walks this tree).
 *
 * The grammar is the OASIS one (data/stix/pattern_grammar/STIXPattern.g4).
 * A pattern is a tree of observation expressions (cy_pat_obs): leaves are
 * bracketed `[ ... ]` observations, inner nodes join their children with
 * AND, OR or FOLLOWEDBY, and any node may carry qualifiers (WITHIN, REPEATS,
 * START/STOP).  Inside a leaf is a tree of comparison expressions
 * (cy_pat_cexpr): leaves are single comparisons (cy_pat_cmp: an object path,
 * an operator, an optional NOT, and the literal(s)), inner nodes are AND or
 * OR.  Every array below is a plain C array with a count: walk it with a for
 * loop.
 *
 * Shape guarantees, which the printer and the compiler may rely on:
 *   - AND and OR nodes have at least 2 children and are flattened: an AND
 *     node never has an unqualified AND child (`a AND (b AND c)` is one AND
 *     with 3 children), likewise OR.  Both operators are associative.
 *   - FOLLOWEDBY chains are flattened left to right (`A FOLLOWEDBY B
 *     FOLLOWEDBY C` is one node with children A, B, C, in time order); an
 *     explicitly parenthesised FOLLOWEDBY inside another stays a child node.
 *   - A node with qualifiers is never merged into its parent.  Qualifiers
 *     are kept in source order (`[a] REPEATS 2 TIMES WITHIN 9 SECONDS`).
 *   - Parentheses that group nothing (`([a])`) leave no trace.
 *   - Precedence, lowest first: FOLLOWEDBY, OR, AND (observation level);
 *     OR, AND (comparison level).
 *
 * Ownership: cy_pattern_parse returns one cy_pattern that owns every node,
 * string and byte array reachable from it (they live in one arena); none of
 * them may be freed or kept after cy_pattern_free.  Strings in the tree are
 * NUL-terminated (a pattern with a NUL byte is refused) and also carry their
 * length.  The tree is never modified after parsing, so a parsed pattern
 * may be read from several threads.
 *
 * Limits: CY_PATTERN_MAX bytes of text, CY_PATTERN_MAX_DEPTH levels of
 * nesting (parentheses and brackets, at both levels, counted together).
 */
#ifndef COMITY_STIX_PATTERN_H
#define COMITY_STIX_PATTERN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/base.h"

#define CY_PATTERN_MAX (64u * 1024u) /* bytes of pattern text */
#define CY_PATTERN_MAX_DEPTH 64      /* nested ( and [ */

/* ---- literals -------------------------------------------------------- */

typedef enum cy_pat_lit_kind {
    CY_LIT_STRING = 1, /* '...'   s/len: the unescaped text */
    CY_LIT_INT,        /* 42, -7  i */
    CY_LIT_FLOAT,      /* 7.0     f, and s: the source digits (no '+') */
    CY_LIT_BOOL,       /* true    i: 0 or 1 */
    CY_LIT_BINARY,     /* b'...'  bytes/len: decoded base64 */
    CY_LIT_HEX,        /* h'...'  bytes/len: decoded hex */
    CY_LIT_TIMESTAMP   /* t'...'  s: the RFC 3339 text; i: ms since epoch */
} cy_pat_lit_kind;

typedef struct cy_pat_lit {
    cy_pat_lit_kind kind;
    const char *s;        /* STRING, FLOAT, TIMESTAMP (else NULL) */
    const uint8_t *bytes; /* BINARY, HEX (else NULL; may be NULL if len 0) */
    size_t len;           /* bytes in s (STRING, FLOAT, TIMESTAMP) or bytes */
    int64_t i;            /* INT, BOOL, TIMESTAMP (milliseconds, truncated) */
    double f;             /* FLOAT; also INT as a double, for comparisons */
    size_t pos;           /* byte offset of the literal in the pattern */
} cy_pat_lit;

/* ---- object paths ---------------------------------------------------- */

typedef enum cy_pat_step_kind {
    CY_STEP_KEY = 1, /* .name or .'quoted name'   key/key_len */
    CY_STEP_INDEX,   /* [3] or [-1]               index */
    CY_STEP_ANY      /* [*]                       any element */
} cy_pat_step_kind;

typedef struct cy_pat_step {
    cy_pat_step_kind kind;
    const char *key; /* KEY: unescaped name (quotes removed) */
    size_t key_len;
    bool quoted;     /* KEY was written 'quoted' (printed back the same way) */
    int64_t index;   /* INDEX */
} cy_pat_step;

/*
 * `file:hashes.'SHA-256'` is type "file" and steps [KEY hashes, KEY SHA-256];
 * `email-message:body_multipart[*].body_raw_ref.name` is type
 * "email-message" and steps [KEY body_multipart, ANY, KEY body_raw_ref, KEY
 * name].  steps[0] is always a KEY (the grammar's first path component).
 */
typedef struct cy_pat_path {
    const char *type; /* the object type, e.g. "domain-name", "x-foo" */
    size_t type_len;
    const cy_pat_step *steps;
    size_t nsteps; /* >= 1 */
    size_t pos;    /* byte offset of the type */
} cy_pat_path;

/* ---- comparisons ----------------------------------------------------- */

typedef enum cy_pat_op {
    CY_OP_EQ = 1,    /* =  (also written ==) */
    CY_OP_NEQ,       /* != (also written <>) */
    CY_OP_LT,        /* <  */
    CY_OP_LE,        /* <= */
    CY_OP_GT,        /* >  */
    CY_OP_GE,        /* >= */
    CY_OP_IN,        /* IN ('a', 'b'): nlits >= 0 */
    CY_OP_LIKE,      /* LIKE 'x%': SQL LIKE, % and _ wildcards; a STRING */
    CY_OP_MATCHES,   /* MATCHES 're': PCRE regex; a STRING */
    CY_OP_ISSUBSET,  /* ISSUBSET '10.0.0.0/8': a STRING */
    CY_OP_ISSUPERSET,/* ISSUPERSET '10.0.0.0/8': a STRING */
    CY_OP_EXISTS     /* EXISTS path: nlits == 0 */
} cy_pat_op;

/*
 * One comparison: `path [NOT] op literal`, or `[NOT] EXISTS path`.
 * `negated` is the NOT keyword; the compiler applies it to the result of the
 * operator (`a NOT = 'x'` is true where `a = 'x'` is false).
 * nlits is 1 for every operator except IN (any count, also 0) and EXISTS (0).
 */
typedef struct cy_pat_cmp {
    cy_pat_path path;
    cy_pat_op op;
    bool negated;
    const cy_pat_lit *lits;
    size_t nlits;
    size_t pos; /* byte offset of the comparison */
} cy_pat_cmp;

typedef enum cy_pat_cexpr_kind {
    CY_CEXPR_CMP = 1, /* a single comparison: cmp */
    CY_CEXPR_AND,     /* all kids hold for the same object */
    CY_CEXPR_OR       /* any kid holds */
} cy_pat_cexpr_kind;

typedef struct cy_pat_cexpr {
    cy_pat_cexpr_kind kind;
    const cy_pat_cmp *cmp;               /* CMP */
    const struct cy_pat_cexpr *const *kids; /* AND, OR: nkids >= 2 */
    size_t nkids;
} cy_pat_cexpr;

/* ---- observation expressions ---------------------------------------- */

typedef enum cy_pat_qual_kind {
    CY_QUAL_WITHIN = 1, /* WITHIN n SECONDS: seconds (> 0), lit */
    CY_QUAL_REPEATS,    /* REPEATS n TIMES: times (>= 1) */
    CY_QUAL_STARTSTOP   /* START t'..' STOP t'..': start, stop (start < stop) */
} cy_pat_qual_kind;

typedef struct cy_pat_qual {
    cy_pat_qual_kind kind;
    double seconds;       /* WITHIN */
    const cy_pat_lit *n;  /* WITHIN: the INT or FLOAT literal as written */
    int64_t times;        /* REPEATS */
    const cy_pat_lit *start, *stop; /* STARTSTOP: TIMESTAMP literals */
    size_t pos;           /* byte offset of the keyword */
} cy_pat_qual;

typedef enum cy_pat_obs_kind {
    CY_OBS_LEAF = 1,   /* [ cexpr ]: one observed object satisfies cexpr */
    CY_OBS_AND,        /* every kid is observed */
    CY_OBS_OR,         /* some kid is observed */
    CY_OBS_FOLLOWEDBY  /* every kid is observed, in this order in time */
} cy_pat_obs_kind;

typedef struct cy_pat_obs {
    cy_pat_obs_kind kind;
    const cy_pat_cexpr *cexpr;               /* LEAF */
    const struct cy_pat_obs *const *kids;    /* AND, OR, FOLLOWEDBY: >= 2 */
    size_t nkids;
    const cy_pat_qual *quals; /* qualifiers on this node, source order */
    size_t nquals;
    size_t pos; /* byte offset where this expression starts */
} cy_pat_obs;

/* A parsed pattern; owns the whole tree (one arena). */
typedef struct cy_pattern {
    const cy_pat_obs *root;
    size_t ncmps;   /* comparisons in the whole pattern */
    size_t nleaves; /* bracketed observations in the whole pattern */
    cy_arena *arena; /* private */
} cy_pattern;

/* ---- API ------------------------------------------------------------- */

/*
 * Parses `len` bytes of pattern text (need not be NUL-terminated).  On
 * success *out is a new pattern (caller frees with cy_pattern_free).  On
 * failure *out is NULL, the code is COMITY_ERR_INVALID (or TOOBIG, NOMEM),
 * err says what was expected where ("pattern: expected ']' at byte 17"),
 * and *err_at (may be NULL) gets that byte offset.
 */
comity_err cy_pattern_parse(const char *text, size_t len, cy_pattern **out,
                            size_t *err_at, comity_error *err) CY_MUST_CHECK;

/* Frees a pattern and everything in its tree (NULL is a no-op). */
void cy_pattern_free(cy_pattern *p);

/*
 * Appends the canonical text of the pattern to `b`: single spaces around
 * operators and keywords, '=' and '!=' spellings, strings re-escaped, binary
 * re-encoded as padded base64, hex in lowercase, no comments, parentheses
 * only where the tree needs them.  parse(print(p)) gives a tree equal to p.
 */
comity_err cy_pattern_print(const cy_pattern *p, cy_buf *b);
/* The same for a single node or path (for messages and matcher keys,
 * e.g. "file:hashes.'SHA-256'"). */
comity_err cy_pattern_print_obs(const cy_pat_obs *o, cy_buf *b);
comity_err cy_pattern_print_cexpr(const cy_pat_cexpr *c, cy_buf *b);
comity_err cy_pattern_print_path(const cy_pat_path *path, cy_buf *b);
comity_err cy_pattern_print_lit(const cy_pat_lit *lit, cy_buf *b);

/* Appends a JSON dump of the tree to `b` (for `comity pattern --json`). */
comity_err cy_pattern_json(const cy_pattern *p, cy_buf *b);

/* Calls fn for every comparison, in source order, with the leaf it sits in;
 * stops and returns fn's value when it is not COMITY_OK. */
typedef comity_err (*cy_pat_cmp_fn)(const cy_pat_obs *leaf,
                                    const cy_pat_cmp *cmp, void *ctx);
comity_err cy_pattern_each_cmp(const cy_pattern *p, cy_pat_cmp_fn fn,
                               void *ctx);

/* True when `path` is exactly `type:key` with one plain key step, e.g.
 * cy_pat_path_is(&c->path, "domain-name", "value"). */
bool cy_pat_path_is(const cy_pat_path *path, const char *type,
                    const char *key);

/*
 * The STIX 2.1 hash-algorithm vocabulary name ("MD5", "SHA-1", "SHA-256",
 * "SHA-512", "SHA3-256", "SHA3-512", "SSDEEP", "TLSH") for a hashes key as
 * real files write it: case and '-'/'_' are ignored, so "sha256",
 * "SHA-256" and "Sha_256" all give "SHA-256".  NULL for other keys.  Lets a
 * compiler treat file:hashes.sha256 and file:hashes.'SHA-256' as one path.
 */
const char *cy_pat_hash_algo(const char *key, size_t len);

/* Structural equality of two trees (what the round-trip tests check). */
bool cy_pattern_equal(const cy_pattern *a, const cy_pattern *b);

/* The operator's canonical spelling ("=", "IN", "EXISTS"). */
const char *cy_pat_op_name(cy_pat_op op);

#endif /* COMITY_STIX_PATTERN_H */
