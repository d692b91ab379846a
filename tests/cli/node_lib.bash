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
  SERVE_PID=""
  rm -rf "$T"
}
# One EXIT trap for every test that sources this file: a test adds its
# own clean-up with `at_exit 'COMMANDS'` (its servers, clusters, clients)
# and never sets a trap of its own, which would replace this one.  At
# exit, whether the test passed or failed: the tests' clean-ups, the last
# added first (each runs even when an earlier one fails), then the nodes
# node_start ran, then the node `serve` ran and $T.
AT_EXIT=()
at_exit() { AT_EXIT+=("$1"); }
run_exit() {
  local i
  for ((i = ${#AT_EXIT[@]} - 1; i >= 0; i--)); do eval "${AT_EXIT[$i]}" || true; done
  cleanup_nodes
}
trap run_exit EXIT

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
# receipt_get ID TOKEN: the record's receipt into $T/body; a record the
# node logged a moment ago may not be under a checkpoint yet (404 "receipt
# not yet available", Retry-After: 1), so this waits up to ten seconds for
# one; echoes the last status.
receipt_get() {
  local st i
  for i in $(seq 1 50); do
    st=$(req GET "/v1/records/$1/receipt" -H "Authorization: Token $2")
    [ "$st" = 404 ] && grep -q 'not yet available' "$T/body" || break
    sleep 0.2
  done
  echo "$st"
}
jbody() { jq -r "$1" "$T/body"; }

# ---- several nodes at once: the federation tests (fed_*.sh, federation.sh) ---
# Node NAME lives in $T/NAME, made by nodes_init with the origin
# comity.NAME.test (lower case) and init's output in $T/NAME.init; it gets
# a free loopback port P_NAME, its URL U_NAME, its log key VK_NAME and its
# witness key WK_NAME.  node_start runs it (PID_NAME); every node started
# so is killed when the test exits (cleanup, above).
NODE_PIDS=()
cleanup_nodes() {
  local p
  for p in "${NODE_PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  cleanup
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
vkey_of() { sed -n 's/^node key (signs its log): //p' "$1"; }     # vkey_of INIT-OUTPUT
wkey_of() { sed -n 's/^witness key (cosigns peers. logs): //p' "$1"; }
optok() { sed -n 's/^operator token (shown once, keep it safe): //p' "$1"; }

# nodes_init NAME...: creates each node (in $T, from $T) and sets its
# P_, U_, VK_ and WK_ variables.
nodes_init() {
  local n
  for n in "$@"; do
    "$COMITY_BIN" init "$T/$n" --origin "comity.$(echo "$n" | tr A-Z a-z).test" --no-tls-cert >"$T/$n.init"
    eval "P_$n=$(free_port)"
    eval "U_$n=http://127.0.0.1:\$P_$n"
    eval "VK_$n=\$(vkey_of \"\$T/$n.init\")"
    eval "WK_$n=\$(wkey_of \"\$T/$n.init\")"
  done
}

# party_key PARTY FILE: a new key of PARTY in FILE, its public line in FILE.pub;
# kv FILE, kr FILE: its verifying key and its age recipient.
party_key() { "$COMITY_BIN" keygen --party "$1" --out "$2" >/dev/null 2>&1; "$COMITY_BIN" key show "$2" >"$2.pub"; }
kv() { cut -d' ' -f1 "$1.pub"; }
kr() { cut -d' ' -f2 "$1.pub"; }
# party_token NODE PARTY FILE: registers PARTY (key FILE) on NODE; prints its token.
party_token() {
  "$COMITY_BIN" party add "$T/$1" "$2" --vkey "$(kv "$3")" --recipient "$(kr "$3")" |
    sed -n 's/^token (shown once): //p'
}

# node_start NAME [DIR]: serves $T/DIR (default NAME) on P_NAME; sets PID_NAME.
# Every node and the test itself connect from 127.0.0.1, and a peer keeps
# up to four connections to each of its peers (its puller, its files
# thread, its push hints and its requests to the peer's witness):
# loopback is allow-listed, or three peers and the test's own requests
# would meet the per-address cap (16).
node_start() {
  local n=$1 d=${2:-$1} p
  p=$(eval echo "\$P_$n")
  "$COMITY_BIN" serve "$T/$d" --listen "127.0.0.1:$p" --insecure-http --allow-many 127.0.0.1 \
    >"$T/$d.out" 2>"$T/$d.err" &
  eval "PID_$n=$!"
  NODE_PIDS+=("$!")
  for _ in $(seq 100); do
    curl -s --noproxy '*' "http://127.0.0.1:$p/v1/node" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "node $n did not start"; cat "$T/$d.err"; exit 1
}
node_stop() { local pid; pid=$(eval echo "\$PID_$1"); kill -TERM "$pid"; wait "$pid" || true; }
# until_ok SECONDS CMD...: retries CMD (every 0.1 s, SECONDS*10 times) until it succeeds
until_ok() { local s=$1; shift; for _ in $(seq $((s * 10))); do "$@" && return 0; sleep 0.1; done; return 1; }

# ---- the state pk and its office pk.mofa on two nodes (fed_users.sh, fed_revoke_*.sh) ----
# fed_pk_init: nodes A and B (made, not started); pk's state key
# (pk-state.key) registered at A, its home (token T_STATE); pk.mofa's own
# key (mofa.key) and two users' (alice.key, bob.key); A pins B, and B pins
# A with pk homed there; both roster policies pin pk's state key.
fed_pk_init() {
  nodes_init A B
  party_key pk pk-state.key; party_key pk.mofa mofa.key
  party_key pk.mofa alice.key; party_key pk.mofa bob.key
  T_STATE=$(party_token A pk pk-state.key)
  "$COMITY_BIN" peer add "$T/A" "$U_B" --log-vkey "$VK_B" >/dev/null
  "$COMITY_BIN" peer add "$T/B" "$U_A" --log-vkey "$VK_A" --party "$(kv pk-state.key),$(kr pk-state.key)" >/dev/null
  printf 'state %s\n' "$(kv pk-state.key)" >"$T/policy"
  "$COMITY_BIN" roster policy "$T/A" "$T/policy" >/dev/null
  "$COMITY_BIN" roster policy "$T/B" "$T/policy" >/dev/null
}
# fed_party USERS OUT: pk.mofa's party record (homed at A, its users the
# JSON array USERS, or none when empty), signed by pk's state key.
fed_party() {
  printf '{"office":"pk.mofa","vkey":"%s","recipient":"%s","home":{"log_vkey":"%s","url":"%s"}%s}' \
    "$(kv "$T/mofa.key")" "$(kr "$T/mofa.key")" "$VK_A" "$U_A" "${1:+,\"users\":$1}" |
    "$COMITY_BIN" record sign --key "$T/pk-state.key" --type party --tlp clear --out "$2"
}
# fed_pk_witnessed: fed_pk_init, B's witness policy wanting B's own
# witness (so B knows W of what it pulls from A, whose checkpoints it
# cosigns), then A and B started.
fed_pk_witnessed() {
  fed_pk_init
  printf 'witness b %s\nquorum b\n' "$WK_B" >"$T/b.policy"
  "$COMITY_BIN" peer witnesses "$T/B" "$T/b.policy" >/dev/null && ok "B's witness policy kept" || bad "B policy"
  node_start A; node_start B
}
# fed_office_at_a USERS: pk.mofa's party record (p1.dsse, users USERS) posted
# by the state at A, pk.mofa registered at A from it (its token T_MOFA),
# pulled by B and applied there.
fed_office_at_a() {
  fed_party "$1" "$T/p1.dsse"
  "$COMITY_BIN" record post --url "$U_A" --token "$T_STATE" "$T/p1.dsse" >/dev/null &&
    ok "the state posts pk.mofa's party record at A" || bad "post p1"
  T_MOFA=$("$COMITY_BIN" party add "$T/A" --record "$T/p1.dsse" | sed -n 's/^token (shown once): //p')
  until_ok 40 office_on_b && ok "B pulled the party record" || bad "B's roster: $(perr)"
  "$COMITY_BIN" roster apply "$T/B" >/dev/null || bad "apply at B"
}
office_on_b() { [ "$("$COMITY_BIN" roster "$T/B" | jq -r '[.parties[].party] | join(",")')" = "pk.mofa" ]; }
# note KEY TEXT OUT: a clear note of pk.mofa signed with KEY
note() { echo "{\"text\":\"$2\"}" | "$COMITY_BIN" record sign --key "$1" --type note --tlp clear --out "$3"; }
# got_on NODE ID: the record is stored there (clear: anyone reads it)
got_on() { curl -s --noproxy '*' -o /dev/null -w '%{http_code}' "$(eval echo "\$U_$1")/v1/records/$2" | grep -q 200; }
# perr: the error B's puller last noted on its peer A
perr() { "$COMITY_BIN" peer list "$T/B" | jq -r '.[0].error'; }
# fed_late_refused WHO GREP [TOKEN]: A, which has not applied a revocation
# B has, logs late.dsse (signed by WHO before the revocation's created
# time, but logged, and witnessed, after it; posted with TOKEN, default
# T_MOFA); B refuses it by W: rule revoked, its error matching GREP and
# naming both W; B's cursor stops at it, B does not store it.
fed_late_refused() {
  local late ixl
  "$COMITY_BIN" record post --url "$U_A" --token "${3:-$T_MOFA}" "$T/late.dsse" >"$T/late.post" &&
    ok "A, the revocation not applied there, logs $1's late note" || bad "post late: $(cat "$T/late.post")"
  late=$(jq -r .id "$T/late.post"); ixl=$(jq -r .log_index "$T/late.post")
  LATE_GREP="refused (revoked).*$2"
  until_ok 40 refused_on_b && ok "B refuses it: rule revoked, naming $1" || bad "B: $(perr)"
  perr | grep -q "the revocation's W 20" && perr | grep -q "its W 20" &&
    ok "  ... with both witnessed times: $(perr | grep -o "revoked at.*" | cut -c1-170)" || bad "  ... B said $(perr)"
  check "B's cursor stops at that record" "$ixl" "$("$COMITY_BIN" peer list "$T/B" | jq -r '.[0].cursor')"
  got_on B "$late" && bad "B stored $1's late note" || ok "B did not store it"
}
refused_on_b() { perr | grep -q "$LATE_GREP"; }
