/*
 * fw.h: the node's framework hooks (private to src/node/; framework.c).
 *
 * The node holds one comity_framework handle behind a mutex (node->fw)
 * while it serves.  http.c builds it at start (cy_fw_start: deadlines from
 * the serve options and DIR/node.conf, then a replay of every stored record
 * in log order and every stored delivered event) and frees it at stop.
 * records.c calls the intake hooks (a worker's dry run, the committer's
 * final add, a rebuild when a commit failed) and cy_fw_fetched when it
 * hands a recipient a message's envelope.  http.c routes /v1/framework/...
 * and /v1/directory to cy_fw_handle.
 */
#ifndef COMITY_NODE_FW_H
#define COMITY_NODE_FW_H

#include "node/node.h"

/* Builds node->fw (see above).  Bad deadline values are USAGE, with a
 * message naming the flag or the node.conf line. */
comity_err cy_fw_start(comity_node *node, const comity_serve_opts *o, comity_error *err);
/* Frees node->fw; node->fw = NULL.  Call once no request runs. */
void cy_fw_stop(comity_node *node);

/* The deadline table a node applies (ms; 0: the library's default). */
typedef struct cy_fw_table {
    int64_t ack_ms[6], answer_ms[6]; /* by severity, [0] unknown */
    int64_t pong_ms;
    int64_t created_ahead_ms, created_behind_ms; /* bounds on `created` */
} cy_fw_table;

/* Reads node.conf text (at most 64 KiB, lines at most 512 bytes): blank
 * lines, '#' comments, `name = value` lines; `deadline.S = ACK/REPLY`,
 * `ping_deadline = D`, `created_ahead = D` and `created_behind = D` set
 * *t, other names are left to other parts of the node.  USAGE with the line number on anything malformed. */
comity_err cy_fw_conf_parse(const char *text, size_t len, cy_fw_table *t, comity_error *err);

/* Parses a duration: digits then one unit s, m, h or d ("30m", "7d"), more
 * than 0 and at most 10 years.  -1 when it is not one. */
int64_t cy_fw_duration(const char *s);

/* The HTTP status of a framework refusal (docs/framework.md): INVALID and
 * NOTFOUND 422, DENIED 403, CONFLICT and EXISTS 409, anything else 500. */
unsigned cy_fw_status_of(comity_err rc);

/* Intake's bounds on a record's `created` (comity_record_check_created)
 * with the node's clock and the bounds of node.conf, else the library's
 * defaults. */
comity_err cy_fw_check_created(comity_node *node, const comity_record *rec,
                               comity_error *err);

/* A worker's early refusal of a verified record `rec` (borrowed): the body
 * schema when the body is clear, then a dry run against the current state.
 * Types the framework does not rule, and a record it already holds (a
 * re-post, answered by the committer), pass. */
comity_err cy_fw_precheck(comity_node *node, const comity_record *rec, comity_error *err);
/* The committer's final decision, in log order: comity_framework_add.
 * *added is true when the handle changed (the type is one it rules). */
comity_err cy_fw_add(comity_node *node, const comity_record *rec, bool *added,
                     comity_error *err);
/* After a batch whose records were added here failed to commit: rebuild
 * the handle from the store (which does not hold the batch). */
void cy_fw_rebuild(comity_node *node);

/* The caller of r was handed the envelope of record `id` of `type`: when
 * it is a message (notification, request, ping) and the caller one of its
 * recipients still at "sent", stores the delivered event (once per
 * message and party) and feeds it to the framework. */
void cy_fw_fetched(cy_req *r, const char *id, const char *type);

/* /v1/framework/... and /v1/directory (framework.c). */
void cy_fw_handle(cy_req *r, cy_resp *w);

#endif
