/*
 * session.c: browser login by possession of the party's signing key, the
 * session cookie, CSRF tokens, logout, and the parties' public keys.
 *
 * The key never reaches the node.  Login is two requests:
 *
 *   POST /v1/session/challenge {"party"}  -> {"challenge", "nonce", "expires"}
 *   POST /v1/session {"party", "nonce", "signature"}
 *        -> 201 {"party", "csrf", "expires"} + Set-Cookie
 *
 * The challenge is a signed-note text ("comity login v1\nnode: ORIGIN\n
 * party: P\nnonce: HEX\nexpires: T\n"); the browser signs it with the
 * party's Ed25519 key as a c2sp.org/signed-note signature and sends the
 * 64 signature bytes; the node appends the signature line for the party's
 * registered key and checks the note with comity_note_verify.  A challenge
 * is used at most once (taken out of the table by the first attempt,
 * right or wrong) and expires after CY_CHALLENGE_TTL_MS.  The text cannot
 * be mistaken for anything else a party signs (DSSE signs "DSSEv1 ...").
 *
 * Both login requests must carry the X-Comity-UI header: a cross-site page
 * cannot add it without a CORS preflight, which the node never grants, so
 * no other site can log a visitor in under someone else's party.
 *
 * The session is a random 32-byte id in an HttpOnly, SameSite=Strict
 * cookie (Secure when the node serves TLS) with a fixed lifetime
 * (CY_SESSION_TTL_MS).  The node keeps only the id's SHA-256, the party,
 * its key at login (a key changed since ends the session), a CSRF token and
 * the expiry.  Requests other than GET and HEAD must send the CSRF token in
 * X-CSRF-Token.  GET /v1/session gives a reloaded page its party and CSRF
 * token again; DELETE /v1/session logs out.
 *
 * State: two fixed tables (CY_SESSIONS_MAX sessions, CY_CHALLENGES_MAX
 * challenges) behind one mutex, allocated when the node starts serving and
 * freed when it stops (sessions do not survive a restart: log in again).
 * A full table reuses expired slots; if none is free the request is
 * refused 503 with Retry-After, never silently evicting a live session.
 * Lookups are linear scans of at most a few thousand 32-byte comparisons.
 *
 * GET /v1/parties (any logged-in caller) lists each registered party's
 * verifier key and age recipient (parties homed at a peer node included):
 * what a client needs to seal to recipients and to check their signatures.
 *
 * The node's operator logs in with the operator's token instead (it has
 * no signing key): POST /v1/session/operator {"token"} (with X-Comity-UI)
 * -> 201 {"party", "role": "operator", "csrf", "expires"} and the same
 * cookie.  The token is what `comity init` printed (or `comity party
 * token OPERATOR` gave since); the node compares its SHA-256 with the
 * stored hash, as for an Authorization header, and keeps that hash in
 * the session: a token replaced since ends the session.  Party tokens
 * are refused here (parties log in with their keys).  Every answer names
 * the session's role ("party" or "operator").
 *
 * Peer nodes log in the same way (docs/federation.md, section 4): the
 * name is "peer:<origin>", the key the node key its operator pinned, and
 * the session cookie then reads /federation/.
 */
#include <pthread.h>
#include <string.h>

#include <microhttpd.h>
#include <sodium.h>

#include "crypto/note.h"
#include "node/session.h"

#define NONCE_BYTES 16
#define SID_BYTES 32
#define TOKEN_B64 48 /* base64url of 32 bytes (43) and a NUL, rounded */
#define CHALLENGE_TEXT_MAX 512

struct sess {
    bool live;
    uint8_t hash[crypto_hash_sha256_BYTES]; /* SHA-256 of the cookie's id */
    char party[COMITY_PARTY_MAX + 1];
    char vkey[CY_VKEY_MAX]; /* the party's key at login; the operator: "token:" + its hash */
    char csrf[TOKEN_B64];
    int64_t expires;
};

struct chal {
    bool live;
    uint8_t nonce[NONCE_BYTES];
    char party[COMITY_PARTY_MAX + 1];
    char text[CHALLENGE_TEXT_MAX];
    int64_t expires;
};

