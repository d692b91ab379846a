/*
 * queries.c: the framework's queries over HTTP (docs/framework.md, "The
 * node's API"), all GET, "now" from cy_now_ms (COMITY_FAKE_NOW pins it):
 *   /v1/framework/inbox          a party's inbox (the operator: ?party=P),
 *                                whole, or a page (?limit=N&after=CURSOR)
 *   /v1/framework/messages/{id}  a message's status, per recipient slot
 *   /v1/framework/messages/{id}/thread   the message and the records whose
 *                                refs name it, those the caller may read, a
 *                                page at a time (?limit=N&after=POSITION)
 *   /v1/framework/overdue        every late slot (operator only)
 *   /v1/framework/pings          ping statistics, the per-party report, or by=state / by=region
 *   /v1/framework/cases          a party's open cases with their clocks
 *                                (the operator: ?party=P)
 *   /v1/framework/cases/{id}     one case: thread, clocks, actions allowed
 *   /v1/framework/cases/{id}/custody   its chain of custody (the same
 *                                rule of who may see it)
 *   /v1/framework/retention      what is due for destruction (operator)
 *                                now (a non-party: as for an unknown id)
 *   /v1/framework/norms          the norm catalogue; /norms/declarations
 *                                (?state=S) the declarations the caller
 *                                may see; /norms/reports?period=P[&norm=N]
 *                                implementation reports compared, needs
 *                                matched with offers; /norms/positions
 *                                (?topic=T) national positions compared
 *                                (docs/norms.md)
 *   /v1/framework/case-types     the case record types and their body
 *                                schemas (for clients that seal bodies)
 *   /v1/framework/spyware/vendors?name=N   the registry's vendors bearing a
 *                                name (docs/spyware.md); /vendors/{id} one
 *                                with its history (public records only)
 *   /v1/framework/spyware/report?state=S&year=Y   the transparency report
 *   /v1/framework/spyware/authorisations   the caller's oversight records
 *                                (clear records only)
 *   /v1/directory                the points-of-contact directory
 * The state is the framework's (src/framework/live.c), and so are its
 * rules (who may read which inbox, what a message is); this file reads
 * the query, asks, and writes the answer.  Query arguments are outside
 * input: each is checked (names, times, kinds), repeated ones are capped
 * (FW_PARTIES_MAX), and any other argument is refused 400 with a JSON
 * error naming it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "framework/framework.h"
#include "node/queries.h"
#include "record/visible.h"

#define FW_PARTIES_MAX 64       /* party= and state= values of one ping query */
#define FW_DEFAULT_PERIOD_MS (30LL * 24 * 3600 * 1000)

/* ---- endpoints: helpers ------------------------------------------------------------- */

/* The error titles of the framework's endpoints, by status. */
static const char *fw_title(unsigned status)
{
    static const struct {
        unsigned status;
        const char *title;
    } titles[] = {{400, "bad query"}, {401, "unauthorized"}, {403, "forbidden"},
                  {404, "not found"},  {405, "method not allowed"}, {500, "internal"},
                  {503, "not serving"}};
    for (size_t i = 0; i < CY_ARRAY_LEN(titles); i++)
        if (titles[i].status == status)
            return titles[i].title;
    return "error";
}

#define fw_error(r, w, status, ...) cy_resp_rule(r, w, status, fw_title(status), __VA_ARGS__)

static bool is_operator(const cy_req *r)
{
    return !r->anon && !strcmp(r->who.kind, "operator");
}

static json_t *time_or_null(int64_t ms)
{
    if (ms <= 0)
        return json_null();
    char t[CY_TIME_BUF];
    cy_time_format_ms(t, ms);
    return json_string(t);
}

static json_t *time_json(int64_t ms)
{
    char t[CY_TIME_BUF];
    cy_time_format_ms(t, ms);
    return json_string(t);
}

/* A library answer (JSON text, comity_free) as a jansson value; NULL on
 * failure (the text is freed either way). */
static json_t *lib_json(char *text)
{
    json_t *v = text ? json_loads(text, 0, NULL) : NULL;
    comity_free(text);
    return v;
}

/* The library's error as an HTTP answer (a query it refused). */
static void lib_error(cy_req *r, cy_resp *w, comity_err rc, const comity_error *e)
{
    if (rc == COMITY_ERR_NOTFOUND)
        fw_error(r, w, 404, "framework", "%s", e->msg);
    else if (rc == COMITY_ERR_INVALID || rc == COMITY_ERR_USAGE)
        fw_error(r, w, 400, "query", "%s", e->msg);
    else
        fw_error(r, w, 500, "internal", "%s", e->msg);
}

/* A library answer as the HTTP answer: its error (rc), or its JSON text
 * (taken and freed) as 200. */
static void lib_answer(cy_req *r, cy_resp *w, comity_err rc, char *text, const comity_error *e)
{
    if (rc) {
        comity_free(text);
        lib_error(r, w, rc, e);
        return;
    }
    json_t *v = lib_json(text);
    if (!v)
        fw_error(r, w, 500, "internal", "out of memory");
    else
        cy_resp_json(r, w, 200, "application/json", v);
}

static bool state_valid(const char *s)
{
    return s && comity_party_valid(s, NULL) && !strchr(s, '.');
}

static bool time_arg(const char *v, int64_t *ms)
{
    return v && cy_time_parse(v, strlen(v), false, ms, NULL) == COMITY_OK;
}

/* ---- /v1/framework/inbox ------------------------------------------------------------ */

