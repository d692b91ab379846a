/*
 * fuzz_keys_bundle.c: libFuzzer target for a key custody backup's
 * plaintext (cy_keys_bundle_parse, src/node/keyvault.c), what `comity key
 * restore` reads once the age file opened.
 *
 * Properties beyond "no crash, no leak": a refusal explains itself; an
 * accepted bundle holds at most CY_KEYS_MAX entries, each path one the
 * rules allow (no "..", no absolute path, none twice), each text within
 * its cap; parsing is deterministic (twice gives the same entries).
 */
#include <stdlib.h>
#include <string.h>

#include "node/keyvault.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    comity_error err = {0};
    cy_keys_bundle *b = NULL, *b2 = NULL;
    if (cy_keys_bundle_parse((const char *)data, size, &b, &err) != COMITY_OK) {
        if (!err.msg[0] || b)
            abort();
        return 0;
    }
    if (b->n > CY_KEYS_MAX)
        abort();
    for (size_t i = 0; i < b->n; i++) {
        const char *p = b->e[i].path;
        if (p[0] == '/' || strstr(p, "..") || b->e[i].len > CY_KEYS_TEXT_MAX)
            abort();
        for (size_t j = 0; j < i; j++)
            if (!strcmp(p, b->e[j].path))
                abort();
    }
    if (cy_keys_bundle_parse((const char *)data, size, &b2, &err) != COMITY_OK || b2->n != b->n)
        abort();
    for (size_t i = 0; i < b->n; i++)
        if (strcmp(b->e[i].path, b2->e[i].path) || b->e[i].len != b2->e[i].len ||
            memcmp(b->e[i].text, b2->e[i].text, b->e[i].len))
            abort();
    cy_keys_bundle_free(b);
    cy_keys_bundle_free(b2);
    return 0;
}
