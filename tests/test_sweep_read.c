/*
 * test_sweep_read.c: the sweep's readers through the public API: plain
 * files split across threads (same hits, true line numbers and byte offsets
 * whatever the thread count, lines crossing block boundaries), gzip,
 * directories (names, paths, MD5/SHA-1/SHA-256 of each file), JSON lines and
 * CSV with a field map, multi-property observations on one record, the
 * three output formats, and unreadable paths.
 */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <zlib.h>

#include "sweep/sweep.h"
#include "util/testutil.h"

static void write_file(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
}

/* Runs a sweep and returns its output (caller frees); *hits gets the count. */
static char *sweep(comity_sweep *sw, const char *const *paths, size_t n, int threads,
                   int format, uint64_t *hits, comity_err *rc)
{
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    comity_sweep_opts o = {.threads = threads, .format = format, .out = f};
    *rc = comity_sweep_run(sw, paths, n, &o, hits, E);
    fclose(f);
    return out;
}

static comity_sweep *list_sweep(const char *type, const char *list)
{
    comity_sweep *sw = NULL;
    TU_OK(comity_sweep_new(&sw, E));
    TU_OK(comity_sweep_add_list(sw, type, list, strlen(list), "test-list", E));
    return sw;
}

/* ---- threads and blocks ----------------------------------------------- */

static void test_threads_agree(void **state)
{
    (void)state;
    char *dir = tu_tmpdir();
    char path[512];
    snprintf(path, sizeof path, "%s/big.log", dir);
    /* ~13 MB: more than three 4 MiB blocks; a hit every 10,007 lines, and
     * one hit on the line that straddles each block boundary. */
    size_t cap = 14u << 20, len = 0;
    char *buf = malloc(cap);
    size_t planted = 0, line = 0;
    size_t next_boundary = 4u << 20;
    while (len < 13u << 20) {
        line++;
        int k;
        if (line % 10007 == 0 || (len < next_boundary && len + 200 > next_boundary)) {
            k = snprintf(buf + len, cap - len, "%zu query host%zu.sub.evil-example.com type A\n",
                         line, line);
            planted++;
            if (len + 200 > next_boundary)
                next_boundary += 4u << 20;
        } else {
            k = snprintf(buf + len, cap - len,
                         "%zu query www.benign%zu.example.org from 10.0.%zu.%zu pad padding\n",
                         line, line % 9973, line % 250, line % 200);
        }
        len += (size_t)k;
    }
    write_file(path, buf, len);
    char *outs[3];
    int threads[3] = {1, 2, 5};
    for (int t = 0; t < 3; t++) {
        comity_sweep *sw = list_sweep("domain", "evil-example.com\n");
        uint64_t hits;
        comity_err rc;
        const char *paths[] = {path};
        outs[t] = sweep(sw, paths, 1, threads[t], COMITY_SWEEP_JSONL, &hits, &rc);
        TU_OK(rc);
        assert_int_equal(hits, planted);
        comity_sweep_free(sw);
    }
    assert_string_equal(outs[0], outs[1]);
    assert_string_equal(outs[0], outs[2]);
    /* every reported line number and offset points at the planted token */
    char *p = outs[0];
    size_t seen = 0;
    while (*p) {
        char *nl = strchr(p, '\n');
        json_t *j = json_loadb(p, (size_t)(nl - p), 0, NULL);
        assert_non_null(j);
        size_t off = (size_t)json_integer_value(json_object_get(j, "offset"));
        size_t ln = (size_t)json_integer_value(json_object_get(j, "line"));
        const char *tok = json_string_value(json_object_get(j, "matched"));
        assert_memory_equal(buf + off, tok, strlen(tok));
        /* the line number is written at the start of each line */
        size_t ls = off;
        while (ls > 0 && buf[ls - 1] != '\n')
            ls--;
        assert_int_equal(strtoull(buf + ls, NULL, 10), ln);
        json_decref(j);
        seen++;
        p = nl + 1;
    }
    assert_int_equal(seen, planted);
    for (int t = 0; t < 3; t++)
        free(outs[t]);
    free(buf);
    tu_rmrf(dir);
    free(dir);
}

