// The leader's view of one follower: how much of its log matches, what to
// send next, and how much may be in flight (flow control in messages and bytes).
import { assert, AssertionError, assertNever } from "./assert";

/** The appends sent to a follower in replicate state and not yet acknowledged. */
export class Inflights {
  private readonly lastIndexes: number[] = [];
  private readonly sizes: number[] = [];
  private head = 0;
  private bytesTotal = 0;

  constructor(
    readonly msgsMax: number,
    readonly bytesMax: number,
  ) {
    assert(msgsMax >= 1 && bytesMax >= 1, "inflight limits must be positive");
  }

  count(): number {
    return this.lastIndexes.length - this.head;
  }

  bytes(): number {
    return this.bytesTotal;
  }

  full(): boolean {
    return this.count() >= this.msgsMax || this.bytesTotal >= this.bytesMax;
  }

  /** Records an append whose last entry is `lastIndex`. */
  add(lastIndex: number, bytes: number): void {
    assert(!this.full(), "add to full inflights");
    const prev = this.lastIndexes[this.lastIndexes.length - 1];
    assert(this.count() === 0 || prev === undefined || lastIndex > prev, "inflight appends must be in index order");
    this.lastIndexes.push(lastIndex);
    this.sizes.push(bytes);
    this.bytesTotal += bytes;
  }

  /** Frees every append whose last entry is at or below `index` (acknowledged). */
  freeLE(index: number): void {
    while (this.head < this.lastIndexes.length && (this.lastIndexes[this.head] as number) <= index) {
      this.bytesTotal -= this.sizes[this.head] as number;
      this.head++;
    }
    if (this.head > 64 && this.head * 2 > this.lastIndexes.length) {
      this.lastIndexes.splice(0, this.head);
      this.sizes.splice(0, this.head);
      this.head = 0;
    }
    assert(this.bytesTotal >= 0, "inflight bytes went negative");
  }
}

/**
 * probe: we do not know where the follower's log matches ours; one append at a
 * time until it answers. replicate: it matches up to `match`; stream appends
 * within the inflight window. snapshot: it needs a snapshot; nothing else is
 * sent until it answers or the attempt times out.
 */
export type ProgressState =
  | { readonly kind: "probe"; paused: boolean }
  | { readonly kind: "replicate"; readonly inflights: Inflights; paused: boolean }
  | { readonly kind: "snapshot"; readonly pendingIndex: number; ticks: number };

export interface FlowLimits {
  readonly inflightMsgsMax: number;
  readonly inflightBytesMax: number;
}

export class Progress {
  match = 0;
  next: number;
  state: ProgressState = { kind: "probe", paused: false };
  /** Heard from since the last check-quorum round. */
  recentActive = false;

  constructor(
    next: number,
    private readonly limits: FlowLimits,
  ) {
    this.next = next;
  }

  becomeProbe(): void {
    const s = this.state;
    this.next = s.kind === "snapshot" ? Math.max(this.match + 1, s.pendingIndex + 1) : this.match + 1;
    this.state = { kind: "probe", paused: false };
  }

  becomeReplicate(): void {
    this.next = this.match + 1;
    this.state = { kind: "replicate", inflights: new Inflights(this.limits.inflightMsgsMax, this.limits.inflightBytesMax), paused: false };
  }

  becomeSnapshot(index: number): void {
    this.next = index + 1;
    this.state = { kind: "snapshot", pendingIndex: index, ticks: 0 };
  }

  /** A snapshot that was never acknowledged: try again from what we know. */
  abortSnapshot(): void {
    assert(this.state.kind === "snapshot", "abort of a snapshot that is not pending");
    this.next = this.match + 1;
    this.state = { kind: "probe", paused: false };
  }

  isPaused(): boolean {
    const s = this.state;
    switch (s.kind) {
      case "probe":
      case "replicate":
        return s.paused;
      case "snapshot":
        return true;
      default:
        return assertNever(s, "progress state");
    }
  }

  /** Whether an append with entries may be sent now (a full window allows only empty ones). */
  canSendEntries(): boolean {
    return this.state.kind !== "replicate" || !this.state.inflights.full();
  }

  /** An append with `count` entries ending before `this.next + count` was sent. */
  sentEntries(count: number, bytes: number): void {
    const s = this.state;
    switch (s.kind) {
      case "replicate":
        if (count > 0) {
          this.next += count;
          s.inflights.add(this.next - 1, bytes);
        }
        s.paused = s.inflights.full();
        return;
      case "probe":
        s.paused = true;
        return;
      case "snapshot":
        assert(false, "append sent to a follower waiting for a snapshot");
        return;
      default:
        assertNever(s, "progress state");
    }
  }

  /** An acknowledgement up to `index`; false if it tells us nothing new. */
  maybeUpdate(index: number): boolean {
    if (index <= this.match) return false;
    this.match = index;
    this.next = Math.max(this.next, index + 1);
    const s = this.state;
    if (s.kind !== "snapshot") s.paused = false;
    return true;
  }

  /**
   * A rejection of the append after `rejected`; `matchHint` is the highest
   * index where the logs may agree. False if the rejection is stale.
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    const s = this.state;
    if (s.kind === "replicate") {
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    // Outside replicate state only one probe is outstanding, at next-1.
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1);
    if (s.kind === "probe") s.paused = false;
    return true;
  }

  /** A heartbeat was answered: let one more append through, even with a full window. */
  resume(): void {
    const s = this.state;
    if (s.kind !== "snapshot") s.paused = false;
  }

  check(): void {
    if (!(this.match < this.next)) throw new AssertionError(`progress match ${this.match} must be below next ${this.next}`);
  }
}
