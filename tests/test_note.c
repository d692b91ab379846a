/*
 * test_note.c: C2SP signed notes, verifier keys and signing keys, against
 * the public vectors in ../shared/vectors/tlog/signed-note-vectors.json
 * (the spec's example, Go x/mod's note tests, transparency-dev's cosignature
 * key) and against every way a note or key can be malformed.
 */
#include <stdlib.h>
#include <sys/stat.h>

#include <jansson.h>
#include <sodium.h>

#include "crypto/note.h"
#include "util/testutil.h"

static json_t *root;

/* The vectors array (borrowed from `root`, released at the end of main). */
static json_t *vectors(void)
{
    json_error_t je;
    if (!root)
        root = json_load_file(tu_shared("vectors/tlog/signed-note-vectors.json"), 0, &je);
    if (!root)
        fail_msg("vectors: %s", je.text);
    return json_object_get(root, "vectors");
}

static void test_vectors(void **state)
{
    (void)state;
    json_t *vs = vectors();
    size_t i, checked = 0;
    json_t *v;
    json_array_foreach(vs, i, v) {
        const char *vk = json_string_value(json_object_get(v, "vkey"));
        const char *note = json_string_value(json_object_get(v, "note"));
        const char *text = json_string_value(json_object_get(v, "text"));
        const char *expect = json_string_value(json_object_get(v, "expect"));
        const char *skey = json_string_value(json_object_get(v, "skey"));
        const char *idhex = json_string_value(json_object_get(v, "key_id_hex"));
        if (!vk)
            continue;
        comity_vkey *k = NULL;
        comity_err rc = comity_vkey_parse(vk, strlen(vk), &k, E);
        if (strncmp(expect, "reject vkey", 11) == 0) {
            assert_int_equal(rc, COMITY_ERR_INVALID);
            assert_null(k);
            checked++;
            continue;
        }
        TU_OK(rc);
        assert_string_equal(comity_vkey_text(k), vk);
        if (idhex) {
            char got[9];
            snprintf(got, sizeof got, "%08x", comity_vkey_id(k));
            assert_string_equal(got, idhex);
        }
        if (strstr(expect, "type 0x04"))
            assert_int_equal(comity_vkey_type(k), COMITY_NOTE_COSIG_V1);
        if (note) {
            char *t = NULL;
            size_t nv = 0;
            const comity_vkey *ks[] = {k};
            rc = comity_note_verify(note, strlen(note), ks, 1, &t, &nv, E);
            if (strncmp(expect, "valid", 5) == 0) {
                TU_OK(rc);
                assert_string_equal(t, text);
                assert_int_equal(nv, 1);
                comity_free(t);
            } else {
                assert_int_equal(rc, COMITY_ERR_VERIFY);
                assert_non_null(strstr(tu_last_err.msg, "no signature by a known key"));
            }
        }
        if (skey) {
            /* Go's deterministic Ed25519: our signature must be byte-identical */
            comity_nkey *sk;
            TU_OK(comity_nkey_parse(skey, strlen(skey), &sk, E));
            assert_string_equal(comity_nkey_vkey(sk), vk);
            assert_string_equal(comity_nkey_text(sk), skey);
            const comity_nkey *sks[] = {sk};
            char *signed_note;
            size_t sl;
            TU_OK(comity_note_sign(text, strlen(text), sks, 1, &signed_note, &sl, E));
            assert_string_equal(signed_note, note);
            comity_free(signed_note);
            comity_nkey_free(sk);
        }
        comity_vkey_free(k);
        checked++;
    }
    assert_true(checked >= 6);
}

