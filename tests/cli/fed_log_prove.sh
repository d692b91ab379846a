#!/usr/bin/env bash
# fed_log_prove.sh: `comity log prove` offline, on a node's log, gives the
# receipt the node serves (docs/node.md "Receipts", docs/federation.md
# section 8): against the newest checkpoint covering the entry that the
# node's witness quorum (NODE/witness.policy) cosigned, not the newest
# checkpoint, which entries logged after the last cosigning leave without
# cosignatures for a while.  On the old code the receipt was against the
# newest checkpoint: it failed the quorum the node's peers check it under.
#
# NODE/log holds 6 entries cosigned by witness w1 at size 6, then 3 more
# (size 9, not cosigned yet).
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/node_lib.bash"
C=$COMITY_BIN
cd "$T"

mkdir N
"$C" log init --origin example.org/log --key log.key N/log >log.vkey 2>/dev/null || bad "log init"
LV=$(sed -n 's/^\(example.org\/log+[^ ]*\).*/\1/p' log.vkey | head -1)
[ -n "$LV" ] || LV=$(tr -d '\n' <log.vkey)
printf '0\n1\n2\n3\n4\n5\n' | "$C" log append N/log >/dev/null || bad "append 6"
W1=$("$C" witness init --name w1.example --key w1.key w1dir 2>/dev/null)
"$C" witness add-log w1dir "$LV" >/dev/null 2>&1 || bad "witness add-log"
"$C" log request N/log --old 0 -o req || bad "log request"
"$C" witness add-checkpoint w1dir --key w1.key req >cosig 2>/dev/null || bad "add-checkpoint"
"$C" log cosigned N/log --witness "$W1" cosig >/dev/null || bad "log cosigned"
printf '6\n7\n8\n' | "$C" log append N/log >/dev/null || bad "append 3"
check "the newest checkpoint (size 9) has no cosignature" 1 "$(grep -c '^— ' N/log/checkpoint)"
printf 'log %s\nwitness w1 %s\nquorum w1\n' "$LV" "$W1" >N/witness.policy
printf '5' >e5

# the node's log: the node's policy, the checkpoint it cosigned
rc=0; "$C" log prove N/log --index 5 -o r5 2>prove.err || rc=$?
check "log prove N/log" 0 "$rc"
grep -q "size 6" prove.err && ok "against size 6, the newest the quorum of N/witness.policy cosigned" ||
  bad "prove said: $(cat prove.err)"
rc=0; "$C" log verify --policy N/witness.policy --entry e5 r5 >/dev/null 2>&1 || rc=$?
check "the receipt meets the node's quorum" 0 "$rc"
# the node's directory names its log the same way
rc=0; "$C" log prove N --index 5 -o r5n 2>/dev/null || rc=$?
check "log prove NODE (its directory)" 0 "$rc"
cmp -s r5 r5n && ok "  ... the same receipt" || bad "  ... another receipt"
# an entry no cosigned checkpoint covers: the published one
rc=0; "$C" log prove N/log --index 7 -o r7 2>prove.err || rc=$?
check "log prove --index 7" 0 "$rc"
grep -q "size 9" prove.err && ok "  ... against size 9 (published: none cosigned covers it)" ||
  bad "  ... $(cat prove.err)"
# a quorum no cosigned checkpoint meets: the newest cosigned one
W2=$("$C" witness init --name w2.example --key w2.key w2dir 2>/dev/null)
printf 'log %s\nwitness w1 %s\nwitness w2 %s\ngroup g all w1 w2\nquorum g\n' "$LV" "$W1" "$W2" >both.policy
rc=0; "$C" log prove N/log --index 5 --policy both.policy -o r5b 2>prove.err || rc=$?
check "log prove --policy (a quorum none meets)" 0 "$rc"
grep -q "size 6" prove.err && ok "  ... against the newest cosigned one (size 6)" || bad "  ... $(cat prove.err)"
# no policy: the published checkpoint, as before
mv N/witness.policy N/witness.off
rc=0; "$C" log prove N/log --index 5 -o r5p 2>prove.err || rc=$?
check "log prove, no policy" 0 "$rc"
[ -s prove.err ] && bad "no policy, yet: $(cat prove.err)" || ok "  ... says nothing"
rc=0; "$C" log verify --vkey "$LV" --entry e5 r5p >verify.out 2>&1 || rc=$?
check "  ... a receipt of the newest checkpoint" "0 9" "$rc $(sed -n 's/.*tree size \([0-9]*\).*/\1/p' verify.out)"
# a node policy that does not parse is left out, as the node leaves it out
echo 'quorum nobody' >N/witness.policy
rc=0; "$C" log prove N/log --index 5 -o r5x 2>prove.err || rc=$?
check "log prove, a node policy that does not parse" 0 "$rc"
grep -q "left out" prove.err && cmp -s r5x r5p && ok "  ... left out with a warning: the published checkpoint" ||
  bad "  ... $(cat prove.err)"
# an explicit --policy that does not parse is an error
rc=0; "$C" log prove N/log --index 5 --policy N/witness.policy -o r5y 2>/dev/null || rc=$?
[ "$rc" != 0 ] && ok "--policy that does not parse: refused ($rc)" || bad "--policy that does not parse taken"
finish
