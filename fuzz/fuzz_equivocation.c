/*
 * fuzz_equivocation.c: the equivocation note parser and its offline check
 * (src/sync/equivocation.c) on arbitrary bytes, under a fixed log key whose
 * secret is thrown away: nothing may pass as a proof.
 */
#include <stdlib.h>
#include <string.h>

#include "sync/sync.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static comity_vkey *k;
    if (!k) { /* made once; its secret forgotten */
        comity_nkey *nk = NULL;
        if (comity_nkey_generate("fuzz.example", COMITY_NOTE_ED25519, &nk, NULL) != COMITY_OK)
            abort();
        const char *vk = comity_nkey_vkey(nk);
        if (comity_vkey_parse(vk, strlen(vk), &k, NULL) != COMITY_OK)
            abort();
        comity_nkey_free(nk);
    }
    char origin[CY_ORIGIN_MAX + 1];
    if (cy_equiv_check((const char *)data, size, k, origin, NULL) == COMITY_OK)
        abort();
    return 0;
}
