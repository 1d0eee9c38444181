// The snapshot format: a whole Engine dataset (every db, key, value and
// absolute expire time) as a stream of self-checking chunks, so a multi-GB
// dataset is never one Buffer and a damaged or cut file is always rejected.
//
//   file     = preamble, header frame, data frame*, trailer frame (then EOF)
//   preamble = "MNEMOSNP" (8 bytes), format version (u32 LE)
//   frame    = kind (u8: 'H', 'D', 'T'), payload length (u32 LE),
//              crc32c(kind ++ length ++ payload) (u32 LE), payload
//
// Data frame payloads, concatenated, form the body: a sequence of records
// that may straddle frames (a large value spans many). Values are encoded
// with the DUMP serializers (engine/rdb.ts, engine/commands/dump.ts), except
// sorted sets, which DUMP's loader would renormalise (-0 scores of a small
// set become 0). docs/snapshots.md gives the byte layout and the rules the
// reader enforces.
import { createHash, type Hash } from "node:crypto";
import { assert, AssertionError, assertNever } from "../engine/assert";
import { decodeStreamPayload, isStreamPayload, streamDumpPayload } from "../engine/commands/dump";
import { isIntEncodable, type CompactLimits } from "../engine/encoding";
import { Db } from "../engine/db";
import { datasetChecksum, datasetDigest } from "../engine/digest";
import { Engine } from "../engine/engine";
import { createDumpPayload, decodeDumpPayload } from "../engine/rdb";
import { ZSetObject } from "../engine/types/zset";
import type { Value } from "../engine/value";
import { crc32c } from "../log/io/wal";

export const MAGIC = Buffer.from("MNEMOSNP", "latin1");
/**
 * 2: the header's 20-byte dataset field is the dataset checksum (datasetChecksum).
 * 1: it is DEBUG DIGEST (datasetDigest); still read, never written.
 */
export const FORMAT_VERSION = 2;
const FORMAT_VERSIONS_READ: readonly number[] = [1, 2];
export const PREAMBLE_BYTES = MAGIC.length + 4;
export const FRAME_HEADER_BYTES = 9;
/** A whole frame (header + payload) is at most this long. */
export const CHUNK_BYTES_MAX = 1 << 20;
const FRAME_PAYLOAD_MAX = CHUNK_BYTES_MAX - FRAME_HEADER_BYTES;
/** Smallest chunk a writer may be asked for (tests use small chunks to get many frames). */
const CHUNK_BYTES_MIN = 64;
export const HEADER_PAYLOAD_BYTES = 48;
export const TRAILER_PAYLOAD_BYTES = 48;
const LOG_CHECKSUM_BYTES = 8;
const DIGEST_BYTES = 20;
const SHA256_BYTES = 32;

export const FRAME_HEADER = 0x48;
export const FRAME_DATA = 0x44;
export const FRAME_TRAILER = 0x54;

const REC_DB = 0x01;
const REC_KEY = 0x02;
const DB_RECORD_BYTES = 13;
const KEY_FIXED_BYTES = 6;

const KIND_CODES = { string: 0, list: 1, set: 2, zset: 3, hash: 4, stream: 5 } as const;
type KindName = keyof typeof KIND_CODES;
const KIND_NAMES: readonly KindName[] = ["string", "list", "set", "zset", "hash", "stream"];

const FLAG_EXPIRE = 1;
/** The value keeps Redis's compact encoding (intset / listpack); OBJECT ENCODING must survive. */
const FLAG_COMPACT = 2;
const FLAGS_KNOWN = FLAG_EXPIRE | FLAG_COMPACT;

/** Keys longer than Redis's proto-max-bulk-len default cannot exist. */
const KEY_BYTES_MAX = 512 * 1024 * 1024;

/**
 * Encoding limits for the DUMP serializers: plain hashes and sets (never
 * listpack or intset, which would reorder set members); default list nodes.
 * The real encoding travels in FLAG_COMPACT.
 */
const PAYLOAD_LIMITS: CompactLimits = { hashEntries: 0, hashValue: 0, setIntsetEntries: -1, zsetEntries: 0, zsetValue: 0, listFill: -2 };

/** Every way a snapshot is rejected: corrupt, truncated, unsupported, or written from a changing dataset. */
export class SnapshotError extends Error {
  constructor(message: string) {
    super(`snapshot rejected: ${message}`);
    this.name = "SnapshotError";
  }
}

