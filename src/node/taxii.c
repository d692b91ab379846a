/*
 * taxii.c: TAXII 2.1 (OASIS Standard, 10 June 2021) over the node's store.
 *
 * Endpoints (section 3.1 of the standard), under the one API root
 * /{api-root}/ (default "comity"):
 *   GET  /taxii2/                                         discovery
 *   GET  /{api-root}/                                     API root
 *   GET  /{api-root}/status/{id}[/]                       status
 *   GET  /{api-root}/collections/                         collections
 *   GET  /{api-root}/collections/{id}/                    collection
 *   GET  /{api-root}/collections/{id}/manifest/           manifest
 *   GET, POST /{api-root}/collections/{id}/objects/       objects / add
 *   GET, DELETE /{api-root}/collections/{id}/objects/{object-id}/
 *   GET  /{api-root}/collections/{id}/objects/{object-id}/versions/
 *
 * Paging: results are ordered by (date_added, seq) and `next` encodes the
 * position of the last object sent, so a page boundary inside a run of
 * objects that share one date_added neither skips nor repeats one.  The
 * token only names a position: the query and the client's rights are
 * applied afresh on every request.  Objects added by one POST share one
 * date_added, taken inside the store's write transaction so that it never
 * goes backwards (a client paging by added_after never misses a batch that
 * committed late).
 *
 * Access: a collection's read and write rules (access.c) give can_read and
 * can_write.  Without either, an anonymous client gets 401 and a logged-in
 * one 404 (the collection's existence is not revealed); with one of them
 * only, the other operation is 403.
 *
 * POST is processed synchronously: every object is checked
 * (stix/object.c), the good ones are stored in one transaction, and the
 * answer is 202 with a status resource that is already "complete" and
 * lists each refused object with its reason.  When no object of a
 * non-empty envelope can be stored (e.g. all are STIX 2.0), the answer is
 * 422 with the reasons in the error's details.  A store that cannot write
 * now (a full disk, an I/O error, a lost database server: COMITY_ERR_IO)
 * is 503 and nothing of the envelope is stored (cy_resp_store_status);
 * the client posts it again.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "node/taxii.h"
#include "record/visible.h"
#include "stix/envelope.h"
#include "stix/wrapper.h"

#define FILTER_VALUES 64        /* values in one match[] parameter */
#define RESPONSE_SOFT_CAP (16u << 20) /* stop adding objects to a page past this */
#define NEXT_MAX 40

/* Microseconds now: the real clock, or COMITY_FAKE_NOW (ms) in tests. */
static int64_t now_us(void)
{
    if (getenv("COMITY_FAKE_NOW"))
        return cy_now_ms() * 1000;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---- media types --------------------------------------------------------- */

/* Compares the media type at s (up to ';' or end) with want, ignoring case
 * and surrounding blanks; *params gets what follows the ';'. */
static bool media_is(const char *s, size_t n, const char *want, const char **params,
                     size_t *plen)
{
    while (n && (*s == ' ' || *s == '\t'))
        s++, n--;
    const char *semi = memchr(s, ';', n);
    size_t tl = semi ? (size_t)(semi - s) : n;
    while (tl && (s[tl - 1] == ' ' || s[tl - 1] == '\t'))
        tl--;
    *params = semi ? semi + 1 : s + n;
    *plen = semi ? n - (size_t)(semi - s) - 1 : 0;
    return strlen(want) == tl && strncasecmp(s, want, tl) == 0;
}

/* Value of parameter `name` in "a=b; c=d" (quotes stripped) or NULL. */
static bool param_get(const char *p, size_t n, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name);
    while (n) {
        while (n && (*p == ' ' || *p == '\t' || *p == ';'))
            p++, n--;
        const char *semi = memchr(p, ';', n);
        size_t l = semi ? (size_t)(semi - p) : n;
        if (l > nl && strncasecmp(p, name, nl) == 0 && p[nl] == '=') {
            const char *v = p + nl + 1;
            size_t vl = l - nl - 1;
            while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
                vl--;
            if (vl >= 2 && v[0] == '"' && v[vl - 1] == '"')
                v++, vl -= 2;
            if (vl >= cap)
                return false;
            memcpy(out, v, vl);
            out[vl] = 0;
            return true;
        }
        p += l;
        n -= l;
    }
    return false;
}

/* A TAXII 2.1 media type: application/taxii+json (or its deprecated alias
 * application/vnd.oasis.taxii+json) with no version or version 2.1. */
static bool taxii21(const char *s, size_t n, bool ranges)
{
    const char *p;
    size_t pl;
    char v[16];
    if (ranges && (media_is(s, n, "*/*", &p, &pl) || media_is(s, n, "application/*", &p, &pl))) {
        return !(param_get(p, pl, "q", v, sizeof v) && strtod(v, NULL) == 0);
    }
    /* the 2.1 type, or its deprecated alias (Appendix B of the standard) */
    if (!media_is(s, n, "application/taxii+json", &p, &pl) &&
        !media_is(s, n, "application/vnd.oasis.taxii+json", &p, &pl))
        return false;
    if (ranges && param_get(p, pl, "q", v, sizeof v) && strtod(v, NULL) == 0)
        return false;
    if (!param_get(p, pl, "version", v, sizeof v))
        return true;
    return strcmp(v, "2.1") == 0;
}

static bool accept_ok(const char *h)
{
    if (!h || !*h)
        return true; /* RFC 9110: no Accept means anything */
    const char *s = h;
    while (*s) {
        const char *comma = strchr(s, ',');
        size_t n = comma ? (size_t)(comma - s) : strlen(s);
        if (taxii21(s, n, true))
            return true;
        if (!comma)
            break;
        s = comma + 1;
    }
    return false;
}

