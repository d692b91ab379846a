/*
 * log.c: a C2SP transparency log on disk, with one sequencer.
 *
 * Layout of a log directory (everything but log.* is what a static web
 * server or CDN serves as the log's URL prefix):
 *
 *   checkpoint             the latest signed checkpoint (replaced atomically)
 *   tile/<L>/<N>[.p/<W>]   hash tiles, immutable once written
 *   tile/entries/<N>[.p/W] entry bundles, immutable once written
 *   log.db                 SQLite: origin and key, the integrated size, the
 *                          last checkpoint, every checkpoint's root, every
 *                          cosigned checkpoint with its cosignatures, and
 *                          the entries that are durable but not yet in tiles
 *                          (a reader opens it read-only for the cosigned
 *                          checkpoints alone: cy_log_prove_accepted)
 *   log.lock               flock(2)ed by the one writer
 *
 * Life of an entry.  comity_log_append puts it in the staging buffer and
 * gives it the next index.  A commit moves everything staged into one row of
 * the `pending` table in one SQLite transaction (WAL, synchronous=FULL: one
 * fsync for the whole batch); from then on the entry is durable at its index.
 * (Opened COMITY_LOG_REPLAYABLE, there is no such transaction: the entry
 * waits for its integration in memory, and after a crash of the process or
 * the machine the caller appends it again, which keeps every index since
 * the entries lost are the newest ones, and no checkpoint covered them.
 * Such a caller makes its entries durable its own way, e.g. as rows of its
 * database; once it sets a horizon (cy_log_set_durable), the implicit
 * integrations, the sequencer's, the one PEND_CAP forces and the one at
 * close, cover only the entries below the horizon, which it moves once
 * its own copies of them are durable, so that a crash never keeps an entry
 * it loses its copy of; comity_log_checkpoint, its explicit request,
 * still covers every entry.)
 * An integration hashes the durable entries into the tiles: every new file
 * is written under a temporary name, all are flushed with one syncfs(2),
 * renamed into place and their directories fsync'ed; then one transaction
 * records the new size and checkpoint and drops the integrated rows; then
 * the checkpoint file is replaced.  A crash anywhere leaves either the old
 * size with the entries still pending (integration is deterministic, so
 * redoing it rewrites identical files) or the new size with every tile in
 * place; reopening finishes the job.  A tile file that exists with other
 * content than the sequencer computes is never overwritten: that is a second
 * writer or corruption, and the sequencer stops.  (Opened REPLAYABLE, the
 * entries past the committed size may come back other than they were, so
 * a tile left there by an interrupted integration is replaced: fb_write.)
 *
 * Threads.  `mu` guards the staging buffer, the counters, the horizon and
 * the published checkpoint; `cmt` serialises commits (so batches reach SQLite in index
 * order); `seq` serialises integrations and guards the tree state; `dbmu`
 * the SQLite handle; `pmu` the durable-but-not-integrated entries.  Lock
 * order: cmt, seq, then the leaf locks mu, dbmu, pmu.  Commits go on while
 * an integration hashes and writes tiles.  Appends from any number of
 * threads share commits: a durable append takes `cmt` and commits whatever
 * is staged, so the appenders queued behind it find their entries durable
 * (group commit).  After an I/O error the handle refuses further work;
 * reopening recovers.
 *
 * Proofs read perfect subtrees from tiles through a cache of whole tiles with
 * their internal nodes (tiles never change, partial ones included), so a
 * proof costs lookups, not hashing.
 */
#define _GNU_SOURCE /* syncfs */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "sqlite/db.h"
#include "tlog/tlog.h"

#define STAGE_CAP (4u << 20)       /* staged bytes before appends wait */
#define PEND_CAP (4u << 20)         /* durable bytes that force integration */
#define CACHE_SLOTS 8192           /* tiles cached (at most ~134 MB) */
#define CACHE_PROBE 4
/* Half a second between the starts of integrations, so that a checkpoint
 * appears at least every second even when an integration takes a while. */
#define DEFAULT_INTERVAL_MS 500
#define MEMO_SLOTS 256             /* right-edge range hashes remembered */

struct comity_log {
    char *dir;
    int dirfd;
    int lockfd;
    int flags;
    const comity_nkey *key;
    char origin[CY_ORIGIN_MAX + 1];

    pthread_mutex_t mu;
    pthread_cond_t work; /* wakes the sequencer thread */
    pthread_cond_t done; /* a commit finished (or failed) */
    uint64_t next;       /* next index to give */
    cy_buf staged;       /* uint16-prefixed entries [staged_first, next) */
    uint64_t staged_first;
    uint64_t durable;    /* entries below are durable */
    bool pend_waiting;   /* durable entries await integration */
    bool hold;           /* REPLAYABLE with a horizon (cy_log_set_durable) */
    uint64_t horizon;    /* with hold: implicit integrations stop below it */
    bool leading;        /* an appender is committing for the others */
    bool committing;     /* a commit of staged entries is under way */
    uint64_t n_commits;  /* statistics, for benchmarks */
    uint64_t n_checkpoints;
    comity_error fatal;  /* sticky sequencer failure */
    bool stop;
    bool thread_running;
    pthread_t thread;
    unsigned interval_ms;
    char *cp_note;       /* the published checkpoint */
    size_t cp_len;
    uint64_t cp_size;
    uint8_t cp_root[CY_HASH];
    ino_t cp_ino;        /* readers: the checkpoint file last read */
    struct timespec cp_mtime;

    pthread_mutex_t cmt;  /* one commit at a time, in index order */
    pthread_mutex_t seq;  /* one integration at a time; the tree state */
    pthread_mutex_t dbmu; /* the SQLite handle */
    pthread_mutex_t pmu;  /* pend, pend_first, pend_n */
    sqlite3 *db;
    sqlite3 *rdb;         /* a reader's read-only log.db (its kept cosigned
                           * checkpoints), opened when first asked; under dbmu */
    bool rdb_tried;
    uint64_t size;                   /* integrated */
    uint8_t (*cur)[CY_TILE_WIDTH][CY_HASH]; /* right edge tile of each level */
    unsigned curw[CY_TILE_LEVELS];
    cy_buf bundle;                   /* entries of the level-0 right edge */
    cy_buf pend;                     /* durable, not integrated */
    uint64_t pend_first, pend_n;
    int64_t last_cp_ms;

    pthread_mutex_t bmu;  /* the last bundle read (bundles never change) */
    uint64_t b_index;
    unsigned b_width;
    uint8_t *b_data;
    size_t b_len;
    pthread_rwlock_t cmu; /* the tile cache and the range memo */
    cy_tile **cache;
    struct memo_slot {
        uint64_t a, b; /* b == 0: empty */
        uint8_t h[CY_HASH];
    } memo[MEMO_SLOTS];
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint64_t shr(uint64_t x, unsigned s) { return s >= 64 ? 0 : x >> s; }

/* ---- SQLite ------------------------------------------------------------- */

static comity_err db_fail(sqlite3 *db, comity_error *err, const char *what)
{
    return cy_fail(err, COMITY_ERR_DB, "log.db: %s: %s", what,
                   db ? sqlite3_errmsg(db) : "cannot open");
}

static comity_err db_exec(sqlite3 *db, const char *sql, comity_error *err)
{
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return db_fail(db, err, sql);
    return COMITY_OK;
}

/* log.db's schema (sqlite/db.h): LOG_MIGRATIONS[k] takes it from version k
 * to k+1.  Files made before it was versioned hold version 1 (the table
 * `config` marks them). */
static const char *const LOG_MIGRATIONS[] = {
    /* 0 -> 1 */
    "CREATE TABLE config(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE state(id INTEGER PRIMARY KEY CHECK (id = 1),"
    " size INTEGER NOT NULL, checkpoint TEXT NOT NULL);"
    "CREATE TABLE pending(first INTEGER PRIMARY KEY, n INTEGER NOT NULL,"
    " data BLOB NOT NULL);"
    "CREATE TABLE checkpoints(size INTEGER PRIMARY KEY, root BLOB NOT NULL);",
    /* 1 -> 2: every checkpoint that got cosignatures, with them (the
     * federation's lower bound on `created`); kept from the size the log
     * had then (a log made now: 0) */
    "CREATE TABLE cosigned(size INTEGER PRIMARY KEY, checkpoint TEXT NOT NULL);"
    "INSERT INTO config(key, value) VALUES('cosigned_since',"
    " CAST(COALESCE((SELECT size FROM state), 0) AS TEXT));",
};
static const cy_sqlite_schema LOG_SCHEMA = {"log.db", LOG_MIGRATIONS,
                                            CY_ARRAY_LEN(LOG_MIGRATIONS), "config"};

/* Opens (with create: makes) dir/log.db at the current schema version.
 * OUT *out: sqlite3_close it. */
static comity_err db_open(const char *dir, bool create, sqlite3 **out, comity_error *err)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/log.db", dir);
    if (!create && access(path, F_OK) != 0)
        return cy_fail(err, COMITY_ERR_NOTFOUND,
                       "%s: no log here (create one with 'comity log init')", dir);
    sqlite3 *db = NULL;
    cy_sqlite_opts o = {.create = create, .busy_ms = 5000};
    comity_err rc = cy_sqlite_open(path, &o, &db, err);
    if (!rc && (rc = cy_sqlite_migrate(db, &LOG_SCHEMA, NULL, err)))
        sqlite3_close(db);
    if (!rc)
        *out = db;
    return rc;
}

static comity_err db_config(sqlite3 *db, const char *key, char **val, comity_error *err)
{
    sqlite3_stmt *st;
    *val = NULL;
    if (sqlite3_prepare_v2(db, "SELECT value FROM config WHERE key = ?", -1, &st, NULL))
        return db_fail(db, err, "reading config");
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    comity_err rc = COMITY_OK;
    if (sqlite3_step(st) == SQLITE_ROW) {
        *val = cy_strdup((const char *)sqlite3_column_text(st, 0));
        if (!*val)
            rc = cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    } else {
        rc = cy_fail(err, COMITY_ERR_NOTFOUND, "log.db: no '%s' in config", key);
    }
    sqlite3_finalize(st);
    return rc;
}

/* ---- files -------------------------------------------------------------- */

/* mkdir -p of the directories of `rel` under dirfd. */
static comity_err mkdirs_for(int dirfd, const char *rel, comity_error *err)
{
    char p[CY_TILE_PATH_MAX + 16];
    snprintf(p, sizeof p, "%s", rel);
    for (char *s = strchr(p, '/'); s; s = strchr(s + 1, '/')) {
        *s = 0;
        if (mkdirat(dirfd, p, 0755) != 0 && errno != EEXIST)
            return cy_fail(err, COMITY_ERR_IO, "mkdir %s: %s", p, strerror(errno));
        *s = '/';
    }
    return COMITY_OK;
}

static comity_err read_at(int dirfd, const char *rel, size_t cap, uint8_t **out,
                          size_t *len, comity_error *err)
{
    int fd = openat(dirfd, rel, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return cy_fail(err, errno == ENOENT ? COMITY_ERR_NOTFOUND : COMITY_ERR_IO,
                       "%s: %s", rel, strerror(errno));
    cy_buf b;
    cy_buf_init(&b, cap);
    comity_err rc = COMITY_OK;
    uint8_t chunk[8192];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = cy_fail(err, COMITY_ERR_IO, "reading %s: %s", rel, strerror(errno));
            break;
        }
        if (n == 0)
            break;
        if ((rc = cy_buf_append(&b, chunk, (size_t)n)) != COMITY_OK) {
            rc = cy_fail(err, rc, "%s: larger than %zu bytes", rel, cap);
            break;
        }
    }
    close(fd);
    if (rc) {
        cy_buf_free(&b);
        return rc;
    }
    *out = cy_buf_detach(&b, len);
    return *out ? COMITY_OK : cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
}

