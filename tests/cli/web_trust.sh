#!/usr/bin/env bash
# web_trust.sh: what the browser checks itself rather than trust the node
# (docs/ui.md, "Receipts and witnesses", "Pinned keys").  Two witnesses
# cosign the node's checkpoint (c2sp.org/tlog-witness, through `comity
# witness add-checkpoint` and `comity log cosigned`, as node_witness.sh has
# a witness cosign); the node's witness policy wants both.  Then:
#  - GET /v1/node serves the policy (witness_policy) as the operator wrote it;
#  - web/test/receipt.mjs: receipt.js verifies each cosignature of a real
#    receipt under the policy (quorum met, both named), refuses a tampered
#    cosignature and one with another time, finds a quorum that also asks
#    for a third witness not met, and refuses malformed policies;
#  - web/test/trust.mjs in Debian's chromium: the record screen shows the
#    quorum met with both witnesses, then not met when the operator's
#    policy asks for a witness nobody runs; and the parties' keys pinned on
#    first sight: a key the node changes is announced on every screen,
#    nothing is sealed to it until accepted.
source "$(dirname "$0")/web_lib.bash"
web_ready
web_build
D=$T/node
init_node "$D" web.test
NVKEY=$(sed -n 's/^node key (signs its log): //p' "$T/init.out")
for p in pk.mofa in.mea; do
  "$C" keygen --party "$p" --out "$T/$p.key" >"$T/$p.pub" 2>/dev/null
  read -r vk rc <"$T/$p.pub"
  "$C" party add "$D" "$p" --vkey "$vk" --recipient "$rc" | sed -n 's/^token (shown once): //p' >"$T/$p.token"
done
# another key for in.mea, which a node under someone else's control could give
"$C" keygen --party in.mea --out "$T/in.mea.other.key" >"$T/in.mea.other.pub" 2>/dev/null
for w in w1 w2 w3; do
  "$C" witness init --name "$w.example" --key "$T/$w.key" "$T/$w" >"$T/$w.vkey" 2>/dev/null
  "$C" witness add-log "$T/$w" "$NVKEY" >/dev/null
done
# a policy that also wants w3 (which cosigns nothing): the browser installs it
printf 'witness w1.example %s\nwitness w2.example %s\nwitness w3.example %s\ngroup every all w1.example w2.example w3.example\nquorum every\n' \
  "$(cat "$T/w1.vkey")" "$(cat "$T/w2.vkey")" "$(cat "$T/w3.vkey")" >"$T/policy3"
serve "$D" --insecure-http
echo '{"severity":2,"sector":"energy","summary":"witnessed"}' |
  "$C" record sign --key "$T/in.mea.key" --type notification --tlp green --to pk >"$T/n.json" 2>/dev/null
"$C" record post --url "$URL" --token "$(cat "$T/in.mea.token")" "$T/n.json" >"$T/n.post" || bad "post the notification"
ID=$(jq -r .payload "$T/n.json" | base64 -d | jq -r .id)
for _ in $(seq 50); do
  [ "$(req GET "/v1/records/$ID/receipt" -H "Authorization: Token $(cat "$T/in.mea.token")")" = 200 ] && break
  sleep 0.2
done
stop_node || bad "node stopped"

# both witnesses cosign the node's checkpoint, which keeps their lines
"$C" log request "$D/log" --old 0 >"$T/req"
for w in w1 w2; do
  "$C" witness add-checkpoint "$T/$w" --key "$T/$w.key" "$T/req" >"$T/$w.cosig" 2>/dev/null || bad "$w cosigns"
done
cat "$T/w1.cosig" "$T/w2.cosig" >"$T/cosigs"
"$C" log cosigned "$D/log" --key "$D/node.key" --witness "$(cat "$T/w1.vkey")" \
  --witness "$(cat "$T/w2.vkey")" "$T/cosigs" >/dev/null || bad "log cosigned"
printf 'witness w1.example %s\nwitness w2.example %s\ngroup both all w1.example w2.example\nquorum both\n' \
  "$(cat "$T/w1.vkey")" "$(cat "$T/w2.vkey")" >"$T/policy"
"$C" peer witnesses "$D" "$T/policy" >/dev/null || bad "peer witnesses"

web_built
serve "$D" --insecure-http --web "$T/web"
check "GET /v1/node serves the witness policy" "$(cat "$T/policy")" \
  "$(req GET /v1/node >/dev/null; jq -j .witness_policy "$T/body")"
check "the checkpoint keeps both cosignatures" 2 "$(jq -r .checkpoint "$T/body" | grep -c '^— w[12]\.example ')"
(cd "$WEB" && node test/receipt.mjs "$URL" "$(cat "$T/pk.mofa.token")" "$ID" w1.example,w2.example) ||
  bad "receipt.js under the witness policy (web/test/receipt.mjs)"
web_run trust 240 "$ID" "$C" "$D"
stop_node || bad "node stopped cleanly"
finish
