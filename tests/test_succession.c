/*
 * test_succession.c: the log succession record and its rule
 * (docs/federation.md, section 11; src/record/succession.c), against a
 * real log: the body's refusals, who may sign one, the judgement of
 * checkpoints of the old log (at, before with and without a proof, beyond,
 * another root, a proof that does not lead to the cut), receipts under
 * the old and the new key, and the puller's page check capped at the cut
 * (src/sync/verify.c).  Following one on a node is tests/cli/log_succession.sh.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "sync/sync.h"
#include "util/testutil.h"

static char *dir;

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

struct fx {
    comity_nkey *lk, *nk;      /* the old log's key, the new log's */
    comity_log *log;
    comity_key *author, *state, *other_state, *not_state;
    char *env[6];
    uint64_t idx[6];
    size_t n;
    char *cp[6];               /* cp[i]: the checkpoint of size i (when taken) */
};

static void append(struct fx *f)
{
    comity_record_params p = {.type = "note", .tlp = "green"};
    size_t len;
    char body[32];
    snprintf(body, sizeof body, "{\"n\":%zu}", f->n);
    TU_OK(comity_record_sign(f->author, &p, body, strlen(body), &f->env[f->n], &len, E));
    comity_record *r;
    TU_OK(comity_record_parse(f->env[f->n], len, &r, E));
    const char *entry = comity_record_entry(r);
    TU_OK(comity_log_append(f->log, entry, strlen(entry), 1, &f->idx[f->n], E));
    comity_record_free(r);
    f->n++;
    size_t cl;
    TU_OK(comity_log_checkpoint(f->log, &f->cp[f->n], &cl, E));
}

static void fx_make(struct fx *f, size_t n)
{
    char ld[1100];
    snprintf(ld, sizeof ld, "%s/log", dir);
    TU_OK(comity_nkey_generate("comity.a.test", COMITY_NOTE_ED25519, &f->lk, E));
    TU_OK(comity_nkey_generate("comity.a2.test", COMITY_NOTE_ED25519, &f->nk, E));
    TU_OK(comity_log_create(ld, "comity.a.test", f->lk, NULL, E));
    TU_OK(comity_log_open(ld, COMITY_LOG_WRITE, f->lk, &f->log, E));
    TU_OK(comity_key_generate("pk.mofa", &f->author, E));
    TU_OK(comity_key_generate("pk", &f->state, E));
    TU_OK(comity_key_generate("pk", &f->other_state, E));
    TU_OK(comity_key_generate("pk.cert", &f->not_state, E));
    while (f->n < n)
        append(f);
}

static void fx_free(struct fx *f)
{
    for (size_t i = 0; i < 6; i++) {
        comity_free(f->env[i]);
        comity_free(f->cp[i]);
    }
    comity_log_close(f->log);
    comity_key_free(f->author);
    comity_key_free(f->state);
    comity_key_free(f->other_state);
    comity_key_free(f->not_state);
    comity_nkey_free(f->lk);
    comity_nkey_free(f->nk);
}

/* A succession by `by` with the cut `cut` (a checkpoint note).  OUT: the
 * envelope (comity_free). */
static char *succession(struct fx *f, const comity_key *by, const char *cut, const char *tlp)
{
    char *body = NULL, *env = NULL;
    size_t el;
    TU_OK(comity_succession_body(comity_nkey_vkey(f->lk), comity_nkey_vkey(f->nk),
                                 "https://a2.example:8443", cut, "lost with the disk", &body, E));
    comity_record_params p = {.type = COMITY_SUCCESSION_TYPE, .tlp = tlp};
    TU_OK(comity_record_sign(by, &p, body, strlen(body), &env, &el, E));
    comity_free(body);
    return env;
}

static comity_vkey *vkey_of(const comity_key *k)
{
    comity_vkey *v = NULL;
    const char *t = comity_key_vkey(k);
    TU_OK(comity_vkey_parse(t, strlen(t), &v, E));
    return v;
}