/* Reads a tile file that must hold exactly `width` hashes into out. */
static comity_err read_tile(int dirfd, unsigned level, uint64_t n, unsigned width,
                            uint8_t *out, comity_error *err)
{
    char path[CY_TILE_PATH_MAX];
    cy_tile_path(path, (int)level, n, width);
    int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return cy_fail(err, errno == ENOENT ? COMITY_ERR_NOTFOUND : COMITY_ERR_IO,
                       "%s: %s", path, strerror(errno));
    size_t want = (size_t)width * CY_HASH, got = 0;
    uint8_t extra;
    while (got < want) {
        ssize_t r = read(fd, out + got, want - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    ssize_t more = got == want ? read(fd, &extra, 1) : 0;
    close(fd);
    if (got != want || more > 0)
        return cy_fail(err, COMITY_ERR_INVALID, "%s: %s bytes, want %zu (truncated or corrupt tile)",
                       path, more > 0 ? "more than" : "fewer", want);
    return COMITY_OK;
}

/* A set of new files written under temporary names, made durable together. */
struct fbatch {
    char (*path)[CY_TILE_PATH_MAX];
    bool *there; /* already in place (a redone integration): fsync only */
    size_t n, cap;
};

static void fb_free(struct fbatch *fb)
{
    cy_free(fb->path);
    cy_free(fb->there);
    fb->path = NULL;
    fb->there = NULL;
    fb->n = fb->cap = 0;
}

static comity_err fb_add(struct fbatch *fb, const char *path, bool there, comity_error *err)
{
    if (fb->n == fb->cap) {
        size_t nc = fb->cap ? fb->cap * 2 : 16;
        void *p = cy_realloc(fb->path, nc * sizeof *fb->path);
        if (!p)
            return cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
        fb->path = p;
        p = cy_realloc(fb->there, nc * sizeof *fb->there);
        if (!p)
            return cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
        fb->there = p;
        fb->cap = nc;
    }
    snprintf(fb->path[fb->n], CY_TILE_PATH_MAX, "%s", path);
    fb->there[fb->n++] = there;
    return COMITY_OK;
}

static comity_err fb_write(comity_log *log, struct fbatch *fb, const char *path,
                           const void *data, size_t len, comity_error *err)
{
    /* Immutable files: an existing one must already say the same thing.
     * (It was left by an integration a crash interrupted; it is made
     * durable again below, in case its rename never reached the disk.) */
    struct stat st;
    if (fstatat(log->dirfd, path, &st, 0) == 0) {
        uint8_t *old;
        size_t olen;
        comity_err rc = read_at(log->dirfd, path, len + 1, &old, &olen, err);
        if (rc && rc != COMITY_ERR_TOOBIG)
            return rc;
        bool same = !rc && olen == len && memcmp(old, data, len) == 0;
        if (!rc)
            cy_free(old);
        /* Opened REPLAYABLE, the entries past the committed size are not
         * durable here: a crash after an integration's renames but before
         * its commit leaves tiles holding entries the crash then took, and
         * the caller appends others at those indexes (the node re-logs
         * only the records it stored).  Such a tile holds an index at or
         * past log->size (everything below is committed and rewrites the
         * same), was never in a published checkpoint (published only after
         * the commit), and the lock keeps out a second writer: it is
         * replaced.  Otherwise every index a tile holds is durable, and
         * other content is damage or another writer. */
        if (!same && !(log->flags & COMITY_LOG_REPLAYABLE))
            return cy_fail(err, COMITY_ERR_CONFLICT,
                           "%s exists with other content: another writer, or the "
                           "log was altered; refusing to overwrite", path);
        if (same)
            return fb_add(fb, path, true, err);
    }
    comity_err rc = mkdirs_for(log->dirfd, path, err);
    if (rc)
        return rc;
    char tmp[CY_TILE_PATH_MAX + 8];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = openat(log->dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return cy_fail(err, COMITY_ERR_IO, "%s: %s", tmp, strerror(errno));
    const uint8_t *p = data;
    size_t left = len;
    while (left) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int e = errno;
            close(fd);
            return cy_fail(err, COMITY_ERR_IO, "writing %s: %s", tmp, strerror(e));
        }
        p += w;
        left -= (size_t)w;
    }
    if (close(fd) != 0)
        return cy_fail(err, COMITY_ERR_IO, "writing %s: %s", tmp, strerror(errno));
    return fb_add(fb, path, false, err);
}

static comity_err fsync_rel(int dirfd, const char *rel, int oflags, comity_error *err)
{
    int fd = openat(dirfd, rel, O_RDONLY | O_CLOEXEC | oflags);
    if (fd < 0)
        return cy_fail(err, COMITY_ERR_IO, "%s: %s", rel, strerror(errno));
    int rc = fsync(fd);
    int e = errno;
    close(fd);
    if (rc != 0)
        return cy_fail(err, COMITY_ERR_IO, "fsync %s: %s", rel, strerror(e));
    return COMITY_OK;
}

/* Data of every temporary file to disk (one syncfs), then the renames, then
 * each directory that gained a name. */
static comity_err fb_commit(comity_log *log, struct fbatch *fb, comity_error *err)
{
    comity_err rc = COMITY_OK;
    if (fb->n == 0)
        return COMITY_OK;
    char tmp[CY_TILE_PATH_MAX + 8];
    if (syncfs(log->dirfd) != 0) {
        for (size_t i = 0; i < fb->n && !rc; i++) {
            snprintf(tmp, sizeof tmp, "%s%s", fb->path[i], fb->there[i] ? "" : ".tmp");
            rc = fsync_rel(log->dirfd, tmp, 0, err);
        }
        if (rc)
            return rc;
    }
    for (size_t i = 0; i < fb->n; i++) {
        if (fb->there[i])
            continue;
        snprintf(tmp, sizeof tmp, "%s.tmp", fb->path[i]);
        if (renameat(log->dirfd, tmp, log->dirfd, fb->path[i]) != 0)
            return cy_fail(err, COMITY_ERR_IO, "rename %s: %s", fb->path[i], strerror(errno));
    }
    /* every directory that gained a name: the parents of the new files and
     * their ancestors, which may have gained new directories */
    char done[64][CY_TILE_PATH_MAX];
    size_t nd = 0;
    for (size_t i = 0; i < fb->n && !rc; i++) {
        char d[CY_TILE_PATH_MAX];
        snprintf(d, sizeof d, "%s", fb->path[i]);
        for (char *s = strrchr(d, '/'); s && !rc; s = strrchr(d, '/')) {
            *s = 0;
            bool seen = false;
            for (size_t j = 0; j < nd && !seen; j++)
                seen = strcmp(done[j], d) == 0;
            if (seen)
                break;
            rc = fsync_rel(log->dirfd, d, O_DIRECTORY, err);
            if (nd < 64)
                snprintf(done[nd++], CY_TILE_PATH_MAX, "%s", d);
        }
    }
    if (!rc)
        rc = fsync_rel(log->dirfd, ".", O_DIRECTORY, err);
    return rc;
}

/* ---- tile cache and the node source for proofs --------------------------- */

struct source {
    comity_log *log;
    uint64_t size; /* the published tree whose tiles are on disk */
};


static size_t slot_of(unsigned level, uint64_t index, unsigned width)
{
    uint64_t h = (index * UINT64_C(0x9E3779B97F4A7C15)) ^ ((uint64_t)level << 56) ^
                 ((uint64_t)width << 40);
    h ^= h >> 29;
    return (size_t)(h % CACHE_SLOTS);
}

static bool cache_get(comity_log *log, unsigned level, uint64_t index, unsigned width,
                      unsigned node, uint8_t out[CY_HASH])
{
    bool hit = false;
    size_t s = slot_of(level, index, width);
    pthread_rwlock_rdlock(&log->cmu);
    for (unsigned i = 0; i < CACHE_PROBE; i++) {
        cy_tile *t = log->cache[(s + i) % CACHE_SLOTS];
        if (t && t->level == level && t->index == index && t->width == width) {
            memcpy(out, t->nodes[node], CY_HASH);
            hit = true;
            break;
        }
    }
    pthread_rwlock_unlock(&log->cmu);
    return hit;
}

/* Takes ownership of t. */
static void cache_put(comity_log *log, cy_tile *t)
{
    size_t s = slot_of(t->level, t->index, t->width);
    pthread_rwlock_wrlock(&log->cmu);
    size_t victim = s;
    for (unsigned i = 0; i < CACHE_PROBE; i++) {
        size_t j = (s + i) % CACHE_SLOTS;
        cy_tile *o = log->cache[j];
        if (!o) {
            victim = j;
            break;
        }
        if (o->level == t->level && o->index == t->index && o->width == t->width) {
            cy_free(t);
            pthread_rwlock_unlock(&log->cmu);
            return;
        }
        if (i == CACHE_PROBE - 1)
            victim = (s + (t->index & (CACHE_PROBE - 1))) % CACHE_SLOTS;
    }
    cy_free(log->cache[victim]);
    log->cache[victim] = t;
    pthread_rwlock_unlock(&log->cmu);
}

/* MTH(D[a:b]) never changes once the entries exist, so the memo needs no
 * tree size in its key. */
static size_t memo_slot(uint64_t a, uint64_t b)
{
    uint64_t h = a * UINT64_C(0x9E3779B97F4A7C15) ^ b * UINT64_C(0xC2B2AE3D27D4EB4F);
    return (size_t)((h ^ (h >> 31)) % MEMO_SLOTS);
}

static bool memo_get(void *ctx, uint64_t a, uint64_t b, uint8_t out[CY_HASH])
{
    comity_log *log = ((struct source *)ctx)->log;
    const struct memo_slot *m = &log->memo[memo_slot(a, b)];
    bool hit = false;
    pthread_rwlock_rdlock(&log->cmu);
    if (m->b == b && m->a == a) {
        memcpy(out, m->h, CY_HASH);
        hit = true;
    }
    pthread_rwlock_unlock(&log->cmu);
    return hit;
}

static void memo_put(void *ctx, uint64_t a, uint64_t b, const uint8_t h[CY_HASH])
{
    comity_log *log = ((struct source *)ctx)->log;
    struct memo_slot *m = &log->memo[memo_slot(a, b)];
    pthread_rwlock_wrlock(&log->cmu);
    m->a = a;
    m->b = b;
    memcpy(m->h, h, CY_HASH);
    pthread_rwlock_unlock(&log->cmu);
}

static const cy_tlog_memo source_memo = {memo_get, memo_put};

static comity_err source_node(void *ctx, unsigned h, uint64_t k, uint8_t out[CY_HASH],
                              comity_error *err)
{
    struct source *src = ctx;
    comity_log *log = src->log;
    unsigned level = h / 8, r = h % 8;
    uint64_t idx = k << r, t = idx >> 8;
    unsigned pos = (unsigned)(idx & 0xff);
    unsigned width = shr(src->size, 8 * (level + 1)) > t
                         ? CY_TILE_WIDTH
                         : cy_tile_partial_width(src->size, level);
    if (pos + (1u << r) > width)
        return cy_fail(err, COMITY_ERR_INTERNAL, "tlog: node (%u, %llu) outside tree %llu", h,
                       (unsigned long long)k, (unsigned long long)src->size);
    unsigned node = cy_tile_node_off(r) + (pos >> r);
    if (cache_get(log, level, t, width, node, out))
        return COMITY_OK;
    cy_tile *tile = cy_malloc(sizeof *tile);
    if (!tile)
        return cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    tile->level = level;
    tile->index = t;
    tile->width = width;
    comity_err rc = read_tile(log->dirfd, level, t, width, &tile->nodes[0][0], err);
    if (rc) {
        cy_free(tile);
        return rc;
    }
    cy_tile_complete(tile);
    memcpy(out, tile->nodes[node], CY_HASH);
    cache_put(log, tile);
    return COMITY_OK;
}

/* ---- tree state ----------------------------------------------------------- */

/* Root of `count` (a power of two) consecutive hashes, in place-free scratch. */
static void perfect_root(const uint8_t (*h)[CY_HASH], unsigned count, uint8_t out[CY_HASH])
{
    uint8_t s[128][CY_HASH];
    if (count == 1) {
        memcpy(out, h[0], CY_HASH);
        return;
    }
    for (unsigned i = 0; i < count / 2; i++)
        cy_tlog_node_hash(h[2 * i], h[2 * i + 1], s[i]);
    for (unsigned c = count / 2; c > 1; c /= 2)
        for (unsigned i = 0; i < c / 2; i++)
            cy_tlog_node_hash(s[2 * i], s[2 * i + 1], s[i]);
    memcpy(out, s[0], CY_HASH);
}

/* The root of the integrated tree from the right edge of each level. */
static void edge_root_of(uint8_t (*cur)[CY_TILE_WIDTH][CY_HASH], const unsigned *curw,
                         uint8_t out[CY_HASH])
{
    uint8_t parts[64][CY_HASH];
    unsigned np = 0;
    for (int l = CY_TILE_LEVELS - 1; l >= 0; l--) {
        unsigned w = curw[l], pos = 0;
        for (int b = 7; b >= 0; b--)
            if (w & (1u << b)) {
                perfect_root((const uint8_t(*)[CY_HASH])&cur[l][pos], 1u << b, parts[np++]);
                pos += 1u << b;
            }
    }
    if (np == 0) {
        memcpy(out, cy_tlog_empty_root, CY_HASH);
        return;
    }
    memcpy(out, parts[np - 1], CY_HASH);
    for (unsigned i = np - 1; i-- > 0;)
        cy_tlog_node_hash(parts[i], out, out);
}

static void edge_root(const comity_log *log, uint8_t out[CY_HASH])
{
    edge_root_of(log->cur, log->curw, out);
}

/* Appends hash h at `level`; writes every tile it completes. */
static comity_err push_hash(comity_log *log, struct fbatch *fb, unsigned level,
                            uint64_t count_before, const uint8_t h[CY_HASH],
                            comity_error *err)
{
    if (level >= CY_TILE_LEVELS)
        return cy_fail(err, COMITY_ERR_INTERNAL, "tlog: tree too large");
    memcpy(log->cur[level][log->curw[level]++], h, CY_HASH);
    if (log->curw[level] < CY_TILE_WIDTH)
        return COMITY_OK;
    uint64_t t = count_before >> 8; /* the index of the tile just filled */
    char path[CY_TILE_PATH_MAX];
    cy_tile_path(path, (int)level, t, 0);
    comity_err rc = fb_write(log, fb, path, log->cur[level], CY_TILE_BYTES, err);
    if (!rc && level == 0) {
        cy_tile_path(path, -1, t, 0);
        rc = fb_write(log, fb, path, log->bundle.data, log->bundle.len, err);
        log->bundle.len = 0;
    }
    if (rc)
        return rc;
    cy_tile *tile = cy_malloc(sizeof *tile);
    if (!tile)
        return cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    tile->level = level;
    tile->index = t;
    tile->width = CY_TILE_WIDTH;
    memcpy(tile->nodes, log->cur[level], CY_TILE_BYTES);
    cy_tile_complete(tile);
    uint8_t root[CY_HASH];
    memcpy(root, tile->nodes[510], CY_HASH);
    cache_put(log, tile);
    log->curw[level] = 0;
    return push_hash(log, fb, level + 1, count_before >> 8, root, err);
}

static comity_err sign_checkpoint(comity_log *log, uint64_t size, const uint8_t root[CY_HASH],
                                  char **note, size_t *len, comity_error *err)
{
    cy_buf b;
    cy_buf_init(&b, CY_CHECKPOINT_MAX);
    comity_err rc = cy_checkpoint_format(&b, log->origin, size, root);
    if (rc) {
        cy_buf_free(&b);
        return cy_fail(err, rc, "checkpoint: %s", comity_strerror(rc));
    }
    const comity_nkey *keys[1] = {log->key};
    rc = comity_note_sign((const char *)b.data, b.len, keys, 1, note, len, err);
    cy_buf_free(&b);
    return rc;
}

static comity_err publish_file(comity_log *log, const char *note, size_t len, comity_error *err)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/checkpoint", log->dir);
    return comity_write_file(path, note, len, 0644, 0, err);
}

