/*
 * bench_norms.c: the two queries of prohibitions and norms the issue sets a
 * target for (issue 19, point 9; docs/norms.md), each p50 <= 10 ms:
 *
 *   - the comparison of 200 states' implementation reports, on the handle
 *     that holds the CASES cases below: 200 states each file a section on
 *     each of the eleven norms for one period (2,200 sections, with laws,
 *     institutions, needs and offers), then comity_framework_norm_reports
 *     for the period (every norm, counted: the table of norms) and for
 *     each norm in turn (its 200 sections, its needs matched with offers:
 *     the comparison a state reads), QUERIES times each;
 *   - a state's open complaints and disclosures with their clocks: CASES
 *     norm cases (complaints in clear, disclosures sealed as a node holds
 *     them, between two offices of each of 100 states; half acknowledged,
 *     a sixth closed) fed to one handle, then comity_framework_cases for
 *     QUERIES parties, and for a busy party in a tenth of all cases.
 *
 * Times are CPU time of the querying thread (the machine is shared), with
 * wall time beside, and the target beside each figure.  Run:
 * nice -n 10 build-release/bench_norms (docs/norms.md).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "comity.h"

#define STATES 200
#define CASES 100000
#define CASE_PARTIES 200 /* two offices of 100 states */
#define QUERIES 100

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int dcmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Signs and parses one record (green, or amber sealed to `seal`). */
static comity_record *make(const comity_key *k, const char *type, const char *to,
                           const char *ref, const char *body, const char *seal)
{
    comity_record_params p = {.type = type, .tlp = seal ? "amber" : "green", .to = &to,
                              .nto = to ? 1 : 0, .refs = &ref, .nrefs = ref ? 1 : 0};
    if (seal) {
        p.seal_to = &seal;
        p.nseal_to = 1;
    }
    char *env;
    size_t el;
    comity_record *r = NULL;
    comity_error e;
    if (comity_record_sign(k, &p, body, strlen(body), &env, &el, &e)) {
        fprintf(stderr, "sign %s: %s\n", type, e.msg);
        return NULL;
    }
    if (comity_record_parse(env, el, &r, NULL))
        r = NULL;
    comity_free(env);
    return r;
}

static int feed(comity_framework *fw, comity_record *r)
{
    comity_error e;
    if (!r || comity_framework_add(fw, r, NULL, 0, &e)) {
        fprintf(stderr, "add: %s\n", r ? e.msg : "sign");
        comity_record_free(r);
        return -1;
    }
    comity_record_free(r);
    return 0;
}

/* Prints p50 and p90; with a target (ms, > 0), whether p50 meets it. */
static void report(const char *what, double *lat, double *wall, int n, const char *extra,
                   double target)
{
    qsort(lat, (size_t)n, sizeof *lat, dcmp);
    qsort(wall, (size_t)n, sizeof *wall, dcmp);
    printf("%-36s p50 %7.2f ms, p90 %7.2f ms CPU; p50 %7.2f ms wall   %s", what,
           lat[n / 2] * 1e3, lat[n * 9 / 10] * 1e3, wall[n / 2] * 1e3, extra);
    if (target > 0)
        printf(" target p50 <= %.0f ms: %s", target, lat[n / 2] * 1e3 <= target ? "met" : "NOT met");
    printf("\n");
}

