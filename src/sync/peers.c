/*
 * peers.c: the operator's pinned peers (docs/federation.md, section 1).
 *
 * Adding a peer stores three kinds of rows, each through the store's
 * ordinary operations: the peer (URL, log key, cursor 0), its login
 * principal "peer:<origin>" of kind "peer" with the log key (so that it
 * logs in with its node key, session.c), and each party homed at it as a
 * principal of kind "remote" (keys known, no login here) with a home row.
 * The principals get a token hash no token hashes to ("peer-..." /
 * "remote-...": a SHA-256 hash is 64 hex digits), so none of them can use
 * a token.  Re-adding the same peer with the same keys is harmless; a name
 * taken by something else is refused, never overwritten.
 */
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>

#include "record/visible.h"
#include "sync/sync.h"

/* A principal of `kind` with a token hash nobody's token has; the same one
 * again is fine, anything else under that name is EXISTS. */
static comity_err principal_pin(comity_store *st, const char *name, const char *kind,
                                const char *vkey, const char *recipient, comity_error *err)
{
    cy_principal p, have;
    memset(&p, 0, sizeof p);
    snprintf(p.name, sizeof p.name, "%s", name);
    snprintf(p.kind, sizeof p.kind, "%s", kind);
    snprintf(p.vkey, sizeof p.vkey, "%s", vkey);
    snprintf(p.recipient, sizeof p.recipient, "%s", recipient ? recipient : "");
    p.created = cy_now_ms() * 1000;
    uint8_t rnd[24];
    randombytes_buf(rnd, sizeof rnd);
    char hash[CY_TOKEN_HASH_HEX];
    int n = snprintf(hash, sizeof hash, "%s-", kind); /* "remote-" at most: room for 48 hex */
    sodium_bin2hex(hash + n, sizeof hash - (size_t)n, rnd, sizeof rnd);
    comity_err rc = cy_store_principal_add(st, &p, hash, err);
    if (rc != COMITY_ERR_EXISTS)
        return rc;
    cy_err_clear(err);
    if ((rc = cy_store_principal_get(st, name, &have, NULL, err)))
        return rc;
    if (strcmp(have.kind, kind) != 0 || strcmp(have.vkey, p.vkey) != 0 ||
        strcmp(have.recipient, p.recipient) != 0)
        return cy_fail(err, COMITY_ERR_EXISTS,
                       "%s is registered already with other keys or as a %s", name, have.kind);
    return COMITY_OK;
}

/* A new peer row's added_us, which also tells the row from one of the
 * same origin removed before it: a puller's cursor write names the row it
 * read (cy_store_peer_advance_row), so a pull under way when the peer is
 * removed and added again moves nothing.  The real clock's microseconds,
 * not cy_now_ms (a fake time, in tests, is the same for both rows): two
 * rows of one origin are a removal's commit apart. */
static int64_t row_generation(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t us = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
    return us > 0 ? us : 1; /* 0 means "any row" */
}

/* The party name a vkey is for, after checking the key. */
static comity_err party_of(const char *vkey, char name[COMITY_PARTY_MAX + 1], comity_error *err)
{
    comity_vkey *vk = NULL;
    comity_err rc = comity_vkey_parse(vkey, strlen(vkey), &vk, err);
    if (rc)
        return cy_wrap(err, "party key '%.40s'", vkey);
    snprintf(name, COMITY_PARTY_MAX + 1, "%s", comity_vkey_name(vk));
    bool ok = comity_vkey_type(vk) == COMITY_NOTE_ED25519 &&
              strlen(comity_vkey_name(vk)) <= COMITY_PARTY_MAX;
    comity_vkey_free(vk);
    if (!ok || !comity_party_valid(name, err))
        return cy_fail(err, COMITY_ERR_INVALID, "party key '%.40s': not an Ed25519 key named "
                       "after a party", vkey);
    if (strlen(vkey) >= CY_VKEY_MAX)
        return cy_fail(err, COMITY_ERR_INVALID, "party key of %s: too long", name);
    return COMITY_OK;
}

struct count {
    size_t n;
    const char *skip;
};

static int count_peer(const cy_peer *p, void *ctx)
{
    struct count *c = ctx;
    if (strcmp(p->origin, c->skip) != 0)
        c->n++;
    return 0;
}

struct homed {
    const char *v[CY_PEER_FILTER_MAX + 1];
    char buf[CY_PEER_FILTER_MAX + 1][COMITY_PARTY_MAX + 1];
    size_t n;
};

static int homed_cb(const char *name, void *ctx)
{
    struct homed *h = ctx;
    if (h->n > CY_PEER_FILTER_MAX)
        return 1;
    snprintf(h->buf[h->n], sizeof h->buf[0], "%s", name);
    h->v[h->n] = h->buf[h->n];
    h->n++;
    return 0;
}

