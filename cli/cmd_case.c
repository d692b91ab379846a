/*
 * cmd_case.c: `comity case`: open, advance, list and show cases
 * (consultations and evidence requests; docs/framework.md, "Cases").
 *
 *   comity case open TYPE --to PARTY... [--ref ID]... BODY
 *   comity case send ID TYPE [--to PARTY...] BODY
 *   comity case list [--party P]
 *   comity case show ID
 *   comity case custody ID, comity case retention DIR   (cmd_custody.c)
 *   comity case upload ID TYPE FILE [--name N] [--keep FILE.age] BODY
 *   comity case attach RECORD-ID FILE.age|SHA256
 *   comity case fetch SHA256 [-o OUT] [--sealed]
 *
 * BODY is --body FILE (a JSON object) and/or --set FIELD=VALUE (repeatable;
 * a VALUE that reads as JSON, like 60, true or ["a"], is taken as such,
 * anything else as a string).  Every rule is the framework's: the body is
 * checked against the type's schema before signing (a mistake names the
 * field), and a record the case's status table refuses comes back from
 * the node with its rule, which is printed.  `send` addresses the record
 * to every other party of the case (as the node shows them) and shares it
 * at the case opening's TLP unless --to or --tlp say otherwise.  `upload`
 * seals a file to the case's parties and sends the age file as it is
 * sealed, then a record of TYPE whose body's `files` names it (sha256,
 * size, name), then attaches the file to the record (case_files.c);
 * `attach` attaches a file sent before, or sends an age file (again);
 * `fetch` gets and opens one.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "case_files.h"


struct case_args {
    struct cli_client *cl;
    struct cli_list to, refs, set;
    const char *body, *tlp, *party;
    const char *name, *keep, *out; /* upload, fetch */
    int sealed;
};

enum { OPT_TO = 't', OPT_REF = 'r', OPT_SET = 's', OPT_BODY = 'b', OPT_TLP = 'l', OPT_PARTY = 'p',
       OPT_NAME = 'n', OPT_KEEP = 'k', OPT_OUT = 'o', OPT_SEALED = 'S' };

/* The lists here own their strings (strdup'ed). */
static void list_free(struct cli_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    cli_list_free(l);
}

static int on_opt(void *ctx, int c, const char *arg)
{
    struct case_args *a = ctx;
    char *d = NULL;
    switch (c) {
    case OPT_TO:
    case OPT_REF:
    case OPT_SET:
        if (!(d = strdup(arg)) ||
            cli_list_add(c == OPT_TO ? &a->to : c == OPT_REF ? &a->refs : &a->set, d)) {
            free(d);
            return CLI_FAIL;
        }
        return CLI_OK;
    case OPT_BODY: a->body = arg; return CLI_OK;
    case OPT_TLP: a->tlp = arg; return CLI_OK;
    case OPT_PARTY: a->party = arg; return CLI_OK;
    case OPT_NAME: a->name = arg; return CLI_OK;
    case OPT_KEEP: a->keep = arg; return CLI_OK;
    case OPT_OUT: a->out = arg; return CLI_OK;
    case OPT_SEALED: a->sealed = 1; return CLI_OK;
    default: return cli_usage(a->cl->cmd, "unknown option");
    }
}

/* The body from --body FILE then --set FIELD=VALUE.  OUT *out. */
static int build_body(struct case_args *a, json_t **out)
{
    return cli_body_build(a->cl->cmd, a->body, NULL, &a->set, out);
}

/* The state a party belongs to (its first label), into st. */
static void state_of(const char *party, char st[COMITY_PARTY_MAX + 1])
{
    size_t n = strcspn(party, ".");
    if (n > COMITY_PARTY_MAX)
        n = COMITY_PARTY_MAX;
    memcpy(st, party, n);
    st[n] = 0;
}

/* `send`: the case's other parties (unless --to) and its opening's TLP
 * (unless --tlp), as the node shows them to us. */
