// List commands (Redis's t_list.c), non-blocking ones. The pop and move logic
// is exported (popElements, listMove, ...) so the blocking variants can serve
// a woken client with exactly the same steps.
import { array, bulk, bulks, EMPTY_BULKS, int, NULL, NULL_ARRAY, OK, ZERO, type Reply } from "../../resp/reply";
import { numkeysKeys, type CommandSpec } from "../command";
import type { Ctx } from "../context";
import { E } from "../errors";
import { parseInt64 } from "../num";
import { ListObject } from "../types/list";

const MUST_BE_POSITIVE = "value is out of range, must be positive";

/** The list at `key` for a write: the list, undefined when missing, or WRONGTYPE. */
export function listForWrite(ctx: Ctx, key: string): ListObject | undefined | Reply {
  const v = ctx.lookupWrite(key);
  if (v === undefined) return undefined;
  if (typeof v === "string" || v.kind !== "list") return E.wrongType;
  return v;
}

function listForRead(ctx: Ctx, key: string): ListObject | undefined | Reply {
  const v = ctx.lookupRead(key);
  if (v === undefined) return undefined;
  if (typeof v === "string" || v.kind !== "list") return E.wrongType;
  return v;
}

function isReply(x: ListObject | Reply | undefined): x is Reply {
  return x !== undefined && !(x instanceof ListObject);
}

/**
 * Redis's getLongFromObjectOrReply: an int64 as a number (values beyond 2^53
 * are clamped, which no list length can tell apart), or the error reply.
 */
export function parseLong(s: string, message?: string): number | Reply {
  const v = parseInt64(s);
  if (v === null) return message === undefined ? E.notInteger : E.generic(message);
  if (typeof v === "number") return v;
  return v > 0n ? Number.MAX_SAFE_INTEGER : -Number.MAX_SAFE_INTEGER;
}

/** Redis's getRangeLongFromObjectOrReply with an error text for both failures. */
function parseLongAtLeast(s: string, min: number, message: string): number | Reply {
  const v = parseLong(s, message);
  if (typeof v === "number" && v < min) return E.generic(message);
  return v;
}

/** LEFT | RIGHT: true for the head. */
function parseSide(s: string): boolean | null {
  const l = s.toLowerCase();
  if (l === "left") return true;
  if (l === "right") return false;
  return null;
}

/** Deletes the key of a list that became empty, else signals its change. */
function afterRemove(ctx: Ctx, key: string, list: ListObject): void {
  if (list.length === 0) ctx.deleteKey(key);
  else ctx.touch(key);
}

/** Pushes `values` at one end of `key`'s list, creating it; the caller checked the type. */
export function pushElements(ctx: Ctx, key: string, existing: ListObject | undefined, values: readonly string[], first: number, head: boolean): ListObject {
  const list = existing ?? new ListObject();
  if (head) for (let i = first; i < values.length; i++) list.pushHead(values[i] ?? "");
  else for (let i = first; i < values.length; i++) list.pushTail(values[i] ?? "");
  ctx.dirty += values.length - first;
  if (existing === undefined) ctx.setKey(key, list);
  else ctx.touch(key);
  return list;
}

function pushGeneric(ctx: Ctx, argv: string[], head: boolean, onlyIfExists: boolean): Reply {
  const key = argv[1] ?? "";
  const list = listForWrite(ctx, key);
  if (isReply(list)) return list;
  if (list === undefined && onlyIfExists) return ZERO;
  return int(pushElements(ctx, key, list, argv, 2, head).length);
}

/**
 * Pops up to `count` elements from one end of a non-empty list, in pop order,
 * deleting the key when it empties. The building block of [B]LPOP, [B]LMPOP.
 */
export function popElements(ctx: Ctx, key: string, list: ListObject, head: boolean, count: number): string[] {
  const n = Math.min(count, list.length);
  const out = head ? list.range(0, n) : list.range(list.length - n, n, true);
  if (head) list.trim(n, 0);
  else list.trim(0, n);
  ctx.dirty += n;
  afterRemove(ctx, key, list);
  return out;
}

/** Pops one element from a non-empty list. */
export function popOne(ctx: Ctx, key: string, list: ListObject, head: boolean): string {
  const v = (head ? list.popHead() : list.popTail()) ?? "";
  ctx.dirty++;
  afterRemove(ctx, key, list);
  return v;
}

