// Sorted set commands (Redis's t_zset.c), blocking variants excepted. Writes
// are verbatim effects except: ZADD INCR / ZINCRBY, replicated as
// `ZADD key <resulting score, 17 digits> member` so float arithmetic never
// runs twice; and the pops, replicated as `ZREM key <popped members>`.
import { formatDouble17g } from "../../resp/format";
import { array, bulk, bulks, double, EMPTY_ARRAY, err, int, NULL, NULL_ARRAY, ZERO, type Reply } from "../../resp/reply";
import { numkeysKeys, type CommandSpec } from "../command";
import type { Config } from "../config";
import type { Ctx } from "../context";
import { E } from "../errors";
import { globMatch } from "../glob";
import { parseInt64 } from "../num";
import { SetObject } from "../types/set";
import { gteMin, LEX_LINEAR_MAX, lexGteMin, lexLteMax, lteMax, ZSetObject, type LexBound, type LexRange, type ScoreRange, type ZEntry } from "../types/zset";
import {
  EMPTY_SCAN,
  ERR_INVALID_CURSOR,
  ERR_MUST_BE_POSITIVE,
  ERR_TOO_MANY_RANDOM,
  parseCursor,
  parseRandomCount,
  parseScanOptions,
  randomDistinct,
  RANDOM_REPLY_MAX,
} from "./set";

const K1: readonly [number, number, number] = [1, 1, 1];

const ERR_MINMAX_FLOAT = err("ERR min or max is not a float");
const ERR_MINMAX_LEX = err("ERR min or max not valid string range item");
const ERR_NAN = err("ERR resulting score is not a number (NaN)");
const ERR_XX_NX = err("ERR XX and NX options at the same time are not compatible");
const ERR_GT_LT_NX = err("ERR GT, LT, and/or NX options at the same time are not compatible");
const ERR_INCR_PAIR = err("ERR INCR option supports a single increment-element pair");
const ERR_WEIGHT = err("ERR weight value is not a float");
const ERR_LIMIT_RANK = err("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX");
const ERR_WITHSCORES_LEX = err("ERR syntax error, WITHSCORES not supported in combination with BYLEX");
const ERR_OUT_OF_RANGE = err("ERR value is out of range");
const ERR_NUMKEYS = err("ERR numkeys should be greater than 0");
const ERR_COUNT = err("ERR count should be greater than 0");
const ERR_LIMIT = err("ERR LIMIT can't be negative");

/** LONG_MAX / 2: ZRANDMEMBER's bound on a count WITHSCORES (its reply is twice as long). */
const HALF_LONG_MAX = 4611686018427387903n;

// ---------------------------------------------------------------------------
// Lookup, limits, parsing

/** The sorted set at `key`: the set, null when missing, or WRONGTYPE. */
export function zsetAt(ctx: Ctx, key: string, write: boolean): ZSetObject | null | Reply {
  const v = write ? ctx.lookupWrite(key) : ctx.lookupRead(key);
  if (v === undefined) return null;
  return v instanceof ZSetObject ? v : E.wrongType;
}

function isReply(x: ZSetObject | Reply | null): x is Reply {
  return x !== null && !(x instanceof ZSetObject);
}

interface ZLimits {
  entries: number;
  value: number;
}

/** The listpack limits, cached per config and refreshed by CONFIG SET. */
const limitsByConfig = new WeakMap<Config, ZLimits>();

function limits(ctx: Ctx): ZLimits {
  const config = ctx.engine.config;
  let l = limitsByConfig.get(config);
  if (l === undefined) {
    const fresh: ZLimits = { entries: config.getInt("zset-max-listpack-entries"), value: config.getInt("zset-max-listpack-value") };
    config.onChange("zset-max-listpack-entries", () => (fresh.entries = config.getInt("zset-max-listpack-entries")));
    config.onChange("zset-max-listpack-value", () => (fresh.value = config.getInt("zset-max-listpack-value")));
    limitsByConfig.set(config, fresh);
    l = fresh;
  }
  return l;
}

/**
 * Commands store -0 as 0. Redis's listpack does so (the default for small
 * sets) and its skiplist does not; one rule for every set keeps the reply
 * the same whatever encoding Redis would have picked.
 */
function canonicalScore(score: number): number {
  return score === 0 ? 0 : score;
}

/** Redis's one-way listpack -> skiplist conversion after inserting `member`. */
function noteInsert(z: ZSetObject, member: string, l: ZLimits): void {
  if (z.listpack && (z.length > l.entries || member.length > l.value)) z.listpack = false;
}

function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const l = c | 0x20;
  return l >= 97 && l <= 102 ? l - 87 : -1;
}

interface Strtod {
  value: number;
  /** Index just past the number; `from` when nothing was converted. */
  end: number;
  /** C's ERANGE: the number over- or underflowed. */
  erange: boolean;
}

/** C's strtod from s[from]: leading spaces, sign, inf/infinity/nan, hex or decimal. */
export function strtod(s: string, from: number): Strtod {
  let i = from;
  while (i < s.length && isSpace(s.charCodeAt(i))) i++;
  const signAt = i;
  const c = s.charCodeAt(i);
  const neg = c === 45;
  if (c === 43 || c === 45) i++;
  const word = s.slice(i, i + 8).toLowerCase();
  if (word.startsWith("inf")) {
    const v = neg ? -Infinity : Infinity;
    return { value: v, end: i + (word === "infinity" ? 8 : 3), erange: false };
  }
  if (word.startsWith("nan")) return { value: NaN, end: nanEnd(s, i + 3), erange: false };
  if (s.charCodeAt(i) === 48 && (s.charCodeAt(i + 1) | 0x20) === 120) {
    const h = hexFloat(s, i + 2, neg);
    if (h !== null) return h;
  }
  let j = i;
  let digits = 0;
  let nonZero = false;
  for (; isDigit(s.charCodeAt(j)); j++, digits++) if (s.charCodeAt(j) !== 48) nonZero = true;
  if (s.charCodeAt(j) === 46) for (j++; isDigit(s.charCodeAt(j)); j++, digits++) if (s.charCodeAt(j) !== 48) nonZero = true;
  if (digits === 0) return { value: 0, end: from, erange: false };
  if ((s.charCodeAt(j) | 0x20) === 101) {
    let k = j + 1;
    if (s.charCodeAt(k) === 43 || s.charCodeAt(k) === 45) k++;
    if (isDigit(s.charCodeAt(k))) {
      while (isDigit(s.charCodeAt(k))) k++;
      j = k;
    }
  }
  const value = Number(s.slice(signAt, j));
  const erange = !Number.isFinite(value) || (value === 0 && nonZero);
  return { value, end: j, erange };
}

