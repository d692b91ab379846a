/*
 * test_framework.c: the framework layer: every body schema and each of its
 * refusals, the directory (who may set and withdraw a contact, which entry
 * is current when), the message status machine (every transition and every
 * refused one, deadlines by severity and respond_by, overdue with a clock
 * the test controls), inboxes, and ping statistics.
 *
 * Records are made as a node receives them: signed with comity_record_sign
 * (COMITY_FAKE_NOW sets `created`) and checked with comity_record_verify
 * before being fed.
 */
#include <stdlib.h>

#include <jansson.h>

#include "base/base.h"
#include "framework/regions.h"
#include "record/delivered.h"
#include "util/parties.h"

enum { PK_MOFA, PK_CERT, IN_MEA, IN_CERT, UN, US, NK };
static const char *const names[NK] = {"pk.mofa", "pk.pkcert", "in.mea",
                                      "in.cert-in", "un.unoda", "us.cisa"};
static comity_key *keys[NK];
static comity_vkey *vkeys[NK];
static tu_parties cast = {names, keys, vkeys, NK, false};

static int setup(void **state)
{
    (void)state;
    return tu_parties_make(&cast);
}

static int teardown(void **state)
{
    (void)state;
    tu_parties_free(&cast);
    return 0;
}

static int64_t T(const char *s) { return tu_time(s); }

/* Signs `body` as `who` at time `at`, to the comma-separated parties in
 * `to` (may be NULL), referring to `ref` (may be NULL); sealed (amber) to
 * the recipients' keys when `sealed`.  Verifies it as the node does. */
static comity_record *mk(int who, const char *type, const char *at,
                         const char *to, const char *ref, const char *body,
                         bool sealed)
{
    return tu_record(&cast, who, type, at, to, ref, body, sealed);
}

/* Feeds r (then frees it); copies its id into id (may be NULL). */
static comity_err feed(comity_framework *fw, comity_record *r, char *id)
{
    if (id)
        snprintf(id, 128, "%s", comity_record_id(r));
    comity_err rc = comity_framework_add(fw, r, NULL, 0, E);
    comity_record_free(r);
    return rc;
}

#define ADD(who, type, at, to, ref, body, id)                                \
    feed(fw, mk((who), (type), (at), (to), (ref), (body), false), (id))

static comity_msg_state st(comity_framework *fw, const char *id,
                           const char *party, int64_t now, int *overdue)
{
    comity_msg_status s;
    TU_OK(comity_framework_status(fw, id, party, now, &s, E));
    if (overdue)
        *overdue = s.overdue;
    return s.state;
}

static json_t *parse(char *json)
{
    json_t *j = json_loads(json, 0, NULL);
    assert_non_null(j);
    comity_free(json);
    return j;
}

/* ---- schemas ---------------------------------------------------------- */

#define POC_OK                                                               \
    "\"kind\":\"technical\",\"organisation\":\"PKCERT\","                    \
    "\"channels\":[{\"type\":\"email\",\"value\":\"poc@pkcert.gov.pk\"}],"   \
    "\"time_zone\":\"Asia/Karachi\",\"languages\":[\"en\",\"ur-PK\"],"        \
    "\"valid_from\":\"2026-01-01T00:00:00Z\""
#define NOTIF_OK                                                             \
    "\"severity\":4,\"sector\":\"energy\",\"summary\":\"grid operator hit\""
#define REQ_OK "\"kind\":\"assistance\",\"norm\":\"13h\",\"asked\":\"help\""

static void test_schemas_accept(void **state)
{
    (void)state;
    static const struct { const char *type, *body; } ok[] = {
        {"poc", "{" POC_OK "}"},
        {"poc", "{\"kind\":\"le-24x7\",\"organisation\":\"FIA\",\"time_zone\":\"Asia/Karachi\","
                "\"languages\":[\"en\"],\"valid_from\":\"2026-01-01T00:00:00.5Z\","
                "\"state\":\"pk\",\"party\":\"pk.pkcert\",\"name\":\"Duty officer\","
                "\"title\":\"Head\",\"valid_until\":\"2027-01-01T00:00:00+05:00\","
                "\"channels\":[{\"type\":\"phone\",\"value\":\"+92 51 111-000\"},"
                "{\"type\":\"url\",\"value\":\"https://pkcert.gov.pk\"},"
                "{\"type\":\"comity\",\"value\":\"pk.pkcert\"}]}"},
        {"poc", "{\"kind\":\"le-24x7\",\"withdrawn\":true,\"reason\":\"moved\"}"},
        {"poc", "{\"kind\":\"ci-authority\",\"organisation\":\"X\",\"channels\":[{\"type\":\"other\",\"value\":\"telex 1\"}],"
                "\"time_zone\":\"UTC\",\"languages\":[\"zh-Hant-TW\"],\"valid_from\":\"2026-01-01T00:00:00Z\"}"},
        {"poc", "{\"kind\":\"central-authority\",\"organisation\":\"X\",\"channels\":[{\"type\":\"fax\",\"value\":\"+1-202-555-0100\"}],"
                "\"time_zone\":\"America/Argentina/Buenos_Aires\",\"languages\":[\"es-419\"],\"valid_from\":\"2026-01-01T00:00:00Z\"}"},
        {"notification", "{" NOTIF_OK "}"},
        {"notification", "{" NOTIF_OK ",\"norm\":\"13f\",\"requested_action\":\"block\","
                         "\"respond_by\":\"2026-11-24T00:00:00Z\",\"case\":\"c-1\","
                         "\"indicators\":[\"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\"]}"},
        {"notification", "{" NOTIF_OK ",\"indicators\":{\"type\":\"bundle\","
                         "\"id\":\"bundle--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\",\"objects\":"
                         "[{\"type\":\"indicator\",\"id\":\"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\"}]}}"},
        {"request", "{" REQ_OK "}"},
        {"request", "{" REQ_OK ",\"severity\":2,\"sector\":\"water\",\"respond_by\":\"2026-11-24T00:00:00Z\"}"},
        {"ack", "{}"}, {"ack", "{\"note\":\"received\"}"},
        {"reply", "{\"outcome\":\"answered\",\"text\":\"servers taken down\"}"},
        {"reply", "{\"outcome\":\"declined\",\"reasons\":\"no jurisdiction\"}"},
        {"close", "{}"}, {"close", "{\"reason\":\"resolved\"}"},
        {"ping", "{\"announced\":false}"},
        {"ping", "{\"announced\":true,\"kind\":\"diplomatic\",\"round\":\"2026-Q4\"}"},
        {"pong", "{}"},
    };
    for (size_t i = 0; i < CY_ARRAY_LEN(ok); i++) {
        comity_err rc = comity_framework_check_body(ok[i].type, ok[i].body,
                                                    strlen(ok[i].body), E);
        if (rc)
            fail_msg("%s %s: %s", ok[i].type, ok[i].body, tu_last_err.msg);
    }
}

