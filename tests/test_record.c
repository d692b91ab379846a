/*
 * test_record.c: party keys and records: key files (round trip, mode,
 * refusal to overwrite, every corruption), record signing and verification,
 * sealing for amber/red, the digest and log entry, and a refusal test for
 * each payload rule of specs/records.md.
 */
#include <stdlib.h>
#include <sys/stat.h>

#include <jansson.h>
#include <sodium.h>

#include "crypto/dsse.h"
#include "crypto/note.h"
#include "record/id.h"
#include "record/refs_scan.h"
#include "record/signer.h"
#include "record/visible.h"
#include "util/testutil.h"

static comity_key *alice, *bob, *eve;
static comity_vkey *va, *vb, *ve;

static int setup(void **state)
{
    (void)state;
    if (comity_key_generate("pk.pkcert", &alice, NULL) ||
        comity_key_generate("in.cert-in", &bob, NULL) ||
        comity_key_generate("pk.pkcert", &eve, NULL)) /* same name, other key */
        return -1;
    const char *a = comity_key_vkey(alice), *b = comity_key_vkey(bob), *c = comity_key_vkey(eve);
    if (comity_vkey_parse(a, strlen(a), &va, NULL) || comity_vkey_parse(b, strlen(b), &vb, NULL) ||
        comity_vkey_parse(c, strlen(c), &ve, NULL))
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    comity_key_free(alice);
    comity_key_free(bob);
    comity_key_free(eve);
    comity_vkey_free(va);
    comity_vkey_free(vb);
    comity_vkey_free(ve);
    return 0;
}

static void test_keyfile(void **state)
{
    (void)state;
    char *dir = tu_tmpdir();
    char path[512];
    snprintf(path, sizeof path, "%s/a.key", dir);
    TU_OK(comity_key_save(alice, path, E));
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    TU_FAILS(comity_key_save(bob, path, E), COMITY_ERR_EXISTS, "refusing");
    comity_key *k;
    TU_OK(comity_key_load(path, &k, E));
    assert_string_equal(comity_key_party(k), "pk.pkcert");
    assert_string_equal(comity_key_vkey(k), comity_key_vkey(alice));
    assert_string_equal(comity_key_recipient(k), comity_key_recipient(alice));
    assert_int_equal(strncmp(comity_key_recipient(k), "age1", 4), 0);
    comity_key_free(k);
    /* corruptions */
    size_t len;
    char *text = tu_slurp(path, &len);
    struct { const char *from, *to, *why; } bad[] = {
        {"# signing key: ", "# signing kez: ", "no '# signing key:'"},
        {"AGE-SECRET-KEY-1", "AGE-SECRET-KEY-2", "line 5"},
        {"# public key: pk.pkcert+", "# public key: pk.pkcerx+", "does not match"},
        {"# recipient: age1", "# recipient: age1q", "does not match"},
        {"PRIVATE+KEY+pk.pkcert+", "PRIVATE+KEY+pk.pkcerx+", "line 4"},
    };
    for (size_t i = 0; i < CY_ARRAY_LEN(bad); i++) {
        char *t = strdup(text);
        char *at = strstr(t, bad[i].from);
        assert_non_null(at);
        size_t fl = strlen(bad[i].from), tl = strlen(bad[i].to);
        char *n = malloc(len + 64);
        memcpy(n, t, (size_t)(at - t));
        memcpy(n + (at - t), bad[i].to, tl);
        strcpy(n + (at - t) + tl, at + fl);
        comity_err rc = comity_key_parse(n, strlen(n), &k, E);
        if (rc != COMITY_ERR_INVALID || !strstr(tu_last_err.msg, bad[i].why))
            fail_msg("corruption %zu: got %d '%s', want '%s'", i, rc, tu_last_err.msg, bad[i].why);
        free(n);
        free(t);
    }
    /* a plain age identity file is not a comity key */
    const char *age_only = "# created: x\nAGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX\n";
    TU_FAILS(comity_key_parse(age_only, strlen(age_only), &k, E), COMITY_ERR_INVALID, NULL);
    /* a second identity */
    char *two = malloc(len * 2 + 1);
    strcpy(two, text);
    strcat(two, strstr(text, "AGE-SECRET-KEY-1"));
    TU_FAILS(comity_key_parse(two, strlen(two), &k, E), COMITY_ERR_INVALID, "more than one");
    free(two);
    TU_FAILS(comity_key_generate("PK", &k, E), COMITY_ERR_INVALID, "byte 0");
    free(text);
    tu_rmrf(dir);
    free(dir);
}

static char *sign_rec(const comity_key *k, const char *type, const char *tlp,
                      const char *const *to, size_t nto, const char *body)
{
    comity_record_params p = {.type = type, .tlp = tlp, .to = to, .nto = nto};
    const char *seal[8];
    if (tlp && (strcmp(tlp, "amber") == 0 || strcmp(tlp, "red") == 0)) {
        for (size_t i = 0; i < nto; i++)
            seal[i] = strcmp(to[i], "in.cert-in") == 0 ? comity_key_recipient(bob)
                                                        : comity_key_recipient(alice);
        p.seal_to = seal;
        p.nseal_to = nto;
    }
    char *env;
    size_t el;
    TU_OK(comity_record_sign(k, &p, body, strlen(body), &env, &el, E));
    return env;
}

static void test_sign_verify(void **state)
{
    (void)state;
    const char *to[] = {"in.cert-in"};
    char *env = sign_rec(alice, "notification", NULL, to, 1, "{\"severity\": 4, \"what\":\"grid\"}");
    const comity_vkey *keys[] = {vb, va};
    comity_record *r;
    TU_OK(comity_record_verify(env, strlen(env), keys, 2, &r, E));
    assert_string_equal(comity_record_type(r), "notification");
    assert_string_equal(comity_record_author(r), "pk.pkcert");
    assert_string_equal(comity_record_tlp(r), "green");
    assert_int_equal(comity_record_to_count(r), 1);
    assert_string_equal(comity_record_to(r, 0), "in.cert-in");
    assert_string_equal(comity_record_body(r), "{\"severity\":4,\"what\":\"grid\"}");
    assert_int_equal(strncmp(comity_record_id(r), "notification--", 14), 0);
    assert_int_equal(strlen(comity_record_created(r)), 24);
    /* digest = SHA-256(PAE(type, payload)); entry = prefix + hex */
    size_t pl;
    const char *payload = comity_record_payload(r, &pl);
    uint8_t d[32];
    cy_dsse_pae_hash(COMITY_RECORD_PAYLOAD_TYPE, (const uint8_t *)payload, pl, d);
    char hex[65];
    cy_hex_encode(hex, d, 32);
    assert_string_equal(comity_record_digest(r), hex);
    assert_int_equal(strlen(comity_record_entry(r)), COMITY_RECORD_ENTRY_LEN);
    assert_int_equal(strncmp(comity_record_entry(r), "comity-record-v1:", 17), 0);
    assert_string_equal(comity_record_entry(r) + 17, hex);
    /* the digest does not depend on the envelope's JSON layout */
    json_t *j = json_loads(env, 0, NULL);
    char *pretty = json_dumps(j, JSON_INDENT(4) | JSON_SORT_KEYS);
    comity_record *r2;
    TU_OK(comity_record_verify(pretty, strlen(pretty), keys, 2, &r2, E));
    assert_string_equal(comity_record_digest(r2), comity_record_digest(r));
    comity_record_free(r2);
    free(pretty);
    json_decref(j);
    comity_record_free(r);
    /* no key for the author */
    const comity_vkey *only_b[] = {vb};
    TU_FAILS(comity_record_verify(env, strlen(env), only_b, 1, &r, E), COMITY_ERR_NOKEY, "pk.pkcert");
    /* a key with the author's name but another key */
    const comity_vkey *impostor[] = {ve};
    TU_FAILS(comity_record_verify(env, strlen(env), impostor, 1, &r, E), COMITY_ERR_VERIFY, "does not verify");
    /* bob's key signing a record claiming alice as author */
    comity_free(env);
}

