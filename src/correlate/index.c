/*
 * index.c: the correlation index (correlate.h): values, holders, and the
 * query "who else holds what this holder holds".
 *
 * Layout.  Every distinct value is one `struct val` (20 bytes) whose key
 * bytes (cy_corr_normalise's form) sit in one arena; an open-addressing
 * table of 32-bit slots (entry + 1, load at most 1/2, SipHash-2-4 of kind
 * and key under a key drawn per index, so outside input cannot aim at
 * collisions) finds it.  Postings are 8-byte links {holder, next} in one
 * array, prepended per value; each holder's own values are links {value,
 * next} in another.  So memory is a sum over values and over (holder,
 * value) occurrences, never over pairs of holders.  Once a value has more
 * than `common` holders it is common: its posting list stops growing, only
 * its count goes on, and queries never report it as shared.
 *
 * Containment.  A holder's domain is shared with a holder of a parent
 * domain (found by exact lookups of its label suffixes of two labels or
 * more) and with holders of its subdomains (a range of the domains sorted
 * by their reversed key: all keys ending in ".<domain>" are adjacent).  An
 * IP or range is shared with holders of the ranges containing it (exact
 * lookups at each prefix length present) and of the addresses and ranges
 * inside it (a range of the IPs sorted by address).  The sorted views are
 * rebuilt by cy_corr_prepare when values were added since.
 *
 * Ownership: the index owns everything it points to; cy_corr_free frees
 * it all.  No locks here: the caller serialises adds and prepare against
 * everything else (queries are read-only and may run together).
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "correlate/correlate.h"
#include "record/visible.h"
#include "stix/pattern.h"
#include "sweep/sweep.h"

#define V_EXCLUDED 1

struct val {
    uint32_t off;    /* key bytes in the arena */
    uint16_t len;
    uint8_t kind;
    uint8_t flags;
    uint32_t head;   /* first posting + 1; 0: none */
    uint32_t n;      /* holders (counted on past the cap) */
    uint32_t last;   /* the last holder that added it + 1 */
};

struct link {
    uint32_t item, next; /* next: index + 1; 0 ends */
};

struct holder {
    char *id, *kind, *author, *tlp;
    char *rule; /* a gated holder's read rule (cy_corr_holder_gated); NULL: a record's */
    char **to;
    size_t nto;
    uint32_t vhead; /* first value link + 1 */
    uint32_t nvals;
};

/* a sorted-view entry: the key and its value */
struct sv {
    const uint8_t *key;
    uint32_t len;
    uint32_t val;
};

struct cy_corr {
    size_t common;
    uint8_t hkey[crypto_shorthash_KEYBYTES];
    uint8_t *arena;
    size_t alen, acap;
    struct val *vals;
    size_t nv, vcap;
    uint32_t *slots;
    size_t smask;
    struct link *posts;
    size_t np, pcap;
    struct link *hv;
    size_t nhv, hvcap;
    struct holder *holders;
    size_t nh, hcap;
    uint32_t *hslots;
    size_t hmask;
    struct sv *doms, *ips;
    size_t ndoms, nips;
    uint64_t v4p;    /* bit p: some IPv4 value of prefix p */
    uint64_t v6p[3]; /* bits 0..128 */
    bool dirty;
    size_t nexcluded, excluded_skipped;
    cy_corr_gate gate; /* decides gated holders; NULL: nobody sees them */
};

/* ---- kinds ---------------------------------------------------------------- */

static const struct {
    const char *name, *stix;
    int sw;
} kinds[CY_CK_MAX] = {
    [CY_CK_DOMAIN] = {"domain", "domain-name:value", CY_SW_DOMAIN},
    [CY_CK_IPV4] = {"ipv4", "ipv4-addr:value", CY_SW_IPV4},
    [CY_CK_IPV6] = {"ipv6", "ipv6-addr:value", CY_SW_IPV6},
    [CY_CK_URL] = {"url", "url:value", CY_SW_URL},
    [CY_CK_EMAIL] = {"email", "email-addr:value", CY_SW_EMAIL},
    [CY_CK_MD5] = {"md5", "file:hashes.MD5", CY_SW_MD5},
    [CY_CK_SHA1] = {"sha1", "file:hashes.'SHA-1'", CY_SW_SHA1},
    [CY_CK_SHA256] = {"sha256", "file:hashes.'SHA-256'", CY_SW_SHA256},
    [CY_CK_X509_SHA1] = {"x509-sha1", "x509-certificate:hashes.'SHA-1'", CY_SW_SHA1},
    [CY_CK_X509_SHA256] = {"x509-sha256", "x509-certificate:hashes.'SHA-256'", CY_SW_SHA256},
};

