// The hash value type. (Filled in by the data-types work; see issue 3.)
export class HashObject {
  readonly kind = "hash" as const;
}
