// The durable Raft log of one log node: a directory of append-only segment
// files of checksummed frames, each frame one persisted Ready (hard state,
// entries, a snapshot from the leader) or a snapshot marker written when the
// application compacts.
//
//   segment file: [8-byte magic "MNWAL\0\0\x01"] frame*
//   frame:        [u32 LE payload length][u32 LE crc32c(length bytes ++ payload)][payload]
//   payload:      [u8 record tag] record (log/raft/codec encoding)
//
// Group commit: persist() applies a Ready to the in-memory view and queues its
// frame; sync() writes every queued frame with one writeSync per segment and
// makes it durable with one fdatasync. Only after sync() may the caller send
// the Ready's messages (the Ready contract, log/raft/rawnode.ts).
//
// Crash rules. A segment is fdatasync'ed before the next one is created, and a
// new segment (its header fdatasync'ed) is made visible with a directory fsync,
// so only the newest segment can hold unsynced bytes. Recovery verifies every
// frame; a bad frame in the newest segment is a torn write and everything from
// it on is cut off; a bad frame in any older segment is corruption of synced
// data and open() refuses to go on rather than silently losing it.
//
// Compaction writes (and syncs) a marker frame holding the snapshot and the
// hard state, then deletes whole older segments whose every index is covered
// by the snapshot. Recovery starts from the newest marker, so any prefix of
// segments may be gone.
import * as fs from "node:fs";
import * as path from "node:path";
import { assert } from "../raft/assert";
import { decodeWith, Writer, type Reader } from "../raft/codec";
import type { Ready } from "../raft/rawnode";
import { MemoryStorage, type Storage } from "../raft/storage";
import { EMPTY_HARD_STATE, EMPTY_SNAPSHOT, type Entry, type HardState, type Snapshot } from "../raft/types";

// ---------------------------------------------------------------- crc32c

const CRC_TABLE = (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[n] = c;
  }
  return t;
})();

/** Continues a CRC-32C (Castagnoli); start with crc = 0. */
export function crc32c(buf: Uint8Array, crc = 0, start = 0, end = buf.length): number {
  let c = ~crc;
  for (let i = start; i < end; i++) c = (CRC_TABLE[(c ^ (buf[i] as number)) & 0xff] as number) ^ (c >>> 8);
  return ~c >>> 0;
}

// ---------------------------------------------------------------- frames and records

const MAGIC = Buffer.from([0x4d, 0x4e, 0x57, 0x41, 0x4c, 0x00, 0x00, 0x01]); // "MNWAL" v1
export const SEGMENT_HEADER_BYTES = MAGIC.length;
export const FRAME_HEADER_BYTES = 8;

const TAG_READY = 1;
const TAG_MARKER = 2;

export type WalRecord =
  | { readonly kind: "ready"; readonly hardState: HardState | null; readonly snapshot: Snapshot | null; readonly entries: readonly Entry[] }
  | { readonly kind: "marker"; readonly hardState: HardState; readonly snapshot: Snapshot };

function encodeRecord(r: WalRecord): Buffer {
  const w = new Writer(64 + (r.kind === "ready" ? r.entries.reduce((n, e) => n + 21 + e.data.length, 0) : 0) + (r.snapshot?.data.length ?? 0));
  if (r.kind === "ready") {
    w.u8(TAG_READY);
    w.bool(r.hardState !== null);
    if (r.hardState !== null) w.hardState(r.hardState);
    w.bool(r.snapshot !== null);
    if (r.snapshot !== null) w.snapshot(r.snapshot);
    w.entries(r.entries);
  } else {
    w.u8(TAG_MARKER);
    w.hardState(r.hardState);
    w.snapshot(r.snapshot);
  }
  return w.finish();
}

function readRecord(rd: Reader): WalRecord {
  const tag = rd.u8();
  if (tag === TAG_READY) {
    const hardState = rd.bool() ? rd.hardState() : null;
    const snapshot = rd.bool() ? rd.snapshot() : null;
    return { kind: "ready", hardState, snapshot, entries: rd.entries() };
  }
  if (tag === TAG_MARKER) return { kind: "marker", hardState: rd.hardState(), snapshot: rd.snapshot() };
  throw new RangeError(`unknown WAL record tag ${tag}`);
}

function encodeFrame(payload: Buffer): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  out.writeUInt32LE(payload.length, 0);
  payload.copy(out, FRAME_HEADER_BYTES);
  out.writeUInt32LE(crc32c(payload, crc32c(out, 0, 0, 4)), 4);
  return out;
}

/** Highest Raft index a record mentions: a segment whose records all sit at or below the snapshot can go. */
function recordMaxIndex(r: WalRecord): number {
  let m = r.snapshot?.index ?? 0;
  if (r.kind === "ready") {
    const last = r.entries[r.entries.length - 1];
    if (last !== undefined) m = Math.max(m, last.index);
  }
  return m;
}