static void test_cosig_vector(void **state)
{
    (void)state;
    /* parse-only vector: keyid(4) || u64 BE timestamp || 64-byte signature */
    json_t *vs = vectors();
    size_t i;
    json_t *v;
    int seen = 0;
    json_array_foreach(vs, i, v) {
        const char *b = json_string_value(json_object_get(v, "cosignature_base64"));
        if (!b)
            continue;
        char note[512];
        snprintf(note, sizeof note, "x\n\n\xe2\x80\x94 remora.n621.de %s\n", b);
        cy_note n;
        TU_OK(cy_note_parse(note, strlen(note), &n, E));
        assert_int_equal(n.nsigs, 1);
        assert_int_equal(n.sigs[0].id, 0x646846b9);
        assert_int_equal(n.sigs[0].sig_len, 72);
        uint64_t t = 0;
        for (int k = 0; k < 8; k++)
            t = t << 8 | n.sigs[0].sig[k];
        assert_int_equal(t, 1727964367);
        seen = 1;
    }
    assert_true(seen);
}

static void test_cosign_roundtrip(void **state)
{
    (void)state;
    /* a 0x04 key's signature over "cosignature/v1\ntime T\n" || text */
    comity_nkey *w;
    TU_OK(comity_nkey_generate("witness.example/w1", COMITY_NOTE_COSIG_V1, &w, E));
    comity_nkey *l;
    TU_OK(comity_nkey_generate("log.example/l", COMITY_NOTE_ED25519, &l, E));
    const char *text = "log.example/l\n5\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n";
    const comity_nkey *ls[] = {l};
    char *note;
    size_t nl;
    TU_OK(comity_note_sign(text, strlen(text), ls, 1, &note, &nl, E));
    uint64_t t = 1700000000;
    char msg[256];
    int ml = snprintf(msg, sizeof msg, "cosignature/v1\ntime %llu\n%s", (unsigned long long)t, text);
    uint8_t sig[72];
    for (int k = 0; k < 8; k++)
        sig[k] = (uint8_t)(t >> (56 - 8 * k));
    crypto_sign_detached(sig + 8, NULL, (uint8_t *)msg, (size_t)ml, w->sk);
    cy_buf b;
    cy_buf_init(&b, 4096);
    TU_OK(cy_buf_append(&b, note, nl));
    TU_OK(cy_note_append_sig(&b, w->name, w->id, sig, sizeof sig));
    comity_vkey *wv, *lv;
    TU_OK(comity_vkey_parse(comity_nkey_vkey(w), strlen(comity_nkey_vkey(w)), &wv, E));
    TU_OK(comity_vkey_parse(comity_nkey_vkey(l), strlen(comity_nkey_vkey(l)), &lv, E));
    const comity_vkey *both[] = {lv, wv};
    size_t nv;
    TU_OK(comity_note_verify((char *)b.data, b.len, both, 2, NULL, &nv, E));
    assert_int_equal(nv, 2);
    /* a cosignature claiming another time than the one signed does not verify */
    cy_buf_free(&b);
    cy_buf_init(&b, 4096);
    sig[7] ^= 1;
    TU_OK(cy_buf_append(&b, note, nl));
    TU_OK(cy_note_append_sig(&b, w->name, w->id, sig, sizeof sig));
    TU_FAILS(comity_note_verify((char *)b.data, b.len, both, 2, NULL, &nv, E),
             COMITY_ERR_VERIFY, "does not verify");
    cy_buf_free(&b);
    comity_free(note);
    comity_vkey_free(wv);
    comity_vkey_free(lv);
    comity_nkey_free(w);
    comity_nkey_free(l);
}

