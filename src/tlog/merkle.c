/*
 * merkle.c: RFC 6962 Merkle tree hashing and proofs.
 *
 * Leaf hash = SHA-256(0x00 || entry), interior node = SHA-256(0x01 || l || r),
 * and the empty tree hashes to SHA-256("") (not zeros, as Go's x/mod has it).
 * Proof generation follows the recursive definitions of RFC 6962 2.1.1
 * (PATH) and 2.1.2 (SUBPROOF), reading only perfect subtrees from a source
 * callback, so the same code serves tiles on disk, a tile cache, or an array
 * in a test.  Verification follows RFC 9162 2.1.3.2 and 2.1.4.2, which need
 * no recursion and no knowledge of the tree beyond its sizes.
 */
#include <string.h>

#include <sodium.h>

#include "tlog/tlog.h"

const uint8_t cy_tlog_empty_root[CY_HASH] = {
    0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4,
    0xc8, 0x99, 0x6f, 0xb9, 0x24, 0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b,
    0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55};

void cy_tlog_leaf_hash(const void *entry, size_t len, uint8_t out[CY_HASH])
{
    crypto_hash_sha256_state st;
    static const uint8_t zero = 0;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, &zero, 1);
    crypto_hash_sha256_update(&st, entry, len);
    crypto_hash_sha256_final(&st, out);
}

void cy_tlog_node_hash(const uint8_t left[CY_HASH], const uint8_t right[CY_HASH],
                       uint8_t out[CY_HASH])
{
    uint8_t in[1 + 2 * CY_HASH];
    in[0] = 1;
    memcpy(in + 1, left, CY_HASH);
    memcpy(in + 1 + CY_HASH, right, CY_HASH);
    crypto_hash_sha256(out, in, sizeof in);
}

/* Largest power of two strictly below n (n >= 2). */
static uint64_t split_point(uint64_t n)
{
    uint64_t k = 1;
    while (k << 1 < n)
        k <<= 1;
    return k;
}

static bool is_pow2(uint64_t n) { return n && !(n & (n - 1)); }

static unsigned log2_exact(uint64_t n)
{
    unsigned h = 0;
    while ((UINT64_C(1) << h) < n)
        h++;
    return h;
}

comity_err cy_tlog_range_hash(cy_tlog_node_fn fn, const cy_tlog_memo *memo, void *ctx,
                              uint64_t a, uint64_t b, uint8_t out[CY_HASH],
                              comity_error *err)
{
    uint64_t n = b - a;
    if (n == 0) {
        memcpy(out, cy_tlog_empty_root, CY_HASH);
        return COMITY_OK;
    }
    if (is_pow2(n)) {
        unsigned h = log2_exact(n);
        if (a & (n - 1))
            return cy_fail(err, COMITY_ERR_INTERNAL,
                           "merkle: range [%llu, %llu) is not aligned",
                           (unsigned long long)a, (unsigned long long)b);
        return fn(ctx, h, a >> h, out, err);
    }
    if (memo && memo->get(ctx, a, b, out))
        return COMITY_OK;
    uint64_t k = split_point(n);
    uint8_t l[CY_HASH], r[CY_HASH];
    comity_err rc = cy_tlog_range_hash(fn, memo, ctx, a, a + k, l, err);
    if (!rc)
        rc = cy_tlog_range_hash(fn, memo, ctx, a + k, b, r, err);
    if (!rc) {
        cy_tlog_node_hash(l, r, out);
        if (memo)
            memo->put(ctx, a, b, out);
    }
    return rc;
}

/* PATH(m, D[a:b]) appended deepest first. */
static comity_err path(cy_tlog_node_fn fn, const cy_tlog_memo *memo, void *ctx,
                       uint64_t m, uint64_t a,
                       uint64_t b, uint8_t (*proof)[CY_HASH], size_t *n,
                       comity_error *err)
{
    if (b - a <= 1)
        return COMITY_OK;
    uint64_t k = split_point(b - a);
    comity_err rc;
    if (m < k) {
        rc = path(fn, memo, ctx, m, a, a + k, proof, n, err);
        if (!rc)
            rc = cy_tlog_range_hash(fn, memo, ctx, a + k, b, proof[*n], err);
    } else {
        rc = path(fn, memo, ctx, m - k, a + k, b, proof, n, err);
        if (!rc)
            rc = cy_tlog_range_hash(fn, memo, ctx, a, a + k, proof[*n], err);
    }
    if (!rc)
        (*n)++;
    return rc;
}

