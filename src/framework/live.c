/*
 * live.c: the framework as a node runs it (see live.h).
 *
 * One comity_framework handle behind a mutex.  It is the fold of the
 * stored records the framework rules, in the fold order of
 * docs/federation.md section 7: by `created`; the records of one
 * `created` (to the millisecond) in the order of their refs (a record
 * after those of its millisecond it names, the least id first among those
 * ready, the least id left when a cycle leaves none ready), in one pass,
 * then those refused tried once more in that order; a record refused at
 * its place has no effect.  Then every delivered event.  So two nodes
 * holding the same records hold the same state, whatever order the
 * records arrived in.
 *
 * The fold at start (build) walks the store twice in log order: the first
 * walk reads each record's `created`, the second parses the records and
 * keeps in a heap only those that a later record of the log precedes in
 * the fold order (the log is nearly in that order, so the heap stays
 * small); a group of one `created` is folded once no record left in the
 * walk can join it (fold_group: O(n log n), its records held as envelopes,
 * not parsed records; their refs read by the refs scanner, each record
 * parsed once, at its turn).
 *
 * Intake asks twice per record: a dry run to refuse early
 * (cy_fw_live_precheck), then the final decision in log order, before the
 * record's log entry is appended (cy_fw_live_add); the record's body is
 * parsed once, by the dry run outside the mutex, and the final decision
 * reuses it.  A record that sorts after everything folded (the common
 * case) is added on top.  One that sorts before (a relayed record older
 * than what this node folded; a local one whose `created` lags the
 * clocks of others) is added on top all the same (a local one under the
 * rules: the rules at the origin see the state as it is; a relayed one
 * has no effect where they refuse it), which is the fold's answer but for
 * order, and the state is marked for a re-fold once the committer's batch
 * is stored (cy_fw_live_done).  The re-fold is lazy: run by the next
 * reader, intake check or local record, at most once in
 * CY_FW_REFOLD_GAP_MS and then only after CY_FW_REFOLD_FACTOR times as
 * long as the last one took (a pull of many pages out of order costs one
 * re-fold; a stream of them a bounded share of the time), so that a
 * state read just after such a record may show it on top for a moment.
 * A re-fold never starts while the committer has records in flight
 * (added but not yet stored), which the store would not show yet.  It
 * folds the store into a new handle with the mutex released (the old one
 * serves meanwhile), then, under the mutex and with nothing in flight,
 * feeds the new one what was stored since its walk and swaps it in
 * (settle, swap_in): the mutex is held for what arrived meanwhile, not
 * for the store.  When records it took are not stored after all (a
 * failed commit), it is rebuilt from the store under the mutex.
 *
 * Threads: every stored record whose refs name a message joins that
 * message's thread (cy_fw_thread_note), whatever the rules make of it,
 * in the fold order: the records the framework rules and the others
 * (notes, sightings, evidence) alike, so that a thread too reads the same
 * on every node (one out of its place marks a re-fold).  The node's
 * thread endpoint reads the ids and then each record through the
 * reader's visibility, as if read one by one.
 *
 * Deliveries: a recipient's fetch of a message is its delivery.  The
 * event is stored first (once per message and party), then fed in, then
 * the node is told (cy_fw_live_on_delivered), which signs a `delivered`
 * record of it (src/node/delivery.c); a node restarted later replays the
 * event from the store.  The event is local (this node's clock), the
 * record is what every node folds alike: the record's time replaces the
 * event's (messages.c), and an event is the durable trigger of its record
 * until the record is stored (docs/federation.md section 7).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "framework/core.h"
#include "framework/live.h"
#include "record/refs_scan.h"
#include "record/signer.h"
#include "record/types.h"

/* ---- revoked signers ------------------------------------------------------------- */

/* A record whose signer's key was revoked by a record v has no effect
 * when the revocation rule says it was not signed before v
 * (cy_signed_before_revocation, record/signer.c: created(r) < revoked_at
 * and W(r) < W(v)), wherever it folds: it is not folded at all, not even
 * into a thread, as on a node that had v first and so never logged it
 * (docs/federation.md, sections 1 and 7).  A user's revocation is read
 * from the store's principal_users (revoked_at, revoked_w), an office's
 * own key's and a state key's from its principals row (revoked_at > 0,
 * revoked_w, as `roster apply` writes them): signer_revoked, the one
 * lookup.  A record without a user signer is the office's (or the
 * state's) only when its revoked key signed it: a node log key's records
 * (`delivered`, authored in a party's name) keep their effect.
 * The signer is the one intake found, kept in the record's row; a row
 * stored before signers were kept (seq <= meta signer_kept_after) has it
 * derived from its signatures, once, only when its author has a revoked
 * user.  W(r) is the one kept with a pulled record (record_witnessed), or
 * for a record logged here from the log's cosigned checkpoints
 * (cy_fw_live_set_witness), else unknown. */
struct revoked_user {
    char principal[COMITY_PARTY_MAX + 1];
    char name[CY_USER_NAME_MAX];
    char vkey[CY_VKEY_MAX];
    int64_t at_ms, w_ms; /* at_ms -1: not revoked */
};

/* A principal's own key revoked (an office's, a state key's). */
struct revoked_office {
    char name[COMITY_PARTY_MAX + 1];
    char vkey[CY_VKEY_MAX];
    int64_t at_ms, w_ms;
};

struct revs {
    /* every user's key, sorted by (principal, name), when some key is
     * revoked (else none: n 0, the common case); a name with two keys
     * (a user given a new one) is told apart by the signature */
    struct revoked_user *v;
    size_t n, cap;
    size_t nrevoked;
    struct revoked_office *o; /* the revoked principals' own keys, by name */
    size_t no, capo;
    int64_t kept_after; /* rows at or below this seq were stored without a signer */
    char gen[32];       /* the store's meta users_gen when read ("": none yet) */
    cy_fw_w_local_fn w_local;
    void *w_ctx;
    bool guessed; /* a W was taken as unknown for want of w_local */
    bool nomem;
};

static int revs_row(const cy_principal_user *u, void *ctx)
{
    struct revs *r = ctx;
    if (cy_fw_grow((void **)&r->v, &r->cap, r->n, sizeof *r->v)) {
        r->nomem = true;
        return 1;
    }
    struct revoked_user *x = &r->v[r->n++];
    snprintf(x->principal, sizeof x->principal, "%s", u->principal);
    snprintf(x->name, sizeof x->name, "%s", u->name);
    snprintf(x->vkey, sizeof x->vkey, "%s", u->vkey);
    r->nrevoked += u->revoked_ms >= 0;
    x->at_ms = u->revoked_ms;
    x->w_ms = u->revoked_w_ms;
    return 0;
}

