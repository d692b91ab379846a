/*
 * retention.c: how long a closed case's evidence files are kept, what is
 * due for destruction, and the destruction records that say what went when
 * (Second Protocol Arts 13-14: personal data kept only as long as
 * necessary, and records kept of what was done with it).
 *
 * Each kind of case has a retention period counted from its closing (the
 * created time of the record that took it out of its open states):
 * consultation, preservation, disclosure (a preservation case whose
 * traffic data was disclosed, Budapest Art. 30), mla, emergency.  The
 * periods are the handle's settings (comity_framework_set_retention; a
 * node takes them from node.conf), with defaults that are this project's
 * choice, not law (docs/framework.md, "Retention").
 *
 * comity_framework_retention_due(now) lists the closed cases whose period
 * has run out (due when now >= closed + period) and that the custodian has
 * not yet recorded as destroyed, with the files they refer to: those named
 * by readable bodies (their `files`, or the legacy sha256 and size) and by
 * custody records, and those the node's file store holds attached to the
 * case's records (a sealed body hides its references from the node; the
 * upload names the record).  Given the store's list, only files it holds
 * are due, and a case with none is listed apart ("nothing").  A file that
 * another case still keeps (open, or closed and not due) is listed as
 * kept, not due: the store is content-addressed and one file may serve two
 * cases.
 *
 * An `evidence-destruction` record (refs[0] the case, to every party of
 * it, sealed when the case is) lists the destroyed files (hash, size,
 * name), why (retention, court-order, request, other) and, for retention,
 * the rule ("retention.mla = 5y").  It may come only once the case is
 * closed, from a party of the case (its own copies) or from the node's
 * custodian (comity_framework_set_custodian): the party whose key the node
 * signs its destruction records with.  Acceptance never depends on the
 * periods (two nodes with other settings accept the same records); only
 * what is *due* does.  The destroyed files are remembered by hash, so that
 * a party asking for one learns when and by which record it went
 * (comity_framework_destroyed) instead of "not found".
 */
#include <stdlib.h>
#include <string.h>

#include "framework/custody.h"

#define DAY_MS (24 * HOUR_MS)
#define YEAR_MS (365 * DAY_MS)
#define RETENTION_YEARS_MAX 100

enum { K_CONSULTATION, K_PRESERVATION, K_DISCLOSURE, K_MLA, K_EMERGENCY, K_COUNT };
static const char *const kind_names[K_COUNT] = {"consultation", "preservation",
                                                "disclosure", "mla", "emergency"};
/* Defaults in years (docs/framework.md gives the reasons). */
static const int default_years[K_COUNT] = {10, 1, 2, 5, 2};

static const char *const reasons[] = {"retention", "court-order", "request", "other",
                                      NULL};

typedef struct destruction {
    char *id, *author;
    int64_t created;
    const cy_case *c;  /* borrowed */
    bool custodian;    /* written by the node's custodian */
} destruction;

struct cy_retention {
    int64_t ms[K_COUNT];
    char text[K_COUNT][32]; /* the period as configured ("5y") */
    char custodian[COMITY_PARTY_MAX + 1];
    destruction *d;
    size_t n, cap;
    json_t *destroyed; /* sha256 -> [{"at","record","case"}] */
};

/* ---- the type -------------------------------------------------------------------- */

static comity_err check_destruction(const char *t, const json_t *b, comity_error *err)
{
    const char *r = json_string_value(json_object_get(b, "reason"));
    if (r && !strcmp(r, "retention") && !json_object_get(b, "rule"))
        return cy_fail(err, COMITY_ERR_INVALID,
                       "%s.body.rule: missing (a retention destruction names its rule, "
                       "like \"retention.mla = 5y\")", t);
    return COMITY_OK;
}

