/*
 * fuzz_sweep_jsonl.c: the sweep's JSON-lines reader with a field map
 * (flat dotted keys as Zeek writes them, nested keys, arrays).
 */
#include "fuzz_sweep_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const keys[] = {"query", "id.orig_h", "answers", "a.b.c", "url"};
    static const int paths[] = {CY_SW_DOMAIN, CY_SW_IPV4, CY_SW_DOMAIN, CY_SW_EMAIL, CY_SW_URL};
    fuzz_read(1, data, size, keys, paths, 5);
    return 0;
}
