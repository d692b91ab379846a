/*
 * dsse.c: DSSE envelopes signed with Ed25519 (secure-systems-lab/dsse).
 *
 * Signature = Ed25519(PAE(payloadType, payload)), PAE = "DSSEv1" SP
 * LEN(type) SP type SP LEN(body) SP body, lengths in ASCII decimal.  The
 * payload is signed as bytes: no JSON canonicalization anywhere.  The
 * envelope is JSON {"payload", "payloadType", "signatures": [{"keyid",
 * "sig"}]}; we write standard padded base64 and read standard or URL-safe,
 * padded or not (the DSSE spec allows either), but always canonical.
 * Unknown envelope fields are ignored, as DSSE says; duplicate keys are
 * refused, since two parsers could disagree on which one counts.
 */
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "crypto/dsse.h"
#include "crypto/note.h"

void cy_dsse_clear(cy_dsse *d)
{
    cy_free(d->payload_type);
    cy_free(d->payload);
    memset(d, 0, sizeof *d);
}

uint8_t *cy_dsse_pae(const char *type, const uint8_t *payload, size_t len,
                     size_t *out_len)
{
    cy_buf b;
    cy_buf_init(&b, SIZE_MAX / 2);
    if (cy_buf_printf(&b, "DSSEv1 %zu %s %zu ", strlen(type), type, len) ||
        cy_buf_append(&b, payload, len)) {
        cy_buf_free(&b);
        return NULL;
    }
    return cy_buf_detach(&b, out_len);
}

void cy_dsse_pae_hash(const char *type, const uint8_t *payload, size_t len,
                      uint8_t out[32])
{
    char head[64 + 256];
    int n = snprintf(head, sizeof head, "DSSEv1 %zu ", strlen(type));
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, (const uint8_t *)head, (size_t)n);
    crypto_hash_sha256_update(&st, (const uint8_t *)type, strlen(type));
    n = snprintf(head, sizeof head, " %zu ", len);
    crypto_hash_sha256_update(&st, (const uint8_t *)head, (size_t)n);
    crypto_hash_sha256_update(&st, payload, len);
    crypto_hash_sha256_final(&st, out);
}

comity_err comity_dsse_sign(const char *payload_type, const uint8_t *payload,
                            size_t len, const comity_nkey *const *keys,
                            size_t nkeys, char **envelope, size_t *envelope_len,
                            comity_error *err)
{
    *envelope = NULL;
    if (comity_init(err))
        return err ? err->code : COMITY_ERR_INTERNAL;
    if (nkeys == 0 || nkeys > COMITY_DSSE_MAX_SIGS)
        return cy_fail(err, COMITY_ERR_USAGE, "dsse: need 1 to %d signing keys",
                       COMITY_DSSE_MAX_SIGS);
    if (len > COMITY_DSSE_MAX / 4 * 3)
        return cy_fail(err, COMITY_ERR_TOOBIG, "dsse: payload of %zu bytes is over the cap", len);
    size_t pae_len;
    uint8_t *pae = cy_dsse_pae(payload_type, payload, len, &pae_len);
    char *p64 = cy_b64_encode_alloc(payload, len, CY_B64_STD);
    cy_buf b;
    cy_buf_init(&b, COMITY_DSSE_MAX);
    comity_err rc = COMITY_OK;
    if (!pae || !p64) {
        rc = cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
        goto done;
    }
    json_t *type_js = json_string(payload_type);
    char *type_str = type_js ? json_dumps(type_js, JSON_ENCODE_ANY) : NULL;
    json_decref(type_js);
    if (!type_str) {
        rc = cy_fail(err, COMITY_ERR_INVALID, "dsse: payload type is not valid UTF-8");
        goto done;
    }
    rc = cy_buf_printf(&b, "{\"payload\":\"%s\",\"payloadType\":%s,\"signatures\":[", p64, type_str);
    free(type_str);
    for (size_t i = 0; !rc && i < nkeys; i++) {
        uint8_t sig[crypto_sign_BYTES];
        char s64[crypto_sign_BYTES * 2];
        crypto_sign_detached(sig, NULL, pae, pae_len, keys[i]->sk);
        cy_b64_encode(s64, sizeof s64, sig, sizeof sig, CY_B64_STD);
        rc = cy_buf_printf(&b, "%s{\"keyid\":\"%08x\",\"sig\":\"%s\"}", i ? "," : "",
                           keys[i]->id, s64);
    }
    if (!rc)
        rc = cy_buf_puts(&b, "]}");
    if (rc) {
        rc = cy_fail(err, rc, "dsse: envelope over %u bytes", COMITY_DSSE_MAX);
        goto done;
    }
    *envelope = (char *)cy_buf_detach(&b, envelope_len);
done:
    cy_buf_free(&b);
    cy_free(pae);
    cy_free(p64);
    return rc;
}

