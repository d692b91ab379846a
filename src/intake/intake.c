/*
 * intake.c: record intake (see intake.h for the API, the checks and their
 * order).  No HTTP here: a submitter (the node's POST /v1/records handler,
 * a federation puller, later the CLI's offline tools) hands over an
 * envelope and its identity, and gets the outcome through its callback.
 * A federation puller (src/sync/) submits records relayed from a peer
 * with cy_intake_submit_relayed: the author must be homed at that peer
 * (rule origin), created bounds are the origin's, and a framework refusal
 * only means the record has no effect on the framework (it is logged and
 * stored all the same; its effect is decided at its place in the fold
 * order, framework/live.c).
 *
 * The checks run on the submitter's thread; the first failure is the
 * outcome, handed to the callback before cy_intake_submit returns.
 * The framework check here is a dry run against the state so far; the
 * final one (comity_framework_add) runs in the committer, per record in
 * batch order, before its log entry is appended: a refused record is
 * neither logged nor stored.  The item carries the body the dry run
 * parsed to the final check, so that a body is parsed once.
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
 * checkpoint covers them (checkpoints are fsynced), and the record rows
 * are what makes an entry durable.  The rule between the two is the log's
 * horizon (cy_log_set_durable): its own checkpoints (the sequencer's,
 * about every second, and the implicit ones) cover only the entries below
 * it, and the syncer moves it past a batch's entries only after the
 * fsync that made the batch's rows durable.  So a crash, of the process
 * or the machine, never keeps an entry whose row it takes: without the
 * horizon, a checkpoint between the append and the store's commit (or its
 * fsync) kept such entries, and the record, pulled or posted again, was
 * logged a second time (the 356 surplus entries of the 195-kill campaign,
 * docs/federation.md).  What a crash can do is take rows' entries the log
 * had not yet checkpointed: on start the node checks every record stored
 * since the last clean stop against the log and appends each missing entry
 * again.  The lost entries are always the newest ones, and their rows are
 * in log order without gaps, so each gets the very index its answer gave
 * (tests/cli/node_records_crash.sh puts a log directory back and checks
 * this).  The one way to a gap, a batch whose rows fail to commit after
 * its entries were appended, is followed by an explicit checkpoint
 * (comity_log_checkpoint covers every entry, past the horizon too) that
 * makes those entries durable before the next batch, so a gap is never in
 * what a crash can take.  As that checkpoint covers every entry, the
 * committer first makes every row committed so far durable
 * (cy_store_records_sync, which the syncer may be running at the same
 * time): the rows committed but not yet synced then can only be those of
 * the batches it committed before the failed one, the syncer's backlog,
 * for the committer is the one writer of record rows that defers their
 * sync (the start's re-logging, cy_store_record_set_index, is durable on
 * return and done before the committer starts).  So no checkpoint ever
 * covers an entry whose row a crash, even a power loss, can still take.
 * A clean stop first has a checkpoint cover every entry (every row is
 * committed and synced by then).  After a failed sync (the syncer's, or
 * the committer's before that checkpoint) or that checkpoint failing,
 * nobody knows what is on disk: intake then refuses every record (rule
 * "store", retry) until the node is restarted, the horizon stays where
 * it was, and the stop makes no checkpoint (the next start checks every
 * record since the last clean stop again).  After a failed sync no later
 * one is believed either (a second fsync may succeed without the pages
 * the first lost): the batches the syncer had yet to answer are refused
 * too, also when the failed sync was the committer's.
 *
 * No submitter's thread waits on the disk: a record that passed every check
 * is queued, and the syncer calls its callback once it is durable (the
 * node's HTTP handler suspends the connection meanwhile).  Before it
 * commits, the committer waits briefly for records that are probably on
 * their way (gather()), so that batches stay large.  A puller hands over a
 * page's records in runs (cy_intake_submit_relayed_run): each is checked
 * as it comes and held, and cy_intake_run_commit queues the run at once,
 * so that it is one batch whatever the timing.
 *
 * Re-posting a stored record (same id, same digest) is an outcome "stored
 * before" with the same log index; the same id with another digest is
 * refused ("conflict").
 *
 * Verifier keys: parsing a registered key checks its Ed25519 point, which
 * costs about as much as a verify, so parsed keys are cached: a hash map
 * over the key text with CLOCK eviction (CY_INTAKE_VKEY_CACHE slots, or
 * cy_intake_opts.vkey_cache).  A
 * cached key is reference-counted, so a worker may use one after it was
 * evicted by another.
 */
#define _GNU_SOURCE /* pthread_setname_np */
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/dsse.h"
#include "framework/framework.h"
#include "intake/intake.h"
#include "record/delivered.h"
#include "record/roster_body.h"
#include "record/signer.h"
#include "record/types.h"
#include "stix/wrapper.h"
#include "tlog/tlog.h"

/* Gathering a batch (committer_main): wait for the next record at most
 * GATHER_GAP_US, and for the whole batch at most GATHER_MAX_US. */
#define GATHER_GAP_US 300
#define GATHER_MAX_US 2000

/* ---- the intake state ------------------------------------------------------ */

enum outcome { ST_NONE = 0, ST_STORED, ST_EXISTED, ST_REFUSED };

struct item {
    struct cy_intake *owner; /* for its outcome's count */
    comity_record *rec;
    cy_record_in in;
    char *env; /* the envelope (owned) */
    json_t *fwbody; /* the framework's parse of the body (owned), from the
                     * dry run to the final check: parsed once */
    const char **to;         /* in.to: to_small, or allocated when more */
    const char *to_small[8];
    char stix_id[CY_RECORD_ID_MAX + 32];
    int64_t *colls;          /* in.colls: colls_small, or allocated when more */
    int64_t colls_small[8];
    size_t colls_cap;
    cy_intake_done done;
    void *ctx;
    bool relayed; /* from a peer node (cy_intake_submit_relayed) */
    char signer[CY_USER_NAME_MAX]; /* the author's user who signed ("": its own key) */
    /* the outcome */
    enum outcome st;
    comity_err code;
    const char *rule;
    bool retry;
    char msg[COMITY_ERRMSG_MAX + 64];
    uint64_t log_index;
    struct item *next;
};

/* A parsed key, shared by the cache and the workers using it. */
struct vkref {
    comity_vkey *vk;
    atomic_uint refs;
};

struct vslot {
    char text[CY_VKEY_MAX];
    uint32_t hash;
    int32_t next;   /* next slot in the bucket's chain, -1: none */
    bool used, ref; /* CLOCK: ref is set on every hit */
    struct vkref *k;
};