function popGeneric(ctx: Ctx, argv: string[], head: boolean): Reply {
  if (argv.length > 3) return E.wrongArity(head ? "lpop" : "rpop");
  const key = argv[1] ?? "";
  let count = -1;
  if (argv.length === 3) {
    const c = parseLongAtLeast(argv[2] ?? "", 0, MUST_BE_POSITIVE);
    if (typeof c !== "number") return c;
    count = c;
  }
  const list = listForWrite(ctx, key);
  if (isReply(list)) return list;
  if (list === undefined) return count === -1 ? NULL : NULL_ARRAY;
  if (count === -1) return bulk(popOne(ctx, key, list, head));
  if (count === 0) return EMPTY_BULKS;
  return bulks(popElements(ctx, key, list, head, count));
}

/**
 * Parsed LMPOP / BLMPOP arguments after the numkeys position: the keys, the
 * side, the count.
 */
export interface MpopArgs {
  readonly keys: string[];
  readonly head: boolean;
  readonly count: number;
}

/** Parses `numkeys key... LEFT|RIGHT [COUNT n]` starting at argv[numkeysIndex]. */
export function parseMpopArgs(argv: readonly string[], numkeysIndex: number): MpopArgs | Reply {
  const numkeys = parseLongAtLeast(argv[numkeysIndex] ?? "", 1, "numkeys should be greater than 0");
  if (typeof numkeys !== "number") return numkeys;
  const whereIndex = numkeysIndex + numkeys + 1;
  if (whereIndex >= argv.length) return E.syntax;
  const head = parseSide(argv[whereIndex] ?? "");
  if (head === null) return E.syntax;
  let count = -1;
  for (let j = whereIndex + 1; j < argv.length; j++) {
    const more = j < argv.length - 1;
    if (count === -1 && more && (argv[j] ?? "").toLowerCase() === "count") {
      const c = parseLongAtLeast(argv[++j] ?? "", 1, "count should be greater than 0");
      if (typeof c !== "number") return c;
      count = c;
    } else {
      return E.syntax;
    }
  }
  return { keys: argv.slice(numkeysIndex + 1, whereIndex), head, count: count === -1 ? 1 : count };
}

/**
 * Pops from the first non-empty list among `keys`: [key, elements], null when
 * all are missing, or WRONGTYPE. Emits `LPOP|RPOP key count` (what was popped).
 */
export function mpop(ctx: Ctx, a: MpopArgs): Reply {
  for (const key of a.keys) {
    const list = listForWrite(ctx, key);
    if (isReply(list)) return list;
    if (list === undefined || list.length === 0) continue;
    const popped = popElements(ctx, key, list, a.head, a.count);
    ctx.emit([a.head ? "LPOP" : "RPOP", key, String(popped.length)]);
    return array([bulk(key), bulks(popped)]);
  }
  return NULL_ARRAY;
}

function lmpop(ctx: Ctx, argv: string[]): Reply {
  const a = parseMpopArgs(argv, 1);
  if (!("keys" in a)) return a;
  return mpop(ctx, a);
}

function llen(ctx: Ctx, argv: string[]): Reply {
  const list = listForRead(ctx, argv[1] ?? "");
  if (isReply(list)) return list;
  return list === undefined ? ZERO : int(list.length);
}

function lindex(ctx: Ctx, argv: string[]): Reply {
  const list = listForRead(ctx, argv[1] ?? "");
  if (isReply(list)) return list;
  if (list === undefined) return NULL;
  const index = parseLong(argv[2] ?? "");
  if (typeof index !== "number") return index;
  const v = list.at(index < 0 ? list.length + index : index);
  return v === undefined ? NULL : bulk(v);
}

function lset(ctx: Ctx, argv: string[]): Reply {
  const key = argv[1] ?? "";
  const list = listForWrite(ctx, key);
  if (isReply(list)) return list;
  if (list === undefined) return E.noSuchKey;
  const index = parseLong(argv[2] ?? "");
  if (typeof index !== "number") return index;
  const i = index < 0 ? list.length + index : index;
  if (i < 0 || i >= list.length) return E.generic("index out of range");
  list.set(i, argv[3] ?? "");
  ctx.dirty++;
  ctx.touch(key);
  return OK;
}

/** Redis's range clamp for LRANGE/LTRIM: [start, count] within the list, count 0 when empty. */
function clampRange(start: number, end: number, len: number): [number, number] {
  let s = start < 0 ? len + start : start;
  const e = end < 0 ? len + end : end;
  if (s < 0) s = 0;
  if (s > e || s >= len) return [0, 0];
  return [s, Math.min(e, len - 1) - s + 1];
}

