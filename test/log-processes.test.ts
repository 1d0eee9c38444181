// Three real `mnemo log` processes on loopback. A client appends while the log
// leader is killed with SIGKILL (then restarted from its data dir), and later a
// follower: every acknowledged append is present exactly once, in order.
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import t from "tap";
import { LogClient, type ClientAppendResult } from "../log/client";
import { MNEMO_JS, ROOT } from "./support/server";

const IDS = ["az-a", "az-b", "az-c"] as const;
const PEER_PORT_BASE = 7311;
const CLIENT_PORT_BASE = 7321;
const SHARD = "s";
const N = 100;
const START_MS = 10_000;
const rec = (seq: number): Buffer => Buffer.from(`r${seq}`);

interface Proc {
  child: ChildProcess;
  exited: Promise<void>;
}

function startNode(root: string, i: number): Promise<Proc> {
  const id = IDS[i] as string;
  const peers = IDS.map((p, j) => [p, j] as const)
    .filter(([p]) => p !== id)
    .map(([p, j]) => `${p}=127.0.0.1:${PEER_PORT_BASE + j}`)
    .join(",");
  const args = [MNEMO_JS, "log", "--id", id, "--port", String(PEER_PORT_BASE + i), "--peers", peers];
  args.push("--data-dir", path.join(root, id), "--secret-file", path.join(root, "secret"), "--client-port", String(CLIENT_PORT_BASE + i));
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

t.test("kill -9 of the log leader, then of a follower, loses no acknowledged append", async (t) => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "mnemo-logproc-"));
  fs.writeFileSync(path.join(root, "secret"), "test-secret\n");
  const procs: (Proc | null)[] = [];
  for (let i = 0; i < IDS.length; i++) procs.push(await startNode(root, i));
  const addrs = IDS.map((id, i) => ({ id, host: "127.0.0.1", port: CLIENT_PORT_BASE + i }));
  const client = new LogClient(addrs, "test-secret", { requestTimeoutMs: 15_000 });
  t.teardown(async () => {
    await client.close();
    for (const p of procs) if (p !== null) await kill9(p);
    fs.rmSync(root, { recursive: true, force: true });
  });

  const grant = await client.tryTakeLease(SHARD, "db-1", 0, 600_000);
  if (grant.kind !== "granted") throw new Error(`lease not granted: ${JSON.stringify(grant)}`);
  const acked = new Set<number>();
  let killedLeader = -1;
  let next = 1;
  for (let round = 0; next <= N && round < 10 * N; round++) {
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
});
