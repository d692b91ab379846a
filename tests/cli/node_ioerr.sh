#!/usr/bin/env bash
# node_ioerr.sh: the short version of scripts/campaign-ioerr (I/O errors
# injected at named points through the LD_PRELOAD library of
# tests/fault/shim.c): for two points, the store's WAL writes and the log's
# tile writes, one cycle of posts while the point fails.  Every record
# post and TAXII envelope answers 201/200/202 or 503 (never 500, never a
# cut connection, the node keeps running), and after the error stops and a
# restart every refused post is acknowledged; every acknowledgement holds
# (records at their log index, objects served) and the log audits clean.
# Before, a TAXII envelope met by a store I/O error was answered 500.
set -euo pipefail
: "${COMITY_BIN:?}" "${COMITY_SRC:?}"
SHIM="$(dirname "$COMITY_BIN")/libcomity-faultshim.so"
[ -f "$SHIM" ] || { echo "skip: $SHIM not built"; exit 77; }
RECORDS=4 exec bash "$COMITY_SRC/scripts/campaign-ioerr" "$COMITY_BIN" "$SHIM" 1 store-wal-write log-tile-write
