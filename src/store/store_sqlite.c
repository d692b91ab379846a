/*
 * store_sqlite.c: the embedded store backend (SQLite, WAL mode).
 *
 * Concurrency: the HTTP node calls the store from several worker threads.
 * Each call borrows one connection from a small pool (created lazily, at
 * most POOL_MAX) and gives it back, so a connection is never used by two
 * threads at once; WAL lets readers run beside the single writer, and
 * writers take BEGIN IMMEDIATE with a busy timeout instead of failing.
 * Each connection keeps a small cache of prepared statements keyed by SQL
 * text, so the hot page query is prepared once per connection.
 *
 * Schema: MIGRATIONS[k] takes the database from user_version k to k+1; the
 * opener applies the missing ones in one transaction.  A database newer
 * than this build is refused.
 *
 * Objects are ordered for TAXII by (date_added, seq): seq is the rowid, so
 * two objects added in one batch (same date_added) still have a strict
 * order, and a page position (date_added, seq) never skips or repeats.
 * is_first / is_last mark each id's oldest and newest version so that the
 * default TAXII filter (version=last) is a plain indexed condition.
 *
 * Checkpoints run off the commit path: SQLite's automatic checkpoint (in
 * the commit that crosses 1000 WAL pages, copying pages into the database
 * and fsyncing it while the writer waits) is replaced by a WAL hook that
 * wakes a checkpointer thread with its own connection every CKPT_PAGES
 * (PASSIVE checkpoints, which never block a writer, then one RESTART, which
 * does, briefly).  Writers that find the database locked wait in short
 * steps (busy_wait).  Should the WAL still grow past
 * CKPT_INLINE_PAGES, the committing writer checkpoints itself, as before.
 * Commits stay synchronous=FULL: every transaction is durable when COMMIT
 * returns, except record batches added with CY_STORE_NOSYNC, which are
 * durable once sq_records_sync (one fdatasync of the WAL) has returned.
 *
 * Principals are cached in memory (the node looks one up on every request):
 * by token hash and by name, each a small direct-mapped table; only found
 * principals are cached.  Other processes write principals too (`comity
 * party add|token` works on the store of a running node), so:
 *   - every write to the principals table bumps the meta row
 *     `principals_gen` in the same transaction, and a shared counter (8
 *     bytes in the file <db>-pgen, mapped by every process that opens the
 *     store) both before its transaction and after its commit;
 *   - a lookup compares the counter (one memory read) with the value the
 *     cache was filled under and drops the whole cache when it moved; so a
 *     rotated token is refused as soon as the rotation has returned;
 *   - at least every PCACHE_RECHECK_MS (and on every lookup when the
 *     counter file cannot be mapped) it also compares principals_gen, which
 *     covers a writer that died between its commit and its second bump.
 * Writes through this handle drop the cache at once.
 */
#define _GNU_SOURCE /* pthread_setname_np */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <string.h>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#include "sqlite/db.h"
#include "store/store.h"

#define POOL_MAX 16
#define PROJ_BITS 4096 /* sq.proj */
/* a records row as read_record reads it */
#define RECORD_COLS "seq,id,type,author,tlp,created,digest,log_index,received"
#define STMT_CACHE 24
#define BUSY_TIMEOUT_MS 10000
#define SQL_MAX 4096 /* dynamic query text */
#define FILTER_MAX 64 /* values in one match[] filter */
/* WAL pages that wake the background checkpointer.  Each wake-up ends with
 * a RESTART, which holds writers back for 1.5-10 ms (measured under
 * bench_intake): at 1000 pages that stalled intake about 110 times in a
 * run of 40,000 records (0.7-0.9 s of 6-9), at 8000 pages (a 32 MB WAL)
 * 10-16 times (0.12-0.15 s). */
#define CKPT_PAGES 8000
#define INTAKE_CACHE "-2000" /* KiB: the intake connection's page cache */
/* ... and once it has committed a batch of at least INTAKE_RUN_MIN records
 * (a puller's run, src/intake/intake.h), INTAKE_CACHE_RUN: see
 * intake_acquire */
#define INTAKE_RUN_MIN 64
#define INTAKE_CACHE_RUN "-16000"
#define CKPT_INLINE_PAGES 32000 /* past this a writer checkpoints itself */
#define CKPT_PASSES 8 /* passes of one wake-up while frames keep coming */
/* WAL frames sq_records_prepare gives room to: the WAL grows to about
 * twice CKPT_PAGES while a checkpoint runs under load */
#define WAL_ROOM_FRAMES (2 * CKPT_PAGES)
#define PCACHE_SLOTS 256 /* principals cached, per key (a power of two) */
#define PCACHE_RECHECK_MS 1000 /* principals_gen compared at least this often */

/* migrations 13 and 14: their triggers make meta users_gen plus one */
#define USERS_GEN_BUMP                                                                       \
    "INSERT OR REPLACE INTO meta(key,value) SELECT 'users_gen',"                             \
    " CAST(COALESCE((SELECT CAST(value AS INTEGER) FROM meta WHERE key='users_gen'),0)+1"    \
    " AS TEXT)"
/*
 * records.idk, the records' compact id key (migration 15): 60 bits of the
 * uuid of "<type>--<uuid>", its hex digits 1-8, 10-13 and 16-18 (the 15th
 * character is the version, always '4'), as an integer.  The index on it
 * is about a third of the size of a unique index on the id's text (about
 * 17 bytes an entry instead of 46), so SQLite reads and checkpoints a third
 * as many of its pages; being random, each insert still dirties a leaf of
 * it, as the id's did.  It is not unique: two ids may share a key (another
 * type, or the same first half of a uuid), so every lookup by id reads
 * "idk=<key> AND id=<id>", and sq_records_add refuses a record whose id a
 * row with its key already has.  ID_KEY_SQL is
 * the key in SQL (the migration fills the column with it), id_key the same
 * in C, character for character (substr and instr count characters;
 * tests/test_store.c compares the two): a character that is not a
 * lowercase hex digit counts 15, one past the end 0.
 */
#define ID_HEX(col, k)                                                                       \
    "((instr('0123456789abcdef',substr(substr(" col ",instr(" col ",'--')+2)," #k ",1))+15)%16)"
#define ID_KEY_SQL(col)                                                                      \
    "(" ID_HEX(col, 1) "<<56)"                                                               \
    "|(" ID_HEX(col, 2) "<<52)"                                                              \
    "|(" ID_HEX(col, 3) "<<48)"                                                              \
    "|(" ID_HEX(col, 4) "<<44)"                                                              \
    "|(" ID_HEX(col, 5) "<<40)"                                                              \
    "|(" ID_HEX(col, 6) "<<36)"                                                              \
    "|(" ID_HEX(col, 7) "<<32)"                                                              \
    "|(" ID_HEX(col, 8) "<<28)"                                                              \
    "|(" ID_HEX(col, 10) "<<24)"                                                             \
    "|(" ID_HEX(col, 11) "<<20)"                                                             \
    "|(" ID_HEX(col, 12) "<<16)"                                                             \
    "|(" ID_HEX(col, 13) "<<12)"                                                             \
    "|(" ID_HEX(col, 16) "<<8)"                                                              \
    "|(" ID_HEX(col, 17) "<<4)"                                                              \
    "|(" ID_HEX(col, 18) "<<0)"

static const char *const MIGRATIONS[] = {
    /* 0 -> 1 */
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE principals(name TEXT PRIMARY KEY, kind TEXT NOT NULL,"
    " vkey TEXT NOT NULL DEFAULT '', recipient TEXT NOT NULL DEFAULT '',"
    " token_hash TEXT NOT NULL UNIQUE, created INTEGER NOT NULL);"
    "CREATE TABLE collections(n INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE,"
    " api_root TEXT NOT NULL, alias TEXT NOT NULL DEFAULT '', title TEXT NOT NULL,"
    " description TEXT NOT NULL DEFAULT '', read_access TEXT NOT NULL,"
    " write_access TEXT NOT NULL);"
    "CREATE TABLE objects(seq INTEGER PRIMARY KEY, coll INTEGER NOT NULL"
    " REFERENCES collections(n), id TEXT NOT NULL, type TEXT NOT NULL,"
    " spec_version TEXT NOT NULL, version_us INTEGER NOT NULL, version TEXT,"
    " date_added INTEGER NOT NULL, media_type TEXT NOT NULL,"
    " is_first INTEGER NOT NULL, is_last INTEGER NOT NULL, json TEXT NOT NULL,"
    " UNIQUE(coll, id, version_us));"
    "CREATE INDEX objects_page ON objects(coll, date_added, seq);"
    "CREATE TABLE status(id TEXT PRIMARY KEY, api_root TEXT NOT NULL,"
    " owner TEXT NOT NULL, created INTEGER NOT NULL, json TEXT NOT NULL);"
    "CREATE INDEX status_created ON status(created);",
    /* 1 -> 2: record intake (the block "Records" at the end of this file) */
    "CREATE TABLE records(seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE,"
    " type TEXT NOT NULL, author TEXT NOT NULL, tlp TEXT NOT NULL,"
    " created TEXT NOT NULL, created_ms INTEGER NOT NULL, digest TEXT NOT NULL,"
    " log_index INTEGER NOT NULL, received INTEGER NOT NULL, envelope TEXT NOT NULL);"
    "CREATE INDEX records_type ON records(type, seq);"
    "CREATE INDEX records_author ON records(author, seq);"
    "CREATE INDEX records_log ON records(log_index);"
    "CREATE TABLE record_to(party TEXT NOT NULL, seq INTEGER NOT NULL,"
    " PRIMARY KEY(party, seq)) WITHOUT ROWID;",
    /* 2 -> 3: framework "delivered" events (the block "Framework" at the end) */
    ("CREATE TABLE delivered(n INTEGER PRIMARY KEY, id TEXT NOT NULL, party TEXT NOT NULL,"
     " at_ms INTEGER NOT NULL, UNIQUE(id, party));"),
    /* 3 -> 4: a record's STIX wrapper is rendered from its records row
     * (objects.rec = records.seq, json ''), not stored a second time; no
     * query looks records up by log index */
    "ALTER TABLE objects ADD COLUMN rec INTEGER;"
    "DROP INDEX records_log;",
    /* 4 -> 5: a record's wrapper is kept out of the (coll, id, version)
     * index, whose random keys cost record intake a page write per record;
     * it is found through its record instead (objects_rec, in rec order).
     * SQLite cannot drop a table constraint, so the table is rebuilt. */
    "CREATE TABLE objects5(seq INTEGER PRIMARY KEY, coll INTEGER NOT NULL"
    " REFERENCES collections(n), id TEXT NOT NULL, type TEXT NOT NULL,"
    " spec_version TEXT NOT NULL, version_us INTEGER NOT NULL, version TEXT,"
    " date_added INTEGER NOT NULL, media_type TEXT NOT NULL,"
    " is_first INTEGER NOT NULL, is_last INTEGER NOT NULL, json TEXT NOT NULL, rec INTEGER);"
    "INSERT INTO objects5 SELECT seq,coll,id,type,spec_version,version_us,version,date_added,"
    " media_type,is_first,is_last,json,rec FROM objects;"
    "DROP TABLE objects;"
    "ALTER TABLE objects5 RENAME TO objects;"
    "CREATE UNIQUE INDEX objects_version ON objects(coll, id, version_us) WHERE rec IS NULL;"
    "CREATE INDEX objects_page ON objects(coll, date_added, seq);"
    "CREATE INDEX objects_rec ON objects(rec, coll) WHERE rec IS NOT NULL;",
    /* 5 -> 6: who posted each object id (a claim table, until 8); objects stored
     * before are held by "" (nobody a party can be) */
    "CREATE TABLE IF NOT EXISTS object_owner(coll INTEGER NOT NULL, id TEXT NOT NULL, owner TEXT NOT NULL,"
    " PRIMARY KEY(coll, id)) WITHOUT ROWID;"
    "INSERT OR IGNORE INTO object_owner SELECT DISTINCT coll, id, '' FROM objects"
    " WHERE rec IS NULL;",
    /* 6 -> 7: federation (the block "Federation" at the end): peers, the
     * homes of parties homed at a peer, and records by log index again
     * (the federation page walks the log; the keys are sequential, so the
     * index costs intake the right-most leaf only) */
    "CREATE TABLE IF NOT EXISTS peers(origin TEXT PRIMARY KEY, url TEXT NOT NULL, vkey TEXT NOT NULL,"
    " cursor INTEGER NOT NULL DEFAULT 0, checkpoint TEXT NOT NULL DEFAULT '',"
    " pulled INTEGER NOT NULL DEFAULT 0, added INTEGER NOT NULL, last_ok INTEGER NOT NULL"
    " DEFAULT 0, last_try INTEGER NOT NULL DEFAULT 0, error TEXT NOT NULL DEFAULT '');"
    "CREATE TABLE IF NOT EXISTS party_home(party TEXT PRIMARY KEY, origin TEXT NOT NULL) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS party_home_origin ON party_home(origin, party);"
    "CREATE INDEX IF NOT EXISTS records_log ON records(log_index);",
    /* 7 -> 8: an object's owner in its own row (sq_objects_add checks it
     * with the version lookup it makes anyway, rather than a claim in a
     * second table); object_owner keeps only the owners of ids whose
     * objects are gone, since a claim outlives its objects */
    "ALTER TABLE objects ADD COLUMN owner TEXT;"
    "UPDATE objects SET owner=(SELECT w.owner FROM object_owner w"
    " WHERE w.coll=objects.coll AND w.id=objects.id) WHERE rec IS NULL;"
    "DELETE FROM object_owner WHERE EXISTS(SELECT 1 FROM objects o"
    " WHERE o.coll=object_owner.coll AND o.id=object_owner.id AND o.rec IS NULL);",
    /* 8 -> 9: registration requests awaiting the operator (node/enrol.c),
     * kept across restarts */
    "CREATE TABLE IF NOT EXISTS registrations(party TEXT PRIMARY KEY, vkey TEXT NOT NULL,"
    " recipient TEXT NOT NULL, note TEXT NOT NULL, created TEXT NOT NULL,"
    " signature TEXT NOT NULL, received INTEGER NOT NULL, address TEXT NOT NULL);",
    /* 9 -> 10: the keys of an office's users, beside the office's own
     * (docs/federation.md, section 1: which user signed a record) */
    "CREATE TABLE IF NOT EXISTS principal_users(principal TEXT NOT NULL, vkey TEXT NOT NULL,"
    " name TEXT NOT NULL, valid_from INTEGER NOT NULL, revoked_at INTEGER NOT NULL,"
    " reason TEXT NOT NULL, PRIMARY KEY(principal, vkey)) WITHOUT ROWID;",
    /* 10 -> 11: when the witnesses first saw each pulled record (W, ms),
     * written with the record, and the W of a user's revocation
     * (docs/federation.md, section 1: revocations by the witnesses' times) */
    "CREATE TABLE IF NOT EXISTS record_witnessed(id TEXT PRIMARY KEY, w_ms INTEGER NOT NULL)"
    " WITHOUT ROWID;"
    "ALTER TABLE principal_users ADD COLUMN revoked_w INTEGER NOT NULL DEFAULT 0;",
    /* 11 -> 12: the revocation of a principal's own key (an office's, a
     * state key's) and its W, written by `roster apply`
     * (docs/federation.md, section 1: revocations by the witnesses' times) */
    "ALTER TABLE principals ADD COLUMN revoked_at INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE principals ADD COLUMN revoked_w INTEGER NOT NULL DEFAULT 0;",
    /* 12 -> 13: the user whose key signed each record (cy_record_in.signer;
     * NULL: the office's own key, or a node's log key), for the fold's
     * revocation rule (docs/federation.md, sections 1 and 7); the records
     * stored before were not told theirs: meta `signer_kept_after` is the
     * last seq stored then (0 on a new store) */
    "ALTER TABLE records ADD COLUMN signer TEXT;"
    "INSERT OR REPLACE INTO meta(key,value) SELECT 'signer_kept_after',"
    " CAST(COALESCE(max(seq),0) AS TEXT) FROM records;"
    /* and meta `users_gen`, bumped by every write to the users' keys (any
     * process: `comity roster apply` beside a serving node), which the
     * fold compares to see a revocation applied */
    "CREATE TRIGGER IF NOT EXISTS principal_users_gen_i AFTER INSERT ON principal_users BEGIN"
    " " USERS_GEN_BUMP "; END;"
    "CREATE TRIGGER IF NOT EXISTS principal_users_gen_u AFTER UPDATE ON principal_users BEGIN"
    " " USERS_GEN_BUMP "; END;"
    "CREATE TRIGGER IF NOT EXISTS principal_users_gen_d AFTER DELETE ON principal_users BEGIN"
    " " USERS_GEN_BUMP "; END;",
    /* 13 -> 14: meta `users_gen` bumped as well by a change of a
     * principal's own key's revocation (an office's, a state key's), which
     * the fold weighs like a user's (docs/federation.md, section 1) */
    "CREATE TRIGGER IF NOT EXISTS principals_revoked_gen AFTER UPDATE OF revoked_at, revoked_w"
    " ON principals BEGIN " USERS_GEN_BUMP "; END;",
    /* 14 -> 15: records found by their compact id key (idk, see ID_KEY_SQL)
     * instead of a unique index on the id's text, whose random leaves
     * outgrew the intake connection's cache at about 300,000 records (a
     * leaf read and written a record).  SQLite cannot drop the UNIQUE
     * constraint, so the table is rebuilt, seqs kept (record_to and
     * objects.rec hold them). */
    "CREATE TABLE records15(seq INTEGER PRIMARY KEY, id TEXT NOT NULL,"
    " type TEXT NOT NULL, author TEXT NOT NULL, tlp TEXT NOT NULL,"
    " created TEXT NOT NULL, created_ms INTEGER NOT NULL, digest TEXT NOT NULL,"
    " log_index INTEGER NOT NULL, received INTEGER NOT NULL, envelope TEXT NOT NULL,"
    " idk INTEGER NOT NULL, signer TEXT);"
    "INSERT INTO records15 SELECT seq,id,type,author,tlp,created,created_ms,digest,log_index,"
    "received,envelope," ID_KEY_SQL("id") ",signer FROM records ORDER BY seq;"
    "DROP TABLE records;"
    "ALTER TABLE records15 RENAME TO records;"
    "CREATE INDEX records_type ON records(type, seq);"
    "CREATE INDEX records_author ON records(author, seq);"
    "CREATE INDEX records_log ON records(log_index);"
    "CREATE INDEX records_idk ON records(idk);",
};
_Static_assert(CY_ARRAY_LEN(MIGRATIONS) == CY_STORE_SCHEMA_VERSION,
               "one migration per schema version");

/* ID_KEY_SQL in C: the key of a record id (see above). */
static int64_t id_key(const char *id)
{
    static const char hex[] = "0123456789abcdef";
    const char *d = strstr(id, "--");
    const unsigned char *u = (const unsigned char *)(d ? d + 2 : id);
    if (!d && *u) /* substr(id, 0 + 2): from the second character */
        for (u++; (*u & 0xc0) == 0x80; u++)
            ;
    int64_t key = 0;
    int at = 1, shift = 56;
    for (const unsigned char *c = u; shift >= 0; at++) {
        unsigned v = 0; /* past the end: instr(hex, '') is 1 */
        if (*c) {
            const char *h = *c < 0x80 ? strchr(hex, *c) : NULL;
            v = h && *c ? (unsigned)(h - hex) : 15;
            for (c++; (*c & 0xc0) == 0x80; c++)
                ;
        }
        if (at == 9 || at == 14 || at == 15) /* the dashes and the version */
            continue;
        key |= (int64_t)v << shift;
        shift -= 4;
    }
    return key;
}

static const struct cy_record_ops *sqlite_record_ops(void);
static const struct cy_fw_store_ops *sqlite_fw_ops(void);
static const struct cy_peer_ops *sqlite_peer_ops(void);

struct stmt_slot {
    char *sql;
    sqlite3_stmt *st;
};

struct conn {
    sqlite3 *db;
    struct stmt_slot cache[STMT_CACHE];
    unsigned next_evict;
    struct timespec busy_since; /* busy_wait: when this wait began */
    comity_err prep_rc;         /* why the last prep() returned NULL */
    /* a record by seq, without / with its envelope (record_by_seq); kept
     * out of the cache, so that no prep() can finalize it mid-page */
    sqlite3_stmt *rec_st[2];
};

/* One cached principal, with the token hash the store holds for it. */
struct pslot {
    bool used;
    char token_hash[CY_TOKEN_HASH_HEX];
    cy_principal p;
};

struct pcache {
    pthread_mutex_t mu;
    struct pslot by_token[PCACHE_SLOTS], by_name[PCACHE_SLOTS];
    char gen[32];         /* principals_gen the entries were read under */
    bool checked;         /* gen holds a value read from the store */
    uint64_t epoch;       /* bumped whenever the entries are dropped */
    struct conn *db;      /* the cache's own connection, opened on first use */
    sqlite3_stmt *gen_st; /* reads principals_gen on it */
    uint64_t *shared;     /* the counter in <db>-pgen (mapped), or NULL */
    uint64_t seen;        /* its value when the entries were last checked */
    int64_t checked_ms;   /* when principals_gen was last compared */
};

/* The background checkpointer (started by the first WAL hook that wants
 * it). */
struct ckpt {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t thr;
    bool running, want, stop;
    int asked_at; /* WAL pages when it was last woken */
    struct conn *db;
};

struct sq {
    char *path;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct conn *pool[POOL_MAX];
    struct conn *free_[POOL_MAX];
    size_t nfree, nmade;
    struct pcache pc;
    struct ckpt ck;
    /* record intake's connection (intake_acquire) and the WAL file
     * (sq_records_sync), opened on first use */
    pthread_mutex_t imu;
    struct conn *ic;
    bool ic_run_cache; /* ic's cache is INTAKE_CACHE_RUN (guarded by imu) */
    pthread_mutex_t wmu;
    int walfd;
    /* collections seen to hold record projections (bit coll % PROJ_BITS;
     * a collision only costs a plan, see sq_objects_query) */
    uint64_t proj[PROJ_BITS / 64];
};

static bool proj_seen(struct sq *q, int64_t coll)
{
    uint64_t b = (uint64_t)coll % PROJ_BITS;
    return __atomic_load_n(&q->proj[b / 64], __ATOMIC_RELAXED) & (1ull << (b % 64));
}

static void proj_mark(struct sq *q, int64_t coll)
{
    uint64_t b = (uint64_t)coll % PROJ_BITS;
    __atomic_fetch_or(&q->proj[b / 64], 1ull << (b % 64), __ATOMIC_RELAXED);
}

static comity_err dberr(comity_error *err, sqlite3 *db, const char *what)
{
    char w[128];
    snprintf(w, sizeof w, "store: %s", what);
    return cy_sqlite_fail(db, w, err);
}

static void conn_close(struct conn *c)
{
    if (!c)
        return;
    sqlite3_finalize(c->rec_st[0]);
    sqlite3_finalize(c->rec_st[1]);
    for (size_t i = 0; i < STMT_CACHE; i++) {
        sqlite3_finalize(c->cache[i].st);
        cy_free(c->cache[i].sql);
    }
    sqlite3_close(c->db);
    cy_free(c);
}

static comity_err exec(sqlite3 *db, const char *sql, comity_error *err)
{
    return cy_sqlite_exec(db, sql, "store", err);
}

static int wal_hook(void *arg, sqlite3 *db, const char *name, int pages);

/* The busy handler: SQLite's own (sqlite3_busy_timeout) sleeps 1, 2, 5,
 * 10 ... 100 ms between tries, so a lock held for a few hundred us
 * (another writer's commit, a checkpoint's last frames) cost the waiting
 * writer at least a millisecond and often several.  This one sleeps 50 us
 * at first, doubling up to 2 ms, and gives up after BUSY_TIMEOUT_MS as
 * before. */
static int busy_wait(void *arg, int tries)
{
    struct conn *c = arg;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (tries == 0)
        c->busy_since = now;
    int64_t waited_us = (int64_t)(now.tv_sec - c->busy_since.tv_sec) * 1000000 +
                        (now.tv_nsec - c->busy_since.tv_nsec) / 1000;
    if (waited_us >= (int64_t)BUSY_TIMEOUT_MS * 1000)
        return 0;
    long us = tries >= 6 ? 2000 : 50L << tries;
    struct timespec d = {0, us * 1000};
    nanosleep(&d, NULL);
    return 1;
}

/* Opens a connection (the settings of sqlite/db.h, plus foreign keys and
 * a 16 MB page cache); with q, its checkpoints go to q's checkpointer.
 * OUT *out: close with conn_close. */
static comity_err conn_open(const char *path, struct sq *q, struct conn **out,
                            comity_error *err)
{
    struct conn *c = cy_calloc(1, sizeof *c);
    if (!c)
        return cy_fail(err, COMITY_ERR_NOMEM, "store: out of memory");
    cy_sqlite_opts o = {.create = true,
                        .busy = busy_wait,
                        .busy_arg = c,
                        .pragmas = "PRAGMA foreign_keys=ON; PRAGMA cache_size=-16000;"};
    comity_err e = cy_sqlite_open(path, &o, &c->db, err);
    if (e) {
        conn_close(c);
        return e;
    }
    if (q)
        sqlite3_wal_hook(c->db, wal_hook, q); /* replaces the automatic checkpoint */
    *out = c;
    return COMITY_OK;
}

/* A prepared statement for `sql` from the connection's cache, reset and
 * with bindings cleared.  Borrowed: valid until the connection is closed. */
static sqlite3_stmt *prep(struct conn *c, const char *sql, comity_error *err)
{
    for (size_t i = 0; i < STMT_CACHE; i++)
        if (c->cache[i].sql && strcmp(c->cache[i].sql, sql) == 0) {
            sqlite3_reset(c->cache[i].st);
            sqlite3_clear_bindings(c->cache[i].st);
            return c->cache[i].st;
        }
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
        c->prep_rc = dberr(err, c->db, "prepare");
        return NULL;
    }
    char *copy = cy_strdup(sql);
    if (!copy) {
        sqlite3_finalize(st);
        c->prep_rc = cy_fail(err, COMITY_ERR_NOMEM, "store: out of memory");
        return NULL;
    }
    struct stmt_slot *s = &c->cache[c->next_evict++ % STMT_CACHE];
    sqlite3_finalize(s->st);
    cy_free(s->sql);
    s->sql = copy;
    s->st = st;
    return st;
}

