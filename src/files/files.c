/*
 * files.c: the store of sealed evidence files (files.h says what it keeps
 * and promises).
 *
 * The life of an upload (writes are handed to writeback every 8 MiB, so
 * that the final fsync is short): put_begin opens tmp/<random>.part (O_EXCL, 0600)
 * and a SHA-256 state (comity_sha256: GnuTLS's, several times libsodium's
 * speed on large inputs); put_write appends with write(2) and feeds the hash,
 * refusing any byte past the declared size; put_commit compares size and
 * hash, fsyncs the temporary, fixes its mode (0444), renames it to
 * ab/<hash> (link(2), so that a file already in place is never replaced
 * and two concurrent commits of one hash both succeed) and fsyncs the
 * subdirectory.  Any failure unlinks the temporary.  At open, everything
 * in tmp/ is removed: no process can be writing it (a node owns its
 * directory), so it is what a crash left.
 *
 * A resumable writer (put_resume: the federation's fetches of sealed
 * files, src/sync/files.c) writes into a partial its caller names,
 * outside tmp/, so that no sweep takes it: put_resume opens it, hashes
 * the bytes it holds already and appends after them; its writes are
 * fdatasync'ed every WRITEBACK_STEP (not only handed to writeback), so
 * that a crash loses at most that much of it; put_keep syncs and closes
 * it for a later put_resume; commit and abort are as above (the partial
 * linked into place, then unlinked).
 *
 * The attach journal (files.h) is appended with one write(2) on an
 * O_APPEND descriptor and fdatasync'ed, under the mutex, before the refs
 * file is replaced; readers take the journal's size under the mutex and
 * read no further, so every line they read had its refs write finished
 * (or failed: they check the refs file).
 *
 * refs files are small (at most CY_FILES_REFS_MAX ids) and rewritten
 * whole with comity_write_file (temporary, fsync, rename, directory
 * fsync) under the handle's mutex.
 */
#define _GNU_SOURCE /* sync_file_range */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "files/files.h"

#define JOURNAL "attached.log"
#define REFS_FILE_MAX ((size_t)CY_FILES_REFS_MAX * (CY_FILES_REF_MAX + 1))
/* Written data is handed to the disk every this many bytes as it arrives
 * (sync_file_range, asynchronous), so that the fsync at commit has little
 * left to do and the page cache does not fill with an upload's dirty
 * pages. */
#define WRITEBACK_STEP ((uint64_t)8 << 20)
#define RESUME_READ ((size_t)256 << 10) /* bytes read at once re-hashing a partial */

struct cy_files {
    char *dir;
    uint64_t max;
    pthread_mutex_t mu; /* refs updates */
};

struct cy_files_put {
    cy_files *fs;
    int fd;
    char tmp[PATH_MAX];
    char hash[CY_FILES_HASH_LEN + 1];
    uint64_t size, written, flushed; /* flushed: handed to writeback (or synced) */
    bool over;
    bool resumable; /* cy_files_put_resume: tmp is the caller's partial */
    comity_sha256 *sha;
};

static bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

bool cy_files_hash_valid(const char *s)
{
    size_t i = 0;
    for (; s && s[i]; i++)
        if (!is_hex(s[i]))
            return false;
    return s && i == CY_FILES_HASH_LEN;
}

/* fsyncs directory `dir` (the rename or unlink in it survives a crash). */
static comity_err sync_dir(const char *dir, comity_error *err)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return cy_fail(err, COMITY_ERR_IO, "files: %s: %s", dir, strerror(errno));
    int rc = fsync(fd);
    int e = errno;
    close(fd);
    if (rc != 0 && e != EINVAL)
        return cy_fail(err, COMITY_ERR_IO, "files: fsync %s: %s", dir, strerror(e));
    return COMITY_OK;
}

static comity_err mkdir_p(const char *path, comity_error *err)
{
    if (mkdir(path, 0700) != 0 && errno != EEXIST)
        return cy_fail(err, COMITY_ERR_IO, "files: mkdir %s: %s", path, strerror(errno));
    return COMITY_OK;
}

