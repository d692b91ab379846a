/*
 * engine.c: the comity_sweep handle: plain indicator lists, STIX bundles
 * (their indicators compiled by compile.c), the field map, and running the
 * readers over paths.
 *
 * Hits arrive from the readers one at a time and in input order (read.c
 * guarantees it), so this file keeps its per-run state without locks.  A hit
 * of a plain-list value is reported at once (report.c); a hit of a STIX
 * atom goes to match.c, which decides when its indicator is matched and
 * reports it.  At the end of a run report.c writes the STIX bundle of
 * Sightings (when asked) and the summary.  The files of src/sweep call one
 * way: engine.c -> compile.c, match.c, report.c, read.c; match.c ->
 * report.c; all of them -> set.c (and rx.c through it).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "stix/bundle.h"
#include "sweep/engine.h"
#include "sweep/rx.h"

#define TOK_SHOW 256 /* bytes of a matched token shown */

comity_err comity_sweep_new(comity_sweep **out, comity_error *err)
{
    *out = NULL;
    comity_sweep *sw = cy_calloc(1, sizeof *sw);
    if (!sw)
        return cy_fail(err, COMITY_ERR_NOMEM, "sweep: out of memory");
    comity_err rc = cy_sw_set_new(&sw->set, err);
    if (rc != COMITY_OK) {
        cy_free(sw);
        return rc;
    }
    *out = sw;
    return COMITY_OK;
}

static void evid_free(struct cy_sw_evid *e)
{
    cy_free(e->tok);
    e->tok = NULL;
}

static void run_reset(comity_sweep *sw)
{
    for (size_t i = 0; i < sw->nsights; i++)
        for (uint32_t k = 0; k < sw->sights[i].nev; k++)
            evid_free(&sw->sights[i].ev[k]);
    cy_free(sw->sights);
    cy_free(sw->sight_idx);
    sw->sights = NULL;
    sw->sight_idx = NULL;
    sw->nsights = sw->sights_cap = sw->sight_mask = 0;
    for (size_t i = 0; i < sw->nunits; i++)
        cy_free(sw->units[i]);
    cy_free(sw->units);
    sw->units = NULL;
    sw->nunits = 0;
    for (size_t i = 0; i < sw->npending; i++)
        evid_free(&sw->pending_ev[i]);
    sw->npending = 0;
    for (size_t i = 0; i < sw->nleaves; i++) {
        evid_free(&sw->leaves[i].first);
        sw->leaves[i].has_first = false;
        sw->leaves[i].count = 0;
    }
    sw->hits = 0;
    memset(&sw->st, 0, sizeof sw->st);
}

void comity_sweep_free(comity_sweep *sw)
{
    if (!sw)
        return;
    run_reset(sw);
    cy_sw_set_free(sw->set);
    for (size_t i = 0; i < sw->nsrc; i++)
        cy_free(sw->sources[i]);
    cy_free(sw->sources);
    for (size_t i = 0; i < sw->ninds; i++) {
        cy_free(sw->inds[i].id);
        cy_free(sw->inds[i].name);
        cy_free(sw->inds[i].pattern);
        cy_free(sw->inds[i].skip);
    }
    for (size_t i = 0; i < sw->nbundles; i++)
        cy_bundle_free(sw->bundles[i]);
    cy_free(sw->bundles);
    cy_free(sw->inds);
    cy_free(sw->leaves);
    cy_free(sw->atoms);
    for (size_t i = 0; i < sw->map.n; i++)
        cy_free(sw->map.key[i]);
    cy_free(sw);
}

static comity_err add_source(comity_sweep *sw, const char *name, uint32_t *idx,
                             comity_error *err)
{
    char **n = cy_realloc(sw->sources, (sw->nsrc + 1) * sizeof *n);
    if (!n)
        return cy_fail(err, COMITY_ERR_NOMEM, "sweep: out of memory");
    sw->sources = n;
    n[sw->nsrc] = cy_strdup(name ? name : "-");
    if (!n[sw->nsrc])
        return cy_fail(err, COMITY_ERR_NOMEM, "sweep: out of memory");
    *idx = (uint32_t)sw->nsrc++;
    return COMITY_OK;
}

