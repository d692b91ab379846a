/*
 * backup.c: `comity backup DIR OUT` and `comity restore OUT DIR`: a copy
 * of a node, taken while it serves, that comes back consistent (see
 * comity_node_backup in comity.h, docs/operations.md "Backup").
 *
 * Order is what makes an online copy consistent.  A node writes its
 * records to its store and their digests to its log; the store's rows are
 * what make an entry durable (the log is opened REPLAYABLE, src/intake/),
 * and on start the node logs again every row newer than its log.  So the
 * backup copies the log first and the store after it:
 *
 *   1. the log, cut at one size S (cy_tlog_copy, src/tlog/backup.c: the
 *      sequencer's state, the checkpoint of S, the tiles of trees up to
 *      S and no others, which a restored node might log other entries
 *      over);
 *   2. the store: node.db with SQLite's online backup API (one snapshot),
 *      or pg_dump of the node's schema (one REPEATABLE READ snapshot);
 *      every row whose entry the log copy holds is in it;
 *   3. the rest: keys, settings, the witness state (SQLite, copied the
 *      same way), certificates, evidence files (after the store, so every
 *      file a stored record names is there);
 *   4. OUT/BACKUP, the manifest, written last: a backup without it is
 *      incomplete and restore refuses it.
 *
 * Files skipped: SQLite's -wal/-shm/-journal (the copies are whole
 * databases), the SQLite store's -pgen (a counter shared by the processes
 * that have it open, made again on first use), *.lock, *.tmp, files/tmp/ (work in progress).
 *
 * Durability: every file copied is fsynced, then one syncfs(2) makes
 * the directories durable, and the manifest is written atomically
 * (comity_write_file) once they all are.
 */
#define _GNU_SOURCE /* syncfs */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/copy.h"
#include "node/node.h"
#include "pg/db.h"
#include "pg/ops.h"
#include "sqlite/ops.h"
#include "store/records.h"
#include "tlog/tlog.h"

#define MANIFEST "BACKUP"
#define MANIFEST_MAGIC "comity-backup 1"
#define MANIFEST_MAX 4096
#define PG_DUMP_FILE "store.pgdump"
#define SQLITE_STORE "node.db"

struct bk {
    const char *src, *dst;
    comity_backup_report *r;
    comity_error *err;
};

static bool ends_with(const char *s, const char *t)
{
    size_t n = strlen(s), m = strlen(t);
    return n >= m && !strcmp(s + n - m, t);
}

/* Whether the backup leaves `rel` out (work in progress, locks, the store
 * and the log's parts that are copied in their own step). */
static bool skipped(const char *rel)
{
    return ends_with(rel, "-wal") || ends_with(rel, "-shm") || ends_with(rel, "-journal") ||
           ends_with(rel, "-pgen") || ends_with(rel, ".lock") || ends_with(rel, ".tmp") ||
           !strcmp(rel, "files/tmp") || !strcmp(rel, SQLITE_STORE) || !strcmp(rel, "log") || !strcmp(rel, MANIFEST) || !strcmp(rel, PG_DUMP_FILE);
}

/* Copies src/rel to dst/rel: a SQLite database (*.db) through the online
 * backup API, other files as they are; a directory recursively. */
