/*
 * intake.h: record intake (private to src/node/).
 *
 * records.c serves /v1/records and appends each record's entry to the
 * node's log (node->log, opened by http.c while serving).  http.c calls
 * only the hooks below, so the TAXII side of the node stays untouched by
 * intake.
 */
#ifndef COMITY_NODE_INTAKE_H
#define COMITY_NODE_INTAKE_H

#include "node/node.h"

/* Record types a node accepts today (a table in records.c). */
bool cy_record_type_known(const char *type);

/* `comity serve`, once the node's log is open for writing: checks that
 * every record stored since the last clean stop has its entry in the log
 * (re-appending any that is missing).  Sets node->intake. */
comity_err cy_intake_start(comity_node *node, comity_error *err);
/* Records that the stop was clean; node->intake = NULL.  Call once no
 * request runs any more, before the log is closed. */
void cy_intake_stop(comity_node *node);

/* /v1/records[/...] (records.c).  A POST that passed every check sets
 * w->park: http.c then suspends the connection and calls
 * cy_records_park_go; the committer thread resumes it once the record is
 * committed, and http.c gets the answer from cy_records_unpark (which
 * frees the parked item).  cy_records_park_free drops one whose
 * connection ended.  cy_intake_drain waits until no connection is left
 * suspended (before the daemon stops). */
void cy_records_handle(cy_req *r, cy_resp *w);
void cy_records_park_go(void *parked);
void cy_records_unpark(void *parked, cy_req *r, cy_resp *w);
void cy_records_park_free(void *parked);
void cy_intake_drain(comity_node *node);

#endif
