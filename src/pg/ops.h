/*
 * ops.h: what an operator's tools do to a node's PostgreSQL schema
 * (private): look at it without changing it, dump it and restore it.
 *
 * A node's tables live in the first schema of its connection's
 * search_path (db.h).  `comity doctor` reads that schema's version and
 * the server's durability settings without migrating anything;
 * `comity backup` runs PostgreSQL's own pg_dump on that one schema (one
 * consistent snapshot, taken in a REPEATABLE READ transaction while the
 * node goes on writing) and `comity restore` runs pg_restore into an
 * empty schema of the same name.  Both programs come with PostgreSQL's
 * client package; COMITY_PG_BIN names their directory when they are not
 * found in /usr/lib/postgresql/N/bin (the newest N) or on PATH.  The
 * connection string reaches them in their argument list, which other
 * users of the machine may see: put passwords in ~/.pgpass.
 */
#ifndef COMITY_PG_OPS_H
#define COMITY_PG_OPS_H

#include <stddef.h>

#include "base/base.h"

#define CY_PG_SCHEMA_NAME_MAX 63 /* PostgreSQL's NAMEDATALEN - 1 */

/* What cy_pg_inspect found. */
typedef struct cy_pg_facts {
    char schema[CY_PG_SCHEMA_NAME_MAX + 1]; /* current_schema() */
    int version;          /* comity_schema's row `name`; 0: none, no node */
    char server[32];      /* server_version */
    char sync_standbys[256]; /* synchronous_standby_names ("" for none) */
    int standbys;         /* standbys streaming (pg_stat_replication rows) */
    int in_recovery;      /* 1: a standby (read-only) */
} cy_pg_facts;

/* Connects to `conninfo` and reads the facts above (schema `name`'s
 * version).  Changes nothing.  COMITY_ERR_DB with libpq's message when the
 * server cannot be reached or refuses (fsync=off included). */
comity_err cy_pg_inspect(const char *conninfo, const char *name, cy_pg_facts *f,
                         comity_error *err);

/* Dumps the schema `schema` of `conninfo` to `out` (pg_dump's custom
 * format; must not exist).  COMITY_ERR_IO when pg_dump is missing or
 * fails (its own messages go to stderr). */
comity_err cy_pg_dump(const char *conninfo, const char *schema, const char *out,
                      comity_error *err);

/* Restores a dump made by cy_pg_dump of schema `schema` into `conninfo`,
 * whose current schema must be `schema` and must hold no node (made when
 * missing).  One transaction: all or nothing.  COMITY_ERR_EXISTS when the
 * schema holds a node, COMITY_ERR_USAGE when the connection's schema is
 * another, COMITY_ERR_IO when pg_restore fails. */
comity_err cy_pg_restore(const char *conninfo, const char *schema, const char *in,
                         comity_error *err);

#endif
