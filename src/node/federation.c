/*
 * federation.c: the origin's side of federation (docs/federation.md,
 * section 5): a TAXII 2.1 API root for peer nodes, /federation/, with one
 * collection whose objects are the records the calling peer may see, in
 * this node's log order, each with its receipt.
 *
 *   GET /federation/                                  API root
 *   GET /federation/collections/                      the one collection
 *   GET /federation/collections/{id}/                 it
 *   GET /federation/collections/{id}/objects/?limit=&next=
 *   GET /federation/consistency/{old}/{size}          RFC 6962 proof lines
 *   GET /federation/equivocations                     split views kept here
 *   GET /federation/root/{size}                       this log's hash of its first size leaves
 *   GET /federation/checkpoints                       the latest checkpoint of each log known here
 *   POST /federation/hint?origin=O&size=N             a push hint: pull O now
 *   GET /federation/files/?next=&limit=               sealed files the peer may fetch
 *   GET /federation/files/{sha256}                    one of them, its bytes
 *   GET /federation/cosigned/?from=I&to=J&size=P      the first cosigned checkpoints
 *                                                     covering log indices I..J
 *
 * root, consistency and checkpoints are open to anyone: they say nothing
 * the log's public tiles (GET /log/...) and its peers' do not say.  The
 * rest only a peer may read (a principal of kind "peer", logged in by the
 * node's one login mechanism, session.c, with its node key, and still in
 * the store's peers): anonymous 401, anyone else 403.  What it may see is
 * src/record's rule (cy_record_peer_visibility) over the parties the
 * operator homed at it; the store evaluates it inside its query.
 *
 * A page: the latest checkpoint is read once; the records with
 * cursor <= log index < min(checkpoint size, stored frontier) that the
 * peer may see, in log order, at most `limit`; each rendered as its
 * x-comity-record wrapper (src/stix) plus "x_comity_log_index" and
 * "x_comity_receipt" (a tlog-proof against that one checkpoint).  `next`
 * is the log index the next page starts at, given on every page (with
 * more = false it is where the scan ended: the puller stores it and never
 * scans those entries again).  date_added is the record's commit time
 * (intake stamps it in log order, never decreasing); a page also never
 * lets it step back, for records stored before the stamp was monotone.
 *
 * Files (docs/federation.md, section 6, "Sealed files"): the listing walks
 * the file store's attach journal (src/files/, "HASH SIZE RECORD" lines in
 * the order files were attached) from the byte offset `next`, and keeps
 * each attachment whose record the calling peer may fetch files of
 * (src/record's cy_record_peer_file_visible: the record is this node's and
 * one of its recipients is homed at the peer) and whose ref the store
 * still holds; `next` is the offset past the lines read.  A fetch answers
 * the age file's bytes (from its descriptor, as /v1/files; one range of
 * them for a "Range: bytes=" request, 206, or 416 past the end) when one of the
 * records it is attached to passes the same rule, else 404, the answer a
 * hash not held gets: no oracle.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "files/files.h"
#include "node/federation.h"
#include "record/visible.h"
#include "stix/wrapper.h"
#include "tlog/tlog.h"

#define FED_ROOT "federation"
#define FED_ALIAS "federation"

/* ---- who is asking --------------------------------------------------------- */

/* The calling peer's origin (from its principal "peer:<origin>"), or NULL
 * after answering 401 / 403. */
static const char *caller_peer(cy_req *r, cy_resp *w, cy_peer *p)
{
    if (r->anon) {
        cy_resp_error(r, w, true, 401, "unauthorized",
                      "log in with the node key of a peer (docs/federation.md)");
        return NULL;
    }
    const char *name = r->who.name;
    if (strcmp(r->who.kind, "peer") != 0 || strncmp(name, CY_PEER_PREFIX, 5) != 0 ||
        cy_store_peer_get(r->node->store, name + 5, p, NULL) != COMITY_OK) {
        cy_resp_error(r, w, true, 403, "forbidden", "only peer nodes read the federation");
        return NULL;
    }
    return p->origin;
}

/* ---- resources -------------------------------------------------------------- */

static void collection_id(cy_req *r, char id[CY_UUID_BUF])
{
    cy_collection_id(r->node->origin, FED_ALIAS, id);
}

