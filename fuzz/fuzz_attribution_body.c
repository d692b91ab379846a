/*
 * fuzz_attribution_body.c: attribution's body validators (the field tables
 * and cross-field rules of src/framework/attribution.c, STIX objects of an
 * evidence item checked by src/stix/object.c) and the threat-actor
 * vocabulary's importer (src/framework/actors.c) on arbitrary bytes.  The
 * first byte picks the record type, or (last) the importer; the rest is
 * the body or the document.  Besides not crashing: a body that is
 * accepted must still be accepted once jansson has re-encoded it, and
 * every name an import accepted must be found again by an exact search.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "comity.h"

static const char *const types[] = {
    "attribution-open",    "attribution-evidence", "attribution-rating",
    "attribution-actor",   "attribution-claim",    "attribution-reply",
    "attribution-panel",   "attribution-panel-agree", "attribution-vote",
    "attribution-publish", "attribution-close"};
#define NTYPES (sizeof types / sizeof types[0])

static void actors(const char *doc, size_t len)
{
    comity_actors *a;
    if (comity_actors_new(&a, NULL))
        abort();
    if (comity_actors_import(a, doc, len, "attribution-actor--1", NULL) == COMITY_OK) {
        char *json;
        if (comity_actors_find(a, "a", 0, 10, &json, NULL) == COMITY_OK)
            comity_free(json);
        /* an actor body's name, when imported, is found exactly */
        json_t *j = json_loadb(doc, len, 0, NULL);
        const char *name = json_string_value(json_object_get(j, "name"));
        if (name && !json_object_get(j, "values")) {
            if (comity_actors_find(a, name, 1, 10, &json, NULL) != COMITY_OK)
                abort();
            json_t *r = json_loads(json, 0, NULL);
            if (json_integer_value(json_object_get(r, "count")) < 1)
                abort();
            json_decref(r);
            comity_free(json);
        }
        json_decref(j);
    }
    comity_actors_free(a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *body = (const char *)data + 1;
    size_t len = size - 1;
    if (data[0] % (NTYPES + 1) == NTYPES) {
        actors(body, len);
        return 0;
    }
    const char *type = types[data[0] % (NTYPES + 1)];
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
