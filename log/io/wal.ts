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
//
// Preallocation (as etcd does): the next segment is created in the
// background, full size and zero-filled, under a temporary name, and renamed
// into place at rotation. Frames are then written over zeros the file already
// holds, so an fdatasync flushes data only, with no metadata (file size) to
// commit to the file system's journal: under several syncing processes this
// makes a sync 2-3x faster. A segment is cut to its written size before the
// next one is made visible, so only the newest segment ends in zeros, which
// recovery treats as free space (not as a torn write) and keeps writing into.
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { assert } from "../raft/assert";
import { decodeWith, Writer, type Reader } from "../raft/codec";
import type { Ready } from "../raft/rawnode";
import { MemoryStorage, type Storage } from "../raft/storage";
import { EMPTY_HARD_STATE, EMPTY_SNAPSHOT, type Entry, type HardState, type Snapshot } from "../raft/types";

// ---------------------------------------------------------------- crc32c

// Slicing-by-8: eight 256-entry tables, so the loop consumes 8 bytes per step
// (several times faster than a byte at a time; the WAL checksums every byte it
// writes and reads).
const CRC_TABLES = (() => {
  const t = new Int32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    let c = t[n] as number;
    for (let k = 1; k < 8; k++) {
      c = (t[c & 0xff] as number) ^ (c >>> 8);
      t[k * 256 + n] = c;
    }
  }
  return t;
})();

/** Continues a CRC-32C (Castagnoli); start with crc = 0. */
export function crc32c(buf: Uint8Array, crc = 0, start = 0, end = buf.length): number {
  const t = CRC_TABLES;
  let c = ~crc;
  let i = start;
  for (; i + 8 <= end; i += 8) {
    const lo = c ^ ((buf[i] as number) | ((buf[i + 1] as number) << 8) | ((buf[i + 2] as number) << 16) | ((buf[i + 3] as number) << 24));
    const hi = (buf[i + 4] as number) | ((buf[i + 5] as number) << 8) | ((buf[i + 6] as number) << 16) | ((buf[i + 7] as number) << 24);
    c =
      (t[7 * 256 + (lo & 0xff)] as number) ^
      (t[6 * 256 + ((lo >>> 8) & 0xff)] as number) ^
      (t[5 * 256 + ((lo >>> 16) & 0xff)] as number) ^
      (t[4 * 256 + (lo >>> 24)] as number) ^
      (t[3 * 256 + (hi & 0xff)] as number) ^
      (t[2 * 256 + ((hi >>> 8) & 0xff)] as number) ^
      (t[256 + ((hi >>> 16) & 0xff)] as number) ^
      (t[hi >>> 24] as number);
  }
  for (; i < end; i++) c = (t[(c ^ (buf[i] as number)) & 0xff] as number) ^ (c >>> 8);
  return ~c >>> 0;
}

// ---------------------------------------------------------------- frames and records

const MAGIC = Buffer.from([0x4d, 0x4e, 0x57, 0x41, 0x4c, 0x00, 0x00, 0x01]); // "MNWAL" v1
export const SEGMENT_HEADER_BYTES = MAGIC.length;
export const FRAME_HEADER_BYTES = 8;

const TAG_READY = 1;
const TAG_MARKER = 2;
const TAG_SNAPFILE = 3;

export type WalRecord =
  | { readonly kind: "ready"; readonly hardState: HardState | null; readonly snapshot: Snapshot | null; readonly entries: readonly Entry[] }
  | { readonly kind: "marker"; readonly hardState: HardState; readonly snapshot: Snapshot }
  /** A marker whose snapshot lives in its own file, `<index>.snap` (compactAsync). */
  | { readonly kind: "snapfile"; readonly hardState: HardState; readonly index: number; readonly term: number; readonly length: number; readonly crc: number };

