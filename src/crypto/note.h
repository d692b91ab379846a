/*
 * note.h: signed-note internals shared by crypto/ and tlog/ (private).
 *
 * c2sp.org/signed-note: a note is UTF-8 text ending in '\n', an empty line,
 * and signature lines "— <name> <base64(keyid||sig)>\n".  The structs below
 * are the parsed forms; tlog/ uses them to write and check cosignatures
 * (type 0x04, c2sp.org/tlog-cosignature), which sign a different message
 * than plain Ed25519 note signatures.
 */
#ifndef COMITY_CRYPTO_NOTE_H
#define COMITY_CRYPTO_NOTE_H

#include <sodium.h>

#include "base/base.h"

#define CY_NOTE_NAME_MAX 256

struct comity_vkey {
    char name[CY_NOTE_NAME_MAX];
    uint32_t id;
    uint8_t type;                            /* COMITY_NOTE_ED25519 or _COSIG_V1 */
    uint8_t pk[crypto_sign_PUBLICKEYBYTES];
    char *text;                              /* owned: name+hexid+base64 */
};

struct comity_nkey {
    char name[CY_NOTE_NAME_MAX];
    uint32_t id;
    uint8_t type;
    uint8_t pk[crypto_sign_PUBLICKEYBYTES];
    uint8_t sk[crypto_sign_SECRETKEYBYTES];  /* wiped on free */
    char *vkey;                              /* owned */
    char *text;                              /* owned, secret, wiped on free */
};

/* One signature line of a parsed note; `name` and `sig` point into the
 * caller's note buffer or the struct. */
typedef struct cy_note_sig {
    const char *name;
    size_t name_len;
    uint32_t id;
    uint8_t sig[128]; /* keyid stripped: timestamp||sig for cosignatures */
    size_t sig_len;
} cy_note_sig;

typedef struct cy_note {
    const char *text; /* points into the note; includes its final '\n' */
    size_t text_len;
    cy_note_sig sigs[COMITY_NOTE_MAX_SIGS];
    size_t nsigs;
} cy_note;

/* Splits a note into text and signature lines, enforcing the format (UTF-8,
 * no control characters but '\n', em-dash lines, padded base64, at most
 * COMITY_NOTE_MAX_SIGS lines).  Borrowing: out->text and names point into
 * `note`, which must outlive `out`. */
comity_err cy_note_parse(const char *note, size_t len, cy_note *out,
                         comity_error *err) CY_MUST_CHECK;

/* Key id = SHA-256(name || '\n' || type || pk)[:4], big-endian. */
uint32_t cy_note_key_id(const char *name, size_t name_len, uint8_t type,
                        const uint8_t pk[32]);

/* 1 when `name` is a valid note key name (non-empty, no whitespace, no '+'). */
bool cy_note_name_valid(const char *name, size_t len);

/* Appends the signature line for `sig` (sig_len bytes after the key id) by
 * key (name, id) to `b`. */
comity_err cy_note_append_sig(cy_buf *b, const char *name, uint32_t id,
                              const uint8_t *sig, size_t sig_len);

#endif
