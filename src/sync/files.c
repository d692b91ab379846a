/*
 * files.c: sealed files fetched from their origin (docs/federation.md,
 * section 6, "Sealed files").
 *
 * A record's sealed evidence files travel apart from it: the origin keeps
 * them in its file store, attached to the record by its author
 * (src/framework/case_files.c).  A node whose parties are among a
 * record's recipients fetches them from the record's origin, with its own
 * login there (the puller's session), checks every byte against the
 * SHA-256 and size the origin announced, and keeps them in its own file
 * store attached to the same record, so that its own /v1/files serves
 * them to the case's parties here.  The node never opens them.
 *
 * Each origin has its own files thread (cy_sync_files_thread_start, one
 * per puller worker), so that a large or slow file never holds the pull
 * of that origin's records; it shares the worker's login there (the
 * session cookie, through a CURLSH) and runs a turn when the worker took
 * a page, or every CY_SYNC_POLL_MS.  A turn (cy_sync_files_turn):
 *   1. the listing: GET /federation/files/?next=CURSOR gives the
 *      attachments this node may fetch, in the order the origin attached
 *      them; each becomes a job file, then the cursor is stored (both
 *      written whole, fsync'ed, renamed: a crash repeats a listing, which
 *      finds its jobs there already);
 *   2. the jobs that are due, one after another: a job whose record is
 *      not logged here yet waits for it; a file already stored here is
 *      only attached; else GET /federation/files/HASH streams into the
 *      file store's resumable writer (cy_files_put_resume): the partial
 *      DIR/sync-files/<tag>/<hash>.part, outside the store's swept tmp/,
 *      fdatasync'ed every 8 MiB as it grows, refused past the announced
 *      size.  A fetch cut off (the network, a stop, kill -9) keeps its
 *      partial; the next try hashes again the bytes it holds and asks for
 *      the rest only ("Range: bytes=N-", RFC 9110 section 14: a 206 whose
 *      Content-Range starts at N and names the announced size; an origin
 *      that answers 200 instead sends the whole file, the partial started
 *      again; 416: the partial removed).  The file is committed only when
 *      the SHA-256 of the whole of it and its size match (fsync, link into
 *      place): nothing half-stored is ever served, and a file whose bytes
 *      do not hash right is refused and its partial removed.  Then the
 *      record is attached and the job removed.
 * A failure (the network, an origin's 404, bytes that do not hash to
 * what was announced) is kept in the job with its try count and retried
 * after a back-off doubling from CY_SYNC_FILE_BACKOFF_MIN_MS to
 * CY_SYNC_FILE_BACKOFF_MAX_MS; a file over this node's cap on a file is
 * refused for good (the job stays, named, for `comity peer list`).  A
 * stop cuts a fetch in progress within a second (libcurl's progress
 * callback) and keeps its partial.  A partial no job names (a crash
 * between a job's end and the partial's removal) is removed when the
 * thread starts; `comity peer remove` removes the origin's directory
 * (cy_sync_files_forget).
 *
 * A peer removed while `comity serve` runs (another process): a turn
 * makes the origin's directory, then reads the peer again and, gone,
 * removes the directory and stops; so every write of a turn follows a
 * check that followed the directory's making, and a write after `peer
 * remove` swept the directory fails (ENOENT: it is never made again by a
 * write).  forget sweeps again when a file appeared before its rmdir,
 * and a files thread stopped with its peer gone removes what is left.
 *
 * A thread that cannot start (no thread, no libcurl handle) keeps why in
 * .../thread.error (removed by the next start that succeeds), which `peer
 * list` shows as the peer's error: its records come, its files do not.
 *
 * Files: DIR/sync-files/<16 hex of sha256(origin)>/cursor (a decimal byte
 * offset of the origin's journal), .../<hash>-<16 hex of sha256(record)>.job
 * (JSON: sha256, size, record, since_ms, tries, next_ms, error, refused)
 * .../<hash>.part and .../thread.error.  Only the files thread of that
 * origin (and its start) writes them; `peer list` reads them.
 *
 * Memory: one listing answer (at most CY_SYNC_FILE_LIST_MAX bytes) and a
 * libcurl buffer; a file goes to disk as it arrives, whatever its size.
 */
#define _GNU_SOURCE /* pthread_setname_np */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <sodium.h>

#include "files/files.h"
#include "sync/sync.h"
#include "store/records.h"

#define FILES_DIR "sync-files"
#define JOB_SUFFIX ".job"
#define PART_SUFFIX ".part"
#define JOB_MAX (4u << 10) /* bytes of one job file */
#define THREAD_ERROR "thread.error" /* why the files thread of an origin did not start */
#define FORGET_PASSES 8 /* sweeps of a removed origin's directory before giving up */

static void tag16(const char *s, char out[17])
{
    uint8_t h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const uint8_t *)s, strlen(s));
    sodium_bin2hex(out, 17, h, 8);
}

/* DIR/sync-files/<tag of origin>, made when absent (mk). */
static comity_err origin_dir(const char *dir, const char *origin, bool mk, char out[4096],
                             comity_error *err)
{
    char tag[17];
    tag16(origin, tag);
    int n = snprintf(out, 4096, "%s/" FILES_DIR, dir);
    if (n < 0 || n >= 4000)
        return cy_fail(err, COMITY_ERR_USAGE, "sync files: directory path too long");
    if (mk && mkdir(out, 0700) != 0 && errno != EEXIST)
        return cy_fail(err, COMITY_ERR_IO, "sync files: mkdir %s: %s", out, strerror(errno));
    snprintf(out + n, (size_t)(4096 - n), "/%s", tag);
    if (mk && mkdir(out, 0700) != 0 && errno != EEXIST)
        return cy_fail(err, COMITY_ERR_IO, "sync files: mkdir %s: %s", out, strerror(errno));
    return COMITY_OK;
}