static void set_published(comity_log *log, char *note, size_t len, uint64_t size,
                          const uint8_t root[CY_HASH])
{
    pthread_mutex_lock(&log->mu);
    cy_free(log->cp_note);
    log->cp_note = note;
    log->cp_len = len;
    log->cp_size = size;
    memcpy(log->cp_root, root, CY_HASH);
    pthread_mutex_unlock(&log->mu);
}

/* The entries an implicit integration (the sequencer's, the back-pressure
 * one, the one at close) may cover: those below the horizon when the
 * owner holds the log (cy_log_set_durable), else every durable one. */
static uint64_t implicit_limit(comity_log *log)
{
    pthread_mutex_lock(&log->mu);
    uint64_t limit = log->hold ? log->horizon : UINT64_MAX;
    pthread_mutex_unlock(&log->mu);
    return limit;
}

/* Integrates every durable entry below `limit` (UINT64_MAX: all) and
 * publishes a checkpoint.  Holds seq. */
static comity_err integrate_locked(comity_log *log, uint64_t limit, comity_error *err)
{
    /* take what is durable now (below the limit); commits go on meanwhile */
    pthread_mutex_lock(&log->pmu);
    cy_buf work = log->pend;
    uint64_t wfirst = log->pend_first, wn = log->pend_n;
    if (limit < wfirst + wn) {
        /* the horizon: the entries from `limit` on stay pending */
        wn = limit > wfirst ? limit - wfirst : 0;
        if (!wn) { /* nothing below the horizon: pend stays as it is */
            pthread_mutex_unlock(&log->pmu);
            return COMITY_OK;
        }
        size_t off = 0;
        for (uint64_t i = 0; i < wn; i++)
            off += 2 + ((size_t)work.data[off] << 8 | work.data[off + 1]);
        cy_buf rest;
        cy_buf_init(&rest, SIZE_MAX / 2);
        if (cy_buf_append(&rest, work.data + off, work.len - off)) {
            pthread_mutex_unlock(&log->pmu);
            return cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
        }
        work.len = off; /* the bytes past it are rest's now */
        log->pend = rest;
        log->pend_first = wfirst + wn;
        log->pend_n -= wn;
    } else {
        cy_buf_init(&log->pend, SIZE_MAX / 2);
        log->pend_first = wfirst + wn;
        log->pend_n = 0;
    }
    pthread_mutex_unlock(&log->pmu);
    if (wn == 0) {
        cy_buf_free(&work);
        return COMITY_OK;
    }
    struct fbatch fb = {0};
    comity_err rc = COMITY_OK;
    uint64_t size = log->size;
    const uint8_t *p = work.data, *end = p + work.len;
    /* the cadence counts from the start of each integration, so a slow one
     * does not stretch the interval between checkpoints further */
    int64_t started = mono_ms();
    while (p < end && !rc) {
        size_t n = (size_t)p[0] << 8 | p[1];
        uint8_t h[CY_HASH];
        cy_tlog_leaf_hash(p + 2, n, h);
        rc = cy_buf_append(&log->bundle, p, n + 2);
        if (rc) {
            rc = cy_fail(err, rc, "bundle: %s", comity_strerror(rc));
            break;
        }
        rc = push_hash(log, &fb, 0, size, h, err);
        size++;
        p += n + 2;
    }
    if (!rc && (size != wfirst + wn || wfirst != log->size))
        rc = cy_fail(err, COMITY_ERR_INTERNAL, "tlog: pending entries do not add up");
    cy_buf_free(&work);
    /* partial tiles and bundle for the new size */
    for (unsigned l = 0; l < CY_TILE_LEVELS && !rc; l++) {
        unsigned w = log->curw[l];
        if (!w)
            continue;
        char path[CY_TILE_PATH_MAX];
        uint64_t t = shr(size, 8 * (l + 1));
        cy_tile_path(path, (int)l, t, w);
        rc = fb_write(log, &fb, path, log->cur[l], (size_t)w * CY_HASH, err);
        if (!rc && l == 0) {
            cy_tile_path(path, -1, t, w);
            rc = fb_write(log, &fb, path, log->bundle.data, log->bundle.len, err);
        }
    }
    if (!rc)
        rc = fb_commit(log, &fb, err);
    fb_free(&fb);
    uint8_t root[CY_HASH];
    char *note = NULL;
    size_t note_len = 0;
    if (!rc) {
        edge_root(log, root);
        rc = sign_checkpoint(log, size, root, &note, &note_len, err);
    }
    if (!rc) {
        sqlite3_stmt *st = NULL;
        pthread_mutex_lock(&log->dbmu);
        rc = db_exec(log->db, "BEGIN IMMEDIATE", err);
        if (!rc && (sqlite3_prepare_v2(log->db, "UPDATE state SET size = ?, checkpoint = ?",
                                       -1, &st, NULL) ||
                    sqlite3_bind_int64(st, 1, (sqlite3_int64)size) ||
                    sqlite3_bind_text(st, 2, note, (int)note_len, SQLITE_STATIC) ||
                    sqlite3_step(st) != SQLITE_DONE))
            rc = db_fail(log->db, err, "saving state");
        sqlite3_finalize(st);
        st = NULL;
        if (!rc && (sqlite3_prepare_v2(log->db,
                                       "INSERT OR REPLACE INTO checkpoints(size, root) VALUES(?, ?)",
                                       -1, &st, NULL) ||
                    sqlite3_bind_int64(st, 1, (sqlite3_int64)size) ||
                    sqlite3_bind_blob(st, 2, root, CY_HASH, SQLITE_STATIC) ||
                    sqlite3_step(st) != SQLITE_DONE))
            rc = db_fail(log->db, err, "saving checkpoint");
        sqlite3_finalize(st);
        st = NULL;
        if (!rc && (sqlite3_prepare_v2(log->db, "DELETE FROM pending WHERE first < ?", -1,
                                       &st, NULL) ||
                    sqlite3_bind_int64(st, 1, (sqlite3_int64)size) ||
                    sqlite3_step(st) != SQLITE_DONE))
            rc = db_fail(log->db, err, "dropping integrated entries");
        sqlite3_finalize(st);
        if (!rc)
            rc = db_exec(log->db, "COMMIT", err);
        else
            sqlite3_exec(log->db, "ROLLBACK", NULL, NULL, NULL);
        pthread_mutex_unlock(&log->dbmu);
    }
    if (!rc)
        rc = publish_file(log, note, note_len, err);
    if (rc) {
        cy_free(note);
        return rc;
    }
    log->size = size;
    pthread_mutex_lock(&log->mu); /* read by the sequencer's wait, under mu */
    log->last_cp_ms = started;
    pthread_mutex_unlock(&log->mu);
    set_published(log, note, note_len, size, root);
    pthread_mutex_lock(&log->pmu);
    bool more = log->pend_n > 0;
    pthread_mutex_unlock(&log->pmu);
    pthread_mutex_lock(&log->mu);
    log->pend_waiting = more;
    log->n_checkpoints++;
    pthread_mutex_unlock(&log->mu);
    return COMITY_OK;
}