/* env with its payload replaced by `payload` (re-encoded) or its first
 * signature's first byte flipped, the rest kept.  Caller frees (free). */
static char *tamper(const char *env, const char *payload, bool flip_sig)
{
    json_t *j = json_loads(env, 0, NULL);
    assert_non_null(j);
    if (payload) {
        char *b64 = cy_b64_encode_alloc((const uint8_t *)payload, strlen(payload), CY_B64_STD);
        json_object_set_new(j, "payload", json_string(b64));
        cy_free(b64);
    }
    if (flip_sig) {
        json_t *s = json_array_get(json_object_get(j, "signatures"), 0);
        const char *s64 = json_string_value(json_object_get(s, "sig"));
        uint8_t *raw;
        size_t n;
        TU_OK(cy_b64_decode_any_alloc(&raw, &n, s64, strlen(s64), 1024, E));
        assert_int_equal(n, 64);
        raw[0] ^= 1;
        char *b64 = cy_b64_encode_alloc(raw, n, CY_B64_STD);
        json_object_set_new(s, "sig", json_string(b64));
        cy_free(b64);
        cy_free(raw);
    }
    char *out = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    return out;
}

/* comity_record_parse + comity_record_verify_parsed: what intake does.  A
 * good record passes, agreeing with comity_record_verify; any change to
 * the signature or to the signed payload, a signature by another party,
 * and a key that only shares the author's name are refused. */
static void test_verify_parsed(void **state)
{
    (void)state;
    const char *to[] = {"in.cert-in"};
    char *env = sign_rec(alice, "notification", NULL, to, 1, "{\"severity\":4,\"what\":\"grid\"}");
    const comity_vkey *keys[] = {vb, va};
    comity_record *r, *rv;
    TU_OK(comity_record_parse(env, strlen(env), &r, E));
    TU_OK(comity_record_verify_parsed(r, keys, 2, E));
    TU_OK(comity_record_verify(env, strlen(env), keys, 2, &rv, E));
    assert_string_equal(comity_record_digest(r), comity_record_digest(rv));
    comity_record_free(rv);
    /* a record is only read: checking it again gives the same answer */
    TU_OK(comity_record_verify_parsed(r, keys, 2, E));
    const comity_vkey *only_b[] = {vb}, *impostor[] = {ve}, *both[] = {ve, va};
    TU_FAILS(comity_record_verify_parsed(r, only_b, 1, E), COMITY_ERR_NOKEY, "pk.pkcert");
    TU_FAILS(comity_record_verify_parsed(r, impostor, 1, E), COMITY_ERR_VERIFY, "does not verify");
    TU_FAILS(comity_record_verify_parsed(r, NULL, 0, E), COMITY_ERR_NOKEY, NULL);
    /* one of two keys named for the author is the right one */
    TU_OK(comity_record_verify_parsed(r, both, 2, E));

    /* the signature changed: the envelope still parses, the check refuses */
    char *bad = tamper(env, NULL, true);
    comity_record *t;
    TU_OK(comity_record_parse(bad, strlen(bad), &t, E));
    TU_FAILS(comity_record_verify_parsed(t, keys, 2, E), COMITY_ERR_VERIFY, "does not verify");
    comity_record_free(t);
    TU_FAILS(comity_record_verify(bad, strlen(bad), keys, 2, &rv, E), COMITY_ERR_VERIFY, NULL);
    free(bad);

    /* the payload changed (one byte of the body), the signature kept */
    size_t pl;
    char *payload = strdup(comity_record_payload(r, &pl));
    char *at = strstr(payload, "grid");
    assert_non_null(at);
    at[3] = 'e';
    bad = tamper(env, payload, false);
    TU_OK(comity_record_parse(bad, strlen(bad), &t, E));
    assert_string_equal(comity_record_body(t), "{\"severity\":4,\"what\":\"grie\"}");
    TU_FAILS(comity_record_verify_parsed(t, keys, 2, E), COMITY_ERR_VERIFY, "does not verify");
    comity_record_free(t);
    free(bad);

    /* alice's payload signed by bob: a good signature, not the author's */
    char *bob_env;
    size_t bl;
    const comity_nkey *bk[] = {comity_key_signer(bob)};
    TU_OK(comity_dsse_sign(COMITY_RECORD_PAYLOAD_TYPE, (const uint8_t *)payload, strlen(payload), bk, 1, &bob_env, &bl, E));
    TU_OK(comity_record_parse(bob_env, bl, &t, E));
    TU_FAILS(comity_record_verify_parsed(t, keys, 2, E), COMITY_ERR_VERIFY, "does not verify");
    TU_FAILS(comity_record_verify_parsed(t, only_b, 1, E), COMITY_ERR_NOKEY, NULL);
    comity_record_free(t);
    comity_free(bob_env);
    free(payload);
    comity_record_free(r);
    comity_free(env);
}

static void test_sealed(void **state)
{
    (void)state;
    const char *to[] = {"in.cert-in"};
    const char *secret = "{\"evidence\":\"server logs 10.0.0.1\"}";
    char *env = sign_rec(alice, "evidence", "amber", to, 1, secret);
    assert_null(strstr(env, "server logs")); /* nothing in clear, even base64'd payload */
    size_t n;
    uint8_t *raw;
    json_t *j = json_loads(env, 0, NULL);
    const char *p64 = json_string_value(json_object_get(j, "payload"));
    TU_OK(cy_b64_decode_any_alloc(&raw, &n, p64, strlen(p64), 1 << 20, E));
    assert_null(strstr((char *)raw, "server logs"));
    assert_null(strstr((char *)raw, "\"body\""));
    cy_free(raw);
    json_decref(j);
    const comity_vkey *keys[] = {va};
    comity_record *r;
    TU_OK(comity_record_verify(env, strlen(env), keys, 1, &r, E));
    assert_true(comity_record_is_sealed(r));
    assert_null(comity_record_body(r));
    /* the recipient and the author open it; a third party cannot */
    comity_key *keys3[] = {bob, alice, eve};
    for (int i = 0; i < 3; i++) {
        char *kf = NULL;
        kf = tu_tmpdir();
        char path[512];
        snprintf(path, sizeof path, "%s/k", kf);
        TU_OK(comity_key_save(keys3[i], path, E));
        comity_identities *ids;
        TU_OK(comity_identities_load(path, &ids, E));
        char *body;
        size_t bl;
        comity_err rc = comity_record_open(r, ids, &body, &bl, E);
        if (i < 2) {
            TU_OK(rc);
            assert_string_equal(body, "{\"evidence\":\"server logs 10.0.0.1\"}");
            comity_free(body);
        } else {
            assert_int_equal(rc, COMITY_ERR_NOKEY);
        }
        comity_identities_free(ids);
        tu_rmrf(kf);
        free(kf);
    }
    comity_record_free(r);
    comity_free(env);
    /* amber without sealing keys: sealed to the author alone */
    comity_record_params p = {.type = "note", .tlp = "red"};
    char *e2;
    size_t el;
    TU_OK(comity_record_sign(alice, &p, "{}", 2, &e2, &el, E));
    TU_OK(comity_record_parse(e2, el, &r, E));
    assert_true(comity_record_is_sealed(r));
    comity_record_free(r);
    comity_free(e2);
    /* sealing keys with a clear record is a mistake, refused */
    comity_record_params p3 = {.type = "note", .tlp = "green", .seal_to = (const char *[]){comity_key_recipient(bob)}, .nseal_to = 1};
    TU_FAILS(comity_record_sign(alice, &p3, "{}", 2, &e2, &el, E), COMITY_ERR_USAGE, "in clear");
}

