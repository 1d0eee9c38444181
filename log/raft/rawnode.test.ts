// The RawNode contract (persist, then send, then apply, then advance) and
// the features around the core protocol: flow control, snapshots and
// compaction, proposal limits, restarts.
import t from "tap";
import { RawNode } from "./rawnode";
import { MemoryStorage } from "./storage";
import { testConfig, TestNet } from "./testnet";
import type { Message } from "./types";

const IDS3 = ["n1", "n2", "n3"];

function elect(net: TestNet, id: string): void {
  net.campaign(id);
  net.stabilize();
}

t.test("Ready: the messages go with the state they depend on, which must be synced first", async (t) => {
  const net = new TestNet(IDS3);
  elect(net, "n1");
  const n2 = net.node("n2");
  const before = n2.readies.length;
  net.propose("n1", "hello");
  net.deliverRound();
  const rd = n2.readies[before];
  t.ok(rd, "n2 produced a Ready");
  t.equal(rd?.entries.length, 1, "with the new entry to persist");
  t.equal(rd?.mustSync, true, "synchronously");
  t.match(rd?.messages, [{ kind: "app-resp", index: 2, reject: false }], "and the acknowledgement, sent only after that");
  net.stabilize();
  net.tick("n1");
  net.stabilize();
  const commitOnly = n2.readies.find((r) => r.entries.length === 0 && r.hardState !== null && r.hardState.commit === 2);
  t.ok(commitOnly, "a Ready that only moves the commit index");
  t.equal(commitOnly?.mustSync, false, "does not need an fsync");
});

t.test("Ready: one at a time, and advance() checks that storage holds what the Ready asked for", async (t) => {
  const s = new MemoryStorage();
  const rn = new RawNode(testConfig("a", ["a"]), s);
  rn.campaign();
  const rd = rn.ready();
  t.throws(() => rn.ready(), { name: "AssertionError" }, "no second Ready before advance()");
  t.throws(() => rn.advance(), { name: "AssertionError" }, "advance() before the hard state is stored");
  t.same(rd.hardState, { term: 1, vote: "a", commit: 0 });
  s.setHardState(rd.hardState ?? { term: 0, vote: null, commit: 0 });
  t.equal(rn.status().role, "candidate", "our own vote counts only once it is durable");
  rn.advance();
  t.equal(rn.status().role, "leader");
});

t.test("Ready: the leader counts its own entries only after persisting them", async (t) => {
  const s = new MemoryStorage();
  const rn = new RawNode(testConfig("a", ["a"]), s);
  const cycle = (): void => {
    const rd = rn.ready();
    if (rd.hardState !== null) s.setHardState(rd.hardState);
    s.append(rd.entries);
    rn.advance();
  };
  rn.campaign();
  cycle();
  t.equal(rn.status().role, "leader");
  t.equal(rn.status().lastIndex, 1, "the no-op is appended");
  t.equal(rn.status().commit, 0, "but not committed while it is only in memory");
  cycle();
  t.equal(rn.status().commit, 1, "committed once persisted");
  const rd = rn.ready();
  t.match(rd.committedEntries, [{ index: 1, kind: "noop" }], "and handed out to apply");
});

t.test("a follower or candidate refuses proposals and names the leader it knows", async (t) => {
  const net = new TestNet(IDS3);
  elect(net, "n1");
  t.same(net.propose("n2", "x"), { kind: "not-leader", leader: "n1" });
  const lone = new TestNet(IDS3);
  lone.campaign("n3");
  t.same(lone.propose("n3", "x"), { kind: "not-leader", leader: null });
});

t.test("flow control: at most inflightMsgsMax appends in flight to a follower", async (t) => {
  const net = new TestNet(IDS3, { inflightMsgsMax: 2 });
  elect(net, "n1");
  net.cut("n2", "n1"); // n2's acknowledgements are lost
  for (let i = 0; i < 10; i++) net.propose("n1", `p${i}`);
  const toN2 = net.queue.filter((m) => m.kind === "app" && m.to === "n2" && m.entries.length > 0);
  t.equal(toN2.length, 2, "two appends, then the window is full");
  t.equal(net.queue.filter((m) => m.kind === "app" && m.to === "n3" && m.entries.length > 0).length, 2);
  net.stabilize();
  t.equal(net.raft("n1").log.committed, 11, "n3 alone makes a quorum with the leader");
  net.heal();
  for (let i = 0; i < 5; i++) {
    net.tick("n1");
    net.stabilize();
  }
  t.equal(net.raft("n2").log.lastIndex(), 11, "heartbeat responses reopen the window and n2 catches up");
});

t.test("flow control: the window is also bounded in bytes", async (t) => {
  const net = new TestNet(IDS3, { inflightMsgsMax: 100, inflightBytesMax: 250 });
  elect(net, "n1");
  net.cut("n2", "n1");
  net.cut("n3", "n1");
  for (let i = 0; i < 10; i++) net.propose("n1", "x".repeat(100));
  const sent = net.queue.filter((m): m is Extract<Message, { kind: "app" }> => m.kind === "app" && m.to === "n2" && m.entries.length > 0);
  t.equal(sent.length, 3, "124 + 124 < 250 <= 372 bytes: the third message fills the window");
});

t.test("flow control: proposals are dropped when too many bytes wait uncommitted", async (t) => {
  const net = new TestNet(IDS3, { uncommittedBytesMax: 300 });
  elect(net, "n1");
  net.isolate("n1");
  const results = Array.from({ length: 5 }, () => net.propose("n1", "y".repeat(100)).kind);
  t.same(results, ["ok", "ok", "dropped", "dropped", "dropped"]);
  net.heal();
  net.tick("n1");
  net.stabilize();
  t.equal(net.propose("n1", "z").kind, "ok", "accepted again once they commit");
});

