// SORT and SORT_RO (Redis's sort.c): sort a list, set or sorted set
// numerically or by bytes, by the element itself or by weights found through
// a pattern (`weight_*`, `hash_*->field`), fetch GET patterns, LIMIT, and
// STORE the result as a list. SORT ... STORE records explicit effects (DEL
// and RPUSH of the stored list), so a replica never re-evaluates patterns,
// tie orders or a set's internal order.
import { bulks, err, int, ZERO, type Reply } from "../../resp/reply";
import type { CommandSpec } from "../command";
import type { Ctx } from "../context";
import { E } from "../errors";
import { parseInt64 } from "../num";
import { HashObject } from "../types/hash";
import { ListObject } from "../types/list";
import { SetObject } from "../types/set";
import { ZSetObject } from "../types/zset";
import { strtod } from "./zset";

const ERR_SCORES = err("ERR One or more scores can't be converted into double");

/** Elements per RPUSH effect, so one stored list never makes one huge log record. */
const RPUSH_BATCH_MAX = 1024;

interface SortRequest {
  desc: boolean;
  alpha: boolean;
  limitStart: number;
  limitCount: number;
  /** BY pattern with a '*' (null: sort by the elements themselves). */
  by: string | null;
  /** A BY pattern without '*' was given: keep the native order. */
  dontSort: boolean;
  gets: string[];
  store: string | null;
}

/** A C long from an argument (int64; values past 2^53 only lose precision). */
function parseLong(s: string): number | null {
  const n = parseInt64(s);
  return n === null ? null : Number(n);
}

function parseSort(argv: readonly string[], readonly: boolean): SortRequest | Reply {
  const q: SortRequest = { desc: false, alpha: false, limitStart: 0, limitCount: -1, by: null, dontSort: false, gets: [], store: null };
  for (let j = 2; j < argv.length; j++) {
    const opt = (argv[j] ?? "").toLowerCase();
    const left = argv.length - j - 1;
    if (opt === "asc") q.desc = false;
    else if (opt === "desc") q.desc = true;
    else if (opt === "alpha") q.alpha = true;
    else if (opt === "limit" && left >= 2) {
      const start = parseLong(argv[j + 1] ?? "");
      const count = parseLong(argv[j + 2] ?? "");
      if (start === null || count === null) return E.notInteger;
      q.limitStart = start;
      q.limitCount = count;
      j += 2;
    } else if (!readonly && opt === "store" && left >= 1) {
      q.store = argv[++j] ?? "";
    } else if (opt === "by" && left >= 1) {
      const pattern = argv[++j] ?? "";
      q.by = pattern;
      // A constant pattern means "do not sort" (BY nosort), and stays so like in Redis.
      if (!pattern.includes("*")) q.dontSort = true;
    } else if (opt === "get" && left >= 1) {
      q.gets.push(argv[++j] ?? "");
    } else {
      return E.syntax;
    }
  }
  return q;
}

type Sortable = ListObject | SetObject | ZSetObject;

/**
 * lookupKeyByPattern: "#" is the element itself; otherwise the first '*'
 * becomes the element and the key's string value (or, after "->field", the
 * hash field) is returned; null when missing or of another type.
 */
function lookupByPattern(ctx: Ctx, pattern: string, element: string): string | null {
  if (pattern === "#") return element;
  const star = pattern.indexOf("*");
  if (star < 0) return null;
  const arrow = pattern.indexOf("->", star + 1);
  const hasField = arrow >= 0 && arrow + 2 < pattern.length;
  const keyEnd = hasField ? arrow : pattern.length;
  const key = pattern.slice(0, star) + element + pattern.slice(star + 1, keyEnd);
  const v = ctx.lookupRead(key);
  if (v === undefined) return null;
  if (hasField) return v instanceof HashObject ? (v.get(pattern.slice(arrow + 2)) ?? null) : null;
  return typeof v === "string" ? v : null;
}

/** The output window [start, end] over `len` elements, clamped as Redis does. */
function window(q: SortRequest, len: number): { start: number; end: number } {
  let start = Math.min(Math.max(q.limitStart, 0), len);
  const count = Math.min(Math.max(q.limitCount, -1), len);
  let end = count < 0 ? len - 1 : start + count - 1;
  if (start >= len) {
    start = len - 1;
    end = len - 2;
  }
  if (end >= len) end = len - 1;
  return { start, end };
}

/** The elements to sort; for a list or sorted set in native order only the window is loaded. */
function loadElements(v: Sortable, q: SortRequest, start: number, end: number): string[] {
  if (v instanceof SetObject) return v.ordered().slice();
  const native = q.dontSort;
  if (v instanceof ListObject) {
    if (!native) return v.toArray();
    if (end < start) return [];
    const n = end - start + 1;
    return q.desc ? v.range(v.length - start - n, n, true) : v.range(start, n);
  }
  if (!native) return v.entries().map((e) => e[0]);
  if (end < start) return [];
  const from = q.desc ? v.length - 1 - start : start;
  return v.collect(from, q.desc, end - start + 1).map((e) => e.member);
}

interface Item {
  readonly element: string;
  score: number;
  /** The BY value compared in ALPHA mode; null when the weight key is missing. */
  cmp: string | null;
}

