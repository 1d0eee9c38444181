// Set commands (Redis's t_set.c). Writes are verbatim effects except SPOP,
// which is replicated as `SREM key <chosen members>` (or `DEL key` when it
// takes the whole set) so replicas never make a random choice.
import { array, bulk, bulks, EMPTY_ARRAY, err, int, NULL, ONE, ZERO, type Reply } from "../../resp/reply";
import { numkeysKeys, type CommandSpec } from "../command";
import type { Config } from "../config";
import type { Ctx } from "../context";
import { E } from "../errors";
import { globMatch } from "../glob";
import { parseInt64 } from "../num";
import { SetObject } from "../types/set";

const K1: readonly [number, number, number] = [1, 1, 1];
const KALL: readonly [number, number, number] = [1, -1, 1];

/** Replies with more random members than this are refused (Redis would try and run out of memory). */
export const RANDOM_REPLY_MAX = 10_000_000;
/** Redis's LONG_MAX, the bound of counts it parses as a C long. */
const LONG_MAX = 9223372036854775807n;

export const ERR_MUST_BE_POSITIVE = err("ERR value is out of range, must be positive");
export const ERR_COUNT_RANGE = err("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807");
export const ERR_TOO_MANY_RANDOM = err(`ERR value is out of range, at most ${RANDOM_REPLY_MAX} random members per call`);
export const ERR_INVALID_CURSOR = err("ERR invalid cursor");
const ERR_NUMKEYS = err("ERR numkeys should be greater than 0");
const ERR_NUMKEYS_ARGS = err("ERR Number of keys can't be greater than number of args");
const ERR_LIMIT = err("ERR LIMIT can't be negative");

/** The set at `key`: the set, null when missing, or WRONGTYPE. */
export function setAt(ctx: Ctx, key: string, write: boolean): SetObject | null | Reply {
  const v = write ? ctx.lookupWrite(key) : ctx.lookupRead(key);
  if (v === undefined) return null;
  return v instanceof SetObject ? v : E.wrongType;
}

function isReply(x: SetObject | Reply | null): x is Reply {
  return x !== null && !(x instanceof SetObject);
}

/** set-max-intset-entries, cached per config and refreshed by CONFIG SET. */
const intsetMaxByConfig = new WeakMap<Config, { value: number }>();

export function intsetEntriesMax(ctx: Ctx): number {
  const config = ctx.engine.config;
  let c = intsetMaxByConfig.get(config);
  if (c === undefined) {
    const fresh = { value: config.getInt("set-max-intset-entries") };
    config.onChange("set-max-intset-entries", () => (fresh.value = config.getInt("set-max-intset-entries")));
    intsetMaxByConfig.set(config, fresh);
    c = fresh;
  }
  return c.value;
}

/** A RESP3 set (RESP2 array) of bulk strings. */
export function setReply(members: readonly string[]): Reply {
  const items: Reply[] = new Array<Reply>(members.length);
  for (let i = 0; i < members.length; i++) items[i] = bulk(members[i] ?? "");
  return { kind: "set", items };
}

const EMPTY_SET: Reply = { kind: "set", items: [] };

function sadd(ctx: Ctx, argv: string[]): Reply {
  const key = argv[1] ?? "";
  const found = setAt(ctx, key, true);
  if (isReply(found)) return found;
  const set = found ?? new SetObject();
  const max = intsetEntriesMax(ctx);
  let added = 0;
  for (let i = 2; i < argv.length; i++) if (set.add(argv[i] ?? "", max)) added++;
  if (found === null) ctx.setKey(key, set);
  else if (added > 0) ctx.touch(key);
  ctx.dirty += added;
  return int(added);
}

function srem(ctx: Ctx, argv: string[]): Reply {
  const key = argv[1] ?? "";
  const set = setAt(ctx, key, true);
  if (isReply(set)) return set;
  if (set === null) return ZERO;
  let removed = 0;
  for (let i = 2; i < argv.length; i++) {
    if (set.remove(argv[i] ?? "")) removed++;
    if (set.length === 0) break;
  }
  if (removed === 0) return ZERO;
  if (set.length === 0) ctx.deleteKey(key);
  else ctx.touch(key);
  ctx.dirty += removed;
  return int(removed);
}

