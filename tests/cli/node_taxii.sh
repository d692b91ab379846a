#!/usr/bin/env bash
# node_taxii.sh: every TAXII 2.1 endpoint of a real node over HTTP, with
# its errors, the access rules of each sharing level, and the client
# behaviour of the OASIS reference client (taxii2-client 2.3.0): its Accept
# header, status polling without the trailing slash, paging by `next` and
# by added_after.  What the node serves is validated against the OASIS
# STIX 2.1 JSON Schemas with Debian's python3-jsonschema.
source "$(dirname "$0")/node_lib.bash"

D="$T/node"
init_node "$D" test.comity.example
grep -q '^TLS certificate SHA-256 fingerprint: [0-9A-F:]\{95\}$' "$T/init.out" &&
  ok "init prints the certificate fingerprint" || bad "init fingerprint"
[ -n "$OPTOKEN" ] && ok "init prints an operator token" || bad "no operator token"
rc=0; "$COMITY_BIN" init "$D" --origin x >/dev/null 2>&1 || rc=$?
check "init refuses a non-empty directory" 2 "$rc"
if sqlite3 "$D/node.db" "select token_hash from principals" | grep -q "$OPTOKEN"; then
  bad "token stored in clear"; else ok "token stored only as a hash"; fi

MOFA=$(add_party "$D" pk.mofa)
PKCERT=$(add_party "$D" pk.pkcert)
INCERT=$(add_party "$D" in.cert)
"$COMITY_BIN" keygen --party fr.anssi --out "$T/fr.key" >/dev/null 2>&1
read -r fvkey frecip < <("$COMITY_BIN" key show "$T/fr.key")
"$COMITY_BIN" party add "$D" fr.anssi --vkey "$fvkey" --recipient "$frecip" >/dev/null &&
  ok "party add with a key made by comity keygen" || bad "party add with a keygen key"
rc=0; "$COMITY_BIN" party add "$D" pk.mofa --vkey "$(vkey_for pk.mofa)" --recipient "$(recipient_new)" >/dev/null 2>&1 || rc=$?
check "party add refuses a taken name" 2 "$rc"
rc=0; "$COMITY_BIN" party add "$D" PK --vkey "$(vkey_for PK)" --recipient "$(recipient_new)" >/dev/null 2>&1 || rc=$?
check "party add refuses a bad name" 2 "$rc"
rc=0; "$COMITY_BIN" party add "$D" fr --vkey "$(vkey_for de)" --recipient "$(recipient_new)" >/dev/null 2>&1 || rc=$?
check "party add refuses a vkey named for another party" 2 "$rc"

serve "$D" --insecure-http --max-body 4000000
OP=(-u "operator:$OPTOKEN")
A=(-H "Accept: $TAXII" -H "User-Agent: taxii2-client/2.3.0")
P=(-H "Content-Type: $TAXII")

