/* fuzz_record.c: record payload checks.  The input is used both as a whole
 * envelope and as a payload wrapped in a (validly signed) envelope, so the
 * fuzzer reaches the payload rules without forging signatures. */
#include <stdlib.h>
#include <string.h>

#include "crypto/dsse.h"
#include "crypto/note.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static comity_nkey *k;
    if (!k && comity_nkey_generate("pk.pkcert", COMITY_NOTE_ED25519, &k, NULL))
        abort();
    comity_record *r;
    if (comity_record_parse((const char *)data, size, &r, NULL) == COMITY_OK)
        comity_record_free(r);
    const comity_nkey *ks[] = {k};
    char *env;
    size_t el;
    if (size <= COMITY_RECORD_MAX &&
        comity_dsse_sign(COMITY_RECORD_PAYLOAD_TYPE, data, size, ks, 1, &env, &el, NULL) == COMITY_OK) {
        if (comity_record_parse(env, el, &r, NULL) == COMITY_OK) {
            /* every accessor must be safe on an accepted record */
            (void)comity_record_digest(r);
            for (size_t i = 0; i < comity_record_to_count(r); i++)
                if (!comity_record_to(r, i))
                    abort();
            comity_record_free(r);
        }
        comity_free(env);
    }
    return 0;
}