export interface SnapshotMeta {
  /** The log position the snapshot covers (every record up to and including it). */
  readonly seq: number;
  /** The log's running checksum at `seq`: 8 opaque bytes. */
  readonly logChecksum: Uint8Array;
  /** Defaults to Date.now(). */
  readonly createdAtMs?: number;
  /** The engine's dataset checksum (Engine.checksum) if the caller has just computed it. */
  readonly digest?: string;
}

export interface SnapshotHeader {
  readonly version: number;
  readonly seq: number;
  readonly logChecksum: Buffer;
  readonly createdAtMs: number;
  /** The source dataset's checksum (DEBUG DIGEST in version 1), 40 hex chars: see datasetDigestOf. */
  readonly digest: string;
  /** Number of databases of the source engine. */
  readonly databases: number;
}

export interface SnapshotSummary {
  readonly keys: number;
  readonly bytes: number;
}

export interface WriteOptions {
  /** Largest chunk (a whole frame) to yield; default and maximum CHUNK_BYTES_MAX. */
  readonly chunkBytes?: number;
  /** Called after every chunk with the keys written so far and the total (progress bars). */
  readonly onProgress?: (keysWritten: number, keysTotal: number) => void;
}

// ---------------------------------------------------------------------------
// Writer

function frameHeaderInto(buf: Buffer, kind: number, payloadBytes: number): void {
  buf[0] = kind;
  buf.writeUInt32LE(payloadBytes, 1);
  buf.writeUInt32LE(crc32c(buf, crc32c(buf, 0, 0, 5), FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + payloadBytes), 5);
}

/** Cuts the body into data frames and keeps the running totals the trailer needs. */
class FrameWriter {
  private buf: Buffer;
  private used = FRAME_HEADER_BYTES;
  private readonly out: Buffer[] = [];
  private readonly sha: Hash = createHash("sha256");
  bytes = 0;

  constructor(private readonly chunkBytes: number) {
    this.buf = Buffer.allocUnsafe(chunkBytes);
  }

  /** Chunks sealed since the last take. */
  take(): Buffer[] {
    return this.out.splice(0);
  }

  /** `hashed`: part of what the trailer's SHA-256 covers (everything but the trailer). */
  emit(chunk: Buffer, hashed = true): void {
    if (hashed) this.sha.update(chunk);
    this.bytes += chunk.length;
    this.out.push(chunk);
  }

  /** A whole frame of its own (header, trailer). */
  frame(kind: number, payload: Buffer, hashed = true): void {
    const f = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
    payload.copy(f, FRAME_HEADER_BYTES);
    frameHeaderInto(f, kind, payload.length);
    this.emit(f, hashed);
  }

  bodyBytes(src: Uint8Array): void {
    let at = 0;
    while (at < src.length) {
      if (this.used === this.chunkBytes) this.sealData();
      const n = Math.min(src.length - at, this.chunkBytes - this.used);
      this.buf.set(src.subarray(at, at + n), this.used);
      this.used += n;
      at += n;
    }
  }

  bodyLatin1(s: string): void {
    if (s.length <= this.chunkBytes - this.used) this.used += this.buf.write(s, this.used, s.length, "latin1");
    else this.bodyBytes(Buffer.from(s, "latin1"));
  }

  sealData(): void {
    const payloadBytes = this.used - FRAME_HEADER_BYTES;
    if (payloadBytes === 0) return;
    frameHeaderInto(this.buf, FRAME_DATA, payloadBytes);
    this.emit(this.buf.subarray(0, this.used));
    this.buf = Buffer.allocUnsafe(this.chunkBytes);
    this.used = FRAME_HEADER_BYTES;
  }

  digest(): Buffer {
    return this.sha.digest();
  }
}

function preamble(): Buffer {
  const p = Buffer.alloc(PREAMBLE_BYTES);
  MAGIC.copy(p, 0);
  p.writeUInt32LE(FORMAT_VERSION, MAGIC.length);
  return p;
}

function headerPayload(meta: SnapshotMeta, digest: string, databases: number): Buffer {
  assert(Number.isSafeInteger(meta.seq) && meta.seq >= 0, "snapshot seq must be a non-negative safe integer");
  assert(meta.logChecksum.length === LOG_CHECKSUM_BYTES, "the log checksum must be 8 bytes");
  const p = Buffer.alloc(HEADER_PAYLOAD_BYTES);
  p.writeBigUInt64LE(BigInt(meta.seq), 0);
  p.set(meta.logChecksum, 8);
  p.writeBigInt64LE(BigInt(meta.createdAtMs ?? Date.now()), 16);
  Buffer.from(digest, "hex").copy(p, 24);
  p.writeUInt32LE(databases, 44);
  return p;
}