int cy_corr_kind_parse(const char *name)
{
    if (!name)
        return CY_CK_NONE;
    if (!strcmp(name, "ip"))
        return CY_CK_IPV4; /* the normaliser tells v4 from v6 */
    for (int k = 1; k < CY_CK_MAX; k++)
        if (!strcmp(name, kinds[k].name) || !strcmp(name, kinds[k].stix))
            return k;
    /* other spellings of the STIX paths, as the sweep reads them */
    if (!strncmp(name, "x509-certificate:hashes.", 24)) {
        const char *a = cy_pat_hash_algo(name + 24, strlen(name + 24));
        if (a && !strcmp(a, "SHA-1"))
            return CY_CK_X509_SHA1;
        if (a && !strcmp(a, "SHA-256"))
            return CY_CK_X509_SHA256;
        return CY_CK_NONE;
    }
    switch (cy_sw_path_id(NULL, name, strlen(name))) {
    case CY_SW_DOMAIN: return CY_CK_DOMAIN;
    case CY_SW_IPV4: return CY_CK_IPV4;
    case CY_SW_IPV6: return CY_CK_IPV6;
    case CY_SW_URL: return CY_CK_URL;
    case CY_SW_EMAIL: return CY_CK_EMAIL;
    case CY_SW_MD5: return CY_CK_MD5;
    case CY_SW_SHA1: return CY_CK_SHA1;
    case CY_SW_SHA256: return CY_CK_SHA256;
    default: return CY_CK_NONE;
    }
}

const char *cy_corr_kind_name(int kind)
{
    return kind > 0 && kind < CY_CK_MAX ? kinds[kind].stix : "?";
}

comity_err cy_corr_normalise(int kind, const char *v, size_t len, uint8_t *key, size_t *klen,
                             int *kkind, comity_error *err)
{
    *klen = 0;
    *kkind = kind;
    if (kind <= CY_CK_NONE || kind >= CY_CK_MAX)
        return cy_fail(err, COMITY_ERR_USAGE, "correlate: bad kind %d", kind);
    char fp[2 * 64 + 1];
    if (kind == CY_CK_X509_SHA1 || kind == CY_CK_X509_SHA256) {
        /* fingerprints are often written AB:CD:...; the hex is the value */
        size_t n = 0;
        for (size_t i = 0; i < len; i++) {
            if (v[i] == ':')
                continue;
            if (n + 1 >= sizeof fp)
                return cy_fail(err, COMITY_ERR_INVALID,
                               "correlate: %s fingerprint too long", kinds[kind].stix);
            fp[n++] = v[i];
        }
        v = fp;
        len = n;
    }
    int path;
    comity_err rc = cy_sw_normalise(kinds[kind].sw, v, len, key, klen, &path, NULL, err);
    if (rc != COMITY_OK)
        return rc;
    if (path == CY_SW_IPV4)
        *kkind = CY_CK_IPV4;
    else if (path == CY_SW_IPV6)
        *kkind = CY_CK_IPV6;
    return COMITY_OK;
}

const char *cy_corr_key_text(int kind, const uint8_t *key, size_t klen, char *out, size_t cap)
{
    return cy_sw_key_text(kind > 0 && kind < CY_CK_MAX ? kinds[kind].sw : 0, key, klen, out,
                          cap);
}

/* ---- life ------------------------------------------------------------------ */

comity_err cy_corr_new(size_t common, cy_corr **out, comity_error *err)
{
    *out = NULL;
    if (common > CY_CORR_COMMON_MAX)
        return cy_fail(err, COMITY_ERR_USAGE,
                       "correlate: common cap %zu above the highest (%d)", common,
                       CY_CORR_COMMON_MAX);
    if (sodium_init() < 0)
        return cy_fail(err, COMITY_ERR_INTERNAL, "correlate: libsodium init failed");
    cy_corr *c = cy_calloc(1, sizeof *c);
    if (!c)
        return cy_fail(err, COMITY_ERR_NOMEM, "correlate: out of memory");
    c->common = common ? common : CY_CORR_COMMON_DEFAULT;
    crypto_shorthash_keygen(c->hkey);
    *out = c;
    return COMITY_OK;
}

void cy_corr_free(cy_corr *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->nh; i++) {
        struct holder *h = &c->holders[i];
        cy_free(h->id);
        cy_free(h->kind);
        cy_free(h->author);
        cy_free(h->tlp);
        cy_free(h->rule);
        for (size_t j = 0; j < h->nto; j++)
            cy_free(h->to[j]);
        cy_free(h->to);
    }
    cy_free(c->holders);
    cy_free(c->hslots);
    cy_free(c->arena);
    cy_free(c->vals);
    cy_free(c->slots);
    cy_free(c->posts);
    cy_free(c->hv);
    cy_free(c->doms);
    cy_free(c->ips);
    cy_free(c);
}

/* Grows an array `*p` of `cap` items of `size` to hold `need` more than
 * `n`; doubling. */
static comity_err grow(void **p, size_t *cap, size_t n, size_t need, size_t size,
                       comity_error *err)
{
    if (n + need <= *cap)
        return COMITY_OK;
    size_t nc = *cap ? *cap : 64;
    while (nc < n + need)
        nc *= 2;
    void *q = cy_realloc(*p, nc * size);
    if (!q)
        return cy_fail(err, COMITY_ERR_NOMEM, "correlate: out of memory");
    *p = q;
    *cap = nc;
    return COMITY_OK;
}

