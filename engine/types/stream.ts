// The stream value type (Redis's stream.h / t_stream.c structure).
//
// Entries live in nodes that mirror Redis's listpack macro-nodes one for one:
// a node is opened by the entry that starts it (its "master" ID and fields),
// takes entries until Redis would open the next one (stream-node-max-bytes,
// counted as the exact listpack bytes Redis would have, or
// stream-node-max-entries), and keeps deleted entries as tombstones until the
// whole node goes. Mirroring the nodes is what makes approximate trimming
// (`MAXLEN ~`), LIMIT, XINFO's radix-tree counts and DUMP payloads match Redis.
// Nodes sit in an array ordered by ID: appends are amortised O(1), a lookup
// is two binary searches, a range scan walks forward or backward from there.
//
// IDs are two unsigned 64-bit parts. Each part is a number while it is a safe
// integer and a bigint beyond (canonical, so === and < work across the two):
// real IDs (unix ms) stay numbers, the full 2^64-1 range still works.
//
// Consumer groups hold a pending entries list (PEL) per group and per
// consumer, ordered maps by ID (IdMap) sharing the same Nack objects.
import { assert } from "../assert";
import { parseInt64 } from "../num";

// ---------------------------------------------------------------------------
// Unsigned 64-bit ID parts and signed counters

/** An unsigned 64-bit integer: a number when safe, else a bigint (canonical). */
export type U64 = number | bigint;
/** A signed 64-bit counter, canonical in the same way (entries_read, lag). */
export type Int64 = number | bigint;

export const U64_MAX = 18446744073709551615n;
const SAFE_MAX_BIG = BigInt(Number.MAX_SAFE_INTEGER);

export function canonInt(b: bigint): Int64 {
  return b <= SAFE_MAX_BIG && b >= -SAFE_MAX_BIG ? Number(b) : b;
}

/** x + 1; the caller rules out U64_MAX. */
export function incrU64(x: U64): U64 {
  if (typeof x === "number") return x < Number.MAX_SAFE_INTEGER ? x + 1 : BigInt(x) + 1n;
  return x + 1n;
}

/** x - 1; the caller rules out 0. */
export function decrU64(x: U64): U64 {
  return typeof x === "number" ? x - 1 : canonInt(x - 1n);
}

/** a - b exactly (signed). */
export function subInt(a: Int64, b: Int64): Int64 {
  if (typeof a === "number" && typeof b === "number") {
    const r = a - b;
    if (Number.isSafeInteger(r)) return r;
  }
  return canonInt(BigInt(a) - BigInt(b));
}

/** a + 1 as a signed counter. */
export function incrInt(a: Int64): Int64 {
  return typeof a === "number" && a < Number.MAX_SAFE_INTEGER ? a + 1 : canonInt(BigInt(a) + 1n);
}

// ---------------------------------------------------------------------------
// Stream IDs

export interface StreamID {
  readonly ms: U64;
  readonly seq: U64;
}

export const MIN_ID: StreamID = { ms: 0, seq: 0 };
export const MAX_ID: StreamID = { ms: U64_MAX, seq: U64_MAX };

export function cmpId(a: StreamID, b: StreamID): number {
  if (a.ms !== b.ms) return a.ms < b.ms ? -1 : 1;
  if (a.seq !== b.seq) return a.seq < b.seq ? -1 : 1;
  return 0;
}

export function isZeroId(id: StreamID): boolean {
  return id.ms === 0 && id.seq === 0;
}

export function isMaxId(id: StreamID): boolean {
  return id.ms === U64_MAX && id.seq === U64_MAX;
}

export function formatId(id: StreamID): string {
  return `${id.ms}-${id.seq}`;
}

/** The next ID, or null past the largest (Redis's streamIncrID failing). */
export function incrId(id: StreamID): StreamID | null {
  if (id.seq !== U64_MAX) return { ms: id.ms, seq: incrU64(id.seq) };
  if (id.ms === U64_MAX) return null;
  return { ms: incrU64(id.ms), seq: 0 };
}

/** The previous ID, or null before 0-0. */
export function decrId(id: StreamID): StreamID | null {
  if (id.seq !== 0) return { ms: id.ms, seq: decrU64(id.seq) };
  if (id.ms === 0) return null;
  return { ms: decrU64(id.ms), seq: U64_MAX };
}

function isCSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

/** C's strtoull(s, &end, 10) accepting only when all of s is consumed. */
function strtoull(s: string): U64 | null {
  let i = 0;
  while (i < s.length && isCSpace(s.charCodeAt(i))) i++;
  let neg = false;
  const sign = s.charCodeAt(i);
  if (sign === 43 || sign === 45) {
    neg = sign === 45;
    i++;
  }
  const digits = s.slice(i);
  if (!/^[0-9]+$/.test(digits)) return null;
  let v = BigInt(digits);
  if (v > U64_MAX) return null;
  if (neg) v = BigInt.asUintN(64, -v);
  return canonInt(v);
}

