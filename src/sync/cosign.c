/*
 * cosign.c: this node's checkpoints cosigned by its peers' witnesses
 * (docs/federation.md, section 8; c2sp.org/tlog-witness).
 *
 * Every node is a witness of the logs of its peers (the puller's watcher
 * makes the node's witness follow each peer's log key).  After this
 * node's log publishes a checkpoint, a round (called by the hinter thread
 * of puller.c, before it sends hints) asks each peer's witness to cosign
 * it: POST <peer URL>/witness/add-checkpoint with the consistency proof
 * from the size that witness last cosigned.  A 200 answer's cosignature
 * is added to the log's published checkpoint (comity_log_add_cosignatures
 * keeps only lines that verify under that peer's witness key, and only
 * while the checkpoint is still the one cosigned), so the checkpoint the
 * log serves, its receipts and the federation pages carry it.  A 409
 * tells the witness's size: the request is made again once from there.
 *
 * A peer's witness key is read once from its GET /v1/node (the URL its
 * operator pinned); the key is not a trust root here: a cosignature is
 * worth what the pullers' witness policies say, and this node only
 * refuses lines that do not verify under the key it was told.
 *
 * Each peer has its own back-off (CY_COSIGN_BACKOFF_MIN_MS doubling to
 * CY_SYNC_BACKOFF_MAX_MS) after a failure, so a witness that is down
 * costs one short request now and then.  The state is in memory only: a
 * restarted node starts from old size 0, and the witness's 409 gives it
 * the size back.  One thread (the hinter) uses a cosigner; no lock.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

#include "crypto/note.h"
#include "sync/sync.h"
#include "tlog/tlog.h"

#define NODE_INFO_MAX (64u << 10)
#define COSIG_ANSWER_MAX (64u << 10)

struct wpeer {
    char origin[CY_PEER_ORIGIN_MAX + 1];
    char url[CY_PEER_URL_MAX];
    comity_vkey *wkey;    /* its witness key (NULL: not known yet) */
    uint64_t old;         /* the size its witness last cosigned, as far as known */
    int64_t next_try_ms;  /* back-off */
    long backoff_ms;
    bool seen;            /* still a peer in this round */
    char error[COMITY_ERRMSG_MAX];
};

struct cy_cosigner {
    comity_log *log;
    comity_store *store;
    const char *dir; /* the node's directory: its peers' TLS pins (tlspin.c); may be NULL */
    CURL *curl;
    struct wpeer p[CY_PEERS_MAX];
    size_t n;
    uint64_t rounds, added;
};

struct body {
    cy_buf b;
    bool over;
};

static size_t on_data(char *d, size_t sz, size_t n, void *ctx)
{
    struct body *bd = ctx;
    if (cy_buf_append(&bd->b, d, sz * n) != COMITY_OK) {
        bd->over = true;
        return 0;
    }
    return sz * n;
}

/* One request (body NULL: GET); OUT *status, the answer in bd (cap). */
static comity_err http(cy_cosigner *c, const char *url, const char *body, size_t len,
                       size_t cap, long *status, struct body *bd, comity_error *err)
{
    cy_buf_init(&bd->b, cap);
    bd->over = false;
    struct curl_slist *h = NULL;
    if (body)
        h = curl_slist_append(h, "Content-Type: text/plain");
    curl_easy_setopt(c->curl, CURLOPT_URL, url);
    curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c->curl, CURLOPT_HTTPGET, body ? 0L : 1L);
    if (body) {
        curl_easy_setopt(c->curl, CURLOPT_POST, 1L);
        curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    }
    curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, bd);
    CURLcode cc = curl_easy_perform(c->curl);
    curl_slist_free_all(h);
    curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, NULL);
    if (cc != CURLE_OK) {
        cy_buf_free(&bd->b);
        return cy_fail(err, bd->over ? COMITY_ERR_TOOBIG : COMITY_ERR_IO, "%s: %s", url,
                       bd->over ? "answer too large" : cy_sync_curl_why(cc));
    }
    curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, status);
    if (cy_buf_append(&bd->b, "", 1) == COMITY_OK) /* a NUL, not counted */
        bd->b.len--;
    return COMITY_OK;
}

