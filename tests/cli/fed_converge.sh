#!/usr/bin/env bash
# fed_converge.sh: two nodes that hold the same records answer every
# framework query alike, whatever order the records reached them in
# (docs/federation.md, section 7).
#
# A (pk's, and un's) and B (in's) pin each other.  pk.mofa notifies
# in.mea and asks in.mea (and un.unoda) for consultations on A; once B
# holds them, A stops.  On B (A away), in.mea replies to the notification
# and accepts the consultation, in.cert-in publishes its contact and
# in.mea asks pk.mofa for help; B stops.  A starts again and, B away,
# pk.mofa closes the notification in the very millisecond of in.mea's
# reply, and withdraws the consultation in the very millisecond of its
# acceptance (two concurrent conflicts), pk.pkcert publishes its contact
# and pings in.mea and in.cert-in.  Then B starts: each node pulls the
# other's records, so A took each close before the answer it conflicts
# with and B the answer first.  Both end with the same records, and every
# /v1/framework query (each party's inbox and cases, every record's
# message view, the case's view and custody, overdue, pings by party, by
# state and by region, norms, the spyware report, the directory) answers
# the same bytes on both (the `now` of an answer aside).  The fold order
# decides each conflict: "close--" sorts before "reply--" (the reply has
# no effect), "consult-accept--" before "consult-close--" (accepted, then
# closed).  On the old code (a fold in arrival order) A refused the
# acceptance and B took it: the case's thread differed.
#
# Then delivery as a record (section 7): pk.mofa fetches in.mea's request
# on A, in.mea the ping and a red notification on B; each home node signs
# a `delivered` record, the other pulls it, and the sender's node shows
# each slot delivered at the time the recipient's node shows (on the old
# code: sent).  The red notification's delivered record is sealed, and no
# non-party (in.cert-in on B, pk.pkcert on A) finds it through
# /v1/records, the message's view or thread, its inbox or TAXII.
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/node_lib.bash"
C=$COMITY_BIN
cd "$T"
# for_s SECONDS CMD...: CMD until it succeeds, once a second, for at most SECONDS
for_s() { local end=$((SECONDS + $1)); shift; until "$@"; do [ $SECONDS -lt $end ] || return 1; sleep 1; done; }

nodes_init A B
party_key pk.mofa pkm.key; party_key pk.pkcert pkc.key; party_key in.mea inm.key; party_key in.cert-in inc.key
T_PKM=$(party_token A pk.mofa pkm.key); T_PKC=$(party_token A pk.pkcert pkc.key)
party_key un.unoda un.key; party_token A un.unoda un.key >/dev/null
T_INM=$(party_token B in.mea inm.key); T_INC=$(party_token B in.cert-in inc.key)
"$C" peer add "$T/A" "$U_B" --log-vkey "$VK_B" --party "$(kv inm.key),$(kr inm.key)" \
  --party "$(kv inc.key),$(kr inc.key)" >/dev/null
"$C" peer add "$T/B" "$U_A" --log-vkey "$VK_A" --party "$(kv pkm.key),$(kr pkm.key)" \
  --party "$(kv pkc.key),$(kr pkc.key)" --party "$(kv un.key),$(kr un.key)" >/dev/null
OP_A=$(optok A.init); OP_B=$(optok B.init)

# post NODE-URL TOKEN KEY TYPE [--to P].. [--ref ID].. <<< BODY: prints the id
post() {
  local url=$1 token=$2 key=$3 type=$4; shift 4
  "$C" record sign --key "$key" --type "$type" "$@" >rec.json || return 1
  "$C" record post --url "$url" --token "$token" rec.json | jq -r .id
}
poc() { printf '{"kind":"%s","organisation":"%s","channels":[{"type":"email","value":"poc@x.gov"}],"time_zone":"UTC","languages":["en"],"valid_from":"2026-01-01T00:00:00Z","party":"%s"}' "$@"; }
ids() { curl -s --noproxy '*' -H "Authorization: Bearer $2" "$1/v1/records?limit=100" | jq -r '[.records[].id] | sort | .[]' 2>/dev/null; }
has() { ids "$1" "$2" | grep -qx "$3"; }

node_start A; node_start B
N1=$(echo '{"severity":3,"sector":"energy","summary":"scanning from 203.0.113.7","requested_action":"block it"}' |
  post "$U_A" "$T_PKM" pkm.key notification --to in.mea)
