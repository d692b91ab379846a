#!/usr/bin/env bash
# node_records.sh: record intake on a real node over HTTP.
#
# The record's life (sign, post, receipt, offline check of the receipt with
# the node's log key), idempotent re-posting, every refusal of intake in
# its order (size, envelope, payload, author, signature, authenticated,
# type) with its status and the rule named in the JSON error, access per
# sharing level on GET /v1/records and on the TAXII collections (records
# wrapped as x-comity-record objects beside their extension definition),
# the records of delivery a recipient's fetch makes (docs/federation.md,
# section 7: signed by the node, seen under the sharing level of the
# message, a red one sealed from non-parties, logged like any record),
# the log served as tlog-tiles (mirrored with curl and audited with
# `comity log audit`, path tricks refused), and the witness endpoint with
# the statuses of c2sp.org/tlog-witness.
source "$(dirname "$0")/node_lib.bash"
C=$COMITY_BIN
D="$T/node"
cd "$T"
init_node "$D" records.example/node
LOGVK=$(sed -n 's/^node key (signs its log): //p' "$T/init.out")
WVK=$(sed -n "s/^witness key (cosigns peers' logs): //p" "$T/init.out")
[ -d "$D/log" ] && ok "init made the log" || bad "no log dir"
[ -n "$WVK" ] && ok "init printed the witness key" || bad "no witness key"

# parties with real keys
reg() { # reg NAME KEYFILE: registers, prints the token
  "$C" keygen --party "$1" --out "$2" >/dev/null 2>&1
  "$C" party add "$D" "$1" --vkey "$("$C" key show "$2" | cut -d' ' -f1)" \
    --recipient "$("$C" key show "$2" | cut -d' ' -f2)" | sed -n 's/^token (shown once): //p'
}
TA=$(reg pk.mofa a.key)
TB=$(reg in.cert-in b.key)
TC=$(reg us.cisa c.key)
"$C" keygen --party fr.anssi --out d.key >/dev/null 2>&1   # not registered
"$C" keygen --party pk.mofa --out a2.key >/dev/null 2>&1   # pk.mofa's name, another key
"$C" key show a.key >peers.keys; "$C" key show b.key >>peers.keys

# a second log, which the node's witness will trust
"$C" log init --origin other.example/log --key o.key OL >o.vkey 2>/dev/null
printf 'one\ntwo\nthree\n' | "$C" log append OL >/dev/null
"$C" witness add-log "$D/witness" "$(cat o.vkey)" >/dev/null && ok "witness trusts other log" || bad "witness add-log"

serve "$D" --insecure-http
N=(--url "$URL")

# ---- a record's life ------------------------------------------------------
echo '{"severity":3,"sector":"energy","summary":"scan from 203.0.113.7"}' | "$C" record sign --key a.key --type notification --to in.cert-in >g.json
GID=$(jq -r .payload g.json | base64 -d | jq -r .id)
rc=0; "$C" record post "${N[@]}" --token "$TA" g.json >post.out 2>post.err || rc=$?
check "post: exit 0" 0 "$rc"
check "post: answers the id" "$GID" "$(jq -r .id post.out)"
check "post: first log index" 0 "$(jq -r .log_index post.out)"
check "post: digest" "$("$C" record digest g.json | sed -n 's/^digest  //p')" "$(jq -r .digest post.out)"

