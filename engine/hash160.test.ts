import fc from "fast-check";
import t from "tap";
import { HASH160_BYTES, Hash160 } from "./hash160";

const h = new Hash160();
const ofString = (s: string): string => {
  const out = Buffer.alloc(HASH160_BYTES);
  h.hashLatin1(s).writeTo(out);
  return out.toString("hex");
};
const ofBytes = (b: Uint8Array): string => {
  const out = Buffer.alloc(HASH160_BYTES);
  h.hashBytes(b).writeTo(out);
  return out.toString("hex");
};

t.test("a latin1 string and its bytes hash alike; a byte range hashes like a copy of it", async (t) => {
  fc.assert(
    fc.property(fc.string({ unit: fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)), maxLength: 70 }), fc.nat(), fc.nat(), (s, x, y) => {
      const b = Buffer.from(s, "latin1");
      const [from, to] = [x % (b.length + 1), y % (b.length + 1)].sort((p, q) => p - q) as [number, number];
      const ranged = Buffer.alloc(HASH160_BYTES);
      h.hashBytes(b, from, to).writeTo(ranged);
      return ofString(s) === ofBytes(b) && ranged.toString("hex") === ofBytes(b.subarray(from, to));
    }),
  );
});

t.test("inputs that differ only in trailing zero bytes, or in one bit anywhere, hash apart", async (t) => {
  const seen = new Set<string>();
  for (let n = 0; n <= 9; n++) seen.add(ofString("a" + "\x00".repeat(n)));
  t.equal(seen.size, 10, "a, a\\0, a\\0\\0, ... all differ");
  t.not(ofString(""), ofString("\x00"));
  const base = Buffer.from("the quick brown fox jumps over the lazy dog", "latin1");
  const flips = new Set<string>([ofBytes(base)]);
  for (let bit = 0; bit < base.length * 8; bit++) {
    const c = Buffer.from(base);
    c[bit >> 3] = (c[bit >> 3] ?? 0) ^ (1 << (bit & 7));
    flips.add(ofBytes(c));
  }
  t.equal(flips.size, base.length * 8 + 1, "every single-bit change gives another hash");
});

t.test("no collision among 200,000 short keys, and every output bit is used", async (t) => {
  const seen = new Set<string>();
  const ones = new Array<number>(HASH160_BYTES * 8).fill(0);
  const out = Buffer.alloc(HASH160_BYTES);
  const n = 200_000;
  for (let i = 0; i < n; i++) {
    h.hashLatin1(`key:${i}`).writeTo(out);
    seen.add(out.toString("hex"));
    for (let bit = 0; bit < ones.length; bit++) if (((out[bit >> 3] ?? 0) >> (bit & 7)) & 1) ones[bit] = (ones[bit] ?? 0) + 1;
  }
  t.equal(seen.size, n);
  const skewed = ones.filter((c) => Math.abs(c / n - 0.5) > 0.01).length;
  t.equal(skewed, 0, "each of the 160 bits is set in 49-51% of the hashes");
});

t.test("xorInto XORs what writeTo writes", async (t) => {
  const a = Buffer.alloc(HASH160_BYTES + 3, 0x5a);
  const w = Buffer.alloc(HASH160_BYTES);
  h.hashLatin1("abc").writeTo(w);
  h.hashLatin1("abc").xorInto(a, 3);
  for (let i = 0; i < HASH160_BYTES; i++) t.equal(a[i + 3], (w[i] ?? 0) ^ 0x5a);
  t.throws(() => h.xorInto(Buffer.alloc(HASH160_BYTES), 1), /out of bounds/);
});
