/*
 * framework.c: the framework's state: directory, message status, pings.
 *
 * A comity_framework is fed verified records in log order (and "delivered"
 * events from the node) and keeps, in memory:
 *
 *   - the directory: every poc entry, in log order, per (state, kind);
 *   - messages (notification, request, ping), each with one slot per
 *     recipient named in its `to`, holding that recipient's state
 *     (sent -> delivered -> acknowledged -> answered | declined) and the
 *     times each step happened; closing is message-wide;
 *   - the ids of every record fed, so that nothing is fed twice.
 *
 * Every rule that needs state is checked before anything changes, so a
 * refused record leaves the handle as it was.  Deadlines are not stored:
 * they are computed at query time from the message's created time,
 * severity and respond_by and the handle's deadline table, so that a table
 * set after replay still applies.  Lookups by id go through a jansson
 * object used as a hash table; the rest is linear (a node holds thousands
 * of messages, not millions; docs/framework.md says how to persist).
 */
#include <stdlib.h>
#include <string.h>

#include "framework/framework.h"

#define HOUR_MS (3600 * (int64_t)1000)

typedef struct rcpt {
    char *party;             /* as named in the message's `to` */
    char *kind;              /* pings: contact kind pinged ("unknown" if none) */
    comity_msg_state state;  /* SENT..DECLINED; CLOSED lives on the message */
    int64_t delivered_ms, acked_ms, answered_ms; /* -1: not yet */
} rcpt;

typedef struct msg {
    enum cy_fw_type type;    /* NOTIFICATION, REQUEST or PING */
    char *id, *author;
    int64_t created_ms;
    int severity;            /* 1-5, 0 unknown */
    int64_t respond_by_ms;   /* -1: none given */
    bool answer_expected;
    bool announced;          /* pings */
    bool closed;
    int64_t closed_ms;
    bool clear, green;       /* its tlp, for may_see() */
    rcpt *r;
    size_t nr;
} msg;

typedef struct poc {
    char *state, *kind, *party, *id, *author;
    int64_t created_ms, from_ms, until_ms; /* until -1: open-ended */
    bool withdrawn;
    json_t *body;            /* owned reference */
} poc;

struct comity_framework {
    msg *msgs;
    size_t nmsgs, capmsgs;
    poc *pocs;
    size_t npocs, cappocs;
    json_t *ids;             /* record id -> message index, or -1 */
    int64_t ack_ms[6], answer_ms[6]; /* by severity, [0] unknown */
    int64_t pong_ms;
};

/* Defaults: configurable, not law (docs/framework.md). */
static const int64_t default_ack_h[6] = {24, 72, 48, 24, 4, 1};
static const int64_t default_answer_h[6] = {7 * 24, 30 * 24, 14 * 24, 7 * 24,
                                            72, 24};

static const char *const state_names[] = {"sent", "delivered", "acknowledged",
                                          "answered", "declined", "closed"};

const char *comity_msg_state_name(comity_msg_state s)
{
    return (unsigned)s < CY_ARRAY_LEN(state_names) ? state_names[s] : "?";
}

comity_err comity_framework_new(comity_framework **out, comity_error *err)
{
    *out = NULL;
    comity_framework *fw = cy_calloc(1, sizeof *fw);
    if (!fw || !(fw->ids = json_object())) {
        cy_free(fw);
        return cy_fail(err, COMITY_ERR_NOMEM, "framework: out of memory");
    }
    for (int i = 0; i < 6; i++) {
        fw->ack_ms[i] = default_ack_h[i] * HOUR_MS;
        fw->answer_ms[i] = default_answer_h[i] * HOUR_MS;
    }
    fw->pong_ms = 24 * HOUR_MS;
    *out = fw;
    return COMITY_OK;
}

static void msg_clear(msg *m)
{
    for (size_t i = 0; i < m->nr; i++) {
        cy_free(m->r[i].party);
        cy_free(m->r[i].kind);
    }
    cy_free(m->r);
    cy_free(m->id);
    cy_free(m->author);
}

static void poc_clear(poc *p)
{
    cy_free(p->state);
    cy_free(p->kind);
    cy_free(p->party);
    cy_free(p->id);
    cy_free(p->author);
    json_decref(p->body);
}

void comity_framework_free(comity_framework *fw)
{
    if (!fw)
        return;
    for (size_t i = 0; i < fw->nmsgs; i++)
        msg_clear(&fw->msgs[i]);
    for (size_t i = 0; i < fw->npocs; i++)
        poc_clear(&fw->pocs[i]);
    cy_free(fw->msgs);
    cy_free(fw->pocs);
    json_decref(fw->ids);
    cy_free(fw);
}