/* ---- jobs ---------------------------------------------------------------------- */

typedef struct job {
    char sha256[CY_FILES_HASH_LEN + 1];
    uint64_t size;
    char record[CY_FILES_REF_MAX + 1];
    int64_t since_ms, next_ms;
    uint64_t tries;
    bool refused; /* for good: retried no more */
    char error[COMITY_ERRMSG_MAX + 200];
} job;

static void job_path(const char *odir, const char *sha256, const char *record, char out[4200])
{
    char rt[17];
    tag16(record, rt);
    snprintf(out, 4200, "%s/%s-%s" JOB_SUFFIX, odir, sha256, rt);
}

static comity_err job_write(const char *path, const job *j, comity_error *err)
{
    json_t *v = json_pack("{s:s, s:I, s:s, s:I, s:I, s:I, s:s, s:b}", "sha256", j->sha256,
                          "size", (json_int_t)j->size, "record", j->record, "since_ms",
                          (json_int_t)j->since_ms, "tries", (json_int_t)j->tries, "next_ms",
                          (json_int_t)j->next_ms, "error", j->error, "refused", j->refused);
    char *s = v ? json_dumps(v, JSON_COMPACT) : NULL;
    json_decref(v);
    if (!s)
        return cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    comity_err rc = comity_write_file(path, s, strlen(s), 0600, 0, err);
    free(s);
    return rc;
}

/* Reads a job file; false when it is not one (left alone). */
static bool job_read(const char *path, job *j)
{
    char *text = NULL;
    size_t len = 0;
    memset(j, 0, sizeof *j);
    if (comity_read_file(path, JOB_MAX, &text, &len, NULL) != COMITY_OK)
        return false;
    json_t *v = json_loadb(text, len, 0, NULL);
    comity_free(text);
    const char *h = json_string_value(json_object_get(v, "sha256"));
    const char *r = json_string_value(json_object_get(v, "record"));
    const char *e = json_string_value(json_object_get(v, "error"));
    json_int_t size = json_integer_value(json_object_get(v, "size"));
    bool good = h && cy_files_hash_valid(h) && r && strlen(r) <= CY_FILES_REF_MAX && size >= 0;
    if (good) {
        snprintf(j->sha256, sizeof j->sha256, "%s", h);
        snprintf(j->record, sizeof j->record, "%s", r);
        snprintf(j->error, sizeof j->error, "%s", e ? e : "");
        j->size = (uint64_t)size;
        j->since_ms = json_integer_value(json_object_get(v, "since_ms"));
        j->next_ms = json_integer_value(json_object_get(v, "next_ms"));
        j->tries = (uint64_t)json_integer_value(json_object_get(v, "tries"));
        j->refused = json_is_true(json_object_get(v, "refused"));
    }
    json_decref(v);
    return good;
}

/* Calls fn for each job of one origin's directory; fn returns non-zero to
 * stop.  No directory: none. */
static void jobs_each(const char *odir, int (*fn)(void *ctx, const char *path, job *j),
                      void *ctx)
{
    DIR *d = opendir(odir);
    if (!d)
        return;
    struct dirent *e;
    job *j = cy_malloc(sizeof *j);
    while (j && (e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l <= sizeof JOB_SUFFIX || strcmp(e->d_name + l - (sizeof JOB_SUFFIX - 1), JOB_SUFFIX))
            continue;
        char path[4200];
        if (snprintf(path, sizeof path, "%s/%s", odir, e->d_name) >= (int)sizeof path)
            continue;
        if (job_read(path, j) && fn(ctx, path, j))
            break;
    }
    cy_free(j);
    closedir(d);
}

static int64_t backoff_ms(uint64_t tries)
{
    int64_t b = CY_SYNC_FILE_BACKOFF_MIN_MS;
    for (uint64_t i = 1; i < tries && b < CY_SYNC_FILE_BACKOFF_MAX_MS; i++)
        b *= 2;
    return b < CY_SYNC_FILE_BACKOFF_MAX_MS ? b : CY_SYNC_FILE_BACKOFF_MAX_MS;
}

/* ---- HTTP ----------------------------------------------------------------------- */

struct mem {
    cy_buf b;
};

static size_t to_mem(char *p, size_t sz, size_t n, void *ctx)
{
    struct mem *m = ctx;
    return cy_buf_append(&m->b, p, sz * n) == COMITY_OK ? sz * n : 0;
}

/* A file's bytes on their way into its partial (fetch_one). */
struct sink {
    CURL *c;
    cy_files *files;
    const char *hash, *part;
    uint64_t size;
    cy_files_put *put;
    uint64_t from;    /* the first byte asked ("Range: bytes=from-"; 0: the whole file) */
    bool looked;      /* the answer's status and range were checked */
    char crange[96];  /* its Content-Range header */
    uint64_t got;     /* bytes of file received (for the stop and the logs) */
    comity_err rc;
    comity_error err;
};

