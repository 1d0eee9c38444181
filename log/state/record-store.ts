// Where a shard's older records live. The state machine keeps only a window of
// each shard's newest records in memory; records that leave the window are
// handed to a RecordSink, in apply order, and trims are passed on the same way.
//
// The state machine only ever *writes* through the sink (apply stays pure and
// synchronous: the I/O shell's sink queues the writes into the batch that also
// records the applied index). Reads below the window are answered by
// `StateMachine.read` with an "inStore" directive; the reader then asks the
// store itself (synchronously here, asynchronously for LevelDB).
import { assert, AssertionError } from "./assert";
import type { ShardId } from "./types";

export interface RecordSink {
  /** Records firstSeq, firstSeq+1, ... leaving the window; contiguous with what the sink already holds. */
  append(shard: ShardId, firstSeq: number, records: readonly Buffer[]): void;
  /** The shard's trim point moved to `seq`: forget every record below it. */
  deleteBelow(shard: ShardId, seq: number): void;
}

export interface RecordStore extends RecordSink {
  /** Records fromSeq..toSeq (inclusive) that the store holds, stopping early after bytesMax (at least one record). */
  getRange(shard: ShardId, fromSeq: number, toSeq: number, bytesMax: number): readonly Buffer[];
}

interface StoredShard {
  /** Seq of records[head]. */
  startSeq: number;
  records: Buffer[];
  head: number;
}

/**
 * Everything in memory, contiguity asserted. The log node uses it too: its
 * snapshot carries the store's records (log/io/node-snapshot.ts), so they
 * survive restarts and compaction, and trimming is what bounds it.
 */
export class MemoryRecordStore implements RecordStore {
  private readonly shards = new Map<ShardId, StoredShard>();
  private bytesHeld = 0;
  appendCalls = 0;

  /** Bytes of every record held. */
  get bytes(): number {
    return this.bytesHeld;
  }

  /** Every shard the store has heard of (held records or not), in no particular order. */
  shardIds(): ShardId[] {
    return [...this.shards.keys()];
  }

  append(shard: ShardId, firstSeq: number, records: readonly Buffer[]): void {
    assert(records.length > 0, "empty spill");
    this.appendCalls++;
    let s = this.shards.get(shard);
    if (s === undefined) {
      s = { startSeq: firstSeq, records: [], head: 0 };
      this.shards.set(shard, s);
    }
    const held = s.records.length - s.head;
    if (held === 0) s.startSeq = Math.max(s.startSeq, firstSeq);
    if (firstSeq !== s.startSeq + held) throw new AssertionError(`store for shard ${String(shard)}: append at ${firstSeq}, expected ${s.startSeq + held}`);
    for (const r of records) {
      s.records.push(r);
      this.bytesHeld += r.length;
    }
  }

  deleteBelow(shard: ShardId, seq: number): void {
    const s = this.shards.get(shard);
    if (s === undefined) {
      this.shards.set(shard, { startSeq: seq, records: [], head: 0 });
      return;
    }
    const drop = Math.min(Math.max(0, seq - s.startSeq), s.records.length - s.head);
    for (let i = s.head; i < s.head + drop; i++) this.bytesHeld -= (s.records[i] as Buffer).length;
    s.head += drop;
    s.startSeq = Math.max(s.startSeq + drop, seq);
    if (s.head > 1024 && s.head * 2 > s.records.length) {
      s.records = s.records.slice(s.head);
      s.head = 0;
    }
  }

  getRange(shard: ShardId, fromSeq: number, toSeq: number, bytesMax: number): readonly Buffer[] {
    const s = this.shards.get(shard);
    if (s === undefined) return [];
    const out: Buffer[] = [];
    let bytes = 0;
    const last = Math.min(toSeq, s.startSeq + (s.records.length - s.head) - 1);
    for (let seq = Math.max(fromSeq, s.startSeq); seq <= last; seq++) {
      const r = s.records[s.head + seq - s.startSeq] as Buffer;
      if (out.length > 0 && bytes + r.length > bytesMax) break;
      out.push(r);
      bytes += r.length;
    }
    return out;
  }

  /** Seq range [first, last] held for a shard (last < first when empty). */
  held(shard: ShardId): { first: number; last: number } {
    const s = this.shards.get(shard);
    if (s === undefined) return { first: 1, last: 0 };
    return { first: s.startSeq, last: s.startSeq + (s.records.length - s.head) - 1 };
  }
}