/* ---- the value table --------------------------------------------------- */

static uint64_t vhash(const cy_corr *c, int kind, const uint8_t *k, size_t len)
{
    uint8_t buf[CY_CORR_KEY_MAX + 1];
    buf[0] = (uint8_t)kind;
    memcpy(buf + 1, k, len);
    uint64_t h;
    crypto_shorthash((unsigned char *)&h, buf, len + 1, c->hkey);
    return h;
}

/* The value (kind, key) or UINT32_MAX. */
static uint32_t vfind(const cy_corr *c, int kind, const uint8_t *k, size_t len)
{
    if (!c->slots)
        return UINT32_MAX;
    for (size_t i = vhash(c, kind, k, len) & c->smask;; i = (i + 1) & c->smask) {
        uint32_t s = c->slots[i];
        if (!s)
            return UINT32_MAX;
        const struct val *v = &c->vals[s - 1];
        if (v->kind == kind && v->len == len && !memcmp(c->arena + v->off, k, len))
            return s - 1;
    }
}

static void vplace(cy_corr *c, uint32_t idx)
{
    const struct val *v = &c->vals[idx];
    size_t i = vhash(c, v->kind, c->arena + v->off, v->len) & c->smask;
    while (c->slots[i])
        i = (i + 1) & c->smask;
    c->slots[i] = idx + 1;
}

static comity_err vrehash(cy_corr *c, comity_error *err)
{
    size_t n = c->slots ? (c->smask + 1) * 2 : 1024;
    uint32_t *s = cy_calloc(n, sizeof *s);
    if (!s)
        return cy_fail(err, COMITY_ERR_NOMEM, "correlate: out of memory");
    cy_free(c->slots);
    c->slots = s;
    c->smask = n - 1;
    for (size_t i = 0; i < c->nv; i++)
        vplace(c, (uint32_t)i);
    return COMITY_OK;
}

/* The value (kind, key), made when absent.  OUT *idx. */
static comity_err vget(cy_corr *c, int kind, const uint8_t *k, size_t len, uint32_t *idx,
                       comity_error *err)
{
    uint32_t f = vfind(c, kind, k, len);
    if (f != UINT32_MAX) {
        *idx = f;
        return COMITY_OK;
    }
    if (c->nv >= CY_CORR_VALUES_MAX)
        return cy_fail(err, COMITY_ERR_TOOBIG, "correlate: more than %u values in the index",
                       CY_CORR_VALUES_MAX);
    if (c->alen + len > UINT32_MAX)
        return cy_fail(err, COMITY_ERR_TOOBIG, "correlate: value bytes past 4 GiB");
    comity_err rc;
    if ((rc = grow((void **)&c->arena, &c->acap, c->alen, len, 1, err)) ||
        (rc = grow((void **)&c->vals, &c->vcap, c->nv, 1, sizeof *c->vals, err)))
        return rc;
    if ((c->nv + 1) * 2 > (c->slots ? c->smask + 1 : 0) && (rc = vrehash(c, err)))
        return rc;
    struct val *v = &c->vals[c->nv];
    memset(v, 0, sizeof *v);
    v->off = (uint32_t)c->alen;
    v->len = (uint16_t)len;
    v->kind = (uint8_t)kind;
    memcpy(c->arena + c->alen, k, len);
    c->alen += len;
    *idx = (uint32_t)c->nv++;
    vplace(c, *idx);
    if (kind == CY_CK_IPV4)
        c->v4p |= 1ULL << k[0];
    else if (kind == CY_CK_IPV6)
        c->v6p[k[0] / 64] |= 1ULL << (k[0] % 64);
    c->dirty = true;
    return COMITY_OK;
}

comity_err cy_corr_exclude(cy_corr *c, int kind, const char *v, size_t len, comity_error *err)
{
    uint8_t key[CY_CORR_KEY_MAX];
    size_t klen;
    int kk;
    comity_err rc = cy_corr_normalise(kind, v, len, key, &klen, &kk, err);
    if (rc != COMITY_OK)
        return cy_wrap(err, "correlation exclusion list");
    if (c->nexcluded >= CY_CORR_EXCLUDE_MAX)
        return cy_fail(err, COMITY_ERR_TOOBIG,
                       "correlate: more than %d values on the exclusion list",
                       CY_CORR_EXCLUDE_MAX);
    uint32_t idx;
    if ((rc = vget(c, kk, key, klen, &idx, err)))
        return rc;
    if (!(c->vals[idx].flags & V_EXCLUDED))
        c->nexcluded++;
    c->vals[idx].flags |= V_EXCLUDED;
    return COMITY_OK;
}

/* ---- holders ------------------------------------------------------------- */

static uint64_t shash(const cy_corr *c, const char *s)
{
    uint64_t h;
    crypto_shorthash((unsigned char *)&h, (const unsigned char *)s, strlen(s), c->hkey);
    return h;
}

