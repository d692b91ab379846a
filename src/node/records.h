/*
 * records.h: the handler of /v1/records (records.c): posting a record
 * (handed to intake, src/intake/), listing and reading records and their
 * receipts.
 */
#ifndef COMITY_NODE_RECORDS_H
#define COMITY_NODE_RECORDS_H

#include "node/req.h"

void cy_records_handle(cy_req *r, cy_resp *w);

#endif
