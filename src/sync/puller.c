/*
 * puller.c: the federation client (sync.h; docs/federation.md, sections 4,
 * 6 and 10): one thread per peer pulls that origin's records by log
 * position, verifies them, submits them to this node's intake and moves
 * the cursor.
 *
 * A worker's loop:
 *   1. read its peer's row (cursor, last checkpoint); gone: the thread ends;
 *   2. GET one page from the cursor (libcurl, one keep-alive connection,
 *      the session cookie in curl's in-memory cookie engine); a 401 means
 *      log in again: POST /v1/session/challenge as "peer:<our origin>",
 *      sign the challenge text as a signed note with our node key, POST
 *      /v1/session;
 *   3. parse (page.c) and verify (verify.c) the page;
 *   4. submit every record through cy_intake_submit_relayed_run (each
 *      envelope parsed once, by the check of step 3, and handed to intake
 *      with its record; intake's checks of the page's second half run on
 *      a helper thread meanwhile, submit_page; committed in log order in
 *      runs, each one intake batch) and wait for all their callbacks (each
 *      record durable here, or refused);
 *   5. in one store write, on the peer row read in 1 only (a peer removed
 *      and added again since is another row, which keeps its cursor): the
 *      cursor (the page's next, or the index of the first record refused),
 *      the page's checkpoint, the count.
 * A page whose checkpoint proves a split view (the same size as the last
 * one accepted, another root) leaves an equivocation (equivocation.c)
 * and no more pulls from that origin; while idle, a worker asks its peer
 * every CY_SYNC_GOSSIP_MS for the equivocations it keeps and keeps those
 * that prove a split view of an origin this node follows.
 *
 * Witnesses (docs/federation.md, section 8): with a witness policy
 * (DIR/witness.policy, witnessed.c), a page whose checkpoint lacks the
 * quorum is not taken: the worker asks again after CY_SYNC_WITNESS_WAIT_MS
 * (doubling to 5 polls; a hint wakes it), and a record claiming a
 * `created` after the witnesses' time stops the cursor like a refusal.
 * The watcher makes this node's witness follow each peer's log; the
 * hinter, when this node's checkpoint grows, first asks the peers'
 * witnesses to cosign it (cosign.c), then hints.
 *
 * Push hints (docs/federation.md, section 5): a hinter thread watches
 * this node's published checkpoint and, when it grows, POSTs
 * /federation/hint?origin=<us>&size=N to every peer (short timeouts, one
 * peer after another); a peer's cy_sync_hint wakes the worker of that
 * origin, which pulls at once instead of at the end of its poll interval.
 * Hints only move a pull earlier: pulling stays the source of truth, and
 * hints arriving during a pull fold into one more pull.
 * An error is written to the peer's row (`comity peer list`) and the pull
 * retried after a back-off doubling from CY_SYNC_BACKOFF_MIN_MS to
 * CY_SYNC_BACKOFF_MAX_MS; an origin with nothing new is asked again after
 * CY_SYNC_POLL_MS.  The cursor moves only after its records are durable,
 * so a crash or a stop at any point repeats at most part of one page
 * (intake answers "stored before" for those) and misses nothing.
 *
 * The federation's own records (docs/federation.md, sections 1 and 11):
 * a log succession in a page is followed before it is submitted
 * (follow_succession, unless the roster policy says `follow manual`), and
 * a page that brought a roster record applies the roster with `apply
 * auto` (follow_roster).
 *
 * Memory: one page at a time (CY_SYNC_PAGE_MAX bytes of answer, its parse
 * and at most CY_FED_PAGE_MAX records in intake).  Threads: a watcher that
 * starts a worker for every peer in the store (again every
 * CY_SYNC_RESCAN_MS), and the workers, each with its origin's files
 * thread (files.c: started and stopped with it, kicked after each page,
 * sharing its session cookie); all wait on one condition variable
 * that cy_sync_stop broadcasts, and a transfer in progress is aborted by
 * libcurl's progress callback once stopping.  A page being submitted is
 * waited for (intake answers within a commit), so stop leaves every
 * cursor at a page boundary.
 */
#define _GNU_SOURCE /* pthread_setname_np */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>
#include <sodium.h>

#include "crypto/note.h"
#include "stix/wrapper.h"
#include "sync/sync.h"
#include "tlog/tlog.h"

#define FED_ALIAS "federation"
#define LOGIN_BODY_MAX (64u << 10)
/* The header the node's login asks of its callers (session.c's
 * CY_UI_HEADER: no cross-site page can send it). */
#define LOGIN_HEADER "X-Comity-UI: 1"

struct worker {
    struct cy_sync *s;
    char origin[CY_PEER_ORIGIN_MAX + 1];
    pthread_t thr;
    bool started, ended;
    atomic_bool hinted; /* the origin said "new records": pull now */
    CURL *curl;
    char login_url[CY_PEER_URL_MAX + 64];
    cy_sync_files_thread *files; /* this origin's sealed files (files.c), or NULL */
};

struct cy_sync {
    cy_sync_opts o;
    char origin[128];
    pthread_mutex_t mu;
    pthread_cond_t cv;
    atomic_bool stop;
    struct worker w[CY_PEERS_MAX];
    size_t nw;
    pthread_t watcher;
    bool watching;
    pthread_t hinter;
    bool hinting;
};

/* Waits ms or until stop; returns whether stopping. */
static bool nap(struct cy_sync *s, long ms)
{
    struct timespec t = cy_sync_deadline(ms);
    pthread_mutex_lock(&s->mu);
    while (!atomic_load(&s->stop))
        if (pthread_cond_timedwait(&s->cv, &s->mu, &t) != 0)
            break;
    pthread_mutex_unlock(&s->mu);
    return atomic_load(&s->stop);
}

/* nap() for a worker: also ends when its origin hints. */
static bool nap_w(struct worker *w, long ms)
{
    struct cy_sync *s = w->s;
    struct timespec t = cy_sync_deadline(ms);
    pthread_mutex_lock(&s->mu);
    while (!atomic_load(&s->stop) && !atomic_load(&w->hinted))
        if (pthread_cond_timedwait(&s->cv, &s->mu, &t) != 0)
            break;
    pthread_mutex_unlock(&s->mu);
    return atomic_load(&s->stop);
}

/* ---- HTTP ------------------------------------------------------------------ */

struct body {
    cy_buf b;
    bool over;
};

static size_t on_data(char *p, size_t sz, size_t n, void *ctx)
{
    struct body *bd = ctx;
    if (cy_buf_append(&bd->b, p, sz * n) != COMITY_OK) {
        bd->over = true;
        return 0; /* aborts the transfer */
    }
    return sz * n;
}

static int on_progress(void *ctx, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    struct worker *w = ctx;
    return atomic_load(&w->s->stop) ? 1 : 0;
}

