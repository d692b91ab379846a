/*
 * test_node_framework.c: the framework inside a node, over real HTTP.
 *
 * A node runs in this process on a loopback port (plain HTTP); parties
 * sign records with their own keys and post them to /v1/records with their
 * tokens, and read /v1/framework/... and /v1/directory, as the CLI does.
 * The clock is COMITY_FAKE_NOW, changed only between requests (no request
 * is in flight then), so records get the `created` the test wants and the
 * queries see the "now" it wants.
 *
 * Shown here: every transition of a message over HTTP (sent, fetched =>
 * delivered, acknowledged, answered, closed), each refusal with its HTTP
 * status and nothing stored or logged for it, overdue once a deadline
 * passes, deadlines from --deadline / node.conf (and bad values refused),
 * a ping round with its statistics, the directory's history and current
 * entry, the access rules and query checks of each endpoint, and the
 * state rebuilt identically by a replay while serving and after a restart,
 * also when a store commit failed after the committer added the record.
 */
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>
#include <sqlite3.h>

#include "node/node.h"
#include "record/delivered.h"
#include "util/node.h"
#include "util/testutil.h"

enum { PK_MOFA, PK_CERT, IN_MEA, IN_CERT, NP };
static const char *const names[NP] = {"pk.mofa", "pk.pkcert", "in.mea", "in.cert-in"};

#define T0 "2026-11-23T09:00:00.000Z"

#define NOTIF4                                                                                 \
    "{\"severity\":4,\"sector\":\"energy\",\"summary\":\"grid operator hit\","                  \
    "\"requested_action\":\"isolate the hosts\"}"
#define NOTIF5 "{\"severity\":5,\"sector\":\"energy\",\"summary\":\"grid down\"}"
#define NOTIF5R                                                                                \
    "{\"severity\":5,\"sector\":\"energy\",\"summary\":\"grid down\","                           \
    "\"requested_action\":\"tell us\"}"
#define POC_BODY(org, from)                                                                    \
    "{\"state\":\"pk\",\"kind\":\"technical\",\"organisation\":\"" org "\","                    \
    "\"channels\":[{\"type\":\"email\",\"value\":\"poc@pkcert.gov.pk\"}],"                     \
    "\"time_zone\":\"Asia/Karachi\",\"languages\":[\"en\"],\"valid_from\":\"" from "\"}"

struct fixture {
    char *dir;
    char nd[512];
    comity_node *node;
    comity_key *key[NP];
    char *token[NP];
    char *optoken;
    char base[128];
    comity_serve_opts so;
};

/* ---- node and HTTP helpers ---------------------------------------------------- */

static void start(struct fixture *f)
{
    TU_OK(comity_node_open(f->nd, &f->node, E));
    tu_node_serve(f->node, &f->so, f->base, sizeof f->base);
}

static void stop(struct fixture *f)
{
    comity_node_close(f->node);
    f->node = NULL;
}

static struct fixture *make(void)
{
    struct fixture *f = calloc(1, sizeof *f);
    f->dir = tu_tmpdir();
    snprintf(f->nd, sizeof f->nd, "%s/node", f->dir);
    char tok[256];
    tu_node_make(f->nd, "hub.example", NULL, &f->node, tok, sizeof tok);
    f->optoken = strdup(tok);
    for (int i = 0; i < NP; i++) {
        TU_OK(comity_key_generate(names[i], &f->key[i], E));
        TU_OK(comity_node_party_add(f->node, names[i], comity_key_vkey(f->key[i]),
                                    comity_key_recipient(f->key[i]), &f->token[i], E));
    }
    comity_node_close(f->node);
    f->node = NULL;
    tu_serve_opts(&f->so);
    f->so.threads = 2;
    setenv("COMITY_FAKE_NOW", T0, 1);
    return f;
}

static int setup(void **state)
{
    struct fixture *f = make();
    start(f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    if (f->node)
        stop(f);
    for (int i = 0; i < NP; i++) {
        comity_key_free(f->key[i]);
        comity_free(f->token[i]);
    }
    free(f->optoken);
    tu_rmrf(f->dir);
    free(f->dir);
    free(f);
    unsetenv("COMITY_FAKE_NOW");
    return 0;
}

static void at(const char *t) { setenv("COMITY_FAKE_NOW", t, 1); }

/* One request; token NULL: anonymous.  Returns the status; *out the body
 * parsed as JSON (json_decref), when out is not NULL. */
static long http(struct fixture *f, const char *method, const char *path, const char *token,
                 const char *body, size_t len, json_t **out)
{
    char url[2048], auth[300];
    snprintf(url, sizeof url, "%s%s", f->base, path);
    tu_sink s = {0};
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    if (token) {
        snprintf(auth, sizeof auth, "Authorization: Token %s", token);
        h = curl_slist_append(h, auth);
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    if (!strcmp(method, "HEAD"))
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    else
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    }
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, tu_sink_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    if (out) {
        *out = s.buf ? json_loads(s.buf, 0, NULL) : NULL;
        if (!*out)
            fail_msg("%s %s: not JSON: %s", method, path, s.buf ? s.buf : "(empty)");
    }
    free(s.buf);
    return status;
}

static long get(struct fixture *f, int who, const char *path, json_t **out)
{
    return http(f, "GET", path, who < 0 ? (who == -1 ? f->optoken : NULL) : f->token[who], NULL,
                0, out);
}
#define OPERATOR (-1)
#define ANON (-2)

/* Signs a record as `who` at the current fake time; `to` comma-separated
 * (or NULL), `ref` (or NULL).  OUT id (128 bytes), returns the envelope
 * (comity_free). */
static char *sign(struct fixture *f, int who, const char *type, const char *to,
                  const char *ref, const char *body, char *id, size_t *len)
{
    char tobuf[256];
    const char *tov[8];
    size_t nto = 0;
    if (to) {
        snprintf(tobuf, sizeof tobuf, "%s", to);
        for (char *s = strtok(tobuf, ","); s; s = strtok(NULL, ","))
            tov[nto++] = s;
    }
    comity_record_params p = {.type = type, .tlp = "green", .to = tov, .nto = nto,
                              .refs = &ref, .nrefs = ref ? 1 : 0};
    char *env = NULL;
    TU_OK(comity_record_sign(f->key[who], &p, body, strlen(body), &env, len, E));
    if (id) {
        comity_record *r = NULL;
        TU_OK(comity_record_parse(env, *len, &r, E));
        snprintf(id, 128, "%s", comity_record_id(r));
        comity_record_free(r);
    }
    return env;
}

/* Signs and posts; returns the HTTP status; *rule the error's rule ("" on
 * success; 64 bytes) when rule is not NULL. */
static long post(struct fixture *f, int who, const char *type, const char *to, const char *ref,
                 const char *body, char *id, char *rule)
{
    size_t len;
    char *env = sign(f, who, type, to, ref, body, id, &len);
    json_t *j = NULL;
    long st = http(f, "POST", "/v1/records", f->token[who], env, len, &j);
    comity_free(env);
    if (rule) {
        const char *r = json_string_value(json_object_get(j, "rule"));
        snprintf(rule, 64, "%s", r ? r : "");
    }
    json_decref(j);
    return st;
}

/* The message's state as `who` sees it (top level, or ?party=). */
static const char *state_of(struct fixture *f, int who, const char *id, const char *party,
                            char *buf)
{
    char path[512];
    snprintf(path, sizeof path, "/v1/framework/messages/%s%s%s", id, party ? "?party=" : "",
             party ? party : "");
    json_t *j = NULL;
    assert_int_equal(get(f, who, path, &j), 200);
    snprintf(buf, 32, "%s", json_string_value(json_object_get(j, "state")));
    json_decref(j);
    return buf;
}

static int count_delivered(const cy_delivered_row *row, void *ctx)
{
    (void)row;
    (*(int *)ctx)++;
    return 0;
}

static int delivered_rows(struct fixture *f)
{
    int n = 0;
    TU_OK(cy_store_delivered_list(f->node->store, count_delivered, &n, E));
    return n;
}

static uint64_t log_size(struct fixture *f)
{
    char ld[600];
    snprintf(ld, sizeof ld, "%s/log", f->nd);
    comity_log *log = NULL;
    uint64_t size = 0;
    TU_OK(comity_log_open(ld, COMITY_LOG_READ, NULL, &log, E));
    TU_OK(comity_log_read_checkpoint(log, NULL, NULL, &size, NULL, E));
    comity_log_close(log);
    return size;
}

/* Waits (up to 5 s) until the log's published size is at least `want`. */
static uint64_t wait_log(struct fixture *f, uint64_t want)
{
    uint64_t n = log_size(f);
    for (int i = 0; i < 100 && n < want; i++) {
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
        n = log_size(f);
    }
    return n;
}

/* The item of `id` in array `a` (borrowed), or NULL. */
static json_t *item(json_t *a, const char *id)
{
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v)
        if (!strcmp(json_string_value(json_object_get(v, "id")), id))
            return v;
    return NULL;
}

static const char *str(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "(none)";
}

/* ---- transitions ------------------------------------------------------------------ */

