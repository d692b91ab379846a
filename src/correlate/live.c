/*
 * live.c: the correlation index as a node runs it (correlate.h, live
 * part): one cy_corr behind a mutex, fed from the node's store.
 *
 * The node indexes what it can read: records whose body is clear (tlp
 * clear or green; a sealed body is opaque to it and is correlated by the
 * parties' clients instead, docs/correlation.md).  Rather than hook into
 * intake, the index follows the store: before each answer it reads the
 * records stored after the last one it saw (by the store's intake order,
 * `seq`), a page at a time, and adds their holders and values.  A node
 * that starts therefore builds its index on the first query, and a
 * record is correlated as soon as it is stored.
 *
 * The node also indexes the plain STIX objects posted to its TAXII
 * collections (every version), as gated holders (correlate.h): the
 * object's id, its type, its owner (who posted it) and the collection's
 * read rule, which the node's gate (src/node/access.c) applies to each
 * asker as it does to a TAXII read.  Record projections in collections
 * are records, indexed once as records.  Each collection is followed by
 * its (date_added, seq) position as a TAXII client pages it; collections
 * made later are found by listing them at each catch-up.  An object id
 * posted to two collections is one holder, under the first collection's
 * rule (a later collection's readers may then not see it: correlation
 * under-reports, never over-reports).
 *
 * Settings (node.conf, read by the node and handed over):
 *   correlation_common = N          the common cap (default 50)
 *   correlation_exclude = KIND:VALUE  one value never indexed (lines add
 *                                   up; e.g. domain:resolver.example)
 *
 * Lock: one mutex, taken by every call for its whole length (catching up
 * then answering); answers are a few milliseconds (bench_correlate).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "correlate/correlate.h"
#include "record/visible.h"
#include "store/records.h"
#include "store/store.h"

#define LIVE_PAGE 256
#define LIVE_COLLS_MAX 4096 /* collections followed (more are not indexed, and said so) */

struct coll_pos {
    int64_t n, after_date, after_seq;
    char read[CY_ACCESS_MAX];
};

struct cy_corr_live {
    pthread_mutex_t mu;
    comity_store *st;
    cy_corr *c;
    int64_t seq;
    cy_blind_rounds *blind;
    char api_root[64];
    struct coll_pos *colls;
    size_t ncolls;
    bool warned;
};

static comity_err conf_line(void *ctx, const char *key, const char *val, const char *where,
                            comity_error *err)
{
    cy_corr_conf *cf = ctx;
    if (!strcmp(key, "correlation_common")) {
        char *end = NULL;
        unsigned long v = strtoul(val, &end, 10);
        if (end == val || *end || val[0] == '-' || v < 1 || v > CY_CORR_COMMON_MAX)
            return cy_fail(err, COMITY_ERR_USAGE,
                           "%s: correlation_common '%.64s' is not a count of 1-%d", where, val,
                           CY_CORR_COMMON_MAX);
        cf->common = v;
    } else if (!strcmp(key, "correlation_exclude")) {
        const char *colon = strchr(val, ':');
        char kind[32];
        if (!colon || (size_t)(colon - val) >= sizeof kind)
            return cy_fail(err, COMITY_ERR_USAGE,
                           "%s: correlation_exclude '%.64s' is not KIND:VALUE (like "
                           "domain:resolver.example)",
                           where, val);
        memcpy(kind, val, (size_t)(colon - val));
        kind[colon - val] = 0;
        int k = cy_corr_kind_parse(kind);
        if (k == CY_CK_NONE)
            return cy_fail(err, COMITY_ERR_USAGE,
                           "%s: correlation_exclude kind '%s' is none of domain, ip, url, email, "
                           "md5, sha1, sha256, x509-sha1, x509-sha256",
                           where, kind);
        if (cf->nexclude >= CY_CORR_EXCLUDE_MAX)
            return cy_fail(err, COMITY_ERR_TOOBIG,
                           "%s: more than %d correlation_exclude lines", where,
                           CY_CORR_EXCLUDE_MAX);
        char *v = cy_strdup(colon + 1);
        if (!v)
            return cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
        cf->exclude[cf->nexclude].kind = k;
        cf->exclude[cf->nexclude++].value = v;
    }
    return COMITY_OK; /* other names belong to other parts of the node */
}

comity_err cy_corr_conf_parse(const char *text, size_t len, cy_corr_conf *conf,
                              comity_error *err)
{
    return comity_conf_parse("node.conf", text, len, conf_line, conf, err);
}

void cy_corr_conf_free(cy_corr_conf *conf)
{
    for (size_t i = 0; i < conf->nexclude; i++)
        cy_free(conf->exclude[i].value);
    conf->nexclude = 0;
}

