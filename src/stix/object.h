/*
 * object.h: checking one STIX 2.1 object before a node stores it (private).
 *
 * What is checked (STIX 2.1 and the OASIS JSON schemas in
 * ../shared/data/stix/schemas, whose "required" lists are mirrored here):
 * the object is a JSON object; `type` has the STIX type syntax (3-250 of
 * a-z 0-9 '-', starting with a letter, no "--"); `id` is "<type>--<UUID>"
 * with the object's own type; `spec_version` is "2.1" (required for SDOs,
 * SROs and meta objects, optional for SCOs); `created` and `modified` are
 * STIX timestamps (UTC, 'Z') with modified >= created; and the properties
 * each common type requires are present.  Unknown (custom) types are
 * accepted when they carry the common properties: with `created` they are
 * treated as versioned objects (and need `modified`), without it as
 * unversioned observables.  Deep checks of property values (patterns,
 * references, vocabularies) are not made here.
 */
#ifndef COMITY_STIX_OBJECT_H
#define COMITY_STIX_OBJECT_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "base/base.h"

/* Largest JSON text of one object a node accepts. */
#define CY_STIX_OBJECT_MAX (1u << 20)
/* "YYYY-MM-DDTHH:MM:SS.ffffffZ" + NUL */
#define CY_STIX_TIME_BUF 28

/* What the check learnt; strings borrowed from the JSON object. */
typedef struct cy_stix_info {
    const char *id;
    const char *type;
    const char *spec_version; /* "2.1" also when absent on an SCO */
    const char *version;      /* modified, else created, else NULL */
    int64_t version_us;       /* 0 when version is NULL */
} cy_stix_info;

/* Checks `obj` as described above.  On failure the message names the
 * property and what is wrong ("indicator: missing required 'pattern'"). */
comity_err cy_stix_object_check(const json_t *obj, cy_stix_info *info, comity_error *err);

/* 1 when s[0..len) is a STIX type name. */
bool cy_stix_type_valid(const char *s, size_t len);
/* 1 when s[0..len) is "<type>--<uuid>" (lowercase RFC 4122 UUID). */
bool cy_stix_id_valid(const char *s, size_t len);

/* Parses a STIX/TAXII timestamp (RFC 3339, UTC, 'Z', optional fraction;
 * digits past microseconds are ignored) into microseconds since 1970. */
comity_err cy_stix_time_parse_us(const char *s, size_t len, int64_t *us,
                                 comity_error *err) CY_MUST_CHECK;
/* Formats with microsecond precision, as TAXII date_added wants. */
void cy_stix_time_format_us(char out[CY_STIX_TIME_BUF], int64_t us);

#endif