/** Sorted sets: count (u64), then member length (u32), member, score (f64), in rank order. */
function zsetPayload(z: ZSetObject): Buffer {
  const entries = z.entries();
  let size = 8;
  for (const [m] of entries) size += 12 + m.length;
  const b = Buffer.allocUnsafe(size);
  b.writeBigUInt64LE(BigInt(entries.length), 0);
  let at = 8;
  for (const [m, score] of entries) {
    b.writeUInt32LE(m.length, at);
    at += 4 + b.write(m, at + 4, m.length, "latin1");
    b.writeDoubleLE(score, at);
    at += 8;
  }
  return b;
}

function dumpPayload(v: Value): Buffer {
  const p = createDumpPayload(v, PAYLOAD_LIMITS);
  assert(p !== null, "DUMP cannot serialize this value");
  return p;
}

function encodeValue(v: Value): { kind: KindName; compact: boolean; payload: Buffer } {
  if (typeof v === "string") return { kind: "string", compact: false, payload: dumpPayload(v) };
  switch (v.kind) {
    case "list":
      return { kind: "list", compact: false, payload: dumpPayload(v) };
    case "set":
      return { kind: "set", compact: v.intset, payload: dumpPayload(v) };
    case "hash":
      return { kind: "hash", compact: v.encoding === "listpack", payload: dumpPayload(v) };
    case "zset":
      return { kind: "zset", compact: v.listpack, payload: zsetPayload(v) };
    case "stream":
      return { kind: "stream", compact: false, payload: streamDumpPayload(v) };
    default:
      return assertNever(v, "value kind");
  }
}

function writeKey(w: FrameWriter, scratch: Buffer, key: string, v: Value, expireAtMs: number | undefined): void {
  const { kind, compact, payload } = encodeValue(v);
  scratch[0] = REC_KEY;
  scratch[1] = KIND_CODES[kind];
  scratch[2] = (expireAtMs !== undefined ? FLAG_EXPIRE : 0) | (compact ? FLAG_COMPACT : 0);
  scratch.writeUInt32LE(key.length, 3);
  w.bodyBytes(scratch.subarray(0, 7));
  w.bodyLatin1(key);
  let n = 0;
  if (expireAtMs !== undefined) {
    scratch.writeBigInt64LE(BigInt(expireAtMs), 0);
    n = 8;
  }
  scratch.writeBigUInt64LE(BigInt(payload.length), n);
  w.bodyBytes(scratch.subarray(0, n + 8));
  w.bodyBytes(payload);
}

/**
 * The snapshot of `engine` as chunks of at most CHUNK_BYTES_MAX bytes, each
 * one whole frame (the first also carries the preamble). The engine must not
 * change until the generator finishes: it throws a SnapshotError if it does.
 * Returns the key count and total bytes.
 */
export function* snapshotChunks(engine: Engine, meta: SnapshotMeta, opts: WriteOptions = {}): Generator<Buffer, SnapshotSummary, undefined> {
  const chunkBytes = opts.chunkBytes ?? CHUNK_BYTES_MAX;
  if (!(chunkBytes >= CHUNK_BYTES_MIN && chunkBytes <= CHUNK_BYTES_MAX)) throw new AssertionError(`chunkBytes must be within [${CHUNK_BYTES_MIN}, ${CHUNK_BYTES_MAX}]`);
  const dirtyAtStart = engine.stats.dirty;
  const unchanged = (): void => {
    if (engine.stats.dirty !== dirtyAtStart) throw new SnapshotError("the dataset changed while the snapshot was being written");
  };
  const w = new FrameWriter(chunkBytes);
  w.emit(preamble());
  w.frame(FRAME_HEADER, headerPayload(meta, meta.digest ?? engine.checksum(), engine.dbs.length));
  const scratch = Buffer.alloc(16);
  let keys = 0;
  let keysTotal = 0;
  for (const db of engine.dbs) keysTotal += db.data.size;
  const progress = opts.onProgress;
  for (const db of engine.dbs) {
    if (db.data.size === 0) continue;
    const count = db.data.size;
    scratch[0] = REC_DB;
    scratch.writeUInt32LE(db.id, 1);
    scratch.writeBigUInt64LE(BigInt(count), 5);
    w.bodyBytes(scratch.subarray(0, DB_RECORD_BYTES));
    let written = 0;
    for (const [key, v] of db.data) {
      writeKey(w, scratch, key, v, db.expires.get(key));
      written++;
      const sealed = w.take();
      if (sealed.length > 0 && progress !== undefined) progress(keys + written, keysTotal);
      for (const c of sealed) {
        yield c;
        unchanged();
      }
    }
    if (written !== count) throw new SnapshotError(`db ${db.id} changed size while the snapshot was being written`);
    keys += written;
  }
  w.sealData();
  const t = Buffer.alloc(TRAILER_PAYLOAD_BYTES);
  t.writeBigUInt64LE(BigInt(keys), 0);
  t.writeBigUInt64LE(BigInt(w.bytes), 8);
  w.digest().copy(t, 16);
  w.frame(FRAME_TRAILER, t, false);
  for (const c of w.take()) yield c;
  progress?.(keys, keysTotal);
  return { keys, bytes: w.bytes };
}

