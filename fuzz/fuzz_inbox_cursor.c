/*
 * fuzz_inbox_cursor.c: the inbox's page cursor and limit
 * (comity_framework_inbox_page, src/framework/messages.c), outside input
 * from GET /v1/framework/inbox?after=.  The first byte is the page size,
 * the rest the cursor.  Besides not crashing: an accepted cursor gives a
 * page of valid JSON with at most `limit` items in the one list it
 * continues; a refused one gives no text.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "comity.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static comity_framework *fw;
    if (!fw && comity_framework_new(&fw, NULL))
        abort();
    if (size < 1 || size > 1024)
        return 0;
    size_t limit = data[0];
    char *cur = malloc(size);
    if (!cur)
        return 0;
    memcpy(cur, data + 1, size - 1);
    cur[size - 1] = 0;
    char *json = NULL;
    comity_err rc = comity_framework_inbox_page(fw, "in.mea", 0, limit, cur, &json, NULL);
    if (rc == COMITY_OK) {
        json_t *o = json_loads(json, 0, NULL);
        if (!o || (json_object_get(o, "awaiting_me") && json_object_get(o, "awaiting_others")))
            abort();
        json_decref(o);
    } else if (json) {
        abort();
    }
    comity_free(json);
    free(cur);
    return 0;
}
