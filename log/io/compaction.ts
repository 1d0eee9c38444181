// When a log node compacts its WAL. The node writes a snapshot of its whole
// applied state (./node-snapshot.ts) into the WAL and drops the segments it
// covers once the log has grown, since the last snapshot, by at least
// max(minBytes, ratio * size of the last snapshot). So the bytes spent writing
// snapshots are at most 1/ratio of the bytes appended (amortized linear, never
// quadratic), and the WAL holds at most about one snapshot plus
// max(minBytes, ratio * snapshot) of entries. A snapshot larger than
// snapshotBytesMax (its records were not trimmed) is not written: compaction
// waits until trims shrink it, and the status says why.
import type { Entry } from "../raft/types";
import { entryBytes } from "../raft/types";

export interface CompactionOptions {
  /** Log growth (entry bytes, ENTRY_OVERHEAD_BYTES each included) that always allows a compaction. */
  readonly minBytes: number;
  /** A compaction also waits for ratio * (last snapshot's bytes) of growth. */
  readonly ratio: number;
  /** Largest snapshot the node writes (it must fit one WAL frame and one transport frame). */
  readonly snapshotBytesMax: number;
  /** Entries kept in memory below the snapshot, so a follower a little behind needs no snapshot. */
  readonly keepEntries: number;
}

export const DEFAULT_COMPACTION: CompactionOptions = {
  minBytes: 64 * 1024 * 1024,
  ratio: 1,
  snapshotBytesMax: 256 * 1024 * 1024,
  keepEntries: 1000,
};

export interface CompactionStatus {
  /** Raft index of the newest snapshot in the WAL (0: none). */
  readonly snapshotIndex: number;
  readonly snapshotBytes: number;
  /** Entry bytes persisted since that snapshot. */
  readonly bytesSinceSnapshot: number;
  /** Compactions this process did, and snapshots it installed from the leader. */
  readonly compactions: number;
  readonly snapshotsInstalled: number;
  /** The last compaction: time the event loop spent encoding the snapshot, and the whole time until its segments were dropped. */
  readonly lastEncodeMs: number;
  readonly lastCompactionMs: number;
  /** Why compaction is held back, if it is. */
  readonly blocked: string | null;
}

export class CompactionPolicy {
  private bytesSince = 0;
  private nextCheckBytes: number;
  private snapshotBytes: number;
  private snapshotIndex: number;
  private compactions = 0;
  private installed = 0;
  private lastMs = 0;
  private lastEncodeMs = 0;
  private blocked: string | null = null;

  constructor(
    readonly options: CompactionOptions,
    snapshotIndex: number,
    snapshotBytes: number,
  ) {
    this.snapshotIndex = snapshotIndex;
    this.snapshotBytes = snapshotBytes;
    this.nextCheckBytes = this.threshold();
  }

  /** A Ready's entries were persisted. */
  persisted(entries: readonly Entry[]): void {
    for (const e of entries) this.bytesSince += entryBytes(e);
  }

  /** Whether the log grew enough for a compaction to be worth its cost. */
  due(): boolean {
    return this.bytesSince >= this.nextCheckBytes;
  }

  /** The snapshot would be too large: try again after another minBytes of growth. */
  defer(estimateBytes: number): void {
    this.blocked = `a snapshot would take about ${estimateBytes} bytes, over the ${this.options.snapshotBytesMax} allowed: trim the shards`;
    this.nextCheckBytes = this.bytesSince + this.options.minBytes;
  }

  compacted(index: number, bytes: number, encodeMs: number, ms: number): void {
    this.compactions++;
    this.reset(index, bytes);
    this.lastEncodeMs = encodeMs;
    this.lastMs = ms;
  }

  /** A snapshot from the leader replaced the log. */
  installedSnapshot(index: number, bytes: number): void {
    this.installed++;
    this.reset(index, bytes);
  }

  status(): CompactionStatus {
    return {
      snapshotIndex: this.snapshotIndex,
      snapshotBytes: this.snapshotBytes,
      bytesSinceSnapshot: this.bytesSince,
      compactions: this.compactions,
      snapshotsInstalled: this.installed,
      lastEncodeMs: this.lastEncodeMs,
      lastCompactionMs: this.lastMs,
      blocked: this.blocked,
    };
  }

  private reset(index: number, bytes: number): void {
    this.snapshotIndex = index;
    this.snapshotBytes = bytes;
    this.bytesSince = 0;
    this.blocked = null;
    this.nextCheckBytes = this.threshold();
  }

  /**
   * Up to a quarter more, at random: the nodes of a group reach the same log
   * position together, and if all of them paused to encode a snapshot at once,
   * nothing could commit meanwhile.
   */
  private threshold(): number {
    return Math.max(this.options.minBytes, this.options.ratio * this.snapshotBytes) * (1 + Math.random() / 4);
  }
}
