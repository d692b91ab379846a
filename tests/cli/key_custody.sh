#!/usr/bin/env bash
# key_custody.sh: comity key backup / restore (docs/operations.md, "Key
# custody"): a node's secret files and a party's key sealed to a
# custodian's recipient, restored whole and checked; refused with another
# identity, with a key that is not the one recorded, and with a path out
# of the directory.
source "$(dirname "$0")/node_lib.bash"
C=$COMITY_BIN
cd "$T"
"$C" init node --origin keys.example/node >/dev/null
"$C" keygen --party keys.mofa --out a.key >/dev/null 2>&1
"$C" keygen --party keys.custodian --out cust.key >/dev/null 2>&1
"$C" keygen --party keys.other --out other.key >/dev/null 2>&1
R=$("$C" key show cust.key | cut -d' ' -f2)
R2=$("$C" key show other.key | cut -d' ' -f2)

rc=0; "$C" key backup k.age --to "$R" --node node a.key >out.txt 2>&1 || rc=$?
check "key backup" 0 "$rc"
want=0; for f in node.key witness.key tls/key.pem store retention.key; do [ -e "node/$f" ] && want=$((want + 1)); done
check "every secret file of the node and the party key sealed" "sealed $((want + 1)) key file(s) to 1 recipient(s) in k.age" "$(cat out.txt)"
check "the backup is mode 0600" 600 "$(stat -c %a k.age)"
head -1 k.age | grep -q -- '-----BEGIN AGE ENCRYPTED FILE-----' && ok "armored age" || bad "not armored"
grep -q 'PRIVATE+KEY' k.age && bad "a key in clear" || ok "no key in clear"
rc=0; "$C" key backup k.age --to "$R" --node node >/dev/null 2>&1 || rc=$?
[ "$rc" -ne 0 ] && ok "an existing OUT is not overwritten" || bad "overwrote k.age"

rc=0; "$C" key restore k.age back --identity cust.key >list.json 2>err.txt || rc=$?
check "key restore" 0 "$rc"
for f in node.key witness.key tls/key.pem; do
  cmp -s "node/$f" "back/$f" && ok "restored $f as it was" || bad "restored $f differs"
  check "restored $f mode 0600" 600 "$(stat -c %a "back/$f")"
done
cmp -s a.key back/parties/keys.mofa.key && ok "the party's key as parties/keys.mofa.key" || bad "party key"
check "the restore lists the node key's vkey, named after the origin" "keys.example/node" \
  "$(jq -r '.keys[] | select(.path == "node.key") | .vkey' list.json | cut -d+ -f1)"
check "the restored directory is mode 0700" 700 "$(stat -c %a back)"

rc=0; "$C" key restore k.age back2 --identity other.key >/dev/null 2>err.txt || rc=$?
[ "$rc" -ne 0 ] && [ ! -e back2 ] && ok "another identity opens nothing (rc $rc)" || bad "opened with other.key"

# a backup whose recorded key is not the key it holds: refused, nothing written
"$C" open -i cust.key k.age >plain.json
jq -c '(.keys[] | select(.path == "node.key") | .vkey) = (.keys[] | select(.path == "parties/keys.mofa.key") | .vkey)' \
  plain.json | "$C" seal -r "$R" -o swapped.age
rc=0; "$C" key restore swapped.age back3 --identity cust.key >/dev/null 2>err.txt || rc=$?
[ "$rc" -ne 0 ] && grep -q "node.key: its public key is .*not the recorded keys.mofa" err.txt && [ ! -e back3 ] &&
  ok "a key that is not the recorded one is refused, nothing written" || bad "swapped: rc $rc, $(cat err.txt)"
jq -c '.keys += [{"path": "../escape.key", "text": "x"}]' plain.json | "$C" seal -r "$R" -o escape.age
rc=0; "$C" key restore escape.age back4 --identity cust.key >/dev/null 2>err.txt || rc=$?
[ "$rc" -ne 0 ] && grep -q "'../escape.key' is not a node secret file" err.txt && [ ! -e escape.key ] &&
  ok "a path out of the directory is refused" || bad "escape: rc $rc, $(cat err.txt)"
jq -c '.keys[0].text = "PRIVATE+KEY+broken"' plain.json | "$C" seal -r "$R" -o broken.age
rc=0; "$C" key restore broken.age back5 --identity cust.key >/dev/null 2>err.txt || rc=$?
[ "$rc" -ne 0 ] && grep -q "key backup: node.key:" err.txt && ok "a damaged key is refused, named" ||
  bad "broken: rc $rc, $(cat err.txt)"
rm -f plain.json
finish