/* A connection of the pool, to give back with release.  NULL with *rc
 * set when a new one cannot be opened. */
static struct conn *acquire(struct sq *q, comity_err *rc, comity_error *err)
{
    *rc = COMITY_OK;
    pthread_mutex_lock(&q->mu);
    while (q->nfree == 0 && q->nmade == POOL_MAX)
        pthread_cond_wait(&q->cv, &q->mu);
    if (q->nfree > 0) {
        struct conn *c = q->free_[--q->nfree];
        pthread_mutex_unlock(&q->mu);
        return c;
    }
    size_t slot = q->nmade++;
    pthread_mutex_unlock(&q->mu);
    struct conn *c = NULL;
    if ((*rc = conn_open(q->path, q, &c, err)) != COMITY_OK) {
        pthread_mutex_lock(&q->mu);
        q->nmade--;
        pthread_cond_signal(&q->cv);
        pthread_mutex_unlock(&q->mu);
        return NULL;
    }
    pthread_mutex_lock(&q->mu);
    q->pool[slot] = c;
    pthread_mutex_unlock(&q->mu);
    return c;
}

static void release(struct sq *q, struct conn *c)
{
    pthread_mutex_lock(&q->mu);
    q->free_[q->nfree++] = c;
    pthread_cond_signal(&q->cv);
    pthread_mutex_unlock(&q->mu);
}

/* The intake connection (opened on first use, then kept), for record
 * intake's batch lookups (find_many) and its CY_STORE_NOSYNC adds, which
 * come from one thread at a time (node/records.c's committer).  Keeping
 * them on one connection keeps its page cache warm: SQLite drops a
 * connection's whole cache when it begins a transaction after another
 * connection committed.  synchronous=NORMAL: its commits skip the fsync
 * (durable at the next sq_records_sync).  Its page cache is SQLite's
 * default size (INTAKE_CACHE): at every commit SQLite walks the whole
 * cache to drop pages past the end of the database, which with 16 MB cost
 * this connection's many small commits more (about 30 us of CPU per
 * record in bench_intake) than the extra misses of a 2 MB cache (about one
 * per record, read from the OS page cache).  A batch of a puller's run
 * (hundreds of records) dirties more pages than that cache holds (each
 * record a leaf of the id index at random, and its rows), and SQLite then
 * spills dirty pages into the WAL before the commit, writing them twice:
 * so from the first batch of INTAKE_RUN_MIN records on, the connection
 * keeps INTAKE_CACHE_RUN (sq_records_add; measured with bench_federation,
 * 100,000 records: the committer's system time 21 -> 11 us a record), and
 * the walk is paid once a run.  Returned with imu held; the caller
 * unlocks it when done. */
static struct conn *intake_acquire(struct sq *q, comity_err *rc, comity_error *err)
{
    pthread_mutex_lock(&q->imu);
    *rc = COMITY_OK;
    if (!q->ic && ((*rc = conn_open(q->path, q, &q->ic, err)) != COMITY_OK ||
                   (*rc = exec(q->ic->db,
                               "PRAGMA synchronous=NORMAL; PRAGMA cache_size=" INTAKE_CACHE,
                               err)) != COMITY_OK)) {
        conn_close(q->ic);
        q->ic = NULL;
        pthread_mutex_unlock(&q->imu);
        return NULL;
    }
    return q->ic;
}

/* ---- the statement frame ---------------------------------------------------- */

/* Most operations are one statement on one connection: borrow a
 * connection, prepare (or find cached) the statement, bind, step, map
 * SQLite's answer to a comity code, reset, give the connection back.
 * frame_open does the first two, frame_done the last two; between them
 * the caller binds and steps f.st.  `fresh` statements are prepared for
 * this call only and finalized (walks whose callback may call the store
 * again, and run once). */
struct frame {
    struct sq *q;
    struct conn *c;
    sqlite3_stmt *st;
    bool fresh;
};

/* On error nothing is held and the code is returned. */
static comity_err frame_open(struct frame *f, struct sq *q, const char *sql, bool fresh,
                             comity_error *err)
{
    comity_err rc;
    *f = (struct frame){.q = q, .fresh = fresh};
    if (!(f->c = acquire(q, &rc, err)))
        return rc;
    if (fresh) {
        if (sqlite3_prepare_v2(f->c->db, sql, -1, &f->st, NULL) != SQLITE_OK)
            rc = dberr(err, f->c->db, "prepare");
    } else if (!(f->st = prep(f->c, sql, err))) {
        rc = f->c->prep_rc;
    }
    if (rc) {
        sqlite3_finalize(fresh ? f->st : NULL);
        release(q, f->c);
        f->c = NULL;
        f->st = NULL;
    }
    return rc;
}

/* The code for step result s: OK for a row or the end, else the
 * connection's error (LOCKED when busy), naming `what`. */
static comity_err frame_check(struct frame *f, int s, const char *what, comity_error *err)
{
    return s == SQLITE_ROW || s == SQLITE_DONE ? COMITY_OK : dberr(err, f->c->db, what);
}

/* Resets (or finalizes) the statement and gives the connection back;
 * returns rc. */
static comity_err frame_done(struct frame *f, comity_err rc)
{
    if (f->fresh)
        sqlite3_finalize(f->st);
    else if (f->st)
        sqlite3_reset(f->st);
    release(f->q, f->c);
    f->c = NULL;
    f->st = NULL;
    return rc;
}

/* ---- background checkpoints ------------------------------------------------ */

static void *ckpt_main(void *arg)
{
    struct sq *q = arg;
    pthread_setname_np(pthread_self(), "comity-ckpt"); /* for top -H, perf */
    struct ckpt *k = &q->ck;
    pthread_mutex_lock(&k->mu);
    for (;;) {
        while (!k->want && !k->stop)
            pthread_cond_wait(&k->cv, &k->mu);
        if (k->stop)
            break;
        k->want = false;
        pthread_mutex_unlock(&k->mu);
        if (!k->db && conn_open(q->path, NULL, &k->db, NULL) != COMITY_OK)
            k->db = NULL;
        /* PASSIVE passes copy the frames without blocking anyone; frames
         * committed meanwhile are left for the next pass.  Then one RESTART
         * copies what is left (a few frames: it holds writers back that
         * long, at most a few ms once per CKPT_PAGES) and starts the WAL
         * again from its beginning, so that it is overwritten rather than
         * grown: an fsync after appending to a file costs several times one
         * after overwriting.  (A complete PASSIVE checkpoint from this
         * connection did not let the writers restart the WAL themselves.)
         * A failure is retried at the next wake-up. */
        for (int pass = 0; k->db && pass < CKPT_PASSES; pass++) {
            int nlog = 0, nckpt = 0;
            if (sqlite3_wal_checkpoint_v2(k->db->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &nlog,
                                          &nckpt) != SQLITE_OK ||
                nckpt >= nlog)
                break;
        }
        if (k->db)
            (void)sqlite3_wal_checkpoint_v2(k->db->db, NULL, SQLITE_CHECKPOINT_RESTART, NULL,
                                            NULL);
        pthread_mutex_lock(&k->mu);
    }
    pthread_mutex_unlock(&k->mu);
    return NULL;
}

/* Called by SQLite after each commit on a pool connection. */
static int wal_hook(void *arg, sqlite3 *db, const char *name, int pages)
{
    struct sq *q = arg;
    struct ckpt *k = &q->ck;
    if (pages >= CKPT_INLINE_PAGES) {
        (void)sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        return SQLITE_OK;
    }
    if (pages < CKPT_PAGES)
        return SQLITE_OK;
    pthread_mutex_lock(&k->mu);
    /* once per CKPT_PAGES of growth (a checkpoint that runs while commits
     * go on leaves the WAL as long; it is reset by the first writer after
     * a complete one) */
    if (pages >= k->asked_at && pages < k->asked_at + CKPT_PAGES) {
        pthread_mutex_unlock(&k->mu);
        return SQLITE_OK;
    }
    k->asked_at = pages;
    if (!k->running && !k->stop)
        k->running = pthread_create(&k->thr, NULL, ckpt_main, q) == 0;
    if (k->running) {
        k->want = true;
        pthread_cond_signal(&k->cv);
    }
    pthread_mutex_unlock(&k->mu);
    if (!k->running) /* no thread: checkpoint here, as SQLite would */
        (void)sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    return SQLITE_OK;
}

static void ckpt_stop(struct sq *q)
{
    struct ckpt *k = &q->ck;
    pthread_mutex_lock(&k->mu);
    k->stop = true;
    bool running = k->running;
    pthread_cond_signal(&k->cv);
    pthread_mutex_unlock(&k->mu);
    if (running)
        pthread_join(k->thr, NULL);
    conn_close(k->db);
    k->db = NULL;
}

