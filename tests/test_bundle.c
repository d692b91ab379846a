/*
 * test_bundle.c: loading indicators from STIX 2.1 bundles: the Amnesty
 * Pegasus and Cytrox files (exact counts by object path), the OASIS
 * poisonivy and apt1 reports, and a crafted bundle with every kind of
 * untidiness the loader must tolerate or refuse.
 */
#include <stdlib.h>

#include "stix/bundle.h"
#include "util/testutil.h"

struct tally {
    const char *path[8];
    size_t count[8];
    size_t n;
};

static void tally_add(struct tally *t, const char *path)
{
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->path[i], path) == 0) {
            t->count[i]++;
            return;
        }
    assert_true(t->n < 8);
    t->path[t->n] = strdup(path);
    t->count[t->n++] = 1;
}

static size_t tally_get(const struct tally *t, const char *path)
{
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->path[i], path) == 0)
            return t->count[i];
    return 0;
}

static void tally_free(struct tally *t)
{
    for (size_t i = 0; i < t->n; i++)
        free((char *)t->path[i]);
}

/* Tallies indicators by the object path of their (single) comparison. */
static void tally_bundle(const cy_bundle *b, struct tally *t)
{
    for (size_t i = 0; i < cy_bundle_count(b); i++) {
        const cy_indicator *ind = cy_bundle_get(b, i);
        assert_non_null(ind->pattern);
        assert_int_equal(ind->pattern->ncmps, 1);
        const cy_pat_obs *r = ind->pattern->root;
        assert_int_equal(r->kind, CY_OBS_LEAF);
        assert_int_equal(r->cexpr->kind, CY_CEXPR_CMP);
        assert_int_equal(r->cexpr->cmp->op, CY_OP_EQ);
        cy_buf buf;
        cy_buf_init(&buf, 1024);
        TU_OK(cy_pattern_print_path(&r->cexpr->cmp->path, &buf));
        tally_add(t, (const char *)buf.data);
        cy_buf_free(&buf);
    }
}

static void test_pegasus(void **state)
{
    (void)state;
    cy_bundle *b;
    TU_OK(cy_bundle_load(tu_shared("data/ioc/amnesty/pegasus.stix2"), &b, E));
    const cy_bundle_stats *st = cy_bundle_stats_get(b);
    assert_string_equal(cy_bundle_id(b), "bundle--34d0032b-b342-4076-955d-6c0020fe693a");
    assert_int_equal(st->objects, 3099);
    assert_int_equal(cy_bundle_count(b), 1549);
    assert_int_equal(st->indicators, 1549);
    assert_int_equal(st->parsed, 1549);
    assert_int_equal(st->skipped, 0);
    assert_int_equal(st->relationships, 1549);
    assert_int_equal(st->dangling_refs, 0);
    assert_int_equal(st->duplicates, 0);
    assert_int_equal(st->unknown_types, 0);
    struct tally t = {0};
    tally_bundle(b, &t);
    assert_int_equal(t.n, 4);
    assert_int_equal(tally_get(&t, "domain-name:value"), 1438);
    assert_int_equal(tally_get(&t, "process:name"), 81);
    assert_int_equal(tally_get(&t, "email-addr:value"), 29);
    assert_int_equal(tally_get(&t, "file:name"), 1);
    tally_free(&t);
    const cy_indicator *ind = cy_bundle_get(b, 0);
    assert_string_equal(ind->id, "indicator--05b7c427-1452-437e-a19e-32590edf60c3");
    assert_string_equal(ind->pattern_text, "[domain-name:value='weather4free.com']");
    assert_string_equal(ind->pattern_type, "stix");
    assert_string_equal(ind->pattern_version, "2.1");
    assert_string_equal(ind->indicates, "Pegasus");
    assert_string_equal(ind->pattern->root->cexpr->cmp->lits[0].s, "weather4free.com");
    assert_true(ind->valid_from_ms == 1706304501013); /* 2024-01-26T21:28:21.013Z */
    assert_true(ind->valid_until_ms == INT64_MAX);
    assert_null(cy_bundle_get(b, 1549));
    cy_bundle_free(b);
}

