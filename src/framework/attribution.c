/*
 * attribution.c: attribution cases (UN GGE 2015 norm 13(b): accusations
 * substantiated; specs/framework.md section 6), as a case mechanism
 * (case.h).
 *
 * A state opens a case about one or more incidents (the opening's refs:
 * notifications or other records), naming in `to[0]` the state the case
 * concerns (the "named" state: it has the right of reply) and in `to[1..]`
 * the other parties: states that bring evidence, and the members of a
 * review panel.  Sealed by default (the CLI opens amber); nothing in a case
 * is ever published by the framework: a party records that it publishes
 * (attribution-publish), when it decides to; there is no duty to.
 *
 *   - evidence items (any party): what was observed, by whom, when, how it
 *     was obtained, the source's reliability (Admiralty A-F) and the
 *     information's credibility (1-6) as two separate fields, with STIX
 *     objects attached and/or sealed files named by sha256 and size;
 *   - ratings of an item by the parties of other states (once each);
 *   - claims, of two kinds kept apart and never merged into one sentence:
 *     "incident X is attributed to actor Y" and "actor Y acts on behalf of
 *     state Z", each with a STIX confidence (0-100) and, separately, an ICD
 *     203 likelihood word (the closed list of seven), resting on evidence
 *     items of the case (refs[1..]); a claim starts the named state's
 *     reply clock (a default of 30 days, or the claim's reply_by);
 *   - the named state's replies to a claim (deny, acknowledge, ask for the
 *     evidence, offer consultations: then refs[2] is the consultation case
 *     it opened, linked both ways in the view), shown beside the claim;
 *   - a review panel proposed by a party (members: third parties of the
 *     case, of neither the opener's nor the named state) and agreed by every
 *     party of the case, members included (consent to serve); then the
 *     members vote on each claim: concur, dissent or abstain, with an
 *     opinion on the STIX scale consistent with the vote and reasons; the
 *     tally is in the case view, every vote visible to every party;
 *   - actors named from a vocabulary (the MISP galaxy, actors.c) that the
 *     case extends with attribution-actor records.
 *
 * What the node checks on a sealed case is what the envelope shows: types
 * by state and role, the refs (a rating names an evidence item of another
 * state, a claim names evidence items, a reply a claim, a vote a claim and
 * at most once per member, the panel agreement the pending proposal).
 * Rules that need a body (a claim's named state is the case's named state,
 * a voter is a panel member, a consultation offer names its case) are
 * checked where the body is read: by the node for clear cases, by the
 * parties' clients that replay a sealed case with the bodies they open
 * (`comity attribution show`).  docs/attribution.md has the tables.
 */
#include <string.h>

#include "framework/case.h"
#include "stix/object.h"

#define DAY_MS (24 * HOUR_MS)
/* Third parties of an attribution case (other states, panel members). */
#define ATTR_THIRD_MAX 12
/* Days the named state has to reply to a claim, by default. */
#define ATTR_REPLY_DAYS 30

enum { OPEN, REVIEW, CLOSED };
static const char *const states[] = {"open", "review", "closed"};
#define O CY_BIT(OPEN)
#define V CY_BIT(REVIEW)
#define LIVE (O | V)

static const char *const role_names[] = {"opener", "named", "party"};

static const cy_case_clock clocks[] = {
    {"reply", CY_CK_ATTRIBUTION_REPLY, CY_ROLE_REQUESTED},
};
#define REPLY CY_BIT(0)

#define CLAIMANTS (CY_ROLE_REQUESTER | CY_ROLE_THIRD)

