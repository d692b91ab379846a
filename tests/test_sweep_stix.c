/*
 * test_sweep_stix.c: STIX indicators compiled into the sweep: every
 * comparison operator and qualifier (matched, or reported as skipped with a
 * reason, never dropped), observation AND/OR, the quirks fixture, and the
 * Amnesty Pegasus and Cytrox sets run against generated logs and a
 * generated phone-like directory in which the planted hits are known
 * exactly: no hit missed, no false hit.
 */
#include <stdlib.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "sweep/sweep.h"
#include "util/testutil.h"

static void write_file(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
}

/* A bundle with one indicator of `pattern` (JSON-escaped by jansson). */
static char *bundle1(const char *pattern)
{
    json_t *ind = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "type", "indicator", "spec_version",
                            "2.1", "id", "indicator--00000000-0000-4000-8000-000000000001",
                            "pattern", pattern, "pattern_type", "stix", "valid_from",
                            "2024-01-01T00:00:00Z");
    json_t *b = json_pack("{s:s,s:s,s:[o]}", "type", "bundle", "id",
                          "bundle--00000000-0000-4000-8000-000000000002", "objects", ind);
    char *s = json_dumps(b, 0);
    json_decref(b);
    return s;
}

struct result {
    uint64_t hits;
    size_t skipped;
    char *out;
};

static struct result run_pattern(const char *pattern, const char *log)
{
    char *dir = tu_tmpdir();
    char p[512];
    snprintf(p, sizeof p, "%s/t.log", dir);
    write_file(p, log, strlen(log));
    comity_sweep *sw = NULL;
    TU_OK(comity_sweep_new(&sw, E));
    char *b = bundle1(pattern);
    TU_OK(comity_sweep_add_stix(sw, b, strlen(b), "t", NULL, E));
    free(b);
    struct result r = {0};
    comity_sweep_indicators(sw, &r.skipped);
    size_t len;
    FILE *f = open_memstream(&r.out, &len);
    comity_sweep_opts o = {.threads = 1, .format = COMITY_SWEEP_JSONL, .out = f};
    const char *paths[] = {p};
    TU_OK(comity_sweep_run(sw, paths, 1, &o, &r.hits, E));
    fclose(f);
    comity_sweep_free(sw);
    tu_rmrf(dir);
    free(dir);
    return r;
}

static const char *LOG = "q a.evil.com from 10.1.2.3\n"
                         "q b.evil.com from 192.0.2.1\n"
                         "q good.org from 10.9.9.9\n"
                         "q c.evil.com\n"
                         "mail spy@evil.com\n";

static void expect(const char *pattern, uint64_t hits, size_t skipped)
{
    struct result r = run_pattern(pattern, LOG);
    if (r.hits != hits || r.skipped != skipped)
        fail_msg("%s: %llu hits (want %llu), %zu skipped (want %zu)\n%s", pattern,
                 (unsigned long long)r.hits, (unsigned long long)hits, r.skipped, skipped,
                 r.out ? r.out : "");
    free(r.out);
}

