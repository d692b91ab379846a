/*
 * queries.h: the handler of the framework's queries (queries.c):
 * /v1/framework/... and /v1/directory.
 */
#ifndef COMITY_NODE_QUERIES_H
#define COMITY_NODE_QUERIES_H

#include "node/req.h"

void cy_fw_handle(cy_req *r, cy_resp *w);

#endif
