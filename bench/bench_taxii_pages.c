/*
 * bench_taxii_pages.c: TAXII page latency at 1,000,000 objects on each
 * store backend, SQLite and PostgreSQL, in one run (issue 20 point 3;
 * docs/operations.md, "TAXII pages at 1,000,000 objects").
 *
 * For each backend a fresh node gets BENCH_TAXII_PAGES_OBJECTS (default
 * 1,000,000) STIX indicators in its public collection, loaded through the
 * store interface (cy_store_objects_add, FILL_BATCH objects a
 * transaction sharing one date_added, as a TAXII POST of FILL_BATCH
 * objects would, one second after the batch before),
 * then serves plain HTTP on loopback in this process and a libcurl client
 * on one keep-alive connection, as an anonymous reader, times:
 *   first       GET objects/?limit=100 (the collection's first page)
 *   added_after GET objects/?limit=100&added_after=T, T drawn over the
 *               whole collection (a first page from anywhere)
 *   next        the pages after those, walked by the `next` the server
 *               returned (NEXT_PER_WALK per walk): middle pages by `next`
 *   type+after  GET objects/?limit=100&match[type]=indicator&added_after=T
 * REQS requests of each kind (the next pages: WALKS x NEXT_PER_WALK), the
 * kinds interleaved; p50 and p99 of each beside the target, p50 <= 5 ms.
 *
 * PostgreSQL: BENCH_TAXII_PG names a server (bench/taxii_pages.sh starts a
 * throw-away cluster and sets it: fsync=on, a Unix socket); the node's
 * store is a new schema there.  Without it the program says so and runs
 * nothing (bench/run runs the script too), unless BENCH_TAXII_PAGES_ONLY
 * is sqlite; BENCH_TAXII_PAGES_ONLY=sqlite|pg runs one backend.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <libpq-fe.h>

#include "node/node.h"

#define FILL_BATCH 1000 /* objects a transaction, and a date_added (a TAXII POST) */
#define REQS 300          /* requests of each kind of page */
#define WALKS 30          /* added_after starting points walked by next */
#define NEXT_PER_WALK 10  /* next pages timed per walk */
#define PAGE 100          /* limit= */
#define T0_US 1704067200000000LL /* 2024-01-01T00:00:00Z, the first date_added */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void die(const char *what, const comity_error *e)
{
    fprintf(stderr, "bench_taxii_pages: %s: %s\n", what, e ? e->msg : "");
    exit(1);
}

struct sink {
    char *buf;
    size_t len, cap;
};

static size_t on_body(char *p, size_t sz, size_t n, void *ctx)
{
    struct sink *s = ctx;
    size_t k = sz * n;
    if (s->len + k + 1 > s->cap) {
        s->cap = (s->len + k + 1) * 2;
        s->buf = realloc(s->buf, s->cap);
        if (!s->buf)
            abort();
    }
    memcpy(s->buf + s->len, p, k);
    s->len += k;
    s->buf[s->len] = 0;
    return k;
}

/* A new empty PostgreSQL store: `uri` with a new schema first in its
 * search_path (static buffer). */
static const char *pg_fresh(const char *uri)
{
    static char out[1200];
    char schema[64], sql[96];
    snprintf(schema, sizeof schema, "bench_pages_%ld", (long)getpid());
    snprintf(sql, sizeof sql, "CREATE SCHEMA %s", schema);
    PGconn *c = PQconnectdb(uri);
    PGresult *r = PQstatus(c) == CONNECTION_OK ? PQexec(c, sql) : NULL;
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        fprintf(stderr, "bench_taxii_pages: BENCH_TAXII_PG: %s", PQerrorMessage(c));
        exit(1);
    }
    PQclear(r);
    PQfinish(c);
    snprintf(out, sizeof out, "%s%soptions=-csearch_path%%3D%s", uri, strchr(uri, '?') ? "&" : "?",
             schema);
    return out;
}

static void indicator(char *out, size_t cap, long i, const char *when)
{
    snprintf(out, cap,
             "{\"type\":\"indicator\",\"spec_version\":\"2.1\","
             "\"id\":\"indicator--%08lx-0000-4000-8000-%012lx\",\"created\":\"%s\","
             "\"modified\":\"%s\",\"name\":\"bench %ld\",\"pattern\":\"[domain-name:value = "
             "'d%ld.example']\",\"pattern_type\":\"stix\",\"valid_from\":\"%s\"}",
             (unsigned long)(i >> 16), (unsigned long)i, when, when, i, i, when);
}