static void test_schemas_refuse(void **state)
{
    (void)state;
    static const struct { const char *type, *body, *needle; } bad[] = {
        /* parsing */
        {"ack", "[]", "ack.body: want a JSON object"},
        {"ack", "{", "ack.body:"},
        {"ack", "{\"note\":\"a\",\"note\":\"b\"}", "duplicate"},
        {"ack", "{\"note\":\"a\\u0000b\"}", "ack.body"},
        {"ack", "{\"x\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}", "nested deeper"},
        {"ack", "{\"x\":1}", "ack.body.x: unknown field"},
        /* poc */
        {"poc", "{\"organisation\":\"x\"}", "poc.body.kind: want one of diplomatic"},
        {"poc", "{" POC_OK ",\"kind2\":1}", "poc.body.kind2: unknown field"},
        {"poc", "{\"kind\":\"spy\"}", "poc.body.kind: want one of"},
        {"poc", "{\"kind\":\"technical\",\"channels\":[]}", "poc.body.organisation: missing"},
        {"poc", "{" POC_OK ",\"organisation\":\"\"}", "duplicate"},
        {"poc", "{\"kind\":\"technical\",\"organisation\":\"\"}", "poc.body.organisation: want a string"},
        {"poc", "{\"kind\":\"technical\",\"organisation\":\"x\"}", "poc.body.channels: want an array"},
        {"poc", "{\"kind\":\"technical\",\"organisation\":\"x\",\"channels\":[1]}", "poc.body.channels[0]: want an object"},
        {"poc", "{\"kind\":\"technical\",\"organisation\":\"x\",\"channels\":[{\"type\":\"pigeon\",\"value\":\"x\"}]}", "poc.body.channels[0].type: want one of"},
        {"poc", "{\"kind\":\"technical\",\"organisation\":\"x\",\"channels\":[{\"type\":\"email\",\"value\":\"nobody\"}]}", "poc.body.channels[0].value: want an e-mail"},
        {"poc", "{\"kind\":\"technical\",\"organisation\":\"x\",\"channels\":[{\"type\":\"phone\",\"value\":\"051 111\"}]}", "want an international number"},
        {"poc", "{\"kind\":\"technical\",\"organisation\":\"x\",\"channels\":[{\"type\":\"url\",\"value\":\"http://x\"}]}", "want an https:// URL"},
        {"poc", "{\"kind\":\"technical\",\"organisation\":\"x\",\"channels\":[{\"type\":\"comity\",\"value\":\"PK\"}]}", "want a party name"},
        {"poc", "{\"kind\":\"technical\",\"organisation\":\"x\",\"channels\":[{\"type\":\"url\",\"value\":\"https://x\",\"x\":1}]}", "channels[0].x: unknown field"},
        {"poc", "{\"kind\":\"technical\",\"organisation\":\"x\",\"channels\":[{\"type\":\"url\"}]}", "channels[0].value: want a string"},
        {"poc", "{\"kind\":\"technical\",\"organisation\":\"x\",\"channels\":[{\"type\":\"url\",\"value\":\"https://x\"}]}", "poc.body.time_zone: missing"},
        {"poc", "{\"kind\":\"technical\",\"organisation\":\"x\",\"channels\":[{\"type\":\"url\",\"value\":\"https://x\"}],\"time_zone\":\"Asia//Karachi\"}", "poc.body.time_zone: want an IANA"},
        {"poc", "{\"kind\":\"technical\",\"organisation\":\"x\",\"channels\":[{\"type\":\"url\",\"value\":\"https://x\"}],\"time_zone\":\"+05:00\"}", "poc.body.time_zone: want an IANA"},
        {"poc", "{\"kind\":\"technical\",\"organisation\":\"x\",\"channels\":[{\"type\":\"url\",\"value\":\"https://x\"}],\"time_zone\":\"UTC\"}", "poc.body.languages: want an array"},
        {"poc", "{\"kind\":\"technical\",\"organisation\":\"x\",\"channels\":[{\"type\":\"url\",\"value\":\"https://x\"}],\"time_zone\":\"UTC\",\"languages\":[\"english\"]}", "poc.body.languages[0]: want a BCP 47"},
        {"poc", "{\"kind\":\"technical\",\"organisation\":\"x\",\"channels\":[{\"type\":\"url\",\"value\":\"https://x\"}],\"time_zone\":\"UTC\",\"languages\":[\"en-\"]}", "poc.body.languages[0]"},
        {"poc", "{\"kind\":\"technical\",\"organisation\":\"x\",\"channels\":[{\"type\":\"url\",\"value\":\"https://x\"}],\"time_zone\":\"UTC\",\"languages\":[\"en\"]}", "poc.body.valid_from: want an RFC 3339"},
        {"poc", "{" POC_OK ",\"valid_until\":\"2025-01-01T00:00:00Z\"}", "poc.body.valid_until: want a time after valid_from"},
        {"poc", "{" POC_OK ",\"valid_until\":\"soon\"}", "poc.body.valid_until: want an RFC 3339"},
        {"poc", "{" POC_OK ",\"state\":\"pk.mofa\"}", "poc.body.state: want a state code"},
        {"poc", "{" POC_OK ",\"party\":\"PK\"}", "poc.body.party: want a party name"},
        {"poc", "{\"kind\":\"technical\",\"withdrawn\":false}", "poc.body.withdrawn: want true"},
        {"poc", "{\"kind\":\"technical\",\"withdrawn\":true,\"organisation\":\"x\"}", "poc.body.organisation: a withdrawal has only"},
        /* notification */
        {"notification", "{\"sector\":\"energy\",\"summary\":\"x\"}", "notification.body.severity: want an integer 1-5"},
        {"notification", "{\"severity\":6,\"sector\":\"energy\",\"summary\":\"x\"}", "notification.body.severity: want an integer 1-5"},
        {"notification", "{\"severity\":\"4\",\"sector\":\"energy\",\"summary\":\"x\"}", "notification.body.severity: want an integer 1-5"},
        {"notification", "{\"severity\":4,\"sector\":\"space-lasers\",\"summary\":\"x\"}", "notification.body.sector: want one of energy"},
        {"notification", "{\"severity\":4,\"sector\":\"energy\"}", "notification.body.summary: missing"},
        {"notification", "{" NOTIF_OK ",\"norm\":\"13z\"}", "notification.body.norm: want one of 13a"},
        {"notification", "{" NOTIF_OK ",\"respond_by\":\"tomorrow\"}", "notification.body.respond_by: want an RFC 3339"},
        {"notification", "{" NOTIF_OK ",\"requested_action\":7}", "notification.body.requested_action: want a string"},
        {"notification", "{" NOTIF_OK ",\"indicators\":[]}", "notification.body.indicators: want 1-"},
        {"notification", "{" NOTIF_OK ",\"indicators\":[\"evil.com\"]}", "notification.body.indicators[0]: want a STIX id"},
        {"notification", "{" NOTIF_OK ",\"indicators\":{\"type\":\"x\"}}", "notification.body.indicators: want a STIX bundle"},
        {"notification", "{" NOTIF_OK ",\"indicators\":{\"type\":\"bundle\",\"id\":\"b\"}}", "notification.body.indicators.id"},
        {"notification", "{" NOTIF_OK ",\"indicators\":{\"type\":\"bundle\",\"id\":\"bundle--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\",\"objects\":{}}}", "indicators.objects: want an array"},
        {"notification", "{" NOTIF_OK ",\"indicators\":{\"type\":\"bundle\",\"id\":\"bundle--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\",\"objects\":[{\"type\":\"x\"}]}}", "indicators.objects[0]: want a STIX object"},
        /* request */
        {"request", "{\"norm\":\"13h\",\"asked\":\"x\"}", "request.body.kind: want one of information, assistance or mitigation"},
        {"request", "{\"kind\":\"assistance\",\"norm\":\"13f\",\"asked\":\"x\"}", "request.body.norm: want one of 13c or 13h"},
        {"request", "{\"kind\":\"assistance\",\"norm\":\"13h\"}", "request.body.asked: missing"},
        {"request", "{" REQ_OK ",\"severity\":0}", "request.body.severity: want an integer 1-5"},
        {"request", "{" REQ_OK ",\"sector\":\"x\"}", "request.body.sector: want one of"},
        /* answers */
        {"reply", "{\"text\":\"x\"}", "reply.body.outcome: want one of answered or declined"},
        {"reply", "{\"outcome\":\"answered\"}", "reply.body.text: missing"},
        {"reply", "{\"outcome\":\"declined\"}", "reply.body.reasons: a decline must give reasons"},
        {"reply", "{\"outcome\":\"declined\",\"reasons\":\"\"}", "reply.body.reasons: want a string"},
        {"close", "{\"note\":\"x\"}", "close.body.note: unknown field"},
        {"ping", "{}", "ping.body.announced: want true or false"},
        {"ping", "{\"announced\":1}", "ping.body.announced: want true or false"},
        {"ping", "{\"announced\":true,\"kind\":\"x\"}", "ping.body.kind: want one of"},
        {"pong", "{\"note\":5}", "pong.body.note: want a string"},
    };
    for (size_t i = 0; i < CY_ARRAY_LEN(bad); i++) {
        comity_err rc = comity_framework_check_body(bad[i].type, bad[i].body,
                                                    strlen(bad[i].body), E);
        if (rc != COMITY_ERR_INVALID || !strstr(tu_last_err.msg, bad[i].needle))
            fail_msg("#%zu %s %s: got %s \"%s\", want \"%s\"", i, bad[i].type,
                     bad[i].body, comity_strerror(rc), tu_last_err.msg, bad[i].needle);
    }
    /* size cap and unknown type */
    size_t n = COMITY_FW_BODY_MAX + 1;
    char *big = malloc(n);
    memset(big, ' ', n);
    big[0] = '{';
    big[n - 1] = '}';
    TU_FAILS(comity_framework_check_body("ack", big, n, E), COMITY_ERR_TOOBIG, "ack.body:");
    free(big);
    TU_FAILS(comity_framework_check_body("sighting", "{}", 2, E), COMITY_ERR_USAGE, "not a framework record type");
    assert_true(comity_framework_handles("pong"));
    assert_false(comity_framework_handles("sighting"));
}

/* ---- directory -------------------------------------------------------- */

#define POC_BODY(kind, org, from, extra)                                     \
    "{\"kind\":\"" kind "\",\"organisation\":\"" org "\","                   \
    "\"channels\":[{\"type\":\"email\",\"value\":\"poc@x.gov\"}],"           \
    "\"time_zone\":\"Asia/Karachi\",\"languages\":[\"en\"],"                  \
    "\"valid_from\":\"" from "\"" extra "}"

static const char *dir_current_org(comity_framework *fw, const char *state,
                                   const char *kind, const char *at,
                                   char *buf, size_t *nhist)
{
    char *json;
    TU_OK(comity_framework_directory(fw, state, T(at), &json, E));
    json_t *a = parse(json);
    const char *org = NULL;
    size_t i;
    json_t *e;
    *nhist = 0;
    json_array_foreach(a, i, e) {
        if (strcmp(json_string_value(json_object_get(e, "kind")), kind) != 0)
            continue;
        *nhist = json_array_size(json_object_get(e, "history"));
        json_t *cur = json_object_get(e, "current");
        if (json_is_object(cur)) {
            snprintf(buf, 64, "%s", json_string_value(json_object_get(
                                        json_object_get(cur, "body"), "organisation")));
            org = buf;
        }
    }
    json_decref(a);
    return org;
}

