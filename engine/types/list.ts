// The list value type. The data-types work replaces the representation; the
// methods below are the contract other modules (COPY, DUMP, digest) rely on.
export class ListObject {
  readonly kind = "list" as const;
  private items: string[];

  constructor(items: string[] = []) {
    this.items = items;
  }

  static fromArray(items: readonly string[]): ListObject {
    return new ListObject(items.slice());
  }

  get length(): number {
    return this.items.length;
  }

  /** All elements, head to tail (a copy). */
  toArray(): string[] {
    return this.items.slice();
  }

  clone(): ListObject {
    return ListObject.fromArray(this.items);
  }
}
