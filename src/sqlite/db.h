/*
 * db.h: the one way libcomity opens an SQLite database (private).
 *
 * Three parts of comity keep SQLite files: the node's store
 * (src/store/store_sqlite.c), the transparency log (src/tlog/log.c) and
 * the witness (src/tlog/witness.c).  They open them here, so that all
 * three get the same settings and the same schema versioning:
 *
 *   - journal_mode=WAL and synchronous=FULL: readers run beside the one
 *     writer, and every transaction is durable when COMMIT returns (a
 *     caller that wants less durability for a connection says so in its
 *     own pragmas, as the store's intake connection does);
 *   - the schema version is PRAGMA user_version, and a schema is a table
 *     of migrations: migrations[k] takes a database from version k to
 *     k+1.  cy_sqlite_migrate applies the missing ones in one
 *     transaction and refuses a database newer than the build;
 *   - a file made before its schema was versioned (user_version 0 though
 *     its tables exist) is recognised by one of its tables and counted as
 *     version 1, the first migration being the schema it was made with.
 *
 * This module sits below both store and tlog (base < sqlite < store,
 * tlog): it knows SQLite, not what either keeps.
 */
#ifndef COMITY_SQLITE_DB_H
#define COMITY_SQLITE_DB_H

#include <stdbool.h>
#include <stddef.h>

#include <sqlite3.h>

#include "base/base.h"

typedef struct cy_sqlite_schema {
    const char *name;              /* for messages: "store", "log.db", "witness.db" */
    const char *const *migrations; /* migrations[k]: version k -> k+1 (SQL text) */
    size_t nmigrations;            /* = the version this build writes */
    /* A table whose presence at user_version 0 marks a file made before
     * versioning, which is then at version 1 (NULL: none such). */
    const char *legacy_table;
} cy_sqlite_schema;

typedef struct cy_sqlite_opts {
    bool create;         /* create the file when missing (else NOTFOUND-like DB error) */
    bool serialized;     /* SQLITE_OPEN_FULLMUTEX: one handle shared by threads */
    int busy_ms;         /* sqlite3_busy_timeout, when busy is NULL */
    int (*busy)(void *, int); /* a busy handler (sqlite3_busy_handler), or NULL */
    void *busy_arg;
    const char *pragmas; /* more statements, run after WAL and synchronous=FULL */
} cy_sqlite_opts;

/* Opens `path` with the settings above.  OUT *db: close with sqlite3_close
 * (also on error it is NULL, nothing to close).  COMITY_ERR_DB with the
 * path and SQLite's message on failure. */
comity_err cy_sqlite_open(const char *path, const cy_sqlite_opts *o, sqlite3 **db,
                          comity_error *err);

/* Brings db to s->nmigrations (see the top).  Takes the write lock only
 * when a migration is due.  OUT *was (may be NULL): the version found.
 * COMITY_ERR_DB when the file is newer than this build or a migration
 * fails (then nothing of it is applied). */
comity_err cy_sqlite_migrate(sqlite3 *db, const cy_sqlite_schema *s, int *was,
                             comity_error *err);

/* Runs sql (one or more statements without results).  COMITY_ERR_LOCKED
 * when the database stayed busy, else COMITY_ERR_DB, naming `what`. */
comity_err cy_sqlite_exec(sqlite3 *db, const char *sql, const char *what, comity_error *err);

/* The comity error for a failed SQLite call on db: COMITY_ERR_LOCKED for
 * BUSY / LOCKED, COMITY_ERR_IO for an I/O error or a full disk (IOERR,
 * FULL), COMITY_ERR_DB otherwise; the message names `what`. */
comity_err cy_sqlite_fail(sqlite3 *db, const char *what, comity_error *err);

/* PRAGMA user_version of db, or -1 when it cannot be read. */
int cy_sqlite_version(sqlite3 *db);

#endif
