/*
 * fuzz_pull_page.c: the pull answer a peer node reads from an origin
 * (src/sync/page.c, docs/federation.md section 5) on arbitrary bytes:
 * parsing, then the page checks (src/sync/verify.c) against a fixed log
 * key.  A random page with a record must never pass the checks (that
 * would need a checkpoint signed by the key), and a parsed page must hold
 * what the parser promises (indexes increasing and below next).
 */
#include <stdlib.h>
#include <string.h>

#include "sync/sync.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static comity_vkey *vk;

static comity_err no_proof(void *ctx, uint64_t old, uint64_t size, uint8_t **hashes, size_t *n,
                           comity_error *err)
{
    (void)ctx;
    (void)old;
    (void)size;
    *hashes = NULL;
    *n = 0;
    return cy_fail(err, COMITY_ERR_IO, "no proofs here");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!vk) {
        comity_nkey *k;
        if (comity_nkey_generate("fuzz.example", COMITY_NOTE_ED25519, &k, NULL) ||
            comity_vkey_parse(comity_nkey_vkey(k), strlen(comity_nkey_vkey(k)), &vk, NULL))
            abort();
        comity_nkey_free(k);
    }
    cy_pull_page pg;
    if (cy_pull_page_parse((const char *)data, size, &pg, NULL) == COMITY_OK) {
        for (size_t i = 0; i < pg.n; i++)
            if (pg.items[i].log_index >= pg.next ||
                (i && pg.items[i].log_index <= pg.items[i - 1].log_index) ||
                strlen(pg.items[i].envelope) != pg.items[i].envelope_len)
                abort();
        cy_origin_view o = {vk, NULL, 0, NULL};
        const char *note;
        size_t nl;
        if (cy_sync_verify_page(&pg, &o, 0, no_proof, NULL, &note, &nl, NULL) == COMITY_OK &&
            pg.n > 0)
            abort();
    }
    cy_pull_page_free(&pg);
    return 0;
}