/** "nan" may be followed by "(chars)" in C. */
function nanEnd(s: string, at: number): number {
  if (s.charCodeAt(at) !== 40) return at;
  for (let k = at + 1; k < s.length; k++) {
    const c = s.charCodeAt(k);
    if (c === 41) return k + 1;
    if (!(isDigit(c) || hexDigit(c) >= 0 || (c | 0x20) >= 97 && (c | 0x20) <= 122 || c === 95)) return at;
  }
  return at;
}

/** A hex float after "0x" at `at`; null when no hex digit follows (then only the "0" converts). */
function hexFloat(s: string, at: number, neg: boolean): Strtod | null {
  let j = at;
  let v = 0;
  let digits = 0;
  let scale = 0;
  for (; hexDigit(s.charCodeAt(j)) >= 0; j++, digits++) v = v * 16 + hexDigit(s.charCodeAt(j));
  if (s.charCodeAt(j) === 46) {
    for (j++; hexDigit(s.charCodeAt(j)) >= 0; j++, digits++) {
      v = v * 16 + hexDigit(s.charCodeAt(j));
      scale -= 4;
    }
  }
  if (digits === 0) return null;
  if ((s.charCodeAt(j) | 0x20) === 112) {
    let k = j + 1;
    const eneg = s.charCodeAt(k) === 45;
    if (s.charCodeAt(k) === 43 || eneg) k++;
    if (isDigit(s.charCodeAt(k))) {
      let e = 0;
      for (; isDigit(s.charCodeAt(k)); k++) e = Math.min(1e6, e * 10 + s.charCodeAt(k) - 48);
      scale += eneg ? -e : e;
      j = k;
    }
  }
  const value = (neg ? -v : v) * 2 ** scale;
  return { value, end: j, erange: !Number.isFinite(value) || (value === 0 && v !== 0) };
}

/** Redis's getDoubleFromObject: the whole string, no leading space, no overflow, not NaN. */
export function parseScore(s: string): number | null {
  if (s.length === 0 || isSpace(s.charCodeAt(0))) return null;
  // The common case, an optionally negative integer of up to 15 digits, is
  // exact in a double: no need for strtod's general path.
  const len = s.length;
  if (len <= 16) {
    let i = s.charCodeAt(0) === 45 ? 1 : 0;
    if (i < len && len - i <= 15) {
      let v = 0;
      for (; i < len; i++) {
        const c = s.charCodeAt(i);
        if (c < 48 || c > 57) break;
        v = v * 10 + (c - 48);
      }
      if (i === len) return s.charCodeAt(0) === 45 ? -v : v;
    }
  }
  const r = strtod(s, 0);
  if (r.end !== s.length || Number.isNaN(r.value) || r.erange) return null;
  return r.value;
}

/** One end of a score range: "(" makes it exclusive; strtod up to the end (or a NUL byte). */
function parseScoreBound(s: string): { value: number; ex: boolean } | null {
  const ex = s.charCodeAt(0) === 40;
  const r = strtod(s, ex ? 1 : 0);
  if (r.end < s.length && s.charCodeAt(r.end) !== 0) return null;
  if (Number.isNaN(r.value)) return null;
  return { value: r.value, ex };
}

export function parseScoreRange(min: string, max: string): ScoreRange | null {
  const a = parseScoreBound(min);
  const b = parseScoreBound(max);
  if (a === null || b === null) return null;
  return { min: a.value, max: b.value, minex: a.ex, maxex: b.ex };
}

function parseLexBound(s: string): LexBound | null {
  switch (s.charCodeAt(0)) {
    case 43:
      return s.length === 1 ? { value: "", inf: 1, ex: true } : null;
    case 45:
      return s.length === 1 ? { value: "", inf: -1, ex: true } : null;
    case 40:
      return { value: s.slice(1), inf: 0, ex: true };
    case 91:
      return { value: s.slice(1), inf: 0, ex: false };
    default:
      return null;
  }
}

export function parseLexRange(min: string, max: string): LexRange | null {
  const a = parseLexBound(min);
  const b = parseLexBound(max);
  return a === null || b === null ? null : { min: a, max: b };
}

/** A C long argument as a JS number (int64 values past 2^53 lose only precision). */
function parseLong(s: string): number | null {
  const n = parseInt64(s);
  return n === null ? null : Number(n);
}

// ---------------------------------------------------------------------------
// Replies

/** Members, or with scores: flat in RESP2, [member, score] pairs in RESP3. */
function pairsReply(ctx: Ctx, entries: readonly ZEntry[], withScores: boolean): Reply {
  if (!withScores) return bulks(entries.map((e) => e.member));
  return ctx.session.resp === 3 ? nestedPairs(entries) : flatPairs(entries);
}

function flatPairs(entries: readonly ZEntry[]): Reply {
  const items: Reply[] = [];
  for (const e of entries) items.push(bulk(e.member), double(e.score));
  return array(items);
}

