#!/usr/bin/env bash
# bench/stalled_uploads.sh BUILD_DIR [BASE_BIN]: the node's peak memory
# (VmHWM of a release build) while 16 anonymous clients each announce an
# 8 MiB record post, send 7 MiB of it and stall (issue 13, point 4).  With
# BASE_BIN, the same against that binary, alternated, 3 rounds each.
set -euo pipefail
bin=$1/comity
base=${2:-}
one() { # one BIN: prints the peak RSS in KiB
  local T P URL
  T=$(mktemp -d)
  "$1" init "$T/n" --origin m.example --no-tls-cert >/dev/null
  "$1" serve "$T/n" --insecure-http --listen 127.0.0.1:0 --timeout 60 >"$T/out" 2>/dev/null &
  P=$!
  for _ in $(seq 100); do
    URL=$(sed -n 's|^comity node serving http://\(.*\)/ .*|\1|p' "$T/out")
    [ -n "$URL" ] && break
    sleep 0.1
  done
  /usr/bin/python3 - "$URL" <<'PY'
import socket, sys, time
host, port = sys.argv[1].split(":")
socks = []
for i in range(16):
    s = socket.socket()
    s.connect((host, int(port)))
    s.sendall(b"POST /v1/records HTTP/1.1\r\nHost: x\r\nContent-Length: 8388608\r\n\r\n")
    s.settimeout(0.05)
    for _ in range(112):  # 7 MiB, then stall
        try:
            s.sendall(b" " * 65536)
        except OSError:
            break
    socks.append(s)
time.sleep(2)
PY
  awk '/^VmHWM/ {print $2}' "/proc/$P/status"
  kill -TERM "$P"; wait "$P" || true
  rm -rf "$T"
}
for round in 1 2 3; do
  echo "round $round: this build: $(one "$bin") KiB peak"
  if [ -n "$base" ]; then echo "round $round: $base: $(one "$base") KiB peak"; fi
done
