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
    json_decref(n->ridx);
    n->ridx = NULL;
}

/* ---- the index ----------------------------------------------------------------------- */

#define SEP "\x1f"
#define KEY_MAX (2 * COMITY_PARTY_MAX + CY_NORM_ID_MAX + 64)

static const char *ckey(char *k, const char *state, const char *period, const char *norm)
{
    snprintf(k, KEY_MAX, "c" SEP "%s" SEP "%s" SEP "%s", state, period, norm);
    return k;
}

/* The container at key k of o (an object when obj, else an array),
 * created empty when absent; NULL on allocation failure. */
static json_t *slot(json_t *o, const char *k, bool obj)
{
    json_t *v = json_object_get(o, k);
    if (!v && (!(v = obj ? json_object() : json_array()) || json_object_set_new(o, k, v)))
        return NULL;
    return v;
}

/* Adds d to the count of `state` offering each topic of section s. */
static int offers_count(json_t *ix, const cy_norm_section *s, int d)
{
    size_t k;
    json_t *v;
    json_array_foreach(json_object_get(s->body, "offers"), k, v) {
        char key[KEY_MAX];
        snprintf(key, sizeof key, "o" SEP "%s" SEP "%s", s->period, json_string_value(v));
        json_t *o = slot(ix, key, true);
        if (!o)
            return -1;
        json_int_t c = json_integer_value(json_object_get(o, s->state)) + d;
        if (c <= 0 ? json_object_del(o, s->state) : json_object_set_new(o, s->state,
                                                                          json_integer(c)))
            return -1;
    }
    return 0;
}

/* Section i becomes current in the index, in place of section old (-1:
 * none).  -1 on allocation failure (the caller drops the index). */
static int index_put(struct cy_norms *n, size_t i, long old)
{
    json_t *ix = n->ridx;
    const cy_norm_section *s = &n->s[i];
    char key[KEY_MAX];
    snprintf(key, sizeof key, "p" SEP "%s", s->period);
    json_t *p = slot(ix, key, true), *l = p ? slot(p, s->norm, false) : NULL;
    if (!l)
        return -1;
    if (old >= 0) {
        size_t k;
        json_t *v;
        json_array_foreach(l, k, v) {
            if (json_integer_value(v) == old)
                break;
        }
        if (k == json_array_size(l) || json_array_set_new(l, k, json_integer((json_int_t)i)) ||
            offers_count(ix, &n->s[old], -1))
            return -1;
    } else if (json_array_append_new(l, json_integer((json_int_t)i))) {
        return -1;
    }
    if (offers_count(ix, s, +1) ||
        json_object_set_new(ix, ckey(key, s->state, s->period, s->norm),
                            json_integer((json_int_t)i)))
        return -1;
    return 0;
}

/* Builds the index from the array anew; -1 on allocation failure (the
 * index stays NULL, to be built again at the next section). */
static int index_rebuild(struct cy_norms *n)
{
    json_decref(n->ridx);
    if (!(n->ridx = json_object()))
        return -1;
    for (size_t i = 0; i < n->ns; i++) {
        if (n->s[i].current && index_put(n, i, -1)) {
            json_decref(n->ridx);
            n->ridx = NULL;
            return -1;
        }
    }
    return 0;
}

