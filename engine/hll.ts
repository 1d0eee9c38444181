// HyperLogLog in Redis 7.0's exact byte format (hyperloglog.c), so an HLL is
// an ordinary string value that real Redis accepts and vice versa:
//
//   "HYLL" | encoding (0 dense, 1 sparse) | 3 unused | cached cardinality,
//   8 bytes little endian, MSB of the last byte set = cache invalid | data
//
// Dense data: 16384 registers of 6 bits, packed from each byte's LSB up.
// Sparse data: run-length opcodes ZERO 00xxxxxx (1-64 zeros), XZERO
// 01xxxxxx yyyyyyyy (1-16384 zeros), VAL 1vvvvvxx (value 1-32, 1-4 times).
//
// Read-only work (PFCOUNT, merges, a PFADD that changes no register) reads the
// stored latin1 string directly. A single dense register change is spliced in
// as a rope (withDenseRegister); anything more copies the HLL into an
// HllBuffer once, and the command stores the buffer's string once at the end.

export const HLL_P = 14;
export const HLL_Q = 64 - HLL_P;
export const HLL_REGISTERS = 1 << HLL_P;
const HLL_P_MASK = HLL_REGISTERS - 1;
const HLL_BITS = 6;
const HLL_REGISTER_MAX = (1 << HLL_BITS) - 1;
export const HLL_HDR_SIZE = 16;
export const HLL_DENSE_SIZE = HLL_HDR_SIZE + ((HLL_REGISTERS * HLL_BITS + 7) >>> 3);
export const HLL_DENSE = 0;
export const HLL_SPARSE = 1;
const HLL_MAX_ENCODING = 1;

const SPARSE_VAL_MAX_VALUE = 32;
const SPARSE_VAL_MAX_LEN = 4;
const SPARSE_ZERO_MAX_LEN = 64;
const SPARSE_XZERO_MAX_LEN = 16384;
/** Byte 4 of the header, the last byte of the cached cardinality, its "invalid" bit. */
const ENCODING_AT = 4;
const CARD_AT = 8;
const CARD_MSB_AT = 15;
const CARD_INVALID_BIT = 0x80;
/** A sparse update grows the opcodes by at most 3 bytes (XZERO -> XZERO VAL XZERO). */
const SPARSE_GROWTH_MAX = 3;
/** 0.5 / ln(2): the estimator's alpha for m -> infinity. */
const HLL_ALPHA_INF = 0.72134752044448170368;
export const HLL_HASH_SEED = 0xadc83b19;

// ---------------------------------------------------------------------------
// MurmurHash64A on 32-bit halves (BigInt would allocate per element).

/** The multiplier 0xc6a4a7935bd1e995 as 16-bit limbs, least significant first. */
const M_00 = 0xe995;
const M_16 = 0x5bd1;
const M_32 = 0xa793;
const M_48 = 0xc6a4;
/**
 * The result of mulM/murmur: [high, low] 32 bits. A typed array, because a
 * module-level `let` holding a uint32 boxes a heap number on every write.
 */
const RES = new Uint32Array(2);

/**
 * RES = (hi:lo) * M mod 2^64, schoolbook on 16-bit limbs so that every
 * partial sum stays below 2^32 (integer arithmetic, no fmod, no BigInt).
 */
function mulM(hi: number, lo: number): void {
  const a00 = lo & 0xffff;
  const a16 = lo >>> 16;
  const a32 = hi & 0xffff;
  const a48 = hi >>> 16;
  let c00 = a00 * M_00;
  let c16 = c00 >>> 16;
  c00 &= 0xffff;
  c16 += a16 * M_00;
  let c32 = c16 >>> 16;
  c16 &= 0xffff;
  c16 += a00 * M_16;
  c32 += c16 >>> 16;
  c16 &= 0xffff;
  c32 += a32 * M_00;
  let c48 = c32 >>> 16;
  c32 &= 0xffff;
  c32 += a16 * M_16;
  c48 += c32 >>> 16;
  c32 &= 0xffff;
  c32 += a00 * M_32;
  c48 += c32 >>> 16;
  c32 &= 0xffff;
  c48 += a48 * M_00 + a32 * M_16 + a16 * M_32 + a00 * M_48;
  RES[0] = ((c48 & 0xffff) << 16) | c32;
  RES[1] = (c16 << 16) | c00;
}

