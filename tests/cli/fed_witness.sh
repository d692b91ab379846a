#!/usr/bin/env bash
# fed_witness.sh: nodes witness each other's logs (docs/federation.md,
# section 8).
#
# A (pk's) pins B (in's) and C (un's hub); both pin A.  Every node is a
# witness of its peers' logs: after A publishes a checkpoint it asks B's
# and C's witnesses to cosign, and its checkpoint and receipts carry both
# cosignatures.  B's witness policy wants 2 of {B, C}: a record posted on A
# reaches B, and A's receipt verifies offline under that policy.  C's
# policy wants a witness nobody runs: C takes nothing (its peer list says
# the quorum is missing) until its operator drops the policy.  A record
# claiming a `created` an hour after the witnesses saw it (A's node.conf
# lets it in) is refused by B (rule witnessed-time, its cursor stops
# there) and taken by C, which asks no witness.
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/node_lib.bash"
C=$COMITY_BIN
cd "$T"

nodes_init A B C
party_key pk.mofa pk.key; party_key in.mea in.key; party_key un.unoda un.key
T_PK=$(party_token A pk.mofa pk.key); T_IN=$(party_token B in.mea in.key); T_UN=$(party_token C un.unoda un.key)
"$C" peer add "$T/A" "$U_B" --log-vkey "$VK_B" --party "$(kv in.key),$(kr in.key)" >/dev/null
"$C" peer add "$T/A" "$U_C" --log-vkey "$VK_C" --party "$(kv un.key),$(kr un.key)" >/dev/null
"$C" peer add "$T/B" "$U_A" --log-vkey "$VK_A" --party "$(kv pk.key),$(kr pk.key)" >/dev/null
"$C" peer add "$T/C" "$U_A" --log-vkey "$VK_A" --party "$(kv pk.key),$(kr pk.key)" >/dev/null
# A accepts records created up to 2 h ahead of its clock (for the lie below)
printf 'created_ahead = 2h\n' >"$T/A/node.conf"

# B: both B's and C's witnesses; C: a witness that does not exist
printf 'witness b %s\nwitness c %s\ngroup both all b c\nquorum both\n' "$WK_B" "$WK_C" >b.policy
GHOST=$("$C" witness init --name ghost.w --key ghostw.key "$T/ghostw" 2>/dev/null | tail -1)
printf 'witness ghost %s\nquorum ghost\n' "$GHOST" >c.policy
"$C" peer witnesses "$T/B" b.policy >/dev/null && ok "peer witnesses: B's policy kept" || bad "B policy"
rc=0; "$C" peer witnesses "$T/C" c.policy >/dev/null 2>c.err || rc=$?
check "peer witnesses: C's policy kept ($GHOST)" 0 "$rc"
printf 'witness b %s\n' "$WK_B" >bad.policy
rc=0; "$C" peer witnesses "$T/B" bad.policy >/dev/null 2>bad.err || rc=$?
check "peer witnesses: a policy without quorum refused" 2 "$rc"
grep -q "quorum" bad.err && ok "  ... says why: $(head -c 80 bad.err)" || bad "  said $(cat bad.err)"
grep -q "comity peer witnesses DIR" <<<"$("$C" help peer)" && ok "comity help peer: witnesses" || bad "help"

node_start A; node_start B; node_start C
got_on() { # got_on NODE TOKEN ID
  curl -s --noproxy '*' -o /dev/null -w '%{http_code}' -H "Authorization: Token $2" \
    "$(eval echo "\$U_$1")/v1/records/$3" | grep -q 200
}
echo '{"severity":1,"sector":"energy","summary":"witnessed"}' |
  "$C" record sign --key pk.key --type notification --tlp green --to in.mea --to un.unoda >m1.json
"$C" record post --url "$U_A" --token "$T_PK" m1.json >m1.post || bad "post m1"
ID1=$(jq -r .id m1.post)

# ---- A's checkpoint carries both witnesses' cosignatures -----------------
cosigned() { curl -s --noproxy '*' "$U_A/v1/node" | jq -r .checkpoint >cp.txt;
  grep -q "^— comity.b.test " cp.txt && grep -q "^— comity.c.test " cp.txt &&
  [ "$(grep -c '^— ' cp.txt)" -ge 3 ]; }