/** Redis's string2ull: string2ll when it applies (negatives refused), else strtoull. */
export function parseU64(s: string): U64 | null {
  const ll = parseInt64(s);
  if (ll !== null) return ll < 0 ? null : ll;
  return strtoull(s);
}

export interface ParsedId {
  readonly id: StreamID;
  /** False for the `<ms>-*` form (XADD only). */
  readonly seqGiven: boolean;
}

/**
 * Redis's streamGenericParseIDOrReply: `-`, `+` (unless strict), `<ms>`
 * (seq = missingSeq), `<ms>-<seq>`, and `<ms>-*` when seqStar. Null when invalid.
 */
export function parseStreamId(arg: string, missingSeq: U64, strict: boolean, seqStar = false): ParsedId | null {
  if (arg.length > 127) return null;
  const nul = arg.indexOf("\0");
  const s = nul >= 0 ? arg.slice(0, nul) : arg;
  if (s === "-" || s === "+") {
    if (strict) return null;
    return { id: s === "-" ? MIN_ID : MAX_ID, seqGiven: true };
  }
  const dash = s.indexOf("-");
  const ms = parseU64(dash < 0 ? s : s.slice(0, dash));
  if (ms === null) return null;
  if (dash < 0) return { id: { ms, seq: missingSeq }, seqGiven: true };
  const seqPart = s.slice(dash + 1);
  if (seqStar && seqPart === "*") return { id: { ms, seq: 0 }, seqGiven: false };
  const seq = parseU64(seqPart);
  return seq === null ? null : { id: { ms, seq }, seqGiven: true };
}

/** The 16-byte big-endian form Redis uses as rax key and in RDB PELs. */
export function idToBytes(id: StreamID, out: Buffer, offset: number): void {
  out.writeBigUInt64BE(BigInt(id.ms), offset);
  out.writeBigUInt64BE(BigInt(id.seq), offset + 8);
}

export function idFromBytes(b: Buffer, offset: number): StreamID {
  return { ms: canonInt(b.readBigUInt64BE(offset)), seq: canonInt(b.readBigUInt64BE(offset + 8)) };
}

// ---------------------------------------------------------------------------
// Listpack sizes (the bytes Redis's listpack would take), for node limits

function lpIntEncBytes(v: number | bigint): number {
  if (typeof v === "bigint") return v >= -2147483648n && v <= 2147483647n ? lpIntEncBytes(Number(v)) : 9;
  if (v >= 0 && v <= 127) return 1;
  if (v >= -4096 && v <= 4095) return 2;
  if (v >= -32768 && v <= 32767) return 3;
  if (v >= -8388608 && v <= 8388607) return 4;
  if (v >= -2147483648 && v <= 2147483647) return 5;
  return 9;
}

function backlenBytes(l: number): number {
  if (l <= 127) return 1;
  if (l < 16383) return 2;
  if (l < 2097151) return 3;
  if (l < 268435455) return 4;
  return 5;
}

/** Bytes of one listpack element holding integer v (encoding, data, backlen). */
export function lpIntBytes(v: number | bigint): number {
  const enc = lpIntEncBytes(v);
  return enc + backlenBytes(enc);
}

/** Bytes of one listpack element holding s (integer-encoded when s is an int64). */
export function lpStrBytes(s: string): number {
  const n = parseInt64(s);
  if (n !== null) return lpIntBytes(n);
  const len = s.length;
  const enc = len < 64 ? 1 + len : len < 4096 ? 2 + len : 5 + len;
  return enc + backlenBytes(enc);
}

/** (a - b) mod 2^64 read as int64: how Redis delta-encodes IDs in a node. */
export function deltaI64(a: U64, b: U64): number | bigint {
  if (typeof a === "number" && typeof b === "number") return a - b;
  return canonInt(BigInt.asIntN(64, BigInt(a) - BigInt(b)));
}

/** a + delta mod 2^64 (decoding a delta-encoded ID part). */
export function addDelta(a: U64, delta: bigint): U64 {
  return canonInt(BigInt.asUintN(64, BigInt(a) + delta));
}

/** Listpack header (6) and terminator (1). */
const LP_FIXED_BYTES = 7;
const FLAG_BYTES = 2;

// ---------------------------------------------------------------------------
// Entries and nodes

/** Entry flags as Redis stores them in a node. */
export const FLAG_DELETED = 1;
export const FLAG_SAMEFIELDS = 2;

/**
 * One entry as callers see it: built on demand from a node's packed storage
 * (see StreamNode), so changing it changes nothing in the stream.
 */
export class StreamEntry {
  constructor(
    readonly id: StreamID,
    /** Field names; the very array of the node's master fields when they are the same. */
    readonly fields: readonly string[],
    readonly values: readonly string[],
    public deleted: boolean,
  ) {}

  /** field, value, field, value ... */
  flat(): string[] {
    const out: string[] = [];
    for (let i = 0; i < this.values.length; i++) out.push(this.fields[i] ?? "", this.values[i] ?? "");
    return out;
  }
}

