/*
 * bundle.c: reads a STIX 2.1 bundle with jansson and lists its indicators,
 * each with its pattern parsed by pattern.c (see bundle.h for what is
 * tolerated and what is refused).
 *
 * Three passes over "objects": the first indexes every object by id (a
 * jansson object used as a hash table) and counts types; the second walks
 * relationships, counting refs to missing objects and noting which object
 * each indicator "indicates"; the third builds the indicator list, keeping
 * the newest version of a repeated id.  Strings in the list are borrowed
 * from the jansson tree, which the bundle keeps alive until cy_bundle_free.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "stix/bundle.h"

struct entry {
    cy_indicator ind;   /* first: cy_bundle_get hands out &entry->ind */
    cy_pattern *pattern; /* owned */
    char *reason;        /* owned when formatted, else NULL */
};

struct cy_bundle {
    json_t *root;        /* owned reference */
    json_t *indicates;   /* owned: indicator id -> what it indicates */
    const char *id;
    struct entry *entries;
    size_t n;
    cy_bundle_stats st;
};

static const char *const known_types[] = {
    /* SDOs */
    "attack-pattern", "campaign", "course-of-action", "grouping", "identity",
    "incident", "indicator", "infrastructure", "intrusion-set", "location",
    "malware", "malware-analysis", "note", "observed-data", "opinion",
    "report", "threat-actor", "tool", "vulnerability",
    /* SROs */
    "relationship", "sighting",
    /* SCOs */
    "artifact", "autonomous-system", "directory", "domain-name", "email-addr",
    "email-message", "file", "ipv4-addr", "ipv6-addr", "mac-addr", "mutex",
    "network-traffic", "process", "software", "url", "user-account",
    "windows-registry-key", "x509-certificate",
    /* meta objects */
    "language-content", "marking-definition", "extension-definition",
};

bool cy_stix_type_known(const char *type)
{
    for (size_t i = 0; i < CY_ARRAY_LEN(known_types); i++)
        if (strcmp(type, known_types[i]) == 0)
            return true;
    return false;
}

static const char *str_field(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static void entry_clear(struct entry *e)
{
    cy_pattern_free(e->pattern);
    cy_free(e->reason);
    memset(e, 0, sizeof *e);
}

void cy_bundle_free(cy_bundle *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < b->n; i++)
        entry_clear(&b->entries[i]);
    cy_free(b->entries);
    json_decref(b->indicates);
    json_decref(b->root);
    cy_free(b);
}

const char *cy_bundle_id(const cy_bundle *b) { return b->id; }
size_t cy_bundle_count(const cy_bundle *b) { return b->n; }
const cy_indicator *cy_bundle_get(const cy_bundle *b, size_t i)
{
    return i < b->n ? &b->entries[i].ind : NULL;
}
const cy_bundle_stats *cy_bundle_stats_get(const cy_bundle *b) { return &b->st; }

/* Milliseconds of an optional RFC 3339 field; false when present but bad. */
static bool time_field(const char *s, int64_t absent, int64_t *ms)
{
    *ms = absent;
    if (!s)
        return true;
    return cy_time_parse(s, strlen(s), false, ms, NULL) == COMITY_OK;
}

