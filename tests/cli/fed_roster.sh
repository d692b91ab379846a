#!/usr/bin/env bash
# fed_roster.sh: roster records travel between nodes like any other record
# (docs/federation.md, section 1).
#
# A (pk's node), B and C pin each other.  The state key of pk is a party
# of its own, homed at A (registered there; homed at A on B and C with
# the peering).  pk signs a party record for a new office, pk.new, homed
# at A, and posts it at A: A logs it, B and C pull it and add it to their
# rosters.  B's roster policy says `apply auto`: its key directory follows
# at once (pk.new homed at A).  C's says nothing (manual, the default):
# pk.new is not homed at C until its operator runs `comity roster apply`.
# Registered at A, pk.new posts a clear note there; B and C both take it.
# B and C print the same roster, byte for byte.  A record of a type
# outside the roster posted by the state key stays out of the roster.
# pk.new is registered at A from its party record (`party add --record`).
# The state then revokes pk.new: `roster apply` on A removes it (it posts
# nothing more); on B, where it is homed at A, it is kept.
# Then A's log key is lost: pk signs a log succession to a new node A2
# and posts it there; B, which pinned A2, follows it by itself as it pulls
# it (its parties of pk move to A2, A unpinned, the event in `peer
# list`); C, whose policy says `follow manual`, leaves the record waiting
# until its operator runs `comity peer follow`.
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/node_lib.bash"
C=$COMITY_BIN
cd "$T"

nodes_init A B C
party_key pk pk-state.key; party_key pk.new new.key
T_STATE=$(party_token A pk pk-state.key)
PS="$(kv pk-state.key),$(kr pk-state.key)"
# every node pins the others; B and C know pk's state key homed at A
"$C" peer add "$T/A" "$U_B" --log-vkey "$VK_B" >/dev/null
"$C" peer add "$T/A" "$U_C" --log-vkey "$VK_C" >/dev/null
"$C" peer add "$T/B" "$U_A" --log-vkey "$VK_A" --party "$PS" >/dev/null
"$C" peer add "$T/B" "$U_C" --log-vkey "$VK_C" >/dev/null
"$C" peer add "$T/C" "$U_A" --log-vkey "$VK_A" --party "$PS" >/dev/null
"$C" peer add "$T/C" "$U_B" --log-vkey "$VK_B" >/dev/null
printf 'state %s\n' "$(kv pk-state.key)" >policy
printf 'state %s\napply auto\n' "$(kv pk-state.key)" >policy.auto
"$C" roster policy "$T/A" policy >/dev/null
"$C" roster policy "$T/B" policy.auto >/dev/null && ok "roster policy with apply auto" || bad "apply auto policy"
"$C" roster policy "$T/C" policy >/dev/null
printf 'state %s\napply sometimes\n' "$(kv pk-state.key)" >policy.bad
rc=0; "$C" roster policy "$T/C" policy.bad 2>pol.err || rc=$?
[ "$rc" -ne 0 ] && grep -q "apply wants auto or manual" pol.err && ok "apply: another word refused" ||
  bad "apply sometimes: rc $rc $(cat pol.err)"
node_start A; node_start B; node_start C

# ---- the state posts pk.new's party record at A -----------------------------
printf '{"office":"pk.new","vkey":"%s","recipient":"%s","roles":["poc"],"home":{"log_vkey":"%s","url":"%s"}}' \
  "$(kv new.key)" "$(kr new.key)" "$VK_A" "$U_A" |
  "$C" record sign --key pk-state.key --type party --tlp clear --out party.dsse
"$C" record post --url "$U_A" --token "$T_STATE" party.dsse >party.post && ok "the state posts a party record at its home" ||
  bad "post party: $(cat party.post)"
