/*
 * delivered.h: records a node signs on behalf of one of its parties, with
 * its own log key (record.c).
 *
 * One such record exists: `delivered` (docs/federation.md section 7), by
 * which a recipient's home node says that the recipient was handed a
 * message.  Its author is the recipient (a party name, so that its origin,
 * its visibility and its id follow the rules of any record of that
 * party); its signature is the home node's log key, the key every peer
 * already pins for that node (`comity peer add --log-vkey`), so that no
 * new trust root is needed.  Which key verifies which record is intake's
 * rule `signature` (src/intake/intake.c); the framework's rules of the
 * type are in src/framework/messages.c.
 */
#ifndef COMITY_RECORD_DELIVERED_H
#define COMITY_RECORD_DELIVERED_H

#include "base/base.h"

/* The type of the record a node signs for its party. */
#define CY_RECORD_DELIVERED "delivered"

/* comity_record_sign, but the author is `author` (a party name) and the
 * signature is `signer`'s; a sealed tlp seals to `author_rcpt` (the
 * author's age recipient: required then, NOKEY without) besides
 * pp->seal_to.  OUT *envelope: comity_free. */
comity_err cy_record_sign_as(const comity_nkey *signer, const char *author,
                             const char *author_rcpt, const comity_record_params *pp,
                             const char *body, size_t body_len, char **envelope,
                             size_t *envelope_len, comity_error *err);

/* Whether a signature of the parsed record `rec` verifies under `vk`,
 * whatever the key's name (comity_record_verify_parsed asks for a key
 * named after the author).  VERIFY when none does. */
comity_err cy_record_verify_under(const comity_record *rec, const comity_vkey *vk,
                                  comity_error *err);

#endif
