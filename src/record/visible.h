/*
 * visible.h: who may see a record (private to libcomity).
 *
 * The one rule of comity on reading records, applied wherever a record or
 * anything derived from it is read (GET /v1/records, a record's receipt,
 * a record's STIX wrapper in a TAXII collection, whatever comes next):
 *
 *   - TLP:CLEAR records are visible to anyone, anonymous callers included;
 *   - TLP:GREEN records to every authenticated principal;
 *   - TLP:AMBER, AMBER+STRICT and RED records only to their author and to
 *     their recipients, a recipient that is a bare state ("in") standing
 *     for every office of that state ("in.cert-in", "in.mea"...).
 *
 * The node's operator is a principal like any other here: it runs the node
 * and may read every TAXII collection, but it is no recipient of sealed
 * records, so it sees neither their envelopes nor their metadata.
 *
 * The rule is given two ways that must agree (test_record checks them
 * against each other): as a declarative filter (cy_record_filter, see
 * store/records.h) that a store backend compiles into its query, so that
 * paging counts only visible rows, and as a predicate on one record.
 */
#ifndef COMITY_RECORD_VISIBLE_H
#define COMITY_RECORD_VISIBLE_H

#include <stdbool.h>
#include <stddef.h>

#include "store/store.h"

/* The filter of what `name` may see: name NULL for an anonymous caller,
 * else an authenticated principal's name (a party, or the operator).
 * OUT *f: filled in (no allocation). */
void cy_record_visibility(const char *name, cy_record_filter *f);

/* Whether a record with these fields passes `f` (the same rule in memory):
 * tlp, author and the nto recipients to[]. */
bool cy_record_filter_passes(const cy_record_filter *f, const char *tlp, const char *author,
                             const char *const *to, size_t nto);

#endif
