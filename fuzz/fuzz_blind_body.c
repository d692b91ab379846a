/*
 * fuzz_blind_body.c: a blinded round's submission body (cy_blind_submit,
 * src/correlate/blind.c) on arbitrary bytes, as two parties of a round.
 * The first byte picks who submits first.  Besides not crashing: once a
 * body is accepted, the result of each participant is JSON whose every
 * overlap count is at most the size of either set.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "correlate/correlate.h"

static const char *const open_body =
    "{\"participants\":[\"pk\",\"in\"],\"hashes\":"
    "\"AAAAAAAAAAAAAAAAAAAAAAEBAQEBAQEBAQEBAQEBAQE=\"}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    cy_blind_rounds *r = NULL;
    if (cy_blind_rounds_new(&r, NULL))
        abort();
    const char *me = data[0] & 1 ? "pk.cert" : "in.cert";
    const char *other = data[0] & 1 ? "in.cert" : "pk.cert";
    if (data[0] & 2 && cy_blind_submit(r, "r", other, open_body, strlen(open_body), NULL))
        abort();
    if (cy_blind_submit(r, "r", me, (const char *)data + 1, size - 1, NULL) == COMITY_OK) {
        for (int w = 0; w < 2; w++) {
            char *js = NULL;
            if (cy_blind_result(r, "r", w ? other : me, &js, NULL) != COMITY_OK) {
                if (w && !(data[0] & 2))
                    continue; /* the other is a participant only once it submitted or named */
                abort();
            }
            json_t *j = json_loads(js, 0, NULL);
            if (!json_is_object(j))
                abort();
            size_t i;
            json_t *o;
            json_array_foreach(json_object_get(j, "overlaps"), i, o)
            {
                json_int_t n = json_integer_value(json_object_get(o, "count"));
                if (n < 0 || n > 2 || (size_t)n != json_array_size(json_object_get(o, "hashes")))
                    abort();
            }
            json_decref(j);
            cy_free(js);
        }
    }
    cy_blind_rounds_free(r);
    return 0;
}
