/*
 * read.c: the sweep's readers: plain files split across threads, streams
 * (stdin, gzip), JSON lines and CSV with a field map, and directories whose
 * every file is also a record of its own (name, path, hashes).
 *
 * Plain files are cut into CY_SW_BLOCK-byte blocks.  Workers claim blocks in
 * order, read each with pread into their own buffer (a block plus room for
 * one line of CY_SW_LINE_MAX bytes), and scan the lines that start inside
 * the block; a line that starts in the block but ends after it is read to
 * its end from the next block's bytes.  A worker collects its block's hits
 * (with line numbers relative to the block) and hands them to the emitter,
 * which releases blocks strictly in file order under one lock, adding the
 * line counts of the blocks before: so output is in file order with true
 * line numbers whatever the thread count, and the sink is never called from
 * two threads at once.  Workers never run more than CY_SW_WINDOW blocks ahead
 * of the emitter, so memory is bounded by threads x (block + line) plus the
 * hits of at most CY_SW_WINDOW blocks, whatever the file size.
 *
 * Streams (pipes, gzip) are read in the same block size, with the partial
 * last line carried over, by a helper thread when threads > 1 so that
 * gunzip and scanning overlap; a line longer than CY_SW_LINE_MAX is cut,
 * and the cut is counted (cy_sw_read_stats), never silent.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <nettle/md5.h>
#include <nettle/sha1.h>
#include <sodium.h>
#include <zlib.h>

#include "sweep/read.h"

#define CY_SW_WINDOW 16           /* blocks done but not yet emitted, max */
#define HITS_PER_BLOCK (1u << 16) /* hits kept per block; more are counted */
#define TOK_KEEP 256              /* bytes of a matched token kept */
#define DIR_DEPTH_MAX 64

/* ---- hits collected by a worker ------------------------------------- */

struct khit {
    cy_sw_hit h;      /* tok points into the block's tokens (set on emit) */
    size_t tok_at;
};

struct block {
    struct khit *hits;
    size_t nhits, cap;
    char *toks;
    size_t ntoks, tcap;
    uint64_t lines;
    uint64_t dropped;
    uint64_t cut;
    uint64_t bytes;
    uint64_t shrunk;  /* 1: the mapping faulted (file cut), read again */
    bool done;
};

static int collect(void *ud, const cy_sw_hit *h)
{
    struct block *b = ud;
    if (b->nhits == HITS_PER_BLOCK) {
        b->dropped++;
        return 0;
    }
    size_t tl = h->tok_len < TOK_KEEP ? h->tok_len : TOK_KEEP;
    if (b->nhits == b->cap) {
        size_t nc = b->cap ? b->cap * 2 : 64;
        struct khit *n = cy_realloc(b->hits, nc * sizeof *n);
        if (!n) {
            b->dropped++;
            return 0;
        }
        b->hits = n;
        b->cap = nc;
    }
    if (b->ntoks + tl > b->tcap) {
        size_t nc = b->tcap ? b->tcap : 4096;
        while (nc < b->ntoks + tl)
            nc *= 2;
        char *n = cy_realloc(b->toks, nc);
        if (!n) {
            b->dropped++;
            return 0;
        }
        b->toks = n;
        b->tcap = nc;
    }
    memcpy(b->toks + b->ntoks, h->tok, tl);
    b->hits[b->nhits].h = *h;
    b->hits[b->nhits].h.tok_len = tl;
    b->hits[b->nhits].tok_at = b->ntoks;
    b->ntoks += tl;
    b->nhits++;
    return 0;
}

static void block_reset(struct block *b)
{
    b->nhits = b->ntoks = 0;
    b->lines = b->dropped = b->bytes = b->cut = b->shrunk = 0;
    b->done = false;
}

static void block_free(struct block *b)
{
    cy_free(b->hits);
    cy_free(b->toks);
}

/* Hands a block's hits to the sink with absolute line numbers; calls the
 * record callback at each change of line and after the last. */
static int emit_block(const cy_sw_sink *sink, const char *unit, struct block *b,
                      uint64_t line_base, cy_sw_read_stats *st)
{
    uint64_t cur = 0;
    bool have = false;
    int stop = 0;
    for (size_t i = 0; i < b->nhits && !stop; i++) {
        cy_sw_hit h = b->hits[i].h;
        h.line += line_base;
        h.tok = b->toks + b->hits[i].tok_at;
        if (have && h.line != cur && sink->record)
            sink->record(sink->ud, unit, cur);
        cur = h.line;
        have = true;
        stop = sink->hit(sink->ud, unit, &h);
    }
    if (have && sink->record)
        sink->record(sink->ud, unit, cur);
    st->dropped_hits += b->dropped;
    st->cut_lines += b->cut;
    st->bytes += b->bytes;
    st->shrunk += b->shrunk;
    if (sink->progress)
        sink->progress(sink->ud, b->bytes);
    return stop;
}

