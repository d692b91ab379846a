#!/usr/bin/env bash
# framework_cli.sh: the framework commands (directory, notify, request, ack,
# reply, close, ping, pong, inbox, stats pings, timeline) against a real
# node over HTTP.
#
# The client configuration (flags > environment > config file; --config,
# $COMITY_CONFIG, ~/.config/comity/client.conf; relative paths from the
# file's folder), the bodies each command builds (read back from the node
# and checked field by field), local refusals that name the field (bad
# severity, norm, time zone, channel) with nothing posted, sealing amber
# messages and answers, and the node's refusals with exit 1 and its rule
# (ack by a non-recipient, reply after close, a second ack, a poc set by
# another state's office).
source "$(dirname "$0")/node_lib.bash"
C=$COMITY_BIN
D="$T/node"
cd "$T"
init_node "$D" hub.example/node

# five parties, each with a key, a token and a config file
for p in pk.pkcert pk.mofa in.cert-in in.mea un.oda; do
  "$C" keygen --party "$p" --out "$p.key" >/dev/null 2>&1
  "$C" key show "$p.key" >>peers.keys
done
serve "$D" --insecure-http
mkdir -p conf
for p in pk.pkcert pk.mofa in.cert-in in.mea un.oda; do
  tok=$("$C" party add "$D" "$p" --vkey "$("$C" key show "$p.key" | cut -d' ' -f1)" \
    --recipient "$("$C" key show "$p.key" | cut -d' ' -f2)" | sed -n 's/^token (shown once): //p')
  cp "$p.key" conf/
  printf '# %s\nurl = %s\ntoken = %s\nkey = %s.key\nkeys = ../peers.keys\ninsecure = false\n' \
    "$p" "$URL" "$tok" "$p" >"conf/$p.conf"
done
run() { # run CONF CMD ARGS...: runs with that party's config; out/err in files
  local p=$1; shift
  rc=0; "$C" "$@" --config "conf/$p.conf" >out 2>err || rc=$?
}
payload() { # payload ID FIELD-JQ [PARTY]: a record's payload field (sorted keys), read back
  # from the node as the operator (or PARTY, for sealed records)
  if [ -n "${3:-}" ]; then "$C" record get --config "conf/$3.conf" "$1"
  else "$C" record get --url "$URL" --token "$OPTOKEN" "$1"; fi | jq -r .payload | base64 -d | jq -cS "$2"
}
check "the node serves the framework API" 403 "$(req GET /v1/framework/overdue -H "Authorization: Token $(sed -n 's/^token = //p' conf/pk.mofa.conf)")"

# ---- configuration ---------------------------------------------------------
run pk.mofa directory set --kind diplomatic --org 'Ministry of Foreign Affairs' \
  --channel email:cyber@mofa.gov.pk --channel 'phone:+92 51 9203 0000' --tz Asia/Karachi \
  --lang en --lang ur --party pk.mofa
check "directory set: exit 0" 0 "$rc"
POC1=$(cut -d' ' -f1 out)
grep -Eq '^poc--[0-9a-f-]{36} log_index 0$' out && ok "prints id and log index" || bad "printed: $(cat out)"
check "poc body as built" \
  "$(jq -cS . <<<'{"kind":"diplomatic","party":"pk.mofa","organisation":"Ministry of Foreign Affairs","channels":[{"type":"email","value":"cyber@mofa.gov.pk"},{"type":"phone","value":"+92 51 9203 0000"}],"time_zone":"Asia/Karachi","languages":["en","ur"]}')" \
  "$(payload "$POC1" '.body | del(.valid_from)')"
check "poc: valid_from defaults to now" true "$(payload "$POC1" '.body.valid_from | test("^20[0-9-]+T[0-9:.]+Z$")')"
check "poc: green by default" '"green"' "$(payload "$POC1" .tlp)"

mkdir -p sub
( cd sub && rc=0; "$C" directory set --config ../conf/pk.pkcert.conf --kind technical --org PKCERT \
    --channel email:soc@pkcert.gov.pk --tz Asia/Karachi --lang en --party pk.pkcert >../out 2>../err || rc=$?
  echo "$rc" >../rc )