static const cy_case_row rows[] = {
    {LIVE, "attribution-evidence", CY_ROLE_ANY, CY_SAME, 0, 0},
    {LIVE, "attribution-rating", CY_ROLE_ANY, CY_SAME, 0, 0},
    {LIVE, "attribution-actor", CY_ROLE_ANY, CY_SAME, 0, 0},
    {LIVE, "attribution-claim", CLAIMANTS, CY_SAME, REPLY, 0},
    {LIVE, "attribution-reply", CY_ROLE_REQUESTED, CY_SAME, 0, REPLY},
    {O, "attribution-panel", CY_ROLE_ANY, CY_SAME, 0, 0},
    {O, "attribution-panel-agree", CY_ROLE_ANY, CY_SAME, 0, 0},
    {V, "attribution-vote", CY_ROLE_THIRD, CY_SAME, 0, 0},
    {LIVE, "attribution-publish", CY_ROLE_ANY, CY_SAME, 0, 0},
    {LIVE, "attribution-close", CY_ROLE_REQUESTER, CLOSED, 0, 0},
};

/* ---- vocabularies ---------------------------------------------------------------- */

/* Admiralty code: reliability of the source. */
static const char *const reliability[] = {"A", "B", "C", "D", "E", "F", NULL};
/* ICD 203: the seven likelihood terms (the equivalents are the CLI's). */
static const char *const likelihoods[] = {
    "almost no chance", "very unlikely", "unlikely", "roughly even chance",
    "likely", "very likely", "almost certain", NULL};
/* STIX 2.1 opinion-enum. */
static const char *const opinions[] = {"strongly-disagree", "disagree", "neutral",
                                       "agree", "strongly-agree", NULL};
static const char *const votes[] = {"concur", "dissent", "abstain", NULL};
static const char *const kinds[] = {"incident-actor", "actor-state", NULL};
static const char *const answers[] = {"deny", "acknowledge", "ask-evidence",
                                      "offer-consultations", NULL};
static const char *const methods[] = {
    "network-telemetry", "host-forensics", "malware-analysis", "infrastructure-analysis",
    "open-source", "partner-report", "human-source", "signals", "other", NULL};
static const char *const outcomes[] = {"attributed", "not-attributed", "inconclusive",
                                       "withdrawn", NULL};
/* STIX types an evidence item may carry. */
static const char *const stix_types[] = {
    "indicator", "infrastructure", "malware", "observed-data", "tool",
    "attack-pattern", "relationship", "domain-name", "ipv4-addr", "ipv6-addr",
    "url", "file", "email-addr", "x509-certificate", "network-traffic",
    "autonomous-system", NULL};

#define TEXT(n, req) {n, CY_FK_TEXT, req, NULL, 0, 0}
#define LONG(n, req) {n, CY_FK_TEXT, req, NULL, 0, CY_CASE_LONG_TEXT_MAX}
#define TIME(n, req) {n, CY_FK_TIME, req, NULL, 0, 0}
#define ENUM(n, req, v) {n, CY_FK_ENUM, req, v, 0, 0}
#define END {NULL, CY_FK_TEXT, false, NULL, 0, 0}

static const cy_field f_open[] = {
    {"title", CY_FK_TEXT, true, NULL, 0, 256}, LONG("summary", true), END};
static const cy_field f_evidence[] = {
    LONG("what", true),             /* what was observed */
    TEXT("observed_by", true),      /* by whom (the source) */
    TIME("observed_at", true),      /* when */
    ENUM("method", true, methods),  /* how it was obtained */
    TEXT("how", false),             /* ... in words */
    ENUM("reliability", true, reliability),
    {"credibility", CY_FK_INT, true, NULL, 1, 6},
    {"stix", CY_FK_OBJECTS, false, NULL, 0, 0},
    {"files", CY_FK_FILES, false, NULL, 0, 0}, END};
static const cy_field f_rating[] = {
    ENUM("reliability", false, reliability),
    {"credibility", CY_FK_INT, false, NULL, 1, 6}, TEXT("note", false), END};
static const cy_field f_actor[] = {
    {"name", CY_FK_TEXT, true, NULL, 0, 256},
    {"synonyms", CY_FK_TEXTS, false, NULL, 0, 64},
    {"country", CY_FK_TEXT, false, NULL, 0, 8}, LONG("description", false), END};
