// One shard's applied state and the four commands' rules. Every precondition
// is checked here, at apply time, against the entry's stamp, so every replica
// decides alike.
import { assert, AssertionError } from "./assert";
import { carriedOver, type Lease, leaseLive, leaseRemainingMs, leaseView, renewed } from "./lease";
import type { RecordSink } from "./record-store";
import type { AppendResult, LeaseView, RenewResult, ShardId, Stamp, TakeLeaseResult, TrimResult } from "./types";
import { RecordWindow } from "./window";

/** How much of each shard's newest log the state machine keeps in memory. */
export interface WindowLimits {
  readonly windowRecordsMax: number;
  readonly windowBytesMax: number;
}

/** A plain copy of a shard's state, for status output, tests and the snapshot. */
export interface ShardInfo {
  readonly shard: ShardId;
  /** Seq of the newest record; 0 for an empty log. */
  readonly tip: number;
  /** The lowest seq still readable; records below it are gone. */
  readonly trimPoint: number;
  /** Seq of the oldest record held in memory; below it (and >= trimPoint) the RecordStore holds them. */
  readonly windowStartSeq: number;
  readonly windowRecords: number;
  readonly windowBytes: number;
  /** Bytes of every record ever appended to the shard (trimmed ones included). */
  readonly bytesAppended: number;
  /** The epoch of the newest grant; 0 before the first. */
  readonly epoch: number;
  /** The newest lease, live or not (liveness depends on the entry asking). */
  readonly lease: Lease | null;
}

export class ShardState {
  tip = 0;
  trimPoint = 1;
  bytesAppended = 0;
  epoch = 0;
  lease: Lease | null = null;
  readonly window: RecordWindow;

  constructor(
    readonly id: ShardId,
    private readonly sink: RecordSink,
    private readonly limits: WindowLimits,
    windowStartSeq = 1,
  ) {
    this.window = new RecordWindow(windowStartSeq);
  }

  private liveLease(at: Stamp): Lease | null {
    return this.lease !== null && leaseLive(this.lease, at) ? this.lease : null;
  }

  private currentView(at: Stamp): LeaseView | null {
    const live = this.liveLease(at);
    return live === null ? null : leaseView(live);
  }

  /** The fence comes first: a deposed holder learns it is deposed, whatever its expectedSeq. */
  append(records: readonly Buffer[], expectedSeq: number, leaseId: number, at: Stamp): AppendResult {
    const live = this.liveLease(at);
    if (live === null || live.leaseId !== leaseId) return { kind: "leaseMismatch", current: this.currentView(at) };
    if (expectedSeq !== this.tip) return { kind: "conflict", tip: this.tip };
    assert(this.tip + records.length <= Number.MAX_SAFE_INTEGER, "seq overflow");
    this.window.push(records);
    for (const r of records) this.bytesAppended += r.length;
    this.tip += records.length;
    this.spill();
    return { kind: "ok", lastSeq: this.tip };
  }

  tryTakeLease(nodeId: string, expectedSeq: number, durationMs: number, index: number, at: Stamp): TakeLeaseResult {
    const live = this.liveLease(at);
    if (live !== null) return { kind: "conflict", reason: "lease-live", holder: leaseView(live), remainingMs: leaseRemainingMs(live, at) };
    if (expectedSeq !== this.tip) return { kind: "conflict", reason: "behind", tip: this.tip };
    this.epoch++;
    this.lease = { holder: nodeId, leaseId: index, epoch: this.epoch, durationMs, grantedAtMs: at.proposedAtMs, term: at.term };
    return { kind: "granted", leaseId: index, epoch: this.epoch };
  }

  renewLease(leaseId: number, at: Stamp): RenewResult {
    const live = this.liveLease(at);
    if (live === null || live.leaseId !== leaseId) return { kind: "leaseMismatch", current: this.currentView(at) };
    this.lease = renewed(live, at);
    return { kind: "ok" };
  }

  /** Idempotent; never beyond the tip. */
  trim(uptoSeq: number): TrimResult {
    const next = Math.min(uptoSeq, this.tip) + 1;
    if (next > this.trimPoint) {
      this.trimPoint = next;
      this.window.dropBelow(next);
      this.sink.deleteBelow(this.id, next);
    }
    return { kind: "ok", trimPoint: this.trimPoint };
  }

  /** Lease rule 3, at the first stamped entry of a new term. */
  enterTerm(oldTermLastMs: number, first: Stamp): void {
    if (this.lease !== null) this.lease = carriedOver(this.lease, oldTermLastMs, first);
  }

  /** Moves the records beyond the window's limits to the sink, oldest first, in one call. */
  spill(): void {
    const n = this.window.excess(this.limits.windowRecordsMax, this.limits.windowBytesMax);
    if (n === 0) return;
    const first = this.window.startSeq;
    this.sink.append(this.id, first, this.window.takeFront(n));
  }

  info(): ShardInfo {
    return {
      shard: this.id,
      tip: this.tip,
      trimPoint: this.trimPoint,
      windowStartSeq: this.window.startSeq,
      windowRecords: this.window.count,
      windowBytes: this.window.bytes,
      bytesAppended: this.bytesAppended,
      epoch: this.epoch,
      lease: this.lease,
    };
  }

  checkInvariants(): void {
    const w = this.window;
    if (!(this.trimPoint >= 1 && this.trimPoint <= this.tip + 1)) throw new AssertionError(`trimPoint ${this.trimPoint} vs tip ${this.tip}`);
    if (!(w.startSeq >= this.trimPoint && w.endSeq === this.tip + 1)) throw new AssertionError(`window [${w.startSeq}, ${w.endSeq}) vs trim ${this.trimPoint} tip ${this.tip}`);
    assert(this.lease === null || (this.lease.epoch <= this.epoch && this.lease.epoch >= 1), "lease epoch");
  }
}
