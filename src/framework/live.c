/*
 * live.c: the framework as a node runs it (see live.h).
 *
 * One comity_framework handle behind a mutex.  It is built from the
 * configured deadline table and a replay of the store: every record in
 * log order, then every delivered event.  Intake asks it twice per record:
 * a dry run to refuse early (cy_fw_live_precheck), then the final
 * comity_framework_add in log order, before the record's log entry is
 * appended (cy_fw_live_add); the record's body is parsed once, by the dry
 * run outside the mutex, and the final decision reuses it.  When records
 * it took are not stored after
 * all (a failed commit), it is rebuilt from the store under the mutex, so
 * that no delivered event lands in the old handle between the replay and
 * the swap.
 *
 * Threads: every stored record whose refs name a message joins that
 * message's thread (cy_fw_thread_note), the records the framework rules
 * when it takes them and the others (notes, sightings, evidence) as
 * intake hands them over; the replay notes every stored one.  The node's
 * thread endpoint reads the ids and then each record through the
 * reader's visibility, as if read one by one.
 *
 * Deliveries: a recipient's fetch of a message is its delivery.  The
 * event is stored first (once per message and party), then fed in; a node
 * restarted later replays it from the store.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "framework/core.h"
#include "framework/live.h"
#include "record/types.h"

struct cy_fw_live {
    pthread_mutex_t mu;
    comity_framework *fw;
    comity_store *st; /* borrowed */
    cy_fw_table t;    /* the configured table, applied to every handle built */
    comity_identities *ids; /* the custodian's, or NULL (see below) */
};

const char *const cy_fw_retention_kinds[CY_FW_CONF_KINDS] = {
    "consultation", "preservation", "disclosure", "mla", "emergency"};

/* The custodian's own sealed records (its destruction records) are fed
 * with their opened bodies, so that the handle knows which files went:
 * the node wrote them and holds the key.  Anything else sealed is fed by
 * its envelope.  OUT *body: comity_free, or NULL. */
static void own_body(const cy_fw_table *t, comity_identities *ids, const comity_record *rec,
                     char **body, size_t *len)
{
    *body = NULL;
    *len = 0;
    if (!ids || !t->custodian[0] || !comity_record_is_sealed(rec) ||
        strcmp(comity_record_author(rec), t->custodian) != 0)
        return;
    if (comity_record_open(rec, ids, body, len, NULL) != COMITY_OK)
        *body = NULL;
}

/* ---- replay -------------------------------------------------------------------- */

struct replay {
    comity_framework *fw;
    const cy_fw_table *t;
    comity_identities *ids;
    size_t records, refused, events;
};

/* Whether a stored record of `type` matters to the state: one the
 * framework rules, or one whose refs may name a message (its thread). */
static bool replayed(const char *type)
{
    return comity_framework_handles(type) || cy_record_type_known(type);
}

