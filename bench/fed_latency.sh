#!/usr/bin/env bash
# fed_latency.sh BUILD_DIR: post-to-peer latency on
# loopback (docs/federation.md, section 5; issue target p50 <= 1 s, p99 <= 3 s).
#
# Two nodes, A (pk.mofa's) and B (in.mea's), pin each other.  N records
# (BENCH_FED_LAT_N, default 60) signed beforehand by pk.mofa, green, to
# in.mea, are posted to A one at a time, 0-400 ms apart (a fixed
# pseudo-random sequence); for each, the time from the start of its POST on
# A until B answers 200 for it (in.mea's GET /v1/records/ID, asked every
# 5 ms).  Printed: p50, p90, p99 and max.  Then the same run without push
# hints, for the baseline (the puller's 1 s poll alone): A pins B at an
# address nobody listens on, so A's hints are lost (B still pulls from A
# at A's true address; A's own pulls from B fail, which this run does not
# use).
# Not a test: latencies move with the machine's load.
set -euo pipefail
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
N=${BENCH_FED_LAT_N:-60}

run() { # run COMITY_BINARY LABEL HINTS(1|0)
  local C=$1 label=$2 hints=$3 T pa pb hb
  T=$(mktemp -d)
  trap 'kill $PA $PB 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$T"' RETURN
  port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
  pa=$(port); pb=$(port)
  for n in A B; do "$C" init "$T/$n" --origin "comity.$(echo $n | tr A-Z a-z).bench" --no-tls-cert >"$T/$n.init"; done
  local va vb
  va=$(sed -n 's/^node key (signs its log): //p' "$T/A.init"); vb=$(sed -n 's/^node key (signs its log): //p' "$T/B.init")
  "$C" keygen --party pk.mofa --out "$T/pk.key" >/dev/null 2>&1; "$C" keygen --party in.mea --out "$T/in.key" >/dev/null 2>&1
  local kp ki
  kp=$("$C" key show "$T/pk.key"); ki=$("$C" key show "$T/in.key")
  local tpk tin
  tpk=$("$C" party add "$T/A" pk.mofa --vkey "${kp% *}" --recipient "${kp#* }" | sed -n 's/^token (shown once): //p')
  tin=$("$C" party add "$T/B" in.mea --vkey "${ki% *}" --recipient "${ki#* }" | sed -n 's/^token (shown once): //p')
  hb=$pb
  [ "$hints" = 1 ] || hb=$(port) # a port bound a moment ago and closed: nobody listens
  "$C" peer add "$T/A" "http://127.0.0.1:$hb" --log-vkey "$vb" --party "${ki% *},${ki#* }" >/dev/null
  "$C" peer add "$T/B" "http://127.0.0.1:$pa" --log-vkey "$va" --party "${kp% *},${kp#* }" >/dev/null
  for i in $(seq "$N"); do
    echo "{\"severity\":1,\"sector\":\"energy\",\"summary\":\"latency $i\"}" |
      "$C" record sign --key "$T/pk.key" --type notification --tlp green --to in.mea >"$T/r$i.json"
  done
  "$C" serve "$T/A" --listen "127.0.0.1:$pa" --insecure-http >/dev/null 2>"$T/A.err" & PA=$!
  "$C" serve "$T/B" --listen "127.0.0.1:$pb" --insecure-http >/dev/null 2>"$T/B.err" & PB=$!
  sleep 2
  python3 - "$T" "$N" "$pa" "$pb" "$tpk" "$tin" "$label" <<'PY'
import json, random, sys, time, urllib.request, urllib.error
T, N, pa, pb, tpk, tin, label = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6], sys.argv[7]
random.seed(14)
lat = []
for i in range(1, N + 1):
    body = open(f"{T}/r{i}.json", "rb").read()
    t0 = time.monotonic()
    rq = urllib.request.Request(f"http://127.0.0.1:{pa}/v1/records", data=body, method="POST",
                                headers={"Authorization": "Token " + tpk,
                                         "Content-Type": "application/json"})
    rid = json.load(urllib.request.urlopen(rq))["id"]
    while True:
        try:
            g = urllib.request.Request(f"http://127.0.0.1:{pb}/v1/records/{rid}",
                                       headers={"Authorization": "Token " + tin})
            urllib.request.urlopen(g).read()
            break
        except urllib.error.HTTPError:
            time.sleep(0.005)
        if time.monotonic() - t0 > 60:
            sys.exit("record %s never reached B" % rid)
    lat.append(time.monotonic() - t0)
    time.sleep(random.uniform(0, 0.4))
lat.sort()
q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))]
print("%-28s n=%d  p50 %.3f s  p90 %.3f s  p99 %.3f s  max %.3f s" % (label, len(lat), q(0.5), q(0.9), q(0.99), lat[-1]))
PY
}
echo "post-to-peer latency, A -> B on loopback; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
run "$1/comity" "push hints" 1
run "$1/comity" "poll only (hints lost)" 0
