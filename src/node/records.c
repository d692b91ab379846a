/*
 * records.c: the handler of /v1/records.
 *
 *   POST /v1/records               a record, handed to intake
 *   GET  /v1/records?type=&author=&to=&since=&limit=&cursor=   a page
 *   GET  /v1/records/{id}          one record's envelope
 *   GET  /v1/records/{id}/receipt  its receipt (a tlog-proof against the
 *                                  newest checkpoint covering it that the
 *                                  witness quorum cosigned, else the newest)
 *
 * A POST only reads the request: the body and the caller's principal are
 * parked with the connection, serve.c suspends the connection, and the
 * park's go() submits the envelope to intake (src/intake/intake.c), which
 * owns every check and the commit.  Intake's callback stores the outcome
 * in the park and resumes the connection; answer() then writes the
 * response: 201 {id, log_index, digest, receipt, existed:false, signer?}
 * (signer: the author's user who signed it, when not its own key:
 * docs/federation.md, section 1), 200 for a re-post (existed:true), or the JSON error naming the rule broken, with
 * the status of that rule:
 *
 *   size 413, envelope 400, payload 422, author 403, signature 403,
 *   authenticated 401 (no credentials) or 403 (not the author), type 422,
 *   id 422 (an id not made for its author),
 *   origin 403 (a party homed at another node), body 422 (a roster or
 *   succession body its parser refuses),
 *   framework 422 (breaks a rule), 403 (may not), 409 (may not follow),
 *   conflict 409, store/log 503 when the node cannot store now, else 500.
 *
 * Reading: the store applies who may see a record.  Handing a recipient a
 * message's envelope (GET of one record or of a page; HEAD hands nothing)
 * is reported to the framework, whose rule it is that a recipient's fetch
 * is a delivery (cy_fw_live_fetched).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "node/records.h"
#include "record/visible.h"

#define LIST_DEFAULT 100
#define LIST_MAX 1000

/* ---- posting ---------------------------------------------------------------------- */

/* A POST waiting for intake (cy_resp.park). */
struct post {
    cy_intake *in;
    struct MHD_Connection *conn;
    char *env; /* owned until go() hands it to intake */
    size_t len;
    cy_principal who;
    bool anon;
    /* the outcome (intake's callback) */
    unsigned status;
    const char *rule, *title;
    char *msg; /* a refusal's (owned; NULL: out of memory) */
    char id[CY_RECORD_ID_MAX];
    char digest[65];
    uint64_t log_index;
    char *signer; /* the author's user who signed (owned), or NULL */
};

/* The HTTP status of an intake outcome (see the top). */
static unsigned status_of(const cy_intake_result *res, bool anon)
{
    if (!res->rule)
        return res->existed ? 200 : 201;
    static const struct {
        const char *rule;
        unsigned status;
    } by_rule[] = {{"size", 413},      {"envelope", 400}, {"payload", 422},
                   {"author", 403},    {"signature", 403}, {"type", 422},
                   {"created", 422},  {"id", 422},       {"origin", 403},
                   {"body", 422},     {"conflict", 409}, {"revoked", 403}};
    for (size_t i = 0; i < CY_ARRAY_LEN(by_rule); i++)
        if (!strcmp(res->rule, by_rule[i].rule))
            return by_rule[i].status;
    if (!strcmp(res->rule, "authenticated"))
        return anon ? 401 : 403;
    if (!strcmp(res->rule, "framework")) {
        switch (res->code) {
        case COMITY_ERR_INVALID:
        case COMITY_ERR_NOTFOUND: return 422;
        case COMITY_ERR_DENIED: return 403;
        case COMITY_ERR_CONFLICT:
        case COMITY_ERR_EXISTS: return 409;
        default: return 500;
        }
    }
    return res->retry ? 503 : 500;
}

/* Copies src into dst[cap], cut short if need be (no printf). */
static void copy_str(char *dst, size_t cap, const char *src)
{
    size_t n = src ? strlen(src) : 0;
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src ? src : "", n);
    dst[n] = 0;
}

/* Intake's callback: on the submitting thread (a refusal) or on intake's
 * syncer thread (after the commit).  Keeps the outcome, then resumes. */
static void post_done(void *ctx, const cy_intake_result *res)
{
    struct post *p = ctx;
    p->status = status_of(res, p->anon);
    p->rule = res->rule;   /* static strings */
    p->title = res->title;
    if (res->rule) {
        p->msg = cy_strndup(res->msg ? res->msg : "", res->msg ? strlen(res->msg) : 0);
    } else {
        copy_str(p->id, sizeof p->id, res->id);
        copy_str(p->digest, sizeof p->digest, res->digest);
        p->log_index = res->log_index;
        p->signer = res->signer ? cy_strdup(res->signer) : NULL;
    }
    cy_req_resume(p->conn);
}

