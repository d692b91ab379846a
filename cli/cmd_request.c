/*
 * cmd_request.c: `comity request`: ask a state for information, assistance
 * or mitigation under norm 13(c) or 13(h) (a signed record of type
 * request).  As `comity notify`: checked against the schema before
 * signing, sealed for amber and red, posted; prints "<id> log_index <n>".
 */
#include <stdlib.h>
#include <string.h>

#include "client.h"

struct request {
    struct cli_client *cl;
    struct cli_message_flags f;
    const char *kind, *norm, *asked;
};

static int on_opt(void *ctx, int c, const char *arg)
{
    struct request *q = ctx;
    if (cli_message_flag(&q->f, c, arg))
        return CLI_OK;
    switch (c) {
    case 'k': q->kind = arg; break;
    case 'n': q->norm = arg; break;
    case 'a': q->asked = arg; break;
    default: return cli_usage(q->cl->cmd, "unknown option");
    }
    return CLI_OK;
}

int cmd_request(int argc, char **argv)
{
    static const struct option opts[] = {
        CLI_MESSAGE_OPTIONS,
        {"kind", required_argument, 0, 'k'},
        {"norm", required_argument, 0, 'n'},
        {"asked", required_argument, 0, 'a'},
        {0, 0, 0, 0}};
    struct cli_client cl;
    cli_client_init(&cl, "request");
    struct request q = {.cl = &cl};
    json_t *body = json_object();
    int st = cli_client_args(&cl, argc, argv, opts, on_opt, &q);
    if (!st && optind != argc)
        st = cli_usage("request", "unexpected argument '%s'", argv[optind]);
    if (!st)
        st = cli_message_body(&cl, &q.f, body);
    if (!st) {
        cli_json_str(body, "kind", q.kind);
        cli_json_str(body, "norm", q.norm);
        cli_json_str(body, "asked", q.asked);
        struct cli_msg m = {.type = "request", .tlp = q.f.tlp,
                            .to = (const char *const *)q.f.to.v, .nto = q.f.to.n};
        st = cli_client_send(&cl, &m, body, NULL);
        body = NULL;
    }
    json_decref(body);
    cli_list_free(&q.f.to);
    cli_client_free(&cl);
    return cli_finish(st);
}