function word32(s: string, i: number): number {
  return (s.charCodeAt(i) | (s.charCodeAt(i + 1) << 8) | (s.charCodeAt(i + 2) << 16) | (s.charCodeAt(i + 3) << 24)) >>> 0;
}

/** MurmurHash64A of latin1 `s` (one byte per char) into RES, as Redis computes it (little-endian words). */
function murmur(s: string, seed: number): void {
  const len = s.length;
  mulM(0, len);
  let hHi = RES[0] ?? 0;
  let hLo = ((RES[1] ?? 0) ^ seed) >>> 0;
  const blocksEnd = len - (len & 7);
  let i = 0;
  for (; i < blocksEnd; i += 8) {
    mulM(word32(s, i + 4), word32(s, i));
    const kHi = RES[0] ?? 0;
    mulM(kHi, ((RES[1] ?? 0) ^ (kHi >>> 15)) >>> 0);
    mulM((hHi ^ (RES[0] ?? 0)) >>> 0, (hLo ^ (RES[1] ?? 0)) >>> 0);
    hHi = RES[0] ?? 0;
    hLo = RES[1] ?? 0;
  }
  const rest = len & 7;
  if (rest > 0) {
    if (rest >= 7) hHi ^= s.charCodeAt(i + 6) << 16;
    if (rest >= 6) hHi ^= s.charCodeAt(i + 5) << 8;
    if (rest >= 5) hHi ^= s.charCodeAt(i + 4);
    if (rest >= 4) hLo ^= s.charCodeAt(i + 3) << 24;
    if (rest >= 3) hLo ^= s.charCodeAt(i + 2) << 16;
    if (rest >= 2) hLo ^= s.charCodeAt(i + 1) << 8;
    hLo ^= s.charCodeAt(i);
    mulM(hHi >>> 0, hLo >>> 0);
    hHi = RES[0] ?? 0;
    hLo = RES[1] ?? 0;
  }
  mulM(hHi, (hLo ^ (hHi >>> 15)) >>> 0);
  RES[1] = (RES[1] ?? 0) ^ ((RES[0] ?? 0) >>> 15);
}

/** The 64-bit MurmurHash64A of latin1 `s`, for tests and diagnostics. */
export function murmurHash64A(s: string, seed = HLL_HASH_SEED): bigint {
  murmur(s, seed);
  return (BigInt(RES[0] ?? 0) << 32n) | BigInt(RES[1] ?? 0);
}

/**
 * hllPatLen: the register an element selects (low 14 bits of its hash) and the
 * length of the "000..1" run in the remaining 50 bits (1..51), packed as
 * `index | count << 14` so the hot path allocates nothing.
 */
export function hllPatLen(ele: string): number {
  murmur(ele, HLL_HASH_SEED);
  const lo = RES[1] ?? 0;
  const hi = RES[0] ?? 0;
  const index = lo & HLL_P_MASK;
  const low = lo >>> HLL_P; // 18 bits: hash bits 14..31
  let count: number;
  if (low !== 0) count = ctz32(low) + 1;
  else if (hi !== 0) count = 32 - HLL_P + ctz32(hi) + 1;
  else count = HLL_Q + 1; // Redis's sentinel bit 1 << Q ends the run here
  return index | (count << HLL_P);
}

function ctz32(x: number): number {
  return 31 - Math.clz32(x & -x);
}

// ---------------------------------------------------------------------------
// Reading a stored HLL string in place.

export type HllCheck = "ok" | "invalid";

/** isHLLObjectOrReply's checks: header magic, known encoding, exact dense length. */
export function checkHll(s: string): HllCheck {
  if (s.length < HLL_HDR_SIZE) return "invalid";
  if (s.charCodeAt(0) !== 72 || s.charCodeAt(1) !== 89 || s.charCodeAt(2) !== 76 || s.charCodeAt(3) !== 76) return "invalid";
  const enc = s.charCodeAt(ENCODING_AT);
  if (enc > HLL_MAX_ENCODING) return "invalid";
  if (enc === HLL_DENSE && s.length !== HLL_DENSE_SIZE) return "invalid";
  return "ok";
}

