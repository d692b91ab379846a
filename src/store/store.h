/*
 * store.h: the node's storage interface (private to libcomity).
 *
 * A comity_store is an opaque handle holding a table of operations (the
 * vtable cy_store_ops) and the backend's own state.  Callers (the node, the
 * CLI through the public node API, later record intake) only use the
 * cy_store_* wrappers below, so a PostgreSQL backend can be added as another
 * ops table without touching them.  The embedded default is SQLite in WAL
 * mode (store_sqlite.c); its schema is versioned by numbered migrations.
 *
 * What is stored:
 *   meta         key/value settings of the node (origin, api root title...)
 *   principals   who may log in: parties registered by the operator, and the
 *                operator account; API tokens are kept only as SHA-256 hashes
 *   collections  TAXII collections with their sharing level (access strings,
 *                see node/access.c)
 *   objects      STIX objects per collection, one row per (id, version);
 *                `seq` (rowid) orders objects that share a date_added
 *   status       TAXII status resources of past POSTs (JSON), kept 7 days
 *   object_owner who posted each object id of a collection (the first
 *                claim wins; "" for objects stored before owners were)
 *   records, record_to   accepted records (store/records.h)
 *   delivered    framework "delivered" events (store/delivered.h)
 *
 * Every operation is safe to call from many threads at once: the SQLite
 * backend keeps a pool of connections (one per concurrent caller) and
 * serialises writers with BEGIN IMMEDIATE and a busy timeout.
 *
 * Times are microseconds since the Unix epoch (int64).
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
#define CY_STORE_SCHEMA_VERSION 6

typedef struct cy_principal {
    char name[COMITY_PARTY_MAX + 1];
    char kind[16]; /* "party" or "operator" */
    char vkey[CY_VKEY_MAX];
    char recipient[CY_RECIPIENT_MAX];
    int64_t created;
} cy_principal;

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
    const char *json; /* NULL unless the query asked for it */
    size_t json_len;
} cy_obj_row;

enum { CY_V_LAST = 1, CY_V_FIRST = 2, CY_V_ALL = 4 };

/* A filtered page of a collection, ordered by (date_added, seq). */
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
} cy_obj_query;

/* Return non-zero to stop early. */
typedef int (*cy_obj_cb)(const cy_obj_row *row, void *ctx);
typedef int (*cy_principal_cb)(const cy_principal *p, void *ctx);
typedef int (*cy_collection_cb)(const cy_collection *c, void *ctx);

typedef struct cy_store_ops {
    const char *name;
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
                              int64_t *date_added, uint8_t *added, comity_error *err);
    comity_err (*objects_query)(void *impl, const cy_obj_query *q, cy_obj_cb cb, void *ctx,
                                bool *more, comity_error *err);
    comity_err (*objects_delete)(void *impl, const cy_obj_query *q, size_t *deleted,
                                 comity_error *err);
    comity_err (*status_put)(void *impl, const char *id, const char *api_root,
                             const char *owner, int64_t created, const char *json,
                             comity_error *err);
    comity_err (*status_get)(void *impl, const char *api_root, const char *id, char **json,
                             char owner[COMITY_PARTY_MAX + 1], comity_error *err);
    comity_err (*objects_claim)(void *impl, int64_t coll, const char *const *ids, size_t n,
                                const char *owner, char (*owners)[COMITY_PARTY_MAX + 1],
                                comity_error *err);
    comity_err (*object_owner)(void *impl, int64_t coll, const char *id,
                               char owner[COMITY_PARTY_MAX + 1], comity_error *err);
} cy_store_ops;

struct cy_record_ops;
struct cy_fw_store_ops;
struct comity_store {
    const cy_store_ops *ops;
    void *impl;
    const struct cy_record_ops *rec; /* record intake (see the block at the end) */
    const struct cy_fw_store_ops *fw; /* framework events (store/delivered.h) */
};

/* Opens (creating and migrating if needed) the SQLite store at `path`.
 * OUT *st: release with comity_store_close. */
comity_err cy_store_sqlite_open(const char *path, comity_store **st, comity_error *err);

/* ---- wrappers: what callers use --------------------------------------- */