struct inbox_args {
    const char *party;
    bool paging;       /* limit=, after= and the filters are taken (the inbox) */
    const char *limit, *after;
    const char *type, *state, *severity, *sector, *q; /* the filters */
    const char *bad;
};

/* *slot = value when the key is not given yet; else the key is bad. */
static bool once(const char **slot, const char *value)
{
    if (*slot || !value)
        return false;
    *slot = value;
    return true;
}

static int inbox_arg(void *ctx, const char *key, const char *value)
{
    struct inbox_args *a = ctx;
    if (!strcmp(key, "party") && !a->party && value)
        a->party = value;
    else if (a->paging && !strcmp(key, "limit") && !a->limit && value)
        a->limit = value;
    else if (a->paging && !strcmp(key, "after") && !a->after && value && *value)
        a->after = value;
    else if (a->paging && !strcmp(key, "type") && once(&a->type, value))
        ;
    else if (a->paging && !strcmp(key, "state") && once(&a->state, value))
        ;
    else if (a->paging && !strcmp(key, "severity") && once(&a->severity, value))
        ;
    else if (a->paging && !strcmp(key, "sector") && once(&a->sector, value))
        ;
    else if (a->paging && !strcmp(key, "q") && once(&a->q, value))
        ;
    else
        a->bad = key;
    return a->bad ? 1 : 0;
}

/* Whose inbox or cases the caller reads (?party=, the framework's rule
 * cy_fw_inbox_reader), the arguments in *a (a->paging says whether
 * limit= and after= are taken): OUT *party (the caller's own name, or the
 * one asked for, borrowed from the request).  false: w holds the
 * refusal. */
static bool reader_party(cy_req *r, cy_resp *w, struct inbox_args *a, const char **party)
{
    if (cy_req_args(r, inbox_arg, a) || a->bad) {
        fw_error(r, w, 400, "query", "parameter '%s' is unknown, repeated or empty (%s)",
                 a->bad ? a->bad : "?",
                 a->paging ? "party, limit, after, type, state, severity, sector, q" : "party");
        return false;
    }
    comity_error e = {0};
    comity_err rc = cy_fw_inbox_reader(r->who.name, r->who.kind, a->party, party, &e);
    if (rc) {
        if (rc == COMITY_ERR_DENIED)
            fw_error(r, w, 403, "access", "%s", e.msg);
        else
            fw_error(r, w, 400, "query", "%s", e.msg);
        return false;
    }
    return true;
}

/* The inbox: whole without limit= (as the CLI reads it), else one page
 * (comity_framework_inbox_find: limit=1-COMITY_FW_INBOX_PAGE_MAX, and
 * after= a next_me or next_others cursor of an earlier page), narrowed by
 * type=, state=, severity=, sector= and q= (the framework's filter and
 * its rule for sealed messages; they need limit=). */
static void inbox(cy_req *r, cy_resp *w)
{
    struct inbox_args a = {.paging = true};
    const char *party = NULL;
    if (!reader_party(r, w, &a, &party))
        return;
    unsigned long limit = 0;
    if (a.limit) {
        char *end = NULL;
        limit = strtoul(a.limit, &end, 10);
        if (a.limit[0] < '0' || a.limit[0] > '9' || *end || limit < 1 ||
            limit > COMITY_FW_INBOX_PAGE_MAX) {
            fw_error(r, w, 400, "query", "limit '%.20s': want a count of 1-%d", a.limit,
                     COMITY_FW_INBOX_PAGE_MAX);
            return;
        }
    } else if (a.after || a.type || a.state || a.severity || a.sector || a.q) {
        fw_error(r, w, 400, "query", "after= and the filters need limit= (a page size)");
        return;
    }
    comity_inbox_filter flt = {.type = a.type, .state = a.state, .sector = a.sector, .q = a.q};
    if (a.severity) {
        if (strlen(a.severity) != 1 || a.severity[0] < '1' || a.severity[0] > '5') {
            fw_error(r, w, 400, "query", "severity '%.20s': want 1-5", a.severity);
            return;
        }
        flt.severity = a.severity[0] - '0';
    }
    bool filtered = a.type || a.state || a.severity || a.sector || a.q;
    comity_error e = {0};
    comity_err rc;
    int64_t now = cy_now_ms();
    char *text = NULL;
    const comity_framework *fw = cy_fw_live_lock(r->node->fw);
    if (limit)
        rc = comity_framework_inbox_find(fw, party, now, limit, a.after, filtered ? &flt : NULL,
                                         &text, &e);
    else
        rc = comity_framework_inbox(fw, party, now, &text, &e);
    cy_fw_live_unlock(r->node->fw);
    if (rc) {
        lib_error(r, w, rc, &e);
        return;
    }
    json_t *v = lib_json(text);
    if (!v) {
        fw_error(r, w, 500, "internal", "out of memory");
        return;
    }
    json_object_set_new(v, "party", json_string(party));
    json_object_set_new(v, "now", time_json(now));
    cy_resp_json(r, w, 200, "application/json", v);
}

/* ---- /v1/framework/messages/{id} ---------------------------------------------------- */

struct msg_row {
    char *envelope;
    size_t len;
    char type[COMITY_RECORD_TYPE_MAX + 1];
};

static int msg_cb(const cy_record_row *row, void *ctx)
{
    struct msg_row *m = ctx;
    snprintf(m->type, sizeof m->type, "%s", row->type);
    if (row->envelope) {
        m->envelope = cy_strndup(row->envelope, row->envelope_len);
        m->len = row->envelope_len;
    }
    return 1;
}

