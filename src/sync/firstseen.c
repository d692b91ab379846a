/*
 * firstseen.c: when the witnesses first saw each record of a page
 * (docs/federation.md, section 6, "The lower bound on created").
 *
 * The page's checkpoint says when the witnesses saw a record only if the
 * puller keeps up; the origin keeps every checkpoint that got cosigned
 * (src/tlog's cy_log_cosigned) and serves, after login,
 *
 *   GET /federation/cosigned/?from=I&to=J&size=P
 *   {"since": S, "size": P, "checkpoints": [{"size", "checkpoint", "proof"}]}
 *
 * the cosigned checkpoints from the first covering log index I to the
 * first covering J, each with its consistency proof to the page's
 * checkpoint (size P).  This file parses that answer (cy_cosigned_parse,
 * fuzzed by fuzz/fuzz_cosigned.c), checks each checkpoint as the page's
 * is checked (the pinned log key, its origin, consistent with the page's
 * checkpoint), computes for each the time its witness quorum first held
 * under the node's policy (src/tlog's cy_policy_quorum_time), and gives W
 * for each record: the earliest of those times over the checkpoints that
 * cover it (cy_firstseen_w).  The rule on `created` given W is
 * witnessed.c's (cy_witness_created_behind_check).
 *
 * An origin that answers 404 (a release from before the endpoint) gives
 * no W: nothing is refused on this rule.  An answer that does not parse
 * or check fails the page like a bad page (nothing taken, retried).  Log
 * indices below "since" (the origin's log began keeping them then) have
 * no W either.  Memory: one answer at a time (CY_SYNC_COSIGNED_BYTES),
 * and two integers per checkpoint of the page's span.
 *
 * A record this node is the origin of has its W in its own log's table
 * (cy_firstseen_local): the time the policy quorum first held on the
 * first kept checkpoint covering it on which it holds at all.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "sync/sync.h"
#include "tlog/tlog.h"

void cy_cosigned_answer_free(cy_cosigned_answer *a)
{
    if (!a)
        return;
    for (size_t i = 0; a->items && i < a->n; i++)
        cy_free(a->items[i].proof);
    cy_free(a->items);
    json_decref((json_t *)a->doc);
    memset(a, 0, sizeof *a);
}

static bool get_u64(json_t *o, const char *key, uint64_t *v)
{
    json_t *x = json_object_get(o, key);
    if (!json_is_integer(x) || json_integer_value(x) < 0)
        return false;
    *v = (uint64_t)json_integer_value(x);
    return true;
}

comity_err cy_cosigned_parse(const char *text, size_t len, cy_cosigned_answer *out,
                             comity_error *err)
{
    memset(out, 0, sizeof *out);
    if (len > CY_SYNC_COSIGNED_BYTES)
        return cy_fail(err, COMITY_ERR_TOOBIG, "cosigned checkpoints: answer over %d bytes",
                       CY_SYNC_COSIGNED_BYTES);
    json_error_t je;
    json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    out->doc = doc;
    if (!json_is_object(doc))
        return cy_fail(err, COMITY_ERR_INVALID, "cosigned checkpoints: not a JSON object (%s)",
                       doc ? "another value" : je.text);
    json_t *a = json_object_get(doc, "checkpoints");
    if (!get_u64(doc, "since", &out->since) || !get_u64(doc, "size", &out->size) ||
        !json_is_array(a))
        return cy_fail(err, COMITY_ERR_INVALID, "cosigned checkpoints: want since, size "
                       "(integers) and checkpoints (an array)");
    size_t n = json_array_size(a);
    if (n > CY_FED_COSIGNED_MAX)
        return cy_fail(err, COMITY_ERR_TOOBIG, "cosigned checkpoints: %zu, over %d", n,
                       CY_FED_COSIGNED_MAX);
    out->items = cy_calloc(n ? n : 1, sizeof *out->items);
    if (!out->items)
        return cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_array_get(a, i), *pr = json_object_get(o, "proof");
        json_t *cp = json_object_get(o, "checkpoint");
        cy_cosigned_item *it = &out->items[i];
        if (!json_is_object(o) || json_object_size(o) != 3 || !get_u64(o, "size", &it->size) ||
            !json_is_string(cp) || !json_is_array(pr))
            return cy_fail(err, COMITY_ERR_INVALID, "cosigned checkpoint %zu: want exactly "
                           "size, checkpoint and proof", i);
        if (it->size == 0 || it->size > out->size || (i && it->size <= out->items[i - 1].size))
            return cy_fail(err, COMITY_ERR_INVALID, "cosigned checkpoint %zu: size %llu not "
                           "increasing within 1..%llu", i, (unsigned long long)it->size,
                           (unsigned long long)out->size);
        it->note = json_string_value(cp);
        it->note_len = json_string_length(cp);
        if (it->note_len > CY_CHECKPOINT_MAX)
            return cy_fail(err, COMITY_ERR_TOOBIG, "cosigned checkpoint %zu: over %d bytes", i,
                           CY_CHECKPOINT_MAX);
        size_t np = json_array_size(pr);
        if (np > CY_TLOG_PROOF_MAX)
            return cy_fail(err, COMITY_ERR_TOOBIG, "cosigned checkpoint %zu: proof of %zu "
                           "hashes, over %d", i, np, CY_TLOG_PROOF_MAX);
        it->proof = cy_calloc(np ? np : 1, CY_HASH);
        if (!it->proof) {
            out->n = i + 1;
            return cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
        }
        out->n = i + 1;
        for (size_t k = 0; k < np; k++) {
            json_t *h = json_array_get(pr, k);
            if (!json_is_string(h) ||
                !cy_parse_hash(json_string_value(h), json_string_length(h), it->proof[k]))
                return cy_fail(err, COMITY_ERR_INVALID, "cosigned checkpoint %zu: proof hash "
                               "%zu is not base64 of 32 bytes", i, k);
        }
        it->nproof = np;
    }
    out->n = n;
    return COMITY_OK;
}

comity_err cy_cosigned_times(const cy_cosigned_answer *a, const comity_vkey *vk,
                             const comity_policy *pol, uint64_t size,
                             const uint8_t root[CY_HASH], uint64_t *qtime, comity_error *err)
{
    if (a->size != size)
        return cy_fail(err, COMITY_ERR_VERIFY, "cosigned checkpoints: proven to size %llu, "
                       "not the page's %llu", (unsigned long long)a->size,
                       (unsigned long long)size);
    const comity_vkey *keys[1] = {vk};
    for (size_t i = 0; i < a->n; i++) {
        const cy_cosigned_item *it = &a->items[i];
        cy_checkpoint cp;
        comity_err rc = cy_checkpoint_verify(it->note, it->note_len, keys, 1, &cp, err);
        if (!rc && cp.size != it->size)
            rc = cy_fail(err, COMITY_ERR_VERIFY, "it is of size %llu, not %llu",
                         (unsigned long long)cp.size, (unsigned long long)it->size);
        if (!rc && it->size == size && (it->nproof || memcmp(cp.root, root, CY_HASH)))
            rc = cy_fail(err, COMITY_ERR_VERIFY, "not the page's checkpoint of that size");
        if (!rc && it->size < size)
            rc = cy_tlog_verify_consistency(it->size, size, cp.root, root,
                                            (const uint8_t (*)[CY_HASH])it->proof, it->nproof,
                                            err);
        if (rc) {
            cy_wrap(err, "cosigned checkpoint of size %llu", (unsigned long long)it->size);
            return rc;
        }
        /* the time its quorum first held; without the quorum, none */
        uint64_t t = 0;
        comity_error qe = {0};
        rc = cy_policy_quorum_time(pol, it->note, it->note_len, NULL, &t, &qe);
        if (rc == COMITY_ERR_VERIFY) /* quorum not met on it (or a line failed) */
            t = UINT64_MAX;
        else if (rc)
            return cy_fail(err, rc, "cosigned checkpoint of size %llu: %s",
                           (unsigned long long)it->size, qe.msg);
        qtime[i] = t;
    }
    return COMITY_OK;
}