comity_err cy_tlog_prove_inclusion(cy_tlog_node_fn fn, const cy_tlog_memo *memo,
                                   void *ctx, uint64_t index,
                                   uint64_t size, uint8_t (*proof)[CY_HASH],
                                   size_t *n, comity_error *err)
{
    *n = 0;
    if (index >= size)
        return cy_fail(err, COMITY_ERR_NOTFOUND,
                       "inclusion proof: index %llu is not below tree size %llu",
                       (unsigned long long)index, (unsigned long long)size);
    return path(fn, memo, ctx, index, 0, size, proof, n, err);
}

/* SUBPROOF(m, D[a:b], whole) appended deepest first. */
static comity_err subproof(cy_tlog_node_fn fn, const cy_tlog_memo *memo, void *ctx,
                           uint64_t m, uint64_t a,
                           uint64_t b, bool whole, uint8_t (*proof)[CY_HASH],
                           size_t *n, comity_error *err)
{
    comity_err rc;
    if (m == b - a) {
        if (whole)
            return COMITY_OK;
        rc = cy_tlog_range_hash(fn, memo, ctx, a, b, proof[*n], err);
        if (!rc)
            (*n)++;
        return rc;
    }
    uint64_t k = split_point(b - a);
    if (m <= k) {
        rc = subproof(fn, memo, ctx, m, a, a + k, whole, proof, n, err);
        if (!rc)
            rc = cy_tlog_range_hash(fn, memo, ctx, a + k, b, proof[*n], err);
    } else {
        rc = subproof(fn, memo, ctx, m - k, a + k, b, false, proof, n, err);
        if (!rc)
            rc = cy_tlog_range_hash(fn, memo, ctx, a, a + k, proof[*n], err);
    }
    if (!rc)
        (*n)++;
    return rc;
}

comity_err cy_tlog_prove_consistency(cy_tlog_node_fn fn, const cy_tlog_memo *memo,
                                     void *ctx, uint64_t old,
                                     uint64_t size, uint8_t (*proof)[CY_HASH],
                                     size_t *n, comity_error *err)
{
    *n = 0;
    if (old > size)
        return cy_fail(err, COMITY_ERR_USAGE,
                       "consistency proof: old size %llu exceeds size %llu",
                       (unsigned long long)old, (unsigned long long)size);
    if (old == 0 || old == size)
        return COMITY_OK;
    return subproof(fn, memo, ctx, old, 0, size, true, proof, n, err);
}

/* One step of an inclusion fold: the hash of the node above r, with
 * sibling sib on the side that (fn, sn) says.  With a memo, a step that
 * the memo's last path made with the very same inputs takes its output
 * from there instead of hashing (the output is a function of the inputs,
 * so the result is the same); the step is recorded in next. */
static void fold_step(const cy_tlog_incl_memo *m, cy_tlog_incl_memo *next, uint64_t fn,
                      uint64_t sn, const uint8_t sib[CY_HASH], uint8_t r[CY_HASH])
{
    size_t k = 0;
    if (m)
        while (k < m->n && !(m->s[k].fn == fn && m->s[k].sn == sn &&
                             memcmp(m->s[k].in, r, CY_HASH) == 0 &&
                             memcmp(m->s[k].sib, sib, CY_HASH) == 0))
            k++;
    if (next && next->n < CY_ARRAY_LEN(next->s)) {
        next->s[next->n].fn = fn;
        next->s[next->n].sn = sn;
        memcpy(next->s[next->n].in, r, CY_HASH);
        memcpy(next->s[next->n].sib, sib, CY_HASH);
    }
    if (m && k < m->n)
        memcpy(r, m->s[k].out, CY_HASH);
    else if ((fn & 1) || fn == sn)
        cy_tlog_node_hash(sib, r, r);
    else
        cy_tlog_node_hash(r, sib, r);
    if (next && next->n < CY_ARRAY_LEN(next->s))
        memcpy(next->s[next->n++].out, r, CY_HASH);
}

