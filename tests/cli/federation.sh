#!/usr/bin/env bash
# federation.sh: real nodes on loopback pulling each other's records
# (docs/federation.md).
#
# Node A (pk's) and node B (in's) pin each other; C (a hub for un) pins
# A.  A record posted on A by pk.mofa to in.mea (home B) reaches B without
# anyone doing anything; B's log covers it; its receipts from A and from B
# both verify offline.  What B must not see of A (a record to another
# state, red) it never gets; C gets only what A lets C see.  Refused: a
# record whose receipt was tampered with (a fake origin serving pages), a
# record whose author is not homed at the origin it comes from.  A puller
# killed mid-pull and restarted resumes at its stored cursor: no record
# missed, none repeated (B's log holds each of A's records once).
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/node_lib.bash"
C=$COMITY_BIN
cd "$T"

nodes_init A B C

party_key pk.mofa pk.key; party_key in.mea in.key; party_key un.unoda un.key; party_key fr.anssi fr.key
T_PK=$(party_token A pk.mofa pk.key)
T_FR=$(party_token A fr.anssi fr.key)
T_IN=$(party_token B in.mea in.key)
T_UN=$(party_token C un.unoda un.key)
"$C" peer add "$T/A" "$U_B" --log-vkey "$VK_B" --party "$(kv in.key),$(kr in.key)" >/dev/null &&
  ok "peer add A -> B" || bad "peer add A -> B"
"$C" peer add "$T/B" "$U_A" --log-vkey "$VK_A" --party "$(kv pk.key),$(kr pk.key)" \
  --party "$(kv fr.key),$(kr fr.key)" >/dev/null && ok "peer add B -> A" || bad "peer add B -> A"
"$C" peer add "$T/A" "$U_C" --log-vkey "$VK_C" --party "$(kv un.key),$(kr un.key)" >/dev/null
"$C" peer add "$T/C" "$U_A" --log-vkey "$VK_A" --party "$(kv pk.key),$(kr pk.key)" >/dev/null
# refusals of peer add
rc=0; "$C" peer add "$T/A" "$U_B" --log-vkey "$VK_A" 2>/dev/null || rc=$?
check "peer add: this node itself refused" 2 "$rc"
rc=0; "$C" peer add "$T/A" "$U_C" --log-vkey "$VK_C" --party "$(kv pk.key),$(kr pk.key)" 2>pa.err || rc=$?
[ "$rc" -ne 0 ] && grep -q "registered on this node" pa.err && ok "peer add: a local party cannot be homed at a peer" || bad "local party homed elsewhere: rc $rc $(cat pa.err)"
rc=0; "$C" peer add "$T/A" ftp://x --log-vkey "$VK_B" 2>/dev/null || rc=$?
check "peer add: a bad URL refused" 2 "$rc"
grep -q "comity peer add DIR URL --log-vkey" <<<"$("$C" help peer)" && ok "comity help peer" || bad "help peer"

node_start A; node_start B; node_start C
"$C" key show in.key >keys.txt; "$C" key show pk.key >>keys.txt; "$C" key show un.key >>keys.txt

# ---- a record from A to in.mea (home B) reaches B --------------------------
post() { # post TOKEN FILE: prints the answer
  "$C" record post --url "$U_A" --token "$1" "$2"
}
echo '{"severity":3,"sector":"energy","summary":"scan from 203.0.113.7"}' |
  "$C" record sign --key pk.key --type notification --tlp amber --to in.mea --keys keys.txt >m1.json
echo '{"severity":2,"sector":"water","summary":"for un only"}' |
  "$C" record sign --key pk.key --type notification --tlp red --to un.unoda --keys keys.txt >m2.json
echo '{"severity":1,"sector":"communications","summary":"green for all"}' |
  "$C" record sign --key pk.key --type notification --tlp green --to un.unoda >m3.json
for f in m1 m2 m3; do post "$T_PK" $f.json >$f.post || bad "post $f"; done
ID1=$(jq -r .id m1.post); ID2=$(jq -r .id m2.post); ID3=$(jq -r .id m3.post)
got_on() { # got_on NODE TOKEN ID
  curl -s --noproxy '*' -o /dev/null -w '%{http_code}' -H "Authorization: Token $2" \
    "$(eval echo "\$U_$1")/v1/records/$3" | grep -q 200
}
until_ok 40 got_on B "$T_IN" "$ID1" && ok "amber record to in.mea reached B by itself" ||
  bad "m1 not on B: $("$C" peer list "$T/B" | jq -c '.[0] | {cursor, error}')"
