#!/usr/bin/env bash
# fed_peers.sh: a peer removed (and added again) while `comity serve` runs
# leaves nothing of it behind, and a files thread that did not start is
# started again while serving (docs/federation.md, section 6).
#
# A (pk's), B (in's) and C (un's hub), as in fed_refs.sh: C pins B only,
# pulls in.mea's acknowledgement before the notification it names, and
# keeps it waiting (DIR/waiting/).  C is started with its first two
# files threads failing to start (COMITY_TEST_FILES_THREAD_FAILS=2): `peer
# list` shows files_error, then, the thread started again after its
# back-off, no more (on the old code only a restart started it).  C's
# operator removes B while C serves: the records waiting for B's refs go
# with it, counted in the output, and none comes back (on the old code they
# stayed in waiting/ for ever).  B added again pulls from index 0 afresh.
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/node_lib.bash"
C=$COMITY_BIN
cd "$T"

nodes_init A B C
party_key pk.mofa pk.key; party_key in.mea in.key; party_key un.unoda un.key
T_PK=$(party_token A pk.mofa pk.key); T_IN=$(party_token B in.mea in.key); party_token C un.unoda un.key >/dev/null
PA="$(kv pk.key),$(kr pk.key)"; PB="$(kv in.key),$(kr in.key)"; PC="$(kv un.key),$(kr un.key)"
"$C" peer add "$T/A" "$U_B" --log-vkey "$VK_B" --party "$PB" >/dev/null
"$C" peer add "$T/B" "$U_A" --log-vkey "$VK_A" --party "$PA" >/dev/null
"$C" peer add "$T/B" "$U_C" --log-vkey "$VK_C" --party "$PC" >/dev/null
"$C" peer add "$T/C" "$U_B" --log-vkey "$VK_B" --party "$PB" >/dev/null
O_B=${VK_B%%+*}
for n in B C; do printf 'url = %s\ntoken = %s\n' "$(eval echo "\$U_$n")" "$(optok $n.init)" >op-$n.conf; done

node_start A; node_start B
echo '{"severity":3,"sector":"energy","summary":"scanning from 203.0.113.7"}' |
  "$C" record sign --key pk.key --type notification --tlp green --to in.mea --to un.unoda >n1.json
"$C" record post --url "$U_A" --token "$T_PK" n1.json >n1.post || bad "post the notification"
N1=$(jq -r .id n1.post)
seen() { "$C" timeline --json --config "op-$1.conf" 2>/dev/null | jq -e --arg id "$2" 'any(.[]; .id == $id)' >/dev/null; }
until_ok 40 seen B "$N1" && ok "the notification reached B" || bad "B never got $N1"
ACK=$("$C" ack "$N1" --url "$U_B" --token "$T_IN" --key in.key | cut -d" " -f1)
case "$ACK" in ack--*) ok "in.mea acknowledged on B";; *) bad "ack: $ACK";; esac

# ---- a files thread that did not start, started again while serving ----------
COMITY_TEST_FILES_THREAD_FAILS=2 node_start C
peer() { "$C" peer list "$T/C" | jq -r --arg o "$O_B" ".[] | select(.origin == \$o) | $1"; }
files_error() { [ -n "$(peer '.files_error // empty')" ]; }
until_ok 20 files_error && ok "C's files thread for B did not start: peer list says so ($(peer .files_error | cut -c1-60)...)" ||
  bad "no files_error: $(peer '{error, files_error}')"
no_files_error() { ! files_error; }
until_ok 60 no_files_error && ok "started again while C serves: files_error gone" ||
  bad "the files thread never started: $(peer '{error, files_error}')"

# ---- records waiting for the refs of a peer removed ----------------------------
waiting() { [ "$(ls "$T/C/waiting"/*.env 2>/dev/null | wc -l)" = "$1" ]; }
until_ok 40 waiting 2 && ok "C keeps B's acknowledgement and delivery waiting for their notification" ||
  bad "nothing waits on C: $(peer '{cursor, error}')"
"$C" peer remove "$T/C" "$O_B" >remove.out 2>&1 || bad "peer remove: $(cat remove.out)"
grep -q "; 2 records waiting for their refs dropped" remove.out &&
  ok "peer remove (C serving) drops the 2 records waiting: $(cut -d';' -f2 remove.out)" ||
  bad "peer remove said: $(cat remove.out)"
waiting 0 && ok "nothing of B waits on C" || bad "still waiting: $(ls "$T/C/waiting")"
sleep 2
waiting 0 && ok "... nor later (its worker ended, parked nothing more)" || bad "waiting again: $(ls "$T/C/waiting")"
[ -e "$T/C/sync-files" ] && [ -n "$(ls "$T/C/sync-files")" ] && bad "sync-files of B left: $(ls "$T/C/sync-files")" ||
  ok "nor its sealed files' directory"

# ---- added again: a new row, pulled from index 0 -------------------------------
"$C" peer add "$T/C" "$U_B" --log-vkey "$VK_B" --party "$PB" >/dev/null || bad "peer add again"
until_ok 40 waiting 2 && ok "B added again: pulled afresh, its records wait again" ||
  bad "C after the new add: $(peer '{cursor, error}')"
at3() { [ "$(peer .cursor)" = 3 ] && [ "$(peer .error)" = "" ]; }
until_ok 20 at3 && ok "the new row's cursor moved from 0 to 3, no error" || bad "C: $(peer '{cursor, error}')"
# removed and added again at once, while C serves: the new row starts at 0
# and ends where B's log is, whatever a pull under way did
"$C" peer remove "$T/C" "$O_B" >/dev/null && "$C" peer add "$T/C" "$U_B" --log-vkey "$VK_B" --party "$PB" >/dev/null ||
  bad "remove and add at once"
until_ok 40 waiting 2 && until_ok 20 at3 && ok "removed and added at once: cursor 3 again, 2 waiting" ||
  bad "C: $(peer '{cursor, error}'), waiting: $(ls "$T/C/waiting" 2>/dev/null)"
node_stop A; node_stop B; node_stop C
finish
