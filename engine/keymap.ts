// A hash table from string keys to values, for a database's keyspace.
//
// A JS Map would do, and did, but on a large keyspace its lookups are slow:
// V8 chains two entries per bucket on average and compares each entry's key
// string, so a lookup of a key not in the cache costs four to five dependent
// memory reads. Measured here (Node 20, 100,000 keys of 16 bytes, lookups by
// freshly decoded strings): about 1.2-1.4 µs per Map.get against 0.6-0.7 µs
// for this table, and 2.2 against 0.9 µs with 1,000,000 keys. On the server
// that was a third of the CPU of GET with 100,000 random keys.
//
// Layout: entries sit in insertion order in one array, key and value side by
// side (`kv`). An open-addressing index (linear probing) holds, per slot, the
// key's 32-bit hash and its entry's position, in one Int32Array: a lookup
// reads one index slot, then compares the key string only when the full hash
// matches, then finds the value next to the key.
//
// Semantics follow Map's, including iteration: entries come in insertion
// order, an entry deleted before the iterator reaches it is not visited, and
// entries added during iteration are. A deleted entry leaves a hole in `kv`;
// holes are squeezed out when they outnumber the live entries. Iterators
// created before such a compaction find their place in the new array (the
// old array is kept, frozen, for as long as an iterator holds it).
//
// The hash is seeded per process (keys chosen to collide cannot be computed
// from outside); nothing depends on it but the index, so the order of
// iteration, replies and snapshots is the same on every node.
import { randomBytes } from "node:crypto";

const SEED = randomBytes(4).readInt32LE(0);
/** Index slot states: a hash is always odd, so these never clash with one. */
const SLOT_EMPTY = 0;
const SLOT_DELETED = 2;
/**
 * The index is rebuilt when live + deleted slots would pass 4/5 of it, to at
 * least twice the live keys: between 0.4 and 0.8 full, 10-20 bytes per key.
 */
const LOAD_NUM = 4;
const LOAD_DEN = 5;
const INDEX_SLOTS_MIN = 8;
/** Holes tolerated in `kv` beyond the number of live entries before compaction. */
const HOLES_SLACK = 64;

/** Marks a deleted entry's key position in `kv`. */
const HOLE: unique symbol = Symbol("hole");
type Slot<V> = string | V | typeof HOLE | undefined;

/** Each compacted entry array -> the array that replaced it (for iterators still walking the old one). */
const successor = new WeakMap<unknown[], unknown[]>();
/** Entry arrays abandoned by clear(): an iterator on one continues at the start of its successor. */
const cleared = new WeakSet<unknown[]>();

function hashKey(key: string): number {
  let h = SEED ^ key.length;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x45d9f3b);
  h ^= h >>> 16;
  return h | 1;
}

function indexSlotsFor(live: number): number {
  let n = INDEX_SLOTS_MIN;
  while (n < (live + 1) * 2) n *= 2;
  return n;
}

export class KeyMap<V> implements Iterable<[string, V]> {
  /** [key0, value0, key1, value1, ...] in insertion order; HOLE marks a deleted key. */
  private kv: Slot<V>[] = [];
  /** Per slot: hash (or SLOT_EMPTY / SLOT_DELETED), then the entry's position in kv (even). */
  private index: Int32Array = new Int32Array(INDEX_SLOTS_MIN * 2);
  private mask = INDEX_SLOTS_MIN - 1;
  private live = 0;
  /** Slots of the index that hold a key or a deletion mark. */
  private used = 0;
  /**
   * The key last found and its entry's position in kv: a key used over and
   * over (a counter, a queue) skips hashing. Reset by delete, rebuild, clear.
   */
  private lastKey: string | null = null;
  private lastEntry = 0;

  get size(): number {
    return this.live;
  }

  /** The index slot holding `key`, or -1. */
  private find(key: string, h: number): number {
    const index = this.index;
    const kv = this.kv;
    const mask = this.mask;
    let i = h & mask;
    for (;;) {
      const sh = index[2 * i] as number;
      if (sh === SLOT_EMPTY) return -1;
      if (sh === h && kv[index[2 * i + 1] as number] === key) return i;
      i = (i + 1) & mask;
    }
  }

  get(key: string): V | undefined {
    if (key === this.lastKey) return this.kv[this.lastEntry + 1] as V;
    const i = this.find(key, hashKey(key));
    if (i < 0) return undefined;
    const e = this.index[2 * i + 1] as number;
    this.lastKey = key;
    this.lastEntry = e;
    return this.kv[e + 1] as V;
  }

  has(key: string): boolean {
    return key === this.lastKey || this.find(key, hashKey(key)) >= 0;
  }

