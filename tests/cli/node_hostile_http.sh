#!/usr/bin/env bash
# node_hostile_http.sh: the node's HTTP layer against hostile clients
# (issue 13, points 4, 5, 9, 11, 14, 15), over raw sockets on loopback.
#
#   - a request with a body and no (or bad) credentials is answered 401 on
#     its headers: the client never sends its body, gets the answer anyway,
#     and the connection closes (nothing of the body is read or buffered);
#   - four addresses (127.0.0.2-5) that open 64 idle connections each hold
#     at most --max-per-ip of them, and a fifth address is still served; an
#     allow-listed address (--allow-many, node.conf allow_many) is not
#     capped; node.conf max_per_ip applies and the flag wins over it;
#   - a client trickling one header byte at a time is cut off at the header
#     deadline though it is never idle as long as the idle timeout;
#   - ambiguous framing (two Content-Length, Transfer-Encoding beside
#     Content-Length, an unknown Transfer-Encoding) is 400 at once;
#   - JSON nested too deep is 422 (rule payload), a repeated query
#     parameter on /v1/records 400;
#   - --access-log names the party of a record post.
source "$(dirname "$0")/node_lib.bash"
C=$COMITY_BIN
D="$T/node"
cd "$T"
init_node "$D" hostile.example/node
"$C" keygen --party pk.mofa --out a.key >/dev/null 2>&1
TA=$("$C" party add "$D" pk.mofa --vkey "$("$C" key show a.key | cut -d' ' -f1)" \
  --recipient "$("$C" key show a.key | cut -d' ' -f2)" | sed -n 's/^token (shown once): //p')

# raw REQUEST: sends the request text (\r\n given literally) from SRC and
# prints the status line's code, then "eof" if the node closed the
# connection after answering (within WAIT seconds), else "open".
raw() { # raw SRC WAIT TEXT
  /usr/bin/python3 - "$URL" "$1" "$2" "$3" <<'PY'
import socket, sys, time
url, src, wait, text = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
host, port = url.split("//")[1].split(":")
s = socket.socket()
s.bind((src, 0))
s.connect((host, int(port)))
s.sendall(text.encode().decode("unicode_escape").encode("latin-1"))
s.settimeout(wait)
data = b""
state = "open"
try:
    while True:
        b = s.recv(65536)
        if not b:
            state = "eof"
            break
        data += b
except (socket.timeout, ConnectionResetError):
    pass
line = data.split(b"\r\n", 1)[0].decode("latin-1")
print((line.split(" ")[1] if line.startswith("HTTP/") else "none"), state)
PY
}

serve "$D" --insecure-http --timeout 60 --access-log
H='Host: x\r\n'
BIG='Content-Length: 8000000\r\nContent-Type: application/json\r\n'

# ---- point 4 and 9: authentication on the headers ---------------------------
check "anonymous record post, body never sent: 401 and closed" "401 eof" \
  "$(raw 127.0.0.1 10 "POST /v1/records HTTP/1.1\r\n$H$BIG\r\n")"
check "bad token, body never sent: 401 and closed" "401 eof" \
  "$(raw 127.0.0.1 10 "POST /v1/records HTTP/1.1\r\n${H}Authorization: Token nope\r\n$BIG\r\n")"
check "anonymous TAXII post, body never sent: 401 and closed" "401 eof" \
  "$(raw 127.0.0.1 10 "POST /comity/collections/x/objects/ HTTP/1.1\r\n$H$BIG\r\n")"
check "anonymous chunked upload, no chunk sent: 401 and closed" "401 eof" \
  "$(raw 127.0.0.1 10 "POST /v1/records HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n")"
check "anonymous with Expect: 100-continue: 401, no 100" "401 eof" \
  "$(raw 127.0.0.1 10 "POST /v1/records HTTP/1.1\r\n${H}Expect: 100-continue\r\n$BIG\r\n")"
check "anonymous witness post over its cap: 413 on the headers" "413 eof" \
  "$(raw 127.0.0.1 10 "POST /witness/add-checkpoint HTTP/1.1\r\n$H$BIG\r\n")"
check "a party's large post is let through to the body (waits for it)" "none open" \
  "$(raw 127.0.0.1 2 "POST /v1/records HTTP/1.1\r\n${H}Authorization: Token $TA\r\n$BIG\r\n")"
