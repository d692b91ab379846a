#!/usr/bin/env bash
# demo_attribution.sh: scripts/demo-attribution (story 2 of USERS.md,
# attribution) runs to its end: every step it checks (the claims with the
# reply beside them, the panel's tally, the non-party kept out, every
# record's receipt) passes.
set -euo pipefail
: "${COMITY_BIN:?}" "${COMITY_SRC:?}"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
if ! "$COMITY_SRC/scripts/demo-attribution" >"$out" 2>&1; then cat "$out"; echo "FAIL demo-attribution"; exit 1; fi
grep -q 'panel: 2 concur, 1 dissent, 0 abstain' "$out" || { cat "$out"; echo "FAIL no tally shown"; exit 1; }
grep -q 'REPLY by ru.mid: deny' "$out" || { cat "$out"; echo "FAIL no reply beside the claim"; exit 1; }
echo "ok   demo-attribution ran to its end"
