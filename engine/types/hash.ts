// The hash value type. Fields live in slots (parallel arrays) in insertion
// order, each stamped with an increasing sequence number; a map finds a
// field's slot. A deleted field leaves a tombstone until compaction, which
// keeps the order and the stamps. That gives:
// - HSCAN cursors that are stamps: a field present for a whole scan keeps its
//   stamp, so a scan resuming "from stamp c" returns it exactly once, however
//   fields are added or removed between calls;
// - O(1) random fields for HRANDFIELD (tombstones are at most half the slots).
// fromEntries/entries/length/clone are the contract other modules (COPY,
// DUMP, digest) rely on.
import { assert } from "../assert";

/** Compaction waits for this many tombstones, so small hashes never churn. */
const TOMBSTONES_MIN = 16;

export class HashObject {
  readonly kind = "hash" as const;
  /** Redis's encoding: "listpack" until a size limit is crossed once, then "hashtable" for good. */
  encoding: "listpack" | "hashtable" = "listpack";
  private readonly slotOf = new Map<string, number>();
  private fields: string[] = [];
  private values: string[] = [];
  /** Stamp of each slot; negative (-stamp) marks a tombstone. */
  private stamps: number[] = [];
  private tombstones = 0;
  private nextStamp = 1;

  static fromEntries(entries: Iterable<readonly [string, string]>): HashObject {
    const h = new HashObject();
    for (const [f, v] of entries) h.set(f, v);
    return h;
  }

  get length(): number {
    return this.slotOf.size;
  }

  /** All field/value pairs (a copy), in the hash's iteration order. */
  entries(): [string, string][] {
    const out: [string, string][] = [];
    this.forEachLive((f, v) => out.push([f, v]));
    return out;
  }

  clone(): HashObject {
    const h = HashObject.fromEntries(this.entries());
    h.encoding = this.encoding;
    return h;
  }

  get(field: string): string | undefined {
    const slot = this.slotOf.get(field);
    return slot === undefined ? undefined : this.values[slot];
  }

  has(field: string): boolean {
    return this.slotOf.has(field);
  }

  /** Sets a field; true when it was created, false when an existing value was replaced. */
  set(field: string, value: string): boolean {
    const slot = this.slotOf.get(field);
    if (slot !== undefined) {
      this.values[slot] = value;
      return false;
    }
    this.slotOf.set(field, this.fields.length);
    this.fields.push(field);
    this.values.push(value);
    this.stamps.push(this.nextStamp++);
    return true;
  }

  delete(field: string): boolean {
    const slot = this.slotOf.get(field);
    if (slot === undefined) return false;
    this.slotOf.delete(field);
    this.fields[slot] = "";
    this.values[slot] = "";
    this.stamps[slot] = -(this.stamps[slot] ?? 0);
    this.tombstones++;
    this.dropTrailingTombstones();
    if (this.tombstones >= TOMBSTONES_MIN && this.tombstones > this.slotOf.size) this.compact();
    return true;
  }

  /** Field names, in order. */
  keys(): string[] {
    const out: string[] = [];
    this.forEachLive((f) => out.push(f));
    return out;
  }

  /** Values, in field order. */
  vals(): string[] {
    const out: string[] = [];
    this.forEachLive((_f, v) => out.push(v));
    return out;
  }

  /** field, value, field, value ... in order. */
  flat(): string[] {
    const out: string[] = [];
    this.forEachLive((f, v) => out.push(f, v));
    return out;
  }

  /** A uniformly random field and its value; `random` is uniform in [0, 1). The hash must not be empty. */
  randomEntry(random: () => number): [string, string] {
    assert(this.slotOf.size > 0, "random field of an empty hash");
    const n = this.fields.length;
    // Live slots are more than half of all slots, so this ends fast; the bound is a safety net.
    for (let attempt = 0; attempt < 1000; attempt++) {
      const slot = Math.min(n - 1, Math.floor(random() * n));
      if ((this.stamps[slot] ?? -1) > 0) return [this.fields[slot] ?? "", this.values[slot] ?? ""];
    }
    const first = this.stamps.findIndex((s) => s > 0);
    return [this.fields[first] ?? "", this.values[first] ?? ""];
  }

  /**
   * Appends to `out` (field, value pairs) up to `count` fields whose stamp is
   * at least `cursor`, in order. Returns the cursor to resume from, 0 at the end.
   */
  scan(cursor: number, count: number, out: string[]): number {
    let slot = this.firstSlotFrom(cursor);
    let taken = 0;
    const n = this.fields.length;
    for (; slot < n && taken < count; slot++) {
      if ((this.stamps[slot] ?? -1) < 0) continue;
      out.push(this.fields[slot] ?? "", this.values[slot] ?? "");
      taken++;
    }
    return slot < n ? Math.abs(this.stamps[slot] ?? 0) : 0;
  }

  private forEachLive(fn: (field: string, value: string) => void): void {
    const n = this.fields.length;
    for (let i = 0; i < n; i++) {
      if ((this.stamps[i] ?? -1) > 0) fn(this.fields[i] ?? "", this.values[i] ?? "");
    }
  }

  /** Binary search: the first slot whose stamp (live or not) is >= `stamp`. */
  private firstSlotFrom(stamp: number): number {
    let lo = 0;
    let hi = this.stamps.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (Math.abs(this.stamps[mid] ?? 0) < stamp) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private dropTrailingTombstones(): void {
    while (this.stamps.length > 0 && (this.stamps[this.stamps.length - 1] ?? 1) < 0) {
      this.stamps.pop();
      this.fields.pop();
      this.values.pop();
      this.tombstones--;
    }
  }

  /** Squeezes tombstones out, keeping order and stamps (so cursors stay valid). */
  private compact(): void {
    let w = 0;
    const n = this.fields.length;
    for (let r = 0; r < n; r++) {
      const stamp = this.stamps[r] ?? -1;
      if (stamp < 0) continue;
      const f = this.fields[r] ?? "";
      this.fields[w] = f;
      this.values[w] = this.values[r] ?? "";
      this.stamps[w] = stamp;
      this.slotOf.set(f, w);
      w++;
    }
    this.fields.length = w;
    this.values.length = w;
    this.stamps.length = w;
    this.tombstones = 0;
  }
}
