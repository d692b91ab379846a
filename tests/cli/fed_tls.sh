#!/usr/bin/env bash
# fed_tls.sh: peers over https with the node's self-signed certificate,
# trusted by its pinned key alone (docs/federation.md, section 4;
# `comity peer add --tls-pin`).
#
# A (pk's) and B (in's) serve https with the certificates `comity init`
# made, and pin each other with the key pin the other's init printed: a
# record posted on A reaches B over https, with no authority and no
# system trust.  The pin is the SHA-256 of the certificate's
# SubjectPublicKeyInfo (checked against openssl's).  C pins A with B's
# pin: refused before anything is sent, its `peer list` naming the pin
# mismatch, nothing pulled.  D pins A over https without a pin: refused,
# the certificate untrusted, the message naming --tls-pin.  A malformed
# pin, and a pin for an http:// URL, are refused by `peer add`; a
# malformed line in DIR/peers.pins (edited by hand) is refused with the
# file and the line named, by `serve` (it does not start), by `peer
# add` (the file left as it is) and by `peer remove` (the file and the
# store left as they are: the old code forgot the peer, then failed),
# never handed to libcurl.  Then A
# stops while B's puller holds a connection to it: at once, not after its
# whole grace period.
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/node_lib.bash"
C=$COMITY_BIN
cd "$T"
PIDS=()
cleanup_all() {
  local p
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
}
at_exit cleanup_all
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
until_ok() { local end=$((SECONDS + $1)); shift; while [ $SECONDS -lt $end ]; do "$@" && return 0; sleep 0.2; done; return 1; }
keyfile() { "$C" keygen --party "$1" --out "$2" >/dev/null 2>&1; "$C" key show "$2" >"$2.pub"; }
kv() { cut -d' ' -f1 "$1.pub"; }
kr() { cut -d' ' -f2 "$1.pub"; }

for n in A B C D; do
  "$C" init "$T/$n" --origin "comity.$(echo $n | tr A-Z a-z).test" >"$T/$n.init"
  eval "P_$n=$(port)"
