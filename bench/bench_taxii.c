/*
 * bench_taxii.c: TAXII over HTTP on a real node (plain HTTP, loopback,
 * in this process), measured with a libcurl client.
 *
 *   (a) page latency: GET objects/?limit=100 pages of a collection holding
 *       BENCH_TAXII_OBJECTS objects (default 1,000,000), walking by `next`
 *       from several starting points; p50 and p99 over all requests.
 *       Target: p50 <= 5 ms.  Baseline named in specs/taxii.md: medallion
 *       (the OASIS reference server) took 23-32 s per page of a
 *       3,099-object collection.
 *   (b) ingest: POST envelopes of 1,000 STIX indicators each over two
 *       concurrent connections (bodies built before the clock starts);
 *       objects stored per second.  Bodies are compact JSON, or, with
 *       BENCH_TAXII_SPACED=1, spaced as Python's json.dumps writes them
 *       (", " and ": ").  Target: >= 20,000/s.
 *
 * The collection for (a) is filled through the store interface (one
 * transaction per 10,000 objects) so the run stays short; (b) goes through
 * HTTP, JSON parsing and the per-object STIX checks like any client.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/resource.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "node/node.h"

#define FILL_BATCH 10000
#define PAGES_PER_WALK 200
#define WALKS 10
#define POSTS 40
#define PER_POST 1000
#define CLIENTS 2 /* concurrent posting connections */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU seconds (user + system) used by this process so far. */
static double cpu_s(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)u.ru_utime.tv_sec + (double)u.ru_utime.tv_usec / 1e6 +
           (double)u.ru_stime.tv_sec + (double)u.ru_stime.tv_usec / 1e6;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
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

static void die(const char *what, const comity_error *e)
{
    fprintf(stderr, "bench_taxii: %s: %s\n", what, e ? e->msg : "");
    exit(1);
}

struct poster {
    const char *url, *user;
    char **envs;
    size_t *lens;
    int from, to;
    long stored;
    int failed;
};

/* One client connection posting envelopes [from, to). */
static void *poster_run(void *arg)
{
    struct poster *p = arg;
    CURL *c = curl_easy_init();
    struct sink body = {0};
    struct curl_slist *ph = curl_slist_append(NULL, "Accept: " CY_MEDIA_TAXII);
    ph = curl_slist_append(ph, "Content-Type: " CY_MEDIA_TAXII);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, ph);
    curl_easy_setopt(c, CURLOPT_USERPWD, p->user);
    curl_easy_setopt(c, CURLOPT_URL, p->url);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
    for (int i = p->from; i < p->to; i++) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, p->envs[i]);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)p->lens[i]);
        body.len = 0;
        long code = 0;
        if (curl_easy_perform(c) != CURLE_OK ||
            (curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code), code != 202)) {
            p->failed = 1;
            break;
        }
        char *sc = strstr(body.buf, "\"success_count\":");
        p->stored += sc ? atol(sc + 16) : 0;
    }
    curl_slist_free_all(ph);
    curl_easy_cleanup(c);
    free(body.buf);
    return NULL;
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

/* in with a space after each ',' and ':' outside strings, as Python's
 * json.dumps writes (BENCH_TAXII_SPACED); no escapes in the input. */
static void spaced(char *out, size_t cap, const char *in)
{
    size_t n = 0;
    bool str = false;
    for (; *in && n + 2 < cap; in++) {
        out[n++] = *in;
        if (*in == '"')
            str = !str;
        else if (!str && (*in == ',' || *in == ':'))
            out[n++] = ' ';
    }
    out[n] = 0;
}

