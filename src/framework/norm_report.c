/*
 * norm_report.c: national implementation reports, in the spirit of the
 * UNIDIR national survey: for a period ("2026", "2026-H1", "2026-Q3"), a
 * state files one section per norm of the catalogue (norm-report): what
 * it did, its laws, institutions and points of contact, and the capacity
 * building it needs and offers, by topic.  A later section for the same
 * (state, period, norm) is a new version that must name the current one
 * as refs[0]; every version is kept.
 *
 * Queries: the reports of a period compared norm by norm (for each norm,
 * each state's current section), and capacity-building needs matched with
 * offers (for each need, the states offering that topic in the period,
 * those offering it under the same norm first).  Sections are public
 * (clear or green): they exist to be compared.  Sections are kept in one
 * array and each query walks it once (tens of thousands of sections).
 */
#include <string.h>

#include "framework/norms.h"

/* Capacity-building topics needs and offers are matched on. */
static const char *const topics[] = {
    "incident-response", "cert-development", "ci-protection", "legislation",
    "forensics", "vulnerability-disclosure", "supply-chain", "awareness",
    "diplomacy", "law-enforcement", "attribution", "other", NULL};

#define TEXTS(n, max) {n, CY_FK_TEXTS, false, NULL, 0, max}
#define END {NULL, CY_FK_TEXT, false, NULL, 0, 0}

static const cy_field f_section[] = {
    {"period", CY_FK_TEXT, true, NULL, 0, 16},
    {"norm", CY_FK_TEXT, true, NULL, 0, CY_NORM_ID_MAX},
    {"done", CY_FK_TEXT, true, NULL, 0, CY_CASE_LONG_TEXT_MAX},
    TEXTS("laws", 256),
    TEXTS("institutions", 256),
    {"contacts", CY_FK_PARTIES, false, NULL, 0, 64},
    TEXTS("needs", 12),  /* topics */
    TEXTS("offers", 12), /* topics */
    {"note", CY_FK_TEXT, false, NULL, 0, CY_CASE_LONG_TEXT_MAX},
    END};

static bool digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

/* "YYYY", "YYYY-H1".."YYYY-H2", "YYYY-Q1".."YYYY-Q4". */
static bool period_ok(const char *p)
{
    size_t n = strlen(p);
    if (n < 4 || !digits(p, 4))
        return false;
    if (n == 4)
        return true;
    return n == 7 && p[4] == '-' &&
           ((p[5] == 'H' && p[6] >= '1' && p[6] <= '2') ||
            (p[5] == 'Q' && p[6] >= '1' && p[6] <= '4'));
}

static comity_err check_topics(const char *t, const json_t *b, const char *field,
                               comity_error *err)
{
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(b, field), i, v) {
        if (!cy_fw_in_vocab(json_string_value(v), topics)) {
            char buf[512];
            return cy_fail(err, COMITY_ERR_INVALID, "%s.body.%s[%zu]: want one of %s", t, field,
                           i, cy_fw_vocab_text(buf, sizeof buf, topics));
        }
    }
    return COMITY_OK;
}

static comity_err check_section(const char *t, const json_t *b, comity_error *err)
{
    comity_err rc;
    if (!period_ok(json_string_value(json_object_get(b, "period"))))
        return cy_fail(err, COMITY_ERR_INVALID,
                       "%s.body.period: want a year (2026), a half (2026-H1) or a "
                       "quarter (2026-Q3)", t);
    if ((rc = check_topics(t, b, "needs", err)) || (rc = check_topics(t, b, "offers", err)))
        return rc;
    return COMITY_OK;
}

const cy_case_type cy_norm_report_type = {"norm-report", f_section, check_section};

static void section_free(cy_norm_section *s)
{
    cy_free(s->id);
    cy_free(s->author);
    cy_free(s->state);
    cy_free(s->period);
    cy_free(s->norm);
    json_decref(s->body);
}