function sismember(ctx: Ctx, argv: string[]): Reply {
  const set = setAt(ctx, argv[1] ?? "", false);
  if (isReply(set)) return set;
  return set !== null && set.has(argv[2] ?? "") ? ONE : ZERO;
}

function smismember(ctx: Ctx, argv: string[]): Reply {
  const set = setAt(ctx, argv[1] ?? "", false);
  if (isReply(set)) return set;
  const out: Reply[] = [];
  for (let i = 2; i < argv.length; i++) out.push(set !== null && set.has(argv[i] ?? "") ? ONE : ZERO);
  return array(out);
}

function scard(ctx: Ctx, argv: string[]): Reply {
  const set = setAt(ctx, argv[1] ?? "", false);
  if (isReply(set)) return set;
  return int(set === null ? 0 : set.length);
}

function smembers(ctx: Ctx, argv: string[]): Reply {
  const set = setAt(ctx, argv[1] ?? "", false);
  if (isReply(set)) return set;
  return set === null ? EMPTY_SET : setReply(set.ordered());
}

/**
 * Removes `count` random members (count < size) and returns them. The caller
 * emits the effect; kept apart so a blocking pop could reuse it.
 */
export function popRandomMembers(ctx: Ctx, set: SetObject, count: number): string[] {
  const popped: string[] = [];
  for (let i = 0; i < count && set.length > 0; i++) {
    const m = set.randomMember(ctx.random());
    set.remove(m);
    popped.push(m);
  }
  return popped;
}

function spop(ctx: Ctx, argv: string[]): Reply {
  if (argv.length > 3) return E.syntax;
  if (argv.length === 3) return spopWithCount(ctx, argv);
  const key = argv[1] ?? "";
  const set = setAt(ctx, key, true);
  if (isReply(set)) return set;
  if (set === null) return NULL;
  const [m = ""] = popRandomMembers(ctx, set, 1);
  ctx.emit(["SREM", key, m]);
  if (set.length === 0) ctx.deleteKey(key);
  else ctx.touch(key);
  ctx.dirty++;
  return bulk(m);
}

function spopWithCount(ctx: Ctx, argv: string[]): Reply {
  const key = argv[1] ?? "";
  const n = parseInt64(argv[2] ?? "");
  if (n === null || n < 0) return ERR_MUST_BE_POSITIVE;
  const set = setAt(ctx, key, true);
  if (isReply(set)) return set;
  if (set === null || n === 0 || n === 0n) return EMPTY_SET;
  const size = set.length;
  if (typeof n === "bigint" || n >= size) {
    const all = setReply(set.ordered());
    ctx.deleteKey(key);
    ctx.emit(["DEL", key]);
    ctx.dirty += size;
    return all;
  }
  const popped = popRandomMembers(ctx, set, n);
  ctx.emit(["SREM", key, ...popped]);
  ctx.touch(key);
  ctx.dirty += popped.length;
  return setReply(popped);
}

/** A count Redis parses as a long in [-LONG_MAX, LONG_MAX]: the count, or an error reply. */
export function parseRandomCount(s: string): number | bigint | Reply {
  const n = parseInt64(s);
  if (n === null) return E.notInteger;
  if (typeof n === "bigint" && (n < -LONG_MAX || n > LONG_MAX)) return ERR_COUNT_RANGE;
  return n;
}

function srandmember(ctx: Ctx, argv: string[]): Reply {
  if (argv.length > 3) return E.syntax;
  if (argv.length === 3) return srandmemberWithCount(ctx, argv);
  const set = setAt(ctx, argv[1] ?? "", false);
  if (isReply(set)) return set;
  if (set === null) return NULL;
  return bulk(set.randomMember(ctx.random()));
}

