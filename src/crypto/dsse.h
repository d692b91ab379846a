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

/* A parsed envelope.  Owns payload and payload_type (cy_dsse_clear). */
typedef struct cy_dsse {
    char *payload_type;
    uint8_t *payload;  /* NUL-terminated for convenience */
    size_t payload_len;
    cy_dsse_sig sigs[COMITY_DSSE_MAX_SIGS];
    size_t nsigs;
} cy_dsse;

/* Parses the JSON envelope without checking signatures. */
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
