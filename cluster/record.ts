// What a shard's log records hold. The log service sees opaque bytes; the
// servers write and read these:
//
//   record   = u8 formatVersion, u8 type, u8 flags, body
//   EFFECTS  body = a chunk of: u32 count, count x effect   (one event-loop turn of
//                   the primary; flags bit 0 = MORE: the batch continues in the
//                   next record, so no record passes RECORD_CHUNK_BYTES)
//   effect   = u16 db, u32 argc, argc x (u32 len, len bytes)
//   ANNOUNCE body = str16 nodeId, str16 host, u16 port, u32 epoch
//                                                   (the first record of a new primary)
//   CHECKSUM body = 8 bytes: the running checksum over every record before
//                   this one (the primary writes one every CHECKSUM_EVERY_RECORDS)
//
// The running checksum folds every record's bytes in seq order, from 8 zero
// bytes before seq 1 (a snapshot carries its value at the snapshot's seq).
// Every reader recomputes it and stops loudly when a CHECKSUM record disagrees.
//
// A batch whose last chunk never made it (its primary died mid-append) is
// followed by another primary's ANNOUNCE: readers drop the incomplete chunks
// (nothing in them was acknowledged).
//
// A record of a newer format than this code knows stops the reader (upgrades
// go replicas first, primary last) instead of being guessed at.
import type { Effect } from "../engine/context";
import { SHORT_ARG_BYTES, shortString } from "../resp/decoder";

export const RECORD_FORMAT_VERSION = 1;
const TYPE_EFFECTS = 1;
const TYPE_ANNOUNCE = 2;
const TYPE_CHECKSUM = 3;
/** How often the primary writes a CHECKSUM record: after this many records or bytes. */
export const CHECKSUM_EVERY_RECORDS = 1000;
export const CHECKSUM_EVERY_BYTES = 1024 * 1024;
export const CHECKSUM_BYTES = 8;
/** Refuse absurd counts before allocating for them. */
const EFFECTS_PER_RECORD_MAX = 16 * 1024 * 1024;
const ARGS_PER_EFFECT_MAX = 64 * 1024 * 1024;

export interface Announce {
  readonly nodeId: string;
  readonly host: string;
  readonly port: number;
  readonly epoch: number;
}

export type ShardRecord =
  | { readonly kind: "effects"; readonly effects: Effect[] }
  | ({ readonly kind: "announce" } & Announce)
  /** A CHECKSUM record that matched what this reader computed. */
  | { readonly kind: "checksum" };

export type DecodedRecord = { readonly ok: true; readonly record: ShardRecord } | { readonly ok: false; readonly error: string };

/** Bytes of one record at most (the log accepts 16 MB). */
export const RECORD_CHUNK_BYTES = 4 * 1024 * 1024;
const HEADER_BYTES = 3;
const FLAG_MORE = 1;

/** One batch of effects as one or more records. */
export function encodeEffects(effects: readonly Effect[], chunkBytes = RECORD_CHUNK_BYTES): Buffer[] {
  let size = 4;
  for (const e of effects) {
    size += 6;
    for (const a of e.argv) size += 4 + a.length;
  }
  if (size <= chunkBytes) {
    // The usual case: one record, written in place.
    const r = Buffer.allocUnsafe(HEADER_BYTES + size);
    r[0] = RECORD_FORMAT_VERSION;
    r[1] = TYPE_EFFECTS;
    r[2] = 0;
    writeEffects(r, HEADER_BYTES, effects);
    return [r];
  }
  const body = Buffer.allocUnsafe(size);
  writeEffects(body, 0, effects);
  const out: Buffer[] = [];
  for (let o = 0; o < size || out.length === 0; o += chunkBytes) {
    const end = Math.min(size, o + chunkBytes);
    const r = Buffer.allocUnsafe(HEADER_BYTES + end - o);
    r[0] = RECORD_FORMAT_VERSION;
    r[1] = TYPE_EFFECTS;
    r[2] = end < size ? FLAG_MORE : 0;
    body.copy(r, HEADER_BYTES, o, end);
    out.push(r);
  }
  return out;
}

/** Arguments up to this long are written in JS: a native latin1Write call costs more. */
const SHORT_WRITE_BYTES = 32;

