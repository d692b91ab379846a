/*
 * framework.h: the lowest private interface of the framework: the record
 * types it rules, the helpers of util.c and the body schemas of schema.c.
 *
 * schema.c parses a body (size and depth capped, duplicate keys refused)
 * and checks it against the schema of its record type alone; the
 * mechanisms above (core.h says which) then apply the rules that need
 * state: who may answer what, what may follow what, and the deadlines.
 */
#ifndef COMITY_FRAMEWORK_H
#define COMITY_FRAMEWORK_H

#include <jansson.h>

#include "base/base.h"

/* The record types the framework rules. */
enum cy_fw_type {
    CY_FW_NONE = 0,
    CY_FW_POC,
    CY_FW_NOTIFICATION,
    CY_FW_REQUEST,
    CY_FW_ACK,
    CY_FW_REPLY,
    CY_FW_CLOSE,
    CY_FW_PING,
    CY_FW_PONG,
    CY_FW_CASE,       /* a case mechanism's type (case.c) */
    CY_FW_CUSTODY,    /* chain of custody of a case's items (custody.c) */
    CY_FW_DESTRUCTION, /* a destruction record (retention.c) */
    CY_FW_NORM,        /* the norm catalogue and declarations (norms.c) */
    CY_FW_SPYWARE,     /* the spyware registry's records (spyware.c) */
    CY_FW_DELIVERED    /* a recipient's node says it was handed a message
                        * (messages.c; docs/federation.md section 7) */
};

/* The type for a record type name, CY_FW_NONE if not ruled here: the
 * fixed types of schema.c, else a case mechanism's (registry.c). */
enum cy_fw_type cy_fw_type_of(const char *type);
/* The same among the fixed types alone (schema.c). */
enum cy_fw_type cy_fw_fixed_type(const char *type);

/* The highest body schema version of `type` the framework rules (every
 * ruled type is at version 1 so far; a type that gains a version says so
 * in registry.c), 0 for a type it does not rule (registry.c). */
int cy_fw_schema_max(const char *type);
/* Whether this node knows version `schema` of `type`: the framework or the
 * record layer names that version (cy_record_schema_max), and the test
 * knob COMITY_FORGET_TYPES did not make the node forget it.  A node
 * projects a record only if so; at the origin it refuses any other, from
 * a peer it stores it without effect (docs/federation.md, "Versions";
 * registry.c). */
bool cy_fw_knows(const char *type, int schema);

/* util.c: whether s is in the NULL-terminated list; "a, b or c" of it into
 * buf. */
bool cy_fw_in_vocab(const char *s, const char *const *list);
const char *cy_fw_vocab_text(char *buf, size_t cap, const char *const *list);

/* Contact kinds of the directory, NULL-terminated. */
extern const char *const cy_fw_poc_kinds[];
/* Critical-infrastructure sectors and the UN GGE 2015 norms (13a-13k) of
 * notifications and requests, NULL-terminated (schema.c). */
extern const char *const cy_fw_sectors[];
extern const char *const cy_fw_norms[];

/* Parses body[0..len) as a JSON object: at most COMITY_FW_BODY_MAX bytes,
 * nesting at most COMITY_FW_DEPTH_MAX, duplicate keys refused.  `type`
 * names the record in messages.  OUT *out: a new reference (json_decref). */
comity_err cy_fw_parse_body(const char *type, const char *body, size_t len,
                            json_t **out, comity_error *err);

/* Checks a parsed body against the schema of `t` (borrowed). */
comity_err cy_fw_check(enum cy_fw_type t, const json_t *body,
                       comity_error *err);

/* messages.c, for the node's e-mail alerts: of the items `party` must
 * answer (its inbox's awaiting_me), OUT *n_new those of messages that
 * arrived at or after sequence `since` (a message's place in arrival
 * order), OUT *n_due those whose due time is in [from_ms, to_ms) (fell
 * overdue in that span); OUT *seq the sequence of the next message to
 * arrive (pass it as `since` next time).  Reads the index by name only. */
void cy_fw_awaiting(const comity_framework *fw, const char *party, size_t since,
                    int64_t from_ms, int64_t to_ms, size_t *n_new, size_t *n_due, size_t *seq);

/* messages.c, for the node's thread endpoint (GET /v1/framework/
 * messages/{id}/thread): notes that record `rec` (any type, borrowed) is
 * stored: its id joins the thread of every message its refs name (each
 * once; refs naming no message are ignored).  NOMEM only (the thread then
 * lacks it until the state is rebuilt). */
comity_err cy_fw_thread_note(comity_framework *fw, const comity_record *rec);
/* The ids of the records whose refs name message `id`, in the order they
 * were noted: OUT *ids (borrowed from fw: read under cy_fw_live_lock) and
 * *n.  NOTFOUND when `id` is no message of the state. */
comity_err cy_fw_thread(const comity_framework *fw, const char *id, const char *const **ids,
                        size_t *n, comity_error *err);

/* util.c: an RFC 3339 time (any fraction, Z or offset) as ms; -1 if not
 * one. */
int64_t cy_fw_time(const char *s);

#endif