// ---------------------------------------------------------------------------
// Reader

/** Bytes received but not consumed yet; takes copy only when a read spans inputs. */
class ByteQueue {
  private readonly parts: Buffer[] = [];
  private head = 0;
  length = 0;

  push(b: Buffer): void {
    if (b.length === 0) return;
    this.parts.push(b);
    this.length += b.length;
  }

  /** The next n bytes (n <= length). */
  take(n: number): Buffer {
    assert(n <= this.length, "ByteQueue.take past the end");
    this.length -= n;
    const first = this.parts[0];
    if (first !== undefined && first.length - this.head >= n) {
      const out = first.subarray(this.head, this.head + n);
      this.head += n;
      if (this.head === first.length) this.dropHead();
      return out;
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const p = this.parts[0];
      assert(p !== undefined, "ByteQueue underflow");
      const k = Math.min(n - filled, p.length - this.head);
      p.copy(out, filled, this.head, this.head + k);
      filled += k;
      this.head += k;
      if (this.head === p.length) this.dropHead();
    }
    return out;
  }

  /** The next n bytes (n <= length) without consuming them. */
  peek(n: number): Buffer {
    assert(n <= this.length, "ByteQueue.peek past the end");
    const first = this.parts[0];
    if (first !== undefined && first.length - this.head >= n) return first.subarray(this.head, this.head + n);
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    let skip = this.head;
    for (const p of this.parts) {
      const k = Math.min(n - filled, p.length - skip);
      p.copy(out, filled, skip, skip + k);
      filled += k;
      skip = 0;
      if (filled === n) break;
    }
    return out;
  }

  private dropHead(): void {
    this.parts.shift();
    this.head = 0;
  }
}

interface DbProgress {
  readonly id: number;
  readonly expected: number;
  seen: number;
}

type BodyState = { readonly kind: "tag" } | { readonly kind: "db" } | { readonly kind: "keyFixed" } | { readonly kind: "keyRest"; readonly code: number; readonly flags: number; readonly keyBytes: number } | { readonly kind: "payload"; readonly code: number; readonly flags: number; readonly key: string; readonly expireAtMs: number | undefined };

/** Parses body records as data frames arrive and loads them into the (fresh) engine. */
class BodyLoader {
  private readonly q = new ByteQueue();
  private state: BodyState = { kind: "tag" };
  private need = 1;
  private db: DbProgress | null = null;
  keys = 0;

  constructor(
    private readonly dbs: readonly Db[],
    private readonly databases: number,
  ) {}

  feed(payload: Buffer): void {
    this.q.push(payload);
    while (this.q.length >= this.need) this.step(this.q.take(this.need));
  }

  /** At the trailer: the body must end on a record boundary with every db complete. */
  finish(): void {
    if (this.state.kind !== "tag" || this.q.length !== 0) throw new SnapshotError(`the body ends inside a record (${this.state.kind})`);
    this.closeDb();
  }

  private expect(state: BodyState, need: number): void {
    this.state = state;
    this.need = need;
  }

