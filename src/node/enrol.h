/*
 * enrol.h: registration requests (enrol.c; private to src/node/): a
 * newcomer asks to be registered as a party by sending its public keys
 * with a signature that proves it holds the signing key; the operator
 * approves (the party is then registered by comity_node_party_add, the
 * one rule for adding a party) or refuses each.  No HTTP here: the
 * handlers of enrol_api.c call these functions.
 *
 * The signed text (a c2sp.org/signed-note body, signed with the party's
 * Ed25519 key; the request carries the 64 signature bytes):
 *
 *   comity registration v1
 *   node: <the node's origin>
 *   party: <name>
 *   vkey: <verifier key, name+hexid+base64>
 *   recipient: <age1...>
 *   created: <RFC 3339, comity form: 2026-12-06T10:00:00.000Z>
 *   note: <one line of UTF-8, at most CY_ENROL_NOTE_MAX bytes, may be empty>
 *
 * Pending requests are kept in the store (cy_store_reg_*: a restart
 * forgets none); the per-address counts of the rate limit live in memory
 * behind one mutex.
 */
#ifndef COMITY_NODE_ENROL_H
#define COMITY_NODE_ENROL_H

#include <jansson.h>

#include "node/node.h"

/* Caps (docs/ui.md, "Registration"). */
#define CY_ENROL_PENDING_MAX 64                /* requests awaiting the operator */
#define CY_ENROL_NOTE_MAX 280                  /* bytes of the newcomer's note */
#define CY_ENROL_SKEW_MS (10ll * 60 * 1000)    /* created within 10 minutes of now */
#define CY_ENROL_PER_ADDR 5                    /* requests one address may send ... */
#define CY_ENROL_WINDOW_MS (60ll * 60 * 1000)  /* ... per hour */
#define CY_ENROL_ADDRS 1024                    /* addresses the rate limit tracks at once */
#define CY_ENROL_BODY_MAX 4096                 /* bytes of a request's JSON body */
#define CY_ENROL_ADDR_BUF 64                   /* a client address as text */

/* One request as the newcomer sent it. */
typedef struct cy_enrol_req {
    char party[COMITY_PARTY_MAX + 1];
    char vkey[CY_VKEY_MAX];
    char recipient[CY_RECIPIENT_MAX];
    char note[CY_ENROL_NOTE_MAX + 1];
    char created[CY_TIME_BUF];
    uint8_t sig[64];
} cy_enrol_req;

/* The rate limit's counters: made at comity_node_start, freed at stop
 * (either tolerates a table never made). */
comity_err cy_enrol_start(comity_node *node, comity_error *err);
void cy_enrol_stop(comity_node *node);

/* Fills *q from a request body {"party", "vkey", "recipient", "note",
 * "created", "signature"} (note optional; nothing else allowed).
 * INVALID or TOOBIG naming the field. */
comity_err cy_enrol_from_json(const json_t *body, cy_enrol_req *q, comity_error *err);

/* The text q's signature must sign, for the node `origin`.  OUT into *b
 * (cy_buf_init'ed by the caller). */
comity_err cy_enrol_text(const char *origin, const cy_enrol_req *q, cy_buf *b,
                         comity_error *err);

/* Checks q and queues it, from the client address `addr`.  Errors:
 * INVALID (a field, the keys, the time: the message says which), VERIFY
 * (the signature is not by q->vkey over cy_enrol_text), EXISTS (the name
 * is registered or already awaits the operator), DENIED (the address sent
 * CY_ENROL_PER_ADDR requests this window), TOOBIG (CY_ENROL_PENDING_MAX
 * requests await, or CY_ENROL_ADDRS addresses are tracked). */
comity_err cy_enrol_submit(comity_node *node, const cy_enrol_req *q, const char *addr,
                           comity_error *err);

/* The pending requests, oldest first: OUT a new JSON array of {"party",
 * "vkey", "recipient", "note", "created", "received", "address"}; NULL
 * with *err set when the store cannot be read. */
json_t *cy_enrol_list(comity_node *node, comity_error *err);

/* The operator's decision on the pending request of `party` whose key is
 * `vkey` (the one the operator saw: a request sent again with another key
 * is not decided unseen).  approve: registers the party exactly as `comity
 * party add` does (comity_node_party_add; its token is not kept: the party
 * logs in with its key, and `comity party token` gives it a TAXII token).
 * Either way the request then leaves the store.  NOTFOUND when no such
 * request awaits; errors of comity_node_party_add otherwise (the request
 * stays). */
comity_err cy_enrol_decide(comity_node *node, const char *party, const char *vkey, bool approve,
                           comity_error *err);

#endif
