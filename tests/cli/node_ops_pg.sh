#!/usr/bin/env bash
# node_ops_pg.sh: comity doctor, backup (pg_dump, while serving) and
# restore (pg_restore into another database) on a node whose store is
# PostgreSQL, on the throw-away cluster of tests/pg/cluster (CTest fixture
# "pg"), in a schema of its own (the body is node_ops.bash).
source "$(dirname "$0")/node_lib.bash"
PGURI=$(cat "${COMITY_TEST_PG_URI_FILE:-/nonexistent}" 2>/dev/null || true)
case "$PGURI" in
postgresql:*) ;;
*)
  if [ "${CI:-}" = true ]; then echo "FAIL no PostgreSQL cluster (CI=true)"; exit 1; fi
  echo "no PostgreSQL cluster: skipped"; exit 77 ;;
esac
schema="ops_$$_$RANDOM"
export PGOPTIONS="-c client_min_messages=warning"
psql -q -X "$PGURI" -c "CREATE SCHEMA $schema" || { echo "FAIL cannot create schema"; exit 1; }
dropall() {
  psql -q -X "$PGURI" -c "DROP SCHEMA IF EXISTS $schema CASCADE" -c "DROP DATABASE IF EXISTS ${schema}_r" \
    >/dev/null 2>&1 || true
}
at_exit 'cleanup; dropall' # the node stopped before its schema is dropped
STORE="$PGURI&options=-csearch_path%3D$schema"
source "$(dirname "$0")/node_ops.bash"
