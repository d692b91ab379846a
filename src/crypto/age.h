/*
 * age.h: age encoding helpers shared inside crypto/ (private).
 *
 * Bech32 forms of X25519 keys: recipients "age1..." (lowercase) and
 * identities "AGE-SECRET-KEY-1..." (uppercase), per c2sp.org/age.  key.c
 * uses these to write a party key file that `age -i` accepts.
 */
#ifndef COMITY_CRYPTO_AGE_H
#define COMITY_CRYPTO_AGE_H

#include "base/base.h"

#define CY_AGE_RECIPIENT_MAX 128
#define CY_AGE_IDENTITY_MAX 128

/* "age1..." for a 32-byte X25519 public key. */
comity_err cy_age_recipient_encode(const uint8_t pk[32], char *out, size_t cap);
/* Decodes and checks an age1 recipient (checksum, length, lowercase). */
comity_err cy_age_recipient_decode(const char *s, size_t len, uint8_t pk[32],
                                   comity_error *err) CY_MUST_CHECK;
/* "AGE-SECRET-KEY-1..." for a 32-byte X25519 secret key. */
comity_err cy_age_identity_encode(const uint8_t sk[32], char *out, size_t cap);
comity_err cy_age_identity_decode(const char *s, size_t len, uint8_t sk[32],
                                  comity_error *err) CY_MUST_CHECK;

#endif