rc=0; "$C" record post "${N[@]}" --token "$TA" g.json >post2.out 2>&1 || rc=$?
check "re-post: exit 0" 0 "$rc"
check "re-post: same log index" 0 "$(jq -r .log_index post2.out)"
check "re-post: says it existed" true "$(jq -r .existed post2.out)"
check "re-post over HTTP: 200" 200 "$(req POST /v1/records -H "Authorization: Token $TA" --data-binary @g.json)"
rc=0; "$C" record receipt "${N[@]}" --token "$TA" "$GID" --out g.proof 2>rc.err || rc=$?
check "receipt: exit 0 (within the wait)" 0 "$rc"
check "receipt: a tlog-proof" "c2sp.org/tlog-proof@v1" "$(head -1 g.proof)"
rc=0; "$C" record verify --receipt g.proof --log-vkey "$LOGVK" --vkey peers.keys g.json >/dev/null 2>v.err || rc=$?
check "verify --receipt: good" 0 "$rc"
grep -q "good receipt" v.err && ok "says good receipt" || bad "verify said: $(cat v.err)"
sed 's/^index 0$/index 1/' g.proof >bad.proof
rc=0; "$C" record verify --receipt bad.proof --log-vkey "$LOGVK" g.json >/dev/null 2>&1 || rc=$?
check "verify: receipt for another index fails" 1 "$rc"
echo '{"summary":"other"}' | "$C" record sign --key a.key --type notification >o.json
rc=0; "$C" record verify --receipt g.proof --log-vkey "$LOGVK" o.json >/dev/null 2>&1 || rc=$?
check "verify: receipt of another record fails" 1 "$rc"
rc=0; "$C" record verify --receipt g.proof --log-vkey "$(cat o.vkey)" g.json >/dev/null 2>&1 || rc=$?
[ "$rc" -ne 0 ] && ok "verify: another log's key fails ($rc)" || bad "verify with wrong log key passed"
printf 'log %s\nwitness w %s\nquorum w\n' "$LOGVK" "$WVK" >q.policy
rc=0; "$C" record verify --receipt g.proof --policy q.policy g.json >/dev/null 2>&1 || rc=$?
check "verify: policy quorum not met without cosignature" 1 "$rc"
printf 'log %s\nquorum none\n' "$LOGVK" >n.policy
rc=0; "$C" record verify --receipt g.proof --policy n.policy g.json >/dev/null 2>&1 || rc=$?
check "verify: policy without witnesses" 0 "$rc"
rc=0; "$C" record get "${N[@]}" --token "$TB" "$GID" >got.json || rc=$?
check "get: exit 0" 0 "$rc"
check "get: the envelope as posted" "$(jq -cS . g.json)" "$(jq -cS . got.json)"
# in.cert-in's fetch of the notification is its delivery: the node signs a
# `delivered` record for it (asynchronously: waited for), authored by the
# recipient, green as the notification, referring to it
delivered() { # delivered TOKEN AUTHOR: the ids of AUTHOR's delivered records, once one is there
  local got=""
  for _ in $(seq 100); do
    req GET "/v1/records?type=delivered&author=$2" -H "Authorization: Token $1" >/dev/null
    got=$(jq -r '[.records[].id] | sort | join(" ")' "$T/body"); [ -n "$got" ] && break; sleep 0.1
  done
  echo "$got"
}
DG=$(delivered "$TA" in.cert-in)
check "the fetch made one delivered record" 1 "$(echo "$DG" | wc -w)"
check "delivered: green as the notification, refers to it" "green $GID" \
  "$(jq -r '.records[0] | "\(.tlp) \(.envelope.payload | @base64d | fromjson | .refs | join(","))"' "$T/body")"

# ---- refusals, in order ----------------------------------------------------
rule() { jq -r .rule "$T/body"; }
P() { req POST /v1/records "$@"; }
head -c $((2 * 1024 * 1024 + 1)) /dev/zero | tr '\0' ' ' >big
check "size: 413" 413 "$(P -H "Authorization: Token $TA" --data-binary @big)"
check "size: rule" size "$(rule)"
check "envelope: 400" 400 "$(P -H "Authorization: Token $TA" --data-binary 'not json')"
check "envelope: rule" envelope "$(rule)"
jq -c '.payloadType="text/plain"' g.json >pt.json
check "envelope payloadType: 400" 400 "$(P -H "Authorization: Token $TA" --data-binary @pt.json)"
check "envelope payloadType: rule" envelope "$(rule)"
python3 - <<'PY'
import base64, json
def env(payload):
    return json.dumps({"payloadType": "application/vnd.comity.record+json",
                       "payload": base64.b64encode(payload.encode()).decode(),
                       "signatures": [{"keyid": "", "sig": base64.b64encode(bytes(64)).decode()}]})
