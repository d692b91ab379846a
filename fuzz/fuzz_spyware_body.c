/*
 * fuzz_spyware_body.c: the body validators of the spyware registry's
 * records and misuse cases (src/framework/spyware.c, spyware_misuse.c, on
 * the case core's field tables), and the MISP galaxy reader that `comity
 * spyware import` feeds, on arbitrary bytes.  The first byte picks the
 * record type (or the galaxy reader), the rest is the input.  Besides not
 * crashing: a body that is accepted must still be accepted once jansson
 * has re-encoded it, and every body the galaxy reader makes must pass the
 * vendor schema, with a name that normalises to something.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "comity.h"

static const char *const types[] = {
    "spyware-vendor",         "spyware-licence",       "spyware-listing",
    "spyware-misuse-notice",  "spyware-misuse-join",   "spyware-misuse",
    "spyware-misuse-evidence", "spyware-misuse-answer", "spyware-misuse-close",
    "spyware-authorisation",  "spyware-authorisation-signoff", NULL /* the galaxy reader */};
#define NTYPES (sizeof types / sizeof types[0])

static void galaxy(const char *in, size_t len)
{
    char *out = NULL;
    if (comity_spyware_galaxy_bodies(in, len, &out, NULL) != COMITY_OK)
        return;
    json_t *a = json_loads(out, 0, NULL);
    if (!json_is_array(a))
        abort();
    size_t i;
    json_t *b;
    json_array_foreach(a, i, b) {
        char *s = json_dumps(b, JSON_COMPACT);
        char n[300];
        if (!s || comity_framework_check_body("spyware-vendor", s, strlen(s), NULL) != COMITY_OK ||
            !comity_spyware_normalise(json_string_value(json_object_get(b, "name")), n, sizeof n))
            abort();
        free(s);
    }
    json_decref(a);
    comity_free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *type = types[data[0] % NTYPES];
    const char *body = (const char *)data + 1;
    size_t len = size - 1;
    if (!type) {
        galaxy(body, len);
        return 0;
    }
    if (!comity_framework_handles(type))
        abort();
    if (comity_framework_check_body(type, body, len, NULL) != COMITY_OK)
        return 0;
    json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
    if (!j || !json_is_object(j))
        abort();
    char *again = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    if (!again)
        abort();
    if (comity_framework_check_body(type, again, strlen(again), NULL) != COMITY_OK)
        abort();
    free(again);
    return 0;
}