check "relative key path read from the config file's folder" 0 "$(cat rc)"
check "signed by the config's key" '"pk.pkcert"' "$(payload "$(cut -d' ' -f1 out)" .author)"

rc=0; COMITY_CONFIG=conf/in.cert-in.conf "$C" directory set --kind technical --org CERT-In \
  --channel email:incident@cert-in.org.in --tz Asia/Kolkata --lang en --lang hi --party in.cert-in >out 2>err || rc=$?
check "\$COMITY_CONFIG is read" 0 "$rc"
mkdir -p home/.config/comity
sed -e 's|^key = |key = '"$T"'/conf/|' -e 's|^keys = ..|keys = '"$T"'|' conf/in.mea.conf >home/.config/comity/client.conf
rc=0; HOME=$T/home "$C" directory set --kind diplomatic --org 'Ministry of External Affairs' \
  --channel comity:in.mea --tz Asia/Kolkata --lang en --party in.mea >out 2>err || rc=$?
check "~/.config/comity/client.conf is read" 0 "$rc"
check "... with its key" '"in.mea"' "$(payload "$(cut -d' ' -f1 out)" .author)"

rc=0; COMITY_URL=http://127.0.0.1:1 "$C" timeline --config conf/un.oda.conf >out 2>err || rc=$?
check "COMITY_URL wins over the file (no node there: exit 3)" 3 "$rc"
rc=0; COMITY_URL=http://127.0.0.1:1 "$C" timeline --config conf/un.oda.conf --url "$URL" >out 2>err || rc=$?
check "--url wins over COMITY_URL" 0 "$rc"
rc=0; COMITY_TOKEN=wrong "$C" timeline --config conf/un.oda.conf >out 2>err || rc=$?
check "COMITY_TOKEN wins over the file (a wrong token is refused)" 1 "$rc"
printf 'url = %s\ncolour = blue\n' "$URL" >bad.conf
rc=0; "$C" inbox --config bad.conf >out 2>err || rc=$?
check "unknown setting: exit 2" 2 "$rc"
grep -q "bad.conf line 2: unknown setting 'colour'" err && ok "names the line and setting" || bad "said: $(cat err)"
printf 'url = %s\ninsecure = maybe\n' "$URL" >bad2.conf
rc=0; "$C" inbox --config bad2.conf >out 2>err || rc=$?
check "insecure wants true/false: exit 2" 2 "$rc"
rc=0; "$C" inbox --config missing.conf >out 2>err || rc=$?
check "a missing --config file: exit 2" 2 "$rc"
printf 'url = %s\njust words\n' "$URL" >bad3.conf
rc=0; "$C" inbox --config bad3.conf >out 2>err || rc=$?
grep -q "bad3.conf line 2: want 'name = value'" err && [ "$rc" = 2 ] && ok "a line without '=': exit 2, named" || bad "no '=': $rc $(cat err)"
printf 'url = %s\ntoken =\n' "$URL" >bad4.conf
rc=0; "$C" inbox --config bad4.conf >out 2>err || rc=$?
grep -q "bad4.conf line 2: 'token' has no value" err && [ "$rc" = 2 ] && ok "an empty value: exit 2, named" || bad "empty: $rc $(cat err)"
printf 'url = %s\n# \0\n' "$URL" >bad5.conf
rc=0; "$C" inbox --config bad5.conf >out 2>err || rc=$?
grep -q "not a text file" err && [ "$rc" = 2 ] && ok "a NUL byte: exit 2" || bad "NUL: $rc $(cat err)"
printf 'url = %s\ntoken = a\rb\n' "$URL" >bad6.conf
rc=0; "$C" inbox --config bad6.conf >out 2>err || rc=$?
grep -q "bad6.conf line 2: a control character" err && [ "$rc" = 2 ] && ok "a control character: exit 2, named" || bad "control: $rc $(cat err)"
{ printf 'url = %s\n' "$URL"; head -c 70000 /dev/zero | tr '\0' '#'; echo; } >big.conf
rc=0; "$C" inbox --config big.conf >out 2>err || rc=$?
check "a config file over 64 KiB: exit 2" 2 "$rc"
printf '  # comment\n\n  url=%s  \r\ntoken = %s\n' "$URL" "$OPTOKEN" >ok.conf
rc=0; "$C" timeline --config ok.conf >out 2>err || rc=$?
check "comments, blank lines, spaces and CRLF are fine" 0 "$rc"
rc=0; HOME=$T/nohome "$C" notify --to in --severity 4 --sector energy --summary x >out 2>err || rc=$?
check "no url anywhere: exit 2" 2 "$rc"
grep -q "no node given" err && ok "says no node given" || bad "said: $(cat err)"

