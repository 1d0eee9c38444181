// The Raft log: stable storage below, unstable entries on top, and the
// commit/apply cursors. Index 0 is the empty prefix (term 0); entries start at 1.
import { assert, AssertionError } from "./assert";
import type { Storage } from "./storage";
import { entryBytes, type Entry, type Snapshot } from "./types";
import { Unstable } from "./unstable";

export class RaftLog {
  readonly storage: Storage;
  readonly unstable: Unstable;
  /** Highest index known to be committed. */
  committed: number;
  /** Highest index handed to the application in a Ready (not yet acknowledged). */
  applying: number;
  /** Highest index the application has acknowledged applying. */
  applied: number;
  private readonly applyBytesMax: number;

  constructor(storage: Storage, applied: number, applyBytesMax: number) {
    this.storage = storage;
    const first = storage.firstIndex();
    const last = storage.lastIndex();
    this.unstable = new Unstable(last + 1);
    if (!(applied >= first - 1 && applied <= last)) throw new AssertionError(`applied ${applied} outside the stored log [${first - 1}, ${last}]`);
    // Entries the application applied were committed, even if the saved commit index lags (it is written unsynced).
    this.committed = Math.max(applied, storage.hardState().commit, first - 1);
    if (!(this.committed <= last)) throw new AssertionError(`commit ${this.committed} beyond the stored log ${last}`);
    this.applying = applied;
    this.applied = applied;
    this.applyBytesMax = applyBytesMax;
  }

  firstIndex(): number {
    return this.unstable.maybeFirstIndex() ?? this.storage.firstIndex();
  }

  lastIndex(): number {
    return this.unstable.maybeLastIndex() ?? this.storage.lastIndex();
  }

  /** The term of entry `index`, or null when it is compacted or beyond the end. */
  term(index: number): number | null {
    if (index < this.firstIndex() - 1 || index > this.lastIndex()) return null;
    return this.unstable.maybeTerm(index) ?? this.storage.term(index);
  }

  lastTerm(): number {
    const t = this.term(this.lastIndex());
    assert(t !== null, "the last entry has no term");
    return t;
  }

  matchTerm(index: number, term: number): boolean {
    return this.term(index) === term;
  }

