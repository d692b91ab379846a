#!/usr/bin/env bash
# log_crash.sh: kill -9 a log writer at random moments, again and again.
#
# Each round streams numbered lines into `comity log append` (checkpoints
# every 20 ms, so kills land in commits, tile writes and publication alike),
# copies every checkpoint it sees, and kills the writer with SIGKILL after a
# random delay (and, every other round, kills the recovery that follows
# too).  After each kill the log must reopen; every entry whose index
# the writer had printed (printed only once durable) must be at that index;
# every checkpoint ever seen must be consistent with the latest one; and the
# final audit must recompute every tile and the root.
set -u
C=${COMITY_BIN:?}
ROUNDS=${CRASH_ROUNDS:-20}
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
cd "$T"
fail() { echo "FAIL: $*"; exit 1; }

$C log init --origin crash.example/log --key log.key L > log.vkey 2>/dev/null || fail init
mkdir hist
ncp=0
total=0
for r in $(seq 1 $ROUNDS); do
  awk -v r=$r 'BEGIN { for (i = 0; ; i++) print "r" r "-" i }' 2>/dev/null |
    $C log append L --interval 20 > out.$r 2> err.$r &
  pid=$!
  # watch the published checkpoint until the kill
  delay=$(awk -v s=$RANDOM 'BEGIN { srand(s); printf "%.3f", 0.03 + rand() * 0.2 }')
  end=$(awk -v d=$delay 'BEGIN { print d * 1000 }')
  t0=$(date +%s%3N)
  while [ $(( $(date +%s%3N) - t0 )) -lt ${end%.*} ]; do
    if cp L/checkpoint hist/cp.tmp 2>/dev/null && ! cmp -s hist/cp.tmp hist/last 2>/dev/null; then
      ncp=$((ncp + 1)); cp hist/cp.tmp hist/cp.$ncp; cp hist/cp.tmp hist/last
    fi
    sleep 0.01
  done
  kill -9 $pid 2>/dev/null
  wait $pid 2>/dev/null
  # every other round, also kill the recovery itself part way
  if [ $((r % 2)) = 0 ]; then
    $C log checkpoint L > /dev/null 2>&1 &
    rpid=$!
    sleep 0.0$((RANDOM % 4))
    kill -9 $rpid 2>/dev/null
    wait $rpid 2>/dev/null
  fi
  # reopen: recovery integrates what was durable and publishes
  $C log checkpoint L > cp.now 2> rec.err || { cat rec.err; fail "round $r: reopen failed"; }
  ncp=$((ncp + 1)); cp L/checkpoint hist/cp.$ncp; cp L/checkpoint hist/last
  # printed indices are consecutive; their entries are the lines sent.  A
  # last line cut short by the kill was never fully printed: drop it.
  n=$(wc -l < out.$r)
  head -n "$n" out.$r > out.tmp && mv out.tmp out.$r
  if [ "$n" -gt 0 ]; then
    first=$(head -1 out.$r)
    awk -v f=$first '$1 != f + NR - 1 { print "line " NR ": " $0 " (want " f + NR - 1 ")"; exit 1 }' \
      out.$r || fail "round $r: indices not consecutive"
    $C log get L --index $first --count $n > got.$r 2> get.err || { cat get.err; fail "round $r: get"; }
    awk -v r=$r -v n=$n 'BEGIN { for (i = 0; i < n; i++) print "r" r "-" i }' > want.$r
    cmp -s got.$r want.$r || fail "round $r: entries at printed indices differ (first $first, n $n)"
  fi
  total=$((total + n))
done
# every checkpoint seen is consistent with the last one
for i in $(seq 1 $ncp); do
  $C log consistency L hist/cp.$i L/checkpoint > /dev/null 2> cons.err ||
    { cat cons.err; fail "checkpoint $i not consistent with the latest"; }
done
$C log audit L --vkey log.vkey > audit.txt 2>&1 || { cat audit.txt; fail audit; }
echo "ok: $ROUNDS kills, $total acknowledged entries checked, $ncp checkpoints consistent; $(cat audit.txt)"
