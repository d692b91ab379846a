/*
 * test_taxii_caps.c: what one TAXII POST may cost a node (stix/envelope.h).
 *
 * A node started in this process on a loopback port, posted to with
 * libcurl.  Envelopes over CY_STIX_ENVELOPE_OBJECTS_MAX objects and an
 * 8 MiB `{"objects":[0,0,...]}` are refused with a TAXII error (413);
 * an envelope with more refused objects than CY_STIX_STATUS_FAILURES_MAX
 * is refused whole (422) and nothing of it is stored; the status resource
 * of a POST full of refused objects with huge ids stays below
 * CY_STIX_STATUS_MAX.  What a hostile POST costs is counted as the bytes
 * asked of the allocators while it runs (libcomity's wrapper,
 * cy_alloc_counted, and jansson's, routed through a counter here), a
 * figure that does not depend on the sanitizer or the machine: a stream
 * of them must each cost the same bounded amount.
 */
#include <stdatomic.h>
#include <stdlib.h>

#include <curl/curl.h>
#include <jansson.h>

#include "node/node.h"
#include "stix/envelope.h"
#include "util/node.h"
#include "util/testutil.h"

static char *tmp;
static comity_node *node;
static char base[128];
static char optoken[128];
static char community[64];

/* ---- jansson's allocations, counted ------------------------------------- */

static atomic_size_t jansson_bytes;

static void *count_malloc(size_t n)
{
    atomic_fetch_add(&jansson_bytes, n);
    return malloc(n);
}

static void count_free(void *p) { free(p); }

/* Bytes asked of both allocators since the last call. */
static size_t spent(void)
{
    size_t v = cy_alloc_counted() + atomic_exchange(&jansson_bytes, 0);
    cy_alloc_count_start();
    return v;
}

/* ---- HTTP ----------------------------------------------------------------- */

/* One request; returns the status, *out the body (caller frees) or NULL. */
static long http(const char *method, const char *path, const char *userpwd, const char *body,
                 size_t body_len, char **out)
{
    CURL *c = curl_easy_init();
    tu_sink s = {0};
    char url[512];
    snprintf(url, sizeof url, "%s%s", base, path);
    struct curl_slist *h = curl_slist_append(NULL, "Accept: " CY_MEDIA_TAXII);
    h = curl_slist_append(h, "Content-Type: " CY_MEDIA_TAXII);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, tu_sink_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
    if (userpwd)
        curl_easy_setopt(c, CURLOPT_USERPWD, userpwd);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    }
    long code = 0;
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    if (out)
        *out = s.buf;
    else
        free(s.buf);
    return code;
}

static json_t *body_json(char *text)
{
    json_t *v = json_loads(text ? text : "", 0, NULL);
    free(text);
    assert_non_null(v);
    return v;
}

static int setup(void **state)
{
    (void)state;
    json_set_alloc_funcs(count_malloc, count_free);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    tmp = tu_tmpdir();
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/n", tmp);
    char tok[100];
    tu_node_make(dir, "caps.example", NULL, &node, tok, sizeof tok);
    snprintf(optoken, sizeof optoken, "operator:%s", tok);
    tu_node_serve(node, NULL, base, sizeof base);

    char *out = NULL;
    assert_int_equal(http("GET", "/comity/collections/", optoken, NULL, 0, &out), 200);
    json_t *v = body_json(out);
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(v, "collections"), i, c)
    {
        if (!strcmp(json_string_value(json_object_get(c, "alias")), "community"))
            snprintf(community, sizeof community, "%s",
                     json_string_value(json_object_get(c, "id")));
    }
    json_decref(v);
    assert_true(community[0]);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    comity_node_close(node);
    tu_rmrf(tmp);
    free(tmp);
    curl_global_cleanup();
    return 0;
}

static const char *objects_path(void)
{
    static char p[128];
    snprintf(p, sizeof p, "/comity/collections/%s/objects/", community);
    return p;
}