static void sq_close(void *impl)
{
    struct sq *q = impl;
    if (!q)
        return;
    ckpt_stop(q);
    pthread_mutex_destroy(&q->ck.mu);
    pthread_cond_destroy(&q->ck.cv);
    conn_close(q->ic); /* before the pool's: the last one to close checkpoints */
    for (size_t i = 0; i < POOL_MAX; i++)
        conn_close(q->pool[i]);
    pthread_mutex_destroy(&q->mu);
    pthread_cond_destroy(&q->cv);
    sqlite3_finalize(q->pc.gen_st);
    conn_close(q->pc.db);
    if (q->pc.shared)
        munmap(q->pc.shared, sizeof *q->pc.shared);
    pthread_mutex_destroy(&q->pc.mu);
    sodium_memzero(&q->pc, sizeof q->pc);
    if (q->walfd >= 0)
        close(q->walfd);
    pthread_mutex_destroy(&q->wmu);
    pthread_mutex_destroy(&q->imu);
    cy_free(q->path);
    cy_free(q);
}

static void copy_text(char *dst, size_t cap, sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    snprintf(dst, cap, "%s", t ? (const char *)t : "");
}

/* ---- meta --------------------------------------------------------------- */

static comity_err sq_meta_get(void *impl, const char *key, char **val, comity_error *err)
{
    struct frame f;
    comity_err rc = frame_open(&f, impl, "SELECT value FROM meta WHERE key=?", false, err);
    if (rc)
        return rc;
    sqlite3_bind_text(f.st, 1, key, -1, SQLITE_STATIC);
    int s = sqlite3_step(f.st);
    if (s == SQLITE_ROW && !(*val = cy_strdup((const char *)sqlite3_column_text(f.st, 0))))
        rc = cy_fail(err, COMITY_ERR_NOMEM, "store: out of memory");
    else if (s == SQLITE_DONE)
        rc = cy_fail(err, COMITY_ERR_NOTFOUND, "store: no setting '%s'", key);
    else
        rc = frame_check(&f, s, "reading meta", err);
    return frame_done(&f, rc);
}

static comity_err sq_size_bytes(void *impl, uint64_t *bytes, comity_error *err)
{
    struct frame f;
    comity_err rc = frame_open(&f, impl, "SELECT page_count * page_size"
                                         " FROM pragma_page_count(), pragma_page_size()",
                               false, err);
    if (rc)
        return rc;
    int s = sqlite3_step(f.st);
    if (s == SQLITE_ROW)
        *bytes = (uint64_t)sqlite3_column_int64(f.st, 0);
    else
        rc = frame_check(&f, s, "reading the store's size", err);
    return frame_done(&f, rc);
}