static void test_gzip_and_stdin_shape(void **state)
{
    (void)state;
    char *dir = tu_tmpdir();
    char path[512];
    snprintf(path, sizeof path, "%s/q.log.gz", dir);
    const char *text = "a\nquery c2.Evil.COM\nnothing\nlast line evil.com";
    gzFile g = gzopen(path, "wb");
    assert_non_null(g);
    gzwrite(g, text, (unsigned)strlen(text));
    gzclose(g);
    comity_sweep *sw = list_sweep("domain", "evil.com # the C2\n");
    uint64_t hits;
    comity_err rc;
    const char *paths[] = {path};
    char *out = sweep(sw, paths, 1, 2, COMITY_SWEEP_TEXT, &hits, &rc);
    TU_OK(rc);
    assert_int_equal(hits, 2);
    assert_non_null(strstr(out, "q.log.gz:2: "));
    assert_non_null(strstr(out, "q.log.gz:4: "));
    assert_non_null(strstr(out, "\"c2.Evil.COM\""));
    free(out);
    /* a corrupt gzip stream is an I/O error, after the other paths */
    char bad[512];
    snprintf(bad, sizeof bad, "%s/bad.gz", dir);
    write_file(bad, "\x1f\x8b\x08\x00garbage-not-deflate", 23);
    const char *two[] = {bad, path};
    out = sweep(sw, two, 2, 1, COMITY_SWEEP_TEXT, &hits, &rc);
    assert_int_equal(rc, COMITY_ERR_IO);
    assert_int_equal(hits, 2);
    free(out);
    comity_sweep_free(sw);
    tu_rmrf(dir);
    free(dir);
}

/* A line longer than CY_SW_BLOCK + CY_SW_LINE_MAX is cut (at least its first
 * CY_SW_LINE_MAX bytes are scanned); the lines after it keep their
 * true numbers, in plain files (threads) and in streams (gzip) alike. */
static void test_overlong_line(void **state)
{
    (void)state;
    char *dir = tu_tmpdir();
    char plain[512], gz[512];
    snprintf(plain, sizeof plain, "%s/long.log", dir);
    snprintf(gz, sizeof gz, "%s/long.log.gz", dir);
    size_t big = CY_SW_LINE_MAX * 6; /* past a whole block and its overlap */
    char *buf = malloc(big + 256);
    size_t len = (size_t)sprintf(buf, "1 evil.com\n2 x");
    memset(buf + len, 'a', big);
    len += big;
    len += (size_t)sprintf(buf + len, " tail.evil.com\n3 ok\n4 w.evil.com\n");
    write_file(plain, buf, len);
    gzFile g = gzopen(gz, "wb1");
    gzwrite(g, buf, (unsigned)len);
    gzclose(g);
    free(buf);
    for (int k = 0; k < 2; k++) {
        comity_sweep *sw = list_sweep("domain", "evil.com\n");
        uint64_t hits;
        comity_err rc;
        const char *paths[] = {k ? gz : plain};
        char *out = sweep(sw, paths, 1, 2, COMITY_SWEEP_TEXT, &hits, &rc);
        TU_OK(rc);
        /* line 1 and line 4; the tail of line 2 is past the cut */
        if (hits != 2 || !strstr(out, ":1: ") || !strstr(out, ":4: "))
            fail_msg("%s: %llu hits:\n%s", paths[0], (unsigned long long)hits, out);
        free(out);
        comity_sweep_free(sw);
    }
    tu_rmrf(dir);
    free(dir);
}

static void test_missing_path(void **state)
{
    (void)state;
    comity_sweep *sw = list_sweep("domain", "evil.com\n");
    uint64_t hits;
    comity_err rc;
    const char *paths[] = {"/nonexistent/sweep/file"};
    char *out = sweep(sw, paths, 1, 1, COMITY_SWEEP_TEXT, &hits, &rc);
    assert_int_equal(rc, COMITY_ERR_IO);
    tu_check_msg("missing", "/nonexistent/sweep/file");
    free(out);
    comity_sweep_free(sw);
}

/* ---- directories ------------------------------------------------------ */