function encodeRecord(r: WalRecord): Buffer {
  const snapBytes = r.kind === "snapfile" ? 0 : (r.snapshot?.data.length ?? 0);
  const w = new Writer(64 + (r.kind === "ready" ? r.entries.reduce((n, e) => n + 21 + e.data.length, 0) : 0) + snapBytes);
  if (r.kind === "ready") {
    w.u8(TAG_READY);
    w.bool(r.hardState !== null);
    if (r.hardState !== null) w.hardState(r.hardState);
    w.bool(r.snapshot !== null);
    if (r.snapshot !== null) w.snapshot(r.snapshot);
    w.entries(r.entries);
  } else if (r.kind === "marker") {
    w.u8(TAG_MARKER);
    w.hardState(r.hardState);
    w.snapshot(r.snapshot);
  } else {
    w.u8(TAG_SNAPFILE);
    w.hardState(r.hardState);
    w.uint(r.index);
    w.uint(r.term);
    w.uint(r.length);
    w.uint(r.crc);
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
  if (tag === TAG_SNAPFILE) return { kind: "snapfile", hardState: rd.hardState(), index: rd.uint(), term: rd.uint(), length: rd.uint(), crc: rd.uint() };
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
  if (r.kind === "snapfile") return r.index;
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
  /** Create the next segment full size and zero-filled in the background (see the header). */
  readonly preallocate?: boolean;
}

export const DEFAULT_WAL_OPTIONS: Required<WalOptions> = {
  segmentBytes: 16 * 1024 * 1024,
  maxFrameBytes: 32 * 1024 * 1024,
  maxSegments: 1024,
  maxPendingBytes: 4 * 1024 * 1024,
  preallocate: true,
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
  /** The file's length: more than `size` when it was preallocated (zeros follow the frames). */
  allocated: number;
}

/** The next segment, being zero-filled in the background. */
interface Spare {
  readonly seq: number;
  readonly tmp: string;
  state: "filling" | "ready" | "failed";
  readonly done: Promise<void>;
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
/** Spares carry a random tag, so a WAL closed while its spare was filling can never remove a later WAL's spare. */
const SPARE_RE = /^\d{16}\.wal\.[0-9a-f]+\.tmp$/;
const ZERO_CHUNK = Buffer.alloc(1024 * 1024);

/** Whether buf[from..] is all zero bytes (preallocated space). */
function allZero(buf: Buffer, from: number): boolean {
  for (let pos = from; pos < buf.length; pos += ZERO_CHUNK.length) {
    const end = Math.min(buf.length, pos + ZERO_CHUNK.length);
    if (buf.compare(ZERO_CHUNK, 0, end - pos, pos, end) !== 0) return false;
  }
  return true;
}

const SNAP_RE = /^(\d{16})\.snap$/;
const SNAP_TMP_RE = /^\d{16}\.snap\.[0-9a-f]+\.tmp$/;

function snapName(index: number): string {
  return `${String(index).padStart(16, "0")}.snap`;
}

/**
 * Markers as rebuild() wants them: the newest snapfile marker (if it is the
 * newest marker) with its file's bytes, checked against its length and CRC;
 * older snapfile markers without data (rebuild only uses the newest marker).
 * Every snapshot file but the one in use is removed (older ones, and one
 * written by a compaction that crashed before its marker).
 */
function resolveSnapFiles(dir: string, records: readonly WalRecord[]): WalRecord[] {
  let newest = 0;
  for (const r of records) if (r.kind !== "ready") newest = Math.max(newest, r.kind === "marker" ? r.snapshot.index : r.index);
  const out = records.map((r): WalRecord => {
    if (r.kind !== "snapfile") return r;
    if (r.index !== newest) return { kind: "marker", hardState: r.hardState, snapshot: { index: r.index, term: r.term, data: new Uint8Array(0) } };
    const file = path.join(dir, snapName(r.index));
    let data: Buffer;
    try {
      data = fs.readFileSync(file);
    } catch (e) {
      throw new WalCorruptionError(`${file}: the snapshot the WAL's newest marker names cannot be read: ${(e as Error).message}`);
    }
    if (data.length !== r.length || crc32c(data) !== r.crc) throw new WalCorruptionError(`${file}: the snapshot does not match its marker's length and checksum`);
    return { kind: "marker", hardState: r.hardState, snapshot: { index: r.index, term: r.term, data } };
  });
  for (const n of fs.readdirSync(dir)) {
    const m = SNAP_RE.exec(n);
    if (SNAP_TMP_RE.test(n) || (m !== null && Number(m[1]) !== newest)) fs.rmSync(path.join(dir, n), { force: true });
  }
  return out;
}

/** Writes `data` to `file` and syncs it, off the event loop. */
async function writeDurably(file: string, data: Uint8Array): Promise<void> {
  const fh = await fs.promises.open(file, "w");
  try {
    for (let pos = 0; pos < data.length; ) pos += (await fh.write(data, pos, data.length - pos, pos)).bytesWritten;
    await fh.datasync();
  } finally {
    await fh.close();
  }
}

async function fsyncDirAsync(dir: string): Promise<void> {
  const fh = await fs.promises.open(dir, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Writes a full-size segment (header, then zeros) to `file` and syncs it, off the event loop. */
async function fillSegment(file: string, bytes: number): Promise<void> {
  const fh = await fs.promises.open(file, "w");
  try {
    await fh.write(MAGIC, 0, MAGIC.length, 0);
    for (let pos = MAGIC.length; pos < bytes; ) {
      const n = Math.min(ZERO_CHUNK.length, bytes - pos);
      await fh.write(ZERO_CHUNK, 0, n, pos);
      pos += n;
    }
    await fh.datasync();
  } finally {
    await fh.close();
  }
}

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
  private spare: Spare | null = null;
  private compacting = false;

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
    const names = fs.readdirSync(dir);
    // A spare that was being prepared when the process stopped: never part of the log.
    for (const n of names) if (SPARE_RE.test(n)) fs.rmSync(path.join(dir, n), { force: true });
    const seqs = names
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
      const seg: Segment = { seq, file, size: 0, durable: 0, maxIndex: 0, allocated: buf.length };
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
        if (len === 0 && isLast && allZero(buf, pos)) {
          seg.size = pos; // preallocated space: keep it and write into it
          break;
        }
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
      if (seg.size < seg.allocated && !allZero(buf, seg.size)) {
        seg.allocated = seg.size;
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

    const mem = rebuild(resolveSnapFiles(dir, records));
    let fd: number;
    if (segments.length === 0) {
      const seg = createSegment(dir, (seqs[seqs.length - 1] ?? 0) + 1);
      segments.push(seg);
      fd = fs.openSync(seg.file, "r+");
    } else {
      fd = fs.openSync((segments[segments.length - 1] as Segment).file, "r+");
    }
    const wal = new Wal(dir, options, mem, segments, fd, { segments: segments.length, frames: records.length, truncatedBytes, truncatedReason });
    wal.prepareSpare();
    return wal;
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
    // A segment that was not preallocated (the first of a new WAL, or one made while no spare
    // was ready) is left for the spare as soon as that is ready.
    const cur = this.current();
    if (this.spare?.state === "ready" && cur.allocated <= cur.size && cur.size > SEGMENT_HEADER_BYTES) this.rotate();
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
   * records it durably (marker frame + sync), compacts the in-memory log to it
   * (keeping the last `keepEntries` entries it covers, so a follower just
   * behind can still be sent entries), and deletes whole older segments it covers.
   */
  compact(index: number, data: Uint8Array, keepEntries = 0): void {
    this.checkOpen();
    const snap = this.mem.snapshot();
    if (index > snap.index) this.mem.createSnapshot(index, data);
    const now = this.mem.snapshot();
    const rec: WalRecord = { kind: "marker", hardState: this.mem.hardState(), snapshot: now };
    const payload = encodeRecord(rec);
    if (payload.length > this.options.maxFrameBytes) throw new RangeError(`a snapshot of ${payload.length} bytes exceeds the WAL frame maximum`);
    this.enqueue(payload, recordMaxIndex(rec));
    this.sync();
    this.dropBelow(now.index, keepEntries);
  }

  /**
   * compact(), except that the snapshot goes to its own file, `<index>.snap`,
   * written and synced by libuv's thread pool: neither the event loop nor the
   * WAL's own syncs wait for it (a large snapshot takes seconds to sync). The
   * snapshot is what storage.snapshot() serves at once (it is committed state,
   * so a leader may ship it before it is durable here); once the file is
   * durable, a small marker naming it is written and synced, and only then are
   * entries and segments dropped. Resolves false when given up: the WAL was
   * closed, or a newer snapshot (from the leader) replaced this one meanwhile.
   * One at a time. `dataCrc`: crc32c(data), when the caller already knows it.
   */
  async compactAsync(index: number, data: Uint8Array, keepEntries = 0, dataCrc?: number): Promise<boolean> {
    this.checkOpen();
    assert(!this.compacting, "one compactAsync at a time");
    if (index <= this.mem.snapshot().index) return false;
    const snap = this.mem.createSnapshot(index, data);
    const crc = dataCrc ?? crc32c(data);
    const file = path.join(this.dir, snapName(index));
    const tmp = `${file}.${randomBytes(4).toString("hex")}.tmp`;
    this.compacting = true;
    const written = (async () => {
      try {
        await writeDurably(tmp, data);
        await fs.promises.rename(tmp, file);
        await fsyncDirAsync(this.dir);
      } catch (e) {
        await fs.promises.rm(tmp, { force: true });
        throw e;
      }
    })();
    this.compactingDone = written.catch(() => {});
    try {
      await written;
    } finally {
      this.compacting = false;
    }
    if (this.closed || this.mem.snapshot() !== snap) return false;
    const rec: WalRecord = { kind: "snapfile", hardState: this.mem.hardState(), index, term: snap.term, length: data.length, crc };
    this.enqueue(encodeRecord(rec), index);
    this.sync();
    this.dropBelow(index, keepEntries);
    return true;
  }

  /** After a durable marker at `index`: drops entries (but the last keepEntries) and the segments and older snapshot files it covers. */
  private dropBelow(index: number, keepEntries: number): void {
    this.mem.compact(index - Math.max(0, keepEntries));
    // Never the current segment: it holds the marker just written.
    let dropped = 0;
    while (this.segments.length > 1 && (this.segments[0] as Segment).maxIndex <= index) {
      fs.unlinkSync((this.segments.shift() as Segment).file);
      dropped++;
    }
    for (const n of fs.readdirSync(this.dir)) {
      const m = SNAP_RE.exec(n);
      if (m !== null && Number(m[1]) < index) {
        fs.unlinkSync(path.join(this.dir, n));
        dropped++;
      }
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
    this.dropSpare();
  }

  /** Closes without writing or syncing anything queued: what a crash leaves (for tests). */
  closeAbruptly(): void {
    if (this.closed) return;
    fs.closeSync(this.fd);
    this.closed = true;
    this.dropSpare();
  }

  /** Resolves once no spare is being written in the background (await it before removing the directory). */
  settled(): Promise<void> {
    return Promise.all([this.filling, this.compactingDone]).then(() => {});
  }

  private compactingDone: Promise<unknown> | null = null;

  private filling: Promise<void> | null = null;

  /** Starts zero-filling the segment after the current one, unless one is on its way. */
  private prepareSpare(): void {
    if (!this.options.preallocate || this.spare !== null || this.closed) return;
    const seq = this.current().seq + 1;
    const tmp = path.join(this.dir, `${segmentName(seq)}.${randomBytes(4).toString("hex")}.tmp`);
    const done = fillSegment(tmp, this.options.segmentBytes).then(
      () => {
        spare.state = "ready";
        if (this.spare !== spare) fs.rmSync(tmp, { force: true });
      },
      () => {
        spare.state = "failed";
        fs.rmSync(tmp, { force: true });
      },
    );
    const spare: Spare = { seq, tmp, state: "filling", done };
    this.spare = spare;
    const filling = done.finally(() => {
      if (this.filling === filling) this.filling = null;
    });
    this.filling = filling;
  }

  /** A spare still filling removes itself when done (it is no longer this.spare). */
  private dropSpare(): void {
    const sp = this.spare;
    this.spare = null;
    if (sp !== null && sp.state !== "filling") fs.rmSync(sp.tmp, { force: true });
  }

  /** The spare renamed into place as segment `seq`, or null when none is ready. */
  private takeSpare(seq: number): Segment | null {
    const sp = this.spare;
    if (sp === null || sp.state !== "ready" || sp.seq !== seq) return null;
    this.spare = null;
    const file = path.join(this.dir, segmentName(seq));
    try {
      fs.renameSync(sp.tmp, file);
    } catch {
      return null; // it went missing: make a plain segment instead
    }
    fsyncDir(this.dir);
    return { seq, file, size: SEGMENT_HEADER_BYTES, durable: SEGMENT_HEADER_BYTES, maxIndex: 0, allocated: this.options.segmentBytes };
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
    const seg = this.current();
    let off = 0;
    while (off < buf.length) off += fs.writeSync(this.fd, buf, off, buf.length - off, seg.size + off);
    seg.size += bytes;
    seg.maxIndex = Math.max(seg.maxIndex, maxIndex);
  }

  private rotate(): void {
    if (this.segments.length >= this.options.maxSegments) {
      throw new RangeError(`WAL has ${this.segments.length} segments, the maximum: compaction is not keeping up`);
    }
    const old = this.current();
    // Only the newest segment may end in zeros: cut the old one to its frames first.
    if (old.allocated > old.size) {
      fs.ftruncateSync(this.fd, old.size);
      old.allocated = old.size;
      old.durable = 0;
    }
    if (old.durable < old.size) {
      fs.fdatasyncSync(this.fd);
      old.durable = old.size;
    }
    fs.closeSync(this.fd);
    const seg = this.takeSpare(old.seq + 1) ?? createSegment(this.dir, old.seq + 1);
    this.segments.push(seg);
    this.fd = fs.openSync(seg.file, "r+");
    this.prepareSpare();
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
  return { seq, file, size: SEGMENT_HEADER_BYTES, durable: SEGMENT_HEADER_BYTES, maxIndex: 0, allocated: SEGMENT_HEADER_BYTES };
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
    // resolveSnapFiles turned every snapfile into a marker.
    if (r.kind === "marker" || r.kind === "snapfile") continue;
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
