// Three LogNodes in one process on ephemeral ports with their own data dirs:
// a leader emerges, proposals built with log/codec commit and every replica
// reaches the same tip; a follower refuses proposals; after the leader closes
// a new one is elected and proposals keep committing; the closed node restarts
// from its data dir on its old port and catches up. Every wait is bounded.
import { LocalCluster, leaderOf, WAIT_MS, waitFor, withTimeout } from "./testkit";
import { performance } from "node:perf_hooks";
import t from "tap";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { decodeReply, encodeCommand } from "../codec";
import type { Command, Reply } from "../state/types";
import { LogNode, NotLeaderError, type LogNodeOptions } from "./node";
import { parseLogNodeArgs } from "./node-main";

const SECRET = "node-test-secret";
const IDS = ["az-a", "az-b", "az-c"] as const;




async function propose(node: LogNode, c: Command): Promise<Reply> {
  const bytes = await withTimeout(node.propose(encodeCommand(c)), `${c.kind} on ${node.id}`);
  const d = decodeReply(bytes);
  if (!d.ok) throw new Error(`reply does not decode: ${d.error.message}`);
  return d.value;
}

t.test("three log nodes: elect, commit, fail over, restart and catch up", async (t) => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "mnemo-lognode-"));
  t.teardown(() => fs.rmSync(root, { recursive: true, force: true }));
  const opts = (id: string, port: number): LogNodeOptions => ({
    id,
    port,
    dataDir: path.join(root, id),
    secret: SECRET,
    peers: Object.fromEntries(IDS.filter((p) => p !== id).map((p) => [p, null])),
    tickMs: 10,
    electionTicks: 10,
  });
  const running = new Map<string, LogNode>();
  t.teardown(async () => {
    for (const n of running.values()) await n.close();
  });
  for (const id of IDS) running.set(id, await LogNode.start(opts(id, 0)));
  const ports = new Map([...running].map(([id, n]) => [id, n.port]));
  for (const n of running.values()) for (const [id, port] of ports) if (id !== n.id) n.setPeerAddress(id, { host: "127.0.0.1", port });
  const nodes = (): LogNode[] => [...running.values()];

  const leader1 = await waitFor("a leader", () => leaderOf(nodes()));
  t.ok(leader1, `leader ${leader1.id} elected in term ${leader1.status().term}`);

  // A follower refuses and names the leader.
  const follower = nodes().find((n) => n !== leader1) as LogNode;
  await t.rejects(follower.propose(encodeCommand({ kind: "trim", shard: "s", uptoSeq: 0 })), new NotLeaderError(leader1.id));
  // Garbage is refused before it is proposed.
  await t.rejects(leader1.propose(Buffer.from("junk")), /bad command/);

  const grant = await propose(leader1, { kind: "tryTakeLease", shard: "s", nodeId: "db-1", expectedSeq: 0, durationMs: 60_000 });
  if (grant.op !== "tryTakeLease" || grant.result.kind !== "granted") throw new Error(`lease not granted: ${JSON.stringify(grant)}`);
  const leaseId = grant.result.leaseId;
  let tip = 0;
  for (let i = 0; i < 5; i++) {
    const rep = await propose(leader1, { kind: "append", shard: "s", expectedSeq: tip, leaseId, records: [Buffer.from(`r${tip + 1}`), Buffer.from(`r${tip + 2}`)] });
    t.same(rep, { op: "append", result: { kind: "ok", lastSeq: tip + 2 } });
    tip += 2;
  }
  // Concurrent proposals in one turn share Readies (group commit); a stale expectedSeq conflicts cleanly.
  const [ok, stale] = await Promise.all([
    propose(leader1, { kind: "append", shard: "s", expectedSeq: tip, leaseId, records: [Buffer.from("x")] }),
    propose(leader1, { kind: "append", shard: "s", expectedSeq: tip, leaseId, records: [Buffer.from("y")] }),
  ]);
  t.same(ok, { op: "append", result: { kind: "ok", lastSeq: tip + 1 } });
  t.same(stale, { op: "append", result: { kind: "conflict", tip: tip + 1 } });
  tip += 1;
  const applied1 = leader1.status().applied;
  await waitFor(`every node at tip ${tip}`, () => nodes().every((n) => n.stateMachine.shard("s")?.tip === tip && n.status().applied === applied1));
  t.pass(`all three nodes at tip ${tip}, applied ${leader1.status().applied}`);

  // The leader goes away; the other two elect a new one and keep committing.
  const oldId = leader1.id;
  const oldPort = leader1.port;
  running.delete(oldId);
  await leader1.close();
  await t.rejects(leader1.propose(encodeCommand({ kind: "trim", shard: "s", uptoSeq: 0 })), /closed/);
  const leader2 = await waitFor("a new leader", () => leaderOf(nodes()));
  t.not(leader2.id, oldId, `new leader ${leader2.id} in term ${leader2.status().term}`);
  for (let i = 0; i < 3; i++) {
    const rep = await propose(leader2, { kind: "append", shard: "s", expectedSeq: tip, leaseId, records: [Buffer.from(`after-${i}`)] });
    t.same(rep, { op: "append", result: { kind: "ok", lastSeq: tip + 1 } }, "the lease survives the new term");
    tip += 1;
  }

  // The old leader restarts from its data dir on its old port and catches up.
  const back = await LogNode.start({
    ...opts(oldId, oldPort),
    peers: Object.fromEntries([...ports].filter(([id]) => id !== oldId).map(([id, port]) => [id, { host: "127.0.0.1", port }])),
  });
  running.set(oldId, back);
  t.ok(back.wal.recovery.frames > 0, `recovered ${back.wal.recovery.frames} WAL frames`);
  await waitFor(`${oldId} catches up to tip ${tip}`, () => back.stateMachine.shard("s")?.tip === tip && back.status().applied === leader2.status().applied);
  const rep = await propose(leader2, { kind: "append", shard: "s", expectedSeq: tip, leaseId, records: [Buffer.from("last")] });
  t.same(rep, { op: "append", result: { kind: "ok", lastSeq: tip + 1 } });
  tip += 1;
  const applied = leader2.status().applied;
  await waitFor(`every node at tip ${tip}`, () => nodes().every((n) => n.stateMachine.shard("s")?.tip === tip && n.status().applied === applied));
  const snaps = nodes().map((n) => n.stateMachine.snapshot());
  t.ok(
    snaps.every((s) => s.equals(snaps[0] as Buffer)),
    "all three state machines are byte-identical",
  );
});

