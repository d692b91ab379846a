/*
 * sync.h: federation with peer nodes (private to libcomity; the rules are
 * docs/federation.md).  The floor between intake and the node: it knows
 * the store, the log's proof formats, records and intake, never HTTP
 * serving (src/node/ includes this header, not the other way round).
 *
 *   peers.c    the operator's pinned peers and the parties homed at them
 *   page.c     the pull answer parser (a federation page; fuzzed)
 *   verify.c   a page's checkpoint, consistency and receipts
 *   puller.c   one thread per peer: log in, pull, verify, submit to
 *              intake, move the cursor; back-off; clean stop
 *   equivocation.c  split views: two signed checkpoints of one origin and
 *              size with different roots, kept as a signed proof
 *   roster.c   the states and offices of the federation, folded from
 *              signed admission and party records under the roster policy
 *   cosign.c   this node's checkpoints cosigned by its peers' witnesses
 *   waiting.c  records whose refs are not here yet, kept until they are
 *   witnessed.c  the puller's witness policy (DIR/witness.policy) and the
 *              bound on a record's `created` by the time witnesses saw it
 *   firstseen.c  when the witnesses first saw each record of a page: the
 *              origin's cosigned checkpoints, checked, and their quorum times
 *   files.c    sealed files of records addressed to this node's parties,
 *              fetched from their origin, checked against their hash
 *   succession.c  following a log succession: the new log pinned, the
 *              state's parties moved to it, the old log capped at the cut
 *
 * The constants below are the contract between an origin
 * (src/node/federation.c) and its pullers.
 */
#ifndef COMITY_SYNC_H
#define COMITY_SYNC_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "base/base.h"
#include "intake/intake.h"
#include "record/roster_body.h"
#include "store/store.h"
#include "tlog/tlog.h"

#define CY_PEER_PREFIX "peer:"          /* a peer's login name: "peer:<origin>" */
#define CY_FED_PAGE_MAX 1000            /* records in one federation page */
#define CY_FED_PAGE_BYTES (8u << 20)    /* an origin stops adding past this */
#define CY_SYNC_PAGE_MAX (16u << 20)    /* bytes of a page a puller reads */
#define CY_SYNC_BACKOFF_MIN_MS 500
#define CY_SYNC_BACKOFF_MAX_MS 30000
#define CY_SYNC_POLL_MS 1000            /* an idle origin is asked again after this */
#define CY_SYNC_RESCAN_MS 10000         /* peers added while serving are found within this */
#define CY_SYNC_HINT_CHECK_MS 50        /* the log's checkpoint looked at for hints */
#define CY_SYNC_HINT_TIMEOUT_MS 1000    /* one push hint to one peer */
#define CY_SYNC_HTTP_TIMEOUT_S 120L      /* one request to a peer (a file: while it flows) */

/* ---- page.c: the pull answer --------------------------------------------- */

/* One record of a page.  The strings are owned by the page. */
typedef struct cy_pull_item {
    char *envelope;     /* the DSSE envelope, compact JSON (NUL-terminated) */
    size_t envelope_len;
    const char *record_id;
    uint64_t log_index;
    const char *receipt; /* the tlog-proof text */
    size_t receipt_len;
    comity_record *rec;  /* the envelope parsed once, by cy_sync_verify_page (owned;
                          * NULL before, or once handed to intake) */
} cy_pull_item;

typedef struct cy_pull_page {
    void *root;          /* the parsed JSON (jansson), owned; NULL from the fast reader */
    char *arena;         /* the fast reader's strings and envelopes, owned; NULL from jansson's */
    cy_pull_item *items;
    size_t n;
    bool more;
    uint64_t next;       /* the log index the next page starts at */
} cy_pull_page;

/* Parses a federation page (docs/federation.md, section 5): a TAXII
 * envelope {"objects":[...], "more", "next"} of at most CY_SYNC_PAGE_MAX
 * bytes and CY_FED_PAGE_MAX objects, each an x-comity-record with a
 * "dsse_envelope" object, "record_id", "x_comity_log_index" and
 * "x_comity_receipt"; log indexes strictly increasing and below `next`;
 * duplicate keys refused.  COMITY_ERR_INVALID / TOOBIG naming the object
 * and field.  OUT *out: cy_pull_page_free (also after a failure). */
comity_err cy_pull_page_parse(const char *body, size_t len, cy_pull_page *out,
                              comity_error *err);
void cy_pull_page_free(cy_pull_page *p);
/* The two readers cy_pull_page_parse uses, for the tests and fuzz_pull_page
 * to compare: the fast one takes a page only when it is sure jansson's
 * would take it the same (true; OUT *out as above), else it leaves *out
 * empty (nothing to free) and answers false; jansson's reads every page
 * and words every refusal. */
bool cy_pull_page_parse_fast(const char *body, size_t len, cy_pull_page *out);
comity_err cy_pull_page_parse_jansson(const char *body, size_t len, cy_pull_page *out,
                                      comity_error *err);

/* ---- verify.c ------------------------------------------------------------ */

/* What a puller knows of an origin while it checks a page. */
typedef struct cy_origin_view {
    const comity_vkey *log;   /* the origin's pinned log key */
    const char *last_note;    /* the last checkpoint accepted ("" or NULL: none) */
    size_t last_note_len;
    const comity_succession *succession; /* a log succession of this log key that the
                                          * node follows (NULL: none): every page's
                                          * checkpoint is judged by it */
} cy_origin_view;