  private step(b: Buffer): void {
    const s = this.state;
    switch (s.kind) {
      case "tag":
        if (b[0] === REC_DB) return this.expect({ kind: "db" }, DB_RECORD_BYTES - 1);
        if (b[0] === REC_KEY) return this.expect({ kind: "keyFixed" }, KEY_FIXED_BYTES);
        throw new SnapshotError(`unknown record tag ${b[0]} after ${this.keys} keys`);
      case "db":
        return this.openDb(b.readUInt32LE(0), b.readBigUInt64LE(4));
      case "keyFixed":
        return this.keyFixed(b);
      case "keyRest":
        return this.keyRest(s.code, s.flags, s.keyBytes, b);
      case "payload":
        this.load(s.code, s.flags, s.key, s.expireAtMs, b);
        return this.expect({ kind: "tag" }, 1);
      default:
        return assertNever(s, "body state");
    }
  }

  private openDb(id: number, count: bigint): void {
    this.closeDb();
    const prev = this.lastDbId;
    if (id >= this.databases || id >= this.dbs.length) throw new SnapshotError(`db ${id} is out of range (${this.databases} in the snapshot, ${this.dbs.length} in the engine)`);
    if (id <= prev) throw new SnapshotError(`db ${id} follows db ${prev}: dbs must appear once, in ascending order`);
    if (count === 0n || count > BigInt(Number.MAX_SAFE_INTEGER)) throw new SnapshotError(`db ${id} declares ${count} keys`);
    this.lastDbId = id;
    this.db = { id, expected: Number(count), seen: 0 };
    this.expect({ kind: "tag" }, 1);
  }

  private lastDbId = -1;

  private closeDb(): void {
    const d = this.db;
    if (d !== null && d.seen !== d.expected) throw new SnapshotError(`db ${d.id} declares ${d.expected} keys but holds ${d.seen}`);
    this.db = null;
  }

  private keyFixed(b: Buffer): void {
    const code = b[0] ?? 0;
    const flags = b[1] ?? 0;
    const keyBytes = b.readUInt32LE(2);
    if (this.db === null) throw new SnapshotError("a key record comes before any db record");
    if (code >= KIND_NAMES.length) throw new SnapshotError(`unknown value kind ${code}`);
    if ((flags & ~FLAGS_KNOWN) !== 0) throw new SnapshotError(`unknown key flags 0x${flags.toString(16)}`);
    if (keyBytes > KEY_BYTES_MAX) throw new SnapshotError(`key length ${keyBytes} is over the limit`);
    this.expect({ kind: "keyRest", code, flags, keyBytes }, keyBytes + ((flags & FLAG_EXPIRE) !== 0 ? 8 : 0) + 8);
  }

  private keyRest(code: number, flags: number, keyBytes: number, b: Buffer): void {
    const key = b.toString("latin1", 0, keyBytes);
    let at = keyBytes;
    let expireAtMs: number | undefined;
    if ((flags & FLAG_EXPIRE) !== 0) {
      const t = b.readBigInt64LE(at);
      if (t < BigInt(Number.MIN_SAFE_INTEGER) || t > BigInt(Number.MAX_SAFE_INTEGER)) throw new SnapshotError(`key ${showKey(key)}: expire time ${t} is out of range`);
      expireAtMs = Number(t);
      at += 8;
    }
    const payloadBytes = b.readBigUInt64LE(at);
    if (payloadBytes === 0n || payloadBytes > BigInt(Number.MAX_SAFE_INTEGER)) throw new SnapshotError(`key ${showKey(key)}: value length ${payloadBytes} is out of range`);
    this.expect({ kind: "payload", code, flags, key, expireAtMs }, Number(payloadBytes));
  }

  private load(code: number, flags: number, key: string, expireAtMs: number | undefined, payload: Buffer): void {
    const d = this.db;
    assert(d !== null, "key outside a db");
    const kind = KIND_NAMES[code];
    assert(kind !== undefined, "kind checked in keyFixed");
    const db = this.dbs[d.id];
    assert(db !== undefined, "db id checked in openDb");
    if (db.data.has(key)) throw new SnapshotError(`db ${d.id}: key ${showKey(key)} appears twice`);
    if (++d.seen > d.expected) throw new SnapshotError(`db ${d.id} holds more keys than the ${d.expected} it declares`);
    let value: Value;
    try {
      value = decodeValue(kind, (flags & FLAG_COMPACT) !== 0, payload);
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      throw new SnapshotError(`db ${d.id}: the ${kind} value of key ${showKey(key)} is malformed: ${why}`);
    }
    db.data.set(key, value);
    if (expireAtMs !== undefined) db.expires.set(key, expireAtMs);
    this.keys++;
  }
}

