/*
 * bench_correlate.c: the correlation index's figures, beside issue 17's
 * targets (docs/correlation.md, "Figures").
 *
 *   bench_correlate [-n VALUES] [-q QUERIES]
 *
 * Makes its data in memory, deterministically: 50 states, each with 200
 * reports of 100 indicator values (1,000,000 values by default: half
 * domains, a fifth IPv4 addresses, a fifth SHA-256 hashes, the rest URLs
 * and e-mail addresses), 5% of each report's values drawn from a pool of
 * 20,000 values shared across states (the infrastructure the query should
 * find), one value every report holds (a resolver: over the common cap)
 * and a few subdomains of pooled domains.  It prints:
 *   - index build time (holders, values, sorted views), wall and CPU;
 *   - memory per value: the RSS delta of the build over the values added,
 *     beside the bytes the index counts itself;
 *   - "shared infrastructure of this case": p50 and p99 of
 *     cy_corr_shared over random reports, as a party that sees them all
 *     (target p50 <= 10 ms);
 *   - blinded intersection of two 100,000-value sets with 10,000 in
 *     common: keyed hashing on each side, the two submissions (base64
 *     JSON bodies, parsed and sorted), and one participant's result
 *     (target <= 1 s in all).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "correlate/correlate.h"

static uint64_t st = 7;
static uint64_t rnd(void)
{
    uint64_t z = (st += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double now(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t rss(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long size = 0, res = 0;
    if (f) {
        if (fscanf(f, "%lu %lu", &size, &res) != 2)
            res = 0;
        fclose(f);
    }
    return res * (size_t)sysconf(_SC_PAGESIZE);
}

static void label(char *o, size_t n)
{
    for (size_t i = 0; i < n; i++)
        o[i] = (char)('a' + rnd() % 26);
    o[n] = 0;
}

/* One random value: OUT *kind, text in v. */
static void value(int *kind, char *v, size_t cap)
{
    char a[32], b[16];
    unsigned r = (unsigned)(rnd() % 20);
    if (r < 10) {
        label(a, 6 + rnd() % 9);
        label(b, 4 + rnd() % 5);
        snprintf(v, cap, "%s.%s.com", a, b);
        *kind = CY_CK_DOMAIN;
    } else if (r < 14) {
        uint64_t x = rnd();
        snprintf(v, cap, "%u.%u.%u.%u", (unsigned)(x & 255), (unsigned)(x >> 8 & 255),
                 (unsigned)(x >> 16 & 255), (unsigned)(x >> 24 & 255));
        *kind = CY_CK_IPV4;
    } else if (r < 18) {
        static const char hex[] = "0123456789abcdef";
        for (int i = 0; i < 64; i++)
            v[i] = hex[rnd() % 16];
        v[64] = 0;
        *kind = CY_CK_SHA256;
    } else if (r < 19) {
        label(a, 12);
        snprintf(v, cap, "https://%s.net/p/%u", a, (unsigned)(rnd() % 1000));
        *kind = CY_CK_URL;
    } else {
        label(a, 8);
        label(b, 8);
        snprintf(v, cap, "%s@%s.org", a, b);
        *kind = CY_CK_EMAIL;
    }
}

static int dcmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void die(comity_err rc, const comity_error *e, const char *what)
{
    fprintf(stderr, "bench_correlate: %s: %s (%s)\n", what, comity_strerror(rc), e->msg);
    exit(1);
}

#define POOL 20000