static void transitions(void **state)
{
    struct fixture *f = *state;
    char id[128], rule[64], sbuf[32], path[512];
    assert_int_equal(post(f, PK_CERT, "notification", "in.cert-in", NULL, NOTIF4, id, rule), 201);
    assert_string_equal(state_of(f, PK_CERT, id, NULL, sbuf), "sent");

    /* in the recipient's inbox, expecting an ack within 4 h (severity 4) */
    at("2026-11-23T09:10:00.000Z");
    json_t *j = NULL;
    assert_int_equal(get(f, IN_CERT, "/v1/framework/inbox", &j), 200);
    assert_string_equal(str(j, "party"), "in.cert-in");
    assert_string_equal(str(j, "now"), "2026-11-23T09:10:00.000Z");
    json_t *it = item(json_object_get(j, "awaiting_me"), id);
    assert_non_null(it);
    assert_string_equal(str(it, "state"), "sent");
    assert_string_equal(str(it, "expects"), "ack");
    assert_string_equal(str(it, "due"), "2026-11-23T13:00:00.000Z");
    assert_string_equal(str(it, "from"), "pk.pkcert");
    json_decref(j);
    assert_int_equal(get(f, PK_CERT, "/v1/framework/inbox", &j), 200);
    assert_non_null(item(json_object_get(j, "awaiting_others"), id));
    json_decref(j);

    /* a non-recipient fetching it changes nothing */
    snprintf(path, sizeof path, "/v1/records/%s", id);
    assert_int_equal(get(f, IN_MEA, path, &j), 200);
    json_decref(j);
    assert_int_equal(delivered_rows(f), 0);
    assert_string_equal(state_of(f, PK_CERT, id, NULL, sbuf), "sent");

    /* a HEAD by the recipient hands nothing over */
    assert_int_equal(http(f, "HEAD", path, f->token[IN_CERT], NULL, 0, NULL), 200);
    assert_int_equal(delivered_rows(f), 0);
    assert_string_equal(state_of(f, PK_CERT, id, NULL, sbuf), "sent");

    /* fetched by its recipient: delivered, stored once */
    assert_int_equal(get(f, IN_CERT, path, &j), 200);
    json_decref(j);
    assert_string_equal(state_of(f, PK_CERT, id, NULL, sbuf), "delivered");
    assert_int_equal(delivered_rows(f), 1);
    assert_int_equal(get(f, IN_CERT, path, &j), 200);
    json_decref(j);
    assert_int_equal(get(f, IN_CERT, "/v1/records?type=notification", &j), 200);
    json_decref(j);
    assert_int_equal(delivered_rows(f), 1);

    /* ack, then reply, then close, each by whom it must be */
    char ack[128], reply[128], cl[128];
    assert_int_equal(post(f, IN_CERT, "ack", NULL, id, "{\"note\":\"seen\"}", ack, rule), 201);
    assert_string_equal(state_of(f, IN_CERT, id, NULL, sbuf), "acknowledged");
    assert_int_equal(get(f, IN_CERT, "/v1/framework/inbox", &j), 200);
    it = item(json_object_get(j, "awaiting_me"), id);
    assert_non_null(it);
    assert_string_equal(str(it, "expects"), "reply");
    json_decref(j);
    assert_int_equal(
        post(f, IN_CERT, "reply", NULL, id, "{\"outcome\":\"answered\",\"text\":\"done\"}", reply,
             rule),
        201);
    assert_string_equal(state_of(f, PK_CERT, id, NULL, sbuf), "answered");
    assert_int_equal(get(f, IN_CERT, "/v1/framework/inbox", &j), 200);
    assert_null(item(json_object_get(j, "awaiting_me"), id)); /* nothing more expected */
    json_decref(j);
    assert_int_equal(post(f, PK_CERT, "close", NULL, id, "{\"reason\":\"resolved\"}", cl, rule),
                     201);
    assert_string_equal(state_of(f, OPERATOR, id, NULL, sbuf), "closed");

    /* the message view: who, deadlines, one slot per recipient */
    snprintf(path, sizeof path, "/v1/framework/messages/%s", id);
    assert_int_equal(get(f, PK_CERT, path, &j), 200);
    assert_string_equal(str(j, "type"), "notification");
    assert_string_equal(str(j, "from"), "pk.pkcert");
    assert_string_equal(json_string_value(json_array_get(json_object_get(j, "to"), 0)),
                        "in.cert-in");
    assert_string_equal(str(j, "ack_due"), "2026-11-23T13:00:00.000Z");
    assert_string_equal(str(j, "reply_due"), "2026-11-26T09:00:00.000Z"); /* 72 h */
    assert_true(json_is_null(json_object_get(j, "expects")));
    json_t *slots = json_object_get(j, "slots");
    assert_int_equal(json_array_size(slots), 1);
    assert_string_equal(str(json_array_get(slots, 0), "party"), "in.cert-in");
    assert_string_equal(str(json_array_get(slots, 0), "state"), "closed");
    json_decref(j);
}

/* ---- refusals ----------------------------------------------------------------------- */

static void refusals(void **state)
{
    struct fixture *f = *state;
    char id[128], other[128], rule[64], sbuf[32], path[512];
    assert_int_equal(post(f, PK_CERT, "notification", "in.cert-in", NULL, NOTIF4, id, rule), 201);
    assert_int_equal(wait_log(f, 1), 1);

    /* ack by a non-recipient (another office of the recipient's state) */
    assert_int_equal(post(f, IN_MEA, "ack", NULL, id, "{}", other, rule), 403);
    assert_string_equal(rule, "framework");
    snprintf(path, sizeof path, "/v1/records/%s", other);
    json_t *j = NULL;
    assert_int_equal(get(f, OPERATOR, path, &j), 404);
    json_decref(j);

    /* refs an unknown message */
    assert_int_equal(post(f, IN_CERT, "ack", NULL,
                          "notification--00000000-0000-4000-8000-000000000000", "{}", other,
                          rule),
                     422);
    assert_string_equal(rule, "framework");
    /* a body its schema refuses (answered by a worker) */
    assert_int_equal(post(f, PK_CERT, "notification", "in.cert-in", NULL,
                          "{\"severity\":9,\"sector\":\"energy\",\"summary\":\"x\"}", other,
                          rule),
                     422);
    assert_string_equal(rule, "framework");
    /* a notification to the author's own state */
    assert_int_equal(post(f, PK_CERT, "notification", "pk", NULL, NOTIF4, other, rule), 422);
    /* a poc set by another state's office */
    assert_int_equal(
        post(f, IN_CERT, "poc", NULL, NULL, POC_BODY("PKCERT", "2026-01-01T00:00:00Z"), other,
             rule),
        403);
    assert_string_equal(rule, "framework");
    /* close by someone else than the author */
    assert_int_equal(post(f, IN_CERT, "close", NULL, id, "{}", other, rule), 403);
    /* a second ack */
    assert_int_equal(post(f, IN_CERT, "ack", NULL, id, "{}", other, rule), 201);
    /* nothing refused was logged: the ack is the log's second entry */
    assert_int_equal(wait_log(f, 2), 2);
    assert_int_equal(post(f, IN_CERT, "ack", NULL, id, "{}", other, rule), 409);
    assert_string_equal(rule, "framework");
    /* the same record again is not a second ack: 200, as any re-post */
    size_t len;
    char *env = sign(f, PK_CERT, "close", NULL, id, "{}", other, &len);
    assert_int_equal(http(f, "POST", "/v1/records", f->token[PK_CERT], env, len, NULL), 201);
    assert_int_equal(http(f, "POST", "/v1/records", f->token[PK_CERT], env, len, NULL), 200);
    comity_free(env);
    /* a reply, an ack, a close after close */
    assert_int_equal(
        post(f, IN_CERT, "reply", NULL, id, "{\"outcome\":\"answered\",\"text\":\"late\"}", other,
             rule),
        409);
    assert_string_equal(rule, "framework");
    assert_int_equal(post(f, PK_CERT, "close", NULL, id, "{}", other, rule), 409);
    assert_string_equal(state_of(f, PK_CERT, id, NULL, sbuf), "closed");
}

/* Many acks of one message by its recipient at once: each passes a
 * worker's dry run, but the committer's add is final: exactly one 201. */
struct job {
    struct fixture *f;
    char *env;
    size_t len;
    long status;
};

static void *post_job(void *arg)
{
    struct job *j = arg;
    j->status = http(j->f, "POST", "/v1/records", j->f->token[IN_CERT], j->env, j->len, NULL);
    return NULL;
}

static void concurrent_acks(void **state)
{
    struct fixture *f = *state;
    char id[128], rule[64], sbuf[32];
    assert_int_equal(post(f, PK_CERT, "notification", "in.cert-in", NULL, NOTIF4, id, rule), 201);
    enum { N = 8 };
    struct job j[N];
    pthread_t th[N];
    for (int i = 0; i < N; i++) {
        char note[64];
        snprintf(note, sizeof note, "{\"note\":\"ack %d\"}", i);
        j[i] = (struct job){.f = f};
        j[i].env = sign(f, IN_CERT, "ack", NULL, id, note, NULL, &j[i].len);
    }
    for (int i = 0; i < N; i++)
        pthread_create(&th[i], NULL, post_job, &j[i]);
    int created = 0, conflicts = 0;
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        created += j[i].status == 201;
        conflicts += j[i].status == 409;
        comity_free(j[i].env);
    }
    assert_int_equal(created, 1);
    assert_int_equal(conflicts, N - 1);
    assert_string_equal(state_of(f, PK_CERT, id, NULL, sbuf), "acknowledged");
    assert_int_equal(wait_log(f, 2), 2); /* the notification and one ack */
}

/* ---- overdue and deadlines ----------------------------------------------------------- */

