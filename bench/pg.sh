#!/usr/bin/env bash
# bench/pg.sh: record intake on a PostgreSQL store against intake on SQLite,
# side by side in one run (bench_intake's "stores" rows; docs/operations.md).
#
#   bench/pg.sh [BUILD]     BUILD: a Release build (default build-release)
#
# Starts a throw-away PostgreSQL cluster (tests/pg/cluster: fsync=on,
# synchronous_commit=on, a Unix socket, as the unprivileged comity-pg when
# run as root) on this machine, runs bench_intake with only the stores rows
# (BENCH_INTAKE_ROUNDS, default 7, alternated), and removes the cluster.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build-release}
state=$(mktemp -d)
trap '"$here/tests/pg/cluster" stop "$state"; rm -rf "$state"' EXIT
"$here/tests/pg/cluster" start "$state"
uri=$(cat "$state/uri")
[ "$uri" != none ] || { echo "bench/pg.sh: no PostgreSQL (scripts/install-deps)" >&2; exit 1; }
BENCH_INTAKE_PG="$uri" BENCH_INTAKE_GEN=${BENCH_INTAKE_GEN:-none} \
  BENCH_INTAKE_AUTHORS=${BENCH_INTAKE_AUTHORS:-0} BENCH_INTAKE_NO_BASELINE=1 \
  BENCH_INTAKE_ROUNDS=${BENCH_INTAKE_ROUNDS:-7} "$build/bench_intake"