open("p1.json", "w").write(env('{"type":"notification"}'))
open("p2.json", "w").write(env('{"type":"notification","id":"notification--3f0e0b52-2d1c-4c7e-9b0a-6f1d2e3c4b5a","author":"pk.mofa","created":"2026-11-23T06:40:00.000Z","tlp":"green","body":{},"extra":1}'))
PY
check "payload missing fields: 422" 422 "$(P -H "Authorization: Token $TA" --data-binary @p1.json)"
check "payload: rule" payload "$(rule)"
check "payload unknown field: 422" 422 "$(P -H "Authorization: Token $TA" --data-binary @p2.json)"
echo '{}' | "$C" record sign --key d.key --type frobnicate >d.json
check "author unregistered (before type, before the author check): 403" 403 "$(P -H "Authorization: Token $TB" --data-binary @d.json)"
check "author: rule" author "$(rule)"
echo '{}' | "$C" record sign --key a2.key --type frobnicate >a2.json
check "signature under another key: 403" 403 "$(P -H "Authorization: Token $TB" --data-binary @a2.json)"
check "signature: rule" signature "$(rule)"
echo '{}' | "$C" record sign --key a.key --type frobnicate >t.json
echo '{}' | "$C" record sign --key a.key --type note >n.json
check "anonymous (before type): 401" 401 "$(P --data-binary @t.json)"
check "anonymous: rule" authenticated "$(rule)"
# an anonymous post is refused on its headers: nothing is parsed or
# verified, and the answer says nothing about the author
cp "$T/body" anon_registered.json
check "anonymous, unregistered author: 401" 401 "$(P --data-binary @d.json)"
cmp -s "$T/body" anon_registered.json && ok "anonymous: the same answer for a registered and an unregistered author" || bad "anonymous answers differ: $(cat "$T/body") vs $(cat anon_registered.json)"
check "anonymous, bad signature: 401" 401 "$(P --data-binary @a2.json)"
cmp -s "$T/body" anon_registered.json && ok "anonymous: the same answer for a bad signature" || bad "anonymous answers differ: $(cat "$T/body")"
check "anonymous, not even an envelope: 401" 401 "$(P --data-binary 'not json')"
check "another party posts it: 403" 403 "$(P -H "Authorization: Token $TB" --data-binary @n.json)"
check "another party: rule" authenticated "$(rule)"
check "unknown type: 422" 422 "$(P -H "Authorization: Token $TA" --data-binary @t.json)"
check "type: rule" type "$(rule)"
jq -e '.error and .description and .status == 422' "$T/body" >/dev/null && ok "error JSON names what failed" || bad "error JSON: $(cat "$T/body")"
rc=0; "$C" record post "${N[@]}" --token "$TA" t.json >/dev/null 2>post.err || rc=$?
check "CLI post refused: exit 1" 1 "$rc"
grep -q '"rule":"type"' post.err && ok "CLI prints the refusal" || bad "CLI stderr: $(cat post.err)"
# same id, other content (a re-signed payload with the same id)
python3 - <<'PY'
import base64, json
e = json.load(open("g.json")); p = json.loads(base64.b64decode(e["payload"]))
p["body"] = {"summary": "changed"}
e["payload"] = base64.b64encode(json.dumps(p).encode()).decode()
json.dump(e, open("same_id.json", "w"))
PY
check "same id, tampered content: signature refused" 403 "$(P -H "Authorization: Token $TA" --data-binary @same_id.json)"

