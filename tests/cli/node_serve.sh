#!/usr/bin/env bash
# node_serve.sh: the node as a server: TLS with the self-signed certificate
# init made (its fingerprint, TLS 1.2 and 1.3 only, no plain HTTP on the TLS
# port), --cert/--key, the refusal to serve without TLS unless
# --insecure-http, slow clients cut off by the timeout, the per-address
# connection cap, and a clean SIGTERM that lets an in-flight upload finish
# while new requests get 503.
source "$(dirname "$0")/node_lib.bash"

D="$T/node"
init_node "$D" tls.comity.example
FP=$(sed -n 's/^TLS certificate SHA-256 fingerprint: //p' "$T/init.out")
C=(-H "Accept: $TAXII")

serve "$D"
check "serves https" https "${URL%%:*}"
check "serve prints the same fingerprint" "$FP" "$(sed -n 's/^TLS certificate SHA-256 fingerprint: //p' "$T/serve.out")"
check "TLS with the node's certificate as anchor" 200 "$(req GET /taxii2/ "${C[@]}" --cacert "$D/tls/cert.pem")"
check "certificate valid for localhost" 200 "$(curl -s --noproxy '*' -o /dev/null -w '%{http_code}' --cacert "$D/tls/cert.pem" "${URL/127.0.0.1/localhost}/taxii2/")"
served=$(/usr/bin/python3 - "$URL" <<'PY'
import hashlib, ssl, sys
host, port = sys.argv[1].split("//")[1].split(":")
der = ssl.PEM_cert_to_DER_cert(ssl.get_server_certificate((host, int(port))))
print(":".join("%02X" % b for b in hashlib.sha256(der).digest()))
PY
)
check "fingerprint printed by init is the served certificate's" "$FP" "$served"
check "TLS 1.2" 200 "$(req GET /taxii2/ "${C[@]}" -k --tlsv1.2 --tls-max 1.2)"
check "TLS 1.3" 200 "$(req GET /taxii2/ "${C[@]}" -k --tlsv1.3)"
check "TLS 1.1 refused" 000 "$(req GET /taxii2/ "${C[@]}" -k --tlsv1.1 --tls-max 1.1 | sed 's/curl-failed//')"
check "plain HTTP on the TLS port refused" 000 "$(curl -s --noproxy '*' -o /dev/null -w '%{http_code}' "${URL/https/http}/taxii2/" || true)"
stop_node && ok "stopped" || bad "stop"

serve "$D" --cert "$D/tls/cert.pem" --key "$D/tls/key.pem"
check "--cert/--key" 200 "$(req GET /taxii2/ "${C[@]}" --cacert "$D/tls/cert.pem")"
stop_node || true
rc=0; "$COMITY_BIN" serve "$D" --cert "$D/tls/cert.pem" >/dev/null 2>&1 || rc=$?
check "--cert without --key" 2 "$rc"
rc=0; "$COMITY_BIN" serve "$D" --threads 0 >/dev/null 2>&1 || rc=$?
check "bad --threads" 2 "$rc"
rc=0; "$COMITY_BIN" serve "$T/none" >/dev/null 2>&1 || rc=$?
check "serve without a node" 2 "$rc"

D2="$T/plain"
"$COMITY_BIN" init "$D2" --origin plain.example --no-tls-cert >/dev/null
rc=0; "$COMITY_BIN" serve "$D2" --listen 127.0.0.1:0 >"$T/err" 2>&1 || rc=$?
check "no certificate: refuses to serve" 2 "$rc"
grep -q -- "--insecure-http" "$T/err" && ok "says how to serve plain HTTP" || bad "no hint: $(cat "$T/err")"