static void overdue_after_deadline(void **state)
{
    struct fixture *f = *state;
    char id[128], rule[64];
    json_t *j = NULL;
    assert_int_equal(post(f, PK_CERT, "notification", "in.cert-in", NULL, NOTIF5, id, rule), 201);
    at("2026-11-23T09:59:59.999Z"); /* severity 5: ack within 1 h */
    assert_int_equal(get(f, OPERATOR, "/v1/framework/overdue", &j), 200);
    assert_int_equal(json_array_size(json_object_get(j, "overdue")), 0);
    json_decref(j);
    at("2026-11-23T10:00:00.001Z");
    assert_int_equal(get(f, OPERATOR, "/v1/framework/overdue", &j), 200);
    assert_string_equal(str(j, "now"), "2026-11-23T10:00:00.001Z");
    json_t *it = item(json_object_get(j, "overdue"), id);
    assert_non_null(it);
    assert_string_equal(str(it, "party"), "in.cert-in");
    assert_string_equal(str(it, "expects"), "ack");
    assert_string_equal(str(it, "due"), "2026-11-23T10:00:00.000Z");
    json_decref(j);
    assert_int_equal(get(f, IN_CERT, "/v1/framework/inbox", &j), 200);
    assert_true(json_is_true(json_object_get(item(json_object_get(j, "awaiting_me"), id),
                                             "overdue")));
    json_decref(j);
    /* only the operator sees the overdue list; login needed everywhere */
    assert_int_equal(get(f, PK_CERT, "/v1/framework/overdue", &j), 403);
    json_decref(j);
    assert_int_equal(get(f, ANON, "/v1/framework/overdue", &j), 401);
    json_decref(j);
    assert_int_equal(get(f, ANON, "/v1/framework/inbox", &j), 401);
    json_decref(j);
    /* a late ack still counts: no longer overdue */
    assert_int_equal(post(f, IN_CERT, "ack", NULL, id, "{}", NULL, rule), 201);
    assert_int_equal(get(f, OPERATOR, "/v1/framework/overdue", &j), 200);
    assert_null(item(json_object_get(j, "overdue"), id));
    json_decref(j);
}

static void configured_deadlines(void **state)
{
    (void)state;
    struct fixture *f = make();
    /* node.conf sets severity 5 and 4; the flag wins for 5 */
    char conf[600];
    snprintf(conf, sizeof conf, "%s/node.conf", f->nd);
    const char *text = "# deadlines\ndeadline.5 = 10m/1h\n deadline.4=20m/2h \n"
                       "ping_deadline = 90m\nother.setting = kept for others\n";
    TU_OK(comity_write_file(conf, text, strlen(text), 0600, 1, E));
    f->so.deadline[5] = "2h/48h";
    start(f);
    char id5[128], id4[128], ping[128], rule[64], path[512];
    json_t *j = NULL;
    assert_int_equal(post(f, PK_CERT, "notification", "in.cert-in", NULL, NOTIF5R, id5, rule),
                     201);
    assert_int_equal(post(f, PK_CERT, "notification", "in.cert-in", NULL, NOTIF4, id4, rule),
                     201);
    assert_int_equal(post(f, PK_MOFA, "ping", "in.mea", NULL, "{\"announced\":true}", ping, rule),
                     201);
    snprintf(path, sizeof path, "/v1/framework/messages/%s", id5);
    assert_int_equal(get(f, PK_CERT, path, &j), 200);
    assert_string_equal(str(j, "ack_due"), "2026-11-23T11:00:00.000Z");
    assert_string_equal(str(j, "reply_due"), "2026-11-25T09:00:00.000Z");
    json_decref(j);
    snprintf(path, sizeof path, "/v1/framework/messages/%s", id4);
    assert_int_equal(get(f, PK_CERT, path, &j), 200);
    assert_string_equal(str(j, "ack_due"), "2026-11-23T09:20:00.000Z");
    json_decref(j);
    snprintf(path, sizeof path, "/v1/framework/messages/%s", ping);
    assert_int_equal(get(f, PK_MOFA, path, &j), 200);
    assert_string_equal(str(j, "due"), "2026-11-23T10:30:00.000Z");
    json_decref(j);
    /* at +61 min the default (1 h) would make id5 late; the flag's 2 h not */
    at("2026-11-23T10:01:00.000Z");
    assert_int_equal(get(f, OPERATOR, "/v1/framework/overdue", &j), 200);
    assert_null(item(json_object_get(j, "overdue"), id5));
    assert_non_null(item(json_object_get(j, "overdue"), id4));
    json_decref(j);
    stop(f);

    /* bad values stop the start with a message naming them */
    static const char *const bad[] = {"1h", "1h/", "0m/1h", "1h/24x", "h/1h", "99999999999d/1h"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        f->so.deadline[5] = bad[i];
        TU_OK(comity_node_open(f->nd, &f->node, E));
        TU_FAILS(comity_node_start(f->node, &f->so, E), COMITY_ERR_USAGE, "--deadline 5");
        stop(f);
    }
    f->so.deadline[5] = NULL;
    f->so.ping_deadline = "soon";
    TU_OK(comity_node_open(f->nd, &f->node, E));
    TU_FAILS(comity_node_start(f->node, &f->so, E), COMITY_ERR_USAGE, "--ping-deadline");
    stop(f);
    f->so.ping_deadline = NULL;
    static const struct {
        const char *text, *needle;
    } badconf[] = {
        {"deadline.7 = 1h/2h\n", "line 1"},
        {"\n\ndeadline.5 = 1h\n", "line 3"},
        {"ping_deadline = 0h\n", "ping_deadline"},
        {"just words\n", "name = value"},
        {"\ncase_deadline.budapest.lunch = 1h\n", "line 2"},
        {"case_deadline.treaty-x.preservation = 1h\n", "line 1"},
        {"case_deadline.preservation = soon\n", "line 1"},
        {"\n\n\ntreaty.in.pk = friendship\n", "line 4"},
        {"treaty.in = un\n", "treaty.A.B"},
    };
    for (size_t i = 0; i < sizeof badconf / sizeof *badconf; i++) {
        TU_OK(comity_write_file(conf, badconf[i].text, strlen(badconf[i].text), 0600, 0, E));
        TU_OK(comity_node_open(f->nd, &f->node, E));
        TU_FAILS(comity_node_start(f->node, &f->so, E), COMITY_ERR_USAGE, badconf[i].needle);
        stop(f);
    }
    void *p = f;
    teardown(&p);
}

/* ---- cases ----------------------------------------------------------------------------- */

#define B_PRES                                                                                  \
    "{\"requesting_authority\":\"CERT-In 24/7\",\"offence\":\"ransomware against a hospital\","  \
    "\"data\":\"server logs of 203.0.113.7\",\"custodian\":\"a hosting provider in pk\","      \
    "\"necessity\":\"logs rotate in 7 days\",\"mla_to_follow\":true}"

/* The clock named `name` of case `c` (a cases-list item or a case view). */
static json_t *clock_of(json_t *c, const char *name)
{
    json_t *a = json_object_get(c, "clocks"), *k;
    size_t i;
    json_array_foreach(a, i, k)
    if (!strcmp(str(k, "name"), name))
        return k;
    return NULL;
}

/* A party's open cases and one case over HTTP, with the library's clocks
 * and visibility: a party not in the case (another office of a named
 * state included) gets the unknown id's 404, and its own list lacks it. */
