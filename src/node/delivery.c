/*
 * delivery.c: the node records each delivery of a message to one of its
 * parties as a signed `delivered` record (docs/federation.md section 7).
 *
 * A recipient's first fetch of a message is stored as a local delivered
 * event and fed to the framework on the fetching thread
 * (cy_fw_live_fetched); the framework then tells this file (its hook),
 * which queues the pair (message, party) and returns: the HTTP answer
 * never waits for a signature or the disk.  One thread takes the queue in
 * order and, for each pair still wanting its record
 * (cy_fw_live_delivery_wanted):
 *
 *   1. reads the message's envelope from the store (its author, `to` and
 *      tlp);
 *   2. makes the record: type `delivered`, author the recipient, `to` the
 *      message's author and its other recipients (the message's parties,
 *      so that their nodes pull it: section 3), `refs` the message, the
 *      message's tlp, body {"party": <recipient>}, sealed like the message
 *      when its tlp is amber or red (to the same parties, by the key
 *      directory's age recipients), signed by this node's log key
 *      (cy_record_sign_as);
 *   3. submits it through intake as the recipient (intake's rule
 *      signature checks it under this node's log key), and waits.
 *
 * Nothing acknowledged is lost: the local event is stored before the
 * fetch is answered, and stays the durable trigger of its record.  At
 * start, every event stored since the node first ran this code (the store
 * meta "delivered_records_from", set at that first start; older events
 * are history and stay local, as they were) whose slot has no delivered
 * record folded is queued again.  So a crash, a stop, a full queue or a
 * refusal for want of room (503) costs a delay, not the record.  A record
 * refused by a rule (delivered-once: another office of the same state was
 * recorded first) is logged and dropped: nothing is left to record.
 *
 * Locks: `mu` guards the queue and `stop`; nothing else is held while it
 * is.  The thread holds no lock while it signs, reads or waits on intake.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "node/node.h"
#include "record/delivered.h"

/* Deliveries waiting to be signed; beyond, a delivery waits for the next
 * start (its event is its trigger), and the node logs
 * delivery.queue_full. */
#define CY_DELIVERY_QUEUE_MAX 65536
/* A submission refused for the moment (503: the store cannot take it) is
 * tried again after this long. */
#define CY_DELIVERY_RETRY_MS 1000

struct job {
    char id[CY_RECORD_ID_MAX + 1];
    char party[COMITY_PARTY_MAX + 1];
};

struct cy_delivery {
    comity_node *node; /* borrowed */
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct job *q; /* a ring of cap slots, n from head */
    size_t head, n, cap;
    bool stop, started;
};

/* ---- the queue ------------------------------------------------------------------ */

/* Adds (id, party) at the tail; false when the queue is full or out of
 * memory.  Under d->mu. */
static bool push(struct cy_delivery *d, const char *id, const char *party)
{
    if (d->n >= CY_DELIVERY_QUEUE_MAX)
        return false;
    if (d->n == d->cap) {
        size_t cap = d->cap ? 2 * d->cap : 64;
        struct job *q = cy_calloc(cap, sizeof *q);
        if (!q)
            return false;
        for (size_t i = 0; i < d->n; i++)
            q[i] = d->q[(d->head + i) % d->cap];
        cy_free(d->q);
        d->q = q;
        d->cap = cap;
        d->head = 0;
    }
    struct job *j = &d->q[(d->head + d->n++) % d->cap];
    snprintf(j->id, sizeof j->id, "%s", id);
    snprintf(j->party, sizeof j->party, "%s", party);
    return true;
}

static void enqueue(struct cy_delivery *d, const char *id, const char *party)
{
    pthread_mutex_lock(&d->mu);
    bool ok = push(d, id, party);
    pthread_cond_signal(&d->cv);
    pthread_mutex_unlock(&d->mu);
    if (!ok)
        cy_log(CY_LOG_WARN, "delivery.queue_full",
               (cy_log_kv[]){CY_KV_S("record", id), CY_KV_S("party", party)}, 2,
               "delivery: %s to %s waits for the next start (the queue holds %d)", id, party,
               CY_DELIVERY_QUEUE_MAX);
}

/* The framework's hook (cy_fw_live_on_delivered): on the fetching thread. */
static void on_delivered(void *ctx, const char *id, const char *party)
{
    enqueue(ctx, id, party);
}

/* ---- one record ------------------------------------------------------------------ */

struct wait {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done, retry;
    comity_err code;
    char rule[32];
    char msg[COMITY_ERRMSG_MAX];
};

