// String commands (Redis's t_string.c): GET/SET and their variants, MGET/MSET,
// counters, ranges. INCRBYFLOAT's x87 long double arithmetic is at the end.
import { constants as bufferConstants } from "node:buffer";
import { bulk, bulks, err, int, NULL, OK, ONE, ZERO, type Reply } from "../../resp/reply";
import type { CommandSpec } from "../command";
import type { Config } from "../config";
import type { Ctx } from "../context";
import { E } from "../errors";
import { INT64_MAX, INT64_MIN, parseInt64 } from "../num";

const EMPTY_BULK = bulk("");
const ERR_OFFSET_RANGE = err("ERR offset is out of range");
const ERR_DECR_OVERFLOW = err("ERR decrement would overflow");
const ERR_NAN_OR_INF = err("ERR increment would produce NaN or Infinity");

/**
 * V8 cannot hold a longer string, whatever proto-max-bulk-len says. Kept 8
 * bytes short so a BITFIELD i64 at the last allowed offset still fits.
 */
const STRING_LENGTH_MAX_V8 = bufferConstants.MAX_STRING_LENGTH - 8;

/** proto-max-bulk-len, cached per Config (SETBIT and SETRANGE read it on every call). */
const bulkLenCache = new WeakMap<Config, { bytes: number }>();

function protoMaxBulkLen(ctx: Ctx): number {
  const cfg = ctx.engine.config;
  let entry = bulkLenCache.get(cfg);
  if (entry === undefined) {
    const e = { bytes: cfg.getInt("proto-max-bulk-len") };
    cfg.onChange("proto-max-bulk-len", () => {
      e.bytes = cfg.getInt("proto-max-bulk-len");
    });
    bulkLenCache.set(cfg, e);
    entry = e;
  }
  return entry.bytes;
}

/**
 * The longest string a command may build. Effects being applied obey no
 * client limit (Redis's mustObeyClient): the primary already checked them.
 */
export function stringBytesMax(ctx: Ctx): number {
  if (ctx.mode === "apply") return STRING_LENGTH_MAX_V8;
  return Math.min(protoMaxBulkLen(ctx), STRING_LENGTH_MAX_V8);
}

/** The byte limit for transient buffers (LCS), as configured. */
export function transientBytesMax(ctx: Ctx): number {
  return protoMaxBulkLen(ctx);
}

/** True when a string of `base + extra` bytes would exceed the limit (checkStringLength). */
function tooLong(ctx: Ctx, base: number | bigint, extra: number): boolean {
  if (typeof base === "bigint") return true;
  return base + extra > stringBytesMax(ctx);
}

/** Reads a string value: the string, null when missing, or WRONGTYPE. */
export function getString(ctx: Ctx, key: string): string | null | Reply {
  const v = ctx.lookupRead(key);
  if (v === undefined) return null;
  if (typeof v !== "string") return E.wrongType;
  return v;
}

function get(ctx: Ctx, argv: string[]): Reply {
  const v = ctx.lookupRead(argv[1] ?? "");
  if (v === undefined) return NULL;
  if (typeof v !== "string") return E.wrongType;
  return bulk(v);
}

// ---------------------------------------------------------------------------
// SET and its options (Redis's parseExtendedStringArgumentsOrReply)

export const SET_NX = 1;
export const SET_XX = 2;
export const SET_GET = 4;
export const SET_KEEPTTL = 8;
const SET_PERSIST = 16;
const SET_EX = 32;
const SET_PX = 64;
const SET_EXAT = 128;
const SET_PXAT = 256;
const SET_EXPIRE_ANY = SET_EX | SET_PX | SET_EXAT | SET_PXAT;

export interface SetOptions {
  flags: number;
  /** Absolute expire time in ms, or -1 for none. */
  expireAtMs: number;
}

interface ExtendedArgs {
  flags: number;
  /** The EX/PX/EXAT/PXAT argument, unparsed (Redis parses it after the syntax check). */
  expire: string | null;
}

const EXPIRE_OPTION: ReadonlyMap<string, number> = new Map([
  ["ex", SET_EX],
  ["px", SET_PX],
  ["exat", SET_EXAT],
  ["pxat", SET_PXAT],
]);

