/* keys.h: public keys from the command line (see keys.c). */
#ifndef COMITY_CLI_KEYS_H
#define COMITY_CLI_KEYS_H

#include "cli.h"

struct cli_keys {
    comity_vkey **vkeys;
    char **recipients; /* parallel to vkeys; NULL where none was given */
    size_t n, cap;
};

/* Adds a vkey or every line of a keys file; prints the error and returns
 * an exit status (0 on success). */
int cli_keys_add(struct cli_keys *k, const char *arg);
/* The age recipient listed for `party`, or NULL. */
const char *cli_keys_recipient(const struct cli_keys *k, const char *party);
void cli_keys_free(struct cli_keys *k);

/* Loads the signing-key file at `path`, or, when there is none, makes a key
 * named `name` of `type` and saves it there (mode 0600), saying so on
 * stderr.  `what` names the key in messages ("log", "witness").  OUT *key:
 * comity_nkey_free.  Returns an exit status (0 on success). */
int cli_nkey_load_or_make(const char *path, const char *name, int type,
                          const char *what, comity_nkey **key);

#endif