struct cy_sessions {
    pthread_mutex_t mu;
    struct sess s[CY_SESSIONS_MAX];
    struct chal c[CY_CHALLENGES_MAX];
};

comity_err cy_session_start(comity_node *node, comity_error *err)
{
    struct cy_sessions *t = cy_calloc(1, sizeof *t);
    if (!t)
        return cy_fail(err, COMITY_ERR_NOMEM, "sessions: out of memory");
    pthread_mutex_init(&t->mu, NULL);
    node->sessions = t;
    return COMITY_OK;
}

void cy_session_stop(comity_node *node)
{
    struct cy_sessions *t = node->sessions;
    if (!t)
        return;
    pthread_mutex_destroy(&t->mu);
    sodium_memzero(t, sizeof *t); /* CSRF tokens */
    cy_free(t);
    node->sessions = NULL;
}

static bool is_get(const cy_req *r)
{
    return !strcmp(r->method, "GET") || !strcmp(r->method, "HEAD");
}

static const char *cookie(cy_req *r)
{
    return MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, CY_SESSION_COOKIE);
}

static void sid_hash(const char *sid, uint8_t out[crypto_hash_sha256_BYTES])
{
    crypto_hash_sha256(out, (const uint8_t *)sid, strlen(sid));
}

/* The live session whose cookie is `sid`, copied into *out; false if none.
 * Takes and releases the lock. */
static bool find(struct cy_sessions *t, const char *sid, struct sess *out)
{
    if (!sid || strlen(sid) > 2 * TOKEN_B64)
        return false;
    uint8_t h[crypto_hash_sha256_BYTES];
    sid_hash(sid, h);
    int64_t now = cy_now_ms();
    bool found = false;
    pthread_mutex_lock(&t->mu);
    for (size_t i = 0; i < CY_SESSIONS_MAX; i++) {
        struct sess *s = &t->s[i];
        if (s->live && s->expires > now && sodium_memcmp(s->hash, h, sizeof h) == 0) {
            *out = *s;
            found = true;
            break;
        }
    }
    pthread_mutex_unlock(&t->mu);
    return found;
}

/* What a session holds of its principal's credential at login: the
 * verifier key of a party or peer, "token:" and the token's hash for the
 * operator.  A session whose principal no longer matches it ends. */
struct held {
    char v[CY_VKEY_MAX];
};

static struct held held_key(const cy_principal *p, const char *hash)
{
    struct held h;
    if (!strcmp(p->kind, "operator"))
        snprintf(h.v, sizeof h.v, "token:%s", hash);
    else
        snprintf(h.v, sizeof h.v, "%s", p->vkey);
    return h;
}

static const char *role(const char *vkey)
{
    return strncmp(vkey, "token:", 6) == 0 ? "operator" : "party";
}

/* Login endpoints ignore any cookie: a stale one must not block a new login. */
static bool login_path(const cy_req *r)
{
    return r->nseg >= 2 && !strcmp(r->segs[0], "v1") && !strcmp(r->segs[1], "session") &&
           (r->nseg == 3 || !strcmp(r->method, "POST"));
}

bool cy_session_login(const cy_req *r)
{
    return !strcmp(r->method, "POST") && login_path(r);
}

int cy_session_auth(cy_req *r)
{
    struct cy_sessions *t = r->node->sessions;
    const char *sid = cookie(r);
    if (!t || !sid || login_path(r))
        return 0;
    struct sess s;
    if (!find(t, sid, &s))
        return 0; /* expired or unknown: anonymous, handlers answer 401 */
    cy_principal p;
    char hash[CY_TOKEN_HASH_HEX];
    if (cy_store_principal_get(r->node->store, s.party, &p, hash, NULL) != COMITY_OK ||
        strcmp(held_key(&p, hash).v, s.vkey) != 0) {
        sodium_memzero(&s, sizeof s);
        return 0; /* the party is gone or has another key now */
    }
    if (!is_get(r)) {
        const char *tok = cy_req_header(r, CY_CSRF_HEADER);
        size_t n = strlen(s.csrf);
        bool ok = tok && strlen(tok) == n && sodium_memcmp(tok, s.csrf, n) == 0;
        sodium_memzero(&s, sizeof s);
        if (!ok)
            return -1;
    }
    sodium_memzero(&s, sizeof s);
    r->who = p;
    r->anon = false;
    return 0;
}