/* Signs an arbitrary payload as alice, bypassing comity_record_sign's checks. */
static char *raw_envelope(const char *payload, const char *ptype)
{
    const comity_nkey *ks[] = {comity_key_signer(alice)};
    char *env;
    size_t el;
    TU_OK(comity_dsse_sign(ptype, (const uint8_t *)payload, strlen(payload), ks, 1, &env, &el, E));
    return env;
}

static void test_payload_rules(void **state)
{
    (void)state;
#define ID "notification--0b6e1b4a-3b7c-4d2e-9f1a-2c3d4e5f6a7b"
#define BASE "\"type\":\"notification\",\"id\":\"" ID "\",\"author\":\"pk.pkcert\",\"created\":\"2026-11-23T06:40:00.000Z\""
    struct { const char *payload, *why; } bad[] = {
        {"[]", "not a JSON object"},
        {"{" BASE ",\"tlp\":\"green\"}", "record.body: missing"},
        {"{" BASE ",\"tlp\":\"green\",\"body\":[]}", "record.body: missing or not a JSON object"},
        {"{" BASE ",\"tlp\":\"green\",\"body\":{},\"x\":1}", "unknown field 'x'"},
        {"{" BASE ",\"tlp\":\"white\",\"body\":{}}", "record.tlp"},
        {"{" BASE ",\"tlp\":\"amber\",\"body\":{}}", "must not carry its body in clear"},
        {"{" BASE ",\"tlp\":\"amber\"}", "record.sealed: missing"},
        {"{" BASE ",\"tlp\":\"amber\",\"sealed\":\"aGVsbG8=\"}", "not a binary age file"},
        {"{" BASE ",\"tlp\":\"amber\",\"sealed\":\"aGVsbG8\"}", "not standard padded base64"},
        {"{" BASE ",\"tlp\":\"green\",\"body\":{},\"sealed\":\"aGVsbG8=\"}", "carries its body in clear"},
        {"{\"type\":\"Notification\",\"id\":\"" ID "\",\"author\":\"pk.pkcert\",\"created\":\"2026-11-23T06:40:00.000Z\",\"tlp\":\"green\",\"body\":{}}", "record.type"},
        {"{\"type\":\"notification\",\"id\":\"request--0b6e1b4a-3b7c-4d2e-9f1a-2c3d4e5f6a7b\",\"author\":\"pk.pkcert\",\"created\":\"2026-11-23T06:40:00.000Z\",\"tlp\":\"green\",\"body\":{}}", "record.id"},
        {"{\"type\":\"notification\",\"id\":\"notification--0B6E1B4A-3b7c-4d2e-9f1a-2c3d4e5f6a7b\",\"author\":\"pk.pkcert\",\"created\":\"2026-11-23T06:40:00.000Z\",\"tlp\":\"green\",\"body\":{}}", "record.id"},
        {"{\"type\":\"notification\",\"id\":\"notification--0b6e1b4a-3b7c-1d2e-9f1a-2c3d4e5f6a7b\",\"author\":\"pk.pkcert\",\"created\":\"2026-11-23T06:40:00.000Z\",\"tlp\":\"green\",\"body\":{}}", "record.id"},
        {"{\"type\":\"notification\",\"id\":\"" ID "\",\"author\":\"PK\",\"created\":\"2026-11-23T06:40:00.000Z\",\"tlp\":\"green\",\"body\":{}}", "record.author"},
        {"{\"type\":\"notification\",\"id\":\"" ID "\",\"author\":\"pk.pkcert\",\"created\":\"2026-11-23T06:40:00Z\",\"tlp\":\"green\",\"body\":{}}", "record.created"},
        {"{\"type\":\"notification\",\"id\":\"" ID "\",\"author\":\"pk.pkcert\",\"created\":\"2026-11-23T06:40:00.000+01:00\",\"tlp\":\"green\",\"body\":{}}", "record.created"},
        {"{\"id\":\"" ID "\",\"author\":\"pk.pkcert\",\"created\":\"2026-11-23T06:40:00.000Z\",\"tlp\":\"green\",\"body\":{}}", "record.type: missing"},
        {"{" BASE ",\"tlp\":\"green\",\"body\":{},\"to\":[]}", "record.to: want a non-empty array"},
        {"{" BASE ",\"tlp\":\"green\",\"body\":{},\"to\":\"in\"}", "record.to: want a non-empty array"},
        {"{" BASE ",\"tlp\":\"green\",\"body\":{},\"to\":[\"in\",\"in\"]}", "repeated"},
        {"{" BASE ",\"tlp\":\"green\",\"body\":{},\"to\":[\"IN\"]}", "record.to[0]"},
        {"{" BASE ",\"tlp\":\"green\",\"body\":{},\"refs\":[\"nope\"]}", "record.refs[0]"},
        {"{" BASE ",\"tlp\":\"green\",\"body\":{},\"refs\":[5]}", "not a string"},
        {"{" BASE ",\"tlp\":\"green\",\"body\":{},\"tlp\":\"red\"}", "duplicate"},
        {"{" BASE ",\"tlp\":\"green\",\"body\":{}", "not JSON"},
    };
    for (size_t i = 0; i < CY_ARRAY_LEN(bad); i++) {
        char *env = raw_envelope(bad[i].payload, COMITY_RECORD_PAYLOAD_TYPE);
        comity_record *r;
        comity_err rc = comity_record_parse(env, strlen(env), &r, E);
        if (rc != COMITY_ERR_INVALID || !strstr(tu_last_err.msg, bad[i].why))
            fail_msg("payload %zu: got %d '%s', want '%s'", i, rc, tu_last_err.msg, bad[i].why);
        comity_free(env);
    }
    /* the good base passes */
    char *env = raw_envelope("{" BASE ",\"tlp\":\"clear\",\"refs\":[\"" ID "\"],\"body\":{\"a\":[1,2]}}",
                             COMITY_RECORD_PAYLOAD_TYPE);
    comity_record *r;
    TU_OK(comity_record_parse(env, strlen(env), &r, E));
    assert_string_equal(comity_record_ref(r, 0), ID);
    comity_record_free(r);
    comity_free(env);
    /* wrong payloadType */
    env = raw_envelope("{}", "application/json");
    TU_FAILS(comity_record_parse(env, strlen(env), &r, E), COMITY_ERR_INVALID, "payloadType");
    comity_free(env);
    /* an oversize payload */
    size_t big = COMITY_RECORD_MAX + 10;
    char *payload = malloc(big + 1);
    memset(payload, ' ', big);
    payload[0] = '{';
    payload[big - 1] = '}';
    payload[big] = 0;
    env = raw_envelope(payload, COMITY_RECORD_PAYLOAD_TYPE);
    TU_FAILS(comity_record_parse(env, strlen(env), &r, E), COMITY_ERR_TOOBIG, "over the cap");
    comity_free(env);
    free(payload);
}