// ---------------------------------------------------------------- the WAL

export interface WalOptions {
  /** Rotate to a new segment once the current one would grow past this. */
  readonly segmentBytes?: number;
  /** Hard ceiling on one frame's payload (a Ready must fit). */
  readonly maxFrameBytes?: number;
  /** Refuse to write once this many segments exist (compaction is not keeping up). */
  readonly maxSegments?: number;
  /** Queued (unwritten) bytes beyond which persist() writes them out without syncing. */
  readonly maxPendingBytes?: number;
}

export const DEFAULT_WAL_OPTIONS: Required<WalOptions> = {
  segmentBytes: 64 * 1024 * 1024,
  maxFrameBytes: 32 * 1024 * 1024,
  maxSegments: 1024,
  maxPendingBytes: 4 * 1024 * 1024,
};

export class WalCorruptionError extends Error {
  override name = "WalCorruptionError";
}

interface Segment {
  readonly seq: number;
  readonly file: string;
  /** Bytes written to the file. */
  size: number;
  /** Bytes known to be on stable storage. */
  durable: number;
  /** Highest Raft index any record in it mentions. */
  maxIndex: number;
}

/** What open() found, for logs and tests. */
export interface RecoveryInfo {
  readonly segments: number;
  readonly frames: number;
  /** Bytes cut off the newest segment as a torn write (0 when it ended cleanly). */
  readonly truncatedBytes: number;
  readonly truncatedReason: string | null;
}

function segmentName(seq: number): string {
  return `${String(seq).padStart(16, "0")}.wal`;
}

const SEGMENT_RE = /^(\d{16})\.wal$/;

