/* fuzz_note.c: verifier keys, signing keys and signed notes. */
#include <stdlib.h>
#include <string.h>

#include "crypto/note.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static comity_vkey *vk;
    if (!vk) {
        const char *v = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k";
        if (comity_vkey_parse(v, strlen(v), &vk, NULL))
            abort();
    }
    comity_vkey *v;
    if (comity_vkey_parse((const char *)data, size, &v, NULL) == COMITY_OK) {
        /* an accepted key prints back exactly as it was read */
        if (strlen(comity_vkey_text(v)) != size || memcmp(comity_vkey_text(v), data, size))
            abort();
        comity_vkey_free(v);
    }
    comity_nkey *k;
    if (comity_nkey_parse((const char *)data, size, &k, NULL) == COMITY_OK)
        comity_nkey_free(k);
    const comity_vkey *ks[] = {vk};
    char *text;
    if (comity_note_verify((const char *)data, size, ks, 1, &text, NULL, NULL) == COMITY_OK)
        comity_free(text);
    return 0;
}
