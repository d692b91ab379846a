/*
 * expiry.c: the node's retention job: what is due for destruction, the
 * destruction record, and (once the content-addressed file store is in
 * the node) the files themselves.
 *
 * The rule of what is due is the framework's (comity_framework_retention_due,
 * src/framework/retention.c); this file only runs it on the node's clock
 * and acts on the answer.  While the node serves, a thread wakes every
 * retention.every (1 hour unless node.conf says otherwise) and, for each
 * case due, in order:
 *
 *   1. signs an evidence-destruction record as the node's custodian party
 *      (node.conf retention.author; its key file retention.key, default
 *      DIR/retention.key), listing the files (hash, size, name), the
 *      reason "retention", the rule ("retention.mla = 5y") and the
 *      closing time; addressed to every party of the case, sealed to them
 *      when the case is sealed;
 *   2. submits it through intake like any record (checks, log, store), and
 *      waits for the outcome;
 *   3. only once the record is stored, destroys the files through the
 *      content-addressed file store (cy_files_destroy).
 *
 * Which files: those the framework lists as due (comity_framework_retention_
 * due, handed the store's list of files and the records each is attached
 * to), never one another case still keeps.
 *
 * Record first, destruction second: a crash between the two leaves a
 * record that says a file went while it is still on disk, which the next
 * run finishes (the framework lists it as "leftover"), never a file gone
 * without a record.  Why the node's key
 * and not the operator's: the job runs unattended on the node's clock,
 * and the record states what the node holding the files did; an
 * operator's signature would need a person at every expiry.  Without a
 * custodian configured, or without its key, the job does not run (the
 * node must not destroy what it cannot record); `comity case retention
 * DIR` shows what would be due.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "files/files.h"
#include "node/node.h"

#define PARTIES_MAX 8 /* parties of a case: requester, requested, up to 4 third */

struct cy_expiry {
    comity_node *node;   /* borrowed */
    cy_fw_table t;
    comity_key *key;     /* the custodian's */
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop, started;
};

/* ---- one submission, waited for ----------------------------------------------- */

struct wait {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done;
    comity_err code;
    char msg[COMITY_ERRMSG_MAX];
};

static void on_done(void *ctx, const cy_intake_result *res)
{
    struct wait *w = ctx;
    pthread_mutex_lock(&w->mu);
    w->code = res->code;
    snprintf(w->msg, sizeof w->msg, "%s", res->msg ? res->msg : "");
    w->done = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

/* ---- what the store holds ------------------------------------------------------------ */

struct held {
    comity_file_stored *f;
    char (*hash)[CY_FILES_HASH_LEN + 1];
    struct reflist { char **v; size_t n, cap; bool oom; } *recs;
    size_t n, cap;
    cy_files *fs;
    bool oom;
};

static int held_ref(void *ctx, const char *ref)
{
    struct reflist *l = ctx;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 4;
        char **v = cy_realloc(l->v, cap * sizeof *v);
        if (!v) {
            l->oom = true;
            return 1;
        }
        l->v = v;
        l->cap = cap;
    }
    if (!(l->v[l->n] = cy_strdup(ref))) {
        l->oom = true;
        return 1;
    }
    l->n++;
    return 0;
}

static int held_one(void *ctx, const char *hash, uint64_t size)
{
    struct held *h = ctx;
    if (h->n == h->cap) {
        size_t cap = h->cap ? 2 * h->cap : 64;
        comity_file_stored *f = cy_realloc(h->f, cap * sizeof *f);
        if (f)
            h->f = f;
        char(*hs)[CY_FILES_HASH_LEN + 1] = f ? cy_realloc(h->hash, cap * sizeof *hs) : NULL;
        if (hs)
            h->hash = hs;
        struct reflist *r = hs ? cy_realloc(h->recs, cap * sizeof *r) : NULL;
        if (!r) {
            h->oom = true;
            return 1;
        }
        h->recs = r;
        h->cap = cap;
    }
    size_t i = h->n++;
    snprintf(h->hash[i], sizeof h->hash[i], "%s", hash);
    h->recs[i] = (struct reflist){0};
    h->f[i] = (comity_file_stored){.size = size};
    /* every attachment or none: a file whose attachment to a case that
     * still keeps it were missed could be judged due */
    if (cy_files_refs(h->fs, hash, held_ref, &h->recs[i], NULL) != COMITY_OK ||
        h->recs[i].oom) {
        h->oom = true;
        return 1;
    }
    return 0;
}