function writeEffects(b: Buffer, at: number, effects: readonly Effect[]): void {
  b.writeUInt32LE(effects.length, at);
  let o = at + 4;
  for (const e of effects) {
    b.writeUInt16LE(e.db, o);
    b.writeUInt32LE(e.argv.length, o + 2);
    o += 6;
    for (const a of e.argv) {
      const n = a.length;
      b.writeUInt32LE(n, o);
      o += 4;
      if (n <= SHORT_WRITE_BYTES) {
        // Values are binary strings (one char per byte), as latin1Write reads them.
        for (let i = 0; i < n; i++) b[o + i] = a.charCodeAt(i);
        o += n;
      } else {
        o += b.latin1Write(a, o, n);
      }
    }
  }
}

export function encodeAnnounce(a: Announce): Buffer {
  const id = Buffer.from(a.nodeId, "utf8");
  const host = Buffer.from(a.host, "utf8");
  const b = Buffer.allocUnsafe(HEADER_BYTES + 2 + id.length + 2 + host.length + 2 + 4);
  b[0] = RECORD_FORMAT_VERSION;
  b[1] = TYPE_ANNOUNCE;
  b[2] = 0;
  let o = HEADER_BYTES;
  b.writeUInt16LE(id.length, o);
  id.copy(b, o + 2);
  o += 2 + id.length;
  b.writeUInt16LE(host.length, o);
  host.copy(b, o + 2);
  o += 2 + host.length;
  b.writeUInt16LE(a.port, o);
  b.writeUInt32LE(a.epoch, o + 2);
  return b;
}

const FNV_PRIME = 0x01000193;
const CRC_TABLE = (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[n] = c;
  }
  return t;
})();

/** Two 32-bit lanes (CRC-32C and FNV-1a) chained over every record, in seq order. */
export class RunningChecksum {
  // Both lanes are kept as signed 32-bit integers: stored as unsigned, a lane
  // above 2^31 no longer fits V8's small-integer field and `fold` was
  // deoptimized and recompiled over and over (seen 39 times in a 10 s benchmark).
  private crc: number;
  private fnv: number;
  /** Records and bytes folded in since the last CHECKSUM record (the primary's schedule). */
  sinceChecksum = 0;
  bytesSinceChecksum = 0;

  /** A CHECKSUM record is due. */
  get due(): boolean {
    return this.sinceChecksum >= CHECKSUM_EVERY_RECORDS || this.bytesSinceChecksum >= CHECKSUM_EVERY_BYTES;
  }

  /** A CHECKSUM record was just folded in. */
  restart(): void {
    this.sinceChecksum = 0;
    this.bytesSinceChecksum = 0;
  }

  constructor(initial: Uint8Array = new Uint8Array(CHECKSUM_BYTES)) {
    const b = Buffer.from(initial.buffer, initial.byteOffset, initial.byteLength);
    this.crc = b.readInt32LE(0);
    this.fnv = b.readInt32LE(4);
  }

  fold(rec: Uint8Array): void {
    let c = ~this.crc;
    let f = this.fnv ^ rec.length;
    for (let i = 0; i < rec.length; i++) {
      const x = rec[i] as number;
      c = (CRC_TABLE[(c ^ x) & 0xff] as number) ^ (c >>> 8);
      f = Math.imul(f ^ x, FNV_PRIME);
    }
    this.crc = ~c;
    this.fnv = f;
    this.sinceChecksum++;
    this.bytesSinceChecksum += rec.length;
  }

  value(): Buffer {
    const b = Buffer.allocUnsafe(CHECKSUM_BYTES);
    b.writeInt32LE(this.crc, 0);
    b.writeInt32LE(this.fnv, 4);
    return b;
  }
}

export function encodeChecksum(value: Uint8Array): Buffer {
  const b = Buffer.allocUnsafe(HEADER_BYTES + CHECKSUM_BYTES);
  b[0] = RECORD_FORMAT_VERSION;
  b[1] = TYPE_CHECKSUM;
  b[2] = 0;
  b.set(value, HEADER_BYTES);
  return b;
}

class Cursor {
  o = 0;
  constructor(readonly b: Buffer) {}
  need(n: number): void {
    if (this.o + n > this.b.length) throw new RangeError(`record truncated at byte ${this.o} (needs ${n} more)`);
  }
  u16(): number {
    this.need(2);
    const v = this.b.readUInt16LE(this.o);
    this.o += 2;
    return v;
  }
  u32(): number {
    this.need(4);
    const v = this.b.readUInt32LE(this.o);
    this.o += 4;
    return v;
  }
  latin1(n: number): string {
    this.need(n);
    const b = this.b;
    const o = this.o;
    let s: string;
    if (n <= SHORT_ARG_BYTES) {
      // Short strings are built in JS: a native latin1Slice call costs more.
      s = shortString(b, o, n);
    } else {
      s = b.latin1Slice(o, o + n);
    }
    this.o = o + n;
    return s;
  }
  utf8(n: number): string {
    this.need(n);
    const s = this.b.toString("utf8", this.o, this.o + n);
    this.o += n;
    return s;
  }
}