bool cy_session_browser(cy_req *r)
{
    return cy_req_header(r, CY_UI_HEADER) || cookie(r);
}

bool cy_session_owns(cy_req *r)
{
    return r->nseg >= 2 && !strcmp(r->segs[0], "v1") &&
           (!strcmp(r->segs[1], "session") || !strcmp(r->segs[1], "parties"));
}

static void rand_b64(char out[TOKEN_B64], size_t nbytes)
{
    uint8_t raw[SID_BYTES];
    randombytes_buf(raw, nbytes);
    cy_b64_encode(out, TOKEN_B64, raw, nbytes, CY_B64_URL_NOPAD);
    sodium_memzero(raw, sizeof raw);
}

/* The request body as a JSON object (duplicate keys refused), or NULL
 * after answering 400. */
static json_t *body_object(cy_req *r, cy_resp *w)
{
    json_error_t je;
    json_t *v = r->body_len ? json_loadb((const char *)r->body, r->body_len,
                                         JSON_REJECT_DUPLICATES, &je)
                            : NULL;
    if (!json_is_object(v)) {
        json_decref(v);
        cy_resp_rule(r, w, 400, "bad request", "session", "want a JSON object body");
        return NULL;
    }
    return v;
}

static bool from_ui(cy_req *r, cy_resp *w)
{
    if (cy_req_header(r, CY_UI_HEADER))
        return true;
    cy_resp_rule(r, w, 400, "bad request", "session",
                 "login is for the web UI's scripts: send the %s header", CY_UI_HEADER);
    return false;
}

static void set_cookie(cy_req *r, cy_resp *w, const char *value, long long max_age_s)
{
    char c[256];
    snprintf(c, sizeof c, "%s=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%lld%s",
             CY_SESSION_COOKIE, value, max_age_s, r->node->tls ? "; Secure" : "");
    w->set_cookie = cy_arena_strdup(&r->arena, c);
}

/* Who may log in: a party registered here, or a peer node with its node
 * key (docs/federation.md, section 4: the puller logs in as
 * "peer:<origin>", signing with the key its operator pinned).  Parties
 * homed at a peer ("remote") log in at their own node. */
static bool login_kind(const cy_principal *p)
{
    return !strcmp(p->kind, "party") || !strcmp(p->kind, "peer");
}

static bool login_name_peer(const char *name)
{
    return !strncmp(name, "peer:", 5) && name[5] && strlen(name) <= COMITY_PARTY_MAX;
}

/* POST /v1/session/challenge {"party"} */
static void challenge(cy_req *r, cy_resp *w)
{
    struct cy_sessions *t = r->node->sessions;
    if (!from_ui(r, w))
        return;
    json_t *b = body_object(r, w);
    if (!b)
        return;
    const char *party = json_string_value(json_object_get(b, "party"));
    cy_principal p;
    if (!party || json_object_size(b) != 1 ||
        !(comity_party_valid(party, NULL) || login_name_peer(party))) {
        json_decref(b);
        cy_resp_rule(r, w, 400, "bad request", "session",
                     "want {\"party\": NAME} with a valid party name");
        return;
    }
    if (cy_store_principal_get(r->node->store, party, &p, NULL, NULL) != COMITY_OK ||
        !login_kind(&p)) {
        cy_resp_rule(r, w, 404, "not found", "session", "no party %s is registered on this node",
                     party);
        json_decref(b);
        return;
    }
    struct chal c = {.live = true};
    randombytes_buf(c.nonce, sizeof c.nonce);
    char hex[2 * NONCE_BYTES + 1];
    sodium_bin2hex(hex, sizeof hex, c.nonce, sizeof c.nonce);
    int64_t now = cy_now_ms();
    c.expires = now + CY_CHALLENGE_TTL_MS;
    char exp[CY_TIME_BUF];
    cy_time_format_ms(exp, c.expires);
    snprintf(c.party, sizeof c.party, "%s", party);
    snprintf(c.text, sizeof c.text,
             "comity login v1\nnode: %s\nparty: %s\nnonce: %s\nexpires: %s\n",
             r->node->origin, party, hex, exp);
    json_decref(b);
    bool stored = false;
    pthread_mutex_lock(&t->mu);
    for (size_t i = 0; i < CY_CHALLENGES_MAX && !stored; i++)
        if (!t->c[i].live || t->c[i].expires <= now) {
            t->c[i] = c;
            stored = true;
        }
    pthread_mutex_unlock(&t->mu);
    if (!stored) {
        w->retry_after = "30";
        cy_resp_rule(r, w, 503, "busy", "session",
                     "%d logins are pending (the cap); retry in a moment", CY_CHALLENGES_MAX);
        return;
    }
    json_t *v = json_pack("{s:s, s:s, s:s}", "challenge", c.text, "nonce", hex, "expires", exp);
    cy_resp_json(r, w, 200, "application/json", v);
}

