/*
 * ops.c: read-only inspection and online copies of SQLite files (see
 * ops.h).
 *
 * Durability: the copy is written through its own handle with
 * synchronous=FULL, and the file is fsync'ed once more after the handle
 * closes, before the caller records the backup as complete.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "sqlite/ops.h"

#define BUSY_MS 10000 /* how long inspection and copies wait for a writer */

static comity_err ro_open(const char *path, sqlite3 **db, comity_error *err)
{
    *db = NULL;
    if (sqlite3_open_v2(path, db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        comity_err rc = cy_fail(err, COMITY_ERR_DB, "%s: %s", path,
                                *db ? sqlite3_errmsg(*db) : "out of memory");
        sqlite3_close(*db);
        *db = NULL;
        return rc;
    }
    sqlite3_busy_timeout(*db, BUSY_MS);
    return COMITY_OK;
}

comity_err cy_sqlite_inspect(const char *path, int *version, char *check, size_t cap,
                             comity_error *err)
{
    sqlite3 *db;
    comity_err rc = ro_open(path, &db, err);
    if (rc)
        return rc;
    *version = -1;
    snprintf(check, cap, "%s", "not run");
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, NULL) != SQLITE_OK ||
        sqlite3_step(s) != SQLITE_ROW) {
        rc = cy_fail(err, COMITY_ERR_DB, "%s: reading its version: %s", path, sqlite3_errmsg(db));
        goto done;
    }
    *version = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    s = NULL;
    if (sqlite3_prepare_v2(db, "PRAGMA quick_check", -1, &s, NULL) != SQLITE_OK ||
        sqlite3_step(s) != SQLITE_ROW) {
        rc = cy_fail(err, COMITY_ERR_DB, "%s: quick_check: %s", path, sqlite3_errmsg(db));
        goto done;
    }
    const unsigned char *t = sqlite3_column_text(s, 0);
    snprintf(check, cap, "%s", t ? (const char *)t : "");
done:
    sqlite3_finalize(s);
    sqlite3_close(db);
    return rc;
}

static comity_err fsync_path(const char *path, comity_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) != 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return cy_fail(err, COMITY_ERR_IO, "%s: fsync: %s", path, strerror(e));
    }
    close(fd);
    return COMITY_OK;
}

comity_err cy_sqlite_copy(const char *src, const char *dst, comity_error *err)
{
    if (access(dst, F_OK) == 0)
        return cy_fail(err, COMITY_ERR_EXISTS, "%s exists already", dst);
    sqlite3 *from, *to = NULL;
    comity_err rc = ro_open(src, &from, err);
    if (rc)
        return rc;
    if (sqlite3_open_v2(dst, &to, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        rc = cy_fail(err, COMITY_ERR_IO, "%s: %s", dst, to ? sqlite3_errmsg(to) : "out of memory");
        goto done;
    }
    sqlite3_exec(to, "PRAGMA synchronous=FULL", NULL, NULL, NULL);
    sqlite3_backup *b = sqlite3_backup_init(to, "main", from, "main");
    if (!b) {
        rc = cy_fail(err, COMITY_ERR_DB, "copying %s: %s", src, sqlite3_errmsg(to));
        goto done;
    }
    /* the whole file in one step: a snapshot of one moment (a writer in
     * another process does not restart it); busy: retried */
    int s;
    for (int tries = 0; tries < BUSY_MS / 10; tries++) {
        s = sqlite3_backup_step(b, -1);
        if (s != SQLITE_BUSY && s != SQLITE_LOCKED)
            break;
        sqlite3_sleep(10);
    }
    sqlite3_backup_finish(b);
    if (s != SQLITE_DONE) {
        rc = cy_fail(err, COMITY_ERR_DB, "copying %s: %s", src, sqlite3_errstr(s));
        goto done;
    }
    /* the copy keeps the source's WAL mode in its header; one file, no
     * -wal beside it, is what a backup should be */
    if (sqlite3_exec(to, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL) != SQLITE_OK)
        rc = cy_fail(err, COMITY_ERR_DB, "%s: %s", dst, sqlite3_errmsg(to));
done:
    sqlite3_close(from);
    if (to && sqlite3_close(to) != SQLITE_OK && !rc)
        rc = cy_fail(err, COMITY_ERR_DB, "%s: cannot close", dst);
    if (!rc)
        rc = fsync_path(dst, err);
    if (rc)
        unlink(dst);
    return rc;
}
