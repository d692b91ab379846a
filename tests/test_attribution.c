/*
 * test_attribution.c: attribution cases (src/framework/attribution.c) and
 * the actor vocabulary (actors.c): every body schema's refusals, every
 * transition of the status table allowed and refused (each type in each
 * state, by each role), the rules on refs (ratings, claims, replies, the
 * panel, votes), the reply clock with the fake clock, the tally and the
 * replies beside their claim in the view, a sealed case hidden from a
 * non-party and replayed with its bodies by a party (where the body rules
 * apply), and the galaxy import with synonyms.
 *
 * Records are made as a node receives them: signed (COMITY_FAKE_NOW sets
 * `created`) and verified before being fed.  Expectations come from issue
 * 17 and specs/framework.md section 6, not from the library's tables.
 */
#include <stdlib.h>

#include <jansson.h>

#include "base/base.h"
#include "util/parties.h"

/* the opener, the named state, two states with evidence, three panel
 * members, one outsider */
enum { FR, RU, DE, NL, CH, NO, JP, BR, NK };
static const char *const names[NK] = {"fr.anssi", "ru.mid", "de.bsi", "nl.ncsc",
                                      "ch.ncsc",  "no.nsm", "jp.nisc", "br.gsi"};
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

#define DAY (24 * 3600 * (int64_t)1000)
#define NOID "notification--00000000-0000-4000-8000-000000000000"

/* Every party but `who`, comma-separated (the case's `to`). */
#define ALL_BUT(who) to_all(who)
static const char *to_all(int who)
{
    static char buf[512];
    buf[0] = 0;
    for (int i = 0; i < NK - 1; i++) /* BR is no party */
        if (i != who)
            snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "%s%s", buf[0] ? "," : "",
                     names[i]);
    return buf;
}

/* Signs body as `who` at `at` to `to`, refs `refs` (comma-separated, may be
 * NULL), sealed (amber) to the recipients when `sealed`.  OUT *opened: the
 * body, for a party's replay (may be NULL). */
static comity_record *mk(int who, const char *type, const char *at, const char *to,
                         const char *refs, const char *body, bool sealed)
{
    return tu_record(&cast, who, type, at, to, refs, body, sealed);
}

/* Feeds r to fw (and its body to `replay`, a party's handle, when not
 * NULL), checking that the dry run agrees; frees r; copies its id. */
static comity_err feed2(comity_framework *fw, comity_framework *replay, comity_record *r,
                        const char *body, char *id)
{
    if (id)
        snprintf(id, 128, "%s", comity_record_id(r));
    comity_error e1;
    comity_err c1 = comity_framework_check(fw, r, NULL, 0, &e1);
    comity_err rc = comity_framework_add(fw, r, NULL, 0, E);
    if (c1 != rc)
        fail_msg("check said %d (%s), add %d (%s)", c1, e1.msg, rc, tu_last_err.msg);
    if (replay && !rc && comity_record_is_sealed(r)) {
        comity_error e2;
        if (comity_framework_add(replay, r, body, strlen(body), &e2))
            snprintf(tu_last_err.msg, sizeof tu_last_err.msg, "replay: %.200s", e2.msg),
                rc = e2.code;
    }
    comity_record_free(r);
    return rc;
}

static comity_framework *fw, *fw2; /* fw2: a party's replay with bodies */

#define ADD(who, type, at, to, refs, body, id)                                   \
    feed2(fw, NULL, mk((who), (type), (at), (to), (refs), (body), false), (body), (id))
#define ADDS(who, type, at, to, refs, body, id)                                  \
    feed2(fw, fw2, mk((who), (type), (at), (to), (refs), (body), true), (body), (id))

static json_t *view_of(comity_framework *f, const char *id, const char *party, int64_t now)
{
    char *json;
    TU_OK(comity_framework_case(f, id, party, now, &json, E));
    json_t *j = json_loads(json, 0, NULL);
    comity_free(json);
    assert_non_null(j);
    return j;
}

static const char *state_of(const char *id)
{
    static char buf[32];
    json_t *j = view_of(fw, id, NULL, 0);
    snprintf(buf, sizeof buf, "%s", json_string_value(json_object_get(j, "state")));
    json_decref(j);
    return buf;
}

/* ---- bodies ----------------------------------------------------------------------- */

#define B_OPEN "{\"title\":\"grid outage\",\"summary\":\"the attack of 1 Dec on the grid\"}"
#define B_EV                                                                              \
    "{\"what\":\"C2 at 203.0.113.7 beaconing from the SCADA gateway\","                   \
    "\"observed_by\":\"ANSSI CERT-FR\",\"observed_at\":\"2026-12-01T10:00:00Z\","         \
    "\"method\":\"network-telemetry\",\"reliability\":\"B\",\"credibility\":2,"          \
    "\"stix\":[{\"type\":\"indicator\",\"spec_version\":\"2.1\","                        \
    "\"id\":\"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\","                          \
    "\"created\":\"2026-12-01T10:00:00.000Z\",\"modified\":\"2026-12-01T10:00:00.000Z\"," \
    "\"pattern\":\"[ipv4-addr:value = '203.0.113.7']\",\"pattern_type\":\"stix\","        \
    "\"valid_from\":\"2026-12-01T10:00:00Z\"}]}"
#define B_EV2                                                                             \
    "{\"what\":\"the same C2 in our incident\",\"observed_by\":\"BSI\","                  \
    "\"observed_at\":\"2026-11-20T00:00:00Z\",\"method\":\"host-forensics\","             \
    "\"reliability\":\"A\",\"credibility\":1,\"files\":[{\"sha256\":"                    \
    "\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\",\"size\":99}]}"
#define B_RATE "{\"reliability\":\"B\",\"credibility\":2,\"note\":\"seen too\"}"
#define B_ACTOR "{\"name\":\"GRIDLOCK\",\"synonyms\":[\"Storm-9999\"]}"
#define B_CLAIM_IA(inc)                                                                   \
    "{\"kind\":\"incident-actor\",\"incident\":\"" inc "\",\"actor\":\"Sandworm\","       \
    "\"confidence\":70,\"likelihood\":\"likely\"}"
#define B_CLAIM_AS                                                                        \
    "{\"kind\":\"actor-state\",\"actor\":\"Sandworm\",\"state\":\"ru\",\"confidence\":60," \
    "\"likelihood\":\"very likely\",\"basis\":\"GRU unit 74455\"}"