/* One request; OUT *status and the answer in bd (capped at `cap`). */
static comity_err http(struct worker *w, const char *method, const char *url, const char *body,
                       bool login, size_t cap, long *status, struct body *bd,
                       comity_error *err)
{
    CURL *c = w->curl;
    struct curl_slist *h = NULL;
    h = curl_slist_append(h, login ? "Accept: application/json"
                                   : "Accept: application/taxii+json;version=2.1");
    if (login) {
        h = curl_slist_append(h, "Content-Type: application/json");
        h = curl_slist_append(h, LOGIN_HEADER);
    }
    cy_buf_init(&bd->b, cap);
    bd->over = false;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPGET, body ? 0L : 1L);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
    }
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, bd);
    CURLcode cc = curl_easy_perform(c);
    curl_slist_free_all(h);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, NULL);
    if (cc != CURLE_OK) {
        cy_buf_free(&bd->b);
        if (bd->over)
            return cy_fail(err, COMITY_ERR_TOOBIG, "%s: the answer is larger than %zu bytes",
                           url, cap);
        return cy_fail(err, COMITY_ERR_IO, "%s: %s", url, cy_sync_curl_why(cc));
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    /* a NUL after the answer (not counted), for messages that quote it */
    if (cy_buf_append(&bd->b, "", 1) == COMITY_OK)
        bd->b.len--;
    return COMITY_OK;
}

/* Logs in at the peer with this node's key (session.c's signed challenge). */
static comity_err login(struct worker *w, const char *url, comity_error *err)
{
    struct cy_sync *s = w->s;
    char path[CY_PEER_URL_MAX + 64], party[COMITY_PARTY_MAX + 1];
    if (strlen(s->origin) > CY_PEER_ORIGIN_MAX)
        return cy_fail(err, COMITY_ERR_USAGE, "login: this node's origin is over %d bytes, too "
                       "long for a peer", CY_PEER_ORIGIN_MAX);
    snprintf(party, sizeof party, CY_PEER_PREFIX "%.*s", CY_PEER_ORIGIN_MAX, s->origin);
    json_t *req = json_pack("{s:s}", "party", party);
    char *rb = req ? json_dumps(req, JSON_COMPACT) : NULL;
    json_decref(req);
    if (!rb)
        return cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    struct body bd;
    long st = 0;
    snprintf(path, sizeof path, "%s/v1/session/challenge", url);
    comity_err rc = http(w, "POST", path, rb, true, LOGIN_BODY_MAX, &st, &bd, err);
    free(rb);
    if (rc) {
        cy_buf_free(&bd.b);
        return rc;
    }
    json_t *v = st == 200 ? json_loadb((const char *)bd.b.data, bd.b.len, 0, NULL) : NULL;
    cy_buf_free(&bd.b);
    const char *text = json_string_value(json_object_get(v, "challenge"));
    const char *nonce = json_string_value(json_object_get(v, "nonce"));
    if (!text || !nonce) {
        json_decref(v);
        return cy_fail(err, COMITY_ERR_DENIED, "login at %s: challenge refused (HTTP %ld): is "
                       "this node pinned there as a peer?", url, st);
    }
    char *note = NULL;
    size_t nlen = 0;
    const comity_nkey *keys[1] = {s->o.key};
    cy_note *n = cy_malloc(sizeof *n);
    rc = n ? comity_note_sign(text, strlen(text), keys, 1, &note, &nlen, err)
           : cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    if (!rc && (rc = cy_note_parse(note, nlen, n, err)) == COMITY_OK && n->nsigs != 1)
        rc = cy_fail(err, COMITY_ERR_INTERNAL, "login: the signed challenge has %zu signatures",
                     n->nsigs);
    char sig[128] = "";
    if (!rc)
        cy_b64_encode(sig, sizeof sig, n->sigs[0].sig, n->sigs[0].sig_len, CY_B64_STD);
    cy_free(n);
    comity_free(note);
    json_t *lb = rc ? NULL : json_pack("{s:s, s:s, s:s}", "party", party, "nonce", nonce,
                                       "signature", sig);
    json_decref(v);
    if (rc)
        return rc;
    rb = lb ? json_dumps(lb, JSON_COMPACT) : NULL;
    json_decref(lb);
    if (!rb)
        return cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    snprintf(path, sizeof path, "%s/v1/session", url);
    rc = http(w, "POST", path, rb, true, LOGIN_BODY_MAX, &st, &bd, err);
    free(rb);
    cy_buf_free(&bd.b);
    if (rc)
        return rc;
    if (st != 201)
        return cy_fail(err, COMITY_ERR_DENIED, "login at %s refused (HTTP %ld): is our node "
                       "key the one pinned there?", url, st);
    return COMITY_OK;
}

/* ---- one page ------------------------------------------------------------------ */

struct cons_ctx {
    struct worker *w;
    const char *url;
};

/* GET /federation/consistency/OLD/SIZE: base64 hashes, one a line. */
static comity_err fetch_consistency(void *ctx, uint64_t old, uint64_t size, uint8_t **hashes,
                                    size_t *n, comity_error *err)
{
    struct cons_ctx *c = ctx;
    char path[CY_PEER_URL_MAX + 96];
    snprintf(path, sizeof path, "%s/federation/consistency/%llu/%llu", c->url,
             (unsigned long long)old, (unsigned long long)size);
    struct body bd;
    long st = 0;
    comity_err rc = http(c->w, "GET", path, NULL, false, 64 * 128, &st, &bd, err);
    if (rc)
        return rc;
    *hashes = NULL;
    *n = 0;
    if (st != 200) {
        cy_buf_free(&bd.b);
        return cy_fail(err, COMITY_ERR_IO, "%s: HTTP %ld", path, st);
    }
    size_t max = 128;
    uint8_t *h = cy_calloc(max, COMITY_TLOG_HASH);
    const char *p = (const char *)bd.b.data, *end = p + bd.b.len;
    while (h && p < end && !rc) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl || *n == max || !cy_parse_hash(p, (size_t)(nl - p), h + *n * COMITY_TLOG_HASH))
            rc = cy_fail(err, COMITY_ERR_INVALID, "%s: not base64 hash lines", path);
        else
            (*n)++;
        p = nl ? nl + 1 : end;
    }
    cy_buf_free(&bd.b);
    if (!h)
        return cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    if (rc) {
        cy_free(h);
        *n = 0;
        return rc;
    }
    *hashes = h;
    return COMITY_OK;
}

/* GET URL + path with the worker's session (firstseen.c's cy_sync_get_fn). */
static comity_err get_path(void *ctx, const char *pq, size_t cap, long *status, char **body,
                           size_t *len, comity_error *err)
{
    struct cons_ctx *c = ctx;
    char path[CY_PEER_URL_MAX + 256];
    snprintf(path, sizeof path, "%s%s", c->url, pq);
    struct body bd;
    comity_err rc = http(c->w, "GET", path, NULL, false, cap, status, &bd, err);
    if (rc)
        return rc;
    *len = bd.b.len;
    *body = (char *)cy_buf_detach(&bd.b, NULL);
    return *body || !*len ? COMITY_OK : cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
}

/* GET URL/federation/root/SIZE: the origin's hash of its first SIZE
 * leaves, one base64 line. */