static int send_defaults(struct case_args *a, const char *id, char tlp[32])
{
    char path[256];
    snprintf(path, sizeof path, "/v1/framework/cases/%s", id);
    json_t *c = NULL;
    int st = cli_client_get_json(a->cl, path, &c);
    if (st)
        return st;
    const char *me = cli_client_party(a->cl);
    if (!me) {
        json_decref(c);
        return CLI_FAIL;
    }
    char mine[COMITY_PARTY_MAX + 1];
    state_of(me, mine);
    if (a->to.n == 0) {
        json_t *p;
        size_t i;
        json_array_foreach(json_object_get(c, "parties"), i, p)
        {
            const char *n = json_string_value(json_object_get(p, "party"));
            if (!n || !strcmp(n, me) || !strcmp(n, mine))
                continue;
            char *d = strdup(n);
            if (!d || cli_list_add(&a->to, d)) {
                free(d);
                json_decref(c);
                return CLI_FAIL;
            }
        }
    }
    json_decref(c);
    tlp[0] = 0;
    if (!a->tlp) {
        struct cli_resp r;
        snprintf(path, sizeof path, "/v1/records/%s", id);
        if (cli_client_http(a->cl, "GET", path, NULL, 0, &r) == CLI_OK && r.status == 200) {
            comity_record *rec;
            if (comity_record_parse(r.data, r.len, &rec, NULL) == COMITY_OK) {
                snprintf(tlp, 32, "%s", comity_record_tlp(rec));
                comity_record_free(rec);
            }
        }
        free(r.data);
    }
    return CLI_OK;
}

static void print_clocks(json_t *clocks)
{
    json_t *k;
    size_t i;
    json_array_foreach(clocks, i, k)
    {
        const char *due = json_string_value(json_object_get(k, "due"));
        printf("    %-22s %-10s due %s%s\n", json_string_value(json_object_get(k, "name")),
               json_string_value(json_object_get(k, "who")) ?
                   json_string_value(json_object_get(k, "who")) : "",
               due ? due : "-", json_is_true(json_object_get(k, "overdue")) ? "  OVERDUE" : "");
    }
}

static int do_list(struct case_args *a)
{
    char *q = NULL;
    if (a->party && cli_query_add(&q, "party", a->party))
        return CLI_FAIL;
    char path[512];
    snprintf(path, sizeof path, "/v1/framework/cases%s%s", q ? "?" : "", q ? q : "");
    free(q);
    json_t *j = NULL;
    int st = cli_client_get_json(a->cl, path, &j);
    if (st)
        return st;
    json_t *c;
    size_t i;
    json_array_foreach(json_object_get(j, "cases"), i, c)
    {
        const char *due = json_string_value(json_object_get(c, "due"));
        printf("%s  %s  %s  %s  due %s%s\n", json_string_value(json_object_get(c, "id")),
               json_string_value(json_object_get(c, "mechanism")),
               json_string_value(json_object_get(c, "state")),
               json_string_value(json_object_get(c, "role")), due ? due : "-",
               json_is_true(json_object_get(c, "overdue")) ? "  OVERDUE" : "");
        print_clocks(json_object_get(c, "clocks"));
    }
    if (json_array_size(json_object_get(j, "cases")) == 0)
        printf("no open cases\n");
    json_decref(j);
    return CLI_OK;
}

static int do_show(struct case_args *a, const char *id)
{
    if (!cli_id_ok(id))
        return cli_usage(a->cl->cmd, "'%s' is not a case id (<type>--<uuid>)", id);
    char path[256];
    snprintf(path, sizeof path, "/v1/framework/cases/%s", id);
    json_t *j = NULL;
    int st = cli_client_get_json(a->cl, path, &j);
    if (st)
        return st;
    char *s = json_dumps(j, JSON_INDENT(2));
    if (s)
        printf("%s\n", s);
    free(s);
    json_decref(j);
    return s ? CLI_OK : CLI_FAIL;
}

/* cmd_custody.c: `case custody` and `case retention`. */
int cmd_case_custody(int argc, char **argv);

/* Adds {sha256, size, name} to body.files (made when absent); a
 * consult-document without a title takes the name.  0 or CLI_FAIL. */
static int add_file(json_t *body, const char *type, const char *hash, uint64_t size,
                    const char *name)
{
    json_t *files = json_object_get(body, "files");
    if (!files && (!(files = json_array()) || json_object_set_new(body, "files", files)))
        return CLI_FAIL;
    json_t *o = json_pack("{s:s, s:I, s:s}", "sha256", hash, "size", (json_int_t)size,
                          "name", name);
    if (!o || !json_is_array(files) || json_array_append_new(files, o))
        return CLI_FAIL;
    if (!strcmp(type, "consult-document") && !json_object_get(body, "title"))
        json_object_set_new(body, "title", json_string(name));
    return CLI_OK;
}

