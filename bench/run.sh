#!/usr/bin/env bash
# Benchmark Mnemo against redis-server with redis-benchmark.
# Run from the repo root:  npm run bench   (or: bash bench/run.sh)
#
# Environment knobs (defaults in brackets):
#   BENCH_TESTS      redis-benchmark -t list            [set,get,incr,lpush,mset]
#                    (xadd has no -t test in redis-benchmark 7.0; it is run as the custom
#                    command "xadd mystream * field value" and checked with XLEN)
#   BENCH_N          requests per run at -P 1 (x4 at -P 16) [200000]
#   BENCH_PIPELINES  pipeline depths                     ["1 16"]
#   BENCH_CLIENTS    redis-benchmark -c                  [50]
#   BENCH_REPS       runs per test per server (best of)  [3]
#   BENCH_KEYS       keys loaded for the memory test     [1000000] (0 = skip)
#   BENCH_ELEMENTS   members of the one hash / set / sorted set key loaded for the
#                    per-element memory test (fresh server process per type) [1000000] (0 = skip)
#   BENCH_TIMEOUT    seconds per redis-benchmark run     [180]
#   REDIS_PORT       [6390]     MNEMO_PORT  [6391]
#   REDIS_SERVER     redis-server binary                 [redis-server]
#   MNEMO_CMD        [node dist/bin/mnemo.js server --standalone --port $MNEMO_PORT]
#                    (the server should listen on 127.0.0.1:$MNEMO_PORT; the pid used
#                    for CPU/RSS is the process listening on that port)
#   BENCH_PIN        1 = pin redis-benchmark to the last CPU and the servers to the
#                    other CPUs (taskset), 0 = no pinning   [1 if nproc >= 2]
#   BENCH_KEEP=1     keep the temp dir with logs and raw outputs
#   BENCH_DURABLE    1 = also run bench/durable.sh (mnemo up vs redis-server) [1]
#   BENCH_FLOOR      1 = also run the floor server (dist/cluster/floor-server.js: Mnemo's
#                    socket I/O answering "+OK" to every request, no parsing, no engine)
#                    in the same alternation, on FLOOR_PORT [6392]; its columns show
#                    what Node.js and the kernel cost before Mnemo does work  [0]
#                    (only for tests whose replies redis-benchmark does not inspect:
#                    not xadd, which is checked with XLEN)
set -u -o pipefail

BENCH_TESTS=${BENCH_TESTS:-set,get,incr,lpush,mset}
BENCH_N=${BENCH_N:-200000}
BENCH_PIPELINES=${BENCH_PIPELINES:-1 16}
BENCH_CLIENTS=${BENCH_CLIENTS:-50}
BENCH_REPS=${BENCH_REPS:-3}
BENCH_KEYS=${BENCH_KEYS:-1000000}
BENCH_ELEMENTS=${BENCH_ELEMENTS:-1000000}
BENCH_TIMEOUT=${BENCH_TIMEOUT:-180}
REDIS_PORT=${REDIS_PORT:-6390}
MNEMO_PORT=${MNEMO_PORT:-6391}
REDIS_SERVER=${REDIS_SERVER:-redis-server}
MNEMO_CMD=${MNEMO_CMD:-node dist/bin/mnemo.js server --standalone --port $MNEMO_PORT}
BENCH_FLOOR=${BENCH_FLOOR:-0}
FLOOR_PORT=${FLOOR_PORT:-6392}
HOST=127.0.0.1
NPROC=$(nproc)
BENCH_PIN=${BENCH_PIN:-$([[ $NPROC -ge 2 ]] && echo 1 || echo 0)}
CLIENT_PIN=()
SERVER_CPUS=""
if [[ "$BENCH_PIN" == 1 ]] && command -v taskset >/dev/null 2>&1 && [[ $NPROC -ge 2 ]]; then
  CLIENT_PIN=(taskset -c $((NPROC - 1)))
  SERVER_CPUS=$([[ $NPROC -eq 2 ]] && echo 0 || echo "0-$((NPROC - 2))")
else
  BENCH_PIN=0
fi

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LIB="$HERE/lib.js"
CLK_TCK=$(getconf CLK_TCK)

for bin in redis-benchmark redis-cli "$REDIS_SERVER" node; do
  if ! command -v "$bin" >/dev/null 2>&1; then
    echo "bench: '$bin' not found (apt-get install -y redis-tools redis-server)" >&2
    exit 1
  fi