/* RFC 9162 2.1.3.2, with an optional memo (see cy_tlog_verify_inclusion_memo). */
static comity_err verify_inclusion(cy_tlog_incl_memo *memo, const uint8_t leaf[CY_HASH],
                                   uint64_t index, uint64_t size,
                                   const uint8_t (*proof)[CY_HASH], size_t n,
                                   const uint8_t root[CY_HASH], comity_error *err)
{
    if (index >= size)
        return cy_fail(err, COMITY_ERR_VERIFY,
                       "inclusion: index %llu is not below tree size %llu",
                       (unsigned long long)index, (unsigned long long)size);
    if (n > 64)
        return cy_fail(err, COMITY_ERR_VERIFY, "inclusion: proof of %zu hashes is too long", n);
    cy_tlog_incl_memo *next = memo ? cy_malloc(sizeof *next) : NULL;
    if (next)
        next->n = 0;
    uint64_t fn = index, sn = size - 1;
    uint8_t r[CY_HASH];
    memcpy(r, leaf, CY_HASH);
    comity_err rc = COMITY_OK;
    for (size_t i = 0; i < n && !rc; i++) {
        if (sn == 0) {
            rc = cy_fail(err, COMITY_ERR_VERIFY,
                         "inclusion: proof has %zu hashes, more than the tree needs", n);
            break;
        }
        bool right_edge = !(fn & 1) && fn == sn;
        fold_step(memo, next, fn, sn, proof[i], r);
        if (right_edge)
            while (!(fn & 1) && fn != 0) {
                fn >>= 1;
                sn >>= 1;
            }
        fn >>= 1;
        sn >>= 1;
    }
    if (!rc && sn != 0)
        rc = cy_fail(err, COMITY_ERR_VERIFY,
                     "inclusion: proof has %zu hashes, fewer than the tree needs", n);
    if (!rc && sodium_memcmp(r, root, CY_HASH) != 0)
        rc = cy_fail(err, COMITY_ERR_VERIFY,
                     "inclusion: proof of index %llu does not lead to the root of size %llu",
                     (unsigned long long)index, (unsigned long long)size);
    if (next) {
        memcpy(memo, next, sizeof *next);
        cy_free(next);
    }
    return rc;
}

comity_err cy_tlog_verify_inclusion(const uint8_t leaf[CY_HASH], uint64_t index,
                                    uint64_t size, const uint8_t (*proof)[CY_HASH],
                                    size_t n, const uint8_t root[CY_HASH],
                                    comity_error *err)
{
    return verify_inclusion(NULL, leaf, index, size, proof, n, root, err);
}

comity_err cy_tlog_verify_inclusion_memo(cy_tlog_incl_memo *memo, const uint8_t leaf[CY_HASH],
                                         uint64_t index, uint64_t size,
                                         const uint8_t (*proof)[CY_HASH], size_t n,
                                         const uint8_t root[CY_HASH], comity_error *err)
{
    return verify_inclusion(memo, leaf, index, size, proof, n, root, err);
}

comity_err cy_tlog_verify_consistency(uint64_t old, uint64_t size,
                                      const uint8_t old_root[CY_HASH],
                                      const uint8_t root[CY_HASH],
                                      const uint8_t (*proof)[CY_HASH], size_t n,
                                      comity_error *err)
{
    if (old > size)
        return cy_fail(err, COMITY_ERR_VERIFY,
                       "consistency: old size %llu exceeds new size %llu",
                       (unsigned long long)old, (unsigned long long)size);
    if (old == 0)
        return cy_fail(err, COMITY_ERR_VERIFY,
                       "consistency: a proof from the empty tree proves nothing "
                       "(callers accept size 0 with an empty proof themselves)");
    if (old == size) {
        if (n)
            return cy_fail(err, COMITY_ERR_VERIFY,
                           "consistency: equal sizes need an empty proof");
        if (sodium_memcmp(old_root, root, CY_HASH) != 0)
            return cy_fail(err, COMITY_ERR_VERIFY,
                           "consistency: equal sizes %llu but different roots",
                           (unsigned long long)size);
        return COMITY_OK;
    }
    if (n == 0)
        return cy_fail(err, COMITY_ERR_VERIFY, "consistency: empty proof");
    if (n > CY_TLOG_PROOF_MAX - 1)
        return cy_fail(err, COMITY_ERR_VERIFY, "consistency: proof of %zu hashes is too long", n);
    /* When old is a power of two its root is the first node of the path. */
    const uint8_t *first = proof[0];
    size_t i = 1;
    if (is_pow2(old)) {
        first = old_root;
        i = 0;
    }
    uint64_t fn = old - 1, sn = size - 1;
    while (fn & 1) {
        fn >>= 1;
        sn >>= 1;
    }
    uint8_t fr[CY_HASH], sr[CY_HASH];
    memcpy(fr, first, CY_HASH);
    memcpy(sr, first, CY_HASH);
    for (; i < n; i++) {
        if (sn == 0)
            return cy_fail(err, COMITY_ERR_VERIFY, "consistency: proof is too long");
        if ((fn & 1) || fn == sn) {
            cy_tlog_node_hash(proof[i], fr, fr);
            cy_tlog_node_hash(proof[i], sr, sr);
            if (!(fn & 1))
                while (!(fn & 1) && fn != 0) {
                    fn >>= 1;
                    sn >>= 1;
                }
        } else {
            cy_tlog_node_hash(sr, proof[i], sr);
        }
        fn >>= 1;
        sn >>= 1;
    }
    if (sn != 0)
        return cy_fail(err, COMITY_ERR_VERIFY, "consistency: proof is too short");
    if (sodium_memcmp(fr, old_root, CY_HASH) != 0)
        return cy_fail(err, COMITY_ERR_VERIFY,
                       "consistency: proof does not lead to the old root (size %llu)",
                       (unsigned long long)old);
    if (sodium_memcmp(sr, root, CY_HASH) != 0)
        return cy_fail(err, COMITY_ERR_VERIFY,
                       "consistency: proof does not lead to the new root (size %llu)",
                       (unsigned long long)size);
    return COMITY_OK;
}

