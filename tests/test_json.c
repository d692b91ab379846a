/*
 * test_json.c: the strict JSON reader (src/base/json.c): the tokens it
 * produces, its helpers (member lookup, string comparison, unescaping), and
 * one refusal test for each way JSON can be wrong under RFC 8259, plus the
 * reader's own limits (depth, token count) and options (NUL, int64).
 *
 * Every input is copied into a heap buffer of exactly its length (no NUL
 * after it), so that AddressSanitizer catches any read past the end.
 *
 * Then the readers built on it: DSSE envelopes and record payloads written
 * with escapes and whitespace must read exactly as jansson read them
 * (unescaped fields, the same digest), the clear body comes back as the
 * compact text of the payload, and what jansson refused stays refused.
 */
#include <pthread.h>
#include <stdlib.h>

#include <jansson.h>
#include <sodium.h>

#include "base/json.h"
#include "crypto/dsse.h"
#include "crypto/note.h"
#include "util/testutil.h"

/* Parses s[0..len) from an exact-size heap copy with opts. */
static comity_err parse_n(cy_json *j, const char *s, size_t len, size_t max_toks, unsigned opts,
                          char **copy)
{
    *copy = malloc(len ? len : 1);
    memcpy(*copy, s, len);
    cy_json_init(j, NULL, 0, max_toks, opts);
    return cy_json_parse(j, *copy, len, E);
}

static comity_err parse_opts(const char *s, unsigned opts)
{
    cy_json j;
    char *copy;
    comity_err rc = parse_n(&j, s, strlen(s), 0, opts, &copy);
    cy_json_free(&j);
    free(copy);
    return rc;
}