#define B_DENY "{\"answer\":\"deny\",\"statement\":\"no involvement\"}"
#define B_PANEL "{\"members\":[\"ch.ncsc\",\"no.nsm\",\"jp.nisc\"],\"mandate\":\"review\"}"
#define B_AGREE "{\"note\":\"agreed\"}"
#define B_CONCUR "{\"vote\":\"concur\",\"opinion\":\"agree\",\"reasons\":\"same C2\"}"
#define B_DISSENT "{\"vote\":\"dissent\",\"opinion\":\"disagree\",\"reasons\":\"weak\"}"
#define B_ABSTAIN "{\"vote\":\"abstain\",\"opinion\":\"neutral\",\"reasons\":\"no access\"}"
#define B_PUB "{\"statement\":\"France attributes the attack to Sandworm\"}"
#define B_CLOSE "{\"outcome\":\"attributed\"}"

/* ---- schemas ---------------------------------------------------------------------- */

static void test_schemas(void **state)
{
    (void)state;
    static const struct { const char *type, *body; } ok[] = {
        {"attribution-open", B_OPEN},       {"attribution-evidence", B_EV},
        {"attribution-evidence", B_EV2},    {"attribution-rating", B_RATE},
        {"attribution-actor", B_ACTOR},     {"attribution-claim", B_CLAIM_IA("x")},
        {"attribution-claim", B_CLAIM_AS},  {"attribution-reply", B_DENY},
        {"attribution-panel", B_PANEL},     {"attribution-panel-agree", B_AGREE},
        {"attribution-vote", B_CONCUR},     {"attribution-vote", B_DISSENT},
        {"attribution-vote", B_ABSTAIN},    {"attribution-publish", B_PUB},
        {"attribution-close", B_CLOSE},
    };
    for (size_t i = 0; i < CY_ARRAY_LEN(ok); i++)
        if (comity_framework_check_body(ok[i].type, ok[i].body, strlen(ok[i].body), E))
            fail_msg("%s: %s", ok[i].type, tu_last_err.msg);
    static const struct { const char *type, *body, *needle; } bad[] = {
        {"attribution-evidence",
         "{\"what\":\"x\",\"observed_by\":\"x\",\"observed_at\":\"2026-12-01T00:00:00Z\","
         "\"method\":\"network-telemetry\",\"reliability\":\"G\",\"credibility\":1}",
         "attribution-evidence.body.reliability: want one of A, B, C, D, E or F"},
        {"attribution-evidence",
         "{\"what\":\"x\",\"observed_by\":\"x\",\"observed_at\":\"2026-12-01T00:00:00Z\","
         "\"method\":\"network-telemetry\",\"reliability\":\"A\",\"credibility\":7}",
         "attribution-evidence.body.credibility: want an integer 1-6"},
        {"attribution-evidence",
         "{\"what\":\"x\",\"observed_by\":\"x\",\"observed_at\":\"2026-12-01T00:00:00Z\","
         "\"method\":\"divination\",\"reliability\":\"A\",\"credibility\":1}",
         "attribution-evidence.body.method: want one of"},
        {"attribution-evidence",
         "{\"what\":\"x\",\"observed_by\":\"x\",\"observed_at\":\"2026-12-01T00:00:00Z\","
         "\"method\":\"other\",\"reliability\":\"A\",\"credibility\":1,\"stix\":[{\"type\":\"indicator\"}]}",
         "attribution-evidence.body.stix[0]: "},
        {"attribution-evidence",
         "{\"what\":\"x\",\"observed_by\":\"x\",\"observed_at\":\"2026-12-01T00:00:00Z\","
         "\"method\":\"other\",\"reliability\":\"A\",\"credibility\":1,\"stix\":[{\"type\":"
         "\"identity\",\"spec_version\":\"2.1\",\"id\":\"identity--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\","
         "\"created\":\"2026-12-01T10:00:00.000Z\",\"modified\":\"2026-12-01T10:00:00.000Z\",\"name\":\"x\"}]}",
         "attribution-evidence.body.stix[0].type: want one of indicator"},
        {"attribution-evidence",
         "{\"what\":\"x\",\"observed_by\":\"x\",\"observed_at\":\"2026-12-01T00:00:00Z\","
         "\"method\":\"other\",\"reliability\":\"A\",\"credibility\":1,\"stix\":[1]}",
         "attribution-evidence.body.stix[0]: want an object"},
        {"attribution-rating", "{\"note\":\"x\"}",
         "attribution-rating.body: want a reliability (A-F), a credibility (1-6) or both"},
        {"attribution-claim",
         "{\"kind\":\"incident-actor\",\"actor\":\"x\",\"confidence\":70,\"likelihood\":\"likely\"}",
         "attribution-claim.body.incident: a claim incident-actor names the incident"},
        {"attribution-claim",
         "{\"kind\":\"incident-actor\",\"incident\":\"i\",\"state\":\"ru\",\"actor\":\"x\","
         "\"confidence\":70,\"likelihood\":\"likely\"}",
         "attribution-claim.body.state: a claim incident-actor names no state"},
        {"attribution-claim",
         "{\"kind\":\"actor-state\",\"actor\":\"x\",\"confidence\":70,\"likelihood\":\"likely\"}",
         "attribution-claim.body.state: a claim actor-state names the state"},
        {"attribution-claim",
         "{\"kind\":\"actor-state\",\"actor\":\"x\",\"state\":\"ru.mid\",\"confidence\":70,"
         "\"likelihood\":\"likely\"}",
         "attribution-claim.body.state: a claim actor-state names the state"},
        {"attribution-claim",
         "{\"kind\":\"actor-state\",\"actor\":\"x\",\"state\":\"ru\",\"incident\":\"i\","
         "\"confidence\":70,\"likelihood\":\"likely\"}",
         "attribution-claim.body.incident: a claim actor-state names no incident"},
        {"attribution-claim",
         "{\"kind\":\"actor-state\",\"actor\":\"x\",\"state\":\"ru\",\"confidence\":101,"
         "\"likelihood\":\"likely\"}",
         "attribution-claim.body.confidence: want an integer 0-100"},
        /* the closed list of ICD 203 terms: not an equivalent, not a number */
        {"attribution-claim",
         "{\"kind\":\"actor-state\",\"actor\":\"x\",\"state\":\"ru\",\"confidence\":70,"
         "\"likelihood\":\"probable\"}",
         "attribution-claim.body.likelihood: want one of almost no chance, very unlikely"},
        {"attribution-claim",
         "{\"kind\":\"actor-state\",\"actor\":\"x\",\"state\":\"ru\",\"confidence\":70,"
         "\"likelihood\":70}",
         "attribution-claim.body.likelihood: want one of"},
        {"attribution-claim",
         "{\"kind\":\"both\",\"actor\":\"x\",\"confidence\":70,\"likelihood\":\"likely\"}",
         "attribution-claim.body.kind: want one of incident-actor or actor-state"},
        {"attribution-reply", "{\"answer\":\"ignore\"}",
         "attribution-reply.body.answer: want one of deny, acknowledge, ask-evidence or "
         "offer-consultations"},
        {"attribution-vote", "{\"vote\":\"concur\",\"opinion\":\"disagree\",\"reasons\":\"x\"}",
         "attribution-vote.body.opinion: disagree does not go with the vote concur"},
        {"attribution-vote", "{\"vote\":\"dissent\",\"opinion\":\"neutral\",\"reasons\":\"x\"}",
         "attribution-vote.body.opinion: neutral does not go with the vote dissent"},
        {"attribution-vote", "{\"vote\":\"abstain\",\"opinion\":\"agree\",\"reasons\":\"x\"}",
         "attribution-vote.body.opinion: agree does not go with the vote abstain"},
        {"attribution-vote", "{\"vote\":\"concur\",\"opinion\":\"agree\"}",
         "attribution-vote.body.reasons: missing"},
        {"attribution-vote", "{\"vote\":\"maybe\",\"opinion\":\"agree\",\"reasons\":\"x\"}",
         "attribution-vote.body.vote: want one of concur, dissent or abstain"},
        {"attribution-panel", "{\"members\":[]}", "attribution-panel.body.members: want an array of 1-12"},
        {"attribution-close", "{\"outcome\":\"guilty\"}", "attribution-close.body.outcome: want one of"},
        {"attribution-publish", "{}", "attribution-publish.body.statement: missing"},
    };
    for (size_t i = 0; i < CY_ARRAY_LEN(bad); i++)
        TU_FAILS(comity_framework_check_body(bad[i].type, bad[i].body, strlen(bad[i].body), E),
                 COMITY_ERR_INVALID, bad[i].needle);
}