/* Fills e from the indicator object o (index i); false only on OOM. */
static bool fill_entry(struct entry *e, const json_t *o, size_t i,
                       const json_t *indicates)
{
    cy_indicator *ind = &e->ind;
    ind->index = i;
    ind->id = str_field(o, "id");
    ind->name = str_field(o, "name");
    ind->pattern_text = str_field(o, "pattern");
    ind->pattern_type = str_field(o, "pattern_type");
    if (!ind->pattern_type)
        ind->pattern_type = "stix"; /* STIX 2.0 indicators have no type */
    ind->pattern_version = str_field(o, "pattern_version");
    ind->valid_from = str_field(o, "valid_from");
    ind->valid_until = str_field(o, "valid_until");
    ind->modified = str_field(o, "modified");
    ind->indicates = json_string_value(json_object_get(indicates, ind->id));

    bool from_ok = time_field(ind->valid_from, INT64_MIN, &ind->valid_from_ms);
    bool until_ok = time_field(ind->valid_until, INT64_MAX, &ind->valid_until_ms);
    const json_t *revoked = json_object_get(o, "revoked");
    if (json_is_true(revoked)) {
        ind->skip_reason = "revoked";
    } else if (!ind->pattern_text) {
        ind->skip_reason = "no pattern";
    } else if (strcmp(ind->pattern_type, "stix") != 0) {
        /* quote at most 64 bytes, cut on a UTF-8 character boundary */
        const char *pt = ind->pattern_type;
        size_t show = strlen(pt);
        if (show > 64) {
            show = 64;
            while (show > 0 && ((unsigned char)pt[show] & 0xC0) == 0x80)
                show--;
        }
        size_t n = show + 40;
        e->reason = cy_malloc(n);
        if (!e->reason)
            return false;
        snprintf(e->reason, n, "pattern_type '%.*s' is not STIX", (int)show, pt);
        ind->skip_reason = e->reason;
    } else if (!from_ok) {
        ind->skip_reason = "valid_from: not RFC 3339";
    } else if (!until_ok) {
        ind->skip_reason = "valid_until: not RFC 3339";
    } else if (ind->valid_from && ind->valid_until &&
               ind->valid_until_ms <= ind->valid_from_ms) {
        ind->skip_reason = "valid_until is not after valid_from";
    } else {
        comity_error perr = {0};
        size_t len = json_string_length(json_object_get(o, "pattern"));
        comity_err rc = cy_pattern_parse(ind->pattern_text, len, &e->pattern,
                                         NULL, &perr);
        if (rc == COMITY_ERR_NOMEM)
            return false;
        if (rc != COMITY_OK) {
            e->reason = cy_strdup(perr.msg);
            if (!e->reason)
                return false;
            ind->skip_reason = e->reason;
        }
        ind->pattern = e->pattern;
    }
    return true;
}

/* Collects "objects" from the top level: a bundle, a TAXII envelope or a
 * single object.  Sets *single for the last case. */
static comity_err top_objects(cy_bundle *b, json_t **objs, bool *single,
                              comity_error *err)
{
    *single = false;
    if (!json_is_object(b->root))
        return cy_fail(err, COMITY_ERR_INVALID,
                       "bundle: top level is not a JSON object");
    const char *type = str_field(b->root, "type");
    json_t *list = json_object_get(b->root, "objects");
    if (type && strcmp(type, "bundle") == 0) {
        b->id = str_field(b->root, "id");
        if (!list) {
            *objs = NULL; /* "objects" is optional: an empty bundle */
            return COMITY_OK;
        }
    } else if (!type && list) {
        /* TAXII envelope */
    } else if (type && str_field(b->root, "id")) {
        *objs = b->root;
        *single = true;
        return COMITY_OK;
    } else {
        return cy_fail(err, COMITY_ERR_INVALID,
                       "bundle: top level is not a STIX bundle (type %s%.40s%s)",
                       type ? "'" : "", type ? type : "missing", type ? "'" : "");
    }
    if (!json_is_array(list))
        return cy_fail(err, COMITY_ERR_INVALID, "bundle: \"objects\" is not an array");
    if (json_array_size(list) > CY_BUNDLE_MAX_OBJECTS)
        return cy_fail(err, COMITY_ERR_TOOBIG,
                       "bundle: %zu objects, more than the %u allowed",
                       json_array_size(list), CY_BUNDLE_MAX_OBJECTS);
    *objs = list;
    return COMITY_OK;
}

