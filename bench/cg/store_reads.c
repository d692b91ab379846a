/*
 * store_reads.c: instruction counts (callgrind) of the store operations
 * TAXII reads and record intake run, for comparing two builds of the
 * store side by side where wall-clock time is too noisy (see
 * bench/README.md, "The store under callgrind").  Compiled against each
 * build's libcomity.a; -DSTORE_FILTER selects the interface with record
 * filters and wrappers rendered by src/stix (after the store became an
 * interface of storage), without it the one before (d514d87).
 *
 * Sections, each counted alone (CALLGRIND_TOGGLE_COLLECT around it, then
 * CALLGRIND_DUMP_STATS_AT its name):
 *   fill      records_add: 2,000 records in batches of 16, each projected
 *             into one collection (the store part of record intake)
 *   objpages  200 pages of 100 stored objects with their JSON, walked by
 *             `next` from a collection of 20,000 (bench_taxii (a) at the
 *             store)
 *   wrappages 20 pages of 100 record wrappers with their JSON rendered
 *             (a TAXII inbox page)
 *   recpages  20 pages of 100 records with envelopes for a party that
 *             sees them all (GET /v1/records)
 * Run with: valgrind --tool=callgrind --collect-atstart=no ./store_reads DIR
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <valgrind/callgrind.h>

#include "store/store.h"
#ifdef STORE_FILTER
#include "record/visible.h"
#include "stix/wrapper.h"
#endif

#define NOBJ 20000
#define NREC 2000
#define BATCH 16

static void die(const char *what, comity_error *e)
{
    fprintf(stderr, "%s: %s\n", what, e->msg);
    exit(1);
}

struct pg {
    cy_buf b;
    size_t n;
    int64_t last_date, last_seq;
};

static int obj_row(const cy_obj_row *r, void *ctx)
{
    struct pg *p = ctx;
    if (p->n)
        cy_buf_puts(&p->b, ",");
#ifdef STORE_FILTER
    if (r->record) {
        const cy_record_row *rr = r->record;
        cy_stix_wrapped w = {rr->id,      rr->type,     rr->author,      rr->tlp,
                             rr->created, rr->envelope, rr->envelope_len};
        cy_stix_wrapper_append(&p->b, &w);
    } else
#endif
        cy_buf_append(&p->b, r->json, r->json_len);
    p->n++;
    p->last_date = r->date_added;
    p->last_seq = r->seq;
    return 0;
}

static int rec_row(const cy_record_row *r, void *ctx)
{
    struct pg *p = ctx;
    cy_buf_append(&p->b, r->envelope, r->envelope_len);
    p->n++;
    p->last_seq = r->seq;
    return 0;
}

/* Walks `pages` pages of 100 of collection coll; returns the rows seen. */
static size_t walk(comity_store *st, int64_t coll, int pages, const void *vis)
{
    cy_obj_query q = {.coll = coll, .limit = 100, .with_json = true};
#ifdef STORE_FILTER
    q.visible = vis;
#else
    (void)vis;
#endif
    size_t seen = 0;
    comity_error e = {0};
    for (int i = 0; i < pages; i++) {
        struct pg p = {0};
        cy_buf_init(&p.b, 1u << 24);
        bool more = false;
        if (cy_store_objects_query(st, &q, obj_row, &p, &more, &e))
            die("query", &e);
        seen += p.n;
        cy_buf_free(&p.b);
        if (!more)
            break;
        q.has_after = true;
        q.after_date = p.last_date;
        q.after_seq = p.last_seq;
    }
    return seen;
}

