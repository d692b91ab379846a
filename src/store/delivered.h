/*
 * delivered.h: what the store keeps for the framework (private; included by
 * store.h).
 *
 * The framework's state (src/framework/) is a pure function of the stored
 * records, fed in log order, plus one event that is not a record:
 * *delivered*, a recipient was handed a message's envelope.  This block
 * stores those events, one per (message id, party), and gives the node the
 * two walks it needs to rebuild the framework at start: every record with
 * its envelope in intake order (which is log order: a batch is appended to
 * the log and stored in the same order), and every delivered event.
 * Neither walk applies an access rule: they are for the node itself.
 *
 * A second table of operations (cy_fw_store_ops, reached through
 * comity_store.fw) keeps this apart from the TAXII and record operations,
 * so that another backend (PostgreSQL) adds one more table of functions.
 */
#ifndef COMITY_STORE_DELIVERED_H
#define COMITY_STORE_DELIVERED_H

#include <stdbool.h>
#include <stdint.h>

/* One delivered event, borrowed by the callback for the call. */
typedef struct cy_delivered_row {
    const char *id;    /* the message's record id */
    const char *party; /* who was handed it */
    int64_t at_ms;     /* when (the node's clock) */
} cy_delivered_row;

typedef int (*cy_delivered_cb)(const cy_delivered_row *row, void *ctx);

typedef struct cy_fw_store_ops {
    /* Every record, envelope included, in intake order; no access rule.
     * Rows carry seq, id, type, author, created, log_index, the envelope,
     * the signer and created_ms (the other fields may be NULL or 0).
     * cb returns non-zero to stop. */
    comity_err (*replay)(void *impl, cy_record_cb cb, void *ctx, comity_error *err);
    /* The record `id` with its envelope, no access rule: cb once, or
     * NOTFOUND. */
    comity_err (*get)(void *impl, const char *id, cy_record_cb cb, void *ctx,
                      comity_error *err);
    /* Stores the event unless (id, party) is stored already: *added says
     * whether it was new.  */
    comity_err (*delivered_add)(void *impl, const char *id, const char *party, int64_t at_ms,
                                bool *added, comity_error *err);
    /* Every stored event, in the order they were stored. */
    comity_err (*delivered_list)(void *impl, cy_delivered_cb cb, void *ctx, comity_error *err);
    /* Every record's seq, type and created_ms (nothing else set), in
     * intake order: the fold's first walk, which needs no more. */
    comity_err (*times)(void *impl, cy_record_cb cb, void *ctx, comity_error *err);
} cy_fw_store_ops;

static inline comity_err cy_store_fw_replay(comity_store *st, cy_record_cb cb, void *ctx,
                                            comity_error *err)
{
    return st->fw->replay(st->impl, cb, ctx, err);
}
static inline comity_err cy_store_fw_times(comity_store *st, cy_record_cb cb, void *ctx,
                                           comity_error *err)
{
    return st->fw->times(st->impl, cb, ctx, err);
}
static inline comity_err cy_store_fw_get(comity_store *st, const char *id, cy_record_cb cb,
                                         void *ctx, comity_error *err)
{
    return st->fw->get(st->impl, id, cb, ctx, err);
}
static inline comity_err cy_store_delivered_add(comity_store *st, const char *id,
                                                const char *party, int64_t at_ms, bool *added,
                                                comity_error *err)
{
    return st->fw->delivered_add(st->impl, id, party, at_ms, added, err);
}
static inline comity_err cy_store_delivered_list(comity_store *st, cy_delivered_cb cb,
                                                 void *ctx, comity_error *err)
{
    return st->fw->delivered_list(st->impl, cb, ctx, err);
}

#endif
