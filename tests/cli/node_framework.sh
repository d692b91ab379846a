#!/usr/bin/env bash
# node_framework.sh: `comity serve` with framework deadlines.
#
# Bad --deadline / --ping-deadline values and a bad DIR/node.conf stop the
# node at start (exit 2, the flag or the file's line named); good ones take
# effect: a notification signed with `comity record sign` and posted with
# `comity record post` shows the configured ack deadline in
# GET /v1/framework/messages/{id}, and the flag wins over node.conf; the
# bounds on `created` (default 10m behind; created_ahead / created_behind
# in node.conf).
source "$(dirname "$0")/node_lib.bash"
C=$COMITY_BIN
D="$T/node"
cd "$T"
export COMITY_FAKE_NOW=2026-11-23T09:00:00.000Z
init_node "$D" fw.example/node
reg() { # reg NAME KEYFILE: registers, prints the token
  "$C" keygen --party "$1" --out "$2" >/dev/null 2>&1
  "$C" party add "$D" "$1" --vkey "$("$C" key show "$2" | cut -d' ' -f1)" \
    --recipient "$("$C" key show "$2" | cut -d' ' -f2)" | sed -n 's/^token (shown once): //p'
}
TA=$(reg pk.pkcert a.key)
TB=$(reg in.cert-in b.key)

refused() { # refused DESCRIPTION NEEDLE ARGS...: serve must exit 2 naming NEEDLE
  local what=$1 needle=$2; shift 2
  local rc=0
  timeout 20 "$C" serve "$D" --listen 127.0.0.1:0 --insecure-http "$@" >/dev/null 2>err.txt || rc=$?
  check "$what: exit 2" 2 "$rc"
  grep -q -- "$needle" err.txt && ok "$what: says $needle" || bad "$what: said $(cat err.txt)"
}
refused "severity out of range" "SEV=ACK/REPLY" --deadline 7=1h/2h
refused "no reply time" "--deadline 5" --deadline 5=1h
refused "unknown unit" "--deadline 3" --deadline 3=1w/2w
refused "zero" "--deadline 1" --deadline 1=0m/1h
refused "bad ping deadline" "--ping-deadline" --ping-deadline soon
printf 'deadline.5 = 1h/24h\ndeadline.4 = fast\n' >"$D/node.conf"
refused "bad node.conf" "node.conf line 2" --deadline 5=1h/2h

printf '# hub settings\ndeadline.5 = 10m/1h\ndeadline.4 = 20m/2h\n' >"$D/node.conf"
serve "$D" --insecure-http --deadline 5=30m/12h
N=(--url "$URL")
post() { # post KEYFILE TOKEN SEVERITY: signs and posts a notification, prints its id
  echo "{\"severity\":$3,\"sector\":\"energy\",\"summary\":\"grid\"}" |
    "$C" record sign --key "$1" --type notification --to in.cert-in >n.json
  "$C" record post "${N[@]}" --token "$2" n.json >/dev/null
  jq -r .payload n.json | base64 -d | jq -r .id
}
ID5=$(post a.key "$TA" 5)
ID4=$(post a.key "$TA" 4)
check "severity 5: the flag's ack time" 200 "$(req GET "/v1/framework/messages/$ID5" -H "Authorization: Token $TA")"
check "severity 5: due 09:30" "2026-11-23T09:30:00.000Z" "$(jbody .ack_due)"
check "severity 4: node.conf's" 200 "$(req GET "/v1/framework/messages/$ID4" -H "Authorization: Token $TB")"
check "severity 4: due 09:20" "2026-11-23T09:20:00.000Z" "$(jbody .ack_due)"
check "the recipient may answer now (next, the framework's rule)" "ack reply" "$(jbody '[.next[].type] | join(" ")')"
req GET "/v1/framework/messages/$ID4" -H "Authorization: Token $TA" >/dev/null
check "the author may close it" "close" "$(jbody '[.next[].type] | join(" ")')"
req GET "/v1/framework/messages/$ID4" -H "Authorization: Token $OPTOKEN" >/dev/null
check "the operator answers nothing" "" "$(jbody '[.next[].type] | join(" ")')"
check "inbox" 200 "$(req GET /v1/framework/inbox -H "Authorization: Token $TB")"
check "inbox: two awaiting" 2 "$(jbody '.awaiting_me | length')"
check "inbox: sorted by due" "$ID4" "$(jbody '.awaiting_me[0].id')"
check "bad body refused by the framework" 422 "$(echo '{"severity":9}' |
  "$C" record sign --key a.key --type notification --to in.cert-in >bad.json;
  req POST /v1/records -H "Authorization: Token $TA" --data-binary @bad.json)"
check "  rule framework" framework "$(jbody .rule)"
# `created` bounds: 10m behind by default; node.conf can widen them
echo '{}' | COMITY_FAKE_NOW=2026-11-23T08:30:00.000Z "$C" record sign --key a.key --type note >late.json
check "created 30m behind the node's clock: 422" 422 \
  "$(req POST /v1/records -H "Authorization: Token $TA" --data-binary @late.json)"
check "  rule created" created "$(jbody .rule)"
grep -q "created-behind allows at most 10m" "$T/body" && ok "  names the bound" || bad "  said $(cat "$T/body")"
stop_node && ok "stopped cleanly" || bad "stop"
printf 'created_ahead = soon\n' >"$D/node.conf"
refused "bad created_ahead in node.conf" "node.conf line 1: created_ahead"
printf 'created_behind = 1h\ncreated_ahead = 1m\n' >"$D/node.conf"
serve "$D" --insecure-http
check "created_behind = 1h: 30m behind taken" 201 \
  "$(req POST /v1/records -H "Authorization: Token $TA" --data-binary @late.json)"
echo '{}' | COMITY_FAKE_NOW=2026-11-23T09:02:00.000Z "$C" record sign --key a.key --type note >ahead.json
check "created_ahead = 1m: 2m ahead refused" 422 \
  "$(req POST /v1/records -H "Authorization: Token $TA" --data-binary @ahead.json)"
grep -q "created-ahead allows at most 1m" "$T/body" && ok "  names the bound" || bad "  said $(cat "$T/body")"
stop_node && ok "stopped cleanly" || bad "stop"
finish