# --- discovery, api root, media types --------------------------------------
check "discovery" 200 "$(req GET /taxii2/ "${A[@]}")"
check "discovery content type" "$TAXII" "$(hdr Content-Type)"
check "discovery title" "comity node test.comity.example" "$(jbody .title)"
ROOT=$(jbody '.api_roots[0]')
check "api root listed" /comity/ "$ROOT"
check "no Accept is fine" 200 "$(req GET /taxii2/)"
check "Accept application/json" 406 "$(req GET /taxii2/ -H 'Accept: application/json')"
check "406 is a TAXII error" "406" "$(jbody .http_status)"
check "406 error content type" "$TAXII" "$(hdr Content-Type)"
check "Accept TAXII 2.0" 406 "$(req GET /taxii2/ -H 'Accept: application/taxii+json;version=2.0')"
check "Accept with spaces and charset" 200 "$(req GET /taxii2/ -H 'Accept: application/taxii+json; version=2.1; charset=utf-8')"
check "Accept deprecated alias, 2.1" 200 "$(req GET /taxii2/ -H 'Accept: application/vnd.oasis.taxii+json; version=2.1')"
check "Accept deprecated alias, 2.0" 406 "$(req GET /taxii2/ -H 'Accept: application/vnd.oasis.taxii+json; version=2.0')"
check "Accept with q=0 only" 406 "$(req GET /taxii2/ -H 'Accept: application/taxii+json;q=0')"
check "Accept list" 200 "$(req GET /comity/ -H 'Accept: text/html, application/taxii+json')"
check "api root" 200 "$(req GET /comity/ "${A[@]}")"
check "api root versions" "$TAXII" "$(jbody '.versions[0]')"
check "api root max_content_length" 4000000 "$(jbody .max_content_length)"
check "HEAD discovery" 200 "$(req HEAD /taxii2/ "${A[@]}" -I)"
check "HEAD has the TAXII content type" "$TAXII" "$(hdr Content-Type)"
check "PUT discovery" 405 "$(req PUT /taxii2/ "${A[@]}")"
check "405 Allow" "GET" "$(hdr Allow)"
check "unknown TAXII path" 404 "$(req GET /comity/nothing/ "${A[@]}")"
check "unknown TAXII path error" "404" "$(jbody .http_status)"
check "non-TAXII path" 404 "$(req GET /nothing)"
check "non-TAXII error body" "not found" "$(jbody .error)"
check "node pointer" 200 "$(req GET /)"
check "node info" 200 "$(req GET /v1/node)"
check "node info: origin and key" "test.comity.example $(sed -n 's/^node key (signs its log): //p' "$T/init.out")" "$(jbody '"\(.origin) \(.vkey)"')"
check "node info: JSON media type" application/json "$(hdr Content-Type)"
check "node info: log checkpoint (origin, size 0)" "test.comity.example 0" "$(jbody '.checkpoint' | head -2 | tr '\n' ' ' | sed 's/ $//')"
[ -f "$D/log/checkpoint" ] && [ -f "$D/node.key" ] && [ "$(stat -c %a "$D/node.key")" = 600 ] &&
  ok "init made the log and a 0600 node key" || bad "log or node key missing"
check "POST node info" 405 "$(req POST /v1/node)"
check "unknown v1 path" 404 "$(req GET /v1/no-such-endpoint)"