static void test_directory_records(void **state)
{
    (void)state;
    char *dir = tu_tmpdir();
    char p[512];
    snprintf(p, sizeof p, "%s/private", dir);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/private/var", dir);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/private/var/hooker", dir);
    write_file(p, "x", 1);
    snprintf(p, sizeof p, "%s/abc.bin", dir);
    write_file(p, "abc", 3);
    snprintf(p, sizeof p, "%s/roleaccountd.plist", dir);
    write_file(p, "<plist>contacts c2.evil.com</plist>\n", 36);
    comity_sweep *sw = NULL;
    TU_OK(comity_sweep_new(&sw, E));
    const char *md5 = "900150983cd24fb0d6963f7d28e17f72\n";
    const char *sha1 = "A9993E364706816ABA3E25717850C26C9CD0D89D\n";
    const char *sha256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\n";
    TU_OK(comity_sweep_add_list(sw, "md5", md5, strlen(md5), "m", E));
    TU_OK(comity_sweep_add_list(sw, "sha1", sha1, strlen(sha1), "s1", E));
    TU_OK(comity_sweep_add_list(sw, "sha256", sha256, strlen(sha256), "s256", E));
    TU_OK(comity_sweep_add_list(sw, "filepath", "/private/var/hooker\n", 20, "fp", E));
    TU_OK(comity_sweep_add_list(sw, "filename", "roleaccountd.plist\n", 19, "fn", E));
    TU_OK(comity_sweep_add_list(sw, "domain", "evil.com\n", 9, "d", E));
    uint64_t hits;
    comity_err rc;
    const char *paths[] = {dir};
    char *out = sweep(sw, paths, 1, 2, COMITY_SWEEP_JSONL, &hits, &rc);
    TU_OK(rc);
    /* md5+sha1+sha256 of abc.bin, the path, the name, the domain inside */
    if (hits != 6)
        fail_msg("hits %llu:\n%s", (unsigned long long)hits, out);
    assert_non_null(strstr(out, "\"value\":\"900150983cd24fb0d6963f7d28e17f72\""));
    assert_non_null(strstr(out, "\"value\":\"a9993e364706816aba3e25717850c26c9cd0d89d\""));
    assert_non_null(strstr(out, "\"value\":\"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\""));
    assert_non_null(strstr(out, "\"matched\":\"/private/var/hooker\""));
    assert_non_null(strstr(out, "\"matched\":\"roleaccountd.plist\""));
    assert_non_null(strstr(out, "\"matched\":\"c2.evil.com\""));
    free(out);
    /* a file given alone is a record of its own too */
    snprintf(p, sizeof p, "%s/abc.bin", dir);
    const char *one[] = {p};
    out = sweep(sw, one, 1, 1, COMITY_SWEEP_JSONL, &hits, &rc);
    TU_OK(rc);
    assert_int_equal(hits, 3); /* md5, sha1, sha256 */
    free(out);
    comity_sweep_free(sw);
    tu_rmrf(dir);
    free(dir);
}

/* ---- JSON lines and CSV ----------------------------------------------- */

static void test_json_lines_map(void **state)
{
    (void)state;
    char *dir = tu_tmpdir();
    char p[512];
    snprintf(p, sizeof p, "%s/dns.log", dir);
    const char *zeek =
        "{\"ts\":1.0,\"id.orig_h\":\"10.0.0.5\",\"query\":\"www.evil.com\",\"answers\":[\"1.1.1.1\",\"cdn.bad.net\"]}\n"
        "{\"ts\":2.0,\"id.orig_h\":\"198.51.100.7\",\"query\":\"benign.org\",\"note\":\"evil.com\"}\n"
        "not json at all: evil.com\n"
        "{\"nested\":{\"host\":\"evil.com\"}}\n";
    write_file(p, zeek, strlen(zeek));
    comity_sweep *sw = list_sweep("domain", "evil.com\nbad.net\n");
    TU_OK(comity_sweep_add_list(sw, "ip", "198.51.100.0/24\n", 16, "ips", E));
    TU_OK(comity_sweep_map(sw, "zeek-dns", E));
    TU_OK(comity_sweep_map(sw, "nested.host=domain-name:value", E));
    TU_FAILS(comity_sweep_map(sw, "nonsense", E), COMITY_ERR_USAGE, "FIELD=");
    TU_FAILS(comity_sweep_map(sw, "a=nosuch", E), COMITY_ERR_USAGE, "nosuch");
    uint64_t hits;
    comity_err rc;
    const char *paths[] = {p};
    char *out = sweep(sw, paths, 1, 1, COMITY_SWEEP_JSONL, &hits, &rc);
    TU_OK(rc);
    /* line 1: query and one answer; line 2: the client IP (the "note" field
     * is not mapped); line 3: tokenized as text; line 4: nested key */
    if (hits != 5)
        fail_msg("hits %llu:\n%s", (unsigned long long)hits, out);
    assert_non_null(strstr(out, "\"matched\":\"cdn.bad.net\",\"file\""));
    assert_non_null(strstr(out, "\"matched\":\"198.51.100.7\""));
    assert_null(strstr(out, "\"line\":2,\"offset\":0,\"source\":\"test-list\""));
    free(out);
    comity_sweep_free(sw);
    tu_rmrf(dir);
    free(dir);
}

