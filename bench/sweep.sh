#!/usr/bin/env bash
# bench/sweep.sh BUILD_DIR: comity sweep beside grep -F -f and rg -F -f on
# the same generated files (bench/gen/gen_sweep.c, deterministic):
#   - 1 GiB of BIND-style DNS query log lines with a known number of lines
#     that query an indicator or a subdomain of one (planted from the first
#     100,000 indicators, so both sets below have the same planted lines);
#   - 100,000 and 1,000,000 random domain indicators.
# Figures: wall time, MB/s and peak RSS on 1 and 2 threads; matching lines
# counted by each tool (they agree when no benign name happens to contain an
# indicator as a substring: grep and rg match substrings, comity matches
# whole labels); compile time for 1,000,000 indicators (a sweep of an empty
# file) and peak memory per indicator.  grep and rg scan one file with one
# thread.  grep and rg get a prefix of the log (they are slow with this many
# patterns), with comity beside them on the same prefix.
# SWEEP_BENCH_MB (default 1024) sets the log size; the data is
# kept in $SWEEP_BENCH_DIR (default BUILD_DIR/sweep-bench) and reused.
set -euo pipefail
build=$(cd "$1" && pwd)
root=$(cd "$(dirname "$0")/.." && pwd)
bin="$build/comity"
dir=${SWEEP_BENCH_DIR:-$build/sweep-bench}
mb=${SWEEP_BENCH_MB:-1024}
mkdir -p "$dir"
cc -O2 -o "$dir/gen" "$root/bench/gen/gen_sweep.c"
bytes=$((mb * 1024 * 1024))
if [ ! -s "$dir/i1m.txt" ]; then "$dir/gen" iocs 1000000 1 > "$dir/i1m.txt"; fi
head -n 100000 "$dir/i1m.txt" > "$dir/i100k.txt"
if [ ! -s "$dir/dns.log" ] || [ "$(stat -c %s "$dir/dns.log")" -lt "$bytes" ] ||
   [ ! -s "$dir/planted" ]; then
  "$dir/gen" log "$bytes" 3 "$dir/i100k.txt" 1000 > "$dir/dns.log" 2> "$dir/planted"
fi
log="$dir/dns.log"
size=$(stat -c %s "$log")
planted=$(awk '/planted/ {print $2}' "$dir/planted")
: > "$dir/empty"
echo "machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "data: $log ($((size / 1048576)) MiB), $planted planted lines; figures are wall time on a shared machine (noisy)"
cat "$log" > /dev/null # warm the page cache for every tool alike

run() { # label, then the command; prints seconds, MB/s, RSS, matching lines
  local label=$1; shift
  local out rss secs
  /usr/bin/time -f "%e %M" -o "$dir/time" "$@" > "$dir/out" 2> /dev/null || true
  read -r secs rss < "$dir/time"
  out=$(cat "$dir/out")
  printf '%-38s %7.2f s %6.0f MB/s %6d MB  %s\n' "$label" "$secs" \
    "$(awk -v s="$size" -v t="$secs" 'BEGIN { printf "%.0f", s / 1e6 / (t + 0.0001) }')" \
    "$((rss / 1024))" "$out"
}
lines_of() { cut -d: -f2 | uniq | wc -l; }
sweep_lines() { # iocs threads
  "$bin" sweep -q --threads "$2" --type domain --iocs "$1" "$log" | lines_of
}
export -f lines_of sweep_lines
export bin log

echo
echo "tool (indicators, threads)              time      rate   peak RSS  matching lines"
for n in 100k 1m; do
  for th in 1 2; do
    run "comity sweep ($n, $th thr, full log)" bash -c "sweep_lines $dir/i$n.txt $th"
  done
done
# grep and rg are slow with this many patterns: they and comity are run side
# by side on the same prefix of the log (SWEEP_BENCH_BASE_MB, default 256).
base=${SWEEP_BENCH_BASE_MB:-256}
head -c $((base * 1048576)) "$log" > "$dir/head.log"
size_full=$size; size=$((base * 1048576)); log_full=$log; log="$dir/head.log"
echo "-- on the first $base MiB:"
for n in 100k 1m; do
  for th in 1 2; do
    run "comity sweep ($n, $th thr)" bash -c "sweep_lines $dir/i$n.txt $th"
  done
done
run "grep -F -c -f (100k, 1 thr)" grep -F -c -f "$dir/i100k.txt" "$log"
run "rg -F -c -f (100k, 1 thr)" rg -F -c -j1 -f "$dir/i100k.txt" "$log"
run "rg -F -c -f (1m, 1 thr)" rg -F -c -j1 -f "$dir/i1m.txt" "$log"
# grep -F with 1,000,000 patterns is slower still: the first 32 MiB.
head -c $((32 * 1048576)) "$log" > "$dir/head32.log"
size=$((32 * 1048576)); log="$dir/head32.log"
echo "-- on the first 32 MiB:"
run "comity sweep (1m, 1 thr)" bash -c "sweep_lines $dir/i1m.txt 1"
run "grep -F -c -f (1m, 1 thr)" grep -F -c -f "$dir/i1m.txt" "$log"
size=$size_full; log=$log_full
echo
/usr/bin/time -f "%e %M" -o "$dir/time" "$bin" sweep -q --type domain --iocs "$dir/i1m.txt" "$dir/empty" || true
read -r secs rss < "$dir/time"
/usr/bin/time -f "%e %M" -o "$dir/time0" "$bin" sweep -q --type domain --iocs "$dir/empty" "$dir/empty" || true
read -r secs0 rss0 < "$dir/time0"
echo "compile 1,000,000 indicators (read list + build, whole process): ${secs} s (target <= 1 s)"
echo "peak RSS with 1,000,000 indicators: $((rss / 1024)) MB, without: $((rss0 / 1024)) MB;" \
     "$(( (rss - rss0) * 1024 / 1000000 )) bytes/indicator incl. the 16 MB list text held while compiling" \
     "(matcher alone: see bench_sweep; target <= 64)"
echo "planted lines in the full log: $planted (the full-log comity counts must equal it;"
echo "grep and rg match substrings, so they may count a few more lines than comity)"
