/*
 * test_cases.c: the case core and its two mechanisms (consultations,
 * evidence requests: preservation, mutual assistance, emergency): every
 * body schema and each refusal, every transition of every status table
 * allowed and refused (for each state reached, each record type, each
 * role), the core's envelope rules (parties, to, refs, sealed cases),
 * clocks at their edges with the deadline table and treaty profiles, and a
 * sealed case's content and existence hidden from non-parties in the
 * queries and the refusals.
 *
 * Records are made as a node receives them: signed with comity_record_sign
 * (COMITY_FAKE_NOW sets `created`) and checked with comity_record_verify
 * before being fed.  The expectations are written here from the issue's
 * description, not read from the library's tables.
 */
#include <stdlib.h>

#include <jansson.h>

#include "base/base.h"
#include "util/parties.h"

enum { PK_MOFA, IN_MEA, UN, US, PK_FIA, IN_CBI, PK_CERT, IN_CERT, NK };
static const char *const names[NK] = {"pk.mofa", "in.mea",  "un.unoda",
                                      "us.cisa", "pk.fia",  "in.cbi",
                                      "pk.pkcert", "in.cert-in"};
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

#define HOUR (3600 * (int64_t)1000)
#define DAY (24 * HOUR)

/* Signs `body` as `who` at `at`, to the comma-separated parties `to`,
 * referring to the comma-separated ids `refs` (both may be NULL); sealed
 * (amber) to the recipients when `sealed`.  Verified as a node does. */
static comity_record *mk(int who, const char *type, const char *at,
                         const char *to, const char *refs, const char *body,
                         bool sealed)
{
    return tu_record(&cast, who, type, at, to, refs, body, sealed);
}

/* Feeds r (then frees it) after checking that the dry run agrees; copies
 * its id into id (may be NULL). */
static comity_err feed(comity_framework *fw, comity_record *r, char *id)
{
    if (id)
        snprintf(id, 128, "%s", comity_record_id(r));
    comity_error e1;
    comity_err c1 = comity_framework_check(fw, r, NULL, 0, &e1);
    comity_err rc = comity_framework_add(fw, r, NULL, 0, E);
    if (c1 != rc)
        fail_msg("check said %d (%s), add %d (%s)", c1, e1.msg, rc, tu_last_err.msg);
    comity_record_free(r);
    return rc;
}

#define ADD(who, type, at, to, refs, body, id)                               \
    feed(fw, mk((who), (type), (at), (to), (refs), (body), false), (id))
#define ADDS(who, type, at, to, refs, body, id)                              \
    feed(fw, mk((who), (type), (at), (to), (refs), (body), true), (id))

static json_t *parse(char *json)
{
    json_t *j = json_loads(json, 0, NULL);
    assert_non_null(j);
    comity_free(json);
    return j;
}

static json_t *case_view(comity_framework *fw, const char *id,
                         const char *party, int64_t now)
{
    char *json;
    TU_OK(comity_framework_case(fw, id, party, now, &json, E));
    return parse(json);
}

static const char *state_of(comity_framework *fw, const char *id)
{
    static char buf[64];
    json_t *j = case_view(fw, id, NULL, 0);
    snprintf(buf, sizeof buf, "%s", json_string_value(json_object_get(j, "state")));
    json_decref(j);
    return buf;
}

/* The clock `name` of case id at now: its due time (ms) and overdue. */
static int64_t clock_of(comity_framework *fw, const char *id, const char *name,
                        int64_t now, int *overdue, int *running)
{
    json_t *j = case_view(fw, id, NULL, now);
    json_t *c;
    size_t i;
    int64_t due = -1;
    json_array_foreach(json_object_get(j, "clocks"), i, c) {
        if (strcmp(json_string_value(json_object_get(c, "name")), name) != 0)
            continue;
        due = T(json_string_value(json_object_get(c, "due")));
        if (overdue)
            *overdue = json_is_true(json_object_get(c, "overdue"));
        if (running)
            *running = json_is_true(json_object_get(c, "running"));
    }
    json_decref(j);
    if (due < 0)
        fail_msg("case %s has no clock %s", id, name);
    return due;
}

/* ---- bodies ------------------------------------------------------------------ */

#define B_CREQ "{\"subject\":\"grid incident\",\"summary\":\"talks on the outage\",\"format\":\"video\"}"
#define B_ACCEPT "{\"date\":\"2026-12-20T10:00:00Z\",\"format\":\"in-person\"}"
#define B_PROPOSE "{\"date\":\"2026-12-22T10:00:00Z\"}"
#define B_DECLINE "{\"reason\":\"no dispute\"}"
#define B_GOOD "{\"offer\":\"the secretariat offers to convene in Geneva\"}"
#define B_AGENDA "{\"items\":[\"facts\",\"next steps\"]}"
#define B_DOC "{\"title\":\"timeline\",\"content\":\"12:00 outage\"}"
#define B_MEET "{\"date\":\"2026-12-20T10:00:00Z\",\"participants\":[\"pk.mofa\",\"in.mea\",\"un.unoda\"]}"
#define B_CLOSE "{\"outcome\":\"agreed-statement\",\"statement\":\"both sides will share logs\"}"
#define B_ACTION "{\"owner\":\"pk.mofa\",\"due\":\"2027-01-15T00:00:00Z\",\"what\":\"share logs\"}"
#define B_NOTE "{\"note\":\"done\"}"

#define B_PRES                                                                \
    "{\"requesting_authority\":\"FIA Cybercrime Wing\","                      \
    "\"offence\":\"ransomware against a hospital (PPC 2016 s.4)\","           \
    "\"data\":\"server logs of 203.0.113.7, 1-3 Dec 2026\","                  \
    "\"custodian\":\"ExampleHost Ltd, Mumbai\","                              \
    "\"necessity\":\"logs are deleted after 14 days\",\"mla_to_follow\":true}"
#define B_CONFIRM "{\"reference\":\"IN-24x7-991\"}"
#define B_PREFUSE "{\"grounds\":\"essential-interests\",\"explanation\":\"x\"}"
#define B_EXTEND "{\"days\":30}"
#define B_DISCLOSE "{\"providers\":[\"ExampleTransit AS\"],\"path\":\"via Oslo\"}"
#define B_ECLOSE "{\"reason\":\"done\"}"
#define B_MLA                                                                 \
    "{\"requesting_authority\":\"Ministry of Interior\",\"subject\":\"ransomware\"," \
    "\"facts\":\"see preservation\",\"assistance\":\"produce the logs\","    \
    "\"purpose\":\"prosecution\"}"
#define B_ANSWER "{\"text\":\"logs attached\",\"sha256\":\"" \
    "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\",\"size\":1024}"
#define B_MORE "{\"asked\":\"which time zone?\"}"
#define B_INFO "{\"text\":\"UTC\"}"
#define B_MREFUSE "{\"grounds\":\"domestic-law\",\"explanation\":\"x\"}"
#define B_EMERG                                                               \
    "{\"requesting_authority\":\"FIA 24/7\",\"emergency\":\"kidnapping, a life at risk\"," \
    "\"facts\":\"ransom demand by e-mail\",\"assistance\":\"subscriber of an account\"}"
#define B_ECONFIRM "{\"confirmation\":\"written request attached\"}"

/* ---- schemas ---------------------------------------------------------------- */

static const struct { const char *type, *body; const char *required; } valid[] = {
    {"consult-request", B_CREQ, "subject,summary"},
    {"consult-accept", B_ACCEPT, ""},
    {"consult-propose", B_PROPOSE, ""},
    {"consult-decline", B_DECLINE, "reason"},
    {"consult-good-offices", B_GOOD, "offer"},
    {"consult-agenda", B_AGENDA, "items"},
    {"consult-document", B_DOC, "title"},
    {"consult-meeting", B_MEET, "date,participants"},
    {"consult-close", B_CLOSE, "outcome"},
    {"consult-action", B_ACTION, "owner,due,what"},
    {"consult-action-done", B_NOTE, ""},
    {"preservation-request", B_PRES,
     "requesting_authority,offence,data,custodian,necessity,mla_to_follow"},
    {"preservation-confirm", B_CONFIRM, ""},
    {"preservation-refuse", B_PREFUSE, "grounds,explanation"},
    {"preservation-extend", B_EXTEND, ""},
    {"preservation-disclose", B_DISCLOSE, "providers"},
    {"evidence-close", B_ECLOSE, ""},
    {"mla-request", B_MLA, "requesting_authority,subject,facts,assistance,purpose"},
    {"mla-partial", B_ANSWER, "text"},
    {"mla-answer", B_ANSWER, "text"},
    {"mla-more-info", B_MORE, "asked"},
    {"mla-info", B_INFO, "text"},
    {"mla-refuse", B_MREFUSE, "grounds,explanation"},
    {"emergency-request", B_EMERG, "requesting_authority,emergency,facts,assistance"},
    {"emergency-confirm", B_ECONFIRM, ""},
    {"emergency-answer", B_ANSWER, "text"},
    {"emergency-refuse", B_MREFUSE, "grounds,explanation"},
};

static void test_schemas_accept_and_required(void **state)
{
    (void)state;
    for (size_t i = 0; i < CY_ARRAY_LEN(valid); i++) {
        const char *type = valid[i].type, *body = valid[i].body;
        assert_int_equal(comity_framework_handles(type), 1);
        comity_err rc = comity_framework_check_body(type, body, strlen(body), E);
        if (rc)
            fail_msg("%s %s: %s", type, body, tu_last_err.msg);
        /* each required field left out is refused, naming it */
        char req[256];
        snprintf(req, sizeof req, "%s", valid[i].required);
        for (char *f = strtok(req, ","); f; f = strtok(NULL, ",")) {
            json_t *j = json_loads(body, 0, NULL);
            assert_int_equal(json_object_del(j, f), 0);
            char *s = json_dumps(j, JSON_COMPACT);
            char needle[128];
            snprintf(needle, sizeof needle, "%s.body.%s: missing", type, f);
            TU_FAILS(comity_framework_check_body(type, s, strlen(s), E),
                     COMITY_ERR_INVALID, needle);
            free(s);
            json_decref(j);
        }
        /* an unknown field is refused */
        json_t *j = json_loads(body, 0, NULL);
        json_object_set_new(j, "colour", json_string("red"));
        char *s = json_dumps(j, JSON_COMPACT);
        char needle[128];
        snprintf(needle, sizeof needle, "%s.body.colour: unknown field", type);
        TU_FAILS(comity_framework_check_body(type, s, strlen(s), E),
                 COMITY_ERR_INVALID, needle);
        free(s);
        json_decref(j);
    }
    assert_int_equal(comity_framework_handles("consult-nothing"), 0);
    assert_int_equal(comity_framework_handles("evidence"), 0);
}

/* The schemas the library publishes for clients (comity_framework_case_types)
 * are the ones it checks with: for every type, a body made from the schema
 * alone (each required field with a value of its kind) passes
 * comity_framework_check_body unless the type has a rule across fields;
 * each field one byte or item past its published limit, or an enum word
 * not listed, is refused naming the field; the preservation request lists
 * its six mandatory fields. */
static json_t *sample(const json_t *f, int over)
{
    const char *k = json_string_value(json_object_get(f, "kind"));
    json_int_t max = json_integer_value(json_object_get(f, "max"));
    if (!strcmp(k, "text")) {
        json_int_t n = over ? max + 1 : 1;
        char *b = malloc((size_t)n + 1);
        memset(b, 'x', (size_t)n);
        b[n] = 0;
        json_t *v = json_string(b);
        free(b);
        return v;
    }
    if (!strcmp(k, "time"))
        return json_string(over ? "2026-02-31T00:00:00Z" : "2026-12-01T00:00:00Z");
    if (!strcmp(k, "enum"))
        return over ? json_string("not-a-word")
                    : json_incref(json_array_get(json_object_get(f, "vocab"), 0));
    if (!strcmp(k, "true"))
        return over ? json_false() : json_true();
    if (!strcmp(k, "bool"))
        return over ? json_string("yes") : json_true();
    if (!strcmp(k, "int"))
        return json_integer(over ? max + 1 : json_integer_value(json_object_get(f, "min")));
    if (!strcmp(k, "sha256"))
        return json_string(over ? "ABC" : "0123456789abcdef0123456789abcdef"
                                          "0123456789abcdef0123456789abcdef");
    if (!strcmp(k, "party"))
        return json_string(over ? "Not A Party" : "pk.mofa");
    json_t *a = json_array();
    for (json_int_t i = 0; i < (over ? max + 1 : 1); i++)
        json_array_append_new(a, json_string(!strcmp(k, "parties") ? "pk.mofa" : "x"));
    return a;
}

static void test_schemas_published(void **state)
{
    (void)state;
    char *text = NULL;
    assert_int_equal(comity_framework_case_types(&text, E), COMITY_OK);
    json_t *j = json_loads(text, 0, NULL);
    comity_free(text);
    assert_non_null(j);
    size_t i, k, n;
    json_t *m, *t, *f;
    int types = 0, six = 0;
    json_array_foreach(json_object_get(j, "mechanisms"), i, m) {
        json_array_foreach(json_object_get(m, "types"), k, t) {
            const char *type = json_string_value(json_object_get(t, "name"));
            const char *mn = json_string_value(json_object_get(m, "name"));
            assert_int_equal(comity_framework_handles(type), 1);
            /* counted: this file's mechanisms (others are checked all the same) */
            types += !strcmp(mn, "consultation") || !strcmp(mn, "preservation") ||
                     !strcmp(mn, "mla") || !strcmp(mn, "emergency");
            json_t *body = json_object();
            json_array_foreach(json_object_get(t, "fields"), n, f)
                if (json_is_true(json_object_get(f, "required")))
                    json_object_set_new(body, json_string_value(json_object_get(f, "name")),
                                        sample(f, 0));
            char *s = json_dumps(body, JSON_COMPACT);
            if (!json_is_true(json_object_get(t, "more_rules")) &&
                comity_framework_check_body(type, s, strlen(s), E))
                fail_msg("%s %s: %s", type, s, tu_last_err.msg);
            free(s);
            json_array_foreach(json_object_get(t, "fields"), n, f) {
                const char *name = json_string_value(json_object_get(f, "name"));
                json_t *b = json_deep_copy(body);
                json_object_set_new(b, name, sample(f, 1));
                s = json_dumps(b, JSON_COMPACT);
                char needle[128];
                snprintf(needle, sizeof needle, "%s.body.%s", type, name);
                TU_FAILS(comity_framework_check_body(type, s, strlen(s), E),
                         COMITY_ERR_INVALID, needle);
                free(s);
                json_decref(b);
                if (!strcmp(type, "preservation-request") &&
                    json_is_true(json_object_get(f, "required")))
                    six++;
            }
            json_decref(body);
        }
    }
    assert_int_equal(types, 29); /* 11 + 6 + 7 + 5: evidence-close in each evidence mechanism */
    assert_int_equal(six, 6);
    json_decref(j);
}