/* Fetches the consistency proof between two sizes (the puller's HTTP);
 * OUT *hashes (n * 32 bytes, cy_free). */
typedef comity_err (*cy_consistency_fn)(void *ctx, uint64_t old, uint64_t size,
                                        uint8_t **hashes, size_t *n, comity_error *err);

/* Checks a page (section 6, steps 2 and 3): every receipt names one
 * checkpoint, signed by the origin's log key, consistent with the last
 * one accepted (proof fetched through fn when the size grew); each
 * record's entry included at its log index, each index >= cursor.  Each
 * envelope is parsed here once: items[i].rec holds the record (owned by
 * the page, freed by cy_pull_page_free) for the checks after this one and
 * intake.  OUT *note, *note_len: the page's checkpoint (borrowed from the
 * page; NULL for an empty page).  COMITY_ERR_VERIFY (receipt, signature),
 * COMITY_ERR_CONFLICT (a checkpoint inconsistent with the last one: a
 * split view), COMITY_ERR_INVALID (malformed), naming the record. */
comity_err cy_sync_verify_page(cy_pull_page *pg, const cy_origin_view *o, uint64_t cursor,
                               cy_consistency_fn fn, void *ctx, const char **note,
                               size_t *note_len, comity_error *err);

/* ---- peers.c ------------------------------------------------------------- */

/* Pins a peer (docs/federation.md, section 1): its URL (http:// or
 * https://), its log key (a signed-note key of type 0x01 whose name, the
 * peer's origin, is at most CY_PEER_ORIGIN_MAX bytes and not this node's
 * `self` origin), and the parties homed at it, party_vkeys[i] (named after
 * the party) with age recipients[i].  Stores the peer, its login
 * principal ("peer:<origin>", kind "peer", the log key), each party as a
 * principal of kind "remote" with its home.  Idempotent for the same
 * keys; EXISTS when a name is taken by something else; TOOBIG past
 * CY_PEERS_MAX peers or the peer filter's cap. */
comity_err cy_sync_peer_add(comity_store *st, const char *self, const char *url,
                            const char *log_vkey, const char *const *party_vkeys,
                            const char *const *recipients, size_t nparties, comity_error *err);
/* The peers as JSON (cursor, lag, last checkpoint, errors; `log_sizes`
 * unknown here: lag is what the last checkpoint accepted says).  OUT
 * *json: cy_free. */
comity_err cy_sync_peer_list(comity_store *st, char **json, comity_error *err);
/* The same, each peer with its TLS pin (`tls_pin`, "" when none) from
 * DIR/peers.pins.  OUT *json: cy_free. */
comity_err cy_sync_peer_list_dir(comity_store *st, const char *dir, char **json,
                                 comity_error *err);
/* Forgets a peer: no more pulls from it, its login refused (its parties
 * stay known, their records valid).  NOTFOUND when unknown. */
comity_err cy_sync_peer_remove(comity_store *st, const char *origin, comity_error *err);
/* The puller's cursor write (cy_store_peer_advance) on the row `read`, the
 * one its pull started from, only: a peer removed and added again since
 * is another row (its added_us), which keeps its cursor: NOTFOUND, as for
 * a peer removed. */
comity_err cy_sync_peer_advance(comity_store *st, const cy_peer *read, uint64_t cursor,
                                const char *checkpoint, uint64_t pulled, comity_error *err);

/* ---- tlspin.c ------------------------------------------------------------ */

#define CY_TLS_PIN_BUF 64 /* "sha256//" + 44 base64 digits + NUL */

/* A TLS key pin as given to `peer add --tls-pin`: "sha256//" (or
 * "sha256/") and the base64 of a SHA-256; OUT out = the canonical
 * "sha256//BASE64".  False (USAGE in err) for anything else. */
bool cy_tls_pin_parse(const char *in, char out[CY_TLS_PIN_BUF], comity_error *err);
/* Keeps `pin` for the peer `origin` in DIR/peers.pins (replacing its
 * pin); `pin` NULL removes it.  Durable on return.  A pins file with a
 * malformed line is refused as cy_sync_pin_get says, unchanged. */
comity_err cy_sync_pin_set(const char *dir, const char *origin, const char *pin,
                           comity_error *err);
/* The pin kept for `origin` in pin, "" when none (or no dir).  A pins
 * file with a malformed line is refused (COMITY_ERR_INVALID naming the
 * file and the line; pin ""), whichever origin is asked for. */
comity_err cy_sync_pin_get(const char *dir, const char *origin, char pin[CY_TLS_PIN_BUF],
                           comity_error *err);
/* Checks DIR/peers.pins as cy_sync_pin_get does (an absent file is
 * fine). */
comity_err cy_sync_pins_check(const char *dir, comity_error *err);
/* Sets a libcurl handle (a CURL *) to check the peer's TLS key against
 * `pin` alone, or, with `pin` NULL or "", to the system's trust store. */
void cy_sync_curl_tls(void *curl, const char *pin);
/* A libcurl error (a CURLcode) as a peer's error says it: a pin that does
 * not match and an untrusted certificate are named. */