static comity_err sq_meta_set(void *impl, const char *key, const char *val, comity_error *err)
{
    struct frame f;
    comity_err rc = frame_open(&f, impl, "INSERT INTO meta(key,value) VALUES(?,?)"
                                         " ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                               false, err);
    if (rc)
        return rc;
    sqlite3_bind_text(f.st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(f.st, 2, val, -1, SQLITE_STATIC);
    return frame_done(&f, frame_check(&f, sqlite3_step(f.st), "writing meta", err));
}

/* ---- principals ----------------------------------------------------------- */

#define PRINCIPAL_COLS "name,kind,vkey,recipient,created,token_hash"
#define PRINCIPAL_READ PRINCIPAL_COLS ",revoked_at,revoked_w" /* what a read selects */

static void read_principal(sqlite3_stmt *st, cy_principal *p)
{
    memset(p, 0, sizeof *p);
    copy_text(p->name, sizeof p->name, st, 0);
    copy_text(p->kind, sizeof p->kind, st, 1);
    copy_text(p->vkey, sizeof p->vkey, st, 2);
    copy_text(p->recipient, sizeof p->recipient, st, 3);
    p->created = sqlite3_column_int64(st, 4);
    p->revoked_ms = sqlite3_column_int64(st, 6);
    p->revoked_w_ms = sqlite3_column_int64(st, 7);
}

/* ---- the principal cache (see the top of the file) ---- */

static size_t slot_of(const char *key)
{
    /* FNV-1a: keys are names or hex SHA-256 token hashes */
    uint32_t h = 2166136261u;
    for (const unsigned char *c = (const unsigned char *)key; *c; c++)
        h = (h ^ *c) * 16777619u;
    return h & (PCACHE_SLOTS - 1);
}

/* Drops every entry.  Holds pc->mu. */
static void pcache_drop_locked(struct pcache *pc)
{
    sodium_memzero(pc->by_token, sizeof pc->by_token);
    sodium_memzero(pc->by_name, sizeof pc->by_name);
    pc->epoch++;
}

/* After a write through this handle: drop everything, and compare with the
 * store on the next lookup. */
static void pcache_invalidate(struct sq *q)
{
    pthread_mutex_lock(&q->pc.mu);
    pcache_drop_locked(&q->pc);
    q->pc.checked = false;
    pthread_mutex_unlock(&q->pc.mu);
}

/* Makes sure the entries are not older than the store's principals_gen,
 * read on the cache's own connection (its statement stays prepared: a few
 * microseconds, against twice that for a principal read from the pool).
 * Returns the epoch to fill under: an entry read from the store after this
 * call may be cached only if the epoch has not moved meanwhile. */
static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint64_t pcache_fresh(struct sq *q)
{
    struct pcache *pc = &q->pc;
    int64_t now = mono_ms();
    pthread_mutex_lock(&pc->mu);
    uint64_t shared = pc->shared ? __atomic_load_n(pc->shared, __ATOMIC_ACQUIRE) : 0;
    if (pc->shared && pc->checked && shared == pc->seen && now - pc->checked_ms < PCACHE_RECHECK_MS) {
        uint64_t epoch = pc->epoch;
        pthread_mutex_unlock(&pc->mu);
        return epoch;
    }
    if (!pc->db) {
        struct conn *c = NULL;
        if (conn_open(q->path, NULL, &c, NULL) == COMITY_OK &&
            sqlite3_prepare_v3(c->db, "SELECT value FROM meta WHERE key='principals_gen'", -1,
                               SQLITE_PREPARE_PERSISTENT, &pc->gen_st, NULL) == SQLITE_OK)
            pc->db = c;
        else
            conn_close(c);
    }
    char gen[32] = "0";
    int s = SQLITE_ERROR;
    if (pc->db) {
        s = sqlite3_step(pc->gen_st);
        if (s == SQLITE_ROW)
            copy_text(gen, sizeof gen, pc->gen_st, 0);
        sqlite3_reset(pc->gen_st);
    }
    if (s != SQLITE_ROW && s != SQLITE_DONE) {
        /* cannot tell: drop everything, cache nothing read now */
        pcache_drop_locked(pc);
        pc->checked = false;
        uint64_t none = pc->epoch - 1;
        pthread_mutex_unlock(&pc->mu);
        return none;
    }
    if (!pc->checked || strcmp(pc->gen, gen) != 0 || shared != pc->seen) {
        pcache_drop_locked(pc);
        snprintf(pc->gen, sizeof pc->gen, "%s", gen);
        pc->checked = true;
    }
    pc->seen = shared;
    pc->checked_ms = now;
    uint64_t epoch = pc->epoch;
    pthread_mutex_unlock(&pc->mu);
    return epoch;
}

/* Maps the shared change counter <db>-pgen (made on first use).  Without
 * it the cache still works, comparing principals_gen on every lookup. */
static void pcache_map(struct sq *q)
{
    char path[4096];
    if (!strcmp(q->path, ":memory:") || !strncmp(q->path, "file:", 5) ||
        (size_t)snprintf(path, sizeof path, "%s-pgen", q->path) >= sizeof path)
        return;
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return;
    struct stat sb;
    void *m = MAP_FAILED;
    if (fstat(fd, &sb) == 0 &&
        (sb.st_size >= (off_t)sizeof(uint64_t) || ftruncate(fd, sizeof(uint64_t)) == 0))
        m = mmap(NULL, sizeof(uint64_t), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (m != MAP_FAILED)
        q->pc.shared = m;
}

/* Looks `key` up in the by-token (by_token) or by-name table. */
static bool pcache_get(struct sq *q, bool by_token, const char *key, cy_principal *out,
                       char *token_hash)
{
    struct pcache *pc = &q->pc;
    bool hit = false;
    pthread_mutex_lock(&pc->mu);
    const struct pslot *s = by_token ? &pc->by_token[slot_of(key)] : &pc->by_name[slot_of(key)];
    if (s->used && strcmp(by_token ? s->token_hash : s->p.name, key) == 0) {
        *out = s->p;
        if (token_hash)
            memcpy(token_hash, s->token_hash, CY_TOKEN_HASH_HEX);
        hit = true;
    }
    pthread_mutex_unlock(&pc->mu);
    return hit;
}

static void pcache_put(struct sq *q, uint64_t epoch, const cy_principal *p,
                       const char *token_hash)
{
    struct pcache *pc = &q->pc;
    pthread_mutex_lock(&pc->mu);
    if (pc->epoch == epoch) {
        struct pslot *a = &pc->by_token[slot_of(token_hash)], *b = &pc->by_name[slot_of(p->name)];
        a->used = b->used = true;
        a->p = b->p = *p;
        snprintf(a->token_hash, sizeof a->token_hash, "%s", token_hash);
        snprintf(b->token_hash, sizeof b->token_hash, "%s", token_hash);
    }
    pthread_mutex_unlock(&pc->mu);
}

/* Runs `st` (bound, not yet stepped) and bumps principals_gen, in one
 * transaction on `c`.  *changes: rows the statement changed. */
static void pcache_bump(struct sq *q)
{
    if (q->pc.shared)
        __atomic_add_fetch(q->pc.shared, 1, __ATOMIC_ACQ_REL);
}

static comity_err principal_write(struct sq *q, struct conn *c, sqlite3_stmt *st,
                                  const char *what, const char *name, int *changes,
                                  comity_error *err)
{
    pcache_bump(q);
    comity_err rc = exec(c->db, "BEGIN IMMEDIATE", err);
    if (rc)
        return rc;
    int s = sqlite3_step(st);
    *changes = sqlite3_changes(c->db);
    sqlite3_reset(st);
    if (s == SQLITE_CONSTRAINT)
        rc = cy_fail(err, COMITY_ERR_EXISTS, "store: '%s' is already registered", name);
    else if (s != SQLITE_DONE)
        rc = dberr(err, c->db, what);
    if (!rc && *changes) {
        sqlite3_stmt *g = prep(c, "INSERT INTO meta(key,value) VALUES('principals_gen','1')"
                                  " ON CONFLICT(key) DO UPDATE SET"
                                  " value=CAST(value AS INTEGER)+1", err);
        if (!g)
            rc = COMITY_ERR_DB;
        else if (sqlite3_step(g) != SQLITE_DONE)
            rc = dberr(err, c->db, "counting principal changes");
        if (g)
            sqlite3_reset(g);
    }
    if (!rc)
        rc = exec(c->db, "COMMIT", err);
    if (rc)
        exec(c->db, "ROLLBACK", NULL);
    pcache_bump(q);
    return rc;
}

static comity_err sq_principal_add(void *impl, const cy_principal *p, const char *token_hash,
                                   comity_error *err)
{
    struct sq *q = impl;
    struct frame f;
    comity_err rc = frame_open(&f, q, "INSERT INTO principals(" PRINCIPAL_COLS ")"
                                      " VALUES(?,?,?,?,?,?)", false, err);
    if (rc)
        return rc;
    sqlite3_bind_text(f.st, 1, p->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(f.st, 2, p->kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(f.st, 3, p->vkey, -1, SQLITE_STATIC);
    sqlite3_bind_text(f.st, 4, p->recipient, -1, SQLITE_STATIC);
    sqlite3_bind_int64(f.st, 5, p->created);
    sqlite3_bind_text(f.st, 6, token_hash, -1, SQLITE_STATIC);
    int changes = 0;
    rc = frame_done(&f, principal_write(q, f.c, f.st, "adding principal", p->name, &changes, err));
    pcache_invalidate(q);
    return rc;
}

/* Runs the UPDATE of principals bound in f (principal_write) and closes
 * f: NOTFOUND ("no party NAME" and `which`) when it changed no row. */
static comity_err principal_update(struct sq *q, struct frame *f, const char *what,
                                   const char *name, const char *which, comity_error *err)
{
    int changes = 0;
    comity_err rc = principal_write(q, f->c, f->st, what, name, &changes, err);
    if (!rc && changes == 0)
        rc = cy_fail(err, COMITY_ERR_NOTFOUND, "store: no party '%s'%s", name, which);
    rc = frame_done(f, rc);
    pcache_invalidate(q);
    return rc;
}

static comity_err sq_principal_set_token(void *impl, const char *name, const char *token_hash,
                                         comity_error *err)
{
    struct sq *q = impl;
    struct frame f;
    comity_err rc = frame_open(&f, q, "UPDATE principals SET token_hash=? WHERE name=?", false,
                               err);
    if (rc)
        return rc;
    sqlite3_bind_text(f.st, 1, token_hash, -1, SQLITE_STATIC);
    sqlite3_bind_text(f.st, 2, name, -1, SQLITE_STATIC);
    return principal_update(q, &f, "setting token", name, "", err);
}

static comity_err sq_principal_set_revoked(void *impl, const char *name, const char *vkey,
                                          int64_t revoked_ms, int64_t revoked_w_ms,
                                          comity_error *err)
{
    struct sq *q = impl;
    struct frame f;
    comity_err rc = frame_open(&f, q, "UPDATE principals SET revoked_at=?, revoked_w=?"
                                      " WHERE name=? AND vkey=?", false, err);
    if (rc)
        return rc;
    sqlite3_bind_int64(f.st, 1, revoked_ms);
    sqlite3_bind_int64(f.st, 2, revoked_w_ms);
    sqlite3_bind_text(f.st, 3, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(f.st, 4, vkey, -1, SQLITE_STATIC);
    return principal_update(q, &f, "writing a revocation", name, " with that key", err);
}

static comity_err principal_one(struct sq *q, const char *sql, const char *arg,
                                cy_principal *out, char *token_hash, comity_error *err)
{
    struct frame f;
    comity_err rc = frame_open(&f, q, sql, false, err);
    if (rc)
        return rc;
    sqlite3_bind_text(f.st, 1, arg, -1, SQLITE_STATIC);
    int s = sqlite3_step(f.st);
    if (s == SQLITE_ROW) {
        read_principal(f.st, out);
        if (token_hash)
            copy_text(token_hash, CY_TOKEN_HASH_HEX, f.st, 5);
    } else if (s == SQLITE_DONE) {
        rc = cy_fail(err, COMITY_ERR_NOTFOUND, "store: no such principal");
    } else {
        rc = frame_check(&f, s, "reading principal", err);
    }
    return frame_done(&f, rc);
}

/* A principal by name or by token hash: from the cache, else from the
 * store (and then cached). */
static comity_err principal_cached(struct sq *q, bool by_token, const char *key,
                                   cy_principal *out, char *token_hash, comity_error *err)
{
    uint64_t epoch = pcache_fresh(q);
    if (pcache_get(q, by_token, key, out, token_hash))
        return COMITY_OK;
    char th[CY_TOKEN_HASH_HEX];
    comity_err rc = principal_one(q,
                                  by_token ? "SELECT " PRINCIPAL_READ " FROM principals"
                                             " WHERE token_hash=?"
                                           : "SELECT " PRINCIPAL_READ " FROM principals"
                                             " WHERE name=?",
                                  key, out, th, err);
    if (rc)
        return rc;
    pcache_put(q, epoch, out, th);
    if (token_hash)
        memcpy(token_hash, th, CY_TOKEN_HASH_HEX);
    sodium_memzero(th, sizeof th);
    return COMITY_OK;
}

static comity_err sq_principal_get(void *impl, const char *name, cy_principal *out,
                                   char token_hash[CY_TOKEN_HASH_HEX], comity_error *err)
{
    return principal_cached(impl, false, name, out, token_hash, err);
}

static comity_err sq_principal_by_token(void *impl, const char *token_hash, cy_principal *out,
                                        comity_error *err)
{
    return principal_cached(impl, true, token_hash, out, NULL, err);
}

static comity_err sq_principal_list(void *impl, cy_principal_cb cb, void *ctx,
                                    comity_error *err)
{
    struct frame f;
    comity_err rc = frame_open(&f, impl, "SELECT " PRINCIPAL_READ " FROM principals ORDER BY name",
                               false, err);
    if (rc)
        return rc;
    int s;
    while ((s = sqlite3_step(f.st)) == SQLITE_ROW) {
        cy_principal p;
        read_principal(f.st, &p);
        if (cb(&p, ctx))
            break;
    }
    return frame_done(&f, frame_check(&f, s, "listing principals", err));
}

/* ---- collections ----------------------------------------------------------- */

#define COLL_COLS "n,id,api_root,alias,title,description,read_access,write_access"

static void read_collection(sqlite3_stmt *st, cy_collection *o)
{
    memset(o, 0, sizeof *o);
    o->n = sqlite3_column_int64(st, 0);
    copy_text(o->id, sizeof o->id, st, 1);
    copy_text(o->api_root, sizeof o->api_root, st, 2);
    copy_text(o->alias, sizeof o->alias, st, 3);
    copy_text(o->title, sizeof o->title, st, 4);
    copy_text(o->description, sizeof o->description, st, 5);
    copy_text(o->read, sizeof o->read, st, 6);
    copy_text(o->write, sizeof o->write, st, 7);
}

static comity_err sq_collection_add(void *impl, const cy_collection *o, comity_error *err)
{
    struct frame f;
    comity_err rc = frame_open(&f, impl, "INSERT INTO collections(id,api_root,alias,title,"
                                         "description,read_access,write_access)"
                                         " VALUES(?,?,?,?,?,?,?)", false, err);
    if (rc)
        return rc;
    sqlite3_bind_text(f.st, 1, o->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(f.st, 2, o->api_root, -1, SQLITE_STATIC);
    sqlite3_bind_text(f.st, 3, o->alias, -1, SQLITE_STATIC);
    sqlite3_bind_text(f.st, 4, o->title, -1, SQLITE_STATIC);
    sqlite3_bind_text(f.st, 5, o->description, -1, SQLITE_STATIC);
    sqlite3_bind_text(f.st, 6, o->read, -1, SQLITE_STATIC);
    sqlite3_bind_text(f.st, 7, o->write, -1, SQLITE_STATIC);
    int s = sqlite3_step(f.st);
    if (s == SQLITE_CONSTRAINT)
        rc = cy_fail(err, COMITY_ERR_EXISTS, "store: collection %s exists", o->id);
    else
        rc = frame_check(&f, s, "adding collection", err);
    return frame_done(&f, rc);
}

static comity_err sq_collection_get(void *impl, const char *api_root, const char *id,
                                    cy_collection *out, comity_error *err)
{
    struct frame f;
    comity_err rc = frame_open(&f, impl, "SELECT " COLL_COLS " FROM collections"
                                         " WHERE api_root=? AND id=?", false, err);
    if (rc)
        return rc;
    sqlite3_bind_text(f.st, 1, api_root, -1, SQLITE_STATIC);
    sqlite3_bind_text(f.st, 2, id, -1, SQLITE_STATIC);
    int s = sqlite3_step(f.st);
    if (s == SQLITE_ROW)
        read_collection(f.st, out);
    else if (s == SQLITE_DONE)
        rc = cy_fail(err, COMITY_ERR_NOTFOUND, "store: no collection %s", id);
    else
        rc = frame_check(&f, s, "reading collection", err);
    return frame_done(&f, rc);
}

static comity_err sq_collection_list(void *impl, const char *api_root, cy_collection_cb cb,
                                     void *ctx, comity_error *err)
{
    struct frame f;
    comity_err rc = frame_open(&f, impl, "SELECT " COLL_COLS " FROM collections WHERE api_root=?"
                                         " ORDER BY n", false, err);
    if (rc)
        return rc;
    sqlite3_bind_text(f.st, 1, api_root, -1, SQLITE_STATIC);
    int s;
    while ((s = sqlite3_step(f.st)) == SQLITE_ROW) {
        cy_collection o;
        read_collection(f.st, &o);
        if (cb(&o, ctx))
            break;
    }
    return frame_done(&f, frame_check(&f, s, "listing collections", err));
}

/* ---- objects ---------------------------------------------------------------- */

/* An object's owner: the owner of its id's rows, else the one kept for an
 * id whose objects were deleted (object_owner), else NULL (nobody).  The
 * version lookup reads it in the same statement (the subquery runs only
 * for an id without an owned row). */
#define OWNER_OF "coalesce(max(owner),(SELECT w.owner FROM object_owner w" \
                 " WHERE w.coll=?1 AND w.id=?2))"

static comity_err sq_objects_add(void *impl, int64_t coll, const cy_obj_in *objs, size_t n,
                                 const char *owner, size_t max_held, int64_t *date_added_io,
                                 uint8_t *added, comity_error *err)
{
    struct sq *q = impl;
    comity_err arc;
    struct conn *c = acquire(q, &arc, err);
    if (!c)
        return arc;
    comity_err rc = exec(c->db, "BEGIN IMMEDIATE", err);
    if (rc)
        goto out;
    int64_t date_added = *date_added_io;
    size_t nheld = 0;
    {
        sqlite3_stmt *st = prep(c, "SELECT max(date_added) FROM objects WHERE coll=?", err);
        if (!st) {
            rc = COMITY_ERR_DB;
            goto rollback;
        }
        sqlite3_bind_int64(st, 1, coll);
        /* strictly after the previous batch: a client resuming with
         * added_after = the last date it saw never misses a later batch */
        if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) == SQLITE_INTEGER &&
            sqlite3_column_int64(st, 0) >= date_added)
            date_added = sqlite3_column_int64(st, 0) + 1;
        sqlite3_reset(st);
    }
    /* The statements of the loop, prepared (or found in the cache) once;
     * five fresh cache entries never evict each other (STMT_CACHE > 5). */
    sqlite3_stmt *sel = prep(c, "SELECT min(version_us), max(version_us), count(*), " OWNER_OF
                                " FROM objects WHERE coll=?1 AND id=?2 AND rec IS NULL", err);
    /* Only a duplicate (coll, id, version) is skipped; any other
     * constraint failure aborts the whole batch. */
    sqlite3_stmt *ins = sel ? prep(c, "INSERT INTO objects(coll,id,type,spec_version,version_us,"
                                      "version,date_added,media_type,is_first,is_last,json,"
                                      "owner) VALUES(?,?,?,?,?,?,?,?,?,?,?,?)"
                                      " ON CONFLICT(coll,id,version_us) WHERE rec IS NULL"
                                      " DO NOTHING", err)
                            : NULL;
    sqlite3_stmt *unfirst =
        ins ? prep(c, "UPDATE objects SET is_first=0 WHERE coll=? AND id=? AND rec IS NULL"
                      " AND version_us<>?", err)
            : NULL;
    sqlite3_stmt *unlast =
        unfirst ? prep(c, "UPDATE objects SET is_last=0 WHERE coll=? AND id=? AND rec IS NULL"
                          " AND version_us<>?", err)
                : NULL;
    if (!unlast) {
        rc = COMITY_ERR_DB;
        goto rollback;
    }
    for (size_t i = 0; i < n; i++) {
        const cy_obj_in *o = &objs[i];
        /* Where does this version fall among the id's versions? */
        sqlite3_bind_int64(sel, 1, coll);
        sqlite3_bind_text(sel, 2, o->id, -1, SQLITE_STATIC);
        if (sqlite3_step(sel) != SQLITE_ROW) {
            rc = dberr(err, c->db, "reading versions");
            sqlite3_reset(sel);
            goto rollback;
        }
        int64_t count = sqlite3_column_int64(sel, 2);
        int64_t vmin = sqlite3_column_int64(sel, 0), vmax = sqlite3_column_int64(sel, 1);
        const char *holder = (const char *)sqlite3_column_text(sel, 3);
        bool held = owner && holder && strcmp(holder, owner) != 0;
        sqlite3_reset(sel);
        if (held) {
            if (added)
                added[i] = CY_OBJ_HELD;
            nheld++;
            continue;
        }
        bool first = count == 0 || o->version_us < vmin;
        bool last = count == 0 || o->version_us > vmax;

        sqlite3_bind_int64(ins, 1, coll);
        sqlite3_bind_text(ins, 2, o->id, -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 3, o->type, -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 4, o->spec_version, -1, SQLITE_STATIC);
        sqlite3_bind_int64(ins, 5, o->version_us);
        if (o->version)
            sqlite3_bind_text(ins, 6, o->version, -1, SQLITE_STATIC);
        else
            sqlite3_bind_null(ins, 6);
        sqlite3_bind_int64(ins, 7, date_added);
        sqlite3_bind_text(ins, 8, o->media_type, -1, SQLITE_STATIC);
        sqlite3_bind_int(ins, 9, first);
        sqlite3_bind_int(ins, 10, last);
        sqlite3_bind_text(ins, 11, o->json, (int)o->json_len, SQLITE_STATIC);
        if (owner)
            sqlite3_bind_text(ins, 12, owner, -1, SQLITE_STATIC);
        else
            sqlite3_bind_null(ins, 12);
        if (sqlite3_step(ins) != SQLITE_DONE) {
            rc = dberr(err, c->db, "adding object");
            sqlite3_reset(ins);
            goto rollback;
        }
        sqlite3_reset(ins);
        int changed = sqlite3_changes(c->db);
        if (added)
            added[i] = changed ? CY_OBJ_ADDED : CY_OBJ_PRESENT;
        if (!changed || count == 0 || (!first && !last))
            continue;
        sqlite3_stmt *st = first ? unfirst : unlast;
        sqlite3_bind_int64(st, 1, coll);
        sqlite3_bind_text(st, 2, o->id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, o->version_us);
        if (sqlite3_step(st) != SQLITE_DONE) {
            rc = dberr(err, c->db, "marking versions");
            sqlite3_reset(st);
            goto rollback;
        }
        sqlite3_reset(st);
    }
    if (nheld > max_held) {
        rc = cy_fail(err, COMITY_ERR_DENIED,
                     "store: %zu of %zu objects have ids held by another owner (at most %zu"
                     " may), nothing stored", nheld, n, max_held);
        goto rollback;
    }
    rc = exec(c->db, "COMMIT", err);
    if (rc == COMITY_OK) {
        *date_added_io = date_added;
        goto out;
    }
rollback:
    exec(c->db, "ROLLBACK", NULL);
out:
    release(q, c);
    return rc;
}

/* Appends "AND col IN (?,?...)" for n values; caps n. */
static comity_err in_list(cy_buf *sql, const char *col, size_t n, comity_error *err)
{
    if (n > FILTER_MAX)
        return cy_fail(err, COMITY_ERR_TOOBIG, "store: more than %d values in one filter",
                       FILTER_MAX);
    if (cy_buf_printf(sql, " AND %s IN (", col))
        return cy_fail(err, COMITY_ERR_TOOBIG, "store: query too long");
    for (size_t i = 0; i < n; i++)
        if (cy_buf_puts(sql, i ? ",?" : "?"))
            return cy_fail(err, COMITY_ERR_TOOBIG, "store: query too long");
    if (cy_buf_puts(sql, ")"))
        return cy_fail(err, COMITY_ERR_TOOBIG, "store: query too long");
    return COMITY_OK;
}

static void read_record_at(sqlite3_stmt *st, int at, cy_record_row *r, bool env);

/* Record projections are kept out of the (coll, id, version) index (see
 * migration 5), so an id filter finds them through their records: a
 * projection's id has its record's uuid ("<any type>--<uuid>", see
 * cy_record_in).  OUT *recs (caller frees, cy_free): the seqs of the stored
 * records whose uuid one of q->ids has.  The record types present are
 * walked in the records_type index (one seek each), then each candidate id
 * looked up. */
static comity_err wrapper_recs(struct conn *c, const cy_obj_query *q, int64_t **recs,
                               size_t *n, comity_error *err)
{
    *recs = NULL;
    *n = 0;
    if (!q->nids)
        return COMITY_OK;
    sqlite3_stmt *st = prep(c, "WITH RECURSIVE t(x) AS (SELECT min(type) FROM records"
                               " UNION ALL SELECT (SELECT min(type) FROM records WHERE type>x)"
                               " FROM t WHERE x IS NOT NULL)"
                               " SELECT r.seq FROM t JOIN records r"
                               " ON r.idk=?2 AND r.id=t.x||'--'||?1",
                            err);
    if (!st)
        return COMITY_ERR_DB;
    size_t cap = q->nids;
    int64_t *out = cy_calloc(cap, sizeof *out);
    if (!out)
        return cy_fail(err, COMITY_ERR_NOMEM, "store: out of memory");
    comity_err rc = COMITY_OK;
    for (size_t i = 0; i < q->nids && !rc; i++) {
        const char *uuid = strstr(q->ids[i], "--");
        if (!uuid)
            continue;
        sqlite3_bind_text(st, 1, uuid + 2, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, id_key(uuid)); /* the key of any "<type>--<uuid>" */
        int s;
        while ((s = sqlite3_step(st)) == SQLITE_ROW) {
            if (*n == cap) {
                int64_t *more = cy_realloc(out, 2 * cap * sizeof *out);
                if (!more) {
                    rc = cy_fail(err, COMITY_ERR_NOMEM, "store: out of memory");
                    break;
                }
                out = more;
                cap *= 2;
            }
            out[(*n)++] = sqlite3_column_int64(st, 0);
        }
        if (!rc && s != SQLITE_ROW && s != SQLITE_DONE)
            rc = dberr(err, c->db, "finding wrapped records");
        sqlite3_reset(st);
    }
    if (rc || !*n) {
        cy_free(out);
        *n = 0;
        return rc;
    }
    *recs = out;
    return COMITY_OK;
}

/* Appends the SQL of a record filter (store/records.h) on the records row
 * named `r`: one "?" per value, bound by bind_filter in the same order. */
static comity_err filter_sql(cy_buf *sql, const cy_record_filter *f, const char *r)
{
    comity_err e = cy_buf_puts(sql, "(0");
    if (f->ntlps) {
        e |= cy_buf_printf(sql, " OR %s.tlp IN (", r);
        for (size_t i = 0; i < f->ntlps; i++)
            e |= cy_buf_puts(sql, i ? ",?" : "?");
        e |= cy_buf_puts(sql, ")");
    }
    if (f->author[0])
        e |= cy_buf_printf(sql, " OR %s.author=?", r);
    if (f->nto) {
        e |= cy_buf_printf(sql, " OR EXISTS(SELECT 1 FROM record_to v WHERE v.seq=%s.seq"
                                " AND v.party IN (", r);
        for (size_t i = 0; i < f->nto; i++)
            e |= cy_buf_puts(sql, i ? ",?" : "?");
        e |= cy_buf_puts(sql, "))");
    }
    e |= cy_buf_puts(sql, ")");
    return e;
}

static int bind_filter(sqlite3_stmt *st, int k, const cy_record_filter *f)
{
    for (size_t i = 0; i < f->ntlps; i++)
        sqlite3_bind_text(st, k++, f->tlps[i], -1, SQLITE_STATIC);
    if (f->author[0])
        sqlite3_bind_text(st, k++, f->author, -1, SQLITE_STATIC);
    for (size_t i = 0; i < f->nto; i++)
        sqlite3_bind_text(st, k++, f->to[i], -1, SQLITE_STATIC);
    return k;
}

static int filter_params(const cy_record_filter *f)
{
    return (int)f->ntlps + (f->author[0] != 0) + (int)f->nto;
}

static bool filter_ok(const cy_record_filter *f)
{
    return f->ntlps <= CY_FILTER_TLPS_MAX && f->nto <= CY_FILTER_TO_MAX;
}

/* Builds the WHERE clause of a query (after "WHERE objects.coll=?1") and
 * binds.  Columns are named with their table (the page query joins
 * records).  An id filter matches stored objects by id (objects_version)
 * and record projections by their records (`recs`, from wrapper_recs;
 * objects_rec) and their own id.  A record filter (q->visible) leaves the
 * projections of the records it does not pass out. */
static comity_err where_clause(const cy_obj_query *q, bool paging, const int64_t *recs,
                               size_t nrecs, cy_buf *sql, comity_error *err)
{
    comity_err rc;
    if (paging && q->has_added_after && cy_buf_puts(sql, " AND objects.date_added>?"))
        goto toolong;
    if (paging && q->has_after &&
        cy_buf_puts(sql, " AND (objects.date_added,objects.seq)>(?,?)"))
        goto toolong;
    if (q->nids) {
        /* the ids are the parameters after coll and the paging ones */
        int first = 2 + (paging && q->has_added_after) + 2 * (paging && q->has_after);
        if (cy_buf_puts(sql, " AND objects.seq IN (SELECT seq FROM objects WHERE coll=?1"
                             " AND rec IS NULL"))
            goto toolong;
        if ((rc = in_list(sql, "id", q->nids, err)))
            return rc;
        if (cy_buf_puts(sql, nrecs ? " UNION ALL SELECT seq FROM objects WHERE rec IN ("
                                   : ")"))
            goto toolong;
        for (size_t i = 0; i < nrecs; i++)
            if (cy_buf_printf(sql, "%s%lld", i ? "," : "", (long long)recs[i]))
                goto toolong;
        if (nrecs) {
            if (cy_buf_puts(sql, ") AND coll=?1 AND id IN ("))
                goto toolong;
            for (size_t i = 0; i < q->nids; i++)
                if (cy_buf_printf(sql, "%s?%d", i ? "," : "", first + (int)i))
                    goto toolong;
            if (cy_buf_puts(sql, "))"))
                goto toolong;
        }
    }
    if (q->ntypes && (rc = in_list(sql, "objects.type", q->ntypes, err)))
        return rc;
    if (q->spec_versions && (rc = in_list(sql, "objects.spec_version", q->nspec, err)))
        return rc;
    unsigned vf = q->vflags;
    if (vf == 0 && q->nversions == 0)
        vf = CY_V_LAST;
    if (!(vf & CY_V_ALL)) {
        if (q->nversions > FILTER_MAX)
            return cy_fail(err, COMITY_ERR_TOOBIG, "store: more than %d versions", FILTER_MAX);
        if (cy_buf_puts(sql, " AND (0"))
            goto toolong;
        if ((vf & CY_V_LAST) && cy_buf_puts(sql, " OR objects.is_last=1"))
            goto toolong;
        if ((vf & CY_V_FIRST) && cy_buf_puts(sql, " OR objects.is_first=1"))
            goto toolong;
        for (size_t i = 0; i < q->nversions; i++)
            if (cy_buf_puts(sql, " OR objects.version_us=?"))
                goto toolong;
        if (cy_buf_puts(sql, ")"))
            goto toolong;
    }
    if (q->visible) {
        if (!filter_ok(q->visible))
            return cy_fail(err, COMITY_ERR_USAGE, "store: malformed record filter");
        if (cy_buf_puts(sql, " AND (objects.rec IS NULL OR EXISTS(SELECT 1 FROM records vr"
                             " WHERE vr.seq=objects.rec AND ") ||
            filter_sql(sql, q->visible, "vr") || cy_buf_puts(sql, "))"))
            goto toolong;
    }
    return COMITY_OK;
toolong:
    return cy_fail(err, COMITY_ERR_TOOBIG, "store: query too long");
}

static void bind_query(sqlite3_stmt *st, const cy_obj_query *q, bool paging)
{
    int k = 1;
    sqlite3_bind_int64(st, k++, q->coll);
    if (paging && q->has_added_after)
        sqlite3_bind_int64(st, k++, q->added_after);
    if (paging && q->has_after) {
        sqlite3_bind_int64(st, k++, q->after_date);
        sqlite3_bind_int64(st, k++, q->after_seq);
    }
    for (size_t i = 0; i < q->nids; i++)
        sqlite3_bind_text(st, k++, q->ids[i], -1, SQLITE_STATIC);
    for (size_t i = 0; i < q->ntypes; i++)
        sqlite3_bind_text(st, k++, q->types[i], -1, SQLITE_STATIC);
    if (q->spec_versions)
        for (size_t i = 0; i < q->nspec; i++)
            sqlite3_bind_text(st, k++, q->spec_versions[i], -1, SQLITE_STATIC);
    unsigned vf = q->vflags;
    if (!(vf & CY_V_ALL))
        for (size_t i = 0; i < q->nversions; i++)
            sqlite3_bind_int64(st, k++, q->versions[i]);
    if (q->visible)
        k = bind_filter(st, k, q->visible);
    if (paging)
        sqlite3_bind_int64(st, k, (int64_t)q->limit + 1);
}

/* The page query's columns: the object's, its JSON (when asked for) and
 * objects.rec, which a record projection sets, then (when the plan joins
 * records) the record's fields the caller renders the projection from
 * (src/stix): id, type, author, tlp, created, envelope.  A projection's
 * JSON is not stored. */
#define OBJ_COLS                                                                             \
    "objects.seq,objects.date_added,objects.version_us,objects.id,objects.type,"             \
    "objects.spec_version,objects.version,objects.media_type,"
enum { OBJ_COL_JSON = 8, OBJ_COL_REC = 9 };

/* The record `seq` (with its envelope if env) into *r, borrowed until the
 * next call on this connection.  On c's own statement, stepped while the
 * page statement is active. */
static comity_err record_by_seq(struct conn *c, int64_t seq, bool env, cy_record_row *r,
                                comity_error *err)
{
    sqlite3_stmt **st = &c->rec_st[env];
    if (!*st && sqlite3_prepare_v3(c->db,
                                   env ? "SELECT " RECORD_COLS ",envelope FROM records WHERE seq=?"
                                       : "SELECT " RECORD_COLS " FROM records WHERE seq=?",
                                   -1, SQLITE_PREPARE_PERSISTENT, st, NULL) != SQLITE_OK)
        return dberr(err, c->db, "prepare");
    sqlite3_reset(*st);
    sqlite3_bind_int64(*st, 1, seq);
    int s = sqlite3_step(*st);
    if (s == SQLITE_ROW) {
        read_record_at(*st, 0, r, env);
        return COMITY_OK;
    }
    return s == SQLITE_DONE ? cy_fail(err, COMITY_ERR_DB, "store: object of record %lld"
                                      " without its record", (long long)seq)
                            : dberr(err, c->db, "reading a record");
}

static comity_err sq_objects_query(void *impl, const cy_obj_query *qq, cy_obj_cb cb, void *ctx,
                                   bool *more, comity_error *err)
{
    struct sq *q = impl;
    *more = false;
    comity_err arc;
    struct conn *c = acquire(q, &arc, err);
    if (!c)
        return arc;
    cy_buf sql;
    cy_buf_init(&sql, SQL_MAX);
    int64_t *recs = NULL;
    size_t nrecs = 0;
    sqlite3_stmt *st = NULL;
    comity_err rc = wrapper_recs(c, qq, &recs, &nrecs, err);
    /* with an id filter the few rows it names are looked up by seq (+coll:
     * not by scanning the collection's page index in date order) */
    /* Two plans, one result: a collection known to hold projections joins
     * their records into the page (cheapest per projection); any other
     * is paged without the join (cheapest per stored object), a
     * projection met there being read by record_by_seq and the
     * collection remembered. */
    bool join = proj_seen(q, qq->coll);
    if (!rc && (join ? cy_buf_printf(&sql, "SELECT " OBJ_COLS "%s,objects.rec,r.id,r.type,"
                                           "r.author,r.tlp,r.created,%s FROM objects"
                                           " LEFT JOIN records r ON r.seq=objects.rec"
                                           " WHERE %s=?",
                                     qq->with_json ? "objects.json" : "NULL",
                                     qq->with_json ? "r.envelope" : "NULL",
                                     qq->nids ? "+objects.coll" : "objects.coll")
                     : cy_buf_printf(&sql, "SELECT " OBJ_COLS "%s,objects.rec FROM objects"
                                           " WHERE %s=?",
                                     qq->with_json ? "objects.json" : "NULL",
                                     qq->nids ? "+objects.coll" : "objects.coll")))
        rc = cy_fail(err, COMITY_ERR_TOOBIG, "store: query too long");
    if (!rc && !(rc = where_clause(qq, true, recs, nrecs, &sql, err)) &&
        cy_buf_puts(&sql, " ORDER BY objects.date_added,objects.seq LIMIT ?"))
        rc = cy_fail(err, COMITY_ERR_TOOBIG, "store: query too long");
    if (!rc && !(st = prep(c, (const char *)sql.data, err)))
        rc = c->prep_rc;
    cy_buf_free(&sql);
    cy_free(recs);
    if (rc)
        goto done;
    bind_query(st, qq, true);
    size_t n = 0;
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == qq->limit) {
            *more = true;
            break;
        }
        n++;
        cy_obj_row r = {
            .seq = sqlite3_column_int64(st, 0),
            .date_added = sqlite3_column_int64(st, 1),
            .version_us = sqlite3_column_int64(st, 2),
            .id = (const char *)sqlite3_column_text(st, 3),
            .type = (const char *)sqlite3_column_text(st, 4),
            .spec_version = (const char *)sqlite3_column_text(st, 5),
            .version = (const char *)sqlite3_column_text(st, 6),
            .media_type = (const char *)sqlite3_column_text(st, 7),
        };
        cy_record_row rec;
        if (sqlite3_column_type(st, OBJ_COL_REC) != SQLITE_NULL) {
            int64_t rs = sqlite3_column_int64(st, OBJ_COL_REC);
            if (join) {
                memset(&rec, 0, sizeof rec);
                rec.seq = rs;
                rec.id = (const char *)sqlite3_column_text(st, OBJ_COL_REC + 1);
                rec.type = (const char *)sqlite3_column_text(st, OBJ_COL_REC + 2);
                rec.author = (const char *)sqlite3_column_text(st, OBJ_COL_REC + 3);
                rec.tlp = (const char *)sqlite3_column_text(st, OBJ_COL_REC + 4);
                rec.created = (const char *)sqlite3_column_text(st, OBJ_COL_REC + 5);
                if (qq->with_json) {
                    rec.envelope = (const char *)sqlite3_column_text(st, OBJ_COL_REC + 6);
                    rec.envelope_len = (size_t)sqlite3_column_bytes(st, OBJ_COL_REC + 6);
                }
            } else {
                if ((rc = record_by_seq(c, rs, qq->with_json, &rec, err)))
                    break;
                proj_mark(q, qq->coll);
            }
            r.record = &rec;
        } else if (qq->with_json) {
            r.json = (const char *)sqlite3_column_text(st, OBJ_COL_JSON);
            r.json_len = (size_t)sqlite3_column_bytes(st, OBJ_COL_JSON);
        }
        if (cb(&r, ctx)) {
            *more = true;
            break;
        }
    }
    if (!rc && s != SQLITE_ROW && s != SQLITE_DONE)
        rc = dberr(err, c->db, "querying objects");
    sqlite3_reset(st);
    sqlite3_reset(c->rec_st[0]);
    sqlite3_reset(c->rec_st[1]);
done:
    release(q, c);
    return rc;
}

static comity_err sq_objects_delete(void *impl, const cy_obj_query *qq, size_t *deleted,
                                    comity_error *err)
{
    struct sq *q = impl;
    *deleted = 0;
    if (qq->nids == 0)
        return cy_fail(err, COMITY_ERR_USAGE, "store: delete needs an id");
    cy_buf sql;
    cy_buf_init(&sql, SQL_MAX);
    comity_err rc;
    if (cy_buf_puts(&sql, "DELETE FROM objects WHERE +objects.coll=?")) { /* see sq_objects_query */
        cy_buf_free(&sql);
        return cy_fail(err, COMITY_ERR_TOOBIG, "store: query too long");
    }
    cy_obj_query dq = *qq;
    if (dq.vflags == 0 && dq.nversions == 0)
        dq.vflags = CY_V_ALL; /* DELETE without match[version] removes every version */
    dq.visible = NULL; /* the caller decided what it may delete */
    struct conn *c = acquire(q, &rc, err);
    if (!c) {
        cy_buf_free(&sql);
        return rc;
    }
    if ((rc = exec(c->db, "BEGIN IMMEDIATE", err)))
        goto out;
    int64_t *recs = NULL;
    size_t nrecs = 0;
    rc = wrapper_recs(c, &dq, &recs, &nrecs, err);
    if (!rc)
        rc = where_clause(&dq, false, recs, nrecs, &sql, err);
    cy_free(recs);
    if (rc)
        goto rollback;
    /* an id's owner outlives its objects (sq_objects_add): kept aside
     * before they go (an owner never changes, so keeping it while versions
     * remain is harmless) */
    for (size_t i = 0; i < qq->nids; i++) {
        sqlite3_stmt *keep = prep(c, "INSERT OR IGNORE INTO object_owner(coll,id,owner)"
                                     " SELECT coll,id,max(owner) FROM objects WHERE coll=?1"
                                     " AND id=?2 AND rec IS NULL AND owner IS NOT NULL"
                                     " GROUP BY coll,id", err);
        if (!keep) {
            rc = c->prep_rc;
            goto rollback;
        }
        sqlite3_bind_int64(keep, 1, qq->coll);
        sqlite3_bind_text(keep, 2, qq->ids[i], -1, SQLITE_STATIC);
        int s = sqlite3_step(keep);
        sqlite3_reset(keep);
        if (s != SQLITE_DONE) {
            rc = dberr(err, c->db, "keeping owners");
            goto rollback;
        }
    }
    sqlite3_stmt *st = prep(c, (const char *)sql.data, err);
    if (!st) {
        rc = COMITY_ERR_DB;
        goto rollback;
    }
    bind_query(st, &dq, false);
    if (sqlite3_step(st) != SQLITE_DONE) {
        rc = dberr(err, c->db, "deleting objects");
        sqlite3_reset(st);
        goto rollback;
    }
    sqlite3_reset(st);
    *deleted = (size_t)sqlite3_changes(c->db);
    for (size_t i = 0; i < qq->nids && *deleted; i++) {
        st = prep(c, "UPDATE objects SET"
                     " is_first=(version_us=(SELECT min(version_us) FROM objects o"
                     "  WHERE o.coll=objects.coll AND o.id=objects.id AND o.rec IS NULL)),"
                     " is_last=(version_us=(SELECT max(version_us) FROM objects o"
                     "  WHERE o.coll=objects.coll AND o.id=objects.id AND o.rec IS NULL))"
                     " WHERE coll=? AND id=? AND rec IS NULL", err);
        if (!st) {
            rc = COMITY_ERR_DB;
            goto rollback;
        }
        sqlite3_bind_int64(st, 1, qq->coll);
        sqlite3_bind_text(st, 2, qq->ids[i], -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE) {
            rc = dberr(err, c->db, "marking versions");
            sqlite3_reset(st);
            goto rollback;
        }
        sqlite3_reset(st);
    }
    rc = exec(c->db, "COMMIT", err);
    if (rc == COMITY_OK)
        goto out;
rollback:
    *deleted = 0;
    exec(c->db, "ROLLBACK", NULL);
out:
    cy_buf_free(&sql);
    release(q, c);
    return rc;
}

/* ---- status ------------------------------------------------------------------ */

static comity_err sq_status_put(void *impl, const char *id, const char *api_root,
                                const char *owner, int64_t created, const char *json,
                                comity_error *err)
{
    struct frame f;
    comity_err rc = frame_open(&f, impl, "INSERT OR REPLACE INTO status(id,api_root,owner,"
                                         "created,json) VALUES(?,?,?,?,?)", false, err);
    if (rc)
        return rc;
    sqlite3_bind_text(f.st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(f.st, 2, api_root, -1, SQLITE_STATIC);
    sqlite3_bind_text(f.st, 3, owner ? owner : "", -1, SQLITE_STATIC);
    sqlite3_bind_int64(f.st, 4, created);
    sqlite3_bind_text(f.st, 5, json, -1, SQLITE_STATIC);
    /* A status resource reports on objects already committed durably; it
     * may be lost with the machine's power, so it skips the fsync. */
    exec(f.c->db, "PRAGMA synchronous=NORMAL", NULL);
    rc = frame_check(&f, sqlite3_step(f.st), "writing status", err);
    sqlite3_reset(f.st);
    /* status resources are kept for CY_STATUS_KEEP_US, then dropped */
    sqlite3_stmt *old = prep(f.c, "DELETE FROM status WHERE created < ?", NULL);
    if (old) {
        sqlite3_bind_int64(old, 1, created - CY_STATUS_KEEP_US);
        sqlite3_step(old);
        sqlite3_reset(old);
    }
    exec(f.c->db, "PRAGMA synchronous=FULL", NULL);
    return frame_done(&f, rc);
}

static comity_err sq_status_get(void *impl, const char *api_root, const char *id, char **json,
                                char owner[COMITY_PARTY_MAX + 1], comity_error *err)
{
    struct frame f;
    comity_err rc = frame_open(&f, impl, "SELECT json, owner FROM status"
                                         " WHERE api_root=? AND id=?", false, err);
    if (rc)
        return rc;
    sqlite3_bind_text(f.st, 1, api_root, -1, SQLITE_STATIC);
    sqlite3_bind_text(f.st, 2, id, -1, SQLITE_STATIC);
    int s = sqlite3_step(f.st);
    if (s == SQLITE_ROW) {
        copy_text(owner, COMITY_PARTY_MAX + 1, f.st, 1);
        if (!(*json = cy_strdup((const char *)sqlite3_column_text(f.st, 0))))
            rc = cy_fail(err, COMITY_ERR_NOMEM, "store: out of memory");
    } else if (s == SQLITE_DONE) {
        rc = cy_fail(err, COMITY_ERR_NOTFOUND, "store: no status %s", id);
    } else {
        rc = frame_check(&f, s, "reading status", err);
    }
    return frame_done(&f, rc);
}

/* ---- object owners (kept by sq_objects_add and sq_objects_delete) ---- */

static comity_err sq_object_owner(void *impl, int64_t coll, const char *id,
                                  char owner[COMITY_PARTY_MAX + 1], comity_error *err)
{
    struct frame f;
    comity_err rc = frame_open(&f, impl, "SELECT " OWNER_OF " FROM objects"
                                         " WHERE coll=?1 AND id=?2 AND rec IS NULL", false, err);
    if (rc)
        return rc;
    sqlite3_bind_int64(f.st, 1, coll);
    sqlite3_bind_text(f.st, 2, id, -1, SQLITE_STATIC);
    int s = sqlite3_step(f.st);
    if (s == SQLITE_ROW && sqlite3_column_type(f.st, 0) != SQLITE_NULL)
        copy_text(owner, COMITY_PARTY_MAX + 1, f.st, 0);
    else if (s == SQLITE_ROW)
        rc = cy_fail(err, COMITY_ERR_NOTFOUND, "store: nobody holds %s", id);
    else
        rc = frame_check(&f, s, "reading an object's owner", err);
    return frame_done(&f, rc);
}

/* ---- registration requests ---------------------------------------------------- */

#define REG_COLS "party,vkey,recipient,note,created,signature,received,address"

/* The count and the insert in one IMMEDIATE transaction: no other writer
 * between them. */
static comity_err sq_reg_add(void *impl, const cy_registration *g, size_t max,
                             comity_error *err)
{
    struct frame f;
    comity_err rc = frame_open(&f, impl, "INSERT INTO registrations(" REG_COLS ")"
                                         " SELECT ?,?,?,?,?,?,?,?"
                                         " WHERE (SELECT count(*) FROM registrations) < ?",
                               false, err);
    if (rc)
        return rc;
    const char *t[] = {g->party, g->vkey, g->recipient, g->note, g->created, g->signature};
    for (int i = 0; i < 6; i++)
        sqlite3_bind_text(f.st, i + 1, t[i], -1, SQLITE_STATIC);
    sqlite3_bind_int64(f.st, 7, g->received_us);
    sqlite3_bind_text(f.st, 8, g->address, -1, SQLITE_STATIC);
    sqlite3_bind_int64(f.st, 9, max > INT64_MAX ? INT64_MAX : (sqlite3_int64)max);
    if ((rc = exec(f.c->db, "BEGIN IMMEDIATE", err)))
        return frame_done(&f, rc);
    int s = sqlite3_step(f.st);
    if (s == SQLITE_CONSTRAINT)
        rc = cy_fail(err, COMITY_ERR_EXISTS, "store: a registration request for %s is kept",
                     g->party);
    else if (s != SQLITE_DONE)
        rc = dberr(err, f.c->db, "adding a registration request");
    else if (sqlite3_changes(f.c->db) == 0)
        rc = cy_fail(err, COMITY_ERR_TOOBIG, "store: %zu registration requests are kept", max);
    sqlite3_reset(f.st);
    if (!rc)
        rc = exec(f.c->db, "COMMIT", err);
    if (rc)
        exec(f.c->db, "ROLLBACK", NULL);
    return frame_done(&f, rc);
}

static comity_err sq_reg_list(void *impl, cy_registration_cb cb, void *ctx, comity_error *err)
{
    struct frame f;
    comity_err rc = frame_open(&f, impl, "SELECT " REG_COLS " FROM registrations"
                                         " ORDER BY received, party", false, err);
    if (rc)
        return rc;
    int s;
    while ((s = sqlite3_step(f.st)) == SQLITE_ROW) {
        cy_registration g;
        memset(&g, 0, sizeof g);
        copy_text(g.party, sizeof g.party, f.st, 0);
        copy_text(g.vkey, sizeof g.vkey, f.st, 1);
        copy_text(g.recipient, sizeof g.recipient, f.st, 2);
        copy_text(g.note, sizeof g.note, f.st, 3);
        copy_text(g.created, sizeof g.created, f.st, 4);
        copy_text(g.signature, sizeof g.signature, f.st, 5);
        g.received_us = sqlite3_column_int64(f.st, 6);
        copy_text(g.address, sizeof g.address, f.st, 7);
        if (cb(&g, ctx))
            break;
    }
    return frame_done(&f, frame_check(&f, s, "listing registration requests", err));
}

static comity_err sq_reg_remove(void *impl, const char *party, const char *vkey,
                                comity_error *err)
{
    struct frame f;
    comity_err rc = frame_open(&f, impl, "DELETE FROM registrations WHERE party=? AND vkey=?",
                               false, err);
    if (rc)
        return rc;
    sqlite3_bind_text(f.st, 1, party, -1, SQLITE_STATIC);
    sqlite3_bind_text(f.st, 2, vkey, -1, SQLITE_STATIC);
    rc = frame_check(&f, sqlite3_step(f.st), "removing a registration request", err);
    if (!rc && sqlite3_changes(f.c->db) == 0)
        rc = cy_fail(err, COMITY_ERR_NOTFOUND, "store: no registration request for %s", party);
    return frame_done(&f, rc);
}

/* ---- the keys of principals' users ------------------------------------------- */

#define USER_COLS "principal,vkey,name,valid_from,revoked_at,reason,revoked_w"

static comity_err sq_user_put(void *impl, const cy_principal_user *u, comity_error *err)
{
    struct frame f;
    comity_err rc = frame_open(&f, impl, "INSERT OR REPLACE INTO principal_users(" USER_COLS ")"
                                         " VALUES(?,?,?,?,?,?,?)", false, err);
    if (rc)
        return rc;
    sqlite3_bind_text(f.st, 1, u->principal, -1, SQLITE_STATIC);
    sqlite3_bind_text(f.st, 2, u->vkey, -1, SQLITE_STATIC);
    sqlite3_bind_text(f.st, 3, u->name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(f.st, 4, u->valid_from_ms);
    sqlite3_bind_int64(f.st, 5, u->revoked_ms);
    sqlite3_bind_text(f.st, 6, u->reason, -1, SQLITE_STATIC);
    sqlite3_bind_int64(f.st, 7, u->revoked_w_ms);
    return frame_done(&f, frame_check(&f, sqlite3_step(f.st), "writing a user's key", err));
}

static comity_err sq_user_list(void *impl, const char *principal, cy_principal_user_cb cb,
                               void *ctx, comity_error *err)
{
    struct frame f;
    comity_err rc = frame_open(&f, impl, "SELECT " USER_COLS " FROM principal_users"
                                         " WHERE ?1 IS NULL OR principal=?1"
                                         " ORDER BY principal, name, vkey", false, err);
    if (rc)
        return rc;
    if (principal)
        sqlite3_bind_text(f.st, 1, principal, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(f.st, 1);
    int s;
    while ((s = sqlite3_step(f.st)) == SQLITE_ROW) {
        cy_principal_user u;
        memset(&u, 0, sizeof u);
        copy_text(u.principal, sizeof u.principal, f.st, 0);
        copy_text(u.vkey, sizeof u.vkey, f.st, 1);
        copy_text(u.name, sizeof u.name, f.st, 2);
        u.valid_from_ms = sqlite3_column_int64(f.st, 3);
        u.revoked_ms = sqlite3_column_int64(f.st, 4);
        copy_text(u.reason, sizeof u.reason, f.st, 5);
        u.revoked_w_ms = sqlite3_column_int64(f.st, 6);
        if (cb(&u, ctx))
            break;
    }
    return frame_done(&f, frame_check(&f, s, "listing users' keys", err));
}

static const cy_store_ops SQLITE_OPS = {
    .name = "sqlite",
    .close = sq_close,
    .meta_get = sq_meta_get,
    .meta_set = sq_meta_set,
    .principal_add = sq_principal_add,
    .principal_set_token = sq_principal_set_token,
    .principal_get = sq_principal_get,
    .principal_by_token = sq_principal_by_token,
    .principal_list = sq_principal_list,
    .collection_add = sq_collection_add,
    .collection_get = sq_collection_get,
    .collection_list = sq_collection_list,
    .objects_add = sq_objects_add,
    .objects_query = sq_objects_query,
    .objects_delete = sq_objects_delete,
    .status_put = sq_status_put,
    .status_get = sq_status_get,
    .object_owner = sq_object_owner,
    .size_bytes = sq_size_bytes,
    .reg_add = sq_reg_add,
    .reg_list = sq_reg_list,
    .reg_remove = sq_reg_remove,
    .user_put = sq_user_put,
    .user_list = sq_user_list,
    .principal_set_revoked = sq_principal_set_revoked,
};

/* The store's schema (sqlite/db.h): MIGRATIONS[k] takes it from version
 * k to k+1; the store was versioned from its start, so no legacy file. */
static const cy_sqlite_schema SCHEMA = {"store", MIGRATIONS, CY_ARRAY_LEN(MIGRATIONS), NULL};

comity_err cy_store_sqlite_open(const char *path, comity_store **out, comity_error *err)
{
    struct sq *q = cy_calloc(1, sizeof *q);
    comity_store *st = cy_calloc(1, sizeof *st);
    if (!q || !st || !(q->path = cy_strdup(path))) {
        if (q)
            cy_free(q->path);
        cy_free(q);
        cy_free(st);
        return cy_fail(err, COMITY_ERR_NOMEM, "store: out of memory");
    }
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->cv, NULL);
    pthread_mutex_init(&q->pc.mu, NULL);
    pthread_mutex_init(&q->ck.mu, NULL);
    pthread_cond_init(&q->ck.cv, NULL);
    pthread_mutex_init(&q->wmu, NULL);
    pthread_mutex_init(&q->imu, NULL);
    q->walfd = -1;
    comity_err rc;
    struct conn *c = acquire(q, &rc, err);
    if (!c) {
        sq_close(q);
        cy_free(st);
        return rc;
    }
    rc = cy_sqlite_migrate(c->db, &SCHEMA, NULL, err);
    release(q, c);
    if (rc) {
        sq_close(q);
        cy_free(st);
        return rc;
    }
    pcache_map(q);
    st->ops = &SQLITE_OPS;
    st->rec = sqlite_record_ops();
    st->fw = sqlite_fw_ops();
    st->peer = sqlite_peer_ops();
    st->impl = q;
    *out = st;
    return COMITY_OK;
}

/* ======================================================================== */
/* Records (record intake; see store/records.h).  Kept apart from the TAXII */
/* operations above: only this block and migration 2 touch these tables.    */
/* ======================================================================== */


static comity_err sq_record_find(void *impl, const char *id, char digest[65],
                                 uint64_t *log_index, comity_error *err)
{
    struct frame f;
    comity_err rc = frame_open(&f, impl,
                               "SELECT digest, log_index FROM records WHERE idk=?2 AND id=?1",
                               false, err);
    if (rc)
        return rc;
    sqlite3_bind_text(f.st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(f.st, 2, id_key(id));
    int s = sqlite3_step(f.st);
    if (s == SQLITE_ROW) {
        copy_text(digest, 65, f.st, 0);
        *log_index = (uint64_t)sqlite3_column_int64(f.st, 1);
    } else if (s == SQLITE_DONE) {
        rc = cy_fail(err, COMITY_ERR_NOTFOUND, "store: no record %s", id);
    } else {
        rc = frame_check(&f, s, "reading record", err);
    }
    return frame_done(&f, rc);
}

static comity_err sq_record_witnessed(void *impl, const char *id, int64_t *w_ms,
                                      comity_error *err)
{
    struct frame f;
    comity_err rc = frame_open(&f, impl, "SELECT w_ms FROM record_witnessed WHERE id=?", false,
                               err);
    if (rc)
        return rc;
    sqlite3_bind_text(f.st, 1, id, -1, SQLITE_STATIC);
    int s = sqlite3_step(f.st);
    if (s == SQLITE_ROW)
        *w_ms = sqlite3_column_int64(f.st, 0);
    else if (s == SQLITE_DONE)
        rc = cy_fail(err, COMITY_ERR_NOTFOUND, "store: no W kept for record %s", id);
    else
        rc = frame_check(&f, s, "reading a record's W", err);
    return frame_done(&f, rc);
}

static comity_err sq_record_find_many(void *impl, const char *const *ids, size_t n,
                                      char (*digests)[65], uint64_t *log_index, bool *found,
                                      comity_error *err)
{
    struct sq *q = impl;
    comity_err arc;
    struct conn *c = intake_acquire(q, &arc, err); /* see there */
    if (!c)
        return arc;
    comity_err rc = exec(c->db, "BEGIN", err); /* one snapshot for all */
    if (rc)
        goto done;
    sqlite3_stmt *st = prep(c, "SELECT digest, log_index FROM records WHERE idk=?2 AND id=?1",
                            err);
    if (!st)
        rc = COMITY_ERR_DB;
    for (size_t i = 0; i < n && !rc; i++) {
        sqlite3_bind_text(st, 1, ids[i], -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, id_key(ids[i]));
        int s = sqlite3_step(st);
        found[i] = s == SQLITE_ROW;
        if (s == SQLITE_ROW) {
            copy_text(digests[i], 65, st, 0);
            log_index[i] = (uint64_t)sqlite3_column_int64(st, 1);
        } else if (s != SQLITE_DONE) {
            rc = dberr(err, c->db, "reading record");
        }
        sqlite3_reset(st);
    }
    exec(c->db, rc ? "ROLLBACK" : "COMMIT", NULL);
done:
    pthread_mutex_unlock(&q->imu);
    return rc;
}

/* date_added for a batch in collection `coll`: now, or just after the
 * collection's latest (the TAXII paging invariant of sq_objects_add). */
static comity_err batch_date(struct conn *c, int64_t coll, int64_t now, int64_t *out,
                             comity_error *err)
{
    sqlite3_stmt *st = prep(c, "SELECT max(date_added) FROM objects WHERE coll=?", err);
    if (!st)
        return COMITY_ERR_DB;
    sqlite3_bind_int64(st, 1, coll);
    *out = now;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) == SQLITE_INTEGER &&
        sqlite3_column_int64(st, 0) >= now)
        *out = sqlite3_column_int64(st, 0) + 1;
    sqlite3_reset(st);
    return COMITY_OK;
}

/* Adds one unversioned-in-practice object (a single version per id):
 * either its JSON, or (rec > 0) a record's projection, rendered from that
 * record's row by the reader.  Its type is its id's ("<type>--<uuid>"). */
static comity_err add_object(struct conn *c, int64_t coll, const char *id,
                             const char *version, int64_t version_us, const char *spec_version,
                             const char *media_type, int64_t date_added, const char *json,
                             size_t len, int64_t rec, comity_error *err)
{
    if (!spec_version || !media_type)
        return cy_fail(err, COMITY_ERR_USAGE, "store: %s: no spec version or media type", id);
    /* a projection is added once, with its record (whose id is unique);
     * the caller's object is skipped when the collection has it */
    sqlite3_stmt *st = rec > 0 ? prep(c, "INSERT INTO objects(coll,id,type,spec_version,"
                                         "version_us,version,date_added,media_type,is_first,"
                                         "is_last,json,rec) VALUES(?,?,?,?,?,?,?,?,1,1,?,?)", err)
                               : prep(c, "INSERT INTO objects(coll,id,type,spec_version,"
                                         "version_us,version,date_added,media_type,is_first,"
                                         "is_last,json,rec) VALUES(?,?,?,?,?,?,?,?,1,1,?,?)"
                                         " ON CONFLICT(coll,id,version_us) WHERE rec IS NULL"
                                         " DO NOTHING", err);
    if (!st)
        return COMITY_ERR_DB;
    const char *dash = strstr(id, "--");
    sqlite3_bind_int64(st, 1, coll);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, id, dash ? (int)(dash - id) : -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, spec_version, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, version_us);
    sqlite3_bind_text(st, 6, version, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 7, date_added);
    sqlite3_bind_text(st, 8, media_type, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 9, json ? json : "", json ? (int)len : 0, SQLITE_STATIC);
    if (rec > 0)
        sqlite3_bind_int64(st, 10, rec);
    int s = sqlite3_step(st);
    sqlite3_reset(st);
    return s == SQLITE_DONE ? COMITY_OK : dberr(err, c->db, "adding record object");
}

/* One record's place in one collection, for sq_records_add. */
struct coll_rec {
    int64_t coll;
    size_t rec; /* index in the batch */
};

static int coll_rec_cmp(const void *a, const void *b)
{
    const struct coll_rec *x = a, *y = b;
    if (x->coll != y->coll)
        return x->coll < y->coll ? -1 : 1;
    return x->rec < y->rec ? -1 : x->rec > y->rec;
}

static comity_err sq_records_add(void *impl, const cy_record_in *recs, size_t n,
                                 const cy_record_extdef *ext, unsigned flags,
                                 comity_error *err)
{
    struct sq *q = impl;
    /* NOSYNC: on the intake connection, whose commits skip the fsync (they
     * are durable at the next sq_records_sync) */
    bool lax = flags & CY_STORE_NOSYNC;
    comity_err arc;
    struct conn *c = lax ? intake_acquire(q, &arc, err) : acquire(q, &arc, err);
    if (!c)
        return arc;
    /* a run's batch: the larger cache from now on (see intake_acquire) */
    if (lax && !q->ic_run_cache && n >= INTAKE_RUN_MIN)
        q->ic_run_cache = exec(c->db, "PRAGMA cache_size=" INTAKE_CACHE_RUN, NULL) == COMITY_OK;
    int64_t *seqs = cy_calloc(n ? n : 1, sizeof *seqs); /* each record's seq */
    struct coll_rec *pairs = NULL;
    sqlite3_stmt *w = NULL; /* the records' W, when one has it (finalized at out) */
    sqlite3_stmt *has = NULL; /* the id's lookup (finalized at out) */
    comity_err rc = seqs ? exec(c->db, "BEGIN IMMEDIATE", err)
                         : cy_fail(err, COMITY_ERR_NOMEM, "store: out of memory");
    if (rc)
        goto out;
    /* the id's uniqueness, exactly: no row with its key has its id (the
     * index on the key is not unique, see ID_KEY_SQL).  A probe, then the
     * insert: one INSERT ... SELECT ... WHERE NOT EXISTS reading the table
     * it writes made SQLite stage each row in a temporary table (30,000
     * instructions a record under callgrind). */
    sqlite3_stmt *ins = prep(c, "INSERT INTO records(id,type,author,tlp,created,created_ms,"
                                "digest,log_index,received,envelope,signer,idk)"
                                " VALUES(?,?,?,?,?,?,?,?,?,?,?,?)", err);
    sqlite3_stmt *to = ins ? prep(c, "INSERT OR IGNORE INTO record_to(party,seq) VALUES(?,?)",
                                  err)
                           : NULL;
    if (!to) {
        rc = COMITY_ERR_DB;
        goto rollback;
    }
    /* prepared apart from the cache (as w below), which could evict ins or to */
    if (sqlite3_prepare_v2(c->db, "SELECT 1 FROM records WHERE idk=?2 AND id=?1", -1, &has,
                           NULL) != SQLITE_OK) {
        rc = dberr(err, c->db, "prepare");
        goto rollback;
    }
    for (size_t i = 0; i < n; i++) {
        const cy_record_in *r = &recs[i];
        int64_t key = id_key(r->id);
        sqlite3_bind_text(has, 1, r->id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(has, 2, key);
        int s = sqlite3_step(has);
        sqlite3_reset(has);
        if (s == SQLITE_ROW) {
            rc = cy_fail(err, COMITY_ERR_EXISTS, "store: record %s exists", r->id);
            goto rollback;
        }
        if (s != SQLITE_DONE) {
            rc = dberr(err, c->db, "looking up a record");
            goto rollback;
        }
        sqlite3_bind_text(ins, 1, r->id, -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 2, r->type, -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 3, r->author, -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 4, r->tlp, -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 5, r->created, -1, SQLITE_STATIC);
        sqlite3_bind_int64(ins, 6, r->created_ms);
        sqlite3_bind_text(ins, 7, r->digest, -1, SQLITE_STATIC);
        sqlite3_bind_int64(ins, 8, (sqlite3_int64)r->log_index);
        sqlite3_bind_int64(ins, 9, r->received_us);
        sqlite3_bind_text(ins, 10, r->envelope, (int)r->envelope_len, SQLITE_STATIC);
        if (r->signer && *r->signer)
            sqlite3_bind_text(ins, 11, r->signer, -1, SQLITE_STATIC);
        else
            sqlite3_bind_null(ins, 11);
        sqlite3_bind_int64(ins, 12, key);
        s = sqlite3_step(ins);
        sqlite3_reset(ins);
        if (s != SQLITE_DONE) {
            rc = dberr(err, c->db, "adding record");
            goto rollback;
        }
        int64_t seq = sqlite3_last_insert_rowid(c->db);
        seqs[i] = seq;
        if (r->witnessed_ms > 0) { /* W, durable with the record */
            /* prepared apart from the cache, which could evict ins or to */
            if (!w && sqlite3_prepare_v2(c->db, "INSERT OR REPLACE INTO record_witnessed"
                                                "(id,w_ms) VALUES(?,?)", -1, &w,
                                         NULL) != SQLITE_OK) {
                rc = dberr(err, c->db, "prepare");
                goto rollback;
            }
            sqlite3_bind_text(w, 1, r->id, -1, SQLITE_STATIC);
            sqlite3_bind_int64(w, 2, r->witnessed_ms);
            s = sqlite3_step(w);
            sqlite3_reset(w);
            if (s != SQLITE_DONE) {
                rc = dberr(err, c->db, "adding a record's W");
                goto rollback;
            }
        }
        for (size_t j = 0; j < r->nto; j++) {
            sqlite3_bind_text(to, 1, r->to[j], -1, SQLITE_STATIC);
            sqlite3_bind_int64(to, 2, seq);
            s = sqlite3_step(to);
            sqlite3_reset(to);
            if (s != SQLITE_DONE) {
                rc = dberr(err, c->db, "adding recipient");
                goto rollback;
            }
        }
    }
    /* TAXII projection: per collection one date_added for the batch.  The
     * (collection, record) pairs are sorted by collection, record order
     * kept, so that each collection is visited once however many the
     * batch touches. */
    size_t npairs = 0;
    for (size_t i = 0; i < n; i++)
        npairs += recs[i].ncolls;
    if (npairs && !(pairs = cy_calloc(npairs, sizeof *pairs))) {
        rc = cy_fail(err, COMITY_ERR_NOMEM, "store: out of memory");
        goto rollback;
    }
    npairs = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < recs[i].ncolls; k++)
            pairs[npairs++] = (struct coll_rec){recs[i].colls[k], i};
    bool sorted = true; /* often: every record of a batch in one collection */
    for (size_t a = 1; a < npairs && sorted; a++)
        sorted = coll_rec_cmp(&pairs[a - 1], &pairs[a]) <= 0;
    if (!sorted)
        qsort(pairs, npairs, sizeof *pairs, coll_rec_cmp);
    int64_t now = cy_now_ms() * 1000;
    for (size_t a = 0; a < npairs;) {
        int64_t coll = pairs[a].coll, date;
        proj_mark(q, coll);
        if ((rc = batch_date(c, coll, now, &date, err)))
            goto rollback;
        if (ext && (rc = add_object(c, coll, ext->id, ext->version,
                                    ext->version_us, ext->spec_version, ext->media_type, date,
                                    ext->json, ext->json_len, 0, err)))
            goto rollback;
        for (; a < npairs && pairs[a].coll == coll; a++) {
            const cy_record_in *r = &recs[pairs[a].rec];
            /* a record listing a collection twice is projected once */
            if (a > 0 && pairs[a - 1].coll == coll && pairs[a - 1].rec == pairs[a].rec)
                continue;
            if ((rc = add_object(c, coll, r->stix_id, r->stix_version,
                                 r->stix_version_us, r->stix_spec_version, r->stix_media_type,
                                 date, NULL, 0, seqs[pairs[a].rec], err)))
                goto rollback;
        }
    }
    rc = exec(c->db, "COMMIT", err);
    if (rc == COMITY_OK)
        goto out;
rollback:
    exec(c->db, "ROLLBACK", NULL);
out:
    sqlite3_finalize(w);
    sqlite3_finalize(has);
    cy_free(pairs);
    cy_free(seqs);
    if (lax)
        pthread_mutex_unlock(&q->imu);
    else
        release(q, c);
    return rc;
}

/* Makes every transaction committed so far durable, in particular those
 * committed with CY_STORE_NOSYNC: one fdatasync(2) of the WAL file.
 *
 * Why that suffices: in WAL mode a commit is the append of its frames to
 * <db>-wal, the last one marked as a commit frame; synchronous=FULL only
 * adds an fsync of that file after them (and of the WAL header when the
 * WAL starts over).  With synchronous=NORMAL the frames are written the
 * same way, and SQLite itself fsyncs the WAL before any checkpoint copies
 * frames into the database (which it fsyncs after).  So once the WAL file
 * is synced, every frame written before, header included, survives a
 * crash, and recovery replays each committed transaction among them.  A
 * frame that was already checkpointed is in the database file, synced by
 * that checkpoint.  fsync applies to the file, not to the descriptor, so
 * our own descriptor of the WAL does what SQLite's would.
 *
 * The WAL file keeps its inode while any connection is open (SQLite
 * deletes it only when the last one closes, after a full checkpoint); the
 * inode is still compared on every call, and the file reopened if it
 * changed.  No WAL file: nothing waits in one; the database file is synced
 * in its place. */
static comity_err sq_records_sync(void *impl, comity_error *err)
{
    struct sq *q = impl;
    char wal[PATH_MAX];
    if ((size_t)snprintf(wal, sizeof wal, "%s-wal", q->path) >= sizeof wal)
        return cy_fail(err, COMITY_ERR_INTERNAL, "store: path too long");
    comity_err rc = COMITY_OK;
    pthread_mutex_lock(&q->wmu);
    struct stat at_path, at_fd;
    bool there = stat(wal, &at_path) == 0;
    if (q->walfd >= 0 && (!there || fstat(q->walfd, &at_fd) != 0 ||
                          at_fd.st_ino != at_path.st_ino || at_fd.st_dev != at_path.st_dev)) {
        close(q->walfd);
        q->walfd = -1;
    }
    if (q->walfd < 0 && there)
        q->walfd = open(wal, O_RDONLY | O_CLOEXEC);
    if (q->walfd >= 0) {
        if (fdatasync(q->walfd) != 0)
            rc = cy_fail(err, COMITY_ERR_IO, "store: fdatasync %s: %s", wal, strerror(errno));
    } else {
        int fd = open(q->path, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || fdatasync(fd) != 0)
            rc = cy_fail(err, COMITY_ERR_IO, "store: syncing %s: %s", q->path, strerror(errno));
        if (fd >= 0)
            close(fd);
    }
    pthread_mutex_unlock(&q->wmu);
    return rc;
}

/* Readies the store for record intake: opens the intake connection and
 * gives the WAL file room for WAL_ROOM_FRAMES frames, written as zeros.
 *
 * Why: a commit that appends to the WAL grows the file, so the fdatasync
 * that makes it durable (sq_records_sync) must also write the new size and
 * allocate blocks; one that overwrites blocks already written has only the
 * data to flush (measured here: 64 KiB write+fdatasync p50 146 us
 * overwriting, 221 us appending).  SQLite reuses the WAL from its start
 * after each complete checkpoint and never shrinks it (no
 * journal_size_limit is set), so only the first lap would append:
 * PostgreSQL zero-fills its WAL segments for the same reason.
 *
 * Safe: the zeros go past the file's end only, while this connection holds
 * the write lock (BEGIN IMMEDIATE), so no frame is being written; a zero
 * frame never passes the WAL's salt and checksum test, so recovery stops
 * at the last real commit as before.  SQLite deletes the file when the
 * last connection closes; the next serve fills it again. */
static comity_err sq_records_prepare(void *impl, comity_error *err)
{
    struct sq *q = impl;
    comity_err arc;
    struct conn *c = intake_acquire(q, &arc, err);
    if (!c)
        return arc;
    char wal[PATH_MAX];
    int page = 0, fd = -1;
    uint8_t *zero = NULL;
    comity_err rc = (size_t)snprintf(wal, sizeof wal, "%s-wal", q->path) >= sizeof wal
                        ? cy_fail(err, COMITY_ERR_INTERNAL, "store: path too long")
                        : exec(c->db, "BEGIN IMMEDIATE", err);
    if (rc) {
        pthread_mutex_unlock(&q->imu);
        return rc;
    }
    sqlite3_stmt *st = prep(c, "PRAGMA page_size", err);
    if (st && sqlite3_step(st) == SQLITE_ROW)
        page = sqlite3_column_int(st, 0);
    if (st)
        sqlite3_reset(st);
    struct stat sb;
    const size_t chunk = 1u << 20;
    if (page <= 0)
        rc = cy_fail(err, COMITY_ERR_DB, "store: cannot read the page size");
    else if ((fd = open(wal, O_WRONLY | O_CLOEXEC)) < 0 || fstat(fd, &sb) != 0)
        rc = cy_fail(err, COMITY_ERR_IO, "store: %s: %s", wal, strerror(errno));
    else if (!(zero = cy_calloc(1, chunk)))
        rc = cy_fail(err, COMITY_ERR_NOMEM, "store: out of memory");
    off_t want = 32 + (off_t)WAL_ROOM_FRAMES * (page + 24); /* header, frames */
    for (off_t at = rc ? want : sb.st_size; at < want;) {
        size_t n = (size_t)(want - at) < chunk ? (size_t)(want - at) : chunk;
        ssize_t w = pwrite(fd, zero, n, at);
        if (w <= 0) {
            rc = cy_fail(err, COMITY_ERR_IO, "store: giving %s room: %s", wal,
                         w < 0 ? strerror(errno) : "short write");
            break;
        }
        at += w;
    }
    if (!rc && fd >= 0 && sb.st_size < want && fdatasync(fd) != 0)
        rc = cy_fail(err, COMITY_ERR_IO, "store: fdatasync %s: %s", wal, strerror(errno));
    if (fd >= 0)
        close(fd);
    cy_free(zero);
    exec(c->db, "ROLLBACK", NULL);
    pthread_mutex_unlock(&q->imu);
    return rc;
}

/* A record row from RECORD_COLS (then the envelope) starting at column
 * `at`; the strings are borrowed from the statement until its next step. */
static void read_record_at(sqlite3_stmt *st, int at, cy_record_row *r, bool env)
{
    memset(r, 0, sizeof *r);
    r->seq = sqlite3_column_int64(st, at);
    r->id = (const char *)sqlite3_column_text(st, at + 1);
    r->type = (const char *)sqlite3_column_text(st, at + 2);
    r->author = (const char *)sqlite3_column_text(st, at + 3);
    r->tlp = (const char *)sqlite3_column_text(st, at + 4);
    r->created = (const char *)sqlite3_column_text(st, at + 5);
    r->digest = (const char *)sqlite3_column_text(st, at + 6);
    r->log_index = (uint64_t)sqlite3_column_int64(st, at + 7);
    r->received_us = sqlite3_column_int64(st, at + 8);
    if (env) {
        r->envelope = (const char *)sqlite3_column_text(st, at + 9);
        r->envelope_len = (size_t)sqlite3_column_bytes(st, at + 9);
        /* the framework's walks ask for the signer and created_ms after
         * the envelope */
        if (sqlite3_column_count(st) > at + 11) {
            r->signer = (const char *)sqlite3_column_text(st, at + 10);
            r->created_ms = sqlite3_column_int64(st, at + 11);
        }
    }
}

static void read_record(sqlite3_stmt *st, cy_record_row *r, bool env)
{
    read_record_at(st, 0, r, env);
}

static comity_err sq_records_query(void *impl, const cy_record_query *qq, cy_record_cb cb,
                                   void *ctx, bool *more, comity_error *err)
{
    struct sq *q = impl;
    *more = false;
    if (!qq->visible || !filter_ok(qq->visible))
        return cy_fail(err, COMITY_ERR_USAGE, "store: a record query needs a record filter");
    /* the reader's filter is part of the query: a page counts only rows
     * the reader may see */
    cy_buf sql;
    cy_buf_init(&sql, SQL_MAX);
    comity_err rc = COMITY_OK;
    if (cy_buf_printf(&sql,
                      "SELECT " RECORD_COLS ",%s FROM records WHERE seq>:after%s%s%s%s%s AND ",
                      qq->with_envelope ? "envelope" : "NULL", qq->id ? " AND idk=:idk AND id=:id" : "",
                      qq->type ? " AND type=:type" : "", qq->author ? " AND author=:author" : "",
                      qq->to ? " AND seq IN (SELECT seq FROM record_to WHERE party=:to)" : "",
                      qq->since_ms ? " AND created_ms>=:since" : "") ||
        filter_sql(&sql, qq->visible, "records") ||
        cy_buf_puts(&sql, " ORDER BY seq LIMIT :limit")) {
        cy_buf_free(&sql);
        return cy_fail(err, COMITY_ERR_TOOBIG, "store: query too long");
    }
    struct frame f;
    rc = frame_open(&f, q, (const char *)sql.data, false, err);
    cy_buf_free(&sql);
    if (rc)
        return rc;
    sqlite3_stmt *st = f.st;
#define BIND_TEXT(name, v)                                                                   \
    if (v)                                                                                   \
        sqlite3_bind_text(st, sqlite3_bind_parameter_index(st, name), v, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":after"), qq->after_seq);
    BIND_TEXT(":id", qq->id)
    if (qq->id)
        sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":idk"), id_key(qq->id));
    BIND_TEXT(":type", qq->type)
    BIND_TEXT(":author", qq->author)
    BIND_TEXT(":to", qq->to)
#undef BIND_TEXT
    /* the filter's "?" are numbered after the parameters before them, and
     * :limit, the last, after them */
    bind_filter(st, sqlite3_bind_parameter_index(st, ":limit") - filter_params(qq->visible),
                qq->visible);
    if (qq->since_ms)
        sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":since"), qq->since_ms);
    sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":limit"), (int64_t)qq->limit + 1);
    size_t n = 0;
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == qq->limit) {
            *more = true;
            break;
        }
        n++;
        cy_record_row r;
        read_record(st, &r, qq->with_envelope);
        if (cb(&r, ctx)) {
            *more = true;
            break;
        }
    }
    return frame_done(&f, frame_check(&f, s, "querying records", err));
}

