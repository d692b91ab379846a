/*
 * norm_disclosure.c: vulnerability disclosure between states (norm 13(j),
 * OSCE CBM 16; harmful hidden functions under 13(i)), as a case mechanism
 * (case.h).
 *
 * A state reports a vulnerability or a hidden function in a product to
 * the state of the product's vendor or to its national CERT
 * (norm-disclosure, always sealed: a report in clear would tell everyone
 * of an unfixed flaw).  The report starts two clocks: the vendor state's
 * acknowledgement, and the embargo (90 days by default, or the body's
 * embargo_days, when readable), during which nothing is published.  The
 * status goes reported -> acknowledged -> fix-available -> published, with
 * CVE ids checked for their form.  Either side records an exploitation in
 * the wild (norm-disclosure-exploited).  A supply-chain alert to every
 * participating state (norm-alert, norms.c) may then be sent: once the
 * case is published, once the embargo ran out, or sooner when the flaw is
 * exploited in the wild (cy_norm_alert_due says which).  docs/norms.md
 * has the tables.
 */
#include <stdio.h>
#include <string.h>

#include "framework/norms.h"

#define DAY_MS (24 * HOUR_MS)

enum { REPORTED, ACKNOWLEDGED, FIXED, PUBLISHED, CLOSED };
static const char *const states[] = {"reported", "acknowledged", "fix-available",
                                     "published", "closed"};
#define RP CY_BIT(REPORTED)
#define AK CY_BIT(ACKNOWLEDGED)
#define FX CY_BIT(FIXED)
#define OPEN (RP | AK | FX)

static const cy_case_clock clocks[] = {
    {"acknowledge", CY_CK_DISCLOSURE_ACK, CY_ROLE_REQUESTED},
    {"embargo", CY_CK_EMBARGO, CY_ROLE_REQUESTED},
};
#define ACK CY_BIT(0)
#define EMB CY_BIT(1)

static const cy_case_row rows[] = {
    {RP, "norm-disclosure-ack", CY_ROLE_REQUESTED, ACKNOWLEDGED, 0, ACK},
    {RP | AK, "norm-disclosure-fix", CY_ROLE_REQUESTED, FIXED, 0, ACK},
    {OPEN, "norm-disclosure-exploited", CY_ROLE_PARTIES, CY_SAME, 0, 0},
    {OPEN, "norm-disclosure-publish", CY_ROLE_PARTIES, PUBLISHED, 0, ACK | EMB},
    {OPEN, "norm-disclosure-close", CY_ROLE_REQUESTER, CLOSED, 0, ACK | EMB},
};

static const char *const kinds[] = {"vulnerability", "hidden-function", NULL};

#define TEXT(n, req) {n, CY_FK_TEXT, req, NULL, 0, 0}
#define LONG(n, req) {n, CY_FK_TEXT, req, NULL, 0, CY_CASE_LONG_TEXT_MAX}
#define CVES {"cves", CY_FK_TEXTS, false, NULL, 0, 64}
#define END {NULL, CY_FK_TEXT, false, NULL, 0, 0}

static const cy_field f_report[] = {
    {"kind", CY_FK_ENUM, true, kinds, 0, 0},
    {"product", CY_FK_TEXT, true, NULL, 0, 256},
    {"vendor", CY_FK_TEXT, true, NULL, 0, 256},
    {"versions", CY_FK_TEXT, false, NULL, 0, 256},
    LONG("summary", true),
    {"norm", CY_FK_TEXT, false, NULL, 0, CY_NORM_ID_MAX},
    CVES,
    {"embargo_days", CY_FK_INT, false, NULL, 1, 365},
    {"exploited", CY_FK_BOOL, false, NULL, 0, 0},
    {"files", CY_FK_FILES, false, NULL, 0, 0},
    END};
static const cy_field f_ack[] = {TEXT("note", false), CVES, END};
static const cy_field f_fix[] = {TEXT("fix", true), CVES, TEXT("advisory", false),
                                  {"files", CY_FK_FILES, false, NULL, 0, 0}, END};
static const cy_field f_exploited[] = {LONG("evidence", true),
                                        {"files", CY_FK_FILES, false, NULL, 0, 0}, END};
static const cy_field f_publish[] = {TEXT("advisory", true), CVES, END};
static const cy_field f_close[] = {TEXT("reason", true), END};

static comity_err check_report(const char *t, const json_t *b, comity_error *err)
{
    const char *kind = json_string_value(json_object_get(b, "kind"));
    const char *norm = json_string_value(json_object_get(b, "norm"));
    if (norm && strcmp(norm, "13i") != 0 && strcmp(norm, "13j") != 0)
        return cy_fail(err, COMITY_ERR_INVALID,
                       "%s.body.norm: a disclosure falls under 13j (a "
                       "vulnerability) or 13i (a harmful hidden function)", t);
    if (norm && !strcmp(kind, "hidden-function") != !strcmp(norm, "13i"))
        return cy_fail(err, COMITY_ERR_INVALID,
                       "%s.body.norm: a %s falls under %s", t, kind,
                       !strcmp(kind, "hidden-function") ? "13i" : "13j");
    return cy_norm_check_cves(t, b, "cves", err);
}