/* Takes the challenge `hex` out of the table (used at most once).  Returns
 * whether it was there, live, unexpired and for `party`. */
static bool take_challenge(struct cy_sessions *t, const char *hex, const char *party,
                           struct chal *out)
{
    uint8_t nonce[NONCE_BYTES];
    size_t n = 0;
    if (strlen(hex) != 2 * NONCE_BYTES ||
        sodium_hex2bin(nonce, sizeof nonce, hex, strlen(hex), NULL, &n, NULL) != 0 ||
        n != NONCE_BYTES)
        return false;
    int64_t now = cy_now_ms();
    bool ok = false;
    pthread_mutex_lock(&t->mu);
    for (size_t i = 0; i < CY_CHALLENGES_MAX; i++) {
        struct chal *c = &t->c[i];
        if (c->live && sodium_memcmp(c->nonce, nonce, sizeof nonce) == 0) {
            *out = *c;
            c->live = false;
            ok = c->expires > now && !strcmp(c->party, party);
            break;
        }
    }
    pthread_mutex_unlock(&t->mu);
    return ok;
}

/* Whether `sig64` (64 bytes) signs the challenge text for the party's key. */
static bool sig_ok(const struct chal *c, const char *vkey_text, const uint8_t *sig64)
{
    comity_vkey *vk = NULL;
    if (comity_vkey_parse(vkey_text, strlen(vkey_text), &vk, NULL) != COMITY_OK)
        return false;
    cy_buf b;
    cy_buf_init(&b, 4096);
    bool ok = false;
    size_t verified = 0;
    const comity_vkey *keys[1] = {vk};
    if (cy_buf_printf(&b, "%s\n", c->text) == COMITY_OK &&
        cy_note_append_sig(&b, comity_vkey_name(vk), comity_vkey_id(vk), sig64, 64) ==
            COMITY_OK)
        ok = comity_note_verify((const char *)b.data, b.len, keys, 1, NULL, &verified, NULL) ==
                 COMITY_OK &&
             verified == 1;
    cy_buf_free(&b);
    comity_vkey_free(vk);
    return ok;
}

/* Opens a session for p (hash: the operator's token hash, else NULL) and
 * answers 201 with its cookie, or 503 when the table is full. */
