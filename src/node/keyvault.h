/*
 * keyvault.h: the plaintext of a key custody backup (keyvault.c), parsed
 * and checked: what comity_keys_restore and the fuzz target read.
 */
#ifndef COMITY_NODE_KEYVAULT_H
#define COMITY_NODE_KEYVAULT_H

#include "base/base.h"

#define CY_KEYS_MAX 256                /* entries in one backup */
#define CY_KEYS_TEXT_MAX (64u << 10)   /* bytes of one entry's file */
#define CY_KEYS_BUNDLE_MAX (4u << 20)  /* bytes of the whole plaintext */

typedef struct cy_keys_entry {
    char path[COMITY_PARTY_MAX + 16]; /* "node.key", "parties/NAME.key", ... */
    char vkey[512];                   /* "" for a file that holds no signing key */
    char *text;                       /* the file, wiped when freed */
    size_t len;
} cy_keys_entry;

typedef struct cy_keys_bundle {
    char created[COMITY_TIME_BUF];
    cy_keys_entry *e;
    size_t n;
} cy_keys_bundle;

/* Parses and checks a backup's plaintext (the rules atop keyvault.c).
 * OUT *out: cy_keys_bundle_free.  INVALID / VERIFY / TOOBIG naming the
 * entry. */
comity_err cy_keys_bundle_parse(const char *text, size_t len, cy_keys_bundle **out,
                                comity_error *err);
void cy_keys_bundle_free(cy_keys_bundle *b);

#endif
