#!/usr/bin/env bash
# Redis's own test files (the issue-2 set by default, or the files given)
# against the primary of a durable cluster: a fresh `mnemo up` per file (three
# log nodes, the primary on $PORT, one replica on $PORT+1).
#
# usage: scripts/compat-durable.sh [compat.sh options] [files...]
# env:   PORT (6390), LOG_PORT (23001), MNEMO_JS (dist/bin/mnemo.js of this checkout)
set -u
here=$(cd "$(dirname "$0")" && pwd)
PORT=${PORT:-6390}
LOG_PORT=${LOG_PORT:-23001}
MNEMO_JS=${MNEMO_JS:-$here/../dist/bin/mnemo.js}
DATA=$(mktemp -d "${TMPDIR:-/tmp}/mnemo-compat-durable.XXXXXX")
trap 'rm -rf "$DATA"' EXIT
# compat.sh runs the command with `exec` and signals it; the data dir is emptied per file.
CMD="bash -c 'rm -rf $DATA/d; exec node $MNEMO_JS up --data-dir $DATA/d --port $PORT --log-port $LOG_PORT --replicas 1'"
if [[ " $* " != *" unit/"* && " $* " != *" integration/"* ]]; then
  export PORT MNEMO_CMD=$CMD
  exec "$here/compat-all.sh" "$@"
fi
exec "$here/compat.sh" --port "$PORT" --server-cmd "$CMD" "$@"
