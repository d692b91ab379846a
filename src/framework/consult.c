/*
 * consult.c: consultations between states (OSCE CBM 3; peaceful settlement
 * under the UN Charter), as a case mechanism (case.h).
 *
 * A state requests consultations with another about an incident or a
 * message (`refs`); the other accepts, proposes another date or format, or
 * declines with a reason; the secretariat (third parties named in the
 * request's `to`) may offer good offices; either party adds the agenda and
 * documents; meetings are recorded (date, participants by office); the case
 * closes with an outcome (agreed statement, partial, no agreement,
 * withdrawn), and follow-up actions with owners and deadlines stay tracked
 * (overdue until done) after close.  The case view adds the escalation
 * ladder: technical contact -> diplomatic contact -> consultations -> good
 * offices, from the messages the request refers to and the directory's
 * contact kinds.  docs/framework.md has the tables.
 */
#include <string.h>

#include "framework/case.h"

enum { REQUESTED, COUNTERED, DECLINED, GOOD_OFFICES, ACCEPTED, MET, CLOSED };
static const char *const states[] = {"requested", "countered", "declined",
                                     "good-offices", "accepted", "met",
                                     "closed"};

#define R CY_BIT(REQUESTED)
#define C CY_BIT(COUNTERED)
#define D CY_BIT(DECLINED)
#define G CY_BIT(GOOD_OFFICES)
#define A CY_BIT(ACCEPTED)
#define M CY_BIT(MET)
#define X CY_BIT(CLOSED)
#define OPEN (R | C | D | G | A | M)

/* clocks: 0 the requested party's answer, 1 the requester's answer to a
 * counter-proposal */
#define ANS CY_BIT(0)
#define ANS_BACK CY_BIT(1)

static const cy_case_clock clocks[] = {
    {"answer", CY_CK_CONSULT_ANSWER, CY_ROLE_REQUESTED},
    {"answer-proposal", CY_CK_CONSULT_ANSWER, CY_ROLE_REQUESTER},
};

static const cy_case_row rows[] = {
    {R | G, "consult-accept", CY_ROLE_REQUESTED, ACCEPTED, 0, ANS},
    {C, "consult-accept", CY_ROLE_REQUESTER, ACCEPTED, 0, ANS_BACK},
    {R, "consult-propose", CY_ROLE_REQUESTED, COUNTERED, ANS_BACK, ANS},
    {C, "consult-propose", CY_ROLE_REQUESTER, REQUESTED, ANS, ANS_BACK},
    {R | G, "consult-decline", CY_ROLE_REQUESTED, DECLINED, 0, ANS},
    {R | C | D, "consult-good-offices", CY_ROLE_THIRD, GOOD_OFFICES, ANS,
     ANS | ANS_BACK},
    {OPEN, "consult-agenda", CY_ROLE_PARTIES, CY_SAME, 0, 0},
    {OPEN, "consult-document", CY_ROLE_PARTIES, CY_SAME, 0, 0},
    {A | M, "consult-meeting", CY_ROLE_ANY, MET, 0, 0},
    {A | M, "consult-close", CY_ROLE_PARTIES, CLOSED, 0, 0},
    {R | C | D | G, "consult-close", CY_ROLE_REQUESTER, CLOSED, 0, 0},
    {M | X, "consult-action", CY_ROLE_PARTIES, CY_SAME, 0, 0},
    {M | X, "consult-action-done", CY_ROLE_ANY, CY_SAME, 0, 0},
};

/* ---- body schemas ------------------------------------------------------------ */

static const char *const formats[] = {"in-person", "video", "phone", "written",
                                      NULL};
static const char *const outcomes[] = {"agreed-statement", "partial",
                                       "no-agreement", "withdrawn", NULL};

#define TEXT(n, req) {n, CY_FK_TEXT, req, NULL, 0, 0}
#define LONG(n, req) {n, CY_FK_TEXT, req, NULL, 0, CY_CASE_LONG_TEXT_MAX}
#define TIME(n, req) {n, CY_FK_TIME, req, NULL, 0, 0}
#define END {NULL, CY_FK_TEXT, false, NULL, 0, 0}

