#!/usr/bin/env bash
# log_succession.sh: a node's log key is lost, and its state announces a
# new log (docs/federation.md, section 11; `comity log succeed`, `comity
# peer follow`, `comity record verify --succession`).
#
# A (pk's node, comity.a.test) and B (in's) pin each other; B also knows
# xx.ops, another state's office homed at A.  pk.mofa posts r1 and r2 on
# A, B takes both; A's checkpoint of size 2 is the cut.  B stops; A's key
# is then "compromised": r3 is logged on A beyond the cut.  A new node A2
# (comity.a2.test) takes over pk.mofa; the state pk signs the succession.
# On B: a succession signed by a key the roster does not admit is
# refused, one by another admitted state with no office at A is refused,
# one whose cut is below what B accepted is refused (nothing changed), the real one is followed: pk.mofa is homed at A2, A stays
# pinned for xx.ops.  B then pulls r4 from A2, and refuses A's page beyond
# the cut (its error names the rule) without taking r3.  Offline: r1's
# receipt from A at the cut verifies by the succession, r3's (beyond) is
# refused, r4's from A2 verifies as the new log's.
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/node_lib.bash"
C=$COMITY_BIN
cd "$T"
PIDS=()
cleanup_all() {
  for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
}
at_exit cleanup_all

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
vkey_of() { sed -n 's/^node key (signs its log): //p' "$1"; }
keyfile() { "$C" keygen --party "$1" --out "$2" >/dev/null 2>&1; }
kv() { "$C" key show "$1" | cut -d' ' -f1; }
kr() { "$C" key show "$1" | cut -d' ' -f2; }
start() {
  local n=$1 p
  p=$(eval echo "\$P_$n")
  "$C" serve "$T/$n" --listen "127.0.0.1:$p" --insecure-http >"$T/$n.out" 2>"$T/$n.err" &
  eval "PID_$n=$!"
  PIDS+=("$!")
  for _ in $(seq 100); do
    curl -s --noproxy '*' "http://127.0.0.1:$p/v1/node" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "node $n did not start"; cat "$T/$n.err"; exit 1
}
stop() { local pid; pid=$(eval echo "\$PID_$1"); kill -TERM "$pid"; wait "$pid" || true; }
until_ok() { local s=$1; shift; for _ in $(seq $((s * 10))); do "$@" && return 0; sleep 0.1; done; return 1; }

for n in A A2 B; do
  "$C" init "$T/$n" --origin "comity.$(echo $n | tr A-Z a-z).test" --no-tls-cert >"$T/$n.init"
  eval "P_$n=$(port)"
done
VK_A=$(vkey_of A.init); VK_A2=$(vkey_of A2.init); VK_B=$(vkey_of B.init)
U_A="http://127.0.0.1:$P_A"; U_A2="http://127.0.0.1:$P_A2"; U_B="http://127.0.0.1:$P_B"
keyfile pk pk-state.key; keyfile pk other-state.key; keyfile zz zz-state.key
keyfile pk.mofa pk.key; keyfile in.mea in.key; keyfile xx.ops xx.key
tok() { "$C" party add "$T/$1" "$2" --vkey "$(kv "$3")" --recipient "$(kr "$3")" | sed -n 's/^token (shown once): //p'; }
T_PK=$(tok A pk.mofa pk.key); T_XX=$(tok A xx.ops xx.key); T_IN=$(tok B in.mea in.key)
T_PK2=$(tok A2 pk.mofa pk.key)
PA="$(kv pk.key),$(kr pk.key)"; PX="$(kv xx.key),$(kr xx.key)"; PB="$(kv in.key),$(kr in.key)"
"$C" peer add "$T/A" "$U_B" --log-vkey "$VK_B" --party "$PB" >/dev/null
"$C" peer add "$T/A2" "$U_B" --log-vkey "$VK_B" --party "$PB" >/dev/null
"$C" peer add "$T/B" "$U_A" --log-vkey "$VK_A" --party "$PA" --party "$PX" >/dev/null
# B's roster pins pk's state key: the key a succession of pk's must be signed by
printf 'state %s\nstate %s\n' "$(kv pk-state.key)" "$(kv zz-state.key)" >roster.policy
"$C" roster policy "$T/B" roster.policy >/dev/null

