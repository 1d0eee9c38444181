// LogClient against three in-process LogNodes with client listeners: leader
// discovery, a lease, 200 pipelined appends with the leader closed mid-way
// (every acknowledged append present exactly once, in order), a retried
// append whose first reply was lost reported as conflictAfterRetry with the
// tip, and a client with the wrong secret refused. Every wait is bounded.
import { leaderOf, WAIT_MS, waitFor, withTimeout } from "./io/testkit";
import t from "tap";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { type ClientAppendResult, LogClient, LogClientError } from "./client";
import { type ClientListener, OP_PROPOSE, startClientListener } from "./io/client-listener";
import { LogNode } from "./io/node";

const SECRET = "client-test-secret";
const IDS = ["az-a", "az-b", "az-c"] as const;
const SHARD = "s";
const N = 200;
const WINDOW = 8;




const rec = (seq: number): Buffer => Buffer.from(`r${seq}`);

t.test("log client: discovery, pipelined appends across a failover, retries that never double-apply", async (t) => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "mnemo-logclient-"));
  t.teardown(() => fs.rmSync(root, { recursive: true, force: true }));
  const running = new Map<string, { node: LogNode; listener: ClientListener }>();
  const dropNextPropose = new Set<string>();
  const clients: LogClient[] = [];
  t.teardown(async () => {
    for (const c of clients) await c.close();
    for (const { node, listener } of running.values()) {
      await listener.close();
      await node.close();
    }
  });
  for (const id of IDS) {
    const node = await LogNode.start({
      id,
      port: 0,
      dataDir: path.join(root, id),
      secret: SECRET,
      peers: Object.fromEntries(IDS.filter((p) => p !== id).map((p) => [p, null])),
      tickMs: 10,
      electionTicks: 10,
    });
    const listener = await startClientListener(node, {
      port: 0,
      secret: SECRET,
      dropReply: (op) => op === OP_PROPOSE && dropNextPropose.delete(id),
    });
    running.set(id, { node, listener });
  }
  for (const { node: n } of running.values()) for (const { node: p } of running.values()) if (p !== n) n.setPeerAddress(p.id, { host: "127.0.0.1", port: p.port });
  const nodes = (): LogNode[] => [...running.values()].map((r) => r.node);
  const addrs = [...running.values()].map((r) => ({ id: r.node.id, host: "127.0.0.1", port: r.listener.port }));

  const leader1 = await waitFor("a leader", () => leaderOf(nodes()));
  t.pass(`leader ${leader1.id}`);

  // A client with the wrong secret never gets an answer.
  const bad = new LogClient(addrs, "wrong-secret", { requestTimeoutMs: 500, connectTimeoutMs: 200 });
  clients.push(bad);
  await t.rejects(bad.status(), LogClientError, "the wrong secret is refused");

  // Start at a follower so discovery has to follow a hint.
  const start = addrs.findIndex((a) => a.id !== leader1.id);
  const client = new LogClient([...addrs.slice(start), ...addrs.slice(0, start)], SECRET, { requestTimeoutMs: WAIT_MS });
  clients.push(client);
  const grant = await client.tryTakeLease(SHARD, "db-1", 0, 60_000);
  if (grant.kind !== "granted") throw new Error(`lease not granted: ${JSON.stringify(grant)}`);
  t.equal(client.currentNode, leader1.id, "the client found the leader");
  const leaseId = grant.leaseId;

  // 200 appends, one record each, WINDOW in flight; the leader is closed once past the middle.
  const acked = new Set<number>();
  let next = 1;
  let killed = false;
  let afterRetry = 0;
  let rounds = 0;
  let closing: Promise<void> = Promise.resolve();
  while (next <= N) {
    if (++rounds > 500) throw new Error("too many rounds");
    const seqs: number[] = [];
    for (let s = next; s <= Math.min(N, next + WINDOW - 1); s++) seqs.push(s);
    const ps = seqs.map((s) => client.append(SHARD, [rec(s)], { expectedSeq: s - 1, leaseId }).catch((e: unknown) => e as Error));
    if (!killed && next > N / 2) {
      killed = true;
      const victim = running.get(leader1.id) as { node: LogNode; listener: ClientListener };
      running.delete(leader1.id);
      closing = victim.node.close().then(() => victim.listener.close());
    }
    const results = await withTimeout(Promise.all(ps), `appends ${seqs[0]}..${seqs[seqs.length - 1]}`);
    let tip = next - 1;
    results.forEach((r: ClientAppendResult | Error, i) => {
      const s = seqs[i] as number;
      if (r instanceof Error) return;
      if (r.kind === "ok") {
        if (r.lastSeq !== s) throw new Error(`append ${s} acknowledged at ${r.lastSeq}`);
        acked.add(s);
        tip = Math.max(tip, s);
      } else if (r.kind === "conflictAfterRetry") {
        afterRetry++;
        tip = Math.max(tip, r.tip);
      } else if (r.kind === "conflict") tip = Math.max(tip, r.tip);
      else throw new Error(`append ${s}: ${JSON.stringify(r)}`);
    });
    if (results.some((r) => r instanceof Error)) {
      const rr = await client.read(SHARD, N + 1000, 1);
      tip = Math.max(tip, rr.tip);
    }
    next = tip + 1;
  }
  await withTimeout(closing, "closing the old leader");
  t.ok(client.retries > 0, `the failover made the client retry (${client.retries} retries)`);
  t.ok(killed, "the leader was closed mid-way");
  const leader2 = await waitFor("a new leader", () => leaderOf(nodes()));
  t.not(leader2.id, leader1.id, `new leader ${leader2.id}`);
  t.ok(acked.size > 0, `${acked.size} appends acknowledged ok, ${afterRetry} reported conflictAfterRetry, ${rounds} rounds`);

  // A reply lost after the append applied: the retry reports the conflict with the tip.
  dropNextPropose.add(leader2.id);
  const lost = await client.append(SHARD, [rec(N + 1)], { expectedSeq: N, leaseId });
  t.same(lost, { kind: "conflictAfterRetry", tip: N + 1, recordsIn: true }, "retried append reported as conflictAfterRetry");
  t.notOk(dropNextPropose.has(leader2.id), "the reply really was dropped");
  // A stale append that never applied is a plain conflict.
  t.same(await client.append(SHARD, [Buffer.from("stale")], { expectedSeq: N - 5, leaseId }), { kind: "conflict", tip: N + 1 });

  // Read everything back: r1..r201, each once, in order.
  const all: Buffer[] = [];
  let from = 1;
  for (let i = 0; from <= N + 1 && i < 100; i++) {
    const r = await client.read(SHARD, from, 37);
    if (r.kind !== "records") throw new Error(`read ${from}: ${JSON.stringify(r)}`);
    t.equal(r.firstSeq, from);
    all.push(...r.records);
    from += r.records.length;
    if (r.records.length === 0) break;
  }
  t.equal(all.length, N + 1, "the shard holds exactly N+1 records");
  const bad2 = all.findIndex((b, i) => !b.equals(rec(i + 1)));
  t.equal(bad2, -1, "record at seq s is r<s>");
  t.ok(
    [...acked].every((s) => all[s - 1]?.equals(rec(s))),
    "every acknowledged append is present at its seq",
  );
  t.same(await client.renewLease(SHARD, leaseId), { kind: "ok" });
  t.same(await client.trim(SHARD, 10), { kind: "ok", trimPoint: 11 });
  const tr = await client.read(SHARD, 5, 1);
  t.same(tr, { kind: "trimmed", trimPoint: 11, tip: N + 1 });
  const st = await client.status();
  t.equal(st["role"], "leader");
});