check "anonymous reads are still served" 200 "$(req GET /taxii2/ -H "Accept: $TAXII")"

# ---- point 14: ambiguous framing ------------------------------------------------
# on a GET that is otherwise served, so that only the framing can refuse it
A="Authorization: Token $TA\r\n"
X="Accept: $TAXII\r\n"
check "two different Content-Length: 400" "400 eof" \
  "$(raw 127.0.0.1 10 "GET /taxii2/ HTTP/1.1\r\n$H$A${X}Content-Length: 5\r\nContent-Length: 50\r\n\r\nhello")"
check "two equal Content-Length: 400" "400 eof" \
  "$(raw 127.0.0.1 10 "GET /taxii2/ HTTP/1.1\r\n$H$A${X}Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello")"
check "unknown Transfer-Encoding: 400 at once" "400 eof" \
  "$(raw 127.0.0.1 10 "GET /taxii2/ HTTP/1.1\r\n$H$A${X}Transfer-Encoding: gzip\r\n\r\nhello")"
check "Transfer-Encoding beside Content-Length: 400" "400 eof" \
  "$(raw 127.0.0.1 10 "GET /taxii2/ HTTP/1.1\r\n$H$A${X}Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n")"
check "chunked alone still works (an empty envelope: 400 from intake)" "400" \
  "$(raw 127.0.0.1 10 "POST /v1/records HTTP/1.1\r\n$H${A}Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n" | cut -d' ' -f1)"
grep -q '"envelope"' <<<"$(curl -s --noproxy '*' -H "Authorization: Token $TA" -H 'Transfer-Encoding: chunked' --data-binary 'x' "$URL/v1/records")" &&
  ok "chunked body reaches intake" || bad "chunked body did not reach intake"

# ---- point 15: the right codes ------------------------------------------------------
/usr/bin/python3 - <<'PY' # the payload is parsed before the signature is checked
import base64, json
payload = '{"type":"note","author":"pk.mofa","body":{"a":' + "[" * 200 + "]" * 200 + "}}"
open("deep.json", "w").write(json.dumps({
    "payloadType": "application/vnd.comity.record+json",
    "payload": base64.b64encode(payload.encode()).decode(),
    "signatures": [{"keyid": "", "sig": base64.b64encode(bytes(64)).decode()}]}))
PY
check "JSON nested too deep: 422" 422 "$(req POST /v1/records -H "Authorization: Token $TA" --data-binary @deep.json)"
check "JSON nested too deep: rule payload" payload "$(jbody .rule)"
check "repeated limit: 400" 400 "$(req GET '/v1/records?limit=1&limit=1000' -H "Authorization: Token $TA")"
grep -q "'limit'" "$T/body" && ok "says which parameter" || bad "400 body: $(cat "$T/body")"
check "repeated cursor: 400" 400 "$(req GET '/v1/records?cursor=1&cursor=2' -H "Authorization: Token $TA")"
check "one limit: 200" 200 "$(req GET '/v1/records?limit=1' -H "Authorization: Token $TA")"

# ---- point 11: the access log names the poster ----------------------------------------
echo '{}' | "$C" record sign --key a.key --type note >n.json
check "a party's record post: 201" 201 "$(req POST /v1/records -H "Authorization: Token $TA" --data-binary @n.json)"
sleep 0.2
grep -q '^pk.mofa POST /v1/records 201 ' "$T/serve.err" && ok "access log names the party of a record post" ||
  bad "access log: $(grep 'POST /v1/records 201' "$T/serve.err")"
grep -q '^- POST /v1/records 401 ' "$T/serve.err" && ok "access log: anonymous is -" || bad "access log has no anonymous line"
stop_node || true

# ---- point 5: per-address cap, allow-list, header deadline ----------------------------------
# hold N idle connections from SRC (not one request sent); prints how many
# the node kept open after a moment, then holds them until killed
cat >hold.py <<'PY'
import socket, sys, time
url, src, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
host, port = url.split("//")[1].split(":")
socks = []
for _ in range(n):
    s = socket.socket()
    s.bind((src, 0))
    try:
        s.connect((host, int(port)))
        socks.append(s)
    except OSError:
        pass
