/*
 * test_base.c: the ground floor: errors, bounded buffers, strict base64 and
 * hex, RFC 3339 time, UUIDs, party names, atomic file writes.
 */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/base.h"
#include "util/testutil.h"

static void test_errors(void **state)
{
    (void)state;
    assert_string_equal(comity_strerror(COMITY_ERR_VERIFY), "does not verify");
    assert_string_equal(comity_strerror((comity_err)999), "unknown error");
    comity_error e = {0};
    assert_int_equal(cy_fail(&e, COMITY_ERR_INVALID, "bad character at byte %d", 3),
                     COMITY_ERR_INVALID);
    assert_int_equal(cy_wrap(&e, "reading %s", "k.key"), COMITY_ERR_INVALID);
    assert_string_equal(e.msg, "reading k.key: bad character at byte 3");
    assert_int_equal(cy_fail(NULL, COMITY_ERR_IO, "x"), COMITY_ERR_IO);
    /* without a buffer, wrapping keeps the code of the failure it wraps */
    assert_int_equal(cy_wrap(NULL, "reading %s", "k.key"), COMITY_ERR_IO);
    assert_int_equal(cy_err_code(NULL), COMITY_ERR_IO);
    cy_err_clear(NULL);
    assert_int_equal(cy_err_code(NULL), COMITY_ERR_INTERNAL);
}

static void test_buf_cap(void **state)
{
    (void)state;
    cy_buf b;
    cy_buf_init(&b, 10);
    assert_int_equal(cy_buf_puts(&b, "hello"), COMITY_OK);
    assert_int_equal(cy_buf_printf(&b, "%d", 1234), COMITY_OK);
    assert_string_equal((char *)b.data, "hello1234");
    assert_int_equal(cy_buf_puts(&b, "xy"), COMITY_ERR_TOOBIG);
    assert_int_equal(b.len, 9); /* unchanged on failure */
    assert_int_equal(cy_buf_puts(&b, "x"), COMITY_OK);
    size_t n;
    uint8_t *d = cy_buf_detach(&b, &n);
    assert_int_equal(n, 10);
    assert_null(b.data);
    cy_free(d);
}

static void test_buf_oom(void **state)
{
    (void)state;
    cy_buf b;
    cy_buf_init(&b, 1000);
    cy_alloc_fail_after(1);
    assert_int_equal(cy_buf_puts(&b, "x"), COMITY_ERR_NOMEM);
    assert_int_equal(cy_buf_puts(&b, "x"), COMITY_OK);
    cy_buf_free(&b);
}

static void test_b64_strict(void **state)
{
    (void)state;
    uint8_t out[16];
    size_t n;
    TU_OK(cy_b64_decode(out, sizeof out, &n, "aGk=", 4, CY_B64_STD, E));
    assert_int_equal(n, 2);
    assert_memory_equal(out, "hi", 2);
    /* non-canonical trailing bits */
    TU_FAILS(cy_b64_decode(out, sizeof out, &n, "aGl=", 4, CY_B64_STD, E),
             COMITY_ERR_INVALID, "not canonical");
    /* padding where the variant forbids it (age) */
    TU_FAILS(cy_b64_decode(out, sizeof out, &n, "aGk=", 4, CY_B64_STD_NOPAD, E),
             COMITY_ERR_INVALID, "byte 3");
    TU_OK(cy_b64_decode(out, sizeof out, &n, "aGk", 3, CY_B64_STD_NOPAD, E));
    /* missing padding where it is required */
    TU_FAILS(cy_b64_decode(out, sizeof out, &n, "aGk", 3, CY_B64_STD, E),
             COMITY_ERR_INVALID, NULL);
    /* whitespace */
    TU_FAILS(cy_b64_decode(out, sizeof out, &n, "aG k", 4, CY_B64_STD_NOPAD, E),
             COMITY_ERR_INVALID, "byte 2");
    /* too long for the buffer */
    TU_FAILS(cy_b64_decode(out, 1, &n, "aGVsbG8gd29ybGQ=", 16, CY_B64_STD, E),
             COMITY_ERR_TOOBIG, NULL);
    /* either alphabet */
    uint8_t *p;
    TU_OK(cy_b64_decode_any_alloc(&p, &n, "-_8=", 4, 100, E));
    assert_int_equal(n, 2);
    assert_int_equal(p[0], 0xfb);
    cy_free(p);
    TU_FAILS(cy_b64_decode_any_alloc(&p, &n, "aGVsbG8gd29ybGQ=", 16, 4, E),
             COMITY_ERR_TOOBIG, NULL);
    char enc[16];
    cy_b64_encode(enc, sizeof enc, (const uint8_t *)"hi", 2, CY_B64_STD_NOPAD);
    assert_string_equal(enc, "aGk");
}