comity_err cy_sync_peer_add(comity_store *st, const char *self, const char *url,
                            const char *log_vkey, const char *const *party_vkeys,
                            const char *const *recipients, size_t nparties, comity_error *err)
{
    comity_err rc;
    if (!url || (strncmp(url, "http://", 7) && strncmp(url, "https://", 8)) ||
        strlen(url) >= CY_PEER_URL_MAX)
        return cy_fail(err, COMITY_ERR_USAGE, "peer: the URL must be http:// or https:// and "
                       "shorter than %d bytes", CY_PEER_URL_MAX);
    for (const char *c = url; *c; c++)
        if ((unsigned char)*c <= ' ' || (unsigned char)*c > '~')
            return cy_fail(err, COMITY_ERR_USAGE, "peer: the URL has a space or a control byte");
    comity_vkey *vk = NULL;
    if (!log_vkey || (rc = comity_vkey_parse(log_vkey, strlen(log_vkey), &vk, err)))
        return log_vkey ? cy_wrap(err, "peer: --log-vkey")
                        : cy_fail(err, COMITY_ERR_USAGE, "peer: no log key given");
    cy_peer p;
    memset(&p, 0, sizeof p);
    const char *origin = comity_vkey_name(vk);
    bool ok = comity_vkey_type(vk) == COMITY_NOTE_ED25519 && strlen(origin) <= CY_PEER_ORIGIN_MAX;
    snprintf(p.origin, sizeof p.origin, "%s", origin);
    comity_vkey_free(vk);
    if (!ok)
        return cy_fail(err, COMITY_ERR_USAGE, "peer: the log key must be an Ed25519 note key "
                       "whose name (the origin) is at most %d bytes", CY_PEER_ORIGIN_MAX);
    if (self && !strcmp(p.origin, self))
        return cy_fail(err, COMITY_ERR_USAGE, "peer: %s is this node", p.origin);
    if (strlen(log_vkey) >= CY_VKEY_MAX)
        return cy_fail(err, COMITY_ERR_USAGE, "peer: the log key is too long");
    snprintf(p.url, sizeof p.url, "%s", url);
    size_t ul = strlen(p.url);
    while (ul > 0 && p.url[ul - 1] == '/')
        p.url[--ul] = '\0'; /* paths are appended */
    snprintf(p.vkey, sizeof p.vkey, "%s", log_vkey);
    p.added_us = row_generation();
    struct count c = {0, p.origin};
    if ((rc = cy_store_peer_list(st, count_peer, &c, err)))
        return rc;
    if (c.n >= CY_PEERS_MAX)
        return cy_fail(err, COMITY_ERR_TOOBIG, "peer: at most %d peers", CY_PEERS_MAX);
    /* the parties first checked, so that a bad one changes nothing */
    char (*names)[COMITY_PARTY_MAX + 1] = cy_calloc(nparties ? nparties : 1, sizeof *names);
    struct homed *h = cy_calloc(1, sizeof *h);
    cy_peer_view *view = cy_calloc(1, sizeof *view);
    if (!names || !h || !view) {
        rc = cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < nparties; i++) {
        if ((rc = party_of(party_vkeys[i], names[i], err)))
            goto out;
        if (!comity_recipient_valid(recipients[i], err)) {
            rc = cy_wrap(err, "peer: party %s: age recipient", names[i]);
            goto out;
        }
        char home[CY_PEER_ORIGIN_MAX + 1];
        rc = cy_store_home_get(st, names[i], home, NULL);
        if (rc == COMITY_OK && strcmp(home, p.origin) != 0) {
            rc = cy_fail(err, COMITY_ERR_EXISTS, "peer: %s is homed at %s already", names[i],
                         home);
            goto out;
        }
        cy_principal have;
        if (rc == COMITY_ERR_NOTFOUND &&
            cy_store_principal_get(st, names[i], &have, NULL, NULL) == COMITY_OK) {
            rc = cy_fail(err, COMITY_ERR_EXISTS,
                         "peer: %s is registered on this node (its home is here)", names[i]);
            goto out;
        }
    }
    /* the peer filter's cap, with the parties homed at it already */
    if ((rc = cy_store_home_list(st, p.origin, homed_cb, h, err)))
        goto out;
    for (size_t i = 0; i < nparties && h->n <= CY_PEER_FILTER_MAX; i++)
        homed_cb(names[i], h);
    if (h->n > CY_PEER_FILTER_MAX ||
        (rc = cy_record_peer_visibility(h->v, h->n, view, err))) {
        rc = h->n > CY_PEER_FILTER_MAX
                 ? cy_fail(err, COMITY_ERR_TOOBIG, "peer: more than %d parties homed at %s",
                           CY_PEER_FILTER_MAX, p.origin)
                 : cy_wrap(err, "peer %s", p.origin);
        goto out;
    }
    rc = cy_store_peer_add(st, &p, err);
    if (rc == COMITY_ERR_EXISTS) {
        cy_peer have;
        cy_err_clear(err);
        if ((rc = cy_store_peer_get(st, p.origin, &have, err)))
            goto out;
        if (strcmp(have.vkey, p.vkey) != 0 || strcmp(have.url, p.url) != 0) {
            rc = cy_fail(err, COMITY_ERR_EXISTS, "peer: %s is pinned already with another URL "
                         "or key (remove it first)", p.origin);
            goto out;
        }
    } else if (rc) {
        goto out;
    }
    char login[COMITY_PARTY_MAX + 1];
    snprintf(login, sizeof login, CY_PEER_PREFIX "%s", p.origin);
    if ((rc = principal_pin(st, login, "peer", p.vkey, NULL, err)))
        goto out;
    for (size_t i = 0; i < nparties; i++)
        if ((rc = principal_pin(st, names[i], "remote", party_vkeys[i], recipients[i], err)) ||
            (rc = cy_store_home_set(st, names[i], p.origin, err)))
            goto out;
out:
    cy_free(names);
    cy_free(h);
    cy_free(view);
    return rc;
}

