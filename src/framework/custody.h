/*
 * custody.h: the chain of custody of a case's items (custody.c) and the
 * retention of closed cases with their destruction records (retention.c),
 * as the rest of the framework sees them.
 *
 * Both stand on the case core (case.h): a custody or destruction record
 * names its case as refs[0] and goes to the case's parties alone, like any
 * record of the case, but it is not a step of the case's status table: it
 * may come in any state (custody) or once the case is closed
 * (destruction), and it does not move the case.  An *item* is a file the
 * case refers to, named in a `files` field (case.h's CY_FK_FILES: {sha256,
 * size, name, media_type}; the file store keys files by that hash).
 */
#ifndef COMITY_FRAMEWORK_CUSTODY_H
#define COMITY_FRAMEWORK_CUSTODY_H

#include "framework/case.h"

#define CY_DESTRUCTION_FILES_MAX 4096 /* files one destruction record lists */

/* The custody types (custody.c) and the destruction type (retention.c):
 * their body schemas, for comity_framework_check_body. */
extern const cy_case_type cy_custody_types[];
extern const size_t cy_custody_ntypes;
extern const cy_case_type cy_destruction_type;

/* The custody type named `type`, or NULL. */
const cy_case_type *cy_custody_type(const char *type);

/* Adds to `files` (an object sha256 -> {"sha256","size","name",...}) every
 * file the readable custody records of case c name (their files and
 * derived results).  -1 on OOM. */
int cy_custody_files(const comity_framework *fw, const cy_case *c, json_t *files);

/* Appends a record of case c (a destruction record: retention.c) to the
 * custody records, so that chains end with it; body borrowed (a new
 * reference is kept), NULL when unreadable.  NOMEM changes nothing. */
comity_err cy_custody_append(comity_framework *fw, const cy_case *c,
                             const comity_record *rec, const json_t *body,
                             int64_t created, comity_error *err);
/* Undoes the last cy_custody_append. */
void cy_custody_drop_last(comity_framework *fw);

/* Adds to `files` every document reference found in `body` (borrowed, may
 * be NULL): any object, at any depth, with a "sha256" of 64 lowercase hex
 * digits (its "size" and "name" taken along).  -1 on OOM. */
int cy_fw_body_files(const json_t *body, json_t *files);

#endif