done

TMP=$(mktemp -d "${TMPDIR:-/tmp}/mnemo-bench.XXXXXX")
STARTED_PIDS=()

cleanup() {
  local pid
  for pid in "${STARTED_PIDS[@]}"; do
    kill "$pid" 2>/dev/null
  done
  for pid in "${STARTED_PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null
  done
  if [[ "${BENCH_KEEP:-0}" == 1 ]]; then
    echo "bench: logs kept in $TMP" >&2
  else
    rm -rf "$TMP"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { echo "[bench $(date +%H:%M:%S)] $*" >&2; }

port_of() {
  case $1 in
    redis) echo "$REDIS_PORT" ;;
    floor) echo "$FLOOR_PORT" ;;
    *) echo "$MNEMO_PORT" ;;
  esac
}
cli() { local port=$1; shift; timeout 30 redis-cli -h "$HOST" -p "$port" "$@"; }

# pid of the process listening on 127.0.0.1:<port> (empty if unknown)
listen_pid() {
  ss -ltnpH "sport = :$1" 2>/dev/null | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2
}

declare -A SPID CMD
CMD[redis]="$REDIS_SERVER --port $REDIS_PORT --bind $HOST --save '' --appendonly no --dir '$TMP' --daemonize no"
CMD[mnemo]="$MNEMO_CMD"
CMD[floor]="node dist/cluster/floor-server.js --port $FLOOR_PORT"
SERVERS=(redis mnemo)
[[ "$BENCH_FLOOR" == 1 ]] && SERVERS+=(floor)

start_server() {
  local name=$1 port
  port=$(port_of "$name")
  if [[ "$(cli "$port" ping 2>/dev/null)" == PONG ]]; then
    echo "bench: something already answers on port $port; refusing to benchmark it" >&2
    exit 1
  fi
  log "starting $name: ${CMD[$name]}"
  bash -c "exec ${CMD[$name]}" >>"$TMP/$name.log" 2>&1 &
  local pid=$!
  STARTED_PIDS+=("$pid")
  local ok=0
  for _ in $(seq 100); do
    if ! kill -0 "$pid" 2>/dev/null; then break; fi
    if [[ "$(cli "$port" ping 2>/dev/null)" == PONG ]]; then ok=1; break; fi
    sleep 0.1
  done
  if [[ $ok != 1 ]]; then
    echo "bench: $name did not answer PING on port $port within 10 s; log tail:" >&2
    tail -20 "$TMP/$name.log" >&2
    exit 1
  fi
  local lp
  lp=$(listen_pid "$port")
  if [[ -n "$lp" && "$lp" != "$pid" ]]; then
    log "$name: listening pid $lp differs from started pid $pid; using $lp"
    STARTED_PIDS+=("$lp")
    pid=$lp
  fi
  SPID[$name]=$pid
  if [[ -n "$SERVER_CPUS" ]]; then
    # all existing threads; threads created later inherit the mask
    taskset -a -p -c "$SERVER_CPUS" "$pid" >/dev/null || log "WARNING: could not pin $name"
  fi
}

stop_server() {
  local name=$1 pid=${SPID[$1]} port keep=() p
  port=$(port_of "$name")
  kill "$pid" 2>/dev/null
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null
  for _ in $(seq 100); do [[ -z "$(listen_pid "$port")" ]] && break; sleep 0.1; done
  for p in "${STARTED_PIDS[@]}"; do [[ "$p" != "$pid" ]] && keep+=("$p"); done
  STARTED_PIDS=("${keep[@]}")
}

ensure_running() {
  local name=$1
  if ! kill -0 "${SPID[$name]}" 2>/dev/null; then
    log "$name (pid ${SPID[$name]}) died; restarting (see log)"
    tail -5 "$TMP/$name.log" >&2
    start_server "$name"
  fi
}

