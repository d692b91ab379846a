# node_ops.bash: the body of node_ops.sh (SQLite) and node_ops_pg.sh
# (PostgreSQL): the operator's tools on a node made and served by the
# comity command.  Not a test itself (ctest runs only *.sh).  The caller
# sets STORE ("" for SQLite, else a postgresql:// URI) before sourcing.
#
#   doctor     a fresh node: no problem, exit 0; a key file opened to
#              others, a tampered tile: a PROBLEM naming it, exit 1
#   backup     taken while four clients post: every record acknowledged
#              before it began is in the restored node, the restored log
#              audits clean, restored node serves them and logs the newer
#              rows again at their indexes
#   restore    refuses a backup without its manifest, a non-empty DIR, and
#              a backup whose log was tampered with (exit 1, naming it)
C=$COMITY_BIN
D="$T/node"
cd "$T"

"$C" init "$D" --origin ops.example/node ${STORE:+--store "$STORE"} >"$T/init.out"
LOGVK=$(sed -n 's/^node key (signs its log): //p' "$T/init.out")
OPTOKEN=$(sed -n 's/^operator token.*: //p' "$T/init.out")
rc=0; "$C" doctor "$D" >doc.txt 2>&1 || rc=$?
check "doctor: a fresh node has no problem" 0 "$rc"
grep -q '^ok *log .*audits clean' doc.txt && ok "doctor: the log audited" || bad "doctor said: $(cat doc.txt)"
grep -q '^ok *store ' doc.txt && ok "doctor: the store at its version" || bad "doctor said: $(cat doc.txt)"
chmod 640 "$D/witness.key"
rc=0; "$C" doctor "$D" --quiet >doc.txt 2>&1 || rc=$?
check "doctor: a key open to the group is a problem (exit 1)" 1 "$rc"
grep -q "^PROBLEM keys .*witness.key is open to group" doc.txt && grep -q "do: chmod 600 .*witness.key" doc.txt &&
  ok "doctor: names the key and what to do" || bad "doctor said: $(cat doc.txt)"
chmod 600 "$D/witness.key"

# doctor and peers: one in step, one whose clock is 10 minutes ahead (a
# stand-in serving a real node's checkpoint with its Date moved), one
# that does not answer; each peer is another node's log key
fake_peer() { # fake_peer DIR SKEW: serves DIR/log/checkpoint, prints its port
  python3 -u - "$1" "$2" <<'PY' &
import http.server, sys, time, email.utils
d, skew = sys.argv[1], int(sys.argv[2])
class H(http.server.BaseHTTPRequestHandler):
    def date_time_string(self, t=None):
        return email.utils.formatdate(time.time() + skew, usegmt=True)
    def do_GET(self):
        body = open(d + "/log/checkpoint", "rb").read()
        self.send_response(200); self.send_header("Content-Length", str(len(body)))
        self.end_headers(); self.wfile.write(body)
    def log_message(self, *a): pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
PY
}
for p in p1 p2 p3; do
  "$C" init "$T/$p" --origin "$p.ops.example/node" >"$T/$p.out"
  eval "${p}vk=\$(sed -n 's/^node key (signs its log): //p' \"\$T/$p.out\")"
done
fake_peer "$T/p1" 0 >p1.port; P1PID=$!
fake_peer "$T/p2" 600 >p2.port; P2PID=$!
for _ in $(seq 50); do [ -s p1.port ] && [ -s p2.port ] && break; sleep 0.1; done
dead=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$C" peer add "$D" "http://127.0.0.1:$(cat p1.port)" --log-vkey "$p1vk" >/dev/null
"$C" peer add "$D" "http://127.0.0.1:$(cat p2.port)" --log-vkey "$p2vk" >/dev/null
"$C" peer add "$D" "http://127.0.0.1:$dead" --log-vkey "$p3vk" >/dev/null
rc=0; "$C" doctor "$D" >doc.txt 2>&1 || rc=$?
kill "$P1PID" "$P2PID"; wait "$P1PID" "$P2PID" 2>/dev/null || true
check "doctor: a peer's clock 10 minutes off is a problem (exit 1)" 1 "$rc"
grep -q '^ok *peers *p1.ops.example/node reachable, checkpoint of 0 entries verifies, clock [+-][01] s' doc.txt &&
  ok "doctor: a peer in step, its checkpoint verified" || bad "doctor said: $(cat doc.txt)"
