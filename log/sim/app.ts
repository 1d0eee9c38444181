// The simulated replicated state machine: it folds every applied entry into a
// running hash (and a count), which is all the checkers need to tell whether
// two nodes applied the same sequence. Its snapshot is that state as bytes.
import { assert, AssertionError } from "../raft/assert";
import { decodeWith, Writer } from "../raft/codec";
import type { Entry } from "../raft/types";

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

export function fnv32(data: Uint8Array, seed = FNV_OFFSET): number {
  let h = seed;
  for (let i = 0; i < data.length; i++) h = Math.imul(h ^ (data[i] as number), FNV_PRIME);
  return h >>> 0;
}

/** A 64-bit digest of strings (two FNV lanes), for run digests. */
export function fnv64(parts: readonly string[]): string {
  let a = FNV_OFFSET;
  let b = FNV_OFFSET ^ 0x5bd1e995;
  for (const p of parts) {
    for (let i = 0; i < p.length; i++) {
      const c = p.charCodeAt(i);
      a = Math.imul(a ^ (c & 0xff), FNV_PRIME);
      b = Math.imul(b ^ (c >>> 8) ^ (c & 0xff), FNV_PRIME + 0x100);
    }
    a = Math.imul(a ^ 0x1f, FNV_PRIME);
  }
  return (a >>> 0).toString(16).padStart(8, "0") + (b >>> 0).toString(16).padStart(8, "0");
}

/** Identifies an entry by term, kind, size and payload hash. */
export function entryDigest(e: Entry): string {
  return `${e.term}/${e.kind}/${e.data.length}/${fnv32(e.data)}`;
}

export class SimApp {
  index = 0;
  /** Two 32-bit lanes of a hash chain over every applied entry. */
  private a = FNV_OFFSET;
  private b = 0x9747b28c;
  /** Normal (non-noop) entries applied. */
  count = 0;

  apply(e: Entry): void {
    if (e.index !== this.index + 1) throw new AssertionError(`applied ${e.index} after ${this.index}`);
    this.index = e.index;
    const tag = e.kind === "normal" ? 1 : 2;
    this.a = fnv32(e.data, Math.imul(this.a ^ tag, FNV_PRIME));
    this.b = fnv32(e.data, Math.imul(this.b ^ this.a ^ tag, FNV_PRIME));
    if (e.kind === "normal") this.count++;
  }

  /** The state as one number (53 bits of the two lanes), cheap to compare. */
  hash(): number {
    return this.a * 0x200000 + (this.b >>> 11);
  }

  encode(): Buffer {
    const w = new Writer(40);
    w.uint(this.index);
    w.u32(this.a);
    w.u32(this.b);
    w.uint(this.count);
    return w.finish();
  }

  static decode(data: Uint8Array): SimApp {
    const app = new SimApp();
    if (data.length === 0) return app;
    const d = decodeWith(data, (r) => ({ index: r.uint(), a: r.u32(), b: r.u32(), count: r.uint() }));
    assert(d.ok, "snapshot data does not parse");
    app.index = d.value.index;
    app.a = d.value.a;
    app.b = d.value.b;
    app.count = d.value.count;
    return app;
  }
}
