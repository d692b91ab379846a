#!/usr/bin/env bash
# node_records_crash.sh: "nothing acknowledged is ever lost", tested by
# killing a node with SIGKILL while four clients post records to it.
#
# Each round starts the node, lets four curl loops post pre-signed records
# concurrently (so kills land in log appends, log syncs, store commits and
# checkpoints alike), and kills the node after a random delay.  After all
# rounds the node is started once more, and:
#   - every record that was acknowledged (201 or 200) is stored, at the log
#     index the acknowledgement gave;
#   - every stored record's entry is in the log at its index (checked with
#     `comity log get`), and no two records share an index;
#   - every acknowledged record's receipt verifies offline;
#   - the log audits (every tile and the root recomputed from the bundles).
# Then the log directory is put back as it was before 30 more posts (a
# machine crash that lost the log's newest writes): the node must log the
# lost entries again at the indexes it acknowledged.
source "$(dirname "$0")/node_lib.bash"
C=$COMITY_BIN
ROUNDS=${CRASH_ROUNDS:-6}
PER=${CRASH_PER_ROUND:-40}
D="$T/node"
cd "$T"
init_node "$D" crash.example/node
# the records are all signed before the first round and posted over several
# minutes of rounds: let them be up to an hour behind the node's clock
printf 'created_behind = 1h\n' >"$D/node.conf"
LOGVK=$(sed -n 's/^node key (signs its log): //p' "$T/init.out")
"$C" keygen --party pk.mofa --out a.key >/dev/null 2>&1
TA=$("$C" party add "$D" pk.mofa --vkey "$("$C" key show a.key | cut -d' ' -f1)" \
  --recipient "$("$C" key show a.key | cut -d' ' -f2)" | sed -n 's/^token (shown once): //p')
mkdir env
# sign_range FIRST LAST: env/FIRST..LAST.json, signed by pk.mofa, as many at
# once as there are processors (each signature is a process of its own)
sign_one() { echo "{\"n\":$1}" | "$C" record sign --key a.key --type note >"env/$1.json"; }
export -f sign_one; export C
sign_range() { seq "$1" "$2" | xargs -P "$(nproc)" -I{} bash -c 'sign_one {}'; }
sign_range 1 $((ROUNDS * PER))

poster() { # poster FIRST LAST STEP OUT: posts env/FIRST..LAST, logs "file status body"
  for i in $(seq "$1" "$3" "$2"); do
    code=$(curl -s --noproxy '*' -o "p.$4.body" -w '%{http_code}' --max-time 5 \
      -H "Authorization: Token $TA" --data-binary @"env/$i.json" "$URL/v1/records" || true)
    echo "$i $code $(tr -d '\n' <"p.$4.body" 2>/dev/null)" >>"$4"
  done
}

for r in $(seq 1 "$ROUNDS"); do
  serve "$D" --insecure-http
  first=$(((r - 1) * PER + 1)); last=$((r * PER))
  for k in 0 1 2 3; do poster $((first + k)) "$last" 4 "acks.$r.$k" & done
  # the kill lands after the round's first acknowledgement (a loaded
  # machine's sanitizer build may take seconds to answer the first post),
  # then after a random delay
  for _ in $(seq 1 200); do
    cat acks."$r".* 2>/dev/null | grep -q ' 20[01] ' && break
    sleep 0.1
  done
  delay=$(awk -v s=$RANDOM 'BEGIN { srand(s); printf "%.2f", 0.1 + rand() * 0.8 }')
  sleep "$delay"
  kill -9 "$SERVE_PID"; wait "$SERVE_PID" 2>/dev/null || true; SERVE_PID=""
  wait # the posters finish (connections refused after the kill)
done

serve "$D" --insecure-http
# "file status body" lines into "id log_index file", in one jq
{ grep -h ' 20[01] ' acks.* || true; } |
  jq -rR 'split(" ") as $f | ($f[2:] | join(" ") | fromjson) as $b | "\($b.id) \($b.log_index) \($f[0])"' |
  sort >acked
nack=$(wc -l <acked)
[ "$nack" -gt 0 ] && ok "$nack records acknowledged over $ROUNDS kills" || bad "nothing acknowledged"