export function isDense(s: string): boolean {
  return s.charCodeAt(ENCODING_AT) === HLL_DENSE;
}

/** Register `reg` of a dense HLL string (the byte after the last is Redis's NUL). */
export function denseRegisterOf(s: string, reg: number): number {
  const bit = reg * HLL_BITS;
  const at = HLL_HDR_SIZE + (bit >>> 3);
  const fb = bit & 7;
  const b1 = at + 1 < s.length ? s.charCodeAt(at + 1) : 0;
  return ((s.charCodeAt(at) >>> fb) | (b1 << (8 - fb))) & HLL_REGISTER_MAX;
}

/**
 * A dense HLL string with register `reg` set to `val` and the cache marked
 * invalid. Built from slices, so V8 makes a rope in O(1) and copies the 12 KB
 * once, when the value is next read, instead of twice through a Buffer.
 */
export function withDenseRegister(s: string, reg: number, val: number): string {
  const bit = reg * HLL_BITS;
  const at = HLL_HDR_SIZE + (bit >>> 3);
  const fb = bit & 7;
  const b0 = (s.charCodeAt(at) & ~(HLL_REGISTER_MAX << fb) & 0xff) | ((val << fb) & 0xff);
  const tail = at + 1 < s.length ? 2 : 1;
  const mid =
    tail === 2
      ? String.fromCharCode(b0, (s.charCodeAt(at + 1) & ~(HLL_REGISTER_MAX >>> (8 - fb))) | (val >>> (8 - fb)))
      : String.fromCharCode(b0);
  const msb = s.charCodeAt(CARD_MSB_AT);
  const head = (msb & CARD_INVALID_BIT) !== 0 ? s.slice(0, at) : s.slice(0, CARD_MSB_AT) + String.fromCharCode(msb | CARD_INVALID_BIT) + s.slice(CARD_MSB_AT + 1, at);
  return head + mid + s.slice(at + tail);
}

/** The cached cardinality, or null when the cache is marked invalid. */
export function cachedCardinality(s: string): number | bigint | null {
  if ((s.charCodeAt(CARD_MSB_AT) & CARD_INVALID_BIT) !== 0) return null;
  const lo = word32(s, CARD_AT);
  const hi = word32(s, CARD_AT + 4);
  if (hi < 0x200000) return hi * 4294967296 + lo;
  return (BigInt(hi) << 32n) | BigInt(lo);
}

/** `s` with the cached cardinality set to `card` (which leaves the cache valid). */
export function withCachedCardinality(s: string, card: number | bigint): string {
  const big = BigInt(card);
  let bytes = "";
  for (let i = 0n; i < 8n; i++) bytes += String.fromCharCode(Number((big >> (8n * i)) & 0xffn));
  return s.slice(0, CARD_AT) + bytes + s.slice(CARD_AT + 8);
}

/**
 * Register histogram of a checked HLL string (hllDenseRegHisto /
 * hllSparseRegHisto); false when sparse opcodes do not cover exactly 16384
 * registers (the histogram is still filled, as Redis does).
 */
export function registerHistogram(s: string, histo: Int32Array): boolean {
  histo.fill(0);
  if (isDense(s)) {
    denseHistogram(s, histo);
    return true;
  }
  let idx = 0;
  for (let p = HLL_HDR_SIZE; p < s.length; ) {
    const op = s.charCodeAt(p);
    if ((op & 0xc0) === 0) {
      const run = (op & 0x3f) + 1;
      idx += run;
      histo[0] = (histo[0] ?? 0) + run;
      p++;
    } else if ((op & 0xc0) === 0x40) {
      const run = (((op & 0x3f) << 8) | byteAt(s, p + 1)) + 1;
      idx += run;
      histo[0] = (histo[0] ?? 0) + run;
      p += 2;
    } else {
      const run = (op & 3) + 1;
      const val = ((op >>> 2) & 0x1f) + 1;
      idx += run;
      histo[val] = (histo[val] ?? 0) + run;
      p++;
    }
  }
  return idx === HLL_REGISTERS;
}