struct cy_intake {
    comity_store *st;
    comity_log *log;
    cy_fw_live *fw;
    char origin[128], api_root[64];
    char node_vkey[CY_VKEY_MAX]; /* "" when not given */
    int64_t extdef_us; /* the extension definition's version */
    /* the shared collections' numbers, looked up at start (0: absent);
     * inboxes are looked up per record (parties come and go) */
    int64_t coll_public, coll_community;

    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct item *head, *tail;
    size_t inflight; /* queued or committing, not yet answered */
    size_t queued;   /* in the queue (head..tail) */
    /* the most records in flight at once, this second and the last one:
     * about how many clients post concurrently (committer_main) */
    size_t peak_now, peak_last;
    int64_t peak_since_ms;
    size_t gather_want; /* while gather() waits: the batch size it waits for */
    size_t syncing;     /* handed to the syncer, not yet answered */
    bool stop;
    bool running;
    pthread_t thr;
    pthread_cond_t idle;

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
     * record from then on until the node is restarted */
    bool broken;
    char broken_msg[COMITY_ERRMSG_MAX];
    /* a store sync failed (sync_failed), the committer's is under way
     * (csync): after a failed fsync a later one may succeed without the
     * pages that were lost, so the syncer believes no sync of its own
     * that ends after another one failed */
    bool sync_failed, csync;
    /* outcomes so far (count()) */
    atomic_uint_fast64_t n_stored, n_existed, n_refused[CY_INTAKE_RULES];

    /* parsed verifier keys (vkey_get), guarded by vmu */
    pthread_mutex_t vmu;
    struct vslot *vslots; /* vcap slots */
    int32_t *vbuckets;    /* vmask + 1 chain heads (a power of two), -1: empty */
    size_t vcap;
    uint32_t vmask;
    size_t vhand;         /* CLOCK hand */
    uint64_t vhits, vmisses;
    int64_t created_ahead_ms, created_behind_ms; /* bounds on created (opts) */
    /* the commit time stamped on the rows (received_us), never decreasing
     * along the log, also across restarts (docs/federation.md: a peer's
     * date_added); the committer's alone */
    int64_t last_received_us;
};

/* Sets the outcome of an item to a refusal. */
static void fail(struct item *it, const char *rule, comity_err code, bool retry,
                 const char *fmt, ...) CY_PRINTF(5, 6);
static void fail(struct item *it, const char *rule, comity_err code, bool retry,
                 const char *fmt, ...)
{
    va_list ap;
    it->st = ST_REFUSED;
    it->rule = rule;
    it->code = code ? code : COMITY_ERR_INTERNAL;
    it->retry = retry;
    va_start(ap, fmt);
    vsnprintf(it->msg, sizeof it->msg, fmt, ap);
    va_end(ap);
}

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
        cy_log(CY_LOG_WARN, "intake.relogged",
               (cy_log_kv[]){CY_KV_S("record", row->id), CY_KV_N("index", idx)}, 2,
               "record %s was missing from the log: logged again at %llu", row->id,
               (unsigned long long)idx);
    c->fixed++;
    return 0;
}

static comity_err recheck(struct cy_intake *in, comity_error *err)
{
    char *v = NULL;
    int64_t after = 0;
    if (cy_store_meta_get(in->st, "records_checked_seq", &v, NULL) == COMITY_OK) {
        after = strtoll(v, NULL, 10);
        cy_free(v);
    }
    struct recheck c = {.in = in, .st = in->st, .last_seq = after, .err = err};
    /* the log publishes every durable entry when it opens, so each entry
     * is readable from the published tree */
    comity_err rc = cy_store_records_tail(in->st, after, recheck_one, &c, err);
    if (!rc)
        rc = c.rc;
    if (!rc && c.fixed && (rc = comity_log_checkpoint(in->log, NULL, NULL, err)))
        return rc;
    if (!rc && c.checked)
        cy_log(CY_LOG_INFO, "intake.rechecked",
               (cy_log_kv[]){CY_KV_N("checked", c.checked), CY_KV_N("relogged", c.fixed)}, 2,
               "%zu record(s) since the last clean stop checked against the log, %zu re-logged",
               c.checked, c.fixed);
    return rc;
}

/* The store's number of the collection `alias`, 0 when there is none. */
static int64_t coll_number(struct cy_intake *in, const char *alias)
{
    char id[CY_UUID_BUF];
    cy_collection c;
    cy_collection_id(in->origin, alias, id);
    if (cy_store_collection_get(in->st, in->api_root, id, &c, NULL) != COMITY_OK)
        return 0;
    return c.n;
}

/* ---- outcomes ---------------------------------------------------------------- */

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
        {"revoked", "signed by a key revoked before the record"},
        {"authenticated", "not the author"},
        {"origin", "not this record's origin"},
        {"type", "unknown record type"},
        {"id", "id not made for its author"},
        {"created", "created time out of bounds"},
        {"conflict", "another record has this id"},
        {"framework", "the framework's rules refuse this record"},
    };
    for (size_t i = 0; i < CY_ARRAY_LEN(titles); i++)
        if (!strcmp(titles[i].rule, rule))
            return titles[i].title;
    return rule;
}


/* ---- counters (cy_intake_stats_get, the node's /metrics) --------------------- */

const char *const cy_intake_rules[CY_INTAKE_RULES] = {
    "size",      "envelope", "payload", "author", "signature", "authenticated", "origin",
    "type",      "created",  "conflict", "framework", "store",   "log",          "internal",
    "other"};

/* Counts one outcome (relaxed atomics: figures for an operator, not a
 * ledger). */
static void count(cy_intake *in, const cy_intake_result *res)
{
    if (!in)
        return;
    if (!res->rule) {
        atomic_fetch_add_explicit(res->existed ? &in->n_existed : &in->n_stored, 1,
                                  memory_order_relaxed);
        return;
    }
    size_t k = 0;
    while (k < CY_INTAKE_RULES - 1 && strcmp(cy_intake_rules[k], res->rule) != 0)
        k++;
    atomic_fetch_add_explicit(&in->n_refused[k], 1, memory_order_relaxed);
}

void cy_intake_stats_get(cy_intake *in, cy_intake_stats *s)
{
    memset(s, 0, sizeof *s);
    s->stored = atomic_load_explicit(&in->n_stored, memory_order_relaxed);
    s->existed = atomic_load_explicit(&in->n_existed, memory_order_relaxed);
    for (size_t k = 0; k < CY_INTAKE_RULES; k++)
        s->refused[k] = atomic_load_explicit(&in->n_refused[k], memory_order_relaxed);
    pthread_mutex_lock(&in->mu);
    s->queued = in->queued;
    s->inflight = in->inflight;
    s->syncing = in->syncing;
    s->broken = in->broken;
    pthread_mutex_unlock(&in->mu);
}

/* Hands the submitter its outcome, then frees the item. */
static void finish(struct item *it)
{
    bool ok = it->st == ST_STORED || it->st == ST_EXISTED;
    cy_intake_result res = {
        .code = ok ? COMITY_OK : it->code ? it->code : COMITY_ERR_INTERNAL,
        .rule = ok ? NULL : it->rule ? it->rule : "internal",
        .retry = !ok && it->retry,
        .existed = it->st == ST_EXISTED,
        .id = it->in.id,
        .digest = it->in.digest,
        .log_index = it->log_index,
        .msg = ok ? "" : it->msg,
        .signer = ok && it->signer[0] ? it->signer : NULL,
    };
    res.title = res.rule ? refusal_title(res.rule) : "stored";
    count(it->owner, &res);
    it->done(it->ctx, &res);
    json_decref(it->fwbody);
    comity_record_free(it->rec);
    cy_free(it->env);
    if (it->to != it->to_small)
        cy_free(it->to);
    if (it->colls != it->colls_small)
        cy_free(it->colls);
    cy_free(it);
}