/* path = dir/ab/<hash><suffix>; -1 when it does not fit. */
static int file_path(const cy_files *fs, const char *hash, const char *suffix,
                     char path[PATH_MAX])
{
    int n = snprintf(path, PATH_MAX, "%s/%.2s/%s%s", fs->dir, hash, hash, suffix);
    return n < 0 || n >= PATH_MAX ? -1 : 0;
}

static int sub_path(const cy_files *fs, const char *hash, char path[PATH_MAX])
{
    int n = snprintf(path, PATH_MAX, "%s/%.2s", fs->dir, hash);
    return n < 0 || n >= PATH_MAX ? -1 : 0;
}

comity_err cy_files_open(const char *dir, uint64_t max_size, cy_files **out,
                         comity_error *err)
{
    *out = NULL;
    char tmp[PATH_MAX];
    if (!dir || snprintf(tmp, sizeof tmp, "%s/tmp", dir) >= (int)sizeof tmp - 80)
        return cy_fail(err, COMITY_ERR_USAGE, "files: directory path missing or too long");
    comity_err rc;
    if ((rc = mkdir_p(dir, err)) || (rc = mkdir_p(tmp, err)))
        return rc;
    /* sweep what a crash left */
    DIR *d = opendir(tmp);
    if (!d)
        return cy_fail(err, COMITY_ERR_IO, "files: %s: %s", tmp, strerror(errno));
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char p[PATH_MAX];
        if (snprintf(p, sizeof p, "%s/%s", tmp, e->d_name) < (int)sizeof p)
            unlink(p);
    }
    closedir(d);
    if ((rc = sync_dir(tmp, err)))
        return rc;
    cy_files *fs = cy_calloc(1, sizeof *fs);
    if (!fs || !(fs->dir = cy_strdup(dir))) {
        cy_free(fs);
        return cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    }
    fs->max = max_size ? max_size : COMITY_FILE_MAX_DEFAULT;
    pthread_mutex_init(&fs->mu, NULL);
    *out = fs;
    return COMITY_OK;
}

void cy_files_close(cy_files *fs)
{
    if (!fs)
        return;
    pthread_mutex_destroy(&fs->mu);
    cy_free(fs->dir);
    cy_free(fs);
}

uint64_t cy_files_max_size(const cy_files *fs) { return fs->max; }

/* ---- writing ------------------------------------------------------------------ */

/* Checks a writer's hash and size against the store's rules and allocates
 * it with its SHA-256 state and its path: partial, or a fresh random name
 * in tmp/ when partial is NULL.  A resumable writer must name both its hash
 * and its size (it keeps its partial for later); put_begin's may leave
 * either for later.  No file is opened (fd is -1): the caller opens it.
 * The writer is the caller's, freed by put_free (or cy_files_put_abort). */
static comity_err put_new(cy_files *fs, const char *hash, uint64_t size, const char *partial,
                          cy_files_put **out, comity_error *err)
{
    *out = NULL;
    bool resumable = partial != NULL;
    bool hash_ok = hash ? cy_files_hash_valid(hash) : !resumable;
    bool size_ok = size == CY_FILES_SIZE_UNKNOWN ? !resumable : size <= fs->max;
    if (!hash_ok)
        return cy_fail(err, COMITY_ERR_INVALID,
                       "files: the hash must be 64 lowercase hex digits (SHA-256 of the age file)");
    if (!size_ok)
        return cy_fail(err, COMITY_ERR_TOOBIG,
                       "files: %llu bytes is over this node's cap on a file (%llu bytes)",
                       (unsigned long long)size, (unsigned long long)fs->max);
    cy_files_put *w = cy_calloc(1, sizeof *w);
    if (!w)
        return cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    w->fs = fs;
    w->fd = -1;
    w->size = size;
    w->resumable = resumable;
    if (hash)
        memcpy(w->hash, hash, sizeof w->hash);
    int n;
    if (resumable) {
        n = snprintf(w->tmp, sizeof w->tmp, "%s", partial);
    } else {
        uint8_t r[12];
        char rnd[25];
        randombytes_buf(r, sizeof r);
        cy_hex_encode(rnd, r, sizeof r);
        n = snprintf(w->tmp, sizeof w->tmp, "%s/tmp/%s.part", fs->dir, rnd);
    }
    if (n < 0 || n >= (int)sizeof w->tmp) {
        cy_free(w);
        return cy_fail(err, COMITY_ERR_USAGE, "files: path too long");
    }
    comity_err rc = comity_sha256_new(&w->sha, err);
    if (rc) {
        cy_free(w);
        return rc;
    }
    *out = w;
    return COMITY_OK;
}