static json_t *status_json(const comity_msg_status *s)
{
    return json_pack("{s:s, s:b, s:s?, s:o, s:o}", "state", comity_msg_state_name(s->state),
                     "overdue", s->overdue, "expects", s->expects, "due",
                     time_or_null(s->due_ms), "delivered", time_or_null(s->delivered_ms));
}

struct msg_args {
    const char *party;
    const char *bad;
};

static int msg_arg(void *ctx, const char *key, const char *value)
{
    struct msg_args *a = ctx;
    if (!strcmp(key, "party") && !a->party && value && comity_party_valid(value, NULL))
        a->party = value;
    else
        a->bad = key;
    return a->bad ? 1 : 0;
}

static void message(cy_req *r, cy_resp *w, const char *id)
{
    struct msg_args a = {0};
    if (cy_req_args(r, msg_arg, &a) || a.bad) {
        fw_error(r, w, 400, "query",
                 "parameter '%s' is unknown, repeated or malformed (party=NAME)",
                 a.bad ? a.bad : "?");
        return;
    }
    struct msg_row m = {0};
    comity_record *rec = NULL;
    if (strlen(id) >= CY_RECORD_ID_MAX ||
        cy_store_fw_get(r->node->store, id, msg_cb, &m, NULL) != COMITY_OK || !m.envelope ||
        !cy_fw_is_message(m.type) || comity_record_parse(m.envelope, m.len, &rec, NULL) != COMITY_OK) {
        cy_free(m.envelope);
        fw_error(r, w, 404, "framework", "no message %.100s visible to you", id);
        return;
    }
    cy_free(m.envelope);
    int64_t now = cy_now_ms();
    comity_msg_status s, mine;
    comity_error e = {0};
    const comity_framework *fw = cy_fw_live_lock(r->node->fw);
    bool author = !strcmp(comity_record_author(rec), r->who.name);
    bool recipient =
        comity_framework_status(fw, id, r->who.name, now, &mine, NULL) == COMITY_OK;
    comity_err rc = COMITY_ERR_DENIED;
    json_t *slots = NULL;
    char *next = NULL;
    if (author || recipient || is_operator(r)) {
        rc = comity_framework_status(fw, id, a.party, now, &s, &e);
        /* what the caller may answer now: the framework's rule (none for
         * the operator, who answers nothing) */
        if (!rc && (author || recipient))
            rc = comity_framework_message_next(fw, id, r->who.name, &next, &e);
        slots = json_array();
        size_t nto = comity_record_to_count(rec);
        for (size_t i = 0; i < nto && !rc; i++) {
            comity_msg_status one;
            const char *p = comity_record_to(rec, i);
            if (comity_framework_status(fw, id, p, now, &one, NULL) != COMITY_OK)
                continue;
            json_t *o = status_json(&one);
            json_object_set_new(o, "party", json_string(p));
            json_array_append_new(slots, o);
        }
    }
    cy_fw_live_unlock(r->node->fw);
    if (rc == COMITY_ERR_DENIED) {
        fw_error(r, w, 404, "framework", "no message %.100s visible to you", id);
    } else if (rc == COMITY_ERR_NOTFOUND && a.party) {
        fw_error(r, w, 404, "framework", "%.64s is not a recipient of %.100s", a.party, id);
    } else if (rc) {
        lib_error(r, w, rc, &e);
    } else {
        json_t *to = json_array();
        for (size_t i = 0; i < comity_record_to_count(rec); i++)
            json_array_append_new(to, json_string(comity_record_to(rec, i)));
        json_t *v = status_json(&s);
        json_object_set_new(v, "id", json_string(id));
        json_object_set_new(v, "type", json_string(comity_record_type(rec)));
        json_object_set_new(v, "from", json_string(comity_record_author(rec)));
        json_object_set_new(v, "to", to);
        json_object_set_new(v, "created", json_string(comity_record_created(rec)));
        json_object_set_new(v, "ack_due", time_or_null(s.ack_due_ms));
        json_object_set_new(v, "reply_due", time_or_null(s.answer_due_ms));
        json_object_set_new(v, "now", time_json(now));
        if (a.party)
            json_object_set_new(v, "party", json_string(a.party));
        json_object_set_new(v, "slots", slots);
        slots = NULL;
        json_t *nx = next ? json_loads(next, 0, NULL) : json_array();
        json_object_set_new(v, "next", nx ? nx : json_array());
        cy_resp_json(r, w, 200, "application/json", v);
    }
    comity_free(next);
    json_decref(slots);
    comity_record_free(rec);
}

/* ---- /v1/framework/messages/{id}/thread ----------------------------------------------- */

struct thread_args {
    size_t limit;
    size_t after;
    const char *bad;
    bool seen_limit, seen_after;
};

static bool digits(const char *s, size_t max)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > max)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

static int thread_arg(void *ctx, const char *key, const char *value)
{
    struct thread_args *a = ctx;
    if (!strcmp(key, "limit") && !a->seen_limit && digits(value, 6)) {
        a->seen_limit = true;
        a->limit = (size_t)strtoul(value, NULL, 10);
        if (a->limit == 0 || a->limit > CY_THREAD_PAGE_MAX)
            a->bad = key;
    } else if (!strcmp(key, "after") && !a->seen_after && digits(value, 9)) {
        a->seen_after = true;
        a->after = (size_t)strtoul(value, NULL, 10);
    } else {
        a->bad = key;
    }
    return a->bad ? 1 : 0;
}