/* An envelope of `good` domain-name objects (ids from `tag`) and `bad`
 * refused ones (a type without its required `value`); `junk` > 0 gives
 * each refused object an id of that many bytes.  Caller frees. */
static char *envelope(unsigned tag, size_t good, size_t bad, size_t junk, size_t *len)
{
    cy_buf b;
    cy_buf_init(&b, SIZE_MAX / 4);
    char *long_id = NULL;
    if (junk) {
        long_id = malloc(junk + 1);
        memset(long_id, 'x', junk);
        long_id[junk] = 0;
    }
    comity_err x = cy_buf_puts(&b, "{\"objects\":[");
    for (size_t k = 0; k < good + bad; k++) {
        if (k)
            x |= cy_buf_puts(&b, ",");
        if (k < good)
            x |= cy_buf_printf(&b,
                               "{\"type\":\"domain-name\",\"id\":\"domain-name--%08x-0000-4000-"
                               "8000-%012zx\",\"value\":\"d%zu.example\"}",
                               tag, k, k);
        else if (junk)
            x |= cy_buf_printf(&b, "{\"type\":\"domain-name\",\"id\":\"%s%zu\"}", long_id, k);
        else
            x |= cy_buf_printf(&b,
                               "{\"type\":\"domain-name\",\"id\":\"domain-name--%08x-0000-4000-"
                               "8000-%012zx\"}",
                               tag + 1, k);
    }
    x |= cy_buf_puts(&b, "]}");
    assert_int_equal(x, COMITY_OK);
    free(long_id);
    *len = b.len;
    return (char *)b.data; /* the buffer owns its data; the caller frees it */
}

/* True when the community collection holds domain-name--<tag>-...-<k>. */
static bool stored(unsigned tag, size_t k)
{
    char path[256];
    snprintf(path, sizeof path,
             "/comity/collections/%s/objects/domain-name--%08x-0000-4000-8000-%012zx/", community,
             tag, k);
    return http("GET", path, optoken, NULL, 0, NULL) == 200;
}

static void expect_taxii_error(char *out, const char *status)
{
    json_t *v = body_json(out);
    assert_string_equal(json_string_value(json_object_get(v, "http_status")), status);
    assert_non_null(json_object_get(v, "title"));
    json_decref(v);
}

/* At the cap an envelope is taken whole; one more object and it is refused
 * whole with a TAXII error, nothing stored. */
static void test_objects_per_envelope(void **state)
{
    (void)state;
    size_t len;
    char *env = envelope(0x100, CY_STIX_ENVELOPE_OBJECTS_MAX + 1, 0, 0, &len);
    char *out = NULL;
    assert_int_equal(http("POST", objects_path(), optoken, env, len, &out), 413);
    expect_taxii_error(out, "413");
    free(env);
    assert_false(stored(0x100, 0));

    env = envelope(0x101, CY_STIX_ENVELOPE_OBJECTS_MAX, 0, 0, &len);
    assert_int_equal(http("POST", objects_path(), optoken, env, len, &out), 202);
    free(env);
    json_t *v = body_json(out);
    assert_int_equal(json_integer_value(json_object_get(v, "success_count")),
                     CY_STIX_ENVELOPE_OBJECTS_MAX);
    json_decref(v);
    assert_true(stored(0x101, CY_STIX_ENVELOPE_OBJECTS_MAX - 1));
}

/* The attack of the hardening issue, point 1: 8 MiB of zeros in an
 * envelope (the default body cap), posted again and again.  Each is
 * refused with 413 and costs the node a bounded number of allocated bytes
 * (the body itself, twice over while it grows, plus the capped token
 * array), the same for the last post as for the first.  Before the caps
 * one such post cost gigabytes. */
