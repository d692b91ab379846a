#!/usr/bin/env bash
# correlate_cli.sh: `comity correlate` against a real node (docs/correlation.md):
# three states' notifications with shared infrastructure written in
# different spellings (a domain and its subdomain, an address and its /24),
# found by the node's index; a sealed notification the node cannot read,
# correlated by its recipient's client (`local`); what a non-party and an
# anonymous caller get from the correlation endpoints (nothing of what they
# may not see); a blinded round between two states whose overlap is exact
# and which a third state cannot read; node.conf's exclusion list; a plain
# STIX object posted through TAXII, correlated for the parties that may
# read its collection and for no one else; blinded rounds kept across a
# restart of the node.
source "$(dirname "$0")/node_lib.bash"
C=$COMITY_BIN
D="$T/node"
cd "$T"
init_node "$D" hub.example/node
printf 'correlation_exclude = domain:resolver.example\ncorrelation_common = 3\n' >"$D/node.conf"
PARTIES="pk.cert in.cert fr.cert de.cert br.cert"
for p in $PARTIES; do
  "$C" keygen --party "$p" --out "$p.key" >/dev/null 2>&1
  "$C" key show "$p.key" >>peers.keys
done
serve "$D" --insecure-http
mkdir -p conf
for p in $PARTIES; do
  tok=$("$C" party add "$D" "$p" --vkey "$("$C" key show "$p.key" | cut -d' ' -f1)" \
    --recipient "$("$C" key show "$p.key" | cut -d' ' -f2)" | sed -n 's/^token (shown once): //p')
  cp "$p.key" conf/
  printf 'url = %s\ntoken = %s\nkey = %s.key\nkeys = ../peers.keys\n' "$URL" "$tok" "$p" >"conf/$p.conf"
done
run() { # run PARTY ARGS...: comity ARGS with that party's config; out/err in files
  local p=$1; shift
  rc=0; "$C" "$@" --config "conf/$p.conf" >out 2>err || rc=$?
}
bundle() { # bundle FILE PATTERN...: a STIX bundle of one indicator per pattern
  local f=$1; shift
  python3 - "$@" >"$f" <<'PY'
import json, sys, uuid
objs = [{"type": "indicator", "spec_version": "2.1", "id": "indicator--%s" % uuid.uuid4(),
         "created": "2026-12-01T08:00:00.000Z", "modified": "2026-12-01T08:00:00.000Z",
         "pattern": p, "pattern_type": "stix", "valid_from": "2026-12-01T08:00:00Z"} for p in sys.argv[1:]]
print(json.dumps({"type": "bundle", "id": "bundle--%s" % uuid.uuid4(), "objects": objs}))
PY
}
notify() { # notify PARTY TO TLP BUNDLE: prints the record id
  run "$1" notify --to "$2" --tlp "$3" --severity 4 --sector energy --summary 'grid attack' --indicators "$4"
  [ "$rc" = 0 ] || { bad "notify by $1: $(cat err)"; return; }
  cut -d' ' -f1 out
}

rc=0; "$C" help correlate >out 2>&1 || rc=$?
check "comity help correlate" 0 "$rc"
grep -q 'comity correlate blind ROUND' out && ok "help shows the usage" || bad "help: $(head -2 out)"

bundle a.json "[domain-name:value = 'c2.evil.example'] OR [ipv4-addr:value = '203.0.113.7']" \
  "[domain-name:value = 'resolver.example']" "[domain-name:value = 'cdn.example']"
bundle b.json "[domain-name:value = 'WWW.C2.Evil.Example.']" "[ipv4-addr:value = '203.0.113.0/24']" \
  "[domain-name:value = 'resolver.example']" "[domain-name:value = 'cdn.example']"
bundle c.json "[file:hashes.'SHA-256' = 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA']" \
  "[domain-name:value = 'c2.evil.example']" "[domain-name:value = 'cdn.example']"
