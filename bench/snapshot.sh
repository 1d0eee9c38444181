#!/usr/bin/env bash
# Snapshots under load, mnemo against redis-server, in one run:
#   load SNAP_KEYS keys of mixed types (strings, hashes, sets, zsets, lists) into the durable
#   primary (mnemo up, 3 log nodes, 1 replica, snapshotter) and into redis-server;
#   GET/SET p99 on the primary with no snapshot, then while `mnemo snapshot now` builds one
#   (off-box, from the log); the same on redis-server without and during BGSAVE (fork);
#   the primary's RSS before and during; snapshot write throughput (file size / time) and
#   restore throughput (kill -9 the replica, the supervisor restarts it from the snapshot).
# Run from the repo root after a build:  bash bench/snapshot.sh   (npm run bench:snapshot)
#
# Environment: SNAP_KEYS keys to load [1000000], SNAP_N requests per latency run [50000],
#   SNAP_PORT [26379] (replica on +1), SNAP_LOG_PORT [26001], SNAP_REDIS_PORT [26390],
#   SNAP_ROUNDS latency rounds without a snapshot [3], SNAP_ROUNDS_MAX rounds during it at most [20],
#   BENCH_KEEP=1 keeps the temp dir.
set -u -o pipefail

K=${SNAP_KEYS:-1000000}
N=${SNAP_N:-50000}
MPORT=${SNAP_PORT:-26379}
RPORT_REPLICA=$((MPORT + 1))
LPORT=${SNAP_LOG_PORT:-26001}
RPORT=${SNAP_REDIS_PORT:-26390}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
MNEMO="$ROOT/dist/bin/mnemo.js"
BENCH_NAME=snapshot
# shellcheck source=bench/common.sh
source "$HERE/common.sh"
D="$TMP/mnemo"

now_ms() { date +%s%3N; }
info_field() { redis-cli -p "$1" info "$2" 2>/dev/null | tr -d '\r' | sed -n "s/^$3://p"; }
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null; }
role_pid() {
  node "$MNEMO" status --data-dir "$D" --json 2>/dev/null |
    node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const p=JSON.parse(s).processes.find(x=>x.role===process.argv[1]);console.log(p?p.pid:"")})' "$1"
}

# sample_rss PID OUT: writes the largest VmRSS (kB) seen every 100 ms until killed
sample_rss() {
  local max=0 v
  while :; do
    v=$(rss_kb "$1"); [[ -n "$v" && "$v" -gt "$max" ]] && { max=$v; echo "$max" >"$2"; }
    sleep 0.1
  done
}

# load PORT: SNAP_KEYS keys of mixed types (70% strings, 10% hashes, 10% sets, 5% zsets, 5% lists)
load() {
  local p=$1 s=$((K * 70 / 100)) c=$((K * 10 / 100)) z=$((K * 5 / 100))
  # -r far above -n so that nearly every request creates a new key; the key space is reported.
  redis-benchmark -p "$p" -q -c 50 -P 16 -t set -d 32 -n "$s" -r $((s * 20)) >/dev/null 2>&1 || die "string load on $p failed"
  redis-benchmark -p "$p" -q -c 50 -P 16 -n $((c * 4)) -r "$c" hset 'h:__rand_int__' 'f__rand_int__' v >/dev/null 2>&1
  redis-benchmark -p "$p" -q -c 50 -P 16 -n $((c * 4)) -r "$c" sadd 's:__rand_int__' 'm__rand_int__' >/dev/null 2>&1
  redis-benchmark -p "$p" -q -c 50 -P 16 -n $((z * 4)) -r "$z" zadd 'z:__rand_int__' '__rand_int__' 'm__rand_int__' >/dev/null 2>&1
  redis-benchmark -p "$p" -q -c 50 -P 16 -n $((z * 4)) -r "$z" rpush 'l:__rand_int__' 'v__rand_int__' >/dev/null 2>&1
}

