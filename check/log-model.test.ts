// The log-API model: hand-made histories of fencing, conflicts, lease expiry
// and lost replies, and a property that drives the real LogStateMachine with
// random commands, clock jumps and leader changes: what it answers, in order,
// is always accepted, and any single changed seq or tip is not.
import t from "tap";
import fc from "fast-check";
import { encodeEntry } from "../log/codec";
import { LogStateMachine, readThrough } from "../log/state/machine";
import { MemoryRecordStore } from "../log/state/record-store";
import type { AppendResult, Command, Reply, ShardId } from "../log/state/types";
import { type LogEvent, logOperations, type ReadReply } from "./log-history";
import { logModel, type LogInput, type LogOutput } from "./log-model";
import { checkHistory, type Operation } from "./wgl";

type LogOp = Operation<LogInput, LogOutput>;

function at(client: number, input: LogInput, callAt: number, returnAt: number | null, output?: LogOutput): LogOp {
  return {
    client,
    key: "s",
    input,
    outcome: returnAt === null || output === undefined ? { known: false } : { known: true, output },
    callAt,
    returnAt: returnAt ?? Infinity,
  };
}
const take = (c: number, nodeId: string, expectedSeq: number, a: number, b: number | null, result?: Extract<LogOutput, { op: "tryTakeLease" }>["result"]): LogOp =>
  at(c, { op: "tryTakeLease", nodeId, expectedSeq }, a, b, result && { op: "tryTakeLease", result });
const append = (c: number, records: string[], expectedSeq: number, leaseId: number, a: number, b: number | null, result?: AppendResult): LogOp =>
  at(c, { op: "append", records, expectedSeq, leaseId }, a, b, result && { op: "append", result });
const renew = (c: number, leaseId: number, a: number, b: number, result: Extract<LogOutput, { op: "renewLease" }>["result"]): LogOp =>
  at(c, { op: "renewLease", leaseId }, a, b, { op: "renewLease", result });
const read = (c: number, fromSeq: number, a: number, b: number, records: string[], tip: number): LogOp =>
  at(c, { op: "read", fromSeq, countMax: 10 }, a, b, { op: "read", result: { kind: "records", firstSeq: fromSeq, records, tip } });
const granted = (leaseId: number, epoch: number) => ({ kind: "granted" as const, leaseId, epoch });

const verdict = (h: LogOp[], staleReads = true): string => checkHistory(logModel({ staleReads }), h).kind;

t.test("grants, appends and the conflict of a retried append", async (t) => {
  const h = [take(0, "a", 0, 0, 1, granted(1, 1)), append(0, ["x", "y"], 0, 1, 2, 3, { kind: "ok", lastSeq: 2 })];
  t.equal(verdict([...h, append(0, ["x", "y"], 0, 1, 4, 5, { kind: "conflict", tip: 2 })]), "ok", "a retry sees the tip");
  t.equal(verdict([...h, append(0, ["x", "y"], 0, 1, 4, 5, { kind: "ok", lastSeq: 2 })]), "illegal", "a retry that applies twice");
  t.equal(verdict([...h, append(0, ["z"], 2, 1, 4, 5, { kind: "ok", lastSeq: 4 })]), "illegal", "a lastSeq that skips a seq");
  t.equal(verdict([...h, read(1, 1, 4, 5, ["x", "y"], 2)]), "ok");
  t.equal(verdict([...h, read(1, 2, 4, 5, ["x"], 2)]), "illegal", "a record at the wrong seq");
});

t.test("two concurrent appends at the same expectedSeq: one wins", async (t) => {
  const g = take(0, "a", 0, 0, 1, granted(1, 1));
  t.equal(
    verdict([g, append(1, ["p"], 0, 1, 2, 10, { kind: "conflict", tip: 1 }), append(2, ["q"], 0, 1, 3, 9, { kind: "ok", lastSeq: 1 })]),
    "ok",
    "overlapping: the conflict comes second",
  );
  t.equal(
    verdict([g, append(1, ["p"], 0, 1, 2, 3, { kind: "conflict", tip: 1 }), append(2, ["q"], 0, 1, 4, 5, { kind: "ok", lastSeq: 1 })]),
    "illegal",
    "a conflict that returned before the winning append was sent",
  );
  t.equal(
    verdict([g, append(1, ["p"], 0, 1, 2, 10, { kind: "ok", lastSeq: 1 }), append(2, ["q"], 0, 1, 3, 9, { kind: "ok", lastSeq: 1 })]),
    "illegal",
    "both acknowledged at seq 1",
  );
});