static void case_queries(void **state)
{
    struct fixture *f = *state;
    char id[128], cid[128], rule[64], path[512];
    json_t *j = NULL;
    assert_int_equal(post(f, IN_CERT, "preservation-request", "pk.pkcert", NULL, B_PRES, id,
                          rule),
                     201);
    assert_int_equal(get(f, PK_CERT, "/v1/framework/cases", &j), 200);
    json_t *c = item(json_object_get(j, "cases"), id);
    assert_non_null(c);
    assert_string_equal(str(c, "state"), "requested");
    assert_non_null(clock_of(c, "answer"));
    assert_string_equal(str(clock_of(c, "answer"), "due"), "2026-11-24T09:00:00.000Z");
    json_decref(j);
    /* non-parties: the same answer as for an unknown id */
    snprintf(path, sizeof path, "/v1/framework/cases/%s", id);
    assert_int_equal(get(f, IN_MEA, path, &j), 404);
    assert_string_equal(str(j, "rule"), "framework");
    json_decref(j);
    assert_int_equal(get(f, PK_MOFA, path, &j), 404);
    json_decref(j);
    assert_int_equal(
        get(f, IN_MEA, "/v1/framework/cases/preservation-request--0b0c2a64-3f1e-4d2a-9c55-0e6f1a2b3c4d",
            &j),
        404);
    assert_string_equal(str(j, "rule"), "framework");
    json_decref(j);
    assert_int_equal(get(f, IN_MEA, "/v1/framework/cases", &j), 200);
    assert_null(item(json_object_get(j, "cases"), id));
    json_decref(j);
    /* the requested party's answer is overdue a day later */
    at("2026-11-24T09:00:01.000Z");
    assert_int_equal(get(f, PK_CERT, "/v1/framework/cases", &j), 200);
    c = item(json_object_get(j, "cases"), id);
    assert_true(json_is_true(json_object_get(clock_of(c, "answer"), "overdue")));
    json_decref(j);
    /* confirmed: the 60-day period and the follow-up MLA clock, for both */
    assert_int_equal(post(f, PK_CERT, "preservation-confirm", "in.cert-in", id,
                          "{\"reference\":\"PK-991\"}", cid, rule),
                     201);
    for (int who = IN_CERT; who >= PK_CERT; who -= IN_CERT - PK_CERT) {
        assert_int_equal(get(f, who, path, &j), 200);
        assert_string_equal(str(j, "state"), "preserved");
        assert_non_null(clock_of(j, "mla-request"));
        assert_string_equal(str(clock_of(j, "mla-request"), "due"), "2027-01-23T09:00:01.000Z");
        assert_non_null(json_object_get(j, "next"));
        json_decref(j);
    }
    /* the operator names the party whose cases it reads, and sees a case */
    assert_int_equal(get(f, OPERATOR, "/v1/framework/cases", &j), 400);
    json_decref(j);
    assert_int_equal(get(f, OPERATOR, "/v1/framework/cases?party=in.cert-in", &j), 200);
    assert_non_null(item(json_object_get(j, "cases"), id));
    json_decref(j);
    assert_int_equal(get(f, OPERATOR, path, &j), 200);
    json_decref(j);
    assert_int_equal(get(f, IN_MEA, "/v1/framework/cases?party=in.cert-in", &j), 403);
    json_decref(j);
    assert_int_equal(get(f, ANON, "/v1/framework/cases", &j), 401);
    json_decref(j);
    /* the case types and their schemas, for clients that seal bodies */
    assert_int_equal(get(f, IN_MEA, "/v1/framework/case-types", &j), 200);
    /* consultation, preservation, mla, emergency, attribution,
     * norm-complaint, norm-disclosure, spyware-misuse */
    assert_true(json_array_size(json_object_get(j, "mechanisms")) == 8);
    assert_string_equal(str(json_array_get(json_object_get(j, "mechanisms"), 1), "opens"),
                        "preservation-request");
    json_decref(j);
    assert_int_equal(get(f, IN_MEA, "/v1/framework/case-types?party=in.mea", &j), 400);
    assert_string_equal(str(j, "rule"), "query");
    json_decref(j);
    assert_int_equal(get(f, ANON, "/v1/framework/case-types", &j), 401);
    json_decref(j);
}

/* node.conf's case deadlines and treaties: the pair's instrument sets a
 * case's profile, the profile's deadline its clock. */
static void configured_case_deadlines(void **state)
{
    (void)state;
    struct fixture *f = make();
    char conf[600];
    snprintf(conf, sizeof conf, "%s/node.conf", f->nd);
    const char *text = "treaty.in.pk = un\n"
                       "case_deadline.un.preservation-answer = 6h\n"
                       "case_deadline.preservation-answer = 2h\n"
                       "case_deadline.un.preservation-answer = 8h\n";
    TU_OK(comity_write_file(conf, text, strlen(text), 0600, 1, E));
    start(f);
    char id[128], rule[64], path[512];
    json_t *j = NULL;
    assert_int_equal(post(f, IN_CERT, "preservation-request", "pk.pkcert", NULL, B_PRES, id,
                          rule),
                     201);
    snprintf(path, sizeof path, "/v1/framework/cases/%s", id);
    assert_int_equal(get(f, PK_CERT, path, &j), 200);
    assert_string_equal(str(j, "profile"), "un");
    assert_string_equal(str(clock_of(j, "answer"), "due"), "2026-11-23T17:00:00.000Z");
    json_decref(j);
    void *p = f;
    teardown(&p);
}

/* node.conf's retention lines: periods per kind (judged by the library),
 * the custodian party, its key, the job's period; a bad one names its
 * line. */
static void retention_conf(void **state)
{
    (void)state;
    cy_fw_table *t = calloc(1, sizeof *t);
    assert_non_null(t);
    const char *good = "retention.mla = 7y\nretention.preservation = 90d\n"
                       "retention.disclosure=36h\nretention.author = un.hub\n"
                       "retention.key = /srv/comity/retention.key\nretention.every = 10m\n"
                       "retention.mla = 6y\n";
    TU_OK(cy_fw_conf_parse(good, strlen(good), t, E));
    assert_string_equal(t->retention[3], "6y"); /* a later line wins */
    assert_string_equal(t->retention[1], "90d");
    assert_string_equal(t->retention[2], "36h");
    assert_string_equal(t->retention[0], ""); /* the library's default */
    assert_string_equal(t->custodian, "un.hub");
    assert_string_equal(t->custodian_key, "/srv/comity/retention.key");
    assert_int_equal(t->retention_every_ms, 600000);
    static const struct { const char *text, *needle; } bad[] = {
        {"retention.mla = 0y\n", "retention.mla"},
        {"# x\nretention.mla = 101y\n", "line 2"},
        {"retention.mla = soon\n", "want years"},
        {"retention.attribution = 1y\n", "want retention.consultation"},
        {"retention.author = Not A Party\n", "retention.author"},
        {"retention.every = 0s\n", "retention.every"},
        {"retention.key = \n", "retention.key"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(t, 0, sizeof *t);
        TU_FAILS(cy_fw_conf_parse(bad[i].text, strlen(bad[i].text), t, E), COMITY_ERR_USAGE,
                 bad[i].needle);
    }
    free(t);
}

/* ---- pings --------------------------------------------------------------------------- */

static void ping_round(void **state)
{
    struct fixture *f = *state;
    char p1[128], p2[128], rule[64];
    json_t *j = NULL;
    assert_int_equal(post(f, PK_MOFA, "ping", "in.cert-in", NULL,
                          "{\"announced\":false,\"kind\":\"technical\",\"round\":\"r1\"}", p1,
                          rule),
                     201);
    assert_int_equal(post(f, PK_MOFA, "ping", "in.mea", NULL,
                          "{\"announced\":false,\"kind\":\"diplomatic\",\"round\":\"r1\"}", p2,
                          rule),
                     201);
    at("2026-11-23T09:05:00.000Z"); /* in.cert-in answers in 5 minutes */
    assert_int_equal(post(f, IN_CERT, "pong", NULL, p1, "{}", NULL, rule), 201);
    assert_int_equal(post(f, IN_CERT, "pong", NULL, p1, "{}", NULL, rule), 409);
    assert_int_equal(post(f, IN_CERT, "pong", NULL, p2, "{}", NULL, rule), 403);
    at("2026-11-24T12:00:00.000Z");

    assert_int_equal(get(f, PK_MOFA, "/v1/framework/pings?party=in.cert-in", &j), 200);
    assert_int_equal(json_integer_value(json_object_get(j, "count")), 1);
    assert_int_equal(json_integer_value(json_object_get(j, "answered")), 1);
    assert_int_equal(json_integer_value(json_object_get(j, "p50_ms")), 300000);
    assert_int_equal(json_integer_value(json_object_get(j, "p90_ms")), 300000);
    assert_true(json_real_value(json_object_get(j, "unanswered")) == 0.0);
    assert_string_equal(str(j, "to"), "2026-11-24T12:00:00.000Z");
    assert_string_equal(str(j, "from"), "2026-10-25T12:00:00.000Z"); /* 30 days before */
    json_decref(j);
    /* a state means all its parties; a kind selects */
    assert_int_equal(get(f, IN_MEA, "/v1/framework/pings?state=in", &j), 200);
    assert_int_equal(json_integer_value(json_object_get(j, "count")), 2);
    assert_int_equal(json_integer_value(json_object_get(j, "answered")), 1);
    assert_true(json_real_value(json_object_get(j, "unanswered")) == 0.5);
    json_decref(j);
    assert_int_equal(get(f, OPERATOR, "/v1/framework/pings?kind=diplomatic", &j), 200);
    assert_int_equal(json_integer_value(json_object_get(j, "count")), 1);
    assert_true(json_is_null(json_object_get(j, "p50_ms")));
    assert_string_equal(str(j, "kind"), "diplomatic");
    json_decref(j);
    /* a period that holds none of them */
    assert_int_equal(get(f, PK_MOFA,
                         "/v1/framework/pings?party=in.cert-in&from=2026-11-23T09:00:00.001Z", &j),
                     200);
    assert_int_equal(json_integer_value(json_object_get(j, "count")), 0);
    json_decref(j);
    /* the report: one row per party and kind */
    assert_int_equal(get(f, PK_MOFA, "/v1/framework/pings", &j), 200);
    json_t *rows = json_object_get(j, "rows");
    assert_int_equal(json_array_size(rows), 2);
    size_t i;
    json_t *row;
    int seen = 0;
    json_array_foreach(rows, i, row)
    {
        if (!strcmp(str(row, "party"), "in.cert-in")) {
            assert_string_equal(str(row, "kind"), "technical");
            assert_int_equal(json_integer_value(json_object_get(row, "answered")), 1);
            seen++;
        }
        if (!strcmp(str(row, "party"), "in.mea")) {
            assert_int_equal(json_integer_value(json_object_get(row, "answered")), 0);
            seen++;
        }
    }
    assert_int_equal(seen, 2);
    json_decref(j);
    /* per state and per UN M49 region (in: Asia, 142), on the node */
    assert_int_equal(get(f, PK_MOFA, "/v1/framework/pings?by=state", &j), 200);
    assert_string_equal(str(j, "by"), "state");
    rows = json_object_get(j, "rows");
    assert_int_equal(json_array_size(rows), 1);
    assert_string_equal(str(json_array_get(rows, 0), "state"), "in");
    assert_string_equal(str(json_array_get(rows, 0), "region"), "142");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(rows, 0), "count")), 2);
    json_decref(j);
    assert_int_equal(get(f, PK_MOFA, "/v1/framework/pings?by=region&kind=technical", &j), 200);
    rows = json_object_get(j, "rows");
    assert_int_equal(json_array_size(rows), 1);
    assert_string_equal(str(json_array_get(rows, 0), "name"), "Asia");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(rows, 0), "count")), 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(rows, 0), "p50_ms")),
                     300000);
    json_decref(j);

    /* the inbox's filters on the node (the same query, well formed: 200) */
    assert_int_equal(get(f, OPERATOR, "/v1/framework/inbox?party=in.mea&limit=5&severity=2&"
                                      "type=notification&state=sent&sector=energy&q=pk",
                         &j),
                     200);
    json_decref(j);
    /* query checks: 400 with a JSON error naming the parameter */
    static const char *const bad[] = {
        "/v1/framework/pings?kind=bogus",
        "/v1/framework/pings?from=yesterday",
        "/v1/framework/pings?to=2026-13-01T00:00:00Z",
        "/v1/framework/pings?party=NOT_A_PARTY",
        "/v1/framework/pings?state=in.mea",
        "/v1/framework/pings?kind=technical&kind=diplomatic",
        "/v1/framework/pings?color=blue",
        "/v1/framework/pings?by=kind",
        "/v1/framework/pings?by=state&by=region",
        "/v1/framework/pings?by=state&state=in",
        "/v1/framework/pings?from=2026-11-24T00:00:00Z&to=2026-11-23T00:00:00Z",
        "/v1/directory?at=noon",
        "/v1/directory?state=PK",
        "/v1/framework/inbox?x=1",
        "/v1/framework/inbox?party=in.mea&severity=2",
        "/v1/framework/inbox?party=in.mea&limit=5&severity=9",
        "/v1/framework/inbox?party=in.mea&limit=5&type=memo",
        "/v1/framework/inbox?party=in.mea&limit=5&sector=fishing",
        "/v1/framework/inbox?party=in.mea&limit=5&q=a&q=b",
        "/v1/framework/overdue?party=in.mea",
    };
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        long st = get(f, OPERATOR, bad[k], &j);
        if (st != 400)
            fail_msg("%s: want 400, got %ld", bad[k], st);
        assert_string_equal(str(j, "rule"), "query");
        json_decref(j);
    }
    /* too many parties */
    char path[4096] = "/v1/framework/pings?";
    for (int k = 0; k < 65; k++)
        snprintf(path + strlen(path), sizeof path - strlen(path), "%sparty=in.p%d",
                 k ? "&" : "", k);
    assert_int_equal(get(f, PK_MOFA, path, &j), 400);
    assert_non_null(strstr(str(j, "description"), "at most 64"));
    json_decref(j);
    assert_int_equal(get(f, ANON, "/v1/framework/pings", &j), 401);
    json_decref(j);
}