/* Closes a writer's file, if open, and frees the writer; its file stays. */
static void put_free(cy_files_put *w)
{
    if (w->fd >= 0)
        close(w->fd);
    comity_sha256_free(w->sha);
    cy_free(w);
}

comity_err cy_files_put_begin(cy_files *fs, const char *hash, uint64_t size,
                              cy_files_put **out, comity_error *err)
{
    cy_files_put *w;
    comity_err rc = put_new(fs, hash, size, NULL, &w, err);
    if (rc)
        return rc;
    w->fd = open(w->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (w->fd < 0) {
        int e = errno;
        put_free(w);
        return cy_fail(err, COMITY_ERR_IO, "files: creating a temporary: %s", strerror(e));
    }
    *out = w;
    return COMITY_OK;
}

uint64_t cy_files_put_written(const cy_files_put *w) { return w->written; }

comity_err cy_files_put_expect(cy_files_put *w, const char *hash, comity_error *err)
{
    if (!cy_files_hash_valid(hash))
        return cy_fail(err, COMITY_ERR_INVALID,
                       "files: the hash must be 64 lowercase hex digits (SHA-256 of the age file)");
    if (w->hash[0])
        return cy_fail(err, COMITY_ERR_INVALID, "files: a hash was declared already");
    memcpy(w->hash, hash, sizeof w->hash);
    return COMITY_OK;
}

comity_err cy_files_put_write(cy_files_put *w, const void *buf, size_t n, comity_error *err)
{
    uint64_t limit = w->size == CY_FILES_SIZE_UNKNOWN ? w->fs->max : w->size;
    if (w->over || n > limit - w->written) {
        w->over = true;
        if (w->size == CY_FILES_SIZE_UNKNOWN)
            return cy_fail(err, COMITY_ERR_TOOBIG,
                           "files: over this node's cap on a file (%llu bytes)",
                           (unsigned long long)limit);
        return cy_fail(err, COMITY_ERR_TOOBIG,
                       "files: more than the %llu bytes declared",
                       (unsigned long long)w->size);
    }
    comity_sha256_update(w->sha, buf, n);
    const uint8_t *p = buf;
    size_t left = n;
    while (left) {
        ssize_t k = write(w->fd, p, left);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return cy_fail(err, COMITY_ERR_IO, "files: writing a temporary: %s",
                           k < 0 ? strerror(errno) : "no progress");
        p += k;
        left -= (size_t)k;
    }
    w->written += n;
    if (w->resumable && w->written - w->flushed >= WRITEBACK_STEP) {
        /* a partial that outlives a crash: what it holds is on the disk */
        if (fdatasync(w->fd) != 0)
            return cy_fail(err, COMITY_ERR_IO, "files: syncing %s: %s", w->tmp, strerror(errno));
        w->flushed = w->written;
    }
#ifdef SYNC_FILE_RANGE_WRITE
    if (w->written - w->flushed >= WRITEBACK_STEP) {
        (void)sync_file_range(w->fd, (off_t)w->flushed, (off_t)(w->written - w->flushed),
                              SYNC_FILE_RANGE_WRITE);
        w->flushed = w->written;
    }
#endif
    return COMITY_OK;
}

comity_err cy_files_put_resume(cy_files *fs, const char *hash, uint64_t size,
                               const char *partial, cy_files_put **out, comity_error *err)
{
    cy_files_put *w;
    comity_err rc = put_new(fs, hash, size, partial, &w, err);
    if (rc)
        return rc;
    uint8_t *buf = NULL;
    w->fd = open(w->tmp, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    struct stat st;
    if (w->fd < 0 || fstat(w->fd, &st) != 0) {
        rc = cy_fail(err, COMITY_ERR_IO, "files: opening %s: %s", w->tmp, strerror(errno));
        goto fail;
    }
    /* longer than the file can be: not a prefix of it, started again */
    if ((uint64_t)st.st_size > size && ftruncate(w->fd, 0) != 0) {
        rc = cy_fail(err, COMITY_ERR_IO, "files: truncating %s: %s", w->tmp, strerror(errno));
        goto fail;
    }
    /* the bytes held already are hashed again: the SHA-256 at commit
     * covers the whole file, whatever a crash left in the partial */
    buf = cy_malloc(RESUME_READ);
    if (!buf) {
        rc = cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
        goto fail;
    }
    for (;;) {
        ssize_t k = read(w->fd, buf, RESUME_READ);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            rc = cy_fail(err, COMITY_ERR_IO, "files: reading %s: %s", w->tmp, strerror(errno));
            break;
        }
        if (k == 0)
            break;
        comity_sha256_update(w->sha, buf, (size_t)k);
        w->written += (uint64_t)k;
    }
    cy_free(buf);
    if (rc)
        goto fail;
    w->flushed = w->written;
    *out = w;
    return COMITY_OK;
fail:
    put_free(w);
    return rc;
}

comity_err cy_files_put_keep(cy_files_put *w, comity_error *err)
{
    if (!w)
        return COMITY_OK;
    comity_err rc = COMITY_OK;
    if (w->resumable && fdatasync(w->fd) != 0)
        rc = cy_fail(err, COMITY_ERR_IO, "files: syncing %s: %s", w->tmp, strerror(errno));
    if (!w->resumable) {
        cy_files_put_abort(w);
        return COMITY_OK;
    }
    put_free(w);
    return rc;
}

void cy_files_put_abort(cy_files_put *w)
{
    if (!w)
        return;
    unlink(w->tmp);
    put_free(w);
}

comity_err cy_files_put_commit(cy_files_put *w, bool *created, comity_error *err)
{
    if (created)
        *created = false;
    comity_err rc = COMITY_OK;
    char hex[CY_FILES_HASH_LEN + 1];
    comity_sha256_final(w->sha, hex);
    w->sha = NULL;
    char sub[PATH_MAX], path[PATH_MAX];
    if (!w->hash[0]) {
        rc = cy_fail(err, COMITY_ERR_INVALID,
                     "files: no hash was declared (the SHA-256 of the age file); nothing kept");
    } else if (w->size != CY_FILES_SIZE_UNKNOWN && w->written != w->size) {
        rc = cy_fail(err, COMITY_ERR_INVALID,
                     "files: %llu bytes received, %llu declared; nothing kept",
                     (unsigned long long)w->written, (unsigned long long)w->size);
    } else if (strcmp(hex, w->hash) != 0) {
        rc = cy_fail(err, COMITY_ERR_INVALID,
                     "files: the bytes received hash to %s, not to the %s declared; "
                     "nothing kept", hex, w->hash);
    } else if (sub_path(w->fs, w->hash, sub) || file_path(w->fs, w->hash, "", path)) {
        rc = cy_fail(err, COMITY_ERR_USAGE, "files: path too long");
    } else if (fsync(w->fd) != 0 || fchmod(w->fd, 0444) != 0) {
        rc = cy_fail(err, COMITY_ERR_IO, "files: syncing a temporary: %s", strerror(errno));
    } else if (!(rc = mkdir_p(sub, err))) {
        /* link: never replaces a file in place; EEXIST means it is stored */
        if (link(w->tmp, path) == 0) {
            if (!(rc = sync_dir(sub, err)) && created)
                *created = true;
        } else if (errno != EEXIST) {
            rc = cy_fail(err, COMITY_ERR_IO, "files: storing %s: %s", w->hash, strerror(errno));
        }
    }
    cy_files_put_abort(w); /* closes and unlinks the temporary */
    return rc;
}

/* ---- reading ------------------------------------------------------------------ */

comity_err cy_files_stat(cy_files *fs, const char *hash, uint64_t *size, comity_error *err)
{
    char path[PATH_MAX];
    struct stat st;
    if (!cy_files_hash_valid(hash) || file_path(fs, hash, "", path) || stat(path, &st) != 0)
        return cy_fail(err, COMITY_ERR_NOTFOUND, "files: no file %.64s", hash ? hash : "");
    *size = (uint64_t)st.st_size;
    return COMITY_OK;
}

comity_err cy_files_open_read(cy_files *fs, const char *hash, int *fd, uint64_t *size,
                              comity_error *err)
{
    *fd = -1;
    char path[PATH_MAX];
    struct stat st;
    if (!cy_files_hash_valid(hash) || file_path(fs, hash, "", path))
        return cy_fail(err, COMITY_ERR_NOTFOUND, "files: no file %.64s", hash ? hash : "");
    int f = open(path, O_RDONLY | O_CLOEXEC);
    if (f < 0) {
        if (errno == ENOENT)
            return cy_fail(err, COMITY_ERR_NOTFOUND, "files: no file %.64s", hash);
        return cy_fail(err, COMITY_ERR_IO, "files: %s: %s", hash, strerror(errno));
    }
    if (fstat(f, &st) != 0) {
        int e = errno;
        close(f);
        return cy_fail(err, COMITY_ERR_IO, "files: %s: %s", hash, strerror(e));
    }
    *fd = f;
    *size = (uint64_t)st.st_size;
    return COMITY_OK;
}

/* ---- refs --------------------------------------------------------------------- */

/* The refs text of `hash` (NULL, 0 when none).  OUT *text: cy_free. */
static comity_err refs_read(cy_files *fs, const char *hash, char **text, size_t *len,
                            comity_error *err)
{
    *text = NULL;
    *len = 0;
    char path[PATH_MAX];
    if (file_path(fs, hash, ".refs", path))
        return cy_fail(err, COMITY_ERR_USAGE, "files: path too long");
    if (access(path, F_OK) != 0)
        return COMITY_OK;
    char *t = NULL;
    comity_err rc = comity_read_file(path, REFS_FILE_MAX, &t, len, err);
    if (rc)
        return rc;
    *text = t;
    return COMITY_OK;
}

static bool ref_valid(const char *ref)
{
    size_t n = ref ? strlen(ref) : 0;
    if (n == 0 || n > CY_FILES_REF_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)ref[i] <= ' ' || ref[i] == 0x7f)
            return false;
    return true;
}

