/*
 * cmd_record_net.c: `comity record post|get|receipt|list`: talk to a node.
 *
 * A thin HTTP client (libcurl) of a node's /v1/records API: it sends what
 * it is given and prints what it gets; the node decides.  Options shared by
 * all four:
 *
 *   --url URL        the node (or $COMITY_URL), e.g. https://127.0.0.1:8443
 *   --token TOKEN    the party's API token (or $COMITY_TOKEN)
 *   --cacert FILE    trust this certificate (e.g. the node's tls/cert.pem)
 *   --insecure       do not check the node's certificate (local tests)
 *
 * Exit statuses: 0 accepted / found; 1 the node refused (a 4xx: its JSON
 * error is printed on stderr); 2 usage or input error; 3 no answer or a
 * server error.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "cli.h"
#include "record_net.h"

#define RESP_MAX (64u << 20)
#define URL_MAX 4096

struct net {
    const char *url, *token, *cacert, *out;
    int insecure;
    int wait_s;
    char *query; /* list filters, "&"-joined (owned) */
};

struct sink {
    char *data;
    size_t len;
    int over;
};

static size_t on_data(char *p, size_t size, size_t n, void *ctx)
{
    struct sink *s = ctx;
    size_t k = size * n;
    if (s->len + k > RESP_MAX) {
        s->over = 1;
        return 0;
    }
    char *d = realloc(s->data, s->len + k + 1);
    if (!d)
        return 0;
    memcpy(d + s->len, p, k);
    s->len += k;
    d[s->len] = 0;
    s->data = d;
    return k;
}

/* One request; *status gets the HTTP status (0: no answer).  OUT resp
 * (malloc'ed, NUL-terminated) may be NULL on failure. */
static int http(const struct net *n, const char *method, const char *path, const char *body,
                size_t body_len, long *status, struct sink *resp)
{
    char url[URL_MAX];
    const char *base = n->url;
    size_t bl = strlen(base);
    while (bl && base[bl - 1] == '/')
        bl--;
    if ((size_t)snprintf(url, sizeof url, "%.*s%s", (int)bl, base, path) >= sizeof url) {
        fprintf(stderr, "comity: record: URL too long\n");
        return CLI_USAGE;
    }
    CURL *c = curl_easy_init();
    if (!c)
        return CLI_FAIL;
    struct curl_slist *h = NULL;
    char auth[600];
    if (n->token) {
        snprintf(auth, sizeof auth, "Authorization: Token %s", n->token);
        h = curl_slist_append(h, auth);
    }
    h = curl_slist_append(h, "Accept: application/json, text/plain");
    if (body)
        h = curl_slist_append(h, "Content-Type: application/json");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, resp);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    }
    if (n->cacert)
        curl_easy_setopt(c, CURLOPT_CAINFO, n->cacert);
    if (n->insecure) {
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    CURLcode rc = curl_easy_perform(c);
    *status = 0;
    if (rc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    else
        fprintf(stderr, "comity: record: %s %s: %s\n", method, url,
                resp->over ? "answer too large" : curl_easy_strerror(rc));
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return rc == CURLE_OK ? CLI_OK : CLI_FAIL;
}

/* Maps an answer to an exit status, printing refusals on stderr. */
static int answer(const char *what, long status, const struct sink *r)
{
    if (status >= 200 && status < 300)
        return CLI_OK;
    fprintf(stderr, "comity: record %s: the node answered %ld: %s\n", what, status,
            r->data ? r->data : "");
    return status >= 400 && status < 500 ? CLI_NO : CLI_FAIL;
}

static int add_query(struct net *n, const char *key, const char *value)
{
    CURL *c = curl_easy_init();
    char *esc = c ? curl_easy_escape(c, value, 0) : NULL;
    size_t old = n->query ? strlen(n->query) : 0;
    size_t need = old + strlen(key) + (esc ? strlen(esc) : 0) + 3;
    char *q = esc ? realloc(n->query, need) : NULL;
    if (q) {
        snprintf(q + old, need - old, "%s%s=%s", old ? "&" : "", key, esc);
        n->query = q;
    }
    curl_free(esc);
    curl_easy_cleanup(c);
    return q ? CLI_OK : CLI_FAIL;
}

/* Parses the shared options (and list filters); positional arguments are
 * left in argv[optind..]. */
static int options(int argc, char **argv, struct net *n, bool list)
{
    static const struct option opts[] = {
        {"url", required_argument, 0, 'u'},    {"token", required_argument, 0, 't'},
        {"cacert", required_argument, 0, 'c'}, {"insecure", no_argument, 0, 'k'},
        {"out", required_argument, 0, 'o'},    {"wait", required_argument, 0, 'w'},
        {"type", required_argument, 0, 'T'},   {"author", required_argument, 0, 'A'},
        {"to", required_argument, 0, 'R'},     {"since", required_argument, 0, 'S'},
        {"limit", required_argument, 0, 'L'},  {"cursor", required_argument, 0, 'C'},
        {0, 0, 0, 0}};
    memset(n, 0, sizeof *n);
    n->url = getenv("COMITY_URL");
    n->token = getenv("COMITY_TOKEN");
    n->wait_s = 10;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "u:t:c:ko:w:", opts, NULL)) != -1) {
        switch (c) {
        case 'u': n->url = optarg; break;
        case 't': n->token = optarg; break;
        case 'c': n->cacert = optarg; break;
        case 'k': n->insecure = 1; break;
        case 'o': n->out = optarg; break;
        case 'w': {
            char *end = NULL;
            long v = strtol(optarg, &end, 10);
            if (end == optarg || *end || v < 0 || v > 3600)
                return cli_usage("record", "--wait wants seconds (0 to 3600)");
            n->wait_s = (int)v;
            break;
        }
        case 'T': case 'A': case 'R': case 'S': case 'L': case 'C': {
            if (!list)
                return cli_usage("record", "filters go with 'record list'");
            const char *key = c == 'T' ? "type" : c == 'A' ? "author" : c == 'R' ? "to"
                            : c == 'S' ? "since" : c == 'L' ? "limit" : "cursor";
            if (add_query(n, key, optarg))
                return CLI_FAIL;
            break;
        }
        default: return cli_usage("record", "unknown option");
        }
    }
    if (!n->url)
        return cli_usage("record", "no node given: --url https://HOST:PORT (or $COMITY_URL)");
    if (strncmp(n->url, "https://", 8) && strncmp(n->url, "http://", 7))
        return cli_usage("record", "--url must start with https:// or http://");
    return CLI_OK;
}