comity_err comity_sweep_add_list(comity_sweep *sw, const char *type,
                                 const char *text, size_t len, const char *source,
                                 comity_error *err)
{
    if (sw->compiled)
        return cy_fail(err, COMITY_ERR_USAGE, "sweep: indicators added after compile");
    int path = type ? cy_sw_type_path(type) : CY_SW_NONE;
    if (path == CY_SW_NONE)
        return cy_fail(err, COMITY_ERR_USAGE, "sweep: unknown list type '%s'",
                       type ? type : "(none)");
    if (len > CY_SW_LIST_MAX)
        return cy_fail(err, COMITY_ERR_TOOBIG, "sweep: list larger than %u bytes",
                       CY_SW_LIST_MAX);
    uint32_t src;
    comity_err rc = add_source(sw, source, &src, err);
    if (rc != COMITY_OK)
        return rc;
    /* Room for the values at once (a guess: one per 8 bytes; more grow
     * the table as they come, fewer are given back by the build), and no
     * comment search per line when the list has no '#' at all. */
    rc = cy_sw_set_reserve(sw->set, len / 8 + 1, len, err);
    const bool comments = memchr(text, '#', len) != NULL;
    const char *p = text, *end = text + len;
    size_t lineno = 0;
    while (rc == COMITY_OK && p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *e = nl ? nl : end;
        lineno++;
        const char *a = p;
        while (a < e && (*a == ' ' || *a == '\t'))
            a++;
        const char *z = comments && a < e ? memchr(a, '#', (size_t)(e - a)) : NULL;
        if (!z)
            z = e;
        while (z > a && (z[-1] == ' ' || z[-1] == '\t' || z[-1] == '\r'))
            z--;
        if (z > a) {
            const char *note;
            rc = cy_sw_set_add(sw->set, path, a, (size_t)(z - a), CY_SW_REF_LIST | src,
                               &note, err);
            if (rc != COMITY_OK)
                rc = cy_wrap(err, "%s line %zu", source ? source : "-", lineno);
            sw->list_values++;
            if (note)
                sw->notes_normalised++;
        }
        p = nl ? nl + 1 : end;
    }
    return rc;
}

comity_err comity_sweep_add_stix(comity_sweep *sw, const char *json, size_t len,
                                 const char *source, size_t *added, comity_error *err)
{
    if (added)
        *added = 0;
    if (sw->compiled)
        return cy_fail(err, COMITY_ERR_USAGE, "sweep: indicators added after compile");
    cy_bundle *b = NULL;
    comity_err rc = cy_bundle_parse(json, len, &b, err);
    if (rc != COMITY_OK)
        return cy_wrap(err, "%s", source ? source : "bundle");
    void **nb = cy_realloc(sw->bundles, (sw->nbundles + 1) * sizeof *nb);
    if (!nb) {
        cy_bundle_free(b);
        return cy_fail(err, COMITY_ERR_NOMEM, "sweep: out of memory");
    }
    sw->bundles = nb;
    nb[sw->nbundles++] = b;
    uint32_t src = 0;
    rc = add_source(sw, source, &src, err);
    if (rc == COMITY_OK)
        rc = cy_sw_compile_bundle(sw, b, src, err);
    if (added)
        *added = cy_bundle_count(b);
    return rc;
}

