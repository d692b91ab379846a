/*
 * cmd_witness.c: `comity witness`: keep c2sp.org/tlog-witness state in a
 * directory and cosign other logs' checkpoints.
 *
 *   comity witness init --name NAME --key FILE DIR
 *   comity witness add-log DIR VKEY
 *   comity witness add-checkpoint DIR --key FILE [BODY|-]
 *   comity witness cosign DIR --key FILE --old N [--proof FILE] CHECKPOINT
 *   comity witness size DIR ORIGIN
 *
 * add-checkpoint runs the spec's handler on a request body exactly as the
 * HTTP endpoint would, printing the response body on stdout and
 * "<status> <content type>" on stderr; it exits 0 on 200 and 1 otherwise.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "keys.h"

#define CMD "witness"

static int load_nkey(const char *path, comity_nkey **key)
{
    comity_error e = {0};
    return comity_nkey_load(path, key, &e) ? cli_error(NULL, &e) : CLI_OK;
}

struct wopts {
    const char *name, *key, *old, *proof;
    const char *pos[3];
    int npos;
};

static int scan(int argc, char **argv, struct wopts *o)
{
    memset(o, 0, sizeof *o);
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char **slot = NULL;
        if (!strcmp(a, "--name"))
            slot = &o->name;
        else if (!strcmp(a, "--key"))
            slot = &o->key;
        else if (!strcmp(a, "--old"))
            slot = &o->old;
        else if (!strcmp(a, "--proof"))
            slot = &o->proof;
        else if (a[0] == '-' && a[1])
            return cli_usage(CMD, "unknown option %s", a);
        else {
            if (o->npos == 3)
                return cli_usage(CMD, "too many arguments");
            o->pos[o->npos++] = a;
            continue;
        }
        if (i + 1 >= argc)
            return cli_usage(CMD, "%s needs a value", a);
        *slot = argv[++i];
    }
    return CLI_OK;
}

static int do_init(struct wopts *o)
{
    if (!o->name || !o->key || o->npos != 1)
        return cli_usage(CMD, "usage: comity witness init --name NAME --key FILE DIR");
    comity_error e = {0};
    comity_nkey *key = NULL;
    int st;
    if ((st = cli_nkey_load_or_make(o->key, o->name, COMITY_NOTE_COSIG_V1, "witness", &key)))
        return st;
    if (comity_witness_create(o->pos[0], &e)) {
        comity_nkey_free(key);
        return cli_error(NULL, &e);
    }
    printf("%s\n", comity_nkey_vkey(key));
    comity_nkey_free(key);
    return cli_finish(CLI_OK);
}

static int open_w(const char *dir, const char *keypath, comity_nkey **key, comity_witness **w)
{
    comity_error e = {0};
    if (!keypath)
        return cli_usage(CMD, "--key FILE (the witness's cosigning key) is required");
    int st = load_nkey(keypath, key);
    if (st)
        return st;
    if (comity_witness_open(dir, *key, w, &e)) {
        comity_nkey_free(*key);
        *key = NULL;
        return cli_error(NULL, &e);
    }
    return CLI_OK;
}

static int run_body(comity_witness *w, const char *body, size_t len)
{
    char *resp;
    size_t rl;
    const char *ct;
    int status = comity_witness_add_checkpoint(w, body, len, &resp, &rl, &ct);
    fprintf(stderr, "%d %s\n", status, ct);
    int st = cli_output(NULL, resp, rl);
    comity_free(resp);
    if (st)
        return st;
    return cli_finish(status == 200 ? CLI_OK : CLI_NO);
}

static int do_add_checkpoint(struct wopts *o)
{
    if (o->npos < 1 || o->npos > 2)
        return cli_usage(CMD, "usage: comity witness add-checkpoint DIR --key FILE [BODY|-]");
    comity_nkey *key;
    comity_witness *w;
    int st = open_w(o->pos[0], o->key, &key, &w);
    if (st)
        return st;
    comity_error e = {0};
    char *body;
    size_t len;
    if (comity_read_file(o->npos == 2 ? o->pos[1] : "-", COMITY_WITNESS_BODY_MAX, &body, &len,
                         &e))
        st = cli_error("request body", &e);
    else {
        st = run_body(w, body, len);
        comity_free(body);
    }
    comity_witness_free(w);
    comity_nkey_free(key);
    return st;
}

/* Builds the add-checkpoint body from --old, --proof (hash lines) and the
 * checkpoint file, then handles it. */