until_ok 40 got_on B "$T_IN" "$ID3" && ok "green record reached B" || bad "m3 not on B"
until_ok 40 got_on C "$T_UN" "$ID2" && ok "red record to un.unoda reached C" ||
  bad "m2 not on C: $("$C" peer list "$T/C" | jq -c '.[0] | {cursor, error, last_try}')"
# what B may not see never came: B's log holds exactly m1 and m3 of A's
# (in.mea's fetches are deliveries: B signs a `delivered` record of each,
# docs/federation.md section 7, which A pulls and logs, as it does the one
# C signed of un.unoda's fetch of m2)
sleep 1.5
count_b() { curl -s --noproxy '*' -H "Authorization: Token $T_IN" "$U_B/v1/records?limit=1000" | jq '[.records[] | select(.type != "delivered")] | length'; }
delivered_b() { curl -s --noproxy '*' -H "Authorization: Token $T_IN" "$U_B/v1/records?type=delivered&limit=1000" | jq '.records | length'; }
check "B holds m1 and m3, not the red one to un" 2 "$(count_b)"
cursor_b() { "$C" peer list "$T/B" | jq -r '.[0].cursor'; }
# A's log: m1-m3, then the delivered records of m1 (from B) and m2 (from C)
cursor_is() { [ "$(cursor_b)" = "$1" ]; }
until_ok 30 cursor_is 5 &&
  ok "peer list: B's cursor past A's records and the two deliveries A logged" ||
  bad "peer list: B's cursor $(cursor_b), want 5"
"$C" peer list "$T/B" >pl.json
check "peer list: pulled" 2 "$(jq -r '.[0].pulled' pl.json)"
check "peer list: no error" "" "$(jq -r '.[0].error' pl.json)"
check "peer list: parties" "fr.anssi pk.mofa" "$(jq -r '.[0].parties | join(" ")' pl.json)"

# ---- receipts from A and from B both verify offline ----------------------
"$C" record receipt --url "$U_A" --token "$T_PK" "$ID1" --out r_a.proof >/dev/null 2>&1
rc=0; "$C" record receipt --url "$U_B" --token "$T_IN" "$ID1" --out r_b.proof >/dev/null 2>&1 || rc=$?
check "B gives its own receipt" 0 "$rc"
rc=0; "$C" record verify --vkey "$(kv pk.key)" --receipt r_a.proof --log-vkey "$VK_A" m1.json >/dev/null 2>&1 || rc=$?
check "receipt from A verifies offline" 0 "$rc"
rc=0; "$C" record verify --vkey "$(kv pk.key)" --receipt r_b.proof --log-vkey "$VK_B" m1.json >/dev/null 2>&1 || rc=$?
check "receipt from B verifies offline" 0 "$rc"
rc=0; "$C" record verify --vkey "$(kv pk.key)" --receipt r_b.proof --log-vkey "$VK_A" m1.json >/dev/null 2>&1 || rc=$?
check "B's receipt does not pass as A's" 1 "$rc"
in_body=$("$C" record get --url "$U_B" --token "$T_IN" "$ID1" | "$C" record open --key in.key | jq -r .summary)
check "in.mea opens the sealed body on B" "scan from 203.0.113.7" "$in_body"

# ---- the federation collection: only peers, only what they may see -------
fed() { curl -s --noproxy '*' -o fed.out -w '%{http_code}' "$@"; }
check "federation: anonymous 401" 401 "$(fed "$U_A/federation/")"
check "federation: a party 403" 403 "$(fed -H "Authorization: Token $T_PK" "$U_A/federation/")"

# ---- the wrong origin: a record of B's party posted at A is refused -------
echo '{"severity":1,"sector":"energy","summary":"wrong node"}' |
  "$C" record sign --key in.key --type notification --tlp green --to pk.mofa >w.json
rc=0; "$C" record post --url "$U_A" --token "$T_PK" w.json >/dev/null 2>w.err || rc=$?
check "a party of B cannot post at A" 1 "$rc"
grep -q "rule origin" w.err && ok "  ... rule origin, 403" || bad "wrong-node post: $(cat w.err)"

# ---- a man in the middle: a tampered receipt, a wrong origin ---------------
# D and E pin "A" at a relay's URL (fed_fake_origin.py) with A's true log
# key; A pins both (no parties: they see A's clear and green records).  The
# relay to D swaps a digit of a receipt's proof; the relay to E passes
# A's genuine pages, but E has pk.mofa homed at another peer (C), so every
# record of pk.mofa comes from the wrong origin.
P_FD=$(free_port); P_FE=$(free_port)
nodes_init D E
for n in D E; do
  "$C" peer add "$T/A" "$(eval echo "\$U_$n")" --log-vkey "$(eval echo "\$VK_$n")" >/dev/null
