// A log node's Raft snapshot: the state machine's snapshot (metadata, leases,
// in-memory windows: log/state/snapshot.ts) plus every record the record store
// holds below the windows, so the snapshot alone rebuilds the node. It is what
// the WAL keeps when the node compacts, and what the leader ships to a
// follower that fell behind the compacted log. Layout, integers big-endian:
//
//   "MNNS" | version u8 | machineLength u32 | machine snapshot
//   | shardCount u32 | (shardId | firstSeq u64 | count u32 | (len u32 | bytes)*)*
//   | crc32c u32 (of every byte before it)
//
// Its size is about the untrimmed records; the node compacts only when the
// log grew by at least as much since the last snapshot (see node.ts), so
// writing snapshots costs at most as much as the appends themselves.
import { assert } from "../state/assert";
import { type Decoded, decodeWith, fail, readShardId, Writer, writeShardId } from "../state/bytes";
import { DEFAULT_WINDOW_LIMITS, LogStateMachine } from "../state/machine";
import { MemoryRecordStore } from "../state/record-store";
import type { WindowLimits } from "../state/shard";
import { compareShardIds, RECORD_BYTES_MAX, SHARDS_MAX, type ShardId } from "../state/types";
import { crc32c } from "./wal";

const MAGIC = Buffer.from("MNNS", "latin1");
export const NODE_SNAPSHOT_VERSION = 1;

/** Bytes a snapshot of this state would take, roughly (records and their length fields dominate). */
export function nodeSnapshotBytesEstimate(sm: LogStateMachine, store: MemoryRecordStore): number {
  let n = 64 + store.bytes;
  for (const id of sm.shardIds()) {
    const s = sm.shard(id);
    if (s === null) continue;
    n += 128 + s.windowBytes + 4 * (s.tip - s.trimPoint + 1);
  }
  return n;
}

export function encodeNodeSnapshot(sm: LogStateMachine, store: MemoryRecordStore): Buffer {
  const machine = sm.snapshot();
  const sections = store
    .shardIds()
    .sort(compareShardIds)
    .map((id) => {
      const range = store.held(id);
      const records = range.last >= range.first ? store.getRange(id, range.first, range.last, Number.MAX_SAFE_INTEGER) : [];
      const head = new Writer(32);
      writeShardId(head, id);
      head.u64(range.first);
      head.u32(records.length);
      return { head: head.finish(), records };
    })
    .filter((x) => x.records.length > 0);
  // The records dominate: size everything first, then copy each once (no growing buffer).
  let size = MAGIC.length + 1 + 4 + machine.length + 4 + 4;
  for (const sec of sections) {
    size += sec.head.length;
    for (const r of sec.records) size += 4 + r.length;
  }
  const out = Buffer.allocUnsafe(size);
  let pos = MAGIC.copy(out, 0);
  pos = out.writeUInt8(NODE_SNAPSHOT_VERSION, pos);
  pos = out.writeUInt32BE(machine.length, pos);
  pos += machine.copy(out, pos);
  pos = out.writeUInt32BE(sections.length, pos);
  for (const sec of sections) {
    pos += sec.head.copy(out, pos);
    for (const r of sec.records) {
      const n = r.length;
      out[pos] = n >>> 24;
      out[pos + 1] = (n >>> 16) & 0xff;
      out[pos + 2] = (n >>> 8) & 0xff;
      out[pos + 3] = n & 0xff;
      out.set(r, pos + 4);
      pos += 4 + n;
    }
  }
  assert(pos === size - 4, "node snapshot size");
  out.writeUInt32BE(crc32c(out, 0, 0, pos), pos);
  return out;
}

/** crc32c of all of `data` (an encoded node snapshot), from its stored checksum: no second pass over the bytes. */
export function nodeSnapshotCrc(data: Buffer): number {
  const body = data.readUInt32BE(data.length - 4);
  return crc32c(data, body, data.length - 4, data.length);
}

interface StoreSection {
  readonly shard: ShardId;
  readonly firstSeq: number;
  readonly records: readonly Buffer[];
}

/** Rebuilds the record store and the state machine; record buffers are views of `data`. */
export function decodeNodeSnapshot(data: Uint8Array, limits: WindowLimits = DEFAULT_WINDOW_LIMITS): Decoded<{ sm: LogStateMachine; store: MemoryRecordStore }> {
  if (data.length < 4) return { ok: false, error: { code: "malformed", message: "node snapshot: shorter than its checksum" } };
  const bodyLength = data.length - 4;
  const stored = Buffer.from(data.buffer, data.byteOffset + bodyLength, 4).readUInt32BE(0);
  if (stored !== crc32c(data, 0, 0, bodyLength)) return { ok: false, error: { code: "malformed", message: "node snapshot: checksum mismatch" } };
  const parts = decodeWith("node snapshot", data.subarray(0, bodyLength), (r) => {
    if (!r.bytes(4, "magic").equals(MAGIC)) fail("not a log node snapshot");
    const v = r.u8("version");
    if (v !== NODE_SNAPSHOT_VERSION) fail(`unknown node snapshot version ${v}`);
    const machine = r.bytes(r.u32("machine length"), "machine snapshot");
    const count = r.u32("store shard count");
    if (count > SHARDS_MAX) fail(`${count} shards exceeds ${SHARDS_MAX}`);
    const sections: StoreSection[] = [];
    for (let i = 0; i < count; i++) {
      const shard = readShardId(r);
      const firstSeq = r.u64("firstSeq");
      const n = r.u32("record count");
      if (n === 0 || n * 4 > r.remaining()) fail(`shard ${String(shard)}: bad record count ${n}`);
      const records: Buffer[] = [];
      for (let j = 0; j < n; j++) {
        const len = r.u32("record length");
        if (len > RECORD_BYTES_MAX) fail(`record of ${len} bytes exceeds ${RECORD_BYTES_MAX}`);
        records.push(r.bytes(len, "record"));
      }
      sections.push({ shard, firstSeq, records });
    }
    return { machine, sections };
  });
  if (!parts.ok) return parts;
  const store = new MemoryRecordStore();
  for (const s of parts.value.sections) store.append(s.shard, s.firstSeq, s.records);
  const sm = LogStateMachine.restore(parts.value.machine, store, limits);
  if (!sm.ok) return sm;
  const gap = storeGap(sm.value, store);
  if (gap !== null) return { ok: false, error: { code: "malformed", message: `node snapshot: ${gap}` } };
  return { ok: true, value: { sm: sm.value, store } };
}

/** Every untrimmed record below a window must be in the store: the first shard where one is missing. */
function storeGap(sm: LogStateMachine, store: MemoryRecordStore): string | null {
  for (const id of sm.shardIds()) {
    const s = sm.shard(id);
    if (s === null || s.windowStartSeq <= s.trimPoint) continue;
    const h = store.held(id);
    if (h.first > s.trimPoint || h.last < s.windowStartSeq - 1) {
      return `shard ${String(id)}: records ${s.trimPoint}..${s.windowStartSeq - 1} should be in the store, which holds ${h.first}..${h.last}`;
    }
  }
  return null;
}