t.test("fencing: once a new lease is granted, the old holder's appends fail", async (t) => {
  const h = [take(0, "a", 0, 0, 1, granted(1, 1)), take(1, "b", 0, 10, 11, granted(5, 2))];
  t.equal(verdict([...h, append(0, ["x"], 0, 1, 12, 13, { kind: "ok", lastSeq: 1 })]), "illegal", "an old lease accepted after the new grant");
  t.equal(
    verdict([...h, append(0, ["x"], 0, 1, 12, 13, { kind: "leaseMismatch", current: { holder: "b", leaseId: 5, epoch: 2 } })]),
    "ok",
    "the old holder learns the new lease",
  );
  t.equal(
    verdict([...h, append(0, ["x"], 0, 1, 12, 13, { kind: "leaseMismatch", current: { holder: "a", leaseId: 1, epoch: 1 } })]),
    "illegal",
    "the old lease named as live after a new grant",
  );
  t.equal(verdict([take(0, "a", 0, 0, 1, granted(5, 1)), take(1, "b", 0, 2, 3, granted(4, 2))]), "illegal", "lease ids only grow");
  t.equal(verdict([take(0, "a", 0, 0, 1, granted(5, 1)), take(1, "b", 0, 2, 3, granted(9, 1))]), "illegal", "epochs count grants");
});

t.test("a lease seen expired stays expired", async (t) => {
  const g = take(0, "a", 0, 0, 1, granted(1, 1));
  t.equal(verdict([g, renew(0, 1, 2, 3, { kind: "ok" }), append(0, ["x"], 0, 1, 4, 5, { kind: "ok", lastSeq: 1 })]), "ok");
  t.equal(
    verdict([g, renew(0, 1, 2, 3, { kind: "leaseMismatch", current: null }), append(0, ["x"], 0, 1, 4, 5, { kind: "ok", lastSeq: 1 })]),
    "illegal",
    "an append under a lease the log said had lapsed",
  );
  t.equal(
    verdict([g, take(1, "b", 0, 2, 3, { kind: "conflict", reason: "behind", tip: 0 })]),
    "illegal",
    "'behind' with expectedSeq at the tip",
  );
  t.equal(
    verdict([g, take(1, "b", 5, 2, 3, { kind: "conflict", reason: "behind", tip: 0 }), renew(0, 1, 4, 5, { kind: "ok" })]),
    "illegal",
    "'behind' means no lease was live: it cannot be renewed afterwards",
  );
});

t.test("replies that were lost", async (t) => {
  t.equal(
    verdict([
      take(0, "a", 0, 0, null),
      take(1, "b", 0, 5, 6, { kind: "conflict", reason: "lease-live", holder: { holder: "a", leaseId: 7, epoch: 1 }, remainingMs: 100 }),
    ]),
    "ok",
    "a lost grant, named later",
  );
  t.equal(
    verdict([
      take(0, "a", 0, 0, null),
      take(1, "b", 0, 5, 6, { kind: "conflict", reason: "lease-live", holder: { holder: "a", leaseId: 7, epoch: 2 } , remainingMs: 100 }),
    ]),
    "illegal",
    "... but not with an epoch that skips one",
  );
  const g = take(0, "a", 0, 0, 1, granted(1, 1));
  t.equal(verdict([g, append(0, ["x"], 0, 1, 2, null), read(1, 1, 5, 6, ["x"], 1)]), "ok", "a lost append that landed");
  t.equal(verdict([g, append(0, ["x"], 0, 1, 2, null), read(1, 1, 5, 6, [], 0)]), "ok", "a lost append that did not land");
  t.equal(verdict([g, append(0, ["x"], 0, 1, 2, null), read(1, 1, 5, 6, ["y"], 1)]), "illegal", "a record nobody appended");
  t.equal(
    verdict([g, append(0, ["x"], 0, 1, 2, null), append(0, ["y"], 0, 1, 3, 4, { kind: "conflict", tip: 1 }), append(0, ["y"], 1, 1, 5, 6, { kind: "ok", lastSeq: 2 })]),
    "ok",
    "the conflict after a lost append tells the client its record is in",
  );
});

t.test("stale reads are a prefix; linearizable reads see the tip", async (t) => {
  const h = [take(0, "a", 0, 0, 1, granted(1, 1)), append(0, ["x"], 0, 1, 2, 3, { kind: "ok", lastSeq: 1 }), append(0, ["y"], 1, 1, 4, 5, { kind: "ok", lastSeq: 2 })];
  t.equal(verdict([...h, read(1, 1, 6, 7, ["x"], 1)], true), "ok", "an old prefix from a lagging node");
  t.equal(verdict([...h, read(1, 1, 6, 7, ["x"], 1)], false), "illegal", "... is not linearizable");
  t.equal(verdict([...h, read(1, 1, 6, 7, ["x", "y"], 2)], false), "ok");
  t.equal(verdict([...h, read(1, 1, 6, 7, ["x", "y", "z"], 3)], true), "illegal", "a tip beyond the log");
});

// ---- the real state machine, sequentially ---------------------------------------------------

interface Action {
  readonly what: number;
  readonly shard: number;
  readonly holder: number;
  readonly seqSkew: number;
  readonly pick: number;
  readonly advanceMs: number;
  readonly newTerm: boolean;
}

