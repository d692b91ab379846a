#!/usr/bin/env bash
# fed_home.sh: a new state joins by records alone (docs/federation.md,
# section 1, "a state key's home, from records"; section 11, "the roster
# follows it").
#
# A, B and C pin each other.  The admitter un.sec is homed at B (the
# policy's admitting key, quorum 1).  pk's state key is registered at A,
# its home, and nowhere pinned with a peer (no `peer add --party` for
# it): un.sec's admission record, posted at B, admits pk's key and names
# its home, A.  Every node's roster shows the home; C (`apply auto`)
# homes pk at A by itself, B on `roster apply`.  pk then posts a party
# record for a new office, pk.new, at A; B and C take it (pk homed at A
# by the admission), home pk.new at A, and take pk.new's note.  At the
# origin, intake refuses a roster record whose body the roster's parser
# refuses (rule body).  Then A's log key is lost: pk's succession to A2,
# posted at A2, is followed by B and C, and their rosters move pk's and
# pk.new's homes to A2 by themselves (no new party record): `roster
# apply` on B agrees with its directory, and A2 registers pk.new from its
# old party record.  Last, a pinned state key's home named by its policy
# line (`state VKEY LOG_VKEY URL AGE1`): `roster apply` homes it there.
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/node_lib.bash"
C=$COMITY_BIN
cd "$T"

nodes_init A B C
party_key un.sec sec.key; party_key pk pk-state.key; party_key pk.new new.key
SEC="$(kv sec.key),$(kr sec.key)"
T_SEC=$(party_token B un.sec sec.key)
T_STATE=$(party_token A pk pk-state.key)
# the admitter is homed at B; nobody pins pk's state key with a peer
"$C" peer add "$T/A" "$U_B" --log-vkey "$VK_B" --party "$SEC" >/dev/null
"$C" peer add "$T/A" "$U_C" --log-vkey "$VK_C" >/dev/null
"$C" peer add "$T/B" "$U_A" --log-vkey "$VK_A" >/dev/null
"$C" peer add "$T/B" "$U_C" --log-vkey "$VK_C" >/dev/null
"$C" peer add "$T/C" "$U_A" --log-vkey "$VK_A" >/dev/null
"$C" peer add "$T/C" "$U_B" --log-vkey "$VK_B" --party "$SEC" >/dev/null
printf 'admitter %s\nquorum 1\n' "$(kv sec.key)" >policy
printf 'admitter %s\nquorum 1\napply auto\n' "$(kv sec.key)" >policy.auto
"$C" roster policy "$T/A" policy >/dev/null
"$C" roster policy "$T/B" policy >/dev/null
"$C" roster policy "$T/C" policy.auto >/dev/null
node_start A; node_start B; node_start C

# ---- at the origin, a body the roster refuses is refused (rule body) ---------
post_refused() { # post_refused URL TOKEN FILE NEEDLE: refused, naming rule body and NEEDLE
  local rc=0
  "$C" record post --url "$1" --token "$2" "$3" >post.out 2>post.err || rc=$?
  [ "$rc" -ne 0 ] && grep -q "body" post.err && grep -q "$4" post.err
}
printf '{"state":"pk","vkey":"%s","action":"admit","home":{"log_vkey":"%s","url":"%s"}}' \
  "$(kv pk-state.key)" "$VK_A" "$U_A" |
  "$C" record sign --key sec.key --type admission --tlp clear --out nohome.dsse
post_refused "$U_B" "$T_SEC" nohome.dsse "admission.home" &&
  ok "B refuses an admission naming a home without the state key's recipient (rule body)" ||
  bad "admission without recipient: $(cat post.out post.err)"
printf '{"office":"pk.new","vkey":"%s"}' "$(kv new.key)" |
  "$C" record sign --key pk-state.key --type party --tlp clear --out short.dsse
post_refused "$U_A" "$T_STATE" short.dsse "party.recipient" &&
  ok "A refuses a party record without its recipient (rule body)" || bad "short party: $(cat post.out post.err)"
echo '{"text":"a note"}' | "$C" record sign --key sec.key --type note --tlp clear --out secnote.dsse
"$C" record post --url "$U_B" --token "$T_SEC" secnote.dsse >/dev/null && ok "another type's body is not the roster's" ||
  bad "note refused"

# ---- the admission names pk's home: A ---------------------------------------
printf '{"state":"pk","vkey":"%s","action":"admit","home":{"log_vkey":"%s","url":"%s"},"recipient":"%s"}' \
  "$(kv pk-state.key)" "$VK_A" "$U_A" "$(kr pk-state.key)" |
  "$C" record sign --key sec.key --type admission --tlp clear --out admit.dsse
"$C" record post --url "$U_B" --token "$T_SEC" admit.dsse >admit.post && ok "un.sec posts the admission at B, its home" ||
  bad "post admission: $(cat admit.post)"
