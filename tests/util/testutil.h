/*
 * testutil.h: helpers shared by the cmocka unit tests.
 *
 * cmocka must be included after <stdarg.h>, <stddef.h>, <setjmp.h> and
 * <stdint.h>; this header does that once for every test file.
 */
#ifndef COMITY_TESTUTIL_H
#define COMITY_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "comity.h"

/* Path of a file under ../shared (COMITY_SHARED), in a static buffer. */
const char *tu_shared(const char *rel);
/* Path of a file under the source tree (COMITY_SRC), in a static buffer. */
const char *tu_src(const char *rel);
/* Reads a whole file; fails the test if it cannot.  Caller frees (free). */
char *tu_slurp(const char *path, size_t *len);
/* A fresh empty temporary directory (removed by tu_rmrf). Caller frees. */
char *tu_tmpdir(void);
void tu_rmrf(const char *path);

/* The store the tests of this run use.  COMITY_TEST_STORE=pg (set by
 * CTest for the *_pg tests) picks PostgreSQL: the cluster of
 * tests/pg/cluster, whose URI is in the file COMITY_TEST_PG_URI_FILE.
 *   tu_store_pg     whether this run is on PostgreSQL
 *   tu_store_skip   for main(): 0 to run, 77 (CTest's skip) when
 *                   PostgreSQL is asked for but there is no cluster;
 *                   under CI=true that fails the run instead
 *   tu_store_fresh  a new empty PostgreSQL store: the cluster's URI with
 *                   a new schema first in its search_path (static buffer,
 *                   overwritten by the next call); NULL on SQLite */
int tu_store_pg(void);
int tu_store_skip(void);
const char *tu_store_fresh(void);
/* Runs SQL on the store of the node in `nodedir` behind the node's back
 * (to break it, or to write as another program would): `sqlite_sql` on
 * DIR/node.db, or `pg_sql` on the database DIR/store names.  Fails the
 * test when the SQL fails. */
void tu_node_sql(const char *nodedir, const char *sqlite_sql, const char *pg_sql);

/* A response body collected by tu_sink_write (libcurl's
 * CURLOPT_WRITEFUNCTION, with CURLOPT_WRITEDATA the sink): buf is NUL
 * terminated once anything came, NULL before; the caller frees buf. */
typedef struct tu_sink {
    char *buf;
    size_t len;
} tu_sink;
/* Appends sz*n bytes at p to the tu_sink `sink` (grows buf); returns the
 * bytes taken, 0 when out of memory (which libcurl reports as an error). */
size_t tu_sink_write(char *p, size_t sz, size_t n, void *sink);

/* Asserts a comity call succeeded, printing its message if not. */
#define TU_OK(expr)                                                          \
    do {                                                                     \
        comity_err tu_rc_ = (expr);                                          \
        if (tu_rc_ != COMITY_OK)                                             \
            fail_msg("%s failed: %s (%s)", #expr, comity_strerror(tu_rc_),   \
                     tu_last_err.msg);                                       \
    } while (0)

/* Asserts that a call failed with `code` and that the message mentions `needle`. */
#define TU_FAILS(expr, code, needle)                                         \
    do {                                                                     \
        comity_err tu_rc_ = (expr);                                          \
        if (tu_rc_ != (code))                                                \
            fail_msg("%s: want %s, got %s (%s)", #expr,                      \
                     comity_strerror(code), comity_strerror(tu_rc_),         \
                     tu_last_err.msg);                                       \
        tu_check_msg(#expr, (needle));                                       \
    } while (0)

/* Fails the test when `needle` is not NULL and not in tu_last_err.msg. */
void tu_check_msg(const char *what, const char *needle);

/* The error buffer tests pass as `E` (reset with TU_E before each call). */
extern comity_error tu_last_err;
#define E (memset(&tu_last_err, 0, sizeof tu_last_err), &tu_last_err)

#endif