static void on_done(void *ctx, const cy_intake_result *res)
{
    struct wait *w = ctx;
    pthread_mutex_lock(&w->mu);
    w->code = res->code;
    w->retry = res->retry;
    snprintf(w->rule, sizeof w->rule, "%s", res->rule ? res->rule : "");
    snprintf(w->msg, sizeof w->msg, "%s", res->msg ? res->msg : "");
    w->done = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

static int env_cb(const cy_record_row *row, void *ctx)
{
    comity_record **rec = ctx;
    if (row->envelope)
        (void)comity_record_parse(row->envelope, row->envelope_len, rec, NULL);
    return 1;
}

enum outcome { DONE, RETRY };

/* The `delivered` record of `party`'s delivery of message `id`, signed by
 * this node.  OUT *env (comity_free). */
static comity_err make(comity_node *node, const char *id, const char *party,
                       const cy_principal *who, char **env, size_t *len, comity_error *err)
{
    *env = NULL;
    comity_record *m = NULL;
    comity_err rc = cy_store_fw_get(node->store, id, env_cb, &m, err);
    if (!rc && !m)
        rc = cy_fail(err, COMITY_ERR_INTERNAL, "delivery: message %s does not parse", id);
    if (rc)
        return rc;
    /* the message's parties but the recipient itself */
    const char *to[COMITY_RECORD_MAX_TO + 1];
    size_t nto = 0;
    size_t mto = comity_record_to_count(m);
    for (size_t i = 0; i <= mto; i++) {
        const char *p = i ? comity_record_to(m, i - 1) : comity_record_author(m);
        bool seen = !strcmp(p, party);
        for (size_t k = 0; k < nto && !seen; k++)
            seen = !strcmp(to[k], p);
        if (!seen)
            to[nto++] = p;
    }
    if (nto > COMITY_RECORD_MAX_TO) {
        rc = cy_fail(err, COMITY_ERR_TOOBIG,
                     "delivery: %s has %zu parties besides %s; a record names at most %d "
                     "(COMITY_RECORD_MAX_TO)",
                     id, nto, party, COMITY_RECORD_MAX_TO);
        comity_record_free(m);
        return rc;
    }
    const char *tlp = comity_record_tlp(m);
    cy_node_seal sl = {0}; /* the parties local and homed at peers */
    if (comity_tlp_sealed(tlp))
        rc = cy_node_seal_to(node->store, to, nto, true, &sl, err);
    char body[COMITY_PARTY_MAX + 16];
    snprintf(body, sizeof body, "{\"party\":\"%s\"}", party); /* a valid party name */
    const char *refs[1] = {id};
    comity_record_params prm = {.type = CY_RECORD_DELIVERED,
                                .tlp = tlp,
                                .to = to,
                                .nto = nto,
                                .refs = refs,
                                .nrefs = 1,
                                .seal_to = sl.seal,
                                .nseal_to = sl.nseal};
    if (!rc)
        rc = cy_record_sign_as(node->key, party, who->recipient, &prm, body, strlen(body), env,
                               len, err);
    cy_node_seal_free(&sl);
    comity_record_free(m);
    return rc;
}

static enum outcome one(struct cy_delivery *d, const struct job *j)
{
    comity_node *node = d->node;
    if (!cy_fw_live_delivery_wanted(node->fw, j->id, j->party))
        return DONE;
    comity_error e = {0};
    cy_principal who;
    char *env = NULL;
    size_t len = 0;
    comity_err rc = cy_store_principal_get(node->store, j->party, &who, NULL, &e);
    if (!rc)
        rc = make(node, j->id, j->party, &who, &env, &len, &e);
    if (rc) {
        cy_log(CY_LOG_ERROR, "delivery.record_failed",
               (cy_log_kv[]){CY_KV_S("record", j->id), CY_KV_S("party", j->party)}, 2,
               "delivery: the delivered record of %s to %s could not be made: %s", j->id,
               j->party, e.msg);
        return DONE; /* its event is its trigger at the next start */
    }
    struct wait w = {.done = false};
    pthread_mutex_init(&w.mu, NULL);
    pthread_cond_init(&w.cv, NULL);
    cy_intake_submit(node->intake, env, len, &who, on_done, &w); /* takes env */
    pthread_mutex_lock(&w.mu);
    while (!w.done)
        pthread_cond_wait(&w.cv, &w.mu);
    pthread_mutex_unlock(&w.mu);
    pthread_cond_destroy(&w.cv);
    pthread_mutex_destroy(&w.mu);
    if (w.code && w.retry)
        return RETRY;
    if (w.code)
        cy_log(CY_LOG_WARN, "delivery.record_refused",
               (cy_log_kv[]){CY_KV_S("record", j->id), CY_KV_S("party", j->party),
                             CY_KV_S("rule", w.rule)},
               3, "delivery: the delivered record of %s to %s was refused: %s", j->id, j->party,
               w.msg);
    return DONE;
}

static void *run(void *arg)
{
    struct cy_delivery *d = arg;
    pthread_mutex_lock(&d->mu);
    while (!d->stop) {
        if (!d->n) {
            pthread_cond_wait(&d->cv, &d->mu);
            continue;
        }
        struct job j = d->q[d->head];
        d->head = (d->head + 1) % d->cap;
        d->n--;
        pthread_mutex_unlock(&d->mu);
        enum outcome o = one(d, &j);
        pthread_mutex_lock(&d->mu);
        if (o == RETRY && !d->stop) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += CY_DELIVERY_RETRY_MS / 1000;
            (void)pthread_cond_timedwait(&d->cv, &d->mu, &ts);
            if (!push(d, j.id, j.party)) /* filled meanwhile: the next start */
                cy_log(CY_LOG_WARN, "delivery.queue_full",
                       (cy_log_kv[]){CY_KV_S("record", j.id), CY_KV_S("party", j.party)}, 2,
                       "delivery: %s to %s waits for the next start (the queue holds %d)",
                       j.id, j.party, CY_DELIVERY_QUEUE_MAX);
        }
    }
    pthread_mutex_unlock(&d->mu);
    return NULL;
}

