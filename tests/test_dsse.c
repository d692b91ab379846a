/*
 * test_dsse.c: DSSE envelopes: PAE as the spec defines it, sign/verify round
 * trips, and each way an envelope can be wrong (tampered payload, wrong key,
 * wrong payloadType, malformed JSON and base64, oversize, duplicate keys),
 * and a parse into a struct that held garbage (nothing but sigs[0, nsigs)
 * is set).
 */
#include <stdlib.h>

#include <jansson.h>
#include <sodium.h>

#include "crypto/dsse.h"
#include "crypto/note.h"
#include "util/testutil.h"

static comity_nkey *key_a, *key_b;
static comity_vkey *vkey_a, *vkey_b;

static int setup(void **state)
{
    (void)state;
    if (comity_nkey_generate("pk.pkcert", COMITY_NOTE_ED25519, &key_a, NULL) ||
        comity_nkey_generate("in.cert-in", COMITY_NOTE_ED25519, &key_b, NULL) ||
        comity_vkey_parse(key_a->vkey, strlen(key_a->vkey), &vkey_a, NULL) ||
        comity_vkey_parse(key_b->vkey, strlen(key_b->vkey), &vkey_b, NULL))
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    comity_nkey_free(key_a);
    comity_nkey_free(key_b);
    comity_vkey_free(vkey_a);
    comity_vkey_free(vkey_b);
    return 0;
}

static void test_pae(void **state)
{
    (void)state;
    /* the DSSE spec's worked example: PAE("http://example.com/HelloWorld", "hello world") */
    size_t n;
    uint8_t *p = cy_dsse_pae("http://example.com/HelloWorld", (const uint8_t *)"hello world", 11, &n);
    const char *want = "DSSEv1 29 http://example.com/HelloWorld 11 hello world";
    assert_int_equal(n, strlen(want));
    assert_memory_equal(p, want, n);
    uint8_t h1[32], h2[32];
    cy_dsse_pae_hash("http://example.com/HelloWorld", (const uint8_t *)"hello world", 11, h1);
    crypto_hash_sha256(h2, p, n);
    assert_memory_equal(h1, h2, 32);
    cy_free(p);
    p = cy_dsse_pae("", (const uint8_t *)"", 0, &n);
    assert_memory_equal(p, "DSSEv1 0  0 ", n);
    cy_free(p);
}

static char *sign(const char *payload, const comity_nkey *k)
{
    const comity_nkey *ks[] = {k};
    char *env;
    size_t el;
    TU_OK(comity_dsse_sign(COMITY_RECORD_PAYLOAD_TYPE, (const uint8_t *)payload,
                           strlen(payload), ks, 1, &env, &el, E));
    assert_int_equal(el, strlen(env));
    return env;
}

static void test_roundtrip(void **state)
{
    (void)state;
    char *env = sign("{\"x\":1}", key_a);
    const comity_vkey *ks[] = {vkey_b, vkey_a};
    uint8_t *p;
    size_t pl;
    TU_OK(comity_dsse_verify(env, strlen(env), COMITY_RECORD_PAYLOAD_TYPE, ks, 2, &p, &pl, E));
    assert_int_equal(pl, 7);
    assert_string_equal((char *)p, "{\"x\":1}");
    comity_free(p);
    /* keyid is the signed-note key id */
    char kid[16];
    snprintf(kid, sizeof kid, "\"%08x\"", key_a->id);
    assert_non_null(strstr(env, kid));
    /* wrong key */
    const comity_vkey *only_b[] = {vkey_b};
    TU_FAILS(comity_dsse_verify(env, strlen(env), COMITY_RECORD_PAYLOAD_TYPE, only_b, 1, &p, &pl, E),
             COMITY_ERR_VERIFY, "no signature verifies");
    assert_null(p);
    /* wrong payloadType */
    TU_FAILS(comity_dsse_verify(env, strlen(env), "application/json", ks, 2, &p, &pl, E),
             COMITY_ERR_INVALID, "payloadType");
    comity_free(env);
}