case "$N1" in notification--*) ok "pk.mofa notified in.mea on A";; *) bad "notification: $N1";; esac
K1=$(echo '{"subject":"grid incident","summary":"talks on the outage","format":"video"}' |
  post "$U_A" "$T_PKM" pkm.key consult-request --to in.mea --to un.unoda --ref "$N1")
case "$K1" in consult-request--*) ok "pk.mofa asked for consultations on A";; *) bad "consult: $K1";; esac
until_ok 60 has "$U_B" "$OP_B" "$K1" && ok "both reached B" || bad "B never got $K1"
node_stop A

# the reply and the close share one `created`, a minute ahead (inside the
# node's bounds), signed now and posted on each side of the partition
TC=$(date -u -d '+60 seconds' +%Y-%m-%dT%H:%M:%S.000Z)
R1=$(echo '{"outcome":"answered","text":"blocked"}' |
  COMITY_FAKE_NOW=$TC post "$U_B" "$T_INM" inm.key reply --ref "$N1")
case "$R1" in reply--*) ok "in.mea replied on B, A away";; *) bad "reply: $R1";; esac
K2=$(echo '{"date":"2026-12-20T10:00:00Z","format":"in-person"}' |
  COMITY_FAKE_NOW=$TC post "$U_B" "$T_INM" inm.key consult-accept --to pk.mofa --to un.unoda --ref "$K1")
case "$K2" in consult-accept--*) ok "in.mea accepted the consultations on B";; *) bad "accept: $K2";; esac
P2=$(poc technical CERT-In in.cert-in | post "$U_B" "$T_INC" inc.key poc)
Q1=$(echo '{"kind":"assistance","norm":"13h","asked":"share logs","severity":2,"sector":"energy"}' |
  post "$U_B" "$T_INM" inm.key request --to pk.mofa)
case "$P2$Q1" in poc--*request--*) ok "in.cert-in's contact and in.mea's request on B";; *) bad "$P2 $Q1";; esac
node_stop B

node_start A
X1=$(echo '{"reason":"resolved"}' | COMITY_FAKE_NOW=$TC post "$U_A" "$T_PKM" pkm.key close --ref "$N1")
case "$X1" in close--*) ok "pk.mofa closed the notification on A in the reply's millisecond";; *) bad "close: $X1";; esac
K3=$(echo '{"outcome":"withdrawn"}' |
  COMITY_FAKE_NOW=$TC post "$U_A" "$T_PKM" pkm.key consult-close --to in.mea --to un.unoda --ref "$K1")
case "$K3" in consult-close--*) ok "pk.mofa withdrew the consultations on A in the acceptance's millisecond";; *) bad "withdraw: $K3";; esac
P1=$(poc technical PKCERT pk.pkcert | post "$U_A" "$T_PKC" pkc.key poc)
G1=$(echo '{"announced":false,"round":"Q4"}' | post "$U_A" "$T_PKC" pkc.key ping --to in.mea --to in.cert-in)
case "$P1$G1" in poc--*ping--*) ok "pk.pkcert's contact and ping on A";; *) bad "$P1 $G1";; esac
node_start B
until_ok 60 has "$U_B" "$OP_B" "$G1" || bad "B never got the ping"
PG=$(echo '{}' | post "$U_B" "$T_INC" inc.key pong --ref "$G1")
case "$PG" in pong--*) ok "in.cert-in answered the ping on B";; *) bad "pong: $PG";; esac
same_ids() { [ "$(ids "$U_A" "$OP_A")" = "$(ids "$U_B" "$OP_B")" ] && [ "$(ids "$U_A" "$OP_A" | wc -l)" -eq 11 ]; }
for_s 90 same_ids && ok "both nodes hold the same 11 records" ||
  bad "records: A $(ids "$U_A" "$OP_A" | wc -l), B $(ids "$U_B" "$OP_B" | wc -l)"