static void test_body(void **state)
{
    (void)state;
    struct fx f = {0};
    fx_make(&f, 2);
    const char *ov = comity_nkey_vkey(f.lk), *nv = comity_nkey_vkey(f.nk);
    char *b = NULL;
    TU_OK(comity_succession_body(ov, nv, "http://127.0.0.1:1", f.cp[2], NULL, &b, E));
    TU_OK(comity_succession_check_body(b, strlen(b), E));
    /* an unknown field, a field of another type */
    json_t *o = json_loads(b, 0, NULL);
    json_object_set_new(o, "extra", json_string("x"));
    char *t = json_dumps(o, 0);
    TU_FAILS(comity_succession_check_body(t, strlen(t), E), COMITY_ERR_INVALID,
             "unknown field 'extra'");
    free(t);
    json_object_del(o, "extra");
    json_object_set_new(o, "url", json_integer(1));
    t = json_dumps(o, 0);
    TU_FAILS(comity_succession_check_body(t, strlen(t), E), COMITY_ERR_INVALID, "url: not a string");
    free(t);
    json_decref(o);
    comity_free(b);
    TU_FAILS(comity_succession_check_body("[]", 2, E), COMITY_ERR_INVALID, "not a JSON object");
    /* the new log under the old origin, or the old key again */
    comity_nkey *same;
    TU_OK(comity_nkey_generate("comity.a.test", COMITY_NOTE_ED25519, &same, E));
    TU_FAILS(comity_succession_body(ov, comity_nkey_vkey(same), "http://x", f.cp[2], NULL, &b, E),
             COMITY_ERR_INVALID, "a new log is a new origin");
    TU_FAILS(comity_succession_body(ov, ov, "http://x", f.cp[2], NULL, &b, E), COMITY_ERR_INVALID,
             "a new log is a new origin");
    /* a cut signed by another key than the old one (the same origin) */
    char *forged = NULL;
    size_t fl;
    const comity_nkey *ks[1] = {same};
    char text[256];
    snprintf(text, sizeof text, "comity.a.test\n2\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n");
    TU_OK(comity_note_sign(text, strlen(text), ks, 1, &forged, &fl, E));
    TU_FAILS(comity_succession_body(ov, nv, "http://x", forged, NULL, &b, E), COMITY_ERR_VERIFY,
             "log-succession.checkpoint");
    comity_free(forged);
    comity_nkey_free(same);
    TU_FAILS(comity_succession_body(ov, nv, "ftp://x", f.cp[2], NULL, &b, E), COMITY_ERR_INVALID,
             "log-succession.url");
    TU_FAILS(comity_succession_body(ov, nv, "http://a b", f.cp[2], NULL, &b, E),
             COMITY_ERR_INVALID, "log-succession.url");
    TU_FAILS(comity_succession_body("nope", nv, "http://x", f.cp[2], NULL, &b, E),
             COMITY_ERR_INVALID, "old_log_vkey");
    char reason[COMITY_SUCCESSION_REASON_MAX + 2];
    memset(reason, 'r', sizeof reason - 1);
    reason[sizeof reason - 1] = '\0';
    TU_FAILS(comity_succession_body(ov, nv, "http://x", f.cp[2], reason, &b, E),
             COMITY_ERR_INVALID, "reason: over 200 bytes");
    fx_free(&f);
}

