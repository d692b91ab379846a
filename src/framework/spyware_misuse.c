/*
 * spyware_misuse.c: misuse cases of the spyware registry, as a case
 * mechanism (case.h; docs/spyware.md, "Misuse cases").
 *
 * A state (or the secretariat) that found a commercial spyware product
 * used against people opens a case naming the vendor and product, the
 * sector and the kind of target from closed vocabularies, and the evidence
 * as references (refs: STIX bundles, sightings records posted by `comity
 * sweep`) or files: no field of any body takes free text, so that no
 * personal data enters the registry.  Before it opens the case, the state
 * sends a misuse notice (spyware.c) sealed to the participating states;
 * each state's own client matches the notice against its licences (sealed
 * to itself, so nowhere else can) and, when it licensed the product, asks
 * to join.  The case's refs[0] is that notice, to[0] the requested party
 * (the secretariat, or the state hosting the infrastructure), and to[1..]
 * the states that asked to join (each checked from the join's envelope,
 * which the node reads even when sealed): they alone see the case.
 *
 * Status table (docs/spyware.md):
 *
 *   from          type                      who             to
 *   open          spyware-misuse-evidence   any party       open
 *   open          spyware-misuse-answer     requested/third open
 *   open          spyware-misuse-close      requester       closed
 */
#include <string.h>

#include "framework/spyware.h"

enum { OPEN, CLOSED };
static const char *const states[] = {"open", "closed"};

static const cy_case_row rows[] = {
    {CY_BIT(OPEN), "spyware-misuse-evidence", CY_ROLE_ANY, CY_SAME, 0, 0},
    {CY_BIT(OPEN), "spyware-misuse-answer", CY_ROLE_REQUESTED | CY_ROLE_THIRD, CY_SAME, 0, 0},
    {CY_BIT(OPEN), "spyware-misuse-close", CY_ROLE_REQUESTER, CLOSED, 0, 0},
};

static const char *const evidence_kinds[] = {"stix-bundle", "sightings", "forensic-report",
                                             "network-logs", "device-artefacts", NULL};
static const char *const measures[] = {"licence-revoked", "licence-suspended",
                                       "under-review", "no-licence", "no-action", NULL};
static const char *const outcomes[] = {"confirmed", "not-confirmed", "withdrawn", NULL};

#define END {NULL, CY_FK_TEXT, false, NULL, 0, 0}

static const cy_field f_open[] = {
    {"vendor", CY_FK_TEXT, true, NULL, 0, CY_SPY_NAME_MAX},
    {"product", CY_FK_TEXT, false, NULL, 0, CY_SPY_NAME_MAX},
    {"sector", CY_FK_ENUM, true, cy_spy_sectors, 0, 0},
    {"target_kind", CY_FK_ENUM, true, cy_spy_target_kinds, 0, 0},
    {"targets", CY_FK_INT, false, NULL, 1, 1000000},
    {"first_seen", CY_FK_TIME, false, NULL, 0, 0},
    {"last_seen", CY_FK_TIME, false, NULL, 0, 0},
    {"evidence", CY_FK_ENUM, false, evidence_kinds, 0, 0},
    {"files", CY_FK_FILES, false, NULL, 0, 0},
    END};
static const cy_field f_evidence[] = {
    {"evidence", CY_FK_ENUM, true, evidence_kinds, 0, 0},
    {"files", CY_FK_FILES, false, NULL, 0, 0},
    {"indicators", CY_FK_INT, false, NULL, 0, 100000000},
    {"sightings", CY_FK_INT, false, NULL, 0, 100000000},
    END};
static const cy_field f_answer[] = {{"measure", CY_FK_ENUM, true, measures, 0, 0},
                                    {"date", CY_FK_TIME, false, NULL, 0, 0}, END};
static const cy_field f_close[] = {{"outcome", CY_FK_ENUM, true, outcomes, 0, 0}, END};

static comity_err check_open(const char *t, const json_t *b, comity_error *err)
{
    int64_t f = cy_fw_time(json_string_value(json_object_get(b, "first_seen")));
    int64_t l = cy_fw_time(json_string_value(json_object_get(b, "last_seen")));
    if (f >= 0 && l >= 0 && l < f)
        return cy_fail(err, COMITY_ERR_INVALID,
                       "%s.body.last_seen: before first_seen", t);
    return COMITY_OK;
}