/* ---- directory ----------------------------------------------------------------------- */

static void directory(void **state)
{
    struct fixture *f = *state;
    char first[128], second[128], rule[64];
    json_t *j = NULL;
    assert_int_equal(post(f, PK_CERT, "poc", NULL, NULL,
                          POC_BODY("PKCERT", "2026-01-01T00:00:00Z"), first, rule),
                     201);
    at("2026-11-23T10:00:00.000Z");
    assert_int_equal(post(f, PK_MOFA, "poc", NULL, NULL,
                          POC_BODY("PKCERT ops", "2026-11-23T10:00:00Z"), second, rule),
                     201);
    at("2026-11-23T11:00:00.000Z");
    assert_int_equal(get(f, IN_MEA, "/v1/directory?state=pk", &j), 200);
    assert_string_equal(str(j, "at"), "2026-11-23T11:00:00.000Z");
    json_t *e = json_array_get(json_object_get(j, "entries"), 0);
    assert_string_equal(str(e, "state"), "pk");
    assert_string_equal(str(e, "kind"), "technical");
    assert_string_equal(str(json_object_get(e, "current"), "id"), second);
    json_t *h = json_object_get(e, "history");
    assert_int_equal(json_array_size(h), 2);
    assert_string_equal(str(json_array_get(h, 0), "id"), first);
    assert_string_equal(str(json_array_get(h, 0), "author"), "pk.pkcert");
    json_decref(j);
    /* before the replacement was signed: the first one, and only it */
    assert_int_equal(get(f, IN_MEA, "/v1/directory?state=pk&at=2026-11-23T09:30:00Z", &j), 200);
    e = json_array_get(json_object_get(j, "entries"), 0);
    assert_string_equal(str(json_object_get(e, "current"), "id"), first);
    assert_int_equal(json_array_size(json_object_get(e, "history")), 1);
    json_decref(j);
    /* every state; another state with none */
    assert_int_equal(get(f, OPERATOR, "/v1/directory", &j), 200);
    assert_int_equal(json_array_size(json_object_get(j, "entries")), 1);
    json_decref(j);
    assert_int_equal(get(f, OPERATOR, "/v1/directory?state=in", &j), 200);
    assert_int_equal(json_array_size(json_object_get(j, "entries")), 0);
    json_decref(j);
    assert_int_equal(get(f, ANON, "/v1/directory", &j), 401);
    json_decref(j);
    /* withdrawn by the state: no current entry */
    assert_int_equal(post(f, PK_MOFA, "poc", NULL, NULL,
                          "{\"state\":\"pk\",\"kind\":\"technical\",\"withdrawn\":true}", NULL,
                          rule),
                     201);
    assert_int_equal(get(f, IN_MEA, "/v1/directory?state=pk", &j), 200);
    e = json_array_get(json_object_get(j, "entries"), 0);
    assert_true(json_is_null(json_object_get(e, "current")));
    json_decref(j);
}

/* ---- message access ------------------------------------------------------------------ */

static void message_access(void **state)
{
    struct fixture *f = *state;
    char id[128], rule[64], path[512], sbuf[32];
    json_t *j = NULL;
    /* to a party and to a bare state */
    assert_int_equal(post(f, PK_CERT, "request", "in.cert-in,in", NULL,
                          "{\"kind\":\"assistance\",\"norm\":\"13h\",\"asked\":\"help\"}", id,
                          rule),
                     201);
    snprintf(path, sizeof path, "/v1/framework/messages/%s", id);
    assert_int_equal(get(f, PK_MOFA, path, &j), 404); /* neither author nor recipient */
    json_decref(j);
    assert_int_equal(get(f, ANON, path, &j), 401);
    json_decref(j);
    assert_int_equal(get(f, IN_MEA, path, &j), 200); /* an office of a state named */
    assert_int_equal(json_array_size(json_object_get(j, "slots")), 2);
    json_decref(j);
    assert_int_equal(get(f, OPERATOR, path, &j), 200);
    json_decref(j);
    /* fetched by in.mea: the bare-state slot is delivered, the other not */
    snprintf(path, sizeof path, "/v1/records/%s", id);
    assert_int_equal(get(f, IN_MEA, path, &j), 200);
    json_decref(j);
    assert_string_equal(state_of(f, PK_CERT, id, "in", sbuf), "delivered");
    assert_string_equal(state_of(f, PK_CERT, id, "in.cert-in", sbuf), "sent");
    assert_string_equal(state_of(f, PK_CERT, id, NULL, sbuf), "sent"); /* least advanced */
    snprintf(path, sizeof path, "/v1/framework/messages/%s?party=pk.mofa", id);
    assert_int_equal(get(f, PK_CERT, path, &j), 404);
    json_decref(j);
    snprintf(path, sizeof path, "/v1/framework/messages/%s?who=x", id);
    assert_int_equal(get(f, PK_CERT, path, &j), 400);
    json_decref(j);
    assert_int_equal(get(f, PK_CERT, "/v1/framework/messages/note--x", &j), 404);
    json_decref(j);
    /* an inbox is its owner's; the operator names one */
    assert_int_equal(get(f, IN_MEA, "/v1/framework/inbox?party=in.cert-in", &j), 403);
    json_decref(j);
    assert_int_equal(get(f, OPERATOR, "/v1/framework/inbox?party=in.mea", &j), 200);
    assert_non_null(item(json_object_get(j, "awaiting_me"), id));
    json_decref(j);
    assert_int_equal(get(f, OPERATOR, "/v1/framework/inbox", &j), 400);
    json_decref(j);
    assert_int_equal(http(f, "POST", "/v1/framework/inbox", f->token[IN_MEA], "{}", 2, &j), 405);
    json_decref(j);
}

/* ---- a message's thread ---------------------------------------------------------------- */

struct fill {
    struct fixture *f;
    int n, created;
};

/* Posts n green notifications from pk.mofa to in.mea, one after another. */
static void *fill_job(void *arg)
{
    struct fill *j = arg;
    for (int i = 0; i < j->n; i++) {
        size_t len;
        char *env = sign(j->f, PK_MOFA, "notification", "in.mea", NULL, NOTIF4, NULL, &len);
        j->created += http(j->f, "POST", "/v1/records", j->f->token[PK_MOFA], env, len, NULL) ==
                      201;
        comity_free(env);
    }
    return NULL;
}