static const cy_field f_request[] = {
    {"subject", CY_FK_TEXT, true, NULL, 0, 256}, LONG("summary", true),
    TIME("proposed_date", false), {"format", CY_FK_ENUM, false, formats, 0, 0},
    TEXT("location", false), END};
static const cy_field f_accept[] = {
    TIME("date", false), {"format", CY_FK_ENUM, false, formats, 0, 0},
    TEXT("location", false), TEXT("note", false), END};
static const cy_field f_decline[] = {TEXT("reason", true), END};
static const cy_field f_good_offices[] = {TEXT("offer", true), END};
static const cy_field f_agenda[] = {{"items", CY_FK_TEXTS, true, NULL, 0, 64},
                                    END};
static const cy_field f_document[] = {
    {"title", CY_FK_TEXT, true, NULL, 0, 256}, LONG("content", false),
    {"sha256", CY_FK_SHA256, false, NULL, 0, 0},
    {"size", CY_FK_INT, false, NULL, 0, ((int64_t)1 << 53)},
    {"media_type", CY_FK_TEXT, false, NULL, 0, 128},
    {"files", CY_FK_FILES, false, NULL, 0, 0}, END};
static const cy_field f_meeting[] = {
    TIME("date", true), {"participants", CY_FK_PARTIES, true, NULL, 0, 64},
    {"format", CY_FK_ENUM, false, formats, 0, 0}, LONG("minutes", false), END};
static const cy_field f_close[] = {
    {"outcome", CY_FK_ENUM, true, outcomes, 0, 0}, LONG("statement", false),
    TEXT("note", false), END};
static const cy_field f_action[] = {{"owner", CY_FK_PARTY, true, NULL, 0, 0},
                                    TIME("due", true), TEXT("what", true), END};
static const cy_field f_action_done[] = {TEXT("note", false), END};

static comity_err check_propose(const char *t, const json_t *b,
                                comity_error *err)
{
    if (!json_object_get(b, "date") && !json_object_get(b, "format"))
        return cy_fail(err, COMITY_ERR_INVALID,
                       "%s.body: want another date or format (date, format)", t);
    return COMITY_OK;
}

static comity_err check_document(const char *t, const json_t *b,
                                 comity_error *err)
{
    if (!json_object_get(b, "content") && !json_object_get(b, "sha256") &&
        !json_object_get(b, "files"))
        return cy_fail(err, COMITY_ERR_INVALID,
                       "%s.body: want the content, or the files carried apart "
                       "(files, or sha256)", t);
    return COMITY_OK;
}

static comity_err check_close(const char *t, const json_t *b, comity_error *err)
{
    const char *o = json_string_value(json_object_get(b, "outcome"));
    if ((!strcmp(o, "agreed-statement") || !strcmp(o, "partial")) &&
        !json_object_get(b, "statement"))
        return cy_fail(err, COMITY_ERR_INVALID,
                       "%s.body.statement: an outcome %s needs the statement", t, o);
    return COMITY_OK;
}

static const cy_case_type types[] = {
    {"consult-request", f_request, NULL},
    {"consult-accept", f_accept, NULL},
    {"consult-propose", f_accept, check_propose},
    {"consult-decline", f_decline, NULL},
    {"consult-good-offices", f_good_offices, NULL},
    {"consult-agenda", f_agenda, NULL},
    {"consult-document", f_document, check_document},
    {"consult-meeting", f_meeting, NULL},
    {"consult-close", f_close, check_close},
    {"consult-action", f_action, NULL},
    {"consult-action-done", f_action_done, NULL},
};

/* ---- rules the table cannot say, and effects ------------------------------------ */

/* Whether `party` belongs to one of the case's parties' states. */
static bool of_case_states(const cy_case *c, const char *party)
{
    char ps[COMITY_PARTY_MAX + 1], cs[COMITY_PARTY_MAX + 1];
    cy_fw_state_of(party, ps);
    for (size_t i = 0; i < c->nparties; i++)
        if (strcmp(cy_fw_state_of(c->parties[i], cs), ps) == 0)
            return true;
    return false;
}

