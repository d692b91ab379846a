/*
 * proof.c: c2sp.org/tlog-proof receipts.
 *
 *   c2sp.org/tlog-proof@v1
 *   extra <base64>          (optional, opaque, unauthenticated)
 *   index <decimal>
 *   <base64 hash>           (zero or more: the RFC 6962 inclusion proof)
 *   <empty line>
 *   <checkpoint, verbatim, with any cosignatures>
 *
 * Verifying a receipt checks the checkpoint (log signature, and a witness
 * quorum when a policy is given), then the inclusion of the entry's leaf
 * hash under the checkpoint's root.  Nothing in the receipt is trusted
 * before those checks, and "extra" never is.
 */
#include <string.h>

#include "tlog/tlog.h"

#define HEADER "c2sp.org/tlog-proof@v1\n"
#define EXTRA_MAX 4096

comity_err cy_tlog_proof_format(uint64_t index, const uint8_t (*proof)[CY_HASH], size_t n,
                                const char *note, size_t note_len, char **out,
                                size_t *len, comity_error *err)
{
    /* One reservation, then the lines in place: a serving node writes a
     * receipt a record (the federation page), so no printf per line, and
     * the hashes (public) by the table-driven encoder. */
    char idx[24];
    size_t il = sizeof idx;
    do
        idx[--il] = (char)('0' + index % 10);
    while ((index /= 10) != 0);
    size_t hl = strlen(HEADER);
    size_t need = hl + 6 + (sizeof idx - il) + 1 + n * COMITY_TLOG_HASH_B64 + 1;
    cy_buf b;
    cy_buf_init(&b, COMITY_TLOG_PROOF_MAX);
    comity_err rc = n > COMITY_TLOG_PROOF_MAX / COMITY_TLOG_HASH_B64
                        ? COMITY_ERR_TOOBIG
                        : cy_buf_reserve(&b, need + note_len);
    if (!rc) {
        char *o = (char *)b.data;
        memcpy(o, HEADER "index ", hl + 6);
        o += hl + 6;
        memcpy(o, idx + il, sizeof idx - il);
        o += sizeof idx - il;
        *o++ = '\n';
        for (size_t i = 0; i < n; i++) {
            cy_b64_encode_public(o, COMITY_TLOG_HASH_B64, proof[i], CY_HASH, CY_B64_STD);
            o[COMITY_TLOG_HASH_B64 - 1] = '\n'; /* over the NUL */
            o += COMITY_TLOG_HASH_B64;
        }
        *o++ = '\n';
        b.len = (size_t)(o - (char *)b.data);
        b.data[b.len] = 0;
        rc = cy_buf_append(&b, note, note_len);
    }
    if (rc) {
        cy_buf_free(&b);
        return cy_fail(err, rc, "tlog-proof: %s", comity_strerror(rc));
    }
    *out = (char *)cy_buf_detach(&b, len);
    return COMITY_OK;
}

/* The next '\n'-terminated line at *at; false when there is none. */
static bool next_line(const char *s, size_t len, size_t *at, const char **line, size_t *ll)
{
    if (*at >= len)
        return false;
    const char *nl = memchr(s + *at, '\n', len - *at);
    if (!nl)
        return false;
    *line = s + *at;
    *ll = (size_t)(nl - *line);
    *at = (size_t)(nl - s) + 1;
    return true;
}

comity_err cy_tlog_proof_parse(const char *s, size_t len, cy_tlog_proof *out,
                               comity_error *err)
{
    const char *line;
    size_t ll, at = 0;
    memset(out, 0, sizeof *out);
    if (len > COMITY_TLOG_PROOF_MAX)
        return cy_fail(err, COMITY_ERR_TOOBIG, "tlog-proof: larger than %u bytes",
                       COMITY_TLOG_PROOF_MAX);
    if (!next_line(s, len, &at, &line, &ll) || ll != strlen(HEADER) - 1 ||
        memcmp(line, HEADER, ll) != 0)
        return cy_fail(err, COMITY_ERR_INVALID,
                       "tlog-proof: first line must be 'c2sp.org/tlog-proof@v1'");
    if (!next_line(s, len, &at, &line, &ll))
        return cy_fail(err, COMITY_ERR_INVALID, "tlog-proof: missing 'index' line");
    if (ll >= 6 && memcmp(line, "extra ", 6) == 0) {
        size_t n;
        if (ll - 6 > EXTRA_MAX / 3 * 4 + 4 || !cy_b64_alphabet(line + 6, ll - 6) ||
            cy_b64_decode(out->extra, sizeof out->extra, &n, line + 6, ll - 6, CY_B64_STD,
                          NULL) != COMITY_OK)
            return cy_fail(err, COMITY_ERR_INVALID,
                           "tlog-proof: 'extra' is not standard base64 of at most %d bytes",
                           EXTRA_MAX);
        out->extra_len = n;
        out->has_extra = true;
        if (!next_line(s, len, &at, &line, &ll))
            return cy_fail(err, COMITY_ERR_INVALID, "tlog-proof: missing 'index' line");
    }
    if (ll < 6 || memcmp(line, "index ", 6) != 0 || !cy_parse_u64(line + 6, ll - 6, &out->index))
        return cy_fail(err, COMITY_ERR_INVALID,
                       "tlog-proof: line %d must be 'index <decimal without leading zeros>'",
                       out->has_extra ? 3 : 2);
    for (;;) {
        if (!next_line(s, len, &at, &line, &ll))
            return cy_fail(err, COMITY_ERR_INVALID,
                           "tlog-proof: missing the empty line before the checkpoint");
        if (ll == 0)
            break;
        if (out->n == 64)
            return cy_fail(err, COMITY_ERR_INVALID, "tlog-proof: more than 64 proof hashes");
        if (!cy_parse_hash(line, ll, out->proof[out->n]))
            return cy_fail(err, COMITY_ERR_INVALID,
                           "tlog-proof: proof line %zu is not a base64 SHA-256 hash", out->n + 1);
        out->n++;
    }
    out->note = s + at;
    out->note_len = len - at;
    if (out->note_len == 0)
        return cy_fail(err, COMITY_ERR_INVALID, "tlog-proof: no checkpoint");
    return COMITY_OK;
}