/* ---- a case, step by step ------------------------------------------------------------ */

/* Opens a case (clear, or sealed) about two incidents at 2026-12-01;
 * OUT case, inc (the first incident's id). */
static void open_case(bool sealed, char *c, char *inc)
{
    char n1[128], n2[128], refs[300];
    TU_OK(ADD(FR, "notification", "2026-11-30T00:00:00.000Z", "ru.mid", NULL,
              "{\"severity\":4,\"sector\":\"energy\",\"summary\":\"grid hit\"}", n1));
    TU_OK(ADD(DE, "notification", "2026-11-30T01:00:00.000Z", "ru.mid", NULL,
              "{\"severity\":3,\"sector\":\"energy\",\"summary\":\"substation hit\"}", n2));
    snprintf(refs, sizeof refs, "%s,%s", n1, n2);
    if (inc)
        snprintf(inc, 128, "%s", n1);
    if (sealed)
        TU_OK(ADDS(FR, "attribution-open", "2026-12-01T00:00:00.000Z", ALL_BUT(FR), refs, B_OPEN, c));
    else
        TU_OK(ADD(FR, "attribution-open", "2026-12-01T00:00:00.000Z", ALL_BUT(FR), refs, B_OPEN, c));
}

static void test_opening(void **state)
{
    (void)state;
    /* sealed by default: what a client proposes for a new case */
    assert_string_equal(comity_framework_default_tlp("attribution-open"), "amber");
    assert_null(comity_framework_default_tlp("attribution-claim"));
    assert_null(comity_framework_default_tlp("consult-request"));
    TU_OK(comity_framework_new(&fw, E));
    char c[128];
    /* about something: refs wanted */
    TU_FAILS(ADD(FR, "attribution-open", "2026-12-01T00:00:00.000Z", ALL_BUT(FR), NULL, B_OPEN, NULL),
             COMITY_ERR_INVALID, "attribution-open.refs: want the incident(s)");
    /* the named state is of another state than the opener */
    TU_FAILS(ADD(FR, "attribution-open", "2026-12-01T00:00:00.000Z", "fr.cert", NOID, B_OPEN, NULL),
             COMITY_ERR_INVALID, "attribution-open.to[0]: the requested party must be of another state");
    open_case(false, c, NULL);
    json_t *j = view_of(fw, c, "ch.ncsc", 0);
    assert_string_equal(json_string_value(json_object_get(j, "state")), "open");
    assert_string_equal(json_string_value(json_object_get(j, "role")), "party");
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(j, "parties"), 1), "role")),
                        "named");
    assert_int_equal(json_array_size(json_object_get(json_object_get(j, "attribution"), "about")), 2);
    json_decref(j);
    /* a non-party learns nothing */
    char *json;
    TU_FAILS(comity_framework_case(fw, c, "br.gsi", 0, &json, E), COMITY_ERR_NOTFOUND, "no case");
    comity_framework_free(fw);
    fw = NULL;
}

static void test_evidence_and_ratings(void **state)
{
    (void)state;
    TU_OK(comity_framework_new(&fw, E));
    char c[128], e1[128], e2[128], r[300];
    open_case(false, c, NULL);
    TU_OK(ADD(FR, "attribution-evidence", "2026-12-02T00:00:00.000Z", ALL_BUT(FR), c, B_EV, e1));
    /* any party adds evidence: a third party, the named state too */
    TU_OK(ADD(DE, "attribution-evidence", "2026-12-02T01:00:00.000Z", ALL_BUT(DE), c, B_EV2, e2));
    TU_OK(ADD(RU, "attribution-evidence", "2026-12-02T02:00:00.000Z", ALL_BUT(RU), c, B_EV2, NULL));
    /* a non-party cannot, and learns nothing */
    TU_FAILS(ADD(BR, "attribution-evidence", "2026-12-02T02:00:00.000Z", ALL_BUT(NK), c, B_EV2, NULL),
             COMITY_ERR_NOTFOUND, "no case");
    /* rated by the others, not by its own state, once each */
    snprintf(r, sizeof r, "%s,%s", c, e1);
    TU_FAILS(ADD(FR, "attribution-rating", "2026-12-03T00:00:00.000Z", ALL_BUT(FR), r, B_RATE, NULL),
             COMITY_ERR_DENIED, "is fr.anssi's own");
    TU_OK(ADD(DE, "attribution-rating", "2026-12-03T00:00:00.000Z", ALL_BUT(DE), r, B_RATE, NULL));
    TU_FAILS(ADD(DE, "attribution-rating", "2026-12-03T01:00:00.000Z", ALL_BUT(DE), r, B_RATE, NULL),
             COMITY_ERR_CONFLICT, "has rated evidence");
    TU_OK(ADD(RU, "attribution-rating", "2026-12-03T00:00:00.000Z", ALL_BUT(RU), r,
              "{\"credibility\":5,\"note\":\"fabricated\"}", NULL));
    /* a rating names an evidence item of the case */
    snprintf(r, sizeof r, "%s,%s", c, NOID);
    TU_FAILS(ADD(NL, "attribution-rating", "2026-12-03T00:00:00.000Z", ALL_BUT(NL), r, B_RATE, NULL),
             COMITY_ERR_INVALID, "attribution-rating.refs[1]: want an attribution-evidence of case");
    TU_FAILS(ADD(NL, "attribution-rating", "2026-12-03T00:00:00.000Z", ALL_BUT(NL), c, B_RATE, NULL),
             COMITY_ERR_INVALID, "attribution-rating.refs[1]: want an attribution-evidence");
    /* the view: reliability and credibility apart, ratings beside the item */
    json_t *j = view_of(fw, c, "fr.anssi", 0);
    json_t *ev = json_object_get(json_object_get(j, "attribution"), "evidence");
    assert_int_equal(json_array_size(ev), 3);
    json_t *x = json_array_get(ev, 0);
    assert_string_equal(json_string_value(json_object_get(x, "reliability")), "B");
    assert_int_equal(json_integer_value(json_object_get(x, "credibility")), 2);
    assert_int_equal(json_array_size(json_object_get(x, "stix")), 1);
    json_t *ratings = json_object_get(x, "ratings");
    assert_int_equal(json_array_size(ratings), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(ratings, 1), "by")), "ru.mid");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(ratings, 1), "credibility")), 5);
    json_decref(j);
    comity_framework_free(fw);
    fw = NULL;
}

