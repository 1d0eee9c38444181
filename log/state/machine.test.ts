import t from "tap";
import { encodeEntry } from "../codec";
import { type ApplyOutcome, LogStateMachine, type ReadResult, readThrough } from "./machine";
import { MemoryRecordStore } from "./record-store";
import type { WindowLimits } from "./shard";
import { type Command, type Reply, SHARDS_MAX, type ShardId } from "./types";

const b = (s: string): Buffer => Buffer.from(s);
const leaseOf = (r: Reply): number => {
  if (r.op !== "tryTakeLease" || r.result.kind !== "granted") throw new Error(`not a grant: ${JSON.stringify(r)}`);
  return r.result.leaseId;
};
const recs = (r: ReadResult): readonly Buffer[] | string => (r.kind === "records" ? r.records : r.kind);

/** A state machine fed by a pretend log leader whose clock the test moves. */
function harness(limits: WindowLimits = { windowRecordsMax: 4, windowBytesMax: 1 << 20 }) {
  const store = new MemoryRecordStore();
  const m = new LogStateMachine(store, limits);
  const clock = { term: 1, ms: 1000, index: 0 };
  const entry = (c: Command): ApplyOutcome => m.applyEntry({ index: ++clock.index, term: clock.term, kind: "normal", data: encodeEntry({ proposedAtMs: clock.ms, command: c }) });
  const run = (c: Command): Reply => {
    const o = entry(c);
    if (o.kind !== "applied") throw new Error(`not applied: ${JSON.stringify(o)}`);
    m.checkInvariants();
    return o.reply;
  };
  return {
    m,
    store,
    clock,
    run,
    take: (shard: ShardId, nodeId: string, expectedSeq: number, durationMs = 1000) => run({ kind: "tryTakeLease", shard, nodeId, expectedSeq, durationMs }),
    append: (shard: ShardId, leaseId: number, expectedSeq: number, ...rs: string[]) => run({ kind: "append", shard, leaseId, expectedSeq, records: rs.map(b) }),
    renew: (shard: ShardId, leaseId: number) => run({ kind: "renewLease", shard, leaseId }),
    trim: (shard: ShardId, uptoSeq: number) => run({ kind: "trim", shard, uptoSeq }),
    noop: () => m.applyEntry({ index: ++clock.index, term: clock.term, kind: "noop", data: new Uint8Array(0) }),
    read: (shard: ShardId, from: number, count = 100, bytes = 1 << 20) => readThrough(m, store, shard, from, count, bytes),
  };
}

t.test("a grant at the tip, then conditional appends with dense seqs", async (t) => {
  const h = harness();
  t.same(h.take(0, "a", 0), { op: "tryTakeLease", result: { kind: "granted", leaseId: 1, epoch: 1 } }, "lease id = the grant's Raft index");
  t.same(h.append(0, 1, 0, "r1", "r2"), { op: "append", result: { kind: "ok", lastSeq: 2 } });
  t.same(h.append(0, 1, 2, "r3"), { op: "append", result: { kind: "ok", lastSeq: 3 } });
  t.same(h.read(0, 1), { kind: "records", firstSeq: 1, records: [b("r1"), b("r2"), b("r3")], tip: 3 });
  t.same(h.m.shard(0)?.bytesAppended, 6);
});

t.test("a retried append fails cleanly with a conflict that reports the tip", async (t) => {
  const h = harness();
  h.take(0, "a", 0);
  const first = h.append(0, 1, 0, "x", "y");
  t.same(first.result, { kind: "ok", lastSeq: 2 });
  // The reply was lost; the client retries the very same command.
  const retry = h.append(0, 1, 0, "x", "y");
  t.same(retry.result, { kind: "conflict", tip: 2 }, "tip 2 = expectedSeq 0 + 2 records: the caller's records are in");
  t.same(h.read(0, 1), { kind: "records", firstSeq: 1, records: [b("x"), b("y")], tip: 2 }, "nothing applied twice");
  t.same(h.append(0, 1, 5, "z").result, { kind: "conflict", tip: 2 }, "ahead of the tip is a conflict too");
});

