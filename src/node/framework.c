/*
 * framework.c: the framework (src/framework/) inside the node.
 *
 * The node holds one comity_framework handle, behind a mutex, while it
 * serves.  At start it is built from the node's configuration (deadlines:
 * the serve options, else DIR/node.conf, else the library's defaults) and a
 * replay of the store: every record in log order, then every delivered
 * event.  Record intake (records.c) asks it twice: a worker's dry run to
 * refuse early, and the committer's comity_framework_add, which is final
 * and runs in log order before the record's log entry is appended.  When a
 * recipient is handed a message's envelope (records.c), the delivered event
 * is stored once per (message, party) and fed in.
 *
 * Endpoints (docs/framework.md, "The node's API"), all GET, "now" from
 * cy_now_ms (COMITY_FAKE_NOW pins it):
 *   /v1/framework/inbox          a party's inbox (the operator: ?party=P)
 *   /v1/framework/messages/{id}  a message's status, per recipient slot
 *   /v1/framework/overdue        every late slot (operator only)
 *   /v1/framework/pings          ping statistics or the per-party report
 *   /v1/directory                the points-of-contact directory
 * Query arguments are outside input: each is checked (names, times,
 * kinds), repeated ones are capped (FW_PARTIES_MAX), and any other
 * argument is refused 400 with a JSON error naming it.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "framework/framework.h"
#include "node/fw.h"

#define FW_PARTIES_MAX 64       /* party= and state= values of one ping query */
#define FW_DEFAULT_PERIOD_MS (30LL * 24 * 3600 * 1000)

struct cy_fw {
    pthread_mutex_t mu;
    comity_framework *fw;
    cy_fw_table t; /* the configured table, applied to every handle built */
};

/* ---- configuration ------------------------------------------------------------ */

int64_t cy_fw_duration(const char *s)
{
    int64_t ms;
    if (comity_duration_parse(s, &ms, NULL) || ms == 0)
        return -1;
    return ms;
}

/* "ACK/REPLY" into two durations; `where` names the source in messages. */
static comity_err parse_pair(const char *where, const char *v, int64_t *ack, int64_t *answer,
                             comity_error *err)
{
    const char *slash = strchr(v, '/');
    char a[32];
    if (!slash || (size_t)(slash - v) >= sizeof a)
        return cy_fail(err, COMITY_ERR_USAGE,
                       "%s: want ACK/REPLY durations like 1h/24h (units s, m, h, d), got '%.64s'",
                       where, v);
    memcpy(a, v, (size_t)(slash - v));
    a[slash - v] = 0;
    *ack = cy_fw_duration(a);
    *answer = cy_fw_duration(slash + 1);
    if (*ack < 0 || *answer < 0)
        return cy_fail(err, COMITY_ERR_USAGE,
                       "%s: '%.64s' is not a duration pair: each a number > 0 then s, m, h "
                       "or d (at most 3650d), like 1h/24h",
                       where, v);
    return COMITY_OK;
}

static comity_err conf_setting(void *ctx, const char *key, const char *val, const char *where,
                               comity_error *err)
{
    cy_fw_table *t = ctx;
    if (!strncmp(key, "deadline.", 9)) {
        const char *sev = key + 9;
        if (sev[0] < '0' || sev[0] > '5' || sev[1])
            return cy_fail(err, COMITY_ERR_USAGE, "%s: %.32s: the severity must be 0-5", where,
                           key);
        int k = sev[0] - '0';
        return parse_pair(where, val, &t->ack_ms[k], &t->answer_ms[k], err);
    }
    if (!strcmp(key, "ping_deadline") && (t->pong_ms = cy_fw_duration(val)) < 0)
        return cy_fail(err, COMITY_ERR_USAGE,
                       "%s: ping_deadline '%.64s' is not a duration (like 24h)", where, val);
    /* other keys belong to other parts of the node */
    return COMITY_OK;
}

comity_err cy_fw_conf_parse(const char *text, size_t len, cy_fw_table *t, comity_error *err)
{
    return comity_conf_parse("node.conf", text, len, conf_setting, t, err);
}

/* DIR/node.conf, when it exists. */
static comity_err read_conf(comity_node *node, cy_fw_table *t, comity_error *err)
{
    char path[4096];
    struct stat sb;
    if ((size_t)snprintf(path, sizeof path, "%s/node.conf", node->dir) >= sizeof path ||
        stat(path, &sb) != 0)
        return COMITY_OK;
    char *text = NULL;
    size_t len = 0;
    comity_err rc = comity_read_file(path, COMITY_CONF_MAX, &text, &len, err);
    if (rc)
        return cy_wrap(err, "node.conf");
    rc = cy_fw_conf_parse(text, len, t, err);
    cy_free(text);
    return rc;
}