comity_err comity_framework_set_deadline(comity_framework *fw, int severity,
                                         int64_t ack_ms, int64_t answer_ms,
                                         comity_error *err)
{
    if (severity < 0 || severity > 5)
        return cy_fail(err, COMITY_ERR_USAGE,
                       "framework: severity %d: want 0 (unknown) or 1-5",
                       severity);
    if (ack_ms <= 0 || answer_ms <= 0)
        return cy_fail(err, COMITY_ERR_USAGE,
                       "framework: deadlines must be positive");
    fw->ack_ms[severity] = ack_ms;
    fw->answer_ms[severity] = answer_ms;
    return COMITY_OK;
}

comity_err comity_framework_set_ping_deadline(comity_framework *fw,
                                              int64_t pong_ms,
                                              comity_error *err)
{
    if (pong_ms <= 0)
        return cy_fail(err, COMITY_ERR_USAGE,
                       "framework: the ping deadline must be positive");
    fw->pong_ms = pong_ms;
    return COMITY_OK;
}

/* ---- helpers ----------------------------------------------------------- */

/* The state a party belongs to: its first label, into buf. */
static const char *state_of(const char *party, char buf[COMITY_PARTY_MAX + 1])
{
    size_t n = strcspn(party, ".");
    if (n > COMITY_PARTY_MAX)
        n = COMITY_PARTY_MAX;
    memcpy(buf, party, n);
    buf[n] = 0;
    return buf;
}

/* The slot of message m that `party` answers for: its own name in `to`, or
 * else its bare state there.  NULL if it is no recipient. */
static rcpt *recipient(const msg *m, const char *party)
{
    char st[COMITY_PARTY_MAX + 1];
    state_of(party, st);
    rcpt *bystate = NULL;
    for (size_t i = 0; i < m->nr; i++) {
        if (strcmp(m->r[i].party, party) == 0)
            return &m->r[i];
        if (!strchr(m->r[i].party, '.') && strcmp(m->r[i].party, st) == 0)
            bystate = &m->r[i];
    }
    return bystate;
}

/* Whether `viewer` (a party; "" anonymous; NULL: the node's owner reading
 * everything offline) may see message m: the record visibility rule the
 * store applies to GET /v1/records (clear: anyone; green: any party; else
 * its author and recipients, a bare state standing for its parties).
 * Answers and statistics say no more of a message than the message. */
static bool may_see(const msg *m, const char *viewer)
{
    if (!viewer || m->clear)
        return true;
    if (!viewer[0])
        return false;
    return m->green || strcmp(viewer, m->author) == 0 || recipient(m, viewer) != NULL;
}

static msg *find_msg(const comity_framework *fw, const char *id)
{
    json_t *v = json_object_get(fw->ids, id);
    if (!v || json_integer_value(v) < 0)
        return NULL;
    return &fw->msgs[json_integer_value(v)];
}

static int64_t ack_due(const comity_framework *fw, const msg *m)
{
    if (m->type == CY_FW_PING)
        return -1;
    int64_t d = m->created_ms + fw->ack_ms[m->severity];
    if (m->respond_by_ms >= 0 && m->respond_by_ms < d)
        d = m->respond_by_ms;
    return d;
}

static int64_t answer_due(const comity_framework *fw, const msg *m)
{
    if (m->type == CY_FW_PING)
        return m->created_ms + fw->pong_ms;
    if (!m->answer_expected)
        return -1;
    if (m->respond_by_ms >= 0)
        return m->respond_by_ms;
    return m->created_ms + fw->answer_ms[m->severity];
}

/* What recipient r of m is expected to send next, and by when. */
static const char *expects(const comity_framework *fw, const msg *m,
                           const rcpt *r, int64_t *due)
{
    *due = -1;
    if (m->closed)
        return NULL;
    if (m->type == CY_FW_PING) {
        if (r->state >= COMITY_MSG_ANSWERED)
            return NULL;
        *due = answer_due(fw, m);
        return "pong";
    }
    if (r->state < COMITY_MSG_ACKNOWLEDGED) {
        *due = ack_due(fw, m);
        return "ack";
    }
    if (m->answer_expected && r->state < COMITY_MSG_ANSWERED) {
        *due = answer_due(fw, m);
        return "reply";
    }
    return NULL;
}

static void status_of(const comity_framework *fw, const msg *m, const rcpt *r,
                      int64_t now, comity_msg_status *out)
{
    memset(out, 0, sizeof *out);
    out->state = m->closed ? COMITY_MSG_CLOSED : r->state;
    int64_t due;
    out->expects = expects(fw, m, r, &due);
    out->due_ms = due > 0 ? due : 0;
    out->overdue = out->expects && now > due;
    int64_t a = ack_due(fw, m), b = answer_due(fw, m);
    out->ack_due_ms = a > 0 ? a : 0;
    out->answer_due_ms = b > 0 ? b : 0;
}

static comity_err nomem(comity_error *err)
{
    return cy_fail(err, COMITY_ERR_NOMEM, "framework: out of memory");
}

