/*
 * signer.c: which key of an office signed a record, and whether it could
 * then, revocations weighed by `created` and by the witnesses' times
 * (the rules are in signer.h; docs/federation.md, section 1).  Intake
 * (src/intake/intake.c, rule `signature`, at the origin and for relayed
 * records alike) and the node's and CLI's answers naming the signer call
 * it; the store only keeps the users' keys.  No allocation.
 */
#include <stdio.h>
#include <string.h>

#include "base/base.h"
#include "record/signer.h"

/* Whether some signature of r says it is by key id `id` (8 hex). */
static bool names(const comity_record *r, const char *id)
{
    for (size_t i = 0; i < cy_record_nsigs(r); i++)
        if (!strcmp(cy_record_sig_keyid(r, i), id))
            return true;
    return false;
}

static void key_id(const comity_vkey *k, char out[9])
{
    snprintf(out, 9, "%08x", (unsigned)comity_vkey_id(k));
}

static bool verifies(const comity_record *r, const comity_vkey *k)
{
    const comity_vkey *ks[1] = {k};
    return k && comity_record_verify_parsed(r, ks, 1, NULL) == COMITY_OK;
}

bool cy_signed_before_revocation(int64_t created_r, int64_t w_r, int64_t revoked_at,
                                 int64_t w_v)
{
    if (created_r >= revoked_at)
        return false;
    if (w_r == CY_SIGNER_AT_ORIGIN)
        return false; /* logged now, after the revocation held */
    if (w_v <= 0)
        return true; /* the revocation not witnessed yet: later than r, known or not */
    if (w_r <= 0)
        return false; /* r not witnessed yet: later than the witnessed revocation */
    return w_r < w_v;
}

/* "W 2026-..." or "W unknown" into t. */
static const char *w_text(char t[COMITY_TIME_BUF + 16], int64_t w)
{
    if (w == CY_SIGNER_AT_ORIGIN)
        snprintf(t, COMITY_TIME_BUF + 16, "logged here now");
    else if (w <= 0)
        snprintf(t, COMITY_TIME_BUF + 16, "W unknown");
    else {
        char b[COMITY_TIME_BUF];
        comity_time_format(b, w);
        snprintf(t, COMITY_TIME_BUF + 16, "W %s", b);
    }
    return t;
}

comity_err cy_revocation_check(const comity_record *r, int64_t w_ms, const char *whose,
                               int64_t revoked_ms, const char *reason, int64_t revoked_w_ms,
                               comity_error *err)
{
    int64_t at = comity_record_created_ms(r);
    if (cy_signed_before_revocation(at, w_ms, revoked_ms, revoked_w_ms))
        return COMITY_OK;
    char t[COMITY_TIME_BUF], wr[COMITY_TIME_BUF + 16], wv[COMITY_TIME_BUF + 16];
    comity_time_format(t, revoked_ms);
    return cy_fail(err, COMITY_ERR_VERIFY, "signed by %s, revoked at %s (%s%sthe revocation's "
                   "%s), not after the record (created %s; its %s)", whose, t,
                   reason ? reason : "", reason ? "; " : "", w_text(wv, revoked_w_ms),
                   comity_record_created(r), w_text(wr, w_ms));
}

comity_err cy_record_signer(const comity_record *r, const comity_vkey *office,
                            cy_signer_users_fn load, void *ctx, const char **user,
                            comity_error *err)
{
    return cy_record_signer_at(r, office, 0, load, ctx, user, NULL, err);
}

comity_err cy_record_signer_at(const comity_record *r, const comity_vkey *office, int64_t w_ms,
                               cy_signer_users_fn load, void *ctx, const char **user,
                               bool *revoked, comity_error *err)
{
    if (revoked)
        *revoked = false;
    const char *author = comity_record_author(r);
    char id[9];
    *user = NULL;
    bool tried_office = false;
    if (office) {
        key_id(office, id);
        if (names(r, id)) {
            if (verifies(r, office))
                return COMITY_OK;
            tried_office = true;
        }
    }
    const cy_signer_user *us = NULL;
    size_t n = 0;
    comity_err rc = load ? load(ctx, &us, &n, err) : COMITY_OK;
    if (rc)
        return rc;
    bool named = false; /* some keyid named a user's key */
    for (size_t i = 0; i < n; i++) {
        const cy_signer_user *u = &us[i];
        if (!u->vkey)
            continue;
        key_id(u->vkey, id);
        if (!names(r, id))
            continue;
        named = true;
        if (!verifies(r, u->vkey))
            continue;
        int64_t at = comity_record_created_ms(r);
        char t[COMITY_TIME_BUF];
        if (u->valid_from_ms >= 0 && at < u->valid_from_ms) {
            comity_time_format(t, u->valid_from_ms);
            return cy_fail(err, COMITY_ERR_VERIFY, "signed by %s's user '%s', whose key is "
                           "valid from %s only, after the record's created %s", author, u->name,
                           t, comity_record_created(r));
        }
        if (u->revoked_ms >= 0) {
            char whose[512];
            snprintf(whose, sizeof whose, "%s's user '%.200s'", author, u->name);
            if (cy_revocation_check(r, w_ms, whose, u->revoked_ms,
                                    u->reason && *u->reason ? u->reason : "no reason given",
                                    u->revoked_w_ms, err)) {
                if (revoked)
                    *revoked = true;
                return COMITY_ERR_VERIFY;
            }
        }
        *user = u->name;
        return COMITY_OK;
    }
    /* keyids are hints: the office's key, whatever they say */
    if (office && !tried_office && verifies(r, office))
        return COMITY_OK;
    if (!named && cy_record_nsigs(r) > 0 && *cy_record_sig_keyid(r, 0) &&
        !(office && (key_id(office, id), names(r, id))))
        return cy_fail(err, COMITY_ERR_VERIFY, "signed under key id %.16s, which is neither %s's "
                       "key nor one of its users'", cy_record_sig_keyid(r, 0), author);
    return cy_fail(err, COMITY_ERR_VERIFY, "no signature verifies under the key registered for "
                   "%s", author);
}

struct given {
    const comity_user_key *u;
    size_t n;
};

static comity_err given_users(void *ctx, const cy_signer_user **users, size_t *n,
                              comity_error *err)
{
    (void)err;
    const struct given *g = ctx;
    *users = g->u;
    *n = g->n;
    return COMITY_OK;
}

comity_err comity_record_signer(const comity_record *rec, const comity_vkey *office,
                                const comity_user_key *users, size_t nusers, const char **user,
                                comity_error *err)
{
    struct given g = {users, nusers};
    return cy_record_signer(rec, office, given_users, &g, user, err);
}
