/*
 * fuzz_http_range.c: the Range header an origin reads from a peer that
 * resumes a sealed file's fetch (GET /federation/files/HASH,
 * src/node/federation.c; cy_http_range in src/node/req.c, RFC 9110
 * section 14.2) on arbitrary bytes.  Whatever it accepts must be a range
 * inside the file: at least one byte, none past the end; and a file of
 * no bytes has no satisfiable range.
 */
#include <stdlib.h>
#include <string.h>

#include "node/req.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 256)
        return 0;
    /* the first byte picks the file's size (0, small, or near 2^64) */
    uint64_t sizes[4] = {0, data[0], (uint64_t)data[0] << 20, UINT64_MAX - data[0]};
    uint64_t fsize = sizes[data[0] & 3];
    char h[257];
    memcpy(h, data + 1, size - 1);
    h[size - 1] = 0;
    uint64_t first = 0, len = 0;
    int rc = cy_http_range(h, fsize, &first, &len);
    if (rc > 0 && (len == 0 || first >= fsize || len > fsize - first))
        abort();
    if (rc > 0 && fsize == 0)
        abort();
    if (rc < -1 || rc > 1)
        abort();
    return 0;
}