static comity_err grow(void **arr, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap)
        return COMITY_OK;
    size_t nc = *cap ? *cap * 2 : 16;
    void *p = cy_realloc(*arr, nc * elem);
    if (!p)
        return COMITY_ERR_NOMEM;
    *arr = p;
    *cap = nc;
    return COMITY_OK;
}

/* ---- directory ---------------------------------------------------------- */

/* The entry of (state, kind) current at `at`, or NULL. */
static const poc *poc_current(const comity_framework *fw, const char *state,
                              const char *kind, int64_t at)
{
    for (size_t i = fw->npocs; i-- > 0;) {
        const poc *p = &fw->pocs[i];
        if (strcmp(p->state, state) != 0 || strcmp(p->kind, kind) != 0 ||
            p->created_ms > at)
            continue;
        if (p->withdrawn)
            return NULL;
        if (p->from_ms <= at && (p->until_ms < 0 || at < p->until_ms))
            return p;
    }
    return NULL;
}

/* The latest entry fed for (state, kind), withdrawn or not, or NULL. */
static const poc *poc_latest(const comity_framework *fw, const char *state,
                             const char *kind)
{
    for (size_t i = fw->npocs; i-- > 0;)
        if (strcmp(fw->pocs[i].state, state) == 0 &&
            strcmp(fw->pocs[i].kind, kind) == 0)
            return &fw->pocs[i];
    return NULL;
}

/* The kind of the contact `party` is in the directory at `at`, or NULL. */
static const char *kind_of_party(const comity_framework *fw, const char *party,
                                 int64_t at)
{
    char st[COMITY_PARTY_MAX + 1];
    state_of(party, st);
    for (size_t k = 0; cy_fw_poc_kinds[k]; k++) {
        const poc *p = poc_current(fw, st, cy_fw_poc_kinds[k], at);
        if (p && p->party && strcmp(p->party, party) == 0)
            return p->kind;
    }
    return NULL;
}

static comity_err add_poc(comity_framework *fw, const comity_record *rec,
                          json_t *body, int64_t created, bool dry,
                          comity_error *err)
{
    const char *author = comity_record_author(rec);
    char ast[COMITY_PARTY_MAX + 1];
    state_of(author, ast);
    if (!body)
        return cy_fail(err, COMITY_ERR_INVALID,
                       "poc: a directory entry must be readable (tlp clear or "
                       "green, or the opened body given)");
    const char *state = json_string_value(json_object_get(body, "state"));
    if (state && strcmp(state, ast) != 0)
        return cy_fail(err, COMITY_ERR_DENIED,
                       "poc: only an office of %s may set or withdraw its "
                       "contacts; %s belongs to %s", state, author, ast);
    state = ast;
    const char *kind = json_string_value(json_object_get(body, "kind"));
    const char *party = json_string_value(json_object_get(body, "party"));
    char pst[COMITY_PARTY_MAX + 1];
    if (party && strcmp(state_of(party, pst), state) != 0)
        return cy_fail(err, COMITY_ERR_INVALID,
                       "poc.body.party: %s is not a party of %s", party, state);
    bool withdrawn = json_is_true(json_object_get(body, "withdrawn"));
    if (withdrawn) {
        const poc *l = poc_latest(fw, state, kind);
        if (!l || l->withdrawn)
            return cy_fail(err, COMITY_ERR_CONFLICT,
                           "poc: %s has no %s contact to withdraw", state, kind);
    }
    if (dry)
        return COMITY_OK;
    if (grow((void **)&fw->pocs, &fw->cappocs, fw->npocs, sizeof(poc)))
        return nomem(err);
    poc p = {0};
    p.state = cy_strdup(state);
    p.kind = cy_strdup(kind);
    p.party = party ? cy_strdup(party) : NULL;
    p.id = cy_strdup(comity_record_id(rec));
    p.author = cy_strdup(author);
    p.created_ms = created;
    p.withdrawn = withdrawn;
    p.from_ms = withdrawn ? created
                          : cy_fw_time(json_string_value(json_object_get(body, "valid_from")));
    p.until_ms = withdrawn ? -1
                           : cy_fw_time(json_string_value(json_object_get(body, "valid_until")));
    p.body = json_incref(body);
    if (!p.state || !p.kind || (party && !p.party) || !p.id || !p.author ||
        json_object_set_new(fw->ids, p.id, json_integer(-1))) {
        poc_clear(&p);
        return nomem(err);
    }
    fw->pocs[fw->npocs++] = p;
    return COMITY_OK;
}

/* ---- messages ------------------------------------------------------------ */

