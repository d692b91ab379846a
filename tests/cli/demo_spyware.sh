#!/usr/bin/env bash
# demo_spyware.sh: scripts/demo-spyware (story 1 of USERS.md and the
# spyware registry) runs to its end, on a galaxy of 40 vendors (the four
# the US listed among them) to keep it short: every step it checks (the
# undercut warning, the matches, the case seen by the licensing states and
# not by Germany) passes.
set -euo pipefail
: "${COMITY_BIN:?}" "${COMITY_SRC:?}" "${COMITY_SHARED:?}"
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
jq '{name, values: ([.values[] | select(.value | test("^(NSO|Candiru|Intellexa|Cytrox|Memento)"))] + .values[0:34])}' \
  "$COMITY_SHARED/data/galaxy/surveillance-vendor.json" >"$t/galaxy.json"
if ! SPYWARE_GALAXY="$t/galaxy.json" "$COMITY_SRC/scripts/demo-spyware" >"$t/out" 2>&1; then
  cat "$t/out"; echo "FAIL demo-spyware"; exit 1
fi
grep -q 'WARNING: de denied Pegasus' "$t/out" || { cat "$t/out"; echo "FAIL no undercut warning"; exit 1; }
grep -q 'demo-spyware: all steps passed' "$t/out" || { cat "$t/out"; echo "FAIL not to its end"; exit 1; }
echo "ok   demo-spyware ran to its end"
