/*
 * norms.c: the norms mechanism's descriptor (struct cy_fw_mech, core.h):
 * the record types that are not steps of a case, routed to their files,
 * and the supply-chain alert.
 *
 *   norm-entry        the catalogue (norm_catalogue.c), by the secretariat
 *   norm-declaration  a state's protected infrastructure and CERTs
 *   norm-reseal       a declaration sealed again to states that joined
 *                     later (both norm_declare.c)
 *   norm-alert        a supply-chain alert about a disclosure case
 *                     (norm_disclosure.c), here
 *   norm-report       a section of a state's implementation report
 *                     (norm_report.c)
 *   norm-position-draft, -comment, -delegation, norm-position
 *                     national positions on international law
 *                     (norm_position.c)
 *
 * A norm-alert names the disclosure case as refs[0], comes from one of
 * its two parties and goes (`to`) to the participating states the author
 * names, at least one beyond the case's two states; it may be sent once
 * the case is published, once its embargo ran out, or sooner when the
 * flaw is exploited in the wild.  It is no step of the case's table (its
 * `to` is wider than the case's parties), so it lives here and records
 * itself in the case's facts.  Complaints and disclosures themselves are
 * case mechanisms (norm_complaint.c, norm_disclosure.c), listed in
 * registry.c's case list.  docs/norms.md has every table.
 */
#include <string.h>

#include "framework/norms.h"

#define TEXT(n, req) {n, CY_FK_TEXT, req, NULL, 0, 0}
#define END {NULL, CY_FK_TEXT, false, NULL, 0, 0}

static const cy_field f_alert[] = {
    {"product", CY_FK_TEXT, true, NULL, 0, 256},
    {"vendor", CY_FK_TEXT, true, NULL, 0, 256},
    {"summary", CY_FK_TEXT, true, NULL, 0, CY_CASE_LONG_TEXT_MAX},
    {"cves", CY_FK_TEXTS, false, NULL, 0, 64},
    TEXT("advisory", false),
    {"exploited", CY_FK_BOOL, false, NULL, 0, 0},
    TEXT("mitigation", false),
    END};

static comity_err check_alert(const char *t, const json_t *b, comity_error *err)
{
    return cy_norm_check_cves(t, b, "cves", err);
}

const cy_case_type cy_norm_alert_type = {"norm-alert", f_alert, check_alert};

const cy_case_type *cy_norm_type(const char *type)
{
    const cy_case_type *all[] = {&cy_norm_entry_type, &cy_norm_decl_type,
                                 &cy_norm_reseal_type, &cy_norm_alert_type,
                                 &cy_norm_report_type};
    for (size_t i = 0; type && i < CY_ARRAY_LEN(all); i++)
        if (!strcmp(all[i]->name, type))
            return all[i];
    for (size_t i = 0; type && i < CY_ARRAY_LEN(cy_norm_position_types); i++)
        if (!strcmp(cy_norm_position_types[i].name, type))
            return &cy_norm_position_types[i];
    return NULL;
}

/* ---- the supply-chain alert ---------------------------------------------------------- */

static void alert_free(cy_norm_alert *a)
{
    cy_free(a->id);
    cy_free(a->author);
    cy_free(a->case_id);
    json_decref(a->to);
    json_decref(a->body);
}

