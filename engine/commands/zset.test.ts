import fc from "fast-check";
import t from "tap";
import { formatDouble17g } from "../../resp/format";
import { encodeReply } from "../../resp/encoder";
import { array, bulk, bulks, double, EMPTY_ARRAY, err, int, NULL, NULL_ARRAY, OK, type Reply } from "../../resp/reply";
import type { Effect } from "../context";
import { Engine } from "../engine";
import { parseScore, strtod } from "./zset";

const WRONGTYPE = err("WRONGTYPE Operation against a key holding the wrong kind of value");
const SYNTAX = err("ERR syntax error");

function wire(r: Reply, proto: 2 | 3): string {
  return encodeReply(r, proto).toString("latin1");
}

// ---------------------------------------------------------------------------
// The naive model: key -> (member -> score) | set members | string, sorted on demand.

type ZModel = Map<string, number>;
type Model = Map<string, ZModel | Set<string> | string>;
type Pair = [string, number];

function sorted(z: ZModel): Pair[] {
  return [...z].sort((a, b) => (a[1] !== b[1] ? (a[1] < b[1] ? -1 : 1) : a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

function zAt(m: Model, k: string): ZModel | null | Reply {
  const v = m.get(k);
  if (v === undefined) return null;
  return v instanceof Map ? v : WRONGTYPE;
}

function isZ(x: ZModel | null | Reply): x is ZModel | null {
  return x === null || x instanceof Map;
}

let proto: 2 | 3 = 2;

function pairs(ps: readonly Pair[], withScores: boolean): Reply {
  if (!withScores) return bulks(ps.map((p) => p[0]));
  if (proto === 3) return array(ps.map(([mm, s]) => array([bulk(mm), double(s)])));
  return array(ps.flatMap(([mm, s]) => [bulk(mm), double(s)]));
}

function num(s: string): number {
  return parseScore(s) ?? NaN;
}

function scoreBound(s: string): [number, boolean] {
  return s.startsWith("(") ? [num(s.slice(1)), true] : [num(s), false];
}

function inScore(x: number, min: string, max: string): boolean {
  const [lo, loEx] = scoreBound(min);
  const [hi, hiEx] = scoreBound(max);
  return (loEx ? x > lo : x >= lo) && (hiEx ? x < hi : x <= hi);
}

/** Compare a member with a lex bound ("-", "+", "[x", "(x"). */
function lexCmp(mm: string, b: string): number {
  if (b === "-") return 1;
  if (b === "+") return -1;
  const v = b.slice(1);
  return mm < v ? -1 : mm > v ? 1 : 0;
}

function gteLex(mm: string, b: string): boolean {
  return b.startsWith("[") ? lexCmp(mm, b) >= 0 : lexCmp(mm, b) > 0;
}

function lteLex(mm: string, b: string): boolean {
  return b.startsWith("[") ? lexCmp(mm, b) <= 0 : lexCmp(mm, b) < 0;
}

/** Redis's quick rejections: ends in order, the last member >= min and the first <= max. */
function lexMayMatch(ps: Pair[], min: string, max: string): boolean {
  const rank = (b: string): number => (b === "-" ? -1 : b === "+" ? 1 : 0);
  const bmin = rank(min);
  const bmax = rank(max);
  const c = bmin !== 0 || bmax !== 0 ? Math.sign(bmin - bmax) : min.slice(1) < max.slice(1) ? -1 : min.slice(1) > max.slice(1) ? 1 : 0;
  if (c > 0 || (c === 0 && (!min.startsWith("[") || !max.startsWith("[")))) return false;
  const first = ps[0];
  const last = ps[ps.length - 1];
  return first !== undefined && last !== undefined && gteLex(last[0], min) && lteLex(first[0], max);
}

/** Redis's listpack walk: the first member >= min (if it is <= max) and the run after it that stays <= max. */
function lexRun(ps: Pair[], min: string, max: string): Pair[] {
  if (!lexMayMatch(ps, min, max)) return [];
  const out: Pair[] = [];
  for (let i = ps.findIndex((p) => gteLex(p[0], min)); i >= 0 && i < ps.length && lteLex(ps[i]?.[0] ?? "", max); i++) out.push(ps[i] ?? ["", 0]);
  return out;
}

/** The reverse walk: the last member <= max (if it is >= min) and the run before it that stays >= min. */
function lexRunRev(ps: Pair[], max: string, min: string): Pair[] {
  if (!lexMayMatch(ps, min, max)) return [];
  let end = ps.length - 1;
  while (end >= 0 && !lteLex(ps[end]?.[0] ?? "", max)) end--;
  const out: Pair[] = [];
  for (let i = end; i >= 0 && gteLex(ps[i]?.[0] ?? "", min); i--) out.push(ps[i] ?? ["", 0]);
  return out;
}

/**
 * Redis's LIMIT over a lex range: find the first (or, reversed, last) member in
 * range, skip `offset` members without looking at them, then take members while
 * they stay within the far bound. With mixed scores (lex order unspecified)
 * this differs from slicing the in-range run, and real Redis does this.
 */
function lexLimited(ps: Pair[], min: string, max: string, offset: number, count: number, rev: boolean): Pair[] {
  if (offset < 0) return [];
  const run = rev ? lexRunRev(ps, max, min) : lexRun(ps, min, max);
  const head = run[0];
  if (head === undefined) return [];
  const step = rev ? -1 : 1;
  const out: Pair[] = [];
  for (let i = ps.indexOf(head) + step * offset; i >= 0 && i < ps.length && (count < 0 || out.length < count); i += step) {
    const p = ps[i] as Pair;
    if (rev ? !gteLex(p[0], min) : !lteLex(p[0], max)) break;
    out.push(p);
  }
  return out;
}

function limited(ps: Pair[], offset: number, count: number): Pair[] {
  if (offset < 0) return [];
  return count < 0 ? ps.slice(offset) : ps.slice(offset, offset + count);
}

function rankSlice(ps: Pair[], start: number, stop: number): Pair[] {
  const n = ps.length;
  let s = start < 0 ? n + start : start;
  let e = stop < 0 ? n + stop : stop;
  if (s < 0) s = 0;
  if (s > e || s >= n) return [];
  if (e >= n) e = n - 1;
  return ps.slice(s, e + 1);
}

function store(m: Model, dst: string, ps: Pair[]): Reply {
  if (ps.length === 0) m.delete(dst);
  else m.set(dst, new Map(ps.map(([mm, s]): Pair => [mm, s === 0 ? 0 : s])));
  return int(ps.length);
}

// ---------------------------------------------------------------------------
// Commands

const KEYS = ["z1", "z2", "z3", "str", "set"];
const key = fc.constantFrom(...KEYS);
const member = fc.constantFrom("a", "b", "c", "d", "e", "ab");
const score = fc.constantFrom("0", "1", "2", "-1", "0.5", "inf", "-inf", "3", "1e300");
const scoreArg = fc.oneof(score, score.map((s) => `(${s}`), fc.constantFrom("-inf", "+inf", "x"));
const lexArg = fc.oneof(fc.constantFrom("-", "+", "x"), member.map((x) => `[${x}`), member.map((x) => `(${x}`));
const smallInt = fc.integer({ min: -4, max: 6 }).map(String);
const keys = fc.array(key, { minLength: 1, maxLength: 3 });

const zaddFlags = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom<string[]>([], [], ["NX"], ["XX"], ["GT"], ["LT"], ["CH"], ["XX", "GT", "CH"], ["LT", "CH"], ["INCR"], ["GT", "INCR"], ["LT", "INCR"]) },
  { weight: 1, arbitrary: fc.subarray(["NX", "XX", "GT", "LT", "CH", "INCR"]) },
);
const zadd = fc.tuple(key, zaddFlags, fc.array(fc.tuple(score, member), { minLength: 1, maxLength: 4 })).map(([k, f, ps]) => ["ZADD", k, ...f, ...(f.includes("INCR") ? ps.slice(0, 1) : ps).flat()]);
const command: fc.Arbitrary<string[]> = fc.oneof(
  zadd,
  zadd,
  zadd,
  fc.tuple(key, score, member).map(([k, s, x]) => ["ZINCRBY", k, s, x]),
  fc.tuple(key, fc.array(member, { minLength: 1, maxLength: 3 })).map(([k, ms]) => ["ZREM", k, ...ms]),
  fc.tuple(fc.constantFrom("ZCARD"), key).map(([c, k]) => [c, k]),
  fc.tuple(fc.constantFrom("ZSCORE", "ZRANK", "ZREVRANK"), key, member).map(([c, k, x]) => [c, k, x]),
  fc.tuple(key, fc.array(member, { minLength: 1, maxLength: 3 })).map(([k, ms]) => ["ZMSCORE", k, ...ms]),
  fc.tuple(fc.constantFrom("ZRANGE", "ZREVRANGE"), key, smallInt, smallInt, fc.boolean()).map(([c, k, a, b, w]) => [c, k, a, b, ...(w ? ["WITHSCORES"] : [])]),
  fc.tuple(fc.constantFrom("ZRANGEBYSCORE", "ZREVRANGEBYSCORE"), key, scoreArg, scoreArg, fc.boolean(), fc.option(fc.tuple(smallInt, smallInt))).map(([c, k, a, b, w, l]) => [c, k, a, b, ...(w ? ["WITHSCORES"] : []), ...(l === null ? [] : ["LIMIT", ...l])]),
  fc.tuple(fc.constantFrom("ZRANGEBYLEX", "ZREVRANGEBYLEX"), key, lexArg, lexArg, fc.option(fc.tuple(smallInt, smallInt))).map(([c, k, a, b, l]) => [c, k, a, b, ...(l === null ? [] : ["LIMIT", ...l])]),
  fc.tuple(key, scoreArg, scoreArg).map(([k, a, b]) => ["ZCOUNT", k, a, b]),
  fc.tuple(key, lexArg, lexArg).map(([k, a, b]) => ["ZLEXCOUNT", k, a, b]),
  fc.tuple(key, smallInt, smallInt).map(([k, a, b]) => ["ZREMRANGEBYRANK", k, a, b]),
  fc.tuple(key, scoreArg, scoreArg).map(([k, a, b]) => ["ZREMRANGEBYSCORE", k, a, b]),
  fc.tuple(key, lexArg, lexArg).map(([k, a, b]) => ["ZREMRANGEBYLEX", k, a, b]),
  fc.tuple(fc.constantFrom("ZPOPMIN", "ZPOPMAX"), key, fc.option(smallInt)).map(([c, k, n]) => [c, k, ...(n === null ? [] : [n])]),
  fc.tuple(keys, fc.constantFrom("MIN", "MAX"), fc.option(smallInt)).map(([ks, w, n]) => ["ZMPOP", String(ks.length), ...ks, w, ...(n === null ? [] : ["COUNT", n])]),
  fc.tuple(fc.constantFrom("ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE"), key, keys, fc.boolean(), fc.option(fc.constantFrom("SUM", "MIN", "MAX"))).map(([c, d, ks, w, agg]) => [c, d, String(ks.length), ...ks, ...(w && c !== "ZDIFFSTORE" ? ["WEIGHTS", ...ks.map((_, i) => String(i - 1))] : []), ...(agg === null || c === "ZDIFFSTORE" ? [] : ["AGGREGATE", agg])]),
  fc.tuple(fc.constantFrom("ZUNION", "ZINTER", "ZDIFF"), keys, fc.boolean()).map(([c, ks, w]) => [c, String(ks.length), ...ks, ...(w ? ["WITHSCORES"] : [])]),
  fc.tuple(keys, fc.nat(3)).map(([ks, l]) => ["ZINTERCARD", String(ks.length), ...ks, "LIMIT", String(l)]),
  fc.tuple(key, key, smallInt, smallInt).map(([d, s, a, b]) => ["ZRANGESTORE", d, s, a, b]),
  fc.tuple(key, fc.option(fc.integer({ min: -5, max: 5 })), fc.boolean()).map(([k, n, w]) => ["ZRANDMEMBER", k, ...(n === null ? [] : [String(n), ...(w ? ["WITHSCORES"] : [])])]),
  fc.constantFrom<string[]>(["SET", "str", "v"], ["DEL", "z1"], ["SADD", "set", "a", "c", "q"]),
);

function modelZadd(m: Model, a: string[]): Reply {
  const k = a[1] ?? "";
  let i = 2;
  const f = new Set<string>();
  while (i < a.length && ["NX", "XX", "GT", "LT", "CH", "INCR"].includes(a[i] ?? "")) f.add(a[i++] ?? "");
  const rest = a.slice(i);
  if (rest.length === 0 || rest.length % 2 !== 0) return SYNTAX;
  if (f.has("NX") && f.has("XX")) return err("ERR XX and NX options at the same time are not compatible");
  if ((f.has("GT") || f.has("LT")) && (f.has("NX") || (f.has("GT") && f.has("LT")))) return err("ERR GT, LT, and/or NX options at the same time are not compatible");
  if (f.has("INCR") && rest.length > 2) return err("ERR INCR option supports a single increment-element pair");
  return applyPairs(m, k, f, rest);
}

function applyPairs(m: Model, k: string, f: Set<string>, rest: string[]): Reply {
  const z0 = zAt(m, k);
  if (!isZ(z0)) return z0;
  const incr = f.has("INCR");
  if (z0 === null && f.has("XX")) return incr ? NULL : int(0);
  const z = z0 ?? new Map<string, number>();
  let added = 0;
  let changed = 0;
  let last: number | null = null;
  for (let j = 0; j < rest.length; j += 2) {
    const x = rest[j + 1] ?? "";
    const cur = z.get(x);
    let s = num(rest[j] ?? "");
    if (cur === undefined) {
      if (f.has("XX")) continue;
      z.set(x, s === 0 ? 0 : s);
      added++;
      last = s;
      continue;
    }
    if (f.has("NX")) continue;
    if (incr) s += cur;
    if (Number.isNaN(s)) return err("ERR resulting score is not a number (NaN)");
    if ((f.has("LT") && s >= cur) || (f.has("GT") && s <= cur)) continue;
    last = s;
    if (s !== cur) {
      z.set(x, s === 0 ? 0 : s);
      changed++;
    }
  }
  if (z.size > 0) m.set(k, z);
  if (incr) return last === null ? NULL : double(last);
  return int(f.has("CH") ? added + changed : added);
}

function modelRead(z: ZModel | null, a: string[]): Reply {
  const [cmd = "", , x = "", y = ""] = a;
  const ps = z === null ? [] : sorted(z);
  const w = a.includes("WITHSCORES");
  const li = a.indexOf("LIMIT");
  const off = li < 0 ? 0 : Number(a[li + 1]);
  const cnt = li < 0 ? -1 : Number(a[li + 2]);
  switch (cmd) {
    case "ZCARD":
      return int(ps.length);
    case "ZSCORE":
      return z?.has(x) === true ? double(z.get(x) ?? 0) : NULL;
    case "ZMSCORE":
      return array(a.slice(2).map((mm) => (z?.has(mm) === true ? double(z.get(mm) ?? 0) : NULL)));
    case "ZRANK":
    case "ZREVRANK": {
      const r = ps.findIndex((p) => p[0] === x);
      return r < 0 ? NULL : int(cmd === "ZRANK" ? r : ps.length - 1 - r);
    }
    case "ZRANGE":
      return pairs(rankSlice(ps, Number(x), Number(y)), w);
    case "ZREVRANGE":
      return pairs(rankSlice(ps.slice().reverse(), Number(x), Number(y)), w);
    case "ZRANGEBYSCORE":
      return pairs(limited(ps.filter((p) => inScore(p[1], x, y)), off, cnt), w);
    case "ZREVRANGEBYSCORE":
      return pairs(limited(ps.filter((p) => inScore(p[1], y, x)).reverse(), off, cnt), w);
    case "ZRANGEBYLEX":
      return pairs(lexLimited(ps, x, y, off, cnt, false), false);
    case "ZREVRANGEBYLEX":
      return pairs(lexLimited(ps, y, x, off, cnt, true), false);
    case "ZCOUNT":
      return int(ps.filter((p) => inScore(p[1], x, y)).length);
    case "ZLEXCOUNT":
      return int(lexRun(ps, x, y).length);
    default:
      throw new Error(`no read ${cmd}`);
  }
}

function rangeArgsBad(a: string[]): Reply | null {
  const [cmd = "", , x = "", y = ""] = a;
  if (/BYSCORE|ZCOUNT|REMRANGEBYSCORE/.test(cmd) && (x === "x" || y === "x" || x === "(x" || y === "(x")) return err("ERR min or max is not a float");
  if (/LEX/.test(cmd) && (x === "x" || y === "x")) return err("ERR min or max not valid string range item");
  return null;
}

function modelRemRange(m: Model, z: ZModel | null, a: string[]): Reply {
  const [cmd = "", k = "", x = "", y = ""] = a;
  if (z === null) return int(0);
  const ps = sorted(z);
  const gone = cmd === "ZREMRANGEBYRANK" ? rankSlice(ps, Number(x), Number(y)) : cmd === "ZREMRANGEBYSCORE" ? ps.filter((p) => inScore(p[1], x, y)) : lexRun(ps, x, y);
  for (const [mm] of gone) z.delete(mm);
  if (z.size === 0) m.delete(k);
  return int(gone.length);
}

function popFrom(m: Model, k: string, z: ZModel, where: string, n: number): Pair[] {
  const ps = sorted(z);
  const taken = where === "MIN" ? ps.slice(0, n) : ps.slice().reverse().slice(0, n);
  for (const [mm] of taken) z.delete(mm);
  if (z.size === 0) m.delete(k);
  return taken;
}

function modelPop(m: Model, a: string[]): Reply {
  const [cmd = "", k = "", n] = a;
  if (n !== undefined && Number(n) < 0) return err("ERR value is out of range, must be positive");
  const z = zAt(m, k);
  if (!isZ(z)) return z;
  if (z === null || n === "0") return EMPTY_ARRAY;
  const taken = popFrom(m, k, z, cmd === "ZPOPMIN" ? "MIN" : "MAX", n === undefined ? 1 : Number(n));
  if (proto === 3 && n !== undefined) return array(taken.map(([mm, s]) => array([bulk(mm), double(s)])));
  return array(taken.flatMap(([mm, s]) => [bulk(mm), double(s)]));
}

function modelZmpop(m: Model, a: string[]): Reply {
  const nk = Number(a[1]);
  const ks = a.slice(2, 2 + nk);
  const where = a[2 + nk] ?? "";
  const ci = a.indexOf("COUNT");
  const n = ci < 0 ? 1 : Number(a[ci + 1]);
  if (n < 1) return err("ERR count should be greater than 0");
  for (const k of ks) {
    const z = zAt(m, k);
    if (!isZ(z)) return z;
    if (z === null) continue;
    const taken = popFrom(m, k, z, where, n);
    return array([bulk(k), array(taken.map(([mm, s]) => array([bulk(mm), double(s)])))]);
  }
  return NULL_ARRAY;
}

function sourceOf(m: Model, k: string): ZModel | null | Reply {
  const v = m.get(k);
  if (v === undefined) return null;
  if (v instanceof Set) return new Map([...v].map((x): Pair => [x, 1]));
  return v instanceof Map ? v : WRONGTYPE;
}

function agg(how: string, t0: number, v: number): number {
  if (how === "MIN") return v < t0 ? v : t0;
  if (how === "MAX") return v > t0 ? v : t0;
  const s = t0 + v;
  return Number.isNaN(s) ? 0 : s;
}

function combine(op: string, srcs: { z: ZModel | null; w: number }[], how: string): Pair[] {
  const size = (s: { z: ZModel | null }): number => s.z?.size ?? 0;
  const order = op === "DIFF" ? srcs : srcs.slice().sort((p, q) => size(p) - size(q));
  const out = new Map<string, number>();
  const [first, ...rest] = order;
  if (first === undefined) return [];
  if (op === "UNION") {
    for (const s of order) for (const [mm, v0] of sorted(s.z ?? new Map())) {
      const v = Number.isNaN(v0 * s.w) ? 0 : v0 * s.w;
      const cur = out.get(mm);
      out.set(mm, cur === undefined ? v : agg(how, cur, v));
    }
  } else if (op === "INTER") {
    for (const [mm, v0] of sorted(first.z ?? new Map())) {
      let acc = Number.isNaN(v0 * first.w) ? 0 : v0 * first.w;
      const ok = rest.every((s) => {
        const v = s.z?.get(mm);
        if (v === undefined) return false;
        acc = agg(how, acc, v * s.w);
        return true;
      });
      if (ok) out.set(mm, acc);
    }
  } else if (!rest.some((s) => s.z !== null && s.z === first.z)) {
    for (const [mm, v0] of sorted(first.z ?? new Map())) if (!rest.some((s) => s.z?.has(mm) === true)) out.set(mm, v0);
  }
  return sorted(out);
}

function modelSetOp(m: Model, a: string[]): Reply {
  const cmd = a[0] ?? "";
  const isStore = cmd.endsWith("STORE");
  const at = isStore ? 2 : 1;
  const nk = Number(a[at]);
  const srcs: { z: ZModel | null; w: number }[] = [];
  for (const k of a.slice(at + 1, at + 1 + nk)) {
    const s = sourceOf(m, k);
    if (!isZ(s)) return s;
    srcs.push({ z: s, w: 1 });
  }
  // Plain sets are rebuilt on each lookup; identical keys must stay identical objects.
  const byKey = new Map<string, ZModel | null>();
  a.slice(at + 1, at + 1 + nk).forEach((k, i) => {
    const src = srcs[i];
    if (src === undefined) return;
    if (byKey.has(k)) src.z = byKey.get(k) ?? null;
    else byKey.set(k, src.z);
  });
  const wi = a.indexOf("WEIGHTS");
  if (wi >= 0) srcs.forEach((s, i) => (s.w = Number(a[wi + 1 + i])));
  const ai = a.indexOf("AGGREGATE");
  const how = ai < 0 ? "SUM" : (a[ai + 1] ?? "SUM");
  const op = cmd.replace("STORE", "").replace("CARD", "").slice(1);
  const result = combine(op, srcs, how);
  if (cmd === "ZINTERCARD") {
    const limit = Number(a[a.length - 1]);
    return int(limit > 0 ? Math.min(limit, result.length) : result.length);
  }
  if (isStore) return store(m, a[1] ?? "", result);
  return pairs(result, a.includes("WITHSCORES"));
}

function modelRun(m: Model, a: string[]): Reply {
  const [cmd = "", k = ""] = a;
  switch (cmd) {
    case "SET":
      m.set(k, a[2] ?? "");
      return OK;
    case "DEL":
      return int(m.delete(k) ? 1 : 0);
    case "SADD": {
      const v = m.get(k);
      if (v !== undefined && !(v instanceof Set)) return WRONGTYPE;
      const s = v ?? new Set<string>();
      const before = s.size;
      for (const x of a.slice(2)) s.add(x);
      m.set(k, s);
      return int(s.size - before);
    }
    case "ZADD":
      return modelZadd(m, a);
    case "ZINCRBY":
      return applyPairs(m, k, new Set(["INCR"]), [a[2] ?? "", a[3] ?? ""]);
    case "ZPOPMIN":
    case "ZPOPMAX":
      return modelPop(m, a);
    case "ZMPOP":
      return modelZmpop(m, a);
    case "ZUNIONSTORE":
    case "ZINTERSTORE":
    case "ZDIFFSTORE":
    case "ZUNION":
    case "ZINTER":
    case "ZDIFF":
    case "ZINTERCARD":
      return modelSetOp(m, a);
    default:
      return modelKeyed(m, a);
  }
}

function modelKeyed(m: Model, a: string[]): Reply {
  const [cmd = "", k = ""] = a;
  const bad = rangeArgsBad(a);
  if (bad !== null) return bad;
  if (cmd === "ZRANGESTORE") {
    const src = zAt(m, a[2] ?? "");
    if (!isZ(src)) return src;
    return store(m, k, src === null ? [] : rankSlice(sorted(src), Number(a[3]), Number(a[4])));
  }
  const z = zAt(m, k);
  if (!isZ(z)) return z;
  switch (cmd) {
    case "ZREM": {
      let n = 0;
      for (const x of a.slice(2)) if (z?.delete(x) === true) n++;
      if (z?.size === 0) m.delete(k);
      return int(n);
    }
    case "ZREMRANGEBYRANK":
    case "ZREMRANGEBYSCORE":
    case "ZREMRANGEBYLEX":
      return modelRemRange(m, z, a);
    default:
      return modelRead(z, a);
  }
}

/** ZRANDMEMBER: replies must name members with their scores, in the right number. */
function checkRandom(m: Model, a: string[], r: Reply): string | null {
  const z = zAt(m, a[1] ?? "");
  if (!isZ(z)) return wire(r, 2) === wire(z, 2) ? null : "expected WRONGTYPE";
  const withScores = a[3] === "WITHSCORES";
  const got: Pair[] = [];
  const items = r.kind === "bulks" ? r.values.map((v) => bulk(v ?? "")) : r.kind === "array" ? r.items : r.kind === "bulk" ? [r] : [];
  const flat = items.flatMap((i) => (i.kind === "array" ? i.items : [i]));
  for (let i = 0; i < flat.length; i += withScores ? 2 : 1) {
    const mm = flat[i];
    const s = flat[i + 1];
    got.push([mm?.kind === "bulk" ? mm.value : "?", withScores && s?.kind === "double" ? s.value : (z?.get(mm?.kind === "bulk" ? mm.value : "") ?? NaN)]);
  }
  if (got.some(([mm, s]) => z?.get(mm) !== s)) return `bad member or score ${JSON.stringify(got)}`;
  const size = z?.size ?? 0;
  if (a[2] === undefined) return size === 0 ? (r.kind === "null" ? null : "expected nil") : got.length === 1 ? null : "expected one member";
  const n = Number(a[2]);
  const want = n < 0 ? (size === 0 ? 0 : -n) : Math.min(n, size);
  if (got.length !== want) return `expected ${want}, got ${got.length}`;
  if (n > 0 && new Set(got.map((p) => p[0])).size !== got.length) return "members repeat";
  return null;
}

function snapshot(e: Engine): string {
  return [...e.db(0).data]
    .sort((x, y) => (x[0] < y[0] ? -1 : 1))
    .map(([k, v]) => `${k}=${typeof v === "string" ? v : v.kind === "zset" ? JSON.stringify(v.entries()) : v.kind === "set" ? v.toArray().sort().join(",") : v.kind}`)
    .join(" ");
}

function modelSnapshot(m: Model): string {
  return [...m]
    .sort((x, y) => (x[0] < y[0] ? -1 : 1))
    .map(([k, v]) => `${k}=${typeof v === "string" ? v : v instanceof Set ? [...v].sort().join(",") : JSON.stringify(sorted(v))}`)
    .join(" ");
}

t.test("sorted set commands match a naive model, and their effects rebuild the same data", async () => {
  fc.assert(
    fc.property(fc.array(command, { maxLength: 60, size: "max" }), fc.constantFrom(2 as const, 3 as const), (cmds, p) => {
      proto = p;
      const e = new Engine({});
      const session = e.newSession();
      session.resp = p;
      const replica = new Engine({});
      const m: Model = new Map();
      for (const a of cmds) {
        const { reply, effects } = e.execute(a, session);
        replica.apply(effects as Effect[]);
        if (a[0] === "ZRANDMEMBER") {
          const problem = checkRandom(m, a, reply);
          if (problem !== null) throw new Error(`${a.join(" ")}: ${problem}`);
        } else {
          const want = modelRun(m, a);
          if (wire(reply, p) !== wire(want, p)) throw new Error(`${a.join(" ")}: got ${JSON.stringify(wire(reply, p))} want ${JSON.stringify(wire(want, p))}`);
        }
        if (snapshot(e) !== modelSnapshot(m)) throw new Error(`after ${a.join(" ")}: ${snapshot(e)} vs model ${modelSnapshot(m)}`);
        if (snapshot(replica) !== snapshot(e)) throw new Error(`replica diverged after ${a.join(" ")}`);
      }
    }),
    { numRuns: 1000 },
  );
});

t.test("ZINCRBY and ZADD INCR replicate the resulting score exactly", async (t) => {
  const e = new Engine({});
  e.execute(["ZADD", "z", "0.1", "m"]);
  const r = e.execute(["ZINCRBY", "z", "0.2", "m"]);
  t.same(r.reply, double(0.1 + 0.2));
  t.same(
    r.effects.map((x) => x.argv),
    [["ZADD", "z", "0.30000000000000004", "m"]],
  );
  t.equal(wire(r.reply, 2), "$19\r\n0.30000000000000004\r\n");
  t.same(e.execute(["ZADD", "z", "INCR", "0", "m"]).effects, [], "an increment that changes nothing writes nothing");
  t.same(
    e.execute(["ZPOPMAX", "z"]).effects.map((x) => x.argv),
    [["ZREM", "z", "m"]],
  );
  t.same(e.execute(["ZADD", "z", "GT", "1", "a"]).effects.map((x) => x.argv), [["ZADD", "z", "GT", "1", "a"]], "plain ZADD is verbatim");
});

t.test("score parsing follows strtod and Redis's checks", async (t) => {
  t.equal(parseScore("1.5"), 1.5);
  t.equal(parseScore("+inf"), Infinity);
  t.equal(parseScore("-Infinity"), -Infinity);
  t.equal(parseScore("0x10"), 16);
  t.equal(parseScore("4e-320"), 4e-320, "a subnormal result is fine");
  t.equal(parseScore("1e400"), null, "overflow");
  t.equal(parseScore("1e-400"), null, "underflow to zero");
  t.equal(parseScore("nan"), null);
  t.equal(parseScore(" 1"), null);
  t.equal(parseScore("1 "), null);
  t.equal(parseScore(""), null);
  t.equal(parseScore("1e"), null);
  t.same(strtod("  -2.5e1x", 0), { value: -25, end: 8, erange: false });
  t.same(strtod("abc", 0), { value: 0, end: 0, erange: false });
  fc.assert(fc.property(fc.double({ noNaN: true }), (d) => Object.is(parseScore(formatDouble17g(d)), d)), { numRuns: 2000 });
});

t.test("ZSCAN of a large set returns each member once with its score", async (t) => {
  const e = new Engine({});
  const args: string[] = [];
  for (let i = 0; i < 300; i++) args.push(String(i / 3), `m${i}`);
  e.execute(["ZADD", "z", ...args]);
  const seen = new Map<string, string>();
  let cursor = "0";
  let calls = 0;
  do {
    const r = e.execute(["ZSCAN", "z", cursor, "COUNT", "20"]).reply;
    if (r.kind !== "array") throw new Error("bad reply");
    const [c, list] = r.items;
    cursor = c?.kind === "bulk" ? c.value : "0";
    if (list?.kind === "bulks") for (let i = 0; i < list.values.length; i += 2) seen.set(list.values[i] ?? "", list.values[i + 1] ?? "");
    calls++;
  } while (cursor !== "0" && calls < 100);
  t.equal(seen.size, 300);
  t.equal(seen.get("m1"), formatDouble17g(1 / 3));
});

t.test("argument errors name Redis's texts", async (t) => {
  const e = new Engine({});
  const cases: [string[], string][] = [
    [["ZADD", "z", "nan", "a"], "ERR value is not a valid float"],
    [["ZRANGEBYSCORE", "z", "x", "1"], "ERR min or max is not a float"],
    [["ZRANGEBYLEX", "z", "a", "b"], "ERR min or max not valid string range item"],
    [["ZUNION", "0", "z"], "ERR at least 1 input key is needed for 'zunion' command"],
    [["ZUNIONSTORE", "d", "1", "z", "WEIGHTS", "nan"], "ERR weight value is not a float"],
    [["ZRANGE", "z", "0", "1", "LIMIT", "0", "1"], "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"],
    [["ZRANGE", "z", "a", "b", "BYLEX", "WITHSCORES"], "ERR syntax error, WITHSCORES not supported in combination with BYLEX"],
    [["ZMPOP", "0", "z", "MIN"], "ERR numkeys should be greater than 0"],
    [["ZINTERCARD", "1", "z", "LIMIT", "-1"], "ERR LIMIT can't be negative"],
    [["ZRANDMEMBER", "z", "-9223372036854775808"], "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"],
    [["ZSCAN", "z", "abc"], "ERR invalid cursor"],
  ];
  for (const [argv, message] of cases) t.same(e.execute(argv).reply, err(message), argv.join(" "));
});
