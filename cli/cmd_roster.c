/*
 * cmd_roster.c: `comity roster DIR`, `comity roster import DIR FILE...`,
 * `comity roster policy DIR FILE`, `comity roster apply DIR`: the
 * federation's states and offices as a node derives them from signed admission and party records
 * (docs/federation.md, section 1).  Argument parsing only; the rules are
 * the library's.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

int cmd_roster(int argc, char **argv)
{
    if (argc < 2)
        return cli_usage("roster", "want: roster DIR | roster import DIR FILE... | "
                                   "roster policy DIR FILE");
    const char *sub = argv[1];
    bool apply = !strcmp(sub, "apply");
    bool show = strcmp(sub, "import") && strcmp(sub, "policy") && !apply;
    if (apply && argc != 3)
        return cli_usage("roster", "want: roster apply DIR");
    if (show && argc != 2)
        return cli_usage("roster", "want: roster DIR");
    if (!show && !apply && (argc < 4 || (!strcmp(sub, "policy") && argc != 4)))
        return cli_usage("roster", "want: roster %s DIR FILE%s", sub,
                         strcmp(sub, "import") ? "" : "...");
    const char *dir = show ? argv[1] : argv[2];
    show = show || apply;
    comity_error e = {0};
    comity_node *node = NULL;
    if (comity_node_open(dir, &node, &e))
        return cli_error("roster", &e);
    int status = CLI_OK;
    if (show) {
        char *out = NULL;
        if (apply ? comity_node_roster_apply(node, &out, &e)
                  : comity_node_roster_show(node, &out, &e))
            status = cli_error("roster", &e);
        else
            printf("%s\n", out);
        comity_free(out);
    }
    for (int i = 3; !show && i < argc && status == CLI_OK; i++) {
        char *text = NULL, *id = NULL;
        size_t len = 0;
        if (comity_read_file(argv[i], COMITY_DSSE_MAX, &text, &len, &e))
            status = cli_error("roster", &e);
        else if (!strcmp(sub, "policy") ? comity_node_roster_policy(node, text, len, &e)
                                        : comity_node_roster_import(node, text, len, &id, &e))
            status = cli_error("roster", &e);
        else if (id)
            printf("imported %s\n", id);
        else
            printf("roster policy set\n");
        comity_free(text);
        comity_free(id);
    }
    comity_node_close(node);
    return cli_finish(status);
}
