/*
 * test_norms.c: prohibitions and norms (docs/norms.md): the catalogue
 * (built-in eleven, versions, who may publish, withdrawal), declarations
 * of protected infrastructure (visibility, versions, re-sealing to a state
 * that joined later, every refusal), complaints and vulnerability
 * disclosures on the case core (every transition allowed and refused, by
 * each role; clocks at their edges with the fake clock), the supply-chain
 * alert, and what non-parties see of it all (nothing).
 *
 * Records are made as a node receives them: signed with comity_record_sign
 * (COMITY_FAKE_NOW sets `created`) and checked with comity_record_verify
 * before being fed; sealed bodies are given opened where a party's client
 * would give them, and withheld where the node would see the envelope
 * alone.  The expectations are written from the issue, not read from the
 * library's tables.
 */
#include <stdlib.h>

#include <jansson.h>

#include "base/base.h"
#include "util/parties.h"

enum { PK_MOFA, IN_MEA, UN, US, PK_CERT, IN_CERT, FR_ANSSI, PK, IN, PK_MOITT, NK };
static const char *const names[NK] = {"pk.mofa",   "in.mea",     "un.unoda", "us.cisa",
                                      "pk.pkcert", "in.cert-in", "fr.anssi", "pk",
                                      "in",        "pk.moitt"};
static comity_key *keys[NK];
static comity_vkey *vkeys[NK];
static tu_parties cast = {names, keys, vkeys, NK, true};

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

/* Signs `body` as `who` at `at`, to the comma-separated names `to`, with
 * the comma-separated `refs` (both may be NULL), sealed (amber) when
 * `sealed`: to every party of ours that `to` names, or whose state it
 * names.  Verified as a node does. */
static comity_record *mk(int who, const char *type, const char *at, const char *to,
                         const char *refs, const char *body, bool sealed)
{
    return tu_record(&cast, who, type, at, to, refs, body, sealed);
}

/* Feeds r (then frees it), the sealed body given opened when `opened`,
 * after checking that the dry run agrees; copies its id into id. */
static comity_err feed(comity_framework *fw, comity_record *r, const char *opened, char *id)
{
    if (id)
        snprintf(id, 128, "%s", comity_record_id(r));
    size_t ol = opened ? strlen(opened) : 0;
    comity_error e1;
    comity_err c1 = comity_framework_check(fw, r, opened, ol, &e1);
    comity_err rc = comity_framework_add(fw, r, opened, ol, E);
    if (c1 != rc)
        fail_msg("check said %d (%s), add %d (%s)", c1, e1.msg, rc, tu_last_err.msg);
    comity_record_free(r);
    return rc;
}

/* clear (green) / sealed with the body withheld (as a node) / sealed with
 * the body given (as a party's client) */
#define ADD(who, type, at, to, refs, body, id) \
    feed(fw, mk((who), (type), (at), (to), (refs), (body), false), NULL, (id))
#define ADDS(who, type, at, to, refs, body, id) \
    feed(fw, mk((who), (type), (at), (to), (refs), (body), true), NULL, (id))
#define ADDO(who, type, at, to, refs, body, id) \
    feed(fw, mk((who), (type), (at), (to), (refs), (body), true), (body), (id))

static json_t *parse(char *json)
{
    json_t *j = json_loads(json, 0, NULL);
    assert_non_null(j);
    comity_free(json);
    return j;
}

static json_t *case_view(comity_framework *fw, const char *id, const char *party, int64_t now)
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

