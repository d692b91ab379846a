/*
 * pings.c: communication checks' statistics.
 *
 * Pings are messages (messages.c) answered by pongs; this file counts them
 * per recipient and contact kind over a time window: count, answered,
 * response-time percentiles (nearest rank) and the unanswered share; and
 * the same per state or per UN M49 region (regions.h), which needs the
 * response times themselves (percentiles do not add up), so it is done
 * here rather than by a client from the per-contact rows.
 */
#include <stdlib.h>
#include <string.h>

#include "framework/core.h"
#include "framework/regions.h"
#include "framework/seen.h"

/* ---- ping statistics -------------------------------------------------- */

static int i64_cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted v[0..n), n > 0. */
static int64_t pct(const int64_t *v, size_t n, int p)
{
    size_t rank = ((size_t)p * n + 99) / 100;
    return v[rank ? rank - 1 : 0];
}

/* 1 when recipient slot `party` is among `sel` (parties or bare states). */
static bool selected(const char *party, const char *const *sel, size_t n)
{
    if (n == 0)
        return true;
    char st[COMITY_PARTY_MAX + 1];
    cy_fw_state_of(party, st);
    for (size_t i = 0; i < n; i++)
        if (strcmp(sel[i], party) == 0 ||
            (!strchr(sel[i], '.') && strcmp(sel[i], st) == 0))
            return true;
    return false;
}

/* Which recipient slots count: `exact` set, only the slot named exactly
 * so (the report's rows); else `group` set, the slots whose group key (by
 * `by`, group_key) is `group`; else the slots `parties` select. */
struct want {
    const char *exact;
    const char *const *parties;
    size_t nparties;
    const char *by, *group;
};

/* The group key of a recipient slot: its state ("state"), or its state's
 * M49 region code, three digits, or "none" ("region").  OUT buf. */
static const char *group_key(const char *by, const char *party, char buf[COMITY_PARTY_MAX + 1])
{
    char st[COMITY_PARTY_MAX + 1];
    cy_fw_state_of(party, st);
    if (!strcmp(by, "state")) {
        memcpy(buf, st, sizeof st);
        return buf;
    }
    const cy_m49_row *r = cy_m49_of(st);
    if (!r)
        snprintf(buf, COMITY_PARTY_MAX + 1, "none");
    else
        snprintf(buf, COMITY_PARTY_MAX + 1, "%03u", r->region);
    return buf;
}

static bool wanted(const struct want *w, const char *party)
{
    if (w->exact)
        return strcmp(party, w->exact) == 0;
    if (w->group) {
        char k[COMITY_PARTY_MAX + 1];
        return strcmp(group_key(w->by, party, k), w->group) == 0;
    }
    return selected(party, w->parties, w->nparties);
}

/* The slots `w` wants, of pings in [from, to) of `kind` (NULL: all).
 * Only pings `viewer` may see count (seen.h; NULL: all). */
static comity_err stats_of(const comity_framework *fw, const char *viewer, const struct want *w,
                           const char *kind, int64_t from_ms, int64_t to_ms,
                           comity_ping_stats *out, comity_error *err)
{
    memset(out, 0, sizeof *out);
    out->p50_ms = out->p90_ms = -1;
    size_t n = 0, cap = 0;
    int64_t *rt = NULL;
    for (size_t i = 0; i < fw->nmsgs; i++) {
        const msg *m = &fw->msgs[i];
        if (m->type != CY_FW_PING || m->created_ms < from_ms || m->created_ms >= to_ms ||
            !cy_fw_may_see(m, viewer))
            continue;
        for (size_t k = 0; k < m->nr; k++) {
            const rcpt *r = &m->r[k];
            if (!wanted(w, r->party) || (kind && strcmp(r->kind, kind) != 0))
                continue;
            out->count++;
            if (r->state < COMITY_MSG_ANSWERED)
                continue;
            out->answered++;
            if (cy_fw_grow((void **)&rt, &cap, n, sizeof *rt)) {
                cy_free(rt);
                return cy_fw_nomem(err);
            }
            int64_t d = r->answered_ms - m->created_ms;
            rt[n++] = d > 0 ? d : 0;
        }
    }
    if (n) {
        qsort(rt, n, sizeof *rt, i64_cmp);
        out->p50_ms = pct(rt, n, 50);
        out->p90_ms = pct(rt, n, 90);
    }
    if (out->count)
        out->unanswered = (double)(out->count - out->answered) / (double)out->count;
    cy_free(rt);
    return COMITY_OK;
}

