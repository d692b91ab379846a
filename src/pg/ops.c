/*
 * ops.c: inspecting, dumping and restoring a node's PostgreSQL schema
 * (see ops.h).
 *
 * pg_dump and pg_restore run as child processes (posix_spawn, no shell:
 * the connection string is one argument, never parsed by a shell); this
 * process waits for them.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pg/db.h"
#include "pg/ops.h"

extern char **environ;

/* One value of a one-row query into out[cap] ("" when NULL or no row). */
static comity_err one_value(PGconn *c, const char *sql, const char *param, char *out,
                            size_t cap, comity_error *err)
{
    const char *p[1] = {param};
    PGresult *r = PQexecParams(c, sql, param ? 1 : 0, NULL, param ? p : NULL, NULL, NULL, 0);
    comity_err rc = COMITY_OK;
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        rc = cy_pg_fail(c, r, "PostgreSQL", err);
    else
        snprintf(out, cap, "%s", PQntuples(r) ? PQgetvalue(r, 0, 0) : "");
    PQclear(r);
    return rc;
}

comity_err cy_pg_inspect(const char *conninfo, const char *name, cy_pg_facts *f,
                         comity_error *err)
{
    memset(f, 0, sizeof *f);
    PGconn *c;
    comity_err rc = cy_pg_connect(conninfo, &c, err);
    if (rc)
        return rc;
    char v[32] = "", n[16] = "", rec[8] = "";
    if ((rc = one_value(c, "SELECT coalesce(current_schema(), '')", NULL, f->schema,
                        sizeof f->schema, err)) ||
        (rc = one_value(c, "SHOW server_version", NULL, f->server, sizeof f->server, err)) ||
        (rc = one_value(c, "SHOW synchronous_standby_names", NULL, f->sync_standbys,
                        sizeof f->sync_standbys, err)) ||
        (rc = one_value(c, "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'",
                        NULL, n, sizeof n, err)) ||
        (rc = one_value(c, "SELECT pg_is_in_recovery()::int", NULL, rec, sizeof rec, err)))
        goto done;
    f->standbys = atoi(n);
    f->in_recovery = atoi(rec);
    /* the table may be missing (no node): to_regclass answers NULL then */
    char has[8] = "";
    if ((rc = one_value(c, "SELECT (to_regclass('comity_schema') IS NOT NULL)::int", NULL, has,
                        sizeof has, err)))
        goto done;
    if (atoi(has) &&
        (rc = one_value(c, "SELECT version FROM comity_schema WHERE name = $1", name, v,
                        sizeof v, err)))
        goto done;
    f->version = atoi(v);
done:
    PQfinish(c);
    return rc;
}

/* The path of PostgreSQL's client program `prog` into out[cap]:
 * $COMITY_PG_BIN/prog, the newest /usr/lib/postgresql/N/bin/prog, or
 * `prog` itself (looked up on PATH). */
static void program(const char *prog, char *out, size_t cap)
{
    const char *bin = getenv("COMITY_PG_BIN");
    if (bin && *bin) {
        snprintf(out, cap, "%s/%s", bin, prog);
        return;
    }
    snprintf(out, cap, "%s", prog);
    DIR *d = opendir("/usr/lib/postgresql");
    if (!d)
        return;
    long best = -1;
    struct dirent *e;
    while ((e = readdir(d))) {
        char *end;
        long ver = strtol(e->d_name, &end, 10);
        char p[512];
        if (end == e->d_name || *end || ver <= best)
            continue;
        snprintf(p, sizeof p, "/usr/lib/postgresql/%s/bin/%s", e->d_name, prog);
        if (access(p, X_OK) == 0) {
            best = ver;
            snprintf(out, cap, "%s", p);
        }
    }
    closedir(d);
}

/* Runs argv (argv[0] a path or a name on PATH) with stdout into
 * `out_path` when not NULL; waits.  COMITY_ERR_IO unless it exits 0. */
