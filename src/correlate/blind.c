/*
 * blind.c: blinded correlation (correlate.h, docs/correlation.md).
 *
 * Participants that will not show each other their indicators agree on a
 * key (one of them draws it and seals it to the others with age; the node
 * never has it), hash each normalised value under it (cy_blind_hash:
 * BLAKE2b keyed, libsodium's crypto_generichash, 128-bit output) and
 * submit the sorted set of hashes to a round on the node.  The node, which
 * cannot invert a keyed hash it has no key for, intersects the sets: each
 * participant learns, per other participant, which of its own hashes the
 * other submitted too, and maps them back to its values locally.
 *
 * The rounds live in memory behind one mutex (a submit sorts its set
 * before taking the lock; a result intersects under it, O(na + nb) per
 * other participant).  Caps: CY_BLIND_* in correlate.h, each refused with
 * an error naming it.
 *
 * Durability: with a store (cy_blind_rounds_persist, as the node runs
 * them) every accepted submission is written to the store's settings
 * before it is answered, and the rounds are read back when the node
 * starts, so a restart keeps each round, its participants and their
 * latest sets.  Keys (meta, store.h):
 *   blind.rounds           JSON array of the round names
 *   blind.round.NAME       JSON {"participants": [...]} (sorted)
 *   blind.set.NAME.PARTY   base64 of PARTY's sorted set (PARTY the
 *                          participant entry: a bare state for its offices)
 * A submission writes its set (meta_set is durable on return), then, for
 * a new round, the round and the list, all under the rounds' mutex; a
 * write that fails leaves memory as it was and the submission refused.
 * A round written without its list entry (a crash between the two) is
 * not read back: its participants submit again.  Only keyed hashes are
 * stored, as the node already held them in memory.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "correlate/correlate.h"
#include "store/store.h"

#define BLIND_BODY_MAX ((size_t)CY_BLIND_SET_MAX * CY_BLIND_HASH_LEN * 4 / 3 + 4096)

comity_err cy_blind_hash(const uint8_t key[CY_BLIND_KEY_LEN], int kind, const char *v, size_t len,
                         uint8_t out[CY_BLIND_HASH_LEN], comity_error *err)
{
    uint8_t buf[CY_CORR_KEY_MAX + 1];
    size_t klen;
    int kk;
    comity_err rc = cy_corr_normalise(kind, v, len, buf + 1, &klen, &kk, err);
    if (rc)
        return rc;
    buf[0] = (uint8_t)kk;
    crypto_generichash(out, CY_BLIND_HASH_LEN, buf, klen + 1, key, CY_BLIND_KEY_LEN);
    return COMITY_OK;
}

static int hcmp(const void *a, const void *b)
{
    return memcmp(a, b, CY_BLIND_HASH_LEN);
}

size_t cy_blind_sort(uint8_t *h, size_t n)
{
    if (n < 2)
        return n;
    qsort(h, n, CY_BLIND_HASH_LEN, hcmp);
    size_t k = 1;
    for (size_t i = 1; i < n; i++)
        if (memcmp(h + i * CY_BLIND_HASH_LEN, h + (k - 1) * CY_BLIND_HASH_LEN, CY_BLIND_HASH_LEN))
            memmove(h + k++ * CY_BLIND_HASH_LEN, h + i * CY_BLIND_HASH_LEN, CY_BLIND_HASH_LEN);
    return k;
}

size_t cy_blind_intersect(const uint8_t *a, size_t na, const uint8_t *b, size_t nb, uint8_t *out)
{
    size_t i = 0, j = 0, k = 0;
    while (i < na && j < nb) {
        int d = memcmp(a + i * CY_BLIND_HASH_LEN, b + j * CY_BLIND_HASH_LEN, CY_BLIND_HASH_LEN);
        if (d < 0) {
            i++;
        } else if (d > 0) {
            j++;
        } else {
            memcpy(out + k++ * CY_BLIND_HASH_LEN, a + i * CY_BLIND_HASH_LEN, CY_BLIND_HASH_LEN);
            i++;
            j++;
        }
    }
    return k;
}

/* ---- rounds -------------------------------------------------------------- */