  /** §5.4.1: a candidate's log is at least as up to date as ours. */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const ourTerm = this.lastTerm();
    return lastTerm > ourTerm || (lastTerm === ourTerm && lastIndex >= this.lastIndex());
  }

  /**
   * Handles the entries of an append after (prevIndex, prevTerm). Returns the
   * index of the last entry the message vouches for, or null when our log does
   * not contain (prevIndex, prevTerm).
   */
  maybeAppend(prevIndex: number, prevTerm: number, commit: number, entries: readonly Entry[]): number | null {
    if (!this.matchTerm(prevIndex, prevTerm)) return null;
    const lastNew = prevIndex + entries.length;
    const conflict = this.findConflict(entries);
    if (conflict !== 0) {
      if (!(conflict > this.committed)) throw new AssertionError(`entry ${conflict} conflicts with the committed prefix (${this.committed})`);
      const first = entries[0] as Entry;
      this.append(entries.slice(conflict - first.index));
    }
    this.commitTo(Math.min(commit, lastNew));
    return lastNew;
  }

  /** Appends entries, replacing any suffix from entries[0].index on. Returns the new last index. */
  append(entries: readonly Entry[]): number {
    const first = entries[0];
    if (first === undefined) return this.lastIndex();
    if (!(first.index > this.committed)) throw new AssertionError(`append at ${first.index} would overwrite committed ${this.committed}`);
    if (!(first.index <= this.lastIndex() + 1)) throw new AssertionError(`append at ${first.index} leaves a gap after ${this.lastIndex()}`);
    const prevTerm = this.term(first.index - 1);
    if (!(prevTerm !== null && first.term >= prevTerm)) throw new AssertionError(`append at ${first.index}: terms must not decrease`);
    for (let i = 1; i < entries.length; i++) {
      const a = entries[i - 1] as Entry;
      const b = entries[i] as Entry;
      assert(b.index === a.index + 1 && b.term >= a.term, "appended entries must be contiguous with non-decreasing terms");
    }
    this.unstable.truncateAndAppend(entries);
    return this.lastIndex();
  }

  /** The index of the first entry whose term differs from ours (or that we lack); 0 if none. */
  findConflict(entries: readonly Entry[]): number {
    for (const e of entries) if (!this.matchTerm(e.index, e.term)) return e.index;
    return 0;
  }

  /**
   * The last (index, term) at or before `index` whose term is <= `term`: the
   * highest point where a log whose entry `index` has term `term` may agree
   * with ours. Term 0 means "unknown" (compacted).
   */
  findConflictByTerm(index: number, term: number): { index: number; term: number } {
    for (let i = Math.min(index, this.lastIndex()); i > 0; i--) {
      const t = this.term(i);
      if (t === null) return { index: i, term: 0 };
      if (t <= term) return { index: i, term: t };
    }
    return { index: 0, term: 0 };
  }

  /** Entries [lo, hi) up to `maxBytes` (at least one); null when lo is compacted. */
  slice(lo: number, hi: number, maxBytes: number): Entry[] | null {
    if (lo < this.firstIndex()) return null;
    if (!(hi <= this.lastIndex() + 1 && lo <= hi)) throw new AssertionError(`slice [${lo}, ${hi}) beyond the last index ${this.lastIndex()}`);
    const out: Entry[] = [];
    const off = this.unstable.offset;
    if (lo < off) {
      const stored = this.storage.entries(lo, Math.min(hi, off), maxBytes);
      for (const e of stored) out.push(e);
      if (out.length < Math.min(hi, off) - lo) return out;
    }
    let bytes = 0;
    for (const e of out) bytes += entryBytes(e);
    if (hi > off) {
      for (const e of this.unstable.slice(Math.max(lo, off), hi)) {
        bytes += entryBytes(e);
        if (out.length > 0 && bytes > maxBytes) break;
        out.push(e);
      }
    }
    return out;
  }

  commitTo(index: number): void {
    if (index <= this.committed) return;
    if (!(index <= this.lastIndex())) throw new AssertionError(`commit ${index} beyond the last index ${this.lastIndex()}`);
    this.committed = index;
  }

  /** The leader's commit rule: only an entry of the leader's own term commits by counting replicas. */
  maybeCommit(index: number, term: number): boolean {
    if (index > this.committed && this.term(index) === term) {
      this.commitTo(index);
      return true;
    }
    return false;
  }

  hasNextCommittedEntries(): boolean {
    return this.unstable.snapshot === null && this.committed > this.applying;
  }

  /** Committed entries not yet handed to the application, bounded in bytes. */
  nextCommittedEntries(): Entry[] {
    if (!this.hasNextCommittedEntries()) return [];
    const lo = Math.max(this.applying + 1, this.firstIndex());
    const ents = this.slice(lo, this.committed + 1, this.applyBytesMax);
    if (ents === null) throw new AssertionError(`committed entries from ${lo} are compacted but were never applied`);
    return ents;
  }

  acceptApplying(index: number): void {
    if (!(index <= this.committed)) throw new AssertionError(`applying ${index} beyond commit ${this.committed}`);
    this.applying = Math.max(this.applying, index);
  }

  appliedTo(index: number): void {
    if (!(index >= this.applied && index <= this.committed)) throw new AssertionError(`applied ${index} outside [${this.applied}, ${this.committed}]`);
    this.applied = index;
    this.applying = Math.max(this.applying, index);
  }

  stableTo(index: number, term: number): void {
    this.unstable.stableTo(index, term);
  }

  stableSnapTo(index: number): void {
    this.unstable.stableSnapTo(index);
  }

  /** Installs a leader's snapshot: the log becomes empty after it and everything up to it is committed. */
  restore(snap: Snapshot): void {
    if (!(snap.index > this.committed)) throw new AssertionError(`snapshot ${snap.index} does not advance commit ${this.committed}`);
    this.committed = snap.index;
    this.unstable.restore(snap);
  }

  /** The snapshot to send a follower that is behind the compacted point. */
  snapshot(): Snapshot {
    return this.unstable.snapshot ?? this.storage.snapshot();
  }
}