static const cy_field f_destruction[] = {
    {"reason", CY_FK_ENUM, true, reasons, 0, 0},
    {"rule", CY_FK_TEXT, false, NULL, 0, 256},
    {"closed", CY_FK_TIME, false, NULL, 0, 0},
    {"files", CY_FK_FILES, true, NULL, 0, CY_DESTRUCTION_FILES_MAX},
    {"note", CY_FK_TEXT, false, NULL, 0, 0},
    {NULL, CY_FK_TEXT, false, NULL, 0, 0}};

const cy_case_type cy_destruction_type = {"evidence-destruction", f_destruction,
                                          check_destruction};

/* ---- settings -------------------------------------------------------------------- */

static int kind_index(const char *name)
{
    for (int k = 0; k < K_COUNT; k++)
        if (name && !strcmp(name, kind_names[k]))
            return k;
    return -1;
}

static comity_err retention_init(comity_framework *fw, comity_error *err)
{
    struct cy_retention *r = cy_calloc(1, sizeof *r);
    if (!r || !(r->destroyed = json_object())) {
        cy_free(r);
        return cy_fw_nomem(err);
    }
    for (int k = 0; k < K_COUNT; k++) {
        r->ms[k] = default_years[k] * YEAR_MS;
        snprintf(r->text[k], sizeof r->text[k], "%dy", default_years[k]);
    }
    fw->retention = r;
    return COMITY_OK;
}

static void retention_clear(comity_framework *fw)
{
    struct cy_retention *r = fw->retention;
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++) {
        cy_free(r->d[i].id);
        cy_free(r->d[i].author);
    }
    cy_free(r->d);
    json_decref(r->destroyed);
    cy_free(r);
    fw->retention = NULL;
}

/* "5y" (years of 365 days, 1-100) or a duration ("90d", "36h", "30s"). */
static int64_t period_ms(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n >= 2 && n <= 4 && s[n - 1] == 'y') {
        int y = 0;
        for (size_t i = 0; i + 1 < n; i++) {
            if (s[i] < '0' || s[i] > '9')
                return -1;
            y = y * 10 + (s[i] - '0');
        }
        return y >= 1 && y <= RETENTION_YEARS_MAX ? y * YEAR_MS : -1;
    }
    int64_t ms;
    if (!s || comity_duration_parse(s, &ms, NULL) || ms <= 0)
        return -1;
    return ms;
}

comity_err comity_framework_set_retention(comity_framework *fw, const char *kind,
                                          const char *period, comity_error *err)
{
    int k = kind_index(kind);
    if (k < 0)
        return cy_fail(err, COMITY_ERR_USAGE,
                       "framework: retention kind \"%.32s\": want consultation, "
                       "preservation, disclosure, mla or emergency",
                       kind ? kind : "(null)");
    int64_t ms = period_ms(period);
    if (ms < 0 || strlen(period) >= sizeof fw->retention->text[k])
        return cy_fail(err, COMITY_ERR_USAGE,
                       "framework: retention.%s \"%.32s\": want years (1y-%dy) or a "
                       "duration (90d, 36h, 30s)", kind, period ? period : "(null)",
                       RETENTION_YEARS_MAX);
    fw->retention->ms[k] = ms;
    snprintf(fw->retention->text[k], sizeof fw->retention->text[k], "%s", period);
    return COMITY_OK;
}

comity_err comity_framework_set_custodian(comity_framework *fw, const char *party,
                                          comity_error *err)
{
    if (!party || !comity_party_valid(party, err))
        return party ? cy_wrap(err, "framework: custodian")
                     : cy_fail(err, COMITY_ERR_USAGE, "framework: custodian: want a party");
    snprintf(fw->retention->custodian, sizeof fw->retention->custodian, "%s", party);
    return COMITY_OK;
}

/* ---- records --------------------------------------------------------------------- */