function nestedPairs(entries: readonly ZEntry[]): Reply {
  return array(entries.map((e) => array([bulk(e.member), double(e.score)])));
}

// ---------------------------------------------------------------------------
// ZADD / ZINCRBY

const ZADD_NX = 1;
const ZADD_XX = 2;
const ZADD_GT = 4;
const ZADD_LT = 8;
const ZADD_INCR = 16;

type AddOutcome = "added" | "updated" | "same" | "nop" | "nan";

/** Redis's zsetAdd for one pair; on success `last.score` holds the member's score. */
const last = { score: 0 };

function zsetAdd(z: ZSetObject, score: number, member: string, flags: number, l: ZLimits): AddOutcome {
  const cur = z.score(member);
  if (cur !== undefined) {
    if (flags & ZADD_NX) return "nop";
    let s = score;
    if (flags & ZADD_INCR) {
      s += cur;
      if (Number.isNaN(s)) return "nan";
    }
    if ((flags & ZADD_LT && s >= cur) || (flags & ZADD_GT && s <= cur)) return "nop";
    last.score = s;
    if (s === cur) return "same";
    last.score = canonicalScore(s);
    z.update(member, last.score);
    return "updated";
  }
  if (flags & ZADD_XX) return "nop";
  last.score = canonicalScore(score);
  z.add(member, last.score);
  noteInsert(z, member, l);
  return "added";
}

function zadd(ctx: Ctx, argv: string[]): Reply {
  let flags = 0;
  let ch = false;
  let i = 2;
  for (; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    // Options are 2-4 letters; anything longer, or starting with something
    // other than a letter, is the first score.
    const lowerFirst = arg.charCodeAt(0) | 0x20;
    if (arg.length > 4 || arg.length < 2 || lowerFirst < 0x61 || lowerFirst > 0x7a) break;
    const opt = arg.toLowerCase();
    if (opt === "nx") flags |= ZADD_NX;
    else if (opt === "xx") flags |= ZADD_XX;
    else if (opt === "ch") ch = true;
    else if (opt === "incr") flags |= ZADD_INCR;
    else if (opt === "gt") flags |= ZADD_GT;
    else if (opt === "lt") flags |= ZADD_LT;
    else break;
  }
  const elements = argv.length - i;
  if (elements === 0 || elements % 2 !== 0) return E.syntax;
  if (flags & ZADD_NX && flags & ZADD_XX) return ERR_XX_NX;
  const nx = (flags & ZADD_NX) !== 0;
  if ((flags & ZADD_GT && nx) || (flags & ZADD_LT && nx) || (flags & ZADD_GT && flags & ZADD_LT)) return ERR_GT_LT_NX;
  if (flags & ZADD_INCR && elements > 2) return ERR_INCR_PAIR;
  return zaddPairs(ctx, argv, i, flags, ch);
}

function zincrby(ctx: Ctx, argv: string[]): Reply {
  return zaddPairs(ctx, argv, 2, ZADD_INCR, false);
}

/** Applies the score/member pairs at argv[from..]; the options are already checked. */
function zaddPairs(ctx: Ctx, argv: string[], from: number, flags: number, ch: boolean): Reply {
  const scores: number[] = [];
  for (let j = from; j < argv.length; j += 2) {
    const s = parseScore(argv[j] ?? "");
    if (s === null) return E.notFloat;
    scores.push(s);
  }
  const key = argv[1] ?? "";
  const incr = (flags & ZADD_INCR) !== 0;
  const found = zsetAt(ctx, key, true);
  if (isReply(found)) return found;
  if (found === null && flags & ZADD_XX) return incr ? NULL : ZERO;
  const l = limits(ctx);
  const z = found ?? new ZSetObject();
  if (found === null) z.listpack = l.entries !== 0 && (argv[from + 1] ?? "").length <= l.value;
  let added = 0;
  let updated = 0;
  let processed = 0;
  let failed = false;
  for (let j = 0; j < scores.length; j++) {
    const outcome = zsetAdd(z, scores[j] ?? 0, argv[from + 1 + 2 * j] ?? "", flags, l);
    if (outcome === "nan") {
      failed = true;
      break;
    }
    if (outcome === "added") added++;
    else if (outcome === "updated") updated++;
    if (outcome !== "nop") processed++;
  }
  if (added + updated > 0) {
    if (found === null) ctx.setKey(key, z);
    else ctx.touch(key);
    ctx.dirty += added + updated;
    ctx.emit(incr ? ["ZADD", key, formatDouble17g(last.score), argv[from + 1] ?? ""] : argv);
  }
  if (failed) return ERR_NAN;
  if (incr) return processed > 0 ? double(last.score) : NULL;
  return int(ch ? added + updated : added);
}

// ---------------------------------------------------------------------------
// Simple reads and ZREM

function zrem(ctx: Ctx, argv: string[]): Reply {
  const key = argv[1] ?? "";
  const z = zsetAt(ctx, key, true);
  if (isReply(z)) return z;
  if (z === null) return ZERO;
  let deleted = 0;
  for (let i = 2; i < argv.length; i++) {
    if (z.delete(argv[i] ?? "")) deleted++;
    if (z.length === 0) break;
  }
  if (deleted === 0) return ZERO;
  if (z.length === 0) ctx.deleteKey(key);
  else ctx.touch(key);
  ctx.dirty += deleted;
  return int(deleted);
}

function zcard(ctx: Ctx, argv: string[]): Reply {
  const z = zsetAt(ctx, argv[1] ?? "", false);
  if (isReply(z)) return z;
  return int(z === null ? 0 : z.length);
}

function zscore(ctx: Ctx, argv: string[]): Reply {
  const z = zsetAt(ctx, argv[1] ?? "", false);
  if (isReply(z)) return z;
  const s = z?.score(argv[2] ?? "");
  return s === undefined ? NULL : double(s);
}

