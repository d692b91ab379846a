/*
 * address.c: whom a record's `to` names (specs/records.md).
 *
 * A recipient is a party ("in.cert") or a bare state ("in"), which
 * addresses every office of that state.  This is the one place that says
 * so for senders: the command resolves a sealed record's recipients to the
 * age recipients it seals to through comity_record_seal_recipients, and
 * asks comity_record_addresses whether a `to` entry names a party.
 */
#include <string.h>

#include "base/base.h"

int comity_record_addresses(const char *to, const char *party)
{
    if (!to || !party)
        return 0;
    if (strcmp(to, party) == 0)
        return 1;
    size_t tl = strlen(to);
    /* a bare state (no dot) names every party whose first label it is */
    return !strchr(to, '.') && strncmp(party, to, tl) == 0 && party[tl] == '.';
}

/* Adds r to out[0..*n) unless it is there already (a party named twice,
 * or both as itself and through its state, is sealed to once). */
static void add_once(const char **out, size_t *n, const char *r)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp(out[i], r) == 0)
            return;
    out[(*n)++] = r;
}

comity_err comity_record_seal_recipients(const char *const *to, size_t nto,
                                         const char *const *parties,
                                         const char *const *recipients, size_t n,
                                         const char ***out, size_t *nout,
                                         comity_error *err)
{
    *out = NULL;
    *nout = 0;
    if (nto > COMITY_RECORD_MAX_TO)
        return cy_fail(err, COMITY_ERR_TOOBIG, "record.to: more than %d recipients",
                       COMITY_RECORD_MAX_TO);
    /* at most one entry per directory line, and never more than n */
    const char **v = cy_calloc(n ? n : 1, sizeof *v);
    if (!v)
        return cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    size_t k = 0;
    for (size_t i = 0; i < nto; i++) {
        if (!to[i] || !comity_party_valid(to[i], NULL)) {
            cy_free(v);
            return cy_fail(err, COMITY_ERR_INVALID, "record.to[%zu]: '%.80s' is not a party name",
                           i, to[i] ? to[i] : "(null)");
        }
        /* the party itself when the directory lists it with a recipient,
         * else (a bare state) every office of the state that has one */
        bool found = false;
        for (size_t j = 0; j < n; j++)
            if (recipients[j] && parties[j] && strcmp(parties[j], to[i]) == 0) {
                add_once(v, &k, recipients[j]);
                found = true;
            }
        bool exact = found;
        for (size_t j = 0; !exact && j < n; j++)
            if (recipients[j] && parties[j] && comity_record_addresses(to[i], parties[j])) {
                add_once(v, &k, recipients[j]);
                found = true;
            }
        if (!found) {
            cy_free(v);
            return cy_fail(err, COMITY_ERR_NOKEY, "record.to[%zu]: no age recipient for '%s'",
                           i, to[i]);
        }
    }
    *out = v;
    *nout = k;
    return COMITY_OK;
}
