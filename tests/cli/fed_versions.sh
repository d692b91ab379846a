#!/usr/bin/env bash
# fed_versions.sh: two nodes of different releases (docs/federation.md,
# section 6, "Versions").  B is started with COMITY_FORGET_TYPES=notification,
# as a release that predates notifications would run: A's notifications
# (one green, one amber sealed to in.mea) reach B, which stores, logs and
# serves them (its timeline, /v1/records, TAXII, a receipt; the sealed one
# to its recipient only), refuses none of them (its cursor passes them, no
# error), and gives them no effect on its framework (no status).  At B, the
# origin of in.mea, a notification is refused (rule type), as is version 2
# of a type at A.  B restarted without the knob (the upgrade) projects what
# it stored: the framework's answers on the notifications are A's, byte for
# byte, and both logs audit.  On the old code B refused A's notifications
# (rule type): its cursor stopped at the first one.
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/node_lib.bash"
C=$COMITY_BIN
cd "$T"

nodes_init A B
party_key pk.mofa pk.key; party_key in.mea in.key; party_key in.cert cert.key
T_PK=$(party_token A pk.mofa pk.key); T_IN=$(party_token B in.mea in.key)
T_CERT=$(party_token B in.cert cert.key)
PA="$(kv pk.key),$(kr pk.key)"; PB="$(kv in.key),$(kr in.key)"; PB2="$(kv cert.key),$(kr cert.key)"
"$C" peer add "$T/A" "$U_B" --log-vkey "$VK_B" --party "$PB" --party "$PB2" >/dev/null
"$C" peer add "$T/B" "$U_A" --log-vkey "$VK_A" --party "$PA" >/dev/null
for n in A B; do printf 'url = %s\ntoken = %s\n' "$(eval echo "\$U_$n")" "$(optok $n.init)" >op-$n.conf; done
printf '%s in.mea\n' "$(cat in.key.pub)" >keys.txt

# a bad value of the knob stops the node, saying why
rc=0; COMITY_FORGET_TYPES='Notification' timeout 20 "$C" serve "$T/B" --listen "127.0.0.1:$P_B" \
  --insecure-http >bad.out 2>bad.err || rc=$?
[ "$rc" = 2 ] && grep -q "COMITY_FORGET_TYPES: 'Notification' is not a lowercase record type name$" bad.err &&
  ok "a bad COMITY_FORGET_TYPES stops the node, saying why (and nothing else)" ||
  bad "bad knob: rc $rc, $(tail -2 bad.err)"

node_start A
export COMITY_FORGET_TYPES=notification
node_start B
unset COMITY_FORGET_TYPES
grep -q "forgets these record types" "$T/B.err" && ok "B says it forgets notifications" ||
  bad "B's log: $(tail -3 "$T/B.err")"

echo '{"severity":3,"sector":"energy","summary":"scanning from 203.0.113.7"}' |
  "$C" record sign --key pk.key --type notification --tlp green --to in.mea >n1.json
echo '{"severity":4,"sector":"health","summary":"ransomware at a hospital"}' |
  "$C" record sign --key pk.key --type notification --tlp amber --to in.mea --keys keys.txt >n2.json
"$C" record post --url "$U_A" --token "$T_PK" n1.json >n1.post || bad "post n1 on A"
"$C" record post --url "$U_A" --token "$T_PK" n2.json >n2.post || bad "post n2 on A"
N1=$(jq -r .id n1.post); N2=$(jq -r .id n2.post)

# the origin refuses a version of a type it does not know
echo '{"severity":3,"sector":"energy","summary":"v2"}' |
  "$C" record sign --key pk.key --type notification --schema 2 --tlp green --to in.mea >v2.json
jq -e '.payload' v2.json >/dev/null && base64 -d <<<"$(jq -r .payload v2.json)" | jq -e '.schema == 2' >/dev/null &&
  ok "record sign --schema 2 writes schema 2" || bad "v2 payload: $(base64 -d <<<"$(jq -r .payload v2.json)")"
rc=0; "$C" record post --url "$U_A" --token "$T_PK" v2.json >v2.out 2>v2.err || rc=$?
[ "$rc" = 1 ] && grep -q '"rule":"type"' v2.err && grep -q "version 2" v2.err &&
  ok "A refuses version 2 of notification (rule type)" || bad "A on v2: rc $rc $(cat v2.err)"

seen() { "$C" timeline --json --config "op-$1.conf" 2>/dev/null | jq -e --arg id "$2" 'any(.[]; .id == $id)' >/dev/null; }
got() { "$C" record list --url "$U_B" --token "$T_IN" --type notification 2>/dev/null |
  jq -e --arg id "$1" 'any(.records[]; .id == $id)' >/dev/null; }
