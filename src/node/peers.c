/*
 * peers.c: the public API of the operator's pinned peers (comity.h,
 * "Federation"): thin wrappers over src/sync/peers.c and roster.c, which
 * hold the rules, on the node's store and directory.  No HTTP here.
 */
#include <stdio.h>
#include <string.h>

#include "node/node.h"
#include "tlog/tlog.h"

comity_err comity_node_peer_add(comity_node *node, const char *url, const char *log_vkey,
                                const char *const *party_vkeys, const char *const *recipients,
                                size_t nparties, comity_error *err)
{
    return cy_sync_peer_add(node->store, node->origin, url, log_vkey, party_vkeys, recipients,
                            nparties, err);
}

comity_err comity_node_peer_list(comity_node *node, char **json, comity_error *err)
{
    comity_err rc = cy_sync_peer_list_dir(node->store, node->dir, json, err);
    return rc ? rc : cy_succession_annotate(node->dir, json, err);
}

/* The pins file is checked before the store is touched: a malformed
 * DIR/peers.pins refuses the removal with nothing changed, rather than
 * forgetting the peer and then failing to forget its pin. */
comity_err comity_node_peer_remove(comity_node *node, const char *origin,
                                   size_t *waiting_dropped, comity_error *err)
{
    if (waiting_dropped)
        *waiting_dropped = 0;
    comity_err rc = cy_sync_pins_check(node->dir, err);
    if (!rc)
        rc = cy_sync_peer_remove(node->store, origin, err);
    if (!rc)
        rc = cy_sync_pin_set(node->dir, origin, NULL, err);
    /* its sealed files' jobs, cursor and partials (src/sync/files.c) */
    if (!rc)
        rc = cy_sync_files_forget(node->dir, origin, err);
    /* its records waiting for their refs (src/sync/waiting.c): a pull under
     * way that parks one after this has its worker drop it */
    return rc ? rc : cy_waiting_forget(node->dir, origin, waiting_dropped, err);
}

comity_err comity_node_peer_tls_pin(comity_node *node, const char *log_vkey, const char *pin,
                                    comity_error *err)
{
    comity_vkey *vk = NULL;
    comity_err rc = comity_vkey_parse(log_vkey, strlen(log_vkey), &vk, err);
    if (rc)
        return cy_wrap(err, "peer: --log-vkey");
    rc = cy_sync_pin_set(node->dir, comity_vkey_name(vk), pin, err);
    comity_vkey_free(vk);
    return rc;
}

comity_err comity_node_roster_import(comity_node *node, const char *envelope, size_t len,
                                     char **id, comity_error *err)
{
    return cy_roster_import(node->dir, envelope, len, id, err);
}

comity_err comity_node_roster_policy(comity_node *node, const char *text, size_t len,
                                     comity_error *err)
{
    return cy_roster_set_policy(node->dir, text, len, err);
}

/* cy_log_cosigned's callback where no row is asked (max 0): its *since alone. */
static int no_row(void *ctx, uint64_t size, const char *note, size_t len)
{
    (void)ctx;
    (void)size;
    (void)note;
    (void)len;
    return 1;
}

/* The log the roster reads the W of a record logged here from
 * (src/sync/roster.c, stored_w): the serving node's own, its writer; else
 * (the CLI, beside a serving node that is the log's one writer) DIR/log
 * opened COMITY_LOG_READ into *mine, which the caller closes
 * (comity_log_close).  NULL when none opens, or its log.db cannot be read
 * (cy_log_cosigned: none kept): such a W is untold then (not unknown, which
 * the writer might know), its pair weighed by `created` alone. */
static comity_log *roster_log(comity_node *node, comity_log **mine)
{
    *mine = NULL;
    if (node->log)
        return node->log;
    char lp[4096];
    uint64_t since = UINT64_MAX;
    snprintf(lp, sizeof lp, "%s/log", node->dir);
    if (comity_log_open(lp, COMITY_LOG_READ, NULL, mine, NULL) != COMITY_OK)
        *mine = NULL;
    else if (cy_log_cosigned(*mine, 0, 0, 0, 0, &since, no_row, NULL, NULL) != COMITY_OK ||
             since == UINT64_MAX) {
        comity_log_close(*mine);
        *mine = NULL;
    }
    return *mine;
}

comity_err comity_node_roster_show(comity_node *node, char **json, comity_error *err)
{
    comity_log *mine;
    comity_err rc = cy_roster_show(node->store, node->dir, roster_log(node, &mine), json, err);
    comity_log_close(mine);
    return rc;
}

comity_err comity_node_party_add_record(comity_node *node, const char *envelope, size_t len,
                                        char **name, char **token, comity_error *err)
{
    char *vkey = NULL, *recipient = NULL;
    *name = *token = NULL;
    comity_log *mine, *log = roster_log(node, &mine);
    comity_err rc = cy_roster_party_local(node->store, node->dir, log,
                                          comity_nkey_vkey(node->key), envelope, len, name,
                                          &vkey, &recipient, err);
    size_t nusers = 0; /* its users' keys, beside its own (first: no login is handed
                        * out and then lost to a failure here) */
    if (!rc)
        rc = cy_roster_users_apply(node->store, node->dir, log, *name, &nusers, err);
    comity_log_close(mine);
    if (!rc)
        rc = comity_node_party_add(node, *name, vkey, recipient, token, err);
    cy_free(vkey);
    cy_free(recipient);
    if (rc) {
        cy_free(*name);
        *name = NULL;
    }
    return rc;
}

comity_err comity_node_roster_apply(comity_node *node, char **json, comity_error *err)
{
    comity_log *mine;
    comity_err rc = cy_roster_apply(node->store, node->dir, roster_log(node, &mine),
                                    comity_nkey_vkey(node->key), node->origin, json, err);
    comity_log_close(mine);
    /* a revocation applied may take the effect of records folded: the
     * serving node's framework is folded again (live.h) */
    if (!rc)
        cy_fw_live_keys_changed(node->fw);
    return rc;
}

comity_err comity_node_witness_policy(comity_node *node, const char *text, size_t len,
                                      comity_error *err)
{
    return cy_witness_policy_set(node->dir, text, len, err);
}

comity_err comity_node_succession_follow(comity_node *node, const char *envelope, size_t len,
                                         char **json, comity_error *err)
{
    return cy_succession_follow(node->store, node->dir, node->origin, envelope, len, json, err);
}