comity_err cy_bundle_parse(const char *json, size_t len, cy_bundle **out,
                           comity_error *err)
{
    *out = NULL;
    if (len > CY_BUNDLE_MAX)
        return cy_fail(err, COMITY_ERR_TOOBIG,
                       "bundle: %zu bytes, more than the %u allowed", len,
                       CY_BUNDLE_MAX);
    cy_bundle *b = cy_calloc(1, sizeof *b);
    if (!b)
        return cy_fail(err, COMITY_ERR_NOMEM, "bundle: out of memory");
    comity_err rc = COMITY_OK;
    json_t *ids = NULL, *indicates = NULL, *kept = NULL, *patterns = NULL;
    /* indicates outlives the parse: the indicators borrow its strings */
    json_error_t jerr;
    b->root = json_loadb(json, len, 0, &jerr);
    if (!b->root) {
        rc = cy_fail(err, COMITY_ERR_INVALID,
                     "bundle: JSON error at line %d, column %d (byte %d): %s",
                     jerr.line, jerr.column, jerr.position, jerr.text);
        goto done;
    }
    json_t *list = NULL;
    bool single = false;
    rc = top_objects(b, &list, &single, err);
    if (rc != COMITY_OK)
        goto done;
    size_t count = single ? 1 : json_array_size(list);
    ids = json_object();
    indicates = b->indicates = json_object();
    kept = json_object();
    patterns = json_object();
    if (!ids || !indicates || !kept || !patterns)
        goto oom;

    /* pass 1: index objects by id, count types */
    size_t nind = 0;
    for (size_t i = 0; i < count; i++) {
        json_t *o = single ? list : json_array_get(list, i);
        const char *type = str_field(o, "type"), *id = str_field(o, "id");
        b->st.objects++;
        if (!type || !id) {
            b->st.invalid_objects++;
            continue;
        }
        if (json_object_set(ids, id, o))
            goto oom;
        if (!cy_stix_type_known(type))
            b->st.unknown_types++;
        if (strcmp(type, "indicator") == 0)
            nind++;
    }

    /* pass 2: relationships */
    for (size_t i = 0; i < count; i++) {
        json_t *o = single ? list : json_array_get(list, i);
        const char *type = str_field(o, "type");
        if (!type || strcmp(type, "relationship") != 0 || !str_field(o, "id"))
            continue;
        b->st.relationships++;
        const char *src = str_field(o, "source_ref"), *dst = str_field(o, "target_ref");
        json_t *so = src ? json_object_get(ids, src) : NULL;
        json_t *to = dst ? json_object_get(ids, dst) : NULL;
        b->st.dangling_refs += !so + !to;
        const char *rt = str_field(o, "relationship_type");
        if (src && dst && rt && strcmp(rt, "indicates") == 0 &&
            strncmp(src, "indicator--", 11) == 0 && !json_object_get(indicates, src)) {
            const char *what = to && str_field(to, "name") ? str_field(to, "name") : dst;
            if (json_object_set_new(indicates, src, json_string(what)))
                goto oom;
        }
    }

    /* pass 3: indicators */
    if (nind) {
        b->entries = cy_calloc(nind, sizeof *b->entries);
        if (!b->entries)
            goto oom;
    }
    for (size_t i = 0; i < count; i++) {
        json_t *o = single ? list : json_array_get(list, i);
        const char *type = str_field(o, "type"), *id = str_field(o, "id");
        if (!type || !id || strcmp(type, "indicator") != 0)
            continue;
        json_t *seen = json_object_get(kept, id);
        struct entry *e;
        if (seen) {
            b->st.duplicates++;
            e = &b->entries[json_integer_value(seen)];
            int64_t old_ms, new_ms;
            bool old_ok = time_field(e->ind.modified, INT64_MIN, &old_ms);
            bool new_ok = time_field(str_field(o, "modified"), INT64_MIN, &new_ms);
            if (!new_ok || (old_ok && new_ms <= old_ms))
                continue; /* keep the first of equals, and the newer */
            entry_clear(e);
        } else {
            if (json_object_set_new(kept, id, json_integer((json_int_t)b->n)))
                goto oom;
            e = &b->entries[b->n++];
        }
        if (!fill_entry(e, o, i, indicates))
            goto oom;
    }

    for (size_t i = 0; i < b->n; i++) {
        const cy_indicator *ind = &b->entries[i].ind;
        if (ind->pattern)
            b->st.parsed++;
        else
            b->st.skipped++;
        if (ind->pattern_text) {
            if (json_object_get(patterns, ind->pattern_text))
                b->st.same_pattern++;
            else if (json_object_set_new(patterns, ind->pattern_text, json_true()))
                goto oom;
        }
    }
    b->st.indicators = b->n;
    goto done;

oom:
    rc = cy_fail(err, COMITY_ERR_NOMEM, "bundle: out of memory");
done:
    json_decref(ids);
    json_decref(kept);
    json_decref(patterns);
    if (rc != COMITY_OK) {
        cy_bundle_free(b);
        return rc;
    }
    *out = b;
    return COMITY_OK;
}

comity_err cy_bundle_load(const char *path, cy_bundle **out, comity_error *err)
{
    *out = NULL;
    char *text = NULL;
    size_t len = 0;
    comity_err rc = comity_read_file(path, CY_BUNDLE_MAX, &text, &len, err);
    if (rc != COMITY_OK)
        return rc;
    rc = cy_bundle_parse(text, len, out, err);
    if (rc != COMITY_OK)
        cy_wrap(err, "%s", path);
    cy_free(text);
    return rc;
}
