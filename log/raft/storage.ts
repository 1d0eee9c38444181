// Stable storage as the Raft core sees it: synchronous reads of what the
// application has already persisted. The application writes to it only while
// handling a Ready (after the bytes are durable) and when it compacts.
import { assert, AssertionError } from "./assert";
import { EMPTY_HARD_STATE, EMPTY_SNAPSHOT, entryBytes, type Entry, type HardState, type Snapshot } from "./types";

export interface Storage {
  /** The hard state saved last (all zero for a new node). */
  hardState(): HardState;
  /** Index of the first entry still held; everything before is covered by snapshot(). */
  firstIndex(): number;
  /** Index of the last entry held (firstIndex() - 1 when there are none). */
  lastIndex(): number;
  /** The term of entry `index` for firstIndex()-1 <= index <= lastIndex(); null outside. */
  term(index: number): number | null;
  /** Entries [lo, hi): firstIndex() <= lo <= hi <= lastIndex()+1; at least one if lo < hi, else at most `maxBytes`. */
  entries(lo: number, hi: number, maxBytes: number): Entry[];
  /** The newest snapshot; its index is at least firstIndex() - 1 once anything was compacted. */
  snapshot(): Snapshot;
}

/** A Storage that keeps everything in memory; the I/O shell puts durable storage underneath it. */
export class MemoryStorage implements Storage {
  private hs: HardState = EMPTY_HARD_STATE;
  private snap: Snapshot = EMPTY_SNAPSHOT;
  /** The entry just before ents[0]: the compaction point. */
  private prevIndex = 0;
  private prevTerm = 0;
  private ents: Entry[] = [];

  hardState(): HardState {
    return this.hs;
  }

  firstIndex(): number {
    return this.prevIndex + 1;
  }

  lastIndex(): number {
    return this.prevIndex + this.ents.length;
  }

  term(index: number): number | null {
    if (index === this.prevIndex) return this.prevTerm;
    if (index < this.prevIndex || index > this.lastIndex()) return null;
    return this.at(index).term;
  }

  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    if (!(lo >= this.firstIndex() && lo <= hi && hi <= this.lastIndex() + 1)) throw new AssertionError(`storage entries [${lo}, ${hi}) out of range`);
    const out: Entry[] = [];
    let bytes = 0;
    for (let i = lo; i < hi; i++) {
      const e = this.at(i);
      bytes += entryBytes(e);
      if (out.length > 0 && bytes > maxBytes) break;
      out.push(e);
    }
    return out;
  }

  snapshot(): Snapshot {
    return this.snap;
  }

  setHardState(hs: HardState): void {
    assert(hs.term >= this.hs.term, "hard state term went backwards");
    this.hs = hs;
  }

  /** Appends entries persisted by a Ready; entries from entries[0].index on are replaced. */
  append(entries: readonly Entry[]): void {
    const first = entries[0];
    if (first === undefined) return;
    if (!(first.index > this.prevIndex)) throw new AssertionError(`append at ${first.index} overwrites compacted entries (<= ${this.prevIndex})`);
    if (!(first.index <= this.lastIndex() + 1)) throw new AssertionError(`append at ${first.index} leaves a gap after ${this.lastIndex()}`);
    this.ents.length = first.index - this.prevIndex - 1;
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i] as Entry;
      assert(e.index === first.index + i, "appended entries are not contiguous");
      this.ents.push(e);
    }
  }

  /** Replaces everything with a snapshot received from the leader (a Ready's snapshot). */
  applySnapshot(snap: Snapshot): void {
    if (!(snap.index >= this.snap.index)) throw new AssertionError(`snapshot ${snap.index} is older than ${this.snap.index}`);
    this.snap = snap;
    this.prevIndex = snap.index;
    this.prevTerm = snap.term;
    this.ents = [];
  }

  /** Records the application's state at `index` (already applied) as the snapshot to send to laggards. */
  createSnapshot(index: number, data: Uint8Array): Snapshot {
    if (!(index > this.snap.index)) throw new AssertionError(`snapshot at ${index} is not newer than ${this.snap.index}`);
    const term = this.term(index);
    if (term === null) throw new AssertionError(`snapshot at ${index} is outside the log`);
    this.snap = { index, term, data };
    return this.snap;
  }

  /** Drops the entries up to `index`, which the newest snapshot must cover. */
  compact(index: number): void {
    if (index <= this.prevIndex) return;
    if (!(index <= this.snap.index)) throw new AssertionError(`compact to ${index} beyond the snapshot at ${this.snap.index}`);
    const term = this.term(index);
    if (term === null) throw new AssertionError(`compact to ${index} is outside the log`);
    this.ents = this.ents.slice(index - this.prevIndex);
    this.prevIndex = index;
    this.prevTerm = term;
  }

  private at(index: number): Entry {
    const e = this.ents[index - this.prevIndex - 1];
    if (!(e !== undefined && e.index === index)) throw new AssertionError(`storage has no entry ${index}`);
    return e;
  }
}
