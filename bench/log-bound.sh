#!/usr/bin/env bash
# Is the log's size on disk bounded by the snapshot thresholds under a steady write load?
#
# Starts `mnemo up` (3 log nodes, a primary, a replica, the snapshotter) on a temp data dir,
# runs a steady, modest write load (three redis-benchmark clients, one connection each:
# SET of 2000-byte values, LPUSH and HSET, all on random keys) for LOG_BOUND_SECONDS, and
# every 10 s samples: the on-disk size of each log node's data dir (WAL segments, Raft
# snapshot files), of the snapshot store, the shard's tip and trim point, and each log
# node's compaction state (size of its Raft snapshot, entry bytes since it). At the end it
# prints the largest log node dir against the bound derived from the thresholds and exits
# 0 (bounded) or 1.
#
# The bound, per log node (docs/snapshots.md explains it):
#   untrimmed records U  <= (every_records + trim_margin + lag) * record_bytes
#                           lag = records appended during one snapshotter round
#                           (1 s tick + the time to write and verify one snapshot)
#   Raft snapshot S      <= U + 1 MiB (leases, windows, metadata)
#   WAL entries          <= 1.25 * max(compact_min_bytes, ratio * S)    (compaction threshold,
#                           up to 25% random jitter; ratio = 1)
#   segment granularity  +  2 * 16 MiB (the segment holding the compaction point and the
#                           preallocated spare)
#   Raft snapshot files  +  2 * S (the current <index>.snap and the one being written)
#   bound = 1.25 * max(64 MiB, S) + 32 MiB + 2 * S
# record_bytes is measured (growth of a node's entry bytes since its snapshot over the tip's
# growth, between samples with no compaction); lag = the highest record rate (over a sample
# interval) times one round
# (the 1 s tick plus the longest write-and-verify time in the snapshotter's log). The snapshot
# store holds at most keep (3) snapshots plus the one being written, each the dataset's size.
#
# Run from the repo root after a build:  bash bench/log-bound.sh   (npm run bench:log-bound)
# Environment: LOG_BOUND_SECONDS [600], LOG_BOUND_PORT [27379] (replica on +1),
#   LOG_BOUND_LOG_PORT [27001] (raft +100, snapshotter +200),
#   LOG_BOUND_EVERY_RECORDS [20000], LOG_BOUND_TRIM_MARGIN [1000], LOG_BOUND_CLIENTS [1]
#   (connections per redis-benchmark), LOG_BOUND_SAMPLES_OUT=FILE copies the samples (TSV) there,
#   BENCH_KEEP=1 keeps the temp dir (samples.tsv, logs).
set -u -o pipefail

SECS=${LOG_BOUND_SECONDS:-600}
PORT=${LOG_BOUND_PORT:-27379}
LPORT=${LOG_BOUND_LOG_PORT:-27001}
EVERY=${LOG_BOUND_EVERY_RECORDS:-20000}
MARGIN=${LOG_BOUND_TRIM_MARGIN:-1000}
CLIENTS=${LOG_BOUND_CLIENTS:-1}
SAMPLE_S=10
COMPACT_MIN_BYTES=$((64 * 1024 * 1024))
SEGMENT_BYTES=$((16 * 1024 * 1024))
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
MNEMO="$ROOT/dist/bin/mnemo.js"
BENCH_NAME=log-bound
# shellcheck source=bench/common.sh
source "$HERE/common.sh"
D="$TMP/data"
SAMPLES="$TMP/samples.tsv"

dir_bytes() { du -sb "$1" 2>/dev/null | cut -f1; }

# One sample line: tip trimPoint then, per log node, "snapshotBytes bytesSinceSnapshot compactions".
probe() {
  node -e '
    const path = require("path"), fs = require("fs");
    const { LogClient } = require(path.join(process.argv[1], "dist/log/client.js"));
    const st = JSON.parse(fs.readFileSync(path.join(process.argv[2], "cluster.json"), "utf8"));
    const secret = fs.readFileSync(path.join(process.argv[2], "secret"), "utf8").trim();
    (async () => {
      let tip = "-", trim = "-";
      const per = [];
      for (const p of st.processes.filter((x) => x.kind === "log")) {
        const c = new LogClient([{ id: p.name, host: st.host, port: p.port }], secret, { requestTimeoutMs: 2000, connectTimeoutMs: 2000 });
        try {
          const s = await c.status();
          const sh = (s.shards || []).find((x) => x.shard === 0);
          if (sh && (tip === "-" || sh.tip > tip)) { tip = sh.tip; trim = sh.trimPoint; }
          per.push(`${s.compaction.snapshotBytes} ${s.compaction.bytesSinceSnapshot} ${s.compaction.compactions + s.compaction.snapshotsInstalled}`);
        } catch (e) { per.push("- - -"); }
        await c.close();
      }
      console.log([tip, trim, ...per].join(" "));
    })().then(() => process.exit(0), () => { console.log("- -"); process.exit(0); });
  ' "$ROOT" "$D" 2>/dev/null
}

