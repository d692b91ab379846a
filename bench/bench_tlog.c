/*
 * bench_tlog.c: the transparency log's throughput, beside its limits.
 *
 * Prints, in one run:
 *   - the raw SHA-256 rate of this machine (libsodium) for the two message
 *     sizes a log hashes: a leaf (1 + 200 bytes) and a node (1 + 64 bytes);
 *     every entry costs one of each (plus 1/256 of a node above), so this is
 *     the ceiling for appends;
 *   - durable appends/s of 200-byte entries: one producer, a sequencer thread
 *     committing batches (one fsync each) and publishing a checkpoint every
 *     second; the clock stops when the last entry is durable and published;
 *   - durable appends/s with 64 threads each waiting for its own fsync
 *     (group commit);
 *   - bytes of storage per entry (hash tiles, bundles, SQLite);
 *   - inclusion proofs/s from the resulting 1,000,000-entry log, cold (tiles
 *     read from disk) and warm (tile cache), on 1 and 2 threads, and
 *     tlog-proof receipts/s;
 * beside the published figures of Trillian (400-1,000 entries/s on MySQL)
 * and Tessera (about 10,000 writes/s on NVMe), and the targets of the issue.
 * BENCH_TLOG_N sets the number of entries (default 1,000,000);
 * BENCH_TLOG_DIR where the log is written (default /var/tmp);
 * BENCH_TLOG_APPEND_ONLY=1 stops after the append figures (for profiling).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "tlog/tlog.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const comity_error *e)
{
    fprintf(stderr, "bench_tlog: %s: %s\n", what, e ? e->msg : "");
    exit(3);
}

static uint64_t sum_tiles, sum_partial, sum_bundles, sum_partial_bundles, sum_other;

static int sizer(const char *p, const struct stat *st, int flag, struct FTW *f)
{
    (void)f;
    if (flag != FTW_F)
        return 0;
    if (strstr(p, "/tile/entries/") && strstr(p, ".p/"))
        sum_partial_bundles += (uint64_t)st->st_size;
    else if (strstr(p, "/tile/entries/"))
        sum_bundles += (uint64_t)st->st_size;
    else if (strstr(p, "/tile/") && strstr(p, ".p/"))
        sum_partial += (uint64_t)st->st_size;
    else if (strstr(p, "/tile/"))
        sum_tiles += (uint64_t)st->st_size;
    else
        sum_other += (uint64_t)st->st_size;
    return 0;
}

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(p);
}

struct durable_worker {
    comity_log *log;
    double until;
    uint64_t n;
};

static void *durable_work(void *arg)
{
    struct durable_worker *w = arg;
    uint8_t e[200];
    randombytes_buf(e, sizeof e);
    comity_error err = {0};
    while (now() < w->until) {
        uint64_t idx;
        if (comity_log_append(w->log, e, sizeof e, 1, &idx, &err))
            die("durable append", &err);
        w->n++;
    }
    return NULL;
}

/* Watches the published checkpoint while entries arrive: the longest time
 * between two new checkpoints. */
struct watcher {
    comity_log *log;
    volatile int stop;
    double max_gap;
};

static void *watch(void *arg)
{
    struct watcher *w = arg;
    uint64_t last = 0, size;
    double t_last = now();
    while (!w->stop) {
        if (comity_log_read_checkpoint(w->log, NULL, NULL, &size, NULL, NULL) == COMITY_OK &&
            size != last) {
            double t = now();
            if (last && t - t_last > w->max_gap)
                w->max_gap = t - t_last;
            last = size;
            t_last = t;
        }
        usleep(5000);
    }
    return NULL;
}

struct prover {
    comity_log *log;
    uint64_t size, count, seed;
};

static void *prove_work(void *arg)
{
    struct prover *p = arg;
    comity_error e = {0};
    uint64_t x = p->seed;
    for (uint64_t i = 0; i < p->count; i++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        uint64_t idx = (x >> 11) % p->size;
        uint8_t *h;
        size_t n;
        if (comity_log_inclusion(p->log, idx, p->size, &h, &n, &e))
            die("inclusion", &e);
        comity_free(h);
    }
    return NULL;
}