static const cy_norm_section *current(const struct cy_norms *n, const char *state,
                                      const char *period, const char *norm)
{
    char key[KEY_MAX];
    json_t *v = json_object_get(n->ridx, ckey(key, state, period, norm));
    return v ? &n->s[json_integer_value(v)] : NULL;
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
    if (!n->ridx && index_rebuild(n))
        return cy_fw_nomem(err);
    const cy_norm_section *cur = current(n, st, period, norm);
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
    long ci = cur ? (long)(cur - n->s) : -1;
    int version = cur ? cur->version + 1 : 1;
    if (cy_fw_grow((void **)&n->s, &n->caps, n->ns, sizeof *n->s))
        return cy_fw_nomem(err);
    cy_norm_section s = {.id = cy_strdup(comity_record_id(rec)), .author = cy_strdup(author),
                         .state = cy_strdup(st), .period = cy_strdup(period),
                         .norm = cy_strdup(norm), .created = created, .version = version,
                         .current = true, .body = json_incref((json_t *)body)};
    if (!s.id || !s.author || !s.state || !s.period || !s.norm ||
        json_object_set_new(fw->ids, s.id, json_integer(-1))) {
        section_free(&s);
        return cy_fw_nomem(err);
    }
    if (ci >= 0)
        n->s[ci].current = false;
    n->s[n->ns++] = s;
    if (index_put(n, n->ns - 1, ci)) { /* the section stands; the index is built anew */
        json_decref(n->ridx);
        n->ridx = NULL;
        if (index_rebuild(n))
            return cy_fw_nomem(err);
    }
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

static bool has_text(const json_t *a, const char *s)
{
    size_t k;
    json_t *v;
    json_array_foreach(a, k, v) {
        if (!strcmp(json_string_value(v), s))
            return true;
    }
    return false;
}

/* Adds 1 to counts[topic] for each topic of the array. */
static int count_topics(json_t *counts, const json_t *a)
{
    size_t k;
    json_t *v;
    json_array_foreach(a, k, v) {
        const char *t = json_string_value(v);
        if (json_object_set_new(counts, t,
                                json_integer(json_integer_value(json_object_get(counts, t)) + 1)))
            return -1;
    }
    return 0;
}

/* Every norm reported on in the period: for each, how many states
 * reported and how many sections need and offer each topic; for each
 * topic, how many sections need it and how many states offer it.  No
 * section listed (the one-norm comparison lists them). */
static json_t *overview(const struct cy_norms *n, const char *period)
{
    char key[KEY_MAX];
    snprintf(key, sizeof key, "p" SEP "%s", period);
    json_t *norms = json_array(), *tneeds = json_object(), *tops = json_array();
    bool oom = !norms || !tneeds || !tops;
    const char *nm;
    json_t *l;
    json_object_foreach(json_object_get(n->ridx, key), nm, l) {
        json_t *needs = json_object(), *offers = json_object();
        json_t *e = needs && offers ? json_pack("{s:s, s:I, s:O, s:O}", "norm", nm, "reported",
                                                (json_int_t)json_array_size(l), "needs", needs,
                                                "offers", offers)
                                    : NULL;
        size_t k;
        json_t *v;
        json_array_foreach(l, k, v) {
            const json_t *b = n->s[json_integer_value(v)].body;
            if (count_topics(needs, json_object_get(b, "needs")) ||
                count_topics(offers, json_object_get(b, "offers")) ||
                count_topics(tneeds, json_object_get(b, "needs")))
                oom = true;
        }
        json_decref(needs);
        json_decref(offers);
        if (!e || json_array_append_new(norms, e))
            oom = true;
        if (oom)
            break;
    }
    for (size_t t = 0; !oom && topics[t]; t++) {
        snprintf(key, sizeof key, "o" SEP "%s" SEP "%s", period, topics[t]);
        json_int_t need = json_integer_value(json_object_get(tneeds, topics[t]));
        size_t offering = json_object_size(json_object_get(n->ridx, key));
        if ((need || offering) &&
            json_array_append_new(tops, json_pack("{s:s, s:I, s:I}", "topic", topics[t],
                                                  "needed", need, "offering_states",
                                                  (json_int_t)offering)))
            oom = true;
    }
    json_t *ans = oom ? NULL
                      : json_pack("{s:s, s:n, s:O, s:O}", "period", period, "norm", "norms",
                                  norms, "topics", tops);
    json_decref(norms);
    json_decref(tneeds);
    json_decref(tops);
    return ans;
}

/* Whether `state` offers `topic` under `norm` in the period (its current
 * section). */
static bool offers_under(const struct cy_norms *n, const char *state, const char *period,
                         const char *norm, const char *topic)
{
    const cy_norm_section *s = current(n, state, period, norm);
    return s && has_text(json_object_get(s->body, "offers"), topic);
}

/* One need: how many other states offer its topic in the period (under
 * the same norm, and in all), and the first CY_NORM_MATCH_SHOWN of them,
 * the same norm first.  `same` lists the states offering each topic under
 * the need's norm (topic -> [state]). */
static json_t *need_json(const struct cy_norms *n, const char *period, const char *norm,
                         const char *state, const char *topic, const json_t *same)
{
    char key[KEY_MAX];
    snprintf(key, sizeof key, "o" SEP "%s" SEP "%s", period, topic);
    const json_t *all = json_object_get(n->ridx, key); /* state -> count */
    const json_t *sl = json_object_get(same, topic);
    size_t nall = json_object_size(all) - (json_object_get(all, state) ? 1 : 0);
    size_t nsame = json_array_size(sl) - (has_text(sl, state) ? 1 : 0);
    json_t *by = json_array();
    bool oom = !by;
    size_t k;
    json_t *v;
    json_array_foreach(sl, k, v) {
        if (oom || json_array_size(by) >= CY_NORM_MATCH_SHOWN)
            break;
        if (strcmp(json_string_value(v), state) != 0 &&
            json_array_append_new(by, json_pack("{s:O, s:s, s:b}", "state", v, "norm", norm,
                                                "same_norm", 1)))
            oom = true;
    }
    const char *os;
    json_object_foreach((json_t *)all, os, v) {
        if (oom || json_array_size(by) >= CY_NORM_MATCH_SHOWN)
            break;
        if (strcmp(os, state) != 0 && !offers_under(n, os, period, norm, topic) &&
            json_array_append_new(by, json_pack("{s:s, s:n, s:b}", "state", os, "norm",
                                                "same_norm", 0)))
            oom = true;
    }
    json_t *o = oom ? NULL
                    : json_pack("{s:s, s:s, s:s, s:I, s:I, s:O}", "state", state, "norm", norm,
                                "topic", topic, "offers", (json_int_t)nall, "offers_same_norm",
                                (json_int_t)nsame, "offered_by", by);
    json_decref(by);
    return o;
}

/* One norm compared: each state's current section, and each need with
 * the offers that match it. */
static json_t *one_norm(const struct cy_norms *n, const char *period, const char *norm)
{
    char key[KEY_MAX];
    snprintf(key, sizeof key, "p" SEP "%s", period);
    const json_t *l = json_object_get(json_object_get(n->ridx, key), norm);
    json_t *states = json_array(), *needs = json_array(), *same = json_object();
    bool oom = !states || !needs || !same;
    size_t k, j;
    json_t *v, *t;
    json_array_foreach(l, k, v) { /* topic -> the states offering it under this norm */
        const cy_norm_section *s = &n->s[json_integer_value(v)];
        json_array_foreach(json_object_get(s->body, "offers"), j, t) {
            json_t *sl = oom ? NULL : slot(same, json_string_value(t), false);
            if (!sl || json_array_append_new(sl, json_string(s->state)))
                oom = true;
        }
    }
    json_array_foreach(l, k, v) {
        if (oom)
            break;
        const cy_norm_section *s = &n->s[json_integer_value(v)];
        if (json_array_append_new(states, section_json(s)))
            oom = true;
        json_array_foreach(json_object_get(s->body, "needs"), j, t) {
            if (oom || json_array_append_new(needs, need_json(n, period, norm, s->state,
                                                              json_string_value(t), same)))
                oom = true;
        }
    }
    json_t *ans = oom ? NULL
                      : json_pack("{s:s, s:s, s:[{s:s, s:I, s:O}], s:O}", "period", period,
                                  "norm", norm, "norms", "norm", norm, "reported",
                                  (json_int_t)json_array_size(l), "states", states, "needs",
                                  needs);
    if (ans && !json_array_size(l)) /* nothing reported on it: no entry */
        json_array_clear(json_object_get(ans, "norms"));
    json_decref(states);
    json_decref(needs);
    json_decref(same);
    return ans;
}

comity_err comity_framework_norm_reports(const comity_framework *fw, const char *period,
                                         const char *norm, char **json, comity_error *err)
{
    *json = NULL;
    if (!period || !period_ok(period))
        return cy_fail(err, COMITY_ERR_USAGE,
                       "norms: period \"%.16s\": want 2026, 2026-H1 or 2026-Q3",
                       period ? period : "(null)");
    if (norm && strlen(norm) > CY_NORM_ID_MAX)
        return cy_fail(err, COMITY_ERR_USAGE, "norms: norm \"%.64s...\": at most %d bytes", norm,
                       CY_NORM_ID_MAX);
    const struct cy_norms *n = fw->norms;
    if (!n->ridx && n->ns) /* lost to an allocation failure: rebuilt at the next section */
        return cy_fw_nomem(err);
    json_t *ans = norm ? one_norm(n, period, norm) : overview(n, period);
    if (!ans)
        return cy_fw_nomem(err);
    return cy_fw_dump(ans, json, err);
}
