/*
 * case_files.c: evidence files of `comity case` (case_files.h): seal and
 * hash, upload, fetch and open, all streamed in constant memory.
 *
 * Upload is two passes over the file, because the node decides on an
 * upload's headers, which name the SHA-256 of the age file, and the record
 * that references the file must be sent (and name that hash) before the
 * upload: first the file is sealed to the case's parties into a temporary
 * age file, hashed as it is written; then, once the record is sent, the
 * age file is streamed to the node (libcurl reads it as it sends).  A
 * failed upload leaves the record sent and the age file kept: `comity
 * case attach RECORD FILE.age` sends it again.
 *
 * Fetch is one pass: libcurl's write callback hashes what arrives and
 * pushes it into a pipe; a second thread opens the age stream from the
 * pipe into a temporary beside the output (age_out), which replaces the
 * output only when the file opened and its hash is the one asked for.
 *
 * Progress (bytes, percentage, rate) goes to stderr once a second when
 * stderr is a terminal.
 */
#define _GNU_SOURCE /* fopencookie */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "age_out.h"
#include "case_files.h"

#define ERR_BODY_MAX (64u * 1024) /* bytes of a refusal's JSON kept */
#define IO_BUF (1u << 20)         /* stdio buffer of the files streamed */

/* ---- progress -------------------------------------------------------------------- */

struct progress {
    const char *what;
    double start, last;
    bool tty;
};

