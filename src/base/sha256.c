/*
 * sha256.c: incremental SHA-256 for large files (comity_sha256_*).
 *
 * Evidence files are named by the SHA-256 of their bytes (src/files/), and
 * both the client and the node hash every byte of an upload, so the hash
 * must not be slower than sealing.  libsodium's SHA-256 is portable C
 * (about 120 MB/s on the project's test machine, slower than its
 * ChaCha20-Poly1305); GnuTLS, already a dependency for TLS, uses the CPU's
 * SHA extensions where there are some (about 1 GB/s on the same machine;
 * docs/framework.md, "Evidence files").  Records and the log keep
 * libsodium's: their inputs are small.
 */
#include <gnutls/crypto.h>

#include "base/base.h"

struct comity_sha256 {
    gnutls_hash_hd_t h;
};

comity_err comity_sha256_new(comity_sha256 **out, comity_error *err)
{
    *out = NULL;
    comity_sha256 *s = cy_calloc(1, sizeof *s);
    if (!s)
        return cy_fail(err, COMITY_ERR_NOMEM, "out of memory");
    if (gnutls_hash_init(&s->h, GNUTLS_DIG_SHA256) < 0) {
        cy_free(s);
        return cy_fail(err, COMITY_ERR_NOMEM, "sha256: cannot start a hash");
    }
    *out = s;
    return COMITY_OK;
}

void comity_sha256_update(comity_sha256 *s, const void *data, size_t len)
{
    if (len)
        (void)gnutls_hash(s->h, data, len);
}

void comity_sha256_final(comity_sha256 *s, char hex[65])
{
    uint8_t md[32];
    gnutls_hash_deinit(s->h, md);
    cy_hex_encode(hex, md, sizeof md);
    cy_free(s);
}

void comity_sha256_free(comity_sha256 *s)
{
    if (!s)
        return;
    gnutls_hash_deinit(s->h, NULL);
    cy_free(s);
}
