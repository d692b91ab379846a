/*
 * intake.h: record intake, the one way a record enters a node (intake.c).
 *
 * Whoever hands a node a record (the HTTP handler of POST /v1/records; a
 * federation sync thread; the CLI's offline tools) submits its envelope
 * here with the submitter's identity, and learns the outcome from a
 * callback.  Intake owns the checks, in order (the first failure is the
 * answer):
 *
 *   size           the envelope is at most COMITY_DSSE_MAX bytes
 *   envelope       a DSSE JSON envelope with the record payloadType
 *   payload        the payload follows specs/records.md
 *   author         the author is a registered party
 *   signature      a signature verifies under the author's key (a
 *                  `delivered` record: under the log key of the author's
 *                  home node, this node's own or the peer's pinned one;
 *                  docs/federation.md section 7)
 *   authenticated  the submitter is the author (relayed from a peer:
 *                  origin, the author is a party homed at that peer)
 *   type           the record type, at the version of its body schema it
 *                  names, is one this node knows (cy_fw_knows); relayed
 *                  from a peer, one it does not know is taken all the
 *                  same, without effect on the framework
 *                  (docs/federation.md, "Versions")
 *   body           the body of a party, admission or log-succession
 *                  record follows its rules (cy_record_body_check, the
 *                  parsers the roster and successions read); relayed
 *                  from a peer, it is taken all the same and weighed by
 *                  the roster's fold (a malformed one has no effect)
 *   created        created within the bounds of the node's clock
 *                  (5m ahead, 10m behind unless configured)
 *   framework      the framework's rules (a dry run here; final in the
 *                  committer, in log order)
 *
 * then the commit (log entry, store row, TAXII copies) by its committer and
 * syncer threads, and the recovery at start (every stored record's log
 * entry present).  It holds no HTTP: statuses are the caller's business.
 */
#ifndef COMITY_INTAKE_H
#define COMITY_INTAKE_H

#include <stdbool.h>
#include <stdint.h>

#include "base/base.h"
#include "framework/live.h"
#include "store/store.h"

/* Parsed verifier keys kept (CLOCK eviction beyond): the authors that
 * post within a while of each other.  A key not cached costs a parse
 * (about one signature verify). */
#define CY_INTAKE_VKEY_CACHE 4096
#define CY_INTAKE_VKEY_CACHE_MAX (1 << 20) /* cy_intake_opts.vkey_cache */
/* TAXII collections one record is copied into: its author's inbox and
 * one per recipient (amber, red), or one shared collection. */
#define CY_INTAKE_COLLS_MAX CY_RECORD_COLLS_MAX
/* Users' keys of one author read for one signature check (its users
 * listed over all its party records, revoked ones included: 64 a record);
 * beyond, its records not signed by its own key are refused (rule store,
 * TOOBIG). */
#define CY_INTAKE_USERS_MAX 1024

typedef struct cy_intake cy_intake;

/* What intake works on; every pointer borrowed for the life of the
 * intake (cy_intake_stop). */
typedef struct cy_intake_opts {
    comity_store *store;
    comity_log *log;    /* open for writing, COMITY_LOG_REPLAYABLE; intake is its
                         * one writer while it runs */
    cy_fw_live *fw;     /* NULL: no framework rules */
    const char *origin; /* the node's origin: names its TAXII collections */
    const char *api_root;
    const char *node_vkey; /* the node's log key (its vkey text): what a
                            * local party's `delivered` records verify under;
                            * NULL: such records are refused (signature) */
    size_t vkey_cache;  /* parsed keys cached (0: CY_INTAKE_VKEY_CACHE; at
                         * most CY_INTAKE_VKEY_CACHE_MAX) */
    /* how far a record's created may be ahead of the clock and behind it
     * (comity_record_check_created); 0: COMITY_RECORD_CREATED_AHEAD_MS /
     * _BEHIND_MS */
    int64_t created_ahead_ms, created_behind_ms;
} cy_intake_opts;

/* Tests only (NULL otherwise): when set, the committer calls it between
 * appending a batch's n log entries (from index `first`) and committing
 * their rows, the window src/intake/intake.c's top describes. */
extern void (*cy_intake_test_window)(cy_intake *in, uint64_t first, size_t n);
/* Tests only (NULL otherwise): when set, the committer calls it after a
 * batch's rows failed to commit, just before the explicit checkpoint that
 * covers the batch's entries (src/intake/intake.c's top). */
extern void (*cy_intake_test_gap)(cy_intake *in);

/* Starts intake: checks every record stored since the last clean stop
 * against the log (appending again each entry that is missing, with the
 * index its answer gave), then starts the committer and syncer threads.
 * OUT *out: cy_intake_stop. */
comity_err cy_intake_start(const cy_intake_opts *o, cy_intake **out, comity_error *err);

/* The outcome of one submission, handed to the callback. */
typedef struct cy_intake_result {
    comity_err code;  /* COMITY_OK: stored (now, or before: existed) */
    const char *rule; /* when refused: the rule above, or "conflict" (another
                       * record has this id), "store", "log", "internal" */
    const char *title; /* a short English title of the rule */
    bool retry;       /* refused because the node cannot store now (503) */
    bool existed;     /* stored before, with the same digest: same log index */
    const char *id, *digest; /* of the stored record (NULL when refused early) */
    uint64_t log_index;
    const char *msg;  /* what and where (printable; may quote the record) */
    const char *signer; /* the author's user who signed it (record/signer.h),
                         * NULL when the author's own key did or refused */
} cy_intake_result;