static comity_err add_message(comity_framework *fw, enum cy_fw_type t,
                              const comity_record *rec, json_t *body,
                              int64_t created, bool dry, comity_error *err)
{
    const char *type = comity_record_type(rec), *author = comity_record_author(rec);
    size_t nto = comity_record_to_count(rec);
    if (nto == 0)
        return cy_fail(err, COMITY_ERR_INVALID,
                       "%s.to: want at least one recipient", type);
    char ast[COMITY_PARTY_MAX + 1];
    state_of(author, ast);
    for (size_t i = 0; i < nto; i++) {
        const char *to = comity_record_to(rec, i);
        if (strcmp(to, author) == 0 || strcmp(to, ast) == 0)
            return cy_fail(err, COMITY_ERR_INVALID,
                           "%s.to[%zu]: the author%s cannot be a recipient",
                           type, i, strcmp(to, ast) == 0 ? "'s own state" : "");
    }
    msg m = {0};
    m.type = t;
    m.created_ms = created;
    m.respond_by_ms = -1;
    m.answer_expected = t == CY_FW_REQUEST;
    if (body) {
        json_t *sev = json_object_get(body, "severity");
        m.severity = sev ? (int)json_integer_value(sev) : 0;
        const char *rb = json_string_value(json_object_get(body, "respond_by"));
        if (rb && (m.respond_by_ms = cy_fw_time(rb)) <= created)
            return cy_fail(err, COMITY_ERR_INVALID,
                           "%s.body.respond_by: want a time after the record's "
                           "created time %s", type, comity_record_created(rec));
        if (t == CY_FW_NOTIFICATION)
            m.answer_expected = rb || json_object_get(body, "requested_action");
        m.announced = json_is_true(json_object_get(body, "announced"));
    }
    if (dry)
        return COMITY_OK;
    const char *ping_kind =
        body && t == CY_FW_PING ? json_string_value(json_object_get(body, "kind")) : NULL;
    if (grow((void **)&fw->msgs, &fw->capmsgs, fw->nmsgs, sizeof(msg)))
        return nomem(err);
    m.id = cy_strdup(comity_record_id(rec));
    m.author = cy_strdup(author);
    m.clear = strcmp(comity_record_tlp(rec), "clear") == 0;
    m.green = strcmp(comity_record_tlp(rec), "green") == 0;
    m.r = cy_calloc(nto, sizeof(rcpt));
    if (!m.id || !m.author || !m.r) {
        msg_clear(&m);
        return nomem(err);
    }
    for (size_t i = 0; i < nto; i++) {
        rcpt *r = &m.r[m.nr++];
        const char *to = comity_record_to(rec, i);
        const char *kind = ping_kind;
        if (t == CY_FW_PING && !kind)
            kind = kind_of_party(fw, to, created);
        r->party = cy_strdup(to);
        r->kind = cy_strdup(kind ? kind : "unknown");
        r->state = COMITY_MSG_SENT;
        r->delivered_ms = r->acked_ms = r->answered_ms = -1;
        if (!r->party || !r->kind) {
            msg_clear(&m);
            return nomem(err);
        }
    }
    if (json_object_set_new(fw->ids, m.id, json_integer((json_int_t)fw->nmsgs))) {
        msg_clear(&m);
        return nomem(err);
    }
    fw->msgs[fw->nmsgs++] = m;
    return COMITY_OK;
}

