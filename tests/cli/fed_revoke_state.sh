#!/usr/bin/env bash
# fed_revoke_state.sh: a state key's revocation (by a quorum of admitters)
# weighed by the witnesses' times (docs/federation.md, section 1,
# "Revocations by the witnesses' times").
#
# A is the home of the admitter un.sec and of the state key pk, which
# un.sec admits (quorum 1) by an admission posted at A; B pins A, and A's
# checkpoints are cosigned by B's witness, which B's witness policy wants.
# pk signs two party records for pk.mofa at once: it posts one (early),
# keeps the other (late).  un.sec then revokes pk's key; B pulls the
# revocation (with its W) and applies it: the revocation and its W are
# written beside pk's key.  A's operator has not applied it, so A logs
# the late party record: created before the revocation, but logged, and
# witnessed, after it.  B refuses it (rule revoked, naming pk's state key,
# the revocation's time and W and the record's).  In B's roster the early
# record stays pk.mofa's entry; the late one imported by hand (no W known
# for it) is ignored by the same rule, where `created` alone would count
# it.  A, given B's witness policy, prints the same roster from the CLI
# run beside the serving A (which is its log's writer): the W of the
# revocation and of the late record, both logged at A, read from A's log
# opened to read, so the late record is ignored there too, naming its W;
# and `roster apply` at A writes the revocation with the W B wrote.
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/node_lib.bash"
C=$COMITY_BIN
cd "$T"

nodes_init A B
party_key pk pk-state.key; party_key un.sec un.key; party_key pk.mofa mofa.key
T_STATE=$(party_token A pk pk-state.key)
T_UN=$(party_token A un.sec un.key)
"$C" peer add "$T/A" "$U_B" --log-vkey "$VK_B" >/dev/null
"$C" peer add "$T/B" "$U_A" --log-vkey "$VK_A" --party "$(kv pk-state.key),$(kr pk-state.key)" \
  --party "$(kv un.key),$(kr un.key)" >/dev/null
printf 'admitter %s\nquorum 1\n' "$(kv un.key)" >policy
"$C" roster policy "$T/A" policy >/dev/null
"$C" roster policy "$T/B" policy >/dev/null
printf 'witness b %s\nquorum b\n' "$WK_B" >b.policy
"$C" peer witnesses "$T/B" b.policy >/dev/null && ok "B's witness policy kept" || bad "B policy"
node_start A; node_start B

admission() { # admission ACTION OUT: un.sec's word on pk's key
  printf '{"state":"pk","vkey":"%s","action":"%s"%s}' "$(kv pk-state.key)" "$1" \
    "$([ "$1" = admit ] && printf ',"home":{"log_vkey":"%s","url":"%s"},"recipient":"%s"' "$VK_A" "$U_A" "$(kr pk-state.key)")" |
    "$C" record sign --key un.key --type admission --tlp clear --out "$2"
}
admission admit admit.dsse
"$C" record post --url "$U_A" --token "$T_UN" admit.dsse >admit.post && ok "un.sec admits pk's key at A" || bad "admit: $(cat admit.post)"
until_ok 40 got_on B "$(jq -r .id admit.post)" && ok "B pulled the admission" || bad "admission not on B: $(perr)"

# ---- pk signs two party records; posts one -----------------------------------
fed_party "" early.dsse; sleep 0.01; fed_party '[]' late.dsse
"$C" record post --url "$U_A" --token "$T_STATE" early.dsse >early.post && ok "pk's early party record logged at A" || bad "post early: $(cat early.post)"
EARLY=$(jq -r .id early.post)
until_ok 40 got_on B "$EARLY" && ok "B took it" || bad "early not on B: $(perr)"
sleep 2 # the revocation created, and witnessed, seconds after the records

# ---- un.sec revokes pk's key; B pulls it with its W and applies it ----------
admission revoke revoke.dsse
"$C" record post --url "$U_A" --token "$T_UN" revoke.dsse >revoke.post && ok "un.sec revokes pk's key at A" || bad "revoke: $(cat revoke.post)"
until_ok 40 got_on B "$(jq -r .id revoke.post)" && ok "B pulled the revocation" || bad "revocation not on B: $(perr)"
"$C" roster apply "$T/B" >applyB.json
check "B: roster apply writes pk's key's revocation" "pk revoked" \
  "$(jq -r '[.keys_revoked[] | "\(.party) \(.now)"] | join(",")' applyB.json)"
jq -r '.keys_revoked[0].revoked_w' applyB.json | grep -q '^20' &&
  ok "  ... with the W of the admission that made the quorum" || bad "  ... W: $(cat applyB.json)"
sleep 2 # what A logs now is witnessed seconds after the revocation

# ---- A (not applied) logs the late record: B refuses it by W ----------------
fed_late_refused pk "pk (its state key), revoked at" "$T_STATE"

# ---- B's roster: the early record counts; the late one, imported, does not --
"$C" roster "$T/B" >rosterB.json
check "B's roster: pk.mofa's entry is the early record" "$EARLY" "$(jq -r '.parties[0].record' rosterB.json)"
"$C" roster import "$T/B" late.dsse >/dev/null
LATE=$(jq -r .id late.post)
"$C" roster "$T/B" | jq -r --arg id "$LATE" '.ignored[] | select(.id == $id) | .why' >late.why
grep -q "signed by pk's state key, revoked at .*its W unknown" late.why &&
  ok "the late record imported by hand is ignored by the rule (its W unknown): $(cut -c1-120 late.why)" ||
  bad "late imported: $(cat late.why) $("$C" roster "$T/B" | jq -c .ignored)"
check "  ... and the entry stays the early record" "$EARLY" "$("$C" roster "$T/B" | jq -r '.parties[0].record')"

# ---- A's roster, from the CLI beside the serving A: the W of what A logged --
"$C" peer witnesses "$T/A" b.policy >/dev/null || bad "A's witness policy"
"$C" roster "$T/A" >rosterA.json
check "A's roster (CLI beside serving A): pk.mofa's entry is the early record" "$EARLY" \
  "$(jq -r '.parties[0].record' rosterA.json)"
jq -r --arg id "$LATE" '.ignored[] | select(.id == $id) | .why' rosterA.json >lateA.why
grep -q "signed by pk's state key, revoked at .*the revocation's W 20.*its W 20" lateA.why &&
  ok "  ... the late record logged at A ignored by the rule, both W told: $(cut -c1-120 lateA.why)" ||
  bad "  ... late at A: $(cat lateA.why) $(jq -c .ignored rosterA.json)"
check "  ... A's parties are B's" "$(jq -cS .parties rosterB.json)" "$(jq -cS .parties rosterA.json)"
"$C" roster apply "$T/A" >applyA.json
check "A: roster apply (CLI) writes pk's key's revocation with the W B wrote" \
  "$(jq -r '.keys_revoked[0] | "\(.party) \(.now) \(.revoked_w)"' applyB.json)" \
  "$(jq -r '.keys_revoked[0] | "\(.party) \(.now) \(.revoked_w)"' applyA.json)"
finish
