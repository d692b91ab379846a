#!/usr/bin/env bash
# fed_witness_time.sh: the lower bound on `created` (docs/federation.md,
# section 6): a record claiming a time long before the witnesses first
# cosigned a checkpoint covering it is refused by a puller with a witness
# policy.
#
# A (pk's) pins B and C; B pins A; C pins A through a relay
# (fed_fake_origin.py, mode "old") that answers 404 to GET
# /federation/cosigned/ as an origin of an older release would.  A's
# checkpoints are cosigned by B's and C's witnesses; B and C both want B's
# witness.  A lets in records created up to 4 h behind its clock
# (node.conf).  A record created now reaches B; one backdated by 3 hours
# is refused by B (rule witnessed-time, its cursor stops there: the
# witnesses first saw it hours after its `created`) and taken by C, whose
# origin serves no cosigned checkpoints (nothing refused on this rule).
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/node_lib.bash"
C=$COMITY_BIN
cd "$T"

nodes_init A B C
P_FC=$(free_port)
party_key pk.mofa pk.key; party_key in.mea in.key; party_key un.unoda un.key
T_PK=$(party_token A pk.mofa pk.key); T_IN=$(party_token B in.mea in.key); T_UN=$(party_token C un.unoda un.key)
"$C" peer add "$T/A" "$U_B" --log-vkey "$VK_B" --party "$(kv in.key),$(kr in.key)" >/dev/null
"$C" peer add "$T/A" "$U_C" --log-vkey "$VK_C" --party "$(kv un.key),$(kr un.key)" >/dev/null
"$C" peer add "$T/B" "$U_A" --log-vkey "$VK_A" --party "$(kv pk.key),$(kr pk.key)" >/dev/null
"$C" peer add "$T/C" "http://127.0.0.1:$P_FC" --log-vkey "$VK_A" --party "$(kv pk.key),$(kr pk.key)" >/dev/null
printf 'created_behind = 4h\n' >"$T/A/node.conf"
printf 'witness b %s\nquorum b\n' "$WK_B" >b.policy
"$C" peer witnesses "$T/B" b.policy >/dev/null && ok "B's witness policy kept" || bad "B policy"
"$C" peer witnesses "$T/C" b.policy >/dev/null && ok "C's witness policy kept" || bad "C policy"
python3 "$HERE/fed_fake_origin.py" "$P_FC" "$U_A" old 2>FC.log &
NODE_PIDS+=("$!")
node_start A; node_start B; node_start C
got_on() { # got_on NODE TOKEN ID
  curl -s --noproxy '*' -o /dev/null -w '%{http_code}' -H "Authorization: Token $2" \
    "$(eval echo "\$U_$1")/v1/records/$3" | grep -q 200
}
perr() { "$C" peer list "$T/$1" | jq -r '.[0].error'; }

# ---- an honest record passes ----------------------------------------------
echo '{"severity":1,"sector":"energy","summary":"now"}' |
  "$C" record sign --key pk.key --type notification --tlp green --to in.mea --to un.unoda >m1.json
"$C" record post --url "$U_A" --token "$T_PK" m1.json >m1.post || bad "post m1"
ID1=$(jq -r .id m1.post)
until_ok 40 got_on B "$T_IN" "$ID1" && ok "a record created now reaches B" || bad "m1 not on B: $(perr B)"
until_ok 40 got_on C "$T_UN" "$ID1" && ok "  ... and C" || bad "m1 not on C: $(perr C)"

# ---- the origin serves its cosigned checkpoints to a peer, not to anyone ---
code=$(curl -s --noproxy '*' -o anon.json -w '%{http_code}' "$U_A/federation/cosigned/?from=0&to=0&size=1")
check "GET /federation/cosigned/ without a peer's login" 401 "$code"

# ---- a record backdated by 3 hours ------------------------------------------
EARLIER=$(date -u -d '-3 hours' +%Y-%m-%dT%H:%M:%S.000Z)
echo '{"severity":1,"sector":"energy","summary":"from the past"}' |
  COMITY_FAKE_NOW=$EARLIER "$C" record sign --key pk.key --type notification --tlp green \
  --to in.mea --to un.unoda >m2.json
"$C" record post --url "$U_A" --token "$T_PK" m2.json >m2.post &&
  ok "A takes a record created 3 h ago (its node.conf)" || bad "post m2"
ID2=$(jq -r .id m2.post); IX2=$(jq -r .log_index m2.post)
until_ok 30 bash -c "'$C' peer list '$T/B' | jq -r '.[0].error' | grep -q witnessed-time" &&
  ok "B refuses it: $(perr B | cut -c1-160)" || bad "B: $(perr B)"
perr B | grep -q "before the witnesses' quorum first cosigned" &&
  ok "  ... the lower bound, not the upper" || bad "  ... B said $(perr B)"
check "B's cursor stops at that record" "$IX2" "$("$C" peer list "$T/B" | jq -r '.[0].cursor')"
got_on B "$T_IN" "$ID2" && bad "B holds the backdated record" || ok "B does not hold it"
# C's origin (the relay) answers 404 for the cosigned checkpoints: no bound
until_ok 30 got_on C "$T_UN" "$ID2" && ok "C, whose origin serves no cosigned checkpoints, takes it" ||
  bad "C: $(perr C)"
grep -q 'cosigned.* 404' FC.log && ok "  ... C asked, and got 404" || bad "  ... relay log: $(tail -3 FC.log)"
finish
