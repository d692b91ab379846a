#!/usr/bin/env bash
# pattern.sh: `comity pattern`: canonical output, --json, exit statuses,
# the caret under the failing byte, and -f FILE with good and bad lines.
set -euo pipefail
bin=${COMITY_BIN:?}
shared=${COMITY_SHARED:?}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# a valid pattern: exit 0, canonical text
out=$("$bin" pattern "[domain-name:value='x.com']")
[ "$out" = "[domain-name:value = 'x.com']" ] || fail "canonical: $out"

# --json dumps the tree
"$bin" pattern --json "[file:hashes.'SHA-256' = 'ab'] WITHIN 5 SECONDS" > "$tmp/j"
grep -q '"text": "file:hashes.'"'"'SHA-256'"'"'"' "$tmp/j" || fail "json path"
grep -q '"type": "within"' "$tmp/j" || fail "json qualifier"

# an invalid pattern: exit 2, message with the byte, caret under it
set +e
"$bin" pattern "[file:name = 'x'" > "$tmp/o" 2> "$tmp/e"
rc=$?
set -e
[ $rc -eq 2 ] || fail "invalid exit $rc"
[ ! -s "$tmp/o" ] || fail "invalid pattern printed something on stdout"
grep -q "expected ']' or AND/OR, found end of pattern at byte 16" "$tmp/e" || fail "message: $(cat "$tmp/e")"
caret=$(grep -n '\^' "$tmp/e" | head -1)
[ "$caret" = "3:                  ^" ] || fail "caret: '$caret'"

# every spec example, one per line, checks and round-trips
"$bin" pattern -f "$shared/data/stix/pattern_grammar/spec_examples_v21.txt" > "$tmp/c1"
[ "$(wc -l < "$tmp/c1")" -eq 23 ] || fail "spec examples"
"$bin" pattern -f "$tmp/c1" > "$tmp/c2"
cmp -s "$tmp/c1" "$tmp/c2" || fail "canonical form is not a fixed point"

# -f: comments and blank lines skipped, bad lines reported with FILE:LINE
printf '# comment\n[a:b=1]\n\n[a:b = h'"'"'abc'"'"']\n[c:d=2]\n' > "$tmp/p"
set +e
"$bin" pattern -f "$tmp/p" > "$tmp/o" 2> "$tmp/e"
rc=$?
set -e
[ $rc -eq 2 ] || fail "-f exit $rc"
[ "$(cat "$tmp/o")" = "$(printf '[a:b = 1]\n[c:d = 2]')" ] || fail "-f output: $(cat "$tmp/o")"
grep -q "$tmp/p:4: pattern: bad hex literal" "$tmp/e" || fail "-f message: $(cat "$tmp/e")"

# usage errors
set +e
"$bin" pattern > /dev/null 2>&1; [ $? -eq 2 ] || fail "no args"
"$bin" pattern --bogus "[a:b=1]" > /dev/null 2>&1; [ $? -eq 2 ] || fail "bad option"
"$bin" pattern -f "$tmp/p" "[a:b=1]" > /dev/null 2>&1; [ $? -eq 2 ] || fail "both"
set -e
grep -q "comity pattern \[--json\] PATTERN" <<<"$("$bin" help pattern)" || fail "help"
echo ok
