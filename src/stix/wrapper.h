/*
 * wrapper.h: comity records on TAXII (wrapper.c; specs/records.md,
 * "Records on TAXII").
 *
 * A stored record is served over TAXII as a STIX object of the custom type
 * x-comity-record (its wrapper), defined by one extension definition that
 * every collection holding a wrapper also gets.  Which collections a record
 * goes to follows its TLP: clear to "public", green to "community", amber
 * and red to the inboxes of its author and of each recipient.  Collections
 * are named by alias and identified by a name-based UUID of (origin,
 * alias), so that re-running a step finds what it made before.
  *
 * The store keeps no JSON for a wrapper, only which record it shows in
 * which collection; the TAXII layer renders the object here when it is
 * read, from the record's fields as stored:
 *
 *   {"type":"x-comity-record","spec_version":"2.1",
 *    "id":"x-comity-record--<the record id's uuid>",
 *    "created":<created>,"modified":<created>,
 *    "extensions":{"<extension definition id>":{"extension_type":"new-sdo"}},
 *    "record_id":<id>,"record_type":<type>,"author":<author>,"tlp":<tlp>,
 *    "dsse_envelope":<the envelope as received>}
 *
 * The bytes are fixed (clients and tests compare them): members in this
 * order, no whitespace added, the envelope embedded as the node received it.
 */
#ifndef COMITY_STIX_WRAPPER_H
#define COMITY_STIX_WRAPPER_H

#include <stddef.h>
#include <stdint.h>

#include "base/base.h"

#define CY_STIX_WRAPPER_TYPE "x-comity-record"
#define CY_STIX_EXTDEF_ID "extension-definition--2c1a0082-a8cc-4202-b69c-83158d21721a"
#define CY_STIX_EXTDEF_TIME "2026-11-23T00:00:00.000Z" /* created = modified */
/* Aliases a record is copied into: its author's inbox and one per
 * recipient (the record format's cap) */
#define CY_STIX_RECORD_COLLS_MAX (COMITY_RECORD_MAX_TO + 1)
#define CY_STIX_ALIAS_MAX 96 /* "inbox." + a party name, NUL included */
#define CY_STIX_COLL_PUBLIC "public"       /* clear records */
#define CY_STIX_COLL_COMMUNITY "community" /* green records */

/* The extension definition's JSON text (static; *len bytes). */
const char *cy_stix_extdef_json(size_t *len);

/* A stable collection id for (origin, alias): a name-based UUID. */
void cy_collection_id(const char *origin, const char *alias, char out[CY_UUID_BUF]);

/* Calls fn with the alias of each collection record `rec` (borrowed) is
 * copied into, in order (author first, then recipients; repeats
 * included: the caller drops those); stops and returns non-zero when fn
 * does.  At most CY_STIX_RECORD_COLLS_MAX calls. */
int cy_stix_record_collections(const comity_record *rec,
                               int (*fn)(void *ctx, const char *alias), void *ctx);

/* Both objects' STIX version and TAXII media type. */
#define CY_STIX_WRAPPER_SPEC "2.1"
#define CY_STIX_WRAPPER_MEDIA "application/stix+json;version=2.1"

/* The fields of the record a wrapper shows (borrowed for the call). */
typedef struct cy_stix_wrapped {
    const char *id, *type, *author, *tlp, *created;
    const char *envelope; /* a JSON object, as received */
    size_t envelope_len;
} cy_stix_wrapped;

/* Appends the wrapper object of record `r` to b.  The strings are written
 * as JSON strings (escaped where needed; the record parser admits none
 * that need it, so in practice they are copied).  COMITY_ERR_NOMEM (or
 * TOOBIG at b's cap) leaves b with a partial object; COMITY_ERR_USAGE when
 * r->id has no "--" or the envelope is missing. */
comity_err cy_stix_wrapper_append(cy_buf *b, const cy_stix_wrapped *r);

#endif
