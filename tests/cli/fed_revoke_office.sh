#!/usr/bin/env bash
# fed_revoke_office.sh: an office's revocation weighed by the witnesses'
# times (docs/federation.md, section 1, "Revocations by the witnesses'
# times").
#
# A is the home of pk and of its office pk.mofa; B pins A, and A's
# checkpoints are cosigned by B's witness, which B's witness policy wants.
# pk.mofa signs two notes with its own key at once: one it posts then
# (early), one it keeps (late).  The state then revokes the office by a
# party record {"office":"pk.mofa","revoked":...} posted at A; B pulls it
# (with its W) and applies it: the revocation and its W are written beside
# pk.mofa's key.  A's operator has not applied it, so A logs the late
# note: created before the revocation, but logged, and witnessed, after
# it.  B refuses it (rule revoked, naming the office, the revocation's
# time and W and the note's), where a rule on `created` alone would take
# it; the early note stays held and valid at B.
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/node_lib.bash"
C=$COMITY_BIN
cd "$T"

fed_pk_init
printf 'witness b %s\nquorum b\n' "$WK_B" >b.policy
"$C" peer witnesses "$T/B" b.policy >/dev/null && ok "B's witness policy kept" || bad "B policy"
node_start A; node_start B

note() { echo "{\"text\":\"$2\"}" | "$C" record sign --key "$1" --type note --tlp clear --out "$3"; }
got_on() { curl -s --noproxy '*' -o /dev/null -w '%{http_code}' "$(eval echo "\$U_$1")/v1/records/$2" | grep -q 200; }
perr() { "$C" peer list "$T/B" | jq -r '.[0].error'; }

fed_party "" p1.dsse
"$C" record post --url "$U_A" --token "$T_STATE" p1.dsse >/dev/null && ok "the state posts pk.mofa's party record at A" || bad "post p1"
T_MOFA=$("$C" party add "$T/A" --record p1.dsse | sed -n 's/^token (shown once): //p')
office_on_b() { [ "$("$C" roster "$T/B" | jq -r '[.parties[].party] | join(",")')" = "pk.mofa" ]; }
until_ok 40 office_on_b && ok "B pulled the party record" || bad "B's roster: $(perr)"
"$C" roster apply "$T/B" >/dev/null || bad "apply at B"

# ---- the office signs two notes; posts one ------------------------------------
note mofa.key "early" early.dsse; note mofa.key "late" late.dsse
"$C" record post --url "$U_A" --token "$T_MOFA" early.dsse >early.post && ok "pk.mofa's early note logged at A" || bad "post early: $(cat early.post)"
EARLY=$(jq -r .id early.post)
until_ok 40 got_on B "$EARLY" && ok "B took it" || bad "early not on B: $(perr)"
sleep 2 # the revocation created, and witnessed, seconds after the notes

# ---- the state revokes the office; B pulls it with its W and applies it ------
printf '{"office":"pk.mofa","revoked":"compromised"}' |
  "$C" record sign --key pk-state.key --type party --tlp clear --out p2.dsse
"$C" record post --url "$U_A" --token "$T_STATE" p2.dsse >p2.post && ok "the state posts pk.mofa's revocation at A" || bad "post p2"
P2=$(jq -r .id p2.post)
until_ok 40 got_on B "$P2" && ok "B pulled the revocation (its checkpoint cosigned by B's witness)" || bad "p2 not on B: $(perr)"
"$C" roster apply "$T/B" >applyB.json
check "B: roster apply writes the office's revocation" "pk.mofa revoked" \
  "$(jq -r '[.keys_revoked[] | "\(.party) \(.now)"] | join(",")' applyB.json)"
jq -r '.keys_revoked[0].revoked_w' applyB.json | grep -q '^20' &&
  ok "  ... with the W of the record that revoked it ($(jq -r '.keys_revoked[0].revoked_w' applyB.json))" ||
  bad "  ... W: $(cat applyB.json)"
"$C" roster apply "$T/B" >applyB2.json
check "applying again changes nothing" "0" "$(jq '.keys_revoked | length' applyB2.json)"
sleep 2 # what A logs now is witnessed seconds after the revocation

# ---- A (not applied) logs the late note: B refuses it by W --------------------
"$C" record post --url "$U_A" --token "$T_MOFA" late.dsse >late.post &&
  ok "A, the revocation not applied there, logs pk.mofa's late note" || bad "post late: $(cat late.post)"
LATE=$(jq -r .id late.post); IXL=$(jq -r .log_index late.post)
refused_on_b() { perr | grep -q "refused (revoked).*pk.mofa (the office itself), revoked at"; }
until_ok 40 refused_on_b && ok "B refuses it: rule revoked, naming the office" || bad "B: $(perr)"
perr | grep -q "the revocation's W 20" && perr | grep -q "its W 20" &&
  ok "  ... with both witnessed times: $(perr | grep -o "revoked at.*" | cut -c1-160)" || bad "  ... B said $(perr)"
check "B's cursor stops at that record" "$IXL" "$("$C" peer list "$T/B" | jq -r '.[0].cursor')"
got_on B "$LATE" && bad "B stored the late note" || ok "B did not store it"

# ---- the early note stays valid at B -----------------------------------------
got_on B "$EARLY" && ok "B still holds the early note, logged before the revocation" || bad "early gone at B"
"$C" roster "$T/B" >rosterB.json
curl -s --noproxy '*' "$U_B/v1/records/$EARLY" >early.B
"$C" record verify --roster rosterB.json early.B >/dev/null 2>v.err &&
  ok "B: the early note verifies under the office's key" || bad "B: early: $(cat v.err)"
finish