static void test_parse_and_signer(void **state)
{
    (void)state;
    struct fx f = {0};
    fx_make(&f, 2);
    comity_vkey *sv = vkey_of(f.state), *ov = vkey_of(f.other_state), *nv = vkey_of(f.author);
    char *env = succession(&f, f.state, f.cp[2], "green");
    comity_succession *s = NULL;
    const comity_vkey *good[1] = {sv}, *other[1] = {ov}, *wrong_name[1] = {nv};
    TU_OK(comity_succession_parse(env, strlen(env), good, 1, &s, E));
    assert_string_equal(comity_succession_get(s, "state"), "pk");
    assert_string_equal(comity_succession_get(s, "new_log_vkey"), comity_nkey_vkey(f.nk));
    assert_string_equal(comity_succession_get(s, "reason"), "lost with the disk");
    assert_null(comity_succession_get(s, "nothing"));
    assert_int_equal(comity_succession_size(s), 2);
    comity_succession_free(s);
    /* another key named pk: VERIFY; no key named pk: NOKEY */
    TU_FAILS(comity_succession_parse(env, strlen(env), other, 1, &s, E), COMITY_ERR_VERIFY,
             "the signature of pk");
    TU_FAILS(comity_succession_parse(env, strlen(env), wrong_name, 1, &s, E), COMITY_ERR_NOKEY,
             NULL);
    comity_free(env);
    /* an office is no state; another type; clear is fine */
    env = succession(&f, f.not_state, f.cp[2], "green");
    TU_FAILS(comity_succession_parse(env, strlen(env), NULL, 0, &s, E), COMITY_ERR_INVALID,
             "not by a state key");
    comity_free(env);
    env = succession(&f, f.state, f.cp[2], "clear");
    TU_OK(comity_succession_parse(env, strlen(env), NULL, 0, &s, E));
    comity_succession_free(s);
    comity_free(env);
    TU_FAILS(comity_succession_parse(f.env[0], strlen(f.env[0]), NULL, 0, &s, E),
             COMITY_ERR_INVALID, "a note record (want log-succession)");
    comity_vkey_free(sv);
    comity_vkey_free(ov);
    comity_vkey_free(nv);
    fx_free(&f);
}

static comity_checkpoint parse_cp(const char *note)
{
    comity_checkpoint cp;
    TU_OK(comity_checkpoint_parse(note, strlen(note), &cp, E));
    return cp;
}

static void test_judge(void **state)
{
    (void)state;
    struct fx f = {0};
    fx_make(&f, 4);
    char *env = succession(&f, f.state, f.cp[3], "green");
    comity_succession *s = NULL;
    TU_OK(comity_succession_parse(env, strlen(env), NULL, 0, &s, E));
    const char *st = NULL;
    comity_checkpoint at = parse_cp(f.cp[3]), beyond = parse_cp(f.cp[4]), before = parse_cp(f.cp[1]);
    TU_OK(comity_succession_judge(s, &at, NULL, 0, &st, E));
    assert_string_equal(st, "at");
    TU_FAILS(comity_succession_judge(s, &beyond, NULL, 0, &st, E), COMITY_ERR_DENIED,
             "log-succession (beyond)");
    /* the cut's size, another root */
    comity_checkpoint fork = at;
    fork.root[0] ^= 1;
    TU_FAILS(comity_succession_judge(s, &fork, NULL, 0, &st, E), COMITY_ERR_DENIED,
             "log-succession (not-consistent)");
    /* below: with the proof from its size to the cut's, without, with a wrong one */
    uint8_t *h = NULL;
    size_t nh = 0;
    TU_OK(comity_log_consistency(f.log, 1, 3, &h, &nh, E));
    TU_OK(comity_succession_judge(s, &before, h, nh, &st, E));
    assert_string_equal(st, "before");
    TU_OK(comity_succession_judge(s, &before, NULL, 0, &st, E));
    assert_non_null(strstr(st, "not proven"));
    comity_checkpoint other = before;
    other.root[5] ^= 1;
    TU_FAILS(comity_succession_judge(s, &other, h, nh, &st, E), COMITY_ERR_DENIED,
             "does not lead to the one of size 3");
    comity_free(h);
    comity_checkpoint elsewhere = at;
    snprintf(elsewhere.origin, sizeof elsewhere.origin, "comity.b.test");
    TU_FAILS(comity_succession_judge(s, &elsewhere, NULL, 0, &st, E), COMITY_ERR_USAGE,
             "not of the old log");
    comity_succession_free(s);
    comity_free(env);
    fx_free(&f);
}

