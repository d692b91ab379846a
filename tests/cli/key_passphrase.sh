#!/usr/bin/env bash
# key_passphrase.sh: comity key backup / restore with a passphrase
# (docs/operations.md, "Key custody"): age's scrypt stanza, so Debian's
# age opens our backup with the passphrase and we open the one age makes;
# the passphrase from a file descriptor or the terminal (a pty), never
# the command line; a wrong one, a work factor above the cap, and a
# backup sealed to recipients are refused, nothing written.
# Debian's age 1.1 reads a passphrase from the terminal only: it is driven
# on a pty by tests/cli/age_pty.py.
source "$(dirname "$0")/node_lib.bash"
C=$COMITY_BIN
PTY="$(cd "$(dirname "$0")" && pwd)/age_pty.py"
command -v age >/dev/null || { echo "age is not installed (scripts/install-deps installs it)"; exit 77; }
cd "$T"
"$C" init node --origin keys.example/node >/dev/null
"$C" keygen --party keys.mofa --out a.key >/dev/null 2>&1
printf 'correct horse battery staple\n' >pass.txt
want=1; for f in node.key witness.key tls/key.pem store retention.key; do [ -e "node/$f" ] && want=$((want + 1)); done

# ---- a file descriptor ----------------------------------------------------------
rc=0; "$C" key backup k.age --passphrase-fd 3 --node node a.key 3<pass.txt >out.txt 2>&1 || rc=$?
check "key backup --passphrase-fd" 0 "$rc"
check "every secret file sealed with a passphrase" \
  "sealed $want key file(s) with a passphrase (scrypt, work factor 2^18) in k.age" "$(cat out.txt)"
check "the backup is mode 0600" 600 "$(stat -c %a k.age)"
"$C" open -i a.key k.age >/dev/null 2>err.txt && bad "an identity opened a passphrase file" ||
  { grep -q "sealed with a passphrase" err.txt && ok "an identity cannot open it: $(cat err.txt)" || bad "identity: $(cat err.txt)"; }
rc=0; "$C" key restore k.age back --passphrase-fd 0 <pass.txt >list.json 2>err.txt || rc=$?
check "key restore --passphrase-fd" 0 "$rc"
for f in node.key witness.key tls/key.pem; do
  cmp -s "node/$f" "back/$f" && ok "restored $f as it was" || bad "restored $f differs"
done
cmp -s a.key back/parties/keys.mofa.key && ok "the party's key restored" || bad "party key"
rc=0; printf 'wrong horse\n' | "$C" key restore k.age back2 --passphrase-fd 0 >/dev/null 2>err.txt || rc=$?
[ "$rc" -ne 0 ] && [ ! -e back2 ] && grep -q "wrong passphrase" err.txt &&
  ok "a wrong passphrase opens nothing, writes nothing" || bad "wrong passphrase: rc $rc, $(cat err.txt)"

# ---- interop: age opens ours, we open age's ---------------------------------------
rc=0; python3 "$PTY" pass.txt age -d -o plain.json k.age 2>/dev/null || rc=$?
check "age -d opens our backup with the passphrase" 0 "$rc"
check "  ... the keys bundle" "1 $want" "$(jq -r '"\(.comity_keys) \(.keys | length)"' plain.json)"
rc=0; python3 "$PTY" pass.txt age -p -a -o byage.age plain.json 2>/dev/null || rc=$?
check "age -p seals the same plaintext" 0 "$rc"
stanza() { python3 -c 'import base64,sys; l=open(sys.argv[1]).read().split("\n"); b=base64.b64decode("".join(x for x in l if x and not x.startswith("-----"))); print(b.split(b"\n")[1].decode().split(" ")[1])' "$1"; }
check "  ... with its scrypt stanza, as ours" "scrypt scrypt" "$(stanza byage.age) $(stanza k.age)"
rc=0; "$C" key restore byage.age back3 --passphrase-fd 0 <pass.txt >/dev/null 2>err.txt || rc=$?
check "we open age's passphrase file" 0 "$rc"
cmp -s node/node.key back3/node.key && ok "  ... node.key as it was" || bad "back3 node.key"
rm -f plain.json