static comity_err sq_records_tail(void *impl, int64_t after_seq, cy_record_cb cb, void *ctx,
                                  comity_error *err)
{
    /* fresh: the callback may call the store again, and this runs once at
     * startup */
    struct frame f;
    comity_err rc = frame_open(&f, impl, "SELECT " RECORD_COLS " FROM records WHERE seq>?"
                                         " ORDER BY seq", true, err);
    if (rc)
        return rc;
    sqlite3_bind_int64(f.st, 1, after_seq);
    int s;
    while ((s = sqlite3_step(f.st)) == SQLITE_ROW) {
        cy_record_row r;
        read_record(f.st, &r, false);
        if (cb(&r, ctx))
            break;
    }
    return frame_done(&f, frame_check(&f, s, "reading records", err));
}

static comity_err sq_record_set_index(void *impl, int64_t seq, uint64_t log_index,
                                      comity_error *err)
{
    struct frame f;
    comity_err rc = frame_open(&f, impl, "UPDATE records SET log_index=? WHERE seq=?", false,
                               err);
    if (rc)
        return rc;
    sqlite3_bind_int64(f.st, 1, (sqlite3_int64)log_index);
    sqlite3_bind_int64(f.st, 2, seq);
    return frame_done(&f, frame_check(&f, sqlite3_step(f.st), "updating record", err));
}