static void test_receipts(void **state)
{
    (void)state;
    struct fx f = {0};
    fx_make(&f, 2);
    char *env = succession(&f, f.state, f.cp[2], "green");
    comity_succession *s = NULL;
    TU_OK(comity_succession_parse(env, strlen(env), NULL, 0, &s, E));
    char *p0 = NULL, *p2 = NULL;
    size_t l0, l2;
    TU_OK(comity_log_prove(f.log, f.idx[0], &p0, &l0, E)); /* against size 2: the cut */
    append(&f);
    TU_OK(comity_log_prove(f.log, f.idx[2], &p2, &l2, E)); /* against size 3: beyond */
    comity_record *r0, *r2;
    TU_OK(comity_record_parse(f.env[0], strlen(f.env[0]), &r0, E));
    TU_OK(comity_record_parse(f.env[2], strlen(f.env[2]), &r2, E));
    const char *e0 = comity_record_entry(r0), *e2 = comity_record_entry(r2), *st = NULL;
    uint64_t idx = 9;
    TU_OK(comity_succession_receipt(s, p0, l0, e0, strlen(e0), NULL, &st, &idx, NULL, E));
    assert_string_equal(st, "at");
    assert_int_equal(idx, 0);
    TU_FAILS(comity_succession_receipt(s, p2, l2, e2, strlen(e2), NULL, &st, NULL, NULL, E),
             COMITY_ERR_DENIED, "log-succession (beyond)");
    /* the receipt proves another entry: refused as any */
    TU_FAILS(comity_succession_receipt(s, p0, l0, e2, strlen(e2), NULL, &st, NULL, NULL, E),
             COMITY_ERR_VERIFY, NULL);
    comity_free(p0);
    comity_free(p2);
    /* a receipt of the new log: NOKEY, for the caller to check as any */
    char nd[1100];
    snprintf(nd, sizeof nd, "%s/log2", dir);
    comity_log *nl = NULL;
    TU_OK(comity_log_create(nd, "comity.a2.test", f.nk, NULL, E));
    TU_OK(comity_log_open(nd, COMITY_LOG_WRITE, f.nk, &nl, E));
    uint64_t ni;
    TU_OK(comity_log_append(nl, e0, strlen(e0), 1, &ni, E));
    TU_OK(comity_log_checkpoint(nl, NULL, NULL, E));
    char *pn = NULL;
    size_t ln;
    TU_OK(comity_log_prove(nl, ni, &pn, &ln, E));
    TU_FAILS(comity_succession_receipt(s, pn, ln, e0, strlen(e0), NULL, &st, NULL, NULL, E),
             COMITY_ERR_NOKEY, "under the new log key");
    comity_free(pn);
    comity_log_close(nl);
    comity_record_free(r0);
    comity_record_free(r2);
    comity_succession_free(s);
    comity_free(env);
    fx_free(&f);
}

/* ---- the puller's page check, capped at the cut ------------------------------ */

static char *page_of(struct fx *f, size_t from, size_t to)
{
    json_t *objs = json_array();
    for (size_t i = from; i < to; i++) {
        char *proof;
        size_t pl;
        TU_OK(comity_log_prove(f->log, f->idx[i], &proof, &pl, E));
        comity_record *r;
        TU_OK(comity_record_parse(f->env[i], strlen(f->env[i]), &r, E));
        json_array_append_new(
            objs, json_pack("{s:s, s:s, s:o, s:I, s:s}", "type", "x-comity-record", "record_id",
                            comity_record_id(r), "dsse_envelope",
                            json_loads(f->env[i], 0, NULL), "x_comity_log_index",
                            (json_int_t)f->idx[i], "x_comity_receipt", proof));
        comity_record_free(r);
        comity_free(proof);
    }
    char nx[32];
    snprintf(nx, sizeof nx, "%zu", to);
    json_t *pg = json_pack("{s:o, s:b, s:s}", "objects", objs, "more", 0, "next", nx);
    char *s = json_dumps(pg, JSON_COMPACT);
    json_decref(pg);
    return s;
}

