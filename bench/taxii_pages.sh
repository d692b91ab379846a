#!/usr/bin/env bash
# bench/taxii_pages.sh: TAXII page latency at 1,000,000 objects on SQLite
# and on PostgreSQL, side by side in one run (bench_taxii_pages; issue 20
# point 3; docs/operations.md, "TAXII pages at 1,000,000 objects").
#
#   bench/taxii_pages.sh [BUILD]     BUILD: a Release build (default build-release)
#
# Starts a throw-away PostgreSQL cluster (tests/pg/cluster: fsync=on,
# synchronous_commit=on, a Unix socket, as the unprivileged comity-pg when
# run as root), runs bench_taxii_pages on both stores, removes the cluster.
# BENCH_TAXII_PAGES_OBJECTS (default 1,000,000) sets the size.  Exit 2
# when a target is missed.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build-release}
state=$(mktemp -d)
trap '"$here/tests/pg/cluster" stop "$state"; rm -rf "$state"' EXIT
"$here/tests/pg/cluster" start "$state"
uri=$(cat "$state/uri")
[ "$uri" != none ] || { echo "bench/taxii_pages.sh: no PostgreSQL (scripts/install-deps)" >&2; exit 1; }
BENCH_TAXII_PG="$uri" "$build/bench_taxii_pages"
