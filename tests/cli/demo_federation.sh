#!/usr/bin/env bash
# demo_federation.sh: `make demo-federation` (scripts/demo-federation) runs
# to the end with this build's comity and shows what it promises: three
# nodes configured from signed roster records alone; the CBM scenario of
# `make demo` across them (directory, ping round, notification and acks,
# the sealed request closed, the refusals by the answerer's own node);
# every record on every node that may hold it with the same roster and
# statuses; receipts from the origin and the recipient's node verified
# offline; a forking origin caught and proven offline; every log audited.
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
has "A pins the other nodes' offices from the roster" "A: pinned in.cert-in, in.mea, mv.nim, un.oda at their homes; local: pk.mofa, pk.pkcert"
has "C is the hub of un.oda and mv.nim" "C: pinned in.cert-in, in.mea, pk.mofa, pk.pkcert at their homes; local: mv.nim, un.oda"
has "the four nominations, posted on A and B, in the directory on C" "^   in +technical +CERT-In"
has "... pk's too" "^   pk +diplomatic +Ministry of Foreign Affairs"
has "C's ping round reached the four contacts" "4 ping\(s\) sent from the directory"
has "the notification posted on A reached B and C" "notification--.* reached B and C"
has "the non-recipient's ack is refused by its own node B" "ack: the node refused \(403, rule framework\).*not a recipient"
has "the reply after the close (posted on A) is refused by B" "reply: the node refused \(409, rule framework\).*closed"
has "every record on every node" "every record is on every node that may hold it"
has "the same roster" "the roster is the same on the three nodes, byte for byte"
has "the notification acknowledged on the three" "^ +notification .* acknowledged +acknowledged +acknowledged"
has "in.mea's ping unanswered on the three" "^ +ping .* sent +sent +sent"
has "the same statuses" "records, each with the same status on the three nodes"
has "the sealed request closed for both parties at their nodes" 'the sealed request is "closed" for pk.mofa on A and for in.mea on B'
has "ping statistics on C: in.mea unanswered" "^   in\.mea +diplomatic +1 +0 .*100%"
has "the notification's receipt from its origin" "from A, its origin: notification--.* is entry [0-9]+ of comity\.pk\.demo"
has "... and from its recipient's node" "from B, its recipient's node: notification--.* is entry [0-9]+ of comity\.in\.demo"
# (21 records of the scenario, and the delivered records the recipients' nodes sign)
has "every receipt verified offline" "(2[1-9]|[3-9][0-9]) receipts: good signature and good receipt"
has "B's receipt is not A's" "does not verify under A's log key"
has "B caught the fork" "B caught it and kept an equivocation"
has "B's peer list says why it stopped" "B's peer list, comity\.pk\.demo: split view"
has "the equivocation verifies offline under A's key" "offline, under A's log key: split view of comity\.pk\.demo proven"
has "C holds a proof too" "C holds a proof too"
for n in "A " A2 "B " "C "; do has "$n's log audits" "^   $n +audit ok: "; done
[ "$(ls "$T"/demo/[ABC]/roster/*.json | wc -l)" = 27 ] && ok "each node holds the 9 roster records" || bad "roster files"
if [ "$fails" -ne 0 ]; then sed 's/^/  | /' "$T/out"; echo "$fails check(s) failed"; exit 1; fi
echo "all checks passed"