static void test_claims_replies_clock(void **state)
{
    (void)state;
    TU_OK(comity_framework_new(&fw, E));
    char c[128], inc[128], e1[128], cl1[128], cl2[128], r[400], body[512], k[128];
    open_case(false, c, inc);
    TU_OK(ADD(FR, "attribution-evidence", "2026-12-02T00:00:00.000Z", ALL_BUT(FR), c, B_EV, e1));
    snprintf(body, sizeof body, B_CLAIM_IA("%s"), inc);
    /* a claim rests on evidence of the case */
    TU_FAILS(ADD(FR, "attribution-claim", "2026-12-05T00:00:00.000Z", ALL_BUT(FR), c, body, NULL),
             COMITY_ERR_INVALID, "attribution-claim.refs: want the evidence items");
    snprintf(r, sizeof r, "%s,%s,%s", c, e1, inc);
    TU_FAILS(ADD(FR, "attribution-claim", "2026-12-05T00:00:00.000Z", ALL_BUT(FR), r, body, NULL),
             COMITY_ERR_INVALID, "attribution-claim.refs[2]: want an attribution-evidence");
    snprintf(r, sizeof r, "%s,%s", c, e1);
    /* the named state makes no claim in its own case */
    TU_FAILS(ADD(RU, "attribution-claim", "2026-12-05T00:00:00.000Z", ALL_BUT(RU), r, body, NULL),
             COMITY_ERR_DENIED, "only the opener (fr.anssi) or the party");
    /* an incident of the case, a state that is the case's named state */
    TU_FAILS(ADD(FR, "attribution-claim", "2026-12-05T00:00:00.000Z", ALL_BUT(FR), r,
                 B_CLAIM_IA("notification--00000000-0000-4000-8000-000000000000"), NULL),
             COMITY_ERR_INVALID, "attribution-claim.body.incident: notification--0000");
    TU_FAILS(ADD(FR, "attribution-claim", "2026-12-05T00:00:00.000Z", ALL_BUT(FR), r,
                 "{\"kind\":\"actor-state\",\"actor\":\"x\",\"state\":\"cn\",\"confidence\":70,"
                 "\"likelihood\":\"likely\"}", NULL),
             COMITY_ERR_INVALID, "attribution-claim.body.state: cn is not the state case");
    TU_FAILS(ADD(FR, "attribution-claim", "2026-12-05T00:00:00.000Z", ALL_BUT(FR), r,
                 "{\"kind\":\"actor-state\",\"actor\":\"x\",\"state\":\"ru\",\"confidence\":70,"
                 "\"likelihood\":\"likely\",\"reply_by\":\"2026-12-04T00:00:00Z\"}", NULL),
             COMITY_ERR_INVALID, "attribution-claim.body.reply_by: want a time after");
    /* the reply clock: 30 days from the claim, the named state's */
    TU_OK(ADD(FR, "attribution-claim", "2026-12-05T00:00:00.000Z", ALL_BUT(FR), r, body, cl1));
    int64_t t0 = T("2026-12-05T00:00:00Z");
    json_t *j = view_of(fw, c, "ru.mid", t0 + 30 * DAY);
    json_t *ck = json_array_get(json_object_get(j, "clocks"), 0);
    assert_string_equal(json_string_value(json_object_get(ck, "name")), "reply");
    assert_string_equal(json_string_value(json_object_get(ck, "who")), "ru.mid");
    assert_int_equal(T(json_string_value(json_object_get(ck, "due"))), t0 + 30 * DAY);
    assert_true(json_is_false(json_object_get(ck, "overdue")));
    json_decref(j);
    j = view_of(fw, c, "fr.anssi", t0 + 30 * DAY + 1); /* the same clock, both sides */
    ck = json_array_get(json_object_get(j, "clocks"), 0);
    assert_true(json_is_true(json_object_get(ck, "overdue")));
    json_decref(j);
    /* the list of open cases shows it due for the named state too */
    char *json;
    TU_OK(comity_framework_cases(fw, "ru.mid", t0 + 31 * DAY, &json, E));
    assert_non_null(strstr(json, "\"name\":\"reply\",\"who\":\"ru.mid\""));
    assert_non_null(strstr(json, "\"overdue\":true"));
    comity_free(json);
    /* a second claim, with its own reply_by: the clock follows it */
    TU_OK(ADD(DE, "attribution-claim", "2026-12-06T00:00:00.000Z", ALL_BUT(DE), r,
              "{\"kind\":\"actor-state\",\"actor\":\"Sandworm\",\"state\":\"ru\",\"confidence\":60,"
              "\"likelihood\":\"very likely\",\"reply_by\":\"2026-12-20T00:00:00Z\"}", cl2));
    j = view_of(fw, c, NULL, 0);
    ck = json_array_get(json_object_get(j, "clocks"), 0);
    assert_int_equal(T(json_string_value(json_object_get(ck, "due"))), T("2026-12-20T00:00:00Z"));
    json_decref(j);
    /* replies: only the named state, to a claim of the case */
    snprintf(r, sizeof r, "%s,%s", c, cl1);
    TU_FAILS(ADD(DE, "attribution-reply", "2026-12-07T00:00:00.000Z", ALL_BUT(DE), r, B_DENY, NULL),
             COMITY_ERR_DENIED, "only the named (ru.mid) may send it");
    snprintf(r, sizeof r, "%s,%s", c, e1);
    TU_FAILS(ADD(RU, "attribution-reply", "2026-12-07T00:00:00.000Z", ALL_BUT(RU), r, B_DENY, NULL),
             COMITY_ERR_INVALID, "attribution-reply.refs[1]: want an attribution-claim");
    /* offering consultations names the consultation case it opened */
    snprintf(r, sizeof r, "%s,%s", c, cl1);
    TU_FAILS(ADD(RU, "attribution-reply", "2026-12-07T00:00:00.000Z", ALL_BUT(RU), r,
                 "{\"answer\":\"offer-consultations\"}", NULL),
             COMITY_ERR_INVALID, "attribution-reply.refs[2]: an offer of consultations");
    snprintf(r, sizeof r, "%s,%s,%s", c, cl1, e1);
    TU_FAILS(ADD(RU, "attribution-reply", "2026-12-07T00:00:00.000Z", ALL_BUT(RU), r,
                 "{\"answer\":\"offer-consultations\"}", NULL),
             COMITY_ERR_INVALID, "attribution-reply.refs[2]: want the consultation case");
    snprintf(r, sizeof r, "%s,%s", c, cl1);
    TU_OK(ADD(RU, "attribution-reply", "2026-12-07T00:00:00.000Z", ALL_BUT(RU), r, B_DENY, NULL));
    /* the reply stops the clock */
    j = view_of(fw, c, NULL, T("2027-06-01T00:00:00Z"));
    ck = json_array_get(json_object_get(j, "clocks"), 0);
    assert_true(json_is_false(json_object_get(ck, "running")));
    assert_true(json_is_false(json_object_get(ck, "overdue")));
    json_decref(j);
    TU_OK(ADD(RU, "consult-request", "2026-12-08T00:00:00.000Z", "fr.anssi", cl2,
              "{\"subject\":\"the claim\",\"summary\":\"we offer consultations\"}", k));
    snprintf(r, sizeof r, "%s,%s,%s", c, cl2, k);
    TU_OK(ADD(RU, "attribution-reply", "2026-12-08T00:00:01.000Z", ALL_BUT(RU), r,
              "{\"answer\":\"offer-consultations\",\"statement\":\"let us talk\"}", NULL));
    /* the replies beside their claims, the consultation linked */
    j = view_of(fw, c, "fr.anssi", 0);
    json_t *claims = json_object_get(json_object_get(j, "attribution"), "claims");
    assert_int_equal(json_array_size(claims), 2);
    json_t *a = json_array_get(claims, 0), *b = json_array_get(claims, 1);
    assert_string_equal(json_string_value(json_object_get(a, "kind")), "incident-actor");
    assert_int_equal(json_integer_value(json_object_get(a, "confidence")), 70);
    assert_string_equal(json_string_value(json_object_get(a, "likelihood")), "likely");
    assert_string_equal(json_string_value(json_array_get(json_object_get(a, "evidence"), 0)), e1);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(a, "replies"), 0), "answer")), "deny");
    json_t *rb = json_array_get(json_object_get(b, "replies"), 0);
    assert_string_equal(json_string_value(json_object_get(rb, "answer")), "offer-consultations");
    assert_string_equal(json_string_value(json_object_get(rb, "consultation")), k);
    json_decref(j);
    /* the consultation case is the named state's and the opener's */
    j = view_of(fw, k, "fr.anssi", 0);
    assert_string_equal(json_string_value(json_object_get(j, "mechanism")), "consultation");
    json_decref(j);
    comity_framework_free(fw);
    fw = NULL;
}