/* One record row of a thread page, as GET /v1/records lists it. */
struct thread_row {
    json_t *row;
    size_t bytes;
};

static int thread_cb(const cy_record_row *row, void *ctx)
{
    struct thread_row *t = ctx;
    json_t *env = row->envelope ? json_loadb(row->envelope, row->envelope_len, 0, NULL) : NULL;
    t->bytes = row->envelope_len + CY_RECORDS_PAGE_ROW;
    t->row = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:o?}", "id", row->id, "type",
                       row->type, "author", row->author, "tlp", row->tlp, "created",
                       row->created, "digest", row->digest, "log_index",
                       (json_int_t)row->log_index, "envelope", env);
    return 1;
}

/* The record `id` as the caller may read it (the visibility rule of
 * record/visible.h, as GET /v1/records/{id} applies it), or NULL. */
static json_t *thread_read(cy_req *r, const cy_record_filter *vis, const char *id,
                           size_t *bytes, comity_error *err)
{
    struct thread_row t = {0};
    cy_record_query q = {.id = id, .limit = 1, .visible = vis, .with_envelope = true};
    bool more;
    if (cy_store_records_query(r->node->store, &q, thread_cb, &t, &more, err) != COMITY_OK) {
        json_decref(t.row);
        return NULL;
    }
    *bytes = t.bytes;
    return t.row;
}

/* A message's thread: the message, then the records whose refs name it
 * (the framework's index of them: cy_fw_thread), each read as the caller
 * reads it alone, those it may not read left out as if absent.  A page
 * walks at most CY_THREAD_SCAN_MAX ids of the thread from position
 * `after` and answers at most `limit` records (and not past
 * CY_RECORDS_PAGE_BYTES of envelopes); `next` is the position to go on
 * from. */
static void thread(cy_req *r, cy_resp *w, const char *id)
{
    struct thread_args a = {.limit = CY_THREAD_PAGE_DEFAULT};
    if (cy_req_args(r, thread_arg, &a) || a.bad) {
        fw_error(r, w, 400, "query",
                 "parameter '%s' is unknown, repeated or malformed (limit=1..%d, "
                 "after=POSITION from next)",
                 a.bad ? a.bad : "?", CY_THREAD_PAGE_MAX);
        return;
    }
    cy_record_filter vis;
    cy_record_visibility(r->anon ? NULL : r->who.name, &vis);
    size_t mbytes = 0;
    comity_error e = {0};
    json_t *message =
        strlen(id) < CY_RECORD_ID_MAX ? thread_read(r, &vis, id, &mbytes, &e) : NULL;
    if (e.code) {
        fw_error(r, w, 500, "store", "%s", e.msg);
        return;
    }
    const char *mtype = json_string_value(json_object_get(message, "type"));
    /* the ids of this page, copied out under the framework's lock */
    char **ids = NULL;
    size_t n = 0, total = 0;
    comity_err rc = COMITY_ERR_NOTFOUND;
    if (message && cy_fw_is_message(mtype)) {
        const comity_framework *fw = cy_fw_live_lock(r->node->fw);
        const char *const *all = NULL;
        rc = cy_fw_thread(fw, id, &all, &total, NULL);
        if (!rc && a.after < total) {
            n = total - a.after < CY_THREAD_SCAN_MAX ? total - a.after : CY_THREAD_SCAN_MAX;
            if (!(ids = cy_calloc(n, sizeof *ids)))
                rc = COMITY_ERR_NOMEM;
            for (size_t i = 0; !rc && i < n; i++)
                if (!(ids[i] = cy_strdup(all[a.after + i])))
                    rc = COMITY_ERR_NOMEM;
        }
        cy_fw_live_unlock(r->node->fw);
    }
    if (rc) {
        for (size_t i = 0; ids && i < n; i++)
            cy_free(ids[i]);
        cy_free(ids);
        json_decref(message);
        if (rc == COMITY_ERR_NOMEM)
            fw_error(r, w, 500, "internal", "out of memory");
        else
            fw_error(r, w, 404, "framework", "no message %.100s visible to you", id);
        return;
    }
    json_t *recs = json_array();
    size_t pos = a.after, bytes = mbytes;
    for (size_t i = 0; i < n && json_array_size(recs) < a.limit; i++) {
        size_t b = 0;
        json_t *row = thread_read(r, &vis, ids[i], &b, &e);
        if (e.code)
            break;
        if (row && json_array_size(recs) && bytes + b > CY_RECORDS_PAGE_BYTES) {
            json_decref(row);
            break;
        }
        pos = a.after + i + 1;
        if (row) {
            bytes += b;
            json_array_append_new(recs, row);
        }
    }
    for (size_t i = 0; i < n; i++)
        cy_free(ids[i]);
    cy_free(ids);
    if (e.code) {
        json_decref(recs);
        json_decref(message);
        fw_error(r, w, 500, "store", "%s", e.msg);
        return;
    }
    /* what was handed over is fetched: a message to one of its recipients
     * is delivered (the framework's rule; HEAD hands nothing over) */
    if (!r->anon && !strcmp(r->method, "GET")) {
        cy_fw_live_fetched(r->node->fw, id, mtype, r->who.name);
        size_t i;
        json_t *row;
        json_array_foreach(recs, i, row)
            cy_fw_live_fetched(r->node->fw, json_string_value(json_object_get(row, "id")),
                               json_string_value(json_object_get(row, "type")), r->who.name);
    }
    bool more = pos < total;
    json_t *v = json_pack("{s:s, s:o, s:o, s:b}", "id", id, "message", message, "records", recs,
                          "more", more);
    if (v && more) {
        char next[32];
        snprintf(next, sizeof next, "%zu", pos);
        json_object_set_new(v, "next", json_string(next));
    }
    if (!v)
        fw_error(r, w, 500, "internal", "out of memory");
    else
        cy_resp_json(r, w, 200, "application/json", v);
}

