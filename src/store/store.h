/*
 * store.h: the node's storage interface (private to libcomity).
 *
 * This header is the whole contract between the node and a storage
 * backend: a second backend (PostgreSQL) implements the three tables of
 * operations below (cy_store_ops here, cy_record_ops in store/records.h,
 * cy_fw_store_ops in store/delivered.h) from what is written here, and the
 * callers use only the cy_store_* wrappers.  The embedded backend is SQLite
 * (store_sqlite.c); comity_store_open("sqlite:PATH" | PATH) picks it, and
 * "postgresql://..." (or "postgres:KEYWORDS") picks PostgreSQL
 * (store_pg.c, docs/operations.md).  store.c holds the choice.
 *
 * The store keeps what it is given and answers what it is asked; it holds
 * no rule of comity.  Who may read a collection is decided by the caller
 * (node/access.c) from the rule strings the store keeps; who may see a
 * record is decided by src/record (record/visible.h) and handed to the
 * store as a declarative filter (cy_record_filter) that the backend
 * compiles into its query; the STIX object that shows a record over TAXII
 * is rendered by src/stix from the record's row.  Nothing here knows a TLP
 * label, a STIX type or a record type.
 *
 * What is stored (SQLite table names; another backend may lay it out as
 * it likes, only the behaviour below counts):
 *   meta         key/value settings of the node (origin, api root title...)
 *   principals   who may log in: parties registered by the operator, and the
 *                operator account; API tokens are kept only as SHA-256 hashes
 *   principal_users  the keys of an office's users (officers), beside the
 *                office's own key: name, valid from, revoked at and why
 *   collections  TAXII collections with their sharing rules (strings)
 *   objects      STIX objects per collection, one row per (id, version),
 *                and record projections (store/records.h)
 *   status       TAXII status resources of past POSTs (JSON), kept 7 days
 *                Each posted object's row also names its owner (below).
 *   object_owner the owners of ids whose objects were deleted (a claim
 *                outlives its objects); read only for an id with no row
 *   registrations  registration requests awaiting the operator
 *   records, record_to   accepted records (store/records.h)
 *   delivered    framework "delivered" events (store/delivered.h)
 *
 * Contract common to every operation
 *
 *   Threads.  Every operation may be called from many threads at once on
 *   one handle, and from several processes on one database (the CLI's
 *   `comity party add` writes the store of a running node).  The SQLite
 *   backend keeps a pool of connections (one per concurrent caller) and
 *   serialises writers with BEGIN IMMEDIATE and a busy wait.
 *
 *   Transactions.  Each operation is atomic: it is applied whole or not at
 *   all, including the batch operations (objects_add, objects_delete,
 *   records_add).  Reads see a consistent snapshot for the duration of the
 *   call (one page is one snapshot; successive pages are not).
 *
 *   Durability.  A write is durable (survives a crash of the process or
 *   the machine) when its call returns COMITY_OK, with two named
 *   exceptions: records added with cy_store_records_add_nosync (durable
 *   when a later cy_store_records_sync returns) and status resources
 *   (cy_store_status_put, which may be lost with the machine's power:
 *   they only report on objects already durable).
 *
 *   Arguments.  Every pointer argument is borrowed for the call and not
 *   kept.  Strings are NUL-terminated UTF-8 unless a length goes with them.
 *   Callers have checked lengths against the caps below before calling.
 *
 *   Results.  Rows handed to a callback (cy_*_row) and the strings in them
 *   are borrowed for that callback only: copy what must outlive it.  A
 *   callback returns 0 to go on, non-zero to stop the walk early (not an
 *   error).  Unless said otherwise a callback must not call the store on
 *   the same thread (the row may be held on a connection); the walks meant
 *   for start-up (records_tail, fw_replay, fw_get, delivered_list) allow it.
 *   OUT strings (char **) are allocated with cy_malloc and freed by the
 *   caller with cy_free; fixed-size OUT structs are filled in.
 *
 *   Errors.  COMITY_OK, or one of:
 *     COMITY_ERR_NOTFOUND  the thing asked for is absent (said per operation)
 *     COMITY_ERR_EXISTS    a unique key is taken (said per operation)
 *     COMITY_ERR_LOCKED    the database stayed busy (another writer) past
 *                          the backend's wait (10 s for SQLite)
 *     COMITY_ERR_TOOBIG    a query would exceed a named cap (FILTER_MAX
 *                          values in one filter, the query text)
 *     COMITY_ERR_USAGE     the call itself is wrong (a record query
 *                          without a filter, a delete without an id)
 *     COMITY_ERR_NOMEM     out of memory
 *     COMITY_ERR_DB        anything else the database said; also a
 *                          database whose schema is newer than the build
 *   with a message in *err (which may be NULL) saying what failed.  The
 *   code returned does not depend on whether err is NULL.
 *
 *   Times are microseconds since the Unix epoch (int64) unless the name
 *   says _ms.  Schema: the backend creates and migrates its own schema when
 *   opened (SQLite: user_version and numbered migrations, sqlite/db.h) and
 *   refuses a database newer than itself.
 */
