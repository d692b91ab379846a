/*
 * directory.c: the points-of-contact directory (poc records).
 *
 * Every poc entry is kept in log order per (state, kind); only an office of
 * a state may set or withdraw its contacts.  What shows at a time T is
 * computed when asked (docs/framework.md, "The directory"), and pings use
 * it to tell which kind of contact a pinged party is.
 */
#include <stdlib.h>
#include <string.h>

#include "framework/core.h"

static void poc_clear(poc *p)
{
    cy_free(p->state);
    cy_free(p->kind);
    cy_free(p->party);
    cy_free(p->id);
    cy_free(p->author);
    json_decref(p->body);
}

/* ---- directory ---------------------------------------------------------- */

/* The entry of (state, kind) current at `at`, or NULL. */
static const poc *poc_current(const comity_framework *fw, const char *state,
                              const char *kind, int64_t at)
{
    for (size_t i = fw->npocs; i-- > 0;) {
        const poc *p = &fw->pocs[i];
        if (strcmp(p->state, state) != 0 || strcmp(p->kind, kind) != 0 ||
            p->created_ms > at)
            continue;
        if (p->withdrawn)
            return NULL;
        if (p->from_ms <= at && (p->until_ms < 0 || at < p->until_ms))
            return p;
    }
    return NULL;
}

/* The latest entry fed for (state, kind), withdrawn or not, or NULL. */
static const poc *poc_latest(const comity_framework *fw, const char *state,
                             const char *kind)
{
    for (size_t i = fw->npocs; i-- > 0;)
        if (strcmp(fw->pocs[i].state, state) == 0 &&
            strcmp(fw->pocs[i].kind, kind) == 0)
            return &fw->pocs[i];
    return NULL;
}

/* The kind of the contact `party` is in the directory at `at`, or NULL. */
const char *cy_fw_kind_of_party(const comity_framework *fw, const char *party,
                                int64_t at)
{
    char st[COMITY_PARTY_MAX + 1];
    cy_fw_state_of(party, st);
    for (size_t k = 0; cy_fw_poc_kinds[k]; k++) {
        const poc *p = poc_current(fw, st, cy_fw_poc_kinds[k], at);
        if (p && p->party && strcmp(p->party, party) == 0)
            return p->kind;
    }
    return NULL;
}

static comity_err add_poc(comity_framework *fw, const comity_record *rec,
                         json_t *body, int64_t created, bool dry,
                         comity_error *err)
{
    const char *author = comity_record_author(rec);
    char ast[COMITY_PARTY_MAX + 1];
    cy_fw_state_of(author, ast);
    if (!body)
        return cy_fail(err, COMITY_ERR_INVALID,
                       "poc: a directory entry must be readable (tlp clear or "
                       "green, or the opened body given)");
    const char *state = json_string_value(json_object_get(body, "state"));
    if (state && strcmp(state, ast) != 0)
        return cy_fail(err, COMITY_ERR_DENIED,
                       "poc: only an office of %s may set or withdraw its "
                       "contacts; %s belongs to %s", state, author, ast);
    state = ast;
    const char *kind = json_string_value(json_object_get(body, "kind"));
    const char *party = json_string_value(json_object_get(body, "party"));
    char pst[COMITY_PARTY_MAX + 1];
    if (party && strcmp(cy_fw_state_of(party, pst), state) != 0)
        return cy_fail(err, COMITY_ERR_INVALID,
                       "poc.body.party: %s is not a party of %s", party, state);
    bool withdrawn = json_is_true(json_object_get(body, "withdrawn"));
    if (withdrawn) {
        const poc *l = poc_latest(fw, state, kind);
        if (!l || l->withdrawn)
            return cy_fail(err, COMITY_ERR_CONFLICT,
                           "poc: %s has no %s contact to withdraw", state, kind);
    }
    if (dry)
        return COMITY_OK;
    if (cy_fw_grow((void **)&fw->pocs, &fw->cappocs, fw->npocs, sizeof(poc)))
        return cy_fw_nomem(err);
    poc p = {0};
    p.state = cy_strdup(state);
    p.kind = cy_strdup(kind);
    p.party = party ? cy_strdup(party) : NULL;
    p.id = cy_strdup(comity_record_id(rec));
    p.author = cy_strdup(author);
    p.created_ms = created;
    p.withdrawn = withdrawn;
    p.from_ms = withdrawn ? created
                          : cy_fw_time(json_string_value(json_object_get(body, "valid_from")));
    p.until_ms = withdrawn ? -1
                           : cy_fw_time(json_string_value(json_object_get(body, "valid_until")));
    p.body = json_incref(body);
    if (!p.state || !p.kind || (party && !p.party) || !p.id || !p.author ||
        json_object_set_new(fw->ids, p.id, json_integer(-1))) {
        poc_clear(&p);
        return cy_fw_nomem(err);
    }
    fw->pocs[fw->npocs++] = p;
    return COMITY_OK;
}

