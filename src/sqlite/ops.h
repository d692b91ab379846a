/*
 * ops.h: what an operator's tools do to a SQLite file (private): look at
 * it without changing it, and copy it while a node writes to it.
 *
 * `comity doctor` reads a store's schema version and runs SQLite's
 * quick_check on a read-only handle, so that it never migrates or locks
 * out a running node for long; `comity backup` copies every SQLite file of
 * a node (the store, the log's sequencer state, the witness state) with
 * SQLite's online backup API, which gives a consistent snapshot of a
 * database in WAL mode while its writer goes on.
 */
#ifndef COMITY_SQLITE_OPS_H
#define COMITY_SQLITE_OPS_H

#include <stddef.h>

#include "base/base.h"

/* Opens `path` read-only (never creating it) and gives its PRAGMA
 * user_version (OUT *version) and the first line of PRAGMA quick_check
 * (OUT check[cap]: "ok" for a sound file).  COMITY_ERR_DB (or
 * COMITY_ERR_LOCKED) with SQLite's message when it cannot be read. */
comity_err cy_sqlite_inspect(const char *path, int *version, char *check, size_t cap,
                             comity_error *err);

/* Copies the database `src` (opened read-only; a writer may be busy) to
 * `dst`, which must not exist, as one consistent snapshot (the online
 * backup API, retried while the source is busy), then makes `dst` durable
 * (fsync) and leaves it in rollback-journal mode with no -wal file, so
 * the copy is one self-contained file.  COMITY_ERR_DB/IO on failure (dst
 * removed). */
comity_err cy_sqlite_copy(const char *src, const char *dst, comity_error *err);

#endif
