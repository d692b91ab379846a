/*
 * bench_intake.c: record intake over HTTP on a real node (plain HTTP,
 * loopback, in this process), with 16 concurrent libcurl clients.
 *
 * Every record is signed before the clock starts; each POST /v1/records
 * goes through the node's whole intake (size, envelope, payload, author
 * and signature, login, type), and its 201 comes only once the record's
 * log entry and its store row are durable (group commit: one log fsync and
 * one store fsync per batch).  Prints records/s, p50/p99 latency, the CPU
 * time per record (the whole process, and split: the client threads'
 * CLOCK_THREAD_CPUTIME_ID, the rest is the server), whether the target is
 * met, then the baseline from the same run: the raw rate of durable log
 * appends (comity_log_append with durable=1 from 16 threads) on the same
 * disk.  Target: >= 10,000 records/s, i.e. at most 200 us of CPU per record
 * all in on a 2-core machine.
 *
 * BENCH_INTAKE_RECORDS (default 40,000) records; BENCH_INTAKE_THREADS
 * (default 16) server worker threads.  Each client opens its keep-alive
 * connection (a GET /v1/node) before the clock starts, 20 ms after the
 * previous one, and all start posting together.
 *
 * On the shared 2-core test machine it is CPU-bound (docs/node.md).
 */
#define _GNU_SOURCE /* pthread_setname_np */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "node/node.h"

#define CLIENTS 16

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

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

static void die(const char *what, const comity_error *e)
{
    fprintf(stderr, "bench_intake: %s: %s\n", what, e ? e->msg : "");
    exit(1);
}

static size_t discard(char *p, size_t s, size_t n, void *c)
{
    (void)p;
    (void)c;
    return s * n;
}

static pthread_barrier_t start_line;

struct client {
    int no;
    const char *url, *token, *warm;
    char **env;
    size_t *len;
    size_t first, n;
    double *lat;
    size_t bad;
    double *t0;
    double cpu; /* this client thread's CPU time while posting */
};

static double thread_cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *client_main(void *arg)
{
    struct client *c = arg;
    pthread_setname_np(pthread_self(), "bench-client"); /* for profilers */
    CURL *h = curl_easy_init();
    char auth[300];
    snprintf(auth, sizeof auth, "Authorization: Token %s", c->token);
    struct curl_slist *hd = curl_slist_append(NULL, auth);
    hd = curl_slist_append(hd, "Content-Type: application/json");
    hd = curl_slist_append(hd, "Expect:");
    curl_easy_setopt(h, CURLOPT_URL, c->url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
    curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
    /* connect before the clock starts, one client after the other, so that
     * the server's worker threads each take some of the connections */
    struct timespec ts = {0, (long)c->no * 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
    curl_easy_setopt(h, CURLOPT_URL, c->warm);
    curl_easy_perform(h);
    curl_easy_setopt(h, CURLOPT_URL, c->url);
    curl_easy_setopt(h, CURLOPT_HTTPGET, 0L);
    pthread_barrier_wait(&start_line);
    if (c->no == 0)
        *c->t0 = now_s();
    double cpu0 = thread_cpu_s();
    for (size_t i = 0; i < c->n; i++) {
        size_t k = c->first + i;
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, c->env[k]);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)c->len[k]);
        double t0 = now_s();
        long code = 0;
        if (curl_easy_perform(h) == CURLE_OK)
            curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
        c->lat[k] = now_s() - t0;
        if (code != 201)
            c->bad++;
    }
    c->cpu = thread_cpu_s() - cpu0;
    curl_slist_free_all(hd);
    curl_easy_cleanup(h);
    return NULL;
}

struct appender {
    comity_log *log;
    size_t n;
    int fail;
};

static void *append_main(void *arg)
{
    struct appender *a = arg;
    char entry[COMITY_RECORD_ENTRY_LEN + 1];
    for (size_t i = 0; i < a->n; i++) {
        snprintf(entry, sizeof entry, "comity-record-v1:%064zx", (size_t)pthread_self() ^ i);
        if (comity_log_append(a->log, entry, COMITY_RECORD_ENTRY_LEN, 1, NULL, NULL))
            a->fail = 1;
    }
    return NULL;
}

/* The baseline: durable appends from CLIENTS threads to a fresh log. */
static double log_baseline(const char *dir, size_t total)
{
    comity_error e = {0};
    comity_nkey *k = NULL;
    comity_log *log = NULL;
    char path[512];
    snprintf(path, sizeof path, "%s/baseline-log", dir);
    if (comity_nkey_generate("bench.example/baseline", COMITY_NOTE_ED25519, &k, &e) ||
        comity_log_create(path, "bench.example/baseline", k, NULL, &e) ||
        comity_log_open(path, COMITY_LOG_WRITE | COMITY_LOG_BACKGROUND, k, &log, &e))
        die("baseline log", &e);
    pthread_t th[CLIENTS];
    struct appender a[CLIENTS];
    double t0 = now_s();
    for (int i = 0; i < CLIENTS; i++) {
        a[i] = (struct appender){log, total / CLIENTS, 0};
        pthread_create(&th[i], NULL, append_main, &a[i]);
    }
    for (int i = 0; i < CLIENTS; i++)
        pthread_join(th[i], NULL);
    double dt = now_s() - t0;
    comity_log_close(log);
    comity_nkey_free(k);
    return (double)(total / CLIENTS * CLIENTS) / dt;
}

