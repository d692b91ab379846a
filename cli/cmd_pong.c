/*
 * cmd_pong.c: `comity pong ID... | --all [--note TEXT]`: answer pings (a
 * signed record of type pong per ping).  --all answers every ping that
 * awaits you in your inbox (GET /v1/framework/inbox).
 */
#include <stdlib.h>
#include <string.h>

#include "client.h"

struct pong {
    struct cli_client *cl;
    const char *note;
    int all;
};

static int on_opt(void *ctx, int c, const char *arg)
{
    struct pong *p = ctx;
    if (c == 'n')
        p->note = arg;
    else if (c == 'a')
        p->all = 1;
    else
        return cli_usage(p->cl->cmd, "unknown option");
    return CLI_OK;
}

static int pong_one(struct cli_client *cl, const struct pong *p, const char *id)
{
    json_t *body = json_object();
    cli_json_str(body, "note", p->note);
    return cli_client_answer_msg(cl, "pong", id, NULL, NULL, body);
}

/* Answers every ping in the inbox that expects a pong from us. */
static int pong_all(struct cli_client *cl, const struct pong *p)
{
    json_t *inbox = NULL;
    int st = cli_client_get_json(cl, "/v1/framework/inbox", &inbox);
    if (st)
        return st;
    json_t *items = json_object_get(inbox, "awaiting_me"), *it;
    size_t i, n = 0;
    json_array_foreach(items, i, it) {
        const char *type = json_string_value(json_object_get(it, "type"));
        const char *expects = json_string_value(json_object_get(it, "expects"));
        const char *id = json_string_value(json_object_get(it, "id"));
        if (!type || !expects || !id || strcmp(type, "ping") || strcmp(expects, "pong"))
            continue;
        if ((st = pong_one(cl, p, id)))
            break;
        n++;
    }
    json_decref(inbox);
    if (!st && n == 0)
        fprintf(stderr, "comity pong: no ping awaits an answer\n");
    return st;
}

int cmd_pong(int argc, char **argv)
{
    static const struct option opts[] = {
        {"note", required_argument, 0, 'n'}, {"all", no_argument, 0, 'a'}, {0, 0, 0, 0}};
    struct cli_client cl;
    cli_client_init(&cl, "pong");
    struct pong p = {.cl = &cl};
    int st = cli_client_args(&cl, argc, argv, opts, on_opt, &p);
    if (!st && (optind == argc) == !p.all)
        st = cli_usage("pong", "give the ping ids to answer, or --all");
    if (!st)
        st = cli_client_setup(&cl, CLI_NEED_URL | CLI_NEED_TOKEN | CLI_NEED_KEY);
    if (!st && p.all)
        st = pong_all(&cl, &p);
    for (int i = optind; !st && !p.all && i < argc; i++)
        st = pong_one(&cl, &p, argv[i]);
    cli_client_free(&cl);
    return cli_finish(st);
}
