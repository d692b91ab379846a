/*
 * cmd_custody.c: `comity case custody` and `comity case retention`: a
 * case's chain of custody, and what a node's retention settings make due
 * for destruction (docs/framework.md, "Chain of custody", "Retention").
 *
 *   comity case custody CASE-ID [--json]
 *   comity case retention [DIR [--at TIME]] [--json]
 *
 * `custody` asks the node for the chain (GET /v1/framework/cases/ID/custody).
 * The node cannot open a sealed case's records; when it lists some as
 * sealed, the command fetches the case's opening and those records, opens
 * them with the party's own key, and builds the chain with the library on
 * a handle of its own: the very rules the node would apply, on bodies that
 * never leave the party's machine.  Records are checked against --keys when
 * given.  `retention` asks the serving node (operator credentials) what is
 * due for destruction now, as its job sees it; with DIR it is a dry run on
 * the node's directory instead: it replays the store under DIR/node.conf
 * and prints what is due at now (or --at), changing nothing.  The serving
 * node's own job destroys (src/node/expiry.c).
 * Rules are the library's; this file only fetches and prints.
 */
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "keys.h"

enum { OPT_JSON = 'j', OPT_AT = 'a' };

struct custody_args {
    struct cli_client *cl;
    bool json;
    const char *at;
};

static int on_opt(void *ctx, int c, const char *arg)
{
    struct custody_args *a = ctx;
    switch (c) {
    case OPT_JSON: a->json = true; return CLI_OK;
    case OPT_AT: a->at = arg; return CLI_OK;
    default: return cli_usage(a->cl->cmd, "unknown option");
    }
}

static const char *s_(json_t *o, const char *k)
{
    const char *v = json_string_value(json_object_get(o, k));
    return v ? v : "-";
}

/* ---- custody --------------------------------------------------------------------- */

/* GET /v1/records/ID, parsed (and verified when keys are given).  OUT *rec. */
static int fetch_record(struct cli_client *cl, const struct cli_keys *keys, const char *id,
                        comity_record **rec)
{
    char path[256];
    snprintf(path, sizeof path, "/v1/records/%s", id);
    struct cli_resp r;
    int st = cli_client_http(cl, "GET", path, NULL, 0, &r);
    if (st)
        return st;
    if (r.status != 200) {
        st = cli_client_answer(cl, &r);
        free(r.data);
        return st ? st : CLI_FAIL;
    }
    comity_error e = {0};
    comity_err rc = keys->n ? comity_record_verify(r.data, r.len,
                                                   (const comity_vkey *const *)keys->vkeys,
                                                   keys->n, rec, &e)
                            : comity_record_parse(r.data, r.len, rec, &e);
    free(r.data);
    return rc ? cli_error(cl->cmd, &e) : CLI_OK;
}

/* Feeds record `id` to fw: its envelope, and its body opened with ids
 * when it is sealed and `open` (a custody or destruction record; the case's
 * own records run on their envelopes).  A destruction record by someone
 * who is no party of the case is the node's custodian's, which the node
 * took: so does this handle. */
static int feed(struct cli_client *cl, const struct cli_keys *keys, comity_identities *ids,
                comity_framework *fw, const char *id, bool open)
{
    comity_error e = {0};
    comity_record *rec = NULL;
    char *body = NULL;
    size_t bl = 0;
    int st = fetch_record(cl, keys, id, &rec);
    if (!st && !strcmp(comity_record_type(rec), "evidence-destruction") &&
        comity_framework_set_custodian(fw, comity_record_author(rec), &e))
        st = cli_error(cl->cmd, &e);
    if (!st && ((open && comity_record_is_sealed(rec) &&
                 comity_record_open(rec, ids, &body, &bl, &e)) ||
                comity_framework_add(fw, rec, body, bl, &e)))
        st = cli_error(cl->cmd, &e);
    comity_free(body);
    comity_record_free(rec);
    return st;
}

/* The chain rebuilt locally: the case's thread (GET /v1/framework/cases/ID)
 * and its custody and destruction records (`records`), merged by their
 * created times (each list is in log order), the latter opened with our
 * key.  OUT *out: the library's answer, parsed. */