static void test_operators(void **state)
{
    (void)state;
    expect("[domain-name:value = 'evil.com']", 4, 0); /* 3 subdomains + the email host */
    expect("[domain-name:value='EVIL.COM']", 4, 0);
    expect("[domain-name:value IN ('good.org', 'nothing.net')]", 1, 0);
    expect("[ipv4-addr:value ISSUBSET '10.0.0.0/8']", 2, 0);
    expect("[ipv4-addr:value = '192.0.2.1']", 1, 0);
    expect("[email-addr:value = 'SPY@evil.com']", 1, 0);
    expect("[domain-name:value = 'evil.com' OR ipv4-addr:value = '10.9.9.9']", 5, 0);
    /* one record (line) must satisfy both sides of an AND */
    expect("[domain-name:value = 'evil.com' AND ipv4-addr:value = '10.1.2.3']", 1, 0);
    expect("[domain-name:value = 'good.org' AND ipv4-addr:value = '10.1.2.3']", 0, 0);
    /* what cannot be evaluated on log lines is skipped, with no hits */
    expect("[domain-name:value != 'evil.com']", 0, 1);
    expect("[domain-name:value NOT = 'evil.com']", 0, 1);
    expect("[file:size < 10]", 0, 1);
    expect("[file:size <= 10]", 0, 1);
    expect("[file:size > 10]", 0, 1);
    expect("[file:size >= 10]", 0, 1);
    /* LIKE and MATCHES through vectorscan, on the whole token */
    expect("[domain-name:value LIKE '%.evil.com']", 3, 0);
    expect("[domain-name:value LIKE '_.EVIL.com']", 3, 0);
    expect("[domain-name:value LIKE 'evil.com']", 1, 0); /* the email's host */
    expect("[domain-name:value LIKE '%.evil.co']", 0, 0);
    expect("[domain-name:value MATCHES '^[ab]\\\\.evil\\\\.com$']", 2, 0);
    expect("[email-addr:value MATCHES '^spy@']", 1, 0);
    expect("[domain-name:value MATCHES 'good'] AND [domain-name:value LIKE 'c.%']", 1, 0);
    expect("[domain-name:value MATCHES '(a)\\\\1']", 0, 1); /* back-reference: refused */
    expect("[ipv4-addr:value MATCHES '^10\\\\.']", 0, 1);
    expect("[ipv4-addr:value ISSUPERSET '10.1.2.3']", 0, 1);
    expect("[domain-name:value ISSUBSET 'evil.com']", 0, 1);
    expect("[EXISTS domain-name:value]", 0, 1);
    expect("[domain-name:value = 1]", 0, 1);
    expect("[file:hashes.MD5 = 'tooshort']", 0, 1);
    expect("[network-traffic:extensions[0].x = 'y']", 0, 1);
    expect("[domain-name:value = 'evil.com'", 0, 1); /* parse error */
}

static void test_observation_ops_and_qualifiers(void **state)
{
    (void)state;
    /* both observed somewhere in the sweep: one hit, decided at the end */
    expect("[domain-name:value = 'good.org'] AND [email-addr:value = 'spy@evil.com']", 1, 0);
    expect("[domain-name:value = 'good.org'] AND [domain-name:value = 'absent.net']", 0, 0);
    expect("([domain-name:value = 'absent.net'] OR [domain-name:value = 'good.org']) AND "
           "[ipv4-addr:value = '192.0.2.1']",
           1, 0);
    expect("[domain-name:value = 'good.org'] OR [domain-name:value = 'absent.net']", 1, 0);
    /* REPEATS counts records that satisfy the observation */
    expect("[domain-name:value = 'evil.com'] REPEATS 3 TIMES", 1, 0);
    expect("[domain-name:value = 'evil.com'] REPEATS 9 TIMES", 0, 0);
    expect("([domain-name:value = 'evil.com'] AND [domain-name:value = 'good.org']) REPEATS 2 "
           "TIMES",
           0, 1);
    /* time-bound qualifiers and FOLLOWEDBY need event times: skipped */
    expect("[domain-name:value = 'evil.com'] WITHIN 10 SECONDS", 0, 1);
    expect("[domain-name:value = 'evil.com'] START t'2024-01-01T00:00:00Z' STOP "
           "t'2024-02-01T00:00:00Z'",
           0, 1);
    expect("[domain-name:value = 'good.org'] FOLLOWEDBY [domain-name:value = 'evil.com']", 0, 1);
}

static void test_skip_reasons_listed(void **state)
{
    (void)state;
    comity_sweep *sw = NULL;
    TU_OK(comity_sweep_new(&sw, E));
    char *b = bundle1("[a:b = 'x'] FOLLOWEDBY [a:b = 'y']");
    TU_OK(comity_sweep_add_stix(sw, b, strlen(b), "t", NULL, E));
    free(b);
    char *notes = NULL;
    size_t nlen;
    FILE *nf = open_memstream(&notes, &nlen);
    FILE *of = fopen("/dev/null", "w");
    comity_sweep_opts o = {.threads = 1, .out = of, .notes = nf};
    const char *paths[] = {"/dev/null"};
    TU_OK(comity_sweep_run(sw, paths, 1, &o, NULL, E));
    fclose(nf);
    fclose(of);
    assert_non_null(strstr(notes, "skipped indicator--00000000-0000-4000-8000-000000000001"));
    assert_non_null(strstr(notes, "FOLLOWEDBY needs event times"));
    assert_non_null(strstr(notes, "1 indicators skipped"));
    free(notes);
    comity_sweep_free(sw);
}