# lat PORT -> "get_p99 set_p99 get_rps set_rps" for one GET,SET run at -c 50 -P 1
lat() {
  redis-benchmark -p "$1" -t get,set -c 50 -P 1 -n "$N" -r "$((K * 14 / 10))" -d 32 --csv 2>/dev/null | tr -d '"' |
    awk -F, '$1=="SET"{sr=$2;sp=$7} $1=="GET"{gr=$2;gp=$7} END{print gp, sp, gr, sr}'
}

node "$MNEMO" up --data-dir "$D" --port "$MPORT" --log-port "$LPORT" --replicas 1 \
  --snapshot-every-records 1000000000 >"$TMP/mnemo-up.log" 2>&1 &
PIDS+=($!)
mkdir -p "$TMP/redis"
redis-server --port "$RPORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$TMP/redis" >"$TMP/redis.log" 2>&1 &
RPID=$!
PIDS+=("$RPID")
wait_ping "$RPORT"
for _ in $(seq 300); do grep -q "Mnemo is up" "$TMP/mnemo-up.log" && break; sleep 0.1; done
grep -q "Mnemo is up" "$TMP/mnemo-up.log" || { cat "$TMP/mnemo-up.log" >&2; die "mnemo up did not start"; }
PPID_M=$(role_pid primary)
[[ -n "$PPID_M" ]] || die "no primary in mnemo status"

t0=$(now_ms); load "$MPORT"; t1=$(now_ms)
load "$RPORT"
MKEYS=$(redis-cli -p "$MPORT" dbsize); RKEYS=$(redis-cli -p "$RPORT" dbsize)
echo "loaded: mnemo $MKEYS keys (in $(((t1 - t0) / 1000)) s), redis $RKEYS keys  (SNAP_KEYS=$K; strings 70%, hash/set 10% each, zset/list 5% each)"

# --- mnemo: no snapshot, then during `snapshot now`
# A snapshot of a big dataset outlasts one latency run, so the primary is
# measured in rounds: SNAP_ROUNDS rounds without a snapshot, then rounds back
# to back for as long as the snapshot runs (at most SNAP_ROUNDS_MAX); each
# side reports the median of its rounds' p99s (and of their requests/s).
ROUNDS=${SNAP_ROUNDS:-3}
ROUNDS_MAX=${SNAP_ROUNDS_MAX:-20}
median() { sort -g | awk '{v[NR]=$1} END{if (NR==0) print "n/a"; else if (NR%2) print v[(NR+1)/2]; else printf "%.3f\n", (v[NR/2]+v[NR/2+1])/2}'; }
# summarize FILE -> "gp sp gr sr" medians over the rounds in FILE (lines "gp sp gr sr")
summarize() {
  local f=$1
  echo "$(awk '{print $1}' "$f" | median) $(awk '{print $2}' "$f" | median) $(awk '{print $3}' "$f" | median) $(awk '{print $4}' "$f" | median)"
}
RSS_BEFORE=$(rss_kb "$PPID_M")
echo "$RSS_BEFORE" >"$TMP/rss-before"
sample_rss "$PPID_M" "$TMP/rss-before" & SAMPLER=$!
: >"$TMP/rounds-before"
for _ in $(seq "$ROUNDS"); do lat "$MPORT" >>"$TMP/rounds-before"; done
kill "$SAMPLER" 2>/dev/null; wait "$SAMPLER" 2>/dev/null
RSS_MAX0=$(cat "$TMP/rss-before")
read -r M_GP0 M_SP0 M_GR0 M_SR0 <<<"$(summarize "$TMP/rounds-before")"
# The rounds' SETs add keys (-r spans more than the loaded keys), so RSS grows
# with or without a snapshot: compare the growth per round of the two phases.
RSS_AFTER0=$(rss_kb "$PPID_M")
sample_rss "$PPID_M" "$TMP/rss-during" & SAMPLER=$!
echo "$RSS_AFTER0" >"$TMP/rss-during"
ts=$(now_ms)
( node "$MNEMO" snapshot now --data-dir "$D" --timeout-ms 600000 >"$TMP/snapnow.out" 2>&1; echo $? >"$TMP/snapnow.rc"; echo "$(now_ms)" >"$TMP/snapnow.end" ) &
SNAPJOB=$!
: >"$TMP/rounds-during"
DURING_ROUNDS=0
tb=$ts
while [[ ! -f "$TMP/snapnow.end" && $DURING_ROUNDS -lt $ROUNDS_MAX ]]; do
  r=$(lat "$MPORT")
  # only a round that ended before the snapshot did ran entirely during it
  if [[ ! -f "$TMP/snapnow.end" ]]; then echo "$r" >>"$TMP/rounds-during"; DURING_ROUNDS=$((DURING_ROUNDS + 1)); tb=$(now_ms); fi
