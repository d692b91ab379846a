/*
 * copy.c: durable file copies for backups (see copy.h).
 *
 * Durability: each copy is fsynced before it counts; the directory
 * entries are not: a backup makes them durable with one syncfs(2) before
 * it writes its manifest (src/node/backup.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/copy.h"

#define COPY_BUF (256u << 10)

comity_err cy_mkdirs(const char *path, comity_error *err)
{
    char p[4200];
    snprintf(p, sizeof p, "%s", path);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = 0;
        if (mkdir(p, 0700) != 0 && errno != EEXIST)
            return cy_fail(err, COMITY_ERR_IO, "cannot create %s: %s", p, strerror(errno));
        *s = '/';
    }
    if (mkdir(p, 0700) != 0 && errno != EEXIST)
        return cy_fail(err, COMITY_ERR_IO, "cannot create %s: %s", p, strerror(errno));
    return COMITY_OK;
}

/* Copies one regular file with its mode; fsyncs the copy. */
comity_err cy_file_copy(const char *from, const char *to, mode_t mode, uint64_t *bytes,
                             comity_error *err)
{
    int in = open(from, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return cy_fail(err, COMITY_ERR_IO, "%s: %s", from, strerror(errno));
    int out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode & 0777);
    if (out < 0) {
        int e = errno;
        close(in);
        return cy_fail(err, e == EEXIST ? COMITY_ERR_EXISTS : COMITY_ERR_IO, "%s: %s", to,
                       strerror(e));
    }
    comity_err rc = COMITY_OK;
    char *buf = cy_malloc(COPY_BUF);
    if (!buf)
        rc = cy_fail(err, COMITY_ERR_NOMEM, "copy: out of memory");
    while (!rc) {
        ssize_t n = read(in, buf, COPY_BUF);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = cy_fail(err, COMITY_ERR_IO, "reading %s: %s", from, strerror(errno));
            break;
        }
        if (n == 0)
            break;
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(out, buf + off, (size_t)(n - off));
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0) {
                rc = cy_fail(err, COMITY_ERR_IO, "writing %s: %s", to, strerror(errno));
                break;
            }
            off += w;
        }
        *bytes += (uint64_t)n;
    }
    cy_free(buf);
    if (!rc && fsync(out) != 0)
        rc = cy_fail(err, COMITY_ERR_IO, "%s: fsync: %s", to, strerror(errno));
    close(in);
    if (close(out) != 0 && !rc)
        rc = cy_fail(err, COMITY_ERR_IO, "%s: %s", to, strerror(errno));
    if (rc)
        unlink(to);
    return rc;
}

