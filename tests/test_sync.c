/*
 * test_sync.c: federation below HTTP (docs/federation.md): the store's
 * federation section (peers, homes, cursors, the federation page and the
 * peer filter it compiles), what a peer may see (src/record), the pull
 * answer parser's refusals, and the page checks against a real log:
 * receipts, a tampered one, and checkpoints that are not consistent with
 * the last one accepted (a split view).  The store's tests run on both
 * backends: on SQLite (test_sync), and on PostgreSQL (test_sync_pg:
 * COMITY_TEST_STORE=pg, each test in a fresh schema of the throw-away
 * cluster of tests/pg/cluster), as test_store's do.
 */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>

#include "files/files.h"
#include "record/visible.h"
#include "store/store.h"
#include "sync/sync.h"
#include "tlog/tlog.h"
#include "util/testutil.h"

static char *dir;
static char path[1300]; /* the store's location: a file, or a PostgreSQL URI */

static int setup(void **state)
{
    (void)state;
    dir = tu_tmpdir();
    const char *pg = tu_store_fresh();
    if (pg)
        snprintf(path, sizeof path, "%s", pg);
    else
        snprintf(path, sizeof path, "%s/node.db", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tu_rmrf(dir);
    free(dir);
    return 0;
}

/* ---- the store's section ------------------------------------------------------ */

static int count_peer(const cy_peer *p, void *ctx)
{
    (void)p;
    (*(int *)ctx)++;
    return 0;
}

static int join_name(const char *name, void *ctx)
{
    strcat(ctx, name);
    strcat(ctx, " ");
    return 0;
}

static void test_peer_rows(void **state)
{
    (void)state;
    comity_store *st = NULL;
    TU_OK(comity_store_open(path, &st, E));
    cy_peer p = {.added_us = 5};
    snprintf(p.origin, sizeof p.origin, "comity.in.test");
    snprintf(p.url, sizeof p.url, "http://127.0.0.1:1");
    snprintf(p.vkey, sizeof p.vkey, "comity.in.test+00000000+AQ");
    TU_OK(cy_store_peer_add(st, &p, E));
    TU_FAILS(cy_store_peer_add(st, &p, E), COMITY_ERR_EXISTS, "comity.in.test");
    cy_peer got;
    TU_OK(cy_store_peer_get(st, "comity.in.test", &got, E));
    assert_int_equal(got.cursor, 0);
    assert_string_equal(got.checkpoint, "");
    TU_OK(cy_store_peer_note(st, "comity.in.test", "it broke", 7, E));
    TU_OK(cy_store_peer_get(st, "comity.in.test", &got, E));
    assert_string_equal(got.error, "it broke");
    assert_int_equal(got.last_try_us, 7);
    /* the cursor and the checkpoint move together; the error clears */
    TU_OK(cy_store_peer_advance(st, "comity.in.test", 12, "cp\n", 3, 9, E));
    TU_OK(cy_store_peer_advance(st, "comity.in.test", 15, NULL, 2, 10, E));
    TU_OK(cy_store_peer_get(st, "comity.in.test", &got, E));
    assert_int_equal(got.cursor, 15);
    assert_string_equal(got.checkpoint, "cp\n");
    assert_int_equal(got.pulled, 5);
    assert_int_equal(got.last_ok_us, 10);
    assert_string_equal(got.error, "");
    int n = 0;
    TU_OK(cy_store_peer_list(st, count_peer, &n, E));
    assert_int_equal(n, 1);
    /* an error may quote what a peer sent: kept whatever its bytes, cut
     * to CY_PEER_ERR_MAX - 1 (here inside a two-byte character) */
    char long_err[CY_PEER_ERR_MAX + 16];
    memset(long_err, 'x', sizeof long_err);
    memcpy(long_err, "bad \xff\xfe body", 11);
    memcpy(long_err + CY_PEER_ERR_MAX - 2, "\xc3\xa9", 2);
    long_err[sizeof long_err - 1] = 0;
    TU_OK(cy_store_peer_note(st, "comity.in.test", long_err, 11, E));
    TU_OK(cy_store_peer_get(st, "comity.in.test", &got, E));
    assert_true(strlen(got.error) <= CY_PEER_ERR_MAX - 1);
    assert_true(strlen(got.error) >= CY_PEER_ERR_MAX - 2);
    assert_memory_equal(got.error, "bad ", 4);
    assert_memory_equal(got.error + 6, " body", 5);
    assert_int_equal(got.last_try_us, 11);
    TU_FAILS(cy_store_peer_note(st, "comity.un.test", "x", 12, E), COMITY_ERR_NOTFOUND,
             "comity.un.test");
    /* homes: one per party */
    TU_OK(cy_store_home_set(st, "in.mea", "comity.in.test", E));
    TU_OK(cy_store_home_set(st, "in.mea", "comity.in.test", E)); /* again: fine */
    TU_FAILS(cy_store_home_set(st, "in.mea", "comity.un.test", E), COMITY_ERR_EXISTS,
             "homed at comity.in.test");
    TU_OK(cy_store_home_set(st, "in.cert", "comity.in.test", E));
    char home[CY_PEER_ORIGIN_MAX + 1];
    TU_OK(cy_store_home_get(st, "in.mea", home, E));
    assert_string_equal(home, "comity.in.test");
    TU_FAILS(cy_store_home_get(st, "pk.mofa", home, E), COMITY_ERR_NOTFOUND, NULL);
    char names[256] = "";
    TU_OK(cy_store_home_list(st, "comity.in.test", join_name, names, E));
    assert_string_equal(names, "in.cert in.mea ");
    TU_OK(cy_store_peer_remove(st, "comity.in.test", E));
    TU_FAILS(cy_store_peer_get(st, "comity.in.test", &got, E), COMITY_ERR_NOTFOUND, NULL);
    TU_FAILS(cy_store_peer_advance(st, "comity.in.test", 1, NULL, 0, 1, E), COMITY_ERR_NOTFOUND,
             NULL);
    comity_store_close(st);
}

struct seen {
    char ids[16][80];
    uint64_t idx[16];
    size_t n;
};

static int seen_row(const cy_record_row *r, void *ctx)
{
    struct seen *s = ctx;
    snprintf(s->ids[s->n], sizeof s->ids[0], "%s", r->id + strlen(r->id) - 2);
    s->idx[s->n++] = r->log_index;
    assert_non_null(r->envelope);
    return 0;
}

/* What the federation page gives a peer hosting in.mea: the origin's own
 * records that are green, or addressed to in.mea or to the bare state in;
 * nothing authored by a party homed elsewhere, nothing sealed to others. */
static void test_fed_page_filter(void **state)
{
    (void)state;
    comity_store *st = NULL;
    TU_OK(comity_store_open(path, &st, E));
    TU_OK(cy_store_home_set(st, "in.mea", "comity.in.test", E));
    TU_OK(cy_store_home_set(st, "un.unoda", "comity.un.test", E));
    struct {
        const char *author, *tlp, *to;
    } rows[] = {
        {"pk.mofa", "green", NULL},     /* 01 visible */
        {"pk.mofa", "amber", "in.mea"}, /* 02 visible */
        {"pk.mofa", "red", "fr.anssi"}, /* 03 not */
        {"in.mea", "green", NULL},      /* 04 not: not this origin's */
        {"pk.mofa", "amber", "in"},     /* 05 visible: the bare state */
        {"pk.mofa", "red", "un.unoda"}, /* 06 not: another peer's */
        {"pk.mofa", "clear", NULL},     /* 07 visible */
    };
    size_t n = CY_ARRAY_LEN(rows);
    cy_record_in r[8];
    char ids[8][80], dg[8][65];
    const char *to[8][1];
    for (size_t i = 0; i < n; i++) {
        snprintf(ids[i], sizeof ids[i], "note--0a5c9d9e-6a8e-4d4c-9d37-2a3b1c7e5f%02zu", i + 1);
        memset(dg[i], 'a' + (int)i, 64);
        dg[i][64] = 0;
        to[i][0] = rows[i].to;
        r[i] = (cy_record_in){.id = ids[i], .type = "note", .author = rows[i].author,
                              .tlp = rows[i].tlp, .created = "2026-11-23T00:00:00.000Z",
                              .digest = dg[i], .log_index = 10 + i, .received_us = 100 + (int64_t)i,
                              .envelope = "{}", .envelope_len = 2, .to = to[i],
                              .nto = rows[i].to ? 1 : 0};
    }
    TU_OK(cy_store_records_add(st, r, n, NULL, E));
    uint64_t last = 0;
    int64_t recv = 0;
    bool any = false;
    TU_OK(cy_store_records_last(st, &last, &recv, &any, E));
    assert_true(any);
    assert_int_equal(last, 16);
    assert_int_equal(recv, 106);
    const char *parties[1] = {"in.mea"};
    cy_peer_view *v = calloc(1, sizeof *v);
    TU_OK(cy_record_peer_visibility(parties, 1, v, E));
    struct seen s = {0};
    bool more = true;
    cy_fed_query q = {.from = 0, .to = 100, .limit = 10, .visible = &v->f};
    TU_OK(cy_store_fed_page(st, &q, seen_row, &s, &more, E));
    assert_false(more);
    assert_int_equal(s.n, 4);
    assert_string_equal(s.ids[0], "01");
    assert_string_equal(s.ids[1], "02");
    assert_string_equal(s.ids[2], "05");
    assert_string_equal(s.ids[3], "07");
    /* paging: limit and from, in log order */
    memset(&s, 0, sizeof s);
    q = (cy_fed_query){.from = 11, .to = 100, .limit = 2, .visible = &v->f};
    TU_OK(cy_store_fed_page(st, &q, seen_row, &s, &more, E));
    assert_true(more);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.idx[0], 11);
    assert_int_equal(s.idx[1], 14);
    /* `to` bounds the scan */
    memset(&s, 0, sizeof s);
    q = (cy_fed_query){.from = 0, .to = 12, .limit = 10, .visible = &v->f};
    TU_OK(cy_store_fed_page(st, &q, seen_row, &s, &more, E));
    assert_int_equal(s.n, 2);
    /* no filter: refused */
    q.visible = NULL;
    TU_FAILS(cy_store_fed_page(st, &q, seen_row, &s, &more, E), COMITY_ERR_USAGE, "filter");
    free(v);
    comity_store_close(st);
}

static void test_peer_visibility_cap(void **state)
{
    (void)state;
    cy_peer_view *v = calloc(1, sizeof *v);
    static char names[200][16];
    const char *p[200];
    for (int i = 0; i < 200; i++) {
        snprintf(names[i], sizeof names[i], "s%c%c.office", 'a' + i / 26, 'a' + i % 26);
        p[i] = names[i];
    }
    TU_OK(cy_record_peer_visibility(p, 128, v, E)); /* 128 offices, 128 states: 256 */
    assert_int_equal(v->f.nto, 256);
    TU_FAILS(cy_record_peer_visibility(p, 129, v, E), COMITY_ERR_TOOBIG, "256");
    /* offices of one state share it */
    const char *same[3] = {"in.mea", "in.cert", "in"};
    TU_OK(cy_record_peer_visibility(same, 3, v, E));
    assert_int_equal(v->f.nto, 3);
    free(v);
}

/* Who may fetch a sealed file attached to a record (docs/federation.md,
 * section 3, "Files"): a local record with a recipient homed at the peer
 * (or its bare state); not a clear or green record to others; never a
 * record homed elsewhere. */
