/*
 * test_session.c: browser login, sessions and the UI's static files
 * (src/node/session.c, src/node/web.c) over real HTTP on loopback.
 *
 * The clock is pinned with COMITY_FAKE_NOW (set only between requests,
 * while the node's threads are idle) so that expiry is tested without
 * waiting.  Each party's challenge is signed here as the browser does: a
 * signed-note signature by the party's key over the challenge text.
 */
#include <stdlib.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <sodium.h>

#include "node/session.h"
#include "node/web.h"
#include "util/testutil.h"

static char *tmp;
static comity_node *node;
static char base[128];
static comity_key *key_a, *key_b;
static char set_cookie[512];

static void clock_at(const char *t) { setenv("COMITY_FAKE_NOW", t, 1); }

static size_t on_header(char *p, size_t sz, size_t n, void *ctx)
{
    (void)ctx;
    size_t k = sz * n;
    static const char name[] = "Set-Cookie: ";
    if (k > sizeof name - 1 && !strncasecmp(p, name, sizeof name - 1)) {
        size_t l = k - (sizeof name - 1);
        while (l && (p[sizeof name - 2 + l] == '\r' || p[sizeof name - 2 + l] == '\n'))
            l--;
        snprintf(set_cookie, sizeof set_cookie, "%.*s", (int)l, p + sizeof name - 1);
    }
    return k;
}

struct sink {
    char buf[1 << 16];
    size_t len;
};

static size_t on_sink(char *p, size_t sz, size_t n, void *ctx)
{
    struct sink *s = ctx;
    size_t k = sz * n;
    if (s->len + k >= sizeof s->buf)
        return 0;
    memcpy(s->buf + s->len, p, k);
    s->len += k;
    s->buf[s->len] = 0;
    return k;
}

/* One request.  cookie: "comity_session=..." or NULL; csrf: X-CSRF-Token or
 * NULL; ui: send X-Comity-UI.  *out (may be NULL): the JSON answer. */
static long http(const char *method, const char *path, const char *cookie, const char *csrf,
                 bool ui, const char *body, json_t **out)
{
    CURL *c = curl_easy_init();
    static struct sink s;
    s.len = 0;
    s.buf[0] = 0;
    set_cookie[0] = 0;
    char url[512], h1[256], h2[512];
    snprintf(url, sizeof url, "%s%s", base, path);
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    if (ui)
        h = curl_slist_append(h, CY_UI_HEADER ": 1");
    if (csrf) {
        snprintf(h1, sizeof h1, "%s: %s", CY_CSRF_HEADER, csrf);
        h = curl_slist_append(h, h1);
    }
    if (cookie) {
        snprintf(h2, sizeof h2, "Cookie: %s", cookie);
        h = curl_slist_append(h, h2);
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_sink);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    if (!strcmp(method, "HEAD"))
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    if (body)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    long code = 0;
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    if (out)
        *out = json_loads(s.buf, 0, NULL);
    return code;
}