static void post_go(void *park)
{
    struct post *p = park;
    char *env = p->env;
    p->env = NULL; /* intake's now */
    cy_intake_submit(p->in, env, p->len, p->anon ? NULL : &p->who, post_done, p);
    /* p may be answered already (not freed: the connection is suspended
     * until resumed, and serve.c frees p after answer()) */
}

static void post_free(void *park)
{
    struct post *p = park;
    if (!p)
        return;
    cy_free(p->env);
    cy_free(p->msg);
    cy_free(p->signer);
    sodium_memzero(&p->who, sizeof p->who);
    cy_free(p);
}

/* The answer to a stored record: {"id", "log_index", "digest", "receipt",
 * "existed"}, appended to b without printf (one reservation, then copies). */
static comity_err accepted_json(cy_buf *b, const char *id, uint64_t log_index,
                                const char *digest, bool existed)
{
    char idx[24], tmp[24];
    size_t n = 0, k = 0;
    do
        tmp[k++] = (char)('0' + log_index % 10);
    while ((log_index /= 10) != 0);
    while (k)
        idx[n++] = tmp[--k];
    const char *parts[] = {"{\"id\":\"", id, "\",\"log_index\":", NULL,
                           ",\"digest\":\"", digest, "\",\"receipt\":\"/v1/records/", id,
                           "/receipt\",\"existed\":", existed ? "true}" : "false}"};
    size_t plen[CY_ARRAY_LEN(parts)], total = 0;
    for (size_t i = 0; i < CY_ARRAY_LEN(parts); i++)
        total += plen[i] = parts[i] ? strlen(parts[i]) : n;
    comity_err rc = cy_buf_reserve(b, total);
    for (size_t i = 0; !rc && i < CY_ARRAY_LEN(parts); i++)
        rc = cy_buf_append(b, parts[i] ? parts[i] : idx, plen[i]);
    return rc;
}


static void post_answer(void *park, cy_req *r, cy_resp *w)
{
    struct post *p = park;
    if (p->status == 200 || p->status == 201) {
        /* formatted directly: the id passed the record parser (lowercase
         * type, "--", a uuid) and the digest is hex, so neither needs
         * escaping */
        cy_buf_reset(&w->body);
        w->status = p->status;
        w->ctype = "application/json";
        bool bad = accepted_json(&w->body, p->id, p->log_index, p->digest, p->status == 200);
        if (!bad && p->signer) { /* a name of the party record: escaped */
            json_t *o = json_pack("{s:s}", "signer", p->signer);
            char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
            bad = !s || w->body.len < 1;
            if (!bad) {
                w->body.len--; /* the closing brace, then ,"signer":... */
                bad = cy_buf_append(&w->body, ",", 1) ||
                      cy_buf_append(&w->body, s + 1, strlen(s + 1)) != COMITY_OK;
            }
            free(s);
            json_decref(o);
        }
        if (bad)
            cy_resp_rule(r, w, 500, "internal", "internal", "out of memory");
    } else {
        cy_resp_rule(r, w, p->status ? p->status : 500, p->title ? p->title : "internal",
                     p->rule ? p->rule : "internal", "%s", p->msg ? p->msg : "out of memory");
    }
}

static const cy_park_ops post_ops = {post_go, post_answer, post_free};

/* POST /v1/records: parks the body and the caller for intake. */
static void post_record(cy_req *r, cy_resp *w)
{
    struct post *p = cy_calloc(1, sizeof *p);
    if (!p) {
        cy_resp_rule(r, w, 500, "internal", "internal", "out of memory");
        return;
    }
    /* the request's buffer becomes the record's: no copy */
    size_t tl;
    p->env = (char *)cy_req_take_body(r, &tl);
    if (!p->env)
        p->env = cy_strndup(r->body ? (const char *)r->body : "", r->body_len);
    if (!p->env) {
        cy_free(p);
        cy_resp_rule(r, w, 500, "internal", "internal", "out of memory");
        return;
    }
    p->len = r->body_len;
    p->in = r->node->intake;
    p->conn = r->conn;
    p->anon = r->anon;
    if (!r->anon)
        p->who = r->who;
    w->park = p;
    w->park_ops = &post_ops;
}

/* ---- reading ----------------------------------------------------------------------- */

