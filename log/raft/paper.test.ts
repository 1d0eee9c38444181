// One test per rule of the Raft paper (figure 2 and section 5; figure 8 for
// the commit rule) and per extension of Ongaro's thesis we rely on (9.6:
// pre-vote, check-quorum). Modelled on etcd-io/raft's raft_paper_test.go.
import t from "tap";
import type { Config } from "./config";
import { lcg, TestNet } from "./testnet";
import type { Message, NodeId } from "./types";

const IDS3 = ["n1", "n2", "n3"];
const IDS5 = ["n1", "n2", "n3", "n4", "n5"];

function elect(net: TestNet, id: NodeId): void {
  net.campaign(id);
  net.stabilize();
}

type AppMsg = Extract<Message, { kind: "app" }>;

const app = (from: NodeId, to: NodeId, term: number, prevIndex = 0, prevTerm = 0, commit = 0): AppMsg => ({
  kind: "app", from, to, term, prevIndex, prevTerm, entries: [], commit,
});

const vote = (from: NodeId, to: NodeId, term: number, lastIndex: number, lastTerm: number): Message => ({
  kind: "vote", from, to, term, lastIndex, lastTerm,
});

t.test("§5.1 a node that sees a higher term adopts it and reverts to follower", async (t) => {
  for (const role of ["follower", "candidate", "leader"] as const) {
    for (const kind of ["app", "vote"] as const) {
      const net = new TestNet(IDS3);
      if (role === "candidate") net.campaign("n1");
      if (role === "leader") elect(net, "n1");
      t.equal(net.raft("n1").role.kind, role);
      net.node("n1").rn.step(kind === "app" ? app("n2", "n1", 5) : vote("n2", "n1", 5, 9, 5));
      const r = net.raft("n1");
      t.equal(r.term, 5, `${role} adopts term 5 from ${kind}`);
      t.equal(r.role.kind, "follower", `${role} becomes a follower on ${kind}`);
      t.equal(r.leader(), kind === "app" ? "n2" : null, "an append names the leader; a vote request does not");
    }
  }
});

t.test("§5.1 a request with a stale term is refused", async (t) => {
  const net = new TestNet(IDS3);
  net.node("n1").rn.step({ kind: "heartbeat", from: "n2", to: "n1", term: 3, commit: 0 });
  net.take();
  const before = net.termsOf("n1");
  net.node("n1").rn.step({ ...app("n3", "n1", 2), entries: [{ index: 1, term: 2, kind: "normal", data: Buffer.from("x") }] });
  net.node("n1").rn.step(vote("n3", "n1", 2, 10, 2));
  t.equal(net.termsOf("n1"), before, "the stale append changed nothing");
  t.equal(net.raft("n1").leader(), "n2");
  t.equal(net.raft("n1").vote, null, "no vote for a stale candidate");
  t.same(net.take(), [], "without pre-vote or check-quorum, stale requests are dropped silently");

  const pv = new TestNet(IDS3, { preVote: true });
  pv.node("n1").rn.step({ kind: "heartbeat", from: "n2", to: "n1", term: 3, commit: 0 });
  pv.take();
  pv.node("n1").rn.step(app("n3", "n1", 2));
  const out = pv.take();
  t.equal(out.length, 1);
  t.match(out[0], { kind: "app-resp", to: "n3", term: 3 }, "with pre-vote, a stale leader hears our term so it steps down");
});

t.test("§5.2 a follower that hears nothing campaigns: new term, votes for itself, asks every peer", async (t) => {
  const net = new TestNet(IDS3);
  net.tick("n1", 20);
  const r = net.raft("n1");
  t.equal(r.role.kind, "candidate");
  t.equal(r.term, 1);
  t.equal(r.vote, "n1");
  const rd = net.node("n1").readies.find((x) => x.messages.some((m) => m.kind === "vote"));
  t.ok(rd, "the vote requests went out in a Ready");
  t.same(rd?.hardState, { term: 1, vote: "n1", commit: 0 }, "... together with the vote to persist first");
  t.equal(rd?.mustSync, true, "... synchronously");
  t.same(
    rd?.messages.filter((m) => m.kind === "vote").map((m) => m.to),
    ["n2", "n3"],
  );
});