static void test_peer_file_visibility(void **state)
{
    (void)state;
    cy_peer_view *v = calloc(1, sizeof *v);
    const char *parties[1] = {"in.mea"};
    TU_OK(cy_record_peer_visibility(parties, 1, v, E));
    const char *to_mea[1] = {"in.mea"}, *to_in[1] = {"in"}, *to_other[2] = {"un.oda", "in.cert"};
    assert_true(cy_record_peer_file_visible(v, true, to_mea, 1));
    assert_true(cy_record_peer_file_visible(v, true, to_in, 1));      /* the bare state */
    assert_false(cy_record_peer_file_visible(v, true, to_other, 2));  /* another office */
    assert_false(cy_record_peer_file_visible(v, false, to_mea, 1));   /* not this origin's */
    assert_false(cy_record_peer_file_visible(v, true, NULL, 0));      /* no recipient */
    free(v);
}

/* ---- the pull answer ---------------------------------------------------------- */

static void page_fails(const char *text, comity_err code, const char *needle)
{
    cy_pull_page pg;
    TU_FAILS(cy_pull_page_parse(text, strlen(text), &pg, E), code, needle);
    cy_pull_page_free(&pg);
}

#define OBJ(idx, rcpt)                                                                      \
    "{\"type\":\"x-comity-record\",\"record_id\":\"r\",\"dsse_envelope\":{\"a\":1},"      \
    "\"x_comity_log_index\":" idx ",\"x_comity_receipt\":" rcpt "}"

static void test_page_parse(void **state)
{
    (void)state;
    cy_pull_page pg;
    const char *good = "{\"objects\":[" OBJ("2", "\"x\"") "," OBJ("5", "\"y\"")
                       "],\"more\":true,\"next\":\"6\"}";
    TU_OK(cy_pull_page_parse(good, strlen(good), &pg, E));
    assert_int_equal(pg.n, 2);
    assert_int_equal(pg.next, 6);
    assert_true(pg.more);
    assert_string_equal(pg.items[1].envelope, "{\"a\":1}");
    cy_pull_page_free(&pg);
    page_fails("nope", COMITY_ERR_INVALID, "not JSON");
    page_fails("{\"objects\":[],\"more\":false,\"next\":\"1\",\"more\":true}", COMITY_ERR_INVALID,
               "not JSON");
    page_fails("{\"objects\":[],\"more\":false,\"next\":\"01\"}", COMITY_ERR_INVALID, "next");
    page_fails("{\"objects\":[],\"more\":false}", COMITY_ERR_INVALID, "want");
    page_fails("{\"objects\":[" OBJ("5", "\"x\"") "," OBJ("5", "\"y\"")
               "],\"more\":true,\"next\":\"9\"}",
               COMITY_ERR_INVALID, "object 1: x_comity_log_index");
    page_fails("{\"objects\":[" OBJ("9", "\"x\"") "],\"more\":true,\"next\":\"9\"}",
               COMITY_ERR_INVALID, "below next");
    page_fails("{\"objects\":[" OBJ("-1", "\"x\"") "],\"more\":true,\"next\":\"9\"}",
               COMITY_ERR_INVALID, ">= 0");
    page_fails("{\"objects\":[" OBJ("1", "7") "],\"more\":true,\"next\":\"9\"}",
               COMITY_ERR_INVALID, "x_comity_receipt");
    page_fails("{\"objects\":[{\"type\":\"indicator\"}],\"more\":true,\"next\":\"9\"}",
               COMITY_ERR_INVALID, "x-comity-record");
    /* caps */
    size_t big = CY_SYNC_PAGE_MAX + 1;
    char *b = malloc(big);
    memset(b, ' ', big);
    TU_FAILS(cy_pull_page_parse(b, big, &pg, E), COMITY_ERR_TOOBIG, "at most");
    cy_pull_page_free(&pg);
    free(b);
    cy_buf many;
    cy_buf_init(&many, 1u << 24);
    cy_buf_puts(&many, "{\"objects\":[");
    for (int i = 0; i <= CY_FED_PAGE_MAX; i++)
        cy_buf_printf(&many, "%s" OBJ("%d", "\"x\""), i ? "," : "", i);
    cy_buf_puts(&many, "],\"more\":true,\"next\":\"99999\"}");
    TU_FAILS(cy_pull_page_parse((const char *)many.data, many.len, &pg, E), COMITY_ERR_TOOBIG,
             "objects");
    cy_pull_page_free(&pg);
    cy_buf_free(&many);
}

/* The fast reader takes `text` (or not, as `fast` says) and the page read
 * equals jansson's reading of it, item by item. */
static void readers_agree(const char *text, bool fast)
{
    cy_pull_page f, j;
    size_t len = strlen(text);
    assert_int_equal(cy_pull_page_parse_fast(text, len, &f), fast);
    if (!fast) {
        assert_null(f.items);
        TU_OK(cy_pull_page_parse(text, len, &f, E)); /* jansson's reader took it */
        assert_non_null(f.root);
    } else {
        assert_null(f.root);
    }
    TU_OK(cy_pull_page_parse_jansson(text, len, &j, E));
    assert_int_equal(f.n, j.n);
    assert_int_equal(f.next, j.next);
    assert_int_equal(f.more, j.more);
    for (size_t i = 0; i < f.n; i++) {
        assert_int_equal(f.items[i].log_index, j.items[i].log_index);
        assert_string_equal(f.items[i].envelope, j.items[i].envelope);
        assert_int_equal(f.items[i].envelope_len, j.items[i].envelope_len);
        assert_string_equal(f.items[i].record_id, j.items[i].record_id);
        assert_int_equal(f.items[i].receipt_len, j.items[i].receipt_len);
        assert_memory_equal(f.items[i].receipt, j.items[i].receipt, j.items[i].receipt_len);
    }
    cy_pull_page_free(&f);
    cy_pull_page_free(&j);
}

/* An object as an origin writes it (federation.c, wrapper.c), with its own
 * envelope and receipt. */
#define WRAPPED(idx, env, rcpt)                                                              \
    "{\"type\":\"x-comity-record\",\"spec_version\":\"2.1\",\"id\":\"x-comity-record--"      \
    "0b6c1b9e-3f1a-4c8e-9a57-5d1b8f0c2a11\",\"created\":\"2026-12-06T10:00:00.000Z\","       \
    "\"modified\":\"2026-12-06T10:00:00.000Z\",\"extensions\":{\"extension-definition--"     \
    "1f2e3d4c-5b6a-4789-8a9b-0c1d2e3f4a5b\":{\"extension_type\":\"new-sdo\"}},"                \
    "\"record_id\":\"rec--\u00e9t\\u00e9\",\"record_type\":\"notification\",\"author\":"         \
    "\"pk.mofa\",\"tlp\":\"green\",\"dsse_envelope\":" env ",\"x_comity_log_index\":" idx       \
    ",\"x_comity_receipt\":" rcpt "}"
#define ENV "{\"payloadType\":\"application/vnd.comity.record+json\",\"payload\":\"eyJhIjoxfQ==\"," \
            "\"signatures\":[{\"keyid\":\"pk.mofa\",\"sig\":\"c2ln\"}],\"x\":[true,false,null,{},[]]}"
#define RCPT "\"c2sp.org/tlog-proof@v1\\nindex 7\\nAAAA\\n\\norigin\\n7\\nroot=\\n\\n\\u2014 k sig\\n\""

static void test_page_fast(void **state)
{
    (void)state;
    /* as an origin writes them: the fast reader takes them */
    readers_agree("{\"objects\":[" WRAPPED("7", ENV, RCPT) "," WRAPPED("8", ENV, RCPT)
                  "],\"more\":false,\"next\":\"9\"}", true);
    readers_agree("{\"more\":true,\"next\":\"0\",\"objects\":[]}", true);
    readers_agree("{\"more\":true,\"next\":\"0\"}", true);
    /* whitespace anywhere, the envelope compacted as json_dumps does */
    readers_agree(" {\n \"objects\" : [ " WRAPPED(" 0 ",
                                               "{ \"payload\" : \"a b\" ,\n\t\"s\": [ 1e0 ] }",
                                               RCPT) " ] , \"more\" : true , \"next\":\"1\" }\r\n",
                  false); /* a number: jansson's */
    readers_agree(" {\n \"objects\" : [ " WRAPPED(" 0 ",
                                               "{ \"payload\" : \"a b\" ,\n\t\"s\": [ { } , \"\" ] }",
                                               RCPT) " ] , \"more\" : true , \"next\":\"1\" }\r\n",
                  true);
    /* what the fast reader leaves to jansson's, which reads them */
    readers_agree("{\"objects\":[" WRAPPED("1", "{\"p\":\"a\\/b\"}", RCPT)
                  "],\"more\":false,\"next\":\"9\"}", false); /* an escape in the envelope */
    readers_agree("{\"objects\":[" WRAPPED("1", "{\"p\":1}", RCPT)
                  "],\"more\":false,\"next\":\"9\"}", false); /* a number in it */
    readers_agree("{\"\\u006dore\":false,\"next\":\"9\"}", false); /* an escaped key */
    readers_agree("{\"objects\":[" WRAPPED("1000000000000000000", ENV, RCPT)
                  "],\"more\":false,\"next\":\"1000000000000000001\"}", false); /* 19 digits */
    readers_agree("{\"objects\":[" WRAPPED("999999999999999999", ENV, RCPT)
                  "],\"more\":false,\"next\":\"1000000000000000001\"}", true); /* 18 */
    readers_agree("{\"more\":false,\"next\":\"9\",\"a\":1}", false); /* a number elsewhere */
    readers_agree("{\"more\":false,\"next\":\"9\",\"k\":{\"a\":true,\"b\":true,\"c\":true,\"d\":true,\"e\":true,"
                  "\"f\":true,\"g\":true,\"h\":true,\"i\":true,\"j\":true,\"k\":true,\"l\":true,\"m\":true,\"n\":true,\"o\":true,"
                  "\"p\":true,\"q\":true}}", false);
    readers_agree("{\"more\":false,\"next\":\"9\",\"k\":[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]}",
                  false); /* deeper than the fast reader goes */
    readers_agree("{\"more\":false,\"next\":\"9\",\"k\":\"\\ud83d\\ude00 \xf0\x9f\x98\x80\"}", true);
    /* what neither takes: the fast reader declines, and the refusal is
     * jansson's reader's, word for word */
    static const char *bad[] = {
        "",
        "{\"more\":false,\"next\":\"9\",\"more\":true}",
        "{\"more\":false,\"next\":\"9\"} x",
        "{\"more\":false,\"next\":\"9\",\"k\":\"\\u0000\"}",
        "{\"more\":false,\"next\":\"9\",\"k\":\"\\ud800x\"}",
        "{\"more\":false,\"next\":\"9\",\"k\":\"\\udc00\"}",
        "{\"more\":false,\"next\":\"9\",\"k\":\"\xc0\xaf\"}",
        "{\"more\":false,\"next\":\"9\",\"k\":\"\xed\xa0\x80\"}",
        "{\"more\":false,\"next\":\"9\",\"k\":\"\xf4\x90\x80\x80\"}",
        "{\"more\":false,\"next\":\"9\",\"k\":\"a\tb\"}",
        "{\"more\":false,\"next\":\"9\",\"k\":tru}",
        "{\"more\":false,\"next\":\"9\",}",
        "{\"more\":false,\"next\":\"09\"}",
        "{\"objects\":[" WRAPPED("01", ENV, RCPT) "],\"more\":false,\"next\":\"9\"}",
        "{\"objects\":[" WRAPPED("1.0", ENV, RCPT) "],\"more\":false,\"next\":\"9\"}",
        "{\"objects\":[" WRAPPED("9", ENV, RCPT) "],\"more\":false,\"next\":\"9\"}",
        "{\"objects\":[" WRAPPED("2", ENV, RCPT) "," WRAPPED("2", ENV, RCPT)
        "],\"more\":false,\"next\":\"9\"}",
        "{\"objects\":[" WRAPPED("2", "[]", RCPT) "],\"more\":false,\"next\":\"9\"}",
        "{\"objects\":[" WRAPPED("2", ENV, "7") "],\"more\":false,\"next\":\"9\"}",
        "{\"objects\":{},\"more\":false,\"next\":\"9\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        cy_pull_page f, j;
        comity_error e1 = {0}, e2 = {0};
        size_t len = strlen(bad[i]);
        assert_false(cy_pull_page_parse_fast(bad[i], len, &f));
        comity_err r1 = cy_pull_page_parse(bad[i], len, &f, &e1),
                   r2 = cy_pull_page_parse_jansson(bad[i], len, &j, &e2);
        assert_int_not_equal(r1, COMITY_OK);
        assert_int_equal(r1, r2);
        assert_string_equal(e1.msg, e2.msg);
        cy_pull_page_free(&f);
        cy_pull_page_free(&j);
    }
}