static const cy_record_ops SQLITE_RECORD_OPS = {
    .find = sq_record_find,
    .find_many = sq_record_find_many,
    .witnessed = sq_record_witnessed,
    .add = sq_records_add,
    .sync = sq_records_sync,
    .prepare = sq_records_prepare,
    .query = sq_records_query,
    .tail = sq_records_tail,
    .set_index = sq_record_set_index,
};

static const struct cy_record_ops *sqlite_record_ops(void) { return &SQLITE_RECORD_OPS; }

/* ======================================================================== */
/* Framework (see store/delivered.h): the replay walks and the delivered    */
/* events.  Only this block and migration 3 touch the delivered table.      */
/* ======================================================================== */

/* Runs `sql` (one optional text parameter) and calls cb on each record row
 * with its envelope (column 9).  Not cached: the callback may call the
 * store again (on another connection).  *rows counts the rows seen. */
static comity_err walk_records(struct sq *q, const char *sql, const char *param,
                               cy_record_cb cb, void *ctx, size_t *rows, comity_error *err)
{
    struct frame f;
    *rows = 0;
    comity_err rc = frame_open(&f, q, sql, true, err);
    if (rc)
        return rc;
    if (param)
        sqlite3_bind_text(f.st, 1, param, -1, SQLITE_STATIC);
    if (param && sqlite3_bind_parameter_count(f.st) == 2) /* "idk=?2 AND id=?1" */
        sqlite3_bind_int64(f.st, 2, id_key(param));
    int s;
    while ((s = sqlite3_step(f.st)) == SQLITE_ROW) {
        cy_record_row r;
        read_record(f.st, &r, true);
        (*rows)++;
        if (cb(&r, ctx))
            break;
    }
    return frame_done(&f, frame_check(&f, s, "reading records", err));
}

