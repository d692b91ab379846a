/*
 * cmd_norm.c: `comity norm`: prohibitions and norms (docs/norms.md).
 *
 *   comity norm catalogue [--json]              the catalogue (13a-13k and
 *   comity norm catalogue seed                  more); the secretariat
 *   comity norm catalogue publish BODY          publishes entries
 *   comity norm declare BODY [--to S]... [--tlp L] [--supersedes ID]
 *   comity norm declare --reseal ID --to S...   give a later state what
 *                                               was sealed before it joined
 *   comity norm declarations [STATE] [--json]   what the caller may see
 *   comity norm complain --to S [--ref ID]... BODY
 *   comity norm ack|reply|consult|close|fix|exploited|publish|alert CASE ...
 *   comity norm disclose --to PARTY BODY
 *   comity norm report BODY                     a section of a report
 *   comity norm report compare|match PERIOD [--norm N]
 *   comity norm position draft|comment|delegate|publish|compare ...
 *   comity norm list, comity norm show CASE
 *
 * BODY is --body FILE and/or --set FIELD=VALUE, as for `comity case`.  The
 * steps of complaints and disclosures are records of cases: this file
 * turns each into the `comity case` command that sends it (the record
 * type follows from the case id, "<type>--<uuid>"), so that they are
 * checked, sealed and sent as every case record is.  The catalogue and
 * declarations are posted here.  Every rule is the library's (checked
 * before signing) or the node's (refusals printed with their rule).
 */
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "keys.h"

int cmd_case(int argc, char **argv);

/* ---- steps of cases: to `comity case` ----------------------------------------------- */

/* Runs `comity case SUB [CASE] TYPE [--set answer=...] ARGS...` with the
 * caller's remaining arguments. */
static int via_case(const char *sub, const char *id, const char *type, const char *extra,
                    int argc, char **argv)
{
    char **v = calloc((size_t)argc + 8, sizeof *v);
    if (!v)
        return CLI_FAIL;
    int n = 0;
    v[n++] = "case";
    v[n++] = (char *)sub;
    if (id)
        v[n++] = (char *)id;
    v[n++] = (char *)type;
    if (extra) {
        v[n++] = "--set";
        v[n++] = (char *)extra;
    }
    for (int i = 0; i < argc; i++)
        v[n++] = argv[i];
    v[n] = NULL;
    int st = cmd_case(n, v);
    free(v);
    return st;
}

static bool prefix(const char *s, const char *p) { return !strncmp(s, p, strlen(p)); }

/* `norm STEP CASE ...`: the record type of STEP in case CASE. */
static int step(const char *st, int argc, char **argv)
{
    if (argc < 1 || argv[0][0] == '-')
        return cli_usage("norm", "%s: want the case id first (comity help norm)", st);
    const char *id = argv[0];
    bool complaint = prefix(id, "norm-complaint--"), disclosure = prefix(id, "norm-disclosure--");
    if (!complaint && !disclosure)
        return cli_usage("norm", "'%s' is not a complaint or disclosure case id", id);
    static const struct { const char *step, *complaint, *disclosure; } t[] = {
        {"ack", "norm-complaint-ack", "norm-disclosure-ack"},
        {"reply", "norm-complaint-reply", NULL},
        {"consult", "norm-complaint-consult", NULL},
        {"close", "norm-complaint-close", "norm-disclosure-close"},
        {"fix", NULL, "norm-disclosure-fix"},
        {"exploited", NULL, "norm-disclosure-exploited"},
        {"publish", NULL, "norm-disclosure-publish"},
        {"alert", NULL, "norm-alert"},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        if (strcmp(t[i].step, st) != 0)
            continue;
        const char *type = complaint ? t[i].complaint : t[i].disclosure;
        if (!type)
            return cli_usage("norm", "%s: not a step of a %s", st,
                             complaint ? "complaint" : "disclosure");
        /* reply ANSWER, close OUTCOME (a complaint), consult CONSULT-CASE */
        char extra[128] = "";
        int skip = 1;
        if ((!strcmp(st, "reply") || (!strcmp(st, "close") && complaint)) && argc > 1 &&
            argv[1][0] != '-') {
            snprintf(extra, sizeof extra, "%s=%s", !strcmp(st, "reply") ? "answer" : "outcome",
                     argv[1]);
            skip = 2;
        }
        if (!strcmp(st, "consult")) {
            if (argc < 2 || argv[1][0] == '-')
                return cli_usage("norm", "consult: want the complaint, then the consultation "
                                         "case opened about it");
            char **v = calloc((size_t)argc + 4, sizeof *v);
            if (!v)
                return CLI_FAIL;
            int n = 0;
            v[n++] = "--ref";
            v[n++] = argv[1];
            for (int k = 2; k < argc; k++)
                v[n++] = argv[k];
            int r = via_case("send", id, type, NULL, n, v);
            free(v);
            return r;
        }
        return via_case("send", id, type, extra[0] ? extra : NULL, argc - skip, argv + skip);
    }
    return cli_usage("norm", "'%s': unknown (comity help norm)", st);
}