/* ---- start and stop ---------------------------------------------------------------- */

/* The events from the store's walk, checked after it (the check reads the
 * framework, which may read the store: not inside the walk). */
struct scan {
    int64_t from_ms;
    struct job *rows;
    size_t n, cap;
    bool nomem;
};

static int scan_one(const cy_delivered_row *row, void *ctx)
{
    struct scan *s = ctx;
    if (row->at_ms < s->from_ms)
        return 0;
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 64;
        struct job *rows = cy_realloc(s->rows, cap * sizeof *rows);
        if (!rows) {
            s->nomem = true;
            return 1;
        }
        s->rows = rows;
        s->cap = cap;
    }
    struct job *j = &s->rows[s->n++];
    snprintf(j->id, sizeof j->id, "%s", row->id);
    snprintf(j->party, sizeof j->party, "%s", row->party);
    return 0;
}

/* The time from which delivered events are triggers of records: the
 * store's meta, set to now at the first start that reads it. */
static comity_err records_from(comity_store *st, int64_t *from_ms, comity_error *err)
{
    char *v = NULL;
    comity_error e = {0};
    comity_err rc = cy_store_meta_get(st, "delivered_records_from", &v, &e);
    if (rc == COMITY_ERR_NOTFOUND || (!rc && !v)) {
        char now[32];
        *from_ms = cy_now_ms();
        snprintf(now, sizeof now, "%lld", (long long)*from_ms);
        return cy_store_meta_set(st, "delivered_records_from", now, err);
    }
    if (rc)
        return cy_fail(err, rc, "%s", e.msg);
    char *end;
    long long n = strtoll(v, &end, 10);
    rc = *v && !*end && n >= 0 ? COMITY_OK
                               : cy_fail(err, COMITY_ERR_DB,
                                         "store meta delivered_records_from: '%.32s' is not a "
                                         "time in ms",
                                         v);
    *from_ms = n;
    cy_free(v);
    return rc;
}

comity_err cy_delivery_start(comity_node *node, comity_error *err)
{
    struct cy_delivery *d = cy_calloc(1, sizeof *d);
    if (!d)
        return cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    d->node = node;
    pthread_mutex_init(&d->mu, NULL);
    pthread_cond_init(&d->cv, NULL);
    node->delivery = d;
    struct scan s = {0};
    comity_err rc = records_from(node->store, &s.from_ms, err);
    if (!rc)
        rc = cy_store_delivered_list(node->store, scan_one, &s, err);
    if (!rc && s.nomem)
        rc = cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    size_t queued = 0;
    for (size_t i = 0; !rc && i < s.n; i++)
        if (cy_fw_live_delivery_wanted(node->fw, s.rows[i].id, s.rows[i].party)) {
            pthread_mutex_lock(&d->mu);
            queued += push(d, s.rows[i].id, s.rows[i].party);
            pthread_mutex_unlock(&d->mu);
        }
    cy_free(s.rows);
    if (rc)
        return rc; /* cy_delivery_stop frees */
    if (queued)
        cy_log(CY_LOG_INFO, "delivery.resumed", (cy_log_kv[]){CY_KV_N("queued", queued)}, 1,
               "delivery: %zu delivered record(s) still to sign", queued);
    if (pthread_create(&d->th, NULL, run, d) != 0)
        return cy_fail(err, COMITY_ERR_INTERNAL, "delivery: cannot start its thread");
    d->started = true;
    cy_fw_live_on_delivered(node->fw, on_delivered, d);
    return COMITY_OK;
}

void cy_delivery_stop(comity_node *node)
{
    struct cy_delivery *d = node->delivery;
    if (!d)
        return;
    if (node->fw)
        cy_fw_live_on_delivered(node->fw, NULL, NULL);
    pthread_mutex_lock(&d->mu);
    d->stop = true;
    pthread_cond_signal(&d->cv);
    pthread_mutex_unlock(&d->mu);
    if (d->started)
        pthread_join(d->th, NULL);
    pthread_cond_destroy(&d->cv);
    pthread_mutex_destroy(&d->mu);
    cy_free(d->q);
    cy_free(d);
    node->delivery = NULL;
}