/* The body schema's version (docs/federation.md, "Versions"): absent is
 * version 1; 2..COMITY_RECORD_SCHEMA_MAX is written as a plain integer;
 * any other spelling, 1 included, is refused; comity_record_sign writes
 * it only above 1, so every record of before stays as it was. */
static void test_schema(void **state)
{
    (void)state;
    struct { const char *v, *why; } bad[] = {
        {"1", "record.schema"},    {"0", "record.schema"},   {"-2", "record.schema"},
        {"2.0", "record.schema"},  {"2e0", "record.schema"}, {"02", "not JSON"},
        {"10000", "record.schema"}, {"\"2\"", "record.schema"}, {"null", "record.schema"},
        {"[2]", "record.schema"},  {"9999999999", "record.schema"},
    };
    char payload[512];
    comity_record *r;
    for (size_t i = 0; i < CY_ARRAY_LEN(bad); i++) {
        snprintf(payload, sizeof payload, "{" BASE ",\"schema\":%s,\"tlp\":\"green\",\"body\":{}}",
                 bad[i].v);
        char *env = raw_envelope(payload, COMITY_RECORD_PAYLOAD_TYPE);
        comity_err rc = comity_record_parse(env, strlen(env), &r, E);
        if (rc != COMITY_ERR_INVALID || !strstr(tu_last_err.msg, bad[i].why))
            fail_msg("schema %s: got %d '%s', want '%s'", bad[i].v, rc, tu_last_err.msg,
                     bad[i].why);
        comity_free(env);
    }
    const char *good[] = {"2", "17", "9999"};
    const int want[] = {2, 17, COMITY_RECORD_SCHEMA_MAX};
    for (size_t i = 0; i < CY_ARRAY_LEN(good); i++) {
        snprintf(payload, sizeof payload, "{" BASE ",\"schema\":%s,\"tlp\":\"green\",\"body\":{}}",
                 good[i]);
        char *env = raw_envelope(payload, COMITY_RECORD_PAYLOAD_TYPE);
        TU_OK(comity_record_parse(env, strlen(env), &r, E));
        assert_int_equal(comity_record_schema(r), want[i]);
        comity_record_free(r);
        comity_free(env);
    }
    /* absent: version 1 */
    char *env = raw_envelope("{" BASE ",\"tlp\":\"green\",\"body\":{}}", COMITY_RECORD_PAYLOAD_TYPE);
    TU_OK(comity_record_parse(env, strlen(env), &r, E));
    assert_int_equal(comity_record_schema(r), 1);
    comity_record_free(r);
    comity_free(env);
    /* signing: 0 and 1 leave the field out, 2 writes it, out of range refused */
    size_t el;
    for (int v = 0; v <= 2; v++) {
        comity_record_params p = {.type = "note", .schema = v};
        TU_OK(comity_record_sign(alice, &p, "{}", 2, &env, &el, E));
        TU_OK(comity_record_parse(env, el, &r, E));
        assert_int_equal(comity_record_schema(r), v == 2 ? 2 : 1);
        size_t pl;
        const char *pay = comity_record_payload(r, &pl);
        char text[1024];
        snprintf(text, sizeof text, "%.*s", (int)pl, pay);
        assert_int_equal(strstr(text, "\"schema\":2,") != NULL, v == 2);
        comity_record_free(r);
        comity_free(env);
    }
    comity_record_params p = {.type = "note", .schema = COMITY_RECORD_SCHEMA_MAX + 1};
    TU_FAILS(comity_record_sign(alice, &p, "{}", 2, &env, &el, E), COMITY_ERR_USAGE, "schema");
    p.schema = -1;
    TU_FAILS(comity_record_sign(alice, &p, "{}", 2, &env, &el, E), COMITY_ERR_USAGE, "schema");
}

static void test_sign_refusals(void **state)
{
    (void)state;
    char *env;
    size_t el;
    comity_record_params p = {.type = "note"};
    TU_FAILS(comity_record_sign(alice, &p, "[1]", 3, &env, &el, E), COMITY_ERR_INVALID, "not a JSON object");
    TU_FAILS(comity_record_sign(alice, &p, "{", 1, &env, &el, E), COMITY_ERR_INVALID, "not JSON");
    p.type = "Bad";
    TU_FAILS(comity_record_sign(alice, &p, "{}", 2, &env, &el, E), COMITY_ERR_USAGE, "type");
    p.type = "note";
    p.tlp = "white";
    TU_FAILS(comity_record_sign(alice, &p, "{}", 2, &env, &el, E), COMITY_ERR_USAGE, "tlp");
    p.tlp = NULL;
    const char *to[] = {"not a party"};
    p.to = to;
    p.nto = 1;
    TU_FAILS(comity_record_sign(alice, &p, "{}", 2, &env, &el, E), COMITY_ERR_INVALID, "record.to[0]");
}

/* A record's `created` against a clock and two bounds (the node's intake
 * rule; docs/node.md). */
static void test_created_bounds(void **state)
{
    (void)state;
    const int64_t M = 60 * 1000, AHEAD = COMITY_RECORD_CREATED_AHEAD_MS,
                  BEHIND = COMITY_RECORD_CREATED_BEHIND_MS;
    assert_int_equal(AHEAD, 5 * M);
    assert_int_equal(BEHIND, 10 * M);
    static const struct {
        const char *created;
        int ok;
        const char *needle;
    } cases[] = {
        {"0001-01-01T00:00:00.000Z", 0, "created-behind allows at most 10m"},
        {"0000-01-01T00:00:00.000Z", 0, "created-behind"},
        {"9999-12-31T23:59:59.999Z", 0, "created-ahead allows at most 5m"},
        {"2026-11-23T08:49:00.000Z", 0, "is 11m behind this node's clock (2026-11-23T09:00:00.000Z)"},
        {"2026-11-23T09:06:00.000Z", 0, "record.created: 2026-11-23T09:06:00.000Z is 6m ahead"},
        {"2026-11-23T08:49:59.999Z", 0, "created-behind"},
        {"2026-11-23T09:05:00.001Z", 0, "created-ahead"},
        {"2026-11-23T08:50:00.000Z", 1, NULL}, /* at the bounds: taken */
        {"2026-11-23T09:05:00.000Z", 1, NULL},
        {"2026-11-23T09:00:00.000Z", 1, NULL},
        {"2026-11-23T08:51:00.000Z", 1, NULL},
        {"2026-11-23T09:04:00.000Z", 1, NULL},
    };
    const int64_t now = 1795424400000LL; /* 2026-11-23T09:00:00.000Z */
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        setenv("COMITY_FAKE_NOW", cases[i].created, 1);
        char *env;
        size_t el;
        comity_record_params p = {.type = "note"};
        TU_OK(comity_record_sign(alice, &p, "{}", 2, &env, &el, E));
        unsetenv("COMITY_FAKE_NOW");
        comity_record *r;
        TU_OK(comity_record_parse(env, el, &r, E));
        assert_string_equal(comity_record_created(r), cases[i].created);
        int64_t cms = 0; /* the same instant as a number */
        TU_OK(comity_time_parse(cases[i].created, &cms, E));
        assert_true(comity_record_created_ms(r) == cms);
        if (cases[i].ok) {
            TU_OK(comity_record_check_created(r, now, AHEAD, BEHIND, E));
        } else {
            TU_FAILS(comity_record_check_created(r, now, AHEAD, BEHIND, E),
                     COMITY_ERR_INVALID, cases[i].needle);
            assert_int_equal(comity_record_check_created(r, now, AHEAD, BEHIND, NULL),
                             COMITY_ERR_INVALID);
        }
        comity_record_free(r);
        comity_free(env);
    }
    /* other bounds: the same record by a wider and a narrower rule */
    setenv("COMITY_FAKE_NOW", "2026-11-23T08:30:00.000Z", 1);
    char *env;
    size_t el;
    comity_record_params p = {.type = "note"};
    TU_OK(comity_record_sign(alice, &p, "{}", 2, &env, &el, E));
    unsetenv("COMITY_FAKE_NOW");
    comity_record *r;
    TU_OK(comity_record_parse(env, el, &r, E));
    TU_OK(comity_record_check_created(r, now, AHEAD, 30 * M, E));
    TU_FAILS(comity_record_check_created(r, now, AHEAD, 29 * M, E), COMITY_ERR_INVALID,
             "30m behind");
    TU_FAILS(comity_record_check_created(r, now, -1, BEHIND, E), COMITY_ERR_USAGE, "negative");
    comity_record_free(r);
    comity_free(env);
}