struct listing {
    json_t *a;
    comity_error *err;
};

static int list_home(const char *name, void *ctx)
{
    json_array_append_new(ctx, json_string(name));
    return 0;
}

static int list_one(const cy_peer *p, void *ctx)
{
    struct listing *l = ctx;
    json_t *o = json_object();
    char t[COMITY_TIME_BUF];
    json_object_set_new(o, "origin", json_string(p->origin));
    json_object_set_new(o, "url", json_string(p->url));
    json_object_set_new(o, "log_vkey", json_string(p->vkey));
    json_object_set_new(o, "cursor", json_integer((json_int_t)p->cursor));
    json_object_set_new(o, "pulled", json_integer((json_int_t)p->pulled));
    comity_checkpoint cp;
    if (p->checkpoint[0] &&
        comity_checkpoint_parse(p->checkpoint, strlen(p->checkpoint), &cp, NULL) == COMITY_OK) {
        json_object_set_new(o, "checkpoint_size", json_integer((json_int_t)cp.size));
        /* entries the origin's last accepted checkpoint holds beyond the
         * cursor: an upper bound of the records not yet pulled */
        json_object_set_new(o, "lag_entries",
                            json_integer(cp.size > p->cursor ? (json_int_t)(cp.size - p->cursor)
                                                             : 0));
    }
    json_object_set_new(o, "checkpoint", json_string(p->checkpoint));
    if (p->last_ok_us) {
        comity_time_format(t, p->last_ok_us / 1000);
        json_object_set_new(o, "last_ok", json_string(t));
        json_object_set_new(o, "lag_seconds",
                            json_integer((json_int_t)((cy_now_ms() - p->last_ok_us / 1000) / 1000)));
    }
    if (p->last_try_us) {
        comity_time_format(t, p->last_try_us / 1000);
        json_object_set_new(o, "last_try", json_string(t));
    }
    json_object_set_new(o, "error", json_string(p->error));
    json_object_set_new(o, "parties", json_array());
    json_array_append_new(l->a, o);
    return 0;
}

comity_err cy_sync_peer_list(comity_store *st, char **out, comity_error *err)
{
    return cy_sync_peer_list_dir(st, NULL, out, err);
}

comity_err cy_sync_peer_list_dir(comity_store *st, const char *dir, char **out,
                                 comity_error *err)
{
    struct listing l = {json_array(), err};
    if (!l.a)
        return cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    comity_err rc = cy_store_peer_list(st, list_one, &l, err);
    for (size_t i = 0; !rc && i < json_array_size(l.a); i++) {
        json_t *o = json_array_get(l.a, i);
        const char *origin = json_string_value(json_object_get(o, "origin"));
        rc = cy_store_home_list(st, origin, list_home, json_object_get(o, "parties"), err);
        char pin[CY_TLS_PIN_BUF];
        if (!rc && dir && !(rc = cy_sync_pin_get(dir, origin, pin, err)))
            json_object_set_new(o, "tls_pin", json_string(pin));
        if (!rc && dir)
            cy_sync_files_status(dir, origin, o);
        /* a files thread that did not start is the peer's error too: its
         * records come, its sealed files do not */
        const char *ferr = json_string_value(json_object_get(o, "files_error"));
        const char *perr = json_string_value(json_object_get(o, "error"));
        if (ferr && perr && !strstr(perr, ferr)) {
            json_t *both = *perr ? json_sprintf("%s; %s", perr, ferr) : json_string(ferr);
            json_object_set_new(o, "error", both ? both : json_string(ferr));
        }
    }
    if (!rc) {
        char *s = json_dumps(l.a, JSON_INDENT(2));
        *out = s ? cy_strdup(s) : NULL;
        free(s);
        if (!*out)
            rc = cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    }
    json_decref(l.a);
    return rc;
}

comity_err cy_sync_peer_remove(comity_store *st, const char *origin, comity_error *err)
{
    return cy_store_peer_remove(st, origin, err);
}

comity_err cy_sync_peer_advance(comity_store *st, const cy_peer *read, uint64_t cursor,
                                const char *checkpoint, uint64_t pulled, comity_error *err)
{
    return cy_store_peer_advance_row(st, read->origin, read->added_us, cursor, checkpoint, pulled,
                                     cy_now_ms() * 1000, err);
}