static void test_bad_vkeys(void **state)
{
    (void)state;
    comity_nkey *k;
    TU_OK(comity_nkey_generate("pk.pkcert", COMITY_NOTE_ED25519, &k, E));
    const char *good = comity_nkey_vkey(k);
    comity_vkey *v;
    TU_OK(comity_vkey_parse(good, strlen(good), &v, E));
    comity_vkey_free(v);
    char buf[256];
    struct { const char *in, *why; } bad[] = {
        {"nokeyid", "found no '+'"},
        {"a+b", "found one '+'"},
        {"+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", "bad key name"},
        {"example.com/foo+530D903A+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", "8 lowercase hex"},
        {"example.com/foo+530d903+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", "8 lowercase hex"},
        {"example.com/foo+530d903b+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", "does not match"},
        {"example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2", "base64"},
        {"example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k\n", "base64"},
        {"exa mple+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", "bad key name"},
    };
    for (size_t i = 0; i < CY_ARRAY_LEN(bad); i++) {
        comity_err rc = comity_vkey_parse(bad[i].in, strlen(bad[i].in), &v, E);
        if (rc != COMITY_ERR_INVALID || !strstr(tu_last_err.msg, bad[i].why))
            fail_msg("vkey '%s': got %d '%s', want '%s'", bad[i].in, rc, tu_last_err.msg, bad[i].why);
    }
    /* a small-order Ed25519 point (the identity) with a correct key id */
    uint8_t zero[32] = {1};
    uint32_t id = cy_note_key_id("x", 1, 1, zero);
    uint8_t raw[33] = {1};
    memcpy(raw + 1, zero, 32);
    char b64[64];
    cy_b64_encode(b64, sizeof b64, raw, 33, CY_B64_STD);
    snprintf(buf, sizeof buf, "x+%08x+%s", id, b64);
    TU_FAILS(comity_vkey_parse(buf, strlen(buf), &v, E), COMITY_ERR_INVALID, "small order");
    comity_nkey_free(k);
}

static void test_bad_notes(void **state)
{
    (void)state;
    comity_nkey *k;
    TU_OK(comity_nkey_generate("example.com/l", COMITY_NOTE_ED25519, &k, E));
    comity_vkey *v;
    TU_OK(comity_vkey_parse(comity_nkey_vkey(k), strlen(comity_nkey_vkey(k)), &v, E));
    const comity_vkey *vs[] = {v};
    const comity_nkey *ks[] = {k};
    char *note;
    size_t nl;
    TU_FAILS(comity_note_sign("no newline", 10, ks, 1, &note, &nl, E), COMITY_ERR_INVALID, "newline");
    TU_FAILS(comity_note_sign("a\n\n", 3, ks, 1, &note, &nl, E), COMITY_ERR_INVALID, "empty line");
    TU_FAILS(comity_note_sign("a\tb\n", 4, ks, 1, &note, &nl, E), COMITY_ERR_INVALID, "control");
    TU_OK(comity_note_sign("hello\n\nworld\n", 13, ks, 1, &note, &nl, E));
    char *text;
    TU_OK(comity_note_verify(note, nl, vs, 1, &text, NULL, E));
    assert_string_equal(text, "hello\n\nworld\n"); /* split at the last empty line */
    comity_free(text);
    /* tampered text */
    char *t = strdup(note);
    t[0] = 'j';
    TU_FAILS(comity_note_verify(t, nl, vs, 1, NULL, NULL, E), COMITY_ERR_VERIFY, "does not verify");
    free(t);
    /* malformed shapes */
    struct { const char *in, *why; } bad[] = {
        {"text\n", "no empty line"},
        {"text\n\n", "no signature lines"},
        {"text\n\n- example.com/l AAAA\n", "does not start"},
        {"text\n\n\xe2\x80\x94 example.com/l\n", "no space"},
        {"text\n\n\xe2\x80\x94 example.com/l AAAAAA==\n", "too short"},
        {"text\n\n\xe2\x80\x94 example.com/l AAAAAAA\n", "base64"},
        {"te\xffxt\n\n\xe2\x80\x94 example.com/l AAAAAAA=\n", "UTF-8"},
        {"te\rxt\n\n\xe2\x80\x94 example.com/l AAAAAAA=\n", "control"},
        {"text\n\n\xe2\x80\x94 example.com/l AAAAAAA=", "newline"},
        {"text\n\n\xe2\x80\x94 a+b AAAAAAA=\n", "bad key name"},
    };
    for (size_t i = 0; i < CY_ARRAY_LEN(bad); i++) {
        comity_err rc = comity_note_verify(bad[i].in, strlen(bad[i].in), vs, 1, NULL, NULL, E);
        if (rc != COMITY_ERR_INVALID || !strstr(tu_last_err.msg, bad[i].why))
            fail_msg("note %zu: got %d '%s', want '%s'", i, rc, tu_last_err.msg, bad[i].why);
    }
    /* too many signatures */
    cy_buf b;
    cy_buf_init(&b, COMITY_NOTE_MAX);
    TU_OK(cy_buf_puts(&b, "t\n\n"));
    for (int i = 0; i <= COMITY_NOTE_MAX_SIGS; i++)
        TU_OK(cy_buf_puts(&b, "\xe2\x80\x94 other AAAAAAAAAAAA\n"));
    TU_FAILS(comity_note_verify((char *)b.data, b.len, vs, 1, NULL, NULL, E), COMITY_ERR_TOOBIG, "more than");
    cy_buf_free(&b);
    /* the key's name with another key id is an unknown signature: ignored */
    char other[512];
    const char *sigpart = strstr(note, "example.com/l ") + 14;
    uint8_t raw[68];
    size_t rl;
    TU_OK(cy_b64_decode(raw, sizeof raw, &rl, sigpart, strcspn(sigpart, "\n"), CY_B64_STD, E));
    raw[0] ^= 0xff;
    char b64[128];
    cy_b64_encode(b64, sizeof b64, raw, rl, CY_B64_STD);
    snprintf(other, sizeof other, "hello\n\nworld\n\n\xe2\x80\x94 example.com/l %s\n", b64);
    TU_FAILS(comity_note_verify(other, strlen(other), vs, 1, NULL, NULL, E), COMITY_ERR_VERIFY, "no signature by a known key");
    comity_free(note);
    comity_vkey_free(v);
    comity_nkey_free(k);
}

