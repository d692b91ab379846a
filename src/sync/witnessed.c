/*
 * witnessed.c: what a puller asks of the witnesses (docs/federation.md,
 * sections 6 and 8).
 *
 * The operator's witness policy, DIR/witness.policy, is a
 * c2sp.org/tlog-policy file (src/tlog/policy.c parses it): the witness
 * keys the node trusts (typically its peers' nodes' witness keys, which
 * each node serves at GET /v1/node) and the quorum of them that must
 * cosign a checkpoint of any origin before the puller takes a record it
 * covers.  Without the file, no quorum is asked (as before witnessing).
 *
 * The time: a type 0x04 cosignature carries the time its witness signed.
 * A record in a page whose checkpoint the witnesses cosigned at T existed
 * at T, so a record claiming a `created` later than T (beyond the origin's
 * own bound on created and a minute of clock skew) claims a time it cannot
 * have: it is refused, rule "witnessed-time".  The lower bound: W, the time
 * the quorum first held for a checkpoint covering the record (firstseen.c
 * finds it), bounds `created` from below by the origin's own bound behind
 * its clock and a minute: a record claiming to be older than that was
 * backdated (or held back from its log): refused by the same rule.
 *
 * The same policy says which checkpoint this node's own receipts are
 * served against (cy_witness_prove, docs/node.md "Receipts"): the newest
 * cosigned one covering the record whose cosignatures meet the quorum,
 * not the newest checkpoint, which a record signed after the last
 * cosigning (a delivery) leaves without cosignatures for a while.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "sync/sync.h"
#include "tlog/tlog.h"

static void policy_path(const char *dir, char *out, size_t n)
{
    snprintf(out, n, "%s/" CY_WITNESS_POLICY_FILE, dir);
}

comity_err cy_witness_policy_load(const char *dir, comity_policy **p, comity_error *err)
{
    *p = NULL;
    char path[4096];
    policy_path(dir, path, sizeof path);
    struct stat sb;
    if (stat(path, &sb) != 0)
        return COMITY_OK; /* no policy */
    char *text = NULL;
    size_t len = 0;
    comity_err rc = comity_read_file(path, COMITY_POLICY_MAX, &text, &len, err);
    if (!rc && (rc = comity_policy_parse(text, len, p, err)))
        cy_fail(err, rc, "%s: %s", path, err ? err->msg : "");
    comity_free(text);
    return rc;
}

comity_err cy_witness_policy_text(const char *dir, char **text, comity_error *err)
{
    *text = NULL;
    char path[4096];
    policy_path(dir, path, sizeof path);
    struct stat sb;
    if (stat(path, &sb) != 0)
        return COMITY_OK; /* no policy */
    char *t = NULL;
    size_t len = 0;
    comity_policy *p = NULL;
    comity_err rc = comity_read_file(path, COMITY_POLICY_MAX, &t, &len, err);
    if (!rc && (rc = comity_policy_parse(t, len, &p, err)))
        cy_fail(err, rc, "%s: %s", path, err ? err->msg : "");
    comity_policy_free(p);
    if (rc) {
        comity_free(t);
        return rc;
    }
    *text = t;
    return COMITY_OK;
}

comity_err cy_witness_policy_set(const char *dir, const char *text, size_t len,
                                 comity_error *err)
{
    char path[4096];
    policy_path(dir, path, sizeof path);
    if (len == 0) {
        if (remove(path) != 0)
            return cy_fail(err, COMITY_ERR_NOTFOUND, "%s: no witness policy to remove", path);
        return COMITY_OK;
    }
    comity_policy *p = NULL;
    comity_err rc = comity_policy_parse(text, len, &p, err);
    comity_policy_free(p);
    if (rc)
        return rc;
    return comity_write_file(path, text, len, 0644, 0, err);
}

comity_err cy_witness_check(const comity_policy *p, const char *note, size_t len,
                            int64_t *witnessed_ms, comity_error *err)
{
    uint64_t lo = 0, hi = 0;
    comity_checkpoint cp;
    *witnessed_ms = 0;
    comity_err rc = cy_policy_check_times(p, note, len, &cp, &lo, &hi, err);
    if (rc)
        return rc;
    if (hi > (uint64_t)(INT64_MAX / 1000))
        return cy_fail(err, COMITY_ERR_INVALID, "a cosignature of %s has an impossible time",
                       cp.origin);
    *witnessed_ms = (int64_t)hi * 1000;
    return COMITY_OK;
}

/* cy_log_accept_fn: the policy's quorum holds on the note. */
static bool quorum_met(void *ctx, const char *note, size_t len)
{
    int64_t ms;
    return cy_witness_check(ctx, note, len, &ms, NULL) == COMITY_OK;
}

comity_err cy_witness_prove(comity_log *log, const comity_policy *p, uint64_t index,
                            char **proof, size_t *len, comity_error *err)
{
    return comity_log_prove_policy(log, index, p, proof, len, NULL, err);
}

/* The public face of the rule (comity.h), for `comity log prove`, which
 * reads a node's log as its receipts are served. */
comity_err comity_log_prove_policy(comity_log *log, uint64_t index, const comity_policy *policy,
                                   char **proof, size_t *len, uint64_t *size, comity_error *err)
{
    return cy_log_prove_accepted(log, index, CY_WITNESS_RECEIPT_SCAN,
                                 policy ? quorum_met : NULL, (void *)policy, proof, len, size,
                                 err);
}

comity_err cy_witness_created_check(const comity_record *rec, int64_t witnessed_ms,
                                    comity_error *err)
{
    if (witnessed_ms <= 0)
        return COMITY_OK; /* no cosignature with a time: nothing to bound */
    comity_err rc = COMITY_OK;
    int64_t created = comity_record_created_ms(rec);
    if (created > witnessed_ms + CY_SYNC_CREATED_AHEAD_MS) {
        char w[CY_TIME_BUF];
        cy_time_format_ms(w, witnessed_ms);
        rc = cy_fail(err, COMITY_ERR_DENIED, "record %s claims created %s, %lld s after the "
                     "witnesses cosigned a checkpoint covering it (%s; at most %lld s)",
                     comity_record_id(rec), comity_record_created(rec),
                     (long long)((created - witnessed_ms) / 1000), w,
                     (long long)(CY_SYNC_CREATED_AHEAD_MS / 1000));
    }
    return rc;
}

comity_err cy_witness_created_behind_check(const comity_record *rec, int64_t first_ms,
                                           comity_error *err)
{
    if (first_ms <= 0)
        return COMITY_OK; /* not known: nothing to bound */
    int64_t created = comity_record_created_ms(rec);
    if (created >= first_ms - CY_SYNC_CREATED_BEHIND_MS)
        return COMITY_OK;
    char w[CY_TIME_BUF];
    cy_time_format_ms(w, first_ms);
    return cy_fail(err, COMITY_ERR_DENIED, "record %s claims created %s, %lld s before the "
                   "witnesses' quorum first cosigned a checkpoint covering it (%s; at most "
                   "%lld s)", comity_record_id(rec), comity_record_created(rec),
                   (long long)((first_ms - created) / 1000), w,
                   (long long)(CY_SYNC_CREATED_BEHIND_MS / 1000));
}