/* A file of a directory is one record: its name and hash must belong to the
 * same file for an AND of both to match. */
static void test_file_record_and(void **state)
{
    (void)state;
    char *dir = tu_tmpdir();
    char p[512];
    snprintf(p, sizeof p, "%s/agent.bin", dir);
    write_file(p, "abc", 3); /* MD5 900150983cd24fb0d6963f7d28e17f72 */
    snprintf(p, sizeof p, "%s/other.bin", dir);
    write_file(p, "xyz", 3);
    const char *pats[] = {
        "[file:name = 'agent.bin' AND file:hashes.MD5 = '900150983cd24fb0d6963f7d28e17f72']",
        "[file:name = 'other.bin' AND file:hashes.MD5 = '900150983cd24fb0d6963f7d28e17f72']",
    };
    uint64_t want[] = {1, 0};
    for (int i = 0; i < 2; i++) {
        comity_sweep *sw = NULL;
        TU_OK(comity_sweep_new(&sw, E));
        char *b = bundle1(pats[i]);
        TU_OK(comity_sweep_add_stix(sw, b, strlen(b), "t", NULL, E));
        free(b);
        FILE *f = fopen("/dev/null", "w");
        comity_sweep_opts o = {.threads = 1, .out = f};
        const char *paths[] = {dir};
        uint64_t hits;
        TU_OK(comity_sweep_run(sw, paths, 1, &o, &hits, E));
        fclose(f);
        if (hits != want[i])
            fail_msg("%s: %llu hits", pats[i], (unsigned long long)hits);
        comity_sweep_free(sw);
    }
    tu_rmrf(dir);
    free(dir);
}

/* ---- the quirks fixture ------------------------------------------------ */

static void test_quirks(void **state)
{
    (void)state;
    size_t blen;
    char *bundle = tu_slurp(tu_src("tests/data/sweep/quirks.stix2"), &blen);
    comity_sweep *sw = NULL;
    TU_OK(comity_sweep_new(&sw, E));
    size_t added, skipped;
    TU_OK(comity_sweep_add_stix(sw, bundle, blen, "quirks.stix2", &added, E));
    free(bundle);
    assert_int_equal(added, 11); /* 12 indicator objects, one id twice */
    assert_int_equal(comity_sweep_indicators(sw, &skipped), 11);
    assert_int_equal(skipped, 2); /* yara, broken pattern */
    char *dir = tu_tmpdir();
    char p[512];
    snprintf(p, sizeof p, "%s/log.txt", dir);
    const char *log = "conn to 185.141.63.120:443\n"                    /* IP as domain */
                      "GET http://links-update.net/other\n"             /* host of domain+path */
                      "dns x.dup-domain.com\n"                          /* 2 indicators */
                      "pkg com.quirky.spy installed\n"                  /* app:id */
                      "getprop persist.quirky.hook=1\n"                 /* android-property */
                      "profile 11112222-3333-4444-5555-666677778888\n"  /* configuration-profile */
                      "benign com.quirky.spyware persist.quirky.hooks\n"; /* near misses */
    write_file(p, log, strlen(log));
    snprintf(p, sizeof p, "%s/abc.bin", dir);
    write_file(p, "abc", 3); /* its SHA-256 is in the bundle under both spellings */
    char *out = NULL;
    size_t len;
    FILE *f = open_memstream(&out, &len);
    comity_sweep_opts o = {.threads = 2, .format = COMITY_SWEEP_JSONL, .out = f};
    const char *paths[] = {dir};
    uint64_t hits;
    TU_OK(comity_sweep_run(sw, paths, 1, &o, &hits, E));
    fclose(f);
    const char *want[] = {"2a10", "2a11", "2a12", "2a13", "2a14", "2a15", "2a16", "2a17", "2a18"};
    for (size_t i = 0; i < CY_ARRAY_LEN(want); i++) {
        char id[64];
        snprintf(id, sizeof id, "indicator--5b0b6f36-6a0c-4c1e-9a7e-0d3c7e1f%s", want[i]);
        if (!strstr(out, id))
            fail_msg("missing %s in:\n%s", id, out);
    }
    if (hits != CY_ARRAY_LEN(want))
        fail_msg("%llu hits:\n%s", (unsigned long long)hits, out);
    free(out);
    comity_sweep_free(sw);
    tu_rmrf(dir);
    free(dir);
}