static void bench_index(size_t nvalues, size_t nq)
{
    static const size_t states = 50;
    size_t per = 100, reports = nvalues / per;
    comity_error e = {0};
    comity_err rc;
    /* the shared pool */
    char (*pool)[96] = malloc(POOL * sizeof *pool);
    int *pk = malloc(POOL * sizeof *pk);
    for (size_t i = 0; i < POOL; i++)
        value(&pk[i], pool[i], sizeof pool[i]);

    size_t r0 = rss();
    double w0 = now(CLOCK_MONOTONIC), c0 = now(CLOCK_PROCESS_CPUTIME_ID);
    cy_corr *c = NULL;
    if ((rc = cy_corr_new(0, &c, &e)))
        die(rc, &e, "new");
    size_t added = 0;
    for (size_t r = 0; r < reports; r++) {
        char id[80], au[32], v[128];
        snprintf(id, sizeof id, "notification--%08zx-0000-4000-8000-000000000000", r);
        snprintf(au, sizeof au, "s%02zu.cert", r % states);
        uint32_t h;
        if ((rc = cy_corr_holder(c, id, "notification", au, "green", NULL, 0, &h, &e)))
            die(rc, &e, "holder");
        for (size_t i = 0; i < per; i++) {
            int kind;
            const char *val = v;
            if (i == 0) {
                kind = CY_CK_DOMAIN;
                val = "resolver.common.example";
            } else if (i < 6) {
                size_t p = rnd() % POOL;
                kind = pk[p];
                if (i == 5 && kind == CY_CK_DOMAIN) {
                    snprintf(v, sizeof v, "www.%s", pool[p]);
                } else {
                    val = pool[p];
                }
            } else {
                value(&kind, v, sizeof v);
            }
            if ((rc = cy_corr_add(c, h, kind, val, strlen(val), NULL, &e)))
                die(rc, &e, "add");
            added++;
        }
    }
    if ((rc = cy_corr_prepare(c, &e)))
        die(rc, &e, "prepare");
    double w1 = now(CLOCK_MONOTONIC), c1 = now(CLOCK_PROCESS_CPUTIME_ID);
    size_t r1 = rss();
    cy_corr_stats s;
    cy_corr_stats_get(c, &s);
    printf("index: %zu values added from %zu reports of %zu states: %zu distinct, %zu "
           "postings, %zu common\n",
           added, reports, states, s.values, s.postings, s.common);
    printf("index build: %.3f s wall, %.3f s cpu\n", w1 - w0, c1 - c0);
    printf("memory: %.1f bytes per value added (RSS delta %.1f MiB), index's own count "
           "%.1f bytes per value\n",
           (double)(r1 - r0) / (double)added, (double)(r1 - r0) / 1048576.0,
           (double)s.bytes / (double)added);

    double *lat = malloc(nq * sizeof *lat), *cpu = malloc(nq * sizeof *cpu);
    size_t found = 0;
    for (size_t q = 0; q < nq; q++) {
        char id[80];
        snprintf(id, sizeof id, "notification--%08zx-0000-4000-8000-000000000000",
                 (size_t)(rnd() % reports));
        char *js = NULL;
        double t0 = now(CLOCK_MONOTONIC), u0 = now(CLOCK_THREAD_CPUTIME_ID);
        if ((rc = cy_corr_shared(c, id, "s07.cert", &js, &e)))
            die(rc, &e, "shared");
        lat[q] = now(CLOCK_MONOTONIC) - t0;
        cpu[q] = now(CLOCK_THREAD_CPUTIME_ID) - u0;
        if (strstr(js, "\"holders\":[{"))
            found++;
        cy_free(js);
    }
    qsort(lat, nq, sizeof *lat, dcmp);
    qsort(cpu, nq, sizeof *cpu, dcmp);
    printf("shared infrastructure of a case: %zu queries, p50 %.3f ms wall (%.3f ms cpu), "
           "p99 %.3f ms wall (%.3f ms cpu) (target p50 <= 10 ms: %s); %zu of them found "
           "shared values\n",
           nq, lat[nq / 2] * 1e3, cpu[nq / 2] * 1e3, lat[nq * 99 / 100] * 1e3,
           cpu[nq * 99 / 100] * 1e3, lat[nq / 2] <= 0.010 ? "met" : "NOT MET", found);
    free(lat);
    free(cpu);
    free(pool);
    free(pk);
    cy_corr_free(c);
}

