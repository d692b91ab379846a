/*
 * test_node.c: a node started in this process on a loopback port, talked to
 * with libcurl: the public node API's refusals (init, parties), token
 * rotation, the principal cache against writers in other processes (a
 * second handle on the same directory, as `comity party add|token` on a
 * running node; and a raw SQL writer that skips the shared counter), and
 * paging while other clients keep posting (a reader that follows `next`
 * sees every object exactly once even though batches commit concurrently
 * and share dates).
 */
#include <pthread.h>
#include <stdlib.h>
#include <strings.h>

#include <curl/curl.h>
#include <jansson.h>
#include <sodium.h>
#include <sqlite3.h>
#include <time.h>

#include "node/node.h"
#include "node/req.h"
#include "util/node.h"
#include "util/testutil.h"

#define VKEY_PUB "AddamAGCsQq31Uv+08lkBzoO4XLz2qYjJa8CGmj3B1Ea" /* 0x01 || RFC 8032 test 1 key */

static char *tmp;
static comity_node *node;
static char base[128];
static char optoken[128];
static char last_hdr[64]; /* X-TAXII-Date-Added-Last of the last response */

static size_t on_header(char *p, size_t sz, size_t n, void *ctx)
{
    (void)ctx;
    size_t k = sz * n;
    static const char name[] = "X-TAXII-Date-Added-Last: ";
    if (k > sizeof name - 1 && !strncasecmp(p, name, sizeof name - 1)) {
        size_t l = k - (sizeof name - 1);
        while (l && (p[sizeof name - 1 + l - 1] == '\r' || p[sizeof name - 1 + l - 1] == '\n'))
            l--;
        snprintf(last_hdr, sizeof last_hdr, "%.*s", (int)l, p + sizeof name - 1);
    }
    return k;
}

/* One HTTP request; returns the status, *out the body (caller frees). */
static long http(const char *method, const char *path, const char *userpwd, const char *body,
                 char **out)
{
    CURL *c = curl_easy_init();
    tu_sink s = {0};
    char url[512];
    snprintf(url, sizeof url, "%s%s", base, path);
    struct curl_slist *h = curl_slist_append(NULL, "Accept: " CY_MEDIA_TAXII);
    h = curl_slist_append(h, "Content-Type: " CY_MEDIA_TAXII);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, tu_sink_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    if (userpwd)
        curl_easy_setopt(c, CURLOPT_USERPWD, userpwd);
    if (body)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    long code = 0;
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    if (out)
        *out = s.buf;
    else
        free(s.buf);
    return code;
}

static int setup(void **state)
{
    (void)state;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    tmp = tu_tmpdir();
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/n", tmp);
    char tok[100];
    tu_node_make(dir, "test.example", tu_store_fresh(), &node, tok, sizeof tok);
    snprintf(optoken, sizeof optoken, "operator:%s", tok);
    tu_node_serve(node, NULL, base, sizeof base);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    comity_node_close(node);
    tu_rmrf(tmp);
    free(tmp);
    curl_global_cleanup();
    return 0;
}

/* A real signed-note vkey for `name` over the RFC 8032 test 1 key: key id
 * = SHA-256(name "\n" 0x01 key)[:4]. */
static void vkey_for(const char *name, char out[128])
{
    static const uint8_t pub[33] = {0x01, 0xd7, 0x5a, 0x98, 0x01, 0x82, 0xb1, 0x0a, 0xb7, 0xd5, 0x4b,
                                    0xfe, 0xd3, 0xc9, 0x64, 0x07, 0x3a, 0x0e, 0xe1, 0x72, 0xf3, 0xda,
                                    0xa6, 0x23, 0x25, 0xaf, 0x02, 0x1a, 0x68, 0xf7, 0x07, 0x51, 0x1a};
    uint8_t h[32], msg[128];
    size_t nl = strlen(name);
    memcpy(msg, name, nl);
    msg[nl] = '\n';
    memcpy(msg + nl + 1, pub, 33);
    crypto_hash_sha256(h, msg, nl + 34);
    snprintf(out, 128, "%s+%02x%02x%02x%02x+" VKEY_PUB, name, h[0], h[1], h[2], h[3]);
}

#define RECIPIENT "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"

