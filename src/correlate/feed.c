/*
 * feed.c: what a body gives the correlation index (cy_corr_add_json).
 *
 * A record's body (clear, or opened by a party's client) is JSON of any
 * shape: a notification carries a STIX bundle under "indicators", a
 * sighting its observed data, a case its evidence.  Rather than know each
 * schema, the walk looks at every JSON object, at any depth up to
 * CY_CORR_JSON_DEPTH, and takes what STIX 2.1 says is an observable:
 *   - an indicator's `pattern` (pattern_type "stix" or absent), parsed by
 *     src/stix: each comparison `=` or IN (not negated) on a path the
 *     index knows gives its string literals;
 *   - cyber-observable objects: domain-name, ipv4-addr, ipv6-addr, url,
 *     email-addr `value`; file and artifact `hashes` (MD5, SHA-1,
 *     SHA-256); x509-certificate `hashes` (SHA-1, SHA-256 fingerprints).
 * Observed-data (its `objects` map), infrastructure and bundles need no
 * case of their own: their observables are objects inside them.  What the
 * normaliser refuses is skipped and counted, never stored half.
 */
#include <string.h>

#include "correlate/correlate.h"
#include "stix/pattern.h"

struct walk {
    cy_corr *c;
    uint32_t h;
    size_t skipped;
    comity_err rc;      /* a failure that stops the walk (NOMEM, TOOBIG) */
    comity_error *err;
};

/* One value: a refusal of the value is a skip, anything else stops. */
static void take(struct walk *w, int kind, const char *v, size_t len)
{
    if (w->rc || kind == CY_CK_NONE)
        return;
    comity_error e = {0};
    comity_err rc = cy_corr_add(w->c, w->h, kind, v, len, NULL, &e);
    if (rc == COMITY_ERR_INVALID || (rc == COMITY_ERR_TOOBIG && len > CY_CORR_KEY_MAX)) {
        w->skipped++;
    } else if (rc) {
        w->rc = rc;
        if (w->err)
            *w->err = e;
    }
}

/* The kind of a pattern comparison's path, or CY_CK_NONE. */
static int path_kind(const cy_pat_path *p)
{
    static const struct {
        const char *type;
        int kind;
    } values[] = {
        {"domain-name", CY_CK_DOMAIN}, {"ipv4-addr", CY_CK_IPV4}, {"ipv6-addr", CY_CK_IPV6},
        {"url", CY_CK_URL},            {"email-addr", CY_CK_EMAIL},
    };
    for (size_t i = 0; i < CY_ARRAY_LEN(values); i++)
        if (cy_pat_path_is(p, values[i].type, "value"))
            return values[i].kind;
    if (p->nsteps != 2 || p->steps[0].kind != CY_STEP_KEY || p->steps[1].kind != CY_STEP_KEY ||
        p->steps[0].key_len != 6 || memcmp(p->steps[0].key, "hashes", 6))
        return CY_CK_NONE;
    const char *algo = cy_pat_hash_algo(p->steps[1].key, p->steps[1].key_len);
    if (!algo)
        return CY_CK_NONE;
    bool x509 = p->type_len == 16 && !memcmp(p->type, "x509-certificate", 16);
    bool file = (p->type_len == 4 && !memcmp(p->type, "file", 4)) ||
                (p->type_len == 8 && !memcmp(p->type, "artifact", 8));
    if (x509)
        return !strcmp(algo, "SHA-1") ? CY_CK_X509_SHA1
               : !strcmp(algo, "SHA-256") ? CY_CK_X509_SHA256
                                          : CY_CK_NONE;
    if (file)
        return !strcmp(algo, "MD5") ? CY_CK_MD5
               : !strcmp(algo, "SHA-1") ? CY_CK_SHA1
               : !strcmp(algo, "SHA-256") ? CY_CK_SHA256
                                          : CY_CK_NONE;
    return CY_CK_NONE;
}