struct part {
    char name[COMITY_PARTY_MAX + 1];
    uint8_t *set; /* sorted, owned; NULL until submitted */
    size_t n;
    bool submitted;
};

struct round {
    char name[CY_BLIND_ROUND_NAME_MAX + 1];
    struct part parts[CY_BLIND_PARTIES_MAX];
    size_t nparts;
};

struct cy_blind_rounds {
    pthread_mutex_t mu;
    struct round *r[CY_BLIND_ROUNDS_MAX];
    size_t n;
    comity_store *st; /* where rounds are kept (NULL: memory only) */
};

comity_err cy_blind_rounds_new(cy_blind_rounds **out, comity_error *err)
{
    *out = cy_calloc(1, sizeof **out);
    if (!*out)
        return cy_fail(err, COMITY_ERR_NOMEM, "blind: out of memory");
    pthread_mutex_init(&(*out)->mu, NULL);
    return COMITY_OK;
}

static void round_free(struct round *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->nparts; i++)
        cy_free(r->parts[i].set);
    cy_free(r);
}

void cy_blind_rounds_free(cy_blind_rounds *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < b->n; i++)
        round_free(b->r[i]);
    pthread_mutex_destroy(&b->mu);
    cy_free(b);
}

static struct round *find(cy_blind_rounds *b, const char *name)
{
    for (size_t i = 0; i < b->n; i++)
        if (!strcmp(b->r[i]->name, name))
            return b->r[i];
    return NULL;
}

/* The participant entry of round r that stands for `party` (the same name,
 * or a bare state standing for its offices: the record rule). */
static struct part *part_of(struct round *r, const char *party)
{
    for (size_t i = 0; i < r->nparts; i++)
        if (comity_record_addresses(r->parts[i].name, party))
            return &r->parts[i];
    return NULL;
}

static bool name_ok(const char *s)
{
    size_t n = strlen(s);
    if (!n || n > CY_BLIND_ROUND_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-' ||
              s[i] == '_' || s[i] == '.'))
            return false;
    return true;
}

static int pcmp(const void *a, const void *b)
{
    return strcmp(((const struct part *)a)->name, ((const struct part *)b)->name);
}

/* The participants list of a body into r (sorted, unique). */
static comity_err parts_parse(const json_t *a, struct round *r, comity_error *err)
{
    if (!json_is_array(a) || json_array_size(a) < 2 ||
        json_array_size(a) > CY_BLIND_PARTIES_MAX)
        return cy_fail(err, COMITY_ERR_INVALID,
                       "blind.participants: want an array of 2 to %d party names",
                       CY_BLIND_PARTIES_MAX);
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v)
    {
        const char *s = json_string_value(v);
        if (!s || !comity_party_valid(s, NULL))
            return cy_fail(err, COMITY_ERR_INVALID,
                           "blind.participants[%zu]: not a party name", i);
        snprintf(r->parts[i].name, sizeof r->parts[i].name, "%s", s);
    }
    r->nparts = json_array_size(a);
    qsort(r->parts, r->nparts, sizeof r->parts[0], pcmp);
    for (i = 1; i < r->nparts; i++)
        if (!strcmp(r->parts[i].name, r->parts[i - 1].name))
            return cy_fail(err, COMITY_ERR_INVALID, "blind.participants: '%s' listed twice",
                           r->parts[i].name);
    return COMITY_OK;
}

/* ---- durability ----------------------------------------------------------- */

/* Writes participant p's set of round r (under the mutex). */
static comity_err save_set(cy_blind_rounds *b, const struct round *r, const char *pname,
                           const uint8_t *set, size_t n, comity_error *err)
{
    char key[CY_BLIND_ROUND_NAME_MAX + COMITY_PARTY_MAX + 32];
    snprintf(key, sizeof key, "blind.set.%s.%s", r->name, pname);
    char *b64 = cy_b64_encode_alloc(set, n * CY_BLIND_HASH_LEN, CY_B64_STD);
    if (!b64)
        return cy_fail(err, COMITY_ERR_NOMEM, "blind: out of memory");
    comity_err rc = cy_store_meta_set(b->st, key, b64, err);
    cy_free(b64);
    return rc;
}

