/*
 * b64.c: strict base64 and hex.
 *
 * Thin layers over libsodium's constant-time codecs.  Decoding is strict:
 * the whole input must be consumed, no whitespace, canonical trailing bits,
 * and padding exactly as the variant requires.  age and signed notes depend
 * on this strictness; DSSE asks us to read either alphabet, which
 * cy_b64_decode_any_alloc does by picking the variant from the characters.
 *
 * Public data (DSSE payloads and signatures, sealed ciphertexts) has no need
 * of constant time and is on the hot path of record verification, so it
 * also has a table-driven decoder (cy_b64_decode_public*), equally strict;
 * tests/test_b64.c compares it with libsodium's on random inputs.  Likewise
 * a table-driven encoder (cy_b64_encode_public) for public data written on
 * a hot path (a log's hashes in receipts), compared with libsodium's.
 */
#include <stdlib.h>
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
    /* libsodium 1.0.18 reads every byte >= 0x80 as the 64th digit ('/' or
     * '_'), so non-ASCII text would decode; refuse it first.  The test
     * ORs all bytes without branching on them, keeping constant time. */
    unsigned high = 0;
    for (size_t i = 0; i < len; i++)
        high |= (unsigned char)in[i];
    if (high & 0x80) {
        size_t at = 0;
        while (!((unsigned char)in[at] & 0x80))
            at++;
        return cy_fail(err, COMITY_ERR_INVALID,
                       "base64: not canonical %s base64 at byte %zu (not ASCII)",
                       (v == CY_B64_URL || v == CY_B64_URL_NOPAD) ? "url-safe" : "standard",
                       at);
    }
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

/* ---- fast decoding of public data ---------------------------------------- */

/*
 * One table for both alphabets: the 6-bit value, plus B64_STD for '+' and
 * '/', B64_URL for '-' and '_'; any other byte is 0xff, which carries both
 * flags.  The main loop ORs the entries of every character into `seen`, so
 * one test after the loop catches an invalid byte or mixed alphabets
 * without a branch per character.  For whole quads the entries come
 * pre-shifted (b64_quad[k]: the 6 bits already in place for position k,
 * the flags in the top byte), so a quad is four lookups ORed together.
 * Both tables are computed by the compiler from B64_VAL.
 */
#define B64_STD 0x40
#define B64_URL 0x80
#define B64_VAL(c)                                                                         \
    ((c) >= 'A' && (c) <= 'Z'   ? (c) - 'A'                                                \
     : (c) >= 'a' && (c) <= 'z' ? (c) - 'a' + 26                                           \
     : (c) >= '0' && (c) <= '9' ? (c) - '0' + 52                                           \
     : (c) == '+'               ? 62 | B64_STD                                             \
     : (c) == '/'               ? 63 | B64_STD                                             \
     : (c) == '-'               ? 62 | B64_URL                                             \
     : (c) == '_'               ? 63 | B64_URL                                             \
                                : 0xff)
#define B64_BYTE(c, k) ((uint8_t)B64_VAL(c)) /* the cast: clang checks every arm */
#define B64_QUAD(c, k) ((uint32_t)(B64_VAL(c) & 0xc0) << 24 | (uint32_t)(B64_VAL(c) & 63) << (18 - 6 * (k)))
#define B64_R4(F, k, i) F(i, k), F(i + 1, k), F(i + 2, k), F(i + 3, k)
#define B64_R16(F, k, i) B64_R4(F, k, i), B64_R4(F, k, i + 4), B64_R4(F, k, i + 8), B64_R4(F, k, i + 12)
#define B64_R64(F, k, i) B64_R16(F, k, i), B64_R16(F, k, i + 16), B64_R16(F, k, i + 32), B64_R16(F, k, i + 48)
#define B64_R256(F, k) B64_R64(F, k, 0), B64_R64(F, k, 64), B64_R64(F, k, 128), B64_R64(F, k, 192)

static const uint8_t b64_dec[256] = {B64_R256(B64_BYTE, 0)};
static const uint32_t b64_quad[4][256] = {
    {B64_R256(B64_QUAD, 0)}, {B64_R256(B64_QUAD, 1)}, {B64_R256(B64_QUAD, 2)}, {B64_R256(B64_QUAD, 3)},
};

size_t cy_b64_decoded_len(const char *in, size_t len)
{
    size_t p = 0;
    while (p < 2 && p < len && in[len - 1 - p] == '=')
        p++;
    size_t d = len - p;
    return d / 4 * 3 + (d % 4 == 3 ? 2 : d % 4 == 2 ? 1 : 0);
}

/* The offset of the first character that is not in the allowed alphabet
 * (flags B64_STD/B64_URL allowed, at most one of them once seen), or len. */
static size_t first_bad(const char *in, size_t len, unsigned allow)
{
    for (size_t i = 0; i < len; i++) {
        unsigned x = b64_dec[(uint8_t)in[i]];
        if (x == 0xff || (x & ~allow & (B64_STD | B64_URL)))
            return i;
        if (x & (B64_STD | B64_URL))
            allow = x & (B64_STD | B64_URL); /* first special fixes the alphabet */
    }
    return len;
}

/*
 * The shared core.  allow: the alphabet flags allowed; pad: 0 = no '='
 * allowed, 1 = padding required (length a multiple of 4), 2 = either.
 */
