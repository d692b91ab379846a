/*
 * cmd_peer.c: `comity peer add|list|remove DIR ...`: the node's pinned peer
 * nodes (docs/federation.md), edited by the operator on the node's machine
 * (also while it serves: its pullers pick a new peer up within 10 s); and
 * `comity peer equivocation FILE --log-vkey VKEY`, the offline check of a
 * split view a node caught; `comity peer witnesses DIR FILE|--none`, the
 * witness quorum every peer checkpoint must meet; `comity peer follow DIR
 * FILE`, a log succession (docs/federation.md, section 11) followed.
 * Argument parsing only; the rules are the library's.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* `comity peer equivocation FILE --log-vkey VKEY`: the offline check. */
static int equivocation(int argc, char **argv)
{
    if (argc != 5 || strcmp(argv[3], "--log-vkey"))
        return cli_usage("peer", "want: peer equivocation FILE --log-vkey VKEY");
    comity_error e = {0};
    comity_vkey *vk = NULL;
    char *text = NULL, origin[256];
    size_t len = 0;
    int status = CLI_OK;
    if (comity_vkey_parse(argv[4], strlen(argv[4]), &vk, &e) ||
        comity_read_file(argv[2], 1u << 20, &text, &len, &e))
        status = cli_error("peer", &e);
    else if (comity_equivocation_verify(text, len, vk, origin, &e))
        status = cli_error("peer", &e);
    else
        printf("split view of %s proven: two checkpoints signed by its log key, "
               "that no one log holds both of\n", origin);
    comity_free(text);
    comity_vkey_free(vk);
    return cli_finish(status);
}

/* `comity peer witnesses DIR FILE|--none`: the witness policy. */
static int witnesses(int argc, char **argv)
{
    if (argc != 4)
        return cli_usage("peer", "want: peer witnesses DIR FILE|--none");
    comity_error e = {0};
    comity_node *node = NULL;
    char *text = NULL;
    size_t len = 0;
    int status = CLI_OK;
    bool none = !strcmp(argv[3], "--none");
    if (!none && comity_read_file(argv[3], COMITY_POLICY_MAX, &text, &len, &e))
        status = cli_error("peer", &e);
    else if (!none && len == 0)
        status = cli_usage("peer", "%s is empty (--none removes the policy)", argv[3]);
    else if (comity_node_open(argv[2], &node, &e) ||
             comity_node_witness_policy(node, none ? "" : text, none ? 0 : len, &e))
        status = cli_error("peer", &e);
    else if (none)
        printf("witness policy removed: checkpoints of peers need no cosignature\n");
    else
        printf("witness policy kept: every peer checkpoint needs its quorum from now on\n");
    comity_free(text);
    comity_node_close(node);
    return cli_finish(status);
}

/* `comity peer follow DIR FILE`: a log succession record followed. */
static int follow(int argc, char **argv)
{
    if (argc != 4)
        return cli_usage("peer", "want: peer follow DIR FILE");
    comity_error e = {0};
    comity_node *node = NULL;
    char *text = NULL, *out = NULL;
    size_t len = 0;
    int status = CLI_OK;
    if (comity_read_file(argv[3], COMITY_DSSE_MAX, &text, &len, &e) ||
        comity_node_open(argv[2], &node, &e) ||
        comity_node_succession_follow(node, text, len, &out, &e))
        status = cli_error("peer follow", &e);
    else
        printf("%s\n", out);
    comity_free(out);
    comity_free(text);
    comity_node_close(node);
    return cli_finish(status);
}