/* ---- threaded plain files ------------------------------------------- */

struct job {
    const cy_sw_set *set;
    const cy_sw_sink *sink;
    const char *unit;
    int fd;
    uint64_t size;
    uint64_t nblocks;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint64_t next;      /* next block to claim */
    uint64_t emitted;   /* blocks emitted so far */
    uint64_t line_base; /* lines in emitted blocks */
    struct block win[CY_SW_WINDOW];
    cy_sw_read_stats *st;
    int stop;
    int io_errno;
    bool map;           /* blocks are mapped, not read */
    size_t page;
};

/* Scans the lines that start in [start, end) of the file, given its bytes
 * [from, from + got) in buf (from = start - 1, or 0; got reaches at most
 * CY_SW_LINE_MAX past end, or the end of the file). */
static void scan_range(struct job *j, const char *buf, size_t got, uint64_t from,
                       uint64_t start, uint64_t end, struct block *b)
{
    b->bytes = end - start; /* counted even when no line starts here */
    /* First line that starts in [start, end). */
    size_t a = 0;
    if (start) {
        const char *nl = memchr(buf, '\n', got);
        if (!nl)
            return;
        a = (size_t)(nl - buf) + 1;
    }
    size_t lim = (size_t)(end - from);
    if (lim > got)
        lim = got; /* the file shrank while we read it (rotation) */
    if (a >= lim)
        return;
    /* The last line starting before `end` runs to its newline. */
    size_t z;
    const char *nl = lim ? memchr(buf + lim - 1, '\n', got - (lim - 1)) : NULL;
    if (nl) {
        z = (size_t)(nl - buf) + 1;
    } else {
        z = got;
        if (from + got < j->size)
            b->cut++; /* the rest of an overlong line is not scanned */
    }
    b->lines = cy_sw_scan_text(j->set, buf + a, z - a, 0, from + a, collect, b);
}

/*
 * Mapped blocks.  A file that shrinks while it is mapped (log rotation by
 * truncation) makes reads past its new end raise SIGBUS.  While a worker
 * scans a mapping, a SIGBUS handler (installed for the duration of the
 * sweep, the previous one restored after) jumps back out of the scan when
 * the faulting address is inside that worker's mapping; the block is then
 * read again with pread, which sees the shorter file.  A SIGBUS anywhere
 * else goes to the previous handler (or kills, as it would have).
 */
static _Thread_local sigjmp_buf *bus_jmp;
static _Thread_local const char *bus_lo, *bus_hi;
static pthread_mutex_t bus_mu = PTHREAD_MUTEX_INITIALIZER;
static int bus_users;
static struct sigaction bus_old;

static void bus_handler(int sig, siginfo_t *si, void *ctx)
{
    const char *a = si ? (const char *)si->si_addr : NULL;
    if (bus_jmp && a >= bus_lo && a < bus_hi)
        siglongjmp(*bus_jmp, 1);
    if ((bus_old.sa_flags & SA_SIGINFO) && bus_old.sa_sigaction) {
        bus_old.sa_sigaction(sig, si, ctx);
    } else if (bus_old.sa_handler != SIG_DFL && bus_old.sa_handler != SIG_IGN) {
        bus_old.sa_handler(sig);
    } else {
        /* put the default back: the faulting access runs again and kills */
        signal(SIGBUS, SIG_DFL);
    }
}

static bool bus_guard_on(void)
{
    bool ok = true;
    pthread_mutex_lock(&bus_mu);
    if (bus_users == 0) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = bus_handler;
        sa.sa_flags = SA_SIGINFO | SA_NODEFER;
        sigemptyset(&sa.sa_mask);
        ok = sigaction(SIGBUS, &sa, &bus_old) == 0;
    }
    if (ok)
        bus_users++;
    pthread_mutex_unlock(&bus_mu);
    return ok;
}

static void bus_guard_off(void)
{
    pthread_mutex_lock(&bus_mu);
    if (--bus_users == 0)
        sigaction(SIGBUS, &bus_old, NULL);
    pthread_mutex_unlock(&bus_mu);
}

/* Scans [start, end) from a mapping of the file: 0 done, 1 the file
 * cannot be mapped, 2 it turned out shorter than the mapping (SIGBUS
 * caught; b then holds part of the block's hits and must be reset). */
static int scan_mapped(struct job *j, uint64_t from, uint64_t want, uint64_t start,
                       uint64_t end, struct block *b)
{
    uint64_t moff = from & ~(uint64_t)(j->page - 1);
    size_t mlen = (size_t)(from + want - moff);
    char *m = mmap(NULL, mlen, PROT_READ, MAP_PRIVATE, j->fd, (off_t)moff);
    if (m == MAP_FAILED)
        return 1;
    sigjmp_buf jb;
    int rc = 2;
    if (sigsetjmp(jb, 0) == 0) {
        bus_lo = m;
        bus_hi = m + mlen;
        bus_jmp = &jb;
        scan_range(j, m + (from - moff), (size_t)want, from, start, end, b);
        rc = 0;
    }
    bus_jmp = NULL;
    munmap(m, mlen);
    return rc;
}