# utime+stime in clock ticks (fields 14,15 of /proc/pid/stat; skip the "(comm)" field safely)
cpu_ticks() {
  local s
  s=$(cat "/proc/$1/stat" 2>/dev/null) || { echo ""; return; }
  s=${s##*) }
  awk '{print $12 + $13}' <<<"$s"
}
rss_bytes() { awk '/^VmRSS:/ {print $2 * 1024}' "/proc/$1/status" 2>/dev/null; }
used_memory() { cli "$1" info memory 2>/dev/null | tr -d '\r' | awk -F: '$1 == "used_memory" {print $2}'; }

# ---------------------------------------------------------------- machine info
INFO="$TMP/machine.txt"
{
  echo "nproc: $(nproc)"
  echo "CPU: $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
  echo "kernel: $(uname -r)"
  echo "node: $(node --version)"
  echo "redis-server: $("$REDIS_SERVER" --version | head -1)"
  echo "redis-benchmark: $(redis-benchmark --version 2>/dev/null | head -1)"
  echo "mnemo: $(git rev-parse --short HEAD 2>/dev/null || echo unknown) ($MNEMO_CMD)"
  echo "settings: -c $BENCH_CLIENTS, -P {${BENCH_PIPELINES// /,}}, -n $BENCH_N at -P 1 (x4 at -P 16), best of $BENCH_REPS, tests $BENCH_TESTS, CLK_TCK $CLK_TCK, pinning: $([[ $BENCH_PIN == 1 ]] && echo "servers on CPU $SERVER_CPUS, redis-benchmark on CPU $((NPROC - 1))" || echo none)"
  echo "date: $(date -u +%Y-%m-%dT%H:%MZ)"
} >"$INFO"
cat "$INFO" >&2

start_server redis
start_server mnemo
[[ "$BENCH_FLOOR" == 1 ]] && start_server floor
log "redis pid ${SPID[redis]}, mnemo pid ${SPID[mnemo]}"

# ---------------------------------------------------------------- memory (fresh processes)
MEM="$TMP/memory.tsv"
: >"$MEM"
if [[ "$BENCH_KEYS" -gt 0 ]]; then
  for name in redis mnemo; do
    port=$(port_of "$name")
    pid=${SPID[$name]}
    cli "$port" flushall >/dev/null 2>&1
    sleep 1
    printf '%s\tbefore\t%s\t%s\t%s\n' "$name" "$(used_memory "$port")" "$(rss_bytes "$pid")" "$(cli "$port" dbsize 2>/dev/null)" >>"$MEM"
    log "$name: loading $BENCH_KEYS keys"
    t0=$(date +%s.%N)
    res=$(node "$LIB" load "$port" "$BENCH_KEYS" "$HOST")
    t1=$(date +%s.%N)
    log "$name: load replies ok/errors: $res ($(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b-a}') s)"
    sleep 2
    dbsize=$(cli "$port" dbsize 2>/dev/null | tr -d '\r')
    keysrc=DBSIZE
    if ! [[ "$dbsize" =~ ^[0-9]+$ ]]; then
      log "WARNING: $name DBSIZE failed ('${dbsize:0:60}'); using the loader's OK-reply count"
      dbsize=${res%% *}
      keysrc="loader OK count (no DBSIZE)"
    elif [[ "$dbsize" != "$BENCH_KEYS" ]]; then
      log "WARNING: $name DBSIZE is $dbsize, expected $BENCH_KEYS"
    fi
    printf '%s\tafter\t%s\t%s\t%s\t%s\n' "$name" "$(used_memory "$port")" "$(rss_bytes "$pid")" "$dbsize" "$keysrc" >>"$MEM"
    cli "$port" flushall >/dev/null 2>&1
  done
fi

# ---------------------------------------------------------------- memory per element
# One key with BENCH_ELEMENTS members per type, each on a freshly started server
# (so RSS retained from earlier loads does not hide growth).
ELEM="$TMP/elements.tsv"
: >"$ELEM"
if [[ "$BENCH_ELEMENTS" -gt 0 ]]; then
  declare -A CARDCMD=([hash]="hlen h" [set]="scard s" [zset]="zcard z")
  for type in hash set zset; do
    for name in redis mnemo; do
      stop_server "$name"
      start_server "$name"
      port=$(port_of "$name")
      pid=${SPID[$name]}
      cli "$port" flushall >/dev/null 2>&1
      sleep 1
      ub=$(used_memory "$port"); rb=$(rss_bytes "$pid")
      log "$name: loading one $type with $BENCH_ELEMENTS members"
      t0=$(date +%s.%N)
      res=$(node "$LIB" loadelems "$port" "$type" "$BENCH_ELEMENTS" "$HOST")
      t1=$(date +%s.%N)
      log "$name: $type load added/errors: $res ($(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b-a}') s)"
      sleep 2
      card=$(cli "$port" ${CARDCMD[$type]} 2>/dev/null | tr -d '\r')
      [[ "$card" =~ ^[0-9]+$ ]] || { log "WARNING: $name ${CARDCMD[$type]} failed ('${card:0:60}')"; card=n/a; }
      [[ "$card" == "$BENCH_ELEMENTS" ]] || log "WARNING: $name ${CARDCMD[$type]} is $card, expected $BENCH_ELEMENTS"
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$type" "$BENCH_ELEMENTS" "$ub" "$rb" \
        "$(used_memory "$port")" "$(rss_bytes "$pid")" "$card" >>"$ELEM"
      cli "$port" flushall >/dev/null 2>&1
    done
  done
  # leave fresh, empty servers for the throughput runs
  for name in redis mnemo; do stop_server "$name"; start_server "$name"; done
  log "redis pid ${SPID[redis]}, mnemo pid ${SPID[mnemo]}"
fi

# ---------------------------------------------------------------- throughput + CPU
RESULTS="$TMP/results.tsv"
: >"$RESULTS"
declare -A SKIP
IFS=',' read -r -a TESTS <<<"$BENCH_TESTS"
for test in "${TESTS[@]}"; do
  for P in $BENCH_PIPELINES; do
    n=$BENCH_N
    [[ "$P" -gt 1 ]] && n=$((BENCH_N * 4))
    for rep in $(seq "$BENCH_REPS"); do
      # Alternate servers within each repetition; never run two at once.
      for name in "${SERVERS[@]}"; do
        key="$name|$test|$P"
        [[ -n "${SKIP[$key]:-}" ]] && continue
        [[ "$name" == floor && "$test" == xadd ]] && continue
        ensure_running "$name"
        port=$(port_of "$name")
        pid=${SPID[$name]}
        cli "$port" flushall >/dev/null 2>&1
        out="$TMP/out.$name.$test.P$P.$rep"
        c0=$(cpu_ticks "$pid")
        if [[ "$test" == xadd ]]; then
          # no built-in xadd test in redis-benchmark 7.0: run the custom command (7.0 exits
          # on the first error reply and prints "Error from server: ..."; XLEN is checked too)
          bargs=(xadd mystream '*' field value)
        else
          bargs=(-t "$test")
        fi
        timeout "$BENCH_TIMEOUT" "${CLIENT_PIN[@]}" redis-benchmark -h "$HOST" -p "$port" -c "$BENCH_CLIENTS" -P "$P" \
          -n "$n" --csv "${bargs[@]}" >"$out" 2>&1
        rc=$?
        c1=$(cpu_ticks "$pid")
        res=$(node "$LIB" parse "$out" "$rc" "$test")
        if [[ "$test" == xadd && "$res" != n/a* ]]; then
          xlen=$(cli "$port" xlen mystream 2>/dev/null | tr -d '\r')
          if ! [[ "$xlen" =~ ^[0-9]+$ ]] || [[ "$xlen" -lt "$n" ]]; then
            res="n/a error-reply: XLEN mystream is '${xlen:0:60}' after $n XADDs"
          fi
        fi
        cpu=n/a
        if [[ -n "$c0" && -n "$c1" ]]; then
          cpu=$(awk -v a="$c0" -v b="$c1" -v t="$CLK_TCK" 'BEGIN{printf "%.4f", (b-a)/t}')
        fi
        if [[ "$res" == n/a* ]]; then
          printf '%s\t%s\t%s\t%s\t%s\tn/a\tn/a\t%s\n' "$name" "$test" "$P" "$n" "$rep" "${res#n/a }" >>"$RESULTS"
          log "$name $test -P $P rep $rep: $res"
          # Error replies / timeouts won't improve with repetition.
          SKIP[$key]=1
        else
          printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\tok\n' "$name" "$test" "$P" "$n" "$rep" "$res" "$cpu" >>"$RESULTS"
          log "$name $test -P $P rep $rep: $res ops/s, cpu ${cpu}s"
        fi
      done
    done
  done
done

node "$LIB" report "$RESULTS" "$MEM" "$INFO" "$ELEM"

# The durable cluster (mnemo up) against redis-server with and without fsync.
if [[ "${BENCH_DURABLE:-1}" == 1 ]]; then
  echo
  echo "== durable cluster (bench/durable.sh)"
  bash "$HERE/durable.sh"
fi
