/*
 * core.c: the framework handle and the one entry point that feeds it.
 *
 * A comity_framework is fed verified records in log order (and "delivered"
 * events from the node).  This file owns the handle (new, free, the
 * deadline tables), parses and checks a record's body against its schema
 * (schema.c), refuses a record fed twice, and hands the record to the
 * mechanism that rules its type, found in the registry's list of
 * descriptors (registry.c): directory.c (poc), messages.c (notification,
 * request, ack, reply, close, ping, pong), case.c (the case mechanisms'
 * types); pings.c holds the ping statistics.  This file calls no
 * mechanism's function by name (core.h draws the floors).
 *
 * Every rule that needs state is checked before anything changes, so a
 * refused record leaves the handle as it was; a dry run (check) applies
 * the same rules and changes nothing.  Deadlines are not stored: they are
 * computed at query time from the records and the handle's tables, so that
 * a table set after replay still applies.  Lookups by id go through a
 * jansson object used as a hash table (`ids`); the rest is linear (a node
 * holds thousands of messages, not millions; docs/framework.md says how to
 * persist).
 */
#include <stdlib.h>
#include <string.h>

#include "framework/core.h"

/* Defaults: configurable, not law (docs/framework.md). */
static const int64_t default_ack_h[6] = {24, 72, 48, 24, 4, 1};
static const int64_t default_answer_h[6] = {7 * 24, 30 * 24, 14 * 24, 7 * 24,
                                            72, 24};

comity_err comity_framework_new(comity_framework **out, comity_error *err)
{
    *out = NULL;
    comity_framework *fw = cy_calloc(1, sizeof *fw);
    if (!fw || !(fw->ids = json_object())) {
        cy_free(fw);
        return cy_fw_nomem(err);
    }
    for (int i = 0; i < 6; i++) {
        fw->ack_ms[i] = default_ack_h[i] * HOUR_MS;
        fw->answer_ms[i] = default_answer_h[i] * HOUR_MS;
    }
    fw->pong_ms = 24 * HOUR_MS;
    fw->case_mechs = cy_case_mechs;
    fw->ncase_mechs = cy_case_nmechs;
    for (size_t i = 0; i < cy_fw_nmechs; i++) {
        comity_err rc;
        if (cy_fw_mechs[i]->init && (rc = cy_fw_mechs[i]->init(fw, err))) {
            comity_framework_free(fw);
            return rc;
        }
    }
    *out = fw;
    return COMITY_OK;
}

void comity_framework_free(comity_framework *fw)
{
    if (!fw)
        return;
    for (size_t i = 0; i < cy_fw_nmechs; i++)
        cy_fw_mechs[i]->clear(fw);
    json_decref(fw->ids);
    cy_free(fw);
}

comity_err comity_framework_set_deadline(comity_framework *fw, int severity,
                                         int64_t ack_ms, int64_t answer_ms,
                                         comity_error *err)
{
    if (severity < 0 || severity > 5)
        return cy_fail(err, COMITY_ERR_USAGE,
                       "framework: severity %d: want 0 (unknown) or 1-5",
                       severity);
    if (ack_ms <= 0 || answer_ms <= 0)
        return cy_fail(err, COMITY_ERR_USAGE,
                       "framework: deadlines must be positive");
    fw->ack_ms[severity] = ack_ms;
    fw->answer_ms[severity] = answer_ms;
    return COMITY_OK;
}

comity_err comity_framework_set_ping_deadline(comity_framework *fw,
                                              int64_t pong_ms,
                                              comity_error *err)
{
    if (pong_ms <= 0)
        return cy_fail(err, COMITY_ERR_USAGE,
                       "framework: the ping deadline must be positive");
    fw->pong_ms = pong_ms;
    return COMITY_OK;
}

/* The body of rec parsed and checked against its type's fixed schema
 * (stateless): the clear body, else `body` (a sealed record's plaintext,
 * or NULL).  OUT *out: a new reference, or NULL when there is no body. */