static void held_free(struct held *h)
{
    for (size_t i = 0; i < h->n; i++) {
        for (size_t k = 0; k < h->recs[i].n; k++)
            cy_free(h->recs[i].v[k]);
        cy_free(h->recs[i].v);
    }
    cy_free(h->f);
    cy_free(h->hash);
    cy_free(h->recs);
    memset(h, 0, sizeof *h);
}

/* Every file of store fs with its records, into h (held_free). */
static comity_err held_list(cy_files *fs, struct held *h, comity_error *err)
{
    memset(h, 0, sizeof *h);
    h->fs = fs;
    comity_err rc = cy_files_list(fs, held_one, h, err);
    if (!rc && h->oom)
        rc = cy_fail(err, COMITY_ERR_NOMEM, "retention: out of memory");
    for (size_t i = 0; !rc && i < h->n; i++) {
        h->f[i].sha256 = h->hash[i];
        h->f[i].records = (const char *const *)h->recs[i].v;
        h->f[i].nrecords = h->recs[i].n;
    }
    if (rc)
        held_free(h);
    return rc;
}

/* ---- one case --------------------------------------------------------------------- */

/* Writes the destruction record of due entry `d` through intake; then the
 * files would be destroyed.  Errors are reported on stderr. */
static void destroy_case(struct cy_expiry *x, const json_t *d)
{
    comity_node *node = x->node;
    const char *cid = json_string_value(json_object_get(d, "case"));
    json_t *parties = json_object_get(d, "parties");
    const char *me = comity_key_party(x->key);
    const char *to[PARTIES_MAX + 1];
    size_t nto = 0;
    size_t i;
    json_t *p;
    json_array_foreach(parties, i, p) {
        if (nto < PARTIES_MAX && strcmp(json_string_value(p), me))
            to[nto++] = json_string_value(p);
    }
    json_t *body = json_pack("{s:s, s:O, s:O, s:O}", "reason", "retention", "rule",
                             json_object_get(d, "rule"), "closed",
                             json_object_get(d, "closed"), "files",
                             json_object_get(d, "files"));
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    cy_node_seal sl = {0}; /* the node's own parties: as before */
    comity_error e = {0};
    char *env = NULL;
    size_t el = 0;
    bool sealed = json_is_true(json_object_get(d, "sealed"));
    comity_err rc = text ? COMITY_OK : cy_fail(&e, COMITY_ERR_NOMEM, "out of memory");
    if (!rc && sealed)
        rc = cy_node_seal_to(node->store, to, nto, false, &sl, &e);
    comity_record_params prm = {.type = "evidence-destruction",
                                .tlp = sealed ? "amber" : "green",
                                .to = to, .nto = nto,
                                .refs = &cid, .nrefs = 1,
                                .seal_to = sl.seal, .nseal_to = sl.nseal};
    if (!rc)
        rc = comity_record_sign(x->key, &prm, text, strlen(text), &env, &el, &e);
    cy_node_seal_free(&sl);
    free(text);
    if (rc) {
        cy_log(CY_LOG_ERROR, "retention.record_failed", (cy_log_kv[]){CY_KV_S("case", cid)}, 1,
               "retention: case %s: the destruction record could not be made: %s", cid, e.msg);
        return;
    }
    cy_principal who;
    if (cy_store_principal_get(node->store, me, &who, NULL, &e)) {
        comity_free(env);
        cy_log(CY_LOG_ERROR, "retention.custodian_unknown", (cy_log_kv[]){CY_KV_S("party", me)},
               1, "retention: %s is not a party of this node: %s", me, e.msg);
        return;
    }
    struct wait w = {.done = false};
    pthread_mutex_init(&w.mu, NULL);
    pthread_cond_init(&w.cv, NULL);
    cy_intake_submit(node->intake, env, el, &who, on_done, &w); /* takes env */
    pthread_mutex_lock(&w.mu);
    while (!w.done)
        pthread_cond_wait(&w.cv, &w.mu);
    pthread_mutex_unlock(&w.mu);
    pthread_cond_destroy(&w.cv);
    pthread_mutex_destroy(&w.mu);
    if (w.code) {
        cy_log(CY_LOG_ERROR, "retention.record_refused", (cy_log_kv[]){CY_KV_S("case", cid)}, 1,
               "retention: case %s: the destruction record was refused: %s", cid, w.msg);
        return;
    }
    /* the record is stored: now the files */
    size_t gone = 0;
    json_t *f;
    json_array_foreach(json_object_get(d, "files"), i, f) {
        const char *h = json_string_value(json_object_get(f, "sha256"));
        comity_err drc = cy_files_destroy(node->files, h, &e);
        if (drc && drc != COMITY_ERR_NOTFOUND)
            cy_log(CY_LOG_WARN, "retention.file_kept",
                   (cy_log_kv[]){CY_KV_S("case", cid), CY_KV_S("sha256", h)}, 2,
                   "retention: case %s: file %s not destroyed (the next run tries again): %s",
                   cid, h, e.msg);
        else
            gone++;
    }
    const char *rule = json_string_value(json_object_get(d, "rule"));
    cy_log(CY_LOG_INFO, "retention.destroyed",
           (cy_log_kv[]){CY_KV_S("case", cid), CY_KV_N("files", gone), CY_KV_S("rule", rule)}, 3,
           "retention: case %s: %zu file(s) destroyed under %s", cid, gone, rule);
}

