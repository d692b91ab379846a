/*
 * waiting.c: records whose refs are not here yet (docs/federation.md,
 * section 6).
 *
 * A record pulled from one origin may name a record that comes from
 * another (an acknowledgement pulled before its notification).  Taken at
 * once it would be logged without effect on the framework, and the nodes
 * that got the two in the other order would show another status.  So the
 * puller keeps it aside, durably, and moves its cursor on; it submits it
 * once every ref is stored here (the puller looks at each loop, at least
 * every poll), or after CY_SYNC_REFS_WAIT_MS whatever happens (a ref this
 * node may never see: a reply to a red message sent to others), when it
 * is logged as before.  At most CY_SYNC_WAITING_MAX wait on a node; past
 * that the puller's cursor stops at the record, with the cap named.
 *
 * Files: DIR/waiting/<16 hex of sha256(origin)>-<20-digit log index>.env,
 * the line "w <W in ms>" when the page gave the record its W (the
 * witnesses' time, section 6: the revocation rule weighs it when the
 * record is finally submitted, record/signer.h), then the envelope,
 * written with comity_write_file (fsync'ed, renamed) before the cursor
 * passes it; its mtime is when it began to wait.  A file without the
 * line (none known, or parked by an older release) gives W unknown.  Sorted names
 * give one origin's records in its log order.  One puller thread per
 * origin touches its origin's files only.
 *
 * A peer removed: its waiting records go with it (`peer remove`,
 * cy_waiting_forget), and those a pull under way parked after that are
 * dropped by its worker at its next turn (the peer gone, or added again:
 * another row); at start, the records of origins no peer row names
 * (cy_waiting_keep_only: a kill between the two).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "sync/sync.h"
#include "store/records.h"

#define WAIT_DIR "waiting"

bool cy_waiting_refs_here(comity_store *st, const comity_record *rec, const char *const *also,
                          size_t n)
{
    bool here = true;
    for (size_t i = 0; here && i < comity_record_refs_count(rec); i++) {
        const char *id = comity_record_ref(rec, i);
        bool near = false;
        for (size_t j = 0; j < n && !near; j++)
            near = also[j] && !strcmp(also[j], id);
        char digest[65];
        uint64_t idx;
        here = near || cy_store_record_find(st, id, digest, &idx, NULL) == COMITY_OK;
    }
    return here;
}

static void origin_tag(const char *origin, char out[17])
{
    uint8_t h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const uint8_t *)origin, strlen(origin));
    sodium_bin2hex(out, 17, h, 8);
}

static size_t count_files(const char *d)
{
    DIR *dh = opendir(d);
    size_t n = 0;
    struct dirent *de;
    while (dh && (de = readdir(dh)))
        n += strlen(de->d_name) == 41 && !strcmp(de->d_name + 37, ".env");
    if (dh)
        closedir(dh);
    return n;
}

#define W_LINE_MAX 32 /* "w " and 19 digits and "\n" */

comity_err cy_waiting_park(const char *dir, const char *origin, uint64_t log_index,
                           const char *env, size_t len, int64_t w_ms, comity_error *err)
{
    char d[4096], path[4200], tag[17];
    snprintf(d, sizeof d, "%s/" WAIT_DIR, dir);
    if (mkdir(d, 0700) != 0 && errno != EEXIST)
        return cy_fail(err, COMITY_ERR_IO, "%s: %s", d, strerror(errno));
    origin_tag(origin, tag);
    snprintf(path, sizeof path, "%s/%s-%020llu.env", d, tag, (unsigned long long)log_index);
    struct stat sb;
    if (stat(path, &sb) == 0)
        return COMITY_OK; /* pulled again after a crash: already waiting */
    if (count_files(d) >= CY_SYNC_WAITING_MAX)
        return cy_fail(err, COMITY_ERR_TOOBIG, "%d records already wait for their refs "
                       "(CY_SYNC_WAITING_MAX): the cursor stops here", CY_SYNC_WAITING_MAX);
    if (w_ms <= 0)
        return comity_write_file(path, env, len, 0600, 0, err);
    char *buf = cy_malloc(W_LINE_MAX + len);
    if (!buf)
        return cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    int n = snprintf(buf, W_LINE_MAX, "w %lld\n", (long long)w_ms);
    memcpy(buf + n, env, len);
    comity_err rc = comity_write_file(path, buf, (size_t)n + len, 0600, 0, err);
    cy_free(buf);
    return rc;
}

/* The envelope of a waiting file's text and the W its line gives (0:
 * none): *env points into text. */