static comity_err run(char *const argv[], const char *out_path, comity_error *err)
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    if (out_path)
        posix_spawn_file_actions_addopen(&fa, 1, out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    pid_t pid;
    int e = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (e)
        return cy_fail(err, COMITY_ERR_IO, "cannot run %s: %s (install PostgreSQL's client"
                       " programs, or name their directory in COMITY_PG_BIN)", argv[0],
                       strerror(e));
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return cy_fail(err, COMITY_ERR_IO, "waiting for %s: %s", argv[0], strerror(errno));
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        return cy_fail(err, COMITY_ERR_IO, "%s failed (exit %d; its messages are above)",
                       argv[0], WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
    return COMITY_OK;
}

comity_err cy_pg_dump(const char *conninfo, const char *schema, const char *out,
                      comity_error *err)
{
    if (access(out, F_OK) == 0)
        return cy_fail(err, COMITY_ERR_EXISTS, "%s exists already", out);
    char prog[600];
    program("pg_dump", prog, sizeof prog);
    char *argv[] = {prog, "--format=custom", "--no-owner", "--no-privileges",
                    "--schema", (char *)schema, "--file", (char *)out,
                    "--dbname", (char *)conninfo, NULL};
    comity_err rc = run(argv, NULL, err);
    if (rc) {
        unlink(out);
        return rc;
    }
    int fd = open(out, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) != 0) {
        rc = cy_fail(err, COMITY_ERR_IO, "%s: fsync: %s", out, strerror(errno));
        unlink(out);
    }
    if (fd >= 0)
        close(fd);
    return rc;
}

comity_err cy_pg_restore(const char *conninfo, const char *schema, const char *in,
                         comity_error *err)
{
    cy_pg_facts f;
    comity_err rc;
    PGconn *c;
    if ((rc = cy_pg_connect(conninfo, &c, err)))
        return rc;
    /* the connection's first schema, made when missing, must be the
     * dumped one and hold no node */
    char *id = PQescapeIdentifier(c, schema, strlen(schema));
    char sql[200];
    snprintf(sql, sizeof sql, "CREATE SCHEMA IF NOT EXISTS %s", id ? id : "\"\"");
    PQfreemem(id);
    rc = cy_pg_exec(c, sql, "restore: making the schema", err);
    PQfinish(c);
    if (rc || (rc = cy_pg_inspect(conninfo, "store", &f, err)))
        return rc;
    if (strcmp(f.schema, schema) != 0)
        return cy_fail(err, COMITY_ERR_USAGE,
                       "restore: the backup is of the schema %s, and the connection's first"
                       " schema is '%s': add options=-csearch_path%%3D%s to the URI", schema,
                       f.schema, schema);
    if (f.version)
        return cy_fail(err, COMITY_ERR_EXISTS, "restore: the schema %s already holds a node",
                       schema);
    /* the dump's table of contents without its CREATE SCHEMA (the schema
     * exists now: made above, or by the operator with its grants) */
    char prog[600], list[4200];
    snprintf(list, sizeof list, "%s.list", in);
    program("pg_restore", prog, sizeof prog);
    char *largv[] = {prog, "--list", (char *)in, NULL};
    if ((rc = run(largv, list, err)))
        goto done;
    char *text = NULL;
    size_t len = 0;
    if ((rc = comity_read_file(list, 64u << 20, &text, &len, err)))
        goto done;
    FILE *fp = fopen(list, "w");
    if (!fp) {
        cy_free(text);
        rc = cy_fail(err, COMITY_ERR_IO, "%s: %s", list, strerror(errno));
        goto done;
    }
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
        fprintf(fp, "%s%s\n", strstr(line, " SCHEMA - ") ? ";" : "", line);
    cy_free(text);
    if (fclose(fp) != 0) {
        rc = cy_fail(err, COMITY_ERR_IO, "%s: %s", list, strerror(errno));
        goto done;
    }
    char *argv[] = {prog, "--no-owner", "--no-privileges", "--exit-on-error",
                    "--single-transaction", "--use-list", list, "--dbname", (char *)conninfo,
                    (char *)in, NULL};
    rc = run(argv, NULL, err);
done:
    unlink(list);
    return rc;
}