/* ack, reply, close, pong: the rules of the status machine. */
static comity_err add_answer(comity_framework *fw, enum cy_fw_type t,
                             const comity_record *rec, json_t *body,
                             int64_t created, bool dry, comity_error *err)
{
    const char *type = comity_record_type(rec), *author = comity_record_author(rec);
    if (comity_record_refs_count(rec) == 0)
        return cy_fail(err, COMITY_ERR_INVALID,
                       "%s.refs: want the id of the message it answers first",
                       type);
    const char *ref = comity_record_ref(rec, 0);
    msg *m = find_msg(fw, ref);
    /* a message its author may not see is answered as one that does not
     * exist: the refusal does not tell that it does */
    if (!m || !may_see(m, author))
        return cy_fail(err, COMITY_ERR_NOTFOUND,
                       "%s.refs[0]: no message %.100s is known", type, ref);
    bool is_ping = m->type == CY_FW_PING;
    if (t == CY_FW_PONG && !is_ping)
        return cy_fail(err, COMITY_ERR_INVALID,
                       "pong.refs[0]: %.100s is not a ping", ref);
    if (t != CY_FW_PONG && is_ping)
        return cy_fail(err, COMITY_ERR_INVALID,
                       "%s.refs[0]: %.100s is a ping; a ping is answered by a "
                       "pong", type, ref);
    if (t == CY_FW_CLOSE) {
        if (strcmp(author, m->author) != 0)
            return cy_fail(err, COMITY_ERR_DENIED,
                           "close: only its author %s may close %.100s",
                           m->author, ref);
        if (m->closed)
            return cy_fail(err, COMITY_ERR_CONFLICT,
                           "close: %.100s is already closed", ref);
        if (dry)
            return COMITY_OK;
        if (json_object_set_new(fw->ids, comity_record_id(rec), json_integer(-1)))
            return nomem(err);
        m->closed = true;
        m->closed_ms = created;
        return COMITY_OK;
    }
    rcpt *r = recipient(m, author);
    if (!r)
        return cy_fail(err, COMITY_ERR_DENIED,
                       "%s: %s is not a recipient of %.100s; only recipients "
                       "may answer", type, author, ref);
    if (m->closed)
        return cy_fail(err, COMITY_ERR_CONFLICT,
                       "%s: %.100s is closed; nothing follows close", type, ref);
    if (r->state >= COMITY_MSG_ANSWERED)
        return cy_fail(err, COMITY_ERR_CONFLICT,
                       "%s: %s already %s %.100s", type, r->party,
                       is_ping ? "answered" : comity_msg_state_name(r->state),
                       ref);
    if (t == CY_FW_ACK && r->state == COMITY_MSG_ACKNOWLEDGED)
        return cy_fail(err, COMITY_ERR_CONFLICT,
                       "ack: %s already acknowledged %.100s", r->party, ref);
    comity_msg_state next = COMITY_MSG_ACKNOWLEDGED;
    if (t == CY_FW_PONG)
        next = COMITY_MSG_ANSWERED;
    else if (t == CY_FW_REPLY)
        next = body && strcmp(json_string_value(json_object_get(body, "outcome")),
                              "declined") == 0
                   ? COMITY_MSG_DECLINED
                   : COMITY_MSG_ANSWERED;
    if (dry)
        return COMITY_OK;
    if (json_object_set_new(fw->ids, comity_record_id(rec), json_integer(-1)))
        return nomem(err);
    if (r->delivered_ms < 0)
        r->delivered_ms = created;
    if (r->acked_ms < 0)
        r->acked_ms = created;
    if (next >= COMITY_MSG_ANSWERED)
        r->answered_ms = created;
    r->state = next;
    return COMITY_OK;
}

static comity_err add_impl(comity_framework *fw, const comity_record *rec,
                           const char *body, size_t body_len, bool dry,
                           comity_error *err)
{
    const char *type = comity_record_type(rec);
    enum cy_fw_type t = cy_fw_type_of(type);
    if (t == CY_FW_NONE)
        return COMITY_OK;
    const char *id = comity_record_id(rec);
    if (json_object_get(fw->ids, id))
        return cy_fail(err, COMITY_ERR_EXISTS, "%s: %.100s was already fed",
                       type, id);
    int64_t created;
    const char *cs = comity_record_created(rec);
    if (cy_time_parse(cs, strlen(cs), true, &created, err))
        return cy_wrap(err, "%s.created", type);
    const char *clear = comity_record_body(rec);
    if (clear) {
        body = clear;
        body_len = strlen(clear);
    }
    json_t *j = NULL;
    comity_err rc;
    if (body) {
        if ((rc = cy_fw_parse_body(type, body, body_len, &j, err)))
            return rc;
        if ((rc = cy_fw_check(t, j, err))) {
            json_decref(j);
            return rc;
        }
    }
    switch (t) {
    case CY_FW_POC:
        rc = add_poc(fw, rec, j, created, dry, err);
        break;
    case CY_FW_NOTIFICATION:
    case CY_FW_REQUEST:
    case CY_FW_PING:
        rc = add_message(fw, t, rec, j, created, dry, err);
        break;
    default:
        rc = add_answer(fw, t, rec, j, created, dry, err);
        break;
    }
    json_decref(j);
    return rc;
}

comity_err comity_framework_add(comity_framework *fw, const comity_record *rec,
                                const char *body, size_t body_len,
                                comity_error *err)
{
    return add_impl(fw, rec, body, body_len, false, err);
}

comity_err comity_framework_check(const comity_framework *fw,
                                  const comity_record *rec, const char *body,
                                  size_t body_len, comity_error *err)
{
    /* a dry run never writes through fw */
    return add_impl((comity_framework *)fw, rec, body, body_len, true, err);
}

comity_err comity_framework_delivered(comity_framework *fw, const char *id,
                                      const char *party, int64_t at_ms,
                                      comity_error *err)
{
    msg *m = find_msg(fw, id);
    if (!m)
        return cy_fail(err, COMITY_ERR_NOTFOUND,
                       "delivered: no message %.100s is known", id);
    rcpt *r = recipient(m, party);
    if (!r)
        return cy_fail(err, COMITY_ERR_DENIED,
                       "delivered: %.64s is not a recipient of %.100s", party, id);
    if (!m->closed && r->state == COMITY_MSG_SENT) {
        r->state = COMITY_MSG_DELIVERED;
        r->delivered_ms = at_ms;
    }
    return COMITY_OK;
}

/* ---- queries -------------------------------------------------------------- */