function compareBytes(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Loads the weights; false when one cannot be read as a double. */
function weigh(ctx: Ctx, items: Item[], q: SortRequest): boolean {
  let ok = true;
  for (const it of items) {
    const by = q.by === null ? it.element : lookupByPattern(ctx, q.by, it.element);
    if (by === null) continue;
    if (q.alpha) {
      if (q.by !== null) it.cmp = by;
      continue;
    }
    const r = strtod(by, 0);
    it.score = r.value;
    if (r.end !== by.length || r.erange || Number.isNaN(r.value)) ok = false;
  }
  return ok;
}

function sortItems(items: Item[], q: SortRequest): void {
  const sign = q.desc ? -1 : 1;
  let cmp: (a: Item, b: Item) => number;
  if (!q.alpha) {
    // Equal weights fall back to the elements' bytes so the result is deterministic.
    cmp = (a, b) => (a.score > b.score ? 1 : a.score < b.score ? -1 : compareBytes(a.element, b.element));
  } else if (q.by !== null) {
    cmp = (a, b) => (a.cmp === null || b.cmp === null ? (a.cmp === b.cmp ? 0 : a.cmp === null ? -1 : 1) : compareBytes(a.cmp, b.cmp));
  } else {
    cmp = (a, b) => compareBytes(a.element, b.element);
  }
  items.sort((a, b) => sign * cmp(a, b));
}

/** The output of elements[start..end]: the elements, or their GET values (null when missing). */
function output(ctx: Ctx, elements: readonly string[], q: SortRequest, start: number, end: number): (string | null)[] {
  const out: (string | null)[] = [];
  for (let j = start; j <= end; j++) {
    const element = elements[j] ?? "";
    if (q.gets.length === 0) out.push(element);
    for (const pattern of q.gets) out.push(lookupByPattern(ctx, pattern, element));
  }
  return out;
}

function sortGeneric(ctx: Ctx, argv: string[], readonly: boolean): Reply {
  const q = parseSort(argv, readonly);
  if ("kind" in q) return q;
  const found = ctx.lookupRead(argv[1] ?? "");
  if (found !== undefined && !(found instanceof ListObject || found instanceof SetObject || found instanceof ZSetObject)) return E.wrongType;
  const v = found ?? new ListObject();
  // A set's own order is not replicated: when the result is stored, sort it by bytes.
  if (q.dontSort && v instanceof SetObject && q.store !== null) {
    q.dontSort = false;
    q.alpha = true;
    q.by = null;
  }
  let { start, end } = window(q, v.length);
  const elements = loadElements(v, q, start, end);
  if (q.dontSort && !(v instanceof SetObject)) {
    end -= start;
    start = 0;
  }
  if (!q.dontSort) {
    const items: Item[] = elements.map((element) => ({ element, score: 0, cmp: null }));
    if (!weigh(ctx, items, q)) return ERR_SCORES;
    sortItems(items, q);
    for (let i = 0; i < items.length; i++) elements[i] = items[i]?.element ?? "";
  }
  const out = output(ctx, elements, q, start, end);
  if (q.store === null) return bulks(out);
  return storeList(ctx, q.store, out);
}

/** Stores the result as a list (missing GET values as ""), or deletes `dst` when empty. */
function storeList(ctx: Ctx, dst: string, out: readonly (string | null)[]): Reply {
  const existed = ctx.db.data.has(dst);
  if (out.length === 0) {
    if (ctx.deleteKey(dst)) {
      ctx.dirty++;
      ctx.emit(["DEL", dst]);
    }
    return ZERO;
  }
  const items = out.map((x) => x ?? "");
  ctx.setKey(dst, ListObject.fromArray(items));
  ctx.dirty += items.length;
  if (existed) ctx.emit(["DEL", dst]);
  for (let i = 0; i < items.length; i += RPUSH_BATCH_MAX) ctx.emit(["RPUSH", dst, ...items.slice(i, i + RPUSH_BATCH_MAX)]);
  return int(items.length);
}

export const SORT_COMMANDS: readonly CommandSpec[] = [
  {
    name: "sort",
    arity: -2,
    flags: ["write", "denyoom"],
    keys: [1, 1, 1],
    getKeys: sortKeyIndexes,
    effects: "explicit",
    group: "generic",
    since: "1.0.0",
    run: (ctx, argv) => sortGeneric(ctx, argv, false),
  },
  { name: "sort_ro", arity: -2, flags: ["readonly"], keys: [1, 1, 1], group: "generic", since: "7.0.0", run: (ctx, argv) => sortGeneric(ctx, argv, true) },
];

/**
 * Redis's sortGetKeys: the sorted key and the last STORE destination
 * (COMMAND GETKEYS, ACL and cluster key checks need the movable STORE key).
 */
export function sortKeyIndexes(argv: readonly string[]): number[] {
  let store = -1;
  for (let i = 2; i < argv.length; i++) {
    const opt = (argv[i] ?? "").toLowerCase();
    if (opt === "limit") i += 2;
    else if (opt === "get" || opt === "by") i += 1;
    else if (opt === "store" && i + 1 < argv.length) store = i + 1;
  }
  return store < 0 ? [1] : [1, store];
}