static void test_csv_map(void **state)
{
    (void)state;
    char *dir = tu_tmpdir();
    char p[512];
    snprintf(p, sizeof p, "%s/proxy.csv", dir);
    const char *csv = "time,client,host,comment\r\n"
                      "1,10.0.0.1,www.evil.com,ok\r\n"
                      "2,10.0.0.2,\"benign.org\",\"mentions evil.com, \"\"quoted\"\"\"\r\n"
                      "3,10.0.0.3,\"EVIL.com\"\r\n";
    write_file(p, csv, strlen(csv));
    comity_sweep *sw = list_sweep("domain", "evil.com\n");
    TU_OK(comity_sweep_map(sw, "proxy", E)); /* maps the "host" column */
    uint64_t hits;
    comity_err rc;
    const char *paths[] = {p};
    char *out = sweep(sw, paths, 1, 1, COMITY_SWEEP_JSONL, &hits, &rc);
    TU_OK(rc);
    if (hits != 2)
        fail_msg("hits %llu:\n%s", (unsigned long long)hits, out);
    assert_non_null(strstr(out, "\"matched\":\"www.evil.com\""));
    assert_non_null(strstr(out, "\"matched\":\"EVIL.com\",\"file\""));
    assert_non_null(strstr(out, "\"line\":4"));
    free(out);
    comity_sweep_free(sw);
    tu_rmrf(dir);
    free(dir);
}

/* ---- one record, several properties ------------------------------------ */

static void test_multi_property_one_record(void **state)
{
    (void)state;
    char *dir = tu_tmpdir();
    char p[512];
    snprintf(p, sizeof p, "%s/mixed.log", dir);
    const char *log = "conn a.evil.com 203.0.113.9\n"     /* both: hit */
                      "conn a.evil.com 198.51.100.1\n"    /* domain only */
                      "conn 203.0.113.9 benign.org\n"     /* IP only */
                      "conn evil.com\n203.0.113.7\n";     /* split across lines */
    write_file(p, log, strlen(log));
    const char *bundle =
        "{\"type\":\"bundle\",\"id\":\"bundle--0c5e5a8c-0b6b-4b39-9d73-2b0c1a4f9d10\",\"objects\":["
        "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--1c5e5a8c-0b6b-4b39-9d73-2b0c1a4f9d10\","
        "\"pattern\":\"[domain-name:value = 'evil.com' AND ipv4-addr:value ISSUBSET '203.0.113.0/24']\","
        "\"pattern_type\":\"stix\",\"valid_from\":\"2024-01-01T00:00:00Z\"}]}";
    comity_sweep *sw = NULL;
    TU_OK(comity_sweep_new(&sw, E));
    size_t added;
    TU_OK(comity_sweep_add_stix(sw, bundle, strlen(bundle), "b", &added, E));
    assert_int_equal(added, 1);
    uint64_t hits;
    comity_err rc;
    const char *paths[] = {p};
    char *out = sweep(sw, paths, 1, 1, COMITY_SWEEP_JSONL, &hits, &rc);
    TU_OK(rc);
    if (hits != 1)
        fail_msg("hits %llu:\n%s", (unsigned long long)hits, out);
    assert_non_null(strstr(out, "\"line\":1"));
    assert_non_null(strstr(out, "indicator--1c5e5a8c-0b6b-4b39-9d73-2b0c1a4f9d10"));
    free(out);
    comity_sweep_free(sw);
    tu_rmrf(dir);
    free(dir);
}

/* ---- STIX output ------------------------------------------------------ */

