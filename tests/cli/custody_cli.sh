#!/usr/bin/env bash
# custody_cli.sh: chain of custody and retention (issue 16, points 3 and 4)
# against a real node: a sealed MLA case whose logs travel as an evidence
# file; custody records (received from the provider, passed on, received)
# read back as an intact chain by a party's `comity case custody`, which
# opens the sealed records with its own key; a hand-over by a party that
# no longer holds the file flagged as a break; custody records unreadable
# to a third party and the operator through /v1/records, TAXII and
# /v1/framework/cases/ID/custody; then retention: nothing due while the
# case is open, and once it closes the node's job writes a destruction
# record (as its custodian party, sealed to the parties) and destroys the
# file, which a party's fetch then answers "destroyed on DATE by record
# ID" (410) and a third party's the unknown hash's 404.
#
# retention.mla is 15 seconds in node.conf (so that the dry run comes before
# the job even on a loaded machine), and the job runs every second.
source "$(dirname "$0")/node_lib.bash"
C=$COMITY_BIN
D="$T/node"
cd "$T"
init_node "$D" hub.example/node
PARTIES="in.cert-in pk.fia us.cisa"
for p in $PARTIES; do
  "$C" keygen --party "$p" --out "$p.key" >/dev/null 2>&1
  "$C" key show "$p.key" >>peers.keys
done
# the node's custodian party: its key in the node's directory
"$C" keygen --party un.hub --out "$D/retention.key" >/dev/null 2>&1
"$C" key show "$D/retention.key" >>peers.keys
printf 'retention.mla = 15s\nretention.author = un.hub\nretention.every = 1s\n' >"$D/node.conf"
mkdir -p conf
for p in $PARTIES un.hub; do
  kf=$p.key; [ "$p" = un.hub ] && kf=$D/retention.key
  tok=$("$C" party add "$D" "$p" --vkey "$("$C" key show "$kf" | cut -d' ' -f1)" \
    --recipient "$("$C" key show "$kf" | cut -d' ' -f2)" | sed -n 's/^token (shown once): //p')
  [ -f "$p.key" ] && cp "$p.key" conf/
  eval "TOK_${p//[.-]/_}=$tok"
done
# a custodian whose key does not load stops the start, naming the setting
printf 'retention.author = un.hub\nretention.key = %s/missing.key\n' "$T" >"$D/node.conf"
rc=0; timeout 20 "$C" serve "$D" --listen 127.0.0.1:0 --insecure-http >bad.out 2>bad.err || rc=$?
[ "$rc" != 0 ] && [ "$rc" != 124 ] && ok "a custodian key that does not load: the node does not start" || bad "rc $rc"
grep -q "retention" bad.err && ok "... naming retention" || bad "said: $(cat bad.err)"
printf 'retention.author = us.cisa\n' >"$D/node.conf"
rc=0; timeout 20 "$C" serve "$D" --listen 127.0.0.1:0 --insecure-http >bad.out 2>bad.err || rc=$?
grep -q "un.hub's key, not us.cisa's" bad.err && ok "another party's key as custodian's: refused" || bad "rc $rc said: $(cat bad.err)"
printf 'retention.mla = 15s\nretention.author = un.hub\nretention.every = 1s\n' >"$D/node.conf"
serve "$D" --insecure-http
for p in $PARTIES; do
  tok=$(eval echo "\$TOK_${p//[.-]/_}")
  printf 'url = %s\ntoken = %s\nkey = %s.key\nkeys = ../peers.keys\n' "$URL" "$tok" "$p" >"conf/$p.conf"
done
printf 'url = %s\ntoken = %s\n' "$URL" "$OPTOKEN" >conf/operator.conf
run() { # run PARTY ARGS...: comity ARGS with that party's config; out/err in files
  local p=$1; shift
  rc=0; "$C" "$@" --config "conf/$p.conf" >out 2>err || rc=$?
}
hget() { # hget TOKEN PATH: GET, body in $T/body; prints the status
  curl -s --noproxy '*' -H "Authorization: Token $1" -o "$T/body" -w '%{http_code}' "$URL$2"
}
stored() { find "$D/files" -type f ! -path "$D/files/tmp/*" ! -name '*.refs' ! -name attached.log 2>/dev/null | wc -l; }
files_json() { printf '{"files":[{"sha256":"%s","size":%s,"name":"logs.tar.age"}],%s}' "$H" "$SIZE" "$1" >body.json; }

