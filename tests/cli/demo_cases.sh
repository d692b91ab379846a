#!/usr/bin/env bash
# demo_cases.sh: scripts/demo-cases (story 4 of USERS.md, cases) runs to
# its end: every step it checks (a refused incomplete request, the
# confirmation and clocks both sides see, an OVERDUE unconfirmed request,
# the secretariat kept out, a consultation's overdue follow-up) passes.
set -euo pipefail
: "${COMITY_BIN:?}" "${COMITY_SRC:?}"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
if ! "$COMITY_SRC/scripts/demo-cases" >"$out" 2>&1; then cat "$out"; echo "FAIL demo-cases"; exit 1; fi
grep -q OVERDUE "$out" || { cat "$out"; echo "FAIL no OVERDUE shown"; exit 1; }
echo "ok   demo-cases ran to its end"
