/*
 * cmd_timeline.c: `comity timeline [--since T] [--type T] [--json]`: the
 * records you may see, in log order, each with what it is about, and for
 * notifications, requests and pings their status now (sent, delivered,
 * acknowledged, answered, declined, closed; overdue).  Reads GET
 * /v1/records page by page and GET /v1/framework/messages/{id}.
 */
#include <stdlib.h>
#include <string.h>

#include "client.h"

#define TIMELINE_MAX 100000 /* records listed at most */

struct timeline {
    struct cli_client *cl;
    char *q;
    int json;
};

static int on_opt(void *ctx, int c, const char *arg)
{
    struct timeline *t = ctx;
    char ts[32];
    switch (c) {
    case 's':
    {
        comity_error e = {0};
        if (cli_time_arg(arg, ts, &e))
            return cli_usage(t->cl->cmd, "--since wants a time (RFC 3339, -DURATION): %s", e.msg);
    }
        return cli_query_add(&t->q, "since", ts);
    case 't': return cli_query_add(&t->q, "type", arg);
    case 'j': t->json = 1; return CLI_OK;
    default: return cli_usage(t->cl->cmd, "unknown option");
    }
}

static const char *str(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static bool is_message(const char *type)
{
    return !strcmp(type, "notification") || !strcmp(type, "request") || !strcmp(type, "ping");
}

/* The status of a message as "state" or "state, OVERDUE (expects ack)". */
static json_t *status(struct cli_client *cl, const char *id)
{
    char path[256];
    snprintf(path, sizeof path, "/v1/framework/messages/%s", id);
    struct cli_resp r;
    json_t *v = NULL;
    if (cli_client_http(cl, "GET", path, NULL, 0, &r) == CLI_OK && r.status == 200)
        v = json_loadb(r.data, r.len, 0, NULL);
    free(r.data);
    return v;
}

static void describe(json_t *rec, json_t *st, char *out, size_t cap)
{
    const char *type = str(rec, "type");
    comity_record *r = NULL;
    json_t *env = json_object_get(rec, "envelope");
    char *envs = env ? json_dumps(env, JSON_COMPACT) : NULL;
    comity_error e = {0};
    if (envs)
        comity_record_parse(envs, strlen(envs), &r, &e);
    free(envs);
    json_t *body = NULL;
    if (r && comity_record_body(r))
        body = json_loads(comity_record_body(r), 0, NULL);
    size_t n = 0;
    out[0] = 0;
#define ADD(...) (n += (size_t)snprintf(out + n, n < cap ? cap - n : 0, __VA_ARGS__), n = n < cap ? n : cap)
    if (r && is_message(type)) {
        ADD("to");
        for (size_t i = 0; i < comity_record_to_count(r); i++)
            ADD("%s%s", i ? "," : " ", comity_record_to(r, i));
        if (json_object_get(body, "severity"))
            ADD(" sev %lld", (long long)json_integer_value(json_object_get(body, "severity")));
        if (json_object_get(body, "sector"))
            ADD(" %s", str(body, "sector"));
        if (json_object_get(body, "norm"))
            ADD(" norm %s", str(body, "norm"));
        if (!strcmp(type, "ping"))
            ADD(" %s%s%s", json_is_false(json_object_get(body, "announced")) ? "unannounced"
                                                                              : "announced",
                json_object_get(body, "kind") ? " " : "", str(body, "kind"));
        if (st)
            ADD(": %s%s%s%s", str(st, "state"),
                json_is_true(json_object_get(st, "overdue")) ? ", OVERDUE (" : "",
                json_is_true(json_object_get(st, "overdue")) ? str(st, "expects") : "",
                json_is_true(json_object_get(st, "overdue")) ? ")" : "");
        else
            ADD(": (status not shown to you)");
    } else if (r && comity_record_refs_count(r) > 0) {
        ADD("re %s", comity_record_ref(r, 0));
        if (json_object_get(body, "outcome"))
            ADD(": %s", str(body, "outcome"));
    } else if (!strcmp(type, "poc") && body) {
        if (json_is_true(json_object_get(body, "withdrawn")))
            ADD("%s withdrawn", str(body, "kind"));
        else
            ADD("%s: %s", str(body, "kind"), str(body, "organisation"));
    }
    if (r && comity_record_is_sealed(r))
        ADD(" [sealed %s]", comity_record_tlp(r));
#undef ADD
    json_decref(body);
    comity_record_free(r);
}

int cmd_timeline(int argc, char **argv)
{
    static const struct option opts[] = {
        {"since", required_argument, 0, 's'}, {"type", required_argument, 0, 't'},
        {"json", no_argument, 0, 'j'}, {0, 0, 0, 0}};
    struct cli_client cl;
    cli_client_init(&cl, "timeline");
    struct timeline t = {.cl = &cl};
    int st = cli_client_args(&cl, argc, argv, opts, on_opt, &t);
    if (!st && optind != argc)
        st = cli_usage("timeline", "unexpected argument '%s'", argv[optind]);
    if (!st)
        st = cli_client_setup(&cl, CLI_NEED_URL | CLI_NEED_TOKEN);
    json_t *all = json_array();
    char *cursor = NULL;
    while (!st && json_array_size(all) < TIMELINE_MAX) {
        char *q = t.q ? strdup(t.q) : NULL;
        if (t.q && !q) {
            st = CLI_FAIL;
            break;
        }
        if (cursor)
            cli_query_add(&q, "cursor", cursor);
        char path[4096];
        snprintf(path, sizeof path, "/v1/records%s%s", q ? "?" : "", q ? q : "");
        free(q);
        json_t *page = NULL;
        if ((st = cli_client_get_json(&cl, path, &page)))
            break;
        json_array_extend(all, json_object_get(page, "records"));
        free(cursor);
        cursor = NULL;
        if (json_is_true(json_object_get(page, "more")) &&
            json_string_value(json_object_get(page, "next")))
            cursor = strdup(json_string_value(json_object_get(page, "next")));
        json_decref(page);
        if (!cursor)
            break;
    }
    free(cursor);
    if (!st) {
        json_t *out = json_array(), *rec;
        size_t i;
        if (!t.json)
            printf("%5s  %-24s %-12s %-12s %-50s %s\n", "INDEX", "CREATED", "TYPE", "AUTHOR",
                   "ID", "WHAT (status now)");
        json_array_foreach(all, i, rec) {
            const char *type = str(rec, "type"), *id = str(rec, "id");
            json_t *s = is_message(type) ? status(&cl, id) : NULL;
            char what[1024];
            describe(rec, s, what, sizeof what);
            if (t.json) {
                json_array_append_new(out, json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:O?}",
                                                     "log_index",
                                                     json_integer_value(json_object_get(rec, "log_index")),
                                                     "created", str(rec, "created"), "type", type,
                                                     "author", str(rec, "author"), "id", id,
                                                     "what", what, "status", s));
            } else {
                printf("%5lld  %-24s %-12s %-12s %-50s %s\n",
                       (long long)json_integer_value(json_object_get(rec, "log_index")),
                       str(rec, "created"), type, str(rec, "author"), id, what);
            }
            json_decref(s);
        }
        if (t.json) {
            char *txt = json_dumps(out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
            puts(txt ? txt : "[]");
            free(txt);
        }
        json_decref(out);
    }
    json_decref(all);
    free(t.q);
    cli_client_free(&cl);
    return cli_finish(st);
}
