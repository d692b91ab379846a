#!/usr/bin/env bash
# bench/medallion.sh BUILD_DIR: the same TAXII paging workload against the
# OASIS reference server medallion and against a comity node, side by side
# in one run (node issue, benchmark point 9(d)).
#
# medallion is not part of this repository and this script downloads
# nothing: MEDALLION_SRC must name a checkout of its public source (release
# v3.0.0; bench/README.md says how to get it and which Debian packages it
# needs).  Without MEDALLION_SRC the script says so and exits 0.
#
# For each size N in MEDALLION_SIZES (default "1000 3000 10000"):
#   - N STIX 2.1 indicators are generated (the same objects for both
#     servers): a memory-backend data file for medallion (one collection,
#     objects plus manifest, one date_added per object), and envelopes of
#     1,000 objects that are POSTed to a fresh comity node's public
#     collection;
#   - medallion (memory backend, max_page_size 100, HTTP Basic) is started
#     on 127.0.0.1 and a comity node with `serve --insecure-http --listen
#     127.0.0.1:0`;
#   - the workload, against each in turn: WALKS walks of PAGES pages, each
#     walk a GET objects/?limit=100 followed by GETs with the `next` the
#     server returned (each server's own paging token), with the TAXII
#     Accept header and Basic credentials, one curl per request; the time
#     of each request is curl's time_total.
# Printed per size and server: load time, peak RSS, first-page time, and
# p50/p99 over every request of the walks.  When a medallion first page
# exceeds MEDALLION_TIMEOUT seconds (default 120) that size is where it
# breaks down and larger sizes are not tried.  Then, unless
# MEDALLION_SKIP_1M=1, comity's page latency from a 1,000,000-object
# collection (bench_taxii's part (a), about 20 s; it is a libcurl client on
# one keep-alive connection, so it pays no connection setup per page).
set -euo pipefail
build=$1
if [ -z "${MEDALLION_SRC:-}" ]; then
  echo "medallion.sh: skipped: set MEDALLION_SRC to a medallion checkout (see bench/README.md)"
  exit 0
fi
c="$build/comity"
sizes=${MEDALLION_SIZES:-1000 3000 10000}
walks=${WALKS:-2}
pages=${PAGES:-10}
tmo=${MEDALLION_TIMEOUT:-120}
# Debian's interpreter, which sees Debian's python3-* packages (a python3
# earlier on PATH, e.g. from pyenv, would not)
py=${MEDALLION_PYTHON:-/usr/bin/python3}
for t in curl jq "$py"; do
  command -v $t >/dev/null || { echo "medallion.sh: skipped: $t not installed"; exit 0; }
done
if ! PYTHONPATH="$MEDALLION_SRC" "$py" -c 'import medallion.scripts.run' 2>/dev/null; then
  echo "medallion.sh: skipped: cannot import medallion from $MEDALLION_SRC"
  echo "  (needs Debian's python3-flask python3-flask-httpauth python3-tz python3-six; see bench/README.md)"
  exit 0
fi
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY
T=$(mktemp -d)
mpid="" cpid=""
stop() { # stop the servers this script started, by their ids
  for p in $mpid $cpid; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  mpid="" cpid=""
}
trap 'stop; rm -rf "$T"' EXIT
acc='Accept: application/taxii+json;version=2.1'
ctype='Content-Type: application/taxii+json;version=2.1'
mver=$(PYTHONPATH="$MEDALLION_SRC" "$py" -c 'import medallion.version as v; print(v.__version__)')
echo "medallion $mver from $MEDALLION_SRC (memory backend); $("$c" --version 2>/dev/null || echo "comity $c")"
echo "workload: $walks walks x up to $pages pages of GET objects/?limit=100 (+next), one curl each; load: $(cut -d' ' -f1-3 /proc/loadavg)"