/** The flag bit `opt` may add given the flags so far, or 0 when it is a syntax error. */
function optionBit(opt: string, flags: number, forSet: boolean, hasNext: boolean): number {
  switch (opt) {
    case "nx":
      return forSet && !(flags & SET_XX) ? SET_NX : 0;
    case "xx":
      return forSet && !(flags & SET_NX) ? SET_XX : 0;
    case "get":
      return forSet ? SET_GET : 0;
    case "keepttl":
      return forSet && !(flags & (SET_PERSIST | SET_EXPIRE_ANY)) ? SET_KEEPTTL : 0;
    case "persist":
      return !forSet && !(flags & (SET_KEEPTTL | SET_EXPIRE_ANY)) ? SET_PERSIST : 0;
    default: {
      const bit = EXPIRE_OPTION.get(opt) ?? 0;
      // One expire form only (repeating the same one is allowed, the last wins).
      if (bit === 0 || !hasNext || flags & (SET_KEEPTTL | SET_PERSIST | (SET_EXPIRE_ANY & ~bit))) return 0;
      return bit;
    }
  }
}

/** SET's options from argv[3] (forSet) or GETEX's from argv[2]; null on a syntax error. */
function parseExtended(argv: string[], forSet: boolean): ExtendedArgs | null {
  let flags = 0;
  let expire: string | null = null;
  for (let i = forSet ? 3 : 2; i < argv.length; i++) {
    const next = argv[i + 1];
    const bit = optionBit((argv[i] ?? "").toLowerCase(), flags, forSet, next !== undefined);
    if (bit === 0) return null;
    if (bit & SET_EXPIRE_ANY) {
      expire = next ?? "";
      i++;
    }
    flags |= bit;
  }
  return { flags, expire };
}

/**
 * An expire argument as an absolute unix time in ms, with Redis's int64 rules
 * (getExpireMillisecondsOrReply): positive, and no overflow once converted.
 */
function absoluteExpireMs(ctx: Ctx, arg: string, unit: number, cmd: string): number | Reply {
  const n = parseInt64(arg);
  if (n === null) return E.notInteger;
  const seconds = (unit & (SET_EX | SET_EXAT)) !== 0;
  const relative = (unit & (SET_EX | SET_PX)) !== 0;
  if (typeof n === "number") {
    if (n <= 0) return E.invalidExpire(cmd);
    const abs = (seconds ? n * 1000 : n) + (relative ? ctx.now : 0);
    if (Number.isSafeInteger(abs)) return abs;
  }
  // Beyond 2^53: redo it in int64 arithmetic, as Redis does.
  let b = BigInt(n);
  if (b <= 0n || (seconds && b > INT64_MAX / 1000n)) return E.invalidExpire(cmd);
  if (seconds) b *= 1000n;
  if (relative) b += BigInt(ctx.now);
  if (b > INT64_MAX) return E.invalidExpire(cmd);
  return Number(b);
}

/** An absolute ms time as an int64 argument (huge times are held as inexact numbers). */
function formatMs(ms: number): string {
  if (Number.isSafeInteger(ms)) return String(ms);
  const b = BigInt(ms);
  return (b > INT64_MAX ? INT64_MAX : b).toString();
}

/**
 * Stores `value` under SET's rules and emits the canonical effect:
 * `SET k v` / `SET k v KEEPTTL` / `SET k v PXAT ms`, or `DEL k` for a past expiry.
 * Returns the reply, or null when NX/XX stopped it and GET was not asked for.
 */
export function setWithOptions(ctx: Ctx, key: string, value: string, o: SetOptions): Reply | null {
  const withGet = (o.flags & SET_GET) !== 0;
  let oldReply: Reply = NULL;
  if (withGet) {
    const old = getString(ctx, key);
    if (old !== null && typeof old !== "string") return old;
    if (old !== null) oldReply = bulk(old);
  }
  const found = ctx.lookupWrite(key) !== undefined;
  if ((o.flags & SET_NX && found) || (o.flags & SET_XX && !found)) return withGet ? oldReply : null;
  ctx.dirty++;
  if (o.expireAtMs >= 0 && ctx.isPast(o.expireAtMs)) {
    if (ctx.deleteKey(key)) ctx.emit(["DEL", key]);
    return withGet ? oldReply : OK;
  }
  ctx.setKey(key, value, (o.flags & SET_KEEPTTL) !== 0);
  if (o.expireAtMs >= 0) {
    ctx.setExpire(key, o.expireAtMs);
    ctx.emit(["SET", key, value, "PXAT", formatMs(o.expireAtMs)]);
  } else if (o.flags & SET_KEEPTTL) {
    ctx.emit(["SET", key, value, "KEEPTTL"]);
  } else {
    ctx.emit(["SET", key, value]);
  }
  return withGet ? oldReply : OK;
}