comity_err comity_tlog_proof_verify(const char *proof, size_t len, const void *entry,
                                    size_t entry_len, const comity_vkey *const *logs,
                                    size_t nlogs, const comity_policy *policy,
                                    uint64_t *index, comity_checkpoint *cpout,
                                    comity_error *err)
{
    comity_err rc = comity_init(err);
    if (rc)
        return rc;
    if (nlogs == 0 && (!policy || cy_policy_nlogs(policy) == 0))
        return cy_fail(err, COMITY_ERR_USAGE,
                       "tlog-proof: no log key to check the checkpoint's signature "
                       "(give one, or a policy that lists the log)");
    cy_tlog_proof *p = cy_malloc(sizeof *p);
    if (!p)
        return cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    rc = cy_tlog_proof_parse(proof, len, p, err);
    comity_checkpoint cp;
    if (!rc && policy)
        rc = comity_policy_check(policy, p->note, p->note_len, &cp, err);
    if (!rc && nlogs)
        rc = comity_checkpoint_verify(p->note, p->note_len, logs, nlogs, &cp, err);
    if (!rc) {
        uint8_t leaf[CY_HASH];
        cy_tlog_leaf_hash(entry, entry_len, leaf);
        rc = cy_tlog_verify_inclusion(leaf, p->index, cp.size,
                                      (const uint8_t(*)[CY_HASH])p->proof, p->n, cp.root, err);
        if (rc)
            cy_wrap(err, "tlog-proof: the entry is not at index %llu of %s",
                    (unsigned long long)p->index, cp.origin);
    }
    if (!rc && index)
        *index = p->index;
    if (!rc && cpout)
        *cpout = cp;
    cy_free(p);
    return rc;
}

/* ---- the public forms of the hashing and proof checks ---------------------- */

void comity_tlog_leaf_hash(const void *entry, size_t len, uint8_t out[COMITY_TLOG_HASH])
{
    cy_tlog_leaf_hash(entry, len, out);
}

comity_err comity_tlog_verify_inclusion(const uint8_t leaf[COMITY_TLOG_HASH], uint64_t index,
                                        uint64_t size, const uint8_t *hashes, size_t n,
                                        const uint8_t root[COMITY_TLOG_HASH], comity_error *err)
{
    return cy_tlog_verify_inclusion(leaf, index, size, (const uint8_t(*)[CY_HASH])hashes, n,
                                    root, err);
}

comity_err comity_tlog_verify_consistency(uint64_t old, uint64_t size,
                                          const uint8_t old_root[COMITY_TLOG_HASH],
                                          const uint8_t root[COMITY_TLOG_HASH],
                                          const uint8_t *hashes, size_t n, comity_error *err)
{
    if (old == 0 && size > 0) {
        if (n)
            return cy_fail(err, COMITY_ERR_VERIFY,
                           "consistency: from size 0 the proof must be empty");
        return COMITY_OK;
    }
    if (old == 0 && size == 0) {
        if (n || memcmp(old_root, cy_tlog_empty_root, CY_HASH) ||
            memcmp(root, cy_tlog_empty_root, CY_HASH))
            return cy_fail(err, COMITY_ERR_VERIFY,
                           "consistency: empty trees must have the empty root and no proof");
        return COMITY_OK;
    }
    return cy_tlog_verify_consistency(old, size, old_root, root,
                                      (const uint8_t(*)[CY_HASH])hashes, n, err);
}

void comity_tlog_hash_b64(const uint8_t h[COMITY_TLOG_HASH], char out[COMITY_TLOG_HASH_B64])
{
    cy_b64_encode_public(out, COMITY_TLOG_HASH_B64, h, CY_HASH, CY_B64_STD); /* public */
}
