import fc from "fast-check";
import t from "tap";
import { encodeReply } from "../../resp/encoder";
import { array, bulk, bulks, EMPTY_BULKS, err, int, NULL, NULL_ARRAY, OK, type Reply } from "../../resp/reply";
import { Engine } from "../engine";
import { ListObject } from "../types/list";

const WRONGTYPE = err("WRONGTYPE Operation against a key holding the wrong kind of value");

/** Both engines' replies must be byte-identical on the wire, in RESP2 and RESP3. */
function wire(r: Reply): string {
  return encodeReply(r, 2).toString("latin1") + " | " + encodeReply(r, 3).toString("latin1");
}

/** Key -> elements (list) or string: a deliberately naive model built on JS arrays. */
type Model = Map<string, string[] | string>;

function normIndex(i: number, len: number): number {
  return i < 0 ? len + i : i;
}

/** Inclusive LRANGE-style range as slice bounds. */
function sliceBounds(start: number, end: number, len: number): [number, number] {
  const s = Math.max(0, normIndex(start, len));
  const e = Math.min(len - 1, normIndex(end, len));
  return s > e ? [0, 0] : [s, e + 1];
}

function modelList(m: Model, key: string): string[] | undefined | Reply {
  const v = m.get(key);
  if (v === undefined) return undefined;
  if (typeof v === "string") return WRONGTYPE;
  return v;
}

function isList(x: string[] | undefined | Reply): x is string[] {
  return Array.isArray(x);
}

function dropIfEmpty(m: Model, key: string, l: string[]): void {
  if (l.length === 0) m.delete(key);
}

function modelPush(m: Model, a: string[], head: boolean, xx: boolean): Reply {
  const key = a[1] ?? "";
  const l = modelList(m, key);
  if (l !== undefined && !isList(l)) return l;
  if (l === undefined && xx) return int(0);
  const list = l ?? [];
  for (const v of a.slice(2)) {
    if (head) list.unshift(v);
    else list.push(v);
  }
  m.set(key, list);
  return int(list.length);
}

function modelPop(m: Model, a: string[], head: boolean): Reply {
  const key = a[1] ?? "";
  const count = a[2] === undefined ? -1 : Number(a[2]);
  if (a[2] !== undefined && count < 0) return err("ERR value is out of range, must be positive");
  const l = modelList(m, key);
  if (l !== undefined && !isList(l)) return l;
  if (l === undefined) return count === -1 ? NULL : NULL_ARRAY;
  if (count === -1) {
    const v = head ? l.shift() : l.pop();
    dropIfEmpty(m, key, l);
    return bulk(v ?? "");
  }
  const out: string[] = [];
  while (out.length < count && l.length > 0) out.push((head ? l.shift() : l.pop()) ?? "");
  dropIfEmpty(m, key, l);
  return bulks(out);
}

function modelLmpop(m: Model, a: string[]): Reply {
  const n = Number(a[1]);
  const keys = a.slice(2, 2 + n);
  const head = a[2 + n] === "LEFT";
  const count = a[3 + n] === "COUNT" ? Number(a[4 + n]) : 1;
  for (const key of keys) {
    const l = modelList(m, key);
    if (l !== undefined && !isList(l)) return l;
    if (l === undefined) continue;
    const popped = head ? l.splice(0, count) : l.splice(Math.max(0, l.length - count)).reverse();
    dropIfEmpty(m, key, l);
    return array([bulk(key), bulks(popped)]);
  }
  return NULL_ARRAY;
}

function modelRead(m: Model, a: string[]): Reply {
  const l = modelList(m, a[1] ?? "");
  if (l !== undefined && !isList(l)) return l;
  const list = l ?? [];
  switch (a[0]) {
    case "LLEN":
      return int(list.length);
    case "LINDEX": {
      if (l === undefined) return NULL;
      const v = list[normIndex(Number(a[2]), list.length)];
      return v === undefined ? NULL : bulk(v);
    }
    case "LRANGE": {
      const [s, e] = sliceBounds(Number(a[2]), Number(a[3]), list.length);
      return list.length === 0 ? EMPTY_BULKS : bulks(list.slice(s, e));
    }
    default:
      return modelLpos(l, a);
  }
}

