#!/usr/bin/env bash
# Run files of Redis 7.0.15's own Tcl test suite against a server and score
# them against what real redis-server 7.0.15 passes (see ../shared/COMPAT.md).
#
# usage: scripts/compat.sh [--port P] [--server-cmd "CMD"] [--log-dir DIR]
#                          [--timeout SECS] file...
#   file           a suite file relative to tests/, e.g. unit/type/string
#   --port P       port the server listens on (default 6399)
#   --server-cmd   command that starts a server on port P; it is started fresh
#                  for every file (in the background, from the log dir, so
#                  give paths in it as absolute paths: "node $PWD/dist/...") and
#                  killed by its pid afterwards. Without it the files run
#                  against whatever already listens on 127.0.0.1:P.
#   --log-dir DIR  where logs go (default /tmp/mnemo-compat); one
#                  <file with / -> _>.log per file, .server.log for the server,
#                  and summary.tsv
#   --timeout S    hard wall-clock limit per file (default 600)
# env: REDIS_SRC   Redis source tree at tag 7.0.15 (default /tmp/redis-src)
#
# Exit status: 0 if every file ran and matched the Redis baseline with 0 err,
# 1 otherwise, 2 on usage/setup errors.

set -u

PORT=6399
SERVER_CMD=""
LOG_DIR=/tmp/mnemo-compat
FILE_TIMEOUT=600
REDIS_SRC=${REDIS_SRC:-/tmp/redis-src}
TAGS="-slow -needs:debug -needs:repl -needs:save -needs:pfdebug -needs:config-maxmemory -needs:latency -needs:config-resetstat -needs:reset -needs:local-process"

usage() { sed -n "2,21p" "$0" | sed "s/^# \{0,1\}//"; exit "${1:-2}"; }

FILES=()
while [ $# -gt 0 ]; do
  case "$1" in
    --port) PORT=${2:?--port needs a value}; shift 2 ;;
    --port=*) PORT=${1#*=}; shift ;;
    --server-cmd) SERVER_CMD=${2?--server-cmd needs a value}; shift 2 ;;
    --server-cmd=*) SERVER_CMD=${1#*=}; shift ;;
    --log-dir) LOG_DIR=${2:?--log-dir needs a value}; shift 2 ;;
    --log-dir=*) LOG_DIR=${1#*=}; shift ;;
    --timeout) FILE_TIMEOUT=${2:?--timeout needs a value}; shift 2 ;;
    --timeout=*) FILE_TIMEOUT=${1#*=}; shift ;;
    -h|--help) usage 0 ;;
    --) shift; FILES+=("$@"); break ;;
    -*) echo "compat.sh: unknown option $1" >&2; usage ;;
    *) FILES+=("$1"); shift ;;
  esac
