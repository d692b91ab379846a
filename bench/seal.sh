#!/usr/bin/env bash
# bench/seal.sh BUILD_DIR: comity seal/open against Debian's age on the same
# 1 GiB file (release build; output to /dev/null so that only reading,
# crypto and writing to a pipe are measured).  Best of 3 runs each.
# Target: comity open no slower than age -d.  Sealing is shown beside age -e
# without a target: both are bound by their ChaCha20-Poly1305 (libsodium's
# for comity, Go's assembly for age); bench_seal shows comity's seal at the
# raw libsodium encrypt rate.
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

best() { # best wall time in seconds of 3 runs of "$@"
  local b=999999 s e d
  for _ in 1 2 3; do
    s=$(date +%s%N); "$@" > /dev/null; e=$(date +%s%N)
    d=$(( (e - s) / 1000000 )); [ $d -lt $b ] && b=$d
  done
  echo "$b"
}
# warm the page cache
cat "$t/p" "$t/c.age" > /dev/null
ms_copen=$(best "$comity" open -i "$t/k.txt" "$t/c.age")
ms_aopen=$(best age -d -i "$t/k.txt" "$t/c.age")
ms_cseal=$(best "$comity" seal -r "$r" "$t/p")
ms_aseal=$(best age -e -r "$r" "$t/p")
rate() { awk -v mb="$size_mb" -v ms="$1" 'BEGIN { printf "%7.0f MB/s", mb / (ms / 1000) }'; }
verdict() { [ "$1" -le "$2" ] && echo "met" || echo "NOT MET"; }
echo "age files of $size_mb MiB, page cache warm, output to /dev/null, best of 3:"
printf "  %-26s %6d ms %s\n" "comity open" "$ms_copen" "$(rate "$ms_copen")"
printf "  %-26s %6d ms %s   (target: comity open <= age -d: %s)\n" "age -d (Debian $(age --version))" \
  "$ms_aopen" "$(rate "$ms_aopen")" "$(verdict "$ms_copen" "$ms_aopen")"
printf "  %-26s %6d ms %s\n" "comity seal" "$ms_cseal" "$(rate "$ms_cseal")"
printf "  %-26s %6d ms %s   (no target; comity seal is %s%% of age -e's rate)\n" "age -e" \
  "$ms_aseal" "$(rate "$ms_aseal")" "$(( 100 * ms_aseal / ms_cseal ))"
