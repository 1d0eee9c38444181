// SHA-1 (FIPS 180-4) in plain TypeScript, for the dataset digest's many tiny
// inputs (keys, elements, 20-byte digests). node:crypto's createHash costs
// microseconds of object and binding overhead per call, far more than the
// hashing itself; this hasher reuses one preallocated state and allocates
// nothing per hash. Latin1 strings are read char by char (low byte of each
// char, as Buffer's "latin1" encoding does), so no Buffer is made for them.

import { assert } from "./assert";

export const SHA1_BYTES = 20;

const BLOCK_BYTES = 64;
/** A last block holding more than this many message bytes has no room for the 8-byte length. */
const TAIL_BYTES_MAX = 55;

/**
 * One reusable SHA-1 computation: hash something, then write or XOR the
 * 20-byte result into a caller's array. Input is read completely before
 * output is written, so the output may overlap the input (in-place rehash).
 * Every index is in range by construction (ranges are asserted on entry), so
 * the hot loops use `!` rather than `?? 0` and carry no checks of their own.
 */
export class Sha1 {
  /** The current block as 16 big-endian words; compress() overwrites it with the schedule. */
  private readonly w = new Int32Array(16);
  private readonly h = new Int32Array(5);

  hashLatin1(s: string): this {
    this.reset();
    const n = s.length;
    let i = 0;
    for (; n - i >= BLOCK_BYTES; i += BLOCK_BYTES) {
      this.loadLatin1(s, i, 16);
      this.compress();
    }
    const w = this.w;
    const tail = n - i;
    const words = tail >> 2;
    this.loadLatin1(s, i, words);
    w.fill(0, words, 16);
    for (let k = words << 2; k < tail; k++) {
      w[words] = w[words]! | ((s.charCodeAt(i + k) & 0xff) << (24 - ((k & 3) << 3)));
    }
    this.finish(tail, n);
    return this;
  }

  /** Hashes bytes[start, end). */
  hashBytes(bytes: Uint8Array, start = 0, end = bytes.length): this {
    assert(start >= 0 && start <= end && end <= bytes.length, "sha1: byte range out of bounds");
    this.reset();
    let i = start;
    for (; end - i >= BLOCK_BYTES; i += BLOCK_BYTES) {
      this.loadBytes(bytes, i, 16);
      this.compress();
    }
    const w = this.w;
    const tail = end - i;
    const words = tail >> 2;
    this.loadBytes(bytes, i, words);
    w.fill(0, words, 16);
    for (let k = words << 2; k < tail; k++) {
      w[words] = w[words]! | (bytes[i + k]! << (24 - ((k & 3) << 3)));
    }
    this.finish(tail, end - start);
    return this;
  }

  /** out[offset, offset+20) = the last hash. */
  writeTo(out: Uint8Array, offset = 0): void {
    writeWordsBE(this.h, out, offset);
  }

  /** out[offset, offset+20) ^= the last hash. */
  xorInto(out: Uint8Array, offset = 0): void {
    xorWordsBE(this.h, out, offset);
  }

  /** w[0, words) = big-endian words of the string's chars from `from` on. */
  private loadLatin1(s: string, from: number, words: number): void {
    const w = this.w;
    for (let j = 0, p = from; j < words; j++, p += 4) {
      w[j] =
        ((s.charCodeAt(p) & 0xff) << 24) |
        ((s.charCodeAt(p + 1) & 0xff) << 16) |
        ((s.charCodeAt(p + 2) & 0xff) << 8) |
        (s.charCodeAt(p + 3) & 0xff);
    }
  }

  /** w[0, words) = big-endian words of bytes from `from` on. */
  private loadBytes(bytes: Uint8Array, from: number, words: number): void {
    const w = this.w;
    for (let j = 0, p = from; j < words; j++, p += 4) {
      w[j] = (bytes[p]! << 24) | (bytes[p + 1]! << 16) | (bytes[p + 2]! << 8) | bytes[p + 3]!;
    }
  }

  private reset(): void {
    const h = this.h;
    h[0] = 0x67452301;
    h[1] = 0xefcdab89;
    h[2] = 0x98badcfe;
    h[3] = 0x10325476;
    h[4] = 0xc3d2e1f0;
  }