static int revs_office(const cy_principal *p, void *ctx)
{
    struct revs *r = ctx;
    if (p->revoked_ms <= 0)
        return 0;
    if (cy_fw_grow((void **)&r->o, &r->capo, r->no, sizeof *r->o)) {
        r->nomem = true;
        return 1;
    }
    struct revoked_office *x = &r->o[r->no++];
    snprintf(x->name, sizeof x->name, "%s", p->name);
    snprintf(x->vkey, sizeof x->vkey, "%s", p->vkey);
    x->at_ms = p->revoked_ms;
    x->w_ms = p->revoked_w_ms;
    return 0;
}

static int office_cmp(const void *a, const void *b)
{
    return strcmp(((const struct revoked_office *)a)->name,
                  ((const struct revoked_office *)b)->name);
}

static int revoked_cmp(const void *a, const void *b)
{
    const struct revoked_user *x = a, *y = b;
    int c = strcmp(x->principal, y->principal);
    return c ? c : strcmp(x->name, y->name);
}

/* The store's meta users_gen into gen ("" when none: no user written). */
static void users_gen(comity_store *st, char gen[32])
{
    char *v = NULL;
    gen[0] = 0;
    if (cy_store_meta_get(st, "users_gen", &v, NULL) == COMITY_OK)
        snprintf(gen, 32, "%s", v);
    cy_free(v);
}

/* The users' keys the store holds now, when one is revoked, and the
 * principals' own keys revoked.  OUT r: revs_free. */
static comity_err revs_load(comity_store *st, struct revs *r, comity_error *err)
{
    users_gen(st, r->gen); /* before the keys: a write after it is seen as new */
    comity_err rc = cy_store_user_list(st, NULL, revs_row, r, err);
    if (!rc && !r->nomem)
        rc = cy_store_principal_list(st, revs_office, r, err);
    if (!rc && r->nomem)
        rc = cy_fw_nomem(err);
    if (!rc && !r->nrevoked)
        r->n = 0; /* nothing to weigh: one test a record */
    if (rc || (!r->n && !r->no))
        return rc;
    if (r->n)
        qsort(r->v, r->n, sizeof *r->v, revoked_cmp);
    if (r->no)
        qsort(r->o, r->no, sizeof *r->o, office_cmp);
    char *v = NULL;
    if (cy_store_meta_get(st, "signer_kept_after", &v, NULL) == COMITY_OK) {
        r->kept_after = strtoll(v, NULL, 10);
        cy_free(v);
    } else {
        r->kept_after = INT64_MAX; /* unknown: every row without a signer is derived */
    }
    return COMITY_OK;
}

static void revs_free(struct revs *r)
{
    cy_free(r->v);
    r->v = NULL;
    r->n = r->cap = r->nrevoked = 0;
    cy_free(r->o);
    r->o = NULL;
    r->no = r->capo = 0;
}

static int user_cmp(const struct revoked_user *u, const char *principal, const char *name)
{
    int c = strcmp(u->principal, principal);
    return c ? c : strcmp(u->name, name);
}

/* Whether key `vkey` (text) verifies a signature of the stored record. */
static bool key_signed(const cy_record_row *row, const char *vkey)
{
    comity_record *rec = NULL;
    comity_vkey *k = NULL;
    bool yes = comity_vkey_parse(vkey, strlen(vkey), &k, NULL) == COMITY_OK &&
               comity_record_parse(row->envelope, row->envelope_len, &rec, NULL) == COMITY_OK &&
               comity_record_verify_parsed(rec, (const comity_vkey *const *)&k, 1, NULL) ==
                   COMITY_OK;
    comity_record_free(rec);
    comity_vkey_free(k);
    return yes;
}

/* The one lookup: whether the key that signed the stored record `row` of
 * `author` was revoked (signer: the user's name; NULL: the author's own
 * key, an office's or a state's), and by when: OUT *at_ms (revoked_at),
 * *w_ms (the revocation's W; 0: unknown), *check: NULL, or the revoked
 * key (text) that must have signed the record for the rule to apply (an
 * own key: the record may be a node log key's), checked by the caller
 * only when the rule would take the record's effect (key_signed, a
 * signature check, is the dear part). */