/** A byte of `s`, with Redis's NUL terminator just past the end. */
function byteAt(s: string, i: number): number {
  return i < s.length ? s.charCodeAt(i) : 0;
}

/** 16 registers per 12 bytes, as hllDenseRegHisto unrolls it. */
function denseHistogram(s: string, histo: Int32Array): void {
  for (let at = HLL_HDR_SIZE; at < HLL_DENSE_SIZE; at += 3) {
    const b0 = s.charCodeAt(at);
    const b1 = s.charCodeAt(at + 1);
    const b2 = s.charCodeAt(at + 2);
    const r0 = b0 & 63;
    const r1 = ((b0 >>> 6) | (b1 << 2)) & 63;
    const r2 = ((b1 >>> 4) | (b2 << 4)) & 63;
    const r3 = b2 >>> 2;
    histo[r0] = (histo[r0] ?? 0) + 1;
    histo[r1] = (histo[r1] ?? 0) + 1;
    histo[r2] = (histo[r2] ?? 0) + 1;
    histo[r3] = (histo[r3] ?? 0) + 1;
  }
}

/**
 * hllMerge: max[i] = MAX(max[i], register i of checked HLL string `s`).
 * False when sparse opcodes do not cover exactly 16384 registers.
 */
export function mergeInto(max: Uint8Array, s: string): boolean {
  if (isDense(s)) {
    denseMerge(max, s);
    return true;
  }
  let i = 0;
  for (let p = HLL_HDR_SIZE; p < s.length; ) {
    const op = s.charCodeAt(p);
    if ((op & 0xc0) === 0) {
      i += (op & 0x3f) + 1;
      p++;
    } else if ((op & 0xc0) === 0x40) {
      i += (((op & 0x3f) << 8) | byteAt(s, p + 1)) + 1;
      p += 2;
    } else {
      const run = (op & 3) + 1;
      const val = ((op >>> 2) & 0x1f) + 1;
      if (run + i > HLL_REGISTERS) break;
      for (const end = i + run; i < end; i++) if (val > (max[i] ?? 0)) max[i] = val;
      p++;
    }
  }
  return i === HLL_REGISTERS;
}

/** Four registers per 3 bytes, like the histogram. */
function denseMerge(max: Uint8Array, s: string): void {
  let i = 0;
  for (let at = HLL_HDR_SIZE; at < HLL_DENSE_SIZE; at += 3, i += 4) {
    const b0 = s.charCodeAt(at);
    const b1 = s.charCodeAt(at + 1);
    const b2 = s.charCodeAt(at + 2);
    const r0 = b0 & 63;
    const r1 = ((b0 >>> 6) | (b1 << 2)) & 63;
    const r2 = ((b1 >>> 4) | (b2 << 4)) & 63;
    const r3 = b2 >>> 2;
    if (r0 > (max[i] ?? 0)) max[i] = r0;
    if (r1 > (max[i + 1] ?? 0)) max[i + 1] = r1;
    if (r2 > (max[i + 2] ?? 0)) max[i + 2] = r2;
    if (r3 > (max[i + 3] ?? 0)) max[i + 3] = r3;
  }
}

/** hllRawRegHisto: the histogram of a plain array of 16384 register bytes. */
export function rawHistogram(max: Uint8Array, histo: Int32Array): void {
  histo.fill(0);
  for (let i = 0; i < HLL_REGISTERS; i++) {
    const v = max[i] ?? 0;
    histo[v] = (histo[v] ?? 0) + 1;
  }
}

// ---------------------------------------------------------------------------
// The estimator: Otmar Ertl, "New cardinality estimation algorithms for
// HyperLogLog sketches" (arXiv:1702.01284), as hllCount computes it in doubles.

function hllSigma(x: number): number {
  if (x === 1) return Infinity;
  let y = 1;
  let z = x;
  let zPrime: number;
  do {
    x *= x;
    zPrime = z;
    z += x * y;
    y += y;
  } while (zPrime !== z);
  return z;
}