const actionArb: fc.Arbitrary<Action> = fc.record({
  what: fc.integer({ min: 0, max: 9 }),
  shard: fc.integer({ min: 0, max: 1 }),
  holder: fc.integer({ min: 0, max: 2 }),
  seqSkew: fc.constantFrom(0, 0, 0, -1, 1),
  pick: fc.nat(),
  advanceMs: fc.constantFrom(0, 10, 100, 400, 900),
  newTerm: fc.boolean().chain((b) => (b ? fc.boolean() : fc.constant(false))).chain((b) => (b ? fc.boolean() : fc.constant(false))),
});

/** Runs the actions on a LogStateMachine, one at a time, and returns what a client would have recorded. */
function runMachine(actions: readonly Action[]): LogEvent[] {
  const store = new MemoryRecordStore();
  const m = new LogStateMachine(store, { windowRecordsMax: 8, windowBytesMax: 1 << 20 });
  const clock = { term: 1, ms: 1000, index: 0, time: 0 };
  const leases: number[] = [1];
  let n = 0;
  const events: LogEvent[] = [];
  const apply = (client: number, c: Command): void => {
    const o = m.applyEntry({ index: ++clock.index, term: clock.term, kind: "normal", data: encodeEntry({ proposedAtMs: clock.ms, command: c }) });
    if (o.kind !== "applied") throw new Error(`not applied: ${JSON.stringify(o)}`);
    const reply: Reply = o.reply;
    if (reply.op === "tryTakeLease" && reply.result.kind === "granted") leases.push(reply.result.leaseId);
    events.push({ client, request: { kind: "command", command: c }, reply: { kind: "command", reply }, callAt: ++clock.time, returnAt: ++clock.time });
  };
  for (const a of actions) {
    clock.ms += a.advanceMs;
    if (a.newTerm) (clock.term++, (clock.ms = a.pick % 5000));
    const shard: ShardId = a.shard;
    const tip = m.shard(shard)?.tip ?? 0;
    const seq = Math.max(0, tip + a.seqSkew);
    const leaseId = leases[a.pick % leases.length] as number;
    if (a.what <= 1) apply(a.holder, { kind: "tryTakeLease", shard, nodeId: `h${a.holder}`, expectedSeq: seq, durationMs: 500 });
    else if (a.what <= 5) apply(a.holder, { kind: "append", shard, records: [Buffer.from(`r${++n}`), Buffer.from(`r${++n}`)].slice(a.pick % 2), expectedSeq: seq, leaseId });
    else if (a.what === 6) apply(a.holder, { kind: "renewLease", shard, leaseId });
    else if (a.what === 7) apply(a.holder, { kind: "trim", shard, uptoSeq: a.pick % (tip + 2) });
    else {
      const fromSeq = 1 + (a.pick % (tip + 1));
      const r = readThrough(m, store, shard, fromSeq, 3, 1 << 20);
      if (r.kind === "inStore") throw new Error("readThrough answered inStore");
      const result: ReadReply = r;
      events.push({ client: 9, request: { kind: "read", shard, fromSeq, countMax: 3 }, reply: { kind: "read", result }, callAt: ++clock.time, returnAt: ++clock.time });
    }
  }
  return events;
}

t.test("property: the real state machine's answers, in order, are accepted", async () => {
  fc.assert(
    fc.property(fc.array(actionArb, { maxLength: 80 }), (actions) => checkHistory(logModel({ staleReads: false }), logOperations(runMachine(actions))).kind === "ok"),
    { numRuns: 300 },
  );
});

t.test("property: ... and with one seq or tip changed, they are not", async () => {
  const arb = fc.tuple(fc.array(actionArb, { minLength: 1, maxLength: 60 }), fc.nat(), fc.constantFrom(-1, 1));
  fc.assert(
    fc.property(arb, ([actions, which, delta]) => {
      const events = runMachine(actions);
      const numbered = events.map((e, i) => [e, i] as const).filter(([e]) => e.reply?.kind === "command" && e.reply.reply.op === "append" && e.reply.reply.result.kind !== "leaseMismatch");
      const hit = numbered[which % Math.max(1, numbered.length)];
      if (hit === undefined) return true;
      const [e, i] = hit;
      if (e.reply?.kind !== "command" || e.reply.reply.op !== "append") return true;
      const r = e.reply.reply.result;
      const changed: AppendResult = r.kind === "ok" ? { kind: "ok", lastSeq: r.lastSeq + delta } : r.kind === "conflict" ? { kind: "conflict", tip: Math.max(0, r.tip + delta) } : r;
      if (changed.kind === "conflict" && r.kind === "conflict" && changed.tip === r.tip) return true;
      if (changed.kind === "ok" && changed.lastSeq < 1) return true;
      const mutated = [...events];
      mutated[i] = { ...e, reply: { kind: "command", reply: { op: "append", result: changed } } };
      return checkHistory(logModel({ staleReads: false }), logOperations(mutated)).kind === "illegal";
    }),
    { numRuns: 300 },
  );
});