static void test_cytrox(void **state)
{
    (void)state;
    cy_bundle *b;
    TU_OK(cy_bundle_load(tu_shared("data/ioc/amnesty/cytrox.stix2"), &b, E));
    const cy_bundle_stats *st = cy_bundle_stats_get(b);
    assert_int_equal(st->objects, 687);
    assert_int_equal(cy_bundle_count(b), 343);
    assert_int_equal(st->parsed, 343);
    assert_int_equal(st->dangling_refs, 0);
    struct tally t = {0};
    tally_bundle(b, &t);
    assert_int_equal(t.n, 3);
    assert_int_equal(tally_get(&t, "domain-name:value"), 336);
    assert_int_equal(tally_get(&t, "file:path"), 6);
    assert_int_equal(tally_get(&t, "configuration-profile:id"), 1);
    tally_free(&t);
    assert_string_equal(cy_bundle_get(b, 0)->indicates, "Predator");
    cy_bundle_free(b);
}

static comity_err count_types(const cy_pat_obs *leaf, const cy_pat_cmp *cmp, void *ctx)
{
    (void)leaf;
    tally_add(ctx, cmp->path.type);
    return COMITY_OK;
}

static void test_oasis_reports(void **state)
{
    (void)state;
    cy_bundle *b;
    TU_OK(cy_bundle_load(tu_shared("data/stix/examples/threat-reports/poisonivy.json"), &b, E));
    const cy_bundle_stats *st = cy_bundle_stats_get(b);
    assert_int_equal(st->objects, 155);
    assert_int_equal(cy_bundle_count(b), 25);
    assert_int_equal(st->parsed, 25);
    assert_int_equal(st->relationships, 90);
    assert_int_equal(st->dangling_refs, 0);
    struct tally t = {0};
    for (size_t i = 0; i < cy_bundle_count(b); i++)
        TU_OK(cy_pattern_each_cmp(cy_bundle_get(b, i)->pattern, count_types, &t));
    assert_int_equal(tally_get(&t, "domain-name"), 25);
    assert_int_equal(tally_get(&t, "ipv4-addr"), 40);
    assert_int_equal(tally_get(&t, "file"), 2);
    tally_free(&t);
    /* the second indicator is one observation of six ORed comparisons */
    const cy_indicator *ind = cy_bundle_get(b, 1);
    assert_string_equal(ind->name, "www.webserver.dynssl.com");
    assert_int_equal(ind->pattern->root->cexpr->kind, CY_CEXPR_OR);
    assert_int_equal(ind->pattern->root->cexpr->nkids, 6);
    cy_bundle_free(b);

    TU_OK(cy_bundle_load(tu_shared("data/stix/examples/threat-reports/apt1.json"), &b, E));
    st = cy_bundle_stats_get(b);
    assert_int_equal(st->objects, 76);
    assert_int_equal(cy_bundle_count(b), 12);
    assert_int_equal(st->parsed, 12);
    memset(&t, 0, sizeof t);
    for (size_t i = 0; i < cy_bundle_count(b); i++)
        TU_OK(cy_pattern_each_cmp(cy_bundle_get(b, i)->pattern, count_types, &t));
    assert_int_equal(tally_get(&t, "ipv4-addr"), 4);
    assert_int_equal(tally_get(&t, "domain-name"), 3);
    assert_int_equal(tally_get(&t, "file"), 3);
    assert_int_equal(tally_get(&t, "x509-certificate"), 4);
    tally_free(&t);
    cy_bundle_free(b);
}

/* Every small OASIS example loads and every indicator in it parses. */
static void test_oasis_examples(void **state)
{
    (void)state;
    static const struct {
        const char *file;
        size_t objects, indicators;
    } ex[] = {
        {"indicator-for-c2-ip-address.json", 1, 1},
        {"indicator-to-campaign-relationship.json", 3, 1},
        {"indicators-for-C2-with-COA.json", 8, 2},
        {"infrastructure.json", 10, 0},
        {"interop-objectmarking-test.json", 1, 0}, /* a bare campaign */
        {"malicious-email-indicator-with-attachment.json", 6, 2},
    };
    for (size_t i = 0; i < sizeof ex / sizeof ex[0]; i++) {
        char rel[256];
        snprintf(rel, sizeof rel, "data/stix/examples/%s", ex[i].file);
        cy_bundle *b;
        TU_OK(cy_bundle_load(tu_shared(rel), &b, E));
        const cy_bundle_stats *st = cy_bundle_stats_get(b);
        assert_int_equal(st->objects, ex[i].objects);
        assert_int_equal(cy_bundle_count(b), ex[i].indicators);
        assert_int_equal(st->parsed, ex[i].indicators);
        cy_bundle_free(b);
    }
}

