#!/usr/bin/env bash
# node_hostile.sh: what one registered party can do to others through a
# node (the hardening issue): delete or shadow another party's TAXII
# objects, replace the TAXII copy of a signed record with a forgery, learn
# whether something it may not read exists, see red pings, page through
# huge records; and what removing a party takes away.  Each check is the
# attack as a party would send it and the answer the node must give.
source "$(dirname "$0")/node_lib.bash"
C=$COMITY_BIN
D="$T/node"
cd "$T"
init_node "$D" hostile.example/node
reg() { # reg NAME KEYFILE: registers, prints the token
  "$C" keygen --party "$1" --out "$2" >/dev/null 2>&1
  "$C" party add "$D" "$1" --vkey "$("$C" key show "$2" | cut -d' ' -f1)" \
    --recipient "$("$C" key show "$2" | cut -d' ' -f2)" | sed -n 's/^token (shown once): //p'
}
TA=$(reg pk.mofa a.key)
TB=$(reg in.cert b.key)
TC=$(reg fr.anssi c.key)
serve "$D" --insecure-http 2>/dev/null
OP=(-u "operator:$OPTOKEN")
A=(-H "Accept: $TAXII")
P=(-H "Content-Type: $TAXII")
coll() { req GET /comity/collections/ "${A[@]}" "${OP[@]}" >/dev/null; jq -r ".collections[] | select(.alias==\"$1\") | .id" "$T/body"; }
COM=$(coll community); INBOX=$(coll inbox.pk.mofa)
ind() { # ind ID MODIFIED NAME: an indicator
  printf '{"type":"indicator","spec_version":"2.1","id":"%s","created":"2026-01-01T00:00:00.000Z","modified":"%s","name":"%s","pattern":"[ipv4-addr:value = '"'"'203.0.113.7'"'"']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z"}' "$1" "$2" "$3"
}
env1() { printf '{"objects":[%s]}' "$1"; }
post() { # post COLL TOKEN JSON: prints the status code, body in $T/body
  req POST "/comity/collections/$1/objects/" "${A[@]}" "${P[@]}" -H "Authorization: Token $2" --data-binary "$3"
}

# ---- point 2: owners ---------------------------------------------------------
X=indicator--6ba7b810-9dad-41d1-80b4-00c04fd430c8
check "pk.mofa posts an indicator to community" 202 "$(post "$COM" "$TA" "$(env1 "$(ind $X 2026-01-01T00:00:00.000Z genuine)")")"
check "  added" 1 "$(jbody .success_count)"
check "in.cert cannot delete pk.mofa's object" 403 "$(req DELETE "/comity/collections/$COM/objects/$X/" "${A[@]}" -H "Authorization: Token $TB")"
check "  a TAXII error" 403 "$(jbody .http_status)"
check "  the object is still there" 200 "$(req GET "/comity/collections/$COM/objects/$X/" "${A[@]}" -H "Authorization: Token $TB")"
check "in.cert cannot shadow it with a later version" 422 "$(post "$COM" "$TB" "$(env1 "$(ind $X 2027-01-01T00:00:00.000Z forged)")")"
jbody '.details.failures[0].message' | grep -q "another party" && ok "  saying why" || bad "  reason: $(jbody '.details.failures[0].message')"
check "  clients still read pk.mofa's version" genuine "$(req GET "/comity/collections/$COM/objects/$X/" "${A[@]}" -H "Authorization: Token $TB" >/dev/null; jbody '.objects[0].name')"
post "$COM" "$TA" "$(env1 "$(ind $X 2026-06-01T00:00:00.000Z update)")" >/dev/null
check "pk.mofa posts a new version of its own object" 1 "$(jbody .success_count)"
check "pk.mofa deletes its own object" 200 "$(req DELETE "/comity/collections/$COM/objects/$X/?match%5Bversion%5D=all" "${A[@]}" -H "Authorization: Token $TA")"
check "  gone" 404 "$(req GET "/comity/collections/$COM/objects/$X/" "${A[@]}" -H "Authorization: Token $TA")"
check "after the delete, the id is still not in.cert's" 422 "$(post "$COM" "$TB" "$(env1 "$(ind $X 2028-01-01T00:00:00.000Z takeover)")")"
Y=indicator--7ba7b810-9dad-41d1-80b4-00c04fd430c8
post "$COM" "$TB" "$(env1 "$(ind $Y 2026-01-01T00:00:00.000Z by-in)")" >/dev/null
check "the operator deletes a party's object" 200 "$(req DELETE "/comity/collections/$COM/objects/$Y/" "${A[@]}" "${OP[@]}")"
grep -q "operator operator deletes $Y (posted by in.cert)" "$T/serve.err" && ok "  and the node logs it" || bad "  operator delete not logged"