/* Keeps the Content-Range header of the answer. */
static size_t on_header(char *p, size_t sz, size_t n, void *ctx)
{
    struct sink *s = ctx;
    size_t len = sz * n;
    static const char name[] = "content-range:";
    if (len > sizeof name - 1 && strncasecmp(p, name, sizeof name - 1) == 0) {
        size_t i = sizeof name - 1;
        while (i < len && (p[i] == ' ' || p[i] == '\t'))
            i++;
        size_t k = len - i;
        while (k && (p[i + k - 1] == '\r' || p[i + k - 1] == '\n' || p[i + k - 1] == ' '))
            k--;
        snprintf(s->crange, sizeof s->crange, "%.*s", (int)(k < 95 ? k : 95), p + i);
    }
    return len;
}

/* Checks, at the first bytes of an answer, that they are the ones asked
 * for: a 206 whose range starts where the partial ends and names the
 * size announced, or a 200 (an origin that ignores ranges: the partial is
 * started again from nothing). */
static comity_err answer_check(struct sink *s, long st)
{
    if (st == 200 && s->from > 0) {
        cy_files_put_abort(s->put); /* removes the partial */
        s->put = NULL;
        s->from = 0;
        return cy_files_put_resume(s->files, s->hash, s->size, s->part, &s->put, &s->err);
    }
    if (st == 206) {
        unsigned long long f = 0, l = 0, z = 0;
        char tail = 0;
        if (sscanf(s->crange, "bytes %llu-%llu/%llu%c", &f, &l, &z, &tail) != 3 ||
            f != s->from || z != s->size || l + 1 != z)
            return cy_fail(&s->err, COMITY_ERR_VERIFY, "asked for bytes %llu- of file %s "
                           "(%llu bytes), the origin answered the range \"%s\"",
                           (unsigned long long)s->from, s->hash,
                           (unsigned long long)s->size, s->crange);
    }
    return COMITY_OK;
}

static size_t to_store(char *p, size_t sz, size_t n, void *ctx)
{
    struct sink *s = ctx;
    long st = 0;
    curl_easy_getinfo(s->c, CURLINFO_RESPONSE_CODE, &st);
    if (st != 200 && st != 206)
        return sz * n; /* a refusal's body: not the file (the status is answered) */
    if (!s->looked && !s->rc) {
        s->looked = true;
        s->rc = answer_check(s, st);
    }
    if (!s->rc)
        s->rc = cy_files_put_write(s->put, p, sz * n, &s->err);
    if (!s->rc)
        s->got += sz * n;
    return s->rc ? 0 : sz * n;
}


/* GET url with the puller's handle (its session cookie), the answer to
 * `write`.  OUT *status. */
static CURLcode get(CURL *c, const char *url, struct curl_slist *headers,
                    curl_write_callback write, void *ctx, bool long_transfer, long *status)
{
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, NULL);
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, ctx);
    if (long_transfer) {
        /* a large file may take long: dropped only when it stalls */
        curl_easy_setopt(c, CURLOPT_TIMEOUT, 0L);
        curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, CY_SYNC_FILE_MIN_RATE);
        curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 30L);
    }
    CURLcode cc = curl_easy_perform(c);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
    if (long_transfer) {
        curl_easy_setopt(c, CURLOPT_TIMEOUT, CY_SYNC_HTTP_TIMEOUT_S);
        curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 0L);
        curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 0L);
    }
    *status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    return cc;
}

/* ---- 1. the listing ----------------------------------------------------------- */

comity_err cy_sync_files_listing_parse(const char *text, size_t len, uint64_t cursor,
                                       comity_err (*fn)(void *ctx, const char *sha256,
                                                        uint64_t size, const char *record,
                                                        comity_error *err),
                                       void *ctx, uint64_t *next, bool *more,
                                       comity_error *err)
{
    *next = cursor;
    *more = false;
    json_t *v = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
    json_t *files = json_object_get(v, "files");
    const char *nx = json_string_value(json_object_get(v, "next"));
    char *end = NULL;
    errno = 0;
    unsigned long long n = nx && nx[0] >= '0' && nx[0] <= '9' ? strtoull(nx, &end, 10) : 0;
    if (!json_is_array(files) || !end || *end || errno || n < cursor) {
        json_decref(v);
        return cy_fail(err, COMITY_ERR_INVALID, "not a file listing (files, next at or past "
                       "the cursor %llu)", (unsigned long long)cursor);
    }
    if (json_array_size(files) > CY_FED_PAGE_MAX) {
        json_decref(v);
        return cy_fail(err, COMITY_ERR_TOOBIG, "a file listing of %zu entries (at most %d)",
                       json_array_size(files), CY_FED_PAGE_MAX);
    }
    size_t i;
    json_t *f;
    comity_err rc = COMITY_OK;
    json_array_foreach(files, i, f) {
        const char *h = json_string_value(json_object_get(f, "sha256"));
        const char *r = json_string_value(json_object_get(f, "record"));
        json_t *sz = json_object_get(f, "size");
        if (!h || !cy_files_hash_valid(h) || !r || !*r || strlen(r) > CY_FILES_REF_MAX ||
            strchr(r, '/') || strchr(r, ':') || r[0] == '.' || !json_is_integer(sz) ||
            json_integer_value(sz) < 0) {
            rc = cy_fail(err, COMITY_ERR_INVALID, "file listing: entry %zu is not a file "
                         "(sha256, size, record)", i);
            break;
        }
        for (const char *c = r; *c && !rc; c++)
            if ((unsigned char)*c <= ' ' || *c == 0x7f)
                rc = cy_fail(err, COMITY_ERR_INVALID, "file listing: entry %zu: a record id "
                             "with a control character or space", i);
        if (!rc)
            rc = fn(ctx, h, (uint64_t)json_integer_value(sz), r, err);
        if (rc)
            break;
    }
    if (!rc) {
        *next = n;
        *more = json_is_true(json_object_get(v, "more"));
    }
    json_decref(v);
    return rc;
}

