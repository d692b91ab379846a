/*
 * fuzz_norm_body.c: the body validators of the norm records (src/framework
 * norm_*.c, on the case core's field tables and their cross-field rules:
 * norm ids, sectors, "SECTOR/name" services, CERT status, validity dates,
 * CVE ids, the basis of a complaint, a disclosure's kind and norm) on
 * arbitrary bytes.  The first byte picks the record type, the rest is the
 * body.  Besides not crashing, a body that is accepted must still be
 * accepted once jansson has re-encoded it (a node that stores bodies
 * compactly must not lose records on replay).
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "comity.h"

static const char *const types[] = {
    "norm-entry",           "norm-declaration",      "norm-reseal",
    "norm-alert",           "norm-complaint",        "norm-complaint-ack",
    "norm-complaint-reply", "norm-complaint-consult", "norm-complaint-close",
    "norm-disclosure",      "norm-disclosure-ack",   "norm-disclosure-fix",
    "norm-disclosure-exploited", "norm-disclosure-publish", "norm-disclosure-close",
    "norm-report", "norm-position-draft", "norm-position-comment",
    "norm-position-delegation", "norm-position"};
#define NTYPES (sizeof types / sizeof types[0])

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *type = types[data[0] % NTYPES];
    const char *body = (const char *)data + 1;
    size_t len = size - 1;
    if (!comity_framework_handles(type))
        abort();
    if (comity_framework_check_body(type, body, len, NULL) != COMITY_OK)
        return 0;
    json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
    if (!j || !json_is_object(j))
        abort();
    char *again = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    if (!again)
        abort();
    if (comity_framework_check_body(type, again, strlen(again), NULL) != COMITY_OK)
        abort();
    free(again);
    return 0;
}
