#!/usr/bin/env bash
# node_ops.sh: comity doctor, backup (while serving) and restore on a node
# whose store is SQLite (the body is node_ops.bash).
source "$(dirname "$0")/node_lib.bash"
STORE=""
source "$(dirname "$0")/node_ops.bash"