t.test("appends need the live lease; the fence is checked before the seq", async (t) => {
  const h = harness();
  t.same(h.append(0, 1, 0, "x").result, { kind: "leaseMismatch", current: null }, "unknown shard");
  h.take(0, "a", 0, 1000);
  t.same(h.append(0, 99, 0, "x").result, { kind: "leaseMismatch", current: { holder: "a", leaseId: 2, epoch: 1 } });
  t.same(h.append(0, 99, 7, "x").result.kind, "leaseMismatch", "wrong lease and wrong seq: the lease wins");
  h.clock.ms += 999;
  t.same(h.append(0, 2, 0, "x").result, { kind: "ok", lastSeq: 1 }, "live until grantedAt + duration");
  h.clock.ms += 1;
  t.same(h.append(0, 2, 1, "y").result, { kind: "leaseMismatch", current: null }, "expired at grantedAt + duration");
  t.same(h.renew(0, 2).result, { kind: "leaseMismatch", current: null }, "an expired lease cannot be renewed");
});

t.test("tryTakeLease: lease-live, behind, then granted with a new epoch; the old holder is fenced", async (t) => {
  const h = harness();
  h.take(0, "a", 0, 1000);
  h.append(0, 1, 0, "x");
  h.clock.ms += 400;
  t.same(h.take(0, "b", 1).result, { kind: "conflict", reason: "lease-live", holder: { holder: "a", leaseId: 1, epoch: 1 }, remainingMs: 600 });
  t.same(h.take(0, "a", 1).result.kind, "conflict", "the holder itself must renew, not re-take");
  h.clock.ms += 600;
  t.same(h.take(0, "b", 0).result, { kind: "conflict", reason: "behind", tip: 1 }, "a candidate must have applied the whole log");
  const g = h.take(0, "b", 1);
  t.same(g.result, { kind: "granted", leaseId: 6, epoch: 2 });
  t.same(h.append(0, 1, 1, "stale").result, { kind: "leaseMismatch", current: { holder: "b", leaseId: 6, epoch: 2 } });
  t.same(h.renew(0, 1).result.kind, "leaseMismatch");
  t.same(h.append(0, 6, 1, "new").result, { kind: "ok", lastSeq: 2 });
});

t.test("renewals extend from the renewal's stamp", async (t) => {
  const h = harness();
  h.take(0, "a", 0, 1000);
  h.clock.ms += 900;
  t.same(h.renew(0, 1).result, { kind: "ok" });
  h.clock.ms += 900;
  t.same(h.append(0, 1, 0, "x").result.kind, "ok", "1800 ms after the grant, 900 after the renewal");
  h.clock.ms += 100;
  t.same(h.take(0, "b", 1).result.kind, "granted");
});

t.test("a new log leader treats every lease as just renewed at the first entry of its term", async (t) => {
  const h = harness();
  h.take(0, "a", 0, 1000);
  h.take(1, "b", 0, 1000);
  h.clock.ms += 900;
  // The new leader's clock is unrelated: far ahead. Compared naively, both leases look long expired.
  h.clock.term = 2;
  h.clock.ms = 5_000_000;
  h.noop();
  t.same(h.take(0, "c", 0).result, { kind: "conflict", reason: "lease-live", holder: { holder: "a", leaseId: 1, epoch: 1 }, remainingMs: 1000 });
  h.clock.ms += 999;
  t.same(h.take(1, "c", 0).result.kind, "conflict", "still live 999 ms into the new term");
  t.same(h.append(0, 1, 0, "x").result.kind, "ok", "and the holder may still append");
  h.clock.ms += 1;
  const g = h.take(1, "c", 0);
  t.same(g.result.kind, "granted", "expired a full duration after the first entry of the term");
  // A clock far behind is just as harmless.
  h.clock.term = 3;
  h.clock.ms = 10;
  t.same(h.take(1, "d", 0).result.kind, "conflict");
  h.clock.ms = 1009;
  t.same(h.renew(1, leaseOf(g)).result.kind, "ok", "the lease granted in term 2 is renewed in term 3");
});

