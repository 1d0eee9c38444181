// The zset value type. (Filled in by the data-types work; see issue 3.)
export class ZSetObject {
  readonly kind = "zset" as const;
}
