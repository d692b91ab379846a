/* testutil.c: see testutil.h. */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <sqlite3.h>

#include "util/testutil.h"

comity_error tu_last_err;

static const char *join(const char *env, const char *fallback, const char *rel)
{
    static char buf[4][PATH_MAX];
    static int i;
    const char *root = getenv(env);
    if (!root)
        root = fallback;
    char *b = buf[i++ & 3];
    snprintf(b, PATH_MAX, "%s/%s", root, rel);
    return b;
}

const char *tu_shared(const char *rel) { return join("COMITY_SHARED", "../shared", rel); }
const char *tu_src(const char *rel) { return join("COMITY_SRC", ".", rel); }

char *tu_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    assert_non_null(b);
    if (fread(b, 1, (size_t)n, f) != (size_t)n)
        fail_msg("short read on %s", path);
    b[n] = 0;
    fclose(f);
    if (len)
        *len = (size_t)n;
    return b;
}

char *tu_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    char tmpl[PATH_MAX];
    snprintf(tmpl, sizeof tmpl, "%s/comity-test-XXXXXX", base ? base : "/tmp");
    char *d = mkdtemp(tmpl);
    assert_non_null(d);
    return strdup(d);
}

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb; (void)flag; (void)ftw;
    return remove(p);
}

void tu_rmrf(const char *path)
{
    nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

void tu_check_msg(const char *what, const char *needle)
{
    if (needle && !strstr(tu_last_err.msg, needle))
        fail_msg("%s: message '%s' lacks '%s'", what, tu_last_err.msg, needle);
}

int tu_store_pg(void)
{
    const char *k = getenv("COMITY_TEST_STORE");
    return k && !strcmp(k, "pg");
}

/* The cluster's URI (static), or NULL when there is none. */
static const char *pg_uri(void)
{
    static char uri[1024];
    const char *file = getenv("COMITY_TEST_PG_URI_FILE");
    FILE *f = file ? fopen(file, "r") : NULL;
    if (!f)
        return NULL;
    char *ok = fgets(uri, sizeof uri, f);
    fclose(f);
    uri[strcspn(uri, "\n")] = 0;
    return ok && strncmp(uri, "postgresql:", 11) == 0 ? uri : NULL;
}

int tu_store_skip(void)
{
    if (!tu_store_pg() || pg_uri())
        return 0;
    const char *ci = getenv("CI");
    if (ci && !strcmp(ci, "true")) {
        fprintf(stderr, "no PostgreSQL cluster for the PostgreSQL tests (CI=true: failing)\n");
        return 1;
    }
    fprintf(stderr, "no PostgreSQL cluster: skipping the PostgreSQL tests\n");
    return 77;
}

const char *tu_store_fresh(void)
{
    static char out[1200];
    static int n;
    if (!tu_store_pg())
        return NULL;
    const char *uri = pg_uri();
    if (!uri)
        fail_msg("no PostgreSQL cluster (COMITY_TEST_PG_URI_FILE)");
    char schema[64], sql[128];
    snprintf(schema, sizeof schema, "t%ld_%d", (long)getpid(), n++);
    snprintf(sql, sizeof sql, "CREATE SCHEMA %s", schema);
    PGconn *c = PQconnectdb(uri);
    PGresult *r = PQstatus(c) == CONNECTION_OK ? PQexec(c, sql) : NULL;
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        fail_msg("creating schema %s: %s", schema, PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
    snprintf(out, sizeof out, "%s%soptions=-csearch_path%%3D%s", uri, strchr(uri, '?') ? "&" : "?",
             schema);
    return out;
}

void tu_node_sql(const char *nodedir, const char *sqlite_sql, const char *pg_sql)
{
    char file[PATH_MAX];
    snprintf(file, sizeof file, "%s/store", nodedir);
    FILE *f = fopen(file, "r");
    if (!f) {
        snprintf(file, sizeof file, "%s/node.db", nodedir);
        sqlite3 *h = NULL;
        assert_int_equal(sqlite3_open(file, &h), SQLITE_OK);
        sqlite3_busy_timeout(h, 10000);
        char *msg = NULL;
        if (sqlite3_exec(h, sqlite_sql, NULL, NULL, &msg) != SQLITE_OK)
            fail_msg("%s: %s", sqlite_sql, msg ? msg : "?");
        sqlite3_close(h);
        return;
    }
    char uri[1300];
    char *ok = fgets(uri, sizeof uri, f);
    fclose(f);
    assert_non_null(ok);
    uri[strcspn(uri, "\n")] = 0;
    PGconn *c = PQconnectdb(uri);
    PGresult *r = PQexec(c, pg_sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
        fail_msg("%s: %s", pg_sql, PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
}

size_t tu_sink_write(char *p, size_t sz, size_t n, void *sink)
{
    tu_sink *s = sink;
    size_t k = sz * n;
    char *nb = realloc(s->buf, s->len + k + 1);
    if (!nb)
        return 0;
    s->buf = nb;
    memcpy(s->buf + s->len, p, k);
    s->len += k;
    s->buf[s->len] = 0;
    return k;
}