function zmscore(ctx: Ctx, argv: string[]): Reply {
  const z = zsetAt(ctx, argv[1] ?? "", false);
  if (isReply(z)) return z;
  const out: Reply[] = [];
  for (let i = 2; i < argv.length; i++) {
    const s = z?.score(argv[i] ?? "");
    out.push(s === undefined ? NULL : double(s));
  }
  return array(out);
}

function zrankGeneric(ctx: Ctx, argv: string[], reverse: boolean): Reply {
  const z = zsetAt(ctx, argv[1] ?? "", false);
  if (isReply(z)) return z;
  const rank = z === null ? -1 : z.rank(argv[2] ?? "");
  if (z === null || rank < 0) return NULL;
  return int(reverse ? z.length - 1 - rank : rank);
}

/** Entries from rank `first` to `last` inclusive (0 when either is missing or they cross). */
function spanCount(first: number, last: number): number {
  if (first < 0 || last < 0) return 0;
  return Math.max(0, last - first + 1);
}

function zcount(ctx: Ctx, argv: string[]): Reply {
  const r = parseScoreRange(argv[2] ?? "", argv[3] ?? "");
  if (r === null) return ERR_MINMAX_FLOAT;
  const z = zsetAt(ctx, argv[1] ?? "", false);
  if (isReply(z)) return z;
  if (z === null) return ZERO;
  return int(spanCount(z.firstInRange(r), z.lastInRange(r)));
}

function zlexcount(ctx: Ctx, argv: string[]): Reply {
  const r = parseLexRange(argv[2] ?? "", argv[3] ?? "");
  if (r === null) return ERR_MINMAX_LEX;
  const z = zsetAt(ctx, argv[1] ?? "", false);
  if (isReply(z)) return z;
  if (z === null) return ZERO;
  // Walking from the first match agrees with the rank difference when the
  // scores are equal, and with Redis's listpack when they are not.
  if (z.length <= LEX_LINEAR_MAX) return int(rangeByLex(z, r, 0, -1, false).length);
  return int(spanCount(z.firstInLexRange(r), z.lastInLexRange(r)));
}

// ---------------------------------------------------------------------------
// ZRANGE and friends

type RangeBy = "auto" | "rank" | "score" | "lex";
type Direction = "auto" | "forward" | "reverse";

/** Ranks [start, end] (negative from the end) with Redis's clamping, in either direction. */
export function rangeByRank(z: ZSetObject, start: number, end: number, reverse: boolean): ZEntry[] {
  const len = z.length;
  let s = start < 0 ? len + start : start;
  let e = end < 0 ? len + end : end;
  if (s < 0) s = 0;
  if (s > e || s >= len) return [];
  if (e >= len) e = len - 1;
  return z.collect(reverse ? len - 1 - s : s, reverse, e - s + 1);
}

/** From rank `start` (skipping `offset` entries) while `inRange`, at most `limit` (negative: all). */
function walkRange(z: ZSetObject, start: number, offset: number, limit: number, reverse: boolean, inRange: (e: ZEntry) => boolean): ZEntry[] {
  // A negative offset walks off the end in Redis: nothing is returned.
  if (start < 0 || offset < 0 || (offset > 0 && offset >= z.length)) return [];
  return z.collect(reverse ? start - offset : start + offset, reverse, limit, inRange);
}

function rangeByScore(z: ZSetObject, r: ScoreRange, offset: number, limit: number, reverse: boolean): ZEntry[] {
  const start = reverse ? z.lastInRange(r) : z.firstInRange(r);
  return walkRange(z, start, offset, limit, reverse, (n) => (reverse ? gteMin(n.score, r) : lteMax(n.score, r)));
}

function rangeByLex(z: ZSetObject, r: LexRange, offset: number, limit: number, reverse: boolean): ZEntry[] {
  const start = reverse ? z.lastInLexRange(r) : z.firstInLexRange(r);
  return walkRange(z, start, offset, limit, reverse, (n) => (reverse ? lexGteMin(n.member, r) : lexLteMax(n.member, r)));
}

interface RangeRequest {
  by: "rank" | "score" | "lex";
  reverse: boolean;
  withScores: boolean;
  offset: number;
  limit: number;
  minArg: string;
  maxArg: string;
}

/** Parses `<src> <min> <max> [options]` from argv[src] the way zrangeGenericCommand does. */
function parseRangeRequest(argv: string[], src: number, store: boolean, by0: RangeBy, dir0: Direction): RangeRequest | Reply {
  let by = by0;
  let dir = dir0;
  let withScores = false;
  let offset = 0;
  let limit = -1;
  for (let j = src + 3; j < argv.length; j++) {
    const opt = (argv[j] ?? "").toLowerCase();
    if (!store && opt === "withscores") withScores = true;
    else if (opt === "limit" && argv.length - j - 1 >= 2) {
      const o = parseLong(argv[j + 1] ?? "");
      const l = parseLong(argv[j + 2] ?? "");
      if (o === null || l === null) return E.notInteger;
      offset = o;
      limit = l;
      j += 2;
    } else if (dir === "auto" && opt === "rev") dir = "reverse";
    else if (by === "auto" && opt === "bylex") by = "lex";
    else if (by === "auto" && opt === "byscore") by = "score";
    else return E.syntax;
  }
  const rangeBy = by === "auto" ? "rank" : by;
  const reverse = dir === "reverse";
  if (limit !== -1 && rangeBy === "rank") return ERR_LIMIT_RANK;
  if (withScores && rangeBy === "lex") return ERR_WITHSCORES_LEX;
  // BYSCORE/BYLEX in reverse take the range as <max> <min>.
  const swap = reverse && rangeBy !== "rank";
  const minArg = argv[swap ? src + 2 : src + 1] ?? "";
  const maxArg = argv[swap ? src + 1 : src + 2] ?? "";
  return { by: rangeBy, reverse, withScores, offset, limit, minArg, maxArg };
}