# --- collections and sharing levels ------------------------------------------
ids_of() { jq -r '[.collections[]?.alias] | join(",")' "$T/body"; }
req GET /comity/collections/ "${A[@]}" >/dev/null
check "anonymous sees public only" "public" "$(ids_of)"
req GET /comity/collections/ "${A[@]}" "${OP[@]}" >/dev/null
check "operator sees all" "public,community,inbox.pk.mofa,state.pk,inbox.pk.pkcert,inbox.in.cert,state.in,inbox.fr.anssi,state.fr" "$(ids_of)"
req GET /comity/collections/ "${A[@]}" -u "pk.mofa:$MOFA" >/dev/null
check "pk.mofa's collections" "public,community,inbox.pk.mofa,state.pk,inbox.pk.pkcert,inbox.in.cert,inbox.fr.anssi" "$(ids_of)"
check "pk.mofa can read its inbox" "true" "$(jq -r '.collections[] | select(.alias=="inbox.pk.mofa") | .can_read' "$T/body")"
check "pk.mofa cannot read another inbox" "false" "$(jq -r '.collections[] | select(.alias=="inbox.pk.pkcert") | .can_read' "$T/body")"
check "Token header works" 200 "$(req GET /comity/collections/ "${A[@]}" -H "Authorization: Token $INCERT")"
check "in.cert sees no state.pk" "" "$(jq -r '.collections[] | select(.alias=="state.pk") | .id' "$T/body")"
coll() { req GET /comity/collections/ "${A[@]}" "${OP[@]}" >/dev/null; jq -r ".collections[] | select(.alias==\"$1\") | .id" "$T/body"; }
PUB=$(coll public); COM=$(coll community); INBOX=$(coll inbox.pk.mofa); STATE=$(coll state.pk)
check "collection" 200 "$(req GET "/comity/collections/$PUB/" "${A[@]}")"
check "collection id" "$PUB" "$(jbody .id)"
check "collection media type" "application/stix+json;version=2.1" "$(jbody '.media_types[0]')"
check "wrong password" 401 "$(req GET /comity/collections/ "${A[@]}" -u "pk.mofa:$INCERT")"
check "401 WWW-Authenticate" 'Basic realm="comity", charset="UTF-8"' "$(hdr WWW-Authenticate)"
check "bad token" 401 "$(req GET /taxii2/ "${A[@]}" -H 'Authorization: Token nope')"
check "unknown scheme" 401 "$(req GET /taxii2/ "${A[@]}" -H 'Authorization: Digest x')"
check "garbled Basic" 401 "$(req GET /taxii2/ "${A[@]}" -H 'Authorization: Basic ***')"
check "anonymous on community objects" 401 "$(req GET "/comity/collections/$COM/objects/" "${A[@]}")"
check "party on community objects" 200 "$(req GET "/comity/collections/$COM/objects/" "${A[@]}" -u "in.cert:$INCERT")"
check "empty envelope" "{}" "$(cat "$T/body")"
check "in.cert reads pk.mofa's inbox" 403 "$(req GET "/comity/collections/$INBOX/objects/" "${A[@]}" -u "in.cert:$INCERT")"
check "in.cert on state.pk" 404 "$(req GET "/comity/collections/$STATE/objects/" "${A[@]}" -u "in.cert:$INCERT")"
check "pk.pkcert on state.pk" 200 "$(req GET "/comity/collections/$STATE/manifest/" "${A[@]}" -u "pk.pkcert:$PKCERT")"
check "party writes public" 403 "$(req POST "/comity/collections/$PUB/objects/" "${A[@]}" "${P[@]}" -u "pk.mofa:$MOFA" --data '{"objects":[]}')"
check "no such collection" 404 "$(req GET /comity/collections/00000000-0000-4000-8000-000000000000/ "${A[@]}" "${OP[@]}")"

# --- add objects: checks per object, status ------------------------------------
IND='{"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","pattern":"[domain-name:value = '\''evil.example'\'']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"}'
IND2=$(echo "$IND" | jq -c '.modified="2024-02-01T00:00:00.000Z" | .name="v2"')
BODY=$(jq -nc --argjson a "$IND" --argjson b "$IND2" '{objects:[$a,$b,
  {type:"indicator",spec_version:"2.1",id:"indicator--bad",created:"2024-01-01T00:00:00Z",modified:"2024-01-01T00:00:00Z"},
  {type:"malware",spec_version:"2.0",id:"malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b",created:"2024-01-01T00:00:00Z",modified:"2024-01-01T00:00:00Z",is_family:true},
  {type:"malware",spec_version:"2.1",id:"malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b",created:"2024-01-01T00:00:00Z",modified:"2023-01-01T00:00:00Z",is_family:true},
  {type:"indicator",spec_version:"2.1",id:"indicator--0b8b6a4c-0bc7-4ad8-b2a5-3c8d6a0a4d16",created:"2024-01-01T00:00:00Z",modified:"2024-01-01T00:00:00Z"},
  {type:"domain-name",id:"domain-name--3c10e93f-798e-5a26-a0c1-08156efab7f5",value:"evil.example"},
  $a]}')
