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

#include "node/enrol.h"
#include "node/session.h"
#include "node/web.h"
#include "util/node.h"
#include "util/testutil.h"

static char *tmp;
static comity_node *node;
static char base[128];
static comity_key *key_a, *key_b;
static char set_cookie[512];
static char op_token[128];
static char node_dir[1024], web_dir[1024];

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

/* Starts serving the open node (node_dir) on a new loopback port. */
static void serve_node(void)
{
    comity_serve_opts so;
    tu_serve_opts(&so);
    so.web_dir = web_dir;
    tu_node_serve(node, &so, base, sizeof base);
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
    tu_node_make(dir, "test.example", NULL, &node, op_token, sizeof op_token);
    comity_error e = {0};
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
    snprintf(node_dir, sizeof node_dir, "%s", dir);
    snprintf(web_dir, sizeof web_dir, "%s", web);
    serve_node();
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
    /* the node's own GET paths outside /v1/ stay the node's when it serves
     * the UI: the operator's /metrics (401 anonymous, not the file
     * handler's 404) and the federation pull paths */
    json_t *v = NULL;
    assert_int_equal(http("GET", "/metrics", NULL, NULL, false, NULL, &v), 401);
    json_decref(v);
    assert_int_not_equal(http("GET", "/federation/collections", NULL, NULL, false, NULL, &v), 404);
    json_decref(v);
}

/* ---- the operator's login, registration requests ---- */

/* Logs the operator in with `tok`; OUT cookie and csrf.  The status. */
static long login_operator(const char *tok, char cookie[256], char csrf[128])
{
    char body[256];
    snprintf(body, sizeof body, "{\"token\":\"%s\"}", tok);
    json_t *v = NULL;
    long st = http("POST", "/v1/session/operator", NULL, NULL, true, body, &v);
    if (st == 201) {
        snprintf(cookie, 256, "%.*s", (int)strcspn(set_cookie, ";"), set_cookie);
        snprintf(csrf, 128, "%s", json_string_value(json_object_get(v, "csrf")));
        assert_string_equal(json_string_value(json_object_get(v, "role")), "operator");
    }
    json_decref(v);
    return st;
}

/* A registration request by k (fields overridable: NULL keeps k's own),
 * signed over the text for `origin`, as the browser makes it.  OUT q. */
static void make_req(cy_enrol_req *q, const comity_key *k, const char *origin,
                     const char *party, const char *note, const char *created)
{
    memset(q, 0, sizeof *q);
    snprintf(q->party, sizeof q->party, "%s", party ? party : comity_key_party(k));
    snprintf(q->vkey, sizeof q->vkey, "%s", comity_key_vkey(k));
    snprintf(q->recipient, sizeof q->recipient, "%s", comity_key_recipient(k));
    snprintf(q->note, sizeof q->note, "%s", note ? note : "");
    if (created)
        snprintf(q->created, sizeof q->created, "%s", created);
    else
        cy_time_format_ms(q->created, cy_now_ms());
    cy_buf b;
    cy_buf_init(&b, 4096);
    assert_int_equal(cy_enrol_text(origin, q, &b, NULL), 0);
    char sig[128];
    sign_text(k, (const char *)b.data, sig);
    cy_buf_free(&b);
    size_t n = 0;
    assert_int_equal(cy_b64_decode(q->sig, sizeof q->sig, &n, sig, strlen(sig), CY_B64_STD, NULL),
                     0);
}

/* The request as the JSON body the browser posts. */
static char *req_json(const cy_enrol_req *q)
{
    char sig[128];
    cy_b64_encode(sig, sizeof sig, q->sig, 64, CY_B64_STD);
    json_t *v = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "party", q->party, "vkey", q->vkey,
                          "recipient", q->recipient, "note", q->note, "created", q->created,
                          "signature", sig);
    char *out = json_dumps(v, JSON_COMPACT);
    json_decref(v);
    return out;
}

/* Submits q from addr; the error code, message in e. */
static comity_err submit(const cy_enrol_req *q, const char *addr, comity_error *e)
{
    memset(e, 0, sizeof *e);
    return cy_enrol_submit(node, q, addr, e);
}

