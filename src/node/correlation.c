/*
 * correlation.c: the correlation endpoints over HTTP (docs/correlation.md):
 *   GET  /v1/framework/correlation?holder=ID   what holder ID shares with
 *                                    other holders the caller may see
 *   POST /v1/framework/correlation/lookup      the holders of loose values
 *                                    (a client correlating what it opened)
 *   POST /v1/framework/correlation/blind/R     a participant's keyed-hash set
 *   GET  /v1/framework/correlation/blind/R     what it learns of round R
 * The index, its visibility rule, the body formats and the rounds' rules
 * are src/correlate's; this file reads the request, asks, and writes the
 * answer.  Anonymous callers may ask the first (they see clear holders
 * only); the lookup has a body, so serve.c refuses it anonymous (401) on
 * its headers, as every anonymous body; rounds are for parties.
 */
#include <string.h>

#include <jansson.h>

#include "correlate/correlate.h"
#include "node/correlation.h"

bool cy_corr_owns(const cy_req *r)
{
    return r->nseg >= 3 && !strcmp(r->segs[1], "framework") &&
           !strcmp(r->segs[2], "correlation");
}

static void answer(cy_req *r, cy_resp *w, comity_err rc, char *text, const comity_error *e)
{
    if (rc) {
        unsigned st = rc == COMITY_ERR_NOTFOUND                               ? 404
                      : rc == COMITY_ERR_DENIED                               ? 403
                      : rc == COMITY_ERR_CONFLICT                             ? 409
                      : rc == COMITY_ERR_TOOBIG                               ? 413
                      : rc == COMITY_ERR_INVALID || rc == COMITY_ERR_USAGE    ? 400
                                                                              : 500;
        cy_resp_rule(r, w, st, st == 500 ? "internal" : "correlation", "correlation", "%s",
                     e->msg);
        cy_free(text);
        return;
    }
    json_t *v = json_loads(text, 0, NULL);
    cy_free(text);
    if (!v)
        cy_resp_rule(r, w, 500, "internal", "correlation", "out of memory");
    else
        cy_resp_json(r, w, 200, "application/json", v);
}

static comity_err corr_conf(const char *text, size_t len, void *conf, comity_error *err)
{
    return cy_corr_conf_parse(text, len, conf, err);
}

comity_err cy_node_corr_open(comity_node *node, comity_error *err)
{
    cy_corr_conf *conf = cy_calloc(1, sizeof *conf);
    if (!conf)
        return cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    comity_err rc = cy_node_read_conf(node, corr_conf, conf, err);
    if (!rc)
        rc = cy_corr_live_open(node->store, conf, node->api_root, cy_access_gate, &node->corr,
                               err);
    cy_corr_conf_free(conf);
    cy_free(conf);
    return rc;
}

struct args {
    const char *holder, *bad;
};

static int arg(void *ctx, const char *key, const char *value)
{
    struct args *a = ctx;
    if (!strcmp(key, "holder") && !a->holder && value)
        a->holder = value;
    else if (!a->bad)
        a->bad = key;
    return 0;
}

void cy_corr_handle(cy_req *r, cy_resp *w)
{
    cy_corr_live *l = r->node->corr;
    const char *viewer = r->anon ? NULL : r->who.name;
    const void *who = r->anon ? NULL : &r->who; /* for collections' objects (access.c) */
    bool get = !strcmp(r->method, "GET") || !strcmp(r->method, "HEAD");
    bool post = !strcmp(r->method, "POST");
    char *text = NULL;
    comity_error e = {0};
    if (!l) {
        cy_resp_rule(r, w, 503, "not serving", "correlation", "the node is not serving");
        return;
    }
    if (r->nseg == 3 && get) {
        struct args a = {0};
        if (cy_req_args(r, arg, &a) || a.bad || !a.holder) {
            cy_resp_rule(r, w, 400, "bad query", "query",
                         "parameter '%s' is unknown, repeated or missing (holder=RECORD-ID)",
                         a.bad ? a.bad : "holder");
            return;
        }
        comity_err rc = cy_corr_live_shared(l, a.holder, viewer, who, &text, &e);
        answer(r, w, rc, text, &e);
        return;
    }
    if (r->nseg == 4 && !strcmp(r->segs[3], "lookup") && post) {
        comity_err rc = cy_corr_live_lookup(l, (const char *)r->body, r->body_len, viewer, who,
                                            &text, &e);
        answer(r, w, rc, text, &e);
        return;
    }
    if (r->nseg == 5 && !strcmp(r->segs[3], "blind") && (get || post)) {
        if (r->anon || strcmp(r->who.kind, "party")) {
            cy_resp_rule(r, w, 403, "forbidden", "correlation",
                         "blinded rounds are between parties");
            return;
        }
        cy_blind_rounds *b = cy_corr_live_blind(l);
        comity_err rc;
        if (post) {
            rc = cy_blind_submit(b, r->segs[4], r->who.name, (const char *)r->body, r->body_len,
                                 &e);
            if (!rc)
                rc = cy_blind_result(b, r->segs[4], r->who.name, &text, &e);
        } else {
            rc = cy_blind_result(b, r->segs[4], r->who.name, &text, &e);
        }
        answer(r, w, rc, text, &e);
        return;
    }
    cy_resp_rule(r, w, r->nseg <= 5 ? 405 : 404, r->nseg <= 5 ? "method not allowed" : "not found",
                 "correlation",
                 "GET /v1/framework/correlation?holder=ID, POST .../correlation/lookup, "
                 "GET or POST .../correlation/blind/ROUND");
}
