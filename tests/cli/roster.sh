#!/usr/bin/env bash
# roster.sh: the federation's states and offices folded from signed records
# (docs/federation.md, section 1; `comity roster`).
#
# A roster policy admits state keys by a quorum of 2 of 3 admitters (or
# pins one); states publish their offices as party records.  Two nodes
# given the same records in different orders print the same roster, byte
# for byte.  Ignored, each with its reason: a state key admitted by one
# admitter only (and its party record), an office of another state, a
# record signed by a key that is not the admitted one, an admission by a
# key outside the policy, a party record signed after its state key's
# revocation (the office's earlier record stays).  An office homed at A
# is registered there from its party record (`party add --record`); a
# superseded record, an ignored one, one homed elsewhere are refused.  A user is revoked
# without touching the office's other user.  Refused at import: another
# record type, a sealed one, a malformed body.
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/node_lib.bash"
C=$COMITY_BIN
cd "$T"

# keyfile PARTY FILE: a key file, and its public line kept beside it
keyfile() { "$C" keygen --party "$1" --out "$2" >/dev/null 2>&1; "$C" key show "$2" >"$2.pub"; }
kv() { cut -d' ' -f1 "$1.pub"; }
kr() { cut -d' ' -f2 "$1.pub"; }
# sign KEY TYPE BODY OUT
sign() { printf '%s' "$3" | "$C" record sign --key "$1" --type "$2" --tlp clear --out "$4"; }

for n in A B; do "$C" init "$T/$n" --origin "comity.$(echo $n | tr A-Z a-z).test" --no-tls-cert >"$T/$n.init"; done
VK_A=$(sed -n 's/^node key (signs its log): //p' A.init)
for k in un.sec ch.fdfa no.mfa pk in xx pk.mofa pk.cert in.mea xx.a; do keyfile "$k" "$k.key"; done
keyfile pk pk-other.key # another key named pk, admitted by nobody
keyfile pk.mofa alice.key; keyfile pk.mofa bob.key
cat >policy <<P
# two of three admitters admit a state key; in is pinned
admitter $(kv un.sec.key)
admitter $(kv ch.fdfa.key)
admitter $(kv no.mfa.key)
quorum 2
state $(kv in.key)
P
adm() { sign "$1.key" admission "{\"state\":\"$2\",\"vkey\":\"$(kv "$3")\",\"action\":\"$4\"}" "$5"; }
office() { # office STATEKEY OFFICE KEYFILE OUT [EXTRA]
  sign "$1" party "{\"office\":\"$2\",\"vkey\":\"$(kv "$3")\",\"recipient\":\"$(kr "$3")\",\"roles\":[\"poc\"],\"home\":{\"log_vkey\":\"$VK_A\",\"url\":\"http://127.0.0.1:1\"}${5:-}}" "$4"
}
adm un.sec pk pk.key admit r01.dsse
adm ch.fdfa pk pk.key admit r02.dsse
adm un.sec xx xx.key admit r03.dsse        # one admitter only: xx not admitted
adm pk.mofa pk pk-other.key admit r04.dsse # not an admitter
office pk.key pk.mofa pk.mofa.key r05.dsse \
  ",\"users\":[{\"name\":\"alice\",\"vkey\":\"$(kv alice.key)\"},{\"name\":\"bob\",\"vkey\":\"$(kv bob.key)\"}]"
office in.key in.mea in.mea.key r06.dsse     # in: pinned
office xx.key xx.a xx.a.key r07.dsse         # xx not admitted
office pk.key in.fake in.mea.key r08.dsse 2>/dev/null || true # body names in.fake: vkey mismatch
office pk-other.key pk.cert pk.cert.key r09.dsse # signed by a key nobody admitted
office pk.key pk.mofa pk.mofa.key r10.dsse \
  ",\"users\":[{\"name\":\"alice\",\"vkey\":\"$(kv alice.key)\",\"revoked\":\"left the office\"},{\"name\":\"bob\",\"vkey\":\"$(kv bob.key)\"}]"
office pk.key pk.cert pk.cert.key r11.dsse   # before the revocation: stays
adm un.sec pk pk.key revoke r12.dsse
adm no.mfa pk pk.key revoke r13.dsse          # quorum: pk's key revoked from here
sign pk.key party "{\"office\":\"pk.cert\",\"revoked\":\"compromised\"}" r14.dsse # after: ignored
ls r*.dsse >/dev/null

