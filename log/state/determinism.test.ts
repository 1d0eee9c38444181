// The state machine against a deliberately naive model, and replicas against
// each other. The model keeps every record and the whole entry history, and
// decides lease liveness by rescanning that history from the grant, entry by
// entry, instead of carrying a deadline forward (see `liveAt`). Replicas fed
// the same entries must give the same replies and byte-identical snapshots,
// whichever point they were restored from.
import fc from "fast-check";
import t from "tap";
import { encodeEntry } from "../codec";
import { canon } from "./arbitraries";
import { type CommittedEntry, LogStateMachine, readThrough } from "./machine";
import { MemoryRecordStore } from "./record-store";
import type { WindowLimits } from "./shard";
import type { Command, LeaseView, Reply, ShardId, TakeLeaseResult } from "./types";

interface Stamped {
  readonly term: number;
  readonly ms: number;
}

interface ModelLease {
  readonly view: LeaseView;
  readonly durationMs: number;
  /** Positions in `history` of the grant and of each successful renewal. */
  readonly anchors: number[];
}

interface ModelShard {
  records: Buffer[];
  trimPoint: number;
  epoch: number;
  lease: ModelLease | null;
}

class Model {
  readonly history: Stamped[] = [];
  readonly shards = new Map<ShardId, ModelShard>();

  tip(id: ShardId): number {
    return this.shards.get(id)?.records.length ?? 0;
  }

  /** The anchor that times the lease at history position x: the newest grant/renewal of x's term, else x's term's first entry. */
  private anchorMs(l: ModelLease, x: number): number {
    const term = (this.history[x] as Stamped).term;
    let best: number | null = null;
    for (const a of l.anchors) if (a < x && (this.history[a] as Stamped).term === term) best = a;
    if (best === null) best = this.history.findIndex((h) => h.term === term);
    return (this.history[best] as Stamped).ms;
  }

  /** Live at position p iff no entry from the grant to p (inclusive) found it expired. */
  private liveAt(l: ModelLease, p: number): boolean {
    for (let x = (l.anchors[0] as number) + 1; x <= p; x++) {
      if ((this.history[x] as Stamped).ms >= this.anchorMs(l, x) + l.durationMs) return false;
    }
    return true;
  }

  private live(s: ModelShard | undefined, p: number): ModelLease | null {
    return s?.lease !== null && s?.lease !== undefined && this.liveAt(s.lease, p) ? s.lease : null;
  }

  apply(index: number, at: Stamped, c: Command): Reply {
    this.history.push(at);
    const p = this.history.length - 1;
    const s = this.shards.get(c.shard);
    const live = this.live(s, p);
    switch (c.kind) {
      case "append": {
        if (s === undefined || live === null || live.view.leaseId !== c.leaseId) return { op: "append", result: { kind: "leaseMismatch", current: live?.view ?? null } };
        if (c.expectedSeq !== s.records.length) return { op: "append", result: { kind: "conflict", tip: s.records.length } };
        s.records.push(...c.records);
        return { op: "append", result: { kind: "ok", lastSeq: s.records.length } };
      }
      case "tryTakeLease":
        return { op: "tryTakeLease", result: this.take(index, p, c, s, live) };
      case "renewLease":
        if (s === undefined || live === null || live.view.leaseId !== c.leaseId) return { op: "renewLease", result: { kind: "leaseMismatch", current: live?.view ?? null } };
        live.anchors.push(p);
        return { op: "renewLease", result: { kind: "ok" } };
      case "trim":
        if (s === undefined) return { op: "trim", result: { kind: "ok", trimPoint: 1 } };
        s.trimPoint = Math.max(s.trimPoint, Math.min(c.uptoSeq, s.records.length) + 1);
        return { op: "trim", result: { kind: "ok", trimPoint: s.trimPoint } };
    }
  }

  private take(index: number, p: number, c: Extract<Command, { kind: "tryTakeLease" }>, s: ModelShard | undefined, live: ModelLease | null): TakeLeaseResult {
    if (live !== null) {
      const remainingMs = Math.min(live.durationMs, this.anchorMs(live, p) + live.durationMs - (this.history[p] as Stamped).ms);
      return { kind: "conflict", reason: "lease-live", holder: live.view, remainingMs };
    }
    const tip = s?.records.length ?? 0;
    if (c.expectedSeq !== tip) return { kind: "conflict", reason: "behind", tip };
    const shard = s ?? { records: [], trimPoint: 1, epoch: 0, lease: null };
    this.shards.set(c.shard, shard);
    shard.epoch++;
    shard.lease = { view: { holder: c.nodeId, leaseId: index, epoch: shard.epoch }, durationMs: c.durationMs, anchors: [p] };
    return { kind: "granted", leaseId: index, epoch: shard.epoch };
  }
}