static json_t *collection_json(cy_req *r)
{
    char id[CY_UUID_BUF];
    collection_id(r, id);
    return json_pack("{s:s, s:s, s:s, s:b, s:b, s:[s]}", "id", id, "title",
                     "Records for peer nodes", "description",
                     "the records of this origin the calling peer may see, in log order, "
                     "each with its receipt; next is a log index",
                     "can_read", 1, "can_write", 0, "media_types", CY_STIX_WRAPPER_MEDIA);
}

/* Appends s as a JSON string. */
static comity_err json_str(cy_buf *b, const char *s, size_t n)
{
    /* A receipt a record (~1 KB, a '\n' every line): written in place
     * when the buffer has room for the worst case (every byte \u00XX);
     * otherwise a piece at a time, the same bytes. */
    static const char hex[] = "0123456789abcdef";
    if (n <= (SIZE_MAX - 2) / 6 && cy_buf_reserve(b, 6 * n + 2) == COMITY_OK) {
        char *o = (char *)b->data + b->len;
        *o++ = '"';
        for (size_t i = 0; i < n; i++) {
            unsigned char c = (unsigned char)s[i];
            if (c >= 0x20 && c != '"' && c != '\\') {
                *o++ = (char)c;
                continue;
            }
            *o++ = '\\';
            if (c == '\n') {
                *o++ = 'n';
            } else if (c == '"' || c == '\\') {
                *o++ = (char)c;
            } else {
                memcpy(o, "u00", 3);
                o[3] = hex[c >> 4];
                o[4] = hex[c & 15];
                o += 5;
            }
        }
        *o++ = '"';
        b->len = (size_t)(o - (char *)b->data);
        b->data[b->len] = 0;
        return COMITY_OK;
    }
    comity_err e = cy_buf_puts(b, "\"");
    size_t run = 0;
    for (size_t i = 0; i < n && !e; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        e |= cy_buf_append(b, s + run, i - run);
        run = i + 1;
        if (c == '\n')
            e |= cy_buf_puts(b, "\\n");
        else if (c == '"' || c == '\\')
            e |= cy_buf_printf(b, "\\%c", c);
        else
            e |= cy_buf_printf(b, "\\u%04x", c);
    }
    e |= cy_buf_append(b, s + run, n - run);
    return e | cy_buf_puts(b, "\"");
}

struct page {
    cy_req *r;
    cy_buf *b;
    const char *note; /* the checkpoint every receipt is against */
    size_t note_len;
    uint64_t size;
    size_t n;
    uint64_t last_index;
    int64_t first, last; /* date_added of the first / last object */
    bool full;           /* stopped at the byte cap before the row in hand */
    uint64_t stopped_at;
    comity_err rc;
    comity_error e;
};

static int page_row(const cy_record_row *row, void *ctx)
{
    struct page *pg = ctx;
    if (pg->n > 0 && pg->b->len >= CY_FED_PAGE_BYTES) {
        pg->full = true;
        pg->stopped_at = row->log_index;
        return 1;
    }
    uint8_t *hashes = NULL;
    size_t nh = 0;
    char *proof = NULL;
    size_t plen = 0;
    comity_err rc = comity_log_inclusion(pg->r->node->log, row->log_index, pg->size, &hashes, &nh,
                                         &pg->e);
    if (!rc)
        rc = cy_tlog_proof_format(row->log_index, (const uint8_t(*)[CY_HASH])hashes, nh, pg->note,
                                  pg->note_len, &proof, &plen, &pg->e);
    cy_free(hashes);
    cy_stix_wrapped wr = {row->id, row->type, row->author, row->tlp, row->created,
                          row->envelope, row->envelope_len};
    size_t mark = pg->b->len;
    if (!rc && pg->n)
        rc = cy_buf_puts(pg->b, ",");
    if (!rc)
        rc = cy_stix_wrapper_append(pg->b, &wr);
    if (!rc && pg->b->len > mark && pg->b->data[pg->b->len - 1] == '}') {
        pg->b->len--; /* the wrapper's closing brace: the two properties go in */
        rc = cy_buf_printf(pg->b, ",\"x_comity_log_index\":%" PRIu64 ",\"x_comity_receipt\":",
                           row->log_index);
        if (!rc)
            rc = json_str(pg->b, proof, plen);
        if (!rc)
            rc = cy_buf_puts(pg->b, "}");
    } else if (!rc) {
        rc = cy_fail(&pg->e, COMITY_ERR_INTERNAL, "federation: a wrapper without its brace");
    }
    cy_free(proof);
    if (rc) {
        pg->rc = rc;
        return 1;
    }
    int64_t d = row->received_us > pg->last ? row->received_us : pg->last;
    if (!pg->n)
        pg->first = d;
    pg->last = d;
    pg->last_index = row->log_index;
    pg->n++;
    return 0;
}

