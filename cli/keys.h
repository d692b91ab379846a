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

#endif