/* ---- the page checks against a real log -------------------------------------- */

struct fixture {
    comity_nkey *lk;
    comity_vkey *lv;
    comity_log *log;
    comity_key *author;
    char *env[6];
    uint64_t idx[6];
};

static void fixture_make(struct fixture *f, size_t n)
{
    char ld[1100];
    snprintf(ld, sizeof ld, "%s/log", dir);
    TU_OK(comity_nkey_generate("comity.pk.test", COMITY_NOTE_ED25519, &f->lk, E));
    TU_OK(comity_vkey_parse(comity_nkey_vkey(f->lk), strlen(comity_nkey_vkey(f->lk)), &f->lv, E));
    TU_OK(comity_log_create(ld, "comity.pk.test", f->lk, NULL, E));
    TU_OK(comity_log_open(ld, COMITY_LOG_WRITE, f->lk, &f->log, E));
    TU_OK(comity_key_generate("pk.mofa", &f->author, E));
    for (size_t i = 0; i < n; i++) {
        comity_record_params p = {.type = "note", .tlp = "green"};
        size_t len;
        TU_OK(comity_record_sign(f->author, &p, "{\"n\":1}", 7, &f->env[i], &len, E));
        comity_record *r;
        TU_OK(comity_record_parse(f->env[i], len, &r, E));
        const char *entry = comity_record_entry(r);
        TU_OK(comity_log_append(f->log, entry, strlen(entry), 1, &f->idx[i], E));
        comity_record_free(r);
    }
}

static void fixture_free(struct fixture *f)
{
    for (size_t i = 0; i < 6; i++)
        comity_free(f->env[i]);
    comity_log_close(f->log);
    comity_key_free(f->author);
    comity_vkey_free(f->lv);
    comity_nkey_free(f->lk);
}

/* A page as an origin makes it: the records from `from`, each with its
 * receipt against the latest checkpoint.  OUT: JSON text (free). */
static char *page_of(struct fixture *f, size_t from, size_t to, uint64_t next)
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
    snprintf(nx, sizeof nx, "%llu", (unsigned long long)next);
    json_t *pg = json_pack("{s:o, s:b, s:s}", "objects", objs, "more", 0, "next", nx);
    char *s = json_dumps(pg, JSON_COMPACT);
    json_decref(pg);
    return s;
}

static comity_err cons_from_log(void *ctx, uint64_t old, uint64_t size, uint8_t **hashes,
                                size_t *n, comity_error *err)
{
    struct fixture *f = ctx;
    return comity_log_consistency(f->log, old, size, hashes, n, err);
}

static comity_err verify_text(struct fixture *f, const char *text, const char *last,
                              uint64_t cursor, comity_error *err)
{
    cy_pull_page pg;
    comity_err rc = cy_pull_page_parse(text, strlen(text), &pg, err);
    cy_origin_view o = {f->lv, last, last ? strlen(last) : 0, NULL};
    const char *note;
    size_t nl;
    if (!rc)
        rc = cy_sync_verify_page(&pg, &o, cursor, cons_from_log, f, &note, &nl, err);
    cy_pull_page_free(&pg);
    return rc;
}

static void test_verify_page(void **state)
{
    (void)state;
    struct fixture f = {0};
    fixture_make(&f, 3);
    char *cp1 = NULL;
    size_t cl;
    TU_OK(comity_log_checkpoint(f.log, &cp1, &cl, E));
    char *p1 = page_of(&f, 0, 3, 3);
    TU_OK(verify_text(&f, p1, NULL, 0, E));
    TU_OK(verify_text(&f, p1, cp1, 0, E)); /* the same checkpoint again */
    TU_FAILS(verify_text(&f, p1, NULL, 1, E), COMITY_ERR_INVALID, "below the cursor");
    /* a tampered receipt: one proof hash changed */
    json_t *v = json_loads(p1, 0, NULL);
    json_t *o = json_array_get(json_object_get(v, "objects"), 0);
    char *rc = strdup(json_string_value(json_object_get(o, "x_comity_receipt")));
    char *h = strstr(rc, "\n") + 1;
    h = strstr(h, "\n") + 1; /* the first proof hash */
    h[0] = h[0] == 'A' ? 'B' : 'A';
    json_object_set_new(o, "x_comity_receipt", json_string(rc));
    char *bad = json_dumps(v, JSON_COMPACT);
    TU_FAILS(verify_text(&f, bad, NULL, 0, E), COMITY_ERR_VERIFY, "does not prove");
    free(bad);
    free(rc);
    /* another record's envelope under this receipt */
    json_object_set(o, "dsse_envelope",
                    json_object_get(json_array_get(json_object_get(v, "objects"), 1),
                                    "dsse_envelope"));
    bad = json_dumps(v, JSON_COMPACT);
    TU_FAILS(verify_text(&f, bad, NULL, 0, E), COMITY_ERR_INVALID, "holds record");
    free(bad);
    json_decref(v);
    /* signed by another key: refused */
    comity_nkey *k2;
    comity_vkey *v2;
    TU_OK(comity_nkey_generate("comity.pk.test", COMITY_NOTE_ED25519, &k2, E));
    TU_OK(comity_vkey_parse(comity_nkey_vkey(k2), strlen(comity_nkey_vkey(k2)), &v2, E));
    comity_vkey *keep = f.lv;
    f.lv = v2;
    TU_FAILS(verify_text(&f, p1, NULL, 0, E), COMITY_ERR_VERIFY, NULL);
    f.lv = keep;
    comity_vkey_free(v2);
    comity_nkey_free(k2);
    /* the log grows: the new checkpoint is checked for consistency */
    for (size_t i = 3; i < 5; i++) {
        comity_record_params pp = {.type = "note", .tlp = "green"};
        size_t len;
        TU_OK(comity_record_sign(f.author, &pp, "{\"n\":2}", 7, &f.env[i], &len, E));
        comity_record *r;
        TU_OK(comity_record_parse(f.env[i], len, &r, E));
        const char *entry = comity_record_entry(r);
        TU_OK(comity_log_append(f.log, entry, strlen(entry), 1, &f.idx[i], E));
        comity_record_free(r);
    }
    TU_OK(comity_log_checkpoint(f.log, NULL, NULL, E));
    char *p2 = page_of(&f, 3, 5, 5);
    TU_OK(verify_text(&f, p2, cp1, 3, E));
    /* a split view: a checkpoint of the same size with another root, and
     * one smaller than the last accepted */
    char fork[] = "comity.pk.test\n3\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n";
    char *forked = NULL;
    size_t fl;
    const comity_nkey *keys[1] = {f.lk};
    TU_OK(comity_note_sign(fork, strlen(fork), keys, 1, &forked, &fl, E));
    TU_FAILS(verify_text(&f, p1, forked, 0, E), COMITY_ERR_CONFLICT, "other roots");
    char *cp2 = NULL;
    TU_OK(comity_log_read_checkpoint(f.log, &cp2, &cl, NULL, NULL, E));
    /* p1 was proven against size 3: smaller than 5 now accepted */
    TU_FAILS(verify_text(&f, p1, cp2, 0, E), COMITY_ERR_CONFLICT, "after one of");
    /* a growth whose proof does not hold: the last accepted was the fork */
    TU_FAILS(verify_text(&f, p2, forked, 3, E), COMITY_ERR_CONFLICT, "not consistent");
    comity_free(forked);
    comity_free(cp2);
    free(p2);
    free(p1);
    comity_free(cp1);
    fixture_free(&f);
}

/* ---- split views of two sizes, witnesses ----------------------------------------- */

/* A log in DIR/NAME under key k with entries "<tag><i>" for i < n. */
static comity_log *log_of(const comity_nkey *k, const char *name, const char *tag, size_t n)
{
    char ld[1100];
    snprintf(ld, sizeof ld, "%s/%s", dir, name);
    comity_log *l;
    TU_OK(comity_log_create(ld, "comity.pk.test", k, NULL, E));
    TU_OK(comity_log_open(ld, COMITY_LOG_WRITE, k, &l, E));
    for (size_t i = 0; i < n; i++) {
        char e[32];
        uint64_t idx;
        snprintf(e, sizeof e, "%s%zu", tag, i);
        TU_OK(comity_log_append(l, e, strlen(e), 1, &idx, E));
    }
    TU_OK(comity_log_checkpoint(l, NULL, NULL, E));
    return l;
}

/* The equivocation of `small` (its checkpoint) against `big`'s tree. */
static comity_err split_note(const comity_nkey *k, const comity_vkey *v, comity_log *small,
                             comity_log *big, bool tamper, comity_error *err)
{
    char *a, *b, *eq = NULL, origin[CY_ORIGIN_MAX + 1];
    size_t al, bl, eql, nh;
    uint64_t m, n;
    uint8_t sub[32], *h;
    TU_OK(comity_log_read_checkpoint(small, &a, &al, &m, NULL, E));
    TU_OK(comity_log_read_checkpoint(big, &b, &bl, &n, NULL, E));
    TU_OK(comity_log_root(big, m, sub, E));
    TU_OK(comity_log_consistency(big, m, n, &h, &nh, E));
    if (tamper)
        sub[0] ^= 1;
    TU_OK(cy_equiv_make(k, "comity.pk.test", a, al, b, bl, sub, h, nh, &eq, &eql, E));
    comity_err rc = cy_equiv_check(eq, eql, v, origin, err);
    comity_free(eq);
    cy_free(h);
    comity_free(a);
    comity_free(b);
    return rc;
}

static void test_split_sizes(void **state)
{
    (void)state;
    comity_nkey *k;
    comity_vkey *v;
    TU_OK(comity_nkey_generate("comity.pk.test", COMITY_NOTE_ED25519, &k, E));
    TU_OK(comity_vkey_parse(comity_nkey_vkey(k), strlen(comity_nkey_vkey(k)), &v, E));
    comity_log *a2 = log_of(k, "a2", "a", 2), *a3 = log_of(k, "a3", "a", 3);
    comity_log *f5 = log_of(k, "f5", "f", 5), *a5 = log_of(k, "a5", "a", 5);
    /* a fork: sizes 2 (a power of two: the subroot carries it) and 3 */
    TU_OK(split_note(k, v, a2, f5, false, E));
    TU_OK(split_note(k, v, a3, f5, false, E));
    /* the same history grown: no split */
    TU_FAILS(split_note(k, v, a2, a5, false, E), COMITY_ERR_VERIFY, "extends");
    TU_FAILS(split_note(k, v, a3, a5, false, E), COMITY_ERR_VERIFY, "extends");
    /* a hash that is not the larger tree's: it proves nothing */
    TU_FAILS(split_note(k, v, a2, f5, true, E), COMITY_ERR_VERIFY, "does not lead");
    TU_FAILS(split_note(k, v, a3, f5, true, E), COMITY_ERR_VERIFY, "disagree");
    comity_log_close(a2);
    comity_log_close(a3);
    comity_log_close(f5);
    comity_log_close(a5);
    comity_vkey_free(v);
    comity_nkey_free(k);
}

