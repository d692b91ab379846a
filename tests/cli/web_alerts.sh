#!/usr/bin/env bash
# web_alerts.sh: e-mail alerts without content, against a local SMTP sink
# (tests/smtp_sink.py), and the inbox's pages over HTTP.
#
# A real node (`comity serve`, plain HTTP on loopback) with node.conf naming
# the sink as its relay, a 1 s batching interval and an 8 s ack deadline for
# messages of unknown severity (sealed ones).  in.cert-in opts in through
# PUT /v1/alerts; fr.anssi does not.  pk.pkcert sends them a sealed (amber)
# notification: in.cert-in gets one mail for the new item, then one when it
# falls overdue; fr.anssi gets none; no mail holds any field of the record
# (type, id, author, recipients, TLP, created, nor the sealed body's
# severity, sector and summary).  With the relay down, intake still
# answers, and the mail goes out once the relay is back (retried with
# back-off); with a relay that accepts and never answers, intake still
# answers and the node still stops.  `comity alerts`, and the Alerts screen
# in Debian's chromium (web/test/alerts.mjs) when chromium and
# web/node_modules are there (the UI builds meanwhile, web_lib.bash).
. "$(dirname "$0")/web_lib.bash"
BROWSER=0 WEB_OPTIONAL=1
if web_available; then BROWSER=1; web_build; fi
SINK="$(cd "$(dirname "$0")/.." && pwd)/smtp_sink.py"
D="$T/node"
cd "$T"
init_node "$D" alerts.example
reg() { # reg NAME KEYFILE: registers, prints the token
  "$C" keygen --party "$1" --out "$2" >/dev/null 2>&1
  "$C" party add "$D" "$1" --vkey "$("$C" key show "$2" | cut -d' ' -f1)" \
    --recipient "$("$C" key show "$2" | cut -d' ' -f2)" | sed -n 's/^token (shown once): //p'
}
TA=$(reg pk.pkcert a.key)
TB=$(reg in.cert-in b.key)
TC=$(reg fr.anssi c.key)
"$C" key show b.key >keys.txt
"$C" key show c.key >>keys.txt
SINK_PID=""
stop_sink() { if [ -n "$SINK_PID" ]; then kill "$SINK_PID" 2>/dev/null || true; wait "$SINK_PID" 2>/dev/null || true; SINK_PID=""; fi; }
start_sink() { # start_sink DIR [--stall]: sets SINK_PID, SINK_PORT
  mkdir -p "$1"; rm -f "$1/port"
  /usr/bin/python3 "$SINK" "$@" & SINK_PID=$!
  for _ in $(seq 100); do [ -s "$1/port" ] && break; sleep 0.1; done
  SINK_PORT=$(cat "$1/port")
}
at_exit stop_sink
mails() { ls "$T/sink"/mail-*.eml 2>/dev/null | wc -l; }
wait_mails() { # wait_mails N: until the sink holds N mails (at most 60 s)
  for _ in $(seq 600); do [ "$(mails)" -ge "$1" ] && return 0; sleep 0.1; done
  return 1
}
AUTH_A=(-H "Authorization: Token $TA")
AUTH_B=(-H "Authorization: Token $TB")
AUTH_C=(-H "Authorization: Token $TC")

# ---- no relay configured: a choice is refused, the answer says so -----------
serve "$D" --insecure-http
check "GET without a relay" 200 "$(req GET /v1/alerts "${AUTH_B[@]}")"
check "  relay false" false "$(jbody .relay)"
check "  no address" null "$(jbody .email)"
check "PUT without a relay: 409" 409 "$(req PUT /v1/alerts "${AUTH_B[@]}" --data '{"email":"a@b.example"}')"
grep -q smtp_url "$T/body" && ok "  names smtp_url" || bad "  said $(cat "$T/body")"
stop_node

