/*
 * id.c: record ids bound to their author (id.h says why).
 *
 * The UUID's sixteen bytes u[0..16):
 *
 *   u[0..8)   random (libsodium's CSPRNG), with the version nibble of u[6]
 *             set to 4;
 *   u[8..16)  the first eight bytes of SHA-256("comity-record-id-v1" 0x00
 *             author 0x00 u[0..8)), with the variant bits of u[8] set to
 *             10.
 *
 * So 62 bits of the id depend on the author.  Posting under another
 * author's id means finding, for that id's fixed first half, a registered
 * party name whose hash matches those 62 bits: a preimage search nobody
 * can run.  Checking costs one SHA-256 of a short input.  The derivation is
 * written once more in the web UI (web/src/crypto.js, newId), which the
 * node checks like any other client's.
 */
#include <string.h>

#include <sodium.h>

#include "record/id.h"

static const char ID_DOMAIN[] = "comity-record-id-v1";

/* u[8..16) from the author and u[0..8). */
static void bind_half(const char *author, const uint8_t first[8], uint8_t out[8])
{
    crypto_hash_sha256_state st;
    uint8_t h[crypto_hash_sha256_BYTES];
    static const uint8_t zero = 0;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, (const uint8_t *)ID_DOMAIN, sizeof ID_DOMAIN);
    crypto_hash_sha256_update(&st, (const uint8_t *)author, strlen(author));
    crypto_hash_sha256_update(&st, &zero, 1);
    crypto_hash_sha256_update(&st, first, 8);
    crypto_hash_sha256_final(&st, h);
    memcpy(out, h, 8);
    out[0] = (uint8_t)((out[0] & 0x3f) | 0x80);
}

static void format_uuid(const uint8_t u[16], char out[CY_UUID_BUF])
{
    char hex[33];
    cy_hex_encode(hex, u, 16);
    size_t o = 0;
    for (size_t i = 0; i < 32; i++) {
        if (i == 8 || i == 12 || i == 16 || i == 20)
            out[o++] = '-';
        out[o++] = hex[i];
    }
    out[o] = 0;
}

void cy_record_uuid_from(const char *author, const uint8_t r[8], char out[CY_UUID_BUF])
{
    uint8_t u[16];
    memcpy(u, r, 8);
    u[6] = (uint8_t)((u[6] & 0x0f) | 0x40);
    bind_half(author, u, u + 8);
    format_uuid(u, out);
}

void cy_record_uuid_new(const char *author, char out[CY_UUID_BUF])
{
    uint8_t r[8];
    randombytes_buf(r, sizeof r);
    cy_record_uuid_from(author, r, out);
}

bool cy_record_id_bound(const char *id, const char *author)
{
    const char *sep = id && author ? strstr(id, "--") : NULL;
    if (!sep || !cy_uuid4_valid(sep + 2, strlen(sep + 2)))
        return false;
    const char *s = sep + 2;
    char hex[33];
    size_t o = 0;
    for (size_t i = 0; i < 36; i++)
        if (s[i] != '-')
            hex[o++] = s[i];
    hex[o] = 0;
    uint8_t u[16], want[8];
    comity_error e;
    if (cy_hex_decode(u, sizeof u, hex, 32, &e) != COMITY_OK)
        return false;
    bind_half(author, u, want);
    return memcmp(u + 8, want, 8) == 0; /* ids are public: no need for constant time */
}