static void test_directory(void **state)
{
    (void)state;
    comity_framework *fw;
    TU_OK(comity_framework_new(&fw, E));
    char buf[64];
    size_t nh;
    TU_OK(ADD(PK_MOFA, "poc", "2026-01-01T00:00:00.000Z", NULL, NULL,
              POC_BODY("diplomatic", "MOFA", "2026-01-01T00:00:00Z", ",\"state\":\"pk\""), NULL));
    TU_OK(ADD(PK_CERT, "poc", "2026-01-01T00:00:00.000Z", NULL, NULL,
              POC_BODY("technical", "PKCERT", "2026-01-01T00:00:00Z", ",\"party\":\"pk.pkcert\""), NULL));
    /* another state's office may neither set nor withdraw pk's contacts */
    TU_FAILS(ADD(IN_MEA, "poc", "2026-01-02T00:00:00.000Z", NULL, NULL,
                 POC_BODY("diplomatic", "Fake", "2026-01-01T00:00:00Z", ",\"state\":\"pk\""), NULL),
             COMITY_ERR_DENIED, "only an office of pk may set or withdraw");
    TU_FAILS(ADD(UN, "poc", "2026-01-02T00:00:00.000Z", NULL, NULL,
                 "{\"kind\":\"diplomatic\",\"state\":\"pk\",\"withdrawn\":true}", NULL),
             COMITY_ERR_DENIED, "only an office of pk");
    /* a contact party of another state */
    TU_FAILS(ADD(PK_CERT, "poc", "2026-01-02T00:00:00.000Z", NULL, NULL,
                 POC_BODY("technical", "X", "2026-01-01T00:00:00Z", ",\"party\":\"in.cert-in\""), NULL),
             COMITY_ERR_INVALID, "poc.body.party: in.cert-in is not a party of pk");
    /* a schema refusal through add names the field too */
    TU_FAILS(ADD(PK_CERT, "poc", "2026-01-02T00:00:00.000Z", NULL, NULL,
                 "{\"kind\":\"technical\"}", NULL),
             COMITY_ERR_INVALID, "poc.body.organisation: missing");
    /* without state, the author's state is meant */
    TU_OK(ADD(IN_MEA, "poc", "2026-01-01T00:00:00.000Z", NULL, NULL,
              POC_BODY("diplomatic", "MEA", "2026-01-01T00:00:00Z", ""), NULL));
    assert_string_equal(dir_current_org(fw, "in", "diplomatic", "2026-06-01T00:00:00Z", buf, &nh), "MEA");

    /* a replacement valid from March: the old one shows until then */
    TU_OK(ADD(PK_MOFA, "poc", "2026-02-01T00:00:00.000Z", NULL, NULL,
              POC_BODY("diplomatic", "MOFA-2", "2026-03-01T00:00:00Z",
                       ",\"valid_until\":\"2026-09-01T00:00:00Z\""), NULL));
    assert_string_equal(dir_current_org(fw, "pk", "diplomatic", "2026-02-15T00:00:00Z", buf, &nh), "MOFA");
    assert_int_equal(nh, 2);
    assert_string_equal(dir_current_org(fw, "pk", "diplomatic", "2026-03-01T00:00:00Z", buf, &nh), "MOFA-2");
    /* before the replacement was signed, history has one entry */
    assert_string_equal(dir_current_org(fw, "pk", "diplomatic", "2026-01-15T00:00:00Z", buf, &nh), "MOFA");
    assert_int_equal(nh, 1);
    /* after MOFA-2 expires, the older open-ended entry is the latest valid */
    assert_string_equal(dir_current_org(fw, "pk", "diplomatic", "2026-10-01T00:00:00Z", buf, &nh), "MOFA");

    /* withdrawal: only by pk, only if there is something to withdraw */
    TU_OK(ADD(PK_MOFA, "poc", "2026-11-01T00:00:00.000Z", NULL, NULL,
              "{\"kind\":\"diplomatic\",\"withdrawn\":true,\"reason\":\"reorganised\"}", NULL));
    assert_null(dir_current_org(fw, "pk", "diplomatic", "2026-11-02T00:00:00Z", buf, &nh));
    assert_int_equal(nh, 3);
    assert_string_equal(dir_current_org(fw, "pk", "diplomatic", "2026-10-31T00:00:00Z", buf, &nh), "MOFA");
    TU_FAILS(ADD(PK_MOFA, "poc", "2026-11-03T00:00:00.000Z", NULL, NULL,
                 "{\"kind\":\"diplomatic\",\"withdrawn\":true}", NULL),
             COMITY_ERR_CONFLICT, "pk has no diplomatic contact to withdraw");
    TU_FAILS(ADD(PK_MOFA, "poc", "2026-11-03T00:00:00.000Z", NULL, NULL,
                 "{\"kind\":\"le-24x7\",\"withdrawn\":true}", NULL),
             COMITY_ERR_CONFLICT, "no le-24x7 contact");
    /* a new nomination after a withdrawal */
    TU_OK(ADD(PK_MOFA, "poc", "2026-11-05T00:00:00.000Z", NULL, NULL,
              POC_BODY("diplomatic", "MOFA-3", "2026-11-05T00:00:00Z", ""), NULL));
    assert_string_equal(dir_current_org(fw, "pk", "diplomatic", "2026-11-06T00:00:00Z", buf, &nh), "MOFA-3");
    assert_string_equal(dir_current_org(fw, "pk", "technical", "2026-11-06T00:00:00Z", buf, &nh), "PKCERT");

    /* the whole directory: sorted by state then kind */
    char *json;
    TU_OK(comity_framework_directory(fw, NULL, T("2026-11-06T00:00:00Z"), &json, E));
    json_t *a = parse(json);
    assert_int_equal(json_array_size(a), 3);
    assert_string_equal(json_string_value(json_object_get(json_array_get(a, 0), "state")), "in");
    assert_string_equal(json_string_value(json_object_get(json_array_get(a, 1), "kind")), "diplomatic");
    assert_string_equal(json_string_value(json_object_get(json_array_get(a, 2), "kind")), "technical");
    json_decref(a);

    /* a sealed entry whose body was not given cannot enter the directory */
    comity_record *r = mk(PK_MOFA, "poc", "2026-11-07T00:00:00.000Z", "pk.pkcert", NULL,
                          POC_BODY("technical", "S", "2026-11-05T00:00:00Z", ""), true);
    TU_FAILS(comity_framework_add(fw, r, NULL, 0, E), COMITY_ERR_INVALID, "must be readable");
    comity_record_free(r);
    comity_framework_free(fw);
}

/* ---- messages ---------------------------------------------------------- */

static void test_message_flow(void **state)
{
    (void)state;
    comity_framework *fw;
    TU_OK(comity_framework_new(&fw, E));
    char n[128], x[128];
    /* severity 4: ack within 4 hours; requested action: a reply within 72 */
    TU_OK(ADD(PK_CERT, "notification", "2026-11-23T10:00:00.000Z", "in.cert-in,us.cisa", NULL,
              "{\"severity\":4,\"sector\":\"energy\",\"summary\":\"grid\","
              "\"requested_action\":\"take down C2\",\"norm\":\"13c\"}", n));
    int od;
    assert_int_equal(st(fw, n, "in.cert-in", T("2026-11-23T10:00:00Z"), &od), COMITY_MSG_SENT);
    assert_false(od);
    comity_msg_status s;
    TU_OK(comity_framework_status(fw, n, "us.cisa", T("2026-11-23T10:00:00Z"), &s, E));
    assert_string_equal(s.expects, "ack");
    assert_int_equal(s.due_ms, T("2026-11-23T14:00:00Z"));
    assert_int_equal(s.ack_due_ms, T("2026-11-23T14:00:00Z"));
    assert_int_equal(s.answer_due_ms, T("2026-11-26T10:00:00Z"));
    TU_FAILS(comity_framework_status(fw, n, "pk.mofa", 0, &s, E), COMITY_ERR_NOTFOUND, "not a recipient");
    TU_FAILS(comity_framework_status(fw, "notification--nope", NULL, 0, &s, E), COMITY_ERR_NOTFOUND, "no message");

    /* delivered: only recipients; a second fetch changes nothing */
    TU_FAILS(comity_framework_delivered(fw, n, "in.mea", T("2026-11-23T10:05:00Z"), E),
             COMITY_ERR_DENIED, "in.mea is not a recipient");
    TU_FAILS(comity_framework_delivered(fw, "notification--nope", "in.cert-in", 0, E),
             COMITY_ERR_NOTFOUND, "no message");
    TU_OK(comity_framework_delivered(fw, n, "in.cert-in", T("2026-11-23T10:05:00Z"), E));
    assert_int_equal(st(fw, n, "in.cert-in", T("2026-11-23T10:06:00Z"), NULL), COMITY_MSG_DELIVERED);
    assert_int_equal(st(fw, n, "us.cisa", T("2026-11-23T10:06:00Z"), NULL), COMITY_MSG_SENT);

    /* only recipients acknowledge */
    TU_FAILS(ADD(IN_MEA, "ack", "2026-11-23T10:10:00.000Z", NULL, n, "{}", NULL),
             COMITY_ERR_DENIED, "in.mea is not a recipient");
    TU_FAILS(ADD(PK_CERT, "ack", "2026-11-23T10:10:00.000Z", NULL, n, "{}", NULL),
             COMITY_ERR_DENIED, "only recipients may answer");
    TU_OK(ADD(IN_CERT, "ack", "2026-11-23T10:10:00.000Z", NULL, n, "{\"note\":\"on it\"}", NULL));
    TU_OK(comity_framework_delivered(fw, n, "in.cert-in", T("2026-11-23T11:00:00Z"), E));
    assert_int_equal(st(fw, n, "in.cert-in", T("2026-11-23T10:11:00Z"), NULL), COMITY_MSG_ACKNOWLEDGED);
    TU_OK(comity_framework_status(fw, n, "in.cert-in", T("2026-11-23T10:11:00Z"), &s, E));
    assert_string_equal(s.expects, "reply");
    TU_FAILS(ADD(IN_CERT, "ack", "2026-11-23T10:12:00.000Z", NULL, n, "{}", NULL),
             COMITY_ERR_CONFLICT, "already acknowledged");

    /* the deadline passes for us.cisa: overdue, to the second */
    assert_int_equal(st(fw, n, "us.cisa", T("2026-11-23T14:00:00Z"), &od), COMITY_MSG_SENT);
    assert_false(od);
    assert_int_equal(st(fw, n, "us.cisa", T("2026-11-23T14:00:00.001Z"), &od), COMITY_MSG_SENT);
    assert_true(od);
    TU_OK(comity_framework_status(fw, n, NULL, T("2026-11-23T15:00:00Z"), &s, E));
    assert_int_equal(s.state, COMITY_MSG_SENT); /* the least advanced */
    assert_true(s.overdue);
    char *json;
    TU_OK(comity_framework_overdue(fw, T("2026-11-23T15:00:00Z"), &json, E));
    json_t *a = parse(json);
    assert_int_equal(json_array_size(a), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(a, 0), "to")), "us.cisa");
    assert_string_equal(json_string_value(json_object_get(json_array_get(a, 0), "expects")), "ack");
    assert_string_equal(json_string_value(json_object_get(json_array_get(a, 0), "due")), "2026-11-23T14:00:00.000Z");
    json_decref(a);

    /* a late ack is still an ack; in.cert-in answers */
    TU_OK(ADD(US, "ack", "2026-11-23T16:00:00.000Z", NULL, n, "{}", NULL));
    assert_int_equal(st(fw, n, "us.cisa", T("2026-11-23T16:00:01Z"), &od), COMITY_MSG_ACKNOWLEDGED);
    assert_false(od);
    TU_OK(ADD(IN_CERT, "reply", "2026-11-24T09:00:00.000Z", NULL, n,
              "{\"outcome\":\"answered\",\"text\":\"servers taken down\"}", NULL));
    assert_int_equal(st(fw, n, "in.cert-in", T("2026-11-24T09:00:01Z"), NULL), COMITY_MSG_ANSWERED);
    TU_FAILS(ADD(IN_CERT, "reply", "2026-11-24T09:01:00.000Z", NULL, n,
                 "{\"outcome\":\"declined\",\"reasons\":\"changed our mind\"}", NULL),
             COMITY_ERR_CONFLICT, "already answered");
    TU_FAILS(ADD(IN_CERT, "ack", "2026-11-24T09:01:00.000Z", NULL, n, "{}", NULL),
             COMITY_ERR_CONFLICT, "already answered");
    /* us.cisa has not replied by the answer deadline */
    TU_OK(comity_framework_status(fw, n, "us.cisa", T("2026-11-26T10:00:01Z"), &s, E));
    assert_true(s.overdue);
    assert_string_equal(s.expects, "reply");

    /* close: only the author; nothing follows close */
    TU_FAILS(ADD(IN_CERT, "close", "2026-11-27T00:00:00.000Z", NULL, n, "{}", NULL),
             COMITY_ERR_DENIED, "only its author pk.pkcert may close");
    TU_FAILS(ADD(PK_MOFA, "close", "2026-11-27T00:00:00.000Z", NULL, n, "{}", NULL),
             COMITY_ERR_DENIED, "only its author");
    TU_OK(ADD(PK_CERT, "close", "2026-11-27T00:00:00.000Z", NULL, n, "{\"reason\":\"resolved\"}", x));
    assert_int_equal(st(fw, n, "us.cisa", T("2026-11-27T00:00:01Z"), &od), COMITY_MSG_CLOSED);
    assert_false(od);
    TU_FAILS(ADD(US, "reply", "2026-11-27T01:00:00.000Z", NULL, n,
                 "{\"outcome\":\"answered\",\"text\":\"late\"}", NULL),
             COMITY_ERR_CONFLICT, "nothing follows close");
    TU_FAILS(ADD(US, "ack", "2026-11-27T01:00:00.000Z", NULL, n, "{}", NULL),
             COMITY_ERR_CONFLICT, "nothing follows close");
    TU_FAILS(ADD(PK_CERT, "close", "2026-11-27T01:00:00.000Z", NULL, n, "{}", NULL),
             COMITY_ERR_CONFLICT, "already closed");
    TU_OK(comity_framework_delivered(fw, n, "us.cisa", T("2026-11-27T02:00:00Z"), E));
    assert_int_equal(st(fw, n, "us.cisa", T("2026-11-27T02:00:01Z"), NULL), COMITY_MSG_CLOSED);
    TU_OK(comity_framework_overdue(fw, T("2026-12-31T00:00:00Z"), &json, E));
    assert_string_equal(json, "[]");
    comity_free(json);
    /* an answer record is not a message */
    TU_FAILS(ADD(PK_CERT, "ack", "2026-11-27T01:00:00.000Z", NULL, x, "{}", NULL),
             COMITY_ERR_NOTFOUND, "ack.refs[0]: no message");
    comity_framework_free(fw);
}