  set(key: string, value: V): this {
    if (key === this.lastKey) {
      this.kv[this.lastEntry + 1] = value;
      return this;
    }
    const h = hashKey(key);
    const index = this.index;
    const kv = this.kv;
    const mask = this.mask;
    let i = h & mask;
    let free = -1;
    for (;;) {
      const sh = index[2 * i] as number;
      if (sh === SLOT_EMPTY) break;
      if (sh === SLOT_DELETED) {
        if (free < 0) free = i;
      } else if (sh === h) {
        const e = index[2 * i + 1] as number;
        if (kv[e] === key) {
          kv[e + 1] = value;
          this.lastKey = key;
          this.lastEntry = e;
          return this;
        }
      }
      i = (i + 1) & mask;
    }
    if (free < 0) {
      if ((this.used + 1) * LOAD_DEN > (mask + 1) * LOAD_NUM) {
        this.rebuild(this.live + 1);
        return this.set(key, value);
      }
      free = i;
      this.used++;
    }
    index[2 * free] = h;
    index[2 * free + 1] = kv.length;
    this.lastKey = key;
    this.lastEntry = kv.length;
    kv.push(key, value);
    this.live++;
    return this;
  }

  delete(key: string): boolean {
    const i = this.find(key, hashKey(key));
    if (i < 0) return false;
    const e = this.index[2 * i + 1] as number;
    this.lastKey = null;
    this.index[2 * i] = SLOT_DELETED;
    this.kv[e] = HOLE;
    this.kv[e + 1] = undefined;
    this.live--;
    const holes = this.kv.length / 2 - this.live;
    if (holes > this.live + HOLES_SLACK) this.rebuild(this.live);
    return true;
  }

  clear(): void {
    this.lastKey = null;
    if (this.kv.length > 0) {
      const fresh: Slot<V>[] = [];
      cleared.add(this.kv);
      successor.set(this.kv, fresh);
      this.kv = fresh;
    }
    this.index = new Int32Array(INDEX_SLOTS_MIN * 2);
    this.mask = INDEX_SLOTS_MIN - 1;
    this.live = 0;
    this.used = 0;
  }

  /** Squeezes out the holes, if there are some, and rebuilds the index for `expected` live entries. */
  private rebuild(expected: number): void {
    this.lastKey = null;
    let kv = this.kv;
    if (kv.length !== this.live * 2) {
      const packed: Slot<V>[] = new Array<Slot<V>>(this.live * 2);
      let j = 0;
      for (let e = 0; e < kv.length; e += 2) {
        if (kv[e] === HOLE) continue;
        packed[j] = kv[e];
        packed[j + 1] = kv[e + 1];
        j += 2;
      }
      successor.set(kv, packed);
      kv = packed;
      this.kv = kv;
    }
    const slots = indexSlotsFor(expected);
    const index = new Int32Array(slots * 2);
    const mask = slots - 1;
    for (let e = 0; e < kv.length; e += 2) {
      const h = hashKey(kv[e] as string);
      let i = h & mask;
      while (index[2 * i] !== SLOT_EMPTY) i = (i + 1) & mask;
      index[2 * i] = h;
      index[2 * i + 1] = e;
    }
    this.index = index;
    this.mask = mask;
    this.used = this.live;
  }

  /**
   * Yields the position in kv of each live entry, in insertion order, as
   * Map's iterators would: entries deleted before they are reached are
   * skipped, entries added meanwhile are reached, and a compaction or clear
   * in between is followed into the array that replaced the old one.
   */
  private *walk(): Generator<number, void, undefined> {
    let arr: unknown[] = this.kv;
    let pos = 0;
    for (;;) {
      // The array was replaced (compaction or clear) since the last step: find
      // the same place in its successor: the live entries before `pos` moved
      // to the front, in order.
      while (arr !== this.kv) {
        const next = successor.get(arr);
        if (next === undefined) return;
        if (cleared.has(arr)) pos = 0;
        else {
          let liveBefore = 0;
          for (let e = 0; e < pos; e += 2) if (arr[e] !== HOLE) liveBefore++;
          pos = liveBefore * 2;
        }
        arr = next;
      }
      if (pos >= arr.length) return;
      if (arr[pos] !== HOLE) yield pos;
      pos += 2;
    }
  }

  *entries(): IterableIterator<[string, V]> {
    for (const e of this.walk()) yield [this.kv[e] as string, this.kv[e + 1] as V];
  }

  *keys(): IterableIterator<string> {
    for (const e of this.walk()) yield this.kv[e] as string;
  }

  *values(): IterableIterator<V> {
    for (const e of this.walk()) yield this.kv[e + 1] as V;
  }

  [Symbol.iterator](): IterableIterator<[string, V]> {
    return this.entries();
  }

  forEach(fn: (value: V, key: string, map: KeyMap<V>) => void): void {
    for (const e of this.walk()) fn(this.kv[e + 1] as V, this.kv[e] as string, this);
  }
}
