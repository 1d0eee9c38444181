// Hash commands (Redis's t_hash.c). Writes are verbatim effects except
// HINCRBYFLOAT, which is replicated as `HSET key field <result>` so float
// formatting can never make a replica diverge.
import { array, bulk, bulks, EMPTY_BULKS, int, map, NULL, OK, ONE, ZERO, type Reply } from "../../resp/reply";
import type { CommandSpec } from "../command";
import { parseScanOptions } from "./set";
import type { Config } from "../config";
import type { Ctx } from "../context";
import { E } from "../errors";
import { globMatch } from "../glob";
import { parseInt64, parseDouble } from "../num";
import { HashObject } from "../types/hash";

/** The hash at `key`: the hash, undefined when missing, or WRONGTYPE. */
export function hashAt(ctx: Ctx, key: string, write: boolean): HashObject | undefined | Reply {
  const v = write ? ctx.lookupWrite(key) : ctx.lookupRead(key);
  if (v === undefined) return undefined;
  if (typeof v === "string" || v.kind !== "hash") return E.wrongType;
  return v;
}

function isReply(x: HashObject | Reply | undefined): x is Reply {
  return x !== undefined && !(x instanceof HashObject);
}

interface HashLimits {
  entries: number;
  value: number;
}

/** The listpack limits, cached per config and refreshed when CONFIG SET changes them. */
const limitsByConfig = new WeakMap<Config, HashLimits>();

function limits(ctx: Ctx): HashLimits {
  const config = ctx.engine.config;
  let l = limitsByConfig.get(config);
  if (l === undefined) {
    const fresh: HashLimits = { entries: config.getInt("hash-max-listpack-entries"), value: config.getInt("hash-max-listpack-value") };
    config.onChange("hash-max-listpack-entries", () => (fresh.entries = config.getInt("hash-max-listpack-entries")));
    config.onChange("hash-max-listpack-value", () => (fresh.value = config.getInt("hash-max-listpack-value")));
    limitsByConfig.set(config, fresh);
    l = fresh;
  }
  return l;
}

/** Tracks Redis's one-way listpack -> hashtable conversion after writing texts[from..to). */
function noteEncoding(ctx: Ctx, h: HashObject, texts: readonly string[], from: number, to: number): void {
  if (h.encoding === "hashtable") return;
  const l = limits(ctx);
  if (h.length > l.entries) {
    h.encoding = "hashtable";
    return;
  }
  for (let i = from; i < to; i++) {
    if ((texts[i] ?? "").length > l.value) {
      h.encoding = "hashtable";
      return;
    }
  }
}

/** Stores a new hash or signals the change to an existing one. */
function commit(ctx: Ctx, key: string, h: HashObject, created: boolean): void {
  if (created) ctx.setKey(key, h);
  else ctx.touch(key);
}

function hsetGeneric(ctx: Ctx, argv: string[], name: string): Reply {
  if (argv.length % 2 === 1) return E.wrongArity(name);
  const key = argv[1] ?? "";
  const found = hashAt(ctx, key, true);
  if (isReply(found)) return found;
  const h = found ?? new HashObject();
  let created = 0;
  for (let i = 2; i < argv.length; i += 2) {
    if (h.set(argv[i] ?? "", argv[i + 1] ?? "")) created++;
  }
  noteEncoding(ctx, h, argv, 2, argv.length);
  ctx.dirty += (argv.length - 2) / 2;
  commit(ctx, key, h, found === undefined);
  return name === "hset" ? int(created) : OK;
}

function hsetnx(ctx: Ctx, argv: string[]): Reply {
  const key = argv[1] ?? "";
  const found = hashAt(ctx, key, true);
  if (isReply(found)) return found;
  const field = argv[2] ?? "";
  if (found !== undefined && found.has(field)) return ZERO;
  const h = found ?? new HashObject();
  h.set(field, argv[3] ?? "");
  noteEncoding(ctx, h, argv, 2, 4);
  ctx.dirty++;
  commit(ctx, key, h, found === undefined);
  return ONE;
}

function hget(ctx: Ctx, argv: string[]): Reply {
  const h = hashAt(ctx, argv[1] ?? "", false);
  if (isReply(h)) return h;
  const v = h?.get(argv[2] ?? "");
  return v === undefined ? NULL : bulk(v);
}

