#!/usr/bin/env bash
# web_late_join.sh: the case screen (web/src/screens/case.js) for a party
# that joined a case late, in Debian's chromium (web/test/late-join.mjs),
# against a real node set up with the CLI: Pakistan's misuse case about
# NSO Group's Pegasus, sealed to the secretariat and France; Germany,
# which licensed Pegasus too, asks to join and is admitted; then Pakistan
# sends evidence, sealed to Germany as well.  Germany may not read the
# records sealed before it joined (the node answers 404): the screen shows
# each of them as sealed before you joined (type, author, time: what the
# case view says) and the later evidence opened, and offers the actions
# allowed.  Skips (77) only without chromium or web/node_modules.
source "$(dirname "$0")/web_lib.bash"
web_ready
web_build
D=$T/node
GAL="$COMITY_SHARED/data/galaxy/surveillance-vendor.json"
init_node "$D" late.web
cd "$T"
PARTIES="pk.mofa fr.sgdsn de.bafa un.unoda"
for p in $PARTIES; do
  "$C" keygen --party "$p" --out "$T/$p.key" >"$p.pub" 2>/dev/null
  cat "$p.pub" >>peers.keys
done
for p in $PARTIES; do
  read -r vk rc <"$p.pub"
  tok=$("$C" party add "$D" "$p" --vkey "$vk" --recipient "$rc" | sed -n 's/^token (shown once): //p')
  printf 'url = %s\ntoken = %s\nkey = %s/%s.key\nkeys = %s/peers.keys\n' "@URL@" "$tok" "$T" "$p" "$T" >"$p.conf.in"
  eval "TOK_${p//[.-]/_}=$tok"
done
web_built
serve "$D" --insecure-http --web "$T/web"
for p in $PARTIES; do sed "s|@URL@|$URL|" "$p.conf.in" >"$p.conf"; done
run() { local p=$1; shift; rc=0; "$C" "$@" --config "$T/$p.conf" >out 2>err || rc=$?; }

jq '{name, values: [.values[] | select(.value == "NSO group")]}' "$GAL" >nso.json
run un.unoda spyware import nso.json
run un.unoda spyware vendor find "NSO group"
NSO=$(head -1 out | cut -d' ' -f1)
LIC=(--vendor "$NSO" --product Pegasus --category wassenaar-4.A.5)
run fr.sgdsn spyware licence grant "${LIC[@]}" --destination ae --end-user "Gendarmerie Mobile Unit 7"
check "France grants a licence" 0 "$rc"
run pk.mofa spyware misuse notice --to fr --to de --vendor "$NSO" --product Pegasus --sector media \
  --target-kind journalist
NOTICE=$(cut -d' ' -f1 out)
run fr.sgdsn spyware misuse check --join
check "France asks to join the notice" 0 "$rc"
run pk.mofa spyware misuse open "$NOTICE" --to un.unoda --targets 3 --evidence sightings
check "Pakistan opens the misuse case, sealed" 0 "$rc"
CASE=$(cut -d' ' -f1 out)
run de.bafa spyware licence grant "${LIC[@]}" --destination sa --end-user "Federal Police"
run de.bafa spyware misuse check --join
run de.bafa spyware misuse join "$CASE" --to pk.mofa
check "Germany asks to join the open case" 0 "$rc"
JREQ=$(cut -d' ' -f1 out)
run pk.mofa spyware misuse admit "$CASE" "$JREQ"
check "Pakistan admits Germany" 0 "$rc"
run pk.mofa case send "$CASE" spyware-misuse-evidence --set evidence=forensic-report
check "a later record, sealed to Germany too" 0 "$rc"
st=$(req GET "/v1/records/$CASE" -H "Authorization: Token $TOK_de_bafa")
check "the opening, sealed before Germany joined, is 404 to it" 404 "$st"
web_run late-join 180 "$CASE"
stop_node
finish
