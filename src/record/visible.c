/*
 * visible.c: who may see a record (the rule is written out in visible.h).
 *
 * The filter names the TLP levels open to the reader (clear for everyone,
 * green too once authenticated) and the names that make a sealed record
 * the reader's own: its name as author, and as recipient its name and its
 * state (the part before the first '.'), for records addressed to a bare
 * state.  No allocation, no I/O.
 */
#include <stdio.h>
#include <string.h>

#include "record/visible.h"

static const char TLP_CLEAR[] = "clear";
static const char TLP_GREEN[] = "green";

void cy_record_visibility(const char *name, cy_record_filter *f)
{
    memset(f, 0, sizeof *f);
    f->tlps[f->ntlps++] = TLP_CLEAR;
    if (!name || !*name || strlen(name) > COMITY_PARTY_MAX)
        return; /* anonymous (or no usable name): clear records only */
    f->tlps[f->ntlps++] = TLP_GREEN;
    snprintf(f->author, sizeof f->author, "%s", name);
    snprintf(f->to[f->nto++], sizeof f->to[0], "%s", name);
    size_t sl = strcspn(name, ".");
    if (name[sl] == '.') { /* an office: records to its bare state too */
        memcpy(f->to[f->nto], name, sl);
        f->to[f->nto++][sl] = '\0';
    }
}

bool cy_record_filter_passes(const cy_record_filter *f, const char *tlp, const char *author,
                             const char *const *to, size_t nto)
{
    for (size_t i = 0; i < f->ntlps; i++)
        if (strcmp(tlp, f->tlps[i]) == 0)
            return true;
    if (f->author[0] && strcmp(author, f->author) == 0)
        return true;
    for (size_t i = 0; i < nto; i++)
        for (size_t k = 0; k < f->nto; k++)
            if (strcmp(to[i], f->to[k]) == 0)
                return true;
    return false;
}

/* Adds `name` (its first `len` bytes) to the view unless it is there. */
static comity_err view_add(cy_peer_view *v, const char *name, size_t len, comity_error *err)
{
    if (len == 0 || len > COMITY_PARTY_MAX)
        return cy_fail(err, COMITY_ERR_INVALID, "peer visibility: '%.*s' is no party name",
                       (int)(len > 80 ? 80 : len), name);
    for (size_t i = 0; i < v->f.nto; i++)
        if (strlen(v->names[i]) == len && memcmp(v->names[i], name, len) == 0)
            return COMITY_OK;
    if (v->f.nto == CY_PEER_FILTER_MAX)
        return cy_fail(err, COMITY_ERR_TOOBIG, "peer visibility: the parties homed at the peer "
                       "and their states make more than %d names", CY_PEER_FILTER_MAX);
    memcpy(v->names[v->f.nto], name, len);
    v->names[v->f.nto][len] = '\0';
    v->to[v->f.nto] = v->names[v->f.nto];
    v->f.nto++;
    return COMITY_OK;
}

comity_err cy_record_peer_visibility(const char *const *parties, size_t n, cy_peer_view *v,
                                     comity_error *err)
{
    memset(&v->f, 0, sizeof v->f);
    v->tlps[0] = TLP_CLEAR;
    v->tlps[1] = TLP_GREEN;
    v->f.tlps = v->tlps;
    v->f.ntlps = 2;
    v->f.to = v->to;
    comity_err rc;
    for (size_t i = 0; i < n; i++) {
        /* the party, and its state: a record to a bare state addresses
         * every office of it */
        if ((rc = view_add(v, parties[i], strlen(parties[i]), err)) ||
            (rc = view_add(v, parties[i], strcspn(parties[i], "."), err)))
            return rc;
    }
    return COMITY_OK;
}

bool cy_record_peer_file_visible(const cy_peer_view *v, bool author_local,
                                 const char *const *to, size_t nto)
{
    if (!author_local)
        return false; /* a peer never relays: files come from their origin */
    for (size_t i = 0; i < nto; i++)
        for (size_t k = 0; k < v->f.nto; k++)
            if (to[i] && strcmp(to[i], v->names[k]) == 0)
                return true;
    return false;
}