time.sleep(1.5)
alive = 0
for s in socks:
    s.setblocking(False)
    try:
        alive += 0 if s.recv(1) == b"" else 1
    except BlockingIOError:
        alive += 1
    except OSError:
        pass
print(alive, flush=True)
time.sleep(float(sys.argv[4]) if len(sys.argv) > 4 else 60)
PY
held() { # held SRC N: starts a holder in the background, appends its pid to HOLDERS
  /usr/bin/python3 hold.py "$URL" "$1" "$2" >"hold.$1" &
  HOLDERS+=($!)
}
drop_holders() { kill "${HOLDERS[@]}" 2>/dev/null || true; wait "${HOLDERS[@]}" 2>/dev/null || true; HOLDERS=(); }
HOLDERS=()
at_exit drop_holders

serve "$D" --insecure-http --timeout 60
for a in 2 3 4 5; do held "127.0.0.$a" 64; done
sleep 3
check "a misbehaving address holds at most 16 (the default cap)" 16 "$(cat hold.127.0.0.2)"
check "... and so does each of the others" "16 16 16" "$(cat hold.127.0.0.3 hold.127.0.0.4 hold.127.0.0.5 | tr '\n' ' ' | sed 's/ $//')"
code=$(curl -s --noproxy '*' --interface 127.0.0.6 -o /dev/null -w '%{http_code}' --max-time 5 "$URL/taxii2/" -H "Accept: $TAXII" || true)
check "a fifth address is still served while four misbehave" 200 "$code"
drop_holders
stop_node || true

serve "$D" --insecure-http --timeout 60 --allow-many 127.0.0.6 --allow-many 127.0.0.8/30
held 127.0.0.6 40; held 127.0.0.9 40; held 127.0.0.7 40
sleep 2.5
check "an allow-listed address holds more than the cap" 40 "$(cat hold.127.0.0.6)"
check "an allow-listed block too" 40 "$(cat hold.127.0.0.9)"
check "an address outside the allow-list is capped" 16 "$(cat hold.127.0.0.7)"
drop_holders
stop_node || true

printf 'max_per_ip = 3\nallow_many = 127.0.0.6\nheader_timeout = 3s\n' >"$D/node.conf"
serve "$D" --insecure-http --timeout 60
held 127.0.0.2 10; held 127.0.0.6 10
sleep 2.5
check "node.conf max_per_ip" 3 "$(cat hold.127.0.0.2)"
check "node.conf allow_many" 10 "$(cat hold.127.0.0.6)"
drop_holders
# one header byte every 0.5 s: never idle for long, never done; the idle
# timeout (60 s) would let it run for ever, the header deadline (3 s) not
trickle=$(/usr/bin/python3 - "$URL" <<'PY'
import socket, sys, time
host, port = sys.argv[1].split("//")[1].split(":")
s = socket.socket()
s.connect((host, int(port)))
text = b"GET /taxii2/ HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 40
sent = 0
for b in text:
    try:
        s.sendall(bytes([b]))
    except OSError:
        break
    sent += 1
    s.settimeout(0.5)
    try:
        if s.recv(1) == b"":
            break
    except socket.timeout:
        pass
    except OSError:
        break
print("cut" if sent < len(text) else "never cut")
PY
)
check "a trickling header block is cut at the header deadline" cut "$trickle"
check "others still served" 200 "$(req GET /taxii2/ -H "Accept: $TAXII")"
stop_node || true
serve "$D" --insecure-http --max-per-ip 5
held 127.0.0.2 10
sleep 2.5
check "--max-per-ip wins over node.conf" 5 "$(cat hold.127.0.0.2)"
drop_holders
stop_node || true

printf 'allow_many = 10.1.2.3/8\n' >"$D/node.conf"
rc=0; "$C" serve "$D" --insecure-http --listen 127.0.0.1:0 >/dev/null 2>err || rc=$?
check "node.conf allow_many with host bits: refused" 2 "$rc"
grep -q "node.conf line 1" err && ok "names the line" || bad "message: $(cat err)"
rm "$D/node.conf"
rc=0; "$C" serve "$D" --insecure-http --listen 127.0.0.1:0 --allow-many nonsense >/dev/null 2>err || rc=$?
check "--allow-many nonsense: refused" 2 "$rc"
grep -q -- "--allow-many" err && ok "names the flag" || bad "message: $(cat err)"
finish
