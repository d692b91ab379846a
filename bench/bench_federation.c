/*
 * bench_federation.c: records pulled from one node to another on
 * loopback (docs/federation.md), verified and logged, both nodes in this
 * process on this machine.
 *
 * Node A holds N small signed green records of pk.mofa (posted over HTTP
 * by 16 libcurl clients before the clock starts, and covered by A's
 * checkpoint); node B, which pins A, then starts and pulls them: pages of
 * 1000 with a receipt each, the page's checkpoint checked once, each
 * receipt's inclusion checked, each record submitted to B's intake
 * (signature checked, logged, stored).  The clock runs from B's start
 * until B's cursor has every record; CPU is this process's (both nodes,
 * all threads) over the same span.  Printed beside one core's raw Ed25519
 * verify measured in the same run, and the targets: 1,000,000
 * records in <= 150 s (6,667/s) and CPU per record <= 3x one raw verify.
 * The CPU is then split into user and system time, and between the nodes
 * by thread (/proc/self/task: A's threads are those alive when the clock
 * starts, B's those started after it; threads that ended meanwhile and the
 * main thread's polling are counted apart), with the page faults and
 * context switches per record (getrusage), so that the kernel's share
 * (loopback TCP, fdatasync, SQLite's pages) shows beside the user's.
 *
 *   BENCH_FED_RECORDS=N (default 100000)   BENCH_FED_DIR (default /var/tmp)
 *   BENCH_FED_THREADS=1: also each thread's user and system CPU
 */
#define _GNU_SOURCE
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <dirent.h>
#include <sys/syscall.h>

#include <curl/curl.h>
#include <sodium.h>

#include "comity.h"

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

/* User and system CPU, page faults and context switches of this process,
 * all threads, so far. */
struct usage {
    double user, sys;
    long minflt, majflt, vcsw, ivcsw;
};

static struct usage usage_now(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (struct usage){(double)u.ru_utime.tv_sec + (double)u.ru_utime.tv_usec / 1e6,
                          (double)u.ru_stime.tv_sec + (double)u.ru_stime.tv_usec / 1e6,
                          u.ru_minflt, u.ru_majflt, u.ru_nvcsw, u.ru_nivcsw};
}

/* The live threads of this process with their user and system CPU so far
 * (/proc/self/task/TID/stat, in clock ticks), at most TASKS_MAX. */
#define TASKS_MAX 256
struct task {
    long tid;
    double user, sys;
    char name[20];
};

