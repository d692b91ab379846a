/*
 * b64.c: strict base64 and hex.
 *
 * Thin layers over libsodium's constant-time codecs.  Decoding is strict:
 * the whole input must be consumed, no whitespace, canonical trailing bits,
 * and padding exactly as the variant requires.  age and signed notes depend
 * on this strictness; DSSE asks us to read either alphabet, which
 * cy_b64_decode_any_alloc does by picking the variant from the characters.
 */
#include <string.h>

#include <sodium.h>

#include "base/base.h"

static int sodium_variant(enum cy_b64_variant v)
{
    switch (v) {
    case CY_B64_STD: return sodium_base64_VARIANT_ORIGINAL;
    case CY_B64_STD_NOPAD: return sodium_base64_VARIANT_ORIGINAL_NO_PADDING;
    case CY_B64_URL: return sodium_base64_VARIANT_URLSAFE;
    case CY_B64_URL_NOPAD: return sodium_base64_VARIANT_URLSAFE_NO_PADDING;
    }
    return sodium_base64_VARIANT_ORIGINAL;
}

size_t cy_b64_encoded_len(size_t bin_len, enum cy_b64_variant v)
{
    return sodium_base64_encoded_len(bin_len, sodium_variant(v));
}

char *cy_b64_encode(char *out, size_t out_cap, const uint8_t *bin,
                    size_t bin_len, enum cy_b64_variant v)
{
    return sodium_bin2base64(out, out_cap, bin, bin_len, sodium_variant(v));
}

char *cy_b64_encode_alloc(const uint8_t *bin, size_t bin_len,
                          enum cy_b64_variant v)
{
    size_t n = cy_b64_encoded_len(bin_len, v);
    char *out = cy_malloc(n);
    if (out)
        cy_b64_encode(out, n, bin, bin_len, v);
    return out;
}

comity_err cy_b64_decode(uint8_t *out, size_t out_cap, size_t *out_len,
                         const char *in, size_t len, enum cy_b64_variant v,
                         comity_error *err)
{
    const char *end = NULL;
    size_t n = 0;
    if (sodium_base642bin(out, out_cap, in, len, NULL, &n, &end,
                          sodium_variant(v)) != 0 ||
        end != in + len) {
        size_t at = end ? (size_t)(end - in) : len;
        if (len / 4 * 3 > out_cap + 2)
            return cy_fail(err, COMITY_ERR_TOOBIG,
                           "base64: longer than the %zu bytes expected", out_cap);
        return cy_fail(err, COMITY_ERR_INVALID,
                       "base64: not canonical %s base64 at byte %zu",
                       (v == CY_B64_URL || v == CY_B64_URL_NOPAD) ? "url-safe"
                                                                  : "standard",
                       at);
    }
    *out_len = n;
    return COMITY_OK;
}

comity_err cy_b64_decode_any_alloc(uint8_t **out, size_t *out_len,
                                   const char *in, size_t len, size_t cap,
                                   comity_error *err)
{
    bool url = false, pad = false;
    for (size_t i = 0; i < len; i++) {
        if (in[i] == '-' || in[i] == '_')
            url = true;
        if (in[i] == '=')
            pad = true;
    }
    enum cy_b64_variant v = url ? (pad ? CY_B64_URL : CY_B64_URL_NOPAD)
                                : (pad ? CY_B64_STD : CY_B64_STD_NOPAD);
    size_t data_len = len;
    while (data_len > 0 && in[data_len - 1] == '=')
        data_len--;
    if (data_len / 4 * 3 + (data_len % 4 * 3) / 4 > cap)
        return cy_fail(err, COMITY_ERR_TOOBIG,
                       "base64: decodes to more than %zu bytes", cap);
    size_t max = data_len / 4 * 3 + 3;
    uint8_t *buf = cy_malloc(max + 1);
    if (!buf)
        return cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    size_t n = 0;
    comity_err rc = cy_b64_decode(buf, max, &n, in, len, v, err);
    if (rc) {
        cy_free(buf);
        return rc;
    }
    if (n > cap) {
        cy_free(buf);
        return cy_fail(err, COMITY_ERR_TOOBIG,
                       "base64: decodes to more than %zu bytes", cap);
    }
    buf[n] = 0; /* NUL-terminated for callers that treat it as text */
    *out = buf;
    *out_len = n;
    return COMITY_OK;
}

void cy_hex_encode(char *out, const uint8_t *bin, size_t len)
{
    sodium_bin2hex(out, 2 * len + 1, bin, len);
}

comity_err cy_hex_decode(uint8_t *out, size_t out_len, const char *in,
                         size_t in_len, comity_error *err)
{
    size_t n = 0;
    const char *end = NULL;
    if (in_len != 2 * out_len)
        return cy_fail(err, COMITY_ERR_INVALID,
                       "hex: expected %zu digits, got %zu", 2 * out_len, in_len);
    if (sodium_hex2bin(out, out_len, in, in_len, NULL, &n, &end) != 0 ||
        n != out_len || end != in + in_len)
        return cy_fail(err, COMITY_ERR_INVALID, "hex: bad digit at byte %zu",
                       end ? (size_t)(end - in) : 0);
    return COMITY_OK;
}
