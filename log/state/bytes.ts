// Fixed-width big-endian byte writing and bounds-checked reading, shared by
// the command codec (log/codec.ts) and the state machine's snapshot. Fixed
// widths keep every encoding canonical: one value, one byte string.
import { assert, AssertionError } from "./assert";

/** 2^53 - 1: every count, seq, index and time here fits a JS number exactly. */
export const U64_SAFE_MAX = Number.MAX_SAFE_INTEGER;

/** A decode outcome: garbage is an expected failure, so it is a value. */
export type Decoded<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: DecodeFailure };

export interface DecodeFailure {
  /** "version": well-formed but newer than this node understands (stop, say why); "malformed": anything else. */
  readonly code: "version" | "malformed";
  readonly message: string;
}

/** Thrown inside a decoder only; `decodeWith` turns it into a value, so it never escapes. */
export class DecodeError extends Error {
  constructor(
    readonly code: DecodeFailure["code"],
    message: string,
  ) {
    super(message);
  }
}

export function fail(message: string): never {
  throw new DecodeError("malformed", message);
}

/** Runs `body` over `data`, requiring it to consume every byte. */
export function decodeWith<T>(what: string, data: Uint8Array, body: (r: Reader) => T): Decoded<T> {
  try {
    const r = new Reader(data, what);
    const value = body(r);
    if (r.remaining() !== 0) fail(`${r.remaining()} trailing bytes`);
    return { ok: true, value };
  } catch (e) {
    if (e instanceof DecodeError) return { ok: false, error: { code: e.code, message: `${what}: ${e.message}` } };
    throw e;
  }
}

export class Reader {
  private pos = 0;

  constructor(
    private readonly data: Uint8Array,
    readonly what: string,
  ) {}

  remaining(): number {
    return this.data.length - this.pos;
  }

  offset(): number {
    return this.pos;
  }

  private need(n: number, field: string): void {
    if (this.remaining() < n) fail(`truncated at byte ${this.pos}: ${field} needs ${n} bytes, ${this.remaining()} left`);
  }

  u8(field: string): number {
    this.need(1, field);
    return this.data[this.pos++] as number;
  }

  u32(field: string): number {
    this.need(4, field);
    const d = this.data;
    const p = this.pos;
    this.pos += 4;
    return ((d[p] as number) * 0x1000000 + (((d[p + 1] as number) << 16) | ((d[p + 2] as number) << 8) | (d[p + 3] as number))) >>> 0;
  }

  /** An unsigned 64-bit integer that must be at most 2^53 - 1. */
  u64(field: string): number {
    const hi = this.u32(field);
    const lo = this.u32(field);
    if (hi > 0x1fffff) fail(`${field} exceeds 2^53 - 1`);
    return hi * 0x100000000 + lo;
  }

  /** A view of the next n bytes (no copy). */
  bytes(n: number, field: string): Buffer {
    this.need(n, field);
    const b = Buffer.from(this.data.buffer, this.data.byteOffset + this.pos, n);
    this.pos += n;
    return b;
  }

  /** A UTF-8 string with a one-byte length; only the canonical encoding of a string is accepted. */
  str8(field: string, minBytes: number): string {
    const n = this.u8(`${field} length`);
    if (n < minBytes) fail(`${field} is ${n} bytes, at least ${minBytes} required`);
    const raw = this.bytes(n, field);
    const s = raw.toString("utf8");
    if (Buffer.byteLength(s, "utf8") !== n || !Buffer.from(s, "utf8").equals(raw)) fail(`${field} is not valid UTF-8`);
    return s;
  }
}

export class Writer {
  private buf: Buffer;
  private pos = 0;

  constructor(sizeHint = 64) {
    this.buf = Buffer.allocUnsafe(Math.max(16, sizeHint));
  }

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  u8(v: number): void {
    if (!(Number.isInteger(v) && v >= 0 && v <= 0xff)) throw new AssertionError(`u8 out of range: ${v}`);
    this.room(1);
    this.buf[this.pos++] = v;
  }

  u32(v: number): void {
    if (!(Number.isInteger(v) && v >= 0 && v <= 0xffffffff)) throw new AssertionError(`u32 out of range: ${v}`);
    this.room(4);
    this.buf.writeUInt32BE(v, this.pos);
    this.pos += 4;
  }

  u64(v: number): void {
    if (!(Number.isSafeInteger(v) && v >= 0)) throw new AssertionError(`u64 out of range: ${v}`);
    this.room(8);
    this.buf.writeUInt32BE(Math.floor(v / 0x100000000), this.pos);
    this.buf.writeUInt32BE(v >>> 0, this.pos + 4);
    this.pos += 8;
  }

  bytes(b: Uint8Array): void {
    this.room(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  str8(s: string): void {
    const n = Buffer.byteLength(s, "utf8");
    if (!(n <= 0xff)) throw new AssertionError(`string too long for a one-byte length: ${n} bytes`);
    this.u8(n);
    this.room(n);
    this.pos += this.buf.write(s, this.pos, "utf8");
  }

  length(): number {
    return this.pos;
  }

  /** The bytes written so far (a view of the internal buffer; the writer must not be used afterwards). */
  finish(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}

const CRC32C_TABLE: Uint32Array = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32C (Castagnoli), the checksum of iSCSI, ext4 and LevelDB. */
export function crc32c(data: Uint8Array, start = 0, end = data.length): number {
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = (CRC32C_TABLE[(c ^ (data[i] as number)) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

// Shard ids, shared by the command codec and the snapshot: a tag byte, then a
// u32 number or a one-byte-length UTF-8 name.
const SHARD_TAG_NUMBER = 0;
const SHARD_TAG_NAME = 1;

export function writeShardId(w: Writer, shard: number | string): void {
  if (typeof shard === "number") {
    w.u8(SHARD_TAG_NUMBER);
    w.u32(shard);
  } else {
    w.u8(SHARD_TAG_NAME);
    w.str8(shard);
  }
}

export function readShardId(r: Reader): number | string {
  const tag = r.u8("shard tag");
  if (tag === SHARD_TAG_NUMBER) return r.u32("shard");
  if (tag === SHARD_TAG_NAME) return r.str8("shard name", 1);
  return fail(`unknown shard tag ${tag}`);
}