/* The panel, agreed by every party, then votes; every transition of the
 * table refused in the wrong state or by the wrong role. */
static void test_panel_votes_close(void **state)
{
    (void)state;
    TU_OK(comity_framework_new(&fw, E));
    char c[128], inc[128], e1[128], cl[128], p1[128], p2[128], r[400], body[512];
    open_case(false, c, inc);
    TU_OK(ADD(FR, "attribution-evidence", "2026-12-02T00:00:00.000Z", ALL_BUT(FR), c, B_EV, e1));
    snprintf(body, sizeof body, B_CLAIM_IA("%s"), inc);
    snprintf(r, sizeof r, "%s,%s", c, e1);
    TU_OK(ADD(FR, "attribution-claim", "2026-12-05T00:00:00.000Z", ALL_BUT(FR), r, body, cl));
    /* no votes before a panel is agreed */
    snprintf(r, sizeof r, "%s,%s", c, cl);
    TU_FAILS(ADD(CH, "attribution-vote", "2026-12-06T00:00:00.000Z", ALL_BUT(CH), r, B_CONCUR, NULL),
             COMITY_ERR_CONFLICT, "attribution-vote: case");
    /* members: third parties, of neither the opener's nor the named state */
    TU_FAILS(ADD(FR, "attribution-panel", "2026-12-06T00:00:00.000Z", ALL_BUT(FR), c,
                 "{\"members\":[\"ch.ncsc\",\"ru.mid\"]}", NULL),
             COMITY_ERR_INVALID, "attribution-panel.body.members[1]: ru.mid is not");
    TU_FAILS(ADD(FR, "attribution-panel", "2026-12-06T00:00:00.000Z", ALL_BUT(FR), c,
                 "{\"members\":[\"br.gsi\"]}", NULL),
             COMITY_ERR_INVALID, "attribution-panel.body.members[0]: br.gsi is not");
    TU_OK(ADD(FR, "attribution-panel", "2026-12-06T00:00:00.000Z", ALL_BUT(FR), c,
              "{\"members\":[\"ch.ncsc\",\"no.nsm\"]}", p1));
    /* a new proposal replaces it: agreeing to the old one is refused */
    TU_OK(ADD(DE, "attribution-panel", "2026-12-06T01:00:00.000Z", ALL_BUT(DE), c, B_PANEL, p2));
    snprintf(r, sizeof r, "%s,%s", c, p1);
    TU_FAILS(ADD(NL, "attribution-panel-agree", "2026-12-07T00:00:00.000Z", ALL_BUT(NL), r, B_AGREE, NULL),
             COMITY_ERR_INVALID, "attribution-panel-agree.refs[1]: want the pending panel");
    snprintf(r, sizeof r, "%s,%s", c, p2);
    TU_FAILS(ADD(DE, "attribution-panel-agree", "2026-12-07T00:00:00.000Z", ALL_BUT(DE), r, B_AGREE, NULL),
             COMITY_ERR_CONFLICT, "has agreed to panel");
    /* every other party agrees, the named state and the members too */
    int agree[] = {FR, RU, NL, CH, NO};
    for (size_t i = 0; i < CY_ARRAY_LEN(agree); i++) {
        TU_OK(ADD(agree[i], "attribution-panel-agree", "2026-12-07T00:00:00.000Z",
                  ALL_BUT(agree[i]), r, B_AGREE, NULL));
        assert_string_equal(state_of(c), "open");
    }
    TU_FAILS(ADD(NO, "attribution-panel-agree", "2026-12-07T00:00:00.000Z", ALL_BUT(NO), r, B_AGREE, NULL),
             COMITY_ERR_CONFLICT, "has agreed");
    TU_OK(ADD(JP, "attribution-panel-agree", "2026-12-07T00:00:00.000Z", ALL_BUT(JP), r, B_AGREE, NULL));
    assert_string_equal(state_of(c), "review");
    /* in review: no new panel; votes by members alone, once per claim */
    TU_FAILS(ADD(FR, "attribution-panel", "2026-12-08T00:00:00.000Z", ALL_BUT(FR), c, B_PANEL, NULL),
             COMITY_ERR_CONFLICT, "attribution-panel: case");
    snprintf(r, sizeof r, "%s,%s", c, cl);
    TU_FAILS(ADD(FR, "attribution-vote", "2026-12-08T00:00:00.000Z", ALL_BUT(FR), r, B_CONCUR, NULL),
             COMITY_ERR_DENIED, "only the party");
    TU_FAILS(ADD(DE, "attribution-vote", "2026-12-08T00:00:00.000Z", ALL_BUT(DE), r, B_CONCUR, NULL),
             COMITY_ERR_DENIED, "de.bsi is not a member of the review panel");
    TU_OK(ADD(CH, "attribution-vote", "2026-12-08T00:00:00.000Z", ALL_BUT(CH), r, B_CONCUR, NULL));
    TU_FAILS(ADD(CH, "attribution-vote", "2026-12-08T01:00:00.000Z", ALL_BUT(CH), r, B_DISSENT, NULL),
             COMITY_ERR_CONFLICT, "has voted on claim");
    TU_OK(ADD(NO, "attribution-vote", "2026-12-08T00:00:00.000Z", ALL_BUT(NO), r, B_DISSENT, NULL));
    snprintf(r, sizeof r, "%s,%s", c, e1);
    TU_FAILS(ADD(JP, "attribution-vote", "2026-12-08T00:00:00.000Z", ALL_BUT(JP), r, B_ABSTAIN, NULL),
             COMITY_ERR_INVALID, "attribution-vote.refs[1]: want an attribution-claim");
    snprintf(r, sizeof r, "%s,%s", c, cl);
    TU_OK(ADD(JP, "attribution-vote", "2026-12-08T00:00:00.000Z", ALL_BUT(JP), r, B_ABSTAIN, NULL));
    /* the tally, and every vote with its reasons, to every party */
    for (int who = FR; who <= JP; who++) {
        json_t *j = view_of(fw, c, names[who], 0);
        json_t *a = json_object_get(j, "attribution");
        json_t *x = json_array_get(json_object_get(a, "claims"), 0);
        json_t *t = json_object_get(x, "tally");
        assert_int_equal(json_integer_value(json_object_get(t, "concur")), 1);
        assert_int_equal(json_integer_value(json_object_get(t, "dissent")), 1);
        assert_int_equal(json_integer_value(json_object_get(t, "abstain")), 1);
        json_t *v = json_object_get(x, "votes");
        assert_int_equal(json_array_size(v), 3);
        assert_string_equal(json_string_value(json_object_get(json_array_get(v, 1), "reasons")), "weak");
        assert_string_equal(json_string_value(json_object_get(json_array_get(v, 1), "opinion")), "disagree");
        assert_true(json_is_true(json_object_get(json_object_get(a, "panel"), "agreed_by_all")));
        json_decref(j);
    }
    /* publishing: a party's own decision, naming claims of the case */
    snprintf(r, sizeof r, "%s,%s", c, e1);
    TU_FAILS(ADD(DE, "attribution-publish", "2026-12-09T00:00:00.000Z", ALL_BUT(DE), r, B_PUB, NULL),
             COMITY_ERR_INVALID, "attribution-publish.refs[1]: want an attribution-claim");
    snprintf(r, sizeof r, "%s,%s", c, cl);
    TU_OK(ADD(FR, "attribution-publish", "2026-12-09T00:00:00.000Z", ALL_BUT(FR), r, B_PUB, NULL));
    TU_OK(ADD(RU, "attribution-publish", "2026-12-09T00:00:00.000Z", ALL_BUT(RU), c,
              "{\"statement\":\"we reject the claim\"}", NULL));
    json_t *j = view_of(fw, c, NULL, 0);
    assert_int_equal(json_array_size(json_object_get(json_object_get(j, "attribution"), "published")), 2);
    json_decref(j);
    /* closing: the opener alone; then nothing more */
    TU_FAILS(ADD(DE, "attribution-close", "2026-12-10T00:00:00.000Z", ALL_BUT(DE), c, B_CLOSE, NULL),
             COMITY_ERR_DENIED, "only the opener (fr.anssi)");
    TU_OK(ADD(FR, "attribution-close", "2026-12-10T00:00:00.000Z", ALL_BUT(FR), c, B_CLOSE, NULL));
    assert_string_equal(state_of(c), "closed");
    /* closed: every type refused by the table, naming the state */
    static const struct { const char *type, *body; } after[] = {
        {"attribution-evidence", B_EV},       {"attribution-rating", B_RATE},
        {"attribution-actor", B_ACTOR},       {"attribution-claim", B_CLAIM_AS},
        {"attribution-reply", B_DENY},        {"attribution-panel", B_PANEL},
        {"attribution-panel-agree", B_AGREE}, {"attribution-vote", B_CONCUR},
        {"attribution-publish", B_PUB}};
    for (size_t i = 0; i < CY_ARRAY_LEN(after); i++)
        TU_FAILS(ADD(FR, after[i].type, "2026-12-11T00:00:00.000Z", ALL_BUT(FR), c, after[i].body,
                     NULL),
                 COMITY_ERR_CONFLICT, "is closed");
    TU_FAILS(ADD(FR, "attribution-close", "2026-12-11T00:00:00.000Z", ALL_BUT(FR), c, B_CLOSE, NULL),
             COMITY_ERR_CONFLICT, "is closed");
    comity_framework_free(fw);
    fw = NULL;
}

