/*
 * file.c: whole-file reads with a cap and atomic writes.
 *
 * An output file is never left half written: data goes to a temporary file
 * beside the target, is fsync'ed, renamed over the target, and the directory
 * is fsync'ed so the rename itself survives a crash.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "base/base.h"

static comity_err fsync_dir_of(const char *path, comity_error *err)
{
    char dir[PATH_MAX];
    const char *slash = strrchr(path, '/');
    if (!slash) {
        strcpy(dir, ".");
    } else if (slash == path) {
        strcpy(dir, "/");
    } else {
        size_t n = (size_t)(slash - path);
        if (n >= sizeof dir)
            return cy_fail(err, COMITY_ERR_USAGE, "%s: path too long", path);
        memcpy(dir, path, n);
        dir[n] = 0;
    }
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return cy_fail(err, COMITY_ERR_IO, "%s: %s", dir, strerror(errno));
    int rc = fsync(fd);
    close(fd);
    if (rc != 0 && errno != EINVAL)
        return cy_fail(err, COMITY_ERR_IO, "fsync %s: %s", dir, strerror(errno));
    return COMITY_OK;
}

comity_err comity_write_file(const char *path, const void *data, size_t len,
                             unsigned mode, int exclusive, comity_error *err)
{
    char tmp[PATH_MAX];
    char rnd[9];
    uint8_t r[4];
    randombytes_buf(r, sizeof r);
    cy_hex_encode(rnd, r, sizeof r);
    if (snprintf(tmp, sizeof tmp, "%s.%s.tmp", path, rnd) >= (int)sizeof tmp)
        return cy_fail(err, COMITY_ERR_USAGE, "%s: path too long", path);
    if (exclusive && access(path, F_OK) == 0)
        return cy_fail(err, COMITY_ERR_EXISTS, "%s exists; refusing to overwrite", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, (mode_t)mode);
    if (fd < 0)
        return cy_fail(err, COMITY_ERR_IO, "%s: %s", tmp, strerror(errno));
    const uint8_t *p = data;
    size_t left = len;
    while (left) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int e = errno;
            close(fd);
            unlink(tmp);
            return cy_fail(err, COMITY_ERR_IO, "writing %s: %s", path, strerror(e));
        }
        p += w;
        left -= (size_t)w;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        int e = errno;
        unlink(tmp);
        return cy_fail(err, COMITY_ERR_IO, "writing %s: %s", path, strerror(e));
    }
    if (exclusive) {
        /* link(2) fails if the target appeared meanwhile: no overwrite race */
        if (link(tmp, path) != 0) {
            int e = errno;
            unlink(tmp);
            if (e == EEXIST)
                return cy_fail(err, COMITY_ERR_EXISTS, "%s exists; refusing to overwrite", path);
            return cy_fail(err, COMITY_ERR_IO, "%s: %s", path, strerror(e));
        }
        unlink(tmp);
    } else if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return cy_fail(err, COMITY_ERR_IO, "%s: %s", path, strerror(e));
    }
    return fsync_dir_of(path, err);
}

comity_err comity_read_file(const char *path, size_t cap, char **out,
                            size_t *len, comity_error *err)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f)
        return cy_fail(err, errno == ENOENT ? COMITY_ERR_NOTFOUND : COMITY_ERR_IO,
                       "%s: %s", path, strerror(errno));
    cy_buf b;
    cy_buf_init(&b, cap);
    uint8_t chunk[65536];
    comity_err rc = COMITY_OK;
    for (;;) {
        size_t n = fread(chunk, 1, sizeof chunk, f);
        if (n && (rc = cy_buf_append(&b, chunk, n)) != COMITY_OK) {
            const char *what = strcmp(path, "-") ? path : "stdin";
            rc = rc == COMITY_ERR_TOOBIG
                     ? cy_fail(err, rc, "%s: larger than the limit of %zu bytes", what, cap)
                     : cy_fail(err, rc, "%s: out of memory", what);
            break;
        }
        if (n < sizeof chunk) {
            if (ferror(f))
                rc = cy_fail(err, COMITY_ERR_IO, "reading %s failed", path);
            break;
        }
    }
    if (f != stdin)
        fclose(f);
    if (rc) {
        cy_buf_free(&b);
        return rc;
    }
    *out = (char *)cy_buf_detach(&b, len);
    if (!*out)
        return cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    return COMITY_OK;
}
