/*
 * succession.c: the log succession record and its rule (docs/federation.md,
 * section 11; comity.h, "Log succession").
 *
 * When a node's log key is lost or compromised, its state announces a new
 * log with a record of type "log-succession" that it signs with its state
 * key: the old and the new log keys, the new log's URL, and the old log's
 * last checkpoint that the state stands by (the "cut").  The rule, once:
 *
 *   a checkpoint signed by the old log key is judged against the cut:
 *     size below the cut's, and consistent with it   -> "before": it stands
 *       (consistency proven when a proof is at hand; offline, a receipt
 *       carries none, and its status says so)
 *     the cut's size and root                        -> "at": it stands
 *     the cut's size, another root; or below it with
 *       a consistency proof that does not lead to it  -> refused, "not-consistent"
 *     a size beyond the cut's                         -> refused, "beyond"
 *
 * so a receipt under the old key verifies up to the cut and a checkpoint
 * of the old key beyond it is refused (COMITY_ERR_DENIED, rule
 * "log-succession").  Who may sign a succession (a key of the author's
 * state, admitted by the roster) and what a node does when it follows one
 * are src/sync/succession.c's.  No I/O; every allocation is the caller's
 * handle or freed before return.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/base.h"
#include "record/body.h"

struct comity_succession {
    char *id, *state, *created, *old_vkey, *new_vkey, *url, *checkpoint, *reason;
    comity_checkpoint cut;
};

void comity_succession_free(comity_succession *s)
{
    if (!s)
        return;
    cy_free(s->id);
    cy_free(s->state);
    cy_free(s->created);
    cy_free(s->old_vkey);
    cy_free(s->new_vkey);
    cy_free(s->url);
    cy_free(s->checkpoint);
    cy_free(s->reason);
    cy_free(s);
}

/* An Ed25519 signed-note key whose name fits an origin; OUT *name (a copy). */
static bool log_vkey_ok(const char *text, char name[256])
{
    comity_vkey *k = NULL;
    if (!text || strlen(text) >= COMITY_SUCCESSION_VKEY_MAX ||
        comity_vkey_parse(text, strlen(text), &k, NULL))
        return false;
    bool ok = comity_vkey_type(k) == COMITY_NOTE_ED25519 && strlen(comity_vkey_name(k)) < 256;
    if (ok)
        snprintf(name, 256, "%s", comity_vkey_name(k));
    comity_vkey_free(k);
    return ok;
}

static bool url_ok(const char *u)
{
    if (!u || strlen(u) >= COMITY_SUCCESSION_URL_MAX ||
        (strncmp(u, "http://", 7) && strncmp(u, "https://", 8)))
        return false;
    for (const char *c = u; *c; c++)
        if ((unsigned char)*c <= ' ' || (unsigned char)*c > '~')
            return false;
    return true;
}

/* The body rules on a parsed object; OUT *cut: the checkpoint, verified
 * under the old key. */
static comity_err body_check(json_t *o, comity_checkpoint *cut, comity_error *err)
{
    static const char *const known[] = {"old_log_vkey", "new_log_vkey", "url", "checkpoint",
                                        "reason", NULL};
    if (!json_is_object(o))
        return cy_fail(err, COMITY_ERR_INVALID, "log-succession: the body is not a JSON object");
    const char *k = cy_body_unknown_key(o, known);
    if (k)
        return cy_fail(err, COMITY_ERR_INVALID, "log-succession: unknown field '%.32s'", k);
    json_t *v;
    json_object_foreach(o, k, v) {
        if (!json_is_string(v))
            return cy_fail(err, COMITY_ERR_INVALID, "log-succession.%s: not a string", k);
    }
    const char *ov = json_string_value(json_object_get(o, "old_log_vkey"));
    const char *nv = json_string_value(json_object_get(o, "new_log_vkey"));
    const char *url = json_string_value(json_object_get(o, "url"));
    const char *cp = json_string_value(json_object_get(o, "checkpoint"));
    const char *reason = json_string_value(json_object_get(o, "reason"));
    char on[256], nn[256];
    if (!log_vkey_ok(ov, on))
        return cy_fail(err, COMITY_ERR_INVALID, "log-succession.old_log_vkey: want an Ed25519 "
                       "signed-note key (a node's log key)");
    if (!log_vkey_ok(nv, nn))
        return cy_fail(err, COMITY_ERR_INVALID, "log-succession.new_log_vkey: want an Ed25519 "
                       "signed-note key (a node's log key)");
    if (!strcmp(on, nn))
        return cy_fail(err, COMITY_ERR_INVALID, "log-succession: the new log has the old one's "
                       "origin %s (a new log is a new origin: witnesses and peers know a log by "
                       "its origin)", on);
    if (!url_ok(url))
        return cy_fail(err, COMITY_ERR_INVALID, "log-succession.url: want the new log's http:// "
                       "or https:// URL, shorter than %d bytes", COMITY_SUCCESSION_URL_MAX);
    if (reason && strlen(reason) > COMITY_SUCCESSION_REASON_MAX)
        return cy_fail(err, COMITY_ERR_INVALID, "log-succession.reason: over %d bytes",
                       COMITY_SUCCESSION_REASON_MAX);
    if (!cp || strlen(cp) > COMITY_SUCCESSION_CKPT_MAX)
        return cy_fail(err, COMITY_ERR_INVALID, "log-succession.checkpoint: want the old log's "
                       "checkpoint note, at most %d bytes", COMITY_SUCCESSION_CKPT_MAX);
    comity_vkey *old = NULL;
    comity_err rc = comity_vkey_parse(ov, strlen(ov), &old, err);
    if (rc)
        return rc;
    const comity_vkey *keys[1] = {old};
    rc = comity_checkpoint_verify(cp, strlen(cp), keys, 1, cut, err);
    comity_vkey_free(old);
    if (rc)
        return cy_wrap(err, "log-succession.checkpoint: not a checkpoint signed by the old log "
                            "key");
    return COMITY_OK;
}