/* Asserts that s is refused with code and a message containing `why`. */
#define REFUSED(s, code, why)                                                        \
    do {                                                                             \
        comity_err rc_ = parse_opts((s), 0);                                         \
        if (rc_ != (code) || !strstr(tu_last_err.msg, (why)))                        \
            fail_msg("%s: got %d '%s', want '%s'", #s, rc_, tu_last_err.msg, (why)); \
    } while (0)

#define ACCEPTED(s)                                                                  \
    do {                                                                             \
        if (parse_opts((s), 0) != COMITY_OK)                                         \
            fail_msg("%s refused: %s", #s, tu_last_err.msg);                         \
    } while (0)

static void test_tokens(void **state)
{
    (void)state;
    const char *s = "{\"a\": [1, -2.5e3, \"x\\n\"], \"b\":{\"c\":true,\"d\":null}, \"e\":false}";
    cy_json j;
    char *copy;
    TU_OK(parse_n(&j, s, strlen(s), 0, 0, &copy));
    assert_int_equal(j.ntoks, 14);
    const cy_json_tok *t = j.toks;
    assert_int_equal(t[0].type, CY_JSON_OBJECT);
    assert_int_equal(t[0].size, 3);
    assert_int_equal(t[0].start, 0);
    assert_int_equal(t[0].end, strlen(s));
    assert_int_equal(t[0].next, 14);
    assert_true(t[0].flags & CY_JSON_F_SPACE);
    assert_int_equal(t[1].type, CY_JSON_STRING); /* key "a" */
    assert_int_equal(t[1].end - t[1].start, 1);
    assert_int_equal(t[2].type, CY_JSON_ARRAY);
    assert_int_equal(t[2].size, 3);
    assert_int_equal(t[2].next, 6);
    assert_int_equal(t[3].type, CY_JSON_NUMBER);
    assert_int_equal(t[4].type, CY_JSON_NUMBER);
    assert_memory_equal(s + t[4].start, "-2.5e3", t[4].end - t[4].start);
    assert_int_equal(t[5].type, CY_JSON_STRING);
    assert_true(t[5].flags & CY_JSON_F_ESCAPED);
    assert_int_equal(t[7].type, CY_JSON_OBJECT); /* "b" */
    assert_false(t[7].flags & CY_JSON_F_SPACE);  /* compact inside */
    assert_memory_equal(s + t[7].start, "{\"c\":true,\"d\":null}", t[7].end - t[7].start);
    assert_int_equal(t[9].type, CY_JSON_TRUE);
    assert_int_equal(t[11].type, CY_JSON_NULL);
    assert_int_equal(t[13].type, CY_JSON_FALSE);
    /* member lookup */
    assert_int_equal(cy_json_get(&j, 0, "a"), 2);
    assert_int_equal(cy_json_get(&j, 0, "e"), 13);
    assert_int_equal(cy_json_get(&j, 7, "d"), 11);
    assert_int_equal(cy_json_get(&j, 0, "c"), 0); /* not a member of the root */
    assert_int_equal(cy_json_get(&j, 2, "a"), 0); /* not an object */
    /* walking an array with next */
    uint32_t c = 3, n = 0;
    for (uint32_t i = 0; i < t[2].size; i++, c = t[c].next)
        n++;
    assert_int_equal(c, 6);
    assert_int_equal(n, 3);
    cy_json_free(&j);
    free(copy);
    /* scalars at the top level are JSON too (RFC 8259) */
    ACCEPTED("1");
    ACCEPTED(" \"x\" ");
    ACCEPTED("null");
    ACCEPTED("[]");
    ACCEPTED("{}");
    ACCEPTED("\t\r\n [ ] \t\r\n");
    ACCEPTED("[-0, 0.0, 1e5, 1E+5, 1e-5, 123456789, -0.125]");
}

static void test_strings(void **state)
{
    (void)state;
    const char *s = "[\"plain\", \"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\", \"\\u00e9\\u20ac\\ud83d\\ude00\","
                    " \"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\", \"\\u0041BC\"]";
    cy_json j;
    char *copy;
    TU_OK(parse_n(&j, s, strlen(s), 0, 0, &copy));
    char out[64];
    assert_false(j.toks[1].flags & CY_JSON_F_ESCAPED);
    assert_true(cy_json_str_eq(&j, 1, "plain", 5));
    assert_false(cy_json_str_eq(&j, 1, "plai", 4));
    assert_false(cy_json_str_eq(&j, 1, "plainx", 6));
    assert_int_equal(cy_json_unescape(&j, 2, out, sizeof out), 12);
    assert_string_equal(out, "a\"b\\c/d\b\f\n\r\t");
    assert_int_equal(cy_json_str_len(&j, 2), 12);
    /* escapes and raw UTF-8 give the same bytes */
    const char *utf8 = "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80";
    assert_int_equal(cy_json_unescape(&j, 3, out, sizeof out), 9);
    assert_string_equal(out, utf8);
    assert_true(cy_json_str_eq(&j, 3, utf8, 9));
    assert_true(cy_json_str_eq(&j, 4, utf8, 9));
    assert_int_equal(cy_json_str_len(&j, 3), 9);
    assert_true(cy_json_str_eq(&j, 5, "ABC", 3));
    assert_false(cy_json_str_eq(&j, 5, "ABD", 3));
    assert_false(cy_json_str_eq(&j, 5, "AB", 2));
    assert_false(cy_json_str_eq(&j, 0, "x", 1)); /* not a string */
    /* cutting never splits a UTF-8 sequence, escaped or raw */
    assert_int_equal(cy_json_unescape(&j, 3, out, 5), 2); /* é + (€ does not fit) */
    assert_string_equal(out, "\xc3\xa9");
    assert_int_equal(cy_json_unescape(&j, 4, out, 5), 2);
    assert_string_equal(out, "\xc3\xa9");
    assert_int_equal(cy_json_unescape(&j, 1, out, 3), 2);
    assert_string_equal(out, "pl");
    cy_json_free(&j);
    free(copy);
}

/* One test per RFC 8259 rule broken. */
static void test_refusals(void **state)
{
    (void)state;
    /* structure */
    REFUSED("", COMITY_ERR_INVALID, "expected a value at byte 0");
    REFUSED("   ", COMITY_ERR_INVALID, "expected a value at byte 3");
    REFUSED("[1,]", COMITY_ERR_INVALID, "expected a value at byte 3");       /* trailing comma */
    REFUSED("{\"a\":1,}", COMITY_ERR_INVALID, "expected a string key at byte 7");
    REFUSED("[,1]", COMITY_ERR_INVALID, "expected a value at byte 1");
    REFUSED("[1 2]", COMITY_ERR_INVALID, "expected ',' or ']' at byte 3");
    REFUSED("{\"a\" 1}", COMITY_ERR_INVALID, "expected ':' at byte 5");
    REFUSED("{\"a\":1 \"b\":2}", COMITY_ERR_INVALID, "expected ',' or '}' at byte 7");
    REFUSED("{1:2}", COMITY_ERR_INVALID, "expected a string key at byte 1");
    REFUSED("{'a':1}", COMITY_ERR_INVALID, "expected a string key");         /* single quotes */
    REFUSED("{a:1}", COMITY_ERR_INVALID, "expected a string key");           /* bare key */
    REFUSED("[1]]", COMITY_ERR_INVALID, "expected the end of input at byte 3");
    REFUSED("{}{}", COMITY_ERR_INVALID, "expected the end of input at byte 2");
    REFUSED("[1] x", COMITY_ERR_INVALID, "expected the end of input at byte 4");
    REFUSED("[1", COMITY_ERR_INVALID, "expected ',' or ']' at byte 2, found the end");
    REFUSED("{\"a\":1", COMITY_ERR_INVALID, "expected ',' or '}' at byte 6");
    REFUSED("[1}", COMITY_ERR_INVALID, "expected ',' or ']'");
    REFUSED("{\"a\":1]", COMITY_ERR_INVALID, "expected ',' or '}'");
    REFUSED("[1] // c", COMITY_ERR_INVALID, "expected the end of input");     /* comments */
    REFUSED("/* c */ 1", COMITY_ERR_INVALID, "expected a value");
    REFUSED("\xef\xbb\xbf{}", COMITY_ERR_INVALID, "expected a value at byte 0"); /* BOM */
    REFUSED("[1,\f2]", COMITY_ERR_INVALID, "expected a value");              /* \f is not space */
    REFUSED("[1,\v2]", COMITY_ERR_INVALID, "expected a value");
    REFUSED("[\xc2\xa0]", COMITY_ERR_INVALID, "found byte 0xc2");             /* NBSP */
    /* literals */
    REFUSED("tru", COMITY_ERR_INVALID, "expected a value at byte 0");
    REFUSED("True", COMITY_ERR_INVALID, "expected a value");
    REFUSED("nul", COMITY_ERR_INVALID, "expected a value");
    REFUSED("falsey", COMITY_ERR_INVALID, "expected the end of input at byte 5");
    REFUSED("[NaN]", COMITY_ERR_INVALID, "expected a value at byte 1");
    REFUSED("[Infinity]", COMITY_ERR_INVALID, "expected a value");
    REFUSED("[-Infinity]", COMITY_ERR_INVALID, "expected a digit at byte 2");
    REFUSED("undefined", COMITY_ERR_INVALID, "expected a value");
    /* numbers */
    REFUSED("01", COMITY_ERR_INVALID, "expected the end of input at byte 1"); /* leading zero */
    REFUSED("[-01]", COMITY_ERR_INVALID, "expected ',' or ']' at byte 3");
    REFUSED("[00]", COMITY_ERR_INVALID, "expected ',' or ']' at byte 2");
    REFUSED("[+1]", COMITY_ERR_INVALID, "expected a value at byte 1");
    REFUSED("[-]", COMITY_ERR_INVALID, "expected a digit at byte 2");
    REFUSED("[.5]", COMITY_ERR_INVALID, "expected a value at byte 1");
    REFUSED("[1.]", COMITY_ERR_INVALID, "expected a digit after '.' at byte 3");
    REFUSED("[1.e5]", COMITY_ERR_INVALID, "expected a digit after '.'");
    REFUSED("[1e]", COMITY_ERR_INVALID, "expected a digit in the exponent at byte 3");
    REFUSED("[1e+]", COMITY_ERR_INVALID, "expected a digit in the exponent at byte 4");
    REFUSED("[1.5.2]", COMITY_ERR_INVALID, "expected ',' or ']' at byte 4");
    REFUSED("[0x10]", COMITY_ERR_INVALID, "expected ',' or ']' at byte 2");
    REFUSED("[1_000]", COMITY_ERR_INVALID, "expected ',' or ']'");
    /* strings */
    REFUSED("\"abc", COMITY_ERR_INVALID, "expected '\"' to end the string begun at byte 0");
    REFUSED("[\"abcdefghijklmnopqrstuvwxyz0123456789", COMITY_ERR_INVALID, "found the end");
    REFUSED("\"a\x01\"", COMITY_ERR_INVALID, "control character 0x01 in a string at byte 2");
    REFUSED("\"a\tb\"", COMITY_ERR_INVALID, "control character 0x09");
    REFUSED("\"a\nb\"", COMITY_ERR_INVALID, "control character 0x0a");
    REFUSED("[\"0123456789abcdef0123\x1f\"]", COMITY_ERR_INVALID, "control character 0x1f in a string at byte 22");
    REFUSED("\"\\x41\"", COMITY_ERR_INVALID, "expected one of");              /* bad escape */
    REFUSED("\"\\'\"", COMITY_ERR_INVALID, "expected one of");
    REFUSED("\"\\", COMITY_ERR_INVALID, "expected an escape after '\\' at byte 1");
    REFUSED("\"\\u12\"", COMITY_ERR_INVALID, "expected 4 hex digits after '\\u' at byte 1");
    REFUSED("\"\\u12G4\"", COMITY_ERR_INVALID, "expected 4 hex digits");
    REFUSED("\"\\u123", COMITY_ERR_INVALID, "expected 4 hex digits");
    REFUSED("\"\\ud83d\"", COMITY_ERR_INVALID, "expected a low surrogate");     /* lone high */
    REFUSED("\"\\ud83dx\"", COMITY_ERR_INVALID, "expected a low surrogate");
    REFUSED("\"\\ud83d\\u0041\"", COMITY_ERR_INVALID, "expected a low surrogate");
    REFUSED("\"\\ud83d\\ud83d\"", COMITY_ERR_INVALID, "expected a low surrogate");
    REFUSED("\"\\ude00\"", COMITY_ERR_INVALID, "expected a high surrogate");    /* lone low */
    /* UTF-8 */
    REFUSED("\"\x80\"", COMITY_ERR_INVALID, "invalid UTF-8 at byte 1");         /* continuation */
    REFUSED("\"\xc0\xaf\"", COMITY_ERR_INVALID, "invalid UTF-8 at byte 1");     /* overlong / */
    REFUSED("\"\xc1\xbf\"", COMITY_ERR_INVALID, "invalid UTF-8");
    REFUSED("\"\xe0\x80\xaf\"", COMITY_ERR_INVALID, "invalid UTF-8");           /* overlong 3 */
    REFUSED("\"\xf0\x80\x80\xaf\"", COMITY_ERR_INVALID, "invalid UTF-8");       /* overlong 4 */
    REFUSED("\"\xed\xa0\x80\"", COMITY_ERR_INVALID, "invalid UTF-8");           /* surrogate */
    REFUSED("\"\xf4\x90\x80\x80\"", COMITY_ERR_INVALID, "invalid UTF-8");       /* > U+10FFFF */
    REFUSED("\"\xf5\x80\x80\x80\"", COMITY_ERR_INVALID, "invalid UTF-8");
    REFUSED("\"\xff\"", COMITY_ERR_INVALID, "invalid UTF-8");
    REFUSED("\"\xc3\"", COMITY_ERR_INVALID, "invalid UTF-8");                   /* cut short */
    REFUSED("\"\xe2\x82\"", COMITY_ERR_INVALID, "invalid UTF-8");
    REFUSED("\"\xe2\x82", COMITY_ERR_INVALID, "invalid UTF-8");                 /* at the end */
    REFUSED("\"\xf0\x9f\x98\"", COMITY_ERR_INVALID, "invalid UTF-8");
    REFUSED("\"\xc3\x28\"", COMITY_ERR_INVALID, "invalid UTF-8");
    ACCEPTED("\"\xf4\x8f\xbf\xbf \xee\x80\x80 \xed\x9f\xbf \xe0\xa0\x80 \xc2\x80\"");
    /* a NUL byte is not JSON anywhere */
    cy_json j;
    char *copy;
    assert_int_equal(parse_n(&j, "[1]\0", 4, 0, 0, &copy), COMITY_ERR_INVALID);
    cy_json_free(&j);
    free(copy);
    assert_int_equal(parse_n(&j, "\"a\0\"", 4, 0, 0, &copy), COMITY_ERR_INVALID);
    assert_non_null(strstr(tu_last_err.msg, "control character 0x00"));
    cy_json_free(&j);
    free(copy);
    /* the length given is the end, whatever follows in memory */
    assert_int_equal(parse_n(&j, "[1]", 2, 0, 0, &copy), COMITY_ERR_INVALID);
    cy_json_free(&j);
    free(copy);
}

static void test_duplicates(void **state)
{
    (void)state;
    REFUSED("{\"a\":1,\"a\":2}", COMITY_ERR_INVALID, "duplicate key \"a\" at byte 7");
    REFUSED("{\"a\":1,\"b\":{\"c\":1,\"c\":1}}", COMITY_ERR_INVALID, "duplicate key \"c\" at byte 18");
    /* equal once unescaped */
    REFUSED("{\"a\":1,\"\\u0061\":2}", COMITY_ERR_INVALID, "duplicate key");
    REFUSED("{\"\\u00e9\":1,\"\xc3\xa9\":2}", COMITY_ERR_INVALID, "duplicate key");
    REFUSED("{\"\\/\":1,\"/\":2}", COMITY_ERR_INVALID, "duplicate key");
    ACCEPTED("{\"a\":1,\"A\":2,\"a \":3,\"\\u0062\":4,\"b\\u0000\":5}");
    ACCEPTED("[{\"a\":1},{\"a\":1}]"); /* the same key in two objects */
    ACCEPTED("{\"a\":{\"a\":{\"a\":1}}}");
    /* large objects: sorted check, both ways round */
    cy_buf b;
    cy_buf_init(&b, 1 << 20);
    TU_OK(cy_buf_puts(&b, "{"));
    for (int i = 0; i < 1000; i++)
        TU_OK(cy_buf_printf(&b, "%s\"k%d\":%d", i ? "," : "", i, i));
    TU_OK(cy_buf_puts(&b, "}"));
    assert_int_equal(parse_opts((char *)b.data, 0), COMITY_OK);
    b.data[b.len - 1] = ',';
    TU_OK(cy_buf_puts(&b, "\"k\\u0035\\u00300\":1}")); /* "k500" escaped */
    assert_int_equal(parse_opts((char *)b.data, 0), COMITY_ERR_INVALID);
    assert_non_null(strstr(tu_last_err.msg, "duplicate key"));
    cy_buf_free(&b);
    /* 17 members: just past the pairwise check */
    ACCEPTED("{\"a\":0,\"b\":0,\"c\":0,\"d\":0,\"e\":0,\"f\":0,\"g\":0,\"h\":0,\"i\":0,"
             "\"j\":0,\"k\":0,\"l\":0,\"m\":0,\"n\":0,\"o\":0,\"p\":0,\"q\":0}");
    REFUSED("{\"a\":0,\"b\":0,\"c\":0,\"d\":0,\"e\":0,\"f\":0,\"g\":0,\"h\":0,\"i\":0,"
            "\"j\":0,\"k\":0,\"l\":0,\"m\":0,\"n\":0,\"o\":0,\"p\":0,\"a\":0}",
            COMITY_ERR_INVALID, "duplicate key \"a\"");
}

static void test_limits(void **state)
{
    (void)state;
    char deep[2 * CY_JSON_MAX_DEPTH + 3];
    memset(deep, '[', CY_JSON_MAX_DEPTH);
    memset(deep + CY_JSON_MAX_DEPTH, ']', CY_JSON_MAX_DEPTH);
    deep[2 * CY_JSON_MAX_DEPTH] = 0;
    ACCEPTED(deep);
    memset(deep, '[', CY_JSON_MAX_DEPTH + 1);
    memset(deep + CY_JSON_MAX_DEPTH + 1, ']', CY_JSON_MAX_DEPTH + 1);
    deep[2 * CY_JSON_MAX_DEPTH + 2] = 0;
    REFUSED(deep, COMITY_ERR_INVALID, "nested deeper than 128 at byte 128");
    /* token cap: exactly at it passes, one more is refused */
    cy_json j;
    char *copy;
    TU_OK(parse_n(&j, "[1,2,3]", 7, 4, 0, &copy));
    cy_json_free(&j);
    free(copy);
    assert_int_equal(parse_n(&j, "[1,2,3,4]", 9, 4, 0, &copy), COMITY_ERR_TOOBIG);
    assert_non_null(strstr(tu_last_err.msg, "more than 4 values"));
    cy_json_free(&j);
    free(copy);
    /* growth from an inline array to the heap keeps the early tokens */
    cy_json_tok inl[2];
    cy_json_init(&j, inl, 2, 0, 0);
    TU_OK(cy_json_parse(&j, "[\"x\",[true],{\"k\":null}]", 23, E));
    assert_int_equal(j.ntoks, 7);
    assert_ptr_not_equal(j.toks, inl);
    assert_int_equal(j.toks[0].size, 3);
    assert_true(cy_json_str_eq(&j, 1, "x", 1));
    assert_int_equal(cy_json_get(&j, 4, "k"), 6);
    cy_json_free(&j);
    /* out of memory while growing */
    cy_json_init(&j, inl, 2, 0, 0);
    cy_alloc_fail_after(1);
    assert_int_equal(cy_json_parse(&j, "[1,2,3]", 7, E), COMITY_ERR_NOMEM);
    cy_alloc_fail_after(0);
    cy_json_free(&j);
}

static void test_options(void **state)
{
    (void)state;
    /* \u0000 is JSON, but refused on request (as jansson does) */
    assert_int_equal(parse_opts("\"a\\u0000b\"", 0), COMITY_OK);
    assert_int_equal(parse_opts("\"a\\u0000b\"", CY_JSON_REJECT_NUL), COMITY_ERR_INVALID);
    assert_non_null(strstr(tu_last_err.msg, "NUL"));
    assert_int_equal(parse_opts("\"\\u0001\"", CY_JSON_REJECT_NUL), COMITY_OK);
    /* numbers jansson can hold */
    struct { const char *s; bool ok; } nums[] = {
        {"9223372036854775807", true},   {"-9223372036854775808", true},
        {"9223372036854775808", false},  {"-9223372036854775809", false},
        {"12345678901234567890", false}, {"1000000000000000000", true},
        {"1e308", true},                 {"-1.7976931348623157e308", true},
        {"1e309", false},                {"-1e309", false},
        {"1.8e308", false},              {"0.00001e313", true},
        {"1e-400", true},                {"0e999999999999", true},
        {"123456789012345678901234567890.5", true},
    };
    for (size_t i = 0; i < CY_ARRAY_LEN(nums); i++) {
        assert_int_equal(parse_opts(nums[i].s, 0), COMITY_OK);
        comity_err rc = parse_opts(nums[i].s, CY_JSON_INT64);
        if ((rc == COMITY_OK) != nums[i].ok)
            fail_msg("%s: got %d '%s'", nums[i].s, rc, tu_last_err.msg);
        /* and jansson agrees */
        json_t *v = json_loads(nums[i].s, JSON_DECODE_ANY, NULL);
        if ((v != NULL) != nums[i].ok)
            fail_msg("%s: jansson disagrees", nums[i].s);
        json_decref(v);
    }
    /* a long real goes through strtod on a heap copy */
    char big[400];
    memset(big, '9', 350);
    strcpy(big + 350, ".5");
    assert_int_equal(parse_opts(big, CY_JSON_INT64), COMITY_ERR_INVALID);
    assert_non_null(strstr(tu_last_err.msg, "too large for a double"));
    memset(big, '9', 300);
    strcpy(big + 300, ".5");
    assert_int_equal(parse_opts(big, CY_JSON_INT64), COMITY_OK);
}

/* ---- DSSE and records ------------------------------------------------------ */

static comity_nkey *signer;
static comity_vkey *verifier;

static int setup(void **state)
{
    (void)state;
    if (comity_nkey_generate("pk.pkcert", COMITY_NOTE_ED25519, &signer, NULL) ||
        comity_vkey_parse(signer->vkey, strlen(signer->vkey), &verifier, NULL))
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    comity_nkey_free(signer);
    comity_vkey_free(verifier);
    return 0;
}

/* s with the first `from` replaced by `to` (caller frees). */
static char *subst(const char *s, const char *from, const char *to)
{
    const char *at = strstr(s, from);
    assert_non_null(at);
    size_t fl = strlen(from), tl = strlen(to), n = strlen(s);
    char *out = malloc(n - fl + tl + 1);
    memcpy(out, s, (size_t)(at - s));
    memcpy(out + (at - s), to, tl);
    strcpy(out + (at - s) + tl, at + fl);
    return out;
}

static char *envelope(const char *payload, const char *type)
{
    const comity_nkey *ks[] = {signer};
    char *env;
    size_t el;
    TU_OK(comity_dsse_sign(type, (const uint8_t *)payload, strlen(payload), ks, 1, &env, &el, E));
    return env;
}

static void test_dsse_reading(void **state)
{
    (void)state;
    const comity_vkey *ks[] = {verifier};
    char *env = envelope("{\"x\":1}", COMITY_RECORD_PAYLOAD_TYPE);
    /* escapes in the envelope's strings are JSON: they read as what they mean */
    char *e1 = subst(env, "\"payloadType\":\"application/", "\"payloadType\":\"application\\/");
    char *e2 = subst(e1, "\"payload\":\"e", "\"payload\":\"\\u0065");
    char *e3 = subst(e2, "\"keyid\":\"", "\"keyid\":\"\\u0041");
    uint8_t *p;
    size_t pl;
    TU_OK(comity_dsse_verify(e3, strlen(e3), COMITY_RECORD_PAYLOAD_TYPE, ks, 1, &p, &pl, E));
    assert_int_equal(pl, 7);
    assert_string_equal((char *)p, "{\"x\":1}");
    comity_free(p);
    cy_dsse d;
    TU_OK(cy_dsse_parse(e3, strlen(e3), &d, E));
    assert_string_equal(d.payload_type, COMITY_RECORD_PAYLOAD_TYPE);
    assert_int_equal(d.sigs[0].keyid[0], 'A');
    /* the buffer holds exactly PAE(type, payload) */
    size_t n;
    uint8_t *pae = cy_dsse_pae(COMITY_RECORD_PAYLOAD_TYPE, d.payload, d.payload_len, &n);
    assert_int_equal(d.pae_len, n);
    assert_memory_equal(d.pae, pae, n);
    cy_free(pae);
    cy_dsse_clear(&d);
    free(e1);
    free(e2);
    free(e3);
    /* a long keyid (a hint only) is cut, not refused */
    char kid[120];
    memset(kid, 'k', 100);
    strcpy(kid + 100, "\",\"sig\"");
    char *e4 = subst(env, "\",\"sig\"", kid);
    TU_OK(cy_dsse_parse(e4, strlen(e4), &d, E));
    assert_int_equal(strlen(d.sigs[0].keyid), 64);
    cy_dsse_clear(&d);
    free(e4);
    struct { const char *from, *to, *why; comity_err code; } bad[] = {
        /* jansson refused these; so do we */
        {"\"payloadType\":\"application", "\"payloadType\":\"\\u0000application", "NUL", COMITY_ERR_INVALID},
        {"\"signatures\"", "\"x\":1e400,\"signatures\"", "too large", COMITY_ERR_INVALID},
        {"\"signatures\"", "\"x\":[1,{\"a\":2,\"a\":3}],\"signatures\"", "duplicate", COMITY_ERR_INVALID},
        {"\"signatures\"", "\"signatures\":0,\"signatures\"", "duplicate", COMITY_ERR_INVALID},
        /* base64 is ASCII: a UTF-8 letter is not a digit (libsodium 1.0.18 read it as '/') */
        {"\"payload\":\"e", "\"payload\":\"\xc3\xa9", "not canonical", COMITY_ERR_INVALID},
        {"\"sig\":\"", "\"sig\":\"\\u00e9", "signatures[0].sig", COMITY_ERR_INVALID},
        {"\"payload\":\"", "\"payload\":\" ", "dsse: payload", COMITY_ERR_INVALID},
        {"\"payload\":\"", "\"payload\":\"\\n", "dsse: payload", COMITY_ERR_INVALID},
    };
    for (size_t i = 0; i < CY_ARRAY_LEN(bad); i++) {
        char *b = subst(env, bad[i].from, bad[i].to);
        comity_err rc = comity_dsse_verify(b, strlen(b), COMITY_RECORD_PAYLOAD_TYPE, ks, 1, &p, &pl, E);
        if (rc != bad[i].code || !strstr(tu_last_err.msg, bad[i].why))
            fail_msg("envelope %zu: got %d '%s', want '%s'", i, rc, tu_last_err.msg, bad[i].why);
        free(b);
    }
    /* a NUL byte after a number: jansson 2.14 skipped it, it is not JSON */
    size_t el = strlen(env);
    char *z = malloc(el + 8);
    memcpy(z, env, el - 1);
    memcpy(z + el - 1, ",\"n\":1\0}", 8);
    TU_FAILS(comity_dsse_verify(z, el + 7, COMITY_RECORD_PAYLOAD_TYPE, ks, 1, &p, &pl, E),
             COMITY_ERR_INVALID, "not JSON");
    free(z);
    comity_free(env);
}

#define RID "notification--0b6e1b4a-3b7c-4d2e-9f1a-2c3d4e5f6a7b"
#define RHEAD "\"type\":\"notification\",\"id\":\"" RID "\",\"created\":\"2026-11-23T06:40:00.000Z\",\"tlp\":\"green\""

static void *digest_thread(void *arg)
{
    return (void *)comity_record_digest(arg);
}

static void test_record_reading(void **state)
{
    (void)state;
    const comity_vkey *ks[] = {verifier};
    /* whitespace everywhere, escapes in fields: read as jansson read them */
    const char *payload =
        "{ " RHEAD ", \"author\" : \"pk.pk\\u0063ert\", \"to\": [ \"in.cert\\u002din\" , \"un\" ],\n"
        "  \"body\" : { \"a\" : [ 1 , \"x y \\\" z\" ] ,\t\"b\" : { } , \"e\":\"\\u00e9\" } }";
    char *env = envelope(payload, COMITY_RECORD_PAYLOAD_TYPE);
    comity_record *r;
    TU_OK(comity_record_verify(env, strlen(env), ks, 1, &r, E));
    assert_string_equal(comity_record_author(r), "pk.pkcert");
    assert_int_equal(comity_record_to_count(r), 2);
    assert_string_equal(comity_record_to(r, 0), "in.cert-in");
    assert_string_equal(comity_record_to(r, 1), "un");
    assert_null(comity_record_to(r, 2));
    assert_int_equal(comity_record_refs_count(r), 0);
    assert_null(comity_record_ref(r, 0));
    /* the body as it stands in the payload, without the whitespace */
    assert_string_equal(comity_record_body(r), "{\"a\":[1,\"x y \\\" z\"],\"b\":{},\"e\":\"\\u00e9\"}");
    /* and it is the same JSON value as jansson reads from the payload */
    json_t *whole = json_loads(payload, 0, NULL), *body = json_loads(comity_record_body(r), 0, NULL);
    assert_true(json_equal(json_object_get(whole, "body"), body));
    json_decref(whole);
    json_decref(body);
    /* digest: SHA-256 over PAE, the same from several threads at once */
    uint8_t d[32];
    char hex[65];
    cy_dsse_pae_hash(COMITY_RECORD_PAYLOAD_TYPE, (const uint8_t *)payload, strlen(payload), d);
    cy_hex_encode(hex, d, 32);
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&th[i], NULL, digest_thread, r), 0);
    for (int i = 0; i < 4; i++) {
        void *res;
        pthread_join(th[i], &res);
        assert_string_equal((const char *)res, hex);
    }
    assert_string_equal(comity_record_entry(r) + 17, hex);
    comity_record_free(r);
    comity_free(env);
    /* a compact body is returned byte for byte */
    env = envelope("{" RHEAD ",\"author\":\"pk.pkcert\",\"body\":{\"n\":1.50E+2,\"s\":\"\\/\"}}",
                   COMITY_RECORD_PAYLOAD_TYPE);
    TU_OK(comity_record_parse(env, strlen(env), &r, E));
    assert_string_equal(comity_record_body(r), "{\"n\":1.50E+2,\"s\":\"\\/\"}");
    char *opened;
    size_t ol;
    TU_OK(comity_record_open(r, NULL, &opened, &ol, E));
    assert_string_equal(opened, comity_record_body(r));
    comity_free(opened);
    comity_record_free(r);
    comity_free(env);
    /* what jansson refused stays refused */
    char deep[400];
    int n = snprintf(deep, sizeof deep, "{" RHEAD ",\"author\":\"pk.pkcert\",\"body\":");
    for (int i = 0; i < 130; i++)
        deep[n++] = '[';
    deep[n] = 0;
    struct { const char *payload, *why; comity_err code; } bad[] = {
        {"{" RHEAD ",\"author\":\"pk.pkcert\",\"body\":{\"a\":\"\\u0000\"}}", "NUL", COMITY_ERR_INVALID},
        {"{" RHEAD ",\"author\":\"pk.pkcert\",\"to\":[\"in\\u0000\"],\"body\":{}}", "NUL", COMITY_ERR_INVALID},
        {"{" RHEAD ",\"author\":\"pk.pkcert\",\"body\":{\"a\":1,\"a\":1}}", "duplicate", COMITY_ERR_INVALID},
        {"{" RHEAD ",\"author\":\"pk.pkcert\",\"body\":{\"a\":1,\"\\u0061\":1}}", "duplicate", COMITY_ERR_INVALID},
        {"{" RHEAD ",\"author\":\"pk.pkcert\",\"body\":{\"a\":99999999999999999999}}", "64 bits", COMITY_ERR_INVALID},
        {"{" RHEAD ",\"author\":\"pk.pkcert\",\"body\":{\"a\":[1,]}}", "not JSON", COMITY_ERR_INVALID},
        {"{" RHEAD ",\"author\":\"pk.pkcert\",\"body\":{\"a\":\"\xed\xa0\x80\"}}", "UTF-8", COMITY_ERR_INVALID},
        {"{" RHEAD ",\"author\":\"pk.pkcert\",\"body\":{}} x", "end of input", COMITY_ERR_INVALID},
        {"{" RHEAD ",\"author\":\"pk.pkc\\u0065rt\",\"\\u0062ody\":{},\"body\":{}}", "duplicate", COMITY_ERR_INVALID},
        {"{" RHEAD ",\"author\":\"pk.pkcert\",\"bod\\u0079x\":{}}", "unknown field 'bodyx'", COMITY_ERR_INVALID},
        {deep, "nested deeper", COMITY_ERR_INVALID},
    };
    for (size_t i = 0; i < CY_ARRAY_LEN(bad); i++) {
        env = envelope(bad[i].payload, COMITY_RECORD_PAYLOAD_TYPE);
        comity_err rc = comity_record_parse(env, strlen(env), &r, E);
        if (rc != bad[i].code || !strstr(tu_last_err.msg, bad[i].why))
            fail_msg("payload %zu: got %d '%s', want '%s'", i, rc, tu_last_err.msg, bad[i].why);
        comity_free(env);
    }
}

