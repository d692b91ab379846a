/*
 * cmd_record_net.c: `comity record post|get|receipt|list`: talk to a node.
 *
 * A thin HTTP client of a node's /v1/records API: it sends what it is
 * given and prints what it gets; the node decides.  The client options
 * (client.c) are shared with every command that talks to a node:
 *
 *   --url URL        the node (or $COMITY_URL), e.g. https://127.0.0.1:8443
 *   --token TOKEN    the party's API token (or $COMITY_TOKEN)
 *   --cacert FILE    trust this certificate (e.g. the node's tls/cert.pem)
 *   --insecure       do not check the node's certificate (local tests)
 *   --config FILE    a client.conf with any of these
 *
 * Exit statuses: 0 accepted / found; 1 the node refused (a 4xx: its JSON
 * error is printed on stderr); 2 usage or input error; 3 no answer or a
 * server error.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client.h"
#include "record_net.h"

struct net {
    struct cli_client cl;
    const char *out;
    int wait_s;
    char *query; /* list filters, "&"-joined (owned) */
};

static void net_free(struct net *n)
{
    cli_client_free(&n->cl);
    free(n->query);
    n->query = NULL;
}

/* Parses the shared options (and list filters); positional arguments are
 * left in argv[optind..].  On failure n is freed. */
static int options(int argc, char **argv, struct net *n, bool list)
{
    static const struct option opts[] = {
        CLI_CLIENT_OPTIONS,
        {"out", required_argument, 0, 'o'},    {"wait", required_argument, 0, 'w'},
        {"type", required_argument, 0, 'T'},   {"author", required_argument, 0, 'A'},
        {"to", required_argument, 0, 'R'},     {"since", required_argument, 0, 'S'},
        {"limit", required_argument, 0, 'L'},  {"cursor", required_argument, 0, 'C'},
        {0, 0, 0, 0}};
    memset(n, 0, sizeof *n);
    cli_client_init(&n->cl, "record");
    n->cl.raw_errors = 1;
    n->wait_s = 10;
    int c, st = CLI_OK;
    optind = 1;
    while (!st && (c = getopt_long(argc, argv, "o:w:", opts, NULL)) != -1) {
        if (cli_client_option(&n->cl, c, optarg))
            continue;
        switch (c) {
        case 'o': n->out = optarg; break;
        case 'w': {
            char *end = NULL;
            long v = strtol(optarg, &end, 10);
            if (end == optarg || *end || v < 0 || v > 3600)
                st = cli_usage("record", "--wait wants seconds (0 to 3600)");
            n->wait_s = (int)v;
            break;
        }
        case 'T': case 'A': case 'R': case 'S': case 'L': case 'C': {
            if (!list) {
                st = cli_usage("record", "filters go with 'record list'");
                break;
            }
            const char *key = c == 'T' ? "type" : c == 'A' ? "author" : c == 'R' ? "to"
                            : c == 'S' ? "since" : c == 'L' ? "limit" : "cursor";
            st = cli_query_add(&n->query, key, optarg);
            break;
        }
        default: st = cli_usage("record", "unknown option");
        }
    }
    if (!st)
        st = cli_client_setup(&n->cl, CLI_NEED_URL);
    if (st)
        net_free(n);
    return st;
}

/* Prints a successful answer to --out or stdout; returns an exit status. */
static int print_answer(const struct net *n, const struct cli_resp *r, bool newline)
{
    int st = cli_client_answer(&n->cl, r);
    if (!st)
        st = cli_output(n->out, r->data ? r->data : "", r->len);
    if (!st && newline && (!n->out || !strcmp(n->out, "-")))
        putchar('\n');
    return st;
}

int cmd_record_post(int argc, char **argv)
{
    struct net n;
    int st = options(argc, argv, &n, false);
    if (st)
        return st;
    if (argc - optind > 1) {
        net_free(&n);
        return cli_usage("record", "post takes one envelope file (or stdin)");
    }
    char *env = NULL;
    size_t len = 0;
    comity_error e = {0};
    if (comity_read_file(optind < argc ? argv[optind] : "-", COMITY_DSSE_MAX + 1, &env, &len,
                         &e)) {
        net_free(&n);
        return cli_error("record post", &e);
    }
    struct cli_resp r;
    st = cli_client_http(&n.cl, "POST", "/v1/records", env, len, &r);
    comity_free(env);
    if (!st)
        st = print_answer(&n, &r, true);
    free(r.data);
    net_free(&n);
    return cli_finish(st);
}

int cmd_record_get(int argc, char **argv)
{
    struct net n;
    int st = options(argc, argv, &n, false);
    if (st)
        return st;
    if (argc - optind != 1 || !cli_id_ok(argv[optind])) {
        net_free(&n);
        return cli_usage("record", "get takes one record id (<type>--<uuid>)");
    }
    char path[256];
    snprintf(path, sizeof path, "/v1/records/%s", argv[optind]);
    struct cli_resp r;
    st = cli_client_http(&n.cl, "GET", path, NULL, 0, &r);
    if (!st)
        st = print_answer(&n, &r, true);
    free(r.data);
    net_free(&n);
    return cli_finish(st);
}

int cmd_record_receipt(int argc, char **argv)
{
    struct net n;
    int st = options(argc, argv, &n, false);
    if (st)
        return st;
    if (argc - optind != 1 || !cli_id_ok(argv[optind])) {
        net_free(&n);
        return cli_usage("record", "receipt takes one record id (<type>--<uuid>)");
    }
    char path[256];
    snprintf(path, sizeof path, "/v1/records/%s/receipt", argv[optind]);
    time_t until = time(NULL) + n.wait_s;
    struct cli_resp r = {0};
    for (;;) {
        free(r.data);
        st = cli_client_http(&n.cl, "GET", path, NULL, 0, &r);
        /* 404 "not yet available": a checkpoint comes within a second */
        if (st || r.status != 404 || !r.data || !strstr(r.data, "not yet") ||
            time(NULL) >= until)
            break;
        struct timespec ts = {0, 250 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if (!st)
        st = print_answer(&n, &r, false);
    free(r.data);
    net_free(&n);
    return cli_finish(st);
}

int cmd_record_list(int argc, char **argv)
{
    struct net n;
    int st = options(argc, argv, &n, true);
    if (st)
        return st;
    if (argc != optind) {
        net_free(&n);
        return cli_usage("record", "list takes options only");
    }
    char path[4096];
    snprintf(path, sizeof path, "/v1/records%s%s", n.query ? "?" : "", n.query ? n.query : "");
    struct cli_resp r;
    st = cli_client_http(&n.cl, "GET", path, NULL, 0, &r);
    if (!st)
        st = print_answer(&n, &r, true);
    free(r.data);
    net_free(&n);
    return cli_finish(st);
}
