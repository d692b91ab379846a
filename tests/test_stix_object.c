/*
 * test_stix_object.c: the STIX 2.1 object checks a node applies before it
 * stores an object (src/stix/object.c): one test per way an object can be
 * wrong, the common types' required properties, and the timestamps.
 */
#include <jansson.h>

#include "stix/object.h"
#include "util/testutil.h"

/* The info borrows from the parsed object, which lives until the next call
 * (or check_done). */
static json_t *last_obj;

static void check_done(void)
{
    json_decref(last_obj);
    last_obj = NULL;
}

static comity_err check_text(const char *text, cy_stix_info *info)
{
    json_error_t je;
    check_done();
    last_obj = json_loads(text, 0, &je);
    if (!last_obj)
        fail_msg("test JSON does not parse: %s", je.text);
    return cy_stix_object_check(last_obj, info, E);
}

#define SDO_HEAD "\"spec_version\":\"2.1\",\"created\":\"2024-01-01T00:00:00.000Z\"," \
                 "\"modified\":\"2024-01-02T00:00:00.000Z\""

static void test_valid(void **state)
{
    (void)state;
    cy_stix_info in;
    TU_OK(check_text("{\"type\":\"indicator\",\"id\":\"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\"," SDO_HEAD
                     ",\"pattern\":\"[x:y='z']\",\"pattern_type\":\"stix\",\"valid_from\":\"2024-01-01T00:00:00Z\"}",
                     &in));
    assert_string_equal(in.type, "indicator");
    assert_string_equal(in.version, "2024-01-02T00:00:00.000Z");
    assert_true(in.version_us > 0);
    /* an SCO: no spec_version, no created/modified, unversioned */
    TU_OK(check_text("{\"type\":\"domain-name\",\"id\":\"domain-name--3c10e93f-798e-5a26-a0c1-08156efab7f5\",\"value\":\"a.b\"}",
                     &in));
    assert_null(in.version);
    assert_string_equal(in.spec_version, "2.1");
    /* marking definitions have created but no modified */
    TU_OK(check_text("{\"type\":\"marking-definition\",\"spec_version\":\"2.1\",\"id\":\"marking-definition--"
                     "613f2e26-407d-48c7-9eca-b8e91df99dc9\",\"created\":\"2017-01-20T00:00:00.000Z\","
                     "\"definition_type\":\"tlp\",\"definition\":{\"tlp\":\"white\"}}",
                     &in));
    assert_string_equal(in.version, "2017-01-20T00:00:00.000Z");
    /* a custom type with the common properties */
    TU_OK(check_text("{\"type\":\"x-comity-record\",\"id\":\"x-comity-record--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\"," SDO_HEAD "}",
                     &in));
    check_done();
}