/* A refusal before the item exists: the callback, then the envelope freed. */
static void refuse_early(cy_intake *in, char *env, cy_intake_done done, void *ctx,
                         const char *rule, comity_err code, const char *fmt, ...)
    CY_PRINTF(7, 8);
static void refuse_early(cy_intake *in, char *env, cy_intake_done done, void *ctx,
                         const char *rule, comity_err code, const char *fmt, ...)
{
    char msg[COMITY_ERRMSG_MAX + 64];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cy_intake_result res = {.code = code, .rule = rule, .title = refusal_title(rule), .msg = msg};
    count(in, &res);
    done(ctx, &res);
    cy_free(env);
}

/* ---- vkeys ------------------------------------------------------------------ */

static uint32_t text_hash(const char *s)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

static void vkref_drop(struct vkref *k)
{
    if (k && atomic_fetch_sub(&k->refs, 1) == 1) {
        comity_vkey_free(k->vk);
        cy_free(k);
    }
}

/* Unlinks slot i from its bucket's chain (vmu held). */
static void vslot_unlink(struct cy_intake *in, int32_t i)
{
    int32_t *p = &in->vbuckets[in->vslots[i].hash & in->vmask];
    while (*p != i)
        p = &in->vslots[*p].next;
    *p = in->vslots[i].next;
}

/* The parsed form of a registered party's vkey text, with a reference the
 * caller drops (vkref_drop); NULL when it does not parse.  A hit is a
 * hash lookup under vmu; a miss parses outside the lock, then takes a slot
 * (a free one, else the first the CLOCK hand finds not used since its
 * last pass) unless another thread cached the same key meanwhile. */
static struct vkref *vkey_get(struct cy_intake *in, const char *text)
{
    uint32_t h = text_hash(text);
    size_t len = strlen(text);
    pthread_mutex_lock(&in->vmu);
    for (int32_t i = in->vbuckets[h & in->vmask]; i >= 0; i = in->vslots[i].next) {
        struct vslot *s = &in->vslots[i];
        if (s->hash == h && strcmp(s->text, text) == 0) {
            s->ref = true;
            atomic_fetch_add(&s->k->refs, 1);
            in->vhits++;
            struct vkref *k = s->k;
            pthread_mutex_unlock(&in->vmu);
            return k;
        }
    }
    in->vmisses++;
    pthread_mutex_unlock(&in->vmu);
    struct vkref *k = cy_calloc(1, sizeof *k);
    if (!k)
        return NULL;
    if (comity_vkey_parse(text, len, &k->vk, NULL) != COMITY_OK) {
        cy_free(k);
        return NULL;
    }
    atomic_init(&k->refs, 1); /* the caller's */
    if (len >= CY_VKEY_MAX)
        return k; /* not cacheable (the store caps keys below this) */
    pthread_mutex_lock(&in->vmu);
    for (int32_t i = in->vbuckets[h & in->vmask]; i >= 0; i = in->vslots[i].next)
        if (in->vslots[i].hash == h && strcmp(in->vslots[i].text, text) == 0) {
            pthread_mutex_unlock(&in->vmu); /* cached meanwhile: keep ours uncached */
            return k;
        }
    struct vslot *s;
    for (;;) {
        s = &in->vslots[in->vhand];
        in->vhand = (in->vhand + 1) % in->vcap;
        if (!s->used || !s->ref)
            break;
        s->ref = false; /* a second chance */
    }
    int32_t i = (int32_t)(s - in->vslots);
    struct vkref *old = NULL;
    if (s->used) {
        vslot_unlink(in, i);
        old = s->k;
    }
    memcpy(s->text, text, len + 1);
    s->hash = h;
    s->used = true;
    s->ref = false;
    s->k = k;
    atomic_fetch_add(&k->refs, 1); /* the cache's */
    s->next = in->vbuckets[h & in->vmask];
    in->vbuckets[h & in->vmask] = i;
    pthread_mutex_unlock(&in->vmu);
    vkref_drop(old);
    return k;
}

/* ---- users' keys (record/signer.h decides; the store keeps them) ------------- */

/* The users of one author, read from the store when the rule asks
 * (cy_record_signer's loader) and dropped by users_clear. */
struct users {
    struct cy_intake *in;
    const char *author;
    cy_principal_user *rows; /* allocated */
    cy_signer_user *u;       /* allocated, beside rows */
    struct vkref **refs;     /* allocated: the parsed keys held */
    size_t n, cap;
    comity_err rc;
    comity_error *err;
};

static int users_row(const cy_principal_user *u, void *ctx)
{
    struct users *us = ctx;
    if (us->n == CY_INTAKE_USERS_MAX) {
        us->rc = cy_fail(us->err, COMITY_ERR_TOOBIG, "%s has more than %d users' keys",
                         us->author, CY_INTAKE_USERS_MAX);
        return 1;
    }
    if (us->n == us->cap) {
        size_t c = us->cap ? us->cap * 2 : 8;
        cy_principal_user *r = cy_realloc(us->rows, c * sizeof *r);
        if (!r) {
            us->rc = cy_fail(us->err, COMITY_ERR_NOMEM, "out of memory");
            return 1;
        }
        us->rows = r;
        us->cap = c;
    }
    us->rows[us->n++] = *u;
    return 0;
}

static comity_err users_load(void *ctx, const cy_signer_user **out, size_t *n,
                             comity_error *err)
{
    struct users *us = ctx;
    us->err = err;
    comity_err rc = cy_store_user_list(us->in->st, us->author, users_row, us, err);
    if (!rc)
        rc = us->rc;
    if (!rc && us->n && (!(us->u = cy_calloc(us->n, sizeof *us->u)) ||
                         !(us->refs = cy_calloc(us->n, sizeof *us->refs))))
        rc = cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    if (rc)
        return rc;
    for (size_t i = 0; i < us->n; i++) {
        const cy_principal_user *r = &us->rows[i];
        us->refs[i] = vkey_get(us->in, r->vkey); /* NULL: does not parse, never matches */
        us->u[i] = (cy_signer_user){us->refs[i] ? us->refs[i]->vk : NULL, r->name,
                                    r->valid_from_ms, r->revoked_ms, r->reason,
                                    r->revoked_w_ms};
    }
    *out = us->u;
    *n = us->n;
    return COMITY_OK;
}

static void users_clear(struct users *us)
{
    for (size_t i = 0; us->refs && i < us->n; i++)
        vkref_drop(us->refs[i]);
    cy_free(us->refs);
    cy_free(us->u);
    cy_free(us->rows);
}

void cy_intake_keys_changed(cy_intake *in)
{
    if (in)
        cy_fw_live_keys_changed(in->fw);
}

