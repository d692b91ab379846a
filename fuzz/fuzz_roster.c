/*
 * fuzz_roster.c: the roster's parsers on arbitrary bytes (docs/federation.md,
 * section 1): the first byte picks the roster policy parser, the party body
 * rules or the admission body rules (src/record/roster_body.c; an
 * admission's home and recipient among them); then the same bytes, as an
 * envelope, are folded under an empty policy, which must admit nothing.  A
 * first byte 0xff instead signs the rest, cut at NUL bytes, as party records
 * of a state pinned by the policy and folds them: the office's users across
 * its entries (revoked_at), whose every revoked user must have a time.
 * Replayed on its corpus by make test (fuzz_replay_roster).
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "record/roster_body.h"
#include "sync/sync.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Up to 4 bodies signed by pk's pinned key, folded; aborts when a user
 * marked revoked has no revoked_at. */
static void fold_signed(const char *s, size_t n)
{
    static comity_key *pk;
    static cy_roster_policy *p;
    if (!pk) {
        char pol[512];
        if (comity_key_generate("pk", &pk, NULL))
            abort();
        snprintf(pol, sizeof pol, "state %s\n", comity_key_vkey(pk));
        if (cy_roster_policy_parse(pol, strlen(pol), &p, NULL))
            abort();
    }
    char *envs[4] = {0};
    size_t lens[4], k = 0;
    comity_record_params pp = {.type = "party", .tlp = "clear"};
    for (size_t at = 0; at <= n && k < 4;) {
        const char *end = memchr(s + at, 0, n - at);
        size_t len = end ? (size_t)(end - (s + at)) : n - at;
        if (comity_record_sign(pk, &pp, s + at, len, &envs[k], &lens[k], NULL) == COMITY_OK)
            k++;
        at += len + 1;
    }
    char *json = NULL;
    if (cy_roster_build(p, (const char *const *)envs, lens, k, &json, NULL) == COMITY_OK) {
        json_t *r = json_loads(json, 0, NULL), *e, *u;
        size_t i, j;
        json_array_foreach(json_object_get(r, "parties"), i, e)
            json_array_foreach(json_object_get(e, "users"), j, u)
                if (json_object_get(u, "revoked") && !json_object_get(u, "revoked_at"))
                    abort();
        json_decref(r);
    }
    cy_free(json);
    for (size_t i = 0; i < k; i++)
        comity_free(envs[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *s = (const char *)data + 1;
    size_t n = size - 1;
    if (data[0] == 0xff) {
        fold_signed(s, n);
        return 0;
    }
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