t.test("§5.2 a candidate wins with a majority of votes, loses with a majority against, else waits", async (t) => {
  const cases: { ids: string[]; grants: string[]; rejects: string[]; expect: string }[] = [
    { ids: IDS3, grants: ["n2"], rejects: [], expect: "leader" },
    { ids: IDS3, grants: [], rejects: ["n2"], expect: "candidate" },
    { ids: IDS3, grants: [], rejects: ["n2", "n3"], expect: "follower" },
    { ids: IDS5, grants: ["n2"], rejects: [], expect: "candidate" },
    { ids: IDS5, grants: ["n2", "n3"], rejects: ["n4"], expect: "leader" },
    { ids: IDS5, grants: ["n2"], rejects: ["n3", "n4", "n5"], expect: "follower" },
  ];
  for (const c of cases) {
    const net = new TestNet(c.ids);
    net.campaign("n1");
    net.take();
    for (const id of c.grants) net.node("n1").rn.step({ kind: "vote-resp", from: id, to: "n1", term: 1, reject: false });
    for (const id of c.rejects) net.node("n1").rn.step({ kind: "vote-resp", from: id, to: "n1", term: 1, reject: true });
    t.equal(net.raft("n1").role.kind, c.expect, `${c.ids.length} nodes, +${c.grants.length} -${c.rejects.length} (and our own vote)`);
  }
});

t.test("§5.2 each node grants at most one vote per term, first come first served", async (t) => {
  const net = new TestNet(IDS3);
  const n3 = net.node("n3").rn;
  const replies = (): Message[] => net.take((m) => m.from === "n3");
  n3.step(vote("n1", "n3", 1, 0, 0));
  t.match(replies(), [{ kind: "vote-resp", to: "n1", reject: false }]);
  n3.step(vote("n2", "n3", 1, 0, 0));
  t.match(replies(), [{ kind: "vote-resp", to: "n2", reject: true }], "a second candidate in the same term is refused");
  n3.step(vote("n1", "n3", 1, 0, 0));
  t.match(replies(), [{ kind: "vote-resp", to: "n1", reject: false }], "a repeated request from the same candidate is granted again");
  t.equal(net.raft("n3").vote, "n1");
});

t.test("§5.2 a vote survives a restart: no second vote in the same term", async (t) => {
  const net = new TestNet(IDS3);
  net.node("n3").rn.step(vote("n1", "n3", 1, 0, 0));
  net.take();
  net.restart("n3");
  t.equal(net.raft("n3").vote, "n1", "the vote was persisted before the reply was sent");
  net.node("n3").rn.step(vote("n2", "n3", 1, 0, 0));
  t.match(net.take(), [{ kind: "vote-resp", to: "n2", reject: true }]);
});

t.test("§5.2 a candidate that hears from a leader of its term steps down", async (t) => {
  const net = new TestNet(IDS3);
  net.campaign("n1");
  net.take();
  net.node("n1").rn.step({ kind: "heartbeat", from: "n2", to: "n1", term: 1, commit: 0 });
  t.equal(net.raft("n1").role.kind, "follower");
  t.equal(net.raft("n1").leader(), "n2");
});

t.test("§5.2 election timeouts are randomised in [electionTicks, 2*electionTicks) by the injected PRNG", async (t) => {
  const seen = new Set<number>();
  for (let seed = 1; seed <= 40; seed++) {
    const net = new TestNet(["a"], { electionTicks: 10, randomInt: lcg(seed) });
    let ticks = 0;
    while (net.raft("a").role.kind === "follower") {
      net.tick("a");
      ticks++;
    }
    t.ok(ticks >= 10 && ticks < 20, `seed ${seed}: campaigned after ${ticks} ticks`);
    seen.add(ticks);
  }
  t.ok(seen.size >= 5, `timeouts vary (${seen.size} distinct values)`);
  t.throws(() => new TestNet(["a"], { randomInt: () => 10 }), { name: "AssertionError" }, "a PRNG out of range is caught");
});