struct names {
    const char *v[CY_PEER_FILTER_MAX];
    char buf[CY_PEER_FILTER_MAX][COMITY_PARTY_MAX + 1];
    size_t n;
    bool over;
};

static int name_cb(const char *name, void *ctx)
{
    struct names *ns = ctx;
    if (ns->n == CY_PEER_FILTER_MAX) {
        ns->over = true;
        return 1;
    }
    snprintf(ns->buf[ns->n], sizeof ns->buf[0], "%s", name);
    ns->v[ns->n] = ns->buf[ns->n];
    ns->n++;
    return 0;
}

struct params {
    size_t limit;
    uint64_t from;
    unsigned seen; /* 1: limit, 2: next */
    char msg[160];
};

static int param_one(void *ctx, const char *key, const char *value)
{
    struct params *p = ctx;
    unsigned bit = !strcmp(key, "limit") ? 1 : !strcmp(key, "next") ? 2 : 0;
    uint64_t v;
    if (!bit) {
        snprintf(p->msg, sizeof p->msg, "%.40s: this collection pages by log position only "
                 "(limit, next)", key);
        return 1;
    }
    if (p->seen & bit) {
        snprintf(p->msg, sizeof p->msg, "%s given twice", key);
        return 1;
    }
    p->seen |= bit;
    if (!value || !cy_parse_u64(value, strlen(value), &v) || (bit == 1 && v == 0)) {
        snprintf(p->msg, sizeof p->msg, "%s: want %s", key,
                 bit == 1 ? "a positive integer" : "a log index");
        return 1;
    }
    if (bit == 1)
        p->limit = v < CY_FED_PAGE_MAX ? (size_t)v : CY_FED_PAGE_MAX;
    else
        p->from = v;
    return 0;
}

/* Reads limit and next; false after answering 400. */
static bool page_params(cy_req *r, cy_resp *w, size_t *limit, uint64_t *from)
{
    struct params p = {.limit = CY_FED_PAGE_MAX};
    if (cy_req_args(r, param_one, &p)) {
        cy_resp_error(r, w, true, 400, "bad request", "%s", p.msg);
        return false;
    }
    *limit = p.limit;
    *from = p.from;
    return true;
}

/* GET .../objects/ */
static void objects(cy_req *r, cy_resp *w, const char *peer)
{
    size_t limit;
    uint64_t from;
    if (!page_params(r, w, &limit, &from))
        return;
    comity_node *node = r->node;
    comity_error e = {0};
    char *note = NULL;
    size_t note_len = 0;
    uint64_t size = 0, last = 0;
    int64_t recv = 0;
    bool any = false;
    struct names *ns = cy_calloc(1, sizeof *ns);
    cy_peer_view *view = cy_calloc(1, sizeof *view);
    if (!ns || !view) {
        cy_resp_error(r, w, true, 500, "out of memory", "federation page");
        goto out;
    }
    if (!node->log ||
        comity_log_read_checkpoint(node->log, &note, &note_len, &size, NULL, &e) != COMITY_OK ||
        cy_store_records_last(node->store, &last, &recv, &any, &e) != COMITY_OK ||
        cy_store_home_list(node->store, peer, name_cb, ns, &e) != COMITY_OK) {
        cy_resp_error(r, w, true, 503, "not ready", "%s", e.msg[0] ? e.msg : "no log open");
        goto out;
    }
    if (ns->over ||
        cy_record_peer_visibility(ns->v, ns->n, view, &e) != COMITY_OK) {
        cy_resp_error(r, w, true, 500, "peer filter", "%s",
                      ns->over ? "too many parties homed at this peer" : e.msg);
        goto out;
    }
    /* only entries a checkpoint covers and whose rows are committed: a
     * row committed means every row below it that will ever be is */
    uint64_t to = any && last + 1 < size ? last + 1 : size;
    if (!any)
        to = 0;
    cy_buf *b = &w->body;
    cy_buf_reset(b);
    struct page pg = {.r = r, .b = b, .note = note, .note_len = note_len, .size = size};
    comity_err rc = cy_buf_puts(b, "{\"objects\":[");
    bool more = false;
    cy_fed_query q = {.from = from, .to = to, .limit = limit, .visible = &view->f};
    if (!rc && from < to)
        rc = cy_store_fed_page(node->store, &q, page_row, &pg, &more, &e);
    if (!rc && pg.rc) {
        rc = pg.rc;
        e = pg.e;
    }
    if (rc) {
        cy_resp_error(r, w, true, 500, "federation page", "%s", e.msg);
        goto out;
    }
    uint64_t next = pg.full ? pg.stopped_at : more ? pg.last_index + 1 : to > from ? to : from;
    rc = cy_buf_printf(b, "],\"more\":%s,\"next\":\"%" PRIu64 "\"}", more ? "true" : "false",
                       next);
    if (rc) {
        cy_resp_error(r, w, true, 500, "out of memory", "federation page");
        goto out;
    }
    w->status = 200;
    w->ctype = CY_MEDIA_TAXII;
    if (pg.n) {
        cy_stix_time_format_us(w->first, pg.first);
        cy_stix_time_format_us(w->last, pg.last);
    }
out:
    comity_free(note);
    cy_free(ns);
    cy_free(view);
}

