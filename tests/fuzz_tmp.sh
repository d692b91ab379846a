#!/usr/bin/env bash
# fuzz_tmp.sh REPLAY CORPUS: a fuzz harness that keeps a directory on
# disk (fuzz/fuzz_tmpdir.h) makes it under $TMPDIR and leaves nothing
# there when it exits.  REPLAY is its fuzz_replay_NAME (tests/fuzz_replay.c)
# and CORPUS its corpus.  Run once with TMPDIR a fresh directory: it must
# pass and the directory must be empty after; run again with TMPDIR a
# directory that does not exist: it must fail, which shows that the first
# run did work under TMPDIR (the old harnesses wrote under /tmp whatever
# TMPDIR said, and never removed what they made).
set -uo pipefail
REPLAY=${1:?replay binary} CORPUS=${2:?corpus}
D=$(mktemp -d)
trap 'rm -rf "$D"' EXIT
fails=0
if TMPDIR=$D "$REPLAY" "$CORPUS" >"$D.out" 2>&1; then
  echo "ok   replayed under TMPDIR: $(tail -1 "$D.out")"
else
  echo "FAIL replay: $(tail -5 "$D.out")"; fails=1
fi
rm -f "$D.out"
left=$(ls -A "$D")
if [ -z "$left" ]; then echo "ok   nothing left in TMPDIR at exit"; else echo "FAIL left in TMPDIR: $left"; fails=1; fi
if TMPDIR=$D/none "$REPLAY" "$CORPUS" >/dev/null 2>&1; then
  echo "FAIL with TMPDIR missing the harness still ran: its directory is not under TMPDIR"; fails=1
else
  echo "ok   with TMPDIR missing the harness stops: it works under TMPDIR"
fi
exit $fails
