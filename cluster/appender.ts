// The primary's append pipeline: sealed batches of records go to the log in
// seq order, several appends in flight, each conditional on the tip the one
// before it leaves (expectedSeq) and on the primary's lease.
//
// Outcomes, with the lease as the fence (an append from a deposed holder gets
// leaseMismatch before anything else is checked, and only the lease holder
// appends, and this node took the lease at the tip it had applied):
//   ok                         -> committed
//   conflict, tip >= lastSeq   -> our records are in (an earlier attempt landed)
//   conflict, tip <  firstSeq-1 -> an earlier batch of ours has not landed yet
//                                 (a retry overtook it): send again once it has
//   leaseMismatch              -> deposed: fatal, nothing of this batch is in
//   no answer (timeout, lost)  -> send again with the same expectedSeq (safe:
//                                 it is conditional) until giveUpMs, then fatal
//                                 with an unknown outcome.
import type { ClientAppendResult } from "../log/client";

/** Appends in flight at once. */
const IN_FLIGHT_MAX = 8;
/** Records per append call at most, and bytes (the log's command limit is 64 MB). */
const APPEND_RECORDS_MAX = 4096;
const APPEND_BYTES_MAX = 32 * 1024 * 1024;
const RETRY_DELAY_MS = 20;

interface Batch {
  readonly firstSeq: number;
  readonly records: readonly Buffer[];
  readonly bytes: number;
  state: "queued" | "sent" | "waitEarlier" | "done";
  firstSentAtMs: number;
}

export type AppendFailure = { readonly kind: "deposed"; readonly detail: string } | { readonly kind: "unknown"; readonly detail: string };

export interface AppenderOptions {
  /**
   * Sends one conditional append to the log; `done` gets the log's answer, or
   * null (with why) when none came. A LogClient in the server, the simulated
   * log in the shard simulation (cluster/sim).
   */
  readonly send: (records: readonly Buffer[], expectedSeq: number, leaseId: number, done: (r: ClientAppendResult | null, why: string) => void) => void;
  /** Runs `fn` after `ms` (setTimeout, or the simulation's clock). */
  readonly later: (ms: number, fn: () => void) => void;
  readonly leaseId: number;
  /** The shard's tip when the lease was granted: the first record gets tip + 1. */
  readonly tipSeq: number;
  /** Give up on a batch the log has not answered for this long. */
  readonly giveUpMs: number;
  readonly onCommitted: (seq: number) => void;
  /** Called once; nothing is sent afterwards. */
  readonly onFailure: (f: AppendFailure) => void;
  /** Capacity to send came back (the caller may seal its open batch). */
  readonly onCapacity: () => void;
  readonly nowMs: () => number;
}

export class Appender {
  private readonly batches: Batch[] = [];
  private nextSeq: number;
  private inFlight = 0;
  private failed = false;
  committedSeq: number;
  /** Appends answered, and attempts that had to be sent again. */
  appends = 0;
  resends = 0;

  constructor(private readonly o: AppenderOptions) {
    this.nextSeq = o.tipSeq + 1;
    this.committedSeq = o.tipSeq;
  }

  /** True when a new batch would be sent at once. */
  get hasCapacity(): boolean {
    return !this.failed && this.inFlight < IN_FLIGHT_MAX;
  }

  /** Seq of the last record handed in. */
  get lastSeq(): number {
    return this.nextSeq - 1;
  }

  get pendingBatches(): number {
    return this.batches.length;
  }

  /** Queues records (one sealed turn, possibly several records); returns the seq of the last. */
  submit(records: readonly Buffer[]): number {
    let i = 0;
    while (i < records.length) {
      const part: Buffer[] = [];
      let bytes = 0;
      while (i < records.length && part.length < APPEND_RECORDS_MAX) {
        const r = records[i] as Buffer;
        if (part.length > 0 && bytes + r.length > APPEND_BYTES_MAX) break;
        part.push(r);
        bytes += r.length;
        i++;
      }
      this.batches.push({ firstSeq: this.nextSeq, records: part, bytes, state: "queued", firstSentAtMs: 0 });
      this.nextSeq += part.length;
    }
    this.pump();
    return this.nextSeq - 1;
  }

  /** Some batch not known to be committed was sent: it may be in the log. */
  get unsettledSends(): boolean {
    return this.batches.some((b) => b.state !== "done" && b.firstSentAtMs !== 0);
  }

  /** Stops sending; answers still in flight are ignored. */
  stop(): void {
    this.failed = true;
  }

  private pump(): void {
    for (const b of this.batches) {
      if (this.failed || this.inFlight >= IN_FLIGHT_MAX) return;
      if (b.state === "sent" || b.state === "done") continue;
      if (b.state === "waitEarlier" && !this.allDoneBefore(b)) return;
      this.send(b);
    }
  }

  private allDoneBefore(b: Batch): boolean {
    for (const x of this.batches) {
      if (x === b) return true;
      if (x.state !== "done") return false;
    }
    return true;
  }

  private send(b: Batch): void {
    if (b.firstSentAtMs === 0) b.firstSentAtMs = this.o.nowMs();
    else this.resends++;
    b.state = "sent";
    this.inFlight++;
    this.o.send(b.records, b.firstSeq - 1, this.o.leaseId, (r, why) => (r === null ? this.noAnswer(b, why) : this.answered(b, r)));
  }

  private answered(b: Batch, r: ClientAppendResult): void {
    this.inFlight--;
    if (this.failed) return;
    this.appends++;
    const lastSeq = b.firstSeq + b.records.length - 1;
    switch (r.kind) {
      case "ok":
        b.state = "done";
        break;
      case "conflict":
      case "conflictAfterRetry":
        if (r.tip >= lastSeq) b.state = "done";
        else if (r.tip < b.firstSeq - 1) b.state = "waitEarlier";
        else return this.fail({ kind: "unknown", detail: `the log's tip is ${r.tip}, inside batch ${b.firstSeq}..${lastSeq}` });
        break;
      case "leaseMismatch":
        return this.fail({ kind: "deposed", detail: `the log refused the append: lease ${this.o.leaseId} is no longer live (current: ${r.current === null ? "none" : `${r.current.holder} epoch ${r.current.epoch}`})` });
    }
    this.settle();
  }

  private noAnswer(b: Batch, why: string): void {
    this.inFlight--;
    if (this.failed) return;
    if (this.o.nowMs() - b.firstSentAtMs >= this.o.giveUpMs) {
      return this.fail({ kind: "unknown", detail: `the log did not answer the append of ${b.firstSeq}.. for ${this.o.giveUpMs} ms (${why})` });
    }
    b.state = "waitEarlier";
    this.o.later(RETRY_DELAY_MS, () => this.pump());
  }

  /** Drops the committed prefix, reports the new commit point, sends what can go. */
  private settle(): void {
    let advanced = false;
    while (this.batches.length > 0 && (this.batches[0] as Batch).state === "done") {
      const b = this.batches.shift() as Batch;
      this.committedSeq = b.firstSeq + b.records.length - 1;
      advanced = true;
    }
    if (advanced) this.o.onCommitted(this.committedSeq);
    this.pump();
    if (this.hasCapacity) this.o.onCapacity();
  }

  private fail(f: AppendFailure): void {
    if (this.failed) return;
    this.failed = true;
    this.o.onFailure(f);
  }
}