/* `upload`: seal FILE to the case's parties and send the age file to the
 * node as it is sealed (one pass; also into --keep's file), then send a
 * record of TYPE naming it in body.files, then attach the file to it. */
static int do_upload(struct case_args *a, const char *type, const char *file, const char *tlp)
{
    struct cli_client *cl = a->cl;
    char hash[65];
    uint64_t size = 0;
    json_t *body = NULL;
    int st = build_body(a, &body);
    if (!st)
        st = cli_case_send_file(cl, a->refs.v[0], file, (const char *const *)a->to.v, a->to.n,
                                a->keep, hash, &size);
    const char *name = a->name;
    if (!name) {
        name = strrchr(file, '/');
        name = name ? name + 1 : file;
    }
    if (!st && add_file(body, type, hash, size, name))
        st = CLI_FAIL;
    char *rid = NULL;
    if (!st) {
        struct cli_msg m = {.type = type,
                            .tlp = a->tlp ? a->tlp : tlp[0] ? tlp : NULL,
                            .to = (const char *const *)a->to.v,
                            .nto = a->to.n,
                            .refs = (const char *const *)a->refs.v,
                            .nrefs = a->refs.n};
        st = cli_client_send(cl, &m, body, &rid);
        body = NULL;
    }
    json_decref(body);
    if (!st && (st = cli_case_attach_hash(cl, rid, hash)))
        fprintf(stderr, "comity %s: the file is on the node and the record sent; attach it "
                        "with\n  comity case attach %s %s\n", cl->cmd, rid, hash);
    free(rid);
    return st;
}

