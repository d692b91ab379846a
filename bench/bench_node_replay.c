/*
 * bench_node_replay.c: how long a node takes, at `comity serve` start, to
 * rebuild its framework state from its store (src/framework/live.c,
 * cy_node_fw_table + cy_fw_live_open: read every record with its envelope in log order, parse
 * it, comity_framework_add, then every delivered event), beside the
 * baseline measured in the same run: comity_framework_add alone over the
 * same records already parsed (what the library costs; the difference is
 * the store read and the parsing).
 *
 * Then a re-fold under load: one record older than all is relayed in
 * (so the state must be folded again), a thread runs the re-fold, and
 * meanwhile the main thread asks for a message's status every
 * millisecond, as readers do: how long the re-fold took, how many
 * queries it answered meanwhile, and the longest a query waited for the
 * framework's lock (a re-fold holding the lock makes that its whole
 * duration).
 *
 * The records: N notifications (severity 4, to one party) and an ack of
 * each by its recipient, stored directly in a fresh node's store (each row
 * with its record's created_ms, as intake stores it); N from
 * BENCH_NODE_REPLAY_N (default 30,000).  Best of ROUNDS.  All carry one
 * `created` (the fold order's worst case: one group, every ack's id
 * sorting before the notification it names), unless
 * BENCH_NODE_REPLAY_SPREAD=1: then each record has a millisecond of its
 * own, as records signed one after the other do (the common case).
 *
 * Then the answers: every query a reader asks of these records (each
 * notification's status and next answers for its author, its recipient
 * and the operator; both parties' inboxes, the overdue list, the cases)
 * of the node's fold, compared byte for byte with the same queries of the
 * baseline's state (comity_framework_add in log order, where each ack
 * follows its notification: what a fold in log order gives); the bench
 * fails when one differs.
 */
#define _XOPEN_SOURCE 700 /* nftw */
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "node/node.h"

#define ROUNDS 3

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec / 1e9;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static void die(const char *what, const comity_error *e)
{
    fprintf(stderr, "bench_node_replay: %s: %s\n", what, e->msg);
    exit(1);
}

/* The fake clock at 2026-11-23 09:00 plus ms (less than 15 hours). */
static void fake_now_plus(int64_t ms)
{
    char at[40];
    snprintf(at, sizeof at, "2026-11-23T%02d:%02d:%02d.%03dZ", 9 + (int)(ms / 3600000),
             (int)(ms / 60000 % 60), (int)(ms / 1000 % 60), (int)(ms % 1000));
    setenv("COMITY_FAKE_NOW", at, 1);
}

struct refold_run {
    cy_fw_live *live;
    double took;
    volatile int done;
};

static void *refold_thread(void *arg)
{
    struct refold_run *r = arg;
    double t0 = now_s();
    cy_fw_live_settle(r->live);
    r->took = now_s() - t0;
    __atomic_store_n(&r->done, 1, __ATOMIC_RELEASE);
    return NULL;
}

/* Every query of the bench's records (see the top), as one string
 * (free). */
static char *answers(const comity_framework *fw, comity_record **recs, size_t total)
{
    const int64_t now = 1795424400000; /* 2026-11-23T09:00Z plus about a day */
    const char *parties[] = {NULL, "pk.pkcert", "in.cert-in"};
    size_t cap = 1 << 20, len = 0;
    char *out = malloc(cap);
    for (size_t i = 0; out && i < total + 2; i++) {
        for (size_t k = 0; k < 3; k++) {
            char *j = NULL;
            char line[512];
            int n = 0;
            if (i < total && i % 2 == 0) {
                comity_msg_status st;
                const char *id = comity_record_id(recs[i]);
                comity_err rc = comity_framework_status(fw, id, parties[k], now, &st, NULL);
                n = snprintf(line, sizeof line, "%s %s %d %d %d %s %lld %lld %lld\n", id,
                             parties[k] ? parties[k] : "-", rc, rc ? 0 : (int)st.state,
                             rc ? 0 : st.overdue, !rc && st.expects ? st.expects : "-",
                             rc ? 0LL : (long long)st.due_ms, rc ? 0LL : (long long)st.ack_due_ms,
                             rc ? 0LL : (long long)st.answer_due_ms);
                (void)comity_framework_message_next(fw, id, parties[k], &j, NULL);
            } else if (i == total && k) {
                (void)comity_framework_inbox(fw, parties[k], now, &j, NULL);
            } else if (i == total + 1 && k == 0) {
                (void)comity_framework_overdue(fw, now, &j, NULL);
            } else if (i == total + 1) {
                (void)comity_framework_cases(fw, parties[k], now, &j, NULL);
            }
            size_t jl = j ? strlen(j) : 0;
            while (out && len + (size_t)n + jl + 2 > cap) {
                char *o = realloc(out, cap *= 2);
                if (!o)
                    free(out);
                out = o;
            }
            if (out) {
                memcpy(out + len, line, (size_t)n);
                len += (size_t)n;
                memcpy(out + len, j ? j : "", jl);
                len += jl;
                out[len++] = '\n';
                out[len] = 0;
            }
            comity_free(j);
        }
    }
    return out;
}

