/*
 * cmd_alerts.c: `comity alerts [show | on EMAIL [--new] [--overdue] | off]`:
 * whether your node tells you by e-mail that something new awaits you or
 * that something you must answer fell overdue (GET, PUT, DELETE
 * /v1/alerts).  The node checks the address and keeps the choice; the mail
 * says only that something awaits and where, never what.
 */
#include <stdlib.h>
#include <string.h>

#include "client.h"

struct alerts {
    struct cli_client *cl;
    int on_new, on_overdue, json;
};

static int on_opt(void *ctx, int c, const char *arg)
{
    struct alerts *a = ctx;
    (void)arg;
    if (c == 'n')
        a->on_new = 1;
    else if (c == 'o')
        a->on_overdue = 1;
    else if (c == 'j')
        a->json = 1;
    else
        return cli_usage(a->cl->cmd, "unknown option");
    return CLI_OK;
}

static void show(json_t *v)
{
    const char *email = json_string_value(json_object_get(v, "email"));
    const char *party = json_string_value(json_object_get(v, "party"));
    if (email)
        printf("alerts for %s: on, to %s (new items: %s, overdue items: %s), at most one mail "
               "every %s\n",
               party ? party : "?", email,
               json_is_true(json_object_get(v, "new")) ? "yes" : "no",
               json_is_true(json_object_get(v, "overdue")) ? "yes" : "no",
               json_string_value(json_object_get(v, "interval")) ?
               json_string_value(json_object_get(v, "interval")) : "?");
    else
        printf("alerts for %s: off\n", party ? party : "?");
    if (!json_is_true(json_object_get(v, "relay")))
        printf("(this node sends no e-mail: its operator has set no smtp_url in node.conf)\n");
}

int cmd_alerts(int argc, char **argv)
{
    static const struct option opts[] = {{"new", no_argument, 0, 'n'},
                                         {"overdue", no_argument, 0, 'o'},
                                         {"json", no_argument, 0, 'j'},
                                         {0, 0, 0, 0}};
    struct cli_client cl;
    cli_client_init(&cl, "alerts");
    struct alerts a = {.cl = &cl};
    int st = cli_client_args(&cl, argc, argv, opts, on_opt, &a);
    const char *verb = !st && optind < argc ? argv[optind] : "show";
    int nargs = argc - optind;
    const char *email = NULL;
    if (!st && !strcmp(verb, "on") && nargs == 2)
        email = argv[optind + 1];
    else if (!st && !((!strcmp(verb, "show") || !strcmp(verb, "off")) && nargs <= 1))
        st = cli_usage("alerts", "want: show, on EMAIL [--new] [--overdue], or off");
    if (!st && (a.on_new || a.on_overdue) && !email)
        st = cli_usage("alerts", "--new and --overdue go with 'on EMAIL'");
    if (!st)
        st = cli_client_setup(&cl, CLI_NEED_URL | CLI_NEED_TOKEN);
    struct cli_resp r = {0};
    char *body = NULL;
    if (!st && email) {
        /* neither flag: both */
        json_t *b = json_pack("{s:s, s:b, s:b}", "email", email, "new",
                              a.on_new || !a.on_overdue, "overdue", a.on_overdue || !a.on_new);
        body = b ? json_dumps(b, JSON_COMPACT) : NULL;
        json_decref(b);
        st = body ? cli_client_http(&cl, "PUT", "/v1/alerts", body, strlen(body), &r) : CLI_FAIL;
    } else if (!st) {
        st = cli_client_http(&cl, strcmp(verb, "off") ? "GET" : "DELETE", "/v1/alerts", NULL, 0,
                             &r);
    }
    if (!st)
        st = cli_client_answer(&cl, &r);
    json_t *v = !st ? json_loadb(r.data ? r.data : "", r.len, 0, NULL) : NULL;
    if (!st && !v) {
        fprintf(stderr, "comity alerts: the answer is not JSON\n");
        st = CLI_FAIL;
    }
    if (!st && a.json) {
        char *s = json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        puts(s ? s : "");
        free(s);
    } else if (!st) {
        show(v);
    }
    json_decref(v);
    free(body);
    free(r.data);
    cli_client_free(&cl);
    return cli_finish(st);
}