static void test_schemas_refuse(void **state)
{
    (void)state;
    static const struct { const char *type, *body, *needle; } bad[] = {
        {"consult-request", "[]", "consult-request.body: want a JSON object"},
        {"consult-request", "{\"subject\":\"\",\"summary\":\"x\"}",
         "consult-request.body.subject: want a string of 1-256 bytes"},
        {"consult-request", "{\"subject\":\"x\",\"summary\":\"x\",\"format\":\"telepathy\"}",
         "consult-request.body.format: want one of in-person, video, phone or written"},
        {"consult-request", "{\"subject\":\"x\",\"summary\":\"x\",\"proposed_date\":\"tomorrow\"}",
         "consult-request.body.proposed_date: want an RFC 3339 time"},
        {"consult-propose", "{\"note\":\"later\"}", "consult-propose.body: want another date or format"},
        {"consult-accept", "{\"date\":\"2026-02-31T00:00:00Z\"}", "consult-accept.body.date: want an RFC 3339"},
        {"consult-agenda", "{\"items\":[]}", "consult-agenda.body.items: want an array of 1-64 texts"},
        {"consult-agenda", "{\"items\":[\"\"]}", "consult-agenda.body.items[0]: want a string"},
        {"consult-document", "{\"title\":\"t\"}", "consult-document.body: want the content, or the files"},
        {"consult-document", "{\"title\":\"t\",\"sha256\":\"ABC\"}", "consult-document.body.sha256: want 64 lowercase hex"},
        {"consult-document", "{\"title\":\"t\",\"content\":\"c\",\"size\":-1}", "consult-document.body.size: want an integer"},
        {"consult-meeting", "{\"date\":\"2026-12-20T10:00:00Z\",\"participants\":[\"Mr X\"]}",
         "consult-meeting.body.participants[0]: want a party name"},
        {"consult-meeting", "{\"date\":\"2026-12-20T10:00:00Z\",\"participants\":\"pk.mofa\"}",
         "consult-meeting.body.participants: want an array of 1-64 party names"},
        {"consult-close", "{\"outcome\":\"agreed-statement\"}", "consult-close.body.statement: an outcome agreed-statement needs the statement"},
        {"consult-close", "{\"outcome\":\"partial\"}", "consult-close.body.statement: an outcome partial needs"},
        {"consult-close", "{\"outcome\":\"victory\"}", "consult-close.body.outcome: want one of agreed-statement, partial, no-agreement or withdrawn"},
        {"consult-action", "{\"owner\":\"PK MOFA\",\"due\":\"2027-01-01T00:00:00Z\",\"what\":\"x\"}",
         "consult-action.body.owner: want a party name"},
        {"preservation-request",
         "{\"requesting_authority\":\"a\",\"offence\":\"b\",\"data\":\"c\",\"custodian\":\"d\","
         "\"necessity\":\"e\",\"mla_to_follow\":false}",
         "preservation-request.body.mla_to_follow: want true"},
        {"preservation-request",
         "{\"requesting_authority\":\"a\",\"offence\":\"b\",\"data\":\"c\",\"custodian\":\"d\","
         "\"necessity\":\"e\",\"mla_to_follow\":true,\"period_days\":30}",
         "preservation-request.body.period_days: want an integer 60-3650"},
        {"preservation-confirm", "{\"period_days\":59}", "preservation-confirm.body.period_days: want an integer 60-3650"},
        {"preservation-confirm", "{\"period_days\":\"60\"}", "preservation-confirm.body.period_days: want an integer"},
        {"preservation-refuse", "{\"grounds\":\"busy\",\"explanation\":\"x\"}",
         "preservation-refuse.body.grounds: want one of political-offence, essential-interests or dual-criminality"},
        {"preservation-refuse", "{\"grounds\":\"domestic-law\",\"explanation\":\"x\"}",
         "preservation-refuse.body.grounds: want one of"},
        {"preservation-extend", "{\"days\":0}", "preservation-extend.body.days: want an integer 1-3650"},
        {"preservation-disclose", "{\"providers\":[]}", "preservation-disclose.body.providers: want an array"},
        {"mla-request", "{\"requesting_authority\":\"a\",\"subject\":\"b\",\"facts\":\"c\","
                        "\"assistance\":\"d\",\"purpose\":\"e\",\"respond_by\":\"soon\"}",
         "mla-request.body.respond_by: want an RFC 3339 time"},
        {"mla-refuse", "{\"grounds\":\"busy\",\"explanation\":\"x\"}",
         "mla-refuse.body.grounds: want one of political-offence, essential-interests, dual-criminality or domestic-law"},
        {"mla-answer", "{\"text\":\"t\",\"size\":1.5}", "mla-answer.body.size: want an integer"},
        {"emergency-confirm", "{\"reference\":\"" "0123456789012345678901234567890123456789012345678901234567890123456789"
                              "0123456789012345678901234567890123456789012345678901234567890123456789\"}",
         "emergency-confirm.body.reference: want a string of 1-128 bytes"},
        {"emergency-request", "{\"requesting_authority\":\"a\",\"emergency\":\"b\",\"facts\":\"c\","
                              "\"assistance\":\"d\",\"oral_at\":1}",
         "emergency-request.body.oral_at: want an RFC 3339 time"},
        {"evidence-close", "{\"reason\":7}", "evidence-close.body.reason: want a string"},
    };
    for (size_t i = 0; i < CY_ARRAY_LEN(bad); i++)
        TU_FAILS(comity_framework_check_body(bad[i].type, bad[i].body,
                                             strlen(bad[i].body), E),
                 COMITY_ERR_INVALID, bad[i].needle);
}

/* ---- the core's envelope rules ---------------------------------------------------- */

static void test_envelope_rules(void **state)
{
    (void)state;
    comity_framework *fw;
    TU_OK(comity_framework_new(&fw, E));
    char id[128], c[128], x[160];
    const char *at = "2026-12-01T00:00:00.000Z";
    /* opening */
    TU_FAILS(ADD(PK_MOFA, "consult-request", at, NULL, "notification--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", B_CREQ, NULL),
             COMITY_ERR_INVALID, "consult-request.to: want the requested party first");
    TU_FAILS(ADD(PK_MOFA, "consult-request", at, "pk.fia", "notification--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", B_CREQ, NULL),
             COMITY_ERR_INVALID, "consult-request.to[0]: the requested party must be of another state than pk");
    TU_FAILS(ADD(PK_MOFA, "consult-request", at, "in.mea,in.cbi", "notification--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", B_CREQ, NULL),
             COMITY_ERR_INVALID, "consult-request.to[1]: in.cbi: the secretariat belongs to neither state");
    TU_FAILS(ADD(PK_MOFA, "consult-request", at, "in.mea,un.unoda", NULL, B_CREQ, NULL),
             COMITY_ERR_INVALID, "consult-request.refs: want the incident or message");
    TU_FAILS(ADD(PK_FIA, "preservation-request", at, "in.cbi,un.unoda", NULL, B_PRES, NULL),
             COMITY_ERR_INVALID, "preservation-request.to: want the requested party alone");
    TU_OK(ADD(PK_MOFA, "consult-request", at, "in,un.unoda", "notification--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", B_CREQ, c));
    /* a record fed twice */
    comity_record *r = mk(IN_MEA, "consult-agenda", at, "pk.mofa,un.unoda", c, B_AGENDA, false);
    TU_OK(comity_framework_add(fw, r, NULL, 0, E));
    TU_FAILS(comity_framework_add(fw, r, NULL, 0, E), COMITY_ERR_EXISTS, "was already fed");
    comity_record_free(r);
    /* refs */
    TU_FAILS(ADD(IN_MEA, "consult-accept", at, "pk.mofa,un.unoda", NULL, B_ACCEPT, NULL),
             COMITY_ERR_INVALID, "consult-accept.refs: want the case it belongs to first");
    TU_FAILS(ADD(IN_MEA, "consult-accept", at, "pk.mofa,un.unoda", "consult-request--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", B_ACCEPT, NULL),
             COMITY_ERR_NOTFOUND, "consult-accept.refs[0]: no case consult-request--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f is known to in.mea");
    /* a bare-state party: any office of it acts for it */
    snprintf(x, sizeof x, "%s", c);
    TU_FAILS(ADD(IN_MEA, "preservation-confirm", at, "pk.mofa,un.unoda", x, B_CONFIRM, NULL),
             COMITY_ERR_INVALID, "is a consultation case; preservation-confirm does not belong to it");
    /* to: every other party, no one else */
    TU_FAILS(ADD(IN_MEA, "consult-accept", at, "pk.mofa", c, B_ACCEPT, NULL),
             COMITY_ERR_INVALID, "consult-accept.to: must name un.unoda, a party of case");
    TU_FAILS(ADD(IN_MEA, "consult-accept", at, "pk.mofa,un.unoda,us.cisa", c, B_ACCEPT, NULL),
             COMITY_ERR_INVALID, "consult-accept.to[2]: us.cisa is not another party of case");
    TU_FAILS(ADD(IN_MEA, "consult-accept", at, "pk.mofa,un.unoda,in", c, B_ACCEPT, NULL),
             COMITY_ERR_INVALID, "consult-accept.to[2]: in is not another party");
    TU_FAILS(ADD(IN_MEA, "consult-accept", at, "pk,un.unoda", c, B_ACCEPT, NULL),
             COMITY_ERR_INVALID, "consult-accept.to[0]: pk is not another party");
    /* created before the opening */
    TU_FAILS(ADD(IN_MEA, "consult-accept", "2026-11-30T23:59:59.999Z", "pk.mofa,un.unoda", c, B_ACCEPT, NULL),
             COMITY_ERR_INVALID, "consult-accept.created: before case");
    /* an office of the bare state answers; the case names the bare state */
    TU_OK(ADD(IN_CERT, "consult-accept", at, "pk.mofa,un.unoda", c, B_ACCEPT, id));
    assert_string_equal(state_of(fw, c), "accepted");
    /* a body that breaks its schema is refused before any rule */
    TU_FAILS(ADD(IN_MEA, "consult-meeting", at, "pk.mofa,un.unoda", c, "{\"date\":\"x\"}", NULL),
             COMITY_ERR_INVALID, "consult-meeting.body.date: want an RFC 3339 time");
    TU_FAILS(ADD(IN_MEA, "consult-meeting", at, "pk.mofa,un.unoda", c,
                 "{\"date\":\"2026-12-20T10:00:00Z\",\"participants\":[\"us.cisa\"]}", NULL),
             COMITY_ERR_INVALID, "consult-meeting.body.participants[0]: us.cisa is an office of no party");
    comity_framework_free(fw);
}

/* ---- every transition --------------------------------------------------------------- */

typedef struct allow { const char *state, *type; unsigned who; } allow;
enum { RQ = 1, RD = 2, SEC = 4 }; /* requester, requested, secretariat */

typedef struct mech_t {
    const char *opens, *open_body;
    int req, red;          /* requester and requested */
    bool third;            /* un.unoda as secretariat */
    const char *const *states;
    const char *const *types; /* the types after the opening */
    const allow *allowed;
} mech_t;

static const char *body_of(const char *type)
{
    for (size_t i = 0; i < CY_ARRAY_LEN(valid); i++)
        if (strcmp(valid[i].type, type) == 0)
            return valid[i].body;
    fail_msg("no body for %s", type);
    return NULL;
}

static const char *const c_states[] = {"requested", "countered", "declined",
                                       "good-offices", "accepted", "met",
                                       "closed", NULL};
static const char *const c_types[] = {
    "consult-accept", "consult-propose", "consult-decline", "consult-good-offices",
    "consult-agenda", "consult-document", "consult-meeting", "consult-close",
    "consult-action", "consult-action-done", NULL};
static const allow c_allowed[] = {
    {"requested", "consult-accept", RD}, {"good-offices", "consult-accept", RD},
    {"countered", "consult-accept", RQ},
    {"requested", "consult-propose", RD}, {"countered", "consult-propose", RQ},
    {"requested", "consult-decline", RD}, {"good-offices", "consult-decline", RD},
    {"requested", "consult-good-offices", SEC}, {"countered", "consult-good-offices", SEC},
    {"declined", "consult-good-offices", SEC},
    {"requested", "consult-agenda", RQ | RD}, {"countered", "consult-agenda", RQ | RD},
    {"declined", "consult-agenda", RQ | RD}, {"good-offices", "consult-agenda", RQ | RD},
    {"accepted", "consult-agenda", RQ | RD}, {"met", "consult-agenda", RQ | RD},
    {"requested", "consult-document", RQ | RD}, {"countered", "consult-document", RQ | RD},
    {"declined", "consult-document", RQ | RD}, {"good-offices", "consult-document", RQ | RD},
    {"accepted", "consult-document", RQ | RD}, {"met", "consult-document", RQ | RD},
    {"accepted", "consult-meeting", RQ | RD | SEC}, {"met", "consult-meeting", RQ | RD | SEC},
    {"accepted", "consult-close", RQ | RD}, {"met", "consult-close", RQ | RD},
    {"requested", "consult-close", RQ}, {"countered", "consult-close", RQ},
    {"declined", "consult-close", RQ}, {"good-offices", "consult-close", RQ},
    {"met", "consult-action", RQ | RD}, {"closed", "consult-action", RQ | RD},
    /* only the action's owner (pk.mofa, the requester here) */
    {"met", "consult-action-done", RQ}, {"closed", "consult-action-done", RQ},
    {NULL, NULL, 0}};

static const char *const p_states[] = {"requested", "preserved", "followed-up",
                                       "refused", "closed", NULL};
static const char *const p_types[] = {"preservation-confirm", "preservation-refuse",
                                      "preservation-extend", "preservation-disclose",
                                      "evidence-close", NULL};
static const allow p_allowed[] = {
    {"requested", "preservation-confirm", RD}, {"requested", "preservation-refuse", RD},
    {"preserved", "preservation-extend", RD},
    {"preserved", "preservation-disclose", RD}, {"followed-up", "preservation-disclose", RD},
    {"requested", "evidence-close", RQ}, {"preserved", "evidence-close", RQ},
    {"followed-up", "evidence-close", RQ}, {NULL, NULL, 0}};

static const char *const m_states[] = {"requested", "partial", "info-requested",
                                       "answered", "refused", "closed", NULL};
static const char *const m_types[] = {"mla-partial", "mla-answer", "mla-more-info",
                                      "mla-info", "mla-refuse", "evidence-close", NULL};
static const allow m_allowed[] = {
    {"requested", "mla-partial", RD}, {"partial", "mla-partial", RD},
    {"requested", "mla-answer", RD}, {"partial", "mla-answer", RD},
    {"requested", "mla-more-info", RD}, {"partial", "mla-more-info", RD},
    {"info-requested", "mla-info", RQ},
    {"requested", "mla-refuse", RD}, {"partial", "mla-refuse", RD},
    {"info-requested", "mla-refuse", RD},
    {"requested", "evidence-close", RQ}, {"partial", "evidence-close", RQ},
    {"info-requested", "evidence-close", RQ}, {NULL, NULL, 0}};

static const char *const e_states[] = {"requested", "confirmed", "answered",
                                       "done", "refused", "closed", NULL};
static const char *const e_types[] = {"emergency-confirm", "emergency-answer",
                                      "emergency-refuse", "evidence-close", NULL};