static comity_err fetch_root(struct worker *w, const char *url, uint64_t size,
                             uint8_t out[CY_HASH], comity_error *err)
{
    char path[CY_PEER_URL_MAX + 64];
    snprintf(path, sizeof path, "%s/federation/root/%llu", url, (unsigned long long)size);
    struct body bd;
    long st = 0;
    comity_err rc = http(w, "GET", path, NULL, false, 128, &st, &bd, err);
    if (rc)
        return rc;
    const char *d = (const char *)bd.b.data;
    size_t n = bd.b.len;
    if (n && d[n - 1] == '\n')
        n--;
    if (st != 200 || !cy_parse_hash(d, n, out))
        rc = cy_fail(err, COMITY_ERR_IO, "%s: HTTP %ld, not one hash", path, st);
    cy_buf_free(&bd.b);
    return rc;
}

/* Proves a split view between `small` and `big`, two signed checkpoints of
 * `origin` (sizes m < n), with the tree of `big` that the origin serves at
 * `url`: its hash of its first m leaves and its consistency proof from m
 * to n (equivocation.c).  Keeps the proof; true when kept. */
static bool prove_split(struct worker *w, const char *origin, const char *url,
                        const comity_vkey *vk, const char *small, size_t slen, const char *big,
                        size_t blen)
{
    struct cy_sync *s = w->s;
    comity_checkpoint a, b;
    const comity_vkey *logs[1] = {vk};
    uint8_t sub[CY_HASH], *hashes = NULL;
    size_t nh = 0;
    char *eq = NULL, checked[CY_ORIGIN_MAX + 1];
    size_t eq_len = 0;
    struct cons_ctx cc = {w, url};
    bool kept = s->o.dir && comity_checkpoint_verify(small, slen, logs, 1, &a, NULL) == COMITY_OK &&
                comity_checkpoint_verify(big, blen, logs, 1, &b, NULL) == COMITY_OK &&
                a.size > 0 && a.size < b.size && !strcmp(a.origin, origin) &&
                fetch_root(w, url, a.size, sub, NULL) == COMITY_OK &&
                memcmp(sub, a.root, CY_HASH) != 0 &&
                fetch_consistency(&cc, a.size, b.size, &hashes, &nh, NULL) == COMITY_OK &&
                cy_equiv_make(s->o.key, origin, small, slen, big, blen, sub, hashes, nh, &eq,
                              &eq_len, NULL) == COMITY_OK &&
                cy_equiv_check(eq, eq_len, vk, checked, NULL) == COMITY_OK &&
                cy_equiv_keep(s->o.dir, eq, eq_len, NULL) == COMITY_OK;
    cy_free(hashes);
    comity_free(eq);
    return kept;
}

/* Intake's answers for one page. */
struct outcome {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    size_t pending;
    uint64_t first_refused; /* log index of the first refused record, or UINT64_MAX */
    char why[COMITY_ERRMSG_MAX + 64];
};

struct sub {
    struct outcome *o;
    uint64_t log_index;
    bool fresh; /* stored now (not before: a page pulled again after a crash) */
};

static void on_done(void *ctx, const cy_intake_result *res)
{
    struct sub *sb = ctx;
    struct outcome *o = sb->o;
    pthread_mutex_lock(&o->mu);
    sb->fresh = res->code == COMITY_OK && !res->existed;
    if (res->code != COMITY_OK && sb->log_index < o->first_refused) {
        o->first_refused = sb->log_index;
        snprintf(o->why, sizeof o->why, "record at index %llu refused (%s): %s",
                 (unsigned long long)sb->log_index, res->rule ? res->rule : "?",
                 res->msg ? res->msg : "");
    }
    if (--o->pending == 0)
        pthread_cond_broadcast(&o->cv);
    pthread_mutex_unlock(&o->mu);
}

/* A page whose checkpoint is not consistent with the last one accepted:
 * when the two prove a split view (equivocation.c), keep the proof (the
 * worker then pulls nothing more from that origin) and say so in err. */
static void catch_split_view(struct worker *w, const cy_peer *p, const comity_vkey *vk,
                             const cy_pull_page *pg, comity_error *err)
{
    struct cy_sync *s = w->s;
    cy_tlog_proof *pr = cy_malloc(sizeof *pr);
    char *eq = NULL, origin[CY_ORIGIN_MAX + 1];
    size_t eq_len = 0;
    comity_error e = {0};
    bool parsed = pr && s->o.dir &&
                  cy_tlog_proof_parse(pg->items[0].receipt, pg->items[0].receipt_len, pr,
                                      NULL) == COMITY_OK;
    /* of one size: the pair proves it; the page's tree larger: with its
     * nodes (prove_split); smaller: not provable from here */
    bool kept = parsed &&
                cy_equiv_make(s->o.key, p->origin, p->checkpoint, strlen(p->checkpoint),
                              pr->note, pr->note_len, NULL, NULL, 0, &eq, &eq_len,
                              &e) == COMITY_OK &&
                cy_equiv_check(eq, eq_len, vk, origin, &e) == COMITY_OK &&
                cy_equiv_keep(s->o.dir, eq, eq_len, &e) == COMITY_OK;
    if (parsed && !kept)
        kept = prove_split(w, p->origin, p->url, vk, p->checkpoint, strlen(p->checkpoint),
                           pr->note, pr->note_len);
    if (kept && err) {
        size_t l = strlen(err->msg);
        snprintf(err->msg + l, sizeof err->msg - l, " (equivocation proven and kept in "
                 "equivocations/: no more pulls from %s until the operator decides)", p->origin);
    }
    comity_free(eq);
    cy_free(pr);
}

/* A log succession record in this page, before it is submitted: followed
 * now unless the roster policy says `follow manual` (succession.c,
 * cy_succession_auto), so that its author, moved to the new log, is
 * taken from there.  Refused by the checks: logged, and intake answers. */
static void follow_succession(struct cy_sync *s, const cy_pull_item *it)
{
    bool followed = false;
    comity_error e = {0};
    if (s->o.dir && cy_succession_record_id(it->record_id) &&
        cy_succession_auto(s->o.store, s->o.dir, s->o.origin, it->envelope, it->envelope_len,
                           &followed, &e) != COMITY_OK)
        cy_log(CY_LOG_WARN, "succession.refused", NULL, 0, "log succession %s not followed: %s",
               it->record_id, e.msg);
}

/* A roster record taken in this page (a party or admission record new
 * here, below the cursor): with `apply auto` in the roster policy, the key
 * directory follows the roster now (roster.c, cy_roster_auto), so that a
 * new office's records, next in this origin's log, are taken. */
static void follow_roster(struct cy_sync *s, const cy_pull_page *pg, const struct sub *subs,
                          uint64_t cursor)
{
    bool any = false;
    for (size_t i = 0; s->o.dir && subs && i < pg->n && pg->items[i].log_index < cursor; i++)
        any = any || (subs[i].fresh && cy_roster_record_id(pg->items[i].record_id));
    bool applied = false;
    comity_error e = {0};
    if (any && cy_roster_auto(s->o.store, s->o.dir, s->o.log, comity_nkey_vkey(s->o.key),
                              s->o.origin, &applied, &e) != COMITY_OK)
        cy_log(CY_LOG_WARN, "roster.apply_failed", NULL, 0, "roster apply: %s", e.msg);
    if (applied) /* a revocation may take the effect of records folded */
        cy_intake_keys_changed(s->o.intake);
}