function hllTau(x: number): number {
  if (x === 0 || x === 1) return 0;
  let y = 1;
  let z = 1 - x;
  let zPrime: number;
  do {
    x = Math.sqrt(x);
    zPrime = z;
    y *= 0.5;
    const d = 1 - x;
    z -= d * d * y;
  } while (zPrime !== z);
  return z / 3;
}

const INT64_MIN_AS_UINT64 = 1n << 63n;

/**
 * The cardinality from a register histogram. Redis's llroundl rounds half away
 * from zero; Math.round agrees for the positive values that occur. An infinite
 * or overflowing estimate (only from crafted registers) comes out of x86's
 * llroundl as INT64_MIN, which Redis then reads as an unsigned 2^63.
 */
export function estimate(histo: Int32Array): number | bigint {
  const m = HLL_REGISTERS;
  let z = m * hllTau((m - (histo[HLL_Q + 1] ?? 0)) / m);
  for (let j = HLL_Q; j >= 1; j--) {
    z += histo[j] ?? 0;
    z *= 0.5;
  }
  z += m * hllSigma((histo[0] ?? 0) / m);
  const e = Math.round((HLL_ALPHA_INF * m * m) / z);
  if (!Number.isFinite(e) || e >= 2 ** 63) return INT64_MIN_AS_UINT64;
  return e <= Number.MAX_SAFE_INTEGER ? e : BigInt(e);
}

/** hllCount of a checked HLL string; null for corrupt sparse opcodes. */
export function countOf(s: string): number | bigint | null {
  const histo = new Int32Array(64);
  if (!registerHistogram(s, histo)) return null;
  return estimate(histo);
}

// ---------------------------------------------------------------------------
// A mutable copy of an HLL, for the commands that change one.

/** A VAL opcode byte: value 1..32, run 1..4. */
function valOp(value: number, run: number): number {
  return 0x80 | ((value - 1) << 2) | (run - 1);
}

/** Writes a run of `len` zero registers at b[at] (ZERO, or XZERO past 64); returns the bytes used. */
function putZeros(b: Uint8Array, at: number, len: number): number {
  if (len > SPARSE_ZERO_MAX_LEN) {
    b[at] = 0x40 | ((len - 1) >>> 8);
    b[at + 1] = (len - 1) & 0xff;
    return 2;
  }
  b[at] = len - 1;
  return 1;
}

/** Register `reg` of dense bytes (header included; one byte of room past the end). */
function denseRead(b: Uint8Array, reg: number): number {
  const bit = reg * HLL_BITS;
  const at = HLL_HDR_SIZE + (bit >>> 3);
  const fb = bit & 7;
  return (((b[at] ?? 0) >>> fb) | ((b[at + 1] ?? 0) << (8 - fb))) & HLL_REGISTER_MAX;
}

/** HLL_DENSE_SET_REGISTER: clears the register's 6 bits across the two bytes, then ORs `val` in. */
function denseWrite(b: Uint8Array, reg: number, val: number): void {
  const bit = reg * HLL_BITS;
  const at = HLL_HDR_SIZE + (bit >>> 3);
  const fb = bit & 7;
  b[at] = ((b[at] ?? 0) & ~(HLL_REGISTER_MAX << fb)) | (val << fb);
  b[at + 1] = ((b[at + 1] ?? 0) & ~(HLL_REGISTER_MAX >>> (8 - fb))) | (val >>> (8 - fb));
}

/** Where hllSparseSet's walk stopped: the opcode covering a register. */
interface SparseSpot {
  /** Offset of the covering opcode, of the one before it (-1: none). */
  p: number;
  prev: number;
  /** First register the opcode covers, and how many it covers. */
  first: number;
  span: number;
}

/**
 * An HLL being modified: the bytes in a buffer with room to grow and, like an
 * sds string, a NUL just past `len` (some opcode reads rely on it).
 */
export class HllBuffer {
  private bytes: Uint8Array;
  private len: number;
  private readonly spot: SparseSpot = { p: 0, prev: -1, first: 0, span: 0 };
  private readonly seq = new Uint8Array(5);

  private constructor(bytes: Uint8Array, len: number) {
    this.bytes = bytes;
    this.len = len;
  }

