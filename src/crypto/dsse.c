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
 *
 * Reading is on the hot path of every record check, so it uses the strict
 * zero-copy reader of base/json.h and the table-driven base64 decoder for
 * public data, and decodes the payload straight into the buffer that holds
 * PAE(type, payload): the signature is checked without another copy.
 */
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "base/json.h"
#include "crypto/dsse.h"
#include "crypto/note.h"

/* Clears what the struct says (pointers, lengths, nsigs), not sigs[]: only
 * sigs[0..nsigs) are ever read, and zeroing the 16 inline signatures (2.3
 * KB) on every parse and free was measurable on a pull of many records. */
static void dsse_reset(cy_dsse *d)
{
    d->payload_type = NULL;
    d->payload = NULL;
    d->payload_len = 0;
    d->pae = NULL;
    d->pae_len = 0;
    d->nsigs = 0;
}

void cy_dsse_clear(cy_dsse *d)
{
    cy_free(d->pae);
    dsse_reset(d);
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
        return cy_err_code(err);
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

/* Decimal digits of v into out (no NUL); returns the count. */
static size_t put_dec(char *out, size_t v)
{
    char tmp[24];
    size_t n = 0;
    do
        tmp[n++] = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    for (size_t i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    return n;
}

/* The base64 text of string token t: the raw bytes when it has no escapes,
 * else unescaped into *tmp (caller frees). */
static comity_err b64_text(const cy_json *j, uint32_t t, const char **s, size_t *n, char **tmp,
                           comity_error *err)
{
    const cy_json_tok *k = &j->toks[t];
    *tmp = NULL;
    if (!(k->flags & CY_JSON_F_ESCAPED)) {
        *s = j->text + k->start;
        *n = k->end - k->start;
        return COMITY_OK;
    }
    size_t cap = k->end - k->start + 1;
    if (!(*tmp = cy_malloc(cap)))
        return cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    *n = cy_json_unescape(j, t, *tmp, cap);
    *s = *tmp;
    return COMITY_OK;
}

comity_err cy_dsse_parse(const char *json, size_t len, cy_dsse *out, comity_error *err)
{
    dsse_reset(out);
    if (len > COMITY_DSSE_MAX)
        return cy_fail(err, COMITY_ERR_TOOBIG, "dsse: envelope is %zu bytes, over the cap of %u",
                       len, COMITY_DSSE_MAX);
    cy_json_tok inl[32];
    cy_json j;
    cy_json_init(&j, inl, CY_ARRAY_LEN(inl), 0, CY_JSON_REJECT_NUL | CY_JSON_INT64);
    char *tmp = NULL;
    comity_err rc = cy_json_parse(&j, json, len, err);
    if (rc) {
        cy_wrap(err, "dsse: not JSON");
        goto done;
    }
    if (j.toks[0].type != CY_JSON_OBJECT) {
        rc = cy_fail(err, COMITY_ERR_INVALID, "dsse: envelope is not a JSON object");
        goto done;
    }
    uint32_t p = 0, t = 0, sigs = 0, k = 1;
    for (uint32_t m = 0; m < j.toks[0].size; m++, k = j.toks[k + 1].next) {
        if (cy_json_str_eq(&j, k, "payload", 7))
            p = k + 1;
        else if (cy_json_str_eq(&j, k, "payloadType", 11))
            t = k + 1;
        else if (cy_json_str_eq(&j, k, "signatures", 10))
            sigs = k + 1;
    }
    if (!p || j.toks[p].type != CY_JSON_STRING) {
        rc = cy_fail(err, COMITY_ERR_INVALID, "dsse: 'payload' missing or not a string");
        goto done;
    }
    if (!t || j.toks[t].type != CY_JSON_STRING) {
        rc = cy_fail(err, COMITY_ERR_INVALID, "dsse: 'payloadType' missing or not a string");
        goto done;
    }
    if (!sigs || j.toks[sigs].type != CY_JSON_ARRAY || j.toks[sigs].size == 0) {
        rc = cy_fail(err, COMITY_ERR_INVALID, "dsse: 'signatures' missing, empty or not an array");
        goto done;
    }
    if (j.toks[sigs].size > COMITY_DSSE_MAX_SIGS) {
        rc = cy_fail(err, COMITY_ERR_TOOBIG, "dsse: more than %d signatures", COMITY_DSSE_MAX_SIGS);
        goto done;
    }
    /* One buffer: "DSSEv1 <tl> <type> <pl> " payload NUL type NUL. */
    const char *b64 = NULL;
    size_t b64_len = 0;
    if ((rc = b64_text(&j, p, &b64, &b64_len, &tmp, err)))
        goto done;
    size_t tl = cy_json_str_len(&j, t), pl = cy_b64_decoded_len(b64, b64_len);
    size_t head_max = 7 + 20 + 1 + tl + 1 + 20 + 1;
    uint8_t *buf = cy_malloc(head_max + pl + 1 + tl + 1);
    if (!buf) {
        rc = cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
        goto done;
    }
    out->pae = buf;
    char *h = (char *)buf;
    memcpy(h, "DSSEv1 ", 7);
    size_t o = 7;
    o += put_dec(h + o, tl);
    h[o++] = ' ';
    cy_json_unescape(&j, t, h + o, tl + 1);
    o += tl;
    h[o++] = ' ';
    o += put_dec(h + o, pl);
    h[o++] = ' ';
    out->payload = buf + o;
    size_t n = 0;
    rc = cy_b64_decode_public_any(out->payload, pl, &n, b64, b64_len, err);
    if (rc) {
        cy_wrap(err, "dsse: payload");
        goto done;
    }
    out->payload_len = n;
    out->pae_len = o + n;
    out->payload[n] = 0;
    out->payload_type = (char *)out->payload + n + 1;
    cy_json_unescape(&j, t, out->payload_type, tl + 1);
    cy_free(tmp);
    tmp = NULL;
    uint32_t e = sigs + 1;
    for (size_t i = 0; i < j.toks[sigs].size; i++, e = j.toks[e].next) {
        uint32_t kid = j.toks[e].type == CY_JSON_OBJECT ? cy_json_get(&j, e, "keyid") : 0;
        uint32_t sig = j.toks[e].type == CY_JSON_OBJECT ? cy_json_get(&j, e, "sig") : 0;
        if (!sig || j.toks[sig].type != CY_JSON_STRING) {
            rc = cy_fail(err, COMITY_ERR_INVALID, "dsse: signatures[%zu]: 'sig' missing or not a string", i);
            goto done;
        }
        if (kid && j.toks[kid].type != CY_JSON_STRING) {
            rc = cy_fail(err, COMITY_ERR_INVALID, "dsse: signatures[%zu]: 'keyid' not a string", i);
            goto done;
        }
        cy_dsse_sig *d = &out->sigs[out->nsigs++];
        d->keyid[0] = 0;
        d->sig_len = 0;
        if (kid)
            cy_json_unescape(&j, kid, d->keyid, sizeof d->keyid); /* a hint: cut if long */
        if ((rc = b64_text(&j, sig, &b64, &b64_len, &tmp, err)))
            goto done;
        rc = cy_b64_decode_public_any(d->sig, sizeof d->sig, &d->sig_len, b64, b64_len, err);
        cy_free(tmp);
        tmp = NULL;
        if (rc) {
            cy_wrap(err, "dsse: signatures[%zu].sig", i);
            goto done;
        }
    }
done:
    cy_free(tmp);
    cy_json_free(&j);
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
        return cy_err_code(err);
    cy_dsse d;
    comity_err rc = cy_dsse_parse(envelope, len, &d, err);
    if (rc)
        return rc;
    if (strcmp(d.payload_type, payload_type) != 0) {
        rc = cy_fail(err, COMITY_ERR_INVALID, "dsse: payloadType is '%.64s', want '%s'",
                     d.payload_type, payload_type);
        goto done;
    }
    bool ok = false;
    for (size_t i = 0; i < d.nsigs && !ok; i++) {
        if (d.sigs[i].sig_len != crypto_sign_BYTES)
            continue;
        for (size_t j = 0; j < nkeys && !ok; j++)
            if (keys[j]->type == COMITY_NOTE_ED25519 &&
                crypto_sign_verify_detached(d.sigs[i].sig, d.pae, d.pae_len, keys[j]->pk) == 0)
                ok = true;
    }
    if (!ok) {
        rc = cy_fail(err, COMITY_ERR_VERIFY,
                     "dsse: no signature verifies under the %zu key%s given", nkeys,
                     nkeys == 1 ? "" : "s");
        goto done;
    }
    /* hand over the buffer, payload moved to its start (caller frees) */
    memmove(d.pae, d.payload, d.payload_len);
    d.pae[d.payload_len] = 0;
    *payload = d.pae;
    *payload_len = d.payload_len;
    d.pae = NULL;
done:
    cy_dsse_clear(&d);
    return rc;
}