# ---- help ----------------------------------------------------------------------------------
rc=0; "$C" help case >out 2>&1 || rc=$?
check "comity help case" 0 "$rc"
grep -q 'comity case custody CASE-ID' out && ok "help shows custody" || bad "help: no custody"
grep -q 'comity case retention' out && ok "help shows retention" || bad "help: no retention"

# ---- a sealed MLA case; the logs travel as a file --------------------------------------------
run in.cert-in case open mla-request --to pk.fia --tlp amber --set requesting_authority='CERT-In' \
  --set subject='ransomware' --set facts='encrypted on 1 Dec' --set assistance='server logs' \
  --set purpose='prosecution'
check "a sealed MLA request" 0 "$rc"
CASE=$(cut -d' ' -f1 out)
head -c $((1 << 20)) /dev/urandom >logs.tar
run pk.fia case upload "$CASE" mla-partial logs.tar --set text='the logs of 1-3 Dec'
check "the requested state uploads the logs" 0 "$rc"
read -r H SIZE REC < <(tail -1 out)
check "the node stores the file" 1 "$(stored)"

# ---- custody: received from the provider, passed on, received -----------------------------
files_json '"from":"ExampleHost (Pvt) Ltd, Karachi","instrument":"provider portal export"'
run pk.fia case send "$CASE" custody-receive --body body.json
check "pk.fia records receiving the logs from the provider" 0 "$rc"
files_json '"recipient":"in.cert-in","instrument":"comity evidence file"'
run pk.fia case send "$CASE" custody-transfer --body body.json
check "pk.fia records passing them on" 0 "$rc"
XFER=$(cut -d' ' -f1 out)
files_json "\"from\":\"pk.fia\",\"transfer\":\"$XFER\""
run in.cert-in case send "$CASE" custody-receive --body body.json
check "in.cert-in records receiving them" 0 "$rc"
run in.cert-in case custody "$CASE"
check "comity case custody" 0 "$rc"
grep -q "chain INTACT; held by in.cert-in" out && ok "the chain is intact, held by the requester" || bad "said: $(cat out)"
grep -q "0 break(s)" out && ok "... no break" || bad "said: $(cat out)"
run in.cert-in case custody "$CASE" --json
check "--json: three links of the file" 3 "$(jq '.items[0].chain | length' out)"
check "... read from the sealed records, opened with the party's key" 0 "$(jq '.sealed | length' out)"
files_json '"action":"re-imaged"'
run pk.fia case send "$CASE" custody-handle --body body.json
check "pk.fia records handling the logs after passing them on" 0 "$rc"
run pk.fia case custody "$CASE"
grep -q "BREAK not-holder" out && ok "... a break: it did not hold them" || bad "said: $(cat out)"
grep -q "chain BROKEN" out && ok "... the chain shows broken" || bad "said: $(cat out)"
run us.cisa case send "$CASE" custody-receive --body body.json
check "a non-party's custody record: refused (exit 1)" 1 "$rc"

