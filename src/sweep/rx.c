/*
 * rx.c: STIX LIKE and MATCHES through vectorscan (Hyperscan's API).
 *
 * Each LIKE or MATCHES value becomes a "regex entry" of the set: an entry
 * that is not put in the hash table (its bytes are the expression, for
 * display) but whose index is the expression's id in a vectorscan database,
 * one database per object path, compiled with hs_compile_multi when the
 * set is built.  Every token the scanner would look up for that path (the
 * whole domain token, URL, email, word, JSON or CSV field, file name or
 * path) is also scanned by the path's database; a match is reported as a
 * hit of the regex entry, so refs, records and outputs work unchanged.
 *
 * LIKE 'x%y_' is translated to the anchored regex ^x.*y.$ with every other
 * character escaped; MATCHES is PCRE as the STIX specification says, which
 * vectorscan supports except for back-references and some assertions: an
 * expression it refuses makes cy_sw_rx_add fail with vectorscan's message
 * (the compiler then reports the indicator as skipped).  Domain and email
 * paths match case-insensitively, as their exact values do.
 *
 * Scratch space: one per thread (pthread key, freed at thread exit and by
 * cy_sw_rx_thread_done for the calling thread), grown with hs_alloc_scratch
 * for whichever database it is used with.  Ownership: the set owns the databases (cy_sw_rx_free).
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <hs/hs.h>

#include "sweep/rx.h"

struct rx_expr {
    char *expr;     /* owned, NUL-terminated */
    uint32_t entry;
    int path;
};

struct cy_sw_rx {
    struct rx_expr *ex;
    size_t n, cap;
    hs_database_t *db[CY_SW_PATH_MAX];
    uint64_t paths;
};

static pthread_key_t scratch_key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;

/* A thread's scratch and the database it was last sized for. */
struct tls {
    hs_scratch_t *s;
    const hs_database_t *db;
};

static void scratch_free(void *p)
{
    struct tls *t = p;
    hs_free_scratch(t->s);
    cy_free(t);
}

static void key_init(void)
{
    (void)pthread_key_create(&scratch_key, scratch_free);
}

void cy_sw_rx_free(cy_sw_rx *rx)
{
    if (!rx)
        return;
    for (size_t i = 0; i < rx->n; i++)
        cy_free(rx->ex[i].expr);
    cy_free(rx->ex);
    for (int p = 0; p < CY_SW_PATH_MAX; p++)
        hs_free_database(rx->db[p]);
    cy_free(rx);
}

static unsigned flags_for(int path)
{
    unsigned f = HS_FLAG_SINGLEMATCH | HS_FLAG_DOTALL | HS_FLAG_ALLOWEMPTY;
    if (cy_sw_path_folds(path))
        f |= HS_FLAG_CASELESS;
    return f;
}

/* LIKE to an anchored regex: % any run, _ any one character. */
static char *like_to_regex(const char *s, size_t len)
{
    char *out = cy_malloc(len * 4 + 3);
    if (!out)
        return NULL;
    size_t o = 0;
    out[o++] = '^';
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '%') {
            out[o++] = '.';
            out[o++] = '*';
        } else if (c == '_') {
            out[o++] = '.';
        } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   c >= 0x80) {
            out[o++] = (char)c;
        } else {
            o += (size_t)snprintf(out + o, 5, "\\x%02x", c);
        }
    }
    out[o++] = '$';
    out[o] = 0;
    return out;
}

comity_err cy_sw_rx_add(cy_sw_rx **rxp, int path, const char *val, size_t len, bool like,
                        uint32_t entry, comity_error *err)
{
    if (!*rxp) {
        *rxp = cy_calloc(1, sizeof **rxp);
        if (!*rxp)
            return cy_fail(err, COMITY_ERR_NOMEM, "sweep: out of memory");
    }
    cy_sw_rx *rx = *rxp;
    if (memchr(val, 0, len))
        return cy_fail(err, COMITY_ERR_INVALID, "sweep: NUL byte in a regular expression");
    char *e = like ? like_to_regex(val, len) : cy_strndup(val, len);
    if (!e)
        return cy_fail(err, COMITY_ERR_NOMEM, "sweep: out of memory");
    hs_database_t *db = NULL;
    hs_compile_error_t *ce = NULL;
    if (hs_compile(e, flags_for(path), HS_MODE_BLOCK, NULL, &db, &ce) != HS_SUCCESS) {
        comity_err rc = cy_fail(err, COMITY_ERR_INVALID, "%s '%.60s' not supported by vectorscan: %s",
                                like ? "LIKE" : "MATCHES", e, ce ? ce->message : "?");
        hs_free_compile_error(ce);
        cy_free(e);
        return rc;
    }
    hs_free_database(db);
    if (rx->n == rx->cap) {
        size_t nc = rx->cap ? rx->cap * 2 : 16;
        struct rx_expr *n = cy_realloc(rx->ex, nc * sizeof *n);
        if (!n) {
            cy_free(e);
            return cy_fail(err, COMITY_ERR_NOMEM, "sweep: out of memory");
        }
        rx->ex = n;
        rx->cap = nc;
    }
    rx->ex[rx->n++] = (struct rx_expr){.expr = e, .entry = entry, .path = path};
    rx->paths |= 1ULL << path;
    return COMITY_OK;
}