  /** Pads the tail already in w[0..15] (tailBytes of it) and appends the length in bits. */
  private finish(tailBytes: number, totalBytes: number): void {
    const w = this.w;
    w[tailBytes >> 2] = w[tailBytes >> 2]! | (0x80 << (24 - ((tailBytes & 3) << 3)));
    if (tailBytes > TAIL_BYTES_MAX) {
      this.compress();
      w.fill(0, 0, 16);
    }
    // The bit length as two 32-bit words; the Int32Array keeps the low 32 bits of totalBytes << 3.
    w[14] = Math.floor(totalBytes / 0x20000000);
    w[15] = totalBytes << 3;
    this.compress();
  }

  private compress(): void {
    const w = this.w;
    const h = this.h;
    let a = h[0]!;
    let b = h[1]!;
    let c = h[2]!;
    let d = h[3]!;
    let e = h[4]!;
    // Four rounds of 20 steps; `| 0` keeps every sum a 32-bit integer.
    // Steps 16..79 extend the schedule in place: w is a ring of the last 16 words.
    let i = 0;
    for (; i < 16; i++) {
      const t = (rotl(a, 5) + ((b & c) | (~b & d)) + e + w[i]! + 0x5a827999) | 0;
      e = d; d = c; c = rotl(b, 30); b = a; a = t;
    }
    for (; i < 20; i++) {
      const t = (rotl(a, 5) + ((b & c) | (~b & d)) + e + nextWord(w, i) + 0x5a827999) | 0;
      e = d; d = c; c = rotl(b, 30); b = a; a = t;
    }
    for (; i < 40; i++) {
      const t = (rotl(a, 5) + (b ^ c ^ d) + e + nextWord(w, i) + 0x6ed9eba1) | 0;
      e = d; d = c; c = rotl(b, 30); b = a; a = t;
    }
    for (; i < 60; i++) {
      const t = (rotl(a, 5) + ((b & c) | (b & d) | (c & d)) + e + nextWord(w, i) + 0x8f1bbcdc) | 0;
      e = d; d = c; c = rotl(b, 30); b = a; a = t;
    }
    for (; i < 80; i++) {
      const t = (rotl(a, 5) + (b ^ c ^ d) + e + nextWord(w, i) + 0xca62c1d6) | 0;
      e = d; d = c; c = rotl(b, 30); b = a; a = t;
    }
    h[0] = h[0]! + a;
    h[1] = h[1]! + b;
    h[2] = h[2]! + c;
    h[3] = h[3]! + d;
    h[4] = h[4]! + e;
  }
}

/** out[offset, offset + 4 * words.length) = the words, big endian. */
export function writeWordsBE(words: Int32Array, out: Uint8Array, offset: number): void {
  assert(offset >= 0 && offset + 4 * words.length <= out.length, "hash output out of bounds");
  for (let k = 0, p = offset; k < words.length; k++, p += 4) {
    const v = words[k]!;
    out[p] = v >>> 24;
    out[p + 1] = v >>> 16;
    out[p + 2] = v >>> 8;
    out[p + 3] = v;
  }
}

/** out[offset, offset + 4 * words.length) ^= the words, big endian. */
export function xorWordsBE(words: Int32Array, out: Uint8Array, offset: number): void {
  assert(offset >= 0 && offset + 4 * words.length <= out.length, "hash output out of bounds");
  for (let k = 0, p = offset; k < words.length; k++, p += 4) {
    const v = words[k]!;
    out[p] = out[p]! ^ (v >>> 24);
    out[p + 1] = out[p + 1]! ^ (v >>> 16);
    out[p + 2] = out[p + 2]! ^ (v >>> 8);
    out[p + 3] = out[p + 3]! ^ v;
  }
}

function rotl(x: number, n: number): number {
  return (x << n) | (x >>> (32 - n));
}

/** Schedule word i (16 <= i < 80) from words i-3, i-8, i-14, i-16, stored over word i-16. */
function nextWord(w: Int32Array, i: number): number {
  const x = rotl(w[(i - 3) & 15]! ^ w[(i - 8) & 15]! ^ w[(i - 14) & 15]! ^ w[i & 15]!, 1);
  w[i & 15] = x;
  return x;
}
