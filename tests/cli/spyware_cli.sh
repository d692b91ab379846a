#!/usr/bin/env bash
# spyware_cli.sh: `comity spyware` against a real node: story 1 of USERS.md
# (docs/spyware.md).  The secretariat imports the MISP galaxy's 615 vendors
# as signed records and a state corrects one (its author and history
# shown); the United States records its Entity List listings of NSO Group,
# Candiru, Intellexa and Cytrox; France licenses Pegasus, Germany denies it
# to an end user (sealed to the participating states) and Italy, about to
# license it to that end user, is stopped by the denial it opens (no
# undercut) while a state outside the denial's recipients is not told.
# Italy licenses it to another end user.
# Pakistan's CERT sweeps DNS logs with the Amnesty Pegasus bundle and
# posts the sightings (amber); Pakistan's foreign ministry sends a misuse
# notice to the participating states, France's client matches it against
# its licence and asks to join (Italy's too), the misuse case naming NSO
# Group's Pegasus opens to the secretariat, France and Italy: they see it,
# Germany (a recipient of the notice that licensed nothing) and the US
# (which licensed it but was not sent the notice) do not.
# The diplomat asks the state hosting the C2 for mitigation (norm 13(c)),
# whose CERT acknowledges and replies.  Last, the standing rule: sealed
# records (the denial, the grant, the notice, the case, the sightings and
# a case file) are unreadable to non-parties, anonymous clients and the
# operator through /v1/records, TAXII, /v1/framework queries and /v1/files.
source "$(dirname "$0")/node_lib.bash"
C=$COMITY_BIN
D="$T/node"
GAL="$COMITY_SHARED/data/galaxy/surveillance-vendor.json"
PEG="$COMITY_SHARED/data/ioc/amnesty/pegasus.stix2"
cd "$T"
init_node "$D" hub.example/node
PARTIES="pk.pkcert pk.mofa fr.sgdsn fr.cnctr de.bafa it.uama us.bis un.unoda nl.ncsc"
for p in $PARTIES; do
  "$C" keygen --party "$p" --out "$p.key" >/dev/null 2>&1
  "$C" key show "$p.key" >>peers.keys
done
serve "$D" --insecure-http
mkdir -p conf
for p in $PARTIES; do
  tok=$("$C" party add "$D" "$p" --vkey "$("$C" key show "$p.key" | cut -d' ' -f1)" \
    --recipient "$("$C" key show "$p.key" | cut -d' ' -f2)" | sed -n 's/^token (shown once): //p')
  cp "$p.key" conf/
  printf 'url = %s\ntoken = %s\nkey = %s.key\nkeys = ../peers.keys\n' "$URL" "$tok" "$p" >"conf/$p.conf"
  eval "TOK_${p//[.-]/_}=$tok"
done
run() { # run PARTY ARGS...: comity ARGS with that party's config; out/err in files
  local p=$1; shift
  rc=0; "$C" "$@" --config "conf/$p.conf" >out 2>err || rc=$?
}

rc=0; "$C" help spyware >out 2>&1 || rc=$?
check "comity help spyware" 0 "$rc"
grep -q 'comity spyware licence grant|deny' out && ok "... shows the usage" || bad "help: $(head -2 out)"

# ---- vendors: the galaxy imported as signed records, a correction ------------------
run un.unoda spyware import "$GAL"
check "the secretariat imports the galaxy" 0 "$rc"
grep -q 'imported 615 vendors' out && ok "... 615 vendors signed by un.unoda" || bad "import: $(cat out err)"
jq '{name, values: .values[0:2]}' "$GAL" >two.json
run fr.sgdsn spyware import two.json
grep -q 'imported 0 vendors.*(2 already' out && ok "importing them again doubles nothing" || bad "re-import: $(cat out err)"
run it.uama spyware vendor find "q cyber"
check "'q cyber' is found" 0 "$rc"
grep -q 'NSO group' out && ok "... NSO Group, through its synonym Q-Cyber" || bad "find: $(cat out)"
NSO=$(head -1 out | cut -d' ' -f1)
run it.uama spyware vendor find circles
check "a name two vendors bear lists both" 2 "$(grep -c '^spyware-vendor--' out)"
run it.uama spyware vendor find "no such vendor anywhere"
check "an unknown name: exit 1" 1 "$rc"
# every name and synonym of the galaxy resolves through the node (a sample of 40)
miss=0
jq -r '.values[] | .uuid as $u | ([.value] + (.meta.synonyms // []))[] | [$u, .] | @tsv' "$GAL" |
  awk 'NR % 17 == 1' | head -40 >names.tsv