static comity_err fast_decode(uint8_t *out, size_t out_cap, size_t *out_len, const char *in,
                              size_t len, unsigned allow, int pad, const char *what,
                              comity_error *err)
{
    size_t p = 0;
    if (pad) {
        while (p < 2 && p < len && in[len - 1 - p] == '=')
            p++;
    }
    size_t d = len - p, r = d % 4;
    if (pad == 1 && len % 4 != 0)
        return cy_fail(err, COMITY_ERR_INVALID, "base64: not canonical %s base64 at byte %zu",
                       what, len);
    if (r == 1 || (p && p != 4 - r)) /* 1 char = 6 bits; '=' only to fill a quad */
        return cy_fail(err, COMITY_ERR_INVALID, "base64: not canonical %s base64 at byte %zu",
                       what, r == 1 ? d - 1 : d);
    size_t n = d / 4 * 3 + (r == 3 ? 2 : r == 2 ? 1 : 0);
    if (n > out_cap)
        return cy_fail(err, COMITY_ERR_TOOBIG, "base64: longer than the %zu bytes expected",
                       out_cap);
    const uint8_t *s = (const uint8_t *)in;
    uint32_t seen = 0;
    size_t q = d / 4;
    uint8_t *o = out;
    for (size_t k = 0; k < q; k++, s += 4, o += 3) {
        uint32_t v = b64_quad[0][s[0]] | b64_quad[1][s[1]] | b64_quad[2][s[2]] | b64_quad[3][s[3]];
        seen |= v;
        o[0] = (uint8_t)(v >> 16);
        o[1] = (uint8_t)(v >> 8);
        o[2] = (uint8_t)v;
    }
    unsigned last = 0;
    if (r) {
        unsigned a = b64_dec[s[0]], b = b64_dec[s[1]], c = r == 3 ? b64_dec[s[2]] : 0;
        seen |= (uint32_t)(a | b | c) << 24;
        uint32_t v = (uint32_t)(a & 63) << 18 | (uint32_t)(b & 63) << 12 | (uint32_t)(c & 63) << 6;
        o[0] = (uint8_t)(v >> 16);
        if (r == 3)
            o[1] = (uint8_t)(v >> 8);
        last = r == 3 ? (c & 3) : (b & 15); /* bits past the last byte: must be 0 */
    }
    unsigned sp = (seen >> 24) & (B64_STD | B64_URL);
    if (sp == (B64_STD | B64_URL) || (sp & ~allow)) {
        size_t at = first_bad(in, d, allow);
        return cy_fail(err, COMITY_ERR_INVALID, "base64: not canonical %s base64 at byte %zu",
                       what, at);
    }
    if (last)
        return cy_fail(err, COMITY_ERR_INVALID,
                       "base64: not canonical %s base64 at byte %zu (trailing bits)", what,
                       d - 1);
    *out_len = n;
    return COMITY_OK;
}

comity_err cy_b64_decode_public(uint8_t *out, size_t out_cap, size_t *out_len, const char *in,
                                size_t len, enum cy_b64_variant v, comity_error *err)
{
    bool url = v == CY_B64_URL || v == CY_B64_URL_NOPAD;
    int pad = v == CY_B64_STD || v == CY_B64_URL ? 1 : 0;
    return fast_decode(out, out_cap, out_len, in, len, url ? B64_URL : B64_STD, pad,
                       url ? "url-safe" : "standard", err);
}

comity_err cy_b64_decode_public_any(uint8_t *out, size_t out_cap, size_t *out_len,
                                    const char *in, size_t len, comity_error *err)
{
    return fast_decode(out, out_cap, out_len, in, len, B64_STD | B64_URL, 2,
                       "standard or url-safe", err);
}

/* ---- fast encoding of public data ---------------------------------------- */

/*
 * Three bytes to four characters by a 64-entry alphabet, the tail padded
 * as the variant says: the same output as sodium_bin2base64, whose
 * constant-time digit selection costs about 20 instructions a character
 * (a receipt's dozen hashes were 30,000 instructions a record on a
 * serving node).  The same contract: out_cap must hold
 * cy_b64_encoded_len bytes (libsodium aborts otherwise, and so does this).
 */
char *cy_b64_encode_public(char *out, size_t out_cap, const uint8_t *bin, size_t bin_len,
                           enum cy_b64_variant v)
{
    static const char std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    static const char url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    bool is_url = v == CY_B64_URL || v == CY_B64_URL_NOPAD;
    bool pad = v == CY_B64_STD || v == CY_B64_URL;
    const char *a = is_url ? url : std;
    if (out_cap < cy_b64_encoded_len(bin_len, v))
        abort();
    char *o = out;
    size_t i = 0;
    for (; i + 3 <= bin_len; i += 3, o += 4) {
        uint32_t x = (uint32_t)bin[i] << 16 | (uint32_t)bin[i + 1] << 8 | bin[i + 2];
        o[0] = a[x >> 18];
        o[1] = a[(x >> 12) & 63];
        o[2] = a[(x >> 6) & 63];
        o[3] = a[x & 63];
    }
    size_t r = bin_len - i;
    if (r) {
        uint32_t x = (uint32_t)bin[i] << 16 | (r == 2 ? (uint32_t)bin[i + 1] << 8 : 0);
        *o++ = a[x >> 18];
        *o++ = a[(x >> 12) & 63];
        if (r == 2)
            *o++ = a[(x >> 6) & 63];
        if (pad) {
            if (r == 1)
                *o++ = '=';
            *o++ = '=';
        }
    }
    *o = 0;
    return out;
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
