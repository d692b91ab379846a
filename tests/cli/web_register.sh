#!/usr/bin/env bash
# web_register.sh: a newcomer registered by the operator from the browser
# alone (issue 15, "Done when"), in Debian's chromium (web/test/
# register.mjs) against a real node: a key made in the browser and one
# from `comity keygen`, requests signed there, the operator's token login,
# approval and refusal.  Then, with the CLI: the approved party is
# registered exactly as `comity party add` registers (its keys, its inbox
# collection), the key file the browser saved signs a record the CLI
# verifies under the registered key, and the refused one is not there.
source "$(dirname "$0")/web_lib.bash"
web_ready
web_build
D=$T/node
init_node "$D" web.test
"$C" keygen --party tz.nisc --out "$T/tz.nisc.key" >"$T/tz.nisc.pub" 2>/dev/null
web_built
serve "$D" --insecure-http --web "$T/web"
web_run register 180 "$OPTOKEN"

"$C" party list "$D" >"$T/parties.json"
vk=$(sed -n 's/^# public key: //p' "$T/ke.cert.key")
rc=$(sed -n 's/^# recipient: //p' "$T/ke.cert.key")
check "ke.cert registered with the browser's keys" "$vk $rc" \
  "$(jq -r '.[] | select(.name == "ke.cert") | "\(.vkey) \(.recipient)"' "$T/parties.json")"
check "tz.nisc, refused, is not registered" "" \
  "$(jq -r '.[] | select(.name == "tz.nisc") | .name' "$T/parties.json")"
tok=$("$C" party token "$D" ke.cert | sed -n 's/^token (shown once): //p')
check "ke.cert's inbox collection exists, as party add makes it" 1 \
  "$(curl -s -u "ke.cert:$tok" -H "Accept: $TAXII" "$URL/comity/collections/" | grep -c 'Inbox of ke.cert' || true)"
echo '{"severity":1,"sector":"energy","summary":"hello"}' |
  "$C" record sign --key "$T/ke.cert.key" --type notification --tlp green --to pk >"$T/m.json" 2>"$T/sign.err" ||
  bad "the browser's key file does not sign with the CLI: $(cat "$T/sign.err")"
if "$C" record verify --vkey "$vk" "$T/m.json" >/dev/null 2>&1; then
  ok "the browser's key file signs a record the CLI verifies under the registered key"
else bad "a record signed with the browser's key file does not verify"; fi
finish