function hmget(ctx: Ctx, argv: string[]): Reply {
  const h = hashAt(ctx, argv[1] ?? "", false);
  if (isReply(h)) return h;
  const out: (string | null)[] = [];
  for (let i = 2; i < argv.length; i++) out.push(h?.get(argv[i] ?? "") ?? null);
  return bulks(out);
}

function hdel(ctx: Ctx, argv: string[]): Reply {
  const key = argv[1] ?? "";
  const h = hashAt(ctx, key, true);
  if (isReply(h)) return h;
  if (h === undefined) return ZERO;
  let deleted = 0;
  for (let i = 2; i < argv.length; i++) {
    if (h.delete(argv[i] ?? "")) deleted++;
    if (h.length === 0) break;
  }
  if (deleted === 0) return ZERO;
  ctx.dirty += deleted;
  if (h.length === 0) ctx.deleteKey(key);
  else ctx.touch(key);
  return int(deleted);
}

function hlen(ctx: Ctx, argv: string[]): Reply {
  const h = hashAt(ctx, argv[1] ?? "", false);
  if (isReply(h)) return h;
  return h === undefined ? ZERO : int(h.length);
}

function hstrlen(ctx: Ctx, argv: string[]): Reply {
  const h = hashAt(ctx, argv[1] ?? "", false);
  if (isReply(h)) return h;
  return int(h?.get(argv[2] ?? "")?.length ?? 0);
}

function hexists(ctx: Ctx, argv: string[]): Reply {
  const h = hashAt(ctx, argv[1] ?? "", false);
  if (isReply(h)) return h;
  return h !== undefined && h.has(argv[2] ?? "") ? ONE : ZERO;
}

function hkeys(ctx: Ctx, argv: string[]): Reply {
  const h = hashAt(ctx, argv[1] ?? "", false);
  if (isReply(h)) return h;
  return h === undefined ? EMPTY_BULKS : bulks(h.keys());
}

function hvals(ctx: Ctx, argv: string[]): Reply {
  const h = hashAt(ctx, argv[1] ?? "", false);
  if (isReply(h)) return h;
  return h === undefined ? EMPTY_BULKS : bulks(h.vals());
}

function hgetall(ctx: Ctx, argv: string[]): Reply {
  const h = hashAt(ctx, argv[1] ?? "", false);
  if (isReply(h)) return h;
  if (h === undefined) return map([]);
  return map(h.flat().map(bulk));
}

function hincrby(ctx: Ctx, argv: string[]): Reply {
  const incr = parseInt64(argv[3] ?? "");
  if (incr === null) return E.notInteger;
  const key = argv[1] ?? "";
  const found = hashAt(ctx, key, true);
  if (isReply(found)) return found;
  const field = argv[2] ?? "";
  const old = found?.get(field);
  let value: number | bigint = 0;
  if (old !== undefined) {
    const parsed = parseInt64(old);
    if (parsed === null) return E.generic("hash value is not an integer");
    value = parsed;
  }
  const sum = addInt64(value, incr);
  if (sum === null) return E.overflow;
  const h = found ?? new HashObject();
  const text = String(sum);
  h.set(field, text);
  noteEncoding(ctx, h, [field, text], 0, 2);
  ctx.dirty++;
  commit(ctx, key, h, found === undefined);
  return int(sum);
}

/** a + b within int64, or null on overflow. */
function addInt64(a: number | bigint, b: number | bigint): number | bigint | null {
  if (typeof a === "number" && typeof b === "number") {
    const s = a + b;
    if (Number.isSafeInteger(s)) return s;
  }
  const s = BigInt(a) + BigInt(b);
  if (s > 9223372036854775807n || s < -9223372036854775808n) return null;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : s;
}

