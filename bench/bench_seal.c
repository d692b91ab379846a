/*
 * bench_seal.c: age sealing throughput against raw ChaCha20-Poly1305.
 *
 * Seals and opens 256 MiB in memory with comity_seal_mem / comity_open_mem
 * and, in the same run, encrypts and decrypts the same bytes with libsodium's
 * crypto_aead_chacha20poly1305_ietf in 64 KiB chunks: the floor no age
 * implementation can beat, since the format is exactly that plus a header.
 * The streaming forms (comity_seal_stream / comity_open_stream, what
 * `comity seal` and `comity open` use) are measured reading the same bytes
 * from a memory FILE and writing to /dev/null.  The in-memory forms return
 * a freshly allocated buffer, so their figure includes the page faults of
 * first touching 256 MiB, which the raw loop (writing into a buffer it
 * reuses) does not pay.  Target: open >= 80% of the raw decrypt rate.
 * Best of 3 runs each.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "crypto/age.h"

#define SIZE ((size_t)256 << 20)
#define CHUNK 65536
#define RUNS 3

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double mbps(double secs) { return (double)SIZE / (1 << 20) / secs; }

int main(void)
{
    if (sodium_init() < 0)
        return 3;
    uint8_t *pt = malloc(SIZE), *ct = malloc(SIZE + SIZE / CHUNK * 16 + 16),
            *back = malloc(SIZE);
    if (!pt || !ct || !back)
        return 3;
    randombytes_buf(pt, SIZE);
    uint8_t key[32], nonce[12] = {0};
    randombytes_buf(key, sizeof key);

    double raw_enc = 1e9, raw_dec = 1e9, seal = 1e9, open = 1e9, sseal = 1e9, sopen = 1e9;
    for (int r = 0; r < RUNS; r++) {
        double t0 = now();
        for (size_t off = 0, i = 0; off < SIZE; off += CHUNK, i++) {
            nonce[10] = (uint8_t)i;
            crypto_aead_chacha20poly1305_ietf_encrypt_detached(
                ct + off + 16 * i, ct + off + 16 * i + CHUNK, NULL, pt + off, CHUNK,
                NULL, 0, NULL, nonce, key);
        }
        double t1 = now();
        for (size_t off = 0, i = 0; off < SIZE; off += CHUNK, i++) {
            nonce[10] = (uint8_t)i;
            if (crypto_aead_chacha20poly1305_ietf_decrypt_detached(
                    back + off, NULL, ct + off + 16 * i, CHUNK, ct + off + 16 * i + CHUNK,
                    NULL, 0, nonce, key) != 0)
                return 3;
        }
        double t2 = now();
        if (t1 - t0 < raw_enc)
            raw_enc = t1 - t0;
        if (t2 - t1 < raw_dec)
            raw_dec = t2 - t1;
    }

    comity_error err = {0};
    uint8_t sk[32], pk[32];
    char rcpt[CY_AGE_RECIPIENT_MAX], id[CY_AGE_IDENTITY_MAX + 1];
    crypto_box_keypair(pk, sk);
    if (cy_age_recipient_encode(pk, rcpt, sizeof rcpt) ||
        cy_age_identity_encode(sk, id, sizeof id))
        return 3;
    comity_identities *ids = NULL;
    if (comity_identities_parse(id, strlen(id), &ids, &err))
        return 3;
    const char *rc[1] = {rcpt};
    for (int r = 0; r < RUNS; r++) {
        uint8_t *sealed = NULL, *opened = NULL;
        size_t sl = 0, ol = 0;
        double t0 = now();
        if (comity_seal_mem(pt, SIZE, rc, 1, 0, &sealed, &sl, &err))
            return fprintf(stderr, "seal: %s\n", err.msg), 3;
        double t1 = now();
        if (comity_open_mem(sealed, sl, ids, &opened, &ol, &err))
            return fprintf(stderr, "open: %s\n", err.msg), 3;
        double t2 = now();
        if (ol != SIZE || memcmp(opened, pt, SIZE) != 0)
            return fprintf(stderr, "open: wrong plaintext\n"), 3;
        FILE *in = fmemopen(pt, SIZE, "rb"), *null = fopen("/dev/null", "wb");
        FILE *cin = fmemopen(sealed, sl, "rb");
        if (!in || !null || !cin)
            return 3;
        double t3 = now();
        if (comity_seal_stream(in, null, rc, 1, 0, &err))
            return fprintf(stderr, "seal_stream: %s\n", err.msg), 3;
        double t4 = now();
        if (comity_open_stream(cin, null, ids, &err))
            return fprintf(stderr, "open_stream: %s\n", err.msg), 3;
        double t5 = now();
        fclose(in);
        fclose(cin);
        fclose(null);
        if (t4 - t3 < sseal)
            sseal = t4 - t3;
        if (t5 - t4 < sopen)
            sopen = t5 - t4;
        comity_free(sealed);
        comity_free(opened);
        if (t1 - t0 < seal)
            seal = t1 - t0;
        if (t2 - t1 < open)
            open = t2 - t1;
    }
    comity_identities_free(ids);

    printf("age seal/open of %zu MiB in memory, best of %d (MB/s = MiB/s):\n",
           SIZE >> 20, RUNS);
    printf("  %-36s %8.0f MB/s\n", "raw chacha20poly1305 encrypt 64K", mbps(raw_enc));
    printf("  %-36s %8.0f MB/s  (%3.0f%% of raw encrypt)\n", "comity_seal_stream", mbps(sseal),
           100.0 * raw_enc / sseal);
    printf("  %-36s %8.0f MB/s  (%3.0f%% of raw encrypt)\n", "comity_seal_mem", mbps(seal),
           100.0 * raw_enc / seal);
    printf("  %-36s %8.0f MB/s\n", "raw chacha20poly1305 decrypt 64K", mbps(raw_dec));
    printf("  %-36s %8.0f MB/s  (%3.0f%% of raw decrypt; target >= 80%%: %s)\n",
           "comity_open_stream", mbps(sopen), 100.0 * raw_dec / sopen,
           raw_dec / sopen >= 0.8 ? "met" : "NOT MET");
    printf("  %-36s %8.0f MB/s  (%3.0f%% of raw decrypt; target >= 80%%: %s)\n",
           "comity_open_mem (fresh output)", mbps(open), 100.0 * raw_dec / open,
           raw_dec / open >= 0.8 ? "met" : "NOT MET");
    free(pt);
    free(ct);
    free(back);
    return 0;
}