/* A page's records go to intake in runs of at most SUBMIT_RUN, each
 * committed as one batch (cy_intake_run): one store transaction, log
 * append and sync a run rather than one for whatever was queued each time
 * the committer looked (about 80 records).  The first half's runs are
 * committed while the second half's checks finish (struct half). */
#define SUBMIT_RUN (CY_FED_PAGE_MAX / 2)

/* A record of a page ready for intake (the page's own checks passed). */
struct pend {
    char *env; /* the worker's, then intake's */
    size_t len;
    comity_record *rec; /* likewise */
    int64_t w_ms;
    struct sub *sb;
};

/* The second half of a page's records, checked by intake on a helper
 * thread into a run of its own while the worker checks the first half:
 * intake's checks (a signature verify each) are most of a pulled
 * record's CPU, and the worker's thread alone was the pull's bottleneck
 * on two cores (bench/README.md).  The run is committed by the worker
 * after its first half's, so the page is logged in its order. */
struct half {
    cy_intake *in;
    const char *origin;
    struct pend *p;
    size_t n;
    cy_intake_run run;
};

static void submit_pend(cy_intake *in, cy_intake_run *run, const char *origin,
                        const struct pend *p)
{
    cy_intake_submit_relayed_run(in, run, p->env, p->len, p->rec, origin, p->w_ms, on_done, p->sb);
}

static void *half_main(void *arg)
{
    struct half *h = arg;
    for (size_t i = 0; i < h->n; i++)
        submit_pend(h->in, &h->run, h->origin, &h->p[i]);
    return NULL;
}

/* Below this many records a page is checked on the worker's thread
 * alone (a thread costs more than it saves). */
#define SUBMIT_PARALLEL_MIN 64

/* Hands pend[0, n) to intake and commits them in log order: the first
 * half in runs of SUBMIT_RUN from this thread, the second half checked
 * meanwhile on a helper thread (struct half) and committed last.  Every
 * record gets its callback either way. */
static void submit_page(cy_intake *in, const char *origin, struct pend *pend, size_t n)
{
    struct half h = {in, origin, NULL, 0, CY_INTAKE_RUN_INIT};
    size_t mine = n;
    pthread_t t;
    bool threaded = false;
    if (n >= SUBMIT_PARALLEL_MIN) {
        mine = n / 2;
        h.p = pend + mine;
        h.n = n - mine;
        threaded = pthread_create(&t, NULL, half_main, &h) == 0;
        if (!threaded)
            mine = n; /* no thread: all here, as before */
    }
    cy_intake_run run = CY_INTAKE_RUN_INIT;
    for (size_t i = 0; i < mine; i++) {
        submit_pend(in, &run, origin, &pend[i]);
        if (run.n >= SUBMIT_RUN)
            cy_intake_run_commit(in, &run);
    }
    cy_intake_run_commit(in, &run);
    if (threaded) {
        pthread_join(t, NULL);
        cy_intake_run_commit(in, &h.run);
    }
}