void cy_firstseen_w(const uint64_t *sizes, const uint64_t *qtime, size_t n, uint64_t since,
                    const uint64_t *index, size_t nindex, int64_t *w_ms)
{
    /* both in increasing order: walk the checkpoints from the end, keeping
     * the earliest time among those of a size above the index */
    uint64_t best = UINT64_MAX;
    size_t j = n;
    for (size_t i = nindex; i-- > 0;) {
        while (j > 0 && sizes[j - 1] > index[i]) {
            j--;
            if (qtime[j] < best)
                best = qtime[j];
        }
        w_ms[i] = index[i] < since || best == UINT64_MAX || best == 0 ||
                          best > (uint64_t)(INT64_MAX / 1000)
                      ? 0
                      : (int64_t)best * 1000;
    }
}

struct local_w {
    const comity_policy *pol;
    uint64_t t; /* the quorum time found, or 0 */
    comity_err rc;
    comity_error *err;
};

static int local_row(void *ctx, uint64_t size, const char *note, size_t len)
{
    (void)size;
    struct local_w *l = ctx;
    uint64_t t = 0;
    comity_error qe = {0};
    comity_err rc = cy_policy_quorum_time(l->pol, note, len, NULL, &t, &qe);
    if (rc == COMITY_ERR_VERIFY)
        return 0; /* no quorum on this one: the next covering one */
    if (rc) {
        l->rc = cy_fail(l->err, rc, "cosigned checkpoint of size %llu: %s",
                        (unsigned long long)size, qe.msg);
        return 1;
    }
    l->t = t;
    return t != 0; /* a time found: done (0, an untimed witness: none) */
}

comity_err cy_firstseen_local(comity_log *log, const comity_policy *pol, uint64_t index,
                              int64_t *w_ms, comity_error *err)
{
    *w_ms = 0;
    if (!log || !pol)
        return COMITY_OK;
    struct local_w l = {pol, 0, COMITY_OK, err};
    uint64_t since = 0;
    comity_err rc = cy_log_cosigned(log, index, UINT64_MAX - 1, UINT64_MAX, CY_FED_COSIGNED_MAX,
                                    &since, local_row, &l, err);
    if (!rc)
        rc = l.rc;
    if (!rc && index >= since && l.t && l.t <= (uint64_t)(INT64_MAX / 1000))
        *w_ms = (int64_t)l.t * 1000;
    return rc;
}