/* ---- catalogue and declarations ---------------------------------------------------------- */

struct norm_args {
    struct cli_client *cl;
    struct cli_list to, set;
    const char *body, *tlp, *supersedes, *reseal, *norm;
    bool json;
};

enum { OPT_TO = 't', OPT_SET = 's', OPT_BODY = 'b', OPT_TLP = 'l', OPT_SUP = 'u',
       OPT_RESEAL = 'r', OPT_JSON = 'j', OPT_NORM = 'n' };

static int on_opt(void *ctx, int c, const char *arg)
{
    struct norm_args *a = ctx;
    char *d = NULL;
    switch (c) {
    case OPT_TO:
    case OPT_SET:
        if (!(d = strdup(arg)) || cli_list_add(c == OPT_TO ? &a->to : &a->set, d)) {
            free(d);
            return CLI_FAIL;
        }
        return CLI_OK;
    case OPT_BODY: a->body = arg; return CLI_OK;
    case OPT_TLP: a->tlp = arg; return CLI_OK;
    case OPT_SUP: a->supersedes = arg; return CLI_OK;
    case OPT_RESEAL: a->reseal = arg; return CLI_OK;
    case OPT_JSON: a->json = true; return CLI_OK;
    case OPT_NORM: a->norm = arg; return CLI_OK;
    default: return cli_usage(a->cl->cmd, "unknown option");
    }
}

static void list_free(struct cli_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    cli_list_free(l);
}

/* The body from --body FILE then --set FIELD=VALUE (a VALUE that reads as
 * JSON is taken as such).  OUT *out. */
static int build_body(struct norm_args *a, json_t **out)
{
    return cli_body_build(a->cl->cmd, a->body, NULL, &a->set, out);
}

static const char *s_(json_t *o, const char *k)
{
    const char *v = json_string_value(json_object_get(o, k));
    return v ? v : "-";
}

static int print_json(json_t *j)
{
    char *s = json_dumps(j, JSON_INDENT(2));
    if (s)
        printf("%s\n", s);
    free(s);
    return s ? CLI_OK : CLI_FAIL;
}

/* The current recorded version of `norm` in the catalogue cat, or NULL. */
static const char *current_record(json_t *cat, const char *norm)
{
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(cat, "norms"), i, e) {
        if (strcmp(s_(e, "norm"), norm) != 0)
            continue;
        json_t *v = json_object_get(e, "versions");
        return json_array_size(v) ? s_(json_array_get(v, json_array_size(v) - 1), "record")
                                  : NULL;
    }
    return NULL;
}

/* Posts a norm-entry body (taken), naming the current version if any. */
static int publish(struct norm_args *a, json_t *cat, json_t *body)
{
    const char *norm = json_string_value(json_object_get(body, "norm"));
    const char *cur = norm ? current_record(cat, norm) : NULL;
    const char *refs[1] = {cur};
    struct cli_msg m = {.type = "norm-entry", .refs = refs, .nrefs = cur ? 1 : 0};
    return cli_client_send(a->cl, &m, body, NULL);
}

