#!/usr/bin/env bash
# web_spyware.sh: the spyware registry's screens (web/src/screens/spyware.js)
# in Debian's chromium (web/test/spyware.mjs), against a real node set up
# with the CLI: a few vendors of the MISP galaxy imported as signed
# records (NSO Group, whose synonym is Q-Cyber), the US Entity List's
# listing of NSO Group, Germany's denial published in clear, France's
# grant sealed to itself, and Pakistan's misuse case about Pegasus, sealed
# to the secretariat and France (which asked to join its notice).
#
# The browser: the registry found by any name ("q cyber" finds NSO Group),
# the vendor's page (products, listings, the public licences, France's
# sealed licence opened in France's browser although 1,000 other licences
# came before it, past the first page of the node's listing, France's
# misuse case), the misuse case view, the transparency report (its
# figures equal to the node's); Italy, a non-party, is refused the case
# and sees neither the sealed licence nor the case; axe finds nothing;
# nothing secret (keys, the sealed licence's end user) leaves a browser.
# Skips (77) only without chromium or web/node_modules
# (scripts/install-deps).
source "$(dirname "$0")/web_lib.bash"
web_ready
web_build
D=$T/node
GAL="$COMITY_SHARED/data/galaxy/surveillance-vendor.json"
init_node "$D" spy.web
cd "$T"
PARTIES="pk.mofa fr.sgdsn it.uama us.bis un.unoda de.bafa"
for p in $PARTIES; do
  "$C" keygen --party "$p" --out "$T/$p.key" >"$p.pub" 2>/dev/null
  cat "$p.pub" >>peers.keys
done
for p in $PARTIES; do
  read -r vk rc <"$p.pub"
  tok=$("$C" party add "$D" "$p" --vkey "$vk" --recipient "$rc" | sed -n 's/^token (shown once): //p')
  printf 'url = %s\ntoken = %s\nkey = %s/%s.key\nkeys = %s/peers.keys\n' "@URL@" "$tok" "$T" "$p" "$T" >"$p.conf.in"
done
web_built
serve "$D" --insecure-http --web "$T/web"
for p in $PARTIES; do sed "s|@URL@|$URL|" "$p.conf.in" >"$p.conf"; done
run() { local p=$1; shift; rc=0; "$C" "$@" --config "$T/$p.conf" >out 2>err || rc=$?; }

jq '{name, values: [.values[] | select(.value | test("^(NSO group|Candiru|Circles)$"))]}' "$GAL" >few.json
run un.unoda spyware import few.json
check "three vendors of the galaxy imported" 0 "$rc"
run us.bis spyware vendor find "q cyber"
NSO=$(head -1 out | cut -d' ' -f1)
run us.bis spyware listing --listed-by us --regime us-entity-list --entity "NSO Group" --vendor "$NSO" \
  --legal-basis "15 CFR 744.11" --reason "spyware used against journalists" --date 2021-11-03T00:00:00Z
check "the US lists NSO Group" 0 "$rc"
LIC=(--vendor "$NSO" --product Pegasus --category wassenaar-4.A.5)
run de.bafa spyware licence deny "${LIC[@]}" --destination sa --end-user "Presidency Guard" \
  --reason "human-rights risk" --tlp clear --to fr
check "Germany publishes a denial" 0 "$rc"
# more licences than one page of the node's listing (1,000) before
# France's, so that the vendor's page must read past the first page to
# find the licence sealed to France: 1,000 clear denials about Candiru
DENIAL=$(cut -d' ' -f1 out)
"$C" record get --config "$T/de.bafa.conf" "$DENIAL" --out denial.json
run us.bis spyware vendor find candiru
CANDIRU=$(head -1 out | cut -d' ' -f1)
(cd "$WEB" && node test/post-clear.mjs "$URL" "$(sed -n 's/^token = //p' "$T/de.bafa.conf")" \
  "$T/de.bafa.key" "$T/denial.json" 1000 "{\"vendor\":\"$CANDIRU\"}") >fill.out 2>&1 && rc=0 || rc=$?
check "1,000 more clear licences (Candiru) posted before France's" "0 1000 records posted" "$rc $(tail -1 fill.out)"
YEAR=$(date -u +%Y)
run fr.sgdsn spyware licence grant "${LIC[@]}" --destination ae --end-user "Gendarmerie Mobile Unit 7"
check "France grants a licence, sealed to itself" 0 "$rc"
run pk.mofa spyware misuse notice --to fr --to it --vendor "$NSO" --product Pegasus --sector media \
  --target-kind journalist
NOTICE=$(cut -d' ' -f1 out)
run fr.sgdsn spyware misuse check --join
check "France's client matches the notice and asks to join" 0 "$rc"
run pk.mofa spyware misuse open "$NOTICE" --to un.unoda --targets 3 --evidence sightings
check "Pakistan opens the misuse case, sealed" 0 "$rc"
CASE=$(cut -d' ' -f1 out)
web_run spyware 300 "$NSO" "$CASE" "$YEAR"
stop_node
finish