/* ---- /v1/framework/overdue ----------------------------------------------------------- */

static int no_arg(void *ctx, const char *key, const char *value)
{
    (void)value;
    *(const char **)ctx = key;
    return 1;
}

static void overdue(cy_req *r, cy_resp *w)
{
    const char *bad = NULL;
    if (cy_req_args(r, no_arg, &bad) || bad) {
        fw_error(r, w, 400, "query", "parameter '%s': this endpoint takes none",
                 bad ? bad : "?");
        return;
    }
    if (!is_operator(r)) {
        fw_error(r, w, 403, "access", "only the operator sees every overdue message");
        return;
    }
    int64_t now = cy_now_ms();
    char *text = NULL;
    comity_error e = {0};
    comity_err rc = comity_framework_overdue(cy_fw_live_lock(r->node->fw), now, &text, &e);
    cy_fw_live_unlock(r->node->fw);
    json_t *items = rc ? NULL : lib_json(text);
    if (rc || !items) {
        if (rc)
            lib_error(r, w, rc, &e);
        else
            fw_error(r, w, 500, "internal", "out of memory");
        return;
    }
    /* each late slot names its recipient as "party" (the library's "to") */
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it)
        json_object_set(it, "party", json_object_get(it, "to"));
    cy_resp_json(r, w, 200, "application/json",
                 json_pack("{s:o, s:o}", "now", time_json(now), "overdue", items));
}

/* ---- /v1/directory ------------------------------------------------------------------- */

struct dir_args {
    const char *state;
    int64_t at;
    bool has_at;
    const char *bad;
};

static int dir_arg(void *ctx, const char *key, const char *value)
{
    struct dir_args *a = ctx;
    if (!strcmp(key, "state") && !a->state && state_valid(value))
        a->state = value;
    else if (!strcmp(key, "at") && !a->has_at && time_arg(value, &a->at))
        a->has_at = true;
    else
        a->bad = key;
    return a->bad ? 1 : 0;
}

static void directory(cy_req *r, cy_resp *w)
{
    struct dir_args a = {0};
    if (cy_req_args(r, dir_arg, &a) || a.bad) {
        fw_error(r, w, 400, "query",
                 "parameter '%s' is unknown, repeated or malformed (state=XX, at=RFC 3339)",
                 a.bad ? a.bad : "?");
        return;
    }
    int64_t at = a.has_at ? a.at : cy_now_ms();
    char *text = NULL;
    comity_error e = {0};
    comity_err rc =
        comity_framework_directory(cy_fw_live_lock(r->node->fw), a.state, at, &text, &e);
    cy_fw_live_unlock(r->node->fw);
    json_t *entries = rc ? NULL : lib_json(text);
    if (rc || !entries) {
        if (rc)
            lib_error(r, w, rc, &e);
        else
            fw_error(r, w, 500, "internal", "out of memory");
        return;
    }
    json_t *v = json_pack("{s:o, s:o}", "at", time_json(at), "entries", entries);
    if (a.state)
        json_object_set_new(v, "state", json_string(a.state));
    cy_resp_json(r, w, 200, "application/json", v);
}

/* ---- /v1/framework/pings ------------------------------------------------------------- */

struct ping_args {
    const char *sel[FW_PARTIES_MAX];
    size_t nsel;
    const char *kind;
    const char *by; /* "state" or "region": grouped statistics */
    int64_t from, to;
    bool has_from, has_to, too_many;
    const char *bad;
};

static bool kind_valid(const char *k)
{
    if (!k)
        return false;
    if (!strcmp(k, "unknown"))
        return true;
    for (size_t i = 0; cy_fw_poc_kinds[i]; i++)
        if (!strcmp(k, cy_fw_poc_kinds[i]))
            return true;
    return false;
}

static int ping_arg(void *ctx, const char *key, const char *value)
{
    struct ping_args *a = ctx;
    if (!strcmp(key, "party") || !strcmp(key, "state")) {
        bool ok = !strcmp(key, "party") ? value && comity_party_valid(value, NULL)
                                         : state_valid(value);
        if (!ok)
            a->bad = key;
        else if (a->nsel == FW_PARTIES_MAX)
            a->too_many = true;
        else
            a->sel[a->nsel++] = value;
    } else if (!strcmp(key, "kind") && !a->kind && kind_valid(value)) {
        a->kind = value;
    } else if (!strcmp(key, "by") && !a->by && value &&
               (!strcmp(value, "state") || !strcmp(value, "region"))) {
        a->by = value;
    } else if (!strcmp(key, "from") && !a->has_from && time_arg(value, &a->from)) {
        a->has_from = true;
    } else if (!strcmp(key, "to") && !a->has_to && time_arg(value, &a->to)) {
        a->has_to = true;
    } else {
        a->bad = key;
    }
    return a->bad || a->too_many ? 1 : 0;
}

static json_t *pct_json(int64_t v) { return v < 0 ? json_null() : json_integer(v); }