function set(ctx: Ctx, argv: string[]): Reply {
  const key = argv[1] ?? "";
  const value = argv[2] ?? "";
  if (argv.length === 3) {
    // The common case, kept allocation-free apart from the effect. The lookup
    // only matters for its lazy expiry of an old value (a DEL, expired_keys);
    // with no TTL in the db there is none, and one hash lookup less counts
    // when the keys are many and cold in the cache.
    if (ctx.db.expires.size !== 0) ctx.lookupWrite(key);
    ctx.setKey(key, value);
    ctx.dirty++;
    ctx.emit(argv);
    return OK;
  }
  const args = parseExtended(argv, true);
  if (args === null) return E.syntax;
  let expireAtMs = -1;
  if (args.expire !== null) {
    const at = absoluteExpireMs(ctx, args.expire, args.flags, "set");
    if (typeof at !== "number") return at;
    expireAtMs = at;
  }
  return setWithOptions(ctx, key, value, { flags: args.flags, expireAtMs }) ?? NULL;
}

function setnx(ctx: Ctx, argv: string[]): Reply {
  const r = setWithOptions(ctx, argv[1] ?? "", argv[2] ?? "", { flags: SET_NX, expireAtMs: -1 });
  return r === null ? ZERO : ONE;
}

function setexGeneric(ctx: Ctx, argv: string[], unit: number, cmd: string): Reply {
  const at = absoluteExpireMs(ctx, argv[2] ?? "", unit, cmd);
  if (typeof at !== "number") return at;
  return setWithOptions(ctx, argv[1] ?? "", argv[3] ?? "", { flags: 0, expireAtMs: at }) ?? NULL;
}

function setex(ctx: Ctx, argv: string[]): Reply {
  return setexGeneric(ctx, argv, SET_EX, "setex");
}

function psetex(ctx: Ctx, argv: string[]): Reply {
  return setexGeneric(ctx, argv, SET_PX, "psetex");
}

/** GETEX key [EX s | PX ms | EXAT s | PXAT ms | PERSIST]: effects PEXPIREAT, DEL or PERSIST. */
function getex(ctx: Ctx, argv: string[]): Reply {
  const args = parseExtended(argv, false);
  if (args === null) return E.syntax;
  const key = argv[1] ?? "";
  const v = getString(ctx, key);
  if (v === null) return NULL;
  if (typeof v !== "string") return v;
  let at = -1;
  if (args.expire !== null) {
    const r = absoluteExpireMs(ctx, args.expire, args.flags, "getex");
    if (typeof r !== "number") return r;
    at = r;
  }
  if (at >= 0 && ctx.isPast(at)) {
    ctx.deleteKey(key);
    ctx.emit(["DEL", key]);
    ctx.dirty++;
  } else if (at >= 0) {
    ctx.setExpire(key, at);
    ctx.touch(key);
    ctx.emit(["PEXPIREAT", key, formatMs(at)]);
    ctx.dirty++;
  } else if (args.flags & SET_PERSIST && ctx.db.expires.delete(key)) {
    ctx.touch(key);
    ctx.emit(["PERSIST", key]);
    ctx.dirty++;
  }
  return bulk(v);
}

function getdel(ctx: Ctx, argv: string[]): Reply {
  const key = argv[1] ?? "";
  const v = getString(ctx, key);
  if (v === null) return NULL;
  if (typeof v !== "string") return v;
  ctx.deleteKey(key);
  ctx.emit(["DEL", key]);
  ctx.dirty++;
  return bulk(v);
}

function getset(ctx: Ctx, argv: string[]): Reply {
  const key = argv[1] ?? "";
  const value = argv[2] ?? "";
  const old = getString(ctx, key);
  if (old !== null && typeof old !== "string") return old;
  ctx.setKey(key, value);
  ctx.dirty++;
  ctx.emit(["SET", key, value]);
  return old === null ? NULL : bulk(old);
}

// ---------------------------------------------------------------------------
// MGET / MSET / MSETNX