static void test_tampered(void **state)
{
    (void)state;
    char *env = sign("{\"amount\":100}", key_a);
    const comity_vkey *ks[] = {vkey_a};
    uint8_t *p;
    size_t pl;
    /* change one payload character: base64 of {"amount":100} vs {"amount":900} */
    json_t *j = json_loads(env, 0, NULL);
    char *b64 = cy_b64_encode_alloc((const uint8_t *)"{\"amount\":900}", 14, CY_B64_STD);
    json_object_set_new(j, "payload", json_string(b64));
    char *t = json_dumps(j, JSON_COMPACT);
    TU_FAILS(comity_dsse_verify(t, strlen(t), COMITY_RECORD_PAYLOAD_TYPE, ks, 1, &p, &pl, E),
             COMITY_ERR_VERIFY, NULL);
    free(t);
    /* the same payload in URL-safe unpadded base64 still verifies (DSSE reads both) */
    uint8_t raw[] = "{\"amount\":100}";
    char *u64 = cy_b64_encode_alloc(raw, 14, CY_B64_URL_NOPAD);
    json_object_set_new(j, "payload", json_string(u64));
    json_object_set_new(j, "extra", json_string("ignored"));
    t = json_dumps(j, JSON_INDENT(2));
    TU_OK(comity_dsse_verify(t, strlen(t), COMITY_RECORD_PAYLOAD_TYPE, ks, 1, &p, &pl, E));
    comity_free(p);
    free(t);
    /* a flipped signature bit */
    json_t *s0 = json_array_get(json_object_get(j, "signatures"), 0);
    const char *sig = json_string_value(json_object_get(s0, "sig"));
    char *bad = strdup(sig);
    bad[5] = bad[5] == 'A' ? 'B' : 'A';
    json_object_set_new(s0, "sig", json_string(bad));
    t = json_dumps(j, 0);
    TU_FAILS(comity_dsse_verify(t, strlen(t), COMITY_RECORD_PAYLOAD_TYPE, ks, 1, &p, &pl, E),
             COMITY_ERR_VERIFY, NULL);
    free(t);
    free(bad);
    cy_free(b64);
    cy_free(u64);
    json_decref(j);
    comity_free(env);
}

static void test_malformed(void **state)
{
    (void)state;
    const comity_vkey *ks[] = {vkey_a};
    uint8_t *p;
    size_t pl;
    struct { const char *in, *why; comity_err code; } bad[] = {
        {"", "not JSON", COMITY_ERR_INVALID},
        {"{\"payload\":", "not JSON", COMITY_ERR_INVALID},
        {"[]", "not a JSON object", COMITY_ERR_INVALID},
        {"{\"payloadType\":\"t\",\"signatures\":[{\"sig\":\"AA==\"}]}", "'payload' missing", COMITY_ERR_INVALID},
        {"{\"payload\":\"\",\"signatures\":[{\"sig\":\"AA==\"}]}", "'payloadType' missing", COMITY_ERR_INVALID},
        {"{\"payload\":\"\",\"payloadType\":\"t\",\"signatures\":[]}", "empty", COMITY_ERR_INVALID},
        {"{\"payload\":\"\",\"payloadType\":\"t\"}", "'signatures' missing", COMITY_ERR_INVALID},
        {"{\"payload\":\"e30\",\"payloadType\":\"t\",\"signatures\":[{\"sig\":1}]}", "'sig'", COMITY_ERR_INVALID},
        {"{\"payload\":\"e30\",\"payloadType\":\"t\",\"signatures\":[{\"sig\":\"AA==\",\"keyid\":5}]}", "keyid", COMITY_ERR_INVALID},
        {"{\"payload\":\"e3=\",\"payloadType\":\"t\",\"signatures\":[{\"sig\":\"AA==\"}]}", "payload", COMITY_ERR_INVALID},
        {"{\"payload\":\"e3 0\",\"payloadType\":\"t\",\"signatures\":[{\"sig\":\"AA==\"}]}", "payload", COMITY_ERR_INVALID},
        {"{\"payload\":\"e30=\",\"payload\":\"e30=\",\"payloadType\":\"t\",\"signatures\":[{\"sig\":\"AA==\"}]}", "duplicate", COMITY_ERR_INVALID},
    };
    for (size_t i = 0; i < CY_ARRAY_LEN(bad); i++) {
        comity_err rc = comity_dsse_verify(bad[i].in, strlen(bad[i].in), "t", ks, 1, &p, &pl, E);
        if (rc != bad[i].code || !strstr(tu_last_err.msg, bad[i].why))
            fail_msg("envelope %zu: got %d '%s', want '%s'", i, rc, tu_last_err.msg, bad[i].why);
    }
    /* too many signatures */
    cy_buf b;
    cy_buf_init(&b, 1 << 20);
    TU_OK(cy_buf_puts(&b, "{\"payload\":\"e30=\",\"payloadType\":\"t\",\"signatures\":["));
    for (int i = 0; i <= COMITY_DSSE_MAX_SIGS; i++)
        TU_OK(cy_buf_printf(&b, "%s{\"sig\":\"AA==\"}", i ? "," : ""));
    TU_OK(cy_buf_puts(&b, "]}"));
    TU_FAILS(comity_dsse_verify((char *)b.data, b.len, "t", ks, 1, &p, &pl, E), COMITY_ERR_TOOBIG, "more than");
    cy_buf_free(&b);
    /* oversize envelope: refused before parsing */
    char *big = malloc(COMITY_DSSE_MAX + 2);
    memset(big, ' ', COMITY_DSSE_MAX + 1);
    big[COMITY_DSSE_MAX + 1] = 0;
    TU_FAILS(comity_dsse_verify(big, COMITY_DSSE_MAX + 1, "t", ks, 1, &p, &pl, E), COMITY_ERR_TOOBIG, "cap");
    free(big);
}