function lrange(ctx: Ctx, argv: string[]): Reply {
  const start = parseLong(argv[2] ?? "");
  if (typeof start !== "number") return start;
  const end = parseLong(argv[3] ?? "");
  if (typeof end !== "number") return end;
  const list = listForRead(ctx, argv[1] ?? "");
  if (isReply(list)) return list;
  if (list === undefined) return EMPTY_BULKS;
  const [s, n] = clampRange(start, end, list.length);
  return n === 0 ? EMPTY_BULKS : bulks(list.range(s, n));
}

function ltrim(ctx: Ctx, argv: string[]): Reply {
  const start = parseLong(argv[2] ?? "");
  if (typeof start !== "number") return start;
  const end = parseLong(argv[3] ?? "");
  if (typeof end !== "number") return end;
  const key = argv[1] ?? "";
  const list = listForWrite(ctx, key);
  if (isReply(list)) return list;
  if (list === undefined) return OK;
  const len = list.length;
  const [s, n] = clampRange(start, end, len);
  const fromHead = n === 0 ? len : s;
  const fromTail = n === 0 ? 0 : len - s - n;
  list.trim(fromHead, fromTail);
  ctx.dirty += fromHead + fromTail;
  afterRemove(ctx, key, list);
  return OK;
}

function lrem(ctx: Ctx, argv: string[]): Reply {
  const count = parseLong(argv[2] ?? "");
  if (typeof count !== "number") return count;
  const key = argv[1] ?? "";
  const list = listForWrite(ctx, key);
  if (isReply(list)) return list;
  if (list === undefined) return ZERO;
  const removed = list.removeValue(argv[3] ?? "", Math.abs(count), count < 0);
  if (removed > 0) {
    ctx.dirty += removed;
    afterRemove(ctx, key, list);
  }
  return int(removed);
}

function linsert(ctx: Ctx, argv: string[]): Reply {
  const where = (argv[2] ?? "").toLowerCase();
  if (where !== "before" && where !== "after") return E.syntax;
  const key = argv[1] ?? "";
  const list = listForWrite(ctx, key);
  if (isReply(list)) return list;
  if (list === undefined) return ZERO;
  const pivot = list.indexOf(argv[3] ?? "");
  if (pivot < 0) return int(-1);
  list.insertAt(where === "after" ? pivot + 1 : pivot, argv[4] ?? "");
  ctx.dirty++;
  ctx.touch(key);
  return int(list.length);
}

interface LposOptions {
  rank: number;
  /** -1 when COUNT was not given (single reply), 0 = all matches. */
  count: number;
  maxlen: number;
}

function parseLposOptions(argv: readonly string[]): LposOptions | Reply {
  const o: LposOptions = { rank: 1, count: -1, maxlen: 0 };
  for (let j = 3; j < argv.length; j++) {
    const opt = (argv[j] ?? "").toLowerCase();
    const more = j < argv.length - 1;
    if (opt === "rank" && more) {
      const r = parseLong(argv[++j] ?? "");
      if (typeof r !== "number") return r;
      if (r === 0) {
        return E.generic("RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list");
      }
      o.rank = r;
    } else if (opt === "count" && more) {
      const c = parseLongAtLeast(argv[++j] ?? "", 0, "COUNT can't be negative");
      if (typeof c !== "number") return c;
      o.count = c;
    } else if (opt === "maxlen" && more) {
      const m = parseLongAtLeast(argv[++j] ?? "", 0, "MAXLEN can't be negative");
      if (typeof m !== "number") return m;
      o.maxlen = m;
    } else {
      return E.syntax;
    }
  }
  return o;
}

/** Indexes of matches of `ele` per LPOS's RANK/COUNT/MAXLEN rules (at most one without COUNT). */
function lposMatches(list: ListObject, ele: string, o: LposOptions): number[] {
  const fromTail = o.rank < 0;
  const rank = Math.abs(o.rank);
  const len = list.length;
  const limit = o.maxlen === 0 ? len : Math.min(len, o.maxlen);
  const out: number[] = [];
  let matches = 0;
  for (let k = 0; k < limit; k++) {
    const i = fromTail ? len - 1 - k : k;
    if (list.at(i) !== ele) continue;
    matches++;
    if (matches < rank) continue;
    out.push(i);
    if (o.count === -1 || (o.count > 0 && out.length >= o.count)) break;
  }
  return out;
}

