/*
 * cmd_directory.c: `comity directory list|show|set|withdraw`: the points of
 * contact directory.
 *
 *   list [--state S] [--at T] [--json]   the current contact of every
 *                                        (state, kind), one a line
 *   show STATE [--at T] [--json]         a state's contacts in full, with
 *                                        the history of each
 *   set --kind K --org ORG --channel TYPE:VALUE... --tz ZONE --lang L...
 *       [--party P] [--name N] [--title T] [--valid-from T]
 *       [--valid-until T] [--state S] [--tlp clear|green]
 *                                        nominate (or replace) your state's
 *                                        contact of kind K (a poc record)
 *   withdraw --kind K --reason TEXT      withdraw it
 *
 * Reading asks GET /v1/directory; writing signs and posts a poc record,
 * checked against the schema first.  Only an office of a state may set
 * its contacts: the node refuses others.
 */
#include <stdlib.h>
#include <string.h>

#include "client.h"

struct dir {
    struct cli_client *cl;
    const char *kind, *org, *tz, *party, *name, *title, *from, *until, *state, *tlp, *reason,
        *at;
    struct cli_list channels, langs;
    int json;
};

static int on_opt(void *ctx, int c, const char *arg)
{
    struct dir *d = ctx;
    switch (c) {
    case 'k': d->kind = arg; break;
    case 'o': d->org = arg; break;
    case 'c': cli_list_add(&d->channels, (char *)arg); break;
    case 'z': d->tz = arg; break;
    case 'L': cli_list_add(&d->langs, (char *)arg); break;
    case 'p': d->party = arg; break;
    case 'n': d->name = arg; break;
    case 't': d->title = arg; break;
    case 'f': d->from = arg; break;
    case 'u': d->until = arg; break;
    case 's': d->state = arg; break;
    case 'l': d->tlp = arg; break;
    case 'r': d->reason = arg; break;
    case 'a': d->at = arg; break;
    case 'j': d->json = 1; break;
    default: return cli_usage(d->cl->cmd, "unknown option");
    }
    return CLI_OK;
}

static int set(struct cli_client *cl, struct dir *d, bool withdraw)
{
    json_t *body = json_object();
    cli_json_str(body, "state", d->state);
    cli_json_str(body, "kind", d->kind);
    int st = CLI_OK;
    if (withdraw) {
        if (d->org || d->channels.n || d->tz || d->langs.n || d->from || d->until || d->party) {
            json_decref(body);
            return cli_usage(cl->cmd, "withdraw takes --kind, --reason and --state only");
        }
        json_object_set_new(body, "withdrawn", json_true());
        cli_json_str(body, "reason", d->reason);
    } else {
        cli_json_str(body, "party", d->party);
        cli_json_str(body, "organisation", d->org);
        cli_json_str(body, "name", d->name);
        cli_json_str(body, "title", d->title);
        json_t *ch = json_array();
        for (size_t i = 0; i < d->channels.n; i++) {
            const char *v = d->channels.v[i], *colon = strchr(v, ':');
            if (!colon || colon == v) {
                json_decref(ch);
                json_decref(body);
                return cli_usage(cl->cmd, "--channel wants TYPE:VALUE (email:soc@cert.example, "
                                          "phone:+92 51 111 222 333, comity:pk.pkcert), "
                                          "not '%s'", v);
            }
            json_array_append_new(ch, json_pack("{s:s%, s:s}", "type", v, (size_t)(colon - v),
                                                "value", colon + 1));
        }
        if (d->channels.n)
            json_object_set_new(body, "channels", ch);
        else
            json_decref(ch);
        cli_json_str(body, "time_zone", d->tz);
        if (d->langs.n) {
            json_t *l = json_array();
            for (size_t i = 0; i < d->langs.n; i++)
                json_array_append_new(l, json_string(d->langs.v[i]));
            json_object_set_new(body, "languages", l);
        }
        st = cli_json_time(cl, body, "valid_from", "--valid-from", d->from ? d->from : "now");
        if (!st)
            st = cli_json_time(cl, body, "valid_until", "--valid-until", d->until);
        if (!st && d->reason)
            cli_json_str(body, "reason", d->reason);
    }
    if (st) {
        json_decref(body);
        return st;
    }
    struct cli_msg m = {.type = "poc", .tlp = d->tlp};
    return cli_client_send(cl, &m, body, NULL);
}

