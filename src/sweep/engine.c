/*
 * engine.c: the comity_sweep handle: plain indicator lists, the field map,
 * running the readers over paths, and the three outputs (human text, JSON
 * lines, a STIX 2.1 bundle of Sightings).
 *
 * Hits arrive from the readers one at a time and in input order (read.c
 * guarantees it), so this file keeps its per-run state without locks.  A hit
 * of a plain-list value is reported at once; a hit of a STIX atom goes to
 * compile.c, which decides when its indicator is matched.  Every reported
 * match is counted per indicator with its first CY_SW_EVID_MAX hits kept as
 * evidence (bounded memory whatever the input), which is what the STIX
 * Sightings and the closing summary are made of.
 *
 * Plain-list values have no STIX id; they get a stable one derived from a
 * BLAKE2b hash of their type and value (so two sweeps of the same list name
 * the same indicator), shaped as a UUID with version 4 bits.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

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
        cy_sw_free_bundle(sw->bundles[i]);
    cy_free(sw->bundles);
    cy_free(sw->inds);
    cy_free(sw->leaves);
    cy_free(sw->atoms);
    for (size_t i = 0; i < sw->map.n; i++)
        cy_free(sw->map.key[i]);
    cy_free(sw);
}

comity_err cy_sw_add_source(comity_sweep *sw, const char *name, uint32_t *idx,
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
    comity_err rc = cy_sw_add_source(sw, source, &src, err);
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

comity_err cy_sw_intern_unit(comity_sweep *sw, const char *unit, uint32_t *idx)
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

static struct cy_sw_sight *sight_get(comity_sweep *sw, uint64_t key)
{
    if (sw->nsights * 2 >= sw->sight_mask) {
        size_t cap = sw->sight_mask ? (sw->sight_mask + 1) * 2 : 64;
        uint32_t *idx = cy_calloc(cap, sizeof *idx);
        if (!idx)
            return NULL;
        for (size_t i = 0; i < sw->nsights; i++) {
            size_t j = (size_t)(sw->sights[i].key * 0x9e3779b97f4a7c15ULL >> 17) & (cap - 1);
            while (idx[j])
                j = (j + 1) & (cap - 1);
            idx[j] = (uint32_t)i + 1;
        }
        cy_free(sw->sight_idx);
        sw->sight_idx = idx;
        sw->sight_mask = cap - 1;
    }
    size_t j = (size_t)(key * 0x9e3779b97f4a7c15ULL >> 17) & sw->sight_mask;
    while (sw->sight_idx[j]) {
        struct cy_sw_sight *s = &sw->sights[sw->sight_idx[j] - 1];
        if (s->key == key)
            return s;
        j = (j + 1) & sw->sight_mask;
    }
    if (sw->nsights == sw->sights_cap) {
        size_t nc = sw->sights_cap ? sw->sights_cap * 2 : 64;
        struct cy_sw_sight *n = cy_realloc(sw->sights, nc * sizeof *n);
        if (!n)
            return NULL;
        sw->sights = n;
        sw->sights_cap = nc;
    }
    struct cy_sw_sight *s = &sw->sights[sw->nsights];
    memset(s, 0, sizeof *s);
    s->key = key;
    sw->sight_idx[j] = (uint32_t)++sw->nsights;
    return s;
}

/* A stable indicator id for a plain-list value. */
static void list_id(const comity_sweep *sw, uint32_t entry, char out[64])
{
    char v[CY_SW_VALUE_MAX + 64];
    const char *pn = cy_sw_path_name(sw->set, cy_sw_set_entry_path(sw->set, entry));
    cy_sw_set_value(sw->set, entry, v, sizeof v);
    uint8_t h[16];
    crypto_generichash_state st;
    crypto_generichash_init(&st, (const uint8_t *)"comity-sweep-list", 17, sizeof h);
    crypto_generichash_update(&st, (const uint8_t *)pn, strlen(pn) + 1);
    crypto_generichash_update(&st, (const uint8_t *)v, strlen(v));
    crypto_generichash_final(&st, h, sizeof h);
    h[6] = (uint8_t)((h[6] & 0x0f) | 0x40);
    h[8] = (uint8_t)((h[8] & 0x3f) | 0x80);
    char hx[33];
    cy_hex_encode(hx, h, 16);
    snprintf(out, 64, "indicator--%.8s-%.4s-%.4s-%.4s-%.12s", hx, hx + 8, hx + 12, hx + 16,
             hx + 20);
}