# summarize DATA_DIR SAMPLES: the verdict from the samples and the snapshotter's log; exit status 0 = bounded.
summarize() {
  local D=$1 SAMPLES=$2 SNAPLOG PUBLISHED TRIMS ROUND_MS SNAP_MAX
  SNAPLOG="$D/logs/snapshotter-0.log"
  PUBLISHED=$(grep -c "published snapshot-" "$SNAPLOG")
  TRIMS=$(grep -c "trimmed the log" "$SNAPLOG")
  # Snapshot write+verify time (ms), the longest one.
  ROUND_MS=$(sed -n 's/.*verified, in \([0-9]*\) ms.*/\1/p' "$SNAPLOG" | sort -n | tail -1)
  SNAP_MAX=$(ls -l "$D"/snapshots/*.mnsnap 2>/dev/null | awk '{print $5}' | sort -n | tail -1)

  awk -F'\t' -v every="$EVERY" -v margin="$MARGIN" -v cmin="$COMPACT_MIN_BYTES" -v seg="$SEGMENT_BYTES" \
    -v secs="$SECS" -v round_ms="${ROUND_MS:-0}" -v published="$PUBLISHED" -v trims="$TRIMS" -v snapmax="${SNAP_MAX:-0}" '
    function mb(x) { return sprintf("%.1f MB", x / 1048576) }
    NR == 1 { next }
    {
      n++; t[n] = $1; tip[n] = $2; trim[n] = $3
      if ($4 > store) store = $4
      for (i = 5; i <= 7; i++) if ($i > logmax) { logmax = $i; logmax_t = $1; logmax_node = i - 5 }
      for (j = 0; j < 3; j++) {
        sn = $(8 + 3 * j); since = $(9 + 3 * j); comp = $(10 + 3 * j)
        if (sn != "-" && sn > smax) smax = sn
        # entry bytes per record: growth of bytesSinceSnapshot over tip growth, no compaction between
        if (n > 1 && comp == pcomp[j] && since != "-" && psince[j] != "-" && tip[n] > tip[n - 1]) {
          rb_bytes += since - psince[j]; rb_recs += tip[n] - tip[n - 1]
        }
        psince[j] = since; pcomp[j] = comp; lastcomp[j] = comp
      }
      if (trim[n] != "-" && tip[n] != "-" && tip[n] - trim[n] > untrimmed) untrimmed = tip[n] - trim[n]
    if (n > 1 && t[n] > t[n - 1] && (tip[n] - tip[n - 1]) / (t[n] - t[n - 1]) > maxrate) maxrate = (tip[n] - tip[n - 1]) / (t[n] - t[n - 1])
    }
    END {
      rate = (tip[n] - tip[1]) / (t[n] - t[1] > 0 ? t[n] - t[1] : 1)
      rec = rb_recs > 0 ? rb_bytes / rb_recs : 0
      lag = maxrate * (1 + round_ms / 1000)
      U = (every + margin + lag) * rec
      S = U + 1048576
      W = 1.25 * (S > cmin ? S : cmin)
      bound = W + 2 * seg + 2 * S
      printf "\nsamples: %d over %d s; shard tip %s -> %s (%.0f records/s, at most %.0f/s over 10 s); %s snapshots published, %s trims\n", n, t[n], tip[1], tip[n], rate, maxrate, published, trims
      printf "log records: %.0f entry bytes each (measured); records appended in the run: %s (%s of entries)\n", rec, tip[n] - tip[1], mb((tip[n] - tip[1]) * rec)
      printf "untrimmed records: max %d (thresholds allow every %d + margin %d + lag %.0f = %.0f)\n", untrimmed, every, margin, lag, every + margin + lag
      printf "Raft snapshot: max %s observed, %s allowed (S = untrimmed bytes + 1 MiB)\n", mb(smax), mb(S)
      printf "bound per log node = 1.25*max(64 MiB, S) + 2*16 MiB + 2*S = %s + %s + %s = %s\n", mb(W), mb(2 * seg), mb(2 * S), mb(bound)
      printf "largest log node dir: %s (az-%s at t=%s s)\n", mb(logmax), substr("abc", logmax_node + 1, 1), logmax_t
      printf "snapshot store: max %s; largest snapshot %s\n", mb(store), mb(snapmax)
      ok = logmax <= bound && untrimmed <= every + margin + lag && smax <= S
      printf "RESULT: %s\n", ok ? "PASS (the log stays below the bound)" : "FAIL (the log exceeded the bound)"
      exit ok ? 0 : 1
    }' "$SAMPLES"
}

# `bash bench/log-bound.sh --summary DIR`: the verdict again for a run kept with BENCH_KEEP=1.
if [[ "${1:-}" == --summary ]]; then
  [[ -f "${2:-}/samples.tsv" ]] || die "no samples.tsv in '${2:-}'"
  summarize "$2/data" "$2/samples.tsv"
  exit $?
fi

node "$MNEMO" up --data-dir "$D" --port "$PORT" --log-port "$LPORT" --replicas 1 \
  --snapshot-every-records "$EVERY" --snapshot-trim-margin "$MARGIN" >"$TMP/mnemo-up.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 600); do grep -q "Mnemo is up" "$TMP/mnemo-up.log" && break; sleep 0.1; done
grep -q "Mnemo is up" "$TMP/mnemo-up.log" || { cat "$TMP/mnemo-up.log" >&2; die "mnemo up did not start"; }
echo "log-bound: mnemo up on $D (port $PORT, log ports $LPORT..), every $EVERY records, trim margin $MARGIN; load for $SECS s"

# Steady load: -n far beyond what the run can do; stopped at the deadline.
BIG=1000000000
redis-benchmark -p "$PORT" -c "$CLIENTS" -P 1 -n "$BIG" -r 10000 -d 2000 -t set -q >/dev/null 2>&1 &
L1=$!
redis-benchmark -p "$PORT" -c "$CLIENTS" -P 1 -n "$BIG" -r 10000 -q lpush 'l:__rand_int__' 'v__rand_int__' >/dev/null 2>&1 &
L2=$!
redis-benchmark -p "$PORT" -c "$CLIENTS" -P 1 -n "$BIG" -r 10000 -q hset 'h:__rand_int__' 'f__rand_int__' 'v__rand_int__' >/dev/null 2>&1 &
L3=$!
PIDS+=("$L1" "$L2" "$L3")

printf 't_s\ttip\ttrim\tstore_bytes\taz-a_bytes\taz-b_bytes\taz-c_bytes\taz-a_snap\taz-a_since\taz-a_compactions\taz-b_snap\taz-b_since\taz-b_compactions\taz-c_snap\taz-c_since\taz-c_compactions\n' >"$SAMPLES"
start=$(date +%s)
next=$start
while :; do
  now=$(date +%s)
  t=$((now - start))
  read -r -a P <<<"$(probe)"
  row="$t\t${P[0]:--}\t${P[1]:--}\t$(dir_bytes "$D/snapshots")"
  for id in az-a az-b az-c; do row="$row\t$(dir_bytes "$D/log/$id")"; done
  for i in 2 5 8; do row="$row\t${P[$i]:--}\t${P[$((i + 1))]:--}\t${P[$((i + 2))]:--}"; done
  printf "$row\n" >>"$SAMPLES"
  printf "$row\n" | awk -F'\t' '{printf "  t=%4ss tip %-8s trim %-8s store %6.1f MB  log dirs %6.1f %6.1f %6.1f MB\n", $1, $2, $3, $4/1048576, $5/1048576, $6/1048576, $7/1048576}'
  [[ $t -ge $SECS ]] && break
  for pid in "$L1" "$L2" "$L3"; do kill -0 "$pid" 2>/dev/null || die "a load generator (pid $pid) stopped early"; done
  next=$((next + SAMPLE_S))
  sleep $((next > now ? next - now : 1))
done
kill "$L1" "$L2" "$L3" 2>/dev/null

summarize "$D" "$SAMPLES"
RC=$?
cp "$SAMPLES" "${LOG_BOUND_SAMPLES_OUT:-/dev/null}" 2>/dev/null
exit "$RC"
