/*
 * cmd_serve.c: `comity serve DIR`: run a node until SIGTERM or SIGINT.
 *
 * Framework deadlines (--deadline SEV=ACK/REPLY, --ping-deadline D) and the
 * allow-list (--allow-many ADDR[/BITS], repeatable) go to the node as text;
 * it checks them when it starts, as it does DIR/node.conf.
 *
 * --metrics-listen ADDR:PORT: GET /metrics, without a token, on a plain-HTTP
 * listener of its own (serve.c; a warning when ADDR is not loopback).
 *
 * The web UI (docs/ui.md): --web DIR, else a 'web' directory beside the
 * binary (an installed layout), else '../share/comity/web' from it (the
 * Debian package: /usr/bin and /usr/share/comity/web), else '../web/dist'
 * from it (the binary in a build directory of the source tree),
 * whichever holds index.html;
 * --no-web serves none.
 *
 * The signals are blocked before the server's threads start (so they
 * inherit the mask) and then awaited with sigwait; on either, the node
 * stops accepting, lets in-flight requests finish, and exits 0.
 */
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define GRACE_MS 10000
#define CY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static int num(const char *s, unsigned long max, unsigned long *out)
{
    char *end = NULL;
    unsigned long v = strtoul(s, &end, 10);
    if (end == s || *end || v == 0 || v > max)
        return -1;
    *out = v;
    return 0;
}

/* A line of this command's own on stderr: "comity serve: MSG", or a JSON
 * line under --log-json (level as comity_log's). */
static void say(int level, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void say(int level, const char *event, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (comity_logline_is_json())
        comity_logline(level, event, msg);
    else
        fprintf(stderr, "comity serve: %s\n", msg);
}

/* The default web directory (see above) into out; false when none. */
static bool default_web(char *out, size_t cap)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return false;
    exe[n] = 0;
    char *slash = strrchr(exe, '/');
    if (!slash)
        return false;
    *slash = 0;
    static const char *const rel[] = {"web", "../share/comity/web", "../web/dist"};
    for (size_t i = 0; i < CY_LEN(rel); i++) {
        char idx[PATH_MAX + 32];
        snprintf(out, cap, "%s/%s", exe, rel[i]);
        snprintf(idx, sizeof idx, "%s/index.html", out);
        if (access(idx, R_OK) == 0)
            return true;
    }
    return false;
}