function showKey(key: string): string {
  const shown = key.length > 64 ? `${key.slice(0, 64)}...` : key;
  return JSON.stringify(shown);
}

function decodeValue(kind: KindName, compact: boolean, payload: Buffer): Value {
  if (kind === "zset") return decodeZset(payload, compact);
  if (kind === "stream") {
    if (compact) throw new Error("a stream has no compact encoding");
    if (!isStreamPayload(payload)) throw new Error("not a stream payload");
    const r = decodeStreamPayload(payload);
    if (!r.ok) throw new Error(`stream payload ${r.error}`);
    return r.value;
  }
  const r = decodeDumpPayload(payload);
  if (!r.ok) throw new Error(`DUMP payload ${r.error}`);
  const v = r.value;
  const got: KindName = typeof v === "string" ? "string" : v.kind;
  if (got !== kind) throw new Error(`the payload holds a ${got}`);
  if (typeof v === "string" || v.kind === "list") {
    if (compact) throw new Error(`a ${kind} has no compact encoding`);
    return v;
  }
  if (v.kind === "set") {
    if (compact && !v.toArray().every(isIntEncodable)) throw new Error("an intset with a non-integer member");
    v.intset = compact;
  } else if (v.kind === "hash") {
    v.encoding = compact ? "listpack" : "hashtable";
  }
  return v;
}

function decodeZset(b: Buffer, compact: boolean): ZSetObject {
  if (b.length < 8) throw new Error("short sorted set");
  const count = b.readBigUInt64LE(0);
  // Each entry takes at least 12 bytes: a bound before allocating anything.
  if (count === 0n || count > BigInt(Math.floor((b.length - 8) / 12))) throw new Error(`sorted set count ${count} does not fit its ${b.length} bytes`);
  const pairs: [string, number][] = [];
  let at = 8;
  for (let i = 0; i < Number(count); i++) {
    if (at + 4 > b.length) throw new Error("short sorted set entry");
    const len = b.readUInt32LE(at);
    if (at + 4 + len + 8 > b.length) throw new Error("short sorted set entry");
    const m = b.toString("latin1", at + 4, at + 4 + len);
    const score = b.readDoubleLE(at + 4 + len);
    if (Number.isNaN(score)) throw new Error("NaN score");
    pairs.push([m, score]);
    at += 12 + len;
  }
  if (at !== b.length) throw new Error("trailing bytes after the sorted set");
  // The recorded encoding, not the default limits, decides listpack (and so -0 handling).
  const z = compact ? ZSetObject.fromEntries(pairs, Infinity, Infinity) : ZSetObject.fromEntries(pairs, -1, -1);
  if (z.length !== pairs.length) throw new Error("duplicate sorted set member");
  return z;
}

export interface ReadOptions {
  /** Makes the engine to load into; it must be empty. Default: new Engine(). */
  readonly newEngine?: () => Engine;
  /** Recompute DEBUG DIGEST after loading and compare it with the header's (default true). */
  readonly verifyDigest?: boolean;
  /** Called after every input chunk with the bytes consumed so far (progress bars). */
  readonly onProgress?: (bytesRead: number) => void;
}

export interface LoadedSnapshot {
  readonly engine: Engine;
  readonly header: SnapshotHeader;
  readonly keys: number;
  readonly bytes: number;
}

function parseHeader(version: number, p: Buffer): SnapshotHeader {
  const seq = p.readBigUInt64LE(0);
  const createdAtMs = p.readBigInt64LE(16);
  if (seq > BigInt(Number.MAX_SAFE_INTEGER)) throw new SnapshotError(`header seq ${seq} is out of range`);
  if (createdAtMs < 0n || createdAtMs > BigInt(Number.MAX_SAFE_INTEGER)) throw new SnapshotError(`header creation time ${createdAtMs} is out of range`);
  const databases = p.readUInt32LE(44);
  if (databases === 0) throw new SnapshotError("header declares 0 databases");
  return {
    version,
    seq: Number(seq),
    logChecksum: Buffer.from(p.subarray(8, 8 + LOG_CHECKSUM_BYTES)),
    createdAtMs: Number(createdAtMs),
    digest: p.toString("hex", 24, 24 + DIGEST_BYTES),
    databases,
  };
}

type ReadPhase = "preamble" | "header" | "body" | "done";

/**
 * Gives the (empty) databases to load into once the header has said how
 * many the snapshot has.
 */