function hincrbyfloat(ctx: Ctx, argv: string[]): Reply {
  const incrText = argv[3] ?? "";
  if (isInfinityText(incrText)) return E.generic("value is NaN or Infinity");
  const incr = parseLongDouble(incrText);
  if (incr === null) return E.notFloat;
  const key = argv[1] ?? "";
  const found = hashAt(ctx, key, true);
  if (isReply(found)) return found;
  const field = argv[2] ?? "";
  const old = found?.get(field);
  let value: Decimal = { m: 0n, e: 0 };
  if (old !== undefined) {
    // An infinite stored value parses (strtold) but no sum with it is finite.
    if (isInfinityText(old)) return E.generic("increment would produce NaN or Infinity");
    const parsed = parseLongDouble(old);
    if (parsed === null) return E.generic("hash value is not a float");
    value = parsed;
  }
  const sum = addDecimal(value, incr);
  if (magnitudeClass(sum) === "overflow") return E.generic("increment would produce NaN or Infinity");
  const text = formatLongDouble(sum);
  const h = found ?? new HashObject();
  h.set(field, text);
  noteEncoding(ctx, h, [field, text], 0, 2);
  ctx.dirty++;
  commit(ctx, key, h, found === undefined);
  ctx.emit(["HSET", key, field, text]);
  return bulk(text);
}

/** An exact decimal m * 10^e: INCRBYFLOAT-style arithmetic without binary rounding. */
export interface Decimal {
  readonly m: bigint;
  readonly e: number;
}

/** Longest text strtold is given by Redis (MAX_LONG_DOUBLE_CHARS). */
const LONG_DOUBLE_CHARS_MAX = 5 * 1024;
/** LDBL_MAX, 1.18973149535723176502e+4932, as the largest finite long double. */
const LDBL_MAX: Decimal = { m: 118973149535723176502n, e: 4932 - 20 };
/** Below 10^-4951 a long double is zero (strtold underflows and Redis refuses it). */
const LDBL_DIGITS_MIN = -4950;
const LDBL_DIGITS_MAX = 4933;

function isInfinityText(s: string): boolean {
  return /^[+-]?inf(inity)?$/i.test(s);
}

/**
 * Redis's string2ld on a finite value: decimal or exponent notation parsed
 * exactly (hex floats through the double parser), null when strtold would
 * refuse it (garbage, spaces, NaN, overflow, underflow to zero).
 */
export function parseLongDouble(s: string): Decimal | null {
  if (s.length === 0 || s.length >= LONG_DOUBLE_CHARS_MAX) return null;
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(s);
  if (m === null) {
    const d = parseDouble(s);
    if (d === null || !Number.isFinite(d)) return null;
    return parseLongDouble(String(d));
  }
  const [, sign = "", intPart = "", frac = "", exp = "0"] = m;
  if (intPart.length + frac.length === 0) return null;
  let mant = BigInt(intPart + frac || "0");
  if (mant === 0n) return { m: 0n, e: 0 };
  if (sign === "-") mant = -mant;
  const e = parseInt(exp, 10) - frac.length;
  if (!Number.isSafeInteger(e)) return null;
  const d: Decimal = { m: mant, e };
  return magnitudeClass(d) === "ok" ? d : null;
}

function digitsOf(m: bigint): number {
  return (m < 0n ? -m : m).toString().length;
}

/** Whether a non-zero value fits a long double's range. */
function magnitudeClass(d: Decimal): "ok" | "overflow" | "underflow" {
  if (d.m === 0n) return "ok";
  const intDigits = digitsOf(d.m) + d.e;
  if (intDigits < LDBL_DIGITS_MIN) return "underflow";
  if (intDigits < LDBL_DIGITS_MAX) return "ok";
  if (intDigits > LDBL_DIGITS_MAX) return "overflow";
  const abs = d.m < 0n ? -d.m : d.m;
  return compareDecimal({ m: abs, e: d.e }, LDBL_MAX) >= 0 ? "overflow" : "ok";
}

function compareDecimal(a: Decimal, b: Decimal): number {
  const e = Math.min(a.e, b.e);
  const x = a.m * 10n ** BigInt(a.e - e);
  const y = b.m * 10n ** BigInt(b.e - e);
  return x < y ? -1 : x > y ? 1 : 0;
}

export function addDecimal(a: Decimal, b: Decimal): Decimal {
  const e = Math.min(a.e, b.e);
  return { m: a.m * 10n ** BigInt(a.e - e) + b.m * 10n ** BigInt(b.e - e), e };
}