function modelLpos(l: string[] | undefined, a: string[]): Reply {
  const rank = a.includes("RANK") ? Number(a[a.indexOf("RANK") + 1]) : 1;
  const hasCount = a.includes("COUNT");
  const count = hasCount ? Number(a[a.indexOf("COUNT") + 1]) : 1;
  const maxlen = a.includes("MAXLEN") ? Number(a[a.indexOf("MAXLEN") + 1]) : 0;
  if (l === undefined) return hasCount ? EMPTY_BULKS : NULL;
  const idx = l.map((_v, i) => i);
  if (rank < 0) idx.reverse();
  const scanned = maxlen === 0 ? idx : idx.slice(0, maxlen);
  const matches = scanned.filter((i) => l[i] === a[2]).slice(Math.abs(rank) - 1);
  const picked = count === 0 ? matches : matches.slice(0, count);
  if (hasCount) return array(picked.map((i) => int(i)));
  return picked[0] === undefined ? NULL : int(picked[0]);
}

function modelWrite(m: Model, a: string[]): Reply {
  const key = a[1] ?? "";
  const l = modelList(m, key);
  if (l !== undefined && !isList(l)) return l;
  switch (a[0]) {
    case "LSET": {
      if (l === undefined) return err("ERR no such key");
      const i = normIndex(Number(a[2]), l.length);
      if (i < 0 || i >= l.length) return err("ERR index out of range");
      l[i] = a[3] ?? "";
      return OK;
    }
    case "LTRIM": {
      if (l === undefined) return OK;
      const [s, e] = sliceBounds(Number(a[2]), Number(a[3]), l.length);
      const kept = l.slice(s, e);
      if (kept.length === 0) m.delete(key);
      else m.set(key, kept);
      return OK;
    }
    case "LREM": {
      if (l === undefined) return int(0);
      const count = Number(a[2]);
      const order = l.map((_v, i) => i);
      if (count < 0) order.reverse();
      const hits = order.filter((i) => l[i] === a[3]).slice(0, count === 0 ? undefined : Math.abs(count));
      const kept = l.filter((_v, i) => !hits.includes(i));
      if (kept.length === 0) m.delete(key);
      else m.set(key, kept);
      return int(hits.length);
    }
    default: {
      if (l === undefined) return int(0);
      const p = l.indexOf(a[3] ?? "");
      if (p < 0) return int(-1);
      l.splice(a[2] === "AFTER" ? p + 1 : p, 0, a[4] ?? "");
      return int(l.length);
    }
  }
}

function modelMove(m: Model, a: string[]): Reply {
  const from = a[0] === "RPOPLPUSH" ? "RIGHT" : a[3];
  const to = a[0] === "RPOPLPUSH" ? "LEFT" : a[4];
  const src = modelList(m, a[1] ?? "");
  if (src !== undefined && !isList(src)) return src;
  if (src === undefined) return NULL;
  const dst = modelList(m, a[2] ?? "");
  if (dst !== undefined && !isList(dst)) return dst;
  const v = (from === "LEFT" ? src.shift() : src.pop()) ?? "";
  const target = a[1] === a[2] ? src : (dst ?? []);
  if (to === "LEFT") target.unshift(v);
  else target.push(v);
  m.set(a[2] ?? "", target);
  if (src.length === 0) m.delete(a[1] ?? "");
  return bulk(v);
}