// Steps are abstract choices; the driver resolves them against the model so
// that most commands are plausible (right lease, right tip) and some are not.
const SHARDS: readonly ShardId[] = [0, 1, "x"];
const NODES = ["a", "b", "c"];
const seqChoice = fc.oneof(fc.constant("tip" as const), fc.constant("tip" as const), fc.integer({ min: -2, max: 3 }));
const stepArb = fc.oneof(
  { weight: 1, arbitrary: fc.record({ t: fc.constant("noop" as const) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("term" as const), baseMs: fc.nat({ max: 10_000_000 }) }) },
  { weight: 4, arbitrary: fc.record({ t: fc.constant("tick" as const), dtMs: fc.oneof(fc.nat({ max: 60 }), fc.nat({ max: 60 }), fc.nat({ max: 1500 })) }) },
  {
    weight: 3,
    arbitrary: fc.record({ t: fc.constant("take" as const), shard: fc.nat(), node: fc.nat(), seq: seqChoice, durationMs: fc.oneof(fc.integer({ min: 1, max: 2000 }), fc.integer({ min: 300, max: 2000 })) }),
  },
  { weight: 3, arbitrary: fc.record({ t: fc.constant("renew" as const), shard: fc.nat(), lease: fc.nat() }) },
  {
    weight: 6,
    arbitrary: fc.record({
      t: fc.constant("append" as const),
      shard: fc.nat(),
      lease: fc.nat(),
      seq: seqChoice,
      records: fc.array(fc.uint8Array({ maxLength: 12 }).map((a) => Buffer.from(a)), { minLength: 1, maxLength: 4 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("trim" as const), shard: fc.nat(), seq: seqChoice }) },
);
const stepsArb = fc.array(stepArb, { maxLength: 150, size: "max" });
type Step = typeof stepArb extends fc.Arbitrary<infer S> ? S : never;

interface Scenario {
  readonly entries: CommittedEntry[];
  readonly replies: (Reply | null)[];
  readonly model: Model;
}

function drive(steps: readonly Step[]): Scenario {
  const model = new Model();
  const entries: CommittedEntry[] = [];
  const replies: (Reply | null)[] = [];
  const granted = new Map<ShardId, number[]>();
  let term = 1;
  let ms = 0;
  const seq = (shard: ShardId, c: "tip" | number): number => Math.max(0, model.tip(shard) + (c === "tip" ? 0 : c));
  const pick = <T>(xs: readonly T[], n: number): T => xs[n % xs.length] as T;
    // Mostly the newest grants, sometimes an arbitrary id.
  const leaseId = (shard: ShardId, n: number): number => {
    const ids = granted.get(shard) ?? [];
    if (ids.length === 0 || n % 7 === 6) return 1 + (n % 50);
    return ids[ids.length - 1 - (n % 4 < 2 ? 0 : n % Math.min(4, ids.length))] as number;
  };
  for (const st of steps) {
    let c: Command | null = null;
    if (st.t === "noop") {
      entries.push({ index: entries.length + 1, term, kind: "noop", data: new Uint8Array(0) });
      replies.push(null);
      continue;
    }
    if (st.t === "term") [term, ms] = [term + 1, st.baseMs];
    else if (st.t === "tick") ms += st.dtMs;
    else if (st.t === "take") {
      const shard = pick(SHARDS, st.shard);
      c = { kind: "tryTakeLease", shard, nodeId: pick(NODES, st.node), expectedSeq: seq(shard, st.seq), durationMs: st.durationMs };
    } else if (st.t === "renew") {
      const shard = pick(SHARDS, st.shard);
      c = { kind: "renewLease", shard, leaseId: leaseId(shard, st.lease) };
    } else if (st.t === "append") {
      const shard = pick(SHARDS, st.shard);
      c = { kind: "append", shard, leaseId: leaseId(shard, st.lease), expectedSeq: seq(shard, st.seq), records: st.records };
    } else c = { kind: "trim", shard: pick(SHARDS, st.shard), uptoSeq: seq(pick(SHARDS, st.shard), st.seq) };
    if (c === null) continue;
    const index = entries.length + 1;
    entries.push({ index, term, kind: "normal", data: encodeEntry({ proposedAtMs: ms, command: c }) });
    const r = model.apply(index, { term, ms }, c);
    if (r.op === "tryTakeLease" && r.result.kind === "granted") granted.set(c.shard, [...(granted.get(c.shard) ?? []), r.result.leaseId]);
    replies.push(r);
  }
  return { entries, replies, model };
}

function feed(m: LogStateMachine, entries: readonly CommittedEntry[]): (Reply | null)[] {
  return entries.map((e) => {
    const o = m.applyEntry(e);
    if (o.kind === "halt") throw new Error(o.error.message);
    m.checkInvariants();
    return o.kind === "applied" ? o.reply : null;
  });
}

/** Every readable record of a shard, read in small pieces through window and store. */
function readAll(m: LogStateMachine, store: MemoryRecordStore, id: ShardId): { trimPoint: number; records: Buffer[] } {
  const info = m.shard(id);
  const trimPoint = info?.trimPoint ?? 1;
  const out: Buffer[] = [];
  for (let seq = trimPoint; ; ) {
    const r = readThrough(m, store, id, seq, 3, 10);
    if (r.kind !== "records") throw new Error(`read ${String(id)}@${seq}: ${r.kind}`);
    if (r.records.length === 0) break;
    out.push(...r.records);
    seq += r.records.length;
  }
  return { trimPoint, records: out };
}

/** What the I/O shell does when it installs a snapshot elsewhere: ship the store's records below each window. */
function shipStore(m: LogStateMachine, from: MemoryRecordStore): MemoryRecordStore {
  const to = new MemoryRecordStore();
  for (const id of m.shardIds()) {
    const info = m.shard(id);
    if (info === null) continue;
    to.deleteBelow(id, info.trimPoint);
    if (info.windowStartSeq > info.trimPoint) to.append(id, info.trimPoint, from.getRange(id, info.trimPoint, info.windowStartSeq - 1, Infinity));
  }
  return to;
}

const SMALL: WindowLimits = { windowRecordsMax: 3, windowBytesMax: 24 };
const LARGE: WindowLimits = { windowRecordsMax: 1000, windowBytesMax: 1 << 20 };

t.test("replies and stored records match the naive model, whatever the window", async (t) => {
  fc.assert(
    fc.property(stepsArb, (steps) => {
      const sc = drive(steps);
      for (const limits of [SMALL, LARGE, { windowRecordsMax: 0, windowBytesMax: 0 }]) {
        const store = new MemoryRecordStore();
        const m = new LogStateMachine(store, limits);
        const got = feed(m, sc.entries);
        if (canon(got) !== canon(sc.replies)) return false;
        for (const id of SHARDS) {
          const s = sc.model.shards.get(id);
          const want = { trimPoint: s?.trimPoint ?? 1, records: s?.records.slice((s?.trimPoint ?? 1) - 1) ?? [] };
          if (canon(readAll(m, store, id)) !== canon(want)) return false;
          if ((m.shard(id)?.bytesAppended ?? 0) !== (s?.records.reduce((n, r) => n + r.length, 0) ?? 0)) return false;
        }
      }
      return true;
    }),
    { numRuns: 300 },
  );
  t.pass("model and state machine agree");
});

t.test("the scenarios exercise what they should", async (t) => {
  const kinds = new Map<string, number>();
  fc.assert(
    fc.property(stepsArb, (steps) => {
      for (const r of drive(steps).replies) {
        if (r === null) continue;
        const k = `${r.op}:${r.result.kind}${"reason" in r.result ? `:${r.result.reason}` : ""}`;
        kinds.set(k, (kinds.get(k) ?? 0) + 1);
      }
    }),
    { numRuns: 100 },
  );
  for (const k of ["append:ok", "append:conflict", "append:leaseMismatch", "tryTakeLease:granted", "tryTakeLease:conflict:lease-live", "tryTakeLease:conflict:behind", "renewLease:ok", "renewLease:leaseMismatch", "trim:ok"]) {
    t.ok((kinds.get(k) ?? 0) > 20, `${k}: ${kinds.get(k) ?? 0}`);
  }
  t.comment(JSON.stringify([...kinds]));
});

t.test("replicas fed the same entries have byte-identical snapshots, also when restored midway", async (t) => {
  fc.assert(
    fc.property(stepsArb, fc.nat(), (steps, cutPick) => {
      const { entries } = drive(steps);
      const cut = entries.length === 0 ? 0 : cutPick % (entries.length + 1);
      const storeA = new MemoryRecordStore();
      const a = new LogStateMachine(storeA, SMALL);
      const b = new LogStateMachine(new MemoryRecordStore(), SMALL);
      feed(a, entries.slice(0, cut));
      feed(b, entries.slice(0, cut));
      const mid = a.snapshot();
      if (!mid.equals(b.snapshot())) return false;
      const restored = LogStateMachine.restore(mid, shipStore(a, storeA), SMALL);
      if (!restored.ok) return false;
      const c = restored.value;
      if (!c.snapshot().equals(mid)) return false;
      const tail = entries.slice(cut);
      const [ra, rb, rc] = [feed(a, tail), feed(b, tail), feed(c, tail)];
      const end = a.snapshot();
      return end.equals(b.snapshot()) && end.equals(c.snapshot()) && canon(ra) === canon(rb) && canon(ra) === canon(rc) && c.appliedIndex === entries.length;
    }),
    { numRuns: 300 },
  );
  t.pass("snapshots identical");
});

t.test("restoring into a smaller window spills the excess to the store", async (t) => {
  fc.assert(
    fc.property(stepsArb, (steps) => {
      const { entries } = drive(steps);
      const storeA = new MemoryRecordStore();
      const a = new LogStateMachine(storeA, LARGE);
      feed(a, entries);
      const storeB = shipStore(a, storeA);
      const r = LogStateMachine.restore(a.snapshot(), storeB, SMALL);
      if (!r.ok) return false;
      return SHARDS.every((id) => canon(readAll(r.value, storeB, id)) === canon(readAll(a, storeA, id)));
    }),
    { numRuns: 100 },
  );
  t.pass();
});
