#!/usr/bin/env bash
# fed_refs.sh: a record whose ref is not pulled yet waits for it
# (docs/federation.md, section 6), so that nodes that pulled the same
# records in other orders show the same status.
#
# A (pk's), B (in's) and C (un's hub).  pk.mofa notifies in.mea and
# un.unoda on A; in.mea acknowledges on B.  C pins B first: it pulls the
# acknowledgement before the notification it names, keeps it waiting
# (DIR/waiting/), and does not apply it.  Then C's operator pins A: the
# notification arrives, the acknowledgement follows by itself, and C's
# operator timeline shows the notification acknowledged, byte for byte
# as B's does (on the old code the acknowledgement was logged without
# effect: C showed the notification unacknowledged for ever).
#
# A peer removed while C serves (docs/federation.md, section 6): before C
# pins A, its operator removes B: the records waiting for B's refs go with
# it, counted in the output, and none comes back (on the old code they
# stayed in waiting/ for ever); B added again is a new row, pulled from
# index 0 afresh, also when removed and added at once.  And C starts with
# its first two files threads failing to start
# (COMITY_TEST_FILES_THREAD_FAILS=2): `peer list` shows files_error, then,
# the thread started again after its back-off, no more (on the old code
# only a restart started it).
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/node_lib.bash"
C=$COMITY_BIN
cd "$T"

nodes_init A B C
party_key pk.mofa pk.key; party_key in.mea in.key; party_key un.unoda un.key
T_PK=$(party_token A pk.mofa pk.key); T_IN=$(party_token B in.mea in.key); party_token C un.unoda un.key >/dev/null
PA="$(kv pk.key),$(kr pk.key)"; PB="$(kv in.key),$(kr in.key)"; PC="$(kv un.key),$(kr un.key)"
"$C" peer add "$T/A" "$U_B" --log-vkey "$VK_B" --party "$PB" >/dev/null
"$C" peer add "$T/A" "$U_C" --log-vkey "$VK_C" --party "$PC" >/dev/null
"$C" peer add "$T/B" "$U_A" --log-vkey "$VK_A" --party "$PA" >/dev/null
"$C" peer add "$T/B" "$U_C" --log-vkey "$VK_C" --party "$PC" >/dev/null
"$C" peer add "$T/C" "$U_B" --log-vkey "$VK_B" --party "$PB" >/dev/null
# C knows pk.mofa's key (to check the notification later) but pins A later
for n in A B C; do printf 'url = %s\ntoken = %s\n' "$(eval echo "\$U_$n")" "$(optok $n.init)" >op-$n.conf; done

node_start A; node_start B
echo '{"severity":3,"sector":"energy","summary":"scanning from 203.0.113.7"}' |
  "$C" record sign --key pk.key --type notification --tlp green --to in.mea --to un.unoda >n1.json
"$C" record post --url "$U_A" --token "$T_PK" n1.json >n1.post || bad "post the notification"
N1=$(jq -r .id n1.post)
seen() { "$C" timeline --json --config "op-$1.conf" 2>/dev/null | jq -e --arg id "$2" 'any(.[]; .id == $id)' >/dev/null; }
until_ok 40 seen B "$N1" && ok "the notification reached B" || bad "B never got $N1"
ACK=$("$C" ack "$N1" --url "$U_B" --token "$T_IN" --key in.key | cut -d" " -f1)
case "$ACK" in ack--*) ok "in.mea acknowledged on B";; *) bad "ack: $ACK";; esac

COMITY_TEST_FILES_THREAD_FAILS=2 node_start C
O_B=${VK_B%%+*}
peer() { "$C" peer list "$T/C" | jq -r --arg o "$O_B" ".[] | select(.origin == \$o) | $1"; }
files_error() { [ -n "$(peer '.files_error // empty')" ]; }
until_ok 20 files_error && ok "C's files thread for B did not start: peer list says so" ||
  bad "no files_error: $(peer '{error, files_error}')"
no_files_error() { ! files_error; }
until_ok 60 no_files_error && ok "  ... started again while C serves: files_error gone" ||
  bad "the files thread never started: $(peer '{error, files_error}')"
waiting() { [ "$(ls "$T/C/waiting"/*.env 2>/dev/null | wc -l)" = "$1" ]; }
# B serves C two records naming the notification: the acknowledgement and the
# delivered record B signed when in.mea fetched it (to pk.mofa and un.unoda)
until_ok 40 waiting 2 && ok "C pulled the acknowledgement and the delivery first: they wait for their notification" ||
  bad "nothing waits on C: $("$C" peer list "$T/C" | jq -c '.[] | {origin, cursor, error}')"
seen C "$ACK" && bad "C applied an acknowledgement of a notification it does not hold" ||
  ok "C does not take the acknowledgement yet"
check "C's cursor on B moved past them" 3 "$("$C" peer list "$T/C" | jq -r '.[0].cursor')"
# B removed while C serves: what waits for its refs goes, counted
"$C" peer remove "$T/C" "$O_B" >remove.out 2>&1 || bad "peer remove: $(cat remove.out)"
grep -q "; 2 records waiting for their refs dropped" remove.out &&
  ok "peer remove (C serving) drops the 2 records waiting:$(cut -d';' -f2 remove.out)" ||
  bad "peer remove said: $(cat remove.out)"
sleep 2
waiting 0 && ok "  ... and none comes back (its worker ended)" || bad "waiting: $(ls "$T/C/waiting")"
[ -z "$(ls "$T/C/sync-files" 2>/dev/null)" ] && ok "  ... nor its sealed files' directory" ||
  bad "sync-files of B left: $(ls "$T/C/sync-files")"
# added again: a new row, pulled from index 0; then removed and added at once
at3() { [ "$(peer .cursor)" = 3 ] && [ "$(peer .error)" = "" ]; }
"$C" peer add "$T/C" "$U_B" --log-vkey "$VK_B" --party "$PB" >/dev/null || bad "peer add again"
until_ok 40 waiting 2 && until_ok 20 at3 && ok "B added again: pulled afresh, cursor 0 to 3, its 2 wait again" ||
  bad "C: $(peer '{cursor, error}')"
"$C" peer remove "$T/C" "$O_B" >/dev/null && "$C" peer add "$T/C" "$U_B" --log-vkey "$VK_B" --party "$PB" >/dev/null ||
  bad "remove and add at once"
until_ok 40 waiting 2 && until_ok 20 at3 && ok "removed and added at once: cursor 3 again, 2 waiting" ||
  bad "C: $(peer '{cursor, error}'), waiting: $(ls "$T/C/waiting" 2>/dev/null)"
"$C" peer add "$T/C" "$U_A" --log-vkey "$VK_A" --party "$PA" >/dev/null   # picked up while serving
until_ok 60 seen C "$ACK" && ok "once the notification came, the acknowledgement followed by itself" ||
  bad "C: $("$C" peer list "$T/C" | jq -c '.[] | {origin, cursor, error}')"
waiting 0 && ok "nothing waits on C any more" || bad "still waiting: $(ls "$T/C/waiting")"
status() { "$C" timeline --json --config "op-$1.conf" |
  jq -c --arg id "$N1" '[.[] | select(.id == $id) | .status | del(.now)]'; }
check "C shows the notification as B does, byte for byte" "$(status B)" "$(status C)"
status C | grep -q "acknowledged" && ok "  ... acknowledged: $(status C | cut -c1-80)" || bad "  C: $(status C)"
node_stop A; node_stop B; node_stop C
rc=0; "$C" log audit "$T/C/log" --vkey "$VK_C" >/dev/null 2>&1 || rc=$?
check "C's log audits" 0 "$rc"
finish