static const allow e_allowed[] = {
    {"requested", "emergency-confirm", RQ}, {"answered", "emergency-confirm", RQ},
    {"requested", "emergency-answer", RD}, {"confirmed", "emergency-answer", RD},
    {"requested", "emergency-refuse", RD}, {"confirmed", "emergency-refuse", RD},
    {"requested", "evidence-close", RQ}, {"confirmed", "evidence-close", RQ},
    {"answered", "evidence-close", RQ}, {NULL, NULL, 0}};

/* Paths to each state: records (type, role) after the opening. */
typedef struct step { const char *type; unsigned role; } step;
static const struct { const char *opens, *state; step path[4]; } paths[] = {
    {"consult-request", "requested", {{0}}},
    {"consult-request", "countered", {{"consult-propose", RD}}},
    {"consult-request", "declined", {{"consult-decline", RD}}},
    {"consult-request", "good-offices", {{"consult-good-offices", SEC}}},
    {"consult-request", "accepted", {{"consult-accept", RD}}},
    {"consult-request", "met", {{"consult-accept", RD}, {"consult-meeting", SEC}, {"consult-action", RQ}}},
    {"consult-request", "closed", {{"consult-accept", RD}, {"consult-meeting", RQ}, {"consult-action", RQ}, {"consult-close", RD}}},
    {"preservation-request", "requested", {{0}}},
    {"preservation-request", "preserved", {{"preservation-confirm", RD}}},
    {"preservation-request", "followed-up", {{"preservation-confirm", RD}, {"mla-request", RQ}}},
    {"preservation-request", "refused", {{"preservation-refuse", RD}}},
    {"preservation-request", "closed", {{"evidence-close", RQ}}},
    {"mla-request", "requested", {{0}}},
    {"mla-request", "partial", {{"mla-partial", RD}}},
    {"mla-request", "info-requested", {{"mla-more-info", RD}}},
    {"mla-request", "answered", {{"mla-answer", RD}}},
    {"mla-request", "refused", {{"mla-refuse", RD}}},
    {"mla-request", "closed", {{"evidence-close", RQ}}},
    {"emergency-request", "requested", {{0}}},
    {"emergency-request", "confirmed", {{"emergency-confirm", RQ}}},
    {"emergency-request", "answered", {{"emergency-answer", RD}}},
    {"emergency-request", "done", {{"emergency-answer", RD}, {"emergency-confirm", RQ}}},
    {"emergency-request", "refused", {{"emergency-refuse", RD}}},
    {"emergency-request", "closed", {{"evidence-close", RQ}}},
};

static int who_of(const mech_t *m, unsigned role)
{
    return role == RQ ? m->req : role == RD ? m->red : UN;
}

/* "a,b": every party of the case but `who`. */
static const char *to_of(const mech_t *m, int who, char *buf)
{
    buf[0] = 0;
    int ps[3] = {m->req, m->red, m->third ? UN : -1};
    for (int i = 0; i < 3; i++)
        if (ps[i] >= 0 && ps[i] != who)
            snprintf(buf + strlen(buf), 128, "%s%s", buf[0] ? "," : "", names[ps[i]]);
    return buf;
}

/* A fresh handle with a case of m in `st`; *case_id and *action (the id of
 * a follow-up action, or the case id) are filled. */
static comity_framework *reach(const mech_t *m, const char *st, char *case_id,
                               char *action)
{
    comity_framework *fw;
    TU_OK(comity_framework_new(&fw, E));
    char to[128];
    const char *at = "2026-12-01T00:00:00.000Z";
    TU_OK(ADD(m->req, m->opens, at, to_of(m, m->req, to),
              "notification--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", m->open_body, case_id));
    snprintf(action, 128, "notification--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f");
    for (size_t i = 0; i < CY_ARRAY_LEN(paths); i++) {
        if (strcmp(paths[i].opens, m->opens) || strcmp(paths[i].state, st))
            continue;
        for (size_t k = 0; k < 4 && paths[i].path[k].type; k++) {
            const step *s = &paths[i].path[k];
            int who = who_of(m, s->role);
            char id[128];
            if (!strcmp(s->type, "mla-request")) /* a new case following it up */
                TU_OK(ADD(who, s->type, "2026-12-01T01:00:00.000Z", names[m->red],
                          case_id, B_MLA, id));
            else
                TU_OK(ADD(who, s->type, "2026-12-01T01:00:00.000Z", to_of(m, who, to),
                          case_id, body_of(s->type), id));
            if (!strcmp(s->type, "consult-action"))
                snprintf(action, 128, "%s", id);
        }
        assert_string_equal(state_of(fw, case_id), st);
        return fw;
    }
    fail_msg("no path to %s %s", m->opens, st);
    return NULL;
}

static void transitions(const mech_t *m)
{
    for (size_t s = 0; m->states[s]; s++) {
        for (size_t t = 0; m->types[t]; t++) {
            unsigned ok = 0, any = 0;
            for (const allow *a = m->allowed; a->state; a++)
                if (!strcmp(a->state, m->states[s]) && !strcmp(a->type, m->types[t]))
                    ok |= a->who;
            for (const allow *a = m->allowed; a->state; a++)
                if (!strcmp(a->state, m->states[s]) && !strcmp(a->type, m->types[t]))
                    any = 1;
            /* consult-action-done: the table lets every party send it;
             * the owner rule then denies the others */
            if (!strcmp(m->types[t], "consult-action-done") && ok)
                any = 1;
            for (unsigned role = RQ; role <= SEC; role <<= 1) {
                if (role == SEC && !m->third)
                    continue;
                char c[128], action[128], to[128], refs[300];
                comity_framework *fw = reach(m, m->states[s], c, action);
                int who = who_of(m, role);
                if (!strcmp(m->types[t], "consult-action-done"))
                    snprintf(refs, sizeof refs, "%s,%s", c, action);
                else
                    snprintf(refs, sizeof refs, "%s", c);
                comity_err rc = ADD(who, m->types[t], "2026-12-01T02:00:00.000Z",
                                    to_of(m, who, to), refs, body_of(m->types[t]), NULL);
                comity_err want = (ok & role) ? COMITY_OK
                                  : any ? COMITY_ERR_DENIED : COMITY_ERR_CONFLICT;
                if (rc != want)
                    fail_msg("%s case %s: %s by %s: want %s, got %s (%s)", m->opens,
                             m->states[s], m->types[t], names[who],
                             comity_strerror(want), comity_strerror(rc), tu_last_err.msg);
                if (want == COMITY_ERR_CONFLICT) {
                    char needle[160];
                    snprintf(needle, sizeof needle, "%s: case %s is %s; %s may send",
                             m->types[t], c, m->states[s], names[who]);
                    tu_check_msg("conflict", needle);
                } else if (want == COMITY_ERR_DENIED) {
                    tu_check_msg("denied", "only the");
                }
                comity_framework_free(fw);
            }
        }
    }
}

static void test_transitions_consultation(void **state)
{
    (void)state;
    mech_t m = {"consult-request", B_CREQ, PK_MOFA, IN_MEA, true, c_states, c_types, c_allowed};
    transitions(&m);
}

static void test_transitions_evidence(void **state)
{
    (void)state;
    mech_t p = {"preservation-request", B_PRES, PK_FIA, IN_CBI, false, p_states, p_types, p_allowed};
    transitions(&p);
    mech_t ml = {"mla-request", B_MLA, PK_FIA, IN_CBI, false, m_states, m_types, m_allowed};
    transitions(&ml);
    mech_t e = {"emergency-request", B_EMERG, PK_FIA, IN_CBI, false, e_states, e_types, e_allowed};
    transitions(&e);
}

/* The messages of refusals name the rule. */
static void test_refusal_messages(void **state)
{
    (void)state;
    comity_framework *fw;
    TU_OK(comity_framework_new(&fw, E));
    char c[128];
    const char *at = "2026-12-01T00:00:00.000Z";
    TU_OK(ADD(PK_MOFA, "consult-request", at, "in.mea,un.unoda",
              "notification--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", B_CREQ, c));
    TU_FAILS(ADD(PK_MOFA, "consult-accept", at, "in.mea,un.unoda", c, B_ACCEPT, NULL),
             COMITY_ERR_DENIED, "when case");
    tu_check_msg("accept", "is requested, only the requested (in.mea) may send it");
    TU_OK(ADD(IN_MEA, "consult-decline", at, "pk.mofa,un.unoda", c, B_DECLINE, NULL));
    TU_FAILS(ADD(IN_MEA, "consult-accept", at, "pk.mofa,un.unoda", c, B_ACCEPT, NULL),
             COMITY_ERR_CONFLICT, "is declined; in.mea may send consult-agenda, consult-document");
    TU_FAILS(ADD(UN, "consult-agenda", at, "pk.mofa,in.mea", c, B_AGENDA, NULL),
             COMITY_ERR_DENIED, "only the requester (pk.mofa) or the requested (in.mea) may send it");
    /* after close nothing but follow-up actions */
    TU_OK(ADD(PK_MOFA, "consult-close", at, "in.mea,un.unoda", c,
              "{\"outcome\":\"withdrawn\"}", NULL));
    TU_FAILS(ADD(PK_MOFA, "consult-close", at, "in.mea,un.unoda", c, B_CLOSE, NULL),
             COMITY_ERR_CONFLICT, "is closed; pk.mofa may send consult-action, consult-action-done");
    comity_framework_free(fw);
}

/* ---- clocks --------------------------------------------------------------------------- */

static void test_clocks_preservation(void **state)
{
    (void)state;
    comity_framework *fw;
    TU_OK(comity_framework_new(&fw, E));
    char p[128], id[128];
    int od, run;
    int64_t t0 = T("2026-12-01T00:00:00Z");
    TU_OK(ADD(PK_FIA, "preservation-request", "2026-12-01T00:00:00.000Z", "in.cbi", NULL, B_PRES, p));
    /* the answer: 24 hours (default); at the due millisecond not overdue */
    assert_int_equal(clock_of(fw, p, "answer", t0 + DAY, &od, &run), t0 + DAY);
    assert_false(od);
    clock_of(fw, p, "answer", t0 + DAY + 1, &od, &run);
    assert_true(od);
    /* confirmed late (still counts): the 60-day clock for the MLA request */
    TU_OK(ADD(IN_CBI, "preservation-confirm", "2026-12-02T06:00:00.000Z", "pk.fia", p, B_CONFIRM, NULL));
    int64_t tc = T("2026-12-02T06:00:00Z");
    clock_of(fw, p, "answer", tc + 100 * DAY, &od, &run);
    assert_false(od);
    assert_false(run);
    assert_int_equal(clock_of(fw, p, "mla-request", tc + 60 * DAY, &od, &run), tc + 60 * DAY);
    assert_false(od);
    assert_true(run);
    clock_of(fw, p, "mla-request", tc + 60 * DAY + 1, &od, NULL);
    assert_true(od);
    /* both sides see it in their list of open cases */
    for (int who = PK_FIA; who <= IN_CBI; who++) {
        char *json;
        TU_OK(comity_framework_cases(fw, names[who], tc + 60 * DAY + 1, &json, E));
        json_t *j = parse(json);
        json_t *c = json_array_get(json_object_get(j, "cases"), 0);
        assert_string_equal(json_string_value(json_object_get(c, "id")), p);
        assert_true(json_is_true(json_object_get(c, "overdue")));
        assert_string_equal(json_string_value(json_object_get(c, "due")), "2027-01-31T06:00:00.000Z");
        json_t *k = json_array_get(json_object_get(c, "clocks"), 0);
        assert_string_equal(json_string_value(json_object_get(k, "name")), "mla-request");
        assert_string_equal(json_string_value(json_object_get(k, "who")), "pk.fia");
        assert_string_equal(json_string_value(json_object_get(c, "role")),
                            who == PK_FIA ? "requester" : "requested");
        json_decref(j);
    }
    /* an extension of 30 days, then one whose length is sealed (the
     * profile's default, 60 days) */
    TU_OK(ADD(IN_CBI, "preservation-extend", "2027-01-20T00:00:00.000Z", "pk.fia", p, B_EXTEND, NULL));
    assert_int_equal(clock_of(fw, p, "mla-request", 0, NULL, NULL), tc + 90 * DAY);
    TU_OK(ADDS(IN_CBI, "preservation-extend", "2027-01-21T00:00:00.000Z", "pk.fia", p, B_EXTEND, NULL));
    assert_int_equal(clock_of(fw, p, "mla-request", 0, NULL, NULL), tc + 150 * DAY);
    /* a configured table applies to cases already fed */
    TU_OK(comity_framework_set_case_deadline(fw, "budapest", "preservation", 90 * DAY, E));
    assert_int_equal(clock_of(fw, p, "mla-request", 0, NULL, NULL), tc + 180 * DAY);
    /* the MLA request follows it up: the clock stops */
    TU_OK(ADD(PK_MOFA, "mla-request", "2027-02-01T00:00:00.000Z", "in.mea", p, B_MLA, id));
    assert_string_equal(state_of(fw, p), "followed-up");
    clock_of(fw, p, "mla-request", tc + 400 * DAY, &od, &run);
    assert_false(od);
    assert_false(run);
    json_t *j = case_view(fw, p, "pk.fia", 0);
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "facts"), "mla")), id);
    json_decref(j);
    /* a period the requested state gives: at least 60 days */
    char q[128];
    TU_OK(ADD(PK_FIA, "preservation-request", "2026-12-01T00:00:00.000Z", "in.cbi", NULL, B_PRES, q));
    TU_OK(ADD(IN_CBI, "preservation-confirm", "2026-12-01T01:00:00.000Z", "pk.fia", q, "{\"period_days\":120}", NULL));
    assert_int_equal(clock_of(fw, q, "mla-request", 0, NULL, NULL), t0 + HOUR + 120 * DAY);
    /* an MLA request between other states does not follow it up */
    TU_OK(ADD(PK_FIA, "mla-request", "2027-02-01T00:00:00.000Z", "us.cisa", q, B_MLA, NULL));
    assert_string_equal(state_of(fw, q), "preserved");
    comity_framework_free(fw);
}