comity_err comity_sweep_map(comity_sweep *sw, const char *spec, comity_error *err)
{
    static const struct {
        const char *name;
        const char *fields[8];
    } presets[] = {
        {"zeek-dns", {"query=domain-name:value", "id.orig_h=ipv4-addr:value",
                      "id.resp_h=ipv4-addr:value", "answers=domain-name:value", NULL}},
        {"zeek-http", {"host=domain-name:value", "id.orig_h=ipv4-addr:value",
                       "id.resp_h=ipv4-addr:value", "uri=url:value", NULL}},
        {"zeek-conn", {"id.orig_h=ipv4-addr:value", "id.resp_h=ipv4-addr:value", NULL}},
        /* common JSON DNS query logs (dnstap-to-JSON, resolvers, cloud DNS) */
        {"dns", {"query=domain-name:value", "qname=domain-name:value",
                 "question.name=domain-name:value", "query_name=domain-name:value",
                 "client=ipv4-addr:value", "client_ip=ipv4-addr:value",
                 "src_ip=ipv4-addr:value", NULL}},
        /* common proxy logs in JSON or CSV */
        {"proxy", {"url=url:value", "host=domain-name:value", "dest_host=domain-name:value",
                   "dest_ip=ipv4-addr:value", "client_ip=ipv4-addr:value",
                   "src_ip=ipv4-addr:value", NULL}},
    };
    for (size_t i = 0; i < CY_ARRAY_LEN(presets); i++) {
        if (strcmp(spec, presets[i].name) != 0)
            continue;
        for (size_t k = 0; presets[i].fields[k]; k++) {
            comity_err rc = comity_sweep_map(sw, presets[i].fields[k], err);
            if (rc != COMITY_OK)
                return rc;
        }
        return COMITY_OK;
    }
    const char *eq = strchr(spec, '=');
    if (!eq || eq == spec || !eq[1])
        return cy_fail(err, COMITY_ERR_USAGE,
                       "sweep: field map '%s' is not FIELD=TYPE:PROPERTY or a preset", spec);
    if (sw->map.n == CY_SW_FIELDS_MAX)
        return cy_fail(err, COMITY_ERR_TOOBIG, "sweep: more than %d mapped fields",
                       CY_SW_FIELDS_MAX);
    /* A --type name (domain, ip, ...) or an object path (type:property). */
    int path = cy_sw_type_path(eq + 1);
    if (path == CY_SW_NONE && strchr(eq + 1, ':'))
        path = cy_sw_path_id(sw->set, eq + 1, strlen(eq + 1));
    if (path == CY_SW_NONE)
        return cy_fail(err, COMITY_ERR_USAGE, "sweep: unknown object path '%s'", eq + 1);
    char *key = cy_strndup(spec, (size_t)(eq - spec));
    if (!key)
        return cy_fail(err, COMITY_ERR_NOMEM, "sweep: out of memory");
    sw->map.key[sw->map.n] = key;
    sw->map.path[sw->map.n] = path;
    sw->map.n++;
    return COMITY_OK;
}

comity_err comity_sweep_compile(comity_sweep *sw, comity_error *err)
{
    if (sw->compiled)
        return COMITY_OK;
    comity_err rc = cy_sw_set_build(sw->set, err);
    if (rc == COMITY_OK)
        sw->compiled = true;
    return rc;
}

size_t comity_sweep_indicators(const comity_sweep *sw, size_t *skipped)
{
    size_t sk = 0;
    for (size_t i = 0; i < sw->ninds; i++)
        sk += sw->inds[i].skip != NULL;
    if (skipped)
        *skipped = sk;
    return sw->ninds + sw->list_values;
}

/* ---- per-run bookkeeping --------------------------------------------- */

static comity_err intern_unit(comity_sweep *sw, const char *unit, uint32_t *idx)
{
    if (sw->nunits && strcmp(sw->units[sw->nunits - 1], unit) == 0) {
        *idx = (uint32_t)sw->nunits - 1;
        return COMITY_OK;
    }
    char **n = cy_realloc(sw->units, (sw->nunits + 1) * sizeof *n);
    if (!n)
        return COMITY_ERR_NOMEM;
    sw->units = n;
    if (!(n[sw->nunits] = cy_strdup(unit)))
        return COMITY_ERR_NOMEM;
    *idx = (uint32_t)sw->nunits++;
    return COMITY_OK;
}

/* ---- the sink the readers call ---------------------------------------- */

