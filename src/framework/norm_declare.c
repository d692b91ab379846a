/*
 * norm_declare.c: a state's declarations of what it holds protected: the
 * sectors of its critical infrastructure (the notification vocabulary's
 * sectors), named services if it chooses, and its CERTs/CSIRTs with their
 * status under norm 13(k); with validity dates and history.
 *
 * A norm-declaration is signed by an office of the declaring state.  Its
 * envelope says who may read it, the state's choice:
 *   public         tlp clear or green;
 *   participating  sealed (amber, amber+strict, red) to the participating
 *                  states the author names in `to`, its own state among
 *                  them (so that its offices can open it again);
 *   self           sealed to its own state alone (a dated, logged
 *                  declaration it can prove later, shown to no one).
 * A declaration with no refs starts a series; one whose refs[0] names the
 * current version of a series of the same state is its next version and
 * supersedes it (a series never forks; every version is kept).
 *
 * A state that joins later cannot open what was sealed before it joined.
 * The declaring state gives it a norm-reseal: the same body sealed again,
 * refs[0] the version it re-seals (a "participating" one of its own), `to`
 * every name of the version's `to` plus the newcomers.  A re-seal is no
 * new version: the query shows the version to the newcomer with the
 * re-seal as the record to open.  `comity norm declare --reseal ID --to
 * STATE...` does it (docs/norms.md).
 *
 * A node cannot open a sealed body: it keeps the envelope (who, when, to
 * whom, which series) and the party's own client, which opens the bodies,
 * shows the sectors, services and CERTs.  The query
 * (comity_framework_norm_declarations) lists to a viewer only what is
 * public or sealed to it; anything else does not show at all.
 */
#include <stdlib.h>
#include <string.h>

#include "framework/norms.h"

static const char *const cert_status[] = {"protected-13k", "not-claimed", NULL};

#define TIME(n, req) {n, CY_FK_TIME, req, NULL, 0, 0}
#define END {NULL, CY_FK_TEXT, false, NULL, 0, 0}

static const cy_field f_decl[] = {
    TIME("valid_from", true),
    TIME("valid_until", false),
    {"sectors", CY_FK_TEXTS, false, NULL, 0, 16},
    {"services", CY_FK_TEXTS, false, NULL, 0, 1024}, /* "sector/name" */
    {"certs", CY_FK_PARTIES, false, NULL, 0, 64},
    {"cert_status", CY_FK_ENUM, false, cert_status, 0, 0},
    {"note", CY_FK_TEXT, false, NULL, 0, CY_CASE_LONG_TEXT_MAX},
    END};

static comity_err check_decl(const char *t, const json_t *b, comity_error *err)
{
    comity_err rc;
    if (!json_object_get(b, "sectors") && !json_object_get(b, "services") &&
        !json_object_get(b, "certs"))
        return cy_fail(err, COMITY_ERR_INVALID,
                       "%s.body: want what is declared (sectors, services or certs)", t);
    if ((rc = cy_norm_check_sectors(t, b, "sectors", err)))
        return rc;
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(b, "services"), i, v) {
        const char *s = json_string_value(v), *slash = strchr(s, '/');
        char sec[64];
        size_t n = slash ? (size_t)(slash - s) : 0;
        if (n && n < sizeof sec)
            memcpy(sec, s, n);
        sec[n < sizeof sec ? n : 0] = 0;
        if (!slash || !slash[1] || !cy_fw_in_vocab(sec, cy_fw_sectors))
            return cy_fail(err, COMITY_ERR_INVALID,
                           "%s.body.services[%zu]: want \"SECTOR/name\" with a "
                           "sector of the notification vocabulary "
                           "(\"energy/National Grid Control Centre\")", t, i);
    }
    if (json_object_get(b, "certs") && !json_object_get(b, "cert_status"))
        return cy_fail(err, COMITY_ERR_INVALID,
                       "%s.body.cert_status: declared CERTs need their status "
                       "under 13(k) (protected-13k or not-claimed)", t);
    if (!json_object_get(b, "certs") && json_object_get(b, "cert_status"))
        return cy_fail(err, COMITY_ERR_INVALID,
                       "%s.body.cert_status: no certs to give a status to", t);
    int64_t from = cy_fw_time(json_string_value(json_object_get(b, "valid_from")));
    json_t *u = json_object_get(b, "valid_until");
    if (u && cy_fw_time(json_string_value(u)) <= from)
        return cy_fail(err, COMITY_ERR_INVALID,
                       "%s.body.valid_until: want a time after valid_from", t);
    return COMITY_OK;
}

const cy_case_type cy_norm_decl_type = {"norm-declaration", f_decl, check_decl};
const cy_case_type cy_norm_reseal_type = {"norm-reseal", f_decl, check_decl};

/* ---- helpers -------------------------------------------------------------------- */

