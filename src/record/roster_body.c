/*
 * roster_body.c: the body rules of the roster's records, party and
 * admission, and the body rules a node's origin applies to the record
 * types no framework mechanism rules (roster_body.h; docs/federation.md,
 * section 1).  An unknown field refuses a body: body.h's rule, which
 * log-succession's body (succession.c) shares.
 *
 * Each rule once: the roster's fold (src/sync/roster.c) skips a body
 * these refuse, `comity roster import` refuses it, and intake refuses it
 * at the origin (rule `body`) with the message written here.  Pure
 * functions of the body's bytes: no I/O, no allocation outlives a call.
 */
#include <string.h>

#include <jansson.h>

#include "record/body.h"
#include "record/roster_body.h"

/* Whether a name has no dot: a state code. */
static bool is_state(const char *name)
{
    return comity_party_valid(name, NULL) && !strchr(name, '.');
}

/* An optional string field; false when present and not a string. */
static bool opt_str(json_t *o, const char *k, const char **out)
{
    json_t *v = json_object_get(o, k);
    *out = json_string_value(v);
    return !v || *out;
}

/* A vkey named `name` (or, with name NULL, after any party); false otherwise. */
static bool vkey_named(const char *text, const char *name)
{
    comity_vkey *k = NULL;
    if (!text || strlen(text) >= CY_ROSTER_VKEY_MAX || comity_vkey_parse(text, strlen(text), &k, NULL))
        return false;
    bool ok = comity_vkey_type(k) == COMITY_NOTE_ED25519 &&
              (name ? !strcmp(comity_vkey_name(k), name)
                    : comity_party_valid(comity_vkey_name(k), NULL) != 0);
    comity_vkey_free(k);
    return ok;
}

static bool time_ok(const char *s)
{
    int64_t ms;
    return !s || comity_time_parse(s, &ms, NULL) == COMITY_OK;
}

bool cy_roster_home_ok(const char *log_vkey, const char *url)
{
    if (!log_vkey || !url || strlen(url) >= CY_ROSTER_URL_MAX ||
        strlen(log_vkey) >= CY_ROSTER_VKEY_MAX ||
        (strncmp(url, "http://", 7) && strncmp(url, "https://", 8)))
        return false;
    comity_vkey *hk = NULL;
    bool ok = comity_vkey_parse(log_vkey, strlen(log_vkey), &hk, NULL) == COMITY_OK &&
              comity_vkey_type(hk) == COMITY_NOTE_ED25519;
    comity_vkey_free(hk);
    return ok;
}

/* A home node: {"log_vkey": an Ed25519 note key, "url": http(s)}, the
 * message naming `where` (party.home, admission.home). */
static comity_err home_check(json_t *home, const char *where, comity_error *err)
{
    static const char *const known[] = {"log_vkey", "url", NULL};
    const char *lv = NULL, *url = NULL;
    if (!json_is_object(home) || cy_body_unknown_key(home, known) ||
        !opt_str(home, "log_vkey", &lv) || !opt_str(home, "url", &url) ||
        !cy_roster_home_ok(lv, url))
        return cy_fail(err, COMITY_ERR_INVALID, "%s: want {log_vkey (an Ed25519 note key), url "
                       "(http/https)}", where);
    return COMITY_OK;
}

comity_err cy_roster_admission_check(const char *body, size_t len, comity_error *err)
{
    static const char *const known[] = {"state", "vkey", "action", "reason", "home",
                                        "recipient", NULL};
    json_t *o = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
    const char *state = NULL, *vkey = NULL, *action = NULL, *reason = NULL, *recip = NULL, *k;
    json_t *home = json_object_get(o, "home");
    comity_err rc = COMITY_OK;
    if (!json_is_object(o))
        rc = cy_fail(err, COMITY_ERR_INVALID, "admission: the body is not a JSON object");
    else if ((k = cy_body_unknown_key(o, known)))
        rc = cy_fail(err, COMITY_ERR_INVALID, "admission: unknown field '%.32s'", k);
    else if (!opt_str(o, "state", &state) || !state || !is_state(state))
        rc = cy_fail(err, COMITY_ERR_INVALID, "admission.state: want a state code");
    else if (!opt_str(o, "vkey", &vkey) || !vkey_named(vkey, state))
        rc = cy_fail(err, COMITY_ERR_INVALID, "admission.vkey: want an Ed25519 key named %s",
                     state);
    else if (!opt_str(o, "action", &action) || !action ||
             (strcmp(action, "admit") && strcmp(action, "revoke")))
        rc = cy_fail(err, COMITY_ERR_INVALID, "admission.action: want admit or revoke");
    else if (!opt_str(o, "reason", &reason) || (reason && strlen(reason) > CY_ROSTER_TEXT_MAX))
        rc = cy_fail(err, COMITY_ERR_INVALID, "admission.reason: want a string of at most %d "
                     "bytes", CY_ROSTER_TEXT_MAX);
    else if (!opt_str(o, "recipient", &recip) ||
             (recip && (!home || !comity_recipient_valid(recip, NULL))))
        rc = cy_fail(err, COMITY_ERR_INVALID, "admission.recipient: want the state key's age "
                     "recipient, with its home");
    else if (home && (strcmp(action, "admit") != 0 || !recip))
        rc = cy_fail(err, COMITY_ERR_INVALID, "admission.home: only with action admit, and with "
                     "the state key's recipient");
    else if (home)
        rc = home_check(home, "admission.home", err);
    json_decref(o);
    return rc;
}