static void test_clocks_profiles(void **state)
{
    (void)state;
    comity_framework *fw;
    TU_OK(comity_framework_new(&fw, E));
    TU_FAILS(comity_framework_set_treaty(fw, "pk", "in", "hague", E), COMITY_ERR_USAGE, "want budapest");
    TU_FAILS(comity_framework_set_treaty(fw, "pk.mofa", "in", "eu", E), COMITY_ERR_USAGE, "two state codes");
    TU_FAILS(comity_framework_set_case_deadline(fw, "eu", "coffee", HOUR, E), COMITY_ERR_USAGE, "no case deadline");
    TU_FAILS(comity_framework_set_case_deadline(fw, "eu", "mla-answer", 0, E), COMITY_ERR_USAGE, "positive");
    TU_FAILS(comity_framework_set_case_deadline(fw, "mars", "mla-answer", HOUR, E), COMITY_ERR_USAGE, "profile");
    TU_OK(comity_framework_set_treaty(fw, "in", "pk", "eu", E));
    int64_t t0 = T("2026-12-01T00:00:00Z");
    char e[128], m[128], u[128];
    /* EU figures: an emergency answered within 8 hours, MLA within 10 days */
    TU_OK(ADD(PK_FIA, "emergency-request", "2026-12-01T00:00:00.000Z", "in.cbi", NULL, B_EMERG, e));
    assert_int_equal(clock_of(fw, e, "answer", 0, NULL, NULL), t0 + 8 * HOUR);
    assert_int_equal(clock_of(fw, e, "written-confirmation", 0, NULL, NULL), t0 + 72 * HOUR);
    TU_OK(ADD(PK_FIA, "mla-request", "2026-12-01T00:00:00.000Z", "in.cbi", NULL, B_MLA, m));
    assert_int_equal(clock_of(fw, m, "answer", 0, NULL, NULL), t0 + 10 * DAY);
    json_t *j = case_view(fw, m, NULL, 0);
    assert_string_equal(json_string_value(json_object_get(j, "profile")), "eu");
    json_decref(j);
    /* no treaty named: Budapest defaults; the UN one when configured */
    TU_OK(ADD(PK_FIA, "emergency-request", "2026-12-01T00:00:00.000Z", "us.cisa", NULL, B_EMERG, u));
    assert_int_equal(clock_of(fw, u, "answer", 0, NULL, NULL), t0 + 24 * HOUR);
    TU_OK(comity_framework_set_treaty(fw, "pk", "us", "un", E));
    TU_OK(comity_framework_set_case_deadline(fw, "un", "emergency-confirmation", 48 * HOUR, E));
    /* the profile is fixed at opening; the table is read when asked */
    assert_int_equal(clock_of(fw, u, "written-confirmation", 0, NULL, NULL), t0 + 72 * HOUR);
    TU_OK(comity_framework_set_case_deadline(fw, NULL, "emergency-confirmation", 36 * HOUR, E));
    assert_int_equal(clock_of(fw, u, "written-confirmation", 0, NULL, NULL), t0 + 36 * HOUR);
    comity_framework_free(fw);
}

static void test_clocks_emergency_and_mla(void **state)
{
    (void)state;
    comity_framework *fw;
    TU_OK(comity_framework_new(&fw, E));
    int64_t t0 = T("2026-12-01T00:00:00Z");
    char e[128], m[128];
    int od, run;
    TU_OK(ADD(PK_FIA, "emergency-request", "2026-12-01T00:00:00.000Z", "in.cbi", NULL, B_EMERG, e));
    clock_of(fw, e, "written-confirmation", t0 + 72 * HOUR, &od, NULL);
    assert_false(od);
    clock_of(fw, e, "written-confirmation", t0 + 72 * HOUR + 1, &od, NULL);
    assert_true(od);
    TU_OK(ADD(IN_CBI, "emergency-answer", "2026-12-01T05:00:00.000Z", "pk.fia", e, B_ANSWER, NULL));
    clock_of(fw, e, "answer", t0 + 30 * HOUR, &od, &run);
    assert_false(od);
    assert_false(run);
    clock_of(fw, e, "written-confirmation", t0 + 73 * HOUR, &od, &run);
    assert_true(od);
    assert_true(run);
    TU_OK(ADD(PK_FIA, "emergency-confirm", "2026-12-04T02:00:00.000Z", "in.cbi", e, B_ECONFIRM, NULL));
    assert_string_equal(state_of(fw, e), "done");
    char *json;
    TU_OK(comity_framework_cases(fw, "pk.fia", t0 + 100 * HOUR, &json, E));
    json_t *j = parse(json);
    assert_int_equal(json_array_size(json_object_get(j, "cases")), 0);
    json_decref(j);
    /* MLA: more information stops the answer clock and starts the
     * requester's; the answer clock starts again when it comes */
    TU_OK(ADD(PK_FIA, "mla-request", "2026-12-01T00:00:00.000Z", "in.cbi", NULL, B_MLA, m));
    assert_int_equal(clock_of(fw, m, "answer", 0, NULL, NULL), t0 + 45 * DAY);
    TU_OK(ADD(IN_CBI, "mla-partial", "2026-12-05T00:00:00.000Z", "pk.fia", m, B_ANSWER, NULL));
    assert_int_equal(clock_of(fw, m, "answer", 0, &od, &run), t0 + 45 * DAY);
    assert_true(run);
    TU_OK(ADD(IN_CBI, "mla-more-info", "2026-12-06T00:00:00.000Z", "pk.fia", m, B_MORE, NULL));
    clock_of(fw, m, "answer", t0 + 100 * DAY, &od, &run);
    assert_false(run);
    assert_false(od);
    assert_int_equal(clock_of(fw, m, "more-info", 0, NULL, NULL), t0 + 5 * DAY + 30 * DAY);
    TU_OK(ADD(PK_FIA, "mla-info", "2026-12-10T00:00:00.000Z", "in.cbi", m, B_INFO, NULL));
    assert_int_equal(clock_of(fw, m, "answer", 0, NULL, &run), t0 + 9 * DAY + 45 * DAY);
    assert_true(run);
    clock_of(fw, m, "more-info", t0 + 100 * DAY, &od, &run);
    assert_false(run);
    assert_false(od);
    comity_framework_free(fw);
}

static void test_consultation_story(void **state)
{
    (void)state;
    comity_framework *fw;
    TU_OK(comity_framework_new(&fw, E));
    /* the directory says who is a technical and who a diplomatic contact */
    TU_OK(ADD(PK_CERT, "poc", "2026-11-01T00:00:00.000Z", NULL, NULL,
              "{\"kind\":\"technical\",\"party\":\"pk.pkcert\",\"organisation\":\"PKCERT\","
              "\"channels\":[{\"type\":\"comity\",\"value\":\"pk.pkcert\"}],\"time_zone\":\"Asia/Karachi\","
              "\"languages\":[\"en\"],\"valid_from\":\"2026-01-01T00:00:00Z\"}", NULL));
    TU_OK(ADD(PK_MOFA, "poc", "2026-11-01T00:00:00.000Z", NULL, NULL,
              "{\"kind\":\"diplomatic\",\"party\":\"pk.mofa\",\"organisation\":\"MOFA\","
              "\"channels\":[{\"type\":\"comity\",\"value\":\"pk.mofa\"}],\"time_zone\":\"Asia/Karachi\","
              "\"languages\":[\"en\"],\"valid_from\":\"2026-01-01T00:00:00Z\"}", NULL));
    char n1[128], n2[128], c[128], refs[300], a1[128], a2[128], x[300];
    TU_OK(ADD(PK_CERT, "notification", "2026-11-20T00:00:00.000Z", "in.cert-in", NULL,
              "{\"severity\":4,\"sector\":\"energy\",\"summary\":\"grid hit\"}", n1));
    TU_OK(ADD(PK_MOFA, "request", "2026-11-25T00:00:00.000Z", "in.mea", n1,
              "{\"kind\":\"mitigation\",\"norm\":\"13c\",\"asked\":\"stop it\"}", n2));
    snprintf(refs, sizeof refs, "%s,%s", n1, n2);
    /* sealed by default: to the parties and the secretariat */
    TU_OK(ADDS(PK_MOFA, "consult-request", "2026-12-01T00:00:00.000Z", "in.mea,un.unoda", refs, B_CREQ, c));
    int64_t t0 = T("2026-12-01T00:00:00Z");
    int od;
    assert_int_equal(clock_of(fw, c, "answer", t0 + 14 * DAY, &od, NULL), t0 + 14 * DAY);
    assert_false(od);
    clock_of(fw, c, "answer", t0 + 14 * DAY + 1, &od, NULL);
    assert_true(od);
    /* the ladder: technical and diplomatic contact reached, then this */
    json_t *j = case_view(fw, c, "un.unoda", t0);
    json_t *l = json_object_get(j, "ladder");
    assert_string_equal(json_string_value(json_object_get(l, "rung")), "consultations");
    json_t *steps = json_object_get(l, "steps");
    assert_string_equal(json_string_value(json_object_get(json_array_get(steps, 0), "rung")), "technical-contact");
    assert_string_equal(json_string_value(json_array_get(json_object_get(json_array_get(steps, 0), "records"), 0)), n1);
    assert_string_equal(json_string_value(json_array_get(json_object_get(json_array_get(steps, 1), "records"), 0)), n2);
    assert_true(json_is_false(json_object_get(json_array_get(steps, 3), "reached")));
    /* the node cannot read the sealed body: the thread shows no body */
    assert_true(json_is_true(json_object_get(j, "sealed")));
    assert_true(json_is_null(json_object_get(json_array_get(json_object_get(j, "thread"), 0), "body")));
    assert_string_equal(json_string_value(json_object_get(j, "role")), "secretariat");
    json_decref(j);
    /* a sealed case takes only sealed records */
    TU_FAILS(ADD(IN_MEA, "consult-decline", "2026-12-02T00:00:00.000Z", "pk.mofa,un.unoda", c, B_DECLINE, NULL),
             COMITY_ERR_INVALID, "consult-decline.tlp: case");
    TU_OK(ADDS(IN_MEA, "consult-decline", "2026-12-02T00:00:00.000Z", "pk.mofa,un.unoda", c, B_DECLINE, NULL));
    TU_OK(ADDS(UN, "consult-good-offices", "2026-12-03T00:00:00.000Z", "pk.mofa,in.mea", c, B_GOOD, NULL));
    /* good offices: the requested state is asked again, 14 days */
    assert_int_equal(clock_of(fw, c, "answer", 0, NULL, NULL), t0 + 2 * DAY + 14 * DAY);
    TU_OK(ADDS(IN_MEA, "consult-accept", "2026-12-04T00:00:00.000Z", "pk.mofa,un.unoda", c, B_ACCEPT, NULL));
    TU_OK(ADDS(PK_MOFA, "consult-agenda", "2026-12-05T00:00:00.000Z", "in.mea,un.unoda", c, B_AGENDA, NULL));
    TU_OK(ADDS(IN_MEA, "consult-document", "2026-12-06T00:00:00.000Z", "pk.mofa,un.unoda", c, B_DOC, NULL));
    TU_OK(ADDS(UN, "consult-meeting", "2026-12-20T12:00:00.000Z", "pk.mofa,in.mea", c, B_MEET, NULL));
    TU_OK(ADDS(PK_MOFA, "consult-close", "2026-12-21T00:00:00.000Z", "in.mea,un.unoda", c, B_CLOSE, NULL));
    /* follow-up actions: a party that can open the bodies feeds them (the
     * library takes the opened body); here they travel in a copy of the
     * handle fed with clear bodies too */
    /* sealed, body not given: its owner is not read (and not checked) */
    TU_OK(feed(fw, mk(PK_MOFA, "consult-action", "2026-12-21T01:00:00.000Z", "in.mea,un.unoda", c,
                      "{\"owner\":\"us.cisa\",\"due\":\"2027-01-15T00:00:00Z\",\"what\":\"x\"}", true), NULL));
    {
        comity_record *r = mk(PK_MOFA, "consult-action", "2026-12-21T02:00:00.000Z", "in.mea,un.unoda", c, B_ACTION, true);
        const char *bad1 = "{\"owner\":\"us.cisa\",\"due\":\"2027-01-15T00:00:00Z\",\"what\":\"x\"}";
        const char *bad2 = "{\"owner\":\"pk.mofa\",\"due\":\"2026-12-21T02:00:00Z\",\"what\":\"x\"}";
        TU_FAILS(comity_framework_add(fw, r, bad1, strlen(bad1), E),
                 COMITY_ERR_INVALID, "consult-action.body.owner: us.cisa is an office of no party");
        TU_FAILS(comity_framework_add(fw, r, bad2, strlen(bad2), E),
                 COMITY_ERR_INVALID, "consult-action.body.due: want a time after");
        TU_OK(comity_framework_add(fw, r, B_ACTION, strlen(B_ACTION), E));
        snprintf(a1, sizeof a1, "%s", comity_record_id(r));
        comity_record_free(r);
        r = mk(IN_MEA, "consult-action", "2026-12-21T03:00:00.000Z", "pk.mofa,un.unoda", c, B_ACTION, true);
        const char *b2 = "{\"owner\":\"in\",\"due\":\"2027-01-10T00:00:00Z\",\"what\":\"take servers down\"}";
        TU_OK(comity_framework_add(fw, r, b2, strlen(b2), E));
        snprintf(a2, sizeof a2, "%s", comity_record_id(r));
        comity_record_free(r);
    }
    /* closed, yet listed while an action is pending; overdue at the edge */
    int64_t due2 = T("2027-01-10T00:00:00Z");
    for (int pass = 0; pass < 2; pass++) {
        char *json;
        TU_OK(comity_framework_cases(fw, "in.mea", due2 + pass, &json, E));
        j = parse(json);
        json_t *cs = json_object_get(j, "cases");
        assert_int_equal(json_array_size(cs), 1);
        json_t *it = json_array_get(cs, 0);
        assert_string_equal(json_string_value(json_object_get(it, "state")), "closed");
        assert_string_equal(json_string_value(json_object_get(it, "due")), "2027-01-10T00:00:00.000Z");
        assert_int_equal(json_is_true(json_object_get(it, "overdue")), pass);
        json_decref(j);
    }
    /* only the owner (an office of the owning state) says it is done */
    snprintf(x, sizeof x, "%s,%s", c, a2);
    TU_FAILS(ADDS(PK_MOFA, "consult-action-done", "2027-01-11T00:00:00.000Z", "in.mea,un.unoda", x, B_NOTE, NULL),
             COMITY_ERR_DENIED, "only the action's owner in may say it is done");
    TU_OK(ADDS(IN_MEA, "consult-action-done", "2027-01-11T00:00:00.000Z", "pk.mofa,un.unoda", x, B_NOTE, NULL));
    TU_FAILS(ADDS(IN_MEA, "consult-action-done", "2027-01-11T00:00:00.000Z", "pk.mofa,un.unoda", x, B_NOTE, NULL),
             COMITY_ERR_CONFLICT, "is already done");
    snprintf(x, sizeof x, "%s,%s", c, n1);
    TU_FAILS(ADDS(IN_MEA, "consult-action-done", "2027-01-11T00:00:00.000Z", "pk.mofa,un.unoda", x, B_NOTE, NULL),
             COMITY_ERR_INVALID, "consult-action-done.refs[1]: want a follow-up action");
    j = case_view(fw, c, "pk.mofa", due2 + 1);
    l = json_object_get(j, "ladder");
    assert_string_equal(json_string_value(json_object_get(l, "rung")), "good-offices");
    json_t *tasks = json_object_get(j, "tasks");
    assert_int_equal(json_array_size(tasks), 3);
    json_t *t2 = json_array_get(tasks, 2);
    assert_string_equal(json_string_value(json_object_get(t2, "owner")), "in");
    assert_string_equal(json_string_value(json_object_get(t2, "done")), "2027-01-11T00:00:00.000Z");
    /* the action whose body was not given: owner and due unknown */
    assert_true(json_is_null(json_object_get(json_array_get(tasks, 0), "owner")));
    assert_true(json_is_null(json_object_get(json_array_get(tasks, 0), "due")));
    assert_int_equal(json_array_size(json_object_get(j, "thread")), 12);
    /* next: what pk.mofa may send now */
    json_t *next = json_object_get(j, "next");
    assert_int_equal(json_array_size(next), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(next, 0), "type")), "consult-action");
    json_decref(j);
    (void)a1;
    comity_framework_free(fw);
}

