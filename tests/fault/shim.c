/*
 * tests/fault/shim.c: an LD_PRELOAD library that makes chosen file
 * operations of a process fail, for the I/O-error campaign
 * (scripts/campaign-ioerr) and its short version in `make test`
 * (tests/cli/node_ioerr.sh).  Not part of libcomity: it wraps the C
 * library's write(2), pwrite(2), writev(2), fsync(2), fdatasync(2),
 * syncfs(2), rename(2) and renameat(2), and passes every call through
 * unless a fault is armed.
 *
 * A fault is a named point (COMITY_FAULT=NAME, the table `points` below:
 * which operations, on which files) or, with COMITY_FAULT=custom, the
 * operations COMITY_FAULT_OPS (a comma list of the names above) on the
 * paths containing COMITY_FAULT_PATH.  A matching call fails with
 * COMITY_FAULT_ERRNO (EIO, ENOSPC or EROFS; EIO by default):
 *   - while the file COMITY_FAULT_SWITCH exists (when it is set: so a
 *     campaign turns the fault on and off in a running node), and
 *   - from the (COMITY_FAULT_AFTER + 1)-th matching call on (0: the first),
 *   - for COMITY_FAULT_COUNT calls (0: every call from then on).
 * Each failed call is counted in one line "fault POINT OP PATH" appended
 * to the file COMITY_FAULT_LOG when it is set.
 *
 * A path is matched by its name in /proc/self/fd for descriptor calls (the
 * link is read only when an armed point covers the operation) and by the
 * new name for renames.  Thread-safe: the counters are atomic, the rest is
 * read once at load time.  Under AddressSanitizer the runtime must come
 * first or be told not to check (ASAN_OPTIONS=verify_asan_link_order=0).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

enum op { OP_WRITE = 1, OP_SYNC = 2, OP_RENAME = 4 };

/* The named points: what each covers is the operations `ops` on the files
 * whose path contains `path` (and, when `not` is set, does not contain it). */
static const struct point {
    const char *name, *path, *not;
    int ops;
} points[] = {
    /* the store (SQLite): its WAL, written by every commit, fdatasync'ed by
     * intake's syncer; the database file, written by WAL checkpoints */
    {"store-wal-write", "/node.db-wal", NULL, OP_WRITE},
    {"store-wal-sync", "/node.db-wal", NULL, OP_SYNC},
    {"store-db-write", "/node.db", "/node.db-", OP_WRITE},
    /* the log: its SQLite state (log.db and its WAL), its tiles (written
     * under temporary names, flushed by syncfs, renamed into place), and
     * the checkpoint file (written, fsync'ed and renamed) */
    {"log-db-write", "/log/log.db", NULL, OP_WRITE},
    {"log-db-sync", "/log/log.db", NULL, OP_SYNC},
    {"log-tile-write", "/log/tile/", NULL, OP_WRITE},
    {"log-tile-sync", "/log/", NULL, OP_SYNC},
    {"log-tile-rename", "/log/tile/", NULL, OP_RENAME},
    {"log-checkpoint", "/log/checkpoint", NULL, OP_WRITE | OP_RENAME},
    /* every file of the node's directory: a disk that fails all at once */
    {"node-any", "/node", NULL, OP_WRITE | OP_SYNC | OP_RENAME},
};

static const char *name, *want_path, *not_path, *switch_path, *log_path;
static int want_ops, fail_errno = EIO;
static long after, count;
static atomic_long seen, failed;
static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_pwrite)(int, const void *, size_t, off_t);
static ssize_t (*real_pwrite64)(int, const void *, size_t, off_t);
static ssize_t (*real_writev)(int, const struct iovec *, int);
static int (*real_fsync)(int);
static int (*real_fdatasync)(int);
static int (*real_syncfs)(int);
static int (*real_rename)(const char *, const char *);
static int (*real_renameat)(int, const char *, int, const char *);

static int ops_of(const char *list)
{
    int ops = 0;
    if (strstr(list, "write"))
        ops |= OP_WRITE;
    if (strstr(list, "sync"))
        ops |= OP_SYNC;
    if (strstr(list, "rename"))
        ops |= OP_RENAME;
    return ops;
}

