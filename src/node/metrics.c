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
 *
 * Who may read it: the operator's token (a party, a peer or an anonymous
 * client gets 403/401): the figures say how busy the node is and which
 * rules refuse, which is the operator's business.  A scraper is given the
 * operator's token (or a reverse proxy on loopback adds it).
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "node/node.h"
#include "node/metrics.h"

#define METRICS_CTYPE "text/plain; version=0.0.4; charset=utf-8"

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
    comity_node *node = r->node;
    cy_buf *b = &w->body;
    cy_buf_reset(b);
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
    peers(node, b);
    w->status = 200;
    w->ctype = METRICS_CTYPE;
    w->cache = "no-store";
}
