/*
 * fuzz_succession_body.c: the log succession record on arbitrary bytes
 * (docs/federation.md, section 11; src/record/succession.c): the first
 * byte picks the body rules alone or the whole record (an envelope, its
 * signature not checked); a record that parses must judge its own cut
 * "at", and a checkpoint one entry beyond it must be refused.
 */
#include <stdlib.h>
#include <string.h>

#include "base/base.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *s = (const char *)data + 1;
    size_t n = size - 1;
    if (data[0] & 1) {
        (void)comity_succession_check_body(s, n, NULL);
        return 0;
    }
    comity_succession *succ = NULL;
    if (comity_succession_parse(s, n, NULL, 0, &succ, NULL) != COMITY_OK)
        return 0;
    const char *cut = comity_succession_get(succ, "checkpoint"), *st = NULL;
    comity_checkpoint cp;
    if (comity_checkpoint_parse(cut, strlen(cut), &cp, NULL) != COMITY_OK ||
        comity_succession_judge(succ, &cp, NULL, 0, &st, NULL) != COMITY_OK ||
        strcmp(st, "at") != 0)
        abort(); /* its own cut stands */
    cp.size++;
    if (comity_succession_judge(succ, &cp, NULL, 0, &st, NULL) != COMITY_ERR_DENIED)
        abort(); /* beyond it never does */
    comity_succession_free(succ);
    return 0;
}