# everything stored, as the node lists it (pk.mofa sees all its records):
# "id log_index digest" lines in OUT
list_stored() {
  local cur=""; : >"$1"
  while :; do
    req GET "/v1/records?limit=1000${cur:+&cursor=$cur}" -H "Authorization: Token $TA" >/dev/null
    jq -r '.records[] | "\(.id) \(.log_index) \(.digest)"' "$T/body" >>"$1"
    [ "$(jq -r .more "$T/body")" = true ] || break
    cur=$(jq -r .next "$T/body")
  done
}
# how many records of LIST (id log_index digest) have no entry at that
# index in the log of the stopped node: the log's entries 0..the highest
# index listed read at once (as far as the log goes), then compared
entries_missing() {
  local max
  max=$(cut -d' ' -f2 "$1" | sort -n | tail -1)
  "$C" log get "$D/log" --index 0 --count $((${max:-0} + 1)) >entries.txt 2>/dev/null || true
  awk 'FILENAME == ARGV[1] { e[FNR - 1] = $0; n = FNR; next }
       $2 >= n || e[$2] != "comity-record-v1:" $3 {
         printf "record %s: log entry %s is '\''%s'\''\n", $1, $2, e[$2] > "/dev/stderr"; bad++ }
       END { print bad + 0 }' entries.txt "$1"
}
list_stored stored
lost=$(join -v1 <(cut -d' ' -f1,2 acked | sort) <(cut -d' ' -f1,2 stored | sort) | wc -l)
check "every acknowledged record is stored at its acknowledged index" 0 "$lost"
check "no two records share a log index" 0 "$(cut -d' ' -f2 stored | sort | uniq -d | wc -l)"

# receipts of the acknowledged records verify offline (a sample of 20)
sleep 1.2
bad_receipts=0
shuf -n 20 --random-source=<(yes) acked | while read -r id idx i; do
  if ! "$C" record receipt --url "$URL" --token "$TA" "$id" --out "rc.proof" >/dev/null 2>&1 ||
     ! "$C" record verify --receipt rc.proof --log-vkey "$LOGVK" "env/$i.json" >/dev/null 2>&1; then
    echo "receipt of $id (index $idx) does not verify"; echo x >>bad_receipts.txt
  fi
done
check "sampled receipts verify" 0 "$(cat bad_receipts.txt 2>/dev/null | wc -l)"
stop_node && ok "clean stop" || bad "stop"

# every stored record's entry is in the log at its index
check "each stored record's entry is in the log at its index" 0 "$(entries_missing stored)"
rc=0; "$C" log audit "$D/log" --vkey "$LOGVK" >audit.txt 2>&1 || rc=$?
check "log audit" 0 "$rc"
echo "$(wc -l <stored) stored, $nack acknowledged; $(cat audit.txt)"

# ---- the machine crashes, and the log loses its newest writes --------------
# The node's log commits entries without an fsync (COMITY_LOG_REPLAYABLE):
# after a crash of the machine its newest entries may be gone while the
# records acknowledged are durable in the store.  Simulated here by putting
# the whole log directory back as it was before 30 more posts, after a
# SIGKILL.  The node must log each lost entry again at the index its answer
# gave, so that receipts of those records still come, and verify.
cp -a "$D/log" logsnap
first=$((ROUNDS * PER + 1)); last=$((first + 29))
sign_range "$first" "$last"
serve "$D" --insecure-http
: >acked2
for i in $(seq "$first" "$last"); do
  st=$(req POST /v1/records -H "Authorization: Token $TA" --data-binary @"env/$i.json")
  [ "$st" = 201 ] && echo "$(jq -r .id "$T/body") $(jq -r .log_index "$T/body") $i" >>acked2
done
check "30 more records acknowledged" 30 "$(wc -l <acked2)"
kill -9 "$SERVE_PID"; wait "$SERVE_PID" 2>/dev/null || true; SERVE_PID=""
rm -rf "$D/log"; cp -a logsnap "$D/log"
serve "$D" --insecure-http
check "the 30 lost entries are logged again at start" 30 \
  "$(sed -n 's/.* \([0-9]*\) re-logged$/\1/p' "$T/serve.err" | tail -1)"
check "the first five named, the rest counted" 5 \
  "$(grep -c 'was missing from the log: logged again' "$T/serve.err")"
list_stored stored2
check "each of them is stored at the index its answer gave" 0 \
  "$(join -v1 <(cut -d' ' -f1,2 acked2 | sort) <(cut -d' ' -f1,2 stored2 | sort) | wc -l)"
sleep 1.2
badr=0
while read -r id idx i; do
  if ! "$C" record receipt --url "$URL" --token "$TA" "$id" --out rc2.proof >/dev/null 2>&1 ||
     ! "$C" record verify --receipt rc2.proof --log-vkey "$LOGVK" "env/$i.json" >/dev/null 2>&1; then
    badr=$((badr + 1))
  fi
done <acked2
check "their receipts verify" 0 "$badr"
stop_node && ok "clean stop" || bad "stop"
check "every stored record's entry is in the log at its index" 0 "$(entries_missing stored2)"
rc=0; "$C" log audit "$D/log" --vkey "$LOGVK" >audit2.txt 2>&1 || rc=$?
check "log audit after the replay" 0 "$rc"
finish