static void test_api_refusals(void **state)
{
    (void)state;
    comity_node_init_opts o = {.origin = "bad origin"};
    comity_node_created made;
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/other", tmp);
    TU_FAILS(comity_node_init(dir, &o, &made, E), COMITY_ERR_USAGE, "origin");
    o.origin = "x+y";
    TU_FAILS(comity_node_init(dir, &o, &made, E), COMITY_ERR_USAGE, "'+'");
    o.origin = "ok.example";
    snprintf(dir, sizeof dir, "%s/n", tmp);
    TU_FAILS(comity_node_init(dir, &o, &made, E), COMITY_ERR_EXISTS, "not empty");
    comity_node *n2 = NULL;
    snprintf(dir, sizeof dir, "%s/none", tmp);
    TU_FAILS(comity_node_open(dir, &n2, E), COMITY_ERR_NOTFOUND, "comity init");

    char *tok = NULL, vk[128], other[128];
    vkey_for("pk", vk);
    vkey_for("in", other);
    TU_FAILS(comity_node_party_add(node, "PK", vk, RECIPIENT, &tok, E), COMITY_ERR_INVALID,
             "party name");
    TU_FAILS(comity_node_party_add(node, "pk", other, RECIPIENT, &tok, E), COMITY_ERR_INVALID,
             "not named 'pk+...'");
    TU_FAILS(comity_node_party_add(node, "pk", "pk+1+" VKEY_PUB, RECIPIENT, &tok, E),
             COMITY_ERR_INVALID, "key id");
    TU_FAILS(comity_node_party_add(node, "pk", vk, "age1xyz", &tok, E), COMITY_ERR_INVALID,
             "recipient");
    TU_FAILS(comity_node_party_add(node, "pk", NULL, RECIPIENT, &tok, E), COMITY_ERR_INVALID,
             "verifier key");
    TU_OK(comity_node_party_add(node, "pk", vk, RECIPIENT, &tok, E));
    comity_free(tok);
    TU_FAILS(comity_node_party_add(node, "pk", vk, RECIPIENT, &tok, E), COMITY_ERR_EXISTS,
             "already registered");
}

static void test_token_rotation(void **state)
{
    (void)state;
    char *old = NULL, *fresh = NULL, up[256];
    char vkey[128];
    vkey_for("in.cert", vkey);
    comity_err rc = comity_node_party_add(node, "in.cert", vkey, RECIPIENT, &old, E);
    TU_OK(rc);
    snprintf(up, sizeof up, "in.cert:%s", old);
    assert_int_equal(http("GET", "/comity/collections/", up, NULL, NULL), 200);
    TU_OK(comity_node_party_token(node, "in.cert", &fresh, E));
    assert_int_equal(http("GET", "/comity/collections/", up, NULL, NULL), 401);
    snprintf(up, sizeof up, "in.cert:%s", fresh);
    assert_int_equal(http("GET", "/comity/collections/", up, NULL, NULL), 200);
    TU_FAILS(comity_node_party_token(node, "nobody", &fresh, E), COMITY_ERR_NOTFOUND, NULL);
    char *list = NULL;
    TU_OK(comity_node_party_list(node, &list, E));
    assert_non_null(strstr(list, "\"in.cert\""));
    assert_null(strstr(list, old)); /* tokens are never listed */
    comity_free(list);
    comity_free(old);
    comity_free(fresh);
}

/* The node caches principals; `comity party add|token` changes them from
 * another process.  A second handle on the same directory writes the way
 * that command does: the node must see a new party and refuse a rotated
 * token at once (PostgreSQL: once the rotation's notification is in, and
 * at the latest after the recheck interval).  A writer that changes the table without touching the
 * shared counter (raw SQL, as a writer that died after its commit) is seen
 * within the cache's recheck interval (a second). */
