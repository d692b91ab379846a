/*
 * logserve.c: the node's log as c2sp.org/tlog-tiles under /log/, and its
 * witness as c2sp.org/tlog-witness under /witness/.
 *
 *   GET /log/checkpoint                  text/plain; charset=utf-8, cached
 *                                        for a second or two
 *   GET /log/tile/<L>/<N>[.p/<W>]        application/octet-stream, immutable
 *   GET /log/tile/entries/<N>[.p/<W>]    application/octet-stream, immutable
 *   POST /witness/add-checkpoint         the spec's statuses and bodies
 *
 * No path tricks: a tile path is parsed strictly (levels 0-63 without
 * leading zeros, three-digit elements with x prefixes, widths 1-255),
 * printed again from the parsed numbers, and served only when the two are
 * byte for byte the same; the file is then opened by that canonical name
 * under the log directory, never by the request's text.  The log's private
 * files (log.db, log.lock) have no URL.  Anyone may read the log and post
 * to the witness (the checkpoint's signature is the witness's
 * authentication, per the spec).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "node/intake.h"
#include "tlog/tlog.h"

#define LOG_PREFIX "/log/"
#define WITNESS_PATH "/witness/add-checkpoint"
#define TILE_FILE_MAX ((size_t)CY_TILE_WIDTH * (COMITY_TLOG_ENTRY_MAX + 2))

bool cy_logserve_owns(const char *url)
{
    return strncmp(url, LOG_PREFIX, strlen(LOG_PREFIX)) == 0 || strcmp(url, "/log") == 0 ||
           strncmp(url, "/witness/", 9) == 0 || strcmp(url, "/witness") == 0;
}

static bool get_only(cy_req *r, cy_resp *w)
{
    if (!strcmp(r->method, "GET") || !strcmp(r->method, "HEAD"))
        return true;
    w->allow = "GET, HEAD";
    cy_resp_error(r, w, false, 405, "method not allowed", "the log is read with GET");
    return false;
}

static void checkpoint(cy_req *r, cy_resp *w, comity_log *log)
{
    char *note = NULL;
    size_t len = 0;
    comity_error e = {0};
    if (comity_log_read_checkpoint(log, &note, &len, NULL, NULL, &e)) {
        cy_resp_error(r, w, false, 500, "log", "%s", e.msg);
        return;
    }
    cy_buf_reset(&w->body);
    w->status = cy_buf_append(&w->body, note, len) ? 500 : 200;
    w->ctype = "text/plain; charset=utf-8";
    w->cache = "public, max-age=1"; /* mutable: "cache only a few seconds" */
    comity_free(note);
}

static void tile(cy_req *r, cy_resp *w, const char *dir, const char *rel)
{
    int level;
    uint64_t n;
    unsigned width;
    char canon[CY_TILE_PATH_MAX];
    if (strlen(rel) >= CY_TILE_PATH_MAX ||
        cy_tile_path_parse(rel, &level, &n, &width, NULL) != COMITY_OK || level > 63) {
        cy_resp_error(r, w, false, 404, "not found", "not a tile path");
        return;
    }
    cy_tile_path(canon, level, n, width);
    if (strcmp(canon, rel) != 0) {
        cy_resp_error(r, w, false, 404, "not found", "not a tile path");
        return;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, canon);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
        (size_t)st.st_size > TILE_FILE_MAX) {
        if (fd >= 0)
            close(fd);
        cy_resp_error(r, w, false, 404, "not found", "no such tile");
        return;
    }
    cy_buf_reset(&w->body);
    size_t want = (size_t)st.st_size, got = 0;
    uint8_t chunk[65536];
    while (got < want) {
        ssize_t k = read(fd, chunk, sizeof chunk);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0 || cy_buf_append(&w->body, chunk, (size_t)k))
            break;
        got += (size_t)k;
    }
    close(fd);
    if (got != want) {
        cy_resp_error(r, w, false, 500, "log", "reading %s failed", canon);
        return;
    }
    w->status = 200;
    w->ctype = "application/octet-stream";
    w->cache = "public, max-age=31536000, immutable";
}

static void witness(cy_req *r, cy_resp *w, comity_witness *wit)
{
    if (strcmp(r->method, "POST") != 0) {
        w->allow = "POST";
        cy_resp_error(r, w, false, 405, "method not allowed", "add-checkpoint is a POST");
        return;
    }
    char *resp = NULL;
    size_t len = 0;
    const char *ctype = NULL;
    int status = comity_witness_add_checkpoint(wit, (const char *)(r->body ? r->body : (const uint8_t *)""),
                                               r->body_len, &resp, &len, &ctype);
    cy_buf_reset(&w->body);
    w->status = (unsigned)status;
    w->ctype = ctype ? ctype : "text/plain; charset=utf-8";
    if (resp && cy_buf_append(&w->body, resp, len))
        w->status = 500;
    comity_free(resp);
}

void cy_logserve_handle(cy_req *r, cy_resp *w)
{
    struct cy_intake *in = r->node->intake;
    if (!in) {
        cy_resp_error(r, w, false, 503, "not serving", "the log is not open");
        return;
    }
    const char *url = r->url;
    if (!strcmp(url, WITNESS_PATH)) {
        witness(r, w, cy_intake_witness(in));
        return;
    }
    if (strncmp(url, LOG_PREFIX, strlen(LOG_PREFIX)) != 0) {
        cy_resp_error(r, w, false, 404, "not found", "no such endpoint");
        return;
    }
    const char *rel = url + strlen(LOG_PREFIX);
    if (!get_only(r, w))
        return;
    if (!strcmp(rel, "checkpoint"))
        checkpoint(r, w, cy_intake_log(in));
    else if (!strncmp(rel, "tile/", 5))
        tile(r, w, cy_intake_log_dir(in), rel);
    else
        cy_resp_error(r, w, false, 404, "not found", "the log serves checkpoint and tile/...");
}
