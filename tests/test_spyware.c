/*
 * test_spyware.c: the commercial spyware registry (src/framework/spyware.c,
 * spyware_misuse.c): every body schema and its refusals (no free text
 * about people), the import of the MISP galaxy's 615 vendors with every
 * name and synonym resolving to its vendor after normalisation, signed
 * corrections with their history, listings linked to vendors, the
 * no-undercut check on denials a state's client opened, and misuse cases:
 * a notice sealed to the participating states, a licensing state's match
 * and join, and a case that the states which joined see and others do not.
 *
 * Records are made as a node receives them: signed (COMITY_FAKE_NOW sets
 * `created`), sealed to the recipients' keys when asked, and verified
 * before being fed.
 */
#include <stdlib.h>

#include <jansson.h>

#include "base/base.h"
#include "util/parties.h"

enum { PK_MOFA, PK_CERT, FR, DE, IT, US, UN, NK };
static const char *const names[NK] = {"pk.mofa", "pk.pkcert", "fr.sgdsn", "de.bafa",
                                      "it.uama", "us.bis",    "un.unoda"};
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

/* Signs `body` as `who` at `at`, to the comma-separated `to` (may be
 * NULL), referring to `ref` (may be NULL); sealed (amber) to every party
 * `to` names (a bare state: its offices) when `sealed`. */
static comity_record *mk(int who, const char *type, const char *at, const char *to,
                         const char *ref, const char *body, bool sealed)
{
    return tu_record(&cast, who, type, at, to, ref, body, sealed);
}

/* Feeds r (then frees it) with its body when `opened` (as a client that
 * opened it does; NULL: as a node, which cannot); copies its id into id
 * (may be NULL). */
static comity_err feed(comity_framework *fw, comity_record *r, const char *opened, char *id)
{
    if (id)
        snprintf(id, 128, "%s", comity_record_id(r));
    comity_err rc = comity_framework_add(fw, r, opened, opened ? strlen(opened) : 0, E);
    comity_record_free(r);
    return rc;
}

#define ADD(who, type, at, to, ref, body, id)                                              \
    feed(fw, mk((who), (type), (at), (to), (ref), (body), false), NULL, (id))
#define SEALED(who, type, at, to, ref, body, opened, id)                                   \
    feed(fw, mk((who), (type), (at), (to), (ref), (body), true), (opened), (id))

static json_t *parse(char *json)
{
    json_t *j = json_loads(json, 0, NULL);
    assert_non_null(j);
    comity_free(json);
    return j;
}

static json_t *lookup(comity_framework *fw, const char *name)
{
    char *out;
    TU_OK(comity_framework_spyware_lookup(fw, name, &out, E));
    return parse(out);
}