static int do_catalogue(struct norm_args *a, int npos, char **pos)
{
    json_t *cat = NULL;
    int st = cli_client_get_json(a->cl, "/v1/framework/norms", &cat);
    if (st)
        return st;
    if (npos == 0 && a->json) {
        st = print_json(cat);
    } else if (npos == 0) {
        size_t i;
        json_t *e;
        json_array_foreach(json_object_get(cat, "norms"), i, e) {
            printf("%-10s v%-3lld %-16s %s%s\n", s_(e, "norm"),
                   (long long)json_integer_value(json_object_get(e, "version")), s_(e, "kind"),
                   s_(e, "title"), json_is_true(json_object_get(e, "withdrawn")) ? "  WITHDRAWN" : "");
            printf("           %s\n", s_(e, "source"));
        }
    } else if (!strcmp(pos[0], "seed")) {
        /* the eleven, in the project's words, where none is recorded yet */
        for (int k = 0; !st && k < 11; k++) {
            char norm[4] = {'1', '3', (char)('a' + k), 0};
            if (current_record(cat, norm))
                continue;
            char *text = NULL;
            comity_error e = {0};
            if (comity_framework_norm_builtin(norm, &text, &e)) {
                st = cli_error(a->cl->cmd, &e);
                break;
            }
            json_t *b = json_loads(text, 0, NULL);
            comity_free(text);
            st = b ? publish(a, cat, b) : CLI_FAIL;
        }
    } else if (!strcmp(pos[0], "publish")) {
        json_t *b = NULL;
        st = build_body(a, &b);
        if (!st)
            st = publish(a, cat, b);
    } else {
        st = cli_usage(a->cl->cmd, "'%s': want seed or publish", pos[0]);
    }
    json_decref(cat);
    return st;
}

/* GET /v1/records/ID, opened with our key.  OUT *rec, *body (free()). */
static int fetch_open(struct cli_client *cl, const char *id, comity_record **rec, char **body)
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
    comity_identities *ids = NULL;
    size_t bl;
    *body = NULL;
    if (comity_record_parse(r.data, r.len, rec, &e) ||
        comity_identities_load(cl->key, &ids, &e) ||
        (comity_record_is_sealed(*rec) && comity_record_open(*rec, ids, body, &bl, &e)))
        st = cli_error(cl->cmd, &e);
    else if (!comity_record_is_sealed(*rec) && !(*body = strdup(comity_record_body(*rec))))
        st = CLI_FAIL;
    comity_identities_free(ids);
    free(r.data);
    return st;
}

/* `declare --reseal ID --to S...`: the declaration opened, sealed again
 * to its readers and the states named. */
static int reseal(struct norm_args *a)
{
    comity_record *rec = NULL;
    char *text = NULL;
    int st = fetch_open(a->cl, a->reseal, &rec, &text);
    for (size_t i = 0; !st && i < comity_record_to_count(rec); i++) {
        const char *n = comity_record_to(rec, i);
        bool have = false;
        for (size_t k = 0; k < a->to.n; k++)
            have |= !strcmp(a->to.v[k], n);
        char *d = have ? NULL : strdup(n);
        if (!have && (!d || cli_list_add(&a->to, d))) {
            free(d);
            st = CLI_FAIL;
        }
    }
    json_t *b = st ? NULL : json_loads(text, 0, NULL);
    if (!st && !b)
        st = CLI_FAIL;
    if (!st) {
        const char *refs[1] = {a->reseal};
        struct cli_msg m = {.type = "norm-reseal", .tlp = a->tlp ? a->tlp : comity_record_tlp(rec),
                            .to = (const char *const *)a->to.v, .nto = a->to.n,
                            .refs = refs, .nrefs = 1};
        st = cli_client_send(a->cl, &m, b, NULL);
    }
    free(text);
    comity_record_free(rec);
    return st;
}