t.test("§5.2 the election timer restarts only on hearing from the leader or granting a vote", async (t) => {
  // n2 has a stale log and a clock three times as fast: it always times out
  // first and can never win. Its refused vote requests must not hold off the
  // elections n1 and n3 would win (without pre-vote, nothing else stops it).
  const net = new TestNet(IDS3);
  net.load("n1", [1, 1, 1], 1);
  net.load("n2", [1], 1);
  net.load("n3", [1, 1, 1], 1);
  for (let round = 0; round < 200 && net.leaders().length === 0; round++) {
    net.tick("n2", 3);
    net.tick("n1");
    net.tick("n3");
    net.stabilize();
  }
  t.ok(net.raft("n2").term > 1, "n2 campaigned");
  t.match(net.leaders(), [/^n[13]$/], "and yet n1 or n3 was elected");
});

t.test("§5.2 a split vote is resolved by a new election in a later term", async (t) => {
  const ids = ["n1", "n2", "n3", "n4"];
  const net = new TestNet(ids);
  net.campaign("n1");
  net.campaign("n2");
  const requests = net.take();
  // n3 hears n1 first, n4 hears n2 first: 2 votes each, quorum is 3.
  const order = (m: Message): number => (m.to === "n3" ? (m.from === "n1" ? 0 : 1) : m.to === "n4" ? (m.from === "n2" ? 0 : 1) : 2);
  for (const m of [...requests].sort((a, b) => order(a) - order(b))) net.deliver(m);
  net.stabilize();
  t.same(net.leaders(), [], "nobody won term 1");
  t.equal(net.raft("n1").term, 1);
  net.tick("n1", 20);
  net.stabilize();
  t.same(net.leaders(), ["n1"]);
  t.equal(net.raft("n1").term, 2);
});

t.test("§5.3 log matching: an append that does not match is refused; a conflicting suffix is replaced", async (t) => {
  const net = new TestNet(IDS3);
  net.load("n2", [1, 1, 1]);
  const n2 = net.node("n2").rn;
  n2.step(app("n1", "n2", 2, 3, 2));
  t.match(net.take(), [{ kind: "app-resp", reject: true, index: 3 }], "(3, term 2) is not in n2's log");
  n2.step(app("n1", "n2", 2, 5, 2));
  t.match(net.take(), [{ kind: "app-resp", reject: true, index: 5, hintIndex: 3, hintTerm: 1 }], "the hint points at n2's last entry");
  n2.step({ ...app("n1", "n2", 2, 1, 1), entries: [{ index: 2, term: 2, kind: "normal", data: Buffer.from("new") }] });
  t.match(net.take(), [{ kind: "app-resp", reject: false, index: 2 }]);
  t.equal(net.termsOf("n2"), "1:1 2:2", "entry 3 conflicted with nothing sent, but everything after 2 goes with it");
  n2.step({ ...app("n1", "n2", 2, 1, 1), entries: [{ index: 2, term: 2, kind: "normal", data: Buffer.from("new") }] });
  t.equal(net.termsOf("n2"), "1:1 2:2", "a duplicate append changes nothing");
});

t.test("§5.3 an entry stored on a majority is committed, and every node applies it in order", async (t) => {
  const net = new TestNet(IDS3);
  elect(net, "n1");
  for (const d of ["a", "b", "c"]) t.match(net.propose("n1", d), { kind: "ok" });
  net.settle("n1");
  for (const id of IDS3) {
    t.equal(net.raft(id).log.committed, 4, `${id} knows 4 is committed`);
    t.same(net.appliedData(id), ["a", "b", "c"], `${id} applied a, b, c`);
  }
});

t.test("§5.3 followers learn the commit index from the leader's next message", async (t) => {
  const net = new TestNet(IDS3);
  elect(net, "n1");
  net.propose("n1", "x");
  net.deliverRound(); // appends to followers
  net.deliverRound(); // their acks: the leader commits
  t.equal(net.raft("n1").log.committed, 2);
  t.equal(net.raft("n2").log.committed, 1, "n2 does not know yet");
  net.tick("n1"); // heartbeat carries the commit index
  net.stabilize();
  t.equal(net.raft("n2").log.committed, 2);
  t.same(net.appliedData("n2"), ["x"]);
});