/* The clock `name` of case id at now: its due time; *overdue, *running. */
static int64_t clock_of(comity_framework *fw, const char *id, const char *name, int64_t now,
                        int *overdue, int *running)
{
    json_t *j = case_view(fw, id, NULL, now), *c;
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

static json_t *fact_of(comity_framework *fw, const char *id, const char *k)
{
    json_t *j = case_view(fw, id, NULL, 0);
    json_t *v = json_incref(json_object_get(json_object_get(j, "facts"), k));
    json_decref(j);
    return v; /* the caller decrefs */
}

/* ---- bodies ------------------------------------------------------------------------ */

#define B_ENTRY(norm, kind) \
    "{\"norm\":\"" norm "\",\"kind\":\"" kind "\",\"title\":\"t\",\"text\":\"x\",\"source\":\"s\"}"
#define B_DECL "{\"valid_from\":\"2026-01-01T00:00:00Z\",\"sectors\":[\"energy\",\"water\"]}"
#define B_DECL_FULL                                                                      \
    "{\"valid_from\":\"2026-01-01T00:00:00Z\",\"valid_until\":\"2027-01-01T00:00:00Z\","   \
    "\"sectors\":[\"energy\"],\"services\":[\"energy/National Grid Control Centre\"],"     \
    "\"certs\":[\"pk.pkcert\"],\"cert_status\":\"protected-13k\"}"
#define B_COMPLAINT                                                                       \
    "{\"norm\":\"13f\",\"basis\":\"responsibility\",\"subject\":\"grid outage\","          \
    "\"summary\":\"the 3 Dec attack on the grid operator\",\"sectors\":[\"energy\"]}"
#define B_REPLY "{\"answer\":\"will-investigate\",\"text\":\"we are looking\"}"
#define B_ACTED "{\"answer\":\"has-acted\",\"text\":\"done\",\"actions\":[\"servers seized\"]}"
#define B_CREQ "{\"subject\":\"the complaint\",\"summary\":\"talks\"}"
#define B_NOTE "{\"note\":\"received\"}"
#define B_CLOSE "{\"outcome\":\"consultations\"}"
#define B_DISC                                                                            \
    "{\"kind\":\"vulnerability\",\"product\":\"GridOS 4\",\"vendor\":\"Acme Controls\","    \
    "\"summary\":\"auth bypass\",\"norm\":\"13j\",\"embargo_days\":30}"
#define B_FIX "{\"fix\":\"GridOS 4.2\",\"cves\":[\"CVE-2026-12345\"]}"
#define B_PUB "{\"advisory\":\"https://acme.example/sa-1\",\"cves\":[\"CVE-2026-12345\"]}"
#define B_EXPL "{\"evidence\":\"seen against two utilities\"}"
#define B_ALERT "{\"product\":\"GridOS 4\",\"vendor\":\"Acme Controls\",\"summary\":\"patch\"}"

/* ---- schemas ------------------------------------------------------------------------- */

static void test_schemas(void **state)
{
    (void)state;
    static const struct { const char *type, *body; } ok[] = {
        {"norm-entry", B_ENTRY("13f", "voluntary-norm")},
        {"norm-entry", B_ENTRY("tr.art-3", "treaty-provision")},
        {"norm-declaration", B_DECL_FULL},
        {"norm-reseal", B_DECL},
        {"norm-alert", B_ALERT},
        {"norm-complaint", B_COMPLAINT},
        {"norm-complaint-reply", B_ACTED},
        {"norm-complaint-close", B_CLOSE},
        {"norm-disclosure", B_DISC},
        {"norm-disclosure-fix", B_FIX},
        {"norm-disclosure-publish", B_PUB},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        assert_true(comity_framework_handles(ok[i].type));
        TU_OK(comity_framework_check_body(ok[i].type, ok[i].body, strlen(ok[i].body), E));
    }
    static const struct { const char *type, *body, *needle; } bad[] = {
        {"norm-entry", B_ENTRY("13F", "voluntary-norm"), "norm-entry.body.norm"},
        {"norm-entry", B_ENTRY("13a", "treaty-provision"), "want voluntary-norm"},
        {"norm-entry",
         "{\"norm\":\"13k\",\"kind\":\"voluntary-norm\",\"title\":\"t\",\"text\":\"x\","
         "\"source\":\"s\",\"withdrawn\":true}", "cannot be withdrawn"},
        {"norm-entry", "{\"norm\":\"x\",\"kind\":\"cbm\",\"title\":\"t\",\"text\":\"x\"}",
         "norm-entry.body.source: missing"},
        {"norm-declaration", "{\"valid_from\":\"2026-01-01T00:00:00Z\"}", "want what is declared"},
        {"norm-declaration", "{\"valid_from\":\"2026-01-01T00:00:00Z\",\"sectors\":[\"mining\"]}",
         "norm-declaration.body.sectors[0]: want one of"},
        {"norm-declaration",
         "{\"valid_from\":\"2026-01-01T00:00:00Z\",\"services\":[\"Grid Control\"]}",
         "norm-declaration.body.services[0]"},
        {"norm-declaration",
         "{\"valid_from\":\"2026-01-01T00:00:00Z\",\"services\":[\"mining/x\"]}",
         "norm-declaration.body.services[0]"},
        {"norm-declaration", "{\"valid_from\":\"2026-01-01T00:00:00Z\",\"certs\":[\"pk.pkcert\"]}",
         "cert_status"},
        {"norm-declaration",
         "{\"valid_from\":\"2026-01-01T00:00:00Z\",\"sectors\":[\"energy\"],"
         "\"cert_status\":\"protected-13k\"}", "no certs"},
        {"norm-declaration",
         "{\"valid_from\":\"2026-01-01T00:00:00Z\",\"valid_until\":\"2025-01-01T00:00:00Z\","
         "\"sectors\":[\"energy\"]}", "valid_until"},
        {"norm-complaint",
         "{\"norm\":\"13c\",\"basis\":\"territory-13c\",\"subject\":\"s\",\"summary\":\"x\"}",
         "norm-complaint.body.asked"},
        {"norm-complaint",
         "{\"norm\":\"13f\",\"basis\":\"guilt\",\"subject\":\"s\",\"summary\":\"x\"}",
         "norm-complaint.body.basis"},
        {"norm-complaint",
         "{\"norm\":\"13f\",\"basis\":\"responsibility\",\"subject\":\"s\",\"summary\":\"x\","
         "\"activity_from\":\"2026-12-03T00:00:00Z\",\"activity_until\":\"2026-12-01T00:00:00Z\"}",
         "activity_until"},
        {"norm-complaint-reply", "{\"answer\":\"has-acted\",\"text\":\"x\"}", "actions"},
        {"norm-complaint-reply", "{\"answer\":\"maybe\",\"text\":\"x\"}", "answer"},
        {"norm-disclosure",
         "{\"kind\":\"vulnerability\",\"product\":\"p\",\"vendor\":\"v\",\"summary\":\"s\","
         "\"norm\":\"13i\"}", "a vulnerability falls under 13j"},
        {"norm-disclosure",
         "{\"kind\":\"hidden-function\",\"product\":\"p\",\"vendor\":\"v\",\"summary\":\"s\","
         "\"norm\":\"13f\"}", "13j (a vulnerability) or 13i"},
        {"norm-disclosure",
         "{\"kind\":\"vulnerability\",\"product\":\"p\",\"vendor\":\"v\",\"summary\":\"s\","
         "\"embargo_days\":0}", "embargo_days"},
        {"norm-disclosure-fix", "{\"fix\":\"x\",\"cves\":[\"CVE-26-1\"]}", "want a CVE id"},
        {"norm-disclosure-fix", "{\"fix\":\"x\",\"cves\":[\"CVE-2026-123\"]}", "want a CVE id"},
        {"norm-disclosure-fix", "{\"fix\":\"x\",\"cves\":[\"cve-2026-1234\"]}", "want a CVE id"},
        {"norm-disclosure-fix", "{\"fix\":\"x\",\"cves\":[\"CVE-1998-1234\"]}", "want a CVE id"},
        {"norm-disclosure-publish", "{\"cves\":[\"CVE-2026-1234\"]}", "advisory: missing"},
        {"norm-alert", "{\"product\":\"p\",\"vendor\":\"v\",\"summary\":\"s\",\"x\":1}",
         "unknown field"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        TU_FAILS(comity_framework_check_body(bad[i].type, bad[i].body, strlen(bad[i].body), E),
                 COMITY_ERR_INVALID, bad[i].needle);
    /* the eleven stay valid in notifications (the catalogue's first entries) */
    const char *n = "{\"severity\":4,\"sector\":\"energy\",\"summary\":\"x\",\"norm\":\"13k\"}";
    TU_OK(comity_framework_check_body("notification", n, strlen(n), E));
    char *b;
    TU_OK(comity_framework_norm_builtin("13f", &b, E));
    TU_OK(comity_framework_check_body("norm-entry", b, strlen(b), E));
    assert_non_null(strstr(b, "para 13(f)"));
    comity_free(b);
    TU_FAILS(comity_framework_norm_builtin("13l", &b, E), COMITY_ERR_NOTFOUND, "13a-13k");
}

/* ---- the catalogue ---------------------------------------------------------------------- */

static json_t *catalogue(comity_framework *fw)
{
    char *json;
    TU_OK(comity_framework_norms(fw, &json, E));
    return parse(json);
}

static json_t *entry(json_t *cat, const char *norm)
{
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(cat, "norms"), i, e) {
        if (!strcmp(json_string_value(json_object_get(e, "norm")), norm))
            return e;
    }
    return NULL;
}

static void test_catalogue(void **state)
{
    (void)state;
    comity_framework *fw;
    TU_OK(comity_framework_new(&fw, E));
    json_t *cat = catalogue(fw);
    assert_int_equal(json_array_size(json_object_get(cat, "norms")), 11);
    json_t *f = entry(cat, "13f");
    assert_int_equal(json_integer_value(json_object_get(f, "version")), 0);
    assert_true(json_is_true(json_object_get(f, "builtin")));
    assert_non_null(strstr(json_string_value(json_object_get(f, "source")), "A/70/174"));
    json_decref(cat);

    char v1[128], v2[128], tr[128];
    /* only the secretariat publishes, in clear */
    TU_FAILS(ADD(PK_MOFA, "norm-entry", "2026-12-01T00:00:00Z", NULL, NULL,
                 B_ENTRY("13f", "voluntary-norm"), NULL),
             COMITY_ERR_DENIED, "only the secretariat");
    TU_FAILS(ADDS(UN, "norm-entry", "2026-12-01T00:00:00Z", "pk", NULL,
                  B_ENTRY("13f", "voluntary-norm"), NULL),
             COMITY_ERR_INVALID, "the catalogue is public");
    /* a first version supersedes nothing; later ones name the current */
    TU_FAILS(ADD(UN, "norm-entry", "2026-12-01T00:00:00Z", NULL,
                 "norm-entry--00000000-0000-4000-8000-000000000000",
                 B_ENTRY("13f", "voluntary-norm"), NULL),
             COMITY_ERR_CONFLICT, "no recorded version");
    TU_OK(ADD(UN, "norm-entry", "2026-12-01T00:00:00Z", NULL, NULL,
              B_ENTRY("13f", "voluntary-norm"), v1));
    TU_FAILS(ADD(UN, "norm-entry", "2026-12-02T00:00:00Z", NULL, NULL,
                 B_ENTRY("13f", "voluntary-norm"), NULL),
             COMITY_ERR_CONFLICT, "must name it as refs[0]");
    TU_OK(ADD(UN, "norm-entry", "2026-12-02T00:00:00Z", NULL, v1,
              "{\"norm\":\"13f\",\"kind\":\"voluntary-norm\",\"title\":\"CI\",\"text\":\"v2\","
              "\"source\":\"A/70/174 para 13(f)\"}", v2));
    TU_FAILS(ADD(UN, "norm-entry", "2026-12-03T00:00:00Z", NULL, v1,
                 B_ENTRY("13f", "voluntary-norm"), NULL),
             COMITY_ERR_CONFLICT, "is at version 2");
    /* room for treaty provisions */
    TU_OK(ADD(UN, "norm-entry", "2026-12-02T00:00:00Z", NULL, NULL,
              B_ENTRY("tr.art-3", "treaty-provision"), tr));
    cat = catalogue(fw);
    assert_int_equal(json_array_size(json_object_get(cat, "norms")), 12);
    f = entry(cat, "13f");
    assert_int_equal(json_integer_value(json_object_get(f, "version")), 2);
    assert_string_equal(json_string_value(json_object_get(f, "text")), "v2");
    assert_int_equal(json_array_size(json_object_get(f, "versions")), 2); /* every version kept */
    assert_false(json_is_true(json_object_get(f, "builtin")) &&
                 json_integer_value(json_object_get(f, "version")) == 0);
    assert_string_equal(json_string_value(json_object_get(entry(cat, "tr.art-3"), "kind")),
                        "treaty-provision");
    json_decref(cat);
    /* a complaint may name a catalogued provision, not a withdrawn or unknown one */
    const char *c_tr = "{\"norm\":\"tr.art-3\",\"basis\":\"responsibility\",\"subject\":\"s\","
                       "\"summary\":\"x\"}";
    const char *c_unk = "{\"norm\":\"tr.art-9\",\"basis\":\"responsibility\",\"subject\":\"s\","
                        "\"summary\":\"x\"}";
    TU_OK(ADD(PK_MOFA, "norm-complaint", "2026-12-04T00:00:00Z", "in.mea", NULL, c_tr, NULL));
    TU_FAILS(ADD(PK_MOFA, "norm-complaint", "2026-12-04T00:00:00Z", "in.mea", NULL, c_unk, NULL),
             COMITY_ERR_NOTFOUND, "not in the norm catalogue");
    TU_OK(ADD(UN, "norm-entry", "2026-12-05T00:00:00Z", NULL, tr,
              "{\"norm\":\"tr.art-3\",\"kind\":\"treaty-provision\",\"title\":\"t\","
              "\"text\":\"x\",\"source\":\"s\",\"withdrawn\":true}", NULL));
    TU_FAILS(ADD(PK_MOFA, "norm-complaint", "2026-12-06T00:00:00Z", "in.mea", NULL, c_tr, NULL),
             COMITY_ERR_NOTFOUND, "tr.art-3 is not in the norm catalogue");
    /* fed twice */
    comity_record *r = mk(UN, "norm-entry", "2026-12-07T00:00:00Z", NULL, NULL,
                          B_ENTRY("x.1", "cbm"), false);
    TU_OK(comity_framework_add(fw, r, NULL, 0, E));
    TU_FAILS(comity_framework_add(fw, r, NULL, 0, E), COMITY_ERR_EXISTS, "already fed");
    comity_record_free(r);
    comity_framework_free(fw);
}

/* ---- declarations ------------------------------------------------------------------------- */

static json_t *decls(comity_framework *fw, const char *state, const char *viewer)
{
    char *json;
    TU_OK(comity_framework_norm_declarations(fw, state, viewer, T("2026-06-01T00:00:00Z"),
                                             &json, E));
    return parse(json);
}

static size_t ndecls(comity_framework *fw, const char *state, const char *viewer)
{
    json_t *j = decls(fw, state, viewer);
    size_t n = json_array_size(json_object_get(j, "declarations"));
    json_decref(j);
    return n;
}

static void test_declarations(void **state)
{
    (void)state;
    comity_framework *fw;
    TU_OK(comity_framework_new(&fw, E));
    char pub[128], part[128], self[128], v2[128], rs[128];
    TU_OK(ADD(PK_MOFA, "norm-declaration", "2026-01-01T00:00:00Z", NULL, NULL, B_DECL, pub));
    /* sealed to the participating states, its own among them */
    TU_FAILS(ADDS(PK_MOFA, "norm-declaration", "2026-01-02T00:00:00Z", "in", NULL, B_DECL, NULL),
             COMITY_ERR_INVALID, "must name its own state pk");
    TU_OK(ADDO(PK_MOFA, "norm-declaration", "2026-01-02T00:00:00Z", "pk,in", NULL, B_DECL_FULL,
               part));
    TU_OK(ADDS(PK_MOFA, "norm-declaration", "2026-01-03T00:00:00Z", "pk", NULL, B_DECL, self));
    /* a state declares its own CERTs (readable bodies) */
    TU_FAILS(ADD(PK_MOFA, "norm-declaration", "2026-01-04T00:00:00Z", NULL, NULL,
                 "{\"valid_from\":\"2026-01-01T00:00:00Z\",\"certs\":[\"in.cert-in\"],"
                 "\"cert_status\":\"protected-13k\"}", NULL),
             COMITY_ERR_INVALID, "in.cert-in is not a team of pk");
    /* versions: refs[0] the current one of the same state */
    TU_FAILS(ADD(IN_MEA, "norm-declaration", "2026-01-04T00:00:00Z", NULL, pub, B_DECL, NULL),
             COMITY_ERR_NOTFOUND, "no declaration of in");
    TU_OK(ADD(PK_MOFA, "norm-declaration", "2026-02-01T00:00:00Z", NULL, pub,
              "{\"valid_from\":\"2026-02-01T00:00:00Z\",\"sectors\":[\"energy\",\"water\","
              "\"health\"]}", v2));
    TU_FAILS(ADD(PK_MOFA, "norm-declaration", "2026-02-02T00:00:00Z", NULL, pub, B_DECL, NULL),
             COMITY_ERR_CONFLICT, "superseded already");

    /* who sees what: the declaring state all four; in the public two and
     * the one sealed to it; us and the secretariat the public two only */
    assert_int_equal(ndecls(fw, "pk", "pk.pkcert"), 4);
    assert_int_equal(ndecls(fw, "pk", "in.mea"), 3);
    assert_int_equal(ndecls(fw, "pk", "us.cisa"), 2);
    assert_int_equal(ndecls(fw, NULL, "un.unoda"), 2);
    assert_int_equal(ndecls(fw, "pk", NULL), 4); /* the operator: envelopes */
    json_t *j = decls(fw, "pk", "in.mea"), *d;
    size_t i;
    json_array_foreach(json_object_get(j, "declarations"), i, d) {
        const char *rec = json_string_value(json_object_get(d, "record"));
        const char *vis = json_string_value(json_object_get(d, "visibility"));
        if (!strcmp(rec, part)) {
            assert_string_equal(vis, "participating");
            assert_non_null(json_object_get(json_object_get(d, "body"), "certs"));
            assert_true(json_is_true(json_object_get(d, "in_force")));
        } else if (!strcmp(rec, pub)) {
            assert_string_equal(vis, "public");
            assert_false(json_is_true(json_object_get(d, "current")));
            assert_false(json_is_true(json_object_get(d, "in_force")));
        } else {
            assert_string_equal(rec, v2);
            assert_int_equal(json_integer_value(json_object_get(d, "version")), 2);
            assert_true(json_is_true(json_object_get(d, "current")));
        }
        assert_string_not_equal(rec, self);
    }
    json_decref(j);
    j = decls(fw, "pk", "pk.pkcert");
    json_array_foreach(json_object_get(j, "declarations"), i, d) {
        if (!strcmp(json_string_value(json_object_get(d, "record")), self)) {
            assert_string_equal(json_string_value(json_object_get(d, "visibility")), "self");
            assert_true(json_is_null(json_object_get(d, "body"))); /* sealed, not given */
            assert_true(json_is_null(json_object_get(d, "in_force")));
        }
    }
    json_decref(j);

    /* us joins: pk re-seals what it sealed to the participating states */
    TU_FAILS(ADD(PK_MOFA, "norm-reseal", "2026-03-01T00:00:00Z", "pk,in,us", part, B_DECL_FULL,
                 NULL),
             COMITY_ERR_INVALID, "must both be sealed");
    TU_FAILS(ADDS(PK_MOFA, "norm-reseal", "2026-03-01T00:00:00Z", "pk,in,us", pub, B_DECL, NULL),
             COMITY_ERR_INVALID, "must both be sealed");
    TU_FAILS(ADDS(PK_MOFA, "norm-reseal", "2026-03-01T00:00:00Z", "pk,us", part, B_DECL_FULL,
                  NULL),
             COMITY_ERR_INVALID, "must name in too");
    TU_FAILS(ADDS(PK_MOFA, "norm-reseal", "2026-03-01T00:00:00Z", "pk,in", part, B_DECL_FULL,
                  NULL),
             COMITY_ERR_INVALID, "names no one");
    TU_FAILS(ADDS(IN_MEA, "norm-reseal", "2026-03-01T00:00:00Z", "in,pk,us", part, B_DECL_FULL,
                  NULL),
             COMITY_ERR_NOTFOUND, "want a declaration of in");
    TU_FAILS(ADDS(PK_MOFA, "norm-reseal", "2026-03-01T00:00:00Z", "pk,us", self, B_DECL, NULL),
             COMITY_ERR_INVALID, "must both be sealed");
    assert_int_equal(ndecls(fw, "pk", "us.cisa"), 2);
    TU_OK(ADDO(PK_MOFA, "norm-reseal", "2026-03-01T00:00:00Z", "pk,in,us", part, B_DECL_FULL,
               rs));
    assert_int_equal(ndecls(fw, "pk", "us.cisa"), 3);
    assert_int_equal(ndecls(fw, "pk", "fr.anssi"), 2); /* still not fr */
    j = decls(fw, "pk", "us.cisa");
    json_array_foreach(json_object_get(j, "declarations"), i, d) {
        if (!strcmp(json_string_value(json_object_get(d, "record")), part)) {
            assert_string_equal(json_string_value(json_object_get(d, "open_with")), rs);
            assert_int_equal(json_integer_value(json_object_get(d, "version")), 1);
            assert_int_equal(json_array_size(json_object_get(d, "reseals")), 1);
        }
    }
    json_decref(j);
    j = decls(fw, "pk", "in.mea"); /* in still opens the original */
    json_array_foreach(json_object_get(j, "declarations"), i, d) {
        if (!strcmp(json_string_value(json_object_get(d, "record")), part))
            assert_string_equal(json_string_value(json_object_get(d, "open_with")), part);
    }
    json_decref(j);
    /* a re-seal is no version: the series' current version is still v2 */
    assert_int_equal(ndecls(fw, "pk", "pk.mofa"), 4);
    comity_framework_free(fw);
}

/* ---- complaints -------------------------------------------------------------------------- */

static void test_complaint(void **state)
{
    (void)state;
    comity_framework *fw;
    TU_OK(comity_framework_new(&fw, E));
    char c[128], k[128], other[128];
    const char *t0 = "2026-12-03T12:00:00Z";
    TU_OK(ADD(PK_MOFA, "norm-complaint", t0, "in.mea,un.unoda",
              "notification--00000000-0000-4000-8000-000000000001", B_COMPLAINT, c));
    assert_string_equal(state_of(fw, c), "complained");
    /* acknowledge: 72 hours; at the due millisecond not yet overdue */
    int over = -1, run = -1;
    int64_t due = clock_of(fw, c, "acknowledge", T(t0), &over, &run);
    assert_true(due == T(t0) + 72 * HOUR);
    clock_of(fw, c, "acknowledge", due, &over, &run);
    assert_int_equal(over, 0);
    clock_of(fw, c, "acknowledge", due + 1, &over, &run);
    assert_int_equal(over, 1);
    TU_OK(comity_framework_set_case_deadline(fw, NULL, "norm-acknowledge", 24 * HOUR, E));
    assert_true(clock_of(fw, c, "acknowledge", 0, NULL, NULL) == T(t0) + 24 * HOUR);
    /* overdue shown in the requested state's list */
    char *json;
    TU_OK(comity_framework_cases(fw, "in.mea", T(t0) + 25 * HOUR, &json, E));
    json_t *l = parse(json);
    json_t *item = json_array_get(json_object_get(l, "cases"), 0);
    assert_string_equal(json_string_value(json_object_get(item, "mechanism")), "norm-complaint");
    assert_true(json_is_true(json_object_get(item, "overdue")));
    json_decref(l);

    /* who may send what */
    TU_FAILS(ADD(PK_MOFA, "norm-complaint-ack", "2026-12-04T00:00:00Z", "in.mea,un.unoda", c,
                 B_NOTE, NULL),
             COMITY_ERR_DENIED, "only the requested");
    TU_FAILS(ADD(UN, "norm-complaint-ack", "2026-12-04T00:00:00Z", "pk.mofa,in.mea", c, B_NOTE,
                 NULL),
             COMITY_ERR_DENIED, NULL);
    TU_FAILS(ADD(IN_MEA, "norm-complaint-close", "2026-12-04T00:00:00Z", "pk.mofa,un.unoda", c,
                 B_CLOSE, NULL),
             COMITY_ERR_DENIED, "only the requester");
    TU_FAILS(ADD(US, "norm-complaint-ack", "2026-12-04T00:00:00Z", "pk.mofa,in.mea,un.unoda", c,
                 B_NOTE, NULL),
             COMITY_ERR_NOTFOUND, NULL);
    TU_OK(ADD(IN_MEA, "norm-complaint-ack", "2026-12-04T00:00:00Z", "pk.mofa,un.unoda", c,
              B_NOTE, NULL));
    assert_string_equal(state_of(fw, c), "acknowledged");
    TU_FAILS(ADD(IN_MEA, "norm-complaint-ack", "2026-12-04T01:00:00Z", "pk.mofa,un.unoda", c,
                 B_NOTE, NULL),
             COMITY_ERR_CONFLICT, "is acknowledged");
    /* reply: 30 days from the acknowledgement */
    assert_true(clock_of(fw, c, "reply", 0, NULL, NULL) == T("2026-12-04T00:00:00Z") + 30 * DAY);
    clock_of(fw, c, "acknowledge", 0, NULL, &run);
    assert_int_equal(run, 0);
    TU_OK(ADD(IN_MEA, "norm-complaint-reply", "2026-12-10T00:00:00Z", "pk.mofa,un.unoda", c,
              B_REPLY, NULL));
    assert_string_equal(state_of(fw, c), "replied");
    clock_of(fw, c, "reply", 0, NULL, &run);
    assert_int_equal(run, 0);
    TU_FAILS(ADD(PK_MOFA, "norm-complaint-reply", "2026-12-11T00:00:00Z", "in.mea,un.unoda", c,
                 B_REPLY, NULL),
             COMITY_ERR_DENIED, NULL);
    TU_OK(ADD(IN_MEA, "norm-complaint-reply", "2026-12-20T00:00:00Z", "pk.mofa,un.unoda", c,
              B_ACTED, NULL));
    json_t *ans = fact_of(fw, c, "answer");
    assert_string_equal(json_string_value(ans), "has-acted");
    json_decref(ans);
    json_t *reps = fact_of(fw, c, "replies");
    assert_int_equal(json_array_size(reps), 2);
    json_decref(reps);

    /* consultations proposed: a consultation case about the complaint, linked */
    TU_OK(ADD(PK_MOFA, "consult-request", "2026-12-21T00:00:00Z", "fr.anssi", c, B_CREQ, other));
    TU_FAILS(ADD(PK_MOFA, "norm-complaint-consult", "2026-12-21T01:00:00Z", "in.mea,un.unoda",
                 NULL, B_NOTE, NULL),
             COMITY_ERR_INVALID, "want the case it belongs to first");
    char refs[300];
    snprintf(refs, sizeof refs, "%s,%s", c, other);
    TU_FAILS(ADD(PK_MOFA, "norm-complaint-consult", "2026-12-21T01:00:00Z", "in.mea,un.unoda",
                 refs, B_NOTE, NULL),
             COMITY_ERR_INVALID, "between the two states");
    TU_OK(ADD(PK_MOFA, "consult-request", "2026-12-21T00:00:00Z", "in.mea,un.unoda",
              "notification--00000000-0000-4000-8000-000000000001", B_CREQ, other));
    snprintf(refs, sizeof refs, "%s,%s", c, other);
    TU_FAILS(ADD(IN_MEA, "norm-complaint-consult", "2026-12-21T01:00:00Z", "pk.mofa,un.unoda",
                 refs, B_NOTE, NULL),
             COMITY_ERR_INVALID, "whose refs name complaint"); /* not about the complaint */
    TU_OK(ADD(IN_MEA, "consult-request", "2026-12-21T00:00:00Z", "pk.mofa,un.unoda", c, B_CREQ,
              k));
    snprintf(refs, sizeof refs, "%s,%s", c, k);
    TU_OK(ADD(IN_MEA, "norm-complaint-consult", "2026-12-21T01:00:00Z", "pk.mofa,un.unoda", refs,
              B_NOTE, NULL));
    assert_string_equal(state_of(fw, c), "consultations");
    json_t *link = fact_of(fw, c, "consultation");
    assert_string_equal(json_string_value(link), k);
    json_decref(link);
    /* ... and the consultation names the complaint back (its `about`, from
     * its opening's refs), as both states read the consultation */
    const char *const sides[] = {"pk.mofa", "in.mea"};
    for (size_t i = 0; i < 2; i++) {
        json_t *kview = case_view(fw, k, sides[i], 0);
        json_t *about = json_object_get(json_object_get(kview, "facts"), "about");
        bool back = false;
        for (size_t a = 0; a < json_array_size(about); a++)
            back |= !strcmp(json_string_value(json_array_get(about, a)), c);
        if (!back)
            fail_msg("consultation %s, as %s reads it, does not name complaint %s", k, sides[i], c);
        json_decref(kview);
    }
    TU_FAILS(ADD(PK_MOFA, "norm-complaint-consult", "2026-12-22T01:00:00Z", "in.mea,un.unoda",
                 refs, B_NOTE, NULL),
             COMITY_ERR_CONFLICT, "is consultations");
    TU_OK(ADD(PK_MOFA, "norm-complaint-close", "2027-01-10T00:00:00Z", "in.mea,un.unoda", c,
              B_CLOSE, NULL));
    assert_string_equal(state_of(fw, c), "closed");
    json_t *out = fact_of(fw, c, "outcome");
    assert_string_equal(json_string_value(out), "consultations");
    json_decref(out);
    TU_FAILS(ADD(IN_MEA, "norm-complaint-reply", "2027-01-11T00:00:00Z", "pk.mofa,un.unoda", c,
                 B_REPLY, NULL),
             COMITY_ERR_CONFLICT, "is closed");

    /* a reply without acknowledgement acknowledges; the complainant may
     * close at any open state; a request to act under 13(c) to the
     * territorial state (a bare state) */
    char c2[128];
    TU_OK(ADD(PK_MOFA, "norm-complaint", t0, "in",  NULL,
              "{\"norm\":\"13c\",\"basis\":\"territory-13c\",\"subject\":\"c2 servers\","
              "\"summary\":\"x\",\"asked\":\"take the servers down\"}", c2));
    TU_OK(ADD(IN_CERT, "norm-complaint-reply", "2026-12-04T00:00:00Z", "pk.mofa", c2, B_ACTED,
              NULL));
    assert_string_equal(state_of(fw, c2), "replied");
    clock_of(fw, c2, "acknowledge", 0, NULL, &run);
    assert_int_equal(run, 0);
    TU_OK(ADD(PK_MOFA, "norm-complaint-close", "2026-12-05T00:00:00Z", "in", c2,
              "{\"outcome\":\"acted\"}", NULL));
    char c3[128];
    TU_OK(ADD(PK_MOFA, "norm-complaint", t0, "in.mea", NULL, B_COMPLAINT, c3));
    TU_OK(ADD(PK_MOFA, "norm-complaint-close", "2026-12-04T00:00:00Z", "in.mea", c3,
              "{\"outcome\":\"withdrawn\"}", NULL));
    assert_string_equal(state_of(fw, c3), "closed");
    /* envelope rules of the core apply */
    TU_FAILS(ADD(PK_MOFA, "norm-complaint", t0, "pk.pkcert", NULL, B_COMPLAINT, NULL),
             COMITY_ERR_INVALID, "another state");
    comity_framework_free(fw);
}

/* ---- disclosures and the alert ------------------------------------------------------------- */

static void test_disclosure(void **state)
{
    (void)state;
    comity_framework *fw;
    TU_OK(comity_framework_new(&fw, E));
    char d[128], d2[128], a[128];
    const char *t0 = "2026-12-01T00:00:00Z";
    TU_FAILS(ADD(PK_CERT, "norm-disclosure", t0, "in.cert-in", NULL, B_DISC, NULL),
             COMITY_ERR_INVALID, "sealed to the vendor's state");
    /* the body given: the embargo is its 30 days */
    TU_OK(ADDO(PK_CERT, "norm-disclosure", t0, "in.cert-in", NULL, B_DISC, d));
    assert_string_equal(state_of(fw, d), "reported");
    assert_true(clock_of(fw, d, "embargo", 0, NULL, NULL) == T(t0) + 30 * DAY);
    assert_true(clock_of(fw, d, "acknowledge", 0, NULL, NULL) == T(t0) + 7 * DAY);
    /* as the node sees it (body sealed): the default, 90 days */
    TU_OK(ADDS(PK_CERT, "norm-disclosure", t0, "in.cert-in", NULL, B_DISC, d2));
    int over = -1, run = -1;
    int64_t due = clock_of(fw, d2, "embargo", 0, &over, &run);
    assert_true(due == T(t0) + 90 * DAY);
    clock_of(fw, d2, "embargo", due, &over, NULL);
    assert_int_equal(over, 0);
    clock_of(fw, d2, "embargo", due + 1, &over, NULL);
    assert_int_equal(over, 1);

    /* an alert before the embargo ends, unexploited: refused */
    TU_FAILS(ADD(PK_CERT, "norm-alert", "2026-12-05T00:00:00Z", "in,pk,us,fr", d, B_ALERT, NULL),
             COMITY_ERR_CONFLICT, "too soon");
    TU_FAILS(ADD(US, "norm-alert", "2026-12-05T00:00:00Z", "in,pk,fr", d, B_ALERT, NULL),
             COMITY_ERR_NOTFOUND, "no disclosure case");
    /* steps: who and when */
    TU_FAILS(ADDS(PK_CERT, "norm-disclosure-ack", "2026-12-02T00:00:00Z", "in.cert-in", d,
                  B_NOTE, NULL),
             COMITY_ERR_DENIED, "only the requested");
    TU_FAILS(ADDS(IN_CERT, "norm-disclosure-publish", "2026-12-02T00:00:00Z", "in.cert-in", d,
                  B_PUB, NULL),
             COMITY_ERR_INVALID, NULL); /* to must name the other party */
    TU_FAILS(ADD(IN_CERT, "norm-disclosure-ack", "2026-12-02T00:00:00Z", "pk.pkcert", d, B_NOTE,
                 NULL),
             COMITY_ERR_INVALID, "sealed"); /* a sealed case takes sealed records */
    TU_OK(ADDO(IN_CERT, "norm-disclosure-ack", "2026-12-02T00:00:00Z", "pk.pkcert", d, B_NOTE,
               NULL));
    assert_string_equal(state_of(fw, d), "acknowledged");
    TU_FAILS(ADDO(IN_CERT, "norm-disclosure-ack", "2026-12-02T00:00:00Z", "pk.pkcert", d, B_NOTE,
                  NULL),
             COMITY_ERR_CONFLICT, "is acknowledged");
    TU_FAILS(ADDO(PK_CERT, "norm-disclosure-fix", "2026-12-20T00:00:00Z", "in.cert-in", d, B_FIX,
                  NULL),
             COMITY_ERR_DENIED, NULL);
    TU_OK(ADDO(IN_CERT, "norm-disclosure-fix", "2026-12-20T00:00:00Z", "pk.pkcert", d, B_FIX,
               NULL));
    assert_string_equal(state_of(fw, d), "fix-available");
    clock_of(fw, d, "embargo", 0, NULL, &run);
    assert_int_equal(run, 1); /* still under embargo until published */
    TU_OK(ADDO(PK_CERT, "norm-disclosure-publish", "2026-12-28T00:00:00Z", "in.cert-in", d, B_PUB,
               NULL));
    assert_string_equal(state_of(fw, d), "published");
    clock_of(fw, d, "embargo", 0, NULL, &run);
    assert_int_equal(run, 0);
    json_t *cves = fact_of(fw, d, "cves");
    assert_int_equal(json_array_size(cves), 1); /* kept once */
    json_decref(cves);
    TU_FAILS(ADDO(IN_CERT, "norm-disclosure-fix", "2026-12-29T00:00:00Z", "pk.pkcert", d, B_FIX,
                  NULL),
             COMITY_ERR_CONFLICT, "is published");
    /* published: the alert goes to every participating state */
    TU_FAILS(ADD(PK_CERT, "norm-alert", "2026-12-28T01:00:00Z", "pk,in", d, B_ALERT, NULL),
             COMITY_ERR_INVALID, "at least one beyond");
    TU_OK(ADD(PK_CERT, "norm-alert", "2026-12-28T01:00:00Z", "in,pk,us,fr", d, B_ALERT, a));
    json_t *al = fact_of(fw, d, "alerts");
    assert_string_equal(json_string_value(json_array_get(al, 0)), a);
    json_decref(al);

    /* exploited in the wild: the alert may go sooner */
    TU_OK(ADDS(IN_CERT, "norm-disclosure-exploited", "2026-12-10T00:00:00Z", "pk.pkcert", d2,
               B_EXPL, NULL));
    assert_string_equal(state_of(fw, d2), "reported");
    TU_OK(ADDS(IN_CERT, "norm-alert", "2026-12-10T01:00:00Z", "in,pk,us,fr", d2, B_ALERT, NULL));
    /* the embargo's end: at its millisecond still refused, after it taken */
    char d3[128];
    TU_OK(ADDS(PK_CERT, "norm-disclosure", t0, "in.cert-in", NULL, B_DISC, d3));
    TU_FAILS(ADD(PK_CERT, "norm-alert", "2027-03-01T00:00:00Z", "in,pk,us", d3, B_ALERT, NULL),
             COMITY_ERR_CONFLICT, "under embargo"); /* 2027-03-01 = t0 + 90 days */
    TU_OK(ADD(PK_CERT, "norm-alert", "2027-03-01T00:00:00.001Z", "in,pk,us", d3, B_ALERT, NULL));
    /* closed (withdrawn) by the reporter: no alert */
    char d4[128];
    TU_OK(ADDS(PK_CERT, "norm-disclosure", t0, "in.cert-in", NULL, B_DISC, d4));
    TU_FAILS(ADDS(IN_CERT, "norm-disclosure-close", "2026-12-02T00:00:00Z", "pk.pkcert", d4,
                  "{\"reason\":\"x\"}", NULL),
             COMITY_ERR_DENIED, NULL);
    TU_OK(ADDS(PK_CERT, "norm-disclosure-close", "2026-12-02T00:00:00Z", "in.cert-in", d4,
               "{\"reason\":\"not a flaw\"}", NULL));
    TU_FAILS(ADD(PK_CERT, "norm-alert", "2027-06-01T00:00:00Z", "in,pk,us", d4, B_ALERT, NULL),
             COMITY_ERR_CONFLICT, "closed");
    comity_framework_free(fw);
}

/* ---- implementation reports ---------------------------------------------------------------- */

#define B_SEC(period, norm, extra) \
    "{\"period\":\"" period "\",\"norm\":\"" norm "\",\"done\":\"x\"" extra "}"

static json_t *reports(comity_framework *fw, const char *period, const char *norm)
{
    char *json;
    TU_OK(comity_framework_norm_reports(fw, period, norm, &json, E));
    return parse(json);
}

static void test_reports(void **state)
{
    (void)state;
    const char *ok = B_SEC("2026-H1", "13k", ",\"laws\":[\"CERT Act 2026\"],"
                                             "\"contacts\":[\"pk.pkcert\"],\"needs\":[\"forensics\"]");
    TU_OK(comity_framework_check_body("norm-report", ok, strlen(ok), E));
    static const struct { const char *body, *needle; } bad[] = {
        {B_SEC("2026-H3", "13k", ""), "norm-report.body.period"},
        {B_SEC("26", "13k", ""), "norm-report.body.period"},
        {B_SEC("2026-Q5", "13k", ""), "norm-report.body.period"},
        {B_SEC("2026", "13k", ",\"needs\":[\"money\"]"), "norm-report.body.needs[0]: want one of"},
        {B_SEC("2026", "13k", ",\"offers\":[\"x\"]"), "norm-report.body.offers[0]"},
        {"{\"period\":\"2026\",\"norm\":\"13k\"}", "norm-report.body.done: missing"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        TU_FAILS(comity_framework_check_body("norm-report", bad[i].body, strlen(bad[i].body), E),
                 COMITY_ERR_INVALID, bad[i].needle);

    comity_framework *fw;
    TU_OK(comity_framework_new(&fw, E));
    char p1[128], p2[128];
    TU_FAILS(ADDS(PK_MOFA, "norm-report", "2026-07-01T00:00:00Z", "in", NULL, ok, NULL),
             COMITY_ERR_INVALID, "want tlp clear or green");
    TU_FAILS(ADD(PK_MOFA, "norm-report", "2026-07-01T00:00:00Z", NULL, NULL,
                 B_SEC("2026", "tr.x", ""), NULL),
             COMITY_ERR_NOTFOUND, "not in the norm catalogue");
    TU_FAILS(ADD(PK_MOFA, "norm-report", "2026-07-01T00:00:00Z", NULL, NULL,
                 B_SEC("2026", "13k", ",\"contacts\":[\"in.mea\"]"), NULL),
             COMITY_ERR_INVALID, "in.mea is not an office of pk");
    TU_OK(ADD(PK_MOFA, "norm-report", "2026-07-01T00:00:00Z", NULL, NULL, ok, p1));
    TU_FAILS(ADD(PK_CERT, "norm-report", "2026-07-02T00:00:00Z", NULL, NULL, ok, NULL),
             COMITY_ERR_CONFLICT, "is at version 1"); /* another office of pk: same section */
    TU_FAILS(ADD(PK_MOFA, "norm-report", "2026-07-02T00:00:00Z", NULL, p1,
                 B_SEC("2026-H1", "13f", ""), NULL),
             COMITY_ERR_CONFLICT, "no section on 13f");
    TU_OK(ADD(PK_CERT, "norm-report", "2026-07-02T00:00:00Z", NULL, p1,
              B_SEC("2026-H1", "13k", ",\"needs\":[\"forensics\",\"legislation\"]"), p2));
    TU_OK(ADD(IN_MEA, "norm-report", "2026-07-03T00:00:00Z", NULL, NULL,
              B_SEC("2026-H1", "13k", ",\"offers\":[\"legislation\"]"), NULL));
    char u1[128];
    TU_OK(ADD(US, "norm-report", "2026-07-03T00:00:00Z", NULL, NULL,
              B_SEC("2026-H1", "13f", ",\"offers\":[\"forensics\"]"), u1));
    /* a new version: its offers replace the old one's in the matching */
    TU_OK(ADD(US, "norm-report", "2026-07-03T01:00:00Z", NULL, u1,
              B_SEC("2026-H1", "13f", ",\"offers\":[\"forensics\",\"legislation\"]"), NULL));
    TU_OK(ADD(FR_ANSSI, "norm-report", "2026-07-03T00:00:00Z", NULL, NULL,
              B_SEC("2026", "13k", ",\"offers\":[\"forensics\"]"), NULL)); /* another period */

    /* compared norm by norm: each state's current section */
    json_t *j = reports(fw, "2026-H1", "13k");
    json_t *n0 = json_array_get(json_object_get(j, "norms"), 0);
    assert_int_equal(json_array_size(json_object_get(j, "norms")), 1);
    assert_string_equal(json_string_value(json_object_get(n0, "norm")), "13k");
    json_t *sts = json_object_get(n0, "states");
    assert_int_equal(json_array_size(sts), 2);
    json_t *pk = json_array_get(sts, 0);
    assert_string_equal(json_string_value(json_object_get(pk, "state")), "pk");
    assert_string_equal(json_string_value(json_object_get(pk, "record")), p2);
    assert_int_equal(json_integer_value(json_object_get(pk, "version")), 2);
    /* needs matched: pk's forensics by us (another norm); legislation by
     * in (same norm) first, then us */
    json_t *needs = json_object_get(j, "needs"), *nd;
    size_t i;
    assert_int_equal(json_array_size(needs), 2);
    json_array_foreach(needs, i, nd) {
        const char *topic = json_string_value(json_object_get(nd, "topic"));
        json_t *by = json_object_get(nd, "offered_by");
        if (!strcmp(topic, "forensics")) {
            assert_int_equal(json_array_size(by), 1); /* not fr: another period */
            assert_int_equal(json_integer_value(json_object_get(nd, "offers")), 1);
            assert_int_equal(json_integer_value(json_object_get(nd, "offers_same_norm")), 0);
            assert_string_equal(json_string_value(json_object_get(json_array_get(by, 0), "state")), "us");
            assert_false(json_is_true(json_object_get(json_array_get(by, 0), "same_norm")));
        } else {
            assert_string_equal(topic, "legislation");
            assert_int_equal(json_array_size(by), 2);
            assert_int_equal(json_integer_value(json_object_get(nd, "offers")), 2);
            assert_int_equal(json_integer_value(json_object_get(nd, "offers_same_norm")), 1);
            assert_string_equal(json_string_value(json_object_get(json_array_get(by, 0), "state")), "in");
            assert_true(json_is_true(json_object_get(json_array_get(by, 0), "same_norm")));
            assert_string_equal(json_string_value(json_object_get(json_array_get(by, 1), "state")), "us");
        }
    }
    json_decref(j);
    /* every norm: counted, no section listed */
    j = reports(fw, "2026-H1", NULL);
    json_t *ns = json_object_get(j, "norms");
    assert_int_equal(json_array_size(ns), 2);
    assert_true(json_is_null(json_object_get(j, "norm")));
    json_array_foreach(ns, i, nd) {
        assert_null(json_object_get(nd, "states"));
        const char *nm = json_string_value(json_object_get(nd, "norm"));
        assert_int_equal(json_integer_value(json_object_get(nd, "reported")), !strcmp(nm, "13k") ? 2 : 1);
        if (!strcmp(nm, "13k")) {
            assert_int_equal(json_integer_value(json_object_get(json_object_get(nd, "needs"), "forensics")), 1);
            assert_int_equal(json_integer_value(json_object_get(json_object_get(nd, "offers"), "legislation")), 1);
        }
    }
    json_t *tp;
    int seen = 0;
    json_array_foreach(json_object_get(j, "topics"), i, tp) {
        const char *topic = json_string_value(json_object_get(tp, "topic"));
        if (!strcmp(topic, "legislation")) { /* needed by pk; offered by in and us */
            assert_int_equal(json_integer_value(json_object_get(tp, "needed")), 1);
            assert_int_equal(json_integer_value(json_object_get(tp, "offering_states")), 2);
            seen++;
        }
    }
    assert_int_equal(seen, 1);
    json_decref(j);
    j = reports(fw, "2026-H1", "13a"); /* no one reported on it */
    assert_int_equal(json_array_size(json_object_get(j, "norms")), 0);
    json_decref(j);
    /* us drops forensics: pk's need is matched by no one */
    TU_FAILS(ADD(US, "norm-report", "2026-07-04T00:00:00Z", NULL, NULL,
                 B_SEC("2026-H1", "13f", ",\"offers\":[\"legislation\"]"), NULL),
             COMITY_ERR_CONFLICT, "is at version 2");
    j = reports(fw, "2026-H1", "13f");
    const char *v2 = json_string_value(json_object_get(
        json_array_get(json_object_get(json_array_get(json_object_get(j, "norms"), 0), "states"), 0),
        "record"));
    char v2id[128];
    snprintf(v2id, sizeof v2id, "%s", v2);
    json_decref(j);
    TU_OK(ADD(US, "norm-report", "2026-07-04T00:00:00Z", NULL, v2id,
              B_SEC("2026-H1", "13f", ",\"offers\":[\"legislation\"]"), NULL));
    j = reports(fw, "2026-H1", "13k");
    json_array_foreach(json_object_get(j, "needs"), i, nd) {
        if (!strcmp(json_string_value(json_object_get(nd, "topic")), "forensics")) {
            assert_int_equal(json_integer_value(json_object_get(nd, "offers")), 0);
            assert_int_equal(json_array_size(json_object_get(nd, "offered_by")), 0);
        }
    }
    json_decref(j);
    char *json;
    TU_FAILS(comity_framework_norm_reports(fw, "H1", NULL, &json, E), COMITY_ERR_USAGE, "period");
    comity_framework_free(fw);
}

/* Many states offering a need's topic: they are counted, and the first
 * CY_NORM_MATCH_SHOWN (8) listed, the same norm first. */
static void test_reports_cap(void **state)
{
    (void)state;
    comity_framework *fw;
    TU_OK(comity_framework_new(&fw, E));
    setenv("COMITY_FAKE_NOW", "2026-07-01T00:00:00Z", 1);
    for (int i = 0; i < 13; i++) {
        char name[32], body[256];
        snprintf(name, sizeof name, "s%c.mofa", 'a' + i);
        /* sa needs; sb-sf offer under 13a, sg-sm under 13b */
        snprintf(body, sizeof body, "{\"period\":\"2026\",\"norm\":\"13%c\",\"done\":\"x\",\"%s\":[\"forensics\"]}",
                 i < 6 ? 'a' : 'b', i ? "offers" : "needs");
        comity_key *k;
        TU_OK(comity_key_generate(name, &k, E));
        comity_record_params p = {.type = "norm-report", .tlp = "green"};
        char *env;
        size_t el;
        comity_record *r;
        TU_OK(comity_record_sign(k, &p, body, strlen(body), &env, &el, E));
        TU_OK(comity_record_parse(env, el, &r, E));
        TU_OK(comity_framework_add(fw, r, NULL, 0, E));
        comity_record_free(r);
        comity_free(env);
        comity_key_free(k);
    }
    unsetenv("COMITY_FAKE_NOW");
    json_t *j = reports(fw, "2026", "13a");
    json_t *nd = json_array_get(json_object_get(j, "needs"), 0);
    assert_int_equal(json_array_size(json_object_get(j, "needs")), 1);
    assert_int_equal(json_integer_value(json_object_get(nd, "offers")), 12);
    assert_int_equal(json_integer_value(json_object_get(nd, "offers_same_norm")), 5);
    json_t *by = json_object_get(nd, "offered_by");
    assert_int_equal(json_array_size(by), 8);
    for (size_t i = 0; i < 8; i++)
        assert_int_equal(json_is_true(json_object_get(json_array_get(by, i), "same_norm")), i < 5);
    json_decref(j);
    comity_framework_free(fw);
}

/* ---- national positions ------------------------------------------------------------------------ */

static void test_positions(void **state)
{
    (void)state;
    comity_framework *fw;
    TU_OK(comity_framework_new(&fw, E));
    const char *draft = "{\"topic\":\"sovereignty\",\"text\":\"a rule, not a principle\"}";
    const char *pub = "{\"topic\":\"sovereignty\",\"text\":\"Sovereignty is a rule.\","
                      "\"sources\":[\"UN Charter Art. 2(1)\"]}";
    const char *dele = "{\"office\":\"pk.mofa\",\"valid_from\":\"2026-01-01T00:00:00Z\","
                       "\"valid_until\":\"2027-01-01T00:00:00Z\"}";
    const char *b1 = "{\"topic\":\"war\",\"text\":\"x\"}";
    const char *b2 = "{\"office\":\"pk\",\"valid_from\":\"2026-01-01T00:00:00Z\"}";
    TU_FAILS(comity_framework_check_body("norm-position", b1, strlen(b1), E), COMITY_ERR_INVALID,
             "norm-position.body.topic");
    TU_FAILS(comity_framework_check_body("norm-position-delegation", b2, strlen(b2), E),
             COMITY_ERR_INVALID, "want an office");
    char d1[128], d2[128], p1[128];
    /* drafting stays inside the state, by three offices */
    TU_FAILS(ADD(PK_MOFA, "norm-position-draft", "2026-02-01T00:00:00Z", NULL, NULL, draft, NULL),
             COMITY_ERR_INVALID, "stay inside the state");
    TU_FAILS(ADDS(PK_MOFA, "norm-position-draft", "2026-02-01T00:00:00Z", "pk,in", NULL, draft,
                  NULL),
             COMITY_ERR_INVALID, "sealed to pk");
    TU_OK(ADDO(PK_MOFA, "norm-position-draft", "2026-02-01T00:00:00Z", "pk", NULL, draft, d1));
    TU_OK(ADDS(PK_CERT, "norm-position-comment", "2026-02-02T00:00:00Z", "pk", d1,
               "{\"text\":\"add due diligence\"}", NULL));
    TU_FAILS(ADDS(IN_MEA, "norm-position-comment", "2026-02-02T00:00:00Z", "in", d1,
                  "{\"text\":\"x\"}", NULL),
             COMITY_ERR_NOTFOUND, "want a draft of in");
    TU_OK(ADDS(PK_MOITT, "norm-position-draft", "2026-02-03T00:00:00Z", "pk", d1, draft, d2));
    /* only the state key delegates, in clear, to its own office */
    TU_FAILS(ADD(PK_MOFA, "norm-position-delegation", "2026-01-01T00:00:00Z", NULL, NULL, dele, NULL),
             COMITY_ERR_DENIED, "only the state key (pk)");
    TU_FAILS(ADD(IN, "norm-position-delegation", "2026-01-01T00:00:00Z", NULL, NULL, dele, NULL),
             COMITY_ERR_INVALID, "not an office of in");
    TU_FAILS(ADDS(PK, "norm-position-delegation", "2026-01-01T00:00:00Z", "pk", NULL, dele, NULL),
             COMITY_ERR_INVALID, "want tlp clear or green");
    /* publishing: a delegated office, at a time its delegation covers */
    TU_FAILS(ADD(PK_MOFA, "norm-position", "2026-03-01T00:00:00Z", NULL, d2, pub, NULL),
             COMITY_ERR_DENIED, "holds no delegation");
    TU_OK(ADD(PK, "norm-position-delegation", "2026-01-01T00:00:00Z", NULL, NULL, dele, NULL));
    TU_FAILS(ADD(PK_CERT, "norm-position", "2026-03-01T00:00:00Z", NULL, d2, pub, NULL),
             COMITY_ERR_DENIED, "pk.pkcert holds no delegation");
    TU_FAILS(ADD(PK_MOFA, "norm-position", "2027-03-01T00:00:00Z", NULL, d2, pub, NULL),
             COMITY_ERR_DENIED, "holds no delegation"); /* expired */
    TU_FAILS(ADDS(PK_MOFA, "norm-position", "2026-03-01T00:00:00Z", "pk", d2, pub, NULL),
             COMITY_ERR_INVALID, "is public");
    TU_OK(ADD(PK_MOFA, "norm-position", "2026-03-01T00:00:00Z", NULL, d2, pub, p1));
    TU_FAILS(ADD(PK_MOFA, "norm-position", "2026-04-01T00:00:00Z", NULL, NULL, pub, NULL),
             COMITY_ERR_CONFLICT, "is at version 1");
    TU_OK(ADD(PK_MOFA, "norm-position", "2026-04-01T00:00:00Z", NULL, p1,
              "{\"topic\":\"sovereignty\",\"text\":\"Sovereignty is a rule (v2).\"}", NULL));
    /* another state's, compared topic by topic */
    TU_OK(ADD(IN, "norm-position-delegation", "2026-01-01T00:00:00Z", NULL, NULL,
              "{\"office\":\"in.mea\",\"valid_from\":\"2026-01-01T00:00:00Z\"}", NULL));
    TU_OK(ADD(IN_MEA, "norm-position", "2026-05-01T00:00:00Z", NULL, NULL,
              "{\"topic\":\"sovereignty\",\"text\":\"Sovereignty is a principle.\"}", NULL));
    char *json;
    TU_OK(comity_framework_norm_positions(fw, "sovereignty", "us.cisa", &json, E));
    json_t *j = parse(json);
    json_t *sts = json_object_get(json_array_get(json_object_get(j, "topics"), 0), "states");
    assert_int_equal(json_array_size(sts), 2);
    json_t *pk = json_array_get(sts, 0);
    assert_string_equal(json_string_value(json_object_get(pk, "state")), "pk");
    assert_int_equal(json_integer_value(json_object_get(pk, "version")), 2);
    assert_int_equal(json_array_size(json_object_get(pk, "versions")), 2);
    assert_int_equal(json_array_size(json_object_get(j, "delegations")), 2);
    assert_int_equal(json_array_size(json_object_get(j, "drafts")), 0); /* not us's */
    json_decref(j);
    TU_OK(comity_framework_norm_positions(fw, NULL, "pk.pkcert", &json, E));
    j = parse(json);
    assert_int_equal(json_array_size(json_object_get(j, "topics")), 10);
    assert_int_equal(json_array_size(json_object_get(j, "drafts")), 3); /* two drafts, a comment */
    json_decref(j);
    TU_FAILS(comity_framework_norm_positions(fw, "war", NULL, &json, E), COMITY_ERR_USAGE, "topic");
    comity_framework_free(fw);
}

/* ---- non-parties ------------------------------------------------------------------------------ */

static void test_hidden(void **state)
{
    (void)state;
    comity_framework *fw;
    TU_OK(comity_framework_new(&fw, E));
    char c[128], d[128];
    TU_OK(ADDS(PK_MOFA, "norm-complaint", "2026-12-03T00:00:00Z", "in.mea", NULL, B_COMPLAINT,
               c));
    TU_OK(ADDS(PK_CERT, "norm-disclosure", "2026-12-03T00:00:00Z", "in.cert-in", NULL, B_DISC,
               d));
    char *json;
    TU_FAILS(comity_framework_case(fw, c, "us.cisa", 0, &json, E), COMITY_ERR_NOTFOUND, NULL);
    TU_FAILS(comity_framework_case(fw, d, "un.unoda", 0, &json, E), COMITY_ERR_NOTFOUND, NULL);
    TU_OK(comity_framework_cases(fw, "us.cisa", 0, &json, E));
    assert_null(strstr(json, "norm-"));
    comity_free(json);
    TU_OK(comity_framework_cases(fw, "in.mea", 0, &json, E));
    assert_non_null(strstr(json, c));
    assert_null(strstr(json, d)); /* the disclosure went to in.cert-in, not in.mea */
    comity_free(json);
    /* the node holds no body of a sealed case */
    json_t *v = case_view(fw, d, "in.cert-in", 0);
    assert_true(json_is_null(json_object_get(json_array_get(json_object_get(v, "thread"), 0),
                                             "body")));
    json_decref(v);
    comity_framework_free(fw);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schemas),     cmocka_unit_test(test_catalogue),
        cmocka_unit_test(test_declarations), cmocka_unit_test(test_complaint),
        cmocka_unit_test(test_disclosure),  cmocka_unit_test(test_hidden),
        cmocka_unit_test(test_reports),     cmocka_unit_test(test_reports_cap),     cmocka_unit_test(test_positions),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