static void test_message_refusals(void **state)
{
    (void)state;
    comity_framework *fw;
    TU_OK(comity_framework_new(&fw, E));
    char n[128], p[128];
    TU_FAILS(ADD(PK_CERT, "notification", "2026-11-23T10:00:00.000Z", NULL, NULL,
                 "{" NOTIF_OK "}", NULL),
             COMITY_ERR_INVALID, "notification.to: want at least one recipient");
    TU_FAILS(ADD(PK_CERT, "request", "2026-11-23T10:00:00.000Z", "in.mea,pk.pkcert", NULL,
                 "{" REQ_OK "}", NULL),
             COMITY_ERR_INVALID, "request.to[1]: the author cannot be a recipient");
    TU_FAILS(ADD(PK_CERT, "ping", "2026-11-23T10:00:00.000Z", "in,pk", NULL,
                 "{\"announced\":true}", NULL),
             COMITY_ERR_INVALID, "ping.to[1]: the author's own state cannot be a recipient");
    TU_FAILS(ADD(PK_CERT, "request", "2026-11-23T10:00:00.000Z", "in.mea", NULL,
                 "{" REQ_OK ",\"respond_by\":\"2026-11-23T09:00:00Z\"}", NULL),
             COMITY_ERR_INVALID, "request.body.respond_by: want a time after");
    TU_FAILS(ADD(PK_CERT, "request", "2026-11-23T10:00:00.000Z", "in.mea", NULL,
                 "{\"kind\":\"assistance\"}", NULL),
             COMITY_ERR_INVALID, "request.body.norm: want one of 13c or 13h");
    TU_OK(ADD(PK_CERT, "request", "2026-11-23T10:00:00.000Z", "in.mea", NULL, "{" REQ_OK "}", n));
    TU_OK(ADD(UN, "ping", "2026-11-23T10:00:00.000Z", "in.mea", NULL, "{\"announced\":true}", p));
    /* refs */
    TU_FAILS(ADD(IN_MEA, "ack", "2026-11-23T11:00:00.000Z", NULL, NULL, "{}", NULL),
             COMITY_ERR_INVALID, "ack.refs: want the id of the message");
    TU_FAILS(ADD(IN_MEA, "ack", "2026-11-23T11:00:00.000Z", NULL,
                 "notification--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "{}", NULL),
             COMITY_ERR_NOTFOUND, "ack.refs[0]: no message notification--8e2e");
    TU_FAILS(ADD(IN_MEA, "ack", "2026-11-23T11:00:00.000Z", NULL, p, "{}", NULL),
             COMITY_ERR_INVALID, "a ping is answered by a pong");
    TU_FAILS(ADD(IN_MEA, "reply", "2026-11-23T11:00:00.000Z", NULL, p,
                 "{\"outcome\":\"answered\",\"text\":\"x\"}", NULL),
             COMITY_ERR_INVALID, "a ping is answered by a pong");
    TU_FAILS(ADD(UN, "close", "2026-11-23T11:00:00.000Z", NULL, p, "{}", NULL),
             COMITY_ERR_INVALID, "a ping is answered by a pong");
    TU_FAILS(ADD(IN_MEA, "pong", "2026-11-23T11:00:00.000Z", NULL, n, "{}", NULL),
             COMITY_ERR_INVALID, "pong.refs[0]: request--");
    TU_FAILS(ADD(IN_MEA, "reply", "2026-11-23T11:00:00.000Z", NULL, n, "{\"outcome\":\"declined\"}", NULL),
             COMITY_ERR_INVALID, "reply.body.reasons: a decline must give reasons");
    /* a dry run checks the same rules and changes nothing */
    comity_record *d = mk(US, "ack", "2026-11-23T11:00:00.000Z", NULL, n, "{}", false);
    TU_FAILS(comity_framework_check(fw, d, NULL, 0, E), COMITY_ERR_DENIED, "us.cisa is not a recipient");
    comity_record_free(d);
    d = mk(IN_MEA, "ack", "2026-11-23T11:00:00.000Z", NULL, n, "{}", false);
    TU_OK(comity_framework_check(fw, d, NULL, 0, E));
    assert_int_equal(st(fw, n, "in.mea", 0, NULL), COMITY_MSG_SENT);
    TU_OK(comity_framework_check(fw, d, NULL, 0, E)); /* not remembered as fed */
    comity_record_free(d);
    d = mk(IN_MEA, "poc", "2026-11-23T11:00:00.000Z", NULL, NULL, "{\"kind\":\"technical\",\"withdrawn\":true}", false);
    TU_FAILS(comity_framework_check(fw, d, NULL, 0, E), COMITY_ERR_CONFLICT, "no technical contact");
    comity_record_free(d);
    /* a decline is final */
    TU_OK(ADD(IN_MEA, "reply", "2026-11-23T11:00:00.000Z", NULL, n,
              "{\"outcome\":\"declined\",\"reasons\":\"no jurisdiction\"}", NULL));
    assert_int_equal(st(fw, n, "in.mea", T("2026-11-23T11:00:01Z"), NULL), COMITY_MSG_DECLINED);
    TU_FAILS(ADD(IN_MEA, "reply", "2026-11-23T11:10:00.000Z", NULL, n,
                 "{\"outcome\":\"answered\",\"text\":\"x\"}", NULL),
             COMITY_ERR_CONFLICT, "already declined");
    /* the same record twice */
    comity_record *r = mk(IN_MEA, "pong", "2026-11-23T11:00:00.000Z", NULL, p, "{}", false);
    TU_OK(comity_framework_add(fw, r, NULL, 0, E));
    TU_FAILS(comity_framework_add(fw, r, NULL, 0, E), COMITY_ERR_EXISTS, "already fed");
    comity_record_free(r);
    /* types the framework does not rule are ignored */
    TU_OK(ADD(IN_MEA, "sighting", "2026-11-23T11:00:00.000Z", NULL, NULL, "{\"x\":1}", NULL));
    comity_framework_free(fw);
}

/* A `delivered` record of `who`'s delivery of `ref`, signed by a node's
 * log key (`node`) at `at`, green with `body`, or amber sealed to `who`
 * alone when sealed (the fold reads no body then). */
static comity_record *mkd(const comity_nkey *node, int who, const char *at, const char *ref,
                          const char *body, bool sealed)
{
    const char *refs[1] = {ref};
    comity_record_params prm = {.type = "delivered", .tlp = sealed ? "amber" : "green",
                                .refs = refs, .nrefs = ref ? 1 : 0};
    char *env = NULL;
    size_t len = 0;
    setenv("COMITY_FAKE_NOW", at, 1);
    TU_OK(cy_record_sign_as(node, names[who], comity_key_recipient(keys[who]), &prm, body,
                            strlen(body), &env, &len, E));
    unsetenv("COMITY_FAKE_NOW");
    comity_record *r = NULL;
    TU_OK(comity_record_parse(env, len, &r, E));
    /* verified as intake does: under the node's log key, not the party's */
    comity_vkey *vk = NULL;
    TU_OK(comity_vkey_parse(comity_nkey_vkey(node), strlen(comity_nkey_vkey(node)), &vk, E));
    TU_OK(cy_record_verify_under(r, vk, E));
    const comity_vkey *const party_keys[] = {vkeys[who]};
    assert_int_equal(comity_record_verify_parsed(r, party_keys, 1, NULL), COMITY_ERR_VERIFY);
    comity_vkey_free(vk);
    comity_free(env);
    return r;
}

static comity_err dbody(const char *b)
{
    return comity_framework_check_body("delivered", b, strlen(b), E);
}

static int64_t delivered_at(comity_framework *fw, const char *id, const char *party)
{
    comity_msg_status s;
    TU_OK(comity_framework_status(fw, id, party, 0, &s, E));
    return s.delivered_ms;
}

/* The rules of `delivered` (src/framework/messages.c), each refusal named,
 * and its effect: the first record of a slot sets its delivered time, a
 * local event's time gives way to a record's, an answer folded first keeps
 * its own. */
static void test_delivered_rules(void **state)
{
    (void)state;
    comity_nkey *node;
    TU_OK(comity_nkey_generate("comity.in.example", COMITY_NOTE_ED25519, &node, E));
    comity_framework *fw;
    TU_OK(comity_framework_new(&fw, E));
    char n[128], n2[128];
    TU_OK(ADD(PK_CERT, "notification", "2026-11-23T10:00:00.000Z", "in.mea,us.cisa", NULL,
              "{" NOTIF_OK "}", n));
    TU_OK(ADD(PK_CERT, "request", "2026-11-23T10:00:00.000Z", "in", NULL, "{" REQ_OK "}", n2));
    const char *ok = "{\"party\":\"in.mea\"}";
    /* the body's schema */
    TU_FAILS(dbody("{}"), COMITY_ERR_INVALID,
             "delivered.body.party: missing");
    TU_FAILS(dbody("{\"party\":\"IN\"}"),
             COMITY_ERR_INVALID, "not a party name");
    TU_FAILS(dbody("{\"party\":\"in\",\"x\":1}"),
             COMITY_ERR_INVALID, "delivered.body.x: unknown field");
    /* delivered-message */
    TU_FAILS(feed(fw, mkd(node, IN_MEA, "2026-11-23T10:05:00.000Z", NULL, ok, false), NULL),
             COMITY_ERR_INVALID, "rule delivered-message");
    TU_FAILS(feed(fw, mkd(node, IN_MEA, "2026-11-23T10:05:00.000Z",
                          "notification--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", ok, false),
                  NULL),
             COMITY_ERR_NOTFOUND, "rule delivered-message");
    /* delivered-recipient */
    TU_FAILS(feed(fw, mkd(node, UN, "2026-11-23T10:05:00.000Z", n, "{\"party\":\"un.unoda\"}",
                          false),
                  NULL),
             COMITY_ERR_DENIED, "un.unoda is not a recipient of notification--");
    /* delivered-party */
    TU_FAILS(feed(fw, mkd(node, IN_MEA, "2026-11-23T10:05:00.000Z", n,
                          "{\"party\":\"us.cisa\"}", false),
                  NULL),
             COMITY_ERR_INVALID, "rule delivered-party");
    /* delivered-after-message */
    TU_FAILS(feed(fw, mkd(node, IN_MEA, "2026-11-23T09:59:59.999Z", n, ok, false), NULL),
             COMITY_ERR_INVALID, "rule delivered-after-message");
    assert_int_equal(st(fw, n, "in.mea", 0, NULL), COMITY_MSG_SENT);
    assert_int_equal(delivered_at(fw, n, "in.mea"), 0);
    /* the first counts; a second is refused, its time unused */
    TU_OK(feed(fw, mkd(node, IN_MEA, "2026-11-23T10:05:00.000Z", n, ok, false), NULL));
    assert_int_equal(st(fw, n, "in.mea", 0, NULL), COMITY_MSG_DELIVERED);
    assert_int_equal(delivered_at(fw, n, "in.mea"), T("2026-11-23T10:05:00.000Z"));
    TU_FAILS(feed(fw, mkd(node, IN_MEA, "2026-11-23T10:06:00.000Z", n, ok, false), NULL),
             COMITY_ERR_CONFLICT, "rule delivered-once");
    assert_int_equal(delivered_at(fw, n, "in.mea"), T("2026-11-23T10:05:00.000Z"));
    /* a local event, then the record: the record's time */
    TU_OK(comity_framework_delivered(fw, n, "us.cisa", T("2026-11-23T10:07:00.000Z"), E));
    assert_int_equal(delivered_at(fw, n, "us.cisa"), T("2026-11-23T10:07:00.000Z"));
    TU_OK(feed(fw, mkd(node, US, "2026-11-23T10:07:00.020Z", n, "{\"party\":\"us.cisa\"}",
                       true),
               NULL)); /* sealed: the rules read its header */
    assert_int_equal(delivered_at(fw, n, "us.cisa"), T("2026-11-23T10:07:00.020Z"));
    assert_int_equal(st(fw, n, "us.cisa", 0, NULL), COMITY_MSG_DELIVERED);
    /* a bare state's slot: its first office recorded counts for it; an
     * answer folded before the record keeps its own time */
    TU_OK(ADD(IN_CERT, "ack", "2026-11-23T10:08:00.000Z", NULL, n2, "{}", NULL));
    TU_OK(feed(fw, mkd(node, IN_CERT, "2026-11-23T10:09:00.000Z", n2,
                       "{\"party\":\"in.cert-in\"}", false),
               NULL));
    assert_int_equal(delivered_at(fw, n2, "in.cert-in"), T("2026-11-23T10:08:00.000Z"));
    assert_int_equal(st(fw, n2, "in.cert-in", 0, NULL), COMITY_MSG_ACKNOWLEDGED);
    TU_FAILS(feed(fw, mkd(node, IN_MEA, "2026-11-23T10:10:00.000Z", n2, ok, false), NULL),
             COMITY_ERR_CONFLICT, "rule delivered-once");
    /* a local event then an answer: the answer's time, as a node without
     * the event folds it */
    char n3[128];
    TU_OK(ADD(PK_CERT, "notification", "2026-11-23T11:00:00.000Z", "in.mea", NULL,
              "{" NOTIF_OK "}", n3));
    TU_OK(comity_framework_delivered(fw, n3, "in.mea", T("2026-11-23T11:01:00.000Z"), E));
    TU_OK(ADD(IN_MEA, "ack", "2026-11-23T11:02:00.000Z", NULL, n3, "{}", NULL));
    assert_int_equal(delivered_at(fw, n3, "in.mea"), T("2026-11-23T11:02:00.000Z"));
    comity_framework_free(fw);
    comity_nkey_free(node);
}

/* An answer dated before what it answers is refused (a pong dated a
 * millisecond after an overdue ping, or a year before it, made "answered,
 * p50 1 ms"); one at the same millisecond or later is taken. */
static void test_answer_before_message(void **state)
{
    (void)state;
    comity_framework *fw;
    TU_OK(comity_framework_new(&fw, E));
    char n[128], p[128];
    TU_OK(ADD(UN, "ping", "2026-11-23T10:00:00.000Z", "in.mea,pk.pkcert", NULL,
              "{\"announced\":true}", p));
    TU_FAILS(ADD(IN_MEA, "pong", "2025-11-23T10:00:00.000Z", NULL, p, "{}", NULL),
             COMITY_ERR_INVALID,
             "pong.created: 2025-11-23T10:00:00.000Z is before 2026-11-23T10:00:00.000Z, the "
             "created time of ping--");
    TU_FAILS(ADD(IN_MEA, "pong", "2026-11-23T09:59:59.999Z", NULL, p, "{}", NULL),
             COMITY_ERR_INVALID, "answer-after-message");
    /* a dry run says the same */
    comity_record *d = mk(IN_MEA, "pong", "2026-11-23T09:00:00.000Z", NULL, p, "{}", false);
    TU_FAILS(comity_framework_check(fw, d, NULL, 0, E), COMITY_ERR_INVALID, "pong.created");
    comity_record_free(d);
    comity_ping_stats ps;
    const char *mea[] = {"in.mea"};
    TU_OK(comity_framework_ping_stats(fw, mea, 1, NULL, T("2026-01-01T00:00:00Z"),
                                      T("2027-01-01T00:00:00Z"), &ps, E));
    assert_int_equal(ps.count, 1);
    assert_int_equal(ps.answered, 0);
    TU_OK(ADD(IN_MEA, "pong", "2026-11-23T10:00:00.000Z", NULL, p, "{}", NULL));
    TU_OK(ADD(PK_CERT, "pong", "2026-11-23T10:05:00.000Z", NULL, p, "{}", NULL));
    /* ack, reply and close follow the same rule */
    TU_OK(ADD(PK_CERT, "request", "2026-11-23T10:00:00.000Z", "in.mea", NULL, "{" REQ_OK "}", n));
    TU_FAILS(ADD(IN_MEA, "ack", "2026-11-23T09:59:00.000Z", NULL, n, "{}", NULL),
             COMITY_ERR_INVALID, "ack.created");
    TU_FAILS(ADD(IN_MEA, "reply", "2026-11-22T10:00:00.000Z", NULL, n,
                 "{\"outcome\":\"answered\",\"text\":\"x\"}", NULL),
             COMITY_ERR_INVALID, "reply.created");
    TU_FAILS(ADD(PK_CERT, "close", "0001-01-01T00:00:00.000Z", NULL, n, "{}", NULL),
             COMITY_ERR_INVALID, "close.created");
    assert_int_equal(st(fw, n, "in.mea", T("2026-11-23T11:00:00Z"), NULL), COMITY_MSG_SENT);
    TU_OK(ADD(IN_MEA, "ack", "2026-11-23T10:01:00.000Z", NULL, n, "{}", NULL));
    comity_framework_free(fw);
}

static void test_deadlines(void **state)
{
    (void)state;
    comity_framework *fw;
    TU_OK(comity_framework_new(&fw, E));
    char id[128];
    comity_msg_status s;
    static const struct { int sev; const char *ack; } tab[] = {
        {5, "2026-11-23T11:00:00Z"}, {4, "2026-11-23T14:00:00Z"},
        {3, "2026-11-24T10:00:00Z"}, {2, "2026-11-25T10:00:00Z"},
        {1, "2026-11-26T10:00:00Z"}};
    for (size_t i = 0; i < CY_ARRAY_LEN(tab); i++) {
        char body[128];
        snprintf(body, sizeof body, "{\"severity\":%d,\"sector\":\"water\",\"summary\":\"x\"}", tab[i].sev);
        TU_OK(ADD(PK_CERT, "notification", "2026-11-23T10:00:00.000Z", "in.mea", NULL, body, id));
        TU_OK(comity_framework_status(fw, id, "in.mea", 0, &s, E));
        assert_int_equal(s.ack_due_ms, T(tab[i].ack));
        assert_int_equal(s.answer_due_ms, 0); /* nothing requested: no reply expected */
    }
    /* once acknowledged, a notification that requests nothing expects nothing */
    TU_OK(ADD(IN_MEA, "ack", "2026-11-23T10:30:00.000Z", NULL, id, "{}", NULL));
    TU_OK(comity_framework_status(fw, id, "in.mea", T("2027-01-01T00:00:00Z"), &s, E));
    assert_null(s.expects);
    assert_false(s.overdue);
    /* respond_by sets the answer deadline, and bounds the ack deadline */
    TU_OK(ADD(PK_CERT, "notification", "2026-11-23T10:00:00.000Z", "in.mea", NULL,
              "{\"severity\":1,\"sector\":\"water\",\"summary\":\"x\",\"respond_by\":\"2026-11-23T12:00:00Z\"}", id));
    TU_OK(comity_framework_status(fw, id, "in.mea", 0, &s, E));
    assert_int_equal(s.answer_due_ms, T("2026-11-23T12:00:00Z"));
    assert_int_equal(s.ack_due_ms, T("2026-11-23T12:00:00Z"));
    /* a request always expects a reply; without severity the unknown row */
    TU_OK(ADD(PK_MOFA, "request", "2026-11-23T10:00:00.000Z", "in.mea", NULL, "{" REQ_OK "}", id));
    TU_OK(comity_framework_status(fw, id, "in.mea", 0, &s, E));
    assert_int_equal(s.ack_due_ms, T("2026-11-24T10:00:00Z"));
    assert_int_equal(s.answer_due_ms, T("2026-11-30T10:00:00Z"));
    /* the table is configurable and applies at query time */
    TU_OK(comity_framework_set_deadline(fw, 0, 60 * 1000, 120 * 1000, E));
    TU_OK(comity_framework_status(fw, id, "in.mea", 0, &s, E));
    assert_int_equal(s.ack_due_ms, T("2026-11-23T10:01:00Z"));
    assert_int_equal(s.answer_due_ms, T("2026-11-23T10:02:00Z"));
    TU_FAILS(comity_framework_set_deadline(fw, 6, 1, 1, E), COMITY_ERR_USAGE, "severity 6");
    TU_FAILS(comity_framework_set_deadline(fw, 3, 0, 1, E), COMITY_ERR_USAGE, "positive");
    TU_FAILS(comity_framework_set_ping_deadline(fw, -1, E), COMITY_ERR_USAGE, "positive");
    comity_framework_free(fw);
}

static void test_sealed(void **state)
{
    (void)state;
    comity_framework *fw;
    TU_OK(comity_framework_new(&fw, E));
    const char *body = "{\"severity\":5,\"sector\":\"health\",\"summary\":\"hospital ransomware\"}";
    /* sealed, body not given: tracked by its envelope, severity unknown */
    comity_record *r = mk(PK_CERT, "notification", "2026-11-23T10:00:00.000Z", "in.cert-in", NULL, body, true);
    assert_true(comity_record_is_sealed(r));
    TU_OK(comity_framework_add(fw, r, NULL, 0, E));
    comity_msg_status s;
    TU_OK(comity_framework_status(fw, comity_record_id(r), "in.cert-in", 0, &s, E));
    assert_int_equal(s.ack_due_ms, T("2026-11-24T10:00:00Z"));
    comity_record_free(r);
    /* sealed, opened body given: its severity counts */
    r = mk(PK_CERT, "notification", "2026-11-23T10:00:00.000Z", "in.cert-in", NULL, body, true);
    TU_OK(comity_framework_add(fw, r, body, strlen(body), E));
    TU_OK(comity_framework_status(fw, comity_record_id(r), "in.cert-in", 0, &s, E));
    assert_int_equal(s.ack_due_ms, T("2026-11-23T11:00:00Z"));
    comity_record_free(r);
    /* and a given body is checked like a clear one */
    r = mk(PK_CERT, "notification", "2026-11-23T10:00:00.000Z", "in.cert-in", NULL, body, true);
    TU_FAILS(comity_framework_add(fw, r, "{\"severity\":9}", 14, E), COMITY_ERR_INVALID,
             "notification.body.severity: want an integer 1-5");
    comity_record_free(r);
    comity_framework_free(fw);
}

static void test_state_recipient_and_inbox(void **state)
{
    (void)state;
    comity_framework *fw;
    TU_OK(comity_framework_new(&fw, E));
    char a[128], b[128], c[128];
    /* to the state "in": any office of in may answer for it */
    TU_OK(ADD(PK_MOFA, "request", "2026-11-23T10:00:00.000Z", "in", NULL,
              "{" REQ_OK ",\"respond_by\":\"2026-11-25T00:00:00Z\"}", a));
    TU_OK(ADD(PK_CERT, "notification", "2026-11-23T09:00:00.000Z", "in.mea,us.cisa", NULL,
              "{\"severity\":5,\"sector\":\"finance\",\"summary\":\"x\"}", b));
    TU_OK(ADD(US, "notification", "2026-11-23T09:30:00.000Z", "pk.mofa", NULL,
              "{\"severity\":3,\"sector\":\"finance\",\"summary\":\"x\"}", c));
    TU_FAILS(ADD(US, "ack", "2026-11-23T10:10:00.000Z", NULL, a, "{}", NULL),
             COMITY_ERR_DENIED, "not a recipient");

    /* in.mea's inbox: b (due 10:00) before a (ack due 2026-11-24T10:00) */
    char *json;
    TU_OK(comity_framework_inbox(fw, "in.mea", T("2026-11-23T10:30:00Z"), &json, E));
    json_t *o = parse(json), *me = json_object_get(o, "awaiting_me");
    assert_int_equal(json_array_size(me), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(me, 0), "id")), b);
    assert_true(json_is_true(json_object_get(json_array_get(me, 0), "overdue")));
    assert_int_equal(json_integer_value(json_object_get(json_array_get(me, 0), "severity")), 5);
    assert_string_equal(json_string_value(json_object_get(json_array_get(me, 1), "id")), a);
    assert_string_equal(json_string_value(json_object_get(json_array_get(me, 1), "to")), "in");
    assert_false(json_is_true(json_object_get(json_array_get(me, 1), "overdue")));
    assert_int_equal(json_array_size(json_object_get(o, "awaiting_others")), 0);
    json_decref(o);

    TU_OK(ADD(IN_CERT, "ack", "2026-11-23T10:40:00.000Z", NULL, a, "{}", NULL));
    assert_int_equal(st(fw, a, "in.mea", 0, NULL), COMITY_MSG_ACKNOWLEDGED);
    TU_FAILS(ADD(IN_MEA, "ack", "2026-11-23T10:41:00.000Z", NULL, a, "{}", NULL),
             COMITY_ERR_CONFLICT, "in already acknowledged");

    /* pk.mofa: awaits c from us; waits for in's reply to a */
    TU_OK(comity_framework_inbox(fw, "pk.mofa", T("2026-11-23T10:45:00Z"), &json, E));
    o = parse(json);
    me = json_object_get(o, "awaiting_me");
    json_t *others = json_object_get(o, "awaiting_others");
    assert_int_equal(json_array_size(me), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(me, 0), "id")), c);
    assert_int_equal(json_array_size(others), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(others, 0), "expects")), "reply");
    assert_string_equal(json_string_value(json_object_get(json_array_get(others, 0), "due")), "2026-11-25T00:00:00.000Z");
    assert_string_equal(json_string_value(json_object_get(json_array_get(others, 0), "state")), "acknowledged");
    json_decref(o);
    TU_FAILS(comity_framework_inbox(fw, "PK", 0, &json, E), COMITY_ERR_INVALID, "inbox");
    comity_framework_free(fw);
}

