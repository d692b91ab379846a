/*
 * case.c: the case core shared by every case mechanism (case.h says what a
 * case is and what a mechanism declares).
 *
 * This file checks bodies against a mechanism's field tables, opens cases,
 * applies the status tables (who may send which record in which state,
 * next state, clocks started and stopped), and answers the case queries:
 * a party's open cases with their clocks, one case with its thread and the
 * actions allowed next.  Every rule is checked before anything changes, so
 * a refused record leaves the handle as it was, and a dry run (check) runs
 * the same rules; a record refused for lack of memory leaves no trace
 * either (what may fail is done first, and undone if a mechanism's
 * effects fail).  A case and its existence are visible through the
 * queries only to its parties: a non-party asking, or a non-party's record
 * naming the case, gets the very answer an unknown id gets.
 *
 * Cases are kept in opening order with a jansson object as id index, and
 * a list of case indexes per party and per bare state named as a case's
 * party, so that a party's open cases are found without walking every
 * case (bench/bench_framework.c: 100,000 cases).  That list is written
 * with a bounded buffer rather than jansson, for speed.
 *
 * Late parties: the core's own types case-join (a party asks the
 * requester to join an open case, where the mechanism's may_join lets it)
 * and case-admit (the requester, or the roles the mechanism names, admits
 * it; the admission is addressed to every party and the newcomer).  From
 * then on the newcomer is a third party: every later record names it in
 * `to`, so that sealed records are sealed to it too.  Records sealed
 * before the admission stay sealed to those they were sent to: a node
 * cannot open them to seal them again (docs/framework.md, "Joining a
 * case after it opened").
 */
#include <stdlib.h>
#include <string.h>

#include "framework/case.h"

#define PARTIES_MAX_DEFAULT 64
#define TEXTS_MAX_DEFAULT 64
#define TREATIES_MAX 4096 /* pairs of states with a treaty profile */
/* The JSON of a party's open cases: refused (TOOBIG) beyond this. */
#define CASES_JSON_MAX ((size_t)256 << 20)

const char *const cy_profile_names[CY_PROFILE_COUNT] = {
    "budapest", "second-protocol", "un", "eu"};

const char *const cy_ck_names[CY_CK_COUNT] = {
    "consult-answer",   "preservation-answer", "preservation",
    "extension",        "mla-answer",          "more-info",
    "emergency-answer", "emergency-confirmation", "attribution-reply",
    "norm-acknowledge", "norm-reply", "disclosure-acknowledge", "embargo"};

static const char *const default_role_names[] = {"requester", "requested",
                                                 "secretariat"};

/* The name of role slot b (0 requester, 1 requested, 2 third) in m. */
static const char *rname(const cy_mech *m, unsigned b)
{
    return (m->role_names ? m->role_names : default_role_names)[b < 2 ? b : 2];
}

static const char *role_name(const cy_mech *m, unsigned roles)
{
    return rname(m, roles & CY_ROLE_REQUESTER   ? 0
                    : roles & CY_ROLE_REQUESTED ? 1
                                                : 2);
}

/* ---- the handle's part ------------------------------------------------------ */

/* The handle's cases: allocated here, each mechanism's default deadlines
 * (its descriptor's `defaults`) in the table. */
static comity_err cases_init(comity_framework *fw, comity_error *err)
{
    cy_cases *cs = cy_calloc(1, sizeof *cs);
    if (!cs)
        return cy_fw_nomem(err);
    for (size_t i = 0; i < fw->ncase_mechs; i++)
        if (fw->case_mechs[i]->defaults)
            fw->case_mechs[i]->defaults(cs->dur);
    fw->cases = cs;
    return COMITY_OK;
}

static void case_free(cy_case *c)
{
    if (!c)
        return;
    cy_free(c->id);
    for (size_t i = 0; i < c->nparties; i++)
        cy_free(c->parties[i]);
    cy_free(c->parties);
    for (size_t i = 0; i < c->ne; i++) {
        cy_free(c->e[i].id);
        cy_free(c->e[i].type);
        cy_free(c->e[i].author);
        json_decref(c->e[i].body);
    }
    cy_free(c->e);
    for (size_t i = 0; i < c->ntasks; i++) {
        cy_free(c->tasks[i].id);
        cy_free(c->tasks[i].owner);
        cy_free(c->tasks[i].what);
    }
    cy_free(c->tasks);
    for (size_t i = 0; i < c->njoins; i++) {
        cy_free(c->joins[i].id);
        cy_free(c->joins[i].party);
        cy_free(c->joins[i].admitted);
    }
    cy_free(c->joins);
    json_decref(c->facts);
    cy_free(c);
}

static void cases_clear(comity_framework *fw)
{
    cy_cases *cs = fw->cases;
    if (!cs)
        return;
    for (size_t i = 0; i < cs->n; i++)
        case_free(cs->c[i]);
    cy_free(cs->c);
    json_decref(cs->ids);
    json_decref(cs->recs);
    json_decref(cs->by_party);
    for (size_t i = 0; i < cs->nplists; i++)
        cy_free(cs->plists[i].v);
    cy_free(cs->plists);
    cy_free(cs->treaties);
    cy_free(cs);
    fw->cases = NULL;
}

static int profile_index(const char *name)
{
    for (int p = 0; p < CY_PROFILE_COUNT; p++)
        if (name && strcmp(name, cy_profile_names[p]) == 0)
            return p;
    return -1;
}

comity_err comity_framework_set_case_deadline(comity_framework *fw,
                                              const char *profile,
                                              const char *clock, int64_t ms,
                                              comity_error *err)
{
    int p = profile ? profile_index(profile) : -1;
    if (profile && p < 0)
        return cy_fail(err, COMITY_ERR_USAGE,
                       "framework: profile \"%.32s\": want budapest, "
                       "second-protocol, un or eu", profile);
    int k = -1;
    for (int i = 0; i < CY_CK_COUNT && clock; i++)
        if (strcmp(clock, cy_ck_names[i]) == 0)
            k = i;
    if (k < 0)
        return cy_fail(err, COMITY_ERR_USAGE,
                       "framework: no case deadline \"%.48s\" (docs/framework.md "
                       "lists them)", clock ? clock : "(null)");
    if (ms <= 0)
        return cy_fail(err, COMITY_ERR_USAGE,
                       "framework: deadlines must be positive");
    for (int i = 0; i < CY_PROFILE_COUNT; i++)
        if (p < 0 || p == i)
            fw->cases->dur[i][k] = ms;
    return COMITY_OK;
}

static bool is_state(const char *s)
{
    return s && !strchr(s, '.') && comity_party_valid(s, NULL);
}

comity_err comity_framework_set_treaty(comity_framework *fw, const char *a,
                                       const char *b, const char *profile,
                                       comity_error *err)
{
    cy_cases *cs = fw->cases;
    int p = profile_index(profile);
    if (!is_state(a) || !is_state(b))
        return cy_fail(err, COMITY_ERR_USAGE,
                       "framework: treaty: want two state codes (\"pk\", \"in\")");
    if (p < 0)
        return cy_fail(err, COMITY_ERR_USAGE,
                       "framework: treaty profile \"%.32s\": want budapest, "
                       "second-protocol, un or eu", profile ? profile : "(null)");
    for (size_t i = 0; i < cs->ntreaties; i++) {
        struct cy_treaty *t = &cs->treaties[i];
        if ((!strcmp(t->a, a) && !strcmp(t->b, b)) ||
            (!strcmp(t->a, b) && !strcmp(t->b, a))) {
            t->profile = p;
            return COMITY_OK;
        }
    }
    if (cs->ntreaties >= TREATIES_MAX)
        return cy_fail(err, COMITY_ERR_TOOBIG,
                       "framework: more than %d treaty pairs", TREATIES_MAX);
    if (cy_fw_grow((void **)&cs->treaties, &cs->captreaties, cs->ntreaties,
                   sizeof *cs->treaties))
        return cy_fw_nomem(err);
    struct cy_treaty *t = &cs->treaties[cs->ntreaties++];
    snprintf(t->a, sizeof t->a, "%s", a);
    snprintf(t->b, sizeof t->b, "%s", b);
    t->profile = p;
    return COMITY_OK;
}

