/*
 * fuzz_tlog_proof.c: tlog-proof receipts (c2sp.org/tlog-proof) on arbitrary
 * bytes: parsing, then full verification against a fixed log key and entry.
 * A random input must never verify (it would need a signature by the key).
 */
#include <stdlib.h>
#include <string.h>

#include "tlog/tlog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static comity_vkey *vk;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!vk) {
        comity_nkey *k;
        if (comity_nkey_generate("fuzz.example/log", COMITY_NOTE_ED25519, &k, NULL) ||
            comity_vkey_parse(comity_nkey_vkey(k), strlen(comity_nkey_vkey(k)), &vk, NULL))
            abort();
        comity_nkey_free(k);
    }
    static cy_tlog_proof p;
    (void)cy_tlog_proof_parse((const char *)data, size, &p, NULL);
    const comity_vkey *keys[1] = {vk};
    if (comity_tlog_proof_verify((const char *)data, size, "entry", 5, keys, 1, NULL, NULL, NULL,
                                 NULL) == COMITY_OK)
        abort();
    return 0;
}
