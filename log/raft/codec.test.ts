// The wire and disk encoding: every message kind round-trips exactly, and
// malformed input (truncated, corrupted, random) is an error value, never a
// crash or a wrong message.
import t from "tap";
import fc from "fast-check";
import { decodeMessage, encodeMessage } from "./codec";
import type { Entry, Message } from "./types";

const idArb = fc.constantFrom("az-a", "az-b", "n1", "ünïcode");
const uintArb = fc.oneof(fc.nat(1000), fc.constant(2 ** 53 - 1), fc.nat());
const entryArb: fc.Arbitrary<Entry> = fc.record({
  index: uintArb,
  term: uintArb,
  kind: fc.constantFrom("normal" as const, "noop" as const),
  data: fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)),
});

const messageArb: fc.Arbitrary<Message> = fc
  .tuple(idArb, idArb, uintArb)
  .chain(([from, to, term]) =>
    fc.oneof(
      fc.record({ kind: fc.constantFrom("prevote" as const, "vote" as const), lastIndex: uintArb, lastTerm: uintArb }),
      fc.record({ kind: fc.constantFrom("prevote-resp" as const, "vote-resp" as const), reject: fc.boolean() }),
      fc.record({ kind: fc.constant("app" as const), prevIndex: uintArb, prevTerm: uintArb, commit: uintArb, entries: fc.array(entryArb, { maxLength: 5 }) }),
      fc.record({ kind: fc.constant("app-resp" as const), index: uintArb, reject: fc.boolean(), hintIndex: uintArb, hintTerm: uintArb }),
      fc.record({ kind: fc.constant("heartbeat" as const), commit: uintArb }),
      fc.record({ kind: fc.constant("heartbeat-resp" as const) }),
      fc.record({
        kind: fc.constant("snap" as const),
        snapshot: fc.record({ index: uintArb, term: uintArb, data: fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)) }),
      }),
    ).map((body) => ({ ...body, from, to, term }) as Message),
  );

/** Byte fields decode as views; compare them as plain arrays. */
function plain(x: unknown): unknown {
  if (x instanceof Uint8Array) return [...x];
  if (Array.isArray(x)) return x.map(plain);
  if (x !== null && typeof x === "object") {
    const keys = Object.keys(x).sort();
    return Object.fromEntries(keys.map((k) => [k, plain((x as Record<string, unknown>)[k])]));
  }
  return x;
}

t.test("every message round-trips exactly", async (t) => {
  fc.assert(
    fc.property(messageArb, (m) => {
      const d = decodeMessage(encodeMessage(m));
      return d.ok && JSON.stringify(plain(d.value)) === JSON.stringify(plain(m));
    }),
    { numRuns: 2000 },
  );
  t.pass("2000 random messages round-tripped");
});

t.test("every strict prefix of an encoding is rejected", async (t) => {
  fc.assert(
    fc.property(messageArb, (m) => {
      const b = encodeMessage(m);
      for (let n = 0; n < b.length; n++) if (decodeMessage(b.subarray(0, n)).ok) return false;
      return !decodeMessage(Buffer.concat([b, Buffer.from([0])])).ok;
    }),
    { numRuns: 300 },
  );
  t.pass("prefixes and trailing bytes are errors");
});

t.test("random bytes never crash the decoder", async (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      const d = decodeMessage(bytes);
      return d.ok || typeof d.error === "string";
    }),
    { numRuns: 5000 },
  );
  t.pass("5000 random inputs decoded or refused");
});

t.test("an absurd entry count is refused before allocating", async (t) => {
  const m: Message = { kind: "app", from: "a", to: "b", term: 1, prevIndex: 0, prevTerm: 0, commit: 0, entries: [] };
  const b = Buffer.from(encodeMessage(m));
  b.writeUInt32LE(0xffffffff, b.length - 4);
  const d = decodeMessage(b);
  t.notOk(d.ok);
  t.match(d.ok ? "" : d.error, /entry count/);
});