static size_t tasks_now(struct task *t)
{
    size_t n = 0;
    double tick = (double)sysconf(_SC_CLK_TCK);
    DIR *d = opendir("/proc/self/task");
    struct dirent *de;
    while (d && n < TASKS_MAX && (de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char path[300], buf[1024];
        snprintf(path, sizeof path, "/proc/self/task/%s/stat", de->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        size_t got = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[got] = 0;
        char *open = strchr(buf, '('), *close = strrchr(buf, ')');
        unsigned long ut = 0, st = 0;
        if (!open || !close ||
            sscanf(close + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
            continue;
        size_t nl = (size_t)(close - open - 1);
        if (nl >= sizeof t[n].name)
            nl = sizeof t[n].name - 1;
        memcpy(t[n].name, open + 1, nl);
        t[n].name[nl] = 0;
        t[n].tid = strtol(de->d_name, NULL, 10);
        t[n].user = (double)ut / tick;
        t[n].sys = (double)st / tick;
        n++;
    }
    if (d)
        closedir(d);
    return n;
}

static const struct task *task_find(const struct task *t, size_t n, long tid)
{
    for (size_t i = 0; i < n; i++)
        if (t[i].tid == tid)
            return &t[i];
    return NULL;
}

static void die(const char *what, const comity_error *e)
{
    fprintf(stderr, "bench_federation: %s: %s\n", what, e ? e->msg : "");
    exit(1);
}

static double thread_cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One raw Ed25519 verify on one core, in CPU time (the best of 5 slices
 * of 0.1 s), so that it compares with the CPU per record below whatever
 * else the shared machine runs. */
static double verify_us(void)
{
    unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
    unsigned char sig[crypto_sign_BYTES], msg[400];
    memset(msg, 'm', sizeof msg);
    crypto_sign_keypair(pk, sk);
    crypto_sign_detached(sig, NULL, msg, sizeof msg, sk);
    double best = 0;
    for (int slice = 0; slice < 5; slice++) {
        double t0 = thread_cpu_s(), t;
        size_t n = 0;
        do {
            if (crypto_sign_verify_detached(sig, msg, sizeof msg, pk) != 0)
                die("verify", NULL);
            n++;
        } while ((t = thread_cpu_s() - t0) < 0.1);
        if (n / t > best)
            best = n / t;
    }
    return 1e6 / best;
}

struct post {
    unsigned port;
    const char *token;
    char **env;
    size_t *len;
    size_t from, to;
    size_t bad;
};

static size_t discard(char *p, size_t s, size_t n, void *c)
{
    (void)p;
    (void)c;
    return s * n;
}

static void *poster(void *arg)
{
    struct post *p = arg;
    CURL *h = curl_easy_init();
    char auth[300], url[128];
    snprintf(auth, sizeof auth, "Authorization: Token %s", p->token);
    snprintf(url, sizeof url, "http://127.0.0.1:%u/v1/records", p->port);
    struct curl_slist *hd = curl_slist_append(NULL, auth);
    hd = curl_slist_append(hd, "Content-Type: application/json");
    hd = curl_slist_append(hd, "Expect:");
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
    curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(h, CURLOPT_URL, url);
    for (size_t k = p->from; k < p->to; k++) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, p->env[k]);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)p->len[k]);
        long code = 0;
        if (curl_easy_perform(h) == CURLE_OK)
            curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
        if (code != 201)
            p->bad++;
    }
    curl_slist_free_all(hd);
    curl_easy_cleanup(h);
    return NULL;
}

/* The init output's node key, and a node made in dir. */
static void make_node(const char *dir, const char *origin, char **vkey)
{
    comity_error e = {0};
    comity_node_init_opts io = {.origin = origin, .no_tls_cert = 1};
    comity_node_created cr;
    if (comity_node_init(dir, &io, &cr, &e))
        die("init", &e);
    *vkey = strdup(cr.node_vkey);
    comity_node_created_free(&cr);
    char conf[700];
    snprintf(conf, sizeof conf, "%s/node.conf", dir);
    static const char behind[] = "created_behind = 1d\n";
    if (comity_write_file(conf, behind, sizeof behind - 1, 0644, 1, &e))
        die("node.conf", &e);
}

static comity_node *serve(const char *dir)
{
    comity_error e = {0};
    comity_node *n = NULL;
    if (comity_node_open(dir, &n, &e))
        die("open", &e);
    comity_serve_opts so;
    comity_serve_opts_default(&so);
    so.listen = "127.0.0.1:0";
    so.insecure_http = 1;
    so.threads = 2;
    so.allow_many = "127.0.0.0/8";
    if (comity_node_start(n, &so, &e))
        die("start", &e);
    return n;
}

static uint64_t log_size(const char *dir)
{
    char p[700];
    snprintf(p, sizeof p, "%s/log/checkpoint", dir);
    char *t = NULL;
    size_t l = 0;
    if (comity_read_file(p, 1 << 16, &t, &l, NULL))
        return 0;
    comity_checkpoint cp;
    uint64_t s = comity_checkpoint_parse(t, l, &cp, NULL) == COMITY_OK ? cp.size : 0;
    comity_free(t);
    return s;
}

static uint64_t pulled(comity_node *b)
{
    char *js = NULL;
    if (comity_node_peer_list(b, &js, NULL))
        return 0;
    json_t *v = json_loads(js, 0, NULL);
    comity_free(js);
    uint64_t n = (uint64_t)json_integer_value(json_object_get(json_array_get(v, 0), "pulled"));
    const char *err = json_string_value(json_object_get(json_array_get(v, 0), "error"));
    if (err && *err)
        fprintf(stderr, "  (B's error: %s)\n", err);
    json_decref(v);
    return n;
}

