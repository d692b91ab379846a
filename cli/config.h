/* config.h: the client.conf parser (config.c), kept apart from HTTP so
 * that a fuzz target can build it alone.  Private to cli/. */
#ifndef COMITY_CLI_CONFIG_H
#define COMITY_CLI_CONFIG_H

#include <stddef.h>

#include "comity.h"

#define CLI_CONFIG_MAX COMITY_CONF_MAX /* bytes of a client.conf */

/* The settings, in this order: url, token, key, cacert, insecure, keys. */
enum { CLI_CF_URL, CLI_CF_TOKEN, CLI_CF_KEY, CLI_CF_CACERT, CLI_CF_INSECURE, CLI_CF_KEYS,
       CLI_CF_N };

/* Parses the text of a client.conf read from `path` (len bytes, at most
 * CLI_CONFIG_MAX; need not be NUL-terminated): "name = value" lines, '#'
 * comments, blank lines, spaces around names and values, CRLF; no other
 * control characters.  Fills
 * val[k] (malloc'ed; the caller frees every val[k]) for each setting whose
 * val[k] is still NULL (a flag or the environment set the others); a
 * relative key, cacert or keys path is made relative to the folder of
 * `path`.  Returns 0, or -1 with "PATH line N: what" in err (settings set
 * before the bad line stay in val), or -2 when out of memory. */
int cli_config_parse(const char *path, const char *text, size_t len, char *val[CLI_CF_N],
                     char *err, size_t errcap);

#endif