/* Pulls, checks and submits one page.  *idle: nothing new. */
static comity_err pull_page(struct worker *w, const cy_peer *p, const comity_vkey *vk,
                            const comity_policy *wpol, bool *idle, bool *unwitnessed,
                            comity_error *err)
{
    struct cy_sync *s = w->s;
    char coll[CY_UUID_BUF], path[CY_PEER_URL_MAX + 160];
    cy_collection_id(p->origin, FED_ALIAS, coll);
    snprintf(path, sizeof path, "%s/federation/collections/%s/objects/?limit=%d&next=%llu",
             p->url, coll, CY_FED_PAGE_MAX, (unsigned long long)p->cursor);
    struct body bd;
    long st = 0;
    comity_err rc = http(w, "GET", path, NULL, false, CY_SYNC_PAGE_MAX, &st, &bd, err);
    if (!rc && (st == 401 || st == 403)) { /* no session, or it expired */
        cy_buf_free(&bd.b);
        if ((rc = login(w, p->url, err)))
            return rc;
        rc = http(w, "GET", path, NULL, false, CY_SYNC_PAGE_MAX, &st, &bd, err);
    }
    if (rc)
        return rc;
    if (st != 200) {
        rc = cy_fail(err, COMITY_ERR_IO, "%s: HTTP %ld: %.200s", path, st,
                     bd.b.data ? (const char *)bd.b.data : "");
        cy_buf_free(&bd.b);
        return rc;
    }
    cy_pull_page pg;
    rc = cy_pull_page_parse((const char *)bd.b.data, bd.b.len, &pg, err);
    cy_buf_free(&bd.b);
    const char *note = NULL;
    size_t note_len = 0;
    struct cons_ctx cc = {w, p->url};
    /* a log succession followed here caps what is taken of this log (succession.c) */
    comity_succession *succ = NULL;
    if (s->o.dir)
        (void)cy_succession_find(s->o.dir, p->vkey, &succ);
    cy_origin_view ov = {vk, p->checkpoint, strlen(p->checkpoint), succ};
    if (!rc)
        rc = cy_sync_verify_page(&pg, &ov, p->cursor, fetch_consistency, &cc, &note, &note_len,
                                 err);
    comity_succession_free(succ);
    if (rc == COMITY_ERR_CONFLICT && pg.n > 0 && p->checkpoint[0])
        catch_split_view(w, p, vk, &pg, err);
    if (!rc && note_len >= CY_PEER_CKPT_MAX)
        rc = cy_fail(err, COMITY_ERR_TOOBIG, "the checkpoint of %s is over %d bytes", p->origin,
                     CY_PEER_CKPT_MAX);
    /* the witness quorum of this node's policy on the page's checkpoint
     * (witnessed.c); not met yet: the page waits, nothing is taken */
    int64_t witnessed_ms = 0;
    if (!rc && wpol && note && pg.n > 0 &&
        (rc = cy_witness_check(wpol, note, note_len, &witnessed_ms, err)) == COMITY_ERR_VERIFY)
        *unwitnessed = true;
    /* when the witnesses first saw each record (firstseen.c): W, or NULL */
    int64_t *first_w = NULL;
    if (!rc && wpol && note && pg.n > 0)
        rc = cy_firstseen_page(get_path, &cc, vk, wpol, note, note_len, &pg, &first_w, err);
    if (rc) {
        cy_pull_page_free(&pg);
        return rc;
    }
    struct outcome o = {.pending = pg.n, .first_refused = UINT64_MAX};
    pthread_mutex_init(&o.mu, NULL);
    pthread_cond_init(&o.cv, NULL);
    struct sub *subs = cy_calloc(pg.n ? pg.n : 1, sizeof *subs);
    const char **taken_ids = cy_calloc(pg.n ? pg.n : 1, sizeof *taken_ids);
    struct pend *pend = cy_calloc(pg.n ? pg.n : 1, sizeof *pend);
    size_t ntaken = 0, npend = 0;
    if (!subs || !taken_ids || !pend) {
        rc = cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
        o.pending = 0;
    }
    for (size_t i = 0; !rc && i < pg.n; i++) {
        subs[i] = (struct sub){&o, pg.items[i].log_index, false};
        comity_error ce = {0};
        if (wpol && (cy_witness_created_check(pg.items[i].rec, witnessed_ms, &ce) ||
                     cy_witness_created_behind_check(pg.items[i].rec,
                                                     first_w ? first_w[i] : 0, &ce))) {
            /* refused here as intake would refuse it: the cursor stops at it */
            pthread_mutex_lock(&o.mu);
            o.pending -= pg.n - i; /* the rest are not submitted */
            o.first_refused = pg.items[i].log_index;
            snprintf(o.why, sizeof o.why, "record at index %llu refused (witnessed-time): %s",
                     (unsigned long long)pg.items[i].log_index, ce.msg);
            pthread_mutex_unlock(&o.mu);
            break;
        }
        /* a record naming one not here yet waits for it (waiting.c) */
        if (s->o.dir && !cy_waiting_refs_here(s->o.store, pg.items[i].rec, taken_ids, ntaken)) {
            comity_err prc = cy_waiting_park(s->o.dir, p->origin, pg.items[i].log_index,
                                             pg.items[i].envelope, pg.items[i].envelope_len,
                                             first_w ? first_w[i] : 0, &ce);
            pthread_mutex_lock(&o.mu);
            if (prc) { /* over the cap, or not kept: the cursor stops here */
                o.pending -= pg.n - i;
                o.first_refused = pg.items[i].log_index;
                snprintf(o.why, sizeof o.why, "record at index %llu waits for its refs but "
                         "cannot: %s", (unsigned long long)pg.items[i].log_index, ce.msg);
            } else {
                o.pending--;
            }
            pthread_mutex_unlock(&o.mu);
            if (prc)
                break;
            continue;
        }
        taken_ids[ntaken++] = pg.items[i].record_id;
        follow_succession(s, &pg.items[i]);
        char *env = cy_malloc(pg.items[i].envelope_len + 1);
        if (!env) {
            pthread_mutex_lock(&o.mu);
            o.pending -= pg.n - i; /* the rest are not submitted */
            pthread_mutex_unlock(&o.mu);
            rc = cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
            break;
        }
        memcpy(env, pg.items[i].envelope, pg.items[i].envelope_len + 1);
        /* the record parsed by the check goes to intake with it (taken) */
        comity_record *rec = pg.items[i].rec;
        pg.items[i].rec = NULL;
        pend[npend++] = (struct pend){env, pg.items[i].envelope_len, rec,
                                      first_w ? first_w[i] : 0, &subs[i]};
    }
    submit_page(s->o.intake, p->origin, pend, npend); /* what passed, also after a break */
    cy_free(pend);
    pthread_mutex_lock(&o.mu);
    while (o.pending > 0)
        pthread_cond_wait(&o.cv, &o.mu);
    pthread_mutex_unlock(&o.mu);
    uint64_t cursor = pg.next;
    if (o.first_refused != UINT64_MAX) {
        cursor = o.first_refused;
        if (!rc)
            rc = cy_fail(err, COMITY_ERR_DENIED, "%s", o.why);
    }
    uint64_t taken = 0; /* records new here (the count `comity peer list` shows) */
    bool any_below = false;
    for (size_t i = 0; subs && i < pg.n && pg.items[i].log_index < cursor; i++) {
        taken += subs[i].fresh;
        any_below = true;
    }
    /* the records below the cursor are durable here: move it (and keep
     * the checkpoint that proved them) */
    char *cp = NULL;
    if (note && any_below && (cp = cy_malloc(note_len + 1))) {
        memcpy(cp, note, note_len);
        cp[note_len] = '\0';
    }
    comity_error ae = {0};
    /* on the row read at the start of the pull only: a peer removed and
     * added again since (another row) keeps its own cursor, and the page
     * counts for nothing (the worker drops what it parked: next turn) */
    if ((cursor > p->cursor || cp) &&
        cy_sync_peer_advance(s->o.store, p, cursor, cp, taken, &ae) != COMITY_OK && !rc)
        rc = cy_fail(err, ae.code ? ae.code : COMITY_ERR_DB, "%s", ae.msg);
    if (!rc && cursor == p->cursor && !cp)
        (void)cy_sync_peer_advance(s->o.store, p, cursor, NULL, 0, NULL); /* clears an old
                                                                            * error, notes
                                                                            * the try */
    cy_free(cp);
    follow_roster(s, &pg, subs, cursor);
    *idle = !pg.more && pg.n == 0;
    cy_free(subs);
    cy_free(taken_ids);
    cy_free(first_w);
    pthread_cond_destroy(&o.cv);
    pthread_mutex_destroy(&o.mu);
    cy_pull_page_free(&pg);
    return rc;
}

/* GETs URL/federation/WHAT, a JSON array of signed notes, with the
 * worker's session, and calls fn for each note whose origin (the text
 * from byte `skip` to the end of that line) is a peer pinned here, with
 * that peer's row and log key.  False when the request failed. */
static bool each_peer_note(struct worker *w, const cy_peer *p, const char *what, size_t cap,
                           size_t skip,
                           void (*fn)(struct worker *w, const char *note, size_t len,
                                      const cy_peer *o, const comity_vkey *vk))
{
    struct cy_sync *s = w->s;
    char path[CY_PEER_URL_MAX + 64];
    snprintf(path, sizeof path, "%s/federation/%s", p->url, what);
    struct body bd;
    long st = 0;
    if (http(w, "GET", path, NULL, false, cap, &st, &bd, NULL) != COMITY_OK)
        return false;
    json_t *a = st == 200 ? json_loadb((const char *)bd.b.data, bd.b.len, 0, NULL) : NULL;
    cy_buf_free(&bd.b);
    cy_peer *o = cy_malloc(sizeof *o);
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v) {
        const char *note = json_string_value(v);
        size_t len = json_string_length(v);
        const char *nl = note && len > skip ? memchr(note + skip, '\n', len - skip) : NULL;
        char origin[CY_PEER_ORIGIN_MAX + 1];
        comity_vkey *vk = NULL;
        if (!o || !nl || nl == note + skip || (size_t)(nl - note - skip) > CY_PEER_ORIGIN_MAX)
            continue;
        snprintf(origin, sizeof origin, "%.*s", (int)(nl - note - skip), note + skip);
        /* our own log is not a peer's: our witness and our pullers' peers
         * watch it */
        if (strcmp(origin, s->origin) != 0 &&
            cy_store_peer_get(s->o.store, origin, o, NULL) == COMITY_OK &&
            comity_vkey_parse(o->vkey, strlen(o->vkey), &vk, NULL) == COMITY_OK)
            fn(w, note, len, o, vk);
        comity_vkey_free(vk);
    }
    cy_free(o);
    json_decref(a);
    return true;
}

/* One latest checkpoint a peer holds of origin o (GET
 * /federation/checkpoints: its own and the last it accepted of each of
 * its peers), compared with the last this node accepted of it, both
 * signed by the log key pinned here: the same size with another root is
 * kept as an equivocation at once; a smaller one that this node's larger
 * view does not extend is proven with the origin's own hashes
 * (prove_split) and kept; a larger one is left to the nodes whose view it
 * is (they get ours the same way). */