/* Appends "HASH SIZE REF" to the journal, durably.  Under fs->mu. */
static comity_err journal_append(cy_files *fs, const char *hash, uint64_t size,
                                 const char *ref, comity_error *err)
{
    char path[PATH_MAX], line[CY_FILES_JOURNAL_LINE + 1];
    int n = snprintf(line, sizeof line, "%s %llu %s\n", hash, (unsigned long long)size, ref);
    if (n < 0 || n >= (int)sizeof line ||
        snprintf(path, sizeof path, "%s/" JOURNAL, fs->dir) >= (int)sizeof path)
        return cy_fail(err, COMITY_ERR_USAGE, "files: journal line or path too long");
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return cy_fail(err, COMITY_ERR_IO, "files: %s: %s", path, strerror(errno));
    ssize_t w = write(fd, line, (size_t)n);
    int e = errno;
    if (w == n && fdatasync(fd) != 0) {
        e = errno;
        w = -1;
    }
    close(fd);
    if (w != n)
        return cy_fail(err, COMITY_ERR_IO, "files: appending to %s: %s", path,
                       w < 0 ? strerror(e) : "short write");
    return COMITY_OK;
}

comity_err cy_files_journal(cy_files *fs, uint64_t from, size_t max,
                            int (*fn)(void *ctx, const char *hash, uint64_t size,
                                      const char *ref, uint64_t after),
                            void *ctx, uint64_t *next, uint64_t *end, comity_error *err)
{
    *next = from;
    *end = 0;
    char path[PATH_MAX];
    if (snprintf(path, sizeof path, "%s/" JOURNAL, fs->dir) >= (int)sizeof path)
        return cy_fail(err, COMITY_ERR_USAGE, "files: path too long");
    pthread_mutex_lock(&fs->mu); /* the size: every line below it is whole */
    struct stat st;
    int have = stat(path, &st);
    int e = errno;
    pthread_mutex_unlock(&fs->mu);
    if (have != 0)
        return e == ENOENT ? COMITY_OK
                           : cy_fail(err, COMITY_ERR_IO, "files: %s: %s", path, strerror(e));
    *end = (uint64_t)st.st_size;
    if (from >= *end)
        return COMITY_OK;
    FILE *f = fopen(path, "re");
    if (!f)
        return cy_fail(err, COMITY_ERR_IO, "files: %s: %s", path, strerror(errno));
    if (fseeko(f, (off_t)from, SEEK_SET) != 0) {
        fclose(f);
        return cy_fail(err, COMITY_ERR_IO, "files: %s: seek: %s", path, strerror(errno));
    }
    char line[CY_FILES_JOURNAL_LINE + 2];
    uint64_t at = from;
    size_t done = 0;
    while (done < max && at < *end && fgets(line, sizeof line, f)) {
        size_t l = strlen(line);
        if (at + l > *end)
            break; /* past the size taken under the mutex */
        at += l;
        *next = at;
        if (l == 0 || line[l - 1] != '\n')
            continue; /* longer than any line written: not one (skipped in pieces) */
        line[l - 1] = '\0';
        char *sp1 = strchr(line, ' ');
        char *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
        if (!sp1 || !sp2)
            continue;
        *sp1 = *sp2 = '\0';
        char *dend = NULL;
        errno = 0;
        unsigned long long size = strtoull(sp1 + 1, &dend, 10);
        if (!cy_files_hash_valid(line) || sp1[1] < '0' || sp1[1] > '9' || dend != sp2 ||
            errno != 0 || !ref_valid(sp2 + 1))
            continue;
        done++;
        if (fn(ctx, line, (uint64_t)size, sp2 + 1, at))
            break;
    }
    fclose(f);
    return COMITY_OK;
}