/* One pass: what is due now, each case in turn; then what a crash left. */
static void run_once(struct cy_expiry *x)
{
    char *json = NULL;
    comity_error e = {0};
    struct held h;
    comity_err rc = held_list(x->node->files, &h, &e);
    if (!rc) {
        const comity_framework *fw = cy_fw_live_lock(x->node->fw);
        rc = comity_framework_retention_due(fw, cy_now_ms(), h.f, h.n, &json, &e);
        cy_fw_live_unlock(x->node->fw);
        held_free(&h);
    }
    json_t *j = rc ? NULL : json_loads(json, 0, NULL);
    comity_free(json);
    if (!j) {
        cy_log(CY_LOG_ERROR, "retention.failed", NULL, 0, "retention: %s",
               rc ? e.msg : "out of memory");
        return;
    }
    size_t i;
    json_t *d;
    json_array_foreach(json_object_get(j, "due"), i, d) {
        pthread_mutex_lock(&x->mu);
        bool stop = x->stop;
        pthread_mutex_unlock(&x->mu);
        if (stop)
            break;
        destroy_case(x, d);
    }
    json_array_foreach(json_object_get(j, "leftover"), i, d) {
        comity_err drc = cy_files_destroy(x->node->files, json_string_value(d), &e);
        if (drc && drc != COMITY_ERR_NOTFOUND)
            cy_log(CY_LOG_WARN, "retention.file_kept",
                   (cy_log_kv[]){CY_KV_S("sha256", json_string_value(d))}, 1,
                   "retention: file %s (recorded destroyed) not destroyed: %s",
                   json_string_value(d), e.msg);
    }
    json_decref(j);
}

