#!/usr/bin/env bash
# attribution_cli.sh: `comity attribution` against a real node: story 2 of
# USERS.md (three states' reports of the grid attack with the same C2 in
# their evidence, a claim at "likely" / 70 on an actor named by a synonym,
# the named state's reply beside the claim and its reply clock seen by both,
# a panel of three agreed by every party and voting, the tally), the
# refusals the node names, an offer of consultations that opens a
# consultation case, and the standing rule: the sealed case is unreadable
# to a non-party, to an anonymous client and to the operator through
# /v1/records, the TAXII collections and objects, /v1/framework queries
# and /v1/files; `attribution correlate`: which other states' reports share
# the case's infrastructure, its sealed evidence opened on the party's
# machine, each report shown only to those who may see it.
source "$(dirname "$0")/node_lib.bash"
C=$COMITY_BIN
D="$T/node"
export COMITY_GALAXY="$COMITY_SHARED/data/galaxy/threat-actor.json"
cd "$T"
init_node "$D" hub.example/node
PARTIES="fr.anssi ru.mid de.bsi nl.ncsc ch.ncsc no.nsm jp.nisc br.gsi"
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
first() { cut -d' ' -f1 out | tail -1; }
SECRET=203.0.113.77
cat >c2.json <<EOF
{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","objects":[
 {"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
  "created":"2026-12-01T10:00:00.000Z","modified":"2026-12-01T10:00:00.000Z",
  "pattern":"[ipv4-addr:value = '$SECRET']","pattern_type":"stix","valid_from":"2026-12-01T10:00:00Z"}]}
EOF

# ---- help ---------------------------------------------------------------------------
rc=0; "$C" help attribution >out 2>&1 || rc=$?
check "comity help attribution" 0 "$rc"
grep -q 'comity attribution claim CASE' out && grep -q 'Example' out && ok "help: usage and an example" || bad "help: $(head -3 out)"
rc=0; "$C" attribution actors --search 'voodoo bear' --exact >out 2>err || rc=$?
check "the vocabulary offline: a synonym" 0 "$rc"
grep -q '^Sandworm ' out && ok "... resolves to Sandworm" || bad "actors: $(cat out)"

# ---- story 2: three states report the grid attack ------------------------------------
for p in fr.anssi de.bsi nl.ncsc; do
  run $p notify --to ru --severity 4 --sector energy --summary "grid attack seen by $p"
  check "$p reports its incident" 0 "$rc"
  eval "N_${p%%.*}=$(first)"
done
run fr.anssi attribution open --to ru.mid --to de.bsi --to nl.ncsc --to ch.ncsc --to no.nsm --to jp.nisc \
  --ref "$N_fr" --ref "$N_de" --ref "$N_nl" --title 'grid attack' --summary 'the attack of 1 December'
check "France opens an attribution case (sealed by default)" 0 "$rc"
A=$(first)
EV=()
for p in fr.anssi de.bsi nl.ncsc; do
  extra=(); [ $p = de.bsi ] && { echo "pcap of $SECRET" >pcap.txt; extra=(--file pcap.txt); }
  run $p attribution evidence "$A" --what "C2 at $SECRET in our incident" --by "$p CERT" \
    --at 2026-12-01T10:00:00Z --method network-telemetry --reliability B --credibility 2 --stix c2.json "${extra[@]}"
  check "$p adds its evidence (the same C2)" 0 "$rc"
  EV+=("$(grep -o 'attribution-evidence--[0-9a-f-]*' out | head -1 || true)")
  [ $p = de.bsi ] && FILEHASH=$(grep -o '^[0-9a-f]\{64\}' out | head -1 || true)
done
[ -n "$FILEHASH" ] && ok "de.bsi's evidence carries a sealed file ($FILEHASH)" || bad "no file hash: $(cat out)"
run fr.anssi attribution rate "$A" "${EV[0]}" --reliability A --credibility 1
check "a state cannot rate its own evidence: refused by the node (exit 1)" 1 "$rc"
grep -q "own; the parties of other states rate it" err && ok "... naming the rule" || bad "said: $(cat err)"
run de.bsi attribution rate "$A" "${EV[0]}" --reliability A --credibility 2 --note 'seen the same'
check "Germany rates France's evidence" 0 "$rc"
run fr.anssi attribution claim "$A" --kind incident-actor --incident "$N_fr" --actor 'Nobody Known' \
  --confidence 70 --likelihood likely --evidence "${EV[0]}"
check "an actor not in the vocabulary: refused before signing (exit 2)" 2 "$rc"
run fr.anssi attribution claim "$A" --kind incident-actor --incident "$N_fr" --actor 'VOODOO BEAR' \
  --confidence 70 --likelihood probable --evidence "${EV[0]}" --evidence "${EV[1]}" --evidence "${EV[2]}"
