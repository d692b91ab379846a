/*
 * conns.c: who may hold the node's connections (see conns.h).
 *
 * Per-address cap.  libmicrohttpd 0.9.75's own MHD_OPTION_PER_IP_
 * CONNECTION_LIMIT has no exceptions, so the node counts instead: every
 * accepted connection is counted against its address (IPv4 per address,
 * IPv6 per /64, the block one subscriber usually holds) in a hash table
 * keyed with a random SipHash key, so that chosen addresses cannot pile
 * into one bucket.  libmicrohttpd's accept policy asks cy_conns_admit()
 * first (a full address is refused before any memory is spent on it);
 * the count itself is taken when libmicrohttpd announces the connection
 * (cy_conns_opened), under the table's mutex, so that threads accepting at
 * once cannot overshoot the cap: one over it has its socket shut down at
 * once.  Addresses of the allow-list (a ministry behind one NAT address, a
 * load test on loopback) are not capped, only the total is.
 *
 * Header deadline.  libmicrohttpd's timeout is an idle timeout: a client
 * that sends a header byte every few seconds keeps its connection for
 * ever.  Each connection therefore notes when it began to wait for a
 * request's headers (when it opened, and again when its previous request
 * was answered); a watchdog thread wakes once a second and shuts down the
 * socket of any connection that has not completed its header block within
 * header_timeout_s (the TLS handshake counts, and so does an idle
 * keep-alive connection).  libmicrohttpd then reads end-of-file and closes
 * it.  The socket is still open while its entry is in the table, because
 * libmicrohttpd announces the close (cy_conns_closed, which takes the
 * entry out under the mutex) before it closes the socket.
 *
 * Locking: one mutex guards the connection list and the address table;
 * `busy` and `since` of an entry are atomics, written by the connection's
 * thread without the mutex and read by the watchdog under it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <sodium.h>

#include "node/conns.h"

#define PEER_BUCKETS 1024
#define WATCH_TICK_MS 1000

struct peer {
    struct peer *next;
    uint8_t a[16]; /* the address (IPv6: its /64, the rest zero) */
    unsigned n;    /* connections it holds */
};

struct conn {
    struct conn *prev, *next;
    struct peer *peer; /* NULL: allow-listed */
    int fd;
    atomic_bool busy;       /* headers complete, request not yet answered */
    atomic_int_least64_t since; /* monotonic ms when it began to wait for headers */
    bool cut;               /* shut down by the watchdog */
};