PID_REC=$(jq -r .id party.post)
office_of() { "$C" roster "$T/$1" | jq -r '[.parties[].party] | join(",")'; }
check "A's roster holds pk.new (logged there)" "pk.new" "$(office_of A)"
has_office() { [ "$(office_of "$1")" = "pk.new" ]; }
until_ok 40 has_office B && ok "B pulled the party record into its roster" || bad "B's roster: $(office_of B) $("$C" peer list "$T/B" | jq -c '.[] | {origin, error}')"
until_ok 40 has_office C && ok "C pulled the party record into its roster" || bad "C's roster: $(office_of C)"
"$C" roster "$T/B" >b.json; "$C" roster "$T/C" >c.json
cmp -s b.json c.json && ok "B and C print the same roster, byte for byte" || { bad "rosters differ"; diff b.json c.json | head; }
check "the entry is the record posted at A" "$PID_REC" "$(jq -r '.parties[0].record' b.json)"
homed_at_a() { "$C" peer list "$T/$1" | jq -e --arg o comity.a.test '.[] | select(.origin == $o) | .parties | index("pk.new")' >/dev/null; }
until_ok 20 homed_at_a B && ok "B (apply auto): pk.new homed at A by itself" || bad "B: $("$C" peer list "$T/B" | jq -c '.[] | {origin, parties}')"
grep -q "follows the roster (apply auto)" "$T/B.err" && ok "B logged that it applied the roster" || bad "B's log: $(grep -i roster "$T/B.err")"
homed_at_a C && bad "C (manual): pk.new homed before apply" || ok "C (manual): the directory waits for the operator"

# ---- pk.new registered at its home posts; B and C take its note ------------
T_NEW=$("$C" party add "$T/A" --record party.dsse | sed -n 's/^token (shown once): //p')
[ -n "$T_NEW" ] && ok "A registers pk.new from its party record" || bad "party add --record at A"
echo '{"text":"hello from a new office"}' | "$C" record sign --key new.key --type note --tlp clear --out note.dsse
"$C" record post --url "$U_A" --token "$T_NEW" note.dsse >note.post && ok "pk.new posts at A" || bad "post note: $(cat note.post)"
NOTE=$(jq -r .id note.post)
got_on() { # got_on NODE ID: the record is stored there (clear: anyone reads it)
  curl -s --noproxy '*' -o /dev/null -w '%{http_code}' "$(eval echo "\$U_$1")/v1/records/$2" | grep -q 200
}
until_ok 40 got_on B "$NOTE" && ok "B took pk.new's note" || bad "note not on B: $("$C" peer list "$T/B" | jq -c '.[] | {origin, error}')"
sleep 1.5
got_on C "$NOTE" && bad "C took pk.new's note before its operator applied the roster" ||
  ok "C (manual): pk.new's note waits, the cursor stopped at it"
"$C" roster apply "$T/C" >applyC.json
check "C: roster apply homes pk.new at A" "pk.new" "$(jq -r '.homed_at_peers | join(",")' applyC.json)"
until_ok 40 got_on C "$NOTE" && ok "C took pk.new's note once applied" || bad "note not on C: $("$C" peer list "$T/C" | jq -c '.[] | {origin, error}')"

# ---- another record of the state key stays out of the roster ----------------
echo '{"text":"not a roster record"}' | "$C" record sign --key pk-state.key --type note --tlp clear --out other.dsse
"$C" record post --url "$U_A" --token "$T_STATE" other.dsse >other.post
OTHER=$(jq -r .id other.post)
until_ok 40 got_on B "$OTHER" || bad "the state's note not on B"
"$C" roster "$T/B" >b2.json
cmp -s b.json b2.json && ok "a note of the state key leaves the roster as it was" || bad "roster changed by a note"
# ---- the state revokes pk.new ---------------------------------------------
sleep 1 # created after the office's record, to the millisecond
printf '{"office":"pk.new","revoked":"office closed"}' |
  "$C" record sign --key pk-state.key --type party --tlp clear --out revoke.dsse
"$C" record post --url "$U_A" --token "$T_STATE" revoke.dsse >/dev/null && ok "the state posts the revocation at A" || bad "post revoke"
"$C" roster apply "$T/A" >applyA.json
check "A: roster apply removes pk.new, and says so" "pk.new removed: its token no longer works; its records stay valid" \
  "$(jq -r '.revoked[] | "\(.party) \(.now)"' applyA.json)"
echo '{"text":"after the revocation"}' | "$C" record sign --key new.key --type note --tlp clear --out late.dsse
rc=0; "$C" record post --url "$U_A" --token "$T_NEW" late.dsse >/dev/null 2>late.err || rc=$?
[ "$rc" -ne 0 ] && ok "pk.new posts nothing more at A" || bad "revoked office posted: $(cat late.err)"
revoked_on() { "$C" roster "$T/$1" | jq -e '.parties[] | select(.party == "pk.new") | .revoked' >/dev/null; }
until_ok 40 revoked_on B && ok "B's roster: pk.new revoked" || bad "revocation not on B"
"$C" roster apply "$T/B" >applyB.json
jq -r '.revoked[0].now' applyB.json | grep -q "^kept: homed at a peer" && ok "B: pk.new (homed at A) kept, its past records valid" ||
  bad "B's apply: $(cat applyB.json)"