static const cy_field f_claim[] = {
    ENUM("kind", true, kinds),
    {"incident", CY_FK_TEXT, false, NULL, 0, 128}, /* incident-actor */
    {"actor", CY_FK_TEXT, true, NULL, 0, 256},
    {"actor_id", CY_FK_TEXT, false, NULL, 0, 128}, /* galaxy uuid or record */
    {"state", CY_FK_TEXT, false, NULL, 0, 32},     /* actor-state */
    {"confidence", CY_FK_INT, true, NULL, 0, 100}, /* STIX confidence */
    ENUM("likelihood", true, likelihoods),          /* ICD 203, apart */
    LONG("basis", false), TIME("reply_by", false), END};
static const cy_field f_reply[] = {ENUM("answer", true, answers),
                                   LONG("statement", false), END};
static const cy_field f_panel[] = {
    {"members", CY_FK_PARTIES, true, NULL, 0, ATTR_THIRD_MAX},
    LONG("mandate", false), END};
static const cy_field f_agree[] = {TEXT("note", false), END};
static const cy_field f_vote[] = {ENUM("vote", true, votes),
                                  ENUM("opinion", true, opinions),
                                  LONG("reasons", true), END};
static const cy_field f_publish[] = {LONG("statement", true), TIME("at", false),
                                     TEXT("where", false), END};
static const cy_field f_close[] = {ENUM("outcome", true, outcomes),
                                   TEXT("note", false), END};

static comity_err check_evidence(const char *t, const json_t *b, comity_error *err)
{
    size_t i;
    json_t *o;
    json_array_foreach(json_object_get(b, "stix"), i, o) {
        cy_stix_info info;
        comity_error e = {0};
        if (cy_stix_object_check(o, &info, &e))
            return cy_fail(err, COMITY_ERR_INVALID, "%s.body.stix[%zu]: %s", t, i, e.msg);
        if (!cy_fw_in_vocab(info.type, stix_types)) {
            char buf[512];
            return cy_fail(err, COMITY_ERR_INVALID, "%s.body.stix[%zu].type: want one of %s",
                           t, i, cy_fw_vocab_text(buf, sizeof buf, stix_types));
        }
    }
    return COMITY_OK;
}

static comity_err check_rating(const char *t, const json_t *b, comity_error *err)
{
    if (!json_object_get(b, "reliability") && !json_object_get(b, "credibility"))
        return cy_fail(err, COMITY_ERR_INVALID,
                       "%s.body: want a reliability (A-F), a credibility (1-6) or both", t);
    return COMITY_OK;
}

static bool is_state_code(const char *s)
{
    return s && !strchr(s, '.') && comity_party_valid(s, NULL);
}

static comity_err check_claim(const char *t, const json_t *b, comity_error *err)
{
    const char *k = json_string_value(json_object_get(b, "kind"));
    json_t *inc = json_object_get(b, "incident"), *st = json_object_get(b, "state");
    if (!strcmp(k, "incident-actor")) {
        if (!inc)
            return cy_fail(err, COMITY_ERR_INVALID,
                           "%s.body.incident: a claim incident-actor names the incident", t);
        if (st)
            return cy_fail(err, COMITY_ERR_INVALID,
                           "%s.body.state: a claim incident-actor names no state (claim "
                           "actor-state apart)", t);
    } else {
        if (!st || !is_state_code(json_string_value(st)))
            return cy_fail(err, COMITY_ERR_INVALID,
                           "%s.body.state: a claim actor-state names the state (a code: \"ru\")",
                           t);
        if (inc)
            return cy_fail(err, COMITY_ERR_INVALID,
                           "%s.body.incident: a claim actor-state names no incident (claim "
                           "incident-actor apart)", t);
    }
    return COMITY_OK;
}