static int treaty_of(const cy_cases *cs, const char *a, const char *b)
{
    for (size_t i = 0; i < cs->ntreaties; i++) {
        const struct cy_treaty *t = &cs->treaties[i];
        if ((!strcmp(t->a, a) && !strcmp(t->b, b)) ||
            (!strcmp(t->a, b) && !strcmp(t->b, a)))
            return t->profile;
    }
    return CY_PROFILE_BUDAPEST;
}

/* ---- types and schemas ------------------------------------------------------ */

static const cy_case_type *type_of(const char *name, const cy_mech *m)
{
    for (size_t i = 0; name && i < m->ntypes; i++)
        if (strcmp(m->types[i].name, name) == 0)
            return &m->types[i];
    return NULL;
}

const cy_case_type *cy_case_type_of(const cy_mech *m, const char *name)
{
    return type_of(name, m);
}

bool cy_case_type_takes_files(const cy_case_type *t)
{
    for (const cy_field *f = t ? t->fields : NULL; f && f->name; f++)
        if (f->kind == CY_FK_FILES)
            return true;
    return false;
}

const cy_mech *cy_case_mech_in(const cy_mech *const *mechs, size_t n,
                               const char *type, const cy_case_type **t)
{
    for (size_t i = 0; i < n; i++) {
        const cy_case_type *ct = type_of(type, mechs[i]);
        if (ct) {
            if (t)
                *t = ct;
            return mechs[i];
        }
    }
    return NULL;
}

static bool is_hex64(const char *s)
{
    size_t i = 0;
    for (; s[i]; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return i == 64;
}

/* A CY_FK_FILES field: [{sha256, size, name?, media_type?}...]. */
static comity_err files_check(const char *t, const cy_field *f, json_t *v,
                              comity_error *err)
{
    size_t max = f->max ? (size_t)f->max : CY_CASE_FILES_MAX;
    if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > max)
        return cy_fail(err, COMITY_ERR_INVALID,
                       "%s.body.%s: want an array of 1-%zu files "
                       "({sha256, size, name, media_type})", t, f->name, max);
    size_t i;
    json_t *o;
    json_array_foreach(v, i, o) {
        if (!json_is_object(o))
            return cy_fail(err, COMITY_ERR_INVALID,
                           "%s.body.%s[%zu]: want an object {sha256, size, name, "
                           "media_type}", t, f->name, i);
        const char *k;
        json_t *x;
        json_object_foreach(o, k, x) {
            if (strcmp(k, "sha256") && strcmp(k, "size") && strcmp(k, "name") &&
                strcmp(k, "media_type"))
                return cy_fail(err, COMITY_ERR_INVALID,
                               "%s.body.%s[%zu].%.64s: unknown field", t, f->name, i, k);
        }
        json_t *h = json_object_get(o, "sha256"), *n = json_object_get(o, "size"),
               *nm = json_object_get(o, "name"), *mt = json_object_get(o, "media_type");
        if (!h || !json_is_string(h) || !is_hex64(json_string_value(h)))
            return cy_fail(err, COMITY_ERR_INVALID,
                           "%s.body.%s[%zu].sha256: want 64 lowercase hex digits "
                           "(SHA-256 of the sealed file)", t, f->name, i);
        if (!n || !json_is_integer(n) || json_integer_value(n) < 0 ||
            json_integer_value(n) > CY_CASE_FILE_SIZE_MAX)
            return cy_fail(err, COMITY_ERR_INVALID,
                           "%s.body.%s[%zu].size: want an integer 0-%lld (bytes of "
                           "the sealed file)", t, f->name, i,
                           (long long)CY_CASE_FILE_SIZE_MAX);
        if (nm && (!json_is_string(nm) || json_string_length(nm) == 0 ||
                   json_string_length(nm) > 256))
            return cy_fail(err, COMITY_ERR_INVALID,
                           "%s.body.%s[%zu].name: want a string of 1-256 bytes", t,
                           f->name, i);
        if (mt && (!json_is_string(mt) || json_string_length(mt) == 0 ||
                   json_string_length(mt) > 128))
            return cy_fail(err, COMITY_ERR_INVALID,
                           "%s.body.%s[%zu].media_type: want a string of 1-128 bytes",
                           t, f->name, i);
        for (size_t j = 0; j < i; j++)
            if (json_equal(json_object_get(json_array_get(v, j), "sha256"), h))
                return cy_fail(err, COMITY_ERR_INVALID,
                               "%s.body.%s[%zu].sha256: the file is listed twice", t,
                               f->name, i);
    }
    return COMITY_OK;
}

static comity_err field_check(const char *t, const cy_field *f, json_t *v,
                              comity_error *err)
{
    size_t max;
    switch (f->kind) {
    case CY_FK_TEXT:
        max = f->max ? (size_t)f->max : CY_CASE_TEXT_MAX;
        if (!json_is_string(v) || json_string_length(v) == 0 ||
            json_string_length(v) > max)
            return cy_fail(err, COMITY_ERR_INVALID,
                           "%s.body.%s: want a string of 1-%zu bytes", t,
                           f->name, max);
        return COMITY_OK;
    case CY_FK_TIME:
        if (!json_is_string(v) || json_string_length(v) > 64 ||
            cy_fw_time(json_string_value(v)) < 0)
            return cy_fail(err, COMITY_ERR_INVALID,
                           "%s.body.%s: want an RFC 3339 time", t, f->name);
        return COMITY_OK;
    case CY_FK_ENUM:
        if (!json_is_string(v) || !cy_fw_in_vocab(json_string_value(v), f->vocab)) {
            char buf[512];
            return cy_fail(err, COMITY_ERR_INVALID, "%s.body.%s: want one of %s",
                           t, f->name, cy_fw_vocab_text(buf, sizeof buf, f->vocab));
        }
        return COMITY_OK;
    case CY_FK_TRUE:
        if (!json_is_true(v))
            return cy_fail(err, COMITY_ERR_INVALID, "%s.body.%s: want true", t,
                           f->name);
        return COMITY_OK;
    case CY_FK_BOOL:
        if (!json_is_boolean(v))
            return cy_fail(err, COMITY_ERR_INVALID,
                           "%s.body.%s: want true or false", t, f->name);
        return COMITY_OK;
    case CY_FK_INT:
        if (!json_is_integer(v) || json_integer_value(v) < f->min ||
            json_integer_value(v) > f->max)
            return cy_fail(err, COMITY_ERR_INVALID,
                           "%s.body.%s: want an integer %lld-%lld", t, f->name,
                           (long long)f->min, (long long)f->max);
        return COMITY_OK;
    case CY_FK_SHA256:
        if (!json_is_string(v) || !is_hex64(json_string_value(v)))
            return cy_fail(err, COMITY_ERR_INVALID,
                           "%s.body.%s: want 64 lowercase hex digits (SHA-256)",
                           t, f->name);
        return COMITY_OK;
    case CY_FK_PARTY:
        if (!json_is_string(v) || json_string_length(v) > COMITY_PARTY_MAX ||
            !comity_party_valid(json_string_value(v), NULL))
            return cy_fail(err, COMITY_ERR_INVALID,
                           "%s.body.%s: want a party name (\"pk.mofa\")", t,
                           f->name);
        return COMITY_OK;
    case CY_FK_FILES:
        return files_check(t, f, v, err);
    case CY_FK_OBJECTS: {
        max = f->max ? (size_t)f->max : CY_CASE_OBJECTS_MAX;
        size_t i;
        json_t *o;
        if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > max)
            return cy_fail(err, COMITY_ERR_INVALID,
                           "%s.body.%s: want an array of 1-%zu objects", t, f->name, max);
        json_array_foreach(v, i, o) {
            if (!json_is_object(o))
                return cy_fail(err, COMITY_ERR_INVALID,
                               "%s.body.%s[%zu]: want an object", t, f->name, i);
        }
        return COMITY_OK;
    }
    case CY_FK_PARTIES:
    case CY_FK_TEXTS: {
        bool parties = f->kind == CY_FK_PARTIES;
        max = f->max ? (size_t)f->max
                     : parties ? PARTIES_MAX_DEFAULT : TEXTS_MAX_DEFAULT;
        if (!json_is_array(v) || json_array_size(v) == 0 ||
            json_array_size(v) > max)
            return cy_fail(err, COMITY_ERR_INVALID,
                           "%s.body.%s: want an array of 1-%zu %s", t, f->name,
                           max, parties ? "party names" : "texts");
        size_t i;
        json_t *s;
        json_array_foreach(v, i, s) {
            if (!json_is_string(s) || json_string_length(s) == 0 ||
                json_string_length(s) > (parties ? COMITY_PARTY_MAX : CY_CASE_TEXT_MAX) ||
                (parties && !comity_party_valid(json_string_value(s), NULL)))
                return cy_fail(err, COMITY_ERR_INVALID,
                               "%s.body.%s[%zu]: want %s", t, f->name, i,
                               parties ? "a party name (\"pk.mofa\")"
                                       : "a string of 1-4096 bytes");
        }
        return COMITY_OK;
    }
    }
    return cy_fail(err, COMITY_ERR_INTERNAL, "%s.body.%s: unknown field kind",
                   t, f->name);
}