/* ---- who sees what ---------------------------------------------------------------------- */

/* The core's late parties (case-join, case-admit): a mechanism that does
 * not let anyone join (no may_join: consultations) answers a request as
 * it answers one about a case that does not exist, and an admission needs
 * a pending request.  The transitions themselves are tested with the
 * mechanism that takes late parties (test_spyware.c, test_late_join). */
static void test_late_party_refused(void **state)
{
    (void)state;
    comity_framework *fw;
    TU_OK(comity_framework_new(&fw, E));
    char c[128], fake[128], refs[300], msg1[COMITY_ERRMSG_MAX];
    TU_OK(ADDS(PK_MOFA, "consult-request", "2026-12-01T00:00:00.000Z", "in.mea,un.unoda",
               "notification--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", B_CREQ, c));
    TU_FAILS(ADDS(US, "case-join", "2026-12-02T00:00:00.000Z", "pk.mofa", c,
                  "{\"basis\":\"affected\"}", NULL),
             COMITY_ERR_NOTFOUND, "no case");
    snprintf(msg1, sizeof msg1, "%s", tu_last_err.msg);
    snprintf(fake, sizeof fake, "%s", c);
    fake[strlen(fake) - 1] = fake[strlen(fake) - 1] == '0' ? '1' : '0';
    TU_FAILS(ADDS(US, "case-join", "2026-12-02T00:00:00.000Z", "pk.mofa", fake,
                  "{\"basis\":\"affected\"}", NULL),
             COMITY_ERR_NOTFOUND, "no case");
    /* the same words but the id */
    assert_int_equal(strlen(msg1), strlen(tu_last_err.msg));
    assert_memory_equal(msg1, tu_last_err.msg, strlen("case-join.refs[0]: no case "));
    /* a party cannot ask to join its own case; no request, no admission */
    TU_FAILS(ADDS(IN_MEA, "case-join", "2026-12-02T00:00:00.000Z", "pk.mofa", c,
                  "{\"basis\":\"affected\"}", NULL),
             COMITY_ERR_INVALID, "already a party");
    snprintf(refs, sizeof refs, "%s,%s", c, "case-join--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f");
    TU_FAILS(ADDS(PK_MOFA, "case-admit", "2026-12-02T00:00:00.000Z", "in.mea,un.unoda,us.cisa",
                  refs, "{}", NULL),
             COMITY_ERR_NOTFOUND, "no request to join");
    /* the schemas: a closed vocabulary of bases, nothing else */
    TU_OK(comity_framework_check_body("case-join", "{\"basis\":\"licensed\"}", strlen("{\"basis\":\"licensed\"}"), E));
    TU_FAILS(comity_framework_check_body("case-join", "{\"basis\":\"x\"}", strlen("{\"basis\":\"x\"}"), E),
             COMITY_ERR_INVALID, "basis");
    TU_FAILS(comity_framework_check_body("case-join", "{}", strlen("{}"), E), COMITY_ERR_INVALID, "basis");
    TU_FAILS(comity_framework_check_body("case-admit", "{\"party\":\"x\"}", strlen("{\"party\":\"x\"}"), E),
             COMITY_ERR_INVALID, "unknown field");
    comity_framework_free(fw);
}

static void test_sealed_case_hidden(void **state)
{
    (void)state;
    comity_framework *fw;
    TU_OK(comity_framework_new(&fw, E));
    char c[128], p[128], msg1[COMITY_ERRMSG_MAX], msg2[COMITY_ERRMSG_MAX];
    TU_OK(ADDS(PK_MOFA, "consult-request", "2026-12-01T00:00:00.000Z", "in.mea,un.unoda",
               "notification--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", B_CREQ, c));
    TU_OK(ADDS(PK_FIA, "preservation-request", "2026-12-01T00:00:00.000Z", "in", NULL, B_PRES, p));
    /* the parties see it; an office of a bare-state party too */
    const char *seers[] = {"pk.mofa", "in.mea", "un.unoda", "pk.fia"};
    const size_t nseen[] = {1, 2, 1, 1}; /* in.mea: also the one to "in" */
    for (size_t i = 0; i < 4; i++) {
        char *json;
        TU_OK(comity_framework_cases(fw, seers[i], 0, &json, E));
        json_t *j = parse(json);
        assert_int_equal(json_array_size(json_object_get(j, "cases")), nseen[i]);
        json_decref(j);
    }
    char *json;
    TU_OK(comity_framework_cases(fw, "in.cert-in", 0, &json, E));
    json_t *j = parse(json);
    assert_int_equal(json_array_size(json_object_get(j, "cases")), 1); /* the preservation to "in" */
    json_decref(j);
    /* others: neither content nor existence */
    const char *others[] = {"us.cisa", "pk.pkcert", "in.cbi", "un.undp", "pk"};
    for (size_t i = 0; i < CY_ARRAY_LEN(others); i++) {
        TU_OK(comity_framework_cases(fw, others[i], 0, &json, E));
        j = parse(json);
        json_t *cs = json_object_get(j, "cases");
        for (size_t k = 0; k < json_array_size(cs); k++)
            assert_string_not_equal(json_string_value(json_object_get(json_array_get(cs, k), "id")), c);
        json_decref(j);
        TU_FAILS(comity_framework_case(fw, c, others[i], 0, &json, E), COMITY_ERR_NOTFOUND, "no case");
        assert_null(json);
        /* the same answer as for an id that does not exist */
        snprintf(msg1, sizeof msg1, "%s", tu_last_err.msg);
        char fake[128];
        snprintf(fake, sizeof fake, "consult-request--%s", c + strlen("consult-request--"));
        fake[strlen(fake) - 1] = fake[strlen(fake) - 1] == '0' ? '1' : '0';
        TU_FAILS(comity_framework_case(fw, fake, others[i], 0, &json, E), COMITY_ERR_NOTFOUND, "no case");
        snprintf(msg2, sizeof msg2, "%s", tu_last_err.msg);
        assert_int_equal(strlen(msg1), strlen(msg2));
        assert_memory_equal(msg1, msg2, strlen("case: no case consult-request--"));
    }
    /* a non-party's record naming the case learns nothing either */
    TU_FAILS(ADDS(US, "consult-agenda", "2026-12-02T00:00:00.000Z", "pk.mofa,in.mea,un.unoda", c, B_AGENDA, NULL),
             COMITY_ERR_NOTFOUND, "no case");
    snprintf(msg1, sizeof msg1, "%s", tu_last_err.msg);
    assert_null(strstr(msg1, "party"));
    assert_null(strstr(msg1, "sealed"));
    /* the operator (party NULL) sees every case */
    TU_OK(comity_framework_case(fw, c, NULL, 0, &json, E));
    comity_free(json);
    TU_FAILS(comity_framework_cases(fw, NULL, 0, &json, E), COMITY_ERR_USAGE, "want a party");
    TU_FAILS(comity_framework_cases(fw, "Not A Party", 0, &json, E), COMITY_ERR_INVALID, "cases");
    comity_framework_free(fw);
}


/* ---- chain of custody and retention ------------------------------------------------ */

#define SHA_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define SHA_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define SHA_C "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
#define SHA_D "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
#define SHA_E "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"
#define SHA_F "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
#define ITEM(h, n) "{\"sha256\":\"" h "\",\"size\":" #n ",\"name\":\"logs.tar.age\"}"

static void test_custody_schemas(void **state)
{
    (void)state;
    static const struct { const char *type, *body, *required; } ok[] = {
        {"custody-receive", "{\"files\":[" ITEM(SHA_A, 10) "],\"from\":\"ExampleHost Ltd\","
                            "\"instrument\":\"sftp\",\"at\":\"2026-12-01T00:00:00Z\"}", "files,from"},
        {"custody-handle", "{\"files\":[" ITEM(SHA_A, 10) "],\"action\":\"imaged\","
                           "\"results\":[" ITEM(SHA_B, 20) "]}", "files,action"},
        {"custody-transfer", "{\"files\":[" ITEM(SHA_A, 10) "," ITEM(SHA_B, 20) "],"
                             "\"recipient\":\"pk.mofa\"}", "files,recipient"},
        {"evidence-destruction", "{\"reason\":\"retention\",\"rule\":\"retention.mla = 5y\","
                                 "\"files\":[" ITEM(SHA_A, 10) "]}", "reason,files"},
        {"evidence-destruction", "{\"reason\":\"court-order\",\"files\":[" ITEM(SHA_A, 10) "]}",
         "reason,files"},
    };
    for (size_t i = 0; i < CY_ARRAY_LEN(ok); i++) {
        assert_int_equal(comity_framework_handles(ok[i].type), 1);
        TU_OK(comity_framework_check_body(ok[i].type, ok[i].body, strlen(ok[i].body), E));
        char req[64];
        snprintf(req, sizeof req, "%s", ok[i].required);
        for (char *f = strtok(req, ","); f; f = strtok(NULL, ",")) {
            json_t *j = json_loads(ok[i].body, 0, NULL);
            json_object_del(j, f);
            char *b = json_dumps(j, JSON_COMPACT), needle[96];
            json_decref(j);
            snprintf(needle, sizeof needle, "%s.body.%s: missing", ok[i].type, f);
            TU_FAILS(comity_framework_check_body(ok[i].type, b, strlen(b), E),
                     COMITY_ERR_INVALID, needle);
            free(b);
        }
    }
    static const struct { const char *type, *body, *needle; } bad[] = {
        {"custody-receive", "{\"files\":\"" SHA_A "\",\"from\":\"x\"}",
         "custody-receive.body.files: want an array of 1-64 files"},
        {"custody-receive", "{\"files\":[],\"from\":\"x\"}",
         "custody-receive.body.files: want an array of 1-64 files"},
        {"custody-receive", "{\"files\":[{\"sha256\":\"" SHA_A "\"}],\"from\":\"x\"}",
         "custody-receive.body.files[0].size: want an integer"},
        {"custody-receive", "{\"files\":[{\"sha256\":\"ABC\",\"size\":1}],\"from\":\"x\"}",
         "custody-receive.body.files[0].sha256: want 64 lowercase hex"},
        {"custody-receive", "{\"files\":[{\"sha256\":\"" SHA_A "\",\"size\":-1}],\"from\":\"x\"}",
         "custody-receive.body.files[0].size: want an integer 0-"},
        {"custody-receive", "{\"files\":[{\"sha256\":\"" SHA_A "\",\"size\":1,\"name\":\"\"}],\"from\":\"x\"}",
         "custody-receive.body.files[0].name: want a string of 1-256 bytes"},
        {"custody-receive", "{\"files\":[{\"sha256\":\"" SHA_A "\",\"size\":1,\"path\":\"/x\"}],\"from\":\"x\"}",
         "custody-receive.body.files[0].path: unknown field"},
        {"custody-receive", "{\"files\":[" ITEM(SHA_A, 1) "," ITEM(SHA_A, 1) "],\"from\":\"x\"}",
         "custody-receive.body.files[1].sha256: the file is listed twice"},
        {"custody-receive", "{\"files\":[" ITEM(SHA_A, 1) "],\"from\":\"\"}",
         "custody-receive.body.from: want a string of 1-256 bytes"},
        {"custody-receive", "{\"files\":[" ITEM(SHA_A, 1) "],\"from\":\"x\",\"at\":\"yesterday\"}",
         "custody-receive.body.at: want an RFC 3339 time"},
        {"custody-receive", "{\"files\":[" ITEM(SHA_A, 1) "],\"from\":\"x\",\"hash\":\"x\"}",
         "custody-receive.body.hash: unknown field"},
        {"custody-receive", "{\"files\":[" ITEM(SHA_A, 1) "],\"from\":\"x\",\"transfer\":7}",
         "custody-receive.body.transfer: want a string of 1-128 bytes"},
        {"custody-handle", "{\"files\":[" ITEM(SHA_A, 1) "],\"action\":\"imaged\",\"results\":[{}]}",
         "custody-handle.body.results[0].sha256: want 64 lowercase hex"},
        {"custody-handle", "{\"files\":[" ITEM(SHA_A, 1) "],\"action\":\"\"}",
         "custody-handle.body.action: want a string of 1-256 bytes"},
        {"custody-transfer", "{\"files\":[" ITEM(SHA_A, 1) "],\"recipient\":\"\"}",
         "custody-transfer.body.recipient: want a string of 1-256 bytes"},
        {"custody-transfer", "[]", "custody-transfer.body: want a JSON object"},
        {"evidence-destruction", "{\"reason\":\"retention\",\"files\":[" ITEM(SHA_A, 1) "]}",
         "evidence-destruction.body.rule: missing"},
        {"evidence-destruction", "{\"reason\":\"whim\",\"files\":[" ITEM(SHA_A, 1) "]}",
         "evidence-destruction.body.reason: want one of retention, court-order, request or other"},
        {"evidence-destruction", "{\"reason\":\"other\",\"files\":{}}",
         "evidence-destruction.body.files: want an array of 1-4096 files"},
        {"evidence-destruction", "{\"reason\":\"other\",\"files\":[]}",
         "evidence-destruction.body.files: want an array of 1-4096 files"},
        {"evidence-destruction", "{\"reason\":\"other\",\"files\":[" ITEM(SHA_A, 1) ",7]}",
         "evidence-destruction.body.files[1]: want an object"},
        {"evidence-destruction", "{\"reason\":\"other\",\"files\":[" ITEM(SHA_A, 1) "],\"closed\":\"never\"}",
         "evidence-destruction.body.closed: want an RFC 3339 time"},
        {"evidence-destruction", "{\"reason\":\"other\",\"files\":[" ITEM(SHA_A, 1) "],\"rule\":\"\"}",
         "evidence-destruction.body.rule: want a string of 1-256 bytes"},
    };
    for (size_t i = 0; i < CY_ARRAY_LEN(bad); i++)
        TU_FAILS(comity_framework_check_body(bad[i].type, bad[i].body, strlen(bad[i].body), E),
                 COMITY_ERR_INVALID, bad[i].needle);
    /* more than the cap of files; the cap itself passes */
    for (size_t cap = 4096; cap <= 4097; cap++) {
        size_t n = 0, sz = cap * 160 + 64;
        char *big = malloc(sz);
        assert_non_null(big);
        n += (size_t)snprintf(big + n, sz - n, "{\"reason\":\"other\",\"files\":[");
        for (size_t i = 0; i < cap; i++)
            n += (size_t)snprintf(big + n, sz - n,
                                  "%s{\"sha256\":\"%064zx\",\"size\":1}", i ? "," : "", i);
        snprintf(big + n, sz - n, "]}");
        if (cap == 4096)
            TU_OK(comity_framework_check_body("evidence-destruction", big, strlen(big), E));
        else
            TU_FAILS(comity_framework_check_body("evidence-destruction", big, strlen(big), E),
                     COMITY_ERR_INVALID, "want an array of 1-4096 files");
        free(big);
    }
}

/* The chain of custody of case c (as party p), parsed. */
static json_t *custody(comity_framework *fw, const char *c, const char *p)
{
    char *json;
    TU_OK(comity_framework_custody(fw, c, p, &json, E));
    return parse(json);
}

