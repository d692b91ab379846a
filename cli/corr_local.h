/*
 * corr_local.h: correlation where sealed content is opened (corr_local.c),
 * shared by `comity correlate local` and `comity attribution correlate`.
 * Private to cli/.
 */
#ifndef COMITY_CLI_CORR_LOCAL_H
#define COMITY_CLI_CORR_LOCAL_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "cli.h"

struct cli_client; /* client.h */

#define CLI_CORR_RECORDS_MAX 10000 /* records one local correlation takes */

/* Appends to ids (each strdup'ed) every sealed record the node shows this
 * party (GET /v1/records, page after page), skipping those already in ids.
 * At most CLI_CORR_RECORDS_MAX (USAGE past it).  Returns an exit status. */
int cli_corr_sealed_ids(struct cli_client *cl, struct cli_list *ids);

/*
 * Correlates records ids[0..n) where they are opened: fetches each
 * (GET /v1/records/ID), opens the sealed ones with the party's key
 * (cl->key), indexes them all in an index of this process (comity_corr_*,
 * common cap `common`, 0: the default), and for each of the first `nask`
 * records asks its values of the node's index
 * (POST /v1/framework/correlation/lookup).  A record the node does not
 * show this party (404) is refused when `strict`, else left out (said on
 * stderr).  Bodies never leave this machine; their normalised values go to
 * the node.  OUT *out (json_decref): [{"id", "local": what it shares with
 * the other records given, "node": the lookup's answer}...] for the first
 * `nask` records.  Returns an exit status.
 */
int cli_corr_local(struct cli_client *cl, char *const *ids, size_t n, size_t nask,
                   size_t common, bool strict, json_t **out);

#endif
