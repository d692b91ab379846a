/*
 * db.h: the one way libcomity connects to PostgreSQL (private).
 *
 * The PostgreSQL store (src/store/store_pg.c) opens its connections here,
 * as the SQLite store opens its files through src/sqlite/db.h, so that
 * every connection gets the same settings and the schema one versioning:
 *
 *   - every session runs with synchronous_commit=on (a COMMIT returns once
 *     its WAL is flushed, and on a synchronous standby when one is named
 *     in synchronous_standby_names) and lock_timeout = CY_PG_LOCK_WAIT_MS,
 *     whatever the server's defaults are; a transaction that wants less
 *     says so itself (SET LOCAL, as the store's record intake does);
 *   - a server running with fsync=off is refused: nothing it acknowledges
 *     survives a crash of the machine, and comity promises that;
 *   - the schema version of each named schema ("store") is a row of the
 *     table comity_schema(name, version), and a schema is a table of
 *     migrations as for SQLite: migrations[k] takes it from version k to
 *     k+1.  cy_pg_migrate applies the missing ones in one transaction
 *     under a transaction-level advisory lock (two processes opening one
 *     database at once migrate it once), and refuses a database newer
 *     than the build.
 *
 * Tables are made in the first schema of the connection's search_path, so
 * that several nodes (or tests) may share one database, each with its own
 * schema (options=-csearch_path=NAME in the connection string).
 *
 * This module sits below the store (base < pg < store): it knows libpq,
 * not what the store keeps.
 */
#ifndef COMITY_PG_DB_H
#define COMITY_PG_DB_H

#include <stddef.h>

#include <libpq-fe.h>

#include "base/base.h"

/* How long a statement waits for a lock before it fails with
 * COMITY_ERR_LOCKED (as the SQLite store's busy wait). */
#define CY_PG_LOCK_WAIT_MS 10000

typedef struct cy_pg_schema {
    const char *name;              /* its row in comity_schema, and for messages */
    const char *const *migrations; /* migrations[k]: version k -> k+1 (SQL text) */
    size_t nmigrations;            /* = the version this build writes */
} cy_pg_schema;

/* The libpq connection string of a store location: "postgresql://..." and
 * "postgres://..." are libpq URIs, given as they are; "postgres:KEYWORDS"
 * and "postgresql:KEYWORDS" (no "//") are keyword=value strings
 * ("postgres:host=/run/pg dbname=comity").  NULL when `uri` names no
 * PostgreSQL database.  Borrowed from uri. */
const char *cy_pg_conninfo(const char *uri);

/* Connects and sets the session up (see the top).  OUT *conn: close with
 * PQfinish (NULL on error, nothing to close).  COMITY_ERR_DB with libpq's
 * message on failure; the connection string itself (which may hold a
 * password) is never part of a message. */
comity_err cy_pg_connect(const char *conninfo, PGconn **conn, comity_error *err);

/* Sets a (re)connected session up: synchronous_commit, lock_timeout and
 * quieter notices.  Called by cy_pg_connect and after PQreset. */
comity_err cy_pg_session(PGconn *c, comity_error *err);

/* Brings the schema s->name to s->nmigrations (see the top).  OUT *was
 * (may be NULL): the version found (0 for a database without it).
 * COMITY_ERR_DB when the database is newer than this build or a migration
 * fails (then nothing of it is applied). */
comity_err cy_pg_migrate(PGconn *c, const cy_pg_schema *s, int *was, comity_error *err);

/* Runs sql (one or more statements, no parameters, results dropped).
 * Errors as cy_pg_fail, naming `what`. */
comity_err cy_pg_exec(PGconn *c, const char *sql, const char *what, comity_error *err);

/* The comity error for a failed call (r may be NULL: then the
 * connection's message): COMITY_ERR_LOCKED for a lock wait that timed out,
 * a deadlock or a serialization failure; COMITY_ERR_IO for a full disk or
 * another shortage of the server's (SQLSTATE class 53), an I/O error
 * (58030) or a lost connection; COMITY_ERR_DB otherwise.  The
 * message names `what`, then PostgreSQL's message and detail. */
comity_err cy_pg_fail(PGconn *c, const PGresult *r, const char *what, comity_error *err);

/* The SQLSTATE of a failed result ("23505"...), or "" when there is none. */
const char *cy_pg_state(const PGresult *r);

#endif