/* The item h of chain j, or fails. */
static json_t *item_of(json_t *j, const char *h)
{
    json_t *it;
    size_t i;
    json_array_foreach(json_object_get(j, "items"), i, it)
        if (!strcmp(json_string_value(json_object_get(it, "sha256")), h))
            return it;
    fail_msg("no item %s", h);
    return NULL;
}

/* The rules of the breaks of link k of item h, comma-joined. */
static const char *breaks_of(json_t *j, const char *h, size_t k)
{
    static char buf[256];
    buf[0] = 0;
    json_t *l = json_array_get(json_object_get(item_of(j, h), "chain"), k), *b;
    assert_non_null(l);
    size_t i;
    json_array_foreach(json_object_get(l, "breaks"), i, b) {
        size_t n = strlen(buf);
        snprintf(buf + n, sizeof buf - n, "%s%s", n ? "," : "",
                 json_string_value(json_object_get(b, "rule")));
    }
    return buf;
}

#define CP "pk.mofa,in.mea,un.unoda"
#define B_RECV(h, n, from) "{\"files\":[" ITEM(h, n) "],\"from\":\"" from "\"}"
#define B_XFER(h, n, to) "{\"files\":[" ITEM(h, n) "],\"recipient\":\"" to "\"}"

static void test_custody_chain(void **state)
{
    (void)state;
    comity_framework *fw;
    TU_OK(comity_framework_new(&fw, E));
    char c[128], t[128], body[1024], x[160];
    TU_OK(ADD(PK_MOFA, "consult-request", "2026-12-01T00:00:00.000Z", "in.mea,un.unoda",
              "notification--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", B_CREQ, c));
    /* A: received from a provider, imaged (derived item B), passed on and
     * received intact */
    TU_OK(ADD(IN_MEA, "custody-receive", "2026-12-01T01:00:00.000Z", "pk.mofa,un.unoda", c,
              B_RECV(SHA_A, 100, "ExampleHost Ltd"), NULL));
    TU_OK(ADD(IN_MEA, "custody-handle", "2026-12-01T02:00:00.000Z", "pk.mofa,un.unoda", c,
              "{\"files\":[" ITEM(SHA_A, 100) "],\"action\":\"imaged\",\"instrument\":\"dd 9.4\","
              "\"results\":[" ITEM(SHA_B, 200) "]}", NULL));
    TU_OK(ADD(IN_MEA, "custody-transfer", "2026-12-01T03:00:00.000Z", "pk.mofa,un.unoda", c,
              B_XFER(SHA_A, 100, "pk.mofa"), t));
    json_t *j = custody(fw, c, "pk.mofa");
    assert_string_equal(json_string_value(json_object_get(item_of(j, SHA_A), "in_transit_to")), "pk.mofa");
    assert_true(json_is_null(json_object_get(item_of(j, SHA_A), "holder")));
    json_decref(j);
    snprintf(body, sizeof body, "{\"files\":[" ITEM(SHA_A, 100) "],\"from\":\"in.mea\",\"transfer\":\"%s\"}", t);
    TU_OK(ADD(PK_MOFA, "custody-receive", "2026-12-01T04:00:00.000Z", "in.mea,un.unoda", c, body, NULL));
    j = custody(fw, c, "un.unoda");
    json_t *a = item_of(j, SHA_A);
    assert_true(json_is_true(json_object_get(a, "intact")));
    assert_string_equal(json_string_value(json_object_get(a, "holder")), "pk.mofa");
    assert_int_equal(json_array_size(json_object_get(a, "chain")), 4);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(a, "chain"), 3), "action")), "receive");
    json_t *b = item_of(j, SHA_B); /* the derived item: held by its maker */
    assert_string_equal(json_string_value(json_object_get(b, "holder")), "in.mea");
    assert_string_equal(json_string_value(json_array_get(json_object_get(
                            json_array_get(json_object_get(b, "chain"), 0), "derived_from"), 0)), SHA_A);
    assert_int_equal(json_integer_value(json_object_get(j, "breaks")), 0);
    json_decref(j);

    /* C: a hand-over by someone who did not hold it */
    TU_OK(ADD(IN_MEA, "custody-receive", "2026-12-02T00:00:00.000Z", "pk.mofa,un.unoda", c,
              B_RECV(SHA_C, 5, "a seized laptop"), NULL));
    TU_OK(ADD(PK_MOFA, "custody-transfer", "2026-12-02T01:00:00.000Z", "in.mea,un.unoda", c,
              B_XFER(SHA_C, 5, "un.unoda"), NULL));
    j = custody(fw, c, NULL);
    assert_string_equal(breaks_of(j, SHA_C, 0), "");
    assert_string_equal(breaks_of(j, SHA_C, 1), "not-holder");
    assert_true(json_is_false(json_object_get(item_of(j, SHA_C), "intact")));
    json_decref(j);

    /* D: passed to pk.mofa, received by un.unoda instead */
    TU_OK(ADD(IN_MEA, "custody-transfer", "2026-12-03T00:00:00.000Z", "pk.mofa,un.unoda", c,
              B_XFER(SHA_D, 7, "pk.mofa"), t));
    TU_OK(ADD(UN, "custody-receive", "2026-12-03T01:00:00.000Z", "pk.mofa,in.mea", c,
              B_RECV(SHA_D, 7, "in.mea"), NULL));
    /* and then handled by in.mea, who no longer holds it */
    TU_OK(ADD(IN_MEA, "custody-handle", "2026-12-03T02:00:00.000Z", "pk.mofa,un.unoda", c,
              "{\"files\":[" ITEM(SHA_D, 7) "],\"action\":\"re-hashed\"}", NULL));
    j = custody(fw, c, NULL);
    assert_string_equal(breaks_of(j, SHA_D, 1), "not-recipient");
    assert_string_equal(breaks_of(j, SHA_D, 2), "not-holder");
    json_decref(j);

    /* E: what arrives is not what was passed on; the hash changed */
    TU_OK(ADD(IN_MEA, "custody-transfer", "2026-12-04T00:00:00.000Z", "pk.mofa,un.unoda", c,
              B_XFER(SHA_E, 9, "pk.mofa"), t));
    snprintf(body, sizeof body, "{\"files\":[" ITEM(SHA_F, 9) "],\"from\":\"in.mea\",\"transfer\":\"%s\"}", t);
    TU_OK(ADD(PK_MOFA, "custody-receive", "2026-12-04T01:00:00.000Z", "in.mea,un.unoda", c, body, NULL));
    /* the same hash with another size; a receipt from the wrong sender;
     * an unknown transfer; a link dated before the previous one */
    TU_OK(ADD(PK_MOFA, "custody-handle", "2026-12-04T02:00:00.000Z", "in.mea,un.unoda", c,
              "{\"files\":[" ITEM(SHA_F, 10) "],\"action\":\"examined\"}", NULL));
    TU_OK(ADD(PK_MOFA, "custody-transfer", "2026-12-04T03:00:00.000Z", "in.mea,un.unoda", c,
              B_XFER(SHA_F, 9, "in.mea"), NULL));
    TU_OK(ADD(IN_MEA, "custody-receive", "2026-12-04T04:00:00.000Z", "pk.mofa,un.unoda", c,
              B_RECV(SHA_F, 9, "un.unoda"), NULL));
    TU_OK(ADD(IN_MEA, "custody-receive", "2026-12-04T05:00:00.000Z", "pk.mofa,un.unoda", c,
              "{\"files\":[" ITEM(SHA_F, 9) "],\"from\":\"pk.mofa\",\"transfer\":"
              "\"custody-transfer--00000000-0000-4000-8000-000000000000\","
              "\"at\":\"2026-12-01T00:00:00Z\"}", NULL));
    j = custody(fw, c, NULL);
    assert_string_equal(breaks_of(j, SHA_E, 1), "hash-changed");
    assert_string_equal(breaks_of(j, SHA_F, 0), "hash-changed");
    assert_string_equal(breaks_of(j, SHA_F, 1), "size-changed");
    assert_string_equal(breaks_of(j, SHA_F, 2), ""); /* the first size again */
    assert_string_equal(breaks_of(j, SHA_F, 3), "wrong-sender");
    /* and pk.mofa, named as sender, no longer held it */
    assert_string_equal(breaks_of(j, SHA_F, 4), "time-order,unknown-transfer,not-holder");
    json_t *l = json_array_get(json_object_get(item_of(j, SHA_E), "chain"), 1);
    assert_non_null(strstr(json_string_value(json_object_get(
                               json_array_get(json_object_get(l, "breaks"), 0), "detail")),
                           "pk.mofa received other files"));
    json_decref(j);

    /* envelope rules: a non-party learns nothing; every party is named;
     * custody records come in any state, a closed case's too */
    TU_FAILS(ADD(US, "custody-receive", "2026-12-05T00:00:00.000Z", CP, c, B_RECV(SHA_A, 1, "x"), NULL),
             COMITY_ERR_NOTFOUND, "no case");
    TU_FAILS(ADD(IN_MEA, "custody-receive", "2026-12-05T00:00:00.000Z", "pk.mofa", c,
                 B_RECV(SHA_A, 1, "x"), NULL), COMITY_ERR_INVALID, "custody-receive.to: must name un.unoda");
    TU_FAILS(ADD(IN_MEA, "custody-receive", "2026-12-05T00:00:00.000Z", "pk.mofa,un.unoda", NULL,
                 B_RECV(SHA_A, 1, "x"), NULL), COMITY_ERR_INVALID, "custody-receive.refs: want the case");
    TU_FAILS(ADD(IN_MEA, "custody-receive", "2026-12-05T00:00:00.000Z", "pk.mofa,un.unoda", c,
                 "{\"files\":[" ITEM(SHA_A, 1) "]}", NULL), COMITY_ERR_INVALID, "custody-receive.body.from: missing");
    char *json;
    TU_FAILS(comity_framework_custody(fw, c, "us.cisa", &json, E), COMITY_ERR_NOTFOUND, "custody: no case");
    assert_null(json);
    snprintf(x, sizeof x, "%.*s0", (int)strlen(c) - 1, c);
    TU_FAILS(comity_framework_custody(fw, x, "us.cisa", &json, E), COMITY_ERR_NOTFOUND, "custody: no case");
    TU_OK(ADD(PK_MOFA, "consult-close", "2026-12-05T00:00:00.000Z", "in.mea,un.unoda", c,
              "{\"outcome\":\"withdrawn\"}", NULL));
    TU_OK(ADD(PK_MOFA, "custody-transfer", "2026-12-05T01:00:00.000Z", "in.mea,un.unoda", c,
              B_XFER(SHA_A, 100, "in.mea"), NULL));
    /* fed twice */
    comity_record *r = mk(IN_MEA, "custody-handle", "2026-12-05T02:00:00.000Z", "pk.mofa,un.unoda", c,
                          "{\"files\":[" ITEM(SHA_B, 200) "],\"action\":\"copied\"}", false);
    TU_OK(comity_framework_add(fw, r, NULL, 0, E));
    TU_FAILS(comity_framework_add(fw, r, NULL, 0, E), COMITY_ERR_EXISTS, "already fed");
    comity_record_free(r);
    comity_framework_free(fw);
}

/* A sealed case's custody records: the node (no bodies) lists them apart;
 * a party's handle fed the opened bodies gets the chain. */
static void test_custody_sealed(void **state)
{
    (void)state;
    comity_framework *node, *mine;
    TU_OK(comity_framework_new(&node, E));
    TU_OK(comity_framework_new(&mine, E));
    comity_record *open = mk(IN_CERT, "preservation-request", "2026-12-01T00:00:00.000Z",
                             "pk.fia", NULL, B_PRES, true);
    char c[128];
    snprintf(c, sizeof c, "%s", comity_record_id(open));
    TU_OK(comity_framework_add(node, open, NULL, 0, E));
    TU_OK(comity_framework_add(mine, open, NULL, 0, E));
    comity_record_free(open);
    const char *bodies[] = {B_RECV(SHA_A, 5, "ExampleHost Ltd"), B_XFER(SHA_A, 5, "in.cert-in")};
    const char *types[] = {"custody-receive", "custody-transfer"};
    for (int i = 0; i < 2; i++) {
        comity_record *r = mk(PK_FIA, types[i], i ? "2026-12-01T02:00:00.000Z" : "2026-12-01T01:00:00.000Z",
                              "in.cert-in", c, bodies[i], true);
        TU_OK(comity_framework_add(node, r, NULL, 0, E));
        TU_OK(comity_framework_add(mine, r, bodies[i], strlen(bodies[i]), E));
        comity_record_free(r);
    }
    /* a clear custody record in a sealed case is refused */
    TU_FAILS(feed(node, mk(PK_FIA, "custody-handle", "2026-12-01T03:00:00.000Z", "in.cert-in", c,
                           "{\"files\":[" ITEM(SHA_A, 5) "],\"action\":\"x\"}", false), NULL),
             COMITY_ERR_INVALID, "custody-handle.tlp: case");
    json_t *j = custody(node, c, "pk.fia");
    assert_int_equal(json_array_size(json_object_get(j, "items")), 0);
    assert_int_equal(json_array_size(json_object_get(j, "sealed")), 2);
    json_decref(j);
    j = custody(mine, c, "in.cert-in");
    assert_int_equal(json_array_size(json_object_get(j, "sealed")), 0);
    assert_string_equal(json_string_value(json_object_get(item_of(j, SHA_A), "in_transit_to")), "in.cert-in");
    json_decref(j);
    char *json;
    TU_FAILS(comity_framework_custody(node, c, "pk.pkcert", &json, E), COMITY_ERR_NOTFOUND, "no case");
    comity_framework_free(node);
    comity_framework_free(mine);
}

static json_t *due_at(comity_framework *fw, int64_t now)
{
    char *json;
    TU_OK(comity_framework_retention_due(fw, now, NULL, 0, &json, E));
    return parse(json);
}

/* Whether case c is in list `which` of j (and then its entry). */
static json_t *listed_in(json_t *j, const char *which, const char *c)
{
    json_t *d;
    size_t i;
    json_array_foreach(json_object_get(j, which), i, d)
        if (!strcmp(json_string_value(json_object_get(d, "case")), c))
            return d;
    return NULL;
}

/* Whether case c is in the "due" list of j (and then its entry). */
static json_t *due_entry(json_t *j, const char *c)
{
    json_t *d;
    size_t i;
    json_array_foreach(json_object_get(j, "due"), i, d)
        if (!strcmp(json_string_value(json_object_get(d, "case")), c))
            return d;
    return NULL;
}