# ---- local refusals: named field, nothing posted ----------------------------
before=$("$C" record list --url "$URL" --token "$OPTOKEN" | jq '.records | length')
run pk.pkcert notify --to in.cert-in --severity 9 --sector energy --summary 'grid'
check "severity 9: exit 2" 2 "$rc"
grep -q "notification.body.severity" err && ok "names the field severity" || bad "said: $(cat err)"
run pk.pkcert notify --to in.cert-in --severity high --sector energy --summary 'grid'
check "severity 'high': exit 2" 2 "$rc"
grep -q "severity" err && ok "names the field severity (not an integer)" || bad "said: $(cat err)"
run pk.pkcert notify --to in.cert-in --severity 4 --sector power --summary 'grid'
grep -q "notification.body.sector" err && [ "$rc" = 2 ] && ok "unknown sector: exit 2, named" || bad "sector: $rc $(cat err)"
run pk.pkcert notify --to in.cert-in --severity 4 --sector energy
grep -q "summary" err && [ "$rc" = 2 ] && ok "missing summary: exit 2, named" || bad "summary: $rc $(cat err)"
run pk.pkcert notify --severity 4 --sector energy --summary x
check "notify without --to: exit 2" 2 "$rc"
run pk.pkcert notify --to in --severity 4 --sector energy --summary x --respond-by tomorrow
check "--respond-by not a time: exit 2" 2 "$rc"
echo '{"type":"bundle",' >broken.json
run pk.pkcert notify --to in --severity 4 --sector energy --summary x --indicators broken.json
grep -q "indicators broken.json: not JSON" err && [ "$rc" = 2 ] && ok "--indicators not JSON: exit 2" || bad "indicators: $rc $(cat err)"
run pk.mofa request --to in --kind assistance --norm 13x --asked help
grep -q "request.body.norm" err && [ "$rc" = 2 ] && ok "request norm 13x: exit 2, named" || bad "norm: $rc $(cat err)"
run pk.mofa directory set --kind technical --org X --channel email:a@b.example --tz 'Not a zone' --lang en
grep -q "time_zone" err && [ "$rc" = 2 ] && ok "bad time zone: exit 2, named" || bad "tz: $rc $(cat err)"
run pk.mofa directory set --kind technical --org X --channel nocolon --tz UTC --lang en
check "--channel without TYPE:: exit 2" 2 "$rc"
run pk.mofa directory set --kind technical --org X --channel 'email:not an address' --tz UTC --lang en
grep -q "channels" err && [ "$rc" = 2 ] && ok "bad email channel: exit 2, named" || bad "channel: $rc $(cat err)"
run pk.mofa reply request--00000000-0000-4000-8000-000000000000 --answered a --declined b
check "reply with both outcomes: exit 2" 2 "$rc"
run pk.mofa reply request--00000000-0000-4000-8000-000000000000
check "reply without an outcome: exit 2" 2 "$rc"
run pk.mofa ack 'notification--../../x'
check "ack of a malformed id: exit 2" 2 "$rc"
run pk.mofa ping --to in --directory
check "ping with --to and --directory: exit 2" 2 "$rc"
grep -v '^keys' conf/pk.mofa.conf >nokeys.conf
sed -i 's|^key = |key = conf/|' nokeys.conf
rc=0; "$C" notify --config nokeys.conf --to in --severity 4 --sector energy --summary x --tlp amber >out 2>err || rc=$?
grep -q "no age recipient for 'in'" err && [ "$rc" = 2 ] && ok "amber without the recipients' keys: exit 2, named" || bad "amber: $rc $(cat err)"
check "nothing was posted by refused commands" "$before" \
  "$("$C" record list --url "$URL" --token "$OPTOKEN" | jq '.records | length')"