static comity_err read_opts(const comity_serve_opts *o, cy_fw_table *t, comity_error *err)
{
    for (int k = 0; k < 6; k++) {
        if (!o->deadline[k])
            continue;
        char where[32];
        snprintf(where, sizeof where, "--deadline %d", k);
        comity_err rc = parse_pair(where, o->deadline[k], &t->ack_ms[k], &t->answer_ms[k], err);
        if (rc)
            return rc;
    }
    if (o->ping_deadline && (t->pong_ms = cy_fw_duration(o->ping_deadline)) < 0)
        return cy_fail(err, COMITY_ERR_USAGE,
                       "--ping-deadline: '%.64s' is not a duration (a number > 0 then s, m, "
                       "h or d, like 24h)",
                       o->ping_deadline);
    return COMITY_OK;
}

/* ---- replay ------------------------------------------------------------------ */

struct replay {
    comity_framework *fw;
    size_t records, refused, events;
};

static int replay_record(const cy_record_row *row, void *ctx)
{
    struct replay *p = ctx;
    if (!comity_framework_handles(row->type) || !row->envelope)
        return 0;
    /* verified when it was received; parsing is enough here */
    comity_record *rec = NULL;
    comity_error e = {0};
    if (comity_record_parse(row->envelope, row->envelope_len, &rec, &e) != COMITY_OK ||
        comity_framework_add(p->fw, rec, NULL, 0, &e) != COMITY_OK) {
        /* e.g. stored before this node applied the framework rules */
        if (p->refused++ < 5)
            fprintf(stderr, "comity node: framework: stored record %s not replayed: %s\n",
                    row->id, e.msg);
    } else {
        p->records++;
    }
    comity_record_free(rec);
    return 0;
}

static int replay_event(const cy_delivered_row *row, void *ctx)
{
    struct replay *p = ctx;
    if (comity_framework_delivered(p->fw, row->id, row->party, row->at_ms, NULL) == COMITY_OK)
        p->events++;
    return 0;
}

/* A new handle: the configured table, then the store replayed.  OUT *out:
 * comity_framework_free. */
static comity_err build(comity_node *node, const cy_fw_table *t, comity_framework **out,
                        struct replay *p, comity_error *err)
{
    comity_framework *fw = NULL;
    comity_err rc = comity_framework_new(&fw, err);
    for (int k = 0; k < 6 && !rc; k++)
        if (t->ack_ms[k])
            rc = comity_framework_set_deadline(fw, k, t->ack_ms[k], t->answer_ms[k], err);
    if (!rc && t->pong_ms)
        rc = comity_framework_set_ping_deadline(fw, t->pong_ms, err);
    memset(p, 0, sizeof *p);
    p->fw = fw;
    if (!rc)
        rc = cy_store_fw_replay(node->store, replay_record, p, err);
    if (!rc)
        rc = cy_store_delivered_list(node->store, replay_event, p, err);
    if (rc) {
        comity_framework_free(fw);
        return cy_wrap(err, "framework: replay");
    }
    *out = fw;
    return COMITY_OK;
}

comity_err cy_fw_start(comity_node *node, const comity_serve_opts *o, comity_error *err)
{
    struct cy_fw *f = cy_calloc(1, sizeof *f);
    if (!f)
        return cy_fail(err, COMITY_ERR_NOMEM, "framework: out of memory");
    struct replay p;
    comity_err rc;
    if ((rc = read_conf(node, &f->t, err)) || (rc = read_opts(o, &f->t, err)) ||
        (rc = build(node, &f->t, &f->fw, &p, err))) {
        cy_free(f);
        return rc;
    }
    pthread_mutex_init(&f->mu, NULL);
    if (p.records || p.refused)
        fprintf(stderr, "comity node: framework: %zu record(s) and %zu delivered event(s) "
                        "replayed, %zu refused\n", p.records, p.events, p.refused);
    node->fw = f;
    return COMITY_OK;
}

void cy_fw_stop(comity_node *node)
{
    struct cy_fw *f = node ? node->fw : NULL;
    if (!f)
        return;
    comity_framework_free(f->fw);
    pthread_mutex_destroy(&f->mu);
    cy_free(f);
    node->fw = NULL;
}