comity_err cy_files_ref_add(cy_files *fs, const char *hash, const char *ref,
                            comity_error *err)
{
    if (!ref_valid(ref))
        return cy_fail(err, COMITY_ERR_INVALID, "files: a ref is 1-%d printable bytes",
                       CY_FILES_REF_MAX);
    uint64_t size;
    comity_err rc = cy_files_stat(fs, hash, &size, err);
    if (rc)
        return rc;
    pthread_mutex_lock(&fs->mu);
    char *text = NULL, *nt = NULL;
    size_t len = 0, n = 0, rl = strlen(ref);
    char path[PATH_MAX];
    if ((rc = refs_read(fs, hash, &text, &len, err)))
        goto done;
    for (char *p = text; p && p < text + len;) {
        char *nl = memchr(p, '\n', (size_t)(text + len - p));
        size_t l = nl ? (size_t)(nl - p) : (size_t)(text + len - p);
        if (l == rl && memcmp(p, ref, rl) == 0)
            goto done; /* already there */
        n++;
        p += l + 1;
    }
    if (n >= CY_FILES_REFS_MAX) {
        rc = cy_fail(err, COMITY_ERR_TOOBIG, "files: %s already has %d refs", hash,
                     CY_FILES_REFS_MAX);
        goto done;
    }
    if (!(nt = cy_malloc(len + rl + 2))) {
        rc = cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
        goto done;
    }
    if (len)
        memcpy(nt, text, len);
    memcpy(nt + len, ref, rl);
    nt[len + rl] = '\n';
    if (file_path(fs, hash, ".refs", path))
        rc = cy_fail(err, COMITY_ERR_USAGE, "files: path too long");
    if (!rc)
        rc = journal_append(fs, hash, size, ref, err);
    if (!rc)
        rc = comity_write_file(path, nt, len + rl + 1, 0600, 0, err);
done:
    pthread_mutex_unlock(&fs->mu);
    comity_free(text);
    cy_free(nt);
    return rc;
}