static comity_err sq_fw_replay(void *impl, cy_record_cb cb, void *ctx, comity_error *err)
{
    size_t n;
    return walk_records(impl, "SELECT " RECORD_COLS ",envelope,signer,created_ms FROM records"
                              " ORDER BY seq",
                        NULL,
                        cb, ctx, &n, err);
}

static comity_err sq_fw_get(void *impl, const char *id, cy_record_cb cb, void *ctx,
                            comity_error *err)
{
    size_t n;
    comity_err rc = walk_records(impl, "SELECT " RECORD_COLS ",envelope,signer,created_ms FROM records"
                                       " WHERE idk=?2 AND id=?1",
                                 id, cb, ctx, &n, err);
    if (!rc && n == 0)
        rc = cy_fail(err, COMITY_ERR_NOTFOUND, "store: no record %s", id);
    return rc;
}

static comity_err sq_delivered_add(void *impl, const char *id, const char *party, int64_t at_ms,
                                   bool *added, comity_error *err)
{
    struct frame f;
    *added = false;
    comity_err rc = frame_open(&f, impl, "INSERT INTO delivered(id,party,at_ms) VALUES(?,?,?)"
                                         " ON CONFLICT(id,party) DO NOTHING", false, err);
    if (rc)
        return rc;
    sqlite3_bind_text(f.st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(f.st, 2, party, -1, SQLITE_STATIC);
    sqlite3_bind_int64(f.st, 3, at_ms);
    int s = sqlite3_step(f.st);
    if (s == SQLITE_DONE)
        *added = sqlite3_changes(f.c->db) > 0;
    return frame_done(&f, frame_check(&f, s, "adding delivered event", err));
}

static comity_err sq_delivered_list(void *impl, cy_delivered_cb cb, void *ctx,
                                    comity_error *err)
{
    struct frame f;
    comity_err rc = frame_open(&f, impl, "SELECT id, party, at_ms FROM delivered ORDER BY n",
                               true, err);
    if (rc)
        return rc;
    int s;
    while ((s = sqlite3_step(f.st)) == SQLITE_ROW) {
        cy_delivered_row r = {(const char *)sqlite3_column_text(f.st, 0),
                              (const char *)sqlite3_column_text(f.st, 1),
                              sqlite3_column_int64(f.st, 2)};
        if (cb(&r, ctx))
            break;
    }
    return frame_done(&f, frame_check(&f, s, "reading delivered events", err));
}

static comity_err sq_fw_times(void *impl, cy_record_cb cb, void *ctx, comity_error *err)
{
    struct frame f;
    comity_err rc = frame_open(&f, impl, "SELECT seq,type,created_ms FROM records ORDER BY seq",
                               true, err);
    if (rc)
        return rc;
    int s;
    while ((s = sqlite3_step(f.st)) == SQLITE_ROW) {
        cy_record_row r = {.seq = sqlite3_column_int64(f.st, 0),
                           .type = (const char *)sqlite3_column_text(f.st, 1),
                           .created_ms = sqlite3_column_int64(f.st, 2)};
        if (cb(&r, ctx))
            break;
    }
    return frame_done(&f, frame_check(&f, s, "reading records", err));
}

static const cy_fw_store_ops SQLITE_FW_OPS = {
    .replay = sq_fw_replay,
    .get = sq_fw_get,
    .delivered_add = sq_delivered_add,
    .delivered_list = sq_delivered_list,
    .times = sq_fw_times,
};

static const struct cy_fw_store_ops *sqlite_fw_ops(void) { return &SQLITE_FW_OPS; }

/* ======================================================================== */
/* Federation (see the last section of store.h): peers, party homes, the    */
/* federation page.  Only this block and migration 7 touch these tables.    */
/* ======================================================================== */

#define PEER_COLS "origin,url,vkey,cursor,checkpoint,pulled,added,last_ok,last_try,error"

static void read_peer(sqlite3_stmt *st, cy_peer *p)
{
    memset(p, 0, sizeof *p);
    copy_text(p->origin, sizeof p->origin, st, 0);
    copy_text(p->url, sizeof p->url, st, 1);
    copy_text(p->vkey, sizeof p->vkey, st, 2);
    p->cursor = (uint64_t)sqlite3_column_int64(st, 3);
    copy_text(p->checkpoint, sizeof p->checkpoint, st, 4);
    p->pulled = (uint64_t)sqlite3_column_int64(st, 5);
    p->added_us = sqlite3_column_int64(st, 6);
    p->last_ok_us = sqlite3_column_int64(st, 7);
    p->last_try_us = sqlite3_column_int64(st, 8);
    copy_text(p->error, sizeof p->error, st, 9);
}

static comity_err sq_peer_add(void *impl, const cy_peer *p, comity_error *err)
{
    struct frame f;
    comity_err rc = frame_open(&f, impl, "INSERT INTO peers(origin,url,vkey,added)"
                                         " VALUES(?,?,?,?)", false, err);
    if (rc)
        return rc;
    sqlite3_bind_text(f.st, 1, p->origin, -1, SQLITE_STATIC);
    sqlite3_bind_text(f.st, 2, p->url, -1, SQLITE_STATIC);
    sqlite3_bind_text(f.st, 3, p->vkey, -1, SQLITE_STATIC);
    sqlite3_bind_int64(f.st, 4, p->added_us);
    int s = sqlite3_step(f.st);
    if (s == SQLITE_CONSTRAINT)
        rc = cy_fail(err, COMITY_ERR_EXISTS, "store: a peer %s exists", p->origin);
    else
        rc = frame_check(&f, s, "adding a peer", err);
    return frame_done(&f, rc);
}

static comity_err sq_peer_get(void *impl, const char *origin, cy_peer *out, comity_error *err)
{
    struct frame f;
    comity_err rc = frame_open(&f, impl, "SELECT " PEER_COLS " FROM peers WHERE origin=?",
                               false, err);
    if (rc)
        return rc;
    sqlite3_bind_text(f.st, 1, origin, -1, SQLITE_STATIC);
    int s = sqlite3_step(f.st);
    if (s == SQLITE_ROW)
        read_peer(f.st, out);
    else if (s == SQLITE_DONE)
        rc = cy_fail(err, COMITY_ERR_NOTFOUND, "store: no peer %s", origin);
    else
        rc = frame_check(&f, s, "reading a peer", err);
    return frame_done(&f, rc);
}

static comity_err sq_peer_list(void *impl, cy_peer_cb cb, void *ctx, comity_error *err)
{
    struct frame f;
    comity_err rc = frame_open(&f, impl, "SELECT " PEER_COLS " FROM peers ORDER BY origin",
                               false, err);
    if (rc)
        return rc;
    int s;
    while ((s = sqlite3_step(f.st)) == SQLITE_ROW) {
        cy_peer p;
        read_peer(f.st, &p);
        if (cb(&p, ctx))
            break;
    }
    return frame_done(&f, frame_check(&f, s, "listing peers", err));
}

/* Runs a one-statement write on the peer `origin` (its last parameter);
 * NOTFOUND when no row changed. */
static comity_err peer_write(struct frame *f, const char *origin, int at, const char *what,
                             comity_error *err)
{
    sqlite3_bind_text(f->st, at, origin, -1, SQLITE_STATIC);
    comity_err rc = frame_check(f, sqlite3_step(f->st), what, err);
    if (!rc && sqlite3_changes(f->c->db) == 0)
        rc = cy_fail(err, COMITY_ERR_NOTFOUND, "store: no peer %s", origin);
    return frame_done(f, rc);
}

static comity_err sq_peer_remove(void *impl, const char *origin, comity_error *err)
{
    struct frame f;
    comity_err rc = frame_open(&f, impl, "DELETE FROM peers WHERE origin=?", false, err);
    return rc ? rc : peer_write(&f, origin, 1, "removing a peer", err);
}

static comity_err sq_peer_advance(void *impl, const char *origin, int64_t added_us,
                                  uint64_t cursor, const char *checkpoint, uint64_t pulled,
                                  int64_t at_us, comity_error *err)
{
    struct frame f;
    comity_err rc = frame_open(&f, impl, "UPDATE peers SET cursor=?, checkpoint=coalesce(?,"
                                         " checkpoint), pulled=pulled+?, last_ok=?, last_try=?,"
                                         " error='' WHERE (?6=0 OR added=?6) AND origin=?7",
                               false, err);
    if (rc)
        return rc;
    sqlite3_bind_int64(f.st, 1, (sqlite3_int64)cursor);
    if (checkpoint)
        sqlite3_bind_text(f.st, 2, checkpoint, -1, SQLITE_STATIC);
    sqlite3_bind_int64(f.st, 3, (sqlite3_int64)pulled);
    sqlite3_bind_int64(f.st, 4, at_us);
    sqlite3_bind_int64(f.st, 5, at_us);
    sqlite3_bind_int64(f.st, 6, added_us);
    return peer_write(&f, origin, 7, "moving a peer's cursor", err);
}

static comity_err sq_peer_note(void *impl, const char *origin, int64_t added_us,
                               const char *error, int64_t at_us, comity_error *err)
{
    struct frame f;
    comity_err rc = frame_open(&f, impl, "UPDATE peers SET error=?, last_try=?"
                                         " WHERE (?3=0 OR added=?3) AND origin=?4",
                               false, err);
    if (rc)
        return rc;
    sqlite3_bind_text(f.st, 1, error, (int)strnlen(error, CY_PEER_ERR_MAX - 1),
                      SQLITE_STATIC);
    sqlite3_bind_int64(f.st, 2, at_us);
    sqlite3_bind_int64(f.st, 3, added_us);
    return peer_write(&f, origin, 4, "noting a peer's error", err);
}

static comity_err sq_home_get(void *impl, const char *party, char origin[CY_PEER_ORIGIN_MAX + 1],
                              comity_error *err)
{
    struct frame f;
    comity_err rc = frame_open(&f, impl, "SELECT origin FROM party_home WHERE party=?", false,
                               err);
    if (rc)
        return rc;
    sqlite3_bind_text(f.st, 1, party, -1, SQLITE_STATIC);
    int s = sqlite3_step(f.st);
    if (s == SQLITE_ROW)
        copy_text(origin, CY_PEER_ORIGIN_MAX + 1, f.st, 0);
    else if (s == SQLITE_DONE)
        rc = cy_fail(err, COMITY_ERR_NOTFOUND, "store: %s has no home row", party);
    else
        rc = frame_check(&f, s, "reading a party's home", err);
    return frame_done(&f, rc);
}

static comity_err sq_home_set(void *impl, const char *party, const char *origin,
                              comity_error *err)
{
    struct frame f;
    comity_err rc = frame_open(&f, impl, "INSERT INTO party_home(party,origin) VALUES(?,?)"
                                         " ON CONFLICT(party) DO NOTHING", false, err);
    if (rc)
        return rc;
    sqlite3_bind_text(f.st, 1, party, -1, SQLITE_STATIC);
    sqlite3_bind_text(f.st, 2, origin, -1, SQLITE_STATIC);
    rc = frame_check(&f, sqlite3_step(f.st), "setting a party's home", err);
    bool added = !rc && sqlite3_changes(f.c->db) > 0;
    frame_done(&f, rc);
    if (rc || added)
        return rc;
    char have[CY_PEER_ORIGIN_MAX + 1];
    if ((rc = sq_home_get(impl, party, have, err)))
        return rc;
    if (strcmp(have, origin) != 0)
        return cy_fail(err, COMITY_ERR_EXISTS, "store: %s is homed at %s already", party, have);
    return COMITY_OK;
}

static comity_err sq_home_move(void *impl, const char *party, const char *from, const char *to,
                               comity_error *err)
{
    struct frame f;
    comity_err rc = frame_open(&f, impl, "UPDATE party_home SET origin=? WHERE party=? AND "
                                         "origin=?", false, err);
    if (rc)
        return rc;
    sqlite3_bind_text(f.st, 1, to, -1, SQLITE_STATIC);
    sqlite3_bind_text(f.st, 2, party, -1, SQLITE_STATIC);
    sqlite3_bind_text(f.st, 3, from, -1, SQLITE_STATIC);
    rc = frame_check(&f, sqlite3_step(f.st), "moving a party's home", err);
    if (!rc && sqlite3_changes(f.c->db) == 0)
        rc = cy_fail(err, COMITY_ERR_NOTFOUND, "store: %s is not homed at %s", party, from);
    return frame_done(&f, rc);
}

static comity_err sq_home_list(void *impl, const char *origin, cy_name_cb cb, void *ctx,
                               comity_error *err)
{
    struct frame f;
    comity_err rc = frame_open(&f, impl, "SELECT party FROM party_home WHERE origin=?"
                                         " ORDER BY party", false, err);
    if (rc)
        return rc;
    sqlite3_bind_text(f.st, 1, origin, -1, SQLITE_STATIC);
    int s;
    while ((s = sqlite3_step(f.st)) == SQLITE_ROW)
        if (cb((const char *)sqlite3_column_text(f.st, 0), ctx))
            break;
    return frame_done(&f, frame_check(&f, s, "listing a peer's parties", err));
}

static comity_err sq_records_last(void *impl, uint64_t *log_index, int64_t *received_us,
                                  bool *found, comity_error *err)
{
    struct frame f;
    *found = false;
    comity_err rc = frame_open(&f, impl, "SELECT log_index, received FROM records"
                                         " ORDER BY log_index DESC LIMIT 1", false, err);
    if (rc)
        return rc;
    int s = sqlite3_step(f.st);
    if (s == SQLITE_ROW) {
        *found = true;
        *log_index = (uint64_t)sqlite3_column_int64(f.st, 0);
        *received_us = sqlite3_column_int64(f.st, 1);
    }
    return frame_done(&f, frame_check(&f, s, "reading the last record", err));
}

/* The federation page: the filter (cy_peer_filter) compiled into the
 * query, so that a page counts only what the peer may see.  The statement
 * text depends only on the filter's sizes, so it is cached like others. */
static comity_err sq_fed_page(void *impl, const cy_fed_query *q, cy_record_cb cb, void *ctx,
                              bool *more, comity_error *err)
{
    *more = false;
    const cy_peer_filter *v = q->visible;
    if (!v || v->ntlps > CY_FILTER_TLPS_MAX || v->nto > CY_PEER_FILTER_MAX)
        return cy_fail(err, COMITY_ERR_USAGE, "store: a federation page needs a peer filter "
                                              "within its caps");
    if (q->to <= q->from || q->limit == 0)
        return COMITY_OK;
    cy_buf sql;
    cy_buf_init(&sql, SQL_MAX * 4);
    comity_err e = cy_buf_puts(&sql, "SELECT " RECORD_COLS ",envelope FROM records r"
                                     " WHERE r.log_index>=? AND r.log_index<?"
                                     " AND NOT EXISTS(SELECT 1 FROM party_home h"
                                     " WHERE h.party=r.author) AND (0");
    if (v->ntlps) {
        e |= cy_buf_puts(&sql, " OR r.tlp IN (");
        for (size_t i = 0; i < v->ntlps; i++)
            e |= cy_buf_puts(&sql, i ? ",?" : "?");
        e |= cy_buf_puts(&sql, ")");
    }
    if (v->nto) {
        e |= cy_buf_puts(&sql, " OR EXISTS(SELECT 1 FROM record_to t WHERE t.seq=r.seq"
                               " AND t.party IN (");
        for (size_t i = 0; i < v->nto; i++)
            e |= cy_buf_puts(&sql, i ? ",?" : "?");
        e |= cy_buf_puts(&sql, "))");
    }
    e |= cy_buf_puts(&sql, ") ORDER BY r.log_index LIMIT ?");
    if (e) {
        cy_buf_free(&sql);
        return cy_fail(err, COMITY_ERR_TOOBIG, "store: federation query too long");
    }
    struct frame f;
    comity_err rc = frame_open(&f, impl, (const char *)sql.data, false, err);
    cy_buf_free(&sql);
    if (rc)
        return rc;
    int k = 1;
    sqlite3_bind_int64(f.st, k++, (sqlite3_int64)q->from);
    sqlite3_bind_int64(f.st, k++, (sqlite3_int64)q->to);
    for (size_t i = 0; i < v->ntlps; i++)
        sqlite3_bind_text(f.st, k++, v->tlps[i], -1, SQLITE_STATIC);
    for (size_t i = 0; i < v->nto; i++)
        sqlite3_bind_text(f.st, k++, v->to[i], -1, SQLITE_STATIC);
    sqlite3_bind_int64(f.st, k, (sqlite3_int64)q->limit + 1);
    size_t n = 0;
    int s;
    while ((s = sqlite3_step(f.st)) == SQLITE_ROW) {
        if (n == q->limit) {
            *more = true;
            break;
        }
        n++;
        cy_record_row r;
        read_record(f.st, &r, true);
        if (cb(&r, ctx)) {
            *more = true;
            break;
        }
    }
    return frame_done(&f, frame_check(&f, s, "reading a federation page", err));
}

static const cy_peer_ops SQLITE_PEER_OPS = {
    .add = sq_peer_add,
    .get = sq_peer_get,
    .list = sq_peer_list,
    .remove = sq_peer_remove,
    .advance = sq_peer_advance,
    .note = sq_peer_note,
    .home_set = sq_home_set,
    .home_get = sq_home_get,
    .home_list = sq_home_list,
    .home_move = sq_home_move,
    .records_last = sq_records_last,
    .fed_page = sq_fed_page,
};

static const struct cy_peer_ops *sqlite_peer_ops(void) { return &SQLITE_PEER_OPS; }