static void pings(cy_req *r, cy_resp *w)
{
    struct ping_args a = {0};
    if (cy_req_args(r, ping_arg, &a) || a.bad || a.too_many) {
        if (a.too_many)
            fw_error(r, w, 400, "query", "at most %d party and state values", FW_PARTIES_MAX);
        else
            fw_error(r, w, 400, "query",
                     "parameter '%s' is unknown, repeated or malformed (from=, to= RFC 3339; "
                     "party=NAME, state=XX, repeatable; kind=a contact kind or unknown; "
                     "by=state or by=region)",
                     a.bad ? a.bad : "?");
        return;
    }
    if (a.by && a.nsel) {
        fw_error(r, w, 400, "query", "by= groups every state or region: give no party= or state=");
        return;
    }
    int64_t now = cy_now_ms();
    int64_t to = a.has_to ? a.to : now;
    int64_t from = a.has_from ? a.from : to - FW_DEFAULT_PERIOD_MS;
    if (from >= to) {
        fw_error(r, w, 400, "query", "from must be before to");
        return;
    }
    cy_fw_live *f = r->node->fw;
    comity_error e = {0};
    comity_err rc;
    json_t *v = NULL;
    if (a.by) {
        char *text = NULL;
        rc = comity_framework_ping_groups_as(cy_fw_live_lock(f), r->anon ? NULL : r->who.name,
                                             a.by, a.kind, from, to, &text, &e);
        cy_fw_live_unlock(f);
        json_t *rows = rc ? NULL : lib_json(text);
        if (rows)
            v = json_pack("{s:o, s:o, s:s, s:s?, s:o}", "from", time_json(from), "to",
                          time_json(to), "by", a.by, "kind", a.kind, "rows", rows);
    } else if (a.nsel || a.kind) {
        comity_ping_stats s;
        rc = comity_framework_ping_stats_as(cy_fw_live_lock(f), r->anon ? NULL : r->who.name,
                                            a.sel, a.nsel, a.kind, from, to, &s, &e);
        cy_fw_live_unlock(f);
        if (!rc) {
            json_t *sel = json_array();
            for (size_t i = 0; i < a.nsel; i++)
                json_array_append_new(sel, json_string(a.sel[i]));
            v = json_pack("{s:o, s:o, s:s?, s:o, s:I, s:I, s:o, s:o, s:f}", "from",
                          time_json(from), "to", time_json(to), "kind", a.kind, "parties", sel,
                          "count", (json_int_t)s.count, "answered", (json_int_t)s.answered,
                          "p50_ms", pct_json(s.p50_ms), "p90_ms", pct_json(s.p90_ms),
                          "unanswered", s.unanswered);
        }
    } else {
        char *text = NULL;
        rc = comity_framework_ping_report_as(cy_fw_live_lock(f), r->anon ? NULL : r->who.name,
                                             from, to, &text, &e);
        cy_fw_live_unlock(f);
        json_t *rows = rc ? NULL : lib_json(text);
        if (rows)
            v = json_pack("{s:o, s:o, s:o}", "from", time_json(from), "to", time_json(to),
                          "rows", rows);
    }
    if (rc)
        lib_error(r, w, rc, &e);
    else if (!v)
        fw_error(r, w, 500, "internal", "out of memory");
    else
        cy_resp_json(r, w, 200, "application/json", v);
}

/* ---- /v1/framework/cases, /v1/framework/cases/{id} --------------------------------- */

/* A party's open cases: who may read whose is the inbox's rule. */
static void cases(cy_req *r, cy_resp *w)
{
    struct inbox_args a = {0};
    const char *party = NULL;
    if (!reader_party(r, w, &a, &party))
        return;
    comity_error e = {0};
    comity_err rc;
    char *text = NULL;
    rc = comity_framework_cases(cy_fw_live_lock(r->node->fw), party, cy_now_ms(), &text, &e);
    cy_fw_live_unlock(r->node->fw);
    if (rc) {
        lib_error(r, w, rc, &e);
        return;
    }
    json_t *v = lib_json(text);
    if (!v)
        fw_error(r, w, 500, "internal", "out of memory");
    else
        cy_resp_json(r, w, 200, "application/json", v);
}

/* One case as the asking party sees it; the operator sees every case (the
 * library's NULL viewer), without any sealed body, which the node never
 * holds in clear.  A party not in the case gets the unknown id's 404. */
static void one_case(cy_req *r, cy_resp *w, const char *id, bool custody)
{
    struct inbox_args a = {0};
    if (cy_req_args(r, inbox_arg, &a) || a.bad || a.party) {
        fw_error(r, w, 400, "query", "parameter '%s' is unknown here (none is taken)",
                 a.bad ? a.bad : "party");
        return;
    }
    char *text = NULL;
    comity_error e = {0};
    comity_err rc = COMITY_ERR_NOTFOUND;
    if (strlen(id) < CY_RECORD_ID_MAX) {
        const comity_framework *fw = cy_fw_live_lock(r->node->fw);
        const char *viewer = is_operator(r) ? NULL : r->who.name;
        rc = custody ? comity_framework_custody(fw, id, viewer, &text, &e)
                     : comity_framework_case(fw, id, viewer, cy_now_ms(), &text, &e);
        cy_fw_live_unlock(r->node->fw);
    }
    if (rc == COMITY_ERR_NOTFOUND) {
        fw_error(r, w, 404, "framework", "no case %.100s visible to you", id);
        return;
    }
    lib_answer(r, w, rc, text, &e);
}

/* ---- /v1/framework/case-types ------------------------------------------------------ */