static const char *str(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

/* The first channel, or the comity party, as one short contact string. */
static void contact(json_t *body, char *out, size_t cap)
{
    json_t *ch = json_array_get(json_object_get(body, "channels"), 0);
    const char *party = json_string_value(json_object_get(body, "party"));
    snprintf(out, cap, "%s%s%s%s%s", party ? party : "", party && ch ? " " : "",
             ch ? str(ch, "type") : "", ch ? ":" : "", ch ? str(ch, "value") : "");
}

static void list(json_t *entries)
{
    printf("%-6s %-18s %-32s %-40s %s\n", "STATE", "KIND", "ORGANISATION", "CONTACT",
           "VALID UNTIL");
    json_t *e;
    size_t i;
    json_array_foreach(entries, i, e) {
        json_t *cur = json_object_get(e, "current");
        json_t *b = json_object_get(cur, "body");
        char c[256];
        if (!json_is_object(b)) {
            printf("%-6s %-18s %s\n", str(e, "state"), str(e, "kind"),
                   "(none valid: withdrawn or expired)");
            continue;
        }
        contact(b, c, sizeof c);
        printf("%-6s %-18s %-32.32s %-40.40s %s\n", str(e, "state"), str(e, "kind"),
               str(b, "organisation"), c, json_object_get(b, "valid_until") ?
               str(b, "valid_until") : "-");
    }
}

static void show(json_t *entries)
{
    json_t *e;
    size_t i;
    json_array_foreach(entries, i, e) {
        json_t *cur = json_object_get(e, "current");
        json_t *b = json_object_get(cur, "body");
        printf("%s %s\n", str(e, "state"), str(e, "kind"));
        if (json_is_object(b)) {
            printf("  organisation  %s\n", str(b, "organisation"));
            if (json_object_get(b, "name"))
                printf("  name          %s%s%s\n", str(b, "name"),
                       json_object_get(b, "title") ? ", " : "", str(b, "title"));
            if (json_object_get(b, "party"))
                printf("  party         %s\n", str(b, "party"));
            json_t *ch;
            size_t k;
            json_array_foreach(json_object_get(b, "channels"), k, ch)
                printf("  %-13s %s\n", str(ch, "type"), str(ch, "value"));
            printf("  time zone     %s\n  languages    ", str(b, "time_zone"));
            json_t *l;
            json_array_foreach(json_object_get(b, "languages"), k, l)
                printf(" %s", json_string_value(l) ? json_string_value(l) : "");
            printf("\n  valid         from %s until %s\n", str(b, "valid_from"),
                   json_object_get(b, "valid_until") ? str(b, "valid_until") : "withdrawn");
            printf("  record        %s, signed by %s at %s\n", str(cur, "id"),
                   str(cur, "author"), str(cur, "created"));
        } else {
            printf("  (no current contact: withdrawn or none valid now)\n");
        }
        json_t *h;
        size_t k;
        printf("  history:\n");
        json_array_foreach(json_object_get(e, "history"), k, h) {
            json_t *hb = json_object_get(h, "body");
            bool w = json_is_true(json_object_get(hb, "withdrawn"));
            printf("    %s  %-12s %s  %s%s%s\n", str(h, "created"), str(h, "author"),
                   str(h, "id"), w ? "withdrawn" : str(hb, "organisation"),
                   w && json_object_get(hb, "reason") ? ": " : "", w ? str(hb, "reason") : "");
        }
    }
}

static int read_dir(struct cli_client *cl, struct dir *d, const char *state, bool detail)
{
    char *q = NULL;
    char at[32];
    int st = cli_client_setup(cl, CLI_NEED_URL | CLI_NEED_TOKEN);
    if (!st && state)
        st = cli_query_add(&q, "state", state);
    if (!st && d->at) {
        comity_error e = {0};
        if (cli_time_arg(d->at, at, &e))
            st = cli_usage(cl->cmd, "--at wants a time (RFC 3339, now, +DURATION): %s", e.msg);
        else
            st = cli_query_add(&q, "at", at);
    }
    char path[512];
    snprintf(path, sizeof path, "/v1/directory%s%s", q ? "?" : "", q ? q : "");
    free(q);
    json_t *v = NULL;
    if (!st)
        st = cli_client_get_json(cl, path, &v);
    if (st)
        return st;
    json_t *entries = json_object_get(v, "entries");
    if (d->json) {
        char *s = json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        puts(s ? s : "");
        free(s);
    } else if (state && json_array_size(entries) == 0) {
        printf("no contacts for state %s\n", state);
    } else if (detail) {
        show(entries);
    } else {
        list(entries);
    }
    json_decref(v);
    return CLI_OK;
}

int cmd_directory(int argc, char **argv)
{
    static const struct option opts[] = {
        {"kind", required_argument, 0, 'k'},        {"org", required_argument, 0, 'o'},
        {"organisation", required_argument, 0, 'o'}, {"channel", required_argument, 0, 'c'},
        {"tz", required_argument, 0, 'z'},          {"lang", required_argument, 0, 'L'},
        {"party", required_argument, 0, 'p'},       {"name", required_argument, 0, 'n'},
        {"title", required_argument, 0, 't'},       {"valid-from", required_argument, 0, 'f'},
        {"valid-until", required_argument, 0, 'u'}, {"state", required_argument, 0, 's'},
        {"tlp", required_argument, 0, 'l'},         {"reason", required_argument, 0, 'r'},
        {"at", required_argument, 0, 'a'},          {"json", no_argument, 0, 'j'},
        {0, 0, 0, 0}};
    if (argc < 2)
        return cli_usage("directory", "want a subcommand: list, show STATE, set, withdraw");
    const char *sub = argv[1];
    struct cli_client cl;
    cli_client_init(&cl, "directory");
    struct dir d = {.cl = &cl};
    int st = cli_client_args(&cl, argc - 1, argv + 1, opts, on_opt, &d);
    int npos = argc - 1 - optind;
    char **pos = argv + 1 + optind;
    if (st) {
        /* already said */
    } else if (!strcmp(sub, "list")) {
        st = npos ? cli_usage("directory", "list takes options only")
                  : read_dir(&cl, &d, d.state, false);
    } else if (!strcmp(sub, "show")) {
        st = npos != 1 ? cli_usage("directory", "show takes one state code: directory show pk")
                       : read_dir(&cl, &d, pos[0], true);
    } else if (!strcmp(sub, "set") || !strcmp(sub, "withdraw")) {
        if (npos)
            st = cli_usage("directory", "unexpected argument '%s'", pos[0]);
        else if (!d.kind)
            st = cli_usage("directory", "--kind is required (diplomatic, technical, le-24x7, "
                                        "central-authority, ci-authority)");
        else if (!(st = cli_client_setup(&cl, CLI_NEED_URL | CLI_NEED_TOKEN | CLI_NEED_KEY)))
            st = set(&cl, &d, !strcmp(sub, "withdraw"));
    } else {
        st = cli_usage("directory", "no subcommand '%s' (list, show, set, withdraw)", sub);
    }
    cli_list_free(&d.channels);
    cli_list_free(&d.langs);
    cli_client_free(&cl);
    return cli_finish(st);
}
