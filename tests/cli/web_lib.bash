# web_lib.bash: what the browser tests (tests/cli/web_*.sh) share beside
# node_lib.bash, which it sources; not a test itself.  A browser test does
#
#   source "$(dirname "$0")/web_lib.bash"
#   web_ready                 # skips (77) without chromium or web/node_modules;
#                             # starts chromium once in the background to see
#                             # that it can run here
#   web_build                 # builds web/ into $T/web in the background
#   ... init_node, parties ...
#   web_built                 # waits for both: fails the test if the build
#                             # failed, skips (77) if chromium could not start
#   serve "$D" --insecure-http --web "$T/web"
#   web_run NAME SECS ARGS... # node web/test/NAME.mjs $URL $T $SHOTS ARGS...
#
# A test whose browser part is optional calls web_available instead of
# web_ready (a status, no exit) and sets WEB_OPTIONAL=1: web_built then
# returns 1 instead of skipping the whole test.
#
# Screenshots go to $BUILD/web-screenshots-NAME, apart from the other
# browser tests', which ctest may run at once.
source "$(dirname "${BASH_SOURCE[0]}")/node_lib.bash"
SRC=${COMITY_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
WEB=$SRC/web
C=$COMITY_BIN
BUILD=$(cd "$(dirname "$C")" && pwd)

WEB_PROBE=""
web_available() {
  if [ ! -x /usr/bin/chromium ] || [ ! -d "$WEB/node_modules/playwright-core" ] || ! command -v node >/dev/null; then
    echo "skip: chromium or web/node_modules missing (run scripts/install-deps)"; return 1
  fi
  # the probe runs while the test builds the UI and sets its node up
  timeout 120 /usr/bin/chromium --headless --no-sandbox --disable-gpu --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$T/probe" --dump-dom about:blank >/dev/null 2>"$T/probe.err" &
  WEB_PROBE=$!
}
web_ready() { web_available || exit 77; }

WEB_BUILDING=""
web_build() {
  (cd "$WEB" && node build.mjs "$T/web") >"$T/web-build.out" 2>&1 &
  WEB_BUILDING=$!
}
web_built() {
  wait "$WEB_BUILDING" || { cat "$T/web-build.out"; echo "FAIL web build"; exit 1; }
  if [ -n "$WEB_PROBE" ] && ! wait "$WEB_PROBE"; then
    echo "skip: chromium cannot start here:"; tail -3 "$T/probe.err"
    [ -n "${WEB_OPTIONAL:-}" ] && return 1
    exit 77
  fi
  WEB_PROBE=
}

# web_run NAME SECS ARGS...: runs web/test/NAME.mjs URL DIR SHOTS ARGS...
# (DIR is $T, where the test put its key files) with a time limit; its
# output goes to the log and its failures count as this test's.
web_run() {
  local name=$1 secs=$2; shift 2
  SHOTS=$BUILD/web-screenshots-$name
  rm -rf "$SHOTS"; mkdir -p "$SHOTS"
  local rc=0
  (cd "$WEB" && timeout "$secs" node "test/$name.mjs" "$URL" "$T" "$SHOTS" "$@") >"$T/$name.out" 2>&1 || rc=$?
  cat "$T/$name.out"
  [ "$rc" -eq 0 ] || bad "web/test/$name.mjs exited $rc"
}