/* The re-fold under load (see the top). */
static void refold_under_load(comity_node *node, const comity_serve_opts *so, comity_key *a,
                              const char *msg_id, size_t index)
{
    comity_error e = {0};
    cy_fw_table table;
    cy_fw_live *live = NULL;
    if (cy_node_fw_table(node, so, &table, &e) || cy_fw_live_open(node->store, &table, &live, &e))
        die("replay", &e);
    const char *to[] = {"in.cert-in"};
    const char *body = "{\"severity\":2,\"sector\":\"energy\",\"summary\":\"older\"}";
    char *env = NULL;
    size_t len = 0;
    comity_record *rec = NULL;
    setenv("COMITY_FAKE_NOW", "2026-11-23T08:00:00.000Z", 1);
    comity_record_params p = {.type = "notification", .tlp = "green", .to = to, .nto = 1};
    if (comity_record_sign(a, &p, body, strlen(body), &env, &len, &e) ||
        comity_record_parse(env, len, &rec, &e))
        die("sign", &e);
    unsetenv("COMITY_FAKE_NOW");
    bool added = false;
    if (cy_fw_live_add(live, rec, NULL, true, &added, &e))
        die("add", &e);
    cy_record_in row = {.id = comity_record_id(rec),
                        .type = comity_record_type(rec),
                        .author = comity_record_author(rec),
                        .tlp = "green",
                        .created = comity_record_created(rec),
                        .created_ms = comity_record_created_ms(rec),
                        .digest = comity_record_digest(rec),
                        .log_index = index,
                        .received_us = 1,
                        .envelope = env,
                        .envelope_len = len,
                        .to = to,
                        .nto = 1};
    if (cy_store_records_add(node->store, &row, 1, NULL, &e))
        die("store", &e);
    cy_fw_live_done(live);
    struct refold_run r = {live, 0, 0};
    pthread_t th;
    uint64_t before = cy_fw_live_refolds(live);
    size_t queries = 0;
    double worst = 0;
    if (pthread_create(&th, NULL, refold_thread, &r))
        die("thread", &e);
    /* let the thread start the re-fold (a reader finding one due would
     * run it itself) */
    nanosleep(&(struct timespec){0, 20000000}, NULL);
    while (!__atomic_load_n(&r.done, __ATOMIC_ACQUIRE)) {
        double t0 = now_s();
        const comity_framework *fw = cy_fw_live_lock(live);
        comity_msg_status st;
        (void)comity_framework_status(fw, msg_id, "in.cert-in", 0, &st, NULL);
        cy_fw_live_unlock(live);
        double w = now_s() - t0;
        worst = w > worst ? w : worst;
        queries++;
        nanosleep(&(struct timespec){0, 1000000}, NULL);
    }
    pthread_join(th, NULL);
    if (cy_fw_live_refolds(live) != before + 1)
        die("no re-fold ran", &e);
    printf("  re-fold under load: %.3f s; %zu queries answered meanwhile, the longest waited "
           "%.1f ms for the lock\n",
           r.took, queries, worst * 1e3);
    cy_fw_live_free(live);
    comity_record_free(rec);
    comity_free(env);
}

