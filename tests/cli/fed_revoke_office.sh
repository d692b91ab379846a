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

fed_pk_witnessed
fed_office_at_a ""

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
fed_late_refused pk.mofa "pk.mofa (the office itself), revoked at"

# ---- the early note stays valid at B -----------------------------------------
got_on B "$EARLY" && ok "B still holds the early note, logged before the revocation" || bad "early gone at B"
"$C" roster "$T/B" >rosterB.json
curl -s --noproxy '*' "$U_B/v1/records/$EARLY" >early.B
"$C" record verify --roster rosterB.json early.B >/dev/null 2>v.err &&
  ok "B: the early note verifies under the office's key" || bad "B: early: $(cat v.err)"
finish
