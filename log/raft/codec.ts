// Binary encoding of messages, entries, hard state and snapshots, for the
// network and for storage. Little-endian; integers as two u32 halves (indexes
// and terms stay below 2^53); strings as u16 length + UTF-8; bytes as u32
// length + raw. Decoding checks every bound: a malformed input is a value,
// not a crash. Decoded byte fields share memory with the input.
import { assert, AssertionError, assertNever } from "./assert";
import type { Entry, EntryKind, HardState, Message, MessageKind, Snapshot } from "./types";

const KIND_CODES: Record<MessageKind, number> = {
  prevote: 1,
  "prevote-resp": 2,
  vote: 3,
  "vote-resp": 4,
  app: 5,
  "app-resp": 6,
  heartbeat: 7,
  "heartbeat-resp": 8,
  snap: 9,
};
const KINDS_BY_CODE = new Map<number, MessageKind>(Object.entries(KIND_CODES).map(([k, v]) => [v, k as MessageKind]));
const ENTRY_KINDS: readonly EntryKind[] = ["normal", "noop"];
const TWO_32 = 2 ** 32;
/** No single encoded value may claim more than this many bytes. */
export const CODEC_BYTES_MAX = 1 << 30;

export class Writer {
  private buf: Buffer;
  private pos = 0;

  constructor(capacityBytes = 256) {
    this.buf = Buffer.allocUnsafe(capacityBytes);
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }

  u32(v: number): void {
    this.ensure(4);
    this.buf.writeUInt32LE(v, this.pos);
    this.pos += 4;
  }

  /** A safe non-negative integer (index, term, count). */
  uint(v: number): void {
    if (!(Number.isSafeInteger(v) && v >= 0)) throw new AssertionError(`cannot encode ${v} as an unsigned integer`);
    this.u32(v % TWO_32);
    this.u32(Math.floor(v / TWO_32));
  }

  bool(v: boolean): void {
    this.u8(v ? 1 : 0);
  }

  str(s: string): void {
    const n = Buffer.byteLength(s, "utf8");
    assert(n <= 0xffff, "string too long to encode");
    this.ensure(2 + n);
    this.buf.writeUInt16LE(n, this.pos);
    this.buf.write(s, this.pos + 2, "utf8");
    this.pos += 2 + n;
  }

  bytes(b: Uint8Array): void {
    assert(b.length <= CODEC_BYTES_MAX, "byte string too long to encode");
    this.u32(b.length);
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  entry(e: Entry): void {
    this.uint(e.index);
    this.uint(e.term);
    this.u8(ENTRY_KINDS.indexOf(e.kind));
    this.bytes(e.data);
  }

  entries(es: readonly Entry[]): void {
    this.u32(es.length);
    for (const e of es) this.entry(e);
  }

  snapshot(s: Snapshot): void {
    this.uint(s.index);
    this.uint(s.term);
    this.bytes(s.data);
  }

  hardState(hs: HardState): void {
    this.uint(hs.term);
    this.bool(hs.vote !== null);
    this.str(hs.vote ?? "");
    this.uint(hs.commit);
  }

  finish(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }
}

class DecodeError extends Error {}

export class Reader {
  private pos = 0;
  private readonly buf: Buffer;

  constructor(input: Uint8Array) {
    this.buf = Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.length);
  }

  done(): boolean {
    return this.pos === this.buf.length;
  }

  u8(): number {
    this.need(1);
    return this.buf[this.pos++] as number;
  }

  u32(): number {
    this.need(4);
    const b = this.buf;
    const p = this.pos;
    this.pos += 4;
    return ((b[p] as number) | ((b[p + 1] as number) << 8) | ((b[p + 2] as number) << 16)) + (b[p + 3] as number) * 0x1000000;
  }

  uint(): number {
    const lo = this.u32();
    const hi = this.u32();
    const v = hi * TWO_32 + lo;
    if (!Number.isSafeInteger(v)) throw new DecodeError("integer beyond 2^53");
    return v;
  }

  bool(): boolean {
    const v = this.u8();
    if (v > 1) throw new DecodeError(`bad boolean ${v}`);
    return v === 1;
  }

