#!/usr/bin/env bash
# fed_files.sh: sealed evidence files travel from their origin to the
# nodes of their recipients (docs/federation.md, section 6, "Sealed
# files"), real nodes on loopback.
#
# in.cert-in (home B) opens a sealed MLA case at B to pk.fia (home A); A
# pulls it; pk.fia answers at A with a 24 MiB sealed file (comity case
# upload).  B pulls the record, then the file from A, checks its SHA-256
# and size, stores it, and in.cert-in fetches and opens it at B byte for
# byte.  B pulls A through a relay (fed_files_origin.py) that first flips
# one bit of the file (refused, named, nothing kept, retried), then
# trickles it (16 KiB every 0.25 s): meanwhile a record posted at A
# reaches B as usual (the files have their own thread), and B stops within
# seconds, keeping its partial.  Restarted, B asks only for the rest
# (Range), which the relay sends half of before holding the connection:
# B is killed with SIGKILL there, restarted with an honest relay, resumes
# again, and ends with the right file, the relay having sent about the
# file's size in all (not once per start).  `peer remove` of A at B, while
# B serves and is in the middle of fetching a second file, removes B's
# jobs, cursor and partial of A, and none comes back.  C (a hub for un, no recipient) pulls A too, through a relay
# that asks A for the file with C's own session: 404, exactly as for a
# hash A does not hold; C holds no file.  Sealed content stays unreadable
# to non-parties: C's party, B's operator and a B party outside the case
# get the unknown hash's answer.
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/node_lib.bash"
C=$COMITY_BIN
cd "$T"

nodes_init A B C
party_key pk.fia pk.key; party_key in.cert-in in.key; party_key un.unoda un.key
party_key in.mea mea.key
T_PK=$(party_token A pk.fia pk.key)
T_IN=$(party_token B in.cert-in in.key)
T_MEA=$(party_token B in.mea mea.key)
T_UN=$(party_token C un.unoda un.key)
OP_B=$(optok "$T/B.init")
P_RB=$(free_port); P_RC=$(free_port)   # the relays before A, for B and for C
echo tamper >mode.b; echo pass >mode.c
"$C" peer add "$T/A" "$U_B" --log-vkey "$VK_B" --party "$(kv in.key),$(kr in.key)" \
  --party "$(kv mea.key),$(kr mea.key)" >/dev/null
"$C" peer add "$T/A" "$U_C" --log-vkey "$VK_C" --party "$(kv un.key),$(kr un.key)" >/dev/null
"$C" peer add "$T/B" "http://127.0.0.1:$P_RB" --log-vkey "$VK_A" --party "$(kv pk.key),$(kr pk.key)" >/dev/null
"$C" peer add "$T/C" "http://127.0.0.1:$P_RC" --log-vkey "$VK_A" --party "$(kv pk.key),$(kr pk.key)" >/dev/null
python3 "$HERE/fed_files_origin.py" "$P_RB" "$U_A" mode.b 2>RB.log &
NODE_PIDS+=("$!")
python3 "$HERE/fed_files_origin.py" "$P_RC" "$U_A" mode.c probe 2>RC.log &
NODE_PIDS+=("$!")
node_start A; node_start B; node_start C
cat pk.key.pub in.key.pub un.key.pub mea.key.pub >keys.txt
conf() { # conf PARTY URL TOKEN KEY: a client config
  printf 'url = %s\ntoken = %s\nkey = %s\nkeys = keys.txt\n' "$2" "$3" "$4" >"$1.conf"
}
conf pk "$U_A" "$T_PK" pk.key; conf in "$U_B" "$T_IN" in.key; conf mea "$U_B" "$T_MEA" mea.key
conf un "$U_A" "$T_UN" un.key
run() { local p=$1; shift; rc=0; "$C" "$@" --config "$p.conf" >out 2>err || rc=$?; }
stored() { find "$T/$1/files" -type f ! -path "$T/$1/files/tmp/*" ! -name '*.refs' ! -name attached.log | wc -l; }
part_bytes() { find "$T/$1/files/tmp" -type f -name '*.part' -size +0 | wc -l; }
fl() { "$C" peer list "$T/$1" | jq -r --arg o comity.a.test ".[] | select(.origin == \$o) | $2"; }

# ---- the case: opened at B, answered at A with a sealed file ---------------
run in case open mla-request --to pk.fia --tlp amber --set requesting_authority='CERT-In desk' \
  --set subject='ransomware against a hospital' --set facts='encrypted on 1 Dec' \
  --set assistance='server logs' --set purpose='prosecution'