check "France claims: incident -> actor, likely / 70" 0 "$rc"
CL=$(first)
# the case's own vocabulary: an actor record, found by a synonym (opened
# on the party's machine: the node cannot read the sealed record)
run nl.ncsc attribution actor "$A" --name GRIDLOCK --synonym Storm-9999
check "an actor added to the case's vocabulary" 0 "$rc"
run de.bsi attribution actors --search storm-9999 --exact --case "$A"
grep -q '^GRIDLOCK ' out && ok "... found by its synonym" || bad "actors --case: $(cat out) $(cat err)"
run ru.mid attribution claim "$A" --kind actor-state --actor Sandworm --state ru --confidence 10 \
  --likelihood unlikely --evidence "${EV[0]}"
check "the named state makes no claim in its own case (exit 1)" 1 "$rc"
run ru.mid attribution list
grep -A2 "$A" out | grep reply | grep -q ru.mid && ok "the named state sees its reply clock" || bad "list: $(cat out)"
run fr.anssi attribution list
grep -A2 "$A" out | grep -q 'reply  ru.mid' && ok "... and so does the claimant" || bad "list: $(cat out)"
run de.bsi attribution reply "$A" "$CL" --answer deny
check "only the named state replies (exit 1)" 1 "$rc"
run ru.mid attribution reply "$A" "$CL" --answer deny --statement 'no state involvement'
check "the accused state replies" 0 "$rc"
# a second claim, the state behind the actor; answered with consultations
run fr.anssi attribution claim "$A" --kind actor-state --actor Sandworm --state ru --confidence 60 \
  --likelihood 'very likely' --evidence "${EV[0]}"
CL2=$(first)
run ru.mid attribution reply "$A" "$CL2" --answer offer-consultations --statement 'we propose talks'
check "an offer of consultations" 0 "$rc"
K=$(grep -o 'consult-request--[0-9a-f-]*' out | head -1)
run fr.anssi case show "$K"
check "... opened a consultation case with the claimant" consultation "$(jq -r .mechanism out)"

# ---- the panel of three -----------------------------------------------------------------
run fr.anssi attribution vote "$A" "$CL" --vote concur --reasons x
check "no vote before the panel (exit 1)" 1 "$rc"
run fr.anssi attribution panel "$A" --member ch.ncsc --member no.nsm --member jp.nisc --mandate 'review the claims'
check "France proposes a panel of three" 0 "$rc"
for p in ru.mid de.bsi nl.ncsc ch.ncsc no.nsm jp.nisc; do
  run $p attribution agree "$A"
  check "$p agrees to the panel" 0 "$rc"
done
run ch.ncsc attribution vote "$A" "$CL" --vote concur --reasons 'the same C2 in three incidents'
check "ch.ncsc concurs" 0 "$rc"
run no.nsm attribution vote "$A" "$CL" --vote concur --opinion strongly-agree --reasons 'consistent TTPs'
check "no.nsm concurs" 0 "$rc"
run jp.nisc attribution vote "$A" "$CL" --vote dissent --reasons 'shared hosting is not attribution'
check "jp.nisc dissents" 0 "$rc"
run jp.nisc attribution vote "$A" "$CL" --vote concur --reasons again
check "a second vote on the claim (exit 1)" 1 "$rc"
for p in fr.anssi ru.mid jp.nisc; do
  run $p attribution show "$A"
  check "$p: show" 0 "$rc"
  grep -q 'incident .* is attributed to actor Sandworm' out && grep -q 'confidence: 70/100' out &&
    grep -q 'likelihood: likely' out && ok "$p sees the claim (confidence and likelihood apart)" || bad "$p show: $(cat out)"
  grep -q 'REPLY by ru.mid: deny: no state involvement' out && ok "$p sees the reply beside the claim" || bad "$p: no reply: $(cat out)"
  grep -q 'panel: 2 concur, 1 dissent, 0 abstain' out && ok "$p sees the tally" || bad "$p: tally: $(cat out)"
  grep -q "jp.nisc: dissent (disagree) shared hosting" out && ok "$p sees every vote with its reasons" || bad "$p: votes"
done
run fr.anssi attribution show "$A" --json
check "the view as JSON: the case is in review" review "$(jq -r .state out)"
check "... three evidence items, one rated" "3 1" "$(jq -r '[(.attribution.evidence | length), (.attribution.evidence[0].ratings | length)] | join(" ")' out)"
run fr.anssi attribution publish "$A" --claim "$CL" --statement 'France attributes the grid attack to Sandworm'
check "France decides to publish its own statement" 0 "$rc"