while IFS=$'\t' read -r uuid name; do
  req GET "/v1/framework/spyware/vendors?name=$(jq -rn --arg n "$name" '$n|@uri')" \
    -H "Authorization: Token $TOK_it_uama" >/dev/null
  jq -e --arg u "$uuid" '[.vendors[].source_uuid] | index($u) != null' "$T/body" >/dev/null || miss=$((miss + 1))
done <names.tsv
check "names and synonyms looked up through /v1/framework/spyware/vendors find their vendor" 0 "$miss"
run fr.sgdsn spyware vendor correct "$NSO" --set 'products=["Pegasus"]'
check "a correction without a reason: exit 2" 2 "$rc"
run fr.sgdsn spyware vendor correct "$NSO" --reason "the product is named Pegasus" --set 'products=["Pegasus"]'
check "France corrects the vendor's product" 0 "$rc"
run it.uama spyware vendor show "$NSO"
grep -q 'version 2 by fr.sgdsn' out && ok "... the vendor shows its new version and its author" || bad "show: $(cat out)"
grep -q 'v1 .* by un.unoda' out && grep -q 'v2 .* by fr.sgdsn.*: the product is named Pegasus' out &&
  ok "... and its history with each author and the reason" || bad "history: $(cat out)"

# ---- listings: the US Entity List entries --------------------------------------------------
run us.bis spyware listing --listed-by us --regime us-entity-list --entity "NSO Group" --vendor "$NSO" \
  --legal-basis "EAR 15 CFR 744.11" --reason "spyware used against officials, journalists and activists" \
  --date 2021-11-03T00:00:00Z
check "the US lists NSO Group (3 Nov 2021)" 0 "$rc"
L_NSO=$(cut -d' ' -f1 out)
for e in "Candiru|candiru|2021-11-03|transnational repression" \
         "Intellexa S.A.|intellexa|2023-07-18|trafficking in cyber exploits" \
         "Cytrox AD|cytrox|2023-07-18|trafficking in cyber exploits"; do
  IFS='|' read -r ent v d why <<<"$e"
  run us.bis spyware listing --listed-by us --regime us-entity-list --entity "$ent" --vendor "$v" \
    --legal-basis "EAR 15 CFR 744.11" --reason "$why" --date "${d}T00:00:00Z"
  check "the US lists $ent ($d)" 0 "$rc"
done
run fr.sgdsn spyware listing --listed-by us --regime us-entity-list --entity "X" \
  --legal-basis b --reason r --date 2021-11-03T00:00:00Z
check "France may not record a US listing (exit 1)" 1 "$rc"
grep -q 'only an office of us' err && ok "... the node names the rule" || bad "said: $(cat err)"
run it.uama spyware vendor show "$NSO"
grep -q "LISTED by us (us-entity-list) on 2021-11-03T00:00:00Z: NSO Group.*$L_NSO" out &&
  ok "the vendor's page shows its listing" || bad "show: $(cat out)"

# ---- licences, denials, no undercut --------------------------------------------------------
LIC=(--vendor "NSO Group" --product Pegasus --category wassenaar-4.A.5 --destination ae)
run fr.sgdsn spyware licence grant "${LIC[@]}" --end-user Police --date 2026-01-05T00:00:00Z
check "France grants a licence, sealed to itself" 0 "$rc"
GRANT=$(cut -d' ' -f1 out)
run de.bafa spyware licence deny "${LIC[@]}" --end-user "Interior Ministry" --date 2026-02-01T00:00:00Z \
  --reason "risk of internal repression" --to fr --to it --to de
check "Germany denies it to the Interior Ministry, sealed to the participating states" 0 "$rc"
DENY=$(cut -d' ' -f1 out)
run de.bafa spyware licence deny "${LIC[@]}" --end-user "Interior Ministry"
check "a denial without --to: exit 2" 2 "$rc"
run it.uama spyware licence grant --vendor "q-cyber" --product PEGASUS --category wassenaar-4.A.5 \
  --destination ae --end-user "interior ministry"