static void gossip_checkpoint(struct worker *w, const char *note, size_t len, const cy_peer *o,
                              const comity_vkey *vk)
{
    struct cy_sync *s = w->s;
    comity_checkpoint g, mine;
    if (!o->checkpoint[0])
        return; /* nothing accepted of it yet */
    const comity_vkey *logs[1] = {vk};
    size_t mlen = strlen(o->checkpoint);
    if (comity_checkpoint_verify(note, len, logs, 1, &g, NULL) != COMITY_OK ||
        comity_checkpoint_verify(o->checkpoint, mlen, logs, 1, &mine, NULL) != COMITY_OK)
        return;
    char *eq = NULL, checked[CY_ORIGIN_MAX + 1];
    size_t eq_len = 0;
    if (g.size == mine.size && memcmp(g.root, mine.root, CY_HASH) &&
        cy_equiv_make(s->o.key, o->origin, o->checkpoint, mlen, note, len, NULL, NULL, 0, &eq,
                      &eq_len, NULL) == COMITY_OK &&
        cy_equiv_check(eq, eq_len, vk, checked, NULL) == COMITY_OK)
        (void)cy_equiv_keep(s->o.dir, eq, eq_len, NULL);
    else if (g.size < mine.size)
        (void)prove_split(w, o->origin, o->url, vk, note, len, o->checkpoint, mlen);
    comity_free(eq);
}

/* One equivocation a peer keeps (GET /federation/equivocations) against
 * origin o: kept here too when it proves a split view under the log key
 * pinned here (so this node stops pulling from that origin even when its
 * own view was never split). */
static void gossip_equivocation(struct worker *w, const char *note, size_t len,
                                const cy_peer *o, const comity_vkey *vk)
{
    char checked[CY_ORIGIN_MAX + 1];
    if (cy_equiv_check(note, len, vk, checked, NULL) == COMITY_OK && !strcmp(checked, o->origin))
        (void)cy_equiv_keep(w->s->o.dir, note, len, NULL);
}

/* Asks the peer for the equivocations it keeps, then for its latest
 * checkpoints, each against an origin this node pins. */
static void gossip(struct worker *w, const cy_peer *p)
{
    if (each_peer_note(w, p, "equivocations", (size_t)CY_EQUIV_KEPT_MAX * CY_EQUIV_MAX / 16,
                       sizeof "comity equivocation v1\n" - 1, gossip_equivocation))
        (void)each_peer_note(w, p, "checkpoints",
                             (size_t)(CY_PEERS_MAX + 1) * CY_PEER_CKPT_MAX * 2, 0,
                             gossip_checkpoint);
}

/* ---- records waiting for their refs (waiting.c) -------------------------------- */

struct release {
    struct worker *w;
    const char *origin;
    size_t released;
    char error[COMITY_ERRMSG_MAX + 512];
};

/* Submits one waiting record once its refs are here (or it waited long
 * enough), with the W it was parked with, waits for intake's answer, and
 * forgets the file once taken. */
static int release_one(void *ctx, const char *path, const char *env, size_t len, int64_t waited,
                       int64_t w_ms)
{
    struct release *r = ctx;
    struct cy_sync *s = r->w->s;
    if (atomic_load(&s->stop))
        return 1;
    /* one that does not parse has no refs to wait for: intake refuses it */
    comity_record *rec = NULL;
    if (comity_record_parse(env, len, &rec, NULL) == COMITY_OK && waited < CY_SYNC_REFS_WAIT_MS &&
        !cy_waiting_refs_here(s->o.store, rec, NULL, 0)) {
        comity_record_free(rec);
        return 0;
    }
    char *copy = cy_malloc(len + 1);
    if (!copy) {
        comity_record_free(rec);
        return 1;
    }
    memcpy(copy, env, len);
    copy[len] = '\0';
    struct outcome o = {.pending = 1, .first_refused = UINT64_MAX};
    pthread_mutex_init(&o.mu, NULL);
    pthread_cond_init(&o.cv, NULL);
    struct sub sb = {&o, 0, false};
    if (rec) { /* with the W it was parked with: a run of one */
        cy_intake_run run = CY_INTAKE_RUN_INIT;
        cy_intake_submit_relayed_run(s->o.intake, &run, copy, len, rec, r->origin, w_ms, on_done,
                                     &sb);
        cy_intake_run_commit(s->o.intake, &run);
    } else
        cy_intake_submit_relayed(s->o.intake, copy, len, r->origin, on_done, &sb);
    pthread_mutex_lock(&o.mu);
    while (o.pending > 0)
        pthread_cond_wait(&o.cv, &o.mu);
    pthread_mutex_unlock(&o.mu);
    pthread_cond_destroy(&o.cv);
    pthread_mutex_destroy(&o.mu);
    if (o.first_refused == UINT64_MAX) {
        (void)remove(path); /* durable here now: the file's job is done */
        r->released++;
    } else {
        snprintf(r->error, sizeof r->error, "a record waiting for its refs was refused "
                 "(%.150s): kept in %.300s", o.why, path);
    }
    return 0;
}

static void release_waiting(struct worker *w, const cy_peer *p)
{
    struct release r = {w, p->origin, 0, ""};
    (void)cy_waiting_each(w->s->o.dir, p->origin, release_one, &r, NULL, NULL);
    if (r.error[0])
        (void)cy_store_peer_note_row(w->s->o.store, p->origin, p->added_us, r.error,
                                     cy_now_ms() * 1000, NULL);
}

/* Whether the peer's row is still the one `p` was read from. */
static bool same_row(struct cy_sync *s, const cy_peer *p)
{
    cy_peer now;
    comity_error e = {0};
    comity_err rc = cy_store_peer_get(s->o.store, p->origin, &now, &e);
    return rc ? rc != COMITY_ERR_NOTFOUND : now.added_us == p->added_us;
}

/* Drops the records of `origin` that wait for their refs, for a peer
 * removed (`why`), and says how many went. */
static void drop_parked(struct cy_sync *s, const char *origin, const char *why)
{
    size_t n = 0;
    comity_error e = {0};
    if (!s->o.dir)
        return;
    if (cy_waiting_forget(s->o.dir, origin, &n, &e) != COMITY_OK)
        cy_log(CY_LOG_WARN, "sync.waiting_kept", NULL, 0, "peer %s %s: its records waiting "
               "for their refs not all dropped: %s", origin, why, e.msg);
    else if (n)
        cy_log(CY_LOG_INFO, "sync.waiting_dropped", NULL, 0, "peer %s %s: %zu record%s "
               "waiting for refs dropped", origin, why, n, n == 1 ? "" : "s");
}