struct keep {
    const cy_sync_files_env *env;
    const char *odir;
};

/* Keeps a job for one attachment listed (none when kept already). */
static comity_err keep_job(void *ctx, const char *h, uint64_t size, const char *r,
                           comity_error *err)
{
    struct keep *k = ctx;
    char path[4200];
    job_path(k->odir, h, r, path);
    if (access(path, F_OK) == 0)
        return COMITY_OK; /* a listing read again after a crash */
    job j = {.size = size, .since_ms = cy_now_ms()};
    snprintf(j.sha256, sizeof j.sha256, "%s", h);
    snprintf(j.record, sizeof j.record, "%s", r);
    if (size > cy_files_max_size(k->env->files)) {
        j.refused = true;
        snprintf(j.error, sizeof j.error, "file %s of record %s is %llu bytes, over this "
                 "node's cap on a file of %llu bytes (serve --max-file): not fetched", h, r,
                 (unsigned long long)size,
                 (unsigned long long)cy_files_max_size(k->env->files));
    }
    return job_write(path, &j, err);
}

static comity_err cursor_read(const char *odir, uint64_t *cursor)
{
    char path[4200], *text = NULL;
    size_t len = 0;
    *cursor = 0;
    snprintf(path, sizeof path, "%s/cursor", odir);
    if (access(path, F_OK) != 0)
        return COMITY_OK;
    if (comity_read_file(path, 64, &text, &len, NULL) != COMITY_OK)
        return COMITY_ERR_IO;
    *cursor = strtoull(text, NULL, 10);
    comity_free(text);
    return COMITY_OK;
}

/* Reads the origin's new attachments into jobs, then moves the cursor. */
static comity_err list_new(CURL *c, const cy_sync_files_env *env, const cy_peer *p,
                           const char *odir, comity_error *err)
{
    uint64_t cursor = 0;
    if (cursor_read(odir, &cursor))
        return cy_fail(err, COMITY_ERR_IO, "sync files: the cursor in %s is unreadable", odir);
    for (int round = 0; round < 16 && !atomic_load(env->stop); round++) {
        char url[CY_PEER_URL_MAX + 80];
        snprintf(url, sizeof url, "%s/federation/files/?next=%llu", p->url,
                 (unsigned long long)cursor);
        struct mem m;
        cy_buf_init(&m.b, CY_SYNC_FILE_LIST_MAX);
        long st = 0;
        CURLcode cc = get(c, url, NULL, to_mem, &m, false, &st);
        if (cc != CURLE_OK || st != 200) {
            cy_buf_free(&m.b);
            if (cc == CURLE_OK && (st == 401 || st == 403))
                return COMITY_OK; /* the session ended: the next page logs in again */
            if (cc == CURLE_OK && st == 404)
                return COMITY_OK; /* an origin that serves no files (an older node) */
            return cc != CURLE_OK
                       ? cy_fail(err, COMITY_ERR_IO, "%s: %s", url, cy_sync_curl_why(cc))
                       : cy_fail(err, COMITY_ERR_IO, "%s: HTTP %ld", url, st);
        }
        struct keep k = {env, odir};
        uint64_t next = cursor;
        bool more = false;
        comity_err rc = cy_sync_files_listing_parse((const char *)m.b.data, m.b.len, cursor,
                                                    keep_job, &k, &next, &more, err);
        cy_buf_free(&m.b);
        if (rc)
            return cy_wrap(err, "%s", url);
        if (next != cursor) {
            char path[4200], num[24];
            snprintf(path, sizeof path, "%s/cursor", odir);
            snprintf(num, sizeof num, "%llu", (unsigned long long)next);
            if ((rc = comity_write_file(path, num, strlen(num), 0600, 0, err)))
                return rc;
            cursor = next;
        }
        if (!more)
            break;
    }
    return COMITY_OK;
}

/* ---- 2. the jobs --------------------------------------------------------------- */

struct turn {
    CURL *c;
    const cy_sync_files_env *env;
    const cy_peer *p;
    const char *odir;
    int64_t now;
};

/* DIR/sync-files/<tag>/<hash>.part: the bytes of a fetch so far. */
static void part_path(const char *odir, const char *sha256, char out[4200])
{
    snprintf(out, 4200, "%s/%s" PART_SUFFIX, odir, sha256);
}

/* Fetches one file into the store; COMITY_OK once stored (or there).
 * The bytes go into the job's partial, kept (synced) when the fetch is
 * cut off, so that the next try asks only for the rest ("Range:
 * bytes=N-", RFC 9110 section 14) after hashing again what it holds; a
 * file whose bytes do not hash to the announced SHA-256 is refused and
 * its partial removed. */
