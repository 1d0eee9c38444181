// The state machine's snapshot for Raft compaction: every shard's metadata,
// lease and in-memory window, but not the records that already left the
// window (the RecordStore holds those, and the I/O shell ships them with the
// snapshot). Layout, all integers big-endian:
//
//   "MNLS" | version u8 | appliedIndex u64 | stampTerm u64 | stampLastMs u64
//   | shardCount u32 | shard* | crc32c u32 (of every byte before it)
//   shard = shardId | tip u64 | trimPoint u64 | bytesAppended u64 | epoch u64
//         | hasLease u8 [holder str8 | leaseId u64 | epoch u64 | durationMs u32
//                        | grantedAtMs u64 | term u64]
//         | windowStartSeq u64 | count u32 | (len u32 | bytes)*
//
// Shards are written in compareShardIds order, so equal states give equal bytes.
import { assert } from "./assert";
import { crc32c, type Decoded, decodeWith, fail, type Reader, readShardId, Writer, writeShardId } from "./bytes";
import type { Lease } from "./lease";
import { compareShardIds, LEASE_DURATION_MS_MAX, RECORD_BYTES_MAX, SHARDS_MAX, type ShardId } from "./types";

export const SNAPSHOT_VERSION = 1;
const MAGIC = Buffer.from("MNLS", "latin1");

export interface ShardSnapshot {
  readonly shard: ShardId;
  readonly tip: number;
  readonly trimPoint: number;
  readonly bytesAppended: number;
  readonly epoch: number;
  readonly lease: Lease | null;
  readonly windowStartSeq: number;
  readonly windowRecords: readonly Buffer[];
}

export interface SnapshotData {
  readonly appliedIndex: number;
  /** Term and stamp of the last stamped entry applied (0, 0 before the first). */
  readonly stampTerm: number;
  readonly stampLastMs: number;
  readonly shards: readonly ShardSnapshot[];
}

function writeLease(w: Writer, l: Lease): void {
  w.str8(l.holder);
  w.u64(l.leaseId);
  w.u64(l.epoch);
  w.u32(l.durationMs);
  w.u64(l.grantedAtMs);
  w.u64(l.term);
}

function writeShard(w: Writer, s: ShardSnapshot): void {
  writeShardId(w, s.shard);
  w.u64(s.tip);
  w.u64(s.trimPoint);
  w.u64(s.bytesAppended);
  w.u64(s.epoch);
  w.u8(s.lease === null ? 0 : 1);
  if (s.lease !== null) writeLease(w, s.lease);
  w.u64(s.windowStartSeq);
  w.u32(s.windowRecords.length);
  for (const r of s.windowRecords) {
    w.u32(r.length);
    w.bytes(r);
  }
}

export function encodeSnapshot(d: SnapshotData): Buffer {
  let hint = 64;
  for (const s of d.shards) for (const r of s.windowRecords) hint += 4 + r.length;
  const w = new Writer(hint + d.shards.length * 128);
  w.bytes(MAGIC);
  w.u8(SNAPSHOT_VERSION);
  w.u64(d.appliedIndex);
  w.u64(d.stampTerm);
  w.u64(d.stampLastMs);
  w.u32(d.shards.length);
  for (let i = 0; i < d.shards.length; i++) {
    const s = d.shards[i] as ShardSnapshot;
    assert(i === 0 || compareShardIds((d.shards[i - 1] as ShardSnapshot).shard, s.shard) < 0, "snapshot shards out of order");
    writeShard(w, s);
  }
  const body = w.finish();
  const out = Buffer.allocUnsafe(body.length + 4);
  body.copy(out);
  out.writeUInt32BE(crc32c(body), body.length);
  return out;
}

function readLease(r: Reader, stampTerm: number, shardEpoch: number): Lease {
  const holder = r.str8("lease holder", 1);
  const leaseId = r.u64("leaseId");
  const epoch = r.u64("lease epoch");
  const durationMs = r.u32("durationMs");
  const grantedAtMs = r.u64("grantedAtMs");
  const term = r.u64("lease term");
  if (leaseId < 1 || epoch < 1 || epoch > shardEpoch) fail(`lease ${leaseId} epoch ${epoch} vs shard epoch ${shardEpoch}`);
  if (durationMs < 1 || durationMs > LEASE_DURATION_MS_MAX) fail(`lease duration ${durationMs}`);
  // Leases are carried into every new term as it starts (lease rule 3).
  if (term < 1 || term !== stampTerm) fail(`lease of term ${term} in a state at term ${stampTerm}`);
  return { holder, leaseId, epoch, durationMs, grantedAtMs, term };
}

