#!/usr/bin/env bash
# log_basic.sh: the comity log and witness commands end to end: init, append
# (indices printed), checkpoint, prove/verify a receipt (and refuse a wrong
# entry, a wrong key and a tampered receipt), consistency between checkpoint
# files (and a forked log caught), audit (and a truncated tile caught), the
# 65,535-byte entry limit, the one-writer lock, the witness statuses of
# c2sp.org/tlog-witness, cosignatures added to a checkpoint, and a policy.
set -u
C=${COMITY_BIN:?}
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
cd "$T"
fail() { echo "FAIL: $*"; exit 1; }
expect() { # expect STATUS CMD...: run, compare exit status
  local want=$1; shift
  "$@" > out.txt 2> err.txt; local got=$?
  [ "$got" = "$want" ] || { cat out.txt err.txt; fail "$* exited $got, want $want"; }
}

expect 0 $C log init --origin example.org/log --key log.key mylog
cp out.txt log.vkey
grep -q '^example.org/log+[0-9a-f]\{8\}+' log.vkey || fail "init did not print a vkey"
[ "$(stat -c %a log.key)" = 600 ] || fail "key file is not 0600"
expect 2 $C log init --origin example.org/log --key log.key mylog   # exists

printf 'first\nsecond\nthird\n' > in.txt
expect 0 sh -c "$C log append mylog < in.txt"
[ "$(cat out.txt | tr '\n' ' ')" = "0 1 2 " ] || fail "indices: $(cat out.txt)"
expect 0 $C log checkpoint mylog
sed -n 2p out.txt | grep -qx 3 || fail "checkpoint size"
cp mylog/checkpoint cp3

expect 0 $C log prove mylog --index 1 -o r1.tlog-proof
head -1 r1.tlog-proof | grep -qx 'c2sp.org/tlog-proof@v1' || fail "receipt header"
printf 'second' > e1
expect 0 $C log verify --vkey "$(cat log.vkey)" --entry e1 r1.tlog-proof
printf 'third' > e2
expect 1 $C log verify --vkey "$(cat log.vkey)" --entry e2 r1.tlog-proof
grep -q 'not at index 1' err.txt || fail "wrong-entry message"
$C log init --origin example.org/log --key other.key otherlog > other.vkey 2>/dev/null
expect 1 $C log verify --vkey "$(cat other.vkey)" --entry e1 r1.tlog-proof
sed 's/^index 1$/index 0/' r1.tlog-proof > bad.tlog-proof
expect 1 $C log verify --vkey "$(cat log.vkey)" --entry e1 bad.tlog-proof
expect 2 $C log prove mylog --index 3

# the entry limit
head -c 65536 /dev/zero | tr '\0' a > big
expect 2 $C log append mylog --file big
grep -q 65535 err.txt || fail "no limit in the message"
head -c 65535 /dev/zero | tr '\0' a > max
expect 0 $C log append mylog --file max
[ "$(cat out.txt)" = 3 ] || fail "max entry index"

# consistency between checkpoint files; a fork is caught
seq 1 700 > many
expect 0 sh -c "$C log append mylog < many"
expect 0 $C log consistency mylog cp3 mylog/checkpoint
[ "$(wc -l < out.txt)" -ge 1 ] || fail "no proof lines"
sed -i '3s/^\(.\).*=$/\1AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=/' cp3 2>/dev/null
sed -n 3p cp3 | grep -q '^.AAAA' || fail "could not forge a root"
expect 1 $C log consistency mylog cp3 mylog/checkpoint
grep -q 'forked' err.txt || fail "fork message"

# audit, then a truncated tile
expect 0 $C log audit mylog --vkey log.vkey
grep -q '704 entries' out.txt || fail "audit count: $(cat out.txt)"
cp -r mylog damaged
truncate -s 8000 damaged/tile/0/001
expect 2 $C log audit damaged --vkey log.vkey
grep -q 'tile/0/001' err.txt || fail "truncation not named"
expect 1 $C log audit mylog --vkey other.vkey

# one writer at a time: an append waiting on a fifo holds the lock.  Give
# it one entry and wait for its index: from then on it surely holds the lock
# (a checkpoint racing its start could otherwise take the lock first and
# make the holder give up).
mkfifo fifo
$C log append mylog < fifo > holder.out 2> holder.err &
holder=$!
exec 3> fifo
echo held >&3
for i in $(seq 1 1200); do [ -s holder.out ] && break; sleep 0.05; done
[ -s holder.out ] || fail "lock holder did not start: $(cat holder.err)"
refused=no
$C log checkpoint mylog > /dev/null 2> lockerr.txt || refused=yes
exec 3>&-
wait $holder
[ $refused = yes ] && grep -q 'another process is writing' lockerr.txt || fail "second writer not refused"

# witness (the log now holds 705 entries: 704 and the lock holder's)
expect 0 $C witness init --name witness.example.org --key w.key wdir
cp out.txt w.vkey
expect 1 $C witness cosign wdir --key w.key --old 0 mylog/checkpoint
grep -q '^404' err.txt || fail "unknown origin must be 404"
expect 0 $C witness add-log wdir "$(cat log.vkey)"
expect 0 $C log request mylog --old 0 -o req0
expect 0 $C witness add-checkpoint wdir --key w.key req0
grep -q '^200' err.txt || fail "first add-checkpoint"
cp out.txt cosig
expect 1 $C witness add-checkpoint wdir --key w.key req0
grep -q '^409 text/x.tlog.size' err.txt || fail "stale old size must be 409"
[ "$(cat out.txt)" = 705 ] || fail "409 body: $(cat out.txt)"
$C log checkpoint otherlog --key other.key > othercp 2>/dev/null
sed 's#^example.org/log$#example.org/log#' othercp > /dev/null
expect 1 $C witness cosign wdir --key w.key --old 705 othercp
grep -q '^403\|^400' err.txt || fail "other key must be refused: $(cat err.txt)"
expect 1 $C witness cosign wdir --key w.key --old 800 mylog/checkpoint
grep -q '^400' err.txt || fail "old > size must be 400"
expect 0 $C log cosigned mylog --witness "$(cat w.vkey)" cosig
grep -c '^— ' mylog/checkpoint | grep -qx 2 || fail "cosignature not added"
expect 0 $C witness size wdir example.org/log
[ "$(cat out.txt)" = 705 ] || fail "witness size"

# a policy needing that witness
cat > p.policy <<P
# comity test policy
log $(cat log.vkey)
witness w1 $(cat w.vkey)
group g 1 w1
quorum g
P
expect 0 $C log prove mylog --index 5 -o r5
printf '2' > e5
expect 0 $C log verify --policy p.policy --entry e5 r5
cat > q.policy <<P
log $(cat log.vkey)
witness w1 $(cat w.vkey)
witness w2 $($C witness init --name w2.example --key w2.key w2dir 2>/dev/null)
group g all w1 w2
quorum g
P
expect 1 $C log verify --policy q.policy --entry e5 r5
grep -q quorum err.txt || fail "quorum message"
echo "ok"