const char *cy_sync_curl_why(int curl_code);

/* ---- roster.c ------------------------------------------------------------ */

#define CY_ROSTER_POLICY_MAX (64u << 10) /* bytes of a roster policy */
#define CY_ROSTER_ADMITTERS_MAX 32       /* admitting keys in a policy */
#define CY_ROSTER_STATES_MAX 256         /* pinned state keys in a policy */
#define CY_ROSTER_RECORDS_MAX 65536      /* admission and party records folded */

typedef struct cy_roster_policy cy_roster_policy;

/* Parses a roster policy (docs/federation.md, section 1): lines `state
 * VKEY [LOG_VKEY URL AGE1]` (a state key pinned: its name is the state
 * code; optionally its home and age recipient), `admitter VKEY`
 * (an admitting key named after a party), `quorum K` (admissions needed,
 * 1..admitters), '#' comments.  COMITY_ERR_INVALID / TOOBIG naming the
 * line.  OUT *out: cy_roster_policy_free. */
comity_err cy_roster_policy_parse(const char *text, size_t len, cy_roster_policy **out,
                                  comity_error *err);
void cy_roster_policy_free(cy_roster_policy *p);

/* The body rules of the two roster record types: record/roster_body.h. */

/* Folds the envelopes (any order; unparseable ones and other types are
 * skipped) under the policy (NULL: an empty one) into the roster, as JSON
 * with sorted keys: quorum, admitters, states (the state keys admitted or
 * pinned, with the home a quorum or the policy named), parties (each
 * office's entry from its latest valid party record, its home moved by
 * the log successions of its state), ignored (records the rules refused
 * at their point, with why).
 * The same records and policy give the same bytes.  OUT *json: cy_free. */
comity_err cy_roster_build(const cy_roster_policy *p, const char *const *envs,
                           const size_t *lens, size_t n, char **json, comity_error *err);
/* A record's W for the fold (ms; 0: unknown): the witnesses' time of the
 * record (record/signer.h).  It must be a function of the record, asked
 * at most a few times a record. */
typedef int64_t (*cy_roster_w_fn)(void *ctx, const comity_record *r);
/* What a cy_roster_w_fn answers for a W this node cannot tell (a record
 * it is the origin of, and no log of this node to read it from: none
 * opened, as `comity peer follow`, or none that can be opened): the pair
 * it is in is weighed by `created` alone. */
#define CY_ROSTER_W_UNTOLD (-1)
/* cy_roster_build, a state key's revocation weighed by the revocation
 * rule with the W w_of gives (NULL: none known, `created` alone, as
 * cy_roster_build). */
comity_err cy_roster_build_w(const cy_roster_policy *p, const char *const *envs,
                             const size_t *lens, size_t n, cy_roster_w_fn w_of, void *wctx,
                             char **json, comity_error *err);

/* A node directory's roster: DIR/roster.policy and DIR/roster/<digest>.json.
 * import: checks the envelope (a party or admission record, clear or
 * green, its body valid; not its signature, which the fold weighs) and
 * keeps it (the same record again is harmless); OUT *id (cy_free).
 * set_policy: checks and replaces the policy.  show: the roster of what
 * is there (cy_roster_build): the records imported into DIR/roster/ and,
 * with `st` (NULL: none), every party and admission record the store holds
 * (logged here: posted by their author or pulled from its origin), with
 * DIR's witness policy their W (cy_roster_build_w: the store's
 * record_witnessed, the cosigned checkpoints of `log`, this node's (its
 * writer's, or one opened COMITY_LOG_READ beside it), for a record this
 * node is the origin of: untold without it; without a
 * witness policy, `created` alone); OUT *json: cy_free.  cy_roster_json: the same,
 * parsed (OUT *out: json_decref).  cy_roster_state_keys: the keys of
 * `state` a roster (parsed) shows valid at at_ms, from "since" (pinned:
 * always) until "revoked", into keys (at most max; comity_vkey_free each);
 * their number. */
comity_err cy_roster_import(const char *dir, const char *env, size_t len, char **id,
                            comity_error *err);
comity_err cy_roster_set_policy(const char *dir, const char *text, size_t len, comity_error *err);
comity_err cy_roster_show(comity_store *st, const char *dir, comity_log *log, char **json,
                          comity_error *err);
struct json_t;
comity_err cy_roster_json(comity_store *st, const char *dir, comity_log *log,
                          struct json_t **out, comity_error *err);
size_t cy_roster_state_keys(const struct json_t *roster, const char *state, int64_t at_ms,
                            comity_vkey **keys, size_t max);
/* Makes the store's key directory follow the roster: each office or
 * state key homed at another node (by the log key of its entry; not
 * `self_vkey`) is pinned as a party homed at that peer, pinning the peer
 * at its URL too (cy_sync_peer_add: a name held by other keys is refused,
 * never overwritten); an office or state key homed here must be
 * registered with its entry's keys.  An office its entry revokes is removed when it is a party of this
 * node (cy_sync_party_retire: it posts nothing more at its origin); homed
 * at a peer, it stays known (its records signed before the revocation
 * must still verify when they are pulled).  An office's or a state key's
 * revocation is written beside its key (store: principal_set_revoked),
 * with the W of the record that revoked it, as a user's (below).  OUT
 * *report: JSON {homed_at_peers, local, revoked: [{party, now}], refused:
 * [{party, why}], users, keys_revoked: [{party, now: revoked|changed,
 * revoked_at, revoked_w}]} (cy_free).  Each revoked user's row gets its revocation's W
 * (record/signer.h): kept with the revoking record when pulled, or, with
 * `log` (this node's; NULL: none) and DIR's witness policy, from the log's
 * cosigned checkpoints when that record was logged here first. */