function srandmemberWithCount(ctx: Ctx, argv: string[]): Reply {
  const n = parseRandomCount(argv[2] ?? "");
  if (typeof n === "object") return n;
  const set = setAt(ctx, argv[1] ?? "", false);
  if (isReply(set)) return set;
  if (set === null || n === 0 || n === 0n) return EMPTY_ARRAY;
  const size = set.length;
  if (n < 0 || n === 1) {
    const count = n === 1 ? 1 : -Number(n);
    if (count > RANDOM_REPLY_MAX) return ERR_TOO_MANY_RANDOM;
    const out: string[] = new Array<string>(count);
    for (let i = 0; i < count; i++) out[i] = set.randomMember(ctx.random());
    return bulks(out);
  }
  if (typeof n === "bigint" || n >= size) return bulks(set.ordered().slice());
  return bulks(randomDistinct(ctx, size, n).map((i) => set.at(i)));
}

/**
 * `count` distinct slots out of `size` (count < size), uniformly: a partial
 * Fisher-Yates shuffle when count is a large share of size, rejection
 * sampling otherwise (like Redis's CASE 3 / CASE 4).
 */
export function randomDistinct(ctx: Ctx, size: number, count: number): number[] {
  if (count * 3 > size) {
    const idx = new Array<number>(size);
    for (let i = 0; i < size; i++) idx[i] = i;
    for (let i = 0; i < count; i++) {
      const j = i + Math.min(size - i - 1, Math.floor(ctx.random() * (size - i)));
      const t = idx[i] ?? 0;
      idx[i] = idx[j] ?? 0;
      idx[j] = t;
    }
    idx.length = count;
    return idx;
  }
  const seen = new Set<number>();
  while (seen.size < count) seen.add(Math.min(size - 1, Math.floor(ctx.random() * size)));
  return [...seen];
}

function smove(ctx: Ctx, argv: string[]): Reply {
  const srcKey = argv[1] ?? "";
  const dstKey = argv[2] ?? "";
  const member = argv[3] ?? "";
  const src = setAt(ctx, srcKey, true);
  const dst = setAt(ctx, dstKey, true);
  if (src === null) return ZERO;
  if (isReply(src)) return src;
  if (isReply(dst)) return dst;
  if (src === dst) return src.has(member) ? ONE : ZERO;
  if (!src.remove(member)) return ZERO;
  if (src.length === 0) ctx.deleteKey(srcKey);
  else ctx.touch(srcKey);
  ctx.dirty++;
  const target = dst ?? new SetObject();
  if (target.add(member, intsetEntriesMax(ctx))) {
    if (dst === null) ctx.setKey(dstKey, target);
    else ctx.touch(dstKey);
    ctx.dirty++;
  }
  return ONE;
}

/** Looks up every key as a set (missing keys are null); the first wrong type is an error. */
export function setsAt(ctx: Ctx, keys: readonly string[]): (SetObject | null)[] | Reply {
  const out: (SetObject | null)[] = [];
  for (const key of keys) {
    const s = setAt(ctx, key, false);
    if (isReply(s)) return s;
    out.push(s);
  }
  return out;
}

/**
 * Members in every set, in the reply order of the smallest one; stops after
 * `limit` members when limit > 0 (SINTERCARD).
 */
function intersect(sets: readonly (SetObject | null)[], limit: number): string[] {
  const present: SetObject[] = [];
  for (const s of sets) {
    if (s === null) return [];
    present.push(s);
  }
  present.sort((a, b) => a.length - b.length);
  const [smallest, ...rest] = present;
  if (smallest === undefined) return [];
  const out: string[] = [];
  for (const m of smallest.ordered()) {
    let inAll = true;
    for (const other of rest) {
      if (other !== smallest && !other.has(m)) {
        inAll = false;
        break;
      }
    }
    if (!inAll) continue;
    out.push(m);
    if (limit > 0 && out.length >= limit) break;
  }
  return out;
}

