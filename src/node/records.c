/*
 * records.c: record intake (POST /v1/records), reading records and their
 * receipts from the node's log (which node.c and http.c open and close).
 *
 * Intake checks, in this order, and answers the first failure with a JSON
 * error naming the rule:
 *
 *   size           the envelope is at most COMITY_DSSE_MAX bytes      413
 *   envelope       a DSSE JSON envelope with the record payloadType   400
 *   payload        the payload follows specs/records.md               422
 *   author         the author is a registered party                   403
 *   signature      a signature verifies under the author's key        403
 *   authenticated  the caller is logged in (401) as the author (403)
 *   type           the record type is one this node knows             422
 *   framework      the framework's rules (framework.c): body schema,  422
 *                  who may answer what (403), what may follow (409)
 *
 * The framework check here is a dry run against the state so far; the
 * final one (comity_framework_add) runs in the committer, per record in
 * batch order, before its log entry is appended: a refused record is
 * neither logged nor stored.
 *
 * Then the record is committed, in a pipeline of two threads, and nothing
 * acknowledged is ever lost:
 *
 *   committer  takes what is queued as one batch; appends the new
 *              records' log entries ("comity-record-v1:" + digest) in one
 *              call;
 *              commits the rows with their log indexes and TAXII
 *              copies in one store transaction without waiting for the
 *              disk (CY_STORE_NOSYNC); hands the batch on and takes the
 *              next one.
 *   syncer     makes the store's commits durable (one fdatasync of its
 *              WAL) for every batch handed on meanwhile at once, and only
 *              then resumes the connections, whose 201s are sent.
 *
 * So the disk work of batch N overlaps the checks and the commit of batch
 * N+1, and no answer leaves before its record's row is durable.  The log
 * is opened COMITY_LOG_REPLAYABLE: it keeps entries in memory until a
 * checkpoint covers them (at most a second; checkpoints are fsynced), and
 * the record rows are what makes an entry durable.  A crash can leave an
 * entry without its row (harmless: an entry is a digest; the author
 * re-posts and gets a new entry) or rows whose entries the log had not yet
 * checkpointed: on start the node checks every record stored
 * since the last clean stop against the log and appends each missing entry
 * again.  The lost entries are always the newest ones, and their rows are
 * in log order without gaps, so each gets the very index its answer gave
 * (tests/cli/node_records_crash.sh puts a log directory back and checks
 * this).  The one way to a gap, a batch whose rows fail to commit after
 * its entries were appended, is followed by a checkpoint that makes those
 * entries durable before the next batch, so a gap is never in what a crash
 * can take.  A clean stop first has a
 * checkpoint cover every entry.  After a failed sync (or that checkpoint
 * failing) nobody knows what is on disk: intake then answers 503 to
 * everything until the node is restarted.
 *
 * No worker thread waits on the disk: a record that passed every check is
 * queued and its connection suspended (libmicrohttpd's suspend/resume)
 * until the syncer resumes it.  Before it commits, the committer waits
 * briefly for records that are probably on their way (gather()), so that
 * batches stay large.
 *
 * Re-posting a stored record (same id, same digest) answers 200 with the
 * same log index; the same id with another digest is 409.
 */
#define _GNU_SOURCE /* pthread_setname_np */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <microhttpd.h>
#include <sodium.h>

#include "crypto/dsse.h"
#include "node/fw.h"
#include "node/intake.h"

#define LIST_DEFAULT 100
#define LIST_MAX 1000
#define VKEY_CACHE 64
/* Gathering a batch (committer_main): wait for the next record at most
 * GATHER_GAP_US, and for the whole batch at most GATHER_MAX_US. */
#define GATHER_GAP_US 300
#define GATHER_MAX_US 2000
#define EXTDEF_ID CY_RECORD_EXTDEF_ID
#define EXTDEF_CREATOR "identity--9d102db0-e403-4779-96f4-440fbd8250a8"
#define EXTDEF_TIME "2026-11-23T00:00:00.000Z"
#define WRAPPER_TYPE CY_RECORD_WRAPPER_TYPE

/* The record types this node accepts (body schemas come later). */
static const char *const KNOWN_TYPES[] = {
    "notification", "request", "ack",      "reply",    "close", "ping",
    "pong",         "poc",     "sighting", "evidence", "note",
};

bool cy_record_type_known(const char *type)
{
    for (size_t i = 0; i < CY_ARRAY_LEN(KNOWN_TYPES); i++)
        if (strcmp(type, KNOWN_TYPES[i]) == 0)
            return true;
    return false;
}

/* The STIX extension definition of the wrapper type (STIX 2.1, 7.3). */
static const char EXTDEF_JSON[] =
    "{\"type\":\"extension-definition\",\"spec_version\":\"2.1\",\"id\":\"" EXTDEF_ID "\","
    "\"created_by_ref\":\"" EXTDEF_CREATOR "\",\"created\":\"" EXTDEF_TIME "\","
    "\"modified\":\"" EXTDEF_TIME "\",\"name\":\"comity record\","
    "\"description\":\"A comity record: a DSSE envelope (payloadType "
    COMITY_RECORD_PAYLOAD_TYPE ") signed by its author, in the property dsse_envelope. "
    "Check the envelope's signature and receipt, never this wrapper.\","
    "\"schema\":\"https://comity.invalid/specs/records.md\",\"version\":\"1.0.0\","
    "\"extension_types\":[\"new-sdo\"]}";