/* GET /federation/consistency/{old}/{size}: one base64 hash a line. */
static void consistency(cy_req *r, cy_resp *w)
{
    uint64_t old, size;
    if (!cy_parse_u64(r->segs[2], strlen(r->segs[2]), &old) ||
        !cy_parse_u64(r->segs[3], strlen(r->segs[3]), &size) || old > size) {
        cy_resp_error(r, w, true, 400, "bad request", "want /federation/consistency/OLD/SIZE");
        return;
    }
    uint8_t *h = NULL;
    size_t n = 0;
    comity_error e = {0};
    if (!r->node->log || comity_log_consistency(r->node->log, old, size, &h, &n, &e)) {
        cy_resp_error(r, w, true, e.code == COMITY_ERR_NOTFOUND ? 404 : 503, "no proof", "%s",
                      e.msg);
        return;
    }
    cy_buf_reset(&w->body);
    comity_err rc = COMITY_OK;
    for (size_t i = 0; i < n && !rc; i++) {
        char s[COMITY_TLOG_HASH_B64];
        comity_tlog_hash_b64(h + i * COMITY_TLOG_HASH, s);
        rc = cy_buf_printf(&w->body, "%s\n", s);
    }
    cy_free(h);
    if (rc) {
        cy_resp_error(r, w, true, 500, "out of memory", "consistency proof");
        return;
    }
    w->status = 200;
    w->ctype = "text/plain; charset=utf-8";
}

/* GET /federation/root/{size}: the hash of the first `size` leaves of this
 * log's published tree, one base64 line (with a consistency proof, what a
 * peer needs to prove a split view of two sizes: src/sync/equivocation.c). */
static void root_at(cy_req *r, cy_resp *w)
{
    uint64_t size;
    if (!cy_parse_u64(r->segs[2], strlen(r->segs[2]), &size)) {
        cy_resp_error(r, w, true, 400, "bad request", "want /federation/root/SIZE");
        return;
    }
    uint8_t h[COMITY_TLOG_HASH];
    comity_error e = {0};
    if (!r->node->log || comity_log_root(r->node->log, size, h, &e)) {
        cy_resp_error(r, w, true, e.code == COMITY_ERR_NOTFOUND || e.code == COMITY_ERR_USAGE
                      ? 404 : 503, "no root", "%s", e.msg);
        return;
    }
    char b64[COMITY_TLOG_HASH_B64];
    comity_tlog_hash_b64(h, b64);
    cy_buf_reset(&w->body);
    if (cy_buf_printf(&w->body, "%s\n", b64)) {
        cy_resp_error(r, w, true, 500, "out of memory", "root");
        return;
    }
    w->status = 200;
    w->ctype = "text/plain; charset=utf-8";
}

static int add_checkpoint(const cy_peer *p, void *ctx)
{
    if (p->checkpoint[0])
        json_array_append_new(ctx, json_string(p->checkpoint));
    return 0;
}