struct cy_conns {
    cy_conn_limits lim;
    uint8_t hkey[crypto_shorthash_KEYBYTES];
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t watch;
    bool stop;
    struct conn *head;
    struct peer *buckets[PEER_BUCKETS];
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- addresses --------------------------------------------------------------------- */

/* sa as 16 bytes (IPv4 mapped); false for other families. */
static bool addr16(const struct sockaddr *sa, uint8_t out[16])
{
    if (!sa)
        return false;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *a4 = (const struct sockaddr_in *)sa;
        memset(out, 0, 10);
        out[10] = out[11] = 0xff;
        memcpy(out + 12, &a4->sin_addr, 4);
        return true;
    }
    if (sa->sa_family == AF_INET6) {
        memcpy(out, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
        return true;
    }
    return false;
}

static bool is_v4(const uint8_t a[16])
{
    static const uint8_t pre[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    return memcmp(a, pre, 12) == 0;
}

static bool in_block(const uint8_t a[16], const cy_netmask *m)
{
    unsigned full = m->bits / 8, rest = m->bits % 8;
    if (memcmp(a, m->a, full) != 0)
        return false;
    if (rest) {
        uint8_t mask = (uint8_t)(0xff << (8 - rest));
        if ((a[full] & mask) != (m->a[full] & mask))
            return false;
    }
    return true;
}

bool cy_allow_match(const cy_conn_limits *l, const struct sockaddr *sa)
{
    uint8_t a[16];
    if (!addr16(sa, a))
        return false;
    for (size_t i = 0; i < l->nallow; i++)
        if (in_block(a, &l->allow[i]))
            return true;
    return false;
}

/* One entry "ADDR" or "ADDR/BITS" (NUL-terminated). */
static comity_err allow_one(const char *s, cy_netmask *m, const char *where, comity_error *err)
{
    char host[64];
    const char *slash = strchr(s, '/');
    size_t hl = slash ? (size_t)(slash - s) : strlen(s);
    if (hl == 0 || hl >= sizeof host)
        return cy_fail(err, COMITY_ERR_USAGE, "%s: '%.64s' is not an address or ADDR/BITS",
                       where, s);
    memcpy(host, s, hl);
    host[hl] = 0;
    unsigned max;
    memset(m, 0, sizeof *m);
    if (inet_pton(AF_INET, host, m->a + 12) == 1) {
        m->a[10] = m->a[11] = 0xff;
        max = 32;
    } else if (inet_pton(AF_INET6, host, m->a) == 1) {
        max = 128;
    } else {
        return cy_fail(err, COMITY_ERR_USAGE, "%s: '%.64s' is not an IPv4 or IPv6 address",
                       where, host);
    }
    unsigned bits = max;
    if (slash) {
        const char *b = slash + 1;
        size_t bl = strlen(b);
        if (bl == 0 || bl > 3 || strspn(b, "0123456789") != bl ||
            (bits = (unsigned)atoi(b)) > max)
            return cy_fail(err, COMITY_ERR_USAGE, "%s: '%.64s': the prefix length must be 0-%u",
                           where, s, max);
    }
    m->bits = bits + (128 - max);
    /* no bits set past the prefix: 10.1.2.3/8 is more likely a slip */
    for (unsigned i = m->bits; i < 128; i++)
        if (m->a[i / 8] & (0x80 >> (i % 8)))
            return cy_fail(err, COMITY_ERR_USAGE,
                           "%s: '%.64s' has bits set past its /%u (did you mean the block's "
                           "first address?)",
                           where, s, bits);
    return COMITY_OK;
}

comity_err cy_allow_parse(const char *list, cy_conn_limits *l, const char *where,
                          comity_error *err)
{
    const char *p = list;
    for (;;) {
        p += strspn(p, ", \t");
        if (!*p)
            return COMITY_OK;
        size_t n = strcspn(p, ", \t");
        char one[80];
        if (n >= sizeof one)
            return cy_fail(err, COMITY_ERR_USAGE, "%s: '%.64s...' is not an address", where, p);
        memcpy(one, p, n);
        one[n] = 0;
        if (l->nallow == CY_ALLOW_MAX)
            return cy_fail(err, COMITY_ERR_USAGE,
                           "%s: more than %d allow-list entries (use CIDR blocks)", where,
                           CY_ALLOW_MAX);
        comity_err rc = allow_one(one, &l->allow[l->nallow], where, err);
        if (rc)
            return rc;
        l->nallow++;
        p += n;
    }
}

/* ---- the address table -------------------------------------------------------------- */

/* The key an address is counted under: IPv4 whole, IPv6 its /64. */
static void peer_key(const uint8_t a[16], uint8_t k[16])
{
    memcpy(k, a, 16);
    if (!is_v4(a))
        memset(k + 8, 0, 8);
}

static struct peer **peer_slot(cy_conns *g, const uint8_t k[16])
{
    uint8_t h[crypto_shorthash_BYTES];
    crypto_shorthash(h, k, 16, g->hkey);
    uint64_t v;
    memcpy(&v, h, sizeof v);
    struct peer **pp = &g->buckets[v % PEER_BUCKETS];
    while (*pp && memcmp((*pp)->a, k, 16) != 0)
        pp = &(*pp)->next;
    return pp;
}

static unsigned cap(const cy_conns *g)
{
    return g->lim.max_per_ip ? g->lim.max_per_ip : CY_PER_IP_DEFAULT;
}

bool cy_conns_admit(cy_conns *g, const struct sockaddr *sa)
{
    uint8_t a[16], k[16];
    if (!addr16(sa, a) || cy_allow_match(&g->lim, sa))
        return true;
    peer_key(a, k);
    pthread_mutex_lock(&g->mu);
    struct peer *p = *peer_slot(g, k);
    bool ok = !p || p->n < cap(g);
    pthread_mutex_unlock(&g->mu);
    return ok;
}

void cy_conns_opened(cy_conns *g, void **ctx, const struct sockaddr *sa, int fd)
{
    *ctx = NULL;
    uint8_t a[16], k[16];
    bool capped = addr16(sa, a) && !cy_allow_match(&g->lim, sa);
    struct conn *c = cy_calloc(1, sizeof *c);
    struct peer *fresh = capped ? cy_calloc(1, sizeof *fresh) : NULL;
    if (!c || (capped && !fresh)) {
        /* cannot account for it: refuse it */
        cy_free(c);
        cy_free(fresh);
        shutdown(fd, SHUT_RDWR);
        return;
    }
    c->fd = fd;
    atomic_init(&c->busy, false);
    atomic_init(&c->since, mono_ms());
    pthread_mutex_lock(&g->mu);
    if (capped) {
        peer_key(a, k);
        struct peer **pp = peer_slot(g, k);
        if (!*pp) {
            memcpy(fresh->a, k, 16);
            *pp = fresh;
            fresh = NULL;
        }
        if ((*pp)->n >= cap(g)) {
            pthread_mutex_unlock(&g->mu);
            cy_free(fresh);
            cy_free(c);
            shutdown(fd, SHUT_RDWR); /* over its share: libmicrohttpd closes it */
            return;
        }
        (*pp)->n++;
        c->peer = *pp;
    }
    c->next = g->head;
    if (g->head)
        g->head->prev = c;
    g->head = c;
    pthread_mutex_unlock(&g->mu);
    cy_free(fresh);
    *ctx = c;
}

void cy_conns_closed(cy_conns *g, void **ctx)
{
    struct conn *c = *ctx;
    if (!c)
        return;
    pthread_mutex_lock(&g->mu);
    if (c->prev)
        c->prev->next = c->next;
    else
        g->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    if (c->peer && --c->peer->n == 0) {
        struct peer **pp = peer_slot(g, c->peer->a);
        struct peer *dead = *pp;
        *pp = dead->next;
        cy_free(dead);
    }
    pthread_mutex_unlock(&g->mu);
    cy_free(c);
    *ctx = NULL;
}

void cy_conns_request_began(void *ctx)
{
    struct conn *c = ctx;
    if (c)
        atomic_store(&c->busy, true);
}

void cy_conns_request_ended(void *ctx)
{
    struct conn *c = ctx;
    if (!c)
        return;
    atomic_store(&c->since, mono_ms());
    atomic_store(&c->busy, false);
}

/* ---- the watchdog --------------------------------------------------------------------- */

static void *watch_run(void *arg)
{
    cy_conns *g = arg;
    int64_t limit = (int64_t)(g->lim.header_timeout_s ? g->lim.header_timeout_s
                                                      : CY_HEADER_TIMEOUT_DEFAULT) *
                    1000;
    pthread_mutex_lock(&g->mu);
    while (!g->stop) {
        int64_t now = mono_ms();
        for (struct conn *c = g->head; c; c = c->next) {
            if (c->cut || atomic_load(&c->busy) || now - atomic_load(&c->since) < limit)
                continue;
            /* the socket is open while c is listed (see the top) */
            shutdown(c->fd, SHUT_RDWR);
            c->cut = true;
        }
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += WATCH_TICK_MS / 1000;
        pthread_cond_timedwait(&g->cv, &g->mu, &until);
    }
    pthread_mutex_unlock(&g->mu);
    return NULL;
}

comity_err cy_conns_new(const cy_conn_limits *l, cy_conns **out, comity_error *err)
{
    *out = NULL;
    cy_conns *g = cy_calloc(1, sizeof *g);
    if (!g)
        return cy_fail(err, COMITY_ERR_NOMEM, "node: out of memory");
    g->lim = *l;
    crypto_shorthash_keygen(g->hkey);
    if (pthread_mutex_init(&g->mu, NULL) != 0) {
        cy_free(g);
        return cy_fail(err, COMITY_ERR_INTERNAL, "node: cannot create a mutex");
    }
    if (pthread_cond_init(&g->cv, NULL) != 0) {
        pthread_mutex_destroy(&g->mu);
        cy_free(g);
        return cy_fail(err, COMITY_ERR_INTERNAL, "node: cannot create a condition variable");
    }
    int e = pthread_create(&g->watch, NULL, watch_run, g);
    if (e) {
        pthread_cond_destroy(&g->cv);
        pthread_mutex_destroy(&g->mu);
        cy_free(g);
        return cy_fail(err, COMITY_ERR_INTERNAL, "node: cannot start the header watchdog: %s",
                       strerror(e));
    }
    *out = g;
    return COMITY_OK;
}

void cy_conns_free(cy_conns *g)
{
    if (!g)
        return;
    pthread_mutex_lock(&g->mu);
    g->stop = true;
    pthread_cond_signal(&g->cv);
    pthread_mutex_unlock(&g->mu);
    pthread_join(g->watch, NULL);
    /* what is left (nothing, once libmicrohttpd has stopped) */
    while (g->head) {
        struct conn *c = g->head;
        void *ctx = c;
        cy_conns_closed(g, &ctx);
    }
    pthread_cond_destroy(&g->cv);
    pthread_mutex_destroy(&g->mu);
    cy_free(g);
}