/* Every allocation of the reading path fails in turn: each time the call
 * must fail with COMITY_ERR_NOMEM and release what it took (ASan checks
 * for leaks), and once allocations run out it must succeed. */
static void test_reading_oom(void **state)
{
    (void)state;
    const comity_vkey *ks[] = {verifier};
    /* escapes in the envelope (temporary copies), sealed and clear records,
     * a body with more tokens than the inline array (heap growth) and a
     * large object (sorted duplicate check) */
    cy_buf b;
    cy_buf_init(&b, 1 << 20);
    TU_OK(cy_buf_puts(&b, "{ " RHEAD ", \"author\":\"pk.pkcert\", \"to\":[\"in\",\"u\\u0073\"], \"body\":{"));
    for (int i = 0; i < 40; i++)
        TU_OK(cy_buf_printf(&b, "%s\"k%d\":[%d,true]", i ? "," : "", i, i));
    TU_OK(cy_buf_puts(&b, "}}"));
    char *env = envelope((char *)b.data, COMITY_RECORD_PAYLOAD_TYPE);
    cy_buf_free(&b);
    char *escaped = subst(env, "\"payload\":\"e", "\"payload\":\"\\u0065");
    int failures = 0;
    for (long n = 1; n < 64; n++) {
        comity_record *r = NULL;
        cy_alloc_fail_after(n);
        comity_error e = {0};
        comity_err rc = comity_record_verify(escaped, strlen(escaped), ks, 1, &r, &e);
        cy_alloc_fail_after(0);
        if (rc == COMITY_OK) {
            assert_int_equal(comity_record_to_count(r), 2);
            assert_string_equal(comity_record_to(r, 1), "us");
            comity_record_free(r);
            break;
        }
        if (rc != COMITY_ERR_NOMEM)
            fail_msg("allocation %ld failing: got %d '%s'", n, rc, e.msg);
        assert_null(r);
        failures++;
    }
    assert_true(failures >= 4); /* record, PAE buffer, tmp, tokens, arena... */
    free(escaped);
    comity_free(env);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tokens),     cmocka_unit_test(test_strings),
        cmocka_unit_test(test_refusals),   cmocka_unit_test(test_duplicates),
        cmocka_unit_test(test_limits),     cmocka_unit_test(test_options),
        cmocka_unit_test(test_dsse_reading), cmocka_unit_test(test_record_reading),
        cmocka_unit_test(test_reading_oom),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
