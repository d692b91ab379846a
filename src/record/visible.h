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

/* What a peer node may see of this node's records (docs/federation.md,
 * section 3: the cross-node rule beside specs/records.md):
 *
 *   a record is visible to peer P  iff  its author is local (homed at no
 *   peer)  and  (its tlp is clear or green, or one of its recipients is a
 *   party homed at P or the state of one)
 *
 * A peer's parties are `parties[0..n)` (the homes the operator pinned);
 * the view holds the filter the store evaluates (cy_peer_filter) and the
 * names it points to.  COMITY_ERR_TOOBIG when the parties and their states
 * make more than CY_PEER_FILTER_MAX names (refused, never cut short).
 * OUT *v: filled in (no allocation; v->f points into v). */
typedef struct cy_peer_view {
    cy_peer_filter f;
    const char *tlps[2];
    const char *to[CY_PEER_FILTER_MAX];
    char names[CY_PEER_FILTER_MAX][COMITY_PARTY_MAX + 1];
} cy_peer_view;
comity_err cy_record_peer_visibility(const char *const *parties, size_t n, cy_peer_view *v,
                                     comity_error *err);

/* Whether peer P (its view v, above) may fetch a sealed file attached to
 * a record of this node (docs/federation.md, section 3, "Files"):
 *
 *   iff the record's author is local (homed at no peer)  and  one of its
 *   recipients to[0..nto) is a party homed at P or the state of one
 *
 * A clear or green record is visible to every peer, but its files go
 * only to the nodes of its recipients (who fetch them to serve them to
 * their parties).  No allocation, no I/O. */
bool cy_record_peer_file_visible(const cy_peer_view *v, bool author_local,
                                 const char *const *to, size_t nto);

#endif