until_ok 30 cosigned && ok "A's checkpoint cosigned by B's and C's witnesses" ||
  bad "A's checkpoint: $(cat cp.txt)"
until_ok 40 got_on B "$T_IN" "$ID1" && ok "record reached B under a 2-of-2 witness policy" ||
  bad "m1 not on B: $("$C" peer list "$T/B" | jq -c '.[0] | {cursor, error}')"
# the receipt from A verifies offline under B's witness policy
"$C" record receipt --url "$U_A" --token "$T_PK" "$ID1" --wait 10 --out r_a.proof >/dev/null 2>&1
for _ in $(seq 30); do grep -q "^— comity.c.test " r_a.proof && break; sleep 0.2
  "$C" record receipt --url "$U_A" --token "$T_PK" "$ID1" --out r_a.proof >/dev/null 2>&1; done
rc=0; "$C" record verify --vkey "$(kv pk.key)" --receipt r_a.proof --log-vkey "$VK_A" \
  --policy b.policy m1.json >v.out 2>&1 || rc=$?
check "A's receipt verifies offline with the witness quorum" 0 "$rc"
rc=0; "$C" record verify --vkey "$(kv pk.key)" --receipt r_a.proof --log-vkey "$VK_A" \
  --policy c.policy m1.json >/dev/null 2>&1 || rc=$?
check "  ... and not under a policy of another witness" 1 "$rc"

# ---- C's quorum is never met: nothing taken, the reason shown ------------
sleep 1
c_err() { "$C" peer list "$T/C" | jq -r '.[0].error'; }
until_ok 20 bash -c "'$C' peer list '$T/C' | jq -r '.[0].error' | grep -q quorum" &&
  ok "C waits for a quorum it never gets: $(c_err | cut -c1-80)" || bad "C: $(c_err)"
check "C took nothing" 0 "$("$C" peer list "$T/C" | jq -r '.[0].pulled')"
got_on C "$T_UN" "$ID1" && bad "C holds m1 without its quorum" || ok "C does not hold m1"
"$C" peer witnesses "$T/C" --none >/dev/null && ok "C's policy removed" || bad "C --none"
until_ok 30 got_on C "$T_UN" "$ID1" && ok "without a policy C takes the record" || bad "C: $(c_err)"

# ---- a record claiming a time after the witnesses saw it -------------------
LATER=$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%S.000Z)
echo '{"severity":1,"sector":"energy","summary":"from the future"}' |
  COMITY_FAKE_NOW=$LATER "$C" record sign --key pk.key --type notification --tlp green \
  --to in.mea --to un.unoda >m2.json
"$C" record post --url "$U_A" --token "$T_PK" m2.json >m2.post && ok "A takes a record created 1 h ahead (its node.conf)" || bad "post m2"
ID2=$(jq -r .id m2.post); IX2=$(jq -r .log_index m2.post)
b_err() { "$C" peer list "$T/B" | jq -r '.[0].error'; }
until_ok 30 bash -c "'$C' peer list '$T/B' | jq -r '.[0].error' | grep -q witnessed-time" &&
  ok "B refuses it: $(b_err | cut -c1-120)" || bad "B: $(b_err)"
check "B's cursor stops at that record" "$IX2" "$("$C" peer list "$T/B" | jq -r '.[0].cursor')"
got_on B "$T_IN" "$ID2" && bad "B holds the record from the future" || ok "B does not hold it"
until_ok 30 got_on C "$T_UN" "$ID2" && ok "C, with no witness policy, takes it" || bad "C: $(c_err)"

# ---- the witnesses' state: durable, and each follows A --------------------
wsize() { "$C" witness size "$T/$1/witness" comity.a.test 2>/dev/null; }
[ "$(wsize B)" -ge 2 ] && ok "B's witness cosigned A up to $(wsize B)" || bad "B witness size: $(wsize B)"
[ "$(wsize C)" -ge 2 ] && ok "C's witness cosigned A up to $(wsize C)" || bad "C witness size: $(wsize C)"
for n in A B C; do
  rc=0; "$C" log audit "$T/$n/log" --vkey "$(eval echo "\$VK_$n")" >/dev/null 2>&1 || rc=$?
  check "$n's log audits" 0 "$rc"
done
finish