int main(void)
{
    size_t total = getenv("BENCH_INTAKE_RECORDS") ? strtoul(getenv("BENCH_INTAKE_RECORDS"), NULL, 10)
                                                 : 40000;
    unsigned threads = getenv("BENCH_INTAKE_THREADS")
                           ? (unsigned)strtoul(getenv("BENCH_INTAKE_THREADS"), NULL, 10)
                           : 16;
    total = total / CLIENTS * CLIENTS;
    comity_error e = {0};
    char dir[] = "/tmp/bench_intake.XXXXXX";
    if (!mkdtemp(dir))
        die("mkdtemp", NULL);
    char ndir[600];
    snprintf(ndir, sizeof ndir, "%s/node", dir);
    comity_node_init_opts io = {.origin = "bench.example/node", .no_tls_cert = 1};
    comity_node_created cr;
    if (comity_node_init(ndir, &io, &cr, &e))
        die("init", &e);
    comity_node_created_free(&cr);
    comity_node *node = NULL;
    comity_key *key = NULL;
    char *token = NULL;
    if (comity_node_open(ndir, &node, &e) || comity_key_generate("pk.mofa", &key, &e) ||
        comity_node_party_add(node, "pk.mofa", comity_key_vkey(key), comity_key_recipient(key),
                              &token, &e))
        die("party", &e);

    /* sign everything before the clock starts */
    char **env = calloc(total, sizeof *env);
    size_t *len = calloc(total, sizeof *len);
    double *lat = calloc(total, sizeof *lat);
    const char *to[] = {"in.cert-in"};
    comity_record_params p = {.type = "notification", .tlp = "green", .to = to, .nto = 1};
    double ts0 = now_s();
    for (size_t i = 0; i < total; i++) {
        char body[128];
        int bl = snprintf(body, sizeof body, "{\"severity\":3,\"sector\":\"energy\",\"summary\":\"scan %zu from 203.0.113.7\"}", i);
        if (comity_record_sign(key, &p, body, (size_t)bl, &env[i], &len[i], &e))
            die("sign", &e);
    }
    double sign_s = now_s() - ts0;

    comity_serve_opts so;
    comity_serve_opts_default(&so);
    so.listen = "127.0.0.1:0";
    so.insecure_http = 1;
    so.threads = threads;
    so.max_per_ip = 256;
    if (comity_node_start(node, &so, &e))
        die("start", &e);
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/v1/records", comity_node_port(node));
    curl_global_init(CURL_GLOBAL_DEFAULT);

    char warm[128];
    snprintf(warm, sizeof warm, "http://127.0.0.1:%u/v1/node", comity_node_port(node));
    pthread_t th[CLIENTS];
    struct client c[CLIENTS];
    double t0 = 0;
    pthread_barrier_init(&start_line, NULL, CLIENTS + 1);
    for (int i = 0; i < CLIENTS; i++) {
        c[i] = (struct client){i, url, token, warm, env, len, (size_t)i * (total / CLIENTS),
                               total / CLIENTS, lat, 0, &t0, 0};
        pthread_create(&th[i], NULL, client_main, &c[i]);
    }
    pthread_barrier_wait(&start_line);
    double c0 = cpu_s();
    size_t bad = 0;
    double ccpu = 0;
    for (int i = 0; i < CLIENTS; i++) {
        pthread_join(th[i], NULL);
        bad += c[i].bad;
        ccpu += c[i].cpu;
    }
    double dt = now_s() - t0, cpu = cpu_s() - c0;
    pthread_barrier_destroy(&start_line);
    comity_node_stop(node, 1000);

    /* check: every record is stored and logged */
    comity_log *log = NULL;
    char ldir[700];
    snprintf(ldir, sizeof ldir, "%s/log", ndir);
    uint64_t size = 0;
    if (comity_log_open(ldir, COMITY_LOG_READ, NULL, &log, &e) ||
        comity_log_read_checkpoint(log, NULL, NULL, &size, NULL, &e))
        die("reading the log", &e);
    comity_log_close(log);

    qsort(lat, total, sizeof *lat, cmp_d);
    printf("record intake, %d clients, %u server threads, %zu records "
           "(signed beforehand in %.1f s)\n", CLIENTS, threads, total, sign_s);
    double rate = (double)total / dt;
    printf("  %.0f records/s   p50 %.2f ms   p99 %.2f ms\n", rate, lat[total / 2] * 1e3,
           lat[total * 99 / 100] * 1e3);
    printf("  CPU per record: %.0f us all in = %.0f us server + %.0f us libcurl clients "
           "(%ld cores; 10,000/s on them allows %.0f us all in)\n",
           cpu / (double)total * 1e6, (cpu - ccpu) / (double)total * 1e6,
           ccpu / (double)total * 1e6, sysconf(_SC_NPROCESSORS_ONLN),
           1e6 * (double)sysconf(_SC_NPROCESSORS_ONLN) / 10000.0);
    printf("  target >= 10,000 records/s: %s\n", rate >= 10000 ? "met" : "NOT met");
    printf("  refused or failed: %zu; log size after the run: %llu (every record logged: %s)\n",
           bad, (unsigned long long)size, size == total && bad == 0 ? "yes" : "NO");
    double base = log_baseline(dir, total);
    printf("  baseline, same run: durable log appends (%d threads, no HTTP, no store): "
           "%.0f entries/s\n", CLIENTS, base);

    for (size_t i = 0; i < total; i++)
        comity_free(env[i]);
    free(env);
    free(len);
    free(lat);
    comity_free(token);
    comity_key_free(key);
    comity_node_close(node);
    curl_global_cleanup();
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "bench_intake: could not remove %s\n", dir);
    return bad ? 1 : 0;
}