bool cy_corr_find_holder(const cy_corr *c, const char *id, uint32_t *h)
{
    if (!c->hslots)
        return false;
    for (size_t i = shash(c, id) & c->hmask;; i = (i + 1) & c->hmask) {
        uint32_t s = c->hslots[i];
        if (!s)
            return false;
        if (!strcmp(c->holders[s - 1].id, id)) {
            *h = s - 1;
            return true;
        }
    }
}

static comity_err hrehash(cy_corr *c, comity_error *err)
{
    size_t n = c->hslots ? (c->hmask + 1) * 2 : 256;
    uint32_t *s = cy_calloc(n, sizeof *s);
    if (!s)
        return cy_fail(err, COMITY_ERR_NOMEM, "correlate: out of memory");
    cy_free(c->hslots);
    c->hslots = s;
    c->hmask = n - 1;
    for (size_t k = 0; k < c->nh; k++) {
        size_t i = shash(c, c->holders[k].id) & c->hmask;
        while (c->hslots[i])
            i = (i + 1) & c->hmask;
        c->hslots[i] = (uint32_t)k + 1;
    }
    return COMITY_OK;
}

comity_err cy_corr_holder(cy_corr *c, const char *id, const char *kind, const char *author,
                          const char *tlp, const char *const *to, size_t nto, uint32_t *h,
                          comity_error *err)
{
    if (!id || !*id || strlen(id) > CY_CORR_ID_MAX)
        return cy_fail(err, COMITY_ERR_INVALID, "correlate: holder id empty or longer than %d",
                       CY_CORR_ID_MAX);
    if (nto > COMITY_RECORD_MAX_TO)
        return cy_fail(err, COMITY_ERR_TOOBIG, "correlate: holder %s has more than %d recipients",
                       id, COMITY_RECORD_MAX_TO);
    if (cy_corr_find_holder(c, id, h))
        return COMITY_OK;
    if (c->nh >= CY_CORR_HOLDERS_MAX)
        return cy_fail(err, COMITY_ERR_TOOBIG, "correlate: more than %u holders",
                       CY_CORR_HOLDERS_MAX);
    comity_err rc = grow((void **)&c->holders, &c->hcap, c->nh, 1, sizeof *c->holders, err);
    if (rc)
        return rc;
    struct holder *x = &c->holders[c->nh];
    memset(x, 0, sizeof *x);
    x->id = cy_strdup(id);
    x->kind = cy_strdup(kind ? kind : "");
    x->author = cy_strdup(author ? author : "");
    x->tlp = cy_strdup(tlp ? tlp : "");
    x->to = nto ? cy_calloc(nto, sizeof *x->to) : NULL;
    bool ok = x->id && x->kind && x->author && x->tlp && (!nto || x->to);
    for (size_t i = 0; ok && i < nto; i++) {
        x->to[i] = cy_strdup(to[i]);
        ok = x->to[i] != NULL;
        x->nto = i + 1;
    }
    c->nh++; /* freed with the index even when half made */
    if (!ok)
        return cy_fail(err, COMITY_ERR_NOMEM, "correlate: out of memory");
    if ((c->nh + 1) * 2 > (c->hslots ? c->hmask + 1 : 0)) {
        if ((rc = hrehash(c, err)))
            return rc;
    } else {
        size_t i = shash(c, id) & c->hmask;
        while (c->hslots[i])
            i = (i + 1) & c->hmask;
        c->hslots[i] = (uint32_t)c->nh;
    }
    *h = (uint32_t)c->nh - 1;
    return COMITY_OK;
}

void cy_corr_set_gate(cy_corr *c, cy_corr_gate gate)
{
    c->gate = gate;
}

comity_err cy_corr_holder_gated(cy_corr *c, const char *id, const char *kind, const char *owner,
                                const char *rule, uint32_t *h, comity_error *err)
{
    if (!rule || !*rule)
        return cy_fail(err, COMITY_ERR_USAGE, "correlate: holder %.*s without a read rule",
                       CY_CORR_ID_MAX, id ? id : "");
    bool known = id && cy_corr_find_holder(c, id, h);
    /* red: nobody but the rule's readers and recipients (there are none) */
    comity_err rc = cy_corr_holder(c, id, kind, owner, "red", NULL, 0, h, err);
    if (rc || known)
        return rc; /* a holder already known keeps its first description */
    struct holder *x = &c->holders[*h];
    if (!(x->rule = cy_strdup(rule)))
        return cy_fail(err, COMITY_ERR_NOMEM, "correlate: out of memory");
    return COMITY_OK;
}