done
[[ $DURING_ROUNDS -gt 0 ]] || die "the snapshot finished before one latency round could run during it (use a bigger SNAP_KEYS)"
read -r M_GP1 M_SP1 M_GR1 M_SR1 <<<"$(summarize "$TMP/rounds-during")"
wait "$SNAPJOB"
kill "$SAMPLER" 2>/dev/null; wait "$SAMPLER" 2>/dev/null
RSS_DURING=$(cat "$TMP/rss-during")
[[ "$(cat "$TMP/snapnow.rc")" == 0 ]] || { cat "$TMP/snapnow.out" >&2; die "snapshot now failed"; }
SNAP_WALL=$(($(cat "$TMP/snapnow.end") - ts))
OVERLAP=$(( (tb < $(cat "$TMP/snapnow.end") ? tb : $(cat "$TMP/snapnow.end")) - ts ))
SNAPFILE=$(ls -t "$D"/snapshots/*.mnsnap | head -1)
SNAP_BYTES=$(stat -c %s "$SNAPFILE")
PUB=$(grep "published $(basename "$SNAPFILE")" "$D/logs/snapshotter-0.log" | tail -1)
SNAP_MS=$(echo "$PUB" | sed -n 's/.* in \([0-9]*\) ms.*/\1/p')

# --- redis: no BGSAVE, then during BGSAVE
R_RSS_BEFORE=$(rss_kb "$RPID")
read -r R_GP0 R_SP0 R_GR0 R_SR0 <<<"$(lat "$RPORT")"
sample_rss "$RPID" "$TMP/rrss-during" & SAMPLER=$!
echo "$R_RSS_BEFORE" >"$TMP/rrss-during"
rs=$(now_ms)
redis-cli -p "$RPORT" bgsave >/dev/null
( while [[ "$(info_field "$RPORT" persistence rdb_bgsave_in_progress)" != 0 ]]; do sleep 0.05; done; echo "$(now_ms)" >"$TMP/bgsave.end" ) &
BGJOB=$!
read -r R_GP1 R_SP1 R_GR1 R_SR1 <<<"$(lat "$RPORT")"
wait "$BGJOB"
kill "$SAMPLER" 2>/dev/null; wait "$SAMPLER" 2>/dev/null
R_RSS_DURING=$(cat "$TMP/rrss-during")
BGSAVE_MS=$(($(cat "$TMP/bgsave.end") - rs))
RDB_BYTES=$(stat -c %s "$TMP/redis/dump.rdb" 2>/dev/null || echo 0)

# --- restore: kill -9 the replica; the supervisor restarts it from the newest snapshot
REPL_PID=$(role_pid replica)
[[ -n "$REPL_PID" ]] || die "no replica in mnemo status"
RLOG="$D/logs/shard0-$RPORT_REPLICA.log"
BEFORE_LINES=$(wc -l <"$RLOG")
PRIMARY_SEQ=$(info_field "$MPORT" replication mnemo_applied_seq)
k0=$(now_ms)
kill -9 "$REPL_PID"
CAUGHT=""
for _ in $(seq 6000); do
  s=$(info_field "$RPORT_REPLICA" replication mnemo_applied_seq)
  if [[ -n "$s" && "$s" -ge "$PRIMARY_SEQ" ]] && [[ "$(role_pid replica)" != "$REPL_PID" ]]; then CAUGHT=$(now_ms); break; fi
  sleep 0.1
done
[[ -n "$CAUGHT" ]] || die "the restarted replica did not catch up with seq $PRIMARY_SEQ"
CATCHUP_MS=$((CAUGHT - k0))
RESTORED=$(tail -n +"$((BEFORE_LINES + 1))" "$RLOG" | grep "restored .* keys" | tail -1)
[[ -n "$RESTORED" ]] || RESTORED=$(grep "restored .* keys" "$RLOG" | tail -1)
REST_KEYS=$(echo "$RESTORED" | sed -n 's/.*restored \([0-9]*\) keys.*/\1/p')
REST_MS=$(echo "$RESTORED" | sed -n 's/.* in \([0-9]*\) ms.*/\1/p')

mbps() { awk -v b="$1" -v ms="$2" 'BEGIN{ if (ms > 0) printf "%.1f", b / 1048576 / (ms / 1000); else print "n/a" }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
mb() { awk -v k="$1" 'BEGIN{ printf "%.0f MB", k / 1024 }'; }

echo
echo "GET/SET -c 50 -P 1 -n $N, p99 ms (requests/s)"
printf '%-36s %18s %18s\n' "run" "GET p99 (rps)" "SET p99 (rps)"
printf '%-36s %18s %18s\n' "mnemo primary, no snapshot" "$M_GP0 ($M_GR0)" "$M_SP0 ($M_SR0)"
printf '%-36s %18s %18s\n' "mnemo primary, during snapshot now" "$M_GP1 ($M_GR1)" "$M_SP1 ($M_SR1)"
printf '%-36s %18s %18s\n' "redis-server, no BGSAVE" "$R_GP0 ($R_GR0)" "$R_SP0 ($R_SR0)"
printf '%-36s %18s %18s\n' "redis-server, during BGSAVE" "$R_GP1 ($R_GR1)" "$R_SP1 ($R_SR1)"
echo
echo "primary p99 during snapshot / without: GET $(ratio "$M_GP1" "$M_GP0")x, SET $(ratio "$M_SP1" "$M_SP0")x   (target <= 1.10)"
echo "redis   p99 during BGSAVE   / without: GET $(ratio "$R_GP1" "$R_GP0")x, SET $(ratio "$R_SP1" "$R_SP0")x"
echo "mnemo rows: medians of $ROUNDS rounds without and of the $DURING_ROUNDS rounds that ran entirely during the snapshot ($OVERLAP ms of its $SNAP_WALL ms)"
echo "RSS: mnemo primary $(mb "$RSS_BEFORE") before the rounds; max $(mb "$RSS_MAX0") during the $ROUNDS rounds without a snapshot (+$(( (RSS_MAX0 - RSS_BEFORE) / 1024 / ROUNDS )) MB per round), $(mb "$RSS_AFTER0") after them; max $(mb "$RSS_DURING") during the $DURING_ROUNDS rounds with one (+$(( (RSS_DURING - RSS_AFTER0) / 1024 / (DURING_ROUNDS > 0 ? DURING_ROUNDS : 1) )) MB per round); redis-server (parent) $(mb "$R_RSS_BEFORE") before, $(mb "$R_RSS_DURING") max during (+ fork child)"
echo "snapshot write: $SNAP_BYTES bytes in $SNAP_MS ms (snapshotter log) = $(mbps "$SNAP_BYTES" "$SNAP_MS") MB/s; 'snapshot now' wall $SNAP_WALL ms = $(mbps "$SNAP_BYTES" "$SNAP_WALL") MB/s"
echo "redis BGSAVE: $RDB_BYTES bytes in ~$BGSAVE_MS ms = $(mbps "$RDB_BYTES" "$BGSAVE_MS") MB/s"
echo "restore: replica restored $REST_KEYS keys in $REST_MS ms = $(mbps "$SNAP_BYTES" "$REST_MS") MB/s; kill -9 -> caught up with seq $PRIMARY_SEQ in $CATCHUP_MS ms"
echo "  ($RESTORED)"
