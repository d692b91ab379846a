#!/usr/bin/env bash
# demo.sh: `make demo` (scripts/demo) runs to the end with this build's
# comity and shows what it promises: the nominations in the directory, the
# ping round with one contact unanswered and overdue, the notification
# acknowledged, the non-recipient's ack and the reply after close refused
# with the node's rule, the sealed request closed, the ping statistics,
# and every record's receipt verified offline.
set -euo pipefail
: "${COMITY_BIN:?}" "${COMITY_SRC:?}"
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
ok()  { echo "ok   $*"; }
bad() { echo "FAIL $*"; fails=$((fails + 1)); }
has() { if grep -Eq -- "$2" "$T/out"; then ok "$1"; else bad "$1: no line matching '$2'"; fi; }

start=$(date +%s)
rc=0; COMITY_BIN=$COMITY_BIN "$COMITY_SRC/scripts/demo" "$T/demo" >"$T/out" 2>&1 || rc=$?
secs=$(( $(date +%s) - start ))
if [ "$rc" -ne 0 ]; then cat "$T/out"; echo "FAIL scripts/demo exited $rc"; exit 1; fi
ok "scripts/demo exits 0 (took ${secs}s with this build)"
has "says the clock is simulated" "the clock is SIMULATED"
has "four contacts in the directory" "^pk +technical +PKCERT"
has "... of both states" "^in +diplomatic +Ministry of External Affairs"
has "the ping round reached four contacts" "4 ping\(s\) sent from the directory"
has "in.mea's unanswered ping is overdue in its inbox" "OVERDUE by .* ping .*un\.oda"
has "local refusal names the field" "notification\.body\.severity: want an integer 1-5"
has "the non-recipient's ack is refused by the node" "ack: the node refused \(403, rule framework\).*not a recipient"
has "the reply after close is refused" "reply: the node refused \(409, rule framework\).*closed"
has "timeline: the notification is acknowledged" "notification +pk\.pkcert .*sev 4 energy norm 13f: acknowledged"
has "timeline: the unanswered ping is overdue" "ping +un\.oda .*to in\.mea .*sent, OVERDUE \(pong\)"
has "timeline: the sealed request is closed" "request +pk\.mofa .*to in\.mea: closed \[sealed amber\]"
has "stats: pk.mofa answered after 3h40m" "^pk\.mofa +diplomatic +1 +1 +3h40m"
has "stats: in.mea unanswered" "^in\.mea +diplomatic +1 +0 .*100%"
has "stats over both states" "^\(selection\) +all +4 +3 "
# (17 records the scenario posts, and the delivered records the hub signs as
# recipients first fetch them: n of n, every one)
has "every receipt verified offline" "([0-9]+) of \\1 records: good signature and good receipt"
[ -f "$T/demo/hub/node.db" ] && ok "the hub's files are kept in the folder given" || bad "no hub in $T/demo"
if [ "$fails" -ne 0 ]; then sed 's/^/  | /' "$T/out"; echo "$fails check(s) failed"; exit 1; fi
echo "all checks passed"
