/*
 * enrol.c: registration requests from the browser (see enrol.h): the
 * rule for what a request must prove, the caps and rate limit, the
 * pending table, and the operator's decision.  Approval registers the
 * party through comity_node_party_add (node.c), as `comity party add`
 * does; the keys are checked by the same cy_node_party_check before a
 * request is even queued, so that the operator never sees one that
 * could not be registered.
 *
 * Proof of possession: the request's signature must verify, as a
 * c2sp.org/signed-note signature by the request's own verifier key, over
 * the text of enrol.h, which names this node's origin and every field of
 * the request (so a request cannot be replayed at another node or with
 * another recipient or note).  `created` must be within CY_ENROL_SKEW_MS
 * of the node's clock, which bounds replays in time; a replay inside that
 * window only queues again what its key holder asked for.  The text
 * cannot be mistaken for anything else a party signs: records are DSSE
 * ("DSSEv1 ..."), logins start "comity login v1".
 *
 * State: the pending requests are kept in the store (its registrations
 * table, cy_store_reg_*), so a restart forgets none: a request sent before
 * it is listed and decided after it.  The store adds one only while fewer
 * than CY_ENROL_PENDING_MAX are kept (the count and the insert are one
 * transaction); nothing is evicted to make room: a full table refuses
 * (TOOBIG).  The rate limit's CY_ENROL_ADDRS per-address counters live in
 * memory behind one mutex, allocated when the node starts serving (a
 * restart starts them again).  A counter counts the requests an address
 * sent (accepted or not past the parsing) in the current window of
 * CY_ENROL_WINDOW_MS, starting at its first; an expired counter's slot is
 * reused.  The decision reads the request from the store, registers the
 * party (comity_node_party_add), and only then removes the request.
 */
#include <pthread.h>
#include <string.h>

#include <sodium.h>

#include "crypto/note.h"
#include "node/enrol.h"

_Static_assert(CY_ENROL_NOTE_MAX < CY_REG_NOTE_MAX, "the store keeps a whole note");
_Static_assert(CY_ENROL_ADDR_BUF <= CY_REG_ADDR_MAX, "the store keeps a whole address");

struct counter {
    char addr[CY_ENROL_ADDR_BUF];
    int64_t since; /* start of the window; 0: free */
    unsigned n;
};

struct cy_enrol {
    pthread_mutex_t mu;
    struct counter c[CY_ENROL_ADDRS];
};

comity_err cy_enrol_start(comity_node *node, comity_error *err)
{
    struct cy_enrol *t = cy_calloc(1, sizeof *t);
    if (!t)
        return cy_fail(err, COMITY_ERR_NOMEM, "registrations: out of memory");
    pthread_mutex_init(&t->mu, NULL);
    node->enrol = t;
    return COMITY_OK;
}

void cy_enrol_stop(comity_node *node)
{
    struct cy_enrol *t = node->enrol;
    if (!t)
        return;
    pthread_mutex_destroy(&t->mu);
    cy_free(t);
    node->enrol = NULL;
}

/* Copies the string field `name` of body into out[cap]; absent: "" when
 * optional.  INVALID or TOOBIG naming the field. */
static comity_err field(const json_t *body, const char *name, bool optional, char *out,
                        size_t cap, comity_error *err)
{
    const json_t *v = json_object_get(body, name);
    if (!v && optional) {
        out[0] = 0;
        return COMITY_OK;
    }
    if (!json_is_string(v))
        return cy_fail(err, COMITY_ERR_INVALID, "registration: \"%s\" missing or not a string",
                       name);
    size_t n = json_string_length(v);
    if (n >= cap)
        return cy_fail(err, COMITY_ERR_TOOBIG, "registration: \"%s\" longer than %zu bytes", name,
                       cap - 1);
    if (memchr(json_string_value(v), 0, n))
        return cy_fail(err, COMITY_ERR_INVALID, "registration: \"%s\" holds a NUL byte", name);
    memcpy(out, json_string_value(v), n + 1);
    return COMITY_OK;
}

comity_err cy_enrol_from_json(const json_t *body, cy_enrol_req *q, comity_error *err)
{
    static const char *const known[] = {"party", "vkey", "recipient", "note", "created",
                                        "signature"};
    memset(q, 0, sizeof *q);
    if (!json_is_object(body))
        return cy_fail(err, COMITY_ERR_INVALID, "registration: want a JSON object");
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)body, k, v) {
        bool ok = false;
        for (size_t i = 0; i < sizeof known / sizeof *known; i++)
            ok = ok || !strcmp(k, known[i]);
        if (!ok)
            return cy_fail(err, COMITY_ERR_INVALID, "registration: unknown field \"%.40s\"", k);
    }
    char sig[128];
    comity_err rc;
    if ((rc = field(body, "party", false, q->party, sizeof q->party, err)) ||
        (rc = field(body, "vkey", false, q->vkey, sizeof q->vkey, err)) ||
        (rc = field(body, "recipient", false, q->recipient, sizeof q->recipient, err)) ||
        (rc = field(body, "note", true, q->note, sizeof q->note, err)) ||
        (rc = field(body, "created", false, q->created, sizeof q->created, err)) ||
        (rc = field(body, "signature", false, sig, sizeof sig, err)))
        return rc;
    size_t n = 0;
    if (cy_b64_decode(q->sig, sizeof q->sig, &n, sig, strlen(sig), CY_B64_STD, NULL) !=
            COMITY_OK ||
        n != sizeof q->sig)
        return cy_fail(err, COMITY_ERR_INVALID,
                       "registration: \"signature\" is not standard base64 of 64 bytes");
    return COMITY_OK;
}

