/*
 * metrics.c: GET /metrics, the node's figures in Prometheus's text format
 * (version 0.0.4), for the operator only (docs/operations.md, "Metrics").
 *
 * What is exported, all read when scraped (no background work):
 *   comity_records_total{outcome="stored"|"existed"}      counters
 *   comity_records_refused_total{rule="..."}              counters
 *   comity_intake_queue{stage="queued"|"inflight"|"syncing"}  gauges
 *   comity_intake_broken                                 1 after a failed sync
 *   comity_log_size                                      entries checkpointed
 *   comity_log_checkpoint_age_seconds                    since the file changed
 *   comity_store_probe_seconds                           one store read, timed
 *   comity_peer_lag_entries{peer=...}, comity_peer_lag_seconds{peer=...}
 *   comity_store_bytes                                   the store's size on disk
 *   comity_http_requests_total{route=...,status=...}     answers since start
 *   comity_intake_seconds                                histogram of record posts
 *
 * The last two are counted as requests are answered (serve.c calls
 * cy_metrics_answered and cy_metrics_intake): relaxed atomic counters, no
 * lock, in one block allocated when the node starts.  The route label is
 * one of a fixed set (ROUTES below), never the client's path, so that no
 * client can grow the series; the status is the code answered (100-599),
 * of which only those seen are written out.  The intake latency is a
 * record post's, from its headers' arrival to its answer (the commit it
 * waited for included): what a client sees.
 *
 * Who may read it: on the node's own listener, the operator's token (a
 * party, a peer or an anonymous client gets 403/401): the figures say how
 * busy the node is and which rules refuse, which is the operator's
 * business.  A scraper is given the operator's token, or reads the same
 * text without one from the metrics listener (`comity serve
 * --metrics-listen ADDR:PORT`, serve.c), a plain-HTTP address of its own
 * that serves GET /metrics and nothing else, for loopback or a monitoring
 * network.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "node/node.h"
#include "node/metrics.h"

#define METRICS_CTYPE CY_METRICS_CTYPE

/* The route labels, by the first path segments (cy_metrics_route). */
static const char *const ROUTES[] = {
    "other", "/", "/v1/node", "/v1/records", "/v1/files", "/v1/framework",
    "/v1/directory", "/v1/session", "/v1/alerts", "/v1/other", "taxii", "/log",
    "/witness", "/metrics", "/federation", "web",
};
#define NROUTES (sizeof ROUTES / sizeof ROUTES[0])
enum { R_OTHER, R_ROOT, R_NODE, R_RECORDS, R_FILES, R_FRAMEWORK, R_DIRECTORY, R_SESSION,
       R_ALERTS, R_V1_OTHER, R_TAXII, R_LOG, R_WITNESS, R_METRICS, R_FEDERATION, R_WEB };
#define STATUS_MIN 100u
#define NSTATUS 501u /* 100..599, and the last slot for anything else */
/* The intake histogram's upper bounds in seconds (+Inf implied). */
static const double BUCKETS[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                 0.25,  0.5,    1,     2.5,  5,    10};
#define NBUCKETS (sizeof BUCKETS / sizeof BUCKETS[0])

struct cy_metrics {
    atomic_uint_fast64_t answered[NROUTES][NSTATUS];
    atomic_uint_fast64_t bucket[NBUCKETS + 1]; /* not cumulative; last: above all */
    atomic_uint_fast64_t sum_us, count;
};

comity_err cy_metrics_new(cy_metrics **m, comity_error *err)
{
    *m = cy_calloc(1, sizeof **m); /* zeroed atomics are valid zeros */
    return *m ? COMITY_OK : cy_fail(err, COMITY_ERR_NOMEM, "metrics: out of memory");
}

void cy_metrics_free(cy_metrics *m)
{
    cy_free(m);
}

unsigned cy_metrics_route(const cy_req *r)
{
    if (!r)
        return R_OTHER;
    if (r->nseg == 0)
        return r->node && r->node->web_dir ? R_WEB : R_ROOT;
    const char *s0 = r->segs[0];
    if (!strcmp(s0, "v1")) {
        static const struct { const char *name; unsigned route; } V1[] = {
            {"node", R_NODE}, {"records", R_RECORDS}, {"files", R_FILES},
            {"framework", R_FRAMEWORK}, {"directory", R_DIRECTORY}, {"session", R_SESSION},
            {"parties", R_SESSION}, {"alerts", R_ALERTS},
        };
        for (size_t k = 0; r->nseg >= 2 && k < sizeof V1 / sizeof V1[0]; k++)
            if (!strcmp(r->segs[1], V1[k].name))
                return V1[k].route;
        return R_V1_OTHER;
    }
    if (!strcmp(s0, "taxii2") || (r->node && !strcmp(s0, r->node->api_root)))
        return R_TAXII;
    if (!strcmp(s0, "log"))
        return R_LOG;
    if (!strcmp(s0, "witness"))
        return R_WITNESS;
    if (!strcmp(s0, "metrics"))
        return R_METRICS;
    if (!strcmp(s0, "federation"))
        return R_FEDERATION;
    return r->node && r->node->web_dir ? R_WEB : R_OTHER;
}

