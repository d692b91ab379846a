/*
 * bech32.c: Bech32 strings (BIP 173) for age recipients and identities.
 *
 * c2sp.org/age writes X25519 keys as Bech32 with no length limit on the data
 * part: recipients "age1..." in lowercase, identities "AGE-SECRET-KEY-1..."
 * in uppercase.  The checksum is always computed over the lowercase form.
 * Decoding is strict: one case throughout (the case the caller asks for),
 * the expected human-readable part, a valid checksum, and a 5-to-8-bit
 * conversion whose left-over padding is at most 4 bits, all zero.
 *
 * Identities are secret keys, so the checksum and the character look-ups
 * avoid branches on the data (masks instead of ifs, a full scan of the
 * 32-character alphabet); what remains is an index into a 32-byte table
 * when encoding, within one cache line.
 */
#include <string.h>

#include "crypto/age_int.h"

static const char charset[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

/* The BCH checksum over 5-bit values (BIP 173, "polymod"). */
static uint32_t polymod_step(uint32_t chk, uint8_t v)
{
    static const uint32_t gen[5] = {0x3b6a57b2u, 0x26508e6du, 0x1ea119fau,
                                    0x3d4233ddu, 0x2a1462b3u};
    uint32_t top = chk >> 25;
    chk = ((chk & 0x1ffffffu) << 5) ^ v;
    for (int i = 0; i < 5; i++)
        chk ^= gen[i] & (0u - ((top >> i) & 1u));
    return chk;
}

/* Feeds the expanded human-readable part: high bits, a zero, low bits. */
static uint32_t polymod_hrp(const char *hrp, size_t n)
{
    uint32_t chk = 1;
    for (size_t i = 0; i < n; i++)
        chk = polymod_step(chk, (uint8_t)((unsigned char)hrp[i] >> 5));
    chk = polymod_step(chk, 0);
    for (size_t i = 0; i < n; i++)
        chk = polymod_step(chk, (uint8_t)((unsigned char)hrp[i] & 31u));
    return chk;
}

/* The 5-bit value of c, or -1: every entry is compared, no early exit. */
static int charset_value(char c)
{
    uint32_t v = 0, found = 0;
    for (uint32_t i = 0; i < 32; i++) {
        uint32_t d = (uint32_t)(unsigned char)charset[i] ^ (uint32_t)(unsigned char)c;
        uint32_t eq = ((d - 1) >> 8) & 1u; /* 1 when d == 0 (d < 256) */
        v |= i & (0u - eq);
        found |= eq;
    }
    return found ? (int)v : -1;
}

static char to_upper(char c) { return (c >= 'a' && c <= 'z') ? (char)(c - 32) : c; }
static char to_lower(char c) { return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c; }

comity_err cy_bech32_encode(char *out, size_t cap, const char *hrp,
                            const uint8_t *data, size_t len, bool upper)
{
    size_t hn = strlen(hrp);
    size_t dn = (len * 8 + 4) / 5; /* 5-bit groups, last one zero-padded */
    if (cap < hn + 1 + dn + 6 + 1)
        return COMITY_ERR_TOOBIG;
    size_t o = 0;
    for (size_t i = 0; i < hn; i++)
        out[o++] = upper ? to_upper(hrp[i]) : hrp[i];
    out[o++] = '1';
    uint32_t chk = polymod_hrp(hrp, hn);
    uint32_t acc = 0;
    unsigned bits = 0;
    for (size_t i = 0; i < len; i++) {
        acc = (acc << 8) | data[i];
        bits += 8;
        while (bits >= 5) {
            bits -= 5;
            uint8_t v = (uint8_t)((acc >> bits) & 31u);
            chk = polymod_step(chk, v);
            out[o++] = charset[v];
        }
    }
    if (bits) {
        uint8_t v = (uint8_t)((acc << (5 - bits)) & 31u);
        chk = polymod_step(chk, v);
        out[o++] = charset[v];
    }
    for (int i = 0; i < 6; i++)
        chk = polymod_step(chk, 0);
    chk ^= 1;
    for (int i = 0; i < 6; i++)
        out[o++] = charset[(chk >> (5 * (5 - i))) & 31u];
    out[o] = 0;
    if (upper)
        for (size_t i = hn + 1; i < o; i++)
            out[i] = to_upper(out[i]);
    return COMITY_OK;
}

comity_err cy_bech32_decode(const char *s, size_t slen, const char *hrp,
                            bool upper, uint8_t *out, size_t cap,
                            size_t *out_len, comity_error *err)
{
    const char *want_case = upper ? "uppercase" : "lowercase";
    bool has_lower = false, has_upper = false;
    size_t sep = slen;
    for (size_t i = 0; i < slen; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 33 || c > 126)
            return cy_fail(err, COMITY_ERR_INVALID,
                           "bech32: character 0x%02x not allowed at byte %zu", c, i);
        if (c >= 'a' && c <= 'z')
            has_lower = true;
        if (c >= 'A' && c <= 'Z')
            has_upper = true;
        if (c == '1')
            sep = i;
    }
    if (has_lower && has_upper)
        return cy_fail(err, COMITY_ERR_INVALID, "bech32: mixed case");
    if ((upper && has_lower) || (!upper && has_upper))
        return cy_fail(err, COMITY_ERR_INVALID, "bech32: must be %s", want_case);
    size_t hn = strlen(hrp);
    if (sep == slen)
        return cy_fail(err, COMITY_ERR_INVALID, "bech32: no '1' separator");
    if (sep != hn)
        return cy_fail(err, COMITY_ERR_INVALID,
                       "bech32: human-readable part is not '%s'", hrp);
    for (size_t i = 0; i < hn; i++)
        if (to_lower(s[i]) != hrp[i])
            return cy_fail(err, COMITY_ERR_INVALID,
                           "bech32: human-readable part is not '%s'", hrp);
    size_t dn = slen - sep - 1;
    if (dn < 6)
        return cy_fail(err, COMITY_ERR_INVALID, "bech32: data part shorter than its checksum");
    uint32_t chk = polymod_hrp(hrp, hn);
    uint32_t acc = 0;
    unsigned bits = 0;
    size_t o = 0;
    for (size_t i = sep + 1; i < slen; i++) {
        int v = charset_value(to_lower(s[i]));
        if (v < 0)
            return cy_fail(err, COMITY_ERR_INVALID,
                           "bech32: character '%c' not in the alphabet at byte %zu", s[i], i);
        chk = polymod_step(chk, (uint8_t)v);
        if (i >= slen - 6)
            continue; /* checksum characters carry no data */
        acc = ((acc << 5) | (uint32_t)v) & 0xfffu;
        bits += 5;
        if (bits >= 8) {
            bits -= 8;
            if (o >= cap)
                return cy_fail(err, COMITY_ERR_INVALID,
                               "bech32: more than the %zu bytes expected", cap);
            out[o++] = (uint8_t)(acc >> bits);
        }
    }
    if (chk != 1)
        return cy_fail(err, COMITY_ERR_INVALID, "bech32: checksum does not match");
    if (bits > 4 || (acc & ((1u << bits) - 1)) != 0)
        return cy_fail(err, COMITY_ERR_INVALID, "bech32: non-zero or excess padding bits");
    *out_len = o;
    return COMITY_OK;
}
