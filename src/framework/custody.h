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
 * case refers to, named by its document reference {"sha256", "size",
 * "name"} (the content-addressed file store keys files by that hash).
 */
#ifndef COMITY_FRAMEWORK_CUSTODY_H
#define COMITY_FRAMEWORK_CUSTODY_H

#include "framework/case.h"

#define CY_FILE_NAME_MAX 256  /* bytes in a document reference's name */
#define CY_DESTRUCTION_FILES_MAX 4096 /* files one destruction record lists */

/* Checks a document reference {"sha256": 64 lowercase hex, "size": 0 to
 * 2^53, "name"?: 1-256 bytes} at `<t>.body.<where>`; INVALID naming the
 * field otherwise. */
comity_err cy_fw_check_fileref(const char *t, const char *where, const json_t *v,
                               comity_error *err);

/* The custody types (custody.c) and the destruction type (retention.c):
 * their body schemas, for comity_framework_check_body. */
extern const cy_case_type cy_custody_types[];
extern const size_t cy_custody_ntypes;
extern const cy_case_type cy_destruction_type;

/* The custody type named `type`, or NULL. */
const cy_case_type *cy_custody_type(const char *type);

/* Adds to `files` (an object sha256 -> {"sha256","size","name"}) every item
 * the readable custody records of case c name (their item and any derived
 * result).  -1 on OOM. */
int cy_custody_files(const comity_framework *fw, const cy_case *c, json_t *files);

/* Adds to `files` every document reference found in `body` (borrowed, may
 * be NULL): any object, at any depth, with a "sha256" of 64 lowercase hex
 * digits (its "size" and "name" taken along).  -1 on OOM. */
int cy_fw_body_files(const json_t *body, json_t *files);

#endif