/* Scans block i into b: from a mapping when the job maps, else (or when
 * mapping fails or the file shrank) read with pread into *buf (allocated
 * here when NULL: CY_SW_BLOCK + CY_SW_LINE_MAX + 1 bytes, the caller's). */
static int scan_block(struct job *j, uint64_t i, char **bufp, struct block *b)
{
    uint64_t start = i * CY_SW_BLOCK;
    uint64_t end = start + CY_SW_BLOCK < j->size ? start + CY_SW_BLOCK : j->size;
    uint64_t from = start ? start - 1 : 0;
    uint64_t want = end - from + CY_SW_LINE_MAX;
    if (from + want > j->size)
        want = j->size - from;
    if (j->map) {
        int m = scan_mapped(j, from, want, start, end, b);
        if (m == 0)
            return 0;
        block_reset(b);
        b->shrunk = m == 2;
    }
    if (!*bufp && !(*bufp = cy_malloc(CY_SW_BLOCK + CY_SW_LINE_MAX + 1)))
        return ENOMEM;
    char *buf = *bufp;
    size_t got = 0;
    while (got < want) {
        ssize_t r = pread(j->fd, buf + got, want - got, (off_t)(from + got));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return errno;
        if (r == 0)
            break;
        got += (size_t)r;
    }
    scan_range(j, buf, got, from, start, end, b);
    return 0;
}

static void *worker(void *arg)
{
    struct job *j = arg;
    char *buf = NULL; /* for pread; allocated at first use */
    struct block mine = {0};
    pthread_mutex_lock(&j->mu);
    for (;;) {
        while (!j->stop && !j->io_errno && j->next < j->nblocks &&
               j->next >= j->emitted + CY_SW_WINDOW)
            pthread_cond_wait(&j->cv, &j->mu);
        if (j->stop || j->io_errno || j->next >= j->nblocks)
            break;
        uint64_t i = j->next++;
        pthread_mutex_unlock(&j->mu);
        block_reset(&mine);
        int e = scan_block(j, i, &buf, &mine);
        pthread_mutex_lock(&j->mu);
        if (e) {
            j->io_errno = e;
            break;
        }
        /* Swap our filled block into the window slot (no copying). */
        struct block *w = &j->win[i % CY_SW_WINDOW];
        struct block tmp = *w;
        *w = mine;
        w->done = true;
        mine = tmp;
        while (!j->stop && j->emitted < j->nblocks && j->win[j->emitted % CY_SW_WINDOW].done) {
            struct block *eb = &j->win[j->emitted % CY_SW_WINDOW];
            j->stop = emit_block(j->sink, j->unit, eb, j->line_base + 1, j->st);
            j->line_base += eb->lines;
            eb->done = false;
            j->emitted++;
        }
        pthread_cond_broadcast(&j->cv);
    }
    pthread_cond_broadcast(&j->cv);
    pthread_mutex_unlock(&j->mu);
    block_free(&mine);
    cy_free(buf);
    return NULL;
}

static comity_err scan_fd_threads(const cy_sw_set *set, int fd, uint64_t size,
                                  const char *unit, int threads,
                                  const cy_sw_sink *sink, cy_sw_read_stats *st,
                                  comity_error *err)
{
    struct job j = {
        .set = set, .sink = sink, .unit = unit, .fd = fd, .size = size,
        .nblocks = (size + CY_SW_BLOCK - 1) / CY_SW_BLOCK, .st = st,
    };
    pthread_mutex_init(&j.mu, NULL);
    pthread_cond_init(&j.cv, NULL);
    /* COMITY_NO_MMAP in the environment reads with pread (to compare) */
    j.page = (size_t)sysconf(_SC_PAGESIZE);
    j.map = size > 0 && j.page > 0 && (j.page & (j.page - 1)) == 0 &&
            getenv("COMITY_NO_MMAP") == NULL && bus_guard_on();
    if ((uint64_t)threads > j.nblocks)
        threads = (int)j.nblocks;
    if (threads < 1)
        threads = 1;
    pthread_t tid[256];
    if (threads > 256)
        threads = 256;
    int started = 0;
    for (; started < threads - 1; started++)
        if (pthread_create(&tid[started], NULL, worker, &j) != 0)
            break;
    worker(&j); /* the calling thread works too */
    for (int t = 0; t < started; t++)
        pthread_join(tid[t], NULL);
    for (int i = 0; i < CY_SW_WINDOW; i++)
        block_free(&j.win[i]);
    pthread_mutex_destroy(&j.mu);
    pthread_cond_destroy(&j.cv);
    if (j.map)
        bus_guard_off();
    st->lines += j.line_base;
    if (j.io_errno)
        return cy_fail(err, j.io_errno == ENOMEM ? COMITY_ERR_NOMEM : COMITY_ERR_IO,
                       "%s: %s", unit, strerror(j.io_errno));
    return j.stop ? COMITY_ERR_USAGE : COMITY_OK;
}

