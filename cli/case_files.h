/*
 * case_files.h: evidence files for `comity case upload|attach|fetch`
 * (case_files.c): sealing a file to a case's parties while hashing it,
 * uploading an age file to a node, fetching one and opening it, each
 * streamed in constant memory with progress on long transfers.  Private
 * to cli/.
 */
#ifndef COMITY_CLI_CASE_FILES_H
#define COMITY_CLI_CASE_FILES_H

#include <stdint.h>

#include "client.h"

/* Seals file `path` to the age recipients of parties `to[0..nto)` (from
 * the --keys file; a bare state: every office of it) and to the configured
 * key's own recipient, into `out` (a new file, mode 0600), hashing the age
 * file as it is written: OUT hash (64 hex + NUL), *size.  Returns an exit
 * status (errors printed; on failure `out` is removed). */
int cli_case_seal(struct cli_client *cl, const char *path, const char *const *to, size_t nto,
                  const char *out, char hash[65], uint64_t *size);

/* Uploads age file `sealed` to the node as attached to record
 * `record_id` (PUT /v1/files/HASH?record=ID), streamed, after hashing it
 * (or with `hash` and `size` when known: NULL to compute).  Prints
 * "HASH SIZE RECORD".  Returns an exit status (a refusal printed). */
int cli_case_attach(struct cli_client *cl, const char *record_id, const char *sealed,
                    const char *hash, uint64_t size);

/* Fetches file `hash` (GET /v1/files/HASH), checks its SHA-256, and writes
 * it to `out` ("-" or NULL: stdout) opened with the configured key, or as
 * the age file itself when `sealed`.  Returns an exit status. */
int cli_case_fetch(struct cli_client *cl, const char *hash, const char *out, int sealed);

#endif
