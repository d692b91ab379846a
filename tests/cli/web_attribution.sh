#!/usr/bin/env bash
# web_attribution.sh: story 2 of USERS.md in the web UI as far as the UI
# goes (web/test/attribution.mjs, Debian's chromium driven by
# playwright-core), against a real node, with the CLI doing what the UI
# does not (evidence carrying STIX objects, the panel):
#
#   fr.anssi's browser opens a sealed attribution case about two incidents,
#     adds evidence, rates de.bsi's (added by the CLI with the C2 in STIX),
#     and claims "incident -> Sandworm, likely / 70" on both items;
#   ru.mid's browser replies beside the claim (deny);
#   the panel of three is agreed (CLI), jp.nisc's browser votes;
#   fr.anssi's browser opens the graph: the C2 is shared with br.gsi's
#     green report (its /24), looked up in the node's index;
#   br.gsi's browser, no party, is refused the case and learns nothing.
# axe-core on every screen, screenshots, and no secret key nor sealed
# plaintext leaves a browser (harness.mjs).  Skips (77) without chromium
# or web/node_modules.
source "$(dirname "$0")/web_lib.bash"
web_ready
web_build
D=$T/node
init_node "$D" web.attr
cd "$T"
PARTIES="fr.anssi ru.mid de.bsi ch.ncsc no.nsm jp.nisc br.gsi"
for p in $PARTIES; do
  "$C" keygen --party "$p" --out "$T/$p.key" >"$T/$p.pub" 2>/dev/null
  cat "$T/$p.pub" >>"$T/peers.keys"
  read -r vk rc <"$T/$p.pub"
  "$C" party add "$D" "$p" --vkey "$vk" --recipient "$rc" | sed -n 's/^token (shown once): //p' >"$T/$p.token"
done
web_built
serve "$D" --insecure-http --web "$T/web"
for p in $PARTIES; do
  printf 'url = %s\ntoken = %s\nkey = %s/%s.key\nkeys = %s/peers.keys\n' "$URL" "$(cat "$T/$p.token")" "$T" "$p" "$T" >"$T/$p.conf"
done
run() { # run PARTY ARGS...: comity ARGS with that party's config
  local p=$1; shift
  rc=0; "$C" "$@" --config "$T/$p.conf" >"$T/out" 2>"$T/err" || rc=$?
}
ind() { # ind FILE PATTERN: a bundle of one indicator
  jq -nc --arg p "$2" '{type:"bundle",id:"bundle--0e3c3c9a-5a0e-4c36-9d0a-2f4e8c1b7a10",objects:[{type:"indicator",
    spec_version:"2.1",id:"indicator--7d5f0b8e-2c1a-4f3e-8b6d-9a0c1e2f3a4b",created:"2026-12-01T10:00:00.000Z",
    modified:"2026-12-01T10:00:00.000Z",pattern:$p,pattern_type:"stix",valid_from:"2026-12-01T10:00:00Z"}]}' >"$1"
}
for p in fr.anssi de.bsi; do
  run $p notify --to ru --severity 4 --sector energy --summary "grid attack seen by $p"
  check "$p reports its incident" 0 "$rc"
  cut -d' ' -f1 "$T/out" >"$T/incident.$p"
done
ind "$T/range.json" "[ipv4-addr:value = '203.0.113.0/24']"
run br.gsi notify --to jp --tlp green --severity 3 --sector energy --summary 'scanning from a /24' --indicators "$T/range.json"
check "br.gsi reports the C2's /24 in green (another state's report)" 0 "$rc"
cut -d' ' -f1 "$T/out" >"$T/report.br"
ind "$T/c2.json" "[ipv4-addr:value = '203.0.113.77']"
# the browser's half (attribution.mjs) calls back into this file's helper
# through these: the comity binary and the parties' configs
export ATTR_COMITY=$C ATTR_DIR=$T
web_run attribution 300 # about 60 s on a quiet machine
finish
