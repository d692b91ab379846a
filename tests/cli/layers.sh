#!/usr/bin/env bash
# layers.sh: the source keeps its shape (docs/node.md, "Files call one
# way"): no two files of src/ call each other (scripts/check-circles), no
# handler of src/node/ includes another, intake holds no HTTP, and the
# public header hands out neither a node's log nor its store (a caller
# could append entries with no record behind them), and every header's
# include guard encloses the whole header (code after its #endif would be
# declared twice when the header is included twice).
set -u
cd "${COMITY_SRC:?}" || exit 1
fail=0
bad() { echo "FAIL: $*"; fail=1; }

scripts/check-circles >/dev/null || { scripts/check-circles; bad "files that call each other"; }
for api in comity_node_log comity_node_store comity_store_open comity_store_close; do
  grep -qw "$api" include/comity.h && bad "include/comity.h still declares $api"
done
grep -l 'microhttpd' src/intake/* && bad "src/intake includes libmicrohttpd"
for h in records taxii tiles queries; do
  for f in src/node/{records,taxii,tiles,queries}.c; do
    [ "$f" = "src/node/$h.c" ] && continue
    grep -q "#include \"node/$h.h\"" "$f" && bad "$f includes the handler $h"
  done
done
grep -q 'comity_node_stop\|cy_.*_handle' src/node/node.c && bad "node.c calls up into the server"
for h in $(git ls-files 'include/*.h' 'src/*.h' 'cli/*.h' 'tests/*.h' 'fuzz/*.h' 2>/dev/null); do
  awk -v f="$h" '
    /^[ \t]*#[ \t]*if/ { depth++ }
    /^[ \t]*#[ \t]*endif/ { if (--depth == 0) closed = NR; next }
    closed && !/^[ \t]*$/ && !/^[ \t]*(\/\*|\*|\/\/)/ { print f ":" NR ": after the include guard closes at line " closed; bad = 1; exit }
    END { exit bad }' "$h" || bad "$h: its include guard closes before its end"
done
[ $fail = 0 ] && echo "ok: layers"
exit $fail
