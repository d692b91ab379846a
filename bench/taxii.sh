#!/usr/bin/env bash
# bench/taxii.sh BUILD_DIR: a TAXII page under concurrent load, measured by
# wrk (an independent HTTP load generator): a node made with `comity init`,
# the Amnesty Pegasus bundle (3,099 objects) posted to its public
# collection, then 5 s of GET objects/?limit=100 from 8 connections.
# Baseline named in specs/taxii.md: medallion took 23-32 s per page of
# this same 3,099-object collection.
set -euo pipefail
build=$1
root=$(cd "$(dirname "$0")/.." && pwd)
c="$build/comity"
shared=${COMITY_SHARED:-$root/../shared}
command -v wrk >/dev/null || { echo "taxii.sh: wrk not installed (make bench installs it)"; exit 0; }
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY
T=$(mktemp -d); pid=""
trap 'kill ${pid:-} 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$T"' EXIT
tok=$("$c" init "$T/n" --origin bench.example | sed -n 's/^operator token.*: //p')
"$c" serve "$T/n" --insecure-http --listen 127.0.0.1:0 >"$T/out" 2>/dev/null &
pid=$!
for _ in $(seq 50); do url=$(sed -n 's|^comity node serving \(http://[0-9.:]*\)/.*|\1|p' "$T/out"); [ -n "$url" ] && break; sleep 0.1; done
acc='Accept: application/taxii+json;version=2.1'
pub=$(curl -s --noproxy '*' -H "$acc" "$url/comity/collections/" | jq -r '.collections[0].id')
jq -c '{objects: .objects}' "$shared/data/ioc/amnesty/pegasus.stix2" >"$T/p.json"
curl -s --noproxy '*' -u "operator:$tok" -H "$acc" -H 'Content-Type: application/taxii+json;version=2.1' \
  --data-binary @"$T/p.json" "$url/comity/collections/$pub/objects/" | jq -r '"loaded \(.success_count) objects"'
echo "wrk: GET a 100-object page, 2 threads, 8 connections, 5 s"
wrk -t2 -c8 -d5s --latency -H "$acc" "$url/comity/collections/$pub/objects/?limit=100" |
  grep -E 'Latency|50%|99%|Requests/sec'
echo "baseline medallion (specs/taxii.md): 23-32 s per page of this collection"