t.test("§5.3 the leader never overwrites or deletes entries in its own log", async (t) => {
  const net = new TestNet(IDS3);
  net.load("n1", [1, 2, 2]);
  net.load("n2", [1, 1, 1, 1, 1]);
  net.load("n3", [1, 2]);
  elect(net, "n1");
  t.equal(net.raft("n1").role.kind, "leader");
  t.equal(net.termsOf("n1"), "1:1 2:2 3:2 4:3", "its log plus the no-op of term 3");
  net.propose("n1", "y");
  net.stabilize();
  t.equal(net.termsOf("n1"), "1:1 2:2 3:2 4:3 5:3", "only appended to");
  t.equal(net.termsOf("n2"), net.termsOf("n1"), "n2's longer, older suffix was replaced");
  t.equal(net.termsOf("n3"), net.termsOf("n1"));
});

t.test("§5.3 fast back-off: a diverging follower costs one probe per term, not one per entry", async (t) => {
  const count = (leader: number[], follower: number[]): { rejects: number; match: boolean } => {
    const net = new TestNet(IDS3);
    net.load("n1", leader);
    net.load("n3", leader);
    net.load("n2", follower, Math.max(...leader));
    let rejects = 0;
    net.dropIf = (m) => {
      if (m.kind === "app-resp" && m.reject && m.from === "n2") rejects++;
      return false;
    };
    elect(net, "n1");
    return { rejects, match: net.termsOf("n2") === net.termsOf("n1") };
  };
  // etcd's examples: a follower with an old, shorter log...
  const a = count([1, 3, 3, 3, 5, 5, 5, 5, 5], [1, 1, 1, 1, 2, 2]);
  t.ok(a.match, "repaired");
  t.ok(a.rejects <= 2, `leader-side hint: ${a.rejects} rejections for 9 diverging entries`);
  // ... and one with a long divergent tail of higher terms.
  const b = count([1, 3, 3, 3, 3, 3, 3, 3, 7], [1, 3, 3, 4, 4, 5, 5, 5, 6]);
  t.ok(b.match, "repaired");
  t.ok(b.rejects <= 3, `follower-side hint: ${b.rejects} rejections for 6 diverging entries`);
});

t.test("§5.4.1 election restriction: a voter refuses a candidate whose log is less up to date", async (t) => {
  // The voter's log: index 3, last term 2.
  const cases: [lastIndex: number, lastTerm: number, granted: boolean][] = [
    [3, 2, true],
    [4, 2, true],
    [2, 2, false],
    [1, 3, true],
    [9, 1, false],
    [0, 0, false],
  ];
  for (const [lastIndex, lastTerm, granted] of cases) {
    const net = new TestNet(IDS3);
    net.load("n2", [1, 2, 2]);
    net.node("n2").rn.step(vote("n1", "n2", 5, lastIndex, lastTerm));
    t.match(net.take(), [{ kind: "vote-resp", reject: !granted }], `candidate (${lastIndex}, ${lastTerm}) vs voter (3, 2)`);
  }
});

/**
 * Figure 8, state (b) after S5's term-3 leadership: S1 and S2 hold (2, term 2),
 * S5 holds (2, term 3), S3 and S4 only index 1. S1 then wins term 4.
 */
function figure8(): TestNet {
  const net = new TestNet(IDS5, { msgBytesMax: 1 });
  net.load("n1", [1, 2], 3);
  net.load("n2", [1, 2], 3);
  net.load("n3", [1], 3);
  net.load("n4", [1], 3);
  net.load("n5", [1, 3], 3);
  net.isolate("n4");
  net.isolate("n5");
  return net;
}

const has3 = (m: Message): boolean => m.kind === "app" && m.entries.some((e) => e.index === 3);

