// The part of the log not yet on stable storage: entries (and at most one
// snapshot) that the next Ready hands to the application to persist.
import { assert, AssertionError } from "./assert";
import type { Entry, Snapshot } from "./types";

export class Unstable {
  snapshot: Snapshot | null = null;
  entries: Entry[] = [];
  /** Index of entries[0], or of the next entry to append when there are none. */
  offset: number;

  constructor(offset: number) {
    this.offset = offset;
  }

  maybeFirstIndex(): number | null {
    return this.snapshot === null ? null : this.snapshot.index + 1;
  }

  maybeLastIndex(): number | null {
    if (this.entries.length > 0) return this.offset + this.entries.length - 1;
    return this.snapshot === null ? null : this.snapshot.index;
  }

  maybeTerm(index: number): number | null {
    if (index < this.offset) return this.snapshot !== null && this.snapshot.index === index ? this.snapshot.term : null;
    const e = this.entries[index - this.offset];
    return e === undefined ? null : e.term;
  }

  /** The entries up to (index, term) are durable; drop them unless the log was rewritten since. */
  stableTo(index: number, term: number): void {
    if (index < this.offset || this.maybeTerm(index) !== term) return;
    this.entries = this.entries.slice(index + 1 - this.offset);
    this.offset = index + 1;
  }

  stableSnapTo(index: number): void {
    if (this.snapshot !== null && this.snapshot.index === index) this.snapshot = null;
  }

  restore(snap: Snapshot): void {
    this.snapshot = snap;
    this.entries = [];
    this.offset = snap.index + 1;
  }

  truncateAndAppend(ents: readonly Entry[]): void {
    const first = ents[0];
    if (first === undefined) return;
    const after = first.index;
    if (after === this.offset + this.entries.length) {
      for (const e of ents) this.entries.push(e);
    } else if (after <= this.offset) {
      // Replaces everything unstable and part of what storage holds; the next Ready rewrites it there.
      assert(this.snapshot === null || after > this.snapshot.index, "append below a pending snapshot");
      this.offset = after;
      this.entries = ents.slice();
    } else {
      this.entries = this.entries.slice(0, after - this.offset).concat(ents);
    }
  }

  slice(lo: number, hi: number): Entry[] {
    if (!(lo >= this.offset && hi <= this.offset + this.entries.length && lo <= hi)) throw new AssertionError(`unstable slice [${lo}, ${hi}) out of bounds`);
    return this.entries.slice(lo - this.offset, hi - this.offset);
  }
}