ADMIT=$(jq -r .id admit.post)
state_home() { "$C" roster "$T/$1" | jq -r '.states[] | select(.state == "pk") | .home.origin // ""'; }
home_is_a() { [ "$(state_home "$1")" = comity.a.test ]; }
home_is_a B && ok "B's roster: pk's key homed at A" || bad "B's roster: $("$C" roster "$T/B")"
check "B's roster: the home was named by the admission" "$ADMIT" \
  "$("$C" roster "$T/B" | jq -r '.states[] | select(.state == "pk") | .home.record')"
until_ok 40 home_is_a A && ok "A pulled the admission: pk's key homed at A" || bad "A's roster: $("$C" roster "$T/A" | jq -c .states)"
until_ok 40 home_is_a C && ok "C pulled the admission: pk's key homed at A" || bad "C's roster: $("$C" roster "$T/C" | jq -c .states)"
homed_at_a() { # homed_at_a NODE PARTY
  "$C" peer list "$T/$1" | jq -e --arg o comity.a.test --arg p "$2" '.[] | select(.origin == $o) | .parties | index($p)' >/dev/null
}
until_ok 20 homed_at_a C pk && ok "C (apply auto): pk homed at A by itself" || bad "C: $("$C" peer list "$T/C" | jq -c '.[] | {origin, parties}')"
homed_at_a B pk && bad "B (manual): pk homed before apply" || ok "B (manual): the directory waits for the operator"
"$C" roster apply "$T/B" >applyB.json
check "B: roster apply homes pk's key at A" "pk" "$(jq -r '.homed_at_peers | join(",")' applyB.json)"
"$C" roster apply "$T/A" >applyA.json
check "A: pk's key is homed here, registered by its operator" "pk" "$(jq -r '.local | join(",")' applyA.json)"
"$C" roster apply "$T/B" >applyB2.json
check "B: apply again refuses nothing" "0" "$(jq -r '.refused | length' applyB2.json)"

# ---- pk posts its office's record at A; B and C take it, then its note -------
printf '{"office":"pk.new","vkey":"%s","recipient":"%s","home":{"log_vkey":"%s","url":"%s"}}' \
  "$(kv new.key)" "$(kr new.key)" "$VK_A" "$U_A" |
  "$C" record sign --key pk-state.key --type party --tlp clear --out party.dsse
"$C" record post --url "$U_A" --token "$T_STATE" party.dsse >party.post && ok "pk posts pk.new's party record at A" ||
  bad "post party: $(cat party.post)"
office_of() { "$C" roster "$T/$1" | jq -r '[.parties[].party] | join(",")'; }
has_office() { [ "$(office_of "$1")" = "pk.new" ]; }
until_ok 40 has_office B && ok "B pulled pk.new's record (pk homed at A by the admission)" ||
  bad "B's roster: $(office_of B) $("$C" peer list "$T/B" | jq -c '.[] | {origin, error}')"
until_ok 40 has_office C && ok "C pulled pk.new's record" || bad "C's roster: $(office_of C)"
until_ok 20 homed_at_a C pk.new && ok "C (apply auto): pk.new homed at A" || bad "C: pk.new not homed"
"$C" roster apply "$T/B" >applyB3.json
check "B: roster apply homes pk.new at A" "pk,pk.new" "$(jq -r '.homed_at_peers | join(",")' applyB3.json)"
T_NEW=$("$C" party add "$T/A" --record party.dsse | sed -n 's/^token (shown once): //p')
[ -n "$T_NEW" ] && ok "A registers pk.new from its party record" || bad "party add --record at A"
echo '{"text":"hello from a new state"}' | "$C" record sign --key new.key --type note --tlp clear --out note.dsse
"$C" record post --url "$U_A" --token "$T_NEW" note.dsse >note.post && ok "pk.new posts at A" || bad "post note: $(cat note.post)"
NOTE=$(jq -r .id note.post)
got_on() { curl -s --noproxy '*' -o /dev/null -w '%{http_code}' "$(eval echo "\$U_$1")/v1/records/$2" | grep -q 200; }
until_ok 40 got_on B "$NOTE" && ok "B took pk.new's note" || bad "note not on B: $("$C" peer list "$T/B" | jq -c '.[] | {origin, error}')"
until_ok 40 got_on C "$NOTE" && ok "C took pk.new's note" || bad "note not on C: $("$C" peer list "$T/C" | jq -c '.[] | {origin, error}')"
"$C" roster "$T/B" >b.json; "$C" roster "$T/C" >c.json
cmp -s b.json c.json && ok "B and C print the same roster, byte for byte" || { bad "rosters differ"; diff b.json c.json | head; }