static void test_two_signers(void **state)
{
    (void)state;
    const comity_nkey *both[] = {key_a, key_b};
    char *env;
    size_t el;
    TU_OK(comity_dsse_sign("t", (const uint8_t *)"x", 1, both, 2, &env, &el, E));
    const comity_vkey *kb[] = {vkey_b};
    uint8_t *p;
    size_t pl;
    TU_OK(comity_dsse_verify(env, el, "t", kb, 1, &p, &pl, E));
    comity_free(p);
    comity_free(env);
}

/* cy_dsse_parse sets what it reads and nothing more (its 16 inline
 * signatures are not zeroed, only sigs[0, nsigs) count): into a struct
 * full of garbage, a signature without a keyid still reads as "", each
 * sig_len is its own; a failed parse, and a clear, leave no buffer and no
 * signature behind. */
static void test_parse_into_garbage(void **state)
{
    (void)state;
    cy_dsse d;
    memset(&d, 0xa5, sizeof d);
    const char *env = "{\"payload\":\"eA==\",\"payloadType\":\"t\",\"signatures\":"
                      "[{\"keyid\":\"k1\",\"sig\":\"AAAA\"},{\"sig\":\"AQI=\"}]}";
    TU_OK(cy_dsse_parse(env, strlen(env), &d, E));
    assert_int_equal(d.nsigs, 2);
    assert_string_equal(d.sigs[0].keyid, "k1");
    assert_int_equal(d.sigs[0].sig_len, 3);
    assert_string_equal(d.sigs[1].keyid, "");
    assert_int_equal(d.sigs[1].sig_len, 2);
    assert_memory_equal(d.sigs[1].sig, "\x01\x02", 2);
    assert_string_equal(d.payload_type, "t");
    assert_int_equal(d.payload_len, 1);
    assert_memory_equal(d.payload, "x", 1);
    cy_dsse_clear(&d);
    assert_null(d.pae);
    assert_null(d.payload);
    assert_int_equal(d.nsigs, 0);
    memset(&d, 0xa5, sizeof d);
    const char *bad = "{\"payload\":\"eA==\",\"payloadType\":\"t\",\"signatures\":"
                      "[{\"sig\":\"AAAA\"},{\"sig\":\"A\"}]}";
    TU_FAILS(cy_dsse_parse(bad, strlen(bad), &d, E), COMITY_ERR_INVALID, "signatures[1].sig");
    assert_null(d.pae);
    assert_int_equal(d.nsigs, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pae),       cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_tampered),  cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_two_signers), cmocka_unit_test(test_parse_into_garbage),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
