// The simulator's own parts: the PRNG, the agenda, the faulty disk, the
// record format, and that each checker really fires on the violation it is
// named after (a checker that never fires proves nothing).
import t from "tap";
import { TestNet } from "../raft/testnet";
import type { Entry } from "../raft/types";
import { MemoryStorage } from "../raft/storage";
import { SimApp } from "./app";
import { Checker } from "./checker";
import { SimDisk } from "./disk";
import { Agenda } from "./events";
import { Prng } from "./prng";
import { checkpointOf, encodeRecord, recoverStorage } from "./records";
import { runSim } from "./sim";

const VIOLATION = { name: "Error", message: /./ };
const ent = (index: number, term: number, data = `${index}/${term}`): Entry => ({ index, term, kind: "normal", data: Buffer.from(data) });

t.test("the PRNG is deterministic per seed, uniform enough, and forks independent streams", async (t) => {
  const a = new Prng(42);
  const b = new Prng(42);
  const xs = Array.from({ length: 1000 }, () => a.int(10));
  t.same(xs, Array.from({ length: 1000 }, () => b.int(10)));
  const counts = new Array(10).fill(0) as number[];
  for (const x of xs) counts[x] = (counts[x] ?? 0) + 1;
  t.ok(counts.every((c) => c > 60 && c < 140), `buckets ${counts.join(",")}`);
  t.not(new Prng(43).u32(), new Prng(42).u32());
  const f = new Prng(7).fork();
  t.not(f.u32(), new Prng(7).u32(), "a fork is not the parent's stream");
});

t.test("the agenda pops by time, then in scheduling order", async (t) => {
  const ag = new Agenda<string>(100);
  ag.schedule(5, "c");
  ag.schedule(1, "a");
  ag.schedule(5, "d");
  ag.schedule(1, "b");
  const out: string[] = [];
  for (let e = ag.pop(); e !== null; e = ag.pop()) out.push(e);
  t.same(out, ["a", "b", "c", "d"]);
  t.equal(ag.nowUs, 5);
  t.throws(() => ag.schedule(4, "past"), { name: "AssertionError" });
});

t.test("the disk keeps synced writes, a prefix of unsynced ones, and recovery drops a torn frame", async (t) => {
  let torn = 0;
  let lostSome = 0;
  for (let seed = 1; seed <= 200; seed++) {
    const d = new SimDisk();
    d.write(Buffer.from("one"));
    d.write(Buffer.from("two"));
    d.sync();
    for (let i = 0; i < 4; i++) d.write(Buffer.from(`unsynced-${i}`));
    const rep = d.crash(new Prng(seed));
    const got = d.recover().map((b) => b.toString());
    t.same(got.slice(0, 2), ["one", "two"], `seed ${seed}: synced frames survive`);
    t.same(got.slice(2), ["unsynced-0", "unsynced-1", "unsynced-2", "unsynced-3"].slice(0, got.length - 2), "a prefix of the rest");
    if (rep.torn) torn++;
    if (rep.lostFrames > 0) lostSome++;
    d.write(Buffer.from("after"));
    t.equal(d.recover().map((b) => b.toString()).pop(), "after", "writes after recovery are readable (the torn tail was cut)");
  }
  t.ok(torn > 20 && lostSome > 100, `torn ${torn} times, lost frames ${lostSome} times in 200 crashes`);
});

t.test("replaying the records rebuilds the storage, checkpoints included", async (t) => {
  const s = new MemoryStorage();
  const payloads: Buffer[] = [];
  const write = (entries: Entry[], term: number, commit: number): void => {
    s.append(entries);
    s.setHardState({ term, vote: "n1", commit });
    payloads.push(encodeRecord({ kind: "ready", hardState: s.hardState(), snapshot: null, entries }));
  };
  write([ent(1, 1), ent(2, 1), ent(3, 1)], 1, 0);
  write([ent(3, 2), ent(4, 2)], 2, 2);
  const r1 = recoverStorage(payloads);
  t.same(r1.entries(1, 5, Infinity).map((e) => e.term), [1, 1, 2, 2]);
  t.same(r1.hardState(), { term: 2, vote: "n1", commit: 2 });
  s.createSnapshot(3, Buffer.from("state"));
  s.compact(2);
  const r2 = recoverStorage([encodeRecord(checkpointOf(s))]);
  t.equal(r2.snapshot().index, 3);
  t.equal(r2.lastIndex(), 4);
  t.equal(r2.term(4), 2);
});