static comity_err cons(void *ctx, uint64_t old, uint64_t size, uint8_t **hashes, size_t *n,
                       comity_error *err)
{
    struct fx *f = ctx;
    return comity_log_consistency(f->log, old, size, hashes, n, err);
}

static comity_err check_page(struct fx *f, const char *text, const comity_succession *s,
                             comity_error *err)
{
    cy_pull_page pg;
    comity_vkey *lv = NULL;
    TU_OK(comity_vkey_parse(comity_nkey_vkey(f->lk), strlen(comity_nkey_vkey(f->lk)), &lv, E));
    comity_err rc = cy_pull_page_parse(text, strlen(text), &pg, err);
    cy_origin_view o = {lv, NULL, 0, s};
    const char *note;
    size_t nl;
    if (!rc)
        rc = cy_sync_verify_page(&pg, &o, 0, cons, f, &note, &nl, err);
    cy_pull_page_free(&pg);
    comity_vkey_free(lv);
    return rc;
}

static void test_page_capped(void **state)
{
    (void)state;
    struct fx f = {0};
    fx_make(&f, 2);
    char *p2 = page_of(&f, 0, 2); /* proven at size 2 */
    append(&f);
    char *env = succession(&f, f.state, f.cp[3], "green"); /* the cut: size 3 */
    comity_succession *s = NULL;
    TU_OK(comity_succession_parse(env, strlen(env), NULL, 0, &s, E));
    char *p3 = page_of(&f, 0, 3);
    append(&f);
    char *p4 = page_of(&f, 0, 4);
    TU_OK(check_page(&f, p2, s, E)); /* below the cut, its proof fetched */
    TU_OK(check_page(&f, p3, s, E)); /* the cut */
    TU_FAILS(check_page(&f, p4, s, E), COMITY_ERR_DENIED, "log-succession (beyond)");
    TU_OK(check_page(&f, p4, NULL, E)); /* without the succession: taken */
    free(p2);
    free(p3);
    free(p4);
    comity_succession_free(s);
    comity_free(env);
    fx_free(&f);
}

/* ---- the roster follows a succession (section 11), homes from admissions ---- */

/* Signs `body` as a clear record of `type` by `by`, a few milliseconds
 * after the last one, so that the fold's order is the order of signing.
 * OUT: the envelope (comity_free), its length in *len. */
static char *signed_clear(const comity_key *by, const char *type, const char *body, size_t *len)
{
    struct timespec ts = {0, 3 * 1000 * 1000};
    nanosleep(&ts, NULL);
    char *env = NULL;
    comity_record_params p = {.type = type, .tlp = "clear"};
    TU_OK(comity_record_sign(by, &p, body, strlen(body), &env, len, E));
    return env;
}

/* The roster's entry named `name` in `what` ("states": by state, "parties":
 * by party) of the JSON text; a new reference. */
static json_t *entry_of(const char *roster, const char *what, const char *name)
{
    json_t *r = json_loads(roster, 0, NULL), *e, *found = NULL;
    size_t i;
    json_array_foreach(json_object_get(r, what), i, e)
        if (!strcmp(json_string_value(json_object_get(e, what[0] == 's' ? "state" : "party")),
                    name))
            found = json_incref(e);
    json_decref(r);
    return found;
}

static const char *home_lv(json_t *e)
{
    return json_string_value(json_object_get(json_object_get(e, "home"), "log_vkey"));
}