# ---- node.conf refusals ------------------------------------------------------
refused() { # refused DESCRIPTION NEEDLE: serve must exit 2 naming NEEDLE
  local rc=0
  timeout 20 "$C" serve "$D" --listen 127.0.0.1:0 --insecure-http >/dev/null 2>err.txt || rc=$?
  check "$1: exit 2" 2 "$rc"
  grep -q -- "$2" err.txt && ok "$1: says $2" || bad "$1: said $(cat err.txt)"
}
printf 'smtp_url = smtp://127.0.0.1:25\n' >"$D/node.conf"
refused "smtp_url without smtp_from" "smtp_from is not"
printf 'smtp_url = http://relay.example\nsmtp_from = a@b.example\n' >"$D/node.conf"
refused "smtp_url not smtp" "node.conf line 1"
printf 'smtp_url = smtp://r.example\nsmtp_from = a@b.example\nsmtp_tls = maybe\n' >"$D/node.conf"
refused "smtp_tls unknown" "want required, try or none"
printf 'smtp_url = smtp://r.example\nsmtp_from = <a@b.example>\n' >"$D/node.conf"
refused "smtp_from not an address" "node.conf line 2"
printf 'alerts_interval = 0s\n' >"$D/node.conf"
refused "alerts_interval zero" "alerts_interval"

# ---- a relay: the sink --------------------------------------------------------
start_sink "$T/sink"
cat >"$D/node.conf" <<EOF
# alerts through the test's sink
smtp_url = smtp://127.0.0.1:$SINK_PORT
smtp_from = comity@alerts.example
smtp_tls = none
alerts_interval = 1s
public_url = http://node.alerts.example:8080/
deadline.0 = 8s/1h
EOF
serve "$D" --insecure-http

# the choice: checked, a party's own
put() { req PUT /v1/alerts "$@"; }
check "PUT anonymous: 401" 401 "$(put --data '{"email":"a@b.example"}')"
check "PUT by the operator: 403" 403 "$(put -H "Authorization: Token $OPTOKEN" --data '{"email":"a@b.example"}')"
check "PUT a bad address: 400" 400 "$(put "${AUTH_B[@]}" --data '{"email":"cert in@in.example"}')"
check "PUT a header injection: 400" 400 "$(put "${AUTH_B[@]}" --data '{"email":"a@in.example\r\nBcc: x@evil.example"}')"
check "PUT two addresses: 400" 400 "$(put "${AUTH_B[@]}" --data '{"email":"a@in.example,x@evil.example"}')"
check "PUT an unknown field: 400" 400 "$(put "${AUTH_B[@]}" --data '{"email":"a@in.example","bcc":"x"}')"
check "PUT neither new nor overdue: 400" 400 "$(put "${AUTH_B[@]}" --data '{"email":"a@in.example","new":false,"overdue":false}')"
grep -q "DELETE /v1/alerts" "$T/body" && ok "  says how to stop" || bad "  said $(cat "$T/body")"
check "PUT not JSON: 400" 400 "$(put "${AUTH_B[@]}" --data 'email=a@in.example')"
check "POST: 405" 405 "$(req POST /v1/alerts "${AUTH_B[@]}" --data '{}')"
check "PUT in.cert-in's choice" 200 "$(put "${AUTH_B[@]}" --data '{"email":"cert-in@in.example","new":true,"overdue":true}')"
check "  the answer" "in.cert-in cert-in@in.example true true true" \
  "$(jbody '[.party, .email, .new, .overdue, .relay] | map(tostring) | join(" ")')"
check "GET it back" "cert-in@in.example" "$(req GET /v1/alerts "${AUTH_B[@]}" >/dev/null; jbody .email)"
check "fr.anssi chose nothing" null "$(req GET /v1/alerts "${AUTH_C[@]}" >/dev/null; jbody .email)"
check "alerts.json written, 0600" 600 "$(stat -c %a "$D/alerts.json")"
check "  holds the choice" "cert-in@in.example" "$(jq -r '.parties["in.cert-in"].email' "$D/alerts.json")"

# a sealed notification to both: fields the mail must not carry
printf '{"severity":4,"sector":"energy","summary":"grid-operator-Zanzibar breached"}' >body.json
"$C" record sign --key a.key --type notification --tlp amber --to in.cert-in --to fr.anssi \
  --keys keys.txt --body body.json >n.json
