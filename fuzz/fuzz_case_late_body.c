/*
 * fuzz_case_late_body.c: the bodies of the case core's own record types,
 * case-join and case-admit (src/framework/case.c: a party joining a case
 * after it opened), on arbitrary bytes.  The first byte picks the type,
 * the rest is the body.  Besides not crashing: an accepted body is still
 * accepted once jansson has re-encoded it (replay from compact storage),
 * and holds no field but the schema's (a join's `basis`, from a closed
 * vocabulary; an admission's nothing), so that no free text about anyone
 * enters a case this way.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "comity.h"

static const char *const types[] = {"case-join", "case-admit"};
#define NTYPES (sizeof types / sizeof types[0])

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *type = types[data[0] % NTYPES];
    const char *body = (const char *)data + 1;
    size_t len = size - 1;
    if (!comity_framework_handles(type))
        abort();
    if (comity_framework_check_body(type, body, len, NULL) != COMITY_OK)
        return 0;
    json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
    if (!j || !json_is_object(j))
        abort();
    size_t want = data[0] % NTYPES == 0 ? 1 : 0;
    if (json_object_size(j) != want ||
        (want && !json_is_string(json_object_get(j, "basis"))))
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