/** printf("%.17Lf") of the value (rounded half to even), trailing zeros and "-0" removed. */
export function formatLongDouble(d: Decimal): string {
  const FRACTION_DIGITS = 17;
  let m = d.m;
  let e = d.e;
  if (e > 0) {
    m *= 10n ** BigInt(e);
    e = 0;
  } else if (e < -FRACTION_DIGITS) {
    m = divRoundHalfEven(m, 10n ** BigInt(-FRACTION_DIGITS - e));
    e = -FRACTION_DIGITS;
  }
  const neg = m < 0n;
  let digits = (neg ? -m : m).toString();
  const scale = -e;
  if (scale > 0) {
    digits = digits.padStart(scale + 1, "0");
    const intPart = digits.slice(0, digits.length - scale);
    const fracPart = digits.slice(digits.length - scale).replace(/0+$/, "");
    digits = fracPart === "" ? intPart : `${intPart}.${fracPart}`;
  }
  return neg && digits !== "0" ? `-${digits}` : digits;
}

function divRoundHalfEven(n: bigint, d: bigint): bigint {
  const neg = n < 0n;
  const a = neg ? -n : n;
  let q = a / d;
  const r = a % d;
  if (r * 2n > d || (r * 2n === d && q % 2n === 1n)) q++;
  return neg ? -q : q;
}

/** Redis caps a negative HRANDFIELD count only by memory; we refuse past this many picks. */
const RANDFIELD_PICKS_MAX = 10_000_000;
const LONG_MAX = 9223372036854775807n;

function parseRandCount(argv: readonly string[]): { count: number; withValues: boolean } | Reply {
  const raw = parseInt64(argv[2] ?? "");
  if (raw === null) return E.notInteger;
  if (BigInt(raw) < -LONG_MAX) {
    return E.generic("value is out of range, value must between -9223372036854775807 and 9223372036854775807");
  }
  if (argv.length > 4 || (argv.length === 4 && (argv[3] ?? "").toLowerCase() !== "withvalues")) return E.syntax;
  const withValues = argv.length === 4;
  const big = BigInt(raw);
  if (withValues && (big < -LONG_MAX / 2n || big > LONG_MAX / 2n)) return E.generic("value is out of range");
  if (big < -BigInt(RANDFIELD_PICKS_MAX)) return E.generic("value is out of range");
  const count = typeof raw === "number" ? raw : Number.MAX_SAFE_INTEGER;
  return { count, withValues };
}

function hrandfield(ctx: Ctx, argv: string[]): Reply {
  if (argv.length >= 3) {
    const o = parseRandCount(argv);
    if ("kind" in o) return o;
    const h = hashAt(ctx, argv[1] ?? "", false);
    if (isReply(h)) return h;
    if (h === undefined || o.count === 0) return EMPTY_BULKS;
    return randReply(ctx, pickFields(ctx, h, o.count), o.withValues);
  }
  const h = hashAt(ctx, argv[1] ?? "", false);
  if (isReply(h)) return h;
  if (h === undefined) return NULL;
  return bulk(h.randomEntry(() => ctx.random())[0]);
}

/**
 * HRANDFIELD's picks: with a negative count, that many independent picks;
 * with a positive one, distinct fields (all of them, in order, when the count
 * covers the hash).
 */
function pickFields(ctx: Ctx, h: HashObject, count: number): [string, string][] {
  const random = (): number => ctx.random();
  if (count < 0 || count === 1) {
    const out: [string, string][] = [];
    for (let i = Math.abs(count); i > 0; i--) out.push(h.randomEntry(random));
    return out;
  }
  if (count >= h.length) return h.entries();
  if (count * 3 > h.length) {
    // Close to the whole hash: drop random entries, keeping the hash's order.
    const all = h.entries();
    const keep = new Array<boolean>(all.length).fill(true);
    for (let left = all.length; left > count; ) {
      const i = Math.min(all.length - 1, Math.floor(random() * all.length));
      if (keep[i] === true) {
        keep[i] = false;
        left--;
      }
    }
    return all.filter((_e, i) => keep[i] === true);
  }
  const seen = new Set<string>();
  const out: [string, string][] = [];
  while (out.length < count) {
    const e = h.randomEntry(random);
    if (seen.has(e[0])) continue;
    seen.add(e[0]);
    out.push(e);
  }
  return out;
}

/** RESP3 nests each field/value pair; RESP2 flattens them. */
function randReply(ctx: Ctx, picks: readonly [string, string][], withValues: boolean): Reply {
  if (!withValues) return bulks(picks.map((p) => p[0]));
  if (ctx.session.resp === 3) return array(picks.map((p) => bulks(p)));
  const flat: string[] = [];
  for (const [f, v] of picks) flat.push(f, v);
  return bulks(flat);
}

