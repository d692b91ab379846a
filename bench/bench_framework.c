/*
 * bench_framework.c: how fast a node can replay its records into the
 * framework (src/framework/) at start, beside comity_record_verify of the
 * same records measured in the same run (the per-record work the node
 * already pays; the framework should cost well under it), and the cost of
 * the inbox and overdue queries over that state.
 *
 * The records: N notifications (severity 1-5, three recipients each) from
 * six parties, each acknowledged by its first recipient.  Best of ROUNDS.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "comity.h"

#define N 3000
#define ROUNDS 3

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static const char *const parties[] = {"pk.mofa", "pk.pkcert", "in.mea",
                                      "in.cert-in", "us.cisa", "fr.anssi"};
#define NP 6

int main(void)
{
    if (comity_init(NULL))
        return 3;
    comity_key *keys[NP];
    comity_vkey *vkeys[NP];
    for (int i = 0; i < NP; i++) {
        const char *v;
        if (comity_key_generate(parties[i], &keys[i], NULL) ||
            !(v = comity_key_vkey(keys[i])) ||
            comity_vkey_parse(v, strlen(v), &vkeys[i], NULL))
            return 3;
    }
    char **env = calloc(2 * N, sizeof *env);
    size_t *len = calloc(2 * N, sizeof *len);
    size_t n = 0;
    for (int i = 0; i < N; i++) {
        char at[32], body[128];
        snprintf(at, sizeof at, "2026-11-%02dT%02d:%02d:00.000Z", 1 + i / 1440 % 28,
                 i / 60 % 24, i % 60);
        setenv("COMITY_FAKE_NOW", at, 1);
        int a = i % NP;
        const char *to[3] = {parties[(a + 1) % NP], parties[(a + 2) % NP],
                             parties[(a + 3) % NP]};
        snprintf(body, sizeof body,
                 "{\"severity\":%d,\"sector\":\"energy\",\"summary\":\"incident %d\"}",
                 1 + i % 5, i);
        comity_record_params p = {.type = "notification", .tlp = "green",
                                  .to = to, .nto = 3};
        if (comity_record_sign(keys[a], &p, body, strlen(body), &env[n], &len[n], NULL))
            return 3;
        comity_record *r;
        if (comity_record_parse(env[n], len[n], &r, NULL))
            return 3;
        const char *ref = comity_record_id(r);
        n++;
        comity_record_params q = {.type = "ack", .tlp = "green", .refs = &ref, .nrefs = 1};
        if (comity_record_sign(keys[(a + 1) % NP], &q, "{}", 2, &env[n], &len[n], NULL))
            return 3;
        n++;
        comity_record_free(r);
    }
    unsetenv("COMITY_FAKE_NOW");
    const comity_vkey *const *vk = (const comity_vkey *const *)vkeys;

    double best_v = 1e9, best_a = 1e9, best_in = 1e9, best_od = 1e9;
    for (int round = 0; round < ROUNDS; round++) {
        comity_record **recs = calloc(n, sizeof *recs);
        double t0 = now();
        for (size_t i = 0; i < n; i++)
            if (comity_record_verify(env[i], len[i], vk, NP, &recs[i], NULL))
                return 3;
        double t1 = now();
        comity_framework *fw;
        if (comity_framework_new(&fw, NULL))
            return 3;
        comity_error e;
        for (size_t i = 0; i < n; i++)
            if (comity_framework_add(fw, recs[i], NULL, 0, &e)) {
                fprintf(stderr, "add: %s\n", e.msg);
                return 3;
            }
        double t2 = now();
        char *json;
        for (int i = 0; i < NP; i++) {
            if (comity_framework_inbox(fw, parties[i], 1796083200000LL, &json, NULL))
                return 3;
            comity_free(json);
        }
        double t3 = now();
        if (comity_framework_overdue(fw, 1796083200000LL, &json, NULL))
            return 3;
        comity_free(json);
        double t4 = now();
        if (t1 - t0 < best_v) best_v = t1 - t0;
        if (t2 - t1 < best_a) best_a = t2 - t1;
        if ((t3 - t2) / NP < best_in) best_in = (t3 - t2) / NP;
        if (t4 - t3 < best_od) best_od = t4 - t3;
        comity_framework_free(fw);
        for (size_t i = 0; i < n; i++)
            comity_record_free(recs[i]);
        free(recs);
    }
    printf("records: %zu (%d notifications to 3 recipients + %d acks), best of %d\n",
           n, N, N, ROUNDS);
    printf("baseline comity_record_verify: %8.0f records/s (%.1f us each)\n",
           n / best_v, best_v / n * 1e6);
    printf("comity_framework_add (replay): %8.0f records/s (%.1f us each), %.1f%% of verify time\n",
           n / best_a, best_a / n * 1e6, 100.0 * best_a / best_v);
    printf("comity_framework_inbox:        %8.2f ms per party over %d messages\n",
           best_in * 1e3, N);
    printf("comity_framework_overdue:      %8.2f ms over %d messages\n", best_od * 1e3, N);
    for (size_t i = 0; i < n; i++)
        comity_free(env[i]);
    free(env);
    free(len);
    for (int i = 0; i < NP; i++) {
        comity_key_free(keys[i]);
        comity_vkey_free(vkeys[i]);
    }
    return 0;
}