function modelExec(m: Model, a: string[]): Reply {
  switch (a[0]) {
    case "SET":
      m.set(a[1] ?? "", a[2] ?? "");
      return OK;
    case "LPUSH":
    case "RPUSH":
    case "LPUSHX":
    case "RPUSHX":
      return modelPush(m, a, a[0].startsWith("L"), a[0].endsWith("X"));
    case "LPOP":
    case "RPOP":
      return modelPop(m, a, a[0] === "LPOP");
    case "LMPOP":
      return modelLmpop(m, a);
    case "LLEN":
    case "LINDEX":
    case "LRANGE":
    case "LPOS":
      return modelRead(m, a);
    case "LMOVE":
    case "RPOPLPUSH":
      return modelMove(m, a);
    default:
      return modelWrite(m, a);
  }
}

const key = fc.constantFrom("k1", "k2", "k3");
const elem = fc.constantFrom("a", "b", "c", "", "\x00\xff");
const idx = fc.integer({ min: -7, max: 7 });
const side = fc.constantFrom("LEFT", "RIGHT");
const str = (n: number): string => String(n);

const commandArb: fc.Arbitrary<string[]> = fc.oneof(
  fc.tuple(fc.constantFrom("LPUSH", "RPUSH", "LPUSHX", "RPUSHX"), key, fc.array(elem, { minLength: 1, maxLength: 4 })).map(([c, k, vs]) => [c, k, ...vs]),
  fc.tuple(fc.constantFrom("LPOP", "RPOP"), key, fc.option(fc.integer({ min: -1, max: 5 }))).map(([c, k, n]) => (n === null ? [c, k] : [c, k, str(n)])),
  fc.tuple(fc.array(key, { minLength: 1, maxLength: 3 }), side, fc.option(fc.integer({ min: 1, max: 4 }))).map(([ks, s, n]) => ["LMPOP", str(ks.length), ...ks, s, ...(n === null ? [] : ["COUNT", str(n)])]),
  key.map((k) => ["LLEN", k]),
  fc.tuple(key, idx).map(([k, i]) => ["LINDEX", k, str(i)]),
  fc.tuple(key, idx, elem).map(([k, i, v]) => ["LSET", k, str(i), v]),
  fc.tuple(key, idx, idx).map(([k, s, e]) => ["LRANGE", k, str(s), str(e)]),
  fc.tuple(key, idx, idx).map(([k, s, e]) => ["LTRIM", k, str(s), str(e)]),
  fc.tuple(key, fc.integer({ min: -3, max: 3 }), elem).map(([k, n, v]) => ["LREM", k, str(n), v]),
  fc.tuple(key, fc.constantFrom("BEFORE", "AFTER"), elem, elem).map(([k, w, p, v]) => ["LINSERT", k, w, p, v]),
  fc
    .tuple(key, elem, fc.option(fc.integer({ min: -3, max: 3 }).filter((n) => n !== 0)), fc.option(fc.nat(3)), fc.option(fc.nat(4)))
    .map(([k, v, r, c, ml]) => ["LPOS", k, v, ...(r === null ? [] : ["RANK", str(r)]), ...(c === null ? [] : ["COUNT", str(c)]), ...(ml === null ? [] : ["MAXLEN", str(ml)])]),
  fc.tuple(key, key, side, side).map(([s, d, f, w]) => ["LMOVE", s, d, f, w]),
  fc.tuple(key, key).map(([s, d]) => ["RPOPLPUSH", s, d]),
  fc.tuple(key, elem).map(([k, v]) => ["SET", k, v]),
);

/** A db's contents as plain data, for comparing engines and models. */
function dump(e: Engine): Map<string, string[] | string> {
  const out = new Map<string, string[] | string>();
  for (const [k, v] of e.db(0).data) {
    out.set(k, typeof v === "string" ? v : v.kind === "list" ? v.toArray() : `<${v.kind}>`);
  }
  return out;
}

function sortedEntries(m: Map<string, string[] | string>): [string, string[] | string][] {
  return [...m].sort((x, y) => (x[0] < y[0] ? -1 : 1));
}