/* Called once per submission.  `res` and its strings are valid only
 * during the call.  Runs on the submitter's thread, before
 * cy_intake_submit returns, when the record is refused by a check; else
 * on intake's syncer thread, after the record's row is durable, where it
 * must not block (no disk, no lock held long): it hands the outcome over
 * (a wake-up, a resume) and returns. */
typedef void (*cy_intake_done)(void *ctx, const cy_intake_result *res);

/* Submits one envelope.
 *   env, len   the envelope bytes (env[len] == 0); ownership passes to
 *              intake, which frees them (cy_free) in every case
 *   who        the submitter's principal (borrowed for the call; copied
 *              where needed); NULL: anonymous (refused "authenticated"
 *              once the signature checks out)
 *   done, ctx  the callback (see above); ctx must stay valid until it ran
 * Runs the checks on the calling thread (any thread; many at once). */
void cy_intake_submit(cy_intake *in, char *env, size_t len, const cy_principal *who,
                      cy_intake_done done, void *ctx);

/* Submits one envelope relayed from the peer node `origin` (federation,
 * docs/federation.md section 6; src/sync/ calls it after checking the
 * record's receipt from that origin).  The same checks and commit as
 * cy_intake_submit, except:
 *   origin         replaces "authenticated": the author must be a party
 *                  homed at `origin` (refused "origin" otherwise, also for
 *                  a local author: a record is posted to its origin only)
 *   created        not checked (the origin applied its bounds)
 *   type           not checked: a type or version this node does not know
 *                  is logged and stored without effect on the framework
 *                  (docs/federation.md, section 6, "Versions")
 *   framework      not a refusal: the record is logged and stored, and
 *                  has no effect on the framework's state when its rules
 *                  refuse it at its place in the fold order (by created,
 *                  then id: docs/federation.md section 7)
 * Arguments as for cy_intake_submit; `origin` is borrowed for the call. */
void cy_intake_submit_relayed(cy_intake *in, char *env, size_t len, const char *origin,
                              cy_intake_done done, void *ctx);
/* The same, for an envelope its caller has already parsed: rec is
 * comity_record_parse(env, len) (taken: intake frees it, also on a
 * refusal), so intake does not parse it again. */
void cy_intake_submit_relayed_parsed(cy_intake *in, char *env, size_t len, comity_record *rec,
                                     const char *origin, cy_intake_done done, void *ctx);


/* A run of relayed submissions committed as one batch (a pulled page, or
 * part of one): each record is checked as cy_intake_submit_relayed_parsed
 * checks it, with its W
 * (w_ms, in ms; 0: unknown: when the witness quorum of this node's policy
 * first cosigned a checkpoint of `origin`'s log covering it,
 * src/sync/firstseen.c; the revocation rule weighs it, record/signer.h, and
 * the store keeps it with the record in the same transaction), on the
 * calling thread, but one that passes is held in the
 * run instead of queued; cy_intake_run_commit then queues the whole run at
 * once, so that the committer takes it as one batch: one store
 * transaction, one log append, one sync, whatever else is queued with it.
 * Nothing changes for the callback: it runs at once for a refusal, and on
 * the syncer's thread once the record is durable.  A run is the
 * submitter's, used by one thread, and must be committed (an empty run is
 * a no-op) before its records can be answered.  Batches of a whole page
 * rather than of what happened to be queued cut the commit's cost per
 * record (bench/README.md, "Where the instructions go"). */
typedef struct cy_intake_run {
    void *head, *tail; /* the held items, in submission order */
    size_t n;
} cy_intake_run;
#define CY_INTAKE_RUN_INIT {NULL, NULL, 0}
void cy_intake_submit_relayed_run(cy_intake *in, cy_intake_run *run, char *env, size_t len,
                                  comity_record *rec, const char *origin, int64_t w_ms,
                                  cy_intake_done done, void *ctx);
/* Queues every record held in `run` for the committer at once, in
 * submission order, and empties the run. */
void cy_intake_run_commit(cy_intake *in, cy_intake_run *run);

/* Waits until every submission has had its callback.  Call before the
 * callers' resources go (e.g. before an HTTP server stops). */
void cy_intake_drain(cy_intake *in);

/* Stops intake: drains, stops its threads, and when the log's final
 * checkpoint succeeds records the stop as clean (the next start checks
 * only what comes after).  NULL is a no-op.  Call once nobody submits. */
void cy_intake_stop(cy_intake *in);

/* What intake did since it started, for an operator (the node's /metrics):
 * outcomes by rule (cy_intake_rules[k]; "other" last for a rule not
 * listed) and what waits now.  Counters are read without a lock and may
 * lag a concurrent outcome by one. */
#define CY_INTAKE_RULES 15
extern const char *const cy_intake_rules[CY_INTAKE_RULES];
typedef struct cy_intake_stats {
    uint64_t stored, existed;          /* 201s and 200s (stored before) */
    uint64_t refused[CY_INTAKE_RULES]; /* by rule */
    size_t queued;   /* waiting for the committer */
    size_t inflight; /* queued or committing, not yet answered */
    size_t syncing;  /* committed, waiting for the store's sync */
    bool broken;     /* a sync failed: refusing everything until a restart */
} cy_intake_stats;
void cy_intake_stats_get(cy_intake *in, cy_intake_stats *s);

/* Parsed verifier keys: how many lookups hit and missed the cache since
 * start (bench, tests). */
void cy_intake_vkey_stats(cy_intake *in, uint64_t *hits, uint64_t *misses);

/* The store's revoked keys changed (a roster applied): the framework's
 * state is folded again (cy_fw_live_keys_changed).  NULL is a no-op. */
void cy_intake_keys_changed(cy_intake *in);

#endif
