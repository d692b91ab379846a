/*
 * uuid.c: random UUID v4 (RFC 9562) from libsodium's CSPRNG, and checks of
 * the lowercase textual form used in record and STIX identifiers.
 */
#include <sodium.h>

#include "base/base.h"

void cy_uuid4(char out[CY_UUID_BUF])
{
    uint8_t b[16];
    char hex[33];
    randombytes_buf(b, sizeof b);
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
    cy_hex_encode(hex, b, sizeof b);
    size_t o = 0;
    for (size_t i = 0; i < 32; i++) {
        if (i == 8 || i == 12 || i == 16 || i == 20)
            out[o++] = '-';
        out[o++] = hex[i];
    }
    out[o] = 0;
}

bool cy_uuid_valid(const char *s, size_t len)
{
    if (len != 36)
        return false;
    for (size_t i = 0; i < 36; i++) {
        char c = s[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-')
                return false;
        } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return false;
        }
    }
    return true;
}

bool cy_uuid4_valid(const char *s, size_t len)
{
    return cy_uuid_valid(s, len) && s[14] == '4' &&
           (s[19] == '8' || s[19] == '9' || s[19] == 'a' || s[19] == 'b');
}