comity_err comity_succession_check_body(const char *body, size_t len, comity_error *err)
{
    json_t *o = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
    comity_checkpoint cut;
    comity_err rc = body_check(o, &cut, err);
    json_decref(o);
    return rc;
}

comity_err comity_succession_body(const char *old_vkey, const char *new_vkey, const char *url,
                                  const char *checkpoint, const char *reason, char **json,
                                  comity_error *err)
{
    *json = NULL;
    json_t *o = json_object();
    if (!o)
        return cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    const char *names[] = {"old_log_vkey", "new_log_vkey", "url", "checkpoint", "reason"};
    const char *vals[] = {old_vkey, new_vkey, url, checkpoint, reason};
    for (size_t i = 0; i < 5; i++)
        if (vals[i] && json_object_set_new(o, names[i], json_string(vals[i])) != 0) {
            json_decref(o);
            return cy_fail(err, COMITY_ERR_INVALID, "log-succession.%s: not UTF-8 text",
                           names[i]);
        }
    comity_checkpoint cut;
    comity_err rc = body_check(o, &cut, err);
    char *s = rc ? NULL : json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(o);
    if (rc)
        return rc;
    *json = s ? cy_strdup(s) : NULL;
    free(s);
    return *json ? COMITY_OK : cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
}

static char *dup_or_null(const char *s, bool *nomem)
{
    if (!s)
        return NULL;
    char *d = cy_strdup(s);
    if (!d)
        *nomem = true;
    return d;
}

comity_err comity_succession_parse(const char *envelope, size_t len,
                                   const comity_vkey *const *state_keys, size_t nkeys,
                                   comity_succession **out, comity_error *err)
{
    *out = NULL;
    comity_record *r = NULL;
    comity_err rc = comity_record_parse(envelope, len, &r, err);
    if (rc)
        return cy_wrap(err, "log-succession");
    const char *author = comity_record_author(r), *body = comity_record_body(r);
    const char *tlp = comity_record_tlp(r);
    json_t *o = NULL;
    comity_succession *s = NULL;
    if (strcmp(comity_record_type(r), COMITY_SUCCESSION_TYPE) != 0)
        rc = cy_fail(err, COMITY_ERR_INVALID, "log-succession: a %.48s record (want %s)",
                     comity_record_type(r), COMITY_SUCCESSION_TYPE);
    else if (strchr(author, '.'))
        rc = cy_fail(err, COMITY_ERR_INVALID, "log-succession: authored by %s, not by a state "
                     "key (a state code)", author);
    else if (!body || (strcmp(tlp, "clear") && strcmp(tlp, "green")))
        rc = cy_fail(err, COMITY_ERR_INVALID, "log-succession: tlp %s (want clear or green: "
                     "whoever holds a receipt must be able to read it)", tlp);
    else if (nkeys && (rc = comity_record_verify_parsed(r, state_keys, nkeys, err)))
        cy_wrap(err, "log-succession %s: the signature of %s", comity_record_id(r), author);
    if (rc)
        goto out;
    o = json_loads(body, JSON_REJECT_DUPLICATES, NULL);
    if (!(s = cy_calloc(1, sizeof *s))) {
        rc = cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
        goto out;
    }
    if ((rc = body_check(o, &s->cut, err)))
        goto out;
    bool nomem = false;
    s->id = dup_or_null(comity_record_id(r), &nomem);
    s->state = dup_or_null(author, &nomem);
    s->created = dup_or_null(comity_record_created(r), &nomem);
    s->old_vkey = dup_or_null(json_string_value(json_object_get(o, "old_log_vkey")), &nomem);
    s->new_vkey = dup_or_null(json_string_value(json_object_get(o, "new_log_vkey")), &nomem);
    s->url = dup_or_null(json_string_value(json_object_get(o, "url")), &nomem);
    s->checkpoint = dup_or_null(json_string_value(json_object_get(o, "checkpoint")), &nomem);
    s->reason = dup_or_null(json_string_value(json_object_get(o, "reason")), &nomem);
    if (nomem)
        rc = cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
out:
    json_decref(o);
    comity_record_free(r);
    if (rc) {
        comity_succession_free(s);
        return rc;
    }
    *out = s;
    return COMITY_OK;
}