/* The state table, type by type in each state and by each role. */
static void test_transitions(void **state)
{
    (void)state;
    /* who may send each type while the case is open (o) and in review (v):
     * opener, named, party (a third party that is no panel member) */
    static const struct { const char *type, *body; int o[3], v[3]; } t[] = {
        {"attribution-evidence", B_EV, {1, 1, 1}, {1, 1, 1}},
        {"attribution-actor", B_ACTOR, {1, 1, 1}, {1, 1, 1}},
        {"attribution-publish", B_PUB, {1, 1, 1}, {1, 1, 1}},
        {"attribution-panel", B_PANEL, {1, 1, 1}, {0, 0, 0}},
    };
    int who[3] = {FR, RU, DE};
    for (size_t i = 0; i < CY_ARRAY_LEN(t); i++)
        for (int review = 0; review < 2; review++)
            for (int w = 0; w < 3; w++) {
                TU_OK(comity_framework_new(&fw, E));
                char c[128], r[300], p[128];
                open_case(false, c, NULL);
                if (review) {
                    TU_OK(ADD(FR, "attribution-panel", "2026-12-06T00:00:00.000Z", ALL_BUT(FR), c,
                              B_PANEL, p));
                    snprintf(r, sizeof r, "%s,%s", c, p);
                    for (int k = RU; k <= JP; k++)
                        TU_OK(ADD(k, "attribution-panel-agree", "2026-12-07T00:00:00.000Z",
                                  ALL_BUT(k), r, B_AGREE, NULL));
                    assert_string_equal(state_of(c), "review");
                }
                comity_err rc = ADD(who[w], t[i].type, "2026-12-08T00:00:00.000Z",
                                    ALL_BUT(who[w]), c, t[i].body, NULL);
                int want = review ? t[i].v[w] : t[i].o[w];
                if (want && rc)
                    fail_msg("%s by %s (%s): %s", t[i].type, names[who[w]],
                             review ? "review" : "open", tu_last_err.msg);
                if (!want && rc != COMITY_ERR_CONFLICT && rc != COMITY_ERR_DENIED)
                    fail_msg("%s by %s (%s) taken", t[i].type, names[who[w]],
                             review ? "review" : "open");
                comity_framework_free(fw);
                fw = NULL;
            }
}