check "in.cert-in opens a sealed MLA case at B" 0 "$rc"
CASE=$(cut -d' ' -f1 out)
case_on_a() { run pk case show "$CASE"; [ "$rc" = 0 ]; }
until_ok 40 case_on_a && ok "the case reached A" || bad "case not on A: $(cat err) $(fl A .error)"
head -c $((24 << 20)) /dev/urandom >logs.tar
run pk case upload "$CASE" mla-partial logs.tar --set text='the logs of 1-3 Dec' --keep logs.tar.age
check "pk.fia answers at A with a sealed file (case upload)" 0 "$rc"
read -r H SIZE REC < <(tail -1 out)
check "... named by the SHA-256 of the age file" "$(sha256sum logs.tar.age | cut -d' ' -f1)" "$H"
echo "$H" >probe.hash

# ---- an origin serving wrong bytes: refused, named, nothing kept -----------
failed_named() { fl B '.files_failed[0].error // ""' | grep -q "hash to"; }
until_ok 40 failed_named && ok "a flipped bit is refused: $(fl B '.files_failed[0].error' | cut -c1-110)" ||
  bad "tampered file not refused: $("$C" peer list "$T/B" | jq -c '.[0] | {error, files_pending, files_failed}')"
check "... the failure names the file" "$H" "$(fl B '.files_failed[0].sha256')"
check "... and its record" "$REC" "$(fl B '.files_failed[0].record')"
check "... B holds no file" 0 "$(stored B)"


# ---- a slow file does not hold the records; a stop keeps the partial ---------
PART=$(ls -d "$T"/B/sync-files/*/)$H.part
psize() { stat -c %s "$PART" 2>/dev/null || echo 0; }
echo trickle >mode.b
# the trickle under way (a try begun while the relay still tampered ends first)
fetching() { grep -q '^trickle' mode.b.bytes 2>/dev/null; }
until_ok 60 fetching && ok "B is fetching the file slowly" || bad "no fetch in progress on B"
has_part() { [ "$(psize)" -gt 0 ]; }
until_ok 10 has_part && ok "... into its partial under sync-files/" || bad "no partial under sync-files/"
run pk case open mla-request --to in.cert-in --tlp amber --set requesting_authority='FIA desk' \
  --set subject='the same ransomware, seen from Pakistan' --set facts='encrypted on 2 Dec' \
  --set assistance='netflow' --set purpose='prosecution'
check "pk.fia opens a case at A while the file trickles" 0 "$rc"
CASE2=$(cut -d' ' -f1 out)
case2_on_b() { run in case show "$CASE2"; [ "$rc" = 0 ]; }
until_ok 30 case2_on_b && ok "... it reaches B within 30 s: the slow file holds no record pull" ||
  bad "the record waited behind the file: $(fl B .error)"
check "... while the file is still coming ($(psize) of $SIZE bytes)" 1 "$([ "$(psize)" -lt "$SIZE" ] && echo 1)"
t0=$(date +%s%N); node_stop B; t1=$(date +%s%N)
STOP_MS=$(( (t1 - t0) / 1000000 ))
check "B stops in the middle of the fetch within 5 s (took $STOP_MS ms)" 1 "$([ "$STOP_MS" -lt 5000 ] && echo 1)"
P1=$(psize)
check "... its partial kept ($P1 bytes)" 1 "$([ "$P1" -gt 0 ] && echo 1)"

# ---- restarted: asks for the rest only; killed there, resumes again --------
echo slow >mode.b
node_start B
TARGET=$((P1 + (SIZE - P1) / 2))
until_ok 60 bash -c "[ \$(stat -c %s '$PART' 2>/dev/null || echo 0) -ge $TARGET ]" &&
  ok "restarted, B resumes at byte $P1 (half the rest sent, then held)" ||
  bad "no resume on B: partial $(psize) bytes, want $TARGET"
grep -qx "bytes=$P1-" mode.b.ranges && ok "... it asked for Range: bytes=$P1-" ||
  bad "no Range bytes=$P1- asked: $(cat mode.b.ranges 2>/dev/null)"
kill -KILL "$PID_B"; wait "$PID_B" 2>/dev/null || true
check "killed mid-fetch: nothing stored under a hash" 0 "$(stored B)"
check "... the job is still there" "$H" "$(fl B '(.files_pending + .files_failed)[0].sha256')"
check "... and its partial ($TARGET bytes)" "$TARGET" "$(psize)"
echo pass >mode.b
node_start B
got_file() { [ "$(stored B)" = 1 ]; }
until_ok 60 got_file && ok "after the restart B fetched the file" ||
  bad "no file on B: $("$C" peer list "$T/B" | jq -c '.[0] | {error, files_pending, files_failed}')"
grep -qx "bytes=$TARGET-" mode.b.ranges && ok "... asking for Range: bytes=$TARGET-" ||
  bad "no Range bytes=$TARGET- asked: $(cat mode.b.ranges)"
SENT=$(awk '$1 != "tamper" { n += $2 } END { print n + 0 }' mode.b.bytes)
check "the relay sent $SENT bytes over three starts for a file of $SIZE (at most 1 MiB more)" 1 \
  "$([ "$SENT" -ge "$SIZE" ] && [ "$SENT" -le $((SIZE + (1 << 20))) ] && echo 1)"
check "... and no partial is left" 0 "$(find "$T/B/sync-files" -name '*.part' | wc -l)"
check "B's copy has the record's SHA-256" "$H" "$(sha256sum "$T/B/files/${H:0:2}/$H" | cut -d' ' -f1)"
jobs_done() { [ "$(fl B '(.files_pending + .files_failed) | length')" = 0 ]; }
until_ok 10 jobs_done && ok "peer list: nothing pending or failed" || bad "jobs left: $(fl B '.files_pending, .files_failed')"
run in case fetch "$H" --out got.tar
check "in.cert-in fetches it at B" 0 "$rc"
cmp -s got.tar logs.tar && ok "... and opens it with its key, byte for byte" || bad "fetched file differs: $(cat err)"
age -d -i in.key logs.tar.age 2>/dev/null | cmp -s - logs.tar && ok "the age file opens with the age command (the recipient's key)" ||
  bad "age -d with in.key failed"

# ---- non-parties: nothing, through every endpoint --------------------------
UNKNOWN=$(printf x | sha256sum | cut -d' ' -f1)
hget() { curl -s --noproxy '*' -H "Authorization: Token $2" -o body -w '%{http_code}' "$1/v1/files/$3"; }
s1=$(hget "$U_B" "$T_MEA" "$H"); b1=$(sed "s/$H/X/" body)
s2=$(hget "$U_B" "$T_MEA" "$UNKNOWN"); b2=$(sed "s/$UNKNOWN/X/" body)
check "a B party outside the case: the unknown hash's answer" "404 $b2" "$s1 $b1"
s1=$(hget "$U_B" "$OP_B" "$H"); b1=$(sed "s/$H/X/" body)
check "B's operator: the same" "404 $b2" "$s1 $b1"
s1=$(hget "$U_C" "$T_UN" "$H"); b1=$(sed "s/$H/X/" body)
check "un.unoda asking its node C: the unknown hash's answer" "404 $b2" "$s1 $b1"
probe_done() { [ -s probe ]; }
until_ok 20 probe_done && true
check "peer C asking A for the file with its own session: 404, as for a hash A does not hold" \
  "404 404 same" "$(cat probe 2>/dev/null)"
check "C holds no file" 0 "$(stored C)"
check "C has nothing pending" 0 "$(fl C '(.files_pending + .files_failed) | length')"

# ---- peer remove while B serves, in the middle of a fetch -------------------
# its files' jobs, cursor and partial go with it, and B's threads, still in
# a turn for A, leave nothing behind (docs/federation.md, section 6)
echo slow >mode.b
head -c $((4 << 20)) /dev/urandom >logs2.tar
run pk case upload "$CASE" mla-partial logs2.tar --set text='the logs of 4 Dec' --keep logs2.tar.age
check "pk.fia answers at A with a second sealed file" 0 "$rc"
read -r H2 _ _ < <(tail -1 out)
PART2=$(ls -d "$T"/B/sync-files/*/)$H2.part
fetching2() { [ "$(stat -c %s "$PART2" 2>/dev/null || echo 0)" -gt 0 ]; }
until_ok 60 fetching2 && ok "B is fetching it (the relay holds it half-way)" ||
  bad "no fetch of the second file on B: $(fl B '.files_pending, .files_failed')"
