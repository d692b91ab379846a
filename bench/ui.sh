#!/usr/bin/env bash
# bench/ui.sh BUILD_DIR: issue 15's performance point, all three figures.
#  1. weight: builds web/ (web/build.mjs, minified) into a temporary
#     directory and prints what the inbox screen loads (style.css, app.js
#     and the chunks app.js imports statically; screens loaded on demand,
#     such as the statistics and their charts, pings-*.js, are not counted)
#     compressed with gzip -9, beside the target of 300 KB;
#  2. server: BUILD_DIR/bench_ui (a Release build with benchmarks), when it
#     is there: 100,000 records on a node, 1,000 for the party, the inbox's
#     first page of 50 (p50 beside the 20 ms target) and the whole inbox;
#  3. paint: the same program, when Debian's chromium and web/node_modules
#     are there: the inbox painted in Chromium (median beside the 1 s
#     target; web/test/paint.mjs).
# Needs node and web/node_modules (scripts/install-deps).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
command -v node >/dev/null && [ -d "$root/web/node_modules/esbuild" ] ||
  { echo "ui.sh: node or web/node_modules missing (scripts/install-deps)"; exit 0; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
(cd "$root/web" && node build.mjs "$T/web")
raw=0; gz=0
for f in style.css app.js $(grep -o 'from"\./chunk-[A-Za-z0-9]*\.js"' "$T/web/app.js" | sed 's/^from"\.\///; s/"$//' | sort -u); do
  r=$(stat -c %s "$T/web/$f"); g=$(gzip -9c "$T/web/$f" | wc -c)
  printf '  %-10s %8d bytes, %7d gzip -9\n' "$f" "$r" "$g"
  raw=$((raw + r)); gz=$((gz + g))
done
verdict=met; [ "$gz" -le $((300 * 1024)) ] || verdict=MISSED
printf 'inbox JS+CSS: %d bytes, %d compressed (%.1f KB); target <= 300 KB: %s\n' \
  "$raw" "$gz" "$(echo "$gz / 1024" | bc -l)" "$verdict"
if [ -x "${1:-}/bench_ui" ]; then
  "$1/bench_ui" 2>/dev/null | grep -v 'missing from the log'
else
  echo "ui.sh: no ${1:-BUILD_DIR}/bench_ui (cmake -DCMAKE_BUILD_TYPE=Release -DCOMITY_TESTS=OFF): server and paint not measured"
fi
