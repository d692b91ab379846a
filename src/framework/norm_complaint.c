/*
 * norm_complaint.c: complaints that an ICT activity violated a norm, and
 * the replies, as a case mechanism (case.h).
 *
 * A state complains (norm-complaint) to the state it holds responsible,
 * or asks the state from whose territory the activity came to act under
 * norm 13(c) (`basis`), naming a norm of the catalogue (norm_catalogue.c)
 * and referring, in refs, to what supports it: notifications, attribution
 * cases, evidence.  The secretariat may be told (to[1..]).  The named
 * state acknowledges within a deadline (the `acknowledge` clock), then
 * replies within another (`reply`): it rejects the complaint, will
 * investigate, or has acted (saying what it did); a later reply may follow
 * an earlier one (will investigate, then has acted).  Either side may
 * propose consultations: it opens a consultation case (consult-request,
 * refs naming the complaint) and links it here with
 * norm-complaint-consult (refs[1]: the consultation case), which must be
 * between the same two states and be about the complaint.  The
 * complainant closes the complaint with its outcome.  docs/norms.md has
 * the tables.
 */
#include <string.h>

#include "framework/norms.h"

enum { COMPLAINED, ACKNOWLEDGED, REPLIED, CONSULTING, CLOSED };
static const char *const states[] = {"complained", "acknowledged", "replied",
                                     "consultations", "closed"};
#define CO CY_BIT(COMPLAINED)
#define AK CY_BIT(ACKNOWLEDGED)
#define RE CY_BIT(REPLIED)
#define CS CY_BIT(CONSULTING)
#define OPEN (CO | AK | RE | CS)

static const cy_case_clock clocks[] = {
    {"acknowledge", CY_CK_NORM_ACK, CY_ROLE_REQUESTED},
    {"reply", CY_CK_NORM_REPLY, CY_ROLE_REQUESTED},
};
#define ACK CY_BIT(0)
#define REPLY CY_BIT(1)

static const cy_case_row rows[] = {
    {CO, "norm-complaint-ack", CY_ROLE_REQUESTED, ACKNOWLEDGED, REPLY, ACK},
    /* a reply without an acknowledgement acknowledges too */
    {CO | AK, "norm-complaint-reply", CY_ROLE_REQUESTED, REPLIED, 0, ACK | REPLY},
    {RE | CS, "norm-complaint-reply", CY_ROLE_REQUESTED, CY_SAME, 0, 0},
    {CO | AK | RE, "norm-complaint-consult", CY_ROLE_PARTIES, CONSULTING, 0, ACK | REPLY},
    {OPEN, "norm-complaint-close", CY_ROLE_REQUESTER, CLOSED, 0, 0},
};

static const char *const bases[] = {"responsibility", "territory-13c", NULL};
static const char *const answers[] = {"rejects", "will-investigate", "has-acted", NULL};
static const char *const outcomes[] = {"resolved", "acted", "rejected", "consultations",
                                       "no-agreement", "withdrawn", NULL};

#define TEXT(n, req) {n, CY_FK_TEXT, req, NULL, 0, 0}
#define LONG(n, req) {n, CY_FK_TEXT, req, NULL, 0, CY_CASE_LONG_TEXT_MAX}
#define TIME(n, req) {n, CY_FK_TIME, req, NULL, 0, 0}
#define END {NULL, CY_FK_TEXT, false, NULL, 0, 0}

static const cy_field f_complaint[] = {
    {"norm", CY_FK_TEXT, true, NULL, 0, CY_NORM_ID_MAX},
    {"basis", CY_FK_ENUM, true, bases, 0, 0},
    {"subject", CY_FK_TEXT, true, NULL, 0, 256},
    LONG("summary", true),
    TIME("activity_from", false),
    TIME("activity_until", false),
    {"sectors", CY_FK_TEXTS, false, NULL, 0, 16},
    TEXT("asked", false), /* what the complainant asks the other state to do */
    {"files", CY_FK_FILES, false, NULL, 0, 0},
    END};
static const cy_field f_ack[] = {TEXT("note", false), END};
static const cy_field f_reply[] = {
    {"answer", CY_FK_ENUM, true, answers, 0, 0}, LONG("text", true),
    {"actions", CY_FK_TEXTS, false, NULL, 0, 64}, /* has-acted: what it did */
    {"files", CY_FK_FILES, false, NULL, 0, 0}, END};
static const cy_field f_consult[] = {TEXT("note", false), END};
static const cy_field f_close[] = {{"outcome", CY_FK_ENUM, true, outcomes, 0, 0},
                                   LONG("statement", false), END};

static comity_err check_complaint(const char *t, const json_t *b, comity_error *err)
{
    comity_err rc;
    if ((rc = cy_norm_check_sectors(t, b, "sectors", err)))
        return rc;
    json_t *f = json_object_get(b, "activity_from"), *u = json_object_get(b, "activity_until");
    if (f && u && cy_fw_time(json_string_value(u)) < cy_fw_time(json_string_value(f)))
        return cy_fail(err, COMITY_ERR_INVALID,
                       "%s.body.activity_until: want a time not before activity_from", t);
    const char *basis = json_string_value(json_object_get(b, "basis"));
    if (!strcmp(basis, "territory-13c") && !json_object_get(b, "asked"))
        return cy_fail(err, COMITY_ERR_INVALID,
                       "%s.body.asked: a request to act under 13(c) says what the "
                       "territorial state is asked to do", t);
    return COMITY_OK;
}