/** Redis's parseScanCursorOrReply (strtoul rules): the cursor, or null when invalid. */
export function parseScanCursor(s: string): bigint | null {
  if (s === "") return 0n;
  if (!/^[+-]?\d+$/.test(s)) return null;
  const neg = s.charCodeAt(0) === 45;
  const v = BigInt(neg ? s.slice(1) : s);
  const ULONG_MAX = 18446744073709551615n;
  if (v > ULONG_MAX) return null;
  return neg && v !== 0n ? ULONG_MAX + 1n - v : v;
}


function hscan(ctx: Ctx, argv: string[]): Reply {
  const cursor = parseScanCursor(argv[2] ?? "");
  if (cursor === null) return E.generic("invalid cursor");
  const h = hashAt(ctx, argv[1] ?? "", false);
  if (isReply(h)) return h;
  if (h === undefined) return array([bulk("0"), EMPTY_BULKS]);
  const o = parseScanOptions(argv, 3);
  if ("kind" in o) return o;
  const found: string[] = [];
  let next = 0;
  if (h.encoding === "listpack" && h.length <= limits(ctx).entries) {
    // Like Redis's listpack encoding: a small hash comes back whole in one call.
    h.scan(0, h.length, found);
  } else if (cursor <= BigInt(Number.MAX_SAFE_INTEGER)) {
    next = h.scan(Number(cursor), o.count, found);
  }
  return array([bulk(String(next)), bulks(filterPairs(found, o.pattern))]);
}

function filterPairs(pairs: string[], pattern: string | null): string[] {
  if (pattern === null) return pairs;
  const out: string[] = [];
  for (let i = 0; i + 1 < pairs.length; i += 2) {
    const f = pairs[i] ?? "";
    if (globMatch(pattern, f)) out.push(f, pairs[i + 1] ?? "");
  }
  return out;
}

const W_FAST: CommandSpec["flags"] = ["write", "denyoom", "fast"];
const R_FAST: CommandSpec["flags"] = ["readonly", "fast"];
const K1: readonly [number, number, number] = [1, 1, 1];

export const HASH_COMMANDS: readonly CommandSpec[] = [
  { name: "hset", arity: -4, flags: W_FAST, keys: K1, group: "hash", run: (c, a) => hsetGeneric(c, a, "hset") },
  { name: "hmset", arity: -4, flags: W_FAST, keys: K1, group: "hash", run: (c, a) => hsetGeneric(c, a, "hmset") },
  { name: "hsetnx", arity: 4, flags: W_FAST, keys: K1, group: "hash", run: hsetnx },
  { name: "hget", arity: 3, flags: R_FAST, keys: K1, group: "hash", run: hget },
  { name: "hmget", arity: -3, flags: R_FAST, keys: K1, group: "hash", run: hmget },
  { name: "hdel", arity: -3, flags: ["write", "fast"], keys: K1, group: "hash", run: hdel },
  { name: "hlen", arity: 2, flags: R_FAST, keys: K1, group: "hash", run: hlen },
  { name: "hstrlen", arity: 3, flags: R_FAST, keys: K1, group: "hash", run: hstrlen },
  { name: "hexists", arity: 3, flags: R_FAST, keys: K1, group: "hash", run: hexists },
  { name: "hkeys", arity: 2, flags: ["readonly"], keys: K1, group: "hash", run: hkeys },
  { name: "hvals", arity: 2, flags: ["readonly"], keys: K1, group: "hash", run: hvals },
  { name: "hgetall", arity: 2, flags: ["readonly"], keys: K1, group: "hash", run: hgetall },
  { name: "hincrby", arity: 4, flags: W_FAST, keys: K1, group: "hash", run: hincrby },
  { name: "hincrbyfloat", arity: 4, flags: W_FAST, keys: K1, effects: "explicit", group: "hash", run: hincrbyfloat },
  { name: "hrandfield", arity: -2, flags: ["readonly"], keys: K1, group: "hash", run: hrandfield },
  { name: "hscan", arity: -3, flags: ["readonly"], keys: K1, group: "hash", run: hscan },
];