void cy_fw_rebuild(comity_node *node)
{
    struct cy_fw *f = node->fw;
    if (!f)
        return;
    /* under the lock: no delivered event may land in the old handle
     * between the replay and the swap */
    pthread_mutex_lock(&f->mu);
    comity_framework *fw = NULL;
    struct replay p;
    comity_error e = {0};
    if (build(node, &f->t, &fw, &p, &e) == COMITY_OK) {
        comity_framework_free(f->fw);
        f->fw = fw;
    } else {
        fprintf(stderr, "comity node: framework: rebuild failed, state may be ahead of the "
                        "store until restart: %s\n", e.msg);
    }
    pthread_mutex_unlock(&f->mu);
}

/* ---- intake hooks ------------------------------------------------------------------ */

unsigned cy_fw_status_of(comity_err rc)
{
    switch (rc) {
    case COMITY_ERR_INVALID:
    case COMITY_ERR_NOTFOUND: return 422;
    case COMITY_ERR_DENIED: return 403;
    case COMITY_ERR_CONFLICT:
    case COMITY_ERR_EXISTS: return 409;
    default: return 500;
    }
}

comity_err cy_fw_precheck(comity_node *node, const comity_record *rec, comity_error *err)
{
    struct cy_fw *f = node->fw;
    const char *type = comity_record_type(rec);
    if (!f || !comity_framework_handles(type))
        return COMITY_OK;
    /* the dry run checks a clear body's schema first of all (after the
     * re-post test, and `created`, which the record parser checked the
     * same way), so the body is parsed once: only a re-post, which the dry
     * run does not read further, still needs the schema check alone */
    pthread_mutex_lock(&f->mu);
    comity_err rc = comity_framework_check(f->fw, rec, NULL, 0, err);
    pthread_mutex_unlock(&f->mu);
    if (rc == COMITY_ERR_EXISTS) { /* a re-post: the committer answers it */
        cy_err_clear(err);
        const char *body = comity_record_body(rec);
        rc = body ? comity_framework_check_body(type, body, strlen(body), err) : COMITY_OK;
    }
    return rc;
}

comity_err cy_fw_add(comity_node *node, const comity_record *rec, bool *added,
                     comity_error *err)
{
    struct cy_fw *f = node->fw;
    *added = false;
    if (!f || !comity_framework_handles(comity_record_type(rec)))
        return COMITY_OK;
    pthread_mutex_lock(&f->mu);
    comity_err rc = comity_framework_add(f->fw, rec, NULL, 0, err);
    pthread_mutex_unlock(&f->mu);
    *added = rc == COMITY_OK;
    return rc;
}

static bool is_message(const char *type)
{
    return !strcmp(type, "notification") || !strcmp(type, "request") || !strcmp(type, "ping");
}

void cy_fw_fetched(cy_req *r, const char *id, const char *type)
{
    struct cy_fw *f = r->node->fw;
    /* HEAD hands nothing over */
    if (!f || r->anon || !id || !type || !is_message(type) || strcmp(r->method, "GET") != 0)
        return;
    const char *party = r->who.name;
    comity_msg_status s;
    pthread_mutex_lock(&f->mu);
    comity_err rc = comity_framework_status(f->fw, id, party, 0, &s, NULL);
    pthread_mutex_unlock(&f->mu);
    /* not a recipient, or already past "sent" (delivered, answered,
     * closed): nothing to record */
    if (rc || s.state != COMITY_MSG_SENT)
        return;
    int64_t now = cy_now_ms();
    bool added = false;
    comity_error e = {0};
    if (cy_store_delivered_add(r->node->store, id, party, now, &added, &e)) {
        fprintf(stderr, "comity node: framework: delivered event of %s to %s not stored: %s\n",
                id, party, e.msg);
        return;
    }
    pthread_mutex_lock(&f->mu);
    (void)comity_framework_delivered(f->fw, id, party, now, NULL);
    pthread_mutex_unlock(&f->mu);
}

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
    const char *bad;
};

static int inbox_arg(void *ctx, const char *key, const char *value)
{
    struct inbox_args *a = ctx;
    if (!strcmp(key, "party") && !a->party && value)
        a->party = value;
    else
        a->bad = key;
    return a->bad ? 1 : 0;
}