static comity_err stats(const comity_framework *fw, const char *viewer, const char *exact,
                        const char *const *parties, size_t nparties, const char *kind,
                        int64_t from_ms, int64_t to_ms, comity_ping_stats *out,
                        comity_error *err)
{
    struct want w = {.exact = exact, .parties = parties, .nparties = nparties};
    return stats_of(fw, viewer, &w, kind, from_ms, to_ms, out, err);
}

comity_err comity_framework_ping_stats(const comity_framework *fw,
                                       const char *const *parties,
                                       size_t nparties, const char *kind,
                                       int64_t from_ms, int64_t to_ms,
                                       comity_ping_stats *out,
                                       comity_error *err)
{
    return stats(fw, NULL, NULL, parties, nparties, kind, from_ms, to_ms, out, err);
}

comity_err comity_framework_ping_stats_as(const comity_framework *fw, const char *viewer,
                                          const char *const *parties, size_t nparties,
                                          const char *kind, int64_t from_ms, int64_t to_ms,
                                          comity_ping_stats *out, comity_error *err)
{
    return stats(fw, viewer ? viewer : "", NULL, parties, nparties, kind, from_ms, to_ms, out,
                 err);
}

static int rcpt_pair_cmp(const void *a, const void *b)
{
    const rcpt *x = *(const rcpt *const *)a, *y = *(const rcpt *const *)b;
    int c = strcmp(x->party, y->party);
    return c ? c : strcmp(x->kind, y->kind);
}

static comity_err report(const comity_framework *fw, const char *viewer, int64_t from_ms,
                         int64_t to_ms, char **json, comity_error *err)
{
    *json = NULL;
    size_t n = 0, cap = 0;
    const rcpt **pairs = NULL;
    for (size_t i = 0; i < fw->nmsgs; i++) {
        const msg *m = &fw->msgs[i];
        if (m->type != CY_FW_PING || m->created_ms < from_ms || m->created_ms >= to_ms ||
            !cy_fw_may_see(m, viewer))
            continue;
        for (size_t k = 0; k < m->nr; k++) {
            const rcpt *r = &m->r[k];
            bool seen = false;
            for (size_t j = 0; j < n && !seen; j++)
                seen = rcpt_pair_cmp(&pairs[j], &r) == 0;
            if (seen)
                continue;
            if (cy_fw_grow((void **)&pairs, &cap, n, sizeof *pairs)) {
                cy_free(pairs);
                return cy_fw_nomem(err);
            }
            pairs[n++] = r;
        }
    }
    if (n)
        qsort(pairs, n, sizeof *pairs, rcpt_pair_cmp);
    json_t *a = json_array();
    comity_err rc = a ? COMITY_OK : cy_fw_nomem(err);
    for (size_t j = 0; j < n && !rc; j++) {
        comity_ping_stats s;
        if ((rc = stats(fw, viewer, pairs[j]->party, NULL, 0, pairs[j]->kind,
                                              from_ms, to_ms, &s, err)))
            break;
        json_t *o = json_pack("{s:s, s:s, s:I, s:I, s:o, s:o, s:f}", "party",
                              pairs[j]->party, "kind", pairs[j]->kind, "count",
                              (json_int_t)s.count, "answered",
                              (json_int_t)s.answered, "p50_ms",
                              s.p50_ms >= 0 ? json_integer(s.p50_ms) : json_null(),
                              "p90_ms",
                              s.p90_ms >= 0 ? json_integer(s.p90_ms) : json_null(),
                              "unanswered", s.unanswered);
        if (!o || json_array_append_new(a, o))
            rc = cy_fw_nomem(err);
    }
    cy_free(pairs);
    if (rc) {
        json_decref(a);
        return rc;
    }
    return cy_fw_dump(a, json, err);
}

