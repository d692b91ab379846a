/*
 * framework.h: private interface between the framework's body schemas
 * (schema.c) and its state machine (framework.c).
 *
 * schema.c parses a body (size and depth capped, duplicate keys refused)
 * and checks it against the schema of its record type alone; framework.c
 * then applies the rules that need state: who may answer what, what may
 * follow what, and the deadlines.
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
    CY_FW_PONG
};

/* The type for a record type name, CY_FW_NONE if not ruled here. */
enum cy_fw_type cy_fw_type_of(const char *type);

/* Contact kinds of the directory, NULL-terminated. */
extern const char *const cy_fw_poc_kinds[];

/* Parses body[0..len) as a JSON object: at most COMITY_FW_BODY_MAX bytes,
 * nesting at most COMITY_FW_DEPTH_MAX, duplicate keys refused.  `type`
 * names the record in messages.  OUT *out: a new reference (json_decref). */
comity_err cy_fw_parse_body(const char *type, const char *body, size_t len,
                            json_t **out, comity_error *err);

/* Checks a parsed body against the schema of `t` (borrowed). */
comity_err cy_fw_check(enum cy_fw_type t, const json_t *body,
                       comity_error *err);

/* An RFC 3339 time (any fraction, Z or offset) as ms; -1 if not one. */
int64_t cy_fw_time(const char *s);

#endif
