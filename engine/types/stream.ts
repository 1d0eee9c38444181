// The stream value type. (Filled in by the data-types work; see issue 3.)
export class StreamObject {
  readonly kind = "stream" as const;
}