/* ---- next: what a party may answer now --------------------------------- */

/* At time `at`, for every party and every kind of answer to message `id`:
 * `next` lists it exactly when intake would accept it.  Returns how many
 * (party, answer) pairs `next` lists. */
static int next_matches_check(comity_framework *fw, const char *id, const char *at)
{
    static const char *const types[] = {"ack", "reply", "pong", "close"};
    static const char *const bodies[] = {"{}", "{\"outcome\":\"answered\",\"text\":\"x\"}", "{}",
                                         "{}"};
    int listed_n = 0;
    for (int p = 0; p < NK; p++) {
        char *json = NULL;
        comity_err rc = comity_framework_message_next(fw, id, names[p], &json, E);
        json_t *a = rc ? NULL : parse(json);
        if (rc)
            assert_int_equal(rc, COMITY_ERR_NOTFOUND);
        for (size_t t = 0; t < 4; t++) {
            comity_record *r = mk(p, types[t], at, NULL, id, bodies[t], false);
            bool ok = comity_framework_check(fw, r, NULL, 0, NULL) == COMITY_OK;
            comity_record_free(r);
            bool listed = false;
            size_t i;
            json_t *x;
            json_array_foreach(a, i, x) listed |=
                !strcmp(json_string_value(json_object_get(x, "type")), types[t]);
            if (ok != listed)
                fail_msg("%s %s on %s at %s: intake %s it, next %s", names[p], types[t], id, at,
                         ok ? "accepts" : "refuses", listed ? "lists it" : "does not list it");
            listed_n += listed;
        }
        json_decref(a);
    }
    return listed_n;
}