/* ---- query parameters (section 3.4) ------------------------------------------ */

enum {
    P_ADDED_AFTER = 1,
    P_LIMIT = 2,
    P_NEXT = 4,
    P_ID = 8,
    P_TYPE = 16,
    P_VERSION = 32,
    P_SPEC = 64,
};

struct params {
    unsigned allowed, seen;
    cy_arena *arena;
    bool has_added_after;
    int64_t added_after;
    size_t limit;
    bool has_next;
    int64_t next_date, next_seq;
    const char *ids[FILTER_VALUES];
    size_t nids;
    const char *types[FILTER_VALUES];
    size_t ntypes;
    unsigned vflags;
    int64_t versions[FILTER_VALUES];
    size_t nversions;
    const char *specs[FILTER_VALUES];
    size_t nspec;
    bool has_spec;
    cy_record_filter visible; /* the records the caller may see (record/visible.h) */
    char msg[200];
};

static int bad(struct params *p, const char *fmt, ...) CY_PRINTF(2, 3);
static int bad(struct params *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->msg, sizeof p->msg, fmt, ap);
    va_end(ap);
    return 1;
}

/* Splits a comma list into the arena; each value must be non-empty. */
static int split_values(struct params *p, const char *key, const char *value, const char **out,
                        size_t *n)
{
    char *copy = cy_arena_strdup(p->arena, value);
    if (!copy)
        return bad(p, "out of memory reading %s", key);
    *n = 0;
    char *s = copy;
    for (;;) {
        char *comma = strchr(s, ',');
        if (comma)
            *comma = 0;
        if (!*s)
            return bad(p, "%s has an empty value", key);
        if (*n == FILTER_VALUES)
            return bad(p, "%s has too many values", key);
        out[(*n)++] = s;
        if (!comma)
            break;
        s = comma + 1;
    }
    return 0;
}