check "POST objects" 202 "$(req POST "/comity/collections/$COM/objects/" "${A[@]}" "${P[@]}" -u "pk.mofa:$MOFA" --data "$BODY")"
check "status content type" "$TAXII" "$(hdr Content-Type)"
check "status complete" complete "$(jbody .status)"
check "status counts" "8 4 4 0" "$(jbody '"\(.total_count) \(.success_count) \(.failure_count) \(.pending_count)"')"
check "counts match lists" "4 4 0" "$(jbody '"\(.successes|length) \(.failures|length) \(.pendings|length)"')"
check "bad id refused with reason" "indicator: 'id' is not <type>--<lowercase UUID>" "$(jbody '.failures[] | select(.id=="indicator--bad") | .message')"
check "spec_version 2.0 refused" "malware: 'spec_version' must be \"2.1\"" "$(jbody '.failures[0:2][] | select(.id|startswith("malware")) | .message')"
check "modified before created refused" "malware: 'modified' is before 'created'" "$(jbody '.failures[2].message')"
check "missing pattern refused" "indicator: missing required 'pattern'" "$(jbody '.failures[3].message')"
check "duplicate is no error" "already present" "$(jbody '.successes[3].message')"
SID=$(jbody .id)
check "status poll, no trailing slash (taxii2-client)" 200 "$(req GET "/comity/status/$SID" "${A[@]}" -u "pk.mofa:$MOFA")"
check "status poll id" "$SID" "$(jbody .id)"
check "status poll with slash" 200 "$(req GET "/comity/status/$SID/" "${A[@]}" -u "pk.mofa:$MOFA")"
check "status of another party" 404 "$(req GET "/comity/status/$SID/" "${A[@]}" -u "in.cert:$INCERT")"
check "status seen by operator" 200 "$(req GET "/comity/status/$SID/" "${A[@]}" "${OP[@]}")"
check "unknown status" 404 "$(req GET /comity/status/5b3c1a1e-0000-4000-8000-000000000000/ "${A[@]}" "${OP[@]}")"

check "POST wrong content type" 415 "$(req POST "/comity/collections/$COM/objects/" "${A[@]}" -u "pk.mofa:$MOFA" -H 'Content-Type: application/json' --data '{"objects":[]}')"
check "415 is a TAXII error" 415 "$(jbody .http_status)"
check "POST STIX content type" 415 "$(req POST "/comity/collections/$COM/objects/" "${A[@]}" -u "pk.mofa:$MOFA" -H 'Content-Type: application/stix+json;version=2.1' --data '{"objects":[]}')"
check "POST malformed JSON" 400 "$(req POST "/comity/collections/$COM/objects/" "${A[@]}" "${P[@]}" -u "pk.mofa:$MOFA" --data '{"objects":[')"
check "malformed JSON says where" "malformed JSON" "$(jbody .title)"
check "POST duplicate keys" 400 "$(req POST "/comity/collections/$COM/objects/" "${A[@]}" "${P[@]}" -u "pk.mofa:$MOFA" --data '{"objects":[],"objects":[]}')"
deep=$(printf '%.0s[' $(seq 5000))
check "POST deeply nested JSON" 400 "$(req POST "/comity/collections/$COM/objects/" "${A[@]}" "${P[@]}" -u "pk.mofa:$MOFA" --data "{\"objects\":$deep")"
check "POST invalid UTF-8" 400 "$(req POST "/comity/collections/$COM/objects/" "${A[@]}" "${P[@]}" -u "pk.mofa:$MOFA" --data-binary $'{"objects":[{"type":"\xff\xfe"}]}')"
check "POST not an envelope" 400 "$(req POST "/comity/collections/$COM/objects/" "${A[@]}" "${P[@]}" -u "pk.mofa:$MOFA" --data '[1,2]')"
head -c 4100000 /dev/zero | tr '\0' ' ' >"$T/big"
check "POST too large" 413 "$(req POST "/comity/collections/$COM/objects/" "${A[@]}" "${P[@]}" -u "pk.mofa:$MOFA" --data-binary @"$T/big")"
check "413 is a TAXII error" 413 "$(jbody .http_status)"
check "POST too large, chunked" 413 "$(req POST "/comity/collections/$COM/objects/" "${A[@]}" "${P[@]}" -u "pk.mofa:$MOFA" -H 'Transfer-Encoding: chunked' --data-binary @"$T/big")"
check "POST only unprocessable objects" 422 "$(req POST "/comity/collections/$COM/objects/" "${A[@]}" "${P[@]}" -u "pk.mofa:$MOFA" --data '{"objects":[{"type":"malware","id":"malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b","created":"2024-01-01T00:00:00Z","modified":"2024-01-01T00:00:00Z","is_family":true}]}')"
check "422 is a TAXII error with reasons" "422 malware: missing required 'spec_version'" "$(jbody '"\(.http_status) \(.details.failures[0].message)"')"
check "empty envelope is fine" 202 "$(req POST "/comity/collections/$COM/objects/" "${A[@]}" "${P[@]}" -u "pk.mofa:$MOFA" --data '{"objects":[]}')"
check "POST on manifest" 405 "$(req POST "/comity/collections/$COM/manifest/" "${A[@]}" "${P[@]}" -u "pk.mofa:$MOFA" --data '{}')"