#ifndef COMITY_STORE_H
#define COMITY_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "base/base.h"

/* Field caps: longer input is refused before it reaches the store. */
#define CY_ACCESS_MAX 96   /* "party:pk.mofa", "state:pk", "public" ... */
#define CY_TITLE_MAX 256
#define CY_VKEY_MAX 256
#define CY_RECIPIENT_MAX 128
#define CY_TOKEN_HASH_HEX 65 /* 64 hex + NUL */

/* How long a TAXII status resource is kept (7 days). */
#define CY_STATUS_KEEP_US (7LL * 24 * 3600 * 1000000)

/* The schema version this build writes (PRAGMA user_version for SQLite). */
#define CY_STORE_SCHEMA_VERSION 15
/* The same for PostgreSQL (its row "store" in comity_schema, pg/db.h):
 * its version 1 is SQLite's 6, its version 2 SQLite's 7 (federation),
 * its version 3 SQLite's 8 (owners in the objects' rows), its version 4
 * SQLite's 9 (registration requests), its version 5 SQLite's 10 (an
 * office's users' keys), its version 6 SQLite's 11 (W of pulled records
 * and of users' revocations), its version 7 SQLite's 12 (a principal's
 * own key's revocation and its W), its 8 SQLite's 13 (each record's
 * signer), its 9 SQLite's 14 (users_gen bumped by a principal's own
 * key's revocation). */
#define CY_STORE_PG_SCHEMA_VERSION 9

typedef struct cy_principal {
    char name[COMITY_PARTY_MAX + 1];
    char kind[16]; /* "party" or "operator" */
    char vkey[CY_VKEY_MAX];
    char recipient[CY_RECIPIENT_MAX];
    int64_t created;
    /* its own key's revocation (an office's by its state's party record,
     * a state key's by a quorum of admitters), as `roster apply` wrote
     * it: revoked_ms 0 when not revoked (the created time of the record
     * that revoked it), revoked_w_ms that record's W (ms; 0: unknown);
     * src/record/signer.h weighs them */
    int64_t revoked_ms;
    int64_t revoked_w_ms;
} cy_principal;

/* A registration request awaiting the operator (node/enrol.c decides what
 * one must hold and prove; the store keeps it as given).  Plain data. */
#define CY_REG_NOTE_MAX 1024 /* bytes of a note kept, NUL included */
#define CY_REG_SIG_MAX 100   /* base64 of the 64-byte signature, NUL included */
#define CY_REG_ADDR_MAX 64   /* the client address it came from, NUL included */
typedef struct cy_registration {
    char party[COMITY_PARTY_MAX + 1];
    char vkey[CY_VKEY_MAX];
    char recipient[CY_RECIPIENT_MAX];
    char note[CY_REG_NOTE_MAX];
    char created[CY_TIME_BUF]; /* as the newcomer signed it */
    char signature[CY_REG_SIG_MAX];
    int64_t received_us;
    char address[CY_REG_ADDR_MAX];
} cy_registration;

typedef struct cy_collection {
    int64_t n; /* store key, used in object rows */
    char id[CY_UUID_BUF];
    char api_root[64];
    char alias[CY_ACCESS_MAX];
    char title[CY_TITLE_MAX];
    char description[CY_TITLE_MAX];
    char read[CY_ACCESS_MAX];  /* who may read */
    char write[CY_ACCESS_MAX]; /* who may write */
} cy_collection;

/* One object to add.  All pointers borrowed for the call. */
typedef struct cy_obj_in {
    const char *id;
    const char *type;
    const char *spec_version;
    const char *version; /* modified or created text; NULL when unversioned */
    int64_t version_us;  /* 0 when unversioned */
    const char *media_type;
    const char *json; /* compact JSON text of the object */
    size_t json_len;
} cy_obj_in;

/* One stored object, borrowed by the callback for the duration of the call. */
typedef struct cy_obj_row {
    int64_t seq;
    int64_t date_added;
    int64_t version_us;
    const char *id;
    const char *type;
    const char *spec_version;
    const char *version; /* NULL when unversioned */
    const char *media_type;
    const char *json; /* NULL unless the query asked for it, and for a projection */
    size_t json_len;
    /* A record's projection (cy_record_in.colls): the record it shows, its
     * envelope set when the query asked for JSON; the caller renders the
     * object from it.  NULL for an object stored with its own JSON. */
    const struct cy_record_row *record;
} cy_obj_row;

enum { CY_V_LAST = 1, CY_V_FIRST = 2, CY_V_ALL = 4 };