"$C" roster policy "$T/A" policy >/dev/null && ok "roster policy set" || bad "roster policy"
"$C" roster policy "$T/B" policy >/dev/null
FILES=$(ls r*.dsse | grep -v r08)
# A: in order; B: reversed, one at a time, and one record twice
"$C" roster import "$T/A" $FILES >imp.out && ok "roster import" || bad "roster import: $(cat imp.out)"
for f in $(echo "$FILES" | tac); do "$C" roster import "$T/B" "$f" >/dev/null; done
"$C" roster import "$T/B" r05.dsse >/dev/null && ok "the same record again is harmless" || bad "reimport"
"$C" roster "$T/A" >a.json; "$C" roster "$T/B" >b.json
cmp -s a.json b.json && ok "two nodes, records in other orders: the same roster byte for byte" ||
  { bad "rosters differ"; diff a.json b.json | head -20; }

q() { python3 -c "import json,sys; r=json.load(open('a.json')); print($1)"; }
check "states: pk admitted, in pinned, xx not" "in,pk" "$(q "','.join(sorted(s['state'] for s in r['states']))")"
check "in is pinned" "pinned" "$(q "[s for s in r['states'] if s['state']=='in'][0]['admitted']")"
check "pk's key revoked by the quorum" "True" "$(q "'revoked' in [s for s in r['states'] if s['state']=='pk'][0]")"
check "offices: in.mea, pk.cert, pk.mofa" "in.mea,pk.cert,pk.mofa" "$(q "','.join(p['party'] for p in r['parties'])")"
check "pk.mofa's entry is its latest record" "$("$C" record verify --vkey "$(kv pk.key)" r10.dsse | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')" \
  "$(q "[p for p in r['parties'] if p['party']=='pk.mofa'][0]['record']")"
check "alice revoked, bob not" "left the office,-" \
  "$(q "','.join(u.get('revoked','-') for u in [p for p in r['parties'] if p['party']=='pk.mofa'][0]['users'])")"
check "pk.cert signed before the revocation stays, not revoked" "False" \
  "$(q "'revoked' in [p for p in r['parties'] if p['party']=='pk.cert'][0]")"
check "pk.mofa homed at A by log key" "comity.a.test" "$(q "[p for p in r['parties'] if p['party']=='pk.mofa'][0]['home']['origin']")"
why() { q "sorted(i['why'] for i in r['ignored'] if i['author']=='$1')"; }
echo "$(why xx)" | grep -q "no key of the author's state is admitted" && ok "xx.a ignored: xx admitted by one of 2" || bad "xx: $(why xx)"
echo "$(why pk.mofa)" | grep -q "no admitter" && ok "an admission by a non-admitter ignored" || bad "non-admitter: $(why pk.mofa)"
check "ignored: 4 records (xx.a, non-admitter, pk.cert by another pk key, pk.cert after revocation)" 4 "$(q "len(r['ignored'])")"
q "[i['why'] for i in r['ignored'] if i['author']=='pk']" | grep -q "verifies under no admitted key" &&
  ok "a party record under a key nobody admitted ignored" || bad "forged pk: $(q "r['ignored']")"
q "[i['why'] for i in r['ignored'] if i['author']=='pk']" | grep -q "no key of the author's state is admitted" &&
  ok "a party record after its state key's revocation ignored" || bad "after revocation: $(q "r['ignored']")"

# apply: B's key directory follows the roster (every office is homed at A)
"$C" roster apply "$T/B" >apply.json && ok "roster apply" || bad "roster apply"
check "B: the offices homed at A are pinned there" "in.mea,pk.cert,pk.mofa" \
  "$(python3 -c "import json; print(','.join(json.load(open('apply.json'))['homed_at_peers']))")"
"$C" peer list "$T/B" >peers.json
check "B pins A at the URL of the entries, with the offices" "http://127.0.0.1:1 in.mea,pk.cert,pk.mofa" \
  "$(python3 -c "import json; p=json.load(open('peers.json'))[0]; print(p['url'], ','.join(sorted(p['parties'])))")"
check "B: pk.mofa's users written beside its key (alice revoked)" "pk.mofa alice revoked,pk.mofa bob added" \
  "$(python3 -c "import json; print(','.join(sorted(u['party']+' '+u['user']+' '+u['now'] for u in json.load(open('apply.json'))['users'])))")"