/* A sealed case: the node runs the table on envelopes; a non-party sees
 * nothing; a party's replay with the bodies applies the body rules. */
static void test_sealed(void **state)
{
    (void)state;
    TU_OK(comity_framework_new(&fw, E));
    TU_OK(comity_framework_new(&fw2, E));
    char c[128], inc[128], e1[128], cl[128], p[128], r[400], body[512];
    /* the replay needs the incidents too: fed to both */
    char n1[128], refs[300];
    comity_record *rec = mk(FR, "notification", "2026-11-30T00:00:00.000Z", "ru.mid", NULL,
                            "{\"severity\":4,\"sector\":\"energy\",\"summary\":\"grid hit\"}", false);
    TU_OK(comity_framework_add(fw2, rec, NULL, 0, E));
    TU_OK(feed2(fw, NULL, rec, "", n1));
    snprintf(inc, sizeof inc, "%s", n1);
    snprintf(refs, sizeof refs, "%s", n1);
    TU_OK(ADDS(FR, "attribution-open", "2026-12-01T00:00:00.000Z", ALL_BUT(FR), refs, B_OPEN, c));
    /* a sealed case takes only sealed records */
    TU_FAILS(ADD(FR, "attribution-evidence", "2026-12-02T00:00:00.000Z", ALL_BUT(FR), c, B_EV, NULL),
             COMITY_ERR_INVALID, "attribution-evidence.tlp: case");
    TU_OK(ADDS(FR, "attribution-evidence", "2026-12-02T00:00:00.000Z", ALL_BUT(FR), c, B_EV, e1));
    snprintf(body, sizeof body, B_CLAIM_IA("%s"), inc);
    snprintf(r, sizeof r, "%s,%s", c, e1);
    TU_OK(ADDS(FR, "attribution-claim", "2026-12-05T00:00:00.000Z", ALL_BUT(FR), r, body, cl));
    TU_OK(ADDS(FR, "attribution-panel", "2026-12-06T00:00:00.000Z", ALL_BUT(FR), c, B_PANEL, p));
    snprintf(r, sizeof r, "%s,%s", c, p);
    for (int k = RU; k <= JP; k++)
        TU_OK(ADDS(k, "attribution-panel-agree", "2026-12-07T00:00:00.000Z", ALL_BUT(k), r, B_AGREE,
                   NULL));
    snprintf(r, sizeof r, "%s,%s", c, cl);
    TU_OK(ADDS(CH, "attribution-vote", "2026-12-08T00:00:00.000Z", ALL_BUT(CH), r, B_CONCUR, NULL));
    /* the node cannot tell a member from another third party when the
     * panel is sealed: it takes de.bsi's vote; a party's replay refuses it */
    comity_err rc = ADDS(DE, "attribution-vote", "2026-12-08T00:00:00.000Z", ALL_BUT(DE), r,
                         B_CONCUR, NULL);
    assert_int_equal(rc, COMITY_ERR_DENIED);
    assert_non_null(strstr(tu_last_err.msg, "replay: attribution-vote: de.bsi is not a member"));
    /* the node's view: no body; the tally counts a sealed vote as sealed */
    json_t *j = view_of(fw, c, "fr.anssi", 0);
    json_t *a = json_object_get(j, "attribution");
    json_t *x = json_array_get(json_object_get(a, "claims"), 0);
    assert_true(json_is_true(json_object_get(x, "sealed")));
    assert_null(json_object_get(x, "actor"));
    assert_int_equal(json_integer_value(json_object_get(json_object_get(x, "tally"), "sealed")), 2);
    json_decref(j);
    /* the party's replay: the claim and the tally in the clear */
    j = view_of(fw2, c, "fr.anssi", 0);
    a = json_object_get(j, "attribution");
    x = json_array_get(json_object_get(a, "claims"), 0);
    assert_string_equal(json_string_value(json_object_get(x, "actor")), "Sandworm");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(x, "tally"), "concur")), 1);
    json_decref(j);
    /* a non-party: the very answer an unknown case gets, in the queries
     * and in a refusal of its record */
    char *json;
    TU_FAILS(comity_framework_case(fw, c, "br.gsi", 0, &json, E), COMITY_ERR_NOTFOUND,
             "no case");
    TU_OK(comity_framework_cases(fw, "br.gsi", 0, &json, E));
    assert_null(strstr(json, c));
    comity_free(json);
    TU_FAILS(ADDS(BR, "attribution-evidence", "2026-12-09T00:00:00.000Z", ALL_BUT(NK), c, B_EV, NULL),
             COMITY_ERR_NOTFOUND, "no case");
    comity_framework_free(fw);
    comity_framework_free(fw2);
    fw = fw2 = NULL;
}

/* Every record refused for lack of memory at any allocation leaves no
 * trace: fed again, it is taken, and the case ends as it would have. */
