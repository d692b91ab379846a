/*
 * fuzz_bundle.c: libFuzzer target for the STIX bundle loader.
 *
 * Any input must either be refused with an error or load into a bundle
 * whose indicators are consistent: each has an id and either a parsed
 * pattern or a skip reason (valid UTF-8), and the counts add up.  Seeds:
 * fuzz/corpus/bundle/ (small bundles, some deliberately untidy).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "stix/bundle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cy_bundle *b = NULL;
    comity_error err = {0};
    if (cy_bundle_parse((const char *)data, size, &b, &err) != COMITY_OK) {
        if (b || !err.msg[0])
            abort();
        return 0;
    }
    const cy_bundle_stats *st = cy_bundle_stats_get(b);
    size_t parsed = 0;
    for (size_t i = 0; i < cy_bundle_count(b); i++) {
        const cy_indicator *ind = cy_bundle_get(b, i);
        if (!ind->id || (!ind->pattern == !ind->skip_reason))
            abort();
        if (ind->skip_reason) {
            /* reasons go into JSON reports: they must be valid UTF-8 */
            json_t *m = json_string(ind->skip_reason);
            if (!m)
                abort();
            json_decref(m);
        }
        if (ind->pattern) {
            parsed++;
            if (ind->pattern->root == NULL)
                abort();
        }
    }
    if (parsed != st->parsed || st->parsed + st->skipped != st->indicators ||
        st->indicators != cy_bundle_count(b) || st->objects < st->indicators)
        abort();
    cy_bundle_free(b);
    return 0;
}
