/*
 * tiles.c: the node's transparency log served read-only under /log/, as
 * c2sp.org/tlog-tiles lays it out (the files src/tlog/ writes in DIR/log):
 *
 *   GET /log/checkpoint                      the latest signed checkpoint
 *   GET /log/tile/<L>/<N>[.p/<W>]            hash tiles
 *   GET /log/tile/entries/<N>[.p/<W>]        entry bundles
 *
 * <N> is the tile index in path elements ("x001/x234/067").  Only paths of
 * exactly that grammar are mapped to files, so nothing else in DIR/log
 * (log.db, the lock) or outside it can be reached.  Full tiles never change
 * and are served as immutable; partial tiles and the checkpoint are not
 * cached.  The node's witness endpoint lives here too (it is the other half
 * of the log protocols).
 */
#include <ctype.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "node/tiles.h"

#define TILE_FILE_MAX (32u << 20) /* an entry bundle of 256 large entries */

static bool digits(const char *s, size_t min, size_t max)
{
    size_t n = strlen(s);
    if (n < min || n > max)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return false;
    return true;
}

/* 1: full tile, 2: partial tile, 0: not a tile path.  segs[0] is "tile". */
static int tile_path(char **segs, size_t n)
{
    if (n < 3)
        return 0;
    if (strcmp(segs[1], "entries") != 0) {
        if (!digits(segs[1], 1, 2) || (segs[1][0] == '0' && segs[1][1]) || atoi(segs[1]) > 63)
            return 0;
    }
    size_t i = 2;
    while (i < n && segs[i][0] == 'x') {
        if (!digits(segs[i] + 1, 3, 3))
            return 0;
        i++;
    }
    if (i >= n)
        return 0;
    const char *last = segs[i];
    if (strlen(last) == 5 && !strcmp(last + 3, ".p")) {
        char d[4] = {last[0], last[1], last[2], 0};
        if (!digits(d, 3, 3) || i + 2 != n || !digits(segs[i + 1], 1, 3))
            return 0;
        int w = atoi(segs[i + 1]);
        if (w < 1 || w > 255 || (segs[i + 1][0] == '0'))
            return 0;
        return 2;
    }
    return digits(last, 3, 3) && i + 1 == n ? 1 : 0;
}

void cy_tiles_handle(cy_req *r, cy_resp *w)
{
    if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0) {
        w->allow = "GET, HEAD";
        cy_resp_error(r, w, false, 405, "method not allowed", "the log is read-only here");
        return;
    }
    int kind = 0;
    if (r->nseg == 2 && !strcmp(r->segs[1], "checkpoint"))
        kind = 3;
    else if (r->nseg >= 2 && !strcmp(r->segs[1], "tile"))
        kind = tile_path(r->segs + 1, r->nseg - 1);
    if (!kind) {
        cy_resp_error(r, w, false, 404, "not found", "not a tlog-tiles path");
        return;
    }
    char path[4096];
    size_t k = (size_t)snprintf(path, sizeof path, "%s/log", r->node->dir);
    for (size_t i = 1; i < r->nseg && k < sizeof path; i++)
        k += (size_t)snprintf(path + k, sizeof path - k, "/%s", r->segs[i]);
    char *data = NULL;
    size_t len = 0;
    comity_error e = {0};
    comity_err rc = k < sizeof path ? comity_read_file(path, TILE_FILE_MAX, &data, &len, &e)
                                    : COMITY_ERR_NOTFOUND;
    if (rc) {
        cy_resp_error(r, w, false, 404, "not found", "no such tile (yet)");
        return;
    }
    cy_buf_reset(&w->body);
    if (cy_buf_append(&w->body, data, len)) {
        comity_free(data);
        cy_resp_error(r, w, false, 500, "out of memory", "tile");
        return;
    }
    comity_free(data);
    w->status = 200;
    w->ctype = kind == 3 ? "text/plain; charset=utf-8" : "application/octet-stream";
    w->cache = kind == 1 ? "public, max-age=31536000, immutable" : "no-cache";
}

/*
 * POST /witness/add-checkpoint: the node as a c2sp.org/tlog-witness
 * witness of the logs its operator trusts (comity witness add-log
 * DIR/witness VKEY).  The request and answer bodies are the protocol's own
 * (text, not JSON): src/tlog/ checks the checkpoint, the consistency proof
 * and the old size, and keeps its state durable before answering.
 */
void cy_witness_handle(cy_req *r, cy_resp *w)
{
    if (r->nseg != 2 || strcmp(r->segs[1], "add-checkpoint") != 0 || !r->node->witness) {
        cy_resp_error(r, w, false, 404, "not found", "no such witness endpoint");
        return;
    }
    if (strcmp(r->method, "POST") != 0) {
        w->allow = "POST";
        cy_resp_error(r, w, false, 405, "method not allowed", "add-checkpoint is POST");
        return;
    }
    if (r->body_len > COMITY_WITNESS_BODY_MAX) {
        cy_resp_error(r, w, false, 413, "request too large",
                      "an add-checkpoint body is at most %u bytes", COMITY_WITNESS_BODY_MAX);
        return;
    }
    char *out = NULL;
    size_t len = 0;
    const char *ctype = NULL;
    int status = comity_witness_add_checkpoint(r->node->witness, r->body ? (const char *)r->body : "",
                                               r->body_len, &out, &len, &ctype);
    cy_buf_reset(&w->body);
    if (out && cy_buf_append(&w->body, out, len)) {
        comity_free(out);
        cy_resp_error(r, w, false, 500, "out of memory", "witness answer");
        return;
    }
    comity_free(out);
    w->status = (unsigned)status;
    w->ctype = ctype ? ctype : "text/plain; charset=utf-8";
}
