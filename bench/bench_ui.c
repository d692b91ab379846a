/*
 * bench_ui.c: the web UI's inbox on a loaded node (issue 15, "Fast").
 *
 * A node in this process (plain HTTP on loopback) holds 100,000 records:
 * 1,000 notifications to the measured party (in.cert-in, from pk.pkcert)
 * and 99,000 among eight other parties; they are signed before the clock
 * starts and stored directly (as bench_node_replay does), then the node
 * starts (rebuilding its framework state from the store) and serves.
 *
 *   server   GET /v1/framework/inbox?limit=50 (the first page of 50, as the
 *            UI asks) with the party's token, over one keep-alive libcurl
 *            connection, 200 times after 10 warm-up requests: p50 and p90
 *            of the whole request as the client sees it (so an upper bound
 *            of the server's time).  Target: p50 <= 20 ms.  Then the same
 *            for the whole inbox (no limit=, 1,000 items, as the CLI asks),
 *            for comparison.
 *   browser  when Debian's chromium and web/node_modules are there: the UI
 *            is built into a temporary directory (web/build.mjs) and served
 *            by the same node, and web/test/paint.mjs logs in with the
 *            party's key file and measures, in the page, from setting the
 *            route to #/inbox to the frame after the first row is in the
 *            document (fetch of the first page, JSON, render), median of 7.
 *            Target: <= 1 s.
 *
 * N records from BENCH_UI_N (default 100,000), 1,000 of them the party's.
 * The machine is shared: print the load with the figures.
 */
#define _XOPEN_SOURCE 700 /* nftw */
#include <curl/curl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "node/node.h"

