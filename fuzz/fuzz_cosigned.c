/*
 * fuzz_cosigned.c: the answer of GET /federation/cosigned/ a puller reads
 * from an origin (src/sync/firstseen.c, docs/federation.md section 6) on
 * arbitrary bytes: parsing, then the checks of its checkpoints against a
 * fixed log key and witness policy.  A parsed answer must hold what the
 * parser promises (sizes increasing, none above the answer's size, proofs
 * within their cap), and one with a checkpoint must never pass the checks
 * (that would need a checkpoint signed by the key).
 */
#include <stdlib.h>
#include <string.h>

#include "sync/sync.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static comity_vkey *vk;
static comity_policy *pol;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!vk) {
        comity_nkey *k, *w;
        char text[512];
        if (comity_nkey_generate("fuzz.example", COMITY_NOTE_ED25519, &k, NULL) ||
            comity_vkey_parse(comity_nkey_vkey(k), strlen(comity_nkey_vkey(k)), &vk, NULL) ||
            comity_nkey_generate("w.example", COMITY_NOTE_COSIG_V1, &w, NULL))
            abort();
        snprintf(text, sizeof text, "witness w %s\nquorum w\n", comity_nkey_vkey(w));
        if (comity_policy_parse(text, strlen(text), &pol, NULL))
            abort();
        comity_nkey_free(k);
        comity_nkey_free(w);
    }
    cy_cosigned_answer a;
    if (cy_cosigned_parse((const char *)data, size, &a, NULL) == COMITY_OK) {
        for (size_t i = 0; i < a.n; i++)
            if (a.items[i].size == 0 || a.items[i].size > a.size ||
                (i && a.items[i].size <= a.items[i - 1].size) ||
                a.items[i].nproof > CY_TLOG_PROOF_MAX || !a.items[i].note)
                abort();
        uint64_t *t = malloc((a.n ? a.n : 1) * sizeof *t);
        uint8_t root[CY_HASH] = {0};
        if (!t)
            abort();
        if (cy_cosigned_times(&a, vk, pol, a.size, root, t, NULL) == COMITY_OK && a.n > 0)
            abort();
        free(t);
    }
    cy_cosigned_answer_free(&a);
    return 0;
}