function lpos(ctx: Ctx, argv: string[]): Reply {
  const o = parseLposOptions(argv);
  if (!("rank" in o)) return o;
  const list = listForRead(ctx, argv[1] ?? "");
  if (isReply(list)) return list;
  if (list === undefined) return o.count === -1 ? NULL : EMPTY_BULKS;
  const found = lposMatches(list, argv[2] ?? "", o);
  if (o.count !== -1) return array(found.map((i) => int(i)));
  const first = found[0];
  return first === undefined ? NULL : int(first);
}

/**
 * Moves one element from the non-empty list `src` to `dstKey` (LMOVE and
 * BLMOVE): the element, or WRONGTYPE (nothing moved) when `dstKey` holds
 * another type. Pop, then push, then delete the emptied source, so a list
 * rotated onto itself survives.
 */
export function listMove(ctx: Ctx, srcKey: string, src: ListObject, dstKey: string, fromHead: boolean, toHead: boolean): string | Reply {
  const dst = listForWrite(ctx, dstKey);
  if (isReply(dst)) return dst;
  const v = (fromHead ? src.popHead() : src.popTail()) ?? "";
  pushElements(ctx, dstKey, dst, [v], 0, toHead);
  afterRemove(ctx, srcKey, src);
  return v;
}

function moveGeneric(ctx: Ctx, argv: string[], fromHead: boolean, toHead: boolean): Reply {
  const srcKey = argv[1] ?? "";
  const src = listForWrite(ctx, srcKey);
  if (isReply(src)) return src;
  if (src === undefined || src.length === 0) return NULL;
  const v = listMove(ctx, srcKey, src, argv[2] ?? "", fromHead, toHead);
  return typeof v === "string" ? bulk(v) : v;
}

function lmove(ctx: Ctx, argv: string[]): Reply {
  const from = parseSide(argv[3] ?? "");
  const to = parseSide(argv[4] ?? "");
  if (from === null || to === null) return E.syntax;
  return moveGeneric(ctx, argv, from, to);
}

const W_FAST: CommandSpec["flags"] = ["write", "denyoom", "fast"];

export const LIST_COMMANDS: readonly CommandSpec[] = [
  { name: "lpush", arity: -3, flags: W_FAST, keys: [1, 1, 1], group: "list", run: (c, a) => pushGeneric(c, a, true, false) },
  { name: "rpush", arity: -3, flags: W_FAST, keys: [1, 1, 1], group: "list", run: (c, a) => pushGeneric(c, a, false, false) },
  { name: "lpushx", arity: -3, flags: W_FAST, keys: [1, 1, 1], group: "list", run: (c, a) => pushGeneric(c, a, true, true) },
  { name: "rpushx", arity: -3, flags: W_FAST, keys: [1, 1, 1], group: "list", run: (c, a) => pushGeneric(c, a, false, true) },
  { name: "lpop", arity: -2, flags: ["write", "fast"], keys: [1, 1, 1], group: "list", run: (c, a) => popGeneric(c, a, true) },
  { name: "rpop", arity: -2, flags: ["write", "fast"], keys: [1, 1, 1], group: "list", run: (c, a) => popGeneric(c, a, false) },
  // Keys are movable (numkeys); the static spec cannot express them.
  { name: "lmpop", arity: -4, flags: ["write"], keys: [0, 0, 0], getKeys: numkeysKeys(1), effects: "explicit", group: "list", run: lmpop },
  { name: "llen", arity: 2, flags: ["readonly", "fast"], keys: [1, 1, 1], group: "list", run: llen },
  { name: "lindex", arity: 3, flags: ["readonly"], keys: [1, 1, 1], group: "list", run: lindex },
  { name: "lset", arity: 4, flags: ["write", "denyoom"], keys: [1, 1, 1], group: "list", run: lset },
  { name: "lrange", arity: 4, flags: ["readonly"], keys: [1, 1, 1], group: "list", run: lrange },
  { name: "ltrim", arity: 4, flags: ["write"], keys: [1, 1, 1], group: "list", run: ltrim },
  { name: "lrem", arity: 4, flags: ["write"], keys: [1, 1, 1], group: "list", run: lrem },
  { name: "linsert", arity: 5, flags: ["write", "denyoom"], keys: [1, 1, 1], group: "list", run: linsert },
  { name: "lpos", arity: -3, flags: ["readonly"], keys: [1, 1, 1], group: "list", run: lpos },
  { name: "lmove", arity: 5, flags: ["write", "denyoom"], keys: [1, 2, 1], group: "list", run: lmove },
  { name: "rpoplpush", arity: 3, flags: ["write", "denyoom"], keys: [1, 2, 1], group: "list", run: (c, a) => moveGeneric(c, a, false, true) },
];