/*
 * A proof that the tree of `size` does not extend the tree of `old`
 * (old < size): the RFC 6962 consistency proof from old to size taken from
 * the larger tree, with `subroot`, that tree's hash of its first `old`
 * leaves (needed when old is a power of two, where the proof leaves it
 * out).  The path is folded as RFC 9162 2.1.4.2 folds it; when it leads to
 * `root`, its nodes are the larger tree's own (short of a SHA-256
 * collision), so the old-size hash it leads to is what the larger tree
 * holds of its first `old` leaves.  That hash differing from `old_root`
 * proves that no log holds both trees.  COMITY_OK when proven.
 */
comity_err cy_tlog_verify_split(uint64_t old, uint64_t size, const uint8_t old_root[CY_HASH],
                                const uint8_t root[CY_HASH], const uint8_t subroot[CY_HASH],
                                const uint8_t (*proof)[CY_HASH], size_t n, comity_error *err)
{
    if (old == 0 || old >= size)
        return cy_fail(err, COMITY_ERR_VERIFY, "split: want 0 < old size < new size");
    if (n > CY_TLOG_PROOF_MAX - 1)
        return cy_fail(err, COMITY_ERR_VERIFY, "split: proof of %zu hashes is too long", n);
    const uint8_t *first = subroot;
    size_t i = 0;
    if (!is_pow2(old)) {
        if (n == 0)
            return cy_fail(err, COMITY_ERR_VERIFY, "split: empty proof");
        first = proof[0];
        i = 1;
    }
    uint64_t fn = old - 1, sn = size - 1;
    while (fn & 1) {
        fn >>= 1;
        sn >>= 1;
    }
    uint8_t fr[CY_HASH], sr[CY_HASH];
    memcpy(fr, first, CY_HASH);
    memcpy(sr, first, CY_HASH);
    for (; i < n; i++) {
        if (sn == 0)
            return cy_fail(err, COMITY_ERR_VERIFY, "split: proof is too long");
        if ((fn & 1) || fn == sn) {
            cy_tlog_node_hash(proof[i], fr, fr);
            cy_tlog_node_hash(proof[i], sr, sr);
            if (!(fn & 1))
                while (!(fn & 1) && fn != 0) {
                    fn >>= 1;
                    sn >>= 1;
                }
        } else {
            cy_tlog_node_hash(sr, proof[i], sr);
        }
        fn >>= 1;
        sn >>= 1;
    }
    if (sn != 0)
        return cy_fail(err, COMITY_ERR_VERIFY, "split: proof is too short");
    if (sodium_memcmp(sr, root, CY_HASH) != 0)
        return cy_fail(err, COMITY_ERR_VERIFY, "split: the path does not lead to the root of "
                       "size %llu: it shows nothing", (unsigned long long)size);
    if (sodium_memcmp(fr, subroot, CY_HASH) != 0)
        return cy_fail(err, COMITY_ERR_VERIFY, "split: the path and the stated hash of the "
                       "first %llu leaves disagree", (unsigned long long)old);
    if (sodium_memcmp(fr, old_root, CY_HASH) == 0)
        return cy_fail(err, COMITY_ERR_VERIFY, "split: the larger tree extends the smaller "
                       "(consistent)");
    return COMITY_OK;
}