static comity_err check_vote(const char *t, const json_t *b, comity_error *err)
{
    const char *v = json_string_value(json_object_get(b, "vote"));
    const char *o = json_string_value(json_object_get(b, "opinion"));
    bool agree = !strcmp(o, "agree") || !strcmp(o, "strongly-agree");
    bool disagree = !strcmp(o, "disagree") || !strcmp(o, "strongly-disagree");
    if ((!strcmp(v, "concur") && !agree) || (!strcmp(v, "dissent") && !disagree) ||
        (!strcmp(v, "abstain") && strcmp(o, "neutral") != 0))
        return cy_fail(err, COMITY_ERR_INVALID,
                       "%s.body.opinion: %s does not go with the vote %s (concur: agree or "
                       "strongly-agree; dissent: disagree or strongly-disagree; abstain: "
                       "neutral)", t, o, v);
    return COMITY_OK;
}

static const cy_case_type types[] = {
    {"attribution-open", f_open, NULL},
    {"attribution-evidence", f_evidence, check_evidence},
    {"attribution-rating", f_rating, check_rating},
    {"attribution-actor", f_actor, NULL},
    {"attribution-claim", f_claim, check_claim},
    {"attribution-reply", f_reply, NULL},
    {"attribution-panel", f_panel, NULL},
    {"attribution-panel-agree", f_agree, NULL},
    {"attribution-vote", f_vote, check_vote},
    {"attribution-publish", f_publish, NULL},
    {"attribution-close", f_close, NULL},
};

/* ---- the thread ---------------------------------------------------------------------- */

/* The entry `id` of c's thread, or NULL. */
static const cy_case_entry *entry_of(const cy_case *c, const char *id)
{
    for (size_t i = 0; id && i < c->ne; i++)
        if (strcmp(c->e[i].id, id) == 0)
            return &c->e[i];
    return NULL;
}

/* The refs[1..] of entry `id` (facts.refs), or NULL. */
static json_t *refs_of(const cy_case *c, const char *id)
{
    return json_object_get(json_object_get(c->facts, "refs"), id);
}

static bool same_state(const char *a, const char *b)
{
    char as[COMITY_PARTY_MAX + 1], bs[COMITY_PARTY_MAX + 1];
    return strcmp(cy_fw_state_of(a, as), cy_fw_state_of(b, bs)) == 0;
}

/* refs[i] of rec names an entry of type `type` in c; else a refusal. */
static comity_err ref_is(const cy_case *c, const comity_record *rec, size_t i,
                         const char *type, const cy_case_entry **out, comity_error *err)
{
    const char *t = comity_record_type(rec);
    const cy_case_entry *e = i < comity_record_refs_count(rec)
                                 ? entry_of(c, comity_record_ref(rec, i)) : NULL;
    if (!e || strcmp(e->type, type) != 0)
        return cy_fail(err, COMITY_ERR_INVALID, "%s.refs[%zu]: want an %s of case %.100s", t,
                       i, type, c->id);
    if (out)
        *out = e;
    return COMITY_OK;
}

/* Whether `author` already sent a record of `type` naming `target` as
 * refs[1] in c (a second rating or vote). */
static bool already(const cy_case *c, const char *type, const char *author,
                    const char *target, bool by_state)
{
    for (size_t i = 0; i < c->ne; i++) {
        const cy_case_entry *e = &c->e[i];
        if (strcmp(e->type, type) != 0 ||
            (by_state ? !same_state(e->author, author) : strcmp(e->author, author) != 0))
            continue;
        const char *r = json_string_value(json_array_get(refs_of(c, e->id), 0));
        if (r && !strcmp(r, target))
            return true;
    }
    return false;
}

static comity_err set_fact(json_t *o, const char *k, json_t *v, comity_error *err)
{
    if (!v || json_object_set_new(o, k, v))
        return cy_fw_nomem(err);
    return COMITY_OK;
}

/* ---- rules the table cannot say ------------------------------------------------------- */