# ---- A's log key is lost: the rosters follow pk's succession ----------------
nodes_init A2
"$C" peer add "$T/A2" "$U_B" --log-vkey "$VK_B" --party "$SEC" >/dev/null
"$C" peer add "$T/A2" "$U_C" --log-vkey "$VK_C" >/dev/null
"$C" roster policy "$T/A2" policy >/dev/null
T_STATE2=$(party_token A2 pk pk-state.key)
curl -s --noproxy '*' "$U_A/log/checkpoint" >cut.txt
N=$(sed -n 2p cut.txt)
cursor_at() { [ "$("$C" peer list "$T/$1" | jq -r --arg o comity.a.test '.[] | select(.origin == $o) | .cursor')" = "$N" ]; }
until_ok 40 cursor_at B && until_ok 40 cursor_at C && ok "B and C hold A's $N records: the cut" || bad "cursors"
node_stop A
"$C" log succeed --key pk-state.key --old-vkey "$VK_A" --new-vkey "$VK_A2" --url "$U_A2" \
  --checkpoint cut.txt -o succ.json >/dev/null && ok "pk signs the succession" || bad "log succeed"
node_start A2
"$C" record post --url "$U_A2" --token "$T_STATE2" succ.json >succ.post && ok "pk posts it at A2" || bad "post succession: $(cat succ.post)"
SUCC=$(jq -r .id succ.post)
"$C" peer add "$T/B" "$U_A2" --log-vkey "$VK_A2" >/dev/null
"$C" peer add "$T/C" "$U_A2" --log-vkey "$VK_A2" >/dev/null
homes() { "$C" roster "$T/$1" | jq -r '[(.states[] | .home.origin), (.parties[] | .home.origin)] | join(",")'; }
moved() { [ "$(homes "$1")" = "comity.a2.test,comity.a2.test" ]; }
until_ok 40 moved B && ok "B's roster: pk's key and pk.new homed at A2, with no new party record" ||
  bad "B's roster homes: $(homes B) $("$C" peer list "$T/B" | jq -c '.[] | {origin, error}')"
check "B's roster: the move names the succession" "$SUCC" "$("$C" roster "$T/B" | jq -r '.parties[0].home.record')"
until_ok 40 moved C && ok "C's roster follows it too" || bad "C's roster homes: $(homes C)"
"$C" roster "$T/B" >b2.json; "$C" roster "$T/C" >c2.json
cmp -s b2.json c2.json && ok "B and C print the same roster after the succession" || { bad "rosters differ"; diff b2.json c2.json | head; }
"$C" roster apply "$T/B" >applyB4.json
check "B: roster apply agrees with the directory that followed (nothing refused)" "0" \
  "$(jq -r '.refused | length' applyB4.json)"
check "B: pk and pk.new at A2" "pk,pk.new" "$("$C" peer list "$T/B" | jq -r '.[] | select(.origin == "comity.a2.test") | .parties | sort | join(",")')"
admitted_on_a2() { [ "$(state_home A2)" = comity.a2.test ]; }
until_ok 40 admitted_on_a2 && ok "A2 pulled the admission from B; its roster homes pk at A2" || bad "A2's roster: $("$C" roster "$T/A2" | jq -c .states)"
T_NEW2=$("$C" party add "$T/A2" --record party.dsse | sed -n 's/^token (shown once): //p')
[ -n "$T_NEW2" ] && ok "A2 registers pk.new from its old party record (the roster homes it at A2)" ||
  bad "party add --record at A2: $("$C" party add "$T/A2" --record party.dsse 2>&1)"
echo '{"text":"hello from the new node"}' | "$C" record sign --key new.key --type note --tlp clear --out note2.dsse
"$C" record post --url "$U_A2" --token "$T_NEW2" note2.dsse >note2.post && ok "pk.new posts at A2" || bad "post at A2: $(cat note2.post)"
NOTE2=$(jq -r .id note2.post)
until_ok 40 got_on B "$NOTE2" && ok "B took pk.new's note from A2" || bad "note2 not on B: $("$C" peer list "$T/B" | jq -c '.[] | {origin, error}')"
# ---- a pinned state key's home, named by the policy line -------------------
nodes_init D
printf 'state %s %s %s %s\n' "$(kv pk-state.key)" "$VK_A2" "$U_A2" "$(kr pk-state.key)" >policy.pinned
"$C" roster policy "$T/D" policy.pinned >/dev/null && ok "a policy pins pk's key with its home" || bad "pinned home policy"
"$C" roster apply "$T/D" >applyD.json
check "D: roster apply homes the pinned key at its home" "pk" "$(jq -r '.homed_at_peers | join(",")' applyD.json)"
check "D: pk homed at A2" "pk" "$("$C" peer list "$T/D" | jq -r '.[] | select(.origin == "comity.a2.test") | .parties | join(",")')"
printf 'state %s %s %s\n' "$(kv pk-state.key)" "$VK_A2" "$U_A2" >policy.nohome
rc=0; "$C" roster policy "$T/D" policy.nohome 2>pol.err || rc=$?
[ "$rc" -ne 0 ] && grep -q "too many words" pol.err && ok "a home without the recipient: refused" || bad "policy.nohome: $(cat pol.err)"
grep -q '"home": {"log_vkey", "url"}, "recipient"' <<<"$("$C" help roster)" && ok "comity help roster names the admission's home" ||
  bad "help roster: home"
finish