void cy_intake_vkey_stats(cy_intake *in, uint64_t *hits, uint64_t *misses)
{
    pthread_mutex_lock(&in->vmu);
    *hits = in->vhits;
    *misses = in->vmisses;
    pthread_mutex_unlock(&in->vmu);
}


/* ---- start and stop ------------------------------------------------------------ */

static void *committer_main(void *arg);
static void *syncer_main(void *arg);

void (*cy_intake_test_window)(cy_intake *in, uint64_t first, size_t n);
void (*cy_intake_test_gap)(cy_intake *in);

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
    for (size_t i = 0; in->vslots && i < in->vcap; i++)
        if (in->vslots[i].used)
            vkref_drop(in->vslots[i].k);
    cy_free(in->vslots);
    cy_free(in->vbuckets);
    pthread_mutex_destroy(&in->mu);
    pthread_cond_destroy(&in->cv);
    pthread_mutex_destroy(&in->vmu);
    cy_free(in);
}

comity_err cy_intake_start(const cy_intake_opts *o, cy_intake **out, comity_error *err)
{
    comity_err rc;
    if (!o->store || !o->log)
        return cy_fail(err, COMITY_ERR_USAGE, "intake: the node's store and log must be open");
    /* the test knob that rehearses an older release (record/types.h): a
     * bad value stops the node, a good one is said aloud */
    if ((rc = cy_record_forget_init(err)))
        return rc;
    const char *forget = getenv(CY_RECORD_FORGET_ENV);
    if (forget && *forget)
        cy_log(CY_LOG_WARN, "intake.forget_types",
               (cy_log_kv[]){CY_KV_S("types", forget)}, 1,
               "intake: " CY_RECORD_FORGET_ENV "=%.200s: this node forgets these record types "
               "and versions (a test knob rehearsing an older release)",
               forget);
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
    in->st = o->store;
    in->log = o->log;
    in->fw = o->fw;
    snprintf(in->origin, sizeof in->origin, "%s", o->origin ? o->origin : "");
    snprintf(in->node_vkey, sizeof in->node_vkey, "%s", o->node_vkey ? o->node_vkey : "");
    snprintf(in->api_root, sizeof in->api_root, "%s", o->api_root ? o->api_root : "");
    int64_t ms = 0;
    if (cy_time_parse(CY_STIX_EXTDEF_TIME, strlen(CY_STIX_EXTDEF_TIME), true, &ms, NULL) ==
        COMITY_OK)
        in->extdef_us = ms * 1000;
    in->coll_public = coll_number(in, CY_STIX_COLL_PUBLIC);
    in->coll_community = coll_number(in, CY_STIX_COLL_COMMUNITY);
    in->vcap = o->vkey_cache ? o->vkey_cache : CY_INTAKE_VKEY_CACHE;
    in->created_ahead_ms = o->created_ahead_ms > 0 ? o->created_ahead_ms
                                                   : COMITY_RECORD_CREATED_AHEAD_MS;
    in->created_behind_ms = o->created_behind_ms > 0 ? o->created_behind_ms
                                                     : COMITY_RECORD_CREATED_BEHIND_MS;
    if (in->vcap > CY_INTAKE_VKEY_CACHE_MAX) {
        intake_free(in);
        return cy_fail(err, COMITY_ERR_USAGE, "intake: at most %d cached keys",
                       CY_INTAKE_VKEY_CACHE_MAX);
    }
    size_t nb = 1;
    while (nb < 2 * in->vcap)
        nb *= 2;
    in->vmask = (uint32_t)(nb - 1);
    in->vslots = cy_calloc(in->vcap, sizeof *in->vslots);
    in->vbuckets = cy_calloc(nb, sizeof *in->vbuckets);
    if (!in->vslots || !in->vbuckets) {
        intake_free(in);
        return cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < nb; i++)
        in->vbuckets[i] = -1;
    if ((rc = recheck(in, err))) {
        intake_free(in);
        return rc;
    }
    /* from now on the log's implicit checkpoints cover only the entries
     * whose rows the syncer made durable (see the top) */
    cy_log_set_durable(in->log, 0);
    uint64_t last_idx = 0;
    bool any = false;
    if ((rc = cy_store_records_last(in->st, &last_idx, &in->last_received_us, &any, err))) {
        intake_free(in);
        return rc;
    }
    comity_error pe = {0};
    if (cy_store_records_prepare(in->st, &pe) != COMITY_OK)
        cy_log(CY_LOG_WARN, "intake.slow_syncs", NULL, 0,
               "%s (record intake goes on, with slower syncs)", pe.msg);
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
    *out = in;
    return COMITY_OK;
}

static int max_seq_cb(const cy_record_row *row, void *ctx)
{
    int64_t *max = ctx;
    if (row->seq > *max)
        *max = row->seq;
    return 0;
}

void cy_intake_stop(cy_intake *in)
{
    if (!in)
        return;
    cy_intake_drain(in);
    /* a clean stop (nobody submits any more): once a checkpoint covers
     * every entry (the log is opened REPLAYABLE: only a checkpoint makes
     * its entries durable by itself), the next start checks only the
     * records that come after these.  Not when intake is broken: rows
     * whose sync failed may not be durable, so no checkpoint may cover
     * their entries past the horizon (see the top) */
    pthread_mutex_lock(&in->mu);
    bool broken = in->broken;
    pthread_mutex_unlock(&in->mu);
    if (broken || comity_log_checkpoint(in->log, NULL, NULL, NULL) != COMITY_OK) {
        intake_free(in); /* the next start checks them all again */
        return;
    }
    int64_t last = 0, max;
    char *v = NULL;
    if (cy_store_meta_get(in->st, "records_checked_seq", &v, NULL) == COMITY_OK) {
        last = strtoll(v, NULL, 10);
        cy_free(v);
    }
    max = last;
    if (cy_store_records_tail(in->st, last, max_seq_cb, &max, NULL) == COMITY_OK &&
        max > last) {
        char seq[32];
        snprintf(seq, sizeof seq, "%lld", (long long)max);
        (void)cy_store_meta_set(in->st, "records_checked_seq", seq, NULL);
    }
    intake_free(in);
}

/* ---- group commit -------------------------------------------------------------- */

