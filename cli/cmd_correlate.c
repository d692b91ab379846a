/*
 * cmd_correlate.c: `comity correlate`: shared infrastructure across
 * records and states (docs/correlation.md).
 *
 *   comity correlate holder RECORD-ID             what the node finds
 *   comity correlate lookup KIND:VALUE...         who holds these values
 *   comity correlate local [--sealed] [RECORD-ID...]  sealed records, here
 *   comity correlate blind-key --to P... [--out F]   a round's shared key
 *   comity correlate blind ROUND --secret F.age [--participants P,...] [FILE]
 *
 * `holder` and `lookup` ask the node (GET /v1/framework/correlation,
 * POST .../lookup).  `local` is correlation where sealed content is
 * opened: it fetches the records, opens the sealed ones with the party's
 * key, builds a correlation index of its own with the library (the same
 * module the node runs) and prints, per record, what it shares with the
 * other records given and what the node's index holds of its values; the
 * bodies never leave this machine, only their normalised values go to the
 * node's lookup; --sealed takes every sealed record the node shows the
 * party (its own sealed cases and what was sealed to it).  `blind-key` draws a key for a blinded round and seals it
 * to the participants (age); `blind` opens it, hashes the values of FILE
 * (KIND:VALUE lines; "-" or none: stdin), submits them to round ROUND and
 * prints which of them each other participant holds too.
 * Rules are the library's; this file fetches, asks and prints.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "corr_local.h"
#include "keys.h"

enum { OPT_TO = 't', OPT_OUT = 'o', OPT_SECRET = 's', OPT_PARTS = 'p', OPT_COMMON = 'c',
       OPT_SEALED = 'S' };

#define VALUES_MAX 200000     /* KIND:VALUE lines `blind` reads */
#define VALUES_FILE_MAX (64u << 20)

struct args {
    struct cli_client *cl;
    struct cli_list to;
    const char *out, *secret, *parts, *common;
    bool sealed;
};

static int on_opt(void *ctx, int c, const char *arg)
{
    struct args *a = ctx;
    switch (c) {
    case OPT_TO: return cli_list_add(&a->to, (char *)arg) ? CLI_FAIL : CLI_OK;
    case OPT_OUT: a->out = arg; return CLI_OK;
    case OPT_SECRET: a->secret = arg; return CLI_OK;
    case OPT_PARTS: a->parts = arg; return CLI_OK;
    case OPT_COMMON: a->common = arg; return CLI_OK;
    case OPT_SEALED: a->sealed = true; return CLI_OK;
    default: return cli_usage(a->cl->cmd, "unknown option");
    }
}

static int print_json(const char *text, size_t len)
{
    json_t *j = json_loadb(text, len, 0, NULL);
    if (!j) {
        fwrite(text, 1, len, stdout);
        return CLI_OK;
    }
    json_dumpf(j, stdout, JSON_INDENT(2));
    fputc('\n', stdout);
    json_decref(j);
    return CLI_OK;
}

/* One request; the answer printed (2xx) or its refusal. */
static int ask(struct cli_client *cl, const char *method, const char *path, const char *body,
               char **keep)
{
    struct cli_resp r;
    int st = cli_client_http(cl, method, path, body, body ? strlen(body) : 0, &r);
    if (st)
        return st;
    st = cli_client_answer(cl, &r);
    if (!st && keep)
        *keep = r.data;
    else if (!st)
        print_json(r.data, r.len);
    if (!keep || st)
        free(r.data);
    return st;
}

/* "domain:evil.com" into a {"type","value"} object; NULL when no ':'. */
static json_t *kv(const char *s)
{
    const char *c = strchr(s, ':');
    if (!c || c == s)
        return NULL;
    return json_pack("{s:s%, s:s}", "type", s, (size_t)(c - s), "value", c + 1);
}