done
vk() { sed -n 's/^node key (signs its log): //p' "$T/$1.init"; }
pin() { sed -n "s/^TLS public key pin (for peers' peer add --tls-pin): //p" "$T/$1.init"; }
PIN_A=$(pin A); PIN_B=$(pin B)
[[ $PIN_A =~ ^sha256//[A-Za-z0-9+/]{43}=$ ]] && ok "comity init prints the key pin ($PIN_A)" || bad "init's pin: '$PIN_A'"
want=$(openssl x509 -in "$T/A/tls/cert.pem" -pubkey -noout | openssl pkey -pubin -outform der |
  openssl dgst -sha256 -binary | base64)
check "the pin is the SHA-256 of the certificate's SubjectPublicKeyInfo" "sha256//$want" "$PIN_A"

U_A="https://127.0.0.1:$P_A"; U_B="https://127.0.0.1:$P_B"
keyfile pk.mofa pk.key; keyfile in.mea in.key
T_PK=$("$C" party add "$T/A" pk.mofa --vkey "$(kv pk.key)" --recipient "$(kr pk.key)" | sed -n 's/^token (shown once): //p')
T_IN=$("$C" party add "$T/B" in.mea --vkey "$(kv in.key)" --recipient "$(kr in.key)" | sed -n 's/^token (shown once): //p')

out=$("$C" peer add "$T/B" "$U_A" --log-vkey "$(vk A)" --party "$(kv pk.key),$(kr pk.key)" --tls-pin "$PIN_A")
check "B pins A over https with its key pin" "peer $U_A pinned with 1 party homed at it, its TLS key pinned" "$out"
"$C" peer add "$T/A" "$U_B" --log-vkey "$(vk B)" --party "$(kv in.key),$(kr in.key)" --tls-pin "$PIN_B" >/dev/null
"$C" peer add "$T/C" "$U_A" --log-vkey "$(vk A)" --party "$(kv pk.key),$(kr pk.key)" --tls-pin "$PIN_B" >/dev/null
"$C" peer add "$T/D" "$U_A" --log-vkey "$(vk A)" --party "$(kv pk.key),$(kr pk.key)" >/dev/null
check "peer list shows the pin" "$PIN_A" "$("$C" peer list "$T/B" | jq -r '.[0].tls_pin')"

rc=0; "$C" peer add "$T/D" "$U_B" --log-vkey "$(vk B)" --tls-pin "sha256//abc" 2>err.txt || rc=$?
check "a malformed pin is refused (usage)" 2 "$rc"
grep -q "want sha256//BASE64" err.txt && ok "... saying what a pin is" || bad "message: $(cat err.txt)"
[ "$("$C" peer list "$T/D" | jq length)" = 1 ] && ok "... and the peer is not added" || bad "D's peers: $("$C" peer list "$T/D")"
rc=0; "$C" peer add "$T/D" "http://127.0.0.1:$P_B" --log-vkey "$(vk B)" --tls-pin "$PIN_B" 2>err.txt || rc=$?
check "a pin for an http:// URL is refused" 2 "$rc"
printf 'comity.b.test %s\ncomity.a.test sha256//not-a-pin\n' "$PIN_B" >"$T/D/peers.pins"
cp "$T/D/peers.pins" pins.before
rc=0; timeout 30 "$C" serve "$T/D" --listen "127.0.0.1:$P_D" >/dev/null 2>err.txt || rc=$?
[ "$rc" != 0 ] && [ "$rc" != 124 ] && ok "a malformed line in peers.pins: serve refuses to start (exit $rc)" ||
  bad "serve with a malformed pins file: exit $rc"
grep -q "$T/D/peers.pins line 2" err.txt && ok "... naming the file and the line" || bad "message: $(cat err.txt)"
rc=0; "$C" peer add "$T/D" "$U_B" --log-vkey "$(vk B)" --tls-pin "$PIN_B" 2>err.txt || rc=$?
[ "$rc" != 0 ] && grep -q "peers.pins line 2" err.txt && cmp -s pins.before "$T/D/peers.pins" &&
  ok "... peer add refuses it too, the file left as it is" || bad "peer add: exit $rc, $(cat err.txt)"
rc=0; "$C" peer remove "$T/D" comity.a.test 2>err.txt || rc=$?
[ "$rc" != 0 ] && grep -q "peers.pins line 2" err.txt && cmp -s pins.before "$T/D/peers.pins" &&
  ok "... peer remove refuses it too, the file left as it is" || bad "peer remove: exit $rc, $(cat err.txt)"
rm "$T/D/peers.pins"
check "... and the peer is still in the store" 1 "$("$C" peer list "$T/D" | jq length)"

start() { # start NAME
  local p; p=$(eval echo "\$P_$1")
  "$C" serve "$T/$1" --listen "127.0.0.1:$p" >"$T/$1.out" 2>"$T/$1.err" &
  PIDS+=("$!")
  for _ in $(seq 150); do
    curl -sk --noproxy '*' "https://127.0.0.1:$p/v1/node" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  echo "node $1 did not start"; cat "$T/$1.err"; exit 1
}
for n in A B C D; do start $n; done
grep -q "serving https://" A.out && ok "A serves https" || bad "A: $(cat A.out)"

echo '{"severity":2,"sector":"energy","summary":"over pinned TLS"}' |
  "$C" record sign --key pk.key --type notification --tlp green --to in.mea >m1.json
ID=$("$C" record post --url "$U_A" --token "$T_PK" --cacert "$T/A/tls/cert.pem" m1.json | cut -d' ' -f1)
pulled() { [ "$("$C" peer list "$T/$1" | jq -r '.[0].pulled')" -ge 1 ]; }
until_ok 90 pulled B && ok "the record posted on A reached B over https (pinned key)" ||
  bad "B: $("$C" peer list "$T/B")"
check "B's error is empty" "" "$("$C" peer list "$T/B" | jq -r '.[0].error')"
errs() { "$C" peer list "$T/$1" | jq -r '.[0].error' | grep -q "$2"; }
until_ok 60 errs C "not the one pinned" && ok "C (wrong pin): refused, peer list names the pin mismatch" ||
  bad "C: $("$C" peer list "$T/C")"
check "C pulled nothing" 0 "$("$C" peer list "$T/C" | jq -r '.[0].pulled')"
until_ok 60 errs D "not trusted by this system.*--tls-pin" && ok "D (no pin): the certificate is untrusted, the message names --tls-pin" ||
  bad "D: $("$C" peer list "$T/D")"
check "D pulled nothing" 0 "$("$C" peer list "$T/D" | jq -r '.[0].pulled')"
"$C" peer remove "$T/B" comity.a.test >/dev/null
[ -z "$(grep comity.a.test "$T/B/peers.pins" || true)" ] && ok "peer remove forgets the pin" || bad "pins: $(cat "$T/B/peers.pins")"
[ -n "$ID" ] || bad "no record id"
# A stops while B holds keep-alive connections to it: B's puller (pinned
# again), and B's hinter and cosigner, which called A when B's log grew
# and stay idle.  The grace period (10 s) waits for requests in progress,
# not for idle connections (it waited the whole 10 s before: 15 s here)
"$C" peer add "$T/B" "$U_A" --log-vkey "$(vk A)" --party "$(kv pk.key),$(kr pk.key)" --tls-pin "$PIN_A" >/dev/null
echo '{"severity":1,"sector":"energy","summary":"from B"}' |
  "$C" record sign --key in.key --type notification --tlp green --to pk.mofa >b1.json
"$C" record post --url "$U_B" --token "$T_IN" --cacert "$T/B/tls/cert.pem" b1.json >/dev/null || bad "post on B"
conns_b() { [ "$(ss -tn state established "( dport = :$P_A )" 2>/dev/null | grep -c 127.0.0.1)" -ge 2 ]; }
until_ok 60 conns_b && ok "B holds connections to A (its puller, its hinter or cosigner)" ||
  bad "connections to A: $(ss -tn 2>&1 | grep ":$P_A" | head -5)"
stop_ms() { # stop_ms INDEX: SIGTERM to PIDS[INDEX], the milliseconds until it exits
  local t0 t1; t0=$(date +%s%N); kill -TERM "${PIDS[$1]}"; wait "${PIDS[$1]}" 2>/dev/null || true
  t1=$(date +%s%N); echo $(( (t1 - t0) / 1000000 ))
}
# the baseline, on this machine at this moment: D, to which nobody connects
ms_d=$(stop_ms 3)
ms=$(stop_ms 0)
[ "$ms" -lt $((ms_d + 6000)) ] && ok "A stopped in ${ms} ms, D (no connection to it) in ${ms_d} ms (grace period 10 s)" ||
  bad "A took ${ms} ms to stop, D ${ms_d} ms: A waited for idle connections"
finish