void cy_log_stats(comity_log *log, uint64_t *commits, uint64_t *checkpoints)
{
    pthread_mutex_lock(&log->mu);
    *commits = log->n_commits;
    *checkpoints = log->n_checkpoints;
    pthread_mutex_unlock(&log->mu);
}

static void set_fatal(comity_log *log, const comity_error *e)
{
    pthread_mutex_lock(&log->mu);
    if (!log->fatal.code) {
        /* every later call answers this, also once its cause is gone (a
         * disk with space again): say what the way out is */
        log->fatal.code = e->code ? e->code : COMITY_ERR_INTERNAL;
        snprintf(log->fatal.msg, sizeof log->fatal.msg,
                 "%.190s (the log stopped: restart the node once this is fixed)", e->msg);
    }
    log->committing = false;
    pthread_cond_broadcast(&log->done);
    pthread_mutex_unlock(&log->mu);
}

static comity_err fatal_copy(comity_log *log, comity_error *err)
{
    /* called with mu held */
    if (err)
        *err = log->fatal;
    return log->fatal.code;
}

/* Moves everything staged into SQLite in one transaction.  Holds cmt. */
static comity_err commit_locked(comity_log *log, comity_error *err)
{
    pthread_mutex_lock(&log->mu);
    if (log->fatal.code) {
        comity_err rc = fatal_copy(log, err);
        pthread_mutex_unlock(&log->mu);
        return rc;
    }
    cy_buf batch = log->staged;
    uint64_t first = log->staged_first, n = log->next - first;
    cy_buf_init(&log->staged, STAGE_CAP + 65537);
    log->staged_first = log->next;
    log->committing = n > 0;
    pthread_mutex_unlock(&log->mu);
    if (n == 0) {
        cy_buf_free(&batch);
        return COMITY_OK;
    }
    comity_error e = {0};
    comity_err rc = COMITY_OK;
    /* REPLAYABLE: the caller keeps the entries durable and appends them
     * again after any crash (see the top), so they wait for their
     * integration in memory only; otherwise one row, fsynced */
    if (!(log->flags & COMITY_LOG_REPLAYABLE)) {
        sqlite3_stmt *st = NULL;
        pthread_mutex_lock(&log->dbmu);
        if (sqlite3_prepare_v2(log->db, "INSERT INTO pending(first, n, data) VALUES(?, ?, ?)",
                               -1, &st, NULL) ||
            sqlite3_bind_int64(st, 1, (sqlite3_int64)first) ||
            sqlite3_bind_int64(st, 2, (sqlite3_int64)n) ||
            sqlite3_bind_blob(st, 3, batch.data, (int)batch.len, SQLITE_STATIC) ||
            sqlite3_step(st) != SQLITE_DONE)
            rc = db_fail(log->db, &e, "saving appended entries");
        sqlite3_finalize(st);
        pthread_mutex_unlock(&log->dbmu);
    }
    bool full = false;
    if (!rc) {
        pthread_mutex_lock(&log->pmu);
        if (log->pend_n == 0)
            log->pend_first = first;
        if (cy_buf_append(&log->pend, batch.data, batch.len))
            rc = cy_fail(&e, COMITY_ERR_NOMEM, "out of memory");
        log->pend_n += n;
        full = log->pend.len >= PEND_CAP;
        pthread_mutex_unlock(&log->pmu);
    }
    cy_buf_free(&batch);
    if (rc) {
        set_fatal(log, &e);
        if (err)
            *err = e;
        return rc;
    }
    pthread_mutex_lock(&log->mu);
    log->durable = first + n;
    log->committing = false;
    log->pend_waiting = true;
    log->n_commits++;
    pthread_cond_broadcast(&log->done);
    pthread_mutex_unlock(&log->mu);
    if (full) { /* back-pressure: this commit integrates before the next */
        uint64_t limit = implicit_limit(log);
        pthread_mutex_lock(&log->seq);
        rc = integrate_locked(log, limit, &e);
        pthread_mutex_unlock(&log->seq);
        if (rc) {
            set_fatal(log, &e);
            if (err)
                *err = e;
        }
    }
    return rc;
}

/* Commits what is staged and, with checkpoint, integrates the durable
 * entries below `limit` (UINT64_MAX: all of them). */
static comity_err sequence(comity_log *log, bool checkpoint, uint64_t limit, comity_error *err)
{
    pthread_mutex_lock(&log->cmt);
    comity_err rc = commit_locked(log, err);
    pthread_mutex_unlock(&log->cmt);
    if (!rc && checkpoint) {
        comity_error e = {0};
        pthread_mutex_lock(&log->seq);
        rc = integrate_locked(log, limit, &e);
        pthread_mutex_unlock(&log->seq);
        if (rc) {
            set_fatal(log, &e);
            if (err)
                *err = e;
        }
    }
    return rc;
}

static void *sequencer_main(void *arg)
{
    comity_log *log = arg;
    pthread_setname_np(pthread_self(), "comity-log"); /* for top -H, perf */
    pthread_mutex_lock(&log->mu);
    while (!log->stop && !log->fatal.code) {
        int64_t interval = (int64_t)log->interval_ms;
        if (log->staged.len == 0) {
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            int64_t wait_ms = 1000;
            /* held at the horizon with every entry below it published:
             * nothing to integrate until cy_log_set_durable moves it */
            bool held = log->hold && log->horizon <= log->cp_size;
            if (log->pend_waiting && !held) {
                /* wake when the next checkpoint is due */
                int64_t due = log->last_cp_ms + interval - mono_ms();
                wait_ms = due < 1 ? 1 : due;
            }
            ts.tv_sec += wait_ms / 1000;
            ts.tv_nsec += (wait_ms % 1000) * 1000000;
            if (ts.tv_nsec >= 1000000000) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000;
            }
            pthread_cond_timedwait(&log->work, &log->mu, &ts);
            if (log->stop)
                break;
        }
        pthread_mutex_unlock(&log->mu);
        pthread_mutex_lock(&log->cmt);
        comity_err rc = commit_locked(log, NULL);
        pthread_mutex_unlock(&log->cmt);
        pthread_mutex_lock(&log->pmu);
        bool waiting = log->pend_n > 0;
        pthread_mutex_unlock(&log->pmu);
        uint64_t limit = implicit_limit(log);
        pthread_mutex_lock(&log->seq);
        if (!rc && waiting && mono_ms() - log->last_cp_ms >= interval) {
            comity_error e = {0};
            if (integrate_locked(log, limit, &e))
                set_fatal(log, &e);
        }
        pthread_mutex_unlock(&log->seq);
        pthread_mutex_lock(&log->mu);
    }
    pthread_mutex_unlock(&log->mu);
    return NULL;
}

/* ---- opening -------------------------------------------------------------- */

static comity_log *log_new(const char *dir, int flags)
{
    comity_log *log = cy_calloc(1, sizeof *log);
    if (!log)
        return NULL;
    log->dirfd = log->lockfd = -1;
    log->flags = flags;
    log->interval_ms = DEFAULT_INTERVAL_MS;
    pthread_mutex_init(&log->mu, NULL);
    pthread_mutex_init(&log->seq, NULL);
    pthread_mutex_init(&log->cmt, NULL);
    pthread_mutex_init(&log->dbmu, NULL);
    pthread_mutex_init(&log->pmu, NULL);
    pthread_mutex_init(&log->bmu, NULL);
    pthread_rwlock_init(&log->cmu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&log->work, &ca);
    pthread_cond_init(&log->done, &ca);
    pthread_condattr_destroy(&ca);
    cy_buf_init(&log->staged, STAGE_CAP + 65537);
    cy_buf_init(&log->bundle, CY_TILE_WIDTH * (65535 + 2));
    cy_buf_init(&log->pend, SIZE_MAX / 2);
    log->dir = cy_strdup(dir);
    log->cache = cy_calloc(CACHE_SLOTS, sizeof *log->cache);
    log->cur = cy_calloc(CY_TILE_LEVELS, sizeof *log->cur);
    if (!log->dir || !log->cache || !log->cur) {
        comity_log_close(log);
        return NULL;
    }
    return log;
}

void comity_log_close(comity_log *log)
{
    if (!log)
        return;
    if (log->thread_running) {
        pthread_mutex_lock(&log->mu);
        log->stop = true;
        pthread_cond_broadcast(&log->work);
        pthread_mutex_unlock(&log->mu);
        pthread_join(log->thread, NULL);
    }
    if (log->db && !log->fatal.code) /* an implicit checkpoint: to the horizon */
        (void)sequence(log, true, implicit_limit(log), NULL);
    if (log->db)
        sqlite3_close(log->db);
    if (log->rdb)
        sqlite3_close(log->rdb);
    if (log->lockfd >= 0)
        close(log->lockfd); /* releases the flock */
    if (log->dirfd >= 0)
        close(log->dirfd);
    if (log->cache)
        for (size_t i = 0; i < CACHE_SLOTS; i++)
            cy_free(log->cache[i]);
    cy_free(log->cache);
    cy_free(log->cur);
    cy_buf_free(&log->staged);
    cy_buf_free(&log->bundle);
    cy_buf_free(&log->pend);
    cy_free(log->cp_note);
    cy_free(log->dir);
    pthread_mutex_destroy(&log->mu);
    pthread_mutex_destroy(&log->seq);
    pthread_mutex_destroy(&log->cmt);
    pthread_mutex_destroy(&log->dbmu);
    pthread_mutex_destroy(&log->pmu);
    pthread_mutex_destroy(&log->bmu);
    cy_free(log->b_data);
    pthread_rwlock_destroy(&log->cmu);
    pthread_cond_destroy(&log->work);
    pthread_cond_destroy(&log->done);
    cy_free(log);
}

/* Parses a whole checkpoint note (signature unchecked: our own file). */
static comity_err parse_note(const char *note, size_t len, cy_checkpoint *cp,
                             comity_error *err)
{
    cy_note *n = cy_malloc(sizeof *n);
    if (!n)
        return cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    comity_err rc = cy_note_parse(note, len, n, err);
    if (!rc)
        rc = cy_checkpoint_parse_text(n->text, n->text_len, cp, err);
    cy_free(n);
    return rc;
}

static comity_err load_published(comity_log *log, comity_error *err)
{
    uint8_t *note;
    size_t len;
    comity_err rc = read_at(log->dirfd, "checkpoint", CY_CHECKPOINT_MAX, &note, &len, err);
    if (rc)
        return cy_wrap(err, "%s", log->dir);
    cy_checkpoint cp;
    rc = parse_note((char *)note, len, &cp, err);
    if (rc) {
        cy_free(note);
        return cy_wrap(err, "%s/checkpoint", log->dir);
    }
    if (!log->origin[0]) /* at open, before any other thread can see log */
        snprintf(log->origin, sizeof log->origin, "%s", cp.origin);
    set_published(log, (char *)note, len, cp.size, cp.root);
    return COMITY_OK;
}