done
"$C" peer add "$T/D" "http://127.0.0.1:$P_FD" --log-vkey "$VK_A" --party "$(kv pk.key),$(kr pk.key)" >/dev/null
"$C" peer add "$T/E" "http://127.0.0.1:$P_FE" --log-vkey "$VK_A" >/dev/null
"$C" peer add "$T/E" "$U_C" --log-vkey "$VK_C" --party "$(kv pk.key),$(kr pk.key)" >/dev/null
python3 "$HERE/fed_fake_origin.py" "$P_FD" "$U_A" tamper 2>FD.log &
NODE_PIDS+=("$!")
python3 "$HERE/fed_fake_origin.py" "$P_FE" "$U_A" pass 2>FE.log &
NODE_PIDS+=("$!")
sleep 0.3
node_start D; node_start E
peer_err() { "$C" peer list "$T/$1" | jq -r --arg o comity.a.test '.[] | select(.origin == $o) | .error'; }
has_err() { peer_err "$1" | grep -q "$2"; }
until_ok 30 has_err D "receipt" && ok "a tampered receipt is refused: $(peer_err D | cut -c1-90)" ||
  bad "tamper not refused: $(peer_err D)"
until_ok 30 has_err E "origin" && ok "a record from the wrong origin is refused: $(peer_err E | cut -c1-90)" ||
  bad "wrong origin not refused: $(peer_err E)"
check "D took nothing from the tampered pages" 0 "$("$C" peer list "$T/D" | jq -r '.[0].pulled')"
check "D's log is empty" 0 "$(curl -s --noproxy '*' "http://127.0.0.1:$P_D/v1/node" | jq -r .checkpoint | sed -n 2p)"
node_stop D; node_stop E

# ---- restart mid-pull: no miss, no repeat ----------------------------------
# (NB records make one page of more than 64: its second half is checked by
# intake on the puller's helper thread, the halves committed in log order)
node_stop B
NB=70
for i in $(seq 1 $NB); do
  echo "{\"severity\":1,\"sector\":\"energy\",\"summary\":\"burst $i\"}" |
    "$C" record sign --key pk.key --type notification --tlp green --to in.mea >b$i.json
  post "$T_PK" b$i.json >/dev/null || bad "post burst $i"
done
node_start B
sleep 0.3
kill -KILL "$PID_B"; wait "$PID_B" 2>/dev/null || true   # mid-pull, perhaps mid-page
node_start B
until_ok 30 bash -c "[ \"\$(curl -s --noproxy '*' -H 'Authorization: Token $T_IN' '$U_B/v1/records?limit=1000' | jq '[.records[] | select(.type != \"delivered\")] | length')\" = $((NB + 2)) ]" &&
  ok "after a kill -9 mid-pull B holds all $((NB + 2)) of A's records it may see" || bad "B holds $(count_b), want $((NB + 2))"
# and the NB+1 deliveries to in.mea B signed (listing them delivers them),
# which A pulls: A's log ends at its NB+3, B's NB+1 and C's one
delivered_is() { [ "$(delivered_b)" = "$1" ]; }
until_ok 30 delivered_is $((NB + 1)) ||
  bad "B signed $(delivered_b) delivered records, want $((NB + 1))"
until_ok 30 cursor_is $((2 * NB + 5)) &&
  ok "B's cursor at A's log end ($((2 * NB + 5)))" || bad "B's cursor $(cursor_b), want $((2 * NB + 5))"
node_stop B
rc=0; "$C" log audit "$T/B/log" --vkey "$VK_B" >/dev/null 2>&1 || rc=$?
check "B's log audits" 0 "$rc"
# no repeat: B's log has exactly one entry per record it holds
size_b=$(sed -n 2p "$T/B/log/checkpoint")
check "B's log: one entry per record (no repeat)" $((2 * NB + 3)) "$size_b"
# in A's order: the notifications B holds, as B stored them, are A's in A's
node_start B
notes() { curl -s --noproxy '*' -H "Authorization: Token $2" "$1/v1/records?type=notification&limit=1000" | jq -r '.records[].id'; }
ids_b=$(notes "$U_B" "$T_IN")
ids_a=$(notes "$U_A" "$T_PK" | grep -Fx -f <(printf '%s\n' "$ids_b") || true)
check "B stored A's records in A's log order" "$ids_a" "$ids_b"
node_stop B
finish
