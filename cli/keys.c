/*
 * keys.c: reading public keys given on the command line (private to cli/).
 *
 * --vkey takes either one verifier key (NAME+ID+KEY) or the path of a keys
 * file: one party a line, "<vkey> [<age recipient>]", '#' comments and blank
 * lines allowed.  `comity key show` prints exactly such a line, so a keys
 * file is made by concatenating the lines parties send each other.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "keys.h"

void cli_keys_free(struct cli_keys *k)
{
    for (size_t i = 0; i < k->n; i++) {
        comity_vkey_free(k->vkeys[i]);
        free(k->recipients[i]);
    }
    free(k->vkeys);
    free(k->recipients);
    memset(k, 0, sizeof *k);
}

static int add(struct cli_keys *k, comity_vkey *v, const char *rcpt, size_t rlen)
{
    if (k->n == k->cap) {
        size_t nc = k->cap ? 2 * k->cap : 8;
        comity_vkey **nv = realloc(k->vkeys, nc * sizeof *nv);
        if (!nv)
            return -1;
        k->vkeys = nv;
        char **nr = realloc(k->recipients, nc * sizeof *nr);
        if (!nr)
            return -1;
        k->recipients = nr;
        k->cap = nc;
    }
    k->vkeys[k->n] = v;
    k->recipients[k->n] = rcpt ? strndup(rcpt, rlen) : NULL;
    k->n++;
    return 0;
}

int cli_keys_add(struct cli_keys *k, const char *arg)
{
    comity_error e = {0};
    comity_vkey *v;
    /* a vkey has two '+' and no '/' before the first '+'... but names may
     * contain '/', so: try it as a key first, then as a file. */
    if (strchr(arg, '+') && comity_vkey_parse(arg, strlen(arg), &v, &e) == COMITY_OK)
        return add(k, v, NULL, 0) ? CLI_FAIL : CLI_OK;
    char *text;
    size_t len;
    comity_error fe = {0};
    if (comity_read_file(arg, 1 << 20, &text, &len, &fe)) {
        if (e.code)
            fprintf(stderr, "comity: --vkey '%s': neither a key (%s) nor a readable file (%s)\n",
                    arg, e.msg, fe.msg);
        else
            fprintf(stderr, "comity: %s\n", fe.msg);
        return CLI_USAGE;
    }
    size_t lineno = 0;
    int rc = CLI_OK;
    for (char *line = text; line && *line && rc == CLI_OK;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = 0;
        lineno++;
        char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        size_t l = strcspn(p, " \t\r");
        if (*p && *p != '#') {
            comity_error le = {0};
            if (comity_vkey_parse(p, l, &v, &le)) {
                fprintf(stderr, "comity: %s line %zu: %s\n", arg, lineno, le.msg);
                rc = CLI_USAGE;
                break;
            }
            char *r = p + l;
            while (*r == ' ' || *r == '\t')
                r++;
            size_t rl = strcspn(r, " \t\r");
            char rbuf[256];
            snprintf(rbuf, sizeof rbuf, "%.*s", (int)(rl < 255 ? rl : 255), r);
            if (rl && !comity_recipient_valid(rbuf, &le)) {
                fprintf(stderr, "comity: %s line %zu: %s\n", arg, lineno, le.msg);
                comity_vkey_free(v);
                rc = CLI_USAGE;
                break;
            }
            if (add(k, v, rl ? r : NULL, rl)) {
                comity_vkey_free(v);
                rc = CLI_FAIL;
            }
        }
        line = nl ? nl + 1 : NULL;
    }
    free(text);
    return rc;
}

const char *cli_keys_recipient(const struct cli_keys *k, const char *party)
{
    for (size_t i = 0; i < k->n; i++)
        if (k->recipients[i] && strcmp(comity_vkey_name(k->vkeys[i]), party) == 0)
            return k->recipients[i];
    return NULL;
}

int cli_nkey_load_or_make(const char *path, const char *name, int type,
                          const char *what, comity_nkey **key)
{
    comity_error e = {0};
    *key = NULL;
    if (access(path, F_OK) == 0)
        return comity_nkey_load(path, key, &e) ? cli_error(NULL, &e) : CLI_OK;
    if (comity_nkey_generate(name, type, key, &e)) {
        char ctx[64];
        snprintf(ctx, sizeof ctx, "making the %s key", what);
        return cli_error(ctx, &e);
    }
    if (comity_nkey_save(*key, path, &e)) {
        comity_nkey_free(*key);
        *key = NULL;
        return cli_error(NULL, &e);
    }
    fprintf(stderr, "comity: wrote the new %s key to %s (keep it secret)\n", what, path);
    return CLI_OK;
}