/* ---- the intake state ------------------------------------------------------ */

struct item {
    comity_record *rec;
    cy_record_in in;
    char *env;  /* a copy of the envelope */
    const char **to;
    char stix_id[CY_RECORD_ID_MAX + 32];
    struct MHD_Connection *conn; /* suspended until the commit is done */
    struct cy_intake *intake;
    /* results */
    unsigned status;
    const char *rule;
    char msg[COMITY_ERRMSG_MAX + 64];
    uint64_t log_index;
    bool done;
    struct item *next;
};

struct vslot {
    char text[CY_VKEY_MAX];
    comity_vkey *vk;
};

struct cy_intake {
    comity_log *log; /* the node's log (borrowed from the node) */
    int64_t coll_public, coll_community; /* 0: absent */

    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct item *head, *tail;
    size_t inflight; /* queued or committing, not yet resumed */
    size_t queued;   /* in the queue (head..tail) */
    /* the most records in flight at once, this second and the last one:
     * about how many clients post concurrently (committer_main) */
    size_t peak_now, peak_last;
    int64_t peak_since_ms;
    size_t gather_want; /* while gather() waits: the batch size it waits for */
    size_t syncing;     /* handed to the syncer, not yet resumed */
    bool stop;
    bool running;
    pthread_t thr;
    pthread_cond_t idle;
    comity_node *node;

    /* the syncer (syncer_main): batches the committer has committed
     * without their fsyncs, in commit order, with what they need synced;
     * guarded by mu */
    pthread_cond_t scv;
    struct item *shead, *stail;
    uint64_t s_log_size; /* log entries below this must be durable */
    bool s_store;        /* and the store's commits */
    bool committer_done; /* no more batches will come */
    bool srunning;
    pthread_t sthr;
    /* a sync failed: what is on disk is unknown, so intake refuses every
     * record from then on (503) until the node is restarted */
    bool broken;
    char broken_msg[COMITY_ERRMSG_MAX];

    pthread_mutex_t vmu;
    struct vslot vcache[VKEY_CACHE];
    unsigned vnext;
};

/* ---- start-up check: every stored record's entry is in the log ------------- */

struct recheck {
    struct cy_intake *in;
    comity_store *st;
    size_t checked, fixed;
    int64_t last_seq;
    comity_err rc;
    comity_error *err;
};

static int recheck_one(const cy_record_row *row, void *ctx)
{
    struct recheck *c = ctx;
    char want[COMITY_RECORD_ENTRY_LEN + 1];
    snprintf(want, sizeof want, "comity-record-v1:%s", row->digest);
    uint8_t *got = NULL;
    size_t len = 0;
    bool ok = comity_log_entry(c->in->log, row->log_index, &got, &len, NULL) == COMITY_OK &&
              len == COMITY_RECORD_ENTRY_LEN && memcmp(got, want, len) == 0;
    cy_free(got);
    c->checked++;
    c->last_seq = row->seq;
    if (ok)
        return 0;
    /* missing (a lost or restored log directory): log it again */
    uint64_t idx;
    if ((c->rc = comity_log_append(c->in->log, want, COMITY_RECORD_ENTRY_LEN, 1, &idx, c->err)) ||
        (c->rc = cy_store_record_set_index(c->st, row->seq, idx, c->err)))
        return 1;
    if (c->fixed < 5) /* after a crash there may be thousands: the count follows */
        fprintf(stderr, "comity node: record %s was missing from the log: logged again at %llu\n",
                row->id, (unsigned long long)idx);
    c->fixed++;
    return 0;
}

static comity_err recheck(comity_node *node, struct cy_intake *in, comity_error *err)
{
    char *v = NULL;
    int64_t after = 0;
    if (cy_store_meta_get(node->store, "records_checked_seq", &v, NULL) == COMITY_OK) {
        after = strtoll(v, NULL, 10);
        cy_free(v);
    }
    struct recheck c = {.in = in, .st = node->store, .last_seq = after, .err = err};
    /* the log publishes every durable entry when it opens, so each entry
     * is readable from the published tree */
    comity_err rc = cy_store_records_tail(node->store, after, recheck_one, &c, err);
    if (!rc)
        rc = c.rc;
    if (!rc && c.fixed && (rc = comity_log_checkpoint(in->log, NULL, NULL, err)))
        return rc;
    if (!rc && c.checked)
        fprintf(stderr, "comity node: %zu record(s) since the last clean stop checked against "
                        "the log, %zu re-logged\n", c.checked, c.fixed);
    return rc;
}

static int64_t coll_number(comity_node *node, const char *alias)
{
    char id[CY_UUID_BUF];
    cy_collection c;
    cy_collection_id(node->origin, alias, id);
    if (cy_store_collection_get(node->store, node->api_root, id, &c, NULL) != COMITY_OK)
        return 0;
    return c.n;
}

static void *committer_main(void *arg);
static void *syncer_main(void *arg);

