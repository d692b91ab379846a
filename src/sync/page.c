/*
 * page.c: the pull answer parser (sync.h; docs/federation.md, section 5).
 *
 * A federation page comes from another node, so it is hostile input: the
 * size is capped before parsing, JSON duplicate keys are refused, every
 * object must be an x-comity-record carrying its envelope, log index and
 * receipt, the indexes must increase and stay below `next`.  Nothing here
 * is trusted yet: the receipts and signatures are checked by verify.c and
 * intake.  The envelope is re-serialized (compact) for intake; its
 * signature covers the payload bytes, never the JSON around them.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "sync/sync.h"
#include "tlog/tlog.h"

void cy_pull_page_free(cy_pull_page *p)
{
    if (!p)
        return;
    for (size_t i = 0; p->items && i < p->n; i++) {
        free(p->items[i].envelope);
        comity_record_free(p->items[i].rec);
    }
    cy_free(p->items);
    json_decref(p->root);
    memset(p, 0, sizeof *p);
}

static comity_err bad(comity_error *err, size_t i, const char *what)
{
    return cy_fail(err, COMITY_ERR_INVALID, "federation page: object %zu: %s", i, what);
}

comity_err cy_pull_page_parse(const char *body, size_t len, cy_pull_page *out,
                              comity_error *err)
{
    memset(out, 0, sizeof *out);
    if (len > CY_SYNC_PAGE_MAX)
        return cy_fail(err, COMITY_ERR_TOOBIG, "federation page: %zu bytes; at most %u", len,
                       CY_SYNC_PAGE_MAX);
    json_error_t je;
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return cy_fail(err, COMITY_ERR_INVALID, "federation page: not JSON at byte %d: %s",
                       je.position, je.text);
    out->root = root;
    json_t *objs = json_object_get(root, "objects"), *more = json_object_get(root, "more"),
           *next = json_object_get(root, "next");
    if (!json_is_object(root) || (objs && !json_is_array(objs)) || !json_is_boolean(more) ||
        !json_is_string(next))
        return cy_fail(err, COMITY_ERR_INVALID,
                       "federation page: want {\"objects\": [...], \"more\": bool, \"next\": "
                       "\"INDEX\"}");
    const char *ns = json_string_value(next);
    if (!cy_parse_u64(ns, json_string_length(next), &out->next))
        return cy_fail(err, COMITY_ERR_INVALID, "federation page: next is no log index");
    out->more = json_is_true(more);
    size_t n = objs ? json_array_size(objs) : 0;
    if (n > CY_FED_PAGE_MAX)
        return cy_fail(err, COMITY_ERR_TOOBIG, "federation page: %zu objects; at most %d", n,
                       CY_FED_PAGE_MAX);
    if (n && !(out->items = cy_calloc(n, sizeof *out->items)))
        return cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_array_get(objs, i);
        json_t *type = json_object_get(o, "type"), *env = json_object_get(o, "dsse_envelope"),
               *rid = json_object_get(o, "record_id"),
               *idx = json_object_get(o, "x_comity_log_index"),
               *rcpt = json_object_get(o, "x_comity_receipt");
        if (!json_is_object(o) || !json_is_string(type) ||
            strcmp(json_string_value(type), "x-comity-record") != 0)
            return bad(err, i, "not an x-comity-record object");
        if (!json_is_object(env))
            return bad(err, i, "dsse_envelope: want an object");
        if (!json_is_string(rid))
            return bad(err, i, "record_id: want a string");
        if (!json_is_integer(idx) || json_integer_value(idx) < 0)
            return bad(err, i, "x_comity_log_index: want an integer >= 0");
        if (!json_is_string(rcpt) || json_string_length(rcpt) > COMITY_TLOG_PROOF_MAX)
            return bad(err, i, "x_comity_receipt: want a tlog-proof string");
        cy_pull_item *it = &out->items[i];
        it->log_index = (uint64_t)json_integer_value(idx);
        if ((i && it->log_index <= out->items[i - 1].log_index) || it->log_index >= out->next)
            return bad(err, i, "x_comity_log_index: not increasing, or not below next");
        it->record_id = json_string_value(rid);
        it->receipt = json_string_value(rcpt);
        it->receipt_len = json_string_length(rcpt);
        out->n = i + 1; /* the envelope below is freed with the page from here on */
        if (!(it->envelope = json_dumps(env, JSON_COMPACT)))
            return cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
        it->envelope_len = strlen(it->envelope);
        if (it->envelope_len > COMITY_DSSE_MAX)
            return bad(err, i, "dsse_envelope: larger than a record may be");
    }
    out->n = n;
    return COMITY_OK;
}