/* GET /federation/checkpoints: gossip (docs/federation.md, section 9): a
 * JSON array of signed checkpoint notes, this node's latest and the last
 * one it accepted of each of its peers, for pullers to compare with what
 * they were shown. */
static void checkpoints(cy_req *r, cy_resp *w)
{
    json_t *a = json_array();
    char *note = NULL;
    size_t len = 0;
    comity_error e = {0};
    if (a && r->node->log &&
        comity_log_read_checkpoint(r->node->log, &note, &len, NULL, NULL, NULL) == COMITY_OK)
        json_array_append_new(a, json_stringn(note, len));
    comity_free(note);
    if (!a || cy_store_peer_list(r->node->store, add_checkpoint, a, &e)) {
        json_decref(a);
        cy_resp_error(r, w, true, 500, "checkpoints", "%s", e.msg);
        return;
    }
    cy_resp_json(r, w, 200, "application/json", a);
}

/* ---- cosigned checkpoints (docs/federation.md, section 6) ----------------- */

struct cosigned_args {
    uint64_t v[3]; /* from, to, size */
    unsigned seen;
    char msg[160];
};

static int cosigned_arg(void *ctx, const char *key, const char *value)
{
    struct cosigned_args *a = ctx;
    int i = !strcmp(key, "from") ? 0 : !strcmp(key, "to") ? 1 : !strcmp(key, "size") ? 2 : -1;
    if (i < 0 || (a->seen & 1u << i) || !value ||
        !cy_parse_u64(value, strlen(value), &a->v[i])) {
        snprintf(a->msg, sizeof a->msg, "%.40s: want from, to and size, each once, log "
                 "positions", key);
        return 1;
    }
    a->seen |= 1u << i;
    return 0;
}

struct cosigned_rows {
    json_t *a;
    bool oom;
};

static int cosigned_row(void *ctx, uint64_t size, const char *note, size_t len)
{
    struct cosigned_rows *c = ctx;
    json_t *o = json_pack("{s:I, s:s%}", "size", (json_int_t)size, "checkpoint", note, len);
    if (!o || json_array_append_new(c->a, o)) {
        c->oom = true;
        return 1;
    }
    return 0;
}

/* GET /federation/cosigned/?from=I&to=J&size=P: the cosigned checkpoints
 * this log keeps (src/tlog's cy_log_cosigned) from the first covering log
 * index I to the first covering J, none larger than P (a size this log
 * published: the page's checkpoint), at most CY_FED_COSIGNED_MAX; each
 * with its RFC 6962 consistency proof to P, so that a puller finds when
 * the witnesses first saw each record of a page.  "since": the size from
 * which this log keeps them (below it, nothing is known). */
static void cosigned(cy_req *r, cy_resp *w)
{
    struct cosigned_args a = {0};
    if (cy_req_args(r, cosigned_arg, &a) || a.seen != 7 || a.v[0] > a.v[1] ||
        a.v[1] >= a.v[2]) {
        cy_resp_error(r, w, true, 400, "bad request", "%s",
                      a.msg[0] ? a.msg : "want from <= to < size");
        return;
    }
    struct cosigned_rows c = {json_array(), false};
    uint64_t since = 0;
    comity_error e = {0};
    comity_err rc = !c.a ? COMITY_ERR_NOMEM
                   : !r->node->log ? cy_fail(&e, COMITY_ERR_NOTFOUND, "this node has no log")
                   : cy_log_cosigned(r->node->log, a.v[0], a.v[1], a.v[2], CY_FED_COSIGNED_MAX,
                                     &since, cosigned_row, &c, &e);
    if (!rc && c.oom)
        rc = cy_fail(&e, COMITY_ERR_NOMEM, "out of memory");
    /* each one's proof to the size asked (none for that size itself) */
    for (size_t i = 0; !rc && i < json_array_size(c.a); i++) {
        json_t *o = json_array_get(c.a, i);
        uint64_t sz = (uint64_t)json_integer_value(json_object_get(o, "size"));
        json_t *proof = json_array();
        uint8_t *h = NULL;
        size_t n = 0;
        if (!proof)
            rc = COMITY_ERR_NOMEM;
        else if (sz < a.v[2])
            rc = comity_log_consistency(r->node->log, sz, a.v[2], &h, &n, &e);
        for (size_t k = 0; !rc && k < n; k++) {
            char b64[COMITY_TLOG_HASH_B64];
            comity_tlog_hash_b64(h + k * COMITY_TLOG_HASH, b64);
            if (json_array_append_new(proof, json_string(b64)))
                rc = COMITY_ERR_NOMEM;
        }
        cy_free(h);
        if (!rc && json_object_set_new(o, "proof", proof))
            rc = COMITY_ERR_NOMEM;
        else if (rc)
            json_decref(proof);
    }
    if (rc) {
        json_decref(c.a);
        cy_resp_error(r, w, true, rc == COMITY_ERR_NOTFOUND ? 404 : 503, "no cosigned checkpoints",
                      "%s", e.msg[0] ? e.msg : comity_strerror(rc));
        return;
    }
    cy_resp_json(r, w, 200, "application/json",
                 json_pack("{s:I, s:I, s:o}", "since", (json_int_t)since, "size",
                           (json_int_t)a.v[2], "checkpoints", c.a));
}