static comity_err pattern_cmp(const cy_pat_obs *leaf, const cy_pat_cmp *cmp, void *ctx)
{
    (void)leaf;
    struct walk *w = ctx;
    if (cmp->negated || (cmp->op != CY_OP_EQ && cmp->op != CY_OP_IN))
        return COMITY_OK;
    int kind = path_kind(&cmp->path);
    for (size_t i = 0; i < cmp->nlits; i++)
        if (cmp->lits[i].kind == CY_LIT_STRING)
            take(w, kind, cmp->lits[i].s, cmp->lits[i].len);
    return w->rc;
}

static void hashes(struct walk *w, const json_t *hs, bool x509)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)hs, k, v)
    {
        if (!json_is_string(v))
            continue;
        const char *algo = cy_pat_hash_algo(k, strlen(k));
        if (!algo)
            continue;
        int kind = CY_CK_NONE;
        if (!strcmp(algo, "MD5"))
            kind = x509 ? CY_CK_NONE : CY_CK_MD5;
        else if (!strcmp(algo, "SHA-1"))
            kind = x509 ? CY_CK_X509_SHA1 : CY_CK_SHA1;
        else if (!strcmp(algo, "SHA-256"))
            kind = x509 ? CY_CK_X509_SHA256 : CY_CK_SHA256;
        take(w, kind, json_string_value(v), json_string_length(v));
    }
}

static void object(struct walk *w, const json_t *o)
{
    const char *type = json_string_value(json_object_get(o, "type"));
    if (!type)
        return;
    const json_t *value = json_object_get(o, "value");
    if (!strcmp(type, "indicator")) {
        const json_t *pt = json_object_get(o, "pattern_type");
        const json_t *pat = json_object_get(o, "pattern");
        if (!json_is_string(pat) || (pt && !(json_is_string(pt) &&
                                             !strcmp(json_string_value(pt), "stix"))))
            return;
        cy_pattern *p = NULL;
        if (cy_pattern_parse(json_string_value(pat), json_string_length(pat), &p, NULL, NULL)) {
            w->skipped++;
            return;
        }
        comity_err rc = cy_pattern_each_cmp(p, pattern_cmp, w);
        (void)rc; /* w->rc holds a stopping failure */
        cy_pattern_free(p);
    } else if (json_is_string(value)) {
        static const struct {
            const char *type;
            int kind;
        } scos[] = {
            {"domain-name", CY_CK_DOMAIN}, {"ipv4-addr", CY_CK_IPV4}, {"ipv6-addr", CY_CK_IPV6},
            {"url", CY_CK_URL},            {"email-addr", CY_CK_EMAIL},
        };
        for (size_t i = 0; i < CY_ARRAY_LEN(scos); i++)
            if (!strcmp(type, scos[i].type))
                take(w, scos[i].kind, json_string_value(value), json_string_length(value));
    } else if (!strcmp(type, "file") || !strcmp(type, "artifact") ||
               !strcmp(type, "x509-certificate")) {
        const json_t *hs = json_object_get(o, "hashes");
        if (json_is_object(hs))
            hashes(w, hs, type[0] == 'x');
    }
}

static void walk(struct walk *w, const json_t *j, int depth)
{
    if (w->rc || depth > CY_CORR_JSON_DEPTH)
        return;
    if (json_is_object(j)) {
        object(w, j);
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)j, k, v)
        {
            (void)k;
            if (json_is_object(v) || json_is_array(v))
                walk(w, v, depth + 1);
        }
    } else if (json_is_array(j)) {
        size_t i;
        json_t *v;
        json_array_foreach(j, i, v)
        {
            if (json_is_object(v) || json_is_array(v))
                walk(w, v, depth + 1);
        }
    }
}

comity_err cy_corr_add_json(cy_corr *c, uint32_t h, const json_t *body, size_t *skipped,
                            comity_error *err)
{
    struct walk w = {.c = c, .h = h, .err = err};
    walk(&w, body, 0);
    if (skipped)
        *skipped = w.skipped;
    return w.rc;
}
