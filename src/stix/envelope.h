/*
 * envelope.h: what a node accepts in one TAXII 2.1 envelope posted to a
 * collection, and what it lists back in the status resource (private).
 *
 * A client's envelope is read in two steps so that its cost is bounded
 * before any tree is built: the whole body is checked by the strict
 * token reader (base/json.h) under CY_STIX_ENVELOPE_VALUES_MAX values,
 * which gives the number of objects without allocating per value; only
 * then is each object, one at a time, built as a jansson tree for
 * cy_stix_object_check.  Memory for one POST is therefore at most the
 * token array (20 bytes a value, 10 MiB at the cap) plus one object's tree,
 * whatever the body holds (an 8 MiB `{"objects":[0,0,...]}` is refused
 * at the value cap, in milliseconds).  The trees are built from the
 * tokens: the body's bytes are read once.
 *
 * The caps (each refused as a whole, never truncated):
 *   CY_STIX_ENVELOPE_OBJECTS_MAX   objects in one envelope (TAXII 413);
 *                                  Amnesty's Pegasus bundle has 3,099
 *   CY_STIX_ENVELOPE_VALUES_MAX    JSON values in one envelope (413)
 *   CY_STIX_STATUS_FAILURES_MAX    refused objects one status lists: an
 *                                  envelope with more refused objects is
 *                                  refused whole (422, the first ones
 *                                  listed), nothing of it stored
 *   CY_STIX_STATUS_MAX             bytes of one status resource; the caps
 *                                  above keep every status below it, and a
 *                                  status that would not fit is refused
 *                                  before anything is stored
 *
 * Objects a client may not post (cy_stix_reserved): the node's own
 * record wrappers (type x-comity-record, whose ids are "x-comity-record--"
 * plus a record's UUID) and the extension definition that defines them.
 * A posted copy would shadow, or after a delete replace, the signed
 * original that TAXII clients read.
 *
 * Objects have an owner (cy_stix_owner_allows): the party that first
 * posted an id to a collection.  Only it may post further versions of that
 * id (a later version is what TAXII clients read by default, so another
 * party's version would shadow the owner's) or delete it; the operator may
 * delete any posted object (the node logs it) but not post under another's
 * id.  The node's own objects have no owner and cannot be deleted through
 * TAXII.  Ids posted before owners were kept are held by "", which only the
 * operator can delete.  A caller that cannot read the collection (a
 * write-only inbox) is told "added" for an id another party holds, exactly
 * as for a new id, and its object is not stored: the answer does not say
 * what the inbox holds.
 */
#ifndef COMITY_STIX_ENVELOPE_H
#define COMITY_STIX_ENVELOPE_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "base/base.h"
#include "base/json.h"
#include "stix/object.h"

#define CY_STIX_ENVELOPE_OBJECTS_MAX 10000u
#define CY_STIX_ENVELOPE_VALUES_MAX (1u << 19)
#define CY_STIX_STATUS_FAILURES_MAX 100u
#define CY_STIX_STATUS_MAX (5u << 20)

/* Longest text of a STIX id (type of 250, "--", UUID) and of a version
 * that a status lists; longer strings from a refused object are cut. */
#define CY_STIX_ID_MAX (250 + 2 + 36)

/* An envelope being read.  Zero it, then cy_stix_envelope_open. */
typedef struct cy_stix_envelope {
    cy_json j;
    uint32_t objects; /* token of the "objects" array */
    uint32_t cursor;  /* token of the next object */
    size_t n, next;   /* objects in all; index of the next one */
    bool json_ok;     /* the body is JSON (a refusal is then about its shape) */
    uint32_t last;    /* token of the object cy_stix_envelope_next gave last */
    bool compact;     /* its bytes are its compact text (cy_stix_envelope_compact) */
} cy_stix_envelope;

/*
 * Reads text[0..len) (borrowed; must outlive the envelope) as an envelope.
 * Fails with COMITY_ERR_INVALID when it is not JSON or not an object with
 * an "objects" array (the message says where), COMITY_ERR_TOOBIG over one
 * of the caps above (the message names it).  Allocates the token array:
 * call cy_stix_envelope_close on success and on failure.
 */
comity_err cy_stix_envelope_open(cy_stix_envelope *e, const char *text, size_t len,
                                 comity_error *err) CY_MUST_CHECK;

/* Number of objects in the envelope. */
static inline size_t cy_stix_envelope_count(const cy_stix_envelope *e) { return e->n; }

/*
 * The next object (in order) as a new jansson value, owned by the caller
 * (json_decref), or NULL when the element cannot be built (out of memory).
 * Elements that are not objects come back as the JSON value they are, for
 * cy_stix_object_check to refuse.  Call exactly count times.
 */
json_t *cy_stix_envelope_next(cy_stix_envelope *e);

/* The object cy_stix_envelope_next gave last, as the compact text jansson
 * writes for it (json_dumpb with JSON_COMPACT), when the body holds it so
 * byte for byte: no whitespace, no escape in a string, no number written
 * otherwise (a real, or -0).  Borrowed from the body; *len its length.
 * NULL otherwise (the caller writes the tree out itself). */
const char *cy_stix_envelope_compact(const cy_stix_envelope *e, size_t *len);

/* Releases the token array; the envelope may be zeroed and opened again. */
void cy_stix_envelope_close(cy_stix_envelope *e);

/* Refuses (COMITY_ERR_DENIED, with a message) an object a client may not
 * post: the node's own record wrappers and their extension definition. */
comity_err cy_stix_reserved(const cy_stix_info *info, comity_error *err) CY_MUST_CHECK;

/* What a caller wants to do to an object someone posted. */
typedef enum cy_stix_change { CY_STIX_POST_VERSION, CY_STIX_DELETE } cy_stix_change;

/* COMITY_OK when `caller` (operator or not) may do `what` to an object
 * held by `owner` (NULL: the node's own, held by nobody); otherwise
 * COMITY_ERR_DENIED with a message that names no other party. */
comity_err cy_stix_owner_allows(const char *owner, const char *caller, bool is_operator,
                                cy_stix_change what, comity_error *err) CY_MUST_CHECK;

/* Copies s into out (cap bytes with the NUL), cut at cap - 1 bytes and
 * never inside a UTF-8 sequence: for a refused object's id or version,
 * which may be any string, in a status resource. */
void cy_stix_status_text(char *out, size_t cap, const char *s);

#endif
