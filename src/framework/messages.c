/*
 * messages.c: messages and their status machine.
 *
 * A message (notification, request, ping) has one slot per recipient named
 * in its `to`, holding that recipient's state (sent -> delivered ->
 * acknowledged -> answered | declined) and the times each step happened;
 * closing is message-wide.  Deadlines are computed from the message's
 * created time, severity and respond_by and the handle's tables when a
 * query asks; the queries here are a message's status, the overdue list
 * and a party's inbox.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "framework/core.h"
#include "framework/seen.h"

static const char *const state_names[] = {"sent", "delivered", "acknowledged",
                                          "answered", "declined", "closed"};

const char *comity_msg_state_name(comity_msg_state s)
{
    return (unsigned)s < CY_ARRAY_LEN(state_names) ? state_names[s] : "?";
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
    for (size_t i = 0; i < m->nthread; i++)
        cy_free(m->thread[i]);
    cy_free(m->thread);
}

/* The slot of message m that `party` answers for: its own name in `to`, or
 * else its bare state there.  NULL if it is no recipient. */
static rcpt *recipient(const msg *m, const char *party)
{
    char st[COMITY_PARTY_MAX + 1];
    cy_fw_state_of(party, st);
    rcpt *bystate = NULL;
    for (size_t i = 0; i < m->nr; i++) {
        if (strcmp(m->r[i].party, party) == 0)
            return &m->r[i];
        if (!strchr(m->r[i].party, '.') && strcmp(m->r[i].party, st) == 0)
            bystate = &m->r[i];
    }
    return bystate;
}

/* ---- the index by name ------------------------------------------------------ */

/* The index in fw->pmsgs of `name`'s lists; SIZE_MAX when it has none (or,
 * with `create`, when there is no memory to make them). */
static size_t pm_index(comity_framework *fw, const char *name, bool create)
{
    json_t *v = json_object_get(fw->by_party, name);
    if (v)
        return (size_t)json_integer_value(v);
    if (!create || cy_fw_grow((void **)&fw->pmsgs, &fw->cappmsgs, fw->npmsgs, sizeof *fw->pmsgs))
        return SIZE_MAX;
    memset(&fw->pmsgs[fw->npmsgs], 0, sizeof *fw->pmsgs);
    if (json_object_set_new(fw->by_party, name, json_integer((json_int_t)fw->npmsgs)))
        return SIZE_MAX;
    return fw->npmsgs++;
}

static const party_msgs *pm_find(const comity_framework *fw, const char *name)
{
    json_t *v = json_object_get(fw->by_party, name);
    return v ? &fw->pmsgs[json_integer_value(v)] : NULL;
}

/* Makes *cap at least `want` elements of `elem` bytes (doubling). */
static comity_err room(void **arr, size_t *cap, size_t want, size_t elem)
{
    while (*cap < want)
        if (cy_fw_grow(arr, cap, *cap, elem))
            return COMITY_ERR_NOMEM;
    return COMITY_OK;
}

/* Makes room for message m (not yet added; it will be msgs[fw->nmsgs]) in
 * the lists of its author and of every recipient.  Nothing refers to it
 * yet: lists made here and left empty by a failure are harmless. */
static comity_err index_reserve(comity_framework *fw, const msg *m)
{
    size_t a = pm_index(fw, m->author, true);
    if (a == SIZE_MAX || room((void **)&fw->pmsgs[a].sent, &fw->pmsgs[a].capsent,
                              fw->pmsgs[a].nsent + 1, sizeof(uint32_t)))
        return COMITY_ERR_NOMEM;
    for (size_t k = 0; k < m->nr; k++) {
        size_t i = pm_index(fw, m->r[k].party, true);
        if (i == SIZE_MAX || room((void **)&fw->pmsgs[i].to, &fw->pmsgs[i].capto,
                                  fw->pmsgs[i].nto + m->nr, sizeof(slot_ref)))
            return COMITY_ERR_NOMEM;
    }
    return COMITY_OK;
}

/* Adds msgs[mi] to the lists index_reserve made room in (cannot fail). */
static void index_add(comity_framework *fw, size_t mi)
{
    const msg *m = &fw->msgs[mi];
    party_msgs *a = &fw->pmsgs[pm_index(fw, m->author, false)];
    a->sent[a->nsent++] = (uint32_t)mi;
    for (size_t k = 0; k < m->nr; k++) {
        party_msgs *p = &fw->pmsgs[pm_index(fw, m->r[k].party, false)];
        p->to[p->nto++] = (slot_ref){(uint32_t)mi, (uint32_t)k};
    }
}