  /** createHLLObject: an empty sparse HLL (XZERO:16384) with a valid cached 0. */
  static empty(): HllBuffer {
    const len = HLL_HDR_SIZE + 2;
    const b = new Uint8Array(len + SPARSE_GROWTH_MAX + 1);
    b.set([72, 89, 76, 76, HLL_SPARSE]);
    putZeros(b, HLL_HDR_SIZE, SPARSE_XZERO_MAX_LEN);
    return new HllBuffer(b, len);
  }

  /** A copy of a checked HLL string. */
  static from(s: string): HllBuffer {
    const room = s.charCodeAt(ENCODING_AT) === HLL_DENSE ? 1 : 64;
    const b = Buffer.allocUnsafe(s.length + room);
    b.write(s, 0, "latin1");
    b.fill(0, s.length);
    return new HllBuffer(b, s.length);
  }

  get encoding(): number {
    return this.bytes[ENCODING_AT] ?? HLL_DENSE;
  }

  toString(): string {
    const b = this.bytes;
    return Buffer.from(b.buffer, b.byteOffset, this.len).toString("latin1");
  }

  invalidateCache(): void {
    this.bytes[CARD_MSB_AT] = (this.bytes[CARD_MSB_AT] ?? 0) | CARD_INVALID_BIT;
  }

  /**
   * hllSet: raises register `index` to `count` when that is larger. 1 when it
   * changed, 0 when not, -1 for corrupt sparse opcodes. A sparse HLL turns
   * dense when `count` exceeds what VAL can hold or when it would grow past
   * `sparseBytesMax` (hll-sparse-max-bytes, header included).
   */
  set(index: number, count: number, sparseBytesMax: number): number {
    if (this.encoding === HLL_DENSE) return this.denseSet(index, count);
    return this.sparseSet(index, count, sparseBytesMax);
  }

  /** hllSparseToDense (a no-op on a dense HLL); false when the opcodes are corrupt. */
  toDense(): boolean {
    if (this.encoding === HLL_DENSE) return true;
    const src = this.bytes;
    const dense = new HllBuffer(new Uint8Array(HLL_DENSE_SIZE + 1), HLL_DENSE_SIZE);
    // The whole header carries over, the cached cardinality included.
    dense.bytes.set(src.subarray(0, HLL_HDR_SIZE));
    dense.bytes[ENCODING_AT] = HLL_DENSE;
    let idx = 0;
    for (let p = HLL_HDR_SIZE; p < this.len; ) {
      const op = src[p] ?? 0;
      if ((op & 0xc0) === 0) {
        idx += (op & 0x3f) + 1;
        p++;
      } else if ((op & 0xc0) === 0x40) {
        idx += (((op & 0x3f) << 8) | (src[p + 1] ?? 0)) + 1;
        p += 2;
      } else {
        const run = (op & 3) + 1;
        if (run + idx > HLL_REGISTERS) break;
        const val = ((op >>> 2) & 0x1f) + 1;
        for (const end = idx + run; idx < end; idx++) dense.denseWrite(idx, val);
        p++;
      }
    }
    if (idx !== HLL_REGISTERS) return false;
    this.bytes = dense.bytes;
    this.len = HLL_DENSE_SIZE;
    return true;
  }

  private denseGet(reg: number): number {
    return denseRead(this.bytes, reg);
  }

  private denseWrite(reg: number, val: number): void {
    denseWrite(this.bytes, reg, val);
  }

  private denseSet(reg: number, count: number): number {
    if (count <= denseRead(this.bytes, reg)) return 0;
    denseWrite(this.bytes, reg, count);
    return 1;
  }

  /** Walks the opcodes to the one covering `index` (into this.spot); false if none does. */
  private locate(index: number): boolean {
    const b = this.bytes;
    const end = this.len;
    let p = HLL_HDR_SIZE;
    let prev = -1;
    let first = 0;
    let span = 0;
    while (p < end) {
      const op = b[p] ?? 0;
      let oplen = 1;
      if ((op & 0xc0) === 0) span = (op & 0x3f) + 1;
      else if ((op & 0x80) !== 0) span = (op & 3) + 1;
      else {
        span = (((op & 0x3f) << 8) | (b[p + 1] ?? 0)) + 1;
        oplen = 2;
      }
      if (index <= first + span - 1) break;
      prev = p;
      p += oplen;
      first += span;
    }
    const spot = this.spot;
    spot.p = p;
    spot.prev = prev;
    spot.first = first;
    spot.span = span;
    return p < end;
  }