type TargetDbs = (header: SnapshotHeader) => readonly Db[];

/** Splits the input into frames, checks each, and drives the body loader. */
class SnapshotReader {
  private readonly q = new ByteQueue();
  private readonly sha: Hash = createHash("sha256");
  private phase: ReadPhase = "preamble";
  /** The format version the preamble declared. */
  private version = FORMAT_VERSION;
  /** File offset of the next unconsumed byte. */
  offset = 0;
  header: SnapshotHeader | null = null;
  private body: BodyLoader | null = null;
  /** The databases loaded into (set with the header). */
  dbs: readonly Db[] | null = null;

  constructor(private readonly target: TargetDbs) {}

  feed(chunk: Buffer): void {
    this.q.push(chunk);
    while (this.step());
    if (this.phase === "done" && this.q.length > 0) throw new SnapshotError(`${this.q.length} bytes follow the trailer at byte ${this.offset}`);
  }

  /** Consumes the next piece if it has fully arrived; false when more input is needed. */
  private step(): boolean {
    switch (this.phase) {
      case "preamble":
        if (this.q.length < PREAMBLE_BYTES) return false;
        this.readPreamble(this.consume(PREAMBLE_BYTES));
        return true;
      case "header":
      case "body":
        return this.nextFrame();
      case "done":
        return false;
      default:
        return assertNever(this.phase, "read phase");
    }
  }

  /** Input ended: only legal right after the trailer. */
  end(): { keys: number; bytes: number } {
    if (this.phase !== "done") throw new SnapshotError(`truncated: the input ends at byte ${this.offset + this.q.length} before the trailer`);
    return { keys: this.body?.keys ?? 0, bytes: this.offset };
  }

  private consume(n: number): Buffer {
    const b = this.q.take(n);
    this.sha.update(b);
    this.offset += n;
    return b;
  }

  private readPreamble(p: Buffer): void {
    if (!p.subarray(0, MAGIC.length).equals(MAGIC)) throw new SnapshotError("not a Mnemo snapshot (bad magic)");
    const version = p.readUInt32LE(MAGIC.length);
    if (!FORMAT_VERSIONS_READ.includes(version)) throw new SnapshotError(`format version ${version} is not supported (this build reads versions ${FORMAT_VERSIONS_READ.join(", ")})`);
    this.version = version;
    this.phase = "header";
  }

  /** Consumes one whole frame if it is all there; false when more input is needed. */
  private nextFrame(): boolean {
    if (this.q.length < FRAME_HEADER_BYTES) return false;
    const at = this.offset;
    const peek = this.q.peek(FRAME_HEADER_BYTES);
    const kind = peek[0] ?? 0;
    const len = peek.readUInt32LE(1);
    this.checkFrameShape(kind, len, at);
    if (this.q.length < FRAME_HEADER_BYTES + len) return false;
    this.q.take(FRAME_HEADER_BYTES);
    const payload = this.q.take(len);
    const crc = crc32c(payload, crc32c(peek, 0, 0, 5));
    if (crc !== peek.readUInt32LE(5)) throw new SnapshotError(`chunk at byte ${at} fails its CRC-32C`);
    this.offset += FRAME_HEADER_BYTES + len;
    if (kind === FRAME_TRAILER) {
      this.trailer(payload, at);
      return true;
    }
    this.sha.update(peek);
    this.sha.update(payload);
    if (kind === FRAME_HEADER) this.startBody(payload);
    else this.body?.feed(payload);
    return true;
  }

  private checkFrameShape(kind: number, len: number, at: number): void {
    const where = `chunk at byte ${at}`;
    if (this.phase === "header") {
      if (kind !== FRAME_HEADER || len !== HEADER_PAYLOAD_BYTES) throw new SnapshotError(`${where}: expected the header (kind ${kind}, ${len} bytes)`);
      return;
    }
    if (kind === FRAME_DATA) {
      if (len === 0 || len > FRAME_PAYLOAD_MAX) throw new SnapshotError(`${where}: data chunk length ${len} is out of range`);
      return;
    }
    if (kind === FRAME_TRAILER) {
      if (len !== TRAILER_PAYLOAD_BYTES) throw new SnapshotError(`${where}: trailer length ${len} is wrong`);
      return;
    }
    throw new SnapshotError(`${where}: unexpected chunk kind ${kind}`);
  }