function mget(ctx: Ctx, argv: string[]): Reply {
  const out: (string | null)[] = new Array<string | null>(argv.length - 1);
  for (let i = 1; i < argv.length; i++) {
    const v = ctx.lookupRead(argv[i] ?? "");
    out[i - 1] = typeof v === "string" ? v : null;
  }
  return bulks(out);
}

function msetGeneric(ctx: Ctx, argv: string[], nx: boolean): Reply {
  if (argv.length % 2 === 0) return E.wrongArity(nx ? "msetnx" : "mset");
  if (nx) {
    for (let i = 1; i < argv.length; i += 2) {
      if (ctx.lookupWrite(argv[i] ?? "") !== undefined) return ZERO;
    }
  }
  for (let i = 1; i < argv.length; i += 2) {
    const key = argv[i] ?? "";
    ctx.lookupWrite(key);
    ctx.setKey(key, argv[i + 1] ?? "");
  }
  ctx.dirty += (argv.length - 1) / 2;
  return nx ? ONE : OK;
}

function mset(ctx: Ctx, argv: string[]): Reply {
  return msetGeneric(ctx, argv, false);
}

function msetnx(ctx: Ctx, argv: string[]): Reply {
  return msetGeneric(ctx, argv, true);
}

// ---------------------------------------------------------------------------
// APPEND, STRLEN, GETRANGE, SETRANGE

function append(ctx: Ctx, argv: string[]): Reply {
  const key = argv[1] ?? "";
  const tail = argv[2] ?? "";
  const v = ctx.lookupWrite(key);
  if (v === undefined) {
    ctx.setKey(key, tail);
    ctx.dirty++;
    return int(tail.length);
  }
  if (typeof v !== "string") return E.wrongType;
  if (tooLong(ctx, v.length, tail.length)) return E.stringTooLong;
  const next = v + tail;
  ctx.setKey(key, next, true);
  ctx.dirty++;
  return int(next.length);
}

function strlen(ctx: Ctx, argv: string[]): Reply {
  const v = ctx.lookupRead(argv[1] ?? "");
  if (v === undefined) return ZERO;
  if (typeof v !== "string") return E.wrongType;
  return int(v.length);
}

/**
 * Redis's start/end rules over a length (GETRANGE, BITCOUNT, BITPOS): negative
 * counts from the end, both clamped. Returns [start, end] inclusive or null when empty.
 */
export function clampRange(start: number | bigint, end: number | bigint, len: number): [number, number] | null {
  if (start < 0 && end < 0 && start > end) return null;
  // Past the checks above, int64 values beyond 2^53 only matter by their sign.
  let s = Number(start);
  let e = Number(end);
  if (s < 0) s += len;
  if (e < 0) e += len;
  if (s < 0) s = 0;
  if (e < 0) e = 0;
  if (e >= len) e = len - 1;
  return s > e || len === 0 ? null : [s, e];
}

function getrange(ctx: Ctx, argv: string[]): Reply {
  const start = parseInt64(argv[2] ?? "");
  const end = parseInt64(argv[3] ?? "");
  if (start === null || end === null) return E.notInteger;
  const v = ctx.lookupRead(argv[1] ?? "");
  if (v === undefined) return EMPTY_BULK;
  if (typeof v !== "string") return E.wrongType;
  const r = clampRange(start, end, v.length);
  return r === null ? EMPTY_BULK : bulk(v.slice(r[0], r[1] + 1));
}

/** `s` with `value` written at byte `offset`, zero-padded when it starts past the end. */
function spliceString(s: string, offset: number, value: string): string {
  if (offset >= s.length) return s + "\0".repeat(offset - s.length) + value;
  const end = offset + value.length;
  return s.slice(0, offset) + value + (end < s.length ? s.slice(end) : "");
}

function setrange(ctx: Ctx, argv: string[]): Reply {
  const key = argv[1] ?? "";
  const value = argv[3] ?? "";
  const offset = parseInt64(argv[2] ?? "");
  if (offset === null) return E.notInteger;
  if (offset < 0) return ERR_OFFSET_RANGE;
  const v = ctx.lookupWrite(key);
  if (v !== undefined && typeof v !== "string") return E.wrongType;
  if (value.length === 0) return int(v === undefined ? 0 : v.length);
  if (tooLong(ctx, offset, value.length)) return E.stringTooLong;
  const next = spliceString(v ?? "", Number(offset), value);
  ctx.setKey(key, next, true);
  ctx.dirty++;
  return int(next.length);
}

// ---------------------------------------------------------------------------
// INCR / DECR / INCRBY / DECRBY