comity_err cy_dsse_parse(const char *json, size_t len, cy_dsse *out, comity_error *err)
{
    memset(out, 0, sizeof *out);
    if (len > COMITY_DSSE_MAX)
        return cy_fail(err, COMITY_ERR_TOOBIG, "dsse: envelope is %zu bytes, over the cap of %u",
                       len, COMITY_DSSE_MAX);
    json_error_t je;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return cy_fail(err, COMITY_ERR_INVALID, "dsse: not JSON at byte %d: %s",
                       je.position, je.text);
    comity_err rc = COMITY_OK;
    if (!json_is_object(root)) {
        rc = cy_fail(err, COMITY_ERR_INVALID, "dsse: envelope is not a JSON object");
        goto done;
    }
    json_t *p = json_object_get(root, "payload");
    json_t *t = json_object_get(root, "payloadType");
    json_t *sigs = json_object_get(root, "signatures");
    if (!json_is_string(p)) {
        rc = cy_fail(err, COMITY_ERR_INVALID, "dsse: 'payload' missing or not a string");
        goto done;
    }
    if (!json_is_string(t)) {
        rc = cy_fail(err, COMITY_ERR_INVALID, "dsse: 'payloadType' missing or not a string");
        goto done;
    }
    if (!json_is_array(sigs) || json_array_size(sigs) == 0) {
        rc = cy_fail(err, COMITY_ERR_INVALID, "dsse: 'signatures' missing, empty or not an array");
        goto done;
    }
    if (json_array_size(sigs) > COMITY_DSSE_MAX_SIGS) {
        rc = cy_fail(err, COMITY_ERR_TOOBIG, "dsse: more than %d signatures", COMITY_DSSE_MAX_SIGS);
        goto done;
    }
    out->payload_type = cy_strndup(json_string_value(t), json_string_length(t));
    if (!out->payload_type) {
        rc = cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
        goto done;
    }
    rc = cy_b64_decode_any_alloc(&out->payload, &out->payload_len, json_string_value(p),
                                 json_string_length(p), COMITY_DSSE_MAX, err);
    if (rc) {
        cy_wrap(err, "dsse: payload");
        goto done;
    }
    size_t i;
    json_t *s;
    json_array_foreach(sigs, i, s) {
        json_t *kid = json_object_get(s, "keyid");
        json_t *sig = json_object_get(s, "sig");
        if (!json_is_object(s) || !json_is_string(sig)) {
            rc = cy_fail(err, COMITY_ERR_INVALID, "dsse: signatures[%zu]: 'sig' missing or not a string", i);
            goto done;
        }
        if (kid && !json_is_string(kid)) {
            rc = cy_fail(err, COMITY_ERR_INVALID, "dsse: signatures[%zu]: 'keyid' not a string", i);
            goto done;
        }
        cy_dsse_sig *d = &out->sigs[out->nsigs++];
        if (kid)
            snprintf(d->keyid, sizeof d->keyid, "%s", json_string_value(kid));
        uint8_t *raw;
        size_t rl;
        rc = cy_b64_decode_any_alloc(&raw, &rl, json_string_value(sig), json_string_length(sig),
                                     sizeof d->sig, err);
        if (rc) {
            cy_wrap(err, "dsse: signatures[%zu].sig", i);
            goto done;
        }
        memcpy(d->sig, raw, rl);
        d->sig_len = rl;
        cy_free(raw);
    }
done:
    json_decref(root);
    if (rc)
        cy_dsse_clear(out);
    return rc;
}

comity_err comity_dsse_verify(const char *envelope, size_t len, const char *payload_type,
                              const comity_vkey *const *keys, size_t nkeys,
                              uint8_t **payload, size_t *payload_len, comity_error *err)
{
    *payload = NULL;
    if (comity_init(err))
        return err ? err->code : COMITY_ERR_INTERNAL;
    cy_dsse d;
    comity_err rc = cy_dsse_parse(envelope, len, &d, err);
    if (rc)
        return rc;
    if (strcmp(d.payload_type, payload_type) != 0) {
        rc = cy_fail(err, COMITY_ERR_INVALID, "dsse: payloadType is '%.64s', want '%s'",
                     d.payload_type, payload_type);
        goto done;
    }
    size_t pae_len;
    uint8_t *pae = cy_dsse_pae(d.payload_type, d.payload, d.payload_len, &pae_len);
    if (!pae) {
        rc = cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
        goto done;
    }
    bool ok = false;
    for (size_t i = 0; i < d.nsigs && !ok; i++) {
        if (d.sigs[i].sig_len != crypto_sign_BYTES)
            continue;
        for (size_t j = 0; j < nkeys && !ok; j++)
            if (keys[j]->type == COMITY_NOTE_ED25519 &&
                crypto_sign_verify_detached(d.sigs[i].sig, pae, pae_len, keys[j]->pk) == 0)
                ok = true;
    }
    cy_free(pae);
    if (!ok) {
        rc = cy_fail(err, COMITY_ERR_VERIFY,
                     "dsse: no signature verifies under the %zu key%s given", nkeys,
                     nkeys == 1 ? "" : "s");
        goto done;
    }
    *payload = d.payload;
    *payload_len = d.payload_len;
    d.payload = NULL;
done:
    cy_dsse_clear(&d);
    return rc;
}
