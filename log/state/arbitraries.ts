// fast-check generators for the log state machine's values. Test support only:
// nothing outside *.test.ts imports this file.
import fc from "fast-check";
import type { Command, EntryPayload, LeaseView, Reply, ShardId } from "./types";
import { LEASE_DURATION_MS_MAX, SHARD_NUMBER_MAX } from "./types";

const seqArb = fc.oneof(fc.nat({ max: 1000 }), fc.constant(0), fc.constant(Number.MAX_SAFE_INTEGER), fc.maxSafeNat());
const idArb = fc.oneof(fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }));

/** A name that is valid UTF-8 of 1..255 bytes (no lone surrogates). */
export const nameArb: fc.Arbitrary<string> = fc
  .string({ unit: "grapheme", minLength: 1, maxLength: 40 })
  .filter((s) => Buffer.byteLength(s, "utf8") <= 255 && Buffer.byteLength(s, "utf8") >= 1);

export const shardArb: fc.Arbitrary<ShardId> = fc.oneof(fc.nat({ max: 20 }), fc.constant(SHARD_NUMBER_MAX), nameArb);

export const recordArb: fc.Arbitrary<Buffer> = fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a));

export const commandArb: fc.Arbitrary<Command> = fc.oneof(
  fc.record({
    kind: fc.constant("append" as const),
    shard: shardArb,
    records: fc.array(recordArb, { minLength: 1, maxLength: 6 }),
    expectedSeq: seqArb,
    leaseId: idArb,
  }),
  fc.record({
    kind: fc.constant("tryTakeLease" as const),
    shard: shardArb,
    nodeId: nameArb,
    expectedSeq: seqArb,
    durationMs: fc.integer({ min: 1, max: LEASE_DURATION_MS_MAX }),
  }),
  fc.record({ kind: fc.constant("renewLease" as const), shard: shardArb, leaseId: idArb }),
  fc.record({ kind: fc.constant("trim" as const), shard: shardArb, uptoSeq: seqArb }),
);

export const entryPayloadArb: fc.Arbitrary<EntryPayload> = fc.record({ proposedAtMs: fc.maxSafeNat(), command: commandArb });

const leaseViewArb: fc.Arbitrary<LeaseView> = fc.record({ holder: nameArb, leaseId: idArb, epoch: idArb });

export const replyArb: fc.Arbitrary<Reply> = fc.oneof(
  fc.record({ op: fc.constant("append" as const), result: fc.record({ kind: fc.constant("ok" as const), lastSeq: idArb }) }),
  fc.record({ op: fc.constant("append" as const), result: fc.record({ kind: fc.constant("conflict" as const), tip: seqArb }) }),
  fc.record({
    op: fc.constant("append" as const),
    result: fc.record({ kind: fc.constant("leaseMismatch" as const), current: fc.option(leaseViewArb, { nil: null }) }),
  }),
  fc.record({ op: fc.constant("tryTakeLease" as const), result: fc.record({ kind: fc.constant("granted" as const), leaseId: idArb, epoch: idArb }) }),
  fc.record({
    op: fc.constant("tryTakeLease" as const),
    result: fc.record({
      kind: fc.constant("conflict" as const),
      reason: fc.constant("lease-live" as const),
      holder: leaseViewArb,
      remainingMs: fc.integer({ min: 1, max: LEASE_DURATION_MS_MAX }),
    }),
  }),
  fc.record({
    op: fc.constant("tryTakeLease" as const),
    result: fc.record({ kind: fc.constant("conflict" as const), reason: fc.constant("behind" as const), tip: seqArb }),
  }),
  fc.record({ op: fc.constant("tryTakeLease" as const), result: fc.record({ kind: fc.constant("conflict" as const), reason: fc.constant("shard-limit" as const) }) }),
  fc.record({ op: fc.constant("renewLease" as const), result: fc.record({ kind: fc.constant("ok" as const) }) }),
  fc.record({
    op: fc.constant("renewLease" as const),
    result: fc.record({ kind: fc.constant("leaseMismatch" as const), current: fc.option(leaseViewArb, { nil: null }) }),
  }),
  fc.record({ op: fc.constant("trim" as const), result: fc.record({ kind: fc.constant("ok" as const), trimPoint: idArb }) }),
);

/** A canonical text of a value, for comparisons: keys sorted, buffers as hex, prototypes ignored. */
export function canon(x: unknown): string {
  if (Buffer.isBuffer(x)) return `<${x.toString("hex")}>`;
  if (Array.isArray(x)) return `[${x.map(canon).join(",")}]`;
  if (x !== null && typeof x === "object") {
    const o = x as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .map((k) => `${k}:${canon(o[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(x);
}