grep -q '^PROBLEM peers *p2.ops.example/node.s clock is +\(599\|600\|601\) s from this machine' doc.txt &&
  grep -A1 'p2.ops.example/node.s clock' doc.txt | grep -q 'do: keep both clocks on NTP' &&
  ok "doctor: the skewed peer's clock, and what to do" || bad "doctor said: $(cat doc.txt)"
grep -q "^WARN *peers *p3.ops.example/node at http://127.0.0.1:$dead/log/checkpoint cannot be reached" doc.txt &&
  ok "doctor: the peer that does not answer" || bad "doctor said: $(cat doc.txt)"
for p in p1 p2 p3; do "$C" peer remove "$D" "$p.ops.example/node" >/dev/null; done

"$C" keygen --party ops.mofa --out a.key >/dev/null 2>&1
TA=$("$C" party add "$D" ops.mofa --vkey "$("$C" key show a.key | cut -d' ' -f1)" \
  --recipient "$("$C" key show a.key | cut -d' ' -f2)" | sed -n 's/^token (shown once): //p')
N1=8 N2=24
seq 1 $((N1 + N2)) | xargs -P 8 -I{} sh -c \
  "echo '{\"n\":{}}' | '$C' record sign --key a.key --type note --tlp clear >r{}.json"
serve "$D" --insecure-http --metrics-listen 127.0.0.1:0
MURL=$(sed -n 's|^metrics: \(http://127.0.0.1:[0-9]*\)/metrics (no token)$|\1|p' "$T/serve.out")
post() { curl -s --noproxy '*' -o "$2" -w "%{http_code}" -H "Authorization: Token $TA" \
  --data-binary @"$1" "$URL/v1/records"; }
for i in $(seq 1 $N1); do [ "$(post r$i.json a$i.json)" = 201 ] || bad "post $i"; done
before=$(for i in $(seq 1 $N1); do jq -r .id a$i.json; done | sort)
# four clients post the rest while the backup runs
poster() { for i in $(seq "$1" 4 $((N1 + N2))); do post r$i.json a$i.json >>"acks.$1"; echo >>"acks.$1"; done; }
pids=()
for k in 1 2 3 4; do poster $((N1 + k)) & pids+=($!); done
rc=0; "$C" backup "$D" "$T/bk" >bk.txt 2>&1 || rc=$?
wait "${pids[@]}"
check "backup while clients post" 0 "$rc"
check "the manifest is there" "comity-backup 1" "$(head -1 "$T/bk/BACKUP")"
check "the backup keeps the keys secret" 600 "$(stat -c %a "$T/bk/node.key")"
check "every record posted meanwhile acknowledged" "$N2" "$(cat acks.* | grep -c '^201$')"
"$C" doctor "$D" --quiet >doc.txt 2>&1 && ok "doctor on the serving node" || bad "doctor while serving: $(cat doc.txt)"
# /metrics: the operator's only, Prometheus's text format
check "a record that is no envelope is refused" 400 \
  "$(req POST /v1/records -H "Authorization: Token $TA" --data-binary '{"x":1}')"
check "/metrics: anonymous 401" 401 "$(req GET /metrics)"
check "/metrics: a party 403" 403 "$(req GET /metrics -H "Authorization: Token $TA")"
check "/metrics: the operator 200" 200 "$(req GET /metrics -H "Authorization: Token $OPTOKEN")"
check "/metrics: Prometheus's text format" "text/plain; version=0.0.4; charset=utf-8" "$(hdr Content-Type)"
m() { sed -n "s/^$1 //p" "$T/body"; }
check "/metrics: records stored" $((N1 + N2)) "$(m 'comity_records_total{outcome="stored"}')"
check "/metrics: refused by the envelope rule" 1 "$(m 'comity_records_refused_total{rule="envelope"}')"
for _ in $(seq 50); do # a checkpoint covers new entries within a second
  [ "$(m comity_log_size)" = $((N1 + N2)) ] && break
  sleep 0.1; req GET /metrics -H "Authorization: Token $OPTOKEN" >/dev/null
