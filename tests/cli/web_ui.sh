#!/usr/bin/env bash
# web_ui.sh: the web UI in a real browser (Debian's chromium, driven by
# playwright-core from web/node_modules), against a real node.
#
# Three parties in three states, keys made with `comity keygen`:
#   pk.mofa  logs in with its passphrase-protected key file by signing a
#            challenge in the browser, sends a sealed
#            (amber) request to in.mea, sees the reply, closes the request;
#   in.mea   logs in, opens the request in its browser, acknowledges and
#            replies (sealed), all by keyboard;
#   fr.anssi logs in and cannot see the request.
# Interop both ways: the browser's records verify with `comity record
# verify` and open with `comity record open`; a record the CLI sealed opens
# in the browser.  web/test/ui.mjs also watches every request the browser
# sends (no key material, no sealed plaintext), checks CSRF and logout, and
# runs axe-core on each screen; screenshots go to BUILD/web-screenshots-ui.
#
# Skips (77) only when chromium cannot start or the npm packages are not
# installed (scripts/install-deps installs both).
source "$(dirname "$0")/web_lib.bash"
web_ready
web_build   # the UI from this source tree, built while the parties are made

D=$T/node
init_node "$D" web.test
for p in pk.mofa in.mea fr.anssi; do
  "$C" keygen --party "$p" --out "$T/$p.key" >"$T/$p.pub" 2>/dev/null
  read -r vk rc <"$T/$p.pub"
  cat "$T/$p.pub" >>"$T/peers.keys"
  "$C" party add "$D" "$p" --vkey "$vk" --recipient "$rc" |
    sed -n 's/^token (shown once): //p' >"$T/$p.token"
done
web_built
serve "$D" --insecure-http --web "$T/web"

# static files: types, CSP, no traversal, API unchanged
check "index.html" 200 "$(req GET /)"
check "index content type" "text/html; charset=utf-8" "$(hdr Content-Type)"
csp=$(hdr Content-Security-Policy)
case "$csp" in *"default-src 'self'"*"script-src 'self'"*) ok "CSP $csp";; *) bad "CSP: '$csp'";; esac
case "$csp" in *unsafe*) bad "CSP allows unsafe-*";; *) ok "CSP has no unsafe-*";; esac
check "script content type" 200 "$(req GET /app.js)"
if grep -qE 'eval\(|new Function|Function\("' "$T/body"; then bad "the bundle uses eval"; else ok "no eval in the bundle"; fi
check "script type" "text/javascript; charset=utf-8" "$(hdr Content-Type)"
check "css type" 200 "$(req GET /style.css)"
check "no traversal (..)" 404 "$(req GET /../node/node.db)"
check "no traversal (%2e%2e)" 404 "$(req GET /%2e%2e/%2e%2e/etc/passwd)"
check "no encoded slash" 404 "$(req GET /..%2fnode.db)"
check "no hidden file" 404 "$(req GET /.env)"
check "unknown extension" 404 "$(req GET /node.db)"
check "missing file" 404 "$(req GET /nope.js)"
ln -s /etc/passwd "$T/web/passwd.txt"
check "no symlink out" 404 "$(req GET /passwd.txt)"
check "POST to a static path" 404 "$(req POST /index.html)"
check "API still JSON" 200 "$(req GET /v1/node)"
check "TAXII still served" 200 "$(req GET /taxii2/ -H "Accept: $TAXII")"

# login API refusals (the browser does the happy path)
check "challenge needs the UI header" 400 "$(req POST /v1/session/challenge -d '{"party":"pk.mofa"}')"
check "challenge for an unknown party" 404 "$(req POST /v1/session/challenge -H 'X-Comity-UI: 1' -d '{"party":"xx.nobody"}')"
check "challenge" 200 "$(req POST /v1/session/challenge -H 'X-Comity-UI: 1' -d '{"party":"pk.mofa"}')"
nonce=$(jbody .nonce)
sig=$(head -c 64 /dev/zero | base64 -w0)
check "a wrong signature is refused" 403 "$(req POST /v1/session -H 'X-Comity-UI: 1' -d "{\"party\":\"pk.mofa\",\"nonce\":\"$nonce\",\"signature\":\"$sig\"}")"
check "no Set-Cookie on refusal" "" "$(hdr Set-Cookie)"
check "parties need a login" 401 "$(req GET /v1/parties)"
check "parties with a token" 200 "$(req GET /v1/parties -H "Authorization: Token $(cat "$T/pk.mofa.token")")"
check "parties lists keys" "3" "$(jbody '.parties | length')"
check "UI header: no Basic prompt" "" "$(req GET /v1/framework/inbox -H 'X-Comity-UI: 1' >/dev/null; hdr WWW-Authenticate)"

# the message catalogs: every key the code uses is in English (and in
# French and Arabic for the inbox, message and compose screens), the keys
# built from case data for every type, field and mechanism the node has
check "case types" 200 "$(req GET /v1/framework/case-types -H "Authorization: Token $(cat "$T/pk.mofa.token")")"
cp "$T/body" "$T/case-types.json"
(cd "$WEB" && node test/i18n-keys.mjs "$T/case-types.json") || bad "message catalogs (web/test/i18n-keys.mjs)"
(cd "$WEB" && node test/case-schemas.mjs "$T/case-types.json") || bad "case bodies checked in the browser (web/test/case-schemas.mjs)"

# a record the CLI seals for pk.mofa, to be opened in pk.mofa's browser
CLIMARK="cli-sealed-$RANDOM$RANDOM"
"$C" notify --url "$URL" --token "$(cat "$T/in.mea.token")" --key "$T/in.mea.key" \
  --keys "$T/peers.keys" --to pk.mofa --tlp amber --severity 3 --sector energy \
  --summary "$CLIMARK" >"$T/cli.out" 2>&1 || { cat "$T/cli.out"; bad "CLI notify"; }