static comity_err open_rules(cy_case *c, const comity_record *rec, bool dry,
                             comity_error *err)
{
    if (comity_record_refs_count(rec) == 0)
        return cy_fail(err, COMITY_ERR_INVALID,
                       "attribution-open.refs: want the incident(s) the case is about "
                       "(notifications or other records)");
    if (dry)
        return COMITY_OK;
    json_t *about = json_array();
    for (size_t i = 0; about && i < comity_record_refs_count(rec); i++)
        if (json_array_append_new(about, json_string(comity_record_ref(rec, i))))
            json_decref(about), about = NULL;
    json_t *refs = json_object();
    comity_err rc = set_fact(c->facts, "about", about, err);
    if (!rc)
        rc = set_fact(c->facts, "refs", refs, err);
    else
        json_decref(refs);
    return rc;
}

/* A consultation case `id` opened by the state of `author` with a party of c. */
static bool consultation_of(const comity_framework *fw, const cy_case *c, const char *id,
                            const char *author)
{
    const cy_case *k = id ? cy_case_find(fw, id) : NULL;
    if (!k || k->m != &cy_mech_consultation || !same_state(k->parties[0], author))
        return false;
    for (size_t i = 0; i < c->nparties; i++)
        if (!same_state(c->parties[i], author) && same_state(c->parties[i], k->parties[1]))
            return true;
    return false;
}

