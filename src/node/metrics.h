/*
 * metrics.h: the handler of GET /metrics (metrics.c), the operator's
 * figures in Prometheus's text format.
 */
#ifndef COMITY_NODE_METRICS_H
#define COMITY_NODE_METRICS_H

#include "node/req.h"

void cy_metrics_handle(cy_req *r, cy_resp *w);

#endif
