/*
 * backup.c: a consistent copy of a log directory while its writer runs,
 * for `comity backup` (see cy_tlog_copy in tlog.h).
 *
 * A copy taken file by file while the sequencer integrates would mix
 * sizes: tiles written after log.db was read belong to a tree the copy's
 * log.db does not know, and a node restored from it that logs other
 * entries at those indexes would meet them as "a tile with other content"
 * and stop.  So the copy is cut at one size S:
 *
 *   1. log.db through SQLite's online backup API: one snapshot of the
 *      sequencer's state (integrated size S and its checkpoint, and any
 *      durable entries not yet integrated);
 *   2. the checkpoint file written from that state (the published file
 *      may already be newer);
 *   3. only the tiles and bundles a tree of size <= S needs: every such
 *      file was renamed into place before S was committed to log.db, and
 *      no file changes after it is written.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "base/copy.h"
#include "sqlite/ops.h"
#include "tlog/tlog.h"

struct tcopy {
    const char *src, *dst;
    uint64_t size;
    uint64_t *files, *bytes;
    comity_error *err;
};

/* Whether the tile or bundle at `rel` ("tile/...") belongs to a tree of
 * at most `size` entries: the leaves it covers end at or before size. */
static bool within(const char *rel, uint64_t size)
{
    int level;
    uint64_t n;
    unsigned w;
    if (cy_tile_path_parse(rel, &level, &n, &w, NULL) != COMITY_OK)
        return false; /* a temporary (.tmp) or a stranger */
    uint64_t width = w ? w : CY_TILE_WIDTH;
    unsigned shift = level <= 0 ? 0 : 8u * (unsigned)level;
    if (shift >= 64 || n > (UINT64_MAX >> 8) - 1)
        return false;
    uint64_t end = n * CY_TILE_WIDTH + width; /* in units of this level */
    if (shift && end > (UINT64_MAX >> shift))
        return false;
    return (end << shift) <= size;
}

static comity_err walk(struct tcopy *c, const char *rel)
{
    char from[4200], to[4200];
    snprintf(from, sizeof from, "%s/%s", c->src, rel);
    snprintf(to, sizeof to, "%s/%s", c->dst, rel);
    DIR *d = opendir(from);
    if (!d)
        return errno == ENOENT ? COMITY_OK
                               : cy_fail(c->err, COMITY_ERR_IO, "%s: %s", from, strerror(errno));
    comity_err rc = cy_mkdirs(to, c->err);
    struct dirent *e;
    while (!rc && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char sub[4200], path[4400], out[4400];
        snprintf(sub, sizeof sub, "%s/%s", rel, e->d_name);
        snprintf(path, sizeof path, "%s/%s", c->src, sub);
        struct stat sb;
        if (lstat(path, &sb) != 0)
            continue; /* a temporary renamed meanwhile */
        if (S_ISDIR(sb.st_mode)) {
            rc = walk(c, sub);
        } else if (S_ISREG(sb.st_mode) && within(sub, c->size)) {
            snprintf(out, sizeof out, "%s/%s", c->dst, sub);
            rc = cy_file_copy(path, out, sb.st_mode, c->bytes, c->err);
            ++*c->files;
        }
    }
    closedir(d);
    return rc;
}

/* The size and checkpoint text of a log.db's state row.  OUT *note:
 * cy_free. */
static comity_err read_state(const char *db_path, uint64_t *size, char **note, size_t *len,
                             comity_error *err)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    comity_err rc = COMITY_OK;
    *note = NULL;
    if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "SELECT size, checkpoint FROM state", -1, &st, NULL) !=
            SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW) {
        rc = cy_fail(err, COMITY_ERR_DB, "%s: no log state: %s", db_path,
                     db ? sqlite3_errmsg(db) : "out of memory");
    } else {
        *size = (uint64_t)sqlite3_column_int64(st, 0);
        *len = (size_t)sqlite3_column_bytes(st, 1);
        if (!(*note = cy_strndup((const char *)sqlite3_column_text(st, 1), *len)))
            rc = cy_fail(err, COMITY_ERR_NOMEM, "log copy: out of memory");
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return rc;
}

comity_err cy_tlog_copy(const char *src, const char *dst, uint64_t *size, uint64_t *files,
                        uint64_t *bytes, comity_error *err)
{
    char from[4200], to[4200];
    comity_err rc;
    struct stat sb;
    if ((rc = cy_mkdirs(dst, err)))
        return rc;
    if (stat(src, &sb) == 0)
        chmod(dst, sb.st_mode & 0777);
    snprintf(from, sizeof from, "%s/log.db", src);
    snprintf(to, sizeof to, "%s/log.db", dst);
    if ((rc = cy_sqlite_copy(from, to, err)))
        return rc;
    if (stat(to, &sb) == 0)
        *bytes += (uint64_t)sb.st_size;
    ++*files;
    char *note = NULL;
    size_t len = 0;
    if ((rc = read_state(to, size, &note, &len, err)))
        return rc;
    snprintf(to, sizeof to, "%s/checkpoint", dst);
    rc = comity_write_file(to, note, len, 0644, 1, err);
    cy_free(note);
    if (rc)
        return rc;
    *bytes += len;
    ++*files;
    struct tcopy c = {.src = src, .dst = dst, .size = *size, .files = files, .bytes = bytes,
                      .err = err};
    return walk(&c, "tile");
}