# --- objects, filters, versions, object by id ------------------------------------
OBJ=/comity/collections/$COM/objects
check "GET objects" 200 "$(req GET "$OBJ/" "${A[@]}" -u "pk.mofa:$MOFA")"
check "latest versions only" 2 "$(jbody '.objects|length')"
[ -n "$(hdr X-TAXII-Date-Added-First)" ] && [ -n "$(hdr X-TAXII-Date-Added-Last)" ] &&
  ok "X-TAXII-Date-Added headers" || bad "X-TAXII-Date-Added headers missing"
hdr X-TAXII-Date-Added-First | grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z$' &&
  ok "date_added has microseconds" || bad "date_added format: $(hdr X-TAXII-Date-Added-First)"
check "indicator is v2" v2 "$(jbody '.objects[] | select(.type=="indicator") | .name')"
req GET "$OBJ/?match%5Bversion%5D=all" "${A[@]}" -u "pk.mofa:$MOFA" >/dev/null
check "match[version]=all" 3 "$(jbody '.objects|length')"
req GET "$OBJ/?match[version]=first&match[type]=indicator" "${A[@]}" -u "pk.mofa:$MOFA" >/dev/null
check "match[version]=first & type" "2024-01-01T00:00:00.000Z" "$(jbody '.objects[0].modified')"
req GET "$OBJ/?match[version]=2024-02-01T00:00:00Z" "${A[@]}" -u "pk.mofa:$MOFA" >/dev/null
check "match[version]=timestamp" v2 "$(jbody '.objects[0].name')"
req GET "$OBJ/?match[type]=domain-name,malware" "${A[@]}" -u "pk.mofa:$MOFA" >/dev/null
check "match[type] list (OR)" "domain-name" "$(jbody '[.objects[].type]|join(",")')"
req GET "$OBJ/?match[id]=domain-name--3c10e93f-798e-5a26-a0c1-08156efab7f5&match[type]=indicator" "${A[@]}" -u "pk.mofa:$MOFA" >/dev/null
check "match fields are ANDed" "{}" "$(cat "$T/body")"
req GET "$OBJ/?match[spec_version]=2.0" "${A[@]}" -u "pk.mofa:$MOFA" >/dev/null
check "match[spec_version]=2.0" "{}" "$(cat "$T/body")"
req GET "$OBJ/?match[spec_version]=2.1" "${A[@]}" -u "pk.mofa:$MOFA" >/dev/null
check "match[spec_version]=2.1" 2 "$(jbody '.objects|length')"
for bp in 'limit=0' 'limit=x' 'limit=-1' 'added_after=yesterday' 'next=zz' 'match[id]=nope' \
          'match[type]=A' 'match[version]=all,last' 'match[version]=soon' 'limit=1&limit=2' 'match[foo]=1'; do
  check "bad parameter $bp" 400 "$(req GET "$OBJ/?$bp" "${A[@]}" -u "pk.mofa:$MOFA")"