static void test_alloc_failures(void **state)
{
    (void)state;
    TU_OK(comity_framework_new(&fw, E));
    char c[128], e1[128], cl[128], p[128], r[400];
    comity_record *rs[16];
    size_t n = 0;
    rs[n++] = mk(FR, "attribution-open", "2026-12-01T00:00:00.000Z", ALL_BUT(FR), NOID, B_OPEN, false);
    snprintf(c, sizeof c, "%s", comity_record_id(rs[0]));
    rs[n++] = mk(FR, "attribution-evidence", "2026-12-02T00:00:00.000Z", ALL_BUT(FR), c, B_EV, false);
    snprintf(e1, sizeof e1, "%s", comity_record_id(rs[1]));
    snprintf(r, sizeof r, "%s,%s", c, e1);
    rs[n++] = mk(DE, "attribution-rating", "2026-12-03T00:00:00.000Z", ALL_BUT(DE), r, B_RATE, false);
    rs[n++] = mk(FR, "attribution-claim", "2026-12-04T00:00:00.000Z", ALL_BUT(FR), r, B_CLAIM_AS, false);
    snprintf(cl, sizeof cl, "%s", comity_record_id(rs[3]));
    snprintf(r, sizeof r, "%s,%s", c, cl);
    rs[n++] = mk(RU, "attribution-reply", "2026-12-05T00:00:00.000Z", ALL_BUT(RU), r, B_DENY, false);
    rs[n++] = mk(FR, "attribution-panel", "2026-12-06T00:00:00.000Z", ALL_BUT(FR), c, B_PANEL, false);
    snprintf(p, sizeof p, "%s", comity_record_id(rs[5]));
    snprintf(r, sizeof r, "%s,%s", c, p);
    for (int k = RU; k <= JP; k++)
        rs[n++] = mk(k, "attribution-panel-agree", "2026-12-07T00:00:00.000Z", ALL_BUT(k), r, B_AGREE, false);
    snprintf(r, sizeof r, "%s,%s", c, cl);
    rs[n++] = mk(CH, "attribution-vote", "2026-12-08T00:00:00.000Z", ALL_BUT(CH), r, B_CONCUR, false);
    rs[n++] = mk(FR, "attribution-close", "2026-12-09T00:00:00.000Z", ALL_BUT(FR), c, B_CLOSE, false);
    for (size_t i = 0; i < n; i++) {
        long k;
        for (k = 1; k < 600; k++) {
            cy_alloc_fail_after(k);
            comity_err rc = comity_framework_add(fw, rs[i], NULL, 0, E);
            cy_alloc_fail_after(0);
            if (rc == COMITY_OK)
                break;
            if (rc != COMITY_ERR_NOMEM)
                fail_msg("record %zu, failing allocation %ld: %s", i, k, tu_last_err.msg);
        }
        assert_true(k > 1 && k < 600);
        comity_record_free(rs[i]);
    }
    json_t *j = view_of(fw, c, "fr.anssi", 0);
    assert_string_equal(json_string_value(json_object_get(j, "state")), "closed");
    json_t *a = json_object_get(j, "attribution");
    json_t *x = json_array_get(json_object_get(a, "claims"), 0);
    assert_int_equal(json_array_size(json_object_get(j, "thread")), (json_int_t)n);
    assert_int_equal(json_array_size(json_object_get(x, "replies")), 1);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(x, "tally"), "concur")), 1);
    assert_int_equal(json_array_size(json_object_get(json_object_get(a, "panel"), "agreed")), 7);
    assert_int_equal(json_array_size(json_object_get(json_array_get(json_object_get(a, "evidence"), 0), "ratings")), 1);
    json_decref(j);
    long k;
    for (k = 1; k < 600; k++) {
        char *json = NULL;
        cy_alloc_fail_after(k);
        comity_err rc = comity_framework_case(fw, c, "ch.ncsc", 0, &json, E);
        cy_alloc_fail_after(0);
        if (rc == COMITY_OK) {
            comity_free(json);
            break;
        }
        assert_int_equal(rc, COMITY_ERR_NOMEM);
        assert_null(json);
    }
    assert_true(k > 1 && k < 600);
    comity_framework_free(fw);
    fw = NULL;
}

/* ---- the actor vocabulary -------------------------------------------------------------- */

static json_t *find(comity_actors *a, const char *q, int exact)
{
    char *json;
    TU_OK(comity_actors_find(a, q, exact, 50, &json, E));
    json_t *j = json_loads(json, 0, NULL);
    comity_free(json);
    assert_non_null(j);
    return j;
}

static void test_actors(void **state)
{
    (void)state;
    comity_actors *a;
    TU_OK(comity_actors_new(&a, E));
    size_t len;
    char *text = tu_slurp(tu_shared("data/galaxy/threat-actor.json"), &len);
    TU_OK(comity_actors_import(a, text, len, NULL, E));
    free(text);
    json_t *j = find(a, "APT1", 1);
    assert_int_equal(json_integer_value(json_object_get(j, "known")), 1041);
    assert_int_equal(json_integer_value(json_object_get(j, "count")), 1);
    const char *name = json_string_value(json_object_get(json_array_get(json_object_get(j, "actors"), 0), "name"));
    char canon[256];
    snprintf(canon, sizeof canon, "%s", name);
    json_decref(j);
    /* a synonym, in any case, resolves to the same actor */
    j = find(a, "comment panda", 1);
    assert_int_equal(json_integer_value(json_object_get(j, "count")), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(j, "actors"), 0), "name")),
                        canon);
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(j, "actors"), 0), "country")),
                        "CN");
    json_decref(j);
    j = find(a, "sandworm", 0);
    assert_true(json_integer_value(json_object_get(j, "count")) >= 1);
    json_decref(j);
    j = find(a, "GRIDLOCK", 1);
    assert_int_equal(json_integer_value(json_object_get(j, "count")), 0);
    json_decref(j);
    /* extended by an actor record: its synonyms resolve to it */
    TU_OK(comity_actors_import(a, B_ACTOR, strlen(B_ACTOR), "attribution-actor--1", E));
    j = find(a, "storm-9999", 1);
    json_t *x = json_array_get(json_object_get(j, "actors"), 0);
    assert_string_equal(json_string_value(json_object_get(x, "name")), "GRIDLOCK");
    assert_string_equal(json_string_value(json_object_get(x, "id")), "attribution-actor--1");
    assert_string_equal(json_string_value(json_object_get(x, "source")), "record");
    json_decref(j);
    /* refusals */
    TU_FAILS(comity_actors_import(a, "[]", 2, NULL, E), COMITY_ERR_INVALID, "actors: want a JSON object");
    TU_FAILS(comity_actors_import(a, "{\"x\":1}", 7, NULL, E), COMITY_ERR_INVALID,
             "actors: want a galaxy cluster");
    TU_FAILS(comity_actors_import(a, "{\"values\":[{\"value\":\"\"}]}", 25, NULL, E),
             COMITY_ERR_INVALID, "actors: values[0]: want a name");
    char *json;
    TU_FAILS(comity_actors_find(a, "", 1, 10, &json, E), COMITY_ERR_USAGE, "actors: want a name");
    comity_actors_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schemas),
        cmocka_unit_test(test_opening),
        cmocka_unit_test(test_evidence_and_ratings),
        cmocka_unit_test(test_claims_replies_clock),
        cmocka_unit_test(test_panel_votes_close),
        cmocka_unit_test(test_transitions),
        cmocka_unit_test(test_sealed),
        cmocka_unit_test(test_alloc_failures),
        cmocka_unit_test(test_actors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