function readShard(r: Reader, stampTerm: number): ShardSnapshot {
  const shard = readShardId(r);
  const tip = r.u64("tip");
  const trimPoint = r.u64("trimPoint");
  const bytesAppended = r.u64("bytesAppended");
  const epoch = r.u64("epoch");
  const has = r.u8("lease presence");
  if (has > 1) fail(`bad lease presence byte ${has}`);
  const lease = has === 1 ? readLease(r, stampTerm, epoch) : null;
  const windowStartSeq = r.u64("windowStartSeq");
  const count = r.u32("window count");
  if (trimPoint < 1 || trimPoint > tip + 1) fail(`shard ${String(shard)}: trimPoint ${trimPoint} vs tip ${tip}`);
  if (windowStartSeq < trimPoint || windowStartSeq + count !== tip + 1) fail(`shard ${String(shard)}: window ${windowStartSeq}+${count} vs trim ${trimPoint} tip ${tip}`);
  if (count * 4 > r.remaining()) fail(`truncated: ${count} records cannot fit in ${r.remaining()} bytes`);
  const windowRecords: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const n = r.u32("record length");
    if (n > RECORD_BYTES_MAX) fail(`record of ${n} bytes exceeds ${RECORD_BYTES_MAX}`);
    windowRecords.push(r.bytes(n, "record"));
  }
  return { shard, tip, trimPoint, bytesAppended, epoch, lease, windowStartSeq, windowRecords };
}

function readBody(r: Reader): SnapshotData {
  const magic = r.bytes(4, "magic");
  if (!magic.equals(MAGIC)) fail("not a log state snapshot");
  const v = r.u8("version");
  if (v !== SNAPSHOT_VERSION) fail(`unknown snapshot version ${v}`);
  const appliedIndex = r.u64("appliedIndex");
  const stampTerm = r.u64("stampTerm");
  const stampLastMs = r.u64("stampLastMs");
  const count = r.u32("shard count");
  if (count > SHARDS_MAX) fail(`${count} shards exceeds ${SHARDS_MAX}`);
  const shards: ShardSnapshot[] = [];
  for (let i = 0; i < count; i++) {
    const s = readShard(r, stampTerm);
    const prev = shards[shards.length - 1];
    if (prev !== undefined && compareShardIds(prev.shard, s.shard) >= 0) fail(`shards out of order at ${String(s.shard)}`);
    shards.push(s);
  }
  return { appliedIndex, stampTerm, stampLastMs, shards };
}

/** Checks the checksum first, then every field and invariant. Record buffers are views of `data`. */
export function decodeSnapshot(data: Uint8Array): Decoded<SnapshotData> {
  if (data.length < 4) return { ok: false, error: { code: "malformed", message: "snapshot: shorter than its checksum" } };
  // The version goes first: a newer format may checksum differently.
  const v = data.length > MAGIC.length ? data[MAGIC.length] : undefined;
  if (v !== undefined && v > SNAPSHOT_VERSION && MAGIC.equals(data.subarray(0, MAGIC.length))) {
    const message = `snapshot: version ${v} is newer than this node understands (${SNAPSHOT_VERSION})`;
    return { ok: false, error: { code: "version", message } };
  }
  const bodyLength = data.length - 4;
  const stored = Buffer.from(data.buffer, data.byteOffset + bodyLength, 4).readUInt32BE(0);
  const actual = crc32c(data, 0, bodyLength);
  if (stored !== actual) {
    const message = `snapshot: checksum mismatch (stored ${stored.toString(16)}, computed ${actual.toString(16)})`;
    return { ok: false, error: { code: "malformed", message } };
  }
  return decodeWith("snapshot", data.subarray(0, bodyLength), readBody);
}