done
check "400 is a TAXII error" 400 "$(jbody .http_status)"
IID=indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f
check "object by id" 200 "$(req GET "$OBJ/$IID/" "${A[@]}" -u "pk.mofa:$MOFA")"
check "object by id: last version" v2 "$(jbody '.objects[0].name')"
[ -n "$(hdr X-TAXII-Date-Added-Last)" ] && ok "object by id has date headers" || bad "object by id date headers"
check "object by id, all versions" 2 "$(req GET "$OBJ/$IID/?match[version]=all" "${A[@]}" -u "pk.mofa:$MOFA" >/dev/null; jbody '.objects|length')"
check "object by id refuses match[type]" 400 "$(req GET "$OBJ/$IID/?match[type]=indicator" "${A[@]}" -u "pk.mofa:$MOFA")"
check "versions" 200 "$(req GET "$OBJ/$IID/versions/" "${A[@]}" -u "pk.mofa:$MOFA")"
check "versions list" "2024-01-01T00:00:00.000Z,2024-02-01T00:00:00.000Z" "$(jbody '.versions|join(",")')"
check "versions date headers" 1 "$([ -n "$(hdr X-TAXII-Date-Added-First)" ] && echo 1)"
check "unknown object" 404 "$(req GET "$OBJ/indicator--00000000-0000-4000-8000-000000000000/" "${A[@]}" -u "pk.mofa:$MOFA")"
check "not an object id" 404 "$(req GET "$OBJ/nope/" "${A[@]}" -u "pk.mofa:$MOFA")"
check "manifest" 200 "$(req GET "/comity/collections/$COM/manifest/" "${A[@]}" -u "pk.mofa:$MOFA")"
check "manifest record" "id date_added version media_type" "$(jbody '.objects[0] | keys_unsorted | join(" ")')"
check "manifest version of SCO is date_added" 1 "$(jbody '[.objects[] | select(.id|startswith("domain-name")) | select(.version==.date_added)] | length')"
[ -n "$(hdr X-TAXII-Date-Added-First)" ] && ok "manifest has date headers" || bad "manifest date headers"

