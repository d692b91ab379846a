/*
 * bundle.h: loading indicators from a STIX 2.1 bundle (private to
 * libcomity; the sweep compiler is the main caller).
 *
 * A bundle is read whole (JSON, at most CY_BUNDLE_MAX bytes) and its
 * indicators are listed in the order of the bundle's "objects" array, each
 * with its STIX pattern already parsed, or with the reason it was skipped.
 * Real files are untidy, so the loader tolerates what does not stop it from
 * listing indicators and counts it instead: relationships that point to
 * objects missing from the bundle, the same indicator id more than once (the
 * newest "modified" is kept), object types it does not know, objects without
 * a type or id, and patterns in other languages (pattern_type "sigma",
 * "yara", ...).  Malformed JSON, a top level that is not a bundle, and a
 * bundle over the size cap are refused, naming the line, column and byte.
 *
 * Typical use:
 *
 *     cy_bundle *b;
 *     if (cy_bundle_load("pegasus.stix2", &b, err) != COMITY_OK) ...;
 *     for (size_t i = 0; i < cy_bundle_count(b); i++) {
 *         const cy_indicator *ind = cy_bundle_get(b, i);
 *         if (!ind->pattern) { report ind->id, ind->skip_reason; continue; }
 *         compile ind->pattern->root ...
 *     }
 *     cy_bundle_free(b);
 *
 * Ownership: the cy_bundle owns everything reachable from it (indicators,
 * their strings and their parsed patterns); all of it is released by
 * cy_bundle_free and none of it may be used afterwards.  A bundle is not
 * modified after loading and may be read from several threads.
 */
#ifndef COMITY_STIX_BUNDLE_H
#define COMITY_STIX_BUNDLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/base.h"
#include "stix/pattern.h"

#define CY_BUNDLE_MAX (64u << 20)          /* bytes of JSON */
#define CY_BUNDLE_MAX_OBJECTS (1u << 20)   /* entries in "objects" */

typedef struct cy_indicator {
    const char *id;              /* "indicator--<uuid>" (never NULL) */
    const char *name;            /* NULL when absent */
    const char *pattern_text;    /* the pattern as written (NULL if absent) */
    const char *pattern_type;    /* "stix" (also when absent), "sigma", ... */
    const char *pattern_version; /* NULL when absent */
    const char *valid_from;      /* RFC 3339 text, NULL when absent */
    const char *valid_until;     /* NULL when absent */
    int64_t valid_from_ms;       /* INT64_MIN when absent */
    int64_t valid_until_ms;      /* INT64_MAX when absent */
    const char *modified;        /* NULL when absent */
    /* Name (or, lacking one, id) of the object this indicator "indicates"
     * through a relationship in the bundle, e.g. "Pegasus"; NULL if none. */
    const char *indicates;
    const cy_pattern *pattern;   /* parsed STIX pattern; NULL when skipped */
    const char *skip_reason;     /* NULL when parsed; else why not, e.g.
                                    "pattern_type 'yara' is not STIX" or
                                    "pattern: expected ']' at byte 17" */
    size_t index;                /* position in the bundle's objects[] */
} cy_indicator;

typedef struct cy_bundle_stats {
    size_t objects;         /* entries in objects[] */
    size_t indicators;      /* indicators listed (after duplicates) */
    size_t parsed;          /* of which have a parsed pattern */
    size_t skipped;         /* of which were skipped (skip_reason set) */
    size_t duplicates;      /* indicator entries dropped: id seen before */
    size_t same_pattern;    /* listed indicators whose pattern text repeats
                               an earlier one under another id */
    size_t relationships;   /* relationship objects */
    size_t dangling_refs;   /* relationship refs to ids not in the bundle */
    size_t unknown_types;   /* objects of types outside STIX 2.1 */
    size_t invalid_objects; /* entries without a string type or id */
} cy_bundle_stats;

typedef struct cy_bundle cy_bundle;

/*
 * Loads a bundle from `len` bytes of JSON.  Also accepts a TAXII envelope
 * ({"objects": [...]}, no type) and a single STIX object.  OUT *out: caller
 * frees with cy_bundle_free.  Fails with COMITY_ERR_INVALID for malformed
 * JSON ("bundle: JSON error at line 3, column 7 (byte 52): ...") or a top
 * level that is not a bundle, COMITY_ERR_TOOBIG over the caps.
 */
comity_err cy_bundle_parse(const char *json, size_t len, cy_bundle **out,
                           comity_error *err) CY_MUST_CHECK;

/* The same, reading the file at `path` ("-" for stdin). */
comity_err cy_bundle_load(const char *path, cy_bundle **out,
                          comity_error *err) CY_MUST_CHECK;

/* Frees the bundle and everything it owns (NULL is a no-op). */
void cy_bundle_free(cy_bundle *b);

/* The bundle's "id" (NULL for an envelope or a single object). */
const char *cy_bundle_id(const cy_bundle *b);

/* Number of indicators listed, and the i-th (borrowed, i < count). */
size_t cy_bundle_count(const cy_bundle *b);
const cy_indicator *cy_bundle_get(const cy_bundle *b, size_t i);

/* What the loader counted (borrowed). */
const cy_bundle_stats *cy_bundle_stats_get(const cy_bundle *b);

/* 1 when `type` is an object type defined by STIX 2.1 (SDO, SRO, SCO or
 * meta object), 0 for custom ones ("x-foo", "configuration-profile"). */
bool cy_stix_type_known(const char *type);

#endif /* COMITY_STIX_BUNDLE_H */