/* A record by `who` to pk.pkcert, sealed (amber) to it, refs[0] = ref. */
static long post_sealed(struct fixture *f, int who, const char *type, const char *ref,
                        const char *body, char *id)
{
    const char *to[1] = {"pk.pkcert"}, *seal[1] = {comity_key_recipient(f->key[PK_CERT])};
    comity_record_params p = {.type = type, .tlp = "amber", .to = to, .nto = 1, .refs = &ref,
                              .nrefs = 1, .seal_to = seal, .nseal_to = 1};
    char *env = NULL;
    size_t len;
    TU_OK(comity_record_sign(f->key[who], &p, body, strlen(body), &env, &len, E));
    comity_record *r = NULL;
    TU_OK(comity_record_parse(env, len, &r, E));
    snprintf(id, 128, "%s", comity_record_id(r));
    comity_record_free(r);
    long st = http(f, "POST", "/v1/records", f->token[who], env, len, NULL);
    comity_free(env);
    return st;
}

/* Every page of the thread of `id` as `who` reads it, limit= per page: the
 * ids of its records in order (comma-separated into out[4096]); returns
 * the last status (200 when every page was). */
static long thread_ids(struct fixture *f, int who, const char *id, int limit, char *out,
                       int *pages)
{
    char path[512], next[32] = "";
    out[0] = 0;
    *pages = 0;
    for (;;) {
        snprintf(path, sizeof path, "/v1/framework/messages/%s/thread?limit=%d%s%s", id, limit,
                 next[0] ? "&after=" : "", next);
        json_t *j = NULL;
        long st = get(f, who, path, &j);
        if (st != 200) {
            json_decref(j);
            return st;
        }
        (*pages)++;
        assert_string_equal(str(json_object_get(j, "message"), "id"), id);
        size_t i;
        json_t *v;
        json_array_foreach(json_object_get(j, "records"), i, v) {
            strcat(out, out[0] ? "," : "");
            strcat(out, str(v, "id"));
            assert_non_null(json_object_get(v, "envelope"));
        }
        bool more = json_is_true(json_object_get(j, "more"));
        snprintf(next, sizeof next, "%s", more ? str(j, "next") : "");
        json_decref(j);
        if (!more)
            return st;
    }
}

/* GET /v1/framework/messages/{id}/thread: the records whose refs name the
 * message, found past 1,000 records in the node (where the message
 * screen's old listing of the first 1,000 visible records stopped), each
 * as its reader may read it alone: a non-party sees the clear ones only,
 * nothing sealed; paged; the same after a restart (the replay). */
static void message_thread(void **state)
{
    struct fixture *f = *state;
    char m[128], ack[128], reply[128], note[128], rule[64], path[512], ids[4096], want[512];
    int pages = 0;
    json_t *j = NULL;
    assert_int_equal(post(f, PK_CERT, "notification", "in.cert-in", NULL, NOTIF4, m, rule), 201);
    enum { FILLERS = 1004, JOBS = 4 };
    struct fill fj[JOBS];
    pthread_t th[JOBS];
    for (int i = 0; i < JOBS; i++) {
        fj[i] = (struct fill){.f = f, .n = FILLERS / JOBS};
        pthread_create(&th[i], NULL, fill_job, &fj[i]);
    }
    int filled = 0;
    for (int i = 0; i < JOBS; i++) {
        pthread_join(th[i], NULL);
        filled += fj[i].created;
    }
    assert_int_equal(filled, FILLERS);
    at("2026-11-23T09:10:00.000Z");
    /* a thread is in the fold order (by created, then id: docs/federation.md
     * section 7), the same on every node and after a restart: one
     * millisecond apart, that is the order they are posted in */
    assert_int_equal(post(f, IN_CERT, "ack", NULL, m, "{}", ack, rule), 201);
    at("2026-11-23T09:10:00.001Z");
    assert_int_equal(post_sealed(f, IN_CERT, "reply", m,
                                 "{\"outcome\":\"answered\",\"text\":\"isolated\"}", reply),
                     201);
    at("2026-11-23T09:10:00.002Z");
    assert_int_equal(post_sealed(f, IN_CERT, "note", m, "{\"text\":\"sealed aside\"}", note),
                     201);
    at("2026-11-23T09:10:00.003Z");

    snprintf(want, sizeof want, "%s,%s,%s", ack, reply, note);
    assert_int_equal(thread_ids(f, PK_CERT, m, 100, ids, &pages), 200);
    assert_string_equal(ids, want);
    assert_int_equal(pages, 1);
    assert_int_equal(thread_ids(f, IN_CERT, m, 1, ids, &pages), 200); /* page by page */
    assert_string_equal(ids, want);
    assert_int_equal(pages, 3);
    /* pk.mofa, no party to the sealed answers: the clear ack only, and no
     * trace of the others (nor a page that counts them) */
    assert_int_equal(thread_ids(f, PK_MOFA, m, 100, ids, &pages), 200);
    assert_string_equal(ids, ack);
    snprintf(path, sizeof path, "/v1/framework/messages/%s/thread", m);
    assert_int_equal(get(f, PK_MOFA, path, &j), 200);
    char *text = json_dumps(j, 0);
    assert_null(strstr(text, reply));
    assert_null(strstr(text, note));
    assert_null(strstr(text, "amber"));
    free(text);
    json_decref(j);
    assert_int_equal(get(f, ANON, path, &j), 401);
    json_decref(j);
    /* a sealed message (which names m: it joins m's thread too): 404 to a
     * non-party, as the record itself is */
    char sealed[128];
    assert_int_equal(post_sealed(f, IN_CERT, "notification", m,
                                 "{\"severity\":2,\"sector\":\"energy\",\"summary\":\"s\"}",
                                 sealed),
                     201);
    snprintf(path, sizeof path, "/v1/framework/messages/%s/thread", sealed);
    assert_int_equal(get(f, PK_MOFA, path, &j), 404);
    json_decref(j);
    assert_int_equal(get(f, PK_CERT, path, &j), 200);
    json_decref(j);
    /* not a message; the query's checks */
    snprintf(path, sizeof path, "/v1/framework/messages/%s/thread", ack);
    assert_int_equal(get(f, PK_CERT, path, &j), 404);
    json_decref(j);
    const char *const badq[] = {"limit=0", "limit=501", "limit=x", "after=-1", "who=x",
                                "limit=1&limit=2"};
    for (size_t i = 0; i < CY_ARRAY_LEN(badq); i++) {
        snprintf(path, sizeof path, "/v1/framework/messages/%s/thread?%s", m, badq[i]);
        assert_int_equal(get(f, PK_CERT, path, &j), 400);
        json_decref(j);
    }
    /* the same thread after a restart (the replay notes every record) */
    snprintf(want + strlen(want), sizeof want - strlen(want), ",%s", sealed);
    assert_int_equal(thread_ids(f, PK_CERT, m, 2, ids, &pages), 200);
    assert_string_equal(ids, want);
    stop(f);
    start(f);
    assert_int_equal(thread_ids(f, PK_CERT, m, 2, ids, &pages), 200);
    assert_string_equal(ids, want);
    assert_int_equal(pages, 2);
    assert_int_equal(thread_ids(f, PK_MOFA, m, 2, ids, &pages), 200);
    assert_string_equal(ids, ack);
}

/* ---- restart ------------------------------------------------------------------------- */

static char *dump(json_t *j)
{
    char *s = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT);
    json_decref(j);
    return s;
}

/* The delivered record of `msg` stored on the node, as `who` may list it,
 * waited for up to 5 s: OUT its envelope (cy_free), or NULL. */