/* A bundle with every tolerated untidiness. */
static const char messy[] =
    "{\"type\":\"bundle\",\"id\":\"bundle--00000000-0000-4000-8000-000000000000\",\"objects\":[\n"
    /* 0: plain */
    "{\"type\":\"indicator\",\"id\":\"indicator--1\",\"name\":\"one\",\"pattern\":\"[domain-name:value='a.com']\","
    "\"pattern_type\":\"stix\",\"valid_from\":\"2024-01-01T00:00:00Z\",\"modified\":\"2024-01-01T00:00:00Z\"},\n"
    /* 1: a newer version of the same id: replaces 0 */
    "{\"type\":\"indicator\",\"id\":\"indicator--1\",\"name\":\"one v2\",\"pattern\":\"[domain-name:value='b.com']\","
    "\"pattern_type\":\"stix\",\"valid_from\":\"2024-01-01T00:00:00Z\",\"modified\":\"2024-02-01T00:00:00Z\"},\n"
    /* 2: an older version again: dropped */
    "{\"type\":\"indicator\",\"id\":\"indicator--1\",\"name\":\"one v0\",\"pattern\":\"[domain-name:value='z.com']\","
    "\"pattern_type\":\"stix\",\"valid_from\":\"2024-01-01T00:00:00Z\",\"modified\":\"2023-01-01T00:00:00Z\"},\n"
    /* 3: another language */
    "{\"type\":\"indicator\",\"id\":\"indicator--2\",\"pattern\":\"rule x { condition: true }\",\"pattern_type\":\"yara\"},\n"
    /* 3b: a long pattern_type with a character across byte 64 */
    "{\"type\":\"indicator\",\"id\":\"indicator--2b\",\"pattern\":\"x\",\"pattern_type\":"
    "\"yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy\u00e9\u00e9\"},\n"
    /* 4: a broken STIX pattern */
    "{\"type\":\"indicator\",\"id\":\"indicator--3\",\"pattern\":\"[file:name = 'x'\",\"pattern_type\":\"stix\"},\n"
    /* 5: no pattern_type (STIX 2.0 style) and the same pattern as 1 */
    "{\"type\":\"indicator\",\"id\":\"indicator--4\",\"pattern\":\"[domain-name:value='b.com']\"},\n"
    /* 6: revoked */
    "{\"type\":\"indicator\",\"id\":\"indicator--5\",\"pattern\":\"[a:b=1]\",\"pattern_type\":\"stix\",\"revoked\":true},\n"
    /* 7: valid_until before valid_from */
    "{\"type\":\"indicator\",\"id\":\"indicator--6\",\"pattern\":\"[a:b=1]\",\"pattern_type\":\"stix\","
    "\"valid_from\":\"2024-01-01T00:00:00Z\",\"valid_until\":\"2023-01-01T00:00:00Z\"},\n"
    /* 8: bad valid_from */
    "{\"type\":\"indicator\",\"id\":\"indicator--7\",\"pattern\":\"[a:b=1]\",\"valid_from\":\"yesterday\"},\n"
    /* 9: no pattern at all */
    "{\"type\":\"indicator\",\"id\":\"indicator--8\"},\n"
    /* 10-12: relationships, one to a missing object, one from a missing one */
    "{\"type\":\"relationship\",\"id\":\"relationship--1\",\"relationship_type\":\"indicates\","
    "\"source_ref\":\"indicator--1\",\"target_ref\":\"malware--1\"},\n"
    "{\"type\":\"relationship\",\"id\":\"relationship--2\",\"relationship_type\":\"indicates\","
    "\"source_ref\":\"indicator--4\",\"target_ref\":\"malware--missing\"},\n"
    "{\"type\":\"relationship\",\"id\":\"relationship--3\",\"relationship_type\":\"uses\","
    "\"source_ref\":\"intrusion-set--missing\",\"target_ref\":\"malware--missing\"},\n"
    /* 13: the malware */
    "{\"type\":\"malware\",\"id\":\"malware--1\",\"name\":\"Evil\"},\n"
    /* 14-15: custom types */
    "{\"type\":\"x-foo\",\"id\":\"x-foo--1\"},\n"
    "{\"type\":\"configuration-profile\",\"id\":\"configuration-profile--1\"},\n"
    /* 16-18: entries that are not objects, or lack a type or an id */
    "42, {\"id\":\"no-type\"}, {\"type\":\"note\"}\n"
    "]}";

