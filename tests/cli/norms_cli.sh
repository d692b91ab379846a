#!/usr/bin/env bash
# norms_cli.sh: `comity norm` against a real node (docs/norms.md): the
# secretariat records the catalogue; Pakistan declares what it protects,
# in public and sealed to the participating states, then re-seals the
# sealed one to a state that joined later; story 2 of USERS.md: after the
# power-grid attack Pakistan complains under 13(f) against India, the
# acknowledgement falls overdue, India replies, consultations are proposed
# and linked; a vulnerability is disclosed under embargo, fixed (with a
# patch file) and published, and the supply-chain alert goes out; and the
# standing rule: sealed content (the disclosure, the sealed declaration,
# the patch) is unreadable to a non-party and to an anonymous client
# through /v1/records, the TAXII collections, /v1/framework queries and
# /v1/files.
#
# The acknowledgement deadline comes from node.conf (3 s), so that
# "overdue" needs seconds, not days.
source "$(dirname "$0")/node_lib.bash"
C=$COMITY_BIN
D="$T/node"
cd "$T"
init_node "$D" hub.example/node
printf 'case_deadline.norm-acknowledge = 3s\n' >"$D/node.conf"
# the state keys pk and in (kept offline; they sign delegations) are not
# in peers.keys: a record sealed to a bare state "pk" would then be sealed
# to the state key alone (comity_record_seal_recipients), not its offices
PARTIES="un.unoda pk.mofa pk.pkcert in.mea in.cert-in us.cisa fr.anssi pk.moitt pk in"
for p in $PARTIES; do
  "$C" keygen --party "$p" --out "$p.key" >/dev/null 2>&1
  case $p in *.*) "$C" key show "$p.key" >>peers.keys ;; esac
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

# ---- help -------------------------------------------------------------------------------
rc=0; "$C" help norm >out 2>&1 || rc=$?
check "comity help norm" 0 "$rc"
grep -q 'comity norm complain' out && ok "help shows the usage" || bad "help: $(head -2 out)"
grep -q 'Examples' out && ok "... with examples" || bad "help has no example"

# ---- the catalogue -------------------------------------------------------------------------
run pk.mofa norm catalogue
check "the catalogue before any record" 11 "$(grep -c '^13[a-k] .* v0 ' out)"
run pk.mofa norm catalogue seed
check "only the secretariat records the catalogue (exit 1)" 1 "$rc"
grep -q 'only the secretariat' err && ok "... with the rule" || bad "said: $(cat err)"
run un.unoda norm catalogue seed
check "the secretariat records the eleven" 0 "$rc"
check "... eleven records" 11 "$(grep -c '^norm-entry--' out)"
run un.unoda norm catalogue publish --set norm=tr.art-3 --set kind=treaty-provision \
  --set title='No attacks on grids' --set text='Parties refrain from damaging power grids.' \
  --set source='Draft treaty, Art. 3'
check "... and a treaty provision" 0 "$rc"
run un.unoda norm catalogue publish --set norm=13f --set kind=voluntary-norm \
  --set title='Do not damage critical infrastructure' --set text='Revised wording.' \
  --set source='UN GGE 2015 report (A/70/174), para 13(f)'
check "a new version of 13(f) names the current one by itself" 0 "$rc"
run pk.mofa norm catalogue --json
check "13(f) at version 2" 2 "$(jq '.norms[] | select(.norm=="13f") | .version' out)"
check "... every version kept" 2 "$(jq '.norms[] | select(.norm=="13f") | .versions | length' out)"
check "the provision is in" treaty-provision "$(jq -r '.norms[] | select(.norm=="tr.art-3") | .kind' out)"

# ---- declarations ---------------------------------------------------------------------------
run pk.mofa norm declare --set valid_from=2026-01-01T00:00:00Z --set 'sectors=["energy","water"]' \
  --set 'certs=["pk.pkcert"]' --set cert_status=protected-13k
check "a public declaration" 0 "$rc"
PUB=$(cut -d' ' -f1 out)
run pk.mofa norm declare --set valid_from=2026-01-01T00:00:00Z --set 'services=["mining/x"]'
check "a service outside the sectors: exit 2" 2 "$rc"
grep -q 'norm-declaration.body.services\[0\]' err && ok "... naming the field" || bad "said: $(cat err)"
run pk.mofa norm declare --tlp amber --to pk --to in --set valid_from=2026-01-01T00:00:00Z \
  --set 'services=["energy/Secret Substation Kappa"]'
check "a declaration sealed to the participating states (pk, in)" 0 "$rc"
PART=$(cut -d' ' -f1 out)
run pk.mofa norm declare --set valid_from=2026-02-01T00:00:00Z --set 'sectors=["energy","water","health"]' \
  --supersedes "$PUB"