CLIID=$(awk '{print $1}' "$T/cli.out")
# a contact in the directory, for the directory screen
"$C" directory set --url "$URL" --token "$(cat "$T/in.mea.token")" --key "$T/in.mea.key" \
  --kind diplomatic --org "Ministry of External Affairs" --channel email:cyber@mea.example \
  --tz Asia/Kolkata --lang en --lang hi >"$T/dir.out" 2>&1 || { cat "$T/dir.out"; bad "CLI directory set"; }

# pk.mofa keeps its key file protected by a passphrase (as age -p -a does)
PASS="correct horse $RANDOM$RANDOM"
(cd "$WEB" && node test/protect-key.mjs "$T/pk.mofa.key" "$T/pk.mofa.key.age" "$PASS") || bad "protect-key"
web_run ui 600 "$CLIID" "$CLIMARK" "$PASS"

# interop: what the browsers signed and sealed, checked by the CLI
REQ=$(jq -r .request "$T/ids.json" 2>/dev/null || true)
REPLY=$(jq -r .reply "$T/ids.json" 2>/dev/null || true)
MARK=$(jq -r .mark "$T/ids.json" 2>/dev/null || true)
if [ -n "$REQ" ] && [ "$REQ" != null ]; then
  "$C" record get --url "$URL" --token "$(cat "$T/in.mea.token")" "$REQ" --out "$T/req.json"
  "$C" record verify --vkey "$T/peers.keys" "$T/req.json" >"$T/req.payload" &&
    ok "browser request verifies with comity record verify" || bad "record verify"
  check "request is amber, body sealed" "amber false" "$(jq -r '"\(.tlp) \(has("body"))"' "$T/req.payload")"
  "$C" record open --key "$T/in.mea.key" --vkey "$T/peers.keys" "$T/req.json" >"$T/req.body" &&
    ok "recipient opens it with comity record open" || bad "record open"
  check "opened body" "$MARK" "$(jq -r .asked "$T/req.body")"
  if "$C" record open --key "$T/fr.anssi.key" "$T/req.json" >/dev/null 2>&1; then
    bad "a third party opened it"; else ok "a third party's key cannot open it"; fi
  "$C" record get --url "$URL" --token "$(cat "$T/pk.mofa.token")" "$REPLY" --out "$T/reply.json"
  "$C" record open --key "$T/pk.mofa.key" --vkey "$T/peers.keys" "$T/reply.json" >"$T/reply.body" &&
    ok "browser-sealed reply opens with the CLI" || bad "reply open"
  check "reply outcome" answered "$(jq -r .outcome "$T/reply.body")"
  check "third party cannot fetch it" 404 "$(req GET "/v1/records/$REQ" -H "Authorization: Token $(cat "$T/fr.anssi.token")")"
  # the notification the browser sent with STIX indicators from a file
  STIX=$(jq -r .stix "$T/ids.json"); IND=$(jq -r .indicator "$T/ids.json")
  "$C" record get --url "$URL" --token "$(cat "$T/in.mea.token")" "$STIX" --out "$T/stix.json"
  "$C" record open --key "$T/in.mea.key" --vkey "$T/peers.keys" "$T/stix.json" >"$T/stix.body" &&
    ok "browser notification with indicators opens with the CLI" || bad "stix open"
  check "its indicators are the bundle's, as --indicators attaches them" "bundle $IND" \
    "$(jq -r '"\(.indicators.type) \(.indicators.objects[0].id)"' "$T/stix.body")"
  # the consultation the browser opened, sealed to in and the author
  CONS=$(jq -r .consult "$T/ids.json")
  "$C" record get --url "$URL" --token "$(cat "$T/in.mea.token")" "$CONS" --out "$T/cons.json"
  "$C" record verify --vkey "$T/peers.keys" "$T/cons.json" >"$T/cons.payload" &&
    ok "browser consultation verifies with comity record verify" || bad "consult verify"
  check "consultation is amber, to in, about the request" "amber false in $REQ" \
    "$(jq -r '"\(.tlp) \(has("body")) \(.to | join(",")) \(.refs[0])"' "$T/cons.payload")"
  "$C" record open --key "$T/in.mea.key" --vkey "$T/peers.keys" "$T/cons.json" >"$T/cons.body" &&
    ok "the requested party opens it with comity record open" || bad "consult open"
  check "its opened body holds the subject, summary and format sent" ok \
    "$(jq -e '.subject and .summary and .format == "video"' "$T/cons.body" >/dev/null && echo ok)"
  if "$C" record open --key "$T/fr.anssi.key" "$T/cons.json" >/dev/null 2>&1; then
    bad "a third party opened the consultation"; else ok "a third party's key cannot open the consultation"; fi
  check "third party cannot fetch the case" 404 "$(req GET "/v1/framework/cases/$CONS" -H "Authorization: Token $(cat "$T/fr.anssi.token")")"
  check "the case is accepted (node)" accepted "$(req GET "/v1/framework/cases/$CONS" -H "Authorization: Token $(cat "$T/pk.mofa.token")" >/dev/null; jbody .state)"
  (cd "$WEB" && node test/receipt.mjs "$URL" "$(cat "$T/pk.mofa.token")" "$REQ") || bad "receipt.js (web/test/receipt.mjs)"
  check "request state after close" closed "$(req GET "/v1/framework/messages/$REQ" -H "Authorization: Token $(cat "$T/pk.mofa.token")" >/dev/null; jbody .state)"
else
  bad "the browser test recorded no request id"
fi
stop_node || bad "node stopped cleanly"
finish