static void *loop(void *arg)
{
    struct cy_expiry *x = arg;
    int64_t every = x->t.retention_every_ms ? x->t.retention_every_ms : CY_FW_RETENTION_EVERY_MS;
    pthread_mutex_lock(&x->mu);
    while (!x->stop) {
        pthread_mutex_unlock(&x->mu);
        run_once(x);
        pthread_mutex_lock(&x->mu);
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += (time_t)(every / 1000);
        ts.tv_nsec += (long)(every % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        while (!x->stop && pthread_cond_timedwait(&x->cv, &x->mu, &ts) == 0)
            ;
    }
    pthread_mutex_unlock(&x->mu);
    return NULL;
}

comity_err cy_expiry_start(comity_node *node, const cy_fw_table *t, comity_error *err)
{
    node->expiry = NULL;
    if (!t->custodian[0])
        return COMITY_OK; /* no custodian: nothing is destroyed */
    struct cy_expiry *x = cy_calloc(1, sizeof *x);
    if (!x)
        return cy_fail(err, COMITY_ERR_NOMEM, "retention: out of memory");
    x->node = node;
    x->t = *t;
    comity_err rc = comity_key_load(t->custodian_key, &x->key, err);
    if (!rc && strcmp(comity_key_party(x->key), t->custodian) != 0)
        rc = cy_fail(err, COMITY_ERR_USAGE, "retention.key %s is %s's key, not %s's",
                     t->custodian_key, comity_key_party(x->key), t->custodian);
    if (rc) {
        comity_key_free(x->key);
        cy_free(x);
        return cy_wrap(err, "node.conf: retention");
    }
    pthread_mutex_init(&x->mu, NULL);
    pthread_cond_init(&x->cv, NULL);
    if (pthread_create(&x->th, NULL, loop, x) != 0) {
        pthread_cond_destroy(&x->cv);
        pthread_mutex_destroy(&x->mu);
        comity_key_free(x->key);
        cy_free(x);
        return cy_fail(err, COMITY_ERR_IO, "retention: cannot start its thread");
    }
    x->started = true;
    node->expiry = x;
    return COMITY_OK;
}

void cy_expiry_stop(comity_node *node)
{
    struct cy_expiry *x = node->expiry;
    if (!x)
        return;
    pthread_mutex_lock(&x->mu);
    x->stop = true;
    pthread_cond_signal(&x->cv);
    pthread_mutex_unlock(&x->mu);
    pthread_join(x->th, NULL);
    pthread_cond_destroy(&x->cv);
    pthread_mutex_destroy(&x->mu);
    comity_key_free(x->key);
    cy_free(x);
    node->expiry = NULL;
}

comity_err comity_node_retention_due(comity_node *node, int64_t now_ms, char **json,
                                     comity_error *err)
{
    *json = NULL;
    comity_serve_opts o; /* none: node.conf alone */
    memset(&o, 0, sizeof o);
    cy_fw_table *t = NULL;
    cy_fw_live *f = node->fw; /* serving: the live state */
    cy_files *fs = node->files;
    comity_err rc = COMITY_OK;
    if (!f) { /* not serving: a replay of the store.  Its file store is not
                 opened: opening sweeps temporaries, which would break the
                 uploads of a node serving from the same directory; every
                 file the records name counts (store NULL) */
        if (!(t = cy_calloc(1, sizeof *t)))
            return cy_fail(err, COMITY_ERR_NOMEM, "retention: out of memory");
        rc = cy_node_fw_table(node, &o, t, err);
        if (!rc)
            rc = cy_fw_live_open(node->store, t, &f, err);
    }
    struct held h = {0};
    if (!rc && fs)
        rc = held_list(fs, &h, err);
    if (!rc) {
        const comity_framework *fw = cy_fw_live_lock(f);
        rc = comity_framework_retention_due(fw, now_ms, fs ? h.f : NULL, h.n, json, err);
        cy_fw_live_unlock(f);
        held_free(&h);
    }
    if (f != node->fw)
        cy_fw_live_free(f);
    cy_free(t);
    return rc;
}
