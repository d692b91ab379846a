#!/usr/bin/env bash
# fed_users.sh: an office's users (officers) sign its records, and one of
# them is revoked alone (docs/federation.md, section 1, "Which user signed
# a record").
#
# A is the home of pk and of its office pk.mofa; B pins A.  The state
# posts pk.mofa's party record at A listing two users, alice and bob,
# each with a key named pk.mofa; A registers the office from it (`party
# add --record`), B's operator applies the roster (pk.mofa homed at A,
# with its users).  alice signs a note and posts it at A (logged in as
# pk.mofa): A names her as its signer, B pulls it and verifies it under
# her key, and `record verify --roster` names her on both nodes.  The
# state then revokes alice by a new party record; B applies it first.
# bob still posts, and B takes his note.  A record alice signs after the
# revocation is refused by B when relayed (A's operator has not applied
# the revocation yet: A logged it), then, once A applied it, at A itself
# (rule revoked, naming alice and the revocation); her earlier note
# stays valid on both nodes, and bob still posts.
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/node_lib.bash"
C=$COMITY_BIN
cd "$T"

fed_pk_init
node_start A; node_start B

USERS1="[{\"name\":\"alice\",\"vkey\":\"$(kv alice.key)\"},{\"name\":\"bob\",\"vkey\":\"$(kv bob.key)\"}]"
USERS2="[{\"name\":\"alice\",\"vkey\":\"$(kv alice.key)\",\"revoked\":\"left the ministry\"},{\"name\":\"bob\",\"vkey\":\"$(kv bob.key)\"}]"
fed_party "$USERS1" p1.dsse
"$C" record post --url "$U_A" --token "$T_STATE" p1.dsse >/dev/null && ok "the state posts pk.mofa's party record at A" || bad "post p1"
T_MOFA=$("$C" party add "$T/A" --record p1.dsse | sed -n 's/^token (shown once): //p')
[ -n "$T_MOFA" ] && ok "A registers pk.mofa from its record" || bad "party add --record"
check "A: party show lists pk.mofa's users" "alice,bob" \
  "$("$C" party show "$T/A" pk.mofa | jq -r '[.users[].name] | join(",")')"
until_ok 40 office_on_b && ok "B pulled the party record" || bad "B's roster: $("$C" roster "$T/B")"
"$C" roster apply "$T/B" >applyB1.json
check "B: roster apply homes pk.mofa at A with its two users" "pk.mofa|alice added,bob added" \
  "$(jq -r '(.homed_at_peers | join(",")) + "|" + ([.users[] | "\(.user) \(.now)"] | join(","))' applyB1.json)"


# ---- alice signs: A names her, B verifies it under her key -------------------
note alice.key "from alice" n1.dsse
"$C" record post --url "$U_A" --token "$T_MOFA" n1.dsse >n1.post && ok "alice's note posted at A" || bad "post n1: $(cat n1.post)"
check "A's answer names the user who signed" "alice" "$(jq -r .signer n1.post)"
N1=$(jq -r .id n1.post)
until_ok 40 got_on B "$N1" && ok "B took alice's note (relayed, checked under her key)" ||
  bad "n1 not on B: $("$C" peer list "$T/B" | jq -c '.[] | {origin, error}')"
"$C" roster "$T/B" >rosterB1.json
curl -s --noproxy '*' "$U_B/v1/records/$N1" >n1.fromB
"$C" record verify --roster rosterB1.json n1.fromB >/dev/null 2>v1.err && grep -q "user 'alice'" v1.err &&
  ok "record verify --roster at B names alice" || bad "verify at B: $(cat v1.err)"
note mofa.key "from the office's own key" n0.dsse
"$C" record post --url "$U_A" --token "$T_MOFA" n0.dsse >n0.post && ok "the office's own key still posts" || bad "post n0"
check "no signer named for the office's own key" "null" "$(jq -r .signer n0.post)"

# ---- the state revokes alice; B applies it first -----------------------------
sleep 1 # the revocation created after alice's note, to the millisecond
fed_party "$USERS2" p2.dsse
"$C" record post --url "$U_A" --token "$T_STATE" p2.dsse >/dev/null && ok "the state posts alice's revocation at A" || bad "post p2"
alice_revoked_on_b() { "$C" roster "$T/B" | jq -e '.parties[0].users[] | select(.name == "alice") | .revoked_at' >/dev/null; }
until_ok 40 alice_revoked_on_b && ok "B pulled the revocation" || bad "revocation not on B"
"$C" roster apply "$T/B" >applyB2.json
check "B: roster apply revokes alice alone" "alice revoked" \
  "$(jq -r '[.users[] | "\(.user) \(.now)"] | join(",")' applyB2.json)"
