#!/usr/bin/env bash
# node_tiles.sh: the node's transparency log served under /log/ as
# c2sp.org/tlog-tiles: the checkpoint and every tile file byte for byte,
# caching headers, and nothing but tlog-tiles paths reachable.
source "$(dirname "$0")/node_lib.bash"

D="$T/node"
init_node "$D" tiles.example
seq 1 300 | sed 's/^/entry /' | "$COMITY_BIN" log append "$D/log" >/dev/null
serve "$D" --insecure-http

check "checkpoint" 200 "$(req GET /log/checkpoint)"
cmp -s "$T/body" "$D/log/checkpoint" && ok "checkpoint is the log's file" || bad "checkpoint differs"
check "checkpoint size" 300 "$(sed -n 2p "$T/body")"
check "checkpoint not cached" no-cache "$(hdr Cache-Control)"
n=0
while read -r f; do
  rel=${f#"$D/log/"}
  code=$(req GET "/log/$rel")
  if [ "$code" = 200 ] && cmp -s "$T/body" "$f"; then n=$((n + 1)); else bad "tile $rel: $code"; fi
done < <(find "$D/log/tile" -type f)
check "every tile file served byte for byte" "$(find "$D/log/tile" -type f | wc -l)" "$n"
[ "$n" -ge 4 ] && ok "tiles exist ($n)" || bad "too few tiles: $n"
check "full tile" 200 "$(req GET /log/tile/0/000)"
check "full tile immutable" "public, max-age=31536000, immutable" "$(hdr Cache-Control)"
check "full tile type" application/octet-stream "$(hdr Content-Type)"
check "partial tile" 200 "$(req GET /log/tile/0/001.p/44)"
check "partial tile not cached" no-cache "$(hdr Cache-Control)"
check "entry bundle" 200 "$(req GET /log/tile/entries/000)"
check "tile not written yet" 404 "$(req GET /log/tile/0/002)"
for p in /log/log.db /log/log.lock /log/ /log/tile/0/../../log.db /log/tile/64/000 /log/tile/00/000 \
         /log/tile/0/000.p/0 /log/tile/0/000.p/256 /log/tile/0/000.p/044 /log/tile/0/0000 \
         /log/tile/0/x01/000 /log/tile/0/000/extra /log/tile/entries/x000; do
  check "not a tile path: $p" 404 "$(req GET "$p")"
done
check "404 is JSON" "not found" "$(jbody .error)"
check "POST to the log" 405 "$(req POST /log/checkpoint)"
check "POST to the log with an anonymous body: 401" 401 "$(req POST /log/checkpoint --data x)"
stop_node && ok "stopped" || bad "stop"
finish