/** a + b within int64, as a number when exact; null on overflow. */
function addInt64(a: number | bigint, b: number | bigint): number | bigint | null {
  if (typeof a === "number" && typeof b === "number") {
    const sum = a + b;
    // Both are safe integers, so a safe result is also the exact one.
    if (Number.isSafeInteger(sum)) return sum;
  }
  const sum = BigInt(a) + BigInt(b);
  if (sum > INT64_MAX || sum < INT64_MIN) return null;
  const asNumber = Number(sum);
  return Number.isSafeInteger(asNumber) ? asNumber : sum;
}

function incrDecr(ctx: Ctx, key: string, by: number | bigint): Reply {
  const v = ctx.lookupWrite(key);
  let current: number | bigint = 0;
  if (v !== undefined) {
    if (typeof v !== "string") return E.wrongType;
    const n = parseInt64(v);
    if (n === null) return E.notInteger;
    current = n;
  }
  const next = addInt64(current, by);
  if (next === null) return E.overflow;
  ctx.setKey(key, String(next), true);
  ctx.dirty++;
  return int(next);
}

function incr(ctx: Ctx, argv: string[]): Reply {
  return incrDecr(ctx, argv[1] ?? "", 1);
}

function decr(ctx: Ctx, argv: string[]): Reply {
  return incrDecr(ctx, argv[1] ?? "", -1);
}

function incrby(ctx: Ctx, argv: string[]): Reply {
  const by = parseInt64(argv[2] ?? "");
  if (by === null) return E.notInteger;
  return incrDecr(ctx, argv[1] ?? "", by);
}

function decrby(ctx: Ctx, argv: string[]): Reply {
  const by = parseInt64(argv[2] ?? "");
  if (by === null) return E.notInteger;
  if (by === INT64_MIN) return ERR_DECR_OVERFLOW;
  return incrDecr(ctx, argv[1] ?? "", -by);
}

// ---------------------------------------------------------------------------
// INCRBYFLOAT: Redis adds in x87 long double (64-bit significand) and prints
// with "%.17Lf", trailing zeros stripped. We emulate that exactly with bigints
// so replies match byte for byte (e.g. 10000000000 + 0.1 = 10000000000.09999999962747097).

/** A finite long double: (-1)^neg * m * 2^e, m < 2^64. */
export interface LongDouble {
  readonly neg: boolean;
  readonly m: bigint;
  readonly e: number;
}

/** Infinity (a valid strtold input: "inf", "+infinity"); any sum with it is rejected. */
const LD_INF: LongDouble = { neg: false, m: -1n, e: 0 };
const LD_ZERO: LongDouble = { neg: false, m: 0n, e: 0 };
/** Exponent of the smallest subnormal's unit: 2^-16445. */
const LD_EXP_MIN = -16445;
/** Every finite value is below 2^16384. */
const LD_BITS_MAX = 16384;
/** Redis's MAX_LONG_DOUBLE_CHARS: longer inputs are refused. */
const LD_CHARS_MAX = 5 * 1024;
const FRACTION_DIGITS = 17;
const FRACTION_SCALE = 10n ** BigInt(FRACTION_DIGITS);

/** 10^k for the exponents everyday inputs use. */
const POW10: bigint[] = [];
for (let k = 0, p = 1n; k <= 64; k++, p *= 10n) POW10.push(p);

function pow10(k: number): bigint {
  return POW10[k] ?? 10n ** BigInt(k);
}

function bitLength(b: bigint): number {
  if (b === 0n) return 0;
  const hex = b.toString(16);
  return (hex.length - 1) * 4 + (32 - Math.clz32(parseInt(hex[0] ?? "0", 16)));
}

/** m >> shift rounded to nearest, ties to even (shift > 0). */
function shiftRoundEven(m: bigint, shift: number): bigint {
  if (shift > bitLength(m) + 1) return 0n;
  const sb = BigInt(shift);
  const q = m >> sb;
  const rem = m - (q << sb);
  const half = 1n << (sb - 1n);
  return rem > half || (rem === half && (q & 1n) === 1n) ? q + 1n : q;
}