"$C" record post --url "$URL" --token "$TA" n.json >/dev/null
payload=$(jq -r .payload n.json | base64 -d)
ID=$(jq -r .id <<<"$payload")
check "sealed: the node holds no clear body" null "$(jq -r .body <<<"$payload")"
wait_mails 1 && ok "a mail for the new item" || bad "no mail for the new item"
sleep 1.5
check "one mail, not one per slot or per tick" 1 "$(mails)"
wait_mails 2 && ok "a mail when it fell overdue" || bad "no mail for the overdue item"
check "in.cert-in's inbox: it is overdue" true \
  "$(req GET /v1/framework/inbox "${AUTH_B[@]}" >/dev/null; jbody '.awaiting_me[0].overdue')"
sleep 2.5
check "two mails in all (fr.anssi, who did not opt in, got none)" 2 "$(mails)"
check "every mail to in.cert-in's address" "RCPT TO:<cert-in@in.example>" \
  "$(grep -h '^RCPT' "$T"/sink/mail-*.eml | sort -u)"
check "every mail from smtp_from" "MAIL FROM:<comity@alerts.example>" \
  "$(grep -h '^MAIL' "$T"/sink/mail-*.eml | sort -u)"
# what a mail may say: that something awaits, and where
for m in "$T"/sink/mail-*.eml; do
  n=$(basename "$m")
  grep -q '^Subject: Something awaits you on your comity node' "$m" && ok "$n: the fixed subject" || bad "$n: subject $(grep '^Subject' "$m")"
  grep -q 'http://node.alerts.example:8080/' "$m" && ok "$n: names the node's URL" || bad "$n: no URL"
  created=$(jq -r .created <<<"$payload")
  for field in "$ID" "${ID#notification--}" notification pk.pkcert in.cert-in fr.anssi amber \
               "$created" "${created%%.*}" energy grid-operator-Zanzibar breached \
               severity overdue '"4"' "sealed"; do
    if grep -qiF -- "$field" "$m"; then bad "$n: carries '$field'"; fi
  done
  ok "$n: carries no field of the record"
done

# ---- the relay down: intake still answers, the mail comes once it is back ------
stop_sink
echo '{"severity":2,"sector":"finance","summary":"x"}' |
  "$C" record sign --key a.key --type notification --to in.cert-in >g.json
check "relay down: intake answers" 201 "$(req POST /v1/records "${AUTH_A[@]}" --max-time 20 --data-binary @g.json)"
sleep 3 # a few failed tries; the thread backs off
grep -q "alerts: the SMTP relay" "$T/serve.err" && ok "relay down: said on stderr" || bad "relay down: nothing on stderr"
if grep -q "cert-in@in.example" "$T/serve.err"; then bad "the log names the address"; else ok "the log does not name the address"; fi
SINK_PORT_WAS=$SINK_PORT
SINK_PORT=$SINK_PORT_WAS /usr/bin/python3 "$SINK" "$T/sink" & SINK_PID=$!
wait_mails 3 && ok "relay back: the mail is sent (retried)" || bad "relay back: no mail"

# ---- a relay that hangs: intake still answers, the node still stops ---------------
stop_sink
rm -f "$T/sink/port"
SINK_PORT=$SINK_PORT_WAS /usr/bin/python3 "$SINK" "$T/sink" --stall & SINK_PID=$!
for _ in $(seq 100); do [ -s "$T/sink/port" ] && break; sleep 0.1; done
echo '{"severity":2,"sector":"finance","summary":"y"}' |
  "$C" record sign --key a.key --type notification --to in.cert-in >h.json
sleep 2.5 # the sender is now waiting on the hanging relay (retries back off to 8 s)
check "hanging relay: intake answers" 201 "$(req POST /v1/records "${AUTH_A[@]}" --max-time 20 --data-binary @h.json)"
check "hanging relay: the inbox answers" 200 "$(req GET '/v1/framework/inbox?limit=5' "${AUTH_B[@]}" --max-time 20)"
kill -TERM "$SERVE_PID"
for _ in $(seq 250); do kill -0 "$SERVE_PID" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$SERVE_PID" 2>/dev/null; then bad "hanging relay: the node did not stop"; else ok "hanging relay: the node stops"; fi
wait "$SERVE_PID" 2>/dev/null || true
SERVE_PID=""
stop_sink

