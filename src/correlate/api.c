/*
 * api.c: the public face of the correlation module (include/comity.h,
 * "Correlation"): comity_corr wraps one cy_corr, prepared before each
 * answer; record fields come from the record parser.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "correlate/correlate.h"

struct comity_corr {
    cy_corr *c;
};

comity_err comity_corr_new(size_t common, comity_corr **out, comity_error *err)
{
    *out = cy_calloc(1, sizeof **out);
    if (!*out)
        return cy_fail(err, COMITY_ERR_NOMEM, "correlate: out of memory");
    comity_err rc = cy_corr_new(common, &(*out)->c, err);
    if (rc) {
        cy_free(*out);
        *out = NULL;
    }
    return rc;
}

void comity_corr_free(comity_corr *c)
{
    if (!c)
        return;
    cy_corr_free(c->c);
    cy_free(c);
}

static int kind_of(const char *kind, comity_error *err)
{
    int k = cy_corr_kind_parse(kind);
    if (k == CY_CK_NONE)
        cy_fail(err, COMITY_ERR_INVALID,
                "correlate: kind '%.64s' is none of domain, ip, ipv4, ipv6, url, email, md5, "
                "sha1, sha256, x509-sha1, x509-sha256",
                kind ? kind : "");
    return k;
}

comity_err comity_corr_exclude(comity_corr *c, const char *kind, const char *value,
                               comity_error *err)
{
    int k = kind_of(kind, err);
    if (k == CY_CK_NONE)
        return COMITY_ERR_INVALID;
    return cy_corr_exclude(c->c, k, value, strlen(value), err);
}

comity_err comity_corr_add_record(comity_corr *c, const comity_record *rec, const char *body,
                                  size_t *skipped, comity_error *err)
{
    if (skipped)
        *skipped = 0;
    if (!body)
        body = comity_record_body(rec);
    if (!body)
        return cy_fail(err, COMITY_ERR_NOKEY, "correlate: %s is sealed: open it first",
                       comity_record_id(rec));
    json_error_t je;
    json_t *j = json_loads(body, 0, &je);
    if (!j)
        return cy_fail(err, COMITY_ERR_INVALID, "correlate: body of %s is not JSON (%s)",
                       comity_record_id(rec), je.text);
    size_t nto = comity_record_to_count(rec);
    const char *to[COMITY_RECORD_MAX_TO];
    for (size_t i = 0; i < nto && i < COMITY_RECORD_MAX_TO; i++)
        to[i] = comity_record_to(rec, i);
    uint32_t h;
    comity_err rc = cy_corr_holder(c->c, comity_record_id(rec), comity_record_type(rec),
                                   comity_record_author(rec), comity_record_tlp(rec), to, nto,
                                   &h, err);
    if (!rc)
        rc = cy_corr_add_json(c->c, h, j, skipped, err);
    json_decref(j);
    return rc;
}

comity_err comity_corr_shared(comity_corr *c, const char *id, const char *viewer, char **json,
                              comity_error *err)
{
    *json = NULL;
    comity_err rc = cy_corr_prepare(c->c, err);
    return rc ? rc : cy_corr_shared(c->c, id, viewer, json, err);
}

comity_err comity_corr_values(comity_corr *c, const char *id, const char *viewer, char **json,
                              comity_error *err)
{
    *json = NULL;
    return cy_corr_values(c->c, id, viewer, json, err);
}

comity_err comity_blind_hash(const uint8_t key[COMITY_BLIND_KEY_LEN], const char *kind,
                             const char *value, size_t len, uint8_t out[COMITY_BLIND_HASH_LEN],
                             comity_error *err)
{
    int k = kind_of(kind, err);
    if (k == CY_CK_NONE)
        return COMITY_ERR_INVALID;
    return cy_blind_hash(key, k, value, len, out, err);
}

void comity_blind_key_new(uint8_t key[COMITY_BLIND_KEY_LEN])
{
    if (sodium_init() < 0)
        abort(); /* libsodium cannot start: nothing random can be drawn */
    randombytes_buf(key, COMITY_BLIND_KEY_LEN);
}

comity_err comity_blind_body(const uint8_t *hashes, size_t n, const char *const *participants,
                             size_t np, char **json, comity_error *err)
{
    *json = NULL;
    if (n > CY_BLIND_SET_MAX || np > CY_BLIND_PARTIES_MAX)
        return cy_fail(err, COMITY_ERR_TOOBIG,
                       "blind: more than %d hashes or %d participants", CY_BLIND_SET_MAX,
                       CY_BLIND_PARTIES_MAX);
    char *b64 = cy_b64_encode_alloc(hashes, n * CY_BLIND_HASH_LEN, CY_B64_STD);
    json_t *o = b64 ? json_pack("{s:s}", "hashes", b64) : NULL;
    cy_free(b64);
    json_t *ps = np ? json_array() : NULL;
    for (size_t i = 0; ps && i < np; i++)
        if (json_array_append_new(ps, json_string(participants[i])))
            break;
    if (ps && o)
        json_object_set(o, "participants", ps);
    json_decref(ps);
    char *t = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    *json = t ? cy_strdup(t) : NULL;
    free(t);
    return *json ? COMITY_OK : cy_fail(err, COMITY_ERR_NOMEM, "blind: out of memory");
}

void comity_blind_hash_text(const uint8_t h[COMITY_BLIND_HASH_LEN],
                            char out[COMITY_BLIND_HASH_B64])
{
    cy_b64_encode(out, COMITY_BLIND_HASH_B64, h, COMITY_BLIND_HASH_LEN, CY_B64_STD);
}
