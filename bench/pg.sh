#!/usr/bin/env bash
# bench/pg.sh: record intake on a PostgreSQL store against intake on SQLite,
# side by side in one run (bench_intake's "stores" rows; docs/operations.md).
#
#   bench/pg.sh [BUILD] [--standby]
#                           BUILD: a Release build (default build-release)
#
# With --standby, the primary's commits wait for a synchronous streaming
# standby (synchronous_standby_names = 'standby1', a second cluster made by
# pg_basebackup, tests/pg/cluster standby), both on this machine: issue 20's
# ">= 50% of SQLite's rate with the synchronous standby streaming".  The
# script checks that the standby streams synchronously before it measures.
#
# Starts a throw-away PostgreSQL cluster (tests/pg/cluster: fsync=on,
# synchronous_commit=on, a Unix socket, as the unprivileged comity-pg when
# run as root) on this machine, runs bench_intake with only the stores rows
# (BENCH_INTAKE_ROUNDS, default 7, alternated), prints the PostgreSQL
# servers' CPU per record (load changes the rates more than it changes this),
# and removes the cluster.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=build-release standby=0
for a in "$@"; do
  case $a in
    --standby) standby=1 ;;
    -*) echo "bench/pg.sh: unknown option $a (bench/pg.sh [BUILD] [--standby])" >&2; exit 2 ;;
    *) build=$a ;;
  esac
done
state=$(mktemp -d)
trap '"$here/tests/pg/cluster" stop "$state/s" 2>/dev/null || true
      "$here/tests/pg/cluster" stop "$state"; rm -rf "$state"' EXIT
if [ "$standby" = 1 ]; then
  COMITY_PG_CONF="synchronous_standby_names = 'standby1'" "$here/tests/pg/cluster" start "$state"
else
  "$here/tests/pg/cluster" start "$state"
fi
uri=$(cat "$state/uri")
[ "$uri" != none ] || { echo "bench/pg.sh: no PostgreSQL (scripts/install-deps)" >&2; exit 1; }
if [ "$standby" = 1 ]; then
  "$here/tests/pg/cluster" standby "$state" "$state/s"
  st=""
  for _ in $(seq 100); do
    st=$(psql -X -At "$uri" -c "SELECT sync_state FROM pg_stat_replication
           WHERE application_name = 'standby1' AND state = 'streaming'")
    [ "$st" = sync ] && break
    sleep 0.1
  done
  [ "$st" = sync ] || { echo "bench/pg.sh: the standby does not stream synchronously" >&2; exit 1; }
  echo "pg: the primary's commits wait for standby1 (sync_state = sync, streaming)"
fi
[ "$standby" = 1 ] && export BENCH_INTAKE_PG_TARGET=50
# The CPU of a cluster's server processes so far, in clock ticks: its
# postmaster's, the children it has reaped (each node's connections end
# with its run) and those still running (WAL writer, walsender, ...).
cpu_ticks() {
  local pid t c
  pid=$(head -1 "$(cat "$1/dir")/data/postmaster.pid")
  t=$(awk '{print $14 + $15 + $16 + $17}' "/proc/$pid/stat")
  for c in $(cat /proc/"$pid"/task/*/children); do
    t=$((t + $(awk '{print $14 + $15}' "/proc/$c/stat" 2>/dev/null || echo 0)))
  done
  echo "$t"
}
p0=$(cpu_ticks "$state") s0=0
[ "$standby" = 1 ] && s0=$(cpu_ticks "$state/s")
rc=0
BENCH_INTAKE_PG="$uri" BENCH_INTAKE_GEN=${BENCH_INTAKE_GEN:-none} \
  BENCH_INTAKE_AUTHORS=${BENCH_INTAKE_AUTHORS:-0} BENCH_INTAKE_NO_BASELINE=1 \
  BENCH_INTAKE_ROUNDS=${BENCH_INTAKE_ROUNDS:-7} "$build/bench_intake" || rc=$?
# per PostgreSQL record: the servers idle through the SQLite runs, and each
# PostgreSQL run also creates its schema (about 0.3 s of the primary's CPU)
records=$(( ${BENCH_INTAKE_RECORDS:-40000} / 16 * 16 * ${BENCH_INTAKE_ROUNDS:-7} ))
[ "$records" -gt 0 ] || exit "$rc"
hz=$(getconf CLK_TCK)
line="primary $(( ($(cpu_ticks "$state") - p0) * 1000000 / hz / records )) us"
[ "$standby" = 1 ] &&
  line="$line, standby $(( ($(cpu_ticks "$state/s") - s0) * 1000000 / hz / records )) us"
echo "pg: the PostgreSQL servers' CPU per PostgreSQL record (all runs): $line"
exit "$rc"