static int holder(struct cli_client *cl, int argc, char **argv)
{
    if (argc != 1 || !cli_id_ok(argv[0]))
        return cli_usage(cl->cmd, "want one record id");
    char *q = NULL;
    if (cli_query_add(&q, "holder", argv[0]))
        return CLI_FAIL;
    char path[512];
    snprintf(path, sizeof path, "/v1/framework/correlation?%s", q[0] == '&' ? q + 1 : q);
    free(q);
    return ask(cl, "GET", path, NULL, NULL);
}

static int lookup_values(struct cli_client *cl, json_t *values, char **keep)
{
    json_t *b = json_pack("{s:o}", "values", values);
    char *body = b ? json_dumps(b, JSON_COMPACT) : NULL;
    json_decref(b);
    if (!body)
        return CLI_FAIL;
    int st = ask(cl, "POST", "/v1/framework/correlation/lookup", body, keep);
    free(body);
    return st;
}

static int lookup(struct cli_client *cl, int argc, char **argv)
{
    if (argc < 1)
        return cli_usage(cl->cmd, "want KIND:VALUE arguments (like domain:evil.example)");
    json_t *vs = json_array();
    for (int i = 0; i < argc; i++) {
        json_t *o = kv(argv[i]);
        if (!o) {
            json_decref(vs);
            return cli_usage(cl->cmd, "'%s' is not KIND:VALUE", argv[i]);
        }
        json_array_append_new(vs, o);
    }
    return lookup_values(cl, vs, NULL);
}

static int local(struct cli_client *cl, struct args *a, int argc, char **argv)
{
    struct cli_list all = {0};
    int st = CLI_OK;
    for (int i = 0; !st && i < argc; i++) {
        char *dup = strdup(argv[i]);
        st = dup && !cli_list_add(&all, dup) ? CLI_OK : CLI_FAIL;
        if (st)
            free(dup);
    }
    if (!st && a->sealed)
        st = cli_corr_sealed_ids(cl, &all);
    if (!st && all.n < 1)
        st = cli_usage(cl->cmd, "want one or more record ids, or --sealed");
    json_t *out = NULL;
    size_t common = a->common ? (size_t)strtoul(a->common, NULL, 10) : 0;
    if (!st)
        st = cli_corr_local(cl, all.v, all.n, all.n, common, true, &out);
    if (!st) {
        json_dumpf(out, stdout, JSON_INDENT(2));
        fputc('\n', stdout);
    }
    json_decref(out);
    for (size_t i = 0; i < all.n; i++)
        free(all.v[i]);
    cli_list_free(&all);
    return st;
}

static int blind_key(struct cli_client *cl, struct args *a, int argc)
{
    if (argc != 0 || a->to.n < 1)
        return cli_usage(cl->cmd, "blind-key wants --to PARTY (each participant)");
    struct cli_keys keys = {0};
    if (!cl->keys)
        return cli_usage(cl->cmd, "blind-key needs --keys (the participants' age recipients)");
    int st = cli_keys_add(&keys, cl->keys);
    const char **rcp = NULL;
    size_t nr = 0;
    comity_error e = {0};
    uint8_t key[COMITY_BLIND_KEY_LEN];
    uint8_t *sealed = NULL;
    size_t sl = 0;
    if (!st) {
        const char **names = calloc(keys.n + 1, sizeof *names);
        for (size_t i = 0; names && i < keys.n; i++)
            names[i] = comity_vkey_name(keys.vkeys[i]);
        if (!names || comity_record_seal_recipients((const char *const *)a->to.v, a->to.n,
                                                    names,
                                                    (const char *const *)keys.recipients,
                                                    keys.n, &rcp, &nr, &e))
            st = cli_error(cl->cmd, &e);
        free(names);
    }
    comity_blind_key_new(key);
    if (!st && comity_seal_mem(key, sizeof key, rcp, nr, 1, &sealed, &sl, &e))
        st = cli_error(cl->cmd, &e);
    comity_wipe(key, sizeof key);
    if (!st)
        st = a->out ? cli_output(a->out, sealed, sl)
                    : (fwrite(sealed, 1, sl, stdout) == sl ? CLI_OK : CLI_FAIL);
    comity_free(sealed);
    comity_free(rcp);
    cli_keys_free(&keys);
    return st;
}

