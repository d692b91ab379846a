#!/usr/bin/env bash
# bench/seal.sh BUILD_DIR: comity seal/open against Debian's age on the same
# 1 GiB file (release build; output to /dev/null so that only reading,
# crypto and writing to a pipe are measured).  Best of 3 rounds, the four
# commands taking turns, by wall time and by CPU time (user + system): on a
# machine shared with other work the wall figures move with the load (and
# favour a multi-threaded process such as Go's), the CPU figures much less.
# Target: comity open no slower than age -d.  Sealing is shown beside age -e
# without a target: both are bound by their ChaCha20-Poly1305 (libsodium's
# for comity, Go's assembly for age); bench_seal shows comity's seal close
# to the raw libsodium encrypt rate.
set -euo pipefail
build=$1
comity=$build/comity
size_mb=${SEAL_BENCH_MB:-1024}
t=$(mktemp -d "${TMPDIR:-/tmp}/comity-bench-seal.XXXXXX"); trap 'rm -rf "$t"' EXIT
age-keygen -o "$t/k.txt" 2>/dev/null
r=$(age-keygen -y "$t/k.txt")
head -c $((size_mb << 20)) /dev/urandom > "$t/p"
"$comity" seal -r "$r" -o "$t/c.age" "$t/p"
age -d -i "$t/k.txt" "$t/c.age" | cmp -s - "$t/p" || { echo "interop check failed"; exit 1; }

# once CMD...: prints "WALL_MS CPU_MS" of one run
once() {
  { TIMEFORMAT='%R %U %S'; time "$@" > /dev/null; } 2>&1 |
    awk '{ printf "%d %d\n", $1 * 1000, ($2 + $3) * 1000 }'
}
# peak memory of one run (constant memory: independent of the file size)
rss() { if [ -x /usr/bin/time ]; then /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1; else echo "?"; fi; }

cat "$t/p" "$t/c.age" > /dev/null # warm the page cache
# the four commands take turns, three rounds, so that a change of load
# between them hits all alike; the best of the three is kept for each
names=(copen aopen cseal aseal)
cmds=("$comity open -i $t/k.txt $t/c.age" "age -d -i $t/k.txt $t/c.age"
      "$comity seal -r $r $t/p" "age -e -r $r $t/p")
declare -A w c
for n in "${names[@]}"; do w[$n]=999999999; c[$n]=999999999; done
for _ in 1 2 3; do
  for i in 0 1 2 3; do
    read -r ww cc < <(once ${cmds[$i]})
    n=${names[$i]}
    [ "$ww" -lt "${w[$n]}" ] && w[$n]=$ww
    [ "$cc" -lt "${c[$n]}" ] && c[$n]=$cc
  done
done
w_copen=${w[copen]} c_copen=${c[copen]} w_aopen=${w[aopen]} c_aopen=${c[aopen]}
w_cseal=${w[cseal]} c_cseal=${c[cseal]} w_aseal=${w[aseal]} c_aseal=${c[aseal]}
kb_copen=$(rss "$comity" open -i "$t/k.txt" "$t/c.age")
kb_aopen=$(rss age -d -i "$t/k.txt" "$t/c.age")
kb_cseal=$(rss "$comity" seal -r "$r" "$t/p")
kb_aseal=$(rss age -e -r "$r" "$t/p")

rate() { awk -v mb="$size_mb" -v ms="$1" 'BEGIN { printf "%6.0f MB/s", mb / ((ms > 0 ? ms : 1) / 1000) }'; }
verdict() { [ "$1" -le "$2" ] && echo "met" || echo "NOT MET"; }
line() { printf "  %-24s %6d ms %s %6d ms %s %8s KB\n" "$1" "$2" "$(rate "$2")" "$3" "$(rate "$3")" "$4"; }
echo "age files of $size_mb MiB, page cache warm, output to /dev/null, best of 3 (load: $(cut -d' ' -f1-3 /proc/loadavg)):"
printf "  %-24s %22s %22s %11s\n" "" "wall time" "CPU time (user+sys)" "peak RSS"
line "comity open" "$w_copen" "$c_copen" "$kb_copen"
line "age -d ($(age --version))" "$w_aopen" "$c_aopen" "$kb_aopen"
line "comity seal" "$w_cseal" "$c_cseal" "$kb_cseal"
line "age -e" "$w_aseal" "$c_aseal" "$kb_aseal"
echo "  target: comity open no slower than age -d: by wall time $(verdict "$w_copen" "$w_aopen")," \
     "by CPU time $(verdict "$c_copen" "$c_aopen")"
echo "  (no target) comity seal / age -e: by wall time $(( 100 * w_aseal / (w_cseal ? w_cseal : 1) ))% of age's rate," \
     "by CPU time $(( 100 * c_aseal / (c_cseal ? c_cseal : 1) ))%"
