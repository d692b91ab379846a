/*
 * store_pg.c: the scale-out store backend (PostgreSQL, through libpq).
 *
 * It implements the three tables of operations of store.h, records.h and
 * delivered.h from their contracts; where SQLite and PostgreSQL differ,
 * this paragraph says how the contract is kept.
 *
 * Connections: a pool (at most POOL_MAX, made lazily) as for SQLite; a
 * libpq connection is used by one thread at a time.  Each keeps its own
 * prepared statements (named cy<N>, cached by SQL text, evicted with
 * DEALLOCATE).  A connection found broken (the server restarted, a standby
 * was promoted behind the same address) is reset when next borrowed, so
 * the node reconnects by itself; the call that met the break fails with
 * COMITY_ERR_DB.  Record intake's find_many and NOSYNC adds run on one
 * connection of their own (imu), as in the SQLite store.
 *
 * Durability: every session runs with synchronous_commit=on and the server
 * must run with fsync=on (pg/db.h), so a write is durable when its COMMIT
 * returns.  The two exceptions of store.h commit with synchronous_commit
 * off (their WAL is written but not waited for): status resources, with
 * SET LOCAL, and record batches added with CY_STORE_NOSYNC, on intake's
 * connection, whose session has it off (INTAKE_SESSION; that connection
 * writes nothing else).
 * pg_records_sync then commits one small WAL-logged change (a counter in
 * sync_mark) with synchronous_commit=on: PostgreSQL flushes the WAL up to
 * that commit record, hence every commit before it, and with a synchronous
 * standby waits for the standby too.  (A transaction that writes no WAL
 * would not wait: an xid alone is not enough, hence the counter.)
 *
 * Order and locks: PostgreSQL allocates sequence values when a row is
 * inserted, not when it commits, so two writers could commit out of seq
 * order and a reader paging by seq would skip the later-committed smaller
 * one.  So:
 *   - record batches take LOCK TABLE records IN SHARE ROW EXCLUSIVE MODE
 *     (writers of records wait, readers do not), and take their seqs
 *     under it: record seqs are in commit order, as intake order requires;
 *   - writers of one collection's objects (objects_add, objects_delete,
 *     the projections of records_add) lock the collection's row (FOR
 *     UPDATE, in ascending n, so two writers never wait on each other in a
 *     circle), then read max(date_added) in a new statement (READ
 *     COMMITTED: a new snapshot, which sees what the lock's last holder
 *     committed), so a batch's date_added is later than any before it and
 *     its seqs are above those of the collection's earlier batches.
 *
 * Batches: a record batch is one transaction of at most seven statements
 * whatever its size, sent in one libpq pipeline (one round trip; see
 * pipe_run): the rows of each table go in one multi-row INSERT ... SELECT
 * FROM unnest($1::text[], ...), the arrays sent in PostgreSQL's binary
 * array format (no quoting, no escaping, one statement shape for every
 * batch size); seqs are computed in the statements (ADD_RECORDS).  On
 * this loaded 2-core
 * machine a round trip to the server costs a scheduler wake-up on each
 * side: the first version of this store, with its ten round trips per
 * batch, ran intake at about a fifth of SQLite's rate.
 *
 * Visibility: a cy_record_filter becomes part of the WHERE clause
 * (filter_sql), as in the SQLite store: a page never counts a row the
 * reader may not see.
 *
 * Principals are cached in memory (the node looks one up on every request;
 * a query for it was a round trip of its own, one per record posted), by
 * token hash and by name, each a small direct-mapped table; only found
 * principals are cached.  Other processes write principals too (`comity
 * party add|token` on the store of a running node), so every write of
 * principals also bumps the meta row principals_gen and sends a
 * notification on the channel comity_principals, in the write's own
 * statement (so at its commit).  The cache keeps a connection of its own
 * that LISTENs on that channel; a lookup first takes in what that
 * connection has received (no round trip: the notifications are already
 * in its socket) and drops every entry on any notification, and reads
 * principals_gen at least every PCACHE_RECHECK_MS.  Without a listening
 * connection (it broke, or cannot be had) nothing cached is used.  So a
 * replaced token is refused once its notification has reached the node
 * (PostgreSQL sends it at the commit; milliseconds at most on a loaded
 * machine), and in any case by the first lookup PCACHE_RECHECK_MS after
 * the commit.  (On SQLite the counter is shared memory: at once.)
 *
 * Federation (store.h's last section): one statement each, committed on
 * its own, so durable on return.  A peer filter (cy_peer_filter) becomes
 * the WHERE clause of the federation page, its lists sent as arrays (one
 * statement text whatever their sizes), so a page counts only what the
 * peer may see.  An error noted for a peer is cut to CY_PEER_ERR_MAX - 1
 * bytes at a character's start and its malformed UTF-8 replaced ('?'):
 * a text column here holds UTF-8 only, and the message may quote what a
 * peer sent.
 *
 * Schema: MIGRATIONS[k] takes the schema "store" from version k to k+1
 * (pg/db.h).  Version 1 is the layout the SQLite store reached at its
 * version 6, written for PostgreSQL; version 2 adds SQLite's 7, version 3
 * SQLite's 8, version 4 SQLite's 9.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "pg/db.h"
#include "store/store.h"

#define POOL_MAX 16
#define STMT_CACHE 48   /* prepared statements per connection */
#define SQL_MAX 8192    /* dynamic query text */
#define FILTER_MAX 64   /* values in one match[] filter (as for SQLite) */
#define ARGS_MAX 32     /* parameters of one statement (lists go as arrays) */
#define WALK_CHUNK 1000 /* rows fetched at a time by the start-up walks */
/* a records row as read_record reads it */
#define RECORD_COLS "seq,id,type,author,tlp,created,digest,log_index,received"
#define PRINCIPAL_COLS "name,kind,vkey,recipient,created,token_hash"
#define PRINCIPAL_READ PRINCIPAL_COLS ",revoked_at,revoked_w" /* what a read selects */
#define COLL_COLS "n,id,api_root,alias,title,description,read_access,write_access"
#define PCACHE_SLOTS 256       /* principals cached, per key (a power of two) */
#define PCACHE_RECHECK_MS 1000 /* principals_gen read at least this often */
#define PRINCIPALS_CHANNEL "comity_principals"
#define OID_INT8 20
#define OID_TEXT 25

static const char *const MIGRATIONS[] = {
    /* 0 -> 1: the store as SQLite's schema 6 has it */
    "CREATE TABLE meta(key text PRIMARY KEY, value text NOT NULL);"
    "CREATE TABLE principals(name text PRIMARY KEY, kind text NOT NULL,"
    " vkey text NOT NULL DEFAULT '', recipient text NOT NULL DEFAULT '',"
    " token_hash text NOT NULL UNIQUE, created bigint NOT NULL);"
    "CREATE TABLE collections(n bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
    " id text NOT NULL UNIQUE, api_root text NOT NULL, alias text NOT NULL DEFAULT '',"
    " title text NOT NULL, description text NOT NULL DEFAULT '', read_access text NOT NULL,"
    " write_access text NOT NULL);"
    "CREATE SEQUENCE objects_seq;"
    "CREATE TABLE objects(seq bigint PRIMARY KEY DEFAULT nextval('objects_seq'),"
    " coll bigint NOT NULL REFERENCES collections(n), id text NOT NULL, type text NOT NULL,"
    " spec_version text NOT NULL, version_us bigint NOT NULL, version text,"
    " date_added bigint NOT NULL, media_type text NOT NULL, is_first boolean NOT NULL,"
    " is_last boolean NOT NULL, json text NOT NULL, rec bigint);"
    "ALTER SEQUENCE objects_seq OWNED BY objects.seq;"
    "CREATE UNIQUE INDEX objects_version ON objects(coll, id, version_us) WHERE rec IS NULL;"
    "CREATE INDEX objects_page ON objects(coll, date_added, seq);"
    "CREATE INDEX objects_rec ON objects(rec, coll) WHERE rec IS NOT NULL;"
    "CREATE TABLE status(id text PRIMARY KEY, api_root text NOT NULL, owner text NOT NULL,"
    " created bigint NOT NULL, json text NOT NULL);"
    "CREATE INDEX status_created ON status(created);"
    "CREATE TABLE object_owner(coll bigint NOT NULL, id text NOT NULL, owner text NOT NULL,"
    " PRIMARY KEY(coll, id));"
    "CREATE SEQUENCE records_seq;"
    "CREATE TABLE records(seq bigint PRIMARY KEY DEFAULT nextval('records_seq'),"
    " id text NOT NULL UNIQUE, type text NOT NULL, author text NOT NULL, tlp text NOT NULL,"
    " created text NOT NULL, created_ms bigint NOT NULL, digest text NOT NULL,"
    " log_index bigint NOT NULL, received bigint NOT NULL, envelope text NOT NULL);"
    "ALTER SEQUENCE records_seq OWNED BY records.seq;"
    "CREATE INDEX records_type ON records(type, seq);"
    "CREATE INDEX records_author ON records(author, seq);"
    "CREATE TABLE record_to(party text NOT NULL, seq bigint NOT NULL, PRIMARY KEY(party, seq));"
    "CREATE TABLE delivered(n bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
    " id text NOT NULL, party text NOT NULL, at_ms bigint NOT NULL, UNIQUE(id, party));"
    "CREATE TABLE sync_mark(one boolean PRIMARY KEY DEFAULT true CHECK (one),"
    " n bigint NOT NULL);"
    "INSERT INTO sync_mark(n) VALUES(0);",
    /* 1 -> 2: federation (SQLite's migration 7; the block "Federation"
     * at the end): peers, the homes of parties homed at a peer, and
     * records by log index (the federation page walks the log, and
     * records_last reads its end; the keys grow with intake, so the index
     * costs a batch its right-most leaf only) */
    "CREATE TABLE peers(origin text PRIMARY KEY, url text NOT NULL, vkey text NOT NULL,"
    " cursor bigint NOT NULL DEFAULT 0, checkpoint text NOT NULL DEFAULT '',"
    " pulled bigint NOT NULL DEFAULT 0, added bigint NOT NULL, last_ok bigint NOT NULL"
    " DEFAULT 0, last_try bigint NOT NULL DEFAULT 0, error text NOT NULL DEFAULT '');"
    "CREATE TABLE party_home(party text PRIMARY KEY, origin text NOT NULL);"
    "CREATE INDEX party_home_origin ON party_home(origin, party);"
    "CREATE INDEX records_log ON records(log_index);",
    /* 2 -> 3: an object's owner in its own row (SQLite's migration 8;
     * pg_objects_add checks it with the version lookup it makes anyway);
     * object_owner keeps only the owners of ids whose objects are gone */
    "ALTER TABLE objects ADD COLUMN owner text;"
    "UPDATE objects o SET owner = w.owner FROM object_owner w"
    " WHERE w.coll = o.coll AND w.id = o.id AND o.rec IS NULL;"
    "DELETE FROM object_owner w WHERE EXISTS (SELECT 1 FROM objects o"
    " WHERE o.coll = w.coll AND o.id = w.id AND o.rec IS NULL);"
    /* and no foreign key from objects to collections: its check ran as a
     * trigger for every row intake projects (pg_stat_statements: 16,001
     * lookups in 16,000 records), while every writer of objects has just
     * locked the collection's row it writes to, and collections are never
     * deleted (as on SQLite, where the key is not enforced) */
    "ALTER TABLE objects DROP CONSTRAINT IF EXISTS objects_coll_fkey;",
    /* 3 -> 4: registration requests awaiting the operator (SQLite's
     * migration 9; node/enrol.c), kept across restarts */
    "CREATE TABLE IF NOT EXISTS registrations(party text PRIMARY KEY, vkey text NOT NULL,"
    " recipient text NOT NULL, note text NOT NULL, created text NOT NULL,"
    " signature text NOT NULL, received bigint NOT NULL, address text NOT NULL);",
    /* 4 -> 5: the keys of an office's users (SQLite's migration 10) */
    "CREATE TABLE IF NOT EXISTS principal_users(principal text NOT NULL, vkey text NOT NULL,"
    " name text NOT NULL, valid_from bigint NOT NULL, revoked_at bigint NOT NULL,"
    " reason text NOT NULL, PRIMARY KEY(principal, vkey));",
    /* 5 -> 6: W of pulled records and of users' revocations (SQLite's
     * migration 11) */
    "CREATE TABLE IF NOT EXISTS record_witnessed(id text PRIMARY KEY, w_ms bigint NOT NULL);"
    "ALTER TABLE principal_users ADD COLUMN IF NOT EXISTS revoked_w bigint NOT NULL DEFAULT 0;",
    /* 6 -> 7: a principal's own key's revocation and its W (SQLite's
     * migration 12) */
    "ALTER TABLE principals ADD COLUMN IF NOT EXISTS revoked_at bigint NOT NULL DEFAULT 0;"
    "ALTER TABLE principals ADD COLUMN IF NOT EXISTS revoked_w bigint NOT NULL DEFAULT 0;",
    /* 7 -> 8: the user who signed each record, and where that began
     * (SQLite's migration 13) */
    "ALTER TABLE records ADD COLUMN IF NOT EXISTS signer text;"
    "INSERT INTO meta(key, value) SELECT 'signer_kept_after', COALESCE(max(seq), 0)::text"
    " FROM records ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value;"
    "CREATE OR REPLACE FUNCTION comity_users_gen() RETURNS trigger LANGUAGE plpgsql AS $f$"
    " BEGIN INSERT INTO meta(key, value) VALUES ('users_gen', '1') ON CONFLICT (key)"
    " DO UPDATE SET value = (meta.value::bigint + 1)::text; RETURN NULL; END $f$;"
    "DROP TRIGGER IF EXISTS principal_users_gen ON principal_users;"
    "CREATE TRIGGER principal_users_gen AFTER INSERT OR UPDATE OR DELETE ON principal_users"
    " FOR EACH STATEMENT EXECUTE FUNCTION comity_users_gen();",
    /* 8 -> 9: users_gen bumped by a principal's own key's revocation too
     * (SQLite's migration 14) */
    "DROP TRIGGER IF EXISTS principals_revoked_gen ON principals;"
    "CREATE TRIGGER principals_revoked_gen AFTER UPDATE OF revoked_at, revoked_w ON principals"
    " FOR EACH STATEMENT EXECUTE FUNCTION comity_users_gen();",
};

static const cy_pg_schema SCHEMA = {"store", MIGRATIONS, CY_ARRAY_LEN(MIGRATIONS)};
_Static_assert(CY_ARRAY_LEN(MIGRATIONS) == CY_STORE_PG_SCHEMA_VERSION,
               "CY_STORE_PG_SCHEMA_VERSION is the number of migrations");

struct stmt_slot {
    char *sql;
    unsigned id;
};

struct pgc {
    PGconn *c;
    bool intake; /* intake's connection: its session as INTAKE_SESSION sets it */
    struct stmt_slot cache[STMT_CACHE];
    unsigned next_evict, next_id;
};

/* One cached principal, with the token hash the store holds for it. */
struct pslot {
    bool used;
    char token_hash[CY_TOKEN_HASH_HEX];
    cy_principal p;
};

/* The principal cache (see the top).  All under mu. */
struct pcache {
    pthread_mutex_t mu;
    struct pslot by_token[PCACHE_SLOTS], by_name[PCACHE_SLOTS];
    PGconn *l;          /* LISTENs on PRINCIPALS_CHANNEL; NULL: not (yet) */
    char gen[32];       /* principals_gen the entries were read under */
    int64_t checked_ms; /* when principals_gen was last read */
    int64_t retry_ms;   /* after a failed connection: not before this */
    uint64_t epoch;     /* bumped whenever the entries are dropped */
};