static msg *find_msg(const comity_framework *fw, const char *id)
{
    json_t *v = json_object_get(fw->ids, id);
    if (!v || json_integer_value(v) < 0)
        return NULL;
    return &fw->msgs[json_integer_value(v)];
}

const msg *cy_fw_msg_find(const comity_framework *fw, const char *id)
{
    return find_msg(fw, id);
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
    out->delivered_ms = r->delivered_ms > 0 ? r->delivered_ms : 0;
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
    cy_fw_state_of(author, ast);
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
    m.sector = -1;
    m.sealed = comity_record_body(rec) == NULL;
    if (body) {
        json_t *sev = json_object_get(body, "severity");
        m.severity = sev ? (int)json_integer_value(sev) : 0;
        const char *sec = json_string_value(json_object_get(body, "sector"));
        for (int i = 0; sec && cy_fw_sectors[i]; i++)
            if (!strcmp(sec, cy_fw_sectors[i]))
                m.sector = (signed char)i;
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
    if (fw->nmsgs >= CY_FW_MSGS_MAX)
        return cy_fail(err, COMITY_ERR_TOOBIG,
                       "%s: the framework holds %u messages, its cap (CY_FW_MSGS_MAX)",
                       type, (unsigned)CY_FW_MSGS_MAX);
    const char *ping_kind =
        body && t == CY_FW_PING ? json_string_value(json_object_get(body, "kind")) : NULL;
    if (cy_fw_grow((void **)&fw->msgs, &fw->capmsgs, fw->nmsgs, sizeof(msg)))
        return cy_fw_nomem(err);
    m.id = cy_strdup(comity_record_id(rec));
    m.author = cy_strdup(author);
    snprintf(m.tlp, sizeof m.tlp, "%s", comity_record_tlp(rec));
    m.r = cy_calloc(nto, sizeof(rcpt));
    if (!m.id || !m.author || !m.r) {
        msg_clear(&m);
        return cy_fw_nomem(err);
    }
    for (size_t i = 0; i < nto; i++) {
        rcpt *r = &m.r[m.nr++];
        const char *to = comity_record_to(rec, i);
        const char *kind = ping_kind;
        if (t == CY_FW_PING && !kind)
            kind = cy_fw_kind_of_party(fw, to, created);
        r->party = cy_strdup(to);
        r->kind = cy_strdup(kind ? kind : "unknown");
        r->state = COMITY_MSG_SENT;
        r->delivered_ms = r->acked_ms = r->answered_ms = -1;
        if (!r->party || !r->kind) {
            msg_clear(&m);
            return cy_fw_nomem(err);
        }
    }
    if (index_reserve(fw, &m) ||
        json_object_set_new(fw->ids, m.id, json_integer((json_int_t)fw->nmsgs))) {
        msg_clear(&m);
        return cy_fw_nomem(err);
    }
    fw->msgs[fw->nmsgs++] = m;
    index_add(fw, fw->nmsgs - 1);
    return COMITY_OK;
}

/* ack, reply, close, pong: the rules of the status machine. */
/* The status machine's rule for answers: whether `author` may send an
 * answer of type t (`type` its name) to message m (`ref` its id), created
 * at `created`, given m's state now.  The one rule intake applies
 * (add_answer) and the message view's `next` offers
 * (comity_framework_message_next).  OUT *slot: the author's slot when it
 * answers as a recipient (NULL for close). */
static comity_err answer_rule(const msg *m, enum cy_fw_type t, const char *type,
                              const char *author, const char *ref, int64_t created,
                              const char *created_text, rcpt **slot, comity_error *err)
{
    *slot = NULL;
    bool is_ping = m->type == CY_FW_PING;
    if (t == CY_FW_PONG && !is_ping)
        return cy_fail(err, COMITY_ERR_INVALID,
                       "pong.refs[0]: %.100s is not a ping", ref);
    if (t != CY_FW_PONG && is_ping)
        return cy_fail(err, COMITY_ERR_INVALID,
                       "%s.refs[0]: %.100s is a ping; a ping is answered by a "
                       "pong", type, ref);
    if (created < m->created_ms) {
        /* an answer cannot precede what it answers: response times and
         * "answered" are computed from created (docs/framework.md) */
        char mc[CY_TIME_BUF];
        cy_time_format_ms(mc, m->created_ms);
        return cy_fail(err, COMITY_ERR_INVALID,
                       "%s.created: %s is before %s, the created time of %.100s, which "
                       "it answers (rule answer-after-message)",
                       type, created_text, mc, ref);
    }
    if (t == CY_FW_CLOSE) {
        if (strcmp(author, m->author) != 0)
            return cy_fail(err, COMITY_ERR_DENIED,
                           "close: only its author %s may close %.100s",
                           m->author, ref);
        if (m->closed)
            return cy_fail(err, COMITY_ERR_CONFLICT,
                           "close: %.100s is already closed", ref);
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
    *slot = r;
    return COMITY_OK;
}

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
    if (!m || !cy_fw_may_see(m, author))
        return cy_fail(err, COMITY_ERR_NOTFOUND,
                       "%s.refs[0]: no message %.100s is known", type, ref);
    rcpt *r;
    comity_err rc = answer_rule(m, t, type, author, ref, created, comity_record_created(rec),
                                &r, err);
    if (rc)
        return rc;
    if (t == CY_FW_CLOSE) {
        if (dry)
            return COMITY_OK;
        if (json_object_set_new(fw->ids, comity_record_id(rec), json_integer(-1)))
            return cy_fw_nomem(err);
        m->closed = true;
        m->closed_ms = created;
        return COMITY_OK;
    }
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
        return cy_fw_nomem(err);
    if (r->delivered_ms < 0 || r->delivered_local) {
        /* an answer implies delivery; a local event's time gives way to
         * the record's, which every node folds alike */
        r->delivered_ms = created;
        r->delivered_local = false;
    }
    if (r->acked_ms < 0)
        r->acked_ms = created;
    if (next >= COMITY_MSG_ANSWERED)
        r->answered_ms = created;
    r->state = next;
    return COMITY_OK;
}

/* delivered: the record by which a recipient's home node says that the
 * recipient was handed the message refs[0] (docs/federation.md section 7).
 * Its author is the recipient; its signature is the home node's log key
 * (intake's rule signature, src/intake/intake.c, checks that part).  The
 * rules, each refusal naming its own:
 *   delivered-message    refs[0] is a message its author may see
 *   delivered-recipient  the author is one of its recipients (its own
 *                        name in `to`, or its bare state)
 *   delivered-party      a clear body's party is the author
 *   delivered-after-message  created is not before the message's
 *   delivered-once       the first delivered record of a slot counts; a
 *                        second is refused (relayed: logged, no effect)
 * Effect: the slot at sent, or delivered by a local event only, becomes
 * delivered at the record's `created`, closed or not (the fetch happened);
 * an answer folded before it already set the time: no change. */
static comity_err add_delivered(comity_framework *fw, const comity_record *rec, json_t *body,
                                int64_t created, bool dry, comity_error *err)
{
    const char *author = comity_record_author(rec);
    if (comity_record_refs_count(rec) == 0)
        return cy_fail(err, COMITY_ERR_INVALID,
                       "delivered.refs: want the id of the message delivered first (rule "
                       "delivered-message)");
    const char *ref = comity_record_ref(rec, 0);
    msg *m = find_msg(fw, ref);
    if (!m || !cy_fw_may_see(m, author))
        return cy_fail(err, COMITY_ERR_NOTFOUND,
                       "delivered.refs[0]: no message %.100s is known (rule delivered-message)",
                       ref);
    rcpt *r = recipient(m, author);
    if (!r)
        return cy_fail(err, COMITY_ERR_DENIED,
                       "delivered: %s is not a recipient of %.100s (rule delivered-recipient)",
                       author, ref);
    const char *party = body ? json_string_value(json_object_get(body, "party")) : NULL;
    if (party && strcmp(party, author) != 0)
        return cy_fail(err, COMITY_ERR_INVALID,
                       "delivered.body.party: %.64s is not the record's author %s (rule "
                       "delivered-party)",
                       party, author);
    if (created < m->created_ms) {
        char mc[CY_TIME_BUF];
        cy_time_format_ms(mc, m->created_ms);
        return cy_fail(err, COMITY_ERR_INVALID,
                       "delivered.created: %s is before %s, the created time of %.100s (rule "
                       "delivered-after-message)",
                       comity_record_created(rec), mc, ref);
    }
    if (r->delivered_rec)
        return cy_fail(err, COMITY_ERR_CONFLICT,
                       "delivered: %.100s was already recorded delivered to %s (rule "
                       "delivered-once)",
                       ref, r->party);
    if (dry)
        return COMITY_OK;
    if (json_object_set_new(fw->ids, comity_record_id(rec), json_integer(-1)))
        return cy_fw_nomem(err);
    r->delivered_rec = true;
    if (r->state == COMITY_MSG_SENT || r->delivered_local) {
        if (r->state == COMITY_MSG_SENT)
            r->state = COMITY_MSG_DELIVERED;
        r->delivered_ms = created;
        r->delivered_local = false;
    }
    return COMITY_OK;
}

bool cy_fw_delivery_recorded(const comity_framework *fw, const char *id, const char *party)
{
    const msg *m = find_msg(fw, id);
    const rcpt *r = m ? recipient(m, party) : NULL;
    return !r || r->delivered_rec;
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
        r->delivered_local = true;
    }
    return COMITY_OK;
}