bundle e.json "[domain-name:value = 'nothing-shared.example']" "[domain-name:value = 'cdn.example']"
bundle s.json "[file:hashes.'SHA-256' = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa']"
N1=$(notify pk.cert in.cert green a.json)
N2=$(notify in.cert fr.cert green b.json)
N3=$(notify fr.cert pk.cert clear c.json)
N5=$(notify br.cert pk.cert green e.json)
N4=$(notify in.cert pk.cert amber s.json)   # sealed to pk.cert: the node cannot read it

# ---- the node's index: what it can read ----------------------------------------------
run de.cert correlate holder "$N1"
check "a state's analyst asks what N1 shares: exit 0" 0 "$rc"; [ "$rc" = 0 ] || cat err out
check "... N2 through its subdomain of c2.evil.example and its /24" "$N2" \
  "$(jq -r '[.shared[] | select(.value=="c2.evil.example") | .holders[].id] | map(select(. == "'"$N2"'")) | .[0]' out)"
check "... the /24 holds 203.0.113.7" "203.0.113.0/24" \
  "$(jq -r '.shared[] | select(.value=="203.0.113.7") | .holders[0].value' out)"
check "... N3 (another state, another spelling)" "fr" \
  "$(jq -r '.shared[] | select(.value=="c2.evil.example") | .holders[] | select(.id=="'"$N3"'") | .state' out)"
check "... nothing invented: two other holders in all" 2 \
  "$(jq '[.shared[].holders[].id] | unique | length' out)"
grep -q resolver.example out && bad "the excluded resolver was reported" || ok "the excluded value is never reported"
check "cdn.example (4 holders, cap 3) is common, not shared" "cdn.example" \
  "$(jq -r '.common[0].value' out)"
grep -q "$N4" out && bad "the sealed notification appears" || ok "the sealed notification is not in the node's answers"

# ---- who may see what -------------------------------------------------------------------
st=$(req GET "/v1/framework/correlation?holder=$N1")
check "anonymous: a green holder is unknown (404)" 404 "$st"
st=$(req GET "/v1/framework/correlation?holder=$N3")
check "anonymous: the clear holder answers" 200 "$st"
grep -q "$N1\|$N2" "$T/body" && bad "anonymous learned of green holders: $(cat "$T/body")" || ok "... naming no green holder"
st=$(req POST "/v1/framework/correlation/lookup" -H 'Content-Type: application/json' \
  -d '{"values":[{"type":"domain-name","value":"c2.evil.example"}]}')
check "anonymous lookup: 401 (a body without credentials, unread)" 401 "$st"
grep -q "$N3\|$N1" "$T/body" && bad "the anonymous lookup answered: $(cat "$T/body")" || ok "... answering no holder"
st=$(req GET "/v1/framework/correlation?holder=$N4" -H "Authorization: Token $OPTOKEN")
check "the sealed record, asked by the operator: unknown (404)" 404 "$st"
st=$(req GET "/v1/framework/correlation?holder=notification--00000000-0000-4000-8000-000000000000" -H "Authorization: Token $OPTOKEN")
check "... the same as an id that does not exist" 404 "$st"
st=$(req GET "/v1/framework/correlation?holder=$N1&x=1")
check "an unknown parameter: 400" 400 "$st"
st=$(req POST "/v1/framework/correlation/lookup" -H "Authorization: Token $OPTOKEN" -d '{"values":[{"type":"bogus","value":"x"}]}')
check "a lookup of an unknown kind: 400" 400 "$st"
grep -q 'lookup.values\[0\]' "$T/body" && ok "... naming the value" || bad "said: $(cat "$T/body")"

run de.cert correlate lookup domain:deep.www.c2.evil.example ip:203.0.113.9 sha256:nothex
check "lookup by value: exit 0" 0 "$rc"
check "... finds the parents and the range" "$(printf '%s\n' "$N1" "$N2" "$N3" | sort | tr '\n' ' ')" \
  "$(jq -r '[.shared[].holders[].id] | unique | .[]' out | sort | tr '\n' ' ')"
check "... and names the value it refused" sha256 "$(jq -r '.invalid[0].type' out | sed 's/file:hashes.//; s/.SHA-256./sha256/')"

