/*
 * test_errcode.c: every public function's documented error code holds
 * whether or not the caller passes an error buffer (comity.h: "err, which
 * may be NULL").  Each case feeds a public function bad input twice, with a
 * buffer and with NULL, and checks that both answers are the documented
 * code (the failure wrapped with cy_wrap() used to come back as
 * COMITY_ERR_INTERNAL when err was NULL).
 */
#include <stdlib.h>
#include <unistd.h>

#include "base/base.h"
#include "util/testutil.h"

static char *dir;

static const char *write_file(const char *name, const char *text)
{
    static char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static int setup(void **state)
{
    (void)state;
    dir = tu_tmpdir();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tu_rmrf(dir);
    free(dir);
    return 0;
}

/* Both with and without a buffer, `call` (an expression using `ERR`) gives
 * `want`. */
#define SAME_CODE(want, call)                                                \
    do {                                                                     \
        comity_error *ERR = E;                                               \
        comity_err with_ = (call);                                           \
        ERR = NULL;                                                          \
        comity_err without_ = (call);                                        \
        if (with_ != (want) || without_ != (want))                           \
            fail_msg("%s: want %d, got %d with a buffer (%s), %d without",   \
                     #call, (int)(want), (int)with_, tu_last_err.msg,        \
                     (int)without_);                                         \
    } while (0)

static void test_identities_load(void **state)
{
    (void)state;
    comity_identities *ids = NULL;
    /* a malformed key line: the decoder's INVALID wrapped with the line and path */
    const char *p = write_file("bad.age", "AGE-SECRET-KEY-1QQQQ\n");
    SAME_CODE(COMITY_ERR_INVALID, comity_identities_load(p, &ids, ERR));
    assert_null(ids);
    p = write_file("plugin.age", "AGE-PLUGIN-FOO-1XYZ\n");
    SAME_CODE(COMITY_ERR_INVALID, comity_identities_load(p, &ids, ERR));
    /* a missing file stays NOTFOUND/IO, whatever it is, the same both ways */
    char missing[4200];
    snprintf(missing, sizeof missing, "%s/none.age", dir);
    comity_err a = comity_identities_load(missing, &ids, E);
    assert_int_not_equal(a, COMITY_ERR_INTERNAL);
    SAME_CODE(a, comity_identities_load(missing, &ids, ERR));
}

static void test_key_load(void **state)
{
    (void)state;
    comity_key *k = NULL;
    const char *p = write_file("bad.key", "comity-key v1\nnot a key line\n");
    comity_err want = comity_key_load(p, &k, E);
    assert_int_not_equal(want, COMITY_OK);
    assert_int_not_equal(want, COMITY_ERR_INTERNAL);
    SAME_CODE(want, comity_key_load(p, &k, ERR));
    assert_null(k);
    comity_nkey *nk = NULL;
    p = write_file("bad.nkey", "PRIVATE+KEY+x+00000000+!!!\n");
    SAME_CODE(COMITY_ERR_INVALID, comity_nkey_load(p, &nk, ERR));
    assert_null(nk);
}

static void test_record_parse(void **state)
{
    (void)state;
    comity_record *r = NULL;
    /* a DSSE envelope whose payload is not JSON ("bm90IGpzb24=" = "not json") */
    static const char env[] =
        "{\"payloadType\":\"application/vnd.comity.record+json\","
        "\"payload\":\"bm90IGpzb24=\",\"signatures\":[{\"keyid\":\"a\",\"sig\":\"AAAA\"}]}";
    SAME_CODE(COMITY_ERR_INVALID, comity_record_parse(env, sizeof env - 1, &r, ERR));
    assert_null(r);
    /* not JSON at all */
    SAME_CODE(COMITY_ERR_INVALID, comity_record_parse("{", 1, &r, ERR));
}

static void test_seal_bad_recipient(void **state)
{
    (void)state;
    const char *rcpt[] = {"age1notarecipient"};
    uint8_t *out = NULL;
    size_t n = 0;
    SAME_CODE(COMITY_ERR_INVALID,
              comity_seal_mem("hi", 2, rcpt, 1, 0, &out, &n, ERR));
    assert_null(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_identities_load),
        cmocka_unit_test(test_key_load),
        cmocka_unit_test(test_record_parse),
        cmocka_unit_test(test_seal_bad_recipient),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