t.test("a lease its own term saw expire is not revived by a new term", async (t) => {
  const h = harness();
  h.take(0, "a", 0, 1000);
  h.clock.ms += 1000;
  h.trim(0, 0); // any stamped entry at or past the deadline proves the lease expired
  h.clock.term = 2;
  h.clock.ms = 7;
  t.same(h.take(0, "b", 0).result.kind, "granted", "no extra wait after a leader change");
  t.same(h.m.shard(0)?.epoch, 2);
});

t.test("terms with only no-ops between: the carry-over happens at the first stamped entry", async (t) => {
  const h = harness();
  h.take(0, "a", 0, 1000);
  h.clock.term = 2;
  h.clock.ms = 50;
  h.noop();
  h.clock.term = 3;
  h.clock.ms = 100;
  h.noop();
  h.clock.ms = 200;
  t.same(h.take(0, "b", 0).result.kind, "conflict");
  h.clock.ms = 1199;
  t.same(h.take(0, "b", 0).result.kind, "conflict");
  h.clock.ms = 1200;
  t.same(h.take(0, "b", 0).result.kind, "granted");
});

t.test("trim: clamped to the tip, idempotent, monotonic; reads below answer trimmed", async (t) => {
  const h = harness();
  t.same(h.trim(0, 5).result, { kind: "ok", trimPoint: 1 }, "unknown shard: nothing to trim");
  t.same(h.m.shardIds(), [], "and trim creates no shard");
  const id = leaseOf(h.take(0, "a", 0, 100_000));
  h.append(0, id, 0, "1", "2", "3", "4", "5", "6");
  t.same(h.trim(0, 3).result, { kind: "ok", trimPoint: 4 });
  t.same(h.trim(0, 3).result, { kind: "ok", trimPoint: 4 }, "idempotent");
  t.same(h.trim(0, 2).result, { kind: "ok", trimPoint: 4 }, "never backwards");
  t.same(h.read(0, 3), { kind: "trimmed", trimPoint: 4, tip: 6 });
  t.same(h.read(0, 4), { kind: "records", firstSeq: 4, records: [b("4"), b("5"), b("6")], tip: 6 });
  t.same(h.trim(0, 100).result, { kind: "ok", trimPoint: 7 }, "never beyond the tip");
  t.same(h.read(0, 7), { kind: "records", firstSeq: 7, records: [], tip: 6 }, "caught up");
  t.same(h.append(0, id, 6, "7").result, { kind: "ok", lastSeq: 7 });
  t.same(recs(h.read(0, 7)), [b("7")]);
});

t.test("bounded memory: records beyond the window go to the store, and reads stitch both", async (t) => {
  const h = harness({ windowRecordsMax: 3, windowBytesMax: 8 });
  h.take("s", "a", 0, 100_000);
  for (let i = 1; i <= 10; i++) h.append("s", 1, i - 1, `r${i}`);
  const info = h.m.shard("s");
  t.same([info?.windowStartSeq, info?.windowRecords, info?.windowBytes], [8, 3, 7], "the window holds at most 3 records");
  t.same(h.store.held("s"), { first: 1, last: 7 });
  t.same(h.m.read("s", 2, 100, 100), { kind: "inStore", fromSeq: 2, toSeq: 7, tip: 10 });
  t.same(h.read("s", 2, 3), { kind: "records", firstSeq: 2, records: [b("r2"), b("r3"), b("r4")], tip: 10 });
  t.same(h.read("s", 8), { kind: "records", firstSeq: 8, records: [b("r8"), b("r9"), b("r10")], tip: 10 });
  h.append("s", 1, 10, "r11!");
  t.same([h.m.shard("s")?.windowStartSeq, h.m.shard("s")?.windowRecords], [10, 2], "at most 8 bytes: r9 r10 r11! would be 9");
  h.append("s", 1, 11, "a-record-bigger-than-the-window");
  t.same(h.m.shard("s")?.windowRecords, 0, "a record bigger than the window goes straight to the store");
  t.same(h.read("s", 12), { kind: "records", firstSeq: 12, records: [b("a-record-bigger-than-the-window")], tip: 12 });
  h.trim("s", 4);
  t.same(h.store.held("s"), { first: 5, last: 12 });
  t.same(h.read("s", 1, 100, 5), { kind: "trimmed", trimPoint: 5, tip: 12 });
  t.same(h.read("s", 5, 100, 5), { kind: "records", firstSeq: 5, records: [b("r5"), b("r6")], tip: 12 }, "bytesMax bounds a read from the store");
});