/* Dry rules of a record after the opening: refusals only. */
static comity_err rules(comity_framework *fw, cy_case *c, const comity_record *rec,
                        const json_t *body, int64_t created, comity_error *err)
{
    const char *type = comity_record_type(rec), *author = comity_record_author(rec);
    size_t nrefs = comity_record_refs_count(rec);
    const cy_case_entry *e = NULL;
    comity_err rc;
    if (!strcmp(type, "attribution-rating")) {
        if ((rc = ref_is(c, rec, 1, "attribution-evidence", &e, err)))
            return rc;
        if (same_state(e->author, author))
            return cy_fail(err, COMITY_ERR_DENIED,
                           "attribution-rating: evidence %.100s is %s's own; the parties of "
                           "other states rate it", e->id, e->author);
        if (already(c, type, author, e->id, true))
            return cy_fail(err, COMITY_ERR_CONFLICT,
                           "attribution-rating: the state of %s has rated evidence %.100s "
                           "already", author, e->id);
    } else if (!strcmp(type, "attribution-claim")) {
        if (nrefs < 2)
            return cy_fail(err, COMITY_ERR_INVALID,
                           "attribution-claim.refs: want the evidence items the claim rests "
                           "on after the case (refs[1..])");
        for (size_t i = 1; i < nrefs; i++)
            if ((rc = ref_is(c, rec, i, "attribution-evidence", NULL, err)))
                return rc;
        if (body) {
            const char *st = json_string_value(json_object_get(body, "state"));
            const char *inc = json_string_value(json_object_get(body, "incident"));
            char named[COMITY_PARTY_MAX + 1];
            cy_fw_state_of(c->parties[1], named);
            if (st && strcmp(st, named) != 0)
                return cy_fail(err, COMITY_ERR_INVALID,
                               "attribution-claim.body.state: %s is not the state case %.100s "
                               "concerns (%s, who has the right of reply); a claim about "
                               "another state goes in a case naming it", st, c->id, named);
            if (inc) {
                bool found = false;
                size_t i;
                json_t *a;
                json_array_foreach(json_object_get(c->facts, "about"), i, a)
                    found |= !strcmp(json_string_value(a), inc);
                if (!found)
                    return cy_fail(err, COMITY_ERR_INVALID,
                                   "attribution-claim.body.incident: %.100s is not an "
                                   "incident of case %.100s (its opening's refs)", inc, c->id);
            }
            json_t *rb = json_object_get(body, "reply_by");
            if (rb && cy_fw_time(json_string_value(rb)) <= created)
                return cy_fail(err, COMITY_ERR_INVALID,
                               "attribution-claim.body.reply_by: want a time after the "
                               "record's created time");
        }
    } else if (!strcmp(type, "attribution-reply")) {
        if ((rc = ref_is(c, rec, 1, "attribution-claim", NULL, err)))
            return rc;
        const char *k = nrefs > 2 ? comity_record_ref(rec, 2) : NULL;
        if (k && !consultation_of(fw, c, k, author))
            return cy_fail(err, COMITY_ERR_INVALID,
                           "attribution-reply.refs[2]: want the consultation case (a "
                           "consult-request by %s's state to a party of case %.100s)",
                           author, c->id);
        const char *ans = body ? json_string_value(json_object_get(body, "answer")) : NULL;
        if (ans && !strcmp(ans, "offer-consultations") && !k)
            return cy_fail(err, COMITY_ERR_INVALID,
                           "attribution-reply.refs[2]: an offer of consultations names the "
                           "consultation case it opened");
    } else if (!strcmp(type, "attribution-panel") && body) {
        size_t i;
        json_t *m;
        json_array_foreach(json_object_get(body, "members"), i, m) {
            const char *p = json_string_value(m);
            if (cy_case_roles(c, p) != CY_ROLE_THIRD || same_state(p, c->parties[0]) ||
                same_state(p, c->parties[1]))
                return cy_fail(err, COMITY_ERR_INVALID,
                               "attribution-panel.body.members[%zu]: %s is not a party of "
                               "case %.100s of neither the opener's nor the named state",
                               i, p, c->id);
        }
    } else if (!strcmp(type, "attribution-panel-agree")) {
        json_t *panel = json_object_get(c->facts, "panel");
        const char *pending = json_string_value(json_object_get(panel, "record"));
        if (!pending || nrefs < 2 || strcmp(comity_record_ref(rec, 1), pending) != 0)
            return cy_fail(err, COMITY_ERR_INVALID,
                           "attribution-panel-agree.refs[1]: want the pending panel "
                           "proposal of case %.100s (%s)", c->id, pending ? pending : "none");
        unsigned agreed = (unsigned)json_integer_value(json_object_get(panel, "slots"));
        if ((cy_case_slots(c, author) & ~agreed) == 0)
            return cy_fail(err, COMITY_ERR_CONFLICT,
                           "attribution-panel-agree: %s has agreed to panel %.100s already",
                           author, pending);
    } else if (!strcmp(type, "attribution-vote")) {
        if ((rc = ref_is(c, rec, 1, "attribution-claim", &e, err)))
            return rc;
        if (already(c, type, author, e->id, false))
            return cy_fail(err, COMITY_ERR_CONFLICT,
                           "attribution-vote: %s has voted on claim %.100s already", author,
                           e->id);
        json_t *members = json_object_get(json_object_get(c->facts, "panel"), "members");
        bool member = !json_is_array(members); /* sealed: the clients check */
        size_t i;
        json_t *m;
        json_array_foreach(members, i, m) {
            const char *p = json_string_value(m);
            member |= !strcmp(p, author) || (!strchr(p, '.') && same_state(p, author));
        }
        if (!member)
            return cy_fail(err, COMITY_ERR_DENIED,
                           "attribution-vote: %s is not a member of the review panel of case "
                           "%.100s", author, c->id);
    } else if (!strcmp(type, "attribution-publish")) {
        for (size_t i = 1; i < nrefs; i++)
            if ((rc = ref_is(c, rec, i, "attribution-claim", NULL, err)))
                return rc;
    }
    return COMITY_OK;
}

/* Effects on the panel (facts.panel), before the refs are recorded: a new
 * proposal replaces a pending one; an agreement adds the author's slots,
 * and the last moves the case to review.  OUT *old: the panel before (a
 * reference to put back if what follows fails). */
