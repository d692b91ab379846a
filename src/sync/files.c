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
 * Each turn of a puller (cy_sync_files_turn, after its page):
 *   1. the listing: GET /federation/files/?next=CURSOR gives the
 *      attachments this node may fetch, in the order the origin attached
 *      them; each becomes a job file, then the cursor is stored (both
 *      written whole, fsync'ed, renamed: a crash repeats a listing, which
 *      finds its jobs there already);
 *   2. the jobs that are due, one after another: a job whose record is
 *      not logged here yet waits for it; a file already stored here is
 *      only attached; else GET /federation/files/HASH streams into the
 *      file store's put-stream (a temporary, the SHA-256 computed as the
 *      bytes arrive, refused past the announced size), committed only when
 *      size and hash match (fsync, link into place): nothing half-stored
 *      is ever served.  Then the record is attached and the job removed.
 * A failure (the network, an origin's 404, bytes that do not hash to
 * what was announced) is kept in the job with its try count and retried
 * after a back-off doubling from CY_SYNC_FILE_BACKOFF_MIN_MS to
 * CY_SYNC_FILE_BACKOFF_MAX_MS; a file over this node's cap on a file is
 * refused for good (the job stays, named, for `comity peer list`).  A
 * node stopped or killed in the middle of a fetch starts that file again
 * at its next turn (the file store sweeps its temporaries when it opens).
 *
 * Files: DIR/sync-files/<16 hex of sha256(origin)>/cursor (a decimal byte
 * offset of the origin's journal) and .../<hash>-<16 hex of
 * sha256(record)>.job (JSON: sha256, size, record, since_ms, tries,
 * next_ms, error, refused).  Only the puller thread of that origin writes
 * them; `peer list` reads them.
 *
 * Memory: one listing answer (at most CY_SYNC_FILE_LIST_MAX bytes) and a
 * libcurl buffer; a file goes to disk as it arrives, whatever its size.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <sodium.h>

#include "files/files.h"
#include "sync/sync.h"
#include "store/records.h"

#define FILES_DIR "sync-files"
#define JOB_SUFFIX ".job"
#define JOB_MAX (4u << 10) /* bytes of one job file */
#define HTTP_TIMEOUT_S 120L

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

struct sink {
    CURL *c;
    cy_files_put *put;
    comity_err rc;
    comity_error err;
};

static size_t to_store(char *p, size_t sz, size_t n, void *ctx)
{
    struct sink *s = ctx;
    long st = 0;
    curl_easy_getinfo(s->c, CURLINFO_RESPONSE_CODE, &st);
    if (st != 200)
        return sz * n; /* a refusal's body: not the file (the status is answered) */
    if (!s->rc)
        s->rc = cy_files_put_write(s->put, p, sz * n, &s->err);
    return s->rc ? 0 : sz * n;
}

/* GET url with the puller's handle (its session cookie), the answer to
 * `write`.  OUT *status. */
static CURLcode get(CURL *c, const char *url, curl_write_callback write, void *ctx,
                    bool long_transfer, long *status)
{
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
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
    if (long_transfer) {
        curl_easy_setopt(c, CURLOPT_TIMEOUT, HTTP_TIMEOUT_S);
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
        CURLcode cc = get(c, url, to_mem, &m, false, &st);
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
    int64_t now;
};

/* Fetches one file into the store; COMITY_OK once stored (or there). */
static comity_err fetch_one(struct turn *t, const job *j, comity_error *err)
{
    uint64_t have = 0;
    if (cy_files_stat(t->env->files, j->sha256, &have, NULL) == COMITY_OK)
        return COMITY_OK; /* stored before (another record, another origin) */
    struct sink s = {.c = t->c};
    comity_err rc = cy_files_put_begin(t->env->files, j->sha256, j->size, &s.put, err);
    if (rc)
        return rc;
    char url[CY_PEER_URL_MAX + 120];
    snprintf(url, sizeof url, "%s/federation/files/%s", t->p->url, j->sha256);
    long st = 0;
    CURLcode cc = get(t->c, url, to_store, &s, true, &st);
    if (s.rc) {
        cy_files_put_abort(s.put);
        *err = s.err;
        return s.rc == COMITY_ERR_TOOBIG
                   ? cy_fail(err, COMITY_ERR_VERIFY, "the origin sent more than the %llu bytes "
                             "it announced for file %s; nothing kept",
                             (unsigned long long)j->size, j->sha256)
                   : s.rc;
    }
    if (cc != CURLE_OK || st != 200) {
        cy_files_put_abort(s.put);
        return cc != CURLE_OK ? cy_fail(err, COMITY_ERR_IO, "%s: %s", url, cy_sync_curl_why(cc))
                              : cy_fail(err, COMITY_ERR_IO, "%s: HTTP %ld", url, st);
    }
    /* size and SHA-256 against what was announced, then durable */
    rc = cy_files_put_commit(s.put, NULL, err);
    if (rc == COMITY_ERR_INVALID) {
        char why[COMITY_ERRMSG_MAX];
        snprintf(why, sizeof why, "%s", err->msg);
        return cy_fail(err, COMITY_ERR_VERIFY, "file %s of record %s refused: %s", j->sha256,
                       j->record, why);
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
    if (!curl || !env->dir || !env->files || origin_dir(env->dir, p->origin, true, odir, &e))
        return;
    if (list_new(curl, env, p, odir, &e))
        (void)cy_store_peer_note(env->store, p->origin, e.msg, cy_now_ms() * 1000, NULL);
    struct turn t = {curl, env, p, cy_now_ms()};
    jobs_each(odir, job_turn, &t);
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
    if (dir && s.pending && s.failed && !origin_dir(dir, origin, false, odir, NULL))
        jobs_each(odir, job_status, &s);
    json_object_set_new(peer, "files_pending", s.pending ? s.pending : json_array());
    json_object_set_new(peer, "files_failed", s.failed ? s.failed : json_array());
}