t.test("§5.4.2 a leader does not commit an entry of an earlier term by counting replicas (figure 8c, 8d)", async (t) => {
  const net = figure8();
  // (c) S1 leads term 4; its no-op (3:4) reaches S2 only, entry (2, term 2) reaches S3.
  net.dropIf = (m) => has3(m) && m.to === "n3" && net.raft("n3").log.lastIndex() >= 2;
  elect(net, "n1");
  t.equal(net.raft("n1").role.kind, "leader");
  t.equal(net.raft("n1").term, 4);
  t.equal(net.termsOf("n2"), "1:1 2:2 3:4");
  t.equal(net.termsOf("n3"), "1:1 2:2", "entry (2, term 2) is now on S1, S2 and S3");
  const lead = net.raft("n1").role;
  t.same(lead.kind === "leader" ? [...lead.progress.values()].map((p) => p.match) : [], [3, 3, 2, 0, 0], "and the leader knows it");
  t.equal(net.raft("n1").log.committed, 0, "...but it is not committed: it is not of the leader's term");
  t.same(net.node("n1").applied, [], "nothing applied, nothing acknowledged");
  // (d) Why: S1 crashes, and S5 (last term 3) can still win and overwrite index 2.
  net.heal();
  net.isolate("n1");
  net.dropIf = null;
  elect(net, "n5");
  if (net.raft("n5").role.kind !== "leader") elect(net, "n5");
  t.equal(net.raft("n5").role.kind, "leader", "S5 wins with S3 and S4, whose last entries are older");
  for (const id of ["n2", "n3", "n4", "n5"]) t.match(net.termsOf(id), /^1:1 2:3 3:\d+$/, `${id} holds (2, term 3) now`);
});

t.test("§5.4.2 once an entry of the leader's term is on a majority, earlier entries commit with it (figure 8e)", async (t) => {
  const net = figure8();
  elect(net, "n1");
  t.equal(net.raft("n1").role.kind, "leader");
  t.equal(net.termsOf("n3"), "1:1 2:2 3:4");
  t.equal(net.raft("n1").log.committed, 3, "the no-op (3, term 4) on S1, S2, S3 commits index 2 and 3");
  net.heal();
  net.isolate("n1");
  for (let i = 0; i < 3; i++) elect(net, "n5");
  t.not(net.raft("n5").role.kind, "leader", "S5 cannot win any more: S2 and S3 hold a more recent log");
  t.equal(net.termsOf("n2"), "1:1 2:2 3:4", "the committed entries stay");
});

t.test("§5.4.3 leader completeness: every committed entry is in the log of every later leader", async (t) => {
  const net = new TestNet(IDS5);
  elect(net, "n1");
  for (let i = 0; i < 5; i++) net.propose("n1", `v${i}`);
  net.stabilize();
  const committed = net.raft("n1").log.committed;
  let leader = "n1";
  for (const next of ["n3", "n5", "n2"]) {
    net.heal();
    net.isolate(leader);
    net.tick(next, 20);
    net.stabilize();
    t.equal(net.raft(next).role.kind, "leader", `${next} took over from ${leader}`);
    const log = net.logOf(next);
    t.ok(log.length >= committed, `${next} holds all ${committed} committed entries`);
    t.equal(net.termsOf(next).split(" ").slice(0, committed).join(" "), net.termsOf("n1").split(" ").slice(0, committed).join(" "));
    leader = next;
  }
});

t.test("§5.4.3 state machine safety: nodes apply the same entries in the same order through leader changes", async (t) => {
  const net = new TestNet(IDS5);
  const rnd = lcg(2024);
  for (let round = 0; round < 300; round++) {
    net.heal();
    const victim = IDS5[rnd(5)] as string;
    if (rnd(2) === 0) net.isolate(victim);
    const id = IDS5[rnd(5)] as string;
    if (net.raft(id).role.kind === "leader") net.propose(id, `r${round}`);
    else net.tick(id, 1 + rnd(25));
    for (let i = 0; i < rnd(3); i++) net.deliverRound();
  }
  net.heal();
  for (let i = 0; i < 40; i++) for (const id of IDS5) net.tick(id);
  net.stabilize();
  const reference = net.node("n1").applied.map((e) => `${e.index}:${e.term}:${Buffer.from(e.data).toString()}`);
  t.ok(reference.length > 10, `${reference.length} entries applied`);
  for (const id of IDS5) {
    const mine = net.node(id).applied.map((e) => `${e.index}:${e.term}:${Buffer.from(e.data).toString()}`);
    const n = Math.min(mine.length, reference.length);
    t.same(mine.slice(0, n), reference.slice(0, n), `${id} applied the same prefix`);
  }
});

