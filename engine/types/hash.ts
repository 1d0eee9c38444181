// The hash value type. The data-types work replaces the representation; the
// methods below are the contract other modules (COPY, DUMP, digest) rely on.
export class HashObject {
  readonly kind = "hash" as const;
  readonly map = new Map<string, string>();

  static fromEntries(entries: Iterable<readonly [string, string]>): HashObject {
    const h = new HashObject();
    for (const [f, v] of entries) h.map.set(f, v);
    return h;
  }

  get length(): number {
    return this.map.size;
  }

  /** All field/value pairs (a copy), in the hash's iteration order. */
  entries(): [string, string][] {
    return [...this.map];
  }

  clone(): HashObject {
    return HashObject.fromEntries(this.map);
  }
}