/* ---- threads ------------------------------------------------------------------ */

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct cy_sync *s = w->s;
    pthread_setname_np(pthread_self(), "comity-pull");
    long backoff = 0, wwait = 0;
    int64_t next_gossip = 0, row = 0; /* row: the peer row's added_us last pulled for */
    bool removed = false;
    /* sealed files: their own thread (files.c), which keeps why it did not
     * start, and is started again after a back-off while this one runs */
    cy_sync_files_env fe = {s->o.dir, s->o.store, s->o.files, &s->stop};
    cy_sync_files_retry fr = {0, 0};
    w->curl = curl_easy_init();
    if (w->curl && s->o.files && s->o.dir)
        (void)cy_sync_files_thread_retry(&fe, w->origin, &fr, cy_now_ms(), &w->files);
    if (w->curl) { /* the session shared with the files thread, if any */
        cy_sync_curl_session(w->curl, cy_sync_files_thread_share(w->files));
        curl_easy_setopt(w->curl, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(w->curl, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(w->curl, CURLOPT_XFERINFODATA, w);
    }
    while (w->curl && !atomic_load(&s->stop)) {
        atomic_store(&w->hinted, false); /* this pull answers every hint so far */
        cy_peer p;
        comity_error e = {0};
        if (cy_store_peer_get(s->o.store, w->origin, &p, &e) == COMITY_ERR_NOTFOUND) {
            removed = true;
            break;
        }
        /* the row read, on which this pull's error is noted (0: the store
         * did not read it, p is unset, and its error goes on any row) */
        const int64_t read_row = e.code ? 0 : p.added_us;
        if (!e.code && row && p.added_us != row) {
            /* removed and added again since the last pull: what that pull
             * parked after `peer remove` swept waiting/ goes (its cursor
             * write was refused: cy_sync_peer_advance), and the new row
             * starts afresh */
            drop_parked(s, w->origin, "added again");
            backoff = wwait = 0;
        }
        if (!e.code)
            row = p.added_us;
        if (s->o.files && s->o.dir && !w->files &&
            cy_sync_files_thread_retry(&fe, w->origin, &fr, cy_now_ms(), &w->files))
            cy_sync_curl_session(w->curl, cy_sync_files_thread_share(w->files));
        comity_vkey *vk = NULL;
        comity_policy *wpol = NULL;
        bool idle = false, unwitnessed = false;
        comity_err rc = e.code ? e.code
                               : comity_vkey_parse(p.vkey, strlen(p.vkey), &vk, &e);
        char pin[CY_TLS_PIN_BUF]; /* the peer's TLS key pin, read again each pull (tlspin.c) */
        if (!rc)
            rc = cy_sync_pin_get(s->o.dir, p.origin, pin, &e);
        cy_sync_curl_tls(w->curl, rc ? "" : pin);
        if (!rc && s->o.dir)
            rc = cy_witness_policy_load(s->o.dir, &wpol, &e);
        if (!rc && s->o.dir)
            release_waiting(w, &p);
        if (!rc && s->o.dir && cy_equiv_against(s->o.dir, p.origin))
            rc = cy_fail(&e, COMITY_ERR_CONFLICT, "split view of %s proven (equivocations/): "
                         "no more pulls from it until the operator decides", p.origin);
        if (!rc)
            rc = pull_page(w, &p, vk, wpol, &idle, &unwitnessed, &e);
        if (!rc) /* sealed files of what was taken: a turn of the files thread */
            cy_sync_files_thread_kick(w->files);
        comity_vkey_free(vk);
        comity_policy_free(wpol);
        if (!e.code && s->o.dir && (idle || rc) && cy_now_ms() >= next_gossip) {
            gossip(w, &p);
            next_gossip = cy_now_ms() + CY_SYNC_GOSSIP_MS;
        }
        if (atomic_load(&s->stop))
            break;
        if (rc && read_row && !same_row(s, &p))
            continue; /* removed, or added again, during the pull: its error is not
                       * the new row's, and the next turn sees which */
        if (rc && unwitnessed) {
            /* the origin asks its witnesses after each checkpoint and hints
             * once they answered: wait for that, shortly, not in back-off */
            (void)cy_store_peer_note_row(s->o.store, w->origin, read_row, e.msg,
                                         cy_now_ms() * 1000, NULL);
            wwait = wwait ? wwait * 2 : CY_SYNC_WITNESS_WAIT_MS;
            if (wwait > CY_SYNC_POLL_MS * 5)
                wwait = CY_SYNC_POLL_MS * 5;
            if (nap_w(w, wwait))
                break;
            continue;
        }
        wwait = 0;
        if (rc) {
            (void)cy_store_peer_note_row(s->o.store, w->origin, read_row, e.msg,
                                         cy_now_ms() * 1000, NULL);
            backoff = backoff ? backoff * 2 : CY_SYNC_BACKOFF_MIN_MS;
            if (backoff > CY_SYNC_BACKOFF_MAX_MS)
                backoff = CY_SYNC_BACKOFF_MAX_MS;
            if (nap(s, backoff))
                break;
            continue;
        }
        backoff = 0;
        if (idle && nap_w(w, CY_SYNC_POLL_MS))
            break;
    }
    if (w->curl)
        curl_easy_cleanup(w->curl);
    w->curl = NULL;
    cy_sync_files_thread_stop(w->files); /* after the handle that shares its cookies */
    w->files = NULL;
    if (removed) { /* what a pull under way parked after `peer remove` swept, and the
                    * files thread's error of a start that failed (no thread to sweep) */
        drop_parked(s, w->origin, "removed");
        (void)cy_sync_files_forget(s->o.dir, w->origin, NULL);
    }
    pthread_mutex_lock(&s->mu);
    w->ended = true;
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

struct origins {
    char name[CY_PEERS_MAX][CY_PEER_ORIGIN_MAX + 1];
    const char *v[CY_PEERS_MAX];
    size_t n;
    bool over;
};

static int start_one(const cy_peer *p, void *ctx)
{
    struct cy_sync *s = ctx;
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < s->nw; i++)
        if (!strcmp(s->w[i].origin, p->origin) && !s->w[i].ended) {
            pthread_mutex_unlock(&s->mu);
            return 0; /* running */
        }
    struct worker *w = NULL;
    for (size_t i = 0; i < s->nw && !w; i++)
        if (s->w[i].ended) { /* a slot whose peer was removed */
            pthread_join(s->w[i].thr, NULL);
            w = &s->w[i];
        }
    if (!w && s->nw < CY_PEERS_MAX)
        w = &s->w[s->nw++];
    if (w && s->o.witness) /* this node witnesses its peer's log (tlog-witness) */
        (void)comity_witness_add_log(s->o.witness, p->vkey, NULL);
    if (w) {
        memset(w, 0, sizeof *w);
        w->s = s;
        snprintf(w->origin, sizeof w->origin, "%s", p->origin);
        w->started = pthread_create(&w->thr, NULL, worker_main, w) == 0;
        w->ended = !w->started;
    }
    pthread_mutex_unlock(&s->mu);
    return 0;
}

static int peer_origin(const cy_peer *p, void *ctx)
{
    struct origins *o = ctx;
    if (o->n == CY_PEERS_MAX) {
        o->over = true; /* not all of them: nothing is dropped */
        return 1;
    }
    snprintf(o->name[o->n], sizeof o->name[0], "%s", p->origin);
    o->v[o->n] = o->name[o->n];
    o->n++;
    return 0;
}

/* At start, before any worker: the waiting records of origins no peer row
 * names (a peer removed while a pull parked one, then a kill before its
 * worker's next turn) go. */
static void drop_orphans(struct cy_sync *s)
{
    struct origins *o = cy_calloc(1, sizeof *o);
    size_t n = 0;
    if (o && s->o.dir && cy_store_peer_list(s->o.store, peer_origin, o, NULL) == COMITY_OK &&
        !o->over && cy_waiting_keep_only(s->o.dir, o->v, o->n, &n, NULL) == COMITY_OK && n)
        cy_log(CY_LOG_INFO, "sync.waiting_dropped", NULL, 0, "%zu record%s waiting for refs "
               "of peers removed dropped", n, n == 1 ? "" : "s");
    cy_free(o);
}

static void *watcher_main(void *arg)
{
    struct cy_sync *s = arg;
    pthread_setname_np(pthread_self(), "comity-peers");
    drop_orphans(s);
    do {
        (void)cy_store_peer_list(s->o.store, start_one, s, NULL);
    } while (!nap(s, CY_SYNC_RESCAN_MS));
    return NULL;
}

/* The syncs running in this process: a hint (an HTTP handler) may race
 * with cy_sync_stop, so it touches a sync only while it is listed here. */
static pthread_mutex_t live_mu = PTHREAD_MUTEX_INITIALIZER;
static struct cy_sync *live[8];

static void live_set(struct cy_sync *s, bool on)
{
    pthread_mutex_lock(&live_mu);
    for (size_t i = 0; i < CY_ARRAY_LEN(live); i++)
        if (on ? !live[i] : live[i] == s) {
            live[i] = on ? s : NULL;
            break;
        }
    pthread_mutex_unlock(&live_mu);
}

comity_err cy_sync_hint(cy_sync *s, const char *origin)
{
    comity_err rc = COMITY_ERR_NOTFOUND;
    pthread_mutex_lock(&live_mu);
    bool alive = false;
    for (size_t i = 0; s && i < CY_ARRAY_LEN(live); i++)
        alive |= live[i] == s;
    if (!alive) {
        pthread_mutex_unlock(&live_mu);
        return rc;
    }
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < s->nw; i++)
        if (!s->w[i].ended && !strcmp(s->w[i].origin, origin)) {
            atomic_store(&s->w[i].hinted, true);
            pthread_cond_broadcast(&s->cv);
            rc = COMITY_OK;
        }
    pthread_mutex_unlock(&s->mu);
    pthread_mutex_unlock(&live_mu);
    return rc;
}