comity_err cy_roster_apply(comity_store *st, const char *dir, comity_log *log,
                           const char *self_vkey, const char *self_origin, char **report,
                           comity_error *err);
/* Removes a party of this node: its token replaced by one nobody holds
 * ("removed-" and random hex), so that it posts nothing more, while its
 * registration, key and records stay (`comity party remove`; an office a
 * roster revokes).  *already: it was removed before.  NOTFOUND for an
 * unknown name, USAGE for another kind of account. */
comity_err cy_sync_party_retire(comity_store *st, const char *name, bool *already,
                                comity_error *err);
/* Registering an office homed here from its party record (`comity party
 * add --record`): the record is kept in DIR/roster/ (as cy_roster_import)
 * and must be its office's entry in the roster folded then (not ignored:
 * DENIED with the roster's why; not the latest: CONFLICT), not a
 * revocation, and name this node (`self_vkey`) as the office's home
 * (else DENIED: `comity roster apply` homes it at its peer).  The roster
 * is weighed with the W of `log` (as cy_roster_show).  OUT *office,
 * *vkey, *recipient (cy_free each). */
comity_err cy_roster_party_local(comity_store *st, const char *dir, comity_log *log,
                                 const char *self_vkey, const char *env, size_t len,
                                 char **office, char **vkey, char **recipient,
                                 comity_error *err);

/* Writes the users' keys of office's entry in the roster (as apply does:
 * docs/federation.md, section 1) into the store, beside its key: after
 * `comity party add --record` registered it, the W of revocations from
 * `log` (as cy_roster_apply).  *changed: rows written. */
comity_err cy_roster_users_apply(comity_store *st, const char *dir, comity_log *log,
                                 const char *office, size_t *changed, comity_error *err);
/* Whether DIR's roster policy lets a log succession pulled from a peer be
 * followed at once (`follow auto`, the default) or leaves it to the
 * operator (`follow manual`).  An unreadable policy: manual. */
bool cy_roster_follow_auto(const char *dir);
/* Whether a record id is a roster record's ("party--..." or
 * "admission--..."): the puller's cue that the roster may have changed. */
bool cy_roster_record_id(const char *record_id);
/* With `apply auto` in the roster policy, cy_roster_apply now (one at a
 * time across threads; the outcome logged as roster.applied) and *applied
 * true; with `apply manual` or none, nothing (the operator runs `comity
 * roster apply`).  Errors as cy_roster_apply's. */
comity_err cy_roster_auto(comity_store *st, const char *dir, comity_log *log,
                          const char *self_vkey, const char *self_origin, bool *applied,
                          comity_error *err);

/* ---- equivocation.c ------------------------------------------------------- */

#define CY_EQUIV_MAX (64u << 10) /* bytes of one equivocation note */
#define CY_EQUIV_KEPT_MAX 1024   /* equivocations a node keeps and serves */
#define CY_SYNC_GOSSIP_MS 5000   /* a peer's equivocations asked again after this */

/* Makes the equivocation note of two checkpoints (whole signed notes) of
 * `origin`, signed by the reporter's node key.  Of different sizes: a the
 * smaller, b the larger, with the larger tree's hash of its first leaves
 * (subroot) and its consistency proof from a's size (nproof * 32 bytes);
 * of one size: subroot NULL.  OUT *out (comity_free). */
comity_err cy_equiv_make(const comity_nkey *reporter, const char *origin, const char *a,
                         size_t alen, const char *b, size_t blen, const uint8_t *subroot,
                         const uint8_t *proof, size_t nproof, char **out, size_t *len,
                         comity_error *err);
/* Checks one offline: both checkpoints signed by `log`, of the origin the
 * note names (OUT origin), and either of one size with different roots or
 * of different sizes with the larger tree's hashes proving that it does
 * not extend the smaller (cy_tlog_verify_split).
 * COMITY_ERR_VERIFY (not a proof), INVALID (malformed), naming why. */
comity_err cy_equiv_check(const char *note, size_t len, const comity_vkey *log,
                          char origin[CY_ORIGIN_MAX + 1], comity_error *err);
/* Keeps a checked one in DIR/equivocations (the same one again: a no-op). */
comity_err cy_equiv_keep(const char *dir, const char *note, size_t len, comity_error *err);
/* Whether DIR keeps one against `origin`. */
bool cy_equiv_against(const char *dir, const char *origin);
/* The kept ones as a JSON array of strings.  OUT *json: cy_free. */
comity_err cy_equiv_list(const char *dir, char **json, comity_error *err);

/* ---- cosign.c ------------------------------------------------------------- */

#define CY_COSIGN_TIMEOUT_MS 1000       /* one add-checkpoint request to one witness */
#define CY_COSIGN_BACKOFF_MIN_MS 1000   /* a witness that failed is asked again after this */