comity_err cy_files_refs(cy_files *fs, const char *hash,
                         int (*fn)(void *ctx, const char *ref), void *ctx, comity_error *err)
{
    if (!cy_files_hash_valid(hash))
        return COMITY_OK;
    char *text = NULL;
    size_t len = 0;
    pthread_mutex_lock(&fs->mu);
    comity_err rc = refs_read(fs, hash, &text, &len, err);
    pthread_mutex_unlock(&fs->mu);
    if (rc)
        return rc;
    for (char *p = text; p && p < text + len;) {
        char *nl = memchr(p, '\n', (size_t)(text + len - p));
        if (nl)
            *nl = 0;
        if (*p && fn(ctx, p))
            break;
        if (!nl)
            break;
        p = nl + 1;
    }
    comity_free(text);
    return COMITY_OK;
}

struct ref_has {
    const char *want;
    bool found;
};

static int ref_has_one(void *ctx, const char *ref)
{
    struct ref_has *h = ctx;
    h->found = !strcmp(ref, h->want);
    return h->found;
}

comity_err cy_files_ref_has(cy_files *fs, const char *hash, const char *ref, bool *found,
                            comity_error *err)
{
    struct ref_has h = {ref, false};
    comity_err rc = cy_files_refs(fs, hash, ref_has_one, &h, err);
    *found = !rc && h.found;
    return rc;
}