static double prove_rate(comity_log *log, uint64_t size, uint64_t count, int threads)
{
    struct prover p[8];
    pthread_t th[8];
    double t0 = now();
    for (int i = 0; i < threads; i++) {
        p[i] = (struct prover){log, size, count / (uint64_t)threads, (uint64_t)i * 977 + 1};
        pthread_create(&th[i], NULL, prove_work, &p[i]);
    }
    for (int i = 0; i < threads; i++)
        pthread_join(th[i], NULL);
    return (double)count / (now() - t0);
}

int main(void)
{
    comity_error e = {0};
    if (comity_init(&e))
        die("init", &e);
    uint64_t N = 1000000;
    const char *env = getenv("BENCH_TLOG_N");
    if (env && atoll(env) > 0)
        N = (uint64_t)atoll(env);

    /* 1. raw SHA-256 */
    uint8_t leaf[201], node[65], out[32];
    randombytes_buf(leaf, sizeof leaf);
    randombytes_buf(node, sizeof node);
    uint64_t reps = 2000000;
    double t0 = now();
    for (uint64_t i = 0; i < reps; i++) {
        leaf[1] = (uint8_t)i;
        crypto_hash_sha256(out, leaf, sizeof leaf);
    }
    double leaf_rate = (double)reps / (now() - t0);
    t0 = now();
    for (uint64_t i = 0; i < reps; i++) {
        node[1] = out[0];
        crypto_hash_sha256(out, node, sizeof node);
    }
    double node_rate = (double)reps / (now() - t0);
    double ceiling = 1.0 / (1.0 / leaf_rate + 1.0 / node_rate);
    printf("SHA-256 (libsodium, 1 core): %.0f leaf hashes/s (201 B), %.0f node hashes/s (65 B)\n",
           leaf_rate, node_rate);
    printf("  => hashing ceiling for appends on 1 core: %.0f entries/s\n", ceiling);

    /* 2. durable appends, batched, checkpoint every second */
    /* Not /tmp by default: on a shared machine other processes' churn of
     * files there makes ext4's inode allocation (find_inode_bit /
     * recently_deleted) the bottleneck of creating tile files. */
    const char *tmp = getenv("BENCH_TLOG_DIR") ? getenv("BENCH_TLOG_DIR") : "/var/tmp";
    char base[4096], dir[4200];
    snprintf(base, sizeof base, "%s/bench-tlog-XXXXXX", tmp);
    if (!mkdtemp(base))
        die("mkdtemp", NULL);
    snprintf(dir, sizeof dir, "%s/log", base);
    comity_nkey *key;
    if (comity_nkey_generate("bench.example/log", COMITY_NOTE_ED25519, &key, &e) ||
        comity_log_create(dir, "bench.example/log", key, NULL, &e))
        die("create", &e);
    comity_log *log;
    if (comity_log_open(dir, COMITY_LOG_WRITE | COMITY_LOG_BACKGROUND, key, &log, &e))
        die("open", &e);
    uint8_t entry[200];
    randombytes_buf(entry, sizeof entry);
    struct watcher wt = {log, 0, 0};
    pthread_t wth;
    pthread_create(&wth, NULL, watch, &wt);
    t0 = now();
    for (uint64_t i = 0; i < N; i++) {
        memcpy(entry, &i, sizeof i);
        uint64_t idx;
        if (comity_log_append(log, entry, sizeof entry, 0, &idx, &e))
            die("append", &e);
    }
    if (comity_log_sync(log, &e))
        die("sync", &e);
    double t_durable = now() - t0;
    wt.stop = 1;
    pthread_join(wth, NULL);
    if (comity_log_checkpoint(log, NULL, NULL, &e))
        die("checkpoint", &e);
    double t_published = now() - t0;
    uint64_t commits, cps;
    cy_log_stats(log, &commits, &cps);
    printf("\ndurable appends, 200-byte entries, one producer, sequencer thread, checkpoint >= 1/s:\n");
    printf("  %llu entries durable in %.2f s: %.0f appends/s  (%llu fsync'ed commits, %.0f entries "
           "each; %llu checkpoints)\n",
           (unsigned long long)N, t_durable, (double)N / t_durable, (unsigned long long)commits,
           (double)N / (double)(commits ? commits : 1), (unsigned long long)cps);
    printf("  all integrated into tiles and published: %.2f s: %.0f entries/s\n", t_published,
           (double)N / t_published);
    printf("  longest time between two published checkpoints while entries arrived: %.0f ms\n",
           wt.max_gap * 1000);
    printf("  target >= 50,000/s: %s | Trillian (MySQL) 400-1,000/s | Tessera (NVMe) ~10,000/s\n",
           (double)N / t_published >= 50000 ? "met" : "MISSED");

    if (getenv("BENCH_TLOG_APPEND_ONLY")) {
        comity_log_close(log);
        comity_nkey_free(key);
        nftw(base, rm_one, 16, FTW_DEPTH | FTW_PHYS);
        return 0;
    }

    /* 3. many threads each waiting for its own durability */
    enum { W = 64 };
    static struct durable_worker ws[W];
    pthread_t th[W];
    uint64_t c0, c1, k0, k1;
    cy_log_stats(log, &c0, &k0);
    double until = now() + 3.0;
    t0 = now();
    for (int i = 0; i < W; i++) {
        ws[i] = (struct durable_worker){log, until, 0};
        pthread_create(&th[i], NULL, durable_work, &ws[i]);
    }
    uint64_t total = 0;
    for (int i = 0; i < W; i++) {
        pthread_join(th[i], NULL);
        total += ws[i].n;
    }
    double tw = now() - t0;
    cy_log_stats(log, &c1, &k1);
    printf("  %d threads, each append waiting for its fsync: %.0f appends/s (%.1f per commit)\n", W,
           (double)total / tw, (double)total / (double)(c1 - c0 ? c1 - c0 : 1));
    comity_log_close(log);

    /* 4. storage */
    nftw(dir, sizer, 16, FTW_PHYS);
    uint64_t size;
    comity_log *rd;
    if (comity_log_open(dir, COMITY_LOG_READ, NULL, &rd, &e) ||
        comity_log_read_checkpoint(rd, NULL, NULL, &size, NULL, &e))
        die("reopen", &e);
    printf("\nstorage for %llu entries:\n", (unsigned long long)size);
    printf("  hash tiles (full): %.2f bytes/entry (target <= 33: %s); partial tiles kept: %.2f "
           "bytes/entry\n",
           (double)sum_tiles / (double)size, (double)sum_tiles / (double)size <= 33 ? "met" : "MISSED",
           (double)sum_partial / (double)size);
    printf("  entry bundles (full): %.2f bytes/entry (200 + 2-byte prefix); partial bundles kept: "
           "%.2f; log.db and checkpoint: %.2f bytes/entry\n",
           (double)sum_bundles / (double)size, (double)sum_partial_bundles / (double)size,
           (double)sum_other / (double)size);

    /* 5. proofs from the log (at most its first 1,000,000 entries' tree) */
    printf("\ninclusion proofs from the %llu-entry log (random indices):\n", (unsigned long long)size);
    uint64_t cold = size < 200000 ? size : 200000;
    double r_cold = prove_rate(rd, size, cold, 1);
    printf("  cold (tiles read from disk into the cache): %.0f proofs/s\n", r_cold);
    double r1 = prove_rate(rd, size, 1000000, 1);
    double r2 = prove_rate(rd, size, 1000000, 2);
    printf("  warm, 1 thread: %.0f proofs/s; 2 threads: %.0f proofs/s (target >= 100,000: %s)\n",
           r1, r2, (r1 > r2 ? r1 : r2) >= 100000 ? "met" : "MISSED");
    t0 = now();
    uint64_t np = 200000;
    for (uint64_t i = 0; i < np; i++) {
        char *p;
        size_t pl;
        if (comity_log_prove(rd, (i * 7919) % size, &p, &pl, &e))
            die("prove", &e);
        comity_free(p);
    }
    printf("  tlog-proof receipts (text, with the checkpoint), 1 thread: %.0f/s\n",
           (double)np / (now() - t0));
    comity_log_close(rd);
    comity_nkey_free(key);
    nftw(base, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}