static void test_operator_login(void **state)
{
    (void)state;
    clock_at("2026-12-01T12:00:00.000Z");
    char cookie[256], csrf[128];
    assert_int_equal(login_operator("not-the-token", cookie, csrf), 403);
    /* a party's token is not the operator's */
    char *ptok = NULL;
    comity_error e = {0};
    assert_int_equal(comity_node_party_token(node, "in.mea", &ptok, &e), 0);
    assert_int_equal(login_operator(ptok, cookie, csrf), 403);
    comity_free(ptok);
    assert_int_equal(http("POST", "/v1/session/operator", NULL, NULL, false,
                          "{\"token\":\"x\"}", NULL),
                     400); /* the UI header */
    assert_int_equal(http("POST", "/v1/session/operator", NULL, NULL, true,
                          "{\"token\":\"x\",\"party\":\"operator\"}", NULL),
                     400);
    assert_int_equal(login_operator(op_token, cookie, csrf), 201);
    json_t *v = NULL;
    assert_int_equal(http("GET", "/v1/session", cookie, NULL, false, NULL, &v), 200);
    assert_string_equal(json_string_value(json_object_get(v, "role")), "operator");
    json_decref(v);
    assert_int_equal(http("GET", "/v1/registrations", cookie, NULL, false, NULL, NULL), 200);
    /* a party's session is not the operator's */
    char pc[256], pcsrf[128];
    assert_int_equal(login(key_a, pc, pcsrf), 201);
    assert_int_equal(http("GET", "/v1/registrations", pc, NULL, false, NULL, NULL), 403);
    assert_int_equal(http("GET", "/v1/registrations", NULL, NULL, true, NULL, NULL), 401);
    /* a replaced operator token ends the operator's session */
    char *newtok = NULL;
    assert_int_equal(comity_node_party_token(node, "operator", &newtok, &e), 0);
    assert_int_equal(http("GET", "/v1/registrations", cookie, NULL, false, NULL, NULL), 401);
    snprintf(op_token, sizeof op_token, "%s", newtok);
    comity_free(newtok);
    assert_int_equal(login_operator(op_token, cookie, csrf), 201);
}

/* Every way a request can be wrong, each refused with its own message
 * (through enrol.c directly, from distinct addresses: the rate limit is
 * tested over HTTP below). */