/** Rounds M * 2^E to a long double; null when it overflows to infinity. */
function roundToLongDouble(neg: boolean, M: bigint, E: number): LongDouble | null {
  if (M === 0n) return { neg, m: 0n, e: 0 };
  const shift = Math.max(bitLength(M) - 64, LD_EXP_MIN - E);
  let m = M;
  let e = E;
  if (shift > 0) {
    m = shiftRoundEven(M, shift);
    e = E + shift;
    if (m === 1n << 64n) {
      m = 1n << 63n;
      e++;
    }
  }
  if (m === 0n) return { neg, m: 0n, e: 0 };
  if (bitLength(m) + e > LD_BITS_MAX) return null;
  return { neg, m, e };
}

/** digits * 10^exp10 rounded to a long double (exact rational arithmetic). */
function decimalToLongDouble(neg: boolean, digits: bigint, exp10: number): LongDouble | null {
  if (exp10 >= 0) return roundToLongDouble(neg, digits * pow10(exp10), 0);
  const den = pow10(-exp10);
  // Enough quotient bits (>= 66) that the rounding point lies above the sticky bit.
  const s = Math.max(0, 66 + bitLength(den) - bitLength(digits));
  const num = digits << BigInt(s);
  const q = num / den;
  const sticky = num % den === 0n ? 0n : 1n;
  return roundToLongDouble(neg, (q << 1n) | sticky, -s - 1);
}

const LD_SYNTAX =
  /^([+-]?)(?:(inf|infinity)|0x(?:([0-9a-f]+)(?:\.([0-9a-f]*))?|\.([0-9a-f]+))(?:p([+-]?\d+))?|(?:(\d+)(?:\.(\d*))?|\.(\d+))(?:e([+-]?\d+))?)$/i;

/**
 * Redis's string2ld: strtold over the whole string (decimal, hex, inf), no
 * leading space, no NaN, and no overflow or underflow to zero. Null when invalid.
 */
export function parseLongDouble(s: string): LongDouble | null {
  if (s.length === 0 || s.length >= LD_CHARS_MAX) return null;
  const m = LD_SYNTAX.exec(s);
  if (m === null) return null;
  const neg = m[1] === "-";
  if (m[2] !== undefined) return neg ? { ...LD_INF, neg } : LD_INF;
  let r: LongDouble | null;
  if (m[3] !== undefined || m[5] !== undefined) {
    const hex = (m[3] ?? "") + (m[4] ?? m[5] ?? "");
    const frac = (m[4] ?? m[5] ?? "").length;
    const mant = BigInt("0x" + hex);
    if (mant === 0n) return { neg, m: 0n, e: 0 };
    const e = Number(m[6] ?? "0") - 4 * frac;
    const top = bitLength(mant) + e;
    if (top > LD_BITS_MAX + 1) return null;
    if (top < LD_EXP_MIN - 1) return null;
    r = roundToLongDouble(neg, mant, e);
  } else {
    const intPart = m[7] ?? "";
    const frac = m[8] ?? m[9] ?? "";
    const digitStr = (intPart + frac).replace(/^0+/, "");
    if (digitStr === "") return { neg, m: 0n, e: 0 };
    const exp10 = Number(m[10] ?? "0") - frac.length;
    const magnitude = digitStr.length + exp10; // value < 10^magnitude
    if (magnitude > 4933) return null; // beyond LDBL_MAX ~ 1.19e4932
    if (magnitude < -4950) return null; // below half the smallest subnormal
    r = decimalToLongDouble(neg, BigInt(digitStr), exp10);
  }
  // strtold's ERANGE: overflow to infinity or underflow to zero is refused.
  if (r === null || r.m === 0n) return null;
  return r;
}

/** a + b rounded as the FPU does; null for an infinite or NaN result. */
export function addLongDouble(a: LongDouble, b: LongDouble): LongDouble | null {
  if (a.m < 0n || b.m < 0n) return null;
  if (a.m === 0n) return b;
  if (b.m === 0n) return a;
  const e = Math.min(a.e, b.e);
  const sa = a.m << BigInt(a.e - e);
  const sb = b.m << BigInt(b.e - e);
  const sum = (a.neg ? -sa : sa) + (b.neg ? -sb : sb);
  if (sum === 0n) return LD_ZERO;
  return roundToLongDouble(sum < 0n, sum < 0n ? -sum : sum, e);
}