static int on_hit(void *ud, const char *unit, const cy_sw_hit *h)
{
    comity_sweep *sw = ud;
    char tok[TOK_SHOW + 1];
    size_t tl = h->tok_len < TOK_SHOW ? h->tok_len : TOK_SHOW;
    memcpy(tok, h->tok, tl);
    tok[tl] = 0;
    for (size_t i = 0; i < tl; i++)
        if ((unsigned char)tok[i] < 0x20)
            tok[i] = '?';
    struct cy_sw_evid ev = {.line = h->line, .offset = h->offset, .tok = tok};
    if (intern_unit(sw, unit, &ev.unit) != COMITY_OK) {
        sw->run_err = COMITY_ERR_NOMEM;
        return 1;
    }
    const uint32_t *refs;
    size_t n = cy_sw_set_refs(sw->set, h->entry, &refs);
    for (size_t i = 0; i < n; i++) {
        if (refs[i] & CY_SW_REF_LIST)
            cy_sw_report_list(sw, h->entry, refs[i] & ~CY_SW_REF_LIST, h->path, &ev);
        else
            cy_sw_atom_hit(sw, refs[i], &ev);
    }
    return sw->run_err != COMITY_OK;
}

static void on_record(void *ud, const char *unit, uint64_t line)
{
    (void)unit;
    (void)line;
    cy_sw_record_end(ud);
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_progress(void *ud, uint64_t bytes)
{
    comity_sweep *sw = ud;
    sw->progress_bytes += bytes;
    if (!sw->opts->progress || !sw->opts->notes)
        return;
    int64_t now = mono_ms();
    if (now - sw->progress_last < 250)
        return;
    sw->progress_last = now;
    fprintf(sw->opts->notes, "\rsweep: %llu MB scanned, %llu hits   ",
            (unsigned long long)(sw->progress_bytes >> 20), (unsigned long long)sw->hits);
    fflush(sw->opts->notes);
}

static void on_note(void *ud, const char *unit, const char *msg)
{
    comity_sweep *sw = ud;
    if (sw->opts->notes)
        fprintf(sw->opts->notes, "sweep: %s: %s\n", unit, msg);
}

comity_err comity_sweep_run(comity_sweep *sw, const char *const *paths, size_t npaths,
                            const comity_sweep_opts *opts, uint64_t *hits,
                            comity_error *err)
{
    comity_sweep_opts defaults = {0};
    if (!opts)
        opts = &defaults;
    comity_err rc = comity_sweep_compile(sw, err);
    if (rc != COMITY_OK)
        return rc;
    run_reset(sw);
    sw->opts = opts;
    sw->out = opts->out ? opts->out : stdout;
    sw->run_err = COMITY_OK;
    int threads = opts->threads;
    if (threads <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        threads = n > 0 ? (int)n : 1;
    }
    cy_sw_sink sink = {.hit = on_hit, .record = on_record, .progress = on_progress,
                       .note = on_note, .ud = sw};
    comity_err first_io = COMITY_OK;
    comity_error e2;
    for (size_t i = 0; i < npaths && rc == COMITY_OK; i++) {
        memset(&e2, 0, sizeof e2);
        comity_err r = cy_sw_read_path(sw->set, paths[i], threads,
                                       sw->map.n ? &sw->map : NULL, &sink, &sw->st, &e2);
        if (sw->run_err != COMITY_OK) {
            rc = cy_fail(err, sw->run_err, "sweep: out of memory");
        } else if (r == COMITY_ERR_IO) {
            if (opts->notes)
                fprintf(opts->notes, "sweep: %s\n", e2.msg);
            if (first_io == COMITY_OK) {
                first_io = r;
                *err = e2;
            }
        } else if (r != COMITY_OK) {
            rc = r;
            if (err)
                *err = e2;
        }
    }
    if (rc == COMITY_OK) {
        cy_sw_finish(sw);
        if (opts->format == COMITY_SWEEP_STIX)
            rc = cy_sw_write_bundle(sw, err);
    }
    cy_sw_summary(sw);
    cy_sw_rx_thread_done();
    if (hits)
        *hits = sw->hits;
    if (rc == COMITY_OK && first_io != COMITY_OK)
        rc = first_io;
    return rc;
}
