/* fuzz_record.c: record payload checks.  The input is used both as a whole
 * envelope and as a payload wrapped in a (validly signed) envelope, so the
 * fuzzer reaches the payload rules without forging signatures.  On every
 * envelope, parse + comity_record_verify_parsed must give the answer that
 * comity_record_verify gives. */
#include <stdlib.h>
#include <string.h>

#include "crypto/dsse.h"
#include "crypto/note.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static comity_nkey *k;
    static comity_vkey *vk;
    if (!k && (comity_nkey_generate("pk.pkcert", COMITY_NOTE_ED25519, &k, NULL) ||
               comity_vkey_parse(comity_nkey_vkey(k), strlen(comity_nkey_vkey(k)), &vk, NULL)))
        abort();
    const comity_vkey *vks[] = {vk};
    comity_record *r, *rv;
    if (comity_record_parse((const char *)data, size, &r, NULL) == COMITY_OK) {
        comity_err a = comity_record_verify_parsed(r, vks, 1, NULL);
        comity_err b = comity_record_verify((const char *)data, size, vks, 1, &rv, NULL);
        if (a != b)
            abort();
        comity_record_free(rv);
        comity_record_free(r);
    }
    const comity_nkey *ks[] = {k};
    char *env;
    size_t el;
    if (size <= COMITY_RECORD_MAX &&
        comity_dsse_sign(COMITY_RECORD_PAYLOAD_TYPE, data, size, ks, 1, &env, &el, NULL) == COMITY_OK) {
        if (comity_record_parse(env, el, &r, NULL) == COMITY_OK) {
            /* signed by k: verifies exactly when the author is k's name */
            comity_err v = comity_record_verify_parsed(r, vks, 1, NULL);
            if (v != (strcmp(comity_record_author(r), "pk.pkcert") ? COMITY_ERR_NOKEY : COMITY_OK))
                abort();
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