# every framework query, as the operator of each node (for each party: a
# party logs in at its home node only)
# (the times an answer is computed at, from the node's clock, aside: now,
# at, and the default window of the ping statistics)
get() {
  curl -s --noproxy '*' -H "Authorization: Bearer $2" "$1$3" | jq -cS 'walk(if type == "object" then
    with_entries(select(.key != "now" and .key != "at" and
      ((.key == "from" or .key == "to") and (.value | type) == "string" and (.value | test("^[0-9]{4}-"))
       | not))) else . end)'
}
answers() {
  local u=$1 op=$2 p q
  for p in pk.mofa pk.pkcert in.mea in.cert-in; do
    for q in "/v1/framework/inbox?party=$p" "/v1/framework/cases?party=$p"; do echo "$q $(get "$u" "$op" "$q")"; done
  done
  for id in $N1 $R1 $X1 $Q1 $G1 $PG $P1 $P2; do
    q="/v1/framework/messages/$id"; echo "$q $(get "$u" "$op" "$q")"
  done
  for q in "/v1/framework/cases/$K1" "/v1/framework/cases/$K1/custody"; do echo "$q $(get "$u" "$op" "$q")"; done
  for q in /v1/framework/overdue /v1/framework/pings "/v1/framework/pings?by=state" \
           "/v1/framework/pings?by=region" /v1/framework/norms "/v1/framework/norms/declarations?state=pk" \
           "/v1/framework/spyware/report?state=in&year=2026" /v1/directory "/v1/directory?state=pk"; do
    echo "$q $(get "$u" "$op" "$q")"
  done
}
alike() {
  answers "$U_A" "$OP_A" >a.txt; answers "$U_B" "$OP_B" >b.txt
  cmp -s a.txt b.txt
}
# a re-fold is lazy (at most once a second): ask until it ran on both
if for_s 30 alike; then
  ok "A and B answer all $(wc -l <a.txt) framework queries byte for byte alike"
else
  bad "A and B differ:"; diff a.txt b.txt | cut -c1-1500 | head -20
fi
grep -q '"closed"' <(grep "messages/$N1" a.txt) && ok "  ... the notification closed on both" ||
  bad "  not closed: $(grep "messages/$N1" a.txt | cut -c1-300)"
thread() { grep -m1 "^/v1/framework/cases/$K1 " a.txt | cut -d' ' -f2- | jq -r '[.. | .type? // empty | select(startswith("consult-"))] | join(",")'; }
case "$(thread)" in *consult-accept*consult-close*) ok "  ... the consultations accepted, then withdrawn, on both";;
  *) bad "  case thread: $(thread)";; esac

# delivery as a record (section 7): pk.mofa fetches in.mea's request on A,
# in.mea the ping and a red notification on B; each home node signs a
# `delivered` record of its party's fetch, and the other node pulls it: the
# sender's node shows `delivered` with the time the recipient's node shows
KEYS=keys.txt; "$C" key show inm.key >$KEYS
NR=$(echo '{"severity":4,"sector":"energy","summary":"the red one"}' |
  post "$U_A" "$T_PKM" pkm.key notification --tlp red --to in.mea --keys $KEYS)