/** The entries `q` selects from `z`, or an error reply for a bad range. */
type Selector = (z: ZSetObject) => ZEntry[];

function rangeSelector(q: RangeRequest): Selector | Reply {
  switch (q.by) {
    case "rank": {
      const start = parseLong(q.minArg);
      const end = parseLong(q.maxArg);
      if (start === null || end === null) return E.notInteger;
      return (z) => rangeByRank(z, start, end, q.reverse);
    }
    case "score": {
      const r = parseScoreRange(q.minArg, q.maxArg);
      if (r === null) return ERR_MINMAX_FLOAT;
      return (z) => rangeByScore(z, r, q.offset, q.limit, q.reverse);
    }
    case "lex": {
      const r = parseLexRange(q.minArg, q.maxArg);
      if (r === null) return ERR_MINMAX_LEX;
      return (z) => rangeByLex(z, r, q.offset, q.limit, q.reverse);
    }
  }
}

/** ZRANGE, ZREVRANGE, Z[REV]RANGEBY{SCORE,LEX}, and ZRANGESTORE (dst !== null). */
function zrangeGeneric(ctx: Ctx, argv: string[], src: number, dst: string | null, by: RangeBy, dir: Direction): Reply {
  const q = parseRangeRequest(argv, src, dst !== null, by, dir);
  if ("kind" in q) return q;
  const select = rangeSelector(q);
  if (typeof select !== "function") return select;
  const z = zsetAt(ctx, argv[src] ?? "", false);
  if (isReply(z)) return z;
  const entries = z === null ? [] : select(z);
  if (dst !== null) return storeZset(ctx, dst, entries);
  return pairsReply(ctx, entries, q.withScores);
}

/** Stores pairs (in rank order, members distinct) at `dst`, or deletes dst when there are none. */
function storeZset(ctx: Ctx, dst: string, pairs: readonly ZEntry[]): Reply {
  if (pairs.length === 0) {
    if (ctx.deleteKey(dst)) ctx.dirty++;
    return ZERO;
  }
  const l = limits(ctx);
  const z = new ZSetObject();
  let longest = 0;
  for (const p of pairs) {
    z.add(p.member, canonicalScore(p.score));
    if (p.member.length > longest) longest = p.member.length;
  }
  z.listpack = z.length <= l.entries && longest <= l.value;
  ctx.setKey(dst, z);
  ctx.dirty++;
  return int(z.length);
}

// ---------------------------------------------------------------------------
// ZREMRANGEBY*

function zremrangeGeneric(ctx: Ctx, argv: string[], by: "rank" | "score" | "lex"): Reply {
  const q: RangeRequest = { by, reverse: false, withScores: false, offset: 0, limit: -1, minArg: argv[2] ?? "", maxArg: argv[3] ?? "" };
  const select = rangeSelector(q);
  if (typeof select !== "function") return select;
  const key = argv[1] ?? "";
  const z = zsetAt(ctx, key, true);
  if (isReply(z)) return z;
  if (z === null) return ZERO;
  const removed = select(z);
  if (removed.length === 0) return ZERO;
  for (const e of removed) z.delete(e.member);
  if (z.length === 0) ctx.deleteKey(key);
  else ctx.touch(key);
  ctx.dirty += removed.length;
  return int(removed.length);
}

// ---------------------------------------------------------------------------
// Pops (the blocking variants will reuse popCandidate / popFrom)

export type PopWhere = "min" | "max";

export interface Popped {
  readonly key: string;
  readonly entries: readonly ZEntry[];
}

/** The first of `keys` holding a sorted set (missing keys are skipped), null if none, or WRONGTYPE. */
export function popCandidate(ctx: Ctx, keys: readonly string[]): { key: string; z: ZSetObject } | null | Reply {
  for (const key of keys) {
    const z = zsetAt(ctx, key, true);
    if (isReply(z)) return z;
    if (z !== null) return { key, z };
  }
  return null;
}

/**
 * Pops up to `count` (>= 1) members from the low or high end of `z` at `key`,
 * emitting `ZREM key <members>` and deleting the key once empty.
 */
export function popFrom(ctx: Ctx, key: string, z: ZSetObject, where: PopWhere, count: number): Popped {
  const n = Math.min(count, z.length);
  const entries = where === "min" ? z.deleteRange(0, n) : z.deleteRange(z.length - n, n).reverse();
  if (entries.length > 0) {
    const argv = ["ZREM", key];
    for (const e of entries) argv.push(e.member);
    ctx.emit(argv);
    if (z.length === 0) ctx.deleteKey(key);
    else ctx.touch(key);
    ctx.dirty += entries.length;
  }
  return { key, entries };
}

function zpop(ctx: Ctx, argv: string[], where: PopWhere): Reply {
  if (argv.length > 3) return E.syntax;
  let count = -1;
  if (argv.length === 3) {
    const n = parseInt64(argv[2] ?? "");
    if (n === null || n < 0) return ERR_MUST_BE_POSITIVE;
    count = Math.min(Number(n), Number.MAX_SAFE_INTEGER);
  }
  const c = popCandidate(ctx, [argv[1] ?? ""]);
  if (c === null) return EMPTY_ARRAY;
  if ("kind" in c) return c;
  if (count === 0) return EMPTY_ARRAY;
  const p = popFrom(ctx, c.key, c.z, where, count === -1 ? 1 : count);
  return ctx.session.resp === 3 && count !== -1 ? nestedPairs(p.entries) : flatPairs(p.entries);
}

export interface ZmpopArgs {
  readonly keys: readonly string[];
  readonly where: PopWhere;
  readonly count: number;
}