static void open_session(cy_req *r, cy_resp *w, const cy_principal *p, const char *hash)
{
    struct cy_sessions *t = r->node->sessions;
    struct sess s = {.live = true};
    char sid[TOKEN_B64];
    rand_b64(sid, SID_BYTES);
    sid_hash(sid, s.hash);
    rand_b64(s.csrf, SID_BYTES);
    snprintf(s.party, sizeof s.party, "%s", p->name);
    snprintf(s.vkey, sizeof s.vkey, "%s", held_key(p, hash ? hash : "").v);
    int64_t now = cy_now_ms();
    s.expires = now + CY_SESSION_TTL_MS;
    bool stored = false;
    pthread_mutex_lock(&t->mu);
    for (size_t i = 0; i < CY_SESSIONS_MAX && !stored; i++)
        if (!t->s[i].live || t->s[i].expires <= now) {
            t->s[i] = s;
            stored = true;
        }
    pthread_mutex_unlock(&t->mu);
    if (!stored) {
        sodium_memzero(sid, sizeof sid);
        sodium_memzero(&s, sizeof s);
        w->retry_after = "60";
        cy_resp_rule(r, w, 503, "busy", "session",
                     "%d sessions are open (the cap); retry later", CY_SESSIONS_MAX);
        return;
    }
    set_cookie(r, w, sid, CY_SESSION_TTL_MS / 1000);
    sodium_memzero(sid, sizeof sid);
    char exp[CY_TIME_BUF];
    cy_time_format_ms(exp, s.expires);
    json_t *v = json_pack("{s:s, s:s, s:s, s:s}", "party", s.party, "role", role(s.vkey), "csrf",
                          s.csrf, "expires", exp);
    sodium_memzero(&s, sizeof s);
    cy_resp_json(r, w, 201, "application/json", v);
}

/* POST /v1/session/operator {"token"}: the operator's login by its token. */
static void login_operator(cy_req *r, cy_resp *w)
{
    if (!from_ui(r, w))
        return;
    json_t *b = body_object(r, w);
    if (!b)
        return;
    const char *tok = json_string_value(json_object_get(b, "token"));
    if (!tok || json_object_size(b) != 1 || !*tok || strlen(tok) > 2 * TOKEN_B64) {
        json_decref(b);
        cy_resp_rule(r, w, 400, "bad request", "session", "want {\"token\": the operator's token}");
        return;
    }
    char hash[CY_TOKEN_HASH_HEX];
    cy_token_hash(tok, strlen(tok), hash);
    json_decref(b);
    cy_principal p;
    if (cy_store_principal_by_token(r->node->store, hash, &p, NULL) != COMITY_OK ||
        strcmp(p.kind, "operator") != 0) {
        cy_resp_rule(r, w, 403, "forbidden", "session",
                     "login refused: that is not this node's operator token");
        return;
    }
    open_session(r, w, &p, hash);
}

/* POST /v1/session {"party", "nonce", "signature"} */
static void login(cy_req *r, cy_resp *w)
{
    struct cy_sessions *t = r->node->sessions;
    if (!from_ui(r, w))
        return;
    json_t *b = body_object(r, w);
    if (!b)
        return;
    const char *party = json_string_value(json_object_get(b, "party"));
    const char *nonce = json_string_value(json_object_get(b, "nonce"));
    const char *sig = json_string_value(json_object_get(b, "signature"));
    uint8_t raw[64];
    size_t n = 0;
    if (!party || !nonce || !sig || json_object_size(b) != 3 ||
        cy_b64_decode(raw, sizeof raw, &n, sig, strlen(sig), CY_B64_STD, NULL) != COMITY_OK ||
        n != 64) {
        json_decref(b);
        cy_resp_rule(r, w, 400, "bad request", "session",
                     "want {\"party\", \"nonce\", \"signature\": base64 of 64 bytes}");
        return;
    }
    struct chal c;
    cy_principal p;
    bool ok = take_challenge(t, nonce, party, &c) &&
              cy_store_principal_get(r->node->store, party, &p, NULL, NULL) == COMITY_OK &&
              login_kind(&p) && sig_ok(&c, p.vkey, raw);
    json_decref(b);
    if (!ok) {
        cy_resp_rule(r, w, 403, "forbidden", "session",
                     "login refused: the challenge is unknown, used or expired, or the "
                     "signature is not by the party's registered key");
        return;
    }
    open_session(r, w, &p, NULL);
}

/* GET /v1/session: the caller's session again (after a reload). */
static void whoami(cy_req *r, cy_resp *w)
{
    struct sess s;
    if (r->anon || !find(r->node->sessions, cookie(r), &s)) {
        cy_resp_rule(r, w, 401, "unauthorized", "session", "no session: log in");
        return;
    }
    char exp[CY_TIME_BUF];
    cy_time_format_ms(exp, s.expires);
    json_t *v = json_pack("{s:s, s:s, s:s, s:s}", "party", s.party, "role", role(s.vkey), "csrf",
                          s.csrf, "expires", exp);
    sodium_memzero(&s, sizeof s);
    cy_resp_json(r, w, 200, "application/json", v);
}

