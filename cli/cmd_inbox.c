/*
 * cmd_inbox.c: `comity inbox [--party P] [--json]`: what awaits you (messages to you or
 * your state that expect an ack, a reply or a pong from you) and what you
 * sent that others have not answered yet, each sorted by deadline, the
 * overdue ones marked.  Asks GET /v1/framework/inbox; times are the
 * node's.  The operator names the party whose inbox it reads (--party).
 */
#include <stdlib.h>
#include <string.h>

#include "client.h"

struct inbox {
    struct cli_client *cl;
    const char *party;
    int json;
};

static int on_opt(void *ctx, int c, const char *arg)
{
    struct inbox *b = ctx;
    if (c == 'j')
        b->json = 1;
    else if (c == 'p')
        b->party = arg;
    else
        return cli_usage(b->cl->cmd, "unknown option");
    return CLI_OK;
}

static int64_t due_of(json_t *it)
{
    int64_t ms;
    const char *d = json_string_value(json_object_get(it, "due"));
    return d && comity_time_parse(d, &ms, NULL) == COMITY_OK ? ms : INT64_MAX;
}

static int by_due(const void *a, const void *b)
{
    int64_t x = due_of(*(json_t *const *)a), y = due_of(*(json_t *const *)b);
    return x < y ? -1 : x > y;
}

static const char *str(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static void table(const char *title, json_t *items, int64_t now, bool mine)
{
    size_t n = json_array_size(items), over = 0;
    json_t **v = calloc(n ? n : 1, sizeof *v);
    if (!v)
        return;
    for (size_t i = 0; i < n; i++) {
        v[i] = json_array_get(items, i);
        over += json_is_true(json_object_get(v[i], "overdue"));
    }
    qsort(v, n, sizeof *v, by_due);
    printf("%s: %zu", title, n);
    if (over)
        printf(", %zu OVERDUE", over);
    printf("\n");
    if (n)
        printf("  %-24s %-16s %-12s %-50s %-16s %-12s %-7s %s\n", "DUE", "", "TYPE", "ID",
               mine ? "FROM" : "TO", "STATE", "EXPECTS", "SEV");
    for (size_t i = 0; i < n; i++) {
        json_t *it = v[i];
        int64_t due = due_of(it);
        char rel[32] = "", when[48] = "-";
        bool od = json_is_true(json_object_get(it, "overdue"));
        if (due != INT64_MAX) {
            cli_duration_format(rel, od ? now - due : due - now);
            snprintf(when, sizeof when, "%s %s", od ? "OVERDUE by" : "in", rel);
        }
        char who[128] = "";
        if (mine) {
            snprintf(who, sizeof who, "%s", str(it, "from"));
        } else if (json_is_string(json_object_get(it, "to"))) {
            snprintf(who, sizeof who, "%s", str(it, "to")); /* the slot's recipient */
        } else {
            json_t *t;
            size_t k;
            json_array_foreach(json_object_get(it, "to"), k, t) {
                size_t l = strlen(who);
                snprintf(who + l, sizeof who - l, "%s%s", k ? "," : "",
                         json_string_value(t) ? json_string_value(t) : "");
            }
        }
        json_t *sev = json_object_get(it, "severity");
        char sv[8] = "-";
        if (json_is_integer(sev) && json_integer_value(sev) > 0)
            snprintf(sv, sizeof sv, "%d", (int)(json_integer_value(sev) % 10));
        printf("  %-24s %-16s %-12s %-50s %-16s %-12s %-7s %s\n",
               due != INT64_MAX ? str(it, "due") : "-", when, str(it, "type"), str(it, "id"),
               who, str(it, "state"), json_object_get(it, "expects") ? str(it, "expects") : "-",
               sv);
    }
    free(v);
}

int cmd_inbox(int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, 0, 'j'}, {"party", required_argument, 0, 'p'}, {0, 0, 0, 0}};
    struct cli_client cl;
    cli_client_init(&cl, "inbox");
    struct inbox b = {.cl = &cl};
    json_t *v = NULL;
    int st = cli_client_args(&cl, argc, argv, opts, on_opt, &b);
    if (!st && optind != argc)
        st = cli_usage("inbox", "unexpected argument '%s'", argv[optind]);
    if (!st)
        st = cli_client_setup(&cl, CLI_NEED_URL | CLI_NEED_TOKEN);
    char *q = NULL;
    if (!st && b.party)
        st = cli_query_add(&q, "party", b.party);
    char path[512];
    snprintf(path, sizeof path, "/v1/framework/inbox%s%s", q ? "?" : "", q ? q : "");
    free(q);
    if (!st)
        st = cli_client_get_json(&cl, path, &v);
    if (!st && b.json) {
        char *s = json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        puts(s ? s : "");
        free(s);
    } else if (!st) {
        int64_t now = comity_now_ms();
        const char *ns = json_string_value(json_object_get(v, "now"));
        if (ns)
            (void)comity_time_parse(ns, &now, NULL);
        printf("inbox of %s at %s (the node's clock)\n\n",
               json_string_value(json_object_get(v, "party")) ?
               json_string_value(json_object_get(v, "party")) : "?", ns ? ns : "?");
        table("awaiting you", json_object_get(v, "awaiting_me"), now, true);
        printf("\n");
        table("awaiting others (you sent)", json_object_get(v, "awaiting_others"), now, false);
    }
    json_decref(v);
    cli_client_free(&cl);
    return cli_finish(st);
}
