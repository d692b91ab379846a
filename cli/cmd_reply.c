/*
 * cmd_reply.c: `comity reply ID --answered TEXT | --declined REASON`:
 * answer a notification or request sent to you or your state (a signed
 * record of type reply: outcome answered with its text, or declined with
 * the reasons).  --answered-file FILE reads a long answer from a file.
 */
#include <stdlib.h>
#include <string.h>

#include "client.h"

struct reply {
    struct cli_client *cl;
    const char *answered, *answered_file, *declined, *tlp, *to;
};

static int on_opt(void *ctx, int c, const char *arg)
{
    struct reply *r = ctx;
    switch (c) {
    case 'a': r->answered = arg; break;
    case 'f': r->answered_file = arg; break;
    case 'd': r->declined = arg; break;
    case 'l': r->tlp = arg; break;
    case 'T': r->to = arg; break;
    default: return cli_usage(r->cl->cmd, "unknown option");
    }
    return CLI_OK;
}

int cmd_reply(int argc, char **argv)
{
    static const struct option opts[] = {
        {"answered", required_argument, 0, 'a'}, {"answered-file", required_argument, 0, 'f'},
        {"declined", required_argument, 0, 'd'}, {"tlp", required_argument, 0, 'l'},
        {"to", required_argument, 0, 'T'},       {0, 0, 0, 0}};
    struct cli_client cl;
    cli_client_init(&cl, "reply");
    struct reply r = {.cl = &cl};
    char *text = NULL;
    int st = cli_client_args(&cl, argc, argv, opts, on_opt, &r);
    if (!st && argc - optind != 1)
        st = cli_usage("reply", "want one message id: comity reply ID --answered TEXT");
    if (!st && !!(r.answered || r.answered_file) + !!r.declined != 1)
        st = cli_usage("reply", "give one of --answered TEXT, --answered-file FILE or "
                                "--declined REASON");
    if (!st && r.answered && r.answered_file)
        st = cli_usage("reply", "--answered or --answered-file, not both");
    if (!st)
        st = cli_client_setup(&cl, CLI_NEED_URL | CLI_NEED_TOKEN | CLI_NEED_KEY);
    if (!st && r.answered_file) {
        comity_error e = {0};
        size_t len;
        if (comity_read_file(r.answered_file, COMITY_RECORD_MAX, &text, &len, &e))
            st = cli_error("reply: --answered-file", &e);
        else
            r.answered = text;
    }
    if (!st) {
        json_t *body = json_object();
        cli_json_str(body, "outcome", r.declined ? "declined" : "answered");
        cli_json_str(body, "text", r.answered);
        cli_json_str(body, "reasons", r.declined);
        st = cli_client_answer_msg(&cl, "reply", argv[optind], r.tlp, r.to, body);
    }
    free(text);
    cli_client_free(&cl);
    return cli_finish(st);
}