/**
 * Turns records, in seq order, back into batches and announcements. Feed it
 * every record from one primary's first on (or from a batch boundary).
 */
export class RecordReader {
  private parts: Buffer[] = [];
  readonly running: RunningChecksum;
  /** CHECKSUM records that matched. */
  checksumsVerified = 0;

  /** initial: the running checksum before the first record fed (zeros before seq 1). */
  constructor(initial?: Uint8Array) {
    this.running = new RunningChecksum(initial);
  }

  /** The running checksum over every record fed so far. */
  get checksum(): Buffer {
    return this.running.value();
  }

  /** Chunks held for a batch still missing its last record. */
  get partial(): boolean {
    return this.parts.length > 0;
  }

  /** null: the record was a chunk of a batch that continues. */
  push(b: Buffer): DecodedRecord | null {
    const before = b.length >= HEADER_BYTES && b[1] === TYPE_CHECKSUM ? this.running.value() : null;
    this.running.fold(b);
    if (before !== null && b.length === HEADER_BYTES + CHECKSUM_BYTES && (b[0] as number) <= RECORD_FORMAT_VERSION) {
      const logged = b.subarray(HEADER_BYTES);
      if (!logged.equals(before)) {
        return { ok: false, error: `running checksum mismatch: the log says ${logged.toString("hex")}, this node computed ${before.toString("hex")} over the records before it` };
      }
      this.running.restart();
      this.checksumsVerified++;
      return { ok: true, record: { kind: "checksum" } };
    }
    return this.decode(b);
  }

  private decode(b: Buffer): DecodedRecord | null {
    if (b.length < HEADER_BYTES) return { ok: false, error: "record shorter than its header" };
    const version = b[0] as number;
    if (version > RECORD_FORMAT_VERSION) {
      return { ok: false, error: `record format ${version} is newer than this server understands (${RECORD_FORMAT_VERSION}): upgrade this node` };
    }
    if (version < 1) return { ok: false, error: `record format ${version} does not exist` };
    try {
      switch (b[1]) {
        case TYPE_EFFECTS: {
          this.parts.push(b.subarray(HEADER_BYTES));
          if (((b[2] as number) & FLAG_MORE) !== 0) return null;
          const body = this.parts.length === 1 ? (this.parts[0] as Buffer) : Buffer.concat(this.parts);
          this.parts = [];
          return { ok: true, record: { kind: "effects", effects: decodeEffects(new Cursor(body)) } };
        }
        case TYPE_ANNOUNCE: {
          // Chunks before an announcement belong to a primary that died mid-batch.
          this.parts = [];
          const c = new Cursor(b);
          c.o = HEADER_BYTES;
          const nodeId = c.utf8(c.u16());
          const host = c.utf8(c.u16());
          const port = c.u16();
          const epoch = c.u32();
          return { ok: true, record: { kind: "announce", nodeId, host, port, epoch } };
        }
        case TYPE_CHECKSUM:
          return { ok: false, error: `malformed checksum record (${b.length} bytes)` };
        default:
          return { ok: false, error: `unknown record type ${String(b[1])}` };
      }
    } catch (e) {
      return { ok: false, error: e instanceof Error ? e.message : String(e) };
    }
  }
}

function decodeEffects(c: Cursor): Effect[] {
  const n = c.u32();
  if (n > EFFECTS_PER_RECORD_MAX) throw new RangeError(`record claims ${n} effects`);
  const out: Effect[] = [];
  for (let i = 0; i < n; i++) {
    const db = c.u16();
    const argc = c.u32();
    if (argc === 0 || argc > ARGS_PER_EFFECT_MAX) throw new RangeError(`effect ${i} claims ${argc} arguments`);
    const argv: string[] = [];
    for (let j = 0; j < argc; j++) argv.push(c.latin1(c.u32()));
    out.push({ db, argv });
  }
  if (c.o !== c.b.length) throw new RangeError(`${c.b.length - c.o} bytes after the last effect`);
  return out;
}
