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
    CY_FW_PONG,
    CY_FW_CASE  /* a case mechanism's type (case.c) */
};

/* The type for a record type name, CY_FW_NONE if not ruled here. */
enum cy_fw_type cy_fw_type_of(const char *type);

/* 1 when `type` is one of the case mechanisms' types (case.c). */
bool cy_fw_case_type(const char *type);
/* Checks a parsed body (borrowed) against the schema of case type `type`. */
comity_err cy_fw_case_body(const char *type, const json_t *body,
                           comity_error *err);

/* Whether s is in the NULL-terminated list; "a, b or c" of it into buf. */
bool cy_fw_in_vocab(const char *s, const char *const *list);
const char *cy_fw_vocab_text(char *buf, size_t cap, const char *const *list);

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