/* Writes round r's participants and the list of rounds (r included). */
static comity_err save_round(cy_blind_rounds *b, const struct round *r, comity_error *err)
{
    json_t *ps = json_array(), *names = json_array();
    for (size_t i = 0; ps && i < r->nparts; i++)
        json_array_append_new(ps, json_string(r->parts[i].name));
    for (size_t i = 0; names && i < b->n; i++)
        json_array_append_new(names, json_string(b->r[i]->name));
    if (names && !find(b, r->name))
        json_array_append_new(names, json_string(r->name));
    json_t *o = ps ? json_pack("{s:O}", "participants", ps) : NULL;
    char *t1 = o ? json_dumps(o, JSON_COMPACT) : NULL;
    char *t2 = names ? json_dumps(names, JSON_COMPACT) : NULL;
    json_decref(o);
    json_decref(ps);
    json_decref(names);
    char key[CY_BLIND_ROUND_NAME_MAX + 32];
    snprintf(key, sizeof key, "blind.round.%s", r->name);
    comity_err rc = !t1 || !t2 ? cy_fail(err, COMITY_ERR_NOMEM, "blind: out of memory")
                               : cy_store_meta_set(b->st, key, t1, err);
    if (!rc)
        rc = cy_store_meta_set(b->st, "blind.rounds", t2, err);
    free(t1);
    free(t2);
    return rc;
}

/* Reads round `name` back from the store into b. */
static comity_err load_round(cy_blind_rounds *b, const char *name, comity_error *err)
{
    char key[CY_BLIND_ROUND_NAME_MAX + COMITY_PARTY_MAX + 32];
    char *text = NULL;
    if (!name_ok(name) || find(b, name) || b->n >= CY_BLIND_ROUNDS_MAX)
        return COMITY_OK; /* not a round this node could have written */
    snprintf(key, sizeof key, "blind.round.%s", name);
    comity_err rc = cy_store_meta_get(b->st, key, &text, err);
    if (rc == COMITY_ERR_NOTFOUND)
        return COMITY_OK;
    if (rc)
        return rc;
    json_t *j = json_loads(text, 0, NULL);
    cy_free(text);
    struct round *r = cy_calloc(1, sizeof *r);
    if (!r) {
        json_decref(j);
        return cy_fail(err, COMITY_ERR_NOMEM, "blind: out of memory");
    }
    snprintf(r->name, sizeof r->name, "%s", name);
    rc = parts_parse(json_object_get(j, "participants"), r, err);
    json_decref(j);
    for (size_t i = 0; !rc && i < r->nparts; i++) {
        struct part *p = &r->parts[i];
        snprintf(key, sizeof key, "blind.set.%s.%s", name, p->name);
        comity_err g = cy_store_meta_get(b->st, key, &text, err);
        if (g == COMITY_ERR_NOTFOUND)
            continue;
        if (g) {
            rc = g;
            break;
        }
        size_t n = 0;
        if (*text)
            rc = cy_b64_decode_any_alloc(&p->set, &n, text, strlen(text),
                                         (size_t)CY_BLIND_SET_MAX * CY_BLIND_HASH_LEN, err);
        cy_free(text);
        if (!rc && n % CY_BLIND_HASH_LEN)
            rc = cy_fail(err, COMITY_ERR_INVALID, "blind: stored set %s is not whole hashes", key);
        p->n = n / CY_BLIND_HASH_LEN;
        p->submitted = !rc;
    }
    if (rc) {
        round_free(r);
        cy_wrap(err, "blind: round '%s' as stored", name);
        return rc;
    }
    b->r[b->n++] = r;
    return COMITY_OK;
}