static void test_retention(void **state)
{
    (void)state;
    comity_framework *fw;
    TU_OK(comity_framework_new(&fw, E));
    /* settings */
    TU_FAILS(comity_framework_set_retention(fw, "attribution", "1y", E), COMITY_ERR_USAGE,
             "retention kind \"attribution\"");
    const char *badp[] = {"0y", "101y", "5 y", "y", "abc", "0s", "3651d", ""};
    for (size_t i = 0; i < CY_ARRAY_LEN(badp); i++)
        TU_FAILS(comity_framework_set_retention(fw, "mla", badp[i], E), COMITY_ERR_USAGE,
                 "retention.mla");
    TU_OK(comity_framework_set_retention(fw, "mla", "100y", E));
    TU_OK(comity_framework_set_retention(fw, "preservation", "30d", E));
    TU_FAILS(comity_framework_set_custodian(fw, "Not A Party", E), COMITY_ERR_INVALID, "custodian");
    TU_OK(comity_framework_set_custodian(fw, "us.cisa", E)); /* the node's party here */
    char p[128], p2[128], m[128], body[512];
    /* a preservation case with a file (custody), closed by the requester */
    TU_OK(ADD(IN_CERT, "preservation-request", "2026-12-01T00:00:00.000Z", "pk.fia", NULL, B_PRES, p));
    TU_OK(ADD(PK_FIA, "preservation-confirm", "2026-12-01T01:00:00.000Z", "in.cert-in", p, B_CONFIRM, NULL));
    TU_OK(ADD(PK_FIA, "custody-transfer", "2026-12-01T02:00:00.000Z", "in.cert-in", p,
              B_XFER(SHA_A, 100, "in.cert-in"), NULL));
    /* a destruction while it is open is refused */
    TU_FAILS(ADD(US, "evidence-destruction", "2026-12-01T03:00:00.000Z", "in.cert-in,pk.fia", p,
                 "{\"reason\":\"other\",\"files\":[" ITEM(SHA_C, 1) "]}", NULL), COMITY_ERR_CONFLICT,
             "evidence-destruction: case");
    assert_non_null(strstr(tu_last_err.msg, "is preserved, still open"));
    TU_OK(ADD(IN_CERT, "evidence-close", "2026-12-02T00:00:00.000Z", "pk.fia", p, B_ECLOSE, NULL));
    int64_t closed = T("2026-12-02T00:00:00Z"), due = closed + 30 * DAY;
    /* a second case, still open, keeps a file both refer to */
    TU_OK(ADD(IN_CERT, "preservation-request", "2026-12-01T00:00:00.000Z", "pk.fia", NULL, B_PRES, p2));
    TU_OK(ADD(PK_FIA, "custody-receive", "2026-12-01T05:00:00.000Z", "in.cert-in", p2,
              B_RECV(SHA_B, 7, "ExampleHost Ltd"), NULL));
    TU_OK(ADD(PK_FIA, "custody-receive", "2026-12-01T06:00:00.000Z", "in.cert-in", p,
              B_RECV(SHA_B, 7, "ExampleHost Ltd"), NULL));

    /* one second before: pending, with its due time; at it and after: due */
    json_t *j = due_at(fw, due - 1000);
    assert_null(due_entry(j, p));
    assert_int_equal(json_array_size(json_object_get(j, "pending")), 1);
    json_t *pe = json_array_get(json_object_get(j, "pending"), 0);
    assert_string_equal(json_string_value(json_object_get(pe, "case")), p);
    assert_int_equal(T(json_string_value(json_object_get(pe, "due"))), due);
    assert_int_equal(T(json_string_value(json_object_get(j, "next"))), due);
    json_decref(j);
    for (int64_t now = due; now <= due + 1000; now += 1000) {
        j = due_at(fw, now);
        json_t *d = due_entry(j, p);
        assert_non_null(d);
        assert_string_equal(json_string_value(json_object_get(d, "rule")), "retention.preservation = 30d");
        assert_string_equal(json_string_value(json_object_get(d, "kind")), "preservation");
        assert_int_equal(T(json_string_value(json_object_get(d, "closed"))), closed);
        assert_int_equal(json_array_size(json_object_get(d, "files")), 1);
        assert_string_equal(json_string_value(json_object_get(
                                json_array_get(json_object_get(d, "files"), 0), "sha256")), SHA_A);
        /* SHA_B is still kept by the open case */
        json_t *k = json_array_get(json_object_get(d, "kept"), 0);
        assert_string_equal(json_string_value(json_object_get(k, "sha256")), SHA_B);
        assert_string_equal(json_string_value(json_object_get(k, "kept_by")), p2);
        assert_null(due_entry(j, p2));
        json_decref(j);
    }
    /* destruction records: a non-party that is not the custodian learns
     * nothing; one dated before the closing is refused; the custodian's
     * ends the retention duty and answers for the destroyed file */
    TU_FAILS(ADD(UN, "evidence-destruction", "2027-01-02T00:00:00.000Z", "in.cert-in,pk.fia", p,
                 "{\"reason\":\"other\",\"files\":[" ITEM(SHA_C, 1) "]}", NULL), COMITY_ERR_NOTFOUND, "no case");
    TU_FAILS(ADD(US, "evidence-destruction", "2026-12-01T23:00:00.000Z", "in.cert-in,pk.fia", p,
                 "{\"reason\":\"other\",\"files\":[" ITEM(SHA_C, 1) "]}", NULL), COMITY_ERR_INVALID,
             "evidence-destruction.created: before case");
    TU_FAILS(ADD(US, "evidence-destruction", "2027-01-02T00:00:00.000Z", "in.cert-in", p,
                 "{\"reason\":\"other\",\"files\":[" ITEM(SHA_C, 1) "]}", NULL), COMITY_ERR_INVALID,
             "evidence-destruction.to: must name pk.fia");
    char *json;
    TU_FAILS(comity_framework_destroyed(fw, SHA_A, "pk.fia", &json, E), COMITY_ERR_NOTFOUND, "no record");
    snprintf(body, sizeof body, "{\"reason\":\"retention\",\"rule\":\"retention.preservation = 30d\","
                                "\"closed\":\"2026-12-02T00:00:00Z\",\"files\":[" ITEM(SHA_A, 100) "]}");
    char d[128];
    TU_OK(ADD(US, "evidence-destruction", "2027-01-02T00:00:00.000Z", "in.cert-in,pk.fia", p, body, d));
    j = due_at(fw, due + 1000);
    assert_null(due_entry(j, p));
    json_decref(j);
    TU_OK(comity_framework_destroyed(fw, SHA_A, "pk.fia", &json, E));
    j = parse(json);
    assert_string_equal(json_string_value(json_object_get(j, "record")), d);
    assert_string_equal(json_string_value(json_object_get(j, "destroyed")), "2027-01-02T00:00:00.000Z");
    assert_string_equal(json_string_value(json_object_get(j, "case")), p);
    /* written by the node's custodian (us.cisa here): by retention */
    assert_true(json_is_true(json_object_get(j, "custodian")));
    json_decref(j);
    TU_FAILS(comity_framework_destroyed(fw, SHA_A, "pk.pkcert", &json, E), COMITY_ERR_NOTFOUND, "no record");
    TU_OK(comity_framework_destroyed(fw, SHA_A, NULL, &json, E));
    comity_free(json);
    /* a party records the destruction of its own copies too */
    TU_OK(ADD(PK_FIA, "evidence-destruction", "2027-01-03T00:00:00.000Z", "in.cert-in", p,
              "{\"reason\":\"request\",\"files\":[" ITEM(SHA_A, 100) "]}", NULL));

    /* MLA: answered with a file in its body, due after its own period;
     * a disclosure uses the disclosure period */
    TU_OK(ADD(IN_CERT, "mla-request", "2026-12-01T00:00:00.000Z", "pk.fia", NULL, B_MLA, m));
    char ma[128];
    TU_OK(ADD(PK_FIA, "mla-answer", "2026-12-10T00:00:00.000Z", "in.cert-in", m, B_ANSWER, ma));
    TU_OK(ADD(IN_CERT, "preservation-request", "2026-12-01T00:00:00.000Z", "pk.fia", NULL, B_PRES, p2));
    TU_OK(ADD(PK_FIA, "preservation-confirm", "2026-12-01T01:00:00.000Z", "in.cert-in", p2, B_CONFIRM, NULL));
    TU_OK(ADD(PK_FIA, "preservation-disclose", "2026-12-01T02:00:00.000Z", "in.cert-in", p2, B_DISCLOSE, NULL));
    TU_OK(ADD(IN_CERT, "evidence-close", "2026-12-03T00:00:00.000Z", "pk.fia", p2, B_ECLOSE, NULL));
    TU_OK(comity_framework_set_retention(fw, "mla", "5y", E));
    TU_OK(comity_framework_set_retention(fw, "disclosure", "36h", E));
    int64_t mdue = T("2026-12-10T00:00:00Z") + 5 * 365 * DAY;
    j = due_at(fw, mdue - 1);
    assert_null(due_entry(j, m));
    /* the disclosure case refers to no file: due, with nothing to destroy */
    assert_null(due_entry(j, p2));
    json_t *dd = listed_in(j, "nothing", p2);
    assert_non_null(dd);
    assert_string_equal(json_string_value(json_object_get(dd, "kind")), "disclosure");
    assert_string_equal(json_string_value(json_object_get(dd, "rule")), "retention.disclosure = 36h");
    json_decref(j);
    j = due_at(fw, mdue);
    dd = due_entry(j, m);
    assert_non_null(dd);
    assert_string_equal(json_string_value(json_object_get(dd, "rule")), "retention.mla = 5y");
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(dd, "files"), 0), "sha256")),
                        "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08");
    json_decref(j);
    /* given the store's list: only stored files are due, those attached
     * to the case's records count (a sealed body hides them from the
     * node), and a file already recorded destroyed by the custodian that
     * no case keeps is left over from a crash */
    const char *att[] = {ma};
    comity_file_stored st[] = {{SHA_D, 5, att, 1}, {SHA_A, 100, NULL, 0}, {SHA_E, 1, NULL, 0}};
    TU_OK(comity_framework_retention_due(fw, mdue, st, 3, &json, E));
    j = parse(json);
    dd = due_entry(j, m);
    assert_non_null(dd);
    assert_int_equal(json_array_size(json_object_get(dd, "files")), 1);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(dd, "files"), 0), "sha256")), SHA_D);
    assert_int_equal(json_array_size(json_object_get(j, "leftover")), 1);
    assert_string_equal(json_string_value(json_array_get(json_object_get(j, "leftover"), 0)), SHA_A);
    json_decref(j);
    comity_framework_free(fw);
}

/* Sequences fed with and without the opened bodies reach the same states:
 * the machine runs on the envelope alone. */
static void test_envelope_alone(void **state)
{
    (void)state;
    comity_framework *open_fw, *node_fw;
    TU_OK(comity_framework_new(&open_fw, E));
    TU_OK(comity_framework_new(&node_fw, E));
    static const struct { int who; const char *type, *to, *body; } seq[] = {
        {PK_FIA, "preservation-request", "in.cbi", B_PRES},
        {IN_CBI, "preservation-confirm", "pk.fia", B_CONFIRM},
        {IN_CBI, "preservation-disclose", "pk.fia", B_DISCLOSE},
        {PK_FIA, "evidence-close", "in.cbi", B_ECLOSE},
    };
    char c[128] = {0};
    for (size_t i = 0; i < CY_ARRAY_LEN(seq); i++) {
        comity_record *r = mk(seq[i].who, seq[i].type, "2026-12-01T00:00:00.000Z", seq[i].to,
                              i ? c : NULL, seq[i].body, true);
        if (!i)
            snprintf(c, sizeof c, "%s", comity_record_id(r));
        /* a body given that breaks the schema is refused */
        TU_FAILS(comity_framework_check(open_fw, r, "{\"x\":1}", 7, E), COMITY_ERR_INVALID,
                 "body.x: unknown field");
        TU_OK(comity_framework_add(open_fw, r, seq[i].body, strlen(seq[i].body), E));
        TU_OK(comity_framework_add(node_fw, r, NULL, 0, E));
        comity_record_free(r);
        assert_string_equal(state_of(open_fw, c), state_of(node_fw, c));
    }
    comity_framework_free(open_fw);
    comity_framework_free(node_fw);
}

/* Every allocation that can fail, failing: the record is refused with
 * NOMEM and leaves no trace (fed again it is taken, not EXISTS), and the
 * queries fail cleanly. */
static void test_alloc_failures(void **state)
{
    (void)state;
    comity_framework *fw;
    TU_OK(comity_framework_new(&fw, E));
    char c[128], p[128], a[128], refs[300];
    comity_record *rs[9];
    rs[0] = mk(PK_MOFA, "consult-request", "2026-12-01T00:00:00.000Z", "in.mea,un.unoda",
               "notification--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", B_CREQ, false);
    snprintf(c, sizeof c, "%s", comity_record_id(rs[0]));
    rs[1] = mk(UN, "consult-good-offices", "2026-12-02T00:00:00.000Z", "pk.mofa,in.mea", c, B_GOOD, false);
    rs[2] = mk(IN_MEA, "consult-accept", "2026-12-03T00:00:00.000Z", "pk.mofa,un.unoda", c, B_ACCEPT, false);
    rs[3] = mk(PK_MOFA, "consult-meeting", "2026-12-04T00:00:00.000Z", "in.mea,un.unoda", c, B_MEET, false);
    rs[4] = mk(PK_MOFA, "consult-action", "2026-12-05T00:00:00.000Z", "in.mea,un.unoda", c, B_ACTION, false);
    snprintf(a, sizeof a, "%s", comity_record_id(rs[4]));
    snprintf(refs, sizeof refs, "%s,%s", c, a);
    rs[5] = mk(PK_MOFA, "consult-action-done", "2026-12-06T00:00:00.000Z", "in.mea,un.unoda", refs, B_NOTE, false);
    rs[6] = mk(PK_FIA, "preservation-request", "2026-12-01T00:00:00.000Z", "in.cbi", NULL, B_PRES, false);
    snprintf(p, sizeof p, "%s", comity_record_id(rs[6]));
    rs[7] = mk(IN_CBI, "preservation-confirm", "2026-12-01T01:00:00.000Z", "pk.fia", p, B_CONFIRM, false);
    rs[8] = mk(PK_FIA, "mla-request", "2026-12-02T00:00:00.000Z", "in.cbi", p, B_MLA, false);
    for (size_t i = 0; i < CY_ARRAY_LEN(rs); i++) {
        long k;
        for (k = 1; k < 400; k++) {
            cy_alloc_fail_after(k);
            comity_err rc = comity_framework_add(fw, rs[i], NULL, 0, E);
            cy_alloc_fail_after(0);
            if (rc == COMITY_OK)
                break;
            if (rc != COMITY_ERR_NOMEM)
                fail_msg("record %zu, failing allocation %ld: %s", i, k, tu_last_err.msg);
        }
        assert_true(k < 400);
        assert_true(k > 1); /* every record allocates: some call failed */
        comity_record_free(rs[i]);
    }
    /* the state is the one reached without failures */
    assert_string_equal(state_of(fw, c), "met");
    assert_string_equal(state_of(fw, p), "followed-up");
    json_t *j = case_view(fw, c, "pk.mofa", 0);
    assert_int_equal(json_array_size(json_object_get(j, "thread")), 6);
    assert_int_equal(json_array_size(json_object_get(j, "tasks")), 1);
    assert_non_null(json_object_get(json_object_get(j, "facts"), "good_offices"));
    json_decref(j);
    for (int q = 0; q < 3; q++) {
        long k;
        for (k = 1; k < 400; k++) {
            char *json = NULL;
            cy_alloc_fail_after(k);
            comity_err rc = q == 0 ? comity_framework_cases(fw, "pk.fia", 0, &json, E)
                          : q == 1 ? comity_framework_case(fw, c, "un.unoda", 0, &json, E)
                                   : comity_framework_case(fw, p, NULL, 0, &json, E);
            cy_alloc_fail_after(0);
            if (rc == COMITY_OK) {
                assert_non_null(json);
                comity_free(json);
                break;
            }
            assert_int_equal(rc, COMITY_ERR_NOMEM);
            assert_null(json);
        }
        assert_true(k > 1 && k < 400);
    }
    comity_framework_free(fw);
}