static void test_token_cache_other_writer(void **state)
{
    (void)state;
    char dir[1024], vkey[128], up[256];
    snprintf(dir, sizeof dir, "%s/n", tmp);
    comity_node *other = NULL;
    TU_OK(comity_node_open(dir, &other, E));
    char *t1 = NULL, *t2 = NULL;
    vkey_for("de.bsi", vkey);
    TU_OK(comity_node_party_add(other, "de.bsi", vkey, RECIPIENT, &t1, E));
    snprintf(up, sizeof up, "de.bsi:%s", t1);
    assert_int_equal(http("GET", "/comity/collections/", up, NULL, NULL), 200);
    assert_int_equal(http("GET", "/comity/collections/", up, NULL, NULL), 200); /* cached */
    TU_OK(comity_node_party_token(other, "de.bsi", &t2, E));
    /* PostgreSQL: the rotation's notification reaches the node
     * asynchronously (store_pg.c), and principals_gen, which the rotation
     * bumped, is read within the recheck interval */
    for (int k = 0; tu_store_pg() && k < 30; k++) {
        if (http("GET", "/comity/collections/", up, NULL, NULL) == 401)
            break;
        struct timespec nap = {0, 100 * 1000 * 1000};
        nanosleep(&nap, NULL);
    }
    assert_int_equal(http("GET", "/comity/collections/", up, NULL, NULL), 401);
    snprintf(up, sizeof up, "de.bsi:%s", t2);
    assert_int_equal(http("GET", "/comity/collections/", up, NULL, NULL), 200);
    comity_node_close(other);

    /* a raw writer: new token t3, principals_gen bumped, no shared counter
     * (PostgreSQL: no notification) */
    const char *t3 = "raw-writer-token-3";
    char hash[CY_TOKEN_HASH_HEX], sql[512], pgsql[512];
    cy_token_hash(t3, strlen(t3), hash);
    snprintf(sql, sizeof sql,
             "BEGIN IMMEDIATE; UPDATE principals SET token_hash='%s' WHERE name='de.bsi';"
             "UPDATE meta SET value=CAST(value AS INTEGER)+1 WHERE key='principals_gen';"
             "COMMIT;", hash);
    snprintf(pgsql, sizeof pgsql,
             "BEGIN; UPDATE principals SET token_hash='%s' WHERE name='de.bsi';"
             " UPDATE meta SET value = (value::int8 + 1)::text WHERE key = 'principals_gen';"
             " COMMIT;", hash);
    tu_node_sql(dir, sql, pgsql);
    struct timespec ts = {1, 200 * 1000 * 1000}; /* past the recheck interval */
    nanosleep(&ts, NULL);
    assert_int_equal(http("GET", "/comity/collections/", up, NULL, NULL), 401);
    snprintf(up, sizeof up, "de.bsi:%s", t3);
    assert_int_equal(http("GET", "/comity/collections/", up, NULL, NULL), 200);
    comity_free(t1);
    comity_free(t2);
}

static char community[64];

struct writer {
    int n;
    int failures;
};

static void *writer_run(void *arg)
{
    struct writer *w = arg;
    char path[256];
    snprintf(path, sizeof path, "/comity/collections/%s/objects/", community);
    for (int b = 0; b < 10; b++) {
        char body[8192];
        size_t len = (size_t)snprintf(body, sizeof body, "{\"objects\":[");
        for (int k = 0; k < 10; k++)
            len += (size_t)snprintf(body + len, sizeof body - len,
                                    "%s{\"type\":\"domain-name\",\"id\":\"domain-name--"
                                    "%08d-0000-4000-8000-%012d\",\"value\":\"d%d.example\"}",
                                    k ? "," : "", w->n, b * 10 + k, k);
        snprintf(body + len, sizeof body - len, "]}");
        if (http("POST", path, optoken, body, NULL) != 202)
            w->failures++;
    }
    return NULL;
}

static void test_paging_during_writes(void **state)
{
    (void)state;
    char *out = NULL;
    assert_int_equal(http("GET", "/comity/collections/", optoken, NULL, &out), 200);
    json_t *v = json_loads(out, 0, NULL);
    free(out);
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(v, "collections"), i, c)
    {
        if (!strcmp(json_string_value(json_object_get(c, "alias")), "community"))
            snprintf(community, sizeof community, "%s", json_string_value(json_object_get(c, "id")));
    }
    json_decref(v);
    assert_true(community[0]);

    enum { NW = 4, TOTAL = NW * 100 };
    pthread_t th[NW];
    struct writer w[NW];
    for (int k = 0; k < NW; k++) {
        w[k] = (struct writer){.n = k + 1};
        pthread_create(&th[k], NULL, writer_run, &w[k]);
    }
    /* Read concurrently like taxii2-client: follow `next` while more is
     * true; at the end of the data, resume with added_after = the page's
     * X-TAXII-Date-Added-Last.  Every object must be seen exactly once. */
    static char seen[TOTAL][64];
    size_t nseen = 0;
    char next[64] = "", after[64] = "", path[512];
    int idle = 0;
    while (nseen < TOTAL && idle < 5000) {
        snprintf(path, sizeof path, "/comity/collections/%s/manifest/?limit=7%s%s%s%s",
                 community, after[0] ? "&added_after=" : "", after, next[0] ? "&next=" : "",
                 next);
        last_hdr[0] = 0;
        assert_int_equal(http("GET", path, optoken, NULL, &out), 200);
        json_t *env = json_loads(out, 0, NULL);
        free(out);
        json_t *objs = json_object_get(env, "objects");
        json_array_foreach(objs, i, c)
        {
            const char *id = json_string_value(json_object_get(c, "id"));
            for (size_t k = 0; k < nseen; k++)
                if (!strcmp(seen[k], id))
                    fail_msg("object %s seen twice", id);
            assert_true(nseen < TOTAL);
            snprintf(seen[nseen++], 64, "%s", id);
        }
        if (json_is_true(json_object_get(env, "more"))) {
            snprintf(next, sizeof next, "%s", json_string_value(json_object_get(env, "next")));
        } else if (json_array_size(objs) > 0) {
            assert_true(last_hdr[0]);
            snprintf(after, sizeof after, "%s", last_hdr);
            next[0] = 0;
        } else {
            idle++;
        }
        json_decref(env);
    }
    for (int k = 0; k < NW; k++) {
        pthread_join(th[k], NULL);
        assert_int_equal(w[k].failures, 0);
    }
    assert_int_equal(nseen, TOTAL);
}