comity_err comity_framework_status(const comity_framework *fw, const char *id,
                                   const char *party, int64_t now_ms,
                                   comity_msg_status *out, comity_error *err)
{
    const msg *m = find_msg(fw, id);
    if (!m)
        return cy_fail(err, COMITY_ERR_NOTFOUND, "status: no message %.100s", id);
    if (party) {
        const rcpt *r = recipient(m, party);
        if (!r)
            return cy_fail(err, COMITY_ERR_NOTFOUND,
                           "status: %.64s is not a recipient of %.100s", party, id);
        status_of(fw, m, r, now_ms, out);
        return COMITY_OK;
    }
    /* the least advanced recipient; overdue if any is */
    int overdue = 0;
    for (size_t i = 0; i < m->nr; i++) {
        comity_msg_status s;
        status_of(fw, m, &m->r[i], now_ms, &s);
        overdue |= s.overdue;
        if (i == 0 || s.state < out->state ||
            (s.state == out->state && s.due_ms < out->due_ms))
            *out = s;
    }
    out->overdue = overdue;
    return COMITY_OK;
}

typedef struct item {
    const msg *m;
    const rcpt *r;
    const char *expects;
    int64_t due;
} item;

static int item_cmp(const void *a, const void *b)
{
    const item *x = a, *y = b;
    if (x->due != y->due)
        return x->due < y->due ? -1 : 1;
    int c = strcmp(x->m->id, y->m->id);
    return c ? c : strcmp(x->r->party, y->r->party);
}

static json_t *time_json(int64_t ms)
{
    if (ms < 0)
        return json_null();
    char buf[CY_TIME_BUF];
    cy_time_format_ms(buf, ms);
    return json_string(buf);
}

/* Sorts items and appends them to array a; -1 on OOM. */
static int items_json(json_t *a, item *it, size_t n, int64_t now)
{
    if (n)
        qsort(it, n, sizeof *it, item_cmp);
    for (size_t i = 0; i < n; i++) {
        const msg *m = it[i].m;
        static const char *const tn[] = {[CY_FW_NOTIFICATION] = "notification",
                                         [CY_FW_REQUEST] = "request",
                                         [CY_FW_PING] = "ping"};
        json_t *o = json_pack(
            "{s:s, s:s, s:s, s:s, s:s, s:s?, s:o, s:b, s:o}", "id", m->id,
            "type", tn[m->type], "from", m->author, "to", it[i].r->party,
            "state", comity_msg_state_name(m->closed ? COMITY_MSG_CLOSED : it[i].r->state),
            "expects", it[i].expects, "due", time_json(it[i].due), "overdue",
            it[i].expects && now > it[i].due,
            "severity", m->severity ? json_integer(m->severity) : json_null());
        if (!o || json_array_append_new(a, o))
            return -1;
    }
    return 0;
}

static comity_err dump(json_t *j, char **json, comity_error *err)
{
    *json = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!*json)
        return nomem(err);
    /* hand out memory the caller can release with comity_free */
    char *c = cy_strdup(*json);
    free(*json);
    *json = c;
    return c ? COMITY_OK : nomem(err);
}

/* Collects (message, recipient) pairs passing `keep` into a new array. */
typedef bool (*keep_fn)(const msg *, const rcpt *, const char *party);

static comity_err collect(const comity_framework *fw, int64_t now,
                          keep_fn keep, const char *party, bool only_overdue,
                          json_t **out, comity_error *err)
{
    size_t n = 0, cap = 0;
    item *it = NULL;
    for (size_t i = 0; i < fw->nmsgs; i++) {
        const msg *m = &fw->msgs[i];
        for (size_t k = 0; k < m->nr; k++) {
            int64_t due;
            const char *ex = expects(fw, m, &m->r[k], &due);
            if (!ex || !keep(m, &m->r[k], party) || (only_overdue && now <= due))
                continue;
            if (grow((void **)&it, &cap, n, sizeof *it)) {
                cy_free(it);
                return nomem(err);
            }
            it[n++] = (item){m, &m->r[k], ex, due};
        }
    }
    json_t *a = json_array();
    if (!a || items_json(a, it, n, now)) {
        json_decref(a);
        cy_free(it);
        return nomem(err);
    }
    cy_free(it);
    *out = a;
    return COMITY_OK;
}

static bool keep_all(const msg *m, const rcpt *r, const char *party)
{
    (void)m, (void)r, (void)party;
    return true;
}

static bool keep_mine(const msg *m, const rcpt *r, const char *party)
{
    return recipient(m, party) == r;
}

static bool keep_sent(const msg *m, const rcpt *r, const char *party)
{
    (void)r;
    return strcmp(m->author, party) == 0;
}

