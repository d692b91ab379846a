#!/usr/bin/env bash
# age_cli.sh: the comity seal / open command line: options, usage errors and
# their exit status (2), output files (temporary name, renamed on success,
# mode 0600 for plaintext), help text.  Needs $COMITY_BIN and age-keygen.
set -euo pipefail
: "${COMITY_BIN:?}"
t=$(mktemp -d); trap 'rm -rf "$t"' EXIT
cd "$t"
fail() { echo "FAIL: $*" >&2; exit 1; }
# status WANT NEEDLE CMD...: runs CMD, checks exit status and stderr
status() {
  local want=$1 needle=$2 st=0; shift 2
  "$@" > /dev/null 2> err || st=$?
  [ "$st" -eq "$want" ] || fail "$*: exit $st, want $want ($(cat err))"
  grep -qF -- "$needle" err || fail "$*: message '$(cat err)' lacks '$needle'"
}

age-keygen -o k1.txt 2>/dev/null
R1=$(age-keygen -y k1.txt)
echo "hello" > p

"$COMITY_BIN" seal --help | grep -q "usage: comity seal" || fail "seal --help"
grep -q "usage: comity open" <<<"$("$COMITY_BIN" help open)" || fail "help open"

# seal usage errors
status 2 "no recipient" "$COMITY_BIN" seal -o c.age p
# change the last Bech32 character (to one it is not) to break the checksum
last=${R1: -1}; other=q; [ "$last" = q ] && other=p
status 2 "checksum" "$COMITY_BIN" seal -r "${R1%?}$other" -o c.age p
status 2 "needs a value" "$COMITY_BIN" seal -r
status 2 "unknown option -x" "$COMITY_BIN" seal -x -r "$R1" p
status 2 "one input file" "$COMITY_BIN" seal -r "$R1" p p
status 2 "nope" "$COMITY_BIN" seal -r "$R1" -o c.age nope
printf '%s\nage1bad\n' "$R1" > r.txt
status 2 "r.txt line 2" "$COMITY_BIN" seal -R r.txt -o c.age p
status 2 "missing.txt" "$COMITY_BIN" seal -R missing.txt -o c.age p
[ ! -e c.age ] || fail "c.age created by a failed seal"

# a comity keys file (lines printed by comity keygen) works as -R FILE
"$COMITY_BIN" keygen --party pk.pkcert --out party.key 2>/dev/null > keys.txt
"$COMITY_BIN" keygen --party in.cert --out party2.key 2>/dev/null >> keys.txt
"$COMITY_BIN" seal -R keys.txt -o k.age p
"$COMITY_BIN" open -i party2.key k.age | cmp -s - p || fail "seal -R keys file"
"$COMITY_BIN" open -i party.key k.age | cmp -s - p || fail "seal -R keys file (2)"
echo "pk.x+01020304+AQAA notarecipient" > badkeys.txt
status 2 "badkeys.txt line 1" "$COMITY_BIN" seal -R badkeys.txt -o k2.age p

# open usage errors
"$COMITY_BIN" seal -r "$R1" -o c.age p
status 2 "no identity" "$COMITY_BIN" open c.age
status 2 "none.txt" "$COMITY_BIN" open -i none.txt c.age
echo "garbage" > bad.txt
status 2 "line 1: not an age identity" "$COMITY_BIN" open -i bad.txt c.age
status 2 "bad.txt: line 1" "$COMITY_BIN" open -i k1.txt -i bad.txt c.age
status 2 "nope.age" "$COMITY_BIN" open -i k1.txt nope.age

# outputs: replaced only on success, no temporary files, plaintext 0600
echo old > out.txt
"$COMITY_BIN" open -i k1.txt -o out.txt c.age
cmp -s out.txt p || fail "open -o"
[ "$(stat -c %a out.txt)" = 600 ] || fail "open -o mode $(stat -c %a out.txt)"
"$COMITY_BIN" seal -r "$R1" -o c2.age - < p
"$COMITY_BIN" open -i k1.txt - < c2.age | cmp -s - p || fail "stdin as -"
[ "$(stat -c %a c2.age)" = 644 ] || fail "seal -o mode"
mkdir d
status 2 "d/nodir" "$COMITY_BIN" seal -r "$R1" -o d/nodir/x.age p
[ -z "$(ls d)" ] || fail "files left in d/"
if ls | grep -E '\.(age|txt)\.[A-Za-z0-9]{6}$'; then fail "temporary files left"; fi
# a signal while sealing removes the temporary file
mkfifo fifo
exec 3<> fifo                       # keeps the pipe open: comity waits for input
"$COMITY_BIN" seal -r "$R1" -o sig.age fifo & pid=$!
for _ in $(seq 100); do ls | grep -q '^sig\.age\.' && break; sleep 0.1; done
ls | grep -q '^sig\.age\.' || fail "no temporary file while sealing"
kill -TERM $pid; st=0; wait $pid || st=$?
exec 3>&-
[ $st -eq 143 ] || fail "seal killed: exit $st"
if ls | grep -q '^sig\.age'; then fail "files left after a signal: $(ls | grep sig)"; fi
echo "age cli: ok"