function union(sets: readonly (SetObject | null)[], max: number): SetObject {
  const out = new SetObject();
  for (const s of sets) if (s !== null) for (const m of s.ordered()) out.add(m, max);
  return out;
}

function difference(sets: readonly (SetObject | null)[], max: number): SetObject {
  const out = new SetObject();
  const [first, ...rest] = sets;
  if (first === null || first === undefined) return out;
  if (rest.includes(first)) return out;
  for (const m of first.ordered()) {
    if (!rest.some((s) => s !== null && s.has(m))) out.add(m, max);
  }
  return out;
}

/** Stores `result` at `dst` (or deletes dst when empty) like Redis's *STORE commands. */
function storeSet(ctx: Ctx, dst: string, result: SetObject): Reply {
  if (result.length > 0) {
    ctx.setKey(dst, result);
    ctx.dirty++;
    return int(result.length);
  }
  if (ctx.deleteKey(dst)) ctx.dirty++;
  return ZERO;
}

function sinter(ctx: Ctx, argv: string[]): Reply {
  const sets = setsAt(ctx, argv.slice(1));
  if (!Array.isArray(sets)) return sets;
  return setReply(intersect(sets, 0));
}

function sinterstore(ctx: Ctx, argv: string[]): Reply {
  const sets = setsAt(ctx, argv.slice(2));
  if (!Array.isArray(sets)) return sets;
  return storeSet(ctx, argv[1] ?? "", SetObject.fromMembers(intersect(sets, 0), intsetEntriesMax(ctx)));
}

function sintercard(ctx: Ctx, argv: string[]): Reply {
  const numkeys = parseInt64(argv[1] ?? "");
  if (numkeys === null || numkeys < 1) return ERR_NUMKEYS;
  if (numkeys > argv.length - 2) return ERR_NUMKEYS_ARGS;
  const nk = Number(numkeys);
  let limit = 0;
  for (let i = 2 + nk; i < argv.length; i++) {
    if ((argv[i] ?? "").toLowerCase() === "limit" && i + 1 < argv.length) {
      const l = parseInt64(argv[++i] ?? "");
      if (l === null || l < 0) return ERR_LIMIT;
      limit = typeof l === "bigint" ? 0 : l;
    } else {
      return E.syntax;
    }
  }
  const sets = setsAt(ctx, argv.slice(2, 2 + nk));
  if (!Array.isArray(sets)) return sets;
  return int(intersect(sets, limit).length);
}

function sunion(ctx: Ctx, argv: string[]): Reply {
  const sets = setsAt(ctx, argv.slice(1));
  if (!Array.isArray(sets)) return sets;
  return setReply(union(sets, intsetEntriesMax(ctx)).ordered());
}

function sunionstore(ctx: Ctx, argv: string[]): Reply {
  const sets = setsAt(ctx, argv.slice(2));
  if (!Array.isArray(sets)) return sets;
  return storeSet(ctx, argv[1] ?? "", union(sets, intsetEntriesMax(ctx)));
}

function sdiff(ctx: Ctx, argv: string[]): Reply {
  const sets = setsAt(ctx, argv.slice(1));
  if (!Array.isArray(sets)) return sets;
  return setReply(difference(sets, intsetEntriesMax(ctx)).ordered());
}

function sdiffstore(ctx: Ctx, argv: string[]): Reply {
  const sets = setsAt(ctx, argv.slice(2));
  if (!Array.isArray(sets)) return sets;
  return storeSet(ctx, argv[1] ?? "", difference(sets, intsetEntriesMax(ctx)));
}

/** Redis's parseScanCursorOrReply (strtoul rules): the cursor, or null when invalid. */
export function parseCursor(s: string): number | null {
  if (s === "") return 0;
  if (!/^[+-]?\d+$/.test(s)) return null;
  const neg = s.charCodeAt(0) === 45;
  const v = BigInt(neg ? s.slice(1) : s);
  const ULONG_MAX = 18446744073709551615n;
  if (v > ULONG_MAX) return null;
  const c = neg && v !== 0n ? ULONG_MAX + 1n - v : v;
  // Mnemo's cursors are slot positions: anything past the end means "start at the top".
  return c > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(c);
}