static void test_roster_homes(void **state)
{
    (void)state;
    struct fx f = {0};
    fx_make(&f, 3);
    comity_key *a = NULL, *b = NULL;
    TU_OK(comity_key_generate("un.sec", &a, E));
    TU_OK(comity_key_generate("ch.fdfa", &b, E));
    char pol[2048], body[4096];
    snprintf(pol, sizeof pol, "admitter %s\nadmitter %s\nquorum 2\n", comity_key_vkey(a),
             comity_key_vkey(b));
    cy_roster_policy *p = NULL;
    TU_OK(cy_roster_policy_parse(pol, strlen(pol), &p, E));
    const char *la = comity_nkey_vkey(f.lk), *la2 = comity_nkey_vkey(f.nk);
    char *env[6];
    size_t len[6];
    /* a names the home; b admits without one: the key is admitted, and
     * no quorum named its home yet */
    snprintf(body, sizeof body, "{\"state\":\"pk\",\"vkey\":\"%s\",\"action\":\"admit\",\"home\":"
             "{\"log_vkey\":\"%s\",\"url\":\"https://a.example\"},\"recipient\":\"%s\"}",
             comity_key_vkey(f.state), la, comity_key_recipient(f.state));
    env[0] = signed_clear(a, "admission", body, &len[0]);
    snprintf(body, sizeof body, "{\"state\":\"pk\",\"vkey\":\"%s\",\"action\":\"admit\"}",
             comity_key_vkey(f.state));
    env[1] = signed_clear(b, "admission", body, &len[1]);
    char *r = NULL;
    TU_OK(cy_roster_build(p, (const char *const *)env, len, 2, &r, E));
    json_t *e = entry_of(r, "states", "pk");
    assert_non_null(e);
    assert_null(json_object_get(e, "home"));
    json_decref(e);
    cy_free(r);
    /* b's later word names the same home at another URL: a quorum, the
     * latest URL */
    snprintf(body, sizeof body, "{\"state\":\"pk\",\"vkey\":\"%s\",\"action\":\"admit\",\"home\":"
             "{\"log_vkey\":\"%s\",\"url\":\"https://a2.example\"},\"recipient\":\"%s\"}",
             comity_key_vkey(f.state), la, comity_key_recipient(f.state));
    env[2] = signed_clear(b, "admission", body, &len[2]);
    /* an office of pk homed at the old log, then pk's succession */
    snprintf(body, sizeof body, "{\"office\":\"pk.mofa\",\"vkey\":\"%s\",\"recipient\":\"%s\","
             "\"home\":{\"log_vkey\":\"%s\",\"url\":\"https://a.example\"}}",
             comity_key_vkey(f.author), comity_key_recipient(f.author), la);
    env[3] = signed_clear(f.state, "party", body, &len[3]);
    TU_OK(cy_roster_build(p, (const char *const *)env, len, 4, &r, E));
    e = entry_of(r, "states", "pk");
    assert_string_equal(home_lv(e), la);
    assert_string_equal(json_string_value(json_object_get(json_object_get(e, "home"), "url")),
                        "https://a2.example");
    assert_string_equal(json_string_value(json_object_get(e, "recipient")),
                        comity_key_recipient(f.state));
    json_decref(e);
    e = entry_of(r, "parties", "pk.mofa");
    assert_string_equal(home_lv(e), la);
    json_decref(e);
    cy_free(r);
    char *sc = succession(&f, f.state, f.cp[3], "clear");
    struct timespec ts = {0, 3 * 1000 * 1000};
    nanosleep(&ts, NULL);
    env[4] = sc;
    len[4] = strlen(sc);
    /* a succession by another state's key moves nothing of pk's */
    env[5] = succession(&f, f.not_state, f.cp[3], "clear");
    len[5] = strlen(env[5]);
    TU_OK(cy_roster_build(p, (const char *const *)env, len, 6, &r, E));
    e = entry_of(r, "parties", "pk.mofa");
    assert_string_equal(home_lv(e), la2);
    assert_string_equal(json_string_value(json_object_get(json_object_get(e, "home"), "origin")),
                        "comity.a2.test");
    json_decref(e);
    e = entry_of(r, "states", "pk");
    assert_string_equal(home_lv(e), la2);
    json_decref(e);
    assert_non_null(strstr(r, "a log succession is authored by a state key"));
    /* the same roster in any order of arrival */
    const char *rev[6];
    size_t rlen[6];
    for (int i = 0; i < 6; i++) {
        rev[i] = env[5 - i];
        rlen[i] = len[5 - i];
    }
    char *r2 = NULL;
    TU_OK(cy_roster_build(p, rev, rlen, 6, &r2, E));
    assert_string_equal(r, r2);
    cy_free(r2);
    cy_free(r);
    for (int i = 0; i < 6; i++)
        comity_free(env[i]);
    cy_roster_policy_free(p);
    comity_key_free(a);
    comity_key_free(b);
    fx_free(&f);
}

