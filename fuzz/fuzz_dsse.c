/* fuzz_dsse.c: the DSSE envelope parser and verifier on arbitrary bytes. */
#include <stdlib.h>
#include <string.h>

#include "crypto/dsse.h"
#include "crypto/note.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static comity_vkey *vk;
    if (!vk) {
        const char *v = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
        if (comity_vkey_parse(v, strlen(v), &vk, NULL))
            abort();
    }
    cy_dsse d;
    if (cy_dsse_parse((const char *)data, size, &d, NULL) == COMITY_OK)
        cy_dsse_clear(&d);
    uint8_t *p;
    size_t pl;
    const comity_vkey *ks[] = {vk};
    if (comity_dsse_verify((const char *)data, size, COMITY_RECORD_PAYLOAD_TYPE, ks, 1, &p, &pl,
                           NULL) == COMITY_OK)
        comity_free(p);
    return 0;
}