check "Italy's grant to the same end user is stopped (exit 1)" 1 "$rc"
grep -q "WARNING: de denied Pegasus to Interior Ministry" err && grep -q 'reason: risk of internal repression' err &&
  ok "... told of Germany's denial and its reasons (opened by Italy's client)" || bad "said: $(cat err)"
grep -q "$DENY" err && ok "... naming the denial record" || bad "said: $(cat err)"
run it.uama spyware licence grant "${LIC[@]}" --end-user "Coast Guard"
check "Italy licenses another end user without warning" 0 "$rc"
[ -s err ] && grep -q WARNING err && bad "warned: $(cat err)" || ok "... no warning"
run us.bis spyware licence grant "${LIC[@]}" --end-user "Interior Ministry"
check "a state the denial was not sealed to is not told (it cannot open it)" 0 "$rc"

# ---- story 1: sweep, sightings, notice, join, case -------------------------------------------
{ for i in $(seq 1 200); do echo "2026-11-0${i: -1}T10:00:00Z client 10.1.1.$i query www.example.org A"; done
  echo "2026-11-03T10:00:01Z client 10.1.1.7 query 1minto-start.com A"
  echo "2026-11-05T11:00:01Z client 10.1.1.9 query cdn.123tramites.com A"; } >dns.log
rc=0; "$C" sweep -q --iocs "$PEG" --format stix dns.log >sightings.json || rc=$?
check "the CERT's sweep finds Pegasus domains in the DNS log (exit 1)" 1 "$rc"
check "... two sightings in the STIX bundle" 2 "$(jq '[.objects[] | select(.type=="sighting")] | length' sightings.json)"
rc=0
"$C" record sign --key pk.pkcert.key --type sighting --tlp amber --to pk.mofa --to un.unoda \
  --keys peers.keys --body sightings.json >sight.env 2>err || rc=$?
"$C" record post --url "$URL" --token "$TOK_pk_pkcert" sight.env >out 2>>err || rc=$?
check "the sightings are posted, amber" 0 "$rc"
SIGHT=$(jq -r .id out 2>/dev/null || cut -d' ' -f1 out)
[ -n "$SIGHT" ] && [ "$SIGHT" != null ] || SIGHT=$(grep -o 'sighting--[0-9a-f-]*' out | head -1)
run pk.mofa spyware misuse notice --to fr --to it --to de --vendor "NSO Group" --product Pegasus \
  --sector media --target-kind journalist
check "Pakistan notifies the participating states of a coming misuse case" 0 "$rc"
NOTICE=$(cut -d' ' -f1 out)
run pk.mofa spyware misuse notice --to fr --vendor "NSO Group" --sector media --target-kind pianist
check "a kind of target outside the vocabulary: exit 2" 2 "$rc"
run de.bafa spyware misuse check
check "Germany's client (it denied, never granted): nothing to match" 0 "$rc"
grep -q 'no misuse notice names a product de licensed' out && ok "... says so" || bad "check: $(cat out)"
run fr.sgdsn spyware misuse check
grep -F "notice $NOTICE from pk.mofa: $NSO Pegasus (media, journalist); your state licensed it" out >/dev/null &&
  ok "France's client matches the notice against its licence" || bad "check: want $NOTICE $NSO: $(cat out err)"
run fr.sgdsn spyware misuse check --join
check "... and asks to join" 0 "$rc"
run fr.sgdsn spyware misuse check
grep -q 'joined' out && ok "... once" || bad "check: $(cat out)"
run it.uama spyware misuse check --join
check "Italy, which licensed it to the Coast Guard, asks to join too" 0 "$rc"
run us.bis spyware misuse check
grep -q 'no misuse notice' out && ok "the US (a licensing state the notice was not sent to) matches nothing" || bad "us: $(cat out)"
run pk.mofa spyware misuse open "$NOTICE" --to un.unoda --ref "$SIGHT" --targets 3 --evidence sightings \
  --first-seen 2026-11-03T10:00:01Z --last-seen 2026-11-05T11:00:01Z
check "Pakistan opens the misuse case naming NSO Group's Pegasus" 0 "$rc"
grep -q 'fr.sgdsn asked to join' err && grep -q 'it.uama asked to join' err &&
  ok "... to France and Italy, which asked to join" || bad "open: $(cat err)"