/* DIR/peers.pins (tlspin.c): a pin kept is read back; a file with a line
 * that is not "ORIGIN sha256//BASE64" is refused whole, naming the file
 * and the line, for any origin asked, and `peer add` leaves it as it is;
 * empty lines are allowed. */
static void test_pins_file(void **state)
{
    (void)state;
    static const char good[] = "sha256//47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
    char pin[CY_TLS_PIN_BUF], f[1300];
    snprintf(f, sizeof f, "%s/peers.pins", dir);
    TU_OK(cy_sync_pin_get(dir, "a.example", pin, E));
    assert_string_equal(pin, "");
    TU_OK(cy_sync_pins_check(dir, E));
    TU_OK(cy_sync_pin_set(dir, "a.example", good, E));
    TU_OK(cy_sync_pin_get(dir, "a.example", pin, E));
    assert_string_equal(pin, good);
    TU_OK(cy_sync_pin_get(dir, "b.example", pin, E));
    assert_string_equal(pin, "");
    /* each malformed third line, after a good one and an empty line */
#define L(lit) {lit, sizeof lit - 1}
    static const struct {
        const char *line;
        size_t len;
    } bad[] = {
        L("b.example sha256//short"),
        L("b.example"),
        L("b.example  sha256//47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="),
        L(" sha256//47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="),
        L("b.example sha256/47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="),
        L("b.example sha256//47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\r"),
        L("b.example sha256//47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;x"),
        L("b.ex\x01mple sha256//47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="),
        L("b.example sha256//47DEQpj8HBSa+/TImW+5JCeu\0eRkm5NMpJWZG3hSuFU="),
    };
#undef L
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[512];
        int n = snprintf(text, sizeof text, "a.example %s\n\n", good);
        memcpy(text + n, bad[i].line, bad[i].len);
        size_t len = (size_t)n + bad[i].len;
        text[len++] = '\n';
        TU_OK(comity_write_file(f, text, len, 0644, 0, E));
        char want[1400];
        snprintf(want, sizeof want, "%s line 3", f);
        print_message("line %zu\n", i);
        TU_FAILS(cy_sync_pin_get(dir, "a.example", pin, E), COMITY_ERR_INVALID, want);
        assert_string_equal(pin, "");
        TU_FAILS(cy_sync_pin_get(dir, "b.example", pin, E), COMITY_ERR_INVALID, want);
        TU_FAILS(cy_sync_pins_check(dir, E), COMITY_ERR_INVALID, want);
        TU_FAILS(cy_sync_pin_set(dir, "c.example", good, E), COMITY_ERR_INVALID, want);
        size_t got_len = 0;
        char *got = tu_slurp(f, &got_len);
        assert_int_equal(got_len, len);
        assert_memory_equal(got, text, len);
        free(got);
    }
}

/* Collects cy_log_cosigned's rows. */
struct rows {
    uint64_t size[8];
    size_t n;
};

static int row_cb(void *ctx, uint64_t size, const char *note, size_t len)
{
    struct rows *r = ctx;
    (void)note;
    assert_true(len > 0);
    r->size[r->n++] = size;
    return 0;
}

/* Cosigns the log's latest checkpoint by witness key w at time t. */
static void cosign_at(comity_log *l, const comity_nkey *w, const comity_vkey *wv, uint64_t t)
{
    char *cp, *line;
    size_t cl;
    TU_OK(comity_log_read_checkpoint(l, &cp, &cl, NULL, NULL, E));
    TU_OK(comity_cosign(w, cp, cl, t, &line, E));
    const comity_vkey *ws[1] = {wv};
    TU_OK(comity_log_add_cosignatures(l, line, strlen(line), ws, 1, E));
    comity_free(cp);
    comity_free(line);
}

/* The answer GET /federation/cosigned gives for from, to, upto (as
 * src/node/federation.c builds it), its checkpoints left "" (note_cb
 * fills them). */
static char *answer_of(comity_log *l, uint64_t from, uint64_t to, uint64_t upto)
{
    struct rows r = {0};
    uint64_t since = 99;
    TU_OK(cy_log_cosigned(l, from, to, upto, 8, &since, row_cb, &r, E));
    json_t *a = json_array();
    for (size_t i = 0; i < r.n; i++) {
        json_t *pr = json_array();
        if (r.size[i] < upto) {
            uint8_t *h;
            size_t n;
            TU_OK(comity_log_consistency(l, r.size[i], upto, &h, &n, E));
            for (size_t k = 0; k < n; k++) {
                char b[COMITY_TLOG_HASH_B64];
                comity_tlog_hash_b64(h + k * COMITY_TLOG_HASH, b);
                json_array_append_new(pr, json_string(b));
            }
            comity_free(h);
        }
        json_array_append_new(a, json_pack("{s:I, s:s, s:o}", "size", (json_int_t)r.size[i],
                                           "checkpoint", "", "proof", pr));
    }
    json_t *o = json_pack("{s:I, s:I, s:o}", "since", (json_int_t)since, "size",
                          (json_int_t)upto, "checkpoints", a);
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

static int note_cb(void *ctx, uint64_t size, const char *note, size_t len)
{
    json_t *a = ctx;
    for (size_t i = 0; i < json_array_size(a); i++) {
        json_t *o = json_array_get(a, i);
        if ((uint64_t)json_integer_value(json_object_get(o, "size")) == size)
            json_object_set_new(o, "checkpoint", json_stringn(note, len));
    }
    return 0;
}

/* W, the time the witness quorum first held for a checkpoint covering a
 * record (docs/federation.md, section 6): the policy's quorum time, the
 * origin's kept cosigned checkpoints, their checks, W per index, and the
 * rule's margins. */
static void test_firstseen(void **state)
{
    (void)state;
    comity_nkey *lk, *wa, *wb, *wc;
    comity_vkey *va, *vb, *vc, *lv;
    TU_OK(comity_nkey_generate("comity.pk.test", COMITY_NOTE_ED25519, &lk, E));
    TU_OK(comity_nkey_generate("wa.test", COMITY_NOTE_COSIG_V1, &wa, E));
    TU_OK(comity_nkey_generate("wb.test", COMITY_NOTE_COSIG_V1, &wb, E));
    TU_OK(comity_nkey_generate("wc.test", COMITY_NOTE_COSIG_V1, &wc, E));
    TU_OK(comity_vkey_parse(comity_nkey_vkey(lk), strlen(comity_nkey_vkey(lk)), &lv, E));
    TU_OK(comity_vkey_parse(comity_nkey_vkey(wa), strlen(comity_nkey_vkey(wa)), &va, E));
    TU_OK(comity_vkey_parse(comity_nkey_vkey(wb), strlen(comity_nkey_vkey(wb)), &vb, E));
    TU_OK(comity_vkey_parse(comity_nkey_vkey(wc), strlen(comity_nkey_vkey(wc)), &vc, E));
    char pol[1024];
    snprintf(pol, sizeof pol, "witness a %s\nwitness b %s\nwitness c %s\n"
             "group two 2 a b c\nquorum two\n", comity_nkey_vkey(wa), comity_nkey_vkey(wb),
             comity_nkey_vkey(wc));
    comity_policy *p;
    TU_OK(comity_policy_parse(pol, strlen(pol), &p, E));

    /* size 3: a (colluding with the origin) cosigns at 1000, b at 5000,
     * c at 6000: the 2-of-3 quorum first held at 5000, not 1000 */
    comity_log *l = log_of(lk, "fs", "x", 3);
    cosign_at(l, wa, va, 1000);
    char *cp;
    size_t cl;
    uint64_t t = 7;
    TU_OK(comity_log_read_checkpoint(l, &cp, &cl, NULL, NULL, E));
    TU_FAILS(cy_policy_quorum_time(p, cp, cl, NULL, &t, E), COMITY_ERR_VERIFY, "quorum");
    comity_free(cp);
    cosign_at(l, wc, vc, 6000);
    cosign_at(l, wb, vb, 5000);
    TU_OK(comity_log_read_checkpoint(l, &cp, &cl, NULL, NULL, E));
    TU_OK(cy_policy_quorum_time(p, cp, cl, NULL, &t, E));
    assert_int_equal(t, 5000);
    comity_free(cp);
    /* a second colluder: two of three meet the quorum, and move it (the
     * quorum's promise: fewer than it cannot) */
    comity_policy *p3;
    snprintf(pol, sizeof pol, "witness a %s\nwitness b %s\nwitness c %s\n"
             "group all3 all a b c\nquorum all3\n", comity_nkey_vkey(wa), comity_nkey_vkey(wb),
             comity_nkey_vkey(wc));
    TU_OK(comity_policy_parse(pol, strlen(pol), &p3, E));
    TU_OK(comity_log_read_checkpoint(l, &cp, &cl, NULL, NULL, E));
    TU_OK(cy_policy_quorum_time(p3, cp, cl, NULL, &t, E));
    assert_int_equal(t, 6000);
    comity_free(cp);
    comity_policy_free(p3);

    /* size 5: b at 7000, c at 7100 (quorum 7100); size 6: none */
    for (int i = 0; i < 2; i++) {
        uint64_t idx;
        TU_OK(comity_log_append(l, "y", 1, 1, &idx, E));
    }
    TU_OK(comity_log_checkpoint(l, NULL, NULL, E));
    cosign_at(l, wb, vb, 7000);
    cosign_at(l, wc, vc, 7100);
    uint64_t idx;
    TU_OK(comity_log_append(l, "z", 1, 1, &idx, E));
    TU_OK(comity_log_checkpoint(l, NULL, NULL, E));
    uint8_t root6[32];
    uint64_t size6;
    TU_OK(comity_log_read_checkpoint(l, &cp, &cl, &size6, root6, E));
    assert_int_equal(size6, 6);
    comity_free(cp);

    /* the kept rows: the first covering `from` up to the first covering `to` */
    struct rows r = {0};
    uint64_t since = 9;
    TU_OK(cy_log_cosigned(l, 0, 1, 6, 8, &since, row_cb, &r, E));
    assert_int_equal(since, 0);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.size[0], 3);
    r.n = 0;
    TU_OK(cy_log_cosigned(l, 2, 4, 6, 8, &since, row_cb, &r, E));
    assert_int_equal(r.n, 2);
    assert_int_equal(r.size[1], 5);
    r.n = 0;
    TU_OK(cy_log_cosigned(l, 5, 5, 6, 8, &since, row_cb, &r, E));
    assert_int_equal(r.n, 0); /* size 6 was never cosigned */

    /* W of a record logged here, from the log's own table: the quorum's
     * time on the first covering checkpoint where it holds */
    int64_t lw = -1;
    TU_OK(cy_firstseen_local(l, p, 0, &lw, E));
    assert_true(lw == 5000000);
    TU_OK(cy_firstseen_local(l, p, 2, &lw, E));
    assert_true(lw == 5000000);
    TU_OK(cy_firstseen_local(l, p, 3, &lw, E));
    assert_true(lw == 7100000);
    TU_OK(cy_firstseen_local(l, p, 4, &lw, E));
    assert_true(lw == 7100000);
    TU_OK(cy_firstseen_local(l, p, 5, &lw, E)); /* not cosigned yet: unknown */
    assert_true(lw == 0);
    TU_OK(cy_firstseen_local(l, NULL, 0, &lw, E)); /* no policy: unknown */
    assert_true(lw == 0);
    /* a reader opened beside the writer (the CLI beside a serving node):
     * the same rows, through its own read-only handle on log.db, and the
     * same W */
    char ld[1100];
    snprintf(ld, sizeof ld, "%s/fs", dir);
    comity_log *rl;
    TU_OK(comity_log_open(ld, COMITY_LOG_READ, NULL, &rl, E));
    r.n = 0;
    since = 9;
    TU_OK(cy_log_cosigned(rl, 0, 4, 6, 8, &since, row_cb, &r, E));
    assert_int_equal(since, 0);
    assert_int_equal(r.n, 2);
    assert_int_equal(r.size[0], 3);
    assert_int_equal(r.size[1], 5);
    const int64_t want_w[] = {5000000, 5000000, 5000000, 7100000, 7100000, 0};
    for (uint64_t i = 0; i < 6; i++) {
        TU_OK(cy_firstseen_local(rl, p, i, &lw, E));
        assert_true(lw == want_w[i]);
    }
    /* a cosignature the writer keeps after the reader opened: seen too */
    cosign_at(l, wb, vb, 8000);
    cosign_at(l, wc, vc, 8100);
    TU_OK(cy_firstseen_local(rl, p, 5, &lw, E));
    assert_true(lw == 8100000);
    comity_log_close(rl);

    /* the answer checked against the page's checkpoint (size 6) */
    char *ans = answer_of(l, 0, 4, 6);
    json_t *doc = json_loads(ans, 0, NULL);
    free(ans);
    TU_OK(cy_log_cosigned(l, 0, 4, 6, 8, &since, note_cb, json_object_get(doc, "checkpoints"),
                          E));
    ans = json_dumps(doc, JSON_COMPACT);
    cy_cosigned_answer a;
    TU_OK(cy_cosigned_parse(ans, strlen(ans), &a, E));
    assert_int_equal(a.n, 2);
    uint64_t qt[2];
    TU_OK(cy_cosigned_times(&a, lv, p, 6, root6, qt, E));
    assert_int_equal(qt[0], 5000);
    assert_int_equal(qt[1], 7100);
    /* another root for size 6: the proofs do not lead there */
    uint8_t other[32];
    memcpy(other, root6, 32);
    other[0] ^= 1;
    TU_FAILS(cy_cosigned_times(&a, lv, p, 6, other, qt, E), COMITY_ERR_VERIFY, "size 3");
    /* under another log key: refused */
    TU_FAILS(cy_cosigned_times(&a, va, p, 6, root6, qt, E), COMITY_ERR_VERIFY, NULL);
    cy_cosigned_answer_free(&a);
    free(ans);
    /* a proof hash changed */
    json_t *h0 = json_array_get(json_object_get(json_array_get(json_object_get(doc,
                                                "checkpoints"), 0), "proof"), 0);
    char flip[64];
    snprintf(flip, sizeof flip, "%s", json_string_value(h0));
    flip[0] = flip[0] == 'A' ? 'B' : 'A';
    json_string_set(h0, flip);
    ans = json_dumps(doc, JSON_COMPACT);
    TU_OK(cy_cosigned_parse(ans, strlen(ans), &a, E));
    TU_FAILS(cy_cosigned_times(&a, lv, p, 6, root6, qt, E), COMITY_ERR_VERIFY, "size 3");
    cy_cosigned_answer_free(&a);
    free(ans);
    json_decref(doc);
    /* shapes refused: sizes not increasing, beyond the size, a proof too long */
    const char *bad[] = {
        "{\"since\":0,\"size\":6,\"checkpoints\":[{\"size\":5,\"checkpoint\":\"\",\"proof\":[]},"
        "{\"size\":3,\"checkpoint\":\"\",\"proof\":[]}]}",
        "{\"since\":0,\"size\":6,\"checkpoints\":[{\"size\":7,\"checkpoint\":\"\",\"proof\":[]}]}",
        "{\"since\":0,\"size\":6,\"checkpoints\":[{\"size\":3,\"checkpoint\":\"\",\"proof\":[1]}]}",
        "{\"since\":0,\"size\":6,\"since\":1,\"checkpoints\":[]}",
        "{\"since\":-1,\"size\":6,\"checkpoints\":[]}",
        "[]",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_not_equal(cy_cosigned_parse(bad[i], strlen(bad[i]), &a, NULL), COMITY_OK);
        cy_cosigned_answer_free(&a);
    }

    /* W per index: the earliest quorum time among the checkpoints above it */
    const uint64_t sizes[] = {3, 5, 6}, times[] = {5000, 7100, UINT64_MAX};
    const uint64_t ix[] = {0, 2, 3, 4, 5};
    int64_t w[5];
    cy_firstseen_w(sizes, times, 3, 0, ix, 5, w);
    assert_int_equal(w[0], 5000000);
    assert_int_equal(w[1], 5000000);
    assert_int_equal(w[2], 7100000);
    assert_int_equal(w[3], 7100000);
    assert_int_equal(w[4], 0); /* only size 6 covers it: no quorum on it, no W */
    /* a later checkpoint cosigned earlier (clocks): it counts for all below it */
    const uint64_t times2[] = {5000, 4000, 9000};
    cy_firstseen_w(sizes, times2, 3, 0, ix, 5, w);
    assert_int_equal(w[0], 4000000);
    assert_int_equal(w[4], 9000000);
    /* below `since` (a log older than its table): no W */
    cy_firstseen_w(sizes, times, 3, 3, ix, 5, w);
    assert_int_equal(w[1], 0);
    assert_int_equal(w[2], 7100000);

    /* the margins: created may be CY_SYNC_CREATED_BEHIND_MS before W, not 1 ms more */
    comity_key *author;
    TU_OK(comity_key_generate("pk.mofa", &author, E));
    comity_record_params rp = {.type = "note", .tlp = "green"};
    char *env;
    size_t el;
    TU_OK(comity_record_sign(author, &rp, "{}", 2, &env, &el, E));
    comity_record *rec = NULL;
    TU_OK(comity_record_parse(env, el, &rec, E));
    int64_t c = comity_record_created_ms(rec);
    TU_OK(cy_witness_created_behind_check(rec, c + CY_SYNC_CREATED_BEHIND_MS, E));
    TU_FAILS(cy_witness_created_behind_check(rec, c + CY_SYNC_CREATED_BEHIND_MS + 1, E),
             COMITY_ERR_DENIED, "before the witnesses' quorum");
    TU_OK(cy_witness_created_behind_check(rec, 0, E)); /* W not known */
    TU_OK(cy_witness_created_behind_check(rec, c - 3600 * 1000, E));
    assert_int_equal(CY_SYNC_CREATED_BEHIND_MS, 11 * 60 * 1000);
    comity_record_free(rec);
    comity_free(env);
    comity_key_free(author);

    comity_log_close(l);
    comity_policy_free(p);
    comity_vkey_free(lv);
    comity_vkey_free(va);
    comity_vkey_free(vb);
    comity_vkey_free(vc);
    comity_nkey_free(lk);
    comity_nkey_free(wa);
    comity_nkey_free(wb);
    comity_nkey_free(wc);
}