int main(void)
{
    size_t total = getenv("BENCH_FED_RECORDS") ? strtoul(getenv("BENCH_FED_RECORDS"), NULL, 10)
                                               : 100000;
    const char *base = getenv("BENCH_FED_DIR") ? getenv("BENCH_FED_DIR") : "/var/tmp";
    char dir[512], da[600], db[600];
    snprintf(dir, sizeof dir, "%s/bench-fed-XXXXXX", base);
    if (!mkdtemp(dir))
        die("mkdtemp", NULL);
    snprintf(da, sizeof da, "%s/a", dir);
    snprintf(db, sizeof db, "%s/b", dir);
    comity_error e = {0};
    if (comity_init(&e) || curl_global_init(CURL_GLOBAL_DEFAULT))
        die("init", &e);
    comity_key *pk = NULL, *in = NULL;
    if (comity_key_generate("pk.mofa", &pk, &e) || comity_key_generate("in.mea", &in, &e))
        die("keys", &e);
    char *va, *vb;
    make_node(da, "bench.a.test", &va);
    make_node(db, "bench.b.test", &vb);
    /* parties and peers, before serving */
    comity_node *n = NULL;
    char *tok = NULL, *tin = NULL;
    if (comity_node_open(db, &n, &e) ||
        comity_node_party_add(n, "in.mea", comity_key_vkey(in), comity_key_recipient(in), &tin,
                              &e))
        die("B's party", &e);
    comity_node_close(n);
    comity_node *a = serve(da);
    unsigned pa = comity_node_port(a);
    const char *pv[1] = {comity_key_vkey(in)}, *pr[1] = {comity_key_recipient(in)};
    if (comity_node_party_add(a, "pk.mofa", comity_key_vkey(pk), comity_key_recipient(pk), &tok,
                              &e) ||
        comity_node_peer_add(a, "http://127.0.0.1:1", vb, pv, pr, 1, &e))
        die("A's parties and peer", &e);
    if (comity_node_open(db, &n, &e))
        die("open B", &e);
    char ua[64];
    snprintf(ua, sizeof ua, "http://127.0.0.1:%u", pa);
    const char *av[1] = {comity_key_vkey(pk)}, *ar[1] = {comity_key_recipient(pk)};
    if (comity_node_peer_add(n, ua, va, av, ar, 1, &e))
        die("B's peer", &e);
    comity_node_close(n);

    /* N records on A, logged and checkpointed before the clock starts */
    char **env = calloc(total, sizeof *env);
    size_t *len = calloc(total, sizeof *len);
    const char *to[] = {"in.mea"};
    comity_record_params p = {.type = "notification", .tlp = "green", .to = to, .nto = 1};
    for (size_t i = 0; i < total; i++) {
        char body[128];
        int bl = snprintf(body, sizeof body,
                          "{\"severity\":3,\"sector\":\"energy\",\"summary\":\"scan %zu\"}", i);
        if (comity_record_sign(pk, &p, body, (size_t)bl, &env[i], &len[i], &e))
            die("sign", &e);
    }
    double t0 = now_s();
    pthread_t th[CLIENTS];
    struct post ps[CLIENTS];
    for (int i = 0; i < CLIENTS; i++) {
        ps[i] = (struct post){pa, tok, env, len, total * (size_t)i / CLIENTS,
                              total * (size_t)(i + 1) / CLIENTS, 0};
        pthread_create(&th[i], NULL, poster, &ps[i]);
    }
    size_t bad = 0;
    for (int i = 0; i < CLIENTS; i++) {
        pthread_join(th[i], NULL);
        bad += ps[i].bad;
    }
    double post_s = now_s() - t0;
    while (log_size(da) < total)
        usleep(100 * 1000);
    printf("  %zu records posted to A in %.1f s (%zu refused), A's log covers them\n", total,
           post_s, bad);
    fflush(stdout); /* a profiler may start counting from this line */
    double v0 = verify_us();

    /* the clock: B starts, pulls until it holds them all */
    static struct task ta0[TASKS_MAX], ta1[TASKS_MAX];
    size_t nt0 = tasks_now(ta0);
    struct usage u0 = usage_now();
    double w0 = now_s(), c0 = cpu_s();
    comity_node *b = serve(db);
    uint64_t got = 0;
    double last_print = w0;
    while ((got = pulled(b)) < total) {
        usleep(50 * 1000);
        if (now_s() - last_print > 10) {
            printf("  ... %llu pulled after %.0f s\n", (unsigned long long)got, now_s() - w0);
            fflush(stdout);
            last_print = now_s();
        }
        if (now_s() - w0 > 3600)
            die("pull: over an hour", NULL);
    }
    double wall = now_s() - w0, cpu = cpu_s() - c0;
    struct usage u1 = usage_now();
    size_t nt1 = tasks_now(ta1);
    double v1 = verify_us();
    comity_node_close(b);
    uint64_t bsize = log_size(db);
    comity_node_close(a);
    double rate = (double)total / wall, per = cpu / (double)total * 1e6, ver = (v0 + v1) / 2;
    printf("  pulled %zu records A -> B in %.1f s: %.0f records/s (1,000,000 in %.0f s; target "
           "<= 150 s: %s)\n",
           total, wall, rate, 1e6 / rate, 1e6 / rate <= 150 ? "met" : "NOT met");
    printf("  CPU per record, both nodes, all in: %.0f us = %.1f x one raw Ed25519 verify "
           "(%.1f us before, %.1f after; target <= 3x: %s)\n",
           per, per / ver, v0, v1, per / ver <= 3 ? "met" : "NOT met");
    /* the split: user and system in all, then by node (by thread) */
    double us = (u1.user - u0.user) / (double)total * 1e6,
           sy = (u1.sys - u0.sys) / (double)total * 1e6;
    printf("  of which user %.0f us (%.1f x), system %.0f us (%.1f x); per record %.2f page "
           "faults, %.2f voluntary and %.2f involuntary context switches\n",
           us, us / ver, sy, sy / ver, (double)(u1.minflt - u0.minflt) / (double)total,
           (double)(u1.vcsw - u0.vcsw) / (double)total,
           (double)(u1.ivcsw - u0.ivcsw) / (double)total);
    double au = 0, as = 0, bu = 0, bs = 0, mu = 0, ms = 0;
    long self = (long)syscall(SYS_gettid);
    for (size_t i = 0; i < nt1; i++) {
        const struct task *was = task_find(ta0, nt0, ta1[i].tid);
        double du = ta1[i].user - (was ? was->user : 0), ds = ta1[i].sys - (was ? was->sys : 0);
        double *pu = ta1[i].tid == self ? &mu : was ? &au : &bu,
               *psy = ta1[i].tid == self ? &ms : was ? &as : &bs;
        *pu += du;
        *psy += ds;
    }
    double gone = (u1.user - u0.user) + (u1.sys - u0.sys) - (au + as + bu + bs + mu + ms);
    printf("  by node, us per record user + system: A (serving) %.0f + %.0f, B (pulling, "
           "verifying, logging) %.0f + %.0f, the bench's polling %.0f + %.0f, threads ended "
           "meanwhile %.0f\n",
           au / (double)total * 1e6, as / (double)total * 1e6, bu / (double)total * 1e6,
           bs / (double)total * 1e6, mu / (double)total * 1e6, ms / (double)total * 1e6,
           gone / (double)total * 1e6);
    if (getenv("BENCH_FED_THREADS"))
        for (size_t i = 0; i < nt1; i++) {
            const struct task *was = task_find(ta0, nt0, ta1[i].tid);
            printf("    %s %-16s user %6.0f us  system %6.0f us per record\n",
                   ta1[i].tid == self ? "-" : was ? "A" : "B",
                   ta1[i].name, (ta1[i].user - (was ? was->user : 0)) / (double)total * 1e6,
                   (ta1[i].sys - (was ? was->sys : 0)) / (double)total * 1e6);
        }
    printf("  B's log: %llu entries (want %zu)\n", (unsigned long long)bsize, total);
    for (size_t i = 0; i < total; i++)
        comity_free(env[i]);
    free(env);
    free(len);
    comity_free(tok);
    comity_free(tin);
    free(va);
    free(vb);
    comity_key_free(pk);
    comity_key_free(in);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return 0;
}
