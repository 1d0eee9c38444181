import fc from "fast-check";
import t from "tap";
import {
  decodeCommand,
  decodeEntry,
  decodeReply,
  encodeCommand,
  encodeEntry,
  encodeReply,
  FORMAT_VERSION,
  stampCommand,
  type Decoded,
} from "./codec";
import { canon, commandArb, entryPayloadArb, replyArb } from "./state/arbitraries";
import type { Command } from "./state/types";

const same = (a: unknown, b: unknown): boolean => canon(a) === canon(b);

function value<T>(d: Decoded<T>): T {
  if (!d.ok) throw new Error(`decode failed: ${d.error.message}`);
  return d.value;
}

const decoders = [decodeCommand, decodeEntry, decodeReply] as const;

/** A decoder's verdict, with any exception caught and reported as such. */
function verdict(decode: (b: Uint8Array) => Decoded<unknown>, b: Uint8Array): "ok" | "rejected" | string {
  try {
    const d = decode(b);
    if (d.ok) return "ok";
    return typeof d.error.message === "string" && d.error.message.length > 0 ? "rejected" : "rejected without a message";
  } catch (e) {
    return `threw: ${String(e)}`;
  }
}

t.test("commands, entries and replies round-trip", async (t) => {
  fc.assert(
    fc.property(commandArb, (c) => same(value(decodeCommand(encodeCommand(c))), c)),
    { numRuns: 500 },
  );
  fc.assert(
    fc.property(entryPayloadArb, (p) => same(value(decodeEntry(encodeEntry(p))), p)),
    { numRuns: 500 },
  );
  fc.assert(
    fc.property(replyArb, (r) => same(value(decodeReply(encodeReply(r))), r)),
    { numRuns: 500 },
  );
  t.pass("round trips hold");
});

t.test("stamping a client's command gives the same bytes as encoding the entry", async (t) => {
  fc.assert(
    fc.property(commandArb, fc.maxSafeNat(), (command, proposedAtMs) => {
      const stamped = value(stampCommand(encodeCommand(command), proposedAtMs));
      return stamped.equals(encodeEntry({ proposedAtMs, command }));
    }),
    { numRuns: 300 },
  );
  const bad = stampCommand(Buffer.from([0x43, FORMAT_VERSION, 9]), 1);
  t.notOk(bad.ok, "a garbage command is not stamped");
});

t.test("fuzzed garbage is rejected with a message and never throws", async (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => decoders.every((d) => verdict(d, bytes) !== "rejected without a message" && !verdict(d, bytes).startsWith("threw"))),
    { numRuns: 3000 },
  );
  // Garbage with a valid header reaches the body decoders.
  const headed = (magic: number): fc.Arbitrary<Uint8Array> =>
    fc.uint8Array({ maxLength: 60 }).map((b) => Buffer.concat([Buffer.from([magic, FORMAT_VERSION]), b]));
  for (const [magic, decode] of [
    [0x43, decodeCommand],
    [0x45, decodeEntry],
    [0x52, decodeReply],
  ] as const) {
    fc.assert(fc.property(headed(magic), (b) => ["ok", "rejected"].includes(verdict(decode, b))), { numRuns: 3000 });
  }
  t.pass("no decoder threw");
});

t.test("a mutated encoding is rejected, or decodes to a value that encodes back to the same bytes", async (t) => {
  const mutation = fc.record({ at: fc.nat(), byte: fc.nat({ max: 255 }), how: fc.constantFrom("flip", "cut", "insert", "append") });
  const mutate = (b: Buffer, m: { at: number; byte: number; how: string }): Buffer => {
    const i = b.length === 0 ? 0 : m.at % b.length;
    if (m.how === "flip") return Buffer.concat([b.subarray(0, i), Buffer.from([m.byte]), b.subarray(i + 1)]);
    if (m.how === "cut") return b.subarray(0, i);
    if (m.how === "insert") return Buffer.concat([b.subarray(0, i), Buffer.from([m.byte]), b.subarray(i)]);
    return Buffer.concat([b, Buffer.from([m.byte])]);
  };
  fc.assert(
    fc.property(entryPayloadArb, mutation, (p, m) => {
      const b = mutate(encodeEntry(p), m);
      const d = decodeEntry(b);
      return !d.ok || encodeEntry(d.value).equals(b);
    }),
    { numRuns: 2000 },
  );
  fc.assert(
    fc.property(replyArb, mutation, (r, m) => {
      const b = mutate(encodeReply(r), m);
      const d = decodeReply(b);
      return !d.ok || encodeReply(d.value).equals(b);
    }),
    { numRuns: 2000 },
  );
  t.pass();
});