# ---- A's log key is lost: pk announces its new node A2 ----------------------
# B and C's operators pin A2 (no parties); B follows the succession by
# itself when it pulls it from A2; C's policy says `follow manual`: the
# record waits (refused: pk is homed at A there) until `peer follow`.
nodes_init A2
"$C" peer add "$T/A2" "$U_B" --log-vkey "$VK_B" >/dev/null
"$C" peer add "$T/A2" "$U_C" --log-vkey "$VK_C" >/dev/null
T_STATE2=$(party_token A2 pk pk-state.key)
printf 'state %s\nfollow manual\n' "$(kv pk-state.key)" >policy.follow
"$C" roster policy "$T/C" policy.follow >/dev/null && ok "roster policy with follow manual" || bad "follow manual policy"
curl -s --noproxy '*' "$U_A/log/checkpoint" >cut.txt
N=$(sed -n 2p cut.txt)
cursor_at() { [ "$("$C" peer list "$T/$1" | jq -r --arg o comity.a.test '.[] | select(.origin == $o) | .cursor')" = "$N" ]; }
until_ok 40 cursor_at B && until_ok 40 cursor_at C && ok "B and C hold A's $N records: the cut" || bad "cursors: $("$C" peer list "$T/C" | jq -c '.[] | {origin, cursor, error}')"
node_stop A
"$C" log succeed --key pk-state.key --old-vkey "$VK_A" --new-vkey "$VK_A2" --url "$U_A2" \
  --checkpoint cut.txt -o succ.json >/dev/null && ok "pk signs the succession" || bad "log succeed"
node_start A2
"$C" record post --url "$U_A2" --token "$T_STATE2" succ.json >succ.post && ok "pk posts it at A2" || bad "post succession: $(cat succ.post)"
SUCC=$(jq -r .id succ.post)
"$C" peer add "$T/B" "$U_A2" --log-vkey "$VK_A2" >/dev/null
"$C" peer add "$T/C" "$U_A2" --log-vkey "$VK_A2" >/dev/null
got_green() { # got_green NODE ID: the record (green: for those logged in) stored there
  curl -s --noproxy '*' -o /dev/null -w '%{http_code}' -H "Authorization: Token $(optok "$T/$1.init")" \
    "$(eval echo "\$U_$1")/v1/records/$2" | grep -q 200
}
until_ok 40 got_green B "$SUCC" && ok "B took the succession from A2" || bad "succession not on B: $("$C" peer list "$T/B" | jq -c '.[] | {origin, error}')"
"$C" peer list "$T/B" >plB.json
check "B followed it by itself: pk and pk.new homed at A2" "pk,pk.new" \
  "$(jq -r --arg o comity.a2.test '.[] | select(.origin == $o) | .parties | sort | join(",")' plB.json)"
check "B: A unpinned (nobody homed there)" "" "$(jq -r '.[] | select(.origin == "comity.a.test") | .origin' plB.json)"
check "B's peer list shows the event at A2" "comity.a.test $N" \
  "$(jq -r --arg o comity.a2.test '.[] | select(.origin == $o) | "\(.succession.old_origin) \(.succession.cut_size)"' plB.json)"
grep -q "followed a log succession pulled from a peer" "$T/B.err" && ok "B logged the succession it followed" || bad "B's log"
succ_refused() { "$C" peer list "$T/C" | jq -r --arg o comity.a2.test '.[] | select(.origin == $o) | .error' | grep -q "refused (origin)"; }
until_ok 40 succ_refused && ok "C (follow manual): the record waits, its author still homed at A" ||
  bad "C: $("$C" peer list "$T/C" | jq -c '.[] | {origin, error}')"
check "C: pk still homed at A" "pk" "$("$C" peer list "$T/C" | jq -r '.[] | select(.origin == "comity.a.test") | .parties | index("pk") | if . == null then "" else "pk" end')"
"$C" peer follow "$T/C" succ.json >followC.json && ok "C's operator follows it" || bad "peer follow on C"
until_ok 40 got_green C "$SUCC" && ok "C took the succession once followed" || bad "succession not on C"
grep -q "follow manual" <<<"$("$C" help roster)" && ok "comity help roster names follow manual" || bad "help roster follow"
grep -q "apply auto" <<<"$("$C" help roster)" && ok "comity help roster names apply auto" || bad "help roster"
finish