# ---- sealed content, correlated where it is opened ------------------------------------------
run pk.cert correlate local "$N4" "$N3"
check "the recipient correlates the sealed notification locally: exit 0" 0 "$rc"
check "... it shares the hash with N3 (spelled in capitals there)" "$N3" \
  "$(jq -r '.[0].local.shared[0].holders[0].id' out)"
check "... and the node's index knows N3 holds it too" "$N3" \
  "$(jq -r '.[0].node.shared[0].holders[0].id' out)"
run in.cert correlate local --sealed
# (the sealed records of delivery its node signed of its fetches aside)
check "its author takes every sealed record it may see (--sealed)" "$N4" "$(jq -r '.[].id | select(startswith("delivered--") | not)' out | tr '\n' ' ' | sed 's/ $//')"
check "... and learns N3 holds the hash" "$N3" "$(jq -r '.[0].node.shared[0].holders[0].id' out)"
run de.cert correlate local --sealed
check "a third state has no sealed record to take: exit 2" 2 "$rc"
run de.cert correlate local "$N4"
[ "$rc" != 0 ] && ok "a non-party cannot correlate the sealed record (exit $rc)" || bad "de.cert: $(cat out)"

# ---- blinded correlation ---------------------------------------------------------------------
run pk.cert correlate blind-key --to pk.cert --to in.cert --out round.key.age
check "a round key sealed to the two participants" 0 "$rc"; [ "$rc" = 0 ] || cat err out
printf 'domain:c2.evil.example\nip:203.0.113.7\ndomain:only-pk.example\nsha256:%s\n' \
  "$(printf 'b%.0s' $(seq 64))" >pk.txt
printf 'domain:C2.EVIL.EXAMPLE.\nip:198.51.100.1\nsha256:%s\ndomain:only-in.example\n' \
  "$(printf 'B%.0s' $(seq 64))" >in.txt
run pk.cert correlate blind apt-q3 --secret round.key.age --participants pk.cert,in.cert pk.txt
check "pk submits its keyed hashes" 0 "$rc"
run in.cert correlate blind apt-q3 --secret round.key.age in.txt
check "in submits its keyed hashes" 0 "$rc"
check "in learns exactly the two shared values, as it wrote them" \
  "domain:C2.EVIL.EXAMPLE. sha256:$(printf 'B%.0s' $(seq 64)) " \
  "$(jq -r '.overlaps[0].values[]' out | sort | tr '\n' ' ')"
run pk.cert correlate blind apt-q3 --secret round.key.age pk.txt
check "pk learns the same two, as it wrote them" \
  "domain:c2.evil.example sha256:$(printf 'b%.0s' $(seq 64)) " \
  "$(jq -r '.overlaps[0].values[]' out | sort | tr '\n' ' ')"
run de.cert correlate blind apt-q3 --secret round.key.age pk.txt
[ "$rc" != 0 ] && ok "a third state cannot open the round key (exit $rc)" || bad "de.cert opened it"
tok=$(sed -n 's/^token = //p' conf/de.cert.conf)
st=$(req GET "/v1/framework/correlation/blind/apt-q3" -H "Authorization: Token $tok")
check "... nor read the round (404, as for no round)" 404 "$st"
st=$(req GET "/v1/framework/correlation/blind/apt-q3")
check "anonymous: refused" 403 "$st"
st=$(req GET "/v1/framework/correlation/blind/apt-q3" -H "Authorization: Token $OPTOKEN")
check "the operator: refused (rounds are between parties)" 403 "$st"
grep -q 'c2.evil' "$T/body" && bad "leak" || true
# ---- plain TAXII objects: indexed under their collection's read rule -----------------------
tokof() { sed -n 's/^token = //p' "conf/$1.conf"; }
TX=(-H "Accept: application/taxii+json;version=2.1")
st=$(req GET /comity/collections/ "${TX[@]}" -H "Authorization: Token $OPTOKEN")
SPK=$(jq -r '.collections[] | select(.alias=="state.pk") | .id' "$T/body")
[ -n "$SPK" ] && ok "the node has pk's state collection" || bad "no state.pk collection: $(cat "$T/body")"
OBJ=indicator--5d0c8a8e-3e9c-4f0e-9d55-7f4b7c2a9e01
OBJS=$(jq -nc --arg id "$OBJ" '{objects:[{type:"indicator",spec_version:"2.1",id:$id,
  created:"2026-12-01T08:00:00.000Z",modified:"2026-12-01T08:00:00.000Z",pattern_type:"stix",
  valid_from:"2026-12-01T08:00:00Z",
  pattern:"[domain-name:value = '"'"'taxii-c2.example'"'"'] OR [ipv4-addr:value = '"'"'192.0.2.77'"'"']"}]}')
