/*
 * compile.c: STIX indicators into the sweep's matcher set.
 *
 * Reads the indicators of a bundle with the stix module's loader
 * (src/stix/bundle.h: patterns already parsed, or a skip reason; duplicate
 * ids and dangling relationships counted) and walks each pattern's tree:
 *   - each comparison that can be looked up becomes an atom whose values go
 *     into the set: `=` and `IN` on string literals of any object path
 *     (domain-name:value matches subdomains, IPs take CIDR ranges),
 *     `ISSUBSET` of an ipv4/ipv6 range, and `LIKE` / `MATCHES` (through
 *     vectorscan, rx.c) on the whole token of the path;
 *   - each bracketed observation is a leaf, evaluated on one input record:
 *     an OR of atoms is true as soon as one hits; an AND needs all of them
 *     to hit in the same record (same line, or same file of a directory);
 *   - leaves joined by AND or OR, and REPEATS n TIMES on a leaf, are decided
 *     at the end of the sweep from the leaves' counts.
 * What the sweep cannot evaluate on its inputs is kept and reported as
 * skipped with the reason (never dropped): negated comparisons and the
 * ordering operators (a log line gives no property values to compare),
 * expressions vectorscan refuses and LIKE/MATCHES on IPs, FOLLOWEDBY,
 * WITHIN and START/STOP (log lines carry no event times the sweep
 * trusts), paths with list indexes,
 * non-string literals, values the set refuses (a 31-digit MD5).
 *
 * Ownership: the sweep keeps every loaded bundle (freed with the sweep);
 * indicators, atoms and leaves point into their parsed patterns.
 *
 * Evaluating the leaves as input is read is match.c's; this file is only
 * called (by engine.c, cy_sw_compile_bundle) and calls nothing in
 * engine.c, match.c or report.c.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "stix/bundle.h"
#include "stix/pattern.h"
#include "sweep/engine.h"

struct cctx {
    comity_sweep *sw;
    struct cy_sw_ind *ind;
    uint32_t ind_idx;
    char *skip; /* first reason found */
};

static void skip(struct cctx *c, const char *fmt, ...) CY_PRINTF(2, 3);
static void skip(struct cctx *c, const char *fmt, ...)
{
    if (c->skip)
        return;
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    c->skip = cy_strdup(tmp);
}

static bool grow(void **arr, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap)
        return true;
    size_t nc = *cap ? *cap * 2 : 64;
    void *p = cy_realloc(*arr, nc * elem);
    if (!p)
        return false;
    *arr = p;
    *cap = nc;
    return true;
}

/* "type:key.key" for a path made only of keys; false otherwise. */
static bool path_name(const cy_pat_path *p, char *out, size_t cap)
{
    size_t o = (size_t)snprintf(out, cap, "%.*s:", (int)p->type_len, p->type);
    for (size_t i = 0; i < p->nsteps; i++) {
        if (p->steps[i].kind != CY_STEP_KEY || o >= cap)
            return false;
        o += (size_t)snprintf(out + o, cap - o, "%s%.*s", i ? "." : "",
                              (int)p->steps[i].key_len, p->steps[i].key);
    }
    return o < cap;
}

static void compile_cmp(struct cctx *c, const cy_pat_cmp *cmp, uint32_t leaf)
{
    comity_sweep *sw = c->sw;
    char name[256];
    if (!path_name(&cmp->path, name, sizeof name)) {
        skip(c, "object path with a list index is not evaluated");
        return;
    }
    if (cmp->negated) {
        skip(c, "NOT %s: a log line does not list what it lacks", cy_pat_op_name(cmp->op));
        return;
    }
    bool rx = cmp->op == CY_OP_LIKE || cmp->op == CY_OP_MATCHES;
    if (cmp->op != CY_OP_EQ && cmp->op != CY_OP_IN && cmp->op != CY_OP_ISSUBSET && !rx) {
        skip(c, "operator %s on %s needs property values that log lines do not carry",
             cy_pat_op_name(cmp->op), name);
        return;
    }
    int path = cy_sw_path_id(sw->set, name, strlen(name));
    if (path == CY_SW_NONE) {
        skip(c, "too many distinct object paths (at %s)", name);
        return;
    }
    if (rx && (path == CY_SW_IPV4 || path == CY_SW_IPV6)) {
        skip(c, "%s on IP addresses is not evaluated", cy_pat_op_name(cmp->op));
        return;
    }
    if (cmp->op == CY_OP_ISSUBSET && path != CY_SW_IPV4 && path != CY_SW_IPV6) {
        skip(c, "ISSUBSET on %s: only IP ranges are evaluated", name);
        return;
    }
    if (cmp->nlits == 0) {
        skip(c, "IN () with no values never matches");
        return;
    }
    if (!grow((void **)&sw->atoms, &sw->atoms_cap, sw->natoms, sizeof *sw->atoms)) {
        skip(c, "out of memory");
        return;
    }
    uint32_t atom = (uint32_t)sw->natoms;
    sw->atoms[sw->natoms++] = (struct cy_sw_atom){.leaf = leaf, .cmp = cmp};
    for (size_t i = 0; i < cmp->nlits; i++) {
        const cy_pat_lit *l = &cmp->lits[i];
        if (l->kind != CY_LIT_STRING) {
            skip(c, "non-string value compared with %s", name);
            return;
        }
        comity_error e = {0};
        const char *note = NULL;
        comity_err r = rx ? cy_sw_set_add_regex(sw->set, path, l->s, l->len,
                                                cmp->op == CY_OP_LIKE, atom, &e)
                          : cy_sw_set_add(sw->set, path, l->s, l->len, atom, &note, &e);
        if (r != COMITY_OK) {
            skip(c, "%s", e.msg);
            return;
        }
        if (note)
            sw->notes_normalised++;
    }
}