static void split_w(const char *text, size_t len, const char **env, size_t *elen, int64_t *w)
{
    *env = text;
    *elen = len;
    *w = 0;
    if (len < 3 || text[0] != 'w' || text[1] != ' ')
        return;
    const char *nl = memchr(text, '\n', len < W_LINE_MAX ? len : W_LINE_MAX);
    uint64_t v;
    if (!nl || !cy_parse_u64(text + 2, (size_t)(nl - text - 2), &v) || v > INT64_MAX)
        return;
    *w = (int64_t)v;
    *env = nl + 1;
    *elen = len - (size_t)(nl + 1 - text);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

comity_err cy_waiting_each(const char *dir, const char *origin,
                           int (*fn)(void *ctx, const char *path, const char *env, size_t len,
                                     int64_t waited_ms, int64_t w_ms),
                           void *ctx, size_t *count, comity_error *err)
{
    char d[4096], tag[17];
    snprintf(d, sizeof d, "%s/" WAIT_DIR, dir);
    origin_tag(origin, tag);
    if (count)
        *count = 0;
    DIR *dh = opendir(d);
    if (!dh)
        return COMITY_OK; /* nothing ever waited */
    char **names = NULL;
    size_t n = 0, cap = 0, all = 0;
    comity_err rc = COMITY_OK;
    struct dirent *de;
    while (!rc && (de = readdir(dh))) {
        if (strlen(de->d_name) != 41 || strcmp(de->d_name + 37, ".env"))
            continue;
        all++;
        if (strncmp(de->d_name, tag, 16) != 0)
            continue;
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            char **nn = cy_realloc(names, nc * sizeof *nn);
            if (!nn) {
                rc = cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
                break;
            }
            names = nn;
            cap = nc;
        }
        if (!(names[n] = cy_strdup(de->d_name)))
            rc = cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
        else
            n++;
    }
    closedir(dh);
    if (count)
        *count = all;
    if (!rc && n)
        qsort(names, n, sizeof *names, by_name);
    int64_t now = cy_now_ms();
    for (size_t i = 0; !rc && i < n; i++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/%s", d, names[i]);
        struct stat sb;
        char *env = NULL;
        size_t len = 0;
        if (stat(path, &sb) != 0 ||
            comity_read_file(path, COMITY_DSSE_MAX, &env, &len, NULL) != COMITY_OK)
            continue;
        int64_t waited = now - ((int64_t)sb.st_mtim.tv_sec * 1000 + sb.st_mtim.tv_nsec / 1000000);
        const char *e;
        size_t elen;
        int64_t w;
        split_w(env, len, &e, &elen, &w);
        int stop = fn(ctx, path, e, elen, waited < 0 ? 0 : waited, w);
        comity_free(env);
        if (stop)
            break;
    }
    for (size_t i = 0; i < n; i++)
        cy_free(names[i]);
    cy_free(names);
    return rc;
}

/* ---- a peer removed ------------------------------------------------------------ */

/* Which waiting records a sweep drops: those of `tag`, or (tag NULL)
 * those whose tag is none of keep[0..n). */
struct drop_rule {
    const char *tag;
    const char (*keep)[17];
    size_t n;
};

static bool dropped_by(const struct drop_rule *r, const char *name)
{
    if (r->tag)
        return !strncmp(name, r->tag, 16);
    for (size_t i = 0; i < r->n; i++)
        if (!strncmp(name, r->keep[i], 16))
            return false;
    return true;
}

/* Removes the waiting records the rule drops, then syncs the directory. */
static comity_err drop_waiting(const char *dir, const struct drop_rule *r, size_t *dropped,
                               comity_error *err)
{
    char d[4096];
    snprintf(d, sizeof d, "%s/" WAIT_DIR, dir);
    *dropped = 0;
    comity_err rc = COMITY_OK;
    DIR *dh = opendir(d); /* none: nothing ever waited */
    if (!dh && errno != ENOENT)
        rc = cy_fail(err, COMITY_ERR_IO, "%s: %s", d, strerror(errno));
    for (struct dirent *de; dh && !rc && (de = readdir(dh));) {
        if (strlen(de->d_name) != 41 || strcmp(de->d_name + 37, ".env") ||
            !dropped_by(r, de->d_name))
            continue;
        char path[4200];
        snprintf(path, sizeof path, "%s/%.41s", d, de->d_name);
        if (unlink(path) == 0)
            (*dropped)++;
        else if (errno != ENOENT)
            rc = cy_fail(err, COMITY_ERR_IO, "removing %s: %s", path, strerror(errno));
    }
    if (dh)
        closedir(dh);
    int fd = *dropped ? open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
    if (fd >= 0) { /* the removals durable */
        (void)fsync(fd);
        close(fd);
    }
    return rc;
}

comity_err cy_waiting_forget(const char *dir, const char *origin, size_t *dropped,
                             comity_error *err)
{
    char tag[17];
    size_t n = 0;
    origin_tag(origin, tag);
    struct drop_rule r = {tag, NULL, 0};
    comity_err rc = dir ? drop_waiting(dir, &r, &n, err) : COMITY_OK;
    if (dropped)
        *dropped = n;
    return rc;
}

comity_err cy_waiting_keep_only(const char *dir, const char *const *origins, size_t n,
                                size_t *dropped, comity_error *err)
{
    char (*keep)[17] = cy_calloc(n ? n : 1, sizeof *keep);
    if (!keep)
        return cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++)
        origin_tag(origins[i], keep[i]);
    struct drop_rule r = {NULL, (const char(*)[17])keep, n};
    size_t k = 0;
    comity_err rc = dir ? drop_waiting(dir, &r, &k, err) : COMITY_OK;
    cy_free(keep);
    if (dropped)
        *dropped = k;
    return rc;
}