/* A filtered page of a collection, ordered by (date_added, seq).  The
 * filters are ANDed; an empty list (n = 0) does not filter.
 *   ids / types / spec_versions  the object's id / type / spec_version is
 *                one of these (TAXII match[id], match[type],
 *                match[spec_version])
 *   vflags, versions  which versions of each id: CY_V_LAST (its newest),
 *                CY_V_FIRST (its oldest), CY_V_ALL, or any version_us in
 *                versions[] (ORed); vflags 0 with no versions means LAST
 *   has_added_after  date_added > added_after
 *   has_after    (date_added, seq) > (after_date, after_seq): the position
 *                after the last row of the previous page (`next`) */
typedef struct cy_obj_query {
    int64_t coll;
    bool has_added_after;
    int64_t added_after; /* date_added > this */
    bool has_after;      /* position from a `next` token */
    int64_t after_date, after_seq;
    size_t limit; /* at most this many rows to the callback */
    const char *const *ids;
    size_t nids;
    const char *const *types;
    size_t ntypes;
    unsigned vflags; /* CY_V_* ; 0 with nversions == 0 means CY_V_LAST */
    const int64_t *versions;
    size_t nversions;
    const char *const *spec_versions; /* NULL: any (all are 2.1 today) */
    size_t nspec;
    bool with_json;
    /* Projections of records this filter does not pass are left out, as
     * if absent (paging counts only what is returned).  NULL: none left
     * out (the node's own reads; a reader's request always sets it).
     * Ignored by delete. */
    const struct cy_record_filter *visible;
} cy_obj_query;

/* Return non-zero to stop early. */
typedef int (*cy_obj_cb)(const cy_obj_row *row, void *ctx);
typedef int (*cy_principal_cb)(const cy_principal *p, void *ctx);
typedef int (*cy_collection_cb)(const cy_collection *c, void *ctx);
typedef int (*cy_registration_cb)(const cy_registration *g, void *ctx);

/* One user's key of a principal (an office's officer, named in its party
 * record's users[]; docs/federation.md, section 1).  The store keeps what
 * it is given: src/sync/roster.c decides the values, src/record/signer.c
 * what they mean for a signature.  Plain data. */
#define CY_USER_NAME_MAX 201 /* CY_ROSTER_TEXT_MAX (200) bytes + NUL */
typedef struct cy_principal_user {
    char principal[COMITY_PARTY_MAX + 1];
    char name[CY_USER_NAME_MAX];
    char vkey[CY_VKEY_MAX];
    int64_t valid_from_ms; /* -1: none (valid from the start) */
    int64_t revoked_ms;    /* -1: not revoked */
    char reason[CY_USER_NAME_MAX]; /* why revoked ("" when not) */
    int64_t revoked_w_ms; /* W of the record that revoked it (ms); 0: unknown */
} cy_principal_user;
typedef int (*cy_principal_user_cb)(const cy_principal_user *u, void *ctx);

/* A backend's operations on collections, objects, principals, settings
 * and status resources: each has the contract of its cy_store_* wrapper
 * below, with the backend's state `impl` first.  Every member is
 * required. */
typedef struct cy_store_ops {
    const char *name; /* "sqlite", "postgres" */
    void (*close)(void *impl);
    comity_err (*meta_get)(void *impl, const char *key, char **val, comity_error *err);
    comity_err (*meta_set)(void *impl, const char *key, const char *val, comity_error *err);
    comity_err (*principal_add)(void *impl, const cy_principal *p, const char *token_hash,
                                comity_error *err);
    comity_err (*principal_set_token)(void *impl, const char *name, const char *token_hash,
                                      comity_error *err);
    comity_err (*principal_get)(void *impl, const char *name, cy_principal *out,
                                char token_hash[CY_TOKEN_HASH_HEX], comity_error *err);
    comity_err (*principal_by_token)(void *impl, const char *token_hash, cy_principal *out,
                                     comity_error *err);
    comity_err (*principal_list)(void *impl, cy_principal_cb cb, void *ctx, comity_error *err);
    comity_err (*collection_add)(void *impl, const cy_collection *c, comity_error *err);
    comity_err (*collection_get)(void *impl, const char *api_root, const char *id,
                                 cy_collection *out, comity_error *err);
    comity_err (*collection_list)(void *impl, const char *api_root, cy_collection_cb cb,
                                  void *ctx, comity_error *err);
    comity_err (*objects_add)(void *impl, int64_t coll, const cy_obj_in *objs, size_t n,
                              const char *owner, size_t max_held, int64_t *date_added,
                              uint8_t *added, comity_error *err);
    comity_err (*objects_query)(void *impl, const cy_obj_query *q, cy_obj_cb cb, void *ctx,
                                bool *more, comity_error *err);
    comity_err (*objects_delete)(void *impl, const cy_obj_query *q, size_t *deleted,
                                 comity_error *err);
    comity_err (*status_put)(void *impl, const char *id, const char *api_root,
                             const char *owner, int64_t created, const char *json,
                             comity_error *err);
    comity_err (*status_get)(void *impl, const char *api_root, const char *id, char **json,
                             char owner[COMITY_PARTY_MAX + 1], comity_error *err);
    comity_err (*object_owner)(void *impl, int64_t coll, const char *id,
                               char owner[COMITY_PARTY_MAX + 1], comity_error *err);
    comity_err (*size_bytes)(void *impl, uint64_t *bytes, comity_error *err);
    comity_err (*reg_add)(void *impl, const cy_registration *g, size_t max, comity_error *err);
    comity_err (*reg_list)(void *impl, cy_registration_cb cb, void *ctx, comity_error *err);
    comity_err (*reg_remove)(void *impl, const char *party, const char *vkey,
                             comity_error *err);
    comity_err (*user_put)(void *impl, const cy_principal_user *u, comity_error *err);
    comity_err (*user_list)(void *impl, const char *principal, cy_principal_user_cb cb,
                            void *ctx, comity_error *err);
    comity_err (*principal_set_revoked)(void *impl, const char *name, const char *vkey,
                                        int64_t revoked_ms, int64_t revoked_w_ms,
                                        comity_error *err);
} cy_store_ops;