# ---- access per sharing level ---------------------------------------------
echo '{"advisory":"public"}' | "$C" record sign --key a.key --type note --tlp clear >c.json
echo '{"secret":"logs"}' | "$C" record sign --key a.key --type evidence --tlp amber --to in.cert-in --keys peers.keys >m.json
echo '{"secret":"red"}' | "$C" record sign --key b.key --type request --tlp red --to pk.mofa --keys peers.keys >r.json
CID=$(jq -r .payload c.json | base64 -d | jq -r .id)
MID=$(jq -r .payload m.json | base64 -d | jq -r .id)
RID=$(jq -r .payload r.json | base64 -d | jq -r .id)
check "post clear" 201 "$(P -H "Authorization: Token $TA" --data-binary @c.json)"
check "post amber" 201 "$(P -H "Authorization: Token $TA" --data-binary @m.json)"
check "post red (by in.cert-in)" 201 "$(P -H "Authorization: Token $TB" --data-binary @r.json)"
ids() { req GET "/v1/records$1" "${@:2}" >/dev/null; jq -r '[.records[].id] | sort | join(" ")' "$T/body"; }
srt() { printf '%s\n' "$@" | sort | tr '\n' ' ' | sed 's/ $//'; }
check "anonymous sees clear only" "$CID" "$(ids "")"
check "us.cisa sees clear and green (the green delivery too)" "$(srt "$CID" "$GID" "$DG")" "$(ids "" -H "Authorization: Token $TC")"
check "in.cert-in sees all four and the delivery" "$(srt "$CID" "$GID" "$MID" "$RID" "$DG")" "$(ids "" -H "Authorization: Token $TB")"
check "pk.mofa sees all four and the delivery" "$(srt "$CID" "$GID" "$MID" "$RID" "$DG")" "$(ids "" -H "Authorization: Token $TA")"
# that page handed pk.mofa the red request addressed to it: its delivery,
# red and sealed as the request, for in.cert-in (the sender) and pk.mofa only
DR=$(delivered "$TB" pk.mofa)
check "the page made one delivered record" 1 "$(echo "$DR" | wc -w)"
check "delivered: red as the request, refers to it" "red $RID" \
  "$(jq -r '.records[0] | "\(.tlp) \(.envelope.payload | @base64d | fromjson | .refs | join(","))"' "$T/body")"
check "operator: amber/red only to author and recipients (no red delivery)" "$(srt "$CID" "$GID" "$DG")" "$(ids "" -H "Authorization: Token $OPTOKEN")"
check "us.cisa: no red delivery" "$(srt "$CID" "$GID" "$DG")" "$(ids "" -H "Authorization: Token $TC")"
check "get the red delivery as a third party: 404" 404 "$(req GET "/v1/records/$DR" -H "Authorization: Token $TC")"
check "get amber as a third party: 404" 404 "$(req GET "/v1/records/$MID" -H "Authorization: Token $TC")"
check "get amber as recipient: 200" 200 "$(req GET "/v1/records/$MID" -H "Authorization: Token $TB")"
check "get green anonymously: 404" 404 "$(req GET "/v1/records/$GID")"
check "get clear anonymously: 200" 200 "$(req GET "/v1/records/$CID")"
check "receipt of amber as a third party: 404" 404 "$(req GET "/v1/records/$MID/receipt" -H "Authorization: Token $TC")"
check "filter type" "$MID" "$(ids "?type=evidence" -H "Authorization: Token $TA")"
check "filter author" "$(srt "$RID" "$DG")" "$(ids "?author=in.cert-in" -H "Authorization: Token $TA")"
check "filter author and type" "$RID" "$(ids "?author=in.cert-in&type=request" -H "Authorization: Token $TA")"
check "filter to" "$(srt "$GID" "$MID" "$DR")" "$(ids "?to=in.cert-in" -H "Authorization: Token $TB")"
check "filter since (future)" "" "$(ids "?since=2999-01-01T00:00:00Z" -H "Authorization: Token $TA")"
check "filter since (past)" 6 "$(req GET '/v1/records?since=2000-01-01T00:00:00Z' -H "Authorization: Token $TA" >/dev/null; jq '.records | length' "$T/body")"
check "bad parameter: 400" 400 "$(req GET '/v1/records?colour=red')"
check "bad limit: 400" 400 "$(req GET '/v1/records?limit=0')"
check "limit not a number: 400" 400 "$(req GET '/v1/records?limit=ten')"
check "bad since: 400" 400 "$(req GET '/v1/records?since=yesterday')"
check "bad cursor: 400" 400 "$(req GET '/v1/records?cursor=-1')"
check "repeated filter: 400" 400 "$(req GET '/v1/records?type=note&type=ping')"
check "filter without value: 400" 400 "$(req GET '/v1/records?type')"
check "DELETE /v1/records: 405" 405 "$(req DELETE /v1/records)"
check "POST to a record: 405" 405 "$(req POST "/v1/records/$GID" -H "Authorization: Token $TA" --data x)"
check "unknown record sub-resource: 404" 404 "$(req GET "/v1/records/$CID/frob")"
seen=""; cur=""; pages=0
while :; do
  req GET "/v1/records?limit=1${cur:+&cursor=$cur}" -H "Authorization: Token $TB" >/dev/null
  seen="$seen $(jq -r '.records[].id' "$T/body")"; pages=$((pages + 1))
  [ "$(jq -r .more "$T/body")" = true ] || break
  cur=$(jq -r .next "$T/body"); [ $pages -lt 10 ] || break