/* GET /federation/equivocations: the proofs this node keeps (src/sync's
 * equivocation.c), a JSON array of signed notes, for peers to check. */
static void equivocations(cy_req *r, cy_resp *w)
{
    char *json = NULL;
    comity_error e = {0};
    if (cy_equiv_list(r->node->dir, &json, &e)) {
        cy_resp_error(r, w, true, 500, "equivocations", "%s", e.msg);
        return;
    }
    cy_buf_reset(&w->body);
    comity_err rc = cy_buf_puts(&w->body, json);
    cy_free(json);
    if (rc) {
        cy_resp_error(r, w, true, 500, "out of memory", "equivocations");
        return;
    }
    w->status = 200;
    w->ctype = "application/json";
}

struct hint_args {
    const char *origin;
};

static int hint_arg(void *ctx, const char *key, const char *value)
{
    struct hint_args *h = ctx;
    if (!strcmp(key, "origin") && value)
        h->origin = value;
    return 0; /* size and anything else: informative only */
}

/* POST /federation/hint?origin=O: a pinned peer's "new records up to N".
 * Anonymous: it only moves that peer's next pull earlier (hints during a
 * pull fold into one more pull), and an origin no puller follows is 404. */
static void hint(cy_req *r, cy_resp *w)
{
    struct hint_args h = {0};
    (void)cy_req_args(r, hint_arg, &h);
    if (!h.origin || !r->node->sync || cy_sync_hint(r->node->sync, h.origin) != COMITY_OK) {
        cy_resp_error(r, w, true, 404, "not found", "no pull from that origin here");
        return;
    }
    cy_buf_reset(&w->body);
    w->status = 202;
    w->ctype = "text/plain; charset=utf-8";
}

/* ---- sealed files ------------------------------------------------------------ */

/* The view of what peer `peer` may see (its homed parties).  OUT *out:
 * cy_free.  false after answering. */
static bool peer_view(cy_req *r, cy_resp *w, const char *peer, cy_peer_view **out)
{
    *out = NULL;
    comity_error e = {0};
    struct names *ns = cy_calloc(1, sizeof *ns);
    cy_peer_view *view = cy_calloc(1, sizeof *view);
    bool okv = ns && view &&
               cy_store_home_list(r->node->store, peer, name_cb, ns, &e) == COMITY_OK &&
               !ns->over && cy_record_peer_visibility(ns->v, ns->n, view, &e) == COMITY_OK;
    cy_free(ns);
    if (!okv) {
        cy_free(view);
        cy_resp_error(r, w, true, 500, "peer filter", "%s",
                      e.msg[0] ? e.msg : "out of memory, or too many parties homed at the peer");
        return false;
    }
    *out = view;
    return true;
}

struct one_rec {
    comity_record *rec;
};

static int one_rec_cb(const cy_record_row *row, void *ctx)
{
    struct one_rec *o = ctx;
    if (row->envelope && !o->rec)
        (void)comity_record_parse(row->envelope, row->envelope_len, &o->rec, NULL);
    return 1;
}

/* Whether the peer of `view` may fetch the files attached to record `id`
 * of this node (the rule is src/record's). */