static void inbox(cy_req *r, cy_resp *w)
{
    struct inbox_args a = {0};
    if (cy_req_args(r, inbox_arg, &a) || a.bad) {
        fw_error(r, w, 400, "query", "parameter '%s' is unknown, repeated or empty (party)",
                 a.bad ? a.bad : "?");
        return;
    }
    const char *party = a.party;
    if (is_operator(r)) {
        if (!party) {
            fw_error(r, w, 400, "query", "the operator has no inbox: give ?party=NAME");
            return;
        }
    } else if (party && strcmp(party, r->who.name) != 0) {
        fw_error(r, w, 403, "access", "%s may read only its own inbox", r->who.name);
        return;
    } else {
        party = r->who.name;
    }
    if (!comity_party_valid(party, NULL)) {
        fw_error(r, w, 400, "query", "party: '%.64s' is not a party name", party);
        return;
    }
    int64_t now = cy_now_ms();
    char *text = NULL;
    comity_error e = {0};
    pthread_mutex_lock(&r->node->fw->mu);
    comity_err rc = comity_framework_inbox(r->node->fw->fw, party, now, &text, &e);
    pthread_mutex_unlock(&r->node->fw->mu);
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
    return json_pack("{s:s, s:b, s:s?, s:o}", "state", comity_msg_state_name(s->state),
                     "overdue", s->overdue, "expects", s->expects, "due",
                     time_or_null(s->due_ms));
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
        !is_message(m.type) || comity_record_parse(m.envelope, m.len, &rec, NULL) != COMITY_OK) {
        cy_free(m.envelope);
        fw_error(r, w, 404, "framework", "no message %.100s visible to you", id);
        return;
    }
    cy_free(m.envelope);
    struct cy_fw *f = r->node->fw;
    int64_t now = cy_now_ms();
    comity_msg_status s, mine;
    comity_error e = {0};
    pthread_mutex_lock(&f->mu);
    bool author = !strcmp(comity_record_author(rec), r->who.name);
    bool recipient =
        comity_framework_status(f->fw, id, r->who.name, now, &mine, NULL) == COMITY_OK;
    comity_err rc = COMITY_ERR_DENIED;
    json_t *slots = NULL;
    if (author || recipient || is_operator(r)) {
        rc = comity_framework_status(f->fw, id, a.party, now, &s, &e);
        slots = json_array();
        size_t nto = comity_record_to_count(rec);
        for (size_t i = 0; i < nto && !rc; i++) {
            comity_msg_status one;
            const char *p = comity_record_to(rec, i);
            if (comity_framework_status(f->fw, id, p, now, &one, NULL) != COMITY_OK)
                continue;
            json_t *o = status_json(&one);
            json_object_set_new(o, "party", json_string(p));
            json_array_append_new(slots, o);
        }
    }
    pthread_mutex_unlock(&f->mu);
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
        cy_resp_json(r, w, 200, "application/json", v);
    }
    json_decref(slots);
    comity_record_free(rec);
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
    pthread_mutex_lock(&r->node->fw->mu);
    comity_err rc = comity_framework_overdue(r->node->fw->fw, now, &text, &e);
    pthread_mutex_unlock(&r->node->fw->mu);
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
    pthread_mutex_lock(&r->node->fw->mu);
    comity_err rc = comity_framework_directory(r->node->fw->fw, a.state, at, &text, &e);
    pthread_mutex_unlock(&r->node->fw->mu);
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
                     "party=NAME, state=XX, repeatable; kind=a contact kind or unknown)",
                     a.bad ? a.bad : "?");
        return;
    }
    int64_t now = cy_now_ms();
    int64_t to = a.has_to ? a.to : now;
    int64_t from = a.has_from ? a.from : to - FW_DEFAULT_PERIOD_MS;
    if (from >= to) {
        fw_error(r, w, 400, "query", "from must be before to");
        return;
    }
    struct cy_fw *f = r->node->fw;
    comity_error e = {0};
    comity_err rc;
    json_t *v = NULL;
    if (a.nsel || a.kind) {
        comity_ping_stats s;
        pthread_mutex_lock(&f->mu);
        rc = comity_framework_ping_stats_as(f->fw, r->anon ? NULL : r->who.name, a.sel, a.nsel,
                                            a.kind, from, to, &s, &e);
        pthread_mutex_unlock(&f->mu);
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
        pthread_mutex_lock(&f->mu);
        rc = comity_framework_ping_report_as(f->fw, r->anon ? NULL : r->who.name, from, to,
                                             &text, &e);
        pthread_mutex_unlock(&f->mu);
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
    if (!strcmp(s1, "framework") && r->nseg == 3) {
        const char *s2 = r->segs[2];
        if (!strcmp(s2, "inbox"))
            inbox(r, w);
        else if (!strcmp(s2, "overdue"))
            overdue(r, w);
        else if (!strcmp(s2, "pings"))
            pings(r, w);
        else
            fw_error(r, w, 404, "path", "no such endpoint: %s", r->url);
        return;
    }
    if (!strcmp(s1, "framework") && r->nseg == 4 && !strcmp(r->segs[2], "messages")) {
        message(r, w, r->segs[3]);
        return;
    }
    fw_error(r, w, 404, "path", "no such endpoint: %s", r->url);
}
