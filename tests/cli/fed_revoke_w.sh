#!/usr/bin/env bash
# fed_revoke_w.sh: a revocation weighed by the witnesses' times
# (docs/federation.md, section 1, "Revocations by the witnesses' times").
#
# A is the home of pk and of its office pk.mofa (users alice and bob); B
# pins A, and A's checkpoints are cosigned by B's witness, which B's
# witness policy wants.  alice signs three notes at once: one she posts
# then (early), two she keeps.  The state then revokes alice by a party
# record posted at A; B pulls it (with the time its witnesses first
# cosigned it, W) and applies it.  A's operator has not applied it, so A
# logs one of alice's kept notes (late): created before the revocation,
# but logged, and witnessed, after it.  B refuses it (rule revoked, its
# cursor stops there), where a rule on `created` alone would take it.
# Once A applied the revocation, A refuses the other kept note at once
# (the origin logs a record after every revocation it holds), though it
# too was created before.  alice's early note stays valid on both nodes.
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/node_lib.bash"
C=$COMITY_BIN
cd "$T"

fed_pk_witnessed
USERS1="[{\"name\":\"alice\",\"vkey\":\"$(kv alice.key)\"},{\"name\":\"bob\",\"vkey\":\"$(kv bob.key)\"}]"
USERS2="[{\"name\":\"alice\",\"vkey\":\"$(kv alice.key)\",\"revoked\":\"left the ministry\"},{\"name\":\"bob\",\"vkey\":\"$(kv bob.key)\"}]"
fed_office_at_a "$USERS1"

# ---- alice signs three notes; posts one --------------------------------------
note alice.key "early" early.dsse; note alice.key "late" late.dsse; note alice.key "later" later.dsse
"$C" record post --url "$U_A" --token "$T_MOFA" early.dsse >early.post && ok "alice's early note logged at A" || bad "post early: $(cat early.post)"
EARLY=$(jq -r .id early.post)
until_ok 40 got_on B "$EARLY" && ok "B took it" || bad "early not on B: $(perr)"
sleep 2 # the revocation created, and witnessed, seconds after the notes

# ---- the state revokes alice; B pulls it with its W and applies it -----------
fed_party "$USERS2" p2.dsse
"$C" record post --url "$U_A" --token "$T_STATE" p2.dsse >p2.post && ok "the state posts alice's revocation at A" || bad "post p2"
P2=$(jq -r .id p2.post)
until_ok 40 got_on B "$P2" && ok "B pulled the revocation (its checkpoint cosigned by B's witness)" || bad "p2 not on B: $(perr)"
"$C" roster "$T/B" | jq -e --arg p "$P2" '.parties[0].users[] | select(.name == "alice") | .revoked_by == $p' >/dev/null &&
  ok "B's roster names the record that revoked alice" || bad "revoked_by: $("$C" roster "$T/B")"
"$C" roster apply "$T/B" >applyB.json
check "B: roster apply revokes alice" "alice revoked" "$(jq -r '[.users[] | "\(.user) \(.now)"] | join(",")' applyB.json)"
sleep 2 # what A logs now is witnessed seconds after the revocation

# ---- A (not applied) logs the late note: B refuses it by W --------------------
fed_late_refused alice "'alice', revoked at"

# ---- A applies the revocation: refuses the later note, created before it ----
"$C" roster apply "$T/A" >applyA.json
check "A: roster apply revokes alice" "alice revoked" "$(jq -r '[.users[] | "\(.user) \(.now)"] | join(",")' applyA.json)"
rc=0; "$C" record post --url "$U_A" --token "$T_MOFA" later.dsse >later.post 2>later.err || rc=$?
[ "$rc" -ne 0 ] && grep -q '"revoked"' later.post later.err && grep -q "logged here now" later.post later.err &&
  ok "A refuses alice's note created before the revocation but posted after: rule revoked" ||
  bad "later at A: rc $rc $(cat later.post later.err)"
note bob.key "bob" bob.dsse
"$C" record post --url "$U_A" --token "$T_MOFA" bob.dsse >bob.post && check "bob still posts at A" "bob" "$(jq -r .signer bob.post)" ||
  bad "post bob: $(cat bob.post)"

# ---- alice's early note stays valid on both nodes ----------------------------
"$C" roster "$T/B" >rosterB.json
for n in A B; do
  curl -s --noproxy '*' "$(eval echo "\$U_$n")/v1/records/$EARLY" >early.$n
  "$C" record verify --roster rosterB.json early.$n >/dev/null 2>v.err && grep -q "user 'alice'" v.err &&
    ok "$n: alice's early note still held and valid, naming her" || bad "$n: early: $(cat v.err)"
done
finish