/* Fills coll with total indicators through the store interface. */
static double fill(comity_store *st, int64_t coll, long total)
{
    static char texts[FILL_BATCH][512];
    static char ids[FILL_BATCH][64];
    static cy_obj_in in[FILL_BATCH];
    comity_error e = {0};
    double t0 = now_s();
    for (long done = 0; done < total;) {
        long n = total - done < FILL_BATCH ? total - done : FILL_BATCH;
        for (long k = 0; k < n; k++) {
            long i = done + k;
            indicator(texts[k], sizeof texts[k], i, "2024-01-01T00:00:00.000Z");
            snprintf(ids[k], sizeof ids[k], "indicator--%08lx-0000-4000-8000-%012lx",
                     (unsigned long)(i >> 16), (unsigned long)i);
            in[k] = (cy_obj_in){.id = ids[k], .type = "indicator", .spec_version = "2.1",
                                .version = "2024-01-01T00:00:00.000Z",
                                .version_us = T0_US, .media_type = CY_MEDIA_STIX,
                                .json = texts[k], .json_len = strlen(texts[k])};
        }
        int64_t d = T0_US + done / FILL_BATCH * 1000000;
        if (cy_store_objects_add(st, coll, in, (size_t)n, NULL, 0, &d, NULL, &e))
            die("fill", &e);
        done += n;
    }
    return now_s() - t0;
}

struct client {
    CURL *c;
    struct sink body;
    unsigned port;
    const char *coll;
    size_t bytes, pages; /* of all pages so far */
};

/* One GET of objects/?QUERY; returns its time in ms, OUT next (cap 128)
 * the page's `next` or "". */
static double page(struct client *k, const char *query, char next[128])
{
    char url[768];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/comity/collections/%s/objects/?%s", k->port,
             k->coll, query);
    curl_easy_setopt(k->c, CURLOPT_URL, url);
    k->body.len = 0;
    double a = now_s();
    CURLcode rc = curl_easy_perform(k->c);
    double b = now_s();
    long code = 0;
    curl_easy_getinfo(k->c, CURLINFO_RESPONSE_CODE, &code);
    if (rc != CURLE_OK || code != 200) {
        fprintf(stderr, "bench_taxii_pages: GET ?%s: %ld %s\n", query, code,
                k->body.buf ? k->body.buf : "");
        exit(1);
    }
    next[0] = 0;
    char *nx = strstr(k->body.buf, "\"next\":\"");
    if (nx) {
        nx += 8;
        snprintf(next, 128, "%.*s", (int)strcspn(nx, "\""), nx);
    }
    /* a page with a next has PAGE objects, the last one at least one:
     * counted by their ids */
    size_t objs = 0;
    for (const char *p = k->body.buf; (p = strstr(p, "\"id\":\"indicator--")); p++)
        objs++;
    if (objs == 0 || (next[0] && objs != PAGE)) {
        fprintf(stderr, "bench_taxii_pages: GET ?%s: %zu objects\n", query, objs);
        exit(1);
    }
    k->bytes += k->body.len;
    k->pages++;
    return (b - a) * 1000.0;
}

enum { K_FIRST, K_AFTER, K_NEXT, K_TYPE, NKIND };
static const char *const KIND[NKIND] = {"first", "added_after", "next", "type+after"};

struct lat {
    double v[REQS + WALKS * NEXT_PER_WALK];
    size_t n;
};

