/*
 * cmd_ping.c: `comity ping`: communication checks.  A ping is a signed
 * record to one party or state; the answer is a signed pong (`comity pong
 * ID`), and the node measures how long answers take (`comity stats
 * pings`).
 *
 *   --to PARTY|STATE ...   ping these (one ping each)
 *   --directory            ping every current contact of the directory
 *                          (its `party`, else its state), optionally only
 *                          --kind K and --state S...; your own state's
 *                          contacts are skipped (a party does not ping
 *                          its own state)
 *   --unannounced          the round was not announced beforehand
 *   --round NAME           groups the pings of one round
 *
 * Prints one line per ping: "<id> to <party> [kind]".
 */
#include <stdlib.h>
#include <string.h>

#include "client.h"

struct ping {
    struct cli_client *cl;
    struct cli_list to, states;
    const char *kind, *round;
    int directory, unannounced;
};

static int on_opt(void *ctx, int c, const char *arg)
{
    struct ping *p = ctx;
    switch (c) {
    case 'T': cli_list_add(&p->to, (char *)arg); break;
    case 's': cli_list_add(&p->states, (char *)arg); break;
    case 'k': p->kind = arg; break;
    case 'r': p->round = arg; break;
    case 'd': p->directory = 1; break;
    case 'u': p->unannounced = 1; break;
    default: return cli_usage(p->cl->cmd, "unknown option");
    }
    return CLI_OK;
}

static int ping_one(struct cli_client *cl, const struct ping *p, const char *to,
                    const char *kind)
{
    json_t *body = json_object();
    json_object_set_new(body, "announced", json_boolean(!p->unannounced));
    cli_json_str(body, "kind", kind);
    cli_json_str(body, "round", p->round);
    const char *tov[1] = {to};
    struct cli_msg m = {.type = "ping", .to = tov, .nto = 1, .quiet = 1};
    char *id = NULL;
    int st = cli_client_send(cl, &m, body, &id);
    if (!st)
        printf("%s to %s%s%s\n", id, to, kind ? " " : "", kind ? kind : "");
    free(id);
    return st;
}

static bool listed(const struct cli_list *l, const char *s)
{
    for (size_t i = 0; i < l->n; i++)
        if (!strcmp(l->v[i], s))
            return true;
    return false;
}

/* Pings every current contact of the directory (filtered). */
static int ping_directory(struct cli_client *cl, const struct ping *p)
{
    const char *me = cli_client_party(cl);
    if (!me)
        return CLI_USAGE;
    size_t mystate = strcspn(me, ".");
    json_t *dir = NULL;
    int st = cli_client_get_json(cl, "/v1/directory", &dir);
    if (st)
        return st;
    json_t *entries = json_object_get(dir, "entries"), *e;
    size_t i, sent = 0;
    int worst = CLI_OK;
    json_array_foreach(entries, i, e) {
        const char *state = json_string_value(json_object_get(e, "state"));
        const char *kind = json_string_value(json_object_get(e, "kind"));
        json_t *cur = json_object_get(json_object_get(e, "current"), "body");
        if (!state || !kind || !json_is_object(cur))
            continue;
        if ((p->kind && strcmp(p->kind, kind)) || (p->states.n && !listed(&p->states, state)))
            continue;
        if (strlen(state) == mystate && !strncmp(state, me, mystate))
            continue;
        const char *party = json_string_value(json_object_get(cur, "party"));
        if ((st = ping_one(cl, p, party ? party : state, kind)))
            worst = st;
        else
            sent++;
    }
    json_decref(dir);
    fprintf(stderr, "comity ping: %zu ping(s) sent from the directory\n", sent);
    if (!sent && !worst)
        fprintf(stderr, "comity ping: no current contact matched\n");
    return worst;
}

int cmd_ping(int argc, char **argv)
{
    static const struct option opts[] = {
        {"to", required_argument, 0, 'T'},    {"directory", no_argument, 0, 'd'},
        {"kind", required_argument, 0, 'k'},  {"state", required_argument, 0, 's'},
        {"round", required_argument, 0, 'r'}, {"unannounced", no_argument, 0, 'u'},
        {0, 0, 0, 0}};
    struct cli_client cl;
    cli_client_init(&cl, "ping");
    struct ping p = {.cl = &cl};
    int st = cli_client_args(&cl, argc, argv, opts, on_opt, &p);
    if (!st && optind != argc)
        st = cli_usage("ping", "unexpected argument '%s' (to answer a ping: comity pong ID)",
                       argv[optind]);
    if (!st && !!p.to.n + p.directory != 1)
        st = cli_usage("ping", "give --to PARTY... or --directory");
    if (!st && p.states.n && !p.directory)
        st = cli_usage("ping", "--state goes with --directory");
    if (!st)
        st = cli_client_setup(&cl, CLI_NEED_URL | CLI_NEED_TOKEN | CLI_NEED_KEY);
    if (!st && p.directory) {
        st = ping_directory(&cl, &p);
    } else {
        for (size_t i = 0; !st && i < p.to.n; i++)
            st = ping_one(&cl, &p, p.to.v[i], p.kind);
    }
    cli_list_free(&p.to);
    cli_list_free(&p.states);
    cli_client_free(&cl);
    return cli_finish(st);
}