static int replay_record(const cy_record_row *row, void *ctx)
{
    struct replay *p = ctx;
    if (!replayed(row->type) || !row->envelope)
        return 0;
    /* verified when it was received; parsing is enough here */
    comity_record *rec = NULL;
    comity_error e = {0};
    char *body = NULL;
    size_t blen = 0;
    comity_err rc = comity_record_parse(row->envelope, row->envelope_len, &rec, &e);
    /* a type or version this node does not know stays without effect
     * until a release that knows it starts (docs/federation.md, "Versions") */
    if (!rc && !cy_fw_knows(row->type, comity_record_schema(rec))) {
        comity_record_free(rec);
        return 0;
    }
    /* every stored record joins the threads its refs name, whatever the
     * rules below make of it (it is stored, and readable as such) */
    if (!rc && comity_record_refs_count(rec))
        (void)cy_fw_thread_note(p->fw, rec);
    if (!rc && !comity_framework_handles(row->type)) {
        comity_record_free(rec);
        return 0;
    }
    if (!rc)
        own_body(p->t, p->ids, rec, &body, &blen);
    if (rc || comity_framework_add(p->fw, rec, body, blen, &e) != COMITY_OK) {
        /* e.g. stored before this node applied the framework rules */
        if (p->refused++ < 5)
            cy_log(CY_LOG_WARN, "framework.not_replayed",
                   (cy_log_kv[]){CY_KV_S("record", row->id)}, 1,
                   "framework: stored record %s not replayed: %s", row->id, e.msg);
    } else {
        p->records++;
    }
    comity_free(body);
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

/* A new handle: the table, then the store replayed.  OUT *out:
 * comity_framework_free. */
static comity_err build(comity_store *st, const cy_fw_table *t, comity_identities *ids,
                        comity_framework **out, struct replay *p, comity_error *err)
{
    comity_framework *fw = NULL;
    comity_err rc = comity_framework_new(&fw, err);
    for (int k = 0; k < 6 && !rc; k++)
        if (t->ack_ms[k])
            rc = comity_framework_set_deadline(fw, k, t->ack_ms[k], t->answer_ms[k], err);
    if (!rc && t->pong_ms)
        rc = comity_framework_set_ping_deadline(fw, t->pong_ms, err);
    for (size_t i = 0; i < t->ncases && !rc; i++)
        rc = comity_framework_set_case_deadline(
            fw, t->cases[i].profile[0] ? t->cases[i].profile : NULL, t->cases[i].clock,
            t->cases[i].ms, err);
    for (size_t i = 0; i < t->ntreaties && !rc; i++)
        rc = comity_framework_set_treaty(fw, t->treaties[i].a, t->treaties[i].b,
                                         t->treaties[i].profile, err);
    for (size_t k = 0; k < CY_FW_CONF_KINDS && !rc; k++)
        if (t->retention[k][0])
            rc = comity_framework_set_retention(fw, cy_fw_retention_kinds[k], t->retention[k],
                                                err);
    if (!rc && t->custodian[0])
        rc = comity_framework_set_custodian(fw, t->custodian, err);
    memset(p, 0, sizeof *p);
    p->fw = fw;
    p->t = t;
    p->ids = ids;
    if (!rc)
        rc = cy_store_fw_replay(st, replay_record, p, err);
    if (!rc)
        rc = cy_store_delivered_list(st, replay_event, p, err);
    if (rc) {
        comity_framework_free(fw);
        return cy_wrap(err, "framework: replay");
    }
    *out = fw;
    return COMITY_OK;
}

comity_err cy_fw_live_open(comity_store *st, const cy_fw_table *t, cy_fw_live **out,
                           comity_error *err)
{
    cy_fw_live *f = cy_calloc(1, sizeof *f);
    if (!f)
        return cy_fail(err, COMITY_ERR_NOMEM, "framework: out of memory");
    f->st = st;
    f->t = *t;
    /* the custodian's key, to read its own destruction records; without
     * it they are fed by their envelope (the job refuses to run then) */
    if (t->custodian[0] && t->custodian_key[0] &&
        comity_identities_load(t->custodian_key, &f->ids, NULL) != COMITY_OK)
        f->ids = NULL;
    struct replay p;
    comity_err rc = build(st, &f->t, f->ids, &f->fw, &p, err);
    if (rc) {
        comity_identities_free(f->ids);
        cy_free(f);
        return rc;
    }
    pthread_mutex_init(&f->mu, NULL);
    if (p.records || p.refused)
        cy_log(CY_LOG_INFO, "framework.replayed",
               (cy_log_kv[]){CY_KV_N("records", p.records), CY_KV_N("events", p.events),
                             CY_KV_N("refused", p.refused)},
               3, "framework: %zu record(s) and %zu delivered event(s) replayed, %zu refused",
               p.records, p.events, p.refused);
    *out = f;
    return COMITY_OK;
}

void cy_fw_live_free(cy_fw_live *f)
{
    if (!f)
        return;
    comity_framework_free(f->fw);
    comity_identities_free(f->ids);
    pthread_mutex_destroy(&f->mu);
    cy_free(f);
}

void cy_fw_live_rebuild(cy_fw_live *f)
{
    if (!f)
        return;
    pthread_mutex_lock(&f->mu);
    comity_framework *fw = NULL;
    struct replay p;
    comity_error e = {0};
    if (build(f->st, &f->t, f->ids, &fw, &p, &e) == COMITY_OK) {
        comity_framework_free(f->fw);
        f->fw = fw;
    } else {
        cy_log(CY_LOG_ERROR, "framework.rebuild_failed", NULL, 0,
               "framework: rebuild failed, state may be ahead of the store until restart: %s",
               e.msg);
    }
    pthread_mutex_unlock(&f->mu);
}

/* ---- intake ------------------------------------------------------------------------ */

comity_err cy_fw_live_precheck(cy_fw_live *f, const comity_record *rec, json_t **body,
                               comity_error *err)
{
    *body = NULL;
    const char *type = comity_record_type(rec);
    if (!f || !comity_framework_handles(type))
        return COMITY_OK;
    /* the body's schema first of all, parsed outside the lock (stateless;
     * the rules below hold the lock only for what needs the state), and
     * kept for cy_fw_live_add: the body is parsed once */
    json_t *j = NULL;
    comity_err rc = cy_fw_body_parse(rec, &j, err);
    if (rc)
        return rc;
    pthread_mutex_lock(&f->mu);
    rc = cy_fw_feed_parsed(f->fw, rec, j, true, err);
    pthread_mutex_unlock(&f->mu);
    if (rc == COMITY_ERR_EXISTS) { /* a re-post: the committer answers it */
        cy_err_clear(err);
        /* the fixed schema was checked above; a case type's body has a
         * schema of its own, which only a fresh record's rules read:
         * check it alone */
        const char *clear = comity_record_body(rec);
        rc = clear && cy_fw_type_of(type) == CY_FW_CASE
                 ? comity_framework_check_body(type, clear, strlen(clear), err)
                 : COMITY_OK;
    }
    if (rc)
        json_decref(j);
    else
        *body = j;
    return rc;
}

comity_err cy_fw_live_add(cy_fw_live *f, const comity_record *rec, json_t *body, bool *added,
                          comity_error *err)
{
    *added = false;
    if (!f || !cy_fw_knows(comity_record_type(rec), comity_record_schema(rec)))
        return COMITY_OK; /* relayed, of a type or version unknown here: no effect */
    if (!comity_framework_handles(comity_record_type(rec))) {
        /* not ruled here, but it may answer a message: its thread */
        if (comity_record_refs_count(rec)) {
            pthread_mutex_lock(&f->mu);
            (void)cy_fw_thread_note(f->fw, rec);
            pthread_mutex_unlock(&f->mu);
        }
        return COMITY_OK;
    }
    /* the custodian's own sealed records are fed opened (own_body) */
    char *opened = NULL;
    size_t olen = 0;
    own_body(&f->t, f->ids, rec, &opened, &olen);
    pthread_mutex_lock(&f->mu);
    comity_err rc = opened ? comity_framework_add(f->fw, rec, opened, olen, err)
                    : body ? cy_fw_feed_parsed(f->fw, rec, body, false, err)
                           : comity_framework_add(f->fw, rec, NULL, 0, err);
    if (!rc && comity_record_refs_count(rec))
        (void)cy_fw_thread_note(f->fw, rec);
    pthread_mutex_unlock(&f->mu);
    comity_free(opened);
    *added = rc == COMITY_OK;
    return rc;
}

/* ---- reading ---------------------------------------------------------------------- */

bool cy_fw_is_message(const char *type)
{
    return type && (!strcmp(type, "notification") || !strcmp(type, "request") ||
                    !strcmp(type, "ping"));
}

void cy_fw_live_fetched(cy_fw_live *f, const char *id, const char *type, const char *party)
{
    if (!f || !id || !party || !cy_fw_is_message(type))
        return;
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
    if (cy_store_delivered_add(f->st, id, party, now, &added, &e)) {
        cy_log(CY_LOG_ERROR, "framework.delivered_not_stored",
               (cy_log_kv[]){CY_KV_S("record", id), CY_KV_S("party", party)}, 2,
               "framework: delivered event of %s to %s not stored: %s", id, party, e.msg);
        return;
    }
    pthread_mutex_lock(&f->mu);
    (void)comity_framework_delivered(f->fw, id, party, now, NULL);
    pthread_mutex_unlock(&f->mu);
}

comity_err cy_fw_inbox_reader(const char *viewer, const char *kind, const char *asked,
                              const char **party, comity_error *err)
{
    if (!strcmp(kind, "operator")) {
        if (!asked)
            return cy_fail(err, COMITY_ERR_USAGE, "the operator has no inbox: give ?party=NAME");
        *party = asked;
    } else if (asked && strcmp(asked, viewer) != 0) {
        return cy_fail(err, COMITY_ERR_DENIED, "%s may read only its own inbox", viewer);
    } else {
        *party = viewer;
    }
    if (!comity_party_valid(*party, NULL))
        return cy_fail(err, COMITY_ERR_USAGE, "party: '%.64s' is not a party name", *party);
    return COMITY_OK;
}

const comity_framework *cy_fw_live_lock(cy_fw_live *f)
{
    pthread_mutex_lock(&f->mu);
    return f->fw;
}

void cy_fw_live_unlock(cy_fw_live *f) { pthread_mutex_unlock(&f->mu); }