start A; start B
post() { # post NODE_URL TOKEN KEY SUMMARY OUT
  echo "{\"severity\":1,\"sector\":\"energy\",\"summary\":\"$4\"}" |
    "$C" record sign --key "$3" --type notification --tlp green --to in.mea >"$5.json"
  "$C" record post --url "$1" --token "$2" "$5.json" >"$5.post" || bad "post $5"
  jq -r .id "$5.post"
}
# (HEAD: in.mea's GET would be a delivery, whose record B signs and A
# pulls, and the log sizes below count A's records alone)
got_on_b() { curl -s --noproxy '*' -I -o /dev/null -w '%{http_code}' -H "Authorization: Token $T_IN" "$U_B/v1/records/$1" | grep -q 200; }
ckpt_size() { curl -s --noproxy '*' "$1/log/checkpoint" | sed -n 2p; }
size_is() { [ "$(ckpt_size "$1")" = "$2" ]; }
ID1=$(post "$U_A" "$T_PK" pk.key "first" r1)
until_ok 20 size_is "$U_A" 1 || bad "A's checkpoint never covered r1"
curl -s --noproxy '*' "$U_A/log/checkpoint" >cut1.txt
ID2=$(post "$U_A" "$T_PK" pk.key "second" r2)
until_ok 20 size_is "$U_A" 2 || bad "A's checkpoint never covered r2"
curl -s --noproxy '*' "$U_A/log/checkpoint" >cut.txt
"$C" record receipt --url "$U_A" --token "$T_PK" "$ID1" --out r1.proof >/dev/null 2>&1 || bad "r1's receipt"
until_ok 40 got_on_b "$ID2" && ok "B took r1 and r2 from A" || bad "r2 not on B: $("$C" peer list "$T/B" | jq -c '.[0] | {cursor, error}')"
check "B accepted A's checkpoint of size 2" 2 "$("$C" peer list "$T/B" | jq -r '.[0].checkpoint_size')"

# ---- A's log key is compromised: r3 beyond the cut; A2 takes over ----------
stop B
ID3=$(post "$U_A" "$T_PK" pk.key "beyond the cut" r3)
until_ok 20 size_is "$U_A" 3 || bad "A's checkpoint never covered r3"
"$C" record receipt --url "$U_A" --token "$T_PK" "$ID3" --out r3.proof >/dev/null 2>&1 || bad "r3's receipt"

"$C" log succeed --key pk-state.key --old-vkey "$VK_A" --new-vkey "$VK_A2" --url "$U_A2" \
  --checkpoint cut.txt --reason "log key lost with A's disk" -o succ.json && ok "log succeed" || bad "log succeed"
check "a log-succession record by the state pk" "log-succession pk" \
  "$("$C" record verify --vkey "$(kv pk-state.key)" succ.json 2>/dev/null | jq -r '.type + " " + .author')"
rc=0; "$C" log succeed --key pk-state.key --old-vkey "$VK_A" --new-vkey "$VK_A2" --url "$U_A2" \
  --checkpoint r1.proof -o bad.json 2>err.txt || rc=$?
[ "$rc" -ne 0 ] && grep -q "log-succession.checkpoint" err.txt && ok "a cut that is no checkpoint of the old key is refused" ||
  bad "bad cut: rc $rc, $(cat err.txt)"
"$C" log succeed --key other-state.key --old-vkey "$VK_A" --new-vkey "$VK_A2" --url "$U_A2" \
  --checkpoint cut.txt -o forged.json
"$C" log succeed --key pk-state.key --old-vkey "$VK_A" --new-vkey "$VK_A2" --url "$U_A2" \
  --checkpoint cut1.txt -o early.json
"$C" log succeed --key zz-state.key --old-vkey "$VK_A" --new-vkey "$VK_A2" --url "$U_A2" \
  --checkpoint cut.txt -o zz.json

# ---- B follows it --------------------------------------------------------------
rc=0; "$C" peer follow "$T/B" forged.json >/dev/null 2>err.txt || rc=$?
[ "$rc" -ne 0 ] && grep -q "signature" err.txt && ok "a succession under a key the roster does not admit is refused" ||
  bad "forged: rc $rc, $(cat err.txt)"
rc=0; "$C" peer follow "$T/B" zz.json >/dev/null 2>err.txt || rc=$?
[ "$rc" -ne 0 ] && grep -q "no party of zz is homed at comity.a.test" err.txt &&
  ok "a state with no office at A (zz, admitted) cannot cap A's log" || bad "zz: rc $rc, $(cat err.txt)"