int main(void)
{
    const char *ns = getenv("BENCH_NODE_REPLAY_N");
    int n = ns ? atoi(ns) : 30000;
    if (n <= 0)
        n = 30000;
    comity_error e = {0};
    char dir[] = "/tmp/bench_node_replay_XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    char nd[256];
    snprintf(nd, sizeof nd, "%s/node", dir);
    comity_node_init_opts o = {.origin = "replay.example", .no_tls_cert = 1};
    comity_node_created cr;
    comity_node *node = NULL;
    comity_key *a = NULL, *b = NULL;
    if (comity_node_init(nd, &o, &cr, &e))
        die("init", &e);
    comity_node_created_free(&cr);
    if (comity_node_open(nd, &node, &e) || comity_key_generate("pk.pkcert", &a, &e) ||
        comity_key_generate("in.cert-in", &b, &e))
        die("node", &e);

    /* sign and store everything before the clock starts */
    size_t total = 2 * (size_t)n;
    const char *to[] = {"in.cert-in"};
    cy_record_in *rows = calloc(total, sizeof *rows);
    char **envs = calloc(total, sizeof *envs);
    comity_record **recs = calloc(total, sizeof *recs);
    const char *body = "{\"severity\":4,\"sector\":\"energy\",\"summary\":\"grid operator hit\"}";
    const char *spread_s = getenv("BENCH_NODE_REPLAY_SPREAD");
    bool spread = spread_s && atoi(spread_s) == 1;
    setenv("COMITY_FAKE_NOW", "2026-11-23T09:00:00.000Z", 1);
    for (size_t i = 0; i < total; i += 2) {
        if (spread)
            fake_now_plus((int64_t)i);
        size_t l1, l2;
        comity_record_params p = {.type = "notification", .tlp = "green", .to = to, .nto = 1};
        if (comity_record_sign(a, &p, body, strlen(body), &envs[i], &l1, &e) ||
            comity_record_parse(envs[i], l1, &recs[i], &e))
            die("sign", &e);
        const char *ref = comity_record_id(recs[i]);
        if (spread)
            fake_now_plus((int64_t)i + 1);
        comity_record_params q = {.type = "ack", .tlp = "green", .refs = &ref, .nrefs = 1};
        if (comity_record_sign(b, &q, "{}", 2, &envs[i + 1], &l2, &e) ||
            comity_record_parse(envs[i + 1], l2, &recs[i + 1], &e))
            die("sign", &e);
        for (size_t k = i; k < i + 2; k++) {
            comity_record *r = recs[k];
            rows[k] = (cy_record_in){.id = comity_record_id(r),
                                     .type = comity_record_type(r),
                                     .author = comity_record_author(r),
                                     .tlp = "green",
                                     .created = comity_record_created(r),
                                     .created_ms = comity_record_created_ms(r),
                                     .digest = comity_record_digest(r),
                                     .log_index = k,
                                     .received_us = 1,
                                     .envelope = envs[k],
                                     .envelope_len = strlen(envs[k]),
                                     .to = k == i ? to : NULL,
                                     .nto = k == i ? 1 : 0};
        }
    }
    unsetenv("COMITY_FAKE_NOW");
    if (cy_store_records_add(node->store, rows, total, NULL, &e))
        die("store", &e);

    comity_serve_opts so;
    comity_serve_opts_default(&so);
    double best = 1e9, best_lib = 1e9;
    for (int round = 0; round < ROUNDS; round++) {
        double t0 = now_s();
        cy_fw_table table;
        cy_fw_live *live = NULL;
        if (cy_node_fw_table(node, &so, &table, &e) ||
            cy_fw_live_open(node->store, &table, &live, &e))
            die("replay", &e);
        double t = now_s() - t0;
        cy_fw_live_free(live);
        best = t < best ? t : best;

        comity_framework *fw = NULL;
        if (comity_framework_new(&fw, &e))
            die("framework", &e);
        t0 = now_s();
        for (size_t i = 0; i < total; i++)
            if (comity_framework_add(fw, recs[i], NULL, 0, &e))
                die("add", &e);
        t = now_s() - t0;
        comity_framework_free(fw);
        best_lib = t < best_lib ? t : best_lib;
    }
    printf("node framework replay at start, %zu records (%d notifications + %d acks, %s), best "
           "of %d:\n",
           total, n, n, spread ? "a millisecond each" : "all of one millisecond", ROUNDS);
    printf("  node (store read + parse + add): %.3f s = %.0f records/s (%.1f us each)\n", best,
           total / best, best * 1e6 / total);
    printf("  baseline, same run: comity_framework_add alone on parsed records: %.3f s = %.0f "
           "records/s (%.1f us each)\n",
           best_lib, total / best_lib, best_lib * 1e6 / total);

    /* the answers, the fold's against the log order's */
    {
        cy_fw_table table;
        cy_fw_live *live = NULL;
        comity_framework *fw = NULL;
        if (cy_node_fw_table(node, &so, &table, &e) ||
            cy_fw_live_open(node->store, &table, &live, &e) || comity_framework_new(&fw, &e))
            die("replay", &e);
        for (size_t i = 0; i < total; i++)
            if (comity_framework_add(fw, recs[i], NULL, 0, &e))
                die("add", &e);
        char *folded = answers(cy_fw_live_lock(live), recs, total);
        cy_fw_live_unlock(live);
        char *logged = answers(fw, recs, total);
        if (!folded || !logged || strcmp(folded, logged) != 0)
            die("the fold's answers differ from the log order's", &e);
        printf("  answers: %zu bytes of queries (every notification's status and next answers "
               "for 3 parties, inboxes, overdue, cases), the fold's identical to the log "
               "order's\n",
               strlen(folded));
        free(folded);
        free(logged);
        cy_fw_live_free(live);
        comity_framework_free(fw);
    }
    refold_under_load(node, &so, a, comity_record_id(recs[0]), total);

    for (size_t i = 0; i < total; i++) {
        comity_record_free(recs[i]);
        comity_free(envs[i]);
    }
    free(recs);
    free(envs);
    free(rows);
    comity_node_close(node);
    comity_key_free(a);
    comity_key_free(b);
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}
