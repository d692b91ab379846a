/*
 * tiles.h: the handlers of the node's log and witness (tiles.c).
 */
#ifndef COMITY_NODE_TILES_H
#define COMITY_NODE_TILES_H

#include "node/req.h"

/* The log's tiles under /log/ (c2sp.org/tlog-tiles). */
void cy_tiles_handle(cy_req *r, cy_resp *w);
/* POST /witness/add-checkpoint (c2sp.org/tlog-witness). */
void cy_witness_handle(cy_req *r, cy_resp *w);

#endif