t.test("reads are bounded by count and bytes but always make progress", async (t) => {
  const h = harness({ windowRecordsMax: 100, windowBytesMax: 1 << 20 });
  h.take(0, "a", 0, 100_000);
  h.append(0, 1, 0, "aaaa", "bbbb", "cccc");
  t.same(recs(h.read(0, 1, 2)), [b("aaaa"), b("bbbb")]);
  t.same(recs(h.read(0, 1, 10, 1)), [b("aaaa")]);
  t.same(recs(h.read(0, 1, 10, 8)), [b("aaaa"), b("bbbb")]);
  t.same(h.read(9, 1), { kind: "records", firstSeq: 1, records: [], tip: 0 }, "unknown shard reads as empty");
  t.same(h.read(0, 0), { kind: "trimmed", trimPoint: 1, tip: 3 }, "seq 0 never exists");
});

t.test("shards are independent; numbers and names are different shards", async (t) => {
  const h = harness();
  h.take(1, "a", 0);
  h.take("1", "b", 0);
  t.same(h.append(1, 2, 0, "x").result.kind, "leaseMismatch");
  t.same(h.append("1", 2, 0, "x").result.kind, "ok");
  t.same(h.m.shardIds(), [1, "1"]);
});

t.test("only a grant creates a shard, and the shard table is bounded", async (t) => {
  const h = harness();
  t.same(h.take("fresh", "n", 3).result, { kind: "conflict", reason: "behind", tip: 0 });
  t.same(h.m.shardIds(), [], "a refused grant creates nothing");
  for (let i = 0; i < SHARDS_MAX; i++) h.m.apply(++h.clock.index, { term: 1, proposedAtMs: 1 }, { kind: "tryTakeLease", shard: i, nodeId: "n", expectedSeq: 0, durationMs: 1 });
  t.same(h.take("one-too-many", "n", 0).result, { kind: "conflict", reason: "shard-limit" });
  t.same(h.take(5, "n", 0).result.kind, "granted", "existing shards still work");
  t.same(h.renew("nope", 1).result, { kind: "leaseMismatch", current: null });
  t.equal(h.m.shardIds().length, SHARDS_MAX);
});

t.test("an undecodable entry halts the state machine without applying anything", async (t) => {
  const h = harness();
  h.take(0, "a", 0);
  const before = h.m.snapshot();
  const newer = encodeEntry({ proposedAtMs: 1, command: { kind: "trim", shard: 0, uptoSeq: 0 } });
  newer[1] = 2;
  const o = h.m.applyEntry({ index: 2, term: 1, kind: "normal", data: newer });
  t.equal(o.kind, "halt");
  t.match(o.kind === "halt" && o.error, { code: "version", message: /newer than this node understands/ });
  const junk = h.m.applyEntry({ index: 2, term: 1, kind: "normal", data: Buffer.from("junk") });
  t.match(junk.kind === "halt" && junk.error, { code: "malformed" });
  t.ok(h.m.snapshot().equals(before), "state unchanged");
  t.equal(h.m.appliedIndex, 1);
  t.throws(() => h.m.applyEntry({ index: 5, term: 1, kind: "noop", data: new Uint8Array(0) }), /entry 5 applied after 1/, "gaps are programmer errors");
  t.throws(() => h.m.applyEntry({ index: 2, term: 0, kind: "normal", data: encodeEntry({ proposedAtMs: 1, command: { kind: "trim", shard: 0, uptoSeq: 0 } }) }), /term 0 after term 1/);
});