struct cy_record_ops;
struct cy_fw_store_ops;
struct cy_peer_ops;
/* The handle: a backend fills all five members when it opens. */
typedef struct comity_store comity_store;
struct comity_store {
    const cy_store_ops *ops;
    void *impl;
    const struct cy_record_ops *rec; /* record intake (see the block at the end) */
    const struct cy_fw_store_ops *fw; /* framework events (store/delivered.h) */
    const struct cy_peer_ops *peer;   /* federation (the section at the end) */
};

/* Opens (creating and migrating if needed) the SQLite store at `path`.
 * OUT *st: release with comity_store_close (which closes the backend
 * through ops->close; close must tolerate a half-opened backend). */
comity_err cy_store_sqlite_open(const char *path, comity_store **st, comity_error *err);

/* Connects to (creating and migrating if needed) the PostgreSQL store of
 * the libpq connection string `conninfo` (a "postgresql://" URI or
 * keyword=value pairs), its tables in the first schema of the search_path.
 * OUT *st: comity_store_close.  COMITY_ERR_DB when the server cannot be
 * reached, runs with fsync=off, or holds a newer schema. */
comity_err cy_store_pg_open(const char *conninfo, comity_store **st, comity_error *err);

/* A node's storage (SQLite by default).  `uri` is a file path or
 * "sqlite:PATH" (SQLite), or "postgresql://..." / "postgres://..." (a
 * libpq URI) or "postgres:KEY=VALUE ..." (libpq keywords) for
 * PostgreSQL.  Creates and migrates the schema.  OUT *st:
 * comity_store_close.  Safe to use from many threads at once.  Internal
 * since a node's store is the node's alone (the node and the tests open
 * it; nobody else writes to it).  A backend whose tables of operations
 * miss one is refused (COMITY_ERR_INTERNAL, naming it). */
comity_err comity_store_open(const char *uri, comity_store **st, comity_error *err);
void comity_store_close(comity_store *st);

/* Whether every operation of the store's three tables is set; OUT
 * *missing (may be NULL) gets "store 3" (the 3rd function of
 * cy_store_ops), "record 2" or "fw 1" for the first one that is not. */
bool cy_store_ops_complete(const comity_store *st, char missing[32]);

/* ---- wrappers: what callers use --------------------------------------- */

/* A setting.  OUT *val: NUL-terminated, caller frees (cy_free).  NOTFOUND
 * when absent. */
static inline comity_err cy_store_meta_get(comity_store *st, const char *key, char **val,
                                           comity_error *err)
{
    return st->ops->meta_get(st->impl, key, val, err);
}
/* The bytes the store takes on its disk (OUT *bytes): SQLite, the pages
 * of its database file (the WAL not counted); PostgreSQL, the node's
 * tables with their indexes and TOAST in the connection's schema.  For
 * the operator (/metrics), read when asked. */
static inline comity_err cy_store_size_bytes(comity_store *st, uint64_t *bytes,
                                             comity_error *err)
{
    return st->ops->size_bytes(st->impl, bytes, err);
}
/* Sets (inserts or replaces) a setting; durable on return. */
static inline comity_err cy_store_meta_set(comity_store *st, const char *key,
                                           const char *val, comity_error *err)
{
    return st->ops->meta_set(st->impl, key, val, err);
}
/* Registers a principal with the SHA-256 hex of its token.  EXISTS when
 * the name (or the token hash) is taken.  Durable on return, and from then
 * on seen by principal_get / principal_by_token through every handle in
 * every process (a backend that caches principals must drop its cache when
 * any process writes one: a replaced token is refused as soon as the
 * replacement returned). */