static comity_err fetch_one(struct turn *t, const job *j, comity_error *err)
{
    uint64_t have = 0;
    char part[4200];
    part_path(t->odir, j->sha256, part);
    if (cy_files_stat(t->env->files, j->sha256, &have, NULL) == COMITY_OK) {
        (void)unlink(part); /* a crash after the commit, before the partial went */
        return COMITY_OK;   /* stored before (another record, another origin) */
    }
    struct sink s = {.c = t->c, .files = t->env->files, .hash = j->sha256, .part = part,
                     .size = j->size};
    comity_err rc = cy_files_put_resume(t->env->files, j->sha256, j->size, part, &s.put, err);
    if (rc)
        return rc;
    s.from = cy_files_put_written(s.put);
    char url[CY_PEER_URL_MAX + 120], range[64];
    snprintf(url, sizeof url, "%s/federation/files/%s", t->p->url, j->sha256);
    snprintf(range, sizeof range, "Range: bytes=%llu-", (unsigned long long)s.from);
    struct curl_slist *h = NULL;
    long st = 0;
    CURLcode cc = CURLE_OK;
    if (s.from == j->size) {
        st = 200; /* every byte held already: only the checks below */
    } else {
        if (s.from > 0 && !(h = curl_slist_append(NULL, range))) {
            (void)cy_files_put_keep(s.put, NULL);
            return cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
        }
        curl_easy_setopt(t->c, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(t->c, CURLOPT_HEADERDATA, &s);
        cc = get(t->c, url, h, to_store, &s, true, &st);
        curl_easy_setopt(t->c, CURLOPT_HEADERFUNCTION, NULL);
        curl_easy_setopt(t->c, CURLOPT_HEADERDATA, NULL);
        curl_slist_free_all(h);
    }
    if (s.rc) {
        /* wrong bytes, or more than announced: nothing of them is kept */
        cy_files_put_abort(s.put);
        *err = s.err;
        return s.rc == COMITY_ERR_TOOBIG
                   ? cy_fail(err, COMITY_ERR_VERIFY, "the origin sent more than the %llu bytes "
                             "it announced for file %s; nothing kept",
                             (unsigned long long)j->size, j->sha256)
                   : s.rc;
    }
    if (cc == CURLE_OK && st == 416) {
        /* the origin's file is shorter than the partial: not its prefix */
        cy_files_put_abort(s.put);
        return cy_fail(err, COMITY_ERR_VERIFY, "%s: HTTP 416 for bytes %llu- of a file "
                       "announced as %llu bytes; the partial is removed", url,
                       (unsigned long long)s.from, (unsigned long long)j->size);
    }
    if (cc != CURLE_OK || (st != 200 && st != 206)) {
        /* cut off: what arrived stays, synced, for the next try */
        uint64_t held = cy_files_put_written(s.put);
        (void)cy_files_put_keep(s.put, NULL);
        return cc != CURLE_OK
                   ? cy_fail(err, COMITY_ERR_IO, "%s: %s (%llu of %llu bytes held)", url,
                             cy_sync_curl_why(cc), (unsigned long long)held,
                             (unsigned long long)j->size)
                   : cy_fail(err, COMITY_ERR_IO, "%s: HTTP %ld", url, st);
    }
    /* size and SHA-256 of the whole file against what was announced, then
     * durable; refused: the partial is removed */
    rc = cy_files_put_commit(s.put, NULL, err);
    if (rc == COMITY_ERR_INVALID) {
        char why[COMITY_ERRMSG_MAX];
        snprintf(why, sizeof why, "%s", err->msg);
        return cy_fail(err, COMITY_ERR_VERIFY, "file %s of record %s refused%s: %s",
                       j->sha256, j->record, s.from ? " (resumed)" : "", why);
    }
    return rc;
}

static int job_turn(void *ctx, const char *path, job *j)
{
    struct turn *t = ctx;
    if (atomic_load(t->env->stop))
        return 1;
    if (j->refused || j->next_ms > t->now)
        return 0;
    comity_error e = {0};
    char digest[65];
    uint64_t idx;
    comity_err rc;
    if (cy_store_record_find(t->env->store, j->record, digest, &idx, NULL) != COMITY_OK) {
        /* the record first: a file is kept for a record logged here (the
         * job is written once with why it waits, not at every turn) */
        char why[sizeof j->error];
        snprintf(why, sizeof why, "waiting for record %s to be logged here", j->record);
        if (strcmp(why, j->error) != 0) {
            memcpy(j->error, why, sizeof why);
            (void)job_write(path, j, NULL);
        }
        return 0;
    }
    rc = fetch_one(t, j, &e);
    if (!rc)
        rc = cy_files_ref_add(t->env->files, j->sha256, j->record, &e);
    if (!rc) {
        (void)remove(path); /* stored and attached: the job is done */
        return 0;
    }
    if (atomic_load(t->env->stop))
        return 1; /* stopped in the middle: no try counted, started again next time */
    j->tries++;
    j->next_ms = cy_now_ms() + backoff_ms(j->tries);
    snprintf(j->error, sizeof j->error, "%s", e.msg);
    (void)job_write(path, j, NULL);
    return 0;
}

void cy_sync_files_turn(void *curl, const cy_sync_files_env *env, const cy_peer *p)
{
    char odir[4096];
    comity_error e = {0};
    if (!curl || !env->dir || !env->files)
        return;
    if (origin_dir(env->dir, p->origin, true, odir, &e)) {
        (void)cy_store_peer_note_row(env->store, p->origin, p->added_us, e.msg,
                                     cy_now_ms() * 1000, NULL);
        return;
    }
    /* the peer asked again after its directory was made: removed since
     * the caller read it, the directory goes and nothing is written (the
     * file's top: a peer removed while `comity serve` runs) */
    cy_peer now;
    comity_err got = cy_store_peer_get(env->store, p->origin, &now, NULL);
    if (got == COMITY_ERR_NOTFOUND) {
        (void)cy_sync_files_forget(env->dir, p->origin, NULL);
        return;
    }
    if (got == COMITY_OK && now.added_us != p->added_us)
        return; /* removed and added again since: the next turn, with the new row */
    if (list_new(curl, env, p, odir, &e))
        (void)cy_store_peer_note_row(env->store, p->origin, p->added_us, e.msg,
                                     cy_now_ms() * 1000, NULL);
    struct turn t = {curl, env, p, odir, cy_now_ms()};
    jobs_each(odir, job_turn, &t);
}

/* ---- the files thread of one origin -------------------------------------------- */

struct cy_sync_files_thread {
    cy_sync_files_env env;
    char origin[CY_PEER_ORIGIN_MAX + 1];
    CURL *c;                     /* this thread's handle (made at start: no start without) */
    CURLSH *share;               /* the session cookie, shared with the records' handle */
    pthread_mutex_t share_mu;    /* libcurl's lock of the share */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool kicked, stop;           /* under mu */
    atomic_bool stopping;        /* this thread stops (env.stop points here) */
    const atomic_bool *sync_stop; /* the whole sync stops: sets stopping */
    pthread_t thr;
};

static void share_lock(CURL *c, curl_lock_data d, curl_lock_access a, void *ctx)
{
    (void)c;
    (void)d;
    (void)a;
    pthread_mutex_lock(&((struct cy_sync_files_thread *)ctx)->share_mu);
}

static void share_unlock(CURL *c, curl_lock_data d, void *ctx)
{
    (void)c;
    (void)d;
    pthread_mutex_unlock(&((struct cy_sync_files_thread *)ctx)->share_mu);
}

/* A transfer stops at the next call (libcurl makes one at least once a
 * second, bytes or not) once the sync or this thread stops; the sync's
 * stop becomes this thread's, so that the turn counts no try for it. */
static int on_progress(void *ctx, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    (void)dt;
    (void)dn;
    (void)ut;
    (void)un;
    struct cy_sync_files_thread *t = ctx;
    if (atomic_load(t->sync_stop))
        atomic_store(&t->stopping, true);
    return atomic_load(&t->stopping) ? 1 : 0;
}

struct sweep {
    const char *odir;
    const char *hash;
    bool named;
};

static int job_names(void *ctx, const char *path, job *j)
{
    (void)path;
    struct sweep *w = ctx;
    w->named |= !strcmp(j->sha256, w->hash);
    return w->named;
}

/* Removes the partials of the origin's directory that no job names any
 * more (a crash between a job's end and its partial's removal). */
static void parts_sweep(const char *odir)
{
    DIR *d = opendir(odir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l != CY_FILES_HASH_LEN + sizeof PART_SUFFIX - 1 ||
            strcmp(e->d_name + CY_FILES_HASH_LEN, PART_SUFFIX))
            continue;
        char hash[CY_FILES_HASH_LEN + 1], path[4200];
        snprintf(hash, sizeof hash, "%.*s", CY_FILES_HASH_LEN, e->d_name);
        struct sweep w = {odir, hash, false};
        jobs_each(odir, job_names, &w);
        if (!w.named && snprintf(path, sizeof path, "%s/%s", odir, e->d_name) < (int)sizeof path)
            (void)unlink(path);
    }
    closedir(d);
}

