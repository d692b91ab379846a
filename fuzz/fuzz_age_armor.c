/*
 * fuzz_age_armor.c: libFuzzer target for the age armor decoder.
 *
 * Each input goes through cy_age_dearmor (the strict RFC 7468 decoder on its
 * own) and comity_open_mem (armor detection, decoding and then the header
 * parser).  Properties beyond "no crash, no leak": every refusal explains
 * itself, the decoded bytes are fewer than the input's (base64 expands by
 * 4/3), and decoding is deterministic (twice gives the same bytes).
 */
#include <stdlib.h>
#include <string.h>

#include "crypto/age_int.h"

#define SPEC_IDENTITY "AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX\n"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static comity_identities *ids;
    comity_error err = {0};
    if (!ids && comity_identities_parse(SPEC_IDENTITY, strlen(SPEC_IDENTITY), &ids, &err))
        abort();
    uint8_t *bin = NULL, *bin2 = NULL;
    size_t bl = 0, bl2 = 0;
    if (cy_age_dearmor(data, size, &bin, &bl, &err) == COMITY_OK) {
        if (bl >= size)
            abort();
        if (cy_age_dearmor(data, size, &bin2, &bl2, &err) != COMITY_OK || bl2 != bl ||
            (bl && memcmp(bin, bin2, bl) != 0))
            abort();
        cy_free(bin);
        cy_free(bin2);
    } else if (!err.msg[0]) {
        abort();
    }
    uint8_t *out = NULL;
    size_t ol = 0;
    memset(&err, 0, sizeof err);
    if (comity_open_mem(data, size, ids, &out, &ol, &err) == COMITY_OK)
        comity_free(out);
    else if (out)
        abort();
    return 0;
}
