#!/usr/bin/env bash
# web_norms.sh: the norms screens of the web UI (issue 19, point 7;
# web/src/screens/norms.js) in Debian's chromium (web/test/norms.mjs),
# against a real node whose records the CLI made:
#
#   the secretariat records the catalogue; Pakistan declares what it
#   protects in public and, sealed to the participating states (pk, in), a
#   substation whose name must never leave a browser; Pakistan and India
#   file implementation reports for 2026-H1; Pakistan's offices draft a
#   position (sealed to its offices), its state key delegates publishing to
#   the foreign ministry, which publishes; India publishes its own.
#
# The browsers then check each screen (axe, screenshots, a phone-sized
# one), that India opens the sealed declaration in its browser, that
# Pakistan's offices read their drafts there, and that France (no party to
# either) sees neither and is refused the sealed records.  Skips (77) only
# when chromium cannot start or web/node_modules is missing.
source "$(dirname "$0")/web_lib.bash"
web_ready
web_build

D=$T/node
init_node "$D" web.norms
cd "$T"
MARK="Substation-Kappa-$RANDOM$RANDOM"   # the sealed declaration's service
DMARK="draft-text-$RANDOM$RANDOM"        # the sealed draft's text
PARTIES="un.unoda pk.mofa pk.moitt in.mea fr.anssi pk in"
for p in $PARTIES; do
  "$C" keygen --party "$p" --out "$T/$p.key" >/dev/null 2>&1
  # the state keys (offline) stay out of the keys offices seal with
  case $p in *.*) "$C" key show "$T/$p.key" >>"$T/peers.keys" ;; esac
done
web_built
serve "$D" --insecure-http --web "$T/web"
for p in $PARTIES; do
  tok=$("$C" party add "$D" "$p" --vkey "$("$C" key show "$T/$p.key" | cut -d' ' -f1)" \
    --recipient "$("$C" key show "$T/$p.key" | cut -d' ' -f2)" | sed -n 's/^token (shown once): //p')
  printf 'url = %s\ntoken = %s\nkey = %s/%s.key\nkeys = %s/peers.keys\n' "$URL" "$tok" "$T" "$p" "$T" >"$T/$p.conf"
done
run() { # run PARTY ARGS...: comity ARGS with that party's config
  local p=$1; shift
  rc=0; "$C" "$@" --config "$T/$p.conf" >"$T/out" 2>"$T/err" || rc=$?
  [ "$rc" = 0 ] || bad "comity $* as $p: $(cat "$T/err")"
}
run un.unoda norm catalogue seed
run pk.mofa norm declare --set valid_from=2026-01-01T00:00:00Z --set 'sectors=["energy","water"]' \
  --set 'certs=["pk.mofa"]' --set cert_status=protected-13k
run pk.mofa norm declare --tlp amber --to pk --to in --set valid_from=2026-01-01T00:00:00Z \
  --set "services=[\"energy/$MARK\"]"
SEALED=$(cut -d' ' -f1 "$T/out")
run pk.mofa norm report --set period=2026-H1 --set norm=13k --set 'done=PKCERT given a legal mandate' \
  --set 'laws=["Prevention of Electronic Crimes Act"]' --set 'needs=["forensics","legislation"]'
run in.mea norm report --set period=2026-H1 --set norm=13k --set 'done=CERT-In protected by statute' \
  --set 'offers=["legislation"]'
run in.mea norm report --set period=2026-H1 --set norm=13f --set 'done=a CERT for the power sector' \
  --set 'offers=["forensics"]'
run pk.mofa norm position draft --tlp amber --set topic=sovereignty --set "text=$DMARK"
DRAFT=$(cut -d' ' -f1 "$T/out")
run pk norm position delegate pk.mofa
run pk.mofa norm position publish --set topic=sovereignty \
  --set 'text=Sovereignty is a rule of international law in its own right.' --supersedes "$DRAFT"
run in norm position delegate in.mea
run in.mea norm position publish --set topic=sovereignty --set 'text=Sovereignty is a principle.'
printf '{"sealed":"%s","draft":"%s","mark":"%s","dmark":"%s"}\n' "$SEALED" "$DRAFT" "$MARK" "$DMARK" >"$T/norms.json"
echo "# node and records ready [${SECONDS}s]"

web_run norms 300
stop_node || bad "node stopped cleanly"
echo "# took ${SECONDS}s"
finish