comity_err cy_firstseen_page(cy_sync_get_fn get, void *ctx, const comity_vkey *vk,
                             const comity_policy *pol, const char *note, size_t note_len,
                             const cy_pull_page *pg, int64_t **w_ms, comity_error *err)
{
    *w_ms = NULL;
    if (pg->n == 0)
        return COMITY_OK;
    cy_checkpoint page;
    const comity_vkey *keys[1] = {vk};
    comity_err rc = cy_checkpoint_verify(note, note_len, keys, 1, &page, err);
    uint64_t pq = 0;
    if (!rc)
        rc = cy_policy_quorum_time(pol, note, note_len, NULL, &pq, err);
    if (rc)
        return rc;
    uint64_t from = pg->items[0].log_index, to = pg->items[pg->n - 1].log_index;
    if (to >= page.size)
        return cy_fail(err, COMITY_ERR_VERIFY, "record %llu is not under the page's checkpoint",
                       (unsigned long long)to);
    /* the checkpoints of the span, and the page's own (it covers them all) */
    size_t cap = 64, n = 0;
    uint64_t *sizes = cy_malloc(cap * sizeof *sizes), *qt = cy_malloc(cap * sizeof *qt);
    uint64_t *idx = cy_malloc(pg->n * sizeof *idx);
    int64_t *w = cy_calloc(pg->n, sizeof *w);
    uint64_t since = 0;
    bool known = true;
    if (!sizes || !qt || !idx || !w)
        rc = cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    while (!rc) {
        char q[160];
        snprintf(q, sizeof q, "/federation/cosigned/?from=%llu&to=%llu&size=%llu",
                 (unsigned long long)from, (unsigned long long)to,
                 (unsigned long long)page.size);
        long st = 0;
        char *body = NULL;
        size_t blen = 0;
        rc = get(ctx, q, CY_SYNC_COSIGNED_BYTES, &st, &body, &blen, err);
        if (!rc && st == 404) { /* an origin from before the endpoint */
            cy_free(body);
            known = false;
            break;
        }
        if (!rc && st != 200)
            rc = cy_fail(err, COMITY_ERR_IO, "%s: HTTP %ld", q, st);
        cy_cosigned_answer a = {0};
        if (!rc)
            rc = cy_cosigned_parse(body ? body : "", blen, &a, err);
        cy_free(body);
        uint64_t *t = NULL;
        if (!rc && !(t = cy_malloc((a.n ? a.n : 1) * sizeof *t)))
            rc = cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
        if (!rc)
            rc = cy_cosigned_times(&a, vk, pol, page.size, page.root, t, err);
        size_t added = 0;
        for (size_t i = 0; !rc && i < a.n; i++) {
            if (n && a.items[i].size <= sizes[n - 1])
                continue; /* asked again from there: seen */
            added++;
            if (n == cap) {
                cap *= 2;
                uint64_t *s2 = cy_realloc(sizes, cap * sizeof *s2);
                if (s2)
                    sizes = s2;
                uint64_t *q2 = s2 ? cy_realloc(qt, cap * sizeof *q2) : NULL;
                if (q2)
                    qt = q2;
                if (!s2 || !q2) {
                    rc = cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
                    break;
                }
            }
            sizes[n] = a.items[i].size;
            qt[n++] = t[i];
        }
        since = a.since;
        bool full = a.n == CY_FED_COSIGNED_MAX;
        cy_free(t);
        cy_cosigned_answer_free(&a);
        /* an answer cut at its cap before covering `to`: ask on from its last */
        if (rc || !full || !added || sizes[n - 1] > to)
            break;
        from = sizes[n - 1];
    }
    if (!rc && known) {
        if (n == cap) {
            uint64_t *s2 = cy_realloc(sizes, (cap + 1) * sizeof *s2);
            if (s2)
                sizes = s2;
            uint64_t *q2 = s2 ? cy_realloc(qt, (cap + 1) * sizeof *q2) : NULL;
            if (q2)
                qt = q2;
            if (!s2 || !q2)
                rc = cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
        }
        if (!rc && (n == 0 || sizes[n - 1] < page.size)) {
            sizes[n] = page.size;
            qt[n++] = pq;
        } else if (!rc && pq < qt[n - 1]) {
            qt[n - 1] = pq;
        }
        for (size_t i = 0; !rc && i < pg->n; i++)
            idx[i] = pg->items[i].log_index;
        if (!rc)
            cy_firstseen_w(sizes, qt, n, since, idx, pg->n, w);
    }
    cy_free(sizes);
    cy_free(qt);
    cy_free(idx);
    if (rc || !known) {
        cy_free(w);
        return rc;
    }
    *w_ms = w;
    return COMITY_OK;
}