# the per-address connection cap: two keep-alive connections, each known
# to be held by the node because it has answered a request on it (no
# sleep, no race with the node's accept or its idle timeout, 120 s), then
# a third connection from the same address is refused
serve "$D2" --insecure-http --timeout 120 --max-per-ip 2
port=${URL##*:}
held() { # held FD: one request on the connection FD, its status line read
  printf 'GET /taxii2/ HTTP/1.1\r\nHost: x\r\n\r\n' >&"$1"
  local line=""; IFS= read -r -t 60 line <&"$1" || true
  echo "${line%$'\r'}" | cut -d' ' -f2
}
exec 3<>"/dev/tcp/127.0.0.1/$port"
check "first connection served" 200 "$(held 3)"
exec 4<>"/dev/tcp/127.0.0.1/$port"
check "second connection served" 200 "$(held 4)"
check "per-address cap refuses a third connection" 000 "$(req GET /taxii2/ --max-time 30 | sed 's/curl-failed//')"
exec 3<&- 4<&-
stop_node || true

# slow clients: cut off by the timeout
serve "$D2" --insecure-http --timeout 1
port=${URL##*:}
exec 3<>"/dev/tcp/127.0.0.1/$port"
printf 'GET /taxii2/ HTTP/1.1\r\nHost: x\r\n' >&3 # never finishes its headers
sleep 2.5
st=0; timeout 2 cat <&3 >/dev/null || st=$? # 124: still open after 2 s
check "slow client cut off by the timeout (EOF, not still open)" 0 "$st"
exec 3<&-
sleep 0.2
check "others still served" 200 "$(req GET /taxii2/)"
# another node on the same port: refused with the reason, and its log and
# intake, started before it listens, closed cleanly (it serves afterwards)
D3="$T/third"
"$COMITY_BIN" init "$D3" --origin third.example --no-tls-cert >/dev/null
rc=0; "$COMITY_BIN" serve "$D3" --insecure-http --listen "127.0.0.1:$port" >"$T/err3" 2>&1 || rc=$?
check "port in use: refused" 1 "$([ "$rc" -ne 0 ] && echo 1)"
grep -q "cannot listen on 127.0.0.1:$port" "$T/err3" && ok "port in use: says so" || bad "port in use: $(cat "$T/err3")"
stop_node || true
serve "$D3" --insecure-http
check "the refused node serves later" 200 "$(req GET /taxii2/)"
stop_node || true

# a body trickled in (1 KB/s) past --body-timeout: the connection is dropped
serve "$D2" --insecure-http --body-timeout 1
TOK=$(add_party "$D2" pk.mofa)
head -c 6000 /dev/zero | tr '\0' ' ' >"$T/slow"
code=$(curl -s --noproxy '*' -o /dev/null -w '%{http_code}' --limit-rate 1k --max-time 20 \
  -u "pk.mofa:$TOK" -H "Content-Type: $TAXII" --data-binary @"$T/slow" "$URL/comity/collections/x/objects/" || true)
check "slow body dropped at the deadline" 000 "$code"
check "node still serves" 200 "$(req GET /taxii2/)"
stop_node || true

# SIGTERM while an upload is in flight: it completes, then the node exits 0
serve "$D2" --insecure-http
COM=$(curl -s --noproxy '*' -u "pk.mofa:$TOK" "$URL/comity/collections/" | jq -r '.collections[] | select(.alias=="community") | .id')
jq -c '{objects: .objects}' "$COMITY_SHARED/data/ioc/amnesty/cytrox.stix2" >"$T/cy.json"
curl -s --noproxy '*' -o "$T/up" -w '%{http_code}' --limit-rate 200k -u "pk.mofa:$TOK" \
  -H "Content-Type: $TAXII" --data-binary @"$T/cy.json" "$URL/comity/collections/$COM/objects/" >"$T/code" &
CURL=$!
sleep 0.5
kill -TERM "$SERVE_PID"
sleep 0.3
check "a new request while stopping: 503" 503 "$(req GET /taxii2/ -H "Accept: $TAXII")"
check "... and its connection closes" close "$(hdr Connection)"
rc=0; wait "$SERVE_PID" || rc=$?; SERVE_PID=""
wait "$CURL" || true
check "in-flight upload completes during shutdown" 202 "$(cat "$T/code")"
check "and was stored whole" "687 0" "$(jq -r '"\(.success_count) \(.failure_count)"' "$T/up")"
check "node exits 0 after SIGTERM" 0 "$rc"
rc=0; "$COMITY_BIN" serve "$D2" --insecure-http --listen 127.0.0.1:0 >/dev/null 2>&1 &
p1=$!; sleep 1
"$COMITY_BIN" serve "$D2" --insecure-http --listen 127.0.0.1:0 >/dev/null 2>"$T/two" || rc=$?
kill -TERM $p1; wait $p1 || true
check "a second node on the same directory is refused" 2 "$rc"
grep -qi "log" "$T/two" && ok "says the log is taken" || bad "second serve: $(cat "$T/two")"
finish
