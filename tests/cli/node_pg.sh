#!/usr/bin/env bash
# node_pg.sh: a node whose store is PostgreSQL, end to end through the
# comity command: `comity init --store postgresql://...`, serve, records
# posted by four clients at once, read back over GET /v1/records and over
# TAXII (x-comity-record objects, paged, the hidden ones left out), a
# clean restart and a kill -9 with the records still there, and a log that
# audits clean.  Runs on the throw-away cluster of tests/pg/cluster (CTest
# fixture "pg"), in a schema of its own.
source "$(dirname "$0")/node_lib.bash"
C=$COMITY_BIN
uri=$(cat "${COMITY_TEST_PG_URI_FILE:-/nonexistent}" 2>/dev/null || true)
case "$uri" in
postgresql:*) ;;
*)
  if [ "${CI:-}" = true ]; then echo "FAIL no PostgreSQL cluster (CI=true)"; exit 1; fi
  echo "no PostgreSQL cluster: skipped"; exit 77 ;;
esac
schema="cli_$$_$RANDOM"
export PGOPTIONS="-c client_min_messages=warning"
psql -q -X "$uri" -c "CREATE SCHEMA $schema" || { echo "FAIL cannot create schema"; exit 1; }
STORE="$uri&options=-csearch_path%3D$schema"
D="$T/node"
cd "$T"

"$C" init "$D" --origin pg.example/node --store "$STORE" >"$T/init.out"
OPTOKEN=$(sed -n 's/^operator token.*: //p' "$T/init.out")
LOGVK=$(sed -n 's/^node key (signs its log): //p' "$T/init.out")
check "init: the store's location kept in DIR/store" "$STORE" "$(cat "$D/store")"
check "init: DIR/store readable by its owner only" 600 "$(stat -c %a "$D/store")"
[ ! -e "$D/node.db" ] && ok "init: no SQLite file" || bad "init made node.db"
check "the tables are in the schema given" 1 \
  "$(psql -X -At "$uri" -c "SELECT count(*) FROM pg_tables WHERE schemaname='$schema' AND tablename='records'")"
rc=0; "$C" init "$T/again" --origin other.example/node --store "$STORE" >/dev/null 2>again.err || rc=$?
[ "$rc" -ne 0 ] && ok "init: a second node on the same store refused" || bad "second init passed"
grep -q 'already holds the node pg.example/node' again.err && ok "says which node" || bad "said: $(cat again.err)"

"$C" keygen --party pk.mofa --out a.key >/dev/null 2>&1
TA=$("$C" party add "$D" pk.mofa --vkey "$("$C" key show a.key | cut -d' ' -f1)" \
  --recipient "$("$C" key show a.key | cut -d' ' -f2)" | sed -n 's/^token (shown once): //p')
[ -n "$TA" ] && ok "party added to the PostgreSQL store" || bad "party add"
N=40
for i in $(seq 1 $N); do # every fourth one amber (only its author sees it)
  tlp=clear; [ $((i % 4)) = 0 ] && tlp=amber
  echo "{\"n\":$i}" | "$C" record sign --key a.key --type note --tlp $tlp >"r$i.json"
done

serve "$D" --insecure-http
poster() { # poster FIRST STEP OUT
  for i in $(seq "$1" "$2" $N); do
    curl -s --noproxy '*' -o /dev/null -w "%{http_code}\n" -H "Authorization: Token $TA" \
      --data-binary @"r$i.json" "$URL/v1/records" >>"$3"
  done
}
pids=()
for k in 1 2 3 4; do poster $k 4 "acks.$k" & pids+=($!); done
wait "${pids[@]}" # not the node, also a child of this shell
check "four clients: every record acknowledged (201)" "$N" "$(cat acks.* | grep -c '^201$')"
check "a record posted again: 200" 200 "$(req POST /v1/records -H "Authorization: Token $TA" --data-binary @r1.json)"

count_records() { # the records pk.mofa sees, paged by 7
  local cur="" n=0
  while :; do
    req GET "/v1/records?limit=7${cur:+&cursor=$cur}" -H "Authorization: Token $TA" >/dev/null
    n=$((n + $(jq '.records | length' "$T/body")))
    [ "$(jq -r .more "$T/body")" = true ] || break
    cur=$(jq -r .next "$T/body")
  done
  echo $n
}
# TAXII: the wrappers in the public collection, paged by 5 (an anonymous
# reader sees the clear ones only, and pages count only those)
taxii_wrappers() {
  local pub next="" n=0 pages=0
  pub=$(curl -s --noproxy '*' -H "Accept: $TAXII" "$URL/comity/collections/" |
    jq -r '.collections[] | select(.alias=="public") | .id')
  while :; do
    curl -s --noproxy '*' -H "Accept: $TAXII" \
      "$URL/comity/collections/$pub/objects/?limit=5&match%5Btype%5D=x-comity-record${next:+&next=$next}" >page.json
    n=$((n + $(jq '.objects // [] | length' page.json)))
    pages=$((pages + 1))
    [ "$(jq -r '.more // false' page.json)" = true ] || break
    next=$(jq -r .next page.json)
  done
  echo "$n in $pages pages"
}
check "GET /v1/records: the author sees all" "$N" "$(count_records)"
CLEAR=$((N - N / 4))
check "TAXII: the clear records' wrappers, full pages" "$CLEAR in $(((CLEAR + 4) / 5)) pages" "$(taxii_wrappers)"

stop_node && ok "clean stop" || bad "stop"
serve "$D" --insecure-http
check "after a restart: every record still there" "$N" "$(count_records)"
check "after a restart: TAXII the same" "$CLEAR in $(((CLEAR + 4) / 5)) pages" "$(taxii_wrappers)"
echo '{"n":"last"}' | "$C" record sign --key a.key --type note --tlp clear >last.json
check "one more record" 201 "$(req POST /v1/records -H "Authorization: Token $TA" --data-binary @last.json)"
LAST=$(jq -r .id "$T/body")
kill -9 "$SERVE_PID"; wait "$SERVE_PID" 2>/dev/null || true; SERVE_PID=""
serve "$D" --insecure-http
check "after kill -9: the acknowledged record is there" "$LAST" \
  "$(req GET "/v1/records?limit=1000" -H "Authorization: Token $TA" >/dev/null; jq -r ".records[] | select(.id==\"$LAST\") | .id" "$T/body")"
check "after kill -9: every record" $((N + 1)) "$(count_records)"
stop_node && ok "clean stop" || bad "stop"
rc=0; "$C" log audit "$D/log" --vkey "$LOGVK" >audit.txt 2>&1 || rc=$?
check "log audit" 0 "$rc"
psql -q -X "$uri" -c "DROP SCHEMA $schema CASCADE" || true
finish
