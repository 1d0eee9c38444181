import t from "tap";
import fc from "fast-check";
import type { Effect } from "../engine/context";
import { encodeAnnounce, encodeEffects, RecordReader, RECORD_FORMAT_VERSION } from "./record";

const arbEffect: fc.Arbitrary<Effect> = fc.record({
  db: fc.integer({ min: 0, max: 15 }),
  argv: fc.array(fc.string({ unit: fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)), maxLength: 40 }), { minLength: 1, maxLength: 6 }),
});

function readAll(records: readonly Buffer[]): Effect[][] {
  const r = new RecordReader();
  const out: Effect[][] = [];
  for (const rec of records) {
    const d = r.push(rec);
    if (d === null) continue;
    if (!d.ok) throw new Error(d.error);
    if (d.record.kind === "effects") out.push(d.record.effects);
  }
  return out;
}

t.test("a batch of effects comes back identical, binary arguments included, whatever the chunk size", async (t) => {
  fc.assert(
    fc.property(fc.array(arbEffect, { maxLength: 20 }), fc.integer({ min: 1, max: 64 }), (effects, chunk) => {
      const records = encodeEffects(effects, chunk);
      for (const rec of records) t.ok(rec.length <= chunk + 3);
      const got = readAll(records);
      t.same(got, [effects.map((e) => ({ db: e.db, argv: [...e.argv] }))]);
    }),
    { numRuns: 200 },
  );
});

t.test("an announcement round-trips and drops the chunks of a batch its primary never finished", async (t) => {
  const chunks = encodeEffects([{ db: 0, argv: ["SET", "k", "x".repeat(100)] }], 16);
  t.ok(chunks.length > 2);
  const r = new RecordReader();
  t.equal(r.push(chunks[0] as Buffer), null);
  t.ok(r.partial);
  const d = r.push(encodeAnnounce({ nodeId: "n1", host: "127.0.0.1", port: 6380, epoch: 7 }));
  t.same(d, { ok: true, record: { kind: "announce", nodeId: "n1", host: "127.0.0.1", port: 6380, epoch: 7 } });
  t.notOk(r.partial);
  const after = readAll([...encodeEffects([{ db: 1, argv: ["DEL", "a"] }])]);
  t.same(after, [[{ db: 1, argv: ["DEL", "a"] }]]);
});

t.test("truncated, unknown and newer-format records are refused with a reason", async (t) => {
  const [rec] = encodeEffects([{ db: 0, argv: ["SET", "k", "v"] }]);
  const whole = rec as Buffer;
  for (let cut = 0; cut < whole.length; cut++) {
    const d = new RecordReader().push(whole.subarray(0, cut));
    t.ok(d !== null && !d.ok, `cut at ${cut}`);
  }
  const newer = Buffer.from(whole);
  newer[0] = RECORD_FORMAT_VERSION + 1;
  const d1 = new RecordReader().push(newer);
  t.match(d1, { ok: false, error: /newer than this server understands/ });
  const odd = Buffer.from(whole);
  odd[1] = 99;
  t.match(new RecordReader().push(odd), { ok: false, error: /unknown record type/ });
  const extra = Buffer.concat([whole, Buffer.from([0])]);
  t.match(new RecordReader().push(extra), { ok: false, error: /after the last effect/ });
});

t.test("the running checksum: a CHECKSUM record matching the records before it passes; any earlier change is caught", async (t) => {
  const { RunningChecksum, encodeChecksum } = await import("./record");
  const batches = [0, 1, 2, 3].map((i) => encodeEffects([{ db: 0, argv: ["SET", `k${i}`, `v${i}`] }])[0] as Buffer);
  const writer = new RunningChecksum();
  for (const b of batches) writer.fold(b);
  const log = [...batches, encodeChecksum(writer.value())];

  const good = new RecordReader();
  const kinds = log.map((r) => {
    const d = good.push(r);
    return d !== null && d.ok ? d.record.kind : "error";
  });
  t.same(kinds, ["effects", "effects", "effects", "effects", "checksum"]);

  const tampered = log.map((r) => Buffer.from(r));
  const victim = tampered[2] as Buffer;
  victim[victim.length - 1] = (victim[victim.length - 1] as number) ^ 1;
  const bad = new RecordReader();
  const outcomes = tampered.map((r) => bad.push(r));
  t.match(outcomes[4], { ok: false, error: /running checksum mismatch/ }, "a flipped byte two records earlier is reported");

  // A reader that starts from a snapshot continues from the checksum recorded there.
  const fromSnap = new RecordReader(new RunningChecksum().value());
  for (const r of log.slice(0, 2)) fromSnap.push(r);
  const resumed = new RecordReader(fromSnap.checksum);
  const tail = log.slice(2).map((r) => resumed.push(r));
  t.match(tail[2], { ok: true, record: { kind: "checksum" } });
});
