// Protocol-neutral replies. The RESP layer encodes them as RESP2 or RESP3;
// the engine never sees bytes on a wire.

export type Reply =
  | { readonly kind: "simple"; readonly value: string }
  | { readonly kind: "error"; readonly message: string }
  | { readonly kind: "int"; readonly value: number | bigint }
  | { readonly kind: "bulk"; readonly value: string }
  | { readonly kind: "null" }
  | { readonly kind: "nullArray" }
  | { readonly kind: "array"; readonly items: readonly Reply[] }
  // An array of bulk strings, each possibly null: the common shape (MGET, LRANGE, KEYS).
  | { readonly kind: "bulks"; readonly values: readonly (string | null)[] }
  // Flat key, value, key, value... RESP2 sends it as an array.
  | { readonly kind: "map"; readonly entries: readonly Reply[] }
  | { readonly kind: "set"; readonly items: readonly Reply[] }
  | { readonly kind: "double"; readonly value: number }
  | { readonly kind: "bool"; readonly value: boolean }
  | { readonly kind: "verbatim"; readonly format: string; readonly value: string }
  | { readonly kind: "bignum"; readonly value: string }
  | { readonly kind: "push"; readonly items: readonly Reply[] }
  // Nothing is sent (CLIENT REPLY OFF/SKIP, or a command that already answered).
  | { readonly kind: "none" };

export const OK: Reply = { kind: "simple", value: "OK" };
export const QUEUED: Reply = { kind: "simple", value: "QUEUED" };
export const PONG: Reply = { kind: "simple", value: "PONG" };
export const NULL: Reply = { kind: "null" };
export const NULL_ARRAY: Reply = { kind: "nullArray" };
export const NONE: Reply = { kind: "none" };
export const EMPTY_ARRAY: Reply = { kind: "array", items: [] };
export const EMPTY_BULKS: Reply = { kind: "bulks", values: [] };

const SMALL_INTS: Reply[] = [];
for (let i = -1; i <= 1024; i++) SMALL_INTS.push({ kind: "int", value: i });
export const ZERO: Reply = int(0);
export const ONE: Reply = int(1);

export function int(value: number | bigint): Reply {
  if (typeof value === "number" && value >= -1 && value <= 1024 && Number.isInteger(value)) {
    const r = SMALL_INTS[value + 1];
    if (r !== undefined) return r;
  }
  return { kind: "int", value };
}

export function bulk(value: string): Reply {
  return { kind: "bulk", value };
}

export function bulkOrNull(value: string | undefined | null): Reply {
  return value === undefined || value === null ? NULL : { kind: "bulk", value };
}

export function simple(value: string): Reply {
  return { kind: "simple", value };
}

/** `message` is the whole error line without the leading '-', e.g. "ERR syntax error". */
export function err(message: string): Reply {
  return { kind: "error", message };
}

export function array(items: readonly Reply[]): Reply {
  return { kind: "array", items };
}

export function bulks(values: readonly (string | null)[]): Reply {
  return { kind: "bulks", values };
}

export function map(entries: readonly Reply[]): Reply {
  return { kind: "map", entries };
}

export function double(value: number): Reply {
  return { kind: "double", value };
}

export function bool(value: boolean): Reply {
  return { kind: "bool", value };
}

export function verbatim(value: string, format = "txt"): Reply {
  return { kind: "verbatim", format, value };
}

export function isError(r: Reply): boolean {
  return r.kind === "error";
}