static comity_err panel_effects(cy_case *c, const comity_record *rec, const json_t *body,
                                int64_t created, json_t **old, comity_error *err)
{
    const char *type = comity_record_type(rec), *author = comity_record_author(rec);
    json_t *panel = NULL;
    *old = json_incref(json_object_get(c->facts, "panel"));
    if (!strcmp(type, "attribution-panel")) {
        panel = json_pack("{s:s, s:s, s:o, s:O?, s:[s], s:I, s:b}", "record",
                          comity_record_id(rec), "by", author, "at",
                          cy_fw_time_json(created), "members",
                          body ? json_object_get(body, "members") : NULL, "agreed", author,
                          "slots", (json_int_t)cy_case_slots(c, author), "agreed_by_all", 0);
    } else {
        panel = json_deep_copy(*old);
        unsigned slots = (unsigned)json_integer_value(json_object_get(panel, "slots")) |
                         cy_case_slots(c, author);
        unsigned all = (unsigned)(CY_BIT(c->nparties) - 1);
        if (panel &&
            (json_array_append_new(json_object_get(panel, "agreed"), json_string(author)) ||
             json_object_set_new(panel, "slots", json_integer(slots)) ||
             json_object_set_new(panel, "agreed_by_all", json_boolean(slots == all))))
            json_decref(panel), panel = NULL;
        if (panel && slots == all)
            c->state = REVIEW;
    }
    if (!panel || json_object_set_new(c->facts, "panel", panel)) {
        json_decref(*old);
        *old = NULL;
        return cy_fw_nomem(err);
    }
    return COMITY_OK;
}

static comity_err hook(comity_framework *fw, cy_case *c, const cy_case_row *row,
                       const comity_record *rec, const json_t *body, int64_t created,
                       bool dry, comity_error *err)
{
    if (!row)
        return open_rules(c, rec, dry, err);
    if (dry)
        return rules(fw, c, rec, body, created, err);
    const char *type = comity_record_type(rec);
    json_t *old = NULL;
    bool panel = !strcmp(type, "attribution-panel") ||
                 !strcmp(type, "attribution-panel-agree");
    comity_err rc = panel ? panel_effects(c, rec, body, created, &old, err) : COMITY_OK;
    if (rc)
        return rc;
    /* the record's refs after the case, for the view and later rules */
    json_t *refs = json_array();
    for (size_t i = 1; refs && i < comity_record_refs_count(rec); i++)
        if (json_array_append_new(refs, json_string(comity_record_ref(rec, i))))
            json_decref(refs), refs = NULL;
    if (!refs || json_object_set_new(json_object_get(c->facts, "refs"),
                                     comity_record_id(rec), refs)) {
        if (panel) {
            if (old)
                json_object_set_new(c->facts, "panel", old);
            else
                json_object_del(c->facts, "panel");
        }
        return cy_fw_nomem(err);
    }
    json_decref(old);
    if (!strcmp(type, "attribution-claim") && body && json_object_get(body, "reply_by"))
        c->clk[0].fixed_due = cy_fw_time(json_string_value(json_object_get(body, "reply_by")));
    return COMITY_OK;
}

/* ---- the view: claims with their replies and votes beside them --------------------------- */

/* {id, by, at} plus the body's fields (or sealed: true). */
static json_t *item(const cy_case_entry *e)
{
    json_t *o = json_pack("{s:s, s:s, s:o}", "id", e->id, "by", e->author, "at",
                          cy_fw_time_json(e->created));
    if (o && (e->body ? json_object_update(o, e->body)
                      : json_object_set_new(o, "sealed", json_true())))
        json_decref(o), o = NULL;
    return o;
}

static bool push(json_t *a, json_t *v)
{
    return v && !json_array_append_new(a, v);
}