/* Rebuilds the right edge of every level from the partial tiles of `size`. */
static comity_err load_edge(comity_log *log, comity_error *err)
{
    for (unsigned l = 0; l < CY_TILE_LEVELS; l++) {
        unsigned w = cy_tile_partial_width(log->size, l);
        log->curw[l] = w;
        if (!w)
            continue;
        comity_err rc = read_tile(log->dirfd, l, shr(log->size, 8 * (l + 1)), w,
                                  &log->cur[l][0][0], err);
        if (rc)
            return cy_wrap(err, "recovering the log's right edge");
    }
    unsigned w = log->curw[0];
    if (w) {
        char path[CY_TILE_PATH_MAX];
        cy_tile_path(path, -1, log->size >> 8, w);
        uint8_t *b;
        size_t len;
        comity_err rc = read_at(log->dirfd, path, (size_t)w * 65537, &b, &len, err);
        if (rc)
            return rc;
        /* the bundle must hash to the partial tile */
        size_t at = 0;
        for (unsigned i = 0; i < w; i++) {
            uint8_t h[CY_HASH];
            size_t n = at + 2 <= len ? ((size_t)b[at] << 8 | b[at + 1]) : SIZE_MAX;
            if (n == SIZE_MAX || at + 2 + n > len) {
                cy_free(b);
                return cy_fail(err, COMITY_ERR_INVALID, "%s: truncated bundle", path);
            }
            cy_tlog_leaf_hash(b + at + 2, n, h);
            if (memcmp(h, log->cur[0][i], CY_HASH) != 0) {
                cy_free(b);
                return cy_fail(err, COMITY_ERR_VERIFY, "%s: entry %u does not match its tile",
                               path, i);
            }
            at += 2 + n;
        }
        rc = at == len ? cy_buf_append(&log->bundle, b, len) : COMITY_ERR_INVALID;
        cy_free(b);
        if (rc)
            return cy_fail(err, rc, "%s: %s", path,
                           rc == COMITY_ERR_INVALID ? "trailing bytes" : "out of memory");
    }
    return COMITY_OK;
}

static comity_err open_writer(comity_log *log, const comity_nkey *key, comity_error *err)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/log.lock", log->dir);
    log->lockfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (log->lockfd < 0)
        return cy_fail(err, COMITY_ERR_IO, "%s: %s", path, strerror(errno));
    if (flock(log->lockfd, LOCK_EX | LOCK_NB) != 0)
        return cy_fail(err, errno == EWOULDBLOCK ? COMITY_ERR_LOCKED : COMITY_ERR_IO,
                       "%s: another process is writing this log (%s is locked)", log->dir,
                       path);
    if (!key)
        return cy_fail(err, COMITY_ERR_NOKEY, "%s: writing the log needs its signing key",
                       log->dir);
    comity_err rc = db_open(log->dir, false, &log->db, err);
    if (rc)
        return rc;
    char *origin = NULL, *vkey = NULL;
    rc = db_config(log->db, "origin", &origin, err);
    if (!rc)
        rc = db_config(log->db, "vkey", &vkey, err);
    if (!rc && strcmp(vkey, comity_nkey_vkey(key)) != 0)
        rc = cy_fail(err, COMITY_ERR_NOKEY, "%s: key %s is not the log's key %s", log->dir,
                     comity_nkey_vkey(key), vkey);
    if (!rc)
        snprintf(log->origin, sizeof log->origin, "%s", origin);
    cy_free(origin);
    cy_free(vkey);
    if (rc)
        return rc;
    log->key = key;

    /* integrated size and the checkpoint that says so */
    sqlite3_stmt *st;
    char *note = NULL;
    size_t note_len = 0;
    if (sqlite3_prepare_v2(log->db, "SELECT size, checkpoint FROM state", -1, &st, NULL))
        return db_fail(log->db, err, "reading state");
    if (sqlite3_step(st) == SQLITE_ROW) {
        log->size = (uint64_t)sqlite3_column_int64(st, 0);
        note_len = (size_t)sqlite3_column_bytes(st, 1);
        note = cy_strndup((const char *)sqlite3_column_text(st, 1), note_len);
    }
    sqlite3_finalize(st);
    if (!note)
        return cy_fail(err, COMITY_ERR_DB, "log.db: no state row");
    cy_checkpoint cp;
    rc = parse_note(note, note_len, &cp, err);
    if (!rc && cp.size != log->size)
        rc = cy_fail(err, COMITY_ERR_INTERNAL, "log.db: state size and checkpoint disagree");
    if (!rc)
        rc = load_edge(log, err);
    uint8_t root[CY_HASH];
    if (!rc) {
        edge_root(log, root);
        if (memcmp(root, cp.root, CY_HASH) != 0)
            rc = cy_fail(err, COMITY_ERR_VERIFY,
                         "%s: the tiles at size %llu do not give the checkpoint's root",
                         log->dir, (unsigned long long)log->size);
    }
    /* the checkpoint file must be the stored one */
    if (!rc) {
        uint8_t *file = NULL;
        size_t flen = 0;
        comity_err r2 = read_at(log->dirfd, "checkpoint", CY_CHECKPOINT_MAX, &file, &flen, NULL);
        if (r2 || flen != note_len || memcmp(file, note, note_len) != 0)
            rc = publish_file(log, note, note_len, err);
        cy_free(file);
    }
    if (rc) {
        cy_free(note);
        return rc;
    }
    set_published(log, note, note_len, cp.size, cp.root);

    /* durable entries not yet integrated */
    log->pend_first = log->size;
    if (sqlite3_prepare_v2(log->db, "SELECT first, n, data FROM pending ORDER BY first", -1,
                           &st, NULL))
        return db_fail(log->db, err, "reading pending entries");
    while (!rc && sqlite3_step(st) == SQLITE_ROW) {
        uint64_t first = (uint64_t)sqlite3_column_int64(st, 0);
        uint64_t n = (uint64_t)sqlite3_column_int64(st, 1);
        if (first != log->pend_first + log->pend_n) {
            rc = cy_fail(err, COMITY_ERR_INTERNAL,
                         "log.db: pending batch at %llu, expected %llu",
                         (unsigned long long)first,
                         (unsigned long long)(log->pend_first + log->pend_n));
            break;
        }
        if (cy_buf_append(&log->pend, sqlite3_column_blob(st, 2),
                          (size_t)sqlite3_column_bytes(st, 2)))
            rc = cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
        log->pend_n += n;
    }
    sqlite3_finalize(st);
    if (rc)
        return rc;
    log->next = log->durable = log->staged_first = log->size + log->pend_n;
    log->last_cp_ms = mono_ms() - log->interval_ms;
    if (log->pend_n)
        return sequence(log, true, UINT64_MAX, err);
    return COMITY_OK;
}

comity_err comity_log_open(const char *dir, int flags, const comity_nkey *key,
                           comity_log **out, comity_error *err)
{
    *out = NULL;
    comity_err rc = comity_init(err);
    if (rc)
        return rc;
    comity_log *log = log_new(dir, flags);
    if (!log)
        return cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    log->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (log->dirfd < 0)
        rc = cy_fail(err, errno == ENOENT ? COMITY_ERR_NOTFOUND : COMITY_ERR_IO, "%s: %s",
                     dir, strerror(errno));
    else if (flags & COMITY_LOG_WRITE)
        rc = open_writer(log, key, err);
    else
        rc = load_published(log, err);
    if (!rc && (flags & COMITY_LOG_WRITE) && (flags & COMITY_LOG_BACKGROUND)) {
        if (pthread_create(&log->thread, NULL, sequencer_main, log) != 0)
            rc = cy_fail(err, COMITY_ERR_INTERNAL, "cannot start the sequencer thread");
        else
            log->thread_running = true;
    }
    if (rc) {
        log->fatal.code = rc; /* no final checkpoint on the way out */
        comity_log_close(log);
        return rc;
    }
    *out = log;
    return COMITY_OK;
}

comity_err comity_log_create(const char *dir, const char *origin, const comity_nkey *key,
                             const char *key_path, comity_error *err)
{
    comity_err rc = comity_init(err);
    if (rc)
        return rc;
    if (!cy_origin_valid(origin, strlen(origin)))
        return cy_fail(err, COMITY_ERR_INVALID,
                       "origin '%s': want 1 to %d printable characters without spaces or '+' "
                       "(e.g. example.org/log)", origin, CY_ORIGIN_MAX);
    if (key->type != COMITY_NOTE_ED25519)
        return cy_fail(err, COMITY_ERR_USAGE, "a log key must be an Ed25519 (type 0x01) key");
    if (strcmp(comity_nkey_name(key), origin) != 0)
        return cy_fail(err, COMITY_ERR_USAGE,
                       "the log key's name '%s' must equal the origin '%s'",
                       comity_nkey_name(key), origin);
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        return cy_fail(err, COMITY_ERR_IO, "%s: %s", dir, strerror(errno));
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/log.db", dir);
    if (access(path, F_OK) == 0)
        return cy_fail(err, COMITY_ERR_EXISTS, "%s already holds a log", dir);
    char abs[PATH_MAX] = "";
    if (key_path && !realpath(key_path, abs))
        return cy_fail(err, COMITY_ERR_NOTFOUND, "%s: %s", key_path, strerror(errno));
    sqlite3 *db;
    rc = db_open(dir, true, &db, err);
    if (rc)
        return rc;
    comity_log tmp = {0};
    tmp.key = key;
    snprintf(tmp.origin, sizeof tmp.origin, "%s", origin);
    char *note = NULL;
    size_t note_len = 0;
    rc = sign_checkpoint(&tmp, 0, cy_tlog_empty_root, &note, &note_len, err);
    if (!rc)
        rc = db_exec(db, "BEGIN", err); /* the tables are made by db_open */
    sqlite3_stmt *st = NULL;
    if (!rc && (sqlite3_prepare_v2(db,
                                   "INSERT INTO config(key, value) VALUES('origin', ?1),"
                                   " ('vkey', ?2), ('key_path', ?3);"
                                   , -1, &st, NULL) ||
                sqlite3_bind_text(st, 1, origin, -1, SQLITE_STATIC) ||
                sqlite3_bind_text(st, 2, comity_nkey_vkey(key), -1, SQLITE_STATIC) ||
                sqlite3_bind_text(st, 3, abs, -1, SQLITE_STATIC) ||
                sqlite3_step(st) != SQLITE_DONE))
        rc = db_fail(db, err, "writing config");
    sqlite3_finalize(st);
    st = NULL;
    if (!rc && (sqlite3_prepare_v2(db, "INSERT INTO state(id, size, checkpoint) VALUES(1, 0, ?)",
                                   -1, &st, NULL) ||
                sqlite3_bind_text(st, 1, note, (int)note_len, SQLITE_STATIC) ||
                sqlite3_step(st) != SQLITE_DONE))
        rc = db_fail(db, err, "writing state");
    sqlite3_finalize(st);
    if (!rc)
        rc = db_exec(db, "COMMIT", err);
    sqlite3_close(db);
    if (!rc) {
        snprintf(path, sizeof path, "%s/checkpoint", dir);
        rc = comity_write_file(path, note, note_len, 0644, 0, err);
    }
    if (rc) {
        snprintf(path, sizeof path, "%s/log.db", dir);
        unlink(path);
    }
    cy_free(note);
    return rc;
}