comity_err cy_corr_add(cy_corr *c, uint32_t h, int kind, const char *v, size_t len, bool *added,
                       comity_error *err)
{
    if (added)
        *added = false;
    if (h >= c->nh)
        return cy_fail(err, COMITY_ERR_USAGE, "correlate: no holder %u", h);
    uint8_t key[CY_CORR_KEY_MAX];
    size_t klen;
    int kk;
    comity_err rc = cy_corr_normalise(kind, v, len, key, &klen, &kk, err);
    if (rc != COMITY_OK)
        return rc;
    struct holder *x = &c->holders[h];
    if (x->nvals >= CY_CORR_HOLDER_VALUES_MAX)
        return cy_fail(err, COMITY_ERR_TOOBIG, "correlate: holder %s has more than %d values",
                       x->id, CY_CORR_HOLDER_VALUES_MAX);
    uint32_t idx;
    if ((rc = vget(c, kk, key, klen, &idx, err)))
        return rc;
    struct val *e = &c->vals[idx];
    if (e->flags & V_EXCLUDED) {
        c->excluded_skipped++;
        return COMITY_OK;
    }
    if (e->last == h + 1)
        return COMITY_OK; /* this holder added it already */
    if ((rc = grow((void **)&c->hv, &c->hvcap, c->nhv, 1, sizeof *c->hv, err)) ||
        (rc = grow((void **)&c->posts, &c->pcap, c->np, 1, sizeof *c->posts, err)))
        return rc;
    if (c->nhv >= UINT32_MAX - 1 || c->np >= UINT32_MAX - 1)
        return cy_fail(err, COMITY_ERR_TOOBIG, "correlate: more than 2^32 postings");
    c->hv[c->nhv] = (struct link){idx, x->vhead};
    x->vhead = (uint32_t)++c->nhv;
    x->nvals++;
    e->last = h + 1;
    if (e->n < UINT32_MAX)
        e->n++;
    if (e->n <= c->common) { /* past the cap only the count goes on */
        c->posts[c->np] = (struct link){h, e->head};
        e->head = (uint32_t)++c->np;
    }
    if (added)
        *added = true;
    return COMITY_OK;
}

/* ---- sorted views ---------------------------------------------------------- */

/* keys compared from their last byte backwards (reversed domain order) */
static int revcmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    size_t n = alen < blen ? alen : blen;
    for (size_t i = 1; i <= n; i++)
        if (a[alen - i] != b[blen - i])
            return a[alen - i] < b[blen - i] ? -1 : 1;
    return alen < blen ? -1 : alen > blen;
}

static int dom_cmp(const void *x, const void *y)
{
    const struct sv *a = x, *b = y;
    return revcmp(a->key, a->len, b->key, b->len);
}

/* IPs: by family (key length), address, then prefix */
static int ip_cmp(const void *x, const void *y)
{
    const struct sv *a = x, *b = y;
    if (a->len != b->len)
        return a->len < b->len ? -1 : 1;
    int d = memcmp(a->key + 1, b->key + 1, a->len - 1);
    if (d)
        return d;
    return (a->key[0] > b->key[0]) - (a->key[0] < b->key[0]);
}

comity_err cy_corr_prepare(cy_corr *c, comity_error *err)
{
    if (!c->dirty)
        return COMITY_OK;
    size_t nd = 0, ni = 0;
    for (size_t i = 0; i < c->nv; i++) {
        if (c->vals[i].kind == CY_CK_DOMAIN)
            nd++;
        else if (c->vals[i].kind == CY_CK_IPV4 || c->vals[i].kind == CY_CK_IPV6)
            ni++;
    }
    struct sv *d = cy_malloc((nd ? nd : 1) * sizeof *d), *p = cy_malloc((ni ? ni : 1) * sizeof *p);
    if (!d || !p) {
        cy_free(d);
        cy_free(p);
        return cy_fail(err, COMITY_ERR_NOMEM, "correlate: out of memory");
    }
    nd = ni = 0;
    for (size_t i = 0; i < c->nv; i++) {
        const struct val *v = &c->vals[i];
        struct sv e = {c->arena + v->off, v->len, (uint32_t)i};
        if (v->kind == CY_CK_DOMAIN)
            d[nd++] = e;
        else if (v->kind == CY_CK_IPV4 || v->kind == CY_CK_IPV6)
            p[ni++] = e;
    }
    qsort(d, nd, sizeof *d, dom_cmp);
    qsort(p, ni, sizeof *p, ip_cmp);
    cy_free(c->doms);
    cy_free(c->ips);
    c->doms = d;
    c->ndoms = nd;
    c->ips = p;
    c->nips = ni;
    c->dirty = false;
    return COMITY_OK;
}

void cy_corr_stats_get(const cy_corr *c, cy_corr_stats *st)
{
    memset(st, 0, sizeof *st);
    st->values = c->nv;
    st->holders = c->nh;
    st->postings = c->np;
    st->excluded_skipped = c->excluded_skipped;
    for (size_t i = 0; i < c->nv; i++)
        if (c->vals[i].n > c->common)
            st->common++;
    st->bytes = c->acap + c->vcap * sizeof *c->vals +
                (c->slots ? (c->smask + 1) * sizeof *c->slots : 0) +
                c->pcap * sizeof *c->posts + c->hvcap * sizeof *c->hv +
                c->hcap * sizeof *c->holders +
                (c->hslots ? (c->hmask + 1) * sizeof *c->hslots : 0) +
                (c->ndoms + c->nips) * sizeof(struct sv);
}

/* ---- queries ------------------------------------------------------------- */