static json_t *poc_json(const poc *p)
{
    return json_pack("{s:s, s:s, s:o, s:O}", "id", p->id, "author", p->author,
                     "created", cy_fw_time_json(p->created_ms), "body", p->body);
}

static int pair_cmp(const void *a, const void *b)
{
    const poc *x = *(const poc *const *)a, *y = *(const poc *const *)b;
    int c = strcmp(x->state, y->state);
    return c ? c : strcmp(x->kind, y->kind);
}

comity_err comity_framework_directory(const comity_framework *fw,
                                      const char *state, int64_t at_ms,
                                      char **json, comity_error *err)
{
    *json = NULL;
    /* one representative entry per (state, kind), sorted */
    const poc **reps = cy_calloc(fw->npocs + 1, sizeof *reps);
    if (!reps)
        return cy_fw_nomem(err);
    size_t n = 0;
    for (size_t i = 0; i < fw->npocs; i++) {
        const poc *p = &fw->pocs[i];
        if ((state && strcmp(p->state, state) != 0) || p->created_ms > at_ms)
            continue;
        bool seen = false;
        for (size_t k = 0; k < n && !seen; k++)
            seen = pair_cmp(&reps[k], &p) == 0;
        if (!seen)
            reps[n++] = p;
    }
    if (n)
        qsort(reps, n, sizeof *reps, pair_cmp);
    json_t *a = json_array();
    bool oom = !a;
    for (size_t k = 0; k < n && !oom; k++) {
        const poc *cur = poc_current(fw, reps[k]->state, reps[k]->kind, at_ms);
        json_t *hist = json_array();
        oom = !hist;
        for (size_t i = 0; i < fw->npocs && !oom; i++) {
            const poc *p = &fw->pocs[i];
            if (pair_cmp(&p, &reps[k]) == 0 && p->created_ms <= at_ms)
                oom = json_array_append_new(hist, poc_json(p)) != 0;
        }
        json_t *o = json_pack("{s:s, s:s, s:o, s:o}", "state", reps[k]->state,
                              "kind", reps[k]->kind, "current",
                              cur ? poc_json(cur) : json_null(), "history",
                              hist ? hist : json_null());
        oom = oom || !o || json_array_append_new(a, o);
    }
    cy_free(reps);
    if (oom) {
        json_decref(a);
        return cy_fw_nomem(err);
    }
    return cy_fw_dump(a, json, err);
}

/* ---- the descriptor --------------------------------------------------------- */

static void directory_clear(comity_framework *fw)
{
    for (size_t i = 0; i < fw->npocs; i++)
        poc_clear(&fw->pocs[i]);
    cy_free(fw->pocs);
}

static comity_err directory_add(comity_framework *fw, enum cy_fw_type t,
                                const comity_record *rec, json_t *body,
                                int64_t created, bool dry, comity_error *err)
{
    (void)t;
    return add_poc(fw, rec, body, created, dry, err);
}

const cy_fw_mech cy_fw_mech_directory = {
    .name = "directory",
    .types = CY_FW_BIT(CY_FW_POC),
    .init = NULL,
    .clear = directory_clear,
    .add = directory_add,
};