rc=0; "$C" peer follow "$T/B" early.json >/dev/null 2>err.txt || rc=$?
[ "$rc" -ne 0 ] && grep -q "log-succession (beyond)" err.txt && ok "a cut below what B accepted is refused: $(cut -c1-80 err.txt)" ||
  bad "early: rc $rc, $(cat err.txt)"
check "  ... nothing changed: A alone pinned" "comity.a.test" "$("$C" peer list "$T/B" | jq -r '[.[].origin] | join(" ")')"
rc=0; "$C" peer follow "$T/B" succ.json >follow.json 2>err.txt || rc=$?
check "peer follow" 0 "$rc"
check "  ... pk.mofa moved to the new log" "pk.mofa" "$(jq -r '.moved | join(" ")' follow.json)"
check "  ... A kept for xx.ops" "kept" "$(jq -r '.old_peer' follow.json | cut -d: -f1)"
"$C" peer list "$T/B" >pl.json
check "B pins A (xx.ops) and A2 (pk.mofa)" "comity.a.test:xx.ops comity.a2.test:pk.mofa" \
  "$(jq -r '[.[] | .origin + ":" + (.parties | join(","))] | sort | join(" ")' pl.json)"

# ---- pulls continue from the new log; the old one stops at the cut ----------------
start A2; start B
ID4=$(post "$U_A2" "$T_PK2" pk.key "from the new log" r4)
until_ok 40 got_on_b "$ID4" && ok "B took r4 from the new log A2" ||
  bad "r4 not on B: $("$C" peer list "$T/B" | jq -c '.[] | {origin, cursor, error}')"
a_err() { "$C" peer list "$T/B" | jq -r '.[] | select(.origin == "comity.a.test") | .error'; }
has_rule() { a_err | grep -q "log-succession (beyond)"; }
until_ok 30 has_rule && ok "B refuses A's page beyond the cut: $(a_err | cut -c1-90)" || bad "A's error: $(a_err)"
got_on_b "$ID3" && bad "B took r3, logged beyond the cut" || ok "B did not take r3"
check "B's cursor at A stays at the cut" 2 "$("$C" peer list "$T/B" | jq -r '.[] | select(.origin == "comity.a.test") | .cursor')"
# xx.ops's record before the cut would still come; one after it does not
ID5=$(post "$U_A" "$T_XX" xx.key "xx after the cut" r5)
sleep 2
got_on_b "$ID5" && bad "B took xx.ops's record beyond the cut" || ok "nothing of A beyond the cut, whoever signed it"

# ---- receipts, offline ----------------------------------------------------------
"$C" record receipt --url "$U_A2" --token "$T_PK2" "$ID4" --out r4.proof >/dev/null 2>&1 || bad "r4's receipt"
SV=$(kv pk-state.key)
rc=0; "$C" record verify --receipt r1.proof --succession succ.json --state-vkey "$SV" r1.json >/dev/null 2>err.txt || rc=$?
check "r1's receipt under the old key, at the cut, verifies" 0 "$rc"
grep -q "at the succession's" err.txt && ok "  ... $(grep -o 'in the checkpoint.*' err.txt)" || bad "r1: $(cat err.txt)"
rc=0; "$C" record verify --receipt r3.proof --succession succ.json --state-vkey "$SV" r3.json >/dev/null 2>err.txt || rc=$?
[ "$rc" -ne 0 ] && grep -q "log-succession (beyond)" err.txt && ok "r3's receipt beyond the cut is refused (rc $rc)" ||
  bad "r3: rc $rc, $(cat err.txt)"
rc=0; "$C" record verify --receipt r3.proof --log-vkey "$VK_A" r3.json >/dev/null 2>&1 || rc=$?
check "  ... while the old key alone would take it" 0 "$rc"
rc=0; "$C" record verify --receipt r4.proof --succession succ.json --state-vkey "$SV" r4.json >/dev/null 2>err.txt || rc=$?
check "r4's receipt from the new log verifies" 0 "$rc"
rc=0; "$C" record verify --receipt r1.proof --succession forged.json --state-vkey "$SV" r1.json >/dev/null 2>err.txt || rc=$?
[ "$rc" -ne 0 ] && ok "a succession not signed by the state key given is refused" || bad "forged succession taken"
for n in A A2 B; do stop $n; done
"$C" log audit "$T/B/log" --vkey "$VK_B" >/dev/null 2>&1 && ok "B's log audits" || bad "B's log audit"
finish