/* ---- line handlers for streams -------------------------------------- */

struct lines_ctx {
    const cy_sw_set *set;
    const cy_sw_sink *sink;
    const char *unit;
    const cy_sw_fieldmap *map;
    int kind;           /* 0 text, 1 JSON lines, 2 CSV */
    int csv_cols[CY_SW_FIELDS_MAX]; /* map index -> column, -1 none */
    bool csv_header_done;
    cy_sw_read_stats *st;
    struct block blk;
};

/* A JSON value found at a dotted key: strings, or arrays of strings. */
static void json_field(struct lines_ctx *c, json_t *v, int path, uint64_t line,
                       uint64_t off, int depth)
{
    if (json_is_string(v)) {
        cy_sw_scan_value(c->set, path, json_string_value(v), json_string_length(v), line,
                         off, collect, &c->blk);
    } else if (json_is_array(v) && depth < CY_SW_JSON_DEPTH) {
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x) json_field(c, x, path, line, off, depth + 1);
    }
}

static json_t *json_path(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key); /* Zeek writes "id.orig_h" flat */
    if (v)
        return v;
    char part[128];
    const char *p = key;
    int depth = 0;
    while (o && *p && depth++ < CY_SW_JSON_DEPTH) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        if (n >= sizeof part)
            return NULL;
        memcpy(part, p, n);
        part[n] = 0;
        o = json_object_get(o, part);
        p = dot ? dot + 1 : p + n;
    }
    return *p ? NULL : o;
}

/* Splits one CSV line into at most `max` fields, in place in `tmp`. */
static size_t csv_split(const char *s, size_t len, char *tmp, const char **f,
                        size_t *fl, size_t max)
{
    size_t n = 0, i = 0, o = 0;
    while (n < max) {
        const char *start = tmp + o;
        bool q = i < len && s[i] == '"';
        if (q) {
            i++;
            while (i < len) {
                if (s[i] == '"') {
                    if (i + 1 < len && s[i + 1] == '"') {
                        tmp[o++] = '"';
                        i += 2;
                        continue;
                    }
                    i++;
                    break;
                }
                tmp[o++] = s[i++];
            }
            while (i < len && s[i] != ',')
                i++;
        } else {
            while (i < len && s[i] != ',')
                tmp[o++] = s[i++];
        }
        f[n] = start;
        fl[n] = (size_t)(tmp + o - start);
        while (fl[n] && (start[fl[n] - 1] == '\r'))
            fl[n]--;
        n++;
        if (i >= len)
            break;
        i++; /* the comma */
    }
    return n;
}

static void one_line(struct lines_ctx *c, const char *s, size_t len, uint64_t line,
                     uint64_t off)
{
    if (c->kind == 1) {
        size_t k = 0;
        while (k < len && (s[k] == ' ' || s[k] == '\t'))
            k++;
        json_t *o = k < len && s[k] == '{' ? json_loadb(s, len, JSON_DISABLE_EOF_CHECK, NULL) : NULL;
        if (!json_is_object(o)) {
            json_decref(o);
            c->st->unparsed_lines++;
            cy_sw_scan_text(c->set, s, len, line, off, collect, &c->blk);
            return;
        }
        for (size_t i = 0; i < c->map->n; i++) {
            json_t *v = json_path(o, c->map->key[i]);
            if (v)
                json_field(c, v, c->map->path[i], line, off, 0);
        }
        json_decref(o);
        return;
    }
    if (c->kind == 2) {
        const char *f[CY_SW_FIELDS_MAX * 4];
        size_t fl[CY_SW_FIELDS_MAX * 4];
        char *tmp = cy_malloc(len + 1);
        if (!tmp) {
            c->st->unparsed_lines++;
            return;
        }
        size_t n = csv_split(s, len, tmp, f, fl, CY_ARRAY_LEN(f));
        if (!c->csv_header_done) {
            for (size_t i = 0; i < c->map->n; i++) {
                c->csv_cols[i] = -1;
                for (size_t k = 0; k < n; k++)
                    if (strlen(c->map->key[i]) == fl[k] &&
                        memcmp(c->map->key[i], f[k], fl[k]) == 0)
                        c->csv_cols[i] = (int)k;
            }
            c->csv_header_done = true;
        } else {
            for (size_t i = 0; i < c->map->n; i++) {
                int col = c->csv_cols[i];
                if (col >= 0 && (size_t)col < n && fl[col])
                    cy_sw_scan_value(c->set, c->map->path[i], f[col], fl[col], line, off,
                                     collect, &c->blk);
            }
        }
        cy_free(tmp);
        return;
    }
    cy_sw_scan_text(c->set, s, len, line, off, collect, &c->blk);
}