static inline comity_err cy_store_principal_add(comity_store *st, const cy_principal *p,
                                                const char *token_hash, comity_error *err)
{
    return st->ops->principal_add(st->impl, p, token_hash, err);
}
/* Replaces a principal's token hash (the same visibility rule as add).
 * NOTFOUND when no principal has that name; EXISTS when the hash is taken. */
static inline comity_err cy_store_principal_set_token(comity_store *st, const char *name,
                                                      const char *token_hash,
                                                      comity_error *err)
{
    return st->ops->principal_set_token(st->impl, name, token_hash, err);
}
/* A principal by name.  OUT *out; token_hash (may be NULL) gets its
 * token's hash.  NOTFOUND when absent.  Called on every request: meant to
 * be fast (SQLite caches found principals). */
static inline comity_err cy_store_principal_get(comity_store *st, const char *name,
                                                cy_principal *out,
                                                char token_hash[CY_TOKEN_HASH_HEX],
                                                comity_error *err)
{
    return st->ops->principal_get(st->impl, name, out, token_hash, err);
}
/* The principal whose token hash this is.  NOTFOUND when none. */
static inline comity_err cy_store_principal_by_token(comity_store *st, const char *token_hash,
                                                     cy_principal *out, comity_error *err)
{
    return st->ops->principal_by_token(st->impl, token_hash, out, err);
}
/* Writes the revocation of principal `name`'s own key `vkey` (revoked_ms
 * 0: none; revoked_w_ms: W, 0 unknown), with the visibility rule of add.
 * NOTFOUND when no principal has that name and key. */
static inline comity_err cy_store_principal_set_revoked(comity_store *st, const char *name,
                                                        const char *vkey, int64_t revoked_ms,
                                                        int64_t revoked_w_ms, comity_error *err)
{
    return st->ops->principal_set_revoked(st->impl, name, vkey, revoked_ms, revoked_w_ms, err);
}
/* Every principal, by name. */
static inline comity_err cy_store_principal_list(comity_store *st, cy_principal_cb cb,
                                                 void *ctx, comity_error *err)
{
    return st->ops->principal_list(st->impl, cb, ctx, err);
}
/* Adds a collection; c->n is ignored (the store assigns it: a positive
 * integer, never reused, that object and record rows refer to).  EXISTS
 * when the id is taken. */
static inline comity_err cy_store_collection_add(comity_store *st, const cy_collection *c,
                                                 comity_error *err)
{
    return st->ops->collection_add(st->impl, c, err);
}
/* A collection by API root and id, with its n.  NOTFOUND when absent. */
static inline comity_err cy_store_collection_get(comity_store *st, const char *api_root,
                                                 const char *id, cy_collection *out,
                                                 comity_error *err)
{
    return st->ops->collection_get(st->impl, api_root, id, out, err);
}
/* Every collection of an API root, in creation order. */
static inline comity_err cy_store_collection_list(comity_store *st, const char *api_root,
                                                  cy_collection_cb cb, void *ctx,
                                                  comity_error *err)
{
    return st->ops->collection_list(st->impl, api_root, cb, ctx, err);
}
/* What cy_store_objects_add did with each object (its added[]). */
enum {
    CY_OBJ_PRESENT = 0, /* a duplicate: its (id, version) was already stored */
    CY_OBJ_ADDED = 1,   /* stored */
    CY_OBJ_HELD = 2     /* not stored: its id is held by another owner */
};

/* Adds n objects to collection `coll` in one transaction, all with one
 * date_added: either all are stored or none.  *date_added is the wanted
 * time (now) on entry and the time used on return: later than any
 * date_added already in the collection (objects and record projections),
 * so that a client resuming with added_after = the last date it saw never
 * misses a later batch.  Each object gets a seq, increasing in the order
 * of objs[], above every seq already stored.  The first / last version
 * marks of each id are kept right (cy_obj_query.vflags).
 *
 * Owners.  Every id of a collection has at most one owner, kept with its
 * objects: the owner given when the id was first stored (objects stored
 * with owner NULL hold none), and it stays after the id's objects are
 * deleted.  With `owner` non-NULL, an object is stored under it when its
 * id has no owner yet or has this one; an object whose id is held by
 * another owner is not stored (added[i] = CY_OBJ_HELD).  Comparing is the
 * store's part; what a claim allows, and what a refusal says, is the
 * caller's (stix/envelope.h).  With `owner` NULL (the node's own objects)
 * nothing is checked and nothing claimed.  The check and the insert are
 * one transaction: two writers never both take one new id.
 *
 * added[i] (may be NULL) says what became of objs[i] (CY_OBJ_*): a
 * duplicate (id, version) is not stored again (CY_OBJ_PRESENT).  When
 * more than `max_held` objects are held by another owner, nothing is
 * stored (the transaction rolls back), added[] still says which were
 * held, and the call fails with COMITY_ERR_DENIED.  Durable on return. */
