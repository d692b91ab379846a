/*
 * test_b64.c: the table-driven base64 decoder for public data
 * (cy_b64_decode_public*) against libsodium's constant-time decoder, which
 * cy_b64_decode wraps: on random and on mutated valid inputs, in every
 * variant, both must accept and refuse the same strings and decode to the
 * same bytes.  The "any" form (DSSE: either alphabet, padded or not) is
 * checked against cy_b64_decode_any_alloc the same way.  Also a few fixed
 * cases for each refusal, so that a failure names the rule.
 *
 * libsodium 1.0.18 (Debian 12) decodes every byte >= 0x80 as the 64th digit;
 * cy_b64_decode refuses non-ASCII before calling it, and test_non_ascii
 * pins that down for both decoders.
 *
 * The table-driven encoder for public data (cy_b64_encode_public) is
 * compared with libsodium's encoder the same way (test_encode_public).
 */
#include <stdlib.h>

#include <sodium.h>

#include "base/base.h"
#include "util/testutil.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_=";

/* A random string: mostly base64 characters, sometimes padding, rarely
 * something else (space, newline, '.', NUL, a high byte). */
static size_t random_b64ish(char *out, size_t max)
{
    size_t len = randombytes_uniform((uint32_t)max + 1);
    for (size_t i = 0; i < len; i++) {
        uint32_t r = randombytes_uniform(1000);
        if (r < 960)
            out[i] = alphabet[randombytes_uniform(64)];
        else if (r < 975)
            out[i] = alphabet[64 + randombytes_uniform(4)];
        else if (r < 990)
            out[i] = '=';
        else
            out[i] = " \n.\0\xc3"[randombytes_uniform(5)];
    }
    return len;
}

/* A valid encoding of random bytes in variant v, then perhaps one change. */
static size_t random_mutated(char *out, size_t max, enum cy_b64_variant v)
{
    uint8_t bin[64];
    size_t bl = randombytes_uniform(sizeof bin + 1);
    randombytes_buf(bin, bl);
    cy_b64_encode(out, max, bin, bl, v);
    size_t len = strlen(out);
    switch (randombytes_uniform(6)) {
    case 0: /* flip a character */
        if (len)
            out[randombytes_uniform((uint32_t)len)] = alphabet[randombytes_uniform(sizeof alphabet - 1)];
        break;
    case 1: /* drop the last character */
        if (len)
            len--;
        break;
    case 2: /* add a '=' */
        out[len++] = '=';
        break;
    case 3: /* drop padding */
        while (len && out[len - 1] == '=')
            len--;
        break;
    default: /* as encoded */
        break;
    }
    return len;
}

static void compare_variant(const char *in, size_t len, enum cy_b64_variant v)
{
    uint8_t a[128], b[128];
    size_t al = 0, bl = 0;
    comity_error e1 = {0}, e2 = {0};
    comity_err ra = cy_b64_decode(a, sizeof a, &al, in, len, v, &e1);
    comity_err rb = cy_b64_decode_public(b, sizeof b, &bl, in, len, v, &e2);
    if ((ra == COMITY_OK) != (rb == COMITY_OK))
        fail_msg("variant %d, '%.*s': libsodium %s (%s), fast %s (%s)", v, (int)len, in,
                 ra ? "refuses" : "accepts", e1.msg, rb ? "refuses" : "accepts", e2.msg);
    if (ra == COMITY_OK) {
        assert_int_equal(al, bl);
        assert_memory_equal(a, b, al);
        assert_int_equal(cy_b64_decoded_len(in, len), al);
    }
}

static void compare_any(const char *in, size_t len)
{
    uint8_t *a = NULL, b[128];
    size_t al = 0, bl = 0;
    comity_error e1 = {0}, e2 = {0};
    comity_err ra = cy_b64_decode_any_alloc(&a, &al, in, len, sizeof b, &e1);
    comity_err rb = cy_b64_decode_public_any(b, sizeof b, &bl, in, len, &e2);
    if ((ra == COMITY_OK) != (rb == COMITY_OK))
        fail_msg("any, '%.*s': libsodium %s (%s), fast %s (%s)", (int)len, in,
                 ra ? "refuses" : "accepts", e1.msg, rb ? "refuses" : "accepts", e2.msg);
    if (ra == COMITY_OK) {
        assert_int_equal(al, bl);
        assert_memory_equal(a, b, al);
        assert_int_equal(cy_b64_decoded_len(in, len), al);
    }
    cy_free(a);
}

