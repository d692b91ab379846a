/*
 * fuzz_sweep_csv.c: the sweep's CSV reader (header row, quoted fields,
 * doubled quotes, CRLF) with a field map.
 */
#include "fuzz_sweep_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const keys[] = {"host", "client", "md5"};
    static const int paths[] = {CY_SW_DOMAIN, CY_SW_IPV4, CY_SW_MD5};
    fuzz_read(2, data, size, keys, paths, 3);
    return 0;
}
