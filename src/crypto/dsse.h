/*
 * dsse.h: DSSE internals shared with record/ (private).
 *
 * The parsed form of an envelope and the pre-authentication encoding (PAE),
 * whose SHA-256 is a comity record's digest.
 */
#ifndef COMITY_CRYPTO_DSSE_H
#define COMITY_CRYPTO_DSSE_H

#include "base/base.h"

typedef struct cy_dsse_sig {
    char keyid[65];    /* hint only; empty when absent */
    uint8_t sig[64];
    size_t sig_len;
} cy_dsse_sig;

/*
 * A parsed envelope.  Everything lives in one buffer, `pae`, which it owns
 * (cy_dsse_clear): PAE(payloadType, payload) as signed, then a NUL, then the
 * payload type and a NUL.  So the signature is checked over pae[0..pae_len)
 * without building anything, payload points into it (NUL-terminated), and
 * payload_type too.
 */
typedef struct cy_dsse {
    char *payload_type;  /* inside pae, NUL-terminated */
    uint8_t *payload;    /* inside pae, NUL-terminated */
    size_t payload_len;
    uint8_t *pae;        /* owned */
    size_t pae_len;
    cy_dsse_sig sigs[COMITY_DSSE_MAX_SIGS]; /* only [0, nsigs) are set */
    size_t nsigs;
} cy_dsse;

/* Parses the JSON envelope without checking signatures.  Strict JSON
 * (src/base/json.h), duplicate keys refused, unknown fields ignored, base64
 * canonical.  OUT *out: release with cy_dsse_clear (also on failure it is
 * left cleared). */
comity_err cy_dsse_parse(const char *json, size_t len, cy_dsse *out,
                         comity_error *err) CY_MUST_CHECK;
void cy_dsse_clear(cy_dsse *d);

/* SHA-256 of PAE(type, payload), computed without building the PAE. */
void cy_dsse_pae_hash(const char *type, const uint8_t *payload, size_t len,
                      uint8_t out[32]);
/* PAE(type, payload) into a fresh buffer (caller frees with cy_free). */
uint8_t *cy_dsse_pae(const char *type, const uint8_t *payload, size_t len,
                     size_t *out_len);

#endif