static inline comity_err cy_store_objects_add(comity_store *st, int64_t coll,
                                              const cy_obj_in *objs, size_t n,
                                              const char *owner, size_t max_held,
                                              int64_t *date_added, uint8_t *added,
                                              comity_error *err)
{
    return st->ops->objects_add(st->impl, coll, objs, n, owner, max_held, date_added, added,
                                err);
}
/* One page of collection q->coll: the rows the query selects, ordered by
 * (date_added, seq), cb called for at most q->limit of them; *more says
 * whether selected rows remain after the last one passed to cb (also set
 * when cb stopped the walk early).  Rows left out by q->visible are not
 * selected: they neither reach cb nor count for the limit or *more.
 * TOOBIG past FILTER_MAX (64) values in one filter list. */
static inline comity_err cy_store_objects_query(comity_store *st, const cy_obj_query *q,
                                                cy_obj_cb cb, void *ctx, bool *more,
                                                comity_error *err)
{
    return st->ops->objects_query(st->impl, q, cb, ctx, more, err);
}
/* Deletes, in one transaction, the versions the query selects (ids,
 * vflags/versions, spec versions; paging fields, types and `visible`
 * ignored; vflags 0 with no versions means every version), fixing the
 * first / last marks; record projections named by id are deleted too.
 * OUT *deleted: rows removed.  USAGE without an id.  Durable on return. */
static inline comity_err cy_store_objects_delete(comity_store *st, const cy_obj_query *q,
                                                 size_t *deleted, comity_error *err)
{
    return st->ops->objects_delete(st->impl, q, deleted, err);
}
/* Stores (or replaces) a TAXII status resource: id, its API root, the
 * principal that made it ("" or NULL: anonymous), created (us) and its
 * JSON.  Drops the resources created more than CY_STATUS_KEEP_US before
 * `created`.  May be lost with the machine's power (see the top). */
static inline comity_err cy_store_status_put(comity_store *st, const char *id,
                                             const char *api_root, const char *owner,
                                             int64_t created, const char *json,
                                             comity_error *err)
{
    return st->ops->status_put(st->impl, id, api_root, owner, created, json, err);
}
/* A status resource.  OUT *json: caller frees (cy_free); owner gets ""
 * for anonymous.  NOTFOUND when absent (or dropped). */
static inline comity_err cy_store_status_get(comity_store *st, const char *api_root,
                                             const char *id, char **json,
                                             char owner[COMITY_PARTY_MAX + 1],
                                             comity_error *err)
{
    return st->ops->status_get(st->impl, api_root, id, json, owner, err);
}

/* Who holds id in coll (see cy_store_objects_add; "" for objects posted
 * before owners were kept); COMITY_ERR_NOTFOUND when nobody does (the
 * node's own objects, which no client posted). */
static inline comity_err cy_store_object_owner(comity_store *st, int64_t coll, const char *id,
                                               char owner[COMITY_PARTY_MAX + 1],
                                               comity_error *err)
{
    return st->ops->object_owner(st->impl, coll, id, owner, err);
}

/* Registration requests awaiting the operator (node/enrol.c; SQLite's
 * table registrations, migration 9; PostgreSQL's migration 4), kept so
 * that a restart does not forget them.  Each call is one transaction,
 * durable on return.
 *
 * Adds g unless a request for g->party is kept (EXISTS) or `max` are kept
 * already (TOOBIG); the count and the insert are one transaction, so that
 * writers at once never keep more than `max`. */
static inline comity_err cy_store_reg_add(comity_store *st, const cy_registration *g,
                                          size_t max, comity_error *err)
{
    return st->ops->reg_add(st->impl, g, max, err);
}
/* Every kept request, oldest received first (then by party); cb may not
 * call the store. */
static inline comity_err cy_store_reg_list(comity_store *st, cy_registration_cb cb, void *ctx,
                                           comity_error *err)
{
    return st->ops->reg_list(st->impl, cb, ctx, err);
}
/* Removes the request of `party` whose key is `vkey`.  NOTFOUND when no
 * such request is kept. */
static inline comity_err cy_store_reg_remove(comity_store *st, const char *party,
                                             const char *vkey, comity_error *err)
{
    return st->ops->reg_remove(st->impl, party, vkey, err);
}

/* The keys of a principal's users (SQLite's table principal_users,
 * migration 10; PostgreSQL's migration 5), beside the principal's own key.
 * Each call is one transaction, durable on return; no rule here.
 *
 * Writes u's row, keyed by (principal, vkey): a new one is added, one
 * kept is replaced by u (its name, validity, revocation). */
static inline comity_err cy_store_user_put(comity_store *st, const cy_principal_user *u,
                                           comity_error *err)
{
    return st->ops->user_put(st->impl, u, err);
}
/* The users of `principal` (NULL: of every principal), by principal then
 * name then vkey; cb may not call the store; non-zero from cb stops. */
static inline comity_err cy_store_user_list(comity_store *st, const char *principal,
                                            cy_principal_user_cb cb, void *ctx,
                                            comity_error *err)
{
    return st->ops->user_list(st->impl, principal, cb, ctx, err);
}