comity_err cy_case_check_body(const cy_case_type *t, const json_t *body,
                              comity_error *err)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)body, k, v) {
        const cy_field *f = t->fields;
        while (f->name && strcmp(f->name, k) != 0)
            f++;
        if (!f->name)
            return cy_fail(err, COMITY_ERR_INVALID,
                           "%s.body.%.64s: unknown field", t->name, k);
    }
    for (const cy_field *f = t->fields; f->name; f++) {
        json_t *fv = json_object_get(body, f->name);
        if (!fv) {
            if (f->required)
                return cy_fail(err, COMITY_ERR_INVALID, "%s.body.%s: missing",
                               t->name, f->name);
            continue;
        }
        comity_err rc = field_check(t->name, f, fv, err);
        if (rc)
            return rc;
    }
    return t->check ? t->check(t->name, body, err) : COMITY_OK;
}

/* ---- parties and roles -------------------------------------------------------- */

unsigned cy_case_roles(const cy_case *c, const char *party)
{
    char st[COMITY_PARTY_MAX + 1];
    cy_fw_state_of(party, st);
    unsigned roles = 0;
    for (size_t i = 0; i < c->nparties; i++) {
        const char *p = c->parties[i];
        if (strcmp(p, party) == 0 || (!strchr(p, '.') && strcmp(p, st) == 0))
            roles |= i == 0 ? CY_ROLE_REQUESTER
                     : i == 1 ? CY_ROLE_REQUESTED
                              : CY_ROLE_THIRD;
    }
    return roles;
}

unsigned cy_case_slots(const cy_case *c, const char *party)
{
    char st[COMITY_PARTY_MAX + 1];
    cy_fw_state_of(party, st);
    unsigned s = 0;
    for (size_t i = 0; i < c->nparties; i++) {
        const char *p = c->parties[i];
        if (strcmp(p, party) == 0 || (!strchr(p, '.') && strcmp(p, st) == 0))
            s |= CY_BIT(i);
    }
    return s;
}

/* "the requester (pk.mofa) or the requested (in)" for the roles `who`. */
static const char *roles_text(const cy_case *c, unsigned who, char *buf,
                              size_t cap)
{
    size_t used = 0;
    buf[0] = 0;
    for (unsigned b = 0; b < 3; b++) {
        if (!(who & (1u << b)))
            continue;
        const char *p = b < 2 ? c->parties[b]
                        : c->nparties > 2 ? c->parties[2] : "none named";
        int w = snprintf(buf + used, cap - used, "%sthe %s (%s)",
                         used ? " or " : "", rname(c->m, b), p);
        if (w < 0 || (size_t)w >= cap - used)
            break;
        used += (size_t)w;
    }
    return buf;
}

/* Who names the role's party: for messages. */
static const char *party_of_role(const cy_case *c, unsigned role)
{
    if (role & CY_ROLE_REQUESTER)
        return c->parties[0];
    if (role & CY_ROLE_REQUESTED)
        return c->parties[1];
    return c->nparties > 2 ? c->parties[2] : "the secretariat";
}

cy_case *cy_case_find(const comity_framework *fw, const char *id)
{
    const cy_cases *cs = fw->cases;
    json_t *v = cs->ids ? json_object_get(cs->ids, id) : NULL;
    return v ? cs->c[json_integer_value(v)] : NULL;
}

cy_case *cy_case_of_record(const comity_framework *fw, const char *id,
                           const cy_case_entry **entry)
{
    const cy_cases *cs = fw->cases;
    json_t *v = cs->recs && id ? json_object_get(cs->recs, id) : NULL;
    if (!v)
        return NULL;
    cy_case *c = cs->c[json_integer_value(v)];
    for (size_t i = 0; entry && i < c->ne; i++)
        if (strcmp(c->e[i].id, id) == 0)
            *entry = &c->e[i];
    return c;
}

comity_err cy_case_task_add(cy_case *c, const char *id, const char *owner,
                            const char *what, int64_t due, comity_error *err)
{
    if (cy_fw_grow((void **)&c->tasks, &c->captasks, c->ntasks, sizeof *c->tasks))
        return cy_fw_nomem(err);
    cy_case_task t = {cy_strdup(id), owner ? cy_strdup(owner) : NULL,
                      what ? cy_strdup(what) : NULL, due, -1};
    if (!t.id || (owner && !t.owner) || (what && !t.what)) {
        cy_free(t.id);
        cy_free(t.owner);
        cy_free(t.what);
        return cy_fw_nomem(err);
    }
    c->tasks[c->ntasks++] = t;
    return COMITY_OK;
}

/* ---- opening and advancing -------------------------------------------------------- */

static comity_err add_entry(cy_case *c, const comity_record *rec, json_t *body,
                            int64_t created)
{
    if (cy_fw_grow((void **)&c->e, &c->cape, c->ne, sizeof *c->e))
        return COMITY_ERR_NOMEM;
    cy_case_entry e = {cy_strdup(comity_record_id(rec)),
                       cy_strdup(comity_record_type(rec)),
                       cy_strdup(comity_record_author(rec)), created,
                       body ? json_incref(body) : NULL};
    if (!e.id || !e.type || !e.author) {
        cy_free(e.id);
        cy_free(e.type);
        cy_free(e.author);
        json_decref(e.body);
        return COMITY_ERR_NOMEM;
    }
    c->e[c->ne++] = e;
    return COMITY_OK;
}

/* Removes the last entry of c's thread (undoing add_entry). */
static void entry_drop(cy_case *c)
{
    cy_case_entry *e = &c->e[--c->ne];
    cy_free(e->id);
    cy_free(e->type);
    cy_free(e->author);
    json_decref(e->body);
}

static void clocks_apply(cy_case *c, unsigned stops, unsigned starts,
                         int64_t at)
{
    for (size_t i = 0; i < c->m->nclocks; i++) {
        cy_case_clk *k = &c->clk[i];
        if ((stops & CY_BIT(i)) && k->start >= 0 && k->stopped < 0)
            k->stopped = at;
        if (starts & CY_BIT(i))
            *k = (cy_case_clk){at, -1, -1, 0};
    }
    if (!(c->m->open_states & CY_BIT(c->state)))
        for (size_t i = 0; i < c->m->nclocks; i++)
            if (c->clk[i].start >= 0 && c->clk[i].stopped < 0)
                c->clk[i].stopped = at;
}

/* Makes room in the list of `party` for one more case index, creating
 * the (empty) list if needed: what may fail before a case is added, and
 * leaves every answer as it was when the case is then not added. */
static comity_err index_reserve(cy_cases *cs, const char *party)
{
    json_t *v = json_object_get(cs->by_party, party);
    size_t li;
    if (v) {
        li = (size_t)json_integer_value(v);
    } else {
        if (cy_fw_grow((void **)&cs->plists, &cs->capplists, cs->nplists,
                       sizeof *cs->plists))
            return COMITY_ERR_NOMEM;
        li = cs->nplists;
        cs->plists[li] = (struct cy_plist){0};
        if (json_object_set_new(cs->by_party, party, json_integer((json_int_t)li)))
            return COMITY_ERR_NOMEM;
        cs->nplists++;
    }
    struct cy_plist *l = &cs->plists[li];
    return cy_fw_grow((void **)&l->v, &l->cap, l->n, sizeof *l->v);
}

/* Appends case index ci to the list of `party` (once); room was reserved. */
static void index_add(cy_cases *cs, const char *party, size_t ci)
{
    struct cy_plist *l =
        &cs->plists[json_integer_value(json_object_get(cs->by_party, party))];
    if (!l->n || l->v[l->n - 1] != ci)
        l->v[l->n++] = ci;
}