static void test_message_next(void **state)
{
    (void)state;
    comity_framework *fw;
    TU_OK(comity_framework_new(&fw, E));
    char n[128], p[128], s[128];
    /* a notification to an office and to a state (any of its offices answers) */
    TU_OK(ADD(PK_CERT, "notification", "2026-11-23T10:00:00.000Z", "us.cisa,in", NULL,
              "{\"severity\":4,\"sector\":\"energy\",\"summary\":\"grid\"}", n));
    /* us.cisa, in.mea, in.cert-in: ack and reply; pk.pkcert: close */
    assert_int_equal(next_matches_check(fw, n, "2026-11-23T10:01:00.000Z"), 3 * 2 + 1);
    char *json;
    TU_OK(comity_framework_message_next(fw, n, "us.cisa", &json, E));
    assert_string_equal(json, "[{\"type\":\"ack\",\"who\":[\"recipient\"]},"
                              "{\"type\":\"reply\",\"who\":[\"recipient\"]}]");
    comity_free(json);
    TU_OK(ADD(IN_MEA, "ack", "2026-11-23T10:02:00.000Z", NULL, n, "{}", NULL));
    /* in acknowledged (for both its offices): reply only */
    assert_int_equal(next_matches_check(fw, n, "2026-11-23T10:03:00.000Z"), 2 + 2 * 1 + 1);
    TU_OK(ADD(IN_CERT, "reply", "2026-11-23T10:04:00.000Z", NULL, n,
              "{\"outcome\":\"declined\",\"reasons\":\"not ours\"}", NULL));
    assert_int_equal(next_matches_check(fw, n, "2026-11-23T10:05:00.000Z"), 2 + 1);
    TU_OK(ADD(PK_CERT, "close", "2026-11-23T10:06:00.000Z", NULL, n, "{}", NULL));
    /* nothing once closed */
    assert_int_equal(next_matches_check(fw, n, "2026-11-23T10:07:00.000Z"), 0);
    TU_OK(comity_framework_message_next(fw, n, "us.cisa", &json, E));
    assert_string_equal(json, "[]");
    comity_free(json);
    /* a ping: pong, never ack, reply or close */
    TU_OK(ADD(UN, "ping", "2026-11-23T11:00:00.000Z", "pk.pkcert,in.mea", NULL,
              "{\"announced\":true}", p));
    assert_int_equal(next_matches_check(fw, p, "2026-11-23T11:01:00.000Z"), 2);
    TU_OK(ADD(IN_MEA, "pong", "2026-11-23T11:02:00.000Z", NULL, p, "{}", NULL));
    assert_int_equal(next_matches_check(fw, p, "2026-11-23T11:03:00.000Z"), 1);
    /* a sealed message: unseen by others, who get NOTFOUND (and intake
     * refuses their answers) */
    comity_record *r = mk(PK_MOFA, "request", "2026-11-23T12:00:00.000Z", "in.mea", NULL,
                          "{" REQ_OK "}", true);
    snprintf(s, sizeof s, "%s", comity_record_id(r));
    TU_OK(comity_framework_add(fw, r, NULL, 0, E));
    comity_record_free(r);
    assert_int_equal(next_matches_check(fw, s, "2026-11-23T12:01:00.000Z"), 2 + 1);
    TU_FAILS(comity_framework_message_next(fw, s, "us.cisa", &json, E), COMITY_ERR_NOTFOUND,
             "no message");
    TU_FAILS(comity_framework_message_next(fw, "request--nope", "in.mea", &json, E),
             COMITY_ERR_NOTFOUND, "no message");
    comity_framework_free(fw);
}