done
[ ${#FILES[@]} -gt 0 ] || usage
case "$PORT" in ''|*[!0-9]*) echo "compat.sh: bad port '$PORT'" >&2; exit 2 ;; esac

for tool in tclsh8.6 redis-cli timeout; do
  command -v "$tool" >/dev/null || { echo "compat.sh: $tool not found (apt-get install -y tcl redis-tools)" >&2; exit 2; }
done
if [ ! -f "$REDIS_SRC/tests/test_helper.tcl" ]; then
  echo "compat.sh: no Redis test suite in REDIS_SRC=$REDIS_SRC (see COMPAT.md)" >&2; exit 2
fi
mkdir -p "$LOG_DIR" || exit 2
LOG_DIR=$(cd "$LOG_DIR" && pwd)

# What real redis-server 7.0.15 passes in this mode (COMPAT.md), all 0 err.
declare -A BASE=(
  [unit/type/string]=72 [unit/type/incr]=23 [unit/type/list]=220
  [unit/type/list-3]=9 [unit/type/hash]=72 [unit/type/set]=94
  [unit/type/zset]=270 [unit/type/stream]=63 [unit/type/stream-cgroups]=48
  [unit/geo]=59 [unit/slowlog]=9
  [unit/keyspace]=52 [unit/expire]=56 [unit/multi]=35 [unit/pubsub]=29
  [unit/scan]=17 [unit/info-command]=3 [unit/bitops]=45 [unit/bitfield]=16
  [unit/hyperloglog]=16 [unit/introspection]=27 [unit/lazyfree]=2
  [unit/sort]=48 [unit/dump]=9 [unit/scripting]=186 [unit/functions]=86
  [unit/protocol]=19 [unit/quit]=3 [unit/tracking]=51
  [unit/introspection-2]=37 [unit/other]=7 [unit/pause]=14 [unit/violations]=1
)

ping_ok() { [ "$(timeout 2 redis-cli -h 127.0.0.1 -p "$PORT" ping 2>/dev/null)" = PONG ]; }

SERVER_PID=""
stop_server() {
  [ -n "$SERVER_PID" ] || return 0
  local pid=$SERVER_PID i
  SERVER_PID=""
  # The server was started with `exec`, so $pid is the server itself; also
  # signal any direct children it spawned (still only processes we started).
  kill -TERM "$pid" 2>/dev/null
  pkill -TERM -P "$pid" 2>/dev/null
  for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    pkill -KILL -P "$pid" 2>/dev/null; kill -KILL "$pid" 2>/dev/null
  fi
  wait "$pid" 2>/dev/null
  # Wait for the port to be free before the next file starts a new server.
  for i in $(seq 50); do ping_ok || break; sleep 0.1; done
  return 0
}
trap 'stop_server; exit 130' INT TERM

# Start "$SERVER_CMD" fresh; prints nothing, sets SERVER_PID; returns 1 if it
# does not answer PING within ~10 s.
start_server() {
  local slog=$1 i
  ( cd "$LOG_DIR" && exec bash -c "exec $SERVER_CMD" ) </dev/null >"$slog" 2>&1 &
  SERVER_PID=$!
  for i in $(seq 100); do
    ping_ok && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || { wait "$SERVER_PID" 2>/dev/null; SERVER_PID=""; return 1; }
    sleep 0.1
  done
  return 1
}

strip_ansi() { sed 's/\x1b\[[0-9;]*m//g' "$1"; }
count() { strip_ansi "$2" | grep -c "^\[$1\]" ; }

ROWS=()
TOT_OK=0 TOT_ERR=0 TOT_EXC=0 TOT_BASE=0 ALL_GOOD=1
printf 'file\tok\terr\texc\tbase\tratio\tstatus\n' >"$LOG_DIR/summary.tsv"

for f in "${FILES[@]}"; do
  f=${f%.tcl}; f=${f#tests/}
  name=${f//\//_}
  log="$LOG_DIR/$name.log"
  slog="$LOG_DIR/$name.server.log"
  : >"$log"
  status=""
  if [ ! -f "$REDIS_SRC/tests/$f.tcl" ]; then
    status="NO-SUCH-FILE"
  elif [ -n "$SERVER_CMD" ]; then
    if ping_ok; then
      status="PORT-$PORT-BUSY"   # someone else answers; we would test the wrong server
    elif ! start_server "$slog"; then
      status="SERVER-START-FAILED"
      stop_server
      { echo "server did not answer PING on port $PORT within 10 s; server log tail:"; tail -20 "$slog"; } >"$log"
    fi
  elif ! ping_ok; then
    status="NO-SERVER-ON-$PORT"
  fi

  if [ -z "$status" ]; then
    echo "== $f (log: $log)" >&2
    start=$(date +%s)
    # Each port gets its own copy of the suite (the harness wipes tests/tmp) and
    # its own harness port range, so runs against different servers can overlap.
    src="$REDIS_SRC"
    if [ -z "${COMPAT_SHARED_SRC:-}" ]; then
      src="/tmp/mnemo-compat-src-$PORT"
      [ -f "$src/tests/test_helper.tcl" ] || { rm -rf "$src"; cp -r "$REDIS_SRC" "$src"; }
    fi
    baseport=$(( 22000 + (PORT % 400) * 40 ))
    ( cd "$src" && TERM=dumb exec timeout -k 10 "$FILE_TIMEOUT" \
        tclsh8.6 tests/test_helper.tcl --host 127.0.0.1 --port "$PORT" --baseport "$baseport" --portcount 32 \
        --single "$f" --clients 1 --durable --timeout 120 --tags "$TAGS" \
        --ignore-encoding --ignore-digest ) </dev/null >"$log" 2>&1
    rc=$?
    secs=$(( $(date +%s) - start ))
    if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
      status="TIMEOUT(${FILE_TIMEOUT}s)"
      echo "[compat.sh] killed after ${FILE_TIMEOUT}s (timeout rc=$rc)" >>"$log"
    elif strip_ansi "$log" | grep -q '^\[TIMEOUT\]'; then
      status="HARNESS-TIMEOUT"   # no progress for 120 s; harness gave up
    elif strip_ansi "$log" | grep -q '^\[exception\]'; then
      status="EXCEPTION"
    elif ! strip_ansi "$log" | grep -q '^\[1/1 done\]'; then
      status="INCOMPLETE(rc=$rc)"
    else
      status="done"
    fi
    if [ -n "$SERVER_CMD" ]; then
      kill -0 "$SERVER_PID" 2>/dev/null || status="$status,SERVER-DIED"
      stop_server
    fi
    status="$status ${secs}s"
  fi

  ok=$(count ok "$log"); err=$(count err "$log"); exc=$(count exception "$log")
  base=${BASE[$f]:-}
  if [ -n "$base" ]; then
    ratio=$(awk -v a="$ok" -v b="$base" 'BEGIN{printf "%.3f", b ? a/b : 0}')
    TOT_BASE=$((TOT_BASE + base))
    [ "$ok" -ge "$base" ] || ALL_GOOD=0
  else
    base="?"; ratio="-"
  fi
  TOT_OK=$((TOT_OK + ok)); TOT_ERR=$((TOT_ERR + err)); TOT_EXC=$((TOT_EXC + exc))
  case "$status" in done*) ;; *) ALL_GOOD=0 ;; esac
  [ "$err" -eq 0 ] && [ "$exc" -eq 0 ] || ALL_GOOD=0
  ROWS+=("$f|$ok|$err|$exc|$base|$ratio|$status")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$f" "$ok" "$err" "$exc" "$base" "$ratio" "$status" >>"$LOG_DIR/summary.tsv"
done

TOT_RATIO=$(awk -v a="$TOT_OK" -v b="$TOT_BASE" 'BEGIN{printf "%.3f", b ? a/b : 0}')
fmt='%-28s %5s %5s %5s %6s %7s  %s\n'
echo
printf "$fmt" file ok err exc redis ratio status
printf "$fmt" ---- -- --- --- ----- ----- ------
for row in "${ROWS[@]}"; do
  IFS='|' read -r f ok err exc base ratio status <<<"$row"
  printf "$fmt" "$f" "$ok" "$err" "$exc" "$base" "$ratio" "$status"
done
printf "$fmt" ---- -- --- --- ----- ----- ------
printf "$fmt" "TOTAL (${#ROWS[@]} files)" "$TOT_OK" "$TOT_ERR" "$TOT_EXC" "$TOT_BASE" "$TOT_RATIO" ""
printf 'TOTAL\t%s\t%s\t%s\t%s\t%s\t\n' "$TOT_OK" "$TOT_ERR" "$TOT_EXC" "$TOT_BASE" "$TOT_RATIO" >>"$LOG_DIR/summary.tsv"
echo "logs: $LOG_DIR" >&2
[ "$ALL_GOOD" -eq 1 ] && exit 0 || exit 1