#include "store/records.h"
#include "store/delivered.h"

/* ========================================================================
 * Federation (docs/federation.md): peers, the homes of parties homed at a
 * peer, each peer's pull cursor, and the federation page an origin serves.
 * A table of operations of its own (cy_peer_ops, reached through
 * comity_store.peer), so that a backend adds this block as one more table.
 * SQLite: tables peers and party_home, index records_log (migration 7);
 * PostgreSQL: the same (migration 2).
 *
 * The store keeps and finds; the rules (who is a peer, what a peer may
 * see, when a cursor may move) are src/sync's and src/record's.  Every
 * write below is durable on return, one transaction each.
 * ======================================================================== */

#define CY_PEER_ORIGIN_MAX 59   /* "peer:" + origin is a principal name */
#define CY_PEER_URL_MAX 512
#define CY_PEER_CKPT_MAX 8192   /* a checkpoint note kept for a peer */
#define CY_PEER_ERR_MAX 512
#define CY_PEERS_MAX 64         /* peers of one node */
#define CY_PEER_FILTER_MAX 256  /* names in one cy_peer_filter's to[] */

/* One peer, as stored.  Plain data. */
typedef struct cy_peer {
    char origin[CY_PEER_ORIGIN_MAX + 1]; /* its log key's name */
    char url[CY_PEER_URL_MAX];           /* where it serves */
    char vkey[CY_VKEY_MAX];              /* its log key */
    uint64_t cursor;        /* the next log index of its log to pull from */
    char checkpoint[CY_PEER_CKPT_MAX]; /* the last checkpoint accepted ("" none) */
    uint64_t pulled;        /* records taken from it so far */
    int64_t added_us, last_ok_us, last_try_us; /* 0: never */
    char error[CY_PEER_ERR_MAX]; /* the last pull's error ("" when it went well) */
} cy_peer;

/* What a peer may see, as data (made by cy_record_peer_visibility,
 * record/visible.h; the store only evaluates it):
 *
 *   a record passes  iff  its author has no home row (it is local)
 *                    and ( its tlp is one of tlps[]
 *                       or one of its recipients is one of to[] )
 *
 * Strings are borrowed for the call. */
typedef struct cy_peer_filter {
    const char *const *tlps;
    size_t ntlps;          /* at most CY_FILTER_TLPS_MAX */
    const char *const *to;
    size_t nto;            /* at most CY_PEER_FILTER_MAX */
} cy_peer_filter;

/* A federation page: the records with from <= log_index < to that pass
 * `visible`, in log index order, at most `limit` (and *more when others
 * remain below `to`), with their envelopes. */
typedef struct cy_fed_query {
    uint64_t from, to;
    size_t limit;
    const cy_peer_filter *visible; /* required: USAGE when NULL */
} cy_fed_query;

typedef int (*cy_peer_cb)(const cy_peer *p, void *ctx);
typedef int (*cy_name_cb)(const char *name, void *ctx);

typedef struct cy_peer_ops {
    comity_err (*add)(void *impl, const cy_peer *p, comity_error *err);
    comity_err (*get)(void *impl, const char *origin, cy_peer *out, comity_error *err);
    comity_err (*list)(void *impl, cy_peer_cb cb, void *ctx, comity_error *err);
    comity_err (*remove)(void *impl, const char *origin, comity_error *err);
    comity_err (*advance)(void *impl, const char *origin, int64_t added_us, uint64_t cursor,
                          const char *checkpoint, uint64_t pulled, int64_t at_us,
                          comity_error *err);
    comity_err (*note)(void *impl, const char *origin, int64_t added_us, const char *error,
                       int64_t at_us, comity_error *err);
    comity_err (*home_set)(void *impl, const char *party, const char *origin,
                           comity_error *err);
    comity_err (*home_get)(void *impl, const char *party, char origin[CY_PEER_ORIGIN_MAX + 1],
                           comity_error *err);
    comity_err (*home_list)(void *impl, const char *origin, cy_name_cb cb, void *ctx,
                            comity_error *err);
    comity_err (*records_last)(void *impl, uint64_t *log_index, int64_t *received_us,
                               bool *found, comity_error *err);
    comity_err (*fed_page)(void *impl, const cy_fed_query *q, cy_record_cb cb, void *ctx,
                           bool *more, comity_error *err);
    comity_err (*home_move)(void *impl, const char *party, const char *from, const char *to,
                            comity_error *err);
} cy_peer_ops;

/* Adds a peer (cursor 0, no checkpoint, no error; p->added_us kept).
 * EXISTS when its origin is taken. */
