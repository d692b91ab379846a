/*
 * cmd_notify.c: `comity notify`: send an incident notification to one or
 * more states or parties (a signed record of type notification).
 *
 * Builds the body from flags, checks it against the framework schema
 * before signing (a mistake names the field), signs with the party's key,
 * seals it for amber and red, posts it and prints "<id> log_index <n>".
 */
#include <stdlib.h>
#include <string.h>

#include "client.h"

struct notify {
    struct cli_client *cl;
    struct cli_message_flags f;
    const char *summary, *norm, *action;
};

static int on_opt(void *ctx, int c, const char *arg)
{
    struct notify *n = ctx;
    if (cli_message_flag(&n->f, c, arg))
        return CLI_OK;
    switch (c) {
    case 'm': n->summary = arg; break;
    case 'n': n->norm = arg; break;
    case 'a': n->action = arg; break;
    default: return cli_usage(n->cl->cmd, "unknown option");
    }
    return CLI_OK;
}

int cmd_notify(int argc, char **argv)
{
    static const struct option opts[] = {
        CLI_MESSAGE_OPTIONS,
        {"summary", required_argument, 0, 'm'},
        {"norm", required_argument, 0, 'n'},
        {"action", required_argument, 0, 'a'},
        {0, 0, 0, 0}};
    struct cli_client cl;
    cli_client_init(&cl, "notify");
    struct notify n = {.cl = &cl};
    json_t *body = json_object();
    int st = cli_client_args(&cl, argc, argv, opts, on_opt, &n);
    if (!st && optind != argc)
        st = cli_usage("notify", "unexpected argument '%s'", argv[optind]);
    if (!st)
        st = cli_message_body(&cl, &n.f, body);
    if (!st) {
        cli_json_str(body, "summary", n.summary);
        cli_json_str(body, "norm", n.norm);
        cli_json_str(body, "requested_action", n.action);
        struct cli_msg m = {.type = "notification", .tlp = n.f.tlp,
                            .to = (const char *const *)n.f.to.v, .nto = n.f.to.n};
        st = cli_client_send(&cl, &m, body, NULL);
        body = NULL;
    }
    json_decref(body);
    cli_list_free(&n.f.to);
    cli_client_free(&cl);
    return cli_finish(st);
}
