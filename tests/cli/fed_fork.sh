#!/usr/bin/env bash
# fed_fork.sh: a forking origin caught, proven and gossiped
# (docs/federation.md, section 9).
#
# Node A (pk's) forks: its directory is copied before it serves (A2, the
# same log key), and A2 later serves on A's port a history of the same
# size as A's with another root.  B pulls A: it accepts A's checkpoint of
# size 2 while its cursor waits at 1 (A's second record is by a party B
# does not know, refused), so its next pull from A2 is at that size with
# another root: a split view.  B keeps a signed equivocation, stops
# pulling from A, and the proof checks offline under A's log key (not
# under another key, not tampered).  C, which only ever saw A2 (its view
# is not split), pins A and B: it fetches B's equivocations, keeps the one
# against A and stops pulling from A too.  Push hints: 202 for an origin
# B pulls, 404 for another, 405 for GET.
#
# Split views of different sizes: A2 then grows to 3 entries.  D, which
# accepted A's checkpoint of size 2 before the fork, meets A2's of size 3
# on its next pull: the consistency proof fails, and D proves the split
# with A2's own hashes (its hash of its first 2 leaves and its
# consistency proof from 2 to 3) and keeps it; the proof checks offline
# and not with a hash line altered.  C, whose view is A2's size 3, learns
# B's checkpoint of A (size 2) by gossip (GET /federation/checkpoints)
# and proves the same split by itself.
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/node_lib.bash"
C=$COMITY_BIN
cd "$T"

nodes_init A B C D
party_key pk.mofa pk.key; party_key fr.anssi fr.key; party_key in.mea in.key; party_key un.unoda un.key
T_PK=$(party_token A pk.mofa pk.key); T_FR=$(party_token A fr.anssi fr.key); party_token B in.mea in.key >/dev/null
party_token C un.unoda un.key >/dev/null
"$C" peer add "$T/D" "$U_A" --log-vkey "$VK_A" --party "$(kv pk.key),$(kr pk.key)" \
  --party "$(kv fr.key),$(kr fr.key)" >/dev/null
"$C" peer add "$T/A" "$U_B" --log-vkey "$VK_B" --party "$(kv in.key),$(kr in.key)" >/dev/null
"$C" peer add "$T/A" "$U_C" --log-vkey "$VK_C" --party "$(kv un.key),$(kr un.key)" >/dev/null
"$C" peer add "$T/B" "$U_A" --log-vkey "$VK_A" --party "$(kv pk.key),$(kr pk.key)" >/dev/null
"$C" peer add "$T/B" "$U_C" --log-vkey "$VK_C" --party "$(kv un.key),$(kr un.key)" >/dev/null
"$C" peer add "$T/C" "$U_A" --log-vkey "$VK_A" --party "$(kv pk.key),$(kr pk.key)" \
  --party "$(kv fr.key),$(kr fr.key)" >/dev/null
"$C" peer add "$T/C" "$U_B" --log-vkey "$VK_B" --party "$(kv in.key),$(kr in.key)" >/dev/null
"$C" peer add "$T/A" "$U_D" --log-vkey "$(vkey_of D.init)" >/dev/null
cp -a "$T/A" "$T/A2" # the fork: the same key, another history from here

note() { # note KEY SUMMARY OUT
  echo "{\"severity\":1,\"sector\":\"energy\",\"summary\":\"$2\"}" |
    "$C" record sign --key "$1" --type notification --tlp green --to in.mea >"$3"
}
post() { "$C" record post --url "$U_A" --token "$1" "$2" >/dev/null; }
note pk.key "one" a1.json; note fr.key "two" a2.json
note pk.key "other one" f1.json; note pk.key "other two" f2.json; note pk.key "other three" f3.json

node_start A A
post "$T_PK" a1.json && post "$T_FR" a2.json || bad "posts on A"
# B starts once A's checkpoint covers both: its first page holds them both
size_a() { [ "$(curl -s --noproxy '*' "$U_A/log/checkpoint" | sed -n 2p)" = 2 ]; }
until_ok 20 size_a || bad "A's checkpoint never reached 2"
node_start B B
size_b() { "$C" peer list "$T/B" | python3 -c 'import json,sys; p=[x for x in json.load(sys.stdin) if x["origin"]=="comity.a.test"][0]; sys.exit(0 if p.get("checkpoint_size")==2 and p["cursor"]==1 else 1)'; }
until_ok 40 size_b && ok "B holds A's checkpoint of size 2, its cursor at 1 (fr.anssi unknown to B)" ||
  bad "B: $("$C" peer list "$T/B")"