static bool files_of_record_visible(comity_node *node, const cy_peer_view *view, const char *id)
{
    if (strchr(id, ':'))
        return false; /* "uploaded-by:PARTY": attached to no record yet */
    cy_record_filter all = {.tlps = {"clear", "green", "amber", "amber+strict", "red"},
                            .ntlps = 5};
    cy_record_query q = {.id = id, .limit = 1, .visible = &all, .with_envelope = true};
    struct one_rec o = {NULL};
    bool more = false;
    if (cy_store_records_query(node->store, &q, one_rec_cb, &o, &more, NULL) != COMITY_OK ||
        !o.rec)
        return false;
    const char *to[COMITY_RECORD_MAX_TO];
    size_t nto = comity_record_to_count(o.rec);
    if (nto > COMITY_RECORD_MAX_TO)
        nto = COMITY_RECORD_MAX_TO;
    for (size_t i = 0; i < nto; i++)
        to[i] = comity_record_to(o.rec, i);
    char home[CY_PEER_ORIGIN_MAX + 1];
    bool local = cy_store_home_get(node->store, comity_record_author(o.rec), home, NULL) ==
                 COMITY_ERR_NOTFOUND;
    bool yes = cy_record_peer_file_visible(view, local, to, nto);
    comity_record_free(o.rec);
    return yes;
}

struct flist {
    comity_node *node;
    const cy_peer_view *view;
    json_t *a;
};

static int flist_one(void *ctx, const char *hash, uint64_t size, const char *ref,
                     uint64_t after)
{
    (void)after;
    struct flist *f = ctx;
    bool found = false;
    if (!files_of_record_visible(f->node, f->view, ref) ||
        cy_files_ref_has(f->node->files, hash, ref, &found, NULL) != COMITY_OK || !found)
        return 0;
    json_array_append_new(f->a, json_pack("{s:s, s:I, s:s}", "sha256", hash, "size",
                                          (json_int_t)size, "record", ref));
    return 0;
}

/* GET /federation/files/?next=&limit=: the attachments the peer may fetch. */
static void files_list(cy_req *r, cy_resp *w, const char *peer)
{
    size_t limit;
    uint64_t from;
    if (!page_params(r, w, &limit, &from))
        return;
    if (!r->node->files) {
        cy_resp_error(r, w, true, 503, "not ready", "the file store is not open");
        return;
    }
    cy_peer_view *view = NULL;
    if (!peer_view(r, w, peer, &view))
        return;
    struct flist f = {r->node, view, json_array()};
    uint64_t next = from, end = 0;
    comity_error e = {0};
    comity_err rc = f.a ? cy_files_journal(r->node->files, from, limit, flist_one, &f, &next,
                                           &end, &e)
                        : cy_fail(&e, COMITY_ERR_NOMEM, "out of memory");
    cy_free(view);
    if (rc) {
        json_decref(f.a);
        cy_resp_error(r, w, true, 500, "files", "%s", e.msg);
        return;
    }
    char nx[24];
    snprintf(nx, sizeof nx, "%" PRIu64, next);
    cy_resp_json(r, w, 200, "application/json",
                 json_pack("{s:o, s:b, s:s}", "files", f.a, "more", next < end, "next", nx));
}

struct fvis {
    comity_node *node;
    const cy_peer_view *view;
    bool yes;
};

static int fvis_one(void *ctx, const char *ref)
{
    struct fvis *v = ctx;
    v->yes = files_of_record_visible(v->node, v->view, ref);
    return v->yes;
}

/* GET /federation/files/{sha256}: the age file, to a peer that may fetch
 * it; 404 to any other peer as for a hash not held. */