/* Waits until kicked, stopped or CY_SYNC_POLL_MS; returns whether stopping. */
static bool files_nap(struct cy_sync_files_thread *t)
{
    struct timespec ts = cy_sync_deadline(CY_SYNC_POLL_MS);
    pthread_mutex_lock(&t->mu);
    while (!t->stop && !t->kicked && !atomic_load(t->sync_stop))
        if (pthread_cond_timedwait(&t->cv, &t->mu, &ts) != 0)
            break;
    t->kicked = false;
    bool stop = t->stop || atomic_load(t->sync_stop);
    if (stop)
        atomic_store(&t->stopping, true);
    pthread_mutex_unlock(&t->mu);
    return stop;
}

static void *files_main(void *arg)
{
    struct cy_sync_files_thread *t = arg;
    pthread_setname_np(pthread_self(), "comity-files");
    char odir[4096];
    if (!origin_dir(t->env.dir, t->origin, true, odir, NULL))
        parts_sweep(odir);
    while (!files_nap(t)) {
        cy_peer p;
        char pin[CY_TLS_PIN_BUF];
        if (cy_store_peer_get(t->env.store, t->origin, &p, NULL) != COMITY_OK ||
            cy_sync_pin_get(t->env.dir, p.origin, pin, NULL) != COMITY_OK)
            continue; /* removed (the records' thread stops this one), or no pin read */
        cy_sync_curl_tls(t->c, pin);
        cy_sync_files_turn(t->c, &t->env, &p);
    }
    /* stopped because the peer was removed: whatever a turn under way
     * wrote after `peer remove` swept the directory goes too */
    cy_peer gone;
    if (cy_store_peer_get(t->env.store, t->origin, &gone, NULL) == COMITY_ERR_NOTFOUND)
        (void)cy_sync_files_forget(t->env.dir, t->origin, NULL);
    return NULL;
}