static void test_random(void **state)
{
    (void)state;
    char in[160];
    for (int round = 0; round < 100000; round++) {
        size_t len = random_b64ish(in, 24);
        for (int v = 0; v < 4; v++)
            compare_variant(in, len, (enum cy_b64_variant)v);
        compare_any(in, len);
    }
}

static void test_mutated(void **state)
{
    (void)state;
    char in[160];
    for (int round = 0; round < 50000; round++) {
        enum cy_b64_variant enc = (enum cy_b64_variant)randombytes_uniform(4);
        size_t len = random_mutated(in, sizeof in - 1, enc);
        for (int v = 0; v < 4; v++)
            compare_variant(in, len, (enum cy_b64_variant)v);
        compare_any(in, len);
    }
}

static void test_rules(void **state)
{
    (void)state;
    uint8_t out[16];
    size_t n;
    TU_OK(cy_b64_decode_public(out, sizeof out, &n, "aGk=", 4, CY_B64_STD, E));
    assert_int_equal(n, 2);
    assert_memory_equal(out, "hi", 2);
    TU_OK(cy_b64_decode_public(out, sizeof out, &n, "", 0, CY_B64_STD, E));
    assert_int_equal(n, 0);
    TU_OK(cy_b64_decode_public_any(out, sizeof out, &n, "-_8", 3, E));
    assert_int_equal(n, 2);
    assert_memory_equal(out, "\xfb\xff", 2);
    TU_OK(cy_b64_decode_public_any(out, sizeof out, &n, "+/8=", 4, E));
    assert_memory_equal(out, "\xfb\xff", 2);
    /* non-zero trailing bits */
    TU_FAILS(cy_b64_decode_public(out, sizeof out, &n, "aGl=", 4, CY_B64_STD, E),
             COMITY_ERR_INVALID, "trailing bits");
    TU_FAILS(cy_b64_decode_public_any(out, sizeof out, &n, "aB", 2, E), COMITY_ERR_INVALID,
             "trailing bits");
    /* padding: missing, extra, forbidden, in the middle */
    TU_FAILS(cy_b64_decode_public(out, sizeof out, &n, "aGk", 3, CY_B64_STD, E),
             COMITY_ERR_INVALID, "byte 3");
    TU_FAILS(cy_b64_decode_public(out, sizeof out, &n, "aGk==", 5, CY_B64_STD, E),
             COMITY_ERR_INVALID, NULL);
    TU_FAILS(cy_b64_decode_public(out, sizeof out, &n, "aGk=", 4, CY_B64_STD_NOPAD, E),
             COMITY_ERR_INVALID, "byte 3");
    TU_FAILS(cy_b64_decode_public(out, sizeof out, &n, "aG==aGk=", 8, CY_B64_STD, E),
             COMITY_ERR_INVALID, "byte 2");
    TU_FAILS(cy_b64_decode_public_any(out, sizeof out, &n, "aGk==", 5, E), COMITY_ERR_INVALID, NULL);
    TU_FAILS(cy_b64_decode_public_any(out, sizeof out, &n, "aGlo=", 5, E), COMITY_ERR_INVALID, NULL);
    /* a lone character is 6 bits, never a byte */
    TU_FAILS(cy_b64_decode_public(out, sizeof out, &n, "aGlpa", 5, CY_B64_STD_NOPAD, E),
             COMITY_ERR_INVALID, "byte 4");
    /* whitespace and foreign characters */
    TU_FAILS(cy_b64_decode_public(out, sizeof out, &n, "aG k", 4, CY_B64_STD_NOPAD, E),
             COMITY_ERR_INVALID, "byte 2");
    TU_FAILS(cy_b64_decode_public(out, sizeof out, &n, "aGk=\n", 5, CY_B64_STD, E),
             COMITY_ERR_INVALID, NULL);
    TU_FAILS(cy_b64_decode_public_any(out, sizeof out, &n, "aG.k", 4, E), COMITY_ERR_INVALID,
             "byte 2");
    /* the wrong alphabet, or both */
    TU_FAILS(cy_b64_decode_public(out, sizeof out, &n, "-_8=", 4, CY_B64_STD, E),
             COMITY_ERR_INVALID, "byte 0");
    TU_FAILS(cy_b64_decode_public(out, sizeof out, &n, "+/8=", 4, CY_B64_URL, E),
             COMITY_ERR_INVALID, "byte 0");
    TU_FAILS(cy_b64_decode_public_any(out, sizeof out, &n, "+_8=", 4, E), COMITY_ERR_INVALID,
             "byte 1");
    /* longer than the buffer */
    TU_FAILS(cy_b64_decode_public(out, 1, &n, "aGVsbG8gd29ybGQ=", 16, CY_B64_STD, E),
             COMITY_ERR_TOOBIG, NULL);
    assert_int_equal(cy_b64_decoded_len("aGVsbG8gd29ybGQ=", 16), 11);
}