int main(void)
{
    long total = getenv("BENCH_TAXII_OBJECTS") ? atol(getenv("BENCH_TAXII_OBJECTS")) : 1000000;
    char dir[] = "/tmp/comity-bench-taxii-XXXXXX";
    if (!mkdtemp(dir))
        die("mkdtemp", NULL);
    char path[256];
    snprintf(path, sizeof path, "%s/n", dir);
    comity_error e = {0};
    comity_node_init_opts io = {.origin = "bench.example", .no_tls_cert = 1};
    comity_node_created made;
    comity_node *node = NULL;
    if (comity_node_init(path, &io, &made, &e) || comity_node_open(path, &node, &e))
        die("init", &e);
    char user[256];
    snprintf(user, sizeof user, "operator:%s", made.operator_token);

    cy_collection pub, com;
    cy_collection_id(node->origin, "public", pub.id);
    cy_collection_id(node->origin, "community", com.id);
    if (cy_store_collection_get(node->store, node->api_root, pub.id, &pub, &e) ||
        cy_store_collection_get(node->store, node->api_root, com.id, &com, &e))
        die("collections", &e);

    /* fill the public collection */
    double t0 = now_s();
    static char texts[FILL_BATCH][512];
    static char ids[FILL_BATCH][64];
    static cy_obj_in in[FILL_BATCH];
    for (long done = 0; done < total;) {
        long n = total - done < FILL_BATCH ? total - done : FILL_BATCH;
        for (long k = 0; k < n; k++) {
            long i = done + k;
            indicator(texts[k], sizeof texts[k], i, "2024-01-01T00:00:00.000Z");
            snprintf(ids[k], sizeof ids[k], "indicator--%08lx-0000-4000-8000-%012lx",
                     (unsigned long)(i >> 16), (unsigned long)i);
            in[k] = (cy_obj_in){.id = ids[k], .type = "indicator", .spec_version = "2.1",
                                .version = "2024-01-01T00:00:00.000Z",
                                .version_us = 1704067200000000LL, .media_type = CY_MEDIA_STIX,
                                .json = texts[k], .json_len = strlen(texts[k])};
        }
        /* ten objects share each date_added, as bulk loads do */
        int64_t d = 1704067200000000LL + done / 10;
        if (cy_store_objects_add(node->store, pub.n, in, (size_t)n, NULL, 0, &d, NULL, &e))
            die("fill", &e);
        done += n;
    }
    double fill = now_s() - t0;

    comity_serve_opts so;
    comity_serve_opts_default(&so);
    so.listen = "127.0.0.1:0";
    so.insecure_http = 1;
    so.max_body = 64u << 20;
    if (comity_node_start(node, &so, &e))
        die("start", &e);
    unsigned port = comity_node_port(node);

    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURL *c = curl_easy_init();
    struct sink body = {0};
    struct curl_slist *hdr = curl_slist_append(NULL, "Accept: " CY_MEDIA_TAXII);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");

    /* (a) page latency */
    static double lat[WALKS * PAGES_PER_WALK];
    size_t nlat = 0;
    char url[512];
    for (int w = 0; w < WALKS; w++) {
        char next[64] = "";
        /* start at an added_after spread over the collection */
        char after[CY_STIX_TIME_BUF];
        cy_stix_time_format_us(after, 1704067200000000LL + (total / 10) * w / WALKS);
        for (int p = 0; p < PAGES_PER_WALK; p++) {
            if (next[0])
                snprintf(url, sizeof url,
                         "http://127.0.0.1:%u/comity/collections/%s/objects/?limit=100&added_after=%s&next=%s",
                         port, pub.id, after, next);
            else
                snprintf(url, sizeof url,
                         "http://127.0.0.1:%u/comity/collections/%s/objects/?limit=100&added_after=%s",
                         port, pub.id, after);
            curl_easy_setopt(c, CURLOPT_URL, url);
            body.len = 0;
            double a = now_s();
            CURLcode rc = curl_easy_perform(c);
            double b = now_s();
            long code = 0;
            curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
            if (rc != CURLE_OK || code != 200)
                die("GET page", NULL);
            lat[nlat++] = (b - a) * 1000.0;
            char *nx = strstr(body.buf, "\"next\":\"");
            if (!nx)
                break;
            nx += 8;
            size_t l = strcspn(nx, "\"");
            snprintf(next, sizeof next, "%.*s", (int)l, nx);
        }
    }
    qsort(lat, nlat, sizeof lat[0], cmp_d);
    double p50 = lat[nlat / 2], p99 = lat[nlat * 99 / 100];

    /* (b) ingest: envelopes are built before the clock starts */
    size_t cap = (size_t)PER_POST * 600 + 64;
    bool spacing = getenv("BENCH_TAXII_SPACED") && atoi(getenv("BENCH_TAXII_SPACED"));
    static char *envs[POSTS];
    static size_t lens[POSTS];
    for (int p = 0; p < POSTS; p++) {
        envs[p] = malloc(cap);
        size_t len = (size_t)snprintf(envs[p], cap, "{\"objects\":[");
        for (int k = 0; k < PER_POST; k++) {
            char o[512], sp[576];
            indicator(o, sizeof o, 50000000L + (long)p * PER_POST + k, "2025-01-01T00:00:00.000Z");
            if (spacing)
                spaced(sp, sizeof sp, o);
            len += (size_t)snprintf(envs[p] + len, cap - len, "%s%s", k ? (spacing ? ", " : ",") : "",
                                    spacing ? sp : o);
        }
        len += (size_t)snprintf(envs[p] + len, cap - len, "]}");
        lens[p] = len;
    }
    snprintf(url, sizeof url, "http://127.0.0.1:%u/comity/collections/%s/objects/", port,
             com.id);
    double ta = now_s(), ca = cpu_s();
    pthread_t th[CLIENTS];
    struct poster ps[CLIENTS];
    for (int k = 0; k < CLIENTS; k++) {
        ps[k] = (struct poster){.url = url, .user = user, .envs = envs, .lens = lens,
                                .from = k * POSTS / CLIENTS, .to = (k + 1) * POSTS / CLIENTS};
        pthread_create(&th[k], NULL, poster_run, &ps[k]);
    }
    long stored = 0;
    for (int k = 0; k < CLIENTS; k++) {
        pthread_join(th[k], NULL);
        if (ps[k].failed)
            die("POST", NULL);
        stored += ps[k].stored;
    }
    double ingest = now_s() - ta, ingest_cpu = cpu_s() - ca;

    printf("TAXII page of 100 from a %ld-object collection (%zu requests, one keep-alive "
           "connection):\n",
           total, nlat);
    printf("  comity   p50 %.2f ms   p99 %.2f ms   (target p50 <= 5 ms)\n", p50, p99);
    printf("  baseline medallion (specs/taxii.md): 23000-32000 ms per page of a 3,099-object "
           "collection\n");
    printf("TAXII POST ingest (%d envelopes of %d indicators, %d connections):\n", POSTS,
           PER_POST, CLIENTS);
    printf("  comity   %.0f objects/s (%ld stored in %.2f s)   (target >= 20,000/s)\n",
           (double)stored / ingest, stored, ingest);
    printf("  cpu      %.1f us per object (node and client together; %.0f objects per "
           "CPU-second, independent of other load on the machine)\n",
           ingest_cpu * 1e6 / (double)stored, (double)stored / ingest_cpu);
    printf("(setup: %ld objects loaded through the store in %.1f s, %.0f/s)\n", total, fill,
           (double)total / fill);

    curl_slist_free_all(hdr);
    curl_easy_cleanup(c);
    curl_global_cleanup();
    free(body.buf);
    for (int p = 0; p < POSTS; p++)
        free(envs[p]);
    comity_node_created_free(&made);
    comity_node_close(node);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "bench_taxii: could not remove %s\n", dir);
    return stored == (long)POSTS * PER_POST ? 0 : 1;
}