done
check "cursor pages: one record each, none lost or repeated" "$(srt "$CID" "$GID" "$MID" "$RID" "$DG" "$DR")" "$(srt $seen)"

# TAXII: the records as x-comity-record objects
coll() { curl -s --noproxy '*' -H "Accept: $TAXII" "${@:2}" "$URL/comity/collections/" | jq -r ".collections[] | select(.alias==\"$1\") | .id"; }
objs() { # objs ALIAS CURLARGS: "type id" lines
  local id; id=$(coll "$1" "${@:2}")
  curl -s --noproxy '*' -H "Accept: $TAXII" "${@:2}" "$URL/comity/collections/$id/objects/" | jq -r '.objects[] | .id' | sort | tr '\n' ' '
}
EXT=extension-definition--2c1a0082-a8cc-4202-b69c-83158d21721a
sx() { echo "x-comity-record--${1#*--}"; }
check "public: clear record and the extension definition" "$(srt "$EXT" "$(sx "$CID")") " "$(objs public)"
check "community: green record and its delivery" "$(srt "$EXT" "$(sx "$GID")" "$(sx "$DG")") " "$(objs community -H "Authorization: Token $TC")"
check "inbox of in.cert-in: amber to it, red by it, the red one's delivery" "$(srt "$EXT" "$(sx "$MID")" "$(sx "$RID")" "$(sx "$DR")") " "$(objs inbox.in.cert-in -H "Authorization: Token $TB")"
check "inbox of pk.mofa: amber by it, red to it, its delivery of the red one" "$(srt "$EXT" "$(sx "$MID")" "$(sx "$RID")" "$(sx "$DR")") " "$(objs inbox.pk.mofa -H "Authorization: Token $TA")"
# the operator may read every collection, but sees no more of a record there
# than on /v1/records: no wrapper (recipients, type, author, envelope) of a
# sealed record it is not party to, by page, manifest or id
check "operator: inbox of in.cert-in shows no sealed record" "$EXT " "$(objs inbox.in.cert-in -H "Authorization: Token $OPTOKEN")"
INB=$(coll inbox.in.cert-in -H "Authorization: Token $TB")
check "operator: manifest of the inbox, no sealed record" "$EXT" "$(curl -s --noproxy '*' -H "Accept: $TAXII" -H "Authorization: Token $OPTOKEN" "$URL/comity/collections/$INB/manifest/" | jq -r '.objects[].id')"
check "operator: a sealed record's wrapper by id: 404" 404 "$(req GET "/comity/collections/$INB/objects/$(sx "$MID")/" -H "Accept: $TAXII" -H "Authorization: Token $OPTOKEN")"
check "operator: a sealed delivery's wrapper by id: 404" 404 "$(req GET "/comity/collections/$INB/objects/$(sx "$DR")/" -H "Accept: $TAXII" -H "Authorization: Token $OPTOKEN")"
check "operator: community still shows green" "$(srt "$EXT" "$(sx "$GID")" "$(sx "$DG")") " "$(objs community -H "Authorization: Token $OPTOKEN")"
check "us.cisa cannot read others' inboxes" 403 "$(req GET "/comity/collections/$(coll inbox.in.cert-in -H "Authorization: Token $TB")/objects/" -H "Accept: $TAXII" -H "Authorization: Token $TC")"
PUB=$(coll public)
curl -s --noproxy '*' -H "Accept: $TAXII" "$URL/comity/collections/$PUB/objects/?match%5Btype%5D=x-comity-record" >w.json
check "wrapper: created = modified = record's created" "$(jq -r .payload c.json | base64 -d | jq -r .created) true" \
  "$(jq -r '.objects[0] | "\(.created) \(.created == .modified)"' w.json)"