static void time_pages(unsigned port, const char *coll, long total, struct lat *out)
{
    struct client k = {.c = curl_easy_init(), .port = port, .coll = coll};
    struct curl_slist *hdr = curl_slist_append(NULL, "Accept: " CY_MEDIA_TAXII);
    curl_easy_setopt(k.c, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(k.c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(k.c, CURLOPT_WRITEDATA, &k.body);
    curl_easy_setopt(k.c, CURLOPT_NOPROXY, "*");
    char next[128], q[512], ts[CY_STIX_TIME_BUF];
    /* a deterministic spread of added_after over the collection's dates
     * (one a second from T0_US), leaving a full batch after each */
    int64_t span = (total / FILL_BATCH - 1) * 1000000;
    unsigned long long x = 88172645463325252ULL;
    for (int i = 0; i < NKIND; i++)
        out[i].n = 0;
    page(&k, "limit=100", next); /* warm the connection */
    for (int i = 0; i < REQS; i++) {
        out[K_FIRST].v[out[K_FIRST].n++] = page(&k, "limit=100", next);
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        cy_stix_time_format_us(ts, T0_US + (int64_t)(x % (unsigned long long)span));
        snprintf(q, sizeof q, "limit=100&added_after=%s", ts);
        out[K_AFTER].v[out[K_AFTER].n++] = page(&k, q, next);
        if (i % (REQS / WALKS) == 0) /* a walk by next from this page */
            for (int w = 0; w < NEXT_PER_WALK && next[0]; w++) {
                char nq[768];
                snprintf(nq, sizeof nq, "%s&next=%s", q, next);
                out[K_NEXT].v[out[K_NEXT].n++] = page(&k, nq, next);
            }
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        cy_stix_time_format_us(ts, T0_US + (int64_t)(x % (unsigned long long)span));
        snprintf(q, sizeof q, "limit=100&match[type]=indicator&added_after=%s", ts);
        out[K_TYPE].v[out[K_TYPE].n++] = page(&k, q, next);
    }
    printf("           (pages of %zu bytes on average)\n", k.bytes / k.pages);
    curl_slist_free_all(hdr);
    curl_easy_cleanup(k.c);
    free(k.body.buf);
}

/* One backend: a node in dir/name whose store is `store` (NULL: SQLite),
 * filled, started, timed, closed.  Prints its rows; returns how many
 * kinds missed the target. */
static int run(const char *dir, const char *name, const char *store, long total)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    comity_error e = {0};
    comity_node_init_opts io = {.origin = "bench.example", .no_tls_cert = 1, .store = store};
    comity_node_created made;
    comity_node *node = NULL;
    if (comity_node_init(path, &io, &made, &e) || comity_node_open(path, &node, &e))
        die("init", &e);
    cy_collection pub;
    cy_collection_id(node->origin, "public", pub.id);
    if (cy_store_collection_get(node->store, node->api_root, pub.id, &pub, &e))
        die("collection", &e);
    double t_fill = fill(node->store, pub.n, total);
    printf("%-10s %ld objects loaded through the store in %.1f s (%.0f/s)\n", name, total, t_fill,
           (double)total / t_fill);
    fflush(stdout);
    comity_serve_opts so;
    comity_serve_opts_default(&so);
    so.listen = "127.0.0.1:0";
    so.insecure_http = 1;
    if (comity_node_start(node, &so, &e))
        die("start", &e);
    static struct lat lat[NKIND];
    time_pages(comity_node_port(node), pub.id, total, lat);
    int missed = 0;
    for (int i = 0; i < NKIND; i++) {
        qsort(lat[i].v, lat[i].n, sizeof lat[i].v[0], cmp_d);
        double p50 = lat[i].v[lat[i].n / 2], p99 = lat[i].v[lat[i].n * 99 / 100];
        bool met = p50 <= 5.0;
        missed += !met;
        printf("%-10s %-12s %4zu req   p50 %7.2f ms   p99 %7.2f ms   (target p50 <= 5 ms: %s)\n",
               name, KIND[i], lat[i].n, p50, p99, met ? "met" : "NOT met");
    }
    fflush(stdout);
    comity_node_created_free(&made);
    comity_node_close(node);
    return missed;
}

int main(void)
{
    long total = getenv("BENCH_TAXII_PAGES_OBJECTS") ? atol(getenv("BENCH_TAXII_PAGES_OBJECTS"))
                                                     : 1000000;
    if (total < 2 * FILL_BATCH)
        total = 2 * FILL_BATCH;
    const char *pg = getenv("BENCH_TAXII_PG");
    const char *only = getenv("BENCH_TAXII_PAGES_ONLY");
    if (!(pg && *pg) && !(only && !strcmp(only, "sqlite"))) {
        printf("bench_taxii_pages: runs from bench/taxii_pages.sh, which starts a PostgreSQL "
               "cluster (BENCH_TAXII_PAGES_ONLY=sqlite for SQLite alone)\n");
        return 0;
    }
    char dir[] = "/tmp/comity-bench-pages-XXXXXX";
    if (!mkdtemp(dir))
        die("mkdtemp", NULL);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    printf("TAXII pages of %d from a %ld-object collection, anonymous reader, one keep-alive "
           "connection:\n",
           PAGE, total);
    int missed = 0;
    if (!only || !strcmp(only, "sqlite"))
        missed += run(dir, "sqlite", NULL, total);
    if (only && strcmp(only, "pg"))
        ;
    else if (pg && *pg)
        missed += run(dir, "postgresql", pg_fresh(pg), total);
    else
        printf("postgresql not run: set BENCH_TAXII_PG to a server's URI, or run "
               "bench/taxii_pages.sh\n");
    curl_global_cleanup();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "bench_taxii_pages: could not remove %s\n", dir);
    return missed ? 2 : 0;
}
