/*
 * fuzz_delivered_body.c: the body of a `delivered` record ({"party":
 * <party name>}, src/framework/schema.c) on arbitrary bytes.  Besides not
 * crashing: an accepted body is a JSON object holding exactly one field,
 * "party", whose value is a valid party name, and it is still accepted
 * once jansson has re-encoded it.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "comity.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *body = (const char *)data;
    if (comity_framework_check_body("delivered", body, size, NULL) != COMITY_OK)
        return 0;
    json_t *j = json_loadb(body, size, JSON_REJECT_DUPLICATES, NULL);
    if (!j || !json_is_object(j) || json_object_size(j) != 1)
        abort();
    const char *party = json_string_value(json_object_get(j, "party"));
    if (!party || !comity_party_valid(party, NULL))
        abort();
    char *again = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    if (!again)
        abort();
    if (comity_framework_check_body("delivered", again, strlen(again), NULL) != COMITY_OK)
        abort();
    free(again);
    return 0;
}
