#!/usr/bin/env bash
# bench/files.sh BUILD_DIR: evidence files (issue 16, point 7): upload and
# fetch through a node on loopback against `comity seal` and `comity open`
# on the same file, in one run.  Target: upload >= 80% of seal's
# throughput, fetch >= 80% of open's.
#
#   seal     comity seal to the case's two parties, to a file on disk
#   upload   comity case upload: seal to the same two (hashing as it
#            writes a temporary age file), send the record, stream the age
#            file to the node (which hashes and stores it)
#   attach   comity case attach: the transfer alone (hash the age file,
#            stream it to the node)
#   open     comity open of the age file, to a file on disk
#   fetch    comity case fetch: stream from the node, hash and open in one
#            pass, to a file on disk
#   fetch --sealed   the transfer alone
#
# The commands take turns, ROUNDS rounds (default 3), best kept for each,
# by wall time and by CPU time (user + system of the command; the node's
# CPU is not counted, it runs beside).  Peak RSS of each command, and of
# the node over the whole run.  FILES_BENCH_MB sets the size (default
# 1024).  A release build: cmake -S . -B build-release
# -DCMAKE_BUILD_TYPE=Release -DCOMITY_TESTS=OFF && cmake --build
# build-release -j2 && bench/files.sh build-release
set -euo pipefail
build=$(cd "$1" && pwd)
C=$build/comity
size_mb=${FILES_BENCH_MB:-1024}
rounds=${ROUNDS:-3}
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
t=$(mktemp -d "${TMPDIR:-/tmp}/comity-bench-files.XXXXXX")
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$t"' EXIT
cd "$t"
"$C" init node --origin bench.example/node >/dev/null
for p in in.cert-in pk.fia; do
  "$C" keygen --party "$p" --out "$p.key" >/dev/null 2>&1
  "$C" key show "$p.key" >>peers.keys
done
"$C" serve node --insecure-http --listen 127.0.0.1:0 --max-file $(((size_mb + 64) << 20)) >serve.out 2>serve.err &
pid=$!
for _ in $(seq 100); do
  url=$(sed -n 's|^comity node serving \(http://[0-9.]*:[0-9]*\)/.*|\1|p' serve.out)
  [ -n "$url" ] && break
  sleep 0.1
done
for p in in.cert-in pk.fia; do
  tok=$("$C" party add node "$p" --vkey "$("$C" key show "$p.key" | cut -d' ' -f1)" \
    --recipient "$("$C" key show "$p.key" | cut -d' ' -f2)" | sed -n 's/^token (shown once): //p')
  printf 'url = %s\ntoken = %s\nkey = %s.key\nkeys = peers.keys\n' "$url" "$tok" "$p" >"$p.conf"
done
"$C" case open mla-request --to pk.fia --tlp amber --config in.cert-in.conf \
  --set requesting_authority=bench --set subject=bench --set facts=bench \
  --set assistance=bench --set purpose=bench >open.out
case_id=$(cut -d' ' -f1 open.out)
r1=$("$C" key show pk.fia.key | cut -d' ' -f2)
r2=$("$C" key show in.cert-in.key | cut -d' ' -f2)
head -c $((size_mb << 20)) /dev/urandom >p
"$C" case upload "$case_id" mla-partial p --set text=bench --keep up.age --config pk.fia.conf >up.out
read -r hash _ rec < <(tail -1 up.out)
cat p up.age >/dev/null

# once NAME CMD...: runs CMD, keeps the best wall and CPU ms of NAME, the
# node's CPU ms beside it, and its peak RSS
declare -A w c kb nc
tck=$(getconf CLK_TCK)
node_cpu() { awk -v t="$tck" '{ printf "%d", ($14 + $15) * 1000 / t }' /proc/$pid/stat; }
once() {
  local n=$1; shift
  rm -f out.bin seal.age
  local n0 n1
  n0=$(node_cpu)
  /usr/bin/time -f '%e %U %S %M' -o time.out "$@" >/dev/null 2>run.err || { cat run.err; exit 1; }
  n1=$(node_cpu)
  if [ -z "${nc[$n]:-}" ] || [ $((n1 - n0)) -lt "${nc[$n]}" ]; then nc[$n]=$((n1 - n0)); fi
  read -r e u s m <time.out
  local ww cc
  ww=$(awk -v e="$e" 'BEGIN { printf "%d", e * 1000 }')
  cc=$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%d", (u + s) * 1000 }')
  if [ -z "${w[$n]:-}" ] || [ "$ww" -lt "${w[$n]}" ]; then w[$n]=$ww; fi
  if [ -z "${c[$n]:-}" ] || [ "$cc" -lt "${c[$n]}" ]; then c[$n]=$cc; fi
  kb[$n]=$m
}
for _ in $(seq "$rounds"); do
  once seal "$C" seal -r "$r1" -r "$r2" -o seal.age p
  once upload "$C" case upload "$case_id" mla-partial p --set text=bench --config pk.fia.conf
  once attach "$C" case attach "$rec" up.age --config pk.fia.conf
  once open "$C" open -i in.cert-in.key -o out.bin up.age
  once fetch "$C" case fetch "$hash" --out out.bin --config in.cert-in.conf
  once fetch_sealed "$C" case fetch "$hash" --sealed --out out.bin --config in.cert-in.conf
done
"$C" case fetch "$hash" --out out.bin --config in.cert-in.conf
cmp -s out.bin p || { echo "fetched file differs"; exit 1; }
node_kb=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\).*/\1/p' /proc/$pid/status)

rate() { awk -v mb="$size_mb" -v ms="$1" 'BEGIN { printf "%5.0f MB/s", mb * 1.048576 / ((ms > 0 ? ms : 1) / 1000) }'; }
share() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%3.0f%%", 100 * a / (b > 0 ? b : 1) }'; }
line() { printf "  %-30s %7d ms %s %7d ms %s %7d ms %8s KB\n" "$1" "${w[$2]}" "$(rate "${w[$2]}")" "${c[$2]}" "$(rate "${c[$2]}")" "${nc[$2]}" "${kb[$2]}"; }
echo "a file of $size_mb MiB, page cache warm, to and from disk, best of $rounds (load: $(cut -d' ' -f1-3 /proc/loadavg)):"
printf "  %-30s %22s %22s %10s %11s\n" "" "wall time" "CPU time (user+sys)" "node CPU" "peak RSS"
line "comity seal (2 recipients)" seal
line "comity case upload" upload
line "comity case attach (transfer)" attach
line "comity open" open
line "comity case fetch" fetch
line "comity case fetch --sealed" fetch_sealed
echo "  node peak RSS over the run: $node_kb KB"
echo "upload: $(share "${w[seal]}" "${w[upload]}") of seal's throughput by wall time (target 80%: $(
  [ $((w[upload] * 80)) -le $((w[seal] * 100)) ] && echo met || echo NOT MET))"
echo "fetch:  $(share "${w[open]}" "${w[fetch]}") of open's throughput by wall time (target 80%: $(
  [ $((w[fetch] * 80)) -le $((w[open] * 100)) ] && echo met || echo NOT MET))"
echo "by CPU time (the command's): upload $(share "${c[seal]}" "${c[upload]}") of seal's, fetch $(share "${c[open]}" "${c[fetch]}") of open's"
