/*
 * live.h: the framework as a node runs it (live.c): one comity_framework
 * handle behind a mutex, built from a deadline table and a replay of the
 * store, and the rules of the framework a node applies around it.
 *
 * Who uses it: record intake (src/intake/) asks it twice per record (a
 * worker's dry run, then the committer's final add in log order) and
 * rebuilds it when a batch fails to commit; the node's HTTP handlers read
 * it (inbox, message status, overdue, pings, directory) and report
 * fetches (a recipient's fetch of a message is its delivery).
 *
 * Threading: every function may be called from any thread at once; the
 * handle is only touched under the mutex.  cy_fw_live_lock hands the
 * handle out for read-only queries, until cy_fw_live_unlock.  A re-fold
 * builds its new handle from the store with the mutex released and swaps
 * it in under the mutex (live.c), so that readers wait for what arrived
 * meanwhile, not for the store; the caller that finds a re-fold due runs
 * it in its own thread.
 */
#ifndef COMITY_FRAMEWORK_LIVE_H
#define COMITY_FRAMEWORK_LIVE_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "base/base.h"
#include "store/store.h"

#define CY_FW_CONF_CASES_MAX 64     /* case deadline settings of a node */
#define CY_FW_CONF_TREATIES_MAX 256 /* treaty settings (pairs of states) */
#define CY_FW_CONF_STATE_MAX 15     /* bytes of a state code in a treaty */
#define CY_FW_CONF_KINDS 5          /* kinds of case with a retention period */
#define CY_FW_RETENTION_EVERY_MS (3600 * (int64_t)1000) /* the job's period */
/* Lazy re-folds (live.c): at most one in this many ms, and then only
 * after this many times as long as the last one took. */
#define CY_FW_REFOLD_GAP_MS 1000
#define CY_FW_REFOLD_FACTOR 10

/* The kinds of case with a retention period, in the order of
 * cy_fw_table.retention. */
extern const char *const cy_fw_retention_kinds[CY_FW_CONF_KINDS];

/* One case deadline: `clock` under `profile` ("" for every profile). */
typedef struct cy_fw_conf_case {
    char profile[16], clock[32];
    int64_t ms;
} cy_fw_conf_case;

/* The instrument (`profile`) binding states a and b. */
typedef struct cy_fw_conf_treaty {
    char a[CY_FW_CONF_STATE_MAX + 1], b[CY_FW_CONF_STATE_MAX + 1], profile[16];
} cy_fw_conf_treaty;

/* The deadline table a node applies (ms; 0: the library's default), the
 * case deadlines and the treaties binding pairs of states, applied in
 * order (a later setting of the same clock or pair wins). */
typedef struct cy_fw_table {
    int64_t ack_ms[6], answer_ms[6]; /* by severity, [0] unknown */
    int64_t pong_ms;
    /* node.conf's bounds on a record's created, which intake applies (not
     * the framework); 0: the library's defaults */
    int64_t created_ahead_ms, created_behind_ms;
    cy_fw_conf_case cases[CY_FW_CONF_CASES_MAX];
    size_t ncases;
    cy_fw_conf_treaty treaties[CY_FW_CONF_TREATIES_MAX];
    size_t ntreaties;
    /* retention (comity_framework_set_retention): the period of each
     * kind of case as configured ("" : the library's default) */
    char retention[CY_FW_CONF_KINDS][16];
    /* the party whose key signs the node's destruction records ("": none,
     * and then nothing is destroyed), the path of its key file ("":
     * DIR/retention.key), and how often the node looks for what is due
     * (ms; 0: CY_FW_RETENTION_EVERY_MS) */
    char custodian[COMITY_PARTY_MAX + 1];
    char custodian_key[1024];
    int64_t retention_every_ms;
} cy_fw_table;

typedef struct cy_fw_live cy_fw_live;

/* Builds the live framework: table `t` (copied), then every stored record
 * folded in the fold order (by created, then the order of refs and ids;
 * docs/federation.md section 7) and every stored delivered event
 * replayed from `st`
 * (borrowed: it must outlive the handle).  OUT *out: cy_fw_live_free. */
comity_err cy_fw_live_open(comity_store *st, const cy_fw_table *t, cy_fw_live **out,
                           comity_error *err);
/* Frees f (NULL is a no-op).  Call once nobody else uses it. */
void cy_fw_live_free(cy_fw_live *f);

/* A dry run of record `rec` (borrowed) against the current state: the
 * body schema when the body is clear, then the rules.  Types the framework
 * does not rule, and a record it already holds (a re-post), pass.  The
 * body is parsed before the lock is taken, and handed out for the final
 * decision, so that a record's body is parsed once: OUT *body, a new
 * reference (json_decref) or NULL (no clear body, or refused). */
comity_err cy_fw_live_precheck(cy_fw_live *f, const comity_record *rec, json_t **body,
                               comity_error *err);