static char *body(const uint8_t key[32], char (*vals)[64], size_t n, const char *parts)
{
    comity_error e = {0};
    uint8_t *h = malloc(n * CY_BLIND_HASH_LEN);
    for (size_t i = 0; i < n; i++) {
        comity_err rc = cy_blind_hash(key, CY_CK_DOMAIN, vals[i], strlen(vals[i]),
                                      h + i * CY_BLIND_HASH_LEN, &e);
        if (rc)
            die(rc, &e, "hash");
    }
    size_t bl = cy_b64_encoded_len(n * CY_BLIND_HASH_LEN, CY_B64_STD);
    char *b = malloc(bl + 128);
    int k = snprintf(b, bl + 128, "{%s\"hashes\":\"", parts);
    cy_b64_encode(b + k, bl, h, n * CY_BLIND_HASH_LEN, CY_B64_STD);
    strcat(b, "\"}");
    free(h);
    return b;
}

static void bench_blind(void)
{
    enum { N = 100000, COMMON = 10000 };
    char (*a)[64] = malloc(N * sizeof *a), (*b)[64] = malloc(N * sizeof *b);
    for (size_t i = 0; i < N; i++) {
        char l[20];
        label(l, 14);
        snprintf(a[i], 64, "%s.a.example", l);
        label(l, 14);
        snprintf(b[i], 64, "%s.b.example", l);
    }
    for (size_t i = 0; i < COMMON; i++)
        memcpy(b[i * 7], a[i * 9], 64);
    uint8_t key[32];
    for (int i = 0; i < 32; i++)
        key[i] = (uint8_t)rnd();
    comity_error e = {0};
    comity_err rc;
    double t0 = now(CLOCK_MONOTONIC), c0 = now(CLOCK_PROCESS_CPUTIME_ID);
    char *ba = body(key, a, N, "\"participants\":[\"pk\",\"in\"],");
    char *bb = body(key, b, N, "");
    double t1 = now(CLOCK_MONOTONIC), c1 = now(CLOCK_PROCESS_CPUTIME_ID);
    cy_blind_rounds *r = NULL;
    if ((rc = cy_blind_rounds_new(&r, &e)) ||
        (rc = cy_blind_submit(r, "bench", "pk.cert", ba, strlen(ba), &e)) ||
        (rc = cy_blind_submit(r, "bench", "in.cert", bb, strlen(bb), &e)))
        die(rc, &e, "submit");
    char *out = NULL;
    if ((rc = cy_blind_result(r, "bench", "pk.cert", &out, &e)))
        die(rc, &e, "result");
    double t2 = now(CLOCK_MONOTONIC), c2 = now(CLOCK_PROCESS_CPUTIME_ID);
    const char *cnt = strstr(out, "\"count\":");
    long found = cnt ? strtol(cnt + 8, NULL, 10) : -1;
    printf("blinded: two sets of %d values, %d in common: hashing both %.3f s wall (%.3f s "
           "cpu), node (parse, sort, intersect, answer) %.3f s wall (%.3f s cpu); total "
           "%.3f s wall, %.3f s cpu (target <= 1 s: %s wall, %s cpu); overlap found: %ld "
           "of %d\n",
           N, COMMON, t1 - t0, c1 - c0, t2 - t1, c2 - c1, t2 - t0, c2 - c0,
           t2 - t0 <= 1.0 ? "met" : "NOT MET", c2 - c0 <= 1.0 ? "met" : "NOT MET", found,
           COMMON);
    cy_free(out);
    free(ba);
    free(bb);
    free(a);
    free(b);
    cy_blind_rounds_free(r);
}

int main(int argc, char **argv)
{
    size_t n = 1000000, nq = 1000;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "-n"))
            n = (size_t)strtoull(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "-q"))
            nq = (size_t)strtoull(argv[i + 1], NULL, 10);
    }
    if (n < 100 || nq < 1) {
        fprintf(stderr, "usage: bench_correlate [-n VALUES>=100] [-q QUERIES]\n");
        return 2;
    }
    double la[3] = {0};
    if (getloadavg(la, 3) < 0)
        la[0] = -1;
    printf("bench_correlate: %zu values, 50 states, load average %.2f\n", n, la[0]);
    bench_index(n, nq);
    bench_blind();
    return 0;
}