/* Calls fn for every value related by containment to the value (kind,
 * k[0..len)): itself when indexed (idx, else UINT32_MAX), the values
 * containing it, the values contained in it. */
typedef void (*rel_fn)(void *ctx, uint32_t val);

static void related(const cy_corr *c, int kind, const uint8_t *k, size_t len, uint32_t idx,
                    rel_fn fn, void *ctx)
{
    if (idx != UINT32_MAX)
        fn(ctx, idx);
    if (kind == CY_CK_DOMAIN) {
        /* parents of two labels or more */
        for (size_t i = 0; i < len; i++) {
            if (k[i] != '.')
                continue;
            const uint8_t *s = k + i + 1;
            size_t sl = len - i - 1;
            if (!sl || !memchr(s, '.', sl))
                break;
            uint32_t f = vfind(c, CY_CK_DOMAIN, s, sl);
            if (f != UINT32_MAX)
                fn(ctx, f);
        }
        /* subdomains: keys ending in "." + k, adjacent in reversed order */
        uint8_t probe[CY_CORR_KEY_MAX + 1];
        if (len + 1 > sizeof probe)
            return;
        probe[0] = '.';
        memcpy(probe + 1, k, len);
        size_t pl = len + 1, lo = 0, hi = c->ndoms;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (revcmp(c->doms[mid].key, c->doms[mid].len, probe, pl) < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        for (size_t i = lo; i < c->ndoms; i++) {
            const struct sv *e = &c->doms[i];
            if (e->len <= pl || memcmp(e->key + e->len - pl, probe, pl))
                break;
            fn(ctx, e->val);
        }
    } else if (kind == CY_CK_IPV4 || kind == CY_CK_IPV6) {
        size_t alen = len - 1;
        unsigned p = k[0];
        /* ranges containing it */
        for (unsigned q = 0; q < p; q++) {
            bool has = kind == CY_CK_IPV4 ? (c->v4p >> q) & 1 : (c->v6p[q / 64] >> (q % 64)) & 1;
            if (!has)
                continue;
            uint8_t m[17];
            m[0] = (uint8_t)q;
            for (size_t i = 0; i < alen; i++) {
                unsigned bits = (unsigned)i * 8;
                m[1 + i] = bits >= q ? 0 : q - bits < 8 ? (uint8_t)(k[1 + i] & (0xff00u >> (q - bits)))
                                                        : k[1 + i];
            }
            uint32_t f = vfind(c, kind, m, len);
            if (f != UINT32_MAX)
                fn(ctx, f);
        }
        /* addresses and ranges inside it */
        unsigned maxp = kind == CY_CK_IPV4 ? 32 : 128;
        if (p == maxp)
            return;
        struct sv probe = {k, (uint32_t)len, idx};
        size_t lo = 0, hi = c->nips;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (ip_cmp(&c->ips[mid], &probe) < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        for (size_t i = lo; i < c->nips; i++) {
            const struct sv *e = &c->ips[i];
            if (e->len != len)
                break;
            /* inside when its first p bits are the network's */
            size_t full = p / 8;
            if (memcmp(e->key + 1, k + 1, full))
                break;
            if (p % 8 && ((e->key[1 + full] ^ k[1 + full]) & (0xff00u >> (p % 8))))
                break;
            if (e->val != idx)
                fn(ctx, e->val);
        }
    }
}

struct q {
    const cy_corr *c;
    cy_record_filter f;
    const void *who;  /* the asker as the gate knows it (NULL: anonymous) */
    uint32_t self;    /* the asking holder, or UINT32_MAX */
    json_t *holders;  /* of the current value */
    bool failed;
};

static bool may_see(const struct q *q, const struct holder *h)
{
    if (h->rule)
        return q->c->gate && q->c->gate(h->rule, q->who);
    return cy_record_filter_passes(&q->f, h->tlp, h->author, (const char *const *)h->to, h->nto);
}

static json_t *val_text(const cy_corr *c, uint32_t idx)
{
    const struct val *v = &c->vals[idx];
    char t[CY_CORR_KEY_MAX + 64];
    cy_corr_key_text(v->kind, c->arena + v->off, v->len, t, sizeof t);
    return json_string(t);
}

static void add_holders(void *ctx, uint32_t m)
{
    struct q *q = ctx;
    const cy_corr *c = q->c;
    const struct val *v = &c->vals[m];
    if ((v->flags & V_EXCLUDED) || v->n > c->common)
        return; /* never shared through an excluded or a common value */
    for (uint32_t p = v->head; p; p = c->posts[p - 1].next) {
        uint32_t h = c->posts[p - 1].item;
        if (h == q->self)
            continue;
        const struct holder *x = &c->holders[h];
        if (!may_see(q, x))
            continue;
        const char *dot = strchr(x->author, '.');
        json_t *state = dot ? json_stringn(x->author, (size_t)(dot - x->author))
                            : json_string(x->author);
        json_t *o = json_pack("{s:s, s:s, s:s, s:o, s:o}", "id", x->id, "kind", x->kind,
                              "author", x->author, "state", state, "value", val_text(c, m));
        if (!o || json_array_append_new(q->holders, o))
            q->failed = true;
    }
}

static comity_err dump(json_t *j, char **json, comity_error *err)
{
    char *t = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    *json = t ? cy_strdup(t) : NULL;
    free(t);
    return *json ? COMITY_OK : cy_fail(err, COMITY_ERR_NOMEM, "correlate: out of memory");
}

/* One value of the asker: appends its entry to `shared` or `common`. */
static bool one_value(struct q *q, uint32_t idx, json_t *shared, json_t *common)
{
    const cy_corr *c = q->c;
    const struct val *v = &c->vals[idx];
    if (v->flags & V_EXCLUDED)
        return true;
    if (v->n > c->common) {
        json_t *o = json_pack("{s:s, s:o}", "type", cy_corr_kind_name(v->kind), "value",
                              val_text(c, idx));
        return o && !json_array_append_new(common, o);
    }
    q->holders = json_array();
    if (!q->holders)
        return false;
    related(c, v->kind, c->arena + v->off, v->len, idx, add_holders, q);
    if (q->failed) {
        json_decref(q->holders);
        return false;
    }
    if (!json_array_size(q->holders)) {
        json_decref(q->holders);
        return true;
    }
    json_t *o = json_pack("{s:s, s:o, s:o}", "type", cy_corr_kind_name(v->kind), "value",
                          val_text(c, idx), "holders", q->holders);
    return o && !json_array_append_new(shared, o);
}

/* The holder `id` if `viewer` may see it (else NOTFOUND, the same as for
 * an unknown id, so that the answer tells nothing of sealed holders). */
static comity_err visible_holder(const cy_corr *c, const char *id, const struct q *q,
                                 uint32_t *h, comity_error *err)
{
    if (!id || !cy_corr_find_holder(c, id, h) || !may_see(q, &c->holders[*h]))
        return cy_fail(err, COMITY_ERR_NOTFOUND, "correlate: no holder '%.*s' known here",
                       CY_CORR_ID_MAX, id ? id : "");
    return COMITY_OK;
}

comity_err cy_corr_shared(const cy_corr *c, const char *id, const char *viewer, char **json,
                          comity_error *err)
{
    return cy_corr_shared_as(c, id, viewer, NULL, json, err);
}

comity_err cy_corr_shared_as(const cy_corr *c, const char *id, const char *viewer,
                             const void *who, char **json, comity_error *err)
{
    *json = NULL;
    struct q q = {.c = c, .who = who};
    cy_record_visibility(viewer, &q.f);
    uint32_t h = 0;
    comity_err rc = visible_holder(c, id, &q, &h, err);
    if (rc)
        return rc;
    q.self = h;
    json_t *shared = json_array(), *common = json_array();
    bool ok = shared && common;
    const struct holder *x = &c->holders[h];
    for (uint32_t l = x->vhead; ok && l; l = c->hv[l - 1].next)
        ok = one_value(&q, c->hv[l - 1].item, shared, common);
    if (!ok) {
        json_decref(shared);
        json_decref(common);
        return cy_fail(err, COMITY_ERR_NOMEM, "correlate: out of memory");
    }
    json_t *o = json_pack("{s:s, s:I, s:o, s:o}", "holder", x->id, "values",
                          (json_int_t)x->nvals, "shared", shared, "common", common);
    return dump(o, json, err);
}

static comity_err lookup_as(const cy_corr *c, const int *kk, const char *const *values,
                            size_t n, const char *viewer, const void *who, char **json,
                            comity_error *err);

comity_err cy_corr_lookup(const cy_corr *c, const int *kk, const char *const *values, size_t n,
                          const char *viewer, char **json, comity_error *err)
{
    return lookup_as(c, kk, values, n, viewer, NULL, json, err);
}

static comity_err lookup_as(const cy_corr *c, const int *kk, const char *const *values,
                            size_t n, const char *viewer, const void *who, char **json,
                            comity_error *err)
{
    *json = NULL;
    if (n > CY_CORR_LOOKUP_MAX)
        return cy_fail(err, COMITY_ERR_TOOBIG, "correlate: more than %d values in one lookup",
                       CY_CORR_LOOKUP_MAX);
    struct q q = {.c = c, .self = UINT32_MAX, .who = who};
    cy_record_visibility(viewer, &q.f);
    json_t *shared = json_array(), *common = json_array(), *invalid = json_array();
    bool ok = shared && common && invalid;
    for (size_t i = 0; ok && i < n; i++) {
        uint8_t key[CY_CORR_KEY_MAX];
        size_t klen;
        int k2;
        comity_error e = {0};
        if (cy_corr_normalise(kk[i], values[i], strlen(values[i]), key, &klen, &k2, &e)) {
            json_t *o = json_pack("{s:s, s:s, s:s}", "type", cy_corr_kind_name(kk[i]), "value",
                                  values[i], "error", e.msg);
            ok = o && !json_array_append_new(invalid, o);
            continue;
        }
        uint32_t idx = vfind(c, k2, key, klen);
        if (idx != UINT32_MAX) {
            ok = one_value(&q, idx, shared, common);
            continue;
        }
        /* not held here: still related to its parents, the ranges holding
         * it, its subdomains, the addresses in it */
        q.holders = json_array();
        if (!(ok = q.holders != NULL))
            break;
        related(c, k2, key, klen, UINT32_MAX, add_holders, &q);
        if (q.failed) {
            json_decref(q.holders);
            ok = false;
            break;
        }
        if (json_array_size(q.holders)) {
            char t[CY_CORR_KEY_MAX + 64];
            cy_corr_key_text(k2, key, klen, t, sizeof t);
            json_t *o = json_pack("{s:s, s:s, s:o}", "type", cy_corr_kind_name(k2), "value", t,
                                  "holders", q.holders);
            ok = o && !json_array_append_new(shared, o);
        } else {
            json_decref(q.holders);
        }
    }
    if (!ok) {
        json_decref(shared);
        json_decref(common);
        json_decref(invalid);
        return cy_fail(err, COMITY_ERR_NOMEM, "correlate: out of memory");
    }
    return dump(json_pack("{s:o, s:o, s:o}", "shared", shared, "common", common, "invalid",
                          invalid),
                json, err);
}

comity_err cy_corr_values(const cy_corr *c, const char *id, const char *viewer, char **json,
                          comity_error *err)
{
    *json = NULL;
    struct q q = {.c = c};
    cy_record_visibility(viewer, &q.f);
    uint32_t h = 0;
    comity_err rc = visible_holder(c, id, &q, &h, err);
    if (rc)
        return rc;
    json_t *a = json_array();
    bool ok = a != NULL;
    for (uint32_t l = c->holders[h].vhead; ok && l; l = c->hv[l - 1].next) {
        uint32_t idx = c->hv[l - 1].item;
        json_t *o = json_pack("{s:s, s:o}", "type", cy_corr_kind_name(c->vals[idx].kind),
                              "value", val_text(c, idx));
        ok = o && !json_array_append_new(a, o);
    }
    if (!ok) {
        json_decref(a);
        return cy_fail(err, COMITY_ERR_NOMEM, "correlate: out of memory");
    }
    return dump(a, json, err);
}

/* The body of a lookup request, parsed, then cy_corr_lookup. */
comity_err cy_corr_lookup_body(const cy_corr *c, const char *body, size_t len,
                               const char *viewer, char **json, comity_error *err)
{
    return cy_corr_lookup_body_as(c, body, len, viewer, NULL, json, err);
}

comity_err cy_corr_lookup_body_as(const cy_corr *c, const char *body, size_t len,
                                  const char *viewer, const void *who, char **json,
                                  comity_error *err)
{
    *json = NULL;
    int *kk = NULL;
    const char **vals = NULL;
    json_error_t je;
    json_t *j = len <= CY_CORR_LOOKUP_BODY_MAX
                    ? json_loadb(body, len, JSON_REJECT_DUPLICATES, &je)
                    : NULL;
    comity_err rc = COMITY_OK;
    if (len > CY_CORR_LOOKUP_BODY_MAX) {
        rc = cy_fail(err, COMITY_ERR_TOOBIG, "lookup: body larger than %d bytes",
                     CY_CORR_LOOKUP_BODY_MAX);
        goto done;
    }
    const json_t *vs = json_object_get(j, "values");
    if (!json_is_object(j) || json_object_size(j) != 1 || !json_is_array(vs)) {
        rc = cy_fail(err, COMITY_ERR_INVALID,
                     "lookup: want {\"values\": [{\"type\": ..., \"value\": ...}, ...]}");
        goto done;
    }
    size_t n = json_array_size(vs);
    if (n > CY_CORR_LOOKUP_MAX) {
        rc = cy_fail(err, COMITY_ERR_TOOBIG, "lookup.values: more than %d values",
                     CY_CORR_LOOKUP_MAX);
        goto done;
    }
    kk = cy_calloc(n ? n : 1, sizeof *kk);
    vals = cy_calloc(n ? n : 1, sizeof *vals);
    if (!kk || !vals) {
        rc = cy_fail(err, COMITY_ERR_NOMEM, "lookup: out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        const json_t *o = json_array_get(vs, i);
        const char *t = json_string_value(json_object_get(o, "type"));
        vals[i] = json_string_value(json_object_get(o, "value"));
        kk[i] = cy_corr_kind_parse(t);
        if (!json_is_object(o) || json_object_size(o) != 2 || !vals[i] || !kk[i]) {
            rc = cy_fail(err, COMITY_ERR_INVALID,
                         "lookup.values[%zu]: want {\"type\": KIND, \"value\": STRING} with a "
                         "known kind",
                         i);
            goto done;
        }
    }
    rc = lookup_as(c, kk, vals, n, viewer, who, json, err);
done:
    cy_free(kk);
    cy_free(vals);
    json_decref(j);
    return rc;
}