# ---- sealed: nothing readable by a non-party, an anonymous client or the operator -----------
TB=$TOK_br_gsi
run fr.anssi attribution show "$A" --json
IDS=$(jq -r '.thread[].id' out)
check "every record of the case is checked below" 21 "$(echo "$IDS" | wc -l)"
leak=0; shown=0
for id in $IDS; do
  for who in "$TB" "" "$OPTOKEN"; do
    h=(); [ -n "$who" ] && h=(-H "Authorization: Token $who")
    st=$(req GET "/v1/records/$id" "${h[@]}")
    grep -q "$SECRET\|Sandworm\|no state involvement" "$T/body" && leak=1
    [ "$st" = 200 ] && [ "$who" = "$TB" ] && shown=1
  done
done
check "/v1/records: no sealed content to the non-party, anonymous or the operator" 0 "$leak"
check "/v1/records: the non-party is not given the records" 0 "$shown"
check "non-party: /v1/framework/cases/ID is the unknown id's 404" 404 "$(req GET "/v1/framework/cases/$A" -H "Authorization: Token $TB")"
check "... as for an id that does not exist" 404 "$(req GET "/v1/framework/cases/attribution-open--00000000-0000-4000-8000-000000000000" -H "Authorization: Token $TB")"
st=$(req GET "/v1/framework/cases/$A"); [ "$st" = 401 ] && ok "anonymous: /v1/framework/cases/ID 401" || bad "anonymous got $st"
check "non-party: no case in its list" 0 "$(req GET /v1/framework/cases -H "Authorization: Token $TB" >/dev/null; jbody '.cases | length')"
check "non-party: the case's chain of custody is the unknown id's 404" 404 "$(req GET "/v1/framework/cases/$A/custody" -H "Authorization: Token $TB")"
# every framework query, as the non-party, anonymous and the operator (a
# refusal may name the id that was asked for; nothing else may name the case)
for q in inbox "inbox?party=fr.anssi" overdue pings "messages/$CL" "cases?party=fr.anssi" "cases/$A/custody" retention; do
  for who in "$TB" "" "$OPTOKEN"; do
    h=(); [ -n "$who" ] && h=(-H "Authorization: Token $who")
    req GET "/v1/framework/$q" "${h[@]}" >/dev/null || true
    if grep -q "$SECRET\|Sandworm\|no state involvement\|likely" "$T/body" ||
       { [ "$who" != "$OPTOKEN" ] && [ "${q#*$A}" = "$q" ] && grep -q "$A" "$T/body"; }; then
      bad "/v1/framework/$q shows the case to $([ -n "$who" ] && echo "${who:0:6}..." || echo anonymous)"
    fi
  done
done
ok "every /v1/framework query checked as the non-party, anonymous and the operator"
req GET "/v1/framework/cases/$A" -H "Authorization: Token $OPTOKEN" >/dev/null
grep -q "$SECRET\|Sandworm\|no state involvement\|likely" "$T/body" && bad "operator read sealed content in the case view" || ok "operator: no sealed content in the case view"
for tok in "$TB" "$OPTOKEN" ""; do
  h=(); [ -n "$tok" ] && h=(-H "Authorization: Token $tok")
  ids=$(curl -s --noproxy '*' -H "Accept: $TAXII" "${h[@]}" "$URL/comity/collections/" | jq -r '.collections[]?.id')
  leak=0
  for c in $ids; do
    curl -s --noproxy '*' -H "Accept: $TAXII" "${h[@]}" "$URL/comity/collections/$c/objects/" >coll.json
    grep -q "$SECRET\|Sandworm\|$A" coll.json && leak=1
  done
  check "TAXII collections and objects carry nothing of the case ($([ "$tok" = "$OPTOKEN" ] && echo operator || { [ -n "$tok" ] && echo non-party || echo anonymous; }))" 0 "$leak"
done
s1=$(curl -s --noproxy '*' -H "Authorization: Token $TB" -o f1 -w '%{http_code}' "$URL/v1/files/$FILEHASH")
s2=$(curl -s --noproxy '*' -H "Authorization: Token $TB" -o f2 -w '%{http_code}' "$URL/v1/files/0000000000000000000000000000000000000000000000000000000000000000")
check "/v1/files: the non-party gets the unknown hash's answer" "$s2" "$s1"
s=$(curl -s --noproxy '*' -o /dev/null -w '%{http_code}' "$URL/v1/files/$FILEHASH")
check "/v1/files: anonymous 401" 401 "$s"
run nl.ncsc case fetch "$FILEHASH" --out got.txt
check "a party fetches and opens the evidence file" 0 "$rc"
grep -q "pcap of $SECRET" got.txt && ok "... its content" || bad "file: $(cat got.txt 2>/dev/null)"
run br.gsi attribution show "$A"
check "comity attribution show by the non-party: exit 1" 1 "$rc"
# the web UI draws its forms from the case types: attribution's are there
req GET /v1/framework/case-types -H "Authorization: Token $TB" >/dev/null
check "the case types list attribution (the UI's forms)" attribution-open "$(jbody '.mechanisms[] | select(.name=="attribution") | .opens')"