check "B keeps a directory of A's files (cursor, job, partial)" 1 "$(ls "$T/B/sync-files" | wc -l)"
rc=0; "$C" peer remove "$T/B" comity.a.test >/dev/null 2>err || rc=$?
check "peer remove at B while B serves, mid-fetch" 0 "$rc"
sf_empty() { [ "$(ls -A "$T/B/sync-files" | wc -l)" = 0 ]; }
until_ok 10 sf_empty && ok "... B's sync-files of A are gone" ||
  bad "left in B's sync-files: $(find "$T/B/sync-files" | tail -n +2)"
sleep 3 # several turns of B's threads, had they kept going
check "... and stay gone (no cursor, job or partial written again)" 0 \
  "$(find "$T/B/sync-files" -mindepth 1 | wc -l)"
check "B still serves" 200 "$(curl -s --noproxy '*' -o /dev/null -w '%{http_code}' "$U_B/v1/node")"
check "... and lists no peer A" 0 "$("$C" peer list "$T/B" | jq '[.[] | select(.origin == "comity.a.test")] | length')"
kill -TERM "$PID_B"; st=0; wait "$PID_B" || st=$?
check "B stops cleanly" 0 "$st"
check "... its sanitizers silent" 0 "$(grep -c 'Sanitizer\|runtime error' "$T/B.err" || true)"
finish