void cy_sync_curl_session(void *curl, void *share)
{
    CURL *c = curl;
    if (share)
        curl_easy_setopt(c, CURLOPT_SHARE, share);
    curl_easy_setopt(c, CURLOPT_COOKIEFILE, ""); /* the session cookie, in memory or shared */
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_TIMEOUT, CY_SYNC_HTTP_TIMEOUT_S);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "comity-sync");
}

/* Keeps (why non-NULL) or clears the reason the files thread of `origin`
 * did not start: DIR/sync-files/<tag>/thread.error, read by `peer list`
 * (cy_sync_files_status); also the peer's error in the store until its
 * next pull, in case the directory cannot hold it. */
static void thread_error(const cy_sync_files_env *env, const char *origin, const char *why)
{
    char odir[4096], path[4200];
    if (!env->dir || origin_dir(env->dir, origin, why != NULL, odir, NULL))
        return;
    snprintf(path, sizeof path, "%s/" THREAD_ERROR, odir);
    if (!why) {
        (void)unlink(path);
        return;
    }
    char msg[COMITY_ERRMSG_MAX + 64];
    snprintf(msg, sizeof msg, "sealed files: not fetched, their thread did not start: %s", why);
    (void)comity_write_file(path, msg, strlen(msg), 0600, 0, NULL);
    if (env->store)
        (void)cy_store_peer_note(env->store, origin, msg, cy_now_ms() * 1000, NULL);
}

/* Frees what a files thread holds (its thread joined, or never made). */
static void thread_free(struct cy_sync_files_thread *t)
{
    if (t->c)
        curl_easy_cleanup(t->c);
    if (t->share)
        curl_share_cleanup(t->share);
    pthread_cond_destroy(&t->cv);
    pthread_mutex_destroy(&t->mu);
    pthread_mutex_destroy(&t->share_mu);
    cy_free(t);
}

/* The rehearsal of a start that fails (tests): COMITY_TEST_FILES_THREAD_FAILS=N
 * makes the first N starts of a files thread in this process fail as a
 * thread that cannot be made would (read once; anything but a number of
 * at most 3 digits is 0). */
static bool start_fault(void)
{
    static atomic_int left = -1;
    int n = atomic_load(&left);
    if (n < 0) {
        const char *v = getenv("COMITY_TEST_FILES_THREAD_FAILS");
        int k = 0;
        if (v && strlen(v) <= 3 && strspn(v, "0123456789") == strlen(v))
            k = atoi(v);
        int unset = -1;
        (void)atomic_compare_exchange_strong(&left, &unset, k);
    }
    while ((n = atomic_load(&left)) > 0)
        if (atomic_compare_exchange_weak(&left, &n, n - 1))
            return true;
    return false;
}

