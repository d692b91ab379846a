/*
 * cmd_party.c: `comity party add|list|show|token|remove DIR ...`: the node's
 * directory of parties, edited by the operator on the node's machine
 * (`party add DIR --record FILE`: an office homed here, from its signed
 * party record, the roster's rules deciding: docs/federation.md, 1).
 *
 * Works on the node's store directly (SQLite allows it while the node is
 * serving); a new party can log in at once.  Tokens are printed once and
 * kept only as hashes.
 */
#include <string.h>

#include <jansson.h>

#include "cli.h"

int cmd_party(int argc, char **argv)
{
    if (argc < 3)
        return cli_usage("party", "want: party add|list|show|token|remove DIR ...");
    const char *sub = argv[1], *dir = argv[2];
    const char *name = NULL, *vkey = NULL, *recipient = NULL, *record = NULL;
    for (int i = 3; i < argc; i++) {
        if (!strcmp(argv[i], "--record") && i + 1 < argc)
            record = argv[++i];
        else if (!strcmp(argv[i], "--vkey") && i + 1 < argc)
            vkey = argv[++i];
        else if (!strcmp(argv[i], "--recipient") && i + 1 < argc)
            recipient = argv[++i];
        else if (argv[i][0] == '-')
            return cli_usage("party", "unknown option %s", argv[i]);
        else if (!name)
            name = argv[i];
        else
            return cli_usage("party", "unexpected argument %s", argv[i]);
    }
    comity_error e = {0};
    comity_node *node = NULL;
    if (strcmp(sub, "add") && strcmp(sub, "list") && strcmp(sub, "show") &&
        strcmp(sub, "token") && strcmp(sub, "remove"))
        return cli_usage("party", "unknown subcommand %s", sub);
    if (record && (strcmp(sub, "add") || name || vkey || recipient))
        return cli_usage("party", "--record goes with add alone: party add DIR --record FILE "
                                  "(the name and keys are the record's)");
    if (strcmp(sub, "list") && !name && !record)
        return cli_usage("party", "no party name given");
    if (!strcmp(sub, "add") && !record && (!vkey || !recipient))
        return cli_usage("party", "add needs --vkey and --recipient (or --record FILE)");
    if (comity_node_open(dir, &node, &e))
        return cli_error("party", &e);
    int status = CLI_OK;
    char *out = NULL;
    comity_err rc;
    char *named = NULL, *text = NULL;
    size_t len = 0;
    if (record) {
        rc = comity_read_file(record, COMITY_DSSE_MAX, &text, &len, &e);
        if (!rc)
            rc = comity_node_party_add_record(node, text, len, &named, &out, &e);
        name = named;
    } else if (!strcmp(sub, "add"))
        rc = comity_node_party_add(node, name, vkey, recipient, &out, &e);
    else if (!strcmp(sub, "token"))
        rc = comity_node_party_token(node, name, &out, &e);
    else if (!strcmp(sub, "remove"))
        rc = comity_node_party_remove(node, name, &e);
    else /* list, show */
        rc = comity_node_party_list(node, &out, &e);
    if (rc) {
        status = cli_error("party", &e);
    } else if (!strcmp(sub, "list")) {
        printf("%s\n", out);
    } else if (!strcmp(sub, "show")) {
        /* the list's entry of that name: its keys and its users' */
        json_t *a = json_loads(out, 0, NULL), *p, *one = NULL;
        size_t i;
        json_array_foreach(a, i, p)
            if (!strcmp(json_string_value(json_object_get(p, "name")), name))
                one = p;
        char *s = one ? json_dumps(one, JSON_INDENT(2)) : NULL;
        if (s)
            printf("%s\n", s);
        else {
            comity_error ne = {.code = COMITY_ERR_NOTFOUND};
            snprintf(ne.msg, sizeof ne.msg, "no party %s on this node", name);
            status = cli_error("party show", &ne);
        }
        free(s);
        json_decref(a);
    } else if (!strcmp(sub, "remove")) {
        printf("removed %s: its token no longer works; its records stay valid\n", name);
    } else {
        printf("%s %s\n", !strcmp(sub, "add") ? "registered" : "new token for", name);
        printf("token (shown once): %s\n", out);
        printf("TAXII login: HTTP Basic user '%s' password <token>, or "
               "'Authorization: Token <token>'\n", name);
    }
    comity_free(out);
    comity_free(named);
    comity_free(text);
    comity_node_close(node);
    return cli_finish(status);
}