function fsyncDir(dir: string): void {
  const fd = fs.openSync(dir, "r");
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

export class Wal {
  readonly dir: string;
  readonly options: Required<WalOptions>;
  readonly recovery: RecoveryInfo;
  private readonly mem: MemoryStorage;
  private readonly segments: Segment[];
  private fd: number;
  private pending: { readonly frame: Buffer; readonly maxIndex: number }[] = [];
  private pendingBytes = 0;
  private closed = false;

  private constructor(dir: string, options: Required<WalOptions>, mem: MemoryStorage, segments: Segment[], fd: number, recovery: RecoveryInfo) {
    this.dir = dir;
    this.options = options;
    this.mem = mem;
    this.segments = segments;
    this.fd = fd;
    this.recovery = recovery;
  }

  /** Opens (creating if needed) the WAL in `dir`, recovering everything durable. */
  static open(dir: string, opts: WalOptions = {}): Wal {
    const options = { ...DEFAULT_WAL_OPTIONS, ...opts };
    assert(options.segmentBytes > SEGMENT_HEADER_BYTES && options.maxFrameBytes > 0 && options.maxSegments >= 2, "bad WAL options");
    fs.mkdirSync(dir, { recursive: true });
    const seqs = fs
      .readdirSync(dir)
      .map((n) => SEGMENT_RE.exec(n))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b);

    const segments: Segment[] = [];
    const records: WalRecord[] = [];
    let truncatedBytes = 0;
    let truncatedReason: string | null = null;
    for (let i = 0; i < seqs.length; i++) {
      const seq = seqs[i] as number;
      const file = path.join(dir, segmentName(seq));
      const isLast = i === seqs.length - 1;
      const buf = fs.readFileSync(file);
      const seg: Segment = { seq, file, size: 0, durable: 0, maxIndex: 0 };
      const bad = (pos: number, why: string): void => {
        if (!isLast) throw new WalCorruptionError(`${file}: ${why} at byte ${pos} of a segment that was synced`);
        truncatedBytes = buf.length - pos;
        truncatedReason = why;
        seg.size = pos;
      };
      if (buf.length < SEGMENT_HEADER_BYTES || !buf.subarray(0, SEGMENT_HEADER_BYTES).equals(MAGIC)) {
        // Only the newest segment can be half-created; an unknown header elsewhere is corruption.
        bad(0, "bad segment header");
        if (!isLast) continue;
        fs.unlinkSync(file);
        fsyncDir(dir);
        break;
      }
      let pos = SEGMENT_HEADER_BYTES;
      seg.size = buf.length;
      while (pos < buf.length) {
        if (buf.length - pos < FRAME_HEADER_BYTES) {
          bad(pos, "torn frame header");
          break;
        }
        const len = buf.readUInt32LE(pos);
        if (len === 0 || len > options.maxFrameBytes || len > buf.length - pos - FRAME_HEADER_BYTES) {
          bad(pos, `bad frame length ${len}`);
          break;
        }
        const want = buf.readUInt32LE(pos + 4);
        const got = crc32c(buf, crc32c(buf, 0, pos, pos + 4), pos + FRAME_HEADER_BYTES, pos + FRAME_HEADER_BYTES + len);
        if (want !== got) {
          bad(pos, "frame checksum mismatch");
          break;
        }
        const d = decodeWith(buf.subarray(pos + FRAME_HEADER_BYTES, pos + FRAME_HEADER_BYTES + len), readRecord);
        // A frame whose checksum passed but does not parse was written by a bug, not torn by a crash.
        if (!d.ok) throw new WalCorruptionError(`${file}: frame at byte ${pos} passed its checksum but does not parse: ${d.error}`);
        records.push(d.value);
        seg.maxIndex = Math.max(seg.maxIndex, recordMaxIndex(d.value));
        pos += FRAME_HEADER_BYTES + len;
      }
      if (seg.size < buf.length) {
        fs.truncateSync(file, seg.size);
        const fd = fs.openSync(file, "r+");
        try {
          fs.fdatasyncSync(fd);
        } finally {
          fs.closeSync(fd);
        }
      }
      seg.durable = seg.size;
      segments.push(seg);
    }

    const mem = rebuild(records);
    let fd: number;
    if (segments.length === 0) {
      const seg = createSegment(dir, (seqs[seqs.length - 1] ?? 0) + 1);
      segments.push(seg);
      fd = fs.openSync(seg.file, "a");
    } else {
      fd = fs.openSync((segments[segments.length - 1] as Segment).file, "a");
    }
    return new Wal(dir, options, mem, segments, fd, { segments: segments.length, frames: records.length, truncatedBytes, truncatedReason });
  }

  /** The recovered and maintained log, for the Raft core. Read-only: change it through this WAL. */
  get storage(): Storage {
    return this.mem;
  }

  /**
   * Applies a Ready's hard state, snapshot and entries to the in-memory view and
   * queues its frame. Not durable until sync(); the caller must not send the
   * Ready's messages before then.
   */
  persist(rd: Pick<Ready, "hardState" | "entries" | "snapshot">): void {
    this.checkOpen();
    if (rd.hardState === null && rd.snapshot === null && rd.entries.length === 0) return;
    const rec: WalRecord = { kind: "ready", hardState: rd.hardState, snapshot: rd.snapshot, entries: rd.entries };
    const payload = encodeRecord(rec);
    if (payload.length > this.options.maxFrameBytes) {
      throw new RangeError(`a Ready of ${payload.length} bytes exceeds the WAL frame maximum of ${this.options.maxFrameBytes}`);
    }
    if (rd.snapshot !== null) this.mem.applySnapshot(rd.snapshot);
    this.mem.append(rd.entries);
    if (rd.hardState !== null) this.mem.setHardState(rd.hardState);
    this.enqueue(payload, recordMaxIndex(rec));
  }

  /** Writes everything queued (one writeSync per segment) and fdatasyncs it: one fsync for any number of persist() calls. */
  sync(): void {
    this.checkOpen();
    this.flush();
    const seg = this.current();
    if (seg.durable < seg.size) {
      fs.fdatasyncSync(this.fd);
      seg.durable = seg.size;
    }
  }

  /** Writes everything queued to the OS without syncing it. */
  flush(): void {
    this.checkOpen();
    if (this.pending.length === 0) return;
    let chunk: Buffer[] = [];
    let chunkBytes = 0;
    let chunkMax = 0;
    for (const { frame, maxIndex } of this.pending) {
      const seg = this.current();
      const fill = seg.size + chunkBytes;
      if (fill > SEGMENT_HEADER_BYTES && fill + frame.length > this.options.segmentBytes) {
        this.writeOut(chunk, chunkBytes, chunkMax);
        chunk = [];
        chunkBytes = 0;
        chunkMax = 0;
        this.rotate();
      }
      chunk.push(frame);
      chunkBytes += frame.length;
      chunkMax = Math.max(chunkMax, maxIndex);
    }
    this.writeOut(chunk, chunkBytes, chunkMax);
    this.pending = [];
    this.pendingBytes = 0;
  }

  /**
   * After the application has taken a snapshot at `index` (already applied):
   * records it durably (marker frame + sync), compacts the in-memory log to it,
   * and deletes whole older segments it covers.
   */
  compact(index: number, data: Uint8Array): void {
    this.checkOpen();
    const snap = this.mem.snapshot();
    if (index > snap.index) this.mem.createSnapshot(index, data);
    const now = this.mem.snapshot();
    const rec: WalRecord = { kind: "marker", hardState: this.mem.hardState(), snapshot: now };
    const payload = encodeRecord(rec);
    if (payload.length > this.options.maxFrameBytes) throw new RangeError(`a snapshot of ${payload.length} bytes exceeds the WAL frame maximum`);
    this.enqueue(payload, recordMaxIndex(rec));
    this.sync();
    this.mem.compact(now.index);
    // Never the current segment: it holds the marker just written.
    let dropped = 0;
    while (this.segments.length > 1 && (this.segments[0] as Segment).maxIndex <= now.index) {
      fs.unlinkSync((this.segments.shift() as Segment).file);
      dropped++;
    }
    if (dropped > 0) fsyncDir(this.dir);
  }

  /** Segment files and how many of their bytes are written and durable (for tests and status). */
  segmentInfo(): { file: string; size: number; durable: number; maxIndex: number }[] {
    return this.segments.map((s) => ({ file: s.file, size: s.size, durable: s.durable, maxIndex: s.maxIndex }));
  }

  /** Syncs and closes. */
  close(): void {
    if (this.closed) return;
    this.sync();
    fs.closeSync(this.fd);
    this.closed = true;
  }

  /** Closes without writing or syncing anything queued: what a crash leaves (for tests). */
  closeAbruptly(): void {
    if (this.closed) return;
    fs.closeSync(this.fd);
    this.closed = true;
  }

  private enqueue(payload: Buffer, maxIndex: number): void {
    const frame = encodeFrame(payload);
    this.pending.push({ frame, maxIndex });
    this.pendingBytes += frame.length;
    if (this.pendingBytes >= this.options.maxPendingBytes) this.flush();
  }

  private writeOut(chunk: Buffer[], bytes: number, maxIndex: number): void {
    if (bytes === 0) return;
    const buf = chunk.length === 1 ? (chunk[0] as Buffer) : Buffer.concat(chunk, bytes);
    let off = 0;
    while (off < buf.length) off += fs.writeSync(this.fd, buf, off, buf.length - off);
    const seg = this.current();
    seg.size += bytes;
    seg.maxIndex = Math.max(seg.maxIndex, maxIndex);
  }

  private rotate(): void {
    if (this.segments.length >= this.options.maxSegments) {
      throw new RangeError(`WAL has ${this.segments.length} segments, the maximum: compaction is not keeping up`);
    }
    const old = this.current();
    if (old.durable < old.size) {
      fs.fdatasyncSync(this.fd);
      old.durable = old.size;
    }
    fs.closeSync(this.fd);
    const seg = createSegment(this.dir, old.seq + 1);
    this.segments.push(seg);
    this.fd = fs.openSync(seg.file, "a");
  }

  private current(): Segment {
    return this.segments[this.segments.length - 1] as Segment;
  }

  private checkOpen(): void {
    assert(!this.closed, "WAL is closed");
  }
}