/* Handles the complete lines in buf[0..len). Returns the sink's stop. */
static int lines_chunk(struct lines_ctx *c, const char *buf, size_t len,
                       uint64_t *line, uint64_t off0)
{
    block_reset(&c->blk);
    if (c->kind == 0) {
        *line += cy_sw_scan_text(c->set, buf, len, *line, off0, collect, &c->blk);
    } else {
        const char *p = buf, *end = buf + len;
        while (p < end) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            const char *e = nl ? nl : end;
            one_line(c, p, (size_t)(e - p), *line, off0 + (uint64_t)(p - buf));
            (*line)++;
            p = nl ? nl + 1 : end;
        }
    }
    c->blk.bytes = len;
    return emit_block(c->sink, c->unit, &c->blk, 0, c->st);
}

/*
 * Streams.  read_stream() reads an fd or a gzip stream in blocks, cuts them
 * after their last newline (carrying the partial line over, cutting lines
 * longer than CY_SW_LINE_MAX and dropping their rest) and hands each chunk
 * of whole lines to `deliver`.  With one thread, deliver scans the chunk at
 * once.  With more, read_stream runs in a helper thread (gunzip is as slow
 * as the scan) and deliver copies the chunk into one of two slots that the
 * calling thread scans: decompression and scanning overlap, and the sink is
 * still called from one thread only.
 */
struct pipe {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    char *slot[2];
    size_t len[2];
    uint64_t off[2];
    bool full[2];
    int put, take;
    bool done;    /* the reader has delivered everything */
    bool stop;    /* the scanner wants no more */
};

typedef int (*deliver_fn)(void *ud, const char *buf, size_t len, uint64_t off);

struct reader {
    struct lines_ctx *c;
    int fd;
    gzFile gz;
    deliver_fn deliver;
    void *ud;
    comity_err rc;
    comity_error err;
};

static comity_err read_stream(struct reader *rd)
{
    struct lines_ctx *c = rd->c;
    size_t cap = CY_SW_BLOCK + CY_SW_LINE_MAX;
    char *buf = cy_malloc(cap + 1);
    if (!buf)
        return cy_fail(&rd->err, COMITY_ERR_NOMEM, "%s: out of memory", c->unit);
    size_t have = 0;
    uint64_t off = 0;
    comity_err rc = COMITY_OK;
    bool eof = false, skip_rest = false;
    int stop = 0;
    while (!eof && !stop) {
        size_t room = cap - have;
        if (room > CY_SW_BLOCK)
            room = CY_SW_BLOCK;
        ssize_t r;
        if (rd->gz) {
            int g = gzread(rd->gz, buf + have, (unsigned)room);
            if (g < 0) {
                int ge;
                const char *m = gzerror(rd->gz, &ge);
                rc = cy_fail(&rd->err, COMITY_ERR_IO, "%s: gzip: %s", c->unit, m);
                break;
            }
            r = g;
        } else {
            r = read(rd->fd, buf + have, room);
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0) {
                rc = cy_fail(&rd->err, COMITY_ERR_IO, "%s: %s", c->unit, strerror(errno));
                break;
            }
        }
        if (r == 0)
            eof = true;
        have += (size_t)r;
        if (skip_rest) {
            /* the rest of a cut line: dropped up to its newline, as in
             * scan_block, so line numbers stay true */
            char *nl = memchr(buf, '\n', have);
            size_t drop = nl ? (size_t)(nl - buf) + 1 : have;
            off += drop;
            memmove(buf, buf + drop, have - drop);
            have -= drop;
            skip_rest = nl == NULL;
        }
        size_t upto;
        if (eof) {
            upto = have;
        } else {
            char *nl = NULL;
            for (size_t k = have; k-- > 0;)
                if (buf[k] == '\n') {
                    nl = buf + k;
                    break;
                }
            if (nl) {
                upto = (size_t)(nl - buf) + 1;
            } else if (have >= CY_SW_LINE_MAX) {
                upto = have; /* an overlong line: cut */
                c->st->cut_lines++;
                skip_rest = true;
            } else {
                continue;
            }
        }
        if (upto)
            stop = rd->deliver(rd->ud, buf, upto, off);
        off += upto;
        memmove(buf, buf + upto, have - upto);
        have -= upto;
    }
    cy_free(buf);
    return rc;
}

struct direct {
    struct lines_ctx *c;
    uint64_t line;
};

static int deliver_direct(void *ud, const char *buf, size_t len, uint64_t off)
{
    struct direct *d = ud;
    return lines_chunk(d->c, buf, len, &d->line, off);
}

