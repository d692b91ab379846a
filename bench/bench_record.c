/*
 * bench_record.c: signed records per second for 1 KiB bodies, beside
 * libsodium's raw Ed25519 sign and verify rate measured in the same run
 * (the limit: a record costs one signature plus JSON and base64 work).
 * Target: record verify >= 90% of the raw verify rate.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "comity.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

#define SECONDS 2.0

int main(void)
{
    if (comity_init(NULL))
        return 3;
    comity_key *k;
    if (comity_key_generate("pk.pkcert", &k, NULL))
        return 3;
    /* a 1 KiB body */
    char body[1100];
    int n = snprintf(body, sizeof body, "{\"severity\":4,\"what\":\"");
    while (n < 1012)
        body[n] = (char)('a' + n % 26), n++;
    n += snprintf(body + n, sizeof body - (size_t)n, "\"}");
    comity_record_params p = {.type = "notification", .tlp = "green"};
    const char *vk = comity_key_vkey(k);
    comity_vkey *v;
    if (comity_vkey_parse(vk, strlen(vk), &v, NULL))
        return 3;
    const comity_vkey *keys[] = {v};

    /* raw Ed25519 over the same number of bytes as a record's PAE */
    char *env;
    size_t el;
    if (comity_record_sign(k, &p, body, (size_t)n, &env, &el, NULL))
        return 3;
    comity_record *r;
    if (comity_record_verify(env, el, keys, 1, &r, NULL))
        return 3;
    size_t pl;
    comity_record_payload(r, &pl);
    comity_record_free(r);
    uint8_t pk[32], sk[64], sig[64];
    crypto_sign_keypair(pk, sk);
    uint8_t *msg = calloc(1, pl + 64);
    long iters = 0;
    double t0 = now(), t;
    do {
        crypto_sign_detached(sig, NULL, msg, pl + 64, sk);
        iters++;
    } while ((t = now() - t0) < SECONDS);
    double raw_sign = iters / t;
    iters = 0;
    t0 = now();
    do {
        if (crypto_sign_verify_detached(sig, msg, pl + 64, pk) != 0)
            return 3;
        iters++;
    } while ((t = now() - t0) < SECONDS);
    double raw_verify = iters / t;

    iters = 0;
    t0 = now();
    do {
        char *e;
        size_t l;
        if (comity_record_sign(k, &p, body, (size_t)n, &e, &l, NULL))
            return 3;
        comity_free(e);
        iters++;
    } while ((t = now() - t0) < SECONDS);
    double rec_sign = iters / t;
    iters = 0;
    t0 = now();
    do {
        if (comity_record_verify(env, el, keys, 1, &r, NULL))
            return 3;
        comity_record_free(r);
        iters++;
    } while ((t = now() - t0) < SECONDS);
    double rec_verify = iters / t;

    printf("records, 1 KiB body (payload %zu bytes, envelope %zu bytes), 1 core\n", pl, el);
    printf("  %-28s %10.0f /s   raw Ed25519 sign   %10.0f /s  (%.0f%%)\n", "record sign",
           rec_sign, raw_sign, 100 * rec_sign / raw_sign);
    printf("  %-28s %10.0f /s   raw Ed25519 verify %10.0f /s  (%.0f%%; target >= 90%%: %s)\n",
           "record verify", rec_verify, raw_verify, 100 * rec_verify / raw_verify,
           rec_verify >= 0.9 * raw_verify ? "met" : "NOT met");
    comity_free(env);
    comity_vkey_free(v);
    comity_key_free(k);
    free(msg);
    return 0;
}
