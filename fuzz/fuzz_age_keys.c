/*
 * fuzz_age_keys.c: libFuzzer target for the age key parsers: identity files
 * (comity key files and age-keygen output), and the Bech32 forms of
 * recipients and identities.
 *
 * Properties beyond "no crash, no leak": every refusal explains itself; the
 * decoders are strict, so whatever decodes re-encodes to exactly the input
 * (a second spelling of the same key would be a leniency bug).
 */
#include <stdlib.h>
#include <string.h>

#include "crypto/age.h"
#include "crypto/age_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    comity_error err = {0};
    comity_identities *ids = NULL;
    const char *text = (const char *)data;
    if (comity_identities_parse(text, size, &ids, &err) == COMITY_OK) {
        if (comity_identities_count(ids) == 0)
            abort();
        comity_identities_free(ids);
    } else if (!err.msg[0] || ids) {
        abort();
    }
    uint8_t k[32];
    char again[CY_AGE_IDENTITY_MAX];
    memset(&err, 0, sizeof err);
    if (cy_age_recipient_decode(text, size, k, &err) == COMITY_OK) {
        if (cy_age_recipient_encode(k, again, sizeof again) || strlen(again) != size ||
            memcmp(again, text, size) != 0)
            abort();
    } else if (!err.msg[0]) {
        abort();
    }
    memset(&err, 0, sizeof err);
    if (cy_age_identity_decode(text, size, k, &err) == COMITY_OK) {
        if (cy_age_identity_encode(k, again, sizeof again) || strlen(again) != size ||
            memcmp(again, text, size) != 0)
            abort();
    } else if (!err.msg[0]) {
        abort();
    }
    return 0;
}