static const cy_case_type types[] = {
    {"spyware-misuse", f_open, check_open},
    {"spyware-misuse-evidence", f_evidence, NULL},
    {"spyware-misuse-answer", f_answer, NULL},
    {"spyware-misuse-close", f_close, NULL},
};

static comity_err hook(comity_framework *fw, cy_case *c, const cy_case_row *row,
                       const comity_record *rec, const json_t *body, int64_t created,
                       bool dry, comity_error *err)
{
    (void)created;
    if (row) { /* the case's later records: the outcome and answers */
        const char *type = comity_record_type(rec);
        if (dry || !body)
            return COMITY_OK;
        const char *k = !strcmp(type, "spyware-misuse-close")    ? "outcome"
                        : !strcmp(type, "spyware-misuse-answer") ? "measure"
                                                                  : NULL;
        if (k && json_object_set(c->facts, k, json_object_get(body, k)))
            return cy_fw_nomem(err);
        return COMITY_OK;
    }
    const char *author = comity_record_author(rec);
    const char *notice = comity_record_refs_count(rec) ? comity_record_ref(rec, 0) : NULL;
    const char *na = cy_spy_notice_author(fw, notice);
    char as[COMITY_PARTY_MAX + 1], ns[COMITY_PARTY_MAX + 1];
    if (!na || strcmp(cy_fw_state_of(na, ns), cy_fw_state_of(author, as)) != 0)
        return cy_fail(err, COMITY_ERR_INVALID,
                       "spyware-misuse.refs[0]: want the misuse notice %s's state sent "
                       "(spyware-misuse-notice), so that the states that licensed the "
                       "product can ask to join", as);
    for (size_t i = 1; i < comity_record_to_count(rec); i++) {
        const char *p = comity_record_to(rec, i);
        if (!cy_spy_joined(fw, notice, p))
            return cy_fail(err, COMITY_ERR_DENIED,
                           "spyware-misuse.to[%zu]: %s did not ask to join notice %.100s "
                           "(spyware-misuse-join)", i, p, notice);
    }
    if (dry)
        return COMITY_OK;
    /* the notice is the envelope's: kept even when the body is sealed,
     * for a state that asks to join later (may_join) */
    if (json_object_set_new(c->facts, "notice", json_string(notice)))
        return cy_fw_nomem(err);
    if (!body)
        return COMITY_OK;
    json_t *f = json_pack("{s:s, s:O, s:O*, s:O, s:O}", "notice", notice, "vendor",
                          json_object_get(body, "vendor"), "product",
                          json_object_get(body, "product"), "sector",
                          json_object_get(body, "sector"), "target_kind",
                          json_object_get(body, "target_kind"));
    if (!f || json_object_update(c->facts, f)) {
        json_decref(f);
        return cy_fw_nomem(err);
    }
    json_decref(f);
    return COMITY_OK;
}

/* A state may join an open case late (case-join, case.c) once it asked to
 * join the case's notice (spyware-misuse-join), as those named at the
 * opening did: its client matched the notice against its own licences. */
static bool may_join(const comity_framework *fw, const cy_case *c, const char *party)
{
    const char *notice = json_string_value(json_object_get(c->facts, "notice"));
    return notice && cy_spy_joined(fw, notice, party);
}

const cy_mech cy_mech_spyware_misuse = {
    .name = "spyware-misuse",
    .opens = "spyware-misuse",
    .types = types,
    .ntypes = CY_ARRAY_LEN(types),
    .states = states,
    .nstates = CY_ARRAY_LEN(states),
    .open_states = CY_BIT(OPEN),
    .initial = OPEN,
    .open_starts = 0,
    .rows = rows,
    .nrows = CY_ARRAY_LEN(rows),
    .clocks = NULL,
    .nclocks = 0,
    .third_max = CY_SPY_JOINERS_MAX,
    .profiled = false,
    .hook = hook,
    .view = NULL,
    .defaults = NULL,
    .may_join = may_join,
    .admits = CY_ROLE_REQUESTER,
};