  private startBody(payload: Buffer): void {
    const h = parseHeader(this.version, payload);
    const dbs = this.target(h);
    if (dbs.some((d) => d.data.size !== 0)) throw new Error("a snapshot must be read into empty databases");
    if (h.databases > dbs.length) throw new SnapshotError(`the snapshot has ${h.databases} databases, the engine ${dbs.length}`);
    this.header = h;
    this.dbs = dbs;
    this.body = new BodyLoader(dbs, h.databases);
    this.phase = "body";
  }

  private trailer(t: Buffer, at: number): void {
    const body = this.body;
    assert(body !== null, "trailer before the header is refused by checkFrameShape");
    body.finish();
    const keys = t.readBigUInt64LE(0);
    const bytes = t.readBigUInt64LE(8);
    if (keys !== BigInt(body.keys)) throw new SnapshotError(`the trailer counts ${keys} keys, the body holds ${body.keys}`);
    if (bytes !== BigInt(at)) throw new SnapshotError(`the trailer counts ${bytes} bytes, ${at} precede it`);
    if (!this.sha.digest().equals(t.subarray(16, 16 + SHA256_BYTES))) throw new SnapshotError("the SHA-256 of the whole file does not match the trailer");
    this.phase = "done";
  }
}

function chunkBuffer(c: Uint8Array): Buffer {
  return Buffer.isBuffer(c) ? c : Buffer.from(c.buffer, c.byteOffset, c.byteLength);
}

/**
 * The value a snapshot's header records for `dbs` in its format version: the
 * dataset checksum (version 2), or DEBUG DIGEST (version 1).
 */
export function datasetDigestOf(header: SnapshotHeader, dbs: readonly Db[]): string {
  return header.version === 1 ? datasetDigest(dbs) : datasetChecksum(dbs);
}

/** After the last input chunk: the end-of-input and digest checks shared by both readers. */
function finishRead(r: SnapshotReader, verifyDigest: boolean): { dbs: readonly Db[]; header: SnapshotHeader; keys: number; bytes: number } {
  const { keys, bytes } = r.end();
  const dbs = r.dbs;
  const header = r.header;
  assert(dbs !== null && header !== null, "a complete snapshot has a header");
  if (verifyDigest) {
    const got = datasetDigestOf(header, dbs);
    if (got !== header.digest) throw new SnapshotError(`the loaded dataset's ${header.version === 1 ? "digest" : "checksum"} ${got} differs from the source's ${header.digest}`);
  }
  return { dbs, header, keys, bytes };
}

/**
 * Reads a snapshot from any chunking of its bytes into a fresh engine, which
 * is returned only once every check has passed (magic, version, each chunk's
 * CRC, lengths, every value payload, per-db and total key counts, byte count,
 * whole-file SHA-256 and, unless disabled, the dataset digest). Any failure
 * throws a SnapshotError and the partly loaded engine is dropped.
 */
export async function readSnapshot(chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, opts: ReadOptions = {}): Promise<LoadedSnapshot> {
  const newEngine = opts.newEngine ?? (() => new Engine());
  // A holder, not a `let`: the engine is made inside the reader's callback.
  const made: { engine: Engine | null } = { engine: null };
  const r = new SnapshotReader(() => {
    made.engine = newEngine();
    return made.engine.dbs;
  });
  for await (const c of chunks) {
    r.feed(chunkBuffer(c));
    opts.onProgress?.(r.offset);
  }
  const { header, keys, bytes } = finishRead(r, opts.verifyDigest !== false);
  const engine = made.engine;
  assert(engine !== null, "the engine is made with the header");
  return { engine, header, keys, bytes };
}

export interface LoadedDbs {
  /** One Db per database of the snapshot's source (ids 0..databases-1). */
  readonly dbs: readonly Db[];
  readonly header: SnapshotHeader;
  readonly keys: number;
  readonly bytes: number;
}

/**
 * readSnapshot for a snapshot already in memory (DEBUG RELOAD): the same
 * parser and checks, synchronously, into `databases` fresh Db objects
 * instead of a whole Engine (a snapshot with more databases is refused).
 */
export function loadSnapshotSync(chunks: Iterable<Uint8Array>, opts: { readonly databases: number; readonly verifyDigest?: boolean }): LoadedDbs {
  const r = new SnapshotReader(() => Array.from({ length: opts.databases }, (_, i) => new Db(i)));
  for (const c of chunks) r.feed(chunkBuffer(c));
  return finishRead(r, opts.verifyDigest !== false);
}