# gen N DIR: medallion data file DIR/med.json and comity envelopes DIR/post-*.json
gen() {
  "$py" - "$1" "$2" <<'EOF'
import json, sys, uuid, datetime
n, d = int(sys.argv[1]), sys.argv[2]
t0 = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
def ts(ms):
    return (t0 + datetime.timedelta(milliseconds=ms)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
objs, man = [], []
for i in range(n):
    t = ts(i)
    o = {"type": "indicator", "spec_version": "2.1",
         "id": "indicator--" + str(uuid.UUID(int=i + 1, version=4)),
         "created": t, "modified": t, "name": "bench indicator %d" % i,
         "pattern": "[ipv4-addr:value = '10.%d.%d.%d']" % (i >> 16 & 255, i >> 8 & 255, i & 255),
         "pattern_type": "stix", "valid_from": t, "indicator_types": ["malicious-activity"]}
    objs.append(o)
    man.append({"id": o["id"], "date_added": t[:-1] + "000Z", "version": t,
                "media_type": "application/stix+json;version=2.1"})
info = {"title": "bench", "versions": ["application/taxii+json;version=2.1"],
        "max_content_length": 9765625}
data = {"/discovery": {"title": "bench", "default": "http://127.0.0.1/bench/",
                       "api_roots": ["http://127.0.0.1/bench/"]},
        "bench": {"information": info, "status": [], "collections": [
            {"id": "91a7b528-80eb-42ed-a74d-c6fbd5a26116", "title": "bench",
             "can_read": True, "can_write": True,
             "media_types": ["application/stix+json;version=2.1"],
             "objects": objs, "manifest": man}]}}
with open(d + "/med.json", "w") as f:
    json.dump(data, f)
for k in range(0, n, 1000):
    with open(d + "/post-%08d.json" % k, "w") as f:
        json.dump({"objects": objs[k:k + 1000]}, f)
EOF
}

freeport() { "$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
hwm() { sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$1/status" 2>/dev/null | awk '{printf "%.0f MiB", $1/1024}'; }
now() { date +%s.%N; }

# walk NAME BASEURL CURLARGS...: WALKS walks; appends seconds per request to
# $T/NAME.times and first pages to $T/NAME.first; returns 1 on a timeout
walk() {
  local name=$1 base=$2; shift 2
  local w p u out code t nx
  for ((w = 0; w < walks; w++)); do
    u="$base?limit=100"
    for ((p = 0; p < pages; p++)); do
      if ! out=$(curl -s --noproxy '*' --max-time "$tmo" -o "$T/body" -w '%{http_code} %{time_total}' "$@" -H "$acc" "$u"); then
        echo "timeout" >>"$T/$name.first"; return 1
      fi
      read -r code t <<<"$out"
      [ "$code" = 200 ] || { echo "medallion.sh: $name: HTTP $code on $u: $(head -c 300 "$T/body")" >&2; return 2; }
      [ "$(jq '.objects | length' "$T/body")" -gt 0 ] || { echo "medallion.sh: $name: empty page" >&2; return 2; }
      echo "$t" >>"$T/$name.times"
      [ "$p" = 0 ] && echo "$t" >>"$T/$name.first"
      nx=$(jq -r 'if .more then .next // "" else "" end' "$T/body")
      [ -n "$nx" ] || break
      u="$base?limit=100&next=$nx"
    done
  done
}

# stats FILE: "p50 p99" in ms (nearest rank)
stats() {
  sort -g "$1" | awk '{a[NR]=$1} END {i=int(NR*0.5+0.5); j=int(NR*0.99+0.5); if(i<1)i=1; if(j<1)j=1;
    printf "%d req  p50 %9.1f ms  p99 %9.1f ms", NR, a[i]*1000, a[j]*1000}'
}
firsts() { awk '$1=="timeout"{printf " >%ss", '"$tmo"'; next} {printf " %.1fms", $1*1000}' "$1"; }

printf '%-8s %-10s %-12s %-9s %s\n' N server load peak-RSS "requests / latency / first pages"
for n in $sizes; do
  rm -f "$T"/post-*.json "$T"/*.times "$T"/*.first
  gen "$n" "$T"
  # medallion
  port=$(freeport)
  pw=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
  jq -n --arg f "$T/med.json" --arg pw "$pw" '{backend: {module: "medallion.backends.memory_backend",
     module_class: "MemoryBackend", filename: $f}, users: {bench: $pw}, taxii: {max_page_size: 100}}' >"$T/med-conf.json"
  t0=$(now)
  (cd "$T" && PYTHONPATH="$MEDALLION_SRC" exec "$py" -m medallion.scripts.run --host 127.0.0.1 --port "$port" "$T/med-conf.json" >"$T/med.out" 2>&1) &
  mpid=$!
  for _ in $(seq 600); do
    curl -s --noproxy '*' -o /dev/null -f -u "bench:$pw" -H "$acc" "http://127.0.0.1:$port/taxii2/" && break
    kill -0 "$mpid" 2>/dev/null || { echo "medallion.sh: medallion did not start:"; tail -5 "$T/med.out"; exit 3; }
    sleep 0.2
  done
  mload=$(awk -v a="$t0" -v b="$(now)" 'BEGIN{printf "%.1fs", b-a}')
  broke=0
  walk med "http://127.0.0.1:$port/bench/collections/91a7b528-80eb-42ed-a74d-c6fbd5a26116/objects/" -u "bench:$pw" || broke=$?
  [ "$broke" = 2 ] && exit 3
  printf '%-8s %-10s %-12s %-9s %s |%s\n' "$n" medallion "$mload" "$(hwm "$mpid")" \
    "$( [ -s "$T/med.times" ] && stats "$T/med.times" || echo "no page")" "$(firsts "$T/med.first")"
  stop
  # comity
  rm -rf "$T/n"
  tok=$("$c" init "$T/n" --origin bench.example | sed -n 's/^operator token.*: //p')
  "$c" serve "$T/n" --insecure-http --listen 127.0.0.1:0 >"$T/c.out" 2>/dev/null &
  cpid=$!
  url=""
  for _ in $(seq 50); do url=$(sed -n 's|^comity node serving \(http://[0-9.:]*\)/.*|\1|p' "$T/c.out"); [ -n "$url" ] && break; sleep 0.1; done
  [ -n "$url" ] || { echo "medallion.sh: comity did not start"; exit 3; }
  pub=$(curl -s --noproxy '*' -H "$acc" "$url/comity/collections/" | jq -r '.collections[0].id')
  t0=$(now)
  for f in "$T"/post-*.json; do
    curl -s --noproxy '*' -f -u "operator:$tok" -H "$acc" -H "$ctype" --data-binary @"$f" \
      "$url/comity/collections/$pub/objects/" | jq -e '.success_count == .total_count' >/dev/null ||
      { echo "medallion.sh: comity refused a POST"; exit 3; }
  done
  cload=$(awk -v a="$t0" -v b="$(now)" 'BEGIN{printf "%.1fs", b-a}')
  walk com "$url/comity/collections/$pub/objects/" -u "operator:$tok" || { echo "medallion.sh: comity walk failed"; exit 3; }
  printf '%-8s %-10s %-12s %-9s %s |%s\n' "$n" comity "$cload" "$(hwm "$cpid")" "$(stats "$T/com.times")" "$(firsts "$T/com.first")"
  stop
  if [ "$broke" = 1 ]; then
    echo "medallion breaks down at N=$n: a first page took more than ${tmo}s (MEDALLION_TIMEOUT); larger sizes not tried"
    break
  fi
done
if [ -x "$build/bench_taxii" ] && [ "${MEDALLION_SKIP_1M:-0}" = 0 ]; then
  echo "comity at 1,000,000 objects, from bench_taxii (a) (libcurl client):"
  BENCH_TAXII_OBJECTS=1000000 "$build/bench_taxii" | sed -n '1,2p'
else
  echo "comity at 1,000,000 objects: BENCH_ONLY=taxii bench/run BUILD_DIR (bench_taxii (a), target p50 <= 5 ms)"
fi
echo "baseline (specs/taxii.md): medallion took 23-32 s per page of a 3,099-object collection"