/* Whom `to` addresses, and what a sealed record is sealed to (the
 * command's own copies of both are gone). */
static void test_addressing(void **state)
{
    (void)state;
    assert_true(comity_tlp_sealed("amber"));
    assert_true(comity_tlp_sealed("amber+strict"));
    assert_true(comity_tlp_sealed("red"));
    assert_false(comity_tlp_sealed("green"));
    assert_false(comity_tlp_sealed("clear"));
    assert_false(comity_tlp_sealed("AMBER"));
    assert_false(comity_tlp_sealed(NULL));

    assert_true(comity_record_addresses("in.cert", "in.cert"));
    assert_true(comity_record_addresses("in", "in.cert"));
    assert_true(comity_record_addresses("in", "in.mod.cert"));
    assert_false(comity_record_addresses("in", "ind.cert"));
    assert_false(comity_record_addresses("in.cert", "in.cert-in"));
    assert_false(comity_record_addresses("in.cert", "in"));
    assert_false(comity_record_addresses("in", "pk.cert"));

    const char *parties[] = {"in.cert", "in.mea", "in.mod", "pk.cert", "in.x"};
    const char *rcpts[] = {"age1a", "age1b", NULL, "age1p", "age1a"};
    const char **out = NULL;
    size_t n = 0;
    /* a bare state: each office with a recipient, once */
    const char *to1[] = {"in", "in.cert"};
    TU_OK(comity_record_seal_recipients(to1, 2, parties, rcpts, 5, &out, &n, E));
    assert_int_equal(n, 2);
    assert_string_equal(out[0], "age1a");
    assert_string_equal(out[1], "age1b");
    comity_free(out);
    /* a named party only itself */
    const char *to2[] = {"pk.cert"};
    TU_OK(comity_record_seal_recipients(to2, 1, parties, rcpts, 5, &out, &n, E));
    assert_int_equal(n, 1);
    assert_string_equal(out[0], "age1p");
    comity_free(out);
    /* nobody to seal to: refused, named */
    const char *to3[] = {"pk.cert", "in.mod"};
    TU_FAILS(comity_record_seal_recipients(to3, 2, parties, rcpts, 5, &out, &n, E),
             COMITY_ERR_NOKEY, "record.to[1]: no age recipient for 'in.mod'");
    assert_null(out);
    const char *to4[] = {"bd"};
    TU_FAILS(comity_record_seal_recipients(to4, 1, parties, rcpts, 5, &out, &n, E),
             COMITY_ERR_NOKEY, "'bd'");
    TU_FAILS(comity_record_seal_recipients(to4, 1, NULL, NULL, 0, &out, &n, E),
             COMITY_ERR_NOKEY, "'bd'");
    const char *to5[] = {"IN"};
    TU_FAILS(comity_record_seal_recipients(to5, 1, parties, rcpts, 5, &out, &n, E),
             COMITY_ERR_INVALID, "record.to[0]");
}

/* Who may see a record (record/visible.h): clear to anyone, green to any
 * principal, sealed levels to the author and the recipients (a bare state
 * standing for its offices), and the operator no more than any principal. */
static void test_visibility(void **state)
{
    (void)state;
    const char *to_cert[1] = {"in.cert-in"}, *to_in[1] = {"in"}, *to_op[1] = {"operator"};
    struct {
        const char *viewer, *tlp, *author;
        const char *const *to;
        size_t nto;
        bool sees;
    } c[] = {
        {NULL, "clear", "pk.mofa", NULL, 0, true},
        {NULL, "green", "pk.mofa", NULL, 0, false},
        {NULL, "amber", "pk.mofa", to_cert, 1, false},
        {"us.cisa", "green", "pk.mofa", NULL, 0, true},
        {"us.cisa", "amber", "pk.mofa", to_cert, 1, false},
        {"us.cisa", "red", "us.cisa", to_cert, 1, true},       /* author */
        {"in.cert-in", "red", "pk.mofa", to_cert, 1, true},    /* recipient */
        {"in.mea", "amber", "pk.mofa", to_in, 1, true},        /* office of a bare state */
        {"in.mea", "amber", "pk.mofa", to_cert, 1, false},     /* not another office */
        {"inx.a", "amber", "pk.mofa", to_in, 1, false},        /* not a prefix */
        {"operator", "amber", "pk.mofa", to_cert, 1, false},   /* the operator: no */
        {"operator", "amber+strict", "pk.mofa", to_cert, 1, false},
        {"operator", "green", "pk.mofa", NULL, 0, true},
        {"operator", "red", "pk.mofa", to_op, 1, true},        /* only if addressed */
        {"", "green", "pk.mofa", NULL, 0, false},              /* no name: anonymous */
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        cy_record_filter f;
        cy_record_visibility(c[i].viewer, &f);
        if (cy_record_filter_passes(&f, c[i].tlp, c[i].author, c[i].to, c[i].nto) != c[i].sees)
            fail_msg("case %zu: %s reading %s by %s", i, c[i].viewer ? c[i].viewer : "(anon)",
                     c[i].tlp, c[i].author);
    }
}

/* The rule id-author: ids made by comity_record_sign are bound to their
 * author, and no other: another author's id, a plain random uuid v4, and
 * an id whose bound half was changed in one bit are refused.  The vector
 * was computed independently (Python's hashlib over the bytes id.c says). */