/* ---- UN M49 regions ------------------------------------------------------ */

static void test_m49(void **state)
{
    (void)state;
    /* sorted and unique (the lookup is a binary search) */
    for (size_t i = 1; i < cy_m49_nrows; i++)
        assert_true(strcmp(cy_m49_rows[i - 1].code, cy_m49_rows[i].code) < 0);
    assert_int_equal(cy_m49_nrows, 247);
    /* every row's region and sub-region are named, and agree */
    for (size_t i = 0; i < cy_m49_nrows; i++) {
        assert_non_null(cy_m49_name(cy_m49_rows[i].region));
        bool found = false;
        for (size_t j = 0; j < cy_m49_nsubregions; j++)
            if (cy_m49_subregions[j].code == cy_m49_rows[i].subregion) {
                assert_int_equal(cy_m49_subregions[j].parent, cy_m49_rows[i].region);
                found = true;
            }
        assert_true(found);
    }
    static const struct { const char *st; unsigned region, sub; } facts[] = {
        {"pk", 142, 34}, {"in", 142, 34}, {"fr", 150, 155}, {"ke", 2, 202}, {"eg", 2, 15},
        {"br", 19, 419}, {"us", 19, 21}, {"au", 9, 53}, {"fj", 9, 54}, {"ru", 150, 151},
        {"tr", 142, 145}, {"ad", 150, 39}, {"zw", 2, 202},
    };
    for (size_t i = 0; i < sizeof facts / sizeof *facts; i++) {
        const cy_m49_row *r = cy_m49_of(facts[i].st);
        assert_non_null(r);
        assert_int_equal(r->region, facts[i].region);
        assert_int_equal(r->subregion, facts[i].sub);
    }
    assert_string_equal(cy_m49_name(142), "Asia");
    assert_string_equal(cy_m49_name(419), "Latin America and the Caribbean");
    assert_null(cy_m49_of("un")); /* not a country code */
    assert_null(cy_m49_of("aq")); /* in no M49 region */
    assert_null(cy_m49_of("tw")); /* not listed by M49 */
    assert_null(cy_m49_of("pak"));
    assert_null(cy_m49_of(""));
    assert_null(cy_m49_name(1));
}

/* ---- pings ------------------------------------------------------------- */

