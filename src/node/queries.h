/*
 * queries.h: the handler of the framework's queries (queries.c):
 * /v1/framework/... and /v1/directory.
 */
#ifndef COMITY_NODE_QUERIES_H
#define COMITY_NODE_QUERIES_H

#include "node/req.h"

/* GET /v1/framework/messages/{id}/thread (docs/node.md): records on a
 * page (limit=, default and most), and ids of the thread one page walks
 * at most (those the caller may not read count here, not on the page). */
#define CY_THREAD_PAGE_DEFAULT 100
#define CY_THREAD_PAGE_MAX 500
#define CY_THREAD_SCAN_MAX 2000

void cy_fw_handle(cy_req *r, cy_resp *w);

#endif