static comity_err destruction_add(comity_framework *fw, enum cy_fw_type ft,
                                  const comity_record *rec, json_t *body,
                                  int64_t created, bool dry, comity_error *err)
{
    (void)ft;
    struct cy_retention *r = fw->retention;
    const char *type = cy_destruction_type.name, *author = comity_record_author(rec);
    comity_err rc;
    if (body && (rc = cy_case_check_body(&cy_destruction_type, body, err)))
        return rc;
    bool custodian = r->custodian[0] && !strcmp(r->custodian, author);
    cy_case *c = NULL;
    if ((rc = cy_case_envelope(fw, type, rec, created, custodian, &c, err)))
        return rc;
    if (cy_case_is_open(c))
        return cy_fail(err, COMITY_ERR_CONFLICT,
                       "%s: case %s is %s, still open; its evidence is kept while it is "
                       "open, and retention runs from its closing", type, c->id,
                       c->m->states[c->state]);
    if (created < c->closed)
        return cy_fail(err, COMITY_ERR_INVALID,
                       "%s.created: before case %s was closed", type, c->id);
    if (dry)
        return COMITY_OK;
    /* what may fail first; the index last, undone on failure */
    if (cy_fw_grow((void **)&r->d, &r->cap, r->n, sizeof *r->d))
        return cy_fw_nomem(err);
    destruction d = {cy_strdup(comity_record_id(rec)), cy_strdup(author), created, c,
                     custodian};
    json_t *added = json_array(); /* sha256s whose list grew */
    bool oom = !d.id || !d.author || !added ||
               json_object_set_new(fw->ids, d.id, json_integer(-1));
    size_t i;
    json_t *f;
    json_array_foreach(oom || !body ? NULL : json_object_get(body, "files"), i, f) {
        const char *h = json_string_value(json_object_get(f, "sha256"));
        json_t *l = json_object_get(r->destroyed, h);
        if (!l && (!(l = json_array()) || json_object_set_new(r->destroyed, h, l))) {
            oom = true;
            break;
        }
        json_t *o = json_pack("{s:o, s:s, s:s, s:b}", "at", cy_fw_time_json(created),
                              "record", d.id, "case", c->id, "custodian", custodian);
        if (!o || json_array_append_new(l, o) || json_array_append_new(added, json_string(h))) {
            oom = true;
            break;
        }
    }
    /* the chains of custody end with it (custody.c): the last thing that
     * may fail */
    if (!oom && cy_custody_append(fw, c, rec, body, created, err) == COMITY_OK) {
        json_decref(added);
        r->d[r->n++] = d;
        return COMITY_OK;
    }
    json_array_foreach(added, i, f) { /* undone: the handle as it was */
        json_t *l = json_object_get(r->destroyed, json_string_value(f));
        json_array_remove(l, json_array_size(l) - 1);
        if (!json_array_size(l))
            json_object_del(r->destroyed, json_string_value(f));
    }
    if (d.id)
        json_object_del(fw->ids, d.id);
    cy_free(d.id);
    cy_free(d.author);
    json_decref(added);
    return cy_fw_nomem(err);
}

const cy_fw_mech cy_fw_mech_retention = {
    .name = "retention",
    .types = CY_FW_BIT(CY_FW_DESTRUCTION),
    .init = retention_init,
    .clear = retention_clear,
    .add = destruction_add,
};

/* ---- queries --------------------------------------------------------------------- */

static int kind_of(const cy_case *c)
{
    int k = kind_index(c->m->name);
    if (k == K_PRESERVATION && json_object_get(c->facts, "disclosed"))
        return K_DISCLOSURE;
    return k;
}

/* Whether the custodian recorded the case's destruction. */
static bool destroyed_by_custodian(const struct cy_retention *r, const cy_case *c)
{
    for (size_t i = 0; i < r->n; i++)
        if (r->d[i].c == c && r->d[i].custodian)
            return true;
    return false;
}

/* The files case c refers to (object sha256 -> reference), new: those its
 * readable bodies and custody records name, and those the store has
 * attached to its records (`att`: case id -> such an object; may be
 * NULL). */