static void test_hex(void **state)
{
    (void)state;
    uint8_t b[2];
    TU_OK(cy_hex_decode(b, 2, "0aFf", 4, E));
    assert_int_equal(b[1], 0xff);
    TU_FAILS(cy_hex_decode(b, 2, "0aF", 3, E), COMITY_ERR_INVALID, "expected 4");
    TU_FAILS(cy_hex_decode(b, 2, "0aFg", 4, E), COMITY_ERR_INVALID, "bad digit");
    char s[5];
    cy_hex_encode(s, b, 2);
    assert_string_equal(s, "0aff");
}

static void test_time(void **state)
{
    (void)state;
    int64_t ms;
    TU_OK(cy_time_parse("2026-11-23T06:40:00.123Z", 24, true, &ms, E));
    char buf[CY_TIME_BUF];
    cy_time_format_ms(buf, ms);
    assert_string_equal(buf, "2026-11-23T06:40:00.123Z");
    assert_int_equal(ms, 1795416000123LL);
    TU_OK(cy_time_parse("1970-01-01T00:00:00Z", 20, false, &ms, E));
    assert_int_equal(ms, 0);
    TU_OK(cy_time_parse("2000-02-29T12:00:00.5+01:00", 27, false, &ms, E));
    cy_time_format_ms(buf, ms);
    assert_string_equal(buf, "2000-02-29T11:00:00.500Z");
    TU_FAILS(cy_time_parse("2026-11-23T06:40:00Z", 20, true, &ms, E),
             COMITY_ERR_INVALID, "millisecond");
    TU_FAILS(cy_time_parse("2026-11-23T06:40:00.12Z", 23, true, &ms, E),
             COMITY_ERR_INVALID, "byte 20");
    TU_FAILS(cy_time_parse("2026-11-23T06:40:00.123+00:00", 29, true, &ms, E),
             COMITY_ERR_INVALID, "not UTC");
    TU_FAILS(cy_time_parse("2025-02-29T06:40:00.123Z", 24, true, &ms, E),
             COMITY_ERR_INVALID, "day");
    TU_FAILS(cy_time_parse("2026-13-01T06:40:00.123Z", 24, true, &ms, E),
             COMITY_ERR_INVALID, "month");
    TU_FAILS(cy_time_parse("2026-11-23 06:40:00.123Z", 24, true, &ms, E),
             COMITY_ERR_INVALID, "byte 10");
    TU_FAILS(cy_time_parse("2026-11-23T06:40:00.123Zx", 25, true, &ms, E),
             COMITY_ERR_INVALID, "trailing");
    setenv("COMITY_FAKE_NOW", "2030-01-01T00:00:00.000Z", 1);
    cy_time_format_ms(buf, cy_now_ms());
    assert_string_equal(buf, "2030-01-01T00:00:00.000Z");
    unsetenv("COMITY_FAKE_NOW");
}

/* The public parser the command uses too: a real calendar and an unsigned
 * four-digit year (the command's own copy took 2026-02-31 as 3 March and
 * "+026" as year 26). */
static void test_time_public(void **state)
{
    (void)state;
    int64_t ms;
    char buf[COMITY_TIME_BUF];
    TU_OK(comity_time_parse("2026-11-24T09:00:00Z", &ms, E));
    comity_time_format(buf, ms);
    assert_string_equal(buf, "2026-11-24T09:00:00.000Z");
    TU_OK(comity_time_parse("2026-11-24t10:30:00.25+01:30", &ms, E));
    comity_time_format(buf, ms);
    assert_string_equal(buf, "2026-11-24T09:00:00.250Z");
    TU_FAILS(comity_time_parse("2026-02-31T09:00:00Z", &ms, E), COMITY_ERR_INVALID,
             "'2026-02-31T09:00:00Z': not RFC 3339: day at byte 8");
    TU_FAILS(comity_time_parse("2026-04-31T09:00:00Z", &ms, E), COMITY_ERR_INVALID, "day");
    TU_FAILS(comity_time_parse("+026-02-01T09:00:00Z", &ms, E), COMITY_ERR_INVALID,
             "not RFC 3339 at byte 0");
    TU_FAILS(comity_time_parse(" 2026-02-01T09:00:00Z", &ms, E), COMITY_ERR_INVALID, "byte 0");
    TU_FAILS(comity_time_parse("2026-02-01T09:00:00", &ms, E), COMITY_ERR_INVALID, NULL);
    TU_FAILS(comity_time_parse("2026-02-01T09:00:00Z ", &ms, E), COMITY_ERR_INVALID, "trailing");
    assert_int_equal(comity_time_parse("2026-02-31T09:00:00Z", &ms, NULL), COMITY_ERR_INVALID);
    setenv("COMITY_FAKE_NOW", "2030-01-01T00:00:00.000Z", 1);
    comity_time_format(buf, comity_now_ms());
    assert_string_equal(buf, "2030-01-01T00:00:00.000Z");
    /* a fake clock the parser refuses is ignored, not read as year 26 */
    setenv("COMITY_FAKE_NOW", "+026-01-01T00:00:00.000Z", 1);
    assert_true(comity_now_ms() > 1700000000000LL);
    unsetenv("COMITY_FAKE_NOW");
}