/* OUT *val: NUL-terminated, caller frees (cy_free).  NOTFOUND when absent. */
static inline comity_err cy_store_meta_get(comity_store *st, const char *key, char **val,
                                           comity_error *err)
{
    return st->ops->meta_get(st->impl, key, val, err);
}
static inline comity_err cy_store_meta_set(comity_store *st, const char *key,
                                           const char *val, comity_error *err)
{
    return st->ops->meta_set(st->impl, key, val, err);
}
/* EXISTS when the name is taken. */
static inline comity_err cy_store_principal_add(comity_store *st, const cy_principal *p,
                                                const char *token_hash, comity_error *err)
{
    return st->ops->principal_add(st->impl, p, token_hash, err);
}
static inline comity_err cy_store_principal_set_token(comity_store *st, const char *name,
                                                      const char *token_hash,
                                                      comity_error *err)
{
    return st->ops->principal_set_token(st->impl, name, token_hash, err);
}
/* token_hash may be NULL.  NOTFOUND when absent. */
static inline comity_err cy_store_principal_get(comity_store *st, const char *name,
                                                cy_principal *out,
                                                char token_hash[CY_TOKEN_HASH_HEX],
                                                comity_error *err)
{
    return st->ops->principal_get(st->impl, name, out, token_hash, err);
}
static inline comity_err cy_store_principal_by_token(comity_store *st, const char *token_hash,
                                                     cy_principal *out, comity_error *err)
{
    return st->ops->principal_by_token(st->impl, token_hash, out, err);
}
static inline comity_err cy_store_principal_list(comity_store *st, cy_principal_cb cb,
                                                 void *ctx, comity_error *err)
{
    return st->ops->principal_list(st->impl, cb, ctx, err);
}
/* c->n is ignored (assigned by the store).  EXISTS when the id is taken. */
static inline comity_err cy_store_collection_add(comity_store *st, const cy_collection *c,
                                                 comity_error *err)
{
    return st->ops->collection_add(st->impl, c, err);
}
static inline comity_err cy_store_collection_get(comity_store *st, const char *api_root,
                                                 const char *id, cy_collection *out,
                                                 comity_error *err)
{
    return st->ops->collection_get(st->impl, api_root, id, out, err);
}
/* In a stable order (creation order). */
static inline comity_err cy_store_collection_list(comity_store *st, const char *api_root,
                                                  cy_collection_cb cb, void *ctx,
                                                  comity_error *err)
{
    return st->ops->collection_list(st->impl, api_root, cb, ctx, err);
}
/* Adds n objects in one transaction, all with one date_added: either all
 * are stored or none.  *date_added is the wanted time (now) on entry and the
 * time used on return: later than any date_added already in the
 * collection, so dates strictly follow commit order.  An object whose (id, version)
 * is already in the collection is a duplicate: not stored again, added[i] =
 * 0 (else 1).  `added` may be NULL. */
static inline comity_err cy_store_objects_add(comity_store *st, int64_t coll,
                                              const cy_obj_in *objs, size_t n,
                                              int64_t *date_added, uint8_t *added,
                                              comity_error *err)
{
    return st->ops->objects_add(st->impl, coll, objs, n, date_added, added, err);
}
/* Calls cb for at most q->limit rows; *more says whether rows remain (also
 * set when cb stopped the walk early). */
static inline comity_err cy_store_objects_query(comity_store *st, const cy_obj_query *q,
                                                cy_obj_cb cb, void *ctx, bool *more,
                                                comity_error *err)
{
    return st->ops->objects_query(st->impl, q, cb, ctx, more, err);
}
/* Deletes the versions the query selects (ids, vflags/versions, spec
 * versions; paging fields ignored), fixing first/last marks. */
static inline comity_err cy_store_objects_delete(comity_store *st, const cy_obj_query *q,
                                                 size_t *deleted, comity_error *err)
{
    return st->ops->objects_delete(st->impl, q, deleted, err);
}
static inline comity_err cy_store_status_put(comity_store *st, const char *id,
                                             const char *api_root, const char *owner,
                                             int64_t created, const char *json,
                                             comity_error *err)
{
    return st->ops->status_put(st->impl, id, api_root, owner, created, json, err);
}
/* OUT *json: caller frees (cy_free).  owner gets "" for anonymous. */
static inline comity_err cy_store_status_get(comity_store *st, const char *api_root,
                                             const char *id, char **json,
                                             char owner[COMITY_PARTY_MAX + 1],
                                             comity_error *err)
{
    return st->ops->status_get(st->impl, api_root, id, json, owner, err);
}

/* Claims each of ids[0..n) in collection coll for `owner` where nobody
 * has yet, in one transaction, and gives in owners[i] who holds ids[i]
 * afterwards (owner itself, an earlier claimant, or "" for an object
 * stored before owners were kept).  A claim stays after its objects are
 * deleted.  The store records; the caller decides what a claim allows. */
static inline comity_err cy_store_objects_claim(comity_store *st, int64_t coll,
                                                const char *const *ids, size_t n,
                                                const char *owner,
                                                char (*owners)[COMITY_PARTY_MAX + 1],
                                                comity_error *err)
{
    return st->ops->objects_claim(st->impl, coll, ids, n, owner, owners, err);
}
/* Who holds id in coll; COMITY_ERR_NOTFOUND when nobody does (the node's
 * own objects, which no client posted). */
static inline comity_err cy_store_object_owner(comity_store *st, int64_t coll, const char *id,
                                               char owner[COMITY_PARTY_MAX + 1],
                                               comity_error *err)
{
    return st->ops->object_owner(st->impl, coll, id, owner, err);
}

#include "store/records.h"
#include "store/delivered.h"

#endif
