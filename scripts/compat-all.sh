#!/usr/bin/env bash
# Run the issue-2 set of Redis test-suite files through scripts/compat.sh,
# starting a fresh server per file.
#
# usage: scripts/compat-all.sh [extra compat.sh options, e.g. --log-dir DIR]
# env:   MNEMO_CMD  server command (default:
#                   node <this checkout>/dist/bin/mnemo.js server --standalone --port 6399)
#        PORT       port the command listens on (default 6399; must match MNEMO_CMD)
#        REDIS_SRC  Redis 7.0.15 source tree (default /tmp/redis-src)
# Against real Redis:
#   MNEMO_CMD="redis-server --port 6399 --bind 127.0.0.1 --save '' --appendonly no" scripts/compat-all.sh

set -u
here=$(cd "$(dirname "$0")" && pwd)
PORT=${PORT:-6399}
root=$(cd "$here/.." && pwd)
MNEMO_CMD=${MNEMO_CMD:-"node $root/dist/bin/mnemo.js server --standalone --port $PORT"}

FILES=(
  unit/type/string unit/type/incr unit/keyspace unit/expire unit/multi
  unit/protocol unit/quit unit/bitops unit/bitfield unit/dump unit/info-command
)

exec "$here/compat.sh" --port "$PORT" --server-cmd "$MNEMO_CMD" "$@" "${FILES[@]}"