static comity_err open_case(comity_framework *fw, const cy_mech *m,
                            const comity_record *rec, json_t *body,
                            int64_t created, bool dry, comity_error *err)
{
    cy_cases *cs = fw->cases;
    const char *type = comity_record_type(rec), *author = comity_record_author(rec);
    size_t nto = comity_record_to_count(rec);
    if (nto == 0)
        return cy_fail(err, COMITY_ERR_INVALID,
                       "%s.to: want the requested party first", type);
    if (nto > 1 + m->third_max)
        return cy_fail(err, COMITY_ERR_INVALID,
                       "%s.to: want the requested party%s (at most %zu "
                       "recipients)", type,
                       m->third_max ? " then the secretariat" : " alone",
                       1 + m->third_max);
    char ast[COMITY_PARTY_MAX + 1], rst[COMITY_PARTY_MAX + 1],
        xst[COMITY_PARTY_MAX + 1];
    cy_fw_state_of(author, ast);
    cy_fw_state_of(comity_record_to(rec, 0), rst);
    if (strcmp(ast, rst) == 0)
        return cy_fail(err, COMITY_ERR_INVALID,
                       "%s.to[0]: the requested party must be of another state "
                       "than %s", type, ast);
    for (size_t i = 1; i < nto; i++) {
        const char *x = comity_record_to(rec, i);
        cy_fw_state_of(x, xst);
        if (strcmp(xst, ast) == 0 || strcmp(xst, rst) == 0)
            return cy_fail(err, COMITY_ERR_INVALID,
                           "%s.to[%zu]: %s: the secretariat belongs to neither "
                           "state of the case", type, i, x);
    }
    if (cs->n >= (size_t)INT32_MAX)
        return cy_fail(err, COMITY_ERR_TOOBIG, "%s: too many cases", type);
    cy_case tmp = {.m = m, .state = m->initial,
                   .profile = m->profiled ? treaty_of(cs, ast, rst) : 0,
                   .sealed = comity_record_is_sealed(rec) != 0,
                   .opened = created,
                   .closed = (m->open_states & CY_BIT(m->initial)) ? -1 : created};
    comity_err rc;
    if (m->hook && (rc = m->hook(fw, &tmp, NULL, rec, body, created, true, err)))
        return rc;
    if (dry)
        return COMITY_OK;
    if ((!cs->ids && !(cs->ids = json_object())) ||
        (!cs->recs && !(cs->recs = json_object())) ||
        (!cs->by_party && !(cs->by_party = json_object())))
        return cy_fw_nomem(err);
    if (cy_fw_grow((void **)&cs->c, &cs->cap, cs->n, sizeof *cs->c))
        return cy_fw_nomem(err);
    cy_case *c = cy_calloc(1, sizeof *c);
    if (!c)
        return cy_fw_nomem(err);
    *c = tmp;
    for (size_t i = 0; i < CY_CASE_CLOCKS_MAX; i++)
        c->clk[i] = (cy_case_clk){-1, -1, -1, 0};
    c->id = cy_strdup(comity_record_id(rec));
    c->parties = cy_calloc(nto + 1, sizeof *c->parties);
    c->facts = json_object();
    bool oom = !c->id || !c->parties || !c->facts;
    for (size_t i = 0; !oom && i <= nto; i++) {
        c->parties[i] = cy_strdup(i == 0 ? author : comity_record_to(rec, i - 1));
        oom = !c->parties[c->nparties++];
    }
    oom = oom || add_entry(c, rec, body, created);
    for (size_t i = 0; !oom && i < c->nparties; i++)
        oom = index_reserve(cs, c->parties[i]) != COMITY_OK;
    /* everything that may fail comes before the case is registered, and
     * the registration is undone if the hook's effects fail: a record
     * refused for memory leaves no trace, so it can be fed again */
    bool in_cases = false, in_ids = false, in_recs = false;
    oom = oom || !(in_cases = !json_object_set_new(cs->ids, c->id,
                                                   json_integer((json_int_t)cs->n))) ||
          !(in_recs = !json_object_set_new(cs->recs, c->id,
                                           json_integer((json_int_t)cs->n))) ||
          !(in_ids = !json_object_set_new(fw->ids, c->id, json_integer(-1)));
    rc = oom ? cy_fw_nomem(err) : COMITY_OK;
    if (!rc) {
        clocks_apply(c, 0, m->open_starts, created);
        if (m->hook)
            rc = m->hook(fw, c, NULL, rec, body, created, false, err);
    }
    if (rc) {
        if (in_cases)
            json_object_del(cs->ids, c->id);
        if (in_recs)
            json_object_del(cs->recs, c->id);
        if (in_ids)
            json_object_del(fw->ids, c->id);
        case_free(c);
        return rc;
    }
    cs->c[cs->n++] = c;
    for (size_t i = 0; i < c->nparties; i++)
        index_add(cs, c->parties[i], cs->n - 1);
    return COMITY_OK;
}

/* "a, b or c": the types `roles` may send now (all roles: any allowed). */
static void allowed_text(const cy_case *c, unsigned roles, char *buf, size_t cap)
{
    size_t used = 0;
    buf[0] = 0;
    const cy_mech *m = c->m;
    for (size_t i = 0; i < m->nrows && used + 1 < cap; i++) {
        const cy_case_row *r = &m->rows[i];
        if (!(r->from & CY_BIT(c->state)) || !(r->who & roles))
            continue;
        bool dup = false;
        for (size_t j = 0; j < i && !dup; j++)
            dup = (m->rows[j].from & CY_BIT(c->state)) &&
                  (m->rows[j].who & roles) && !strcmp(m->rows[j].type, r->type);
        if (dup)
            continue;
        int w = snprintf(buf + used, cap - used, "%s%s", used ? ", " : "",
                         r->type);
        if (w < 0)
            break;
        used += (size_t)w;
    }
    if (!used)
        snprintf(buf, cap, "nothing");
}

comity_err cy_case_envelope(const comity_framework *fw, const char *type,
                            const comity_record *rec, int64_t created,
                            bool outsider, cy_case **out, comity_error *err)
{
    const char *author = comity_record_author(rec);
    *out = NULL;
    if (comity_record_refs_count(rec) == 0)
        return cy_fail(err, COMITY_ERR_INVALID,
                       "%s.refs: want the case it belongs to first", type);
    const char *ref = comity_record_ref(rec, 0);
    cy_case *c = cy_case_find(fw, ref);
    unsigned roles = c ? cy_case_roles(c, author) : 0;
    /* a non-party learns nothing, not even that the case exists */
    if (!c || (!roles && !outsider))
        return cy_fail(err, COMITY_ERR_NOTFOUND,
                       "%s.refs[0]: no case %.100s is known to %s", type, ref,
                       author);
    if (c->sealed && !comity_record_is_sealed(rec))
        return cy_fail(err, COMITY_ERR_INVALID,
                       "%s.tlp: case %.100s is sealed; its records must be "
                       "sealed too (amber, amber+strict or red)", type, ref);
    if (created < c->opened)
        return cy_fail(err, COMITY_ERR_INVALID,
                       "%s.created: before case %.100s was opened", type, ref);
    /* to: every other party of the case, and no one else */
    unsigned mine = roles ? cy_case_slots(c, author) : 0, covered = mine;
    size_t nto = comity_record_to_count(rec);
    for (size_t i = 0; i < nto; i++) {
        const char *x = comity_record_to(rec, i);
        unsigned s = cy_case_slots(c, x);
        if (!s || (s & ~mine) == 0)
            return cy_fail(err, COMITY_ERR_INVALID,
                           "%s.to[%zu]: %s is not another party of case %.100s; "
                           "a case's records go to its parties alone",
                           type, i, x, ref);
        covered |= s;
    }
    for (size_t i = 0; i < c->nparties; i++)
        if (!(covered & CY_BIT(i)))
            return cy_fail(err, COMITY_ERR_INVALID,
                           "%s.to: must name %s, a party of case %.100s", type,
                           c->parties[i], ref);
    *out = c;
    return COMITY_OK;
}