check "B: party list shows alice revoked, bob not" "alice:left the ministry,bob:-" \
  "$("$C" party list "$T/B" | jq -r '[.[] | select(.name == "pk.mofa") | .users[] | "\(.name):\(.revoked // "-")"] | join(",")')"

# ---- bob still posts, and B takes his note -----------------------------------
note bob.key "from bob" n3.dsse
"$C" record post --url "$U_A" --token "$T_MOFA" n3.dsse >n3.post && ok "bob posts at A after alice's revocation" || bad "post n3: $(cat n3.post)"
check "A names bob" "bob" "$(jq -r .signer n3.post)"
N3=$(jq -r .id n3.post)
until_ok 40 got_on B "$N3" && ok "B took bob's note" || bad "n3 not on B: $("$C" peer list "$T/B" | jq -c '.[] | {origin, error}')"

# ---- alice signs after her revocation: refused by B (relayed), then at A -----
note alice.key "after my revocation" n2.dsse
"$C" record post --url "$U_A" --token "$T_MOFA" n2.dsse >n2.post &&
  ok "A (the revocation not applied by its operator yet) logs alice's late note" || bad "post n2 at A: $(cat n2.post)"
N2=$(jq -r .id n2.post)
refused_on_b() { "$C" peer list "$T/B" | jq -r '.[0].error' | grep -q "refused (revoked).*'alice', revoked at"; }
until_ok 40 refused_on_b && ok "B refuses alice's late note when relayed (rule revoked, naming her)" ||
  bad "B: $("$C" peer list "$T/B" | jq -c '.[] | {origin, error}')"
got_on B "$N2" && bad "B stored alice's late note" || ok "B did not store it"
"$C" roster apply "$T/A" >applyA.json
check "A: roster apply revokes alice (the office's entry is local)" "alice revoked" \
  "$(jq -r '[.users[] | "\(.user) \(.now)"] | join(",")' applyA.json)"
note alice.key "again after my revocation" n4.dsse
rc=0; "$C" record post --url "$U_A" --token "$T_MOFA" n4.dsse >n4.post 2>n4.err || rc=$?
[ "$rc" -ne 0 ] && grep -q '"revoked"' n4.post n4.err && grep -q "'alice', revoked at" n4.post n4.err &&
  grep -q "left the ministry" n4.post n4.err && ok "A refuses alice's later note: rule revoked, naming her and why" ||
  bad "n4 at A: rc $rc $(cat n4.post n4.err)"
note bob.key "bob again" n5.dsse
"$C" record post --url "$U_A" --token "$T_MOFA" n5.dsse >n5.post && check "bob still posts at A" "bob" "$(jq -r .signer n5.post)" ||
  bad "post n5: $(cat n5.post)"

# ---- alice's earlier note stays valid on both nodes -------------------------
"$C" roster "$T/A" >rosterA2.json; "$C" roster "$T/B" >rosterB2.json
cmp -s rosterA2.json rosterB2.json && ok "A and B print the same roster" || bad "rosters differ: $(diff rosterA2.json rosterB2.json | head -5)"
for n in A B; do
  curl -s --noproxy '*' "$(eval echo "\$U_$n")/v1/records/$N1" >n1.$n
  "$C" record verify --roster rosterB2.json n1.$n >/dev/null 2>v2.err && grep -q "user 'alice'" v2.err &&
    ok "$n: alice's note from before her revocation still verifies, naming her" || bad "$n: n1: $(cat v2.err)"
done
rc=0; "$C" record verify --roster rosterB2.json n4.dsse >/dev/null 2>v4.err || rc=$?
[ "$rc" -eq 1 ] && grep -q "'alice', revoked at" v4.err && ok "record verify --roster refuses her later note (exit 1)" ||
  bad "verify n4: rc $rc $(cat v4.err)"
grep -q -- "--roster" <<<"$("$C" help record)" && ok "comity help record names --roster" || bad "help record"
grep -q "party show" <<<"$("$C" help party)" && ok "comity help party names show" || bad "help party"
finish