static double mono(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void progress_init(struct progress *p, const char *what)
{
    p->what = what;
    p->start = p->last = mono();
    p->tty = isatty(2);
}

static void progress_show(struct progress *p, uint64_t done, uint64_t total, bool end)
{
    double t = mono();
    if (!p->tty || (!end && t - p->last < 1.0))
        return;
    p->last = t;
    double rate = t > p->start ? (double)done / (t - p->start) / 1e6 : 0;
    fprintf(stderr, "\r%s: %.1f of %.1f MiB (%3.0f%%) %.0f MB/s%s", p->what,
            (double)done / 1048576.0, (double)total / 1048576.0,
            total ? 100.0 * (double)done / (double)total : 100.0, rate, end ? "\n" : "");
}

/* ---- sealing while hashing -------------------------------------------------------- */

struct tee {
    int fd;
    comity_sha256 *h;
    uint64_t n;
    struct progress *p;
    uint64_t in_total;
    FILE *in;
};

static ssize_t tee_write(void *c, const char *buf, size_t n)
{
    struct tee *t = c;
    size_t left = n;
    const char *p = buf;
    while (left) {
        ssize_t w = write(t->fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        left -= (size_t)w;
    }
    comity_sha256_update(t->h, buf, n);
    t->n += n;
    long pos = ftell(t->in);
    progress_show(t->p, pos > 0 ? (uint64_t)pos : 0, t->in_total, false);
    return (ssize_t)n;
}

static int tee_close(void *c)
{
    (void)c;
    return 0;
}

/* The age recipients of `to` (from --keys) and of the configured key: OUT
 * l (strings owned by keys, rcpt and k; freed by the caller). */
static int recipients(struct cli_client *cl, const char *const *to, size_t nto,
                      struct cli_keys *keys, comity_key **k, const char ***rcpt, size_t *nrcpt)
{
    comity_error e = {0};
    int st;
    if (comity_key_load(cl->key, k, &e))
        return cli_error(cl->cmd, &e);
    if (cl->keys && (st = cli_keys_add(keys, cl->keys)))
        return st;
    const char **names = calloc(keys->n ? keys->n : 1, sizeof *names);
    if (!names)
        return CLI_FAIL;
    for (size_t i = 0; i < keys->n; i++)
        names[i] = comity_vkey_name(keys->vkeys[i]);
    comity_err rc = comity_record_seal_recipients(to, nto, names,
                                                  (const char *const *)keys->recipients,
                                                  keys->n, rcpt, nrcpt, &e);
    free(names);
    if (rc == COMITY_ERR_NOKEY) {
        fprintf(stderr, "comity %s: %s: give --keys FILE (or 'keys = FILE' in the config) "
                        "with a line for it\n", cl->cmd, e.msg);
        return CLI_USAGE;
    }
    return rc ? cli_error(cl->cmd, &e) : CLI_OK;
}

int cli_case_seal(struct cli_client *cl, const char *path, const char *const *to, size_t nto,
                  const char *out, char hash[65], uint64_t *size)
{
    struct cli_keys keys = {0};
    comity_key *k = NULL;
    const char **rcpt = NULL;
    size_t nrcpt = 0;
    FILE *in = NULL, *o = NULL;
    int fd = -1, st;
    struct tee t = {0};
    struct progress pr;
    comity_error e = {0};
    if ((st = recipients(cl, to, nto, &keys, &k, &rcpt, &nrcpt)))
        goto done;
    const char **all = calloc(nrcpt + 1, sizeof *all);
    if (!all) {
        st = CLI_FAIL;
        goto done;
    }
    memcpy(all, rcpt, nrcpt * sizeof *all);
    all[nrcpt] = comity_key_recipient(k); /* the author opens its own file */
    struct stat sb;
    if (!(in = fopen(path, "rb")) || fstat(fileno(in), &sb) != 0) {
        fprintf(stderr, "comity %s: %s: %s\n", cl->cmd, path, strerror(errno));
        st = CLI_USAGE;
        free(all);
        goto done;
    }
    setvbuf(in, NULL, _IOFBF, IO_BUF);
    if ((fd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0) {
        fprintf(stderr, "comity %s: %s: %s\n", cl->cmd, out, strerror(errno));
        st = CLI_USAGE;
        free(all);
        goto done;
    }
    progress_init(&pr, "sealing");
    t = (struct tee){fd, NULL, 0, &pr, (uint64_t)sb.st_size, in};
    if (comity_sha256_new(&t.h, &e)) {
        st = cli_error(cl->cmd, &e);
        free(all);
        goto done;
    }
    cookie_io_functions_t io = {.write = tee_write, .close = tee_close};
    if (!(o = fopencookie(&t, "w", io))) {
        st = CLI_FAIL;
        free(all);
        goto done;
    }
    setvbuf(o, NULL, _IOFBF, IO_BUF);
    comity_err rc = comity_seal_stream(in, o, all, nrcpt + 1, 0, &e);
    free(all);
    if (!rc && (fflush(o) != 0 || fsync(fd) != 0)) {
        rc = COMITY_ERR_IO;
        snprintf(e.msg, sizeof e.msg, "writing %s: %s", out, strerror(errno));
    }
    fclose(o);
    o = NULL;
    if (rc) {
        st = cli_error(cl->cmd, &e);
        goto done;
    }
    progress_show(&pr, (uint64_t)sb.st_size, (uint64_t)sb.st_size, true);
    comity_sha256_final(t.h, hash);
    t.h = NULL;
    *size = t.n;
done:
    if (o)
        fclose(o);
    if (fd >= 0 && close(fd) != 0 && !st)
        st = CLI_FAIL;
    if (st && fd >= 0)
        unlink(out);
    if (in)
        fclose(in);
    comity_sha256_free(t.h);
    comity_free(rcpt);
    comity_key_free(k);
    cli_keys_free(&keys);
    return st;
}

/* ---- HTTP, streamed ---------------------------------------------------------------- */

/* A curl handle for cl->url + path with the client's credentials and TLS
 * settings, and no overall timeout (a stalled transfer is dropped by the
 * low-speed limit).  OUT *h: curl_slist_free_all. */
static CURL *stream_handle(const struct cli_client *cl, const char *path, struct curl_slist **h)
{
    char url[2048];
    const char *base = cl->url;
    size_t bl = strlen(base);
    while (bl && base[bl - 1] == '/')
        bl--;
    if ((size_t)snprintf(url, sizeof url, "%.*s%s", (int)bl, base, path) >= sizeof url)
        return NULL;
    CURL *c = curl_easy_init();
    if (!c)
        return NULL;
    *h = NULL;
    if (cl->token) {
        char auth[600];
        snprintf(auth, sizeof auth, "Authorization: Token %s", cl->token);
        *h = curl_slist_append(*h, auth);
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, *h);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1024L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    if (cl->cacert)
        curl_easy_setopt(c, CURLOPT_CAINFO, cl->cacert);
    if (cl->insecure) {
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    return c;
}

/* A refusal's body, capped. */
static void keep_err(struct cli_resp *r, const char *p, size_t n)
{
    if (r->len >= ERR_BODY_MAX)
        return;
    if (n > ERR_BODY_MAX - r->len)
        n = ERR_BODY_MAX - r->len;
    char *d = realloc(r->data, r->len + n + 1);
    if (!d)
        return;
    memcpy(d + r->len, p, n);
    r->len += n;
    d[r->len] = 0;
    r->data = d;
}

static size_t on_answer(char *p, size_t sz, size_t n, void *ctx)
{
    keep_err(ctx, p, sz * n);
    return sz * n;
}

struct upload {
    FILE *f;
    uint64_t size, sent;
    struct progress p;
};

static size_t on_read(char *buf, size_t sz, size_t n, void *ctx)
{
    struct upload *u = ctx;
    size_t k = fread(buf, 1, sz * n, u->f);
    if (k == 0 && ferror(u->f))
        return CURL_READFUNC_ABORT;
    u->sent += k;
    progress_show(&u->p, u->sent, u->size, false);
    return k;
}

/* Hashes file f (from its start) into hash; OUT *size.  Exit status. */
static int hash_file(const char *cmd, const char *path, FILE *f, char hash[65], uint64_t *size)
{
    comity_sha256 *h = NULL;
    comity_error e = {0};
    if (comity_sha256_new(&h, &e))
        return cli_error(cmd, &e);
    char *buf = malloc(IO_BUF);
    uint64_t n = 0;
    size_t k;
    while (buf && (k = fread(buf, 1, IO_BUF, f)) > 0) {
        comity_sha256_update(h, buf, k);
        n += k;
    }
    int bad = !buf || ferror(f);
    free(buf);
    if (bad) {
        comity_sha256_free(h);
        fprintf(stderr, "comity %s: reading %s failed\n", cmd, path);
        return CLI_FAIL;
    }
    comity_sha256_final(h, hash);
    *size = n;
    rewind(f);
    return CLI_OK;
}

int cli_case_attach(struct cli_client *cl, const char *record_id, const char *sealed,
                    const char *hash, uint64_t size)
{
    char hx[65];
    struct upload u = {0};
    int st = CLI_OK;
    if (!cli_id_ok(record_id))
        return cli_usage(cl->cmd, "'%s' is not a record id (<type>--<uuid>)", record_id);
    if (!(u.f = fopen(sealed, "rb"))) {
        fprintf(stderr, "comity %s: %s: %s\n", cl->cmd, sealed, strerror(errno));
        return CLI_USAGE;
    }
    setvbuf(u.f, NULL, _IOFBF, IO_BUF);
    if (!hash) {
        if ((st = hash_file(cl->cmd, sealed, u.f, hx, &size))) {
            fclose(u.f);
            return st;
        }
        hash = hx;
    }
    u.size = size;
    progress_init(&u.p, "uploading");
    char path[512];
    snprintf(path, sizeof path, "/v1/files/%s?record=%s", hash, record_id);
    struct curl_slist *h = NULL;
    CURL *c = stream_handle(cl, path, &h);
    struct cli_resp r = {0};
    if (!c) {
        fclose(u.f);
        return CLI_FAIL;
    }
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)size);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(c, CURLOPT_READDATA, &u);
    curl_easy_setopt(c, CURLOPT_UPLOAD_BUFFERSIZE, 2L << 20);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_answer);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
    CURLcode rc = curl_easy_perform(c);
    if (rc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    fclose(u.f);
    if (rc != CURLE_OK && !r.status) {
        fprintf(stderr, "comity %s: uploading %s: %s\n", cl->cmd, sealed, curl_easy_strerror(rc));
        st = CLI_FAIL;
    } else if (!(st = cli_client_answer(cl, &r))) {
        progress_show(&u.p, u.size, u.size, true);
        printf("%s %llu %s\n", hash, (unsigned long long)size, record_id);
    }
    free(r.data);
    if (st)
        fprintf(stderr, "comity %s: the age file is kept: send it again with\n"
                        "  comity case attach %s %s\n", cl->cmd, record_id, sealed);
    return st;
}

/* ---- fetch ----------------------------------------------------------------------- */

struct fetch {
    CURL *c;
    int pipe_w;              /* to the opener thread, or -1 */
    FILE *raw;               /* --sealed: straight to the output */
    comity_sha256 *h;
    uint64_t got, total;
    struct cli_resp err;     /* a refusal's body */
    long status;
    bool write_failed;
    struct progress p;
};

static size_t on_fetch(char *p, size_t sz, size_t n, void *ctx)
{
    struct fetch *f = ctx;
    size_t len = sz * n;
    if (!f->status) {
        curl_easy_getinfo(f->c, CURLINFO_RESPONSE_CODE, &f->status);
        curl_off_t cl = -1;
        curl_easy_getinfo(f->c, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
        f->total = cl > 0 ? (uint64_t)cl : 0;
    }
    if (f->status != 200) {
        keep_err(&f->err, p, len);
        return len;
    }
    comity_sha256_update(f->h, p, len);
    f->got += len;
    progress_show(&f->p, f->got, f->total, false);
    if (f->raw)
        return fwrite(p, 1, len, f->raw) == len ? len : (f->write_failed = true, 0);
    for (size_t left = len; left;) {
        ssize_t w = write(f->pipe_w, p + (len - left), left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            f->write_failed = true; /* the opener stopped: it says why */
            return 0;
        }
        left -= (size_t)w;
    }
    return len;
}

struct opener {
    FILE *in, *out;
    const comity_identities *ids;
    comity_err rc;
    comity_error e;
};

static void *open_thread(void *ctx)
{
    struct opener *o = ctx;
    o->rc = comity_open_stream(o->in, o->out, o->ids, &o->e);
    fclose(o->in); /* the writer now gets EPIPE if it is not done */
    return NULL;
}

int cli_case_fetch(struct cli_client *cl, const char *hash, const char *out, int sealed)
{
    if (strlen(hash) != 64 || strspn(hash, "0123456789abcdef") != 64)
        return cli_usage(cl->cmd, "'%s' is not a file's SHA-256 (64 lowercase hex digits)",
                         hash);
    struct age_out ao;
    comity_identities *ids = NULL;
    comity_error e = {0};
    int st;
    if (!sealed && comity_identities_load(cl->key, &ids, &e))
        return cli_error(cl->cmd, &e);
    if ((st = age_out_open(&ao, out, sealed ? 0644 : 0600))) {
        comity_identities_free(ids);
        return st;
    }
    if (age_out_is_tty(&ao)) {
        age_out_abort(&ao);
        comity_identities_free(ids);
        return cli_usage(cl->cmd, "refusing to write a file to a terminal: give -o FILE");
    }
    setvbuf(ao.f, NULL, _IOFBF, IO_BUF);
    struct fetch f = {.pipe_w = -1};
    progress_init(&f.p, "fetching");
    struct opener op = {0};
    pthread_t th;
    bool thread = false;
    void (*old_pipe)(int) = signal(SIGPIPE, SIG_IGN);
    if (comity_sha256_new(&f.h, &e)) {
        st = cli_error(cl->cmd, &e);
        goto done;
    }
    if (sealed) {
        f.raw = ao.f;
    } else {
        int pfd[2];
        if (pipe(pfd) != 0 || !(op.in = fdopen(pfd[0], "rb"))) {
            st = CLI_FAIL;
            goto done;
        }
        setvbuf(op.in, NULL, _IOFBF, IO_BUF);
        f.pipe_w = pfd[1];
        op.out = ao.f;
        op.ids = ids;
        if (pthread_create(&th, NULL, open_thread, &op) != 0) {
            fclose(op.in);
            st = CLI_FAIL;
            goto done;
        }
        thread = true;
    }
    char path[128];
    snprintf(path, sizeof path, "/v1/files/%s", hash);
    struct curl_slist *hl = NULL;
    if (!(f.c = stream_handle(cl, path, &hl))) {
        st = CLI_FAIL;
        goto done;
    }
    curl_easy_setopt(f.c, CURLOPT_WRITEFUNCTION, on_fetch);
    curl_easy_setopt(f.c, CURLOPT_WRITEDATA, &f);
    curl_easy_setopt(f.c, CURLOPT_BUFFERSIZE, 512L << 10);
    CURLcode rc = curl_easy_perform(f.c);
    if (!f.status)
        curl_easy_getinfo(f.c, CURLINFO_RESPONSE_CODE, &f.status);
    curl_slist_free_all(hl);
    curl_easy_cleanup(f.c);
    if (f.pipe_w >= 0) {
        close(f.pipe_w); /* end of the age file for the opener */
        f.pipe_w = -1;
    }
    if (thread) {
        pthread_join(th, NULL);
        thread = false;
    }
    if (f.status && f.status != 200) {
        f.err.status = f.status;
        st = cli_client_answer(cl, &f.err);
    } else if (rc != CURLE_OK && !(f.write_failed && op.rc)) {
        fprintf(stderr, "comity %s: fetching %s: %s\n", cl->cmd, hash, curl_easy_strerror(rc));
        st = CLI_FAIL;
    } else if (!sealed && op.rc) {
        st = cli_error(cl->cmd, &op.e);
    } else {
        char got[65];
        comity_sha256_final(f.h, got);
        f.h = NULL;
        if (strcmp(got, hash) != 0) {
            fprintf(stderr, "comity %s: the file received hashes to %s, not %s; nothing "
                            "written\n", cl->cmd, got, hash);
            st = CLI_NO;
        } else {
            progress_show(&f.p, f.got, f.got, true);
        }
    }
done:
    if (f.pipe_w >= 0)
        close(f.pipe_w);
    if (thread)
        pthread_join(th, NULL);
    signal(SIGPIPE, old_pipe);
    comity_sha256_free(f.h);
    free(f.err.data);
    if (st)
        age_out_abort(&ao);
    else
        st = age_out_commit(&ao);
    comity_identities_free(ids);
    return st;
}