static void test_pings(void **state)
{
    (void)state;
    comity_framework *fw;
    TU_OK(comity_framework_new(&fw, E));
    TU_OK(ADD(PK_CERT, "poc", "2026-01-01T00:00:00.000Z", NULL, NULL,
              POC_BODY("technical", "PKCERT", "2026-01-01T00:00:00Z", ",\"party\":\"pk.pkcert\""), NULL));
    TU_OK(ADD(IN_MEA, "poc", "2026-01-01T00:00:00.000Z", NULL, NULL,
              POC_BODY("diplomatic", "MEA", "2026-01-01T00:00:00Z", ",\"party\":\"in.mea\""), NULL));
    char p1[128], p2[128], p3[128], p4[128];
    /* round 1, unannounced: pk.pkcert after 10 min, in.mea after 30, us never */
    TU_OK(ADD(UN, "ping", "2026-10-01T00:00:00.000Z", "pk.pkcert,in.mea,us.cisa", NULL,
              "{\"announced\":false,\"round\":\"Q4\"}", p1));
    TU_OK(ADD(PK_CERT, "pong", "2026-10-01T00:10:00.000Z", NULL, p1, "{}", NULL));
    TU_OK(ADD(IN_MEA, "pong", "2026-10-01T00:30:00.000Z", NULL, p1, "{\"note\":\"here\"}", NULL));
    TU_FAILS(ADD(PK_MOFA, "pong", "2026-10-01T00:31:00.000Z", NULL, p1, "{}", NULL),
             COMITY_ERR_DENIED, "pk.mofa is not a recipient");
    TU_FAILS(ADD(PK_CERT, "pong", "2026-10-01T00:32:00.000Z", NULL, p1, "{}", NULL),
             COMITY_ERR_CONFLICT, "pk.pkcert already answered");
    assert_int_equal(st(fw, p1, "pk.pkcert", 0, NULL), COMITY_MSG_ANSWERED);
    /* us.cisa overdue after 24 hours */
    int od;
    assert_int_equal(st(fw, p1, "us.cisa", T("2026-10-02T00:00:00Z"), &od), COMITY_MSG_SENT);
    assert_false(od);
    assert_int_equal(st(fw, p1, "us.cisa", T("2026-10-02T00:00:01Z"), &od), COMITY_MSG_SENT);
    assert_true(od);
    /* round 2, announced, pk.pkcert answers in 2 hours; a state pings too */
    TU_OK(ADD(UN, "ping", "2026-11-01T00:00:00.000Z", "pk.pkcert", NULL, "{\"announced\":true}", p2));
    TU_OK(ADD(PK_CERT, "pong", "2026-11-01T02:00:00.000Z", NULL, p2, "{}", NULL));
    TU_OK(ADD(UN, "ping", "2026-11-15T00:00:00.000Z", "pk.pkcert", NULL,
              "{\"announced\":true,\"kind\":\"diplomatic\"}", p3));
    TU_OK(ADD(US, "ping", "2026-12-01T00:00:00.000Z", "pk.pkcert", NULL, "{\"announced\":false}", p4));
    TU_OK(ADD(PK_CERT, "pong", "2026-12-01T00:01:00.000Z", NULL, p4, "{}", NULL));

    comity_ping_stats s;
    const char *pkcert = "pk.pkcert", *uscisa = "us.cisa";
    /* pk.pkcert as technical contact over Q4: 3 pings (p1, p2, p4) */
    TU_OK(comity_framework_ping_stats(fw, &pkcert, 1, "technical", T("2026-10-01T00:00:00Z"),
                                      T("2027-01-01T00:00:00Z"), &s, E));
    assert_int_equal(s.count, 3);
    assert_int_equal(s.answered, 3);
    assert_int_equal(s.p50_ms, 10 * 60 * 1000);
    assert_int_equal(s.p90_ms, 2 * 3600 * 1000);
    assert_true(s.unanswered == 0.0);
    /* ... and the one ping that named the diplomatic kind, unanswered */
    TU_OK(comity_framework_ping_stats(fw, &pkcert, 1, "diplomatic", 0, T("2027-01-01T00:00:00Z"), &s, E));
    assert_int_equal(s.count, 1);
    assert_int_equal(s.answered, 0);
    assert_int_equal(s.p50_ms, -1);
    assert_true(s.unanswered == 1.0);
    /* the period is [from, to): a ping at `to` is out, one at `from` in */
    TU_OK(comity_framework_ping_stats(fw, NULL, 0, NULL, T("2026-10-01T00:00:00Z"),
                                      T("2026-11-01T00:00:00Z"), &s, E));
    assert_int_equal(s.count, 3);
    assert_int_equal(s.answered, 2);
    assert_int_equal(s.p50_ms, 10 * 60 * 1000);
    assert_int_equal(s.p90_ms, 30 * 60 * 1000);
    assert_true(s.unanswered > 0.33 && s.unanswered < 0.34);
    /* a contact absent from the directory is of kind "unknown" */
    TU_OK(comity_framework_ping_stats(fw, &uscisa, 1, "unknown", 0, T("2027-01-01T00:00:00Z"), &s, E));
    assert_int_equal(s.count, 1);
    TU_OK(comity_framework_ping_stats(fw, NULL, 0, NULL, T("2030-01-01T00:00:00Z"),
                                      T("2031-01-01T00:00:00Z"), &s, E));
    assert_int_equal(s.count, 0);
    assert_true(s.unanswered == 0.0);

    /* by state, and a region as a list of states */
    const char *in[] = {"in"}, *region[] = {"pk", "in"};
    TU_OK(comity_framework_ping_stats(fw, in, 1, NULL, 0, T("2027-01-01T00:00:00Z"), &s, E));
    assert_int_equal(s.count, 1);
    assert_int_equal(s.p50_ms, 30 * 60 * 1000);
    TU_OK(comity_framework_ping_stats(fw, region, 2, NULL, 0, T("2027-01-01T00:00:00Z"), &s, E));
    assert_int_equal(s.count, 5); /* pk.pkcert 4 (3 technical + 1 diplomatic), in.mea 1 */
    assert_int_equal(s.answered, 4);
    assert_int_equal(s.p50_ms, 10 * 60 * 1000); /* 1, 10, 30, 120 minutes */
    assert_int_equal(s.p90_ms, 2 * 3600 * 1000);
    assert_true(s.unanswered > 0.19 && s.unanswered < 0.21);

    char *json;
    TU_OK(comity_framework_ping_report(fw, 0, T("2027-01-01T00:00:00Z"), &json, E));
    json_t *a = parse(json);
    assert_int_equal(json_array_size(a), 4);
    json_t *e0 = json_array_get(a, 0), *e3 = json_array_get(a, 3);
    assert_string_equal(json_string_value(json_object_get(e0, "party")), "in.mea");
    assert_string_equal(json_string_value(json_object_get(e0, "kind")), "diplomatic");
    assert_int_equal(json_integer_value(json_object_get(e0, "p50_ms")), 30 * 60 * 1000);
    assert_string_equal(json_string_value(json_object_get(e3, "party")), "us.cisa");
    assert_true(json_is_null(json_object_get(e3, "p90_ms")));
    assert_true(json_real_value(json_object_get(e3, "unanswered")) == 1.0);
    json_decref(a);

    /* per state and per UN M49 region (pk and in: Asia, 142; us: the
     * Americas, 019), computed from the response times themselves, over
     * what a party sees (the pings are green) */
    TU_OK(comity_framework_ping_groups_as(fw, "in.mea", "state", NULL, 0, T("2027-01-01T00:00:00Z"),
                                          &json, E));
    a = parse(json);
    assert_int_equal(json_array_size(a), 3);
    e0 = json_array_get(a, 0);
    assert_string_equal(json_string_value(json_object_get(e0, "state")), "in");
    assert_string_equal(json_string_value(json_object_get(e0, "region")), "142");
    json_t *e1 = json_array_get(a, 1);
    assert_string_equal(json_string_value(json_object_get(e1, "state")), "pk");
    assert_int_equal(json_integer_value(json_object_get(e1, "count")), 4);
    assert_int_equal(json_integer_value(json_object_get(e1, "answered")), 3);
    assert_int_equal(json_integer_value(json_object_get(e1, "p50_ms")), 10 * 60 * 1000);
    json_decref(a);
    TU_OK(comity_framework_ping_groups_as(fw, "in.mea", "region", NULL, 0, T("2027-01-01T00:00:00Z"),
                                          &json, E));
    a = parse(json);
    assert_int_equal(json_array_size(a), 2);
    e0 = json_array_get(a, 0);
    e1 = json_array_get(a, 1);
    assert_string_equal(json_string_value(json_object_get(e0, "region")), "019");
    assert_string_equal(json_string_value(json_object_get(e0, "name")), "Americas");
    assert_int_equal(json_integer_value(json_object_get(e0, "count")), 1);
    assert_true(json_is_null(json_object_get(e0, "p50_ms")));
    assert_string_equal(json_string_value(json_object_get(e1, "region")), "142");
    assert_string_equal(json_string_value(json_object_get(e1, "name")), "Asia");
    assert_int_equal(json_integer_value(json_object_get(e1, "count")), 5);
    assert_int_equal(json_integer_value(json_object_get(e1, "answered")), 4);
    assert_int_equal(json_integer_value(json_object_get(e1, "p50_ms")), 10 * 60 * 1000);
    assert_int_equal(json_integer_value(json_object_get(e1, "p90_ms")), 2 * 3600 * 1000);
    json_decref(a);
    /* a kind narrows it (the one diplomatic-kind ping to pk.pkcert and
     * in.mea's); another `by` is refused */
    TU_OK(comity_framework_ping_groups_as(fw, "in.mea", "region", "diplomatic", 0,
                                          T("2027-01-01T00:00:00Z"), &json, E));
    a = parse(json);
    assert_int_equal(json_array_size(a), 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(a, 0), "count")), 2);
    json_decref(a);
    TU_FAILS(comity_framework_ping_groups_as(fw, "in.mea", "kind", NULL, 0, T("2027-01-01T00:00:00Z"),
                                             &json, E),
             COMITY_ERR_USAGE, "by must be");
    /* anonymous: no green ping counts */
    TU_OK(comity_framework_ping_groups_as(fw, NULL, "state", NULL, 0, T("2027-01-01T00:00:00Z"),
                                          &json, E));
    assert_string_equal(json, "[]");
    comity_free(json);

    /* a ping to the bare state "in", answered by one of its offices: its own
     * row in the report, not merged with in.mea's */
    char p5[128];
    TU_OK(ADD(UN, "ping", "2027-02-01T00:00:00.000Z", "in", NULL, "{\"announced\":true}", p5));
    TU_OK(ADD(IN_CERT, "pong", "2027-02-01T00:05:00.000Z", NULL, p5, "{}", NULL));
    TU_OK(comity_framework_ping_report(fw, 0, T("2028-01-01T00:00:00Z"), &json, E));
    a = parse(json);
    assert_int_equal(json_array_size(a), 5);
    e0 = json_array_get(a, 0);
    assert_string_equal(json_string_value(json_object_get(e0, "party")), "in");
    assert_int_equal(json_integer_value(json_object_get(e0, "count")), 1);
    assert_int_equal(json_integer_value(json_object_get(e0, "p50_ms")), 5 * 60 * 1000);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(a, 1), "count")), 1);
    json_decref(a);
    TU_OK(comity_framework_ping_stats(fw, in, 1, NULL, 0, T("2028-01-01T00:00:00Z"), &s, E));
    assert_int_equal(s.count, 2); /* the state: "in" and in.mea */
    comity_framework_free(fw);
}

/* ---- allocation failures ---------------------------------------------- */

/* Every allocation of add and of the queries may fail: the call says
 * NOMEM, leaks nothing (ASan) and changes nothing (the retry succeeds
 * rather than finding the record half-fed). */
static void test_alloc_failures(void **state)
{
    (void)state;
    comity_framework *fw;
    TU_OK(comity_framework_new(&fw, E));
    char n[128], p[128];
    comity_record *rs[6];
    rs[0] = mk(PK_CERT, "poc", "2026-01-01T00:00:00.000Z", NULL, NULL,
               POC_BODY("technical", "PKCERT", "2026-01-01T00:00:00Z", ",\"party\":\"pk.pkcert\""), false);
    rs[1] = mk(PK_MOFA, "notification", "2026-11-23T10:00:00.000Z", "pk.pkcert,in.mea", NULL,
               "{" NOTIF_OK "}", false);
    snprintf(n, sizeof n, "%s", comity_record_id(rs[1]));
    rs[2] = mk(IN_MEA, "ack", "2026-11-23T10:01:00.000Z", NULL, n, "{}", false);
    rs[3] = mk(UN, "ping", "2026-11-23T10:00:00.000Z", "pk.pkcert,in.mea", NULL, "{\"announced\":false}", false);
    snprintf(p, sizeof p, "%s", comity_record_id(rs[3]));
    rs[4] = mk(PK_CERT, "pong", "2026-11-23T10:02:00.000Z", NULL, p, "{}", false);
    rs[5] = mk(PK_MOFA, "close", "2026-11-23T10:03:00.000Z", NULL, n, "{}", false);
    for (size_t i = 0; i < CY_ARRAY_LEN(rs); i++) {
        long k;
        for (k = 1; k < 200; k++) {
            cy_alloc_fail_after(k);
            comity_err rc = comity_framework_add(fw, rs[i], NULL, 0, E);
            cy_alloc_fail_after(0);
            if (rc == COMITY_OK)
                break;
            if (rc != COMITY_ERR_NOMEM)
                fail_msg("record %zu, failing allocation %ld: %s", i, k, tu_last_err.msg);
        }
        assert_true(k < 200);
        if (i == 0 || i == 1 || i == 3) /* these allocate: some call failed */
            assert_true(k > 1);
        comity_record_free(rs[i]);
    }
    assert_int_equal(st(fw, n, "in.mea", 0, NULL), COMITY_MSG_CLOSED);
    for (int q = 0; q < 4; q++) {
        long k;
        for (k = 1; k < 200; k++) {
            char *json = NULL;
            cy_alloc_fail_after(k);
            comity_err rc = q == 0 ? comity_framework_inbox(fw, "pk.pkcert", 0, &json, E)
                          : q == 1 ? comity_framework_overdue(fw, T("2027-01-01T00:00:00Z"), &json, E)
                          : q == 2 ? comity_framework_directory(fw, NULL, T("2027-01-01T00:00:00Z"), &json, E)
                                   : comity_framework_ping_report(fw, 0, T("2027-01-01T00:00:00Z"), &json, E);
            cy_alloc_fail_after(0);
            if (rc == COMITY_OK) {
                assert_non_null(json);
                comity_free(json);
                break;
            }
            assert_int_equal(rc, COMITY_ERR_NOMEM);
            assert_null(json);
        }
        assert_true(k > 1 && k < 200);
    }
    comity_framework_free(fw);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schemas_accept),
        cmocka_unit_test(test_schemas_refuse),
        cmocka_unit_test(test_delivered_rules),
        cmocka_unit_test(test_directory),
        cmocka_unit_test(test_message_flow),
        cmocka_unit_test(test_message_refusals),
        cmocka_unit_test(test_answer_before_message),
        cmocka_unit_test(test_deadlines),
        cmocka_unit_test(test_sealed),
        cmocka_unit_test(test_state_recipient_and_inbox),
        cmocka_unit_test(test_message_next),
        cmocka_unit_test(test_m49),
        cmocka_unit_test(test_pings),
        cmocka_unit_test(test_alloc_failures),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
