// The stream value type (issue 3 builds it). Until then no command creates one;
// the class exists so the value union and its switches are complete.
export class StreamObject {
  readonly kind = "stream" as const;

  get length(): number {
    return 0;
  }

  clone(): StreamObject {
    return new StreamObject();
  }
}