comity_err cy_cosigner_new(comity_store *st, comity_log *log, const char *dir,
                           cy_cosigner **out, comity_error *err)
{
    *out = NULL;
    cy_cosigner *c = cy_calloc(1, sizeof *c);
    if (!c)
        return cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    c->log = log;
    c->store = st;
    c->dir = dir;
    c->curl = curl_easy_init();
    if (!c->curl) {
        cy_free(c);
        return cy_fail(err, COMITY_ERR_INTERNAL, "cosign: libcurl does not start");
    }
    curl_easy_setopt(c->curl, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c->curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT_MS, (long)CY_COSIGN_TIMEOUT_MS);
    curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS, (long)CY_COSIGN_TIMEOUT_MS);
    curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c->curl, CURLOPT_USERAGENT, "comity-cosign");
    *out = c;
    return COMITY_OK;
}

void cy_cosigner_free(cy_cosigner *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++)
        comity_vkey_free(c->p[i].wkey);
    curl_easy_cleanup(c->curl);
    cy_free(c);
}

static int mark_peer(const cy_peer *p, void *ctx)
{
    cy_cosigner *c = ctx;
    for (size_t i = 0; i < c->n; i++)
        if (!strcmp(c->p[i].origin, p->origin)) {
            c->p[i].seen = true;
            if (strcmp(c->p[i].url, p->url)) { /* moved: ask its key again */
                snprintf(c->p[i].url, sizeof c->p[i].url, "%s", p->url);
                comity_vkey_free(c->p[i].wkey);
                c->p[i].wkey = NULL;
            }
            return 0;
        }
    if (c->n == CY_PEERS_MAX)
        return 0;
    struct wpeer *w = &c->p[c->n++];
    memset(w, 0, sizeof *w);
    snprintf(w->origin, sizeof w->origin, "%s", p->origin);
    snprintf(w->url, sizeof w->url, "%s", p->url);
    w->seen = true;
    return 0;
}

/* The peer's witness key, from its GET /v1/node. */
static comity_err witness_key(cy_cosigner *c, struct wpeer *w, comity_error *err)
{
    if (w->wkey)
        return COMITY_OK;
    char url[CY_PEER_URL_MAX + 16];
    snprintf(url, sizeof url, "%s/v1/node", w->url);
    struct body bd;
    long st = 0;
    comity_err rc = http(c, url, NULL, 0, NODE_INFO_MAX, &st, &bd, err);
    if (rc)
        return rc;
    json_t *v = st == 200 ? json_loadb((const char *)bd.b.data, bd.b.len, 0, NULL) : NULL;
    cy_buf_free(&bd.b);
    const char *k = json_string_value(json_object_get(v, "witness_vkey"));
    if (!k)
        rc = cy_fail(err, COMITY_ERR_NOTFOUND, "%s: no witness key (HTTP %ld)", url, st);
    else if ((rc = comity_vkey_parse(k, strlen(k), &w->wkey, err)) == COMITY_OK &&
             w->wkey->type != COMITY_NOTE_COSIG_V1) {
        comity_vkey_free(w->wkey);
        w->wkey = NULL;
        rc = cy_fail(err, COMITY_ERR_INVALID, "%s: the witness key is not a cosignature key", url);
    }
    json_decref(v);
    return rc;
}

/* The size of the checkpoint inside an add-checkpoint request body. */
static bool request_size(const char *body, size_t len, uint64_t *size)
{
    const char *p = body, *end = body + len;
    const char *blank = NULL;
    for (; p + 1 < end; p++)
        if (p[0] == '\n' && p[1] == '\n') {
            blank = p + 2;
            break;
        }
    if (!blank)
        return false;
    cy_note *n = cy_malloc(sizeof *n);
    cy_checkpoint cp;
    bool ok = n && cy_note_parse(blank, (size_t)(end - blank), n, NULL) == COMITY_OK &&
              cy_checkpoint_parse_text(n->text, n->text_len, &cp, NULL) == COMITY_OK;
    if (ok)
        *size = cp.size;
    cy_free(n);
    return ok;
}

