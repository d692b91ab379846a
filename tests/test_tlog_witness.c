/*
 * test_tlog_witness.c: cosignatures, the witness's add-checkpoint outcomes,
 * policies and receipts' parser.
 *
 * The witness must answer each case of c2sp.org/tlog-witness with the
 * spec's status (400, 403, 404, 409 with text/x.tlog.size and the size, 422,
 * 200); its cosignatures must verify under the crypto module's independent
 * note verifier; policies must refuse each malformed form and decide k-of-n
 * quorums; tlog-proof parsing must refuse each malformed form.
 */
#include <stdlib.h>

#include <sqlite3.h>

#include "tlog/tlog.h"
#include "util/testutil.h"

#define ORIGIN "example.org/w-log"

static comity_nkey *key_of(const char *name, int type)
{
    comity_nkey *k;
    TU_OK(comity_nkey_generate(name, type, &k, E));
    return k;
}

static comity_vkey *vkey_of(const comity_nkey *k)
{
    comity_vkey *v;
    TU_OK(comity_vkey_parse(comity_nkey_vkey(k), strlen(comity_nkey_vkey(k)), &v, E));
    return v;
}

/* A signed checkpoint for (origin, size, root) by key. */
static char *checkpoint(const comity_nkey *key, const char *origin, uint64_t size,
                        const uint8_t root[CY_HASH])
{
    cy_buf b;
    cy_buf_init(&b, 4096);
    assert_int_equal(cy_checkpoint_format(&b, origin, size, root), COMITY_OK);
    char *note;
    size_t len;
    const comity_nkey *keys[1] = {key};
    TU_OK(comity_note_sign((const char *)b.data, b.len, keys, 1, &note, &len, E));
    cy_buf_free(&b);
    return note;
}

struct fixture {
    char *dir, *wdir;
    comity_nkey *lkey, *wkey;
    comity_log *log;
    comity_witness *w;
};

static int status_of(struct fixture *f, const char *body, char **resp, const char **ct)
{
    size_t rl;
    return comity_witness_add_checkpoint(f->w, body, strlen(body), resp, &rl, ct);
}

/* "old N\n" + proof(old -> current) + "\n" + checkpoint */
static char *request(struct fixture *f, uint64_t old)
{
    char *body;
    size_t len;
    TU_OK(comity_log_witness_request(f->log, old, &body, &len, E));
    return body;
}

static void expect(struct fixture *f, const char *body, int want, const char *needle)
{
    char *resp;
    const char *ct;
    int st = status_of(f, body, &resp, &ct);
    if (st != want)
        fail_msg("status %d, want %d: %s", st, want, resp);
    if (needle && !strstr(resp, needle))
        fail_msg("response '%s' lacks '%s'", resp, needle);
    comity_free(resp);
}

static void append_n(struct fixture *f, int n)
{
    for (int i = 0; i < n; i++) {
        char e[32];
        snprintf(e, sizeof e, "w%d", i);
        uint64_t idx;
        TU_OK(comity_log_append(f->log, e, strlen(e), 0, &idx, E));
    }
    TU_OK(comity_log_checkpoint(f->log, NULL, NULL, E));
}