t.test("the state machine's snapshot carries its state exactly", async (t) => {
  const app = new SimApp();
  for (let i = 1; i <= 5; i++) app.apply(ent(i, 1));
  const copy = SimApp.decode(app.encode());
  t.equal(copy.index, 5);
  t.equal(copy.hash(), app.hash());
  copy.apply(ent(6, 1, "x"));
  app.apply(ent(6, 1, "y"));
  t.not(copy.hash(), app.hash(), "different entries, different states");
  t.throws(() => app.apply(ent(9, 1)), { name: "AssertionError" }, "applies are contiguous");
});

t.test("checkers fire: election safety, log matching, vote once, state machine safety", async (t) => {
  const a = new TestNet(["n1", "n2", "n3"]);
  const b = new TestNet(["n1", "n2", "n3"]);
  a.campaign("n1");
  a.stabilize();
  b.campaign("n2");
  b.stabilize();
  t.throws(() => new Checker().afterStep([a.raft("n1"), b.raft("n2")]), { ...VIOLATION, message: /election safety/ });

  const c = new Checker();
  c.onReadyEntries("n1", [ent(1, 1, "a"), ent(2, 1, "b")], 0);
  t.throws(() => c.onReadyEntries("n2", [ent(2, 1, "other")], 1), { ...VIOLATION, message: /log matching/ });
  t.throws(() => c.onReadyEntries("n3", [ent(2, 1, "b")], 3), { ...VIOLATION, message: /log matching/ }, "same entry, other predecessor");

  c.onVoteGranted("n3", 4, "n1");
  c.onVoteGranted("n3", 4, "n1");
  t.throws(() => c.onVoteGranted("n3", 4, "n2"), { ...VIOLATION, message: /vote once per term/ });

  c.onApply("n1", ent(1, 1, "a"), 111);
  t.throws(() => c.onApply("n2", ent(1, 1, "z"), 111), { ...VIOLATION, message: /state machine safety/ });
  t.throws(() => c.onApply("n2", ent(1, 1, "a"), 222), { ...VIOLATION, message: /state machine safety/ });
  t.throws(() => c.onSnapshotInstalled("n3", 1, 333), { ...VIOLATION, message: /state machine safety/ });
});

t.test("checkers fire: leader completeness and leader append-only", async (t) => {
  const a = new TestNet(["n1", "n2", "n3"]);
  a.campaign("n1");
  a.stabilize();
  a.propose("n1", "x");
  a.stabilize();
  const b = new TestNet(["n1", "n2", "n3"]);
  b.load("n3", [], 5);
  b.dropIf = (m) => m.kind === "app"; // n3 wins, but its no-op never commits
  b.campaign("n3");
  b.stabilize();
  t.equal(b.raft("n3").role.kind, "leader");
  const c = new Checker();
  c.afterStep([a.raft("n1")]);
  t.throws(() => c.afterStep([a.raft("n1"), b.raft("n3")]), { ...VIOLATION, message: /leader completeness/ }, "a later leader without a committed entry");

  const d = new Checker();
  const net = new TestNet(["n1", "n2", "n3"]);
  net.campaign("n1");
  net.stabilize();
  net.propose("n1", "y");
  net.propose("n1", "w");
  d.afterStep([net.raft("n1")]);
  net.raft("n1").log.append([ent(2, 1, "z")]); // tamper: the leader rewrites its log
  t.throws(() => d.afterStep([net.raft("n1")]), { ...VIOLATION, message: /leader append-only/ });
});

t.test("a failing run is a value that names its replay command", async (t) => {
  const r = runSim(3, { livenessBoundMs: 0, plan: { faultPhaseMs: 50 } });
  t.notOk(r.ok);
  t.match(r.failure, /liveness/);
  t.equal(r.replay, "mnemo sim --seed 3");
});