/* A record id as a path segment: only the characters ids are made of. */
static bool id_ok(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n > 128)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((id[i] >= 'a' && id[i] <= 'z') || (id[i] >= '0' && id[i] <= '9') || id[i] == '-'))
            return false;
    return true;
}

int cmd_record_post(int argc, char **argv)
{
    struct net n;
    int st = options(argc, argv, &n, false);
    if (st)
        return st;
    if (argc - optind > 1)
        return cli_usage("record", "post takes one envelope file (or stdin)");
    char *env = NULL;
    size_t len = 0;
    comity_error e = {0};
    if (comity_read_file(optind < argc ? argv[optind] : "-", COMITY_DSSE_MAX + 1, &env, &len,
                         &e))
        return cli_error("record post", &e);
    long status = 0;
    struct sink r = {0};
    st = http(&n, "POST", "/v1/records", env, len, &status, &r);
    comity_free(env);
    if (!st && !(st = answer("post", status, &r)))
        st = cli_output(n.out, r.data ? r.data : "", r.len);
    if (!st && (!n.out || !strcmp(n.out, "-")))
        putchar('\n');
    free(r.data);
    return cli_finish(st);
}

int cmd_record_get(int argc, char **argv)
{
    struct net n;
    int st = options(argc, argv, &n, false);
    if (st)
        return st;
    if (argc - optind != 1 || !id_ok(argv[optind]))
        return cli_usage("record", "get takes one record id (<type>--<uuid>)");
    char path[256];
    snprintf(path, sizeof path, "/v1/records/%s", argv[optind]);
    long status = 0;
    struct sink r = {0};
    st = http(&n, "GET", path, NULL, 0, &status, &r);
    if (!st && !(st = answer("get", status, &r)))
        st = cli_output(n.out, r.data ? r.data : "", r.len);
    if (!st && (!n.out || !strcmp(n.out, "-")))
        putchar('\n');
    free(r.data);
    return cli_finish(st);
}

int cmd_record_receipt(int argc, char **argv)
{
    struct net n;
    int st = options(argc, argv, &n, false);
    if (st)
        return st;
    if (argc - optind != 1 || !id_ok(argv[optind]))
        return cli_usage("record", "receipt takes one record id (<type>--<uuid>)");
    char path[256];
    snprintf(path, sizeof path, "/v1/records/%s/receipt", argv[optind]);
    time_t until = time(NULL) + n.wait_s;
    long status = 0;
    struct sink r = {0};
    for (;;) {
        free(r.data);
        memset(&r, 0, sizeof r);
        st = http(&n, "GET", path, NULL, 0, &status, &r);
        /* 404 "not yet available": a checkpoint comes within a second */
        if (st || status != 404 || !r.data || !strstr(r.data, "not yet") || time(NULL) >= until)
            break;
        struct timespec ts = {0, 250 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if (!st && !(st = answer("receipt", status, &r)))
        st = cli_output(n.out, r.data ? r.data : "", r.len);
    free(r.data);
    return cli_finish(st);
}

int cmd_record_list(int argc, char **argv)
{
    struct net n;
    int st = options(argc, argv, &n, true);
    if (st) {
        free(n.query);
        return st;
    }
    if (argc != optind) {
        free(n.query);
        return cli_usage("record", "list takes options only");
    }
    char path[URL_MAX];
    snprintf(path, sizeof path, "/v1/records%s%s", n.query ? "?" : "", n.query ? n.query : "");
    long status = 0;
    struct sink r = {0};
    st = http(&n, "GET", path, NULL, 0, &status, &r);
    if (!st && !(st = answer("list", status, &r)))
        st = cli_output(n.out, r.data ? r.data : "", r.len);
    if (!st && (!n.out || !strcmp(n.out, "-")))
        putchar('\n');
    free(r.data);
    free(n.query);
    return cli_finish(st);
}