int cmd_case(int argc, char **argv)
{
    static const struct option opts[] = {
        {"to", required_argument, 0, OPT_TO},     {"ref", required_argument, 0, OPT_REF},
        {"set", required_argument, 0, OPT_SET},   {"body", required_argument, 0, OPT_BODY},
        {"tlp", required_argument, 0, OPT_TLP},   {"party", required_argument, 0, OPT_PARTY},
        {"name", required_argument, 0, OPT_NAME}, {"keep", required_argument, 0, OPT_KEEP},
        {"out", required_argument, 0, OPT_OUT},   {"sealed", no_argument, 0, OPT_SEALED},
        {0, 0, 0, 0}};
    if (argc < 2)
        return cli_usage("case", "want open, send, list, show, upload, attach, fetch, custody "
                                 "or retention (comity help case)");
    const char *sub = argv[1];
    if (!strcmp(sub, "custody") || !strcmp(sub, "retention"))
        return cmd_case_custody(argc, argv);
    struct cli_client cl;
    cli_client_init(&cl, !strcmp(sub, "open")     ? "case open"
                         : !strcmp(sub, "send")   ? "case send"
                         : !strcmp(sub, "list")   ? "case list"
                         : !strcmp(sub, "upload") ? "case upload"
                         : !strcmp(sub, "attach") ? "case attach"
                         : !strcmp(sub, "fetch")  ? "case fetch"
                                                  : "case show");
    struct case_args a = {.cl = &cl};
    int st = cli_client_args(&cl, argc - 1, argv + 1, opts, on_opt, &a);
    int npos = argc - 1 - optind;
    char **pos = argv + 1 + optind;
    bool files = !strcmp(sub, "upload") || !strcmp(sub, "attach") || !strcmp(sub, "fetch");
    if (!st && strcmp(sub, "open") && strcmp(sub, "send") && strcmp(sub, "list") &&
        strcmp(sub, "show") && !files)
        st = cli_usage("case", "'%s': want open, send, list, show, upload, attach or fetch",
                       sub);
    if (!st && !strcmp(sub, "upload") && npos != 3)
        st = cli_usage(cl.cmd, "want a case id, a type and a file: comity case upload ID "
                               "TYPE FILE ...");
    if (!st && !strcmp(sub, "attach") && npos != 2)
        st = cli_usage(cl.cmd, "want a record id and an age file: comity case attach "
                               "RECORD-ID FILE.age|SHA256");
    if (!st && !strcmp(sub, "fetch") && npos != 1)
        st = cli_usage(cl.cmd, "want a file's SHA-256: comity case fetch SHA256 [-o OUT]");
    if (!st && !strcmp(sub, "open") && npos != 1)
        st = cli_usage(cl.cmd, "want the opening's type: comity case open TYPE --to PARTY ...");
    if (!st && !strcmp(sub, "send") && npos != 2)
        st = cli_usage(cl.cmd, "want a case id and a type: comity case send ID TYPE ...");
    if (!st && !strcmp(sub, "show") && npos != 1)
        st = cli_usage(cl.cmd, "want one case id: comity case show ID");
    if (!st && !strcmp(sub, "list") && npos != 0)
        st = cli_usage(cl.cmd, "takes no arguments (--party P for the operator)");
    bool writes = !st && (!strcmp(sub, "open") || !strcmp(sub, "send"));
    if (!st)
        st = cli_client_setup(&cl, CLI_NEED_URL | CLI_NEED_TOKEN |
                                       (writes || (files && !a.sealed) ? CLI_NEED_KEY : 0));
    if (!st && !strcmp(sub, "attach")) {
        /* a hash: a file sent by upload; else an age file to send */
        if (strlen(pos[1]) == 64 && strspn(pos[1], "0123456789abcdef") == 64 &&
            access(pos[1], F_OK) != 0)
            st = cli_case_attach_hash(&cl, pos[0], pos[1]);
        else
            st = cli_case_attach(&cl, pos[0], pos[1], NULL, 0);
    }
    else if (!st && !strcmp(sub, "fetch"))
        st = cli_case_fetch(&cl, pos[0], a.out, a.sealed);
    else if (!st && !strcmp(sub, "upload")) {
        char tlp[32] = "";
        if (!cli_id_ok(pos[0]))
            st = cli_usage(cl.cmd, "'%s' is not a case id (<type>--<uuid>)", pos[0]);
        else
            st = send_defaults(&a, pos[0], tlp);
        char *d = st ? NULL : strdup(pos[0]);
        if (!st && (!d || cli_list_add(&a.refs, d))) {
            free(d);
            st = CLI_FAIL;
        }
        if (!st && a.refs.n > 1) { /* the case first */
            char *c = a.refs.v[a.refs.n - 1];
            memmove(a.refs.v + 1, a.refs.v, (a.refs.n - 1) * sizeof *a.refs.v);
            a.refs.v[0] = c;
        }
        if (!st)
            st = do_upload(&a, pos[1], pos[2], tlp);
    } else if (!st && !strcmp(sub, "list"))
        st = do_list(&a);
    else if (!st && !strcmp(sub, "show"))
        st = do_show(&a, pos[0]);
    else if (!st && writes) {
        const char *type = pos[npos - 1];
        char tlp[32] = "";
        if (!strcmp(sub, "send")) {
            if (!cli_id_ok(pos[0]))
                st = cli_usage(cl.cmd, "'%s' is not a case id (<type>--<uuid>)", pos[0]);
            else
                st = send_defaults(&a, pos[0], tlp);
            /* refs[0] is the case */
            char *d = st ? NULL : strdup(pos[0]);
            if (!st && (!d || cli_list_add(&a.refs, d))) {
                free(d);
                st = CLI_FAIL;
            }
            if (!st && a.refs.n > 1) { /* the case first */
                char *c = a.refs.v[a.refs.n - 1];
                memmove(a.refs.v + 1, a.refs.v, (a.refs.n - 1) * sizeof *a.refs.v);
                a.refs.v[0] = c;
            }
        }
        json_t *body = NULL;
        if (!st)
            st = build_body(&a, &body);
        if (!st) {
            struct cli_msg m = {.type = type,
                                .tlp = a.tlp ? a.tlp : tlp[0] ? tlp : NULL,
                                .to = (const char *const *)a.to.v,
                                .nto = a.to.n,
                                .refs = (const char *const *)a.refs.v,
                                .nrefs = a.refs.n};
            st = cli_client_send(&cl, &m, body, NULL);
        }
    }
    list_free(&a.to);
    list_free(&a.refs);
    list_free(&a.set);
    cli_client_free(&cl);
    return cli_finish(st);
}
