/*
 * actors.c: the vocabulary of threat actors that attribution claims name
 * (attribution.c), with every synonym resolving to its actor.
 *
 * Imported from a MISP galaxy cluster (../shared/data/galaxy/
 * threat-actor.json: 1,041 actors, each a `value` with `uuid`, and in
 * `meta` its `synonyms`, `country`, `cfr-suspected-state-sponsor` and
 * `name-attribution` entries "NAME:uuid", whose names are synonyms too),
 * and extended by attribution-actor records (one body: name, synonyms,
 * country), whose record id is the actor's id.  Lookups fold ASCII case;
 * a name that is a synonym of several actors resolves to all of them, in
 * import order, and the caller chooses.  The clients (CLI, browser) use
 * it before signing a claim: the node does not hold the galaxy, so a
 * sealed claim's actor is checked where it is written.
 *
 * Memory: one jansson object per actor and an index object from folded
 * name to actor numbers; caps below, refused by name.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "framework/core.h"

#define ACTORS_MAX 100000          /* actors in one vocabulary */
#define ACTOR_SYNONYMS_MAX 512     /* names of one actor */
#define ACTOR_NAME_MAX 256         /* bytes of a name */
#define ACTORS_JSON_MAX (64u << 20) /* bytes of an imported document */

struct comity_actors {
    json_t *list;  /* [{name, id, country, sponsor, synonyms, source}] */
    json_t *index; /* folded name -> [actor numbers] */
};

comity_err comity_actors_new(comity_actors **out, comity_error *err)
{
    *out = NULL;
    comity_actors *a = cy_calloc(1, sizeof *a);
    if (!a || !(a->list = json_array()) || !(a->index = json_object())) {
        comity_actors_free(a);
        return cy_fw_nomem(err);
    }
    *out = a;
    return COMITY_OK;
}

void comity_actors_free(comity_actors *a)
{
    if (!a)
        return;
    json_decref(a->list);
    json_decref(a->index);
    cy_free(a);
}

static void fold(const char *s, char *out)
{
    size_t i = 0;
    for (; s[i] && i < ACTOR_NAME_MAX; i++)
        out[i] = (char)tolower((unsigned char)s[i]);
    out[i] = 0;
}

static bool name_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > ACTOR_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20)
            return false;
    return true;
}

/* Adds `name` to the index for actor n (once per actor). */
static comity_err index_add(comity_actors *a, const char *name, size_t n, comity_error *err)
{
    char f[ACTOR_NAME_MAX + 1];
    fold(name, f);
    json_t *l = json_object_get(a->index, f);
    if (!l) {
        if (!(l = json_array()) || json_object_set_new(a->index, f, l))
            return cy_fw_nomem(err);
    }
    json_t *last = json_array_get(l, json_array_size(l) - 1);
    if (last && (size_t)json_integer_value(last) == n)
        return COMITY_OK;
    return json_array_append_new(l, json_integer((json_int_t)n)) ? cy_fw_nomem(err)
                                                                  : COMITY_OK;
}

/* One actor: name, id, and synonyms (a JSON array of strings, may be NULL;
 * strings not fit to be names are skipped), country and sponsor (may be
 * NULL). */
static comity_err add(comity_actors *a, const char *what, const char *name, const char *id,
                      const json_t *syn, const json_t *extra, const char *country,
                      const char *sponsor, const char *source, comity_error *err)
{
    if (!name_ok(name))
        return cy_fail(err, COMITY_ERR_INVALID, "actors: %s: want a name of 1-%d bytes",
                       what, ACTOR_NAME_MAX);
    if (json_array_size(a->list) >= ACTORS_MAX)
        return cy_fail(err, COMITY_ERR_TOOBIG, "actors: more than %d actors", ACTORS_MAX);
    if (json_array_size(syn) + json_array_size(extra) > ACTOR_SYNONYMS_MAX)
        return cy_fail(err, COMITY_ERR_TOOBIG, "actors: %s: more than %d synonyms", what,
                       ACTOR_SYNONYMS_MAX);
    size_t n = json_array_size(a->list);
    json_t *names = json_array();
    json_t *o = json_pack("{s:s, s:s?, s:s?, s:s?, s:s, s:o}", "name", name, "id", id,
                          "country", country, "sponsor", sponsor, "source", source,
                          "synonyms", names);
    if (!o || json_array_append_new(a->list, o))
        return cy_fw_nomem(err);
    comity_err rc = index_add(a, name, n, err);
    const json_t *lists[2] = {syn, extra};
    for (int k = 0; k < 2 && !rc; k++) {
        size_t i;
        json_t *s;
        json_array_foreach((json_t *)lists[k], i, s) {
            char buf[ACTOR_NAME_MAX + 1];
            const char *v = json_string_value(s);
            if (!v)
                continue;
            if (k == 1) { /* "NAME:uuid" */
                const char *colon = strrchr(v, ':');
                size_t len = colon ? (size_t)(colon - v) : strlen(v);
                if (len == 0 || len > ACTOR_NAME_MAX)
                    continue;
                memcpy(buf, v, len);
                buf[len] = 0;
                v = buf;
            }
            if (!name_ok(v) || !strcmp(v, name))
                continue;
            bool dup = false;
            size_t j;
            json_t *d;
            json_array_foreach(names, j, d) dup |= !strcmp(json_string_value(d), v);
            if (dup)
                continue;
            if (json_array_append_new(names, json_string(v)))
                rc = cy_fw_nomem(err);
            else
                rc = index_add(a, v, n, err);
            if (rc)
                break;
        }
    }
    return rc;
}

