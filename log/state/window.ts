// The in-memory tail of one shard's log: the newest records, seq startSeq ..
// startSeq + count - 1, in a queue that drops from the front in O(1).
import { assert, AssertionError } from "./assert";

export class RecordWindow {
  private items: Buffer[] = [];
  private head = 0;
  private bytesHeld = 0;

  /** `startSeq` is the seq the first record pushed will have when the window is empty. */
  constructor(private start: number) {
    if (!(Number.isSafeInteger(start) && start >= 1)) throw new AssertionError(`bad window start ${start}`);
  }

  get startSeq(): number {
    return this.start;
  }

  get count(): number {
    return this.items.length - this.head;
  }

  get bytes(): number {
    return this.bytesHeld;
  }

  /** The seq after the newest record. */
  get endSeq(): number {
    return this.start + this.count;
  }

  push(records: readonly Buffer[]): void {
    for (const r of records) {
      this.items.push(r);
      this.bytesHeld += r.length;
    }
  }

  at(seq: number): Buffer {
    if (!(seq >= this.start && seq < this.endSeq)) throw new AssertionError(`seq ${seq} outside window [${this.start}, ${this.endSeq})`);
    return this.items[this.head + seq - this.start] as Buffer;
  }

  /** Removes and returns the `n` oldest records. */
  takeFront(n: number): Buffer[] {
    if (!(n >= 0 && n <= this.count)) throw new AssertionError(`takeFront(${n}) of ${this.count}`);
    const out = this.items.slice(this.head, this.head + n);
    for (const r of out) this.bytesHeld -= r.length;
    this.head += n;
    this.start += n;
    this.compact();
    return out;
  }

  /** Drops every record below `seq`; an empty window then starts at `seq`. */
  dropBelow(seq: number): void {
    if (seq <= this.start) return;
    const n = Math.min(seq - this.start, this.count);
    this.takeFront(n);
    this.start = Math.max(this.start, seq);
  }

  /** How many of the oldest records must leave so that at most recordsMax and bytesMax remain. */
  excess(recordsMax: number, bytesMax: number): number {
    let n = Math.max(0, this.count - recordsMax);
    let bytes = this.bytesHeld;
    for (let i = 0; i < n; i++) bytes -= (this.items[this.head + i] as Buffer).length;
    while (bytes > bytesMax && n < this.count) bytes -= (this.items[this.head + n++] as Buffer).length;
    return n;
  }

  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    if (this.count === 0) {
      this.items = [];
      this.head = 0;
    }
  }
}