static void test_witness_policy(void **state)
{
    (void)state;
    comity_nkey *lk, *wk;
    TU_OK(comity_nkey_generate("comity.pk.test", COMITY_NOTE_ED25519, &lk, E));
    TU_OK(comity_nkey_generate("comity.in.test", COMITY_NOTE_COSIG_V1, &wk, E));
    char pol[512];
    snprintf(pol, sizeof pol, "witness in %s\nquorum in\n", comity_nkey_vkey(wk));
    TU_OK(cy_witness_policy_set(dir, pol, strlen(pol), E));
    comity_policy *p = NULL;
    TU_OK(cy_witness_policy_load(dir, &p, E));
    assert_non_null(p);
    comity_log *l = log_of(lk, "w", "x", 3);
    char *cp, *line;
    size_t cl;
    TU_OK(comity_log_read_checkpoint(l, &cp, &cl, NULL, NULL, E));
    int64_t t = 0;
    TU_FAILS(cy_witness_check(p, cp, cl, &t, E), COMITY_ERR_VERIFY, "quorum");
    const uint64_t when = 1800000000; /* 2027-01-15 */
    TU_OK(comity_cosign(wk, cp, cl, when, &line, E));
    char *both = cy_malloc(cl + strlen(line) + 1);
    memcpy(both, cp, cl);
    strcpy(both + cl, line);
    TU_OK(cy_witness_check(p, both, strlen(both), &t, E));
    assert_int_equal(t, (int64_t)when * 1000);
    /* a record created now, against a witness time an hour before or after */
    comity_key *author;
    TU_OK(comity_key_generate("pk.mofa", &author, E));
    comity_record_params rp = {.type = "note", .tlp = "green"};
    char *env;
    size_t el;
    TU_OK(comity_record_sign(author, &rp, "{}", 2, &env, &el, E));
    comity_record *wrec = NULL;
    TU_OK(comity_record_parse(env, el, &wrec, E));
    TU_OK(cy_witness_created_check(wrec, cy_now_ms() + 3600 * 1000, E));
    TU_OK(cy_witness_created_check(wrec, cy_now_ms() - 60 * 1000, E));
    TU_FAILS(cy_witness_created_check(wrec, cy_now_ms() - 3600 * 1000, E), COMITY_ERR_DENIED,
             "after the witnesses");
    comity_record_free(wrec);
    /* a policy without a quorum is refused, none removes it */
    TU_FAILS(cy_witness_policy_set(dir, "quorum\n", 7, E), COMITY_ERR_INVALID, NULL);
    TU_OK(cy_witness_policy_set(dir, "", 0, E));
    comity_policy_free(p);
    TU_OK(cy_witness_policy_load(dir, &p, E));
    assert_null(p);
    comity_free(env);
    comity_key_free(author);
    cy_free(both);
    comity_free(line);
    comity_free(cp);
    comity_log_close(l);
    comity_nkey_free(wk);
    comity_nkey_free(lk);
}

/* ---- the roster ---------------------------------------------------------------- */

/* ---- records waiting for their refs ------------------------------------------ */

struct waited {
    char env[4][64];
    int64_t w[4];
    int n;
};

static int waited_cb(void *ctx, const char *file, const char *env, size_t len, int64_t waited_ms,
                     int64_t w_ms)
{
    (void)file;
    (void)waited_ms;
    struct waited *wt = ctx;
    snprintf(wt->env[wt->n], sizeof wt->env[0], "%.*s", (int)len, env);
    wt->w[wt->n++] = w_ms;
    return 0;
}

/* A parked record keeps the W its page gave it, and is handed back with
 * it, its envelope unchanged (section 6); one parked without a W (or
 * before W was kept) comes back with W unknown; another origin's are not
 * walked. */
static void test_waiting_w(void **state)
{
    (void)state;
    TU_OK(cy_waiting_park(dir, "comity.a", 7, "{\"payload\":1}", 13, 1795000000123, E));
    TU_OK(cy_waiting_park(dir, "comity.a", 9, "{\"payload\":2}", 13, 0, E));
    TU_OK(cy_waiting_park(dir, "comity.b", 1, "{\"payload\":3}", 13, 55, E));
    /* pulled again after a crash: already waiting, W as first kept */
    TU_OK(cy_waiting_park(dir, "comity.a", 7, "{\"payload\":1}", 13, 99, E));
    struct waited wt = {0};
    size_t all = 0;
    TU_OK(cy_waiting_each(dir, "comity.a", waited_cb, &wt, &all, E));
    assert_int_equal(all, 3);
    assert_int_equal(wt.n, 2);
    assert_string_equal(wt.env[0], "{\"payload\":1}");
    assert_int_equal(wt.w[0], 1795000000123);
    assert_string_equal(wt.env[1], "{\"payload\":2}");
    assert_int_equal(wt.w[1], 0);
}

/* W of the roster test's records, by id (0: unknown). */
struct ws_by_id {
    const char *id[4];
    int64_t w[4];
};

