/*
 * gen_sweep.c: deterministic test data for the sweep benchmark.
 *
 *   gen_sweep iocs N SEED > iocs.txt
 *       N random domain indicators, one a line (labels of 6..14 letters
 *       a-z, then .com/.net/.org/.info/.io).
 *   gen_sweep log BYTES SEED IOCS_FILE EVERY > dns.log
 *       BIND-style query log lines (~110 bytes: time, client IP and port,
 *       query name, type, server IP) until BYTES are written.  Benign names
 *       are drawn from a pool of 200,000 names whose labels always contain a
 *       digit, so no benign line contains an indicator (letters only) as a
 *       substring; every EVERY-th line (on average; chosen by the PRNG)
 *       instead queries an indicator from IOCS_FILE or a subdomain of one.
 *       The number of planted lines is printed on stderr as "planted N".
 *
 * The same arguments give the same bytes on every machine (splitmix64).
 * Built by bench/sweep.sh with the system compiler; not part of libcomity.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng_state;

static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static unsigned below(unsigned n)
{
    return (unsigned)(rnd() % n);
}

static const char *const tlds[] = {"com", "net", "org", "info", "io"};

/* A random label of letters (with_digit: one position is a digit). */
static size_t label(char *o, unsigned minl, unsigned maxl, int with_digit)
{
    unsigned n = minl + below(maxl - minl + 1);
    for (unsigned i = 0; i < n; i++)
        o[i] = (char)('a' + below(26));
    if (with_digit)
        o[below(n)] = (char)('0' + below(10));
    return n;
}

static int gen_iocs(unsigned long n)
{
    char buf[128];
    for (unsigned long i = 0; i < n; i++) {
        size_t k = label(buf, 6, 14, 0);
        if (below(4) == 0) {
            buf[k++] = '.';
            k += label(buf + k, 4, 8, 0);
        }
        k += (size_t)sprintf(buf + k, ".%s\n", tlds[below(5)]);
        fwrite(buf, 1, k, stdout);
    }
    return 0;
}

#define POOL 200000

static int gen_log(unsigned long long bytes, const char *iocs_path, unsigned every)
{
    /* Benign pool. */
    char **pool = malloc(POOL * sizeof *pool);
    for (unsigned i = 0; i < POOL; i++) {
        char b[96];
        size_t k = 0;
        if (below(2)) {
            static const char *const pre[] = {"www", "api", "cdn", "mail", "img", "static"};
            k += (size_t)sprintf(b, "%s.", pre[below(6)]);
        }
        k += label(b + k, 4, 12, 1);
        k += (size_t)sprintf(b + k, ".%s", tlds[below(5)]);
        pool[i] = strndup(b, k);
    }
    /* Indicators to plant. */
    FILE *f = fopen(iocs_path, "r");
    if (!f) {
        perror(iocs_path);
        return 2;
    }
    size_t ni = 0, cap = 1024;
    char **iocs = malloc(cap * sizeof *iocs);
    char line[512];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = 0;
        if (!line[0] || line[0] == '#')
            continue;
        if (ni == cap)
            iocs = realloc(iocs, (cap *= 2) * sizeof *iocs);
        iocs[ni++] = strdup(line);
    }
    fclose(f);
    static char out[1 << 20];
    setvbuf(stdout, out, _IOFBF, sizeof out);
    unsigned long long written = 0, planted = 0, lineno = 0;
    static const char *const types[] = {"A", "AAAA", "MX", "TXT", "HTTPS"};
    while (written < bytes) {
        char b[512];
        lineno++;
        unsigned s = (unsigned)(lineno % 86400);
        const char *name;
        char sub[400];
        if (ni && below(every) == 0) {
            const char *ioc = iocs[below((unsigned)ni)];
            if (below(2)) {
                snprintf(sub, sizeof sub, "x%u.%s", below(100), ioc);
                name = sub;
            } else {
                name = ioc;
            }
            planted++;
        } else {
            name = pool[below(POOL)];
        }
        int k = snprintf(b, sizeof b,
                         "23-Nov-2026 %02u:%02u:%02u.%03u client 10.%u.%u.%u#%u (%s): "
                         "query: %s IN %s + (192.0.2.%u)\n",
                         s / 3600, s / 60 % 60, s % 60, below(1000), below(256), below(256),
                         below(256), 1024 + below(60000), name, name, types[below(5)],
                         below(256));
        fwrite(b, 1, (size_t)k, stdout);
        written += (unsigned long long)k;
    }
    fflush(stdout);
    fprintf(stderr, "planted %llu lines %llu\n", planted, lineno);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 4 && strcmp(argv[1], "iocs") == 0) {
        rng_state = strtoull(argv[3], NULL, 10);
        return gen_iocs(strtoul(argv[2], NULL, 10));
    }
    if (argc >= 6 && strcmp(argv[1], "log") == 0) {
        rng_state = strtoull(argv[3], NULL, 10) ^ 0x5555;
        return gen_log(strtoull(argv[2], NULL, 10), argv[4], (unsigned)strtoul(argv[5], NULL, 10));
    }
    fprintf(stderr, "usage: gen_sweep iocs N SEED | log BYTES SEED IOCS EVERY\n");
    return 2;
}