/* Whether `to` (a JSON array of names) names `party`, or its bare state. */
static bool names(const json_t *to, const char *party)
{
    char st[COMITY_PARTY_MAX + 1];
    cy_fw_state_of(party, st);
    size_t i;
    json_t *v;
    json_array_foreach(to, i, v) {
        const char *s = json_string_value(v);
        if (!strcmp(s, party) || !strcmp(s, st))
            return true;
    }
    return false;
}

static const char *visibility(const cy_norm_decl *d)
{
    if (!d->sealed)
        return "public";
    for (size_t i = 0; i < json_array_size(d->to); i++) {
        char st[COMITY_PARTY_MAX + 1];
        if (strcmp(cy_fw_state_of(json_string_value(json_array_get(d->to, i)), st),
                   d->state) != 0)
            return "participating";
    }
    return "self";
}

static cy_norm_decl *decl_find(const struct cy_norms *n, const char *id)
{
    for (size_t i = n->nd; i-- > 0;)
        if (!strcmp(n->d[i].id, id))
            return &n->d[i];
    return NULL;
}

static json_t *to_json(const comity_record *rec)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < comity_record_to_count(rec); i++)
        if (json_array_append_new(a, json_string(comity_record_to(rec, i))))
            json_decref(a), a = NULL;
    return a;
}

static void decl_free(cy_norm_decl *d)
{
    cy_free(d->id);
    cy_free(d->author);
    cy_free(d->state);
    cy_free(d->series);
    cy_free(d->of);
    json_decref(d->to);
    json_decref(d->body);
}

/* ---- records ----------------------------------------------------------------------- */

comity_err cy_norm_decl_add(comity_framework *fw, const comity_record *rec,
                            const json_t *body, int64_t created, bool dry,
                            comity_error *err)
{
    struct cy_norms *n = fw->norms;
    const char *type = comity_record_type(rec), *author = comity_record_author(rec);
    bool reseal = !strcmp(type, cy_norm_reseal_type.name);
    bool sealed = comity_record_is_sealed(rec) != 0;
    char ast[COMITY_PARTY_MAX + 1];
    cy_fw_state_of(author, ast);
    json_t *to = to_json(rec);
    if (!to)
        return cy_fw_nomem(err);
    comity_err rc = COMITY_OK;
    const char *ref = comity_record_refs_count(rec) ? comity_record_ref(rec, 0) : NULL;
    cy_norm_decl *prev = ref ? decl_find(n, ref) : NULL;
    if (sealed && !names(to, ast)) {
        rc = cy_fail(err, COMITY_ERR_INVALID,
                     "%s.to: a sealed declaration must name its own state %s, so "
                     "that its offices can open it and re-seal it", type, ast);
        goto out;
    }
    if (body) {
        size_t i;
        json_t *v;
        json_array_foreach(json_object_get(body, "certs"), i, v) {
            char cst[COMITY_PARTY_MAX + 1];
            if (strcmp(cy_fw_state_of(json_string_value(v), cst), ast) != 0) {
                rc = cy_fail(err, COMITY_ERR_INVALID,
                             "%s.body.certs[%zu]: %s is not a team of %s: a state "
                             "declares its own CERTs", type, i, json_string_value(v), ast);
                goto out;
            }
        }
    }
    if (reseal) {
        if (!prev || prev->of || strcmp(prev->state, ast) != 0) {
            rc = cy_fail(err, COMITY_ERR_NOTFOUND,
                         "norm-reseal.refs[0]: want a declaration of %s to re-seal", ast);
            goto out;
        }
        if (!sealed || strcmp(visibility(prev), "participating") != 0) {
            rc = cy_fail(err, COMITY_ERR_INVALID,
                         "norm-reseal: re-sealing gives a declaration sealed to the "
                         "participating states to those that joined later: the "
                         "declaration %s and the re-seal must both be sealed to "
                         "other states than %s", prev->id, ast);
            goto out;
        }
        size_t i, added = 0;
        json_t *v;
        json_array_foreach(prev->to, i, v) {
            if (!names(to, json_string_value(v))) {
                rc = cy_fail(err, COMITY_ERR_INVALID,
                             "norm-reseal.to: must name %s too: a re-seal takes "
                             "no reader away", json_string_value(v));
                goto out;
            }
        }
        json_array_foreach(to, i, v) added += !names(prev->to, json_string_value(v));
        if (!added) {
            rc = cy_fail(err, COMITY_ERR_INVALID,
                         "norm-reseal.to: names no one the declaration was not "
                         "sealed to already");
            goto out;
        }
    } else if (ref && (!prev || prev->of || strcmp(prev->state, ast) != 0)) {
        rc = cy_fail(err, COMITY_ERR_NOTFOUND,
                     "norm-declaration.refs[0]: no declaration of %s %.100s to "
                     "supersede", ast, ref);
        goto out;
    } else if (prev && !prev->current) {
        rc = cy_fail(err, COMITY_ERR_CONFLICT,
                     "norm-declaration.refs[0]: %.100s was superseded already; "
                     "a new version names the current one", ref);
        goto out;
    }
    if (n->nd >= CY_NORM_DECLS_MAX) {
        rc = cy_fail(err, COMITY_ERR_TOOBIG,
                     "%s: a handle holds at most %d declaration records", type,
                     CY_NORM_DECLS_MAX);
        goto out;
    }
    if (dry)
        goto out;
    size_t pi = prev ? (size_t)(prev - n->d) : 0;
    if (cy_fw_grow((void **)&n->d, &n->capd, n->nd, sizeof *n->d)) {
        rc = cy_fw_nomem(err);
        goto out;
    }
    prev = prev ? &n->d[pi] : NULL; /* the array may have moved */
    cy_norm_decl d = {.id = cy_strdup(comity_record_id(rec)), .author = cy_strdup(author),
                      .state = cy_strdup(ast), .created = created, .sealed = sealed,
                      .current = !reseal, .to = to,
                      .body = body ? json_incref((json_t *)body) : NULL};
    to = NULL;
    d.series = cy_strdup(prev ? prev->series : d.id ? d.id : "");
    d.of = reseal ? cy_strdup(prev->id) : NULL;
    d.version = reseal ? 0 : prev ? prev->version + 1 : 1;
    if (!d.id || !d.author || !d.state || !d.series || (reseal && !d.of) ||
        json_object_set_new(fw->ids, d.id, json_integer(-1))) {
        decl_free(&d);
        rc = cy_fw_nomem(err);
        goto out;
    }
    if (prev && !reseal)
        prev->current = false;
    n->d[n->nd++] = d;
out:
    json_decref(to);
    return rc;
}

