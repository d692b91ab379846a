# node_lib.bash: helpers that the node shell tests (tests/cli/node_*.sh)
# source; not a test itself (ctest runs only *.sh).
#
# Each test starts a real node on a loopback port with `comity serve` and
# talks to it with curl.  No proxy is ever used for loopback.

set -euo pipefail
: "${COMITY_BIN:?}" "${COMITY_SHARED:?}"
export COMITY_BIN COMITY_SHARED
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
T=$(mktemp -d)
SERVE_PID=""
cleanup() {
  if [ -n "$SERVE_PID" ]; then kill -TERM "$SERVE_PID" 2>/dev/null || true; wait "$SERVE_PID" 2>/dev/null || true; fi
  rm -rf "$T"
}
trap cleanup EXIT

TAXII='application/taxii+json;version=2.1'
fails=0
ok()   { echo "ok   $*"; }
bad()  { echo "FAIL $*"; fails=$((fails + 1)); }
check() { # check DESCRIPTION WANT GOT
  if [ "$2" = "$3" ]; then ok "$1"; else bad "$1: want '$2', got '$3'"; fi
}
finish() {
  if [ "$fails" -ne 0 ]; then echo "$fails check(s) failed"; exit 1; fi
  echo "all checks passed"
}

# A signed-note verifier key for NAME over a fixed Ed25519 public key (the
# RFC 8032 test 1 key): name+hex(key id)+base64(0x01||key).
vkey_for() {
  /usr/bin/python3 - "$1" <<'PY'
import base64, hashlib, sys
name = sys.argv[1]
pub = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
kid = hashlib.sha256(name.encode() + b"\n" + b"\x01" + pub).digest()[:4]
print("%s+%s+%s" % (name, kid.hex(), base64.b64encode(b"\x01" + pub).decode()))
PY
}
recipient_new() { age-keygen 2>/dev/null | sed -n 's/^# public key: //p'; }

# init_node DIR ORIGIN: creates a node; sets OPTOKEN.
init_node() {
  "$COMITY_BIN" init "$1" --origin "$2" >"$T/init.out"
  OPTOKEN=$(sed -n 's/^operator token.*: //p' "$T/init.out")
}

# add_party DIR NAME: prints the new party's token.
add_party() {
  "$COMITY_BIN" party add "$1" "$2" --vkey "$(vkey_for "$2")" --recipient "$(recipient_new)" |
    sed -n 's/^token (shown once): //p'
}

# serve DIR ARGS...: starts the node on a free loopback port; sets URL.
serve() {
  local dir=$1; shift
  "$COMITY_BIN" serve "$dir" --listen 127.0.0.1:0 "$@" >"$T/serve.out" 2>"$T/serve.err" &
  SERVE_PID=$!
  for _ in $(seq 100); do
    URL=$(sed -n 's|^comity node serving \(https*://[0-9.]*:[0-9]*\)/.*|\1|p' "$T/serve.out" 2>/dev/null || true)
    [ -n "$URL" ] && return 0
    sleep 0.1
  done
  echo "node did not start"; cat "$T/serve.err"; exit 1
}
stop_node() {
  kill -TERM "$SERVE_PID"
  local rc=0
  wait "$SERVE_PID" || rc=$?
  SERVE_PID=""
  return $rc
}

# req METHOD PATH [curl args...]: body in $T/body, headers in $T/hdr,
# prints the status code.
req() {
  local m=$1 p=$2; shift 2
  curl -s -g --noproxy '*' --path-as-is -X "$m" -o "$T/body" -D "$T/hdr" -w '%{http_code}' \
    "$@" "$URL$p" || echo "curl-failed"
}
hdr() { tr -d '\r' <"$T/hdr" | sed -n "s/^$1: //Ip" | head -1; }
jbody() { jq -r "$1" "$T/body"; }