static void test_wipe(void **state)
{
    (void)state;
    unsigned char b[32];
    memset(b, 0xa5, sizeof b);
    comity_wipe(b + 8, 16);
    for (size_t i = 0; i < sizeof b; i++)
        assert_int_equal(b[i], i >= 8 && i < 24 ? 0 : 0xa5);
    comity_wipe(NULL, 16);
    char *s = cy_strdup("AGE-SECRET-KEY-1...");
    assert_non_null(s);
    comity_free_secret(s, strlen(s)); /* ASan: released once, no leak */
    comity_free_secret(NULL, 4);
}

static void test_uuid(void **state)
{
    (void)state;
    char a[CY_UUID_BUF], b[CY_UUID_BUF];
    cy_uuid4(a);
    cy_uuid4(b);
    assert_true(cy_uuid4_valid(a, strlen(a)));
    assert_string_not_equal(a, b);
    assert_false(cy_uuid4_valid("6ba7b810-9dad-11d1-80b4-00c04fd430c8", 36)); /* v1 */
    assert_true(cy_uuid_valid("6ba7b810-9dad-11d1-80b4-00c04fd430c8", 36));
    assert_false(cy_uuid_valid("6BA7B810-9dad-11d1-80b4-00c04fd430c8", 36));
    assert_false(cy_uuid_valid("6ba7b8109dad-11d1-80b4-00c04fd430c8a", 36));
}