typedef struct cy_cosigner cy_cosigner;

/* A cosigner of `log`'s checkpoints by the witnesses of the peers in
 * `st` (both borrowed; `dir`, borrowed too and may be NULL, holds the
 * peers' TLS pins).  OUT *out: cy_cosigner_free. */
comity_err cy_cosigner_new(comity_store *st, comity_log *log, const char *dir,
                           cy_cosigner **out,
                           comity_error *err);
/* One round: each peer whose witness has not cosigned the log's latest
 * checkpoint (and is not in back-off) is asked to; the cosignatures that
 * verify join the log's published checkpoint.  Returns how many joined. */
size_t cy_cosigner_round(cy_cosigner *c, const atomic_bool *stop);
void cy_cosigner_free(cy_cosigner *c);

/* ---- witnessed.c ----------------------------------------------------------- */

#define CY_WITNESS_POLICY_FILE "witness.policy" /* in the node's directory */
#define CY_SYNC_WITNESS_WAIT_MS 250  /* a page not yet cosigned by a quorum: asked again */
/* `created` may be at most this far after the time the witnesses cosigned
 * a checkpoint covering the record (the origin's own bound on created,
 * COMITY_RECORD_CREATED_AHEAD_MS, plus a minute of the witnesses' clocks) */
#define CY_SYNC_CREATED_AHEAD_MS (COMITY_RECORD_CREATED_AHEAD_MS + 60 * 1000)

/* Loads DIR/witness.policy (c2sp.org/tlog-policy: witness lines, groups,
 * a quorum; log lines are ignored here, the log key is the peer's pinned
 * one).  OUT *p: NULL when the file does not exist (no witness policy),
 * else comity_policy_free.  INVALID / TOOBIG naming the file. */
comity_err cy_witness_policy_load(const char *dir, comity_policy **p, comity_error *err);
/* Installs a policy as DIR/witness.policy after parsing it (atomic
 * replace); len 0 removes the file. */
comity_err cy_witness_policy_set(const char *dir, const char *text, size_t len,
                                 comity_error *err);
/* The text of DIR/witness.policy, checked by the policy parser, for
 * clients that check receipts themselves (GET /v1/node's witness_policy).
 * OUT *text: NULL when there is no policy, else a NUL-terminated copy the
 * caller frees with comity_free.  INVALID / TOOBIG naming the file. */
comity_err cy_witness_policy_text(const char *dir, char **text, comity_error *err);
/* Checks a page's checkpoint against the policy's witness quorum.  OUT
 * *witnessed_ms: the latest time (ms) a policy witness cosigned it.
 * COMITY_ERR_VERIFY when the quorum is not met (yet), naming the origin. */
comity_err cy_witness_check(const comity_policy *p, const char *note, size_t len,
                            int64_t *witnessed_ms, comity_error *err);
/* How many of the newest cosigned checkpoints covering an entry
 * cy_witness_prove tries for the quorum before it falls back on the
 * published checkpoint (a log cosigned every few seconds has its latest
 * quorum among the first few; a quorum no checkpoint meets costs this
 * many policy checks a receipt) */
#define CY_WITNESS_RECEIPT_SCAN 64
/* A receipt (tlog-proof) for entry `index` of this node's log
 * (docs/node.md, "Receipts"): against the newest checkpoint the log kept
 * as cosigned that covers the entry and whose cosignatures meet p's
 * quorum, so that a receipt keeps its quorum while the log grows past the
 * last cosigned checkpoint; when none of the CY_WITNESS_RECEIPT_SCAN
 * newest cosigned checkpoints covering it meets the quorum, against the
 * newest of them (the cosignatures it has, for the client to weigh); when
 * none covers it yet, or p is NULL, against the published checkpoint, as
 * comity_log_prove.  OUT *proof: comity_free.  NOTFOUND when no checkpoint
 * covers the entry yet. */
comity_err cy_witness_prove(comity_log *log, const comity_policy *p, uint64_t index,
                            char **proof, size_t *len, comity_error *err);
/* The bound on `created` for a record in a page whose checkpoint the
 * witnesses cosigned at witnessed_ms: COMITY_ERR_DENIED (rule
 * "witnessed-time") when the record (parsed, borrowed) claims a `created`
 * more than CY_SYNC_CREATED_AHEAD_MS after it. */
comity_err cy_witness_created_check(const comity_record *rec, int64_t witnessed_ms,
                                    comity_error *err);
/* `created` may be at most this far before W, the time the witness quorum
 * first held for a checkpoint covering the record (the origin's own bound
 * behind its clock, COMITY_RECORD_CREATED_BEHIND_MS, plus a minute of the
 * clocks) */
#define CY_SYNC_CREATED_BEHIND_MS (COMITY_RECORD_CREATED_BEHIND_MS + 60 * 1000)
/* The lower bound on `created` (docs/federation.md, section 6): with
 * first_ms, W (firstseen.c; 0: not known, nothing to bound),
 * COMITY_ERR_DENIED (rule "witnessed-time") when the record (parsed,
 * borrowed) claims a `created` more than CY_SYNC_CREATED_BEHIND_MS before
 * it. */
