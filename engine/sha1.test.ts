import { createHash } from "node:crypto";
import fc from "fast-check";
import t from "tap";
import { SHA1_BYTES, Sha1 } from "./sha1";

const RUNS = 2000;

function reference(data: string | Uint8Array): string {
  const h = createHash("sha1");
  if (typeof data === "string") h.update(data, "latin1");
  else h.update(data);
  return h.digest("hex");
}

function hex(sha: Sha1): string {
  const out = new Uint8Array(SHA1_BYTES);
  sha.writeTo(out);
  return Buffer.from(out).toString("hex");
}

// Lengths 0..300 cross every padding case: a tail of 55 bytes still fits the
// length, 56..63 needs an extra block, 64 is a whole block, and up to 4 blocks.
const latin1 = fc.string({ unit: fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)), maxLength: 300 });

t.test("SHA-1 of latin1 strings equals node:crypto's", async (t) => {
  const sha = new Sha1();
  fc.assert(fc.property(latin1, (s) => hex(sha.hashLatin1(s)) === reference(s)), { numRuns: RUNS });
  for (let n = 0; n <= 200; n++) {
    const s = "\xff\x80a".repeat(n).slice(0, n);
    t.equal(hex(sha.hashLatin1(s)), reference(s), `length ${n}`);
  }
  t.equal(hex(sha.hashLatin1("abc")), "a9993e364706816aba3e25717850c26c9cd0d89d", "FIPS 180 example");
});

t.test("chars above 0xff hash their low byte, as Buffer's latin1 encoding does", async (t) => {
  const sha = new Sha1();
  const wide = fc.string({ unit: "binary", maxLength: 130 });
  fc.assert(fc.property(wide, (s) => hex(sha.hashLatin1(s)) === reference(s)), { numRuns: 500 });
  t.pass();
});

t.test("SHA-1 of byte ranges equals node:crypto's", async (t) => {
  const sha = new Sha1();
  const slice = fc
    .uint8Array({ maxLength: 300 })
    .chain((b) => fc.tuple(fc.constant(b), fc.nat(b.length), fc.nat(b.length)))
    .map(([b, x, y]) => [b, Math.min(x, y), Math.max(x, y)] as const);
  fc.assert(
    fc.property(slice, ([b, start, end]) => hex(sha.hashBytes(b, start, end)) === reference(b.subarray(start, end))),
    { numRuns: RUNS },
  );
  const buf = Buffer.from("The quick brown fox jumps over the lazy dog", "latin1");
  t.equal(hex(sha.hashBytes(buf)), "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12");
});

t.test("the result can overwrite its own input and be XORed into a digest", async (t) => {
  const sha = new Sha1();
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 40, maxLength: 40 }), (b) => {
      const expected = createHash("sha1").update(b.subarray(0, 20)).digest();
      const acc = Buffer.from(b.subarray(20));
      const want = Buffer.from(acc.map((x, i) => x ^ (expected[i] ?? 0)));
      sha.hashBytes(b, 0, 20).xorInto(acc);
      sha.writeTo(b, 0);
      return Buffer.from(b.subarray(0, 20)).equals(expected) && acc.equals(want);
    }),
    { numRuns: RUNS },
  );
  t.pass();
});

t.test("out-of-range input or output is refused, not silently zero-filled", async (t) => {
  const sha = new Sha1();
  t.throws(() => sha.hashBytes(new Uint8Array(4), 2, 6));
  t.throws(() => sha.hashBytes(new Uint8Array(4), 3, 2));
  t.throws(() => sha.hashLatin1("x").writeTo(new Uint8Array(SHA1_BYTES), 1));
  t.throws(() => sha.hashLatin1("x").xorInto(new Uint8Array(SHA1_BYTES - 1)));
});