/* DELETE /v1/session: logout (the CSRF token was checked by
 * cy_session_auth, which made the caller not anonymous). */
static void logout(cy_req *r, cy_resp *w)
{
    struct cy_sessions *t = r->node->sessions;
    const char *sid = cookie(r);
    if (r->anon || !sid) {
        cy_resp_rule(r, w, 401, "unauthorized", "session", "no session: log in");
        return;
    }
    uint8_t h[crypto_hash_sha256_BYTES];
    sid_hash(sid, h);
    bool found = false;
    pthread_mutex_lock(&t->mu);
    for (size_t i = 0; i < CY_SESSIONS_MAX; i++)
        if (t->s[i].live && sodium_memcmp(t->s[i].hash, h, sizeof h) == 0) {
            sodium_memzero(&t->s[i], sizeof t->s[i]);
            found = true;
        }
    pthread_mutex_unlock(&t->mu);
    if (!found) {
        cy_resp_rule(r, w, 401, "unauthorized", "session", "no session: log in");
        return;
    }
    set_cookie(r, w, "", 0);
    cy_resp_json(r, w, 200, "application/json", json_pack("{s:b}", "logged_out", 1));
}

static int party_cb(const cy_principal *p, void *ctx)
{
    /* parties homed at a peer too: a client seals to them and checks
     * their signatures alike */
    if (strcmp(p->kind, "party") == 0 || strcmp(p->kind, "remote") == 0)
        json_array_append_new(ctx, json_pack("{s:s, s:s, s:s}", "name", p->name, "vkey",
                                             p->vkey, "recipient", p->recipient));
    return 0;
}

/* GET /v1/parties: every registered party's public keys. */
static void parties(cy_req *r, cy_resp *w)
{
    if (r->anon) {
        cy_resp_rule(r, w, 401, "unauthorized", "auth", "log in to list the parties");
        return;
    }
    json_t *a = json_array();
    comity_error e = {0};
    if (cy_store_principal_list(r->node->store, party_cb, a, &e) != COMITY_OK) {
        json_decref(a);
        cy_resp_rule(r, w, 500, "store", "store", "%s", e.msg);
        return;
    }
    cy_resp_json(r, w, 200, "application/json", json_pack("{s:o}", "parties", a));
}

void cy_session_handle(cy_req *r, cy_resp *w)
{
    if (!r->node->sessions) {
        cy_resp_error(r, w, false, 503, "not serving", "sessions are not running");
        return;
    }
    if (!strcmp(r->segs[1], "parties") && r->nseg == 2) {
        if (is_get(r))
            parties(r, w);
        else {
            w->allow = "GET, HEAD";
            cy_resp_error(r, w, false, 405, "method not allowed", "only GET is served here");
        }
        return;
    }
    if (!strcmp(r->segs[1], "session") && r->nseg == 3 && !strcmp(r->segs[2], "operator")) {
        if (!strcmp(r->method, "POST"))
            login_operator(r, w);
        else {
            w->allow = "POST";
            cy_resp_error(r, w, false, 405, "method not allowed", "POST the operator's token");
        }
        return;
    }
    if (!strcmp(r->segs[1], "session") && r->nseg == 3 && !strcmp(r->segs[2], "challenge")) {
        if (!strcmp(r->method, "POST"))
            challenge(r, w);
        else {
            w->allow = "POST";
            cy_resp_error(r, w, false, 405, "method not allowed", "POST a party name");
        }
        return;
    }
    if (!strcmp(r->segs[1], "session") && r->nseg == 2) {
        if (is_get(r))
            whoami(r, w);
        else if (!strcmp(r->method, "POST"))
            login(r, w);
        else if (!strcmp(r->method, "DELETE"))
            logout(r, w);
        else {
            w->allow = "GET, HEAD, POST, DELETE";
            cy_resp_error(r, w, false, 405, "method not allowed", "GET, POST or DELETE");
        }
        return;
    }
    cy_resp_error(r, w, false, 404, "not found", "no such endpoint: %s", r->url);
}