static void compile_cexpr(struct cctx *c, const cy_pat_cexpr *x, uint32_t leaf)
{
    if (x->kind == CY_CEXPR_CMP) {
        compile_cmp(c, x->cmp, leaf);
        return;
    }
    for (size_t i = 0; i < x->nkids && !c->skip; i++)
        compile_cexpr(c, x->kids[i], leaf);
}

static bool only_or(const cy_pat_cexpr *x)
{
    if (x->kind == CY_CEXPR_CMP)
        return true;
    if (x->kind == CY_CEXPR_AND)
        return false;
    for (size_t i = 0; i < x->nkids; i++)
        if (!only_or(x->kids[i]))
            return false;
    return true;
}

static void compile_obs(struct cctx *c, const cy_pat_obs *o)
{
    comity_sweep *sw = c->sw;
    for (size_t i = 0; i < o->nquals; i++) {
        if (o->quals[i].kind == CY_QUAL_WITHIN)
            skip(c, "WITHIN needs event times, which log lines do not reliably carry");
        else if (o->quals[i].kind == CY_QUAL_STARTSTOP)
            skip(c, "START/STOP needs event times, which log lines do not reliably carry");
        else if (o->kind != CY_OBS_LEAF)
            skip(c, "REPEATS on a group of observations is not evaluated");
    }
    if (o->kind == CY_OBS_FOLLOWEDBY) {
        skip(c, "FOLLOWEDBY needs event times, which log lines do not reliably carry");
        return;
    }
    if (o->kind != CY_OBS_LEAF) {
        for (size_t i = 0; i < o->nkids && !c->skip; i++)
            compile_obs(c, o->kids[i]);
        return;
    }
    if (!grow((void **)&sw->leaves, &sw->leaves_cap, sw->nleaves, sizeof *sw->leaves)) {
        skip(c, "out of memory");
        return;
    }
    uint32_t leaf = (uint32_t)sw->nleaves++;
    sw->leaves[leaf] = (struct cy_sw_leaf){.ind = c->ind_idx, .obs = o,
                                          .simple = only_or(o->cexpr)};
    c->ind->nleaves++;
    compile_cexpr(c, o->cexpr, leaf);
}

static comity_err compile_indicator(comity_sweep *sw, struct cy_sw_ind *ind,
                                   comity_error *err)
{
    const cy_pattern *p = ind->pat;
    struct cctx c = {.sw = sw, .ind = ind, .ind_idx = (uint32_t)(ind - sw->inds)};
    ind->first_leaf = (uint32_t)sw->nleaves;
    compile_obs(&c, p->root);
    ind->stream = p->root->kind == CY_OBS_LEAF && p->root->nquals == 0;
    ind->skip = c.skip;
    (void)err;
    return COMITY_OK;
}

/* ---- a bundle's indicators ---------------------------------------------- */

static comity_err add_indicator(comity_sweep *sw, const cy_indicator *ci, uint32_t src,
                                comity_error *err)
{
    if (!grow((void **)&sw->inds, &sw->inds_cap, sw->ninds, sizeof *sw->inds))
        return cy_fail(err, COMITY_ERR_NOMEM, "sweep: out of memory");
    struct cy_sw_ind *in = &sw->inds[sw->ninds];
    memset(in, 0, sizeof *in);
    in->src = src;
    in->id = cy_strdup(ci->id);
    in->name = ci->name ? cy_strdup(ci->name) : NULL;
    in->pattern = cy_strdup(ci->pattern_text ? ci->pattern_text : "");
    sw->ninds++;
    if (!in->id || !in->pattern || (ci->name && !in->name))
        return cy_fail(err, COMITY_ERR_NOMEM, "sweep: out of memory");
    if (!ci->pattern) {
        in->skip = cy_strdup(ci->skip_reason ? ci->skip_reason : "pattern not parsed");
        if (!in->skip)
            return cy_fail(err, COMITY_ERR_NOMEM, "sweep: out of memory");
        return COMITY_OK;
    }
    in->pat = ci->pattern; /* owned by the bundle, kept in sw->bundles */
    return compile_indicator(sw, in, err);
}

comity_err cy_sw_compile_bundle(comity_sweep *sw, const void *bundle, uint32_t src,
                                comity_error *err)
{
    const cy_bundle *b = bundle;
    comity_err rc = COMITY_OK;
    size_t n = cy_bundle_count(b);
    for (size_t i = 0; i < n && rc == COMITY_OK; i++)
        rc = add_indicator(sw, cy_bundle_get(b, i), src, err);
    const cy_bundle_stats *st = cy_bundle_stats_get(b);
    sw->stix_dup_ids += st->duplicates;
    sw->stix_dangling += st->dangling_refs;
    return rc;
}
