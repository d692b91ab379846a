/*
 * roster_body.h: the body rules of the federation's roster records, party
 * and admission, and which rules a node's origin applies to the bodies of
 * the record types no framework mechanism rules (roster_body.c;
 * docs/federation.md, section 1).
 *
 * The rules live here, below intake and the roster's fold: the fold
 * (src/sync/roster.c) skips a body they refuse, and intake refuses such a
 * body at its origin (rule `body`), so that both read one rule.
 */
#ifndef COMITY_RECORD_ROSTER_BODY_H
#define COMITY_RECORD_ROSTER_BODY_H

#include <stdbool.h>
#include <stddef.h>

#include "base/base.h"

#define CY_ROSTER_USERS_MAX 64 /* users listed in one party record */
#define CY_ROSTER_ROLES_MAX 16 /* roles of one office */
#define CY_ROSTER_TEXT_MAX 200 /* a role, a user's name, a reason */
#define CY_ROSTER_URL_MAX 512  /* a home's URL (bytes, NUL excluded: under it) */
#define CY_ROSTER_VKEY_MAX 256 /* a key's text (under it) */

/* The body rules of the two roster record types (fuzzed: fuzz_roster.c),
 * on the body's JSON text: COMITY_OK, or COMITY_ERR_INVALID naming the
 * field.  Nothing allocated outlives the call. */
comity_err cy_roster_admission_check(const char *body, size_t len, comity_error *err);
comity_err cy_roster_party_check(const char *body, size_t len, comity_error *err);

/* Whether a home node's words hold: log_vkey an Ed25519 signed-note key
 * (under CY_ROSTER_VKEY_MAX bytes), url http:// or https:// (under
 * CY_ROSTER_URL_MAX).  The one rule of a party's, an admission's and a
 * pinned state key's home. */
bool cy_roster_home_ok(const char *log_vkey, const char *url);

/* The body rules a node's origin applies to a record of `type` that no
 * framework mechanism rules: party and admission (above), log-succession
 * (comity_succession_check_body).  body NULL: a sealed record, refused
 * for these three (the roster and successions are public: tlp clear or
 * green).  Any other type: COMITY_OK (its rules are elsewhere, or none).
 * COMITY_ERR_INVALID with the parser's message otherwise. */
comity_err cy_record_body_check(const char *type, const char *body, size_t len,
                                comity_error *err);

#endif