check "wrapper: carries the envelope" "$(jq -r .payload c.json)" "$(jq -r '.objects[0].dsse_envelope.payload' w.json)"
check "wrapper: new-sdo extension" new-sdo "$(jq -r ".objects[0].extensions[\"$EXT\"].extension_type" w.json)"
jq '.objects[0].dsse_envelope' w.json >from_taxii.json
rc=0; "$C" record verify --vkey peers.keys from_taxii.json >/dev/null 2>&1 || rc=$?
check "the envelope from TAXII verifies" 0 "$rc"
curl -s --noproxy '*' -H "Accept: $TAXII" "$URL/comity/collections/$PUB/objects/$EXT/" | jq -c '.objects[0].extension_types' >et
check "extension definition: new-sdo" '["new-sdo"]' "$(cat et)"
# a wrapper is found by its id (through its record: schema 5 keeps it out of
# the id index), alone and beside a stored object, and has one version
SXC=$(sx "$CID")
tx() { curl -s --noproxy '*' -H "Accept: $TAXII" "$URL/comity/collections/$PUB/objects/$1"; }
check "wrapper by id" "$SXC $CID" "$(tx "$SXC/" | jq -r '.objects[] | "\(.id) \(.record_id)"')"
check "match[id]: wrapper and extension definition" "$(srt "$EXT" "$SXC") " \
  "$(tx "?match%5Bid%5D=$SXC,$EXT" | jq -r '.objects[].id' | sort | tr '\n' ' ')"
check "match[id] with match[type]" "$SXC" "$(tx "?match%5Bid%5D=$SXC,$EXT&match%5Btype%5D=x-comity-record" | jq -r '.objects[].id')"
check "wrapper: one version, its created" "$(jq -r '.objects[0].created' w.json)" "$(tx "$SXC/versions/" | jq -r '.versions | join(",")')"
check "another collection's wrapper is not here" 404 "$(req GET "/comity/collections/$PUB/objects/$(sx "$GID")/" -H "Accept: $TAXII")"
check "no record, no wrapper" 404 "$(req GET "/comity/collections/$PUB/objects/x-comity-record--00000000-0000-4000-8000-000000000000/" -H "Accept: $TAXII")"

# ---- the log over HTTP -----------------------------------------------------
for _ in $(seq 100); do # a checkpoint covers the last posts (about a second)
  req GET /log/checkpoint >/dev/null; [ "$(sed -n 2p "$T/body")" = 6 ] && break; sleep 0.1