comity_err cy_blind_rounds_persist(cy_blind_rounds *b, comity_store *st, comity_error *err)
{
    char *text = NULL;
    pthread_mutex_lock(&b->mu);
    b->st = st;
    comity_err rc = cy_store_meta_get(st, "blind.rounds", &text, err);
    if (rc == COMITY_ERR_NOTFOUND) { /* nothing kept yet: no error to hand on */
        cy_err_clear(err);
        pthread_mutex_unlock(&b->mu);
        return COMITY_OK;
    }
    json_t *names = rc ? NULL : json_loads(text, 0, NULL);
    cy_free(text);
    size_t i;
    json_t *v;
    json_array_foreach(names, i, v)
    {
        if (rc)
            break;
        if (json_is_string(v))
            rc = load_round(b, json_string_value(v), err);
    }
    json_decref(names);
    pthread_mutex_unlock(&b->mu);
    return rc;
}

comity_err cy_blind_submit(cy_blind_rounds *b, const char *name, const char *party,
                           const char *body, size_t len, comity_error *err)
{
    if (!name || !name_ok(name))
        return cy_fail(err, COMITY_ERR_INVALID,
                       "blind: round name must be 1-%d of a-z 0-9 . _ -",
                       CY_BLIND_ROUND_NAME_MAX);
    if (!party || !*party)
        return cy_fail(err, COMITY_ERR_DENIED, "blind: only a party submits a set");
    if (len > BLIND_BODY_MAX)
        return cy_fail(err, COMITY_ERR_TOOBIG, "blind: body larger than %zu bytes",
                       BLIND_BODY_MAX);
    json_error_t je;
    json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
    if (!json_is_object(j)) {
        json_decref(j);
        return cy_fail(err, COMITY_ERR_INVALID, "blind: body is not a JSON object (%s)",
                       je.text);
    }
    comity_err rc = COMITY_OK;
    uint8_t *set = NULL;
    size_t n = 0;
    struct round *fresh = cy_calloc(1, sizeof *fresh);
    if (!fresh) {
        rc = cy_fail(err, COMITY_ERR_NOMEM, "blind: out of memory");
        goto done;
    }
    const char *k;
    json_t *v;
    json_object_foreach(j, k, v)
    {
        if (strcmp(k, "participants") && strcmp(k, "hashes")) {
            rc = cy_fail(err, COMITY_ERR_INVALID, "blind.%.32s: unknown member", k);
            goto done;
        }
    }
    const json_t *ps = json_object_get(j, "participants");
    if (ps && (rc = parts_parse(ps, fresh, err)))
        goto done;
    const json_t *hs = json_object_get(j, "hashes");
    if (!json_is_string(hs)) {
        rc = cy_fail(err, COMITY_ERR_INVALID, "blind.hashes: want a base64 string");
        goto done;
    }
    if (json_string_length(hs) &&
        (rc = cy_b64_decode_any_alloc(&set, &n, json_string_value(hs), json_string_length(hs),
                                      (size_t)CY_BLIND_SET_MAX * CY_BLIND_HASH_LEN, err))) {
        cy_wrap(err, "blind.hashes");
        goto done;
    }
    if (n % CY_BLIND_HASH_LEN) {
        rc = cy_fail(err, COMITY_ERR_INVALID, "blind.hashes: %zu bytes, not a multiple of %d",
                     n, CY_BLIND_HASH_LEN);
        goto done;
    }
    n = cy_blind_sort(set, n / CY_BLIND_HASH_LEN);

    pthread_mutex_lock(&b->mu);
    bool saved = false;
    struct round *r = find(b, name);
    if (!r) {
        if (!ps) {
            rc = cy_fail(err, COMITY_ERR_NOTFOUND,
                         "blind: no round '%s' (the first submit names the participants)", name);
        } else if (!part_of(fresh, party)) {
            rc = cy_fail(err, COMITY_ERR_DENIED, "blind: %s is none of the participants", party);
        } else if (b->n >= CY_BLIND_ROUNDS_MAX) {
            rc = cy_fail(err, COMITY_ERR_TOOBIG, "blind: more than %d rounds on this node",
                         CY_BLIND_ROUNDS_MAX);
        } else {
            snprintf(fresh->name, sizeof fresh->name, "%s", name);
            struct part *fp = part_of(fresh, party);
            if (b->st && ((rc = save_set(b, fresh, fp->name, set, n, err)) ||
                          (rc = save_round(b, fresh, err)))) {
                /* refused: memory stays as it was */
            } else {
                saved = true;
                r = b->r[b->n++] = fresh;
                fresh = NULL;
            }
        }
    } else if (ps) {
        bool same = fresh->nparts == r->nparts;
        for (size_t i = 0; same && i < r->nparts; i++)
            same = !strcmp(fresh->parts[i].name, r->parts[i].name);
        if (!same)
            rc = cy_fail(err, COMITY_ERR_CONFLICT,
                         "blind: round '%s' exists with other participants", name);
    }
    struct part *p = rc ? NULL : part_of(r, party);
    if (!rc && !p) /* the same answer as for an unknown round */
        rc = cy_fail(err, COMITY_ERR_NOTFOUND,
                     "blind: no round '%s' (the first submit names the participants)", name);
    if (!rc && b->st && !saved)
        rc = save_set(b, r, p->name, set, n, err);
    if (!rc) {
        cy_free(p->set);
        p->set = set;
        p->n = n;
        p->submitted = true;
        set = NULL;
    }
    pthread_mutex_unlock(&b->mu);
done:
    round_free(fresh);
    cy_free(set);
    json_decref(j);
    return rc;
}

