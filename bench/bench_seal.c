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
 * reuses) does not pay.
 *
 * Each figure is given by wall time and by CPU time of this process (all
 * single-threaded): on a machine shared with other work the wall figures
 * move with the load, the CPU figures less.  Best of 5 rounds, each round
 * measuring everything once.
 * Target: comity_open_stream >= 80% of the raw decrypt rate.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "crypto/age.h"

#define SIZE ((size_t)256 << 20)
#define CHUNK 65536
#define RUNS 5

typedef struct timing {
    double wall, cpu; /* best seconds */
} timing;

typedef struct stamp {
    double wall, cpu;
} stamp;

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static stamp start(void)
{
    return (stamp){clock_s(CLOCK_MONOTONIC), clock_s(CLOCK_PROCESS_CPUTIME_ID)};
}

static void stop(timing *t, stamp s)
{
    double w = clock_s(CLOCK_MONOTONIC) - s.wall, c = clock_s(CLOCK_PROCESS_CPUTIME_ID) - s.cpu;
    if (w < t->wall)
        t->wall = w;
    if (c < t->cpu)
        t->cpu = c;
}

static double mbps(double secs) { return (double)SIZE / (1 << 20) / secs; }

static void row(const char *name, const timing *t, const timing *raw)
{
    printf("  %-32s %7.0f MB/s %7.0f MB/s", name, mbps(t->wall), mbps(t->cpu));
    if (raw)
        printf("   %4.0f%%    %4.0f%%", 100.0 * raw->wall / t->wall, 100.0 * raw->cpu / t->cpu);
    printf("\n");
}

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

    /* All six measurements in every round, so that a change of load on a
     * shared machine hits the baseline and comity alike. */
    timing raw_enc = {1e9, 1e9}, raw_dec = {1e9, 1e9}, seal = {1e9, 1e9},
           open = {1e9, 1e9}, sseal = {1e9, 1e9}, sopen = {1e9, 1e9};
    for (int r = 0; r < RUNS; r++) {
        stamp s = start();
        for (size_t off = 0, i = 0; off < SIZE; off += CHUNK, i++) {
            nonce[10] = (uint8_t)i;
            nonce[9] = (uint8_t)(i >> 8);
            crypto_aead_chacha20poly1305_ietf_encrypt_detached(
                ct + off + 16 * i, ct + off + 16 * i + CHUNK, NULL, pt + off, CHUNK,
                NULL, 0, NULL, nonce, key);
        }
        stop(&raw_enc, s);
        s = start();
        for (size_t off = 0, i = 0; off < SIZE; off += CHUNK, i++) {
            nonce[10] = (uint8_t)i;
            nonce[9] = (uint8_t)(i >> 8);
            if (crypto_aead_chacha20poly1305_ietf_decrypt_detached(
                    back + off, NULL, ct + off + 16 * i, CHUNK, ct + off + 16 * i + CHUNK,
                    NULL, 0, nonce, key) != 0)
                return 3;
        }
        stop(&raw_dec, s);

        uint8_t *sealed = NULL, *opened = NULL;
        size_t sl = 0, ol = 0;
        s = start();
        if (comity_seal_mem(pt, SIZE, rc, 1, 0, &sealed, &sl, &err))
            return fprintf(stderr, "seal: %s\n", err.msg), 3;
        stop(&seal, s);
        s = start();
        if (comity_open_mem(sealed, sl, ids, &opened, &ol, &err))
            return fprintf(stderr, "open: %s\n", err.msg), 3;
        stop(&open, s);
        if (ol != SIZE || memcmp(opened, pt, SIZE) != 0)
            return fprintf(stderr, "open: wrong plaintext\n"), 3;
        FILE *in = fmemopen(pt, SIZE, "rb"), *null = fopen("/dev/null", "wb");
        FILE *cin = fmemopen(sealed, sl, "rb");
        if (!in || !null || !cin)
            return 3;
        s = start();
        if (comity_seal_stream(in, null, rc, 1, 0, &err))
            return fprintf(stderr, "seal_stream: %s\n", err.msg), 3;
        stop(&sseal, s);
        s = start();
        if (comity_open_stream(cin, null, ids, &err))
            return fprintf(stderr, "open_stream: %s\n", err.msg), 3;
        stop(&sopen, s);
        fclose(in);
        fclose(cin);
        fclose(null);
        comity_free(sealed);
        comity_free(opened);
    }
    comity_identities_free(ids);

    printf("age seal/open of %zu MiB in memory, best of %d (MB = MiB):\n", SIZE >> 20, RUNS);
    printf("  %-32s %12s %12s   %s\n", "", "by wall time", "by CPU time", "of raw: wall  cpu");
    row("raw chacha20poly1305 encrypt 64K", &raw_enc, NULL);
    row("comity_seal_stream", &sseal, &raw_enc);
    row("comity_seal_mem (fresh output)", &seal, &raw_enc);
    row("raw chacha20poly1305 decrypt 64K", &raw_dec, NULL);
    row("comity_open_stream", &sopen, &raw_dec);
    row("comity_open_mem (fresh output)", &open, &raw_dec);
    double by_cpu = raw_dec.cpu / sopen.cpu, by_wall = raw_dec.wall / sopen.wall;
    printf("  target: comity_open_stream >= 80%% of raw decrypt: %.0f%% by CPU time (%s), "
           "%.0f%% by wall time (%s)\n",
           100 * by_cpu, by_cpu >= 0.8 ? "met" : "NOT MET", 100 * by_wall,
           by_wall >= 0.8 ? "met" : "NOT MET");
    free(pt);
    free(ct);
    free(back);
    return 0;
}