/** `dst` with `src` copied to its start. */
function filledFrom<T extends { set(src: ArrayLike<number>): void }>(dst: T, src: ArrayLike<number>): T {
  dst.set(src);
  return dst;
}

/** Entries a node makes room for at first; it grows (x4) as it fills. */
const NODE_INITIAL_CAPACITY = 8;

/**
 * A run of entries that Redis keeps in one listpack. Packed: IDs in two
 * Float64Arrays (while every ID fits a double exactly; a node that meets a
 * bigger one keeps ID objects instead), flags in a Uint8Array, and every
 * entry's strings in one array (its values when it has the master fields,
 * else field, value pairs), so an entry costs no object of its own. Entries
 * are read through entryAt() and friends.
 */
export class StreamNode {
  /** Entries held, tombstones included. */
  private count = 0;
  private msOf: Float64Array;
  private seqOf: Float64Array;
  /** The IDs as objects once an ID that is a bigint has been stored (then msOf/seqOf are unused). */
  private boxed: StreamID[] | null = null;
  private flagsOf: Uint8Array;
  /** Where each entry's strings start in `strs` (they end where the next entry's start). */
  private startOf: Int32Array;
  private strs: string[] = [];
  live = 0;
  deleted = 0;
  /** Listpack bytes apart from the live and deleted counters (which change in place). */
  private restBytes: number;

  constructor(
    /** The rax key: the ID the node was opened with; entries are delta-encoded against it. */
    readonly master: StreamID,
    readonly masterFields: readonly string[],
    capacity = NODE_INITIAL_CAPACITY,
  ) {
    let b = LP_FIXED_BYTES + lpIntBytes(masterFields.length) + lpIntBytes(0);
    for (const f of masterFields) b += lpStrBytes(f);
    this.restBytes = b;
    const cap = Math.max(1, capacity);
    this.msOf = new Float64Array(cap);
    this.seqOf = new Float64Array(cap);
    this.flagsOf = new Uint8Array(cap);
    this.startOf = new Int32Array(cap);
  }

  /** Redis's lpBytes() of this node's listpack. */
  get bytes(): number {
    return this.restBytes + lpIntBytes(this.live) + lpIntBytes(this.deleted);
  }

  /** Entries held, tombstones included. */
  get size(): number {
    return this.count;
  }

  get firstId(): StreamID {
    assert(this.count > 0, "stream node without entries");
    return this.idAt(0);
  }

  /** The last ID in the node, tombstones included (lpGetEdgeStreamID). */
  get lastId(): StreamID {
    assert(this.count > 0, "stream node without entries");
    return this.idAt(this.count - 1);
  }

  idAt(i: number): StreamID {
    const boxed = this.boxed;
    if (boxed !== null) return boxed[i] as StreamID;
    return { ms: this.msOf[i] as number, seq: this.seqOf[i] as number };
  }

  /** cmpId(entry i's ID, id) without building the entry's ID. */
  cmpAt(i: number, id: StreamID): number {
    const boxed = this.boxed;
    if (boxed !== null) return cmpId(boxed[i] as StreamID, id);
    // IDs are canonical (a number whenever it fits), so a number and a bigint always differ.
    const ms = this.msOf[i] as number;
    if (ms !== id.ms) return ms < id.ms ? -1 : 1;
    const seq = this.seqOf[i] as number;
    if (seq !== id.seq) return seq < id.seq ? -1 : 1;
    return 0;
  }

  isDeleted(i: number): boolean {
    return ((this.flagsOf[i] as number) & FLAG_DELETED) !== 0;
  }

  /** Flags entry i deleted; the caller keeps live/deleted (and the stream's length) right. */
  markDeleted(i: number): void {
    this.flagsOf[i] = (this.flagsOf[i] as number) | FLAG_DELETED;
  }

  /** Entry i's field names (the master's array itself when they are the same). */
  fieldsAt(i: number): readonly string[] {
    if (((this.flagsOf[i] as number) & FLAG_SAMEFIELDS) !== 0) return this.masterFields;
    const out: string[] = [];
    const end = this.endOf(i);
    for (let j = this.startOf[i] as number; j < end; j += 2) out.push(this.strs[j] as string);
    return out;
  }

  /** Entry i's values, in field order. */
  valuesAt(i: number): string[] {
    const start = this.startOf[i] as number;
    const end = this.endOf(i);
    if (((this.flagsOf[i] as number) & FLAG_SAMEFIELDS) !== 0) return this.strs.slice(start, end);
    const out: string[] = [];
    for (let j = start + 1; j < end; j += 2) out.push(this.strs[j] as string);
    return out;
  }

  entryAt(i: number): StreamEntry {
    return new StreamEntry(this.idAt(i), this.fieldsAt(i), this.valuesAt(i), this.isDeleted(i));
  }

