// The set value type. Members live in a dense array with a member -> slot map:
// membership is O(1), a uniformly random member is O(1) (SPOP, SRANDMEMBER),
// and a scan cursor that walks slots downwards survives concurrent changes
// (see scan()). `intset` tracks the encoding Redis would report.
import { parseInt64 } from "../num";

/** Redis's default set-max-intset-entries. */
export const INTSET_ENTRIES_DEFAULT = 512;

export class SetObject {
  readonly kind = "set" as const;
  private readonly items: string[] = [];
  private readonly slots = new Map<string, number>();
  /**
   * True while every member is a canonical int64 and the set never grew past
   * set-max-intset-entries: Redis would keep it as an intset (OBJECT ENCODING,
   * replies in ascending numeric order). Never becomes true again once false.
   */
  intset = true;

  static fromMembers(members: Iterable<string>, intsetEntriesMax = INTSET_ENTRIES_DEFAULT): SetObject {
    const s = new SetObject();
    for (const m of members) s.add(m, intsetEntriesMax);
    return s;
  }

  get length(): number {
    return this.items.length;
  }

  get encoding(): "intset" | "hashtable" {
    return this.intset ? "intset" : "hashtable";
  }

  has(member: string): boolean {
    return this.slots.has(member);
  }

  /** Adds `member`; false when it was already there. */
  add(member: string, intsetEntriesMax = INTSET_ENTRIES_DEFAULT): boolean {
    if (this.slots.has(member)) return false;
    this.slots.set(member, this.items.length);
    this.items.push(member);
    if (this.intset && (this.items.length > intsetEntriesMax || parseInt64(member) === null)) this.intset = false;
    return true;
  }

  /** Removes `member` by moving the last member into its slot; false when absent. */
  remove(member: string): boolean {
    const slot = this.slots.get(member);
    if (slot === undefined) return false;
    this.slots.delete(member);
    const last = this.items.pop();
    if (last !== undefined && slot < this.items.length) {
      this.items[slot] = last;
      this.slots.set(last, slot);
    }
    return true;
  }

  /** The member in `slot` (0 <= slot < length). */
  at(slot: number): string {
    const m = this.items[slot];
    if (m === undefined) throw new RangeError(`set slot ${slot} out of range`);
    return m;
  }

  /** A uniformly chosen member, `r` in [0, 1). The set must not be empty. */
  randomMember(r: number): string {
    return this.at(Math.min(this.items.length - 1, Math.floor(r * this.items.length)));
  }

  /**
   * The members in the order Redis replies with them: ascending numeric order
   * for an intset, slot order otherwise. The slot-order array is the live one:
   * callers must not modify it nor keep it across a change of the set.
   */
  ordered(): readonly string[] {
    return this.intset ? this.items.slice().sort(compareIntStrings) : this.items;
  }

  /** All members (a copy), in slot order. */
  toArray(): string[] {
    return this.items.slice();
  }

  clone(): SetObject {
    const s = new SetObject();
    for (const m of this.items) {
      s.slots.set(m, s.items.length);
      s.items.push(m);
    }
    s.intset = this.intset;
    return s;
  }

  /**
   * One step of SSCAN. Cursor 0 starts at the top slot; any other cursor c
   * means "slots below c remain". Removal only moves the last member down
   * into a hole and additions go on top, so a member present for the whole
   * scan only ever moves to lower slots and is returned at least once. An
   * intset is returned whole, with cursor 0, as Redis does.
   */
  scan(cursor: number, count: number): { next: number; members: string[] } {
    if (this.intset) return { next: 0, members: this.ordered().slice() };
    const top = cursor === 0 || cursor > this.items.length ? this.items.length : cursor;
    const bottom = Math.max(0, top - count);
    const members: string[] = [];
    for (let i = top - 1; i >= bottom; i--) members.push(this.at(i));
    return { next: bottom, members };
  }
}

/** Orders canonical int64 strings numerically without converting them. */
export function compareIntStrings(a: string, b: string): number {
  if (a === b) return 0;
  const aNeg = a.charCodeAt(0) === 45;
  const bNeg = b.charCodeAt(0) === 45;
  if (aNeg !== bNeg) return aNeg ? -1 : 1;
  // Same sign: a longer magnitude is larger when positive, smaller when negative.
  if (a.length !== b.length) return (a.length < b.length) !== aNeg ? -1 : 1;
  return (a < b) !== aNeg ? -1 : 1;
}