static bool signer_revoked(const struct revs *r, const cy_record_row *row, const char *author,
                           const char *signer, int64_t *at_ms, int64_t *w_ms,
                           const char **check)
{
    *check = NULL;
    if (!signer) {
        size_t lo = 0, hi = r->no;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            int c = strcmp(r->o[mid].name, author);
            if (!c) {
                *at_ms = r->o[mid].at_ms;
                *w_ms = r->o[mid].w_ms;
                *check = r->o[mid].vkey;
                return true;
            }
            if (c < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        return false;
    }
    size_t lo = 0, hi = r->n;
    while (lo < hi) { /* the first of the user's keys */
        size_t mid = lo + (hi - lo) / 2;
        if (user_cmp(&r->v[mid], author, signer) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t end = lo, revoked = 0;
    for (; end < r->n && !user_cmp(&r->v[end], author, signer); end++)
        revoked += r->v[end].at_ms >= 0;
    if (!revoked)
        return false;
    const struct revoked_user *u = NULL;
    if (end - lo == 1)
        u = &r->v[lo];
    for (size_t i = lo; !u && i < end; i++) /* a name with keys old and new */
        if (key_signed(row, r->v[i].vkey))
            u = &r->v[i];
    if (!u || u->at_ms < 0)
        return false;
    *at_ms = u->at_ms;
    *w_ms = u->w_ms;
    return true;
}

static bool author_has_revoked(const struct revs *r, const char *author)
{
    for (size_t i = 0; i < r->n; i++)
        if (r->v[i].at_ms >= 0 && !strcmp(r->v[i].principal, author))
            return true;
    return false;
}

/* The users of one office with their keys parsed, for a signer derived
 * from a record's signatures (derive_signer); revocations left out: the
 * question is who signed, the rule is applied after. */
struct derive {
    comity_store *st;
    const char *author;
    cy_principal_user *rows;
    comity_vkey **keys;
    comity_user_key *u;
    size_t n, cap;
    bool nomem;
};

static int derive_row(const cy_principal_user *u, void *ctx)
{
    struct derive *d = ctx;
    if (cy_fw_grow((void **)&d->rows, &d->cap, d->n, sizeof *d->rows)) {
        d->nomem = true;
        return 1;
    }
    d->rows[d->n++] = *u;
    return 0;
}

static comity_err derive_load(void *ctx, const cy_signer_user **out, size_t *n,
                              comity_error *err)
{
    struct derive *d = ctx;
    comity_err rc = cy_store_user_list(d->st, d->author, derive_row, d, err);
    if (!rc && d->nomem)
        rc = cy_fw_nomem(err);
    if (!rc && d->n && (!(d->keys = cy_calloc(d->n, sizeof *d->keys)) ||
                        !(d->u = cy_calloc(d->n, sizeof *d->u))))
        rc = cy_fw_nomem(err);
    if (rc)
        return rc;
    for (size_t i = 0; i < d->n; i++) {
        const cy_principal_user *w = &d->rows[i];
        if (comity_vkey_parse(w->vkey, strlen(w->vkey), &d->keys[i], NULL) != COMITY_OK)
            d->keys[i] = NULL;
        d->u[i] = (comity_user_key){d->keys[i], w->name, -1, -1, NULL, 0};
    }
    *out = d->u;
    *n = d->n;
    return COMITY_OK;
}

/* The user who signed a row stored before signers were kept: OUT name
 * (NUL-terminated; "" when the office's key, or when it cannot be said). */
static void derive_signer(comity_store *st, const cy_record_row *row, char name[CY_USER_NAME_MAX])
{
    name[0] = 0;
    comity_record *rec = NULL;
    cy_principal p;
    comity_vkey *office = NULL;
    if (comity_record_parse(row->envelope, row->envelope_len, &rec, NULL) != COMITY_OK)
        return;
    if (cy_store_principal_get(st, row->author, &p, NULL, NULL) == COMITY_OK &&
        comity_vkey_parse(p.vkey, strlen(p.vkey), &office, NULL) != COMITY_OK)
        office = NULL;
    struct derive d = {st, row->author, NULL, NULL, NULL, 0, 0, false};
    const char *user = NULL;
    if (cy_record_signer(rec, office, derive_load, &d, &user, NULL) == COMITY_OK && user)
        snprintf(name, CY_USER_NAME_MAX, "%s", user);
    for (size_t i = 0; d.keys && i < d.n; i++)
        comity_vkey_free(d.keys[i]);
    cy_free(d.keys);
    cy_free(d.u);
    cy_free(d.rows);
    comity_vkey_free(office);
    comity_record_free(rec);
}

/* Whether the stored record `row` (with its envelope and signer) has no
 * effect because its signer was revoked before it (the rule above). */
static bool revoked_before(comity_store *st, struct revs *r, const cy_record_row *row,
                           int64_t created_ms)
{
    if (!r->n && !r->no)
        return false; /* no key revoked: the common case, one test */
    const char *signer = row->signer;
    char derived[CY_USER_NAME_MAX];
    if (!signer && row->seq <= r->kept_after && author_has_revoked(r, row->author)) {
        derive_signer(st, row, derived);
        signer = derived[0] ? derived : NULL;
    }
    int64_t at, wv;
    const char *check;
    if (!signer_revoked(r, row, row->author, signer, &at, &wv, &check))
        return false;
    int64_t wr = 0;
    if (cy_store_record_witnessed(st, row->id, &wr, NULL) != COMITY_OK) {
        wr = 0;
        if (r->w_local)
            wr = r->w_local(r->w_ctx, row->author, row->log_index);
        else
            r->guessed = true;
    }
    if (cy_signed_before_revocation(created_ms, wr, at, wv))
        return false;
    return !check || key_signed(row, check);
}

struct cy_fw_live {
    pthread_mutex_t mu;
    comity_framework *fw;
    comity_store *st; /* borrowed */
    cy_fw_table t;    /* the configured table, applied to every handle built */
    comity_identities *ids; /* the custodian's, or NULL (see below) */
    /* The fold's end (the top): the last group folded, its `created`, its
     * greatest id, whether a record of it was refused (then one more of
     * that group means a re-fold: a refused one may take effect now). */
    bool any;
    int64_t tail_ms;
    char tail_id[CY_RECORD_ID_MAX + 1];
    bool tail_refused;
    bool want;     /* a record of the committer's batch is out of order */
    bool dirty;    /* stored records are not folded in their place */
    size_t inflight; /* records the committer added, not yet stored */
    uint64_t refolds;
    int64_t next_refold_ms; /* monotonic: no lazy re-fold before (settle) */
    int64_t next_gen_ms;    /* monotonic: users_gen not compared again before */
    /* The re-fold off the lock (settle): `refolding` while it reads the
     * store; then the state it built waits in `next` (with the fold's end
     * and the last store seq it read) until nothing is in flight, and is
     * swapped in with what was stored meanwhile fed on top (swap_in).
     * `gen` grows with every rebuild: a re-fold begun before is dropped.
     * `late`: the delivered events fed meanwhile (owned). */
    bool refolding;
    uint64_t gen;
    comity_framework *next;
    int64_t next_seq;
    bool next_any, next_refused;
    int64_t next_ms;
    char next_id[CY_RECORD_ID_MAX + 1];
    struct late_ev *late;
    size_t nlate, caplate;
    /* the revoked keys the state was folded under (catch_one weighs what
     * it feeds on top by them), and those of `next` */
    struct revs revs, next_revs;
    cy_fw_w_local_fn w_local; /* cy_fw_live_set_witness: set once, before serving */
    void *w_ctx;
    /* told of each delivered event stored (cy_fw_live_on_delivered): set
     * once before any fetch, read without the lock */
    cy_fw_delivered_hook hook;
    void *hook_ctx;
};

/* A delivered event fed while a re-fold was out. */
struct late_ev {
    char id[CY_RECORD_ID_MAX + 1];
    char party[COMITY_PARTY_MAX + 1];
    int64_t at_ms;
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

/* ---- the fold ------------------------------------------------------------------- */

/* One record waiting for its place in the fold. */
/* Its envelope alone is kept (one allocation: the envelope, then its
 * id), and parsed when its group is folded, so that a large window (many
 * records of one millisecond) costs its bytes, not parsed records. */
struct pend {
    int64_t ms;
    char *env; /* owned (cy_free): len bytes, a NUL, then the id */
    size_t len;
    const char *id; /* in env's allocation */
    bool ruled;     /* of a type the framework rules (else: its thread only) */
};

struct replay {
    comity_framework *fw;
    const cy_fw_table *t;
    comity_identities *ids;
    size_t records, refused, events;
    bool quiet; /* a re-fold: what has no effect was said at start */
    /* the first walk's `created` of each record ruled here, then their
     * minimum from each one to the end */
    int64_t *after;
    size_t n, cap, k;
    /* the heap of records waiting, by (created, id) */
    struct pend *h;
    size_t nh, caph;
    struct pend *group; /* one group being folded */
    size_t capg;
    /* its order (fold_group): each member's state, the edges "a member
     * waits for the member its refs name", the members ready (a min-heap
     * of indexes, that is of ids), the order they were folded in */
    struct member *gs;
    size_t capgs;
    struct edge *edges;
    size_t ne, cape;
    uint32_t *ready;
    size_t nready, capready;
    uint32_t *order;
    size_t norder, caporder;
    cy_refs_scan scan; /* each member's refs, before it is parsed */
    /* the fold's end, as in struct cy_fw_live */
    bool any, tail_refused;
    int64_t tail_ms;
    char tail_id[CY_RECORD_ID_MAX + 1];
    bool nomem;
    int64_t seq; /* the last store seq the folding walk read */
    comity_store *st;
    struct revs revs; /* the revoked keys, read before the walks (handed to the
                       * live handle with the state: take_revs) */
    size_t lost;      /* records without effect: signed after their signer's revocation */
};

/* Whether a stored record of `type` matters to the state: one the
 * framework rules, or one whose refs may name a message (its thread). */
static bool replayed(const char *type)
{
    return comity_framework_handles(type) || cy_record_type_known(type);
}

static bool pend_less(const struct pend *a, const struct pend *b)
{
    if (a->ms != b->ms)
        return a->ms < b->ms;
    return strcmp(a->id, b->id) < 0;
}

static void heap_push(struct replay *p, struct pend x)
{
    size_t i = p->nh++;
    p->h[i] = x;
    while (i && pend_less(&p->h[i], &p->h[(i - 1) / 2])) {
        struct pend t = p->h[i];
        p->h[i] = p->h[(i - 1) / 2];
        p->h[(i - 1) / 2] = t;
        i = (i - 1) / 2;
    }
}

static struct pend heap_pop(struct replay *p)
{
    struct pend top = p->h[0];
    p->h[0] = p->h[--p->nh];
    for (size_t i = 0;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < p->nh && pend_less(&p->h[l], &p->h[m]))
            m = l;
        if (r < p->nh && pend_less(&p->h[r], &p->h[m]))
            m = r;
        if (m == i)
            break;
        struct pend t = p->h[i];
        p->h[i] = p->h[m];
        p->h[m] = t;
        i = m;
    }
    return top;
}

static void refused_note(struct replay *p, const char *id, const char *why)
{
    /* e.g. a relayed record the rules refuse at its place, or one stored
     * before this node applied the framework rules */
    if (p->refused++ < 5 && !p->quiet)
        cy_log(CY_LOG_WARN, "framework.not_replayed", (cy_log_kv[]){CY_KV_S("record", id)}, 1,
               "framework: stored record %s has no effect: %s", id, why);
}

enum { M_UNSEEN, M_WAITING, M_TAKEN, M_REFUSED };
#define NO_EDGE UINT32_MAX

struct member {
    uint32_t wait; /* the members its refs name, not yet folded */
    uint32_t head; /* the first edge of those waiting for it, or NO_EDGE */
    unsigned char st;
};

struct edge {
    uint32_t waiter, next;
};

/* A waiting record parsed: OUT (comity_record_free), or NULL with err set
 * (stored, so it parsed once: it has no effect). */
static comity_record *parse_pend(const struct pend *g, comity_error *err)
{
    comity_record *rec = NULL;
    if (comity_record_parse(g->env, g->len, &rec, err) != COMITY_OK)
        return NULL;
    return rec;
}

/* Feeds a parsed record (its own body opened for the custodian): the
 * framework's answer; err says why not.  A record joins the threads its
 * refs name when it takes effect, or when `last` (its place is final,
 * whatever the rules make of it: it is stored, and readable as such). */
static comity_err feed_one(struct replay *p, const struct pend *g, const comity_record *rec,
                           bool last, comity_error *err)
{
    char *body = NULL;
    size_t blen = 0;
    comity_err rc = COMITY_OK;
    /* a type or version this node does not know stays without effect
     * until a release that knows it starts (docs/federation.md, "Versions") */
    if (!cy_fw_knows(comity_record_type(rec), comity_record_schema(rec)))
        return COMITY_OK;
    if (g->ruled) {
        own_body(p->t, p->ids, rec, &body, &blen);
        rc = comity_framework_add(p->fw, rec, body, blen, err);
    }
    if ((!rc || last) && comity_record_refs_count(rec))
        (void)cy_fw_thread_note(p->fw, rec);
    comity_free(body);
    return rc;
}

/* A single record folded at its place (its group of one). */
static void fold_single(struct replay *p, const struct pend *g)
{
    comity_error e = {0};
    comity_record *rec = parse_pend(g, &e);
    comity_err rc = rec ? feed_one(p, g, rec, true, &e) : COMITY_ERR_INVALID;
    comity_record_free(rec);
    if (rc)
        refused_note(p, g->id, e.msg);
    else
        p->records += g->ruled;
    p->tail_refused = rc != COMITY_OK;
}

static void ready_push(struct replay *p, uint32_t x)
{
    size_t i = p->nready++;
    p->ready[i] = x;
    while (i && p->ready[i] < p->ready[(i - 1) / 2]) {
        uint32_t t = p->ready[i];
        p->ready[i] = p->ready[(i - 1) / 2];
        p->ready[(i - 1) / 2] = t;
        i = (i - 1) / 2;
    }
}

static uint32_t ready_pop(struct replay *p)
{
    uint32_t top = p->ready[0];
    p->ready[0] = p->ready[--p->nready];
    for (size_t i = 0;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < p->nready && p->ready[l] < p->ready[m])
            m = l;
        if (r < p->nready && p->ready[r] < p->ready[m])
            m = r;
        if (m == i)
            break;
        uint32_t t = p->ready[i];
        p->ready[i] = p->ready[m];
        p->ready[m] = t;
        i = m;
    }
    return top;
}

/* The index of `id` in the group (sorted by id), or NO_EDGE. */
static uint32_t member_of(const struct replay *p, size_t ng, const char *id)
{
    size_t lo = 0, hi = ng;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(p->group[mid].id, id);
        if (!c)
            return (uint32_t)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NO_EDGE;
}

/* Member i folded once (rec: it parsed, owned and freed here; NULL: it
 * did not, refused): its answer kept, and the members waiting for it
 * made ready when it was the last they waited for. */
static void fold_member(struct replay *p, uint32_t i, comity_record *rec)
{
    comity_error e = {0};
    comity_err rc = rec ? feed_one(p, &p->group[i], rec, false, &e) : COMITY_ERR_INVALID;
    comity_record_free(rec);
    p->gs[i].st = rc ? M_REFUSED : M_TAKEN;
    p->order[p->norder++] = i;
    for (uint32_t k = p->gs[i].head; k != NO_EDGE; k = p->edges[k].next) {
        uint32_t w = p->edges[k].waiter;
        if (--p->gs[w].wait == 0 && p->gs[w].st == M_WAITING)
            ready_push(p, w);
    }
}

/* Folds the members made ready, least id first (each parsed now: a
 * waiting member is held as its envelope only). */
static void drain(struct replay *p)
{
    while (p->nready) {
        uint32_t i = ready_pop(p);
        if (p->gs[i].st != M_WAITING)
            continue;
        comity_error e = {0};
        fold_member(p, i, parse_pend(&p->group[i], &e));
    }
}

/* Room for a group of ng (and its edges as they come). */
static bool group_room(struct replay *p, size_t ng)
{
    while (p->capgs < ng)
        if (cy_fw_grow((void **)&p->gs, &p->capgs, p->capgs, sizeof *p->gs))
            return false;
    while (p->capready < ng)
        if (cy_fw_grow((void **)&p->ready, &p->capready, p->capready, sizeof *p->ready))
            return false;
    while (p->caporder < ng)
        if (cy_fw_grow((void **)&p->order, &p->caporder, p->caporder, sizeof *p->order))
            return false;
    return true;
}

/* Folds the heap's first group (one `created`; popped in id order) in
 * one pass, in the order of section 7: a record after the records of its
 * group its refs name, least id first among those whose named records
 * are folded (when none is, a cycle: the least id of those left); then
 * the records the rules refused are tried once more, in the order they
 * were folded.  Each record's refs are read when it is reached in id
 * order by the refs scanner (record/refs_scan.h: the payload's `refs`
 * only, the full parser where the scanner cannot say), and the record is
 * parsed at its turn: at once if it waits for nothing; a record that
 * waits is kept as its envelope (and the indexes of what it waits for)
 * and parsed when its turn comes.  So a record is parsed once (twice if
 * refused and tried once more).  O(n log n) in the group's records and
 * refs. */
static void fold_group(struct replay *p)
{
    size_t ng = 0;
    int64_t ms = p->h[0].ms;
    while (p->nh && p->h[0].ms == ms)
        p->group[ng++] = heap_pop(p);
    p->any = true;
    p->tail_ms = ms;
    snprintf(p->tail_id, sizeof p->tail_id, "%s", p->group[ng - 1].id);
    if (ng == 1) {
        fold_single(p, &p->group[0]);
        cy_free(p->group[0].env);
        return;
    }
    if (ng > UINT32_MAX - 1 || !group_room(p, ng)) {
        p->nomem = true;
        for (size_t i = 0; i < ng; i++)
            cy_free(p->group[i].env);
        return;
    }
    for (size_t i = 0; i < ng; i++)
        p->gs[i] = (struct member){0, NO_EDGE, M_UNSEEN};
    p->ne = p->nready = p->norder = 0;
    for (uint32_t i = 0; i < ng && !p->nomem; i++) {
        /* its refs read by the scanner, the record parsed at its turn; the
         * full parser reads the refs only of what the scanner cannot say */
        comity_record *rec = NULL;
        bool parsed = false;
        comity_err sc = cy_refs_scan_envelope(&p->scan, p->group[i].env, p->group[i].len);
        if (sc == COMITY_ERR_NOMEM) {
            p->nomem = true;
            break;
        }
        if (sc) {
            comity_error e = {0};
            rec = parse_pend(&p->group[i], &e);
            parsed = true;
        }
        size_t nrefs = !parsed ? p->scan.n : rec ? comity_record_refs_count(rec) : 0;
        for (size_t r = 0; r < nrefs; r++) {
            uint32_t j =
                member_of(p, ng, !parsed ? p->scan.refs[r] : comity_record_ref(rec, r));
            if (j == NO_EDGE || j == i || p->gs[j].st == M_TAKEN || p->gs[j].st == M_REFUSED)
                continue;
            if (cy_fw_grow((void **)&p->edges, &p->cape, p->ne, sizeof *p->edges)) {
                p->nomem = true;
                break;
            }
            p->edges[p->ne] = (struct edge){i, p->gs[j].head};
            p->gs[j].head = (uint32_t)p->ne++;
            p->gs[i].wait++;
        }
        if (p->gs[i].wait == 0) {
            comity_error e = {0};
            if (!parsed)
                rec = parse_pend(&p->group[i], &e);
            fold_member(p, i, rec);
            drain(p);
        } else {
            p->gs[i].st = M_WAITING;
            comity_record_free(rec);
        }
    }
    /* what still waits waits in a cycle (ids are chosen by their signers):
     * the least id first, then what it frees */
    for (uint32_t i = 0; i < ng && !p->nomem; i++) {
        if (p->gs[i].st != M_WAITING)
            continue;
        comity_error e = {0};
        fold_member(p, i, parse_pend(&p->group[i], &e));
        drain(p);
    }
    /* the refused once more, in their order: a record whose body names
     * another of its millisecond (a listing its vendor) takes effect */
    bool refused = false;
    for (size_t k = 0; k < p->norder && !p->nomem; k++) {
        uint32_t i = p->order[k];
        struct pend *g = &p->group[i];
        if (p->gs[i].st == M_TAKEN) {
            p->records += g->ruled;
            continue;
        }
        comity_error e = {0};
        comity_record *rec = parse_pend(g, &e);
        comity_err rc = rec ? feed_one(p, g, rec, true, &e) : COMITY_ERR_INVALID;
        comity_record_free(rec);
        if (rc) {
            refused = true;
            refused_note(p, g->id, e.msg);
        } else {
            p->records += g->ruled;
        }
    }
    p->tail_refused = refused;
    for (size_t i = 0; i < ng; i++)
        cy_free(p->group[i].env);
}

/* A row's `created` in ms: the store's created_ms (the fold's walks read
 * it beside the row: intake stores comity_record_created_ms). */
static int64_t row_ms(const cy_record_row *row) { return row->created_ms; }

/* The first walk: each ruled record's `created`, in log order (rows
 * without their envelopes). */
static int walk_times(const cy_record_row *row, void *ctx)
{
    struct replay *p = ctx;
    if (!replayed(row->type))
        return 0;
    if (cy_fw_grow((void **)&p->after, &p->cap, p->n, sizeof *p->after)) {
        p->nomem = true;
        return 1;
    }
    p->after[p->n++] = row_ms(row);
    return 0;
}

/* The second walk: each ruled record into the heap, then every group no
 * record left can join folded. */
static int walk_fold(const cy_record_row *row, void *ctx)
{
    struct replay *p = ctx;
    if (row->seq > p->seq)
        p->seq = row->seq;
    if (!replayed(row->type))
        return 0;
    size_t k = p->k++; /* the first walk's row k */
    if (!row->envelope)
        return 0;
    int64_t ms = row_ms(row);
    if (revoked_before(p->st, &p->revs, row, ms)) {
        /* signed after its signer's revocation: as if never logged here
         * (its `created` stays in the first walk's times: a bound only) */
        p->lost++;
        refused_note(p, row->id, "its signer's key was revoked before it");
        return 0;
    }
    if (!p->nh && k + 1 < p->n && ms < p->after[k + 1]) {
        /* alone in its group, and in its place (the common case): folded
         * from the row, without a copy */
        struct pend x = {ms, (char *)row->envelope, row->envelope_len, row->id,
                         comity_framework_handles(row->type)};
        p->any = true;
        p->tail_ms = ms;
        snprintf(p->tail_id, sizeof p->tail_id, "%s", row->id);
        fold_single(p, &x);
        return 0;
    }
    /* verified when it was received; parsed when its group is folded */
    size_t idlen = strlen(row->id);
    struct pend x = {ms, cy_malloc(row->envelope_len + idlen + 2), row->envelope_len, NULL,
                     comity_framework_handles(row->type)};
    if (!x.env || (p->nh == p->caph &&
                   (cy_fw_grow((void **)&p->h, &p->caph, p->nh, sizeof *p->h) ||
                    cy_fw_grow((void **)&p->group, &p->capg, p->caph - 1, sizeof *p->group)))) {
        cy_free(x.env);
        p->nomem = true;
        return 1;
    }
    memcpy(x.env, row->envelope, x.len);
    x.env[x.len] = 0;
    memcpy(x.env + x.len + 1, row->id, idlen + 1);
    x.id = x.env + x.len + 1;
    heap_push(p, x);
    /* past the first walk's rows (none, unless the store grew between the
     * walks): everything waits for the end */
    if (k + 1 >= p->n)
        return 0;
    while (p->nh && p->h[0].ms < p->after[k + 1] && !p->nomem)
        fold_group(p);
    return p->nomem;
}

static void replay_free(struct replay *p)
{
    while (p->nh)
        cy_free(heap_pop(p).env);
    cy_free(p->after);
    cy_free(p->h);
    cy_free(p->group);
    cy_free(p->gs);
    cy_free(p->edges);
    cy_free(p->ready);
    cy_free(p->order);
    cy_refs_scan_clear(&p->scan);
}

/* Folds the stored records into p->fw in the fold order (the top). */
static comity_err fold_store(comity_store *st, struct replay *p, comity_error *err)
{
    comity_err rc = cy_store_fw_times(st, walk_times, p, err);
    if (!rc && p->nomem)
        rc = cy_fw_nomem(err);
    for (size_t i = p->n; i-- > 1 && !rc;)
        if (p->after[i] < p->after[i - 1])
            p->after[i - 1] = p->after[i];
    if (!rc)
        rc = cy_store_fw_replay(st, walk_fold, p, err);
    if (!rc && p->nomem)
        rc = cy_fw_nomem(err);
    while (!rc && p->nh && !p->nomem)
        fold_group(p);
    if (!rc && p->nomem)
        rc = cy_fw_nomem(err);
    return rc;
}

static int replay_event(const cy_delivered_row *row, void *ctx)
{
    struct replay *p = ctx;
    if (comity_framework_delivered(p->fw, row->id, row->party, row->at_ms, NULL) == COMITY_OK)
        p->events++;
    return 0;
}

/* A new handle: the table, then the store folded.  OUT *out:
 * comity_framework_free. */
static comity_err build(comity_store *st, const cy_fw_table *t, comity_identities *ids,
                        cy_fw_w_local_fn w_local, void *w_ctx, bool quiet,
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
    p->quiet = quiet;
    p->st = st;
    p->revs.w_local = w_local;
    p->revs.w_ctx = w_ctx;
    if (!rc)
        rc = revs_load(st, &p->revs, err);
    if (!rc)
        rc = fold_store(st, p, err);
    if (!rc)
        rc = cy_store_delivered_list(st, replay_event, p, err);
    replay_free(p);
    if (rc) {
        revs_free(&p->revs);
        comity_framework_free(fw);
        return cy_wrap(err, "framework: replay");
    }
    *out = fw;
    return COMITY_OK;
}

/* Takes the fold's end from a build. */
static void take_tail(cy_fw_live *f, struct replay *p)
{
    revs_free(&f->revs);
    f->revs = p->revs; /* taken */
    memset(&p->revs, 0, sizeof p->revs);
    f->any = p->any;
    f->tail_ms = p->tail_ms;
    memcpy(f->tail_id, p->tail_id, sizeof f->tail_id);
    f->tail_refused = p->tail_refused;
    f->want = f->dirty = false;
    f->inflight = 0;
}

/* Rebuilds the handle from the store, with f->mu held; on failure the old
 * one stays (and stays dirty). */
static comity_err refold(cy_fw_live *f, comity_error *err)
{
    comity_framework *fw = NULL;
    struct replay p;
    comity_err rc = build(f->st, &f->t, f->ids, f->w_local, f->w_ctx, true, &fw, &p, err);
    if (rc)
        return rc;
    comity_framework_free(f->fw);
    f->fw = fw;
    take_tail(f, &p);
    f->refolds++;
    return COMITY_OK;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool in_order(const cy_fw_live *f, const comity_record *rec);
static void tail_to(cy_fw_live *f, const comity_record *rec, bool refused);

static void late_clear(cy_fw_live *f)
{
    cy_free(f->late);
    f->late = NULL;
    f->nlate = f->caplate = 0;
}

/* The ids of what was stored after a re-fold's walk (catch_up). */
struct since {
    char **ids;
    size_t n, cap;
    bool nomem;
};

static int since_row(const cy_record_row *row, void *ctx)
{
    struct since *c = ctx;
    if (!replayed(row->type))
        return 0;
    char *id = cy_strdup(row->id);
    if (!id || cy_fw_grow((void **)&c->ids, &c->cap, c->n, sizeof *c->ids)) {
        cy_free(id);
        c->nomem = true;
        return 1;
    }
    c->ids[c->n++] = id;
    return 0;
}

/* One record stored after a re-fold's walk, fed on top of f->fw as intake
 * fed it to the state it replaces (with f->mu held): in its place, or a
 * re-fold marked. */
static int catch_one(const cy_record_row *row, void *ctx)
{
    cy_fw_live *f = ctx;
    comity_record *rec = NULL;
    if (!row->envelope || comity_record_parse(row->envelope, row->envelope_len, &rec, NULL))
        return 0;
    if (revoked_before(f->st, &f->revs, row, comity_record_created_ms(rec))) {
        comity_record_free(rec); /* no effect, as in the fold (revoked_before) */
        return 0;
    }
    bool place = in_order(f, rec);
    comity_err rc = COMITY_OK;
    if (comity_framework_handles(comity_record_type(rec))) {
        char *body = NULL;
        size_t blen = 0;
        own_body(&f->t, f->ids, rec, &body, &blen);
        rc = comity_framework_add(f->fw, rec, body, blen, NULL);
        comity_free(body);
    }
    if (comity_record_refs_count(rec))
        (void)cy_fw_thread_note(f->fw, rec);
    if (place)
        tail_to(f, rec, rc != COMITY_OK);
    else
        f->dirty = true;
    comity_record_free(rec);
    return 0;
}

/* With f->mu held and nothing in flight: the state a re-fold built
 * (f->next) takes the place of f->fw, once the records stored since its
 * walk (store seq > f->next_seq: what arrived while it was built, which
 * the old state took on top) and the delivered events fed meanwhile are
 * fed into it.  Under the lock, this costs what arrived during the
 * re-fold, not the store.  A failure keeps the old state, marked dirty.
 * OUT: the state replaced (comity_framework_free, best outside the lock:
 * freeing a large state takes time), or NULL. */
static comity_framework *swap_in(cy_fw_live *f)
{
    comity_framework *old = f->fw;
    struct since c = {0};
    comity_error e = {0};
    comity_err rc = cy_store_records_tail(f->st, f->next_seq, since_row, &c, &e);
    if (!rc && c.nomem)
        rc = cy_fw_nomem(&e);
    bool any = f->any, refused = f->tail_refused;
    int64_t ms = f->tail_ms;
    char id[sizeof f->tail_id];
    memcpy(id, f->tail_id, sizeof id);
    struct revs oldrevs = f->revs;
    f->revs = f->next_revs;
    f->fw = f->next;
    f->any = f->next_any;
    f->tail_ms = f->next_ms;
    memcpy(f->tail_id, f->next_id, sizeof f->tail_id);
    f->tail_refused = f->next_refused;
    f->dirty = f->want = false;
    for (size_t i = 0; i < c.n && !rc; i++)
        rc = cy_store_fw_get(f->st, c.ids[i], catch_one, f, &e);
    for (size_t i = 0; i < c.n; i++)
        cy_free(c.ids[i]);
    cy_free(c.ids);
    if (rc) {
        comity_framework_free(f->fw);
        revs_free(&f->revs);
        f->revs = oldrevs;
        f->fw = old;
        f->any = any;
        f->tail_ms = ms;
        memcpy(f->tail_id, id, sizeof f->tail_id);
        f->tail_refused = refused;
        f->dirty = true;
        cy_log(CY_LOG_ERROR, "framework.refold_failed", NULL, 0,
               "framework: re-fold failed, records may be out of their place until the next: %s",
               e.msg);
    } else {
        revs_free(&oldrevs);
        for (size_t i = 0; i < f->nlate; i++)
            (void)comity_framework_delivered(f->fw, f->late[i].id, f->late[i].party,
                                             f->late[i].at_ms, NULL);
        f->refolds++;
    }
    f->next = NULL;
    memset(&f->next_revs, 0, sizeof f->next_revs);
    late_clear(f);
    return rc ? NULL : old;
}

/* With f->mu held: the re-fold, when one is due and nothing is in flight;
 * unless `force`, at most once in CY_FW_REFOLD_GAP_MS and then after
 * CY_FW_REFOLD_FACTOR times as long as the last one took, so that a
 * stream of records out of their place costs a bounded share of the time.
 * The fold from the store runs with f->mu released (readers and intake
 * use the state as it is meanwhile; no second re-fold starts), then
 * swap_in replays under the lock what arrived meanwhile, at once or, when
 * the committer has records in flight, once they are stored
 * (cy_fw_live_done).  A failure leaves the state as it was, and is
 * logged. */
static void settle(cy_fw_live *f, bool force)
{
    if (f->next && !f->inflight) {
        comity_framework *old = swap_in(f);
        pthread_mutex_unlock(&f->mu);
        comity_framework_free(old);
        pthread_mutex_lock(&f->mu);
    }
    if (!f->dirty && !f->refolding && !f->next && (force || mono_ms() >= f->next_gen_ms)) {
        /* a revocation written by another process (`comity roster apply`
         * beside the serving node): the store's users_gen moved since the
         * state's keys were read; compared at most once in
         * CY_FW_REFOLD_GAP_MS */
        char gen[32];
        users_gen(f->st, gen);
        f->next_gen_ms = mono_ms() + CY_FW_REFOLD_GAP_MS;
        if (strcmp(gen, f->revs.gen) != 0)
            f->dirty = true;
    }
    if (!f->dirty || f->inflight || f->refolding || f->next)
        return;
    int64_t t0 = mono_ms();
    if (!force && t0 < f->next_refold_ms)
        return;
    f->refolding = true;
    uint64_t gen = f->gen;
    pthread_mutex_unlock(&f->mu);
    comity_framework *fw = NULL;
    struct replay p;
    comity_error e = {0};
    comity_err rc = build(f->st, &f->t, f->ids, f->w_local, f->w_ctx, true, &fw, &p, &e);
    pthread_mutex_lock(&f->mu);
    f->refolding = false;
    int64_t t1 = mono_ms(), gap = (t1 - t0) * CY_FW_REFOLD_FACTOR;
    f->next_refold_ms = t1 + (gap > CY_FW_REFOLD_GAP_MS ? gap : CY_FW_REFOLD_GAP_MS);
    if (rc)
        cy_log(CY_LOG_ERROR, "framework.refold_failed", NULL, 0,
               "framework: re-fold failed, records may be out of their place until the next: %s",
               e.msg);
    if (rc || gen != f->gen) { /* failed, or a rebuild came first */
        if (!rc)
            revs_free(&p.revs);
        comity_framework_free(fw);
        late_clear(f);
        return;
    }
    f->next = fw;
    f->next_revs = p.revs; /* taken */
    f->next_seq = p.seq;
    f->next_any = p.any;
    f->next_ms = p.tail_ms;
    memcpy(f->next_id, p.tail_id, sizeof f->next_id);
    f->next_refused = p.tail_refused;
    if (!f->inflight) {
        comity_framework *old = swap_in(f);
        pthread_mutex_unlock(&f->mu);
        comity_framework_free(old);
        pthread_mutex_lock(&f->mu);
    }
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
    comity_err rc = build(st, &f->t, f->ids, NULL, NULL, false, &f->fw, &p, err);
    if (rc) {
        comity_identities_free(f->ids);
        cy_free(f);
        return rc;
    }
    take_tail(f, &p);
    pthread_mutex_init(&f->mu, NULL);
    if (p.records || p.refused)
        cy_log(CY_LOG_INFO, "framework.replayed",
               (cy_log_kv[]){CY_KV_N("records", p.records), CY_KV_N("events", p.events),
                             CY_KV_N("refused", p.refused), CY_KV_N("revoked", p.lost)},
               4,
               "framework: %zu record(s) and %zu delivered event(s) replayed, %zu refused "
               "(%zu signed after their signer's revocation)",
               p.records, p.events, p.refused, p.lost);
    *out = f;
    return COMITY_OK;
}

void cy_fw_live_free(cy_fw_live *f)
{
    if (!f)
        return;
    comity_framework_free(f->fw);
    comity_framework_free(f->next);
    revs_free(&f->revs);
    revs_free(&f->next_revs);
    late_clear(f);
    comity_identities_free(f->ids);
    pthread_mutex_destroy(&f->mu);
    cy_free(f);
}

void cy_fw_live_rebuild(cy_fw_live *f)
{
    if (!f)
        return;
    pthread_mutex_lock(&f->mu);
    comity_error e = {0};
    f->inflight = 0;
    f->gen++; /* a re-fold out now, or built, read what this replaces */
    comity_framework_free(f->next);
    f->next = NULL;
    revs_free(&f->next_revs);
    late_clear(f);
    if (refold(f, &e) != COMITY_OK) {
        f->dirty = true; /* tried again by the next reader */
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
    settle(f, false);
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

/* Whether rec sorts after everything folded, so that adding it on top is
 * what a fold from scratch would do (with f->mu held). */
static bool in_order(const cy_fw_live *f, const comity_record *rec)
{
    if (f->dirty || f->want)
        return false;
    if (!f->any)
        return true;
    int64_t ms = comity_record_created_ms(rec);
    if (ms != f->tail_ms)
        return ms > f->tail_ms;
    /* the same group: after its last id, and none of it refused (a
     * record added now might let a refused one take effect) */
    return !f->tail_refused && strcmp(comity_record_id(rec), f->tail_id) > 0;
}

static void tail_to(cy_fw_live *f, const comity_record *rec, bool refused)
{
    int64_t ms = comity_record_created_ms(rec);
    f->tail_refused = (f->any && ms == f->tail_ms && f->tail_refused) || refused;
    f->any = true;
    f->tail_ms = ms;
    snprintf(f->tail_id, sizeof f->tail_id, "%s", comity_record_id(rec));
}

comity_err cy_fw_live_add(cy_fw_live *f, const comity_record *rec, json_t *body, bool relayed,
                          bool *added, comity_error *err)
{
    *added = false;
    if (!f || !cy_fw_knows(comity_record_type(rec), comity_record_schema(rec)))
        return COMITY_OK; /* relayed, of a type or version unknown here: no effect */
    if (!comity_framework_handles(comity_record_type(rec))) {
        /* not ruled here, but it may answer a message: its thread, in the
         * fold order like the rest (out of its place: a re-fold) */
        if (comity_record_refs_count(rec)) {
            pthread_mutex_lock(&f->mu);
            bool place = in_order(f, rec);
            (void)cy_fw_thread_note(f->fw, rec);
            f->inflight++;
            if (!place)
                f->want = true;
            else
                tail_to(f, rec, false);
            pthread_mutex_unlock(&f->mu);
        }
        return COMITY_OK;
    }
    /* the custodian's own sealed records are fed opened (own_body) */
    char *opened = NULL;
    size_t olen = 0;
    own_body(&f->t, f->ids, rec, &opened, &olen);
    pthread_mutex_lock(&f->mu);
    if (!relayed)
        settle(f, false); /* the rules at the origin see the fold as it is */
    bool place = in_order(f, rec);
    /* on top of the state: a local record under the rules (a refusal
     * changes nothing and is not stored); a relayed one has no effect
     * where they refuse it */
    comity_err rc = opened ? comity_framework_add(f->fw, rec, opened, olen, err)
                    : body ? cy_fw_feed_parsed(f->fw, rec, body, false, err)
                           : comity_framework_add(f->fw, rec, NULL, 0, err);
    if (!rc || relayed) { /* it will be stored */
        if (comity_record_refs_count(rec))
            (void)cy_fw_thread_note(f->fw, rec);
        f->inflight++;
        if (!place)
            f->want = true; /* its place is before records folded: re-fold */
        else
            tail_to(f, rec, rc != COMITY_OK);
    }
    pthread_mutex_unlock(&f->mu);
    comity_free(opened);
    *added = rc == COMITY_OK;
    return rc;
}

void cy_fw_live_done(cy_fw_live *f)
{
    if (!f)
        return;
    pthread_mutex_lock(&f->mu);
    f->inflight = 0;
    if (f->want)
        f->dirty = true;
    f->want = false;
    comity_framework *old = NULL;
    if (f->next) /* a re-fold built: what it lacks is stored now */
        old = swap_in(f);
    pthread_mutex_unlock(&f->mu);
    comity_framework_free(old);
}

void cy_fw_live_settle(cy_fw_live *f)
{
    pthread_mutex_lock(&f->mu);
    settle(f, true);
    pthread_mutex_unlock(&f->mu);
}

uint64_t cy_fw_live_refolds(cy_fw_live *f)
{
    pthread_mutex_lock(&f->mu);
    uint64_t n = f->refolds;
    pthread_mutex_unlock(&f->mu);
    return n;
}

void cy_fw_live_keys_changed(cy_fw_live *f)
{
    if (!f)
        return;
    pthread_mutex_lock(&f->mu);
    f->dirty = true; /* the next reader re-folds (settle): records signed after a
                      * revocation applied now lose their effect there */
    pthread_mutex_unlock(&f->mu);
}

void cy_fw_live_set_witness(cy_fw_live *f, cy_fw_w_local_fn fn, void *ctx)
{
    pthread_mutex_lock(&f->mu);
    f->w_local = fn;
    f->w_ctx = ctx;
    if (f->revs.guessed)
        f->dirty = true; /* a record logged here was weighed without its W */
    pthread_mutex_unlock(&f->mu);
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
    settle(f, false);
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
    /* a re-fold out may have read the delivered events before this one:
     * its state takes it at the swap (out of memory: not until restart) */
    if ((f->refolding || f->next) &&
        !cy_fw_grow((void **)&f->late, &f->caplate, f->nlate, sizeof *f->late)) {
        struct late_ev *l = &f->late[f->nlate++];
        snprintf(l->id, sizeof l->id, "%s", id);
        snprintf(l->party, sizeof l->party, "%s", party);
        l->at_ms = now;
    }
    pthread_mutex_unlock(&f->mu);
    if (added && f->hook)
        f->hook(f->hook_ctx, id, party);
}

void cy_fw_live_on_delivered(cy_fw_live *f, cy_fw_delivered_hook hook, void *ctx)
{
    f->hook = hook;
    f->hook_ctx = ctx;
}

bool cy_fw_live_delivery_wanted(cy_fw_live *f, const char *id, const char *party)
{
    pthread_mutex_lock(&f->mu);
    settle(f, false);
    bool want = !cy_fw_delivery_recorded(f->fw, id, party);
    pthread_mutex_unlock(&f->mu);
    return want;
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
    settle(f, false);
    return f->fw;
}

void cy_fw_live_unlock(cy_fw_live *f) { pthread_mutex_unlock(&f->mu); }