static int deliver_pipe(void *ud, const char *buf, size_t len, uint64_t off)
{
    struct pipe *p = ud;
    pthread_mutex_lock(&p->mu);
    while (p->full[p->put] && !p->stop)
        pthread_cond_wait(&p->cv, &p->mu);
    int stop = p->stop;
    if (!stop) {
        memcpy(p->slot[p->put], buf, len);
        p->len[p->put] = len;
        p->off[p->put] = off;
        p->full[p->put] = true;
        p->put ^= 1;
        pthread_cond_broadcast(&p->cv);
    }
    pthread_mutex_unlock(&p->mu);
    return stop;
}

static void *reader_thread(void *arg)
{
    struct reader *rd = arg;
    rd->rc = read_stream(rd);
    struct pipe *p = rd->ud;
    pthread_mutex_lock(&p->mu);
    p->done = true;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

static comity_err scan_stream(struct lines_ctx *c, int fd, gzFile gz, int threads,
                              comity_error *err)
{
    struct reader rd = {.c = c, .fd = fd, .gz = gz};
    uint64_t line = 1;
    struct pipe p = {0};
    pthread_t tid;
    bool piped = false;
    if (threads > 1) {
        size_t cap = CY_SW_BLOCK + CY_SW_LINE_MAX;
        p.slot[0] = cy_malloc(cap);
        p.slot[1] = cy_malloc(cap);
        pthread_mutex_init(&p.mu, NULL);
        pthread_cond_init(&p.cv, NULL);
        rd.deliver = deliver_pipe;
        rd.ud = &p;
        piped = p.slot[0] && p.slot[1] && pthread_create(&tid, NULL, reader_thread, &rd) == 0;
        if (!piped) {
            cy_free(p.slot[0]);
            cy_free(p.slot[1]);
            pthread_mutex_destroy(&p.mu);
            pthread_cond_destroy(&p.cv);
        }
    }
    if (piped) {
        pthread_mutex_lock(&p.mu);
        for (;;) {
            while (!p.full[p.take] && !p.done)
                pthread_cond_wait(&p.cv, &p.mu);
            if (!p.full[p.take])
                break; /* done and drained */
            int k = p.take;
            pthread_mutex_unlock(&p.mu);
            int stop = lines_chunk(c, p.slot[k], p.len[k], &line, p.off[k]);
            pthread_mutex_lock(&p.mu);
            p.full[k] = false;
            p.take ^= 1;
            if (stop)
                p.stop = true;
            pthread_cond_broadcast(&p.cv);
        }
        pthread_mutex_unlock(&p.mu);
        pthread_join(tid, NULL);
        cy_free(p.slot[0]);
        cy_free(p.slot[1]);
        pthread_mutex_destroy(&p.mu);
        pthread_cond_destroy(&p.cv);
    } else {
        struct direct d = {.c = c, .line = 1};
        rd.deliver = deliver_direct;
        rd.ud = &d;
        rd.rc = read_stream(&rd);
        line = d.line;
    }
    c->st->lines += line - 1;
    block_free(&c->blk);
    if (rd.rc != COMITY_OK && err)
        *err = rd.err;
    return rd.rc;
}

/* ---- file records (directories) ------------------------------------- */

static void hex(char *out, const uint8_t *d, size_t n)
{
    cy_hex_encode(out, d, n);
}

/* Hashes the file with what the set needs, then looks names and hashes up
 * as one record (line 0). */
static comity_err file_record(const cy_sw_set *set, const char *path, const char *rel,
                              const cy_sw_sink *sink, cy_sw_read_stats *st,
                              comity_error *err)
{
    struct block b = {0};
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    if (cy_sw_set_has(set, CY_SW_FILE_NAME))
        cy_sw_scan_value(set, CY_SW_FILE_NAME, base, strlen(base), 0, 0, collect, &b);
    if (cy_sw_set_has(set, CY_SW_FILE_PATH)) {
        cy_sw_scan_value(set, CY_SW_FILE_PATH, path, strlen(path), 0, 0, collect, &b);
        if (rel && strcmp(rel, path) != 0)
            cy_sw_scan_value(set, CY_SW_FILE_PATH, rel, strlen(rel), 0, 0, collect, &b);
    }
    bool w5 = cy_sw_set_has(set, CY_SW_MD5), w1 = cy_sw_set_has(set, CY_SW_SHA1),
         w256 = cy_sw_set_has(set, CY_SW_SHA256), w512 = cy_sw_set_has(set, CY_SW_SHA512);
    comity_err rc = COMITY_OK;
    if (w5 || w1 || w256 || w512) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        uint8_t *buf = cy_malloc(1 << 20);
        if (fd < 0 || !buf) {
            rc = cy_fail(err, COMITY_ERR_IO, "%s: %s", path, fd < 0 ? strerror(errno) : "out of memory");
            if (fd >= 0)
                close(fd);
            cy_free(buf);
            goto done;
        }
        struct md5_ctx m5;
        struct sha1_ctx s1;
        crypto_hash_sha256_state s256;
        crypto_hash_sha512_state s512;
        md5_init(&m5);
        sha1_init(&s1);
        crypto_hash_sha256_init(&s256);
        crypto_hash_sha512_init(&s512);
        for (;;) {
            ssize_t r = read(fd, buf, 1 << 20);
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0) {
                rc = cy_fail(err, COMITY_ERR_IO, "%s: %s", path, strerror(errno));
                break;
            }
            if (r == 0)
                break;
            if (w5)
                md5_update(&m5, (size_t)r, buf);
            if (w1)
                sha1_update(&s1, (size_t)r, buf);
            if (w256)
                crypto_hash_sha256_update(&s256, buf, (unsigned long long)r);
            if (w512)
                crypto_hash_sha512_update(&s512, buf, (unsigned long long)r);
        }
        close(fd);
        cy_free(buf);
        if (rc == COMITY_OK) {
            uint8_t d[64];
            char h[129];
            if (w5) {
                md5_digest(&m5, MD5_DIGEST_SIZE, d);
                hex(h, d, MD5_DIGEST_SIZE);
                cy_sw_scan_value(set, CY_SW_MD5, h, 32, 0, 0, collect, &b);
            }
            if (w1) {
                sha1_digest(&s1, SHA1_DIGEST_SIZE, d);
                hex(h, d, SHA1_DIGEST_SIZE);
                cy_sw_scan_value(set, CY_SW_SHA1, h, 40, 0, 0, collect, &b);
            }
            if (w256) {
                crypto_hash_sha256_final(&s256, d);
                hex(h, d, 32);
                cy_sw_scan_value(set, CY_SW_SHA256, h, 64, 0, 0, collect, &b);
            }
            if (w512) {
                crypto_hash_sha512_final(&s512, d);
                hex(h, d, 64);
                cy_sw_scan_value(set, CY_SW_SHA512, h, 128, 0, 0, collect, &b);
            }
            st->files_hashed++;
        }
    }
