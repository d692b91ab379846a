#!/usr/bin/env bash
# sweep_cli.sh: `comity sweep` end to end: exit statuses (0 no hit, 1 hits,
# 2 error), the three output formats, plain lists with --type, STIX bundles
# (the Amnesty Pegasus set), stdin, gzip, thread counts, and usage errors.
set -euo pipefail
bin=${COMITY_BIN:?}
shared=${COMITY_SHARED:?}
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

printf 'evil.com\n# comment\n203.0.113.0/24\n' > "$t/list.txt"
printf 'q a.b.EVIL.com from 10.0.0.1\nq notevil.com\nconn 203.0.113.77\n' > "$t/log"
printf 'q benign.org\n' > "$t/clean"

# hits: exit 1, text names file:line
set +e
out=$("$bin" sweep -q --type domain --iocs "$t/list.txt" "$t/log"); rc=$?
set -e
[ "$rc" = 1 ] || fail "hits should exit 1, got $rc"
grep -q "^$t/log:1: " <<<"$out" || fail "no line 1 hit: $out"
grep -q "^$t/log:3: " <<<"$out" || fail "no CIDR hit: $out"
[ "$(wc -l <<<"$out")" = 2 ] || fail "want 2 hits: $out"

# no hit: exit 0, nothing on stdout
out=$("$bin" sweep -q --type domain --iocs "$t/list.txt" "$t/clean") || fail "no hit should exit 0"
[ -z "$out" ] || fail "output without hits: $out"

# JSON lines: one object per hit, with offset and line
set +e
"$bin" sweep -q --format json --type domain --iocs "$t/list.txt" "$t/log" > "$t/out.jsonl"
set -e
python3 - "$t/out.jsonl" "$t/log" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
data = open(sys.argv[2], 'rb').read()
assert len(rows) == 2, rows
for r in rows:
    assert r["indicator"].startswith("indicator--"), r
    tok = r["matched"].encode()
    assert data[r["offset"]:r["offset"] + len(tok)] == tok, r
assert rows[0]["line"] == 1 and rows[1]["line"] == 3
PY

# STIX: a bundle of sightings that point at indicators in the bundle
set +e
"$bin" sweep -q --format stix --type domain --iocs "$t/list.txt" "$t/log" > "$t/out.json"
set -e
python3 - "$t/out.json" <<'PY'
import json, sys
b = json.load(open(sys.argv[1]))
assert b["type"] == "bundle"
ids = {o["id"] for o in b["objects"]}
s = [o for o in b["objects"] if o["type"] == "sighting"]
assert len(s) == 2 and all(x["sighting_of_ref"] in ids for x in s), b
PY

# a STIX bundle (Amnesty Pegasus), from stdin and from gzip, 1 and 2 threads
printf 'ts query[A] x.weather4free.com from 10.0.0.2\nps roleaccountd\n' > "$t/phone.log"
gzip -c "$t/phone.log" > "$t/phone.log.gz"
for src in "$t/phone.log" "$t/phone.log.gz"; do
  for th in 1 2; do
    set +e
    out=$("$bin" sweep -q --threads $th --iocs "$shared/data/ioc/amnesty/pegasus.stix2" "$src"); rc=$?
    set -e
    [ "$rc" = 1 ] || fail "pegasus $src: exit $rc"
    [ "$(wc -l <<<"$out")" = 2 ] || fail "pegasus $src: $out"
  done
done
set +e
out=$(cat "$t/phone.log" | "$bin" sweep -q --iocs "$shared/data/ioc/amnesty/pegasus.stix2" -); rc=$?
set -e
[ "$rc" = 1 ] && grep -q "^-:1: " <<<"$out" || fail "stdin: $rc $out"
set +e
out=$("$bin" sweep -q --iocs "$shared/data/ioc/amnesty/pegasus.stix2" - < <(cat "$t/phone.log.gz")); rc=$?
set -e
[ "$rc" = 1 ] && [ "$(wc -l <<<"$out")" = 2 ] || fail "gzip on stdin: $rc $out"

# the summary on stderr lists what was skipped
printf '{"type":"indicator","id":"indicator--00000000-0000-4000-8000-000000000009","pattern":"[a:b = '"'"'x'"'"'] FOLLOWEDBY [a:b = '"'"'y'"'"']","pattern_type":"stix"}' > "$t/fb.json"
"$bin" sweep --iocs "$t/fb.json" "$t/clean" 2> "$t/err" >/dev/null || fail "skipped-only sweep should exit 0"
grep -q "skipped indicator--00000000-0000-4000-8000-000000000009" "$t/err" || fail "skip not reported: $(cat "$t/err")"

# errors exit 2
expect2() {
  set +e; "$bin" sweep "$@" >/dev/null 2>"$t/err"; rc=$?; set -e
  [ "$rc" = 2 ] || fail "want exit 2 for: $* (got $rc: $(cat "$t/err"))"
}
expect2 --type domain --iocs "$t/list.txt"                       # no path
expect2 "$t/log"                                                  # no indicators
expect2 --type nosuch --iocs "$t/list.txt" "$t/log"
expect2 --iocs "$t/list.txt" "$t/log"                             # a list without --type
expect2 --type domain --iocs "$t/missing" "$t/log"
expect2 --type domain --iocs "$t/list.txt" "$t/missing"
expect2 --type domain --iocs "$t/list.txt" --threads 0 "$t/log"
expect2 --type domain --iocs "$t/list.txt" --format xml "$t/log"
expect2 --type domain --iocs "$t/list.txt" --bogus "$t/log"
printf 'bad domain\n' > "$t/bad.txt"
expect2 --type domain --iocs "$t/bad.txt" "$t/log"
grep -q "line 1" "$t/err" || fail "bad list line not named: $(cat "$t/err")"
"$bin" sweep --help | grep -q "usage: comity sweep" || fail "help"
echo ok
