/*
 * gen_records.c: signs N clear records by one party, one compact envelope
 * a line on stdout, in one process (scripts/load-wrk posts them; one
 * `comity record sign` process per record costs a process start each).
 *
 *   gen_records KEYFILE N [TYPE]     TYPE defaults to "note"
 *
 * Body of record i: {"n": i, "note": "load"}; tlp clear; a fresh id and
 * `created` each, as comity_record_sign makes them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comity.h"

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: gen_records KEYFILE N [TYPE]\n");
        return 2;
    }
    comity_error e = {0};
    comity_key *key = NULL;
    if (comity_key_load(argv[1], &key, &e)) {
        fprintf(stderr, "gen_records: %s\n", e.msg);
        return 1;
    }
    long n = atol(argv[2]);
    comity_record_params p = {.type = argc > 3 ? argv[3] : "note", .tlp = "clear"};
    for (long i = 1; i <= n; i++) {
        char body[64];
        int len = snprintf(body, sizeof body, "{\"n\":%ld,\"note\":\"load\"}", i);
        char *env = NULL;
        size_t env_len = 0;
        if (comity_record_sign(key, &p, body, (size_t)len, &env, &env_len, &e)) {
            fprintf(stderr, "gen_records: record %ld: %s\n", i, e.msg);
            comity_key_free(key);
            return 1;
        }
        if (memchr(env, '\n', env_len)) {
            fprintf(stderr, "gen_records: an envelope on more than one line\n");
            comity_free(env);
            comity_key_free(key);
            return 1;
        }
        fwrite(env, 1, env_len, stdout);
        putchar('\n');
        comity_free(env);
    }
    comity_key_free(key);
    return fflush(stdout) ? 1 : 0;
}