t.test("§8 a new leader appends a no-op of its term and commits it before anything else", async (t) => {
  const net = new TestNet(IDS3);
  net.load("n1", [1, 1]);
  net.load("n2", [1, 1]);
  elect(net, "n1");
  const log = net.logOf("n1");
  t.match(log[log.length - 1], { index: 3, term: 2, kind: "noop" });
  t.equal(net.raft("n1").log.committed, 3, "the no-op committed, and with it the entries of term 1");
  t.same(net.node("n1").applied.map((e) => e.kind), ["normal", "normal", "noop"]);
});

t.test("thesis 9.6 pre-vote: a node that rejoins after a partition does not disrupt a healthy leader", async (t) => {
  const run = (over: Partial<Config>): { term: number; leader: NodeId[]; isolatedTerm: number } => {
    const net = new TestNet(IDS3, over);
    elect(net, "n1");
    net.isolate("n3");
    for (let i = 0; i < 100; i++) {
      net.tick("n1");
      net.tick("n2");
      net.tick("n3");
      net.stabilize();
    }
    const isolatedTerm = net.raft("n3").term;
    net.heal();
    for (let i = 0; i < 30; i++) {
      for (const id of IDS3) net.tick(id);
      net.stabilize();
    }
    return { term: net.raft("n1").term, leader: net.leaders(), isolatedTerm };
  };
  const withPreVote = run({ preVote: true, checkQuorum: true });
  t.equal(withPreVote.isolatedTerm, 1, "cut off, n3 never raised its term: its pre-votes failed");
  t.same(withPreVote.leader, ["n1"], "n1 still leads");
  t.equal(withPreVote.term, 1, "in the same term");
  const without = run({ preVote: false, checkQuorum: false });
  t.ok(without.isolatedTerm > 1, `without pre-vote n3 drove its term to ${without.isolatedTerm}`);
  t.ok(without.term > 1, "and deposed the healthy leader when it came back");
});

t.test("thesis 9.6 check-quorum: a leader that cannot reach a quorum steps down", async (t) => {
  const net = new TestNet(IDS3, { checkQuorum: true, electionTicks: 10 });
  elect(net, "n1");
  net.isolate("n1");
  net.tick("n1", 9);
  t.equal(net.raft("n1").role.kind, "leader", "still within the first check-quorum window");
  net.tick("n1", 11);
  t.equal(net.raft("n1").role.kind, "follower", "stepped down after an election timeout without a quorum");
  t.equal(net.raft("n1").term, 1, "without changing the term");

  const healthy = new TestNet(IDS3, { checkQuorum: true, electionTicks: 10 });
  elect(healthy, "n1");
  for (let i = 0; i < 50; i++) {
    healthy.tick("n1");
    healthy.stabilize();
  }
  t.equal(healthy.raft("n1").role.kind, "leader", "a leader that hears from a quorum stays");
});

t.test("thesis 9.6 leader lease: a follower that hears from a leader ignores vote requests", async (t) => {
  const net = new TestNet(IDS3, { checkQuorum: true });
  elect(net, "n1");
  net.node("n2").rn.step(vote("n3", "n2", 5, 100, 5));
  t.same(net.take((m) => m.from === "n2"), [], "no reply");
  t.equal(net.raft("n2").term, 1, "term unchanged");
  net.tick("n2", 10);
  net.take();
  net.node("n2").rn.step(vote("n3", "n2", 5, 100, 5));
  t.match(net.take((m) => m.from === "n2"), [{ kind: "vote-resp", reject: false }], "after an election timeout of silence, it votes");
});