  str(): string {
    this.need(2);
    const n = (this.buf[this.pos] as number) | ((this.buf[this.pos + 1] as number) << 8);
    this.pos += 2;
    this.need(n);
    const s = this.buf.toString("utf8", this.pos, this.pos + n);
    this.pos += n;
    return s;
  }

  bytes(): Uint8Array {
    const n = this.u32();
    this.need(n);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  entry(): Entry {
    const index = this.uint();
    const term = this.uint();
    const kind = ENTRY_KINDS[this.u8()];
    if (kind === undefined) throw new DecodeError("bad entry kind");
    return { index, term, kind, data: this.bytes() };
  }

  entries(): Entry[] {
    const n = this.u32();
    // Each entry takes at least 21 bytes: a count beyond what remains is corrupt.
    if (n * 21 > this.buf.length - this.pos) throw new DecodeError("entry count beyond the input");
    const out: Entry[] = [];
    for (let i = 0; i < n; i++) out.push(this.entry());
    return out;
  }

  snapshot(): Snapshot {
    const index = this.uint();
    const term = this.uint();
    return { index, term, data: this.bytes() };
  }

  hardState(): HardState {
    const term = this.uint();
    const hasVote = this.bool();
    const vote = this.str();
    return { term, vote: hasVote ? vote : null, commit: this.uint() };
  }

  private need(n: number): void {
    if (this.pos + n > this.buf.length) throw new DecodeError("input ends early");
  }
}

export type Decoded<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

/** Runs a decoder over the whole input; any malformation, or trailing bytes, is an error value. */
export function decodeWith<T>(buf: Uint8Array, read: (r: Reader) => T): Decoded<T> {
  const r = new Reader(buf);
  try {
    const value = read(r);
    if (!r.done()) return { ok: false, error: "trailing bytes" };
    return { ok: true, value };
  } catch (e) {
    if (e instanceof DecodeError) return { ok: false, error: e.message };
    throw e;
  }
}

export function encodeMessage(m: Message): Buffer {
  const w = new Writer(64 + (m.kind === "app" ? m.entries.reduce((n, e) => n + 32 + e.data.length, 0) : 0));
  w.u8(KIND_CODES[m.kind]);
  w.str(m.from);
  w.str(m.to);
  w.uint(m.term);
  switch (m.kind) {
    case "prevote":
    case "vote":
      w.uint(m.lastIndex);
      w.uint(m.lastTerm);
      break;
    case "prevote-resp":
    case "vote-resp":
      w.bool(m.reject);
      break;
    case "app":
      w.uint(m.prevIndex);
      w.uint(m.prevTerm);
      w.uint(m.commit);
      w.entries(m.entries);
      break;
    case "app-resp":
      w.uint(m.index);
      w.bool(m.reject);
      w.uint(m.hintIndex);
      w.uint(m.hintTerm);
      break;
    case "heartbeat":
      w.uint(m.commit);
      break;
    case "heartbeat-resp":
      break;
    case "snap":
      w.snapshot(m.snapshot);
      break;
    default:
      assertNever(m, "message");
  }
  return w.finish();
}

export function decodeMessage(buf: Uint8Array): Decoded<Message> {
  return decodeWith(buf, readMessage);
}

function readMessage(r: Reader): Message {
  const kind = KINDS_BY_CODE.get(r.u8());
  if (kind === undefined) throw new DecodeError("unknown message kind");
  // Object literals, not spreads: V8 builds these an order of magnitude faster.
  const from = r.str();
  const to = r.str();
  const term = r.uint();
  switch (kind) {
    case "prevote":
    case "vote":
      return { kind, from, to, term, lastIndex: r.uint(), lastTerm: r.uint() };
    case "prevote-resp":
    case "vote-resp":
      return { kind, from, to, term, reject: r.bool() };
    case "app":
      return { kind, from, to, term, prevIndex: r.uint(), prevTerm: r.uint(), commit: r.uint(), entries: r.entries() };
    case "app-resp":
      return { kind, from, to, term, index: r.uint(), reject: r.bool(), hintIndex: r.uint(), hintTerm: r.uint() };
    case "heartbeat":
      return { kind, from, to, term, commit: r.uint() };
    case "heartbeat-resp":
      return { kind, from, to, term };
    case "snap":
      return { kind, from, to, term, snapshot: r.snapshot() };
    default:
      return assertNever(kind, "message kind");
  }
}