check "a new version supersedes the public one" 0 "$rc"
run in.mea norm declarations pk --json
check "in sees three versions" 3 "$(jq '.declarations | length' out)"
check "... the sealed one opened with its own key" "energy/Secret Substation Kappa" \
  "$(jq -r ".declarations[] | select(.record==\"$PART\") | .body.services[0]" out)"
check "... the first public one superseded" false "$(jq -r ".declarations[] | select(.record==\"$PUB\") | .current" out)"
run us.cisa norm declarations pk --json
check "us (not participating yet) sees the public two only" 2 "$(jq '.declarations | length' out)"
run pk.mofa norm declare --reseal "$PART" --to us
check "pk re-seals its sealed declaration to us, which joined later" 0 "$rc"
RS=$(cut -d' ' -f1 out)
run us.cisa norm declarations pk --json
check "us now sees three" 3 "$(jq '.declarations | length' out)"
check "... opening the re-seal" "$RS" "$(jq -r ".declarations[] | select(.record==\"$PART\") | .open_with" out)"
check "... with its body" "energy/Secret Substation Kappa" \
  "$(jq -r ".declarations[] | select(.record==\"$PART\") | .body.services[0]" out)"
run fr.anssi norm declarations pk --json
check "fr still sees the public two" 2 "$(jq '.declarations | length' out)"

# ---- story 2: the power grid, a complaint under 13(f) -------------------------------------------
run pk.pkcert notify --to in --severity 4 --sector energy --summary 'grid operator hit' --norm 13h
check "the CERT notifies" 0 "$rc"
NOTIF=$(cut -d' ' -f1 out)
run pk.mofa norm complain --to in.mea --to un.unoda --ref "$NOTIF" --set norm=13z \
  --set basis=responsibility --set subject='grid' --set summary='x'
check "a norm outside the catalogue: refused by the node (exit 1)" 1 "$rc"
grep -q 'not in the norm catalogue' err && ok "... with the rule" || bad "said: $(cat err)"
run pk.mofa norm complain --to in.mea --to un.unoda --ref "$NOTIF" --set norm=13f \
  --set basis=responsibility --set subject='attack on the northern grid, 3 Dec' \
  --set summary='the operator lost control of 14 substations' --set 'sectors=["energy"]'
check "the ministry complains under 13(f)" 0 "$rc"
CPL=$(cut -d' ' -f1 out)
sleep 4
run in.mea norm list
grep -A3 "$CPL" out | grep acknowledge | grep -q OVERDUE && ok "the unacknowledged complaint is overdue in India's list" \
  || bad "list: $(cat out)"
run pk.mofa norm reply "$CPL" rejects --set text='no'
check "the complainant cannot reply to itself (exit 1)" 1 "$rc"
run in.mea norm ack "$CPL" --set note='received'
check "India acknowledges" 0 "$rc"
run in.mea norm reply "$CPL" has-acted --set text='done'
check "has-acted without the actions: exit 2" 2 "$rc"
run in.mea norm reply "$CPL" will-investigate --set text='we are looking into the servers named'
check "India will investigate" 0 "$rc"
run pk.mofa case open consult-request --to in.mea --to un.unoda --ref "$CPL" \
  --set subject='the grid complaint' --set summary='consultations on the attack of 3 Dec'
check "Pakistan requests consultations about the complaint" 0 "$rc"
K=$(cut -d' ' -f1 out)
run pk.mofa norm consult "$CPL" "$K"
check "... linked to the complaint" 0 "$rc"
run in.mea norm show "$CPL"
check "the complaint is in consultations" consultations "$(jq -r .state out)"
check "... naming the consultation case" "$K" "$(jq -r .facts.consultation out)"
check "... India's answer recorded" will-investigate "$(jq -r .facts.answer out)"
run in.mea norm reply "$CPL" has-acted --set text='servers seized' --set 'actions=["two servers seized"]'
check "India has acted" 0 "$rc"
run pk.mofa norm close "$CPL" resolved --set statement='servers seized; thanks'
check "Pakistan closes the complaint" 0 "$rc"
run un.unoda norm show "$CPL"
check "the secretariat sees the outcome" resolved "$(jq -r .facts.outcome out)"

# ---- a vulnerability disclosed under embargo, fixed and published ----------------------------------
DISC=(--set kind=vulnerability --set product='GridOS 4' --set vendor='Acme Controls'
      --set summary='SEALED-MARKER auth bypass in the RTU web console' --set norm=13j --set embargo_days=30)