/* The case record types with their body schemas (the library's tables),
 * for clients that check a body before they seal it: the node cannot
 * check a sealed body, so the author's client must. */
static void case_types(cy_req *r, cy_resp *w)
{
    const char *bad = NULL;
    if (cy_req_args(r, no_arg, &bad) || bad) {
        fw_error(r, w, 400, "query", "parameter '%.64s' is unknown here (none is taken)",
                 bad ? bad : "?");
        return;
    }
    char *text = NULL;
    comity_error e = {0};
    comity_err rc = comity_framework_case_types(&text, &e);
    lib_answer(r, w, rc, text, &e);
}

/* ---- /v1/framework/retention ------------------------------------------------------- */

/* What is due for destruction now (operator only): the node's retention
 * settings on its live state and its file store, as its job sees them. */
static void retention(cy_req *r, cy_resp *w)
{
    const char *bad = NULL;
    if (cy_req_args(r, no_arg, &bad) || bad) {
        fw_error(r, w, 400, "query", "parameter '%s': this endpoint takes none",
                 bad ? bad : "?");
        return;
    }
    if (!is_operator(r)) {
        fw_error(r, w, 403, "access", "only the operator sees what is due for destruction");
        return;
    }
    char *text = NULL;
    comity_error e = {0};
    comity_err rc = comity_node_retention_due(r->node, cy_now_ms(), &text, &e);
    lib_answer(r, w, rc, text, &e);
}

/* ---- /v1/framework/norms ----------------------------------------------------------- */

static int state_arg(void *ctx, const char *key, const char *value)
{
    const char **a = ctx; /* [0] state, [1] the unknown key */
    if (!strcmp(key, "state") && !a[0] && state_valid(value))
        a[0] = value;
    else
        a[1] = key;
    return a[1] ? 1 : 0;
}

static int topic_arg(void *ctx, const char *key, const char *value)
{
    const char **a = ctx; /* [0] topic, [1] the unknown key */
    if (!strcmp(key, "topic") && !a[0] && value && *value)
        a[0] = value;
    else
        a[1] = key;
    return a[1] ? 1 : 0;
}

static int report_arg(void *ctx, const char *key, const char *value)
{
    const char **a = ctx; /* [0] period, [1] the unknown key, [2] norm */
    if (!strcmp(key, "period") && !a[0] && value && *value)
        a[0] = value;
    else if (!strcmp(key, "norm") && !a[2] && value && *value)
        a[2] = value;
    else
        a[1] = key;
    return a[1] ? 1 : 0;
}

/* The norm catalogue (public to every party), or the declarations of
 * protected infrastructure (?state=S) the caller may see: the library
 * lists public ones, those sealed to the caller or its state, and those
 * re-sealed to it (docs/norms.md); the operator sees every envelope. */
static void norms(cy_req *r, cy_resp *w)
{
    bool decl = r->nseg == 4 && !strcmp(r->segs[3], "declarations");
    bool rep = r->nseg == 4 && !strcmp(r->segs[3], "reports");
    bool pos = r->nseg == 4 && !strcmp(r->segs[3], "positions");
    if (r->nseg != 3 && !decl && !rep && !pos) {
        fw_error(r, w, 404, "path", "no such endpoint: %s", r->url);
        return;
    }
    const char *a[3] = {NULL, NULL, NULL};
    if (cy_req_args(r, decl ? state_arg : rep ? report_arg : pos ? topic_arg : no_arg,
                    decl || rep || pos ? (void *)a : (void *)&a[1]) || a[1]) {
        fw_error(r, w, 400, "query", "parameter '%.64s' is unknown, repeated or malformed",
                 a[1] ? a[1] : "?");
        return;
    }
    if (rep && !a[0]) {
        fw_error(r, w, 400, "query", "want ?period= (2026, 2026-H1, 2026-Q3)");
        return;
    }
    char *text = NULL;
    comity_error e = {0};
    const comity_framework *fw = cy_fw_live_lock(r->node->fw);
    comity_err rc = decl ? comity_framework_norm_declarations(
                               fw, a[0], is_operator(r) ? NULL : r->who.name, cy_now_ms(),
                               &text, &e)
                    : rep ? comity_framework_norm_reports(fw, a[0], a[2], &text, &e)
                    : pos ? comity_framework_norm_positions(
                                fw, a[0], is_operator(r) ? NULL : r->who.name, &text, &e)
                          : comity_framework_norms(fw, &text, &e);
    cy_fw_live_unlock(r->node->fw);
    lib_answer(r, w, rc, text, &e);
}

/* ---- /v1/framework/spyware/vendors -------------------------------------------------- */

static int name_arg(void *ctx, const char *key, const char *value)
{
    const char **a = ctx;
    if (strcmp(key, "name") != 0 || a[0] || !value)
        return a[1] = key, 1;
    a[0] = value;
    return 0;
}

/* The spyware registry: lookup by name (?name=), or one vendor (id). */
static void spyware_vendors(cy_req *r, cy_resp *w, const char *id)
{
    const char *a[2] = {NULL, NULL}; /* name, a bad argument */
    if (cy_req_args(r, name_arg, a) || a[1] || (!id && !a[0]) || (id && a[0])) {
        fw_error(r, w, 400, "query", "parameter '%.64s': want name=NAME (or a vendor id "
                 "in the path, and no parameter)", a[1] ? a[1] : "name");
        return;
    }
    char *text = NULL;
    comity_error e = {0};
    const comity_framework *fw = cy_fw_live_lock(r->node->fw);
    comity_err rc = id ? comity_framework_spyware_vendor(fw, id, &text, &e)
                       : comity_framework_spyware_lookup(fw, a[0], &text, &e);
    cy_fw_live_unlock(r->node->fw);
    lib_answer(r, w, rc, text, &e);
}

