// Three real `mnemo log` processes on loopback. A client appends while the log
// leader is killed with SIGKILL (then restarted from its data dir), and later a
// follower: every acknowledged append is present exactly once, in order. A
// tail started on a follower keeps going while that follower is frozen with
// SIGSTOP (it moves to another node) and through the kills: it delivers every
// record exactly once, in order.
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import t from "tap";
import { LogClient, type ClientAppendResult } from "../log/client";
import { TailStream } from "../log/io/tail-client";
import { MNEMO_JS, ROOT } from "./support/server";

const IDS = ["az-a", "az-b", "az-c"] as const;
const PEER_PORT_BASE = 17311;
const CLIENT_PORT_BASE = 17321;
const SHARD = "s";
const N = 100;
const START_MS = 10_000;
const rec = (seq: number): Buffer => Buffer.from(`r${seq}`);

interface Proc {
  child: ChildProcess;
  exited: Promise<void>;
}

function startNode(root: string, i: number, extra: readonly string[] = [], portShift = 0): Promise<Proc> {
  const id = IDS[i] as string;
  const peers = IDS.map((p, j) => [p, j] as const)
    .filter(([p]) => p !== id)
    .map(([p, j]) => `${p}=127.0.0.1:${PEER_PORT_BASE + portShift + j}`)
    .join(",");
  const args = [MNEMO_JS, "log", "--id", id, "--port", String(PEER_PORT_BASE + portShift + i), "--peers", peers];
  args.push("--data-dir", path.join(root, id), "--secret-file", path.join(root, "secret"), "--client-port", String(CLIENT_PORT_BASE + portShift + i), ...extra);
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  let out = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${id} did not start: ${out}`)), START_MS);
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes("listening on")) {
        clearTimeout(timer);
        resolve({ child, exited });
      }
    });
    child.stderr?.on("data", (d: Buffer) => (out += d.toString()));
  });
}

async function kill9(p: Proc): Promise<void> {
  if (p.child.pid !== undefined && p.child.exitCode === null) process.kill(p.child.pid, "SIGKILL");
  await p.exited;
}

/** Three nodes in `root` and a client of them; the test's teardown kills them and removes root. */
interface Cluster {
  procs: (Proc | null)[];
  client: LogClient;
  addrs: { id: string; host: string; port: number }[];
}

async function startCluster(t: { teardown(fn: () => Promise<void>): void }, root: string, extra: readonly string[] = [], portShift = 0): Promise<Cluster> {
  fs.writeFileSync(path.join(root, "secret"), "test-secret\n");
  const procs: (Proc | null)[] = [];
  for (let i = 0; i < IDS.length; i++) procs.push(await startNode(root, i, extra, portShift));
  const addrs = IDS.map((id, i) => ({ id, host: "127.0.0.1", port: CLIENT_PORT_BASE + portShift + i }));
  const client = new LogClient(addrs, "test-secret", { requestTimeoutMs: 15_000 });
  t.teardown(async () => {
    await client.close();
    for (const p of procs) if (p !== null) await kill9(p);
    fs.rmSync(root, { recursive: true, force: true });
  });
  return { procs, client, addrs };
}

t.test("kill -9 of the log leader, then of a follower, loses no acknowledged append", async (t) => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "mnemo-logproc-"));
  const { procs, client, addrs } = await startCluster(t, root);

  const grant = await client.tryTakeLease(SHARD, "db-1", 0, 600_000);
  if (grant.kind !== "granted") throw new Error(`lease not granted: ${JSON.stringify(grant)}`);
  const tailed: number[] = [];
  const tailProblems: string[] = [];
  const frozen = (IDS.indexOf(client.currentNode as (typeof IDS)[number]) + 1) % IDS.length;
  const tail = new TailStream(
    addrs,
    "test-secret",
    SHARD,
    1,
    {
      onRecords: (first, records) => {
        if (first !== tailed.length + 1) tailProblems.push(`batch at ${first} after ${tailed.length}`);
        records.forEach((r, i) => (r.equals(rec(first + i)) ? tailed.push(first + i) : tailProblems.push(`seq ${first + i}: ${r.toString()}`)));
      },
      onError: (e) => tailProblems.push(e.message),
    },
    { connectTimeoutMs: 1000, idleTimeoutMs: 1000, firstNode: frozen },
  );
  t.teardown(() => tail.close());
  const acked = new Set<number>();
  let killedLeader = -1;
  let next = 1;
  for (let round = 0; next <= N && round < 10 * N; round++) {
    if (next === 10 && tail.currentNode === IDS[frozen] && procs[frozen] !== null) {
      process.kill((procs[frozen] as Proc).child.pid as number, "SIGSTOP");
      const deadline = Date.now() + START_MS;
      while (tail.currentNode === IDS[frozen] && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      t.not(tail.currentNode, IDS[frozen], `the tail left the frozen node ${IDS[frozen]} for ${tail.currentNode}`);
      process.kill((procs[frozen] as Proc).child.pid as number, "SIGCONT");
    }
    if (next === 30 && killedLeader < 0) {
      killedLeader = IDS.indexOf(client.currentNode as (typeof IDS)[number]);
      await kill9(procs[killedLeader] as Proc);
      procs[killedLeader] = null;
    }
    if (next === 55 && killedLeader >= 0 && procs[killedLeader] === null) {
      procs[killedLeader] = await startNode(root, killedLeader);
    }
    if (next === 70 && killedLeader >= 0) {
      // Kill a follower: a node that is neither the client's current leader nor the restarted one's slot.
      const current = IDS.indexOf(client.currentNode as (typeof IDS)[number]);
      const victim = [0, 1, 2].find((i) => i !== current && i !== killedLeader) ?? (current + 1) % 3;
      await kill9(procs[victim] as Proc);
      procs[victim] = null;
      killedLeader = -2; // done with faults
    }
    let r: ClientAppendResult | Error;
    try {
      r = await client.append(SHARD, [rec(next)], { expectedSeq: next - 1, leaseId: grant.leaseId });
    } catch (e) {
      r = e as Error;
    }
    if (r instanceof Error) continue; // outcome unknown: the next attempt tells
    if (r.kind === "ok") {
      acked.add(next);
      next++;
    } else if (r.kind === "conflictAfterRetry" || r.kind === "conflict") {
      t.equal(r.tip, next, `a retried append of ${next} had applied exactly once`);
      next = r.tip + 1;
    } else {
      throw new Error(`append ${next}: ${JSON.stringify(r)}`);
    }
  }
  t.equal(next, N + 1, "all appends done");
  t.equal(killedLeader, -2, "the leader and then a follower were killed with SIGKILL");

  const all: Buffer[] = [];
  let from = 1;
  for (let i = 0; from <= N && i < 200; i++) {
    const r = await client.read(SHARD, from, 50);
    if (r.kind !== "records") throw new Error(`read ${from}: ${JSON.stringify(r)}`);
    all.push(...r.records);
    from += r.records.length;
    if (r.records.length === 0) break;
  }
  t.equal(all.length, N, "exactly N records: nothing lost, nothing doubled");
  t.equal(
    all.findIndex((b, i) => !b.equals(rec(i + 1))),
    -1,
    "record at seq s is r<s>, in order",
  );
  t.ok(acked.size > N / 2, `most appends were acknowledged directly (${acked.size})`);
  const deadline = Date.now() + START_MS;
  while (tailed.length < N && tailProblems.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  t.same(tailProblems, [], "the tail saw no gap, repeat or wrong record");
  t.equal(tailed.length, N, `the tail delivered all ${N} records (${tail.connects} connections)`);
});

const COMPACT_ARGS = ["--compact-min-bytes", "16384", "--wal-segment-bytes", "32768", "--window-records", "16"];
const SHIFT = 40;
const N2 = 3000;
const KEEP = 300;
const rec2 = (seq: number): Buffer => Buffer.from(`${String(seq).padStart(8, "0")}:${"y".repeat(91)}`);

function walBytesOnDisk(dir: string): number {
  if (!fs.existsSync(dir)) return 0;
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".wal"))
    .reduce((n, f) => n + (fs.statSync(path.join(dir, f), { throwIfNoEntry: false })?.size ?? 0), 0); // a segment may go as we look
}

t.test("kill -9 while nodes compact: every node keeps every acknowledged, untrimmed record", async (t) => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "mnemo-logcompact-"));
  const { procs, client, addrs } = await startCluster(t, root, COMPACT_ARGS, SHIFT);
  const grant = await client.tryTakeLease(SHARD, "db-1", 0, 600_000);
  if (grant.kind !== "granted") throw new Error(`lease not granted: ${JSON.stringify(grant)}`);
  let next = 1;
  let kills = 0;
  let maxWal = 0;
  let victim = -1;
  let lastTrim = 0;
  for (let round = 0; next <= N2 && round < 10 * N2; round++) {
    if (victim < 0 && next > 400 && Math.floor(next / 500) > kills) {
      // Alternate between the leader and a follower.
      const leader = IDS.indexOf(client.currentNode as (typeof IDS)[number]);
      victim = kills % 2 === 0 ? leader : (leader + 1) % 3;
      await kill9(procs[victim] as Proc);
      procs[victim] = null;
      kills++;
    } else if (victim >= 0 && next % 500 > 200) {
      procs[victim] = await startNode(root, victim, COMPACT_ARGS, SHIFT);
      victim = -1;
    }
    const records = Array.from({ length: Math.min(10, N2 - next + 1) }, (_, i) => rec2(next + i));
    let r: ClientAppendResult | Error;
    try {
      r = await client.append(SHARD, records, { expectedSeq: next - 1, leaseId: grant.leaseId });
    } catch (e) {
      r = e as Error;
    }
    if (r instanceof Error) continue;
    if (r.kind === "ok") next = r.lastSeq + 1;
    else if (r.kind === "conflictAfterRetry" || r.kind === "conflict") next = r.tip + 1;
    else throw new Error(`append ${next}: ${JSON.stringify(r)}`);
    if (next > KEEP + 1 && (next - 1) % 200 === 0) {
      await client.trim(SHARD, next - 1 - KEEP);
      lastTrim = next - 1 - KEEP;
    }
    for (const id of IDS) maxWal = Math.max(maxWal, walBytesOnDisk(path.join(root, id)));
  }
  if (victim >= 0) procs[victim] = await startNode(root, victim, COMPACT_ARGS, SHIFT);
  t.equal(next, N2 + 1, "all appends done");
  t.ok(kills >= 4, `${kills} nodes were killed with SIGKILL and restarted`);
  t.ok(maxWal < 400 * 1024, `WALs stayed small (largest ${maxWal} bytes; ${N2 * 100} bytes of records appended)`);

  for (const [i, id] of IDS.entries()) {
    const one = new LogClient([addrs[i] as (typeof addrs)[number]], "test-secret", { requestTimeoutMs: 15_000 });
    try {
      const deadline = Date.now() + START_MS;
      // A follower applies the last trim once it learns its commit (the leader's next heartbeat).
      let info = await one.shardInfo(SHARD, { from: id });
      while ((info.tip < N2 || info.trimPoint <= lastTrim) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
        info = await one.shardInfo(SHARD, { from: id });
      }
      t.equal(info.tip, N2, `${id} reached the tip`);
      t.equal(info.trimPoint, lastTrim + 1, `${id} applied the last trim`);
      let seq = info.trimPoint;
      let wrong = 0;
      for (let k = 0; seq <= N2 && k < N2; k++) {
        const r = await one.read(SHARD, seq, 500);
        if (r.kind !== "records" || r.records.length === 0) break;
        for (const b of r.records) if (!b.equals(rec2(seq++))) wrong++;
      }
      t.equal(seq, N2 + 1, `${id} holds every record from its trim point ${info.trimPoint} on`);
      t.equal(wrong, 0, `${id}: every record is the one appended at its seq`);
    } finally {
      await one.close();
    }
  }
});