static int setup(void **state)
{
    (void)state;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    clock_at("2026-12-01T10:00:00.000Z");
    tmp = tu_tmpdir();
    char dir[1024], web[1024], f[1100];
    snprintf(dir, sizeof dir, "%s/n", tmp);
    snprintf(web, sizeof web, "%s/web", tmp);
    mkdir(web, 0755);
    snprintf(f, sizeof f, "%s/index.html", web);
    FILE *fp = fopen(f, "w");
    fputs("<!doctype html><title>t</title>", fp);
    fclose(fp);
    snprintf(f, sizeof f, "%s/secret.txt", tmp);
    fp = fopen(f, "w");
    fputs("outside", fp);
    fclose(fp);
    char ln[1100];
    snprintf(ln, sizeof ln, "%s/link.txt", web);
    if (symlink(f, ln) != 0)
        fail_msg("symlink");
    comity_node_init_opts o = {.origin = "test.example", .no_tls_cert = 1};
    comity_node_created made;
    comity_error e = {0};
    if (comity_node_init(dir, &o, &made, &e) || comity_node_open(dir, &node, &e))
        fail_msg("%s", e.msg);
    comity_node_created_free(&made);
    if (comity_key_generate("pk.mofa", &key_a, &e) || comity_key_generate("in.mea", &key_b, &e))
        fail_msg("%s", e.msg);
    const comity_key *ks[2] = {key_a, key_b};
    for (int i = 0; i < 2; i++) {
        char *tok = NULL;
        if (comity_node_party_add(node, comity_key_party(ks[i]), comity_key_vkey(ks[i]),
                                  comity_key_recipient(ks[i]), &tok, &e))
            fail_msg("%s", e.msg);
        comity_free(tok);
    }
    comity_serve_opts so;
    comity_serve_opts_default(&so);
    so.listen = "127.0.0.1:0";
    so.insecure_http = 1;
    so.web_dir = web;
    if (comity_node_start(node, &so, &e))
        fail_msg("%s", e.msg);
    snprintf(base, sizeof base, "http://127.0.0.1:%u", comity_node_port(node));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    comity_node_close(node);
    comity_key_free(key_a);
    comity_key_free(key_b);
    tu_rmrf(tmp);
    free(tmp);
    curl_global_cleanup();
    unsetenv("COMITY_FAKE_NOW");
    return 0;
}

/* A challenge for `party`: OUT text and nonce. */
static void get_challenge(const char *party, char text[512], char nonce[64])
{
    char body[128];
    snprintf(body, sizeof body, "{\"party\":\"%s\"}", party);
    json_t *v = NULL;
    assert_int_equal(http("POST", "/v1/session/challenge", NULL, NULL, true, body, &v), 200);
    snprintf(text, 512, "%s", json_string_value(json_object_get(v, "challenge")));
    snprintf(nonce, 64, "%s", json_string_value(json_object_get(v, "nonce")));
    json_decref(v);
}

/* The base64 Ed25519 signature by `k` over `text`, as a browser makes it
 * (the signed-note signature line without its 4-byte key id). */
static void sign_text(const comity_key *k, const char *text, char out[128])
{
    const comity_nkey *signer = comity_key_signer(k);
    char *note = NULL;
    size_t len = 0;
    comity_error e = {0};
    if (comity_note_sign(text, strlen(text), &signer, 1, &note, &len, &e))
        fail_msg("%s", e.msg);
    const char *line = strstr(note, "\n\n\xe2\x80\x94 ");
    assert_non_null(line);
    const char *b64 = strchr(line + 6, ' ') + 1;
    uint8_t raw[80];
    size_t n = 0;
    assert_int_equal(cy_b64_decode(raw, sizeof raw, &n, b64, strcspn(b64, "\n"), CY_B64_STD, NULL),
                     0);
    assert_int_equal(n, 68);
    cy_b64_encode(out, 128, raw + 4, 64, CY_B64_STD);
    comity_free(note);
}

/* Logs `k` in; OUT cookie ("comity_session=...") and csrf.  Returns the status. */
static long login(const comity_key *k, char cookie[256], char csrf[128])
{
    char text[512], nonce[64], sig[128], body[512];
    get_challenge(comity_key_party(k), text, nonce);
    sign_text(k, text, sig);
    snprintf(body, sizeof body, "{\"party\":\"%s\",\"nonce\":\"%s\",\"signature\":\"%s\"}",
             comity_key_party(k), nonce, sig);
    json_t *v = NULL;
    long st = http("POST", "/v1/session", NULL, NULL, true, body, &v);
    if (st == 201) {
        snprintf(cookie, 256, "%.*s", (int)strcspn(set_cookie, ";"), set_cookie);
        snprintf(csrf, 128, "%s", json_string_value(json_object_get(v, "csrf")));
    }
    json_decref(v);
    return st;
}