static int do_declare(struct norm_args *a)
{
    if (a->reseal)
        return a->to.n ? reseal(a)
                       : cli_usage(a->cl->cmd, "--reseal: want --to the states that joined");
    json_t *b = NULL;
    int st = build_body(a, &b);
    if (st)
        return st;
    const char *refs[1] = {a->supersedes};
    struct cli_msg m = {.type = "norm-declaration", .tlp = a->tlp,
                        .to = (const char *const *)a->to.v, .nto = a->to.n,
                        .refs = refs, .nrefs = a->supersedes ? 1 : 0};
    return cli_client_send(a->cl, &m, b, NULL);
}

static int do_declarations(struct norm_args *a, const char *state)
{
    char *q = NULL;
    if (state && cli_query_add(&q, "state", state))
        return CLI_FAIL;
    char path[256];
    snprintf(path, sizeof path, "/v1/framework/norms/declarations%s%s", q ? "?" : "",
             q ? q : "");
    free(q);
    json_t *j = NULL;
    int st = cli_client_get_json(a->cl, path, &j);
    if (st)
        return st;
    /* bodies the node cannot read: opened here with our key */
    size_t i;
    json_t *d;
    json_array_foreach(json_object_get(j, "declarations"), i, d) {
        if (!json_is_null(json_object_get(d, "body")))
            continue;
        comity_record *rec = NULL;
        char *text = NULL;
        if (fetch_open(a->cl, s_(d, "open_with"), &rec, &text) == CLI_OK && text)
            json_object_set_new(d, "body", json_loads(text, 0, NULL));
        free(text);
        comity_record_free(rec);
    }
    if (a->json) {
        st = print_json(j);
    } else {
        json_array_foreach(json_object_get(j, "declarations"), i, d) {
            json_t *b = json_object_get(d, "body");
            printf("%s  %s v%lld %s%s  %s\n", s_(d, "state"), s_(d, "series"),
                   (long long)json_integer_value(json_object_get(d, "version")),
                   s_(d, "visibility"), json_is_true(json_object_get(d, "current")) ? "" : " (superseded)",
                   s_(d, "record"));
            char *t = json_is_object(b) ? json_dumps(b, JSON_COMPACT) : NULL;
            printf("    %s\n", t ? t : "(sealed: not opened with your key)");
            free(t);
        }
    }
    json_decref(j);
    return st;
}

/* GET /v1/framework/norms/reports?period=P[&norm=N].  OUT *out. */
static int get_reports(struct norm_args *a, const char *period, const char *norm, json_t **out)
{
    char *q = NULL;
    if (cli_query_add(&q, "period", period) || (norm && cli_query_add(&q, "norm", norm))) {
        free(q);
        return CLI_FAIL;
    }
    char path[512];
    snprintf(path, sizeof path, "/v1/framework/norms/reports?%s", q);
    free(q);
    return cli_client_get_json(a->cl, path, out);
}

static void print_list(const char *label, json_t *l)
{
    if (!json_array_size(l))
        return;
    char *t = json_dumps(l, JSON_COMPACT);
    printf("      %-12s %s\n", label, t ? t : "");
    free(t);
}

/* "  needs: forensics 2, legislation 1" from {topic: count}. */
static void print_counts(const char *label, json_t *o)
{
    const char *k;
    json_t *v;
    bool first = true;
    json_object_foreach(o, k, v) {
        printf(first ? "  %s: %s %lld" : ", %.0s%s %lld", label, k,
               (long long)json_integer_value(v));
        first = false;
    }
}

/* Each need of a one-norm answer: "pk needs forensics (13k): in us* (+3)"
 * (* offered under another norm; +N: the states counted, not listed). */
static void print_needs(json_t *j)
{
    size_t i, k;
    json_t *nd, *o;
    json_array_foreach(json_object_get(j, "needs"), i, nd) {
        printf("%s needs %s (%s):", s_(nd, "state"), s_(nd, "topic"), s_(nd, "norm"));
        json_t *by = json_object_get(nd, "offered_by");
        json_array_foreach(by, k, o)
            printf(" %s%s", s_(o, "state"), json_is_true(json_object_get(o, "same_norm")) ? "" : "*");
        long long more = (long long)json_integer_value(json_object_get(nd, "offers")) -
                         (long long)json_array_size(by);
        if (more > 0)
            printf(" (+%lld)", more);
        printf("%s\n", json_array_size(by) ? "" : " no offer");
    }
}