static json_t *case_files(const comity_framework *fw, const cy_case *c, const json_t *att)
{
    json_t *files = json_object();
    for (size_t i = 0; files && i < c->ne; i++)
        if (cy_fw_body_files(c->e[i].body, files)) {
            json_decref(files);
            return NULL;
        }
    if (files && cy_custody_files(fw, c, files)) {
        json_decref(files);
        return NULL;
    }
    const char *h;
    json_t *v;
    json_object_foreach(files ? json_object_get(att, c->id) : NULL, h, v) {
        if (!json_object_get(files, h) && json_object_set(files, h, v)) {
            json_decref(files);
            return NULL;
        }
    }
    return files;
}

/* -1: open; else when its retention runs out (-2: a kind without one). */
static int64_t due_at(const struct cy_retention *r, const cy_case *c)
{
    if (c->closed < 0 || cy_case_is_open(c))
        return -1;
    int k = kind_of(c);
    return k < 0 ? -2 : c->closed + r->ms[k];
}

/* The store's files by case: case id -> {sha256 -> {sha256, size}}, new;
 * the set of stored hashes into *stored (new). */
static json_t *attached_by_case(const comity_framework *fw, const comity_file_stored *sf,
                                size_t n, json_t **stored)
{
    json_t *att = json_object();
    *stored = json_object();
    bool oom = !att || !*stored;
    for (size_t i = 0; !oom && i < n; i++) {
        if (!sf[i].sha256 || json_object_set_new(*stored, sf[i].sha256, json_true())) {
            oom = !!sf[i].sha256;
            continue;
        }
        for (size_t k = 0; !oom && k < sf[i].nrecords; k++) {
            const cy_case *c = sf[i].records[k] ? cy_case_of_record(fw, sf[i].records[k], NULL)
                                                : NULL;
            if (!c)
                continue;
            json_t *m = json_object_get(att, c->id);
            if (!m && (!(m = json_object()) || json_object_set_new(att, c->id, m))) {
                oom = true;
                break;
            }
            json_t *o = json_pack("{s:s, s:I}", "sha256", sf[i].sha256, "size",
                                  (json_int_t)sf[i].size);
            oom = !o || json_object_set_new(m, sf[i].sha256, o);
        }
    }
    if (oom) {
        json_decref(att);
        json_decref(*stored);
        *stored = NULL;
        return NULL;
    }
    return att;
}