static int64_t w_by_id(void *ctx, const comity_record *r)
{
    const struct ws_by_id *m = ctx;
    for (int i = 0; i < 4; i++)
        if (m->id[i] && !strcmp(m->id[i], comity_record_id(r)))
            return m->w[i];
    return 0;
}

/* A state key's revocation weighed by the witnesses' times in the fold
 * (cy_roster_build_w): two party records signed by pk's admitted key
 * before its revocation's created time; the first witnessed before the
 * revocation counts, the second, witnessed after it, is ignored naming
 * the rule, whatever order the records come in; W unknown as the rule
 * says, and no W at all (cy_roster_build): `created` alone. */
static void test_roster_revoked_w(void **state)
{
    (void)state;
    comity_key *a = NULL, *pk = NULL, *off = NULL;
    TU_OK(comity_key_generate("un.sec", &a, E));
    TU_OK(comity_key_generate("pk", &pk, E));
    TU_OK(comity_key_generate("pk.mofa", &off, E));
    char pol[1024];
    snprintf(pol, sizeof pol, "admitter %s\nquorum 1\n", comity_key_vkey(a));
    cy_roster_policy *p = NULL;
    TU_OK(cy_roster_policy_parse(pol, strlen(pol), &p, E));
    /* in created order: admit, party 1, party 2, revoke */
    char body[4][2048];
    comity_key *by[4] = {a, pk, pk, a};
    const char *types[4] = {"admission", "party", "party", "admission"};
    for (int i = 0; i < 4; i += 3)
        snprintf(body[i], sizeof body[i], "{\"state\":\"pk\",\"vkey\":\"%s\",\"action\":\"%s\"}",
                 comity_key_vkey(pk), i ? "revoke" : "admit");
    for (int i = 1; i < 3; i++)
        snprintf(body[i], sizeof body[i], "{\"office\":\"pk.mofa\",\"vkey\":\"%s\",\"recipient\":"
                 "\"%s\",\"home\":{\"log_vkey\":\"%s\",\"url\":\"https://n.pk\"},\"roles\":[\"r%d\"]}",
                 comity_key_vkey(off), comity_key_recipient(off), comity_key_vkey(a), i);
    char *env[4];
    size_t len[4];
    comity_record *rec[4];
    struct ws_by_id m = {{NULL}, {100, 200, 400, 300}}; /* party 2 witnessed after the revocation */
    for (int i = 0; i < 4; i++) {
        comity_record_params rp = {.type = types[i], .tlp = "clear"};
        TU_OK(comity_record_sign(by[i], &rp, body[i], strlen(body[i]), &env[i], &len[i], E));
        TU_OK(comity_record_parse(env[i], len[i], &rec[i], E));
        m.id[i] = comity_record_id(rec[i]);
        nanosleep(&(struct timespec){0, 3 * 1000 * 1000}, NULL); /* distinct created times */
    }
    const char *ev[4] = {env[0], env[1], env[2], env[3]}, *rv[4] = {env[3], env[2], env[1], env[0]};
    size_t lv[4] = {len[0], len[1], len[2], len[3]}, rl[4] = {len[3], len[2], len[1], len[0]};
    char *by_w = NULL, *rev = NULL, *plain = NULL;
    TU_OK(cy_roster_build_w(p, ev, lv, 4, w_by_id, &m, &by_w, E));
    TU_OK(cy_roster_build_w(p, rv, rl, 4, w_by_id, &m, &rev, E));
    assert_string_equal(by_w, rev); /* whatever order they come in */
    json_t *r = json_loads(by_w, 0, NULL);
    json_t *e = json_array_get(json_object_get(r, "parties"), 0);
    assert_string_equal(json_string_value(json_object_get(e, "record")), m.id[1]);
    json_t *ig = json_array_get(json_object_get(r, "ignored"), 0);
    assert_int_equal(json_array_size(json_object_get(r, "ignored")), 1);
    assert_string_equal(json_string_value(json_object_get(ig, "id")), m.id[2]);
    const char *why = json_string_value(json_object_get(ig, "why"));
    assert_non_null(strstr(why, "signed by pk's state key, revoked at "));
    assert_non_null(strstr(why, "the revocation's W 1970-01-01T00:00:00.300Z"));
    assert_non_null(strstr(why, "its W 1970-01-01T00:00:00.400Z"));
    json_decref(r);
    /* no W asked: created alone, the later record is the entry */
    TU_OK(cy_roster_build(p, ev, lv, 4, &plain, E));
    r = json_loads(plain, 0, NULL);
    e = json_array_get(json_object_get(r, "parties"), 0);
    assert_string_equal(json_string_value(json_object_get(e, "record")), m.id[2]);
    assert_int_equal(json_array_size(json_object_get(r, "ignored")), 0);
    json_decref(r);
    cy_free(plain);
    /* the revocation not witnessed yet: later than both, both count */
    m.w[3] = 0;
    TU_OK(cy_roster_build_w(p, ev, lv, 4, w_by_id, &m, &plain, E));
    assert_null(strstr(plain, "revoked at"));
    cy_free(plain);
    /* party 2 not witnessed, the revocation witnessed: ignored */
    m.w[3] = 300;
    m.w[2] = 0;
    TU_OK(cy_roster_build_w(p, ev, lv, 4, w_by_id, &m, &plain, E));
    assert_non_null(strstr(plain, "its W unknown"));
    cy_free(plain);
    /* party 2's W not to be told here (logged here, no log open): that
     * pair by created alone, so it counts */
    m.w[2] = CY_ROSTER_W_UNTOLD;
    TU_OK(cy_roster_build_w(p, ev, lv, 4, w_by_id, &m, &plain, E));
    assert_null(strstr(plain, "revoked at"));
    cy_free(plain);
    cy_free(by_w);
    cy_free(rev);
    for (int i = 0; i < 4; i++) {
        comity_record_free(rec[i]);
        comity_free(env[i]);
    }
    cy_roster_policy_free(p);
    comity_key_free(a);
    comity_key_free(pk);
    comity_key_free(off);
}

static void test_roster_policy(void **state)
{
    (void)state;
    comity_key *a = NULL, *b = NULL, *st = NULL, *off = NULL;
    assert_int_equal(comity_key_generate("un.sec", &a, NULL), COMITY_OK);
    assert_int_equal(comity_key_generate("ch.fdfa", &b, NULL), COMITY_OK);
    assert_int_equal(comity_key_generate("pk", &st, NULL), COMITY_OK);
    assert_int_equal(comity_key_generate("pk.mofa", &off, NULL), COMITY_OK);
    char good[2048], t[2048];
    snprintf(good, sizeof good, "# roster\nadmitter %s\nadmitter %s  # the second\nquorum 2\n"
             "state %s\n", comity_key_vkey(a), comity_key_vkey(b), comity_key_vkey(st));
    cy_roster_policy *p = NULL;
    assert_int_equal(cy_roster_policy_parse(good, strlen(good), &p, NULL), COMITY_OK);
    cy_roster_policy_free(p);
    assert_int_equal(cy_roster_policy_parse("apply auto\n", 11, &p, NULL), COMITY_OK);
    cy_roster_policy_free(p);
    assert_int_equal(cy_roster_policy_parse("apply manual\n", 13, &p, NULL), COMITY_OK);
    cy_roster_policy_free(p);
    const char *bad[] = {"quorum 0\n", "quorum 1\n", "bogus x\n", "state\n",
                         "apply\n", "apply always\n", "apply auto\napply manual\n",
                         "follow sometimes\n", "follow auto\nfollow auto\n",
                         "admitter %s\n", /* no quorum */
                         "admitter %s\nadmitter %s\nquorum 1\n", /* the same admitter twice */
                         "state %s\n", /* an office key, not a state's */
                         "quorum 1 2\n"};
    for (size_t i = 0; i < CY_ARRAY_LEN(bad); i++) {
        /* each %s is the office's key */
        size_t o = 0;
        for (const char *c = bad[i]; *c && o + 200 < sizeof t; c++)
            if (c[0] == '%' && c[1] == 's') {
                o += (size_t)snprintf(t + o, sizeof t - o, "%s", comity_key_vkey(off));
                c++;
            } else {
                t[o++] = *c;
            }
        t[o] = '\0';
        comity_error e = {0};
        p = NULL;
        assert_int_not_equal(cy_roster_policy_parse(t, strlen(t), &p, &e), COMITY_OK);
        assert_null(p);
        assert_non_null(strstr(e.msg, "roster policy"));
    }
    assert_int_not_equal(cy_roster_policy_parse("quorum 1\0", 9, &p, NULL), COMITY_OK);

    /* the fold: the same records in any order give the same roster */
    assert_int_equal(cy_roster_policy_parse(good, strlen(good), &p, NULL), COMITY_OK);
    comity_key *signers[4] = {a, b, st, st};
    char body[4][1024];
    const char *types[4] = {"admission", "admission", "party", "party"};
    comity_key *pk2 = NULL;
    assert_int_equal(comity_key_generate("pk", &pk2, NULL), COMITY_OK);
    for (int i = 0; i < 2; i++)
        snprintf(body[i], sizeof body[i], "{\"state\":\"pk\",\"vkey\":\"%s\",\"action\":\"admit\"}",
                 comity_key_vkey(pk2));
    for (int i = 2; i < 4; i++)
        snprintf(body[i], sizeof body[i], "{\"office\":\"pk.mofa\",\"vkey\":\"%s\",\"recipient\":"
                 "\"%s\",\"home\":{\"log_vkey\":\"%s\",\"url\":\"https://n.pk\"}%s}",
                 comity_key_vkey(off), comity_key_recipient(off), comity_key_vkey(st),
                 i == 3 ? ",\"roles\":[\"poc\"]" : "");
    signers[3] = pk2; /* by the admitted key (the pinned one signs the other) */
    char *env[4];
    size_t len[4];
    for (int i = 0; i < 4; i++) {
        comity_record_params rp = {.type = types[i], .tlp = "clear"};
        assert_int_equal(comity_record_sign(signers[i], &rp, body[i], strlen(body[i]), &env[i],
                                            &len[i], NULL), COMITY_OK);
    }
    char *first = NULL;
    const char *e0[4] = {env[0], env[1], env[2], env[3]};
    size_t l0[4] = {len[0], len[1], len[2], len[3]};
    assert_int_equal(cy_roster_build(p, e0, l0, 4, &first, NULL), COMITY_OK);
    assert_non_null(strstr(first, "\"party\": \"pk.mofa\""));
    static const int orders[3][4] = {{3, 2, 1, 0}, {2, 0, 3, 1}, {1, 3, 0, 2}};
    for (int o = 0; o < 3; o++) {
        const char *ev[4];
        size_t lv[4];
        for (int i = 0; i < 4; i++) {
            ev[i] = env[orders[o][i]];
            lv[i] = len[orders[o][i]];
        }
        char *other = NULL;
        assert_int_equal(cy_roster_build(p, ev, lv, 4, &other, NULL), COMITY_OK);
        assert_string_equal(first, other);
        cy_free(other);
    }
    /* under a policy without the admitters, only the pinned key counts */
    char *pinned = NULL;
    snprintf(t, sizeof t, "state %s\n", comity_key_vkey(st));
    cy_roster_policy *q = NULL;
    assert_int_equal(cy_roster_policy_parse(t, strlen(t), &q, NULL), COMITY_OK);
    assert_int_equal(cy_roster_build(q, e0, l0, 4, &pinned, NULL), COMITY_OK);
    assert_non_null(strstr(pinned, "no admitter of the roster policy"));
    cy_free(pinned);
    cy_roster_policy_free(q);
    /* a pinned key with its home: LOG_VKEY URL AGE1 after it */
    snprintf(t, sizeof t, "state %s %s https://n.pk %s\n", comity_key_vkey(st),
             comity_key_vkey(a), comity_key_recipient(st));
    assert_int_equal(cy_roster_policy_parse(t, strlen(t), &q, NULL), COMITY_OK);
    assert_int_equal(cy_roster_build(q, e0, l0, 4, &pinned, NULL), COMITY_OK);
    json_t *ro = json_loads(pinned, 0, NULL);
    json_t *s0 = json_array_get(json_object_get(ro, "states"), 0);
    assert_string_equal(json_string_value(json_object_get(json_object_get(s0, "home"),
                                                          "log_vkey")),
                        comity_key_vkey(a));
    assert_string_equal(json_string_value(json_object_get(json_object_get(s0, "home"),
                                                          "record")),
                        "pinned");
    assert_string_equal(json_string_value(json_object_get(s0, "recipient")),
                        comity_key_recipient(st));
    json_decref(ro);
    cy_free(pinned);
    cy_roster_policy_free(q);
    const char *sv = comity_key_vkey(st), *lv = comity_key_vkey(a);
    const char *rc = comity_key_recipient(st);
    char bad_home[4][2048];
    snprintf(bad_home[0], sizeof bad_home[0], "state %s %s https://n.pk\n", sv, lv);
    snprintf(bad_home[1], sizeof bad_home[1], "state %s %s ftp://n.pk %s\n", sv, lv, rc);
    snprintf(bad_home[2], sizeof bad_home[2], "state %s nope https://n.pk %s\n", sv, rc);
    snprintf(bad_home[3], sizeof bad_home[3], "state %s %s https://n.pk %s extra\n", sv, lv, rc);
    for (size_t i = 0; i < 4; i++) {
        comity_error e = {0};
        q = NULL;
        assert_int_not_equal(cy_roster_policy_parse(bad_home[i], strlen(bad_home[i]), &q, &e),
                             COMITY_OK);
        assert_null(q);
        assert_non_null(strstr(e.msg, "roster policy line 1"));
    }
    cy_free(first);
    for (int i = 0; i < 4; i++)
        comity_free(env[i]);
    cy_roster_policy_free(p);
    comity_key_free(a);
    comity_key_free(b);
    comity_key_free(st);
    comity_key_free(off);
    comity_key_free(pk2);
}