comity_err comity_framework_ping_report(const comity_framework *fw, int64_t from_ms,
                                        int64_t to_ms, char **json, comity_error *err)
{
    return report(fw, NULL, from_ms, to_ms, json, err);
}

comity_err comity_framework_ping_report_as(const comity_framework *fw, const char *viewer,
                                           int64_t from_ms, int64_t to_ms, char **json,
                                           comity_error *err)
{
    return report(fw, viewer ? viewer : "", from_ms, to_ms, json, err);
}

/* ---- per state, per region ---------------------------------------------- */

static int str_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

comity_err comity_framework_ping_groups_as(const comity_framework *fw, const char *viewer,
                                           const char *by, const char *kind, int64_t from_ms,
                                           int64_t to_ms, char **json, comity_error *err)
{
    *json = NULL;
    if (!by || (strcmp(by, "state") != 0 && strcmp(by, "region") != 0))
        return cy_fail(err, COMITY_ERR_USAGE, "ping groups: by must be \"state\" or \"region\"");
    viewer = viewer ? viewer : "";
    /* the distinct keys of the pings the viewer sees (a state code at most
     * COMITY_PARTY_MAX bytes, a region "NNN" or "none") */
    size_t n = 0, cap = 0;
    char **keys = NULL;
    comity_err rc = COMITY_OK;
    for (size_t i = 0; i < fw->nmsgs && !rc; i++) {
        const msg *m = &fw->msgs[i];
        if (m->type != CY_FW_PING || m->created_ms < from_ms || m->created_ms >= to_ms ||
            !cy_fw_may_see(m, viewer))
            continue;
        for (size_t k = 0; k < m->nr && !rc; k++) {
            if (kind && strcmp(m->r[k].kind, kind) != 0)
                continue;
            char key[COMITY_PARTY_MAX + 1];
            group_key(by, m->r[k].party, key);
            bool seen = false;
            for (size_t j = 0; j < n && !seen; j++)
                seen = strcmp(keys[j], key) == 0;
            if (seen)
                continue;
            char *dup = cy_strndup(key, strlen(key));
            if (!dup || cy_fw_grow((void **)&keys, &cap, n, sizeof *keys)) {
                cy_free(dup);
                rc = cy_fw_nomem(err);
                break;
            }
            keys[n++] = dup;
        }
    }
    if (n)
        qsort(keys, n, sizeof *keys, str_cmp);
    json_t *a = rc ? NULL : json_array();
    if (!rc && !a)
        rc = cy_fw_nomem(err);
    for (size_t j = 0; j < n && !rc; j++) {
        struct want w = {.by = by, .group = keys[j]};
        comity_ping_stats s;
        if ((rc = stats_of(fw, viewer, &w, kind, from_ms, to_ms, &s, err)))
            break;
        const char *name = NULL, *region = NULL;
        char rbuf[8];
        if (!strcmp(by, "region")) {
            name = strcmp(keys[j], "none") ? cy_m49_name((unsigned)atoi(keys[j])) : NULL;
        } else {
            const cy_m49_row *r = cy_m49_of(keys[j]);
            if (r) {
                snprintf(rbuf, sizeof rbuf, "%03u", r->region);
                region = rbuf;
            }
        }
        json_t *o = json_pack("{s:s, s:I, s:I, s:o, s:o, s:f}", by, keys[j], "count",
                              (json_int_t)s.count, "answered", (json_int_t)s.answered, "p50_ms",
                              s.p50_ms >= 0 ? json_integer(s.p50_ms) : json_null(), "p90_ms",
                              s.p90_ms >= 0 ? json_integer(s.p90_ms) : json_null(),
                              "unanswered", s.unanswered);
        /* absent rather than null: a state M49 does not list, "none" */
        if (o && name && json_object_set_new(o, "name", json_string(name)))
            json_decref(o), o = NULL;
        if (o && region && json_object_set_new(o, "region", json_string(region)))
            json_decref(o), o = NULL;
        if (!o || json_array_append_new(a, o))
            rc = cy_fw_nomem(err);
    }
    for (size_t j = 0; j < n; j++)
        cy_free(keys[j]);
    cy_free(keys);
    if (rc) {
        json_decref(a);
        return rc;
    }
    return cy_fw_dump(a, json, err);
}
