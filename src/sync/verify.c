/*
 * verify.c: what a puller checks of a page before anything of it reaches
 * intake (docs/federation.md, section 6, steps 2 and 3).
 *
 * A page's receipts all name one checkpoint (the origin's, when it built
 * the page), so the signature and the consistency with the last checkpoint
 * accepted are checked once per page: the note must be byte-equal in every
 * receipt.  Then each record's entry ("comity-record-v1:" + the digest of
 * the exact bytes its author signed) must be included at its stated log
 * index in that tree.  The author's signature and home are intake's checks
 * (the one entry point), not repeated here.
 */
#include <string.h>

#include "sync/sync.h"
#include "tlog/tlog.h"

/* The page's checkpoint against the last one accepted: the same size
 * needs the same root; a larger one a consistency proof; a smaller one is
 * a split view (or a rolled-back origin). */
static comity_err consistent(const cy_origin_view *o, const comity_checkpoint *cp,
                             cy_consistency_fn fn, void *ctx, comity_error *err)
{
    if (!o->last_note || !o->last_note_len)
        return COMITY_OK;
    comity_checkpoint old;
    comity_err rc = comity_checkpoint_parse(o->last_note, o->last_note_len, &old, err);
    if (rc)
        return cy_wrap(err, "the last checkpoint kept for %s", cp->origin);
    if (cp->size < old.size)
        return cy_fail(err, COMITY_ERR_CONFLICT,
                       "split view: %s served a checkpoint of size %llu after one of %llu",
                       cp->origin, (unsigned long long)cp->size, (unsigned long long)old.size);
    if (cp->size == old.size) {
        if (memcmp(cp->root, old.root, COMITY_TLOG_HASH) != 0)
            return cy_fail(err, COMITY_ERR_CONFLICT,
                           "split view: two checkpoints of %s of size %llu with other roots",
                           cp->origin, (unsigned long long)cp->size);
        return COMITY_OK;
    }
    uint8_t *h = NULL;
    size_t n = 0;
    if ((rc = fn(ctx, old.size, cp->size, &h, &n, err)))
        return cy_wrap(err, "consistency proof %llu -> %llu", (unsigned long long)old.size,
                       (unsigned long long)cp->size);
    rc = comity_tlog_verify_consistency(old.size, cp->size, old.root, cp->root, h, n, err);
    cy_free(h);
    if (rc)
        return cy_fail(err, COMITY_ERR_CONFLICT,
                       "split view: the checkpoint of %s of size %llu is not consistent with "
                       "the one of size %llu accepted before",
                       cp->origin, (unsigned long long)cp->size, (unsigned long long)old.size);
    return COMITY_OK;
}

/* A log succession the node follows caps what it takes of the old log
 * (src/record/succession.c has the rule): the page's checkpoint must be
 * the cut or below it and lead to it (the proof fetched from the origin). */
static comity_err succession_cut(const comity_succession *s, const comity_checkpoint *cp,
                                 cy_consistency_fn fn, void *ctx, comity_error *err)
{
    uint8_t *h = NULL;
    size_t n = 0;
    uint64_t cut = comity_succession_size(s);
    const char *status = NULL;
    if (cp->size < cut && fn(ctx, cp->size, cut, &h, &n, err) != COMITY_OK)
        return cy_wrap(err, "consistency proof %llu -> %llu (the succession's checkpoint)",
                       (unsigned long long)cp->size, (unsigned long long)cut);
    static const uint8_t none[1];
    comity_err rc = comity_succession_judge(s, cp, cp->size < cut ? (h ? h : none) : NULL, n,
                                            &status, err);
    cy_free(h);
    return rc;
}

comity_err cy_sync_verify_page(cy_pull_page *pg, const cy_origin_view *o, uint64_t cursor,
                               cy_consistency_fn fn, void *ctx, const char **note,
                               size_t *note_len, comity_error *err)
{
    *note = NULL;
    *note_len = 0;
    if (pg->n == 0)
        return COMITY_OK;
    cy_tlog_proof *p = cy_malloc(sizeof *p);
    /* the page's proofs lead to one root: their shared upper nodes are
     * hashed once (every sibling is still compared) */
    cy_tlog_incl_memo *memo = cy_calloc(1, sizeof *memo);
    if (!p || !memo) {
        cy_free(p);
        cy_free(memo);
        return cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    }
    comity_err rc = COMITY_OK;
    comity_checkpoint cp;
    const char *first = NULL;
    size_t first_len = 0;
    for (size_t i = 0; i < pg->n && !rc; i++) {
        cy_pull_item *it = &pg->items[i];
        if (it->log_index < cursor) {
            rc = cy_fail(err, COMITY_ERR_INVALID,
                         "record %s: log index %llu is below the cursor %llu", it->record_id,
                         (unsigned long long)it->log_index, (unsigned long long)cursor);
            break;
        }
        if ((rc = cy_tlog_proof_parse(it->receipt, it->receipt_len, p, err))) {
            cy_wrap(err, "record %s: receipt", it->record_id);
            break;
        }
        if (p->index != it->log_index) {
            rc = cy_fail(err, COMITY_ERR_VERIFY, "record %s: the receipt is for index %llu, "
                         "the page says %llu", it->record_id, (unsigned long long)p->index,
                         (unsigned long long)it->log_index);
            break;
        }
        if (!first) {
            first = p->note;
            first_len = p->note_len;
            const comity_vkey *keys[1] = {o->log};
            if ((rc = comity_checkpoint_verify(first, first_len, keys, 1, &cp, err))) {
                cy_wrap(err, "record %s: the receipt's checkpoint", it->record_id);
                break;
            }
            if ((rc = consistent(o, &cp, fn, ctx, err)) ||
                (o->succession && (rc = succession_cut(o->succession, &cp, fn, ctx, err))))
                break;
        } else if (p->note_len != first_len || memcmp(p->note, first, first_len) != 0) {
            rc = cy_fail(err, COMITY_ERR_INVALID,
                         "record %s: its receipt names another checkpoint than the page's",
                         it->record_id);
            break;
        }
        /* the entry from the envelope's exact signed bytes; the record is
         * kept with the page (parsed once for every check after this) */
        comity_record_free(it->rec);
        it->rec = NULL;
        if ((rc = comity_record_parse(it->envelope, it->envelope_len, &it->rec, err))) {
            cy_wrap(err, "record %s", it->record_id);
            break;
        }
        const comity_record *rec = it->rec;
        if (strcmp(comity_record_id(rec), it->record_id) != 0)
            rc = cy_fail(err, COMITY_ERR_INVALID, "record %s: the envelope holds record %s",
                         it->record_id, comity_record_id(rec));
        uint8_t leaf[COMITY_TLOG_HASH];
        const char *entry = comity_record_entry(rec);
        comity_tlog_leaf_hash(entry, strlen(entry), leaf);
        if (!rc && (rc = cy_tlog_verify_inclusion_memo(memo, leaf, p->index, cp.size,
                                                       (const uint8_t(*)[CY_HASH])p->proof,
                                                       p->n, cp.root, err)))
            cy_fail(err, COMITY_ERR_VERIFY,
                    "record %s: its receipt does not prove it at index %llu of %s",
                    it->record_id, (unsigned long long)p->index, cp.origin);
    }
    cy_free(p);
    cy_free(memo);
    if (!rc) {
        *note = first;
        *note_len = first_len;
    }
    return rc;
}