static void test_enrol_refusals(void **state)
{
    (void)state;
    clock_at("2026-12-01T13:00:00.000Z");
    comity_key *k = NULL, *other = NULL;
    comity_error e = {0};
    assert_int_equal(comity_key_generate("fr.mfa", &k, &e), 0);
    assert_int_equal(comity_key_generate("de.aa", &other, &e), 0);
    cy_enrol_req q;
    int a = 0;
    char addr[32];
#define ADDR() (snprintf(addr, sizeof addr, "10.0.0.%d", ++a), addr)
    /* the JSON: not an object, an unknown field, a missing one, a long
     * one, a bad signature encoding */
    json_t *j = json_loads("[]", 0, NULL);
    assert_int_equal(cy_enrol_from_json(j, &q, &e), COMITY_ERR_INVALID);
    json_decref(j);
    make_req(&q, k, "test.example", NULL, "hello", NULL);
    char *body = req_json(&q);
    j = json_loads(body, 0, NULL);
    free(body);
    json_object_set_new(j, "extra", json_true());
    assert_int_equal(cy_enrol_from_json(j, &q, &e), COMITY_ERR_INVALID);
    assert_non_null(strstr(e.msg, "unknown field \"extra\""));
    json_object_del(j, "extra");
    json_t *party = json_incref(json_object_get(j, "party"));
    json_object_del(j, "party");
    assert_int_equal(cy_enrol_from_json(j, &q, &e), COMITY_ERR_INVALID);
    assert_non_null(strstr(e.msg, "\"party\" missing"));
    json_object_set_new(j, "party", json_integer(1));
    assert_int_equal(cy_enrol_from_json(j, &q, &e), COMITY_ERR_INVALID);
    json_object_set_new(j, "party", party);
    char longnote[CY_ENROL_NOTE_MAX + 2];
    memset(longnote, 'x', sizeof longnote - 1);
    longnote[sizeof longnote - 1] = 0;
    json_object_set_new(j, "note", json_string(longnote));
    assert_int_equal(cy_enrol_from_json(j, &q, &e), COMITY_ERR_TOOBIG);
    assert_non_null(strstr(e.msg, "\"note\" longer than 280 bytes"));
    json_object_set_new(j, "note", json_string("hello"));
    json_object_set_new(j, "signature", json_string("AAAA"));
    assert_int_equal(cy_enrol_from_json(j, &q, &e), COMITY_ERR_INVALID);
    assert_non_null(strstr(e.msg, "64 bytes"));
    json_object_set_new(j, "signature", json_string("!!not base64!!"));
    assert_int_equal(cy_enrol_from_json(j, &q, &e), COMITY_ERR_INVALID);
    json_decref(j);
    /* a well-formed request passes (and is queued: refused after) */
    make_req(&q, k, "test.example", NULL, "Ministère, desk 2", NULL);
    assert_int_equal(submit(&q, ADDR(), &e), 0);
    assert_int_equal(submit(&q, ADDR(), &e), COMITY_ERR_EXISTS);
    assert_non_null(strstr(e.msg, "already awaits"));
    assert_int_equal(cy_enrol_decide(node, "fr.mfa", q.vkey, false, &e), 0);
    /* an invalid party name; a key named for another party */
    make_req(&q, k, "test.example", "Not_A_Party", NULL, NULL);
    assert_int_equal(submit(&q, ADDR(), &e), COMITY_ERR_INVALID);
    make_req(&q, k, "test.example", "fr.other", NULL, NULL);
    assert_int_equal(submit(&q, ADDR(), &e), COMITY_ERR_INVALID);
    assert_non_null(strstr(e.msg, "verifier key is not named"));
    /* a bad recipient (after signing: the check comes before the signature) */
    make_req(&q, k, "test.example", NULL, NULL, NULL);
    snprintf(q.recipient, sizeof q.recipient, "age1notarecipient");
    assert_int_equal(submit(&q, ADDR(), &e), COMITY_ERR_INVALID);
    assert_non_null(strstr(e.msg, "age recipient"));
    /* a note on two lines, with a control byte, not UTF-8 */
    /* (signed over a clean note: no signer signs these; the note's check
     * comes first) */
    make_req(&q, k, "test.example", NULL, "x", NULL);
    snprintf(q.note, sizeof q.note, "line one\nline two");
    assert_int_equal(submit(&q, ADDR(), &e), COMITY_ERR_INVALID);
    assert_non_null(strstr(e.msg, "one line"));
    snprintf(q.note, sizeof q.note, "bell\x07");
    assert_int_equal(submit(&q, ADDR(), &e), COMITY_ERR_INVALID);
    snprintf(q.note, sizeof q.note, "bad \xc3\x28");
    assert_int_equal(submit(&q, ADDR(), &e), COMITY_ERR_INVALID);
    assert_non_null(strstr(e.msg, "not UTF-8"));
    /* created: malformed, too old, too far ahead; at the edge: accepted */
    make_req(&q, k, "test.example", NULL, NULL, "yesterday");
    assert_int_equal(submit(&q, ADDR(), &e), COMITY_ERR_INVALID);
    make_req(&q, k, "test.example", NULL, NULL, "2026-12-01T12:49:59.999Z");
    assert_int_equal(submit(&q, ADDR(), &e), COMITY_ERR_INVALID);
    assert_non_null(strstr(e.msg, "minutes from the node's clock"));
    make_req(&q, k, "test.example", NULL, NULL, "2026-12-01T13:10:00.001Z");
    assert_int_equal(submit(&q, ADDR(), &e), COMITY_ERR_INVALID);
    /* the signature: by another key, over another node's text, over
     * another note than the one sent */
    make_req(&q, other, "test.example", NULL, NULL, NULL);
    cy_enrol_req q2;
    make_req(&q2, k, "test.example", NULL, NULL, NULL);
    memcpy(q2.sig, q.sig, 64);
    assert_int_equal(submit(&q2, ADDR(), &e), COMITY_ERR_VERIFY);
    make_req(&q, k, "other.example", NULL, NULL, NULL);
    assert_int_equal(submit(&q, ADDR(), &e), COMITY_ERR_VERIFY);
    assert_non_null(strstr(e.msg, "does not verify"));
    make_req(&q, k, "test.example", NULL, "what I signed", NULL);
    snprintf(q.note, sizeof q.note, "what I did not sign");
    assert_int_equal(submit(&q, ADDR(), &e), COMITY_ERR_VERIFY);
    /* a registered name */
    make_req(&q, key_a, "test.example", NULL, NULL, NULL);
    assert_int_equal(submit(&q, ADDR(), &e), COMITY_ERR_EXISTS);
    assert_non_null(strstr(e.msg, "already registered"));
    /* the edges of created are inside the window */
    make_req(&q, k, "test.example", NULL, NULL, "2026-12-01T12:50:00.000Z");
    assert_int_equal(submit(&q, ADDR(), &e), 0);
    assert_int_equal(cy_enrol_decide(node, "fr.mfa", q.vkey, false, &e), 0);
    /* deciding what does not await */
    assert_int_equal(cy_enrol_decide(node, "fr.mfa", q.vkey, true, &e), COMITY_ERR_NOTFOUND);
#undef ADDR
    comity_key_free(k);
    comity_key_free(other);
}

