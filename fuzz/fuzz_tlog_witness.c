/*
 * fuzz_tlog_witness.c: the witness's add-checkpoint handler
 * (c2sp.org/tlog-witness) on arbitrary request bodies.  The witness trusts
 * one log key that the fuzzer does not hold, so every answer must be an
 * error status (400, 403, 404), never 200.
 */
#define _XOPEN_SOURCE 700 /* nftw, fuzz_tmpdir.h */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_tmpdir.h"
#include "tlog/tlog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static comity_witness *w;
static comity_nkey *wk;

/* At exit, before the directory goes. */
static void close_witness(void)
{
    comity_witness_free(w);
    w = NULL;
    comity_nkey_free(wk);
    wk = NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!w) {
        const char *dir = fuzz_tmpdir("witness", close_witness); /* removed at exit */
        comity_nkey *lk;
        if (comity_witness_create(dir, NULL) ||
            comity_nkey_generate("witness.fuzz", COMITY_NOTE_COSIG_V1, &wk, NULL) ||
            comity_witness_open(dir, wk, &w, NULL) ||
            comity_nkey_generate("fuzz.example/log", COMITY_NOTE_ED25519, &lk, NULL) ||
            comity_witness_add_log(w, comity_nkey_vkey(lk), NULL))
            abort();
        comity_nkey_free(lk);
    }
    char *resp;
    size_t rl;
    const char *ct;
    int st = comity_witness_add_checkpoint(w, (const char *)data, size, &resp, &rl, &ct);
    comity_free(resp);
    if (st != 400 && st != 403 && st != 404)
        abort();
    return 0;
}