static int bench_reports(comity_framework *fw)
{
    static const char *const topics[] = {"incident-response", "cert-development",
                                         "ci-protection", "legislation", "forensics",
                                         "vulnerability-disclosure"};
    double t0 = now();
    for (int s = 0; s < STATES; s++) {
        char name[32];
        snprintf(name, sizeof name, "%c%c.mofa", 'a' + s / 26 % 26, 'a' + s % 26);
        comity_key *k;
        if (comity_key_generate(name, &k, NULL))
            return 3;
        for (int n = 0; n < 11; n++) {
            char body[1024];
            snprintf(body, sizeof body,
                     "{\"period\":\"2026\",\"norm\":\"13%c\",\"done\":\"State %d put in place "
                     "measures on norm %c: a national strategy, a CERT with a legal mandate, "
                     "and a point of contact.\",\"laws\":[\"Cyber Act %d\",\"CERT Order\"],"
                     "\"institutions\":[\"National CERT\",\"Ministry of Foreign Affairs\"],"
                     "\"needs\":[\"%s\"],\"offers\":[\"%s\"]}",
                     'a' + n, s, 'a' + n, 2020 + s % 6, topics[(s + n) % 6],
                     topics[(s + n + 3) % 6]);
            setenv("COMITY_FAKE_NOW", "2026-07-01T00:00:00Z", 1);
            if (feed(fw, make(k, "norm-report", NULL, NULL, body, NULL)))
                return 3;
        }
        comity_key_free(k);
    }
    unsetenv("COMITY_FAKE_NOW");
    double t1 = now();
    double lat[QUERIES], wall[QUERIES], lat1[QUERIES], wall1[QUERIES];
    size_t bytes = 0, bytes1 = 0;
    for (int q = 0; q < QUERIES; q++) {
        char *json, norm[4] = {'1', '3', (char)('a' + q % 11), 0};
        comity_error e;
        double c = cpu(), w = now();
        if (comity_framework_norm_reports(fw, "2026", NULL, &json, &e)) {
            fprintf(stderr, "reports: %s\n", e.msg);
            return 3;
        }
        lat[q] = cpu() - c;
        wall[q] = now() - w;
        bytes = strlen(json);
        comity_free(json);
        c = cpu(), w = now();
        if (comity_framework_norm_reports(fw, "2026", norm, &json, &e))
            return 3;
        lat1[q] = cpu() - c;
        wall1[q] = now() - w;
        if (!strstr(json, "\"offered_by\"")) {
            fprintf(stderr, "reports %s: no need matched\n", norm);
            return 3;
        }
        bytes1 += strlen(json);
        comity_free(json);
    }
    printf("reports: %d states x 11 norms = %d sections (signed, parsed and fed in %.1f s), "
           "beside the %d cases\n", STATES, STATES * 11, t1 - t0, CASES);
    char extra[96];
    snprintf(extra, sizeof extra, "(%zu KiB of JSON)", bytes >> 10);
    report("every norm (the table of norms):", lat, wall, QUERIES, extra, 10);
    snprintf(extra, sizeof extra, "(%zu KiB of JSON)", (bytes1 / QUERIES) >> 10);
    report("one norm, 200 states, needs matched:", lat1, wall1, QUERIES, extra, 10);
    return 0;
}

/* Signs and parses a record to several names, sealed to `seal` (age
 * recipients) when nseal. */
static comity_record *make_to(const comity_key *k, const char *type, const char **to, size_t nto,
                              const char *ref, const char *body, const char **seal, size_t nseal)
{
    comity_record_params p = {.type = type, .tlp = nseal ? "amber" : "green", .to = to,
                              .nto = nto, .refs = &ref, .nrefs = ref ? 1 : 0,
                              .seal_to = seal, .nseal_to = nseal};
    char *env;
    size_t el;
    comity_record *r = NULL;
    comity_error e;
    if (comity_record_sign(k, &p, body, strlen(body), &env, &el, &e)) {
        fprintf(stderr, "sign %s: %s\n", type, e.msg);
        return NULL;
    }
    if (comity_record_parse(env, el, &r, NULL))
        r = NULL;
    comity_free(env);
    return r;
}

/* Declarations at scale, on the same handle: each of 200 states records
 * DECL_VERSIONS public versions of its declaration and DECL_SEALED
 * declarations sealed to itself and its neighbour, each re-sealed to a
 * third state; then a state's declarations as the third state's office
 * sees them (the public versions and the re-sealed ones). */
