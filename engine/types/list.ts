// The list value type. (Filled in by the data-types work; see issue 3.)
export class ListObject {
  readonly kind = "list" as const;
}