static void test_non_ascii(void **state)
{
    (void)state;
    uint8_t out[16];
    size_t n;
    for (int c = 0x80; c < 0x100; c++) {
        char in[5] = "AAAA";
        in[c & 3] = (char)c;
        for (int v = 0; v < 4; v++) {
            TU_FAILS(cy_b64_decode(out, sizeof out, &n, in, 4, (enum cy_b64_variant)v, E),
                     COMITY_ERR_INVALID, "not ASCII");
            TU_FAILS(cy_b64_decode_public(out, sizeof out, &n, in, 4, (enum cy_b64_variant)v, E),
                     COMITY_ERR_INVALID, "not canonical");
        }
        TU_FAILS(cy_b64_decode_public_any(out, sizeof out, &n, in, 4, E), COMITY_ERR_INVALID,
                 "not canonical");
    }
}

/* The table-driven encoder for public data writes what libsodium's
 * constant-time one writes, in every variant, for every length up to 200
 * (all three tails) and 3,800 random ones; into a buffer of exactly
 * cy_b64_encoded_len bytes (a byte past it would show under ASan); and
 * what it writes decodes back. */
static void test_encode_public(void **state)
{
    (void)state;
    uint8_t bin[200], back[200];
    for (int round = 0; round < 4000; round++) {
        size_t bl = round < 201 ? (size_t)round : randombytes_uniform(sizeof bin + 1);
        randombytes_buf(bin, bl);
        if (round % 7 == 0) /* edge bytes: 0x00, 0xff, the 62nd/63rd digits */
            for (size_t i = 0; i < bl; i++)
                bin[i] = (uint8_t)(i % 3 == 0 ? 0xff : i % 3 == 1 ? 0xfb : 0x00);
        for (int v = 0; v < 4; v++) {
            size_t n = cy_b64_encoded_len(bl, (enum cy_b64_variant)v);
            char *a = cy_malloc(n), *b = cy_malloc(n);
            assert_non_null(a);
            assert_non_null(b);
            memset(b, 'x', n);
            assert_ptr_equal(cy_b64_encode(a, n, bin, bl, (enum cy_b64_variant)v), a);
            assert_ptr_equal(cy_b64_encode_public(b, n, bin, bl, (enum cy_b64_variant)v), b);
            if (strcmp(a, b) != 0)
                fail_msg("variant %d, %zu bytes: libsodium '%s', fast '%s'", v, bl, a, b);
            size_t got = 0;
            assert_int_equal(cy_b64_decode_public(back, sizeof back, &got, b, strlen(b),
                                                  (enum cy_b64_variant)v, E),
                             COMITY_OK);
            assert_int_equal(got, bl);
            assert_memory_equal(back, bin, bl);
            cy_free(a);
            cy_free(b);
        }
    }
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rules),
        cmocka_unit_test(test_non_ascii),
        cmocka_unit_test(test_random),
        cmocka_unit_test(test_mutated),
        cmocka_unit_test(test_encode_public),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