t.test("list commands match a naive array model, and effects rebuild the same data", async (t) => {
  fc.assert(
    fc.property(fc.array(commandArb, { maxLength: 80, size: "max" }), (cmds) => {
      const primary = new Engine({ clock: () => 1_000_000 });
      const replica = new Engine({ clock: () => 1_000_000 });
      const model: Model = new Map();
      for (const argv of cmds) {
        const { reply, effects } = primary.execute(argv);
        const expected = modelExec(model, argv);
        if (wire(reply) !== wire(expected)) {
          throw new Error(`${argv.join(" ")}: got ${wire(reply)} want ${wire(expected)}`);
        }
        replica.apply(effects);
      }
      t.same(sortedEntries(dump(primary)), sortedEntries(model));
      t.same(sortedEntries(dump(replica)), sortedEntries(model));
    }),
    { numRuns: 300 },
  );
});

t.test("ListObject deque agrees with an array under random end and middle operations", async (t) => {
  const op = fc.oneof(
    fc.record({ k: fc.constant("pushHead" as const), v: fc.string() }),
    fc.record({ k: fc.constant("pushTail" as const), v: fc.string() }),
    fc.record({ k: fc.constant("popHead" as const) }),
    fc.record({ k: fc.constant("popTail" as const) }),
    fc.record({ k: fc.constant("insert" as const), at: fc.nat(50), v: fc.string() }),
    fc.record({ k: fc.constant("trim" as const), h: fc.nat(5), t: fc.nat(5) }),
  );
  fc.assert(
    fc.property(fc.array(fc.string(), { maxLength: 20, size: "max" }), fc.array(op, { maxLength: 200, size: "max" }), (init, ops) => {
      const l = ListObject.fromArray(init);
      const a = init.slice();
      for (const o of ops) {
        switch (o.k) {
          case "pushHead":
            l.pushHead(o.v);
            a.unshift(o.v);
            break;
          case "pushTail":
            l.pushTail(o.v);
            a.push(o.v);
            break;
          case "popHead":
            t.equal(l.popHead(), a.shift());
            break;
          case "popTail":
            t.equal(l.popTail(), a.pop());
            break;
          case "insert": {
            const at = Math.min(o.at, a.length);
            l.insertAt(at, o.v);
            a.splice(at, 0, o.v);
            break;
          }
          case "trim": {
            const h = Math.min(o.h, a.length);
            const tl = Math.min(o.t, a.length - h);
            l.trim(h, tl);
            a.splice(0, h);
            a.splice(a.length - tl, tl);
            break;
          }
        }
        if (l.length !== a.length) throw new Error("length diverged");
      }
      t.same(l.toArray(), a);
      t.same(l.clone().toArray(), a);
      for (let i = 0; i < a.length; i++) if (l.at(i) !== a[i]) throw new Error(`at(${i}) diverged`);
    }),
    { numRuns: 200 },
  );
});

function run(e: Engine, ...argv: string[]): Reply {
  return e.execute(argv).reply;
}

