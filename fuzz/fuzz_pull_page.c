/*
 * fuzz_pull_page.c: the pull answer a peer node reads from an origin
 * (src/sync/page.c, docs/federation.md section 5) on arbitrary bytes:
 * parsing, then the page checks (src/sync/verify.c) against a fixed log
 * key.  A random page with a record must never pass the checks (that
 * would need a checkpoint signed by the key), and a parsed page must hold
 * what the parser promises (indexes increasing and below next).  Every
 * page the fast reader takes, jansson's reader must take too, with the
 * very same items (page.c: the fast one takes a page only when sure of
 * that); replayed on the corpus by make test (fuzz_replay_pull_page).
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

static bool same(const char *a, size_t al, const char *b, size_t bl)
{
    return al == bl && !memcmp(a, b, al);
}

/* The fast reader against jansson's on this input. */
static void differential(const uint8_t *data, size_t size)
{
    cy_pull_page f, j;
    if (!cy_pull_page_parse_fast((const char *)data, size, &f))
        return;
    if (cy_pull_page_parse_jansson((const char *)data, size, &j, NULL) != COMITY_OK ||
        f.n != j.n || f.more != j.more || f.next != j.next)
        abort();
    for (size_t i = 0; i < f.n; i++) {
        const cy_pull_item *a = &f.items[i], *b = &j.items[i];
        if (a->log_index != b->log_index ||
            !same(a->envelope, a->envelope_len, b->envelope, b->envelope_len) ||
            !same(a->receipt, a->receipt_len, b->receipt, b->receipt_len) ||
            strcmp(a->record_id, b->record_id) != 0)
            abort();
    }
    cy_pull_page_free(&f);
    cy_pull_page_free(&j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    differential(data, size);
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
