/*
 * wrapper.h: a comity record as a STIX 2.1 object (private to libcomity).
 *
 * Every record a node accepts is also offered over TAXII as one object of
 * the custom type x-comity-record (specs/records.md, "Records on TAXII"),
 * defined by an extension definition that the node stores beside the
 * wrappers.  The store keeps no JSON for a wrapper, only which record it
 * shows in which collection; the TAXII layer renders the object here,
 * when it is read, from the record's fields as stored.
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

#include "base/base.h"

/* The wrapper's STIX type and the extension definition that defines it. */
#define CY_RECORD_WRAPPER_TYPE "x-comity-record"
#define CY_RECORD_EXTDEF_ID "extension-definition--2c1a0082-a8cc-4202-b69c-83158d21721a"
/* Both objects' STIX version and TAXII media type. */
#define CY_RECORD_WRAPPER_SPEC "2.1"
#define CY_RECORD_WRAPPER_MEDIA "application/stix+json;version=2.1"

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