int main(int argc, char **argv)
{
    if (argc != 2)
        return 2;
    char path[4096];
    snprintf(path, sizeof path, "%s/store.db", argv[1]);
    comity_store *st = NULL;
    comity_error e = {0};
    if (comity_store_open(path, &st, &e))
        die("open", &e);
    int64_t colls[2];
    for (int i = 0; i < 2; i++) {
        cy_collection c;
        memset(&c, 0, sizeof c);
        snprintf(c.id, sizeof c.id, "e0000000-0000-4000-8000-00000000000%d", i);
        snprintf(c.api_root, sizeof c.api_root, "comity");
        snprintf(c.alias, sizeof c.alias, "c%d", i);
        snprintf(c.title, sizeof c.title, "c%d", i);
        snprintf(c.read, sizeof c.read, "parties");
        snprintf(c.write, sizeof c.write, "parties");
        if (cy_store_collection_add(st, &c, &e) ||
            cy_store_collection_get(st, "comity", c.id, &c, &e))
            die("collection", &e);
        colls[i] = c.n;
    }
    /* stored objects (not counted) */
    static char json[1000][400], ids[1000][64];
    cy_obj_in in[1000];
    for (int b = 0; b < NOBJ / 1000; b++) {
        for (int i = 0; i < 1000; i++) {
            long k = (long)b * 1000 + i;
            snprintf(ids[i], sizeof ids[i], "indicator--%08lx-0000-4000-8000-%012lx", k >> 16, k);
            snprintf(json[i], sizeof json[i],
                     "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"%s\","
                     "\"created\":\"2026-11-23T00:00:00.000Z\",\"modified\":"
                     "\"2026-11-23T00:00:00.000Z\",\"pattern\":\"[domain-name:value = "
                     "'d%ld.example']\",\"pattern_type\":\"stix\"}", ids[i], k);
            in[i] = (cy_obj_in){ids[i], "indicator", "2.1", "2026-11-23T00:00:00.000Z",
                                1795392000000000LL, "application/stix+json;version=2.1",
                                json[i], strlen(json[i])};
        }
        int64_t d = 1;
#if CY_STORE_SCHEMA_VERSION >= 8 /* objects_add takes an owner */
        if (cy_store_objects_add(st, colls[0], in, 1000, NULL, 0, &d, NULL, &e))
#else
        if (cy_store_objects_add(st, colls[0], in, 1000, &d, NULL, &e))
#endif
            die("objects", &e);
    }
    /* records: the store part of intake (counted) */
    static char rid[NREC][80], sid[NREC][80], env[NREC][700];
    char dig[65];
    memset(dig, 'a', 64), dig[64] = 0;
    const char *to[1] = {"in.cert-in"};
    static cy_record_in r[NREC];
    for (int i = 0; i < NREC; i++) {
        snprintf(rid[i], sizeof rid[i], "notification--0a5c9d9e-6a8e-4d4c-9d37-%012d", i);
        snprintf(sid[i], sizeof sid[i], "x-comity-record--0a5c9d9e-6a8e-4d4c-9d37-%012d", i);
        snprintf(env[i], sizeof env[i],
                 "{\"payloadType\":\"application/vnd.comity.record+json\",\"payload\":\"%0500d\","
                 "\"signatures\":[{\"keyid\":\"k\",\"sig\":\"s\"}]}", i);
        r[i] = (cy_record_in){.id = rid[i], .type = "notification", .author = "pk.mofa",
                              .tlp = "amber", .created = "2026-11-23T10:00:00.000Z",
                              .created_ms = 1795428000000, .digest = dig,
                              .log_index = (uint64_t)i, .received_us = 1,
                              .envelope = env[i], .envelope_len = strlen(env[i]), .to = to,
                              .nto = 1, .stix_id = sid[i],
                              .stix_version = "2026-11-23T10:00:00.000Z",
                              .stix_version_us = 1795428000000000LL, .ncolls = 1};
        r[i].colls[0] = colls[1];
#ifdef STORE_FILTER
        r[i].stix_spec_version = "2.1";
        r[i].stix_media_type = "application/stix+json;version=2.1";
#endif
    }
    CALLGRIND_TOGGLE_COLLECT;
    for (int i = 0; i < NREC; i += BATCH)
        if (cy_store_records_add_nosync(st, &r[i], BATCH, NULL, &e))
            die("records", &e);
    CALLGRIND_TOGGLE_COLLECT;
    CALLGRIND_DUMP_STATS_AT("fill");
    if (cy_store_records_sync(st, &e))
        die("sync", &e);

    const void *vis = NULL;
#ifdef STORE_FILTER
    cy_record_filter f;
    cy_record_visibility("in.cert-in", &f);
    vis = &f;
#endif
    walk(st, colls[0], 2, vis); /* warm the statement caches */
    walk(st, colls[1], 2, vis);
    CALLGRIND_TOGGLE_COLLECT;
    size_t a = walk(st, colls[0], 200, vis);
    CALLGRIND_TOGGLE_COLLECT;
    CALLGRIND_DUMP_STATS_AT("objpages");
    CALLGRIND_TOGGLE_COLLECT;
    size_t b = walk(st, colls[1], 20, vis);
    CALLGRIND_TOGGLE_COLLECT;
    CALLGRIND_DUMP_STATS_AT("wrappages");

    cy_record_query rq = {.limit = 100, .with_envelope = true};
#ifdef STORE_FILTER
    rq.visible = &f;
#else
    rq.viewer = "in.cert-in";
#endif
    size_t c = 0;
    CALLGRIND_TOGGLE_COLLECT;
    for (int i = 0; i < 20; i++) {
        struct pg p = {0};
        cy_buf_init(&p.b, 1u << 24);
        bool more = false;
        if (cy_store_records_query(st, &rq, rec_row, &p, &more, &e))
            die("records query", &e);
        c += p.n;
        rq.after_seq = p.last_seq;
        cy_buf_free(&p.b);
    }
    CALLGRIND_TOGGLE_COLLECT;
    CALLGRIND_DUMP_STATS_AT("recpages");
    printf("objects %zu wrappers %zu records %zu\n", a, b, c);
    comity_store_close(st);
    return a == 20000 && b == 2000 && c == 2000 ? 0 : 1;
}