comity_err cy_sw_rx_build(cy_sw_rx *rx, comity_error *err)
{
    if (!rx)
        return COMITY_OK;
    comity_err rc = COMITY_OK;
    const char **exprs = cy_malloc(rx->n * sizeof *exprs);
    unsigned *flags = cy_malloc(rx->n * sizeof *flags);
    unsigned *ids = cy_malloc(rx->n * sizeof *ids);
    if (!exprs || !flags || !ids) {
        rc = cy_fail(err, COMITY_ERR_NOMEM, "sweep: out of memory");
        goto done;
    }
    for (int p = 0; p < CY_SW_PATH_MAX && rc == COMITY_OK; p++) {
        if (!((rx->paths >> p) & 1))
            continue;
        unsigned n = 0;
        for (size_t i = 0; i < rx->n; i++) {
            if (rx->ex[i].path != p)
                continue;
            exprs[n] = rx->ex[i].expr;
            flags[n] = flags_for(p);
            ids[n] = rx->ex[i].entry;
            n++;
        }
        hs_compile_error_t *ce = NULL;
        if (hs_compile_multi(exprs, flags, ids, n, HS_MODE_BLOCK, NULL, &rx->db[p], &ce) !=
            HS_SUCCESS) {
            rc = cy_fail(err, COMITY_ERR_INVALID, "sweep: vectorscan: %s", ce ? ce->message : "?");
            hs_free_compile_error(ce);
            break;
        }
    }
done:
    cy_free(exprs);
    cy_free(flags);
    cy_free(ids);
    return rc;
}

bool cy_sw_rx_has(const cy_sw_rx *rx, int path)
{
    return rx && path > 0 && path < CY_SW_PATH_MAX && (rx->paths >> path) & 1;
}

struct rx_ctx {
    cy_sw_found *out;
    size_t n, cap;
    int path;
};

static int on_match(unsigned id, unsigned long long from, unsigned long long to,
                    unsigned flags, void *ud)
{
    (void)from;
    (void)to;
    (void)flags;
    struct rx_ctx *c = ud;
    if (c->n < c->cap) {
        c->out[c->n].entry = id;
        c->out[c->n].path = c->path;
        c->n++;
    }
    return c->n == c->cap; /* non-zero stops the scan */
}

size_t cy_sw_rx_match(const cy_sw_rx *rx, int path, const char *v, size_t len,
                      cy_sw_found *out, size_t cap)
{
    if (!cy_sw_rx_has(rx, path) || !rx->db[path] || cap == 0 || len > UINT32_MAX)
        return 0;
    pthread_once(&key_once, key_init);
    struct tls *t = pthread_getspecific(scratch_key);
    if (!t) {
        t = cy_calloc(1, sizeof *t);
        if (!t)
            return 0;
        pthread_setspecific(scratch_key, t);
    }
    struct rx_ctx c = {.out = out, .cap = cap, .path = path};
    for (int attempt = 0; attempt < 2; attempt++) {
        if (t->db != rx->db[path] || !t->s) {
            if (hs_alloc_scratch(rx->db[path], &t->s) != HS_SUCCESS)
                return 0;
            t->db = rx->db[path];
        }
        hs_error_t r = hs_scan(rx->db[path], v, (unsigned)len, 0, t->s, on_match, &c);
        if (r == HS_SUCCESS || r == HS_SCAN_TERMINATED)
            break;
        t->db = NULL; /* scratch sized for another database: grow and retry */
        c.n = 0;
    }
    return c.n;
}

void cy_sw_rx_thread_done(void)
{
    pthread_once(&key_once, key_init);
    struct tls *t = pthread_getspecific(scratch_key);
    if (t) {
        scratch_free(t);
        pthread_setspecific(scratch_key, NULL);
    }
}