/* Asks one witness; OUT *got: a cosignature was added. */
static comity_err ask(cy_cosigner *c, struct wpeer *w, bool *got, comity_error *err)
{
    char url[CY_PEER_URL_MAX + 32];
    snprintf(url, sizeof url, "%s/witness/add-checkpoint", w->url);
    *got = false;
    for (int attempt = 0; attempt < 2; attempt++) {
        char *req = NULL;
        size_t rlen = 0;
        uint64_t size = 0;
        comity_err rc = comity_log_witness_request(c->log, w->old, &req, &rlen, err);
        if (rc == COMITY_ERR_USAGE) { /* the witness knows more of us than our log: odd */
            comity_free(req);
            w->old = 0;
            return rc;
        }
        if (!rc && !request_size(req, rlen, &size))
            rc = cy_fail(err, COMITY_ERR_INTERNAL, "cosign: the request names no size");
        struct body bd = {0};
        long st = 0;
        if (!rc)
            rc = http(c, url, req, rlen, COSIG_ANSWER_MAX, &st, &bd, err);
        comity_free(req);
        if (rc)
            return rc;
        if (st == 200) {
            const comity_vkey *keys[1] = {w->wkey};
            comity_error ae = {0};
            w->old = size; /* the witness holds this size now, whatever follows */
            if (comity_log_add_cosignatures(c->log, (const char *)bd.b.data, bd.b.len, keys, 1,
                                            &ae) == COMITY_OK)
                *got = true;
            cy_buf_free(&bd.b);
            /* a checkpoint published meanwhile: the next round asks again */
            return COMITY_OK;
        }
        uint64_t theirs = 0;
        bool sized = st == 409 && bd.b.len > 0 &&
                     cy_parse_u64((const char *)bd.b.data,
                                  bd.b.len - (((const char *)bd.b.data)[bd.b.len - 1] == '\n'),
                                  &theirs);
        char said[120];
        snprintf(said, sizeof said, "%.100s", bd.b.data ? (const char *)bd.b.data : "");
        cy_buf_free(&bd.b);
        if (sized && attempt == 0 && theirs != w->old) {
            w->old = theirs;
            continue;
        }
        if (st == 404)
            return cy_fail(err, COMITY_ERR_NOTFOUND, "%s: its witness does not follow this "
                           "node's log (is this node pinned there as a peer?)", url);
        if (st == 422)
            return cy_fail(err, COMITY_ERR_CONFLICT, "%s: the witness holds another tree of "
                           "this log's size (422)", url);
        return cy_fail(err, COMITY_ERR_IO, "%s: HTTP %ld: %s", url, st, said);
    }
    return cy_fail(err, COMITY_ERR_CONFLICT, "%s: the witness's size keeps moving", url);
}

size_t cy_cosigner_round(cy_cosigner *c, const atomic_bool *stop)
{
    uint64_t size = 0;
    if (comity_log_read_checkpoint(c->log, NULL, NULL, &size, NULL, NULL) != COMITY_OK ||
        size == 0)
        return 0;
    for (size_t i = 0; i < c->n; i++)
        c->p[i].seen = false;
    (void)cy_store_peer_list(c->store, mark_peer, c, NULL);
    size_t added = 0;
    int64_t now = cy_now_ms();
    for (size_t i = 0; i < c->n && !atomic_load(stop); i++) {
        struct wpeer *w = &c->p[i];
        if (!w->seen || w->old == size || now < w->next_try_ms)
            continue;
        comity_error e = {0};
        bool got = false;
        char pin[CY_TLS_PIN_BUF];
        comity_err rc = cy_sync_pin_get(c->dir, w->origin, pin, &e);
        cy_sync_curl_tls(c->curl, pin);
        if (!rc)
            rc = witness_key(c, w, &e);
        if (!rc)
            rc = ask(c, w, &got, &e);
        if (rc) {
            w->backoff_ms = w->backoff_ms ? w->backoff_ms * 2 : CY_COSIGN_BACKOFF_MIN_MS;
            if (w->backoff_ms > CY_SYNC_BACKOFF_MAX_MS)
                w->backoff_ms = CY_SYNC_BACKOFF_MAX_MS;
            w->next_try_ms = cy_now_ms() + w->backoff_ms;
            snprintf(w->error, sizeof w->error, "%s", e.msg);
            continue;
        }
        w->backoff_ms = 0;
        w->error[0] = '\0';
        added += got;
    }
    c->rounds++;
    c->added += added;
    return added;
}