static comity_err check_reply(const char *t, const json_t *b, comity_error *err)
{
    const char *a = json_string_value(json_object_get(b, "answer"));
    if (!strcmp(a, "has-acted") && !json_object_get(b, "actions"))
        return cy_fail(err, COMITY_ERR_INVALID,
                       "%s.body.actions: a state that has acted says what it did", t);
    return COMITY_OK;
}

static const cy_case_type types[] = {
    {"norm-complaint", f_complaint, check_complaint},
    {"norm-complaint-ack", f_ack, NULL},
    {"norm-complaint-reply", f_reply, check_reply},
    {"norm-complaint-consult", f_consult, NULL},
    {"norm-complaint-close", f_close, NULL},
};

static comity_err fact(cy_case *c, const char *k, json_t *v, comity_error *err)
{
    if (!v || json_object_set_new(c->facts, k, v))
        return cy_fw_nomem(err);
    return COMITY_OK;
}

/* Whether consultation case k is between the states of complaint c and
 * names it in its opening's refs. */
static bool consult_of(const cy_case *k, const cy_case *c)
{
    char a[COMITY_PARTY_MAX + 1], b[COMITY_PARTY_MAX + 1], x[COMITY_PARTY_MAX + 1],
        y[COMITY_PARTY_MAX + 1];
    cy_fw_state_of(c->parties[0], a);
    cy_fw_state_of(c->parties[1], b);
    cy_fw_state_of(k->parties[0], x);
    cy_fw_state_of(k->parties[1], y);
    if (!((!strcmp(a, x) && !strcmp(b, y)) || (!strcmp(a, y) && !strcmp(b, x))))
        return false;
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(k->facts, "about"), i, v) {
        if (!strcmp(json_string_value(v), c->id))
            return true;
    }
    return false;
}

static comity_err hook(comity_framework *fw, cy_case *c, const cy_case_row *row,
                       const comity_record *rec, const json_t *body, int64_t created,
                       bool dry, comity_error *err)
{
    const char *type = comity_record_type(rec);
    if (!row) {
        const char *norm = body ? json_string_value(json_object_get(body, "norm")) : NULL;
        if (norm && !cy_norm_known(fw, norm))
            return cy_fail(err, COMITY_ERR_NOTFOUND,
                           "norm-complaint.body.norm: %s is not in the norm "
                           "catalogue (comity norm catalogue lists it)", norm);
        if (dry || !body)
            return COMITY_OK;
        comity_err rc;
        if ((rc = fact(c, "norm", json_string(norm), err)) ||
            (rc = fact(c, "basis", json_incref(json_object_get(body, "basis")), err)))
            return rc;
        json_t *refs = json_array();
        for (size_t i = 0; refs && i < comity_record_refs_count(rec); i++)
            if (json_array_append_new(refs, json_string(comity_record_ref(rec, i))))
                json_decref(refs), refs = NULL;
        return fact(c, "refs", refs, err);
    }
    if (!strcmp(type, "norm-complaint-consult")) {
        const cy_case *k = comity_record_refs_count(rec) > 1
                               ? cy_case_find(fw, comity_record_ref(rec, 1))
                               : NULL;
        if (!k || k->m != &cy_mech_consultation || !consult_of(k, c))
            return cy_fail(err, COMITY_ERR_INVALID,
                           "norm-complaint-consult.refs[1]: want the consultation "
                           "case (consult-request) between the two states whose "
                           "refs name complaint %.100s", c->id);
        if (dry)
            return COMITY_OK;
        return fact(c, "consultation", json_string(k->id), err);
    }
    if (dry)
        return COMITY_OK;
    if (!strcmp(type, "norm-complaint-reply")) {
        json_t *r = json_object_get(c->facts, "replies");
        json_t *one = json_pack("{s:s, s:o, s:O}", "record", comity_record_id(rec), "at",
                                cy_fw_time_json(created), "answer",
                                body ? json_object_get(body, "answer") : json_string("sealed"));
        if (!one)
            return cy_fw_nomem(err);
        if (!r) {
            if (!(r = json_array()) || json_object_set_new(c->facts, "replies", r)) {
                json_decref(one);
                return cy_fw_nomem(err);
            }
        }
        if (json_array_append_new(r, one))
            return cy_fw_nomem(err);
        return fact(c, "answer",
                    body ? json_incref(json_object_get(body, "answer")) : json_string("sealed"),
                    err);
    }
    if (!strcmp(type, "norm-complaint-close"))
        return fact(c, "outcome",
                    body ? json_incref(json_object_get(body, "outcome")) : json_string("sealed"),
                    err);
    return COMITY_OK;
}

/* Defaults, not law: 72 hours to acknowledge, 30 days to reply. */
static void defaults(int64_t dur[CY_PROFILE_COUNT][CY_CK_COUNT])
{
    for (int p = 0; p < CY_PROFILE_COUNT; p++) {
        dur[p][CY_CK_NORM_ACK] = 72 * HOUR_MS;
        dur[p][CY_CK_NORM_REPLY] = 30 * 24 * HOUR_MS;
    }
}

const cy_mech cy_mech_norm_complaint = {
    .name = "norm-complaint",
    .opens = "norm-complaint",
    .types = types,
    .ntypes = CY_ARRAY_LEN(types),
    .states = states,
    .nstates = CY_ARRAY_LEN(states),
    .open_states = OPEN,
    .initial = COMPLAINED,
    .open_starts = ACK,
    .rows = rows,
    .nrows = CY_ARRAY_LEN(rows),
    .clocks = clocks,
    .nclocks = CY_ARRAY_LEN(clocks),
    .third_max = CY_CASE_THIRD_MAX,
    .profiled = false,
    .hook = hook,
    .defaults = defaults,
};
