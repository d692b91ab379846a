/*
 * age_int.h: internals of the age module shared by age.c, bech32.c, their
 * unit tests and fuzz targets (private to crypto/).
 *
 * Bech32 (BIP 173, without its 90-character limit, as c2sp.org/age uses it)
 * and two entry points into the strict age parsers that the fuzz targets and
 * tests drive on their own: the header parser and the armor decoder.
 */
#ifndef COMITY_CRYPTO_AGE_INT_H
#define COMITY_CRYPTO_AGE_INT_H

#include <stdbool.h>

#include "base/base.h"

/*
 * Encodes `len` bytes as Bech32 with human-readable part `hrp` (lowercase
 * ASCII), all lowercase, or all uppercase when `upper`.  Writes a
 * NUL-terminated string into out[cap]; COMITY_ERR_TOOBIG when it does not fit.
 */
comity_err cy_bech32_encode(char *out, size_t cap, const char *hrp,
                            const uint8_t *data, size_t len, bool upper);

/*
 * Strict decode of s[0..slen): the string must be entirely `upper`case or
 * entirely lowercase as asked (mixed case is always refused), its
 * human-readable part must equal `hrp` (given lowercase), the checksum must
 * hold, and the 5-to-8-bit conversion must leave at most 4 zero padding bits.
 * Writes the bytes to out[cap] and their number to *out_len.
 */
comity_err cy_bech32_decode(const char *s, size_t slen, const char *hrp,
                            bool upper, uint8_t *out, size_t cap,
                            size_t *out_len, comity_error *err) CY_MUST_CHECK;

/*
 * Parses an age v1 header at the start of data[0..len) (binary form only),
 * with every check comity_open_* makes before it looks for a key: version
 * line, stanza syntax, canonical base64, 64-column wrapping, MAC line, caps.
 * *nstanzas and *header_len (bytes up to and including the MAC line's LF)
 * may be NULL.  Allocates nothing that outlives the call.
 */
comity_err cy_age_header_check(const uint8_t *data, size_t len,
                               size_t *nstanzas, size_t *header_len,
                               comity_error *err) CY_MUST_CHECK;

/*
 * Decodes an armored age file ("-----BEGIN AGE ENCRYPTED FILE-----") into
 * its binary bytes with the strict rules comity_open_* applies.  OUT *out:
 * caller frees with cy_free.
 */
comity_err cy_age_dearmor(const uint8_t *data, size_t len, uint8_t **out,
                          size_t *out_len, comity_error *err) CY_MUST_CHECK;

#endif
