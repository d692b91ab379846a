/*
 * types.h: the record types a node accepts, and the versions of their body
 * schemas it knows (types.c).
 *
 * specs/records.md lists the types a node accepts: those the framework
 * rules (src/framework/, comity_framework_handles: messages, the directory,
 * cases) and the few it does not, listed here (sighting, evidence, note,
 * the roster's party and admission, and log-succession).
 * Intake asks both; at the origin a record of any other type, or of a
 * schema version newer than the node knows, is refused there; one relayed
 * from a peer is stored and served without effect on the framework
 * (docs/federation.md, section 6, "Versions").
 *
 * The test knob COMITY_FORGET_TYPES makes a node forget types or versions
 * it knows, as a release that predates them would: a rehearsal of an
 * upgrade with two nodes of one build (tests/cli/fed_versions.sh).
 */
#ifndef COMITY_RECORD_TYPES_H
#define COMITY_RECORD_TYPES_H

#include <stdbool.h>

#include "base/base.h"

#define CY_RECORD_FORGET_ENV "COMITY_FORGET_TYPES"
#define CY_RECORD_FORGET_MAX 32    /* entries in COMITY_FORGET_TYPES */
#define CY_RECORD_FORGET_LEN 4096  /* bytes of COMITY_FORGET_TYPES */

/* Whether `type` is one of the types no framework mechanism rules that a
 * node accepts (exact, case-sensitive). */
bool cy_record_type_known(const char *type);

/* The highest body schema version of `type` this layer knows (the types
 * of cy_record_type_known, all at version 1 so far), 0 for any other
 * type.  The knob below is not applied here. */
int cy_record_schema_max(const char *type);

/* Whether this node was told to forget version `schema` of `type`
 * (COMITY_FORGET_TYPES, read from the environment once, at the first
 * call of this or cy_record_forget_init). */
bool cy_record_forgotten(const char *type, int schema);

/* Reads COMITY_FORGET_TYPES if not yet done and says whether it was
 * valid: a node calls it at start and refuses to start on a bad value. */
comity_err cy_record_forget_init(comity_error *err);

/* Parses `spec` (the knob's syntax: "" or TYPE[@N] entries separated by
 * commas; TYPE forgets the type, TYPE@N its versions N and above) and,
 * when valid, makes it the list cy_record_forgotten reads, instead of the
 * environment's.  For tests: not to be called while other threads may
 * read the list.  A bad spec leaves the list as it was. */
comity_err cy_record_forget_set(const char *spec, comity_error *err);

#endif
