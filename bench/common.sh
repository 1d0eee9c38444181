# Shared by bench/durable.sh and bench/snapshot.sh (sourced): a temp dir, the
# pids of what the bench started (stopped on exit, SIGKILL after 10 s), and a
# wait for a server to answer PING. The caller sets BENCH_NAME first.
TMP=$(mktemp -d "${TMPDIR:-/tmp}/mnemo-${BENCH_NAME}.XXXXXX")
PIDS=()

cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null
  done
  if [[ "${BENCH_KEEP:-0}" == 1 ]]; then echo "$BENCH_NAME bench: logs in $TMP" >&2; else rm -rf "$TMP"; fi
}
trap cleanup EXIT

die() { echo "$BENCH_NAME bench: $*" >&2; exit 1; }

wait_ping() {
  for _ in $(seq 300); do
    [[ "$(redis-cli -p "$1" ping 2>/dev/null)" == PONG ]] && return 0
    sleep 0.1
  done
  die "nothing answers on port $1"
}