static comity_err check_cves(const char *t, const json_t *b, comity_error *err)
{
    return cy_norm_check_cves(t, b, "cves", err);
}

static const cy_case_type types[] = {
    {"norm-disclosure", f_report, check_report},
    {"norm-disclosure-ack", f_ack, check_cves},
    {"norm-disclosure-fix", f_fix, check_cves},
    {"norm-disclosure-exploited", f_exploited, NULL},
    {"norm-disclosure-publish", f_publish, check_cves},
    {"norm-disclosure-close", f_close, NULL},
};

static comity_err fact(cy_case *c, const char *k, json_t *v, comity_error *err)
{
    if (!v || json_object_set_new(c->facts, k, v))
        return cy_fw_nomem(err);
    return COMITY_OK;
}

/* Adds the body's CVE ids to the case's list (kept once each, in order). */
static comity_err add_cves(cy_case *c, const json_t *body, comity_error *err)
{
    json_t *l = json_object_get(c->facts, "cves");
    if (!l) {
        if (!(l = json_array()) || json_object_set_new(c->facts, "cves", l))
            return cy_fw_nomem(err);
    }
    size_t i, k;
    json_t *v, *w;
    json_array_foreach(json_object_get(body, "cves"), i, v) {
        bool have = false;
        json_array_foreach(l, k, w) have |= json_equal(v, w);
        if (!have && json_array_append(l, v))
            return cy_fw_nomem(err);
    }
    return COMITY_OK;
}

static comity_err hook(comity_framework *fw, cy_case *c, const cy_case_row *row,
                       const comity_record *rec, const json_t *body, int64_t created,
                       bool dry, comity_error *err)
{
    (void)fw;
    const char *type = comity_record_type(rec);
    if (!row && !comity_record_is_sealed(rec))
        return cy_fail(err, COMITY_ERR_INVALID,
                       "norm-disclosure: a report of an unfixed flaw is sealed to "
                       "the vendor's state: want tlp amber, amber+strict or red");
    if (dry)
        return COMITY_OK;
    comity_err rc = COMITY_OK;
    if (!row) {
        json_t *d = body ? json_object_get(body, "embargo_days") : NULL;
        if (d)
            c->clk[1].fixed_due = created + json_integer_value(d) * DAY_MS;
        if (body && json_is_true(json_object_get(body, "exploited")))
            rc = fact(c, "exploited", cy_fw_time_json(created), err);
        if (!rc && body)
            rc = fact(c, "product", json_incref(json_object_get(body, "product")), err);
    } else if (!strcmp(type, "norm-disclosure-exploited")) {
        if (!json_object_get(c->facts, "exploited"))
            rc = fact(c, "exploited", cy_fw_time_json(created), err);
    } else if (!strcmp(type, "norm-disclosure-publish")) {
        rc = fact(c, "published", cy_fw_time_json(created), err);
    }
    if (!rc && body && json_object_get(body, "cves"))
        rc = add_cves(c, body, err);
    return rc;
}

/* Defaults, not law: 7 days to acknowledge; the embargo 90 days. */
static void defaults(int64_t dur[CY_PROFILE_COUNT][CY_CK_COUNT])
{
    for (int p = 0; p < CY_PROFILE_COUNT; p++) {
        dur[p][CY_CK_DISCLOSURE_ACK] = 7 * DAY_MS;
        dur[p][CY_CK_EMBARGO] = CY_NORM_EMBARGO_DAYS * DAY_MS;
    }
}

bool cy_norm_alert_due(const comity_framework *fw, const cy_case *c, int64_t at,
                       char *why, size_t cap)
{
    if (c->state == PUBLISHED || json_object_get(c->facts, "exploited"))
        return true;
    const cy_case_clk *k = &c->clk[1];
    int64_t due = (k->fixed_due >= 0 ? k->fixed_due
                                     : k->start + fw->cases->dur[c->profile][CY_CK_EMBARGO]) +
                  k->extra;
    if (c->state != CLOSED && at > due)
        return true;
    snprintf(why, cap, "case %.100s is %s, not exploited in the wild, %s", c->id,
             states[c->state], c->state == CLOSED ? "and closed" : "and under embargo");
    return false;
}

comity_err cy_norm_alert_note(cy_case *c, const char *id, comity_error *err)
{
    json_t *l = json_object_get(c->facts, "alerts");
    if (!l) {
        if (!(l = json_array()) || json_object_set_new(c->facts, "alerts", l))
            return cy_fw_nomem(err);
    }
    return json_array_append_new(l, json_string(id)) ? cy_fw_nomem(err) : COMITY_OK;
}

const cy_mech cy_mech_norm_disclosure = {
    .name = "norm-disclosure",
    .opens = "norm-disclosure",
    .types = types,
    .ntypes = CY_ARRAY_LEN(types),
    .states = states,
    .nstates = CY_ARRAY_LEN(states),
    .open_states = OPEN,
    .initial = REPORTED,
    .open_starts = ACK | EMB,
    .rows = rows,
    .nrows = CY_ARRAY_LEN(rows),
    .clocks = clocks,
    .nclocks = CY_ARRAY_LEN(clocks),
    .third_max = 0,
    .profiled = false,
    .hook = hook,
    .defaults = defaults,
};