#define DECL_VERSIONS 40
#define DECL_SEALED 10
static int bench_declarations(comity_framework *fw)
{
    comity_key **k = calloc(STATES, sizeof *k);
    char (*names)[32] = calloc(STATES, sizeof *names);
    if (!k || !names)
        return 3;
    for (int s = 0; s < STATES; s++) {
        snprintf(names[s], sizeof names[s], "d%c%c.mofa", 'a' + s / 26 % 26, 'a' + s % 26);
        if (comity_key_generate(names[s], &k[s], NULL))
            return 3;
    }
    double t0 = now();
    size_t fed = 0;
    setenv("COMITY_FAKE_NOW", "2026-08-01T00:00:00Z", 1);
    for (int s = 0; s < STATES; s++) {
        char st[32], nb[32], third[32], prev[160] = "", body[256];
        snprintf(st, sizeof st, "%.*s", (int)strcspn(names[s], "."), names[s]);
        snprintf(nb, sizeof nb, "%.*s", (int)strcspn(names[(s + 1) % STATES], "."),
                 names[(s + 1) % STATES]);
        snprintf(third, sizeof third, "%.*s", (int)strcspn(names[(s + 2) % STATES], "."),
                 names[(s + 2) % STATES]);
        for (int v = 0; v < DECL_VERSIONS; v++) {
            snprintf(body, sizeof body, "{\"valid_from\":\"2026-01-01T00:00:00Z\",\"sectors\":"
                     "[\"energy\",\"water\"],\"services\":[\"energy/Grid control %d\"]}", v);
            comity_record *r = make_to(k[s], "norm-declaration", NULL, 0, *prev ? prev : NULL,
                                       body, NULL, 0);
            if (!r)
                return 3;
            snprintf(prev, sizeof prev, "%s", comity_record_id(r));
            if (feed(fw, r))
                return 3;
            fed++;
        }
        for (int v = 0; v < DECL_SEALED; v++) {
            snprintf(body, sizeof body, "{\"valid_from\":\"2026-01-01T00:00:00Z\",\"services\":"
                     "[\"energy/Substation %d\"]}", v);
            const char *to[3] = {st, nb, third};
            const char *seal[3] = {comity_key_recipient(k[(s + 1) % STATES]),
                                   comity_key_recipient(k[(s + 2) % STATES])};
            comity_record *r = make_to(k[s], "norm-declaration", to, 2, NULL, body, seal, 1);
            if (!r)
                return 3;
            char id[160];
            snprintf(id, sizeof id, "%s", comity_record_id(r));
            if (feed(fw, r) ||
                feed(fw, make_to(k[s], "norm-reseal", to, 3, id, body, seal, 2)))
                return 3;
            fed += 2;
        }
    }
    unsetenv("COMITY_FAKE_NOW");
    double t1 = now();
    double lat[QUERIES], wall[QUERIES];
    size_t shown = 0;
    for (int q = 0; q < QUERIES; q++) {
        int s = q * STATES / QUERIES;
        char st[32];
        snprintf(st, sizeof st, "%.*s", (int)strcspn(names[s], "."), names[s]);
        char *json;
        comity_error e;
        double c = cpu(), w = now();
        if (comity_framework_norm_declarations(fw, st, names[(s + 2) % STATES],
                                               1790000000000LL, &json, &e)) {
            fprintf(stderr, "declarations: %s\n", e.msg);
            return 3;
        }
        lat[q] = cpu() - c;
        wall[q] = now() - w;
        if (q == 0)
            for (const char *p = json; (p = strstr(p, "\"series\"")); p++)
                shown++;
        comity_free(json);
    }
    printf("declarations: %d states x (%d public versions + %d sealed, each re-sealed) = %zu "
           "records (signed, parsed and fed in %.1f s)\n", STATES, DECL_VERSIONS, DECL_SEALED,
           fed, t1 - t0);
    char extra[96];
    snprintf(extra, sizeof extra, "(%zu versions shown)", shown);
    report("a state's declarations, a 3rd state:", lat, wall, QUERIES, extra, 0);
    for (int s = 0; s < STATES; s++)
        comity_key_free(k[s]);
    free(k);
    free(names);
    return 0;
}

