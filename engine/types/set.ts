// The set value type. The data-types work replaces the representation; the
// methods below are the contract other modules (COPY, DUMP, digest) rely on.
export class SetObject {
  readonly kind = "set" as const;
  readonly members = new Set<string>();

  static fromMembers(members: Iterable<string>): SetObject {
    const s = new SetObject();
    for (const m of members) s.members.add(m);
    return s;
  }

  get length(): number {
    return this.members.size;
  }

  /** All members (a copy), in the set's iteration order. */
  toArray(): string[] {
    return [...this.members];
  }

  clone(): SetObject {
    return SetObject.fromMembers(this.members);
  }
}
