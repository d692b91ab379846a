/*
 * cmd_keygen.c: `comity keygen` and `comity key show`.
 */
#include <getopt.h>
#include <string.h>

#include "cli.h"

static void print_identity(const comity_key *k)
{
    printf("%s %s\n", comity_key_vkey(k), comity_key_recipient(k));
}

int cmd_keygen(int argc, char **argv)
{
    const char *party = NULL, *out = NULL;
    static const struct option opts[] = {
        {"party", required_argument, 0, 'p'}, {"out", required_argument, 0, 'o'}, {0, 0, 0, 0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "p:o:", opts, NULL)) != -1) {
        if (c == 'p')
            party = optarg;
        else if (c == 'o')
            out = optarg;
        else
            return cli_usage("keygen", "unknown option");
    }
    if (!party)
        return cli_usage("keygen", "--party NAME is required (e.g. --party pk.pkcert)");
    if (optind != argc)
        return cli_usage("keygen", "unexpected argument '%s'", argv[optind]);
    char path[1024];
    if (!out) {
        snprintf(path, sizeof path, "%s.key", party);
        out = path;
    }
    comity_error e = {0};
    comity_key *k;
    if (comity_key_generate(party, &k, &e))
        return cli_error("keygen", &e);
    if (comity_key_save(k, out, &e)) {
        comity_key_free(k);
        return cli_error("keygen", &e);
    }
    fprintf(stderr, "wrote %s (mode 0600): keep it secret; send the line below to your peers\n", out);
    print_identity(k);
    comity_key_free(k);
    return cli_finish(CLI_OK);
}

/* comity key backup OUT --to AGE1... [--node DIR] [KEYFILE...] */
static int key_backup(int argc, char **argv)
{
    const char *out = NULL, *dir = NULL;
    const char *to[16], *files[256];
    size_t nto = 0, nfiles = 0;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--to") && i + 1 < argc) {
            if (nto == 16)
                return cli_usage("key", "backup: at most 16 --to");
            to[nto++] = argv[++i];
        } else if (!strcmp(argv[i], "--node") && i + 1 < argc) {
            dir = argv[++i];
        } else if (argv[i][0] == '-') {
            return cli_usage("key", "backup: unknown or incomplete option %s", argv[i]);
        } else if (!out) {
            out = argv[i];
        } else {
            if (nfiles == 256)
                return cli_usage("key", "backup: at most 256 key files");
            files[nfiles++] = argv[i];
        }
    }
    if (!out || !nto || (!dir && !nfiles))
        return cli_usage("key", "want 'comity key backup OUT --to AGE1... [--node DIR]"
                                " [KEYFILE...]'");
    size_t n = 0;
    comity_error e = {0};
    if (comity_keys_backup(dir, files, nfiles, to, nto, out, &n, &e))
        return cli_error("key backup", &e);
    printf("sealed %zu key file(s) to %zu recipient(s) in %s\n", n, nto, out);
    return cli_finish(CLI_OK);
}

/* comity key restore IN OUTDIR --identity FILE */
static int key_restore(int argc, char **argv)
{
    const char *a[2] = {NULL, NULL}, *idf = NULL;
    int n = 0;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--identity") && i + 1 < argc)
            idf = argv[++i];
        else if (argv[i][0] == '-' && argv[i][1])
            return cli_usage("key", "restore: unknown or incomplete option %s", argv[i]);
        else if (n == 2)
            return cli_usage("key", "restore: two arguments, IN and OUTDIR");
        else
            a[n++] = argv[i];
    }
    if (n != 2 || !idf)
        return cli_usage("key", "want 'comity key restore IN OUTDIR --identity FILE'");
    comity_error e = {0};
    comity_identities *ids = NULL;
    char *listing = NULL;
    if (comity_identities_load(idf, &ids, &e) || comity_keys_restore(a[0], ids, a[1], &listing,
                                                                     &e)) {
        comity_identities_free(ids);
        return cli_error("key restore", &e);
    }
    comity_identities_free(ids);
    printf("%s\n", listing);
    comity_free(listing);
    return cli_finish(CLI_OK);
}

int cmd_key(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "backup"))
        return key_backup(argc, argv);
    if (argc >= 2 && !strcmp(argv[1], "restore"))
        return key_restore(argc, argv);
    if (argc < 2 || strcmp(argv[1], "show") != 0)
        return cli_usage("key", "want 'comity key show|backup|restore ...'");
    if (argc > 3)
        return cli_usage("key", "unexpected argument '%s'", argv[3]);
    const char *path = argc == 3 ? argv[2] : "-";
    comity_error e = {0};
    comity_key *k;
    if (comity_key_load(path, &k, &e))
        return cli_error("key show", &e);
    print_identity(k);
    comity_key_free(k);
    return cli_finish(CLI_OK);
}
