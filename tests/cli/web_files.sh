#!/usr/bin/env bash
# web_files.sh: evidence files in the web UI (issue 16, point 4: "the web
# UI uploads and fetches"), in Debian's chromium driven by playwright-core
# (web/test/files.mjs), against a real node, interoperating with the CLI:
#
#   in.mea (CLI) asks pk.mofa for mutual legal assistance (a sealed case);
#   pk.mofa's browser answers in part with a 3 MiB file sealed there (with
#     progress), which `comity case fetch` gets and opens with in.mea's key,
#     byte for byte; the node never held its plaintext;
#   pk.mofa's CLI (`comity case upload`) sends a 2 MiB file, which in.mea's
#     browser fetches, checks and opens, byte for byte (the download);
#   fr.anssi's browser sees no case and no file link, and its fetch of the
#     file is answered exactly as one of a hash the node does not hold;
#   the case closes, retention (3 s here) destroys the files, and in.mea's
#     browser says "Destroyed on DATE by retention", not an error.
#
# Skips (77) only when chromium cannot start or the npm packages are not
# installed (scripts/install-deps installs both).
source "$(dirname "$0")/web_lib.bash"
SHOTS=$BUILD/web-screenshots-files # apart from web_ui.sh's, which may run at once
web_ready
# the UI built from this source tree, while the node is set up
web_build

D=$T/node
init_node "$D" web.test
cd "$T"
# the node's custodian, whose retention job destroys a closed MLA case's
# files 3 s after it closes
printf 'retention.mla = 3s\nretention.author = un.hub\nretention.every = 1s\n' >"$D/node.conf"
for p in pk.mofa in.mea fr.anssi un.hub; do
  kf=$T/$p.key; [ "$p" = un.hub ] && kf=$D/retention.key
  "$C" keygen --party "$p" --out "$kf" >"$T/$p.pub" 2>/dev/null
  cat "$T/$p.pub" >>"$T/peers.keys"
  read -r vk rc <"$T/$p.pub"
  "$C" party add "$D" "$p" --vkey "$vk" --recipient "$rc" |
    sed -n 's/^token (shown once): //p' >"$T/$p.token"
done
web_built
serve "$D" --insecure-http --web "$T/web"
for p in pk.mofa in.mea; do
  printf 'url = %s\ntoken = %s\nkey = %s/%s.key\nkeys = %s/peers.keys\n' "$URL" "$(cat "$T/$p.token")" "$T" "$p" "$T" >"$T/$p.conf"
done
run() { # run PARTY ARGS...: comity ARGS with that party's config; out/err in files
  local p=$1; shift
  rc=0; "$C" "$@" --config "$T/$p.conf" >"$T/out" 2>"$T/err" || rc=$?
}

check "the node publishes its cap on a file" 4294967296 "$(req GET /v1/node >/dev/null; jbody .max_file)"
run in.mea case open mla-request --to pk.mofa --tlp amber --set requesting_authority='CBI, New Delhi' \
  --set subject='intrusion into a power grid operator' --set facts='wiper malware on 2 Dec' \
  --set assistance='server logs' --set purpose='prosecution'
check "in.mea opens a sealed MLA request (CLI)" 0 "$rc"
CASE=$(cut -d' ' -f1 "$T/out")
# the files: random bytes after a marker that must never leave a browser
MARK="plaintext-of-the-evidence-$RANDOM$RANDOM"
{ echo "$MARK"; head -c $((3 << 20)) /dev/urandom; } >"$T/browser.bin"
{ echo "cli-evidence"; head -c $((2 << 20)) /dev/urandom; } >"$T/cli.bin"
printf '{"case":"%s","mark":"%s"}\n' "$CASE" "$MARK" >"$T/case.json"

# the browsers; between their two halves (files.mjs waits for
# $T/cli.done), the CLI fetches the browser's file and uploads its own
echo "# node, parties and case ready [${SECONDS}s]"
rm -rf "$SHOTS"; mkdir -p "$SHOTS"
(cd "$WEB" && timeout 150 node test/files.mjs "$URL" "$T" "$SHOTS") >"$T/ui.out" 2>&1 &
UI=$!
for _ in $(seq 600); do [ -s "$T/browser.sha" ] || ! kill -0 $UI 2>/dev/null && break; sleep 0.2; done
H=$(cat "$T/browser.sha" 2>/dev/null || true)
if [ -n "$H" ]; then
  run in.mea case fetch "$H" --out "$T/got-browser.bin"
  check "comity case fetch gets the browser's file and opens it with in.mea's key" 0 "$rc"
  cmp -s "$T/got-browser.bin" "$T/browser.bin" && ok "... byte for byte" || bad "the CLI's copy of the browser's file differs"
  run in.mea case fetch "$H" --out "$T/got-browser.age" --sealed
  check "... the age file hashes to the SHA-256 the browser listed" "$H" "$(sha256sum "$T/got-browser.age" | cut -d' ' -f1)"
  if grep -qa "$MARK" "$T/got-browser.age" || grep -rqa "$MARK" "$D/files"; then
    bad "the node holds the plaintext"; else ok "the node holds only the sealed file"; fi
  age -d -i "$T/fr.anssi.key" "$T/got-browser.age" >/dev/null 2>&1 &&
    bad "a non-party's key opens the browser's file" || ok "a non-party's key does not open it (age -d)"
  run pk.mofa case upload "$CASE" mla-partial "$T/cli.bin" --name cli.bin --set text='the remaining logs'
  check "pk.mofa's CLI uploads a file to the case" 0 "$rc"
  read -r H2 _ _ < <(tail -1 "$T/out")
  echo "$H2" >"$T/cli.sha"
else
  bad "the browser uploaded nothing"
fi
touch "$T/cli.done"
# the browsers check the CLI's file, then wait for $T/closed
for _ in $(seq 600); do [ -e "$T/ui.fetched" ] || ! kill -0 $UI 2>/dev/null && break; sleep 0.2; done
run pk.mofa case send "$CASE" mla-answer --set text='all we hold was sent'
check "pk.mofa answers: the case closes" 0 "$rc"
for _ in $(seq 100); do
  [ "$(req GET "/v1/files/$H" -H "Authorization: Token $(cat "$T/in.mea.token")")" = 410 ] && break; sleep 0.2
done
check "retention destroyed the browser's file (410 to a party)" 410 "$(req GET "/v1/files/$H" -H "Authorization: Token $(cat "$T/in.mea.token")")"
check "... the answer says when and that retention did" "true" "$(jq -r '(.destroyed | test("^20")) and .by_retention' "$T/body")"
touch "$T/closed"
urc=0; wait $UI || urc=$?
cat "$T/ui.out"
[ "$urc" = 0 ] || bad "browser test (web/test/files.mjs) exit $urc"
if [ -s "$T/got-cli.bin" ]; then
  cmp -s "$T/got-cli.bin" "$T/cli.bin" && ok "the browser's download of the CLI's file is byte for byte the file" ||
    bad "the browser's copy of the CLI's file differs"
else
  bad "the browser saved no copy of the CLI's file"
fi
stop_node || bad "node stopped cleanly"
echo "# took ${SECONDS}s"
finish