comity_err comity_log_key_path(const char *dir, char **path, comity_error *err)
{
    sqlite3 *db;
    *path = NULL;
    comity_err rc = db_open(dir, false, &db, err);
    if (rc)
        return rc;
    rc = db_config(db, "key_path", path, err);
    sqlite3_close(db);
    if (!rc && !**path) {
        cy_free(*path);
        *path = NULL;
        rc = cy_fail(err, COMITY_ERR_NOKEY, "%s: no key file recorded; pass --key", dir);
    }
    return rc;
}

/* ---- writing -------------------------------------------------------------- */

static comity_err need_writer(comity_log *log, comity_error *err)
{
    if (!(log->flags & COMITY_LOG_WRITE))
        return cy_fail(err, COMITY_ERR_USAGE, "%s: log opened for reading only", log->dir);
    return COMITY_OK;
}

/* Called with mu held: returns once every entry below `size` is durable.
 * Group commit: one caller at a time leads, committing everything staged
 * so far in one transaction; the others (and a caller whose entries the
 * sequencer thread is committing already) wait for `done` and return as
 * soon as their entries are durable.  Entries staged during a commit go
 * together in the next one. */
static comity_err durable_below(comity_log *log, uint64_t size, comity_error *err)
{
    while (log->durable < size && !log->fatal.code) {
        if (log->leading || log->committing) {
            pthread_cond_wait(&log->done, &log->mu);
            continue;
        }
        log->leading = true;
        pthread_mutex_unlock(&log->mu);
        pthread_mutex_lock(&log->cmt);
        (void)commit_locked(log, NULL);
        pthread_mutex_unlock(&log->cmt);
        pthread_mutex_lock(&log->mu);
        log->leading = false;
        pthread_cond_broadcast(&log->done);
    }
    return log->durable >= size ? COMITY_OK : fatal_copy(log, err);
}

comity_err comity_log_append_many(comity_log *log, const void *const *entries,
                                  const size_t *lens, size_t n, int durable,
                                  uint64_t *first, comity_error *err)
{
    comity_err rc = need_writer(log, err);
    if (rc)
        return rc;
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        if (lens[i] > COMITY_TLOG_ENTRY_MAX)
            return cy_fail(err, COMITY_ERR_TOOBIG,
                           "entry of %zu bytes exceeds the tlog-tiles limit of 65535 "
                           "(bundles use 16-bit lengths); log a hash of large records",
                           lens[i]);
        total += lens[i] + 2;
    }
    if (total > STAGE_CAP)
        return cy_fail(err, COMITY_ERR_TOOBIG,
                       "%zu entries of %zu bytes in all: append at most %u bytes at once", n,
                       total, STAGE_CAP);
    pthread_mutex_lock(&log->mu);
    while (!log->fatal.code && log->staged.len + total > STAGE_CAP) {
        pthread_mutex_unlock(&log->mu); /* back-pressure: commit ourselves */
        (void)sequence(log, false, UINT64_MAX, NULL);
        pthread_mutex_lock(&log->mu);
    }
    if (log->fatal.code) {
        rc = fatal_copy(log, err);
        pthread_mutex_unlock(&log->mu);
        return rc;
    }
    /* all or nothing: room first, so that no entry of the call is staged
     * unless every one is */
    size_t was = log->staged.len;
    if (cy_buf_reserve(&log->staged, total)) {
        pthread_mutex_unlock(&log->mu);
        return cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        uint8_t pre[2] = {(uint8_t)(lens[i] >> 8), (uint8_t)lens[i]};
        (void)cy_buf_append(&log->staged, pre, 2); /* reserved above */
        (void)cy_buf_append(&log->staged, entries[i], lens[i]);
    }
    uint64_t idx = log->next;
    log->next += n;
    if (first)
        *first = idx;
    if (!durable || n == 0) {
        /* one wake-up per batch of staged entries, not per entry */
        if (n && log->thread_running && was == 0)
            pthread_cond_signal(&log->work);
        pthread_mutex_unlock(&log->mu);
        return COMITY_OK;
    }
    rc = durable_below(log, idx + n, err);
    pthread_mutex_unlock(&log->mu);
    return rc;
}

comity_err comity_log_append(comity_log *log, const void *entry, size_t len, int durable,
                             uint64_t *index, comity_error *err)
{
    const void *entries[1] = {entry};
    return comity_log_append_many(log, entries, &len, 1, durable, index, err);
}

comity_err comity_log_sync_to(comity_log *log, uint64_t size, comity_error *err)
{
    comity_err rc = need_writer(log, err);
    if (rc)
        return rc;
    pthread_mutex_lock(&log->mu);
    if (size > log->next) {
        pthread_mutex_unlock(&log->mu);
        return cy_fail(err, COMITY_ERR_USAGE, "log sync: entry %llu was never appended",
                       (unsigned long long)(size - 1));
    }
    rc = durable_below(log, size, err);
    pthread_mutex_unlock(&log->mu);
    return rc;
}

comity_err comity_log_sync(comity_log *log, comity_error *err)
{
    comity_err rc = need_writer(log, err);
    return rc ? rc : sequence(log, false, UINT64_MAX, err);
}

comity_err comity_log_checkpoint(comity_log *log, char **note, size_t *len, comity_error *err)
{
    comity_err rc = need_writer(log, err);
    if (!rc)
        rc = sequence(log, true, UINT64_MAX, err); /* explicit: every entry */
    if (!rc && note)
        rc = comity_log_read_checkpoint(log, note, len, NULL, NULL, err);
    return rc;
}

void cy_log_set_durable(comity_log *log, uint64_t size)
{
    if (!(log->flags & COMITY_LOG_REPLAYABLE))
        return;
    pthread_mutex_lock(&log->mu);
    bool was_held = log->hold && log->horizon <= log->cp_size;
    if (!log->hold || size > log->horizon)
        log->horizon = size;
    log->hold = true;
    /* the sequencer sleeps while held: wake it when this frees entries */
    if (was_held && log->horizon > log->cp_size && log->thread_running)
        pthread_cond_signal(&log->work);
    pthread_mutex_unlock(&log->mu);
}

void comity_log_set_interval(comity_log *log, unsigned ms)
{
    pthread_mutex_lock(&log->mu);
    log->interval_ms = ms ? ms : 1;
    pthread_mutex_unlock(&log->mu);
}

/* ---- reading -------------------------------------------------------------- */

/* A snapshot of the published checkpoint (readers re-read the file, which
 * the writer may have replaced). */
static comity_err snapshot(comity_log *log, char **note, size_t *len, uint64_t *size,
                           uint8_t root[CY_HASH], comity_error *err)
{
    if (!(log->flags & COMITY_LOG_WRITE)) {
        struct stat st;
        if (fstatat(log->dirfd, "checkpoint", &st, 0) != 0)
            return cy_fail(err, COMITY_ERR_NOTFOUND, "%s/checkpoint: %s", log->dir,
                           strerror(errno));
        pthread_mutex_lock(&log->mu);
        bool same = log->cp_note && st.st_ino == log->cp_ino &&
                    st.st_mtim.tv_sec == log->cp_mtime.tv_sec &&
                    st.st_mtim.tv_nsec == log->cp_mtime.tv_nsec;
        pthread_mutex_unlock(&log->mu);
        if (!same) {
            comity_err rc = load_published(log, err);
            if (rc)
                return rc;
            pthread_mutex_lock(&log->mu);
            log->cp_ino = st.st_ino;
            log->cp_mtime = st.st_mtim;
            pthread_mutex_unlock(&log->mu);
        }
    }
    pthread_mutex_lock(&log->mu);
    if (note) {
        *note = cy_strndup(log->cp_note, log->cp_len);
        if (len)
            *len = log->cp_len;
    }
    if (size)
        *size = log->cp_size;
    if (root)
        memcpy(root, log->cp_root, CY_HASH);
    pthread_mutex_unlock(&log->mu);
    if (note && !*note)
        return cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    return COMITY_OK;
}

/* The published size, re-reading the checkpoint only when `need` exceeds
 * the size already known (tiles of a published size never go away). */
static comity_err published_size(comity_log *log, uint64_t need, uint64_t *size,
                                 comity_error *err)
{
    pthread_mutex_lock(&log->mu);
    *size = log->cp_size;
    bool known = log->cp_note && need <= log->cp_size;
    pthread_mutex_unlock(&log->mu);
    return known ? COMITY_OK : snapshot(log, NULL, NULL, size, NULL, err);
}

comity_err comity_log_read_checkpoint(comity_log *log, char **note, size_t *len,
                                      uint64_t *size, uint8_t root[COMITY_TLOG_HASH],
                                      comity_error *err)
{
    return snapshot(log, note, len, size, root, err);
}

comity_err comity_log_entry(comity_log *log, uint64_t index, uint8_t **entry, size_t *len,
                            comity_error *err)
{
    uint64_t size;
    *entry = NULL;
    comity_err rc = published_size(log, index + 1, &size, err);
    if (rc)
        return rc;
    if (index >= size)
        return cy_fail(err, COMITY_ERR_NOTFOUND,
                       "entry %llu is not in the published tree of size %llu",
                       (unsigned long long)index, (unsigned long long)size);
    uint64_t t = index >> 8;
    unsigned w = (size >> 8) > t ? 0 : (unsigned)(size & 0xff);
    char path[CY_TILE_PATH_MAX];
    cy_tile_path(path, -1, t, w);
    pthread_mutex_lock(&log->bmu);
    if (!log->b_data || log->b_index != t || log->b_width != w) {
        uint8_t *nb;
        size_t nl;
        rc = read_at(log->dirfd, path, (size_t)CY_TILE_WIDTH * 65537, &nb, &nl, err);
        if (rc) {
            pthread_mutex_unlock(&log->bmu);
            return rc;
        }
        cy_free(log->b_data);
        log->b_data = nb;
        log->b_len = nl;
        log->b_index = t;
        log->b_width = w;
    }
    const uint8_t *b = log->b_data;
    size_t blen = log->b_len;
    size_t at = 0;
    for (unsigned i = 0;; i++) {
        if (at + 2 > blen) {
            rc = cy_fail(err, COMITY_ERR_INVALID, "%s: truncated bundle", path);
            break;
        }
        size_t n = (size_t)b[at] << 8 | b[at + 1];
        if (at + 2 + n > blen) {
            rc = cy_fail(err, COMITY_ERR_INVALID, "%s: truncated bundle", path);
            break;
        }
        if (i == (index & 0xff)) {
            *entry = cy_malloc(n + 1);
            if (!*entry) {
                rc = cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
                break;
            }
            memcpy(*entry, b + at + 2, n);
            (*entry)[n] = 0;
            *len = n;
            break;
        }
        at += 2 + n;
    }
    pthread_mutex_unlock(&log->bmu);
    return rc;
}

comity_err comity_log_root(comity_log *log, uint64_t size, uint8_t root[COMITY_TLOG_HASH],
                           comity_error *err)
{
    struct source src = {log, 0};
    comity_err rc = published_size(log, size, &src.size, err);
    if (rc)
        return rc;
    if (size > src.size)
        return cy_fail(err, COMITY_ERR_NOTFOUND, "size %llu exceeds the published size %llu",
                       (unsigned long long)size, (unsigned long long)src.size);
    return cy_tlog_range_hash(source_node, &source_memo, &src, 0, size, root, err);
}