static void test_bad_skeys(void **state)
{
    (void)state;
    comity_nkey *k;
    const char *good = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
    TU_OK(comity_nkey_parse(good, strlen(good), &k, E));
    comity_nkey_free(k);
    struct { const char *in, *why; } bad[] = {
        {"PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz", "PRIVATE+KEY+"},
        {"PRIVATE+KEY+PeterNeumann+c74f20a4+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz", "does not match"},
        {"PRIVATE+KEY+PeterNeumann+c74f20a3+BYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz", "type"},
        {"PRIVATE+KEY+PeterNeumann+c74f20a3", "want"},
        {"PRIVATE+KEY+Peter Neumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz", "name"},
    };
    for (size_t i = 0; i < CY_ARRAY_LEN(bad); i++) {
        comity_err rc = comity_nkey_parse(bad[i].in, strlen(bad[i].in), &k, E);
        if (rc != COMITY_ERR_INVALID || !strstr(tu_last_err.msg, bad[i].why))
            fail_msg("skey %zu: got %d '%s', want '%s'", i, rc, tu_last_err.msg, bad[i].why);
    }
}

static void test_nkey_files(void **state)
{
    (void)state;
    char *dir = tu_tmpdir();
    char path[512];
    snprintf(path, sizeof path, "%s/log.key", dir);
    comity_nkey *k, *k2;
    TU_OK(comity_nkey_generate("example.org/log", COMITY_NOTE_ED25519, &k, E));
    TU_OK(comity_nkey_save(k, path, E));
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    TU_FAILS(comity_nkey_save(k, path, E), COMITY_ERR_EXISTS, "refusing");
    TU_OK(comity_nkey_load(path, &k2, E));
    assert_string_equal(comity_nkey_vkey(k2), comity_nkey_vkey(k));
    comity_nkey_free(k2);
    FILE *f = fopen(path, "w");
    fputs("PRIVATE+KEY+example.org/log+00000000+AAAA\n", f);
    fclose(f);
    TU_FAILS(comity_nkey_load(path, &k2, E), COMITY_ERR_INVALID, "log.key");
    assert_null(k2);
    snprintf(path, sizeof path, "%s/missing.key", dir);
    TU_FAILS(comity_nkey_load(path, &k2, E), COMITY_ERR_NOTFOUND, "missing.key");
    comity_nkey_free(k);
    tu_rmrf(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),        cmocka_unit_test(test_cosig_vector),
        cmocka_unit_test(test_cosign_roundtrip), cmocka_unit_test(test_bad_vkeys),
        cmocka_unit_test(test_bad_notes),      cmocka_unit_test(test_bad_skeys),
        cmocka_unit_test(test_nkey_files),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    json_decref(root);
    return rc;
}