static comity_err parse_checked(const comity_record *rec, enum cy_fw_type t,
                                const char *body, size_t body_len, json_t **out,
                                comity_error *err)
{
    *out = NULL;
    const char *clear = comity_record_body(rec);
    if (clear) {
        body = clear;
        body_len = strlen(clear);
    }
    if (!body)
        return COMITY_OK;
    json_t *j;
    comity_err rc = cy_fw_parse_body(comity_record_type(rec), body, body_len, &j, err);
    if (rc)
        return rc;
    if ((rc = cy_fw_check(t, j, err))) {
        json_decref(j);
        return rc;
    }
    *out = j;
    return COMITY_OK;
}

/* The rules that need state, then unless dry the effects, for a record of
 * type t (not CY_FW_NONE) whose body parse_checked gave (borrowed).
 * have_body: j is already the body, else parse it here, after the re-post
 * test (the order comity_framework_add documents). */
static comity_err feed(comity_framework *fw, const comity_record *rec, enum cy_fw_type t,
                       const char *body, size_t body_len, bool have_body, json_t *j,
                       bool dry, comity_error *err)
{
    const char *type = comity_record_type(rec);
    const char *id = comity_record_id(rec);
    /* a version of the body schema this node does not know: its rules
     * cannot be applied (docs/federation.md, "Versions") */
    if (!cy_fw_knows(type, comity_record_schema(rec)))
        return cy_fail(err, COMITY_ERR_INVALID,
                       "%s: version %d of its body schema is not one this node knows", type,
                       comity_record_schema(rec));
    if (json_object_get(fw->ids, id))
        return cy_fail(err, COMITY_ERR_EXISTS, "%s: %.100s was already fed",
                       type, id);
    int64_t created = comity_record_created_ms(rec); /* the parser checked it */
    comity_err rc;
    json_t *own = NULL;
    if (!have_body) {
        if ((rc = parse_checked(rec, t, body, body_len, &own, err)))
            return rc;
        j = own;
    }
    const cy_fw_mech *m = NULL;
    for (size_t i = 0; !m && i < cy_fw_nmechs; i++)
        if (cy_fw_mechs[i]->types & CY_FW_BIT(t))
            m = cy_fw_mechs[i];
    rc = m ? m->add(fw, t, rec, j, created, dry, err)
           : cy_fail(err, COMITY_ERR_INTERNAL, "%s: no mechanism rules it",
                     type);
    json_decref(own);
    return rc;
}

static comity_err add_impl(comity_framework *fw, const comity_record *rec,
                           const char *body, size_t body_len, bool dry,
                           comity_error *err)
{
    enum cy_fw_type t = cy_fw_type_of(comity_record_type(rec));
    if (t == CY_FW_NONE)
        return COMITY_OK;
    return feed(fw, rec, t, body, body_len, false, NULL, dry, err);
}

comity_err cy_fw_body_parse(const comity_record *rec, json_t **out, comity_error *err)
{
    *out = NULL;
    enum cy_fw_type t = cy_fw_type_of(comity_record_type(rec));
    return t == CY_FW_NONE ? COMITY_OK : parse_checked(rec, t, NULL, 0, out, err);
}

comity_err cy_fw_feed_parsed(comity_framework *fw, const comity_record *rec, json_t *body,
                             bool dry, comity_error *err)
{
    enum cy_fw_type t = cy_fw_type_of(comity_record_type(rec));
    if (t == CY_FW_NONE)
        return COMITY_OK;
    return feed(fw, rec, t, NULL, 0, true, body, dry, err);
}

comity_err comity_framework_add(comity_framework *fw, const comity_record *rec,
                                const char *body, size_t body_len,
                                comity_error *err)
{
    return add_impl(fw, rec, body, body_len, false, err);
}

comity_err comity_framework_check(const comity_framework *fw,
                                  const comity_record *rec, const char *body,
                                  size_t body_len, comity_error *err)
{
    /* a dry run never writes through fw */
    return add_impl((comity_framework *)fw, rec, body, body_len, true, err);
}