t.test("node-main argument parsing", async (t) => {
  const a = parseLogNodeArgs(["--id", "az-a", "--port", "7001", "--peers", "az-b=127.0.0.1:7002,az-c=10.0.0.3:7003", "--data-dir", "D", "--secret-file", "F"]);
  t.same(a, {
    id: "az-a",
    host: "127.0.0.1",
    port: 7001,
    peers: { "az-b": { host: "127.0.0.1", port: 7002 }, "az-c": { host: "10.0.0.3", port: 7003 } },
    dataDir: "D",
    secretFile: "F",
    tickMs: 10,
    clientPort: null,
    azDelayMs: 0,
    compactMinBytes: null,
    walSegmentBytes: null,
    windowRecords: null,
  });
  const withClients = parseLogNodeArgs(["--id", "az-a", "--port", "7001", "--peers", "az-b=h:1", "--data-dir", "D", "--secret-file", "F", "--client-port", "7101"]);
  t.equal(withClients.clientPort, 7101);
  const delayed = parseLogNodeArgs(["--id", "az-a", "--port", "7001", "--peers", "az-b=h:1", "--data-dir", "D", "--secret-file", "F", "--az-delay-ms", "3"]);
  t.equal(delayed.azDelayMs, 3);
  t.throws(() => parseLogNodeArgs(["--id", "az-a", "--port", "7001", "--peers", "az-b=h:1", "--data-dir", "D", "--secret-file", "F", "--az-delay-ms", "-1"]), /az-delay-ms/);
  t.throws(() => parseLogNodeArgs(["--id", "az-a", "--port", "7001", "--data-dir", "D", "--secret-file", "F"]), /--peers is required/);
  t.throws(() => parseLogNodeArgs(["--id", "az-a", "--port", "x", "--peers", "az-b=h:1", "--data-dir", "D", "--secret-file", "F"]), /bad port/);
  t.throws(() => parseLogNodeArgs(["--id", "az-a", "--port", "1", "--peers", "az-a=h:1", "--data-dir", "D", "--secret-file", "F"]), /itself/);
  t.throws(() => parseLogNodeArgs(["--bogus", "1"]), /unknown option/);
});

t.test("azDelayMs delays every message between nodes", async (t) => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "mnemo-lognode-az-"));
  const cluster = new LocalCluster(root, IDS, SECRET, { azDelayMs: 25 });
  t.teardown(async () => {
    await cluster.close();
    fs.rmSync(root, { recursive: true, force: true });
  });
  await cluster.start();
  const leader = await waitFor("a leader", () => leaderOf(cluster.nodes()));
  const started = performance.now();
  const r = await propose(leader, { kind: "tryTakeLease", shard: "s", nodeId: "db-1", expectedSeq: 0, durationMs: 60_000 });
  const ms = performance.now() - started;
  t.equal(r.op, "tryTakeLease");
  // Leader -> follower and back: two delayed hops before a majority has the entry.
  t.ok(ms >= 50, `a commit took ${ms.toFixed(1)} ms (>= 2 x 25 ms)`);
});