void cy_metrics_answered(cy_metrics *m, unsigned route, unsigned status)
{
    if (!m)
        return;
    unsigned k = status >= STATUS_MIN && status < STATUS_MIN + NSTATUS - 1 ? status - STATUS_MIN
                                                                          : NSTATUS - 1;
    atomic_fetch_add_explicit(&m->answered[route < NROUTES ? route : R_OTHER][k], 1,
                              memory_order_relaxed);
}

void cy_metrics_intake(cy_metrics *m, double seconds)
{
    if (!m)
        return;
    size_t k = 0;
    while (k < NBUCKETS && seconds > BUCKETS[k])
        k++;
    atomic_fetch_add_explicit(&m->bucket[k], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->sum_us, (uint_fast64_t)(seconds * 1e6 + 0.5),
                              memory_order_relaxed);
    atomic_fetch_add_explicit(&m->count, 1, memory_order_relaxed);
}

/* The answers and the intake histogram, as counted so far. */
static void counted(const cy_metrics *m, cy_buf *b)
{
    cy_buf_puts(b, "# HELP comity_http_requests_total Requests answered since the node started,"
                   " by route and status.\n# TYPE comity_http_requests_total counter\n");
    for (size_t r = 0; r < NROUTES; r++)
        for (size_t k = 0; k < NSTATUS; k++) {
            uint64_t n = atomic_load_explicit(&m->answered[r][k], memory_order_relaxed);
            if (!n)
                continue;
            cy_buf_printf(b, "comity_http_requests_total{route=\"%s\",status=\"", ROUTES[r]);
            if (k == NSTATUS - 1)
                cy_buf_puts(b, "other");
            else
                cy_buf_printf(b, "%zu", k + STATUS_MIN);
            cy_buf_printf(b, "\"} %llu\n", (unsigned long long)n);
        }
    cy_buf_puts(b, "# HELP comity_intake_seconds Record posts, from their headers' arrival to"
                   " their answer.\n# TYPE comity_intake_seconds histogram\n");
    uint64_t cum = 0;
    for (size_t k = 0; k <= NBUCKETS; k++) {
        cum += atomic_load_explicit(&m->bucket[k], memory_order_relaxed);
        if (k < NBUCKETS)
            cy_buf_printf(b, "comity_intake_seconds_bucket{le=\"%g\"} %llu\n", BUCKETS[k],
                          (unsigned long long)cum);
        else
            cy_buf_printf(b, "comity_intake_seconds_bucket{le=\"+Inf\"} %llu\n",
                          (unsigned long long)cum);
    }
    /* the count is the +Inf bucket's (read once, so that they agree) */
    cy_buf_printf(b, "comity_intake_seconds_sum %.6f\ncomity_intake_seconds_count %llu\n",
                  (double)atomic_load_explicit(&m->sum_us, memory_order_relaxed) / 1e6,
                  (unsigned long long)cum);
}

/* A label value with \, " and newlines escaped (the format's rule). */
static void label(cy_buf *b, const char *v)
{
    for (; *v; v++) {
        if (*v == '\\' || *v == '"')
            cy_buf_printf(b, "\\%c", *v);
        else if (*v == '\n')
            cy_buf_puts(b, "\\n");
        else
            cy_buf_append(b, v, 1);
    }
}

static void peers(comity_node *node, cy_buf *b)
{
    char *text = NULL;
    if (cy_sync_peer_list(node->store, &text, NULL) != COMITY_OK)
        return;
    json_t *v = json_loads(text, 0, NULL);
    cy_free(text);
    json_t *a = json_is_array(v) ? v : json_object_get(v, "peers");
    if (json_is_array(a) && json_array_size(a)) {
        cy_buf_puts(b, "# HELP comity_peer_lag_entries Entries of a peer's last checkpoint not"
                       " pulled yet.\n# TYPE comity_peer_lag_entries gauge\n");
        size_t i;
        json_t *p;
        json_array_foreach(a, i, p) {
            const char *o = json_string_value(json_object_get(p, "origin"));
            if (!o)
                continue;
            cy_buf_puts(b, "comity_peer_lag_entries{peer=\"");
            label(b, o);
            cy_buf_printf(b, "\"} %lld\n",
                          (long long)json_integer_value(json_object_get(p, "lag_entries")));
        }
        cy_buf_puts(b, "# HELP comity_peer_lag_seconds Seconds since a peer last answered a pull"
                       " (absent: never).\n# TYPE comity_peer_lag_seconds gauge\n");
        json_array_foreach(a, i, p) {
            const char *o = json_string_value(json_object_get(p, "origin"));
            json_t *s = json_object_get(p, "lag_seconds");
            if (!o || !s)
                continue;
            cy_buf_puts(b, "comity_peer_lag_seconds{peer=\"");
            label(b, o);
            cy_buf_printf(b, "\"} %lld\n", (long long)json_integer_value(s));
        }
    }
    json_decref(v);
}