static void test_party(void **state)
{
    (void)state;
    const char *good[] = {"pk", "pk.mofa", "pk.pkcert", "un.unoda", "osce", "us.cisa-24x7"};
    for (size_t i = 0; i < CY_ARRAY_LEN(good); i++)
        assert_true(comity_party_valid(good[i], NULL));
    struct { const char *name, *why; } bad[] = {
        {"", "empty"},          {"PK", "byte 0"},        {"p", "2 to 8"},
        {"pk..mofa", "empty label"}, {"pk.", "empty label"}, {"pk.mo fa", "byte 5"},
        {"pk.-x", "'-'"},       {"1k.x", "non-letter"},  {"pk.mofa+1", "byte 7"},
        {"pk.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "longer"},
    };
    for (size_t i = 0; i < CY_ARRAY_LEN(bad); i++) {
        assert_false(comity_party_valid(bad[i].name, E));
        if (!strstr(tu_last_err.msg, bad[i].why))
            fail_msg("'%s': message '%s' lacks '%s'", bad[i].name, tu_last_err.msg, bad[i].why);
    }
}

static void test_files(void **state)
{
    (void)state;
    char *dir = tu_tmpdir();
    char path[512];
    snprintf(path, sizeof path, "%s/k", dir);
    TU_OK(comity_write_file(path, "abc", 3, 0600, 1, E));
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    TU_FAILS(comity_write_file(path, "xyz", 3, 0600, 1, E), COMITY_ERR_EXISTS, "refusing");
    char *data;
    size_t n;
    TU_OK(comity_read_file(path, 100, &data, &n, E));
    assert_string_equal(data, "abc");
    comity_free(data);
    TU_FAILS(comity_read_file(path, 2, &data, &n, E), COMITY_ERR_TOOBIG, "limit of 2");
    TU_OK(comity_write_file(path, "xyz", 3, 0600, 0, E));
    TU_OK(comity_read_file(path, 100, &data, &n, E));
    assert_string_equal(data, "xyz");
    comity_free(data);
    snprintf(path, sizeof path, "%s/missing", dir);
    TU_FAILS(comity_read_file(path, 100, &data, &n, E), COMITY_ERR_NOTFOUND, "missing");
    tu_rmrf(dir);
    free(dir);
}

struct conf_seen {
    char text[256];
    int calls;
};

static comity_err conf_cb(void *ctx, const char *name, const char *value, const char *where,
                          comity_error *err)
{
    struct conf_seen *c = ctx;
    c->calls++;
    size_t n = strlen(c->text);
    snprintf(c->text + n, sizeof c->text - n, "%s=%s@%s;", name, value, where);
    if (!strcmp(name, "stop"))
        return cy_fail(err, COMITY_ERR_INVALID, "%s: stop here", where);
    return COMITY_OK;
}

static comity_err conf(const char *text, size_t len, struct conf_seen *c, comity_error *err)
{
    memset(c, 0, sizeof *c);
    memset(err, 0, sizeof *err);
    return comity_conf_parse("t.conf", text, len, conf_cb, c, err);
}

static void test_conf(void **state)
{
    (void)state;
    struct conf_seen c;
    comity_error err;
    const char ok[] = "# comment\n\n  a = 1 \r\nb=two words\t\n\tc =x=y\nlast = end";
    assert_int_equal(conf(ok, sizeof ok - 1, &c, &err), COMITY_OK);
    assert_string_equal(c.text, "a=1@t.conf line 3;b=two words@t.conf line 4;"
                                "c=x=y@t.conf line 5;last=end@t.conf line 6;");
    assert_int_equal(conf("", 0, &c, &err), COMITY_OK);
    assert_int_equal(c.calls, 0);
    /* each way a file can be wrong, named with its line */
    static const struct {
        const char *text;
        const char *msg;
    } bad[] = {
        {"a = 1\njust words\n", "t.conf line 2: want 'name = value'"},
        {"a = 1\nb =\n", "t.conf line 2: 'b' has no value"},
        {" = 1\n", "t.conf line 1: a setting without a name"},
        {"a = 1\x01\n", "t.conf line 1: a control character at byte 6"},
        {"a = x\ry\n", "t.conf line 1: a control character at byte 6"},
        {"a = \x7f\n", "t.conf line 1: a control character at byte 5"},
        {"x = 1\nstop = 1\nnever = 1\n", "t.conf line 2: stop here"},
    };
    for (size_t i = 0; i < CY_ARRAY_LEN(bad); i++) {
        assert_int_not_equal(conf(bad[i].text, strlen(bad[i].text), &c, &err), COMITY_OK);
        assert_string_equal(err.msg, bad[i].msg);
    }
    assert_int_equal(c.calls, 2); /* the walk stopped at "stop" */
    const char nul[] = "a = 1\n\0";
    assert_int_equal(conf(nul, sizeof nul - 1, &c, &err), COMITY_ERR_USAGE);
    assert_non_null(strstr(err.msg, "NUL"));
    assert_int_equal(c.calls, 0); /* nothing applied from a broken file */
    char *big = cy_malloc(COMITY_CONF_MAX + 2);
    assert_non_null(big);
    memset(big, '#', COMITY_CONF_MAX + 1);
    assert_int_equal(conf(big, COMITY_CONF_MAX + 1, &c, &err), COMITY_ERR_USAGE);
    assert_non_null(strstr(err.msg, "larger than"));
    memset(big, 'x', COMITY_CONF_LINE_MAX + 1);
    big[0] = 'a', big[1] = '=';
    assert_int_equal(conf(big, COMITY_CONF_LINE_MAX + 1, &c, &err), COMITY_ERR_USAGE);
    assert_non_null(strstr(err.msg, "line 1: longer than"));
    assert_int_equal(conf(big, COMITY_CONF_LINE_MAX, &c, &err), COMITY_OK);
    cy_free(big);
}

static void test_duration(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        int64_t ms;
    } good[] = {{"90s", 90000},  {"30m", 1800000},      {"24h", 86400000},
                {"7d", 604800000}, {"1h30m", 5400000}, {"0s", 0},
                {"3650d", COMITY_DURATION_MAX_MS}};
    for (size_t i = 0; i < CY_ARRAY_LEN(good); i++) {
        int64_t ms = -1;
        TU_OK(comity_duration_parse(good[i].s, &ms, E));
        assert_int_equal(ms, good[i].ms);
    }
    static const char *const bad[] = {"",     "h",   "10",     "10x", "1.5h", "-1h", " 1h",
                                      "1h ",  "1H",  "3651d",  "3650d1s",
                                      "99999999999s", "10ms"};
    for (size_t i = 0; i < CY_ARRAY_LEN(bad); i++) {
        int64_t ms = 42;
        comity_error err = {0};
        assert_int_equal(comity_duration_parse(bad[i], &ms, &err), COMITY_ERR_USAGE);
        assert_int_equal(ms, 42);
        assert_non_null(strstr(err.msg, "not a duration"));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_errors),  cmocka_unit_test(test_buf_cap),
        cmocka_unit_test(test_buf_oom), cmocka_unit_test(test_b64_strict),
        cmocka_unit_test(test_hex),     cmocka_unit_test(test_time),
        cmocka_unit_test(test_time_public), cmocka_unit_test(test_wipe),
        cmocka_unit_test(test_uuid),    cmocka_unit_test(test_party),
        cmocka_unit_test(test_files),   cmocka_unit_test(test_conf),
        cmocka_unit_test(test_duration),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
