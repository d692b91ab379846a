/*
 * node.h: the node set-up shared by the tests that serve one (test_node,
 * test_session, test_taxii_caps, test_node_framework, test_intake): a
 * node made in a directory and opened, then served on a new loopback port
 * over plain HTTP, its base URL given back.  Each call fails the test
 * (cmocka's fail_msg, with the library's message) on any error.
 */
#ifndef COMITY_TEST_NODE_H
#define COMITY_TEST_NODE_H

#include "util/testutil.h"

/* Makes a node in `dir` (comity_node_init: `origin`, `store` a PostgreSQL
 * URI as tu_store_fresh gives it or NULL for SQLite, no TLS certificate),
 * opens it into *node (the caller closes it: comity_node_close) and
 * copies its operator token, shown once, into optoken (cap bytes). */
void tu_node_make(const char *dir, const char *origin, const char *store, comity_node **node,
                  char *optoken, size_t cap);

/* Fills so with comity_serve_opts_default's values, listening on
 * 127.0.0.1:0 (a new port) over plain HTTP. */
void tu_serve_opts(comity_serve_opts *so);

/* Starts `node` serving with `so` (NULL: tu_serve_opts's) and writes its
 * base URL, "http://127.0.0.1:PORT", into base (cap bytes). */
void tu_node_serve(comity_node *node, const comity_serve_opts *so, char *base, size_t cap);

#endif