comity_err comity_actors_import(comity_actors *a, const char *json, size_t len,
                                const char *source, comity_error *err)
{
    if (!a || !json)
        return cy_fail(err, COMITY_ERR_USAGE, "actors: want a vocabulary and a document");
    if (len > ACTORS_JSON_MAX)
        return cy_fail(err, COMITY_ERR_TOOBIG, "actors: a document of more than %u bytes",
                       ACTORS_JSON_MAX);
    json_error_t je;
    json_t *j = json_loadb(json, len, 0, &je);
    if (!json_is_object(j)) {
        json_decref(j);
        return cy_fail(err, COMITY_ERR_INVALID,
                       "actors: want a JSON object (a galaxy cluster or an actor record's "
                       "body; line %d: %.80s)", je.line, je.text);
    }
    comity_err rc = COMITY_OK;
    json_t *values = json_object_get(j, "values");
    const char *src = source ? source : "galaxy";
    if (json_is_array(values)) {
        size_t i;
        json_t *v;
        json_array_foreach(values, i, v) {
            json_t *meta = json_object_get(v, "meta");
            char what[32];
            snprintf(what, sizeof what, "values[%zu]", i);
            if (!json_is_object(v)) {
                rc = cy_fail(err, COMITY_ERR_INVALID, "actors: %s: want an object", what);
                break;
            }
            if ((rc = add(a, what, json_string_value(json_object_get(v, "value")),
                          json_string_value(json_object_get(v, "uuid")),
                          json_object_get(meta, "synonyms"),
                          json_object_get(meta, "name-attribution"),
                          json_string_value(json_object_get(meta, "country")),
                          json_string_value(json_object_get(meta, "cfr-suspected-state-sponsor")),
                          src, err)))
                break;
        }
    } else if (json_object_get(j, "name")) {
        rc = add(a, "name", json_string_value(json_object_get(j, "name")), source,
                 json_object_get(j, "synonyms"), NULL,
                 json_string_value(json_object_get(j, "country")), NULL,
                 source ? "record" : "local", err);
    } else {
        rc = cy_fail(err, COMITY_ERR_INVALID,
                     "actors: want a galaxy cluster (\"values\") or an actor (\"name\")");
    }
    json_decref(j);
    return rc;
}

static bool contains_folded(const char *hay, const char *needle)
{
    char h[ACTOR_NAME_MAX + 1];
    fold(hay, h);
    return strstr(h, needle) != NULL;
}

comity_err comity_actors_find(const comity_actors *a, const char *query, int exact,
                              size_t max, char **json, comity_error *err)
{
    *json = NULL;
    if (!a || !query || !query[0] || strlen(query) > ACTOR_NAME_MAX)
        return cy_fail(err, COMITY_ERR_USAGE, "actors: want a name of 1-%d bytes",
                       ACTOR_NAME_MAX);
    char q[ACTOR_NAME_MAX + 1];
    fold(query, q);
    json_t *out = json_array();
    if (!out)
        return cy_fw_nomem(err);
    bool oom = false;
    size_t total = 0;
    if (exact) {
        size_t i;
        json_t *n;
        json_array_foreach(json_object_get(a->index, q), i, n) {
            total++;
            if (json_array_size(out) < max)
                oom |= json_array_append(out, json_array_get(a->list, (size_t)json_integer_value(n))) != 0;
        }
    } else {
        size_t i;
        json_t *o;
        json_array_foreach(a->list, i, o) {
            bool hit = contains_folded(json_string_value(json_object_get(o, "name")), q);
            size_t k;
            json_t *s;
            json_array_foreach(json_object_get(o, "synonyms"), k, s)
                hit |= contains_folded(json_string_value(s), q);
            if (!hit)
                continue;
            total++;
            if (json_array_size(out) < max)
                oom |= json_array_append(out, o) != 0;
        }
    }
    json_t *r = oom ? NULL
                    : json_pack("{s:s, s:b, s:I, s:I, s:o}", "query", query, "exact", exact != 0,
                                "count", (json_int_t)total, "known",
                                (json_int_t)json_array_size(a->list), "actors", out);
    if (!r) {
        if (oom)
            json_decref(out);
        return cy_fw_nomem(err);
    }
    return cy_fw_dump(r, json, err);
}