comity_err cy_sync_files_thread_start(const cy_sync_files_env *env, const char *origin,
                                      cy_sync_files_thread **out, comity_error *err)
{
    *out = NULL;
    comity_error e = {0};
    comity_err rc = COMITY_OK;
    struct cy_sync_files_thread *t = NULL;
    if (!env->dir || !env->files || strlen(origin) > CY_PEER_ORIGIN_MAX)
        rc = cy_fail(&e, COMITY_ERR_USAGE, "sync files: a directory, a file store and an "
                     "origin of at most %d bytes needed", CY_PEER_ORIGIN_MAX);
    else if (start_fault())
        rc = cy_fail(&e, COMITY_ERR_INTERNAL, "sync files: cannot start a thread for %s: "
                     "COMITY_TEST_FILES_THREAD_FAILS", origin);
    else if (!(t = cy_calloc(1, sizeof *t)))
        rc = cy_fail(&e, COMITY_ERR_NOMEM, "out of memory");
    if (rc) {
        if (strlen(origin) <= CY_PEER_ORIGIN_MAX)
            thread_error(env, origin, e.msg);
        if (err)
            *err = e;
        return rc;
    }
    t->env = *env;
    t->sync_stop = env->stop;
    t->env.stop = &t->stopping;
    snprintf(t->origin, sizeof t->origin, "%s", origin);
    pthread_mutex_init(&t->share_mu, NULL);
    pthread_mutex_init(&t->mu, NULL);
    pthread_cond_init(&t->cv, NULL);
    atomic_init(&t->stopping, false);
    t->kicked = true; /* a first turn at once: jobs left by the last run */
    t->share = curl_share_init();
    if (t->share) {
        curl_share_setopt(t->share, CURLSHOPT_LOCKFUNC, share_lock);
        curl_share_setopt(t->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
        curl_share_setopt(t->share, CURLSHOPT_USERDATA, t);
        curl_share_setopt(t->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_COOKIE);
        t->c = curl_easy_init();
    }
    if (t->c) {
        cy_sync_curl_session(t->c, t->share);
        curl_easy_setopt(t->c, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(t->c, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(t->c, CURLOPT_XFERINFODATA, t);
    }
    int pe = t->c ? pthread_create(&t->thr, NULL, files_main, t) : 0;
    if (!t->c || pe != 0) {
        rc = cy_fail(&e, COMITY_ERR_INTERNAL, "sync files: cannot start a thread for %s: %s",
                     origin, t->c ? strerror(pe) : "no libcurl handle");
        thread_free(t);
        thread_error(env, origin, e.msg);
        if (err)
            *err = e;
        return rc;
    }
    thread_error(env, origin, NULL);
    *out = t;
    return COMITY_OK;
}

bool cy_sync_files_thread_retry(const cy_sync_files_env *env, const char *origin,
                                cy_sync_files_retry *r, int64_t now_ms,
                                cy_sync_files_thread **t)
{
    if (*t || now_ms < r->next_ms)
        return false; /* running, or its back-off not over */
    if (cy_sync_files_thread_start(env, origin, t, NULL) == COMITY_OK) {
        r->wait_ms = 0;
        r->next_ms = 0;
        return true;
    }
    /* thread.error kept (peer list shows it); tried again after a wait
     * doubling from CY_SYNC_FILE_BACKOFF_MIN_MS to CY_SYNC_BACKOFF_MAX_MS */
    r->wait_ms = r->wait_ms ? r->wait_ms * 2 : CY_SYNC_FILE_BACKOFF_MIN_MS;
    if (r->wait_ms > CY_SYNC_BACKOFF_MAX_MS)
        r->wait_ms = CY_SYNC_BACKOFF_MAX_MS;
    r->next_ms = now_ms + r->wait_ms;
    return false;
}

void *cy_sync_files_thread_share(cy_sync_files_thread *t)
{
    return t ? t->share : NULL;
}

void cy_sync_files_thread_kick(cy_sync_files_thread *t)
{
    if (!t)
        return;
    pthread_mutex_lock(&t->mu);
    t->kicked = true;
    pthread_cond_broadcast(&t->cv);
    pthread_mutex_unlock(&t->mu);
}

void cy_sync_files_thread_stop(cy_sync_files_thread *t)
{
    if (!t)
        return;
    pthread_mutex_lock(&t->mu);
    t->stop = true;
    atomic_store(&t->stopping, true);
    pthread_cond_broadcast(&t->cv);
    pthread_mutex_unlock(&t->mu);
    pthread_join(t->thr, NULL);
    thread_free(t); /* its handle before the share it uses */
}

/* ---- a peer removed ------------------------------------------------------------ */

comity_err cy_sync_files_forget(const char *dir, const char *origin, comity_error *err)
{
    char odir[4096], parent[4096];
    if (!dir || origin_dir(dir, origin, false, odir, err))
        return COMITY_OK;
    comity_err rc = COMITY_OK;
    bool gone = false;
    /* a files thread still in a turn may add a file between a sweep and
     * the rmdir (ENOTEMPTY): swept again; it writes nothing once the
     * directory is gone, and removes what it added when it stops */
    for (int pass = 0; pass < FORGET_PASSES && !rc && !gone; pass++) {
        DIR *d = opendir(odir);
        if (!d) {
            if (errno != ENOENT)
                rc = cy_fail(err, COMITY_ERR_IO, "sync files: %s: %s", odir, strerror(errno));
            gone = !rc;
            break;
        }
        struct dirent *e;
        while ((e = readdir(d)) && !rc) {
            char path[4200];
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            if (snprintf(path, sizeof path, "%s/%s", odir, e->d_name) >= (int)sizeof path ||
                (unlink(path) != 0 && errno != ENOENT))
                rc = cy_fail(err, COMITY_ERR_IO, "sync files: removing %s: %s", path,
                             strerror(errno));
        }
        closedir(d);
        if (!rc && rmdir(odir) == 0)
            gone = true;
        else if (!rc && errno == ENOENT)
            gone = true;
        else if (!rc && errno != ENOTEMPTY && errno != EEXIST)
            rc = cy_fail(err, COMITY_ERR_IO, "sync files: removing %s: %s", odir,
                         strerror(errno));
    }
    if (!rc && !gone)
        rc = cy_fail(err, COMITY_ERR_IO, "sync files: removing %s: still written to after %d "
                     "sweeps", odir, FORGET_PASSES);
    snprintf(parent, sizeof parent, "%s/" FILES_DIR, dir);
    int fd = rc ? -1 : open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) { /* the removal durable */
        (void)fsync(fd);
        close(fd);
    }
    return rc;
}

/* ---- status ---------------------------------------------------------------------- */

struct status {
    json_t *pending, *failed;
};

static int job_status(void *ctx, const char *path, job *j)
{
    (void)path;
    struct status *s = ctx;
    json_t *o = json_pack("{s:s, s:I, s:s, s:I}", "sha256", j->sha256, "size",
                          (json_int_t)j->size, "record", j->record, "tries",
                          (json_int_t)j->tries);
    if (!o)
        return 1;
    bool failed = j->refused || (j->tries > 0 && j->error[0]);
    if (j->error[0])
        json_object_set_new(o, "error", json_string(j->error));
    json_array_append_new(failed ? s->failed : s->pending, o);
    return 0;
}

void cy_sync_files_status(const char *dir, const char *origin, void *peer_json)
{
    json_t *peer = peer_json;
    char odir[4096];
    struct status s = {json_array(), json_array()};
    if (dir && s.pending && s.failed && !origin_dir(dir, origin, false, odir, NULL)) {
        jobs_each(odir, job_status, &s);
        char path[4200], *why = NULL;
        size_t len = 0;
        snprintf(path, sizeof path, "%s/" THREAD_ERROR, odir);
        if (access(path, F_OK) == 0 &&
            comity_read_file(path, COMITY_ERRMSG_MAX + 64, &why, &len, NULL) == COMITY_OK)
            json_object_set_new(peer, "files_error", json_stringn(why, len));
        comity_free(why);
    }
    json_object_set_new(peer, "files_pending", s.pending ? s.pending : json_array());
    json_object_set_new(peer, "files_failed", s.failed ? s.failed : json_array());
}