static void test_messy(void **state)
{
    (void)state;
    cy_bundle *b;
    TU_OK(cy_bundle_parse(messy, strlen(messy), &b, E));
    const cy_bundle_stats *st = cy_bundle_stats_get(b);
    assert_int_equal(st->objects, 20);
    assert_int_equal(st->indicators, 9);
    assert_int_equal(st->duplicates, 2);
    assert_int_equal(st->parsed, 2);
    assert_int_equal(st->skipped, 7);
    assert_int_equal(st->same_pattern, 3); /* b.com once, [a:b=1] twice */
    assert_int_equal(st->relationships, 3);
    assert_int_equal(st->dangling_refs, 3);
    assert_int_equal(st->unknown_types, 2);
    assert_int_equal(st->invalid_objects, 3);
    assert_int_equal(cy_bundle_count(b), 9);

    const cy_indicator *i1 = cy_bundle_get(b, 0);
    assert_string_equal(i1->id, "indicator--1");
    assert_string_equal(i1->name, "one v2");
    assert_int_equal(i1->index, 1);
    assert_non_null(i1->pattern);
    assert_null(i1->skip_reason);
    assert_string_equal(i1->pattern->root->cexpr->cmp->lits[0].s, "b.com");
    assert_string_equal(i1->indicates, "Evil");

    const cy_indicator *i2 = cy_bundle_get(b, 1);
    assert_null(i2->pattern);
    assert_string_equal(i2->skip_reason, "pattern_type 'yara' is not STIX");

    /* a long pattern_type is quoted up to 64 bytes, on a character boundary:
     * 63 'y' and no half of the 'e-acute' that straddles byte 64 */
    const cy_indicator *i2b = cy_bundle_get(b, 2);
    assert_null(i2b->pattern);
    assert_string_equal(i2b->skip_reason, "pattern_type '"
                        "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy"
                        "' is not STIX");

    const cy_indicator *i3 = cy_bundle_get(b, 3);
    assert_null(i3->pattern);
    assert_non_null(strstr(i3->skip_reason, "pattern: expected ']'"));
    assert_non_null(strstr(i3->skip_reason, "at byte 16"));

    const cy_indicator *i4 = cy_bundle_get(b, 4);
    assert_non_null(i4->pattern);
    assert_string_equal(i4->pattern_type, "stix");
    assert_string_equal(i4->indicates, "malware--missing");

    assert_string_equal(cy_bundle_get(b, 5)->skip_reason, "revoked");
    assert_string_equal(cy_bundle_get(b, 6)->skip_reason, "valid_until is not after valid_from");
    assert_string_equal(cy_bundle_get(b, 7)->skip_reason, "valid_from: not RFC 3339");
    assert_string_equal(cy_bundle_get(b, 8)->skip_reason, "no pattern");
    cy_bundle_free(b);
}