comity_err comity_framework_retention_due(const comity_framework *fw, int64_t now_ms,
                                          const comity_file_stored *store, size_t nstore,
                                          char **json, comity_error *err)
{
    *json = NULL;
    const cy_cases *cs = fw->cases;
    const struct cy_retention *r = fw->retention;
    json_t *stored = NULL, *att = store ? attached_by_case(fw, store, nstore, &stored) : NULL;
    /* first: every file a case still keeps (open, or not yet due) */
    json_t *kept = json_object(), *due = json_array(), *pending = json_array(),
           *nothing = json_array();
    bool oom = !kept || !due || !pending || !nothing || (store && !att);
    for (size_t i = 0; !oom && i < cs->n; i++) {
        const cy_case *c = cs->c[i];
        int64_t at = due_at(r, c);
        if (at != -1 && at != -2 && now_ms >= at)
            continue;
        json_t *files = case_files(fw, c, att);
        const char *h;
        json_t *v;
        oom = !files;
        json_object_foreach(files, h, v) {
            if (!json_object_get(kept, h) && json_object_set_new(kept, h, json_string(c->id)))
                oom = true;
        }
        json_decref(files);
    }
    int64_t next = -1;
    for (size_t i = 0; !oom && i < cs->n; i++) {
        const cy_case *c = cs->c[i];
        int64_t at = due_at(r, c);
        if (at < 0 || destroyed_by_custodian(r, c))
            continue;
        int k = kind_of(c);
        char rule[64];
        snprintf(rule, sizeof rule, "retention.%s = %s", kind_names[k], r->text[k]);
        if (now_ms < at) {
            if (next < 0 || at < next)
                next = at;
            json_t *o = json_pack("{s:s, s:s, s:o, s:s, s:o}", "case", c->id, "kind",
                                  kind_names[k], "closed", cy_fw_time_json(c->closed),
                                  "rule", rule, "due", cy_fw_time_json(at));
            oom = !o || json_array_append_new(pending, o);
            continue;
        }
        json_t *files = case_files(fw, c, att), *fa = json_array(), *ka = json_array(),
               *parties = json_array();
        oom = !files || !fa || !ka || !parties;
        const char *h;
        json_t *v;
        json_object_foreach(oom ? NULL : files, h, v) {
            json_t *by = json_object_get(kept, h);
            if (!by && stored && !json_object_get(stored, h))
                continue; /* not held by this store: nothing to destroy */
            json_t *o = by ? json_pack("{s:s, s:s}", "sha256", h, "kept_by",
                                       json_string_value(by))
                           : json_incref(v);
            if (!o || json_array_append_new(by ? ka : fa, o))
                oom = true;
        }
        for (size_t p = 0; !oom && p < c->nparties; p++)
            oom = json_array_append_new(parties, json_string(c->parties[p])) != 0;
        json_t *o = oom ? NULL
                        : json_pack("{s:s, s:s, s:s, s:o, s:s, s:I, s:o, s:O, s:b, s:O, s:O}",
                                    "case", c->id, "mechanism", c->m->name, "kind",
                                    kind_names[k], "closed", cy_fw_time_json(c->closed),
                                    "rule", rule, "retention_ms", (json_int_t)r->ms[k],
                                    "due", cy_fw_time_json(at), "parties", parties,
                                    "sealed", c->sealed, "files", fa, "kept", ka);
        /* a case with nothing to destroy (here) is listed apart */
        bool none = json_array_size(fa) == 0;
        json_decref(files);
        json_decref(fa);
        json_decref(ka);
        json_decref(parties);
        oom = oom || !o || json_array_append_new(none ? nothing : due, o);
    }
    /* stored files the custodian recorded destroyed, that no case keeps:
     * what a crash between the record and the destruction left */
    json_t *left = json_array();
    const char *h;
    json_t *v;
    oom = oom || !left;
    json_object_foreach(oom ? NULL : stored, h, v) {
        json_t *l = json_object_get(r->destroyed, h), *x;
        size_t i;
        bool by = false;
        json_array_foreach(l, i, x)
            by |= json_is_true(json_object_get(x, "custodian"));
        if (by && !json_object_get(kept, h) && json_array_append_new(left, json_string(h)))
            oom = true;
    }
    json_decref(kept);
    json_decref(att);
    json_decref(stored);
    json_t *o = NULL;
    if (!oom)
        o = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o}", "now", cy_fw_time_json(now_ms), "due",
                      due, "nothing", nothing, "pending", pending, "leftover", left, "next",
                      cy_fw_time_json(next));
    else {
        json_decref(due);
        json_decref(pending);
        json_decref(nothing);
        json_decref(left);
    }
    if (!o)
        return cy_fw_nomem(err);
    return cy_fw_dump(o, json, err);
}

comity_err comity_framework_destroyed(const comity_framework *fw, const char *sha256,
                                      const char *party, char **json, comity_error *err)
{
    *json = NULL;
    const json_t *l = sha256 ? json_object_get(fw->retention->destroyed, sha256) : NULL;
    size_t i;
    json_t *d;
    json_array_foreach(l, i, d) {
        const cy_case *c = cy_case_find(fw, json_string_value(json_object_get(d, "case")));
        if (party && (!c || !cy_case_roles(c, party)))
            continue;
        json_t *o = json_pack("{s:s, s:O, s:O, s:O, s:O?}", "sha256", sha256, "destroyed",
                              json_object_get(d, "at"), "record",
                              json_object_get(d, "record"), "case",
                              json_object_get(d, "case"), "custodian",
                              json_object_get(d, "custodian"));
        if (!o)
            return cy_fw_nomem(err);
        return cy_fw_dump(o, json, err);
    }
    return cy_fail(err, COMITY_ERR_NOTFOUND, "destroyed: no record of %.64s being destroyed%s%.64s",
                   sha256 ? sha256 : "(null)", party ? " in a case of " : "",
                   party ? party : "");
}