# ---- a notification's life --------------------------------------------------
cat >grid.json <<'EOF'
{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","objects":[{"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2026-11-23T08:00:00.000Z","modified":"2026-11-23T08:00:00.000Z","pattern":"[ipv4-addr:value = '203.0.113.7']","pattern_type":"stix","valid_from":"2026-11-23T08:00:00Z"}]}
EOF
run pk.pkcert notify --to in.cert-in --severity 4 --sector energy --summary 'Attack on a power grid' \
  --indicators grid.json --norm 13f --action 'block 203.0.113.7' --respond-by 2030-01-01T00:00:00Z --case PK-1
check "notify: exit 0" 0 "$rc"
N=$(cut -d' ' -f1 out)
check "notification body as built" \
  "$(jq -cS '{severity:4,sector:"energy",summary:"Attack on a power grid",indicators:.,norm:"13f",requested_action:"block 203.0.113.7",respond_by:"2030-01-01T00:00:00Z",case:"PK-1"}' grid.json)" \
  "$(payload "$N" .body)"
check "notification to" '["in.cert-in"]' "$(payload "$N" .to)"
"$C" record get --url "$URL" --token "$OPTOKEN" "$N" >n.json
rc=0; "$C" record verify --vkey peers.keys n.json >/dev/null 2>&1 || rc=$?
check "the notification verifies under pk.pkcert's key" 0 "$rc"

run in.cert-in ack "$N" --note 'seen'
check "ack by the recipient: exit 0" 0 "$rc"
A=$(cut -d' ' -f1 out)
check "ack refers to the notification" "[\"$N\"]" "$(payload "$A" .refs)"
check "ack goes back to the author" '["pk.pkcert"]' "$(payload "$A" .to)"
check "ack body" '{"note":"seen"}' "$(payload "$A" .body)"

run in.mea ack "$N"
check "ack by a non-recipient: exit 1 (refused by the node)" 1 "$rc"
grep -q "rule framework" err && ok "prints the node's rule" || bad "said: $(cat err)"
grep -q "not a recipient" err && ok "prints the node's description" || bad "said: $(cat err)"
run in.cert-in ack "$N"
check "a second ack: exit 1" 1 "$rc"
grep -q "(409, rule framework)" err && ok "a second ack is a 409 conflict" || bad "said: $(cat err)"
run in.mea directory set --state pk --kind technical --org X --channel email:a@b.example --tz UTC --lang en
check "poc for another state: exit 1" 1 "$rc"
grep -q "rule framework" err && ok "poc refusal names the rule" || bad "said: $(cat err)"
run in.cert-in inbox
check "inbox: exit 0" 0 "$rc"
grep -q "awaiting you: 1" out && ok "inbox: one thing awaits in.cert-in" || bad "inbox: $(cat out)"
grep "$N" out | grep -q "reply" && ok "inbox: the notification awaits a reply" || bad "inbox: $(cat out)"
run pk.pkcert inbox --json
check "inbox --json: awaiting others" "$N" "$(jq -r '.awaiting_others[0].id' out)"
run pk.pkcert inbox
grep "$N" out | grep -q " in.cert-in " && ok "inbox: what I sent names its recipient" || bad "inbox: $(cat out)"
rc=0; "$C" inbox --url "$URL" --token "$OPTOKEN" --party in.cert-in >out 2>err || rc=$?
check "the operator reads a party's inbox: exit 0" 0 "$rc"
grep -q "^inbox of in.cert-in" out && ok "... of that party" || bad "operator inbox: $(cat out)"

# ---- a sealed request, a reply, closure --------------------------------------
run pk.mofa request --to in --kind assistance --norm 13h --severity 4 --sector energy \
  --asked 'Help take down the C2 at 198.51.100.23' --respond-by +24h --tlp amber --case PK-1
check "request (amber, to a state): exit 0" 0 "$rc"
R=$(cut -d' ' -f1 out)
check "request is sealed" true "$(payload "$R" 'has("sealed") and (has("body") | not)' pk.mofa)"
"$C" record get --config conf/pk.mofa.conf "$R" >r.json
rc=0; "$C" record open --key in.mea.key r.json >r.body 2>/dev/null || rc=$?
check "an office of the state opens it (sealed to every office in --keys)" 0 "$rc"
check "its body" '"13h"' "$(jq -c .norm r.body)"
rc=0; "$C" record open --key un.oda.key r.json >/dev/null 2>&1 || rc=$?
[ "$rc" != 0 ] && ok "another party cannot open it" || bad "un.oda opened the amber request"

run in.mea reply "$R" --answered 'C2 taken down at 14:20 UTC'
if [ "$rc" = 2 ] && grep -q "cannot read" err; then
  # the node does not show a message sent to a state to its offices: say how to share
  run in.mea reply "$R" --answered 'C2 taken down at 14:20 UTC' --tlp amber --to pk.mofa
fi
check "reply: exit 0" 0 "$rc"
Y=$(cut -d' ' -f1 out)
check "the reply is sealed (as the request)" '"amber"' "$(payload "$Y" .tlp in.mea)"
"$C" record get --config conf/pk.mofa.conf "$Y" >y.json
"$C" record open --key pk.mofa.key y.json >y.body 2>/dev/null
check "the requester opens the reply" '{"outcome":"answered","text":"C2 taken down at 14:20 UTC"}' "$(jq -c . y.body)"
run un.oda ack notification--00000000-0000-4000-8000-000000000000
check "answering a message the node does not show, without --tlp: exit 2" 2 "$rc"
grep -q "give --tlp" err && ok "says to give --tlp" || bad "said: $(cat err)"

run pk.mofa close "$R" --reason 'resolved'
check "close: exit 0" 0 "$rc"
check "close body" '{"reason":"resolved"}' "$("$C" record get --config conf/pk.mofa.conf "$(cut -d' ' -f1 out)" |
  tee c.json >/dev/null; "$C" record open --key pk.mofa.key c.json 2>/dev/null | jq -c .)"