static comity_err hashes_out(uint8_t (*proof)[CY_HASH], size_t n, uint8_t **hashes,
                             size_t *nout, comity_error *err)
{
    *hashes = cy_malloc(n * CY_HASH + 1);
    if (!*hashes)
        return cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    memcpy(*hashes, proof, n * CY_HASH);
    *nout = n;
    return COMITY_OK;
}

comity_err comity_log_inclusion(comity_log *log, uint64_t index, uint64_t size,
                                uint8_t **hashes, size_t *n, comity_error *err)
{
    struct source src = {log, 0};
    uint8_t proof[CY_TLOG_PROOF_MAX][CY_HASH];
    size_t np;
    comity_err rc = published_size(log, size, &src.size, err);
    if (!rc && size > src.size)
        rc = cy_fail(err, COMITY_ERR_NOTFOUND, "size %llu exceeds the published size %llu",
                     (unsigned long long)size, (unsigned long long)src.size);
    if (!rc)
        rc = cy_tlog_prove_inclusion(source_node, &source_memo, &src, index, size, proof, &np, err);
    return rc ? rc : hashes_out(proof, np, hashes, n, err);
}

comity_err comity_log_consistency(comity_log *log, uint64_t old, uint64_t size,
                                  uint8_t **hashes, size_t *n, comity_error *err)
{
    struct source src = {log, 0};
    uint8_t proof[CY_TLOG_PROOF_MAX][CY_HASH];
    size_t np;
    comity_err rc = published_size(log, size, &src.size, err);
    if (!rc && size > src.size)
        rc = cy_fail(err, COMITY_ERR_NOTFOUND, "size %llu exceeds the published size %llu",
                     (unsigned long long)size, (unsigned long long)src.size);
    if (!rc)
        rc = cy_tlog_prove_consistency(source_node, &source_memo, &src, old, size, proof, &np, err);
    return rc ? rc : hashes_out(proof, np, hashes, n, err);
}

comity_err comity_log_prove(comity_log *log, uint64_t index, char **out, size_t *len,
                            comity_error *err)
{
    struct source src = {log, 0};
    char *note = NULL;
    size_t note_len = 0;
    uint8_t proof[CY_TLOG_PROOF_MAX][CY_HASH];
    size_t np = 0;
    *out = NULL;
    comity_err rc = snapshot(log, &note, &note_len, &src.size, NULL, err);
    if (!rc && index >= src.size)
        rc = cy_fail(err, COMITY_ERR_NOTFOUND,
                     "entry %llu is not in the published tree of size %llu (not yet checkpointed?)",
                     (unsigned long long)index, (unsigned long long)src.size);
    if (!rc)
        rc = cy_tlog_prove_inclusion(source_node, &source_memo, &src, index, src.size, proof, &np, err);
    if (!rc)
        rc = cy_tlog_proof_format(index, (const uint8_t(*)[CY_HASH])proof, np, note, note_len,
                                  out, len, err);
    cy_free(note);
    return rc;
}

comity_err comity_log_witness_request(comity_log *log, uint64_t old, char **body, size_t *len,
                                      comity_error *err)
{
    struct source src = {log, 0};
    char *note = NULL;
    size_t note_len = 0;
    uint8_t proof[CY_TLOG_PROOF_MAX][CY_HASH];
    size_t np = 0;
    *body = NULL;
    comity_err rc = snapshot(log, &note, &note_len, &src.size, NULL, err);
    if (!rc && old > src.size)
        rc = cy_fail(err, COMITY_ERR_USAGE, "old size %llu exceeds the log's size %llu",
                     (unsigned long long)old, (unsigned long long)src.size);
    if (!rc)
        rc = cy_tlog_prove_consistency(source_node, &source_memo, &src, old, src.size, proof, &np, err);
    cy_buf b;
    cy_buf_init(&b, CY_CHECKPOINT_MAX + 64 * 50);
    if (!rc) {
        comity_err r = cy_buf_printf(&b, "old %llu\n", (unsigned long long)old);
        for (size_t i = 0; i < np && !r; i++) {
            char h[64];
            cy_b64_encode(h, sizeof h, proof[i], CY_HASH, CY_B64_STD);
            r = cy_buf_printf(&b, "%s\n", h);
        }
        if (!r)
            r = cy_buf_puts(&b, "\n");
        if (!r)
            r = cy_buf_append(&b, note, note_len);
        if (r)
            rc = cy_fail(err, r, "witness request: %s", comity_strerror(r));
    }
    if (!rc) {
        *body = (char *)cy_buf_detach(&b, len);
        if (!*body)
            rc = cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    }
    cy_buf_free(&b);
    cy_free(note);
    return rc;
}

/* ---- cosignatures on the published checkpoint ------------------------------ */

comity_err comity_log_add_cosignatures(comity_log *log, const char *lines, size_t len,
                                       const comity_vkey *const *witnesses, size_t nw,
                                       comity_error *err)
{
    comity_err rc = need_writer(log, err);
    if (rc)
        return rc;
    pthread_mutex_lock(&log->seq);
    char *note = NULL, *joined = NULL;
    size_t note_len = 0;
    cy_note *n = cy_malloc(sizeof *n);
    cy_buf b;
    cy_buf_init(&b, CY_CHECKPOINT_MAX);
    uint64_t size;
    uint8_t root[CY_HASH];
    rc = n ? snapshot(log, &note, &note_len, &size, root, err)
           : cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    if (rc)
        goto done;
    /* the lines must verify against the checkpoint's text */
    if (cy_buf_append(&b, note, note_len) || cy_buf_append(&b, lines, len)) {
        rc = cy_fail(err, COMITY_ERR_TOOBIG, "checkpoint with cosignatures too large");
        goto done;
    }
    rc = cy_note_parse((const char *)b.data, b.len, n, err);
    if (rc)
        goto done;
    cy_buf out;
    cy_buf_init(&out, CY_CHECKPOINT_MAX);
    rc = cy_buf_append(&out, n->text, n->text_len) ? COMITY_ERR_NOMEM : COMITY_OK;
    if (!rc)
        rc = cy_buf_puts(&out, "\n") ? COMITY_ERR_NOMEM : COMITY_OK;
    size_t added = 0;
    for (size_t i = 0; i < n->nsigs && !rc; i++) {
        const cy_note_sig *s = &n->sigs[i];
        bool keep = false, dup = false;
        for (size_t j = 0; j < i; j++)
            if (n->sigs[j].id == s->id && n->sigs[j].name_len == s->name_len &&
                memcmp(n->sigs[j].name, s->name, s->name_len) == 0)
                dup = true;
        if (dup)
            continue;
        /* existing signatures (the log's, earlier cosignatures) are kept */
        const char *sl = s->name;
        keep = sl < (const char *)b.data + note_len;
        for (size_t j = 0; j < nw && !keep; j++) {
            const comity_vkey *k = witnesses[j];
            if (k->id == s->id && strlen(k->name) == s->name_len &&
                memcmp(k->name, s->name, s->name_len) == 0) {
                if (!cy_tlog_sig_ok(k, s->sig, s->sig_len, n->text, n->text_len)) {
                    rc = cy_fail(err, COMITY_ERR_VERIFY, "cosignature by %s does not verify",
                                 k->name);
                    break;
                }
                keep = true;
                added++;
            }
        }
        if (keep && !rc) {
            char name[CY_NOTE_NAME_MAX];
            snprintf(name, sizeof name, "%.*s", (int)s->name_len, s->name);
            rc = cy_note_append_sig(&out, name, s->id, s->sig, s->sig_len);
        }
    }
    if (!rc && added == 0)
        rc = cy_fail(err, COMITY_ERR_VERIFY, "no cosignature by a known witness");
    if (!rc) {
        size_t jl;
        joined = (char *)cy_buf_detach(&out, &jl);
        sqlite3_stmt *st = NULL;
        pthread_mutex_lock(&log->dbmu);
        /* the published checkpoint and its row among the cosigned ones, in
         * one transaction (the row replaced as more cosignatures join) */
        rc = db_exec(log->db, "BEGIN IMMEDIATE", err);
        if (!rc && (sqlite3_prepare_v2(log->db, "UPDATE state SET checkpoint = ? WHERE size = ?",
                                       -1, &st, NULL) ||
                    sqlite3_bind_text(st, 1, joined, (int)jl, SQLITE_STATIC) ||
                    sqlite3_bind_int64(st, 2, (sqlite3_int64)size) ||
                    sqlite3_step(st) != SQLITE_DONE || sqlite3_changes(log->db) != 1))
            rc = db_fail(log->db, err, "saving cosigned checkpoint");
        sqlite3_finalize(st);
        st = NULL;
        if (!rc && (sqlite3_prepare_v2(log->db, "INSERT OR REPLACE INTO cosigned(size, "
                                       "checkpoint) VALUES(?, ?)", -1, &st, NULL) ||
                    sqlite3_bind_int64(st, 1, (sqlite3_int64)size) ||
                    sqlite3_bind_text(st, 2, joined, (int)jl, SQLITE_STATIC) ||
                    sqlite3_step(st) != SQLITE_DONE))
            rc = db_fail(log->db, err, "keeping cosigned checkpoint");
        sqlite3_finalize(st);
        if (!rc)
            rc = db_exec(log->db, "COMMIT", err);
        else
            sqlite3_exec(log->db, "ROLLBACK", NULL, NULL, NULL);
        pthread_mutex_unlock(&log->dbmu);
        if (!rc)
            rc = publish_file(log, joined, jl, err);
        if (!rc) {
            set_published(log, joined, jl, size, root);
            joined = NULL;
        }
    } else {
        cy_buf_free(&out);
    }
done:
    cy_buf_free(&b);
    cy_free(n);
    cy_free(note);
    cy_free(joined);
    pthread_mutex_unlock(&log->seq);
    return rc;
}

static sqlite3 *cosigned_db(comity_log *log); /* below */

comity_err cy_log_cosigned(comity_log *log, uint64_t from, uint64_t to, uint64_t upto,
                          size_t max, uint64_t *since, cy_log_cosigned_cb cb, void *ctx,
                          comity_error *err)
{
    *since = 0;
    char *v = NULL;
    pthread_mutex_lock(&log->dbmu);
    sqlite3 *db = cosigned_db(log); /* a reader's: its own, read-only */
    if (!db) { /* none kept: nothing is known of any index */
        pthread_mutex_unlock(&log->dbmu);
        *since = UINT64_MAX;
        return COMITY_OK;
    }
    comity_err rc = db_config(db, "cosigned_since", &v, err);
    if (!rc && (!v || !cy_parse_u64(v, strlen(v), since)))
        rc = cy_fail(err, COMITY_ERR_DB, "log.db: cosigned_since is not a size");
    cy_free(v);
    sqlite3_stmt *st = NULL;
    if (!rc && (sqlite3_prepare_v2(db, "SELECT size, checkpoint FROM cosigned WHERE "
                                   "size > ? AND size <= ? ORDER BY size LIMIT ?", -1, &st,
                                   NULL) ||
                sqlite3_bind_int64(st, 1, (sqlite3_int64)(from < *since ? *since : from)) ||
                sqlite3_bind_int64(st, 2, (sqlite3_int64)(upto > INT64_MAX ? INT64_MAX : upto)) ||
                sqlite3_bind_int64(st, 3, (sqlite3_int64)max)))
        rc = db_fail(db, err, "reading cosigned checkpoints");
    int sr = SQLITE_DONE;
    while (!rc && (sr = sqlite3_step(st)) == SQLITE_ROW) {
        uint64_t size = (uint64_t)sqlite3_column_int64(st, 0);
        if (cb(ctx, size, (const char *)sqlite3_column_text(st, 1),
               (size_t)sqlite3_column_bytes(st, 1)))
            break;
        if (size > to) /* the first one covering `to`: the last wanted */
            break;
    }
    if (!rc && sr != SQLITE_ROW && sr != SQLITE_DONE)
        rc = db_fail(db, err, "reading cosigned checkpoints");
    sqlite3_finalize(st);
    pthread_mutex_unlock(&log->dbmu);
    return rc;
}

