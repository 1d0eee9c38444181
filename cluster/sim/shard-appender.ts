// The simulated primary's append pipeline: the rules of cluster/appender.ts
// (several appends in flight, each conditional on the tip the one before it
// leaves and on the lease; conflict, leaseMismatch and no-answer outcomes)
// with callbacks and simulated timers instead of promises and setTimeout.
// Modelled, not shared: the real Appender is bound to LogClient's promises.
import type { AppendFailure } from "../appender";
import type { AppendResult } from "../../log/state/types";
import { SHARD } from "./shard-log";

const IN_FLIGHT_MAX = 8;
const RETRY_DELAY_MS = 20;

interface Batch {
  readonly firstSeq: number;
  readonly records: readonly Buffer[];
  state: "queued" | "sent" | "waitEarlier" | "done";
  firstSentAtMs: number;
}

export interface SimAppenderHost {
  /** Sends an append; `cb` gets the log's result, or null when no answer came. */
  append(records: readonly Buffer[], expectedSeq: number, leaseId: number, cb: (r: AppendResult | null) => void): void;
  later(ms: number, fn: () => void): void;
  nowMs(): number;
}

export class SimAppender {
  private readonly batches: Batch[] = [];
  private nextSeq: number;
  private inFlight = 0;
  private failed = false;
  committedSeq: number;

  constructor(
    private readonly host: SimAppenderHost,
    private readonly leaseId: number,
    tipSeq: number,
    private readonly giveUpMs: number,
    private readonly onCommitted: (seq: number) => void,
    private readonly onFailure: (f: AppendFailure) => void,
    private readonly onCapacity: () => void,
  ) {
    this.nextSeq = tipSeq + 1;
    this.committedSeq = tipSeq;
  }

  get hasCapacity(): boolean {
    return !this.failed && this.inFlight < IN_FLIGHT_MAX;
  }

  submit(records: readonly Buffer[]): number {
    this.batches.push({ firstSeq: this.nextSeq, records, state: "queued", firstSentAtMs: -1 });
    this.nextSeq += records.length;
    this.pump();
    return this.nextSeq - 1;
  }

  get unsettledSends(): boolean {
    return this.batches.some((b) => b.state !== "done" && b.firstSentAtMs >= 0);
  }

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
    if (b.firstSentAtMs < 0) b.firstSentAtMs = this.host.nowMs();
    b.state = "sent";
    this.inFlight++;
    this.host.append(b.records, b.firstSeq - 1, this.leaseId, (r) => (r === null ? this.noAnswer(b) : this.answered(b, r)));
  }

  private answered(b: Batch, r: AppendResult): void {
    this.inFlight--;
    if (this.failed) return;
    const lastSeq = b.firstSeq + b.records.length - 1;
    switch (r.kind) {
      case "ok":
        b.state = "done";
        break;
      case "conflict":
        if (r.tip >= lastSeq) b.state = "done";
        else if (r.tip < b.firstSeq - 1) b.state = "waitEarlier";
        else return this.fail({ kind: "unknown", detail: `the log's tip is ${r.tip}, inside batch ${b.firstSeq}..${lastSeq}` });
        break;
      case "leaseMismatch":
        return this.fail({ kind: "deposed", detail: `the log refused the append: lease ${this.leaseId} is no longer live (shard ${SHARD})` });
    }
    this.settle();
  }

  private noAnswer(b: Batch): void {
    this.inFlight--;
    if (this.failed) return;
    if (this.host.nowMs() - b.firstSentAtMs >= this.giveUpMs) {
      return this.fail({ kind: "unknown", detail: `the log did not answer the append of ${b.firstSeq}.. for ${this.giveUpMs} ms` });
    }
    b.state = "waitEarlier";
    this.host.later(RETRY_DELAY_MS, () => this.pump());
  }

  private settle(): void {
    let advanced = false;
    while (this.batches.length > 0 && (this.batches[0] as Batch).state === "done") {
      const b = this.batches.shift() as Batch;
      this.committedSeq = b.firstSeq + b.records.length - 1;
      advanced = true;
    }
    if (advanced) this.onCommitted(this.committedSeq);
    this.pump();
    if (this.hasCapacity) this.onCapacity();
  }

  private fail(f: AppendFailure): void {
    if (this.failed) return;
    this.failed = true;
    this.onFailure(f);
  }
}