/* `report BODY`: a section (naming the current version of ours, if any);
 * `report compare PERIOD [--norm N]`: the table of norms, or one norm
 * state by state; `report match PERIOD [--norm N]`: needs matched. */
static int do_report(struct norm_args *a, int npos, char **pos)
{
    json_t *j = NULL;
    int st;
    if (npos == 0) {
        json_t *b = NULL;
        if ((st = build_body(a, &b)))
            return st;
        const char *period = json_string_value(json_object_get(b, "period"));
        const char *norm = json_string_value(json_object_get(b, "norm"));
        const char *me = cli_client_party(a->cl);
        char *cur = NULL;
        if (period && norm && me && get_reports(a, period, norm, &j) == CLI_OK) {
            char mine[COMITY_PARTY_MAX + 1];
            size_t n = strcspn(me, ".");
            snprintf(mine, sizeof mine, "%.*s", (int)n, me);
            size_t i;
            json_t *s;
            json_array_foreach(json_object_get(json_array_get(json_object_get(j, "norms"), 0),
                                               "states"), i, s) {
                if (!strcmp(s_(s, "state"), mine))
                    cur = strdup(s_(s, "record"));
            }
        }
        json_decref(j);
        const char *refs[1] = {cur};
        struct cli_msg m = {.type = "norm-report", .refs = refs, .nrefs = cur ? 1 : 0};
        st = cli_client_send(a->cl, &m, b, NULL);
        free(cur);
        return st;
    }
    bool match = !strcmp(pos[0], "match");
    if ((strcmp(pos[0], "compare") && !match) || npos != 2)
        return cli_usage(a->cl->cmd, "report: want BODY, compare PERIOD or match PERIOD");
    if ((st = get_reports(a, pos[1], a->norm, &j)))
        return st;
    if (a->json) {
        st = print_json(j);
    } else if (!a->norm) { /* the table of norms: counted */
        size_t i;
        json_t *e;
        json_array_foreach(json_object_get(j, "norms"), i, e) {
            printf("%-8s %3lld states", s_(e, "norm"),
                   (long long)json_integer_value(json_object_get(e, "reported")));
            print_counts("needs", json_object_get(e, "needs"));
            print_counts("offers", json_object_get(e, "offers"));
            printf("\n");
        }
        if (match) /* each norm's needs, matched */
            json_array_foreach(json_object_get(j, "norms"), i, e) {
                json_t *one = NULL;
                if ((st = get_reports(a, pos[1], s_(e, "norm"), &one)))
                    break;
                print_needs(one);
                json_decref(one);
            }
    } else if (!match) {
        size_t i, k;
        json_t *e, *s;
        json_array_foreach(json_object_get(j, "norms"), i, e) {
            printf("%s\n", s_(e, "norm"));
            json_array_foreach(json_object_get(e, "states"), k, s) {
                printf("  %-6s v%lld  %s\n", s_(s, "state"),
                       (long long)json_integer_value(json_object_get(s, "version")), s_(s, "done"));
                print_list("laws", json_object_get(s, "laws"));
                print_list("institutions", json_object_get(s, "institutions"));
                print_list("needs", json_object_get(s, "needs"));
                print_list("offers", json_object_get(s, "offers"));
            }
        }
    } else {
        print_needs(j);
    }
    json_decref(j);
    return st;
}