comity_err cy_witness_created_behind_check(const comity_record *rec, int64_t first_ms,
                                           comity_error *err);

/* ---- firstseen.c ------------------------------------------------------------ */

#define CY_FED_COSIGNED_MAX 1024          /* cosigned checkpoints in one answer */
#define CY_SYNC_COSIGNED_BYTES (8 << 20)  /* bytes of one such answer */

/* One cosigned checkpoint of an origin's answer (borrowed from its JSON). */
typedef struct cy_cosigned_item {
    uint64_t size;
    const char *note; /* the signed checkpoint with its cosignatures */
    size_t note_len;
    uint8_t (*proof)[CY_HASH]; /* consistency proof to the answer's size (owned) */
    size_t nproof;
} cy_cosigned_item;

typedef struct cy_cosigned_answer {
    void *doc;              /* the parsed JSON (jansson), owned */
    uint64_t since, size;   /* kept from size `since`; proofs lead to `size` */
    cy_cosigned_item *items; /* sizes strictly increasing, each 1..size */
    size_t n;
} cy_cosigned_answer;

/* Parses GET /federation/cosigned's answer (at most CY_SYNC_COSIGNED_BYTES,
 * CY_FED_COSIGNED_MAX checkpoints, each at most CY_CHECKPOINT_MAX bytes with
 * at most CY_TLOG_PROOF_MAX proof hashes; duplicate keys refused).  Checks
 * the shape only, no signature.  OUT *out: cy_cosigned_answer_free (also
 * after a failure).  COMITY_ERR_INVALID / TOOBIG naming the item. */
comity_err cy_cosigned_parse(const char *text, size_t len, cy_cosigned_answer *out,
                             comity_error *err);
void cy_cosigned_answer_free(cy_cosigned_answer *a);
/* Checks each checkpoint of a parsed answer as a page's is checked: signed
 * by the pinned log key vk (its origin), of the size stated, consistent
 * with the page's checkpoint (size, root) by its proof.  OUT qtime[i]: the
 * time (POSIX seconds) the policy's quorum first held for checkpoint i
 * (cy_policy_quorum_time), UINT64_MAX when the quorum does not hold on it.
 * COMITY_ERR_VERIFY naming the checkpoint. */
comity_err cy_cosigned_times(const cy_cosigned_answer *a, const comity_vkey *vk,
                             const comity_policy *pol, uint64_t size,
                             const uint8_t root[CY_HASH], uint64_t *qtime, comity_error *err);
/* W of each log index (both lists increasing): the earliest qtime among
 * the checkpoints whose size is above the index, in ms; 0 (not known) for
 * an index below `since`, or when no checkpoint above it has a time. */
void cy_firstseen_w(const uint64_t *sizes, const uint64_t *qtime, size_t n, uint64_t since,
                    const uint64_t *index, size_t nindex, int64_t *w_ms);
/* GETs `path_and_query` from the origin with the puller's session (at most
 * cap bytes).  OUT *status, *body (NUL-terminated, cy_free). */
typedef comity_err (*cy_sync_get_fn)(void *ctx, const char *path_and_query, size_t cap,
                                     long *status, char **body, size_t *len,
                                     comity_error *err);
/* W of a record this node is the origin of, at log index `index`: the
 * time the witness quorum of `pol` first held on the first checkpoint
 * kept in its log's table `cosigned` (size above the index) on which it
 * holds, in ms; 0 when unknown (not cosigned by a quorum yet, below the
 * table's `since`, no log or no policy).  At most CY_FED_COSIGNED_MAX
 * checkpoints are read. */
comity_err cy_firstseen_local(comity_log *log, const comity_policy *pol, uint64_t index,
                              int64_t *w_ms, comity_error *err);

/* The puller's call, after the page's checkpoint passed the policy's
 * quorum: asks the origin for the cosigned checkpoints of the page's span
 * (as many answers as CY_FED_COSIGNED_MAX needs), checks them and gives
 * W of each record.  OUT *w_ms: pg->n times (cy_free), or NULL when the
 * origin does not serve them (404: nothing is refused on this rule).  A
 * failure (HTTP, an answer that does not parse or check) fails the page. */
comity_err cy_firstseen_page(cy_sync_get_fn get, void *ctx, const comity_vkey *vk,
                             const comity_policy *pol, const char *note, size_t note_len,
                             const cy_pull_page *pg, int64_t **w_ms, comity_error *err);

/* ---- waiting.c -------------------------------------------------------------- */

#define CY_SYNC_WAITING_MAX 4096          /* records waiting for their refs, per node */
#define CY_SYNC_REFS_WAIT_MS (10 * 60 * 1000) /* then taken without them */

/* Whether every ref of the record (parsed, borrowed) is stored here or
 * among `also` (record ids about to be; n of them). */
bool cy_waiting_refs_here(comity_store *st, const comity_record *rec, const char *const *also,
                          size_t n);
/* Keeps a record pulled from `origin` at `log_index` in DIR/waiting/
 * with its W (w_ms: the page's, 0 unknown), durable before it returns.
 * TOOBIG past CY_SYNC_WAITING_MAX. */
comity_err cy_waiting_park(const char *dir, const char *origin, uint64_t log_index,
                           const char *env, size_t len, int64_t w_ms, comity_error *err);