static void test_shapes(void **state)
{
    (void)state;
    cy_bundle *b;
    /* TAXII envelope */
    const char *env = "{\"more\":false,\"objects\":[{\"type\":\"indicator\",\"id\":\"indicator--9\","
                      "\"pattern\":\"[url:value = 'http://x/']\",\"pattern_type\":\"stix\"}]}";
    TU_OK(cy_bundle_parse(env, strlen(env), &b, E));
    assert_int_equal(cy_bundle_count(b), 1);
    assert_null(cy_bundle_id(b));
    cy_bundle_free(b);
    /* one bare object */
    const char *one = "{\"type\":\"indicator\",\"id\":\"indicator--9\",\"pattern\":\"[url:value = 'http://x/']\"}";
    TU_OK(cy_bundle_parse(one, strlen(one), &b, E));
    assert_int_equal(cy_bundle_count(b), 1);
    assert_non_null(cy_bundle_get(b, 0)->pattern);
    cy_bundle_free(b);
    /* a bundle without objects is empty, not an error */
    const char *empty = "{\"type\":\"bundle\",\"id\":\"bundle--1\"}";
    TU_OK(cy_bundle_parse(empty, strlen(empty), &b, E));
    assert_int_equal(cy_bundle_count(b), 0);
    cy_bundle_free(b);
    assert_true(cy_stix_type_known("indicator"));
    assert_true(cy_stix_type_known("x509-certificate"));
    assert_false(cy_stix_type_known("app"));
    assert_false(cy_stix_type_known("x-foo"));
}

static void test_refused(void **state)
{
    (void)state;
    cy_bundle *b = (cy_bundle *)1;
    const char *trunc = "{\"type\": \"bundle\",\n \"objects\": [\n  {\"type\": \"indicator\",";
    TU_FAILS(cy_bundle_parse(trunc, strlen(trunc), &b, E), COMITY_ERR_INVALID,
             "bundle: JSON error at line 3");
    assert_null(b);
    assert_non_null(strstr(tu_last_err.msg, "byte"));
    const char *garbage = "{\"type\": \"bundle\"} x";
    TU_FAILS(cy_bundle_parse(garbage, strlen(garbage), &b, E), COMITY_ERR_INVALID,
             "column");
    TU_FAILS(cy_bundle_parse("", 0, &b, E), COMITY_ERR_INVALID, "JSON error");
    TU_FAILS(cy_bundle_parse("[1,2]", 5, &b, E), COMITY_ERR_INVALID, "not a JSON object");
    const char *report = "{\"type\":\"report\"}";
    TU_FAILS(cy_bundle_parse(report, strlen(report), &b, E), COMITY_ERR_INVALID,
             "not a STIX bundle (type 'report')");
    TU_FAILS(cy_bundle_parse("{}", 2, &b, E), COMITY_ERR_INVALID, "type missing");
    const char *notarr = "{\"type\":\"bundle\",\"id\":\"bundle--1\",\"objects\":{}}";
    TU_FAILS(cy_bundle_parse(notarr, strlen(notarr), &b, E), COMITY_ERR_INVALID,
             "\"objects\" is not an array");
    /* the size cap is checked before anything is read */
    TU_FAILS(cy_bundle_parse("{}", (size_t)CY_BUNDLE_MAX + 1, &b, E), COMITY_ERR_TOOBIG,
             "more than the");
    assert_null(b);
    TU_FAILS(cy_bundle_load("/nonexistent/bundle.json", &b, E), COMITY_ERR_NOTFOUND, NULL);
    TU_FAILS(cy_bundle_load(tu_shared("data/ioc/amnesty/pegasus_domains.txt"), &b, E),
             COMITY_ERR_INVALID, "pegasus_domains.txt: bundle: JSON error at line 1");
}

static void test_oom(void **state)
{
    (void)state;
    int failures = 0;
    for (long n = 1; n < 400; n++) {
        cy_bundle *b = NULL;
        cy_alloc_fail_after(n);
        comity_err rc = cy_bundle_parse(messy, strlen(messy), &b, E);
        cy_alloc_fail_after(0);
        if (rc == COMITY_OK) {
            assert_int_equal(cy_bundle_count(b), 9);
            cy_bundle_free(b);
            break;
        }
        assert_int_equal(rc, COMITY_ERR_NOMEM);
        assert_null(b);
        failures++;
    }
    assert_true(failures >= 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pegasus),
        cmocka_unit_test(test_cytrox),
        cmocka_unit_test(test_oasis_reports),
        cmocka_unit_test(test_oasis_examples),
        cmocka_unit_test(test_messy),
        cmocka_unit_test(test_shapes),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_oom),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
