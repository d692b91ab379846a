/*
 * fuzz_age_scrypt.c: opening arbitrary bytes with a passphrase (the scrypt
 * stanza, src/crypto/age.c): every header and stanza refusal, the work
 * factor's cap (held at 2^10 here, so that each run costs at most 1 MiB of
 * scrypt), and the payload after a stanza that opens.
 */
#include <stdlib.h>

#include "base/base.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *out = NULL;
    size_t ol = 0;
    if (comity_open_passphrase_mem(data, size, "fuzz", 4, 10, &out, &ol, NULL) == COMITY_OK) {
        if (ol > size)
            abort(); /* the plaintext is never longer than the file */
        comity_free(out);
    }
    return 0;
}