#define MINE 1000
#define OTHERS 8
#define WARM 10
#define REQS 200

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec / 1e9;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static void die(const char *what, const comity_error *e)
{
    fprintf(stderr, "bench_ui: %s: %s\n", what, e ? e->msg : "failed");
    exit(1);
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static size_t count_body(char *p, size_t sz, size_t n, void *ctx)
{
    (void)p;
    *(size_t *)ctx += sz * n;
    return sz * n;
}

int main(void)
{
    const char *ns = getenv("BENCH_UI_N");
    size_t total = ns ? strtoul(ns, NULL, 10) : 100000;
    if (total < MINE)
        total = 100000;
    comity_error e = {0};
    char dir[] = "/tmp/bench_ui_XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    char nd[256];
    snprintf(nd, sizeof nd, "%s/node", dir);
    comity_node_init_opts o = {.origin = "ui.example", .no_tls_cert = 1};
    comity_node_created cr;
    comity_node *node = NULL;
    if (comity_node_init(nd, &o, &cr, &e))
        die("init", &e);
    comity_node_created_free(&cr);
    if (comity_node_open(nd, &node, &e))
        die("open", &e);

    /* the party, its correspondent, and eight others */
    static const char *const names[OTHERS + 2] = {
        "in.cert-in", "pk.pkcert", "fr.anssi", "de.bsi", "br.cert", "jp.nisc",
        "ke.ke-cirt", "us.cisa", "za.csirt", "mx.cert"};
    comity_key *keys[OTHERS + 2];
    char *token = NULL;
    for (int i = 0; i < OTHERS + 2; i++) {
        char *tok = NULL;
        if (comity_key_generate(names[i], &keys[i], &e) ||
            comity_node_party_add(node, names[i], comity_key_vkey(keys[i]),
                                  comity_key_recipient(keys[i]), &tok, &e))
            die("party", &e);
        if (i == 0)
            token = tok;
        else
            comity_free(tok);
    }
    char keyfile[300];
    snprintf(keyfile, sizeof keyfile, "%s/in.cert-in.key", dir);
    if (comity_key_save(keys[0], keyfile, &e))
        die("key file", &e);

    /* sign and store everything before the clock starts */
    double t0 = now_s();
    cy_record_in *rows = calloc(total, sizeof *rows);
    char **envs = calloc(total, sizeof *envs);
    comity_record **recs = calloc(total, sizeof *recs);
    const char **tos = calloc(total, sizeof *tos);
    if (!rows || !envs || !recs || !tos)
        die("memory", NULL);
    const char *body = "{\"severity\":3,\"sector\":\"energy\",\"summary\":\"grid operator hit\"}";
    size_t step = total / MINE; /* every step-th record is the party's */
    for (size_t i = 0; i < total; i++) {
        size_t len;
        int from, to;
        if (i % step == 0 && i / step < MINE) {
            from = 1, to = 0;
        } else {
            from = 2 + (int)(i % OTHERS);
            to = 2 + (int)((i / OTHERS + 1) % OTHERS);
            if (to == from)
                to = 2 + (to - 1) % OTHERS;
        }
        tos[i] = names[to];
        comity_record_params p = {.type = "notification", .tlp = "green", .to = &tos[i], .nto = 1};
        if (comity_record_sign(keys[from], &p, body, strlen(body), &envs[i], &len, &e) ||
            comity_record_parse(envs[i], len, &recs[i], &e))
            die("sign", &e);
        comity_record *r = recs[i];
        rows[i] = (cy_record_in){.id = comity_record_id(r),
                                 .type = comity_record_type(r),
                                 .author = comity_record_author(r),
                                 .tlp = "green",
                                 .created = comity_record_created(r),
                                 .created_ms = 1,
                                 .digest = comity_record_digest(r),
                                 .log_index = i,
                                 .received_us = 1,
                                 .envelope = envs[i],
                                 .envelope_len = len,
                                 .to = &tos[i],
                                 .nto = 1};
    }
    if (cy_store_records_add(node->store, rows, total, NULL, &e))
        die("store", &e);
    printf("ui inbox: %zu records stored (%d the party's) in %.1f s\n", total, MINE, now_s() - t0);

    /* the UI's files, when the tools are there */
    char root[512], web[600], cmd[2048];
    snprintf(root, sizeof root, "%s", __FILE__);
    char *slash = strrchr(root, '/');
    if (slash)
        *slash = 0; /* .../bench */
    slash = strrchr(root, '/');
    if (slash)
        *slash = 0; /* the source tree */
    snprintf(web, sizeof web, "%s/web", dir);
    snprintf(cmd, sizeof cmd,
             "test -x /usr/bin/chromium && test -d '%s/web/node_modules/playwright-core' && "
             "cd '%s/web' && node build.mjs '%s' >/dev/null",
             root, root, web);
    int have_browser = system(cmd) == 0;

    comity_serve_opts so;
    comity_serve_opts_default(&so);
    so.listen = "127.0.0.1:0";
    so.insecure_http = 1;
    so.threads = 2;
    so.web_dir = have_browser ? web : NULL;
    t0 = now_s();
    if (comity_node_start(node, &so, &e))
        die("start", &e);
    printf("  node start (framework rebuilt from the store): %.1f s\n", now_s() - t0);
    unsigned port = comity_node_port(node);

    char url[160], auth[600];
    snprintf(auth, sizeof auth, "Authorization: Token %s", token);
    CURL *c = curl_easy_init();
    struct curl_slist *h = curl_slist_append(NULL, auth);
    size_t bytes = 0;
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, count_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &bytes);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    static const struct {
        const char *query, *what;
        int target;
    } runs[] = {{"?limit=50", "first page of 50", 1}, {"", "whole inbox", 0}};
    for (size_t k = 0; k < sizeof runs / sizeof *runs; k++) {
        snprintf(url, sizeof url, "http://127.0.0.1:%u/v1/framework/inbox%s", port, runs[k].query);
        curl_easy_setopt(c, CURLOPT_URL, url);
        double lat[REQS];
        for (int i = 0; i < WARM + REQS; i++) {
            bytes = 0;
            double s = now_s();
            long code = 0;
            if (curl_easy_perform(c) != CURLE_OK)
                die("GET inbox", NULL);
            curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
            if (code != 200)
                die("GET inbox: not 200", NULL);
            if (i >= WARM)
                lat[i - WARM] = (now_s() - s) * 1e3;
        }
        qsort(lat, REQS, sizeof *lat, cmp_d);
        double load[1] = {0};
        getloadavg(load, 1);
        printf("  server: GET /v1/framework/inbox%s (%s, %zu bytes), %d requests: "
               "p50 %.2f ms, p90 %.2f ms",
               runs[k].query, runs[k].what, bytes, REQS, lat[REQS / 2], lat[REQS * 9 / 10]);
        if (runs[k].target)
            printf("; target p50 <= 20 ms: %s", lat[REQS / 2] <= 20 ? "met" : "MISSED");
        printf(" (load %.1f)\n", load[0]);
    }
    curl_easy_cleanup(c);
    curl_slist_free_all(h);

    if (have_browser) {
        snprintf(cmd, sizeof cmd, "cd '%s/web' && timeout 300 node test/paint.mjs http://127.0.0.1:%u '%s'",
                 root, port, keyfile);
        if (system(cmd) != 0)
            printf("  browser: the paint measurement failed\n");
    } else {
        printf("  browser: skipped (no /usr/bin/chromium or web/node_modules)\n");
    }

    comity_node_stop(node, 1000);
    comity_node_close(node);
    for (size_t i = 0; i < total; i++) {
        comity_record_free(recs[i]);
        comity_free(envs[i]);
    }
    free(recs);
    free(envs);
    free(rows);
    free(tos);
    comity_free(token);
    for (int i = 0; i < OTHERS + 2; i++)
        comity_key_free(keys[i]);
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}