/* The handle that reads the kept cosigned checkpoints, under dbmu: the
 * writer's, or a reader's own read-only one (NULL: a reader of a log.db
 * that cannot be opened or keeps none, a log from before the table: none
 * kept, so receipts are against the published checkpoint). */
static sqlite3 *cosigned_db(comity_log *log)
{
    if (log->db || log->rdb_tried)
        return log->db ? log->db : log->rdb;
    log->rdb_tried = true;
    char path[PATH_MAX];
    sqlite3 *db = NULL;
    snprintf(path, sizeof path, "%s/log.db", log->dir);
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) !=
            SQLITE_OK ||
        sqlite3_busy_timeout(db, 5000) != SQLITE_OK ||
        sqlite3_exec(db, "SELECT 1 FROM cosigned LIMIT 1", NULL, NULL, NULL) != SQLITE_OK) {
        sqlite3_close(db);
        return NULL;
    }
    return log->rdb = db;
}

/* The newest kept cosigned checkpoint with below < size < above: OUT
 * *size (0: none) and *note (caller frees).  One indexed lookup under the
 * database lock, released before the caller looks at the note. */
static comity_err cosigned_below(comity_log *log, uint64_t below, uint64_t above,
                                 uint64_t *size, char **note, size_t *len, comity_error *err)
{
    *size = 0;
    *note = NULL;
    sqlite3_stmt *st = NULL;
    pthread_mutex_lock(&log->dbmu);
    comity_err rc = COMITY_OK;
    sqlite3 *db = cosigned_db(log);
    if (!db) {
        pthread_mutex_unlock(&log->dbmu);
        return COMITY_OK;
    }
    if (sqlite3_prepare_v2(db, "SELECT size, checkpoint FROM cosigned WHERE size > ? "
                           "AND size < ? ORDER BY size DESC LIMIT 1", -1, &st, NULL) ||
        sqlite3_bind_int64(st, 1, (sqlite3_int64)(below > INT64_MAX ? INT64_MAX : below)) ||
        sqlite3_bind_int64(st, 2, (sqlite3_int64)(above > INT64_MAX ? INT64_MAX : above)))
        rc = db_fail(db, err, "reading cosigned checkpoints");
    int sr = rc ? SQLITE_ERROR : sqlite3_step(st);
    if (!rc && sr == SQLITE_ROW) {
        *len = (size_t)sqlite3_column_bytes(st, 1);
        *note = cy_strndup((const char *)sqlite3_column_text(st, 1), *len);
        *size = (uint64_t)sqlite3_column_int64(st, 0);
        if (!*note)
            rc = cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    } else if (!rc && sr != SQLITE_DONE) {
        rc = db_fail(db, err, "reading cosigned checkpoints");
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&log->dbmu);
    return rc;
}

comity_err cy_log_prove_accepted(comity_log *log, uint64_t index, size_t max,
                                 cy_log_accept_fn accept, void *ctx, char **out, size_t *len,
                                 uint64_t *size, comity_error *err)
{
    *out = NULL;
    uint64_t pub = 0, at = 0;
    char *pub_note = NULL, *note = NULL;
    size_t pub_len = 0, note_len = 0;
    comity_err rc = snapshot(log, &pub_note, &pub_len, &pub, NULL, err);
    if (!rc && index >= pub)
        rc = cy_fail(err, COMITY_ERR_NOTFOUND,
                     "entry %llu is not in the published tree of size %llu (not yet checkpointed?)",
                     (unsigned long long)index, (unsigned long long)pub);
    /* newest first, each strictly below the last one tried; a row above
     * the published size (a reader that has not yet seen the checkpoint
     * file its writer saved the row for) waits for the next call.  The
     * newest row tried stays the fallback when none is taken. */
    char *first = NULL;
    size_t first_len = 0;
    uint64_t first_at = 0;
    for (uint64_t above = pub + 1; !rc && accept && max > 0; max--) {
        uint64_t got = 0;
        char *row = NULL;
        size_t row_len = 0;
        rc = cosigned_below(log, index, above, &got, &row, &row_len, err);
        if (rc || got == 0)
            break;
        if (accept(ctx, row, row_len)) {
            note = row;
            note_len = row_len;
            at = got;
            break;
        }
        if (!first) {
            first = row;
            first_len = row_len;
            first_at = got;
        } else {
            cy_free(row);
        }
        above = got;
    }
    if (!note && first) { /* none taken: the newest cosigned one */
        note = first;
        note_len = first_len;
        at = first_at;
        first = NULL;
    }
    cy_free(first);
    if (!note) { /* none cosigned: the published checkpoint, as comity_log_prove */
        note = pub_note;
        note_len = pub_len;
        pub_note = NULL;
        at = pub;
    }
    struct source src = {log, pub};
    uint8_t proof[CY_TLOG_PROOF_MAX][CY_HASH];
    size_t np = 0;
    if (!rc)
        rc = cy_tlog_prove_inclusion(source_node, &source_memo, &src, index, at, proof, &np, err);
    if (!rc)
        rc = cy_tlog_proof_format(index, (const uint8_t(*)[CY_HASH])proof, np, note, note_len,
                                  out, len, err);
    if (!rc && size)
        *size = at;
    cy_free(note);
    cy_free(pub_note);
    return rc;
}

/* ---- audit ------------------------------------------------------------------- */

struct audit {
    int dirfd;
    uint8_t (*cur)[CY_TILE_WIDTH][CY_HASH];
    unsigned curw[CY_TILE_LEVELS];
    uint64_t cnt[CY_TILE_LEVELS];
    uint8_t file[CY_TILE_WIDTH][CY_HASH];
    comity_log_audit_report rep;
};

static comity_err audit_compare(struct audit *a, unsigned level, uint64_t t, unsigned w,
                                comity_error *err)
{
    char path[CY_TILE_PATH_MAX];
    cy_tile_path(path, (int)level, t, w);
    comity_err rc = read_tile(a->dirfd, level, t, w, &a->file[0][0], err);
    if (rc)
        return rc;
    a->rep.tiles++;
    for (unsigned i = 0; i < w; i++)
        if (memcmp(a->file[i], a->cur[level][i], CY_HASH) != 0)
            return cy_fail(err, COMITY_ERR_VERIFY,
                           "%s: hash %u differs from the one recomputed from the entries",
                           path, i);
    return COMITY_OK;
}

static comity_err audit_push(struct audit *a, unsigned level, const uint8_t h[CY_HASH],
                             comity_error *err)
{
    if (level >= CY_TILE_LEVELS)
        return cy_fail(err, COMITY_ERR_INTERNAL, "audit: tree too large");
    memcpy(a->cur[level][a->curw[level]++], h, CY_HASH);
    a->cnt[level]++;
    if (a->curw[level] < CY_TILE_WIDTH)
        return COMITY_OK;
    comity_err rc = audit_compare(a, level, (a->cnt[level] - 1) >> 8, CY_TILE_WIDTH, err);
    if (rc)
        return rc;
    uint8_t root[CY_HASH];
    perfect_root((const uint8_t(*)[CY_HASH])a->cur[level], CY_TILE_WIDTH, root);
    a->curw[level] = 0;
    return audit_push(a, level + 1, root, err);
}

comity_err comity_log_audit(const char *dir, const comity_vkey *vkey,
                            comity_log_audit_report *report, comity_error *err)
{
    comity_err rc = comity_init(err);
    if (rc)
        return rc;
    struct audit *a = cy_calloc(1, sizeof *a);
    if (!a)
        return cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    a->cur = cy_calloc(CY_TILE_LEVELS, sizeof *a->cur);
    a->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    uint8_t *note = NULL, *b = NULL;
    size_t note_len = 0, blen = 0;
    cy_checkpoint cp;
    if (!a->cur)
        rc = cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    else if (a->dirfd < 0)
        rc = cy_fail(err, COMITY_ERR_NOTFOUND, "%s: %s", dir, strerror(errno));
    if (!rc)
        rc = read_at(a->dirfd, "checkpoint", CY_CHECKPOINT_MAX, &note, &note_len, err);
    if (!rc && vkey) {
        const comity_vkey *keys[1] = {vkey};
        rc = cy_checkpoint_verify((const char *)note, note_len, keys, 1, &cp, err);
    } else if (!rc) {
        rc = parse_note((const char *)note, note_len, &cp, err);
    }
    if (rc)
        goto done;
    a->rep.size = cp.size;
    for (uint64_t t = 0; !rc && t <= (cp.size >> 8); t++) {
        unsigned w = t < (cp.size >> 8) ? 0 : (unsigned)(cp.size & 0xff);
        if (t == (cp.size >> 8) && w == 0)
            break;
        char path[CY_TILE_PATH_MAX];
        cy_tile_path(path, -1, t, w);
        cy_free(b);
        b = NULL;
        rc = read_at(a->dirfd, path, (size_t)CY_TILE_WIDTH * 65537, &b, &blen, err);
        if (rc)
            break;
        unsigned want = w ? w : CY_TILE_WIDTH;
        size_t at = 0;
        for (unsigned i = 0; i < want && !rc; i++) {
            size_t n = at + 2 <= blen ? ((size_t)b[at] << 8 | b[at + 1]) : 0;
            if (at + 2 > blen || at + 2 + n > blen) {
                rc = cy_fail(err, COMITY_ERR_INVALID,
                             "%s: truncated bundle: entry %u of %u runs past the end", path, i,
                             want);
                break;
            }
            uint8_t h[CY_HASH];
            cy_tlog_leaf_hash(b + at + 2, n, h);
            a->rep.entries++;
            rc = audit_push(a, 0, h, err);
            at += 2 + n;
        }
        if (!rc && at != blen)
            rc = cy_fail(err, COMITY_ERR_INVALID, "%s: %zu bytes after entry %u", path,
                         blen - at, want - 1);
    }
    for (unsigned l = 0; l < CY_TILE_LEVELS && !rc; l++)
        if (a->curw[l])
            rc = audit_compare(a, l, shr(cp.size, 8 * (l + 1)), a->curw[l], err);
    if (!rc) {
        uint8_t root[CY_HASH];
        edge_root_of(a->cur, a->curw, root);
        if (memcmp(root, cp.root, CY_HASH) != 0)
            rc = cy_fail(err, COMITY_ERR_VERIFY,
                         "checkpoint: root of size %llu differs from the one recomputed "
                         "from the entries",
                         (unsigned long long)cp.size);
    }
    if (report)
        *report = a->rep;
done:
    if (a->dirfd >= 0)
        close(a->dirfd);
    cy_free(note);
    cy_free(b);
    cy_free(a->cur);
    cy_free(a);
    return rc;
}