  /** Every entry, tombstones included, as views (DUMP, tests). */
  get entries(): StreamEntry[] {
    const out: StreamEntry[] = [];
    for (let i = 0; i < this.count; i++) out.push(this.entryAt(i));
    return out;
  }

  private endOf(i: number): number {
    return i + 1 < this.count ? (this.startOf[i + 1] as number) : this.strs.length;
  }

  sameFields(fields: readonly string[]): boolean {
    const m = this.masterFields;
    if (m.length !== fields.length) return false;
    for (let i = 0; i < m.length; i++) if (m[i] !== fields[i]) return false;
    return true;
  }

  /** Appends an entry (a loader's; XADD uses add). */
  push(e: StreamEntry): void {
    this.add(e.id, e.fields, e.values, e.deleted);
  }

  /** Appends an entry whose ID is above every ID in the node. */
  add(id: StreamID, fields: readonly string[], values: readonly string[], deleted: boolean): void {
    const same = fields === this.masterFields || this.sameFields(fields);
    const i = this.count;
    if (i === this.msOf.length) this.grow();
    if (this.boxed === null && (typeof id.ms !== "number" || typeof id.seq !== "number")) this.box();
    if (this.boxed !== null) {
      this.boxed.push(id);
    } else {
      this.msOf[i] = id.ms as number;
      this.seqOf[i] = id.seq as number;
    }
    this.flagsOf[i] = (same ? FLAG_SAMEFIELDS : 0) | (deleted ? FLAG_DELETED : 0);
    this.startOf[i] = this.strs.length;
    const strs = this.strs;
    if (same) {
      for (const v of values) strs.push(v);
    } else {
      for (let k = 0; k < values.length; k++) strs.push(fields[k] ?? "", values[k] ?? "");
    }
    this.count = i + 1;
    this.restBytes += this.entryBytes(id, same, fields, values);
    if (deleted) this.deleted++;
    else this.live++;
  }

  private grow(): void {
    // x4: a node of the default 100 entries grows twice (8, 32, 128).
    const cap = this.msOf.length * 4;
    this.msOf = filledFrom(new Float64Array(cap), this.msOf);
    this.seqOf = filledFrom(new Float64Array(cap), this.seqOf);
    this.flagsOf = filledFrom(new Uint8Array(cap), this.flagsOf);
    this.startOf = filledFrom(new Int32Array(cap), this.startOf);
  }

  /** From now on IDs are kept as objects (one of them does not fit a double). */
  private box(): void {
    const ids: StreamID[] = [];
    for (let i = 0; i < this.count; i++) ids.push(this.idAt(i));
    this.boxed = ids;
  }

  private entryBytes(id: StreamID, same: boolean, fields: readonly string[], values: readonly string[]): number {
    const n = values.length;
    let b = FLAG_BYTES + lpIntBytes(deltaI64(id.ms, this.master.ms)) + lpIntBytes(deltaI64(id.seq, this.master.seq));
    if (!same) {
      b += lpIntBytes(n);
      for (const f of fields) b += lpStrBytes(f);
    }
    for (const v of values) b += lpStrBytes(v);
    return b + lpIntBytes(same ? n + 3 : 2 * n + 4);
  }

