#!/usr/bin/env bash
# age_tamper.sh: comity open refuses damaged files with the documented exit
# status (1: wrong key or fails to authenticate; 2: malformed) and a message
# saying what, leaves no output file behind, and agrees with age -d that the
# file is bad.  Needs $COMITY_BIN and the age package.
set -euo pipefail
: "${COMITY_BIN:?}"
t=$(mktemp -d); trap 'rm -rf "$t"' EXIT
cd "$t"
fail() { echo "FAIL: $*" >&2; exit 1; }

age-keygen -o k1.txt 2>/dev/null; age-keygen -o k2.txt 2>/dev/null
R1=$(age-keygen -y k1.txt)
head -c 200000 /dev/urandom > p      # 4 chunks: 3 full + 3392 bytes
"$COMITY_BIN" seal -r "$R1" -o good.age p
"$COMITY_BIN" seal -a -r "$R1" -o good.txt p
hl=$(head -n "$(awk '/^---/ {print NR; exit}' good.age)" good.age | wc -c)
size=$(stat -c %s good.age)

# expect STATUS NEEDLE FILE: comity open fails with STATUS and a message
# containing NEEDLE, writes no output, and age -d refuses the file too.
expect() {
  local want=$1 needle=$2 f=$3 st=0
  echo "previous" > out
  "$COMITY_BIN" open -i k1.txt -o out "$f" 2> err || st=$?
  [ "$st" -eq "$want" ] || fail "$f: exit $st, want $want ($(cat err))"
  grep -qF -- "$needle" err || fail "$f: message '$(cat err)' lacks '$needle'"
  [ "$(cat out)" = previous ] || fail "$f: output file was replaced"
  if ls | grep -q '^out\.'; then fail "$f: temporary file left behind"; fi
  if age -d -i k1.txt "$f" > /dev/null 2>&1; then fail "$f: age -d accepts it"; fi
}

flip() { # flip one bit at byte offset $2 of $1 into $3
  cp "$1" "$3"
  local b; b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
  printf "$(printf '\\%03o' $(( b ^ 1 )))" | dd of="$3" bs=1 seek="$2" conv=notrunc status=none
}

# sanity: the good files open
"$COMITY_BIN" open -i k1.txt -o out good.age && cmp -s out p || fail "good.age"
"$COMITY_BIN" open -i k1.txt -o out good.txt && cmp -s out p || fail "good.txt"

# wrong key
st=0; "$COMITY_BIN" open -i k2.txt -o out2 good.age 2> err || st=$?
[ $st -eq 1 ] && grep -q "wrong key" err && [ ! -e out2 ] || fail "wrong key: $st $(cat err)"

flip good.age $((hl + 16 + 65552 + 100)) t1.age;  expect 1 "chunk 1 does not authenticate" t1.age
# the MAC's first character (any letter there is canonical base64)
sed -E '/^--- /{s/^--- A/--- B/;t;s/^--- ./--- A/}' good.age > t2.age
cmp -s good.age t2.age && fail "t2.age unchanged"
expect 1 "header MAC" t2.age
flip good.age $((hl + 2)) t3.age;                  expect 1 "chunk 0" t3.age
head -c $((size - 1)) good.age > t4.age;           expect 1 "chunk 3 does not authenticate" t4.age
head -c $((hl + 16 + 2 * 65552)) good.age > t5.age; expect 2 "not flagged as the final chunk" t5.age
head -c $((hl - 20)) good.age > t6.age;            expect 2 "header truncated" t6.age
head -c $((hl + 9)) good.age > t7.age;             expect 2 "nonce has 9 of 16 bytes" t7.age
{ cat good.age; echo extra; } > t8.age;            expect 1 "does not authenticate" t8.age
# chunks 0 and 1 swapped
part() { dd if="$1" iflag=skip_bytes,count_bytes skip="$2" ${3:+count=$3} status=none; }
{ part good.age 0 $((hl + 16)); part good.age $((hl + 16 + 65552)) 65552
  part good.age $((hl + 16)) 65552; part good.age $((hl + 16 + 2 * 65552)); } > t9.age
[ "$(stat -c %s t9.age)" -eq "$size" ] || fail "swap construction"
expect 1 "chunk 0 does not authenticate" t9.age
sed '1s/v1/v2/' good.age > t10.age;                expect 2 "unsupported age version" t10.age
sed '2s/^-> X25519 /-> X25519  /' good.age > t11.age; expect 2 "empty stanza argument" t11.age
echo "not an age file" > t12.age;                  expect 2 "not an age file" t12.age
# armor damage
sed '$d' good.txt > t13.txt;                        expect 2 "no END line" t13.txt
{ cat good.txt; echo "junk"; } > t14.txt;           expect 2 "data after the END line" t14.txt
sed '3s/^./*/' good.txt > t15.txt;                  expect 2 "armor line 3" t15.txt
sed '2s/^\(.\{20\}\)/\1\n/' good.txt > t16.txt;     expect 2 "armor line 3" t16.txt
# a file age made, damaged, is refused the same way
age -e -r "$R1" -o a.age p
ahl=$(head -n "$(awk '/^---/ {print NR; exit}' a.age)" a.age | wc -c)
flip a.age $((ahl + 16 + 10)) t17.age;             expect 1 "chunk 0 does not authenticate" t17.age
# whitespace around armor is fine, as age also accepts
{ echo; cat good.txt; echo "  "; } > ok.txt
"$COMITY_BIN" open -i k1.txt ok.txt | cmp -s - p || fail "whitespace around armor"
echo "age tamper: ok"