comity_err cy_corr_live_open(comity_store *st, const cy_corr_conf *conf, const char *api_root,
                             cy_corr_gate gate, cy_corr_live **out, comity_error *err)
{
    *out = NULL;
    cy_corr_live *l = cy_calloc(1, sizeof *l);
    if (!l)
        return cy_fail(err, COMITY_ERR_NOMEM, "correlate: out of memory");
    l->st = st;
    snprintf(l->api_root, sizeof l->api_root, "%s", api_root ? api_root : "");
    comity_err rc = cy_corr_new(conf ? conf->common : 0, &l->c, err);
    if (!rc)
        cy_corr_set_gate(l->c, gate);
    for (size_t i = 0; !rc && conf && i < conf->nexclude; i++)
        rc = cy_corr_exclude(l->c, conf->exclude[i].kind, conf->exclude[i].value,
                             strlen(conf->exclude[i].value), err);
    if (!rc)
        rc = cy_blind_rounds_new(&l->blind, err);
    if (!rc) /* the rounds a previous run kept */
        rc = cy_blind_rounds_persist(l->blind, st, err);
    if (rc) {
        cy_blind_rounds_free(l->blind);
        cy_corr_free(l->c);
        cy_free(l);
        return rc;
    }
    pthread_mutex_init(&l->mu, NULL);
    *out = l;
    return COMITY_OK;
}

void cy_corr_live_free(cy_corr_live *l)
{
    if (!l)
        return;
    cy_corr_free(l->c);
    cy_blind_rounds_free(l->blind);
    cy_free(l->colls);
    pthread_mutex_destroy(&l->mu);
    cy_free(l);
}

cy_blind_rounds *cy_corr_live_blind(cy_corr_live *l)
{
    return l->blind;
}

struct page {
    cy_corr_live *l;
    int64_t last;
    size_t n;
    comity_err rc;
    comity_error *err;
};

/* One stored record: its holder and the values of its clear body. */
static int one_row(const cy_record_row *row, void *ctx)
{
    struct page *p = ctx;
    p->last = row->seq;
    p->n++;
    comity_record *rec = NULL;
    comity_error e = {0};
    if (!row->envelope || comity_record_parse(row->envelope, row->envelope_len, &rec, &e))
        return 0; /* stored records parsed at intake; nothing to index here */
    const char *body = comity_record_body(rec);
    json_t *j = body ? json_loads(body, 0, NULL) : NULL;
    if (j) {
        size_t nto = comity_record_to_count(rec);
        const char *to[COMITY_RECORD_MAX_TO];
        for (size_t i = 0; i < nto && i < COMITY_RECORD_MAX_TO; i++)
            to[i] = comity_record_to(rec, i);
        uint32_t h;
        comity_err rc = cy_corr_holder(p->l->c, row->id, row->type, row->author, row->tlp, to,
                                       nto, &h, &e);
        if (!rc)
            rc = cy_corr_add_json(p->l->c, h, j, NULL, &e);
        if (rc == COMITY_ERR_NOMEM) {
            p->rc = rc;
            if (p->err)
                *p->err = e;
        } else if (rc) { /* a cap: the record is indexed in part, and said so */
            cy_log(CY_LOG_WARN, "correlation.partial", (cy_log_kv[]){CY_KV_S("record", row->id)},
                   1, "correlation: record %s indexed in part: %s", row->id, e.msg);
        }
        json_decref(j);
    }
    comity_record_free(rec);
    return p->rc ? 1 : 0;
}

/* ---- plain TAXII objects ---------------------------------------------------- */

/* A collection of the API root: followed from its start when new. */
static int coll_one(const cy_collection *col, void *ctx)
{
    cy_corr_live *l = ctx;
    for (size_t i = 0; i < l->ncolls; i++)
        if (l->colls[i].n == col->n)
            return 0;
    if (l->ncolls >= LIVE_COLLS_MAX) {
        if (!l->warned)
            fprintf(stderr, "correlation: more than %d collections; collection %s not indexed\n",
                    LIVE_COLLS_MAX, col->id);
        l->warned = true;
        return 0;
    }
    struct coll_pos *g = cy_realloc(l->colls, (l->ncolls + 1) * sizeof *g);
    if (!g)
        return 1;
    l->colls = g;
    memset(&g[l->ncolls], 0, sizeof *g);
    g[l->ncolls].n = col->n;
    snprintf(g[l->ncolls].read, sizeof g[l->ncolls].read, "%s", col->read);
    l->ncolls++;
    return 0;
}

struct obj_copy {
    char *id, *type, *json;
};

struct obj_page {
    struct coll_pos *pos;
    struct obj_copy rows[LIVE_PAGE];
    size_t n, seen;
};

/* One row of a collection: its position, and a copy of a plain object
 * (the store may not be called from here). */