/* The caps: pending requests, addresses tracked. */
static void test_enrol_caps(void **state)
{
    (void)state;
    clock_at("2026-12-01T14:00:00.000Z");
    comity_error e = {0};
    comity_key *ks[CY_ENROL_PENDING_MAX + 1];
    cy_enrol_req q;
    char addr[32], name[32];
    for (int i = 0; i <= CY_ENROL_PENDING_MAX; i++) {
        snprintf(name, sizeof name, "zz.o%d", i);
        assert_int_equal(comity_key_generate(name, &ks[i], &e), 0);
        make_req(&q, ks[i], "test.example", NULL, NULL, NULL);
        snprintf(addr, sizeof addr, "10.1.%d.%d", i / 200, i % 200);
        comity_err rc = submit(&q, addr, &e);
        assert_int_equal(rc, i < CY_ENROL_PENDING_MAX ? COMITY_OK : COMITY_ERR_TOOBIG);
    }
    assert_non_null(strstr(e.msg, "await the operator (the cap)"));
    json_t *l = cy_enrol_list(node, NULL);
    assert_int_equal(json_array_size(l), CY_ENROL_PENDING_MAX);
    json_decref(l);
    for (int i = 0; i <= CY_ENROL_PENDING_MAX; i++) {
        if (i < CY_ENROL_PENDING_MAX)
            assert_int_equal(cy_enrol_decide(node, comity_key_party(ks[i]),
                                             comity_key_vkey(ks[i]), false, &e),
                             0);
        comity_key_free(ks[i]);
    }
    /* the addresses tracked: CY_ENROL_ADDRS at once, then refused until
     * the window passes (the requests themselves may be wrong: each
     * counts) */
    clock_at("2026-12-01T16:00:00.000Z");
    memset(&q, 0, sizeof q);
    int i;
    comity_err rc = 0;
    for (i = 0; i <= CY_ENROL_ADDRS; i++) {
        snprintf(addr, sizeof addr, "10.2.%d.%d", i / 250, i % 250);
        rc = submit(&q, addr, &e);
        if (rc != COMITY_ERR_INVALID)
            break;
    }
    assert_int_equal(i, CY_ENROL_ADDRS);
    assert_int_equal(rc, COMITY_ERR_TOOBIG);
    assert_non_null(strstr(e.msg, "addresses"));
    clock_at("2026-12-01T17:00:00.000Z");
    assert_int_equal(submit(&q, addr, &e), COMITY_ERR_INVALID);
}

/* The whole path over HTTP: a newcomer's request, the rate limit, the
 * body cap, the operator's list and decisions, the newcomer's login. */
