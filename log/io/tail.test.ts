// Tails (OP_TAIL) and shardInfo against three in-process log nodes with tiny
// in-memory windows (so older records come from the record store): a tail
// started on a follower keeps delivering while that follower stops, comes
// back, and the leader stops; it gets every record exactly once, in order,
// without gaps. A tail below the trim point is told so; shardInfo and the
// status JSON report tip, trim point and lease. Every wait is bounded.
import t from "tap";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { LogClient } from "../client";
import { LocalCluster, leaderOf, waitFor, withTimeout, WAIT_MS } from "./testkit";
import { TailStream } from "./tail-client";
import type { LogNodeStatus } from "./node";

const SECRET = "tail-test-secret";
const IDS = ["az-a", "az-b", "az-c"] as const;
const SHARD = 7;
const N = 300;
const rec = (seq: number): Buffer => Buffer.from(`rec-${seq}`);

interface Collected {
  seqs: number[];
  bad: string[];
}

function collector(): { c: Collected; onRecords: (first: number, records: readonly Buffer[]) => void } {
  const c: Collected = { seqs: [], bad: [] };
  return {
    c,
    onRecords: (first, records) => {
      const want = (c.seqs[c.seqs.length - 1] ?? first - 1) + 1;
      if (first !== want) c.bad.push(`batch at ${first}, expected ${want}`);
      if (records.length === 0) c.bad.push(`empty batch at ${first}`);
      records.forEach((r, i) => {
        if (!r.equals(rec(first + i))) c.bad.push(`seq ${first + i} holds ${r.toString()}`);
        c.seqs.push(first + i);
      });
    },
  };
}

async function setup(t: { teardown(f: () => unknown): void }): Promise<{ cluster: LocalCluster; client: LogClient; leaseId: number }> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "mnemo-tail-"));
  const cluster = new LocalCluster(root, IDS, SECRET, { windowLimits: { windowRecordsMax: 16, windowBytesMax: 1 << 20 } });
  await cluster.start();
  const client = new LogClient(cluster.addresses(), SECRET, { requestTimeoutMs: WAIT_MS, tailIdleTimeoutMs: 1000 });
  t.teardown(async () => {
    await client.close();
    await cluster.close();
    fs.rmSync(root, { recursive: true, force: true });
  });
  await waitFor("a leader", () => leaderOf(cluster.nodes()));
  const grant = await client.tryTakeLease(SHARD, "db-1", 0, 60_000);
  if (grant.kind !== "granted") throw new Error(`lease not granted: ${JSON.stringify(grant)}`);
  return { cluster, client, leaseId: grant.leaseId };
}

/** Appends rec(from)..rec(to), 10 per append, retrying through failovers. */
async function appendUpTo(client: LogClient, leaseId: number, from: number, to: number): Promise<void> {
  let next = from;
  for (let round = 0; next <= to; round++) {
    if (round > 10 * (to - from + 10)) throw new Error("too many rounds");
    const n = Math.min(10, to - next + 1);
    const records = Array.from({ length: n }, (_, i) => rec(next + i));
    const r = await client.append(SHARD, records, { expectedSeq: next - 1, leaseId }).catch((e: unknown) => e as Error);
    if (r instanceof Error) continue;
    if (r.kind === "ok") next = r.lastSeq + 1;
    else if (r.kind === "conflict" || r.kind === "conflictAfterRetry") next = r.tip + 1;
    else throw new Error(`append at ${next}: ${JSON.stringify(r)}`);
  }
}

