/*
 * match.c: match-time evaluation of STIX indicators (engine.h explains
 * atoms, leaves and indicators; compile.c builds them).
 *
 * engine.c hands each atom hit of the current input record to
 * cy_sw_atom_hit: a leaf that is a plain OR of atoms is satisfied at once;
 * the atoms of an AND leaf wait (at most CY_SW_PENDING_MAX per record,
 * the rest counted) until cy_sw_record_end evaluates the leaves the record
 * touched.  A satisfied leaf is counted with its first evidence; an
 * indicator of one leaf and no qualifiers is reported at once, the others
 * (leaves joined by AND or OR, REPEATS) by cy_sw_finish at the end of the
 * sweep from the leaves' counts.  Reporting is report.c's; this file calls
 * nothing in engine.c or compile.c.
 */
#include <string.h>

#include "stix/pattern.h"
#include "sweep/engine.h"

static void leaf_matched(comity_sweep *sw, uint32_t leaf, const struct cy_sw_evid *ev)
{
    struct cy_sw_leaf *l = &sw->leaves[leaf];
    l->count++;
    if (!l->has_first) {
        l->first = *ev;
        l->first.tok = cy_strdup(ev->tok ? ev->tok : "");
        l->has_first = l->first.tok != NULL;
    }
    if (sw->inds[l->ind].stream)
        cy_sw_report_ind(sw, l->ind, ev);
}

void cy_sw_atom_hit(comity_sweep *sw, uint32_t atom, const struct cy_sw_evid *ev)
{
    const struct cy_sw_atom *a = &sw->atoms[atom];
    const struct cy_sw_leaf *l = &sw->leaves[a->leaf];
    if (sw->inds[l->ind].skip)
        return;
    if (l->simple) {
        leaf_matched(sw, a->leaf, ev);
        return;
    }
    if (sw->npending == CY_SW_PENDING_MAX) {
        sw->pending_overflow++;
        return;
    }
    struct cy_sw_evid *k = &sw->pending_ev[sw->npending];
    *k = *ev;
    k->tok = cy_strdup(ev->tok ? ev->tok : "");
    sw->pending[sw->npending++] = atom;
}

static bool cexpr_true(const comity_sweep *sw, const cy_pat_cexpr *x, uint32_t leaf)
{
    if (x->kind == CY_CEXPR_CMP) {
        for (size_t i = 0; i < sw->npending; i++) {
            const struct cy_sw_atom *a = &sw->atoms[sw->pending[i]];
            if (a->leaf == leaf && a->cmp == x->cmp)
                return true;
        }
        return false;
    }
    bool and = x->kind == CY_CEXPR_AND;
    for (size_t i = 0; i < x->nkids; i++) {
        bool t = cexpr_true(sw, x->kids[i], leaf);
        if (and && !t)
            return false;
        if (!and && t)
            return true;
    }
    return and;
}

void cy_sw_record_end(comity_sweep *sw)
{
    for (size_t i = 0; i < sw->npending; i++) {
        uint32_t leaf = sw->atoms[sw->pending[i]].leaf;
        bool seen = false;
        for (size_t k = 0; k < i && !seen; k++)
            seen = sw->atoms[sw->pending[k]].leaf == leaf;
        if (seen)
            continue;
        const cy_pat_obs *o = sw->leaves[leaf].obs;
        if (cexpr_true(sw, o->cexpr, leaf))
            leaf_matched(sw, leaf, &sw->pending_ev[i]);
    }
    for (size_t i = 0; i < sw->npending; i++)
        cy_free(sw->pending_ev[i].tok);
    sw->npending = 0;
}

/* Whether an observation expression holds over the whole sweep; *ev gets
 * the evidence of a leaf that made it hold. */
static bool obs_true(comity_sweep *sw, const cy_pat_obs *o, uint32_t *leaf_at,
                     const struct cy_sw_evid **ev)
{
    if (o->kind == CY_OBS_LEAF) {
        const struct cy_sw_leaf *l = &sw->leaves[(*leaf_at)++];
        int64_t need = 1;
        for (size_t i = 0; i < o->nquals; i++)
            if (o->quals[i].kind == CY_QUAL_REPEATS)
                need = o->quals[i].times;
        if ((int64_t)l->count >= need && l->has_first) {
            if (!*ev)
                *ev = &l->first;
            return true;
        }
        return false;
    }
    bool and = o->kind == CY_OBS_AND;
    bool res = and;
    for (size_t i = 0; i < o->nkids; i++) {
        bool t = obs_true(sw, o->kids[i], leaf_at, ev); /* visit all: leaf order */
        if (and)
            res = res && t;
        else
            res = res || t;
    }
    return res;
}

void cy_sw_finish(comity_sweep *sw)
{
    for (size_t i = 0; i < sw->ninds; i++) {
        struct cy_sw_ind *in = &sw->inds[i];
        if (in->skip || in->stream || !in->pat)
            continue;
        uint32_t at = in->first_leaf;
        const struct cy_sw_evid *ev = NULL;
        const cy_pattern *p = in->pat;
        if (obs_true(sw, p->root, &at, &ev) && ev)
            cy_sw_report_ind(sw, (uint32_t)i, ev);
    }
}

