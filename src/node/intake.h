/*
 * intake.h: record intake, the node's log and its witness (private to
 * src/node/).
 *
 * records.c owns the node's transparency log (DIR/log, signed with
 * node.key), the witness state (DIR/witness, key witness.key), and the
 * /v1/records API; logserve.c serves the log as tlog-tiles under /log/ and
 * the witness under /witness/.  http.c and node.c call only the hooks
 * below, so the TAXII side of the node stays untouched by intake.
 */
#ifndef COMITY_NODE_INTAKE_H
#define COMITY_NODE_INTAKE_H

#include "node/node.h"

/* Record types a node accepts today (a table in records.c). */
bool cy_record_type_known(const char *type);

/* `comity init`: creates DIR/log for `origin` signed by `key` (the node
 * key, saved at key_path), and the witness (DIR/witness, DIR/witness.key).
 * OUT *witness_vkey (may be NULL): the witness's verifier key, cy_free. */
comity_err cy_intake_create(const char *dir, const char *origin, const comity_nkey *key,
                            const char *key_path, char **witness_vkey, comity_error *err);

/* `comity serve`: opens the log as its one writer with the background
 * sequencer, opens the witness, and checks that every record stored since
 * the last clean stop has its entry in the log (re-appending any that is
 * missing).  Sets node->intake. */
comity_err cy_intake_start(comity_node *node, comity_error *err);
/* Closes the log (final checkpoint) and the witness; node->intake = NULL.
 * Call only once no request runs any more. */
void cy_intake_stop(comity_node *node);

/* /v1/records[/...] (records.c). */
void cy_records_handle(cy_req *r, cy_resp *w);

/* /log/... and /witness/... (logserve.c): true when url is theirs. */
bool cy_logserve_owns(const char *url);
void cy_logserve_handle(cy_req *r, cy_resp *w);

/* What logserve.c needs from records.c (borrowed, valid while serving). */
struct cy_intake;
comity_log *cy_intake_log(struct cy_intake *in);
comity_witness *cy_intake_witness(struct cy_intake *in);
const char *cy_intake_log_dir(struct cy_intake *in);

#endif
