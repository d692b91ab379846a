#!/usr/bin/env bash
# record_cli.sh: the comity command end to end: keygen, key show, record
# sign/verify/open/digest, exit statuses, errors on stderr, and that a
# comity key file is an identity file Debian's age accepts.
set -u
c=${COMITY_BIN:?}
d=$(mktemp -d); trap 'rm -rf "$d"' EXIT; cd "$d"
fails=0; n=0
ok()   { n=$((n+1)); echo "ok $n - $1"; }
bad()  { n=$((n+1)); fails=$((fails+1)); echo "not ok $n - $1"; }
want() { # want STATUS DESC CMD...
  local st=$1 desc=$2; shift 2
  "$@" > out 2> err; local got=$?
  if [ $got -eq "$st" ]; then ok "$desc"; else bad "$desc (exit $got, want $st; stderr: $(head -c 300 err))"; fi
}

want 0 "keygen" $c keygen --party pk.pkcert --out a.key
want 0 "keygen b" $c keygen --party in.cert-in --out b.key
[ "$(stat -c %a a.key)" = 600 ] && ok "key file mode 0600" || bad "key file mode"
want 2 "keygen refuses to overwrite" $c keygen --party pk.pkcert --out a.key
grep -q "refusing to overwrite" err && ok "says why" || bad "overwrite message"
want 2 "keygen bad party" $c keygen --party "PK!" --out x.key
want 2 "keygen without --party" $c keygen
$c key show a.key > a.line; $c key show b.key > b.line; cat a.line b.line > peers.keys
grep -Eq '^pk\.pkcert\+[0-9a-f]{8}\+[A-Za-z0-9+/]{44} age1[0-9a-z]{58}$' a.line && ok "identity line format" || bad "identity line: $(cat a.line)"

echo '{"x":1}' > body.json
want 0 "sign green" $c record sign --key a.key --type notification --to in.cert-in --body body.json --out n.json
want 0 "verify with keys file" $c record verify --vkey peers.keys n.json
grep -q '"author": "pk.pkcert"' out && ok "verify prints payload" || bad "verify output"
want 0 "verify with one vkey" $c record verify --vkey "$(cut -d' ' -f1 a.line)" n.json
want 2 "verify: no key for author" $c record verify --vkey "$(cut -d' ' -f1 b.line)" n.json
# change the body inside the signed payload, keeping it valid JSON
python3 -c 'import json,base64; e=json.load(open("n.json")); p=base64.b64decode(e["payload"]).replace(b"\"x\":1", b"\"x\":2"); e["payload"]=base64.b64encode(p).decode(); json.dump(e, open("t.json","w"))'

want 1 "verify tampered: exit 1" $c record verify --vkey peers.keys t.json
sed 's/"payload":"e/"payload":"f/' n.json > g.json
want 2 "verify broken payload: exit 2" $c record verify --vkey peers.keys g.json
want 2 "verify garbage: exit 2" sh -c "echo '{' | $c record verify --vkey peers.keys"
want 0 "digest" $c record digest n.json
grep -Eq '^entry   comity-record-v1:[0-9a-f]{64}$' out && ok "digest prints the entry" || bad "digest: $(cat out)"

echo '{"secret":"logs of 2026-11-20"}' > s.json
want 2 "amber without recipient keys" $c record sign --key a.key --type evidence --tlp amber --to in.cert-in --body s.json
want 0 "sign amber" $c record sign --key a.key --type evidence --tlp amber --to in.cert-in --keys peers.keys --body s.json --out e.json
grep -q "logs of" e.json && bad "amber body leaked" || ok "amber body not in clear"
want 0 "recipient opens" $c record open --key b.key --vkey peers.keys e.json
grep -q '"secret": "logs of 2026-11-20"' out && ok "opened body" || bad "opened: $(cat out)"
want 0 "author opens" $c record open --key a.key e.json
$c keygen --party us.cisa --out c.key > /dev/null
want 2 "third party cannot open" $c record open --key c.key e.json
if command -v age > /dev/null; then
  # the sealed body inside the record opens with Debian's age and the recipient's comity key file
  python3 -c 'import json,base64,sys; e=json.load(open("e.json")); p=json.loads(base64.b64decode(e["payload"])); sys.stdout.buffer.write(base64.b64decode(p["sealed"]))' > body.age
  if age -d -i b.key body.age > age.out 2> age.err && grep -q "logs of 2026-11-20" age.out; then ok "age -d -i <comity key file> opens the sealed body"; else bad "age: $(cat age.err)"; fi
fi
want 0 "help record" $c help record
grep -q "comity record sign" out && ok "help teaches" || bad "help text"
want 0 "--help lists commands" $c --help
want 2 "unknown command" $c frobnicate
echo "$((n-fails)) passed, $fails failed"
[ $fails -eq 0 ]
