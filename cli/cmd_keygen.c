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

int cmd_key(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "show") != 0)
        return cli_usage("key", "want 'comity key show [KEYFILE]'");
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