static int do_cosign(struct wopts *o)
{
    if (o->npos != 2 || !o->old)
        return cli_usage(CMD, "usage: comity witness cosign DIR --key FILE --old N "
                              "[--proof FILE] CHECKPOINT");
    if (strspn(o->old, "0123456789") != strlen(o->old) || !*o->old)
        return cli_usage(CMD, "--old wants a decimal tree size");
    comity_nkey *key;
    comity_witness *w;
    int st = open_w(o->pos[0], o->key, &key, &w);
    if (st)
        return st;
    comity_error e = {0};
    char *proof = NULL, *cp = NULL, *body = NULL;
    size_t pl = 0, cl = 0;
    if (o->proof && comity_read_file(o->proof, 64 * 46, &proof, &pl, &e))
        st = cli_error("proof", &e);
    if (!st && comity_read_file(o->pos[1], 65536, &cp, &cl, &e))
        st = cli_error("checkpoint", &e);
    if (!st) {
        size_t ol = strlen(o->old);
        body = malloc(4 + ol + 1 + pl + 1 + cl + 1);
        if (!body) {
            st = CLI_FAIL;
        } else {
            size_t at = 0;
            memcpy(body, "old ", 4);
            at = 4;
            memcpy(body + at, o->old, ol);
            at += ol;
            body[at++] = '\n';
            if (pl) {
                memcpy(body + at, proof, pl);
                at += pl;
                if (proof[pl - 1] != '\n')
                    body[at++] = '\n';
            }
            body[at++] = '\n';
            memcpy(body + at, cp, cl);
            at += cl;
            st = run_body(w, body, at);
        }
    }
    free(body);
    comity_free(proof);
    comity_free(cp);
    comity_witness_free(w);
    comity_nkey_free(key);
    return st;
}

/* add-log and size need no key: they open the state with a throwaway one. */
static int open_nokey(const char *dir, comity_nkey **key, comity_witness **w)
{
    comity_error e = {0};
    if (comity_nkey_generate("comity-cli", COMITY_NOTE_COSIG_V1, key, &e))
        return cli_error(NULL, &e);
    if (comity_witness_open(dir, *key, w, &e)) {
        comity_nkey_free(*key);
        return cli_error(NULL, &e);
    }
    return CLI_OK;
}

static int do_add_log(struct wopts *o)
{
    if (o->npos != 2)
        return cli_usage(CMD, "usage: comity witness add-log DIR VKEY");
    comity_nkey *key;
    comity_witness *w;
    int st = open_nokey(o->pos[0], &key, &w);
    if (st)
        return st;
    comity_error e = {0};
    if (comity_witness_add_log(w, o->pos[1], &e))
        st = cli_error("add-log", &e);
    comity_witness_free(w);
    comity_nkey_free(key);
    return cli_finish(st);
}

static int do_size(struct wopts *o)
{
    if (o->npos != 2)
        return cli_usage(CMD, "usage: comity witness size DIR ORIGIN");
    comity_nkey *key;
    comity_witness *w;
    int st = open_nokey(o->pos[0], &key, &w);
    if (st)
        return st;
    comity_error e = {0};
    uint64_t size;
    if (comity_witness_size(w, o->pos[1], &size, &e))
        st = cli_error("size", &e);
    else
        printf("%llu\n", (unsigned long long)size);
    comity_witness_free(w);
    comity_nkey_free(key);
    return cli_finish(st);
}

int cmd_witness(int argc, char **argv)
{
    if (argc < 2)
        return cli_usage(CMD, "which action? init, add-log, add-checkpoint, cosign, size");
    struct wopts o;
    int st = scan(argc, argv, &o);
    if (st)
        return st;
    const char *a = argv[1];
    if (!strcmp(a, "init"))
        return do_init(&o);
    if (!strcmp(a, "add-log"))
        return do_add_log(&o);
    if (!strcmp(a, "add-checkpoint"))
        return do_add_checkpoint(&o);
    if (!strcmp(a, "cosign"))
        return do_cosign(&o);
    if (!strcmp(a, "size"))
        return do_size(&o);
    return cli_usage(CMD, "unknown action '%s'", a);
}