void cy_metrics_handle(cy_req *r, cy_resp *w)
{
    if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0) {
        w->allow = "GET, HEAD";
        cy_resp_error(r, w, false, 405, "method not allowed", "only GET is served here");
        return;
    }
    if (r->anon) {
        w->www_auth = true;
        cy_resp_error(r, w, false, 401, "unauthorized", "/metrics is the operator's: give its"
                      " token");
        return;
    }
    if (strcmp(r->who.kind, "operator") != 0) {
        cy_resp_error(r, w, false, 403, "forbidden", "/metrics is the operator's only");
        return;
    }
    cy_buf_reset(&w->body);
    cy_metrics_text(r->node, &w->body);
    w->status = 200;
    w->ctype = METRICS_CTYPE;
    w->cache = "no-store";
}

void cy_metrics_text(comity_node *node, cy_buf *b)
{
    if (node->intake) {
        cy_intake_stats s;
        cy_intake_stats_get(node->intake, &s);
        cy_buf_printf(b,
                      "# HELP comity_records_total Records accepted since the node started.\n"
                      "# TYPE comity_records_total counter\n"
                      "comity_records_total{outcome=\"stored\"} %llu\n"
                      "comity_records_total{outcome=\"existed\"} %llu\n"
                      "# HELP comity_records_refused_total Records refused since the node"
                      " started, by the rule they broke.\n"
                      "# TYPE comity_records_refused_total counter\n",
                      (unsigned long long)s.stored, (unsigned long long)s.existed);
        for (size_t k = 0; k < CY_INTAKE_RULES; k++)
            cy_buf_printf(b, "comity_records_refused_total{rule=\"%s\"} %llu\n",
                          cy_intake_rules[k], (unsigned long long)s.refused[k]);
        cy_buf_printf(b,
                      "# HELP comity_intake_queue Records waiting in intake, by stage.\n"
                      "# TYPE comity_intake_queue gauge\n"
                      "comity_intake_queue{stage=\"queued\"} %zu\n"
                      "comity_intake_queue{stage=\"inflight\"} %zu\n"
                      "comity_intake_queue{stage=\"syncing\"} %zu\n"
                      "# HELP comity_intake_broken 1 when a store sync failed: intake refuses"
                      " every record until the node restarts.\n"
                      "# TYPE comity_intake_broken gauge\n"
                      "comity_intake_broken %d\n",
                      s.queued, s.inflight, s.syncing, s.broken ? 1 : 0);
    }
    uint64_t size = 0;
    if (node->log && comity_log_read_checkpoint(node->log, NULL, NULL, &size, NULL, NULL) ==
                         COMITY_OK)
        cy_buf_printf(b, "# HELP comity_log_size Entries in the log's latest checkpoint.\n"
                         "# TYPE comity_log_size gauge\ncomity_log_size %llu\n",
                      (unsigned long long)size);
    char p[4200];
    struct stat sb;
    snprintf(p, sizeof p, "%s/log/checkpoint", node->dir);
    if (stat(p, &sb) == 0)
        cy_buf_printf(b, "# HELP comity_log_checkpoint_age_seconds Seconds since the log's"
                         " checkpoint was last written.\n"
                         "# TYPE comity_log_checkpoint_age_seconds gauge\n"
                         "comity_log_checkpoint_age_seconds %lld\n",
                      (long long)(time(NULL) - sb.st_mtime));
    /* one read of the store, timed: its latency as a client sees it now */
    struct timespec t0, t1;
    char *v = NULL;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    comity_err rc = cy_store_meta_get(node->store, "origin", &v, NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    cy_free(v);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    cy_buf_printf(b, "# HELP comity_store_probe_seconds One read of the store (a setting),"
                     " timed when scraped.\n"
                     "# TYPE comity_store_probe_seconds gauge\n"
                     "comity_store_probe_seconds %.6f\n"
                     "# HELP comity_store_up 1 when that read succeeded.\n"
                     "# TYPE comity_store_up gauge\ncomity_store_up %d\n",
                  secs, rc == COMITY_OK ? 1 : 0);
    uint64_t bytes = 0;
    if (cy_store_size_bytes(node->store, &bytes, NULL) == COMITY_OK)
        cy_buf_printf(b, "# HELP comity_store_bytes The store's size on disk (SQLite: its"
                         " database file; PostgreSQL: the node's tables and indexes).\n"
                         "# TYPE comity_store_bytes gauge\ncomity_store_bytes %llu\n",
                      (unsigned long long)bytes);
    peers(node, b);
    if (node->metrics)
        counted(node->metrics, b);
}