# ---- DELETE, the CLI, the screen, and the inbox's pages over HTTP ----------------------
if [ "$BROWSER" = 1 ] && ! web_built; then BROWSER=0; fi
if [ "$BROWSER" = 1 ]; then serve "$D" --insecure-http --web "$T/web"; else serve "$D" --insecure-http; fi
check "the choice survives a restart" "cert-in@in.example" "$(req GET /v1/alerts "${AUTH_B[@]}" >/dev/null; jbody .email)"
check "DELETE the choice" 200 "$(req DELETE /v1/alerts "${AUTH_B[@]}")"
check "  gone" null "$(jbody .email)"
check "  gone from alerts.json" null "$(jq -r '.parties["in.cert-in"]' "$D/alerts.json")"
grep -q "never what" <<<"$("$C" help alerts)" && ok "comity help alerts" || bad "comity help alerts"
cl() { COMITY_URL=$URL COMITY_TOKEN=$TC "$C" alerts "$@"; }
check "comity alerts: off" "alerts for fr.anssi: off" "$(cl show)"
cl on duty@anssi.example --overdue >cli.out
check "comity alerts on --overdue" "alerts for fr.anssi: on, to duty@anssi.example (new items: no, overdue items: yes), at most one mail every 1s" "$(cat cli.out)"
check "  --json" "duty@anssi.example false true" "$(cl --json | jq -r '[.email, .new, .overdue] | map(tostring) | join(" ")')"
rc=0; cl on 'not an address' 2>cli.err || rc=$?
check "comity alerts on a bad address: exit 1" 1 "$rc"
grep -q "email: want an address" cli.err && ok "  says why" || bad "  said $(cat cli.err)"
rc=0; cl show --new 2>/dev/null || rc=$?
check "comity alerts show --new: usage" 2 "$rc"
check "comity alerts off" "alerts for fr.anssi: off" "$(cl off)"
if [ "$BROWSER" = 1 ]; then
  web_run alerts 180
else
  echo "skip the alerts screen: no chromium or web/node_modules"
fi
for s in 3 4; do
  echo "{\"severity\":$s,\"sector\":\"energy\",\"summary\":\"p\"}" |
    "$C" record sign --key a.key --type notification --to in.cert-in >p.json
  "$C" record post --url "$URL" --token "$TA" p.json >/dev/null
done
check "whole inbox (no limit=): 5 awaiting" 5 "$(req GET /v1/framework/inbox "${AUTH_B[@]}" >/dev/null; jbody '.awaiting_me | length')"
check "  no cursor in it" null "$(jbody .next_me)"
whole=$(jq -c '[.awaiting_me[].id]' "$T/body")
check "page of 2" 200 "$(req GET '/v1/framework/inbox?limit=2' "${AUTH_B[@]}")"
check "  2 items, total 5" "2 5" "$(jbody '[(.awaiting_me | length), .total_me] | map(tostring) | join(" ")')"
ids=$(jq -c '[.awaiting_me[].id]' "$T/body")
next=$(jbody .next_me)
while [ "$next" != null ]; do
  check "next page" 200 "$(req GET "/v1/framework/inbox?limit=2&after=$(jq -rn --arg c "$next" '$c|@uri')" "${AUTH_B[@]}")"
  ids=$(jq -c --argjson a "$ids" '$a + [.awaiting_me[].id]' "$T/body")
  next=$(jbody .next_me)
done
check "the pages are the whole inbox, in order" "$whole" "$ids"
check "limit=0: 400" 400 "$(req GET '/v1/framework/inbox?limit=0' "${AUTH_B[@]}")"
check "limit=501: 400" 400 "$(req GET '/v1/framework/inbox?limit=501' "${AUTH_B[@]}")"
check "limit=-1: 400" 400 "$(req GET '/v1/framework/inbox?limit=-1' "${AUTH_B[@]}")"
check "after= without limit=: 400" 400 "$(req GET '/v1/framework/inbox?after=m.1.x.in.mea' "${AUTH_B[@]}")"
check "a malformed cursor: 400" 400 "$(req GET '/v1/framework/inbox?limit=2&after=zz' "${AUTH_B[@]}")"
grep -q "cursor" "$T/body" && ok "  says cursor" || bad "  said $(cat "$T/body")"
check "the cases list takes no limit=" 400 "$(req GET '/v1/framework/cases?limit=2' "${AUTH_B[@]}")"
stop_node
finish
