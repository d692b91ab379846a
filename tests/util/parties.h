/*
 * parties.h: the cast of the framework tests (cases, messages, norms,
 * attribution, spyware, inboxes): a named party per signing key, each with
 * its verifying key, and records made as a node receives them, signed as
 * one of them (COMITY_FAKE_NOW sets `created`) and checked with
 * comity_record_verify against the whole cast.
 *
 * A test keeps its own names and key arrays and points a tu_parties at
 * them; tu_parties_make and tu_parties_free are its group setup and
 * teardown.
 */
#ifndef COMITY_TEST_PARTIES_H
#define COMITY_TEST_PARTIES_H

#include <stdbool.h>

#include "util/testutil.h"

/* Caps of tu_record's comma-separated lists (a longer one fails the test). */
#define TU_RECORD_TO_MAX 16
#define TU_RECORD_REFS_MAX 16

typedef struct tu_parties {
    const char *const *names; /* n party names */
    comity_key **keys;        /* n signing keys (tu_parties_make fills them) */
    comity_vkey **vkeys;      /* n verifying keys, parsed from the keys */
    int n;
    /* how a sealed record's `to` picks the keys it is sealed to:
     *   false  the parties `to` names exactly;
     *   true   those, and every party of a bare state `to` names ("pk":
     *          pk.mofa, pk.pkcert), each party once */
    bool seal_states;
} tu_parties;

/* Generates a key per name into p->keys and parses its verifying key into
 * p->vkeys (both freed by tu_parties_free).  0, or -1 when a key could not
 * be made (cmocka's setup convention). */
int tu_parties_make(tu_parties *p);
/* Frees p's keys (NULL entries are skipped) and unsets COMITY_FAKE_NOW. */
void tu_parties_free(tu_parties *p);

/* An RFC 3339 time in milliseconds since the epoch; fails the test when it
 * is not one. */
int64_t tu_time(const char *rfc3339);

/* Signs `body` as party `who` at `at` (RFC 3339), to the comma-separated
 * party names `to` and referring to the comma-separated ids `refs` (both
 * may be NULL); green, or amber sealed to the recipients (p->seal_states
 * says which) when `sealed`.  Verified as a node does; fails the test on
 * any error.  Returns the record: the caller frees it
 * (comity_record_free). */
comity_record *tu_record(const tu_parties *p, int who, const char *type, const char *at,
                         const char *to, const char *refs, const char *body, bool sealed);

#endif
