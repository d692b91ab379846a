/*
 * fuzz_stix_object.c: libFuzzer target for the STIX object checks a node
 * applies to posted objects (src/stix/object.c) and the STIX timestamp
 * parser.  Input: JSON text (capped at CY_STIX_OBJECT_MAX), or, when it is
 * not JSON, a timestamp.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "stix/object.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > CY_STIX_OBJECT_MAX)
        return 0;
    json_error_t je;
    json_t *o = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &je);
    if (o) {
        cy_stix_info in;
        if (cy_stix_object_check(o, &in, NULL) == COMITY_OK) {
            /* what a valid object yields must itself be valid */
            if (!cy_stix_id_valid(in.id, strlen(in.id)) || strcmp(in.spec_version, "2.1"))
                abort();
        }
        json_decref(o);
        return 0;
    }
    int64_t us;
    if (cy_stix_time_parse_us((const char *)data, size, &us, NULL) == COMITY_OK) {
        char out[CY_STIX_TIME_BUF];
        int64_t back;
        cy_stix_time_format_us(out, us);
        if (us >= 0 && us < 253402300800000000LL &&
            (cy_stix_time_parse_us(out, strlen(out), &back, NULL) || back != us))
            abort(); /* format and parse must round-trip */
    }
    return 0;
}