t.test("decode errors say what is wrong", async (t) => {
  const append: Command = { kind: "append", shard: 0, records: [Buffer.from("x")], expectedSeq: 0, leaseId: 1 };
  const good = encodeCommand(append);
  const err = (d: Decoded<unknown>): string => (d.ok ? "decoded" : `${d.error.code}: ${d.error.message}`);
  t.match(err(decodeCommand(good.subarray(0, good.length - 1))), /malformed: command: truncated at byte \d+: record needs 1 bytes/);
  t.match(err(decodeCommand(Buffer.concat([good, Buffer.from([0])]))), /1 trailing bytes/);
  t.match(err(decodeCommand(Buffer.from([0x43, FORMAT_VERSION + 1, 1]))), /^version: command: format version 2 is newer/);
  t.match(err(decodeCommand(Buffer.from([0x43, 0]))), /unknown format version 0/);
  t.match(err(decodeCommand(encodeEntry({ proposedAtMs: 1, command: append }))), /not a command/);
  t.match(err(decodeCommand(Buffer.from([0x43, FORMAT_VERSION, 7]))), /unknown command op 7/);
  // A name that is not UTF-8.
  t.match(err(decodeCommand(Buffer.from([0x43, FORMAT_VERSION, 4, 1, 1, 0xff, 0, 0, 0, 0, 0, 0, 0, 0]))), /shard name is not valid UTF-8/);
  const zeroRecords = Buffer.from(good);
  zeroRecords.writeUInt32BE(0, 2 + 1 + 5 + 16);
  t.match(err(decodeCommand(zeroRecords.subarray(0, 2 + 1 + 5 + 16 + 4))), /append carries 0 records/);
  const noLease = encodeCommand({ kind: "renewLease", shard: 1, leaseId: 5 });
  noLease.fill(0, noLease.length - 8);
  t.match(err(decodeCommand(noLease)), /bad leaseId 0/);
  const huge = Buffer.from(noLease);
  huge.writeUInt32BE(0x00200000, huge.length - 8);
  t.match(err(decodeCommand(huge)), /leaseId exceeds 2\^53 - 1/);
  const take = encodeCommand({ kind: "tryTakeLease", shard: 0, nodeId: "n", expectedSeq: 0, durationMs: 10 });
  take.writeUInt32BE(0, take.length - 4);
  t.match(err(decodeCommand(take)), /durationMs 0 outside/);
  t.match(err(decodeReply(Buffer.from([0x52, FORMAT_VERSION, 4, 2]))), /unknown trim outcome 2/);
});

t.test("encoders refuse invalid values (programmer errors)", async (t) => {
  t.throws(() => encodeCommand({ kind: "renewLease", shard: -1, leaseId: 1 }), /invalid command/);
  t.throws(() => encodeCommand({ kind: "append", shard: 0, records: [], expectedSeq: 0, leaseId: 1 }), /0 records/);
  t.throws(() => encodeCommand({ kind: "trim", shard: "", uptoSeq: 1 }), /bad shard id/);
  t.throws(() => encodeCommand({ kind: "tryTakeLease", shard: 0, nodeId: "\ud800", expectedSeq: 0, durationMs: 5 }), /bad nodeId/);
  t.throws(() => encodeReply({ op: "trim", result: { kind: "ok", trimPoint: 0 } }), /invalid reply/);
});

t.test("the format is compact: an append of one 100-byte record costs 32 bytes of framing", async (t) => {
  const c: Command = { kind: "append", shard: 0, records: [Buffer.alloc(100)], expectedSeq: 41, leaseId: 7 };
  t.equal(encodeCommand(c).length, 132);
  t.equal(encodeEntry({ proposedAtMs: 5, command: c }).length, 140);
});
