/*
 * federation.h: the origin's side of federation (federation.c): the
 * /federation/ TAXII API root that peer nodes pull from.
 */
#ifndef COMITY_NODE_FEDERATION_H
#define COMITY_NODE_FEDERATION_H

#include "node/req.h"
#include "sync/sync.h"

/* Whether the path of r is under /federation/. */
bool cy_federation_owns(cy_req *r);
/* Handles every path cy_federation_owns (errors are TAXII error resources). */
void cy_federation_handle(cy_req *r, cy_resp *w);

#endif
