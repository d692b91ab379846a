#!/usr/bin/env bash
# federation_pg.sh: federation.sh again with every node's store on
# PostgreSQL (the store's federation section, store_pg.c): each `comity
# init` of that test gets `--store` with a schema of its own on the
# throw-away cluster of tests/pg/cluster (CTest fixture "pg"), through a
# wrapper put in front of the comity command; the test itself is unchanged.
HERE=$(cd "$(dirname "$0")" && pwd)
uri=$(cat "${COMITY_TEST_PG_URI_FILE:-/nonexistent}" 2>/dev/null || true)
case "$uri" in
postgresql:*) ;;
*)
  if [ "${CI:-}" = true ]; then echo "FAIL no PostgreSQL cluster (CI=true)"; exit 1; fi
  echo "no PostgreSQL cluster: skipped"; exit 77 ;;
esac
W=$(mktemp -d /tmp/comity-fedpg.XXXXXX)
trap 'rm -rf "$W"' EXIT
cat >"$W/comity" <<WRAP
#!/usr/bin/env bash
if [ "\$1" = init ]; then
  schema="fed_\$\$_\$RANDOM"
  echo "\$schema" >>"$W/schemas"
  PGOPTIONS="-c client_min_messages=warning" psql -q -X "$uri" -c "CREATE SCHEMA \$schema" \
    >/dev/null || { echo "cannot create schema \$schema" >&2; exit 1; }
  exec "$COMITY_BIN" "\$@" --store "$uri&options=-csearch_path%3D\$schema"
fi
exec "$COMITY_BIN" "\$@"
WRAP
chmod +x "$W/comity"
COMITY_BIN="$W/comity" bash "$HERE/federation.sh" || exit 1
# the nodes were PostgreSQL's: their peers and records are in the schemas
export PGOPTIONS="-c client_min_messages=warning"
peers=0 recs=0 n=0
while read -r schema; do
  n=$((n + 1))
  peers=$((peers + $(psql -X -At "$uri" -c "SELECT count(*) FROM $schema.peers")))
  recs=$((recs + $(psql -X -At "$uri" -c "SELECT count(*) FROM $schema.records")))
  psql -q -X "$uri" -c "DROP SCHEMA $schema CASCADE" || true
done <"$W/schemas"
echo "$n nodes on PostgreSQL: $peers peers, $recs records"
[ "$n" -ge 3 ] && [ "$peers" -ge 3 ] && [ "$recs" -ge 20 ] || { echo "FAIL the nodes were not on PostgreSQL"; exit 1; }
echo "ok   federation between nodes on PostgreSQL"