static cy_case_task *task_of(cy_case *c, const char *id)
{
    for (size_t i = 0; i < c->ntasks; i++)
        if (strcmp(c->tasks[i].id, id) == 0)
            return &c->tasks[i];
    return NULL;
}

static comity_err set_fact(cy_case *c, const char *k, json_t *v,
                           comity_error *err)
{
    if (!v || json_object_set_new(c->facts, k, v))
        return cy_fw_nomem(err);
    return COMITY_OK;
}

static comity_err hook(comity_framework *fw, cy_case *c, const cy_case_row *row,
                       const comity_record *rec, const json_t *body,
                       int64_t created, bool dry, comity_error *err)
{
    (void)fw;
    const char *type = comity_record_type(rec), *author = comity_record_author(rec);
    if (!row) { /* the request */
        if (comity_record_refs_count(rec) == 0)
            return cy_fail(err, COMITY_ERR_INVALID,
                           "consult-request.refs: want the incident or message "
                           "the consultations are about");
        if (dry)
            return COMITY_OK;
        json_t *refs = json_array();
        for (size_t i = 0; refs && i < comity_record_refs_count(rec); i++)
            if (json_array_append_new(refs, json_string(comity_record_ref(rec, i))))
                json_decref(refs), refs = NULL;
        return set_fact(c, "about", refs, err);
    }
    if (!strcmp(type, "consult-meeting") && body) {
        size_t i;
        json_t *p;
        json_array_foreach(json_object_get(body, "participants"), i, p) {
            if (!of_case_states(c, json_string_value(p)))
                return cy_fail(err, COMITY_ERR_INVALID,
                               "consult-meeting.body.participants[%zu]: %s is "
                               "an office of no party of the case", i,
                               json_string_value(p));
        }
    }
    if (!strcmp(type, "consult-action") && body) {
        const char *owner = json_string_value(json_object_get(body, "owner"));
        if (!of_case_states(c, owner))
            return cy_fail(err, COMITY_ERR_INVALID,
                           "consult-action.body.owner: %s is an office of no "
                           "party of the case", owner);
        if (cy_fw_time(json_string_value(json_object_get(body, "due"))) <= created)
            return cy_fail(err, COMITY_ERR_INVALID,
                           "consult-action.body.due: want a time after the "
                           "record's created time");
    }
    cy_case_task *task = NULL;
    if (!strcmp(type, "consult-action-done")) {
        if (comity_record_refs_count(rec) < 2 ||
            !(task = task_of(c, comity_record_ref(rec, 1))))
            return cy_fail(err, COMITY_ERR_INVALID,
                           "consult-action-done.refs[1]: want a follow-up "
                           "action (consult-action) of the case");
        if (task->done >= 0)
            return cy_fail(err, COMITY_ERR_CONFLICT,
                           "consult-action-done: action %.100s is already done",
                           task->id);
        char as[COMITY_PARTY_MAX + 1];
        if (task->owner && strcmp(task->owner, author) != 0 &&
            (strchr(task->owner, '.') ||
             strcmp(task->owner, cy_fw_state_of(author, as)) != 0))
            return cy_fail(err, COMITY_ERR_DENIED,
                           "consult-action-done: only the action's owner %s "
                           "may say it is done", task->owner);
    }
    if (dry)
        return COMITY_OK;
    const char *id = comity_record_id(rec);
    comity_err rc = COMITY_OK;
    if (task)
        task->done = created;
    else if (!strcmp(type, "consult-action"))
        rc = cy_case_task_add(
            c, id, body ? json_string_value(json_object_get(body, "owner")) : NULL,
            body ? json_string_value(json_object_get(body, "what")) : NULL,
            body ? cy_fw_time(json_string_value(json_object_get(body, "due"))) : -1,
            err);
    else if (!strcmp(type, "consult-good-offices"))
        rc = set_fact(c, "good_offices",
                      json_pack("{s:s, s:s, s:o}", "by", author, "record", id,
                                "at", cy_fw_time_json(created)), err);
    else if (!strcmp(type, "consult-close"))
        rc = set_fact(c, "outcome",
                      body ? json_incref(json_object_get(body, "outcome"))
                           : json_string("sealed"), err);
    else if (!strcmp(type, "consult-meeting")) {
        json_t *n = json_object_get(c->facts, "meetings");
        rc = set_fact(c, "meetings", json_integer(json_integer_value(n) + 1), err);
    } else if ((!strcmp(type, "consult-accept") || !strcmp(type, "consult-propose")) &&
               body && json_object_get(body, "date"))
        rc = set_fact(c, !strcmp(type, "consult-accept") ? "date" : "proposed_date",
                      json_incref(json_object_get(body, "date")), err);
    return rc;
}