static void test_witness_statuses(void **state)
{
    (void)state;
    struct fixture f = {0};
    char *base = tu_tmpdir();
    char d1[4096], d2[4096];
    snprintf(d1, sizeof d1, "%s/log", base);
    snprintf(d2, sizeof d2, "%s/witness", base);
    f.lkey = key_of(ORIGIN, COMITY_NOTE_ED25519);
    f.wkey = key_of("witness.example.org", COMITY_NOTE_COSIG_V1);
    TU_OK(comity_log_create(d1, ORIGIN, f.lkey, NULL, E));
    TU_OK(comity_log_open(d1, COMITY_LOG_WRITE, f.lkey, &f.log, E));
    TU_OK(comity_witness_create(d2, E));
    TU_FAILS(comity_witness_open(d2, f.lkey, &f.w, E), COMITY_ERR_NOKEY, "0x04");
    TU_OK(comity_witness_open(d2, f.wkey, &f.w, E));
    append_n(&f, 5);

    /* unknown origin */
    char *body = request(&f, 0);
    expect(&f, body, 404, "unknown log origin");
    TU_OK(comity_witness_add_log(f.w, comity_nkey_vkey(f.lkey), E));

    /* malformed bodies */
    expect(&f, "old 01\n\n", 400, NULL);
    expect(&f, "old 0\n", 400, "empty line");
    expect(&f, "new 0\n\nx\n", 400, NULL);
    expect(&f, "old 0\nnot-a-hash\n\n", 400, "proof line 1");
    {
        cy_buf b;
        cy_buf_init(&b, 1 << 16);
        assert_int_equal(cy_buf_puts(&b, "old 1\n"), COMITY_OK);
        for (int i = 0; i < 64; i++)
            assert_int_equal(cy_buf_puts(&b, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n"),
                             COMITY_OK);
        assert_int_equal(cy_buf_puts(&b, "\n"), COMITY_OK);
        expect(&f, (const char *)b.data, 400, "63");
        cy_buf_free(&b);
    }

    /* not signed by the trusted key: another key of the same name */
    comity_nkey *other = key_of(ORIGIN, COMITY_NOTE_ED25519);
    uint8_t root[CY_HASH];
    uint64_t size;
    TU_OK(comity_log_read_checkpoint(f.log, NULL, NULL, &size, root, E));
    char *forged = checkpoint(other, ORIGIN, size, root);
    char req[8192];
    snprintf(req, sizeof req, "old 0\n\n%s", forged);
    expect(&f, req, 403, "no signature by a trusted key");
    /* a trusted signature that fails */
    char *cp = strstr(body, ORIGIN "\n");
    char *sig = strstr(cp, "\xe2\x80\x94 ");
    /* change a base64 digit in the middle of the signature into another */
    char *digit = sig + strlen(sig) / 2, was = *digit;
    *digit = was == 'A' ? 'B' : 'A';
    expect(&f, body, 403, "does not verify");
    *digit = was;

    /* old size above the checkpoint's */
    snprintf(req, sizeof req, "old 6\n\n%s", cp);
    expect(&f, req, 400, "exceeds");

    /* the first cosignature; it verifies under crypto's own verifier */
    char *resp;
    const char *ct;
    assert_int_equal(status_of(&f, body, &resp, &ct), 200);
    assert_string_equal(ct, "text/plain; charset=utf-8");
    comity_vkey *wv = vkey_of(f.wkey);
    comity_vkey *lv = vkey_of(f.lkey);
    {
        size_t cl = strlen(cp), rl = strlen(resp);
        char *joined = malloc(cl + rl + 1);
        memcpy(joined, cp, cl);
        memcpy(joined + cl, resp, rl + 1);
        const comity_vkey *both[2] = {lv, wv};
        size_t verified = 0;
        TU_OK(comity_note_verify(joined, cl + rl, both, 2, NULL, &verified, E));
        assert_int_equal(verified, 2);
        free(joined);
    }
    comity_free(resp);
    free(body);

    /* a stale old size: 409 with the witness's size */
    body = request(&f, 0);
    assert_int_equal(status_of(&f, body, &resp, &ct), 409);
    assert_string_equal(ct, "text/x.tlog.size");
    assert_string_equal(resp, "5\n");
    comity_free(resp);
    free(body);
    uint64_t ws;
    TU_OK(comity_witness_size(f.w, ORIGIN, &ws, E));
    assert_int_equal(ws, 5);

    /* consistent growth 5 -> 10, then the same checkpoint again */
    append_n(&f, 5);
    body = request(&f, 5);
    expect(&f, body, 200, "\xe2\x80\x94 witness.example.org ");
    free(body);
    body = request(&f, 10);
    expect(&f, body, 200, NULL);
    free(body);

    /* a fork of size 10: same key, other root */
    uint8_t fake[CY_HASH];
    memset(fake, 7, sizeof fake);
    char *fork = checkpoint(f.lkey, ORIGIN, 10, fake);
    snprintf(req, sizeof req, "old 10\n\n%s", fork);
    expect(&f, req, 422, "different roots");
    comity_free(fork);
    /* a proof that does not verify: 10 -> 12 with a bent hash */
    append_n(&f, 2);
    body = request(&f, 10);
    char *h = strchr(body, '\n') + 1, saved = h[5];
    h[5] = saved == 'A' ? 'B' : 'A';
    expect(&f, body, 422, "consistency");
    h[5] = saved;
    expect(&f, body, 200, NULL);
    free(body);
    TU_OK(comity_witness_size(f.w, ORIGIN, &ws, E));
    assert_int_equal(ws, 12);

    /* another trusted log without state: size 0 with a wrong root, and a
     * proof from old 0 */
    comity_nkey *k2 = key_of("example.org/second", COMITY_NOTE_ED25519);
    TU_OK(comity_witness_add_log(f.w, comity_nkey_vkey(k2), E));
    char *z = checkpoint(k2, "example.org/second", 0, fake);
    snprintf(req, sizeof req, "old 0\n\n%s", z);
    expect(&f, req, 422, "SHA-256");
    comity_free(z);
    z = checkpoint(k2, "example.org/second", 3, fake);
    snprintf(req, sizeof req, "old 0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n\n%s", z);
    expect(&f, req, 422, "empty proof");
    snprintf(req, sizeof req, "old 0\n\n%s", z);
    expect(&f, req, 200, NULL);
    comity_free(z);
    z = checkpoint(k2, "example.org/second", 0, cy_tlog_empty_root);
    snprintf(req, sizeof req, "old 3\n\n%s", z);
    expect(&f, req, 400, "exceeds"); /* never back to a smaller tree */
    comity_free(z);

    comity_free(forged);
    comity_vkey_free(wv);
    comity_vkey_free(lv);
    comity_nkey_free(other);
    comity_nkey_free(k2);
    comity_witness_free(f.w);
    comity_log_close(f.log);
    comity_nkey_free(f.lkey);
    comity_nkey_free(f.wkey);
    tu_rmrf(base);
    free(base);
}

/* Expands $L (log vkey), $A $B $C (witness vkeys) and $K in a template. */
static void expand(char *out, size_t cap, const char *tmpl, const char *l, const char *const *w,
                   const char *k)
{
    size_t o = 0;
    for (const char *p = tmpl; *p && o + 1 < cap; p++) {
        const char *v = NULL;
        if (*p == '$' && p[1]) {
            switch (p[1]) {
            case 'L': v = l; break;
            case 'A': v = w[0]; break;
            case 'B': v = w[1]; break;
            case 'C': v = w[2]; break;
            case 'K': v = k; break;
            }
        }
        if (!v) {
            out[o++] = *p;
            continue;
        }
        p++;
        size_t n = strlen(v);
        if (o + n + 1 >= cap)
            break;
        memcpy(out + o, v, n);
        o += n;
    }
    out[o] = 0;
}

static void test_cosign_and_policy(void **state)
{
    (void)state;
    comity_nkey *lk = key_of(ORIGIN, COMITY_NOTE_ED25519);
    comity_nkey *w[3] = {key_of("w1.example", COMITY_NOTE_COSIG_V1),
                         key_of("w2.example", COMITY_NOTE_COSIG_V1),
                         key_of("w3.example", COMITY_NOTE_COSIG_V1)};
    uint8_t root[CY_HASH];
    memset(root, 1, sizeof root);
    char *cp = checkpoint(lk, ORIGIN, 9, root);
    char *line;
    TU_FAILS(comity_cosign(lk, cp, strlen(cp), 0, &line, E), COMITY_ERR_USAGE, "0x04");

    /* the cosigned message, checked by hand: "cosignature/v1\ntime T\n" || text */
    TU_OK(comity_cosign(w[0], cp, strlen(cp), 1700000000, &line, E));
    cy_buf full;
    cy_buf_init(&full, 1 << 16);
    assert_int_equal(cy_buf_puts(&full, cp), COMITY_OK);
    assert_int_equal(cy_buf_puts(&full, line), COMITY_OK);
    cy_note *n = malloc(sizeof *n);
    TU_OK(cy_note_parse((const char *)full.data, full.len, n, E));
    assert_int_equal(n->nsigs, 2);
    const cy_note_sig *s = &n->sigs[1];
    assert_int_equal(s->sig_len, 72);
    uint64_t t = 0;
    for (int i = 0; i < 8; i++)
        t = t << 8 | s->sig[i];
    assert_int_equal(t, 1700000000);
    char msg[512];
    int ml = snprintf(msg, sizeof msg, "cosignature/v1\ntime 1700000000\n%.*s",
                      (int)n->text_len, n->text);
    comity_vkey *wv0 = vkey_of(w[0]);
    assert_int_equal(crypto_sign_verify_detached(s->sig + 8, (const uint8_t *)msg, (size_t)ml,
                                                 wv0->pk), 0);
    comity_free(line);

    /* w2 cosigns too; w3 does not */
    TU_OK(comity_cosign(w[1], cp, strlen(cp), 0, &line, E));
    assert_int_equal(cy_buf_puts(&full, line), COMITY_OK);
    comity_free(line);
    free(n);

    char text[8192];
    const char *tmpl = "# test\n"
                       "log $L\n"
                       "\twitness  a $A https://w1.example/\n"
                       "witness b $B\n"
                       "witness c $C\n"
                       "group two $K a b c\n"
                       "quorum two\n";
    const char *wvk[3] = {comity_nkey_vkey(w[0]), comity_nkey_vkey(w[1]), comity_nkey_vkey(w[2])};
    comity_policy *p;
    comity_checkpoint out;
    expand(text, sizeof text, tmpl, comity_nkey_vkey(lk), wvk, "2");
    TU_OK(comity_policy_parse(text, strlen(text), &p, E));
    TU_OK(comity_policy_check(p, (const char *)full.data, full.len, &out, E));
    assert_int_equal(out.size, 9);
    TU_FAILS(comity_policy_check(p, cp, strlen(cp), &out, E), COMITY_ERR_VERIFY, "quorum");
    comity_policy_free(p);
    expand(text, sizeof text, tmpl, comity_nkey_vkey(lk), wvk, "all");
    TU_OK(comity_policy_parse(text, strlen(text), &p, E));
    TU_FAILS(comity_policy_check(p, (const char *)full.data, full.len, &out, E),
             COMITY_ERR_VERIFY, "quorum 'two'");
    comity_policy_free(p);
    /* nested groups and quorum none */
    snprintf(text, sizeof text,
             "log %s\nwitness a %s\nwitness b %s\ngroup g1 any a\ngroup g2 all g1 b\nquorum g2\n",
             comity_nkey_vkey(lk), wvk[0], wvk[1]);
    TU_OK(comity_policy_parse(text, strlen(text), &p, E));
    TU_OK(comity_policy_check(p, (const char *)full.data, full.len, &out, E));
    comity_policy_free(p);
    snprintf(text, sizeof text, "log %s\nquorum none\n", comity_nkey_vkey(lk));
    TU_OK(comity_policy_parse(text, strlen(text), &p, E));
    TU_OK(comity_policy_check(p, cp, strlen(cp), &out, E));
    comity_policy_free(p);
    /* a receipt is never trusted on witnesses alone: some log key must sign */
    snprintf(text, sizeof text, "witness a %s\nquorum a\n", wvk[0]);
    TU_OK(comity_policy_parse(text, strlen(text), &p, E));
    TU_OK(comity_policy_check(p, (const char *)full.data, full.len, &out, E));
    TU_FAILS(comity_tlog_proof_verify("c2sp.org/tlog-proof@v1\nindex 0\n\nx\n", 30, "e", 1,
                                      NULL, 0, p, NULL, NULL, E),
             COMITY_ERR_USAGE, "no log key");
    comity_policy_free(p);
    /* a failing cosignature by a listed witness rejects the checkpoint */
    {
        char *bad = strdup((const char *)full.data);
        char *last = strrchr(bad, ' ') + 20;
        *last = *last == 'A' ? 'B' : 'A';
        snprintf(text, sizeof text, "log %s\nwitness a %s\nwitness b %s\nquorum a\n",
                 comity_nkey_vkey(lk), wvk[0], wvk[1]);
        TU_OK(comity_policy_parse(text, strlen(text), &p, E));
        TU_FAILS(comity_policy_check(p, bad, strlen(bad), &out, E), COMITY_ERR_VERIFY,
                 "does not verify");
        comity_policy_free(p);
        free(bad);
    }

    /* each way a policy can be wrong */
    struct {
        const char *fmt;
        const char *needle;
    } bad[] = {
        {"log $L\n", "no quorum"},
        {"log $L\nquorum none\nquorum none\n", "second quorum"},
        {"frob x\nquorum none\n", "unknown keyword"},
        {"quorum a\n", "not defined"},
        {"witness a $A\ngroup g 1 a b\nquorum g\n", "not defined"},
        {"witness a $A\ngroup g 2 a\nquorum g\n", "threshold"},
        {"witness a $A\ngroup g 0 a\nquorum g\n", "threshold"},
        {"witness a $A\ngroup g 01 a\nquorum g\n", "threshold"},
        {"witness a $A\ngroup g any a a\nquorum g\n", "twice"},
        {"witness a $A\nwitness a $B\nquorum a\n", "already defined"},
        {"witness none $A\nquorum none\n", "reserved"},
        {"witness a $A\ngroup g any none\nquorum g\n", "not defined"},
        {"witness a $A\nwitness b $A\nquorum a\n", "duplicate witness"},
        {"log $L\nlog $L\nquorum none\n", "duplicate log"},
        {"log $A\nquorum none\n", "type 0x01"},
        {"witness a $L\nquorum a\n", "type 0x04"},
        {"witness a\nquorum none\n", "want 'witness"},
        {"group g any\nquorum none\n", "want 'group"},
        {"quorum none", "newline"},
        {"quorum none\r\n", "control character"},
        {"log not-a-key\nquorum none\n", "policy line 1"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        expand(text, sizeof text, bad[i].fmt, comity_nkey_vkey(lk), wvk, "");
        if (comity_policy_parse(text, strlen(text), &p, E) == COMITY_OK)
            fail_msg("accepted policy %zu: %s", i, text);
        if (!strstr(tu_last_err.msg, bad[i].needle))
            fail_msg("policy %zu: message '%s' lacks '%s'", i, tu_last_err.msg, bad[i].needle);
    }

    cy_buf_free(&full);
    comity_free(cp);
    comity_vkey_free(wv0);
    for (int i = 0; i < 3; i++)
        comity_nkey_free(w[i]);
    comity_nkey_free(lk);
}

static void test_proof_parser(void **state)
{
    (void)state;
    static cy_tlog_proof p;
    const char *good = "c2sp.org/tlog-proof@v1\nextra aGk=\nindex 3\n"
                       "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n\nexample.org/x\n4\n";
    TU_OK(cy_tlog_proof_parse(good, strlen(good), &p, E));
    assert_true(p.has_extra);
    assert_int_equal(p.extra_len, 2);
    assert_int_equal(p.index, 3);
    assert_int_equal(p.n, 1);
    assert_string_equal(p.note, "example.org/x\n4\n");
    struct {
        const char *s, *needle;
    } bad[] = {
        {"c2sp.org/tlog-proof@v2\nindex 1\n\nx\n", "first line"},
        {"c2sp.org/tlog-proof@v1\nindex 01\n\nx\n", "index"},
        {"c2sp.org/tlog-proof@v1\nindex -1\n\nx\n", "index"},
        {"c2sp.org/tlog-proof@v1\nextra !!\nindex 1\n\nx\n", "extra"},
        {"c2sp.org/tlog-proof@v1\nextra aG\xe9=\nindex 1\n\nx\n", "extra"},
        {"c2sp.org/tlog-proof@v1\nindex 1\nAAAA\n\nx\n", "proof line 1"},
        {"c2sp.org/tlog-proof@v1\nindex 1\n", "empty line"},
        {"c2sp.org/tlog-proof@v1\nindex 1\n\n", "no checkpoint"},
        {"c2sp.org/tlog-proof@v1", "first line"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        TU_FAILS(cy_tlog_proof_parse(bad[i].s, strlen(bad[i].s), &p, E), COMITY_ERR_INVALID,
                 bad[i].needle);
}

static void test_checkpoint_parser(void **state)
{
    (void)state;
    cy_checkpoint cp;
    const char *ok = "example.org/x\n4\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\next\n";
    TU_OK(cy_checkpoint_parse_text(ok, strlen(ok), &cp, E));
    assert_int_equal(cp.size, 4);
    struct {
        const char *s, *needle;
    } bad[] = {
        {"example.org/x\n4\n", "line 3"},
        {"\n4\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n", "line 1 is empty"},
        {"a b\n4\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n", "origin"},
        {"a+b\n4\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n", "origin"},
        {"o\n04\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n", "tree size"},
        {"o\n18446744073709551616\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n", "tree size"},
        {"o\n4\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU\n", "root hash"},
        {"o\n4\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFV=\n", "root hash"},
        /* libsodium 1.0.18 decodes bytes >= 0x80 as base64 digits (found by
         * fuzz_tlog_checkpoint) */
        {"o\n4\n47DEQpj8HBS\x9f+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n", "root hash"},
        {"o\n4\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n\n", "empty line"},
        {"o\n4\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\next", "newline"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        TU_FAILS(cy_checkpoint_parse_text(bad[i].s, strlen(bad[i].s), &cp, E),
                 COMITY_ERR_INVALID, bad[i].needle);
}

/* A witness made by d514d87, before witness.db had a schema version
 * (tests/data/legacy-d514d87): this build opens it as version 1 and keeps
 * what it remembered (the legacy log, cosigned at size 3). */
static void test_legacy_witness(void **state)
{
    (void)state;
    char *tmp = tu_tmpdir();
    char cmd[8192], db[4200];
    snprintf(db, sizeof db, "%s/witness.db", tmp);
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'",
             tu_src("tests/data/legacy-d514d87/witness/witness.db"), db);
    assert_int_equal(system(cmd), 0);
    comity_nkey *key = NULL;
    TU_OK(comity_nkey_load(tu_src("tests/data/legacy-d514d87/w.key"), &key, E));
    comity_witness *w = NULL;
    TU_OK(comity_witness_open(tmp, key, &w, E));
    uint64_t size = 0;
    TU_OK(comity_witness_size(w, "legacy.example/log", &size, E));
    assert_int_equal(size, 3);
    comity_witness_free(w);
    sqlite3 *h = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(h, "PRAGMA user_version", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 1);
    sqlite3_finalize(st);
    sqlite3_close(h);
    comity_nkey_free(key);
    tu_rmrf(tmp);
    free(tmp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_witness_statuses),
        cmocka_unit_test(test_legacy_witness),
        cmocka_unit_test(test_cosign_and_policy),
        cmocka_unit_test(test_proof_parser),
        cmocka_unit_test(test_checkpoint_parser),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