static comity_err alert_add(comity_framework *fw, const comity_record *rec,
                            const json_t *body, int64_t created, bool dry,
                            comity_error *err)
{
    struct cy_norms *n = fw->norms;
    const char *author = comity_record_author(rec);
    const char *ref = comity_record_refs_count(rec) ? comity_record_ref(rec, 0) : NULL;
    cy_case *c = ref ? cy_case_find(fw, ref) : NULL;
    /* a case the author is not in gets the unknown case's answer */
    if (!c || c->m != &cy_mech_norm_disclosure || !cy_case_roles(c, author))
        return cy_fail(err, COMITY_ERR_NOTFOUND,
                       "norm-alert.refs[0]: no disclosure case %.100s is known to %s",
                       ref ? ref : "(none)", author);
    char s0[COMITY_PARTY_MAX + 1], s1[COMITY_PARTY_MAX + 1], x[COMITY_PARTY_MAX + 1];
    cy_fw_state_of(c->parties[0], s0);
    cy_fw_state_of(c->parties[1], s1);
    size_t beyond = 0;
    for (size_t i = 0; i < comity_record_to_count(rec); i++) {
        cy_fw_state_of(comity_record_to(rec, i), x);
        beyond += strcmp(x, s0) != 0 && strcmp(x, s1) != 0;
    }
    if (!beyond)
        return cy_fail(err, COMITY_ERR_INVALID,
                       "norm-alert.to: an alert goes to the participating states: "
                       "want at least one beyond %s and %s", s0, s1);
    char why[256];
    if (!cy_norm_alert_due(fw, c, created, why, sizeof why))
        return cy_fail(err, COMITY_ERR_CONFLICT,
                       "norm-alert: too soon: %s (an alert goes out once the case "
                       "is published, the embargo ran out, or the flaw is exploited "
                       "in the wild)", why);
    if (dry)
        return COMITY_OK;
    if (cy_fw_grow((void **)&n->a, &n->capa, n->na, sizeof *n->a))
        return cy_fw_nomem(err);
    cy_norm_alert a = {.id = cy_strdup(comity_record_id(rec)), .author = cy_strdup(author),
                       .case_id = cy_strdup(c->id), .created = created,
                       .sealed = comity_record_is_sealed(rec) != 0, .to = json_array(),
                       .body = body ? json_incref((json_t *)body) : NULL};
    bool oom = !a.id || !a.author || !a.case_id || !a.to;
    for (size_t i = 0; !oom && i < comity_record_to_count(rec); i++)
        oom = json_array_append_new(a.to, json_string(comity_record_to(rec, i))) != 0;
    if (oom || json_object_set_new(fw->ids, a.id, json_integer(-1))) {
        alert_free(&a);
        return cy_fw_nomem(err);
    }
    comity_err rc = cy_norm_alert_note(c, a.id, err);
    if (rc) {
        json_object_del(fw->ids, a.id);
        alert_free(&a);
        return rc;
    }
    n->a[n->na++] = a;
    return COMITY_OK;
}

/* ---- the descriptor ----------------------------------------------------------------------- */

static comity_err norms_init(comity_framework *fw, comity_error *err)
{
    if (!(fw->norms = cy_calloc(1, sizeof *fw->norms)))
        return cy_fw_nomem(err);
    return COMITY_OK;
}

static void norms_clear(comity_framework *fw)
{
    struct cy_norms *n = fw->norms;
    if (!n)
        return;
    cy_norm_catalogue_clear(n);
    cy_norm_declare_clear(n);
    cy_norm_report_clear(n);
    cy_norm_position_clear(n);
    for (size_t i = 0; i < n->na; i++)
        alert_free(&n->a[i]);
    cy_free(n->a);
    cy_free(n);
    fw->norms = NULL;
}

static comity_err norms_add(comity_framework *fw, enum cy_fw_type ft, const comity_record *rec,
                            json_t *body, int64_t created, bool dry, comity_error *err)
{
    (void)ft;
    const char *type = comity_record_type(rec);
    const cy_case_type *t = cy_norm_type(type);
    comity_err rc;
    if (!t)
        return cy_fail(err, COMITY_ERR_INTERNAL, "%s: not a norm type", type);
    if (body && (rc = cy_case_check_body(t, body, err)))
        return rc;
    if (t == &cy_norm_entry_type)
        return cy_norm_entry_add(fw, rec, body, created, dry, err);
    if (t == &cy_norm_alert_type)
        return alert_add(fw, rec, body, created, dry, err);
    if (t == &cy_norm_report_type)
        return cy_norm_report_add(fw, rec, body, created, dry, err);
    if (t >= cy_norm_position_types &&
        t < cy_norm_position_types + CY_ARRAY_LEN(cy_norm_position_types))
        return cy_norm_position_add(fw, rec, body, created, dry, err);
    return cy_norm_decl_add(fw, rec, body, created, dry, err);
}

const cy_fw_mech cy_fw_mech_norms = {
    .name = "norms",
    .types = CY_FW_BIT(CY_FW_NORM),
    .init = norms_init,
    .clear = norms_clear,
    .add = norms_add,
};