done
check "checkpoint: 200" 200 "$(req GET /log/checkpoint)"
check "checkpoint: text/plain" "text/plain; charset=utf-8" "$(hdr Content-Type)"
hdr Cache-Control | grep -q immutable && bad "checkpoint cached as immutable" || ok "checkpoint: not immutable ($(hdr Cache-Control))"
SIZE=$(sed -n 2p "$T/body")
check "log size: one entry per stored record (four posted, two deliveries)" 6 "$SIZE"
mkdir -p M/tile/0 M/tile/entries
cp "$T/body" M/checkpoint
check "tile: 200" 200 "$(req GET "/log/tile/0/000.p/$SIZE")"
check "tile: octet-stream" application/octet-stream "$(hdr Content-Type)"
mkdir -p M/tile/0/000.p M/tile/entries/000.p
cp "$T/body" "M/tile/0/000.p/$SIZE"
check "bundle: 200" 200 "$(req GET "/log/tile/entries/000.p/$SIZE")"
cp "$T/body" "M/tile/entries/000.p/$SIZE"
rc=0; "$C" log audit M --vkey "$LOGVK" >audit.out 2>&1 || rc=$?
check "mirrored log audits (tiles and root recomputed from the bundles)" 0 "$rc"
grep -c "comity-record-v1:$(jq -r .digest post.out)" "M/tile/entries/000.p/$SIZE" >/dev/null && ok "bundle holds the record's entry" || bad "entry not in bundle"
for p in /log/log.db /log/log.lock /log/tile/0/0 /log/tile/00/000 /log/tile/0/000.p/0 /log/tile/0/000.p/256 \
         /log/tile/0/../../log.db /log/tile/0/%2e%2e/x /log/tile/entries/000.p/01 /log/tile/64/000 /log/ /log/tile/0/001; do
  check "no file at $p" 404 "$(req GET "$p")"
done
check "POST to the log: 405" 405 "$(req POST /log/checkpoint -H "Authorization: Token $TA" --data x)"

# ---- the witness -------------------------------------------------------------
"$C" log request OL --old 0 >wreq
check "add-checkpoint: 200" 200 "$(req POST /witness/add-checkpoint --data-binary @wreq)"
cp "$T/body" cosig
grep -q "^— records.example/node " cosig && ok "cosignature line by the node's witness" || bad "cosig: $(cat cosig)"
rc=0; "$C" log cosigned OL --witness "$WVK" cosig >/dev/null 2>&1 || rc=$?
check "the cosignature verifies under the witness key" 0 "$rc"
check "same old size again: 409" 409 "$(req POST /witness/add-checkpoint --data-binary @wreq)"
check "409: text/x.tlog.size" text/x.tlog.size "$(hdr Content-Type)"
check "409: the witness's size" 3 "$(cat "$T/body")"
"$C" log init --origin unknown.example/log --key u.key UL >/dev/null 2>&1
"$C" log request UL --old 0 >ureq
check "unknown origin: 404" 404 "$(req POST /witness/add-checkpoint --data-binary @ureq)"
check "malformed: 400" 400 "$(req POST /witness/add-checkpoint --data-binary 'old x')"
check "GET add-checkpoint: 405" 405 "$(req GET /witness/add-checkpoint)"

# ---- stop: the log is checkpointed; reopening keeps everything ---------------
stop_node && ok "SIGTERM: exit 0" || bad "stop"
check "final checkpoint covers every record" 6 "$(sed -n 2p "$D/log/checkpoint")"
serve "$D" --insecure-http
N=(--url "$URL")
check "after restart: the record is still there" 200 "$(req GET "/v1/records/$GID" -H "Authorization: Token $TA")"
rc=0; "$C" record post "${N[@]}" --token "$TA" g.json >post3.out 2>&1 || rc=$?
check "after restart: re-post still idempotent" "0 0" "$rc $(jq -r .log_index post3.out)"

# ---- a record to a bare state is for every office of that state --------------
echo '{"secret":"to the state"}' | "$C" record sign --key a.key --type evidence --tlp amber --to in --keys peers.keys >s.json
SID=$(jq -r .payload s.json | base64 -d | jq -r .id)
check "post amber to the bare state in" 201 "$(P -H "Authorization: Token $TA" --data-binary @s.json)"
check "an office of in (in.cert-in) gets it" 200 "$(req GET "/v1/records/$SID" -H "Authorization: Token $TB")"
check "an office of another state (us.cisa) does not" 404 "$(req GET "/v1/records/$SID" -H "Authorization: Token $TC")"
check "in.cert-in lists it" "$SID" "$(ids "?type=evidence&to=in" -H "Authorization: Token $TB")"
check "us.cisa does not list it" "" "$(ids "?type=evidence&to=in" -H "Authorization: Token $TC")"
finish