/* `position draft|comment|delegate|publish|compare ...`. */
static int do_position(struct norm_args *a, int npos, char **pos)
{
    if (npos < 1)
        return cli_usage(a->cl->cmd, "position: want draft, comment, delegate, publish or compare");
    const char *what = pos[0];
    json_t *j = NULL;
    int st;
    if (!strcmp(what, "compare")) {
        char *q = NULL;
        if (npos > 1 && cli_query_add(&q, "topic", pos[1]))
            return CLI_FAIL;
        char path[256];
        snprintf(path, sizeof path, "/v1/framework/norms/positions%s%s", q ? "?" : "", q ? q : "");
        free(q);
        if ((st = cli_client_get_json(a->cl, path, &j)))
            return st;
        if (a->json) {
            st = print_json(j);
        } else {
            size_t i, k;
            json_t *t, *s;
            json_array_foreach(json_object_get(j, "topics"), i, t) {
                if (!json_array_size(json_object_get(t, "states")))
                    continue;
                printf("%s\n", s_(t, "topic"));
                json_array_foreach(json_object_get(t, "states"), k, s)
                    printf("  %-6s v%lld  %s\n", s_(s, "state"),
                           (long long)json_integer_value(json_object_get(s, "version")),
                           s_(s, "text"));
            }
        }
        json_decref(j);
        return st;
    }
    const char *me = cli_client_party(a->cl);
    if (!me)
        return CLI_FAIL;
    char mine[COMITY_PARTY_MAX + 1];
    snprintf(mine, sizeof mine, "%.*s", (int)strcspn(me, "."), me);
    json_t *b = NULL;
    if (!strcmp(what, "delegate")) {
        if (npos != 2)
            return cli_usage(a->cl->cmd, "position delegate: want the office");
        if (!(b = json_pack("{s:s}", "office", pos[1])))
            return CLI_FAIL;
    }
    if (!b && (st = build_body(a, &b)))
        return st;
    if (!strcmp(what, "delegate")) {
        if (!json_object_get(b, "valid_from")) {
            char t[32];
            cli_time_arg("now", t, NULL);
            json_object_set_new(b, "valid_from", json_string(t));
        }
        struct cli_msg m = {.type = "norm-position-delegation"};
        return cli_client_send(a->cl, &m, b, NULL);
    }
    if (!strcmp(what, "draft") || !strcmp(what, "comment")) {
        bool comment = !strcmp(what, "comment");
        if (comment && npos != 2) {
            json_decref(b);
            return cli_usage(a->cl->cmd, "position comment: want the draft");
        }
        const char *to[1] = {mine};
        const char *refs[1] = {comment ? pos[1] : a->supersedes};
        struct cli_msg m = {.type = comment ? "norm-position-comment" : "norm-position-draft",
                            .tlp = a->tlp, .to = to, .nto = 1, /* sealed: --tlp */
                            .refs = refs, .nrefs = refs[0] ? 1 : 0};
        return cli_client_send(a->cl, &m, b, NULL);
    }
    if (!strcmp(what, "publish")) {
        /* refs: the current version of ours on the topic, then the drafts named */
        const char *topic = json_string_value(json_object_get(b, "topic"));
        char *cur = NULL;
        char path[256];
        snprintf(path, sizeof path, "/v1/framework/norms/positions?topic=%s", topic ? topic : "");
        if (topic && cli_client_get_json(a->cl, path, &j) == CLI_OK) {
            size_t i;
            json_t *s;
            json_array_foreach(json_object_get(json_array_get(json_object_get(j, "topics"), 0),
                                               "states"), i, s) {
                if (!strcmp(s_(s, "state"), mine))
                    cur = strdup(s_(s, "record"));
            }
        }
        json_decref(j);
        const char *refs[2] = {cur ? cur : a->supersedes, cur ? a->supersedes : NULL};
        struct cli_msg m = {.type = "norm-position", .refs = refs,
                            .nrefs = refs[1] ? 2 : refs[0] ? 1 : 0};
        st = cli_client_send(a->cl, &m, b, NULL);
        free(cur);
        return st;
    }
    json_decref(b);
    return cli_usage(a->cl->cmd, "position '%s': want draft, comment, delegate, publish or compare",
                     what);
}

static int do_list(struct norm_args *a)
{
    json_t *j = NULL;
    int st = cli_client_get_json(a->cl, "/v1/framework/cases", &j);
    if (st)
        return st;
    size_t i, n = 0;
    json_t *c;
    json_array_foreach(json_object_get(j, "cases"), i, c) {
        if (!prefix(s_(c, "mechanism"), "norm-"))
            continue;
        n++;
        printf("%s  %s  %s  due %s%s\n", s_(c, "id"), s_(c, "state"), s_(c, "role"),
               s_(c, "due"), json_is_true(json_object_get(c, "overdue")) ? "  OVERDUE" : "");
        size_t k;
        json_t *ck;
        json_array_foreach(json_object_get(c, "clocks"), k, ck)
            printf("    %-12s %-12s due %s%s\n", s_(ck, "name"), s_(ck, "who"), s_(ck, "due"),
                   json_is_true(json_object_get(ck, "overdue")) ? "  OVERDUE" : "");
    }
    if (!n)
        printf("no open complaints or disclosures\n");
    json_decref(j);
    return CLI_OK;
}