static int open_chain(struct cli_client *cl, const char *id, json_t *records, json_t **out)
{
    comity_error e = {0};
    struct cli_keys keys = {0};
    comity_identities *ids = NULL;
    comity_framework *fw = NULL;
    json_t *cv = NULL;
    const char *me = cli_client_party(cl);
    char path[256];
    snprintf(path, sizeof path, "/v1/framework/cases/%s", id);
    int st = me ? CLI_OK : CLI_FAIL;
    if (!st && cl->keys)
        st = cli_keys_add(&keys, cl->keys);
    if (!st && comity_identities_load(cl->key, &ids, &e))
        st = cli_error(cl->cmd, &e);
    if (!st && comity_framework_new(&fw, &e))
        st = cli_error(cl->cmd, &e);
    if (!st)
        st = cli_client_get_json(cl, path, &cv);
    json_t *thread = json_object_get(cv, "thread");
    size_t ti = 0, ri = 0, nt = json_array_size(thread), nr = json_array_size(records);
    while (!st && (ti < nt || ri < nr)) {
        json_t *t = json_array_get(thread, ti), *r = json_array_get(records, ri);
        bool take_thread = ti < nt && (ri >= nr || strcmp(s_(t, "created"), s_(r, "created")) <= 0);
        st = take_thread ? feed(cl, &keys, ids, fw, s_(t, "id"), false)
                         : feed(cl, &keys, ids, fw, s_(r, "id"), true);
        take_thread ? ti++ : ri++;
    }
    char *json = NULL;
    if (!st && comity_framework_custody(fw, id, me, &json, &e))
        st = cli_error(cl->cmd, &e);
    if (!st && !(*out = json_loads(json, 0, NULL)))
        st = CLI_FAIL;
    comity_free(json);
    json_decref(cv);
    comity_framework_free(fw);
    comity_identities_free(ids);
    cli_keys_free(&keys);
    return st;
}

static void print_chain(json_t *j)
{
    json_t *it, *l, *b;
    size_t i, k, m;
    printf("case %s (%s): %lld break(s)\n", s_(j, "case"), s_(j, "mechanism"),
           (long long)json_integer_value(json_object_get(j, "breaks")));
    json_array_foreach(json_object_get(j, "items"), i, it) {
        const char *holder = json_string_value(json_object_get(it, "holder"));
        const char *transit = json_string_value(json_object_get(it, "in_transit_to"));
        json_t *gone = json_object_get(it, "destroyed");
        printf("\nitem %s  %lld bytes  %s\n  chain %s; ", s_(it, "sha256"),
               (long long)json_integer_value(json_object_get(it, "size")), s_(it, "name"),
               json_is_true(json_object_get(it, "intact")) ? "INTACT" : "BROKEN");
        if (json_is_object(gone))
            printf("DESTROYED on %s by %s\n", s_(gone, "at"), s_(gone, "record"));
        else if (holder)
            printf("held by %s\n", holder);
        else if (transit)
            printf("in transit to %s\n", transit);
        else
            printf("holder unknown\n");
        json_array_foreach(json_object_get(it, "chain"), k, l) {
            const char *act = s_(l, "action");
            printf("  %s  %-8s %-12s", s_(l, "at"), act, s_(l, "author"));
            if (!strcmp(act, "receive"))
                printf(" from %s", s_(l, "from"));
            else if (!strcmp(act, "transfer"))
                printf(" to %s", s_(l, "recipient"));
            else if (!strcmp(act, "handle"))
                printf(" %s", s_(l, "what"));
            else if (!strcmp(act, "derive"))
                printf(" derived from %.16s...",
                       json_string_value(json_array_get(json_object_get(l, "derived_from"), 0)));
            else if (!strcmp(act, "destroy"))
                printf(" %s%s%s", s_(l, "reason"), json_object_get(l, "rule") ? ": " : "",
                       json_object_get(l, "rule") ? s_(l, "rule") : "");
            if (json_object_get(l, "instrument"))
                printf(" (%s)", s_(l, "instrument"));
            printf("  %s\n", s_(l, "id"));
            json_array_foreach(json_object_get(l, "breaks"), m, b)
                printf("      BREAK %s: %s\n", s_(b, "rule"), s_(b, "detail"));
        }
    }
    json_t *sealed = json_object_get(j, "sealed");
    if (json_array_size(sealed))
        printf("\n%zu sealed custody record(s) not read (give --key to open them)\n",
               json_array_size(sealed));
    if (!json_array_size(json_object_get(j, "items")) && !json_array_size(sealed))
        printf("no custody records\n");
}

static int do_custody(struct custody_args *a, const char *id)
{
    if (!cli_id_ok(id))
        return cli_usage(a->cl->cmd, "'%s' is not a case id (<type>--<uuid>)", id);
    char path[256];
    snprintf(path, sizeof path, "/v1/framework/cases/%s/custody", id);
    json_t *j = NULL;
    int st = cli_client_get_json(a->cl, path, &j);
    if (st)
        return st;
    json_t *sealed = json_object_get(j, "sealed");
    if (json_array_size(sealed) && a->cl->key) {
        json_t *mine = NULL;
        if ((st = open_chain(a->cl, id, json_object_get(j, "records"), &mine))) {
            json_decref(j);
            return st;
        }
        json_decref(j);
        j = mine;
    }
    if (a->json) {
        char *s = json_dumps(j, JSON_INDENT(2));
        if (s)
            printf("%s\n", s);
        free(s);
    } else {
        print_chain(j);
    }
    json_decref(j);
    return CLI_OK;
}

