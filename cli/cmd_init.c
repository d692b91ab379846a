/*
 * cmd_init.c: `comity init DIR --origin NAME [--store LOCATION]`: create a
 * node (its store SQLite in DIR, or the PostgreSQL database named).
 *
 * A thin client of comity_node_init: it prints what an operator needs to
 * keep (the operator token, shown only now) and to hand out (the TLS
 * certificate fingerprint, the node's verifier key).
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

int cmd_init(int argc, char **argv)
{
    comity_node_init_opts o = {0};
    const char *dir = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--origin") && i + 1 < argc)
            o.origin = argv[++i];
        else if (!strcmp(a, "--operator") && i + 1 < argc)
            o.operator_name = argv[++i];
        else if (!strcmp(a, "--store") && i + 1 < argc)
            o.store = argv[++i];
        else if (!strcmp(a, "--no-tls-cert"))
            o.no_tls_cert = 1;
        else if (a[0] == '-')
            return cli_usage("init", "unknown option %s", a);
        else if (!dir)
            dir = a;
        else
            return cli_usage("init", "one directory only");
    }
    if (!dir)
        return cli_usage("init", "no directory given");
    if (!o.origin)
        return cli_usage("init", "--origin is required (e.g. --origin comity.pk.example)");
    comity_node_created c;
    comity_error e = {0};
    if (comity_node_init(dir, &o, &c, &e))
        return cli_error("init", &e);
    printf("node created in %s\n", dir);
    printf("origin: %s\n", o.origin);
    printf("node key (signs its log): %s\n", c.node_vkey);
    printf("witness key (cosigns peers' logs): %s\n", c.witness_vkey);
    if (c.cert_sha256[0])
        printf("TLS certificate SHA-256 fingerprint: %s\n", c.cert_sha256);
    if (c.tls_pin[0])
        printf("TLS public key pin (for peers' peer add --tls-pin): %s\n", c.tls_pin);
    printf("operator: %s\n", o.operator_name ? o.operator_name : "operator");
    printf("operator token (shown once, keep it safe): %s\n", c.operator_token);
    comity_node_created_free(&c);
    return cli_finish(CLI_OK);
}