CASE=$(cut -d' ' -f1 out)
run fr.sgdsn case show "$CASE"
check "France, which licensed Pegasus, sees the case" 0 "$rc"
check "... a spyware-misuse case" spyware-misuse "$(jq -r .mechanism out)"
run it.uama case show "$CASE"
check "Italy sees it" 0 "$rc"
run de.bafa case show "$CASE"
check "Germany, which did not license it, does not (exit 1)" 1 "$rc"
run de.bafa case list
grep -q "$CASE" out && bad "Germany lists the case" || ok "Germany does not list it"
run us.bis case show "$CASE"
check "nor does the US (exit 1)" 1 "$rc"
run un.unoda case show "$CASE"
check "the secretariat sees it" 0 "$rc"
run pk.mofa case upload "$CASE" spyware-misuse-evidence "$PEG" --keep peg.age --set evidence=stix-bundle \
  --set indicators=1549
check "Pakistan adds the Amnesty bundle as a sealed case file" 0 "$rc"
SHA=$(sha256sum peg.age | cut -d' ' -f1)
run fr.sgdsn case send "$CASE" spyware-misuse-answer --set measure=licence-suspended
check "France answers: licence suspended" 0 "$rc"
run fr.sgdsn case send "$CASE" spyware-misuse-close --set outcome=confirmed
check "only the requester closes it (exit 1)" 1 "$rc"

# ---- a licensing state joins after the case opened (case-join, case-admit) ----------------
run de.bafa spyware misuse join "$CASE" --to pk.mofa
check "Germany, which licensed nothing yet, cannot ask to join the case (exit 1)" 1 "$rc"
grep -q "no case $CASE is known to de.bafa" err && ok "... told what an unknown case would tell it" || bad "join: $(cat err)"
run de.bafa spyware licence grant "${LIC[@]}" --end-user "Federal Police"
check "Germany licenses Pegasus to another end user" 0 "$rc"
run de.bafa spyware misuse check --join
check "its client now matches the notice and asks to join it" 0 "$rc"
run de.bafa spyware misuse join "$CASE" --to pk.mofa
check "Germany asks to join the open case" 0 "$rc"
JREQ=$(cut -d' ' -f1 out)
run de.bafa case show "$CASE"
check "... not a party until admitted (exit 1)" 1 "$rc"
run it.uama spyware misuse admit "$CASE" "$JREQ"
check "Italy may not admit it (exit 1)" 1 "$rc"
grep -q 'only the requester (pk.mofa) admits' err && ok "... the refusal names the rule" || bad "admit: $(cat err)"
run pk.mofa case show "$CASE"
check "the requester sees the pending request" "$JREQ de.bafa null" "$(jq -r '.joins[0] | "\(.request) \(.party) \(.admitted)"' out)"
run pk.mofa spyware misuse admit "$CASE" "$JREQ"
check "Pakistan admits Germany" 0 "$rc"
run de.bafa case show "$CASE"
check "Germany sees the case now" 0 "$rc"
check "... as a party" 1 "$(jq '[.parties[] | select(.party == "de.bafa")] | length' out)"
st=$(req GET "/v1/records/$CASE" -H "Authorization: Token $TOK_de_bafa")
check "... but not the opening, sealed before it joined (404)" 404 "$st"
run pk.mofa case send "$CASE" spyware-misuse-evidence --set evidence=forensic-report
check "a later record goes to Germany too" 0 "$rc"
LATER=$(cut -d' ' -f1 out)
req GET "/v1/records/$LATER" -H "Authorization: Token $TOK_de_bafa" >/dev/null; cp "$T/body" later.json
"$C" record open --key de.bafa.key --vkey peers.keys later.json >later.body 2>err && grep -q forensic-report later.body &&
  ok "... sealed to it: Germany opens it" || bad "Germany cannot open the later record: $(cat err)"

# norm 13(c): the C2 servers are in the Netherlands
run pk.mofa request --to nl.ncsc --kind mitigation --norm 13c --asked 'take down the Pegasus C2 servers' \
  --severity 4 --respond-by +3d --tlp amber
check "the diplomat asks the state hosting the C2 for mitigation (13(c))" 0 "$rc"
REQ=$(cut -d' ' -f1 out)
run nl.ncsc ack "$REQ"
check "the Dutch CERT acknowledges" 0 "$rc"
run nl.ncsc reply "$REQ" --answered 'the servers were taken down on 6 Dec'
check "... and replies" 0 "$rc"
run pk.mofa case send "$CASE" spyware-misuse-close --set outcome=confirmed
check "Pakistan closes the case: confirmed" 0 "$rc"

