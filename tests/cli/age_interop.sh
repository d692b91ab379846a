#!/usr/bin/env bash
# age_interop.sh: comity seal/open against Debian's age, both directions.
#
# comity seal -> age -d and age -e -> comity open, binary and armored, to
# several recipients, at every size around the 64 KiB chunk boundary and a
# few MB; identities from age-keygen used by comity; comity's recipient
# files (-R) read by age.  Needs $COMITY_BIN and the age package.
set -euo pipefail
: "${COMITY_BIN:?}"
command -v age >/dev/null && command -v age-keygen >/dev/null || {
  echo "age is not installed (scripts/install-deps installs it)"; exit 1; }
t=$(mktemp -d); trap 'rm -rf "$t"' EXIT
cd "$t"
fail() { echo "FAIL: $*" >&2; exit 1; }

for k in 1 2 3; do age-keygen -o k$k.txt 2>/dev/null; done
R1=$(age-keygen -y k1.txt); R2=$(age-keygen -y k2.txt); R3=$(age-keygen -y k3.txt)
printf '# partners\n%s\n\n%s\n' "$R2" "$R3" > rcpts.txt
# an identity file holding two keys
cat k1.txt k2.txt > k12.txt

for sz in 0 1 65535 65536 65537 131072 3145735; do
  head -c $sz /dev/urandom > p
  for a in "" "-a"; do
    # comity -> age, three recipients (-r and -R); each key opens it
    "$COMITY_BIN" seal $a -r "$R1" -R rcpts.txt -o c.age p
    for k in 1 2 3; do
      age -d -i k$k.txt c.age | cmp -s - p || fail "comity seal $a size $sz -> age -d key $k"
    done
    # age -> comity, three recipients; comity opens with each key
    age -e $a -r "$R1" -R rcpts.txt -o a.age p
    for k in 1 2 3; do
      "$COMITY_BIN" open -i k$k.txt -o out a.age
      cmp -s out p || fail "age -e $a size $sz -> comity open key $k"
    done
    # stdin/stdout, and an identity file with two keys
    "$COMITY_BIN" open -i k12.txt < a.age | cmp -s - p || fail "stdin open size $sz"
    "$COMITY_BIN" seal $a -r "$R2" < p | age -d -i k2.txt | cmp -s - p ||
      fail "stdin seal $a size $sz"
  done
  # armored output is text: 64 columns, BEGIN/END lines
  "$COMITY_BIN" seal -a -r "$R1" -o c.txt p
  head -1 c.txt | grep -qx -- '-----BEGIN AGE ENCRYPTED FILE-----' || fail "armor BEGIN"
  tail -1 c.txt | grep -qx -- '-----END AGE ENCRYPTED FILE-----' || fail "armor END"
  if awk 'length($0) > 64' c.txt | grep -q .; then fail "armor line over 64 columns"; fi
done

# more than 256 chunks: the chunk counter's second byte is used
head -c $((300 * 65536 + 11)) /dev/urandom > p
"$COMITY_BIN" seal -r "$R1" -o c.age p
age -d -i k1.txt c.age | cmp -s - p || fail "300 chunks comity -> age"
age -e -r "$R2" -o a.age p
"$COMITY_BIN" open -i k2.txt a.age | cmp -s - p || fail "300 chunks age -> comity"

# the binary format's size is exactly what the spec says: header, 16-byte
# nonce, chunks of 64 KiB + 16 (a 64 KiB file is ONE full final chunk)
head -c 65536 /dev/zero > p
"$COMITY_BIN" seal -r "$R1" -o c.age p
hdr=$(awk '/^---/ {print NR; exit}' c.age)
hl=$(head -n "$hdr" c.age | wc -c)
[ $(( $(stat -c %s c.age) - hl )) -eq $((16 + 65536 + 16)) ] || fail "64 KiB file size"
age -d -i k1.txt c.age | cmp -s - p || fail "64 KiB file"

# a party key file written by `comity keygen` is an age identity file: age
# opens what comity sealed to the party's recipient and the reverse; the
# recipient printed by keygen is the one age derives from the key file.
line=$("$COMITY_BIN" keygen --party pk.pkcert --out party.key 2>/dev/null | tail -1)
rp=${line##* }
[ "$rp" = "$(age-keygen -y party.key)" ] || fail "keygen recipient differs from age-keygen -y"
grep -qx "# recipient: $rp" party.key || fail "key file lacks its recipient line"
for sz in 0 70000; do
  head -c $sz /dev/urandom > p
  "$COMITY_BIN" seal -r "$rp" -o c.age p
  age -d -i party.key c.age | cmp -s - p || fail "age -d -i <comity key file>, size $sz"
  age -e -a -r "$rp" -o a.age p
  "$COMITY_BIN" open -i party.key a.age | cmp -s - p || fail "comity open -i <comity key file>, size $sz"
  # a party key and an age-keygen identity together
  "$COMITY_BIN" open -i k1.txt -i party.key a.age | cmp -s - p || fail "two identity files"
done
echo "age interop: ok"
