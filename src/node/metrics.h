/*
 * metrics.h: the handler of GET /metrics (metrics.c), the operator's
 * figures in Prometheus's text format.
 */
#ifndef COMITY_NODE_METRICS_H
#define COMITY_NODE_METRICS_H

#include "node/req.h"

void cy_metrics_handle(cy_req *r, cy_resp *w);
/* The figures as the text format's lines, appended to b: what GET /metrics
 * answers, without the check on who asks (the metrics listener's, serve.c). */
void cy_metrics_text(comity_node *node, cy_buf *b);
#define CY_METRICS_CTYPE "text/plain; version=0.0.4; charset=utf-8"

/* The counters /metrics reads that the server feeds (serve.c): answers
 * by route and status, and the intake latency histogram.  Lock-free
 * (relaxed atomics): any worker thread counts at once. */
typedef struct cy_metrics cy_metrics;
/* OUT *m: a zeroed set, freed by cy_metrics_free (NULL tolerated). */
comity_err cy_metrics_new(cy_metrics **m, comity_error *err);
void cy_metrics_free(cy_metrics *m);
/* The route label of a request (a fixed set, never the client's path):
 * an index for cy_metrics_answered.  r may be NULL ("other"). */
unsigned cy_metrics_route(const cy_req *r);
/* One answer given: its route and HTTP status (100-599; else "other"). */
void cy_metrics_answered(cy_metrics *m, unsigned route, unsigned status);
/* A record post answered after `seconds` from its headers' arrival. */
void cy_metrics_intake(cy_metrics *m, double seconds);

#endif
