/*
 * taxii.h: the node's TAXII 2.1 handler (taxii.c).
 */
#ifndef COMITY_NODE_TAXII_H
#define COMITY_NODE_TAXII_H

#include "node/req.h"

/* Whether the path of r is TAXII's (/taxii2/ and the API root): its
 * errors are then TAXII error resources. */
bool cy_taxii_owns(cy_req *r);
/* Handles every path cy_taxii_owns. */
void cy_taxii_handle(cy_req *r, cy_resp *w);

#endif