int cmd_norm(int argc, char **argv)
{
    if (argc < 2)
        return cli_usage("norm", "want catalogue, declare, declarations, complain, disclose, "
                                 "a step of a case, list or show (comity help norm)");
    const char *sub = argv[1];
    if (!strcmp(sub, "complain"))
        return via_case("open", NULL, "norm-complaint", NULL, argc - 2, argv + 2);
    if (!strcmp(sub, "disclose")) /* sealed: --tlp (the framework refuses it in clear) */
        return via_case("open", NULL, "norm-disclosure", NULL, argc - 2, argv + 2);
    if (!strcmp(sub, "show"))
        return argc < 3 ? cli_usage("norm", "show: want a case id")
                        : via_case("show", NULL, argv[2], NULL, argc - 3, argv + 3);
    if (strcmp(sub, "catalogue") && strcmp(sub, "declare") && strcmp(sub, "declarations") &&
        strcmp(sub, "list") && strcmp(sub, "report") && strcmp(sub, "position"))
        return cli_finish(step(sub, argc - 2, argv + 2));
    static const struct option opts[] = {
        {"to", required_argument, 0, OPT_TO},     {"set", required_argument, 0, OPT_SET},
        {"body", required_argument, 0, OPT_BODY}, {"tlp", required_argument, 0, OPT_TLP},
        {"supersedes", required_argument, 0, OPT_SUP},
        {"reseal", required_argument, 0, OPT_RESEAL},
        {"json", no_argument, 0, OPT_JSON},       {"norm", required_argument, 0, OPT_NORM},
        {0, 0, 0, 0}};
    struct cli_client cl;
    cli_client_init(&cl, !strcmp(sub, "catalogue") ? "norm catalogue"
                         : !strcmp(sub, "declare") ? "norm declare"
                         : !strcmp(sub, "list")    ? "norm list"
                         : !strcmp(sub, "report")  ? "norm report"
                         : !strcmp(sub, "position") ? "norm position"
                                                   : "norm declarations");
    struct norm_args a = {.cl = &cl};
    int st = cli_client_args(&cl, argc - 1, argv + 1, opts, on_opt, &a);
    int npos = argc - 1 - optind;
    char **pos = argv + 1 + optind;
    bool writes = !strcmp(sub, "declare") || (!strcmp(sub, "catalogue") && npos > 0) ||
                  (!strcmp(sub, "report") && npos == 0) ||
                  (!strcmp(sub, "position") && npos > 0 && strcmp(pos[0], "compare"));
    if (!st)
        st = cli_client_setup(&cl, CLI_NEED_URL | CLI_NEED_TOKEN | (writes ? CLI_NEED_KEY : 0) |
                                       (!strcmp(sub, "declarations") && cl.key ? CLI_NEED_KEY : 0));
    if (!st && !strcmp(sub, "catalogue"))
        st = do_catalogue(&a, npos, pos);
    else if (!st && !strcmp(sub, "declare"))
        st = npos ? cli_usage(cl.cmd, "'%s': BODY is --body FILE or --set F=V", pos[0])
                  : do_declare(&a);
    else if (!st && !strcmp(sub, "position"))
        st = do_position(&a, npos, pos);
    else if (!st && !strcmp(sub, "report"))
        st = do_report(&a, npos, pos);
    else if (!st && !strcmp(sub, "declarations"))
        st = do_declarations(&a, npos ? pos[0] : NULL);
    else if (!st)
        st = do_list(&a);
    list_free(&a.to);
    list_free(&a.set);
    cli_client_free(&cl);
    return cli_finish(st);
}
