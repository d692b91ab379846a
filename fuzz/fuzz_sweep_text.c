/*
 * fuzz_sweep_text.c: the sweep's text tokenizer (both the dot-anchored fast
 * path and the byte-by-byte path) on arbitrary bytes.
 */
#include "fuzz_sweep_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_read(0, data, size, NULL, NULL, 0);
    return 0;
}
