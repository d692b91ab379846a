/*
 * corr_local.c: correlation where sealed content is opened
 * (docs/correlation.md, "Sealed content is correlated where it is
 * opened"), for `comity correlate local` and `comity attribution
 * correlate`.  The library builds the index and decides who sees what;
 * this file fetches the records, opens them with the party's key, and
 * asks the node about their normalised values.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "corr_local.h"

#define LEFT_OUT 100 /* fetch: a record the node does not show, left out */

/* GET /v1/records/ID, parsed.  OUT *rec.  LEFT_OUT (after saying so) when
 * the node does not show it and !strict. */
static int fetch(struct cli_client *cl, const char *id, bool strict, comity_record **rec)
{
    char path[256];
    snprintf(path, sizeof path, "/v1/records/%s", id);
    struct cli_resp r;
    int st = cli_client_http(cl, "GET", path, NULL, 0, &r);
    if (!st && r.status == 404 && !strict) {
        fprintf(stderr, "comity %s: %s: not shown to you; left out\n", cl->cmd, id);
        st = LEFT_OUT;
    } else if (!st && r.status != 200) {
        st = cli_client_answer(cl, &r) ? CLI_NO : CLI_FAIL;
    }
    comity_error e = {0};
    if (!st && comity_record_parse(r.data, r.len, rec, &e))
        st = cli_error(cl->cmd, &e);
    if (r.status)
        free(r.data);
    return st;
}

static bool listed(const struct cli_list *ids, const char *id)
{
    for (size_t i = 0; i < ids->n; i++)
        if (!strcmp(ids->v[i], id))
            return true;
    return false;
}

int cli_corr_sealed_ids(struct cli_client *cl, struct cli_list *ids)
{
    char next[32] = "";
    for (;;) {
        char path[128];
        snprintf(path, sizeof path, "/v1/records?limit=500%s%s", next[0] ? "&cursor=" : "", next);
        json_t *page = NULL;
        int st = cli_client_get_json(cl, path, &page);
        if (st)
            return st;
        size_t i;
        json_t *r;
        json_array_foreach(json_object_get(page, "records"), i, r)
        {
            const char *id = json_string_value(json_object_get(r, "id"));
            if (!id || !comity_tlp_sealed(json_string_value(json_object_get(r, "tlp"))) ||
                listed(ids, id))
                continue;
            if (ids->n >= CLI_CORR_RECORDS_MAX) {
                json_decref(page);
                fprintf(stderr, "comity %s: more than %d sealed records: name them instead\n",
                        cl->cmd, CLI_CORR_RECORDS_MAX);
                return CLI_USAGE;
            }
            char *dup = strdup(id);
            if (!dup || cli_list_add(ids, dup)) {
                free(dup);
                json_decref(page);
                return CLI_FAIL;
            }
        }
        const char *n = json_string_value(json_object_get(page, "next"));
        bool more = json_is_true(json_object_get(page, "more")) && n && strlen(n) < sizeof next;
        if (more)
            snprintf(next, sizeof next, "%s", n);
        json_decref(page);
        if (!more)
            return CLI_OK;
    }
}

/* POST the values to the node's lookup.  OUT *answer (json_decref). */
static int node_lookup(struct cli_client *cl, json_t *values, json_t **answer)
{
    json_t *b = json_pack("{s:O}", "values", values);
    char *body = b ? json_dumps(b, JSON_COMPACT) : NULL;
    json_decref(b);
    if (!body)
        return CLI_FAIL;
    struct cli_resp r;
    int st = cli_client_http(cl, "POST", "/v1/framework/correlation/lookup", body, strlen(body),
                             &r);
    free(body);
    if (!st)
        st = cli_client_answer(cl, &r);
    if (!st && !(*answer = json_loadb(r.data, r.len, 0, NULL)))
        st = CLI_FAIL;
    if (r.status)
        free(r.data);
    return st;
}

int cli_corr_local(struct cli_client *cl, char *const *ids, size_t n, size_t nask,
                   size_t common, bool strict, json_t **out)
{
    *out = NULL;
    if (n > CLI_CORR_RECORDS_MAX)
        return cli_usage(cl->cmd, "more than %d records", CLI_CORR_RECORDS_MAX);
    const char *me = cli_client_party(cl);
    if (!me)
        return CLI_FAIL;
    comity_error e = {0};
    comity_identities *keys = NULL;
    comity_corr *c = NULL;
    bool *have = calloc(n ? n : 1, sizeof *have);
    json_t *res = json_array();
    int st = have && res ? CLI_OK : CLI_FAIL;
    if (!st && (comity_identities_load(cl->key, &keys, &e) || comity_corr_new(common, &c, &e)))
        st = cli_error(cl->cmd, &e);
    for (size_t i = 0; !st && i < n; i++) {
        comity_record *rec = NULL;
        char *body = NULL;
        size_t bl = 0;
        if (!cli_id_ok(ids[i])) {
            st = cli_usage(cl->cmd, "'%s' is not a record id", ids[i]);
            break;
        }
        st = fetch(cl, ids[i], strict, &rec);
        if (st == LEFT_OUT) {
            st = CLI_OK;
            continue;
        }
        if (!st && comity_record_is_sealed(rec) && comity_record_open(rec, keys, &body, &bl, &e))
            st = cli_error(cl->cmd, &e);
        if (!st && comity_corr_add_record(c, rec, body, NULL, &e))
            st = cli_error(cl->cmd, &e);
        have[i] = !st;
        comity_free_secret(body, bl);
        comity_record_free(rec);
    }
    for (size_t i = 0; !st && i < nask && i < n; i++) {
        if (!have[i])
            continue;
        char *shared = NULL, *values = NULL;
        json_t *node = NULL;
        if (comity_corr_shared(c, ids[i], me, &shared, &e) ||
            comity_corr_values(c, ids[i], me, &values, &e))
            st = cli_error(cl->cmd, &e);
        json_t *vs = values ? json_loads(values, 0, NULL) : NULL;
        if (!st && json_array_size(vs))
            st = node_lookup(cl, vs, &node);
        json_t *o = json_pack("{s:s, s:o?, s:o?}", "id", ids[i], "local",
                              shared ? json_loads(shared, 0, NULL) : NULL, "node", node);
        if (!o || json_array_append_new(res, o))
            st = st ? st : CLI_FAIL;
        json_decref(vs);
        comity_free(shared);
        comity_free(values);
    }
    if (!st)
        *out = res;
    else
        json_decref(res);
    free(have);
    comity_corr_free(c);
    comity_identities_free(keys);
    return st;
}