/* ---- retention ------------------------------------------------------------------- */

static void print_due(json_t *j)
{
    json_t *d, *f;
    size_t i, k;
    printf("at %s\n", s_(j, "now"));
    json_array_foreach(json_object_get(j, "nothing"), i, d)
        printf("\nDUE  %s  %s, closed %s, due %s under %s\n     no file of it known here "
               "(a sealed case's files are known to the serving node)\n",
               s_(d, "case"), s_(d, "kind"), s_(d, "closed"), s_(d, "due"), s_(d, "rule"));
    json_array_foreach(json_object_get(j, "due"), i, d) {
        printf("\nDUE  %s  %s, closed %s, due %s under %s\n", s_(d, "case"), s_(d, "kind"),
               s_(d, "closed"), s_(d, "due"), s_(d, "rule"));
        json_array_foreach(json_object_get(d, "files"), k, f)
            printf("     destroy %s  %lld bytes  %s\n", s_(f, "sha256"),
                   (long long)json_integer_value(json_object_get(f, "size")), s_(f, "name"));
        json_array_foreach(json_object_get(d, "kept"), k, f)
            printf("     keep    %s  (still kept by %s)\n", s_(f, "sha256"), s_(f, "kept_by"));
    }
    if (!json_array_size(json_object_get(j, "due")) &&
        !json_array_size(json_object_get(j, "nothing")))
        printf("nothing is due\n");
    json_array_foreach(json_object_get(j, "pending"), i, d)
        printf("later %s  %s, closed %s, due %s under %s\n", s_(d, "case"), s_(d, "kind"),
               s_(d, "closed"), s_(d, "due"), s_(d, "rule"));
}

static void show_due(struct custody_args *a, json_t *j)
{
    if (a->json) {
        char *s = json_dumps(j, JSON_INDENT(2));
        if (s)
            printf("%s\n", s);
        free(s);
    } else {
        print_due(j);
    }
}

/* DIR given: a replay of the node's store, offline; else the serving
 * node's answer (operator credentials). */
static int do_retention(struct custody_args *a, const char *dir)
{
    comity_error e = {0};
    json_t *j = NULL;
    if (!dir) {
        int st = cli_client_get_json(a->cl, "/v1/framework/retention", &j);
        if (st)
            return st;
        show_due(a, j);
        json_decref(j);
        return CLI_OK;
    }
    int64_t now = comity_now_ms();
    if (a->at) {
        char t[32];
        if (cli_time_arg(a->at, t, &e) || comity_time_parse(t, &now, &e))
            return cli_usage(a->cl->cmd, "--at %s: %s", a->at, e.msg);
    }
    comity_node *node = NULL;
    char *json = NULL;
    if (comity_node_open(dir, &node, &e) || comity_node_retention_due(node, now, &json, &e)) {
        comity_node_close(node);
        return cli_error(a->cl->cmd, &e);
    }
    comity_node_close(node);
    j = json_loads(json, 0, NULL);
    comity_free(json);
    if (!j)
        return CLI_FAIL;
    show_due(a, j);
    json_decref(j);
    return CLI_OK;
}

int cmd_case_custody(int argc, char **argv)
{
    static const struct option opts[] = {{"json", no_argument, 0, OPT_JSON},
                                         {"at", required_argument, 0, OPT_AT},
                                         {0, 0, 0, 0}};
    bool custody = !strcmp(argv[1], "custody");
    struct cli_client cl;
    cli_client_init(&cl, custody ? "case custody" : "case retention");
    struct custody_args a = {.cl = &cl};
    int st = cli_client_args(&cl, argc - 1, argv + 1, opts, on_opt, &a);
    int npos = argc - 1 - optind;
    char **pos = argv + 1 + optind;
    if (!st && custody && npos != 1)
        st = cli_usage(cl.cmd, "want one case id: comity case custody ID");
    if (!st && !custody && npos > 1)
        st = cli_usage(cl.cmd, "want at most the node's directory: comity case retention [DIR]");
    if (!st && a.at && (custody || npos == 0))
        st = cli_usage(cl.cmd, "--at is for the dry run on a directory: comity case retention "
                               "DIR --at TIME");
    if (!st && custody && !(st = cli_client_setup(&cl, CLI_NEED_URL | CLI_NEED_TOKEN)))
        st = do_custody(&a, pos[0]);
    else if (!st && !custody && npos == 0 &&
             !(st = cli_client_setup(&cl, CLI_NEED_URL | CLI_NEED_TOKEN)))
        st = do_retention(&a, NULL);
    else if (!st && !custody && npos == 1)
        st = do_retention(&a, pos[0]);
    cli_client_free(&cl);
    return cli_finish(st);
}