static bool next_parse(const char *s, int64_t *d, int64_t *q)
{
    if (strlen(s) > NEXT_MAX)
        return false;
    const char *dot = strchr(s, '.');
    if (!dot || dot == s || !dot[1])
        return false;
    for (const char *c = s; *c; c++)
        if (c != dot && !((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f')))
            return false;
    char *end;
    unsigned long long a = strtoull(s, &end, 16), b = strtoull(dot + 1, &end, 16);
    if (a > INT64_MAX || b > INT64_MAX)
        return false;
    *d = (int64_t)a;
    *q = (int64_t)b;
    return true;
}

static int param_one(void *ctx, const char *key, const char *value)
{
    struct params *p = ctx;
    unsigned bit;
    if (!strcmp(key, "added_after"))
        bit = P_ADDED_AFTER;
    else if (!strcmp(key, "limit"))
        bit = P_LIMIT;
    else if (!strcmp(key, "next"))
        bit = P_NEXT;
    else if (!strcmp(key, "match[id]"))
        bit = P_ID;
    else if (!strcmp(key, "match[type]"))
        bit = P_TYPE;
    else if (!strcmp(key, "match[version]"))
        bit = P_VERSION;
    else if (!strcmp(key, "match[spec_version]"))
        bit = P_SPEC;
    else if (!strncmp(key, "match[", 6))
        return bad(p, "unsupported filter %s", key);
    else
        return 0; /* unknown parameters are ignored */
    if (!(p->allowed & bit))
        return bad(p, "%s is not accepted on this endpoint", key);
    if (p->seen & bit)
        return bad(p, "%s given more than once", key);
    p->seen |= bit;
    if (!value || !*value)
        return bad(p, "%s has no value", key);
    const char *vals[FILTER_VALUES];
    size_t n = 0;
    switch (bit) {
    case P_ADDED_AFTER:
        if (cy_stix_time_parse_us(value, strlen(value), &p->added_after, NULL))
            return bad(p, "added_after is not an RFC 3339 UTC timestamp: %s", value);
        p->has_added_after = true;
        return 0;
    case P_LIMIT: {
        size_t l = strlen(value);
        if (l > 9 || strspn(value, "0123456789") != l || atol(value) <= 0)
            return bad(p, "limit must be a positive integer, got %s", value);
        p->limit = (size_t)atol(value);
        if (p->limit > CY_TAXII_PAGE_MAX)
            p->limit = CY_TAXII_PAGE_MAX;
        return 0;
    }
    case P_NEXT:
        if (!next_parse(value, &p->next_date, &p->next_seq))
            return bad(p, "next is not a token this server gave: %s", value);
        p->has_next = true;
        return 0;
    case P_ID:
        if (split_values(p, key, value, p->ids, &p->nids))
            return 1;
        for (size_t i = 0; i < p->nids; i++)
            if (!cy_stix_id_valid(p->ids[i], strlen(p->ids[i])))
                return bad(p, "match[id]: not a STIX id: %s", p->ids[i]);
        return 0;
    case P_TYPE:
        if (split_values(p, key, value, p->types, &p->ntypes))
            return 1;
        for (size_t i = 0; i < p->ntypes; i++)
            if (!cy_stix_type_valid(p->types[i], strlen(p->types[i])))
                return bad(p, "match[type]: not a STIX type: %s", p->types[i]);
        return 0;
    case P_VERSION:
        if (split_values(p, key, value, vals, &n))
            return 1;
        for (size_t i = 0; i < n; i++) {
            if (!strcmp(vals[i], "all")) {
                if (n > 1)
                    return bad(p, "match[version]: 'all' cannot be combined");
                p->vflags |= CY_V_ALL;
            } else if (!strcmp(vals[i], "last")) {
                p->vflags |= CY_V_LAST;
            } else if (!strcmp(vals[i], "first")) {
                p->vflags |= CY_V_FIRST;
            } else if (cy_stix_time_parse_us(vals[i], strlen(vals[i]),
                                             &p->versions[p->nversions], NULL) == COMITY_OK) {
                p->nversions++;
            } else {
                return bad(p, "match[version]: not last, first, all or a timestamp: %s",
                           vals[i]);
            }
        }
        return 0;
    case P_SPEC:
        if (split_values(p, key, value, p->specs, &p->nspec))
            return 1;
        for (size_t i = 0; i < p->nspec; i++)
            if (strspn(p->specs[i], "0123456789.") != strlen(p->specs[i]))
                return bad(p, "match[spec_version]: not a version: %s", p->specs[i]);
        p->has_spec = true;
        return 0;
    }
    return 0;
}

static bool parse_params(cy_req *r, cy_resp *w, unsigned allowed, struct params *p)
{
    memset(p, 0, sizeof *p);
    p->allowed = allowed;
    p->arena = &r->arena;
    p->limit = CY_TAXII_PAGE_DEFAULT;
    cy_record_visibility(r->anon ? NULL : r->who.name, &p->visible);
    if (cy_req_args(r, param_one, p)) {
        cy_resp_error(r, w, true, 400, "bad query parameter", "%s", p->msg);
        return false;
    }
    return true;
}

static void fill_query(const struct params *p, int64_t coll, cy_obj_query *q)
{
    memset(q, 0, sizeof *q);
    q->coll = coll;
    q->has_added_after = p->has_added_after;
    q->added_after = p->added_after;
    q->has_after = p->has_next;
    q->after_date = p->next_date;
    q->after_seq = p->next_seq;
    q->limit = p->limit;
    q->ids = p->ids;
    q->nids = p->nids;
    q->types = p->types;
    q->ntypes = p->ntypes;
    q->vflags = p->vflags;
    q->versions = p->versions;
    q->nversions = p->nversions;
    q->spec_versions = p->has_spec ? p->specs : NULL;
    q->nspec = p->nspec;
    q->visible = &p->visible;
}

/* ---- resources ------------------------------------------------------------------ */

static bool method(cy_req *r, cy_resp *w, const char *allow)
{
    /* allow: "GET" or "GET, POST" or "GET, DELETE"; HEAD goes with GET
     * (libmicrohttpd sends the headers of the GET answer, no body) */
    if (!strcmp(r->method, "HEAD") && !strncmp(allow, "GET", 3))
        return true;
    size_t ml = strlen(r->method);
    for (const char *s = allow; *s;) {
        size_t n = strcspn(s, ", ");
        if (n == ml && !strncmp(s, r->method, n))
            return true;
        s += n;
        s += strspn(s, ", ");
    }
    w->allow = allow;
    cy_resp_error(r, w, true, 405, "method not allowed", "%s is not allowed here (allowed: %s)",
                  r->method, allow);
    return false;
}

static void discovery(cy_req *r, cy_resp *w)
{
    if (!method(r, w, "GET"))
        return;
    char root[80];
    snprintf(root, sizeof root, "/%s/", r->node->api_root);
    json_t *v = json_pack("{s:s, s:s, s:s, s:[s]}", "title", r->node->title, "description",
                          "comity node: STIX 2.1 shared between states' cyber contacts",
                          "default", root, "api_roots", root);
    cy_resp_json(r, w, 200, CY_MEDIA_TAXII, v);
}

static void api_root(cy_req *r, cy_resp *w)
{
    if (!method(r, w, "GET"))
        return;
    json_t *v = json_pack("{s:s, s:s, s:[s], s:I}", "title", r->node->title, "description",
                          "collections by sharing level: public, community, state, inbox",
                          "versions", CY_MEDIA_TAXII, "max_content_length",
                          (json_int_t)r->node->opts.max_body);
    cy_resp_json(r, w, 200, CY_MEDIA_TAXII, v);
}

static const cy_principal *who(cy_req *r) { return r->anon ? NULL : &r->who; }

static json_t *collection_json(cy_req *r, const cy_collection *c)
{
    bool cr = cy_access_allows(c->read, who(r)), cw = cy_access_allows(c->write, who(r));
    json_t *v = json_pack("{s:s, s:s, s:s, s:b, s:b, s:[s]}", "id", c->id, "title", c->title,
                          "description", c->description, "can_read", cr, "can_write", cw,
                          "media_types", CY_MEDIA_STIX);
    if (v && c->alias[0])
        json_object_set_new(v, "alias", json_string(c->alias));
    return v;
}

struct coll_list {
    cy_req *r;
    json_t *arr;
};

static int coll_one(const cy_collection *c, void *ctx)
{
    struct coll_list *l = ctx;
    if (cy_access_allows(c->read, who(l->r)) || cy_access_allows(c->write, who(l->r)))
        json_array_append_new(l->arr, collection_json(l->r, c));
    return 0;
}

static void collections(cy_req *r, cy_resp *w)
{
    if (!method(r, w, "GET"))
        return;
    struct coll_list l = {r, json_array()};
    comity_error e = {0};
    if (!l.arr || cy_store_collection_list(r->node->store, r->node->api_root, coll_one, &l, &e)) {
        json_decref(l.arr);
        cy_resp_error(r, w, true, 500, "store error", "%s", e.msg);
        return;
    }
    json_t *v = json_object();
    if (json_array_size(l.arr))
        json_object_set_new(v, "collections", l.arr);
    else
        json_decref(l.arr);
    cy_resp_json(r, w, 200, CY_MEDIA_TAXII, v);
}

/* Loads the collection and checks access; false when an error was set. */
static bool load_collection(cy_req *r, cy_resp *w, bool need_read, bool need_write,
                            cy_collection *c)
{
    const char *id = r->segs[2];
    comity_error e = {0};
    comity_err rc = COMITY_ERR_NOTFOUND;
    if (strlen(id) < CY_UUID_BUF)
        rc = cy_store_collection_get(r->node->store, r->node->api_root, id, c, &e);
    if (rc == COMITY_ERR_NOTFOUND) {
        cy_resp_error(r, w, true, 404, "collection not found", "no collection %s", id);
        return false;
    }
    if (rc) {
        cy_resp_error(r, w, true, 500, "store error", "%s", e.msg);
        return false;
    }
    bool cr = cy_access_allows(c->read, who(r)), cw = cy_access_allows(c->write, who(r));
    if (!cr && !cw) {
        if (r->anon)
            cy_resp_error(r, w, true, 401, "authentication required",
                          "this collection is not public");
        else
            cy_resp_error(r, w, true, 404, "collection not found", "no collection %s", id);
        return false;
    }
    if ((need_read && !cr) || (need_write && !cw)) {
        if (r->anon)
            cy_resp_error(r, w, true, 401, "authentication required",
                          "this operation needs credentials");
        else
            cy_resp_error(r, w, true, 403, "forbidden", "you may not %s this collection",
                          need_read && !cr ? "read" : "write to");
        return false;
    }
    return true;
}

static void collection(cy_req *r, cy_resp *w)
{
    cy_collection c;
    if (!method(r, w, "GET") || !load_collection(r, w, false, false, &c))
        return;
    cy_resp_json(r, w, 200, CY_MEDIA_TAXII, collection_json(r, &c));
}

/* ---- pages: objects, manifest, versions ------------------------------------------- */

enum page_kind { PAGE_OBJECTS, PAGE_MANIFEST, PAGE_VERSIONS };

struct page {
    enum page_kind kind;
    cy_buf *b;
    size_t n;
    int64_t first, last, last_seq;
    bool oom;
};

static void version_text(const cy_obj_row *row, char out[CY_STIX_TIME_BUF])
{
    if (row->version)
        snprintf(out, CY_STIX_TIME_BUF, "%s", row->version);
    else
        cy_stix_time_format_us(out, row->date_added);
}

static int page_row(const cy_obj_row *row, void *ctx)
{
    struct page *pg = ctx;
    comity_err e = COMITY_OK;
    if (pg->n)
        e |= cy_buf_puts(pg->b, ",");
    char v[CY_STIX_TIME_BUF], d[CY_STIX_TIME_BUF];
    switch (pg->kind) {
    case PAGE_OBJECTS:
        if (row->record) { /* a record's wrapper, rendered from the record */
            const cy_record_row *rr = row->record;
            cy_stix_wrapped wr = {rr->id,      rr->type,    rr->author,      rr->tlp,
                                  rr->created, rr->envelope, rr->envelope_len};
            e |= cy_stix_wrapper_append(pg->b, &wr);
        } else {
            e |= cy_buf_append(pg->b, row->json, row->json_len);
        }
        break;
    case PAGE_MANIFEST:
        version_text(row, v);
        cy_stix_time_format_us(d, row->date_added);
        e |= cy_buf_printf(pg->b,
                           "{\"id\":\"%s\",\"date_added\":\"%s\",\"version\":\"%s\","
                           "\"media_type\":\"%s\"}",
                           row->id, d, v, row->media_type);
        break;
    case PAGE_VERSIONS:
        version_text(row, v);
        e |= cy_buf_printf(pg->b, "\"%s\"", v);
        break;
    }
    if (e) {
        pg->oom = true;
        return 1;
    }
    if (!pg->n)
        pg->first = row->date_added;
    pg->last = row->date_added;
    pg->last_seq = row->seq;
    pg->n++;
    return pg->b->len > RESPONSE_SOFT_CAP;
}

/* Runs the query and writes the envelope (or versions resource). */
static void page(cy_req *r, cy_resp *w, enum page_kind kind, const cy_obj_query *q)
{
    cy_buf items;
    cy_buf_init(&items, RESPONSE_SOFT_CAP * 2);
    struct page pg = {.kind = kind, .b = &items};
    bool more = false;
    comity_error e = {0};
    comity_err rc = cy_store_objects_query(r->node->store, q, page_row, &pg, &more, &e);
    if (rc || pg.oom) {
        cy_buf_free(&items);
        cy_resp_error(r, w, true, 500, "store error", "%s", rc ? e.msg : "response too large");
        return;
    }
    cy_buf *b = &w->body;
    cy_buf_reset(b);
    comity_err x = cy_buf_printf(b, "{\"more\":%s", more ? "true" : "false");
    if (more && pg.n)
        x |= cy_buf_printf(b, ",\"next\":\"%" PRIx64 ".%" PRIx64 "\"", (uint64_t)pg.last,
                           (uint64_t)pg.last_seq);
    if (pg.n) {
        x |= cy_buf_puts(b, kind == PAGE_VERSIONS ? ",\"versions\":[" : ",\"objects\":[");
        x |= cy_buf_append(b, items.data, items.len);
        x |= cy_buf_puts(b, "]");
        cy_stix_time_format_us(w->first, pg.first);
        cy_stix_time_format_us(w->last, pg.last);
    }
    x |= cy_buf_puts(b, "}");
    cy_buf_free(&items);
    if (x) {
        cy_resp_error(r, w, true, 500, "out of memory", "building the page");
        return;
    }
    if (!pg.n && !more && kind != PAGE_VERSIONS) {
        cy_buf_reset(b);
        cy_buf_puts(b, "{}"); /* the empty envelope (section 3.7) */
    }
    w->status = 200;
    w->ctype = CY_MEDIA_TAXII;
}

/* True when an object with this id exists in the collection at all. */
static bool object_exists(cy_req *r, cy_resp *w, int64_t coll, const char *id, bool *exists)
{
    const char *ids[1] = {id};
    cy_record_filter vis; /* a record the caller may not see is absent */
    cy_record_visibility(r->anon ? NULL : r->who.name, &vis);
    cy_obj_query q = {.coll = coll, .ids = ids, .nids = 1, .vflags = CY_V_ALL, .limit = 1,
                      .visible = &vis};
    struct page pg = {.kind = PAGE_VERSIONS};
    cy_buf tmp;
    cy_buf_init(&tmp, 4096);
    pg.b = &tmp;
    bool more = false;
    comity_error e = {0};
    comity_err rc = cy_store_objects_query(r->node->store, &q, page_row, &pg, &more, &e);
    cy_buf_free(&tmp);
    if (rc) {
        cy_resp_error(r, w, true, 500, "store error", "%s", e.msg);
        return false;
    }
    *exists = pg.n > 0;
    return true;
}

/* ---- add objects (section 5.5) -------------------------------------------------------- */

static bool content_type_ok(const char *h) { return h && taxii21(h, strlen(h), false); }

static void add_detail(json_t *arr, const char *id, const char *version, const char *msg)
{
    /* a refused object's id and version may be any string: cut to what a
     * STIX id and timestamp can be, so the status stays bounded */
    char idt[CY_STIX_ID_MAX + 1], vt[CY_STIX_TIME_BUF];
    cy_stix_status_text(idt, sizeof idt, id);
    cy_stix_status_text(vt, sizeof vt, version);
    json_t *d = json_pack("{s:s, s:s}", "id", idt, "version", vt);
    if (d && msg)
        json_object_set_new(d, "message", json_string(msg));
    json_array_append_new(arr, d);
}

static void add_objects(cy_req *r, cy_resp *w, const cy_collection *c)
{
    if (!content_type_ok(cy_req_header(r, "Content-Type"))) {
        cy_resp_error(r, w, true, 415, "unsupported media type",
                      "POST needs Content-Type: %s", CY_MEDIA_TAXII);
        return;
    }
    /* the envelope's caps (stix/envelope.h) before any tree is built */
    cy_stix_envelope env;
    comity_error ee = {0};
    comity_err erc = cy_stix_envelope_open(&env, (const char *)r->body, r->body_len, &ee);
    if (erc) {
        cy_stix_envelope_close(&env);
        if (erc == COMITY_ERR_TOOBIG)
            cy_resp_error(r, w, true, 413, "envelope too large", "%s", ee.msg);
        else if (erc == COMITY_ERR_INVALID && env.json_ok)
            cy_resp_error(r, w, true, 400, "not an envelope", "%s", ee.msg);
        else if (erc == COMITY_ERR_INVALID)
            cy_resp_error(r, w, true, 400, "malformed JSON", "%s", ee.msg);
        else
            cy_resp_error(r, w, true, 500, "out of memory", "%s", ee.msg);
        return;
    }
    size_t n = cy_stix_envelope_count(&env);
    cy_obj_in *in = n ? cy_arena_alloc(&r->arena, n * sizeof *in) : NULL;
    uint8_t *added = n ? cy_arena_alloc(&r->arena, n) : NULL;
    json_t **keep = n ? cy_arena_calloc(&r->arena, n * sizeof *keep) : NULL;
    json_t *successes = json_array(), *failures = json_array();
    /* every accepted object's compact JSON, one after the other */
    size_t *offs = n ? cy_arena_alloc(&r->arena, n * sizeof *offs) : NULL;
    cy_buf dump;
    cy_buf_init(&dump, SIZE_MAX / 4);
    if (n && (!in || !added || !keep || !offs || cy_buf_reserve(&dump, r->body_len + 64))) {
        cy_buf_free(&dump);
        cy_stix_envelope_close(&env);
        json_decref(successes);
        json_decref(failures);
        cy_resp_error(r, w, true, 500, "out of memory", "adding %zu objects", n);
        return;
    }
    size_t good = 0, nfail = 0;
    for (size_t i = 0; i < n && nfail <= CY_STIX_STATUS_FAILURES_MAX; i++) {
        json_t *o = cy_stix_envelope_next(&env);
        cy_stix_info info;
        comity_error e = {0};
        if (!o || cy_stix_object_check(o, &info, &e) || cy_stix_reserved(&info, &e)) {
            const json_t *jid = json_object_get(o, "id");
            const json_t *jm = json_object_get(o, "modified");
            if (!jm)
                jm = json_object_get(o, "created");
            nfail++;
            if (nfail <= CY_STIX_STATUS_FAILURES_MAX)
                add_detail(failures, json_is_string(jid) ? json_string_value(jid) : "",
                           json_is_string(jm) ? json_string_value(jm) : "",
                           o ? e.msg : "out of memory");
            json_decref(o);
            continue;
        }
        /* its compact text: the body's own bytes when they are that text
         * already (they are kept until the store has them), else written */
        size_t need = 0;
        const char *text = cy_stix_envelope_compact(&env, &need);
        if (!text) {
            size_t avail = dump.alloc - dump.len - 1;
            need = json_dumpb(o, (char *)dump.data + dump.len, avail, JSON_COMPACT);
            if (need > avail && need <= CY_STIX_OBJECT_MAX && cy_buf_reserve(&dump, need) == 0)
                need = json_dumpb(o, (char *)dump.data + dump.len, need, JSON_COMPACT);
        }
        if (need == 0 || need > CY_STIX_OBJECT_MAX ||
            (!text && need > dump.alloc - dump.len - 1)) {
            nfail++;
            if (nfail <= CY_STIX_STATUS_FAILURES_MAX)
                add_detail(failures, info.id, info.version,
                           need > CY_STIX_OBJECT_MAX ? "object larger than this node accepts"
                                                     : "out of memory");
            json_decref(o);
            continue;
        }
        keep[good] = o; /* info's strings are borrowed from it */
        offs[good] = text ? SIZE_MAX : dump.len;
        if (!text) {
            dump.len += need;
            dump.data[dump.len] = 0;
        }
        in[good] = (cy_obj_in){.id = info.id,
                               .type = info.type,
                               .spec_version = info.spec_version,
                               .version = info.version,
                               .version_us = info.version_us,
                               .media_type = CY_MEDIA_STIX,
                               .json = text,
                               .json_len = need};
        good++;
    }
    cy_stix_envelope_close(&env);
    for (size_t k = 0; k < good; k++) /* the buffer has stopped moving */
        if (offs[k] != SIZE_MAX)
            in[k].json = (const char *)dump.data + offs[k];
    /* Owners (stix/envelope.h): the objects are stored under the caller's
     * name, and the store leaves out (CY_OBJ_HELD), in the insert's own
     * transaction, those whose ids another party holds: it stores exactly
     * the objects whose ids are held by the caller or by nobody, which are
     * those cy_stix_owner_allows lets a caller that may hold ids post.  A
     * held id is refused (the message is the rule's for an id held by
     * someone else), or, for a caller that cannot read the collection,
     * answered "added" like a new one.  A caller that may hold no id
     * (anonymous) has every object refused so, without asking the store.
     * More refusals than one status lists: the store stores nothing. */
    const char *me = r->anon ? "" : r->who.name;
    bool can_read = cy_access_allows(c->read, who(r));
    comity_error oe = {0};
    bool may_hold = cy_stix_owner_allows(me, me, false, CY_STIX_POST_VERSION, &oe) == COMITY_OK;
    /* the refusal of an id held by another, in the rule's words ("" is
     * nobody's name: it never allows) */
    if (may_hold && cy_stix_owner_allows("", me, false, CY_STIX_POST_VERSION, &oe) == COMITY_OK)
        may_hold = false;
    int64_t date_added = now_us();
    comity_error e = {0};
    comity_err rc = COMITY_OK;
    bool go = good && nfail <= CY_STIX_STATUS_FAILURES_MAX;
    if (go && may_hold)
        rc = cy_store_objects_add(r->node->store, c->n, in, good, me,
                                  can_read ? CY_STIX_STATUS_FAILURES_MAX - nfail : SIZE_MAX,
                                  &date_added, added, &e);
    else if (go)
        memset(added, CY_OBJ_HELD, good);
    size_t nstored = 0, nhidden = 0; /* added or present; held, answered "added" */
    if (go && (rc == COMITY_OK || rc == COMITY_ERR_DENIED)) {
        for (size_t k = 0; k < good; k++) {
            if (added[k] != CY_OBJ_HELD)
                nstored++;
            else if (!can_read)
                nhidden++;
            else if (++nfail <= CY_STIX_STATUS_FAILURES_MAX)
                add_detail(failures, in[k].id, in[k].version, oe.msg);
        }
        rc = COMITY_OK; /* DENIED: more refused than a status lists, answered below */
    }
    if (nfail > CY_STIX_STATUS_FAILURES_MAX || (n > 0 && nstored == 0 && nhidden == 0 && !rc)) {
        /* Nothing in the envelope can be processed (e.g. all STIX 2.0), or
         * more objects are refused than one status lists: 422, nothing
         * stored, with the first reasons in the error's details. */
        json_t *first = json_array_get(failures, 0);
        char desc[400];
        if (nfail > CY_STIX_STATUS_FAILURES_MAX)
            snprintf(desc, sizeof desc,
                     "more than %u of the %zu objects are refused, nothing was stored (the "
                     "first %u are listed); first: %s",
                     CY_STIX_STATUS_FAILURES_MAX, n, CY_STIX_STATUS_FAILURES_MAX,
                     json_string_value(json_object_get(first, "message")));
        else
            snprintf(desc, sizeof desc, "none of the %zu objects can be stored; first: %s", n,
                     json_string_value(json_object_get(first, "message")));
        json_t *v = json_pack("{s:s, s:s, s:s, s:{s:o}}", "title", "unprocessable objects",
                              "description", desc, "http_status", "422", "details",
                              "failures", failures);
        for (size_t k = 0; k < good; k++)
            json_decref(keep[k]);
        json_decref(successes);
        cy_buf_free(&dump);
        cy_resp_json(r, w, 422, CY_MEDIA_TAXII, v);
        return;
    }
    char dtext[CY_STIX_TIME_BUF];
    cy_stix_time_format_us(dtext, date_added);
    for (size_t k = 0; k < good; k++) {
        const char *ver = in[k].version ? in[k].version : dtext;
        if (rc)
            add_detail(failures, in[k].id, ver, "not stored: the store failed");
        else if (added[k] != CY_OBJ_HELD)
            add_detail(successes, in[k].id, ver,
                       added[k] == CY_OBJ_ADDED ? "added" : "already present");
        else if (!can_read)
            add_detail(successes, in[k].id, ver, "added");
    }
    for (size_t k = 0; k < good; k++)
        json_decref(keep[k]);
    cy_buf_free(&dump);
    char sid[CY_UUID_BUF], now[CY_STIX_TIME_BUF];
    cy_uuid4(sid);
    cy_stix_time_format_us(now, now_us());
    size_t ns = json_array_size(successes), nf = json_array_size(failures);
    json_t *st = json_pack("{s:s, s:s, s:s, s:I, s:I, s:o, s:I, s:o, s:I, s:[]}", "id", sid,
                           "status", "complete", "request_timestamp", now, "total_count",
                           (json_int_t)(ns + nf), "success_count", (json_int_t)ns, "successes",
                           successes, "failure_count", (json_int_t)nf, "failures", failures,
                           "pending_count", (json_int_t)0, "pendings");
    char *text = st ? json_dumps(st, JSON_COMPACT) : NULL;
    comity_error se = {0};
    if (text && strlen(text) > CY_STIX_STATUS_MAX) /* the caps make this impossible */
        cy_fail(&se, COMITY_ERR_INTERNAL, "status resource over %u bytes", CY_STIX_STATUS_MAX);
    if (!text || se.code || cy_store_status_put(r->node->store, sid, r->node->api_root,
                                     r->anon ? "" : r->who.name, cy_now_ms() * 1000, text,
                                     &se)) {
        free(text);
        json_decref(st);
        /* a store that cannot write now is 503, so the client posts again
         * (objects stored before the status failed are then "already
         * present") */
        comity_err code = rc ? e.code : se.code ? se.code : COMITY_ERR_NOMEM;
        if (rc)
            cy_resp_error(r, w, true, cy_resp_store_status(code), "store error",
                          "nothing was stored: %s", e.msg);
        else
            cy_resp_error(r, w, true, cy_resp_store_status(code), "store error",
                          "the objects were stored, their status resource was not: %s",
                          se.code ? se.msg : "out of memory");
        return;
    }
    json_decref(st);
    if (rc) {
        free(text);
        cy_resp_error(r, w, true, cy_resp_store_status(e.code), "store error",
                      "nothing was stored: %s", e.msg);
        return;
    }
    /* the text just stored is the answer: serialised once */
    cy_buf_reset(&w->body);
    if (cy_buf_puts(&w->body, text)) {
        free(text);
        cy_resp_error(r, w, true, 500, "out of memory", "status resource");
        return;
    }
    free(text);
    w->status = 202;
    w->ctype = CY_MEDIA_TAXII;
}

/* ---- endpoints under a collection ------------------------------------------------------ */

static void objects(cy_req *r, cy_resp *w)
{
    cy_collection c;
    if (!method(r, w, "GET, POST"))
        return;
    bool post = !strcmp(r->method, "POST");
    if (!load_collection(r, w, !post, post, &c))
        return;
    if (post) {
        add_objects(r, w, &c);
        return;
    }
    struct params p;
    if (!parse_params(r, w, P_ADDED_AFTER | P_LIMIT | P_NEXT | P_ID | P_TYPE | P_VERSION | P_SPEC,
                      &p))
        return;
    cy_obj_query q;
    fill_query(&p, c.n, &q);
    q.with_json = true;
    page(r, w, PAGE_OBJECTS, &q);
}

static void manifest(cy_req *r, cy_resp *w)
{
    cy_collection c;
    if (!method(r, w, "GET") || !load_collection(r, w, true, false, &c))
        return;
    struct params p;
    if (!parse_params(r, w, P_ADDED_AFTER | P_LIMIT | P_NEXT | P_ID | P_TYPE | P_VERSION | P_SPEC,
                      &p))
        return;
    cy_obj_query q;
    fill_query(&p, c.n, &q);
    page(r, w, PAGE_MANIFEST, &q);
}

static void object(cy_req *r, cy_resp *w, bool versions)
{
    cy_collection c;
    const char *oid = r->segs[4];
    if (!method(r, w, versions ? "GET" : "GET, DELETE"))
        return;
    bool del = !strcmp(r->method, "DELETE");
    if (!load_collection(r, w, true, del, &c))
        return;
    if (!cy_stix_id_valid(oid, strlen(oid))) {
        cy_resp_error(r, w, true, 404, "object not found", "not a STIX id: %s", oid);
        return;
    }
    struct params p;
    unsigned allowed = del        ? (P_VERSION | P_SPEC)
                       : versions ? (P_ADDED_AFTER | P_LIMIT | P_NEXT | P_SPEC)
                                  : (P_ADDED_AFTER | P_LIMIT | P_NEXT | P_VERSION | P_SPEC);
    if (!parse_params(r, w, allowed, &p))
        return;
    bool exists = false;
    if (!object_exists(r, w, c.n, oid, &exists))
        return;
    if (!exists) {
        cy_resp_error(r, w, true, 404, "object not found", "no object %s in this collection",
                      oid);
        return;
    }
    p.ids[0] = oid;
    p.nids = 1;
    cy_obj_query q;
    fill_query(&p, c.n, &q);
    if (del) {
        /* the node's own objects, then the owner (stix/envelope.h) */
        char type[CY_STIX_ID_MAX + 1], owner[COMITY_PARTY_MAX + 1];
        cy_stix_status_text(type, sizeof type, oid);
        char *dash = strstr(type, "--");
        if (dash)
            *dash = 0;
        cy_stix_info ri = {.id = oid, .type = type};
        comity_error e = {0};
        comity_err orc = cy_stix_reserved(&ri, &e);
        if (!orc) {
            orc = cy_store_object_owner(r->node->store, c.n, oid, owner, &e);
            if (orc && orc != COMITY_ERR_NOTFOUND) {
                cy_resp_error(r, w, true, 500, "store error", "%s", e.msg);
                return;
            }
            bool op = !r->anon && !strcmp(r->who.kind, "operator");
            orc = cy_stix_owner_allows(orc ? NULL : owner, r->anon ? "" : r->who.name, op,
                                       CY_STIX_DELETE, &e);
            if (!orc && op && strcmp(owner, r->who.name))
                cy_log(CY_LOG_INFO, "taxii.operator_delete",
                       (cy_log_kv[]){CY_KV_S("operator", r->who.name), CY_KV_S("object", oid),
                                     CY_KV_S("owner", owner), CY_KV_S("collection", c.id)},
                       4, "operator %s deletes %s (posted by %s) from collection %s",
                       r->who.name, oid, owner[0] ? owner : "an unknown party", c.id);
        }
        if (orc) {
            cy_resp_error(r, w, true, 403, "forbidden", "%s", e.msg);
            return;
        }
        size_t deleted = 0;
        if (cy_store_objects_delete(r->node->store, &q, &deleted, &e)) {
            cy_resp_error(r, w, true, 500, "store error", "%s", e.msg);
            return;
        }
        if (!deleted) {
            cy_resp_error(r, w, true, 404, "object not found", "no version of %s matches", oid);
            return;
        }
        cy_resp_json(r, w, 200, CY_MEDIA_TAXII, json_object());
        return;
    }
    if (versions) {
        q.vflags = CY_V_ALL;
        q.nversions = 0;
        page(r, w, PAGE_VERSIONS, &q);
        return;
    }
    q.with_json = true;
    page(r, w, PAGE_OBJECTS, &q);
}

static void status(cy_req *r, cy_resp *w)
{
    if (!method(r, w, "GET"))
        return;
    const char *id = r->segs[2];
    char *json = NULL, owner[COMITY_PARTY_MAX + 1] = "";
    comity_error e = {0};
    comity_err rc = COMITY_ERR_NOTFOUND;
    if (cy_uuid_valid(id, strlen(id)))
        rc = cy_store_status_get(r->node->store, r->node->api_root, id, &json, owner, &e);
    bool mine = rc == COMITY_OK &&
                (r->anon ? owner[0] == 0
                         : (!strcmp(owner, r->who.name) || !strcmp(r->who.kind, "operator")));
    if (rc == COMITY_OK && !mine && r->anon) {
        cy_free(json);
        cy_resp_error(r, w, true, 401, "authentication required", "status of another client");
        return;
    }
    if (rc == COMITY_ERR_NOTFOUND || (rc == COMITY_OK && !mine)) {
        cy_free(json);
        cy_resp_error(r, w, true, 404, "status not found", "no status %s", id);
        return;
    }
    if (rc) {
        cy_resp_error(r, w, true, 500, "store error", "%s", e.msg);
        return;
    }
    cy_buf_reset(&w->body);
    if (cy_buf_puts(&w->body, json)) {
        cy_free(json);
        cy_resp_error(r, w, true, 500, "out of memory", "status");
        return;
    }
    cy_free(json);
    w->status = 200;
    w->ctype = CY_MEDIA_TAXII;
}

/* ---- dispatch ---------------------------------------------------------------------------- */

bool cy_taxii_owns(cy_req *r)
{
    return r->nseg >= 1 &&
           (!strcmp(r->segs[0], "taxii2") || !strcmp(r->segs[0], r->node->api_root));
}

void cy_taxii_handle(cy_req *r, cy_resp *w)
{
    if (!accept_ok(cy_req_header(r, "Accept"))) {
        cy_resp_error(r, w, true, 406, "not acceptable",
                      "this server speaks %s; send it in Accept", CY_MEDIA_TAXII);
        return;
    }
    char **s = r->segs;
    size_t n = r->nseg;
    if (!strcmp(s[0], "taxii2")) {
        if (n == 1)
            discovery(r, w);
        else
            cy_resp_error(r, w, true, 404, "not found", "no such TAXII endpoint");
        return;
    }
    if (n == 1)
        api_root(r, w);
    else if (n == 3 && !strcmp(s[1], "status"))
        status(r, w);
    else if (n == 2 && !strcmp(s[1], "collections"))
        collections(r, w);
    else if (n == 3 && !strcmp(s[1], "collections"))
        collection(r, w);
    else if (n == 4 && !strcmp(s[1], "collections") && !strcmp(s[3], "manifest"))
        manifest(r, w);
    else if (n == 4 && !strcmp(s[1], "collections") && !strcmp(s[3], "objects"))
        objects(r, w);
    else if (n == 5 && !strcmp(s[1], "collections") && !strcmp(s[3], "objects"))
        object(r, w, false);
    else if (n == 6 && !strcmp(s[1], "collections") && !strcmp(s[3], "objects") &&
             !strcmp(s[5], "versions"))
        object(r, w, true);
    else
        cy_resp_error(r, w, true, 404, "not found", "no such TAXII endpoint");
}