done:
    emit_block(sink, path, &b, 0, st);
    block_free(&b);
    return rc;
}

/* ---- one path -------------------------------------------------------- */

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

static comity_err scan_file(const cy_sw_set *set, const char *path, int threads,
                            const cy_sw_fieldmap *map, const cy_sw_sink *sink,
                            cy_sw_read_stats *st, comity_error *err)
{
    bool is_stdin = strcmp(path, "-") == 0;
    int fd = is_stdin ? 0 : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return cy_fail(err, COMITY_ERR_IO, "%s: %s", path, strerror(errno));
    unsigned char magic[2] = {0, 0};
    struct stat sb;
    bool regular = fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode);
    if (regular && pread(fd, magic, 2, 0) < 0)
        magic[0] = 0;
    /* Pipes and stdin cannot be peeked at: they go through zlib, which
     * passes data that is not gzip through unchanged. */
    bool gz = (magic[0] == 0x1f && magic[1] == 0x8b) || !regular;
    struct lines_ctx c = {.set = set, .sink = sink, .unit = path, .map = map, .st = st};
    if (map && map->n) {
        if (ends_with(path, ".csv") || ends_with(path, ".csv.gz"))
            c.kind = 2;
        else
            c.kind = 1;
    }
    comity_err rc;
    st->files++;
    if (regular && !gz && c.kind == 0) {
        rc = scan_fd_threads(set, fd, (uint64_t)sb.st_size, path, threads, sink, st, err);
    } else if (gz) {
        int dfd = dup(fd);
        gzFile g = dfd >= 0 ? gzdopen(dfd, "rb") : NULL;
        if (!g) {
            if (dfd >= 0)
                close(dfd);
            rc = cy_fail(err, COMITY_ERR_IO, "%s: cannot open gzip stream", path);
        } else {
            gzbuffer(g, 1 << 17);
            rc = scan_stream(&c, -1, g, threads, err);
            gzclose(g);
        }
    } else {
        rc = scan_stream(&c, fd, NULL, threads, err);
    }
    if (!is_stdin)
        close(fd);
    return rc == COMITY_ERR_USAGE ? COMITY_OK : rc;
}

static bool wants_file_records(const cy_sw_set *set)
{
    return cy_sw_set_has(set, CY_SW_FILE_NAME) || cy_sw_set_has(set, CY_SW_FILE_PATH) ||
           cy_sw_set_has(set, CY_SW_MD5) || cy_sw_set_has(set, CY_SW_SHA1) ||
           cy_sw_set_has(set, CY_SW_SHA256) || cy_sw_set_has(set, CY_SW_SHA512);
}