__attribute__((constructor)) static void shim_init(void)
{
    real_write = dlsym(RTLD_NEXT, "write");
    real_pwrite = dlsym(RTLD_NEXT, "pwrite");
    real_pwrite64 = dlsym(RTLD_NEXT, "pwrite64");
    real_writev = dlsym(RTLD_NEXT, "writev");
    real_fsync = dlsym(RTLD_NEXT, "fsync");
    real_fdatasync = dlsym(RTLD_NEXT, "fdatasync");
    real_syncfs = dlsym(RTLD_NEXT, "syncfs");
    real_rename = dlsym(RTLD_NEXT, "rename");
    real_renameat = dlsym(RTLD_NEXT, "renameat");
    name = getenv("COMITY_FAULT");
    if (!name || !*name)
        return;
    if (!strcmp(name, "custom")) {
        want_path = getenv("COMITY_FAULT_PATH");
        want_ops = ops_of(getenv("COMITY_FAULT_OPS") ? getenv("COMITY_FAULT_OPS") : "");
    } else {
        for (size_t i = 0; i < sizeof points / sizeof points[0]; i++)
            if (!strcmp(points[i].name, name)) {
                want_path = points[i].path;
                not_path = points[i].not;
                want_ops = points[i].ops;
            }
        if (!want_ops) {
            fprintf(stderr, "fault shim: no point named %s\n", name);
            _exit(70);
        }
    }
    const char *e = getenv("COMITY_FAULT_ERRNO");
    if (e && !strcmp(e, "ENOSPC"))
        fail_errno = ENOSPC;
    else if (e && !strcmp(e, "EROFS"))
        fail_errno = EROFS;
    switch_path = getenv("COMITY_FAULT_SWITCH");
    log_path = getenv("COMITY_FAULT_LOG");
    after = getenv("COMITY_FAULT_AFTER") ? atol(getenv("COMITY_FAULT_AFTER")) : 0;
    count = getenv("COMITY_FAULT_COUNT") ? atol(getenv("COMITY_FAULT_COUNT")) : 0;
}

static void note(const char *op, const char *path)
{
    if (!log_path)
        return;
    char line[600];
    int n = snprintf(line, sizeof line, "fault %s %s %s\n", name, op, path);
    int fd = open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd >= 0) {
        if (n > 0 && real_write(fd, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1) < 0)
            n = 0;
        close(fd);
    }
}

/* Whether this call fails: `path` (or the file of `fd` when path is NULL). */
static int hit(int op, int fd, const char *path, const char *opname)
{
    if (!(want_ops & op))
        return 0;
    char buf[512];
    if (!path) {
        char link[64];
        snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
        ssize_t n = readlink(link, buf, sizeof buf - 1);
        if (n <= 0)
            return 0;
        buf[n] = 0;
        path = buf;
    }
    if (want_path && !strstr(path, want_path))
        return 0;
    if (not_path && strstr(path, not_path))
        return 0;
    struct stat st;
    if (switch_path && stat(switch_path, &st) != 0)
        return 0;
    long k = atomic_fetch_add(&seen, 1);
    if (k < after || (count > 0 && k >= after + count))
        return 0;
    atomic_fetch_add(&failed, 1);
    note(opname, path);
    errno = fail_errno;
    return 1;
}

ssize_t write(int fd, const void *p, size_t n)
{
    return hit(OP_WRITE, fd, NULL, "write") ? -1 : real_write(fd, p, n);
}

ssize_t pwrite(int fd, const void *p, size_t n, off_t off)
{
    return hit(OP_WRITE, fd, NULL, "pwrite") ? -1 : real_pwrite(fd, p, n, off);
}

ssize_t pwrite64(int fd, const void *p, size_t n, off_t off)
{
    return hit(OP_WRITE, fd, NULL, "pwrite") ? -1 : real_pwrite64(fd, p, n, off);
}

ssize_t writev(int fd, const struct iovec *v, int n)
{
    return hit(OP_WRITE, fd, NULL, "writev") ? -1 : real_writev(fd, v, n);
}

int fsync(int fd)
{
    return hit(OP_SYNC, fd, NULL, "fsync") ? -1 : real_fsync(fd);
}

int fdatasync(int fd)
{
    return hit(OP_SYNC, fd, NULL, "fdatasync") ? -1 : real_fdatasync(fd);
}

int syncfs(int fd)
{
    return hit(OP_SYNC, fd, NULL, "syncfs") ? -1 : real_syncfs(fd);
}

int rename(const char *from, const char *to)
{
    return hit(OP_RENAME, -1, to, "rename") ? -1 : real_rename(from, to);
}

int renameat(int dfd, const char *from, int tfd, const char *to)
{
    char full[512];
    const char *p = to;
    if (to[0] != '/' && want_ops & OP_RENAME) {
        char link[64], dir[400];
        snprintf(link, sizeof link, "/proc/self/fd/%d", tfd);
        ssize_t n = tfd == AT_FDCWD ? -1 : readlink(link, dir, sizeof dir - 1);
        if (n > 0) {
            dir[n] = 0;
            snprintf(full, sizeof full, "%s/%s", dir, to);
            p = full;
        }
    }
    return hit(OP_RENAME, -1, p, "renameat") ? -1 : real_renameat(dfd, from, tfd, to);
}