static comity_err copy_one(struct bk *b, const char *rel)
{
    char from[4200], to[4200];
    snprintf(from, sizeof from, "%s/%s", b->src, rel);
    snprintf(to, sizeof to, "%s/%s", b->dst, rel);
    struct stat sb;
    if (lstat(from, &sb) != 0)
        return errno == ENOENT ? COMITY_OK /* gone meanwhile (a temporary) */
                               : cy_fail(b->err, COMITY_ERR_IO, "%s: %s", from, strerror(errno));
    if (S_ISDIR(sb.st_mode)) {
        comity_err rc = cy_mkdirs(to, b->err);
        if (!rc && strcmp(rel, "."))
            chmod(to, sb.st_mode & 0777);
        DIR *d = rc ? NULL : opendir(from);
        if (!rc && !d)
            return cy_fail(b->err, COMITY_ERR_IO, "%s: %s", from, strerror(errno));
        struct dirent *e;
        while (!rc && (e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            char sub[4200];
            if (strcmp(rel, "."))
                snprintf(sub, sizeof sub, "%s/%s", rel, e->d_name);
            else
                snprintf(sub, sizeof sub, "%s", e->d_name);
            if (!skipped(sub))
                rc = copy_one(b, sub);
        }
        if (d)
            closedir(d);
        return rc;
    }
    if (!S_ISREG(sb.st_mode) || access(to, F_OK) == 0)
        return COMITY_OK; /* sockets, links: nothing a node keeps; or copied in an earlier step */
    b->r->files++;
    if (ends_with(rel, ".db")) {
        comity_err rc = cy_sqlite_copy(from, to, b->err);
        if (!rc)
            chmod(to, sb.st_mode & 0777);
        struct stat cs;
        if (!rc && stat(to, &cs) == 0)
            b->r->bytes += (uint64_t)cs.st_size;
        return rc;
    }
    return cy_file_copy(from, to, sb.st_mode, &b->r->bytes, b->err);
}

/* The store's location, without a "sqlite:" prefix. */
static const char *sqlite_path(const char *loc)
{
    return !strncmp(loc, "sqlite:", 7) ? loc + 7 : loc;
}

comity_err comity_node_backup(const char *dir, const char *out, comity_backup_report *r,
                              comity_error *err)
{
    comity_backup_report mine;
    if (!r)
        r = &mine;
    memset(r, 0, sizeof *r);
    comity_err rc;
    char p[4200], loc[4096];
    struct stat sb;
    if ((rc = comity_init(err)))
        return rc;
    snprintf(p, sizeof p, "%s/node.key", dir);
    if (stat(p, &sb) != 0)
        return cy_fail(err, COMITY_ERR_NOTFOUND, "backup: no node in %s", dir);
    if (stat(out, &sb) == 0)
        return cy_fail(err, COMITY_ERR_EXISTS, "backup: %s exists; give a new directory", out);
    if ((rc = cy_node_store_location(dir, NULL, loc, sizeof loc, err)))
        return rc;
    comity_nkey *key = NULL;
    if ((rc = comity_nkey_load(p, &key, err)))
        return rc;
    snprintf(r->origin, sizeof r->origin, "%s", comity_nkey_name(key));
    comity_nkey_free(key);
    if (mkdir(out, 0700) != 0)
        return cy_fail(err, COMITY_ERR_IO, "backup: cannot create %s: %s", out, strerror(errno));
    struct bk b = {.src = dir, .dst = out, .r = r, .err = err};
    /* 1. the log, cut at one size */
    char lsrc[4200];
    snprintf(lsrc, sizeof lsrc, "%s/log", dir);
    snprintf(p, sizeof p, "%s/log", out);
    if ((rc = cy_tlog_copy(lsrc, p, &r->log_size, &r->files, &r->bytes, err)))
        return rc;
    /* 2. the store */
    const char *ci = cy_pg_conninfo(loc);
    char schema[CY_PG_SCHEMA_NAME_MAX + 1] = "";
    if (ci) {
        cy_pg_facts f;
        snprintf(r->store, sizeof r->store, "postgresql");
        snprintf(p, sizeof p, "%s/%s", out, PG_DUMP_FILE);
        if ((rc = cy_pg_inspect(ci, "store", &f, err)))
            return rc;
        if (!f.version)
            return cy_fail(err, COMITY_ERR_NOTFOUND, "backup: PostgreSQL schema '%s' holds no"
                           " node", f.schema);
        snprintf(schema, sizeof schema, "%s", f.schema);
        if ((rc = cy_pg_dump(ci, schema, p, err)))
            return rc;
        if (stat(p, &sb) == 0)
            r->bytes += (uint64_t)sb.st_size;
        r->files++;
    } else {
        snprintf(r->store, sizeof r->store, "sqlite");
        snprintf(p, sizeof p, "%s/%s", out, SQLITE_STORE);
        if ((rc = cy_sqlite_copy(sqlite_path(loc), p, err)))
            return rc;
        chmod(p, 0600);
        if (stat(p, &sb) == 0)
            r->bytes += (uint64_t)sb.st_size;
        r->files++;
    }
    /* 3. everything else */
    if ((rc = copy_one(&b, ".")))
        return rc;
    /* 4. the manifest, once everything else is on disk */
    int dfd = open(out, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 || syncfs(dfd) != 0) {
        rc = cy_fail(err, COMITY_ERR_IO, "backup: syncing %s: %s", out, strerror(errno));
        if (dfd >= 0)
            close(dfd);
        return rc;
    }
    close(dfd);
    char m[MANIFEST_MAX];
    char now[CY_TIME_BUF];
    cy_time_format_ms(now, cy_now_ms());
    int n = snprintf(m, sizeof m, "%s\norigin %s\nstore %s\nschema %s\nlog_size %llu\nmade %s\n",
                     MANIFEST_MAGIC, r->origin, r->store, schema[0] ? schema : "-",
                     (unsigned long long)r->log_size, now);
    snprintf(p, sizeof p, "%s/%s", out, MANIFEST);
    return comity_write_file(p, m, (size_t)n, 0600, 1, err);
}

/* ---- restore ------------------------------------------------------------------- */

struct manifest {
    char origin[128], store[16], schema[CY_PG_SCHEMA_NAME_MAX + 1];
    uint64_t log_size;
};

static comity_err read_manifest(const char *backup, struct manifest *m, comity_error *err)
{
    char p[4200];
    snprintf(p, sizeof p, "%s/%s", backup, MANIFEST);
    char *t = NULL;
    size_t n = 0;
    memset(m, 0, sizeof *m);
    if (comity_read_file(p, MANIFEST_MAX, &t, &n, NULL))
        return cy_fail(err, COMITY_ERR_INVALID, "restore: %s has no %s: not a backup, or one"
                       " that did not finish", backup, MANIFEST);
    comity_err rc = COMITY_OK;
    if (strncmp(t, MANIFEST_MAGIC "\n", strlen(MANIFEST_MAGIC) + 1) != 0)
        rc = cy_fail(err, COMITY_ERR_INVALID, "restore: %s: not a comity backup of version 1", p);
    for (char *line = strtok(t, "\n"); !rc && line; line = strtok(NULL, "\n")) {
        char *sp = strchr(line, ' ');
        if (!sp)
            continue;
        *sp++ = 0;
        if (!strcmp(line, "origin"))
            snprintf(m->origin, sizeof m->origin, "%s", sp);
        else if (!strcmp(line, "store"))
            snprintf(m->store, sizeof m->store, "%s", sp);
        else if (!strcmp(line, "schema"))
            snprintf(m->schema, sizeof m->schema, "%s", sp);
        else if (!strcmp(line, "log_size"))
            m->log_size = strtoull(sp, NULL, 10);
    }
    cy_free(t);
    if (!rc && (!m->origin[0] || (strcmp(m->store, "sqlite") && strcmp(m->store, "postgresql"))))
        rc = cy_fail(err, COMITY_ERR_INVALID, "restore: %s: no origin or no store kind", p);
    return rc;
}

struct verify {
    comity_log *log;
    uint64_t size;
    int64_t checked_seq;
    comity_backup_report *r;
    comity_err rc;
    comity_error *err;
};

static int verify_row(const cy_record_row *row, void *ctx)
{
    struct verify *v = ctx;
    v->r->records++;
    if (row->log_index >= v->size) {
        if (row->seq <= v->checked_seq) {
            v->rc = cy_fail(v->err, COMITY_ERR_VERIFY,
                            "restore: record %s (log index %llu) was logged before the store's"
                            " last clean stop, and the log copy ends at %llu", row->id,
                            (unsigned long long)row->log_index, (unsigned long long)v->size);
            return 1;
        }
        v->r->records_ahead++;
        return 0;
    }
    char want[COMITY_RECORD_ENTRY_LEN + 1];
    snprintf(want, sizeof want, "comity-record-v1:%s", row->digest);
    uint8_t *got = NULL;
    size_t len = 0;
    comity_err rc = comity_log_entry(v->log, row->log_index, &got, &len, v->err);
    bool same = !rc && len == COMITY_RECORD_ENTRY_LEN && !memcmp(got, want, len);
    cy_free(got);
    if (!same) {
        v->rc = rc ? rc
                   : cy_fail(v->err, COMITY_ERR_VERIFY,
                             "restore: record %s: the log's entry %llu is another record's",
                             row->id, (unsigned long long)row->log_index);
        return 1;
    }
    return 0;
}

/* Audits the restored log in dir under the node's key, which must be the
 * backup's origin's.  OUT r->log_size. */
static comity_err audit_restored(const char *dir, const struct manifest *m,
                                 comity_backup_report *r, comity_error *err)
{
    char p[4200];
    snprintf(p, sizeof p, "%s/node.key", dir);
    comity_nkey *key = NULL;
    comity_vkey *vk = NULL;
    comity_err rc;
    if ((rc = comity_nkey_load(p, &key, err)))
        return rc;
    const char *vt = comity_nkey_vkey(key);
    comity_log_audit_report rep;
    snprintf(p, sizeof p, "%s/log", dir);
    if (strcmp(comity_nkey_name(key), m->origin) != 0)
        rc = cy_fail(err, COMITY_ERR_VERIFY, "restore: the node key is %s's, the backup %s's",
                     comity_nkey_name(key), m->origin);
    else if ((rc = comity_vkey_parse(vt, strlen(vt), &vk, err)) ||
             (rc = comity_log_audit(p, vk, &rep, err)))
        cy_wrap(err, "restore: the log does not audit");
    else
        r->log_size = rep.size;
    comity_vkey_free(vk);
    comity_nkey_free(key);
    return rc;
}

/* Checks the restored store in dir against the audited log (see
 * comity_node_restore). */
static comity_err verify_restored(const char *dir, const char *loc, const struct manifest *m,
                                  comity_backup_report *r, comity_error *err)
{
    char p[4200];
    comity_store *st = NULL;
    comity_log *log = NULL;
    char *v = NULL;
    comity_err rc;
    snprintf(p, sizeof p, "%s/log", dir);
    if ((rc = comity_store_open(loc, &st, err)) ||
        (rc = cy_store_meta_get(st, "origin", &v, err)))
        goto done;
    if (strcmp(v, m->origin) != 0) {
        rc = cy_fail(err, COMITY_ERR_VERIFY, "restore: the store is %s's, the backup %s's", v,
                     m->origin);
        goto done;
    }
    cy_free(v);
    v = NULL;
    struct verify ver = {.size = r->log_size, .r = r, .err = err};
    if (cy_store_meta_get(st, "records_checked_seq", &v, NULL) == COMITY_OK)
        ver.checked_seq = strtoll(v, NULL, 10);
    if ((rc = comity_log_open(p, COMITY_LOG_READ, NULL, &log, err)))
        goto done;
    ver.log = log;
    if (!(rc = cy_store_records_tail(st, 0, verify_row, &ver, err)))
        rc = ver.rc;
done:
    cy_free(v);
    comity_log_close(log);
    comity_store_close(st);
    return rc;
}

comity_err comity_node_restore(const char *backup, const char *dir, const char *store,
                               comity_backup_report *r, comity_error *err)
{
    comity_backup_report mine;
    if (!r)
        r = &mine;
    memset(r, 0, sizeof *r);
    struct manifest m;
    comity_err rc;
    if ((rc = comity_init(err)) || (rc = read_manifest(backup, &m, err)))
        return rc;
    snprintf(r->origin, sizeof r->origin, "%s", m.origin);
    snprintf(r->store, sizeof r->store, "%s", m.store);
    bool pg = !strcmp(m.store, "postgresql");
    if (store && !pg)
        return cy_fail(err, COMITY_ERR_USAGE, "restore: --store: the backup's store is SQLite"
                                              " (DIR/node.db)");
    if (store && !cy_pg_conninfo(store))
        return cy_fail(err, COMITY_ERR_USAGE, "restore: --store wants a postgresql:// URI");
    /* dir: new or empty */
    struct stat sb;
    if (stat(dir, &sb) == 0) {
        DIR *d = opendir(dir);
        struct dirent *e;
        bool empty = d != NULL;
        while (d && (e = readdir(d)))
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
                empty = false;
        if (d)
            closedir(d);
        if (!empty)
            return cy_fail(err, COMITY_ERR_EXISTS, "restore: %s exists and is not empty", dir);
    } else if (mkdir(dir, 0700) != 0) {
        return cy_fail(err, COMITY_ERR_IO, "restore: cannot create %s: %s", dir,
                       strerror(errno));
    }
    struct bk b = {.src = backup, .dst = dir, .r = r, .err = err};
    char p[4200], loc[4200];
    /* the files (the SQLite copies are whole databases: plain copies) */
    if ((rc = copy_one(&b, "log")) || (rc = copy_one(&b, ".")) ||
        (rc = audit_restored(dir, &m, r, err)))
        return rc;
    if (pg) {
        /* DIR/store: the target (given, or the backup's) */
        if (store) {
            snprintf(p, sizeof p, "%s/%s", dir, CY_NODE_STORE_FILE);
            unlink(p);
            char line[4100];
            int n = snprintf(line, sizeof line, "%s\n", store);
            if (n <= 0 || (size_t)n >= sizeof line)
                return cy_fail(err, COMITY_ERR_USAGE, "restore: --store too long");
            if ((rc = comity_write_file(p, line, (size_t)n, 0600, 1, err)))
                return rc;
        }
        if ((rc = cy_node_store_location(dir, NULL, loc, sizeof loc, err)))
            return rc;
        if (!cy_pg_conninfo(loc))
            return cy_fail(err, COMITY_ERR_INVALID, "restore: the backup names no PostgreSQL"
                                                    " store (DIR/store); give --store");
        snprintf(p, sizeof p, "%s/%s", backup, PG_DUMP_FILE);
        if ((rc = cy_pg_restore(cy_pg_conninfo(loc), m.schema, p, err)))
            return rc;
    } else {
        char from[4200];
        snprintf(from, sizeof from, "%s/%s", backup, SQLITE_STORE);
        snprintf(p, sizeof p, "%s/%s", dir, SQLITE_STORE);
        if ((rc = cy_file_copy(from, p, 0600, &r->bytes, err)))
            return rc;
        r->files++;
        snprintf(loc, sizeof loc, "%s", p);
    }
    return verify_restored(dir, loc, &m, r, err);
}
