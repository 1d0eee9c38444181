// Node-driven compaction against three in-process log nodes with tiny limits
// (16-record windows, 32 KiB WAL segments, a compaction per 16 KiB of log):
// while a follower is down, the others append and trim and compact many
// times; their WALs stay small; the follower comes back and is caught up by a
// snapshot; a node restarted from its compacted WAL still has every untrimmed
// record (those in the record store below the window included); all three end
// byte-identical. Every wait is bounded.
import t from "tap";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { LogClient } from "../client";
import type { LogNode } from "./node";
import { LocalCluster, leaderOf, WAIT_MS, waitFor } from "./testkit";

const SECRET = "compaction-test-secret";
const IDS = ["az-a", "az-b", "az-c"] as const;
const SHARD = "c";
const N = 5000;
const KEEP = 300;
const rec = (seq: number): Buffer => Buffer.from(`${String(seq).padStart(8, "0")}:${"x".repeat(91)}`);

function walBytes(n: LogNode): number {
  return n.wal.segmentInfo().reduce((sum, s) => sum + s.size, 0);
}

/** Every record from the trim point to the tip, read from the node (window and store), checked against rec(). */
function checkRecords(n: LogNode): string | null {
  const info = n.shardInfo(SHARD);
  let seq = info.trimPoint;
  for (let i = 0; seq <= info.tip && i < N; i++) {
    const r = n.read(SHARD, seq, 64, 1 << 20);
    if (r.kind !== "records" || r.records.length === 0) return `${n.id}: read at ${seq}: ${r.kind}`;
    for (const b of r.records) {
      if (!b.equals(rec(seq))) return `${n.id}: seq ${seq} holds ${b.subarray(0, 8).toString()}`;
      seq++;
    }
  }
  return seq === info.tip + 1 ? null : `${n.id}: read stopped at ${seq}, tip ${info.tip}`;
}

t.test("compaction keeps the WAL small, survives restarts and catches a follower up by snapshot", async (t) => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "mnemo-compact-"));
  const cluster = new LocalCluster(root, IDS, SECRET, {
    windowLimits: { windowRecordsMax: 16, windowBytesMax: 1 << 20 },
    compaction: { minBytes: 16 * 1024, ratio: 1, snapshotBytesMax: 1 << 20, keepEntries: 10 },
    wal: { segmentBytes: 32 * 1024 },
  });
  await cluster.start();
  const client = new LogClient(cluster.addresses(), SECRET, { requestTimeoutMs: WAIT_MS });
  t.teardown(async () => {
    await client.close();
    await cluster.close();
    fs.rmSync(root, { recursive: true, force: true });
  });
  const leader = await waitFor("a leader", () => leaderOf(cluster.nodes()));
  const grant = await client.tryTakeLease(SHARD, "db-1", 0, 600_000);
  if (grant.kind !== "granted") throw new Error(`lease not granted: ${JSON.stringify(grant)}`);
  const down = IDS.find((id) => id !== leader.id) as string;
  const downApplied = (cluster.members.get(down) as { node: LogNode }).node.status().applied;
  await cluster.stopOne(down);

  let maxWal = 0;
  for (let next = 1; next <= N; next += 10) {
    const records = Array.from({ length: 10 }, (_, i) => rec(next + i));
    const r = await client.append(SHARD, records, { expectedSeq: next - 1, leaseId: grant.leaseId });
    if (r.kind !== "ok") throw new Error(`append at ${next}: ${JSON.stringify(r)}`);
    if ((next + 9) % 200 === 0 && next + 9 > KEEP) await client.trim(SHARD, next + 9 - KEEP);
    for (const n of cluster.nodes()) maxWal = Math.max(maxWal, walBytes(n));
  }
  const st = leader.status();
  t.ok(st.compaction.compactions >= 10, `the leader compacted ${st.compaction.compactions} times`);
  t.equal(st.compaction.blocked, null, "compaction was never held back");
  t.ok(maxWal < 200 * 1024, `no WAL grew past ${maxWal} bytes while ${N * 100} bytes of records were appended`);
  t.ok(leader.wal.storage.firstIndex() > downApplied + 1, "the leader's log no longer holds what the stopped follower lacks");

  const back = await cluster.startOne(down);
  await waitFor(`${down} catches up`, () => back.node.shardInfo(SHARD).tip === N && back.node.status().applied === leader.status().applied);
  t.ok(back.node.status().compaction.snapshotsInstalled >= 1, `${down} was caught up by a snapshot`);
  t.equal(checkRecords(back.node), null, `${down} has every untrimmed record`);

  // Restart the leader from its compacted WAL.
  const leaderId = leader.id;
  await cluster.stopOne(leaderId);
  const again = await cluster.startOne(leaderId);
  t.ok(again.node.wal.storage.snapshot().index > 0, "it restarted from a snapshot in its WAL");
  t.equal(checkRecords(again.node), null, `${leaderId} has every untrimmed record after the restart`);
  const info = again.node.stateMachine.shard(SHARD);
  t.ok(info !== null && info.windowStartSeq > info.trimPoint, "records below the window came back from the snapshot's store section");

  const l2 = await waitFor("a leader", () => leaderOf(cluster.nodes()));
  const applied = l2.status().applied;
  await waitFor("all nodes applied the same", () => cluster.nodes().every((n) => n.status().applied === applied));
  const snaps = cluster.nodes().map((n) => n.stateMachine.snapshot());
  t.ok(
    snaps.every((s) => s.equals(snaps[0] as Buffer)),
    "all three state machines are byte-identical",
  );
  for (const n of cluster.nodes()) t.equal(checkRecords(n), null, `${n.id} reads back every record`);
});