/* The note: one line of UTF-8 without control characters (C0, DEL, C1). */
static comity_err note_ok(const char *s, comity_error *err)
{
    size_t len = strlen(s);
    for (size_t i = 0; i < len;) {
        uint32_t cp = 0;
        size_t k = cy_utf8_decode((const uint8_t *)s + i, len - i, &cp);
        if (!k)
            return cy_fail(err, COMITY_ERR_INVALID, "registration: note is not UTF-8 at byte %zu",
                           i);
        if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || cp == 0x2028 || cp == 0x2029)
            return cy_fail(err, COMITY_ERR_INVALID,
                           "registration: note holds a control character or line break at "
                           "byte %zu (one line of text)",
                           i);
        i += k;
    }
    return COMITY_OK;
}

comity_err cy_enrol_text(const char *origin, const cy_enrol_req *q, cy_buf *b,
                         comity_error *err)
{
    if (cy_buf_printf(b,
                      "comity registration v1\nnode: %s\nparty: %s\nvkey: %s\nrecipient: %s\n"
                      "created: %s\nnote: %s\n",
                      origin, q->party, q->vkey, q->recipient, q->created, q->note) != COMITY_OK)
        return cy_fail(err, COMITY_ERR_NOMEM, "registration: out of memory");
    return COMITY_OK;
}

/* Whether q->sig signs the request's text by q->vkey (already checked to
 * parse, by cy_node_party_check). */
static comity_err sig_ok(const char *origin, const cy_enrol_req *q, comity_error *err)
{
    comity_vkey *vk = NULL;
    comity_err rc = comity_vkey_parse(q->vkey, strlen(q->vkey), &vk, err);
    if (rc)
        return rc;
    cy_buf b;
    cy_buf_init(&b, 4096);
    size_t verified = 0;
    const comity_vkey *keys[1] = {vk};
    if ((rc = cy_enrol_text(origin, q, &b, err)) == COMITY_OK &&
        (cy_buf_printf(&b, "\n") != COMITY_OK ||
         cy_note_append_sig(&b, comity_vkey_name(vk), comity_vkey_id(vk), q->sig, 64) !=
             COMITY_OK))
        rc = cy_fail(err, COMITY_ERR_NOMEM, "registration: out of memory");
    if (!rc && (comity_note_verify((const char *)b.data, b.len, keys, 1, NULL, &verified,
                                   NULL) != COMITY_OK ||
                verified != 1))
        rc = cy_fail(err, COMITY_ERR_VERIFY,
                     "registration: the signature does not verify under the request's verifier "
                     "key over the registration text for node %s",
                     origin);
    cy_buf_free(&b);
    comity_vkey_free(vk);
    return rc;
}

/* Counts one request from addr; DENIED over the rate, TOOBIG when no
 * counter is free.  Called with the lock held. */
static comity_err count(struct cy_enrol *t, const char *addr, int64_t now, comity_error *err)
{
    struct counter *free_slot = NULL;
    for (size_t i = 0; i < CY_ENROL_ADDRS; i++) {
        struct counter *c = &t->c[i];
        bool expired = !c->since || now - c->since >= CY_ENROL_WINDOW_MS;
        if (!expired && !strcmp(c->addr, addr)) {
            if (c->n >= CY_ENROL_PER_ADDR)
                return cy_fail(err, COMITY_ERR_DENIED,
                               "registration: %d requests from this address in the last hour "
                               "(the cap); try again later",
                               CY_ENROL_PER_ADDR);
            c->n++;
            return COMITY_OK;
        }
        if (expired && !free_slot)
            free_slot = c;
    }
    if (!free_slot)
        return cy_fail(err, COMITY_ERR_TOOBIG,
                       "registration: %d addresses sent requests this hour (the cap); try "
                       "again later",
                       CY_ENROL_ADDRS);
    snprintf(free_slot->addr, sizeof free_slot->addr, "%s", addr);
    free_slot->since = now;
    free_slot->n = 1;
    return COMITY_OK;
}