comity_err comity_framework_overdue(const comity_framework *fw, int64_t now_ms,
                                    char **json, comity_error *err)
{
    *json = NULL;
    json_t *a;
    comity_err rc = collect(fw, now_ms, keep_all, NULL, true, &a, err);
    return rc ? rc : dump(a, json, err);
}

comity_err comity_framework_inbox(const comity_framework *fw, const char *party,
                                  int64_t now_ms, char **json, comity_error *err)
{
    *json = NULL;
    if (!comity_party_valid(party, err))
        return cy_wrap(err, "inbox");
    json_t *mine, *sent;
    comity_err rc = collect(fw, now_ms, keep_mine, party, false, &mine, err);
    if (rc)
        return rc;
    if ((rc = collect(fw, now_ms, keep_sent, party, false, &sent, err))) {
        json_decref(mine);
        return rc;
    }
    json_t *o = json_pack("{s:o, s:o}", "awaiting_me", mine, "awaiting_others", sent);
    return dump(o, json, err);
}

static json_t *poc_json(const poc *p)
{
    return json_pack("{s:s, s:s, s:o, s:O}", "id", p->id, "author", p->author,
                     "created", time_json(p->created_ms), "body", p->body);
}

static int pair_cmp(const void *a, const void *b)
{
    const poc *x = *(const poc *const *)a, *y = *(const poc *const *)b;
    int c = strcmp(x->state, y->state);
    return c ? c : strcmp(x->kind, y->kind);
}

comity_err comity_framework_directory(const comity_framework *fw,
                                      const char *state, int64_t at_ms,
                                      char **json, comity_error *err)
{
    *json = NULL;
    /* one representative entry per (state, kind), sorted */
    const poc **reps = cy_calloc(fw->npocs + 1, sizeof *reps);
    if (!reps)
        return nomem(err);
    size_t n = 0;
    for (size_t i = 0; i < fw->npocs; i++) {
        const poc *p = &fw->pocs[i];
        if ((state && strcmp(p->state, state) != 0) || p->created_ms > at_ms)
            continue;
        bool seen = false;
        for (size_t k = 0; k < n && !seen; k++)
            seen = pair_cmp(&reps[k], &p) == 0;
        if (!seen)
            reps[n++] = p;
    }
    if (n)
        qsort(reps, n, sizeof *reps, pair_cmp);
    json_t *a = json_array();
    bool oom = !a;
    for (size_t k = 0; k < n && !oom; k++) {
        const poc *cur = poc_current(fw, reps[k]->state, reps[k]->kind, at_ms);
        json_t *hist = json_array();
        oom = !hist;
        for (size_t i = 0; i < fw->npocs && !oom; i++) {
            const poc *p = &fw->pocs[i];
            if (pair_cmp(&p, &reps[k]) == 0 && p->created_ms <= at_ms)
                oom = json_array_append_new(hist, poc_json(p)) != 0;
        }
        json_t *o = json_pack("{s:s, s:s, s:o, s:o}", "state", reps[k]->state,
                              "kind", reps[k]->kind, "current",
                              cur ? poc_json(cur) : json_null(), "history",
                              hist ? hist : json_null());
        oom = oom || !o || json_array_append_new(a, o);
    }
    cy_free(reps);
    if (oom) {
        json_decref(a);
        return nomem(err);
    }
    return dump(a, json, err);
}

/* ---- ping statistics -------------------------------------------------- */

static int i64_cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted v[0..n), n > 0. */
static int64_t pct(const int64_t *v, size_t n, int p)
{
    size_t rank = ((size_t)p * n + 99) / 100;
    return v[rank ? rank - 1 : 0];
}

/* 1 when recipient slot `party` is among `sel` (parties or bare states). */
static bool selected(const char *party, const char *const *sel, size_t n)
{
    if (n == 0)
        return true;
    char st[COMITY_PARTY_MAX + 1];
    state_of(party, st);
    for (size_t i = 0; i < n; i++)
        if (strcmp(sel[i], party) == 0 ||
            (!strchr(sel[i], '.') && strcmp(sel[i], st) == 0))
            return true;
    return false;
}

/* With `exact` set, only the slot named exactly so (the report's rows);
 * else the slots `parties` select. */