void cy_norm_declare_clear(struct cy_norms *n)
{
    for (size_t i = 0; i < n->nd; i++)
        decl_free(&n->d[i]);
    cy_free(n->d);
    n->d = NULL;
    n->nd = n->capd = 0;
}

/* ---- the query ------------------------------------------------------------------------ */

/* The record through which `viewer` may read version d (d itself, or a
 * re-seal naming it), or NULL: it may not see it.  NULL viewer: the
 * operator, who sees every envelope. */
static const cy_norm_decl *readable_as(const struct cy_norms *n, const cy_norm_decl *d,
                                       const char *viewer)
{
    char st[COMITY_PARTY_MAX + 1];
    if (!viewer || !d->sealed || names(d->to, viewer) ||
        !strcmp(cy_fw_state_of(viewer, st), d->state))
        return d;
    for (size_t i = 0; i < n->nd; i++)
        if (n->d[i].of && !strcmp(n->d[i].of, d->id) && names(n->d[i].to, viewer))
            return &n->d[i];
    return NULL;
}

static json_t *version_json(const struct cy_norms *n, const cy_norm_decl *d,
                            const cy_norm_decl *via, int64_t at)
{
    json_t *reseals = json_array();
    for (size_t i = 0; reseals && i < n->nd; i++)
        if (n->d[i].of && !strcmp(n->d[i].of, d->id) &&
            json_array_append_new(reseals,
                                  json_pack("{s:s, s:o, s:O}", "record", n->d[i].id,
                                            "created", cy_fw_time_json(n->d[i].created),
                                            "to", n->d[i].to)))
            json_decref(reseals), reseals = NULL;
    const json_t *b = d->body ? d->body : via->body;
    json_t *in_force = json_null();
    if (b) {
        int64_t from = cy_fw_time(json_string_value(json_object_get(b, "valid_from")));
        json_t *u = json_object_get(b, "valid_until");
        int64_t until = u ? cy_fw_time(json_string_value(u)) : -1;
        in_force = json_boolean(d->current && from <= at && (until < 0 || at < until));
    }
    return json_pack("{s:s, s:s, s:i, s:b, s:s, s:s, s:s, s:o, s:O, s:s, s:O, s:o, s:o}",
                     "record", d->id, "series", d->series, "version", d->version,
                     "current", d->current, "state", d->state, "author", d->author,
                     "visibility", visibility(d), "created", cy_fw_time_json(d->created),
                     "to", d->to, "open_with", via->id, "body", b ? b : json_null(),
                     "in_force", in_force, "reseals", reseals);
}

comity_err comity_framework_norm_declarations(const comity_framework *fw, const char *state,
                                              const char *viewer, int64_t at, char **json,
                                              comity_error *err)
{
    *json = NULL;
    const struct cy_norms *n = fw->norms;
    json_t *a = json_array();
    bool oom = !a;
    for (size_t i = 0; !oom && i < n->nd; i++) {
        const cy_norm_decl *d = &n->d[i];
        if (d->of || (state && strcmp(d->state, state) != 0))
            continue;
        const cy_norm_decl *via = readable_as(n, d, viewer);
        if (via)
            oom = json_array_append_new(a, version_json(n, d, via, at)) != 0;
    }
    if (oom) {
        json_decref(a);
        return cy_fw_nomem(err);
    }
    return cy_fw_dump(json_pack("{s:s?, s:o, s:o}", "state", state, "at", cy_fw_time_json(at),
                                "declarations", a),
                      json, err);
}
