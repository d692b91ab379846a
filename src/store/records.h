/*
 * records.h: the store's record operations (private; included by store.h).
 *
 * Record intake (src/intake/intake.c) keeps every accepted record here: one
 * row per record with its envelope as received, the fields the node
 * filters on, its log entry's digest and the log index the entry was
 * given, plus one row per recipient.  A second table of operations
 * (cy_record_ops, reached through comity_store.rec) keeps this block apart
 * from the TAXII operations above.
 *
 * Adding a batch of records is one transaction: the record rows, their
 * recipient rows, and the records' STIX wrappers in the TAXII collections
 * they are visible in (with the extension definition that defines the
 * wrapper type).  The log entries are made durable before this is called
 * (see docs/node.md, "Nothing acknowledged is ever lost").
 *
 * Access is decided in the query itself, so that a page never counts rows
 * the reader may not see: clear to anyone, green to any authenticated
 * principal, amber / amber+strict / red to the author and the recipients.
 */
#ifndef COMITY_STORE_RECORDS_H
#define COMITY_STORE_RECORDS_H

#include <stdbool.h>
#include <stdint.h>

#define CY_RECORD_ID_MAX (COMITY_RECORD_TYPE_MAX + 2 + 36 + 1)
/* A record's STIX wrapper (specs/records.md, "Records on TAXII"): the type,
 * and the extension definition that defines it */
#define CY_RECORD_WRAPPER_TYPE "x-comity-record"
#define CY_RECORD_EXTDEF_ID "extension-definition--2c1a0082-a8cc-4202-b69c-83158d21721a"
/* TAXII collections one record is copied into: its author's inbox and
 * one per recipient (COMITY_RECORD_MAX_TO) */
#define CY_RECORD_COLLS_MAX (COMITY_RECORD_MAX_TO + 1)

/* One record to add.  All pointers borrowed for the call. */
typedef struct cy_record_in {
    const char *id, *type, *author, *tlp, *created;
    int64_t created_ms;
    const char *digest; /* 64 hex */
    uint64_t log_index;
    int64_t received_us;
    const char *envelope;
    size_t envelope_len;
    const char *const *to;
    size_t nto;
    /* TAXII projection: the wrapper object and the collections it goes to
     * (its JSON is rendered from the record's row when read) */
    const char *stix_id, *stix_version; /* version = created */
    int64_t stix_version_us;
    const int64_t *colls; /* ncolls collection numbers (at most CY_RECORD_COLLS_MAX) */
    size_t ncolls;
} cy_record_in;

/* The object every collection holding a wrapper also gets (the extension
 * definition); added once per collection (duplicates skipped). */
typedef struct cy_record_extdef {
    const char *id, *version;
    int64_t version_us;
    const char *json;
    size_t json_len;
} cy_record_extdef;

/* One stored record, borrowed by the callback for the duration of the call. */
typedef struct cy_record_row {
    int64_t seq;
    const char *id, *type, *author, *tlp, *created, *digest;
    uint64_t log_index;
    int64_t received_us;
    const char *envelope; /* NULL unless asked for */
    size_t envelope_len;
} cy_record_row;

/* A filtered page, ordered by seq (intake order).  Filters are ANDed;
 * NULL / 0 means no filter. */
typedef struct cy_record_query {
    const char *id;
    const char *type, *author, *to;
    int64_t since_ms;   /* created >= since (0: any) */
    int64_t after_seq;  /* cursor: seq > this */
    size_t limit;
    const char *viewer; /* principal name, NULL = anonymous */
    bool with_envelope;
} cy_record_query;

typedef int (*cy_record_cb)(const cy_record_row *row, void *ctx);

/* cy_store_records_add flags */
#define CY_STORE_NOSYNC 1u /* commit without waiting for the disk (see sync) */