t.test("a follower behind the compaction point is caught up by a snapshot", async (t) => {
  const net = new TestNet(IDS3);
  elect(net, "n1");
  net.isolate("n3");
  for (let i = 0; i < 20; i++) net.propose("n1", `e${i}`);
  net.stabilize();
  const n1 = net.node("n1");
  const applied = n1.applied[n1.applied.length - 1]?.index ?? 0;
  t.equal(applied, 21);
  n1.storage.createSnapshot(applied, Buffer.from(`state@${applied}`));
  n1.storage.compact(applied - 2);
  net.heal();
  let snaps = 0;
  net.dropIf = (m) => {
    if (m.kind === "snap") snaps++;
    return false;
  };
  for (let i = 0; i < 3; i++) {
    net.tick("n1");
    net.stabilize();
  }
  t.equal(snaps, 1, "one snapshot sent");
  const installed = net.node("n3").readies.find((r) => r.snapshot !== null)?.snapshot;
  t.equal(installed?.index, 21, "n3 got a Ready asking it to install the snapshot");
  t.equal(Buffer.from(installed?.data ?? []).toString(), "state@21", "with the application's opaque bytes");
  net.propose("n1", "after");
  net.settle("n1");
  t.same(net.appliedData("n3"), ["after"], "and then applies entries after it");
  t.equal(net.raft("n3").log.committed, 22);
});

t.test("a lost snapshot is retried after an election timeout", async (t) => {
  const net = new TestNet(IDS3);
  elect(net, "n1");
  net.isolate("n3");
  for (let i = 0; i < 5; i++) net.propose("n1", `e${i}`);
  net.stabilize();
  const n1 = net.node("n1");
  n1.storage.createSnapshot(6, Buffer.from("s"));
  n1.storage.compact(6);
  net.heal();
  let snaps = 0;
  net.dropIf = (m) => m.kind === "snap" && ++snaps === 1;
  for (let i = 0; i < 30; i++) {
    net.tick("n1");
    net.stabilize();
  }
  t.equal(snaps, 2, "the first snapshot was lost, the second arrived");
  t.equal(net.raft("n3").log.committed, 6);
});

t.test("a restarted node keeps its term, vote and log, and resumes after what it applied", async (t) => {
  const net = new TestNet(IDS3);
  elect(net, "n1");
  for (const d of ["a", "b"]) net.propose("n1", d);
  net.settle("n1");
  net.restart("n2");
  const r = net.raft("n2");
  t.equal(r.term, 1);
  t.equal(r.vote, "n1");
  t.equal(r.log.lastIndex(), 3);
  t.equal(r.log.applied, 3, "the application said it applied up to 3");
  net.propose("n1", "c");
  net.settle("n1");
  t.same(net.appliedData("n2"), ["a", "b", "c"], "no entry applied twice");
});

t.test("messages not addressed to us, or from strangers, are refused", async (t) => {
  const net = new TestNet(IDS3);
  const rn = net.node("n1").rn;
  t.notOk(rn.step({ kind: "heartbeat", from: "n2", to: "n3", term: 1, commit: 0 }));
  t.notOk(rn.step({ kind: "heartbeat", from: "mallory", to: "n1", term: 1, commit: 0 }));
  t.notOk(rn.step({ kind: "heartbeat", from: "n1", to: "n1", term: 1, commit: 0 }));
  t.equal(net.raft("n1").term, 0);
});

t.test("two leaders in one term is caught by an assertion, not tolerated", async (t) => {
  const net = new TestNet(IDS3);
  elect(net, "n1");
  t.throws(
    () => net.node("n1").rn.step({ kind: "app", from: "n2", to: "n1", term: 1, prevIndex: 0, prevTerm: 0, entries: [], commit: 0 }),
    { name: "AssertionError", message: /two leaders in term 1/ },
  );
});

t.test("a node restarts after its snapshot even when compaction kept entries below it", async (t) => {
  const s = new MemoryStorage();
  s.append([1, 2, 3, 4, 5].map((i) => ({ index: i, term: 1, kind: "normal" as const, data: Buffer.from(`e${i}`) })));
  s.setHardState({ term: 1, vote: "a", commit: 5 });
  s.createSnapshot(4, Buffer.from("state@4"));
  s.compact(2);
  const rn = new RawNode(testConfig("a", ["a", "b", "c"]), s);
  t.equal(rn.status().applied, 4, "the application's state is the snapshot's");
  const rd = rn.ready();
  t.same(rd.committedEntries.map((e) => e.index), [5], "only what the snapshot lacks is applied again");
});

t.test("a rejection older than the follower's last acknowledgement does not restart probing", async (t) => {
  const net = new TestNet(IDS3);
  elect(net, "n1");
  for (let i = 0; i < 4; i++) net.propose("n1", `e${i}`);
  net.stabilize();
  const role = net.raft("n1").role;
  const pr = role.kind === "leader" ? role.progress.get("n2") : undefined;
  t.equal(pr?.state.kind, "replicate");
  t.equal(pr?.match, 5);
  const reject = (hintIndex: number): Message => ({ kind: "app-resp", from: "n2", to: "n1", term: 1, index: 7, reject: true, hintIndex, hintTerm: 1 });
  net.node("n1").rn.step(reject(3));
  t.equal(pr?.state.kind, "replicate", "hint 3 < match 5: sent before n2 acknowledged 5, ignored");
  net.node("n1").rn.step(reject(5));
  t.equal(pr?.state.kind, "probe", "hint at match: genuine, probe from match + 1");
  t.equal(pr?.next, 6);
});