comity_err cy_blind_result(cy_blind_rounds *b, const char *name, const char *party, char **json,
                           comity_error *err)
{
    *json = NULL;
    comity_err rc = COMITY_OK;
    json_t *o = NULL;
    uint8_t *tmp = NULL;
    pthread_mutex_lock(&b->mu);
    struct round *r = name && party ? find(b, name) : NULL;
    struct part *me = r ? part_of(r, party) : NULL;
    if (!me) {
        rc = cy_fail(err, COMITY_ERR_NOTFOUND,
                     "blind: no round '%.*s' (the first submit names the participants)",
                     CY_BLIND_ROUND_NAME_MAX, name ? name : "");
        goto done;
    }
    json_t *parts = json_array(), *sub = json_array(), *ov = json_array();
    o = json_pack("{s:s, s:o, s:o, s:o}", "round", r->name, "participants", parts, "submitted",
                  sub, "overlaps", ov);
    if (!o)
        goto nomem;
    tmp = cy_malloc((me->n ? me->n : 1) * CY_BLIND_HASH_LEN);
    if (!tmp)
        goto nomem;
    for (size_t i = 0; i < r->nparts; i++) {
        struct part *p = &r->parts[i];
        if (json_array_append_new(parts, json_string(p->name)))
            goto nomem;
        if (p->submitted && json_array_append_new(sub, json_string(p->name)))
            goto nomem;
        if (p == me || !p->submitted || !me->submitted)
            continue;
        size_t k = cy_blind_intersect(me->set, me->n, p->set, p->n, tmp);
        json_t *hs = json_array();
        json_t *e = json_pack("{s:s, s:I, s:o}", "party", p->name, "count", (json_int_t)k,
                              "hashes", hs);
        if (!e || json_array_append_new(ov, e))
            goto nomem;
        for (size_t x = 0; x < k; x++) {
            char t[32];
            cy_b64_encode(t, sizeof t, tmp + x * CY_BLIND_HASH_LEN, CY_BLIND_HASH_LEN, CY_B64_STD);
            if (json_array_append_new(hs, json_string(t)))
                goto nomem;
        }
    }
    pthread_mutex_unlock(&b->mu);
    cy_free(tmp);
    {
        char *t = json_dumps(o, JSON_COMPACT);
        json_decref(o);
        *json = t ? cy_strdup(t) : NULL;
        free(t);
        return *json ? COMITY_OK : cy_fail(err, COMITY_ERR_NOMEM, "blind: out of memory");
    }
nomem:
    rc = cy_fail(err, COMITY_ERR_NOMEM, "blind: out of memory");
done:
    pthread_mutex_unlock(&b->mu);
    cy_free(tmp);
    json_decref(o);
    return rc;
}