struct pg {
    char *conninfo;
    struct pcache pc;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct pgc *pool[POOL_MAX];
    struct pgc *free_[POOL_MAX];
    size_t nfree, nmade;
    pthread_mutex_t imu; /* record intake's connection */
    struct pgc *ic;
};

/* ---- connections ------------------------------------------------------------ */

static void cache_clear(struct pgc *c)
{
    for (size_t i = 0; i < STMT_CACHE; i++) {
        cy_free(c->cache[i].sql);
        c->cache[i].sql = NULL;
    }
}

static void conn_close(struct pgc *c)
{
    if (!c)
        return;
    cache_clear(c);
    PQfinish(c->c);
    cy_free(c);
}

/* OUT *out: close with conn_close. */
static comity_err conn_open(struct pg *p, struct pgc **out, comity_error *err)
{
    struct pgc *c = cy_calloc(1, sizeof *c);
    if (!c)
        return cy_fail(err, COMITY_ERR_NOMEM, "store: out of memory");
    comity_err rc = cy_pg_connect(p->conninfo, &c->c, err);
    if (rc) {
        cy_free(c);
        return rc;
    }
    *out = c;
    return COMITY_OK;
}

/* Record intake's connection (intake_acquire) runs only find_many and
 * the CY_STORE_NOSYNC batches, so its session commits without waiting for
 * the WAL flush (see the top: pg_records_sync, on another connection, makes
 * those commits durable), instead of a SET LOCAL in every batch; and its
 * statements, one shape each whatever the batch, are planned once, not
 * again at every batch (a custom plan per execution). */
#define INTAKE_SESSION                                                                      \
    "SET synchronous_commit = off; SET plan_cache_mode = force_generic_plan"

/* The session settings of c (pg/db.h's, then intake's own for intake's
 * connection), on a new or reset connection.  A reset that fails to set
 * intake's leaves that connection committing synchronously: slower, as
 * durable. */
static comity_err conn_session(struct pgc *c, comity_error *err)
{
    comity_err rc = cy_pg_session(c->c, err);
    if (!rc && c->intake)
        rc = cy_pg_exec(c->c, INTAKE_SESSION, "store", err);
    return rc;
}

/* A broken connection (the server went away) is reset before use: its
 * prepared statements went with the old session. */
static comity_err conn_check(struct pgc *c, comity_error *err)
{
    if (PQstatus(c->c) == CONNECTION_OK)
        return COMITY_OK;
    cache_clear(c);
    PQreset(c->c);
    if (PQstatus(c->c) != CONNECTION_OK)
        return cy_pg_fail(c->c, NULL, "store: reconnecting to PostgreSQL", err);
    return conn_session(c, err);
}

/* A connection of the pool, to give back with release.  NULL with *rc set
 * when none can be had. */
static struct pgc *acquire(struct pg *p, comity_err *rc, comity_error *err)
{
    *rc = COMITY_OK;
    pthread_mutex_lock(&p->mu);
    while (p->nfree == 0 && p->nmade == POOL_MAX)
        pthread_cond_wait(&p->cv, &p->mu);
    struct pgc *c = NULL;
    size_t slot = 0;
    if (p->nfree > 0)
        c = p->free_[--p->nfree];
    else
        slot = p->nmade++;
    pthread_mutex_unlock(&p->mu);
    if (c) {
        if ((*rc = conn_check(c, err)) == COMITY_OK)
            return c;
        pthread_mutex_lock(&p->mu); /* give it back: the next caller retries */
        p->free_[p->nfree++] = c;
        pthread_cond_signal(&p->cv);
        pthread_mutex_unlock(&p->mu);
        return NULL;
    }
    if ((*rc = conn_open(p, &c, err)) != COMITY_OK) {
        pthread_mutex_lock(&p->mu);
        p->nmade--;
        pthread_cond_signal(&p->cv);
        pthread_mutex_unlock(&p->mu);
        return NULL;
    }
    pthread_mutex_lock(&p->mu);
    p->pool[slot] = c;
    pthread_mutex_unlock(&p->mu);
    return c;
}

static void release(struct pg *p, struct pgc *c)
{
    pthread_mutex_lock(&p->mu);
    p->free_[p->nfree++] = c;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

/* Record intake's connection (opened on first use, then kept), returned
 * with imu held: the caller unlocks it when done. */
static struct pgc *intake_acquire(struct pg *p, comity_err *rc, comity_error *err)
{
    pthread_mutex_lock(&p->imu);
    if (p->ic) {
        *rc = conn_check(p->ic, err);
    } else if (!(*rc = conn_open(p, &p->ic, err))) {
        p->ic->intake = true;
        *rc = cy_pg_exec(p->ic->c, INTAKE_SESSION, "store", err);
    }
    if (*rc) {
        pthread_mutex_unlock(&p->imu);
        return NULL;
    }
    return p->ic;
}

/* ---- parameters ---------------------------------------------------------------
 *
 * A statement's parameters: text and integers in text format, arrays in
 * PostgreSQL's binary array format (array_recv: ndim, has-null, element
 * type, then per dimension its size and lower bound, then each element as
 * a 4-byte length, -1 for NULL, and its bytes; integers big-endian).
 * Every a_* returns the parameter's number, for "$%d". */

struct args {
    int n;
    bool toobig, oom;
    const char *v[ARGS_MAX];
    int len[ARGS_MAX], fmt[ARGS_MAX];
    char num[ARGS_MAX][24];
    cy_buf arr[ARGS_MAX];
};

static void a_init(struct args *a) { memset(a, 0, sizeof *a); }

static void a_free(struct args *a)
{
    for (int i = 0; i < a->n; i++)
        cy_buf_free(&a->arr[i]);
}

static int a_slot(struct args *a)
{
    if (a->n == ARGS_MAX) {
        a->toobig = true;
        return ARGS_MAX; /* the statement is not run */
    }
    cy_buf_init(&a->arr[a->n], SIZE_MAX / 2);
    return a->n++;
}

/* A text value of len bytes (binary format: no NUL needed); NULL: SQL NULL. */
static int a_textn(struct args *a, const char *s, size_t len)
{
    int k = a_slot(a);
    if (k < ARGS_MAX) {
        a->v[k] = s;
        a->len[k] = s ? (int)len : 0;
        a->fmt[k] = 1;
    }
    return k + 1;
}

static int a_text(struct args *a, const char *s) { return a_textn(a, s, s ? strlen(s) : 0); }

static int a_i64(struct args *a, int64_t v)
{
    int k = a_slot(a);
    if (k < ARGS_MAX) {
        snprintf(a->num[k], sizeof a->num[k], "%lld", (long long)v);
        a->v[k] = a->num[k];
    }
    return k + 1;
}

static void put32(cy_buf *b, bool *oom, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    if (cy_buf_append(b, x, 4))
        *oom = true;
}

static void arr_head(cy_buf *b, bool *oom, uint32_t oid, size_t n)
{
    put32(b, oom, n ? 1 : 0); /* ndim (an empty array has none) */
    put32(b, oom, 0);         /* has-null: informational */
    put32(b, oom, oid);
    if (n) {
        put32(b, oom, (uint32_t)n);
        put32(b, oom, 1); /* lower bound */
    }
}

static int a_arr_done(struct args *a, int k)
{
    if (k < ARGS_MAX) {
        a->v[k] = a->arr[k].data ? (const char *)a->arr[k].data : "";
        a->len[k] = (int)a->arr[k].len;
        a->fmt[k] = 1;
    }
    return k + 1;
}

/* text[] of n strings (lens NULL: NUL-terminated; an element NULL: SQL
 * NULL). */
static int a_texts(struct args *a, const char *const *v, const size_t *lens, size_t n)
{
    int k = a_slot(a);
    if (k == ARGS_MAX)
        return k + 1;
    cy_buf *b = &a->arr[k];
    arr_head(b, &a->oom, OID_TEXT, n);
    for (size_t i = 0; i < n; i++) {
        if (!v[i]) {
            put32(b, &a->oom, UINT32_MAX);
            continue;
        }
        size_t len = lens ? lens[i] : strlen(v[i]);
        put32(b, &a->oom, (uint32_t)len);
        if (cy_buf_append(b, v[i], len))
            a->oom = true;
    }
    return a_arr_done(a, k);
}

static int a_i64s(struct args *a, const int64_t *v, size_t n)
{
    int k = a_slot(a);
    if (k == ARGS_MAX)
        return k + 1;
    cy_buf *b = &a->arr[k];
    arr_head(b, &a->oom, OID_INT8, n);
    for (size_t i = 0; i < n; i++) {
        put32(b, &a->oom, 8);
        put32(b, &a->oom, (uint32_t)((uint64_t)v[i] >> 32));
        put32(b, &a->oom, (uint32_t)v[i]);
    }
    return a_arr_done(a, k);
}

/* ---- running statements ------------------------------------------------------- */

/* The name of `sql` prepared on c (OUT name[24]), preparing it on first
 * use: one round trip, then never again on this connection. */
static comity_err prepared(struct pgc *c, const char *sql, const char *what, char name[24],
                           comity_error *err)
{
    struct stmt_slot *s = NULL;
    for (size_t i = 0; i < STMT_CACHE && !s; i++)
        if (c->cache[i].sql && !strcmp(c->cache[i].sql, sql))
            s = &c->cache[i];
    if (!s) {
        s = &c->cache[c->next_evict++ % STMT_CACHE];
        if (s->sql) {
            char dealloc[40];
            snprintf(dealloc, sizeof dealloc, "DEALLOCATE cy%u", s->id);
            PQclear(PQexec(c->c, dealloc));
            cy_free(s->sql);
            s->sql = NULL;
        }
        char *copy = cy_strdup(sql);
        if (!copy)
            return cy_fail(err, COMITY_ERR_NOMEM, "store: out of memory");
        unsigned id = c->next_id++;
        snprintf(name, 24, "cy%u", id);
        PGresult *p = PQprepare(c->c, name, sql, 0, NULL);
        if (PQresultStatus(p) != PGRES_COMMAND_OK) {
            char w[128];
            snprintf(w, sizeof w, "store: %s (prepare)", what);
            comity_err rc = cy_pg_fail(c->c, p, w, err);
            PQclear(p);
            cy_free(copy);
            return rc;
        }
        PQclear(p);
        s->sql = copy;
        s->id = id;
    }
    snprintf(name, 24, "cy%u", s->id);
    return COMITY_OK;
}

static comity_err args_check(const struct args *a, const char *what, comity_error *err)
{
    if (a && a->toobig)
        return cy_fail(err, COMITY_ERR_TOOBIG, "store: %s: more than %d parameters", what,
                       ARGS_MAX);
    if (a && a->oom)
        return cy_fail(err, COMITY_ERR_NOMEM, "store: out of memory");
    return COMITY_OK;
}

/* The error of a failed result: COMITY_ERR_EXISTS for a unique key taken
 * when `exists` is given (the message is `exists` then PostgreSQL's
 * detail), else as cy_pg_fail. */
static comity_err result_fail(struct pgc *c, const PGresult *r, const char *what,
                              const char *exists, comity_error *err)
{
    if (exists && !strcmp(cy_pg_state(r), "23505")) {
        const char *d = PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL);
        return cy_fail(err, COMITY_ERR_EXISTS, "store: %s%s%s", exists, d ? ": " : "",
                       d ? d : "");
    }
    char w[128];
    snprintf(w, sizeof w, "store: %s", what);
    return cy_pg_fail(c->c, r, w, err);
}

/* Runs `sql` with a's parameters on c, prepared once per connection.  OUT
 * *res (may be NULL: dropped): the result, to free with PQclear.  Errors
 * as result_fail. */
static comity_err run(struct pgc *c, const char *sql, struct args *a, PGresult **res,
                      const char *what, const char *exists, comity_error *err)
{
    if (res)
        *res = NULL;
    char name[24];
    comity_err rc = args_check(a, what, err);
    if (rc || (rc = prepared(c, sql, what, name, err)))
        return rc;
    PGresult *r = PQexecPrepared(c->c, name, a ? a->n : 0, a ? a->v : NULL, a ? a->len : NULL,
                                 a ? a->fmt : NULL, 0);
    ExecStatusType st = PQresultStatus(r);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
        if (res)
            *res = r;
        else
            PQclear(r);
        return COMITY_OK;
    }
    rc = result_fail(c, r, what, exists, err);
    PQclear(r);
    return rc;
}

/* ---- pipelines: several statements, one round trip ---------------------------
 *
 * pipe_add queues a statement with its parameters (a must live until
 * pipe_run); pipe_run prepares those this connection has not prepared yet
 * (a round trip each, once per connection), then sends them all in libpq's
 * pipeline mode with one Sync and reads every answer.  The first failure
 * is the pipeline's: the server skips the rest up to the Sync, so a
 * transaction begun in the pipeline is left failed and the caller rolls
 * back.  A statement's rows are dropped, except those of the statement
 * whose index is `keep` - 1 (0: none), given in OUT *kept (the caller
 * frees it with PQclear; NULL when the pipeline failed). */
#define PIPE_MAX 12
struct pipe {
    int n;
    const char *sql[PIPE_MAX], *what[PIPE_MAX], *exists[PIPE_MAX];
    struct args *a[PIPE_MAX];
    int keep;
    PGresult *kept;
};

static void pipe_add(struct pipe *p, const char *sql, struct args *a, const char *what,
                     const char *exists)
{
    if (p->n < PIPE_MAX) {
        p->sql[p->n] = sql, p->a[p->n] = a, p->what[p->n] = what, p->exists[p->n] = exists;
    }
    p->n++; /* past PIPE_MAX: refused by pipe_run */
}

static comity_err pipe_run(struct pgc *pc, struct pipe *p, comity_error *err)
{
    PGconn *c = pc->c;
    char names[PIPE_MAX][24];
    comity_err rc = p->n > PIPE_MAX ? cy_fail(err, COMITY_ERR_INTERNAL,
                                              "store: a pipeline of more than %d", PIPE_MAX)
                                    : COMITY_OK;
    for (int i = 0; i < p->n && !rc; i++)
        if (!(rc = args_check(p->a[i], p->what[i], err)))
            rc = prepared(pc, p->sql[i], p->what[i], names[i], err);
    if (rc)
        return rc;
    if (!PQenterPipelineMode(c))
        return cy_pg_fail(c, NULL, "store: pipeline", err);
    int sent = 0; /* the statements queued: each has its answers to read */
    while (sent < p->n) {
        struct args *a = p->a[sent];
        if (!PQsendQueryPrepared(c, names[sent], a ? a->n : 0, a ? a->v : NULL,
                                 a ? a->len : NULL, a ? a->fmt : NULL, 0)) {
            rc = cy_pg_fail(c, NULL, "store: sending to PostgreSQL", err);
            break;
        }
        sent++;
    }
    if (!PQpipelineSync(c) && !rc)
        rc = cy_pg_fail(c, NULL, "store: pipeline", err);
    for (int i = 0; i < sent; i++) {
        PGresult *r;
        bool any = false;
        while ((r = PQgetResult(c))) {
            ExecStatusType st = PQresultStatus(r);
            any = true;
            if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK &&
                st != PGRES_PIPELINE_ABORTED && !rc)
                rc = result_fail(pc, r, p->what[i], p->exists[i], err);
            if (i == p->keep - 1 && st == PGRES_TUPLES_OK && !p->kept)
                p->kept = r;
            else
                PQclear(r);
        }
        if (!any && !rc) /* the connection went away */
            rc = cy_pg_fail(c, NULL, "store: pipeline", err);
    }
    PGresult *r = PQgetResult(c); /* the Sync's */
    bool synced = PQresultStatus(r) == PGRES_PIPELINE_SYNC;
    PQclear(r);
    if (!synced || !PQexitPipelineMode(c)) {
        if (!rc)
            rc = cy_pg_fail(c, NULL, "store: ending a pipeline", err);
        PQclear(p->kept);
        p->kept = NULL;
        /* a connection in an unknown state is not reused as it is */
        cache_clear(pc);
        PQreset(c);
        if (PQstatus(c) == CONNECTION_OK)
            (void)conn_session(pc, NULL);
    }
    return rc;
}