static comity_err user_check(json_t *u, size_t i, const char *office, comity_error *err)
{
    static const char *const known[] = {"name", "vkey", "valid_from", "revoked", NULL};
    const char *name = NULL, *vkey = NULL, *from = NULL, *rev = NULL, *k = NULL;
    if (!json_is_object(u))
        return cy_fail(err, COMITY_ERR_INVALID, "party.users[%zu]: not an object", i);
    if ((k = cy_body_unknown_key(u, known)))
        return cy_fail(err, COMITY_ERR_INVALID, "party.users[%zu]: unknown field '%.32s'", i, k);
    if (!opt_str(u, "name", &name) || !name || !*name || strlen(name) > CY_ROSTER_TEXT_MAX)
        return cy_fail(err, COMITY_ERR_INVALID, "party.users[%zu].name: want a short string", i);
    if (!opt_str(u, "vkey", &vkey) || !vkey_named(vkey, office))
        return cy_fail(err, COMITY_ERR_INVALID, "party.users[%zu].vkey: want an Ed25519 key "
                       "named %s", i, office);
    if (!opt_str(u, "valid_from", &from) || !time_ok(from))
        return cy_fail(err, COMITY_ERR_INVALID, "party.users[%zu].valid_from: want a time", i);
    if (!opt_str(u, "revoked", &rev) || (rev && strlen(rev) > CY_ROSTER_TEXT_MAX))
        return cy_fail(err, COMITY_ERR_INVALID, "party.users[%zu].revoked: want a reason", i);
    return COMITY_OK;
}

comity_err cy_roster_party_check(const char *body, size_t len, comity_error *err)
{
    static const char *const known[] = {"office", "vkey", "recipient", "roles", "home",
                                        "valid_from", "users", "revoked", NULL};
    json_t *o = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
    const char *office = NULL, *vkey = NULL, *recip = NULL, *from = NULL, *rev = NULL;
    const char *k = NULL;
    json_t *roles = NULL, *home = NULL, *users = NULL;
    comity_err rc = COMITY_OK;
    if (!json_is_object(o)) {
        rc = cy_fail(err, COMITY_ERR_INVALID, "party: the body is not a JSON object");
        goto out;
    }
    roles = json_object_get(o, "roles");
    home = json_object_get(o, "home");
    users = json_object_get(o, "users");
    if ((k = cy_body_unknown_key(o, known)))
        rc = cy_fail(err, COMITY_ERR_INVALID, "party: unknown field '%.32s'", k);
    else if (!opt_str(o, "office", &office) || !office || !comity_party_valid(office, NULL) ||
             is_state(office))
        rc = cy_fail(err, COMITY_ERR_INVALID, "party.office: want an office (state.office)");
    else if (!opt_str(o, "revoked", &rev) || (rev && strlen(rev) > CY_ROSTER_TEXT_MAX))
        rc = cy_fail(err, COMITY_ERR_INVALID, "party.revoked: want a reason of at most %d bytes",
                     CY_ROSTER_TEXT_MAX);
    else if (!opt_str(o, "valid_from", &from) || !time_ok(from))
        rc = cy_fail(err, COMITY_ERR_INVALID, "party.valid_from: want an RFC 3339 time");
    if (rc || rev)
        goto out; /* a revocation needs nothing else */
    if (!opt_str(o, "vkey", &vkey) || !vkey_named(vkey, office))
        rc = cy_fail(err, COMITY_ERR_INVALID, "party.vkey: want an Ed25519 key named %s", office);
    else if (!opt_str(o, "recipient", &recip) || !recip || !comity_recipient_valid(recip, NULL))
        rc = cy_fail(err, COMITY_ERR_INVALID, "party.recipient: want an age recipient");
    else if ((rc = home_check(home, "party.home", err)))
        ;
    else if (roles && (!json_is_array(roles) || json_array_size(roles) > CY_ROSTER_ROLES_MAX))
        rc = cy_fail(err, COMITY_ERR_INVALID, "party.roles: want at most %d strings",
                     CY_ROSTER_ROLES_MAX);
    else if (users && (!json_is_array(users) || json_array_size(users) > CY_ROSTER_USERS_MAX))
        rc = cy_fail(err, COMITY_ERR_INVALID, "party.users: want at most %d users",
                     CY_ROSTER_USERS_MAX);
    if (rc)
        goto out;
    for (size_t i = 0; !rc && i < json_array_size(roles); i++) {
        const char *r = json_string_value(json_array_get(roles, i));
        if (!r || !*r || strlen(r) > CY_ROSTER_TEXT_MAX)
            rc = cy_fail(err, COMITY_ERR_INVALID, "party.roles[%zu]: want a short string", i);
    }
    for (size_t i = 0; !rc && i < json_array_size(users); i++)
        rc = user_check(json_array_get(users, i), i, office, err);
out:
    json_decref(o);
    return rc;
}

comity_err cy_record_body_check(const char *type, const char *body, size_t len,
                                comity_error *err)
{
    bool party = !strcmp(type, "party"), adm = !strcmp(type, "admission");
    bool succ = !strcmp(type, COMITY_SUCCESSION_TYPE);
    if (!party && !adm && !succ)
        return COMITY_OK;
    if (!body)
        return cy_fail(err, COMITY_ERR_INVALID, "a %s record is public: tlp clear or green, "
                       "not sealed", type);
    return party ? cy_roster_party_check(body, len, err)
           : adm ? cy_roster_admission_check(body, len, err)
                 : comity_succession_check_body(body, len, err);
}