static void test_id_author(void **state)
{
    (void)state;
    const uint8_t r[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    char u[CY_UUID_BUF];
    cy_record_uuid_from("in.cert", r, u);
    assert_string_equal(u, "01020304-0506-4708-9155-4420ce68c10a");
    assert_true(cy_record_id_bound("note--01020304-0506-4708-9155-4420ce68c10a", "in.cert"));
    assert_false(cy_record_id_bound("note--01020304-0506-4708-9155-4420ce68c10b", "in.cert"));
    assert_false(cy_record_id_bound("note--01020304-0506-4708-9155-4420ce68c10a", "in.mea"));
    assert_false(cy_record_id_bound("note--01020304-0506-4708-9155-4420ce68c10a", "in.cer"));
    assert_false(cy_record_id_bound("note--01020304-0506-4708-9155", "in.cert"));
    assert_false(cy_record_id_bound("note-01020304-0506-4708-9155-4420ce68c10a", "in.cert"));
    assert_false(cy_record_id_bound(NULL, "in.cert"));
    /* the variant bits are set, whatever the hash gave: a uuid v4 */
    for (int i = 0; i < 64; i++) {
        cy_record_uuid_new("pk.pkcert", u);
        assert_true(cy_uuid4_valid(u, strlen(u)));
        char id[64];
        snprintf(id, sizeof id, "note--%s", u);
        assert_true(cy_record_id_bound(id, "pk.pkcert"));
        assert_false(cy_record_id_bound(id, "in.cert-in"));
    }
    /* a signed record passes; a random uuid v4 (no binding) fails about
     * always: 64 tries, each passing with odds 2^-62 */
    char *env;
    size_t el;
    comity_record_params p = {.type = "note"};
    TU_OK(comity_record_sign(alice, &p, "{}", 2, &env, &el, E));
    comity_record *rec;
    TU_OK(comity_record_parse(env, el, &rec, E));
    TU_OK(comity_record_check_id(rec, E));
    comity_record_free(rec);
    comity_free(env);
    int refused = 0;
    for (int i = 0; i < 64; i++) {
        char v4[CY_UUID_BUF], payload[512];
        cy_uuid4(v4);
        snprintf(payload, sizeof payload,
                 "{\"type\":\"note\",\"id\":\"note--%s\",\"author\":\"pk.pkcert\","
                 "\"created\":\"2026-11-23T09:00:00.000Z\",\"tlp\":\"green\",\"body\":{}}",
                 v4);
        char *renv = raw_envelope(payload, "application/vnd.comity.record+json");
        TU_OK(comity_record_parse(renv, strlen(renv), &rec, E));
        if (comity_record_check_id(rec, NULL) == COMITY_ERR_INVALID)
            refused++;
        if (i == 0)
            TU_FAILS(comity_record_check_id(rec, E), COMITY_ERR_INVALID, "id-author");
        comity_record_free(rec);
        comity_free(renv);
    }
    assert_int_equal(refused, 64);
}

/* Which user of an office signed (record/signer.h; docs/federation.md,
 * section 1): the right key by keyid, a revoked user's records before and
 * after the revocation, the office's other user and own key untouched, an
 * unknown key refused, the users read only when the office did not sign. */
static int loads;

/* env with its signature's keyid replaced by eve's key's (malloc'd). */
static char *tamper_keyid(const char *env)
{
    json_t *j = json_loads(env, 0, NULL);
    assert_non_null(j);
    char id[9];
    snprintf(id, sizeof id, "%08x", (unsigned)comity_vkey_id(ve));
    json_object_set_new(json_array_get(json_object_get(j, "signatures"), 0), "keyid",
                        json_string(id));
    char *out = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    return out;
}

static comity_err count_loads(void *ctx, const cy_signer_user **users, size_t *n,
                              comity_error *err)
{
    (void)err;
    const cy_signer_user *const *u = ctx;
    loads++;
    *users = *u;
    *n = 2;
    return COMITY_OK;
}

/* The revocation rule alone (record/signer.h): created and W at their
 * boundaries, W unknown (0) on either side or both. */
static void test_revocation_rule(void **state)
{
    (void)state;
    /* created: strictly before the revocation's */
    assert_true(cy_signed_before_revocation(999, 10, 1000, 11));
    assert_false(cy_signed_before_revocation(1000, 10, 1000, 11));
    assert_false(cy_signed_before_revocation(1001, 10, 1000, 11));
    /* W: strictly before the revocation's */
    assert_false(cy_signed_before_revocation(999, 11, 1000, 11));
    assert_false(cy_signed_before_revocation(999, 12, 1000, 11));
    /* unknown W: later than every known one */
    assert_false(cy_signed_before_revocation(999, 0, 1000, 11));  /* r not witnessed */
    assert_true(cy_signed_before_revocation(999, 10, 1000, 0));   /* v not witnessed */
    assert_true(cy_signed_before_revocation(999, 0, 1000, 0));    /* neither: created */
    assert_false(cy_signed_before_revocation(1000, 0, 1000, 0));
    assert_false(cy_signed_before_revocation(1000, 10, 1000, 0)); /* created still */
    /* at the origin: after every revocation held */
    assert_false(cy_signed_before_revocation(999, CY_SIGNER_AT_ORIGIN, 1000, 0));
    assert_false(cy_signed_before_revocation(999, CY_SIGNER_AT_ORIGIN, 1000, 11));
}

/* An office's or a state key's revocation (cy_revocation_check, which a
 * user's goes through too): the rule's answer, and a refusal naming the
 * key, the revocation's time and W, and the record's created and W. */
static void test_revocation_check(void **state)
{
    (void)state;
    char *env = sign_rec(alice, "notification", "green", NULL, 0, "{}");
    comity_record *r = NULL;
    TU_OK(comity_record_parse(env, strlen(env), &r, E));
    int64_t at = comity_record_created_ms(r);
    comity_error e = {0};
    /* revoked after created, and witnessed after the record: valid */
    TU_OK(cy_revocation_check(r, 5000, "pk.pkcert (the office itself)", at + 1, NULL, 6000, E));
    /* not witnessed yet: created decides */
    TU_OK(cy_revocation_check(r, 5000, "pk.pkcert (the office itself)", at + 1, NULL, 0, E));
    /* created before, but logged at its origin after the revocation was
     * witnessed: refused, both W named */
    assert_int_equal(cy_revocation_check(r, 6000, "pk.pkcert (the office itself)", at + 1, NULL,
                                         5000, &e),
                     COMITY_ERR_VERIFY);
    assert_non_null(strstr(e.msg, "signed by pk.pkcert (the office itself), revoked at "));
    assert_non_null(strstr(e.msg, "(the revocation's W 1970-01-01T00:00:05"));
    assert_non_null(strstr(e.msg, "its W 1970-01-01T00:00:06"));
    assert_non_null(strstr(e.msg, comity_record_created(r)));
    /* the record not witnessed, the revocation witnessed: refused */
    assert_int_equal(cy_revocation_check(r, 0, "pk's state key", at + 1, NULL, 5000, &e),
                     COMITY_ERR_VERIFY);
    assert_non_null(strstr(e.msg, "its W unknown"));
    /* revoked at created: refused whatever W; a reason is named */
    assert_int_equal(cy_revocation_check(r, 1, "pk's state key", at, "rotated", 0, &e),
                     COMITY_ERR_VERIFY);
    assert_non_null(strstr(e.msg, "(rotated; the revocation's W unknown)"));
    /* logged at the origin now: after every revocation held */
    assert_int_equal(cy_revocation_check(r, CY_SIGNER_AT_ORIGIN, "pk's state key", at + 1, NULL,
                                         0, &e),
                     COMITY_ERR_VERIFY);
    assert_non_null(strstr(e.msg, "logged here now"));
    comity_record_free(r);
    comity_free(env);
}

static void test_signer(void **state)
{
    (void)state;
    comity_key *victor = NULL, *mallory = NULL;
    comity_vkey *vv = NULL;
    TU_OK(comity_key_generate("pk.pkcert", &victor, E));
    TU_OK(comity_key_generate("pk.pkcert", &mallory, E));
    const char *t = comity_key_vkey(victor);
    TU_OK(comity_vkey_parse(t, strlen(t), &vv, E));
    /* eve's key is user ursula's; alice's the office's own */
    cy_signer_user us[2] = {{ve, "ursula", -1, -1, NULL, 0}, {vv, "victor", -1, -1, NULL, 0}};
    const cy_signer_user *up = us;
    char *by_office = sign_rec(alice, "notification", "green", NULL, 0, "{}");
    char *by_ursula = sign_rec(eve, "notification", "green", NULL, 0, "{}");
    char *by_victor = sign_rec(victor, "notification", "green", NULL, 0, "{}");
    char *by_mallory = sign_rec(mallory, "notification", "green", NULL, 0, "{}");
    comity_record *ro, *ru, *rv, *rm;
    TU_OK(comity_record_parse(by_office, strlen(by_office), &ro, E));
    TU_OK(comity_record_parse(by_ursula, strlen(by_ursula), &ru, E));
    TU_OK(comity_record_parse(by_victor, strlen(by_victor), &rv, E));
    TU_OK(comity_record_parse(by_mallory, strlen(by_mallory), &rm, E));
    const char *who = "x";
    /* the office's own key: no user, and the users are not read */
    loads = 0;
    TU_OK(cy_record_signer(ro, va, count_loads, &up, &who, E));
    assert_null(who);
    assert_int_equal(loads, 0);
    /* a user's key, found by its keyid */
    TU_OK(cy_record_signer(ru, va, count_loads, &up, &who, E));
    assert_string_equal(who, "ursula");
    assert_int_equal(loads, 1);
    TU_OK(comity_record_signer(rv, va, us, 2, &who, E));
    assert_string_equal(who, "victor");
    /* a key the office does not list: refused, its keyid named */
    TU_FAILS(comity_record_signer(rm, va, us, 2, &who, E), COMITY_ERR_VERIFY,
             "neither pk.pkcert's key nor one of its users'");
    /* without the users, ursula's record is no office's */
    TU_FAILS(comity_record_signer(ru, va, NULL, 0, &who, E), COMITY_ERR_VERIFY, "neither");
    int64_t at = comity_record_created_ms(ru);
    /* ursula revoked after her record was created: it stays valid */
    us[0].revoked_ms = at + 1;
    us[0].reason = "left the office";
    TU_OK(comity_record_signer(ru, va, us, 2, &who, E));
    assert_string_equal(who, "ursula");
    /* revoked at or before its created: refused, naming her and why */
    us[0].revoked_ms = at;
    TU_FAILS(comity_record_signer(ru, va, us, 2, &who, E), COMITY_ERR_VERIFY,
             "user 'ursula', revoked at");
    assert_non_null(strstr(tu_last_err.msg, "left the office"));
    us[0].revoked_ms = at - 60000;
    TU_FAILS(comity_record_signer(ru, va, us, 2, &who, E), COMITY_ERR_VERIFY, "ursula");
    /* victor and the office's key are untouched by her revocation */
    TU_OK(comity_record_signer(rv, va, us, 2, &who, E));
    assert_string_equal(who, "victor");
    TU_OK(comity_record_signer(ro, va, us, 2, &who, E));
    assert_null(who);
    /* a key valid only from after the record */
    us[1].valid_from_ms = comity_record_created_ms(rv) + 1;
    TU_FAILS(comity_record_signer(rv, va, us, 2, &who, E), COMITY_ERR_VERIFY,
             "user 'victor', whose key is valid from");
    us[1].valid_from_ms = comity_record_created_ms(rv);
    TU_OK(comity_record_signer(rv, va, us, 2, &who, E));
    /* by the witnesses' times: revoked after created (us[0].revoked_ms =
     * at + 1), so W decides */
    us[0].revoked_ms = at + 1;
    bool rvk = false;
    us[0].revoked_w_ms = 5000; /* the revocation witnessed at 5 s */
    TU_OK(cy_record_signer_at(ru, va, 4999, count_loads, &up, &who, &rvk, E));
    assert_string_equal(who, "ursula");
    assert_false(rvk);
    TU_FAILS(cy_record_signer_at(ru, va, 5000, count_loads, &up, &who, &rvk, E),
             COMITY_ERR_VERIFY, "user 'ursula', revoked at");
    assert_true(rvk);
    assert_non_null(strstr(tu_last_err.msg, "the revocation's W 1970-01-01T00:00:05"));
    assert_non_null(strstr(tu_last_err.msg, "its W 1970-01-01T00:00:05"));
    /* the record not witnessed yet: later than the witnessed revocation
     * (also offline, comity_record_signer) */
    TU_FAILS(cy_record_signer_at(ru, va, 0, count_loads, &up, &who, &rvk, E),
             COMITY_ERR_VERIFY, "W unknown");
    TU_FAILS(comity_record_signer(ru, va, us, 2, &who, E), COMITY_ERR_VERIFY, "ursula");
    /* the revocation not witnessed yet: no effect on a witnessed record */
    us[0].revoked_w_ms = 0;
    TU_OK(cy_record_signer_at(ru, va, 4999, count_loads, &up, &who, &rvk, E));
    assert_string_equal(who, "ursula");
    /* at the origin: logged after every revocation held, whatever created */
    TU_FAILS(cy_record_signer_at(ru, va, CY_SIGNER_AT_ORIGIN, count_loads, &up, &who, &rvk, E),
             COMITY_ERR_VERIFY, "logged here now");
    assert_true(rvk);
    /* victor, not revoked, is signed for at the origin */
    TU_OK(cy_record_signer_at(rv, va, CY_SIGNER_AT_ORIGIN, count_loads, &up, &who, &rvk, E));
    assert_string_equal(who, "victor");
    us[0].revoked_ms = -1;
    /* a user's key under another office's name never verifies */
    cy_signer_user wrong[1] = {{vb, "bob", -1, -1, NULL, 0}};
    TU_FAILS(comity_record_signer(ru, va, wrong, 1, &who, E), COMITY_ERR_VERIFY, NULL);
    /* the office's key whatever the keyid says (keyids are hints) */
    comity_record *rt;
    char *hinted = tamper_keyid(by_office);
    TU_OK(comity_record_parse(hinted, strlen(hinted), &rt, E));
    TU_OK(comity_record_signer(rt, va, us, 2, &who, E));
    assert_null(who);
    comity_record_free(rt);
    free(hinted);
    comity_record_free(ro);
    comity_record_free(ru);
    comity_record_free(rv);
    comity_record_free(rm);
    comity_free(by_office);
    comity_free(by_ursula);
    comity_free(by_victor);
    comity_free(by_mallory);
    comity_vkey_free(vv);
    comity_key_free(victor);
    comity_key_free(mallory);
}

/* ---- the refs scanner (record/refs_scan.h) against the parser ------------------------ */

/* Scans env[0..len) from a copy of exactly len bytes (so that a read past
 * it is caught) and, when the scanner answers and the parser accepts,
 * checks that they name the same refs in the same order.  The scanner's
 * answer. */
static comity_err scan_vs_parse(cy_refs_scan *sc, const char *env, size_t len)
{
    char *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    memcpy(copy, env, len);
    comity_err rc = cy_refs_scan_envelope(sc, copy, len);
    free(copy);
    comity_record *r = NULL;
    if (!rc && comity_record_parse(env, len, &r, NULL) == COMITY_OK) {
        assert_int_equal(sc->n, comity_record_refs_count(r));
        for (size_t i = 0; i < sc->n; i++)
            assert_string_equal(sc->refs[i], comity_record_ref(r, i));
        comity_record_free(r);
    }
    return rc;
}

#define RID1 "notification--0b6e1b4a-3b7c-4d2e-9f1a-2c3d4e5f6a7b"
#define RID2 "ack--1b6e1b4a-3b7c-4d2e-9f1a-2c3d4e5f6a7b"
#define RID3 "reply--2b6e1b4a-3b7c-4d2e-af1a-2c3d4e5f6a7b"
#define RBASE "\"type\":\"note\",\"id\":\"note--3b6e1b4a-3b7c-4d2e-9f1a-2c3d4e5f6a7b\",\"author\":\"pk.pkcert\",\"created\":\"2026-11-23T06:40:00.000Z\",\"tlp\":\"green\""

static void test_refs_scan_matches(void **state)
{
    (void)state;
    cy_refs_scan sc = {0};
    /* read by the scanner: the parser's refs, in order */
    struct { const char *payload; size_t n; const char *first; } good[] = {
        {"{" RBASE ",\"body\":{}}", 0, NULL},
        {"{" RBASE ",\"refs\":[\"" RID1 "\"],\"body\":{}}", 1, RID1},
        {"{\"refs\" : [ \"" RID3 "\" ,\n\"" RID1 "\",\t\"" RID2 "\" ] , " RBASE ",\"body\":{}}", 3,
         RID3},
        /* refs inside the body or inside a string are not the record's */
        {"{" RBASE ",\"body\":{\"refs\":[\"" RID1 "\"],\"s\":\"\\\"refs\\\":[\\\"" RID2
         "\\\"] \\\\\",\"a\":[{\"refs\":[1,{}]},[],-1.5e3,true,null]},\"refs\":[\"" RID2 "\"]}",
         1, RID2},
        {"{" RBASE ",\"body\":{\"refs\":[\"" RID1 "\"]}}", 0, NULL},
        {"  {" RBASE ",\"body\":{ \"x\" : [ ] } }  ", 0, NULL},
    };
    for (size_t i = 0; i < CY_ARRAY_LEN(good); i++) {
        char *env = raw_envelope(good[i].payload, COMITY_RECORD_PAYLOAD_TYPE);
        comity_record *r;
        TU_OK(comity_record_parse(env, strlen(env), &r, E));
        comity_record_free(r);
        if (scan_vs_parse(&sc, env, strlen(env)) != COMITY_OK)
            fail_msg("good %zu: the scanner cannot say", i);
        assert_int_equal(sc.n, good[i].n);
        if (good[i].first)
            assert_string_equal(sc.refs[0], good[i].first);
        /* no proper prefix scans (nor reads past its end) */
        for (size_t k = 0; k < strlen(env); k++)
            if (scan_vs_parse(&sc, env, k) == COMITY_OK)
                fail_msg("good %zu: its prefix of %zu bytes scans", i, k);
        comity_free(env);
    }
    /* what the scanner does not read plainly: it cannot say, whatever the
     * parser makes of it (an escaped key or ref the parser reads as such;
     * a repeated key; a ref not an id; a repeated ref) */
    const char *unsaid[] = {
        "{" RBASE ",\"r\\u0065fs\":[\"" RID1 "\"],\"body\":{}}",
        "{" RBASE ",\"refs\":[\"" RID1 "\\u0062\"],\"body\":{}}",
        "{" RBASE ",\"refs\":[\"" RID1 "\"],\"body\":{},\"refs\":[\"" RID2 "\"]}",
        "{" RBASE ",\"refs\":[\"nope\"],\"body\":{}}",
        "{" RBASE ",\"refs\":[\"" RID1 "\",\"" RID1 "\"],\"body\":{}}",
        "{" RBASE ",\"refs\":[],\"body\":{}}",
        "{" RBASE ",\"refs\":[5],\"body\":{}}",
        "{" RBASE ",\"refs\":\"" RID1 "\",\"body\":{}}",
        "{" RBASE ",\"body\":{}} x",
        "[\"refs\"]",
    };
    for (size_t i = 0; i < CY_ARRAY_LEN(unsaid); i++) {
        char *env = raw_envelope(unsaid[i], COMITY_RECORD_PAYLOAD_TYPE);
        if (scan_vs_parse(&sc, env, strlen(env)) != COMITY_ERR_INVALID)
            fail_msg("unsaid %zu: the scanner answered", i);
        comity_free(env);
    }
    /* the escaped key is the parser's refs: the fold asks the parser */
    char *env = raw_envelope(unsaid[0], COMITY_RECORD_PAYLOAD_TYPE);
    comity_record *r;
    TU_OK(comity_record_parse(env, strlen(env), &r, E));
    assert_int_equal(comity_record_refs_count(r), 1);
    comity_record_free(r);
    comity_free(env);
    /* the cap: COMITY_RECORD_MAX_REFS read, one more refused by both */
    for (size_t n = COMITY_RECORD_MAX_REFS; n <= COMITY_RECORD_MAX_REFS + 1; n++) {
        cy_buf b;
        cy_buf_init(&b, 1u << 20);
        assert_int_equal(cy_buf_printf(&b, "{" RBASE ",\"body\":{},\"refs\":["), COMITY_OK);
        for (size_t i = 0; i < n; i++)
            assert_int_equal(cy_buf_printf(&b, "%s\"ack--%08zx-0000-4000-8000-000000000000\"",
                                           i ? "," : "", i),
                             COMITY_OK);
        assert_int_equal(cy_buf_printf(&b, "]}"), COMITY_OK);
        size_t len;
        char *payload = (char *)cy_buf_detach(&b, &len);
        env = raw_envelope(payload, COMITY_RECORD_PAYLOAD_TYPE);
        comity_err rc = scan_vs_parse(&sc, env, strlen(env));
        assert_int_equal(rc, n == COMITY_RECORD_MAX_REFS ? COMITY_OK : COMITY_ERR_INVALID);
        if (!rc)
            assert_int_equal(sc.n, n);
        else
            TU_FAILS(comity_record_parse(env, strlen(env), &r, E), COMITY_ERR_TOOBIG, "refs");
        cy_free(payload);
        comity_free(env);
    }
    /* the envelope: an escape in the payload, a payload twice, none */
    const char *envs[] = {
        "{\"payload\":\"e30\\u003d\",\"payloadType\":\"x\",\"signatures\":[{\"sig\":\"AA==\"}]}",
        "{\"payload\":\"e30=\",\"payload\":\"e30=\",\"signatures\":[]}",
        "{\"payloadType\":\"x\",\"signatures\":[{\"sig\":\"AA==\"}]}",
        "{\"payload\":\"e30=\"",
        "",
    };
    for (size_t i = 0; i < CY_ARRAY_LEN(envs); i++)
        if (scan_vs_parse(&sc, envs[i], strlen(envs[i])) != COMITY_ERR_INVALID)
            fail_msg("envelope %zu: the scanner answered", i);
    /* records as comity signs them, with and without refs */
    const char *refs[] = {RID1, RID2};
    for (size_t n = 0; n <= 2; n++) {
        comity_record_params p = {.type = "note", .tlp = "green", .refs = refs, .nrefs = n};
        size_t el;
        const char *body = "{\"t\":\"a \\\"b\\\"\"}";
        TU_OK(comity_record_sign(alice, &p, body, strlen(body), &env, &el, E));
        assert_int_equal(scan_vs_parse(&sc, env, el), COMITY_OK);
        assert_int_equal(sc.n, n);
        comity_free(env);
    }
    cy_refs_scan_clear(&sc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_visibility),
        cmocka_unit_test(test_keyfile),       cmocka_unit_test(test_sign_verify),
        cmocka_unit_test(test_sealed),        cmocka_unit_test(test_payload_rules),
        cmocka_unit_test(test_sign_refusals),       cmocka_unit_test(test_verify_parsed),
        cmocka_unit_test(test_schema),
        cmocka_unit_test(test_addressing),
        cmocka_unit_test(test_created_bounds),
        cmocka_unit_test(test_id_author),
        cmocka_unit_test(test_signer),
        cmocka_unit_test(test_revocation_rule),
        cmocka_unit_test(test_revocation_check),
        cmocka_unit_test(test_refs_scan_matches),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
