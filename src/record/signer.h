/*
 * signer.h: which key signed a record, and whether that key may sign it
 * then (private to libcomity; docs/federation.md, section 1, "Which user
 * signed a record").
 *
 * An office (`pk.mofa`) has its own key and may list users (officers) in
 * its party record, each with a key named after the office.  The
 * envelope's keyid is the signer's 8-hex signed-note key id, which differs
 * from user to user, so it says which key to try.  The rule, once:
 *
 *   - a signature whose keyid is the office's key's, verifying under it:
 *     the office signed (no user);
 *   - else a signature whose keyid is a user's key's, verifying under it:
 *     that user signed, when its key is valid at the record's `created`:
 *     from its valid_from (none: always) until its revocation, exclusive
 *     (revoked after `created`: the record stays valid; revoked at or
 *     before it: refused, naming the user and the revocation);
 *   - else the office's key, whatever the keyids say (keyids were hints
 *     only before users existed, and an envelope signed by the office
 *     keeps verifying);
 *   - else refused: a keyid that names no key of the office is said so.
 *
 * A revocation (a user's here; an office's and a state key's by intake,
 * from the key's row `roster apply` wrote, and a state key's in the
 * roster's fold, src/sync/roster.c; each through cy_revocation_check) is
 * weighed by one rule,
 * cy_signed_before_revocation: a record r signed by a key that a record v
 * revoked is valid iff created(r) < revoked_at(v) AND W(r) < W(v), where
 * W is the time the node's witness quorum first cosigned a checkpoint of
 * the record's origin covering it (src/sync/firstseen.c), and an unknown
 * W (0) is later than every known one; when neither W is known (a node
 * without a witness policy, an offline check) `created` decides alone.
 * At the origin (CY_SIGNER_AT_ORIGIN), a record is logged after every
 * revocation its node holds, so a revoked key signs nothing more there.
 *
 * The users are loaded only when no signature names the office's key, so
 * a record signed by its office costs what it cost before users.
 * Nothing here allocates what outlives a call.
 */
#ifndef COMITY_RECORD_SIGNER_H
#define COMITY_RECORD_SIGNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "comity.h"

/* One user's key, as the caller read it (store/store.h's
 * cy_principal_user, parsed): comity.h's comity_user_key. */
typedef comity_user_key cy_signer_user;

/* Hands the office's users to the rule: *users stays valid until the
 * caller of cy_record_signer frees ctx's data.  Called at most once. */
typedef comity_err (*cy_signer_users_fn)(void *ctx, const cy_signer_user **users, size_t *n,
                                         comity_error *err);

/* The revocation rule (above), once.  Times in ms since the epoch;
 * w_r, w_v: the witnesses' times of the record and of the revocation,
 * 0 when unknown.  True: the record stays valid under that revocation. */
bool cy_signed_before_revocation(int64_t created_r, int64_t w_r, int64_t revoked_at,
                                 int64_t w_v);

/* The rule for record r (its W w_ms, as cy_record_signer_at takes it)
 * signed by a key that a record created at revoked_ms, of W revoked_w_ms
 * (0: unknown), revoked: OK when r stays valid; else VERIFY, err naming
 * `whose` key ("pk.mofa's user 'alice'", "pk.mofa (the office itself)"),
 * the revocation's time, reason (NULL: none said) and W, and the record's
 * created and W.  The one refusal of the rule: a user's (below), an
 * office's or a state key's (intake, src/sync/roster.c). */
comity_err cy_revocation_check(const comity_record *r, int64_t w_ms, const char *whose,
                               int64_t revoked_ms, const char *reason, int64_t revoked_w_ms,
                               comity_error *err);

/* The record's W for cy_record_signer_at when it is being logged at its
 * origin now: after every revocation held. */
#define CY_SIGNER_AT_ORIGIN INT64_MAX

/* cy_record_signer with the record's W (ms; 0: unknown;
 * CY_SIGNER_AT_ORIGIN: logged here now).  *revoked (may be NULL) is set
 * when the refusal is the revocation rule's (intake's rule `revoked`). */
comity_err cy_record_signer_at(const comity_record *r, const comity_vkey *office, int64_t w_ms,
                               cy_signer_users_fn load, void *ctx, const char **user,
                               bool *revoked, comity_error *err);

/* The rule above for record r of an office whose own key is `office`
 * (NULL: none parses).  OK: *user is the user who signed (a name from the
 * loader's users, valid while they are), or NULL when the office's key
 * did.  VERIFY: refused, err says why (a revoked user named, its
 * revocation's time and reason).  A loader's failure is returned as is. */
comity_err cy_record_signer(const comity_record *r, const comity_vkey *office,
                            cy_signer_users_fn load, void *ctx, const char **user,
                            comity_error *err);

/* The envelope's signatures' keyids (record.c): count, and the i-th
 * ("" when absent). */
size_t cy_record_nsigs(const comity_record *r);
const char *cy_record_sig_keyid(const comity_record *r, size_t i);

#endif