run pk.pkcert norm disclose --to in.cert-in "${DISC[@]}" --tlp green
check "a disclosure in clear: refused (exit 1)" 1 "$rc"
grep -q 'sealed to the vendor' err && ok "... with the rule" || bad "said: $(cat err)"
run pk.pkcert norm disclose --to in.cert-in "${DISC[@]}" --tlp amber
check "Pakistan's CERT discloses to India's, sealed" 0 "$rc"
DSC=$(cut -d' ' -f1 out)
run in.cert-in norm show "$DSC"
check "reported, embargo clock running" reported "$(jq -r .state out)"
[ "$(jq -r '.clocks[] | select(.name=="embargo") | .due' out)" != null ] && ok "... the embargo's end shown" || bad "no embargo: $(cat out)"
run pk.pkcert norm alert "$DSC" --to in --to pk --to us --to fr --set product='GridOS 4' \
  --set vendor='Acme Controls' --set summary='patch when available'
check "an alert under embargo: refused (exit 1)" 1 "$rc"
grep -q 'too soon' err && ok "... too soon" || bad "said: $(cat err)"
run in.cert-in norm ack "$DSC"
check "India's CERT acknowledges" 0 "$rc"
run in.cert-in norm fix "$DSC" --set fix='GridOS 4.2' --set 'cves=["CVE-26-1"]'
check "a malformed CVE id: exit 2" 2 "$rc"
head -c 4096 /dev/urandom >patch.bin
run in.cert-in case upload "$DSC" norm-disclosure-fix patch.bin --set fix='GridOS 4.2' \
  --set 'cves=["CVE-2026-41234"]'
check "the fix, with the patch as a sealed file" 0 "$rc"
read -r H _ _ < <(tail -1 out)
run pk.pkcert norm publish "$DSC" --set advisory='https://acme.example/sa-2026-7' --set 'cves=["CVE-2026-41234"]'
check "published" 0 "$rc"
run pk.pkcert norm show "$DSC"
check "... the status" published "$(jq -r .state out)"
check "... the node holds no sealed body (no CVE ids in its facts)" "" "$(jq -r '.facts.cves[0] // empty' out)"
run pk.pkcert norm alert "$DSC" --to in --to pk --to us --to fr --tlp green --set product='GridOS 4' \
  --set vendor='Acme Controls' --set summary='patch to 4.2' --set 'cves=["CVE-2026-41234"]'
check "the supply-chain alert to every participating state" 0 "$rc"
ALERT=$(cut -d' ' -f1 out)
check "us reads the alert" 200 "$(req GET "/v1/records/$ALERT" -H "Authorization: Token $TOK_us_cisa")"
jq -r .payload "$T/body" | base64 -d | grep -q 'CVE-2026-41234' && ok "... with the CVE id" || bad "alert: $(cat "$T/body")"

# ---- implementation reports: two states compared, needs matched with offers ------------------------
run pk.mofa norm report --set period=2026-H1 --set norm=13k --set done='CERT mandate in law' \
  --set 'laws=["CERT Act 2026"]' --set 'contacts=["pk.pkcert"]' --set 'needs=["forensics"]'
check "Pakistan files its section on 13(k)" 0 "$rc"
run pk.mofa norm report --set period=2026-H1 --set norm=13k --set done='CERT mandate in law; 24/7 desk' \
  --set 'needs=["forensics","legislation"]'
check "... and a second version of it (naming the first by itself)" 0 "$rc"
run in.mea norm report --set period=2026-H1 --set norm=13k --set done='CERT-In protected by statute' \
  --set 'offers=["legislation"]'
check "India files its section on 13(k)" 0 "$rc"
run in.mea norm report --set period=2026-H1 --set norm=13f --set done='grid CERT' --set 'offers=["forensics"]'
check "... and on 13(f)" 0 "$rc"
run pk.mofa norm report --set period=2026-H5 --set norm=13k --set done='x'
check "a malformed period: exit 2" 2 "$rc"
run us.cisa norm report compare 2026-H1 --norm 13k --json
check "two states compared on 13(k)" "pk in" "$(jq -r '[.norms[0].states[].state] | join(" ")' out)"
check "... Pakistan's current version" 2 "$(jq -r '.norms[0].states[] | select(.state=="pk") | .version' out)"
run us.cisa norm report match 2026-H1
grep -q 'pk needs legislation (13k): in$' out && ok "legislation matched with India's offer" || bad "match: $(cat out)"
grep -q 'pk needs forensics (13k): in\*' out && ok "forensics matched under another norm" || bad "match: $(cat out)"

# ---- national positions: drafted by three offices, published by the delegated one -------------------
run pk.mofa norm position draft --tlp amber --set topic=sovereignty --set text='DRAFT-MARKER sovereignty is a rule'
check "the foreign ministry drafts, sealed to its state" 0 "$rc"
DR=$(cut -d' ' -f1 out)
run pk.pkcert norm position comment "$DR" --tlp amber --set text='add the CERT view'
check "the CERT comments" 0 "$rc"
run pk.moitt norm position draft --tlp amber --set topic=sovereignty --set text='sovereignty is a rule, with due diligence' \
  --supersedes "$DR"