/** A new segment: header written and fdatasync'ed, then made visible by a directory fsync. */
function createSegment(dir: string, seq: number): Segment {
  const file = path.join(dir, segmentName(seq));
  const fd = fs.openSync(file, "wx");
  try {
    fs.writeSync(fd, MAGIC);
    fs.fdatasyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fsyncDir(dir);
  return { seq, file, size: SEGMENT_HEADER_BYTES, durable: SEGMENT_HEADER_BYTES, maxIndex: 0 };
}

/**
 * Replays records into a MemoryStorage, starting from the newest marker's
 * snapshot: segments before it may be gone, and everything at or below its
 * index is covered by it.
 */
function rebuild(records: readonly WalRecord[]): MemoryStorage {
  let snap: Snapshot = EMPTY_SNAPSHOT;
  for (const r of records) if (r.kind === "marker" && r.snapshot.index >= snap.index) snap = r.snapshot;
  let hs: HardState = EMPTY_HARD_STATE;
  let ents: Entry[] = [];
  const lastIndex = (): number => snap.index + ents.length;
  for (const r of records) {
    if (r.hardState !== null) hs = r.hardState;
    if (r.kind === "marker") continue;
    if (r.snapshot !== null) {
      // A snapshot from the leader replaced the whole log; a newer one replaces our base.
      if (r.snapshot.index >= snap.index) snap = r.snapshot;
      ents = [];
    }
    const first = r.entries[0];
    if (first === undefined) continue;
    // The Ready replaced everything from first.index on, even where the snapshot now covers its entries.
    if (first.index > lastIndex() + 1) throw new WalCorruptionError(`WAL entries resume at ${first.index} after ${lastIndex()}: a gap`);
    ents.length = Math.max(0, first.index - snap.index - 1);
    for (const e of r.entries) if (e.index > snap.index) ents.push(e);
  }
  const mem = new MemoryStorage();
  if (snap !== EMPTY_SNAPSHOT) mem.applySnapshot(snap);
  mem.append(ents);
  mem.setHardState(hs);
  return mem;
}