until_ok 40 got "$N2" && ok "both notifications reached B" ||
  bad "B never got them: $("$C" peer list "$T/B" | jq -c '.[] | {origin, cursor, error}')"
check "B's cursor on A passed both" 2 "$("$C" peer list "$T/B" | jq -r '.[0].cursor')"
check "no pull error on B" "" "$("$C" peer list "$T/B" | jq -r '.[0].error // ""')"
seen B "$N1" && ok "B serves n1 on /v1/records (its timeline)" || bad "n1 not listed on B"
"$C" record list --url "$U_B" --token "$T_IN" --type notification >list.json 2>&1 || bad "record list on B"
check "in.mea lists both on B (comity record list)" 2 "$(jq '[.records[] | select(.type == "notification")] | length' list.json)"
"$C" record get --url "$U_B" --token "$T_IN" "$N2" --out n2.got || bad "in.mea: get n2 on B"
check "in.mea gets n2's very record on B (its digest)" "$("$C" record digest n2.json)" "$("$C" record digest n2.got)"
"$C" record open --key in.key n2.got 2>/dev/null | grep -q ransomware &&
  ok "in.mea opens the sealed n2 from B" || bad "in.mea cannot open n2"
rc=0; "$C" record get --url "$U_B" --token "$T_CERT" "$N2" >cert.out 2>cert.err || rc=$?
[ "$rc" = 1 ] && ok "in.cert (not a recipient) is refused n2 on B: sealed stays sealed" ||
  bad "in.cert read n2: rc $rc"
"$C" record receipt --url "$U_B" --token "$T_IN" "$N1" --wait 20 --out n1.rcpt >/dev/null 2>&1 ||
  bad "no receipt of n1 on B"
"$C" record verify --vkey "$(kv pk.key)" --receipt n1.rcpt --log-vkey "$VK_B" n1.json >/dev/null 2>&1 &&
  ok "B's receipt of n1 verifies offline under B's log key" || bad "B's receipt of n1"
TAXII='application/taxii+json;version=2.1'
found=0
for c in $(curl -s --noproxy '*' -H "Accept: $TAXII" -H "Authorization: Token $T_IN" "$U_B/comity/collections/" | jq -r '.collections[].id'); do
  curl -s --noproxy '*' -H "Accept: $TAXII" -H "Authorization: Token $T_IN" "$U_B/comity/collections/$c/objects/" >coll.json
  grep -q "${N1#notification--}" coll.json && found=1
done
check "n1 is in in.mea's TAXII collections on B" 1 "$found"

# no effect on B's framework, at B and through it
st() { curl -s --noproxy '*' -o "$T/st.$1" -w '%{http_code}' -H "Authorization: Token $(optok $1.init)" \
  "$(eval echo "\$U_$1")/v1/framework/messages/$2"; }
check "A's framework knows n1" 200 "$(st A "$N1")"
check "B's framework does not know n1" 404 "$(st B "$N1")"
check "nor n2" 404 "$(st B "$N2")"
echo '{"severity":2,"sector":"energy","summary":"from B"}' |
  "$C" record sign --key in.key --type notification --tlp green --to pk.mofa >nb.json
rc=0; "$C" record post --url "$U_B" --token "$T_IN" nb.json >nb.out 2>nb.err || rc=$?
[ "$rc" = 1 ] && grep -q '"rule":"type"' nb.err && ok "B, the origin of in.mea, refuses a notification (rule type)" ||
  bad "B took a notification it forgot: rc $rc $(cat nb.err)"

# the upgrade: B restarted without the knob projects what it stored
node_stop B
node_start B
status() { "$C" timeline --json --config "op-$1.conf" |
  jq -c --arg a "$N1" --arg b "$N2" '[.[] | select(.id == $a or .id == $b) | {id, what, status: (.status | del(.now))}]'; }
check "after the upgrade, B's framework knows n1" 200 "$(st B "$N1")"
check "B's timeline shows both as A's does, byte for byte" "$(status A)" "$(status B)"
jq -e 'length == 1 and .[0].status.state == "sent"' <<<"$(status B)" >/dev/null &&
  ok "  ... n1 sent (the operator's timeline lists no amber record): $(status B | cut -c1-60)" ||
  bad "  B: $(status B)"
for id in "$N1" "$N2"; do
  st A "$id" >/dev/null; st B "$id" >/dev/null
  check "GET /v1/framework/messages/${id:0:20}... on B is A's (but now)" \
    "$(jq -cS 'del(.now)' "$T/st.A")" "$(jq -cS 'del(.now)' "$T/st.B")"
done
node_stop A; node_stop B
for n in A B; do
  rc=0; "$C" log audit "$T/$n/log" --vkey "$(eval echo "\$VK_$n")" >audit.$n 2>&1 || rc=$?
  check "$n's log audits" 0 "$rc"
done
finish
