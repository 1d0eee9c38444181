// The list value type: a growable ring buffer (deque), so pushes and pops at
// either end are O(1) amortized and access by index is O(1). Middle inserts
// and removals shift the shorter side, as a quicklist's cost is also O(n).
// fromArray/toArray/length/clone are the contract other modules (COPY, DUMP,
// digest) rely on.
import { assert } from "../assert";

/** Smallest buffer kept; a power of two so indexes wrap with a mask. */
const CAPACITY_MIN = 4;

export class ListObject {
  readonly kind = "list" as const;
  /** Ring storage; slots outside [head, head+len) hold "" so nothing leaks. */
  private buf: string[];
  private mask: number;
  private head = 0;
  private len = 0;

  constructor(items: readonly string[] = []) {
    this.buf = ringOf(items, capacityFor(items.length));
    this.mask = this.buf.length - 1;
    this.len = items.length;
  }

  static fromArray(items: readonly string[]): ListObject {
    return new ListObject(items);
  }

  get length(): number {
    return this.len;
  }

  /** All elements, head to tail (a copy). */
  toArray(): string[] {
    return this.range(0, this.len);
  }

  clone(): ListObject {
    return new ListObject(this.toArray());
  }

  /** The element at 0-based `index` from the head, or undefined when out of range. */
  at(index: number): string | undefined {
    if (index < 0 || index >= this.len) return undefined;
    return this.buf[(this.head + index) & this.mask];
  }

  /** Replaces the element at `index` (which must be in range). */
  set(index: number, value: string): void {
    assert(index >= 0 && index < this.len, "list index out of range");
    this.buf[(this.head + index) & this.mask] = value;
  }

  pushHead(value: string): void {
    if (this.len === this.buf.length) this.resize(this.buf.length * 2);
    this.head = (this.head - 1) & this.mask;
    this.buf[this.head] = value;
    this.len++;
  }

  pushTail(value: string): void {
    if (this.len === this.buf.length) this.resize(this.buf.length * 2);
    this.buf[(this.head + this.len) & this.mask] = value;
    this.len++;
  }

  popHead(): string | undefined {
    if (this.len === 0) return undefined;
    const v = this.buf[this.head];
    this.buf[this.head] = "";
    this.head = (this.head + 1) & this.mask;
    this.len--;
    this.maybeShrink();
    return v;
  }

  popTail(): string | undefined {
    if (this.len === 0) return undefined;
    const i = (this.head + this.len - 1) & this.mask;
    const v = this.buf[i];
    this.buf[i] = "";
    this.len--;
    this.maybeShrink();
    return v;
  }

  /** `count` elements from `start` (both in range), head to tail, or tail to head when `reverse`. */
  range(start: number, count: number, reverse = false): string[] {
    assert(start >= 0 && count >= 0 && start + count <= this.len, "list range out of bounds");
    const out = new Array<string>(count);
    const buf = this.buf;
    const mask = this.mask;
    const first = this.head + start;
    if (reverse) {
      for (let i = 0; i < count; i++) out[i] = buf[(first + count - 1 - i) & mask] ?? "";
    } else {
      for (let i = 0; i < count; i++) out[i] = buf[(first + i) & mask] ?? "";
    }
    return out;
  }

  /** Removes `fromHead` elements at the head and `fromTail` at the tail (LTRIM, counted pops). */
  trim(fromHead: number, fromTail: number): void {
    assert(fromHead >= 0 && fromTail >= 0 && fromHead + fromTail <= this.len, "list trim out of bounds");
    for (let i = 0; i < fromHead; i++) this.buf[(this.head + i) & this.mask] = "";
    this.head = (this.head + fromHead) & this.mask;
    this.len -= fromHead;
    for (let i = 0; i < fromTail; i++) this.buf[(this.head + this.len - 1 - i) & this.mask] = "";
    this.len -= fromTail;
    this.maybeShrink();
  }

  /** Inserts `value` so that it ends up at `index` (0..length), shifting the shorter side. */
  insertAt(index: number, value: string): void {
    assert(index >= 0 && index <= this.len, "list insert out of bounds");
    if (index === 0) return this.pushHead(value);
    if (index === this.len) return this.pushTail(value);
    if (this.len === this.buf.length) this.resize(this.buf.length * 2);
    const buf = this.buf;
    const mask = this.mask;
    if (index < this.len / 2) {
      this.head = (this.head - 1) & mask;
      for (let i = 0; i < index; i++) buf[(this.head + i) & mask] = buf[(this.head + i + 1) & mask] ?? "";
    } else {
      for (let i = this.len; i > index; i--) buf[(this.head + i) & mask] = buf[(this.head + i - 1) & mask] ?? "";
    }
    buf[(this.head + index) & mask] = value;
    this.len++;
  }

  /**
   * Removes up to `limit` elements equal to `value` (0 = all), scanning from
   * the head, or from the tail when `fromTail`. Returns how many were removed.
   */
  removeValue(value: string, limit: number, fromTail: boolean): number {
    const n = this.len;
    const kept: string[] = [];
    let removed = 0;
    for (let k = 0; k < n; k++) {
      const i = fromTail ? n - 1 - k : k;
      const v = this.buf[(this.head + i) & this.mask] ?? "";
      if (v === value && (limit === 0 || removed < limit)) removed++;
      else kept.push(v);
    }
    if (removed === 0) return 0;
    if (fromTail) kept.reverse();
    this.buf = ringOf(kept, capacityFor(kept.length));
    this.mask = this.buf.length - 1;
    this.head = 0;
    this.len = kept.length;
    return removed;
  }

  /** Index of the first element equal to `value` scanning from the head, or -1. */
  indexOf(value: string): number {
    for (let i = 0; i < this.len; i++) {
      if (this.buf[(this.head + i) & this.mask] === value) return i;
    }
    return -1;
  }

  private maybeShrink(): void {
    const cap = this.buf.length;
    if (cap > CAPACITY_MIN && this.len < cap / 4) this.resize(cap / 2);
  }

  /** Moves the elements, in order, into a new buffer of `capacity` slots. */
  private resize(capacity: number): void {
    assert(this.len <= capacity, "ring capacity too small");
    const next: string[] = [];
    for (let i = 0; i < this.len; i++) next.push(this.buf[(this.head + i) & this.mask] ?? "");
    for (let i = this.len; i < capacity; i++) next.push("");
    this.buf = next;
    this.mask = capacity - 1;
    this.head = 0;
  }
}

function capacityFor(n: number): number {
  let cap = CAPACITY_MIN;
  while (cap < n) cap *= 2;
  return cap;
}

/** A packed array of `capacity` slots starting with `items`, the rest "". */
function ringOf(items: readonly string[], capacity: number): string[] {
  assert(items.length <= capacity, "ring capacity too small");
  const out: string[] = [];
  for (let i = 0; i < items.length; i++) out.push(items[i] ?? "");
  for (let i = items.length; i < capacity; i++) out.push("");
  return out;
}