export interface ScanOptions {
  count: number;
  pattern: string | null;
}

/** COUNT and MATCH of SSCAN/ZSCAN from argv[from]. */
export function parseScanOptions(argv: readonly string[], from: number): ScanOptions | Reply {
  const o: ScanOptions = { count: 10, pattern: null };
  for (let i = from; i < argv.length; i += 2) {
    const opt = (argv[i] ?? "").toLowerCase();
    if (i + 1 >= argv.length) return E.syntax;
    if (opt === "count") {
      const c = parseInt64(argv[i + 1] ?? "");
      if (c === null) return E.notInteger;
      if (c < 1) return E.syntax;
      o.count = typeof c === "number" ? c : Number.MAX_SAFE_INTEGER;
    } else if (opt === "match") {
      const p = argv[i + 1] ?? "";
      o.pattern = p === "*" ? null : p;
    } else {
      return E.syntax;
    }
  }
  return o;
}

export const EMPTY_SCAN: Reply = array([bulk("0"), bulks([])]);

function sscan(ctx: Ctx, argv: string[]): Reply {
  const cursor = parseCursor(argv[2] ?? "");
  if (cursor === null) return ERR_INVALID_CURSOR;
  const set = setAt(ctx, argv[1] ?? "", false);
  if (isReply(set)) return set;
  if (set === null) return EMPTY_SCAN;
  const o = parseScanOptions(argv, 3);
  if ("kind" in o) return o;
  const step = set.scan(cursor, o.count);
  const pattern = o.pattern;
  const members = pattern === null ? step.members : step.members.filter((m) => globMatch(pattern, m));
  return array([bulk(String(step.next)), bulks(members)]);
}

export const SET_COMMANDS: readonly CommandSpec[] = [
  { name: "sadd", arity: -3, flags: ["write", "denyoom", "fast"], keys: K1, group: "set", run: sadd },
  { name: "srem", arity: -3, flags: ["write", "fast"], keys: K1, group: "set", run: srem },
  { name: "smembers", arity: 2, flags: ["readonly"], keys: K1, group: "set", run: smembers },
  { name: "sismember", arity: 3, flags: ["readonly", "fast"], keys: K1, group: "set", run: sismember },
  { name: "smismember", arity: -3, flags: ["readonly", "fast"], keys: K1, group: "set", run: smismember },
  { name: "scard", arity: 2, flags: ["readonly", "fast"], keys: K1, group: "set", run: scard },
  { name: "spop", arity: -2, flags: ["write", "fast"], keys: K1, effects: "explicit", group: "set", run: spop },
  { name: "srandmember", arity: -2, flags: ["readonly"], keys: K1, group: "set", run: srandmember },
  { name: "smove", arity: 4, flags: ["write", "fast"], keys: [1, 2, 1], group: "set", run: smove },
  { name: "sinter", arity: -2, flags: ["readonly"], keys: KALL, group: "set", run: sinter },
  { name: "sintercard", arity: -3, flags: ["readonly"], getKeys: numkeysKeys(1), group: "set", run: sintercard },
  { name: "sinterstore", arity: -3, flags: ["write", "denyoom"], keys: KALL, group: "set", run: sinterstore },
  { name: "sunion", arity: -2, flags: ["readonly"], keys: KALL, group: "set", run: sunion },
  { name: "sunionstore", arity: -3, flags: ["write", "denyoom"], keys: KALL, group: "set", run: sunionstore },
  { name: "sdiff", arity: -2, flags: ["readonly"], keys: KALL, group: "set", run: sdiff },
  { name: "sdiffstore", arity: -3, flags: ["write", "denyoom"], keys: KALL, group: "set", run: sdiffstore },
  { name: "sscan", arity: -3, flags: ["readonly"], keys: K1, group: "set", run: sscan },
];
