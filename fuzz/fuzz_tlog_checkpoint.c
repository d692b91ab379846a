/*
 * fuzz_tlog_checkpoint.c: the checkpoint parsers (c2sp.org/tlog-checkpoint)
 * and the tile path parser on arbitrary bytes.  The first byte picks the
 * parser; parsing must never crash, and a parsed checkpoint must format
 * back to the same first three lines.
 */
#include <stdlib.h>
#include <string.h>

#include "tlog/tlog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *s = (const char *)data + 1;
    size_t n = size - 1;
    if (data[0] & 1) {
        comity_checkpoint cp;
        (void)comity_checkpoint_parse(s, n, &cp, NULL);
        return 0;
    }
    cy_checkpoint cp;
    if (cy_checkpoint_parse_text(s, n, &cp, NULL) == COMITY_OK) {
        cy_buf b;
        cy_buf_init(&b, 1 << 16);
        if (cy_checkpoint_format(&b, cp.origin, cp.size, cp.root) == COMITY_OK &&
            (b.len > n || memcmp(b.data, s, b.len) != 0))
            abort();
        cy_buf_free(&b);
    }
    char path[256];
    if (n < sizeof path) {
        memcpy(path, s, n);
        path[n] = 0;
        int level;
        uint64_t idx;
        unsigned w;
        if (cy_tile_path_parse(path, &level, &idx, &w, NULL) == COMITY_OK) {
            char again[CY_TILE_PATH_MAX];
            cy_tile_path(again, level, idx, w);
            if (strcmp(again, path) != 0)
                abort(); /* one path per tile */
        }
    }
    return 0;
}