run in.cert-in reply "$R" --declined 'too late' --tlp amber --to pk.mofa
check "reply after close: exit 1" 1 "$rc"
grep -q "rule framework" err && ok "reply after close names the rule" || bad "said: $(cat err)"

# ---- pings --------------------------------------------------------------------
run un.oda ping --to pk.pkcert --to in.cert-in --unannounced --round r1 --kind technical
check "ping: exit 0" 0 "$rc"
check "one ping per recipient" 2 "$(wc -l <out)"
P1=$(sed -n 1p out | cut -d' ' -f1)
check "ping body" '{"announced":false,"kind":"technical","round":"r1"}' "$(payload "$P1" .body)"
check "ping to" '["pk.pkcert"]' "$(payload "$P1" .to)"
run pk.pkcert pong "$P1" --note 'duty officer'
check "pong: exit 0" 0 "$rc"
check "pong refers to the ping" "[\"$P1\"]" "$(payload "$(cut -d' ' -f1 out)" .refs)"
run in.cert-in pong --all
check "pong --all: exit 0" 0 "$rc"
check "pong --all answered one ping" 1 "$(wc -l <out)"
run pk.pkcert pong "$P1"
check "a second pong: exit 1" 1 "$rc"
run un.oda ping --directory --kind technical
check "ping --directory: exit 0" 0 "$rc"
check "pings each technical contact" 2 "$(wc -l <out)"
grep -q ' to pk.pkcert technical$' out && ok "pings the directory's party" || bad "ping: $(cat out)"
run in.cert-in inbox
check "inbox sorted by deadline: the ping (due in 24h) before the notification (2030)" \
  "ping notification" "$(grep -oE ' (ping|notification)--' out | tr -d ' -' | tr '\n' ' ' | sed 's/ $//')"