typedef struct cy_record_ops {
    /* NOTFOUND when absent; digest gets 64 hex + NUL. */
    comity_err (*find)(void *impl, const char *id, char digest[65], uint64_t *log_index,
                       comity_error *err);
    /* find for n ids at once (one read transaction): found[i] says
     * whether ids[i] is stored, and then digests[i], log_index[i] are set.
     * Meant for record intake's committer, like add with CY_STORE_NOSYNC:
     * the SQLite backend runs both on one connection, one call at a time. */
    comity_err (*find_many)(void *impl, const char *const *ids, size_t n, char (*digests)[65],
                            uint64_t *log_index, bool *found, comity_error *err);
    comity_err (*add)(void *impl, const cy_record_in *recs, size_t n,
                      const cy_record_extdef *extdef, unsigned flags, comity_error *err);
    /* every transaction committed so far durable */
    comity_err (*sync)(void *impl, comity_error *err);
    /* ready for a stream of CY_STORE_NOSYNC adds and syncs (intake start);
     * a failure leaves the store working, only slower */
    comity_err (*prepare)(void *impl, comity_error *err);
    comity_err (*query)(void *impl, const cy_record_query *q, cy_record_cb cb, void *ctx,
                        bool *more, comity_error *err);
    /* Every record with seq > after_seq, no access filter (recovery). */
    comity_err (*tail)(void *impl, int64_t after_seq, cy_record_cb cb, void *ctx,
                       comity_error *err);
    comity_err (*set_index)(void *impl, int64_t seq, uint64_t log_index, comity_error *err);
} cy_record_ops;

static inline comity_err cy_store_record_find(comity_store *st, const char *id,
                                              char digest[65], uint64_t *log_index,
                                              comity_error *err)
{
    return st->rec->find(st->impl, id, digest, log_index, err);
}
static inline comity_err cy_store_record_find_many(comity_store *st, const char *const *ids,
                                                   size_t n, char (*digests)[65],
                                                   uint64_t *log_index, bool *found,
                                                   comity_error *err)
{
    return st->rec->find_many(st->impl, ids, n, digests, log_index, found, err);
}
/* Adds n records in one transaction (all or none), durable when it
 * returns.  EXISTS if an id is already stored (the caller checks with find
 * first). */
static inline comity_err cy_store_records_add(comity_store *st, const cy_record_in *recs,
                                              size_t n, const cy_record_extdef *extdef,
                                              comity_error *err)
{
    return st->rec->add(st->impl, recs, n, extdef, 0, err);
}
/* The same, committed without waiting for the disk: the rows are visible
 * at once but may be lost in a crash until cy_store_records_sync returns
 * (called after it, from any thread).  Record intake commits batch after
 * batch this way and syncs them in another thread (src/intake/intake.c). */
static inline comity_err cy_store_records_add_nosync(comity_store *st, const cy_record_in *recs,
                                                     size_t n, const cy_record_extdef *extdef,
                                                     comity_error *err)
{
    return st->rec->add(st->impl, recs, n, extdef, CY_STORE_NOSYNC, err);
}
/* Every transaction committed before the call durable when it returns. */
static inline comity_err cy_store_records_sync(comity_store *st, comity_error *err)
{
    return st->rec->sync(st->impl, err);
}
/* Readies the store for record intake (SQLite: gives its WAL file room,
 * so that intake's syncs overwrite blocks rather than grow the file).  An
 * error is worth a warning, not a stop: the store works without. */
static inline comity_err cy_store_records_prepare(comity_store *st, comity_error *err)
{
    return st->rec->prepare(st->impl, err);
}
/* Calls cb for at most q->limit visible rows; *more says whether more remain. */
static inline comity_err cy_store_records_query(comity_store *st, const cy_record_query *q,
                                                cy_record_cb cb, void *ctx, bool *more,
                                                comity_error *err)
{
    return st->rec->query(st->impl, q, cb, ctx, more, err);
}
static inline comity_err cy_store_records_tail(comity_store *st, int64_t after_seq,
                                               cy_record_cb cb, void *ctx, comity_error *err)
{
    return st->rec->tail(st->impl, after_seq, cb, ctx, err);
}
static inline comity_err cy_store_record_set_index(comity_store *st, int64_t seq,
                                                   uint64_t log_index, comity_error *err)
{
    return st->rec->set_index(st->impl, seq, log_index, err);
}

#endif