static char *delivered_record(struct fixture *f, int who, const char *msg, size_t *len)
{
    for (int i = 0; i < 100; i++) {
        json_t *j = NULL;
        assert_int_equal(get(f, who, "/v1/records?type=delivered&limit=100", &j), 200);
        size_t k;
        json_t *row;
        json_array_foreach(json_object_get(j, "records"), k, row) {
            char path[300];
            snprintf(path, sizeof path, "/v1/records/%s", str(row, "id"));
            json_t *e = NULL;
            assert_int_equal(get(f, who, path, &e), 200);
            char *env = json_dumps(e, JSON_COMPACT);
            json_decref(e);
            comity_record *r = NULL;
            TU_OK(comity_record_parse(env, strlen(env), &r, E));
            bool it = !strcmp(comity_record_ref(r, 0), msg);
            comity_record_free(r);
            if (it) {
                json_decref(j);
                *len = strlen(env);
                char *out = cy_strdup(env);
                free(env);
                return out;
            }
            free(env);
        }
        json_decref(j);
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

/* A recipient's fetch makes a `delivered` record: author the recipient,
 * signed by the node's log key (not the party's), to the sender, whose
 * view shows the slot delivered at the record's created.  A delivered
 * event stored without its record (a crash before the signing) is signed
 * at the next start; one stored before the node first ran with delivered
 * records is history, never signed late. */
static void delivery_recorded(void **state)
{
    struct fixture *f = *state;
    char id[128], id2[128], id3[128], rule[64], path[512];
    json_t *j = NULL;
    assert_int_equal(post(f, PK_CERT, "notification", "in.cert-in", NULL, NOTIF4, id, rule), 201);
    snprintf(path, sizeof path, "/v1/records/%s", id);
    at("2026-11-23T09:05:00.000Z");
    assert_int_equal(get(f, IN_CERT, path, &j), 200);
    json_decref(j);
    size_t len = 0;
    char *env = delivered_record(f, PK_CERT, id, &len); /* cy_free */
    assert_non_null(env);
    comity_record *r = NULL;
    TU_OK(comity_record_parse(env, len, &r, E));
    assert_string_equal(comity_record_author(r), "in.cert-in");
    assert_string_equal(comity_record_to(r, 0), "pk.pkcert");
    assert_int_equal(comity_record_to_count(r), 1);
    assert_string_equal(comity_record_body(r), "{\"party\":\"in.cert-in\"}");
    assert_string_equal(comity_record_created(r), "2026-11-23T09:05:00.000Z");
    const char *nv = comity_nkey_vkey(f->node->key);
    comity_vkey *vk = NULL;
    TU_OK(comity_vkey_parse(nv, strlen(nv), &vk, E));
    TU_OK(cy_record_verify_under(r, vk, E));
    comity_vkey_free(vk);
    const char *pv = comity_key_vkey(f->key[IN_CERT]);
    TU_OK(comity_vkey_parse(pv, strlen(pv), &vk, E));
    const comity_vkey *const pk[] = {vk};
    assert_int_equal(comity_record_verify_parsed(r, pk, 1, NULL), COMITY_ERR_VERIFY);
    comity_vkey_free(vk);
    comity_record_free(r);
    cy_free(env);
    /* the sender's view: delivered at the record's time */
    snprintf(path, sizeof path, "/v1/framework/messages/%s", id);
    assert_int_equal(get(f, PK_CERT, path, &j), 200);
    assert_string_equal(str(j, "state"), "delivered");
    assert_string_equal(str(j, "delivered"), "2026-11-23T09:05:00.000Z");
    json_decref(j);
    /* a party cannot state its own delivery: signed by its key, refused */
    char d[128];
    assert_int_equal(post(f, IN_CERT, "delivered", "pk.pkcert", id, "{\"party\":\"in.cert-in\"}",
                          d, rule),
                     403);
    assert_string_equal(rule, "signature");

    /* events without their records, across a restart */
    assert_int_equal(post(f, PK_CERT, "notification", "in.mea", NULL, NOTIF4, id2, rule), 201);
    assert_int_equal(post(f, PK_CERT, "notification", "in.mea", NULL, NOTIF4, id3, rule), 201);
    char *from = NULL;
    TU_OK(cy_store_meta_get(f->node->store, "delivered_records_from", &from, E));
    int64_t mark = strtoll(from, NULL, 10);
    cy_free(from);
    stop(f);
    comity_node *n = NULL;
    TU_OK(comity_node_open(f->nd, &n, E));
    bool added;
    TU_OK(cy_store_delivered_add(n->store, id2, "in.mea", mark + 6 * 60 * 1000,
                                 &added, E));
    TU_OK(cy_store_delivered_add(n->store, id3, "in.mea", mark - 1, &added, E));
    comity_node_close(n);
    at("2026-11-23T09:07:00.000Z");
    start(f);
    env = delivered_record(f, PK_CERT, id2, &len);
    assert_non_null(env);
    cy_free(env);
    snprintf(path, sizeof path, "/v1/framework/messages/%s", id2);
    assert_int_equal(get(f, PK_CERT, path, &j), 200);
    assert_string_equal(str(j, "delivered"), "2026-11-23T09:07:00.000Z");
    json_decref(j);
    snprintf(path, sizeof path, "/v1/framework/messages/%s", id3);
    assert_int_equal(get(f, PK_CERT, path, &j), 200);
    assert_string_equal(str(j, "state"), "delivered"); /* the old event, replayed */
    json_decref(j);
    assert_null(delivered_record(f, PK_CERT, id3, &len));
}

static void restart_same_state(void **state)
{
    struct fixture *f = *state;
    char a[128], b[128], p[128], rule[64], path[512];
    json_t *j = NULL;
    assert_int_equal(post(f, PK_CERT, "notification", "in.cert-in", NULL, NOTIF4, a, rule), 201);
    assert_int_equal(post(f, PK_MOFA, "request", "in", NULL,
                          "{\"kind\":\"information\",\"norm\":\"13c\",\"asked\":\"logs\"}", b,
                          rule),
                     201);
    assert_int_equal(post(f, PK_MOFA, "ping", "in.cert-in", NULL, "{\"announced\":true}", p, rule),
                     201);
    assert_int_equal(post(f, PK_CERT, "poc", NULL, NULL,
                          POC_BODY("PKCERT", "2026-01-01T00:00:00Z"), NULL, rule),
                     201);
    snprintf(path, sizeof path, "/v1/records/%s", a);
    assert_int_equal(get(f, IN_CERT, path, &j), 200); /* delivered */
    json_decref(j);
    at("2026-11-23T09:30:00.000Z");
    assert_int_equal(post(f, IN_MEA, "ack", NULL, b, "{}", NULL, rule), 201);
    assert_int_equal(post(f, IN_CERT, "pong", NULL, p, "{}", NULL, rule), 201);
    at("2026-11-23T14:00:00.000Z"); /* a's ack is late by now */

    const char *const paths[] = {"/v1/framework/overdue", "/v1/framework/pings",
                                 "/v1/directory"};
    char *before[5], *after[5];
    assert_int_equal(get(f, IN_CERT, "/v1/framework/inbox", &j), 200);
    before[0] = dump(j);
    assert_int_equal(get(f, IN_MEA, "/v1/framework/inbox", &j), 200);
    before[1] = dump(j);
    for (int k = 0; k < 3; k++) {
        assert_int_equal(get(f, OPERATOR, paths[k], &j), 200);
        before[2 + k] = dump(j);
    }
    assert_non_null(strstr(before[0], "\"state\":\"delivered\""));
    assert_non_null(strstr(before[2], a));
    /* the rebuild after a failed commit (src/intake/intake.c) replays to the same
     * state while serving */
    cy_fw_live_rebuild(f->node->fw);
    assert_int_equal(get(f, IN_CERT, "/v1/framework/inbox", &j), 200);
    char *rebuilt = dump(j);
    assert_string_equal(rebuilt, before[0]);
    free(rebuilt);
    stop(f);
    start(f);
    assert_int_equal(get(f, IN_CERT, "/v1/framework/inbox", &j), 200);
    after[0] = dump(j);
    assert_int_equal(get(f, IN_MEA, "/v1/framework/inbox", &j), 200);
    after[1] = dump(j);
    for (int k = 0; k < 3; k++) {
        assert_int_equal(get(f, OPERATOR, paths[k], &j), 200);
        after[2 + k] = dump(j);
    }
    for (int k = 0; k < 5; k++) {
        assert_string_equal(after[k], before[k]);
        free(before[k]);
        free(after[k]);
    }
    /* the rules still hold after the replay */
    assert_int_equal(post(f, IN_MEA, "ack", NULL, b, "{}", NULL, rule), 409);
}

/* The store refuses a batch (an injected trigger): the ack was added to
 * the framework in the committer but is not stored, so the handle is
 * rebuilt from the store; the same party may then ack again. */
static void failed_commit_rebuilds(void **state)
{
    struct fixture *f = *state;
    char id[128], rule[64], sbuf[32], db[600];
    assert_int_equal(post(f, PK_CERT, "notification", "in.cert-in", NULL, NOTIF4, id, rule), 201);
    snprintf(db, sizeof db, "%s/node.db", f->nd);
    sqlite3 *h = NULL;
    assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
    sqlite3_busy_timeout(h, 10000);
    assert_int_equal(sqlite3_exec(h,
                                  "CREATE TRIGGER inject BEFORE INSERT ON records"
                                  " WHEN NEW.type='ack' BEGIN SELECT RAISE(ABORT,'injected'); END",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(post(f, IN_CERT, "ack", NULL, id, "{}", NULL, rule), 503);
    assert_string_equal(state_of(f, PK_CERT, id, NULL, sbuf), "sent");
    assert_int_equal(sqlite3_exec(h, "DROP TRIGGER inject", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(h);
    assert_int_equal(post(f, IN_CERT, "ack", NULL, id, "{}", NULL, rule), 201);
    assert_string_equal(state_of(f, PK_CERT, id, NULL, sbuf), "acknowledged");
}

/* A node that stored framework records before it applied the rules (an
 * older build): the replay skips those it now refuses and still starts,
 * with the valid ones in place. */
static void legacy_records(void **state)
{
    (void)state;
    struct fixture *f = make();
    TU_OK(comity_node_open(f->nd, &f->node, E));
    const char *bodies[] = {NOTIF4, "{\"summary\":\"no severity\"}"};
    char ids[2][128];
    for (int i = 0; i < 2; i++) {
        size_t len;
        char *env = sign(f, PK_CERT, "notification", "in.cert-in", NULL, bodies[i], ids[i], &len);
        comity_record *rec = NULL;
        TU_OK(comity_record_parse(env, len, &rec, E));
        const char *to[] = {"in.cert-in"};
        cy_record_in in = {.id = comity_record_id(rec), .type = "notification",
                           .author = "pk.pkcert", .tlp = "green",
                           .created = comity_record_created(rec),
                           .created_ms = comity_record_created_ms(rec),
                           .digest = comity_record_digest(rec), .log_index = (uint64_t)i,
                           .received_us = 1, .envelope = env, .envelope_len = len, .to = to,
                           .nto = 1};
        TU_OK(cy_store_records_add(f->node->store, &in, 1, NULL, E));
        comity_record_free(rec);
        comity_free(env);
    }
    stop(f);
    start(f);
    json_t *j = NULL;
    assert_int_equal(get(f, IN_CERT, "/v1/framework/inbox", &j), 200);
    assert_int_equal(json_array_size(json_object_get(j, "awaiting_me")), 1);
    assert_non_null(item(json_object_get(j, "awaiting_me"), ids[0]));
    json_decref(j);
    char path[512];
    snprintf(path, sizeof path, "/v1/framework/messages/%s", ids[1]);
    assert_int_equal(get(f, PK_CERT, path, &j), 404);
    json_decref(j);
    void *p = f;
    teardown(&p);
}


/* pk.mofa's officer alice, as `roster apply` writes her (revoked_ms -1:
 * not revoked; W unknown: this node has no witness policy). */
static void put_alice(struct fixture *f, const comity_key *alice, int64_t revoked_ms)
{
    cy_principal_user u = {.valid_from_ms = -1, .revoked_ms = revoked_ms};
    snprintf(u.principal, sizeof u.principal, "pk.mofa");
    snprintf(u.name, sizeof u.name, "alice");
    snprintf(u.vkey, sizeof u.vkey, "%s", comity_key_vkey(alice));
    if (revoked_ms >= 0)
        snprintf(u.reason, sizeof u.reason, "key compromised");
    TU_OK(cy_store_user_put(f->node->store, &u, E));
}

static int signer_of(const cy_record_row *row, void *ctx)
{
    snprintf(ctx, 64, "%s", row->signer ? row->signer : "(none)");
    return 0;
}

/* A record signed by a user whose revocation is applied after it was
 * logged, the revocation dating from before it (revoked_at before its
 * `created`; no W on either side: `created` decides), written to the
 * store as another process's `comity roster apply` would: the serving node
 * keeps it logged and stored, and folds it again without effect (nor its
 * ack), as a node that had the revocation first (which never logged it);
 * after a restart too, and for a row stored before signers were kept
 * (the signer derived from its signatures).  The office's own record
 * keeps its effect. */
static void revoked_signer_refold(void **state)
{
    struct fixture *f = *state;
    comity_key *alice = NULL;
    TU_OK(comity_key_generate("pk.mofa", &alice, E));
    put_alice(f, alice, -1);
    char n1[128], n2[128], rule[64], sbuf[32], path[512], who[64];
    comity_key *office = f->key[PK_MOFA];
    f->key[PK_MOFA] = alice; /* alice signs, with the office's token */
    assert_int_equal(post(f, PK_MOFA, "notification", "in.cert-in", NULL, NOTIF4, n1, rule), 201);
    f->key[PK_MOFA] = office;
    assert_int_equal(post(f, PK_MOFA, "notification", "in.cert-in", NULL, NOTIF5, n2, rule), 201);
    at("2026-11-23T09:30:00.000Z");
    assert_int_equal(post(f, IN_CERT, "ack", NULL, n1, "{}", NULL, rule), 201);
    assert_string_equal(state_of(f, PK_MOFA, n1, NULL, sbuf), "acknowledged");
    /* the signer kept in the row, as intake found it */
    TU_OK(cy_store_fw_get(f->node->store, n1, signer_of, who, E));
    assert_string_equal(who, "alice");
    TU_OK(cy_store_fw_get(f->node->store, n2, signer_of, who, E));
    assert_string_equal(who, "(none)");

    /* her key was compromised since 08:00: the revocation applied now */
    int64_t t0;
    TU_OK(comity_time_parse("2026-11-23T08:00:00.000Z", &t0, E));
    uint64_t k = cy_fw_live_refolds(f->node->fw);
    /* written as `comity roster apply` in another process does, without
     * telling the serving node: the store's users_gen moves */
    put_alice(f, alice, t0);
    cy_fw_live_settle(f->node->fw); /* what a reader does, without waiting for the gap */
    json_t *j = NULL;
    snprintf(path, sizeof path, "/v1/framework/messages/%s", n1);
    for (int round = 0; round < 3; round++) {
        if (round == 1) { /* the fold at start */
            stop(f);
            start(f);
        } else if (round == 2) { /* a row stored before signers were kept */
            char db[600];
            snprintf(db, sizeof db, "%s/node.db", f->nd);
            stop(f);
            sqlite3 *h = NULL;
            assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
            assert_int_equal(sqlite3_exec(h, "UPDATE records SET signer=NULL;"
                                             "UPDATE meta SET value='1000000'"
                                             " WHERE key='signer_kept_after'",
                                          NULL, NULL, NULL),
                             SQLITE_OK);
            sqlite3_close(h);
            start(f);
            TU_OK(cy_store_fw_get(f->node->store, n1, signer_of, who, E));
            assert_string_equal(who, "(none)");
        }
        assert_int_equal(get(f, PK_MOFA, path, &j), 404);
        json_decref(j);
        if (round == 0)
            assert_true(cy_fw_live_refolds(f->node->fw) > k);
        assert_string_equal(state_of(f, PK_MOFA, n2, NULL, sbuf), "sent");
        assert_int_equal(get(f, IN_CERT, "/v1/framework/inbox", &j), 200);
        char *d = dump(j);
        assert_null(strstr(d, n1));
        assert_non_null(strstr(d, n2));
        free(d);
        /* still stored and served as it was logged */
        snprintf(path, sizeof path, "/v1/records/%s", n1);
        assert_int_equal(get(f, PK_MOFA, path, &j), 200);
        json_decref(j);
        snprintf(path, sizeof path, "/v1/framework/messages/%s", n1);
    }
    comity_key_free(alice);
}

/* An office's own key revoked after its records were logged, the
 * revocation dating from before them (no W: `created` decides), written
 * to the store as another process's `comity roster apply` writes it
 * (principals.revoked_at): the serving node folds the office's own
 * message again without effect, at once and after a restart, while the
 * delivery to it stays (here the node's own delivery event gives it as
 * well: test_converge.c's test_revoked_office shows the `delivered`
 * record alone, signed by a node's log key, keeping its effect). */
static void revoked_office_refold(void **state)
{
    struct fixture *f = *state;
    char n1[128], n2[128], rule[64], sbuf[32], path[512];
    at("2026-11-23T09:00:00.000Z");
    assert_int_equal(post(f, PK_CERT, "notification", "in.cert-in", NULL, NOTIF4, n1, rule), 201);
    snprintf(path, sizeof path, "/v1/records/%s", n1);
    at("2026-11-23T09:05:00.000Z");
    json_t *j = NULL;
    assert_int_equal(get(f, IN_CERT, path, &j), 200); /* delivered: a record */
    json_decref(j);
    size_t dlen = 0; /* signed by the delivery queue's thread: wait for it before
                      * the clock moves on, or its created is the later time */
    cy_free(delivered_record(f, PK_CERT, n1, &dlen));
    at("2026-11-23T09:10:00.000Z");
    assert_int_equal(post(f, IN_CERT, "notification", "pk.pkcert", NULL, NOTIF5, n2, rule), 201);
    assert_string_equal(state_of(f, IN_CERT, n2, NULL, sbuf), "sent");

    int64_t t0;
    TU_OK(comity_time_parse("2026-11-23T08:00:00.000Z", &t0, E));
    uint64_t k = cy_fw_live_refolds(f->node->fw);
    TU_OK(cy_store_principal_set_revoked(f->node->store, "in.cert-in",
                                         comity_key_vkey(f->key[IN_CERT]), t0, 0, E));
    cy_fw_live_settle(f->node->fw); /* what a reader does, without waiting for the gap */
    for (int round = 0; round < 2; round++) {
        if (round == 1) { /* the fold at start */
            stop(f);
            start(f);
        }
        snprintf(path, sizeof path, "/v1/framework/messages/%s", n2);
        assert_int_equal(get(f, PK_CERT, path, &j), 404);
        json_decref(j);
        if (round == 0)
            assert_true(cy_fw_live_refolds(f->node->fw) > k);
        snprintf(path, sizeof path, "/v1/framework/messages/%s", n1);
        assert_int_equal(get(f, PK_CERT, path, &j), 200);
        assert_string_equal(str(j, "state"), "delivered");
        assert_string_equal(str(j, "delivered"), "2026-11-23T09:05:00.000Z");
        json_decref(j);
        /* still stored and served as it was logged */
        snprintf(path, sizeof path, "/v1/records/%s", n2);
        assert_int_equal(get(f, PK_CERT, path, &j), 200);
        json_decref(j);
    }
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(transitions, setup, teardown),
        cmocka_unit_test_setup_teardown(refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(concurrent_acks, setup, teardown),
        cmocka_unit_test_setup_teardown(overdue_after_deadline, setup, teardown),
        cmocka_unit_test(configured_deadlines),
        cmocka_unit_test_setup_teardown(ping_round, setup, teardown),
        cmocka_unit_test_setup_teardown(directory, setup, teardown),
        cmocka_unit_test_setup_teardown(message_access, setup, teardown),
        cmocka_unit_test_setup_teardown(message_thread, setup, teardown),
        cmocka_unit_test_setup_teardown(restart_same_state, setup, teardown),
        cmocka_unit_test_setup_teardown(delivery_recorded, setup, teardown),
        cmocka_unit_test_setup_teardown(case_queries, setup, teardown),
        cmocka_unit_test(configured_case_deadlines),
        cmocka_unit_test(retention_conf),
        cmocka_unit_test(legacy_records),
        cmocka_unit_test_setup_teardown(failed_commit_rebuilds, setup, teardown),
        cmocka_unit_test_setup_teardown(revoked_signer_refold, setup, teardown),
        cmocka_unit_test_setup_teardown(revoked_office_refold, setup, teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