comity_err cy_enrol_submit(comity_node *node, const cy_enrol_req *q, const char *addr,
                           comity_error *err)
{
    struct cy_enrol *t = node->enrol;
    if (!t)
        return cy_fail(err, COMITY_ERR_USAGE, "registration: the node is not serving");
    int64_t now = cy_now_ms();
    comity_err rc;
    pthread_mutex_lock(&t->mu);
    rc = count(t, addr, now, err);
    pthread_mutex_unlock(&t->mu);
    if (rc)
        return rc;
    int64_t created = 0;
    if ((rc = cy_node_party_check(q->party, q->vkey, q->recipient, err)))
        return cy_wrap(err, "registration");
    if ((rc = note_ok(q->note, err)))
        return rc;
    if (cy_time_parse(q->created, strlen(q->created), true, &created, NULL) != COMITY_OK)
        return cy_fail(err, COMITY_ERR_INVALID,
                       "registration: \"created\" is not a time of the form "
                       "2026-12-06T10:00:00.000Z");
    if (created > now + CY_ENROL_SKEW_MS || created < now - CY_ENROL_SKEW_MS)
        return cy_fail(err, COMITY_ERR_INVALID,
                       "registration: \"created\" %s is more than %lld minutes from the node's "
                       "clock; check the computer's clock and send again",
                       q->created, (long long)(CY_ENROL_SKEW_MS / 60000));
    if ((rc = sig_ok(node->origin, q, err)))
        return rc;
    cy_principal p;
    if (cy_store_principal_get(node->store, q->party, &p, NULL, NULL) == COMITY_OK)
        return cy_fail(err, COMITY_ERR_EXISTS,
                       "registration: the name %s is already registered on this node", q->party);
    cy_registration g;
    memset(&g, 0, sizeof g);
    snprintf(g.party, sizeof g.party, "%s", q->party);
    snprintf(g.vkey, sizeof g.vkey, "%s", q->vkey);
    snprintf(g.recipient, sizeof g.recipient, "%s", q->recipient);
    snprintf(g.note, sizeof g.note, "%s", q->note);
    snprintf(g.created, sizeof g.created, "%s", q->created);
    cy_b64_encode(g.signature, sizeof g.signature, q->sig, sizeof q->sig, CY_B64_STD);
    g.received_us = now * 1000;
    snprintf(g.address, sizeof g.address, "%s", addr);
    rc = cy_store_reg_add(node->store, &g, CY_ENROL_PENDING_MAX, err);
    if (rc == COMITY_ERR_EXISTS)
        return cy_fail(err, COMITY_ERR_EXISTS,
                       "registration: a request for %s already awaits the operator", q->party);
    if (rc == COMITY_ERR_TOOBIG)
        return cy_fail(err, COMITY_ERR_TOOBIG,
                       "registration: %d requests await the operator (the cap); try again later",
                       CY_ENROL_PENDING_MAX);
    return rc ? cy_wrap(err, "registration: keeping the request") : COMITY_OK;
}

static int list_row(const cy_registration *g, void *ctx)
{
    char recv[CY_TIME_BUF];
    cy_time_format_ms(recv, g->received_us / 1000);
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "party", g->party, "vkey",
                          g->vkey, "recipient", g->recipient, "note", g->note, "created",
                          g->created, "received", recv, "address", g->address);
    return !o || json_array_append_new(ctx, o) ? 1 : 0;
}

json_t *cy_enrol_list(comity_node *node, comity_error *err)
{
    json_t *a = json_array();
    if (!a) {
        cy_fail(err, COMITY_ERR_NOMEM, "registration: out of memory");
        return NULL;
    }
    if (cy_store_reg_list(node->store, list_row, a, err) != COMITY_OK) {
        json_decref(a);
        return NULL;
    }
    return a;
}

struct find_ctx {
    const char *party, *vkey;
    cy_registration g;
    bool found;
};

static int find_row(const cy_registration *g, void *ctx)
{
    struct find_ctx *f = ctx;
    if (!strcmp(g->party, f->party) && !strcmp(g->vkey, f->vkey)) {
        f->g = *g;
        f->found = true;
        return 1;
    }
    return 0;
}

comity_err cy_enrol_decide(comity_node *node, const char *party, const char *vkey, bool approve,
                           comity_error *err)
{
    if (!node->enrol)
        return cy_fail(err, COMITY_ERR_USAGE, "registration: the node is not serving");
    struct find_ctx f = {.party = party, .vkey = vkey};
    comity_err rc = cy_store_reg_list(node->store, find_row, &f, err);
    if (rc)
        return cy_wrap(err, "registration: reading the requests");
    if (!f.found)
        return cy_fail(err, COMITY_ERR_NOTFOUND,
                       "registration: no request for %.64s with that key awaits the operator",
                       party);
    if (approve) {
        char *token = NULL;
        rc = comity_node_party_add(node, f.g.party, f.g.vkey, f.g.recipient, &token, err);
        if (rc)
            return cy_wrap(err, "approving the registration of %s", f.g.party);
        cy_free_secret(token, strlen(token));
    }
    /* gone already: another decision of the same request came first */
    rc = cy_store_reg_remove(node->store, party, vkey, err);
    if (rc == COMITY_ERR_NOTFOUND) {
        cy_err_clear(err);
        rc = COMITY_OK;
    }
    return rc ? cy_wrap(err, "registration: removing the request of %s", party) : COMITY_OK;
}