# ---- custody records are unreadable to a third party and the operator -----------------------
hget "$TOK_us_cisa" "/v1/framework/cases/$CASE/custody" >st
b1=$(sed "s/$CASE/ID/" "$T/body")
FAKE=mla-request--00000000-0000-4000-8000-000000000000
hget "$TOK_us_cisa" "/v1/framework/cases/$FAKE/custody" >st2
b2=$(sed "s/$FAKE/ID/" "$T/body")
check "third party: /v1/framework/cases/ID/custody is 404" 404 "$(cat st)"
check "... the unknown id's very answer" "$(cat st2) $b2" "$(cat st) $b1"
check "operator: the custody view (envelopes only)" 200 "$(hget "$OPTOKEN" "/v1/framework/cases/$CASE/custody")"
grep -q 'ExampleHost' "$T/body" && bad "operator read sealed custody content" || ok "operator: no sealed custody content"
check "... every custody record listed as sealed" 4 "$(jq '.sealed | length' "$T/body")"
st=$(hget "$TOK_us_cisa" "/v1/records/$XFER")
[ "$st" = 404 ] || [ "$st" = 403 ] && ok "third party: /v1/records/ID of a custody record refused ($st)" || bad "third party read it: $st"
hget "$OPTOKEN" "/v1/records/$XFER" >/dev/null
grep -q 'ExampleHost\|re-imaged' "$T/body" && bad "operator read custody content in /v1/records" || ok "operator: no custody content in /v1/records"
for tok in "$TOK_us_cisa" "$OPTOKEN"; do
  leak=0
  for c in $(curl -s --noproxy '*' -H "Accept: $TAXII" -H "Authorization: Token $tok" "$URL/comity/collections/" | jq -r '.collections[].id'); do
    curl -s --noproxy '*' -H "Accept: $TAXII" -H "Authorization: Token $tok" "$URL/comity/collections/$c/objects/" >coll.json
    grep -q 'ExampleHost\|re-imaged' coll.json && leak=1
    [ "$tok" = "$TOK_us_cisa" ] && grep -q "$XFER" coll.json && leak=1
  done
  check "TAXII: no custody content ($([ "$tok" = "$OPTOKEN" ] && echo operator || echo third party))" 0 "$leak"
done

# ---- retention: nothing while open; the job destroys once the period ran out ---------------
run operator case retention
check "comity case retention (the operator asks the node)" 0 "$rc"
grep -q "nothing is due" out && ok "... nothing is due while the case is open" || bad "said: $(cat out)"
run pk.fia case send "$CASE" mla-answer --set text='all the logs were sent'
check "the requested state answers: the case is closed" 0 "$rc"
"$C" case retention "$D" --at "$(date -u -d '+40 sec' +%Y-%m-%dT%H:%M:%SZ)" >dry.out 2>&1
grep -q "^DUE  $CASE  mla" dry.out && ok "a dry run 40 s ahead: the case is due" || bad "dry run: $(cat dry.out)"
grep -q "retention.mla = 15s" dry.out && ok "... under its rule" || bad "dry run: $(cat dry.out)"
check "the dry run destroyed nothing" 1 "$(stored)"
for _ in $(seq 200); do [ "$(stored)" = 0 ] && break; sleep 0.2; done
check "the job destroyed the file" 0 "$(stored)"
run in.cert-in case fetch "$H" --out got.tar
check "a party's fetch of the destroyed file: exit 1" 1 "$rc"
grep -q "was destroyed on .* by record evidence-destruction--" err && ok "... 'destroyed on DATE by record ID'" || bad "said: $(cat err)"
check "HTTP: 410 for a party" 410 "$(hget "$TOK_in_cert_in" "/v1/files/$H")"
DREC=$(jq -r .description "$T/body" | sed -n 's/.* by record \(evidence-destruction--[0-9a-f-]*\).*/\1/p')
check "third party: the unknown hash's 404, not 410" 404 "$(hget "$TOK_us_cisa" "/v1/files/$H")"
run in.cert-in record get "$DREC" --out d.env
rc=0; "$C" record open --key in.cert-in.key d.env >out 2>err || rc=$?
check "the destruction record opens for a party" 0 "$rc"
grep -q "retention.mla = 15s" out && ok "... its rule" || bad "record: $(cat out) $(cat err)"
grep -q "$H" out && ok "... and the file's hash" || bad "record: $(cat out)"
run in.cert-in case custody "$CASE"
grep -q "DESTROYED on .* by $DREC" out && ok "the chain ends with the destruction" || bad "said: $(cat out) $(cat err)"
run operator case retention
grep -q "nothing is due" out && ok "nothing is due any more" || bad "said: $(cat out)"
finish
