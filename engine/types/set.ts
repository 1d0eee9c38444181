// The set value type. (Filled in by the data-types work; see issue 3.)
export class SetObject {
  readonly kind = "set" as const;
}