static void test_refusals(void **state)
{
    (void)state;
    cy_stix_info in;
    static const struct {
        const char *json, *needle;
    } cases[] = {
        {"[]", "not a JSON object"},
        {"{\"id\":\"x\"}", "missing required 'type'"},
        {"{\"type\":\"In\",\"id\":\"x\"}", "'type' is not"},
        {"{\"type\":\"ab\",\"id\":\"x\"}", "'type' is not"},
        {"{\"type\":\"a--b\",\"id\":\"x\"}", "'type' is not"},
        {"{\"type\":\"bundle\",\"id\":\"bundle--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\"}", "bundle"},
        {"{\"type\":\"malware\"}", "missing required 'id'"},
        {"{\"type\":\"malware\",\"id\":\"malware--8E2E2D2B-17D4-4CBF-938F-98EE46B3CD3F\"}", "lowercase UUID"},
        {"{\"type\":\"malware\",\"id\":\"tool--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\"}", "does not start with its type"},
        {"{\"type\":\"malware\",\"id\":\"malware--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\",\"is_family\":true}",
         "missing required 'spec_version'"},
        {"{\"type\":\"malware\",\"id\":\"malware--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\",\"spec_version\":\"2.0\"}",
         "must be \"2.1\""},
        {"{\"type\":\"malware\",\"id\":\"malware--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\",\"spec_version\":\"2.1\","
         "\"modified\":\"2024-01-01T00:00:00Z\",\"is_family\":true}", "missing required 'created'"},
        {"{\"type\":\"malware\",\"id\":\"malware--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\",\"spec_version\":\"2.1\","
         "\"created\":\"2024-01-01T00:00:00Z\",\"is_family\":true}", "missing required 'modified'"},
        {"{\"type\":\"malware\",\"id\":\"malware--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\",\"spec_version\":\"2.1\","
         "\"created\":\"2024-01-01 00:00:00Z\",\"modified\":\"2024-01-01T00:00:00Z\",\"is_family\":true}", "'created'"},
        {"{\"type\":\"malware\",\"id\":\"malware--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\",\"spec_version\":\"2.1\","
         "\"created\":\"2024-01-01T00:00:00+01:00\",\"modified\":\"2024-01-01T00:00:00Z\",\"is_family\":true}", "UTC"},
        {"{\"type\":\"malware\",\"id\":\"malware--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\",\"spec_version\":\"2.1\","
         "\"created\":\"2024-02-30T00:00:00Z\",\"modified\":\"2024-03-01T00:00:00Z\",\"is_family\":true}", "day"},
        {"{\"type\":\"malware\",\"id\":\"malware--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\",\"spec_version\":\"2.1\","
         "\"created\":\"2024-01-02T00:00:00Z\",\"modified\":\"2024-01-01T00:00:00Z\",\"is_family\":true}",
         "'modified' is before 'created'"},
        {"{\"type\":\"malware\",\"id\":\"malware--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\"," SDO_HEAD "}",
         "missing required 'is_family'"},
        {"{\"type\":\"indicator\",\"id\":\"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\"," SDO_HEAD
         ",\"pattern\":\"x\",\"pattern_type\":\"stix\"}", "missing required 'valid_from'"},
        {"{\"type\":\"relationship\",\"id\":\"relationship--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\"," SDO_HEAD
         ",\"relationship_type\":\"uses\",\"source_ref\":\"x\"}", "missing required 'target_ref'"},
        {"{\"type\":\"domain-name\",\"id\":\"domain-name--3c10e93f-798e-5a26-a0c1-08156efab7f5\"}",
         "missing required 'value'"},
        {"{\"type\":\"report\",\"id\":\"report--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\"," SDO_HEAD
         ",\"name\":\"r\",\"object_refs\":[],\"published\":\"2024-01-01T00:00:00Z\",\"created_by_ref\":\"tool--x\"}",
         "'created_by_ref'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        comity_err rc = check_text(cases[i].json, &in);
        if (rc != COMITY_ERR_INVALID)
            fail_msg("case %zu accepted: %s", i, cases[i].json);
        tu_check_msg(cases[i].json, cases[i].needle);
    }
    check_done();
}

static void test_ids_and_types(void **state)
{
    (void)state;
    assert_true(cy_stix_type_valid("x-a", 3));
    assert_true(cy_stix_type_valid("ipv4-addr", 9));
    assert_false(cy_stix_type_valid("4ab", 3));
    assert_false(cy_stix_type_valid("a_b", 3));
    const char *ok = "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f";
    assert_true(cy_stix_id_valid(ok, strlen(ok)));
    assert_false(cy_stix_id_valid(ok, strlen(ok) - 1));
    const char *bad = "indicator-8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f";
    assert_false(cy_stix_id_valid(bad, strlen(bad)));
    const char *nover = "indicator--8e2e2d2b-17d4-0cbf-938f-98ee46b3cd3f";
    assert_false(cy_stix_id_valid(nover, strlen(nover)));
}

static void test_time(void **state)
{
    (void)state;
    int64_t us;
    TU_OK(cy_stix_time_parse_us("1970-01-01T00:00:01.5Z", 22, &us, E));
    assert_int_equal(us, 1500000);
    TU_OK(cy_stix_time_parse_us("2016-11-02T12:34:34.123456789Z", 30, &us, E));
    char out[CY_STIX_TIME_BUF];
    cy_stix_time_format_us(out, us);
    assert_string_equal(out, "2016-11-02T12:34:34.123456Z");
    TU_OK(cy_stix_time_parse_us("1969-12-31T23:59:59.999999Z", 27, &us, E));
    assert_int_equal(us, -1);
    cy_stix_time_format_us(out, us);
    assert_string_equal(out, "1969-12-31T23:59:59.999999Z");
    TU_FAILS(cy_stix_time_parse_us("2016-11-02T12:34:34.Z", 21, &us, E), COMITY_ERR_INVALID, "fraction");
    TU_FAILS(cy_stix_time_parse_us("2016-11-02T12:34:34", 19, &us, E), COMITY_ERR_INVALID, "UTC");
    TU_FAILS(cy_stix_time_parse_us("2016-11-02t12:34:34Z", 20, &us, E), COMITY_ERR_INVALID, "byte 10");
    TU_FAILS(cy_stix_time_parse_us("2016-11-02T12:34:3xZ", 20, &us, E), COMITY_ERR_INVALID, NULL);
    TU_FAILS(cy_stix_time_parse_us("2016-13-02T12:34:34Z", 20, &us, E), COMITY_ERR_INVALID, "month");
}

/* Every object of the Amnesty bundles passes (they are real-world STIX). */
static void test_amnesty(void **state)
{
    (void)state;
    const char *files[] = {"data/ioc/amnesty/pegasus.stix2", "data/ioc/amnesty/cytrox.stix2"};
    for (size_t f = 0; f < 2; f++) {
        json_error_t je;
        json_t *b = json_load_file(tu_shared(files[f]), 0, &je);
        assert_non_null(b);
        json_t *objs = json_object_get(b, "objects");
        assert_true(json_array_size(objs) > 600);
        size_t i;
        json_t *o;
        json_array_foreach(objs, i, o)
        {
            cy_stix_info in;
            TU_OK(cy_stix_object_check(o, &in, E));
        }
        json_decref(b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_ids_and_types),
        cmocka_unit_test(test_time),
        cmocka_unit_test(test_amnesty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