static void intake_free(struct cy_intake *in)
{
    if (!in)
        return;
    pthread_mutex_lock(&in->mu);
    in->stop = true;
    pthread_cond_broadcast(&in->cv);
    if (!in->running) /* the syncer has no committer to wait for */
        in->committer_done = true;
    pthread_cond_broadcast(&in->scv);
    pthread_mutex_unlock(&in->mu);
    if (in->running)
        pthread_join(in->thr, NULL); /* it commits what is queued, then sets committer_done */
    if (in->srunning)
        pthread_join(in->sthr, NULL); /* it syncs and answers what is left */
    pthread_cond_destroy(&in->idle);
    pthread_cond_destroy(&in->scv);
    for (size_t i = 0; i < VKEY_CACHE; i++)
        comity_vkey_free(in->vcache[i].vk);
    pthread_mutex_destroy(&in->mu);
    pthread_cond_destroy(&in->cv);
    pthread_mutex_destroy(&in->vmu);
    cy_free(in);
}

comity_err cy_intake_start(comity_node *node, comity_error *err)
{
    comity_err rc;
    if (!node->log)
        return cy_fail(err, COMITY_ERR_USAGE, "intake: the node's log is not open");
    struct cy_intake *in = cy_calloc(1, sizeof *in);
    if (!in)
        return cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    pthread_mutex_init(&in->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* gather()'s deadlines */
    pthread_cond_init(&in->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&in->vmu, NULL);
    pthread_cond_init(&in->idle, NULL);
    pthread_cond_init(&in->scv, NULL);
    in->log = node->log;
    in->node = node;
    in->coll_public = coll_number(node, "public");
    in->coll_community = coll_number(node, "community");
    if ((rc = recheck(node, in, err))) {
        intake_free(in);
        return rc;
    }
    comity_error pe = {0};
    if (cy_store_records_prepare(node->store, &pe) != COMITY_OK)
        fprintf(stderr, "comity node: %s (record intake goes on, with slower syncs)\n", pe.msg);
    if (pthread_create(&in->sthr, NULL, syncer_main, in) != 0) {
        intake_free(in);
        return cy_fail(err, COMITY_ERR_INTERNAL, "intake: cannot start the syncer thread");
    }
    in->srunning = true;
    if (pthread_create(&in->thr, NULL, committer_main, in) != 0) {
        intake_free(in);
        return cy_fail(err, COMITY_ERR_INTERNAL, "intake: cannot start the committer thread");
    }
    in->running = true;
    node->intake = in;
    return COMITY_OK;
}

static int max_seq_cb(const cy_record_row *row, void *ctx)
{
    int64_t *max = ctx;
    if (row->seq > *max)
        *max = row->seq;
    return 0;
}

void cy_intake_stop(comity_node *node)
{
    struct cy_intake *in = node ? node->intake : NULL;
    if (!in)
        return;
    /* a clean stop (no request runs any more): once a checkpoint covers
     * every entry (the log is opened REPLAYABLE: only a checkpoint makes
     * its entries durable by itself), the next start checks only the
     * records that come after these */
    if (comity_log_checkpoint(in->log, NULL, NULL, NULL) != COMITY_OK) {
        intake_free(in); /* the next start checks them all again */
        node->intake = NULL;
        return;
    }
    int64_t last = 0, max;
    char *v = NULL;
    if (cy_store_meta_get(node->store, "records_checked_seq", &v, NULL) == COMITY_OK) {
        last = strtoll(v, NULL, 10);
        cy_free(v);
    }
    max = last;
    if (cy_store_records_tail(node->store, last, max_seq_cb, &max, NULL) == COMITY_OK &&
        max > last) {
        char seq[32];
        snprintf(seq, sizeof seq, "%lld", (long long)max);
        (void)cy_store_meta_set(node->store, "records_checked_seq", seq, NULL);
    }
    intake_free(in);
    node->intake = NULL;
}

/* ---- responses -------------------------------------------------------------- */

/* The error titles of intake, by the rule broken. */
static const char *refusal_title(const char *rule)
{
    static const struct {
        const char *rule, *title;
    } titles[] = {
        {"size", "record too large"},
        {"envelope", "not a record envelope"},
        {"payload", "record payload breaks the rules"},
        {"author", "author is not a registered party"},
        {"signature", "signature does not verify"},
        {"authenticated", "not the author"},
        {"type", "unknown record type"},
        {"conflict", "another record has this id"},
        {"framework", "the framework's rules refuse this record"},
    };
    for (size_t i = 0; i < CY_ARRAY_LEN(titles); i++)
        if (!strcmp(titles[i].rule, rule))
            return titles[i].title;
    return rule;
}

#define refuse(r, w, status, rule, ...) \
    cy_resp_rule(r, w, status, refusal_title(rule), rule, __VA_ARGS__)

/* ---- vkeys ------------------------------------------------------------------ */

/* The parsed form of a registered party's vkey text (parsing checks the
 * Ed25519 point, which costs about as much as a verify).  Cached keys are
 * never evicted while serving, so a cached key may be used after vmu is
 * released: *owned is 0 and the cache keeps it.  When the cache is full, a
 * fresh key is parsed (*owned 1: the caller frees it). */
static comity_vkey *vkey_get(struct cy_intake *in, const char *text, int *owned)
{
    *owned = 0;
    pthread_mutex_lock(&in->vmu);
    for (size_t i = 0; i < in->vnext; i++)
        if (strcmp(in->vcache[i].text, text) == 0) {
            comity_vkey *vk = in->vcache[i].vk;
            pthread_mutex_unlock(&in->vmu);
            return vk;
        }
    comity_vkey *vk = NULL;
    if (comity_vkey_parse(text, strlen(text), &vk, NULL) != COMITY_OK) {
        pthread_mutex_unlock(&in->vmu);
        return NULL;
    }
    if (in->vnext < VKEY_CACHE) {
        struct vslot *s = &in->vcache[in->vnext++];
        snprintf(s->text, sizeof s->text, "%s", text);
        s->vk = vk;
    } else {
        *owned = 1;
    }
    pthread_mutex_unlock(&in->vmu);
    return vk;
}

/* ---- group commit -------------------------------------------------------------- */

/* Intake refuses every record from now on (see cy_intake.broken). */
static void set_broken(struct cy_intake *in, const char *why)
{
    pthread_mutex_lock(&in->mu);
    if (!in->broken) {
        snprintf(in->broken_msg, sizeof in->broken_msg, "%s", why);
        in->broken = true;
    }
    pthread_mutex_unlock(&in->mu);
    fprintf(stderr, "comity node: record intake stopped: %s\n", why);
}

/* What a committed batch needs before its answers may go out. */
struct durability {
    uint64_t log_size; /* log entries below this durable (0: none) */
    bool store;        /* the store's commits durable */
};

/* Marks an answer that reports a stored record (201, or 200 for one stored
 * before) as needing that record's log entry and row durable. */
static void needs(struct durability *d, const struct item *it)
{
    if (it->status != 200 && it->status != 201)
        return;
    d->store = true;
    if (it->log_index + 1 > d->log_size)
        d->log_size = it->log_index + 1;
}

/* Decides every item of the batch and commits the new records, without
 * waiting for the disk: their log entries are appended (the log's
 * sequencer thread starts making them durable at once) and their rows
 * committed with CY_STORE_NOSYNC.  *dur says what the syncer must make
 * durable before any answer of this batch is sent. */
static void commit_batch(comity_node *node, struct cy_intake *in, struct item *batch,
                         struct durability *dur)
{
    comity_error e = {0};
    bool broken;
    pthread_mutex_lock(&in->mu);
    broken = in->broken;
    pthread_mutex_unlock(&in->mu);
    if (broken) { /* broken_msg is written once, before broken is set */
        for (struct item *it = batch; it; it = it->next) {
            it->status = 503, it->rule = "store";
            snprintf(it->msg, sizeof it->msg,
                     "the node could not make records durable (%s); restart it",
                     in->broken_msg);
        }
        return;
    }
    size_t n = 0;
    for (struct item *it = batch; it; it = it->next)
        n++;
    cy_record_in *rows = cy_calloc(n ? n : 1, sizeof *rows);
    struct item **fresh = cy_calloc(n ? n : 1, sizeof *fresh);
    struct item **dups = cy_calloc(n ? n : 1, sizeof *dups); /* dups[i]: earlier twin */
    struct item **all = cy_calloc(n ? n : 1, sizeof *all);
    /* what the store holds under each id (one read for the batch) */
    const char **ids = cy_calloc(n ? n : 1, sizeof *ids);
    char (*have)[65] = cy_calloc(n ? n : 1, sizeof *have);
    uint64_t *have_idx = cy_calloc(n ? n : 1, sizeof *have_idx);
    bool *stored = cy_calloc(n ? n : 1, sizeof *stored);
    if (!rows || !fresh || !dups || !all || !ids || !have || !have_idx || !stored) {
        for (struct item *it = batch; it; it = it->next)
            it->status = 500, it->rule = "internal", snprintf(it->msg, sizeof it->msg, "out of memory");
        goto out;
    }
    size_t nf = 0, k = 0, nids = 0;
    bool fw_dirty = false, fw_failed = false; /* framework changed; by a record not stored */
    for (struct item *it = batch; it; it = it->next, k++) {
        all[k] = it;
        for (size_t j = 0; j < k && !dups[k]; j++)
            if (!strcmp(all[j]->in.id, it->in.id))
                dups[k] = all[j];
        if (!dups[k])
            ids[nids++] = it->in.id;
    }
    comity_err frc = cy_store_record_find_many(node->store, ids, nids, have, have_idx, stored, &e);
    for (size_t i = 0, m = 0; i < n; i++) {
        struct item *it = all[i];
        if (dups[i])
            continue;
        size_t at = m++; /* ids[at] is this item's id */
        const char *id = it->in.id, *digest = it->in.digest;
        if (frc) {
            it->status = 500, it->rule = "store";
            snprintf(it->msg, sizeof it->msg, "%s", e.msg);
            continue;
        }
        if (stored[at]) {
            if (strcmp(have[at], digest) == 0) {
                it->status = 200;
                it->log_index = have_idx[at];
            } else {
                it->status = 409;
                it->rule = "conflict";
                snprintf(it->msg, sizeof it->msg,
                         "a different record with id %s is already stored", id);
            }
            continue;
        }
        comity_err rc;
        /* the framework's rules, in log order; final (framework.c) */
        bool added = false;
        if ((rc = cy_fw_add(node, it->rec, &added, &e))) {
            it->status = cy_fw_status_of(rc), it->rule = "framework";
            snprintf(it->msg, sizeof it->msg, "%s", e.msg);
            continue;
        }
        fw_dirty = fw_dirty || added;
        fresh[nf++] = it;
    }
    if (nf) {
        /* the entries, in the order the framework took them, in one call
         * (one wake-up of the log's sequencer, which starts making them
         * durable now) */
        const void **ents = cy_calloc(nf, sizeof *ents);
        size_t *lens = cy_calloc(nf, sizeof *lens);
        char (*text)[COMITY_RECORD_ENTRY_LEN + 1] = cy_calloc(nf, sizeof *text);
        uint64_t first = 0;
        comity_err rc = ents && lens && text ? COMITY_OK
                                             : cy_fail(&e, COMITY_ERR_NOMEM, "out of memory");
        for (size_t i = 0; !rc && i < nf; i++) {
            snprintf(text[i], sizeof text[i], "comity-record-v1:%s", fresh[i]->in.digest);
            ents[i] = text[i];
            lens[i] = COMITY_RECORD_ENTRY_LEN;
        }
        if (!rc)
            rc = comity_log_append_many(in->log, ents, lens, nf, 0, &first, &e);
        cy_free(ents);
        cy_free(lens);
        cy_free(text);
        for (size_t i = 0; i < nf; i++) {
            if (rc) {
                fresh[i]->status = 503, fresh[i]->rule = "log";
                snprintf(fresh[i]->msg, sizeof fresh[i]->msg, "%s", e.msg);
            } else {
                fresh[i]->in.log_index = first + i;
                rows[i] = fresh[i]->in;
            }
        }
        if (rc) {
            fw_failed = fw_failed || fw_dirty; /* in the framework, not stored */
            nf = 0;
        }
    }
    if (nf) {
        /* the rows with their indexes, in one store transaction committed
         * while the log's sequencer commits the entries; the syncer waits
         * for both (see the top) */
        cy_record_extdef ext = {EXTDEF_ID, EXTDEF_TIME, 0, EXTDEF_JSON, sizeof EXTDEF_JSON - 1};
        int64_t ms = 0;
        if (cy_time_parse(EXTDEF_TIME, strlen(EXTDEF_TIME), true, &ms, NULL) == COMITY_OK)
            ext.version_us = ms * 1000;
        comity_err rc = cy_store_records_add_nosync(node->store, rows, nf, &ext, &e);
        fw_failed = fw_failed || (rc && fw_dirty);
        if (rc) {
            /* the batch's entries stay in the log without rows: before any
             * later row is committed, a checkpoint makes them durable, so
             * that the entries a machine crash can take are again only
             * ones above every gap (see the top) */
            comity_error ce = {0};
            if (comity_log_checkpoint(in->log, NULL, NULL, &ce) != COMITY_OK)
                set_broken(in, ce.msg);
        }
        for (size_t i = 0; i < nf; i++) {
            if (rc) {
                fresh[i]->status = 503;
                fresh[i]->rule = "store";
                snprintf(fresh[i]->msg, sizeof fresh[i]->msg, "%s", e.msg);
            } else {
                fresh[i]->status = 201;
                fresh[i]->log_index = fresh[i]->in.log_index;
            }
        }
    }
    if (fw_failed) /* the framework holds records the store does not */
        cy_fw_rebuild(node);
    for (size_t i = 0; i < n; i++) {
        struct item *d = dups[i];
        if (!d)
            continue;
        if (strcmp(d->in.digest, all[i]->in.digest) != 0) {
            all[i]->status = 409, all[i]->rule = "conflict";
            snprintf(all[i]->msg, sizeof all[i]->msg,
                     "a different record with id %s is already stored", all[i]->in.id);
        } else {
            all[i]->status = d->status == 201 ? 200 : d->status;
            all[i]->rule = d->rule;
            all[i]->log_index = d->log_index;
            memcpy(all[i]->msg, d->msg, sizeof d->msg);
        }
    }
    for (size_t i = 0; i < n; i++)
        needs(dur, all[i]);
out:
    cy_free(rows);
    cy_free(fresh);
    cy_free(dups);
    cy_free(all);
    cy_free(ids);
    cy_free(have);
    cy_free(have_idx);
    cy_free(stored);
}

static void deadline_in(struct timespec *t, long us)
{
    clock_gettime(CLOCK_MONOTONIC, t);
    t->tv_sec += us / 1000000;
    t->tv_nsec += (us % 1000000) * 1000;
    if (t->tv_nsec >= 1000000000L) {
        t->tv_sec++;
        t->tv_nsec -= 1000000000L;
    }
}

static bool before(const struct timespec *a, const struct timespec *b)
{
    return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

/* Called with in->mu held and at least one record queued.  Every batch
 * costs two fsyncs (log, store) and a store commit whatever its size, so
 * when more clients have been posting at once than are queued now (the
 * peak of records in flight, this second or the last), the others are
 * probably on their way (their previous answer was just sent): wait for
 * them while they keep coming, as long as one came within the last
 * GATHER_GAP_US, and GATHER_MAX_US in all.  A lone client never waits.
 * Nothing is answered before its commit either way; this only makes
 * batches larger.  The committer is woken when the batch is complete
 * (cy_records_park_go), not by every arrival: it looks again once per gap. */
static void gather(struct cy_intake *in)
{
    size_t peak = in->peak_now > in->peak_last ? in->peak_now : in->peak_last;
    /* Of the clients whose records are not being synced (those cannot
     * post again yet), wait for half: the other half are then checked by
     * the workers while this batch commits and syncs, so that the CPU and
     * the disk stay busy at once (the pipeline; waiting for all of them
     * made every phase wait for the one before) */
    size_t want = peak > in->syncing ? (peak - in->syncing) / 2 : 0;
    if (in->queued >= want || in->stop)
        return;
    struct timespec end, gap, now;
    deadline_in(&end, GATHER_MAX_US);
    deadline_in(&gap, GATHER_GAP_US);
    size_t seen = in->queued;
    in->gather_want = want;
    while (in->queued < want && !in->stop) {
        struct timespec *dl = before(&gap, &end) ? &gap : &end;
        if (pthread_cond_timedwait(&in->cv, &in->mu, dl) == 0)
            continue; /* complete (or stopping): the loop condition says */
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (!before(&now, &end) || in->queued == seen)
            break; /* waited long enough, or none came within the gap */
        seen = in->queued;
        deadline_in(&gap, GATHER_GAP_US);
    }
    in->gather_want = 0;
}

/* The committer thread: commits whatever is queued as one batch and hands
 * it to the syncer, then goes on with the next batch while the disk works. */
static void *committer_main(void *arg)
{
    struct cy_intake *in = arg;
    comity_node *node = in->node;
    pthread_setname_np(pthread_self(), "comity-commit"); /* for top -H, perf */
    pthread_mutex_lock(&in->mu);
    for (;;) {
        while (!in->head && !in->stop)
            pthread_cond_wait(&in->cv, &in->mu);
        if (!in->head)
            break;
        gather(in);
        struct item *batch = in->head, *last = in->tail;
        in->head = in->tail = NULL;
        in->queued = 0;
        pthread_mutex_unlock(&in->mu);
        struct durability d = {0, false};
        commit_batch(node, in, batch, &d);
        pthread_mutex_lock(&in->mu);
        if (in->stail)
            in->stail->next = batch;
        else
            in->shead = batch;
        in->stail = last;
        for (struct item *it = batch; it; it = it->next)
            in->syncing++;
        if (d.log_size > in->s_log_size)
            in->s_log_size = d.log_size;
        in->s_store = in->s_store || d.store;
        pthread_cond_signal(&in->scv);
    }
    in->committer_done = true;
    pthread_cond_signal(&in->scv);
    pthread_mutex_unlock(&in->mu);
    return NULL;
}

/* The syncer thread: makes what the committed batches need durable (the
 * store's WAL with one fdatasync; the log's entries, which for a
 * REPLAYABLE log only means handed to its next checkpoint, a step in
 * memory that the sequencer has usually taken already; an error there is
 * the log's sticky failure), then resumes their connections, whose
 * answers are then sent; batches committed meanwhile are synced together
 * next time.  After the resume the item belongs to http.c again and is not
 * touched here.  A failed sync answers 503 and breaks intake (see
 * cy_intake.broken): after a failed fsync nobody knows what is on disk. */
static void *syncer_main(void *arg)
{
    struct cy_intake *in = arg;
    comity_node *node = in->node;
    pthread_setname_np(pthread_self(), "comity-sync");
    pthread_mutex_lock(&in->mu);
    for (;;) {
        while (!in->shead && !in->committer_done)
            pthread_cond_wait(&in->scv, &in->mu);
        if (!in->shead)
            break;
        struct item *list = in->shead;
        uint64_t log_size = in->s_log_size;
        bool store = in->s_store;
        in->shead = in->stail = NULL;
        in->s_log_size = 0;
        in->s_store = false;
        pthread_mutex_unlock(&in->mu);
        comity_error e = {0};
        comity_err rc = COMITY_OK;
        const char *rule = "store";
        if (store)
            rc = cy_store_records_sync(node->store, &e);
        if (!rc && log_size && (rc = comity_log_sync_to(in->log, log_size, &e)))
            rule = "log";
        if (rc) {
            set_broken(in, e.msg);
            for (struct item *it = list; it; it = it->next)
                if (it->status == 200 || it->status == 201) {
                    it->status = 503, it->rule = rule;
                    snprintf(it->msg, sizeof it->msg, "not made durable: %s", e.msg);
                }
        }
        size_t n = 0;
        for (struct item *b = list, *nx; b; b = nx) {
            nx = b->next;
            struct MHD_Connection *c = b->conn;
            b->done = true;
            MHD_resume_connection(c);
            n++;
        }
        pthread_mutex_lock(&in->mu);
        in->inflight -= n;
        in->syncing -= n;
        pthread_cond_broadcast(&in->idle);
    }
    pthread_mutex_unlock(&in->mu);
    return NULL;
}

void cy_records_park_go(void *parked)
{
    struct item *it = parked;
    struct cy_intake *in = it->intake;
    pthread_mutex_lock(&in->mu);
    it->next = NULL;
    if (in->tail)
        in->tail->next = it;
    else
        in->head = it;
    in->tail = it;
    in->inflight++;
    in->queued++;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts); /* not cy_now_ms: that one may be faked */
    int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    if (now - in->peak_since_ms >= 1000) {
        in->peak_last = in->peak_now;
        in->peak_now = 0;
        in->peak_since_ms = now;
    }
    if (in->inflight > in->peak_now)
        in->peak_now = in->inflight;
    /* the committer waits for a first record, or gathers and looks again
     * by itself once per gap: wake it only for the first or the last */
    if (!in->gather_want || in->queued >= in->gather_want)
        pthread_cond_signal(&in->cv);
    pthread_mutex_unlock(&in->mu);
}

void cy_intake_drain(comity_node *node)
{
    struct cy_intake *in = node ? node->intake : NULL;
    if (!in)
        return;
    pthread_mutex_lock(&in->mu);
    while (in->inflight > 0)
        pthread_cond_wait(&in->idle, &in->mu);
    pthread_mutex_unlock(&in->mu);
}

/* ---- intake ---------------------------------------------------------------------- */


/* The TAXII collections the record is copied into (see specs/records.md). */
static void pick_collections(comity_node *node, struct cy_intake *in, comity_record *rec,
                             cy_record_in *ri)
{
    const char *tlp = comity_record_tlp(rec);
    ri->ncolls = 0;
    if (!strcmp(tlp, "clear")) {
        if (in->coll_public)
            ri->colls[ri->ncolls++] = in->coll_public;
        return;
    }
    if (!strcmp(tlp, "green")) {
        if (in->coll_community)
            ri->colls[ri->ncolls++] = in->coll_community;
        return;
    }
    /* amber and red: the inboxes of the author and of each recipient
     * registered on this node */
    size_t nto = comity_record_to_count(rec);
    for (size_t i = 0; i <= nto && ri->ncolls < CY_RECORD_COLLS_MAX; i++) {
        const char *p = i == 0 ? comity_record_author(rec) : comity_record_to(rec, i - 1);
        char alias[CY_ACCESS_MAX];
        snprintf(alias, sizeof alias, "inbox.%s", p);
        int64_t n = coll_number(node, alias);
        bool dup = false;
        for (size_t j = 0; j < ri->ncolls; j++)
            dup = dup || ri->colls[j] == n;
        if (n && !dup)
            ri->colls[ri->ncolls++] = n;
    }
}

static void intake(cy_req *r, cy_resp *w)
{
    comity_node *node = r->node;
    struct cy_intake *in = node->intake;
    const char *env = (const char *)r->body;
    size_t len = r->body_len;
    comity_error e = {0};
    if (len > COMITY_DSSE_MAX) {
        refuse(r, w, 413, "size", "the envelope is %zu bytes; records are at most %u", len,
               COMITY_DSSE_MAX);
        return;
    }
    comity_record *rec = NULL;
    if (comity_record_parse(env ? env : "", len, &rec, &e) != COMITY_OK) {
        /* which rule: the envelope itself, or the payload inside it? */
        cy_dsse d;
        memset(&d, 0, sizeof d);
        comity_error de = {0};
        bool env_ok = cy_dsse_parse(env ? env : "", len, &d, &de) == COMITY_OK;
        bool type_ok = env_ok && strcmp(d.payload_type, COMITY_RECORD_PAYLOAD_TYPE) == 0;
        cy_dsse_clear(&d);
        if (!env_ok)
            refuse(r, w, 400, "envelope", "%s", de.msg);
        else if (!type_ok)
            refuse(r, w, 400, "envelope", "%s", e.msg);
        else if (e.code == COMITY_ERR_TOOBIG)
            refuse(r, w, 413, "size", "%s", e.msg);
        else
            refuse(r, w, 422, "payload", "%s", e.msg);
        return;
    }
    const char *author = comity_record_author(rec);
    cy_principal p;
    /* the caller's login was read from the store for this very request:
     * when it is the author, that row is the author's (no second lookup) */
    bool is_caller = !r->anon && strcmp(r->who.name, author) == 0;
    if (is_caller)
        p = r->who;
    else if (cy_store_principal_get(node->store, author, &p, NULL, NULL) != COMITY_OK)
        p.kind[0] = '\0';
    if (strcmp(p.kind, "party") != 0) {
        refuse(r, w, 403, "author", "'%s' is not a party registered on this node", author);
        comity_record_free(rec);
        return;
    }
    /* the signature over the very bytes parsed above (the envelope is
     * read once) */
    int owned = 0;
    comity_vkey *vk = vkey_get(in, p.vkey, &owned);
    const comity_vkey *keys[1] = {vk};
    comity_err rc = vk ? comity_record_verify_parsed(rec, keys, 1, &e)
                       : cy_fail(&e, COMITY_ERR_NOKEY, "the registered key does not parse");
    if (owned)
        comity_vkey_free(vk);
    if (rc) {
        refuse(r, w, 403, "signature", "no signature verifies under the key registered for %s",
               author);
        comity_record_free(rec);
        return;
    }
    if (r->anon) {
        refuse(r, w, 401, "authenticated", "log in as %s to post its records", author);
        comity_record_free(rec);
        return;
    }
    if (strcmp(r->who.name, author) != 0) {
        refuse(r, w, 403, "authenticated", "logged in as %s, but the record's author is %s",
               r->who.name, author);
        comity_record_free(rec);
        return;
    }
    if (!cy_record_type_known(comity_record_type(rec))) {
        refuse(r, w, 422, "type", "record type '%s' is not one this node accepts",
               comity_record_type(rec));
        comity_record_free(rec);
        return;
    }
    /* an early refusal; the committer's check is the final one */
    if ((rc = cy_fw_precheck(node, rec, &e))) {
        refuse(r, w, cy_fw_status_of(rc), "framework", "%s", e.msg);
        comity_record_free(rec);
        return;
    }

    struct item *it = cy_calloc(1, sizeof *it);
    size_t nto = comity_record_to_count(rec);
    if (it) {
        it->rec = rec;
        /* the request's buffer becomes the item's (env still points at
         * it): no copy */
        size_t tl;
        it->env = (char *)cy_req_take_body(r, &tl);
        if (!it->env)
            it->env = cy_strndup(env, len);
        it->to = cy_calloc(nto ? nto : 1, sizeof *it->to);
    }
    if (!it || !it->env || !it->to) {
        refuse(r, w, 500, "internal", "out of memory");
        if (it) {
            cy_free(it->env);
            cy_free(it->to);
            cy_free(it);
        }
        comity_record_free(rec);
        return;
    }
    for (size_t i = 0; i < nto; i++)
        it->to[i] = comity_record_to(rec, i);
    int64_t cms = 0;
    const char *created = comity_record_created(rec);
    if (cy_time_parse(created, strlen(created), true, &cms, NULL) != COMITY_OK)
        cms = 0;
    snprintf(it->stix_id, sizeof it->stix_id, WRAPPER_TYPE "--%s",
             strstr(comity_record_id(rec), "--") + 2);
    it->in = (cy_record_in){
        .id = comity_record_id(rec),
        .type = comity_record_type(rec),
        .author = author,
        .tlp = comity_record_tlp(rec),
        .created = created,
        .created_ms = cms,
        .digest = comity_record_digest(rec),
        .received_us = cy_now_ms() * 1000,
        .envelope = it->env,
        .envelope_len = len,
        .to = it->to,
        .nto = nto,
        .stix_id = it->stix_id,
        .stix_version = created,
        .stix_version_us = cms * 1000,
    };
    pick_collections(node, in, rec, &it->in);
    /* http.c suspends the connection, then queues the item (park_go) */
    it->conn = r->conn;
    it->intake = in;
    w->park = it;
}

void cy_records_park_free(void *parked)
{
    struct item *it = parked;
    if (!it)
        return;
    comity_record_free(it->rec);
    cy_free(it->env);
    cy_free(it->to);
    cy_free(it);
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

void cy_records_unpark(void *parked, cy_req *r, cy_resp *w)
{
    struct item *it = parked;
    if (it->status == 200 || it->status == 201) {
        /* formatted directly: the id passed the record parser (lowercase
         * type, "--", a uuid) and the digest is hex, so neither needs
         * escaping */
        cy_buf_reset(&w->body);
        w->status = it->status;
        w->ctype = "application/json";
        if (accepted_json(&w->body, it->in.id, it->log_index, it->in.digest, it->status == 200))
            refuse(r, w, 500, "internal", "out of memory");
    } else {
        refuse(r, w, it->status ? it->status : 500, it->rule ? it->rule : "internal", "%s",
               it->msg);
    }
    cy_records_park_free(it);
}

/* ---- reading ----------------------------------------------------------------------- */

static const char *viewer(cy_req *r) { return r->anon ? NULL : r->who.name; }

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
    cy_record_query q = {.id = id, .limit = 1, .viewer = viewer(r), .with_envelope = envelope};
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
    if (w->status == 200) /* a recipient handed a message: delivered */
        cy_fw_fetched(r, id, o.type);
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
    comity_err rc = comity_log_prove(r->node->intake->log, o.log_index, &proof, &len, &e);
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
};

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
    if (!strcmp(key, "type") && !q->type)
        q->type = value;
    else if (!strcmp(key, "author") && !q->author)
        q->author = value;
    else if (!strcmp(key, "to") && !q->to)
        q->to = value;
    else if (!strcmp(key, "since") && !q->since_ms) {
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
    a.q.viewer = viewer(r);
    struct list_ctx l = {json_array(), 0, 0};
    bool more = false;
    comity_error e = {0};
    if (cy_store_records_query(r->node->store, &a.q, list_cb, &l, &more, &e)) {
        json_decref(l.arr);
        cy_resp_error(r, w, false, 500, "store", "%s", e.msg);
        return;
    }
    /* each message handed to one of its recipients: delivered */
    size_t i;
    json_t *row;
    json_array_foreach(l.arr, i, row)
        cy_fw_fetched(r, json_string_value(json_object_get(row, "id")),
                      json_string_value(json_object_get(row, "type")));
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
            intake(r, w);
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