/* ---- destroy, list ------------------------------------------------------------ */

comity_err cy_files_destroy(cy_files *fs, const char *hash, comity_error *err)
{
    char path[PATH_MAX], refs[PATH_MAX], sub[PATH_MAX];
    if (!cy_files_hash_valid(hash) || file_path(fs, hash, "", path) ||
        file_path(fs, hash, ".refs", refs) || sub_path(fs, hash, sub))
        return cy_fail(err, COMITY_ERR_NOTFOUND, "files: no file %.64s", hash ? hash : "");
    pthread_mutex_lock(&fs->mu);
    comity_err rc = COMITY_OK;
    if (unlink(path) != 0)
        rc = errno == ENOENT ? cy_fail(err, COMITY_ERR_NOTFOUND, "files: no file %s", hash)
                             : cy_fail(err, COMITY_ERR_IO, "files: removing %s: %s", hash,
                                       strerror(errno));
    if (!rc && unlink(refs) != 0 && errno != ENOENT)
        rc = cy_fail(err, COMITY_ERR_IO, "files: removing %s.refs: %s", hash, strerror(errno));
    if (!rc)
        rc = sync_dir(sub, err);
    pthread_mutex_unlock(&fs->mu);
    return rc;
}

comity_err cy_files_list(cy_files *fs, int (*fn)(void *ctx, const char *hash, uint64_t size),
                         void *ctx, comity_error *err)
{
    DIR *top = opendir(fs->dir);
    if (!top)
        return cy_fail(err, COMITY_ERR_IO, "files: %s: %s", fs->dir, strerror(errno));
    struct dirent *e;
    int stop = 0;
    while (!stop && (e = readdir(top))) {
        if (strlen(e->d_name) != 2 || !is_hex(e->d_name[0]) || !is_hex(e->d_name[1]))
            continue;
        char sub[PATH_MAX];
        if (snprintf(sub, sizeof sub, "%s/%s", fs->dir, e->d_name) >= (int)sizeof sub)
            continue;
        DIR *d = opendir(sub);
        if (!d)
            continue;
        struct dirent *f;
        while (!stop && (f = readdir(d))) {
            if (!cy_files_hash_valid(f->d_name) || strncmp(f->d_name, e->d_name, 2) != 0)
                continue;
            uint64_t size;
            comity_error sub_err = {0};
            if (cy_files_stat(fs, f->d_name, &size, &sub_err) == COMITY_OK)
                stop = fn(ctx, f->d_name, size);
        }
        closedir(d);
    }
    closedir(top);
    return COMITY_OK;
}
