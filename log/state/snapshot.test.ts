import fc from "fast-check";
import t from "tap";
import { encodeEntry } from "../codec";
import { crc32c as crc } from "./bytes";
import { LogStateMachine } from "./machine";
import { MemoryRecordStore } from "./record-store";
import { decodeSnapshot, encodeSnapshot, type ShardSnapshot, type SnapshotData } from "./snapshot";
import type { Command } from "./types";

function sample(): LogStateMachine {
  const m = new LogStateMachine(new MemoryRecordStore(), { windowRecordsMax: 2, windowBytesMax: 100 });
  const cmds: Command[] = [
    { kind: "tryTakeLease", shard: 0, nodeId: "az-a/6379", expectedSeq: 0, durationMs: 2000 },
    { kind: "append", shard: 0, leaseId: 1, expectedSeq: 0, records: [Buffer.from("one"), Buffer.from("two"), Buffer.from("three")] },
    { kind: "tryTakeLease", shard: "cfg", nodeId: "b", expectedSeq: 0, durationMs: 10 },
    { kind: "trim", shard: 0, uptoSeq: 1 },
  ];
  cmds.forEach((command, i) => m.applyEntry({ index: i + 1, term: 3, kind: "normal", data: encodeEntry({ proposedAtMs: 100 + i, command }) }));
  return m;
}

t.test("an empty state machine and a sample one survive a round trip", async (t) => {
  for (const m of [new LogStateMachine(new MemoryRecordStore()), sample()]) {
    const snap = m.snapshot();
    const r = LogStateMachine.restore(snap, new MemoryRecordStore(), { windowRecordsMax: 2, windowBytesMax: 100 });
    t.ok(r.ok && r.value.snapshot().equals(snap));
    t.ok(r.ok && r.value.appliedIndex === m.appliedIndex);
  }
  const d = decodeSnapshot(sample().snapshot());
  t.match(d.ok && d.value, { appliedIndex: 4, stampTerm: 3, stampLastMs: 103, shards: [{ shard: 0, tip: 3, trimPoint: 2, windowStartSeq: 2 }, { shard: "cfg", tip: 0 }] });
});

t.test("every single-bit flip is caught by the checksum", async (t) => {
  const snap = sample().snapshot();
  let caught = 0;
  for (let i = 0; i < snap.length; i++) {
    for (let bit = 0; bit < 8; bit++) {
      const bad = Buffer.from(snap);
      bad[i] = (bad[i] as number) ^ (1 << bit);
      const d = decodeSnapshot(bad);
      if (!d.ok) caught++;
    }
  }
  t.equal(caught, snap.length * 8);
  const cut = decodeSnapshot(snap.subarray(0, snap.length - 1));
  t.match(cut.ok ? "" : cut.error.message, /checksum mismatch/);
});

t.test("a newer snapshot version is reported as such, before the checksum", async (t) => {
  const snap = sample().snapshot();
  snap[4] = 2;
  const d = decodeSnapshot(snap);
  t.match(d.ok ? null : d.error, { code: "version", message: /version 2 is newer than this node understands \(1\)/ });
});

t.test("well-checksummed nonsense is still rejected", async (t) => {
  const base: ShardSnapshot = { shard: 0, tip: 5, trimPoint: 1, bytesAppended: 0, epoch: 1, lease: null, windowStartSeq: 6, windowRecords: [] };
  const data = (shards: ShardSnapshot[], stampTerm = 1): SnapshotData => ({ appliedIndex: 9, stampTerm, stampLastMs: 0, shards });
  const lease = { holder: "a", leaseId: 1, epoch: 1, durationMs: 10, grantedAtMs: 0, term: 1 };
  const cases: [SnapshotData, RegExp][] = [
    [data([{ ...base, trimPoint: 7 }]), /trimPoint 7 vs tip 5/],
    [data([{ ...base, windowStartSeq: 5 }]), /window 5\+0 vs trim 1 tip 5/],
    [data([{ ...base, lease: { ...lease, epoch: 2 } }]), /epoch 2 vs shard epoch 1/],
    [data([{ ...base, lease }], 2), /lease of term 1 in a state at term 2/],
    [data([{ ...base, lease: { ...lease, durationMs: 0 } }]), /lease duration 0/],
  ];
  for (const [d, re] of cases) {
    const r = decodeSnapshot(encodeSnapshot(d));
    t.match(r.ok ? "decoded" : r.error.message, re);
  }
  t.throws(() => encodeSnapshot(data([base, base])), /out of order/, "the encoder refuses duplicate shards");
});

t.test("fuzzed snapshots are rejected without exceptions", async (t) => {
  const snap = sample().snapshot();
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
      const d = decodeSnapshot(b);
      return !d.ok && d.error.message.length > 0;
    }),
    { numRuns: 2000 },
  );
  // Mutate the body, then fix up the checksum so the field checks are what is tested.
  fc.assert(
    fc.property(fc.nat(), fc.nat({ max: 255 }), (at, byte) => {
      const body = Buffer.from(snap.subarray(0, snap.length - 4));
      body[at % body.length] = byte;
      const fixed = Buffer.concat([body, Buffer.alloc(4)]);
      fixed.writeUInt32BE(crc(body), body.length);
      const r = LogStateMachine.restore(fixed, new MemoryRecordStore());
      return !r.ok || r.value.snapshot().equals(fixed);
    }),
    { numRuns: 3000 },
  );
  t.pass("a mutated body either fails validation or restores to a state that snapshots to the same bytes");
});