/* Feeds CASES cases to fw and queries them. */
static int bench_cases(comity_framework *fw)
{
    char names[CASE_PARTIES][32];
    comity_key **keys = calloc(CASE_PARTIES, sizeof *keys);
    if (!keys)
        return 3;
    for (int i = 0; i < CASE_PARTIES; i++) {
        snprintf(names[i], sizeof names[i], "%c%c.%s", 'a' + (i / 2) / 10 % 26,
                 'a' + (i / 2) % 10, i % 2 ? "mofa" : "cert");
        if (comity_key_generate(names[i], &keys[i], NULL))
            return 3;
    }
    double t0 = now();
    size_t fed = 0;
    static const char complaint[] =
        "{\"norm\":\"13f\",\"basis\":\"responsibility\",\"subject\":\"s\",\"summary\":\"x\"}";
    static const char disclosure[] =
        "{\"kind\":\"vulnerability\",\"product\":\"p\",\"vendor\":\"v\",\"summary\":\"s\"}";
    for (int i = 0; i < CASES; i++) {
        char at[32];
        snprintf(at, sizeof at, "2026-%02d-%02dT%02d:%02d:00.000Z", 1 + i / 8640 % 12,
                 1 + i / 288 % 28, i / 12 % 24, i % 12 * 5);
        setenv("COMITY_FAKE_NOW", at, 1);
        /* party 0 (aa.cert) is the busy one: in every tenth case */
        int a = i % 10 == 0 ? 0 : (int)((unsigned)i * 2654435761u % CASE_PARTIES);
        int b = (a + 2 + (int)((unsigned)i * 40503u % (CASE_PARTIES - 4))) % CASE_PARTIES;
        if (b / 2 == a / 2)
            b = (b + 2) % CASE_PARTIES;
        bool disc = i % 2;
        const char *seal = disc ? comity_key_recipient(keys[b]) : NULL;
        comity_record *r = make(keys[a], disc ? "norm-disclosure" : "norm-complaint", names[b],
                                NULL, disc ? disclosure : complaint, seal);
        if (!r)
            return 3;
        char id[160];
        snprintf(id, sizeof id, "%s", comity_record_id(r));
        if (feed(fw, r))
            return 3;
        fed++;
        if (i % 4 < 2) { /* half acknowledged */
            const char *rs = disc ? comity_key_recipient(keys[a]) : NULL;
            if (feed(fw, make(keys[b], disc ? "norm-disclosure-ack" : "norm-complaint-ack",
                              names[a], id, "{}", rs)))
                return 3;
            fed++;
            if (i % 12 == 0) { /* a sixth closed */
                if (feed(fw, make(keys[a], disc ? "norm-disclosure-close" : "norm-complaint-close",
                                  names[b], id,
                                  disc ? "{\"reason\":\"r\"}" : "{\"outcome\":\"resolved\"}",
                                  disc ? comity_key_recipient(keys[b]) : NULL)))
                    return 3;
                fed++;
            }
        }
    }
    unsetenv("COMITY_FAKE_NOW");
    double t1 = now();
    double lat[QUERIES], wall[QUERIES], blat[15], bwall[15];
    size_t items = 0, busy_items = 0;
    int64_t qnow = 1790000000000LL; /* 2026-09-21 */
    comity_error e;
    for (int q = 0; q < QUERIES; q++) {
        char *json;
        double c = cpu(), w = now();
        if (comity_framework_cases(fw, names[2 + q * (CASE_PARTIES - 2) / QUERIES], qnow, &json,
                                   &e)) {
            fprintf(stderr, "cases: %s\n", e.msg);
            return 3;
        }
        lat[q] = cpu() - c;
        wall[q] = now() - w;
        for (const char *p = json; (p = strstr(p, "\"mechanism\"")); p++)
            items++;
        comity_free(json);
    }
    for (int q = 0; q < 15; q++) {
        char *json;
        double c = cpu(), w = now();
        if (comity_framework_cases(fw, names[0], qnow, &json, &e))
            return 3;
        blat[q] = cpu() - c;
        bwall[q] = now() - w;
        if (q == 0)
            for (const char *p = json; (p = strstr(p, "\"mechanism\"")); p++)
                busy_items++;
        comity_free(json);
    }
    printf("cases: %d complaints and disclosures, %zu records (signed, sealed, parsed and fed "
           "in %.1f s)\n", CASES, fed, t1 - t0);
    char extra[96];
    snprintf(extra, sizeof extra, "(%.0f open cases per party)", (double)items / QUERIES);
    report("a state's open cases with clocks:", lat, wall, QUERIES, extra, 10);
    snprintf(extra, sizeof extra, "(one party with %zu open cases)", busy_items);
    report("... the busy party:", blat, bwall, 15, extra, 0);
    for (int i = 0; i < CASE_PARTIES; i++)
        comity_key_free(keys[i]);
    free(keys);
    return 0;
}

int main(void)
{
    comity_framework *fw;
    if (comity_framework_new(&fw, NULL))
        return 3;
    int rc = bench_cases(fw);
    if (!rc)
        rc = bench_reports(fw);
    if (!rc)
        rc = bench_declarations(fw);
    comity_framework_free(fw);
    return rc;
}