node_start D D
size_d() { [ "$("$C" peer list "$T/D" | jq -r '.[0].checkpoint_size')" = 2 ]; }
until_ok 40 size_d && ok "D holds A's checkpoint of size 2" || bad "D: $("$C" peer list "$T/D")"
node_stop D
node_stop A
node_start A A2 # the fork, on A's port
post "$T_PK" f1.json && post "$T_PK" f2.json || bad "posts on A2"
kept() { ls "$T/$1"/equivocations/*.note >/dev/null 2>&1; }
until_ok 60 kept B && ok "B caught the split view and kept an equivocation" ||
  bad "no equivocation on B: $("$C" peer list "$T/B")"
EQ=$(ls "$T"/B/equivocations/*.note | head -1)
"$C" peer list "$T/B" | grep -q "split view of comity.a.test\|equivocation proven" &&
  ok "B's peer list says why it stopped pulling A" || bad "peer list B: $("$C" peer list "$T/B")"
out=$("$C" peer equivocation "$EQ" --log-vkey "$VK_A") && echo "$out" | grep -q "split view of comity.a.test proven" &&
  ok "the equivocation verifies offline under A's log key" || bad "offline check: $out"
rc=0; "$C" peer equivocation "$EQ" --log-vkey "$VK_B" 2>/dev/null || rc=$?
check "under another log key it proves nothing" 1 "$rc"
python3 - "$EQ" eq.bad <<'PY'
import sys
lines = open(sys.argv[1]).read().split("\n")
l = lines[3]  # the second checkpoint, base64: one digit swapped
lines[3] = l[:10] + ("A" if l[10] != "A" else "B") + l[11:]
open(sys.argv[2], "w").write("\n".join(lines))
PY
rc=0; "$C" peer equivocation eq.bad --log-vkey "$VK_A" 2>/dev/null || rc=$?
[ "$rc" -ne 0 ] && ok "a tampered equivocation is refused" || bad "tampered equivocation passed"
# ---- split views of different sizes ----------------------------------------
post "$T_PK" f3.json || bad "post f3 on A2"
size_a3() { [ "$(curl -s --noproxy '*' "$U_A/log/checkpoint" | sed -n 2p)" = 3 ]; }
until_ok 20 size_a3 || bad "A2's checkpoint never reached 3"
# sizes SIZE1 SIZE2 NOTE...: one of the notes holds checkpoints of these sizes
sizes() { local a=$1 b=$2; shift 2; python3 - "$a" "$b" "$@" <<'PY'
import base64, sys
a, b = sys.argv[1], sys.argv[2]
for f in sys.argv[3:]:
    l = open(f).read().split("\n")
    if [base64.b64decode(l[i]).decode().split("\n")[1] for i in (2, 3)] == [a, b]:
        print(f); sys.exit(0)
sys.exit(1)
PY
}
node_start D D
kept_23() { sizes 2 3 "$T"/$1/equivocations/*.note >/dev/null 2>&1; }
until_ok 60 kept_23 D && ok "D met size 3 after 2 not extending it, proved it and kept it" ||
  bad "no 2-3 equivocation on D: $("$C" peer list "$T/D")"
EQ3=$(sizes 2 3 "$T"/D/equivocations/*.note)
out=$("$C" peer equivocation "$EQ3" --log-vkey "$VK_A") && echo "$out" | grep -q "split view of comity.a.test proven" &&
  ok "the proof of sizes 2 and 3 verifies offline under A's log key" || bad "offline check (2, 3): $out"
[ "$(wc -l <"$EQ3")" -gt 6 ] && ok "  ... it carries A2's hashes" || bad "  no hash lines: $(cat "$EQ3")"
python3 - "$EQ3" eq3.bad <<'PY'
import sys
lines = open(sys.argv[1]).read().split("\n")
l = lines[4]  # A2's hash of its first 2 leaves: one digit swapped
lines[4] = l[:10] + ("A" if l[10] != "A" else "B") + l[11:]
open(sys.argv[2], "w").write("\n".join(lines))
PY
rc=0; "$C" peer equivocation eq3.bad --log-vkey "$VK_A" 2>eq3.err || rc=$?
[ "$rc" -ne 0 ] && ok "a hash line altered: refused ($(head -c 70 eq3.err))" || bad "altered 2-3 proof passed"
node_stop D
# C never saw A's side: it learns of the split view from B (B's
# equivocation, and by itself from B's checkpoint of A, by gossip)
node_start C C
until_ok 60 kept_23 C && ok "C proved the split from B's gossiped checkpoint (sizes 2 and 3)" ||
  bad "no 2-3 equivocation on C: $(ls "$T"/C/equivocations/ 2>&1)"
checkpoints() { curl -s --noproxy '*' "$U_B/federation/checkpoints"; }
check "B gossips A's checkpoint of size 2 (anonymous GET)" 1 \
  "$(checkpoints | jq '[.[] | select(startswith("comity.a.test\n2\n"))] | length')"
until_ok 60 kept C && ok "C fetched B's equivocation against A and kept it" ||
  bad "no equivocation on C: $("$C" peer list "$T/C")"
stopped_c() { "$C" peer list "$T/C" | grep -q "split view of comity.a.test"; }
until_ok 20 stopped_c && ok "C stops pulling from A" || bad "C: $("$C" peer list "$T/C")"
# push hints (section 5): anonymous, they only move a pull earlier
hint() { curl -s --noproxy '*' -o /dev/null -w '%{http_code}' -X "$1" "$U_B/federation/hint?origin=$2&size=9"; }
check "a hint for an origin B pulls: 202" 202 "$(hint POST comity.a.test)"
check "a hint for an origin B does not pull: 404" 404 "$(hint POST comity.x.test)"
check "a hint is posted: GET 405" 405 "$(hint GET comity.a.test)"
node_stop A; node_stop B; node_stop C
finish
