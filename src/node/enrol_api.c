/*
 * enrol_api.c: the HTTP face of registration requests (the rules are in
 * enrol.c; docs/ui.md, "Registration"):
 *
 *   POST /v1/registrations            anyone: a newcomer's signed request
 *        -> 202 {"party", "status": "pending"}
 *   GET  /v1/registrations            the operator: the pending requests
 *   POST /v1/registrations/NAME       the operator: {"decision": "approve"
 *        | "refuse", "vkey": the key the operator saw} -> 200
 *
 * The first is one of the node's few doors that take a body without
 * credentials (serve.c caps it at CY_ENROL_BODY_MAX).  Errors map from
 * enrol.c's codes: INVALID and VERIFY 400, EXISTS 409, DENIED (the
 * per-address rate) 429 and TOOBIG (a full table) 503, both with
 * Retry-After; NOTFOUND 404.
 */
#include <string.h>

#include "node/enrol.h"
#include "node/enrol_api.h"

bool cy_enrol_owns(const cy_req *r)
{
    return r->nseg >= 2 && !strcmp(r->segs[0], "v1") && !strcmp(r->segs[1], "registrations");
}

bool cy_enrol_open_door(const cy_req *r)
{
    return r->nseg == 2 && !strcmp(r->method, "POST") && cy_enrol_owns(r);
}

static void fail(cy_req *r, cy_resp *w, comity_err rc, const comity_error *e)
{
    unsigned st = 400;
    const char *title = "bad request";
    switch (rc) {
    case COMITY_ERR_EXISTS:
        st = 409, title = "conflict";
        break;
    case COMITY_ERR_DENIED:
        st = 429, title = "too many requests", w->retry_after = "600";
        break;
    case COMITY_ERR_TOOBIG:
        st = 503, title = "busy", w->retry_after = "600";
        break;
    case COMITY_ERR_NOTFOUND:
        st = 404, title = "not found";
        break;
    case COMITY_ERR_INVALID:
    case COMITY_ERR_VERIFY:
        break;
    default:
        st = 500, title = "internal";
    }
    cy_resp_rule(r, w, st, title, "registration", "%s", e->msg);
}

static json_t *body_json(cy_req *r, cy_resp *w)
{
    json_error_t je;
    json_t *v = r->body_len ? json_loadb((const char *)r->body, r->body_len,
                                         JSON_REJECT_DUPLICATES, &je)
                            : NULL;
    if (!json_is_object(v)) {
        json_decref(v);
        cy_resp_rule(r, w, 400, "bad request", "registration", "want a JSON object body");
        return NULL;
    }
    return v;
}

static void submit(cy_req *r, cy_resp *w)
{
    json_t *b = body_json(r, w);
    if (!b)
        return;
    cy_enrol_req q;
    comity_error e = {0};
    char addr[CY_ENROL_ADDR_BUF];
    cy_req_addr(r, addr, sizeof addr);
    comity_err rc = cy_enrol_from_json(b, &q, &e);
    json_decref(b);
    if (!rc)
        rc = cy_enrol_submit(r->node, &q, addr, &e);
    if (rc) {
        fail(r, w, rc, &e);
        return;
    }
    cy_resp_json(r, w, 202, "application/json",
                 json_pack("{s:s, s:s}", "party", q.party, "status", "pending"));
}

static bool operator(cy_req *r, cy_resp *w)
{
    if (r->anon) {
        cy_resp_rule(r, w, 401, "unauthorized", "registration",
                     "log in as the node's operator to see registration requests");
        return false;
    }
    if (strcmp(r->who.kind, "operator") != 0) {
        cy_resp_rule(r, w, 403, "forbidden", "registration",
                     "only the node's operator decides registration requests");
        return false;
    }
    return true;
}

static void list(cy_req *r, cy_resp *w)
{
    comity_error e = {0};
    json_t *a = cy_enrol_list(r->node, &e);
    if (!a) {
        cy_resp_rule(r, w, 500, "internal", "registration", "%s", e.msg);
        return;
    }
    cy_resp_json(r, w, 200, "application/json",
                 json_pack("{s:o, s:i, s:i}", "registrations", a, "pending_max",
                           CY_ENROL_PENDING_MAX, "note_max", CY_ENROL_NOTE_MAX));
}

static void decide(cy_req *r, cy_resp *w, const char *party)
{
    json_t *b = body_json(r, w);
    if (!b)
        return;
    const char *d = json_string_value(json_object_get(b, "decision"));
    const char *vkey = json_string_value(json_object_get(b, "vkey"));
    if (!d || !vkey || json_object_size(b) != 2 ||
        (strcmp(d, "approve") != 0 && strcmp(d, "refuse") != 0)) {
        json_decref(b);
        cy_resp_rule(r, w, 400, "bad request", "registration",
                     "want {\"decision\": \"approve\" or \"refuse\", \"vkey\": the request's "
                     "verifier key}");
        return;
    }
    bool approve = !strcmp(d, "approve");
    comity_error e = {0};
    comity_err rc = cy_enrol_decide(r->node, party, vkey, approve, &e);
    json_decref(b);
    if (rc) {
        fail(r, w, rc, &e);
        return;
    }
    cy_resp_json(r, w, 200, "application/json",
                 json_pack("{s:s, s:s}", "party", party, "decision",
                           approve ? "approved" : "refused"));
}

void cy_enrol_handle(cy_req *r, cy_resp *w)
{
    if (r->nseg == 2) {
        if (!strcmp(r->method, "POST"))
            submit(r, w);
        else if (!strcmp(r->method, "GET") || !strcmp(r->method, "HEAD")) {
            if (operator(r, w))
                list(r, w);
        } else {
            w->allow = "GET, HEAD, POST";
            cy_resp_error(r, w, false, 405, "method not allowed", "GET or POST");
        }
        return;
    }
    if (r->nseg == 3) {
        if (strcmp(r->method, "POST") != 0) {
            w->allow = "POST";
            cy_resp_error(r, w, false, 405, "method not allowed", "POST a decision");
        } else if (operator(r, w))
            decide(r, w, r->segs[2]);
        return;
    }
    cy_resp_error(r, w, false, 404, "not found", "no such endpoint: %s", r->url);
}