static inline comity_err cy_store_peer_add(comity_store *st, const cy_peer *p, comity_error *err)
{
    return st->peer->add(st->impl, p, err);
}
/* A peer by origin.  NOTFOUND when absent (or removed). */
static inline comity_err cy_store_peer_get(comity_store *st, const char *origin, cy_peer *out,
                                           comity_error *err)
{
    return st->peer->get(st->impl, origin, out, err);
}
/* Every peer, by origin; cb may not call the store. */
static inline comity_err cy_store_peer_list(comity_store *st, cy_peer_cb cb, void *ctx,
                                            comity_error *err)
{
    return st->peer->list(st->impl, cb, ctx, err);
}
/* Removes a peer (its parties' home rows stay: their keys and records
 * stay valid).  NOTFOUND when absent. */
static inline comity_err cy_store_peer_remove(comity_store *st, const char *origin,
                                              comity_error *err)
{
    return st->peer->remove(st->impl, origin, err);
}
/* Moves a peer's cursor to `cursor`, keeps `checkpoint` (NULL: the one
 * kept stays) as its last accepted one, adds `pulled` to its count, sets
 * last_ok = last_try = at_us and clears its error, in one transaction.
 * NOTFOUND when the peer is gone. */
static inline comity_err cy_store_peer_advance(comity_store *st, const char *origin,
                                               uint64_t cursor, const char *checkpoint,
                                               uint64_t pulled, int64_t at_us,
                                               comity_error *err)
{
    return st->peer->advance(st->impl, origin, 0, cursor, checkpoint, pulled, at_us, err);
}
/* cy_store_peer_advance, on the row whose added_us is `added_us` only: a
 * peer removed and added again since the caller read it (a new row, the
 * same origin) is NOTFOUND and keeps its cursor (0: any row). */
static inline comity_err cy_store_peer_advance_row(comity_store *st, const char *origin,
                                                   int64_t added_us, uint64_t cursor,
                                                   const char *checkpoint, uint64_t pulled,
                                                   int64_t at_us, comity_error *err)
{
    return st->peer->advance(st->impl, origin, added_us, cursor, checkpoint, pulled, at_us,
                             err);
}
/* Sets a peer's error (at most CY_PEER_ERR_MAX - 1 bytes kept; "" clears)
 * and last_try = at_us.  NOTFOUND when the peer is gone. */
static inline comity_err cy_store_peer_note(comity_store *st, const char *origin,
                                            const char *error, int64_t at_us, comity_error *err)
{
    return st->peer->note(st->impl, origin, 0, error, at_us, err);
}
/* cy_store_peer_note, on the row whose added_us is `added_us` only (as
 * cy_store_peer_advance_row): a peer removed and added again since the
 * caller read it is NOTFOUND and its new row keeps its error (0: any
 * row). */
static inline comity_err cy_store_peer_note_row(comity_store *st, const char *origin,
                                                int64_t added_us, const char *error,
                                                int64_t at_us, comity_error *err)
{
    return st->peer->note(st->impl, origin, added_us, error, at_us, err);
}
/* Records that `party` is homed at peer `origin`.  EXISTS when it is
 * homed at another one already (the same one again is no error). */
static inline comity_err cy_store_home_set(comity_store *st, const char *party,
                                           const char *origin, comity_error *err)
{
    return st->peer->home_set(st->impl, party, origin, err);
}
/* Where `party` is homed.  NOTFOUND: it has no home row (a local party,
 * or none at all). */
static inline comity_err cy_store_home_get(comity_store *st, const char *party,
                                           char origin[CY_PEER_ORIGIN_MAX + 1],
                                           comity_error *err)
{
    return st->peer->home_get(st->impl, party, origin, err);
}
/* The parties homed at `origin`, by name; cb may not call the store. */
static inline comity_err cy_store_home_list(comity_store *st, const char *origin,
                                            cy_name_cb cb, void *ctx, comity_error *err)
{
    return st->peer->home_list(st->impl, origin, cb, ctx, err);
}
/* Moves `party`'s home from peer `from` to peer `to` (a log succession,
 * src/sync/succession.c, decides when).  NOTFOUND when it is not homed at
 * `from`. */
static inline comity_err cy_store_home_move(comity_store *st, const char *party,
                                            const char *from, const char *to,
                                            comity_error *err)
{
    return st->peer->home_move(st->impl, party, from, to, err);
}
/* The stored record with the largest log index: its index and received
 * time; *found false when there is none. */
static inline comity_err cy_store_records_last(comity_store *st, uint64_t *log_index,
                                               int64_t *received_us, bool *found,
                                               comity_error *err)
{
    return st->peer->records_last(st->impl, log_index, received_us, found, err);
}
/* One federation page (cy_fed_query), each row with its envelope; rows
 * the filter does not pass are neither returned nor counted.  USAGE
 * without a filter or past its caps. */
static inline comity_err cy_store_fed_page(comity_store *st, const cy_fed_query *q,
                                           cy_record_cb cb, void *ctx, bool *more,
                                           comity_error *err)
{
    return st->peer->fed_page(st->impl, q, cb, ctx, more, err);
}

#endif