int cmd_peer(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "follow"))
        return follow(argc, argv);
    if (argc >= 2 && !strcmp(argv[1], "equivocation"))
        return equivocation(argc, argv);
    if (argc >= 2 && !strcmp(argv[1], "witnesses"))
        return witnesses(argc, argv);
    if (argc < 3)
        return cli_usage("peer", "want: peer add|list|remove DIR ...");
    const char *sub = argv[1], *dir = argv[2];
    const char *url = NULL, *log_vkey = NULL, *tls_pin = NULL;
    struct cli_list vkeys = {0}, recips = {0};
    int status = CLI_OK;
    for (int i = 3; i < argc && status == CLI_OK; i++) {
        if (!strcmp(argv[i], "--log-vkey") && i + 1 < argc) {
            log_vkey = argv[++i];
        } else if (!strcmp(argv[i], "--tls-pin") && i + 1 < argc) {
            tls_pin = argv[++i];
        } else if (!strcmp(argv[i], "--party") && i + 1 < argc) {
            /* VKEY,AGE1: base64 and bech32 hold no comma */
            char *v = argv[++i], *comma = strchr(v, ',');
            if (!comma || strchr(comma + 1, ','))
                status = cli_usage("peer", "--party wants VKEY,AGE1 (got %s)", v);
            else if (cli_list_add(&vkeys, v) || cli_list_add(&recips, comma + 1))
                status = CLI_FAIL;
            else
                *comma = '\0';
        } else if (argv[i][0] == '-') {
            status = cli_usage("peer", "unknown option %s", argv[i]);
        } else if (!url) {
            url = argv[i];
        } else {
            status = cli_usage("peer", "unexpected argument %s", argv[i]);
        }
    }
    if (status == CLI_OK && strcmp(sub, "add") && strcmp(sub, "list") && strcmp(sub, "remove"))
        status = cli_usage("peer", "unknown subcommand %s", sub);
    if (status == CLI_OK && !strcmp(sub, "add") && (!url || !log_vkey))
        status = cli_usage("peer", "add needs URL and --log-vkey");
    if (status == CLI_OK && !strcmp(sub, "remove") && !url)
        status = cli_usage("peer", "remove needs the peer's origin");
    if (status == CLI_OK && tls_pin && url && strncmp(url, "https://", 8))
        status = cli_usage("peer", "--tls-pin is for an https:// URL (got %s)", url);
    if (status == CLI_OK && strcmp(sub, "add") && (log_vkey || vkeys.n || tls_pin))
        status = cli_usage("peer", "--log-vkey, --party and --tls-pin are for add");
    comity_error e = {0};
    comity_node *node = NULL;
    if (status == CLI_OK && comity_node_open(dir, &node, &e))
        status = cli_error("peer", &e);
    char *out = NULL;
    size_t dropped = 0; /* records of a removed peer that waited for their refs */
    if (status == CLI_OK) {
        comity_err rc;
        if (!strcmp(sub, "add")) {
            /* the pin first, so that no pull of the peer goes without it;
             * dropped again if the peer is refused */
            rc = tls_pin ? comity_node_peer_tls_pin(node, log_vkey, tls_pin, &e) : COMITY_OK;
            bool pinned = tls_pin && !rc;
            if (!rc)
                rc = comity_node_peer_add(node, url, log_vkey, (const char *const *)vkeys.v,
                                          (const char *const *)recips.v, vkeys.n, &e);
            if (rc && pinned)
                (void)comity_node_peer_tls_pin(node, log_vkey, NULL, NULL);
        }
        else if (!strcmp(sub, "remove"))
            rc = comity_node_peer_remove(node, url, &dropped, &e);
        else
            rc = comity_node_peer_list(node, &out, &e);
        if (rc)
            status = cli_error("peer", &e);
        else if (!strcmp(sub, "list"))
            printf("%s\n", out);
        else if (!strcmp(sub, "add"))
            printf("peer %s pinned with %zu part%s homed at it%s\n", url, vkeys.n,
                   vkeys.n == 1 ? "y" : "ies", tls_pin ? ", its TLS key pinned" : "");
        else
            printf("peer %s removed: no more pulls from it, its login refused; %zu record%s "
                   "waiting for %s refs dropped\n", url, dropped, dropped == 1 ? "" : "s",
                   dropped == 1 ? "its" : "their");
    }
    comity_free(out);
    comity_node_close(node);
    cli_list_free(&vkeys);
    cli_list_free(&recips);
    return cli_finish(status);
}