/* Calls fn for each record waiting from `origin`, in log order, with the
 * file's path, how long it has waited (ms) and the W it was parked with
 * (0: unknown); fn's non-zero stops the walk.  OUT *count (may be NULL):
 * how many wait from every origin. */
comity_err cy_waiting_each(const char *dir, const char *origin,
                           int (*fn)(void *ctx, const char *path, const char *env, size_t len,
                                     int64_t waited_ms, int64_t w_ms),
                           void *ctx, size_t *count, comity_error *err);
/* Drops every record waiting from `origin` (a peer removed), the removals
 * durable.  OUT *dropped (may be NULL): how many. */
comity_err cy_waiting_forget(const char *dir, const char *origin, size_t *dropped,
                             comity_error *err);
/* Drops every waiting record of an origin that is none of origins[0..n)
 * (the peers in the store, at start).  OUT *dropped (may be NULL). */
comity_err cy_waiting_keep_only(const char *dir, const char *const *origins, size_t n,
                                size_t *dropped, comity_error *err);

/* ---- succession.c ------------------------------------------------------------ */

/* Follows a log succession record (the steps atop succession.c): checks
 * it (signature under a key of its state the roster of `dir` admits; the
 * old log key a pinned peer's; what this node accepted of it not refused
 * by the rule: CONFLICT), keeps it in DIR/successions/, pins the new log,
 * moves the state's parties homed at the old log to it, and unpins the old
 * peer when nobody is homed there any more.  OUT *report: JSON (cy_free). */
comity_err cy_succession_follow(comity_store *st, const char *dir, const char *self,
                                const char *env, size_t len, char **report, comity_error *err);
/* The succession DIR follows whose old log key is `log_vkey` (*out NULL:
 * none).  OUT *out: comity_succession_free.  IO when the directory cannot
 * be read. */
comity_err cy_succession_find(const char *dir, const char *log_vkey, comity_succession **out);
/* The same, by the new log key (`comity peer list` shows it at that peer). */
comity_err cy_succession_find_new(const char *dir, const char *log_vkey, comity_succession **out);
/* `comity peer list`'s JSON (*listing, replaced; cy_free) with each
 * followed succession shown at its new log's peer: "succession": {id,
 * state, old_origin, cut_size}. */
comity_err cy_succession_annotate(const char *dir, char **listing, comity_error *err);
/* Whether a record id is a log succession's ("log-succession--..."). */
bool cy_succession_record_id(const char *record_id);
/* A log succession record pulled from a peer (docs/federation.md, section
 * 11): unless the roster policy says `follow manual`, followed at once
 * with cy_succession_follow's checks and steps (*followed true; logged as
 * succession.followed); one already followed for that old log: nothing.
 * An error of cy_succession_follow is returned, and nothing changed. */
comity_err cy_succession_auto(comity_store *st, const char *dir, const char *self,
                              const char *env, size_t len, bool *followed, comity_error *err);

/* ---- puller.c ------------------------------------------------------------ */

typedef struct cy_sync cy_sync;

typedef struct cy_sync_opts {
    comity_store *store;
    struct cy_files *files;   /* the node's file store: sealed files fetched from
                               * their origin go there (NULL: none fetched) */
    cy_intake *intake;        /* running; outlives the sync */
    const comity_nkey *key;   /* this node's key: its login at peers */
    const char *origin;       /* this node's origin */
    const char *dir;          /* the node's directory (its equivocations) */
    comity_log *log;          /* this node's log: its growth hints peers and is cosigned
                               * by their witnesses (NULL: neither) */
    comity_witness *witness;  /* this node's witness: made to follow every peer's log
                               * (NULL: none) */
} cy_sync_opts;

/* Starts one puller thread per stored peer (and a watcher that starts
 * threads for peers added later).  Every pointer borrowed until
 * cy_sync_stop.  OUT *out: cy_sync_stop. */
comity_err cy_sync_start(const cy_sync_opts *o, cy_sync **out, comity_error *err);
/* A push hint from the peer `origin` ("new records"): its worker pulls
 * now.  NOTFOUND when no worker pulls from that origin. */
comity_err cy_sync_hint(cy_sync *s, const char *origin);
/* Stops every thread: a pull in hand is aborted, a page being submitted
 * is waited for (its records are durable, its cursor stored).  NULL is a
 * no-op. */
void cy_sync_stop(cy_sync *s);

/* ---- files.c -------------------------------------------------------------- */

#define CY_SYNC_FILE_BACKOFF_MIN_MS 1000L          /* a failed fetch, first retry */
#define CY_SYNC_FILE_BACKOFF_MAX_MS (5L * 60 * 1000) /* ... doubling to this */
#define CY_SYNC_FILE_LIST_MAX (4u << 20)   /* bytes of one file listing answer */
#define CY_SYNC_FILE_MIN_RATE 1024L        /* bytes/s over 30 s, else the fetch stalls */

/* What a puller's file turn works with; borrowed. */
typedef struct cy_sync_files_env {
    const char *dir;
    comity_store *store;
    struct cy_files *files;
    const atomic_bool *stop;
} cy_sync_files_env;