static comity_err advance(comity_framework *fw, const cy_case_type *t,
                          const comity_record *rec, json_t *body,
                          int64_t created, bool dry, comity_error *err)
{
    const char *type = t->name, *author = comity_record_author(rec);
    cy_case *c = NULL;
    comity_err erc = cy_case_envelope(fw, type, rec, created, false, &c, err);
    if (erc)
        return erc;
    const char *ref = c->id;
    unsigned roles = cy_case_roles(c, author);
    if (!type_of(type, c->m))
        return cy_fail(err, COMITY_ERR_INVALID,
                       "%s.refs[0]: %.100s is a %s case; %s does not belong to it",
                       type, ref, c->m->name, type);
    /* the status table */
    const cy_case_row *row = NULL;
    bool type_in_state = false;
    for (size_t i = 0; i < c->m->nrows && !row; i++) {
        const cy_case_row *r = &c->m->rows[i];
        if (strcmp(r->type, type) != 0 || !(r->from & CY_BIT(c->state)))
            continue;
        type_in_state = true;
        if (r->who & roles)
            row = r;
    }
    char buf[512];
    if (!type_in_state) {
        allowed_text(c, roles, buf, sizeof buf);
        return cy_fail(err, COMITY_ERR_CONFLICT,
                       "%s: case %.100s is %s; %s may send %s", type, ref,
                       c->m->states[c->state], author, buf);
    }
    if (!row) {
        unsigned who = 0;
        for (size_t i = 0; i < c->m->nrows; i++)
            if (!strcmp(c->m->rows[i].type, type) &&
                (c->m->rows[i].from & CY_BIT(c->state)))
                who |= c->m->rows[i].who;
        char rb[256];
        return cy_fail(err, COMITY_ERR_DENIED,
                       "%s: when case %.100s is %s, only %s may send it", type,
                       ref, c->m->states[c->state],
                       roles_text(c, who, rb, sizeof rb));
    }
    comity_err rc;
    if (c->m->hook && (rc = c->m->hook(fw, c, row, rec, body, created, true, err)))
        return rc;
    if (dry)
        return COMITY_OK;
    /* what may fail first, undone if the hook's effects fail, so that a
     * record refused for memory leaves no trace */
    const char *rid = comity_record_id(rec);
    if (add_entry(c, rec, body, created))
        return cy_fw_nomem(err);
    json_t *ci = json_object_get(fw->cases->ids, c->id);
    if (json_object_set_new(fw->ids, rid, json_integer(-1))) {
        entry_drop(c);
        return cy_fw_nomem(err);
    }
    if (json_object_set_new(fw->cases->recs, rid, json_integer(json_integer_value(ci)))) {
        json_object_del(fw->ids, rid);
        entry_drop(c);
        return cy_fw_nomem(err);
    }
    int state = c->state;
    cy_case_clk clk[CY_CASE_CLOCKS_MAX];
    memcpy(clk, c->clk, sizeof clk);
    int64_t closed = c->closed;
    if (row->to != CY_SAME)
        c->state = row->to;
    if (c->closed < 0 && !cy_case_is_open(c))
        c->closed = created;
    clocks_apply(c, row->stops, row->starts, created);
    if (c->m->hook && (rc = c->m->hook(fw, c, row, rec, body, created, false, err))) {
        c->state = state;
        c->closed = closed;
        memcpy(c->clk, clk, sizeof clk);
        json_object_del(fw->ids, rid);
        json_object_del(fw->cases->recs, rid);
        entry_drop(c);
        return rc;
    }
    return COMITY_OK;
}

/* ---- late parties: case-join and case-admit ------------------------------------ */

/* Why a party asks to join: a closed vocabulary, so that no free text (and
 * no one's name) enters a case this way; the records that support it go
 * in refs[1..]. */
static const char *const join_bases[] = {"licensed", "affected", "jurisdiction",
                                         "mandate", "other", NULL};
static const cy_field f_join[] = {{"basis", CY_FK_ENUM, true, join_bases, 0, 0},
                                  {NULL, CY_FK_TEXT, false, NULL, 0, 0}};
static const cy_field f_admit[] = {{NULL, CY_FK_TEXT, false, NULL, 0, 0}};

const cy_case_type cy_case_core_types[] = {{"case-join", f_join, NULL},
                                           {"case-admit", f_admit, NULL}};
const size_t cy_case_ncore_types = CY_ARRAY_LEN(cy_case_core_types);

const cy_case_type *cy_case_core_type(const char *name)
{
    for (size_t i = 0; name && i < cy_case_ncore_types; i++)
        if (!strcmp(cy_case_core_types[i].name, name))
            return &cy_case_core_types[i];
    return NULL;
}

/* Inserts case index ci into the (ascending) list of `party`, once; room
 * was reserved.  A late party's list gets an older case: not at the end. */
static void index_insert(cy_cases *cs, const char *party, size_t ci)
{
    struct cy_plist *l =
        &cs->plists[json_integer_value(json_object_get(cs->by_party, party))];
    size_t at = l->n;
    while (at > 0 && l->v[at - 1] > ci)
        at--;
    if (at > 0 && l->v[at - 1] == ci)
        return;
    memmove(l->v + at + 1, l->v + at, (l->n - at) * sizeof *l->v);
    l->v[at] = ci;
    l->n++;
}

/* Third parties of c (those after the requester and the requested). */
static size_t thirds(const cy_case *c)
{
    return c->nparties > 2 ? c->nparties - 2 : 0;
}

/* The rules case-join and case-admit share: an open case, sealed records
 * in a sealed case, not before the opening, room for one more party. */
static comity_err late_rules(const cy_case *c, const char *type, const comity_record *rec,
                             int64_t created, comity_error *err)
{
    if (!cy_case_is_open(c))
        return cy_fail(err, COMITY_ERR_CONFLICT,
                       "%s: case %.100s is %s; only an open case takes a new party", type,
                       c->id, c->m->states[c->state]);
    if (c->sealed && !comity_record_is_sealed(rec))
        return cy_fail(err, COMITY_ERR_INVALID,
                       "%s.tlp: case %.100s is sealed; its records must be sealed too "
                       "(amber, amber+strict or red)", type, c->id);
    if (created < c->opened)
        return cy_fail(err, COMITY_ERR_INVALID, "%s.created: before case %.100s was opened",
                       type, c->id);
    if (thirds(c) >= c->m->third_max)
        return cy_fail(err, COMITY_ERR_TOOBIG,
                       "%s: case %.100s has %zu third parties, the most a %s case takes", type,
                       c->id, thirds(c), c->m->name);
    return COMITY_OK;
}

/* Records a case record of c (the thread, the record indexes): the last
 * step that may fail, so that a refusal for memory leaves no trace. */
static comity_err late_entry(comity_framework *fw, cy_case *c, const comity_record *rec,
                             json_t *body, int64_t created, comity_error *err)
{
    const char *rid = comity_record_id(rec);
    json_t *ci = json_object_get(fw->cases->ids, c->id);
    if (add_entry(c, rec, body, created))
        return cy_fw_nomem(err);
    if (json_object_set_new(fw->ids, rid, json_integer(-1))) {
        entry_drop(c);
        return cy_fw_nomem(err);
    }
    if (json_object_set_new(fw->cases->recs, rid, json_integer(json_integer_value(ci)))) {
        json_object_del(fw->ids, rid);
        entry_drop(c);
        return cy_fw_nomem(err);
    }
    return COMITY_OK;
}

/* case-join: refs[0] the case, to its requester alone, from a party that
 * is not in it and that the mechanism lets ask. */
static comity_err join_add(comity_framework *fw, const cy_case_type *t,
                           const comity_record *rec, json_t *body, int64_t created,
                           bool dry, comity_error *err)
{
    const char *type = t->name, *author = comity_record_author(rec);
    if (comity_record_refs_count(rec) == 0)
        return cy_fail(err, COMITY_ERR_INVALID, "%s.refs: want the case to join first", type);
    const char *ref = comity_record_ref(rec, 0);
    cy_case *c = cy_case_find(fw, ref);
    if (c && cy_case_roles(c, author))
        return cy_fail(err, COMITY_ERR_INVALID,
                       "%s.refs[0]: %s is already a party of case %.100s", type, author, ref);
    /* one the mechanism does not let ask learns nothing of the case */
    if (!c || !c->m->may_join || !c->m->may_join(fw, c, author))
        return cy_fail(err, COMITY_ERR_NOTFOUND, "%s.refs[0]: no case %.100s is known to %s",
                       type, ref, author);
    comity_err rc = late_rules(c, type, rec, created, err);
    if (rc)
        return rc;
    if (comity_record_to_count(rec) != 1 || strcmp(comity_record_to(rec, 0), c->parties[0]))
        return cy_fail(err, COMITY_ERR_INVALID,
                       "%s.to: want the case's requester (%s) alone: it admits new parties",
                       type, c->parties[0]);
    for (size_t i = 0; i < c->njoins; i++)
        if (!c->joins[i].admitted && !strcmp(c->joins[i].party, author))
            return cy_fail(err, COMITY_ERR_CONFLICT,
                           "%s: %s already asked to join case %.100s (%s), not yet admitted",
                           type, author, ref, c->joins[i].id);
    if (dry)
        return COMITY_OK;
    if (cy_fw_grow((void **)&c->joins, &c->capjoins, c->njoins, sizeof *c->joins))
        return cy_fw_nomem(err);
    cy_case_join j = {cy_strdup(comity_record_id(rec)), cy_strdup(author), created, NULL};
    if (!j.id || !j.party || (rc = late_entry(fw, c, rec, body, created, err))) {
        cy_free(j.id);
        cy_free(j.party);
        return rc ? rc : cy_fw_nomem(err);
    }
    c->joins[c->njoins++] = j;
    return COMITY_OK;
}