"$C" party show "$T/B" pk.mofa >mofa.json && ok "party show" || bad "party show"
check "party show: alice revoked at the roster's time (r10's created), bob not" \
  "alice:left the office:$(q "[u for u in [p for p in r['parties'] if p['party']=='pk.mofa'][0]['users'] if u['name']=='alice'][0]['revoked_at']"),bob:-:-" \
  "$(python3 -c "import json; print(','.join(u['name']+':'+u.get('revoked','-')+':'+u.get('revoked_at','-') for u in json.load(open('mofa.json'))['users']))")"
check "the roster: alice revoked at r10's created" "$("$C" record verify --vkey "$(kv pk.key)" r10.dsse 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["created"])')" \
  "$(q "[u for u in [p for p in r['parties'] if p['party']=='pk.mofa'][0]['users'] if u['name']=='alice'][0]['revoked_at']")"
"$C" roster apply "$T/B" >apply2.json
python3 - apply.json apply2.json <<'PY' && ok "apply again: harmless (no user changed)" || bad "apply twice"
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:])
users = b.pop("users"); a.pop("users")
sys.exit(0 if a == b and users == [] else 1)
PY
# on A (their home), an office is registered by the operator from its party record
rc=0; "$C" party add "$T/A" --record r05.dsse >/dev/null 2>pa.err || rc=$?
[ "$rc" -ne 0 ] && grep -q "a later record of pk.mofa" pa.err && ok "party add --record: a superseded record refused" ||
  bad "superseded: rc $rc $(cat pa.err)"
rc=0; "$C" party add "$T/A" --record r09.dsse >/dev/null 2>pa.err || rc=$?
[ "$rc" -ne 0 ] && grep -q "the roster ignores it: the signature verifies under no admitted key" pa.err &&
  ok "party add --record: a record the roster ignores refused, saying why" || bad "ignored: rc $rc $(cat pa.err)"
rc=0; "$C" party add "$T/B" --record r10.dsse >/dev/null 2>pa.err || rc=$?
[ "$rc" -ne 0 ] && grep -q "homed at comity.a.test, not here" pa.err && ok "party add --record: an office homed elsewhere refused" ||
  bad "homed elsewhere: rc $rc $(cat pa.err)"
rc=0; "$C" party add "$T/A" pk.mofa --record r10.dsse >/dev/null 2>pa.err || rc=$?
check "party add --record with a name: usage" 2 "$rc"
"$C" party add "$T/A" --record r10.dsse >pa.out && grep -q "^registered pk.mofa" pa.out &&
  ok "party add --record: pk.mofa registered from its entry" || bad "party add --record: $(cat pa.out)"
check "  ... with the record's key" "$(kv pk.mofa.key)" \
  "$("$C" party list "$T/A" | jq -r '.[] | select(.name == "pk.mofa") | .vkey')"
"$C" roster apply "$T/A" >applyA.json
check "A: pk.mofa registered here is local, the others wait for registration" "pk.mofa 2" \
  "$(python3 -c "import json; a=json.load(open('applyA.json')); print(','.join(a['local']), len(a['refused']))")"

# refusals at import
printf '{}' | "$C" record sign --key pk.mofa.key --type note --tlp clear --out note.dsse 2>/dev/null
rc=0; "$C" roster import "$T/A" note.dsse 2>imp.err || rc=$?
[ "$rc" -ne 0 ] && grep -q "want party or admission" imp.err && ok "import: another type refused" || bad "note: rc $rc $(cat imp.err)"
sign pk.key party '{"office":"pk.x","vkey":"nope"}' bad.dsse
rc=0; "$C" roster import "$T/A" bad.dsse 2>imp.err || rc=$?
[ "$rc" -ne 0 ] && grep -q "party.vkey" imp.err && ok "import: a malformed party body refused" || bad "bad body: rc $rc $(cat imp.err)"
printf 'quorum 4\nadmitter %s\n' "$(kv un.sec.key)" >bad.policy
rc=0; "$C" roster policy "$T/A" bad.policy 2>pol.err || rc=$?
[ "$rc" -ne 0 ] && grep -q "quorum" pol.err && ok "policy: a quorum over the admitters refused" || bad "policy: rc $rc $(cat pol.err)"
grep -q "comity roster import DIR" <<<"$("$C" help roster)" && ok "comity help roster" || bad "help roster"
grep -q "party add DIR --record FILE" <<<"$("$C" help party)" && ok "comity help party names --record" || bad "help party"
finish