const char *comity_succession_get(const comity_succession *s, const char *field)
{
    if (!s || !field)
        return NULL;
    return !strcmp(field, "id")             ? s->id
           : !strcmp(field, "state")        ? s->state
           : !strcmp(field, "created")      ? s->created
           : !strcmp(field, "old_log_vkey") ? s->old_vkey
           : !strcmp(field, "new_log_vkey") ? s->new_vkey
           : !strcmp(field, "url")          ? s->url
           : !strcmp(field, "checkpoint")   ? s->checkpoint
           : !strcmp(field, "reason")       ? s->reason
                                            : NULL;
}

uint64_t comity_succession_size(const comity_succession *s)
{
    return s ? s->cut.size : 0;
}

comity_err comity_succession_judge(const comity_succession *s, const comity_checkpoint *cp,
                                   const uint8_t *proof, size_t nproof, const char **status,
                                   comity_error *err)
{
    *status = NULL;
    unsigned long long n = (unsigned long long)s->cut.size, m = (unsigned long long)cp->size;
    if (strcmp(cp->origin, s->cut.origin) != 0)
        return cy_fail(err, COMITY_ERR_USAGE, "log-succession: a checkpoint of %.64s, not of "
                       "the old log %.64s", cp->origin, s->cut.origin);
    if (cp->size > s->cut.size)
        return cy_fail(err, COMITY_ERR_DENIED, "log-succession (beyond): a checkpoint of %s of "
                       "size %llu, beyond %llu, the last one its state stands by (succession "
                       "%s by %s)", cp->origin, m, n, s->id, s->state);
    if (cp->size == s->cut.size) {
        if (memcmp(cp->root, s->cut.root, COMITY_TLOG_HASH) != 0)
            return cy_fail(err, COMITY_ERR_DENIED, "log-succession (not-consistent): a "
                           "checkpoint of %s of size %llu with another root than the one its "
                           "state stands by (succession %s)", cp->origin, m, s->id);
        *status = "at";
        return COMITY_OK;
    }
    if (!proof) {
        *status = "before (consistency with the succession's checkpoint not proven)";
        return COMITY_OK;
    }
    comity_error pe = {0};
    if (comity_tlog_verify_consistency(cp->size, s->cut.size, cp->root, s->cut.root, proof,
                                       nproof, &pe) != COMITY_OK)
        return cy_fail(err, COMITY_ERR_DENIED, "log-succession (not-consistent): the checkpoint "
                       "of %s of size %llu does not lead to the one of size %llu its state "
                       "stands by (succession %s): %s", cp->origin, m, n, s->id, pe.msg);
    *status = "before";
    return COMITY_OK;
}

comity_err comity_succession_receipt(const comity_succession *s, const char *proof, size_t len,
                                     const void *entry, size_t entry_len,
                                     const comity_policy *policy, const char **status,
                                     uint64_t *index, comity_checkpoint *cp, comity_error *err)
{
    *status = NULL;
    comity_vkey *old = NULL, *nk = NULL;
    comity_err rc = comity_vkey_parse(s->old_vkey, strlen(s->old_vkey), &old, err);
    if (!rc)
        rc = comity_vkey_parse(s->new_vkey, strlen(s->new_vkey), &nk, err);
    if (rc) {
        comity_vkey_free(old);
        return rc;
    }
    const comity_vkey *keys[1] = {old}, *nkeys[1] = {nk};
    comity_checkpoint got;
    rc = comity_tlog_proof_verify(proof, len, entry, entry_len, keys, 1, policy, index, &got,
                                  err);
    if (rc == COMITY_ERR_VERIFY &&
        comity_tlog_proof_verify(proof, len, entry, entry_len, nkeys, 1, NULL, NULL, NULL,
                                 NULL) == COMITY_OK)
        rc = cy_fail(err, COMITY_ERR_NOKEY, "log-succession: the receipt is under the new log "
                     "key, not the old one (check it as any receipt of the new log)");
    comity_vkey_free(old);
    comity_vkey_free(nk);
    if (rc)
        return rc;
    if (cp)
        *cp = got;
    return comity_succession_judge(s, &got, NULL, 0, status, err);
}
