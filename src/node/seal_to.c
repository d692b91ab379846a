/*
 * seal_to.c: the age recipients a record the node signs itself is sealed
 * to (a delivered record, a destruction record), looked up in the key
 * directory.  The rule of who a sealed record is sealed to is the
 * record layer's (comity_record_seal_recipients, src/record/); this file
 * only hands it the directory's parties and their recipients, so that
 * the node's signers share one lookup.
 */
#include <string.h>

#include "node/node.h"

static int dir_one(const cy_principal *p, void *ctx)
{
    cy_node_seal *d = ctx;
    bool kind = !strcmp(p->kind, "party") || (d->remote && !strcmp(p->kind, "remote"));
    if (!kind || !p->recipient[0])
        return 0;
    if (d->n == d->cap) {
        size_t cap = d->cap ? 2 * d->cap : 16;
        char **a = cy_realloc(d->names, cap * sizeof *a);
        if (a)
            d->names = a;
        char **b = a ? cy_realloc(d->recips, cap * sizeof *b) : NULL;
        if (!b) {
            d->nomem = true;
            return 1;
        }
        d->recips = b;
        d->cap = cap;
    }
    d->names[d->n] = cy_strdup(p->name);
    d->recips[d->n] = cy_strdup(p->recipient);
    if (!d->names[d->n] || !d->recips[d->n]) {
        cy_free(d->names[d->n]);
        cy_free(d->recips[d->n]);
        d->nomem = true;
        return 1;
    }
    d->n++;
    return 0;
}

comity_err cy_node_seal_to(comity_store *st, const char *const *to, size_t nto, bool remote,
                           cy_node_seal *out, comity_error *err)
{
    *out = (cy_node_seal){.remote = remote};
    comity_err rc = cy_store_principal_list(st, dir_one, out, err);
    if (!rc && out->nomem)
        rc = cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    if (!rc)
        rc = comity_record_seal_recipients(to, nto, (const char *const *)out->names,
                                           (const char *const *)out->recips, out->n, &out->seal,
                                           &out->nseal, err);
    if (rc)
        cy_node_seal_free(out);
    return rc;
}

void cy_node_seal_free(cy_node_seal *s)
{
    comity_free(s->seal);
    for (size_t i = 0; i < s->n; i++) {
        cy_free(s->names[i]);
        cy_free(s->recips[i]);
    }
    cy_free(s->names);
    cy_free(s->recips);
    *s = (cy_node_seal){0};
}