done
check "/metrics: the log's size" $((N1 + N2)) "$(m comity_log_size)"
check "/metrics: nothing queued" 0 "$(m 'comity_intake_queue{stage="inflight"}')"
check "/metrics: the store answers" 1 "$(m comity_store_up)"
grep -q '^# TYPE comity_records_refused_total counter$' "$T/body" && ok "/metrics: typed" || bad "/metrics: $(head -5 "$T/body")"
# the series counted as requests are answered (a series name holds / here)
mm() { awk -v k="$1" '$1 == k { print $2 }' "$T/body"; }
check "/metrics: record posts answered 201" $((N1 + N2)) \
  "$(mm 'comity_http_requests_total{route="/v1/records",status="201"}')"
check "/metrics: the refused post answered 400" 1 \
  "$(mm 'comity_http_requests_total{route="/v1/records",status="400"}')"
check "/metrics: its own 401 and 403 counted" "1 1" \
  "$(mm 'comity_http_requests_total{route="/metrics",status="401"}') $(mm 'comity_http_requests_total{route="/metrics",status="403"}')"
check "/metrics: every record post in the intake histogram" $((N1 + N2 + 1)) \
  "$(mm comity_intake_seconds_count)"
check "/metrics: the histogram's +Inf bucket is its count" "$(mm comity_intake_seconds_count)" \
  "$(mm 'comity_intake_seconds_bucket{le="+Inf"}')"
grep -q '^# TYPE comity_intake_seconds histogram$' "$T/body" && ok "/metrics: a histogram" ||
  bad "/metrics: no histogram"
awk '/^comity_intake_seconds_bucket/ { if ($2 < last) bad = 1; last = $2 } END { exit bad }' "$T/body" &&
  ok "/metrics: buckets cumulative" || bad "/metrics: buckets not cumulative"
sb=$(mm comity_store_bytes)
[ -n "$sb" ] && [ "$sb" -gt 0 ] && ok "/metrics: the store's size ($sb bytes)" || bad "/metrics: store bytes '$sb'"
# --metrics-listen: the same text without a token on an address of its own,
# and nothing else there; the node's listener keeps the operator's rule
[ -n "$MURL" ] && ok "metrics listener announced ($MURL)" || bad "no metrics line: $(cat "$T/serve.out")"
mreq() { curl -s -g --noproxy '*' -o "$T/body" -D "$T/hdr" -w '%{http_code}' "$@" || echo curl-failed; }
check "metrics listener: anonymous 200" 200 "$(mreq "$MURL/metrics")"
check "metrics listener: Prometheus's text format" "text/plain; version=0.0.4; charset=utf-8" \
  "$(hdr Content-Type)"
check "metrics listener: the same records stored" $((N1 + N2)) "$(m 'comity_records_total{outcome="stored"}')"
check "metrics listener: the same counted answers" $((N1 + N2)) \
  "$(mm 'comity_http_requests_total{route="/v1/records",status="201"}')"
check "metrics listener: nothing else served (TAXII 404)" 404 "$(mreq "$MURL/taxii2/")"
check "metrics listener: nothing else served (records 404)" 404 \
  "$(mreq "$MURL/v1/records" -H "Authorization: Token $OPTOKEN")"
check "metrics listener: no POST" 405 "$(mreq "$MURL/metrics" --data-binary x)"
check "the node's listener: /metrics still needs the operator (401)" 401 "$(req GET /metrics)"
check "the node's listener: /metrics still refuses a party (403)" 403 \
  "$(req GET /metrics -H "Authorization: Token $TA")"
stop_node && ok "clean stop" || bad "stop"
if curl -s --noproxy '*' -o /dev/null --max-time 5 "$MURL/metrics"; then
  bad "metrics listener still answers after the stop"
else ok "metrics listener closed with the node"; fi
rc=0; "$C" serve "$D" --insecure-http --listen 127.0.0.1:0 --metrics-listen localhost:x \
  >/dev/null 2>bad.err || rc=$?
check "a bad --metrics-listen stops the node at start (exit 2)" 2 "$rc"
grep -q 'metrics-listen' bad.err && ok "it names --metrics-listen" || bad "said: $(cat bad.err)"

# restore: refusals first
mkdir -p "$T/partial" && cp -r "$T/bk/log" "$T/partial/"
rc=0; "$C" restore "$T/partial" "$T/x1" >r.txt 2>&1 || rc=$?
[ "$rc" -ne 0 ] && grep -q "has no BACKUP" r.txt && ok "restore refuses a backup without its manifest" ||
  bad "restore of a partial backup: rc $rc, $(cat r.txt)"
