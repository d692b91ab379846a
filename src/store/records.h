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
 * recipient rows, and the records' projections into TAXII collections (an
 * object row per (record, collection) that the reader renders from the
 * record: the STIX wrapper of src/stix), with the object the caller gives
 * beside them (the extension definition that defines the wrapper type).
 * The log entries are made durable before this is called (see
 * docs/node.md, "Nothing acknowledged is ever lost").
 *
 * Who may see a record is not the store's to decide: every read that
 * returns records (or projections of them) takes a cy_record_filter, made
 * by src/record's rule, and the backend compiles it into the query itself,
 * so that a page never counts rows the reader may not see.
 */
#ifndef COMITY_STORE_RECORDS_H
#define COMITY_STORE_RECORDS_H

#include <stdbool.h>
#include <stdint.h>

#define CY_RECORD_ID_MAX (COMITY_RECORD_TYPE_MAX + 2 + 36 + 1)
/* TAXII collections one record is copied into: its author's inbox and
 * one per recipient (COMITY_RECORD_MAX_TO) */
#define CY_RECORD_COLLS_MAX (COMITY_RECORD_MAX_TO + 1)

/* One record to add.  All pointers borrowed for the call.  The store
 * keeps the fields as given (they were checked by the record parser) and
 * never interprets them: tlp, author and to[] only take part in
 * cy_record_filter matches, created_ms in since filters. */
typedef struct cy_record_in {
    const char *id;      /* unique among records */
    const char *type, *author, *tlp, *created;
    int64_t created_ms;
    const char *digest; /* 64 hex */
    uint64_t log_index;
    int64_t received_us;
    const char *envelope; /* kept byte for byte */
    size_t envelope_len;
    const char *const *to; /* recipients; a name listed twice is kept once */
    size_t nto;
    /* TAXII projection: the object that shows the record in each of the
     * collections colls[] (no JSON stored: readers render it from the
     * record, see cy_obj_row.record).  stix_id is "<type>--<uuid>" with
     * the record id's uuid (an id filter finds the projection through its
     * record), and its type is the object's type. */
    const char *stix_id, *stix_version; /* version = created */
    int64_t stix_version_us;
    const char *stix_spec_version, *stix_media_type; /* required when ncolls > 0 */
    const int64_t *colls; /* ncolls collection numbers (at most CY_RECORD_COLLS_MAX) */
    size_t ncolls;
    /* W: when the witness quorum first cosigned a checkpoint of the
     * record's origin covering it (ms; docs/federation.md, section 6),
     * kept in table record_witnessed with the record; 0: unknown, none
     * kept */
    int64_t witnessed_ms;
    /* the name of the office's user whose key signed it (intake's rule
     * `signature`, record/signer.h); NULL or "": the author's own key, or
     * its home node's log key.  Kept in the row for the framework's fold
     * (a signer revoked later: docs/federation.md, section 7) */
    const char *signer;
} cy_record_in;

/* An object every collection holding a projection also gets (the
 * extension definition that defines the projection's type), with its
 * JSON; its id is "<type>--<uuid>".  Added once per collection: a second
 * add of the same (id, version) is skipped. */
typedef struct cy_record_extdef {
    const char *id, *version;
    int64_t version_us;
    const char *json;
    size_t json_len;
    const char *spec_version, *media_type; /* required */
} cy_record_extdef;

/* One stored record, borrowed by the callback for the duration of the
 * call.  seq is the record's place in intake order: assigned by add,
 * increasing in the order of the batch and across batches, never reused. */
typedef struct cy_record_row {
    int64_t seq;
    const char *id, *type, *author, *tlp, *created, *digest;
    uint64_t log_index;
    int64_t received_us;
    const char *envelope; /* NULL unless asked for */
    size_t envelope_len;
    /* cy_record_in.signer, read by the framework's walks only
     * (cy_store_fw_replay, cy_store_fw_get); NULL: none, or a record
     * stored before signers were kept (seq <= meta `signer_kept_after`) */
    const char *signer;
    /* cy_record_in.created_ms, read by the framework's walks only
     * (cy_store_fw_times, _replay, _get; 0 elsewhere) */
    int64_t created_ms;
} cy_record_row;

/* Which records a reader may see, as data the backend compiles into its
 * query (so that a page counts only visible rows).  The rule that fills it
 * is src/record's (cy_record_visibility, record/visible.h); the store never
 * decides who sees what, it only evaluates this:
 *
 *   a record is visible  iff  its tlp is one of tlps[0..ntlps)
 *                         or  its author equals `author` (when not "")
 *                         or  one of its recipients equals one of to[0..nto)
 *
 * An all-empty filter (ntlps = nto = 0, author "") shows nothing.  The
 * strings in tlps are borrowed and must outlive the filter (the rule hands
 * out static strings); author and to are held in the value, so a filter may
 * be copied freely. */