static comity_err exec(struct pgc *c, const char *sql, comity_error *err)
{
    return cy_pg_exec(c->c, sql, "store", err);
}

static void rollback(struct pgc *c)
{
    if (PQtransactionStatus(c->c) != PQTRANS_IDLE)
        exec(c, "ROLLBACK", NULL);
}

/* One statement on a pool connection (borrowed and given back). */
static comity_err run1(struct pg *p, const char *sql, struct args *a, PGresult **res,
                       const char *what, const char *exists, comity_error *err)
{
    comity_err rc;
    struct pgc *c = acquire(p, &rc, err);
    if (!c)
        return rc;
    rc = run(c, sql, a, res, what, exists, err);
    release(p, c);
    return rc;
}

/* run1 of a statement whose two parameters, $1 and $2, are texts. */
static comity_err run1_texts2(struct pg *p, const char *sql, const char *t1, const char *t2,
                              PGresult **res, const char *what, const char *exists,
                              comity_error *err)
{
    struct args a;
    a_init(&a);
    a_text(&a, t1);
    a_text(&a, t2);
    comity_err rc = run1(p, sql, &a, res, what, exists, err);
    a_free(&a);
    return rc;
}

static int64_t i64_at(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? 0 : strtoll(PQgetvalue(r, row, col), NULL, 10);
}

/* A text column, NULL when SQL NULL; borrowed from r. */
static const char *text_at(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? NULL : PQgetvalue(r, row, col);
}

static void copy_at(char *dst, size_t cap, const PGresult *r, int row, int col)
{
    snprintf(dst, cap, "%s", PQgetvalue(r, row, col));
}

static bool changed(const PGresult *r)
{
    const char *t = PQcmdTuples((PGresult *)r);
    return t && *t && strcmp(t, "0") != 0;
}

/* ---- open, close ------------------------------------------------------------ */

static void pg_close(void *impl)
{
    struct pg *p = impl;
    if (!p)
        return;
    for (size_t i = 0; i < POOL_MAX; i++)
        conn_close(p->pool[i]);
    conn_close(p->ic);
    PQfinish(p->pc.l);
    pthread_mutex_destroy(&p->pc.mu);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->imu);
    cy_free(p->conninfo);
    cy_free(p);
}

/* ---- meta --------------------------------------------------------------- */

static comity_err pg_meta_get(void *impl, const char *key, char **val, comity_error *err)
{
    struct args a;
    a_init(&a);
    a_text(&a, key);
    PGresult *r = NULL;
    comity_err rc = run1(impl, "SELECT value FROM meta WHERE key = $1", &a, &r, "reading meta",
                         NULL, err);
    a_free(&a);
    if (!rc && PQntuples(r) == 0)
        rc = cy_fail(err, COMITY_ERR_NOTFOUND, "store: no setting '%s'", key);
    else if (!rc && !(*val = cy_strdup(PQgetvalue(r, 0, 0))))
        rc = cy_fail(err, COMITY_ERR_NOMEM, "store: out of memory");
    PQclear(r);
    return rc;
}

static comity_err pg_size_bytes(void *impl, uint64_t *bytes, comity_error *err)
{
    struct args a;
    a_init(&a);
    PGresult *r = NULL;
    comity_err rc = run1(impl, "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint"
                               " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                               " WHERE n.nspname = current_schema() AND c.relkind = 'r'",
                         &a, &r, "reading the store's size", NULL, err);
    a_free(&a);
    if (!rc && PQntuples(r) == 1)
        *bytes = strtoull(PQgetvalue(r, 0, 0), NULL, 10);
    else if (!rc)
        rc = cy_fail(err, COMITY_ERR_DB, "store: no size from the server");
    PQclear(r);
    return rc;
}

static comity_err pg_meta_set(void *impl, const char *key, const char *val, comity_error *err)
{
    struct args a;
    a_init(&a);
    a_text(&a, key);
    a_text(&a, val);
    comity_err rc = run1(impl, "INSERT INTO meta(key, value) VALUES($1, $2)"
                               " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                         &a, NULL, "writing meta", NULL, err);
    a_free(&a);
    return rc;
}

/* ---- principals ----------------------------------------------------------- */

static void read_principal(const PGresult *r, int row, cy_principal *o)
{
    memset(o, 0, sizeof *o);
    copy_at(o->name, sizeof o->name, r, row, 0);
    copy_at(o->kind, sizeof o->kind, r, row, 1);
    copy_at(o->vkey, sizeof o->vkey, r, row, 2);
    copy_at(o->recipient, sizeof o->recipient, r, row, 3);
    o->created = i64_at(r, row, 4);
    o->revoked_ms = i64_at(r, row, 6);
    o->revoked_w_ms = i64_at(r, row, 7);
}

/* ---- the principal cache (see the top) ---- */

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static size_t slot_of(const char *key)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (const unsigned char *c = (const unsigned char *)key; *c; c++)
        h = (h ^ *c) * 16777619u;
    return h & (PCACHE_SLOTS - 1);
}

static void pc_drop(struct pcache *pc)
{
    for (size_t i = 0; i < PCACHE_SLOTS; i++)
        pc->by_token[i].used = pc->by_name[i].used = false;
    pc->epoch++;
}

static void pc_unlisten(struct pcache *pc, int64_t now)
{
    PQfinish(pc->l);
    pc->l = NULL;
    pc->retry_ms = now + PCACHE_RECHECK_MS;
    pc_drop(pc);
}

/* Under pc->mu: whether the entries may be used, after taking in what the
 * listening connection has received (any notification drops them) and,
 * every PCACHE_RECHECK_MS, comparing principals_gen.  False (nothing
 * cached is used) while there is no listening connection. */
static bool pc_fresh(struct pg *p)
{
    struct pcache *pc = &p->pc;
    int64_t now = mono_ms();
    if (!pc->l) {
        if (now < pc->retry_ms)
            return false;
        if (cy_pg_connect(p->conninfo, &pc->l, NULL) ||
            cy_pg_exec(pc->l, "LISTEN " PRINCIPALS_CHANNEL, "store", NULL)) {
            pc_unlisten(pc, now);
            return false;
        }
        pc_drop(pc);
        pc->checked_ms = now - PCACHE_RECHECK_MS; /* read the generation now */
    }
    if (!PQconsumeInput(pc->l) || PQstatus(pc->l) != CONNECTION_OK) {
        pc_unlisten(pc, now);
        return false;
    }
    if (now - pc->checked_ms >= PCACHE_RECHECK_MS) {
        PGresult *r = PQexec(pc->l, "SELECT value FROM meta WHERE key = 'principals_gen'");
        bool ok = PQresultStatus(r) == PGRES_TUPLES_OK;
        const char *g = ok && PQntuples(r) ? PQgetvalue(r, 0, 0) : "";
        if (ok && strcmp(g, pc->gen)) {
            pc_drop(pc);
            snprintf(pc->gen, sizeof pc->gen, "%s", g);
        }
        PQclear(r);
        if (!ok) {
            pc_unlisten(pc, now);
            return false;
        }
        pc->checked_ms = now;
    }
    PGnotify *n;
    bool any = false;
    while ((n = PQnotifies(pc->l))) {
        any = true;
        PQfreemem(n);
    }
    if (any)
        pc_drop(pc);
    return true;
}

/* Under pc->mu, after a write of principals through this handle. */
static void pc_wrote(struct pg *p)
{
    pthread_mutex_lock(&p->pc.mu);
    pc_drop(&p->pc);
    pthread_mutex_unlock(&p->pc.mu);
}

/* Every write of principals bumps principals_gen and notifies the
 * listeners in its own statement (so on its commit): W is the write, as a
 * CTE named w returning one row per principal written. */
#define PRINCIPAL_WRITE(W)                                                                 \
    "WITH g AS (INSERT INTO meta(key, value) VALUES('principals_gen', '1')"                \
    " ON CONFLICT (key) DO UPDATE SET value = (meta.value::int8 + 1)::text), w AS (" W ")" \
    " SELECT (SELECT count(*) FROM w), pg_notify('" PRINCIPALS_CHANNEL "', '')"

static comity_err pg_principal_add(void *impl, const cy_principal *pr, const char *token_hash,
                                   comity_error *err)
{
    struct args a;
    a_init(&a);
    a_text(&a, pr->name);
    a_text(&a, pr->kind);
    a_text(&a, pr->vkey);
    a_text(&a, pr->recipient);
    a_i64(&a, pr->created);
    a_text(&a, token_hash);
    char exists[128];
    snprintf(exists, sizeof exists, "'%s' is already registered", pr->name);
    comity_err rc = run1(impl, PRINCIPAL_WRITE("INSERT INTO principals(" PRINCIPAL_COLS ")"
                                               " VALUES($1, $2, $3, $4, $5, $6) RETURNING 1"),
                         &a, NULL, "adding principal", exists, err);
    a_free(&a);
    pc_wrote(impl);
    return rc;
}

static comity_err pg_principal_set_token(void *impl, const char *name, const char *token_hash,
                                         comity_error *err)
{
    PGresult *r = NULL;
    char exists[128];
    snprintf(exists, sizeof exists, "the token of '%s' is another's", name);
    comity_err rc = run1_texts2(impl, PRINCIPAL_WRITE("UPDATE principals SET token_hash = $1"
                                                      " WHERE name = $2 RETURNING 1"),
                                token_hash, name, &r, "setting token", exists, err);
    pc_wrote(impl);
    if (!rc && i64_at(r, 0, 0) == 0)
        rc = cy_fail(err, COMITY_ERR_NOTFOUND, "store: no party '%s'", name);
    PQclear(r);
    return rc;
}

static comity_err pg_principal_set_revoked(void *impl, const char *name, const char *vkey,
                                          int64_t revoked_ms, int64_t revoked_w_ms,
                                          comity_error *err)
{
    struct args a;
    a_init(&a);
    a_i64(&a, revoked_ms);
    a_i64(&a, revoked_w_ms);
    a_text(&a, name);
    a_text(&a, vkey);
    PGresult *r = NULL;
    comity_err rc = run1(impl, PRINCIPAL_WRITE("UPDATE principals SET revoked_at = $1,"
                                               " revoked_w = $2 WHERE name = $3 AND vkey = $4"
                                               " RETURNING 1"),
                         &a, &r, "writing a revocation", NULL, err);
    a_free(&a);
    pc_wrote(impl);
    if (!rc && i64_at(r, 0, 0) == 0)
        rc = cy_fail(err, COMITY_ERR_NOTFOUND, "store: no principal '%s' with that key", name);
    PQclear(r);
    return rc;
}

/* A principal by name or token hash (by_token), from the cache or the
 * store (then cached when nothing was written meanwhile). */
static comity_err principal_one(struct pg *p, bool by_token, const char *key,
                                cy_principal *out, char *token_hash, comity_error *err)
{
    struct pcache *pc = &p->pc;
    size_t slot = slot_of(key);
    pthread_mutex_lock(&pc->mu);
    bool use = pc_fresh(p);
    uint64_t epoch = pc->epoch;
    struct pslot *e = by_token ? &pc->by_token[slot] : &pc->by_name[slot];
    if (use && e->used && !strcmp(by_token ? e->token_hash : e->p.name, key)) {
        *out = e->p;
        if (token_hash)
            memcpy(token_hash, e->token_hash, CY_TOKEN_HASH_HEX);
        pthread_mutex_unlock(&pc->mu);
        return COMITY_OK;
    }
    pthread_mutex_unlock(&pc->mu);
    struct args a;
    a_init(&a);
    a_text(&a, key);
    PGresult *r = NULL;
    comity_err rc = run1(p, by_token ? "SELECT " PRINCIPAL_READ " FROM principals WHERE token_hash = $1"
                                     : "SELECT " PRINCIPAL_READ " FROM principals WHERE name = $1",
                         &a, &r, "reading principal", NULL, err);
    a_free(&a);
    if (!rc && PQntuples(r) == 0) {
        rc = cy_fail(err, COMITY_ERR_NOTFOUND, "store: no such principal");
    } else if (!rc) {
        char th[CY_TOKEN_HASH_HEX];
        read_principal(r, 0, out);
        copy_at(th, sizeof th, r, 0, 5);
        if (token_hash)
            memcpy(token_hash, th, sizeof th);
        pthread_mutex_lock(&pc->mu);
        /* a notification taken in since the read drops the entries and
         * moves the epoch: what was read is not kept then */
        if (use && pc_fresh(p) && pc->epoch == epoch) {
            struct pslot *t = &pc->by_token[slot_of(th)], *n = &pc->by_name[slot_of(out->name)];
            t->used = n->used = true;
            t->p = n->p = *out;
            memcpy(t->token_hash, th, sizeof th);
            memcpy(n->token_hash, th, sizeof th);
        }
        pthread_mutex_unlock(&pc->mu);
    }
    PQclear(r);
    return rc;
}

static comity_err pg_principal_get(void *impl, const char *name, cy_principal *out,
                                   char token_hash[CY_TOKEN_HASH_HEX], comity_error *err)
{
    return principal_one(impl, false, name, out, token_hash, err);
}

static comity_err pg_principal_by_token(void *impl, const char *token_hash, cy_principal *out,
                                        comity_error *err)
{
    return principal_one(impl, true, token_hash, out, NULL, err);
}

static comity_err pg_principal_list(void *impl, cy_principal_cb cb, void *ctx,
                                    comity_error *err)
{
    PGresult *r = NULL;
    comity_err rc = run1(impl, "SELECT " PRINCIPAL_READ " FROM principals ORDER BY name", NULL,
                         &r, "listing principals", NULL, err);
    for (int i = 0; !rc && i < PQntuples(r); i++) {
        cy_principal o;
        read_principal(r, i, &o);
        if (cb(&o, ctx))
            break;
    }
    PQclear(r);
    return rc;
}

/* ---- collections ----------------------------------------------------------- */

static void read_collection(const PGresult *r, int row, cy_collection *o)
{
    memset(o, 0, sizeof *o);
    o->n = i64_at(r, row, 0);
    copy_at(o->id, sizeof o->id, r, row, 1);
    copy_at(o->api_root, sizeof o->api_root, r, row, 2);
    copy_at(o->alias, sizeof o->alias, r, row, 3);
    copy_at(o->title, sizeof o->title, r, row, 4);
    copy_at(o->description, sizeof o->description, r, row, 5);
    copy_at(o->read, sizeof o->read, r, row, 6);
    copy_at(o->write, sizeof o->write, r, row, 7);
}

static comity_err pg_collection_add(void *impl, const cy_collection *o, comity_error *err)
{
    struct args a;
    a_init(&a);
    a_text(&a, o->id);
    a_text(&a, o->api_root);
    a_text(&a, o->alias);
    a_text(&a, o->title);
    a_text(&a, o->description);
    a_text(&a, o->read);
    a_text(&a, o->write);
    char exists[96];
    snprintf(exists, sizeof exists, "collection %s exists", o->id);
    comity_err rc = run1(impl, "INSERT INTO collections(id, api_root, alias, title, description,"
                               " read_access, write_access) VALUES($1, $2, $3, $4, $5, $6, $7)",
                         &a, NULL, "adding collection", exists, err);
    a_free(&a);
    return rc;
}