/* The records the caller may see (record/visible.h). */
static void viewer(cy_req *r, cy_record_filter *f)
{
    cy_record_visibility(r->anon ? NULL : r->who.name, f);
}

struct one {
    char *envelope;
    size_t len;
    uint64_t log_index;
    bool found;
    char type[COMITY_RECORD_TYPE_MAX + 1];
};

static int one_cb(const cy_record_row *row, void *ctx)
{
    struct one *o = ctx;
    o->found = true;
    o->log_index = row->log_index;
    snprintf(o->type, sizeof o->type, "%s", row->type);
    if (row->envelope) {
        o->envelope = cy_strndup(row->envelope, row->envelope_len);
        o->len = row->envelope_len;
    }
    return 1;
}

/* The record `id` if the caller may see it (else not found, whether it
 * exists or not: its existence is not disclosed). */
static bool find_visible(cy_req *r, const char *id, bool envelope, struct one *o)
{
    memset(o, 0, sizeof *o);
    cy_record_filter vis;
    viewer(r, &vis);
    cy_record_query q = {.id = id, .limit = 1, .visible = &vis, .with_envelope = envelope};
    bool more;
    return cy_store_records_query(r->node->store, &q, one_cb, o, &more, NULL) == COMITY_OK &&
           o->found;
}

static void get_record(cy_req *r, cy_resp *w, const char *id)
{
    struct one o;
    if (!find_visible(r, id, true, &o) || !o.envelope) {
        cy_free(o.envelope);
        cy_resp_error(r, w, false, 404, "not found", "no record %s visible to you", id);
        return;
    }
    cy_buf_reset(&w->body);
    w->status = cy_buf_append(&w->body, o.envelope, o.len) ? 500 : 200;
    w->ctype = "application/json";
    cy_free(o.envelope);
    if (w->status == 200 && !r->anon && !strcmp(r->method, "GET"))
        cy_fw_live_fetched(r->node->fw, id, o.type, r->who.name); /* a delivery? */
}

static void get_receipt(cy_req *r, cy_resp *w, const char *id)
{
    struct one o;
    if (!find_visible(r, id, false, &o)) {
        cy_resp_error(r, w, false, 404, "not found", "no record %s visible to you", id);
        return;
    }
    char *proof = NULL;
    size_t len = 0;
    comity_error e = {0};
    /* against the newest checkpoint covering the record that the operator's
     * witness quorum cosigned, which the client checks the receipt under
     * (GET /v1/node's witness_policy; sync/sync.h: the rule); a policy that
     * does not parse is left out here as there */
    comity_policy *pol = NULL;
    if (cy_witness_policy_load(r->node->dir, &pol, NULL) != COMITY_OK)
        pol = NULL;
    comity_err rc = cy_witness_prove(r->node->log, pol, o.log_index, &proof, &len, &e);
    comity_policy_free(pol);
    if (rc == COMITY_ERR_NOTFOUND) {
        w->retry_after = "1";
        cy_resp_error(r, w, false, 404, "receipt not yet available",
                      "entry %llu is not covered by a checkpoint yet; retry in a second",
                      (unsigned long long)o.log_index);
        return;
    }
    if (rc) {
        cy_resp_error(r, w, false, 500, "log", "%s", e.msg);
        return;
    }
    cy_buf_reset(&w->body);
    w->status = cy_buf_append(&w->body, proof, len) ? 500 : 200;
    w->ctype = "text/plain; charset=utf-8";
    comity_free(proof);
}

struct list_ctx {
    json_t *arr;
    int64_t last;
    size_t bytes; /* envelopes on the page, plus CY_RECORDS_PAGE_ROW each */
};

static int list_cb(const cy_record_row *row, void *ctx)
{
    struct list_ctx *l = ctx;
    /* CY_RECORDS_PAGE_BYTES: the page ends before the record that would
     * take it past the cap (the first always fits); `next` goes on there */
    size_t cost = row->envelope_len + CY_RECORDS_PAGE_ROW;
    if (json_array_size(l->arr) && l->bytes + cost > CY_RECORDS_PAGE_BYTES)
        return 1;
    l->bytes += cost;
    json_t *env = row->envelope ? json_loadb(row->envelope, row->envelope_len, 0, NULL) : NULL;
    json_array_append_new(l->arr,
                          json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:o?}", "id", row->id,
                                    "type", row->type, "author", row->author, "tlp", row->tlp,
                                    "created", row->created, "digest", row->digest, "log_index",
                                    (json_int_t)row->log_index, "envelope", env));
    l->last = row->seq;
    return 0;
}

struct list_args {
    cy_record_query q;
    const char *bad;
    unsigned seen; /* bit per parameter of list_params: each at most once */
};

