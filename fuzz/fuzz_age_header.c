/*
 * fuzz_age_header.c: libFuzzer target for the age v1 header parser, and the
 * whole open path behind it.
 *
 * Each input is checked by cy_age_header_check (the strict header parser on
 * its own), then opened with the X25519 identity printed in c2sp.org/age, so
 * that seeds sealed to its recipient reach the key unwrap, the header MAC
 * and the payload chunks.  Properties checked beyond "no crash, no leak": a
 * header the parser accepts reports a length within the input and at least
 * one stanza; an input that opens yields no more bytes than it had.
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
    size_t ns = 0, hl = 0;
    if (cy_age_header_check(data, size, &ns, &hl, &err) == COMITY_OK) {
        if (hl > size || ns == 0 || ns > COMITY_AGE_STANZAS_MAX)
            abort();
    } else if (!err.msg[0]) {
        abort(); /* every refusal explains itself */
    }
    uint8_t *out = NULL;
    size_t ol = 0;
    memset(&err, 0, sizeof err);
    if (comity_open_mem(data, size, ids, &out, &ol, &err) == COMITY_OK) {
        if (ol > size)
            abort();
        comity_free(out);
    } else if (out || !err.msg[0]) {
        abort();
    }
    return 0;
}