void cy_norm_report_clear(struct cy_norms *n)
{
    for (size_t i = 0; i < n->ns; i++)
        section_free(&n->s[i]);
    cy_free(n->s);
    n->s = NULL;
    n->ns = n->caps = 0;
}

static cy_norm_section *current(struct cy_norms *n, const char *state, const char *period,
                                const char *norm)
{
    for (size_t i = n->ns; i-- > 0;) {
        cy_norm_section *s = &n->s[i];
        if (s->current && !strcmp(s->state, state) && !strcmp(s->period, period) &&
            !strcmp(s->norm, norm))
            return s;
    }
    return NULL;
}

comity_err cy_norm_report_add(comity_framework *fw, const comity_record *rec,
                              const json_t *body, int64_t created, bool dry,
                              comity_error *err)
{
    struct cy_norms *n = fw->norms;
    const char *author = comity_record_author(rec);
    if (!body)
        return cy_fail(err, COMITY_ERR_INVALID,
                       "norm-report: a report section is compared across states: want "
                       "tlp clear or green");
    const char *period = json_string_value(json_object_get(body, "period"));
    const char *norm = json_string_value(json_object_get(body, "norm"));
    if (!cy_norm_known(fw, norm))
        return cy_fail(err, COMITY_ERR_NOTFOUND,
                       "norm-report.body.norm: %s is not in the norm catalogue", norm);
    char st[COMITY_PARTY_MAX + 1];
    cy_fw_state_of(author, st);
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(body, "contacts"), i, v) {
        char cs[COMITY_PARTY_MAX + 1];
        if (strcmp(cy_fw_state_of(json_string_value(v), cs), st) != 0)
            return cy_fail(err, COMITY_ERR_INVALID,
                           "norm-report.body.contacts[%zu]: %s is not an office of %s", i,
                           json_string_value(v), st);
    }
    cy_norm_section *cur = current(n, st, period, norm);
    const char *ref = comity_record_refs_count(rec) ? comity_record_ref(rec, 0) : NULL;
    if (cur && (!ref || strcmp(ref, cur->id) != 0))
        return cy_fail(err, COMITY_ERR_CONFLICT,
                       "norm-report: %s's section on %s for %s is at version %d (%.100s); "
                       "a new version must name it as refs[0]",
                       st, norm, period, cur->version, cur->id);
    if (!cur && ref)
        return cy_fail(err, COMITY_ERR_CONFLICT,
                       "norm-report.refs[0]: %s has no section on %s for %s to supersede", st,
                       norm, period);
    if (n->ns >= CY_NORM_SECTIONS_MAX)
        return cy_fail(err, COMITY_ERR_TOOBIG, "norm-report: a handle holds at most %d sections",
                       CY_NORM_SECTIONS_MAX);
    if (dry)
        return COMITY_OK;
    size_t ci = cur ? (size_t)(cur - n->s) : 0;
    if (cy_fw_grow((void **)&n->s, &n->caps, n->ns, sizeof *n->s))
        return cy_fw_nomem(err);
    cur = cur ? &n->s[ci] : NULL;
    cy_norm_section s = {.id = cy_strdup(comity_record_id(rec)), .author = cy_strdup(author),
                         .state = cy_strdup(st), .period = cy_strdup(period),
                         .norm = cy_strdup(norm), .created = created,
                         .version = cur ? cur->version + 1 : 1, .current = true,
                         .body = json_incref((json_t *)body)};
    if (!s.id || !s.author || !s.state || !s.period || !s.norm ||
        json_object_set_new(fw->ids, s.id, json_integer(-1))) {
        section_free(&s);
        return cy_fw_nomem(err);
    }
    if (cur)
        cur->current = false;
    n->s[n->ns++] = s;
    return COMITY_OK;
}

/* ---- queries ------------------------------------------------------------------------ */

