/*
 * test_intake.c: record intake in process, over HTTP with libcurl.
 *
 * What the shell tests cannot easily do: two validly signed records that
 * share an id (409, the first one kept), many threads posting the same
 * record at once (group commit: exactly one 201, every answer the same log
 * index, one log entry), many threads posting different records at once
 * (every one 201 at a distinct index, all logged and stored), a re-post
 * of a framework record with a body that breaks its schema (still the
 * framework's 422), the store's files vanishing under a running node (503,
 * and intake stays broken), a batch the store refuses (its log entry is
 * checkpointed before the next record; the rows of the batches committed
 * before it are made durable before that checkpoint; after a failed
 * sync, the stop checkpoints nothing and no later sync is believed), no
 * checkpoint covering a batch's entries before their rows are durable
 * (the log's horizon), a relayed `delivered` record whose home node's key
 * the store cannot read (rule store, not signature), the table of known
 * record types, the bounds on `created` (422 "created"), an answer dated
 * before its message (the framework's 422), and the id oracle (rule id).
 *
 * The node is made and served by tests/util/node.c, as in the other tests
 * that serve one.  The payloads carry a fixed `created` (NOTE_PAYLOAD_CREATED); the node's
 * clock is pinned a minute after it (COMITY_FAKE_NOW), inside the bounds
 * intake applies to `created` (comity_record_check_created).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <sqlite3.h>
#include <jansson.h>

#include "node/node.h"
#include "record/delivered.h"
#include "record/id.h"
#include "framework/framework.h"
#include "intake/intake.h"
#include "record/types.h"
#include "stix/wrapper.h"
#include "tlog/tlog.h"
#include "util/node.h"
#include "util/testutil.h"

#define THREADS 8

struct fixture {
    char *dir;
    comity_node *node;
    comity_key *key;
    char *token;
    char url[128];
};

struct reply {
    long status;
    char body[4096];
    size_t len;
};

static size_t on_body(char *p, size_t s, size_t n, void *ctx)
{
    struct reply *r = ctx;
    size_t k = s * n;
    size_t room = sizeof r->body - 1 - r->len;
    memcpy(r->body + r->len, p, k < room ? k : room);
    r->len += k < room ? k : room;
    r->body[r->len] = 0;
    return k;
}

static void post_as(const struct fixture *f, const char *token, const char *env, size_t len,
                    struct reply *r)
{
    memset(r, 0, sizeof *r);
    CURL *c = curl_easy_init();
    char auth[300];
    snprintf(auth, sizeof auth, "Authorization: Token %s", token);
    struct curl_slist *h = curl_slist_append(NULL, auth);
    curl_easy_setopt(c, CURLOPT_URL, f->url);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, env);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
}

static void post(const struct fixture *f, const char *env, size_t len, struct reply *r)
{
    post_as(f, f->token, env, len, r);
}

static long long index_of(const struct reply *r)
{
    json_t *j = json_loads(r->body, 0, NULL);
    assert_non_null(j);
    long long i = (long long)json_integer_value(json_object_get(j, "log_index"));
    json_decref(j);
    return i;
}

static const char *rule_of(const struct reply *r, char *buf, size_t cap)
{
    json_t *j = json_loads(r->body, 0, NULL);
    snprintf(buf, cap, "%s", j ? json_string_value(json_object_get(j, "rule")) : "");
    json_decref(j);
    return buf;
}

#define NOTE_PAYLOAD_CREATED "2026-11-23T06:40:00.000Z"

static int setup(void **state)
{
    setenv("COMITY_FAKE_NOW", "2026-11-23T06:41:00.000Z", 1); /* before any thread */
    struct fixture *f = calloc(1, sizeof *f);
    f->dir = tu_tmpdir();
    char nd[512], optoken[128], base[96];
    snprintf(nd, sizeof nd, "%s/node", f->dir);
    tu_node_make(nd, "intake.example/node", tu_store_fresh(), &f->node, optoken, sizeof optoken);
    TU_OK(comity_key_generate("pk.mofa", &f->key, E));
    TU_OK(comity_node_party_add(f->node, "pk.mofa", comity_key_vkey(f->key),
                                comity_key_recipient(f->key), &f->token, E));
    comity_serve_opts so;
    tu_serve_opts(&so);
    so.threads = THREADS;
    so.allow_many = "127.0.0.1"; /* THREADS * 4 clients at once, all on loopback */
    tu_node_serve(f->node, &so, base, sizeof base);
    snprintf(f->url, sizeof f->url, "%s/v1/records", base);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    comity_node_close(f->node);
    comity_key_free(f->key);
    comity_free(f->token);
    tu_rmrf(f->dir);
    free(f->dir);
    free(f);
    unsetenv("COMITY_FAKE_NOW");
    return 0;
}

/* An envelope over `payload`, signed by the fixture's key. */
static char *sign_payload(const struct fixture *f, const char *payload, size_t *len)
{
    const comity_nkey *k[] = {comity_key_signer(f->key)};
    char *env = NULL;
    TU_OK(comity_dsse_sign(COMITY_RECORD_PAYLOAD_TYPE, (const uint8_t *)payload,
                           strlen(payload), k, 1, &env, len, E));
    return env;
}

/* A note's payload by pk.mofa with its id's UUID and body value (both
 * string literals). */
#define NOTE_PAYLOAD(uuid, v)                                                                \
    "{\"type\":\"note\",\"id\":\"note--" uuid "\",\"author\":\"pk.mofa\","                 \
    "\"created\":\"" NOTE_PAYLOAD_CREATED "\",\"tlp\":\"green\",\"body\":{\"v\":" v "}}"

static void same_id_other_bytes(void **state)
{
    struct fixture *f = *state;
    const char *p1 = NOTE_PAYLOAD("7b0c2a64-3f1e-4c4d-8135-4ff23974adc0", "1");
    const char *p2 = NOTE_PAYLOAD("7b0c2a64-3f1e-4c4d-8135-4ff23974adc0", "2");
    size_t l1, l2;
    char *e1 = sign_payload(f, p1, &l1), *e2 = sign_payload(f, p2, &l2);
    struct reply r;
    char rule[64];
    post(f, e1, l1, &r);
    assert_int_equal(r.status, 201);
    long long first = index_of(&r);
    post(f, e2, l2, &r);
    assert_int_equal(r.status, 409);
    assert_string_equal(rule_of(&r, rule, sizeof rule), "conflict");
    post(f, e1, l1, &r); /* the first one is what is kept */
    assert_int_equal(r.status, 200);
    assert_int_equal(index_of(&r), first);
    comity_free(e1);
    comity_free(e2);
}

/* A re-post of a framework record (same id) is checked like any post:
 * a body that breaks the type's schema is refused by the framework rule
 * even though the framework already holds the id, another valid body is
 * the committer's 409, the same bytes its 200. */
static void framework_repost(void **state)
{
    struct fixture *f = *state;
#define NOTIF(body)                                                                      \
    "{\"type\":\"notification\",\"id\":\"notification--5d8e7f1a-2b3c-45f6-bd2f-791b5948f751\"," \
    "\"author\":\"pk.mofa\",\"created\":\"" NOTE_PAYLOAD_CREATED "\",\"to\":[\"in.cert-in\"]," \
    "\"tlp\":\"green\",\"body\":" body "}"
    const char *good = NOTIF("{\"severity\":3,\"sector\":\"energy\",\"summary\":\"scan\"}");
    const char *other = NOTIF("{\"severity\":4,\"sector\":\"energy\",\"summary\":\"scan\"}");
    const char *bad = NOTIF("{\"severity\":9,\"sector\":\"energy\",\"summary\":\"scan\"}");
#undef NOTIF
    size_t lg, lo, lb;
    char *eg = sign_payload(f, good, &lg), *eo = sign_payload(f, other, &lo),
         *eb = sign_payload(f, bad, &lb);
    struct reply r;
    char rule[64];
    post(f, eb, lb, &r); /* refused before the framework holds the id */
    assert_int_equal(r.status, 422);
    assert_string_equal(rule_of(&r, rule, sizeof rule), "framework");
    assert_non_null(strstr(r.body, "severity"));
    post(f, eg, lg, &r);
    assert_int_equal(r.status, 201);
    long long first = index_of(&r);
    post(f, eb, lb, &r); /* and after */
    assert_int_equal(r.status, 422);
    assert_string_equal(rule_of(&r, rule, sizeof rule), "framework");
    assert_non_null(strstr(r.body, "severity"));
    post(f, eo, lo, &r);
    assert_int_equal(r.status, 409);
    assert_string_equal(rule_of(&r, rule, sizeof rule), "conflict");
    post(f, eg, lg, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(index_of(&r), first);
    comity_free(eg);
    comity_free(eo);
    comity_free(eb);
}

struct job {
    const struct fixture *f;
    const char *env;
    size_t len;
    struct reply r;
};

static void *run_job(void *arg)
{
    struct job *j = arg;
    post(j->f, j->env, j->len, &j->r);
    return NULL;
}

static uint64_t log_size_now(struct fixture *f)
{
    comity_log *log = NULL;
    char ld[512];
    snprintf(ld, sizeof ld, "%s/node/log", f->dir);
    uint64_t size = 0;
    /* the writer is the serving node; a reader sees its published tree */
    TU_OK(comity_log_open(ld, COMITY_LOG_READ, NULL, &log, E));
    TU_OK(comity_log_read_checkpoint(log, NULL, NULL, &size, NULL, E));
    comity_log_close(log);
    return size;
}

static void wait_size(struct fixture *f, uint64_t want)
{
    for (int i = 0; i < 100 && log_size_now(f) < want; i++) {
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    assert_int_equal(log_size_now(f), want);
}

static void concurrent_same_record(void **state)
{
    struct fixture *f = *state;
    uint64_t before = log_size_now(f);
    const char *to[] = {"in.cert-in"};
    comity_record_params p = {.type = "ping", .tlp = "green", .to = to, .nto = 1};
    char *env = NULL;
    size_t len = 0;
    const char *body = "{\"announced\":true}"; /* the framework's ping schema */
    TU_OK(comity_record_sign(f->key, &p, body, strlen(body), &env, &len, E));
    pthread_t th[THREADS];
    struct job j[THREADS];
    for (int i = 0; i < THREADS; i++) {
        j[i] = (struct job){.f = f, .env = env, .len = len};
        pthread_create(&th[i], NULL, run_job, &j[i]);
    }
    int created = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        assert_true(j[i].r.status == 200 || j[i].r.status == 201);
        created += j[i].r.status == 201;
        assert_int_equal(index_of(&j[i].r), index_of(&j[0].r));
    }
    assert_int_equal(created, 1);
    wait_size(f, before + 1); /* one entry, however many posts */
    comity_free(env);
}

static void concurrent_distinct_records(void **state)
{
    struct fixture *f = *state;
    uint64_t before = log_size_now(f);
    enum { N = THREADS * 4 };
    char *env[N];
    size_t len[N];
    const char *to[] = {"in.cert-in"};
    comity_record_params p = {.type = "notification", .tlp = "green", .to = to, .nto = 1};
    const char *body = "{\"severity\":3,\"sector\":\"energy\",\"summary\":\"n\"}";
    for (int i = 0; i < N; i++)
        TU_OK(comity_record_sign(f->key, &p, body, strlen(body), &env[i], &len[i], E));
    pthread_t th[N];
    struct job j[N];
    for (int i = 0; i < N; i++) {
        j[i] = (struct job){.f = f, .env = env[i], .len = len[i]};
        pthread_create(&th[i], NULL, run_job, &j[i]);
    }
    long long seen[N];
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(j[i].r.status, 201);
        seen[i] = index_of(&j[i].r);
        assert_true(seen[i] >= (long long)before && seen[i] < (long long)before + N);
        for (int k = 0; k < i; k++)
            assert_true(seen[k] != seen[i]);
    }
    wait_size(f, before + N);
    for (int i = 0; i < N; i++)
        comity_free(env[i]);
}