static comity_err pg_collection_get(void *impl, const char *api_root, const char *id,
                                    cy_collection *out, comity_error *err)
{
    struct args a;
    a_init(&a);
    a_text(&a, api_root);
    a_text(&a, id);
    PGresult *r = NULL;
    comity_err rc = run1(impl, "SELECT " COLL_COLS " FROM collections"
                               " WHERE api_root = $1 AND id = $2",
                         &a, &r, "reading collection", NULL, err);
    a_free(&a);
    if (!rc && PQntuples(r) == 0)
        rc = cy_fail(err, COMITY_ERR_NOTFOUND, "store: no collection %s", id);
    else if (!rc)
        read_collection(r, 0, out);
    PQclear(r);
    return rc;
}

static comity_err pg_collection_list(void *impl, const char *api_root, cy_collection_cb cb,
                                     void *ctx, comity_error *err)
{
    struct args a;
    a_init(&a);
    a_text(&a, api_root);
    PGresult *r = NULL;
    comity_err rc = run1(impl, "SELECT " COLL_COLS " FROM collections WHERE api_root = $1"
                               " ORDER BY n",
                         &a, &r, "listing collections", NULL, err);
    a_free(&a);
    for (int i = 0; !rc && i < PQntuples(r); i++) {
        cy_collection o;
        read_collection(r, i, &o);
        if (cb(&o, ctx))
            break;
    }
    PQclear(r);
    return rc;
}

/* ---- objects ---------------------------------------------------------------- */

/* Locks the collections colls[0..n) (ascending, see the top) for this
 * transaction, then gives each its batch date: now, or just after the
 * latest date_added already there (OUT dates[i] for colls[i]). */
static comity_err lock_colls(struct pgc *c, const int64_t *colls, size_t n, int64_t now,
                             int64_t *dates, comity_error *err)
{
    struct args a;
    a_init(&a);
    a_i64s(&a, colls, n);
    comity_err rc = run(c, "SELECT n FROM collections WHERE n = ANY($1::int8[])"
                           " ORDER BY n FOR UPDATE",
                        &a, NULL, "locking collections", NULL, err);
    PGresult *r = NULL;
    /* a new statement: its snapshot sees the lock's last holder's rows */
    if (!rc)
        rc = run(c, "SELECT (SELECT max(date_added) FROM objects WHERE coll = u.c)"
                    " FROM unnest($1::int8[]) WITH ORDINALITY AS u(c, k) ORDER BY k",
                 &a, &r, "reading dates", NULL, err);
    a_free(&a);
    for (size_t i = 0; !rc && i < n; i++) {
        dates[i] = now;
        if (!PQgetisnull(r, (int)i, 0) && i64_at(r, (int)i, 0) >= now)
            dates[i] = i64_at(r, (int)i, 0) + 1;
    }
    PQclear(r);
    return rc;
}

/* An id's owner (store.h, cy_store_objects_add): the owner of its rows,
 * else the one kept for an id whose objects were deleted, else NULL. */
#define OWNER_OF "coalesce(max(owner), (SELECT w.owner FROM object_owner w" \
                 " WHERE w.coll = $1 AND w.id = $2))"

static int cmp_obj_id(const void *x, const void *y)
{
    return strcmp((*(const cy_obj_in *const *)x)->id, (*(const cy_obj_in *const *)y)->id);
}

/* The batch path of pg_objects_add, for a batch of ids all distinct and
 * none in coll yet (nor kept in object_owner): every object is the only
 * version of its id (first and last), nobody else holds it, so the whole
 * batch is one INSERT ... SELECT FROM unnest (two round trips in all,
 * rather than two or three per object).  In the caller's transaction,
 * with coll locked (lock_colls).  OUT *done: whether it applied (false:
 * the caller goes object by object; nothing was written).  Allocates
 * (and frees) arrays of n pointers. */
