/*
 * fuzz_forget_types.c: the COMITY_FORGET_TYPES parser (src/record/types.c,
 * docs/federation.md section 6, "Versions") on arbitrary bytes, taken as
 * the environment's string (up to its first NUL).  A value it takes that
 * is one type name alone must make that type forgotten at every version;
 * a value it refuses must leave the list as it was (empty here).
 */
#include <stdlib.h>
#include <string.h>

#include "record/types.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    comity_error e = {0};
    if (cy_record_forget_set(s, &e) == COMITY_OK) {
        if (*s && !strchr(s, ',') && !strchr(s, '@') &&
            (!cy_record_forgotten(s, 1) || !cy_record_forgotten(s, COMITY_RECORD_SCHEMA_MAX)))
            abort();
    } else if (cy_record_forgotten("note", 1) || !e.msg[0]) {
        abort(); /* the empty list kept, and a reason given */
    }
    if (cy_record_forget_set("", NULL) != COMITY_OK)
        abort();
    free(s);
    return 0;
}
