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

/* ---- sealing while hashing and sending ---------------------------------------------- */

/* The age file as comity_seal_stream writes it (a stdio cookie): written
 * into the pipe to libcurl, whose thread hashes it (and writes --keep's
 * copy) as it sends, so that sealing and hashing run on two cores. */
struct tee {
    int pipe_w, keep;
    comity_sha256 *h;
    uint64_t n;
    struct progress *p;
    uint64_t in_total;
    FILE *in;
};

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static ssize_t tee_write(void *c, const char *buf, size_t n)
{
    struct tee *t = c;
    if (write_all(t->pipe_w, buf, n))
        return -1;
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

/* The sealing thread: seals `in` through the tee, then closes the pipe
 * (the end of the body for libcurl) with the hash final. */
struct sealer {
    FILE *in;
    const char **rcpt;
    size_t nrcpt;
    struct tee t;
    char hash[65];
    comity_err rc;
    comity_error e;
};

static void *seal_thread(void *ctx)
{
    struct sealer *s = ctx;
    cookie_io_functions_t io = {.write = tee_write, .close = tee_close};
    FILE *o = fopencookie(&s->t, "w", io);
    if (!o) {
        s->rc = COMITY_ERR_NOMEM;
        snprintf(s->e.msg, sizeof s->e.msg, "out of memory");
    } else {
        setvbuf(o, NULL, _IOFBF, IO_BUF);
        s->rc = comity_seal_stream(s->in, o, s->rcpt, s->nrcpt, 0, &s->e);
        if (fclose(o) != 0 && !s->rc) {
            s->rc = COMITY_ERR_IO;
            snprintf(s->e.msg, sizeof s->e.msg, "sending the age file: the upload stopped");
        }
    }
    close(s->t.pipe_w); /* EOF for libcurl */
    s->t.pipe_w = -1;
    return NULL;
}

struct body_in {
    int fd;
    struct sealer *s;
    struct curl_slist *trailer;
};

static size_t on_pipe_read(char *buf, size_t sz, size_t n, void *ctx)
{
    struct body_in *b = ctx;
    struct tee *t = &b->s->t;
    for (;;) {
        ssize_t k = read(b->fd, buf, sz * n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0 || (k > 0 && t->keep >= 0 && write_all(t->keep, buf, (size_t)k)))
            return CURL_READFUNC_ABORT;
        comity_sha256_update(t->h, buf, (size_t)k);
        t->n += (uint64_t)k;
        return (size_t)k;
    }
}

/* The trailer: the hash of what was sent (the pipe reached its end: the
 * sealer is done); a failed sealing aborts the upload instead. */
static int on_trailer(struct curl_slist **list, void *ctx)
{
    struct body_in *b = ctx;
    if (b->s->rc)
        return CURL_TRAILERFUNC_ABORT;
    comity_sha256_final(b->s->t.h, b->s->hash);
    b->s->t.h = NULL;
    char h[128];
    snprintf(h, sizeof h, "Comity-Sha256: %s", b->s->hash);
    if (!(b->trailer = curl_slist_append(NULL, h)))
        return CURL_TRAILERFUNC_ABORT;
    *list = b->trailer;
    return CURL_TRAILERFUNC_OK;
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

int cli_case_send_file(struct cli_client *cl, const char *case_id, const char *path,
                       const char *const *to, size_t nto, const char *keep, char hash[65],
                       uint64_t *size)
{
    struct cli_keys keys = {0};
    comity_key *k = NULL;
    const char **rcpt = NULL, **all = NULL;
    size_t nrcpt = 0;
    struct sealer s = {0};
    struct body_in b = {.fd = -1, .s = &s};
    struct progress pr;
    struct cli_resp r = {0};
    comity_error e = {0};
    bool thread = false;
    pthread_t th;
    int st, pfd[2] = {-1, -1};
    s.t.keep = -1;
    s.t.pipe_w = -1;
    void (*old_pipe)(int) = signal(SIGPIPE, SIG_IGN);
    if ((st = recipients(cl, to, nto, &keys, &k, &rcpt, &nrcpt)))
        goto done;
    if (!(all = calloc(nrcpt + 1, sizeof *all))) {
        st = CLI_FAIL;
        goto done;
    }
    memcpy(all, rcpt, nrcpt * sizeof *all);
    all[nrcpt] = comity_key_recipient(k); /* the author opens its own file */
    struct stat sb;
    if (!(s.in = fopen(path, "rb")) || fstat(fileno(s.in), &sb) != 0) {
        fprintf(stderr, "comity %s: %s: %s\n", cl->cmd, path, strerror(errno));
        st = CLI_USAGE;
        goto done;
    }
    setvbuf(s.in, NULL, _IOFBF, IO_BUF);
    if (keep && (s.t.keep = open(keep, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0) {
        fprintf(stderr, "comity %s: --keep %s: %s\n", cl->cmd, keep, strerror(errno));
        st = CLI_USAGE;
        goto done;
    }
    if (comity_sha256_new(&s.t.h, &e)) {
        st = cli_error(cl->cmd, &e);
        goto done;
    }
    if (pipe(pfd) != 0) {
        st = CLI_FAIL;
        goto done;
    }
    (void)fcntl(pfd[1], F_SETPIPE_SZ, (int)IO_BUF); /* fewer wake-ups; best effort */
    progress_init(&pr, "sealing and sending");
    s.t.pipe_w = pfd[1];
    s.t.p = &pr;
    s.t.in_total = (uint64_t)sb.st_size;
    s.t.in = s.in;
    s.rcpt = all;
    s.nrcpt = nrcpt + 1;
    b.fd = pfd[0];
    if (pthread_create(&th, NULL, seal_thread, &s) != 0) {
        close(pfd[1]);
        s.t.pipe_w = -1;
        st = CLI_FAIL;
        goto done;
    }
    thread = true;
    char url[512];
    snprintf(url, sizeof url, "/v1/files?case=%s", case_id);
    struct curl_slist *h = NULL;
    CURL *c = stream_handle(cl, url, &h);
    if (!c) {
        st = CLI_FAIL;
        goto done;
    }
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, on_pipe_read);
    curl_easy_setopt(c, CURLOPT_READDATA, &b);
    curl_easy_setopt(c, CURLOPT_TRAILERFUNCTION, on_trailer);
    curl_easy_setopt(c, CURLOPT_TRAILERDATA, &b);
    curl_easy_setopt(c, CURLOPT_UPLOAD_BUFFERSIZE, 2L << 20);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_answer);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
    CURLcode rc = curl_easy_perform(c);
    if (rc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    close(pfd[0]); /* a sealer still writing now fails (EPIPE) */
    pfd[0] = -1;
    pthread_join(th, NULL);
    thread = false;
    if (s.rc) {
        st = cli_error(cl->cmd, &s.e);
    } else if (!s.hash[0] && rc == CURLE_OK) {
        fprintf(stderr, "comity %s: the upload ended before its trailer\n", cl->cmd);
        st = CLI_FAIL;
    } else if (rc != CURLE_OK && !r.status) {
        fprintf(stderr, "comity %s: sending %s: %s\n", cl->cmd, path, curl_easy_strerror(rc));
        st = CLI_FAIL;
    } else if (!(st = cli_client_answer(cl, &r))) {
        progress_show(&pr, s.t.in_total, s.t.in_total, true);
        snprintf(hash, 65, "%s", s.hash);
        *size = s.t.n;
    }
done:
    if (pfd[0] >= 0)
        close(pfd[0]);
    if (thread)
        pthread_join(th, NULL);
    if (s.t.pipe_w >= 0)
        close(s.t.pipe_w);
    if (s.t.keep >= 0 && (close(s.t.keep) != 0 || st) && keep)
        unlink(keep);
    if (s.in)
        fclose(s.in);
    signal(SIGPIPE, old_pipe);
    comity_sha256_free(s.t.h);
    free(r.data);
    free(all);
    comity_free(rcpt);
    comity_key_free(k);
    cli_keys_free(&keys);
    return st;
}

int cli_case_attach_hash(struct cli_client *cl, const char *record_id, const char *hash)
{
    if (!cli_id_ok(record_id))
        return cli_usage(cl->cmd, "'%s' is not a record id (<type>--<uuid>)", record_id);
    char path[512];
    snprintf(path, sizeof path, "/v1/files/%s/attach?record=%s", hash, record_id);
    struct cli_resp r = {0};
    int st = cli_client_http(cl, "POST", path, "", 0, &r);
    if (!st && !(st = cli_client_answer(cl, &r))) {
        json_t *j = json_loadb(r.data ? r.data : "", r.len, 0, NULL);
        printf("%s %lld %s\n", hash, (long long)json_integer_value(json_object_get(j, "size")),
               record_id);
        json_decref(j);
    }
    free(r.data);
    return st;
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
        (void)fcntl(pfd[1], F_SETPIPE_SZ, (int)IO_BUF); /* best effort */
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