static void file_get(cy_req *r, cy_resp *w, const char *peer)
{
    const char *hash = r->segs[2];
    cy_peer_view *view = NULL;
    if (!peer_view(r, w, peer, &view))
        return;
    struct fvis v = {r->node, view, false};
    int fd = -1;
    uint64_t size = 0;
    comity_error e = {0};
    bool ok = r->node->files && cy_files_hash_valid(hash) &&
              cy_files_refs(r->node->files, hash, fvis_one, &v, &e) == COMITY_OK && v.yes &&
              cy_files_open_read(r->node->files, hash, &fd, &size, &e) == COMITY_OK;
    cy_free(view);
    if (!ok) {
        cy_resp_error(r, w, true, 404, "not found", "no file %.64s for this peer",
                      cy_files_hash_valid(hash) ? hash : "");
        return;
    }
    /* a fetch cut off resumes where it stopped (RFC 9110, section 14):
     * "Range: bytes=F-" and the other one-range forms; anything else, and
     * any If-Range (no validator is sent to compare it with), gets the
     * whole file */
    uint64_t first = 0, len = size;
    const char *range = cy_req_header(r, "Range");
    int rg = range && !cy_req_header(r, "If-Range") ? cy_http_range(range, size, &first, &len)
                                                     : 0;
    w->accept_ranges = true;
    if (rg < 0) {
        close(fd);
        cy_resp_error(r, w, true, 416, "range not satisfiable",
                      "file %.64s has %llu bytes: range %.64s is past its end", hash,
                      (unsigned long long)size, range);
        snprintf(w->content_range, sizeof w->content_range, "bytes */%llu",
                 (unsigned long long)size);
        return;
    }
    if (rg > 0)
        snprintf(w->content_range, sizeof w->content_range, "bytes %llu-%llu/%llu",
                 (unsigned long long)first, (unsigned long long)(first + len - 1),
                 (unsigned long long)size);
    w->status = rg > 0 ? 206 : 200;
    w->ctype = "application/octet-stream";
    w->fd = fd;
    w->fd_off = first;
    w->fd_size = len;
    w->has_fd = true;
}

bool cy_federation_owns(cy_req *r)
{
    return r->nseg >= 1 && !strcmp(r->segs[0], FED_ROOT);
}

void cy_federation_handle(cy_req *r, cy_resp *w)
{
    if (r->nseg == 2 && !strcmp(r->segs[1], "hint")) {
        if (strcmp(r->method, "POST") != 0) {
            w->allow = "POST";
            cy_resp_error(r, w, true, 405, "method not allowed", "a hint is posted");
            return;
        }
        hint(r, w);
        return;
    }
    if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0) {
        w->allow = "GET, HEAD";
        cy_resp_error(r, w, true, 405, "method not allowed", "peers only read here");
        return;
    }
    /* open: what the log's tiles say anyway */
    if (r->nseg == 4 && !strcmp(r->segs[1], "consistency")) {
        consistency(r, w);
        return;
    }
    if (r->nseg == 3 && !strcmp(r->segs[1], "root")) {
        root_at(r, w);
        return;
    }
    if (r->nseg == 2 && !strcmp(r->segs[1], "checkpoints")) {
        checkpoints(r, w);
        return;
    }
    cy_peer p;
    const char *peer = caller_peer(r, w, &p);
    if (!peer)
        return;
    char id[CY_UUID_BUF];
    collection_id(r, id);
    if (r->nseg == 1) {
        json_t *v = json_pack("{s:s, s:s, s:[s], s:I}", "title", "comity federation",
                              "description", "records for peer nodes (docs/federation.md)",
                              "versions", CY_MEDIA_TAXII, "max_content_length", (json_int_t)0);
        cy_resp_json(r, w, 200, CY_MEDIA_TAXII, v);
    } else if (r->nseg == 2 && !strcmp(r->segs[1], "collections")) {
        cy_resp_json(r, w, 200, CY_MEDIA_TAXII,
                     json_pack("{s:[o]}", "collections", collection_json(r)));
    } else if (r->nseg >= 3 && !strcmp(r->segs[1], "collections") && strcmp(r->segs[2], id)) {
        cy_resp_error(r, w, true, 404, "not found", "no such collection");
    } else if (r->nseg == 3 && !strcmp(r->segs[1], "collections")) {
        cy_resp_json(r, w, 200, CY_MEDIA_TAXII, collection_json(r));
    } else if (r->nseg == 4 && !strcmp(r->segs[1], "collections") &&
               !strcmp(r->segs[3], "objects")) {
        objects(r, w, peer);
    } else if (r->nseg == 2 && !strcmp(r->segs[1], "files")) {
        files_list(r, w, peer);
    } else if (r->nseg == 3 && !strcmp(r->segs[1], "files")) {
        file_get(r, w, peer);
    } else if (r->nseg == 2 && !strcmp(r->segs[1], "equivocations")) {
        equivocations(r, w);
    } else if (r->nseg == 2 && !strcmp(r->segs[1], "cosigned")) {
        cosigned(r, w);
    } else {
        cy_resp_error(r, w, true, 404, "not found", "no such federation resource");
    }
}