static comity_err objects_add_new(struct pgc *c, int64_t coll, const cy_obj_in *objs, size_t n,
                                  const char *owner, int64_t date, bool *done,
                                  comity_error *err)
{
    *done = false;
    if (n < 2)
        return COMITY_OK;
    const cy_obj_in **sorted = cy_calloc(n, sizeof *sorted);
    const char **col = cy_calloc(n * 6, sizeof *col);
    size_t *lens = cy_calloc(n, sizeof *lens);
    int64_t *vus = cy_calloc(n, sizeof *vus);
    comity_err rc = COMITY_OK;
    if (!sorted || !col || !lens || !vus) {
        rc = cy_fail(err, COMITY_ERR_NOMEM, "store: out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        sorted[i] = &objs[i];
    qsort(sorted, n, sizeof *sorted, cmp_obj_id);
    for (size_t i = 1; i < n; i++)
        if (!strcmp(sorted[i - 1]->id, sorted[i]->id))
            goto out; /* two versions of one id: object by object */
    const char **ids = col, **types = col + n, **specs = col + 2 * n, **versions = col + 3 * n,
               **medias = col + 4 * n, **jsons = col + 5 * n;
    for (size_t i = 0; i < n; i++) {
        ids[i] = objs[i].id, types[i] = objs[i].type, specs[i] = objs[i].spec_version;
        versions[i] = objs[i].version, medias[i] = objs[i].media_type;
        jsons[i] = objs[i].json, lens[i] = objs[i].json_len, vus[i] = objs[i].version_us;
    }
    struct args a;
    a_init(&a);
    a_i64(&a, coll);
    a_texts(&a, ids, NULL, n);
    PGresult *r = NULL;
    rc = run(c, "SELECT EXISTS(SELECT 1 FROM objects WHERE coll = $1 AND id = ANY($2::text[])"
                " AND rec IS NULL) OR EXISTS(SELECT 1 FROM object_owner w WHERE w.coll = $1"
                " AND w.id = ANY($2::text[]))",
             &a, &r, "reading versions", NULL, err);
    bool any = rc || strcmp(text_at(r, 0, 0), "f");
    PQclear(r);
    if (!any) {
        a_texts(&a, types, NULL, n);
        a_texts(&a, specs, NULL, n);
        a_i64s(&a, vus, n);
        a_texts(&a, versions, NULL, n);
        a_i64(&a, date);
        a_texts(&a, medias, NULL, n);
        a_texts(&a, jsons, lens, n);
        a_text(&a, owner);
        /* seqs in the batch's order (ORDER BY k): TAXII pages by seq */
        rc = run(c, "INSERT INTO objects(coll, id, type, spec_version, version_us, version,"
                    " date_added, media_type, is_first, is_last, json, owner)"
                    " SELECT $1, u.i, u.t, u.s, u.vu, u.v, $7, u.m, true, true, u.j, $10"
                    " FROM unnest($2::text[], $3::text[], $4::text[], $5::int8[], $6::text[],"
                    " $8::text[], $9::text[]) WITH ORDINALITY AS u(i, t, s, vu, v, m, j, k)"
                    " ORDER BY u.k",
                 &a, NULL, "adding objects", NULL, err);
        *done = !rc;
    }
    a_free(&a);
out:
    cy_free(sorted);
    cy_free(col);
    cy_free(lens);
    cy_free(vus);
    return rc;
}

static comity_err pg_objects_add(void *impl, int64_t coll, const cy_obj_in *objs, size_t n,
                                 const char *owner, size_t max_held, int64_t *date_added_io,
                                 uint8_t *added, comity_error *err)
{
    struct pg *p = impl;
    comity_err rc;
    struct pgc *c = acquire(p, &rc, err);
    if (!c)
        return rc;
    int64_t date = 0;
    bool batch = false;
    if ((rc = exec(c, "BEGIN", err)) || (rc = lock_colls(c, &coll, 1, *date_added_io, &date, err)) ||
        (rc = objects_add_new(c, coll, objs, n, owner, date, &batch, err)))
        goto done;
    if (batch && added)
        memset(added, CY_OBJ_ADDED, n);
    size_t nheld = 0;
    for (size_t i = 0; i < n && !rc && !batch; i++) {
        const cy_obj_in *o = &objs[i];
        struct args a;
        a_init(&a);
        a_i64(&a, coll);
        a_text(&a, o->id);
        /* where this version falls among the id's versions, and who holds
         * the id (the collection's row is locked: nobody takes it meanwhile) */
        PGresult *r = NULL;
        rc = run(c, "SELECT min(version_us), max(version_us), count(*), " OWNER_OF
                    " FROM objects WHERE coll = $1 AND id = $2 AND rec IS NULL",
                 &a, &r, "reading versions", NULL, err);
        int64_t vmin = rc ? 0 : i64_at(r, 0, 0), vmax = rc ? 0 : i64_at(r, 0, 1);
        int64_t count = rc ? 0 : i64_at(r, 0, 2);
        bool held = !rc && owner && !PQgetisnull(r, 0, 3) && strcmp(text_at(r, 0, 3), owner);
        PQclear(r);
        if (held) {
            if (added)
                added[i] = CY_OBJ_HELD;
            nheld++;
            a_free(&a);
            continue;
        }
        bool first = count == 0 || o->version_us < vmin;
        bool last = count == 0 || o->version_us > vmax;
        a_text(&a, o->type);
        a_text(&a, o->spec_version);
        a_i64(&a, o->version_us);
        a_text(&a, o->version);
        a_i64(&a, date);
        a_text(&a, o->media_type);
        a_text(&a, first ? "t" : "f");
        a_text(&a, last ? "t" : "f");
        a_textn(&a, o->json, o->json_len);
        a_text(&a, owner);
        /* only a duplicate (coll, id, version) is skipped; any other
         * failure aborts the whole batch */
        if (!rc)
            rc = run(c, "INSERT INTO objects(coll, id, type, spec_version, version_us, version,"
                        " date_added, media_type, is_first, is_last, json, owner)"
                        " VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9::text::boolean,"
                        " $10::text::boolean, $11, $12)"
                        " ON CONFLICT (coll, id, version_us) WHERE rec IS NULL DO NOTHING",
                     &a, &r, "adding object", NULL, err);
        bool was_added = !rc && changed(r);
        PQclear(r);
        a_free(&a);
        if (added)
            added[i] = was_added ? CY_OBJ_ADDED : CY_OBJ_PRESENT;
        if (rc || !was_added || count == 0 || (!first && !last))
            continue;
        a_init(&a);
        a_i64(&a, coll);
        a_text(&a, o->id);
        a_i64(&a, o->version_us);
        rc = run(c, first ? "UPDATE objects SET is_first = false WHERE coll = $1 AND id = $2"
                            " AND rec IS NULL AND version_us <> $3"
                          : "UPDATE objects SET is_last = false WHERE coll = $1 AND id = $2"
                            " AND rec IS NULL AND version_us <> $3",
                 &a, NULL, "marking versions", NULL, err);
        a_free(&a);
    }
    if (!rc && nheld > max_held)
        rc = cy_fail(err, COMITY_ERR_DENIED,
                     "store: %zu of %zu objects have ids held by another owner (at most %zu"
                     " may), nothing stored", nheld, n, max_held);
    if (!rc && !(rc = exec(c, "COMMIT", err)))
        *date_added_io = date;
done:
    if (rc)
        rollback(c);
    release(p, c);
    return rc;
}

/* Record projections are found by id through their records, as in the
 * SQLite store (a projection's id carries its record's uuid under another
 * type): OUT *recs (caller frees, cy_free) the seqs of the records whose
 * uuid one of q->ids has.  The record types present are walked in the
 * records_type index (one seek each). */
static comity_err wrapper_recs(struct pgc *c, const cy_obj_query *q, int64_t **recs, size_t *n,
                               comity_error *err)
{
    *recs = NULL;
    *n = 0;
    if (!q->nids)
        return COMITY_OK;
    const char *uuids[FILTER_MAX];
    size_t nu = 0;
    for (size_t i = 0; i < q->nids && i < FILTER_MAX; i++) {
        const char *u = strstr(q->ids[i], "--");
        if (u)
            uuids[nu++] = u + 2;
    }
    if (!nu)
        return COMITY_OK;
    struct args a;
    a_init(&a);
    a_texts(&a, uuids, NULL, nu);
    PGresult *r = NULL;
    comity_err rc = run(c, "WITH RECURSIVE t(x) AS (SELECT min(type) FROM records"
                           " UNION ALL SELECT (SELECT min(type) FROM records WHERE type > t.x)"
                           " FROM t WHERE t.x IS NOT NULL)"
                           " SELECT r.seq FROM t, unnest($1::text[]) AS u(u), records r"
                           " WHERE t.x IS NOT NULL AND r.id = t.x || '--' || u.u",
                        &a, &r, "finding wrapped records", NULL, err);
    a_free(&a);
    if (!rc && PQntuples(r) > 0) {
        if (!(*recs = cy_calloc((size_t)PQntuples(r), sizeof **recs)))
            rc = cy_fail(err, COMITY_ERR_NOMEM, "store: out of memory");
        for (int i = 0; !rc && i < PQntuples(r); i++)
            (*recs)[(*n)++] = i64_at(r, i, 0);
    }
    PQclear(r);
    return rc;
}

/* Appends the SQL of a record filter (store/records.h) on the records row
 * named `r`, its values added to a. */
static comity_err filter_sql(cy_buf *sql, struct args *a, const cy_record_filter *f,
                             const char *r)
{
    comity_err e = cy_buf_puts(sql, "(false");
    if (f->ntlps)
        e |= cy_buf_printf(sql, " OR %s.tlp = ANY($%d::text[])", r,
                           a_texts(a, f->tlps, NULL, f->ntlps));
    if (f->author[0])
        e |= cy_buf_printf(sql, " OR %s.author = $%d", r, a_text(a, f->author));
    if (f->nto) {
        const char *to[CY_FILTER_TO_MAX];
        for (size_t i = 0; i < f->nto; i++)
            to[i] = f->to[i];
        e |= cy_buf_printf(sql, " OR EXISTS(SELECT 1 FROM record_to v WHERE v.seq = %s.seq"
                                " AND v.party = ANY($%d::text[]))",
                           r, a_texts(a, to, NULL, f->nto));
    }
    e |= cy_buf_puts(sql, ")");
    return e;
}

static bool filter_ok(const cy_record_filter *f)
{
    return f->ntlps <= CY_FILTER_TLPS_MAX && f->nto <= CY_FILTER_TO_MAX;
}

/* Appends the conditions of q on the objects row `o` (after "o.coll =
 * $1") and adds their values.  An id filter matches stored objects by id
 * and record projections by their records (`recs`, wrapper_recs) and
 * their own id.  With paging, the position and added_after too; with
 * q->visible (and the records row joined as r), the projections of
 * records the filter does not pass are left out. */
static comity_err where_clause(const cy_obj_query *q, bool paging, bool types,
                               const int64_t *recs, size_t nrecs, cy_buf *sql, struct args *a,
                               comity_error *err)
{
    comity_err e = COMITY_OK;
    if (q->nids > FILTER_MAX || (types && q->ntypes > FILTER_MAX) ||
        (q->spec_versions && q->nspec > FILTER_MAX) || q->nversions > FILTER_MAX)
        return cy_fail(err, COMITY_ERR_TOOBIG, "store: more than %d values in one filter",
                       FILTER_MAX);
    if (paging && q->has_added_after)
        e |= cy_buf_printf(sql, " AND o.date_added > $%d", a_i64(a, q->added_after));
    if (paging && q->has_after) {
        int d = a_i64(a, q->after_date), s = a_i64(a, q->after_seq);
        e |= cy_buf_printf(sql, " AND (o.date_added, o.seq) > ($%d, $%d)", d, s);
    }
    if (q->nids) {
        int ids = a_texts(a, q->ids, NULL, q->nids);
        e |= cy_buf_printf(sql, " AND o.id = ANY($%d::text[]) AND (o.rec IS NULL", ids);
        if (nrecs)
            e |= cy_buf_printf(sql, " OR o.rec = ANY($%d::int8[])", a_i64s(a, recs, nrecs));
        e |= cy_buf_puts(sql, ")");
    }
    if (types && q->ntypes)
        e |= cy_buf_printf(sql, " AND o.type = ANY($%d::text[])",
                           a_texts(a, q->types, NULL, q->ntypes));
    if (q->spec_versions)
        e |= cy_buf_printf(sql, " AND o.spec_version = ANY($%d::text[])",
                           a_texts(a, q->spec_versions, NULL, q->nspec));
    unsigned vf = q->vflags;
    if (vf == 0 && q->nversions == 0)
        vf = CY_V_LAST;
    if (!(vf & CY_V_ALL)) {
        e |= cy_buf_puts(sql, " AND (false");
        if (vf & CY_V_LAST)
            e |= cy_buf_puts(sql, " OR o.is_last");
        if (vf & CY_V_FIRST)
            e |= cy_buf_puts(sql, " OR o.is_first");
        if (q->nversions)
            e |= cy_buf_printf(sql, " OR o.version_us = ANY($%d::int8[])",
                               a_i64s(a, q->versions, q->nversions));
        e |= cy_buf_puts(sql, ")");
    }
    if (q->visible) {
        if (!filter_ok(q->visible))
            return cy_fail(err, COMITY_ERR_USAGE, "store: malformed record filter");
        e |= cy_buf_puts(sql, " AND (o.rec IS NULL OR ");
        e |= filter_sql(sql, a, q->visible, "r");
        e |= cy_buf_puts(sql, ")");
    }
    return e ? cy_fail(err, COMITY_ERR_TOOBIG, "store: query too long") : COMITY_OK;
}

/* The page query's columns: the object's, its JSON when asked for, then
 * objects.rec and the joined record's fields the caller renders a
 * projection from (src/stix). */
enum { OBJ_COL_JSON = 8, OBJ_COL_REC = 9 };

static comity_err pg_objects_query(void *impl, const cy_obj_query *qq, cy_obj_cb cb, void *ctx,
                                   bool *more, comity_error *err)
{
    struct pg *p = impl;
    *more = false;
    comity_err rc;
    struct pgc *c = acquire(p, &rc, err);
    if (!c)
        return rc;
    cy_buf sql;
    cy_buf_init(&sql, SQL_MAX);
    struct args a;
    a_init(&a);
    int64_t *recs = NULL;
    size_t nrecs = 0;
    PGresult *r = NULL;
    if (!(rc = wrapper_recs(c, qq, &recs, &nrecs, err))) {
        if (cy_buf_printf(&sql,
                          "SELECT o.seq, o.date_added, o.version_us, o.id, o.type,"
                          " o.spec_version, o.version, o.media_type, %s, o.rec, r.id, r.type,"
                          " r.author, r.tlp, r.created, %s"
                          " FROM objects o LEFT JOIN records r ON r.seq = o.rec"
                          " WHERE o.coll = $%d",
                          qq->with_json ? "o.json" : "NULL",
                          qq->with_json ? "r.envelope" : "NULL", a_i64(&a, qq->coll)))
            rc = cy_fail(err, COMITY_ERR_TOOBIG, "store: query too long");
    }
    if (!rc)
        rc = where_clause(qq, true, true, recs, nrecs, &sql, &a, err);
    if (!rc && cy_buf_printf(&sql, " ORDER BY o.date_added, o.seq LIMIT $%d",
                             a_i64(&a, (int64_t)qq->limit + 1)))
        rc = cy_fail(err, COMITY_ERR_TOOBIG, "store: query too long");
    /* A page is read in objects_page's order, a LIMIT's worth of rows
     * from its position: never by a bitmap scan of everything after the
     * position and a sort, which the planner picks when it believes few
     * rows lie there (a table not analyzed yet; dates_added above the
     * last ANALYZE's histogram, which are the newest objects): 50 ms at
     * 20,000 objects, seconds at 1,000,000 (docs/operations.md, "TAXII
     * pages at 1,000,000 objects").  An id filter is the exception:
     * finding the ids and sorting them is right then. */
    if (!rc && qq->nids) {
        rc = run(c, (const char *)sql.data, &a, &r, "querying objects", NULL, err);
    } else if (!rc) { /* one round trip all the same */
        struct pipe pp = {.keep = 3};
        pipe_add(&pp, "BEGIN", NULL, "beginning", NULL);
        pipe_add(&pp, "SET LOCAL enable_sort = off", NULL, "beginning", NULL);
        pipe_add(&pp, (const char *)sql.data, &a, "querying objects", NULL);
        pipe_add(&pp, "COMMIT", NULL, "committing", NULL);
        rc = pipe_run(c, &pp, err);
        r = pp.kept;
        if (rc) {
            PQclear(r);
            r = NULL;
            rollback(c);
        }
    }
    a_free(&a);
    cy_buf_free(&sql);
    cy_free(recs);
    release(p, c); /* the rows are in r: the callback may call the store */
    for (int i = 0; !rc && i < PQntuples(r); i++) {
        if ((size_t)i == qq->limit) {
            *more = true;
            break;
        }
        cy_obj_row o = {
            .seq = i64_at(r, i, 0),
            .date_added = i64_at(r, i, 1),
            .version_us = i64_at(r, i, 2),
            .id = text_at(r, i, 3),
            .type = text_at(r, i, 4),
            .spec_version = text_at(r, i, 5),
            .version = text_at(r, i, 6),
            .media_type = text_at(r, i, 7),
        };
        cy_record_row rec;
        if (!PQgetisnull(r, i, OBJ_COL_REC)) {
            memset(&rec, 0, sizeof rec);
            rec.seq = i64_at(r, i, OBJ_COL_REC);
            rec.id = text_at(r, i, OBJ_COL_REC + 1);
            rec.type = text_at(r, i, OBJ_COL_REC + 2);
            rec.author = text_at(r, i, OBJ_COL_REC + 3);
            rec.tlp = text_at(r, i, OBJ_COL_REC + 4);
            rec.created = text_at(r, i, OBJ_COL_REC + 5);
            if (!rec.id) {
                rc = cy_fail(err, COMITY_ERR_DB, "store: object of record %lld without its"
                                                 " record", (long long)rec.seq);
                break;
            }
            if (qq->with_json) {
                rec.envelope = text_at(r, i, OBJ_COL_REC + 6);
                rec.envelope_len = (size_t)PQgetlength(r, i, OBJ_COL_REC + 6);
            }
            o.record = &rec;
        } else if (qq->with_json) {
            o.json = text_at(r, i, OBJ_COL_JSON);
            o.json_len = (size_t)PQgetlength(r, i, OBJ_COL_JSON);
        }
        if (cb(&o, ctx)) {
            *more = true;
            break;
        }
    }
    PQclear(r);
    return rc;
}

static comity_err pg_objects_delete(void *impl, const cy_obj_query *qq, size_t *deleted,
                                    comity_error *err)
{
    struct pg *p = impl;
    *deleted = 0;
    if (qq->nids == 0)
        return cy_fail(err, COMITY_ERR_USAGE, "store: delete needs an id");
    cy_obj_query dq = *qq;
    if (dq.vflags == 0 && dq.nversions == 0)
        dq.vflags = CY_V_ALL; /* DELETE without match[version] removes every version */
    dq.visible = NULL;        /* the caller decided what it may delete */
    comity_err rc;
    struct pgc *c = acquire(p, &rc, err);
    if (!c)
        return rc;
    cy_buf sql;
    cy_buf_init(&sql, SQL_MAX);
    struct args a;
    a_init(&a);
    int64_t *recs = NULL, date;
    size_t nrecs = 0;
    PGresult *r = NULL;
    if ((rc = exec(c, "BEGIN", err)) || (rc = lock_colls(c, &qq->coll, 1, 0, &date, err)) ||
        (rc = wrapper_recs(c, &dq, &recs, &nrecs, err)))
        goto done;
    /* an id's owner outlives its objects (pg_objects_add): kept aside
     * before they go (an owner never changes, so keeping it while versions
     * remain is harmless) */
    a_i64(&a, qq->coll);
    a_texts(&a, qq->ids, NULL, qq->nids);
    if ((rc = run(c, "INSERT INTO object_owner(coll, id, owner)"
                     " SELECT coll, id, max(owner) FROM objects WHERE coll = $1"
                     " AND id = ANY($2::text[]) AND rec IS NULL AND owner IS NOT NULL"
                     " GROUP BY coll, id ON CONFLICT (coll, id) DO NOTHING",
                  &a, NULL, "keeping owners", NULL, err)))
        goto done;
    a_free(&a);
    a_init(&a);
    if (cy_buf_printf(&sql, "DELETE FROM objects o WHERE o.coll = $%d", a_i64(&a, qq->coll))) {
        rc = cy_fail(err, COMITY_ERR_TOOBIG, "store: query too long");
        goto done;
    }
    if ((rc = where_clause(&dq, false, false, recs, nrecs, &sql, &a, err)) ||
        (rc = run(c, (const char *)sql.data, &a, &r, "deleting objects", NULL, err)))
        goto done;
    *deleted = (size_t)strtoull(PQcmdTuples(r), NULL, 10);
    a_free(&a);
    a_init(&a);
    a_i64(&a, qq->coll);
    a_texts(&a, qq->ids, NULL, qq->nids);
    if ((rc = run(c, "UPDATE objects o SET is_first = (o.version_us = m.lo),"
                     " is_last = (o.version_us = m.hi)"
                     " FROM (SELECT id, min(version_us) AS lo, max(version_us) AS hi FROM objects"
                     "  WHERE coll = $1 AND rec IS NULL AND id = ANY($2::text[]) GROUP BY id) m"
                     " WHERE o.coll = $1 AND o.rec IS NULL AND o.id = m.id",
                  &a, NULL, "marking versions", NULL, err)))
        goto done;
    rc = exec(c, "COMMIT", err);
done:
    if (rc) {
        *deleted = 0;
        rollback(c);
    }
    PQclear(r);
    a_free(&a);
    cy_buf_free(&sql);
    cy_free(recs);
    release(p, c);
    return rc;
}

/* ---- status ------------------------------------------------------------------ */

static comity_err pg_status_put(void *impl, const char *id, const char *api_root,
                                const char *owner, int64_t created, const char *json,
                                comity_error *err)
{
    struct pg *p = impl;
    comity_err rc;
    struct pgc *c = acquire(p, &rc, err);
    if (!c)
        return rc;
    struct args a;
    a_init(&a);
    a_text(&a, id);
    a_text(&a, api_root);
    a_text(&a, owner ? owner : "");
    a_i64(&a, created);
    a_text(&a, json);
    struct args old;
    a_init(&old);
    a_i64(&old, created - CY_STATUS_KEEP_US);
    /* A status resource reports on objects already committed durably; it
     * may be lost with the machine's power, so it does not wait for the
     * WAL.  Resources are kept CY_STATUS_KEEP_US, then dropped. */
    if (!(rc = exec(c, "BEGIN; SET LOCAL synchronous_commit = off", err)) &&
        !(rc = run(c, "INSERT INTO status(id, api_root, owner, created, json)"
                      " VALUES($1, $2, $3, $4, $5) ON CONFLICT (id) DO UPDATE SET"
                      " api_root = excluded.api_root, owner = excluded.owner,"
                      " created = excluded.created, json = excluded.json",
                   &a, NULL, "writing status", NULL, err)) &&
        !(rc = run(c, "DELETE FROM status WHERE created < $1", &old, NULL, "dropping status",
                   NULL, err)))
        rc = exec(c, "COMMIT", err);
    if (rc)
        rollback(c);
    a_free(&a);
    a_free(&old);
    release(p, c);
    return rc;
}

static comity_err pg_status_get(void *impl, const char *api_root, const char *id, char **json,
                                char owner[COMITY_PARTY_MAX + 1], comity_error *err)
{
    struct args a;
    a_init(&a);
    a_text(&a, api_root);
    a_text(&a, id);
    PGresult *r = NULL;
    comity_err rc = run1(impl, "SELECT json, owner FROM status WHERE api_root = $1 AND id = $2",
                         &a, &r, "reading status", NULL, err);
    a_free(&a);
    if (!rc && PQntuples(r) == 0) {
        rc = cy_fail(err, COMITY_ERR_NOTFOUND, "store: no status %s", id);
    } else if (!rc) {
        copy_at(owner, COMITY_PARTY_MAX + 1, r, 0, 1);
        if (!(*json = cy_strdup(PQgetvalue(r, 0, 0))))
            rc = cy_fail(err, COMITY_ERR_NOMEM, "store: out of memory");
    }
    PQclear(r);
    return rc;
}

/* ---- object owners ------------------------------------------------------ */

static comity_err pg_object_owner(void *impl, int64_t coll, const char *id,
                                  char owner[COMITY_PARTY_MAX + 1], comity_error *err)
{
    struct args a;
    a_init(&a);
    a_i64(&a, coll);
    a_text(&a, id);
    PGresult *r = NULL;
    comity_err rc = run1(impl, "SELECT " OWNER_OF " FROM objects WHERE coll = $1 AND id = $2"
                         " AND rec IS NULL", &a, &r, "reading an object's owner", NULL, err);
    a_free(&a);
    if (!rc && (PQntuples(r) == 0 || PQgetisnull(r, 0, 0)))
        rc = cy_fail(err, COMITY_ERR_NOTFOUND, "store: nobody holds %s", id);
    else if (!rc)
        copy_at(owner, COMITY_PARTY_MAX + 1, r, 0, 0);
    PQclear(r);
    return rc;
}

/* ---- registration requests ---------------------------------------------------- */

#define REG_COLS "party,vkey,recipient,note,created,signature,received,address"

/* The count and the insert under a lock that writers of the table take
 * one at a time (readers do not wait), in one transaction and one round
 * trip: no two writers both see room for one more. */
static comity_err pg_reg_add(void *impl, const cy_registration *g, size_t max,
                             comity_error *err)
{
    struct pg *p = impl;
    comity_err rc;
    struct pgc *c = acquire(p, &rc, err);
    if (!c)
        return rc;
    struct args a;
    a_init(&a);
    a_text(&a, g->party);
    a_text(&a, g->vkey);
    a_text(&a, g->recipient);
    a_text(&a, g->note);
    a_text(&a, g->created);
    a_text(&a, g->signature);
    a_i64(&a, g->received_us);
    a_text(&a, g->address);
    a_i64(&a, max > INT64_MAX ? INT64_MAX : (int64_t)max);
    struct pipe pp = {.keep = 3};
    pipe_add(&pp, "BEGIN", NULL, "beginning", NULL);
    pipe_add(&pp, "LOCK TABLE registrations IN SHARE ROW EXCLUSIVE MODE", NULL,
             "locking registration requests", NULL);
    pipe_add(&pp, "INSERT INTO registrations(" REG_COLS ")"
                  " SELECT $1, $2, $3, $4, $5, $6, $7, $8"
                  " WHERE (SELECT count(*) FROM registrations) < $9 RETURNING party",
             &a, "adding a registration request", "a registration request is kept");
    pipe_add(&pp, "COMMIT", NULL, "committing", NULL);
    rc = pipe_run(c, &pp, err);
    if (!rc && (!pp.kept || PQntuples(pp.kept) == 0))
        rc = cy_fail(err, COMITY_ERR_TOOBIG, "store: %zu registration requests are kept", max);
    PQclear(pp.kept);
    if (rc)
        rollback(c);
    a_free(&a);
    release(p, c);
    return rc;
}

static comity_err pg_reg_list(void *impl, cy_registration_cb cb, void *ctx, comity_error *err)
{
    PGresult *r = NULL;
    comity_err rc = run1(impl, "SELECT " REG_COLS " FROM registrations ORDER BY received, party",
                         NULL, &r, "listing registration requests", NULL, err);
    for (int i = 0; !rc && i < PQntuples(r); i++) {
        cy_registration g;
        memset(&g, 0, sizeof g);
        copy_at(g.party, sizeof g.party, r, i, 0);
        copy_at(g.vkey, sizeof g.vkey, r, i, 1);
        copy_at(g.recipient, sizeof g.recipient, r, i, 2);
        copy_at(g.note, sizeof g.note, r, i, 3);
        copy_at(g.created, sizeof g.created, r, i, 4);
        copy_at(g.signature, sizeof g.signature, r, i, 5);
        g.received_us = i64_at(r, i, 6);
        copy_at(g.address, sizeof g.address, r, i, 7);
        if (cb(&g, ctx))
            break;
    }
    PQclear(r);
    return rc;
}

static comity_err pg_reg_remove(void *impl, const char *party, const char *vkey,
                                comity_error *err)
{
    PGresult *r = NULL;
    comity_err rc = run1_texts2(impl, "DELETE FROM registrations WHERE party = $1 AND vkey = $2",
                                party, vkey, &r, "removing a registration request", NULL, err);
    if (!rc && !changed(r))
        rc = cy_fail(err, COMITY_ERR_NOTFOUND, "store: no registration request for %s", party);
    PQclear(r);
    return rc;
}

/* ---- the keys of principals' users ------------------------------------------- */

#define USER_COLS "principal,vkey,name,valid_from,revoked_at,reason,revoked_w"

static comity_err pg_user_put(void *impl, const cy_principal_user *u, comity_error *err)
{
    struct args a;
    a_init(&a);
    a_text(&a, u->principal);
    a_text(&a, u->vkey);
    a_text(&a, u->name);
    a_i64(&a, u->valid_from_ms);
    a_i64(&a, u->revoked_ms);
    a_text(&a, u->reason);
    a_i64(&a, u->revoked_w_ms);
    PGresult *r = NULL;
    comity_err rc = run1(impl, "INSERT INTO principal_users(" USER_COLS ")"
                               " VALUES($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (principal, vkey)"
                               " DO UPDATE SET name = EXCLUDED.name,"
                               " valid_from = EXCLUDED.valid_from,"
                               " revoked_at = EXCLUDED.revoked_at, reason = EXCLUDED.reason,"
                               " revoked_w = EXCLUDED.revoked_w",
                         &a, &r, "writing a user's key", NULL, err);
    a_free(&a);
    PQclear(r);
    return rc;
}

static comity_err pg_user_list(void *impl, const char *principal, cy_principal_user_cb cb,
                               void *ctx, comity_error *err)
{
    struct args a;
    a_init(&a);
    a_text(&a, principal ? principal : "");
    a_i64(&a, principal ? 1 : 0);
    PGresult *r = NULL;
    comity_err rc = run1(impl, "SELECT " USER_COLS " FROM principal_users"
                               " WHERE $2 = 0 OR principal = $1"
                               " ORDER BY principal COLLATE \"C\", name COLLATE \"C\","
                               " vkey COLLATE \"C\"",
                         &a, &r, "listing users' keys", NULL, err);
    a_free(&a);
    for (int i = 0; !rc && i < PQntuples(r); i++) {
        cy_principal_user u;
        memset(&u, 0, sizeof u);
        copy_at(u.principal, sizeof u.principal, r, i, 0);
        copy_at(u.vkey, sizeof u.vkey, r, i, 1);
        copy_at(u.name, sizeof u.name, r, i, 2);
        u.valid_from_ms = i64_at(r, i, 3);
        u.revoked_ms = i64_at(r, i, 4);
        copy_at(u.reason, sizeof u.reason, r, i, 5);
        u.revoked_w_ms = i64_at(r, i, 6);
        if (cb(&u, ctx))
            break;
    }
    PQclear(r);
    return rc;
}

static const cy_store_ops PG_OPS = {
    .name = "postgres",
    .close = pg_close,
    .meta_get = pg_meta_get,
    .meta_set = pg_meta_set,
    .principal_add = pg_principal_add,
    .principal_set_token = pg_principal_set_token,
    .principal_get = pg_principal_get,
    .principal_by_token = pg_principal_by_token,
    .principal_list = pg_principal_list,
    .collection_add = pg_collection_add,
    .collection_get = pg_collection_get,
    .collection_list = pg_collection_list,
    .objects_add = pg_objects_add,
    .objects_query = pg_objects_query,
    .objects_delete = pg_objects_delete,
    .status_put = pg_status_put,
    .status_get = pg_status_get,
    .object_owner = pg_object_owner,
    .size_bytes = pg_size_bytes,
    .reg_add = pg_reg_add,
    .reg_list = pg_reg_list,
    .reg_remove = pg_reg_remove,
    .user_put = pg_user_put,
    .user_list = pg_user_list,
    .principal_set_revoked = pg_principal_set_revoked,
};

/* ======================================================================== */
/* Records (record intake; see store/records.h)                             */
/* ======================================================================== */

static void read_record(const PGresult *r, int row, cy_record_row *o, bool env)
{
    memset(o, 0, sizeof *o);
    o->seq = i64_at(r, row, 0);
    o->id = text_at(r, row, 1);
    o->type = text_at(r, row, 2);
    o->author = text_at(r, row, 3);
    o->tlp = text_at(r, row, 4);
    o->created = text_at(r, row, 5);
    o->digest = text_at(r, row, 6);
    o->log_index = (uint64_t)i64_at(r, row, 7);
    o->received_us = i64_at(r, row, 8);
    if (env) {
        o->envelope = text_at(r, row, 9);
        o->envelope_len = (size_t)PQgetlength(r, row, 9);
        /* the framework's walks ask for the signer and created_ms after
         * the envelope */
        if (PQnfields(r) > 11) {
            o->signer = PQgetisnull(r, row, 10) ? NULL : text_at(r, row, 10);
            o->created_ms = i64_at(r, row, 11);
        }
    }
}

/* Runs a page query of records rows (RECORD_COLS then the envelope or
 * NULL; its LIMIT asks for one row past `limit`), `built` saying whether
 * writing sql overflowed, and hands each row to cb in order: *more when a
 * row past `limit` came or cb stopped.  Frees sql and a.  `what` names the
 * page in errors. */
static comity_err records_page(struct pg *p, cy_buf *sql, struct args *a, comity_err built,
                               const char *what, size_t limit, bool env, cy_record_cb cb,
                               void *ctx, bool *more, comity_error *err)
{
    PGresult *r = NULL;
    char w[64];
    snprintf(w, sizeof w, "reading a %s page", what);
    comity_err rc = built ? cy_fail(err, COMITY_ERR_TOOBIG, "store: %s query too long", what)
                          : run1(p, (const char *)sql->data, a, &r, w, NULL, err);
    a_free(a);
    cy_buf_free(sql);
    for (int i = 0; !rc && i < PQntuples(r); i++) {
        if ((size_t)i == limit) {
            *more = true;
            break;
        }
        cy_record_row o;
        read_record(r, i, &o, env);
        if (cb(&o, ctx)) {
            *more = true;
            break;
        }
    }
    PQclear(r);
    return rc;
}

static comity_err pg_record_find(void *impl, const char *id, char digest[65],
                                 uint64_t *log_index, comity_error *err)
{
    struct args a;
    a_init(&a);
    a_text(&a, id);
    PGresult *r = NULL;
    comity_err rc = run1(impl, "SELECT digest, log_index FROM records WHERE id = $1", &a, &r,
                         "reading record", NULL, err);
    a_free(&a);
    if (!rc && PQntuples(r) == 0) {
        rc = cy_fail(err, COMITY_ERR_NOTFOUND, "store: no record %s", id);
    } else if (!rc) {
        copy_at(digest, 65, r, 0, 0);
        *log_index = (uint64_t)i64_at(r, 0, 1);
    }
    PQclear(r);
    return rc;
}

static comity_err pg_record_witnessed(void *impl, const char *id, int64_t *w_ms,
                                      comity_error *err)
{
    struct args a;
    a_init(&a);
    a_text(&a, id);
    PGresult *r = NULL;
    comity_err rc = run1(impl, "SELECT w_ms FROM record_witnessed WHERE id = $1", &a, &r,
                         "reading a record's W", NULL, err);
    a_free(&a);
    if (!rc && PQntuples(r) == 0)
        rc = cy_fail(err, COMITY_ERR_NOTFOUND, "store: no W kept for record %s", id);
    else if (!rc)
        *w_ms = i64_at(r, 0, 0);
    PQclear(r);
    return rc;
}

static comity_err pg_record_find_many(void *impl, const char *const *ids, size_t n,
                                      char (*digests)[65], uint64_t *log_index, bool *found,
                                      comity_error *err)
{
    struct pg *p = impl;
    for (size_t i = 0; i < n; i++)
        found[i] = false;
    if (!n)
        return COMITY_OK;
    comity_err rc;
    struct pgc *c = intake_acquire(p, &rc, err);
    if (!c)
        return rc;
    struct args a;
    a_init(&a);
    a_texts(&a, ids, NULL, n);
    PGresult *r = NULL;
    /* one statement, one snapshot; each id asked for gets its row (an id
     * asked twice, twice), in the order asked */
    /* OFFSET 0 keeps the subquery apart: one index lookup per id, never a
     * join planned as a scan of every record */
    rc = run(c, "SELECT u.k, r.digest, r.log_index FROM unnest($1::text[]) WITH ORDINALITY"
                " AS u(id, k) CROSS JOIN LATERAL (SELECT digest, log_index FROM records"
                " WHERE id = u.id OFFSET 0) r",
             &a, &r, "reading records", NULL, err);
    a_free(&a);
    pthread_mutex_unlock(&p->imu);
    for (int i = 0; !rc && i < PQntuples(r); i++) {
        int64_t k = i64_at(r, i, 0) - 1;
        if (k < 0 || (size_t)k >= n)
            continue;
        found[k] = true;
        copy_at(digests[k], 65, r, i, 1);
        log_index[k] = (uint64_t)i64_at(r, i, 2);
    }
    PQclear(r);
    return rc;
}

/* One record's place in one collection, for pg_records_add. */
struct coll_rec {
    int64_t coll;
    size_t rec; /* index in the batch */
};

static int coll_rec_cmp(const void *x, const void *y)
{
    const struct coll_rec *a = x, *b = y;
    if (a->coll != b->coll)
        return a->coll < b->coll ? -1 : 1;
    return a->rec < b->rec ? -1 : a->rec > b->rec;
}

/* The batch's statements (see the top: one pipeline, one round trip).
 * ADD_RECORDS first takes n record seqs at once (its CTE s, MATERIALIZED:
 * evaluated once, before the rows): records_seq is advanced only here,
 * under the records lock, so the n values after the last one are the
 * batch's, and setval leaves currval at the last one, L.  Record k of the
 * batch (from 1) gets seq L - n + k: batch order.  The other statements
 * compute it the same way from currval (no lookup by id: a join of the
 * batch with the records table could be planned as a scan of it).  Object
 * seqs come from nextval in a SELECT list, which PostgreSQL evaluates
 * after the ORDER BY: per collection the extension definition first, then
 * the projections in batch order. */
#define ADD_RECORDS                                                                          \
    "WITH s AS MATERIALIZED (SELECT setval('records_seq',"                                   \
    "  nextval('records_seq') + $11::int8 - 1) AS l)"                                        \
    " INSERT INTO records(seq, id, type, author, tlp, created, digest, created_ms, log_index," \
    " received, envelope, signer)"                                                           \
    " SELECT s.l - $11::int8 + u.k, u.i, u.t, u.a, u.l, u.c, u.d, u.cm, u.li, u.rv, u.e, u.sg" \
    " FROM s, unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],"   \
    " $7::int8[], $8::int8[], $9::int8[], $10::text[], $12::text[])"                         \
    " WITH ORDINALITY AS u(i, t, a, l, c, d, cm, li, rv, e, sg, k)"
#define ADD_RECIPIENTS                                                                       \
    "INSERT INTO record_to(party, seq) SELECT x.p, currval('records_seq') - $3::int8 + x.k"   \
    " FROM unnest($1::text[], $2::int8[]) AS x(p, k) ON CONFLICT DO NOTHING"
/* the records' W (cy_record_in.witnessed_ms), those known only */
#define ADD_WITNESSED                                                                        \
    "INSERT INTO record_witnessed(id, w_ms) SELECT x.i, x.w"                                  \
    " FROM unnest($1::text[], $2::int8[]) AS x(i, w) WHERE x.w > 0"                           \
    " ON CONFLICT (id) DO UPDATE SET w_ms = EXCLUDED.w_ms"
#define LOCK_COLLS "SELECT n FROM collections WHERE n = ANY($1::int8[]) ORDER BY n FOR UPDATE"
/* after LOCK_COLLS, in a statement of its own: its snapshot sees what the
 * locks' last holders committed, so each collection's date is later than
 * any there */
#define ADD_PROJECTIONS                                                                      \
    "WITH d AS (SELECT u.c, GREATEST($1::int8, COALESCE((SELECT max(o.date_added) + 1"      \
    "  FROM objects o WHERE o.coll = u.c), $1::int8)) AS d FROM unnest($2::int8[]) AS u(c))" \
    " INSERT INTO objects(seq, coll, id, type, spec_version, version_us, version,"          \
    " date_added, media_type, is_first, is_last, json, rec)"                                 \
    " SELECT nextval('objects_seq'), x.c, x.i, split_part(x.i, '--', 1), x.sv, x.vu, x.v,"   \
    " d.d, x.m, true, true, x.j, x.r FROM ("                                                 \
    "  SELECT 0 AS g, u.c, 0::int8 AS k, $3::text AS i, $4::text AS sv, $5::int8 AS vu,"     \
    "  $6::text AS v, $7::text AS m, $8::text AS j, NULL::int8 AS r"                         \
    "  FROM unnest($2::int8[]) AS u(c) WHERE $9::text = 't'"                                 \
    "  UNION ALL"                                                                            \
    "  SELECT 1, p.c, p.k, p.i, p.sv, p.vu, p.v, p.m, '', currval('records_seq') - $17::int8" \
    "  + p.ri FROM unnest($10::int8[], $11::text[], $12::text[], $13::int8[], $14::text[],"  \
    "  $15::text[], $16::int8[]) WITH ORDINALITY AS p(c, i, sv, vu, v, m, ri, k)"            \
    " ) x JOIN d ON d.c = x.c ORDER BY x.c, x.g, x.k"                                        \
    " ON CONFLICT (coll, id, version_us) WHERE rec IS NULL DO NOTHING"

/* Parameters for ADD_RECORDS and ADD_RECIPIENTS (into ra, ta). */
static comity_err record_args(const cy_record_in *recs, size_t n, struct args *ra,
                              struct args *ta, size_t *nto_out, comity_error *err)
{
    const char **s = cy_calloc(n ? 8 * n : 1, sizeof *s);
    int64_t *nums = cy_calloc(n ? 3 * n : 1, sizeof *nums);
    size_t *envlen = cy_calloc(n ? n : 1, sizeof *envlen);
    size_t nto = 0;
    for (size_t i = 0; i < n; i++)
        nto += recs[i].nto;
    const char **to = cy_calloc(nto ? nto : 1, sizeof *to);
    int64_t *toidx = cy_calloc(nto ? nto : 1, sizeof *toidx); /* its record, from 1 */
    comity_err rc = COMITY_OK;
    *nto_out = nto;
    if (!s || !nums || !envlen || !to || !toidx) {
        rc = cy_fail(err, COMITY_ERR_NOMEM, "store: out of memory");
        goto out;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const cy_record_in *r = &recs[i];
        s[i] = r->id, s[n + i] = r->type, s[2 * n + i] = r->author, s[3 * n + i] = r->tlp;
        s[4 * n + i] = r->created, s[5 * n + i] = r->digest, s[6 * n + i] = r->envelope;
        s[7 * n + i] = r->signer && *r->signer ? r->signer : NULL;
        envlen[i] = r->envelope_len;
        nums[i] = r->created_ms, nums[n + i] = (int64_t)r->log_index;
        nums[2 * n + i] = r->received_us;
        for (size_t j = 0; j < r->nto; j++, k++)
            to[k] = r->to[j], toidx[k] = (int64_t)i + 1;
    }
    for (int c = 0; c < 6; c++)
        a_texts(ra, s + (size_t)c * n, NULL, n);
    for (int c = 0; c < 3; c++)
        a_i64s(ra, nums + (size_t)c * n, n);
    a_texts(ra, s + 6 * n, envlen, n);
    a_i64(ra, (int64_t)n);
    a_texts(ra, s + 7 * n, NULL, n); /* $12: the signers */
    a_texts(ta, to, NULL, nto);
    a_i64s(ta, toidx, nto);
    a_i64(ta, (int64_t)n);
out:
    cy_free(s);
    cy_free(nums);
    cy_free(envlen);
    cy_free(to);
    cy_free(toidx);
    return rc;
}

/* Parameters for LOCK_COLLS (ca) and ADD_PROJECTIONS (pa): the pairs sorted
 * by collection, then record. */
static comity_err projection_args(const cy_record_in *recs, size_t nrecs,
                                  const struct coll_rec *pairs, size_t npairs,
                                  const cy_record_extdef *ext, struct args *ca, struct args *pa,
                                  comity_error *err)
{
    int64_t *colls = cy_calloc(npairs, sizeof *colls);
    int64_t *num = cy_calloc(3 * npairs, sizeof *num);
    const char **text = cy_calloc(4 * npairs, sizeof *text);
    comity_err rc = COMITY_OK;
    if (!colls || !num || !text) {
        rc = cy_fail(err, COMITY_ERR_NOMEM, "store: out of memory");
        goto out;
    }
    if (ext && (!ext->spec_version || !ext->media_type)) {
        rc = cy_fail(err, COMITY_ERR_USAGE, "store: %s: no spec version or media type", ext->id);
        goto out;
    }
    size_t ncolls = 0, np = 0;
    for (size_t i = 0; i < npairs; i++) {
        if (!ncolls || colls[ncolls - 1] != pairs[i].coll)
            colls[ncolls++] = pairs[i].coll;
        const cy_record_in *r = &recs[pairs[i].rec];
        /* a record listing a collection twice is projected once */
        if (i > 0 && pairs[i - 1].coll == pairs[i].coll && pairs[i - 1].rec == pairs[i].rec)
            continue;
        if (!r->stix_spec_version || !r->stix_media_type) {
            rc = cy_fail(err, COMITY_ERR_USAGE, "store: %s: no spec version or media type",
                         r->stix_id ? r->stix_id : r->id);
            goto out;
        }
        num[np] = pairs[i].coll, num[npairs + np] = r->stix_version_us;
        text[np] = r->stix_id, text[npairs + np] = r->stix_spec_version;
        text[2 * npairs + np] = r->stix_version, text[3 * npairs + np] = r->stix_media_type;
        num[2 * npairs + np] = (int64_t)pairs[i].rec + 1;
        np++;
    }
    a_i64s(ca, colls, ncolls);
    a_i64(pa, cy_now_ms() * 1000);
    a_i64s(pa, colls, ncolls);
    a_text(pa, ext ? ext->id : "");
    a_text(pa, ext ? ext->spec_version : "");
    a_i64(pa, ext ? ext->version_us : 0);
    a_text(pa, ext ? ext->version : "");
    a_text(pa, ext ? ext->media_type : "");
    a_textn(pa, ext ? ext->json : "", ext ? ext->json_len : 0);
    a_text(pa, ext ? "t" : "f");
    a_i64s(pa, num, np);
    a_texts(pa, text, NULL, np);
    a_texts(pa, text + npairs, NULL, np);
    a_i64s(pa, num + npairs, np);
    a_texts(pa, text + 2 * npairs, NULL, np);
    a_texts(pa, text + 3 * npairs, NULL, np);
    a_i64s(pa, num + 2 * npairs, np);
    a_i64(pa, (int64_t)nrecs);
out:
    cy_free(colls);
    cy_free(num);
    cy_free(text);
    return rc;
}

static comity_err pg_records_add(void *impl, const cy_record_in *recs, size_t n,
                                 const cy_record_extdef *ext, unsigned flags,
                                 comity_error *err)
{
    struct pg *p = impl;
    /* NOSYNC: on the intake connection, committed without waiting for the
     * WAL flush (durable at the next pg_records_sync) */
    bool lax = flags & CY_STORE_NOSYNC;
    comity_err rc;
    if (n == 0)
        return COMITY_OK;
    struct pgc *c = lax ? intake_acquire(p, &rc, err) : acquire(p, &rc, err);
    if (!c)
        return rc;
    struct args ra, ta, ca, pa, wa;
    a_init(&ra), a_init(&ta), a_init(&ca), a_init(&pa), a_init(&wa);
    struct coll_rec *pairs = NULL;
    const char **wid = NULL;
    int64_t *wms = NULL;
    size_t npairs = 0;
    for (size_t i = 0; i < n; i++)
        npairs += recs[i].ncolls;
    if (npairs && !(pairs = cy_calloc(npairs, sizeof *pairs))) {
        rc = cy_fail(err, COMITY_ERR_NOMEM, "store: out of memory");
        goto out;
    }
    npairs = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < recs[i].ncolls; k++)
            pairs[npairs++] = (struct coll_rec){recs[i].colls[k], i};
    if (npairs)
        qsort(pairs, npairs, sizeof *pairs, coll_rec_cmp);
    size_t nto = 0;
    if ((rc = record_args(recs, n, &ra, &ta, &nto, err)) ||
        (npairs && (rc = projection_args(recs, n, pairs, npairs, ext, &ca, &pa, err))))
        goto out;
    struct pipe pp = {0};
    /* lax: on intake's connection, whose commits do not wait for the WAL
     * flush (INTAKE_SESSION) */
    pipe_add(&pp, "BEGIN", NULL, "beginning", NULL);
    /* record writers one at a time: seqs in commit order (see the top) */
    pipe_add(&pp, "LOCK TABLE records IN SHARE ROW EXCLUSIVE MODE", NULL, "locking records",
             NULL);
    pipe_add(&pp, ADD_RECORDS, &ra, "adding records", "a record of the batch exists");
    if (nto)
        pipe_add(&pp, ADD_RECIPIENTS, &ta, "adding recipients", NULL);
    size_t nw = 0;
    for (size_t i = 0; i < n; i++)
        nw += recs[i].witnessed_ms > 0;
    if (nw) { /* W, in the records' transaction */
        wid = cy_calloc(n, sizeof *wid);
        wms = cy_calloc(n, sizeof *wms);
        if (!wid || !wms) {
            rc = cy_fail(err, COMITY_ERR_NOMEM, "store: out of memory");
            goto out;
        }
        for (size_t i = 0; i < n; i++)
            wid[i] = recs[i].id, wms[i] = recs[i].witnessed_ms;
        a_texts(&wa, wid, NULL, n);
        a_i64s(&wa, wms, n);
        pipe_add(&pp, ADD_WITNESSED, &wa, "adding the records' W", NULL);
    }
    if (npairs) {
        pipe_add(&pp, LOCK_COLLS, &ca, "locking collections", NULL);
        pipe_add(&pp, ADD_PROJECTIONS, &pa, "adding record objects", NULL);
    }
    pipe_add(&pp, "COMMIT", NULL, "committing", NULL);
    rc = pipe_run(c, &pp, err);
out:
    if (rc)
        rollback(c);
    a_free(&ra), a_free(&ta), a_free(&ca), a_free(&pa), a_free(&wa);
    cy_free(pairs);
    cy_free(wid);
    cy_free(wms);
    if (lax)
        pthread_mutex_unlock(&p->imu);
    else
        release(p, c);
    return rc;
}

/* Every transaction committed before this call durable: one commit that
 * waits for the WAL flush (see the top). */
static comity_err pg_records_sync(void *impl, comity_error *err)
{
    return run1(impl, "UPDATE sync_mark SET n = n + 1", NULL, NULL, "syncing", NULL, err);
}

/* Nothing to ready: PostgreSQL preallocates its own WAL segments. */
static comity_err pg_records_prepare(void *impl, comity_error *err)
{
    (void)impl;
    (void)err;
    return COMITY_OK;
}

static comity_err pg_records_query(void *impl, const cy_record_query *qq, cy_record_cb cb,
                                   void *ctx, bool *more, comity_error *err)
{
    *more = false;
    if (!qq->visible || !filter_ok(qq->visible))
        return cy_fail(err, COMITY_ERR_USAGE, "store: a record query needs a record filter");
    cy_buf sql;
    cy_buf_init(&sql, SQL_MAX);
    struct args a;
    a_init(&a);
    comity_err e = cy_buf_printf(&sql, "SELECT " RECORD_COLS ", %s FROM records r WHERE seq > $%d",
                                 qq->with_envelope ? "envelope" : "NULL",
                                 a_i64(&a, qq->after_seq));
    if (qq->id)
        e |= cy_buf_printf(&sql, " AND id = $%d", a_text(&a, qq->id));
    if (qq->type)
        e |= cy_buf_printf(&sql, " AND type = $%d", a_text(&a, qq->type));
    if (qq->author)
        e |= cy_buf_printf(&sql, " AND author = $%d", a_text(&a, qq->author));
    if (qq->to)
        e |= cy_buf_printf(&sql, " AND seq IN (SELECT seq FROM record_to WHERE party = $%d)",
                           a_text(&a, qq->to));
    if (qq->since_ms)
        e |= cy_buf_printf(&sql, " AND created_ms >= $%d", a_i64(&a, qq->since_ms));
    /* the reader's filter is part of the query: a page counts only rows
     * the reader may see */
    e |= cy_buf_puts(&sql, " AND ");
    e |= filter_sql(&sql, &a, qq->visible, "r");
    e |= cy_buf_printf(&sql, " ORDER BY seq LIMIT $%d", a_i64(&a, (int64_t)qq->limit + 1));
    return records_page(impl, &sql, &a, e, "records", qq->limit, qq->with_envelope, cb, ctx,
                        more, err);
}

/* Walks the rows of `sql` (parameters: the key to start after, then the
 * chunk's size, then `param` if not NULL), WALK_CHUNK at a time, in key
 * order: row() hands row i on and sets *after to its key; its non-zero
 * stops the walk.  No connection is held while row() runs, so it may
 * call the store.  `what` names the reading in an error. */
typedef int (*chunk_row_fn)(PGresult *r, int i, void *ctx, int64_t *after);
static comity_err walk_chunks(struct pg *p, const char *sql, const char *param, int64_t after,
                              const char *what, chunk_row_fn row, void *ctx, comity_error *err)
{
    for (;;) {
        struct args a;
        a_init(&a);
        a_i64(&a, after);
        a_i64(&a, WALK_CHUNK);
        if (param)
            a_text(&a, param);
        PGresult *r = NULL;
        comity_err rc = run1(p, sql, &a, &r, what, NULL, err);
        a_free(&a);
        int n = rc ? 0 : PQntuples(r);
        bool stop = false;
        for (int i = 0; i < n && !stop; i++)
            stop = row(r, i, ctx, &after) != 0;
        PQclear(r);
        if (rc || stop || n < WALK_CHUNK)
            return rc;
    }
}

struct rec_walk {
    bool env;
    cy_record_cb cb;
    void *ctx;
    size_t *rows;
};

static int rec_row(PGresult *r, int i, void *ctx, int64_t *after)
{
    struct rec_walk *w = ctx;
    cy_record_row o;
    read_record(r, i, &o, w->env);
    *after = o.seq;
    (*w->rows)++;
    return w->cb(&o, w->ctx);
}

/* Walks the records of `sql` (walk_chunks; keyed by seq) with cb.
 * *rows counts them. */
static comity_err walk_records(struct pg *p, const char *sql, const char *param, int64_t after,
                               bool env, cy_record_cb cb, void *ctx, size_t *rows,
                               comity_error *err)
{
    *rows = 0;
    struct rec_walk w = {env, cb, ctx, rows};
    return walk_chunks(p, sql, param, after, "reading records", rec_row, &w, err);
}

static comity_err pg_records_tail(void *impl, int64_t after_seq, cy_record_cb cb, void *ctx,
                                  comity_error *err)
{
    size_t n;
    return walk_records(impl, "SELECT " RECORD_COLS " FROM records WHERE seq > $1"
                              " ORDER BY seq LIMIT $2",
                        NULL, after_seq, false, cb, ctx, &n, err);
}

static comity_err pg_record_set_index(void *impl, int64_t seq, uint64_t log_index,
                                      comity_error *err)
{
    struct args a;
    a_init(&a);
    a_i64(&a, (int64_t)log_index);
    a_i64(&a, seq);
    comity_err rc = run1(impl, "UPDATE records SET log_index = $1 WHERE seq = $2", &a, NULL,
                         "updating record", NULL, err);
    a_free(&a);
    return rc;
}

static const cy_record_ops PG_RECORD_OPS = {
    .find = pg_record_find,
    .find_many = pg_record_find_many,
    .witnessed = pg_record_witnessed,
    .add = pg_records_add,
    .sync = pg_records_sync,
    .prepare = pg_records_prepare,
    .query = pg_records_query,
    .tail = pg_records_tail,
    .set_index = pg_record_set_index,
};

/* ======================================================================== */
/* Framework (see store/delivered.h)                                        */
/* ======================================================================== */

static comity_err pg_fw_replay(void *impl, cy_record_cb cb, void *ctx, comity_error *err)
{
    size_t n;
    return walk_records(impl, "SELECT " RECORD_COLS ", envelope, signer, created_ms"
                              " FROM records WHERE seq > $1 ORDER BY seq LIMIT $2",
                        NULL, 0, true, cb, ctx, &n, err);
}

static comity_err pg_fw_get(void *impl, const char *id, cy_record_cb cb, void *ctx,
                            comity_error *err)
{
    size_t n;
    comity_err rc = walk_records(impl, "SELECT " RECORD_COLS ", envelope, signer, created_ms"
                                       " FROM records WHERE seq > $1 AND id = $3 ORDER BY seq LIMIT $2",
                                 id, 0, true, cb, ctx, &n, err);
    if (!rc && n == 0)
        rc = cy_fail(err, COMITY_ERR_NOTFOUND, "store: no record %s", id);
    return rc;
}

static comity_err pg_delivered_add(void *impl, const char *id, const char *party, int64_t at_ms,
                                   bool *added, comity_error *err)
{
    *added = false;
    struct args a;
    a_init(&a);
    a_text(&a, id);
    a_text(&a, party);
    a_i64(&a, at_ms);
    PGresult *r = NULL;
    comity_err rc = run1(impl, "INSERT INTO delivered(id, party, at_ms) VALUES($1, $2, $3)"
                               " ON CONFLICT (id, party) DO NOTHING",
                         &a, &r, "adding delivered event", NULL, err);
    a_free(&a);
    if (!rc)
        *added = changed(r);
    PQclear(r);
    return rc;
}

struct delivered_walk {
    cy_delivered_cb cb;
    void *ctx;
};

static int delivered_row(PGresult *r, int i, void *ctx, int64_t *after)
{
    struct delivered_walk *w = ctx;
    cy_delivered_row o = {text_at(r, i, 0), text_at(r, i, 1), i64_at(r, i, 2)};
    *after = i64_at(r, i, 3);
    return w->cb(&o, w->ctx);
}

static comity_err pg_delivered_list(void *impl, cy_delivered_cb cb, void *ctx,
                                    comity_error *err)
{
    struct delivered_walk w = {cb, ctx};
    return walk_chunks(impl, "SELECT id, party, at_ms, n FROM delivered WHERE n > $1"
                             " ORDER BY n LIMIT $2",
                       NULL, 0, "reading delivered events", delivered_row, &w, err);
}

static int times_row(PGresult *r, int i, void *ctx, int64_t *after)
{
    struct rec_walk *w = ctx;
    cy_record_row o = {.seq = i64_at(r, i, 0), .type = text_at(r, i, 1),
                       .created_ms = i64_at(r, i, 2)};
    *after = o.seq;
    return w->cb(&o, w->ctx);
}

static comity_err pg_fw_times(void *impl, cy_record_cb cb, void *ctx, comity_error *err)
{
    struct rec_walk w = {false, cb, ctx, NULL}; /* rows not counted */
    return walk_chunks(impl, "SELECT seq, type, created_ms FROM records WHERE seq > $1"
                             " ORDER BY seq LIMIT $2",
                       NULL, 0, "reading records", times_row, &w, err);
}

static const cy_fw_store_ops PG_FW_OPS = {
    .replay = pg_fw_replay,
    .get = pg_fw_get,
    .delivered_add = pg_delivered_add,
    .delivered_list = pg_delivered_list,
    .times = pg_fw_times,
};

/* ======================================================================== */
/* Federation (see the last section of store.h): peers, party homes, the    */
/* federation page.  Only this block and migration 2 touch these tables.    */
/* ======================================================================== */

#define PEER_COLS "origin,url,vkey,cursor,checkpoint,pulled,added,last_ok,last_try,error"

static void read_peer(const PGresult *r, int row, cy_peer *p)
{
    memset(p, 0, sizeof *p);
    copy_at(p->origin, sizeof p->origin, r, row, 0);
    copy_at(p->url, sizeof p->url, r, row, 1);
    copy_at(p->vkey, sizeof p->vkey, r, row, 2);
    p->cursor = (uint64_t)i64_at(r, row, 3);
    copy_at(p->checkpoint, sizeof p->checkpoint, r, row, 4);
    p->pulled = (uint64_t)i64_at(r, row, 5);
    p->added_us = i64_at(r, row, 6);
    p->last_ok_us = i64_at(r, row, 7);
    p->last_try_us = i64_at(r, row, 8);
    copy_at(p->error, sizeof p->error, r, row, 9);
}

static comity_err pg_peer_add(void *impl, const cy_peer *p, comity_error *err)
{
    struct args a;
    a_init(&a);
    a_text(&a, p->origin);
    a_text(&a, p->url);
    a_text(&a, p->vkey);
    a_i64(&a, p->added_us);
    char exists[CY_PEER_ORIGIN_MAX + 32];
    snprintf(exists, sizeof exists, "a peer %s exists", p->origin);
    comity_err rc = run1(impl, "INSERT INTO peers(origin, url, vkey, added)"
                               " VALUES($1, $2, $3, $4)",
                         &a, NULL, "adding a peer", exists, err);
    a_free(&a);
    return rc;
}

static comity_err pg_peer_get(void *impl, const char *origin, cy_peer *out, comity_error *err)
{
    struct args a;
    a_init(&a);
    a_text(&a, origin);
    PGresult *r = NULL;
    comity_err rc = run1(impl, "SELECT " PEER_COLS " FROM peers WHERE origin = $1", &a, &r,
                         "reading a peer", NULL, err);
    a_free(&a);
    if (!rc && PQntuples(r) == 0)
        rc = cy_fail(err, COMITY_ERR_NOTFOUND, "store: no peer %s", origin);
    else if (!rc)
        read_peer(r, 0, out);
    PQclear(r);
    return rc;
}

/* At most CY_PEERS_MAX rows are wanted; all are read in one result, and
 * cb runs with no connection held. */
static comity_err pg_peer_list(void *impl, cy_peer_cb cb, void *ctx, comity_error *err)
{
    PGresult *r = NULL;
    comity_err rc = run1(impl, "SELECT " PEER_COLS " FROM peers ORDER BY origin", NULL, &r,
                         "listing peers", NULL, err);
    cy_peer *p = rc ? NULL : cy_calloc(1, sizeof *p);
    if (!rc && !p)
        rc = cy_fail(err, COMITY_ERR_NOMEM, "store: out of memory");
    for (int i = 0; !rc && i < PQntuples(r); i++) {
        read_peer(r, i, p);
        if (cb(p, ctx))
            break;
    }
    cy_free(p);
    PQclear(r);
    return rc;
}

/* Runs a one-statement write on the peer `origin`; NOTFOUND when no row
 * changed.  Frees a's buffers. */
static comity_err peer_write(struct pg *p, const char *sql, struct args *a, const char *origin,
                             const char *what, comity_error *err)
{
    PGresult *r = NULL;
    comity_err rc = run1(p, sql, a, &r, what, NULL, err);
    a_free(a);
    if (!rc && !changed(r))
        rc = cy_fail(err, COMITY_ERR_NOTFOUND, "store: no peer %s", origin);
    PQclear(r);
    return rc;
}

static comity_err pg_peer_remove(void *impl, const char *origin, comity_error *err)
{
    struct args a;
    a_init(&a);
    a_text(&a, origin);
    return peer_write(impl, "DELETE FROM peers WHERE origin = $1", &a, origin,
                      "removing a peer", err);
}

static comity_err pg_peer_advance(void *impl, const char *origin, int64_t added_us,
                                  uint64_t cursor, const char *checkpoint, uint64_t pulled,
                                  int64_t at_us, comity_error *err)
{
    struct args a;
    a_init(&a);
    int o = a_text(&a, origin), c = a_i64(&a, (int64_t)cursor), k = a_text(&a, checkpoint);
    int n = a_i64(&a, (int64_t)pulled), t = a_i64(&a, at_us), g = a_i64(&a, added_us);
    char sql[400];
    snprintf(sql, sizeof sql, "UPDATE peers SET cursor = $%d, checkpoint = coalesce($%d::text,"
                              " checkpoint), pulled = pulled + $%d, last_ok = $%d,"
                              " last_try = $%d, error = '' WHERE origin = $%d"
                              " AND ($%d::bigint = 0 OR added = $%d::bigint)",
             c, k, n, t, t, o, g, g);
    return peer_write(impl, sql, &a, origin, "moving a peer's cursor", err);
}

/* The error text as kept (OUT out[CY_PEER_ERR_MAX]): at most
 * CY_PEER_ERR_MAX - 1 bytes, cut at a character's start, each byte that
 * starts no valid UTF-8 sequence replaced by '?'. */
static void error_text(const char *in, char out[CY_PEER_ERR_MAX])
{
    const uint8_t *s = (const uint8_t *)in;
    size_t len = strlen(in), n = 0;
    while (len > 0) {
        uint32_t cp;
        size_t k = cy_utf8_decode(s, len, &cp);
        if (k == 0) {
            if (n + 1 > CY_PEER_ERR_MAX - 1)
                break;
            out[n++] = '?';
            s++, len--;
            continue;
        }
        if (n + k > CY_PEER_ERR_MAX - 1)
            break;
        memcpy(out + n, s, k);
        n += k, s += k, len -= k;
    }
    out[n] = 0;
}

static comity_err pg_peer_note(void *impl, const char *origin, int64_t added_us,
                               const char *error, int64_t at_us, comity_error *err)
{
    char *text = cy_malloc(CY_PEER_ERR_MAX);
    if (!text)
        return cy_fail(err, COMITY_ERR_NOMEM, "store: out of memory");
    error_text(error, text);
    struct args a;
    a_init(&a);
    a_text(&a, text);
    a_i64(&a, at_us);
    a_text(&a, origin);
    a_i64(&a, added_us);
    comity_err rc = peer_write(impl, "UPDATE peers SET error = $1, last_try = $2"
                                     " WHERE origin = $3"
                                     " AND ($4::bigint = 0 OR added = $4::bigint)",
                               &a, origin, "noting a peer's error", err);
    cy_free(text);
    return rc;
}

static comity_err pg_home_get(void *impl, const char *party, char origin[CY_PEER_ORIGIN_MAX + 1],
                              comity_error *err)
{
    struct args a;
    a_init(&a);
    a_text(&a, party);
    PGresult *r = NULL;
    comity_err rc = run1(impl, "SELECT origin FROM party_home WHERE party = $1", &a, &r,
                         "reading a party's home", NULL, err);
    a_free(&a);
    if (!rc && PQntuples(r) == 0)
        rc = cy_fail(err, COMITY_ERR_NOTFOUND, "store: %s has no home row", party);
    else if (!rc)
        copy_at(origin, CY_PEER_ORIGIN_MAX + 1, r, 0, 0);
    PQclear(r);
    return rc;
}

/* An insert that adds nothing means the party has a home: it is read in
 * a new statement (READ COMMITTED: a new snapshot, which sees the row the
 * insert met, whoever committed it). */
static comity_err pg_home_set(void *impl, const char *party, const char *origin,
                              comity_error *err)
{
    struct args a;
    a_init(&a);
    a_text(&a, party);
    a_text(&a, origin);
    PGresult *r = NULL;
    comity_err rc = run1(impl, "INSERT INTO party_home(party, origin) VALUES($1, $2)"
                               " ON CONFLICT (party) DO NOTHING",
                         &a, &r, "setting a party's home", NULL, err);
    a_free(&a);
    bool added = !rc && changed(r);
    PQclear(r);
    if (rc || added)
        return rc;
    char have[CY_PEER_ORIGIN_MAX + 1];
    if ((rc = pg_home_get(impl, party, have, err)))
        return rc;
    if (strcmp(have, origin) != 0)
        return cy_fail(err, COMITY_ERR_EXISTS, "store: %s is homed at %s already", party, have);
    return COMITY_OK;
}

static comity_err pg_home_move(void *impl, const char *party, const char *from, const char *to,
                               comity_error *err)
{
    struct args a;
    a_init(&a);
    a_text(&a, to);
    a_text(&a, party);
    a_text(&a, from);
    PGresult *r = NULL;
    comity_err rc = run1(impl, "UPDATE party_home SET origin = $1 WHERE party = $2"
                               " AND origin = $3",
                         &a, &r, "moving a party's home", NULL, err);
    a_free(&a);
    if (!rc && !changed(r))
        rc = cy_fail(err, COMITY_ERR_NOTFOUND, "store: %s is not homed at %s", party, from);
    PQclear(r);
    return rc;
}

/* The parties of one peer, in one result; cb runs with no connection
 * held. */
static comity_err pg_home_list(void *impl, const char *origin, cy_name_cb cb, void *ctx,
                               comity_error *err)
{
    struct args a;
    a_init(&a);
    a_text(&a, origin);
    PGresult *r = NULL;
    comity_err rc = run1(impl, "SELECT party FROM party_home WHERE origin = $1 ORDER BY party",
                         &a, &r, "listing a peer's parties", NULL, err);
    a_free(&a);
    for (int i = 0; !rc && i < PQntuples(r); i++)
        if (cb(PQgetvalue(r, i, 0), ctx))
            break;
    PQclear(r);
    return rc;
}

static comity_err pg_records_last(void *impl, uint64_t *log_index, int64_t *received_us,
                                  bool *found, comity_error *err)
{
    *found = false;
    PGresult *r = NULL;
    comity_err rc = run1(impl, "SELECT log_index, received FROM records"
                               " ORDER BY log_index DESC LIMIT 1",
                         NULL, &r, "reading the last record", NULL, err);
    if (!rc && PQntuples(r) > 0) {
        *found = true;
        *log_index = (uint64_t)i64_at(r, 0, 0);
        *received_us = i64_at(r, 0, 1);
    }
    PQclear(r);
    return rc;
}

/* The federation page: the filter (cy_peer_filter) compiled into the
 * query, so that a page counts only what the peer may see.  Its lists go
 * as arrays: the statement text depends only on which lists are empty.
 * The page walks records_log; a recipient is one probe of record_to's
 * key (party, seq) per row and name, written as a join with the names:
 * written as "t.party = ANY(...)" PostgreSQL 15 hashes every record_to
 * row of those names once per page instead, a cost that grows with the
 * store (200,000 records: 78 ms a page against 2.3 ms).  Log indexes
 * above INT64_MAX (a bigint's largest) match no row. */
static comity_err pg_fed_page(void *impl, const cy_fed_query *q, cy_record_cb cb, void *ctx,
                              bool *more, comity_error *err)
{
    *more = false;
    const cy_peer_filter *v = q->visible;
    if (!v || v->ntlps > CY_FILTER_TLPS_MAX || v->nto > CY_PEER_FILTER_MAX)
        return cy_fail(err, COMITY_ERR_USAGE, "store: a federation page needs a peer filter "
                                              "within its caps");
    uint64_t to = q->to > (uint64_t)INT64_MAX ? (uint64_t)INT64_MAX : q->to;
    if (to <= q->from || q->limit == 0)
        return COMITY_OK;
    size_t limit = q->limit < (size_t)INT32_MAX ? q->limit : (size_t)INT32_MAX;
    cy_buf sql;
    cy_buf_init(&sql, SQL_MAX);
    struct args a;
    a_init(&a);
    int f = a_i64(&a, (int64_t)q->from), t = a_i64(&a, (int64_t)to);
    comity_err e = cy_buf_printf(&sql, "SELECT " RECORD_COLS ", envelope FROM records r"
                                       " WHERE r.log_index >= $%d AND r.log_index < $%d"
                                       " AND NOT EXISTS(SELECT 1 FROM party_home h"
                                       " WHERE h.party = r.author) AND (false",
                                 f, t);
    if (v->ntlps)
        e |= cy_buf_printf(&sql, " OR r.tlp = ANY($%d::text[])",
                           a_texts(&a, v->tlps, NULL, v->ntlps));
    if (v->nto)
        e |= cy_buf_printf(&sql, " OR EXISTS(SELECT 1 FROM unnest($%d::text[]) p(party)"
                                 " JOIN record_to t ON t.party = p.party AND t.seq = r.seq)",
                           a_texts(&a, v->to, NULL, v->nto));
    e |= cy_buf_printf(&sql, ") ORDER BY r.log_index LIMIT $%d",
                       a_i64(&a, (int64_t)limit + 1));
    return records_page(impl, &sql, &a, e, "federation", limit, true, cb, ctx, more, err);
}

static const cy_peer_ops PG_PEER_OPS = {
    .add = pg_peer_add,
    .get = pg_peer_get,
    .list = pg_peer_list,
    .remove = pg_peer_remove,
    .advance = pg_peer_advance,
    .note = pg_peer_note,
    .home_set = pg_home_set,
    .home_get = pg_home_get,
    .home_list = pg_home_list,
    .home_move = pg_home_move,
    .records_last = pg_records_last,
    .fed_page = pg_fed_page,
};

/* ---- opening ------------------------------------------------------------- */

comity_err cy_store_pg_open(const char *conninfo, comity_store **out, comity_error *err)
{
    struct pg *p = cy_calloc(1, sizeof *p);
    comity_store *st = cy_calloc(1, sizeof *st);
    if (!p || !st || !(p->conninfo = cy_strdup(conninfo))) {
        if (p)
            cy_free(p->conninfo);
        cy_free(p);
        cy_free(st);
        return cy_fail(err, COMITY_ERR_NOMEM, "store: out of memory");
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    pthread_mutex_init(&p->imu, NULL);
    pthread_mutex_init(&p->pc.mu, NULL);
    comity_err rc;
    struct pgc *c = acquire(p, &rc, err);
    if (c) {
        rc = cy_pg_migrate(c->c, &SCHEMA, NULL, err);
        release(p, c);
    }
    if (rc) {
        pg_close(p);
        cy_free(st);
        return rc;
    }
    st->ops = &PG_OPS;
    st->rec = &PG_RECORD_OPS;
    st->fw = &PG_FW_OPS;
    st->peer = &PG_PEER_OPS;
    st->impl = p;
    *out = st;
    return COMITY_OK;
}