/* case-admit: refs[0] the case, refs[1] the pending request; from the
 * roles that admit; to every other party and the newcomer. */
static comity_err admit_add(comity_framework *fw, const cy_case_type *t,
                            const comity_record *rec, json_t *body, int64_t created,
                            bool dry, comity_error *err)
{
    const char *type = t->name, *author = comity_record_author(rec);
    if (comity_record_refs_count(rec) < 2)
        return cy_fail(err, COMITY_ERR_INVALID,
                       "%s.refs: want the case, then the request to join it (case-join)", type);
    const char *ref = comity_record_ref(rec, 0), *req = comity_record_ref(rec, 1);
    cy_case *c = cy_case_find(fw, ref);
    unsigned roles = c ? cy_case_roles(c, author) : 0;
    if (!c || !roles)
        return cy_fail(err, COMITY_ERR_NOTFOUND, "%s.refs[0]: no case %.100s is known to %s",
                       type, ref, author);
    cy_case_join *j = NULL;
    for (size_t i = 0; i < c->njoins && !j; i++)
        if (!strcmp(c->joins[i].id, req))
            j = &c->joins[i];
    if (!j)
        return cy_fail(err, COMITY_ERR_NOTFOUND,
                       "%s.refs[1]: %.100s is no request to join case %.100s", type, req, ref);
    if (j->admitted)
        return cy_fail(err, COMITY_ERR_CONFLICT,
                       "%s.refs[1]: %s was admitted to case %.100s already (%s)", type,
                       j->party, ref, j->admitted);
    unsigned who = c->m->admits ? c->m->admits : CY_ROLE_REQUESTER;
    char rb[256];
    if (!(roles & who))
        return cy_fail(err, COMITY_ERR_DENIED, "%s: only %s admits a new party to case %.100s",
                       type, roles_text(c, who, rb, sizeof rb), ref);
    if (cy_case_roles(c, j->party))
        return cy_fail(err, COMITY_ERR_CONFLICT, "%s: %s is already a party of case %.100s",
                       type, j->party, ref);
    comity_err rc = late_rules(c, type, rec, created, err);
    if (rc)
        return rc;
    if (created < j->at)
        return cy_fail(err, COMITY_ERR_INVALID, "%s.created: before the request %s", type,
                       j->id);
    /* to: every other party and the newcomer, no one else */
    unsigned mine = cy_case_slots(c, author), covered = mine;
    bool newcomer = false;
    for (size_t i = 0; i < comity_record_to_count(rec); i++) {
        const char *x = comity_record_to(rec, i);
        unsigned sl = cy_case_slots(c, x);
        if (!strcmp(x, j->party)) {
            newcomer = true;
            continue;
        }
        if (!sl || (sl & ~mine) == 0)
            return cy_fail(err, COMITY_ERR_INVALID,
                           "%s.to[%zu]: %s is neither another party of case %.100s nor %s, "
                           "the party admitted", type, i, x, ref, j->party);
        covered |= sl;
    }
    for (size_t i = 0; i < c->nparties; i++)
        if (!(covered & CY_BIT(i)))
            return cy_fail(err, COMITY_ERR_INVALID, "%s.to: must name %s, a party of case %.100s",
                           type, c->parties[i], ref);
    if (!newcomer)
        return cy_fail(err, COMITY_ERR_INVALID, "%s.to: must name %s, the party admitted", type,
                       j->party);
    if (dry)
        return COMITY_OK;
    /* what may fail first */
    char **np = cy_realloc(c->parties, (c->nparties + 2) * sizeof *np);
    if (!np)
        return cy_fw_nomem(err);
    c->parties = np;
    char *p = cy_strdup(j->party), *aid = cy_strdup(comity_record_id(rec));
    if (!p || !aid || index_reserve(fw->cases, p) ||
        (rc = late_entry(fw, c, rec, body, created, err))) {
        cy_free(p);
        cy_free(aid);
        return rc ? rc : cy_fw_nomem(err);
    }
    c->parties[c->nparties++] = p;
    j->admitted = aid;
    index_insert(fw->cases, p, (size_t)json_integer_value(json_object_get(fw->cases->ids, c->id)));
    return COMITY_OK;
}

/* A record of a case type: the core's rules, the mechanism's table and
 * hooks; unless dry, its effects.  body: borrowed, NULL when unreadable. */
static comity_err case_add(comity_framework *fw, enum cy_fw_type ft,
                           const comity_record *rec, json_t *body,
                           int64_t created, bool dry, comity_error *err)
{
    (void)ft;
    const char *type = comity_record_type(rec);
    const cy_case_type *t = cy_case_core_type(type);
    comity_err rc;
    if (t) {
        if (body && (rc = cy_case_check_body(t, body, err)))
            return rc;
        return (t == &cy_case_core_types[0] ? join_add : admit_add)(fw, t, rec, body, created,
                                                                    dry, err);
    }
    const cy_mech *m =
        cy_case_mech_in(fw->case_mechs, fw->ncase_mechs, type, &t);
    if (!m)
        return cy_fail(err, COMITY_ERR_INTERNAL, "%s: not a case type", type);
    if (body && (rc = cy_case_check_body(t, body, err)))
        return rc;
    if (strcmp(m->opens, type) == 0)
        return open_case(fw, m, rec, body, created, dry, err);
    return advance(fw, t, rec, body, created, dry, err);
}

/* ---- queries ----------------------------------------------------------------------- */

static int64_t clock_due(const comity_framework *fw, const cy_case *c, size_t i)
{
    const cy_case_clk *k = &c->clk[i];
    int64_t base = k->fixed_due >= 0
                       ? k->fixed_due
                       : k->start + fw->cases->dur[c->profile][c->m->clocks[i].ck];
    return base + k->extra;
}

static bool running(const cy_case *c, size_t i)
{
    return c->clk[i].start >= 0 && c->clk[i].stopped < 0;
}

bool cy_case_is_open(const cy_case *c)
{
    return (c->m->open_states & CY_BIT(c->state)) != 0;
}

static bool is_open(const cy_case *c) { return cy_case_is_open(c); }

static bool task_pending(const cy_case_task *t) { return t->done < 0; }