# ---- correlate: the other states' reports sharing the case's infrastructure -------------------
ind() { # ind FILE PATTERN: a bundle of one indicator
  jq -nc --arg p "$2" '{type:"bundle",id:"bundle--6f1f3d6e-1b7b-4c55-9a43-0d3c1e1a7b01",objects:[{type:"indicator",
    spec_version:"2.1",id:"indicator--0c7a9a52-63c5-4d8e-9a55-1b3c5d7e9f11",created:"2026-12-02T08:00:00.000Z",
    modified:"2026-12-02T08:00:00.000Z",pattern:$p,pattern_type:"stix",valid_from:"2026-12-02T08:00:00Z"}]}' >"$1"
}
ind range.json "[ipv4-addr:value = '203.0.113.0/24']"
run br.gsi notify --to jp --tlp green --severity 3 --sector energy --summary 'scanning from a /24' --indicators range.json
check "Brazil (no party of the case) reports the C2's /24 in green" 0 "$rc"; NB=$(first)
ind exact.json "[ipv4-addr:value = '$SECRET']"
run ch.ncsc notify --to fr.anssi --tlp amber --severity 3 --sector energy --summary 'the same C2, to France only' --indicators exact.json
check "Switzerland reports the same C2 to France alone, sealed" 0 "$rc"; NS=$(first)
ind other.json "[domain-name:value = 'unrelated.example']"
run no.nsm notify --to jp --tlp green --severity 2 --sector energy --summary 'nothing in common' --indicators other.json
NO=$(first)
run fr.anssi attribution correlate "$A" --json
check "France correlates its case: exit 0" 0 "$rc"; [ "$rc" = 0 ] || cat err
check "... the case's own records, the sealed evidence opened here" yes \
  "$(jq -r 'if .records >= 21 then "yes" else .records end' out)"
check "... the C2 is shared: Brazil's green report holds its /24, Switzerland's sealed one the address" \
  "$(printf '%s\n' "$NB" "$NS" | sort | tr '\n' ' ')" \
  "$(jq -r '.shared[] | select(.value=="'"$SECRET"'") | .holders[].id' out | sort | tr '\n' ' ')"
check "... whose reports they are" "br.gsi br 203.0.113.0/24" \
  "$(jq -r '.shared[].holders[] | select(.id=="'"$NB"'") | "\(.author) \(.state) \(.value)"' out)"
check "... and which of the case's records hold it (the three evidence items)" 3 \
  "$(jq '[.shared[] | select(.value=="'"$SECRET"'") | .in[] | select(startswith("attribution-evidence"))] | length' out)"
grep -q "$NO" out && bad "a report sharing nothing was listed" || ok "... nothing invented (a report sharing nothing is absent)"
grep -q '"attribution-' <(jq -c '.shared[].holders[]' out) && bad "the case's own records listed as others" || ok "... the case's own records are not listed as other reports"
run de.bsi attribution correlate "$A" --json
check "Germany, a party, correlates too" 0 "$rc"
check "... it sees Brazil's green report, not the one sealed to France" "$NB" \
  "$(jq -r '.shared[] | select(.value=="'"$SECRET"'") | .holders[].id' out | tr '\n' ' ' | sed 's/ $//')"
run de.bsi attribution correlate "$A"
grep -q "ipv4-addr:value $SECRET" out && grep -q "notification $NB of br.gsi (state br)" out &&
  ok "... printed: the value and whose report it is" || bad "correlate text: $(cat out)"
run br.gsi attribution correlate "$A"
check "a non-party cannot correlate the sealed case (exit 1)" 1 "$rc"
grep -q "$SECRET" out err && bad "the non-party learned the C2" || ok "... and learns nothing of it"

run fr.anssi attribution close "$A" --outcome attributed
check "France closes the case" 0 "$rc"
run de.bsi attribution evidence "$A" --what late --by x --at 2026-12-02T00:00:00Z --method other --reliability F --credibility 6
check "a closed case takes no evidence (exit 1)" 1 "$rc"
finish
