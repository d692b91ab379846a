#!/usr/bin/env bash
# demo_federation.sh: `make demo-federation` (scripts/demo-federation) runs
# to the end with this build's comity and shows what it promises: three
# nodes configured from signed roster records alone, every record on every
# node, and the same roster, statuses and inbox on the three.
set -euo pipefail
: "${COMITY_BIN:?}" "${COMITY_SRC:?}"
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
ok()  { echo "ok   $*"; }
bad() { echo "FAIL $*"; fails=$((fails + 1)); }
has() { if grep -Eq -- "$2" "$T/out"; then ok "$1"; else bad "$1: no line matching '$2'"; fi; }
rc=0; COMITY_BIN=$COMITY_BIN "$COMITY_SRC/scripts/demo-federation" "$T/demo" >"$T/out" 2>&1 || rc=$?
if [ "$rc" -ne 0 ]; then cat "$T/out"; echo "FAIL scripts/demo-federation exited $rc"; exit 1; fi
ok "scripts/demo-federation exits 0"
has "A pins the other nodes' offices from the roster" "A: pinned in.mea, mv.nim, un.oda at their homes; local: pk.mofa"
has "C is the hub of un.oda and mv.nim" "C: pinned in.mea, pk.mofa at their homes; local: mv.nim, un.oda"
has "the record posted on A reached B and C" "notification--.* reached B and C"
has "every record on every node" "every record is on every node"
has "the same roster" "the roster is the same on the three nodes, byte for byte"
has "the notification acknowledged on the three" "^ +notification .* acknowledged +acknowledged +acknowledged"
has "the same statuses" "every record's status is the same on the three nodes"
has "the same inbox" "pk.mofa's inbox .* is the same on the three nodes"
[ "$(ls "$T"/demo/*/roster/*.json | wc -l)" = 21 ] && ok "each node holds the 7 roster records" || bad "roster files"
if [ "$fails" -ne 0 ]; then sed 's/^/  | /' "$T/out"; echo "$fails check(s) failed"; exit 1; fi
echo "all checks passed"
