/*
 * db.c: connecting to PostgreSQL and versioning schemas there (see db.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg/db.h"

const char *cy_pg_conninfo(const char *uri)
{
    if (!uri)
        return NULL;
    if (!strncmp(uri, "postgresql://", 13) || !strncmp(uri, "postgres://", 11))
        return uri;
    if (!strncmp(uri, "postgresql:", 11))
        return uri + 11;
    if (!strncmp(uri, "postgres:", 9))
        return uri + 9;
    return NULL;
}

const char *cy_pg_state(const PGresult *r)
{
    const char *s = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    return s ? s : "";
}

/* libpq's messages end in a newline; a comity message is one line. */
static void one_line(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
    for (char *p = dst; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    size_t n = strlen(dst);
    while (n && dst[n - 1] == ' ')
        dst[--n] = '\0';
}

comity_err cy_pg_fail(PGconn *c, const PGresult *r, const char *what, comity_error *err)
{
    char msg[512], detail[256] = "";
    const char *m = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    one_line(msg, sizeof msg, m ? m : c ? PQerrorMessage(c) : "no connection");
    if (r && PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL))
        one_line(detail, sizeof detail, PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL));
    const char *st = cy_pg_state(r);
    /* lock_not_available (lock_timeout), deadlock_detected,
     * serialization_failure: another writer, as SQLITE_BUSY */
    comity_err code = !strcmp(st, "55P03") || !strcmp(st, "40P01") || !strcmp(st, "40001")
                          ? COMITY_ERR_LOCKED
                          : COMITY_ERR_DB;
    /* the server's disk or files failed, not the statement: class 53
     * (insufficient resources: disk_full 53100, out_of_memory,
     * too_many_connections), 58030 io_error, or the connection lost (the
     * node answers 503, "cannot store now", rather than 500) */
    if (!strncmp(st, "53", 2) || !strcmp(st, "58030"))
        code = COMITY_ERR_IO;
    if (c && PQstatus(c) == CONNECTION_BAD)
        return cy_fail(err, COMITY_ERR_IO, "%s: connection to PostgreSQL lost: %s", what, msg);
    return cy_fail(err, code, "%s: %s%s%s", what, msg, *detail ? " " : "", detail);
}

comity_err cy_pg_exec(PGconn *c, const char *sql, const char *what, comity_error *err)
{
    PGresult *r = PQexec(c, sql);
    ExecStatusType s = PQresultStatus(r);
    comity_err rc = s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK
                        ? COMITY_OK
                        : cy_pg_fail(c, r, what, err);
    PQclear(r);
    return rc;
}

/* Notices ("relation already exists, skipping") are not errors; the store
 * has no terminal to print them on. */
static void quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

comity_err cy_pg_session(PGconn *c, comity_error *err)
{
    char sql[160];
    snprintf(sql, sizeof sql,
             "SET synchronous_commit = on; SET lock_timeout = %d;"
             " SET client_min_messages = warning",
             CY_PG_LOCK_WAIT_MS);
    return cy_pg_exec(c, sql, "PostgreSQL session", err);
}

comity_err cy_pg_connect(const char *conninfo, PGconn **out, comity_error *err)
{
    *out = NULL;
    PGconn *c = PQconnectdb(conninfo);
    if (!c)
        return cy_fail(err, COMITY_ERR_NOMEM, "PostgreSQL: out of memory");
    if (PQstatus(c) != CONNECTION_OK) {
        char msg[512];
        one_line(msg, sizeof msg, PQerrorMessage(c));
        PQfinish(c);
        return cy_fail(err, COMITY_ERR_DB, "connecting to PostgreSQL: %s", msg);
    }
    PQsetNoticeProcessor(c, quiet, NULL);
    comity_err rc = cy_pg_session(c, err);
    PGresult *r = rc ? NULL : PQexec(c, "SHOW fsync");
    if (!rc && PQresultStatus(r) != PGRES_TUPLES_OK)
        rc = cy_pg_fail(c, r, "PostgreSQL: reading fsync", err);
    else if (!rc && strcmp(PQgetvalue(r, 0, 0), "on") != 0)
        rc = cy_fail(err, COMITY_ERR_DB,
                     "PostgreSQL: the server runs with fsync=%s; comity needs fsync=on"
                     " (nothing acknowledged may be lost)", PQgetvalue(r, 0, 0));
    PQclear(r);
    if (rc) {
        PQfinish(c);
        return rc;
    }
    *out = c;
    return COMITY_OK;
}

/* The version of schema `name`, read under the migration lock: 0 when the
 * schema has no row yet, -1 with *rc set on error. */
static int version_of(PGconn *c, const char *name, comity_err *rc, comity_error *err)
{
    const char *v[1] = {name};
    PGresult *r = PQexecParams(c, "SELECT version FROM comity_schema WHERE name = $1", 1, NULL,
                               v, NULL, NULL, 0);
    int ver = -1;
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        *rc = cy_pg_fail(c, r, name, err);
    else
        ver = PQntuples(r) ? atoi(PQgetvalue(r, 0, 0)) : 0;
    PQclear(r);
    return ver;
}

comity_err cy_pg_migrate(PGconn *c, const cy_pg_schema *s, int *was, comity_error *err)
{
    int want = (int)s->nmigrations;
    if (was)
        *was = 0;
    /* the lock first: CREATE TABLE IF NOT EXISTS is not safe against a
     * second process doing the same at once */
    comity_err rc = cy_pg_exec(c,
                               "BEGIN;"
                               " SELECT pg_advisory_xact_lock(hashtext('comity.migrate.'"
                               "  || current_schema()));"
                               " CREATE TABLE IF NOT EXISTS comity_schema(name text PRIMARY KEY,"
                               "  version integer NOT NULL)",
                               s->name, err);
    int v = rc ? -1 : version_of(c, s->name, &rc, err);
    if (was && v >= 0)
        *was = v;
    if (!rc && v > want) {
        rc = cy_fail(err, COMITY_ERR_DB, "%s: schema version %d is newer than this build (%d)",
                     s->name, v, want);
    } else if (!rc && v < want) {
        for (int k = v; k < want && !rc; k++) {
            char what[96];
            snprintf(what, sizeof what, "%s: migration to version %d", s->name, k + 1);
            rc = cy_pg_exec(c, s->migrations[k], what, err);
        }
        if (!rc) {
            char num[16];
            snprintf(num, sizeof num, "%d", want);
            const char *p[2] = {s->name, num};
            PGresult *r = PQexecParams(c,
                                       "INSERT INTO comity_schema(name, version) VALUES($1, $2)"
                                       " ON CONFLICT (name) DO UPDATE SET version = excluded.version",
                                       2, NULL, p, NULL, NULL, 0);
            if (PQresultStatus(r) != PGRES_COMMAND_OK)
                rc = cy_pg_fail(c, r, s->name, err);
            PQclear(r);
        }
    }
    if (!rc)
        rc = cy_pg_exec(c, "COMMIT", s->name, err);
    if (rc)
        cy_pg_exec(c, "ROLLBACK", s->name, NULL);
    return rc;
}