mkdir -p "$T/full" && touch "$T/full/x"
rc=0; "$C" restore "$T/bk" "$T/full" >r.txt 2>&1 || rc=$?
check "restore refuses a non-empty DIR (exit 2)" 2 "$rc"

R="$T/restored"
if [ -n "$STORE" ]; then # into a schema of its own (the original still holds the node)
  psql -q -X "$PGURI" -c "CREATE DATABASE ${schema}_r" >/dev/null
  RSTORE="${PGURI/\/postgres\?//${schema}_r?}&options=-csearch_path%3D$schema"
  rc=0; "$C" restore "$T/bk" "$R" --store "$RSTORE" >r.txt 2>&1 || rc=$?
else
  rc=0; "$C" restore "$T/bk" "$R" >r.txt 2>&1 || rc=$?
fi
check "restore" 0 "$rc"
[ "$rc" = 0 ] || cat r.txt
grep -q "log audits clean" r.txt && ok "restore: the log audited" || bad "restore said: $(cat r.txt)"
"$C" doctor "$R" --quiet >doc.txt 2>&1 && ok "doctor: the restored node has no problem" ||
  bad "doctor on the restored node: $(cat doc.txt)"
serve "$R" --insecure-http --log-json --access-log
req GET "/v1/records?limit=1000" -H "Authorization: Token $TA" >/dev/null
jq -r '.records[].id' "$T/body" | sort >got.txt
check "every record acknowledged before the backup is restored" "" \
  "$(comm -23 <(echo "$before") got.txt | head -3)"
n=$(wc -l <got.txt)
[ "$n" -ge "$N1" ] && [ "$n" -le $((N1 + N2)) ] && ok "restored $n records ($N1 before the backup)" ||
  bad "restored $n records"
# the restored records hold the log indexes 0..n-1, each once
check "restored records at the log indexes 0..n-1" "$(seq 0 $((n - 1)) | tr '\n' ' ')" \
  "$(jq -r '.records[].log_index' "$T/body" | sort -n | tr '\n' ' ')"
echo '{"n":"after"}' | "$C" record sign --key a.key --type note --tlp clear >after.json
check "the restored node takes a new record" 201 "$(post after.json after.out)"
stop_node && ok "clean stop of the restored node" || bad "stop"
# --log-json: every stderr line one JSON object, time level event msg first
jq -e -s 'length > 0 and all(.[]; (keys_unsorted[0:4] == ["time","level","event","msg"])
  and (.time | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]{12}Z$"))
  and (.level | IN("info","warn","error")))' "$T/serve.err" >/dev/null &&
  ok "--log-json: each line a JSON object (time, level, event, msg)" ||
  bad "--log-json: $(head -3 "$T/serve.err")"
check "--log-json: the new record's post, with its fields" 1 \
  "$(jq -c 'select(.event == "http.request" and .method == "POST" and .path == "/v1/records"
    and .status == 201 and .who == "ops.mofa" and (.bytes | type) == "number")' "$T/serve.err" | wc -l)"
check "--log-json: the restart's check against the log, counted" "$n" \
  "$(jq -r 'select(.event == "intake.rechecked") | .checked + 0' "$T/serve.err" | head -1)"
jq -e -s 'any(.[]; .event == "serve.stopping" and .msg == "SIGTERM: finishing open requests, then stopping")' \
  "$T/serve.err" >/dev/null && ok "--log-json: comity serve's own lines too" || bad "no serve.stopping line"
rc=0; "$C" log audit "$R/log" --vkey "$LOGVK" >audit.txt 2>&1 || rc=$?
check "the restored node's log audits clean" 0 "$rc"
check "its size: every restored record and the new one" $((n + 1)) \
  "$(sed -n 's/^audit ok: \([0-9]*\) entries.*/\1/p' audit.txt)"

# a backup whose log was tampered with is refused
cp -r "$T/bk" "$T/bad"
for tile in $(find "$T/bad/log/tile/entries" -type f); do
  printf 'X' | dd of="$tile" bs=1 seek=10 conv=notrunc 2>/dev/null
done
rc=0; "$C" restore "$T/bad" "$T/x2" ${STORE:+--store "$RSTORE"} >r.txt 2>&1 || rc=$?
check "restore refuses a tampered log (exit 1)" 1 "$rc"
grep -q "log does not audit" r.txt && ok "says the log does not audit" || bad "said: $(cat r.txt)"
finish