/** printf("%.17Lf") (exact, ties to even), trailing zeros stripped, "-0" as "0". */
export function formatLongDouble(v: LongDouble): string {
  let scaled: bigint;
  if (v.e >= 0) scaled = (v.m << BigInt(v.e)) * FRACTION_SCALE;
  else scaled = shiftRoundEven(v.m * FRACTION_SCALE, -v.e);
  const digits = scaled.toString().padStart(FRACTION_DIGITS + 1, "0");
  const intPart = digits.slice(0, -FRACTION_DIGITS);
  const frac = digits.slice(-FRACTION_DIGITS).replace(/0+$/, "");
  const out = (v.neg ? "-" : "") + intPart + (frac === "" ? "" : "." + frac);
  return out === "-0" ? "0" : out;
}

function incrbyfloat(ctx: Ctx, argv: string[]): Reply {
  const key = argv[1] ?? "";
  const v = ctx.lookupWrite(key);
  if (v !== undefined && typeof v !== "string") return E.wrongType;
  const current = v === undefined ? LD_ZERO : parseLongDouble(v);
  const by = parseLongDouble(argv[2] ?? "");
  if (current === null || by === null) return E.notFloat;
  const sum = addLongDouble(current, by);
  if (sum === null) return ERR_NAN_OR_INF;
  const text = formatLongDouble(sum);
  ctx.setKey(key, text, true);
  ctx.dirty++;
  // Replicas store the text, never redo float arithmetic.
  ctx.emit(["SET", key, text, "KEEPTTL"]);
  return bulk(text);
}

// ---------------------------------------------------------------------------

export const STRING_COMMANDS: readonly CommandSpec[] = [
  { name: "get", arity: 2, flags: ["readonly", "fast"], keys: [1, 1, 1], group: "string", run: get },
  { name: "set", arity: -3, flags: ["write", "denyoom"], keys: [1, 1, 1], effects: "explicit", group: "string", run: set },
  { name: "setnx", arity: 3, flags: ["write", "denyoom", "fast"], keys: [1, 1, 1], effects: "explicit", group: "string", run: setnx },
  { name: "setex", arity: 4, flags: ["write", "denyoom"], keys: [1, 1, 1], effects: "explicit", group: "string", run: setex },
  { name: "psetex", arity: 4, flags: ["write", "denyoom"], keys: [1, 1, 1], effects: "explicit", group: "string", run: psetex },
  { name: "getex", arity: -2, flags: ["write", "fast"], keys: [1, 1, 1], effects: "explicit", group: "string", run: getex },
  { name: "getdel", arity: 2, flags: ["write", "fast"], keys: [1, 1, 1], effects: "explicit", group: "string", run: getdel },
  { name: "getset", arity: 3, flags: ["write", "denyoom", "fast"], keys: [1, 1, 1], effects: "explicit", group: "string", run: getset },
  { name: "mget", arity: -2, flags: ["readonly", "fast"], keys: [1, -1, 1], group: "string", run: mget },
  { name: "mset", arity: -3, flags: ["write", "denyoom"], keys: [1, -1, 2], group: "string", run: mset },
  { name: "msetnx", arity: -3, flags: ["write", "denyoom"], keys: [1, -1, 2], group: "string", run: msetnx },
  { name: "append", arity: 3, flags: ["write", "denyoom", "fast"], keys: [1, 1, 1], group: "string", run: append },
  { name: "strlen", arity: 2, flags: ["readonly", "fast"], keys: [1, 1, 1], group: "string", run: strlen },
  { name: "getrange", arity: 4, flags: ["readonly"], keys: [1, 1, 1], group: "string", run: getrange },
  { name: "substr", arity: 4, flags: ["readonly"], keys: [1, 1, 1], group: "string", run: getrange },
  { name: "setrange", arity: 4, flags: ["write", "denyoom"], keys: [1, 1, 1], group: "string", run: setrange },
  { name: "incr", arity: 2, flags: ["write", "denyoom", "fast"], keys: [1, 1, 1], group: "string", run: incr },
  { name: "decr", arity: 2, flags: ["write", "denyoom", "fast"], keys: [1, 1, 1], group: "string", run: decr },
  { name: "incrby", arity: 3, flags: ["write", "denyoom", "fast"], keys: [1, 1, 1], group: "string", run: incrby },
  { name: "decrby", arity: 3, flags: ["write", "denyoom", "fast"], keys: [1, 1, 1], group: "string", run: decrby },
  { name: "incrbyfloat", arity: 3, flags: ["write", "denyoom", "fast"], keys: [1, 1, 1], effects: "explicit", group: "string", run: incrbyfloat },
];