/* ---- the escalation ladder ------------------------------------------------------ */

static int view(const comity_framework *fw, const cy_case *c, json_t *o)
{
    json_t *tech = json_array(), *dipl = json_array();
    json_t *about = json_object_get(c->facts, "about");
    size_t i;
    json_t *v;
    bool oom = !tech || !dipl;
    json_array_foreach(about, i, v) {
        const char *id = json_string_value(v);
        const msg *m = cy_fw_msg_find(fw, id);
        if (!m || oom)
            continue;
        /* the rung of a message: the directory kind of its author, or of
         * a recipient, when the message was sent */
        bool t = false, d = false;
        for (size_t k = 0; k <= m->nr; k++) {
            const char *who = k == 0 ? m->author : m->r[k - 1].party;
            const char *kind = cy_fw_kind_of_party(fw, who, m->created_ms);
            t |= kind && (!strcmp(kind, "technical") || !strcmp(kind, "le-24x7"));
            d |= kind && !strcmp(kind, "diplomatic");
        }
        if ((t && json_array_append_new(tech, json_string(id))) ||
            (d && json_array_append_new(dipl, json_string(id))))
            oom = true;
    }
    json_t *go = json_object_get(c->facts, "good_offices");
    json_t *gor = go ? json_pack("[O]", json_object_get(go, "record")) : json_array();
    const char *rung = go ? "good-offices" : "consultations";
    json_t *ladder = oom ? NULL : json_pack(
        "{s:s, s:[{s:s, s:b, s:O}, {s:s, s:b, s:O}, {s:s, s:b, s:[s]}, {s:s, s:b, s:o}]}",
        "rung", rung, "steps",
        "rung", "technical-contact", "reached", json_array_size(tech) > 0, "records", tech,
        "rung", "diplomatic-contact", "reached", json_array_size(dipl) > 0, "records", dipl,
        "rung", "consultations", "reached", 1, "records", c->id,
        "rung", "good-offices", "reached", go != NULL, "records", gor);
    json_decref(tech);
    json_decref(dipl);
    if (!ladder)
        return -1;
    return json_object_set_new(o, "ladder", ladder) ? -1 : 0;
}

/* The consultations' column of the deadline table: the requested party's
 * answer, 14 days under every profile (a default, not law). */
static void defaults(int64_t dur[CY_PROFILE_COUNT][CY_CK_COUNT])
{
    for (int p = 0; p < CY_PROFILE_COUNT; p++)
        dur[p][CY_CK_CONSULT_ANSWER] = 14 * 24 * HOUR_MS;
}

const cy_mech cy_mech_consultation = {
    .name = "consultation",
    .opens = "consult-request",
    .types = types,
    .ntypes = CY_ARRAY_LEN(types),
    .states = states,
    .nstates = CY_ARRAY_LEN(states),
    .open_states = OPEN,
    .initial = REQUESTED,
    .open_starts = ANS,
    .rows = rows,
    .nrows = CY_ARRAY_LEN(rows),
    .clocks = clocks,
    .nclocks = CY_ARRAY_LEN(clocks),
    .third_max = CY_CASE_THIRD_MAX,
    .profiled = false,
    .hook = hook,
    .view = view,
    .defaults = defaults,
};