/* Custody and destruction records refused for memory leave no trace: fed
 * again with one more allocation allowed each time, every record is taken
 * once, and the chain and what is due are those reached without failures;
 * the queries fail cleanly too. */
static void test_custody_alloc_failures(void **state)
{
    (void)state;
    comity_framework *fw;
    TU_OK(comity_framework_new(&fw, E));
    TU_OK(comity_framework_set_custodian(fw, "us.cisa", E));
    char p[128], t[128], body[512];
    comity_record *open = mk(IN_CERT, "preservation-request", "2026-12-01T00:00:00.000Z", "pk.fia",
                             NULL, B_PRES, false);
    snprintf(p, sizeof p, "%s", comity_record_id(open));
    TU_OK(comity_framework_add(fw, open, NULL, 0, E));
    comity_record_free(open);
    comity_record *rs[5];
    rs[0] = mk(PK_FIA, "custody-receive", "2026-12-01T01:00:00.000Z", "in.cert-in", p,
               B_RECV(SHA_A, 100, "ExampleHost Ltd"), false);
    rs[1] = mk(PK_FIA, "custody-transfer", "2026-12-01T02:00:00.000Z", "in.cert-in", p,
               B_XFER(SHA_A, 100, "in.cert-in"), false);
    snprintf(t, sizeof t, "%s", comity_record_id(rs[1]));
    snprintf(body, sizeof body, "{\"files\":[" ITEM(SHA_A, 100) "],\"from\":\"pk.fia\",\"transfer\":\"%s\"}", t);
    rs[2] = mk(IN_CERT, "custody-receive", "2026-12-01T03:00:00.000Z", "pk.fia", p, body, false);
    rs[3] = mk(IN_CERT, "evidence-close", "2026-12-02T00:00:00.000Z", "pk.fia", p, B_ECLOSE, false);
    rs[4] = mk(US, "evidence-destruction", "2027-12-03T00:00:00.000Z", "in.cert-in,pk.fia", p,
               "{\"reason\":\"retention\",\"rule\":\"retention.preservation = 1y\",\"files\":["
               ITEM(SHA_A, 100) "]}", false);
    for (size_t i = 0; i < CY_ARRAY_LEN(rs); i++) {
        long k;
        for (k = 1; k < 400; k++) {
            cy_alloc_fail_after(k);
            comity_err rc = comity_framework_add(fw, rs[i], NULL, 0, E);
            cy_alloc_fail_after(0);
            if (rc == COMITY_OK)
                break;
            if (rc != COMITY_ERR_NOMEM)
                fail_msg("record %zu, failing allocation %ld: %s", i, k, tu_last_err.msg);
        }
        assert_true(k > 1 && k < 400);
        comity_record_free(rs[i]);
    }
    json_t *j = custody(fw, p, "pk.fia");
    json_t *a = item_of(j, SHA_A);
    assert_int_equal(json_array_size(json_object_get(a, "chain")), 4); /* 3 + the destruction */
    assert_true(json_is_true(json_object_get(a, "intact")));
    assert_string_equal(json_string_value(json_object_get(json_object_get(a, "destroyed"), "at")),
                        "2027-12-03T00:00:00.000Z");
    json_decref(j);
    j = due_at(fw, T("2030-01-01T00:00:00Z"));
    assert_int_equal(json_array_size(json_object_get(j, "due")), 0); /* recorded destroyed */
    json_decref(j);
    comity_file_stored st = {SHA_A, 100, NULL, 0};
    for (int q = 0; q < 3; q++) {
        long k;
        for (k = 1; k < 400; k++) {
            char *json = NULL;
            cy_alloc_fail_after(k);
            comity_err rc = q == 0   ? comity_framework_custody(fw, p, "in.cert-in", &json, E)
                            : q == 1 ? comity_framework_retention_due(fw, 0, &st, 1, &json, E)
                                     : comity_framework_destroyed(fw, SHA_A, "pk.fia", &json, E);
            cy_alloc_fail_after(0);
            if (rc == COMITY_OK) {
                assert_non_null(json);
                comity_free(json);
                break;
            }
            assert_int_equal(rc, COMITY_ERR_NOMEM);
            assert_null(json);
        }
        assert_true(k > 1 && k < 400);
    }
    comity_framework_free(fw);
}

/* ---- evidence files: the files field and who may attach and fetch ---------------- */

#define H1 "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
#define H2 "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752"
#define B_FILES "{\"text\":\"logs\",\"files\":[{\"sha256\":\"" H1 "\",\"size\":1024," \
    "\"name\":\"logs.tar\",\"media_type\":\"application/x-tar\"}]}"

static void test_files_schema(void **state)
{
    (void)state;
    static const struct { const char *type, *body, *needle; } bad[] = {
        {"mla-partial", "{\"text\":\"x\",\"files\":[]}", "mla-partial.body.files: want an array of 1-64"},
        {"mla-partial", "{\"text\":\"x\",\"files\":{}}", "mla-partial.body.files: want an array"},
        {"mla-partial", "{\"text\":\"x\",\"files\":[\"" H1 "\"]}", "mla-partial.body.files[0]: want an object"},
        {"mla-partial", "{\"text\":\"x\",\"files\":[{\"size\":1}]}", "mla-partial.body.files[0].sha256: want 64"},
        {"mla-partial", "{\"text\":\"x\",\"files\":[{\"sha256\":\"" H1 "\"}]}", "mla-partial.body.files[0].size: want an integer"},
        {"mla-partial", "{\"text\":\"x\",\"files\":[{\"sha256\":\"" H1 "\",\"size\":-1}]}", "files[0].size: want an integer 0-"},
        {"mla-partial", "{\"text\":\"x\",\"files\":[{\"sha256\":\"" H1 "\",\"size\":9007199254740993}]}", "files[0].size"},
        {"mla-partial", "{\"text\":\"x\",\"files\":[{\"sha256\":\"9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08\",\"size\":1}]}", "files[0].sha256"},
        {"mla-partial", "{\"text\":\"x\",\"files\":[{\"sha256\":\"" H1 "\",\"size\":1,\"name\":\"\"}]}", "files[0].name: want a string of 1-256"},
        {"mla-partial", "{\"text\":\"x\",\"files\":[{\"sha256\":\"" H1 "\",\"size\":1,\"media_type\":7}]}", "files[0].media_type"},
        {"mla-partial", "{\"text\":\"x\",\"files\":[{\"sha256\":\"" H1 "\",\"size\":1,\"path\":\"/etc\"}]}", "files[0].path: unknown field"},
        {"mla-partial", "{\"text\":\"x\",\"files\":[{\"sha256\":\"" H1 "\",\"size\":1},{\"sha256\":\"" H1 "\",\"size\":2}]}", "files[1].sha256: the file is listed twice"},
        {"consult-document", "{\"title\":\"x\"}", "want the content, or the files"},
        {"mla-more-info", "{\"asked\":\"x\",\"files\":[{\"sha256\":\"" H1 "\",\"size\":1}]}", "mla-more-info.body.files: unknown field"},
    };
    for (size_t i = 0; i < CY_ARRAY_LEN(bad); i++)
        TU_FAILS(comity_framework_check_body(bad[i].type, bad[i].body, strlen(bad[i].body), E),
                 COMITY_ERR_INVALID, bad[i].needle);
    /* every type that takes files takes the field */
    static const char *const takes[] = {"consult-document", "preservation-disclose", "mla-request",
                                        "mla-partial", "mla-answer", "mla-info",
                                        "emergency-request", "emergency-confirm", "emergency-answer"};
    static const char *const base[] = {
        "{\"title\":\"t\",", "{\"providers\":[\"p\"],", B_MLA, "{\"text\":\"x\",",
        "{\"text\":\"x\",", "{\"text\":\"x\",", B_EMERG, "{", "{\"text\":\"x\","};
    for (size_t i = 0; i < CY_ARRAY_LEN(takes); i++) {
        char b[1024];
        size_t n = strlen(base[i]);
        if (base[i][n - 1] == '}')
            snprintf(b, sizeof b, "%.*s,\"files\":[{\"sha256\":\"" H1 "\",\"size\":0}]}",
                     (int)n - 1, base[i]);
        else
            snprintf(b, sizeof b, "%s\"files\":[{\"sha256\":\"" H1 "\",\"size\":0}]}", base[i]);
        TU_OK(comity_framework_check_body(takes[i], b, strlen(b), E));
    }
}

static void test_files_attach_and_visible(void **state)
{
    (void)state;
    comity_framework *fw;
    TU_OK(comity_framework_new(&fw, E));
    char sc[128], sr[128], gc[128], gr[128], nr[128], pr[128];
    /* a sealed MLA case: pk.fia asks in.cbi; in.cbi answers with a file */
    TU_OK(ADDS(PK_FIA, "mla-request", "2026-12-01T00:00:00.000Z", "in.cbi", NULL, B_MLA, sc));
    TU_OK(ADDS(IN_CBI, "mla-partial", "2026-12-01T01:00:00.000Z", "pk.fia", sc, B_FILES, sr));
    /* a clear one: the node reads the body */
    TU_OK(ADD(PK_FIA, "mla-request", "2026-12-01T00:00:00.000Z", "in", NULL, B_MLA, gc));
    TU_OK(ADD(IN_CBI, "mla-partial", "2026-12-01T01:00:00.000Z", "pk.fia", gc, B_FILES, gr));
    TU_OK(ADD(IN_CBI, "mla-more-info", "2026-12-01T02:00:00.000Z", "pk.fia", gc, B_MORE, nr));
    TU_OK(ADD(PK_FIA, "preservation-request", "2026-12-01T00:00:00.000Z", "in.cbi", NULL, B_PRES, pr));

    /* the author attaches: sealed body on its word, clear body as it says */
    TU_OK(comity_framework_file_attach(fw, sr, "in.cbi", H2, 77, E));
    TU_OK(comity_framework_file_attach(fw, gr, "in.cbi", H1, 1024, E));
    TU_FAILS(comity_framework_file_attach(fw, gr, "in.cbi", H1, 1025, E), COMITY_ERR_INVALID,
             "does not reference file " H1 " of 1025 bytes");
    TU_FAILS(comity_framework_file_attach(fw, gr, "in.cbi", H2, 1024, E), COMITY_ERR_INVALID,
             "does not reference");
    /* only the author */
    TU_FAILS(comity_framework_file_attach(fw, sr, "pk.fia", H1, 1024, E), COMITY_ERR_DENIED,
             "only the author of");
    TU_FAILS(comity_framework_file_attach(fw, sc, "in.cbi", H1, 1024, E), COMITY_ERR_DENIED,
             "only the author of");
    /* a type that carries no files */
    TU_FAILS(comity_framework_file_attach(fw, nr, "in.cbi", H1, 1024, E), COMITY_ERR_INVALID,
             "a mla-more-info record carries no files");
    TU_FAILS(comity_framework_file_attach(fw, pr, "pk.fia", H1, 1024, E), COMITY_ERR_INVALID,
             "a preservation-request record carries no files");
    /* a non-party: the answer an unknown record gets */
    char msg1[COMITY_ERRMSG_MAX], msg2[COMITY_ERRMSG_MAX];
    TU_FAILS(comity_framework_file_attach(fw, sr, "us.cisa", H1, 1024, E), COMITY_ERR_NOTFOUND,
             "no case record");
    snprintf(msg1, sizeof msg1, "%s", tu_last_err.msg);
    char fake[128];
    snprintf(fake, sizeof fake, "%s", sr);
    fake[strlen(fake) - 1] = fake[strlen(fake) - 1] == '0' ? '1' : '0';
    TU_FAILS(comity_framework_file_attach(fw, fake, "us.cisa", H1, 1024, E), COMITY_ERR_NOTFOUND,
             "no case record");
    snprintf(msg2, sizeof msg2, "%s", tu_last_err.msg);
    assert_int_equal(strlen(msg1), strlen(msg2));
    TU_FAILS(comity_framework_file_attach(fw, "notification--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
                                          "in.cbi", H1, 1024, E),
             COMITY_ERR_NOTFOUND, "no case record");
    TU_FAILS(comity_framework_file_attach(fw, NULL, "in.cbi", H1, 1, E), COMITY_ERR_USAGE, "files");

    /* visible: the case's parties (an office of a bare-state party too), no one else */
    const char *one[] = {sr};
    assert_int_equal(comity_framework_file_visible(fw, "pk.fia", one, 1), 1);
    assert_int_equal(comity_framework_file_visible(fw, "in.cbi", one, 1), 1);
    assert_int_equal(comity_framework_file_visible(fw, "in.mea", one, 1), 0);
    assert_int_equal(comity_framework_file_visible(fw, "pk.mofa", one, 1), 0);
    assert_int_equal(comity_framework_file_visible(fw, "us.cisa", one, 1), 0);
    assert_int_equal(comity_framework_file_visible(fw, NULL, one, 1), 0);
    const char *g[] = {gr};
    assert_int_equal(comity_framework_file_visible(fw, "in.mea", g, 1), 1); /* the case is to "in" */
    assert_int_equal(comity_framework_file_visible(fw, "us.cisa", g, 1), 0);
    /* any of several attachments */
    const char *two[] = {"mla-partial--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", gr};
    assert_int_equal(comity_framework_file_visible(fw, "in.mea", two, 2), 1);
    assert_int_equal(comity_framework_file_visible(fw, "in.mea", two, 1), 0);
    assert_int_equal(comity_framework_file_visible(fw, "in.mea", NULL, 0), 0);
    comity_framework_free(fw);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schemas_accept_and_required),
        cmocka_unit_test(test_schemas_refuse),
        cmocka_unit_test(test_schemas_published),
        cmocka_unit_test(test_envelope_rules),
        cmocka_unit_test(test_transitions_consultation),
        cmocka_unit_test(test_transitions_evidence),
        cmocka_unit_test(test_refusal_messages),
        cmocka_unit_test(test_clocks_preservation),
        cmocka_unit_test(test_clocks_profiles),
        cmocka_unit_test(test_clocks_emergency_and_mla),
        cmocka_unit_test(test_consultation_story),
        cmocka_unit_test(test_sealed_case_hidden),
        cmocka_unit_test(test_envelope_alone),
        cmocka_unit_test(test_alloc_failures),
        cmocka_unit_test(test_custody_schemas),
        cmocka_unit_test(test_custody_chain),
        cmocka_unit_test(test_custody_sealed),
        cmocka_unit_test(test_retention),
        cmocka_unit_test(test_custody_alloc_failures),
        cmocka_unit_test(test_files_schema),
        cmocka_unit_test(test_files_attach_and_visible),
        cmocka_unit_test(test_late_party_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