  /** Index of the first entry with id >= target (size if none). */
  lowerBound(target: StreamID): number {
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.cmpAt(mid, target) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  clone(): StreamNode {
    const n = new StreamNode(this.master, this.masterFields, this.msOf.length);
    n.count = this.count;
    n.msOf.set(this.msOf);
    n.seqOf.set(this.seqOf);
    n.boxed = this.boxed === null ? null : this.boxed.slice();
    n.flagsOf.set(this.flagsOf);
    n.startOf.set(this.startOf);
    n.strs = this.strs.slice();
    n.restBytes = this.restBytes;
    n.live = this.live;
    n.deleted = this.deleted;
    return n;
  }
}

/** The node limits in force when appending (stream-node-max-bytes / -entries). */
export interface NodeLimits {
  readonly maxBytes: number;
  readonly maxEntries: number;
}

/** Listpacks may not grow beyond this whatever the config says. */
export const LISTPACK_SIZE_MAX = 1 << 30;

export interface TrimSpec {
  readonly strategy: "maxlen" | "minid";
  readonly maxlen: number;
  readonly minid: StreamID;
  /** Remove whole nodes only (`~`). */
  readonly approx: boolean;
  /** At most this many entries (0 = no limit). */
  readonly limit: number;
}

// ---------------------------------------------------------------------------
// Ordered maps by ID (the PELs)

const CHUNK_MAX = 128;

interface Chunk<V> {
  ids: StreamID[];
  vals: V[];
}

/** An ordered map StreamID -> V in sorted chunks: O(log n + chunk) per operation. */
export class IdMap<V> {
  private chunks: Chunk<V>[] = [];
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** The chunk that holds `id`, or would: the last one starting at or before it. */
  private chunkFor(id: StreamID): number {
    const cs = this.chunks;
    let lo = 0;
    let hi = cs.length - 1;
    let ans = 0;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const first = cs[mid]?.ids[0];
      if (first !== undefined && cmpId(first, id) <= 0) {
        ans = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return ans;
  }

  private static lowerBound(ids: readonly StreamID[], id: StreamID): number {
    let lo = 0;
    let hi = ids.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const x = ids[mid];
      if (x !== undefined && cmpId(x, id) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  get(id: StreamID): V | undefined {
    const c = this.chunks[this.chunkFor(id)];
    if (c === undefined) return undefined;
    const i = IdMap.lowerBound(c.ids, id);
    const x = c.ids[i];
    return x !== undefined && cmpId(x, id) === 0 ? c.vals[i] : undefined;
  }

  /** Inserts or replaces; true when the key was new. */
  set(id: StreamID, v: V): boolean {
    const tail = this.chunks[this.chunks.length - 1];
    const last = tail?.ids[tail.ids.length - 1];
    if (tail === undefined || last === undefined || cmpId(id, last) > 0) {
      // Appending (the usual case: deliveries come in ID order) fills chunks to the brim.
      if (tail !== undefined && tail.ids.length < CHUNK_MAX) {
        tail.ids.push(id);
        tail.vals.push(v);
      } else {
        this.chunks.push({ ids: [id], vals: [v] });
      }
      this.count++;
      return true;
    }
    const ci = this.chunkFor(id);
    const c = this.chunks[ci];
    assert(c !== undefined, "idmap chunk");
    const i = IdMap.lowerBound(c.ids, id);
    const x = c.ids[i];
    if (x !== undefined && cmpId(x, id) === 0) {
      c.vals[i] = v;
      return false;
    }
    c.ids.splice(i, 0, id);
    c.vals.splice(i, 0, v);
    this.count++;
    if (c.ids.length > CHUNK_MAX) {
      const half = c.ids.length >>> 1;
      this.chunks.splice(ci + 1, 0, { ids: c.ids.splice(half), vals: c.vals.splice(half) });
    }
    return true;
  }

  delete(id: StreamID): V | undefined {
    const ci = this.chunkFor(id);
    const c = this.chunks[ci];
    if (c === undefined) return undefined;
    const i = IdMap.lowerBound(c.ids, id);
    const x = c.ids[i];
    if (x === undefined || cmpId(x, id) !== 0) return undefined;
    const v = c.vals[i];
    c.ids.splice(i, 1);
    c.vals.splice(i, 1);
    this.count--;
    if (c.ids.length === 0) this.chunks.splice(ci, 1);
    return v;
  }

  /** The first entry with id >= from (> from when exclusive). */
  next(from: StreamID, exclusive: boolean): [StreamID, V] | undefined {
    let ci = this.chunkFor(from);
    let c = this.chunks[ci];
    if (c === undefined) return undefined;
    let i = IdMap.lowerBound(c.ids, from);
    const x = c.ids[i];
    if (exclusive && x !== undefined && cmpId(x, from) === 0) i++;
    while (i >= c.ids.length) {
      c = this.chunks[++ci];
      if (c === undefined) return undefined;
      i = 0;
    }
    const id = c.ids[i];
    const v = c.vals[i];
    return id === undefined || v === undefined ? undefined : [id, v];
  }

  first(): StreamID | undefined {
    return this.chunks[0]?.ids[0];
  }

  last(): StreamID | undefined {
    const c = this.chunks[this.chunks.length - 1];
    return c?.ids[c.ids.length - 1];
  }

  forEach(fn: (id: StreamID, v: V) => void): void {
    for (const c of this.chunks) {
      for (let i = 0; i < c.ids.length; i++) {
        const id = c.ids[i];
        const v = c.vals[i];
        if (id !== undefined && v !== undefined) fn(id, v);
      }
    }
  }
}

// ---------------------------------------------------------------------------
// Consumer groups

/** A pending (delivered, not yet acknowledged) entry. */
export class Nack {
  constructor(
    public deliveryTime: number,
    public deliveryCount: U64,
    public consumer: Consumer | null,
  ) {}
}

export class Consumer {
  readonly pel = new IdMap<Nack>();

  constructor(
    readonly name: string,
    /** Last interaction, unix ms (like Redis, local access metadata). */
    public seenTime: number,
  ) {}
}

/** SCG_INVALID_ENTRIES_READ: the group's read counter is unknown. */
export const ENTRIES_READ_INVALID = -1;

export class ConsumerGroup {
  readonly pel = new IdMap<Nack>();
  readonly consumers = new Map<string, Consumer>();

  constructor(
    readonly name: string,
    public lastId: StreamID,
    public entriesRead: Int64,
  ) {}

  createConsumer(name: string, nowMs: number): Consumer | null {
    if (this.consumers.has(name)) return null;
    const c = new Consumer(name, nowMs);
    this.consumers.set(name, c);
    return c;
  }

  /** Removes a consumer and its pending entries from the group PEL too. */
  deleteConsumer(c: Consumer): void {
    c.pel.forEach((id) => this.pel.delete(id));
    this.consumers.delete(c.name);
  }

  /** Consumers in name (byte) order, as Redis's rax yields them. */
  consumerList(): Consumer[] {
    return [...this.consumers.values()].sort((a, b) => byBytes(a.name, b.name));
  }

  /** Removes a pending entry from the group and from its owner. */
  dropNack(id: StreamID): Nack | undefined {
    const nack = this.pel.delete(id);
    if (nack !== undefined) nack.consumer?.pel.delete(id);
    return nack;
  }
}

function byBytes(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// ---------------------------------------------------------------------------
// The stream

export type AppendError = "not-greater" | "seq-exhausted" | "too-large";

export class StreamObject {
  readonly kind = "stream" as const;
  readonly nodes: StreamNode[] = [];
  private len = 0;
  lastId: StreamID = MIN_ID;
  /** The first live entry's ID as Redis records it (0-0 when empty). */
  firstId: StreamID = MIN_ID;
  maxDeletedId: StreamID = MIN_ID;
  entriesAdded: U64 = 0;
  /** Created on first use, as in Redis. */
  groups: Map<string, ConsumerGroup> | null = null;

  get length(): number {
    return this.len;
  }

  /** For loaders that rebuild a stream node by node. */
  setLength(n: number): void {
    this.len = n;
  }

  /**
   * The ID XADD would use (Redis's streamAppendItem ID logic): `*` takes
   * nowMs or continues the last ID; `<ms>-*` continues the sequence.
   */
  nextId(nowMs: number, given: StreamID | null, seqGiven: boolean): StreamID | AppendError {
    const last = this.lastId;
    let id: StreamID | null;
    if (given === null) {
      id = nowMs > last.ms ? { ms: nowMs, seq: 0 } : incrId(last);
    } else if (seqGiven) {
      id = given;
    } else if (last.ms === given.ms) {
      if (last.seq === U64_MAX) return "seq-exhausted";
      id = { ms: last.ms, seq: incrU64(last.seq) };
    } else {
      id = given;
    }
    if (id === null || cmpId(id, last) <= 0) return "not-greater";
    return id;
  }

  /** Appends an entry with an ID already checked by nextId. */
  append(id: StreamID, fields: readonly string[], values: readonly string[], limits: NodeLimits): void {
    const last = this.nodes[this.nodes.length - 1];
    let node = last;
    if (node !== undefined && this.nodeIsFull(node, fields, values, limits)) node = undefined;
    if (node === undefined) {
      // A stream that filled a node will likely fill the next: room for as many
      // entries from the start, instead of growing 8 -> 32 -> 128 on the way.
      node = new StreamNode(id, fields, last?.size);
      this.nodes.push(node);
    }
    node.add(id, fields, values, false);
    this.len++;
    this.entriesAdded = incrU64(this.entriesAdded);
    this.lastId = id;
    if (this.len === 1) this.firstId = id;
  }

  private nodeIsFull(node: StreamNode, fields: readonly string[], values: readonly string[], limits: NodeLimits): boolean {
    let maxBytes = limits.maxBytes;
    if (maxBytes === 0 || maxBytes > LISTPACK_SIZE_MAX) maxBytes = LISTPACK_SIZE_MAX;
    if (node.bytes + totalLength(fields, values) >= maxBytes) return true;
    return limits.maxEntries > 0 && node.live + node.deleted >= limits.maxEntries;
  }

  /** The node holding `id` or where it would be: the last one starting at or before it (0 if none). */
  private nodeFor(id: StreamID): number {
    const ns = this.nodes;
    let lo = 0;
    let hi = ns.length - 1;
    let ans = 0;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const n = ns[mid];
      if (n !== undefined && cmpId(n.firstId, id) <= 0) {
        ans = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return ans;
  }

  /**
   * Visits live entries with start <= id <= end, ascending (or descending when
   * rev) until visit returns false. visit must not change the stream.
   */
  scan(start: StreamID, end: StreamID, rev: boolean, visit: (e: StreamEntry) => boolean): void {
    if (this.nodes.length === 0 || cmpId(start, end) > 0) return;
    if (rev) this.scanBack(start, end, visit);
    else this.scanForward(start, end, visit);
  }

  private scanForward(start: StreamID, end: StreamID, visit: (e: StreamEntry) => boolean): void {
    let ni = this.nodeFor(start);
    let node = this.nodes[ni];
    let ei = node === undefined ? 0 : node.lowerBound(start);
    for (; node !== undefined; node = this.nodes[++ni], ei = 0) {
      const n = node.size;
      for (; ei < n; ei++) {
        if (node.cmpAt(ei, end) > 0) return;
        if (!node.isDeleted(ei) && !visit(node.entryAt(ei))) return;
      }
    }
  }

  private scanBack(start: StreamID, end: StreamID, visit: (e: StreamEntry) => boolean): void {
    let ni = this.nodeFor(end);
    let node = this.nodes[ni];
    if (node === undefined) return;
    let ei = node.lowerBound(end);
    if (ei >= node.size || node.cmpAt(ei, end) > 0) ei--;
    while (node !== undefined) {
      for (; ei >= 0; ei--) {
        if (node.cmpAt(ei, start) < 0) return;
        if (!node.isDeleted(ei) && !visit(node.entryAt(ei))) return;
      }
      node = this.nodes[--ni];
      ei = node === undefined ? -1 : node.size - 1;
    }
  }

  /** The live entry with this ID. */
  entry(id: StreamID): StreamEntry | undefined {
    const node = this.nodes[this.nodeFor(id)];
    if (node === undefined) return undefined;
    const i = node.lowerBound(id);
    return i < node.size && !node.isDeleted(i) && node.cmpAt(i, id) === 0 ? node.entryAt(i) : undefined;
  }

  /** Marks the live entry `id` deleted (dropping its node when it was the node's last live one). */
  deleteId(id: StreamID): boolean {
    const ni = this.nodeFor(id);
    const node = this.nodes[ni];
    if (node === undefined) return false;
    const i = node.lowerBound(id);
    if (i >= node.size || node.isDeleted(i) || node.cmpAt(i, id) !== 0) return false;
    node.markDeleted(i);
    if (node.live === 1) {
      this.nodes.splice(ni, 1);
    } else {
      node.live--;
      node.deleted++;
    }
    this.len--;
    return true;
  }

  /** The last live ID (streamLastValidID), 0-0 when empty. */
  lastValidId(): StreamID {
    let found: StreamID = MIN_ID;
    this.scan(MIN_ID, MAX_ID, true, (e) => {
      found = e.id;
      return false;
    });
    return found;
  }

  /** streamGetEdgeID: the first (or last) entry, tombstones included unless skipped. */
  edgeId(first: boolean, skipTombstones: boolean): StreamID {
    if (skipTombstones) {
      let found: StreamID | null = null;
      this.scan(MIN_ID, MAX_ID, !first, (e) => {
        found = e.id;
        return false;
      });
      return found ?? (first ? MAX_ID : MIN_ID);
    }
    const node = first ? this.nodes[0] : this.nodes[this.nodes.length - 1];
    if (node === undefined) return first ? MAX_ID : MIN_ID;
    return first ? node.firstId : node.lastId;
  }

  /**
   * Redis's streamTrim: drops whole nodes from the head while the strategy
   * allows, then (unless approx) marks single entries of the next node deleted.
   * Returns how many entries went.
   */
  trim(spec: TrimSpec): number {
    let deleted = 0;
    let dropNodes = 0;
    for (const node of this.nodes) {
      if (spec.strategy === "maxlen" && this.len <= spec.maxlen) break;
      const entries = node.live;
      if (spec.limit > 0 && deleted + entries > spec.limit) break;
      const whole = spec.strategy === "maxlen" ? this.len - entries >= spec.maxlen : cmpId(node.lastId, spec.minid) < 0;
      if (whole) {
        dropNodes++;
        this.len -= entries;
        deleted += entries;
        continue;
      }
      if (!spec.approx) deleted += this.trimInside(node, spec);
      break;
    }
    if (dropNodes > 0) this.nodes.splice(0, dropNodes);
    if (this.len === 0) this.firstId = MIN_ID;
    else if (deleted > 0) this.firstId = this.edgeId(true, true);
    return deleted;
  }

  private trimInside(node: StreamNode, spec: TrimSpec): number {
    let n = 0;
    for (let i = 0; i < node.size; i++) {
      const stop = spec.strategy === "maxlen" ? this.len <= spec.maxlen : node.cmpAt(i, spec.minid) >= 0;
      if (stop) break;
      if (node.isDeleted(i)) continue;
      node.markDeleted(i);
      node.live--;
      node.deleted++;
      this.len--;
      n++;
    }
    return n;
  }

  /** streamRangeHasTombstones: could [start, end] hold a deleted entry? */
  rangeHasTombstones(start: StreamID | null, end: StreamID | null): boolean {
    if (this.len === 0 || isZeroId(this.maxDeletedId)) return false;
    if (cmpId(this.firstId, this.maxDeletedId) > 0) return false;
    const s = start ?? MIN_ID;
    const e = end ?? MAX_ID;
    return cmpId(s, this.maxDeletedId) <= 0 && cmpId(this.maxDeletedId, e) <= 0;
  }

  /**
   * streamEstimateDistanceFromFirstEverEntry: the logical read counter of `id`
   * when it can be known, else ENTRIES_READ_INVALID.
   */
  estimateDistance(id: StreamID): Int64 {
    if (this.entriesAdded === 0) return 0;
    if (this.len === 0 && cmpId(id, this.lastId) < 1) return this.entriesAdded;
    const cmpLast = cmpId(id, this.lastId);
    if (cmpLast === 0) return this.entriesAdded;
    if (cmpLast > 0) return ENTRIES_READ_INVALID;
    const cmpFirst = cmpId(id, this.firstId);
    if (isZeroId(this.maxDeletedId) || cmpId(this.maxDeletedId, this.firstId) < 0) {
      if (cmpFirst < 0) return subInt(this.entriesAdded, this.len);
      if (cmpFirst === 0) return incrInt(subInt(this.entriesAdded, this.len));
    }
    return ENTRIES_READ_INVALID;
  }

  /** streamReplyWithCGLag: entries not yet delivered to the group, or null when unknown. */
  lag(g: ConsumerGroup): Int64 | null {
    if (this.entriesAdded === 0) return 0;
    if (g.entriesRead !== ENTRIES_READ_INVALID && !this.rangeHasTombstones(g.lastId, null)) {
      return canonInt(BigInt.asIntN(64, BigInt(this.entriesAdded) - BigInt(g.entriesRead)));
    }
    const read = this.estimateDistance(g.lastId);
    if (read === ENTRIES_READ_INVALID) return null;
    return canonInt(BigInt.asIntN(64, BigInt(this.entriesAdded) - BigInt(read)));
  }

  /**
   * What delivering `id` to a group does to its read counter
   * (streamReplyWithRange): counted on when valid and nothing deleted lies
   * ahead, else estimated afresh.
   */
  advanceGroup(g: ConsumerGroup, id: StreamID): void {
    if (g.entriesRead !== ENTRIES_READ_INVALID && !this.rangeHasTombstones(id, null)) {
      g.entriesRead = incrInt(g.entriesRead);
    } else if (this.entriesAdded !== 0) {
      g.entriesRead = this.estimateDistance(id);
    }
    g.lastId = id;
  }

  group(name: string): ConsumerGroup | undefined {
    return this.groups?.get(name);
  }

  createGroup(name: string, lastId: StreamID, entriesRead: Int64): ConsumerGroup | null {
    this.groups ??= new Map();
    if (this.groups.has(name)) return null;
    const g = new ConsumerGroup(name, lastId, entriesRead);
    this.groups.set(name, g);
    return g;
  }

  /** Groups in name (byte) order. */
  groupList(): ConsumerGroup[] {
    return this.groups === null ? [] : [...this.groups.values()].sort((a, b) => byBytes(a.name, b.name));
  }

  /** rax->numnodes of the node index (XINFO's radix-tree-nodes). */
  radixTreeNodes(): number {
    const keys = this.nodes.map((n) => {
      const b = Buffer.alloc(16);
      idToBytes(n.master, b, 0);
      return b;
    });
    return keys.length === 0 ? 1 : raxNodes(keys, 0, keys.length, 0);
  }

  clone(): StreamObject {
    const s = new StreamObject();
    for (const n of this.nodes) s.nodes.push(n.clone());
    s.len = this.len;
    s.lastId = this.lastId;
    s.firstId = this.firstId;
    s.maxDeletedId = this.maxDeletedId;
    s.entriesAdded = this.entriesAdded;
    for (const g of this.groupList()) s.adoptGroupCopy(g);
    return s;
  }

  private adoptGroupCopy(g: ConsumerGroup): void {
    const copy = this.createGroup(g.name, g.lastId, g.entriesRead);
    assert(copy !== null, "duplicate group in clone");
    g.pel.forEach((id, nack) => copy.pel.set(id, new Nack(nack.deliveryTime, nack.deliveryCount, null)));
    for (const c of g.consumerList()) {
      const cc = copy.createConsumer(c.name, c.seenTime);
      assert(cc !== null, "duplicate consumer in clone");
      c.pel.forEach((id) => {
        const nack = copy.pel.get(id);
        assert(nack !== undefined, "consumer PEL entry missing from group PEL");
        nack.consumer = cc;
        cc.pel.set(id, nack);
      });
    }
  }
}

function totalLength(fields: readonly string[], values: readonly string[]): number {
  let n = 0;
  for (const f of fields) n += f.length;
  for (const v of values) n += v.length;
  return n;
}

/**
 * Nodes of a rax holding sorted equal-length keys[lo, hi) below a node
 * reached after `depth` bytes: a run shared by all keys is one compressed
 * node, a fork is one node with a child per distinct byte, a key's end is a
 * leaf node.
 */
function raxNodes(keys: readonly Buffer[], lo: number, hi: number, depth: number): number {
  const first = keys[lo];
  const last = keys[hi - 1];
  assert(first !== undefined && last !== undefined, "rax keys");
  if (depth >= first.length) return 1;
  let p = 0;
  while (depth + p < first.length && first[depth + p] === last[depth + p]) p++;
  if (p > 0) return 1 + raxNodes(keys, lo, hi, depth + p);
  let n = 1;
  let i = lo;
  while (i < hi) {
    const b = keys[i]?.[depth];
    let j = i + 1;
    while (j < hi && keys[j]?.[depth] === b) j++;
    n += raxNodes(keys, i, j, depth + 1);
    i = j;
  }
  return n;
}