  /** hllSparseSet: update in place, splitting the covering opcode and merging VALs after. */
  private sparseSet(index: number, count: number, sparseBytesMax: number): number {
    if (count > SPARSE_VAL_MAX_VALUE) return this.promoteAndSet(index, count);
    this.reserve(SPARSE_GROWTH_MAX);
    if (!this.locate(index)) return -1;
    const b = this.bytes;
    const { p, prev, first, span } = this.spot;
    const op = b[p] ?? 0;
    const isVal = (op & 0x80) !== 0;
    const isXZero = (op & 0xc0) === 0x40;
    if (isVal) {
      if (((op >>> 2) & 0x1f) + 1 >= count) return 0;
      if (span === 1) {
        b[p] = valOp(count, 1);
        this.mergeVals(prev);
        return 1;
      }
    } else if (!isXZero && span === 1) {
      b[p] = valOp(count, 1);
      this.mergeVals(prev);
      return 1;
    }
    const seqLen = this.splitSeq(op, index, count, first, span);
    const oldLen = isXZero ? 2 : 1;
    const delta = seqLen - oldLen;
    if (delta > 0 && this.len + delta > sparseBytesMax) return this.promoteAndSet(index, count);
    const next = p + oldLen;
    if (delta !== 0 && next < this.len) b.copyWithin(next + delta, next, this.len);
    b.set(this.seq.subarray(0, seqLen), p);
    this.len += delta;
    b[this.len] = 0;
    this.mergeVals(prev);
    return 1;
  }

  /** The opcodes replacing the one at a split: [run before] VAL count [run after]. */
  private splitSeq(op: number, index: number, count: number, first: number, span: number): number {
    const seq = this.seq;
    const last = first + span - 1;
    let n = 0;
    if ((op & 0x80) === 0) {
      if (index !== first) n += putZeros(seq, n, index - first);
      seq[n++] = valOp(count, 1);
      if (index !== last) n += putZeros(seq, n, last - index);
      return n;
    }
    const cur = ((op >>> 2) & 0x1f) + 1;
    if (index !== first) seq[n++] = valOp(cur, index - first);
    seq[n++] = valOp(count, 1);
    if (index !== last) seq[n++] = valOp(cur, last - index);
    return n;
  }

  /**
   * Joins adjacent VALs of equal value whose runs fit one opcode, looking at
   * most 5 opcodes from the one before the change (as Redis does, so the bytes
   * come out identical).
   */
  private mergeVals(prev: number): void {
    const b = this.bytes;
    let p = prev >= 0 ? prev : HLL_HDR_SIZE;
    let scan = 5;
    while (p < this.len && scan-- > 0) {
      const op = b[p] ?? 0;
      if ((op & 0xc0) === 0x40) {
        p += 2;
        continue;
      }
      if ((op & 0xc0) === 0) {
        p++;
        continue;
      }
      const nextOp = b[p + 1] ?? 0;
      if (p + 1 < this.len && (nextOp & 0x80) !== 0) {
        const v = ((op >>> 2) & 0x1f) + 1;
        const run = (op & 3) + 1 + (nextOp & 3) + 1;
        if (v === ((nextOp >>> 2) & 0x1f) + 1 && run <= SPARSE_VAL_MAX_LEN) {
          b[p + 1] = valOp(v, run);
          b.copyWithin(p, p + 1, this.len + 1);
          this.len--;
          b[this.len] = 0;
          continue;
        }
      }
      p++;
    }
    this.invalidateCache();
  }

  /** Turns dense, then sets the register (which must then change). */
  private promoteAndSet(index: number, count: number): number {
    if (!this.toDense()) return -1;
    this.denseSet(index, count);
    return 1;
  }

  /** Makes room for `extra` more bytes plus the NUL. */
  private reserve(extra: number): void {
    if (this.len + extra + 1 <= this.bytes.length) return;
    const grown = new Uint8Array(Math.max(this.bytes.length * 2, this.len + extra + 1));
    grown.set(this.bytes.subarray(0, this.len + 1));
    this.bytes = grown;
  }
}