# --- delete ---------------------------------------------------------------------------
DEL=$OBJ/$IID/
check "DELETE anonymous" 401 "$(req DELETE "$DEL" "${A[@]}")"
check "DELETE version" 200 "$(req DELETE "$DEL?match[version]=first" "${A[@]}" -u "pk.mofa:$MOFA")"
check "other version remains" "2024-02-01T00:00:00.000Z" "$(req GET "$OBJ/$IID/versions/" "${A[@]}" -u "pk.mofa:$MOFA" >/dev/null; jbody '.versions|join(",")')"
check "DELETE all" 200 "$(req DELETE "$DEL" "${A[@]}" -u "pk.mofa:$MOFA")"
check "GET after DELETE" 404 "$(req GET "$DEL" "${A[@]}" -u "pk.mofa:$MOFA")"
req GET "/comity/collections/$COM/manifest/" "${A[@]}" -u "pk.mofa:$MOFA" >/dev/null
check "manifest after DELETE" 0 "$(jbody "[.objects[]? | select(.id==\"$IID\")] | length")"
check "DELETE again" 404 "$(req DELETE "$DEL" "${A[@]}" -u "pk.mofa:$MOFA")"
req POST "/comity/collections/$INBOX/objects/" "${A[@]}" "${P[@]}" -u "in.cert:$INCERT" --data "{\"objects\":[$IND]}" >/dev/null
check "in.cert drops into pk.mofa's inbox" 1 "$(jbody .success_count)"
check "in.cert cannot DELETE there (write only)" 403 "$(req DELETE "/comity/collections/$INBOX/objects/$IID/" "${A[@]}" -u "in.cert:$INCERT")"
check "pk.mofa reads its inbox" 1 "$(req GET "/comity/collections/$INBOX/objects/" "${A[@]}" -u "pk.mofa:$MOFA" >/dev/null; jbody '.objects|length')"

# --- the party directory from the command line --------------------------------
"$COMITY_BIN" party list "$D" >"$T/list"
check "party list (sorted)" "fr.anssi in.cert operator pk.mofa pk.pkcert" "$(jq -r '[.[].name] | join(" ")' "$T/list")"
grep -q token "$T/list" && bad "party list shows tokens" || ok "party list shows no tokens"
NEW=$("$COMITY_BIN" party token "$D" in.cert | sed -n 's/^token (shown once): //p')
check "old token refused after rotation" 401 "$(req GET /comity/collections/ "${A[@]}" -u "in.cert:$INCERT")"
check "new token accepted" 200 "$(req GET /comity/collections/ "${A[@]}" -u "in.cert:$NEW")"
rc=0; "$COMITY_BIN" party token "$D" nobody >/dev/null 2>&1 || rc=$?
check "token for an unknown party" 2 "$rc"

# --- paging: Amnesty Pegasus bundle (3,099 objects, one date_added) ---------------------
jq -c '{objects: .objects}' "$COMITY_SHARED/data/ioc/amnesty/pegasus.stix2" >"$T/peg.json"
check "POST Pegasus bundle" 202 "$(req POST "/comity/collections/$PUB/objects/" "${A[@]}" "${P[@]}" "${OP[@]}" --data-binary @"$T/peg.json")"
check "Pegasus: every object accepted" 0 "$(jbody .failure_count)"
jq -r '.objects[].id' "$T/peg.json" | sort -u >"$T/want"
# page by next, like taxii2-client's as_pages()
: >"$T/got"; next=""; pages=0
while :; do
  q="?limit=100${next:+&next=$next}"
  code=$(req GET "/comity/collections/$PUB/objects/$q" "${A[@]}")
  [ "$code" = 200 ] || { bad "page $pages: $code"; break; }
  jbody '.objects[].id' >>"$T/got"
  cp "$T/body" "$T/page.$pages"
  pages=$((pages + 1))
  [ "$(jbody .more)" = true ] || break
  next=$(jbody .next)
done
check "paging by next: pages" $(( ($(wc -l <"$T/want") + 99) / 100 )) "$pages"
check "paging by next: nothing repeated" "$(wc -l <"$T/got")" "$(sort -u "$T/got" | wc -l)"
check "paging by next: nothing skipped" "" "$(sort -u "$T/got" | comm -3 - "$T/want" | head -3)"
req GET "/comity/collections/$PUB/objects/?limit=5000" "${A[@]}" >/dev/null
check "limit is capped" 1000 "$(jbody '.objects|length')"
jq -s '{objects: [.[].objects[]]}' "$T"/page.* >"$T/all.json"
/usr/bin/python3 "$COMITY_SRC/tests/cli/node_validate.py" "$COMITY_SHARED/data/stix/schemas" <"$T/all.json" >"$T/val" &&
  ok "served objects valid against the STIX schemas ($(cat "$T/val"))" || bad "schema: $(cat "$T/val")"
jq '.objects[0].created="yesterday"' "$T/body" | /usr/bin/python3 "$COMITY_SRC/tests/cli/node_validate.py" "$COMITY_SHARED/data/stix/schemas" >/dev/null 2>&1 &&
  bad "validator accepts a broken object" || ok "validator catches a broken object"

# --- paging by added_after (X-TAXII-Date-Added-Last), as taxii2-client without next ---
jq -c '{objects: .objects}' "$COMITY_SHARED/data/ioc/amnesty/cytrox.stix2" >"$T/cy.json"
req GET "/comity/collections/$PUB/objects/?limit=1000&match[type]=indicator" "${A[@]}" >/dev/null
before=$(jbody '.objects|length')
req GET "/comity/collections/$PUB/manifest/?limit=1000&match[version]=all" "${A[@]}" >/dev/null
LAST=""
: >"$T/m"
while :; do
  code=$(req GET "/comity/collections/$PUB/manifest/?limit=1000${LAST:+&added_after=$LAST}" "${A[@]}")
  [ "$code" = 200 ] || break
  [ "$(jbody '.objects|length')" = 0 ] || [ "$(cat "$T/body")" = "{}" ] && break
  L=$(hdr X-TAXII-Date-Added-Last); [ "$L" = "$LAST" ] && break; LAST=$L
  [ "$(jbody .more)" = true ] || break
done
check "POST Cytrox bundle" 202 "$(req POST "/comity/collections/$PUB/objects/" "${A[@]}" "${P[@]}" "${OP[@]}" --data-binary @"$T/cy.json")"
req GET "/comity/collections/$PUB/objects/?limit=1000&added_after=$LAST" "${A[@]}" >/dev/null
check "added_after returns only the new batch" "$(jq '.objects|length' "$T/cy.json")" "$(jbody '.objects|length')"
check "added_after: all from Cytrox" 1 "$(jbody '[.objects[].id] | index("malware--d33c9e88-4727-4645-bdb5-fe90f4b1102b") | if . == null then 0 else 1 end')"

# --- the OASIS sample content (medallion) ------------------------------------------------
M="$COMITY_SHARED/data/taxii/medallion_default_data.json"
jq -c '{objects: [.trustgroup1.collections[].objects[]? | del(.__meta)]}' "$M" >"$T/med.json"
n=$(jq '.objects | length' "$T/med.json")
check "POST medallion sample" 202 "$(req POST "/comity/collections/$STATE/objects/" "${A[@]}" "${P[@]}" -u "pk.pkcert:$PKCERT" --data-binary @"$T/med.json")"
# one of its malware objects is STIX 2.0 (no spec_version): refused with a reason
check "medallion: 2.1 objects accepted" "$((n - 1)) 1" "$(jbody '"\(.success_count) \(.failure_count)"')"
check "medallion: the 2.0 object's reason" "malware: missing required 'spec_version'" "$(jbody '.failures[0].message')"
: >"$T/got"; next=""
while :; do
  req GET "/comity/collections/$STATE/objects/?limit=2&match[version]=all${next:+&next=$next}" "${A[@]}" -u "pk.mofa:$MOFA" >/dev/null
  jbody '.objects[]? | "\(.id) \(.modified // "-")"' >>"$T/got"
  [ "$(jbody .more)" = true ] || break
  next=$(jbody .next)
done
check "medallion: paged by 2, every version" "$(jq -r '.objects[] | select(.spec_version) | "\(.id) \(.modified // "-")"' "$T/med.json" | sort -u | wc -l)" "$(wc -l <"$T/got")"
check "medallion: no repeats" "$(wc -l <"$T/got")" "$(sort -u "$T/got" | wc -l)"

# --- hostile paths -------------------------------------------------------------------------
check "dot-dot path" 404 "$(req GET "/comity/collections/../" "${A[@]}")"
check "encoded dot-dot" 404 "$(req GET "/comity/%2e%2e/taxii2/" "${A[@]}")"
check "double slash" 404 "$(req GET "/comity//collections/" "${A[@]}")"
check "very long path" 404 "$(req GET "/comity/$(head -c 2000 /dev/zero | tr '\0' a)/" "${A[@]}")"
check "non-UTF-8 in path" 404 "$(req GET "/v1/%ff%fe/" "${A[@]}")"
check "non-UTF-8 in a TAXII path" 404 "$(req GET "/comity/collections/%ff/" "${A[@]}")"
check "non-UTF-8 in a parameter" 400 "$(req GET "/comity/collections/$PUB/objects/?match[type]=%ff" "${A[@]}")"
check "NUL in path" 404 "$(req GET "/comity/%00/" "${A[@]}")"

stop_node && ok "SIGTERM: clean exit 0" || bad "SIGTERM exit status"
grep -q "finishing open requests" "$T/serve.err" && ok "SIGTERM noticed" || bad "no shutdown message"
finish