/* Which versions of a type's body schema a node knows (cy_fw_knows:
 * docs/federation.md, "Versions"): every type it accepts at version 1, no
 * other version yet, no unknown type; COMITY_FORGET_TYPES's syntax (TYPE
 * forgets the type, TYPE@N its versions from N) and its refusals. */
static void known_versions(void **state)
{
    (void)state;
    TU_OK(cy_record_forget_set("", E));
    assert_true(cy_fw_knows("notification", 1));
    assert_true(cy_fw_knows("note", 1));
    assert_true(cy_fw_knows("consult-request", 1));
    assert_false(cy_fw_knows("notification", 2));
    assert_false(cy_fw_knows("note", 2));
    assert_false(cy_fw_knows("frobnicate", 1));
    assert_false(cy_fw_knows("note", 0));
    assert_int_equal(cy_fw_schema_max("notification"), 1);
    assert_int_equal(cy_fw_schema_max("note"), 0); /* the record layer's */
    assert_int_equal(cy_record_schema_max("note"), 1);
    TU_OK(cy_record_forget_set("note,notification@1,ping@2", E));
    assert_false(cy_fw_knows("note", 1));
    assert_false(cy_fw_knows("notification", 1));
    assert_true(cy_fw_knows("ping", 1)); /* only its versions from 2 */
    assert_true(cy_record_forgotten("ping", 2));
    assert_false(cy_record_forgotten("ping", 1));
    assert_true(cy_fw_knows("request", 1));
    /* a bad spec is refused and leaves the list as it was */
    const char *bad[] = {"Note", "note@0", "note@", "note,", ",", "note@10000", "no te",
                         "note@2x", "@2", "-x"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        TU_FAILS(cy_record_forget_set(bad[i], E), COMITY_ERR_USAGE, CY_RECORD_FORGET_ENV);
    char many[1024] = "";
    for (int i = 0; i <= CY_RECORD_FORGET_MAX; i++)
        snprintf(many + strlen(many), sizeof many - strlen(many), "%st%d", i ? "," : "", i);
    TU_FAILS(cy_record_forget_set(many, E), COMITY_ERR_TOOBIG, "entries");
    char *longs = malloc(CY_RECORD_FORGET_LEN + 2);
    memset(longs, 'a', CY_RECORD_FORGET_LEN + 1);
    longs[CY_RECORD_FORGET_LEN + 1] = 0;
    TU_FAILS(cy_record_forget_set(longs, E), COMITY_ERR_TOOBIG, "bytes");
    free(longs);
    assert_false(cy_fw_knows("note", 1));
    TU_OK(cy_record_forget_set("", E));
    assert_true(cy_fw_knows("note", 1));
}

/* At the origin, a record of a version of its type the node does not know
 * is refused (rule type, naming the version), as is a type the node was
 * told to forget; the framework itself refuses to fold such a record.
 * (Relayed from a peer they are stored: tests/cli/fed_versions.sh.) */
static void unknown_version_at_origin(void **state)
{
    struct fixture *f = *state;
    struct reply r;
    char rule[64];
    char *env;
    size_t len;
    comity_record_params p = {.type = "note", .schema = 2};
    TU_OK(comity_record_sign(f->key, &p, "{}", 2, &env, &len, E));
    post(f, env, len, &r);
    assert_int_equal(r.status, 422);
    assert_string_equal(rule_of(&r, rule, sizeof rule), "type");
    assert_non_null(strstr(r.body, "version 2 of record type 'note'"));
    comity_free(env);
    const char *to[] = {"in.cert-in"};
    comity_record_params n = {.type = "notification", .to = to, .nto = 1, .schema = 2};
    const char *body = "{\"severity\":3,\"sector\":\"energy\",\"summary\":\"n\"}";
    TU_OK(comity_record_sign(f->key, &n, body, strlen(body), &env, &len, E));
    post(f, env, len, &r);
    assert_int_equal(r.status, 422);
    assert_string_equal(rule_of(&r, rule, sizeof rule), "type");
    comity_record *rec;
    TU_OK(comity_record_parse(env, len, &rec, E));
    comity_framework *fw;
    TU_OK(comity_framework_new(&fw, E));
    TU_FAILS(comity_framework_add(fw, rec, NULL, 0, E), COMITY_ERR_INVALID, "version 2");
    comity_record_free(rec);
    comity_free(env);
    /* version 1 of the same passes; forgotten, it is refused as unknown */
    n.schema = 0;
    TU_OK(comity_record_sign(f->key, &n, body, strlen(body), &env, &len, E));
    TU_OK(comity_record_parse(env, len, &rec, E));
    TU_OK(cy_record_forget_set("notification", E));
    TU_FAILS(comity_framework_add(fw, rec, NULL, 0, E), COMITY_ERR_INVALID, "version 1");
    post(f, env, len, &r);
    assert_int_equal(r.status, 422);
    assert_string_equal(rule_of(&r, rule, sizeof rule), "type");
    assert_non_null(strstr(r.body, "record type 'notification' is not one this node accepts"));
    TU_OK(cy_record_forget_set("", E));
    TU_OK(comity_framework_add(fw, rec, NULL, 0, E));
    post(f, env, len, &r);
    assert_int_equal(r.status, 201);
    comity_framework_free(fw);
    comity_record_free(rec);
    comity_free(env);
}

/* At the origin, a party, admission or log-succession record whose body
 * the roster's parser (or the succession's) refuses is refused, rule body,
 * with the parser's message; a sealed one too (the three are public); a
 * well-formed one, and another type's body, pass.  (Relayed from a peer
 * such a record is logged and has no effect: tests/cli/fed_home.sh.) */
static void roster_body_at_origin(void **state)
{
    struct fixture *f = *state;
    struct reply r;
    char rule[64], body[2048];
    char *env;
    size_t len;
    comity_record_params p = {.type = "party", .tlp = "clear"};
    snprintf(body, sizeof body, "{\"office\":\"pk.mofa\",\"vkey\":\"%s\"}",
             comity_key_vkey(f->key));
    TU_OK(comity_record_sign(f->key, &p, body, strlen(body), &env, &len, E));
    post(f, env, len, &r);
    assert_int_equal(r.status, 422);
    assert_string_equal(rule_of(&r, rule, sizeof rule), "body");
    assert_non_null(strstr(r.body, "party.recipient"));
    comity_free(env);
    comity_record_params a = {.type = "admission", .tlp = "clear"};
    TU_OK(comity_record_sign(f->key, &a, "{\"state\":\"pk\"}", 14, &env, &len, E));
    post(f, env, len, &r);
    assert_int_equal(r.status, 422);
    assert_string_equal(rule_of(&r, rule, sizeof rule), "body");
    assert_non_null(strstr(r.body, "admission.vkey"));
    comity_free(env);
    comity_record_params sc = {.type = COMITY_SUCCESSION_TYPE, .tlp = "green"};
    TU_OK(comity_record_sign(f->key, &sc, "{\"url\":\"http://x\"}", 18, &env, &len, E));
    post(f, env, len, &r);
    assert_int_equal(r.status, 422);
    assert_string_equal(rule_of(&r, rule, sizeof rule), "body");
    assert_non_null(strstr(r.body, "log-succession"));
    comity_free(env);
    /* well formed: taken (the roster weighs its author later) */
    snprintf(body, sizeof body, "{\"office\":\"pk.mofa\",\"vkey\":\"%s\",\"recipient\":\"%s\","
             "\"home\":{\"log_vkey\":\"%s\",\"url\":\"https://n.pk\"}}",
             comity_key_vkey(f->key), comity_key_recipient(f->key), comity_key_vkey(f->key));
    TU_OK(comity_record_sign(f->key, &p, body, strlen(body), &env, &len, E));
    post(f, env, len, &r);
    assert_int_equal(r.status, 201);
    comity_free(env);
    /* the same body sealed: refused, the roster is public */
    const char *self[] = {"pk.mofa"};
    comity_record_params sealed = {.type = "party", .tlp = "amber", .to = self, .nto = 1};
    TU_OK(comity_record_sign(f->key, &sealed, body, strlen(body), &env, &len, E));
    post(f, env, len, &r);
    assert_int_equal(r.status, 422);
    assert_string_equal(rule_of(&r, rule, sizeof rule), "body");
    assert_non_null(strstr(r.body, "public"));
    comity_free(env);
}

/* The record layer knows the types no module above it rules (sighting,
 * evidence, note); the framework rules the rest, its case types included,
 * and intake accepts both: one list of each, never a copy. */
static void known_types(void **state)
{
    (void)state;
    const char *unruled[] = {"sighting", "evidence", "note"};
    for (size_t i = 0; i < sizeof unruled / sizeof *unruled; i++) {
        assert_true(cy_record_type_known(unruled[i]));
        assert_false(comity_framework_handles(unruled[i]));
    }
    const char *ruled[] = {"notification", "poc", "pong", "consult-request",
                           "preservation-request", "mla-request", "emergency-request"};
    for (size_t i = 0; i < sizeof ruled / sizeof *ruled; i++) {
        assert_false(cy_record_type_known(ruled[i]));
        assert_true(comity_framework_handles(ruled[i]));
    }
    assert_false(cy_record_type_known("frobnicate"));
    assert_false(cy_record_type_known(""));
    assert_false(cy_record_type_known("Note"));
}

/* A case record posts like any framework record: a valid one is stored,
 * one that breaks its schema is the framework's 422, not the type's. */
static void case_types_accepted(void **state)
{
    struct fixture *f = *state;
#define CREQ(body)                                                                       \
    "{\"type\":\"preservation-request\",\"id\":\"preservation-request--6a1f0c2e-3b4d-4a5b-9199-b9861fc3ea85\"," \
    "\"author\":\"pk.mofa\",\"created\":\"2026-11-23T06:40:00.000Z\",\"to\":[\"in\"]," \
    "\"tlp\":\"green\",\"body\":" body "}"
    const char *good = CREQ("{\"requesting_authority\":\"a\",\"offence\":\"b\",\"data\":\"c\","
                            "\"custodian\":\"d\",\"necessity\":\"e\",\"mla_to_follow\":true}");
    const char *bad = CREQ("{\"requesting_authority\":\"a\",\"offence\":\"b\",\"data\":\"c\","
                           "\"custodian\":\"d\",\"mla_to_follow\":true}");
#undef CREQ
    size_t lg, lb;
    char *eg = sign_payload(f, good, &lg), *eb = sign_payload(f, bad, &lb);
    struct reply r;
    char rule[64];
    post(f, eb, lb, &r);
    assert_int_equal(r.status, 422);
    assert_string_equal(rule_of(&r, rule, sizeof rule), "framework");
    assert_non_null(strstr(r.body, "necessity"));
    post(f, eg, lg, &r);
    if (r.status != 201)
        fprintf(stderr, "%s\n", r.body);
    assert_int_equal(r.status, 201);
    comity_free(eg);
    comity_free(eb);
}

/* The store's files vanish under a running node (a disk pulled, a wrong
 * rm): the next record is not acknowledged (503), and intake stays broken
 * (503, "restart it") rather than acknowledging records it cannot make
 * durable; the record posted before is unaffected. */
static void store_gone(void **state)
{
    struct fixture *f = *state;
    const char *p1 = NOTE_PAYLOAD("1b0c2a64-3f1e-4c01-b9bf-82d3e5ea7c0f", "1");
    const char *p2 = NOTE_PAYLOAD("1b0c2a64-3f1e-4c02-8b89-ec27c0820dff", "2");
    const char *p3 = NOTE_PAYLOAD("1b0c2a64-3f1e-4c03-b4c8-a89a47b1e736", "3");
    size_t l1, l2, l3;
    char *e1 = sign_payload(f, p1, &l1), *e2 = sign_payload(f, p2, &l2),
         *e3 = sign_payload(f, p3, &l3);
    struct reply r;
    char rule[64];
    post(f, e1, l1, &r);
    assert_int_equal(r.status, 201);
    char path[600];
    if (tu_store_pg()) { /* rows still commit, but nothing can be made durable */
        snprintf(path, sizeof path, "%s/node", f->dir);
        tu_node_sql(path, NULL, "DROP TABLE sync_mark");
    } else {
        snprintf(path, sizeof path, "%s/node/node.db", f->dir);
        assert_int_equal(unlink(path), 0);
        snprintf(path, sizeof path, "%s/node/node.db-wal", f->dir);
        assert_int_equal(unlink(path), 0);
    }
    post(f, e2, l2, &r);
    assert_int_equal(r.status, 503);
    assert_string_equal(rule_of(&r, rule, sizeof rule), "store");
    assert_non_null(strstr(r.body, "not made durable"));
    post(f, e3, l3, &r); /* broken from then on, even for a stored record */
    assert_int_equal(r.status, 503);
    assert_non_null(strstr(r.body, "restart it"));
    post(f, e1, l1, &r);
    assert_int_equal(r.status, 503);
    assert_non_null(strstr(r.body, "restart it"));
    comity_free(e1);
    comity_free(e2);
    comity_free(e3);
}

/* A batch whose rows fail to commit (an injected trigger) leaves its log
 * entry without a row; before any later record is committed a checkpoint
 * covers that entry, so a crash can never take it and shift the indexes
 * of later records (the log is REPLAYABLE: see src/intake/intake.c).  Periodic
 * checkpoints are held off for the test, so only that one publishes. */
static void failed_batch_checkpointed(void **state)
{
    struct fixture *f = *state;
    size_t l1, l2, l3;
    char *e1 = sign_payload(f, NOTE_PAYLOAD("2b0c2a64-3f1e-4c01-b8a6-615a29601ffb", "1"), &l1),
         *e2 = sign_payload(f, NOTE_PAYLOAD("2b0c2a64-3f1e-4c02-a9c4-70800eb38508", "2"), &l2),
         *e3 = sign_payload(f, NOTE_PAYLOAD("2b0c2a64-3f1e-4c03-8ee5-9d99855af37f", "3"), &l3);
    comity_log_set_interval(f->node->log, 3600 * 1000);
    uint64_t size0 = 0;
    TU_OK(comity_log_read_checkpoint(f->node->log, NULL, NULL, &size0, NULL, E));
    struct reply r;
    char rule[64], db[600];
    post(f, e1, l1, &r);
    assert_int_equal(r.status, 201);
    assert_int_equal(index_of(&r), (long long)size0);
    snprintf(db, sizeof db, "%s/node", f->dir);
    tu_node_sql(db,
                "CREATE TRIGGER inject BEFORE INSERT ON records WHEN NEW.id="
                "'note--2b0c2a64-3f1e-4c02-a9c4-70800eb38508'"
                " BEGIN SELECT RAISE(ABORT,'injected'); END",
                "CREATE FUNCTION inject() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN"
                " IF NEW.id = 'note--2b0c2a64-3f1e-4c02-a9c4-70800eb38508' THEN"
                " RAISE EXCEPTION 'injected'; END IF; RETURN NEW; END$$;"
                " CREATE TRIGGER inject BEFORE INSERT ON records FOR EACH ROW"
                " EXECUTE FUNCTION inject()");
    post(f, e2, l2, &r);
    assert_int_equal(r.status, 503);
    assert_string_equal(rule_of(&r, rule, sizeof rule), "store");
    /* both entries (the stored record's, the failed one's) are covered */
    uint64_t size = 0;
    TU_OK(comity_log_read_checkpoint(f->node->log, NULL, NULL, &size, NULL, E));
    assert_int_equal(size, size0 + 2);
    tu_node_sql(db, "DROP TRIGGER inject", "DROP TRIGGER inject ON records");
    post(f, e3, l3, &r);
    assert_int_equal(r.status, 201);
    assert_int_equal(index_of(&r), (long long)size0 + 2);
    post(f, e2, l2, &r); /* the failed record, posted again: a new entry */
    assert_int_equal(r.status, 201);
    assert_int_equal(index_of(&r), (long long)size0 + 3);
    comity_free(e1);
    comity_free(e2);
    comity_free(e3);
}

/* The crash window of the horizon: between appending a batch's entries
 * and committing their rows (cy_intake_test_window), the log's sequencer,
 * checkpointing every millisecond here, must not cover the entries: a
 * kill there would keep them without their rows, and the record, posted
 * again, would be logged twice.  Once the row is durable, a checkpoint
 * covers its entry. */
static struct {
    comity_log *log;
    uint64_t first, published;
    size_t n;
    int calls;
} win;

static void window_hook(cy_intake *in, uint64_t first, size_t n)
{
    (void)in;
    uint64_t commits, c0, c;
    cy_log_stats(win.log, &commits, &c0);
    /* the sequencer's chances to checkpoint (without the horizon, it takes
     * the first: a few passes suffice) */
    for (int t = 0; t < 300; t++) {
        cy_log_stats(win.log, &commits, &c);
        if (c >= c0 + 3)
            break;
        usleep(1000);
    }
    win.published = UINT64_MAX;
    (void)comity_log_read_checkpoint(win.log, NULL, NULL, &win.published, NULL, NULL);
    win.first = first;
    win.n = n;
    win.calls++;
}

static void window_not_checkpointed(void **state)
{
    struct fixture *f = *state;
    size_t l1;
    char *e1 = sign_payload(f, NOTE_PAYLOAD("1b0c2a64-3f1e-4c01-b9bf-82d3e5ea7c0f", "1"), &l1);
    comity_log_set_interval(f->node->log, 1);
    memset(&win, 0, sizeof win);
    win.log = f->node->log;
    cy_intake_test_window = window_hook;
    struct reply r;
    post(f, e1, l1, &r);
    cy_intake_test_window = NULL;
    if (r.status != 201)
        print_message("%s\n", r.body);
    assert_int_equal(r.status, 201);
    assert_int_equal(win.calls, 1);
    assert_int_equal(win.n, 1);
    assert_int_equal((long long)win.first, index_of(&r));
    assert_true(win.published <= win.first); /* not covered in the window */
    uint64_t size = 0;
    for (int t = 0; t < 10000 && size <= win.first; t++) { /* then covered */
        TU_OK(comity_log_read_checkpoint(f->node->log, NULL, NULL, &size, NULL, E));
        usleep(1000);
    }
    assert_true(size > win.first);
    comity_free(e1);
}

/* ---- many recipients: every inbox gets its copy ------------------------------ */

/* GET path on the node with party `tok`'s token; returns the status and
 * the body (at most 4 KiB, enough for one object). */
static long get_as(const struct fixture *f, const char *tok, const char *path, struct reply *r)
{
    memset(r, 0, sizeof *r);
    CURL *c = curl_easy_init();
    char auth[300], url[512];
    snprintf(auth, sizeof auth, "Authorization: Token %s", tok);
    snprintf(url, sizeof url, "http://127.0.0.1:%u%s", comity_node_port(f->node), path);
    struct curl_slist *h = curl_slist_append(NULL, auth);
    h = curl_slist_append(h, "Accept: " CY_MEDIA_TAXII);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return r->status;
}

/* Party i of the test: state "s" + two letters (ten states for i < 10). */
static void party_name(size_t i, char out[32])
{
    snprintf(out, 32, "s%c%c.mofa", 'a' + (int)(i / 26), 'a' + (int)(i % 26));
}

/* Registers parties [from, to) and keeps their tokens in toks[]. */
static void add_parties(struct fixture *f, size_t from, size_t to, char **toks)
{
    for (size_t i = from; i < to; i++) {
        char name[32];
        party_name(i, name);
        comity_key *k = NULL;
        TU_OK(comity_key_generate(name, &k, E));
        TU_OK(comity_node_party_add(f->node, name, comity_key_vkey(k), comity_key_recipient(k),
                                    &toks[i], E));
        comity_key_free(k);
    }
}

/* An amber note by pk.mofa to parties [0, n) (sealed to the author).
 * OUT uuid: the UUID of its id. */
static char *amber_to(const struct fixture *f, size_t n, char uuid[CY_UUID_BUF], size_t *len)
{
    char (*names)[32] = calloc(n, sizeof *names);
    const char **to = calloc(n, sizeof *to);
    for (size_t i = 0; i < n; i++) {
        party_name(i, names[i]);
        to[i] = names[i];
    }
    const char *seal[] = {comity_key_recipient(f->key)};
    comity_record_params p = {.type = "note", .tlp = "amber", .to = to, .nto = n,
                              .seal_to = seal, .nseal_to = 1};
    char *env = NULL;
    TU_OK(comity_record_sign(f->key, &p, "{\"v\":1}", 7, &env, len, E));
    comity_record *rec = NULL;
    TU_OK(comity_record_parse(env, *len, &rec, E));
    snprintf(uuid, CY_UUID_BUF, "%s", strstr(comity_record_id(rec), "--") + 2);
    comity_record_free(rec);
    free(to);
    free(names);
    return env;
}

/* Every one of parties [0, n) finds the record's wrapper in its inbox
 * over TAXII. */
static void each_reads(struct fixture *f, const char *uuid, size_t n, char **toks)
{
    for (size_t i = 0; i < n; i++) {
        char name[32], alias[64], id[CY_UUID_BUF], path[256];
        party_name(i, name);
        snprintf(alias, sizeof alias, "inbox.%s", name);
        cy_collection_id(f->node->origin, alias, id);
        snprintf(path, sizeof path, "/%s/collections/%s/objects/?match[id]=x-comity-record--%s",
                 f->node->api_root, id, uuid);
        struct reply r;
        assert_int_equal(get_as(f, toks[i], path, &r), 200);
        if (!strstr(r.body, uuid))
            fail_msg("recipient %zu (%s) of %zu: no copy in its inbox: %.200s", i + 1, name, n,
                     r.body);
    }
}

/* Defect: a record's TAXII copies were capped at 8 collections
 * (CY_RECORD_COLLS_MAX), silently: an amber record to ten parties in ten
 * states reached seven inboxes.  Now every recipient's inbox gets one, up
 * to the record format's 256 recipients. */
static void amber_to_many(void **state)
{
    struct fixture *f = *state;
    char **toks = calloc(COMITY_RECORD_MAX_TO, sizeof *toks);
    add_parties(f, 0, 10, toks);
    size_t len;
    char u1[CY_UUID_BUF], u2[CY_UUID_BUF];
    char *env = amber_to(f, 10, u1, &len);
    struct reply r;
    post(f, env, len, &r);
    if (r.status != 201)
        fail_msg("%ld %s", r.status, r.body);
    comity_free(env);
    each_reads(f, u1, 10, toks);

    add_parties(f, 10, COMITY_RECORD_MAX_TO, toks);
    env = amber_to(f, COMITY_RECORD_MAX_TO, u2, &len);
    post(f, env, len, &r);
    if (r.status != 201)
        fail_msg("%ld %s", r.status, r.body);
    comity_free(env);
    each_reads(f, u2, COMITY_RECORD_MAX_TO, toks);
    for (size_t i = 0; i < COMITY_RECORD_MAX_TO; i++)
        comity_free(toks[i]);
    free(toks);
}

/* ---- intake without HTTP: the entry point and the key cache ------------------ */

struct outcome {
    comity_err code;
    char rule[32];
    int calls;
};

static void on_done(void *ctx, const cy_intake_result *res)
{
    struct outcome *o = ctx;
    o->code = res->code;
    snprintf(o->rule, sizeof o->rule, "%s", res->rule ? res->rule : "");
    o->calls++;
}

/* Submits env (handed over) as `who` and waits for its outcome. */
static void submit_wait(cy_intake *in, char *env, size_t len, const cy_principal *who,
                        struct outcome *o)
{
    memset(o, 0, sizeof *o);
    char *copy = cy_strndup(env, len); /* intake frees what it is given with cy_free */
    comity_free(env);
    cy_intake_submit(in, copy, len, who, on_done, o);
    cy_intake_drain(in); /* the callback has run when this returns */
    assert_int_equal(o->calls, 1);
}

/* Defect: the verifier-key cache had 64 slots and never evicted: from the
 * 65th author on, every record paid a key parse.  Now it evicts (CLOCK):
 * with 4 slots and ten authors posting in turn, every lookup misses and
 * every record is still stored; one author posting again hits.  Also
 * intake's entry point without HTTP: a caller with no HTTP submits and
 * gets each outcome from its callback. */
static void intake_direct_small_cache(void **state)
{
    (void)state;
    char *dir = tu_tmpdir(), nd[512], lp[600];
    snprintf(nd, sizeof nd, "%s/node", dir);
    comity_node_init_opts io = {.origin = "direct.example/node", .no_tls_cert = 1,
                                .store = tu_store_fresh()};
    comity_node_created cr;
    TU_OK(comity_node_init(nd, &io, &cr, E));
    comity_node_created_free(&cr);
    comity_node *node = NULL;
    TU_OK(comity_node_open(nd, &node, E));
    enum { AUTHORS = 10 };
    comity_key *keys[AUTHORS];
    cy_principal who[AUTHORS];
    for (size_t i = 0; i < AUTHORS; i++) {
        char name[32], *tok = NULL;
        party_name(i, name);
        TU_OK(comity_key_generate(name, &keys[i], E));
        TU_OK(comity_node_party_add(node, name, comity_key_vkey(keys[i]),
                                    comity_key_recipient(keys[i]), &tok, E));
        comity_free(tok);
        TU_OK(cy_store_principal_get(node->store, name, &who[i], NULL, E));
    }
    comity_log *log = NULL;
    snprintf(lp, sizeof lp, "%s/log", nd);
    TU_OK(comity_log_open(lp, COMITY_LOG_WRITE | COMITY_LOG_BACKGROUND | COMITY_LOG_REPLAYABLE,
                          node->key, &log, E));
    cy_intake_opts o = {.store = node->store, .log = log, .origin = node->origin,
                        .api_root = node->api_root, .vkey_cache = 4};
    cy_intake *in = NULL;
    TU_OK(cy_intake_start(&o, &in, E));
    comity_record_params p = {.type = "note", .tlp = "green"};
    struct outcome out;
    size_t len;
    char *env;
    for (int round = 0; round < 2; round++)
        for (size_t i = 0; i < AUTHORS; i++) {
            char body[32];
            int bl = snprintf(body, sizeof body, "{\"v\":%d}", round * AUTHORS + (int)i);
            TU_OK(comity_record_sign(keys[i], &p, body, (size_t)bl, &env, &len, E));
            submit_wait(in, env, len, &who[i], &out);
            assert_int_equal(out.code, COMITY_OK);
        }
    uint64_t hits, misses;
    cy_intake_vkey_stats(in, &hits, &misses);
    assert_int_equal(hits, 0);
    assert_int_equal(misses, 2 * AUTHORS);
    for (int k = 0; k < 5; k++) {
        char body[32];
        int bl = snprintf(body, sizeof body, "{\"w\":%d}", k);
        TU_OK(comity_record_sign(keys[0], &p, body, (size_t)bl, &env, &len, E));
        submit_wait(in, env, len, &who[0], &out);
        assert_int_equal(out.code, COMITY_OK);
    }
    cy_intake_vkey_stats(in, &hits, &misses);
    assert_int_equal(hits, 4);
    assert_int_equal(misses, 2 * AUTHORS + 1);
    /* an anonymous submitter: refused once the signature checks out, on
     * the submitting thread */
    TU_OK(comity_record_sign(keys[1], &p, "{}", 2, &env, &len, E));
    submit_wait(in, env, len, NULL, &out);
    assert_int_equal(out.code, COMITY_ERR_DENIED);
    assert_string_equal(out.rule, "authenticated");
    cy_intake_stop(in);
    uint64_t size = 0;
    TU_OK(comity_log_read_checkpoint(log, NULL, NULL, &size, NULL, E));
    assert_int_equal(size, 2 * AUTHORS + 5); /* one entry per stored record */
    comity_log_close(log);
    for (size_t i = 0; i < AUTHORS; i++)
        comity_key_free(keys[i]);
    comity_node_close(node);
    tu_rmrf(dir);
    free(dir);
}

/* The outcome of one relayed submission of a run. */
struct run_outcome {
    comity_err code;
    char rule[32];
    bool existed, retry;
    uint64_t log_index;
    atomic_int calls;
};

static void on_run_done(void *ctx, const cy_intake_result *res)
{
    struct run_outcome *o = ctx;
    o->code = res->code;
    snprintf(o->rule, sizeof o->rule, "%s", res->rule ? res->rule : "");
    o->existed = res->existed;
    o->retry = res->retry;
    o->log_index = res->log_index;
    atomic_fetch_add(&o->calls, 1);
}

struct received {
    size_t n;
    int64_t first, last;
};

static int row_received(const cy_record_row *row, void *ctx)
{
    struct received *r = ctx;
    if (!r->n++)
        r->first = row->received_us;
    r->last = row->received_us;
    return 0;
}

/* A node that pins one peer (`peer`, whose only its log key is used)
 * as the home of pk.mofa, with its log open REPLAYABLE and intake
 * started on them, as `comity serve` has them: the set-up of the tests of
 * records relayed from a peer.  relay_node_close stops intake (unless
 * the test did and set `in` NULL), closes and removes everything. */
struct relay_node {
    char *dir, nd[512];
    comity_node *node;
    comity_node_created pcr;
    comity_key *pk;
    comity_log *log;
    cy_intake *in;
};

static void relay_node_open(struct relay_node *f, const char *origin, const char *peer)
{
    char pd[512], lp[600];
    f->dir = tu_tmpdir();
    snprintf(f->nd, sizeof f->nd, "%s/node", f->dir);
    snprintf(pd, sizeof pd, "%s/peer", f->dir);
    comity_node_init_opts io = {.origin = origin, .no_tls_cert = 1, .store = tu_store_fresh()};
    comity_node_created cr;
    TU_OK(comity_node_init(f->nd, &io, &cr, E));
    comity_node_created_free(&cr);
    comity_node_init_opts pio = {.origin = peer, .no_tls_cert = 1};
    TU_OK(comity_node_init(pd, &pio, &f->pcr, E));
    TU_OK(comity_node_open(f->nd, &f->node, E));
    TU_OK(comity_key_generate("pk.mofa", &f->pk, E));
    const char *pv[1] = {comity_key_vkey(f->pk)}, *pr[1] = {comity_key_recipient(f->pk)};
    TU_OK(comity_node_peer_add(f->node, "http://127.0.0.1:1", f->pcr.node_vkey, pv, pr, 1, E));
    snprintf(lp, sizeof lp, "%s/log", f->nd);
    TU_OK(comity_log_open(lp, COMITY_LOG_WRITE | COMITY_LOG_BACKGROUND | COMITY_LOG_REPLAYABLE,
                          f->node->key, &f->log, E));
    cy_intake_opts o = {.store = f->node->store, .log = f->log, .origin = f->node->origin,
                        .api_root = f->node->api_root};
    TU_OK(cy_intake_start(&o, &f->in, E));
}

static void relay_node_close(struct relay_node *f)
{
    if (f->in)
        cy_intake_stop(f->in);
    comity_log_close(f->log);
    comity_node_created_free(&f->pcr);
    comity_key_free(f->pk);
    comity_node_close(f->node);
    tu_rmrf(f->dir);
    free(f->dir);
}

/* A run of relayed records (cy_intake_run, what a puller submits a page
 * as): each record is checked on the submitting thread, a refused one
 * answered at once, and the others held, unanswered, until the run is
 * committed; then the whole run is one batch (one commit time stamped on
 * every row), every record stored and logged once, and a record relayed
 * twice in the run is "stored before" at its twin's log index. */
static void relayed_run_one_batch(void **state)
{
    (void)state;
    enum { N = 300, TWIN = 7 };
#define PEER "run.example/peer"
    struct relay_node f;
    relay_node_open(&f, "run.example/node", PEER);
    comity_node *node = f.node;
    comity_log *log = f.log;
    cy_intake *in = f.in;
    comity_key *pk = f.pk, *stranger = NULL;
    TU_OK(comity_key_generate("zz.mofa", &stranger, E));
    static struct run_outcome out[N + 2];
    memset(out, 0, sizeof out);
    comity_record_params p = {.type = "note", .tlp = "green"};
    cy_intake_run run = CY_INTAKE_RUN_INIT;
    char *twin = NULL;
    size_t twin_len = 0;
    for (size_t i = 0; i < N; i++) {
        char body[32], *env = NULL;
        size_t len = 0;
        int bl = snprintf(body, sizeof body, "{\"v\":%zu}", i);
        TU_OK(comity_record_sign(pk, &p, body, (size_t)bl, &env, &len, E));
        if (i == TWIN)
            twin = cy_strndup(env, twin_len = len);
        comity_record *rec = NULL;
        TU_OK(comity_record_parse(env, len, &rec, E));
        char *copy = cy_strndup(env, len); /* intake frees it with cy_free */
        comity_free(env);
        cy_intake_submit_relayed_run(in, &run, copy, len, rec, PEER, 0, on_run_done, &out[i]);
    }
    /* the same record again, and one whose author is not homed there */
    comity_record *rec = NULL;
    TU_OK(comity_record_parse(twin, twin_len, &rec, E));
    cy_intake_submit_relayed_run(in, &run, twin, twin_len, rec, PEER, 0, on_run_done,
                                 &out[N]);
    char *env = NULL;
    size_t len = 0;
    TU_OK(comity_record_sign(stranger, &p, "{}", 2, &env, &len, E));
    TU_OK(comity_record_parse(env, len, &rec, E));
    char *copy = cy_strndup(env, len);
    comity_free(env);
    cy_intake_submit_relayed_run(in, &run, copy, len, rec, PEER, 0, on_run_done, &out[N + 1]);
    assert_int_equal(atomic_load(&out[N + 1].calls), 1); /* refused at once */
    assert_string_equal(out[N + 1].rule, "author");
    assert_int_equal(run.n, N + 1);
    usleep(50 * 1000); /* a committer looking now finds nothing queued */
    for (size_t i = 0; i <= N; i++)
        assert_int_equal(atomic_load(&out[i].calls), 0);
    cy_intake_run_commit(in, &run);
    assert_int_equal(run.n, 0);
    cy_intake_drain(in);
    for (size_t i = 0; i < N; i++) {
        assert_int_equal(atomic_load(&out[i].calls), 1);
        assert_int_equal(out[i].code, COMITY_OK);
        assert_false(out[i].existed);
    }
    assert_int_equal(out[N].code, COMITY_OK);
    assert_true(out[N].existed);
    assert_int_equal(out[N].log_index, out[TWIN].log_index);
    struct received r = {0};
    TU_OK(cy_store_records_tail(node->store, 0, row_received, &r, E));
    assert_int_equal(r.n, N);
    assert_true(r.first == r.last); /* one batch: one commit time */
    cy_intake_stop(in);
    f.in = NULL;
    uint64_t size = 0;
    TU_OK(comity_log_read_checkpoint(log, NULL, NULL, &size, NULL, E));
    assert_int_equal(size, N); /* one entry per stored record */
    comity_key_free(stranger);
    relay_node_close(&f);
#undef PEER
}

/* A relayed `delivered` record verifies under its author's home node's
 * log key, read from the store (the author's home, then the peer's row).
 * When the store cannot answer (here: the peers table renamed away under
 * the running intake), the refusal is the store's, to retry (503), not
 * the signature's (422); so is it when the origin check's lookup of the
 * author's home cannot answer (the party_home table renamed away), not
 * the origin rule's. */
static void delivered_home_store_failure(void **state)
{
    (void)state;
#define PEER "home.example/peer"
    struct relay_node f;
    relay_node_open(&f, "home.example/node", PEER);
    const char *nd = f.nd;
    cy_intake *in = f.in;
    comity_key *pk = f.pk;
    comity_nkey *signer = NULL; /* never reached: the lookup fails first */
    TU_OK(comity_nkey_generate(PEER, COMITY_NOTE_ED25519, &signer, E));
    const char *refs[1] = {"note--1b0c2a64-3f1e-4c01-b9bf-82d3e5ea7c0f"};
    comity_record_params p = {.type = "delivered", .refs = refs, .nrefs = 1, .tlp = "green"};
    const char *body = "{\"party\":\"pk.mofa\"}";
    char *env = NULL;
    size_t len = 0;
    TU_OK(cy_record_sign_as(signer, "pk.mofa", comity_key_recipient(pk), &p, body,
                            strlen(body), &env, &len, E));
    tu_node_sql(nd, "ALTER TABLE peers RENAME TO peers_gone",
                "ALTER TABLE peers RENAME TO peers_gone");
    struct run_outcome out = {0};
    cy_intake_submit_relayed(in, cy_strndup(env, len), len, PEER, on_run_done, &out);
    cy_intake_drain(in);
    assert_int_equal(atomic_load(&out.calls), 1);
    assert_string_equal(out.rule, "store");
    assert_true(out.retry);
    tu_node_sql(nd, "ALTER TABLE peers_gone RENAME TO peers",
                "ALTER TABLE peers_gone RENAME TO peers");
    /* the origin check's own lookup of the author's home, the same way
     * (rule origin, not to retry, before) */
    tu_node_sql(nd, "ALTER TABLE party_home RENAME TO party_home_gone",
                "ALTER TABLE party_home RENAME TO party_home_gone");
    struct run_outcome out2 = {0};
    cy_intake_submit_relayed(in, cy_strndup(env, len), len, PEER, on_run_done, &out2);
    cy_intake_drain(in);
    assert_int_equal(atomic_load(&out2.calls), 1);
    assert_string_equal(out2.rule, "store");
    assert_true(out2.retry);
    tu_node_sql(nd, "ALTER TABLE party_home_gone RENAME TO party_home",
                "ALTER TABLE party_home_gone RENAME TO party_home");
    comity_free(env);
    comity_nkey_free(signer);
    relay_node_close(&f);
#undef PEER
}

/* ---- the failed batch's checkpoint and the syncer's backlog ------------------ */

/* The store's record operations, wrapped (gap.ops in the store's place):
 * the committer's adds counted, one made to fail on demand; the syncer's
 * syncs held while gap.hold is set (or one made to fail), the
 * committer's let through (or one made to fail); a sync
 * that returns OK makes durable every add committed before it began
 * (gap.durable: how many). */
static struct {
    const cy_record_ops *real;
    cy_record_ops ops;
    pthread_t committer; /* written before have_committer is set */
    atomic_bool have_committer, hold, held, fail_add, fail_sync, fail_csync;
    atomic_int csync_failed; /* the committer's syncs failed */
    atomic_int committed, durable; /* adds committed; of them, synced */
    atomic_int hook_calls, hook_committed, hook_durable;
} gap;

static comity_err gap_add(void *impl, const cy_record_in *recs, size_t n,
                          const cy_record_extdef *ext, unsigned flags, comity_error *err)
{
    if (!atomic_load(&gap.have_committer)) { /* only intake's committer adds */
        gap.committer = pthread_self();
        atomic_store(&gap.have_committer, true);
    }
    if (atomic_exchange(&gap.fail_add, false))
        return cy_fail(err, COMITY_ERR_IO, "injected: the batch's rows fail to commit");
    comity_err rc = gap.real->add(impl, recs, n, ext, flags, err);
    if (!rc)
        atomic_fetch_add(&gap.committed, 1);
    return rc;
}

static comity_err gap_sync(void *impl, comity_error *err)
{
    bool committer = atomic_load(&gap.have_committer) &&
                     pthread_equal(pthread_self(), gap.committer);
    if (!committer && atomic_load(&gap.hold)) { /* the syncer waits */
        atomic_store(&gap.held, true);
        while (atomic_load(&gap.hold))
            usleep(1000);
    }
    if (!committer && atomic_exchange(&gap.fail_sync, false))
        return cy_fail(err, COMITY_ERR_IO, "injected: fdatasync fails");
    if (committer && atomic_exchange(&gap.fail_csync, false)) {
        atomic_fetch_add(&gap.csync_failed, 1);
        return cy_fail(err, COMITY_ERR_IO, "injected: the committer's fdatasync fails");
    }
    int before = atomic_load(&gap.committed);
    comity_err rc = gap.real->sync(impl, err);
    int d = atomic_load(&gap.durable);
    while (!rc && before > d && !atomic_compare_exchange_weak(&gap.durable, &d, before))
        ;
    return rc;
}

/* Called just before the failed batch's explicit checkpoint. */
static void gap_hook(cy_intake *in)
{
    (void)in;
    atomic_store(&gap.hook_committed, atomic_load(&gap.committed));
    atomic_store(&gap.hook_durable, atomic_load(&gap.durable));
    atomic_fetch_add(&gap.hook_calls, 1);
}

/* An envelope of a note by pk, body {"v":v}, handed over (cy_free). */
static char *note_by(comity_key *pk, int v, size_t *len)
{
    comity_record_params p = {.type = "note", .tlp = "green"};
    char body[32], *env = NULL;
    int bl = snprintf(body, sizeof body, "{\"v\":%d}", v);
    TU_OK(comity_record_sign(pk, &p, body, (size_t)bl, &env, len, E));
    char *copy = cy_strndup(env, *len); /* intake frees it with cy_free */
    comity_free(env);
    return copy;
}

/* A relayed-record node (PEER pinned) whose store's record operations go
 * through gap_add and gap_sync; returns the log's checkpoint size.  The
 * test puts st->rec back (gap.real) before it closes the node. */
static uint64_t gap_node_open(struct relay_node *f)
{
    relay_node_open(f, "gap.example/node", "gap.example/peer");
    comity_store *st = f->node->store;
    memset(&gap, 0, sizeof gap);
    gap.real = st->rec;
    gap.ops = *st->rec;
    gap.ops.add = gap_add;
    gap.ops.sync = gap_sync;
    st->rec = &gap.ops; /* intake is idle: its threads see it after their next wake-up */
    uint64_t size0 = 0;
    TU_OK(comity_log_read_checkpoint(f->log, NULL, NULL, &size0, NULL, E));
    return size0;
}

/* Submits record 1 with its sync held in the syncer, and waits until it
 * is committed and held there (gap.held). */
static void gap_first(struct relay_node *f, char *env, size_t len, struct run_outcome *o)
{
    atomic_store(&gap.hold, true);
    cy_intake_submit_relayed(f->in, env, len, "gap.example/peer", on_run_done, o);
    for (int t = 0; t < 10000 && !atomic_load(&gap.held); t++)
        usleep(1000);
}

/* Defect: a batch whose rows fail to commit is followed by an explicit
 * checkpoint, which covers every entry appended, past the horizon: also
 * those of the batches committed before it whose rows the syncer had not
 * yet made durable, so a power loss just then kept entries without their
 * rows.  Here record 1 is committed and its sync held in the syncer;
 * record 2's rows fail: just before the checkpoint that covers both
 * entries, record 1's row must be durable (the committer syncs first). */
static void failed_batch_syncs_backlog(void **state)
{
    (void)state;
#define PEER "gap.example/peer"
    struct relay_node f;
    uint64_t size0 = gap_node_open(&f);
    size_t l1, l2;
    char *e1 = note_by(f.pk, 1, &l1), *e2 = note_by(f.pk, 2, &l2);
    struct run_outcome o1 = {0}, o2 = {0};
    cy_intake_test_gap = gap_hook;
    gap_first(&f, e1, l1, &o1);
    bool held = atomic_load(&gap.held); /* record 1 committed, its sync held */
    atomic_store(&gap.fail_add, true);
    cy_intake_submit_relayed(f.in, e2, l2, PEER, on_run_done, &o2);
    for (int t = 0; t < 10000 && !atomic_load(&gap.hook_calls); t++)
        usleep(1000);
    atomic_store(&gap.hold, false); /* before any assert: the syncer goes on */
    cy_intake_drain(f.in);
    cy_intake_test_gap = NULL;
    f.node->store->rec = gap.real;
    assert_true(held);
    assert_int_equal(atomic_load(&gap.hook_calls), 1);
    assert_int_equal(atomic_load(&gap.hook_committed), 1);
    assert_int_equal(atomic_load(&gap.hook_durable), 1); /* record 1's row durable */
    assert_int_equal(o1.code, COMITY_OK);
    assert_int_equal(o1.log_index, size0);
    assert_string_equal(o2.rule, "store");
    assert_true(o2.retry);
    uint64_t size = 0; /* the checkpoint covers both entries */
    TU_OK(comity_log_read_checkpoint(f.log, NULL, NULL, &size, NULL, E));
    assert_int_equal(size, size0 + 2);
    relay_node_close(&f);
#undef PEER
}

/* The committer's sync before a failed batch's checkpoint fails: intake
 * is broken, nothing is checkpointed (the horizon stays), and the
 * syncer's backlog is refused too, though its own sync, which ends after
 * the failed one, succeeds (after a failed fsync the next may succeed
 * without the pages the first lost).  Here record 1 is committed and its
 * sync held in the syncer; record 2's rows fail, then the committer's
 * sync; then record 1's sync goes on. */
static void committer_sync_fails(void **state)
{
    (void)state;
#define PEER "gap.example/peer"
    struct relay_node f;
    uint64_t size0 = gap_node_open(&f);
    size_t l1, l2, l3;
    char *e1 = note_by(f.pk, 1, &l1), *e2 = note_by(f.pk, 2, &l2), *e3 = note_by(f.pk, 3, &l3);
    struct run_outcome o1 = {0}, o2 = {0}, o3 = {0};
    cy_intake_test_gap = gap_hook;
    gap_first(&f, e1, l1, &o1);
    bool held = atomic_load(&gap.held);
    atomic_store(&gap.fail_add, true);
    atomic_store(&gap.fail_csync, true);
    cy_intake_submit_relayed(f.in, e2, l2, PEER, on_run_done, &o2);
    for (int t = 0; t < 10000 && !atomic_load(&gap.csync_failed); t++)
        usleep(1000);
    atomic_store(&gap.hold, false); /* record 1's sync now, after the failed one */
    cy_intake_drain(f.in);
    cy_intake_test_gap = NULL;
    cy_intake_submit_relayed(f.in, e3, l3, PEER, on_run_done, &o3);
    cy_intake_drain(f.in);
    cy_intake_stop(f.in);
    f.in = NULL;
    f.node->store->rec = gap.real;
    assert_true(held);
    assert_int_equal(atomic_load(&gap.csync_failed), 1);
    assert_int_equal(atomic_load(&gap.hook_calls), 0); /* no checkpoint tried */
    assert_string_equal(o1.rule, "store"); /* its own sync is not believed */
    assert_true(o1.retry);
    assert_string_equal(o2.rule, "store");
    assert_string_equal(o3.rule, "store"); /* broken */
    uint64_t size = 0; /* no entry covered: neither record 1's nor the gap */
    TU_OK(comity_log_read_checkpoint(f.log, NULL, NULL, &size, NULL, E));
    assert_int_equal(size, size0);
    relay_node_close(&f);
#undef PEER
}

/* Defect: after a failed sync intake is broken, yet its stop still had a
 * checkpoint cover every entry, past the horizon: also the entries of
 * rows whose sync failed, which may not be on disk.  Now a broken intake
 * stops without that checkpoint (the next start checks the rows again). */
static void failed_sync_stop_not_checkpointed(void **state)
{
    (void)state;
#define PEER "gap.example/peer"
    struct relay_node f;
    uint64_t size0 = gap_node_open(&f);
    size_t l1;
    char *e1 = note_by(f.pk, 1, &l1);
    struct run_outcome o1 = {0};
    atomic_store(&gap.fail_sync, true);
    cy_intake_submit_relayed(f.in, e1, l1, PEER, on_run_done, &o1);
    cy_intake_drain(f.in);
    assert_int_equal(atomic_load(&gap.committed), 1); /* its row committed, */
    assert_string_equal(o1.rule, "store");            /* its sync failed */
    assert_true(o1.retry);
    cy_intake_stop(f.in);
    f.in = NULL;
    f.node->store->rec = gap.real;
    uint64_t size = 0;
    TU_OK(comity_log_read_checkpoint(f.log, NULL, NULL, &size, NULL, E));
    assert_int_equal(size, size0); /* its entry not covered */
    relay_node_close(&f);
#undef PEER
}

/* `created` within the node's bounds (5 minutes ahead of its clock, 10
 * behind; the clock is pinned at 06:41): outside them 422 with the rule
 * "created" and a message naming record.created and the bound; inside
 * them, and at them, 201. */
static void created_bounds(void **state)
{
    struct fixture *f = *state;
    static const struct {
        const char *uuid, *created;
        long status;
        const char *needle;
    } cases[] = {
        {"0a6c7a52-46b1-4001-954d-b9480e73cd19", "0001-01-01T00:00:00.000Z", 422,
         "created-behind allows at most 10m"},
        {"0a6c7a52-46b1-4002-8190-17b780d75372", "9999-12-31T23:59:59.999Z", 422,
         "created-ahead allows at most 5m"},
        {"0a6c7a52-46b1-4003-ba09-82ee255f7355", "2026-11-23T06:30:00.000Z", 422,
         "record.created: 2026-11-23T06:30:00.000Z is 11m behind"},
        {"0a6c7a52-46b1-4004-986c-d48601c1a3e9", "2026-11-23T06:47:00.000Z", 422,
         "record.created: 2026-11-23T06:47:00.000Z is 6m ahead"},
        {"0a6c7a52-46b1-4005-806f-00d8eed3315e", "2026-11-23T06:31:00.000Z", 201, NULL},
        {"0a6c7a52-46b1-4006-93e2-1f0e144d03d7", "2026-11-23T06:46:00.000Z", 201, NULL},
        {"0a6c7a52-46b1-4007-8f38-d36baf3a9c6e", "2026-11-23T06:36:00.000Z", 201, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char payload[512];
        snprintf(payload, sizeof payload,
                 "{\"type\":\"note\",\"id\":\"note--%s\",\"author\":\"pk.mofa\","
                 "\"created\":\"%s\",\"tlp\":\"green\",\"body\":{}}",
                 cases[i].uuid, cases[i].created);
        size_t l;
        char *env = sign_payload(f, payload, &l);
        struct reply r;
        char rule[64];
        post(f, env, l, &r);
        if (r.status != cases[i].status)
            fail_msg("created %s: want %ld, got %ld: %s", cases[i].created, cases[i].status,
                     r.status, r.body);
        if (cases[i].needle) {
            assert_string_equal(rule_of(&r, rule, sizeof rule), "created");
            if (!strstr(r.body, cases[i].needle))
                fail_msg("created %s: no '%s' in %s", cases[i].created, cases[i].needle,
                         r.body);
        }
        comity_free(env);
    }
}

/* The id oracle (docs/security.md): a party posting under an id it may not
 * read gets the answer it gets for an id nobody used.  in.cert-in posts a
 * note under (a) the id of pk.mofa's stored red note, (b) an unused id made
 * for pk.mofa and (c) an unused plain random uuid: the same 422, rule id,
 * each time; before the rule id-author, (a) was a 409 "conflict" and (b),
 * (c) were stored.  Its own id again is its own business (409). */
static void id_oracle(void **state)
{
    struct fixture *f = *state;
    comity_key *k2;
    char *t2;
    TU_OK(comity_key_generate("in.cert-in", &k2, E));
    TU_OK(comity_node_party_add(f->node, "in.cert-in", comity_key_vkey(k2),
                                comity_key_recipient(k2), &t2, E));
    /* pk.mofa's record, sealed to itself: in.cert-in may not read it */
    const char *self[] = {comity_key_recipient(f->key)};
    comity_record_params rp = {.type = "note", .tlp = "red", .seal_to = self, .nseal_to = 1};
    char *mine;
    size_t ml;
    TU_OK(comity_record_sign(f->key, &rp, "{\"v\":1}", 7, &mine, &ml, E));
    struct reply r;
    char rule[64];
    post(f, mine, ml, &r);
    assert_int_equal(r.status, 201);
    comity_record *mr;
    TU_OK(comity_record_parse(mine, ml, &mr, E));
    char taken[128], unused[128], plain[128], u[CY_UUID_BUF];
    snprintf(taken, sizeof taken, "%s", comity_record_id(mr));
    comity_record_free(mr);
    cy_record_uuid_new("pk.mofa", u);
    snprintf(unused, sizeof unused, "note--%s", u);
    cy_uuid4(u);
    snprintf(plain, sizeof plain, "note--%s", u);
    const char *ids[] = {taken, unused, plain};
    const comity_nkey *k[] = {comity_key_signer(k2)};
    char first[1024] = "";
    for (size_t i = 0; i < 3; i++) {
        char payload[512], *env = NULL;
        size_t l;
        snprintf(payload, sizeof payload,
                 "{\"type\":\"note\",\"id\":\"%s\",\"author\":\"in.cert-in\",\"created\":\""
                 NOTE_PAYLOAD_CREATED "\",\"tlp\":\"green\",\"body\":{\"v\":2}}",
                 ids[i]);
        TU_OK(comity_dsse_sign(COMITY_RECORD_PAYLOAD_TYPE, (const uint8_t *)payload,
                               strlen(payload), k, 1, &env, &l, E));
        post_as(f, t2, env, l, &r);
        if (r.status != 422)
            fail_msg("id %s: want 422, got %ld: %s", ids[i], r.status, r.body);
        assert_string_equal(rule_of(&r, rule, sizeof rule), "id");
        /* the same answer but for the id it names */
        char *at = strstr(r.body, ids[i]);
        assert_non_null(at);
        char shape[1024];
        snprintf(shape, sizeof shape, "%.*s<id>%s", (int)(at - r.body), r.body,
                 at + strlen(ids[i]));
        if (i == 0)
            snprintf(first, sizeof first, "%s", shape);
        else
            assert_string_equal(shape, first);
        comity_free(env);
    }
    /* its own id again, with other bytes: 409, as before (it may read
     * its own records) */
    cy_record_uuid_new("in.cert-in", u);
    long want[] = {201, 409};
    for (int v = 0; v < 2; v++) {
        char payload[512], *env = NULL;
        size_t l;
        snprintf(payload, sizeof payload,
                 "{\"type\":\"note\",\"id\":\"note--%s\",\"author\":\"in.cert-in\",\"created\":\""
                 NOTE_PAYLOAD_CREATED "\",\"tlp\":\"green\",\"body\":{\"v\":%d}}",
                 u, v);
        TU_OK(comity_dsse_sign(COMITY_RECORD_PAYLOAD_TYPE, (const uint8_t *)payload,
                               strlen(payload), k, 1, &env, &l, E));
        post_as(f, t2, env, l, &r);
        if (r.status != want[v])
            fail_msg("own id, body %d: want %ld, got %ld: %s", v, want[v], r.status, r.body);
        comity_free(env);
    }
    assert_string_equal(rule_of(&r, rule, sizeof rule), "conflict");
    comity_free(mine);
    comity_free(t2);
    comity_key_free(k2);
}

/* An answer dated before what it answers is the framework's 422: a pong
 * dated before its ping (both inside the node's bounds). */
static void answer_before_message(void **state)
{
    struct fixture *f = *state;
    comity_key *k2;
    char *t2;
    TU_OK(comity_key_generate("in.cert-in", &k2, E));
    TU_OK(comity_node_party_add(f->node, "in.cert-in", comity_key_vkey(k2),
                                comity_key_recipient(k2), &t2, E));
    const char *ping =
        "{\"type\":\"ping\",\"id\":\"ping--1f0e2d3c-4b5a-41f0-a676-cb1ad745b1c8\","
        "\"author\":\"pk.mofa\",\"created\":\"2026-11-23T06:40:00.000Z\","
        "\"to\":[\"in.cert-in\"],\"tlp\":\"green\",\"body\":{\"announced\":true}}";
#define PONG(uuid, created)                                                                  \
    "{\"type\":\"pong\",\"id\":\"pong--" uuid "\",\"author\":\"in.cert-in\",\"created\":\"" \
    created "\",\"refs\":[\"ping--1f0e2d3c-4b5a-41f0-a676-cb1ad745b1c8\"],\"tlp\":\"green\","  \
    "\"body\":{}}"
    const char *early = PONG("2a1b0c9d-8e7f-4c9d-8dc6-9dd5752d5e03", "2026-11-23T06:39:59.999Z");
    const char *fine = PONG("3b2c1d0e-9f8a-4d0e-a673-847b803bfaa2", "2026-11-23T06:40:30.000Z");
#undef PONG
    size_t lp, le, lf;
    char *ep = sign_payload(f, ping, &lp);
    const comity_nkey *k[] = {comity_key_signer(k2)};
    char *ee = NULL, *ef = NULL;
    TU_OK(comity_dsse_sign(COMITY_RECORD_PAYLOAD_TYPE, (const uint8_t *)early, strlen(early),
                           k, 1, &ee, &le, E));
    TU_OK(comity_dsse_sign(COMITY_RECORD_PAYLOAD_TYPE, (const uint8_t *)fine, strlen(fine), k,
                           1, &ef, &lf, E));
    struct reply r;
    char rule[64];
    post(f, ep, lp, &r);
    assert_int_equal(r.status, 201);
    post_as(f, t2, ee, le, &r);
    assert_int_equal(r.status, 422);
    assert_string_equal(rule_of(&r, rule, sizeof rule), "framework");
    if (!strstr(r.body, "pong.created: 2026-11-23T06:39:59.999Z is before"))
        fail_msg("said %s", r.body);
    post_as(f, t2, ef, lf, &r);
    assert_int_equal(r.status, 201);
    comity_free(ep);
    comity_free(ee);
    comity_free(ef);
    comity_free(t2);
    comity_key_free(k2);
}

/* Rule signature with an office's users (record/signer.h): a user's key
 * is taken by its keyid, the POST answer names the user; a key the store
 * does not hold for the office is refused; a user revoked after the
 * record's created still signs it, revoked at it not (naming the user and
 * why); the office's other user and own key are untouched. */
static void put_user(const struct fixture *f, const char *name, const comity_key *k,
                     int64_t revoked_ms)
{
    cy_principal_user u;
    memset(&u, 0, sizeof u);
    snprintf(u.principal, sizeof u.principal, "pk.mofa");
    snprintf(u.name, sizeof u.name, "%s", name);
    snprintf(u.vkey, sizeof u.vkey, "%s", comity_key_vkey(k));
    u.valid_from_ms = -1;
    u.revoked_ms = revoked_ms;
    if (revoked_ms >= 0)
        snprintf(u.reason, sizeof u.reason, "left the ministry");
    TU_OK(cy_store_user_put(f->node->store, &u, E));
}

static void users_post(const struct fixture *f, const comity_key *k, long want,
                       const char *signer, const char *needle)
{
    comity_record_params rp = {.type = "note", .tlp = "green"};
    char *env;
    size_t len;
    TU_OK(comity_record_sign(k, &rp, "{\"v\":1}", 7, &env, &len, E));
    struct reply r;
    post(f, env, len, &r);
    comity_free(env);
    if (r.status != want)
        fail_msg("want %ld, got %ld: %s", want, r.status, r.body);
    json_t *j = json_loads(r.body, 0, NULL);
    const char *got = json_string_value(json_object_get(j, "signer"));
    if (signer)
        assert_string_equal(got ? got : "(none)", signer);
    else
        assert_null(got);
    if (want == 403)
        assert_string_equal(json_string_value(json_object_get(j, "rule")),
                            needle && strstr(needle, "revoked at") ? "revoked" : "signature");
    if (needle && !strstr(r.body, needle))
        fail_msg("'%s' not in %s", needle, r.body);
    json_decref(j);
}

static void users_signature(void **state)
{
    struct fixture *f = *state;
    comity_key *alice, *bob;
    TU_OK(comity_key_generate("pk.mofa", &alice, E));
    TU_OK(comity_key_generate("pk.mofa", &bob, E));
    int64_t now;
    TU_OK(comity_time_parse("2026-11-23T06:41:00.000Z", &now, E)); /* COMITY_FAKE_NOW */
    users_post(f, alice, 403, NULL, "neither pk.mofa's key nor one of its users'");
    put_user(f, "alice", alice, -1);
    put_user(f, "bob", bob, -1);
    users_post(f, alice, 201, "alice", NULL);
    users_post(f, f->key, 201, NULL, NULL); /* the office's own key */
    /* at the origin a record is logged after every revocation held: her
     * key revoked after the record's created is refused all the same
     * (record/signer.h; before, by created alone, it was taken) */
    put_user(f, "alice", alice, now + 1);
    users_post(f, alice, 403, NULL, "'alice', revoked at 2026-11-23T06:41:00.001Z (left the "
               "ministry; the revocation's W unknown), not after the record (created "
               "2026-11-23T06:41:00.000Z; its logged here now)");
    put_user(f, "alice", alice, now);      /* at created: refused */
    users_post(f, alice, 403, NULL, "'alice', revoked at 2026-11-23T06:41:00.000Z (left the");
    users_post(f, bob, 201, "bob", NULL);
    users_post(f, f->key, 201, NULL, NULL);
    comity_key_free(alice);
    comity_key_free(bob);
}

int main(void)
{
    int skip_all = tu_store_skip();
    if (skip_all)
        return skip_all;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(known_types),
        cmocka_unit_test(known_versions),
        cmocka_unit_test_setup_teardown(unknown_version_at_origin, setup, teardown),
        cmocka_unit_test_setup_teardown(roster_body_at_origin, setup, teardown),
        cmocka_unit_test_setup_teardown(same_id_other_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(framework_repost, setup, teardown),
        cmocka_unit_test_setup_teardown(case_types_accepted, setup, teardown),
        cmocka_unit_test_setup_teardown(store_gone, setup, teardown),
        cmocka_unit_test_setup_teardown(failed_batch_checkpointed, setup, teardown),
        cmocka_unit_test_setup_teardown(window_not_checkpointed, setup, teardown),
        cmocka_unit_test_setup_teardown(concurrent_same_record, setup, teardown),
        cmocka_unit_test_setup_teardown(concurrent_distinct_records, setup, teardown),
        cmocka_unit_test_setup_teardown(amber_to_many, setup, teardown),
        cmocka_unit_test(intake_direct_small_cache),
        cmocka_unit_test(relayed_run_one_batch),
        cmocka_unit_test(delivered_home_store_failure),
        cmocka_unit_test(failed_batch_syncs_backlog),
        cmocka_unit_test(failed_sync_stop_not_checkpointed),
        cmocka_unit_test(committer_sync_fails),
        cmocka_unit_test_setup_teardown(created_bounds, setup, teardown),
        cmocka_unit_test_setup_teardown(answer_before_message, setup, teardown),
        cmocka_unit_test_setup_teardown(id_oracle, setup, teardown),
        cmocka_unit_test_setup_teardown(users_signature, setup, teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