# ---- the terminal --------------------------------------------------------------------
rc=0; python3 "$PTY" pass.txt "$C" key restore k.age back4 --passphrase >/dev/null 2>tty.txt || rc=$?
check "key restore --passphrase asks on the terminal" 0 "$rc"
cmp -s a.key back4/parties/keys.mofa.key && ok "  ... and restores" || bad "tty restore: $(cat tty.txt)"
grep -q "correct horse" tty.txt && bad "the passphrase was echoed" || ok "  ... without echoing it"
rc=0; python3 "$PTY" pass.txt "$C" key backup k2.age --passphrase --node node >/dev/null 2>&1 || rc=$?
check "key backup --passphrase asks twice on the terminal" 0 "$rc"
python3 "$PTY" pass.txt age -d -o /dev/null k2.age 2>/dev/null && ok "  ... age opens it" || bad "age -d k2.age"
printf 'one passphrase\nanother one\n' >two.txt
rc=0; python3 "$PTY" two.txt "$C" key backup k3.age --passphrase --node node >/dev/null 2>tty.txt || rc=$?
[ "$rc" -ne 0 ] && [ ! -e k3.age ] && grep -q "the two passphrases differ" tty.txt &&
  ok "two passphrases that differ: refused, nothing written" || bad "mismatch: rc $rc, $(cat tty.txt)"
rc=0; "$C" key backup k4.age --passphrase --node node </dev/null >/dev/null 2>err.txt || rc=$?
if [ -r /dev/tty ] && (exec 3<>/dev/tty) 2>/dev/null; then
  ok "  (a terminal is attached: the no-terminal case is not checked here)"
else
  [ "$rc" -ne 0 ] && grep -q "passphrase-fd" err.txt && ok "no terminal: it says to use --passphrase-fd" ||
    bad "no tty: rc $rc, $(cat err.txt)"
fi

# ---- the work factor's cap ----------------------------------------------------------------
# our backup with its stanza's work factor set to 23, above the cap (22):
# refused before any scrypt work (2^23 KiB = 8 GiB would be needed)
python3 - k.age big.age <<'PY'
import base64, sys
lines = open(sys.argv[1]).read().split("\n")
body = base64.b64decode("".join(l for l in lines if l and not l.startswith("-----")))
head, sep, rest = body.partition(b"\n---")
head = head.replace(b" 18\n", b" 23\n", 1)
open(sys.argv[2], "wb").write(head + sep + rest)
PY
rc=0; "$C" key restore big.age back5 --passphrase-fd 0 <pass.txt >/dev/null 2>err.txt || rc=$?
[ "$rc" -ne 0 ] && [ ! -e back5 ] && grep -q "work factor 2^23 above the cap 2^22" err.txt &&
  ok "a work factor above the cap is refused: $(cut -c1-100 err.txt)" || bad "cap: rc $rc, $(cat err.txt)"

# ---- a backup sealed to a recipient is not opened with a passphrase ---------------------
"$C" key backup r.age --to "$("$C" key show a.key | cut -d' ' -f2)" --node node >/dev/null
rc=0; "$C" key restore r.age back6 --passphrase-fd 0 <pass.txt >/dev/null 2>err.txt || rc=$?
[ "$rc" -ne 0 ] && grep -q "not sealed with a passphrase" err.txt && ok "a recipients' backup: 'not sealed with a passphrase'" ||
  bad "recipients' backup: rc $rc, $(cat err.txt)"
rc=0; "$C" key backup r2.age --to "$("$C" key show a.key | cut -d' ' -f2)" --passphrase-fd 0 --node node <pass.txt >/dev/null 2>&1 || rc=$?
[ "$rc" -ne 0 ] && [ ! -e r2.age ] && ok "recipients and a passphrase together: refused" || bad "both: rc $rc"
finish