/* Reads KIND:VALUE lines.  OUT *lines (each malloc'ed), *n. */
static int read_values(struct cli_client *cl, const char *path, char ***lines, size_t *n)
{
    FILE *f = !path || !strcmp(path, "-") ? stdin : fopen(path, "r");
    if (!f) {
        fprintf(stderr, "comity %s: cannot read %s\n", cl->cmd, path);
        return CLI_FAIL;
    }
    char *line = NULL;
    size_t cap = 0, total = 0;
    ssize_t len;
    int st = CLI_OK;
    while (!st && (len = getline(&line, &cap, f)) >= 0) {
        total += (size_t)len;
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = 0;
        if (!len || line[0] == '#')
            continue;
        if (*n >= VALUES_MAX || total > VALUES_FILE_MAX) {
            fprintf(stderr, "comity %s: more than %d values or %u bytes\n", cl->cmd, VALUES_MAX,
                    VALUES_FILE_MAX);
            st = CLI_USAGE;
            break;
        }
        char **g = realloc(*lines, (*n + 1) * sizeof *g);
        if (!g || !(g[*n] = strdup(line))) {
            st = CLI_FAIL;
            if (g)
                *lines = g;
            break;
        }
        *lines = g;
        (*n)++;
    }
    free(line);
    if (f != stdin)
        fclose(f);
    return st;
}

static int blind(struct cli_client *cl, struct args *a, int argc, char **argv)
{
    if (argc < 1 || argc > 2 || !a->secret)
        return cli_usage(cl->cmd, "blind wants ROUND, --secret FILE and a values file");
    const char *round = argv[0];
    comity_error e = {0};
    comity_identities *ids = NULL;
    char *sec = NULL;
    size_t secl = 0;
    uint8_t *key = NULL;
    size_t kl = 0;
    char **lines = NULL;
    size_t n = 0;
    uint8_t *h = NULL;
    char *body = NULL, *answer = NULL;
    int st = CLI_OK;
    if (comity_identities_load(cl->key, &ids, &e) ||
        comity_read_file(a->secret, 1 << 16, &sec, &secl, &e) ||
        comity_open_mem(sec, secl, ids, &key, &kl, &e))
        st = cli_error(cl->cmd, &e);
    if (!st && kl != COMITY_BLIND_KEY_LEN)
        st = cli_usage(cl->cmd, "%s does not hold a round key (%zu bytes)", a->secret, kl);
    if (!st)
        st = read_values(cl, argc > 1 ? argv[1] : NULL, &lines, &n);
    if (!st && !(h = malloc((n ? n : 1) * COMITY_BLIND_HASH_LEN)))
        st = CLI_FAIL;
    for (size_t i = 0; !st && i < n; i++) {
        char *c = strchr(lines[i], ':');
        if (!c) {
            st = cli_usage(cl->cmd, "line %zu: '%.64s' is not KIND:VALUE", i + 1, lines[i]);
            break;
        }
        *c = 0;
        if (comity_blind_hash(key, lines[i], c + 1, strlen(c + 1), h + i * COMITY_BLIND_HASH_LEN,
                              &e))
            st = cli_error(cl->cmd, &e);
        *c = ':';
    }
    struct cli_list parts = {0};
    char *pdup = a->parts ? strdup(a->parts) : NULL, *save = NULL;
    for (char *t = pdup ? strtok_r(pdup, ",", &save) : NULL; !st && t;
         t = strtok_r(NULL, ",", &save))
        st = cli_list_add(&parts, t) ? CLI_FAIL : CLI_OK;
    if (!st && comity_blind_body(h, n, (const char *const *)parts.v, parts.n, &body, &e))
        st = cli_error(cl->cmd, &e);
    char path[256];
    snprintf(path, sizeof path, "/v1/framework/correlation/blind/%s", round);
    if (!st)
        st = ask(cl, "POST", path, body, &answer);
    if (!st) {
        /* each overlap's hashes back to the values they stand for */
        json_t *j = json_loads(answer, 0, NULL);
        size_t i;
        json_t *ov;
        json_array_foreach(json_object_get(j, "overlaps"), i, ov)
        {
            json_t *vals = json_array();
            size_t k;
            json_t *hv;
            json_t *theirs = json_object();
            json_array_foreach(json_object_get(ov, "hashes"), k, hv)
            {
                if (json_is_string(hv))
                    json_object_set_new(theirs, json_string_value(hv), json_true());
            }
            for (size_t x = 0; x < n; x++) {
                char t[COMITY_BLIND_HASH_B64];
                comity_blind_hash_text(h + x * COMITY_BLIND_HASH_LEN, t);
                if (json_object_get(theirs, t))
                    json_array_append_new(vals, json_string(lines[x]));
            }
            json_decref(theirs);
            json_object_set_new(ov, "values", vals);
            json_object_del(ov, "hashes");
        }
        json_dumpf(j, stdout, JSON_INDENT(2));
        fputc('\n', stdout);
        json_decref(j);
    }
    for (size_t i = 0; i < n; i++)
        free(lines[i]);
    free(lines);
    free(h);
    comity_free(body);
    free(answer);
    cli_list_free(&parts);
    free(pdup);
    comity_free_secret(key, kl);
    comity_free(sec);
    comity_identities_free(ids);
    return st;
}