struct spy_report_args {
    const char *state, *bad;
    int year;
};

static int spy_report_arg(void *ctx, const char *key, const char *value)
{
    struct spy_report_args *a = ctx;
    char *end = NULL;
    long y = value ? strtol(value, &end, 10) : 0;
    if (!strcmp(key, "state") && !a->state && state_valid(value))
        a->state = value;
    else if (!strcmp(key, "year") && !a->year && end && !*end && y >= 1970 && y <= 9999)
        a->year = (int)y;
    else
        a->bad = key;
    return a->bad ? 1 : 0;
}

/* The spyware registry's transparency report (the library's figures). */
static void spyware_report(cy_req *r, cy_resp *w)
{
    struct spy_report_args a = {0};
    if (cy_req_args(r, spy_report_arg, &a) || a.bad) {
        fw_error(r, w, 400, "query", "parameter '%.64s' is unknown, repeated or malformed "
                 "(state=XX, year=YYYY)", a.bad ? a.bad : "?");
        return;
    }
    char *text = NULL;
    comity_error e = {0};
    comity_err rc = comity_framework_spyware_report(cy_fw_live_lock(r->node->fw), a.state,
                                                    a.year, &text, &e);
    cy_fw_live_unlock(r->node->fw);
    lib_answer(r, w, rc, text, &e);
}

/* Government use under oversight: the caller's authorisations, as
 * author or overseer (the operator names a party with ?party=). */
static void spyware_authorisations(cy_req *r, cy_resp *w)
{
    struct inbox_args a = {0};
    const char *party = NULL;
    if (!reader_party(r, w, &a, &party))
        return;
    char *text = NULL;
    comity_error e = {0};
    comity_err rc = comity_framework_spyware_authorisations(cy_fw_live_lock(r->node->fw), party,
                                                            &text, &e);
    cy_fw_live_unlock(r->node->fw);
    lib_answer(r, w, rc, text, &e);
}

/* ---- routing -------------------------------------------------------------------------- */

void cy_fw_handle(cy_req *r, cy_resp *w)
{
    if (!r->node->fw) {
        fw_error(r, w, 503, "serving", "the framework is not running");
        return;
    }
    if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0) {
        w->allow = "GET, HEAD";
        fw_error(r, w, 405, "method", "only GET is served here (write with POST /v1/records)");
        return;
    }
    if (r->anon) { /* every answer here is for registered parties */
        fw_error(r, w, 401, "authenticated", "log in (HTTP Basic with party name and token, or "
                                             "'Authorization: Token ...')");
        return;
    }
    const char *s1 = r->segs[1];
    if (!strcmp(s1, "directory") && r->nseg == 2) {
        directory(r, w);
        return;
    }
    if (!strcmp(s1, "framework") && r->nseg >= 3 && !strcmp(r->segs[2], "norms")) {
        norms(r, w); /* the catalogue and declarations (docs/norms.md) */
        return;
    }
    if (!strcmp(s1, "framework") && r->nseg == 3) {
        const char *s2 = r->segs[2];
        if (!strcmp(s2, "inbox"))
            inbox(r, w);
        else if (!strcmp(s2, "overdue"))
            overdue(r, w);
        else if (!strcmp(s2, "pings"))
            pings(r, w);
        else if (!strcmp(s2, "cases"))
            cases(r, w);
        else if (!strcmp(s2, "case-types"))
            case_types(r, w);
        else if (!strcmp(s2, "retention"))
            retention(r, w);
        else
            fw_error(r, w, 404, "path", "no such endpoint: %s", r->url);
        return;
    }
    if (!strcmp(s1, "framework") && r->nseg == 4 && !strcmp(r->segs[2], "spyware") &&
        !strcmp(r->segs[3], "report")) {
        spyware_report(r, w);
        return;
    }
    if (!strcmp(s1, "framework") && r->nseg == 4 && !strcmp(r->segs[2], "spyware") &&
        !strcmp(r->segs[3], "authorisations")) {
        spyware_authorisations(r, w);
        return;
    }
    if (!strcmp(s1, "framework") && (r->nseg == 4 || r->nseg == 5) &&
        !strcmp(r->segs[2], "spyware") && !strcmp(r->segs[3], "vendors")) {
        spyware_vendors(r, w, r->nseg == 5 ? r->segs[4] : NULL);
        return;
    }
    if (!strcmp(s1, "framework") && r->nseg == 4 && !strcmp(r->segs[2], "messages")) {
        message(r, w, r->segs[3]);
        return;
    }
    if (!strcmp(s1, "framework") && r->nseg == 5 && !strcmp(r->segs[2], "messages") &&
        !strcmp(r->segs[4], "thread")) {
        thread(r, w, r->segs[3]);
        return;
    }
    if (!strcmp(s1, "framework") && r->nseg == 4 && !strcmp(r->segs[2], "cases")) {
        one_case(r, w, r->segs[3], false);
        return;
    }
    if (!strcmp(s1, "framework") && r->nseg == 5 && !strcmp(r->segs[2], "cases") &&
        !strcmp(r->segs[4], "custody")) {
        one_case(r, w, r->segs[3], true); /* its chain of custody */
        return;
    }
    fw_error(r, w, 404, "path", "no such endpoint: %s", r->url);
}