/* ---- the Amnesty sets with planted hits -------------------------------- */

struct planted {
    char id[64];
    char line_key[32]; /* "file:line" or "file:0" */
};

/* The value of a simple pattern [type:prop='value'], in a static buffer. */
static const char *pattern_value(const char *pat, char *type, size_t tcap)
{
    static char v[512];
    const char *colon = strchr(pat, ':');
    const char *q = strchr(pat, '\'');
    const char *e = strrchr(pat, '\'');
    assert_true(colon && q && e > q);
    snprintf(type, tcap, "%.*s", (int)(colon - pat - 1), pat + 1);
    snprintf(v, sizeof v, "%.*s", (int)(e - q - 1), q + 1);
    return v;
}

static void test_amnesty_planted(void **state)
{
    (void)state;
    const char *sets[] = {"data/ioc/amnesty/pegasus.stix2", "data/ioc/amnesty/cytrox.stix2"};
    comity_sweep *sw = NULL;
    TU_OK(comity_sweep_new(&sw, E));
    json_t *all = json_array();
    size_t total = 0;
    for (size_t s = 0; s < 2; s++) {
        size_t len, added;
        char *text = tu_slurp(tu_shared(sets[s]), &len);
        TU_OK(comity_sweep_add_stix(sw, text, len, sets[s], &added, E));
        total += added;
        json_t *b = json_loadb(text, len, 0, NULL);
        size_t i;
        json_t *o;
        json_array_foreach(json_object_get(b, "objects"), i, o)
        {
            if (strcmp(json_string_value(json_object_get(o, "type")), "indicator") == 0)
                json_array_append(all, o);
        }
        json_decref(b);
        free(text);
    }
    size_t skipped;
    assert_int_equal(total, 1549 + 343);
    comity_sweep_indicators(sw, &skipped);
    assert_int_equal(skipped, 0);

    /* Plant every 5th indicator: domains as subdomains in DNS lines,
     * emails in mail lines, process names in ps lines, file names and
     * paths as files of a directory, the profile id in a line.  Between
     * them, near misses that must not hit. */
    char *dir = tu_tmpdir();
    char logp[512];
    snprintf(logp, sizeof logp, "%s/device/logs/dns.log", dir);
    char d1[512], d2[512];
    snprintf(d1, sizeof d1, "%s/device", dir);
    snprintf(d2, sizeof d2, "%s/device/logs", dir);
    mkdir(d1, 0755);
    mkdir(d2, 0755);
    cy_buf log;
    cy_buf_init(&log, 1u << 24);
    struct planted *pl = calloc(json_array_size(all), sizeof *pl);
    size_t np = 0;
    uint64_t line = 0;
    size_t i;
    json_t *o;
    json_array_foreach(all, i, o)
    {
        const char *pat = json_string_value(json_object_get(o, "pattern"));
        char type[64];
        const char *v = pattern_value(pat, type, sizeof type);
        /* a near miss before every indicator: a longer label, a suffix */
        assert_int_equal(cy_buf_printf(&log, "ts=1 q=x%s.invalidtld n=%sx w=%s_not\n", v, v, v),
                         COMITY_OK);
        line++;
        if (i % 5 != 0)
            continue;
        struct planted *p = &pl[np];
        snprintf(p->id, sizeof p->id, "%s", json_string_value(json_object_get(o, "id")));
        if (strcmp(type, "domain-name") == 0) {
            assert_int_equal(cy_buf_printf(&log, "ts=2 query[A] Sub%zu.%s. from 10.0.0.%zu\n",
                                           i, v, i % 250),
                             COMITY_OK);
        } else if (strcmp(type, "email-addr") == 0) {
            assert_int_equal(cy_buf_printf(&log, "ts=3 mail from <%s> ok\n", v), COMITY_OK);
        } else if (strcmp(type, "process") == 0 || strcmp(type, "configuration-profile") == 0) {
            assert_int_equal(cy_buf_printf(&log, "ts=4 ps %s running\n", v), COMITY_OK);
        } else if (strcmp(type, "file") == 0) {
            /* file:name or file:path: a file in the directory tree */
            char fp[1024];
            if (v[0] == '/') {
                snprintf(fp, sizeof fp, "%s%s", dir, v);
                for (char *c = fp + strlen(dir) + 1; *c; c++)
                    if (*c == '/') {
                        *c = 0;
                        mkdir(fp, 0755);
                        *c = '/';
                    }
                if (fp[strlen(fp) - 1] == '/') {
                    continue; /* a directory path ('/data/local/tmp/wd/'): not a file */
                }
            } else {
                snprintf(fp, sizeof fp, "%s/device/%s", dir, v);
            }
            write_file(fp, "artefact\n", 9);
            snprintf(p->line_key, sizeof p->line_key, "file");
            np++;
            continue;
        } else {
            fail_msg("unexpected type %s", type);
        }
        line++;
        snprintf(p->line_key, sizeof p->line_key, "%llu", (unsigned long long)line);
        np++;
    }
    write_file(logp, (const char *)log.data, log.len);
    cy_buf_free(&log);
    assert_true(np > 350);

    char *out = NULL;
    size_t olen;
    FILE *f = open_memstream(&out, &olen);
    comity_sweep_opts opts = {.threads = 2, .format = COMITY_SWEEP_JSONL, .out = f};
    const char *paths[] = {dir};
    uint64_t hits;
    TU_OK(comity_sweep_run(sw, paths, 1, &opts, &hits, E));
    fclose(f);
    /* every planted indicator is reported where it was planted ... */
    size_t missed = 0;
    for (size_t k = 0; k < np; k++) {
        char needle[128];
        if (strcmp(pl[k].line_key, "file") == 0)
            snprintf(needle, sizeof needle, "{\"indicator\":\"%s\"", pl[k].id);
        else
            snprintf(needle, sizeof needle, "{\"indicator\":\"%s\"", pl[k].id);
        const char *at = strstr(out, needle);
        if (!at) {
            print_message("missed %s (%s)\n", pl[k].id, pl[k].line_key);
            missed++;
            continue;
        }
        if (strcmp(pl[k].line_key, "file") != 0) {
            char ln[48];
            snprintf(ln, sizeof ln, "\"line\":%s,", pl[k].line_key);
            const char *eol = strchr(at, '\n');
            const char *lp = strstr(at, ln);
            if (!lp || lp > eol)
                fail_msg("%s reported on the wrong line (want %s)", pl[k].id, pl[k].line_key);
        }
    }
    assert_int_equal(missed, 0);
    /* ... and nothing else: one hit per planted indicator */
    /* ... and nothing else.  A planted subdomain of a domain indicator also
     * hits every parent domain that is itself an indicator (cytrox lists
     * both utube.digital and yo.utube.digital): those extra hits are right;
     * any other hit is false. */
    size_t parents = 0, false_hits = 0;
    for (char *l = out; *l;) {
        char *eol = strchr(l, '\n');
        json_t *j = json_loadb(l, (size_t)(eol - l), 0, NULL);
        assert_non_null(j);
        const char *id = json_string_value(json_object_get(j, "indicator"));
        bool known = false;
        for (size_t k = 0; k < np && !known; k++)
            known = strcmp(id, pl[k].id) == 0;
        if (!known) {
            char type[64];
            const char *pat = json_string_value(json_object_get(j, "pattern"));
            const char *v = pattern_value(pat, type, sizeof type);
            const char *m = json_string_value(json_object_get(j, "matched"));
            size_t ml = strlen(m), vl = strlen(v);
            if (strcmp(type, "domain-name") == 0 && ml > vl + 1 && m[ml - vl - 1] == '.' &&
                strcasecmp(m + ml - vl, v) == 0) {
                parents++;
            } else {
                print_message("false hit: %.*s\n", (int)(eol - l), l);
                false_hits++;
            }
        }
        json_decref(j);
        l = eol + 1;
    }
    assert_int_equal(false_hits, 0);
    assert_int_equal(hits, np + parents);
    free(out);
    free(pl);
    json_decref(all);
    comity_sweep_free(sw);
    tu_rmrf(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_operators),
        cmocka_unit_test(test_observation_ops_and_qualifiers),
        cmocka_unit_test(test_skip_reasons_listed),
        cmocka_unit_test(test_file_record_and),
        cmocka_unit_test(test_quirks),
        cmocka_unit_test(test_amnesty_planted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
