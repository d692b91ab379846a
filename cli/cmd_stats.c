/*
 * cmd_stats.c: `comity stats pings`: how fast parties answer pings.
 *
 *   --from T --to T     the period (pings created in [from, to); times are
 *                       RFC 3339, now, +DURATION or -DURATION from now;
 *                       default the last 30 days, the node's clock)
 *   --party P ...       only these recipients (parties, or states: all
 *   --state S ...         their offices; a region is its list of states)
 *   --kind K            only this contact kind
 *   --json              the node's answer as is
 *
 * Without filters: one row per (recipient, kind).  With filters: one line
 * of totals over the selection.  Asks GET /v1/framework/pings.
 */
#include <stdlib.h>
#include <string.h>

#include "client.h"

struct stats {
    struct cli_client *cl;
    char *q;
    int json, filtered, bad;
};

static int on_opt(void *ctx, int c, const char *arg)
{
    struct stats *s = ctx;
    char t[32];
    switch (c) {
    case 'f':
    case 't':
    {
        comity_error e = {0};
        if (cli_time_arg(arg, t, &e))
            return cli_usage(s->cl->cmd, "--%s wants a time: RFC 3339, now, +DURATION or "
                                         "-DURATION (-7d): %s", c == 'f' ? "from" : "to", e.msg);
    }
        return cli_query_add(&s->q, c == 'f' ? "from" : "to", t);
    case 'p': s->filtered = 1; return cli_query_add(&s->q, "party", arg);
    case 's': s->filtered = 1; return cli_query_add(&s->q, "state", arg);
    case 'k': s->filtered = 1; return cli_query_add(&s->q, "kind", arg);
    case 'j': s->json = 1; return CLI_OK;
    default: return cli_usage(s->cl->cmd, "unknown option");
    }
}

static void ms(char out[32], json_t *v)
{
    if (json_is_integer(v))
        cli_duration_format(out, json_integer_value(v));
    else
        snprintf(out, 32, "-");
}

static void row(json_t *r, const char *party, const char *kind)
{
    char p50[32], p90[32];
    ms(p50, json_object_get(r, "p50_ms"));
    ms(p90, json_object_get(r, "p90_ms"));
    printf("%-18s %-18s %6lld %9lld %9s %9s %10.0f%%\n", party, kind,
           (long long)json_integer_value(json_object_get(r, "count")),
           (long long)json_integer_value(json_object_get(r, "answered")), p50, p90,
           100.0 * json_number_value(json_object_get(r, "unanswered")));
}

int cmd_stats(int argc, char **argv)
{
    static const struct option opts[] = {
        {"from", required_argument, 0, 'f'},  {"to", required_argument, 0, 't'},
        {"party", required_argument, 0, 'p'}, {"state", required_argument, 0, 's'},
        {"kind", required_argument, 0, 'k'},  {"json", no_argument, 0, 'j'},
        {0, 0, 0, 0}};
    if (argc < 2 || strcmp(argv[1], "pings"))
        return cli_usage("stats", "want: comity stats pings [--from T] [--to T] [--party P] "
                                  "[--state S] [--kind K] [--json]");
    struct cli_client cl;
    cli_client_init(&cl, "stats");
    struct stats s = {.cl = &cl};
    json_t *v = NULL;
    int st = cli_client_args(&cl, argc - 1, argv + 1, opts, on_opt, &s);
    if (!st && optind != argc - 1)
        st = cli_usage("stats", "unexpected argument '%s'", argv[optind + 1]);
    if (!st)
        st = cli_client_setup(&cl, CLI_NEED_URL | CLI_NEED_TOKEN);
    char path[4096];
    snprintf(path, sizeof path, "/v1/framework/pings%s%s", s.q ? "?" : "", s.q ? s.q : "");
    if (!st)
        st = cli_client_get_json(&cl, path, &v);
    if (!st && s.json) {
        char *t = json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        puts(t ? t : "");
        free(t);
    } else if (!st) {
        const char *from = json_string_value(json_object_get(v, "from"));
        const char *to = json_string_value(json_object_get(v, "to"));
        printf("pings created from %s to %s\n", from ? from : "?", to ? to : "?");
        printf("%-18s %-18s %6s %9s %9s %9s %11s\n", "PARTY", "KIND", "PINGS", "ANSWERED",
               "P50", "P90", "UNANSWERED");
        json_t *rows = json_object_get(v, "rows"), *r;
        size_t i;
        if (json_is_array(rows)) {
            json_array_foreach(rows, i, r) {
                const char *p = json_string_value(json_object_get(r, "party"));
                const char *k = json_string_value(json_object_get(r, "kind"));
                row(r, p ? p : "?", k ? k : "?");
            }
            if (json_array_size(rows) == 0)
                printf("(no pings in this period)\n");
        } else {
            const char *k = json_string_value(json_object_get(v, "kind"));
            row(v, "(selection)", k ? k : "all");
        }
    }
    json_decref(v);
    free(s.q);
    cli_client_free(&cl);
    return cli_finish(st);
}