/* ---- queries -------------------------------------------------------------- */

comity_err comity_framework_message_next(const comity_framework *fw, const char *id,
                                         const char *party, char **json, comity_error *err)
{
    *json = NULL;
    const msg *m = id && party ? find_msg(fw, id) : NULL;
    if (!m || !cy_fw_may_see(m, party))
        return cy_fail(err, COMITY_ERR_NOTFOUND, "next: no message %.100s visible to %.64s",
                       id ? id : "(null)", party ? party : "(null)");
    static const struct {
        enum cy_fw_type t;
        const char *name, *who;
    } answers[] = {{CY_FW_ACK, "ack", "recipient"},
                   {CY_FW_REPLY, "reply", "recipient"},
                   {CY_FW_PONG, "pong", "recipient"},
                   {CY_FW_CLOSE, "close", "author"}};
    json_t *a = json_array();
    if (!a)
        return cy_fw_nomem(err);
    for (size_t i = 0; i < CY_ARRAY_LEN(answers); i++) {
        rcpt *slot;
        /* created: any time after the message (the rule's time check
         * concerns a record's own date, not what is allowed now) */
        if (answer_rule(m, answers[i].t, answers[i].name, party, id, INT64_MAX, "", &slot,
                        NULL))
            continue;
        if (json_array_append_new(a, json_pack("{s:s, s:[s]}", "type", answers[i].name, "who",
                                               answers[i].who))) {
            json_decref(a);
            return cy_fw_nomem(err);
        }
    }
    return cy_fw_dump(a, json, err);
}

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
            "{s:s, s:s, s:s, s:s, s:s, s:s?, s:o, s:b, s:o, s:o, s:b}", "id", m->id,
            "type", tn[m->type], "from", m->author, "to", it[i].r->party,
            "state", comity_msg_state_name(m->closed ? COMITY_MSG_CLOSED : it[i].r->state),
            "expects", it[i].expects, "due", cy_fw_time_json(it[i].due), "overdue",
            it[i].expects && now > it[i].due,
            "severity", m->severity ? json_integer(m->severity) : json_null(), "sector",
            m->sector >= 0 ? json_string(cy_fw_sectors[m->sector]) : json_null(), "sealed",
            m->sealed);
        if (!o || json_array_append_new(a, o))
            return -1;
    }
    return 0;
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
            if (cy_fw_grow((void **)&it, &cap, n, sizeof *it)) {
                cy_free(it);
                return cy_fw_nomem(err);
            }
            it[n++] = (item){m, &m->r[k], ex, due};
        }
    }
    json_t *a = json_array();
    if (!a || items_json(a, it, n, now)) {
        json_decref(a);
        cy_free(it);
        return cy_fw_nomem(err);
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
comity_err comity_framework_overdue(const comity_framework *fw, int64_t now_ms,
                                    char **json, comity_error *err)
{
    *json = NULL;
    json_t *a = NULL;
    comity_err rc = collect(fw, now_ms, keep_all, NULL, true, &a, err);
    return rc ? rc : cy_fw_dump(a, json, err);
}

/* ---- a party's inbox, through the index ------------------------------------- */

/* A growing array of items. */
typedef struct items {
    item *v;
    size_t n, cap;
} items;

static comity_err items_push(items *a, const msg *m, const rcpt *r, const char *ex,
                             int64_t due)
{
    if (cy_fw_grow((void **)&a->v, &a->cap, a->n, sizeof *a->v))
        return COMITY_ERR_NOMEM;
    a->v[a->n++] = (item){m, r, ex, due};
    return COMITY_OK;
}

/* The slots of `list` that `party` answers for and that expect something. */
static comity_err mine_from(const comity_framework *fw, const party_msgs *list,
                            const char *party, items *out)
{
    for (size_t i = 0; list && i < list->nto; i++) {
        const msg *m = &fw->msgs[list->to[i].m];
        const rcpt *r = &m->r[list->to[i].k];
        int64_t due;
        const char *ex = expects(fw, m, r, &due);
        if (ex && recipient(m, party) == r && items_push(out, m, r, ex, due))
            return COMITY_ERR_NOMEM;
    }
    return COMITY_OK;
}

/* What `party` must answer (OUT *mine) and what it sent that others have
 * not answered (OUT *sent), unsorted; free both .v with cy_free. */
static comity_err party_items(const comity_framework *fw, const char *party, items *mine,
                              items *sent, comity_error *err)
{
    *mine = (items){0};
    *sent = (items){0};
    char st[COMITY_PARTY_MAX + 1];
    cy_fw_state_of(party, st);
    const party_msgs *own = pm_find(fw, party);
    comity_err rc = mine_from(fw, own, party, mine);
    if (!rc && strcmp(st, party) != 0)
        rc = mine_from(fw, pm_find(fw, st), party, mine);
    for (size_t i = 0; !rc && own && i < own->nsent; i++) {
        const msg *m = &fw->msgs[own->sent[i]];
        for (size_t k = 0; !rc && k < m->nr; k++) {
            int64_t due;
            const char *ex = expects(fw, m, &m->r[k], &due);
            if (ex)
                rc = items_push(sent, m, &m->r[k], ex, due);
        }
    }
    if (rc) {
        cy_free(mine->v);
        cy_free(sent->v);
        *mine = *sent = (items){0};
        return cy_fw_nomem(err);
    }
    return COMITY_OK;
}

comity_err comity_framework_inbox(const comity_framework *fw, const char *party,
                                  int64_t now_ms, char **json, comity_error *err)
{
    *json = NULL;
    if (!comity_party_valid(party, err))
        return cy_wrap(err, "inbox");
    items mine, sent;
    comity_err rc = party_items(fw, party, &mine, &sent, err);
    if (rc)
        return rc;
    json_t *a = json_array(), *b = json_array();
    json_t *o = a && b ? json_pack("{s:o, s:o}", "awaiting_me", a, "awaiting_others", b) : NULL;
    if (!o || items_json(a, mine.v, mine.n, now_ms) || items_json(b, sent.v, sent.n, now_ms)) {
        if (!o) {
            json_decref(a);
            json_decref(b);
        }
        json_decref(o);
        o = NULL;
    }
    cy_free(mine.v);
    cy_free(sent.v);
    return cy_fw_dump(o, json, err);
}

/* ---- a page of the inbox: the cursor ----------------------------------------- */

/* A cursor names the last item a page held, in the inbox's order (due,
 * then message id, then recipient): "B.DUE.ID.PARTY", B 'm' (awaiting me)
 * or 'o' (awaiting others), DUE the due time in ms (decimal), ID the
 * message id (no dot in it), PARTY the recipient (the rest).  The next
 * page starts strictly after that key, whether or not the item is still
 * there, so paging neither repeats nor skips an item that stays put. */
typedef struct cursor {
    char box;
    int64_t due;
    char id[COMITY_RECORD_TYPE_MAX + 40]; /* "<type>--<uuid>" */
    char party[COMITY_PARTY_MAX + 1];
} cursor;

static comity_err cursor_parse(const char *s, cursor *c, comity_error *err)
{
    size_t len = strlen(s);
    const char *bad = NULL;
    memset(c, 0, sizeof *c);
    if (len > COMITY_FW_INBOX_CURSOR_MAX) {
        bad = "too long";
    } else if ((s[0] != 'm' && s[0] != 'o') || s[1] != '.') {
        bad = "want m. or o. first";
    } else {
        const char *p = s + 2, *q = p;
        int64_t due = 0;
        while (*q >= '0' && *q <= '9' && q - p < 15)
            due = due * 10 + (*q++ - '0');
        const char *id = q + 1, *dot = *q == '.' ? strchr(id, '.') : NULL;
        if (q == p || *q != '.')
            bad = "want the due time in ms, then a dot";
        else if (!dot || dot == id || (size_t)(dot - id) >= sizeof c->id)
            bad = "want a message id, then a dot";
        else if (!comity_party_valid(dot + 1, NULL))
            bad = "want a party last";
        else {
            c->box = s[0];
            c->due = due;
            memcpy(c->id, id, (size_t)(dot - id));
            snprintf(c->party, sizeof c->party, "%s", dot + 1);
        }
    }
    if (bad)
        return cy_fail(err, COMITY_ERR_INVALID,
                       "inbox: cursor '%.40s': %s (give back a next_me or next_others)",
                       s, bad);
    return COMITY_OK;
}

/* The cursor of item it in box b, into buf. */
static void cursor_of(char buf[COMITY_FW_INBOX_CURSOR_MAX + 1], char b, const item *it)
{
    snprintf(buf, COMITY_FW_INBOX_CURSOR_MAX + 1, "%c.%lld.%s.%s", b,
             (long long)it->due, it->m->id, it->r->party);
}

/* Whether item it comes after cursor c in the inbox's order. */
static bool after_cursor(const item *it, const cursor *c)
{
    if (it->due != c->due)
        return it->due > c->due;
    int k = strcmp(it->m->id, c->id);
    return k ? k > 0 : strcmp(it->r->party, c->party) > 0;
}

/* One box's page into o: "awaiting_me"/"next_me"/"total_me" (or _others):
 * the `limit` items after c (NULL: from the first), sorted.  -1 on OOM. */
static int page_json(json_t *o, char b, items *a, const cursor *c, size_t limit, int64_t now)
{
    if (a->n)
        qsort(a->v, a->n, sizeof *a->v, item_cmp);
    size_t from = 0;
    while (c && from < a->n && !after_cursor(&a->v[from], c))
        from++;
    size_t n = a->n - from < limit ? a->n - from : limit;
    json_t *arr = json_array();
    /* items_json sorts what it is given: a sorted run stays as it is (an
     * empty list has no array: no offset from NULL) */
    if (!arr || (n && items_json(arr, a->v + from, n, now))) {
        json_decref(arr);
        return -1;
    }
    char next[COMITY_FW_INBOX_CURSOR_MAX + 1];
    if (from + n < a->n)
        cursor_of(next, b, &a->v[from + n - 1]);
    bool me = b == 'm';
    if (json_object_set_new(o, me ? "awaiting_me" : "awaiting_others", arr) ||
        json_object_set_new(o, me ? "next_me" : "next_others",
                            from + n < a->n ? json_string(next) : json_null()) ||
        json_object_set_new(o, me ? "total_me" : "total_others", json_integer((json_int_t)a->n)))
        return -1;
    return 0;
}

/* ---- a page of the inbox: the filters ------------------------------------------ */

/* Case-insensitive (ASCII) substring. */
static bool has_ci(const char *s, const char *q)
{
    size_t n = strlen(q);
    for (; *s; s++) {
        size_t k = 0;
        while (k < n && s[k] && tolower((unsigned char)s[k]) == tolower((unsigned char)q[k]))
            k++;
        if (k == n)
            return true;
    }
    return n == 0;
}

static comity_err filter_check(const comity_inbox_filter *f, comity_error *err)
{
    if (f->type && strcmp(f->type, "notification") && strcmp(f->type, "request") &&
        strcmp(f->type, "ping"))
        return cy_fail(err, COMITY_ERR_INVALID,
                       "inbox: type '%.30s': want notification, request or ping", f->type);
    if (f->state) {
        bool ok = false;
        for (int s = COMITY_MSG_SENT; s <= COMITY_MSG_CLOSED && !ok; s++)
            ok = !strcmp(f->state, comity_msg_state_name((comity_msg_state)s));
        if (!ok)
            return cy_fail(err, COMITY_ERR_INVALID, "inbox: state '%.30s': not a message state",
                           f->state);
    }
    if (f->severity < 0 || f->severity > 5)
        return cy_fail(err, COMITY_ERR_INVALID, "inbox: severity %d: want 1-5", f->severity);
    if (f->sector) {
        bool ok = false;
        for (int i = 0; cy_fw_sectors[i] && !ok; i++)
            ok = !strcmp(f->sector, cy_fw_sectors[i]);
        if (!ok)
            return cy_fail(err, COMITY_ERR_INVALID, "inbox: sector '%.30s': not a sector",
                           f->sector);
    }
    if (f->q && strlen(f->q) > COMITY_FW_INBOX_QUERY_MAX)
        return cy_fail(err, COMITY_ERR_INVALID, "inbox: search text longer than %d bytes",
                       COMITY_FW_INBOX_QUERY_MAX);
    return COMITY_OK;
}

/* Whether item it passes f.  Severity and sector are known only of clear
 * bodies: a sealed item whose value the framework does not know passes
 * (the reader narrows it after opening it). */
static bool filter_keeps(const comity_inbox_filter *f, const item *it)
{
    static const char *const tn[] = {[CY_FW_NOTIFICATION] = "notification",
                                     [CY_FW_REQUEST] = "request", [CY_FW_PING] = "ping"};
    const msg *m = it->m;
    if (f->type && strcmp(f->type, tn[m->type]))
        return false;
    if (f->state &&
        strcmp(f->state, comity_msg_state_name(m->closed ? COMITY_MSG_CLOSED : it->r->state)))
        return false;
    if (f->severity && m->severity != f->severity && !(m->sealed && !m->severity))
        return false;
    if (f->sector && (m->sector < 0 ? !m->sealed : strcmp(f->sector, cy_fw_sectors[m->sector])))
        return false;
    if (f->q && *f->q && !has_ci(m->id, f->q) && !has_ci(m->author, f->q) &&
        !has_ci(it->r->party, f->q))
        return false;
    return true;
}

static void filter_items(const comity_inbox_filter *f, items *a)
{
    size_t n = 0;
    for (size_t i = 0; i < a->n; i++)
        if (filter_keeps(f, &a->v[i]))
            a->v[n++] = a->v[i];
    a->n = n;
}

comity_err comity_framework_inbox_page(const comity_framework *fw, const char *party,
                                       int64_t now_ms, size_t limit, const char *after,
                                       char **json, comity_error *err)
{
    return comity_framework_inbox_find(fw, party, now_ms, limit, after, NULL, json, err);
}

comity_err comity_framework_inbox_find(const comity_framework *fw, const char *party,
                                       int64_t now_ms, size_t limit, const char *after,
                                       const comity_inbox_filter *filter, char **json,
                                       comity_error *err)
{
    *json = NULL;
    if (!comity_party_valid(party, err))
        return cy_wrap(err, "inbox");
    if (limit < 1 || limit > COMITY_FW_INBOX_PAGE_MAX)
        return cy_fail(err, COMITY_ERR_INVALID, "inbox: limit %zu: want 1-%d", limit,
                       COMITY_FW_INBOX_PAGE_MAX);
    cursor c;
    comity_err rc;
    if (after && (rc = cursor_parse(after, &c, err)))
        return rc;
    if (filter && (rc = filter_check(filter, err)))
        return rc;
    items mine, sent;
    if ((rc = party_items(fw, party, &mine, &sent, err)))
        return rc;
    if (filter) {
        filter_items(filter, &mine);
        filter_items(filter, &sent);
    }
    json_t *o = json_object();
    if (o && (!after || c.box == 'm') && page_json(o, 'm', &mine, after ? &c : NULL, limit, now_ms))
        json_decref(o), o = NULL;
    if (o && (!after || c.box == 'o') && page_json(o, 'o', &sent, after ? &c : NULL, limit, now_ms))
        json_decref(o), o = NULL;
    cy_free(mine.v);
    cy_free(sent.v);
    return cy_fw_dump(o, json, err);
}

/* ---- threads: the records that name a message ------------------------------------ */

comity_err cy_fw_thread_note(comity_framework *fw, const comity_record *rec)
{
    const char *id = comity_record_id(rec);
    size_t n = comity_record_refs_count(rec);
    for (size_t i = 0; i < n; i++) {
        msg *m = find_msg(fw, comity_record_ref(rec, i));
        bool dup = !m || !strcmp(m->id, id);
        for (size_t k = 0; k < i && !dup; k++) /* a message named twice: once */
            dup = !strcmp(comity_record_ref(rec, k), comity_record_ref(rec, i));
        if (dup)
            continue;
        char *copy = cy_strdup(id);
        if (!copy || (m->nthread == m->capthread &&
                      cy_fw_grow((void **)&m->thread, &m->capthread, m->nthread,
                                 sizeof *m->thread))) {
            cy_free(copy);
            return COMITY_ERR_NOMEM;
        }
        m->thread[m->nthread++] = copy;
    }
    return COMITY_OK;
}

comity_err cy_fw_thread(const comity_framework *fw, const char *id, const char *const **ids,
                        size_t *n, comity_error *err)
{
    const msg *m = find_msg(fw, id);
    if (!m)
        return cy_fail(err, COMITY_ERR_NOTFOUND, "framework: no message %.100s", id);
    *ids = (const char *const *)m->thread;
    *n = m->nthread;
    return COMITY_OK;
}

/* ---- alerts: what is new or fell due for a party ------------------------------ */

void cy_fw_awaiting(const comity_framework *fw, const char *party, size_t since,
                    int64_t from_ms, int64_t to_ms, size_t *n_new, size_t *n_due, size_t *seq)
{
    *n_new = *n_due = 0;
    *seq = fw->nmsgs;
    if (!comity_party_valid(party, NULL))
        return;
    char st[COMITY_PARTY_MAX + 1];
    cy_fw_state_of(party, st);
    for (int pass = 0; pass < 2; pass++) {
        const party_msgs *l = pm_find(fw, pass ? st : party);
        if (pass && !strcmp(st, party))
            break;
        for (size_t i = 0; l && i < l->nto; i++) {
            const msg *m = &fw->msgs[l->to[i].m];
            const rcpt *r = &m->r[l->to[i].k];
            int64_t due;
            if (!expects(fw, m, r, &due) || recipient(m, party) != r)
                continue;
            if (l->to[i].m >= since)
                (*n_new)++;
            if (due >= from_ms && due < to_ms)
                (*n_due)++;
        }
    }
}

/* ---- the descriptor --------------------------------------------------------- */

static comity_err messages_init(comity_framework *fw, comity_error *err)
{
    if (!(fw->by_party = json_object()))
        return cy_fw_nomem(err);
    return COMITY_OK;
}

static void messages_clear(comity_framework *fw)
{
    for (size_t i = 0; i < fw->nmsgs; i++)
        msg_clear(&fw->msgs[i]);
    cy_free(fw->msgs);
    for (size_t i = 0; i < fw->npmsgs; i++) {
        cy_free(fw->pmsgs[i].to);
        cy_free(fw->pmsgs[i].sent);
    }
    cy_free(fw->pmsgs);
    json_decref(fw->by_party);
}

static comity_err messages_add(comity_framework *fw, enum cy_fw_type t,
                               const comity_record *rec, json_t *body,
                               int64_t created, bool dry, comity_error *err)
{
    if (t == CY_FW_NOTIFICATION || t == CY_FW_REQUEST || t == CY_FW_PING)
        return add_message(fw, t, rec, body, created, dry, err);
    if (t == CY_FW_DELIVERED)
        return add_delivered(fw, rec, body, created, dry, err);
    return add_answer(fw, t, rec, body, created, dry, err);
}

const cy_fw_mech cy_fw_mech_messages = {
    .name = "messages",
    .types = CY_FW_BIT(CY_FW_NOTIFICATION) | CY_FW_BIT(CY_FW_REQUEST) |
             CY_FW_BIT(CY_FW_ACK) | CY_FW_BIT(CY_FW_REPLY) |
             CY_FW_BIT(CY_FW_CLOSE) | CY_FW_BIT(CY_FW_PING) |
             CY_FW_BIT(CY_FW_PONG) | CY_FW_BIT(CY_FW_DELIVERED),
    .init = messages_init,
    .clear = messages_clear,
    .add = messages_add,
};