t.test("a tail delivers every record once, in order, while its node and the leader stop", async (t) => {
  const { cluster, client, leaseId } = await setup(t);
  await appendUpTo(client, leaseId, 1, 50);
  const leader = await waitFor("a leader", () => leaderOf(cluster.nodes()));
  const followerIdx = IDS.findIndex((id) => id !== leader.id);
  const follower = IDS[followerIdx] as string;

  const a = collector();
  const stream = new TailStream(cluster.addresses(), SECRET, SHARD, 1, { onRecords: a.onRecords }, { connectTimeoutMs: 1000, idleTimeoutMs: 1000, firstNode: followerIdx });
  t.teardown(() => stream.close());
  const b = collector();
  const pub = client.tail(SHARD, 40, { onRecords: b.onRecords, onError: (e) => b.c.bad.push(e.message) });
  t.teardown(() => pub.close());

  await waitFor("the tail reads records 1..50 (most from the store)", () => a.c.seqs.length >= 50);
  t.equal(stream.currentNode, follower, `the tail reads from follower ${follower}`);

  await appendUpTo(client, leaseId, 51, 120);
  await cluster.stopOne(follower);
  await appendUpTo(client, leaseId, 121, 180);
  await waitFor("the tail moves on", () => a.c.seqs.length >= 180);
  t.not(stream.currentNode, follower, `the tail moved to ${stream.currentNode}`);
  await cluster.startOne(follower);
  await appendUpTo(client, leaseId, 181, 220);
  await waitFor(`${follower} catches up`, () => cluster.members.get(follower)?.node.stateMachine.shard(SHARD)?.tip === 220);
  await cluster.stopOne(leader.id);
  await appendUpTo(client, leaseId, 221, N);

  await waitFor(`both tails reach ${N}`, () => a.c.seqs.length >= N && b.c.seqs.length >= N - 39);
  await new Promise((r) => setTimeout(r, 100)); // nothing more may arrive
  t.same(a.c.bad, [], "tail from 1: no gap, no repeat, right contents");
  t.same(a.c.seqs, Array.from({ length: N }, (_, i) => i + 1), "tail from 1: exactly 1..N");
  t.same(b.c.bad, [], "tail from 40: no gap, no repeat, right contents");
  t.same(b.c.seqs, Array.from({ length: N - 39 }, (_, i) => i + 40), "tail from 40: exactly 40..N");
  t.ok(stream.connects >= 2, `the tail reconnected (${stream.connects} connections)`);
});

t.test("trimmed tails, shardInfo and per-shard status", async (t) => {
  const { cluster, client, leaseId } = await setup(t);
  await appendUpTo(client, leaseId, 1, 30);

  const info = await client.shardInfo(SHARD);
  t.equal(info.tip, 30);
  t.equal(info.trimPoint, 1);
  t.same(info.lease, { holder: "db-1", leaseId, epoch: 1 });
  t.ok(info.leaseRemainingMs > 50_000 && info.leaseRemainingMs <= 60_000, `lease remaining ${info.leaseRemainingMs} ms`);
  t.same(await client.shardInfo("no-such-shard"), { tip: 0, trimPoint: 1, lease: null, leaseRemainingMs: 0 });
  const leader = await waitFor("a leader", () => leaderOf(cluster.nodes()));
  const follower = IDS.find((id) => id !== leader.id) as string;
  await waitFor("the follower applies seq 30", () => cluster.members.get(follower)?.node.shardInfo(SHARD).tip === 30);
  const finfo = await client.shardInfo(SHARD, { from: follower });
  t.equal(finfo.tip, 30, "a follower answers with its own view");
  t.same(finfo.lease, { holder: "db-1", leaseId, epoch: 1 });
  await t.rejects(client.shardInfo(SHARD, { from: "nobody" }), /no node/);

  t.same(await client.trim(SHARD, 10), { kind: "ok", trimPoint: 11 });
  // The tail may start on any node: a follower learns of the trim with the leader's next message.
  await waitFor("every node applies the trim", () => IDS.every((id) => cluster.members.get(id)?.node.shardInfo(SHARD).trimPoint === 11));
  const trimmed = await withTimeout(
    new Promise<[number, number]>((resolve, reject) => {
      client.tail(SHARD, 5, {
        onRecords: (first) => reject(new Error(`records at ${first} below the trim point`)),
        onTrimmed: (trimPoint, tip) => resolve([trimPoint, tip]),
      });
    }),
    "a tail below the trim point",
  );
  t.same(trimmed, [11, 30], "onTrimmed(trimPoint, tip)");
  t.throws(() => client.tail(SHARD, 0, { onRecords: () => {} }), RangeError, "fromSeq 0 is refused");

  const st = (await client.status()) as unknown as LogNodeStatus;
  t.same(st.shards, [{ shard: SHARD, tip: 30, trimPoint: 11, leaseHolder: "db-1", leaseId, epoch: 1 }], "status lists the shard");
});