/** `numkeys key... MIN|MAX [COUNT n]` from argv[numkeysAt] (ZMPOP, and BZMPOP after its timeout). */
export function parseZmpopArgs(argv: readonly string[], numkeysAt: number): ZmpopArgs | Reply {
  const numkeys = parseInt64(argv[numkeysAt] ?? "");
  if (numkeys === null || numkeys < 1) return ERR_NUMKEYS;
  const whereAt = numkeysAt + 1 + Number(numkeys);
  if (whereAt >= argv.length) return E.syntax;
  const w = (argv[whereAt] ?? "").toLowerCase();
  if (w !== "min" && w !== "max") return E.syntax;
  let count = -1;
  for (let j = whereAt + 1; j < argv.length; j++) {
    if (count === -1 && (argv[j] ?? "").toLowerCase() === "count" && j + 1 < argv.length) {
      const n = parseInt64(argv[++j] ?? "");
      if (n === null || n < 1) return ERR_COUNT;
      count = Math.min(Number(n), Number.MAX_SAFE_INTEGER);
    } else {
      return E.syntax;
    }
  }
  return { keys: argv.slice(numkeysAt + 1, whereAt), where: w, count: count === -1 ? 1 : count };
}

/** ZMPOP's reply: [key, [[member, score], ...]] in both protocols. */
export function zmpopReply(p: Popped): Reply {
  return array([bulk(p.key), nestedPairs(p.entries)]);
}

function zmpop(ctx: Ctx, argv: string[]): Reply {
  const a = parseZmpopArgs(argv, 1);
  if ("kind" in a) return a;
  const c = popCandidate(ctx, a.keys);
  if (c === null) return NULL_ARRAY;
  if ("kind" in c) return c;
  return zmpopReply(popFrom(ctx, c.key, c.z, a.where, a.count));
}

// ---------------------------------------------------------------------------
// ZRANDMEMBER

function zrandmember(ctx: Ctx, argv: string[]): Reply {
  if (argv.length >= 3) {
    const n = parseRandomCount(argv[2] ?? "");
    if (typeof n === "object") return n;
    if (argv.length > 4 || (argv.length === 4 && (argv[3] ?? "").toLowerCase() !== "withscores")) return E.syntax;
    const withScores = argv.length === 4;
    if (withScores && (BigInt(n) < -HALF_LONG_MAX || BigInt(n) > HALF_LONG_MAX)) return ERR_OUT_OF_RANGE;
    return zrandmemberWithCount(ctx, argv[1] ?? "", n, withScores);
  }
  const z = zsetAt(ctx, argv[1] ?? "", false);
  if (isReply(z)) return z;
  if (z === null) return NULL;
  return bulk(z.randomEntry(ctx.random()).member);
}

function zrandmemberWithCount(ctx: Ctx, key: string, n: number | bigint, withScores: boolean): Reply {
  const z = zsetAt(ctx, key, false);
  if (isReply(z)) return z;
  if (z === null || n === 0 || n === 0n) return EMPTY_ARRAY;
  const size = z.length;
  if (n < 0 || n === 1) {
    const count = n === 1 ? 1 : -Number(n);
    if (count > RANDOM_REPLY_MAX) return ERR_TOO_MANY_RANDOM;
    const picks: ZEntry[] = new Array<ZEntry>(count);
    for (let i = 0; i < count; i++) picks[i] = z.randomEntry(ctx.random());
    return pairsReply(ctx, picks, withScores);
  }
  if (typeof n === "bigint" || n >= size) return pairsReply(ctx, rangeByRank(z, 0, -1, false), withScores);
  const picks: ZEntry[] = [];
  for (const rank of randomDistinct(ctx, size, n)) {
    const e = z.at(rank);
    if (e !== null) picks.push(e);
  }
  return pairsReply(ctx, picks, withScores);
}

// ---------------------------------------------------------------------------
// ZUNION / ZINTER / ZDIFF (+STORE) and ZINTERCARD

type SetOp = "union" | "inter" | "diff";
type Aggregate = "sum" | "min" | "max";

interface Source {
  readonly obj: ZSetObject | SetObject | null;
  weight: number;
}

function sourceLength(s: Source): number {
  return s.obj === null ? 0 : s.obj.length;
}

/** The member's score in a source (1 for a plain set member), or undefined. */
function sourceScore(obj: ZSetObject | SetObject | null, member: string): number | undefined {
  if (obj === null) return undefined;
  if (obj instanceof SetObject) return obj.has(member) ? 1 : undefined;
  return obj.score(member);
}

function forEachEntry(obj: ZSetObject | SetObject | null, fn: (member: string, score: number) => boolean | void): void {
  if (obj === null) return;
  if (obj instanceof SetObject) {
    for (const m of obj.ordered()) if (fn(m, 1) === false) return;
    return;
  }
  for (const e of obj.collect(0, false, -1)) if (fn(e.member, e.score) === false) return;
}

function aggregate(target: number, value: number, how: Aggregate): number {
  switch (how) {
    case "sum": {
      const s = target + value;
      return Number.isNaN(s) ? 0 : s;
    }
    case "min":
      return value < target ? value : target;
    case "max":
      return value > target ? value : target;
  }
}

interface SetOpRequest {
  sources: Source[];
  how: Aggregate;
  withScores: boolean;
  limit: number;
}