/* The bodies intake refuses at the origin: the roster's and the
 * succession's parsers, one rule each, reached by cy_record_body_check. */
static void test_body_rules(void **state)
{
    (void)state;
    struct fx f = {0};
    fx_make(&f, 2);
    char b[4096];
    const char *st = comity_key_vkey(f.state), *rc = comity_key_recipient(f.state);
    const char *la = comity_nkey_vkey(f.lk);
    snprintf(b, sizeof b, "{\"state\":\"pk\",\"vkey\":\"%s\",\"action\":\"admit\",\"home\":"
             "{\"log_vkey\":\"%s\",\"url\":\"https://a.example\"},\"recipient\":\"%s\"}", st, la,
             rc);
    TU_OK(cy_record_body_check("admission", b, strlen(b), E));
    snprintf(b, sizeof b, "{\"state\":\"pk\",\"vkey\":\"%s\",\"action\":\"admit\",\"home\":"
             "{\"log_vkey\":\"%s\",\"url\":\"https://a.example\"}}", st, la);
    TU_FAILS(cy_record_body_check("admission", b, strlen(b), E), COMITY_ERR_INVALID,
             "admission.home");
    snprintf(b, sizeof b, "{\"state\":\"pk\",\"vkey\":\"%s\",\"action\":\"revoke\",\"home\":"
             "{\"log_vkey\":\"%s\",\"url\":\"https://a.example\"},\"recipient\":\"%s\"}", st, la,
             rc);
    TU_FAILS(cy_record_body_check("admission", b, strlen(b), E), COMITY_ERR_INVALID,
             "admission.home");
    snprintf(b, sizeof b, "{\"state\":\"pk\",\"vkey\":\"%s\",\"action\":\"admit\",\"home\":"
             "{\"log_vkey\":\"%s\",\"url\":\"ftp://a\"},\"recipient\":\"%s\"}", st, la, rc);
    TU_FAILS(cy_record_body_check("admission", b, strlen(b), E), COMITY_ERR_INVALID,
             "admission.home");
    snprintf(b, sizeof b, "{\"state\":\"pk\",\"vkey\":\"%s\",\"action\":\"admit\","
             "\"recipient\":\"%s\"}", st, rc);
    TU_FAILS(cy_record_body_check("admission", b, strlen(b), E), COMITY_ERR_INVALID,
             "admission.recipient");
    TU_FAILS(cy_record_body_check("party", "{\"office\":\"pk.x\"}", 17, E), COMITY_ERR_INVALID,
             "party.vkey");
    TU_FAILS(cy_record_body_check("party", NULL, 0, E), COMITY_ERR_INVALID, "public");
    TU_FAILS(cy_record_body_check(COMITY_SUCCESSION_TYPE, "{}", 2, E), COMITY_ERR_INVALID,
             "log-succession");
    TU_OK(cy_record_body_check("note", "not even json", 13, E));
    TU_OK(cy_record_body_check("sighting", NULL, 0, E));
    fx_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_body, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parse_and_signer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_judge, setup, teardown),
        cmocka_unit_test_setup_teardown(test_receipts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_page_capped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_roster_homes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_body_rules, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