/* Intake refuses every record from now on (see cy_intake.broken). */
static void set_broken(struct cy_intake *in, const char *why)
{
    pthread_mutex_lock(&in->mu);
    bool first = !in->broken;
    if (first) {
        snprintf(in->broken_msg, sizeof in->broken_msg, "%s", why);
        in->broken = true;
    }
    pthread_mutex_unlock(&in->mu);
    if (first) /* said once: later failures follow from the first */
        cy_log(CY_LOG_ERROR, "intake.stopped", NULL, 0, "record intake stopped: %s", why);
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
    if (it->st != ST_STORED && it->st != ST_EXISTED)
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
static void commit_batch(struct cy_intake *in, struct item *batch,
                         struct durability *dur)
{
    comity_error e = {0};
    bool broken;
    pthread_mutex_lock(&in->mu);
    broken = in->broken;
    pthread_mutex_unlock(&in->mu);
    if (broken) { /* broken_msg is written once, before broken is set */
        for (struct item *it = batch; it; it = it->next) {
            fail(it, "store", COMITY_ERR_IO, true,
                 "the node could not make records durable (%s); restart it", in->broken_msg);
        }
        return;
    }
    size_t n = 0;
    for (struct item *it = batch; it; it = it->next)
        n++;
    /* the batch's arrays, n of each, in one allocation (widest first) */
    struct batch_arrays {
        cy_record_in *rows;
        struct item **fresh, **dups, **all; /* dups[i]: earlier twin */
        /* what the store holds under each id (one read for the batch) */
        const char **ids;
        uint64_t *have_idx;
        /* the new records' log entries */
        const void **ents;
        size_t *lens;
        char (*have)[65];
        bool *stored;
    } a;
    /* the ids seen so far, to find a batch's twins: an open-addressed
     * table of indexes into all[] (+1; 0: empty), at most half full, so
     * that a batch of a whole page costs n look-ups, not n^2/2 compares */
    size_t slots = 2;
    while (slots < 2 * n)
        slots *= 2;
    size_t each = sizeof *a.rows + 3 * sizeof *a.fresh + sizeof *a.ids + sizeof *a.have_idx +
                  sizeof *a.ents + sizeof *a.lens + sizeof *a.have + sizeof *a.stored;
    char *block = cy_calloc(n ? n : 1, each), *cur = block;
    uint32_t *seen = cy_calloc(slots, sizeof *seen);
    if (!seen) {
        cy_free(block);
        block = NULL;
    }
    if (!block) {
        for (struct item *it = batch; it; it = it->next)
            fail(it, "internal", COMITY_ERR_NOMEM, false, "out of memory");
        return;
    }
#define CARVE(field)                                                                        \
    (a.field = (void *)cur, cur += n * sizeof *a.field)
    CARVE(rows), CARVE(fresh), CARVE(dups), CARVE(all), CARVE(ids), CARVE(have_idx),
        CARVE(ents), CARVE(lens), CARVE(have), CARVE(stored);
#undef CARVE
    cy_record_in *rows = a.rows;
    struct item **fresh = a.fresh, **dups = a.dups, **all = a.all;
    const char **ids = a.ids;
    char (*have)[65] = a.have;
    uint64_t *have_idx = a.have_idx;
    bool *stored = a.stored;
    size_t nf = 0, k = 0, nids = 0;
    bool fw_dirty = false, fw_failed = false; /* framework changed; by a record not stored */
    for (struct item *it = batch; it; it = it->next, k++) {
        all[k] = it;
        size_t h = text_hash(it->in.id) & (slots - 1);
        for (; seen[h] && !dups[k]; h = (h + 1) & (slots - 1))
            if (!strcmp(all[seen[h] - 1]->in.id, it->in.id))
                dups[k] = all[seen[h] - 1];
        if (!dups[k]) {
            seen[h] = (uint32_t)k + 1;
            ids[nids++] = it->in.id;
        }
    }
    comity_err frc = cy_store_record_find_many(in->st, ids, nids, have, have_idx, stored, &e);
    for (size_t i = 0, m = 0; i < n; i++) {
        struct item *it = all[i];
        if (dups[i])
            continue;
        size_t at = m++; /* ids[at] is this item's id */
        const char *id = it->in.id, *digest = it->in.digest;
        if (frc) {
            /* retry (503) when the store cannot answer now */
            fail(it, "store", e.code ? e.code : COMITY_ERR_DB,
                 e.code == COMITY_ERR_IO || e.code == COMITY_ERR_LOCKED, "%s", e.msg);
            continue;
        }
        if (stored[at]) {
            if (strcmp(have[at], digest) == 0) {
                it->st = ST_EXISTED;
                it->log_index = have_idx[at];
            } else {
                fail(it, "conflict", COMITY_ERR_EXISTS, false,
                     "a different record with id %s is already stored", id);
            }
            continue;
        }
        comity_err rc;
        /* the framework's rules, in log order; final (framework/live.c) */
        bool added = false;
        if ((rc = cy_fw_live_add(in->fw, it->rec, it->fwbody, it->relayed, &added, &e))) {
            if (!it->relayed) {
                fail(it, "framework", rc, false, "%s", e.msg);
                continue;
            }
            added = false; /* relayed: logged, without effect on the framework */
        }
        fw_dirty = fw_dirty || added;
        fresh[nf++] = it;
    }
    if (nf) {
        /* the entries, in the order the framework took them, in one call
         * (one wake-up of the log's sequencer, which starts making them
         * durable now) */
        const void **ents = a.ents;
        size_t *lens = a.lens;
        uint64_t first = 0;
        for (size_t i = 0; i < nf; i++) {
            ents[i] = comity_record_entry(fresh[i]->rec); /* "comity-record-v1:" + digest */
            lens[i] = COMITY_RECORD_ENTRY_LEN;
        }
        comity_err rc = comity_log_append_many(in->log, ents, lens, nf, 0, &first, &e);
        if (!rc && cy_intake_test_window) /* tests: the window before the rows */
            cy_intake_test_window(in, first, nf);
        for (size_t i = 0; i < nf; i++) {
            if (rc) {
                fail(fresh[i], "log", rc, true, "%s", e.msg);
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
        /* the commit time, in log order and never stepping back */
        int64_t now = cy_now_ms() * 1000;
        if (now < in->last_received_us)
            now = in->last_received_us;
        in->last_received_us = now;
        for (size_t i = 0; i < nf; i++)
            rows[i].received_us = now;
    }
    if (nf) {
        /* the rows with their indexes, in one store transaction committed
         * while the log's sequencer commits the entries; the syncer waits
         * for both (see the top) */
        cy_record_extdef ext = {CY_STIX_EXTDEF_ID, CY_STIX_EXTDEF_TIME, in->extdef_us, NULL, 0,
                                CY_STIX_WRAPPER_SPEC, CY_STIX_WRAPPER_MEDIA};
        ext.json = cy_stix_extdef_json(&ext.json_len);
        comity_err rc = cy_store_records_add_nosync(in->st, rows, nf, &ext, &e);
        fw_failed = fw_failed || (rc && fw_dirty);
        if (rc) {
            /* the batch's entries stay in the log without rows: before any
             * later row is committed, a checkpoint makes them durable, so
             * that the entries a machine crash can take are again only
             * ones above every gap (see the top) */
            comity_error ce = {0};
            /* that checkpoint covers every entry, past the horizon: first
             * the rows of the batches committed before this one, which the
             * syncer may not have synced yet, are made durable, so that it
             * covers no entry whose row a power loss could still take
             * (either store's sync may run in two threads at once:
             * SQLite's under its own mutex, PostgreSQL's a commit on a
             * pool connection).  When that fails, nothing is checkpointed:
             * the horizon stays, and the syncer believes none of its
             * syncs that end after it (see cy_intake.sync_failed) */
            pthread_mutex_lock(&in->mu);
            in->csync = true;
            pthread_mutex_unlock(&in->mu);
            comity_err src = cy_store_records_sync(in->st, &ce);
            if (src)
                set_broken(in, ce.msg);
            pthread_mutex_lock(&in->mu);
            in->csync = false;
            in->sync_failed = in->sync_failed || src;
            pthread_cond_broadcast(&in->scv);
            pthread_mutex_unlock(&in->mu);
            if (!src) {
                if (cy_intake_test_gap) /* tests: just before that checkpoint */
                    cy_intake_test_gap(in);
                if (comity_log_checkpoint(in->log, NULL, NULL, &ce) != COMITY_OK)
                    set_broken(in, ce.msg);
            }
        }
        for (size_t i = 0; i < nf; i++) {
            if (rc) {
                fail(fresh[i], "store", rc, true, "%s", e.msg);
            } else {
                fresh[i]->st = ST_STORED;
                fresh[i]->log_index = fresh[i]->in.log_index;
            }
        }
    }
    if (fw_failed) /* the framework holds records the store does not */
        cy_fw_live_rebuild(in->fw);
    else /* what it added is stored: a re-fold they need may run */
        cy_fw_live_done(in->fw);
    for (size_t i = 0; i < n; i++) {
        struct item *d = dups[i];
        if (!d)
            continue;
        if (strcmp(d->in.digest, all[i]->in.digest) != 0) {
            fail(all[i], "conflict", COMITY_ERR_EXISTS, false,
                 "a different record with id %s is already stored", all[i]->in.id);
        } else {
            all[i]->st = d->st == ST_STORED ? ST_EXISTED : d->st;
            all[i]->code = d->code;
            all[i]->retry = d->retry;
            all[i]->rule = d->rule;
            all[i]->log_index = d->log_index;
            memcpy(all[i]->msg, d->msg, sizeof d->msg);
        }
    }
    for (size_t i = 0; i < n; i++)
        needs(dur, all[i]);
    cy_free(seen);
    cy_free(block);
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
        commit_batch(in, batch, &d);
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
 * the log's sticky failure), then hands each submitter its outcome (the
 * callback) and frees the item; batches committed meanwhile are synced
 * together next time.  A failed sync answers 503 and breaks intake (see
 * cy_intake.broken): after a failed fsync nobody knows what is on disk,
 * and no later sync is believed (cy_intake.sync_failed). */
static void *syncer_main(void *arg)
{
    struct cy_intake *in = arg;
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
        if (store) {
            rc = cy_store_records_sync(in->st, &e);
            /* believed only if no other store sync failed before it ended
             * (see cy_intake.sync_failed): the committer's is waited for */
            pthread_mutex_lock(&in->mu);
            while (in->csync)
                pthread_cond_wait(&in->scv, &in->mu);
            if (rc)
                in->sync_failed = true;
            else if (in->sync_failed)
                rc = cy_fail(&e, COMITY_ERR_IO, "a sync failed before (%s)", in->broken_msg);
            pthread_mutex_unlock(&in->mu);
        }
        if (!rc && log_size && (rc = comity_log_sync_to(in->log, log_size, &e)))
            rule = "log";
        /* the rows of the entries below log_size are durable now: the
         * log's checkpoints may cover those entries (see the top) */
        if (!rc && log_size)
            cy_log_set_durable(in->log, log_size);
        if (rc) {
            set_broken(in, e.msg);
            for (struct item *it = list; it; it = it->next)
                if (it->st == ST_STORED || it->st == ST_EXISTED)
                    fail(it, rule, rc, true, "not made durable: %s", e.msg);
        }
        size_t n = 0;
        for (struct item *b = list, *nx; b; b = nx) {
            nx = b->next;
            finish(b); /* answers and frees b */
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

/* Queues n items that passed every check for the committer, linked from
 * first to last (last->next NULL), at once. */
static void enqueue_many(struct cy_intake *in, struct item *first, struct item *last, size_t n)
{
    pthread_mutex_lock(&in->mu);
    if (in->tail)
        in->tail->next = first;
    else
        in->head = first;
    in->tail = last;
    in->inflight += n;
    in->queued += n;
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

void cy_intake_drain(cy_intake *in)
{
    if (!in)
        return;
    pthread_mutex_lock(&in->mu);
    while (in->inflight > 0)
        pthread_cond_wait(&in->idle, &in->mu);
    pthread_mutex_unlock(&in->mu);
}

/* ---- submitting ------------------------------------------------------------------ */

struct colls_ctx {
    struct cy_intake *in;
    struct item *it;
    size_t n;
    bool over;
};

static int add_coll(void *ctx, const char *alias)
{
    struct colls_ctx *c = ctx;
    struct item *it = c->it;
    int64_t n = !strcmp(alias, CY_STIX_COLL_PUBLIC)      ? c->in->coll_public
                : !strcmp(alias, CY_STIX_COLL_COMMUNITY) ? c->in->coll_community
                                                         : coll_number(c->in, alias);
    if (!n) /* not on this node */
        return 0;
    for (size_t j = 0; j < c->n; j++)
        if (it->colls[j] == n)
            return 0;
    if (c->n == CY_INTAKE_COLLS_MAX || c->n == it->colls_cap) {
        c->over = true;
        return 1;
    }
    it->colls[c->n++] = n;
    return 0;
}

/* The TAXII collections the record is copied into (stix/wrapper.c says
 * which), as the store's numbers, into it->in.colls: no more than
 * CY_INTAKE_COLLS_MAX (else "size"), and room for the author and each
 * recipient (else "internal": out of memory). */
static comity_err pick_collections(struct cy_intake *in, struct item *it, size_t nto)
{
    it->colls = it->colls_small;
    it->colls_cap = CY_ARRAY_LEN(it->colls_small);
    if (nto + 1 > it->colls_cap) {
        if (!(it->colls = cy_malloc((nto + 1) * sizeof *it->colls))) {
            it->colls = it->colls_small;
            return COMITY_ERR_NOMEM;
        }
        it->colls_cap = nto + 1;
    }
    struct colls_ctx c = {in, it, 0, false};
    cy_stix_record_collections(it->rec, add_coll, &c);
    it->in.colls = it->colls;
    it->in.ncolls = c.n;
    return c.over ? COMITY_ERR_TOOBIG : COMITY_OK;
}

static void submit(cy_intake *in, char *env, size_t len, comity_record *parsed,
                   const cy_principal *who, const char *relayed_from, int64_t w_ms,
                   cy_intake_run *run, cy_intake_done done, void *ctx);

void cy_intake_submit(cy_intake *in, char *env, size_t len, const cy_principal *who,
                      cy_intake_done done, void *ctx)
{
    submit(in, env, len, NULL, who, NULL, 0, NULL, done, ctx);
}

void cy_intake_submit_relayed(cy_intake *in, char *env, size_t len, const char *origin,
                              cy_intake_done done, void *ctx)
{
    submit(in, env, len, NULL, NULL, origin ? origin : "", 0, NULL, done, ctx);
}

void cy_intake_submit_relayed_parsed(cy_intake *in, char *env, size_t len, comity_record *rec,
                                     const char *origin, cy_intake_done done, void *ctx)
{
    submit(in, env, len, rec, NULL, origin ? origin : "", 0, NULL, done, ctx);
}

void cy_intake_submit_relayed_run(cy_intake *in, cy_intake_run *run, char *env, size_t len,
                                  comity_record *rec, const char *origin, int64_t w_ms,
                                  cy_intake_done done, void *ctx)
{
    submit(in, env, len, rec, NULL, origin ? origin : "", w_ms > 0 ? w_ms : 0, run, done,
           ctx);
}

void cy_intake_run_commit(cy_intake *in, cy_intake_run *run)
{
    if (run->n)
        enqueue_many(in, run->head, run->tail, run->n);
    *run = (cy_intake_run)CY_INTAKE_RUN_INIT;
}

/* The author's home against where the record comes from: a local post
 * needs a party of this node, a relayed record a party homed at the peer
 * it came from (docs/federation.md, section 2).  False after fail(). */
static bool origin_ok(struct cy_intake *in, struct item *it, const cy_principal *p,
                      const char *relayed_from)
{
    const char *author = comity_record_author(it->rec);
    if (!relayed_from) {
        if (!strcmp(p->kind, "remote")) {
            fail(it, "origin", COMITY_ERR_DENIED, false,
                 "%s is homed at another node: its records are posted there", author);
            return false;
        }
        return true;
    }
    char home[CY_PEER_ORIGIN_MAX + 1];
    comity_error e = {0};
    comity_err rc = strcmp(p->kind, "remote") != 0
                        ? COMITY_ERR_NOTFOUND
                        : cy_store_home_get(in->st, author, home, &e);
    if (rc != COMITY_OK && rc != COMITY_ERR_NOTFOUND) { /* the store could not say: retry */
        fail(it, "store", rc, true, "%s", e.msg);
        return false;
    }
    if (rc || strcmp(home, relayed_from) != 0) {
        fail(it, "origin", COMITY_ERR_DENIED, false,
             "the author %s is not a party homed at %s, the node it came from", author,
             relayed_from);
        return false;
    }
    return true;
}

/* The key the record's signature must verify under: its author's (the
 * directory's), or for a `delivered` record the log key of its author's
 * home node: this node's own for a local party, the pinned key of the
 * peer it is homed at for a remote one (docs/federation.md section 7).
 * NULL when there is none, or when the store could not say: then *src
 * is its error (described in *e), else COMITY_OK.  *peer: room for the
 * peer's row. */
static const char *signer_vkey(struct cy_intake *in, const comity_record *rec,
                               const cy_principal *p, cy_peer *peer, comity_err *src,
                               comity_error *e)
{
    *src = COMITY_OK;
    if (strcmp(comity_record_type(rec), CY_RECORD_DELIVERED) != 0)
        return p->vkey;
    if (strcmp(p->kind, "remote") != 0)
        return in->node_vkey[0] ? in->node_vkey : NULL;
    char home[CY_PEER_ORIGIN_MAX + 1];
    comity_err rc = cy_store_home_get(in->st, comity_record_author(rec), home, e);
    if (!rc)
        rc = cy_store_peer_get(in->st, home, peer, e);
    if (rc == COMITY_ERR_NOTFOUND) /* no home, or no such peer: no key */
        return NULL;
    if (rc) {
        *src = rc; /* the store failed: not the signature's fault */
        return NULL;
    }
    return peer->vkey;
}

/* parsed: the envelope's record when the caller parsed it already
 * (taken), else NULL: parsed here.  w_ms: the relayed record's W (0:
 * unknown). */
static void submit(cy_intake *in, char *env, size_t len, comity_record *parsed,
                   const cy_principal *who, const char *relayed_from, int64_t w_ms,
                   cy_intake_run *run, cy_intake_done done, void *ctx)
{
    comity_error e = {0};
    if (len > COMITY_DSSE_MAX) {
        comity_record_free(parsed);
        refuse_early(in, env, done, ctx, "size", COMITY_ERR_TOOBIG,
                     "the envelope is %zu bytes; records are at most %u", len, COMITY_DSSE_MAX);
        return;
    }
    comity_record *rec = parsed;
    if (!rec && comity_record_parse(env ? env : "", len, &rec, &e) != COMITY_OK) {
        /* which rule: the envelope itself, or the payload inside it? */
        cy_dsse d;
        memset(&d, 0, sizeof d);
        comity_error de = {0};
        bool env_ok = cy_dsse_parse(env ? env : "", len, &d, &de) == COMITY_OK;
        bool type_ok = env_ok && strcmp(d.payload_type, COMITY_RECORD_PAYLOAD_TYPE) == 0;
        cy_dsse_clear(&d);
        if (!env_ok)
            refuse_early(in, env, done, ctx, "envelope", COMITY_ERR_INVALID, "%s", de.msg);
        else if (!type_ok)
            refuse_early(in, env, done, ctx, "envelope", COMITY_ERR_INVALID, "%s", e.msg);
        else if (e.code == COMITY_ERR_TOOBIG)
            refuse_early(in, env, done, ctx, "size", COMITY_ERR_TOOBIG, "%s", e.msg);
        else
            refuse_early(in, env, done, ctx, "payload", COMITY_ERR_INVALID, "%s", e.msg);
        return;
    }
    struct item *it = cy_calloc(1, sizeof *it);
    if (!it) {
        comity_record_free(rec);
        refuse_early(in, env, done, ctx, "internal", COMITY_ERR_NOMEM, "out of memory");
        return;
    }
    it->rec = rec;
    it->owner = in;
    it->env = env; /* rec's strings point into its own copy; env is kept for the row */
    it->done = done;
    it->ctx = ctx;
    it->relayed = relayed_from != NULL;
    const char *author = comity_record_author(rec);
    cy_principal p;
    /* the submitter's principal was read from the store for this very
     * request: when it is the author, that row is the author's (no second
     * lookup) */
    if (who && strcmp(who->name, author) == 0)
        p = *who;
    else if (cy_store_principal_get(in->st, author, &p, NULL, NULL) != COMITY_OK)
        p.kind[0] = '\0';
    if (strcmp(p.kind, "party") != 0 && strcmp(p.kind, "remote") != 0) {
        fail(it, "author", COMITY_ERR_DENIED, false, "'%s' is not a party registered on this node",
             author);
        finish(it);
        return;
    }
    if (!origin_ok(in, it, &p, relayed_from)) {
        finish(it);
        return;
    }
    /* the signature over the very bytes parsed above (the envelope is
     * read once) */
    /* a delivered record: under its author's home node's log key
     * (record/delivered.h); any other: the key the envelope's keyid names,
     * the author's own or one of its users' not revoked before the record
     * (record/signer.h: the rule, by created and the witnesses' times; a
     * local post is logged after every revocation held) */
    static _Thread_local cy_peer peer; /* large: not on the stack */
    comity_err src;
    const char *vk = signer_vkey(in, rec, &p, &peer, &src, &e);
    if (src) { /* a store failure, like the others: retry */
        fail(it, "store", src, true, "looking up the home node of %s: %s", author, e.msg);
        finish(it);
        return;
    }
    bool by_node = vk != p.vkey;
    struct vkref *k = vk ? vkey_get(in, vk) : NULL;
    comity_err rc;
    if (by_node) {
        rc = !k ? cy_fail(&e, COMITY_ERR_NOKEY, "the key does not parse")
                : cy_record_verify_under(rec, k->vk, &e);
        if (rc)
            fail(it, "signature", COMITY_ERR_VERIFY, false,
                 "no signature verifies under the log key of %s's home node", author);
    } else {
        struct users us = {.in = in, .author = author};
        const char *user = NULL;
        bool revoked = false;
        rc = cy_record_signer_at(rec, k ? k->vk : NULL,
                                 relayed_from ? w_ms : CY_SIGNER_AT_ORIGIN, users_load, &us,
                                 &user, &revoked, &e);
        if (!rc && p.revoked_ms > 0) {
            /* the author's own key revoked (an office by its state, a state
             * key by its admitters; roster apply wrote it): the same rule */
            char whose[COMITY_PARTY_MAX + 32];
            snprintf(whose, sizeof whose, "%s (%s)", author,
                     strchr(author, '.') ? "the office itself" : "its state key");
            rc = cy_revocation_check(rec, relayed_from ? w_ms : CY_SIGNER_AT_ORIGIN, whose,
                                     p.revoked_ms, NULL, p.revoked_w_ms, &e);
            revoked = rc != COMITY_OK;
        }
        if (!rc && user)
            snprintf(it->signer, sizeof it->signer, "%s", user);
        users_clear(&us);
        if (rc == COMITY_ERR_VERIFY)
            fail(it, revoked ? "revoked" : "signature", COMITY_ERR_VERIFY, false, "%s", e.msg);
        else if (rc)
            fail(it, "store", rc, rc != COMITY_ERR_TOOBIG, "reading %s's users' keys: %s",
                 author, e.msg);
    }
    vkref_drop(k);
    if (rc) {
        finish(it);
        return;
    }
    if (!relayed_from && !who) {
        fail(it, "authenticated", COMITY_ERR_DENIED, false, "log in as %s to post its records",
             author);
        finish(it);
        return;
    }
    if (!relayed_from && strcmp(who->name, author) != 0) {
        fail(it, "authenticated", COMITY_ERR_DENIED, false,
             "logged in as %s, but the record's author is %s", who->name, author);
        finish(it);
        return;
    }
    /* a type or version this node does not know: at the origin its rules
     * cannot be applied; from a peer it is stored, logged and served,
     * without effect until a release that knows it starts
     * (docs/federation.md, "Versions") */
    const char *type = comity_record_type(rec);
    int schema = comity_record_schema(rec);
    if (!relayed_from && !cy_fw_knows(type, schema)) {
        if (schema == 1)
            fail(it, "type", COMITY_ERR_INVALID, false,
                 "record type '%s' is not one this node accepts", type);
        else
            fail(it, "type", COMITY_ERR_INVALID, false,
                 "version %d of record type '%s' is not one this node accepts", schema, type);
        finish(it);
        return;
    }
    /* the body of a type the framework does not rule (the roster's party
     * and admission, log-succession): at the origin, refused as the
     * module that weighs it would refuse it; relayed, logged and weighed
     * there (a malformed one has no effect; docs/federation.md, section 1) */
    const char *body = comity_record_body(rec);
    if (!relayed_from &&
        (rc = cy_record_body_check(type, body, body ? strlen(body) : 0, &e))) {
        fail(it, "body", rc, false, "%s", e.msg);
        finish(it);
        return;
    }
    /* an id made for this author: a refusal that does not depend on what
     * is stored (docs/security.md, the id oracle) */
    if (!relayed_from && (rc = comity_record_check_id(rec, &e))) {
        fail(it, "id", rc, false, "%s", e.msg);
        finish(it);
        return;
    }
    /* record.created within the node's bounds of its clock */
    int64_t now = cy_now_ms(); /* the record's check, and its time received */
    if (!relayed_from && (rc = comity_record_check_created(rec, now, in->created_ahead_ms,
                                                           in->created_behind_ms, &e))) {
        fail(it, "created", rc, false, "%s", e.msg);
        finish(it);
        return;
    }
    /* an early refusal; the committer's check is the final one */
    if (!relayed_from && (rc = cy_fw_live_precheck(in->fw, rec, &it->fwbody, &e))) {
        fail(it, "framework", rc, false, "%s", e.msg);
        finish(it);
        return;
    }
    size_t nto = comity_record_to_count(rec);
    it->to = nto <= CY_ARRAY_LEN(it->to_small) ? it->to_small : cy_calloc(nto, sizeof *it->to);
    if (!it->to) {
        fail(it, "internal", COMITY_ERR_NOMEM, false, "out of memory");
        finish(it);
        return;
    }
    for (size_t i = 0; i < nto; i++)
        it->to[i] = comity_record_to(rec, i);
    const char *created = comity_record_created(rec);
    int64_t cms = comity_record_created_ms(rec);
    /* the wrapper's id: its type and the record id's uuid (the parser
     * checked the id: a type, "--", a uuid) */
    const char *uuid = strstr(comity_record_id(rec), "--") + 2;
    size_t ulen = strlen(uuid), tlen = strlen(CY_STIX_WRAPPER_TYPE "--");
    if (tlen + ulen >= sizeof it->stix_id)
        ulen = sizeof it->stix_id - 1 - tlen;
    memcpy(it->stix_id, CY_STIX_WRAPPER_TYPE "--", tlen);
    memcpy(it->stix_id + tlen, uuid, ulen);
    it->stix_id[tlen + ulen] = 0;
    it->in = (cy_record_in){
        .id = comity_record_id(rec),
        .type = comity_record_type(rec),
        .author = author,
        .tlp = comity_record_tlp(rec),
        .created = created,
        .created_ms = cms,
        .digest = comity_record_digest(rec),
        .received_us = now * 1000,
        .envelope = it->env,
        .envelope_len = len,
        .to = it->to,
        .nto = nto,
        .stix_id = it->stix_id,
        .stix_version = created,
        .stix_version_us = cms * 1000,
        .stix_spec_version = CY_STIX_WRAPPER_SPEC,
        .stix_media_type = CY_STIX_WRAPPER_MEDIA,
        .witnessed_ms = w_ms, /* relayed with a witness policy: kept with the row */
        .signer = it->signer[0] ? it->signer : NULL, /* the user, kept for the fold */
    };
    if ((rc = pick_collections(in, it, nto))) {
        if (rc == COMITY_ERR_NOMEM)
            fail(it, "internal", rc, false, "out of memory");
        else
            fail(it, "size", rc, false,
                 "the record goes to more than %d TAXII collections (its author's inbox and "
                 "one per recipient)", CY_INTAKE_COLLS_MAX);
        finish(it);
        return;
    }
    if (run) { /* held until cy_intake_run_commit */
        it->next = NULL;
        if (run->tail)
            ((struct item *)run->tail)->next = it;
        else
            run->head = it;
        run->tail = it;
        run->n++;
        return;
    }
    it->next = NULL;
    enqueue_many(in, it, it, 1);
}