#define CY_FILTER_TLPS_MAX 8
#define CY_FILTER_TO_MAX 4
typedef struct cy_record_filter {
    const char *tlps[CY_FILTER_TLPS_MAX];
    size_t ntlps;
    char author[COMITY_PARTY_MAX + 1];
    char to[CY_FILTER_TO_MAX][COMITY_PARTY_MAX + 1];
    size_t nto;
} cy_record_filter;

/* A filtered page, ordered by seq (intake order).  Filters are ANDed;
 * NULL / 0 means no filter, except `visible`, which is required. */
typedef struct cy_record_query {
    const char *id;
    const char *type, *author, *to;
    int64_t since_ms;   /* created >= since (0: any) */
    int64_t after_seq;  /* cursor: seq > this */
    size_t limit;
    const cy_record_filter *visible; /* who reads (required: USAGE when NULL) */
    bool with_envelope;
} cy_record_query;

typedef int (*cy_record_cb)(const cy_record_row *row, void *ctx);

/* cy_store_records_add flags */
#define CY_STORE_NOSYNC 1u /* commit without waiting for the disk (see sync) */

/* The record operations of a backend; each has the contract of its
 * wrapper below, with the backend's state `impl` first. */
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
    /* NOTFOUND when no W is kept for the record `id`. */
    comity_err (*witnessed)(void *impl, const char *id, int64_t *w_ms, comity_error *err);
} cy_record_ops;

/* The digest and log index of the record `id`, without any filter (for
 * intake: is this id taken?).  NOTFOUND when absent. */
static inline comity_err cy_store_record_find(comity_store *st, const char *id,
                                              char digest[65], uint64_t *log_index,
                                              comity_error *err)
{
    return st->rec->find(st->impl, id, digest, log_index, err);
}
/* The W kept for record `id` (cy_record_in.witnessed_ms, written with
 * the record): NOTFOUND when none is (not pulled with a witness policy,
 * or logged here: its W is in the log's table `cosigned`). */
static inline comity_err cy_store_record_witnessed(comity_store *st, const char *id,
                                                   int64_t *w_ms, comity_error *err)
{
    return st->rec->witnessed(st->impl, id, w_ms, err);
}
/* find for n ids in one snapshot: found[i], and then digests[i] and
 * log_index[i].  Called by one thread at a time (intake's committer). */
static inline comity_err cy_store_record_find_many(comity_store *st, const char *const *ids,
                                                   size_t n, char (*digests)[65],
                                                   uint64_t *log_index, bool *found,
                                                   comity_error *err)
{
    return st->rec->find_many(st->impl, ids, n, digests, log_index, found, err);
}
/* Adds n records in one transaction (all or none), durable when it
 * returns: their rows, their recipients, and each record's projection
 * into each of its collections colls[] (one object row per (record,
 * collection), whatever the number of collections a batch touches), all
 * projections of one collection with one date_added later than any
 * already there (as cy_store_objects_add), plus `extdef` (may be NULL)
 * once in every collection that receives a projection.  EXISTS if an id is
 * already stored (the caller checks with find first); USAGE when a
 * projection lacks its spec version or media type. */
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
/* The records q selects that q->visible passes, in seq order: cb for at
 * most q->limit of them; *more says whether more remain (rows the filter
 * hides are never counted).  USAGE without q->visible. */
static inline comity_err cy_store_records_query(comity_store *st, const cy_record_query *q,
                                                cy_record_cb cb, void *ctx, bool *more,
                                                comity_error *err)
{
    return st->rec->query(st->impl, q, cb, ctx, more, err);
}
/* Every record with seq > after_seq, in seq order, without envelopes and
 * without any filter (the node's recovery at start); cb may call the
 * store. */
static inline comity_err cy_store_records_tail(comity_store *st, int64_t after_seq,
                                               cy_record_cb cb, void *ctx, comity_error *err)
{
    return st->rec->tail(st->impl, after_seq, cb, ctx, err);
}
/* Sets the log index of the record `seq` (recovery re-logged it); durable
 * on return.  No error when no record has that seq. */
static inline comity_err cy_store_record_set_index(comity_store *st, int64_t seq,
                                                   uint64_t log_index, comity_error *err)
{
    return st->rec->set_index(st->impl, seq, log_index, err);
}

#endif