static comity_err stats(const comity_framework *fw, const char *viewer,
                        const char *exact, const char *const *parties, size_t nparties,
                        const char *kind, int64_t from_ms, int64_t to_ms,
                        comity_ping_stats *out, comity_error *err)
{
    memset(out, 0, sizeof *out);
    out->p50_ms = out->p90_ms = -1;
    size_t n = 0, cap = 0;
    int64_t *rt = NULL;
    for (size_t i = 0; i < fw->nmsgs; i++) {
        const msg *m = &fw->msgs[i];
        if (m->type != CY_FW_PING || m->created_ms < from_ms || m->created_ms >= to_ms ||
            !may_see(m, viewer))
            continue;
        for (size_t k = 0; k < m->nr; k++) {
            const rcpt *r = &m->r[k];
            if ((exact ? strcmp(r->party, exact) != 0
                       : !selected(r->party, parties, nparties)) ||
                (kind && strcmp(r->kind, kind) != 0))
                continue;
            out->count++;
            if (r->state < COMITY_MSG_ANSWERED)
                continue;
            out->answered++;
            if (grow((void **)&rt, &cap, n, sizeof *rt)) {
                cy_free(rt);
                return nomem(err);
            }
            int64_t d = r->answered_ms - m->created_ms;
            rt[n++] = d > 0 ? d : 0;
        }
    }
    if (n) {
        qsort(rt, n, sizeof *rt, i64_cmp);
        out->p50_ms = pct(rt, n, 50);
        out->p90_ms = pct(rt, n, 90);
    }
    if (out->count)
        out->unanswered = (double)(out->count - out->answered) / (double)out->count;
    cy_free(rt);
    return COMITY_OK;
}

comity_err comity_framework_ping_stats(const comity_framework *fw,
                                       const char *const *parties,
                                       size_t nparties, const char *kind,
                                       int64_t from_ms, int64_t to_ms,
                                       comity_ping_stats *out,
                                       comity_error *err)
{
    return stats(fw, NULL, NULL, parties, nparties, kind, from_ms, to_ms, out, err);
}

comity_err comity_framework_ping_stats_as(const comity_framework *fw, const char *viewer,
                                          const char *const *parties, size_t nparties,
                                          const char *kind, int64_t from_ms, int64_t to_ms,
                                          comity_ping_stats *out, comity_error *err)
{
    return stats(fw, viewer ? viewer : "", NULL, parties, nparties, kind, from_ms, to_ms, out,
                 err);
}

static int rcpt_pair_cmp(const void *a, const void *b)
{
    const rcpt *x = *(const rcpt *const *)a, *y = *(const rcpt *const *)b;
    int c = strcmp(x->party, y->party);
    return c ? c : strcmp(x->kind, y->kind);
}

static comity_err report(const comity_framework *fw, const char *viewer, int64_t from_ms,
                         int64_t to_ms, char **json, comity_error *err);

comity_err comity_framework_ping_report(const comity_framework *fw,
                                        int64_t from_ms, int64_t to_ms,
                                        char **json, comity_error *err)
{
    return report(fw, NULL, from_ms, to_ms, json, err);
}

comity_err comity_framework_ping_report_as(const comity_framework *fw, const char *viewer,
                                           int64_t from_ms, int64_t to_ms, char **json,
                                           comity_error *err)
{
    return report(fw, viewer ? viewer : "", from_ms, to_ms, json, err);
}

static comity_err report(const comity_framework *fw, const char *viewer, int64_t from_ms,
                         int64_t to_ms, char **json, comity_error *err)
{
    *json = NULL;
    size_t n = 0, cap = 0;
    const rcpt **pairs = NULL;
    for (size_t i = 0; i < fw->nmsgs; i++) {
        const msg *m = &fw->msgs[i];
        if (m->type != CY_FW_PING || m->created_ms < from_ms || m->created_ms >= to_ms ||
            !may_see(m, viewer))
            continue;
        for (size_t k = 0; k < m->nr; k++) {
            const rcpt *r = &m->r[k];
            bool seen = false;
            for (size_t j = 0; j < n && !seen; j++)
                seen = rcpt_pair_cmp(&pairs[j], &r) == 0;
            if (seen)
                continue;
            if (grow((void **)&pairs, &cap, n, sizeof *pairs)) {
                cy_free(pairs);
                return nomem(err);
            }
            pairs[n++] = r;
        }
    }
    if (n)
        qsort(pairs, n, sizeof *pairs, rcpt_pair_cmp);
    json_t *a = json_array();
    comity_err rc = a ? COMITY_OK : nomem(err);
    for (size_t j = 0; j < n && !rc; j++) {
        comity_ping_stats s;
        if ((rc = stats(fw, viewer, pairs[j]->party, NULL, 0, pairs[j]->kind,
                                              from_ms, to_ms, &s, err)))
            break;
        json_t *o = json_pack("{s:s, s:s, s:I, s:I, s:o, s:o, s:f}", "party",
                              pairs[j]->party, "kind", pairs[j]->kind, "count",
                              (json_int_t)s.count, "answered",
                              (json_int_t)s.answered, "p50_ms",
                              s.p50_ms >= 0 ? json_integer(s.p50_ms) : json_null(),
                              "p90_ms",
                              s.p90_ms >= 0 ? json_integer(s.p90_ms) : json_null(),
                              "unanswered", s.unanswered);
        if (!o || json_array_append_new(a, o))
            rc = nomem(err);
    }
    cy_free(pairs);
    if (rc) {
        json_decref(a);
        return rc;
    }
    return dump(a, json, err);
}