int cmd_serve(int argc, char **argv)
{
    comity_serve_opts o;
    comity_serve_opts_default(&o);
    const char *dir = NULL;
    unsigned long v;
    int no_web = 0;
    char webbuf[PATH_MAX + 16];
    static char allow[4096]; /* --allow-many entries, comma-separated */
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has = i + 1 < argc;
        if (!strcmp(a, "--listen") && has)
            o.listen = argv[++i];
        else if (!strcmp(a, "--cert") && has)
            o.cert_file = argv[++i];
        else if (!strcmp(a, "--key") && has)
            o.key_file = argv[++i];
        else if (!strcmp(a, "--insecure-http"))
            o.insecure_http = 1;
        else if (!strcmp(a, "--access-log"))
            o.access_log = 1;
        else if (!strcmp(a, "--log-json"))
            comity_logline_json(1);
        else if (!strcmp(a, "--threads") && has && !num(argv[i + 1], 256, &v))
            o.threads = (unsigned)v, i++;
        else if (!strcmp(a, "--max-body") && has && !num(argv[i + 1], 1ul << 30, &v))
            o.max_body = v, i++;
        else if (!strcmp(a, "--max-file") && has) {
            char *end = NULL;
            unsigned long long f = strtoull(argv[i + 1], &end, 10);
            if (end == argv[i + 1] || *end || !f || argv[i + 1][0] == '-')
                return cli_usage("serve", "--max-file %s: want a size in bytes", argv[i + 1]);
            o.max_file = f, i++;
        } else if (!strcmp(a, "--max-connections") && has && !num(argv[i + 1], 100000, &v))
            o.max_connections = (unsigned)v, i++;
        else if (!strcmp(a, "--max-per-ip") && has && !num(argv[i + 1], 100000, &v))
            o.max_per_ip = (unsigned)v, i++;
        else if (!strcmp(a, "--timeout") && has && !num(argv[i + 1], 3600, &v))
            o.timeout_s = (unsigned)v, i++;
        else if (!strcmp(a, "--body-timeout") && has && !num(argv[i + 1], 86400, &v))
            o.body_timeout_s = (unsigned)v, i++;
        else if (!strcmp(a, "--header-timeout") && has && !num(argv[i + 1], 3600, &v))
            o.header_timeout_s = (unsigned)v, i++;
        else if (!strcmp(a, "--allow-many") && has) {
            /* repeatable; the entries are checked when the node starts */
            size_t n = strlen(allow);
            if (n + strlen(argv[i + 1]) + 2 > sizeof allow)
                return cli_usage("serve", "--allow-many: too many entries (use CIDR blocks)");
            snprintf(allow + n, sizeof allow - n, "%s%s", n ? "," : "", argv[++i]);
            o.allow_many = allow;
        }
        else if (!strcmp(a, "--deadline") && has) {
            /* SEV=ACK/REPLY; the durations are checked when the node starts */
            const char *d = argv[++i];
            if (d[0] < '0' || d[0] > '5' || d[1] != '=' || !d[2])
                return cli_usage("serve", "--deadline %s: want SEV=ACK/REPLY with SEV 0-5, "
                                          "like 5=1h/24h", d);
            o.deadline[d[0] - '0'] = d + 2;
        } else if (!strcmp(a, "--ping-deadline") && has)
            o.ping_deadline = argv[++i];
        else if (!strcmp(a, "--metrics-listen") && has)
            o.metrics_listen = argv[++i];
        else if (!strcmp(a, "--web") && has)
            o.web_dir = argv[++i];
        else if (!strcmp(a, "--no-web"))
            no_web = 1;
        else if (a[0] == '-')
            return cli_usage("serve", "unknown or incomplete option %s", a);
        else if (!dir)
            dir = a;
        else
            return cli_usage("serve", "one directory only");
    }
    if (!dir)
        return cli_usage("serve", "no node directory given");
    if (no_web && o.web_dir)
        return cli_usage("serve", "--web and --no-web exclude each other");
    if (o.web_dir) {
        char idx[PATH_MAX + 32];
        snprintf(idx, sizeof idx, "%s/index.html", o.web_dir);
        if (access(idx, R_OK) != 0)
            return cli_usage("serve", "--web %s: no index.html there (build it: make web)",
                             o.web_dir);
    } else if (!no_web && default_web(webbuf, sizeof webbuf)) {
        o.web_dir = webbuf;
    }
    if ((o.cert_file == NULL) != (o.key_file == NULL))
        return cli_usage("serve", "--cert and --key go together");
    if (o.insecure_http && o.cert_file)
        return cli_usage("serve", "--insecure-http and --cert exclude each other");
    if (o.insecure_http && strncmp(o.listen, "127.", 4) != 0 && strncmp(o.listen, "[::1]", 5) != 0)
        say(1, "serve.plain_http", "warning: plain HTTP on %s, not a loopback address: tokens"
                                   " and content travel unencrypted", o.listen);
    if (o.metrics_listen && strncmp(o.metrics_listen, "127.", 4) != 0 &&
        strncmp(o.metrics_listen, "[::1]", 5) != 0)
        say(1, "serve.metrics_open", "warning: /metrics on %s, not a loopback address, without"
                                     " a token: whoever reaches it reads the node's figures",
            o.metrics_listen);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    comity_error e = {0};
    comity_node *node = NULL;
    if (comity_node_open(dir, &node, &e))
        return cli_error("serve", &e);
    if (comity_node_start(node, &o, &e)) {
        comity_node_close(node);
        return cli_error("serve", &e);
    }
    char host[128];
    const char *l = o.listen;
    const char *colon = strrchr(l, ':');
    snprintf(host, sizeof host, "%.*s", (int)(colon - l), l);
    printf("comity node serving %s://%s:%u/ (TAXII discovery at /taxii2/)\n",
           o.insecure_http ? "http" : "https", host, comity_node_port(node));
    if (o.web_dir)
        printf("web UI: %s://%s:%u/ (files from %s)\n", o.insecure_http ? "http" : "https",
               host, comity_node_port(node), o.web_dir);
    if (o.metrics_listen) {
        const char *ml = o.metrics_listen, *mc = strrchr(ml, ':');
        printf("metrics: http://%.*s:%u/metrics (no token)\n", (int)(mc - ml), ml,
               comity_node_metrics_port(node));
    }
    char fp[96];
    comity_node_tls_fingerprint(node, fp);
    if (fp[0])
        printf("TLS certificate SHA-256 fingerprint: %s\n", fp);
    fflush(stdout);
    int sig = 0;
    sigwait(&set, &sig);
    say(0, "serve.stopping", "%s: finishing open requests, then stopping",
        sig == SIGTERM ? "SIGTERM" : "SIGINT");
    comity_node_stop(node, GRACE_MS);
    comity_node_close(node);
    return cli_finish(CLI_OK);
}
