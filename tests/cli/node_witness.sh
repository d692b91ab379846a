#!/usr/bin/env bash
# node_witness.sh: the node as a c2sp.org/tlog-witness witness of a peer's
# log: POST /witness/add-checkpoint cosigns a trusted log's checkpoint with
# the node's witness key, refuses a stale old size (409), unknown logs
# (404) and garbage (400), and the cosignature verifies as a witness
# cosignature of that checkpoint.
source "$(dirname "$0")/node_lib.bash"

D="$T/node"
init_node "$D" witness.example
WVKEY=$(sed -n 's/^witness key (cosigns peers. logs): //p' "$T/init.out")
case "$WVKEY" in witness.example+*) ok "init prints the witness key";; *) bad "witness key: $WVKEY";; esac

# a peer's log with three entries
LVKEY=$("$COMITY_BIN" log init --origin peer.example/log --key "$T/peer.key" "$T/peer" 2>/dev/null)
printf 'a\nb\nc\n' | "$COMITY_BIN" log append "$T/peer" >/dev/null
"$COMITY_BIN" log request "$T/peer" --old 0 >"$T/req"

serve "$D" --insecure-http
check "unknown log" 404 "$(req POST /witness/add-checkpoint --data-binary @"$T/req")"
"$COMITY_BIN" witness add-log "$D/witness" "$LVKEY" >/dev/null
check "add-checkpoint" 200 "$(req POST /witness/add-checkpoint --data-binary @"$T/req")"
grep -q "^— witness.example " "$T/body" && ok "cosignature line by the node's witness key" || bad "body: $(cat "$T/body")"
# the peer adds the cosignature to its checkpoint (src/tlog keeps only
# cosignatures that verify under the given witness key)
cp "$T/body" "$T/cosig"
"$COMITY_BIN" log cosigned "$T/peer" --witness "$WVKEY" "$T/cosig" >/dev/null 2>&1 || true
grep -q "^— witness.example " "$T/peer/checkpoint" &&
  ok "cosignature verifies and joins the peer's checkpoint" || bad "cosignature refused by the peer"
check "same old size again" 409 "$(req POST /witness/add-checkpoint --data-binary @"$T/req")"
check "409 body is the witness's size" 3 "$(cat "$T/body")"
check "garbage" 400 "$(req POST /witness/add-checkpoint --data 'hello')"
check "GET add-checkpoint" 405 "$(req GET /witness/add-checkpoint)"
check "other witness path" 404 "$(req POST /witness/other --data x)"
check "node info shows the witness key" "$WVKEY" "$(req GET /v1/node >/dev/null; jbody .witness_vkey)"
stop_node && ok "stopped" || bad "stop"
finish
