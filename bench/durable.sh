#!/usr/bin/env bash
# The durable cluster side by side with redis-server, in one run:
#   mnemo up (3 log nodes, primary, 1 replica)       -> SET (durable) and GET on the primary
#   redis-server, persistence off                     -> SET and GET
#   redis-server, appendonly yes + appendfsync always -> SET
# redis-benchmark -c 50 at -P 1 and -P 16; requests/s and p50/p99 latency (ms).
# Run from the repo root after a build:  bash bench/durable.sh   (npm run bench runs it last)
#
# Environment: DURABLE_N requests per run at -P 1 (x4 at -P 16) [100000],
#   DURABLE_REPS runs per test (best rps kept) [2], DURABLE_PORT [6394],
#   DURABLE_LOG_PORT [7401], REDIS_PORT_PLAIN [6392], REDIS_PORT_AOF [6393], BENCH_KEEP=1.
set -u -o pipefail

N=${DURABLE_N:-100000}
REPS=${DURABLE_REPS:-2}
MPORT=${DURABLE_PORT:-6394}
LPORT=${DURABLE_LOG_PORT:-7401}
RPLAIN=${REDIS_PORT_PLAIN:-6392}
RAOF=${REDIS_PORT_AOF:-6393}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
BENCH_NAME=durable
# shellcheck source=bench/common.sh
source "$HERE/common.sh"

redis-server --port "$RPLAIN" --bind 127.0.0.1 --save '' --appendonly no --dir "$TMP" >"$TMP/redis-plain.log" 2>&1 &
PIDS+=($!)
mkdir -p "$TMP/aof"
redis-server --port "$RAOF" --bind 127.0.0.1 --save '' --appendonly yes --appendfsync always --dir "$TMP/aof" >"$TMP/redis-aof.log" 2>&1 &
PIDS+=($!)
node "$ROOT/dist/bin/mnemo.js" up --data-dir "$TMP/mnemo" --port "$MPORT" --log-port "$LPORT" --replicas 1 >"$TMP/mnemo-up.log" 2>&1 &
PIDS+=($!)
wait_ping "$RPLAIN"
wait_ping "$RAOF"
for _ in $(seq 300); do grep -q "Mnemo is up" "$TMP/mnemo-up.log" && break; sleep 0.1; done
grep -q "Mnemo is up" "$TMP/mnemo-up.log" || { echo "durable bench: mnemo up did not start" >&2; cat "$TMP/mnemo-up.log" >&2; exit 1; }

# run PORT TEST PIPELINE -> "rps p50 p99" (best rps of REPS runs)
run() {
  local port=$1 test=$2 p=$3 n=$N best="" line rps
  [[ $p -gt 1 ]] && n=$((N * 4))
  for _ in $(seq "$REPS"); do
    line=$(redis-benchmark -p "$port" -t "$test" -n "$n" -c 50 -P "$p" -r 100000 --csv 2>/dev/null | tail -1 | tr -d '"')
    rps=$(echo "$line" | cut -d, -f2)
    if [[ -z "$best" ]] || awk -v a="$rps" -v b="${best%% *}" 'BEGIN{exit !(a>b)}'; then
      best="$rps $(echo "$line" | cut -d, -f5) $(echo "$line" | cut -d, -f7)"
    fi
  done
  echo "$best"
}

printf '%-34s %12s %9s %9s\n' "run (-c 50)" "requests/s" "p50 ms" "p99 ms"
declare -A R
for p in 1 16; do
  for spec in "mnemo-durable:$MPORT:set" "redis-plain:$RPLAIN:set" "redis-aof-always:$RAOF:set" "mnemo-durable:$MPORT:get" "redis-plain:$RPLAIN:get"; do
    IFS=: read -r name port test <<<"$spec"
    r=$(run "$port" "$test" "$p")
    R["$name/$test/$p"]=$r
    read -r rps p50 p99 <<<"$r"
    printf '%-34s %12s %9s %9s\n' "$name ${test^^} -P $p" "$rps" "$p50" "$p99"
  done
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
f() { echo "${R[$1]}" | cut -d' ' -f"$2"; }
echo
echo "durable SET -P 1  vs redis SET (no persistence): $(ratio "$(f mnemo-durable/set/1 1)" "$(f redis-plain/set/1 1)")x   (target >= 0.62)"
echo "durable SET -P 16 vs redis SET (appendfsync always): $(ratio "$(f mnemo-durable/set/16 1)" "$(f redis-aof-always/set/16 1)")x   (target >= 0.5)"
echo "durable SET p50 -P 1 vs redis appendfsync always p50: $(f mnemo-durable/set/1 2) vs $(f redis-aof-always/set/1 2) ms   (target: no worse)"
echo "GET on the primary -P 1 vs redis GET: $(ratio "$(f mnemo-durable/get/1 1)" "$(f redis-plain/get/1 1)")x   (target >= 0.9)"
echo "GET on the primary -P 16 vs redis GET: $(ratio "$(f mnemo-durable/get/16 1)" "$(f redis-plain/get/16 1)")x"