/** Parses `numkeys key... [WEIGHTS ...] [AGGREGATE ...] [WITHSCORES] [LIMIT n]` like zunionInterDiffGenericCommand. */
function parseSetOp(ctx: Ctx, argv: string[], numkeysAt: number, op: SetOp, store: boolean, cardOnly: boolean, name: string): SetOpRequest | Reply {
  const nk = parseInt64(argv[numkeysAt] ?? "");
  if (nk === null) return E.notInteger;
  if (nk < 1) return err(`ERR at least 1 input key is needed for '${name}' command`);
  if (nk > argv.length - (numkeysAt + 1)) return E.syntax;
  const n = Number(nk);
  const sources: Source[] = [];
  for (let i = 0; i < n; i++) {
    const v = ctx.lookupRead(argv[numkeysAt + 1 + i] ?? "");
    if (v !== undefined && !(v instanceof ZSetObject) && !(v instanceof SetObject)) return E.wrongType;
    sources.push({ obj: v ?? null, weight: 1 });
  }
  const req: SetOpRequest = { sources, how: "sum", withScores: false, limit: 0 };
  for (let j = numkeysAt + 1 + n; j < argv.length; ) {
    const remaining = argv.length - j;
    const opt = (argv[j] ?? "").toLowerCase();
    if (op !== "diff" && !cardOnly && remaining >= n + 1 && opt === "weights") {
      j++;
      for (const s of sources) {
        const w = parseScore(argv[j++] ?? "");
        if (w === null) return ERR_WEIGHT;
        s.weight = w;
      }
    } else if (op !== "diff" && !cardOnly && remaining >= 2 && opt === "aggregate") {
      const how = (argv[j + 1] ?? "").toLowerCase();
      if (how !== "sum" && how !== "min" && how !== "max") return E.syntax;
      req.how = how;
      j += 2;
    } else if (!store && !cardOnly && opt === "withscores") {
      req.withScores = true;
      j++;
    } else if (cardOnly && remaining >= 2 && opt === "limit") {
      const l = parseInt64(argv[j + 1] ?? "");
      if (l === null || l < 0) return ERR_LIMIT;
      req.limit = typeof l === "bigint" ? 0 : l;
      j += 2;
    } else {
      return E.syntax;
    }
  }
  return req;
}

interface Pair {
  member: string;
  score: number;
}

function unionOf(sources: readonly Source[], how: Aggregate): Pair[] {
  const acc = new Map<string, number>();
  for (const src of sources) {
    forEachEntry(src.obj, (m, s) => {
      let v = src.weight * s;
      if (Number.isNaN(v)) v = 0;
      const cur = acc.get(m);
      acc.set(m, cur === undefined ? v : aggregate(cur, v, how));
    });
  }
  const out: Pair[] = [];
  for (const [member, score] of acc) out.push({ member, score });
  return out;
}

/** Members in every source with aggregated scores; stops after `limit` when limit > 0. */
function interOf(sources: readonly Source[], how: Aggregate, limit: number): Pair[] {
  const out: Pair[] = [];
  const [first, ...rest] = sources;
  if (first === undefined || sourceLength(first) === 0) return out;
  forEachEntry(first.obj, (m, s) => {
    let score = first.weight * s;
    if (Number.isNaN(score)) score = 0;
    for (const other of rest) {
      const found = other.obj === first.obj ? s : sourceScore(other.obj, m);
      if (found === undefined) return true;
      score = aggregate(score, found * other.weight, how);
    }
    out.push({ member: m, score });
    return !(limit > 0 && out.length >= limit);
  });
  return out;
}

function diffOf(sources: readonly Source[]): Pair[] {
  const out: Pair[] = [];
  const [first, ...rest] = sources;
  if (first === undefined || sourceLength(first) === 0) return out;
  if (rest.some((s) => s.obj === first.obj)) return out;
  forEachEntry(first.obj, (m, s) => {
    if (!rest.some((o) => sourceScore(o.obj, m) !== undefined)) out.push({ member: m, score: s });
  });
  return out;
}

function byScoreThenMember(a: Pair, b: Pair): number {
  if (a.score !== b.score) return a.score < b.score ? -1 : 1;
  return a.member < b.member ? -1 : a.member > b.member ? 1 : 0;
}

function zsetOp(ctx: Ctx, argv: string[], op: SetOp, store: boolean, cardOnly: boolean): Reply {
  const name = (argv[0] ?? "").toLowerCase();
  const req = parseSetOp(ctx, argv, store ? 2 : 1, op, store, cardOnly, name);
  if ("kind" in req) return req;
  // Like Redis: union and intersection visit the smallest inputs first (float sums depend on order).
  const sources = op === "diff" ? req.sources : req.sources.slice().sort((a, b) => sourceLength(a) - sourceLength(b));
  if (cardOnly) return int(interOf(sources, req.how, req.limit).length);
  const pairs = op === "union" ? unionOf(sources, req.how) : op === "inter" ? interOf(sources, req.how, 0) : diffOf(sources);
  pairs.sort(byScoreThenMember);
  if (store) return storeZset(ctx, argv[1] ?? "", pairs);
  return pairsReply(ctx, pairs, req.withScores);
}

// ---------------------------------------------------------------------------
// ZSCAN

/** Redis's d2string, which a listpack stores scores with: integral values print as integers. */
function listpackScore(x: number): string {
  if (Number.isInteger(x) && Math.abs(x) <= 4611686018427387903) return Object.is(x, -0) ? "-0" : BigInt(x).toString();
  return formatDouble17g(x);
}

function zscan(ctx: Ctx, argv: string[]): Reply {
  const cursor = parseCursor(argv[2] ?? "");
  if (cursor === null) return ERR_INVALID_CURSOR;
  const z = zsetAt(ctx, argv[1] ?? "", false);
  if (isReply(z)) return z;
  if (z === null) return EMPTY_SCAN;
  const o = parseScanOptions(argv, 3);
  if ("kind" in o) return o;
  const step = z.scan(cursor, o.count);
  const fmt = z.listpack ? listpackScore : formatDouble17g;
  const flat: string[] = [];
  for (const n of step.entries) {
    if (o.pattern !== null && !globMatch(o.pattern, n.member)) continue;
    flat.push(n.member, fmt(n.score));
  }
  return array([bulk(String(step.next)), bulks(flat)]);
}

// ---------------------------------------------------------------------------