/* A JSON string for text that may not be UTF-8 (log bytes, file names):
 * bytes of invalid sequences become '?'. */
static json_t *jstr(const char *s)
{
    json_t *j = json_string(s);
    if (j)
        return j;
    size_t n = strlen(s);
    char *c = cy_malloc(n + 1);
    if (!c)
        return json_string("?");
    for (size_t i = 0; i < n; i++)
        c[i] = (unsigned char)s[i] < 0x80 ? s[i] : '?';
    c[n] = 0;
    j = json_string(c);
    cy_free(c);
    return j;
}

static void keep_evidence(struct cy_sw_sight *s, const struct cy_sw_evid *ev)
{
    s->count++;
    if (s->nev < CY_SW_EVID_MAX) {
        struct cy_sw_evid *k = &s->ev[s->nev];
        *k = *ev;
        k->tok = cy_strdup(ev->tok ? ev->tok : "");
        if (k->tok)
            s->nev++;
    }
}

static void print_hit(comity_sweep *sw, const char *id, const char *what,
                      const char *path, const char *value, const char *source,
                      const struct cy_sw_evid *ev)
{
    FILE *o = sw->out;
    const char *unit = sw->units[ev->unit];
    if (sw->opts->format == COMITY_SWEEP_TEXT) {
        if (ev->line)
            fprintf(o, "%s:%llu: %s matched \"%s\" at byte %llu (%s)\n", unit,
                    (unsigned long long)ev->line, what, ev->tok,
                    (unsigned long long)ev->offset, id);
        else /* the file itself: its name, path or hash */
            fprintf(o, "%s: %s matched \"%s\" (%s)\n", unit, what, ev->tok, id);
    } else if (sw->opts->format == COMITY_SWEEP_JSONL) {
        json_t *j = json_object();
        json_object_set_new(j, "indicator", json_string(id));
        if (path)
            json_object_set_new(j, "path", json_string(path));
        if (value)
            json_object_set_new(j, "value", json_string(value));
        else
            json_object_set_new(j, "pattern", jstr(what));
        json_object_set_new(j, "matched", jstr(ev->tok));
        json_object_set_new(j, "file", jstr(unit));
        json_object_set_new(j, "line", json_integer((json_int_t)ev->line));
        json_object_set_new(j, "offset", json_integer((json_int_t)ev->offset));
        if (source)
            json_object_set_new(j, "source", jstr(source));
        char *s = json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII);
        if (s) {
            fputs(s, o);
            fputc('\n', o);
            free(s);
        }
        json_decref(j);
    }
}

static void report_list(comity_sweep *sw, uint32_t entry, uint32_t src, int path,
                        const struct cy_sw_evid *ev)
{
    sw->hits++;
    struct cy_sw_sight *s = sight_get(sw, (uint64_t)entry | (1ULL << 40));
    if (!s) {
        sw->run_err = COMITY_ERR_NOMEM;
        return;
    }
    keep_evidence(s, ev);
    if (sw->opts->format == COMITY_SWEEP_STIX)
        return;
    char id[64], v[CY_SW_VALUE_MAX + 64], what[CY_SW_VALUE_MAX + 256];
    list_id(sw, entry, id);
    cy_sw_set_value(sw->set, entry, v, sizeof v);
    const char *pn = cy_sw_path_name(sw->set, path);
    snprintf(what, sizeof what, "%s %s (list %s)", pn, v, sw->sources[src]);
    print_hit(sw, id, what, pn, v, sw->sources[src], ev);
}