static const char *const list_params[] = {"type", "author", "to", "since", "limit", "cursor"};

static bool all_digits(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n > max)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

static int list_arg(void *ctx, const char *key, const char *value)
{
    struct list_args *a = ctx;
    cy_record_query *q = &a->q;
    if (!value) {
        a->bad = key;
        return 1;
    }
    /* a repeated parameter is refused, whichever it is: which one would
     * count is a guess the caller should not have to make */
    for (unsigned i = 0; i < CY_ARRAY_LEN(list_params); i++)
        if (!strcmp(key, list_params[i])) {
            if (a->seen & (1u << i)) {
                a->bad = key;
                return 1;
            }
            a->seen |= 1u << i;
        }
    if (!strcmp(key, "type"))
        q->type = value;
    else if (!strcmp(key, "author"))
        q->author = value;
    else if (!strcmp(key, "to"))
        q->to = value;
    else if (!strcmp(key, "since")) {
        if (cy_time_parse(value, strlen(value), false, &q->since_ms, NULL) != COMITY_OK ||
            q->since_ms <= 0)
            a->bad = key;
    } else if (!strcmp(key, "limit") && all_digits(value, 6)) {
        q->limit = (size_t)strtoul(value, NULL, 10);
        if (q->limit == 0)
            a->bad = key;
        if (q->limit > LIST_MAX)
            q->limit = LIST_MAX;
    } else if (!strcmp(key, "cursor") && all_digits(value, 18)) {
        q->after_seq = strtoll(value, NULL, 10);
    } else {
        a->bad = key;
    }
    return a->bad ? 1 : 0;
}

static void list_records(cy_req *r, cy_resp *w)
{
    struct list_args a = {.q = {.limit = LIST_DEFAULT, .with_envelope = true}};
    if (cy_req_args(r, list_arg, &a) || a.bad) {
        cy_resp_error(r, w, false, 400, "bad query",
                      "parameter '%s' is unknown, repeated or malformed (type, author, to, "
                      "since=RFC 3339, limit=1..%d, cursor)",
                      a.bad ? a.bad : "?", LIST_MAX);
        return;
    }
    cy_record_filter vis;
    viewer(r, &vis);
    a.q.visible = &vis;
    struct list_ctx l = {json_array(), 0, 0};
    bool more = false;
    comity_error e = {0};
    if (cy_store_records_query(r->node->store, &a.q, list_cb, &l, &more, &e)) {
        json_decref(l.arr);
        cy_resp_error(r, w, false, 500, "store", "%s", e.msg);
        return;
    }
    /* each message handed to one of its recipients: a delivery (the
     * framework's rule; HEAD hands nothing over) */
    size_t i;
    json_t *row;
    if (!r->anon && !strcmp(r->method, "GET"))
        json_array_foreach(l.arr, i, row)
            cy_fw_live_fetched(r->node->fw, json_string_value(json_object_get(row, "id")),
                               json_string_value(json_object_get(row, "type")), r->who.name);
    char next[32];
    snprintf(next, sizeof next, "%lld", (long long)l.last);
    json_t *v = json_pack("{s:o, s:b}", "records", l.arr, "more", more);
    if (more)
        json_object_set_new(v, "next", json_string(next));
    cy_resp_json(r, w, 200, "application/json", v);
}

void cy_records_handle(cy_req *r, cy_resp *w)
{
    bool get = !strcmp(r->method, "GET") || !strcmp(r->method, "HEAD");
    if (!r->node->intake) {
        cy_resp_error(r, w, false, 503, "not serving", "record intake is not running");
        return;
    }
    if (r->nseg == 2) {
        if (!strcmp(r->method, "POST"))
            post_record(r, w);
        else if (get)
            list_records(r, w);
        else {
            w->allow = "GET, HEAD, POST";
            cy_resp_error(r, w, false, 405, "method not allowed", "GET or POST");
        }
        return;
    }
    if (!get) {
        w->allow = "GET, HEAD";
        cy_resp_error(r, w, false, 405, "method not allowed", "only GET is served here");
        return;
    }
    const char *id = r->segs[2];
    if (strlen(id) >= CY_RECORD_ID_MAX) {
        cy_resp_error(r, w, false, 404, "not found", "no such record");
        return;
    }
    if (r->nseg == 3)
        get_record(r, w, id);
    else if (r->nseg == 4 && !strcmp(r->segs[3], "receipt"))
        get_receipt(r, w, id);
    else
        cy_resp_error(r, w, false, 404, "not found", "no such endpoint: %s", r->url);
}