/** PFDEBUG DECODE: the sparse opcodes as "Z:n z:n v:value,run" words. */
export function decodeSparse(s: string): string {
  const words: string[] = [];
  for (let p = HLL_HDR_SIZE; p < s.length; ) {
    const op = s.charCodeAt(p);
    if ((op & 0xc0) === 0) {
      words.push(`z:${(op & 0x3f) + 1}`);
      p++;
    } else if ((op & 0xc0) === 0x40) {
      words.push(`Z:${(((op & 0x3f) << 8) | byteAt(s, p + 1)) + 1}`);
      p += 2;
    } else {
      words.push(`v:${((op >>> 2) & 0x1f) + 1},${(op & 3) + 1}`);
      p++;
    }
  }
  return words.join(" ");
}

// ---------------------------------------------------------------------------
// PFSELFTEST, scaled down from Redis's (1000 register passes, 10^7 adds) so it
// answers in well under a second.

const SELFTEST_REGISTER_PASSES = 20;
const SELFTEST_ADDS = 100_000;

/** Null when every check passes, else Redis's "TESTFAILED ..." text. */
export function hllSelfTest(random: () => number, sparseBytesMax: number): string | null {
  return selfTestRegisters(random) ?? selfTestEstimates(random, sparseBytesMax);
}

/** Every register reads back what was written, without disturbing its neighbours. */
function selfTestRegisters(random: () => number): string | null {
  const b = new Uint8Array(HLL_DENSE_SIZE + 1);
  const expected = new Uint8Array(HLL_REGISTERS);
  for (let pass = 0; pass < SELFTEST_REGISTER_PASSES; pass++) {
    for (let i = 0; i < HLL_REGISTERS; i++) {
      const v = Math.floor(random() * 64) & HLL_REGISTER_MAX;
      expected[i] = v;
      denseWrite(b, i, v);
    }
    for (let i = 0; i < HLL_REGISTERS; i++) {
      const got = denseRead(b, i);
      if (got !== expected[i]) return `TESTFAILED Register ${i} should be ${expected[i] ?? 0} but is ${got}`;
    }
  }
  return null;
}

/** Dense and sparse HLLs fed the same elements agree, and stay within 6 standard errors. */
function selfTestEstimates(random: () => number, sparseBytesMax: number): string | null {
  const dense = HllBuffer.empty();
  dense.toDense();
  const sparse = HllBuffer.empty();
  const relErr = 1.04 / Math.sqrt(HLL_REGISTERS);
  const seedLo = Math.floor(random() * 4294967296) >>> 0;
  const seedHi = Math.floor(random() * 4294967296) >>> 0;
  const hi = String.fromCharCode(seedHi & 0xff, (seedHi >>> 8) & 0xff, (seedHi >>> 16) & 0xff, seedHi >>> 24);
  let checkpoint = 1;
  for (let j = 1; j <= SELFTEST_ADDS; j++) {
    const lo = (j ^ seedLo) >>> 0;
    const ele = String.fromCharCode(lo & 0xff, (lo >>> 8) & 0xff, (lo >>> 16) & 0xff, lo >>> 24) + hi;
    const pl = hllPatLen(ele);
    dense.set(pl & HLL_P_MASK, pl >>> HLL_P, sparseBytesMax);
    sparse.set(pl & HLL_P_MASK, pl >>> HLL_P, sparseBytesMax);
    if (j !== checkpoint) continue;
    if (j < sparseBytesMax / 2 && sparse.encoding !== HLL_SPARSE) return "TESTFAILED sparse encoding not used";
    const card = Number(countOf(dense.toString()) ?? -1);
    if (card !== Number(countOf(sparse.toString()) ?? -1)) return "TESTFAILED dense/sparse disagree";
    const absErr = Math.abs(checkpoint - card);
    const maxErr = j === 10 ? 1 : Math.ceil(relErr * 6 * checkpoint);
    if (absErr > maxErr) return `TESTFAILED Too big error. card:${checkpoint} abserr:${absErr}`;
    checkpoint *= 10;
  }
  return null;
}