static void test_enrol_http(void **state)
{
    (void)state;
    clock_at("2026-12-01T20:00:00.000Z");
    comity_error e = {0};
    comity_key *k = NULL, *k2 = NULL;
    assert_int_equal(comity_key_generate("jp.mofa", &k, &e), 0);
    assert_int_equal(comity_key_generate("jp.nisc", &k2, &e), 0);
    char cookie[256], csrf[128];
    /* not registered: no login yet */
    assert_int_equal(http("POST", "/v1/session/challenge", NULL, NULL, true,
                          "{\"party\":\"jp.mofa\"}", NULL),
                     404);
    cy_enrol_req q;
    make_req(&q, k, "test.example", NULL, "Tokyo, cyber desk", NULL);
    char *body = req_json(&q);
    json_t *v = NULL;
    assert_int_equal(http("POST", "/v1/registrations", NULL, NULL, false, body, &v), 202);
    assert_string_equal(json_string_value(json_object_get(v, "status")), "pending");
    json_decref(v);
    assert_int_equal(http("POST", "/v1/registrations", NULL, NULL, false, body, &v), 409);
    json_decref(v);
    free(body);
    assert_int_equal(http("POST", "/v1/registrations", NULL, NULL, false, "not json", NULL), 400);
    /* the body cap (the body is not read) */
    char big[CY_ENROL_BODY_MAX + 64];
    memset(big, ' ', sizeof big - 1);
    big[sizeof big - 1] = 0;
    big[0] = '{';
    big[sizeof big - 2] = '}';
    assert_int_equal(http("POST", "/v1/registrations", NULL, NULL, false, big, NULL), 413);
    make_req(&q, k2, "test.example", NULL, NULL, NULL);
    body = req_json(&q);
    /* the per-address rate: two counted above (the request, its repeat) */
    long st = 0;
    int n = 2;
    snprintf(q.note, sizeof q.note, "unsigned");
    char *bad = req_json(&q);
    while ((st = http("POST", "/v1/registrations", NULL, NULL, false, bad, NULL)) == 400)
        n++;
    assert_int_equal(n, CY_ENROL_PER_ADDR);
    assert_int_equal(st, 429);
    free(bad);
    clock_at("2026-12-01T21:00:00.000Z"); /* a new window; created: now */
    make_req(&q, k2, "test.example", NULL, NULL, NULL);
    free(body);
    body = req_json(&q);
    assert_int_equal(http("POST", "/v1/registrations", NULL, NULL, false, body, NULL), 202);
    free(body);
    /* the operator's list, oldest first */
    assert_int_equal(login_operator(op_token, cookie, csrf), 201);
    assert_int_equal(http("GET", "/v1/registrations", cookie, NULL, false, NULL, &v), 200);
    json_t *a = json_object_get(v, "registrations");
    assert_int_equal(json_array_size(a), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(a, 0), "party")),
                        "jp.mofa");
    assert_string_equal(json_string_value(json_object_get(json_array_get(a, 0), "note")),
                        "Tokyo, cyber desk");
    assert_string_equal(json_string_value(json_object_get(json_array_get(a, 0), "address")),
                        "127.0.0.1");
    json_decref(v);
    /* decisions: CSRF, the body's shape, the key the operator saw */
    char path[64], dec[512];
    snprintf(path, sizeof path, "/v1/registrations/jp.mofa");
    snprintf(dec, sizeof dec, "{\"decision\":\"approve\",\"vkey\":\"%s\"}", comity_key_vkey(k));
    assert_int_equal(http("POST", path, cookie, NULL, false, dec, NULL), 401);
    assert_int_equal(http("POST", path, cookie, csrf, false, "{\"decision\":\"maybe\",\"vkey\":\"x\"}",
                          NULL),
                     400);
    char wrong[512];
    snprintf(wrong, sizeof wrong, "{\"decision\":\"approve\",\"vkey\":\"%s\"}",
             comity_key_vkey(k2));
    assert_int_equal(http("POST", path, cookie, csrf, false, wrong, NULL), 404);
    assert_int_equal(http("POST", path, cookie, csrf, false, dec, &v), 200);
    assert_string_equal(json_string_value(json_object_get(v, "decision")), "approved");
    json_decref(v);
    assert_int_equal(http("POST", path, cookie, csrf, false, dec, NULL), 404);
    /* approved: registered as `party add` registers (principal, inbox,
     * the state's collection) and logs in with its key */
    char pc[256], pcsrf[128];
    assert_int_equal(login(k, pc, pcsrf), 201);
    assert_int_equal(http("GET", "/v1/framework/inbox", pc, NULL, false, NULL, NULL), 200);
    cy_principal p;
    assert_int_equal(cy_store_principal_get(node->store, "jp.mofa", &p, NULL, NULL), 0);
    assert_string_equal(p.kind, "party");
    assert_string_equal(p.recipient, comity_key_recipient(k));
    /* refused: not registered, gone from the list */
    snprintf(dec, sizeof dec, "{\"decision\":\"refuse\",\"vkey\":\"%s\"}", comity_key_vkey(k2));
    assert_int_equal(http("POST", "/v1/registrations/jp.nisc", cookie, csrf, false, dec, &v), 200);
    assert_string_equal(json_string_value(json_object_get(v, "decision")), "refused");
    json_decref(v);
    assert_int_not_equal(cy_store_principal_get(node->store, "jp.nisc", &p, NULL, NULL), 0);
    assert_int_equal(http("GET", "/v1/registrations", cookie, NULL, false, NULL, &v), 200);
    assert_int_equal(json_array_size(json_object_get(v, "registrations")), 0);
    json_decref(v);
    /* a party may not decide */
    assert_int_equal(http("POST", "/v1/registrations/jp.nisc", pc, pcsrf, false, dec, NULL), 403);
    comity_key_free(k);
    comity_key_free(k2);
}