static void test_stix_sightings(void **state)
{
    (void)state;
    char *dir = tu_tmpdir();
    char p[512];
    snprintf(p, sizeof p, "%s/q.log", dir);
    const char *log = "x.evil.com\ny.evil.com\nz.bad.org\n";
    write_file(p, log, strlen(log));
    comity_sweep *sw = list_sweep("domain", "evil.com\nbad.org\nunseen.net\n");
    uint64_t hits;
    comity_err rc;
    const char *paths[] = {p};
    char *out = sweep(sw, paths, 1, 1, COMITY_SWEEP_STIX, &hits, &rc);
    TU_OK(rc);
    assert_int_equal(hits, 3);
    json_t *b = json_loads(out, 0, NULL);
    assert_non_null(b);
    assert_string_equal(json_string_value(json_object_get(b, "type")), "bundle");
    json_t *objs = json_object_get(b, "objects");
    size_t sightings = 0, indicators = 0, i;
    json_t *o;
    json_array_foreach(objs, i, o)
    {
        const char *t = json_string_value(json_object_get(o, "type"));
        if (strcmp(t, "indicator") == 0) {
            indicators++;
            const char *pat = json_string_value(json_object_get(o, "pattern"));
            assert_true(strcmp(pat, "[domain-name:value = 'evil.com']") == 0 ||
                        strcmp(pat, "[domain-name:value = 'bad.org']") == 0);
            continue;
        }
        assert_string_equal(t, "sighting");
        sightings++;
        const char *ref = json_string_value(json_object_get(o, "sighting_of_ref"));
        assert_true(strncmp(ref, "indicator--", 11) == 0);
        /* the sighting points at an indicator of the bundle */
        size_t k;
        json_t *x;
        bool found = false;
        json_array_foreach(objs, k, x)
        {
            const char *id = json_string_value(json_object_get(x, "id"));
            found |= strcmp(id, ref) == 0;
        }
        assert_true(found);
        json_int_t count = json_integer_value(json_object_get(o, "count"));
        assert_true(count == 1 || count == 2);
        assert_true(json_array_size(json_object_get(o, "x_comity_evidence")) == (size_t)count);
    }
    assert_int_equal(sightings, 2);
    assert_int_equal(indicators, 2);
    json_decref(b);
    free(out);
    comity_sweep_free(sw);
    tu_rmrf(dir);
    free(dir);
}

/* Log bytes that are not UTF-8 still give valid JSON lines. */
static void test_json_output_not_utf8(void **state)
{
    (void)state;
    char *dir = tu_tmpdir();
    char p[512];
    snprintf(p, sizeof p, "%s/bin\xff.log", dir);
    const char *line = "q \xffx.evil.com\n"; /* the token holds 0xff */
    write_file(p, line, strlen(line));
    comity_sweep *sw = list_sweep("domain", "evil.com\n");
    uint64_t hits;
    comity_err rc;
    const char *paths[] = {p};
    char *out = sweep(sw, paths, 1, 1, COMITY_SWEEP_JSONL, &hits, &rc);
    TU_OK(rc);
    assert_int_equal(hits, 1);
    json_t *j = json_loads(out, 0, NULL);
    assert_non_null(j);
    assert_non_null(json_string_value(json_object_get(j, "matched")));
    assert_non_null(json_string_value(json_object_get(j, "file")));
    json_decref(j);
    free(out);
    comity_sweep_free(sw);
    tu_rmrf(dir);
    free(dir);
}

static void test_list_errors(void **state)
{
    (void)state;
    comity_sweep *sw = NULL;
    TU_OK(comity_sweep_new(&sw, E));
    TU_FAILS(comity_sweep_add_list(sw, "nosuch", "a.com\n", 6, "l", E), COMITY_ERR_USAGE,
             "nosuch");
    TU_FAILS(comity_sweep_add_list(sw, "domain", "ok.com\nbad domain\n", 18, "l.txt", E),
             COMITY_ERR_INVALID, "l.txt line 2");
    TU_FAILS(comity_sweep_add_list(sw, "sha256", "abcd\n", 5, "h.txt", E), COMITY_ERR_INVALID,
             "64 hex");
    TU_FAILS(comity_sweep_add_stix(sw, "{\"objects\": 3}", 14, "b.json", NULL, E),
             COMITY_ERR_INVALID, "objects");
    TU_FAILS(comity_sweep_add_stix(sw, "{bad json", 9, "b.json", NULL, E), COMITY_ERR_INVALID,
             "line 1");
    TU_FAILS(comity_sweep_add_stix(sw, "[1,2]", 5, "b.json", NULL, E), COMITY_ERR_INVALID,
             NULL);
    comity_sweep_free(sw);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_threads_agree),
        cmocka_unit_test(test_gzip_and_stdin_shape),
        cmocka_unit_test(test_overlong_line),
        cmocka_unit_test(test_missing_path),
        cmocka_unit_test(test_directory_records),
        cmocka_unit_test(test_json_lines_map),
        cmocka_unit_test(test_csv_map),
        cmocka_unit_test(test_multi_property_one_record),
        cmocka_unit_test(test_stix_sightings),
        cmocka_unit_test(test_json_output_not_utf8),
        cmocka_unit_test(test_list_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