/* The sharing-level rules, one principal of each kind. */
static void test_access_rules(void **state)
{
    (void)state;
    cy_principal op = {.name = "operator", .kind = "operator"};
    cy_principal mofa = {.name = "pk.mofa", .kind = "party"};
    cy_principal pk = {.name = "pk", .kind = "party"};
    cy_principal in = {.name = "in.cert", .kind = "party"};
    cy_principal odd = {.name = "pk.x", .kind = "robot"};
    assert_true(cy_access_allows("public", NULL));
    assert_false(cy_access_allows("parties", NULL));
    assert_true(cy_access_allows("parties", &in));
    assert_true(cy_access_allows("state:pk", &mofa));
    assert_true(cy_access_allows("state:pk", &pk));
    assert_false(cy_access_allows("state:pk", &in));
    assert_false(cy_access_allows("state:p", &pk)); /* whole label only */
    assert_true(cy_access_allows("party:pk.mofa", &mofa));
    assert_false(cy_access_allows("party:pk.mofa", &pk));
    assert_false(cy_access_allows("operator", &mofa));
    assert_true(cy_access_allows("operator", &op));
    assert_true(cy_access_allows("party:in.cert", &op)); /* operator passes all */
    assert_false(cy_access_allows("whatever", &mofa)); /* unknown: closed */
    assert_false(cy_access_allows("parties", &odd));   /* unknown kind: closed */
    assert_true(cy_access_rule_valid("state:pk"));
    assert_false(cy_access_rule_valid("state:PK"));
    assert_false(cy_access_rule_valid("everyone"));
}

/* The Range header of a resumed file fetch (RFC 9110, section 14.2). */
static void test_http_range(void **state)
{
    (void)state;
    uint64_t f = 9, n = 9;
    assert_int_equal(cy_http_range("bytes=5-", 10, &f, &n), 1);
    assert_true(f == 5 && n == 5);
    assert_int_equal(cy_http_range("Bytes = 0-3", 10, &f, &n), 1);
    assert_true(f == 0 && n == 4);
    assert_int_equal(cy_http_range("bytes=8-99", 10, &f, &n), 1); /* cut at the end */
    assert_true(f == 8 && n == 2);
    assert_int_equal(cy_http_range("bytes=-3", 10, &f, &n), 1); /* the last 3 */
    assert_true(f == 7 && n == 3);
    assert_int_equal(cy_http_range("bytes=-30", 10, &f, &n), 1);
    assert_true(f == 0 && n == 10);
    /* past the end: 416 */
    assert_int_equal(cy_http_range("bytes=10-", 10, &f, &n), -1);
    assert_int_equal(cy_http_range("bytes=0-", 0, &f, &n), -1);
    assert_int_equal(cy_http_range("bytes=-0", 10, &f, &n), -1);
    /* ignored: the whole file */
    const char *whole[] = {"bytes=1-2,4-5", "bytes=5-3", "bytes=-", "items=1-", "bytes=x-",
                           "bytes=1-2x", "bytes=99999999999999999999-", "bytes 1-", ""};
    for (size_t i = 0; i < sizeof whole / sizeof *whole; i++) {
        assert_int_equal(cy_http_range(whole[i], 10, &f, &n), 0);
        assert_true(f == 0 && n == 10);
    }
}

int main(void)
{
    int skip_all = tu_store_skip();
    if (skip_all)
        return skip_all;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_access_rules),
        cmocka_unit_test(test_http_range),
        cmocka_unit_test(test_api_refusals),
        cmocka_unit_test(test_token_rotation),
        cmocka_unit_test(test_token_cache_other_writer),
        cmocka_unit_test(test_paging_during_writes),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