int cmd_correlate(int argc, char **argv)
{
    struct cli_client cl;
    cli_client_init(&cl, "correlate");
    if (argc < 2)
        return cli_help("correlate");
    const char *sub = argv[1];
    static const struct option extra[] = {
        {"to", required_argument, 0, OPT_TO},
        {"out", required_argument, 0, OPT_OUT},
        {"secret", required_argument, 0, OPT_SECRET},
        {"participants", required_argument, 0, OPT_PARTS},
        {"common", required_argument, 0, OPT_COMMON},
        {"sealed", no_argument, 0, OPT_SEALED},
        {0, 0, 0, 0},
    };
    struct args a = {.cl = &cl};
    int st = cli_client_args(&cl, argc - 1, argv + 1, extra, on_opt, &a);
    int rest = argc - 1 - optind;
    char **pos = argv + 1 + optind;
    if (!st) {
        if (!strcmp(sub, "holder")) {
            st = cli_client_setup(&cl, CLI_NEED_URL);
            st = st ? st : holder(&cl, rest, pos);
        } else if (!strcmp(sub, "lookup")) {
            st = cli_client_setup(&cl, CLI_NEED_URL);
            st = st ? st : lookup(&cl, rest, pos);
        } else if (!strcmp(sub, "local")) {
            st = cli_client_setup(&cl, CLI_NEED_URL | CLI_NEED_TOKEN | CLI_NEED_KEY);
            st = st ? st : local(&cl, &a, rest, pos);
        } else if (!strcmp(sub, "blind-key")) {
            st = cli_client_setup(&cl, 0);
            st = st ? st : blind_key(&cl, &a, rest);
        } else if (!strcmp(sub, "blind")) {
            st = cli_client_setup(&cl, CLI_NEED_URL | CLI_NEED_TOKEN | CLI_NEED_KEY);
            st = st ? st : blind(&cl, &a, rest, pos);
        } else {
            st = cli_usage("correlate", "unknown subcommand '%s' (holder, lookup, local, "
                                        "blind-key, blind)",
                           sub);
        }
    }
    cli_list_free(&a.to);
    cli_client_free(&cl);
    return st;
}