static size_t discard(char *p, size_t sz, size_t n, void *ctx)
{
    (void)p;
    (void)ctx;
    return sz * n;
}

struct hint_ctx {
    CURL *c;
    const char *dir;
    const char *origin;
    uint64_t size;
};

static int hint_one(const cy_peer *p, void *ctx)
{
    struct hint_ctx *h = ctx;
    char url[CY_PEER_URL_MAX + 256];
    snprintf(url, sizeof url, "%s/federation/hint?origin=%s&size=%llu", p->url, h->origin,
             (unsigned long long)h->size);
    char pin[CY_TLS_PIN_BUF];
    if (cy_sync_pin_get(h->dir, p->origin, pin, NULL) != COMITY_OK)
        return 0; /* a malformed pins file: no call (its pulls say why) */
    cy_sync_curl_tls(h->c, pin);
    curl_easy_setopt(h->c, CURLOPT_URL, url);
    (void)curl_easy_perform(h->c); /* a hint lost is a pull a poll later */
    return 0;
}

/* Tells every peer "new records up to N" when this node's published
 * checkpoint grows (checked every CY_SYNC_HINT_CHECK_MS). */
static void *hinter_main(void *arg)
{
    struct cy_sync *s = arg;
    pthread_setname_np(pthread_self(), "comity-hint");
    CURL *c = curl_easy_init();
    uint64_t last = 0;
    bool first = true;
    cy_cosigner *cs = NULL;
    int64_t next_round = 0;
    (void)cy_cosigner_new(s->o.store, s->o.log, s->o.dir, &cs, NULL);
    if (c) {
        curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)CY_SYNC_HINT_TIMEOUT_MS);
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)CY_SYNC_HINT_TIMEOUT_MS);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
        curl_easy_setopt(c, CURLOPT_USERAGENT, "comity-sync");
    }
    while (c && !nap(s, CY_SYNC_HINT_CHECK_MS)) {
        uint64_t size = 0;
        if (comity_log_read_checkpoint(s->o.log, NULL, NULL, &size, NULL, NULL) != COMITY_OK)
            continue;
        /* the peers' witnesses cosign first (cosign.c), so that a hint
         * brings pullers to a checkpoint that meets their quorum; witnesses
         * that failed are asked again after their back-off */
        if (cs && (size > last || cy_now_ms() >= next_round)) {
            (void)cy_cosigner_round(cs, &s->stop);
            next_round = cy_now_ms() + CY_COSIGN_BACKOFF_MIN_MS;
        }
        if (first || size <= last) { /* peers pull what was there at start by themselves */
            first = false;
            last = size > last ? size : last;
            continue;
        }
        last = size;
        struct hint_ctx h = {c, s->o.dir, s->origin, size};
        (void)cy_store_peer_list(s->o.store, hint_one, &h, NULL);
    }
    if (c)
        curl_easy_cleanup(c);
    cy_cosigner_free(cs);
    return NULL;
}

comity_err cy_sync_start(const cy_sync_opts *o, cy_sync **out, comity_error *err)
{
    if (!o->store || !o->intake || !o->key || !o->origin)
        return cy_fail(err, COMITY_ERR_USAGE, "sync: store, intake, key and origin needed");
    /* a malformed pins file is refused before any peer is called */
    comity_err rc = o->dir ? cy_sync_pins_check(o->dir, err) : COMITY_OK;
    if (rc)
        return rc;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return cy_fail(err, COMITY_ERR_INTERNAL, "sync: libcurl does not start");
    struct cy_sync *s = cy_calloc(1, sizeof *s);
    if (!s) {
        curl_global_cleanup();
        return cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    }
    s->o = *o;
    snprintf(s->origin, sizeof s->origin, "%s", o->origin);
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    atomic_init(&s->stop, false);
    if (pthread_create(&s->watcher, NULL, watcher_main, s) != 0) {
        curl_global_cleanup();
        pthread_cond_destroy(&s->cv);
        pthread_mutex_destroy(&s->mu);
        cy_free(s);
        return cy_fail(err, COMITY_ERR_INTERNAL, "sync: cannot start a thread");
    }
    s->watching = true;
    if (o->log)
        s->hinting = pthread_create(&s->hinter, NULL, hinter_main, s) == 0;
    live_set(s, true); /* more than 8 syncs at once in a process: no hints for the 9th */
    *out = s;
    return COMITY_OK;
}

void cy_sync_stop(cy_sync *s)
{
    if (!s)
        return;
    live_set(s, false); /* no hint touches it from here */
    pthread_mutex_lock(&s->mu);
    atomic_store(&s->stop, true);
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    if (s->watching)
        pthread_join(s->watcher, NULL); /* no worker starts after this */
    if (s->hinting)
        pthread_join(s->hinter, NULL);
    for (size_t i = 0; i < s->nw; i++)
        if (s->w[i].started)
            pthread_join(s->w[i].thr, NULL);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    cy_free(s);
    curl_global_cleanup(); /* balances cy_sync_start's init */
}
