#!/usr/bin/env bash
# witness_round.sh BUILD_DIR: a witness cosigning round with 4 witnesses on
# loopback (docs/federation.md, section 8; issue 14 point 6: "p50 on
# loopback").
#
# Five nodes, real `comity serve` processes: A, the log (pk.mofa's origin),
# and B, C, D, E, each a peer of A and so a witness of A's log (each pins A,
# A pins each).  This is how comity nodes ask for cosignatures: when A's
# published checkpoint grows, A's hinter asks each peer's witness to cosign
# it (c2sp.org/tlog-witness add-checkpoint with a consistency proof) and
# adds every cosignature to its published checkpoint.  Each round posts one
# record to A, then watches A's /log/checkpoint (one keep-alive connection,
# asked every ms): the clock starts when a checkpoint of a new size first
# appears (published, no cosignature yet) and stops when that checkpoint
# carries all 4 cosignatures.  Then a pause of 100-300 ms (a fixed
# pseudo-random sequence) and the next round.  Printed: p50, p90, p99 and
# max over WITNESS_ROUNDS rounds (default 50), and the load average.
# The watch itself costs up to about 1 ms a side.  Not a test: the figures
# move with the machine's load.
set -euo pipefail
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
C=$(cd "${1:?usage: witness_round.sh BUILD_DIR}" && pwd)/comity
N=${WITNESS_ROUNDS:-50}
T=$(mktemp -d)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$T"' EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
declare -A P V
for n in A B C D E; do
  lc=$(echo $n | tr A-Z a-z)
  "$C" init "$T/$n" --origin "comity.$lc.bench" --no-tls-cert >"$T/$n.init"
  V[$n]=$(sed -n 's/^node key (signs its log): //p' "$T/$n.init")
  P[$n]=$(port)
done
"$C" keygen --party pk.mofa --out "$T/pk.key" >/dev/null 2>&1
kp=$("$C" key show "$T/pk.key")
tpk=$("$C" party add "$T/A" pk.mofa --vkey "${kp% *}" --recipient "${kp#* }" |
  sed -n 's/^token (shown once): //p')
for n in B C D E; do
  lc=$(echo $n | tr A-Z a-z)
  "$C" keygen --party "w$lc.mofa" --out "$T/$lc.key" >/dev/null 2>&1
  kx=$("$C" key show "$T/$lc.key")
  "$C" party add "$T/$n" "w$lc.mofa" --vkey "${kx% *}" --recipient "${kx#* }" >/dev/null
  "$C" peer add "$T/A" "http://127.0.0.1:${P[$n]}" --log-vkey "${V[$n]}" \
    --party "${kx% *},${kx#* }" >/dev/null
  "$C" peer add "$T/$n" "http://127.0.0.1:${P[A]}" --log-vkey "${V[A]}" \
    --party "${kp% *},${kp#* }" >/dev/null
done
for i in $(seq "$N"); do
  echo "{\"severity\":1,\"sector\":\"energy\",\"summary\":\"round $i\"}" |
    "$C" record sign --key "$T/pk.key" --type notification --tlp green --to wb.mofa >"$T/r$i.json"
done
for n in A B C D E; do
  # all five on loopback, each witness keeping four connections to A (its
  # puller, its files thread, its push hints and its requests to A's
  # witness): loopback is allow-listed, or the bench's own requests meet
  # A's per-address cap (16)
  "$C" serve "$T/$n" --listen "127.0.0.1:${P[$n]}" --insecure-http --allow-many 127.0.0.1 \
    >/dev/null 2>"$T/$n.err" &
  PIDS+=($!)
done
sleep 2
echo "witness cosigning round, 1 log and 4 witnesses on loopback; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$T" "$N" "${P[A]}" "$tpk" <<'PY'
import http.client, json, random, sys, time
T, N, pa, tok = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
random.seed(14)
c = http.client.HTTPConnection("127.0.0.1", pa, timeout=30)

def checkpoint():
    c.request("GET", "/log/checkpoint")
    r = c.getresponse()
    body = r.read().decode()
    if r.status != 200:
        return 0, 0
    lines = body.split("\n")
    size = int(lines[1])
    sigs = [l for l in lines if l.startswith("\u2014 ")]
    cosigs = [l for l in sigs if not l.startswith("\u2014 comity.a.bench ")]
    return size, len(cosigs)

lat = []
for i in range(1, N + 1):
    body = open(f"{T}/r{i}.json", "rb").read()
    post = http.client.HTTPConnection("127.0.0.1", pa, timeout=30)
    post.request("POST", "/v1/records", body, {"Authorization": "Token " + tok,
                                                "Content-Type": "application/json"})
    ans = post.getresponse().read()
    try:
        idx = json.loads(ans)["log_index"]
    except (ValueError, KeyError):
        sys.exit("round %d: A answered %s" % (i, ans[:300]))
    post.close()
    deadline = time.monotonic() + 60
    t0 = None
    while time.monotonic() < deadline:
        s, k = checkpoint()
        now = time.monotonic()
        if s > idx and t0 is None:
            t0 = now  # first seen (4 cosignatures already: they came within one step)
        if t0 is not None and s > idx and k >= 4:
            if i > 1:  # the first round reads the witnesses' keys: not counted
                lat.append(now - t0)
            break
        time.sleep(0.001)
    else:
        sys.exit("round %d: the checkpoint covering index %d never had 4 cosignatures" % (i, idx))
    time.sleep(random.uniform(0.1, 0.3))
lat.sort()
q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))]
print("rounds %d (the first not counted)  p50 %.1f ms  p90 %.1f ms  p99 %.1f ms  max %.1f ms" %
      (len(lat), 1e3 * q(0.5), 1e3 * q(0.9), 1e3 * q(0.99), 1e3 * lat[-1]))
PY
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