/* One turn for the origin of peer p, with the puller's libcurl handle (a
 * CURL *, logged in there): lists the origin's new attachments this node
 * may fetch into jobs, then fetches every job that is due, each streamed
 * into the file store, checked against its announced SHA-256 and size,
 * and attached to its record (docs/federation.md, section 6).  Errors go
 * into the jobs (and a listing's into the peer's error). */
void cy_sync_files_turn(void *curl, const cy_sync_files_env *env, const cy_peer *p);
/* Parses an origin's file listing (GET /federation/files/, hostile
 * input; fuzzed by fuzz/fuzz_file_listing.c): a JSON object with "files"
 * (at most CY_FED_PAGE_MAX entries {sha256: 64 lowercase hex, size >= 0,
 * record: 1-CY_FILES_REF_MAX printable bytes, no '/' or ':', not starting
 * with '.'}), "next" (a decimal byte offset at or past `cursor`) and
 * "more".  Calls fn for each entry in order (its error stops the parse
 * and is returned).  OUT *next, *more (cursor, false unless COMITY_OK). */
comity_err cy_sync_files_listing_parse(const char *text, size_t len, uint64_t cursor,
                                       comity_err (*fn)(void *ctx, const char *sha256,
                                                        uint64_t size, const char *record,
                                                        comity_error *err),
                                       void *ctx, uint64_t *next, bool *more,
                                       comity_error *err);
/* The files thread of one origin (docs/federation.md, section 6): turns
 * of cy_sync_files_turn apart from the records' thread, so that a large
 * or slow file never holds the pull of that origin's records.  It runs a
 * turn when kicked (after each page of records) or every CY_SYNC_POLL_MS,
 * logged in with the records' session (the cookie shared through
 * cy_sync_files_thread_share).  env is copied; its pointers are borrowed
 * until stop.  OUT *out: cy_sync_files_thread_stop. */
typedef struct cy_sync_files_thread cy_sync_files_thread;
comity_err cy_sync_files_thread_start(const cy_sync_files_env *env, const char *origin,
                                      cy_sync_files_thread **out, comity_error *err);
/* A files thread that did not start is started again while the records'
 * thread runs (docs/federation.md, section 6): the state of its back-off,
 * zeroed at first. */
typedef struct cy_sync_files_retry {
    int64_t next_ms; /* no try before (0: now) */
    long wait_ms;    /* the last wait (0: none failed yet) */
} cy_sync_files_retry;
/* Starts the files thread of `origin` into *t unless one runs there or the
 * back-off after a failed start is not over (now_ms < r->next_ms); a
 * start that fails (its reason kept for `peer list`, as by
 * cy_sync_files_thread_start) waits CY_SYNC_FILE_BACKOFF_MIN_MS, doubling
 * to CY_SYNC_BACKOFF_MAX_MS, before the next.  Returns true when a thread
 * started now: the records' handle then takes its share
 * (cy_sync_curl_session). */
bool cy_sync_files_thread_retry(const cy_sync_files_env *env, const char *origin,
                                cy_sync_files_retry *r, int64_t now_ms,
                                cy_sync_files_thread **t);
/* The CURLSH * whose cookies the thread uses: set it on the records'
 * handle (CURLOPT_SHARE), which must be cleaned up before the stop. */
void *cy_sync_files_thread_share(cy_sync_files_thread *t);
/* Asks for a turn now (new records were taken).  NULL: no-op. */
void cy_sync_files_thread_kick(cy_sync_files_thread *t);
/* Stops the thread (a fetch in progress is cut within about a second,
 * its partial kept for the next run), joins it, frees it.  NULL: no-op. */
void cy_sync_files_thread_stop(cy_sync_files_thread *t);
/* Removes DIR/sync-files/<tag of origin>/ (jobs, cursor, partials, the
 * thread's error) of a peer removed; none there: COMITY_OK.  A files
 * thread still in a turn for that origin writes nothing there after it
 * (it checks the peer after making the directory, and removes what is
 * left when it finds the peer gone): see files.c, "A peer removed". */
comity_err cy_sync_files_forget(const char *dir, const char *origin, comity_error *err);
/* Adds to `peer` (a json_t * object of `peer list`) "files_pending" and
 * "files_failed": the jobs of that origin under DIR; and "files_error"
 * when that origin's files thread did not start, its message. */
void cy_sync_files_status(const char *dir, const char *origin, void *peer);

/* Sets a libcurl handle (a CURL *) up for a session with a peer, the one
 * setting of the records' handle (puller.c) and the files thread's: the
 * session cookie (the login) kept in `share` (a CURLSH * sharing
 * cookies; NULL: in the handle's memory), no proxy, http and https only,
 * CY_SYNC_HTTP_TIMEOUT_S a request, no signals (threads), the user agent
 * "comity-sync".  Its TLS: cy_sync_curl_tls; its progress callback (how
 * a stop cuts a transfer): the caller's. */
void cy_sync_curl_session(void *curl, void *share);

/* The time ms milliseconds from now on CLOCK_REALTIME, for
 * pthread_cond_timedwait (the puller's and the files thread's naps). */
static inline struct timespec cy_sync_deadline(long ms)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    t.tv_sec += ms / 1000;
    t.tv_nsec += (ms % 1000) * 1000000L;
    if (t.tv_nsec >= 1000000000L) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000L;
    }
    return t;
}

#endif
