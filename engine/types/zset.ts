// The sorted set value type. The data-types work replaces the representation;
// the methods below are the contract other modules (COPY, DUMP, digest) rely on.
export class ZSetObject {
  readonly kind = "zset" as const;
  readonly scores = new Map<string, number>();

  static fromEntries(entries: Iterable<readonly [string, number]>): ZSetObject {
    const z = new ZSetObject();
    for (const [m, s] of entries) z.scores.set(m, s);
    return z;
  }

  get length(): number {
    return this.scores.size;
  }

  /** All [member, score] pairs in rank order (score, then member bytes). */
  entries(): [string, number][] {
    return [...this.scores].sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  }

  clone(): ZSetObject {
    return ZSetObject.fromEntries(this.scores);
  }
}