static json_t *parties_json(const cy_case *c)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < c->nparties; i++) {
        json_t *o = json_pack("{s:s, s:s}", "party", c->parties[i], "role",
                              rname(c->m, (unsigned)i));
        if (!o || json_array_append_new(a, o)) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

typedef struct citem {
    const cy_case *c;
    unsigned roles;
    int64_t due;  /* the earliest due time, -1: none */
    bool late;
} citem;

static int citem_cmp(const void *a, const void *b)
{
    const citem *x = a, *y = b;
    if (x->due != y->due) {
        if (x->due < 0 || y->due < 0)
            return x->due < 0 ? 1 : -1;
        return x->due < y->due ? -1 : 1;
    }
    return strcmp(x->c->id, y->c->id);
}

/* The earliest due time among c's running clocks and pending tasks (-1:
 * none) and whether any is overdue at now. */
static int64_t next_due(const comity_framework *fw, const cy_case *c,
                        int64_t now, bool *late, bool *pending)
{
    int64_t next = -1;
    *late = *pending = false;
    for (size_t i = 0; i < c->m->nclocks; i++) {
        if (!running(c, i))
            continue;
        int64_t due = clock_due(fw, c, i);
        *late |= now > due;
        if (next < 0 || due < next)
            next = due;
    }
    for (size_t i = 0; i < c->ntasks; i++) {
        const cy_case_task *t = &c->tasks[i];
        if (!task_pending(t))
            continue;
        *pending = true;
        *late |= t->due >= 0 && now > t->due;
        if (t->due >= 0 && (next < 0 || t->due < next))
            next = t->due;
    }
    return next;
}

/* A time as a JSON string, or null. */
static comity_err put_time(cy_buf *b, const char *key, int64_t ms)
{
    if (ms < 0)
        return cy_buf_printf(b, "\"%s\":null", key);
    char t[CY_TIME_BUF];
    cy_time_format_ms(t, ms);
    return cy_buf_printf(b, "\"%s\":\"%s\"", key, t);
}

/* One item of comity_framework_cases.  Written by hand, not with jansson,
 * for speed: every string in it is a party name, a record id, or one of
 * the mechanisms' static names, none of which needs escaping. */
static comity_err put_item(const comity_framework *fw, cy_buf *b,
                           const citem *it, int64_t now)
{
    const cy_case *c = it->c;
    comity_err rc = cy_buf_printf(
        b, "{\"id\":\"%s\",\"mechanism\":\"%s\",\"type\":\"%s\",\"state\":\"%s\","
           "\"role\":\"%s\",\"parties\":[", c->id, c->m->name, c->m->opens,
        c->m->states[c->state], role_name(c->m, it->roles));
    for (size_t i = 0; !rc && i < c->nparties; i++)
        rc = cy_buf_printf(b, "%s{\"party\":\"%s\",\"role\":\"%s\"}", i ? "," : "",
                           c->parties[i], rname(c->m, (unsigned)i));
    if (!rc && !(rc = cy_buf_puts(b, "],")) && !(rc = put_time(b, "opened", c->opened)))
        rc = c->m->profiled ? cy_buf_printf(b, ",\"profile\":\"%s\",",
                                            cy_profile_names[c->profile])
                            : cy_buf_puts(b, ",\"profile\":null,");
    if (!rc && !(rc = put_time(b, "due", it->due)))
        rc = cy_buf_printf(b, ",\"overdue\":%s,\"clocks\":[", it->late ? "true" : "false");
    bool first = true;
    for (size_t i = 0; !rc && i < c->m->nclocks; i++) {
        if (!running(c, i))
            continue;
        int64_t due = clock_due(fw, c, i);
        if (!(rc = cy_buf_printf(b, "%s{\"name\":\"%s\",\"who\":\"%s\",",
                                 first ? "" : ",", c->m->clocks[i].name,
                                 party_of_role(c, c->m->clocks[i].who))) &&
            !(rc = put_time(b, "due", due)))
            rc = cy_buf_printf(b, ",\"overdue\":%s}", now > due ? "true" : "false");
        first = false;
    }
    for (size_t i = 0; !rc && i < c->ntasks; i++) {
        const cy_case_task *t = &c->tasks[i];
        if (!task_pending(t))
            continue;
        rc = cy_buf_printf(b, "%s{\"name\":\"action\",\"task\":\"%s\",\"who\":",
                           first ? "" : ",", t->id);
        if (!rc)
            rc = t->owner ? cy_buf_printf(b, "\"%s\",", t->owner) : cy_buf_puts(b, "null,");
        if (!rc && !(rc = put_time(b, "due", t->due)))
            rc = cy_buf_printf(b, ",\"overdue\":%s}",
                               t->due >= 0 && now > t->due ? "true" : "false");
        first = false;
    }
    return rc ? rc : cy_buf_puts(b, "]}");
}

comity_err comity_framework_cases(const comity_framework *fw, const char *party,
                                  int64_t now_ms, char **json, comity_error *err)
{
    *json = NULL;
    if (!party || !comity_party_valid(party, err))
        return party ? cy_wrap(err, "cases") : cy_fail(err, COMITY_ERR_USAGE,
                                                       "cases: want a party");
    const cy_cases *cs = fw->cases;
    /* the cases naming the party, and those naming its bare state: two
     * ascending lists, merged */
    char st[COMITY_PARTY_MAX + 1];
    cy_fw_state_of(party, st);
    const struct cy_plist *l[2] = {NULL, NULL};
    json_t *v;
    if (cs->by_party && (v = json_object_get(cs->by_party, party)))
        l[0] = &cs->plists[json_integer_value(v)];
    if (cs->by_party && strcmp(st, party) != 0 &&
        (v = json_object_get(cs->by_party, st)))
        l[1] = &cs->plists[json_integer_value(v)];
    size_t na = l[0] ? l[0]->n : 0, nb = l[1] ? l[1]->n : 0, ia = 0, ib = 0;
    citem *it = cy_calloc(na + nb + 1, sizeof *it);
    if (!it)
        return cy_fw_nomem(err);
    size_t n = 0;
    while (ia < na || ib < nb) {
        size_t ci;
        if (ib >= nb || (ia < na && l[0]->v[ia] < l[1]->v[ib]))
            ci = l[0]->v[ia++];
        else if (ia >= na || l[1]->v[ib] < l[0]->v[ia])
            ci = l[1]->v[ib++];
        else
            ci = l[0]->v[ia++], ib++;
        const cy_case *c = cs->c[ci];
        citem x = {c, cy_case_roles(c, party), -1, false};
        bool pending;
        x.due = next_due(fw, c, now_ms, &x.late, &pending);
        if (x.roles && (is_open(c) || pending))
            it[n++] = x;
    }
    if (n)
        qsort(it, n, sizeof *it, citem_cmp);
    cy_buf b;
    cy_buf_init(&b, CASES_JSON_MAX);
    char t[CY_TIME_BUF];
    cy_time_format_ms(t, now_ms);
    comity_err rc = cy_buf_printf(&b, "{\"party\":\"%s\",\"now\":\"%s\",\"cases\":[",
                                  party, t);
    for (size_t i = 0; i < n && !rc; i++)
        if (!(rc = i ? cy_buf_puts(&b, ",") : COMITY_OK))
            rc = put_item(fw, &b, &it[i], now_ms);
    if (!rc)
        rc = cy_buf_puts(&b, "]}");
    cy_free(it);
    if (rc) {
        cy_buf_free(&b);
        return rc == COMITY_ERR_TOOBIG
                   ? cy_fail(err, rc, "cases: the answer is larger than %zu bytes",
                             CASES_JSON_MAX)
                   : cy_fw_nomem(err);
    }
    *json = (char *)cy_buf_detach(&b, NULL);
    return COMITY_OK;
}

/* The types `roles` may send now, with who may: [{type, who: [roles]}]. */
static json_t *next_json(const cy_case *c, unsigned roles)
{
    json_t *a = json_array();
    const cy_mech *m = c->m;
    for (size_t i = 0; a && i < m->nrows; i++) {
        const cy_case_row *r = &m->rows[i];
        if (!(r->from & CY_BIT(c->state)) || !(r->who & roles))
            continue;
        bool dup = false;
        for (size_t j = 0; j < i && !dup; j++)
            dup = (m->rows[j].from & CY_BIT(c->state)) &&
                  (m->rows[j].who & roles) && !strcmp(m->rows[j].type, r->type);
        if (dup)
            continue;
        unsigned who = 0;
        for (size_t j = 0; j < m->nrows; j++)
            if ((m->rows[j].from & CY_BIT(c->state)) &&
                !strcmp(m->rows[j].type, r->type))
                who |= m->rows[j].who & roles;
        json_t *w = json_array();
        for (unsigned b = 0; w && b < 3; b++)
            if (who & (1u << b) && json_array_append_new(w, json_string(rname(m, b))))
                json_decref(w), w = NULL;
        json_t *o = w ? json_pack("{s:s, s:o}", "type", r->type, "who", w) : NULL;
        if (!o || json_array_append_new(a, o)) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

comity_err comity_framework_case(const comity_framework *fw, const char *id,
                                 const char *party, int64_t now_ms,
                                 char **json, comity_error *err)
{
    *json = NULL;
    const cy_case *c = id ? cy_case_find(fw, id) : NULL;
    unsigned roles = c && party ? cy_case_roles(c, party) : CY_ROLE_ANY;
    /* the same answer for an unknown case and one the party is not in */
    if (!c || !roles)
        return cy_fail(err, COMITY_ERR_NOTFOUND, "case: no case %.100s%s%.64s",
                       id ? id : "(null)", party ? " known to " : "",
                       party ? party : "");
    json_t *clocks = json_array(), *tasks = json_array(), *thread = json_array();
    bool oom = !clocks || !tasks || !thread;
    for (size_t i = 0; !oom && i < c->m->nclocks; i++) {
        if (c->clk[i].start < 0)
            continue;
        int64_t due = clock_due(fw, c, i);
        json_t *o = json_pack("{s:s, s:s, s:o, s:o, s:o, s:b, s:b}", "name",
                              c->m->clocks[i].name, "who",
                              party_of_role(c, c->m->clocks[i].who), "started",
                              cy_fw_time_json(c->clk[i].start), "due",
                              cy_fw_time_json(due), "stopped",
                              cy_fw_time_json(c->clk[i].stopped), "running",
                              running(c, i), "overdue",
                              running(c, i) && now_ms > due);
        oom = !o || json_array_append_new(clocks, o);
    }
    for (size_t i = 0; !oom && i < c->ntasks; i++) {
        const cy_case_task *t = &c->tasks[i];
        json_t *o = json_pack("{s:s, s:o, s:o, s:o, s:o, s:b}", "id", t->id,
                              "owner", t->owner ? json_string(t->owner) : json_null(),
                              "what", t->what ? json_string(t->what) : json_null(),
                              "due", cy_fw_time_json(t->due), "done",
                              cy_fw_time_json(t->done), "overdue",
                              task_pending(t) && t->due >= 0 && now_ms > t->due);
        oom = !o || json_array_append_new(tasks, o);
    }
    for (size_t i = 0; !oom && i < c->ne; i++) {
        const cy_case_entry *e = &c->e[i];
        json_t *o = json_pack("{s:s, s:s, s:s, s:o, s:O?}", "id", e->id, "type",
                              e->type, "author", e->author, "created",
                              cy_fw_time_json(e->created), "body", e->body);
        oom = !o || json_array_append_new(thread, o);
    }
    json_t *o = NULL;
    if (!oom)
        o = json_pack("{s:s, s:s, s:s, s:s, s:b, s:b, s:o, s:o, s:o, s:o, s:O, "
                      "s:o, s:o, s:o}",
                      "id", c->id, "mechanism", c->m->name, "type", c->m->opens,
                      "state", c->m->states[c->state], "open", is_open(c),
                      "sealed", c->sealed, "profile",
                      c->m->profiled ? json_string(cy_profile_names[c->profile])
                                     : json_null(),
                      "parties", parties_json(c), "opened",
                      cy_fw_time_json(c->opened), "now", cy_fw_time_json(now_ms),
                      "facts", c->facts, "clocks", clocks, "tasks", tasks,
                      "thread", thread);
    else {
        json_decref(clocks);
        json_decref(tasks);
        json_decref(thread);
    }
    if (o && party && json_object_set_new(o, "role", json_string(role_name(c->m, roles))))
        oom = true;
    if (o && json_object_set_new(o, "next", next_json(c, roles)))
        oom = true;
    if (o && json_object_set_new(o, "closed", cy_fw_time_json(c->closed)))
        oom = true;
    /* requests to join after the opening: pending (admitted null) or not */
    json_t *joins = o ? json_array() : NULL;
    for (size_t i = 0; joins && i < c->njoins; i++) {
        const cy_case_join *j = &c->joins[i];
        if (json_array_append_new(joins, json_pack("{s:s, s:s, s:o, s:o}", "request", j->id,
                                                   "party", j->party, "at",
                                                   cy_fw_time_json(j->at), "admitted",
                                                   j->admitted ? json_string(j->admitted)
                                                               : json_null())))
            json_decref(joins), joins = NULL;
    }
    if (o && json_object_set_new(o, "joins", joins))
        oom = true;
    if (o && c->m->view && c->m->view(fw, c, o))
        oom = true;
    if (oom) {
        json_decref(o);
        return cy_fw_nomem(err);
    }
    return cy_fw_dump(o, json, err);
}

/* ---- schemas, for clients ---------------------------------------------------------- */

static const char *const kind_names[] = {
    [CY_FK_TEXT] = "text",       [CY_FK_TIME] = "time",   [CY_FK_ENUM] = "enum",
    [CY_FK_TRUE] = "true",       [CY_FK_BOOL] = "bool",   [CY_FK_INT] = "int",
    [CY_FK_PARTIES] = "parties", [CY_FK_TEXTS] = "texts", [CY_FK_SHA256] = "sha256",
    [CY_FK_PARTY] = "party",     [CY_FK_FILES] = "files",
    [CY_FK_OBJECTS] = "objects"};

/* One field as field_check() reads it: the kind, whether required, and the
 * limits with their defaults filled in (bytes of a text; items of an
 * array; an integer's range; an enum's words).  NULL on OOM. */
static json_t *field_json(const cy_field *f)
{
    json_t *o = json_pack("{s:s, s:s, s:b}", "name", f->name, "kind",
                          kind_names[f->kind], "required", f->required);
    if (!o)
        return NULL;
    int bad = 0;
    switch (f->kind) {
    case CY_FK_TEXT:
        bad = json_object_set_new(o, "max", json_integer(f->max ? f->max : CY_CASE_TEXT_MAX));
        break;
    case CY_FK_INT:
        bad = json_object_set_new(o, "min", json_integer(f->min)) ||
              json_object_set_new(o, "max", json_integer(f->max));
        break;
    case CY_FK_PARTIES:
    case CY_FK_TEXTS:
        bad = json_object_set_new(o, "max", json_integer(f->max ? f->max
                                                : f->kind == CY_FK_PARTIES ? PARTIES_MAX_DEFAULT
                                                                           : TEXTS_MAX_DEFAULT)) ||
              json_object_set_new(o, "item_max", json_integer(f->kind == CY_FK_PARTIES
                                                                  ? COMITY_PARTY_MAX
                                                                  : CY_CASE_TEXT_MAX));
        break;
    case CY_FK_FILES:
        bad = json_object_set_new(o, "max", json_integer(f->max ? f->max : CY_CASE_FILES_MAX));
        break;
    case CY_FK_OBJECTS:
        bad = json_object_set_new(o, "max", json_integer(f->max ? f->max : CY_CASE_OBJECTS_MAX));
        break;
    case CY_FK_ENUM: {
        json_t *v = json_array();
        for (size_t i = 0; v && f->vocab[i]; i++)
            if (json_array_append_new(v, json_string(f->vocab[i])))
                json_decref(v), v = NULL;
        bad = json_object_set_new(o, "vocab", v);
        break;
    }
    default:
        break;
    }
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *type_json(const cy_case_type *t)
{
    json_t *fields = json_array();
    for (const cy_field *f = t->fields; fields && f->name; f++)
        if (json_array_append_new(fields, field_json(f)))
            json_decref(fields), fields = NULL;
    return fields ? json_pack("{s:s, s:o, s:b}", "name", t->name, "fields", fields,
                              "more_rules", t->check != NULL)
                  : NULL;
}

json_t *cy_case_schemas(const cy_mech *const *mechs, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++) {
        const cy_mech *m = mechs[i];
        json_t *types = json_array(), *states = json_array();
        for (size_t k = 0; types && k < m->ntypes; k++)
            if (json_array_append_new(types, type_json(&m->types[k])))
                json_decref(types), types = NULL;
        for (size_t k = 0; states && k < m->nstates; k++)
            if (json_array_append_new(states, json_pack("{s:s, s:b}", "name", m->states[k],
                                                        "open", (m->open_states & CY_BIT(k)) != 0)))
                json_decref(states), states = NULL;
        json_t *o = types && states
                        ? json_pack("{s:s, s:s, s:I, s:o, s:o}", "name", m->name, "opens",
                                    m->opens, "third_max", (json_int_t)m->third_max,
                                    "states", states, "types", types)
                        : NULL;
        if (!o) {
            json_decref(types);
            json_decref(states);
        }
        if (!o || json_array_append_new(a, o)) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

const char *comity_framework_default_tlp(const char *type)
{
    for (size_t k = 0; type && k < cy_case_ncore_types; k++)
        if (!strcmp(type, cy_case_core_types[k].name))
            return "amber";
    const cy_mech *m = cy_case_mech_in(cy_case_mechs, cy_case_nmechs, type, NULL);
    return m && !strcmp(m->opens, type) ? m->default_tlp : NULL;
}

/* ---- the descriptor ------------------------------------------------------------- */

const cy_fw_mech cy_fw_mech_cases = {
    .name = "cases",
    .types = CY_FW_BIT(CY_FW_CASE),
    .init = cases_init,
    .clear = cases_clear,
    .add = case_add,
};
