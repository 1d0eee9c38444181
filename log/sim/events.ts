// The virtual clock's agenda: a binary heap of events ordered by time, then
// by scheduling order, so equal times resolve the same way in every run.
import { assert, AssertionError } from "../raft/assert";

interface Slot<T> {
  readonly atUs: number;
  readonly seq: number;
  readonly event: T;
}

export class Agenda<T> {
  private readonly heap: Slot<T>[] = [];
  private seq = 0;
  nowUs = 0;

  constructor(private readonly eventsMax: number) {}

  size(): number {
    return this.heap.length;
  }

  schedule(atUs: number, event: T): void {
    if (!(atUs >= this.nowUs)) throw new AssertionError(`event scheduled in the past (${atUs} < ${this.nowUs})`);
    if (!(this.heap.length < this.eventsMax)) throw new AssertionError(`agenda over its limit of ${this.eventsMax} events`);
    const h = this.heap;
    h.push({ atUs: Math.round(atUs), seq: this.seq++, event });
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(h[i] as Slot<T>, h[p] as Slot<T>)) break;
      [h[i], h[p]] = [h[p] as Slot<T>, h[i] as Slot<T>];
      i = p;
    }
  }

  /** Removes the earliest event and moves the clock to it. */
  pop(): T | null {
    const h = this.heap;
    const top = h[0];
    if (top === undefined) return null;
    const last = h.pop() as Slot<T>;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && before(h[l] as Slot<T>, h[m] as Slot<T>)) m = l;
        if (r < h.length && before(h[r] as Slot<T>, h[m] as Slot<T>)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m] as Slot<T>, h[i] as Slot<T>];
        i = m;
      }
    }
    this.nowUs = top.atUs;
    return top.event;
  }
}

function before<T>(a: Slot<T>, b: Slot<T>): boolean {
  return a.atUs < b.atUs || (a.atUs === b.atUs && a.seq < b.seq);
}
