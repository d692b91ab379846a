/*
 * report.c: what a sweep saw and how it is told.
 *
 * Every reported match, of a plain-list value (cy_sw_report_list, called
 * by engine.c for each hit) or of a STIX indicator (cy_sw_report_ind,
 * called by match.c when an indicator's pattern holds), is counted per
 * indicator with its first CY_SW_EVID_MAX hits kept as evidence (bounded
 * memory whatever the input), and printed at once as text or a JSON line;
 * at the end of a run the same sightings make the STIX 2.1 bundle
 * (cy_sw_write_bundle) and the closing summary (cy_sw_summary).  Reports
 * arrive in input order from one thread (read.c guarantees it), so the
 * per-run state (sw->sights) needs no lock.
 *
 * Plain-list values have no STIX id; they get a stable one derived from a
 * BLAKE2b hash of their type and value (so two sweeps of the same list name
 * the same indicator), shaped as a UUID with version 4 bits.
 *
 * This file calls nothing in engine.c, compile.c or match.c: only the set
 * (names and values of entries) and base.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "sweep/engine.h"

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

void cy_sw_report_list(comity_sweep *sw, uint32_t entry, uint32_t src, int path,
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

comity_err cy_sw_write_bundle(comity_sweep *sw, comity_error *err)
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

void cy_sw_summary(comity_sweep *sw)
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