static const char *s_(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* ---- schemas ------------------------------------------------------------------------ */

#define LICENCE_OK                                                                         \
    "\"decision\":\"denied\",\"category\":\"wassenaar-4.A.5\",\"vendor\":\"NSO Group\","   \
    "\"product\":\"Pegasus\",\"destination\":\"ae\",\"end_user\":\"Interior Ministry\","   \
    "\"date\":\"2026-03-01T00:00:00Z\",\"reasons\":[\"risk of internal repression\"]"
#define LISTING_OK                                                                         \
    "\"listed_by\":\"us\",\"regime\":\"us-entity-list\",\"entity\":\"NSO Group\","         \
    "\"legal_basis\":\"15 CFR 744.11\",\"reason\":\"spyware used against journalists\","   \
    "\"date\":\"2021-11-03T00:00:00Z\""
#define NOTICE_OK                                                                          \
    "\"vendor\":\"NSO Group\",\"product\":\"Pegasus\",\"sector\":\"media\","              \
    "\"target_kind\":\"journalist\""

static void test_schemas(void **state)
{
    (void)state;
    static const struct { const char *type, *body; } ok[] = {
        {"spyware-vendor", "{\"name\":\"NSO Group\",\"synonyms\":[\"Q-Cyber\"]}"},
        {"spyware-licence", "{" LICENCE_OK "}"},
        {"spyware-listing", "{" LISTING_OK "}"},
        {"spyware-misuse-notice", "{" NOTICE_OK "}"},
        {"spyware-misuse-join", "{\"licensed\":true}"},
        {"spyware-misuse", "{" NOTICE_OK ",\"targets\":3,\"evidence\":\"sightings\"}"},
        {"spyware-misuse-evidence", "{\"evidence\":\"stix-bundle\",\"indicators\":1549}"},
        {"spyware-misuse-answer", "{\"measure\":\"licence-suspended\"}"},
        {"spyware-misuse-close", "{\"outcome\":\"confirmed\"}"},
    };
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        assert_true(comity_framework_handles(ok[i].type));
        TU_OK(comity_framework_check_body(ok[i].type, ok[i].body, strlen(ok[i].body), E));
    }
    static const struct { const char *type, *body, *needle; } bad[] = {
        {"spyware-vendor", "{\"synonyms\":[\"x\"]}", "name"},
        {"spyware-vendor", "{\"name\":\"-- --\"}", "no letter or digit"},
        {"spyware-vendor", "{\"name\":\"A\",\"synonyms\":[\"..\"]}", "synonyms"},
        {"spyware-licence", "{" LICENCE_OK ",\"category\":\"wassenaar-5.A.1\"}", NULL},
        {"spyware-licence",
         "{\"decision\":\"denied\",\"category\":\"national\",\"vendor\":\"v\",\"product\":"
         "\"p\",\"destination\":\"ae\",\"end_user\":\"u\",\"date\":\"2026-01-01T00:00:00Z\"}",
         "reasons"},
        {"spyware-licence",
         "{\"decision\":\"granted\",\"category\":\"national\",\"vendor\":\"v\",\"product\":"
         "\"p\",\"destination\":\"ae.moi\",\"end_user\":\"u\",\"date\":"
         "\"2026-01-01T00:00:00Z\"}", "not a state"},
        {"spyware-listing",
         "{\"listed_by\":\"us\",\"regime\":\"r\",\"entity\":\"e\",\"reason\":\"x\",\"date\":"
         "\"2021-11-03T00:00:00Z\"}", "legal_basis"},
        /* no free text about people: an unknown field is refused */
        {"spyware-misuse-notice", "{" NOTICE_OK ",\"victim\":\"A. Person\"}", "unknown field"},
        {"spyware-misuse", "{" NOTICE_OK ",\"summary\":\"the phone of A. Person\"}",
         "unknown field"},
        {"spyware-misuse", "{\"vendor\":\"v\",\"sector\":\"media\",\"target_kind\":\"pianist\"}",
         "target_kind"},
        {"spyware-misuse",
         "{\"vendor\":\"v\",\"sector\":\"media\",\"target_kind\":\"lawyer\",\"first_seen\":"
         "\"2026-02-01T00:00:00Z\",\"last_seen\":\"2026-01-01T00:00:00Z\"}", "last_seen"},
        {"spyware-misuse-evidence", "{\"evidence\":\"stix-bundle\",\"note\":\"x\"}",
         "unknown field"},
        {"spyware-misuse-join", "{\"licensed\":false}", "licensed"},
        {"spyware-misuse-close", "{\"outcome\":\"solved\"}", "outcome"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        comity_err rc = comity_framework_check_body(bad[i].type, bad[i].body,
                                                    strlen(bad[i].body), E);
        if (rc != COMITY_ERR_INVALID)
            fail_msg("bad[%zu] %s: want INVALID, got %d (%s)", i, bad[i].type, rc,
                     tu_last_err.msg);
        tu_check_msg(bad[i].type, bad[i].needle);
    }
}

static void test_normalise(void **state)
{
    (void)state;
    char a[64], b[64];
    assert_int_equal(comity_spyware_normalise("Q-Cyber", a, sizeof a), 6);
    comity_spyware_normalise("q cyber", b, sizeof b);
    assert_string_equal(a, "qcyber");
    assert_string_equal(a, b);
    comity_spyware_normalise("  NSO  Group, Ltd.", a, sizeof a);
    assert_string_equal(a, "nsogroupltd");
    comity_spyware_normalise("Zerodium\xc3\xa9", a, sizeof a); /* UTF-8 kept */
    assert_string_equal(a, "zerodium\xc3\xa9");
    assert_int_equal(comity_spyware_normalise("abcdef", a, 4), 3);
    assert_string_equal(a, "abc");
    /* the sharing level each type takes by default */
    assert_string_equal(comity_spyware_tlp("spyware-vendor"), "clear");
    assert_string_equal(comity_spyware_tlp("spyware-listing"), "clear");
    assert_string_equal(comity_spyware_tlp("spyware-licence"), "amber");
    assert_string_equal(comity_spyware_tlp("spyware-misuse"), "amber");
    assert_string_equal(comity_spyware_tlp("spyware-authorisation-signoff"), "amber+strict");
    assert_null(comity_spyware_tlp("spyware-misuse-close"));
    assert_null(comity_spyware_tlp("notification"));
}

/* ---- the galaxy's 615 vendors ------------------------------------------------------ */

static void test_galaxy_import(void **state)
{
    (void)state;
    size_t len;
    char *text = tu_slurp(tu_shared("data/galaxy/surveillance-vendor.json"), &len);
    char *out;
    TU_OK(comity_spyware_galaxy_bodies(text, len, &out, E));
    free(text);
    json_t *bodies = parse(out);
    assert_int_equal(json_array_size(bodies), 615);
    comity_framework *fw;
    TU_OK(comity_framework_new(&fw, E));
    size_t i;
    json_t *b;
    json_array_foreach(bodies, i, b) {
        char *s = json_dumps(b, JSON_COMPACT);
        TU_OK(ADD(UN, "spyware-vendor", "2026-01-01T00:00:00Z", NULL, NULL, s, NULL));
        free(s);
    }
    assert_int_equal(comity_framework_spyware_count(fw), 615);
    /* every name and synonym finds its vendor, among any others bearing it */
    size_t names_checked = 0, shared = 0;
    json_array_foreach(bodies, i, b) {
        json_t *syn = json_object_get(b, "synonyms");
        for (size_t k = 0; k <= json_array_size(syn); k++) {
            const char *n = k ? json_string_value(json_array_get(syn, k - 1)) : s_(b, "name");
            json_t *r = lookup(fw, n);
            json_t *vs = json_object_get(r, "vendors"), *v;
            size_t j;
            bool found = false;
            json_array_foreach(vs, j, v) {
                found |= !strcmp(s_(v, "source_uuid"), s_(b, "source_uuid"));
                assert_string_equal(s_(v, "created_by"), "un.unoda");
            }
            if (!found)
                fail_msg("\"%s\" does not find vendor %s", n, s_(b, "name"));
            shared += json_array_size(vs) > 1;
            names_checked++;
            json_decref(r);
        }
    }
    assert_true(names_checked > 615);
    assert_true(shared >= 2); /* "Circles" and "Memento Labs" name two vendors each */
    /* "q cyber" finds NSO Group through its synonym Q-Cyber */
    json_t *r = lookup(fw, "q cyber");
    assert_int_equal(json_array_size(json_object_get(r, "vendors")), 1);
    assert_string_equal(s_(json_array_get(json_object_get(r, "vendors"), 0), "name"),
                        "NSO group");
    assert_string_equal(s_(r, "normalised"), "qcyber");
    json_decref(r);
    /* a name two vendors bear lists both */
    r = lookup(fw, "CIRCLES");
    assert_int_equal(json_array_size(json_object_get(r, "vendors")), 2);
    json_decref(r);
    /* an unknown name finds nothing; an empty one is refused */
    r = lookup(fw, "no such vendor at all");
    assert_int_equal(json_array_size(json_object_get(r, "vendors")), 0);
    json_decref(r);
    TU_FAILS(comity_framework_spyware_lookup(fw, " - ", &out, E), COMITY_ERR_USAGE,
             "letter or digit");
    /* importing the same vendor again is refused: correct it instead */
    char *s = json_dumps(json_array_get(bodies, 0), JSON_COMPACT);
    TU_FAILS(ADD(FR, "spyware-vendor", "2026-01-02T00:00:00Z", NULL, NULL, s, NULL),
             COMITY_ERR_CONFLICT, "already vendor");
    free(s);
    json_decref(bodies);
    comity_framework_free(fw);
}

/* ---- corrections and listings -------------------------------------------------------- */

static void test_corrections_and_listings(void **state)
{
    (void)state;
    comity_framework *fw;
    TU_OK(comity_framework_new(&fw, E));
    char v[128], c[128], l[128];
    TU_FAILS(feed(fw, mk(FR, "spyware-vendor", "2026-01-01T00:00:00Z", "de", NULL,
                         "{\"name\":\"Acme\"}", true), "{\"name\":\"Acme\"}", NULL),
             COMITY_ERR_INVALID, "public");
    TU_FAILS(ADD(FR, "spyware-vendor", "2026-01-01T00:00:00Z", NULL, NULL,
                 "{\"name\":\"Acme\",\"reason\":\"new\"}", NULL),
             COMITY_ERR_INVALID, "only a correction");
    TU_OK(ADD(FR, "spyware-vendor", "2026-01-01T00:00:00Z", NULL, NULL,
              "{\"name\":\"Acme Intrusion\",\"synonyms\":[\"AcmeSec\"],\"products\":[\"Hawk\"]}",
              v));
    /* a correction names the vendor and says why */
    TU_FAILS(ADD(DE, "spyware-vendor", "2026-01-02T00:00:00Z", NULL, v,
                 "{\"name\":\"Acme Intrusion\"}", NULL),
             COMITY_ERR_INVALID, "reason");
    TU_FAILS(ADD(DE, "spyware-vendor", "2026-01-02T00:00:00Z", NULL,
                 "spyware-vendor--00000000-0000-4000-8000-000000000000",
                 "{\"name\":\"x\",\"reason\":\"y\"}", NULL),
             COMITY_ERR_NOTFOUND, "no vendor");
    TU_OK(ADD(DE, "spyware-vendor", "2026-01-02T00:00:00Z", NULL, v,
              "{\"name\":\"Acme Intrusion\",\"synonyms\":[\"Acme Cyber\"],\"products\":"
              "[\"Hawk\",\"Falcon\"],\"reason\":\"renamed in 2025\"}", c));
    json_t *r = lookup(fw, "acmesec"); /* the old synonym is gone */
    assert_int_equal(json_array_size(json_object_get(r, "vendors")), 0);
    json_decref(r);
    r = lookup(fw, "ACME-cyber");
    json_t *x = json_array_get(json_object_get(r, "vendors"), 0);
    assert_non_null(x);
    assert_string_equal(s_(x, "id"), v);
    assert_string_equal(s_(x, "created_by"), "fr.sgdsn");
    assert_string_equal(s_(x, "updated_by"), "de.bafa");
    assert_string_equal(s_(x, "version"), c);
    assert_int_equal(json_integer_value(json_object_get(x, "versions")), 2);
    json_decref(r);
    char *out;
    TU_OK(comity_framework_spyware_vendor(fw, v, &out, E));
    r = parse(out);
    json_t *h = json_object_get(r, "history");
    assert_int_equal(json_array_size(h), 2);
    assert_string_equal(s_(json_array_get(h, 0), "author"), "fr.sgdsn");
    assert_string_equal(s_(json_array_get(h, 1), "author"), "de.bafa");
    assert_string_equal(s_(json_object_get(json_array_get(h, 1), "body"), "reason"),
                        "renamed in 2025");
    json_decref(r);
    TU_FAILS(comity_framework_spyware_vendor(fw, "nope", &out, E), COMITY_ERR_NOTFOUND, NULL);
    /* listings: by the author's own state, public, naming a known vendor */
    char body[1024];
    snprintf(body, sizeof body, "{" LISTING_OK ",\"vendor\":\"%s\"}", v);
    TU_FAILS(ADD(FR, "spyware-listing", "2026-01-03T00:00:00Z", NULL, NULL, body, NULL),
             COMITY_ERR_DENIED, "only an office of us");
    TU_FAILS(feed(fw, mk(US, "spyware-listing", "2026-01-03T00:00:00Z", "fr", NULL, body,
                         true), body, NULL),
             COMITY_ERR_INVALID, "public");
    TU_FAILS(ADD(US, "spyware-listing", "2026-01-03T00:00:00Z", NULL, NULL,
                 "{" LISTING_OK ",\"vendor\":\"spyware-vendor--nope\"}", NULL),
             COMITY_ERR_NOTFOUND, "no vendor");
    TU_OK(ADD(US, "spyware-listing", "2026-01-03T00:00:00Z", NULL, NULL, body, l));
    r = lookup(fw, "Acme Intrusion");
    json_t *ls = json_object_get(json_array_get(json_object_get(r, "vendors"), 0), "listings");
    assert_int_equal(json_array_size(ls), 1);
    assert_string_equal(s_(json_array_get(ls, 0), "id"), l);
    assert_string_equal(s_(json_object_get(json_array_get(ls, 0), "body"), "legal_basis"),
                        "15 CFR 744.11");
    json_decref(r);
    comity_framework_free(fw);
}

/* ---- licences and no undercut --------------------------------------------------------- */

static void test_licence_undercut(void **state)
{
    (void)state;
    comity_framework *client, *node;
    TU_OK(comity_framework_new(&client, E));
    TU_OK(comity_framework_new(&node, E));
    comity_framework *fw = client;
    char v[128];
    TU_OK(ADD(UN, "spyware-vendor", "2026-01-01T00:00:00Z", NULL, NULL,
              "{\"name\":\"NSO group\",\"synonyms\":[\"Q-Cyber\"],\"products\":[\"PEGASUS\"]}",
              v));
    fw = node;
    TU_OK(ADD(UN, "spyware-vendor", "2026-01-01T00:00:00Z", NULL, NULL,
              "{\"name\":\"NSO group\",\"synonyms\":[\"Q-Cyber\"],\"products\":[\"PEGASUS\"]}",
              NULL));
    /* a decision is dated no later than its record */
    TU_FAILS(SEALED(DE, "spyware-licence", "2026-02-01T00:00:00Z", "fr,it,de", NULL,
                    "{" LICENCE_OK "}", "{" LICENCE_OK "}", NULL),
             COMITY_ERR_INVALID, "date");
    /* Germany denies Pegasus to an end user, sealed to the participating
     * states: the node keeps the envelope, Italy's client opens the body */
    comity_record *den = mk(DE, "spyware-licence", "2026-03-02T00:00:00Z", "fr,it,de", NULL,
                            "{" LICENCE_OK "}", true);
    char did[128];
    snprintf(did, sizeof did, "%s", comity_record_id(den));
    TU_OK(comity_framework_add(node, den, NULL, 0, E));
    comity_identities *ids;
    char *dir = tu_tmpdir(), path[512];
    snprintf(path, sizeof path, "%s/it.key", dir);
    TU_OK(comity_key_save(keys[IT], path, E));
    TU_OK(comity_identities_load(path, &ids, E));
    tu_rmrf(dir);
    free(dir);
    char *opened;
    size_t ol;
    TU_OK(comity_record_open(den, ids, &opened, &ol, E));
    comity_identities_free(ids);
    TU_OK(comity_framework_add(client, den, opened, ol, E));
    comity_free(opened);
    comity_record_free(den);
    /* Italy, about to license the same product to the same end user
     * (named otherwise: by synonym, case, spacing) is told */
    char *out;
    TU_OK(comity_framework_spyware_undercut(client, "it.uama", "q cyber", "pegasus",
                                            "interior  ministry", &out, E));
    json_t *r = parse(out);
    json_t *d = json_array_get(json_object_get(r, "denials"), 0);
    assert_int_equal(json_array_size(json_object_get(r, "denials")), 1);
    assert_string_equal(s_(d, "id"), did);
    assert_string_equal(s_(d, "state"), "de");
    assert_string_equal(json_string_value(json_array_get(
                            json_object_get(json_object_get(d, "body"), "reasons"), 0)),
                        "risk of internal repression");
    json_decref(r);
    /* not for another end user or product, nor for Germany itself */
    const char *const miss[][4] = {{"it.uama", v, "pegasus", "Police"},
                                          {"it.uama", v, "Phantom", "Interior Ministry"},
                                          {"it.uama", "Candiru", "pegasus", "Interior Ministry"},
                                          {"de.bafa", v, "pegasus", "Interior Ministry"}};
    for (size_t i = 0; i < 4; i++) {
        TU_OK(comity_framework_spyware_undercut(client, miss[i][0], miss[i][1], miss[i][2],
                                                miss[i][3], &out, E));
        r = parse(out);
        assert_int_equal(json_array_size(json_object_get(r, "denials")), 0);
        json_decref(r);
    }
    /* the node, which cannot open the denial, knows of none */
    TU_OK(comity_framework_spyware_undercut(node, "it.uama", v, "pegasus",
                                            "Interior Ministry", &out, E));
    r = parse(out);
    assert_int_equal(json_array_size(json_object_get(r, "denials")), 0);
    json_decref(r);
    /* a sealed licence never shows in a vendor's public view, even where
     * the body was opened */
    TU_OK(comity_framework_spyware_vendor(client, v, &out, E));
    r = parse(out);
    assert_int_equal(json_array_size(json_object_get(r, "licences")), 0);
    assert_null(strstr(out = json_dumps(r, 0), "Interior"));
    free(out);
    json_decref(r);
    comity_framework_free(client);
    comity_framework_free(node);
}

/* ---- misuse: notice, match, join, case ------------------------------------------------ */

static void test_misuse(void **state)
{
    (void)state;
    comity_framework *fw;
    TU_OK(comity_framework_new(&fw, E));
    char v[128], n[128], j[128], k[128], body[1024];
    TU_OK(ADD(UN, "spyware-vendor", "2026-01-01T00:00:00Z", NULL, NULL,
              "{\"name\":\"NSO group\",\"products\":[\"PEGASUS\"]}", v));
    /* France granted a licence for Pegasus, sealed to itself */
    snprintf(body, sizeof body,
             "{\"decision\":\"granted\",\"category\":\"wassenaar-4.A.5\",\"vendor\":\"%s\","
             "\"product\":\"Pegasus\",\"destination\":\"ae\",\"end_user\":\"Police\","
             "\"date\":\"2026-01-05T00:00:00Z\"}", v);
    TU_OK(SEALED(FR, "spyware-licence", "2026-01-05T00:00:00Z", "fr.sgdsn", NULL, body, body,
                 NULL));
    /* the notice is sealed to the participating states */
    TU_FAILS(ADD(PK_MOFA, "spyware-misuse-notice", "2026-04-01T00:00:00Z", "fr,de,it", NULL,
                 "{" NOTICE_OK "}", NULL),
             COMITY_ERR_INVALID, "sealed");
    TU_OK(SEALED(PK_MOFA, "spyware-misuse-notice", "2026-04-01T00:00:00Z", "fr,de,it", NULL,
                 "{" NOTICE_OK "}", "{" NOTICE_OK "}", n));
    /* France's client matches it against its licence; Italy's does not */
    char *out;
    TU_OK(comity_framework_spyware_matches(fw, "fr.sgdsn", &out, E));
    json_t *r = parse(out);
    json_t *m = json_array_get(json_object_get(r, "matches"), 0);
    assert_int_equal(json_array_size(json_object_get(r, "matches")), 1);
    assert_string_equal(s_(m, "id"), n);
    assert_false(json_is_true(json_object_get(m, "joined")));
    assert_int_equal(json_array_size(json_object_get(m, "licences")), 1);
    json_decref(r);
    TU_OK(comity_framework_spyware_matches(fw, "it.uama", &out, E));
    r = parse(out);
    assert_int_equal(json_array_size(json_object_get(r, "matches")), 0);
    json_decref(r);
    /* joins: by a recipient, to the notice's author, sealed as it is, once */
    TU_FAILS(SEALED(US, "spyware-misuse-join", "2026-04-02T00:00:00Z", "pk.mofa", n,
                    "{\"licensed\":true}", NULL, NULL),
             COMITY_ERR_NOTFOUND, "no misuse notice");
    TU_FAILS(SEALED(FR, "spyware-misuse-join", "2026-04-02T00:00:00Z", "un.unoda", n,
                    "{\"licensed\":true}", NULL, NULL),
             COMITY_ERR_INVALID, "author pk.mofa alone");
    TU_FAILS(ADD(FR, "spyware-misuse-join", "2026-04-02T00:00:00Z", "pk.mofa", n,
                 "{\"licensed\":true}", NULL),
             COMITY_ERR_INVALID, "sealed");
    TU_OK(SEALED(FR, "spyware-misuse-join", "2026-04-02T00:00:00Z", "pk.mofa", n,
                 "{\"licensed\":true}", NULL, j));
    TU_FAILS(SEALED(FR, "spyware-misuse-join", "2026-04-02T01:00:00Z", "pk.mofa", n,
                    "{\"licensed\":true}", NULL, NULL),
             COMITY_ERR_CONFLICT, "already");
    TU_OK(comity_framework_spyware_matches(fw, "fr.sgdsn", &out, E));
    r = parse(out);
    assert_true(json_is_true(json_object_get(json_array_get(json_object_get(r, "matches"), 0),
                                             "joined")));
    json_decref(r);
    /* the case: refs[0] the notice; third parties only states that joined */
    const char *cb = "{" NOTICE_OK ",\"targets\":2,\"evidence\":\"sightings\"}";
    TU_FAILS(SEALED(PK_MOFA, "spyware-misuse", "2026-04-03T00:00:00Z", "un.unoda", NULL, cb,
                    cb, NULL),
             COMITY_ERR_INVALID, "misuse notice");
    TU_FAILS(SEALED(PK_MOFA, "spyware-misuse", "2026-04-03T00:00:00Z", "un.unoda,it.uama", n,
                    cb, cb, NULL),
             COMITY_ERR_DENIED, "it.uama did not ask to join");
    TU_OK(SEALED(PK_MOFA, "spyware-misuse", "2026-04-03T00:00:00Z", "un.unoda,fr.sgdsn", n,
                 cb, cb, k));
    /* France sees the case, Italy does not */
    TU_OK(comity_framework_case(fw, k, "fr.sgdsn", 0, &out, E));
    comity_free(out);
    TU_FAILS(comity_framework_case(fw, k, "it.uama", 0, &out, E), COMITY_ERR_NOTFOUND, NULL);
    TU_OK(comity_framework_cases(fw, "it.uama", 0, &out, E));
    assert_null(strstr(out, k));
    comity_free(out);
    TU_OK(comity_framework_cases(fw, "fr.sgdsn", 0, &out, E));
    assert_non_null(strstr(out, k));
    comity_free(out);
    /* the status table: France answers, only the requester closes */
    TU_OK(SEALED(FR, "spyware-misuse-answer", "2026-04-04T00:00:00Z", "pk.mofa,un.unoda", k,
                 "{\"measure\":\"licence-suspended\"}", NULL, NULL));
    TU_FAILS(SEALED(FR, "spyware-misuse-close", "2026-04-05T00:00:00Z", "pk.mofa,un.unoda", k,
                    "{\"outcome\":\"confirmed\"}", NULL, NULL),
             COMITY_ERR_DENIED, NULL);
    TU_OK(SEALED(PK_MOFA, "spyware-misuse-close", "2026-04-05T00:00:00Z",
                 "un.unoda,fr.sgdsn", k, "{\"outcome\":\"confirmed\"}", NULL, NULL));
    TU_FAILS(SEALED(UN, "spyware-misuse-evidence", "2026-04-06T00:00:00Z",
                    "pk.mofa,fr.sgdsn", k, "{\"evidence\":\"sightings\"}", NULL, NULL),
             COMITY_ERR_CONFLICT, "is closed");
    comity_framework_free(fw);
}

/* A state that licensed the product asks to join a misuse case after it
 * opened (the core's case-join), and the requester admits it (case-admit):
 * every refusal and transition. */
static void test_late_join(void **state)
{
    (void)state;
    comity_framework *fw;
    TU_OK(comity_framework_new(&fw, E));
    char n[128], k[128], k2[128], jq[128], jd[128], refs[300], bogus[300];
    const char *jb = "{\"basis\":\"licensed\"}";
    TU_OK(SEALED(PK_MOFA, "spyware-misuse-notice", "2026-04-01T00:00:00Z", "fr,de,it", NULL,
                 "{" NOTICE_OK "}", NULL, n));
    TU_OK(SEALED(FR, "spyware-misuse-join", "2026-04-02T00:00:00Z", "pk.mofa", n,
                 "{\"licensed\":true}", NULL, NULL));
    const char *cb = "{" NOTICE_OK "}";
    TU_OK(SEALED(PK_MOFA, "spyware-misuse", "2026-04-03T00:00:00Z", "un.unoda,fr.sgdsn", n, cb,
                 NULL, k));
    /* a newer case naming Germany, so that its list of cases must take the
     * older one in order when it is admitted */
    TU_OK(SEALED(PK_MOFA, "spyware-misuse", "2026-04-03T01:00:00Z", "de.bafa", n, cb, NULL,
                 k2));
    /* a state that did not ask to join the notice learns nothing */
    TU_FAILS(SEALED(DE, "case-join", "2026-04-04T00:00:00Z", "pk.mofa", k, jb, jb, NULL),
             COMITY_ERR_NOTFOUND, "no case");
    TU_OK(SEALED(DE, "spyware-misuse-join", "2026-04-04T00:00:00Z", "pk.mofa", n,
                 "{\"licensed\":true}", NULL, NULL));
    TU_FAILS(SEALED(IT, "case-join", "2026-04-04T01:00:00Z", "pk.mofa", k, jb, jb, NULL),
             COMITY_ERR_NOTFOUND, "no case");
    /* refusals that name the rule, for one that may ask */
    TU_FAILS(SEALED(DE, "case-join", "2026-04-04T01:00:00Z", "pk.mofa", NULL, jb, jb, NULL),
             COMITY_ERR_INVALID, "want the case");
    TU_FAILS(ADD(DE, "case-join", "2026-04-04T01:00:00Z", "pk.mofa", k, jb, NULL),
             COMITY_ERR_INVALID, "sealed");
    TU_FAILS(SEALED(DE, "case-join", "2026-04-04T01:00:00Z", "un.unoda", k, jb, jb, NULL),
             COMITY_ERR_INVALID, "requester (pk.mofa) alone");
    TU_FAILS(SEALED(DE, "case-join", "2026-04-04T01:00:00Z", "pk.mofa", k,
                    "{\"basis\":\"curious\"}", "{\"basis\":\"curious\"}", NULL),
             COMITY_ERR_INVALID, "basis");
    TU_FAILS(SEALED(DE, "case-join", "2026-04-04T01:00:00Z", "pk.mofa", k,
                    "{\"basis\":\"other\",\"name\":\"a journalist\"}",
                    "{\"basis\":\"other\",\"name\":\"a journalist\"}", NULL),
             COMITY_ERR_INVALID, "unknown field");
    TU_FAILS(SEALED(FR, "case-join", "2026-04-04T01:00:00Z", "pk.mofa", k, jb, jb, NULL),
             COMITY_ERR_INVALID, "already a party");
    TU_OK(SEALED(DE, "case-join", "2026-04-04T01:00:00Z", "pk.mofa", k, jb, NULL, jd));
    TU_FAILS(SEALED(DE, "case-join", "2026-04-04T02:00:00Z", "pk.mofa", k, jb, NULL, NULL),
             COMITY_ERR_CONFLICT, "already asked");
    /* not a party until admitted */
    char *out;
    TU_FAILS(comity_framework_case(fw, k, "de.bafa", 0, &out, E), COMITY_ERR_NOTFOUND, NULL);
    TU_FAILS(SEALED(DE, "spyware-misuse-answer", "2026-04-04T03:00:00Z", "pk.mofa,un.unoda,fr",
                    k, "{\"measure\":\"no-action\"}", NULL, NULL),
             COMITY_ERR_NOTFOUND, NULL);
    /* the admission: by the requester, to every party and the newcomer */
    snprintf(refs, sizeof refs, "%s,%s", k, jd);
    snprintf(bogus, sizeof bogus, "%s,%s", k, n);
    TU_FAILS(SEALED(PK_MOFA, "case-admit", "2026-04-05T00:00:00Z",
                    "un.unoda,fr.sgdsn,de.bafa", k, "{}", NULL, NULL),
             COMITY_ERR_INVALID, "then the request");
    TU_FAILS(SEALED(PK_MOFA, "case-admit", "2026-04-05T00:00:00Z",
                    "un.unoda,fr.sgdsn,de.bafa", bogus, "{}", NULL, NULL),
             COMITY_ERR_NOTFOUND, "no request to join");
    TU_FAILS(SEALED(IT, "case-admit", "2026-04-05T00:00:00Z", "pk.mofa,un.unoda,fr.sgdsn,de.bafa",
                    refs, "{}", NULL, NULL),
             COMITY_ERR_NOTFOUND, "no case");
    TU_FAILS(SEALED(FR, "case-admit", "2026-04-05T00:00:00Z", "pk.mofa,un.unoda,de.bafa", refs,
                    "{}", NULL, NULL),
             COMITY_ERR_DENIED, "only the requester");
    TU_FAILS(SEALED(PK_MOFA, "case-admit", "2026-04-05T00:00:00Z", "un.unoda,fr.sgdsn", refs,
                    "{}", NULL, NULL),
             COMITY_ERR_INVALID, "de.bafa, the party admitted");
    TU_FAILS(SEALED(PK_MOFA, "case-admit", "2026-04-05T00:00:00Z", "fr.sgdsn,de.bafa", refs,
                    "{}", NULL, NULL),
             COMITY_ERR_INVALID, "must name un.unoda");
    TU_FAILS(SEALED(PK_MOFA, "case-admit", "2026-04-05T00:00:00Z",
                    "un.unoda,fr.sgdsn,de.bafa,it.uama", refs, "{}", NULL, NULL),
             COMITY_ERR_INVALID, "it.uama is neither");
    TU_FAILS(ADD(PK_MOFA, "case-admit", "2026-04-05T00:00:00Z", "un.unoda,fr.sgdsn,de.bafa",
                 refs, "{}", NULL),
             COMITY_ERR_INVALID, "sealed");
    TU_FAILS(SEALED(PK_MOFA, "case-admit", "2026-04-04T00:30:00Z",
                    "un.unoda,fr.sgdsn,de.bafa", refs, "{}", NULL, NULL),
             COMITY_ERR_INVALID, "before the request");
    TU_FAILS(SEALED(PK_MOFA, "case-admit", "2026-04-05T00:00:00Z",
                    "un.unoda,fr.sgdsn,de.bafa", refs, "{\"party\":\"de.bafa\"}",
                    "{\"party\":\"de.bafa\"}", NULL),
             COMITY_ERR_INVALID, "unknown field");
    TU_OK(SEALED(PK_MOFA, "case-admit", "2026-04-05T00:00:00Z", "un.unoda,fr.sgdsn,de.bafa",
                 refs, "{}", NULL, NULL));
    TU_FAILS(SEALED(PK_MOFA, "case-admit", "2026-04-05T01:00:00Z",
                    "un.unoda,fr.sgdsn,de.bafa", refs, "{}", NULL, NULL),
             COMITY_ERR_CONFLICT, "admitted to case");
    /* Germany is a party now: it sees the case and its thread (envelopes;
     * what was sealed before its admission was not sealed to it) */
    TU_OK(comity_framework_case(fw, k, "de.bafa", 0, &out, E));
    json_t *c = parse(out);
    TU_OK(comity_framework_case(fw, k, "fr.sgdsn", 0, &out, E));
    json_t *cf = parse(out);
    assert_string_equal(s_(c, "role"), s_(cf, "role")); /* a third party, as France */
    json_decref(cf);
    assert_int_equal(json_array_size(json_object_get(c, "parties")), 4);
    assert_int_equal(json_array_size(json_object_get(c, "thread")), 3);
    json_decref(c);
    TU_OK(comity_framework_cases(fw, "de.bafa", 0, &out, E));
    assert_non_null(strstr(out, k));
    assert_non_null(strstr(out, k2));
    assert_null(strstr(strstr(out, k) + 1, k)); /* once each */
    assert_null(strstr(strstr(out, k2) + 1, k2));
    comity_free(out);
    /* and every later record names it, so that it is sealed to it too */
    TU_FAILS(SEALED(PK_MOFA, "spyware-misuse-evidence", "2026-04-06T00:00:00Z",
                    "un.unoda,fr.sgdsn", k, "{\"evidence\":\"sightings\"}", NULL, NULL),
             COMITY_ERR_INVALID, "must name de.bafa");
    TU_OK(SEALED(DE, "spyware-misuse-answer", "2026-04-06T00:00:00Z",
                 "pk.mofa,un.unoda,fr.sgdsn", k, "{\"measure\":\"licence-revoked\"}", NULL, NULL));
    TU_FAILS(SEALED(DE, "case-join", "2026-04-06T01:00:00Z", "pk.mofa", k, jb, NULL, NULL),
             COMITY_ERR_INVALID, "already a party");
    /* a closed case takes no one */
    TU_OK(SEALED(IT, "spyware-misuse-join", "2026-04-06T02:00:00Z", "pk.mofa", n,
                 "{\"licensed\":true}", NULL, NULL));
    TU_OK(SEALED(IT, "case-join", "2026-04-06T03:00:00Z", "pk.mofa", k, jb, NULL, jq));
    TU_OK(SEALED(PK_MOFA, "spyware-misuse-close", "2026-04-07T00:00:00Z",
                 "un.unoda,fr.sgdsn,de.bafa", k, "{\"outcome\":\"confirmed\"}", NULL, NULL));
    snprintf(refs, sizeof refs, "%s,%s", k, jq);
    TU_FAILS(SEALED(PK_MOFA, "case-admit", "2026-04-08T00:00:00Z",
                    "un.unoda,fr.sgdsn,de.bafa,it.uama", refs, "{}", NULL, NULL),
             COMITY_ERR_CONFLICT, "only an open case");
    comity_framework_free(fw);
}

/* ---- the transparency report ------------------------------------------------------------ */

/* The figure at path a.b.c of group g (NULL when absent). */
static json_t *fig_at(json_t *g, const char *a, const char *b, const char *c)
{
    json_t *x = json_object_get(g, a);
    if (b)
        x = json_object_get(x, b);
    if (c)
        x = json_object_get(x, c);
    return x;
}

static json_t *group_of(json_t *rep, const char *state, int year)
{
    size_t i;
    json_t *g;
    json_array_foreach(json_object_get(rep, "groups"), i, g) {
        if (!strcmp(s_(g, "state"), state) && json_integer_value(json_object_get(g, "year")) == year)
            return g;
    }
    return NULL;
}

/* Whether figure f counts exactly the ids of want (n of them). */
static void same_records(json_t *f, char (*want)[128], size_t n, const char *what)
{
    if ((size_t)json_integer_value(json_object_get(f, "count")) != n ||
        json_array_size(json_object_get(f, "records")) != n)
        fail_msg("%s: want %zu, got %lld", what, n,
                 (long long)json_integer_value(json_object_get(f, "count")));
    for (size_t i = 0; i < n; i++) {
        bool found = false;
        size_t k;
        json_t *v;
        json_array_foreach(json_object_get(f, "records"), k, v)
            found |= !strcmp(json_string_value(v), want[i]);
        if (!found)
            fail_msg("%s: record %s not listed", what, want[i]);
    }
}

static void test_report(void **state)
{
    (void)state;
    comity_framework *fw;
    TU_OK(comity_framework_new(&fw, E));
    static const int who[] = {FR, DE, IT};
    static const char *const st[] = {"fr", "de", "it"};
    static const char *const cats[] = {"wassenaar-4.A.5", "wassenaar-4.D.4", "national"};
    static const char *const dests[] = {"ae", "sa", "mx"};
    /* the count done here: [state][year 2025/2026][granted/denied][category] */
    enum { N = 120 };
    static char ids[N][128];
    int kind[N][5]; /* state, year index, denied, category, destination */
    uint32_t r = 12345;
    for (int i = 0; i < N; i++) {
        r = r * 1103515245u + 12345u;
        int w = (int)(r >> 8) % 3, y = (int)(r >> 12) % 2, d = (int)(r >> 16) % 2,
            c = (int)(r >> 20) % 3, x = (int)(r >> 24) % 3;
        char body[512];
        snprintf(body, sizeof body,
                 "{\"decision\":\"%s\",\"category\":\"%s\",\"vendor\":\"V%d\","
                 "\"product\":\"P\",\"destination\":\"%s\",\"end_user\":\"U\","
                 "\"date\":\"%d-06-01T00:00:00Z\"%s}", d ? "denied" : "granted", cats[c], i,
                 dests[x], 2025 + y, d ? ",\"reasons\":[\"r\"]" : "");
        TU_OK(ADD(who[w], "spyware-licence", "2026-07-01T00:00:00Z", NULL, NULL, body, ids[i]));
        int k[5] = {w, y, d, c, x};
        memcpy(kind[i], k, sizeof k);
    }
    /* sealed licences are never counted, even where opened */
    const char *sb = "{\"decision\":\"granted\",\"category\":\"national\",\"vendor\":\"V\","
                     "\"product\":\"P\",\"destination\":\"ae\",\"end_user\":\"U\","
                     "\"date\":\"2026-06-01T00:00:00Z\"}";
    TU_OK(SEALED(FR, "spyware-licence", "2026-07-01T00:00:00Z", "fr.sgdsn", NULL, sb, sb, NULL));
    char lis[2][128];
    TU_OK(ADD(US, "spyware-listing", "2026-07-01T00:00:00Z", NULL, NULL, "{" LISTING_OK "}",
              lis[0]));
    TU_OK(ADD(US, "spyware-listing", "2026-07-01T00:00:00Z", NULL, NULL,
              "{\"listed_by\":\"us\",\"regime\":\"us-entity-list\",\"entity\":\"Cytrox AD\","
              "\"legal_basis\":\"EAR\",\"reason\":\"r\",\"date\":\"2023-07-18T00:00:00Z\"}",
              lis[1]));
    /* a misuse case opened in clear is counted; a sealed one is not */
    char n[128], k1[128], k2[128];
    TU_OK(SEALED(PK_MOFA, "spyware-misuse-notice", "2026-04-01T00:00:00Z", "fr", NULL,
                 "{" NOTICE_OK "}", "{" NOTICE_OK "}", n));
    TU_OK(ADD(PK_MOFA, "spyware-misuse", "2026-04-03T00:00:00Z", "un.unoda", n, "{" NOTICE_OK "}",
              k1));
    TU_OK(ADD(PK_MOFA, "spyware-misuse-close", "2026-05-03T00:00:00Z", "un.unoda", k1,
              "{\"outcome\":\"confirmed\"}", NULL));
    TU_OK(SEALED(PK_MOFA, "spyware-misuse", "2026-04-04T00:00:00Z", "un.unoda", n,
                 "{" NOTICE_OK "}", NULL, k2));
    char *out;
    TU_OK(comity_framework_spyware_report(fw, NULL, 0, &out, E));
    json_t *rep = parse(out);
    assert_int_equal(json_integer_value(json_object_get(rep, "records_counted")), N + 2 + 2);
    for (int w = 0; w < 3; w++)
        for (int y = 0; y < 2; y++) {
            json_t *g = group_of(rep, st[w], 2025 + y);
            assert_non_null(g);
            for (int d = 0; d < 2; d++) {
                const char *dn = d ? "denied" : "granted";
                char want[N][128];
                size_t nw = 0;
                for (int i = 0; i < N; i++)
                    if (kind[i][0] == w && kind[i][1] == y && kind[i][2] == d)
                        memcpy(want[nw++], ids[i], 128);
                same_records(fig_at(g, "licences", dn, NULL), want, nw, dn);
                for (int c = 0; c < 3; c++) {
                    nw = 0;
                    for (int i = 0; i < N; i++)
                        if (kind[i][0] == w && kind[i][1] == y && kind[i][2] == d &&
                            kind[i][3] == c)
                            memcpy(want[nw++], ids[i], 128);
                    json_t *f = fig_at(g, "licences", "by_category", cats[c]);
                    if (nw)
                        same_records(json_object_get(f, dn), want, nw, cats[c]);
                    else
                        assert_int_equal(json_integer_value(
                                             json_object_get(json_object_get(f, dn), "count")), 0);
                    nw = 0;
                    for (int i = 0; i < N; i++)
                        if (kind[i][0] == w && kind[i][1] == y && kind[i][2] == d &&
                            kind[i][4] == c)
                            memcpy(want[nw++], ids[i], 128);
                    f = fig_at(g, "licences", "by_destination", dests[c]);
                    if (nw)
                        same_records(json_object_get(f, dn), want, nw, dests[c]);
                }
            }
        }
    json_t *g = group_of(rep, "us", 2021);
    same_records(fig_at(g, "listings", NULL, NULL), lis, 1, "listings 2021");
    same_records(fig_at(group_of(rep, "us", 2023), "listings", NULL, NULL), lis + 1, 1,
                 "listings 2023");
    g = group_of(rep, "pk", 2026);
    char one[1][128];
    memcpy(one[0], k1, 128);
    same_records(fig_at(g, "misuse_cases", "opened", NULL), one, 1, "opened");
    same_records(fig_at(g, "misuse_cases", "closed", NULL), one, 1, "closed");
    assert_null(strstr(out = json_dumps(rep, 0), k2));
    free(out);
    json_decref(rep);
    /* one state, one year */
    TU_OK(comity_framework_spyware_report(fw, "us", 2023, &out, E));
    rep = parse(out);
    assert_int_equal(json_array_size(json_object_get(rep, "groups")), 1);
    assert_int_equal(json_integer_value(json_object_get(rep, "records_counted")), 1);
    json_decref(rep);
    comity_framework_free(fw);
}

/* ---- government use under oversight ---------------------------------------------------- */

#define AUTH_OK                                                                            \
    "{\"capability\":\"Pegasus\",\"basis\":\"Intelligence Act art. 12\",\"necessity\":" \
    "\"n\",\"proportionality\":\"p\",\"from\":\"2026-01-01T00:00:00Z\",\"until\":"         \
    "\"2026-03-01T00:00:00Z\"}"

static void test_oversight(void **state)
{
    (void)state;
    comity_framework *fw;
    TU_OK(comity_framework_new(&fw, E));
    const char *bad = "{\"capability\":\"c\",\"basis\":\"b\",\"necessity\":\"n\","
                      "\"proportionality\":\"p\",\"from\":\"2026-03-01T00:00:00Z\","
                      "\"until\":\"2026-01-01T00:00:00Z\"}";
    TU_FAILS(comity_framework_check_body("spyware-authorisation", bad, strlen(bad), E),
             COMITY_ERR_INVALID, "until");
    /* France's services (fr.sgdsn) authorise, sealed to the overseer: an
     * office of France; pk.mofa is no overseer of France */
    TU_FAILS(ADD(FR, "spyware-authorisation", "2026-01-01T00:00:00Z", "fr.sgdsn", NULL, AUTH_OK,
                 NULL), COMITY_ERR_INVALID, "sealed");
    TU_FAILS(SEALED(FR, "spyware-authorisation", "2026-01-01T00:00:00Z", "pk.mofa", NULL,
                    AUTH_OK, NULL, NULL), COMITY_ERR_INVALID, "overseer");
    TU_FAILS(SEALED(FR, "spyware-authorisation", "2026-01-01T00:00:00Z", "fr", NULL,
                    AUTH_OK, NULL, NULL), COMITY_ERR_INVALID, "overseer");
    comity_key *ov;
    TU_OK(comity_key_generate("fr.cnctr", &ov, E));
    /* the overseer's key is not among the test's: sign its records here */
    comity_record_params p = {.type = "spyware-authorisation", .tlp = "amber+strict",
                              .to = (const char *[]){"fr.cnctr"}, .nto = 1,
                              .seal_to = (const char *[]){comity_key_recipient(ov)},
                              .nseal_to = 1};
    char *env, a[128];
    size_t el;
    comity_record *r;
    TU_OK(comity_record_sign(keys[FR], &p, AUTH_OK, strlen(AUTH_OK), &env, &el, E));
    TU_OK(comity_record_parse(env, el, &r, E));
    comity_free(env);
    TU_OK(feed(fw, r, NULL, a)); /* the node: envelope only */
    const char *so = "{\"decision\":\"approved\"}";
    p = (comity_record_params){.type = "spyware-authorisation-signoff", .tlp = "amber+strict",
                               .to = (const char *[]){"fr.sgdsn"}, .nto = 1,
                               .refs = (const char *[]){a}, .nrefs = 1,
                               .seal_to = (const char *[]){comity_key_recipient(keys[FR])},
                               .nseal_to = 1};
    /* only the overseer signs off, once */
    TU_FAILS(SEALED(FR, "spyware-authorisation-signoff", "2026-01-02T00:00:00Z", "fr.sgdsn", a,
                    so, NULL, NULL), COMITY_ERR_DENIED, "only the overseer");
    TU_FAILS(SEALED(DE, "spyware-authorisation-signoff", "2026-01-02T00:00:00Z", "fr.sgdsn", a,
                    so, NULL, NULL), COMITY_ERR_NOTFOUND, NULL);
    for (int i = 0; i < 2; i++) {
        TU_OK(comity_record_sign(ov, &p, so, strlen(so), &env, &el, E));
        TU_OK(comity_record_parse(env, el, &r, E));
        comity_free(env);
        if (i == 0)
            TU_OK(feed(fw, r, NULL, NULL));
        else
            TU_FAILS(feed(fw, r, NULL, NULL), COMITY_ERR_CONFLICT, "already signed off");
    }
    comity_key_free(ov);
    comity_framework_free(fw);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schemas),
        cmocka_unit_test(test_normalise),
        cmocka_unit_test(test_galaxy_import),
        cmocka_unit_test(test_corrections_and_listings),
        cmocka_unit_test(test_licence_undercut),
        cmocka_unit_test(test_misuse),
        cmocka_unit_test(test_late_join),
        cmocka_unit_test(test_report),
        cmocka_unit_test(test_oversight),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
