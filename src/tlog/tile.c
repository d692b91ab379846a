/*
 * tile.c: c2sp.org/tlog-tiles arithmetic.
 *
 * A tile at level L holds up to 256 hashes; its i-th hash at level 0 is a
 * leaf hash, at level L > 0 the root of the full level L-1 tile below it.
 * Tile N's path writes N in groups of three digits, all but the last
 * prefixed with 'x' (1234067 -> x001/x234/067), and a partial tile of W
 * hashes adds ".p/W".  Entry bundles use the same numbering under
 * tile/entries/.  cy_tile keeps every perfect subtree of one tile, so that a
 * proof reads nodes instead of hashing (a tile is immutable once written,
 * partial tiles included, so cached nodes never go stale).
 */
#include <stdio.h>
#include <string.h>

#include "tlog/tlog.h"

void cy_tile_path(char out[CY_TILE_PATH_MAX], int level, uint64_t n, unsigned w)
{
    char num[48];
    unsigned groups[8];
    int ng = 0;
    do {
        groups[ng++] = (unsigned)(n % 1000);
        n /= 1000;
    } while (n);
    size_t o = 0;
    for (int i = ng - 1; i >= 0; i--)
        o += (size_t)snprintf(num + o, sizeof num - o, "%s%03u%s", i ? "x" : "",
                              groups[i], i ? "/" : "");
    if (level < 0)
        o = (size_t)snprintf(out, CY_TILE_PATH_MAX, "tile/entries/%s", num);
    else
        o = (size_t)snprintf(out, CY_TILE_PATH_MAX, "tile/%d/%s", level, num);
    if (w && w < CY_TILE_WIDTH)
        snprintf(out + o, CY_TILE_PATH_MAX - o, ".p/%u", w);
}

static bool digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return n > 0;
}

comity_err cy_tile_path_parse(const char *path, int *level, uint64_t *n,
                              unsigned *w, comity_error *err)
{
    const char *p = path;
    if (strncmp(p, "tile/", 5) != 0)
        return cy_fail(err, COMITY_ERR_INVALID, "tile path: must start with 'tile/'");
    p += 5;
    if (strncmp(p, "entries/", 8) == 0) {
        *level = -1;
        p += 8;
    } else {
        const char *slash = strchr(p, '/');
        uint64_t l;
        if (!slash || !cy_parse_u64(p, (size_t)(slash - p), &l) || l > 63)
            return cy_fail(err, COMITY_ERR_INVALID, "tile path: bad level");
        *level = (int)l;
        p = slash + 1;
    }
    uint64_t v = 0;
    int groups = 0;
    for (;;) {
        bool last = *p != 'x';
        if (!last)
            p++;
        if (!digits(p, 3) || (p[3] && p[3] != '/' && p[3] != '.'))
            return cy_fail(err, COMITY_ERR_INVALID,
                           "tile path: index groups must be three digits");
        unsigned g = (unsigned)((p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0'));
        if (++groups > 7 || v > (UINT64_MAX - g) / 1000)
            return cy_fail(err, COMITY_ERR_INVALID, "tile path: index too large");
        if (groups == 1 && !last && g == 0)
            return cy_fail(err, COMITY_ERR_INVALID, "tile path: leading zero group");
        v = v * 1000 + g;
        p += 3;
        if (last) {
            if (*p == '/')
                return cy_fail(err, COMITY_ERR_INVALID,
                               "tile path: inner index groups need an 'x' prefix");
            break;
        }
        if (*p != '/')
            return cy_fail(err, COMITY_ERR_INVALID,
                           "tile path: the last index group has an 'x' prefix");
        p++;
    }
    *n = v;
    *w = 0;
    if (*p == 0)
        return COMITY_OK;
    uint64_t wv;
    if (strncmp(p, ".p/", 3) != 0 || !cy_parse_u64(p + 3, strlen(p + 3), &wv) ||
        wv < 1 || wv > 255)
        return cy_fail(err, COMITY_ERR_INVALID,
                       "tile path: partial width must be '.p/' and 1 to 255");
    *w = (unsigned)wv;
    return COMITY_OK;
}

unsigned cy_tile_partial_width(uint64_t size, unsigned level)
{
    for (unsigned i = 0; i < level; i++)
        size >>= 8;
    return (unsigned)(size & 0xff);
}

void cy_tile_complete(cy_tile *t)
{
    for (unsigned r = 1; r <= 8; r++) {
        unsigned below = cy_tile_node_off(r - 1), here = cy_tile_node_off(r);
        unsigned count = t->width >> r; /* nodes wholly inside the width */
        for (unsigned i = 0; i < count; i++)
            cy_tlog_node_hash(t->nodes[below + 2 * i], t->nodes[below + 2 * i + 1],
                              t->nodes[here + i]);
    }
}