static void test_login_session(void **state)
{
    (void)state;
    char cookie[256], csrf[128];
    clock_at("2026-12-01T10:00:00.000Z");
    assert_int_equal(login(key_a, cookie, csrf), 201);
    assert_non_null(strstr(set_cookie, "; HttpOnly"));
    assert_non_null(strstr(set_cookie, "; SameSite=Strict"));
    assert_null(strstr(set_cookie, "Secure")); /* plain HTTP on loopback */
    assert_non_null(strstr(set_cookie, "Max-Age=28800"));
    /* the session's principal is the party: /v1/ handlers serve it as is */
    json_t *v = NULL;
    assert_int_equal(http("GET", "/v1/framework/inbox", cookie, NULL, false, NULL, &v), 200);
    assert_string_equal(json_string_value(json_object_get(v, "party")), "pk.mofa");
    json_decref(v);
    assert_int_equal(http("GET", "/v1/session", cookie, NULL, false, NULL, &v), 200);
    assert_string_equal(json_string_value(json_object_get(v, "csrf")), csrf);
    json_decref(v);
    /* state-changing requests need the CSRF token */
    assert_int_equal(http("POST", "/v1/records", cookie, NULL, false, "{}", NULL), 401);
    assert_int_equal(http("POST", "/v1/records", cookie, "wrong", false, "{}", NULL), 401);
    assert_int_equal(http("POST", "/v1/records", cookie, csrf, false, "{}", NULL), 400);
    /* an unknown cookie is anonymous */
    assert_int_equal(http("GET", "/v1/framework/inbox", "comity_session=AAAA", NULL, false, NULL,
                          NULL),
                     401);
    /* expiry: 8 hours */
    clock_at("2026-12-01T17:59:59.000Z");
    assert_int_equal(http("GET", "/v1/framework/inbox", cookie, NULL, false, NULL, NULL), 200);
    clock_at("2026-12-01T18:00:00.000Z");
    assert_int_equal(http("GET", "/v1/framework/inbox", cookie, NULL, false, NULL, NULL), 401);
    /* logout ends the session */
    clock_at("2026-12-01T10:00:00.000Z");
    assert_int_equal(login(key_b, cookie, csrf), 201);
    assert_int_equal(http("DELETE", "/v1/session", cookie, NULL, false, NULL, NULL), 401);
    assert_int_equal(http("DELETE", "/v1/session", cookie, csrf, false, NULL, NULL), 200);
    assert_non_null(strstr(set_cookie, "Max-Age=0"));
    assert_int_equal(http("GET", "/v1/framework/inbox", cookie, NULL, false, NULL, NULL), 401);
}