void cy_sw_report_ind(comity_sweep *sw, uint32_t ind, const struct cy_sw_evid *ev)
{
    sw->hits++;
    struct cy_sw_sight *s = sight_get(sw, ind);
    if (!s) {
        sw->run_err = COMITY_ERR_NOMEM;
        return;
    }
    keep_evidence(s, ev);
    if (sw->opts->format == COMITY_SWEEP_STIX)
        return;
    const struct cy_sw_ind *in = &sw->inds[ind];
    print_hit(sw, in->id, in->pattern, NULL, NULL, sw->sources[in->src], ev);
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
    if (cy_sw_intern_unit(sw, unit, &ev.unit) != COMITY_OK) {
        sw->run_err = COMITY_ERR_NOMEM;
        return 1;
    }
    const uint32_t *refs;
    size_t n = cy_sw_set_refs(sw->set, h->entry, &refs);
    for (size_t i = 0; i < n; i++) {
        if (refs[i] & CY_SW_REF_LIST)
            report_list(sw, h->entry, refs[i] & ~CY_SW_REF_LIST, h->path, &ev);
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

/* ---- STIX output ------------------------------------------------------ */

static json_t *evidence_json(const comity_sweep *sw, const struct cy_sw_sight *s)
{
    json_t *a = json_array();
    for (uint32_t i = 0; i < s->nev; i++) {
        json_t *e = json_object();
        json_object_set_new(e, "file", jstr(sw->units[s->ev[i].unit]));
        json_object_set_new(e, "line", json_integer((json_int_t)s->ev[i].line));
        json_object_set_new(e, "offset", json_integer((json_int_t)s->ev[i].offset));
        json_object_set_new(e, "matched", jstr(s->ev[i].tok));
        json_array_append_new(a, e);
    }
    return a;
}

/* A STIX string literal for value (quotes and backslashes escaped). */
static void stix_quote(char *out, size_t cap, const char *v)
{
    size_t o = 0;
    for (; *v && o + 3 < cap; v++) {
        if (*v == '\'' || *v == '\\')
            out[o++] = '\\';
        out[o++] = *v;
    }
    out[o] = 0;
}

static comity_err write_bundle(comity_sweep *sw, comity_error *err)
{
    char now[CY_TIME_BUF], uuid[CY_UUID_BUF], id[64];
    cy_time_format_ms(now, cy_now_ms());
    json_t *objs = json_array();
    for (size_t i = 0; i < sw->nsights; i++) {
        const struct cy_sw_sight *s = &sw->sights[i];
        const char *ref;
        const char *what;
        char desc[CY_SW_VALUE_MAX + 256];
        if (s->key >> 40) {
            /* A plain-list value: the indicator object goes in too. */
            uint32_t entry = (uint32_t)(s->key & 0xffffffffu);
            char v[CY_SW_VALUE_MAX + 64], q[2 * CY_SW_VALUE_MAX + 64];
            char pat[2 * CY_SW_VALUE_MAX + 256];
            list_id(sw, entry, id);
            cy_sw_set_value(sw->set, entry, v, sizeof v);
            stix_quote(q, sizeof q, v);
            int path = cy_sw_set_entry_path(sw->set, entry);
            snprintf(pat, sizeof pat, "[%s = '%s']", cy_sw_path_name(sw->set, path), q);
            json_t *ind = json_object();
            json_object_set_new(ind, "type", json_string("indicator"));
            json_object_set_new(ind, "spec_version", json_string("2.1"));
            json_object_set_new(ind, "id", json_string(id));
            json_object_set_new(ind, "created", json_string(now));
            json_object_set_new(ind, "modified", json_string(now));
            json_object_set_new(ind, "name", jstr(v));
            json_object_set_new(ind, "pattern", jstr(pat));
            json_object_set_new(ind, "pattern_type", json_string("stix"));
            json_object_set_new(ind, "valid_from", json_string(now));
            json_array_append_new(objs, ind);
            ref = id;
            what = v;
            snprintf(desc, sizeof desc, "comity sweep: %s seen %llu times", v,
                     (unsigned long long)s->count);
        } else {
            const struct cy_sw_ind *in = &sw->inds[s->key];
            ref = in->id;
            what = in->pattern;
            snprintf(desc, sizeof desc, "comity sweep: %s seen %llu times", in->pattern,
                     (unsigned long long)s->count);
        }
        (void)what;
        cy_uuid4(uuid);
        char sid[64];
        snprintf(sid, sizeof sid, "sighting--%s", uuid);
        json_t *o = json_object();
        json_object_set_new(o, "type", json_string("sighting"));
        json_object_set_new(o, "spec_version", json_string("2.1"));
        json_object_set_new(o, "id", json_string(sid));
        json_object_set_new(o, "created", json_string(now));
        json_object_set_new(o, "modified", json_string(now));
        json_object_set_new(o, "sighting_of_ref", json_string(ref));
        json_object_set_new(o, "count", json_integer((json_int_t)(s->count > 999999999 ? 999999999 : s->count)));
        json_object_set_new(o, "description", jstr(desc));
        json_object_set_new(o, "x_comity_evidence", evidence_json(sw, s));
        json_array_append_new(objs, o);
    }
    cy_uuid4(uuid);
    char bid[64];
    snprintf(bid, sizeof bid, "bundle--%s", uuid);
    json_t *b = json_object();
    json_object_set_new(b, "type", json_string("bundle"));
    json_object_set_new(b, "id", json_string(bid));
    json_object_set_new(b, "objects", objs);
    int r = json_dumpf(b, sw->out, JSON_INDENT(1) | JSON_ENSURE_ASCII);
    fputc('\n', sw->out);
    json_decref(b);
    if (r != 0)
        return cy_fail(err, COMITY_ERR_IO, "sweep: writing the bundle failed");
    return COMITY_OK;
}

static void summary(comity_sweep *sw)
{
    FILE *n = sw->opts->notes;
    if (!n)
        return;
    if (sw->opts->progress)
        fprintf(n, "\r%60s\r", "");
    size_t skipped = 0;
    for (size_t i = 0; i < sw->ninds; i++) {
        if (!sw->inds[i].skip)
            continue;
        skipped++;
        fprintf(n, "sweep: skipped %s %s: %s\n", sw->inds[i].id, sw->inds[i].pattern,
                sw->inds[i].skip);
    }
    fprintf(n,
            "sweep: %llu hits of %zu indicators in %llu files, %llu lines, %llu bytes; "
            "%zu indicators skipped\n",
            (unsigned long long)sw->hits, sw->nsights, (unsigned long long)sw->st.files,
            (unsigned long long)sw->st.lines, (unsigned long long)sw->st.bytes, skipped);
    if (sw->st.cut_lines)
        fprintf(n, "sweep: %llu lines longer than %u bytes were cut; their rest was not scanned\n",
                (unsigned long long)sw->st.cut_lines, CY_SW_LINE_MAX);
    if (sw->st.dropped_hits)
        fprintf(n, "sweep: %llu hits not listed (more than %u in one block)\n",
                (unsigned long long)sw->st.dropped_hits, 1u << 16);
    if (sw->st.unparsed_lines)
        fprintf(n, "sweep: %llu lines were not JSON objects and were read as text\n",
                (unsigned long long)sw->st.unparsed_lines);
    if (sw->st.unreadable)
        fprintf(n, "sweep: %llu files or directories could not be read\n",
                (unsigned long long)sw->st.unreadable);
    if (sw->st.skipped_paths)
        fprintf(n, "sweep: %llu symlinks, devices or too-deep paths not followed\n",
                (unsigned long long)sw->st.skipped_paths);
    if (sw->stix_dup_ids || sw->stix_dangling)
        fprintf(n, "sweep: indicators: %zu duplicate ids (newest kept), %zu relationships "
                   "to objects missing from their bundle\n",
                sw->stix_dup_ids, sw->stix_dangling);
    if (sw->notes_normalised)
        fprintf(n, "sweep: %zu indicator values normalised (IP given as domain, domain "
                   "with a path or scheme)\n",
                sw->notes_normalised);
    if (sw->pending_overflow)
        fprintf(n, "sweep: %llu atom hits beyond %u in one record were not evaluated\n",
                (unsigned long long)sw->pending_overflow, CY_SW_PENDING_MAX);
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
            rc = write_bundle(sw, err);
    }
    summary(sw);
    cy_sw_rx_thread_done();
    if (hits)
        *hits = sw->hits;
    if (rc == COMITY_OK && first_io != COMITY_OK)
        rc = first_io;
    return rc;
}
