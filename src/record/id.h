/*
 * id.h: record ids bound to their author (id.c).
 *
 * A record id is "<type>--<UUID v4>" (specs/records.md).  comity fills the
 * UUID's 122 free bits so that the id names its author: the first eight
 * bytes are random, the last eight (less the variant bits) are a hash of
 * the author and those random bytes.  The id is still an ordinary UUID v4
 * to anyone who does not check; a node checks it on every record posted to
 * it, so that nobody can post under an id made for another author, and so
 * cannot learn whether such a record is stored (docs/security.md).
 */
#ifndef COMITY_RECORD_ID_H
#define COMITY_RECORD_ID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/base.h"

/* A fresh UUID v4 bound to `author` (NUL-terminated, lowercase). */
void cy_record_uuid_new(const char *author, char out[CY_UUID_BUF]);

/* The UUID v4 bound to `author` whose first eight bytes are `r` (its
 * version nibble is set here): the deterministic half of
 * cy_record_uuid_new, for tests and vectors. */
void cy_record_uuid_from(const char *author, const uint8_t r[8], char out[CY_UUID_BUF]);

/* Whether the record id `id` ("<type>--<uuid>") is bound to `author`.
 * False for anything that is not such an id. */
bool cy_record_id_bound(const char *id, const char *author);

/* Whether `id` is a record id by the syntax of specs/records.md
 * ("<type>--<lowercase uuid v4>"), the check comity_record_parse makes of
 * `id` and of each of `refs` (record.c). */
bool cy_record_id_valid(const char *id);

#endif