static void test_challenge_rules(void **state)
{
    (void)state;
    clock_at("2026-12-01T10:00:00.000Z");
    char text[512], nonce[64], sig[128], body[512];
    /* single use: the second attempt with the same challenge fails */
    get_challenge("pk.mofa", text, nonce);
    assert_non_null(strstr(text, "comity login v1\nnode: test.example\nparty: pk.mofa\n"));
    sign_text(key_a, text, sig);
    snprintf(body, sizeof body, "{\"party\":\"pk.mofa\",\"nonce\":\"%s\",\"signature\":\"%s\"}",
             nonce, sig);
    assert_int_equal(http("POST", "/v1/session", NULL, NULL, true, body, NULL), 201);
    assert_int_equal(http("POST", "/v1/session", NULL, NULL, true, body, NULL), 403);
    /* a wrong signature uses the challenge up too */
    get_challenge("pk.mofa", text, nonce);
    sign_text(key_b, text, sig); /* another party's key */
    snprintf(body, sizeof body, "{\"party\":\"pk.mofa\",\"nonce\":\"%s\",\"signature\":\"%s\"}",
             nonce, sig);
    assert_int_equal(http("POST", "/v1/session", NULL, NULL, true, body, NULL), 403);
    sign_text(key_a, text, sig);
    snprintf(body, sizeof body, "{\"party\":\"pk.mofa\",\"nonce\":\"%s\",\"signature\":\"%s\"}",
             nonce, sig);
    assert_int_equal(http("POST", "/v1/session", NULL, NULL, true, body, NULL), 403);
    /* a challenge for one party cannot log in another */
    get_challenge("in.mea", text, nonce);
    sign_text(key_a, text, sig);
    snprintf(body, sizeof body, "{\"party\":\"pk.mofa\",\"nonce\":\"%s\",\"signature\":\"%s\"}",
             nonce, sig);
    assert_int_equal(http("POST", "/v1/session", NULL, NULL, true, body, NULL), 403);
    /* expiry: 2 minutes */
    get_challenge("pk.mofa", text, nonce);
    sign_text(key_a, text, sig);
    snprintf(body, sizeof body, "{\"party\":\"pk.mofa\",\"nonce\":\"%s\",\"signature\":\"%s\"}",
             nonce, sig);
    clock_at("2026-12-01T10:02:00.000Z");
    assert_int_equal(http("POST", "/v1/session", NULL, NULL, true, body, NULL), 403);
    /* the UI header is required (no cross-site login) */
    clock_at("2026-12-01T10:00:00.000Z");
    assert_int_equal(http("POST", "/v1/session/challenge", NULL, NULL, false,
                          "{\"party\":\"pk.mofa\"}", NULL),
                     400);
    assert_int_equal(http("POST", "/v1/session/challenge", NULL, NULL, true,
                          "{\"party\":\"pk.mofa\",\"x\":1}", NULL),
                     400);
    assert_int_equal(http("POST", "/v1/session/challenge", NULL, NULL, true,
                          "{\"party\":\"operator\"}", NULL),
                     404);
}

static void test_challenge_cap(void **state)
{
    (void)state;
    clock_at("2026-12-01T11:00:00.000Z"); /* earlier challenges have expired */
    long st = 0;
    int i;
    for (i = 0; i < CY_CHALLENGES_MAX + 1; i++) {
        st = http("POST", "/v1/session/challenge", NULL, NULL, true, "{\"party\":\"pk.mofa\"}",
                  NULL);
        if (st != 200)
            break;
    }
    assert_int_equal(i, CY_CHALLENGES_MAX);
    assert_int_equal(st, 503);
    /* expired ones make room again */
    clock_at("2026-12-01T11:02:00.001Z");
    assert_int_equal(
        http("POST", "/v1/session/challenge", NULL, NULL, true, "{\"party\":\"pk.mofa\"}", NULL),
        200);
}

static void test_static(void **state)
{
    (void)state;
    assert_int_equal(http("GET", "/", NULL, NULL, false, NULL, NULL), 200);
    assert_int_equal(http("HEAD", "/index.html", NULL, NULL, false, NULL, NULL), 200);
    assert_int_equal(http("GET", "/link.txt", NULL, NULL, false, NULL, NULL), 404);
    assert_int_equal(http("GET", "/../secret.txt", NULL, NULL, false, NULL, NULL), 404);
    assert_int_equal(http("GET", "/%2e%2e/secret.txt", NULL, NULL, false, NULL, NULL), 404);
    assert_int_equal(http("GET", "/a%2f..%2f..%2fsecret.txt", NULL, NULL, false, NULL, NULL), 404);
    assert_int_equal(http("GET", "/.hidden.txt", NULL, NULL, false, NULL, NULL), 404);
    assert_int_equal(http("GET", "/index", NULL, NULL, false, NULL, NULL), 404);
    assert_int_equal(http("DELETE", "/index.html", NULL, NULL, false, NULL, NULL), 404);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_login_session),
        cmocka_unit_test(test_challenge_rules),
        cmocka_unit_test(test_challenge_cap),
        cmocka_unit_test(test_static),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
