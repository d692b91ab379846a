/*
 * correlation.h: the handler of the correlation endpoints (correlation.c):
 * /v1/framework/correlation...
 */
#ifndef COMITY_NODE_CORRELATION_H
#define COMITY_NODE_CORRELATION_H

#include <stdbool.h>

#include "node/req.h"

bool cy_corr_owns(const cy_req *r);
void cy_corr_handle(cy_req *r, cy_resp *w);
/* Opens node->corr with node.conf's correlation settings (USAGE naming
 * the line when one is malformed). */
comity_err cy_node_corr_open(comity_node *node, comity_error *err);

#endif