static comity_err walk(const cy_sw_set *set, const char *dir, size_t root_len,
                       int depth, int threads, const cy_sw_fieldmap *map,
                       const cy_sw_sink *sink, cy_sw_read_stats *st, comity_error *err)
{
    if (depth > DIR_DEPTH_MAX) {
        st->skipped_paths++;
        return COMITY_OK;
    }
    DIR *d = opendir(dir);
    if (!d) {
        st->unreadable++;
        if (sink->note)
            sink->note(sink->ud, dir, strerror(errno));
        return COMITY_OK;
    }
    /* Names sorted, so that output does not depend on the directory order. */
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    comity_err rc = COMITY_OK;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 32;
            char **nn = cy_realloc(names, nc * sizeof *nn);
            if (!nn) {
                rc = cy_fail(err, COMITY_ERR_NOMEM, "%s: out of memory", dir);
                break;
            }
            names = nn;
            cap = nc;
        }
        names[n] = cy_strdup(de->d_name);
        if (!names[n]) {
            rc = cy_fail(err, COMITY_ERR_NOMEM, "%s: out of memory", dir);
            break;
        }
        n++;
    }
    closedir(d);
    if (rc == COMITY_OK)
        qsort(names, n, sizeof *names, cy_sw_strcmp_p);
    for (size_t i = 0; i < n && rc == COMITY_OK; i++) {
        size_t pl = strlen(dir) + strlen(names[i]) + 2;
        char *p = cy_malloc(pl);
        if (!p) {
            rc = cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
            break;
        }
        snprintf(p, pl, "%s%s%s", dir, ends_with(dir, "/") ? "" : "/", names[i]);
        struct stat sb;
        if (lstat(p, &sb) != 0) {
            st->unreadable++;
        } else if (S_ISDIR(sb.st_mode)) {
            rc = walk(set, p, root_len, depth + 1, threads, map, sink, st, err);
        } else if (S_ISREG(sb.st_mode)) {
            comity_error e2 = {0};
            const char *rel = p + root_len;
            comity_err r2 = COMITY_OK;
            if (wants_file_records(set))
                r2 = file_record(set, p, rel, sink, st, &e2);
            if (r2 == COMITY_OK)
                r2 = scan_file(set, p, threads, map, sink, st, &e2);
            if (r2 == COMITY_ERR_NOMEM) {
                rc = cy_fail(err, r2, "%s", e2.msg);
            } else if (r2 != COMITY_OK) {
                st->unreadable++;
                if (sink->note)
                    sink->note(sink->ud, p, e2.msg);
            }
        } else {
            st->skipped_paths++; /* symlinks, devices, sockets: not followed */
        }
        cy_free(p);
    }
    for (size_t i = 0; i < n; i++)
        cy_free(names[i]);
    cy_free(names);
    return rc;
}

int cy_sw_strcmp_p(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

comity_err cy_sw_read_path(const cy_sw_set *set, const char *path, int threads,
                           const cy_sw_fieldmap *map, const cy_sw_sink *sink,
                           cy_sw_read_stats *st, comity_error *err)
{
    struct stat sb;
    if (strcmp(path, "-") != 0 && stat(path, &sb) != 0)
        return cy_fail(err, COMITY_ERR_IO, "%s: %s", path, strerror(errno));
    if (strcmp(path, "-") != 0 && S_ISDIR(sb.st_mode)) {
        size_t rl = strlen(path);
        while (rl > 1 && path[rl - 1] == '/')
            rl--;
        return walk(set, path, rl, 0, threads, map, sink, st, err);
    }
    /* A single regular file is a record too (name, path, hashes). */
    if (strcmp(path, "-") != 0 && S_ISREG(sb.st_mode) && wants_file_records(set)) {
        comity_err rc = file_record(set, path, NULL, sink, st, err);
        if (rc != COMITY_OK)
            return rc;
    }
    return scan_file(set, path, threads, map, sink, st, err);
}

comity_err cy_sw_read_buffer(const cy_sw_set *set, const cy_sw_fieldmap *map, int kind,
                             const char *buf, size_t len, const cy_sw_sink *sink,
                             cy_sw_read_stats *st)
{
    struct lines_ctx c = {.set = set, .sink = sink, .unit = "buffer", .map = map,
                          .kind = kind, .st = st};
    if (kind != 0 && (!map || map->n == 0))
        c.kind = 0;
    uint64_t line = 1;
    size_t off = 0;
    /* in CY_SW_BLOCK pieces cut after a newline, as scan_stream does */
    while (off < len) {
        size_t n = len - off;
        if (n > CY_SW_BLOCK) {
            n = CY_SW_BLOCK;
            while (n > 0 && buf[off + n - 1] != '\n')
                n--;
            if (n == 0)
                n = CY_SW_BLOCK;
        }
        if (lines_chunk(&c, buf + off, n, &line, off))
            break;
        off += n;
    }
    st->lines += line - 1;
    block_free(&c.blk);
    return COMITY_OK;
}