check "the IT ministry revises it" 0 "$rc"
DR2=$(cut -d' ' -f1 out)
run pk.mofa norm position publish --set topic=sovereignty --set text='Sovereignty is a rule of international law.'
check "publishing without the state key's delegation: refused (exit 1)" 1 "$rc"
grep -q 'holds no delegation' err && ok "... with the rule" || bad "said: $(cat err)"
run pk.mofa norm position delegate pk.mofa
check "an office cannot delegate (exit 1)" 1 "$rc"
run pk norm position delegate pk.mofa
check "the state key delegates publication to the foreign ministry" 0 "$rc"
run pk.mofa norm position publish --set topic=sovereignty --set text='Sovereignty is a rule of international law.' \
  --supersedes "$DR2"
check "the foreign ministry publishes" 0 "$rc"
run pk.mofa norm position publish --set topic=sovereignty --set text='Sovereignty is a rule (second version).'
check "... and a second version" 0 "$rc"
run in norm position delegate in.mea
run in.mea norm position publish --set topic=sovereignty --set text='Sovereignty is a principle.'
check "India publishes its own" 0 "$rc"
run us.cisa norm position compare sovereignty --json
check "two states compared on sovereignty" "pk in" "$(jq -r '[.topics[0].states[].state] | join(" ")' out)"
check "... Pakistan at version 2, every version kept" "2 2" "$(jq -r '.topics[0].states[0] | "\(.version) \(.versions | length)"' out)"
check "... no drafts of Pakistan shown to us" 0 "$(jq '.drafts | length' out)"
run pk.pkcert norm position compare --json
check "Pakistan's offices see their drafts and comment" 3 "$(jq '.drafts | length' out)"
st=$(req GET "/v1/records/$DR" -H "Authorization: Token $TOK_in_mea")
[ "$st" = 404 ] || [ "$st" = 403 ] && ok "India cannot read Pakistan's draft ($st)" || bad "India read the draft: $st"

# ---- the standing rule: sealed content to a non-party and an anonymous client ----------------------------
TF=$TOK_fr_anssi
for who in fr anon; do
  if [ $who = fr ]; then H_=(-H "Authorization: Token $TF"); else H_=(); fi
  st=$(req GET "/v1/records/$DSC" "${H_[@]}")
  [ "$st" = 404 ] || [ "$st" = 403 ] || [ "$st" = 401 ] && ok "$who: /v1/records/DISCLOSURE refused ($st)" || bad "$who read it: $st"
  st=$(req GET "/v1/records/$PART" "${H_[@]}")
  [ "$st" = 404 ] || [ "$st" = 403 ] || [ "$st" = 401 ] && ok "$who: /v1/records/DECLARATION refused ($st)" || bad "$who read it: $st"
  req GET "/v1/records?type=norm-disclosure" "${H_[@]}" >/dev/null
  grep -q "$DSC" "$T/body" && bad "$who: the disclosure is listed" || ok "$who: the disclosure is not listed in /v1/records"
  st=$(req GET "/v1/framework/cases/$DSC" "${H_[@]}")
  [ "$st" = 404 ] || [ "$st" = 401 ] && ok "$who: /v1/framework/cases/DISCLOSURE: $st" || bad "$who: case view $st"
  req GET /v1/framework/cases "${H_[@]}" >/dev/null
  grep -q "$DSC" "$T/body" && bad "$who: the disclosure is in its list" || ok "$who: not in /v1/framework/cases"
  req GET "/v1/framework/norms/declarations?state=pk" "${H_[@]}" >/dev/null
  grep -q "$PART" "$T/body" && bad "$who: the sealed declaration is listed" || ok "$who: the sealed declaration is not listed"
  st=$(req GET "/v1/files/$H" "${H_[@]}")
  [ "$st" = 404 ] || [ "$st" = 401 ] && ok "$who: /v1/files/PATCH: $st" || bad "$who fetched the patch: $st"
  ids=$(curl -s --noproxy '*' -H "Accept: $TAXII" "${H_[@]}" "$URL/comity/collections/" | jq -r '.collections[]?.id')
  leak=0
  for c in $ids; do
    curl -s --noproxy '*' -H "Accept: $TAXII" "${H_[@]}" "$URL/comity/collections/$c/objects/" >coll.json
    grep -q -e 'SEALED-MARKER' -e 'Secret Substation' -e 'DRAFT-MARKER' -e "$DSC" coll.json && leak=1
  done
  check "$who: TAXII collections carry no sealed content" 0 "$leak"
done
st=$(req GET "/v1/framework/norms")
check "anonymous: the catalogue needs a login too" 401 "$st"
req GET "/v1/framework/cases/$DSC" -H "Authorization: Token $OPTOKEN" >/dev/null
grep -q 'SEALED-MARKER' "$T/body" && bad "the operator read the sealed disclosure" || ok "operator: no sealed content in the case view"
finish