/* The final decision, in log order, by intake's committer alone: with
 * the body the precheck of this very record handed out (borrowed), or
 * NULL (then parsed here).  A local record (`relayed` false) is checked
 * by the rules against the state as it is: a refusal is returned and
 * changes nothing.  A relayed record is never refused for the rules: the
 * return is the rules' answer, but it is stored all the same and has no
 * effect where they refuse it.  Either is added on top of the state; one
 * whose place in the fold order is before records already folded also
 * marks the state for a re-fold once the batch is stored
 * (cy_fw_live_done).  *added is true when the state changed. */
comity_err cy_fw_live_add(cy_fw_live *f, const comity_record *rec, json_t *body, bool relayed,
                          bool *added, comity_error *err);
/* Intake's committer, after the rows of the records it added since the
 * last call are stored: a re-fold they need is due, run lazily by the
 * next reader, precheck or local record (one re-fold for any number of
 * batches meanwhile; CY_FW_REFOLD_GAP_MS); and a re-fold's new state that
 * waited for this batch to be stored is swapped in.  NULL is a no-op. */
void cy_fw_live_done(cy_fw_live *f);
/* Runs a re-fold that is due now, whatever the time since the last one
 * (tests, bench). */
void cy_fw_live_settle(cy_fw_live *f);
/* Re-folds run since the handle was opened (tests, bench). */
uint64_t cy_fw_live_refolds(cy_fw_live *f);
/* After records added here failed to be stored: rebuilds the state from
 * the store (which does not hold them), by the committer, in place of
 * cy_fw_live_done.  A failure is reported on stderr
 * and leaves the old state. */
void cy_fw_live_rebuild(cy_fw_live *f);

/* The revocation rule in the fold (docs/federation.md, sections 1 and 7):
 * a stored record signed by a key whose revocation it does not precede
 * (record/signer.h, cy_signed_before_revocation: by `created` and by W)
 * has no effect, as on a node that got the revocation first and never
 * logged it.  The fold reads the revoked keys from the store when it
 * folds; after the store's revocations changed (a roster applied), call
 * this: the next reader re-folds (lazily, as for a record out of its
 * place).  NULL is a no-op. */
void cy_fw_live_keys_changed(cy_fw_live *f);

/* W of a record logged here whose origin is this node (author: a party
 * of this node, log_index its entry; the log's cosigned checkpoints under
 * the node's witness policy, src/sync/firstseen.c), in ms; 0: unknown or
 * not logged here first.  Asked by the fold only for a record whose
 * signer is revoked and whose W the store does not keep. */
typedef int64_t (*cy_fw_w_local_fn)(void *ctx, const char *author, uint64_t log_index);
/* Sets that source (once the node's log is open, before it serves); a
 * fold that needed it before is re-folded by the next reader. */
void cy_fw_live_set_witness(cy_fw_live *f, cy_fw_w_local_fn fn, void *ctx);

/* Whether a record type is a message: one that is delivered to its
 * recipients and awaits their acks and answers (notification, request,
 * ping). */
bool cy_fw_is_message(const char *type);

/* A recipient's fetch is a delivery: `party` was handed the envelope of
 * record `id` of `type`.  When that is a message and `party` one of its
 * recipients still at "sent", the delivered event is stored (once per
 * message and party) and fed to the state.  Anything else is a no-op; a
 * store failure is reported on stderr (the fetch itself succeeded). */
void cy_fw_live_fetched(cy_fw_live *f, const char *id, const char *type, const char *party);

/* Told of each delivered event cy_fw_live_fetched stored (new), on the
 * fetching thread, after the state took it and with no lock held: it
 * must not block (the node queues the signing of the `delivered` record,
 * src/node/delivery.c). */
typedef void (*cy_fw_delivered_hook)(void *ctx, const char *id, const char *party);
/* Sets the hook (NULL: none); call before the node serves. */
void cy_fw_live_on_delivered(cy_fw_live *f, cy_fw_delivered_hook hook, void *ctx);
/* Whether `party`'s delivery of message `id` still wants its `delivered`
 * record: the message is known, the party one of its recipients, and no
 * delivered record of its slot is folded. */
bool cy_fw_live_delivery_wanted(cy_fw_live *f, const char *id, const char *party);

/* Who may read which inbox: the viewer `viewer` (a principal name) of
 * `kind` ("party" or "operator") asks for the inbox of `asked` (NULL: its
 * own).  A party reads only its own; the operator has none and names one.
 * OUT *party: the inbox to read (borrowed from viewer or asked).  DENIED
 * or USAGE with a message otherwise. */
comity_err cy_fw_inbox_reader(const char *viewer, const char *kind, const char *asked,
                              const char **party, comity_error *err);

/* The handle, locked, for read-only queries (comity_framework_inbox,
 * _status, ...); release with cy_fw_live_unlock as soon as possible.  A
 * re-fold that is due runs first (its cost: docs/federation.md). */
const comity_framework *cy_fw_live_lock(cy_fw_live *f);
void cy_fw_live_unlock(cy_fw_live *f);

#endif