static int obj_row(const cy_obj_row *row, void *ctx)
{
    struct obj_page *p = ctx;
    p->pos->after_date = row->date_added;
    p->pos->after_seq = row->seq;
    p->seen++;
    if (row->record || !row->json || p->n >= LIVE_PAGE)
        return 0; /* a record's projection: indexed as the record */
    struct obj_copy *o = &p->rows[p->n];
    o->id = cy_strdup(row->id);
    o->type = cy_strdup(row->type);
    o->json = cy_malloc(row->json_len + 1);
    if (o->json) {
        memcpy(o->json, row->json, row->json_len);
        o->json[row->json_len] = 0;
    }
    p->n++;
    return 0;
}

/* The objects of one collection since its last position. */
static comity_err coll_catch_up(cy_corr_live *l, struct coll_pos *pos, comity_error *err)
{
    for (;;) {
        struct obj_page *p = cy_calloc(1, sizeof *p);
        if (!p)
            return cy_fail(err, COMITY_ERR_NOMEM, "correlate: out of memory");
        p->pos = pos;
        cy_obj_query q = {.coll = pos->n, .has_after = pos->after_date || pos->after_seq,
                          .after_date = pos->after_date, .after_seq = pos->after_seq,
                          .limit = LIVE_PAGE, .vflags = CY_V_ALL, .with_json = true};
        bool more = false;
        comity_err rc = cy_store_objects_query(l->st, &q, obj_row, p, &more, err);
        for (size_t i = 0; i < p->n; i++) {
            struct obj_copy *o = &p->rows[i];
            json_t *j = !rc && o->json ? json_loads(o->json, 0, NULL) : NULL;
            char owner[COMITY_PARTY_MAX + 1] = "";
            uint32_t h;
            comity_error e = {0};
            if (j && cy_store_object_owner(l->st, pos->n, o->id, owner, NULL))
                owner[0] = 0; /* the node's own object, or posted before owners were kept */
            comity_err r2 = !j ? COMITY_OK
                                : cy_corr_holder_gated(l->c, o->id, o->type, owner, pos->read,
                                                       &h, &e);
            if (j && !r2)
                r2 = cy_corr_add_json(l->c, h, j, NULL, &e);
            if (r2 == COMITY_ERR_NOMEM && !rc)
                rc = cy_fail(err, r2, "%s", e.msg);
            else if (r2)
                fprintf(stderr, "correlation: object %s indexed in part: %s\n", o->id, e.msg);
            json_decref(j);
            cy_free(o->id);
            cy_free(o->type);
            cy_free(o->json);
        }
        size_t seen = p->seen;
        cy_free(p);
        if (rc)
            return rc;
        if (!more || !seen)
            return COMITY_OK;
    }
}

/* Reads the records stored since the last call (under the lock). */
static comity_err catch_up(cy_corr_live *l, comity_error *err)
{
    /* what the node itself can read: the records any authenticated
     * principal sees (the rule's clear and green), of which only clear
     * bodies are used; the reader's name is none a party can have */
    cy_record_filter f;
    cy_record_visibility("-", &f);
    for (;;) {
        struct page p = {.l = l, .last = l->seq, .err = err};
        cy_record_query q = {.after_seq = l->seq, .limit = LIVE_PAGE, .visible = &f,
                             .with_envelope = true};
        bool more = false;
        comity_err rc = cy_store_records_query(l->st, &q, one_row, &p, &more, err);
        if (!rc)
            rc = p.rc;
        l->seq = p.last;
        if (rc)
            return rc;
        if (!more || !p.n)
            break;
    }
    if (l->api_root[0]) {
        comity_err rc = cy_store_collection_list(l->st, l->api_root, coll_one, l, err);
        for (size_t i = 0; !rc && i < l->ncolls; i++)
            rc = coll_catch_up(l, &l->colls[i], err);
        if (rc)
            return rc;
    }
    return cy_corr_prepare(l->c, err);
}

comity_err cy_corr_live_shared(cy_corr_live *l, const char *id, const char *viewer,
                               const void *who, char **json, comity_error *err)
{
    pthread_mutex_lock(&l->mu);
    comity_err rc = catch_up(l, err);
    if (!rc)
        rc = cy_corr_shared_as(l->c, id, viewer, who, json, err);
    pthread_mutex_unlock(&l->mu);
    return rc;
}

comity_err cy_corr_live_lookup(cy_corr_live *l, const char *body, size_t len,
                               const char *viewer, const void *who, char **json,
                               comity_error *err)
{
    *json = NULL;
    pthread_mutex_lock(&l->mu);
    comity_err rc = catch_up(l, err);
    if (!rc)
        rc = cy_corr_lookup_body_as(l->c, body, len, viewer, who, json, err);
    pthread_mutex_unlock(&l->mu);
    return rc;
}