/* The size of the checkpoint a receipt is against, and whether it
 * verifies under log key lv with policy p (NULL: the log's key only). */
static uint64_t receipt_size(const char *proof, size_t len, const char *entry,
                             const comity_vkey *lv, const comity_policy *p, comity_err *rc)
{
    const comity_vkey *logs[1] = {lv};
    comity_checkpoint cp;
    memset(&cp, 0, sizeof cp);
    uint64_t idx = 0;
    *rc = comity_tlog_proof_verify(proof, len, entry, strlen(entry), logs, 1, p, &idx, &cp,
                                   NULL);
    if (*rc == COMITY_ERR_VERIFY) { /* the quorum: the size all the same */
        TU_OK(comity_tlog_proof_verify(proof, len, entry, strlen(entry), logs, 1, NULL, &idx,
                                       &cp, E));
    }
    return cp.size;
}

/* A record's receipt (docs/node.md, "Receipts"): against the newest
 * checkpoint covering it that the policy's quorum cosigned, even after
 * the log grew past it (a delivered record signed right after a fetch
 * does so); a checkpoint with fewer cosignatures than the quorum is
 * passed over, unless no checkpoint with the quorum covers the entry:
 * then the newest cosigned one; an entry no cosigned checkpoint covers,
 * or no policy, gets the newest checkpoint, as before. */
static void test_receipt_quorum(void **state)
{
    (void)state;
    comity_nkey *lk, *wa, *wb;
    comity_vkey *lv, *va, *vb;
    TU_OK(comity_nkey_generate("comity.pk.test", COMITY_NOTE_ED25519, &lk, E));
    TU_OK(comity_nkey_generate("wa.test", COMITY_NOTE_COSIG_V1, &wa, E));
    TU_OK(comity_nkey_generate("wb.test", COMITY_NOTE_COSIG_V1, &wb, E));
    TU_OK(comity_vkey_parse(comity_nkey_vkey(lk), strlen(comity_nkey_vkey(lk)), &lv, E));
    TU_OK(comity_vkey_parse(comity_nkey_vkey(wa), strlen(comity_nkey_vkey(wa)), &va, E));
    TU_OK(comity_vkey_parse(comity_nkey_vkey(wb), strlen(comity_nkey_vkey(wb)), &vb, E));
    char pol[1024];
    snprintf(pol, sizeof pol, "witness a %s\nwitness b %s\ngroup both all a b\nquorum both\n",
             comity_nkey_vkey(wa), comity_nkey_vkey(wb));
    comity_policy *p;
    TU_OK(comity_policy_parse(pol, strlen(pol), &p, E));

    /* size 3 cosigned by both; size 5 by one only; size 7 by none */
    comity_log *l = log_of(lk, "rq", "r", 3);
    cosign_at(l, wa, va, 1000);
    cosign_at(l, wb, vb, 1001);
    char *proof = NULL;
    size_t len = 0;
    comity_err rc;
    TU_OK(cy_witness_prove(l, p, 1, &proof, &len, E));
    assert_int_equal(receipt_size(proof, len, "r1", lv, p, &rc), 3);
    TU_OK(rc);
    comity_free(proof);
    for (int i = 3; i < 7; i++) {
        char e[32];
        uint64_t idx;
        snprintf(e, sizeof e, "r%d", i);
        TU_OK(comity_log_append(l, e, strlen(e), 1, &idx, E));
        if (i == 4) {
            TU_OK(comity_log_checkpoint(l, NULL, NULL, E));
            cosign_at(l, wa, va, 2000);
        }
    }
    TU_OK(comity_log_checkpoint(l, NULL, NULL, E));
    uint64_t size = 0;
    TU_OK(comity_log_read_checkpoint(l, NULL, NULL, &size, NULL, E));
    assert_int_equal(size, 7);

    /* entry 1: size 3 (5 lacks b), its quorum kept */
    TU_OK(cy_witness_prove(l, p, 1, &proof, &len, E));
    assert_int_equal(receipt_size(proof, len, "r1", lv, p, &rc), 3);
    TU_OK(rc);
    comity_free(proof);
    /* entry 2 too (the last size 3 covers) */
    TU_OK(cy_witness_prove(l, p, 2, &proof, &len, E));
    assert_int_equal(receipt_size(proof, len, "r2", lv, p, &rc), 3);
    TU_OK(rc);
    comity_free(proof);
    /* entry 3: no quorum covers it: the newest cosigned one, short of it */
    TU_OK(cy_witness_prove(l, p, 3, &proof, &len, E));
    assert_int_equal(receipt_size(proof, len, "r3", lv, p, &rc), 5);
    assert_int_equal(rc, COMITY_ERR_VERIFY);
    comity_free(proof);
    /* entry 5: no cosigned checkpoint covers it: the newest */
    TU_OK(cy_witness_prove(l, p, 5, &proof, &len, E));
    assert_int_equal(receipt_size(proof, len, "r5", lv, p, &rc), 7);
    assert_int_equal(rc, COMITY_ERR_VERIFY);
    comity_free(proof);
    /* without a policy: the newest */
    TU_OK(cy_witness_prove(l, NULL, 1, &proof, &len, E));
    assert_int_equal(receipt_size(proof, len, "r1", lv, NULL, &rc), 7);
    TU_OK(rc);
    comity_free(proof);
    char pol1[1024];
    snprintf(pol1, sizeof pol1, "witness a %s\nquorum a\n", comity_nkey_vkey(wa));
    comity_policy *pa;
    TU_OK(comity_policy_parse(pol1, strlen(pol1), &pa, E));
    /* under a policy that wants a only, size 5 will do, and is newer than 3 */
    TU_OK(cy_witness_prove(l, pa, 1, &proof, &len, E));
    assert_int_equal(receipt_size(proof, len, "r1", lv, pa, &rc), 5);
    TU_OK(rc);
    comity_free(proof);
    /* beyond the published tree: not yet */
    TU_FAILS(cy_witness_prove(l, p, 7, &proof, &len, E), COMITY_ERR_NOTFOUND, "not in the");
    assert_null(proof);
    comity_policy_free(pa);
    comity_log_close(l);
    comity_policy_free(p);
    comity_vkey_free(lv);
    comity_vkey_free(va);
    comity_vkey_free(vb);
    comity_nkey_free(lk);
    comity_nkey_free(wa);
    comity_nkey_free(wb);
}

/* ---- sealed files: a thread that did not start, a peer removed mid-turn ------- */

/* A peer of origin comity.in.test at a port nothing listens on. */
static void files_peer(comity_store *st, cy_peer *p)
{
    memset(p, 0, sizeof *p);
    p->added_us = 5;
    snprintf(p->origin, sizeof p->origin, "comity.in.test");
    snprintf(p->url, sizeof p->url, "http://127.0.0.1:1");
    snprintf(p->vkey, sizeof p->vkey, "comity.in.test+00000000+AQ");
    TU_OK(cy_store_peer_add(st, p, E));
}

/* The entries of DIR/sync-files (none when it is absent). */
static int files_entries(void)
{
    char d[1400];
    snprintf(d, sizeof d, "%s/sync-files", dir);
    DIR *h = opendir(d);
    if (!h)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(h)))
        n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    closedir(h);
    return n;
}

static json_t *listed_peer(comity_store *st)
{
    char *text = NULL;
    TU_OK(cy_sync_peer_list_dir(st, dir, &text, E));
    json_t *a = json_loads(text, 0, NULL);
    comity_free(text);
    assert_non_null(a);
    json_t *o = json_incref(json_array_get(a, 0));
    json_decref(a);
    assert_non_null(o);
    return o;
}

/* A libcurl handle set up as the puller's (its cookie in memory). */
static CURL *session_curl(void)
{
    CURL *c = curl_easy_init();
    assert_non_null(c);
    cy_sync_curl_session(c, NULL);
    return c;
}

/* The file store under the test's directory. */
static cy_files *files_open(void)
{
    char fdir[1400];
    snprintf(fdir, sizeof fdir, "%s/files", dir);
    cy_files *fs = NULL;
    TU_OK(cy_files_open(fdir, 1 << 20, &fs, E));
    return fs;
}

static void test_files_thread_error(void **state)
{
    (void)state;
    comity_store *st = NULL;
    TU_OK(comity_store_open(path, &st, E));
    cy_peer p;
    files_peer(st, &p);
    atomic_bool stop;
    atomic_init(&stop, false);
    /* a thread that cannot start (here: no file store to fetch into) */
    cy_sync_files_env env = {dir, st, NULL, &stop};
    cy_sync_files_thread *t = NULL;
    TU_FAILS(cy_sync_files_thread_start(&env, p.origin, &t, E), COMITY_ERR_USAGE, "file store");
    assert_null(t);
    /* peer list shows it as the peer's error, after a pull cleared the
     * store's (the records still come) */
    TU_OK(cy_store_peer_advance(st, p.origin, 3, NULL, 3, 9, E));
    json_t *o = listed_peer(st);
    const char *why = json_string_value(json_object_get(o, "files_error"));
    assert_non_null(why);
    assert_non_null(strstr(why, "sealed files"));
    assert_non_null(strstr(why, "did not start"));
    assert_non_null(strstr(json_string_value(json_object_get(o, "error")), why));
    json_decref(o);
    /* a store error and the thread's both stand */
    TU_OK(cy_store_peer_note(st, p.origin, "HTTP 503", 10, E));
    o = listed_peer(st);
    const char *both = json_string_value(json_object_get(o, "error"));
    assert_non_null(strstr(both, "HTTP 503"));
    assert_non_null(strstr(both, "did not start"));
    json_decref(o);
    /* started at last: the error goes */
    cy_files *fs = files_open();
    env.files = fs;
    TU_OK(cy_sync_files_thread_start(&env, p.origin, &t, E));
    cy_sync_files_thread_stop(t);
    TU_OK(cy_store_peer_advance(st, p.origin, 3, NULL, 0, 11, E));
    o = listed_peer(st);
    assert_null(json_object_get(o, "files_error"));
    assert_string_equal(json_string_value(json_object_get(o, "error")), "");
    json_decref(o);
    cy_files_close(fs);
    comity_store_close(st);
}