# records: the node's own wrappers
echo '{"severity":2,"sector":"energy","summary":"scan"}' | "$C" record sign --key a.key --type notification --to in.cert --tlp green >g.json
GID=$(jq -r .payload g.json | base64 -d | jq -r .id)
"$C" record post --url "$URL" --token "$TA" g.json >/dev/null
W="x-comity-record--${GID#*--}"
EXT=extension-definition--2c1a0082-a8cc-4202-b69c-83158d21721a
check "the record's wrapper is in community" 200 "$(req GET "/comity/collections/$COM/objects/$W/" "${A[@]}" -H "Authorization: Token $TB")"
check "its author cannot delete it through TAXII" 403 "$(req DELETE "/comity/collections/$COM/objects/$W/" "${A[@]}" -H "Authorization: Token $TA")"
check "another party cannot" 403 "$(req DELETE "/comity/collections/$COM/objects/$W/" "${A[@]}" -H "Authorization: Token $TB")"
check "nor the operator" 403 "$(req DELETE "/comity/collections/$COM/objects/$W/" "${A[@]}" "${OP[@]}")"
check "nor the extension definition" 403 "$(req DELETE "/comity/collections/$COM/objects/$EXT/" "${A[@]}" "${OP[@]}")"
forged=$(printf '{"type":"x-comity-record","spec_version":"2.1","id":"%s","created":"2099-01-01T00:00:00.000Z","modified":"2099-01-01T00:00:00.000Z","record_id":"%s","author":"pk.mofa","tlp":"green","dsse_envelope":{}}' "$W" "$GID")
check "a forged wrapper with the record's id is refused" 422 "$(post "$COM" "$TB" "$(env1 "$forged")")"
jbody '.details.failures[0].message' | grep -q "node's own" && ok "  saying why" || bad "  reason: $(jbody '.details.failures[0].message')"
forged2=${forged//$W/x-comity-record--11111111-2222-4333-8444-555555555555}
check "a wrapper with a fresh id is refused" 422 "$(post "$COM" "$TB" "$(env1 "$forged2")")"
extdef=$(printf '{"type":"extension-definition","spec_version":"2.1","id":"%s","created":"2026-11-23T00:00:00.000Z","modified":"2099-01-01T00:00:00.000Z","created_by_ref":"identity--9d102db0-e403-4779-96f4-440fbd8250a8","name":"x","schema":"x","version":"1","extension_types":["new-sdo"]}' "$EXT")
check "a later extension definition is refused" 422 "$(post "$COM" "$TB" "$(env1 "$extdef")")"
check "TAXII clients read the genuine wrapper" "$(jq -r .payload g.json)" "$(req GET "/comity/collections/$COM/objects/$W/" "${A[@]}" -H "Authorization: Token $TB" >/dev/null; jbody '.objects[0].dsse_envelope.payload')"

# ---- point 10: a page of /v1/records has a byte cap ---------------------------
big() { python3 -c "import json,sys; print(json.dumps({'text': sys.argv[1] * 950000}))" "$1"; }
BIGS=""
for k in 1 2 3 4 5; do
  big "$k" | "$C" record sign --key c.key --type note --tlp clear >big$k.json
  "$C" record post --url "$URL" --token "$TC" big$k.json >/dev/null
  BIGS="$BIGS $(jq -r .payload big$k.json | base64 -d | jq -r .id)"
done
req GET "/v1/records?author=fr.anssi&limit=1000" >/dev/null
size=$(stat -c %s "$T/body")
[ "$size" -le $((4 * 1048576 + 65536)) ] && ok "a page of large records stays within 4 MiB ($size bytes)" || bad "page of $size bytes"
check "  says there is more" true "$(jbody .more)"
seen="$(jq -r '.records[].id' "$T/body")"; pages=1
while [ "$(jbody .more)" = true ] && [ $pages -lt 10 ]; do
  req GET "/v1/records?author=fr.anssi&limit=1000&cursor=$(jbody .next)" >/dev/null
  seen="$seen $(jq -r '.records[].id' "$T/body")"; pages=$((pages + 1))
done
srt() { printf '%s\n' "$@" | sort | tr '\n' ' '; }
check "  next continues: every record once" "$(srt $BIGS)" "$(srt $seen)"
[ $pages -ge 2 ] && ok "  over $pages pages" || bad "one page only"

# ---- point 8: no existence oracle for what a party may not read ---------------
for k in a b c; do "$C" key show $k.key; done >keys
echo '{"severity":3,"sector":"energy","summary":"confidential"}' |
  "$C" record sign --key a.key --type notification --to in.cert --tlp red --keys keys >n.json
NID=$(jq -r .payload n.json | base64 -d | jq -r .id)
"$C" record post --url "$URL" --token "$TA" n.json >/dev/null
GHOST=notification--00000000-0000-4000-8000-00000000dead
answer() { # answer REF: fr.anssi acks REF; prints "status body" with REF replaced
  echo '{}' | "$C" record sign --key c.key --type ack --ref "$1" --to pk.mofa --tlp green >ack.json
  local st; st=$(req POST /v1/records -H "Authorization: Token $TC" --data-binary @ack.json)
  echo "$st $(sed "s/$1/REF/g" "$T/body")"
}
seen=$(answer "$NID"); none=$(answer "$GHOST")
check "an ack of a red message it may not see answers as for no message" "$none" "$seen"
# a write-only inbox: pk.mofa's inbox takes in.cert's objects, which fr.anssi cannot read
Z=indicator--8ba7b810-9dad-41d1-80b4-00c04fd430c8
Q=indicator--9ba7b810-9dad-41d1-80b4-00c04fd430c8
post "$INBOX" "$TB" "$(env1 "$(ind $Z 2026-01-01T00:00:00.000Z in-cert)")" >/dev/null
drop() { # drop ID: fr.anssi posts ID to the inbox; prints "status body" without its own ids and time
  local st; st=$(post "$INBOX" "$TC" "$(env1 "$(ind "$1" 2026-01-01T00:00:00.000Z probe)")")
  echo "$st $(jq -c 'del(.id, .request_timestamp) | .successes[]?.id = "ID" | .failures[]?.id = "ID"' "$T/body")"
}
check "posting an id that is in a write-only inbox answers as for a new one" "$(drop $Q)" "$(drop $Z)"

# ---- point 7: red pings are seen only by who may see them ----------------------
echo '{"kind":"technical","announced":true}' |
  "$C" record sign --key a.key --type ping --to in.cert --tlp red --keys keys >p.json
"$C" record post --url "$URL" --token "$TA" p.json >/dev/null
prow() { req GET /v1/framework/pings "$@" >/dev/null; jq -r '[.rows[]?.party] | join(",")' "$T/body"; }
check "the pinging party sees its red ping" in.cert "$(prow -H "Authorization: Token $TA")"
check "the pinged party sees it" in.cert "$(prow -H "Authorization: Token $TB")"
check "a third party does not" "" "$(prow -H "Authorization: Token $TC")"
check "nor an anonymous client" "" "$(prow)"
check "nor stats by party" 0 "$(req GET "/v1/framework/pings?party=in.cert" -H "Authorization: Token $TC" >/dev/null; jbody .count)"
check "stats by party for the pinged" 1 "$(req GET "/v1/framework/pings?party=in.cert" -H "Authorization: Token $TB" >/dev/null; jbody .count)"

# ---- point 13: removing a party ---------------------------------------------
echo '{"severity":1,"sector":"energy","summary":"before removal"}' |
  "$C" record sign --key b.key --type notification --to pk.mofa --tlp green >rb.json
RBID=$(jq -r .payload rb.json | base64 -d | jq -r .id)
"$C" record post --url "$URL" --token "$TB" rb.json >/dev/null
"$C" party remove "$D" in.cert >rm.out && ok "party remove in.cert (while the node serves)" || bad "party remove: $(cat rm.out)"
check "its token no longer works" 401 "$(req GET /comity/collections/ "${A[@]}" -H "Authorization: Token $TB")"
echo '{"severity":1,"sector":"energy","summary":"after removal"}' |
  "$C" record sign --key b.key --type notification --to pk.mofa --tlp green >ra.json
check "it posts no new record" 401 "$(req POST /v1/records -H "Authorization: Token $TB" --data-binary @ra.json)"
check "its record stays" 200 "$(req GET "/v1/records/$RBID" -H "Authorization: Token $TA")"
"$C" record verify --vkey "$("$C" key show b.key | cut -d' ' -f1)" "$T/body" >/dev/null 2>&1 &&
  ok "  and still verifies under its key" || bad "removed party's record does not verify"
check "  and is still listed" "$RBID" "$(req GET "/v1/records?author=in.cert" -H "Authorization: Token $TA" >/dev/null; jq -r '.records[].id' "$T/body")"
rc=0; "$C" party remove "$D" operator >/dev/null 2>&1 || rc=$?
check "the operator's account is not a party to remove" 2 "$rc"
rc=0; "$C" party remove "$D" xx.nobody >/dev/null 2>&1 || rc=$?
[ "$rc" -ne 0 ] && ok "an unknown party is refused" || bad "removing an unknown party succeeded"
"$C" party token "$D" in.cert >tok.out
check "party token readmits it" 200 "$(req GET /comity/collections/ "${A[@]}" -H "Authorization: Token $(sed -n 's/^token (shown once): //p' tok.out)")"
finish