static json_t *section_json(const cy_norm_section *s)
{
    const json_t *b = s->body;
    json_t *o = json_pack("{s:s, s:s, s:i, s:o, s:O}", "state", s->state, "record", s->id,
                          "version", s->version, "created", cy_fw_time_json(s->created),
                          "done", json_object_get(b, "done"));
    static const char *const opt[] = {"laws", "institutions", "contacts", "needs", "offers"};
    for (size_t i = 0; o && i < CY_ARRAY_LEN(opt); i++) {
        json_t *v = json_object_get(b, opt[i]);
        if (json_object_set_new(o, opt[i], v ? json_incref(v) : json_array()))
            json_decref(o), o = NULL;
    }
    return o;
}

comity_err comity_framework_norm_reports(const comity_framework *fw, const char *period,
                                         const char *norm, char **json, comity_error *err)
{
    *json = NULL;
    if (!period || !period_ok(period))
        return cy_fail(err, COMITY_ERR_USAGE,
                       "norms: period \"%.16s\": want 2026, 2026-H1 or 2026-Q3",
                       period ? period : "(null)");
    const struct cy_norms *n = fw->norms;
    /* norm -> {"norm", "states": [...]}, in the order norms first appear;
     * needs matched with offers as they come */
    json_t *by = json_object(), *order = json_array(), *needs = json_array();
    json_t *offers = json_object(); /* topic -> [{"state","norm"}] */
    bool oom = !by || !order || !needs || !offers;
    for (size_t i = 0; !oom && i < n->ns; i++) {
        const cy_norm_section *s = &n->s[i];
        if (!s->current || strcmp(s->period, period) != 0)
            continue;
        size_t k;
        json_t *v;
        json_array_foreach(json_object_get(s->body, "offers"), k, v) {
            json_t *l = json_object_get(offers, json_string_value(v));
            if (!l && (!(l = json_array()) ||
                       json_object_set_new(offers, json_string_value(v), l)))
                oom = true;
            if (!oom && json_array_append_new(l, json_pack("{s:s, s:s}", "state", s->state,
                                                           "norm", s->norm)))
                oom = true;
        }
        if (norm && strcmp(s->norm, norm) != 0)
            continue;
        json_t *e = json_object_get(by, s->norm);
        if (!e) {
            e = json_pack("{s:s, s:[]}", "norm", s->norm, "states");
            if (!e || json_object_set_new(by, s->norm, e) || json_array_append(order, e)) {
                oom = true;
                break;
            }
        }
        if (json_array_append_new(json_object_get(e, "states"), section_json(s)))
            oom = true;
        json_array_foreach(json_object_get(s->body, "needs"), k, v) {
            if (json_array_append_new(needs, json_pack("{s:s, s:s, s:O, s:[]}", "state",
                                                       s->state, "norm", s->norm, "topic", v,
                                                       "offered_by")))
                oom = true;
        }
    }
    /* each need: the states offering its topic, the same norm first */
    size_t i;
    json_t *need;
    json_array_foreach(needs, i, need) {
        if (oom)
            break;
        json_t *l = json_object_get(offers, json_string_value(json_object_get(need, "topic")));
        json_t *out = json_object_get(need, "offered_by");
        for (int pass = 0; pass < 2 && !oom; pass++) {
            size_t k;
            json_t *o;
            json_array_foreach(l, k, o) {
                const char *os = json_string_value(json_object_get(o, "state"));
                bool same = json_equal(json_object_get(o, "norm"), json_object_get(need, "norm"));
                if (!strcmp(os, json_string_value(json_object_get(need, "state"))) ||
                    same != (pass == 0))
                    continue;
                oom = json_array_append_new(out, json_pack("{s:s, s:O, s:b}", "state", os, "norm",
                                                           json_object_get(o, "norm"),
                                                           "same_norm", same)) != 0;
            }
        }
    }
    json_t *ans = oom ? NULL
                      : json_pack("{s:s, s:s?, s:O, s:O}", "period", period, "norm", norm,
                                  "norms", order, "needs", needs);
    json_decref(by);
    json_decref(order);
    json_decref(needs);
    json_decref(offers);
    if (!ans)
        return cy_fw_nomem(err);
    return cy_fw_dump(ans, json, err);
}