const W = ["write"] as const;
const WD = ["write", "denyoom"] as const;
const RO = ["readonly"] as const;
const ROF = ["readonly", "fast"] as const;

export const ZSET_COMMANDS: readonly CommandSpec[] = [
  { name: "zadd", arity: -4, flags: ["write", "denyoom", "fast"], keys: K1, effects: "explicit", group: "sorted-set", run: zadd },
  { name: "zincrby", arity: 4, flags: ["write", "denyoom", "fast"], keys: K1, effects: "explicit", group: "sorted-set", run: zincrby },
  { name: "zrem", arity: -3, flags: ["write", "fast"], keys: K1, group: "sorted-set", run: zrem },
  { name: "zcard", arity: 2, flags: ROF, keys: K1, group: "sorted-set", run: zcard },
  { name: "zcount", arity: 4, flags: ROF, keys: K1, group: "sorted-set", run: zcount },
  { name: "zlexcount", arity: 4, flags: ROF, keys: K1, group: "sorted-set", run: zlexcount },
  { name: "zscore", arity: 3, flags: ROF, keys: K1, group: "sorted-set", run: zscore },
  { name: "zmscore", arity: -3, flags: ROF, keys: K1, group: "sorted-set", run: zmscore },
  { name: "zrank", arity: 3, flags: ROF, keys: K1, group: "sorted-set", run: (ctx, argv) => zrankGeneric(ctx, argv, false) },
  { name: "zrevrank", arity: 3, flags: ROF, keys: K1, group: "sorted-set", run: (ctx, argv) => zrankGeneric(ctx, argv, true) },
  { name: "zrange", arity: -4, flags: RO, keys: K1, group: "sorted-set", run: (ctx, argv) => zrangeGeneric(ctx, argv, 1, null, "auto", "auto") },
  { name: "zrangestore", arity: -5, flags: WD, keys: [1, 2, 1], group: "sorted-set", run: (ctx, argv) => zrangeGeneric(ctx, argv, 2, argv[1] ?? "", "auto", "auto") },
  { name: "zrevrange", arity: -4, flags: RO, keys: K1, group: "sorted-set", run: (ctx, argv) => zrangeGeneric(ctx, argv, 1, null, "rank", "reverse") },
  { name: "zrangebyscore", arity: -4, flags: RO, keys: K1, group: "sorted-set", run: (ctx, argv) => zrangeGeneric(ctx, argv, 1, null, "score", "forward") },
  { name: "zrevrangebyscore", arity: -4, flags: RO, keys: K1, group: "sorted-set", run: (ctx, argv) => zrangeGeneric(ctx, argv, 1, null, "score", "reverse") },
  { name: "zrangebylex", arity: -4, flags: RO, keys: K1, group: "sorted-set", run: (ctx, argv) => zrangeGeneric(ctx, argv, 1, null, "lex", "forward") },
  { name: "zrevrangebylex", arity: -4, flags: RO, keys: K1, group: "sorted-set", run: (ctx, argv) => zrangeGeneric(ctx, argv, 1, null, "lex", "reverse") },
  { name: "zremrangebyrank", arity: 4, flags: W, keys: K1, group: "sorted-set", run: (ctx, argv) => zremrangeGeneric(ctx, argv, "rank") },
  { name: "zremrangebyscore", arity: 4, flags: W, keys: K1, group: "sorted-set", run: (ctx, argv) => zremrangeGeneric(ctx, argv, "score") },
  { name: "zremrangebylex", arity: 4, flags: W, keys: K1, group: "sorted-set", run: (ctx, argv) => zremrangeGeneric(ctx, argv, "lex") },
  { name: "zpopmin", arity: -2, flags: ["write", "fast"], keys: K1, effects: "explicit", group: "sorted-set", run: (ctx, argv) => zpop(ctx, argv, "min") },
  { name: "zpopmax", arity: -2, flags: ["write", "fast"], keys: K1, effects: "explicit", group: "sorted-set", run: (ctx, argv) => zpop(ctx, argv, "max") },
  { name: "zmpop", arity: -4, flags: W, getKeys: numkeysKeys(1), effects: "explicit", group: "sorted-set", run: zmpop },
  { name: "zrandmember", arity: -2, flags: RO, keys: K1, group: "sorted-set", run: zrandmember },
  { name: "zunion", arity: -3, flags: RO, getKeys: numkeysKeys(1), group: "sorted-set", run: (ctx, argv) => zsetOp(ctx, argv, "union", false, false) },
  { name: "zinter", arity: -3, flags: RO, getKeys: numkeysKeys(1), group: "sorted-set", run: (ctx, argv) => zsetOp(ctx, argv, "inter", false, false) },
  { name: "zdiff", arity: -3, flags: RO, getKeys: numkeysKeys(1), group: "sorted-set", run: (ctx, argv) => zsetOp(ctx, argv, "diff", false, false) },
  { name: "zunionstore", arity: -4, flags: WD, keys: K1, getKeys: numkeysKeys(2, [1]), group: "sorted-set", run: (ctx, argv) => zsetOp(ctx, argv, "union", true, false) },
  { name: "zinterstore", arity: -4, flags: WD, keys: K1, getKeys: numkeysKeys(2, [1]), group: "sorted-set", run: (ctx, argv) => zsetOp(ctx, argv, "inter", true, false) },
  { name: "zdiffstore", arity: -4, flags: WD, keys: K1, getKeys: numkeysKeys(2, [1]), group: "sorted-set", run: (ctx, argv) => zsetOp(ctx, argv, "diff", true, false) },
  { name: "zintercard", arity: -3, flags: RO, getKeys: numkeysKeys(1), group: "sorted-set", run: (ctx, argv) => zsetOp(ctx, argv, "inter", false, true) },
  { name: "zscan", arity: -3, flags: RO, keys: K1, group: "sorted-set", run: zscan },
];
