#!/usr/bin/env bash
# pg_failover.sh: a node whose store is PostgreSQL with a synchronous
# streaming standby survives the primary's loss with nothing acknowledged
# lost (issue 20, "High availability").
#
# Two throw-away clusters (tests/pg/cluster): a primary with
# synchronous_standby_names = 'standby1' and its standby (pg_basebackup,
# streaming).  The node's store URI lists both sockets with
# target_session_attrs=read-write, so it connects to whichever is the
# primary.  Four clients post; once some records are acknowledged the
# primary is killed (kill -9 of the postmaster and every process of it),
# the standby promoted, the node restarted (its intake stops acknowledging
# when a batch cannot be made durable, docs/operations.md), the clients
# post again what was not acknowledged.  Then: every record acknowledged
# before the kill is in the promoted server (read there directly), every
# record once, and `comity log audit` is clean.
source "$(dirname "$0")/node_lib.bash"
C=$COMITY_BIN
CL="$COMITY_SRC/tests/pg/cluster"
P="$T/primary" S="$T/standby"
stop_clusters() { # both at once
  bash "$CL" stop "$S" >/dev/null 2>&1 & local sp=$!
  bash "$CL" stop "$P" >/dev/null 2>&1 || true; wait "$sp" || true
}
# at exit, passed or failed (node_lib.bash's trap runs this, then its
# own clean-up): the signers and the clients, the node, then both clusters
pids=()
cleanup_all() {
  local p
  for p in ${SIGN_PID:-} "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  if [ -n "$SERVE_PID" ]; then kill -9 "$SERVE_PID" 2>/dev/null || true; wait "$SERVE_PID" 2>/dev/null || true; SERVE_PID=""; fi
  stop_clusters
}
at_exit cleanup_all
# the party's key and its records need no server: signed while the two
# clusters are made (initdb and pg_basebackup are most of this test's time)
cd "$T"
N=24
"$C" keygen --party fo.mofa --out a.key >/dev/null 2>&1
seq 1 $N | xargs -P 8 -I{} sh -c \
  "echo '{\"n\":{}}' | '$C' record sign --key a.key --type note --tlp clear >r{}.json" &
SIGN_PID=$!
COMITY_PG_CONF="synchronous_standby_names = 'standby1'" bash "$CL" start "$P" >/dev/null
if [ "$(cat "$P/uri")" = none ]; then
  if [ "${CI:-}" = true ]; then echo "FAIL no PostgreSQL (CI=true)"; exit 1; fi
  echo "no PostgreSQL server programs: skipped"; exit 77
fi
bash "$CL" standby "$P" "$S" >/dev/null
PDIR=$(cat "$P/dir") SDIR=$(cat "$S/dir")
export PGOPTIONS="-c client_min_messages=warning"
for _ in $(seq 100); do
  st=$(psql -X -At "$(cat "$P/uri")" -c "SELECT sync_state FROM pg_stat_replication WHERE application_name='standby1' AND state='streaming'")
  [ "$st" = sync ] && break
  sleep 0.1
done
check "the standby streams, synchronous ($SECONDS s)" sync "$st"
schema=fo
psql -q -X "$(cat "$P/uri")" -c "CREATE SCHEMA $schema"
STORE="postgresql:///postgres?host=$PDIR,$SDIR&user=comity&target_session_attrs=read-write&options=-csearch_path%3D$schema"
D="$T/node"
"$C" init "$D" --origin fo.example/node --store "$STORE" >init.out
LOGVK=$(sed -n 's/^node key (signs its log): //p' init.out)
read -r VK RCP < <("$C" key show a.key)
TA=$("$C" party add "$D" fo.mofa --vkey "$VK" --recipient "$RCP" | sed -n 's/^token (shown once): //p')
wait "$SIGN_PID" || { echo "signing the records failed"; exit 1; }
SIGN_PID=
serve "$D" --insecure-http
echo "node serving ($SECONDS s)"
# a client posts its share until each is acknowledged; an acknowledged
# record's id goes to acked.K with the time (ms) of the answer
poster() {
  local k=$1 i code
  for i in $(seq "$k" 4 $N); do
    while :; do
      code=$(curl -s --noproxy '*' -m 5 -o "a$i.json" -w "%{http_code}" -H "Authorization: Token $TA" \
        --data-binary @"r$i.json" "$(cat url)/v1/records" || true)
      if [ "$code" = 201 ] || [ "$code" = 200 ]; then
        echo "$(date +%s%3N) $(jq -r .id "a$i.json")" >>"acked.$k"; break
      fi
      sleep 0.2
    done
  done
}
echo "$URL" >url
for k in 1 2 3 4; do poster $k & pids+=($!); done
for _ in $(seq 300); do [ "$(cat acked.* 2>/dev/null | wc -l)" -ge 8 ] && break; sleep 0.05; done
bash "$CL" kill "$P"
KILLED=$(date +%s%3N)
before=$(cat acked.* | awk -v t="$KILLED" '$1 < t {print $2}' | sort -u)
nb=$(echo "$before" | grep -c . || true)
[ "$nb" -ge 8 ] && ok "$nb records acknowledged before the primary was killed" || bad "only $nb acknowledged before the kill"
echo "primary killed ($SECONDS s)"
bash "$CL" promote "$S"
echo "standby promoted ($SECONDS s)"
check "the standby is now a primary" f "$(psql -X -At "$(cat "$S/uri")" -c 'SELECT pg_is_in_recovery()')"
# the promoted server kept the primary's synchronous_standby_names (its
# configuration came with pg_basebackup): alone, every commit on it would
# wait for a standby that is not there.  The operator's step after a
# promotion (docs/operations.md): name the new standby, or none until one
# joins.
psql -q -X "$(cat "$S/uri")" -c "ALTER SYSTEM SET synchronous_standby_names = ''" -c "SELECT pg_reload_conf()" >/dev/null
# the node: its intake stopped acknowledging when the primary went; a
# restart finds the promoted server through the URI's host list
kill -TERM "$SERVE_PID"
for _ in $(seq 200); do kill -0 "$SERVE_PID" 2>/dev/null || break; sleep 0.1; done
kill -9 "$SERVE_PID" 2>/dev/null && echo "node did not stop in 20 s: killed" || true
wait "$SERVE_PID" 2>/dev/null || true; SERVE_PID=""
serve "$D" --insecure-http
echo "node restarted ($SECONDS s)"
echo "$URL" >url
wait "${pids[@]}"
echo "clients done ($SECONDS s)"
check "every record acknowledged in the end" "$N" "$(cat acked.* | awk '{print $2}' | sort -u | wc -l)"
inpg=$(psql -X -At "$(cat "$S/uri")" -c "SELECT id FROM $schema.records" | sort)
check "every record acknowledged before the kill is in the promoted server" "" \
  "$(comm -23 <(echo "$before") <(echo "$inpg") | head -3)"
check "every record once in the promoted server" "$N" "$(echo "$inpg" | grep -c .)"
req GET "/v1/records?limit=1000" -H "Authorization: Token $TA" >/dev/null
check "the node serves them all" "$N" "$(jq '.records | length' "$T/body")"
stop_node && ok "clean stop" || bad "stop"
rc=0; "$C" log audit "$D/log" --vkey "$LOGVK" >audit.txt 2>&1 || rc=$?
check "log audit" 0 "$rc"
[ "$rc" = 0 ] || cat audit.txt
"$C" doctor "$D" >doc.txt 2>&1 || true
grep -q "PostgreSQL .*schema 'fo' at version" doc.txt && ok "doctor: the store on the promoted server" ||
  bad "doctor said: $(cat doc.txt)"
finish