/* A request sent before a restart is listed and decided after it (the
 * store keeps it), and the newcomer then logs in. */
static void test_enrol_restart(void **state)
{
    (void)state;
    clock_at("2026-12-02T09:00:00.000Z");
    comity_error e = {0};
    comity_key *k = NULL;
    assert_int_equal(comity_key_generate("br.gsi", &k, &e), 0);
    cy_enrol_req q;
    make_req(&q, k, "test.example", NULL, "Brasília, CTIR desk", NULL);
    char *body = req_json(&q);
    assert_int_equal(http("POST", "/v1/registrations", NULL, NULL, false, body, NULL), 202);
    free(body);
    /* the node stops and starts again */
    comity_node_close(node);
    node = NULL;
    clock_at("2026-12-02T11:00:00.000Z");
    if (comity_node_open(node_dir, &node, &e))
        fail_msg("%s", e.msg);
    serve_node();
    char cookie[256], csrf[128];
    assert_int_equal(login_operator(op_token, cookie, csrf), 201);
    json_t *v = NULL;
    assert_int_equal(http("GET", "/v1/registrations", cookie, NULL, false, NULL, &v), 200);
    json_t *a = json_object_get(v, "registrations");
    assert_int_equal(json_array_size(a), 1);
    json_t *one = json_array_get(a, 0);
    assert_string_equal(json_string_value(json_object_get(one, "party")), "br.gsi");
    assert_string_equal(json_string_value(json_object_get(one, "note")), "Brasília, CTIR desk");
    assert_string_equal(json_string_value(json_object_get(one, "vkey")), comity_key_vkey(k));
    assert_string_equal(json_string_value(json_object_get(one, "received")),
                        "2026-12-02T09:00:00.000Z");
    assert_string_equal(json_string_value(json_object_get(one, "address")), "127.0.0.1");
    json_decref(v);
    /* still one: the same name is refused as before the restart */
    make_req(&q, k, "test.example", NULL, NULL, NULL);
    body = req_json(&q);
    assert_int_equal(http("POST", "/v1/registrations", NULL, NULL, false, body, NULL), 409);
    free(body);
    char dec[512];
    snprintf(dec, sizeof dec, "{\"decision\":\"approve\",\"vkey\":\"%s\"}", comity_key_vkey(k));
    assert_int_equal(http("POST", "/v1/registrations/br.gsi", cookie, csrf, false, dec, &v), 200);
    assert_string_equal(json_string_value(json_object_get(v, "decision")), "approved");
    json_decref(v);
    char pc[256], pcsrf[128];
    assert_int_equal(login(k, pc, pcsrf), 201);
    assert_int_equal(http("GET", "/v1/registrations", cookie, NULL, false, NULL, &v), 200);
    assert_int_equal(json_array_size(json_object_get(v, "registrations")), 0);
    json_decref(v);
    comity_key_free(k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_login_session),
        cmocka_unit_test(test_challenge_rules),
        cmocka_unit_test(test_challenge_cap),
        cmocka_unit_test(test_static),
        cmocka_unit_test(test_operator_login),
        cmocka_unit_test(test_enrol_refusals),
        cmocka_unit_test(test_enrol_caps),
        cmocka_unit_test(test_enrol_http),
        cmocka_unit_test(test_enrol_restart),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