static void test_files_removed_mid_turn(void **state)
{
    (void)state;
    comity_store *st = NULL;
    TU_OK(comity_store_open(path, &st, E));
    cy_peer p;
    files_peer(st, &p);
    cy_files *fs = files_open();
    atomic_bool stop;
    atomic_init(&stop, false);
    cy_sync_files_env env = {dir, st, fs, &stop};
    CURL *c = session_curl();
    cy_sync_files_turn(c, &env, &p); /* the origin's directory, made */
    assert_int_equal(files_entries(), 1);
    /* `peer remove` lands after the files thread read the peer, before
     * its turn: the turn leaves nothing of the peer behind */
    TU_OK(cy_store_peer_remove(st, p.origin, E));
    TU_OK(cy_sync_files_forget(dir, p.origin, E));
    assert_int_equal(files_entries(), 0);
    cy_sync_files_turn(c, &env, &p);
    assert_int_equal(files_entries(), 0);
    curl_easy_cleanup(c);
    cy_files_close(fs);
    comity_store_close(st);
}

/* ---- a peer removed and added again while a pull is under way ----------------- */

static void test_peer_added_again(void **state)
{
    (void)state;
    comity_store *st = NULL;
    TU_OK(comity_store_open(path, &st, E));
    /* a fake time is the same for both rows: they differ all the same */
    setenv("COMITY_FAKE_NOW", "2026-12-07T05:00:00.000Z", 1);
    comity_nkey *k = NULL;
    TU_OK(comity_nkey_generate("comity.in.test", COMITY_NOTE_ED25519, &k, E));
    TU_OK(cy_sync_peer_add(st, NULL, "http://127.0.0.1:1", comity_nkey_vkey(k), NULL, NULL, 0,
                           E));
    /* the puller reads the row and pulls a page from its cursor ... */
    cy_peer read, now;
    TU_OK(cy_store_peer_get(st, "comity.in.test", &read, E));
    TU_OK(cy_sync_peer_advance(st, &read, 7, "cp\n", 7, E));
    TU_OK(cy_store_peer_get(st, "comity.in.test", &read, E));
    assert_int_equal(read.cursor, 7);
    /* ... while `peer remove` and `peer add` (here at another URL) run */
    TU_OK(cy_sync_peer_remove(st, "comity.in.test", E));
    TU_OK(cy_sync_peer_add(st, NULL, "http://127.0.0.1:2", comity_nkey_vkey(k), NULL, NULL, 0,
                           E));
    /* the page's cursor write does not land on the new row */
    TU_FAILS(cy_sync_peer_advance(st, &read, 1007, "cp2\n", 1000, E), COMITY_ERR_NOTFOUND,
             NULL);
    TU_FAILS(cy_sync_peer_advance(st, &read, 1007, NULL, 0, E), COMITY_ERR_NOTFOUND, NULL);
    TU_OK(cy_store_peer_get(st, "comity.in.test", &now, E));
    assert_true(now.added_us != read.added_us);
    assert_int_equal(now.cursor, 0);
    assert_string_equal(now.checkpoint, "");
    assert_int_equal(now.pulled, 0);
    assert_string_equal(now.url, "http://127.0.0.1:2");
    /* nor does a files turn of the old row write to it (its error here) */
    cy_files *fs = files_open();
    atomic_bool stop;
    atomic_init(&stop, false);
    cy_sync_files_env env = {dir, st, fs, &stop};
    CURL *c = session_curl();
    cy_sync_files_turn(c, &env, &read); /* its listing would fail: port 1 */
    TU_OK(cy_store_peer_get(st, "comity.in.test", &now, E));
    assert_string_equal(now.error, "");
    /* nor an error it notes before it reads the row again (its directory
     * cannot be made: sync-files is a file here), written on the row it was
     * given only (on the old code, on the new row) */
    char blocked[1400], plug[1500];
    snprintf(blocked, sizeof blocked, "%s/blocked", dir);
    assert_int_equal(mkdir(blocked, 0700), 0);
    snprintf(plug, sizeof plug, "%s/sync-files", blocked);
    TU_OK(comity_write_file(plug, "", 0, 0600, 0, E));
    cy_sync_files_env benv = {blocked, st, fs, &stop};
    cy_sync_files_turn(c, &benv, &read);
    TU_OK(cy_store_peer_get(st, "comity.in.test", &now, E));
    assert_string_equal(now.error, "");
    cy_sync_files_turn(c, &benv, &now); /* the new row's turn notes it */
    TU_OK(cy_store_peer_get(st, "comity.in.test", &now, E));
    assert_non_null(strstr(now.error, "sync files: mkdir"));
    cy_sync_files_turn(c, &env, &now); /* the new row's turn does list */
    TU_OK(cy_store_peer_get(st, "comity.in.test", &now, E));
    assert_non_null(strstr(now.error, "127.0.0.1:2"));
    curl_easy_cleanup(c);
    cy_files_close(fs);
    /* the new row's own pulls move it */
    TU_OK(cy_sync_peer_advance(st, &now, 3, NULL, 3, E));
    TU_OK(cy_store_peer_get(st, "comity.in.test", &now, E));
    assert_int_equal(now.cursor, 3);
    /* a peer removed for good: NOTFOUND, as before */
    TU_OK(cy_sync_peer_remove(st, "comity.in.test", E));
    TU_FAILS(cy_sync_peer_advance(st, &now, 4, NULL, 1, E), COMITY_ERR_NOTFOUND, NULL);
    unsetenv("COMITY_FAKE_NOW");
    comity_nkey_free(k);
    comity_store_close(st);
}

/* ---- records waiting for their refs of a peer removed ------------------------- */

static int count_waiting(void *ctx, const char *file, const char *env, size_t len,
                         int64_t waited, int64_t w_ms)
{
    (void)w_ms;
    (void)file;
    (void)env;
    (void)len;
    (void)waited;
    (*(size_t *)ctx)++;
    return 0;
}

static size_t waiting_of(const char *origin, size_t *all)
{
    size_t n = 0;
    TU_OK(cy_waiting_each(dir, origin, count_waiting, &n, all, E));
    return n;
}

static void test_waiting_forget(void **state)
{
    (void)state;
    size_t all = 0, dropped = 99;
    /* nothing ever waited: nothing to drop */
    TU_OK(cy_waiting_forget(dir, "comity.in.test", &dropped, E));
    assert_int_equal(dropped, 0);
    TU_OK(cy_waiting_park(dir, "comity.in.test", 3, "{}", 2, 0, E));
    TU_OK(cy_waiting_park(dir, "comity.in.test", 9, "{}", 2, 0, E));
    TU_OK(cy_waiting_park(dir, "comity.pk.test", 4, "{}", 2, 0, E));
    TU_OK(cy_waiting_park(dir, "comity.un.test", 5, "{}", 2, 0, E));
    assert_int_equal(waiting_of("comity.in.test", &all), 2);
    assert_int_equal(all, 4);
    /* `peer remove comity.in.test`: its two go, the others stay */
    TU_OK(cy_waiting_forget(dir, "comity.in.test", &dropped, E));
    assert_int_equal(dropped, 2);
    assert_int_equal(waiting_of("comity.in.test", &all), 0);
    assert_int_equal(all, 2);
    /* at start: only the origins with a peer row keep theirs */
    const char *peers[] = {"comity.pk.test", "comity.xx.test"};
    TU_OK(cy_waiting_keep_only(dir, peers, 2, &dropped, E));
    assert_int_equal(dropped, 1);
    assert_int_equal(waiting_of("comity.pk.test", &all), 1);
    assert_int_equal(all, 1);
    TU_OK(cy_waiting_keep_only(dir, NULL, 0, &dropped, E));
    assert_int_equal(dropped, 1);
    assert_int_equal(waiting_of("comity.pk.test", &all), 0);
    assert_int_equal(all, 0);
}

/* ---- a files thread that did not start, started again ------------------------- */

static void test_files_thread_retry(void **state)
{
    (void)state;
    comity_store *st = NULL;
    cy_peer p;
    atomic_bool stop;
    TU_OK(comity_store_open(path, &st, E));
    atomic_init(&stop, false);
    files_peer(st, &p);
    cy_sync_files_env env = {dir, st, NULL, &stop}; /* no file store: no start */
    cy_sync_files_thread *t = NULL;
    cy_sync_files_retry r = {0, 0};
    assert_false(cy_sync_files_thread_retry(&env, p.origin, &r, 1000, &t));
    assert_null(t);
    assert_int_equal(r.next_ms, 1000 + CY_SYNC_FILE_BACKOFF_MIN_MS);
    json_t *o = listed_peer(st);
    assert_non_null(json_object_get(o, "files_error"));
    json_decref(o);
    /* not before its back-off; then again, the wait doubling to its cap */
    cy_files *fs = files_open();
    cy_sync_files_env good = {dir, st, fs, &stop};
    assert_false(cy_sync_files_thread_retry(&good, p.origin, &r, 1999, &t));
    assert_null(t);
    assert_false(cy_sync_files_thread_retry(&env, p.origin, &r, 2000, &t));
    assert_int_equal(r.next_ms, 2000 + 2 * CY_SYNC_FILE_BACKOFF_MIN_MS);
    for (int i = 0; i < 12; i++)
        assert_false(cy_sync_files_thread_retry(&env, p.origin, &r, r.next_ms, &t));
    assert_int_equal(r.wait_ms, CY_SYNC_BACKOFF_MAX_MS);
    /* due, and it starts: the error goes, the back-off is over */
    assert_true(cy_sync_files_thread_retry(&good, p.origin, &r, r.next_ms, &t));
    assert_non_null(t);
    assert_int_equal(r.wait_ms, 0);
    o = listed_peer(st);
    assert_null(json_object_get(o, "files_error"));
    json_decref(o);
    /* running: nothing more */
    cy_sync_files_thread *was = t;
    assert_false(cy_sync_files_thread_retry(&good, p.origin, &r, 0, &t));
    assert_ptr_equal(t, was);
    cy_sync_files_thread_stop(t);
    cy_files_close(fs);
    comity_store_close(st);
}

int main(void)
{
    int skip_all = tu_store_skip();
    if (skip_all)
        return skip_all;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_peer_rows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fed_page_filter, setup, teardown),
        cmocka_unit_test(test_peer_visibility_cap),
        cmocka_unit_test(test_peer_file_visibility),
        cmocka_unit_test(test_page_fast),
        cmocka_unit_test(test_page_parse),
        cmocka_unit_test(test_roster_policy),
        cmocka_unit_test(test_roster_revoked_w),
        cmocka_unit_test_setup_teardown(test_waiting_w, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verify_page, setup, teardown),
        cmocka_unit_test_setup_teardown(test_split_sizes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_witness_policy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_firstseen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_receipt_quorum, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pins_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_files_thread_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_files_removed_mid_turn, setup, teardown),
        cmocka_unit_test_setup_teardown(test_peer_added_again, setup, teardown),
        cmocka_unit_test_setup_teardown(test_waiting_forget, setup, teardown),
        cmocka_unit_test_setup_teardown(test_files_thread_retry, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
