#!/usr/bin/env bash
# store_reads.sh OLD_SRC OLD_BUILD NEW_SRC NEW_BUILD: builds bench/cg/store_reads.c
# against two builds' libcomity.a (OLD without record filters, NEW with
# them) and prints callgrind's instruction count of each section, old
# then new.  Example (bench/README.md, "The store under callgrind"):
#   bench/cg/store_reads.sh OLD OLD/build-release \
#                           "$PWD" "$PWD/build-release"
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
libs="$(pkg-config --libs libsodium jansson sqlite3 gnutls libmicrohttpd libcurl) -lpthread -lm"
# shellcheck disable=SC2086
gcc -O2 -std=c11 -D_GNU_SOURCE -I"$1/src" -I"$1/include" "$here/store_reads.c" \
  "$2/libcomity.a" $libs -o "$t/old"
# shellcheck disable=SC2086
gcc -O2 -std=c11 -D_GNU_SOURCE -DSTORE_FILTER -I"$3/src" -I"$3/include" "$here/store_reads.c" \
  "$4/libcomity.a" $libs -o "$t/new"
for w in old new; do
  mkdir "$t/$w.d"
  valgrind --tool=callgrind --collect-atstart=no --callgrind-out-file="$t/$w.d/cg.%p" \
    "$t/$w" "$t/$w.d" >/dev/null 2>"$t/$w.err"
  for f in "$t/$w.d"/cg.*; do
    part=$(sed -n 's/^desc: Trigger: Client Request: //p' "$f")
    [ -n "$part" ] && printf '%s %-9s %s\n' "$w" "$part" "$(sed -n 's/^summary: //p' "$f")"
  done
done
