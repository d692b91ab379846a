/*
 * db.c: opening SQLite files and versioning their schemas (see db.h).
 */
#include <string.h>

#include "sqlite/db.h"

comity_err cy_sqlite_fail(sqlite3 *db, const char *what, comity_error *err)
{
    int rc = db ? sqlite3_extended_errcode(db) : 0;
    const char *msg = db ? sqlite3_errmsg(db) : "no database";
    if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED)
        return cy_fail(err, COMITY_ERR_LOCKED, "%s: %s", what, msg);
    /* the file failed, not the statement: an I/O error or a full disk
     * (the node answers 503, "cannot store now", rather than 500) */
    if ((rc & 0xff) == SQLITE_IOERR || (rc & 0xff) == SQLITE_FULL)
        return cy_fail(err, COMITY_ERR_IO, "%s: %s", what, msg);
    return cy_fail(err, COMITY_ERR_DB, "%s: %s", what, msg);
}

comity_err cy_sqlite_exec(sqlite3 *db, const char *sql, const char *what, comity_error *err)
{
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return cy_sqlite_fail(db, what, err);
    return COMITY_OK;
}

comity_err cy_sqlite_open(const char *path, const cy_sqlite_opts *o, sqlite3 **out,
                          comity_error *err)
{
    *out = NULL;
    sqlite3 *db = NULL;
    int fl = SQLITE_OPEN_READWRITE | (o->create ? SQLITE_OPEN_CREATE : 0) |
             (o->serialized ? SQLITE_OPEN_FULLMUTEX : SQLITE_OPEN_NOMUTEX);
    int rc = sqlite3_open_v2(path, &db, fl, NULL);
    if (rc != SQLITE_OK) {
        comity_err e = cy_fail(err, COMITY_ERR_DB, "opening %s: %s", path,
                               db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        sqlite3_close(db);
        return e;
    }
    if (o->busy)
        sqlite3_busy_handler(db, o->busy, o->busy_arg);
    else if (o->busy_ms > 0)
        sqlite3_busy_timeout(db, o->busy_ms);
    comity_err e = cy_sqlite_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", path,
                                  err);
    if (!e && o->pragmas)
        e = cy_sqlite_exec(db, o->pragmas, path, err);
    if (e) {
        sqlite3_close(db);
        return e;
    }
    *out = db;
    return COMITY_OK;
}

int cy_sqlite_version(sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    int v = -1;
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* Whether the table exists (a file made before versioning). */
static bool has_table(sqlite3 *db, const char *name)
{
    sqlite3_stmt *st = NULL;
    bool yes = false;
    if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", -1,
                           &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        yes = sqlite3_step(st) == SQLITE_ROW;
    }
    sqlite3_finalize(st);
    return yes;
}

comity_err cy_sqlite_migrate(sqlite3 *db, const cy_sqlite_schema *s, int *was,
                             comity_error *err)
{
    int want = (int)s->nmigrations;
    int v = cy_sqlite_version(db);
    if (was)
        *was = v;
    if (v == want) /* the common case: no lock taken */
        return COMITY_OK;
    comity_err rc = cy_sqlite_exec(db, "BEGIN IMMEDIATE", s->name, err);
    if (rc)
        return rc;
    v = cy_sqlite_version(db); /* again, under the lock */
    if (v == 0 && s->legacy_table && has_table(db, s->legacy_table))
        v = 1; /* made before versioning, with migrations[0] */
    if (was)
        *was = v;
    if (v < 0) {
        rc = cy_sqlite_fail(db, s->name, err);
    } else if (v > want) {
        rc = cy_fail(err, COMITY_ERR_DB, "%s: schema version %d is newer than this build (%d)",
                     s->name, v, want);
    } else {
        for (int k = v; k < want && !rc; k++) {
            char what[96];
            snprintf(what, sizeof what, "%s: migration to version %d", s->name, k + 1);
            rc = cy_sqlite_exec(db, s->migrations[k], what, err);
        }
        if (!rc) {
            char pragma[48];
            snprintf(pragma, sizeof pragma, "PRAGMA user_version=%d", want);
            rc = cy_sqlite_exec(db, pragma, s->name, err);
        }
    }
    if (!rc)
        rc = cy_sqlite_exec(db, "COMMIT", s->name, err);
    if (rc)
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}
