/*
 * fuzz_roster.c: the roster's parsers on arbitrary bytes (docs/federation.md,
 * section 1): the first byte picks the roster policy parser, the party body
 * rules or the admission body rules (src/record/roster_body.c; an
 * admission's home and recipient among them); then the same bytes, as an
 * envelope, are folded under an empty policy, which must admit nothing.
 * Replayed on its corpus by make test (fuzz_replay_roster).
 */
#include <stdlib.h>
#include <string.h>

#include "record/roster_body.h"
#include "sync/sync.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *s = (const char *)data + 1;
    size_t n = size - 1;
    switch (data[0] % 3) {
    case 0: {
        cy_roster_policy *p = NULL;
        if (cy_roster_policy_parse(s, n, &p, NULL) == COMITY_OK)
            cy_roster_policy_free(p);
        break;
    }
    case 1:
        (void)cy_roster_party_check(s, n, NULL);
        break;
    default:
        (void)cy_roster_admission_check(s, n, NULL);
        break;
    }
    char *json = NULL;
    const char *envs[1] = {s};
    if (cy_roster_build(NULL, envs, &n, 1, &json, NULL) == COMITY_OK &&
        !strstr(json, "\"parties\": []"))
        abort(); /* an empty policy admits no state, so no office */
    cy_free(json);
    return 0;
}