# ---- the transparency report: clear records only, each figure's records verify ------------
run de.bafa spyware licence deny --vendor Candiru --product DevilsTongue --category national --destination sa \
  --end-user "Presidency Guard" --date 2026-03-01T00:00:00Z --reason "human-rights risk" --tlp clear --to fr
check "Germany publishes a denial in clear" 0 "$rc"
run it.uama spyware report --json
check "the report" 0 "$rc"
cp out report.json
# the count done here, from the records themselves: clear licences and listings by state and year
for ty in spyware-licence spyware-listing; do
  req GET "/v1/records?type=$ty&limit=1000" -H "Authorization: Token $TOK_it_uama" >/dev/null
  jq -c '.records[] | select(.tlp == "clear" or .tlp == "green")' "$T/body"
done >clear.jsonl
want=$(while read -r row; do
  jq -r '.envelope.payload' <<<"$row" | base64 -d | jq -r '[(.author | split(".")[0]), (.body.date[0:4]), .type, (.body.decision // "listed")] | @tsv'
done <clear.jsonl | sort | uniq -c | awk '{print $2, $3, $4, $5, $1}' | sort)
got=$(jq -r '.groups[] | .state as $s | (.year|tostring) as $y |
  (if .licences.granted.count > 0 then "\($s) \($y) spyware-licence granted \(.licences.granted.count)" else empty end),
  (if .licences.denied.count > 0 then "\($s) \($y) spyware-licence denied \(.licences.denied.count)" else empty end),
  (if .listings.count > 0 then "\($s) \($y) spyware-listing listed \(.listings.count)" else empty end)' report.json | sort)
check "the report's figures equal the count done from the clear records" "$want" "$got"
[ -n "$got" ] && ok "... ($(echo "$got" | wc -l) figures)" || bad "empty report"
check "no sealed licence is counted (the grants and the sealed denial)" 0 \
  "$(jq '[.groups[] | select(.state == "fr" or .state == "it")] | length' report.json)"
LOGVK=$(sed -n 's/^node key (signs its log): //p' "$T/init.out")
nver=0; nbad=0
for id in $(jq -r '[.. | objects | .records? // empty | .[]] | unique | .[]' report.json); do
  req GET "/v1/records/$id" -H "Authorization: Token $TOK_it_uama" >/dev/null; cp "$T/body" env.json
  receipt_get "$id" "$TOK_it_uama" >/dev/null; cp "$T/body" r.proof
  if "$C" record verify --receipt r.proof --log-vkey "$LOGVK" --vkey peers.keys env.json >/dev/null 2>&1; then
    nver=$((nver + 1)); else nbad=$((nbad + 1)); fi
done
check "every record a figure links has a receipt that verifies offline" 0 "$nbad"
[ "$nver" -ge 5 ] && ok "... $nver records" || bad "only $nver records verified"
run it.uama spyware report --year 2023 --state us --html report.html
check "the report as an HTML page" 0 "$rc"
grep -q '@media print' report.html && ok "... with a print stylesheet" || bad "no print stylesheet"
n=$(jq -r '.groups[] | select(.state=="us" and .year==2023) | .listings.records[]' report.json | while read -r id; do
  grep -q "href=\"$URL/v1/records/$id/receipt\"" report.html && echo y; done | wc -l)
check "... each 2023 US listing linked with its receipt" 2 "$n"
run it.uama spyware report
grep -Eq '^us +2021 +0 +0 +2' out && ok "... and as a table" || bad "table: $(cat out)"

# ---- government use under oversight: sealed to the overseer, provable by its receipt ---------
run fr.sgdsn spyware authorise --to fr.cnctr --set capability=Pegasus --set 'basis=Code de la securite interieure L.853-2' \
  --set necessity='no other means' --set proportionality='two months, one device' \
  --set from=2026-01-01T00:00:00Z --set until=2026-03-01T00:00:00Z
check "France's services record an authorisation, sealed to their overseer" 0 "$rc"
AUTH=$(cut -d' ' -f1 out)
run fr.sgdsn spyware signoff "$AUTH" --set decision=approved
check "... which they may not sign off themselves (exit 1)" 1 "$rc"
run fr.cnctr spyware signoff "$AUTH" --set decision=approved
check "the overseer signs it off" 0 "$rc"
req GET "/v1/records/$AUTH" -H "Authorization: Token $TOK_fr_sgdsn" >/dev/null; cp "$T/body" auth.json
receipt_get "$AUTH" "$TOK_fr_sgdsn" >/dev/null; cp "$T/body" auth.proof
rc=0; "$C" record verify --receipt auth.proof --log-vkey "$(sed -n 's/^node key (signs its log): //p' "$T/init.out")" \
  --vkey peers.keys auth.json >/dev/null 2>&1 || rc=$?
check "its receipt proves offline that it existed when logged" 0 "$rc"
grep -q 'proportionality' auth.json && bad "the envelope shows the authorisation" || ok "... without showing it"
run fr.sgdsn spyware authorisations --json
check "the authorising office lists its authorisation" "$AUTH author true" \
  "$(jq -r '.authorisations[] | "\(.id) \(.role) \(.signoff != null)"' out)"
run fr.cnctr spyware authorisations --json
check "the overseer lists it as overseer" "$AUTH overseer" "$(jq -r '.authorisations[] | "\(.id) \(.role)"' out)"
run fr.cnctr spyware authorisations
grep -q "^$AUTH .*overseen by fr.cnctr  signed off" out && ok "... and as text" || bad "authorisations: $(cat out err)"
run de.bafa spyware authorisations --json
check "another state lists none" 0 "$(jq '.authorisations | length' out)"
st=$(req GET /v1/framework/spyware/authorisations)
check "anonymous: 401" 401 "$st"

# ---- sealed records unreadable to non-parties, through every endpoint ----------------------
# what only sealed bodies hold (the body keys of licences and notices,
# an end user, a reason, swept domains, an answer)
NEEDLES='Interior Ministry|"end_user"|"target_kind"|risk of internal|1minto-start|123tramites|licence-suspended|proportionality'
leaks=0
leak() { if grep -Eq "$NEEDLES" "$1"; then bad "$2: sealed content"; leaks=$((leaks + 1)); fi; }
for who in us.bis anon operator; do
  case $who in
    anon) H=() ;;
    operator) H=(-H "Authorization: Token $OPTOKEN") ;;
    *) H=(-H "Authorization: Token $TOK_us_bis") ;;
  esac
  for id in "$GRANT" "$DENY" "$NOTICE" "$CASE" "$SIGHT" "$AUTH"; do
    req GET "/v1/records/$id" "${H[@]}" >/dev/null; leak "$T/body" "$who /v1/records/$id"
  done
  for ty in spyware-licence spyware-misuse-notice spyware-misuse sighting spyware-misuse-join spyware-authorisation; do
    req GET "/v1/records?type=$ty" "${H[@]}" >/dev/null; leak "$T/body" "$who /v1/records?type=$ty"
  done
  for p in "/v1/framework/cases/$CASE" /v1/framework/cases "/v1/framework/spyware/vendors?name=nso%20group" \
           "/v1/framework/spyware/vendors/$NSO" /v1/framework/inbox /v1/framework/spyware/authorisations; do
    req GET "$p" "${H[@]}" >/dev/null; leak "$T/body" "$who $p"
  done
  ids=$(curl -s --noproxy '*' -H "Accept: $TAXII" "${H[@]}" "$URL/comity/collections/" | jq -r '.collections[]?.id' || true)
  for c in $ids; do
    curl -s --noproxy '*' -H "Accept: $TAXII" "${H[@]}" "$URL/comity/collections/$c/objects/" >coll.json
    leak coll.json "$who TAXII $c"
  done
  if [ -n "$SHA" ]; then
    st=$(req GET "/v1/files/$SHA" "${H[@]}")
    [ "$who" = operator ] || { [ "$st" = 404 ] || [ "$st" = 403 ] || [ "$st" = 401 ]; } &&
      ok "$who: /v1/files/SHA answered $st" || bad "$who read the case file: $st"
    grep -q 'pegasus\|1minto' "$T/body" && { bad "$who: the case file in clear"; leaks=$((leaks + 1)); }
  fi
done
check "no sealed content through /v1/records, TAXII, /v1/framework or /v1/files (non-party, anonymous, operator)" 0 "$leaks"
[ -n "$SHA" ] && ok "the case file's hash was found ($SHA)" || bad "no case file hash in the case view"
st=$(req GET "/v1/framework/cases/$CASE" -H "Authorization: Token $TOK_us_bis")
check "the US: the case is the unknown id's 404" 404 "$st"
finish