st=$(req POST "/comity/collections/$SPK/objects/" "${TX[@]}" -H "Content-Type: application/taxii+json;version=2.1" \
  -H "Authorization: Token $(tokof pk.cert)" --data "$OBJS")
check "pk.cert posts an indicator to state.pk over TAXII" 202 "$st"
run pk.cert correlate lookup domain:www.taxii-c2.example ip:192.0.2.0/24
check "a party of pk, which may read state.pk, finds the object's values" "$OBJ $OBJ" \
  "$(jq -r '[.shared[].holders[] | select(.id=="'"$OBJ"'") | .id] | join(" ")' out)"
check "... with its kind and its owner" "indicator pk.cert pk" \
  "$(jq -r '[.shared[].holders[] | select(.id=="'"$OBJ"'")][0] | "\(.kind) \(.author) \(.state)"' out)"
run in.cert correlate lookup domain:www.taxii-c2.example ip:192.0.2.0/24
check "in.cert, which may not read state.pk, finds nothing" 0 "$(jq '[.shared[].holders[]] | length' out)"
st=$(req GET "/v1/framework/correlation?holder=$OBJ")
check "anonymous asking about it: unknown (404)" 404 "$st"
st=$(req GET "/v1/framework/correlation?holder=$OBJ" -H "Authorization: Token $(tokof in.cert)")
check "in.cert asking about the object: unknown (404)" 404 "$st"
st=$(req GET "/v1/framework/correlation?holder=$OBJ" -H "Authorization: Token $(tokof pk.cert)")
check "pk.cert asking about it: 200" 200 "$st"
st=$(req GET "/v1/framework/correlation?holder=$OBJ" -H "Authorization: Token $OPTOKEN")
check "the operator, who reads every collection: 200" 200 "$st"

# ---- blinded rounds survive a restart of the node ---------------------------------------------
run pk.cert correlate blind apt-r --secret round.key.age --participants pk.cert,in.cert pk.txt
check "pk opens round apt-r and submits before the restart" 0 "$rc"
stop_node && ok "the node stops cleanly" || bad "the node did not stop cleanly"
serve "$D" --insecure-http
for p in $PARTIES; do sed -i "s|^url = .*|url = $URL|" "conf/$p.conf"; done
st=$(req GET "/v1/framework/correlation/blind/apt-q3" -H "Authorization: Token $(tokof pk.cert)")
check "after the restart round apt-q3 is still there, both sets submitted" "200 2 2" \
  "$st $(jq '.submitted | length' "$T/body") $(jq '.overlaps[0].count' "$T/body")"
run in.cert correlate blind apt-r --secret round.key.age in.txt
check "in submits to apt-r after the restart" 0 "$rc"; [ "$rc" = 0 ] || cat err
check "... and meets pk's set submitted before it" \
  "domain:C2.EVIL.EXAMPLE. sha256:$(printf 'B%.0s' $(seq 64)) " \
  "$(jq -r '.overlaps[0].values[]' out | sort | tr '\n' ' ')"
st=$(req GET "/v1/framework/correlation/blind/apt-r" -H "Authorization: Token $(tokof de.cert)")
check "a third state still cannot read it (404)" 404 "$st"
finish
