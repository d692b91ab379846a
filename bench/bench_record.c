/*
 * bench_record.c: signed records per second for 1 KiB bodies, beside
 * libsodium's raw Ed25519 sign and verify measured in the same run (the
 * limit: a record costs one signature plus JSON and base64 work).
 *
 * The raw baseline signs and verifies the very bytes the record signature
 * covers (PAE(payloadType, payload)) with the same key, so the gap is
 * exactly comity's own work.  Record and raw runs are interleaved in short
 * batches and the best batch of each counts, so that other load on the
 * machine hits both sides alike.
 * Target (issue: foundation): record verify >= 90% of the raw verify rate.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "comity.h"
#include "crypto/dsse.h"
#include "crypto/note.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

#define BATCH 100
#define ROUNDS 40

int main(void)
{
    if (comity_init(NULL))
        return 3;
    comity_key *k;
    if (comity_key_generate("pk.pkcert", &k, NULL))
        return 3;
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
    char *env;
    size_t el;
    if (comity_record_sign(k, &p, body, (size_t)n, &env, &el, NULL))
        return 3;
    comity_record *r;
    if (comity_record_verify(env, el, keys, 1, &r, NULL))
        return 3;
    size_t pl;
    const char *payload = comity_record_payload(r, &pl);
    size_t pae_len;
    uint8_t *pae = cy_dsse_pae(COMITY_RECORD_PAYLOAD_TYPE, (const uint8_t *)payload, pl, &pae_len);
    comity_record_free(r);
    const comity_nkey *sk = comity_key_signer(k);
    uint8_t sig[64];
    crypto_sign_detached(sig, NULL, pae, pae_len, sk->sk);

    double best[4] = {1e9, 1e9, 1e9, 1e9}; /* seconds per op: raw sign, rec sign, raw verify, rec verify */
    for (int round = 0; round < ROUNDS; round++) {
        double t0 = now();
        for (int i = 0; i < BATCH; i++)
            crypto_sign_detached(sig, NULL, pae, pae_len, sk->sk);
        double t1 = now();
        for (int i = 0; i < BATCH; i++) {
            char *e;
            size_t l;
            if (comity_record_sign(k, &p, body, (size_t)n, &e, &l, NULL))
                return 3;
            comity_free(e);
        }
        double t2 = now();
        for (int i = 0; i < BATCH; i++)
            if (crypto_sign_verify_detached(sig, pae, pae_len, v->pk) != 0)
                return 3;
        double t3 = now();
        for (int i = 0; i < BATCH; i++) {
            if (comity_record_verify(env, el, keys, 1, &r, NULL))
                return 3;
            comity_record_free(r);
        }
        double t4 = now();
        double d[4] = {t1 - t0, t2 - t1, t3 - t2, t4 - t3};
        for (int j = 0; j < 4; j++)
            if (d[j] / BATCH < best[j])
                best[j] = d[j] / BATCH;
    }
    double raw_sign = 1 / best[0], rec_sign = 1 / best[1];
    double raw_verify = 1 / best[2], rec_verify = 1 / best[3];
    printf("records, 1 KiB body (payload %zu bytes, envelope %zu bytes), 1 core, best of %d batches of %d\n",
           pl, el, ROUNDS, BATCH);
    printf("  %-16s %9.0f /s   raw Ed25519 sign   %9.0f /s  (%3.0f%%)\n", "record sign",
           rec_sign, raw_sign, 100 * rec_sign / raw_sign);
    printf("  %-16s %9.0f /s   raw Ed25519 verify %9.0f /s  (%3.0f%%; target >= 90%%: %s)\n",
           "record verify", rec_verify, raw_verify, 100 * rec_verify / raw_verify,
           rec_verify >= 0.9 * raw_verify ? "met" : "NOT met");
    cy_free(pae);
    comity_free(env);
    comity_vkey_free(v);
    comity_key_free(k);
    return 0;
}