t.test("argument errors use Redis's texts", async (t) => {
  const e = new Engine();
  run(e, "RPUSH", "l", "a", "b");
  t.same(run(e, "LPOP", "l", "-1"), err("ERR value is out of range, must be positive"));
  t.same(run(e, "LPOP", "l", "1", "2"), err("ERR wrong number of arguments for 'lpop' command"));
  t.same(run(e, "LINDEX", "l", "x"), err("ERR value is not an integer or out of range"));
  t.same(run(e, "LSET", "nokey", "0", "x"), err("ERR no such key"));
  t.same(run(e, "LSET", "l", "5", "x"), err("ERR index out of range"));
  t.same(run(e, "LINSERT", "l", "middle", "a", "x"), err("ERR syntax error"));
  t.same(run(e, "LMOVE", "l", "m", "up", "left"), err("ERR syntax error"));
  t.same(run(e, "LPOS", "l", "a", "RANK", "0"), err("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list"));
  t.same(run(e, "LPOS", "l", "a", "COUNT", "-1"), err("ERR COUNT can't be negative"));
  t.same(run(e, "LPOS", "l", "a", "MAXLEN", "-1"), err("ERR MAXLEN can't be negative"));
  t.same(run(e, "LPOS", "l", "a", "RANK"), err("ERR syntax error"));
  t.same(run(e, "LMPOP", "0", "l", "LEFT"), err("ERR numkeys should be greater than 0"));
  t.same(run(e, "LMPOP", "5", "l", "LEFT"), err("ERR syntax error"));
  t.same(run(e, "LMPOP", "1", "l", "LEFT", "COUNT", "0"), err("ERR count should be greater than 0"));
  t.same(run(e, "LMPOP", "1", "l", "LEFT", "COUNT", "1", "COUNT", "1"), err("ERR syntax error"));
  run(e, "SET", "s", "x");
  t.same(run(e, "LPUSH", "s", "a"), WRONGTYPE);
  t.same(run(e, "LMOVE", "l", "s", "LEFT", "LEFT"), WRONGTYPE);
  t.same(run(e, "LRANGE", "l", "0", "-1"), bulks(["a", "b"]), "a failed LMOVE moves nothing");
});

t.test("effects: LMPOP becomes a counted pop of what was taken; no-ops emit nothing", async (t) => {
  const e = new Engine();
  run(e, "RPUSH", "l", "a", "b", "c");
  t.same(e.execute(["LMPOP", "2", "none", "l", "RIGHT", "COUNT", "10"]).effects, [{ db: 0, argv: ["RPOP", "l", "3"] }]);
  t.same(e.execute(["LPOP", "l"]).effects, []);
  t.same(e.execute(["LPUSHX", "l", "x"]).effects, []);
  t.same(e.execute(["LTRIM", "l", "0", "-1"]).effects, []);
  run(e, "RPUSH", "l", "a");
  t.same(e.execute(["LREM", "l", "0", "zz"]).effects, []);
  t.same(e.execute(["RPOPLPUSH", "l", "l"]).effects, [{ db: 0, argv: ["RPOPLPUSH", "l", "l"] }]);
  t.same(run(e, "LRANGE", "l", "0", "-1"), bulks(["a"]), "a one-element list rotated onto itself survives");
});

t.test("a list emptied by a pop is deleted and WATCH sees the change", async (t) => {
  const e = new Engine();
  const s = e.newSession();
  run(e, "RPUSH", "l", "a");
  e.execute(["WATCH", "l"], s);
  run(e, "RPOP", "l");
  t.equal(e.db(0).data.has("l"), false);
  e.execute(["MULTI"], s);
  e.execute(["LLEN", "l"], s);
  t.same(e.execute(["EXEC"], s).reply, NULL_ARRAY);
});

t.test("large lists: pushes, ranges and pops at both ends stay consistent", async (t) => {
  const e = new Engine();
  for (let i = 0; i < 5000; i++) run(e, i % 2 === 0 ? "LPUSH" : "RPUSH", "big", String(i));
  t.same(run(e, "LLEN", "big"), int(5000));
  t.same(run(e, "LINDEX", "big", "0"), bulk("4998"));
  t.same(run(e, "LINDEX", "big", "-1"), bulk("4999"));
  const r = run(e, "LRANGE", "big", "2499", "2500");
  t.same(r, bulks(["0", "1"]));
  t.same(run(e, "LPOP", "big", "0"), EMPTY_BULKS, "count 0 is an empty array");
  const popped = run(e, "RPOP", "big", "4998");
  t.equal(popped.kind === "bulks" ? popped.values.length : -1, 4998);
  t.same(run(e, "LRANGE", "big", "0", "-1"), bulks(["4998", "4996"]));
});
