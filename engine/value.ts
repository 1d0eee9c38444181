// The values a key can hold. A string value is stored as a latin1 JS string
// (one char per byte, binary safe, compact); collections are objects with a
// `kind` tag, one module per type under ./types.
import type { HashObject } from "./types/hash";
import type { ListObject } from "./types/list";
import type { SetObject } from "./types/set";
import type { StreamObject } from "./types/stream";
import type { ZSetObject } from "./types/zset";

export type CollectionValue = ListObject | HashObject | SetObject | ZSetObject | StreamObject;
export type Value = string | CollectionValue;
export type TypeName = "string" | CollectionValue["kind"];

export function typeOf(v: Value): TypeName {
  return typeof v === "string" ? "string" : v.kind;
}