static void test_zero_flood_costs_little(void **state)
{
    (void)state;
    size_t cap = 8u << 20;
    char *env = malloc(cap);
    memcpy(env, "{\"objects\":[", 12);
    size_t len = 12;
    while (len + 4 < cap) {
        env[len++] = '0';
        env[len++] = ',';
    }
    env[len++] = '0';
    env[len++] = ']';
    env[len++] = '}';
    size_t first = 0;
    for (int round = 0; round < 6; round++) {
        spent();
        char *out = NULL;
        assert_int_equal(http("POST", objects_path(), optoken, env, len, &out), 413);
        size_t cost = spent();
        expect_taxii_error(out, "413");
        print_message("8 MiB zero envelope %d: %zu bytes allocated\n", round, cost);
        assert_true(cost < (48u << 20));
        if (round == 0)
            first = cost;
        else
            assert_true(cost < first + (1u << 20)); /* flat: no post costs more */
    }
    free(env);
}

/* More refused objects than a status lists: refused whole (422), the good
 * object is not stored, the first CY_STIX_STATUS_FAILURES_MAX reasons are
 * listed.  At the cap the envelope is processed as before. */
static void test_failures_per_status(void **state)
{
    (void)state;
    size_t len;
    char *out = NULL;
    char *env = envelope(0x200, 1, CY_STIX_STATUS_FAILURES_MAX + 1, 0, &len);
    assert_int_equal(http("POST", objects_path(), optoken, env, len, &out), 422);
    free(env);
    json_t *v = body_json(out);
    assert_string_equal(json_string_value(json_object_get(v, "http_status")), "422");
    assert_int_equal(json_array_size(json_object_get(json_object_get(v, "details"), "failures")),
                     CY_STIX_STATUS_FAILURES_MAX);
    assert_non_null(strstr(json_string_value(json_object_get(v, "description")),
                           "nothing was stored"));
    json_decref(v);
    assert_false(stored(0x200, 0));

    env = envelope(0x300, 1, CY_STIX_STATUS_FAILURES_MAX, 0, &len);
    assert_int_equal(http("POST", objects_path(), optoken, env, len, &out), 202);
    free(env);
    v = body_json(out);
    assert_int_equal(json_integer_value(json_object_get(v, "failure_count")),
                     CY_STIX_STATUS_FAILURES_MAX);
    assert_int_equal(json_integer_value(json_object_get(v, "success_count")), 1);
    json_decref(v);
    assert_true(stored(0x300, 0));
}

/* Refused objects whose ids are 60 KB of junk each: the status lists each
 * id cut to the longest a STIX id can be, and the stored status resource
 * stays below CY_STIX_STATUS_MAX (before, the status echoed every byte). */
static void test_status_bounded(void **state)
{
    (void)state;
    size_t len;
    char *out = NULL;
    char *env = envelope(0x400, 1, CY_STIX_STATUS_FAILURES_MAX, 60000, &len);
    assert_true(len > (4u << 20));
    assert_int_equal(http("POST", objects_path(), optoken, env, len, &out), 202);
    free(env);
    json_t *v = body_json(out);
    const char *sid = json_string_value(json_object_get(v, "id"));
    char path[256];
    snprintf(path, sizeof path, "/comity/status/%s/", sid);
    json_decref(v);
    assert_int_equal(http("GET", path, optoken, NULL, 0, &out), 200);
    size_t slen = strlen(out);
    print_message("status of 100 refused 60 KB ids: %zu bytes\n", slen);
    assert_true(slen < CY_STIX_STATUS_MAX);
    assert_true(slen < 64u * 1024);
    v = body_json(out);
    json_t *f = json_array_get(json_object_get(v, "failures"), 0);
    assert_int_equal(strlen(json_string_value(json_object_get(f, "id"))), CY_STIX_ID_MAX);
    json_decref(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_objects_per_envelope),
        cmocka_unit_test(test_zero_flood_costs_little),
        cmocka_unit_test(test_failures_per_status),
        cmocka_unit_test(test_status_bounded),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