case "$NR" in notification--*) ok "pk.mofa sent in.mea a red notification on A";; *) bad "red: $NR";; esac
until_ok 60 has "$U_B" "$T_INM" "$NR" || bad "B never got the red notification"
fetch() { curl -s --noproxy '*' -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $2" "$1/v1/records/$3"; }
check "pk.mofa fetches the request on A" 200 "$(fetch "$U_A" "$T_PKM" "$Q1")"
check "in.mea fetches the ping on B" 200 "$(fetch "$U_B" "$T_INM" "$G1")"
check "in.mea fetches the red notification on B" 200 "$(fetch "$U_B" "$T_INM" "$NR")"
n13() { same_n 13; }
same_n() { [ "$(ids "$U_A" "$OP_A")" = "$(ids "$U_B" "$OP_B")" ] && [ "$(ids "$U_A" "$OP_A" | wc -l)" -eq "$1" ]; }
# (the operator is shown neither red record: 15 records, 13 of them listed)
for_s 90 n13 && ok "both nodes hold the same 13 records the operator may list (2 of them delivered)" ||
  bad "records: A $(ids "$U_A" "$OP_A" | wc -l), B $(ids "$U_B" "$OP_B" | wc -l)"
dlv() { curl -s --noproxy '*' -H "Authorization: Bearer $2" "$1/v1/framework/messages/$3" |
  jq -r --arg p "$4" '.slots[] | select(.party == $p) | .delivered // "none"'; }
for m in "$Q1 pk.mofa" "$G1 in.mea" "$NR in.mea"; do
  set -- $m
  da=$(dlv "$U_A" "$OP_A" "$1" "$2"); db=$(dlv "$U_B" "$OP_B" "$1" "$2")
  if [ "$da" = "$db" ] && [ "$da" != none ] && [ -n "$da" ]; then
    ok "  ... ${1%%--*} delivered to $2 at $da on both nodes"
  else
    bad "  ${1%%--*} to $2: A says $da, B says $db"
  fi
done
if for_s 30 alike; then
  ok "A and B still answer all $(wc -l <a.txt) framework queries alike"
else
  bad "A and B differ after the deliveries:"; diff a.txt b.txt | cut -c1-1500 | head -20
fi
# the red notification's delivered record: sealed, and shown to no one
# but its parties, on either node, through records, TAXII or the framework
env_of() { curl -s --noproxy '*' -H "Authorization: Bearer $2" "$1/v1/records/$3"; }
DR=""
for d in $(curl -s --noproxy '*' -H "Authorization: Bearer $T_INM" "$U_B/v1/records?type=delivered&limit=100" | jq -r '.records[].id'); do
  [ "$(env_of "$U_B" "$T_INM" "$d" | jq -r '.payload | @base64d | fromjson | .refs[0]')" = "$NR" ] && DR=$d
done
[ -n "$DR" ] && ok "B signed the red notification's delivered record $DR" || bad "no delivered record of $NR on B"
P=$(env_of "$U_B" "$T_INM" "$DR" | jq -c '.payload | @base64d | fromjson')
check "  ... red, to pk.mofa, sealed, no body in clear" 'red ["pk.mofa"] true false' \
  "$(jq -r '"\(.tlp) \(.to | tojson) \(has("sealed")) \(has("body"))"' <<<"$P")"
check "  ... pk.mofa reads it on A" 200 "$(fetch "$U_A" "$T_PKM" "$DR")"
UUID=${DR#delivered--}
leak() { # URL TOKEN PARTY: whether anything this party may read names DR
  local u=$1 t=$2 p=$3 c
  [ "$(fetch "$u" "$t" "$DR")" = 404 ] || { echo "records/$DR"; return; }
  curl -s --noproxy '*' -H "Authorization: Bearer $t" "$u/v1/records?limit=1000" | grep -q "$UUID" && { echo "records"; return; }
  curl -s --noproxy '*' -H "Authorization: Bearer $t" "$u/v1/records?type=delivered&limit=1000" | grep -q "$UUID" && { echo "records?type"; return; }
  curl -s --noproxy '*' -H "Authorization: Bearer $t" "$u/v1/framework/messages/$NR/thread" | grep -q "$UUID" && { echo "thread"; return; }
  curl -s --noproxy '*' -H "Authorization: Bearer $t" "$u/v1/framework/messages/$NR" | grep -q '"slots"' && { echo "message view"; return; }
  curl -s --noproxy '*' -H "Authorization: Bearer $t" "$u/v1/framework/inbox" | grep -q "$NR" && { echo "inbox"; return; }
  for c in pings cases; do # the framework's other queries a party may make
    curl -s --noproxy '*' -H "Authorization: Bearer $t" "$u/v1/framework/$c" | grep -q "$UUID" && { echo "$c"; return; }
  done
  for c in $(curl -s --noproxy '*' -u "$p:$t" -H "Accept: $TAXII" "$u/comity/collections/" | jq -r '.collections[] | select(.can_read) | .id'); do
    curl -s --noproxy '*' -u "$p:$t" -H "Accept: $TAXII" "$u/comity/collections/$c/objects/?limit=1000" | grep -q "$UUID" && { echo "taxii $c"; return; }
  done
  echo none
}
check "  ... in.cert-in (B) sees nothing of it anywhere" none "$(leak "$U_B" "$T_INC" in.cert-in)"
check "  ... pk.pkcert (A) sees nothing of it anywhere" none "$(leak "$U_A" "$T_PKC" pk.pkcert)"
# the leak check can fail: the party itself finds its own record
check "  ... (in.mea, its author, finds it on B)" "records/$DR" "$(leak "$U_B" "$T_INM" in.mea)"

node_stop A; node_stop B
for n in A B; do
  rc=0; "$C" log audit "$T/$n/log" --vkey "$(eval echo "\$VK_$n")" >/dev/null 2>&1 || rc=$?
  check "$n's log audits" 0 "$rc"
done
finish
