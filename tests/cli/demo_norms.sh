#!/usr/bin/env bash
# demo_norms.sh: scripts/demo-norms (prohibitions and norms, story 2 of
# USERS.md) runs to its end: every step it checks (the catalogue, the
# re-seal to a later state, the complaint OVERDUE then answered and closed
# with consultations linked, the disclosure fixed and published with its
# alert, an early alert refused, the secretariat kept out) passes.
set -euo pipefail
: "${COMITY_BIN:?}" "${COMITY_SRC:?}"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
if ! "$COMITY_SRC/scripts/demo-norms" >"$out" 2>&1; then cat "$out"; echo "FAIL demo-norms"; exit 1; fi
grep -q OVERDUE "$out" || { cat "$out"; echo "FAIL no OVERDUE shown"; exit 1; }
grep -q 'outcome resolved' "$out" || { cat "$out"; echo "FAIL the complaint did not close"; exit 1; }
echo "ok   demo-norms ran to its end"