static int view(const comity_framework *fw, const cy_case *c, json_t *o)
{
    (void)fw;
    json_t *ev = json_array(), *claims = json_array(), *actors = json_array(),
           *published = json_array(), *byid = json_object();
    bool ok = ev && claims && actors && published && byid;
    /* items first, then what names them (ratings, replies, votes) */
    for (size_t i = 1; ok && i < c->ne; i++) {
        const cy_case_entry *e = &c->e[i];
        json_t *it = NULL, *refs = refs_of(c, e->id);
        if (!strcmp(e->type, "attribution-evidence")) {
            it = item(e);
            ok = it && !json_object_set_new(it, "ratings", json_array()) &&
                 !json_object_set(byid, e->id, it) && push(ev, it);
        } else if (!strcmp(e->type, "attribution-claim")) {
            it = item(e);
            ok = it && !json_object_set(it, "evidence", refs ? refs : json_null()) &&
                 !json_object_set_new(it, "replies", json_array()) &&
                 !json_object_set_new(it, "votes", json_array()) &&
                 !json_object_set_new(it, "tally",
                                      json_pack("{s:i, s:i, s:i, s:i}", "concur", 0,
                                                "dissent", 0, "abstain", 0, "sealed", 0)) &&
                 !json_object_set(byid, e->id, it) && push(claims, it);
        } else if (!strcmp(e->type, "attribution-actor")) {
            ok = push(actors, item(e));
        } else if (!strcmp(e->type, "attribution-publish")) {
            it = item(e);
            ok = it && !json_object_set(it, "claims", refs ? refs : json_null()) &&
                 push(published, it);
        } else if (!strcmp(e->type, "attribution-rating") ||
                   !strcmp(e->type, "attribution-reply") ||
                   !strcmp(e->type, "attribution-vote")) {
            /* beside the item they name (refs[1]; checked when taken) */
            json_t *target = json_object_get(
                byid, json_string_value(json_array_get(refs, 0)));
            const char *list = !strcmp(e->type, "attribution-rating")  ? "ratings"
                               : !strcmp(e->type, "attribution-reply") ? "replies"
                                                                       : "votes";
            if (!target)
                continue;
            it = item(e);
            if (it && !strcmp(list, "replies") && json_array_size(refs) > 1 &&
                json_object_set(it, "consultation", json_array_get(refs, 1)))
                json_decref(it), it = NULL;
            ok = push(json_object_get(target, list), it);
            if (ok && !strcmp(list, "votes")) {
                json_t *tally = json_object_get(target, "tally");
                const char *v = e->body ? json_string_value(json_object_get(e->body, "vote"))
                                        : "sealed";
                json_t *n = json_object_get(tally, v);
                ok = !json_integer_set(n, json_integer_value(n) + 1);
            }
        }
    }
    json_t *a = ok ? json_pack("{s:O, s:o, s:o, s:o, s:O?, s:o}", "about",
                               json_object_get(c->facts, "about"), "evidence", ev,
                               "claims", claims, "actors", actors, "panel",
                               json_object_get(c->facts, "panel"), "published",
                               published)
                   : NULL;
    json_decref(byid);
    if (!a) {
        if (!ok) {
            json_decref(ev);
            json_decref(claims);
            json_decref(actors);
            json_decref(published);
        }
        return -1;
    }
    return json_object_set_new(o, "attribution", a) ? -1 : 0;
}

static void defaults(int64_t dur[CY_PROFILE_COUNT][CY_CK_COUNT])
{
    for (int p = 0; p < CY_PROFILE_COUNT; p++)
        dur[p][CY_CK_ATTRIBUTION_REPLY] = ATTR_REPLY_DAYS * DAY_MS;
}

const cy_mech cy_mech_attribution = {
    .name = "attribution",
    .opens = "attribution-open",
    .types = types,
    .ntypes = CY_ARRAY_LEN(types),
    .states = states,
    .nstates = CY_ARRAY_LEN(states),
    .open_states = LIVE,
    .initial = OPEN,
    .open_starts = 0,
    .rows = rows,
    .nrows = CY_ARRAY_LEN(rows),
    .clocks = clocks,
    .nclocks = CY_ARRAY_LEN(clocks),
    .third_max = ATTR_THIRD_MAX,
    .profiled = false,
    .role_names = role_names,
    .default_tlp = "amber", /* sealed by default: the parties alone read it */
    .hook = hook,
    .view = view,
    .defaults = defaults,
};