run un.oda stats pings --json
check "stats pings: exit 0" 0 "$rc"
check "stats: pk.pkcert technical count" 2 "$(jq '[.rows[] | select(.party=="pk.pkcert" and .kind=="technical") | .count] | add' out)"
check "stats: pk.pkcert technical answered" 1 "$(jq '[.rows[] | select(.party=="pk.pkcert" and .kind=="technical") | .answered] | add' out)"
run un.oda stats pings --party in.cert-in --kind technical --json
check "stats for one party and kind: count" 2 "$(jq .count out)"
run un.oda stats pings
grep -q "^pk.pkcert *technical *2 *1 " out && ok "stats table row" || bad "stats: $(cat out)"
run un.oda stats pings --from -1h --to +1h --party pk.pkcert --json
check "stats over a period: pk.pkcert's pings" 2 "$(jq .count out)"
run un.oda stats pings --from 2020-01-01T00:00:00Z --to 2020-02-01T00:00:00Z --json
check "stats over an empty period: no rows" 0 "$(jq '.rows | length' out)"
run un.oda stats pings --from yesterday
check "stats --from not a time: exit 2" 2 "$rc"
run un.oda stats pings --kind bogus
check "stats --kind unknown: refused by the node, exit 1" 1 "$rc"
grep -q "rule query" err && ok "... naming the rule" || bad "said: $(cat err)"
run un.oda directory list
check "directory list: exit 0" 0 "$rc"
grep -q "^pk .*diplomatic .*Ministry of Foreign Affairs" out && ok "lists pk's diplomatic contact" || bad "list: $(cat out)"
run un.oda directory list --at 2020-01-01T00:00:00Z
check "directory list before any nomination: header only" 1 "$(wc -l <out)"
run un.oda directory show in
grep -q "organisation  CERT-In" out && ok "show in: CERT-In" || bad "show: $(cat out)"
run pk.mofa directory withdraw --kind diplomatic --reason 'desk moved'
check "withdraw: exit 0" 0 "$rc"
run un.oda directory show pk --json
check "withdrawn: no current diplomatic contact" null "$(jq -c '.entries[] | select(.kind=="diplomatic") | .current' out)"
run un.oda stats ping
check "stats without 'pings': exit 2" 2 "$rc"
# a schedule: two rounds one second apart, named after --round
t0=$(date +%s%N)
run un.oda ping --to pk.pkcert --every 1s --rounds 2 --round sched
t1=$(date +%s%N)
check "ping --every 1s --rounds 2: exit 0" 0 "$rc"
check "two rounds, one ping each" 2 "$(wc -l <out)"
check "round names" '"sched-1" "sched-2"' "$(for i in $(cut -d' ' -f1 out); do payload "$i" .body.round; done | tr '\n' ' ' | sed 's/ $//')"
[ $(( (t1 - t0) / 1000000 )) -ge 1000 ] && ok "the second round waited for its period" || bad "two rounds in $(( (t1 - t0) / 1000000 )) ms"
grep -q "round 2 (sched-2)" err && ok "each round announced on stderr" || bad "stderr: $(cat err)"
run un.oda ping --to pk.pkcert --every 1x
check "--every with a bad duration: exit 2" 2 "$rc"
run un.oda ping --to pk.pkcert --every 10ms
check "--every shorter than a second: exit 2" 2 "$rc"
run un.oda ping --to pk.pkcert --rounds 2
check "--rounds without --every: exit 2" 2 "$rc"

# ---- the timeline ---------------------------------------------------------------
rc=0; "$C" timeline --url "$URL" --token "$OPTOKEN" >out 2>err || rc=$?
check "timeline (operator): exit 0" 0 "$rc"
grep -q "notification .*$N to in.cert-in sev 4 energy norm 13f" out && ok "timeline shows the notification" || bad "timeline: $(cat out)"
grep -q "ack .*re $N" out && ok "timeline shows the ack" || bad "timeline: $(cat out)"
grep "$N" out | grep -q ": acknowledged" && ok "timeline: the notification is acknowledged" || bad "timeline: $(grep "$N" out)"
"$C" timeline --config conf/pk.mofa.conf >out2
grep "request .*$R" out2 | grep -q ": closed" && ok "timeline: the request is closed" || bad "timeline: $(grep "$R" out2)"

finish
