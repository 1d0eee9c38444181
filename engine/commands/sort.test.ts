import fc from "fast-check";
import t from "tap";
import { encodeReply } from "../../resp/encoder";
import { bulks, err, int, type Reply } from "../../resp/reply";
import type { Effect } from "../context";
import { Engine } from "../engine";
import { ListObject } from "../types/list";
import { sortKeyIndexes } from "./sort";

function wire(r: Reply): string {
  return encodeReply(r, 2).toString("latin1");
}

function run(e: Engine, ...argv: string[]): Reply {
  return e.execute(argv).reply;
}

// ---------------------------------------------------------------------------
// A deliberately naive model: plain arrays, Number() for weights, and the
// documented rules (missing weight = 0, ties by element bytes, LIMIT as slice).

interface World {
  kind: "list" | "set" | "zset";
  /** The source in its native order (list order; zset by score then member). */
  elements: string[];
  weights: Map<string, string>;
  hashWeights: Map<string, string>;
}

interface SortArgs {
  by: "none" | "nosort" | "key" | "hash";
  gets: ("#" | "key" | "hash" | "const")[];
  desc: boolean;
  alpha: boolean;
  limit: [number, number] | null;
  store: boolean;
}

/** Numbers written the way strtod and Number() agree on. */
const NUMERIC = /^-?(\d+\.?\d*|\.\d+)(e-?\d+)?$/;

function weightOf(w: World, a: SortArgs, el: string): string | null {
  if (a.by === "key") return w.weights.get(el) ?? null;
  if (a.by === "hash") return w.hashWeights.get(el) ?? null;
  return el;
}

function cmpBytes(x: string, y: string): number {
  return x < y ? -1 : x > y ? 1 : 0;
}

/** The model's SORT: the output elements, or null for "scores can't be converted". */
function modelSort(w: World, a: SortArgs): string[] | null {
  let els = w.elements.slice();
  const nosort = a.by === "nosort" && !(w.kind === "set" && a.store);
  const alpha = a.alpha || (a.by === "nosort" && w.kind === "set" && a.store);
  const by: SortArgs["by"] = nosort ? "nosort" : a.by === "nosort" ? "none" : a.by;
  if (nosort) {
    if (a.desc) els.reverse();
  } else {
    const key = (el: string): string | null => weightOf(w, { ...a, by }, el);
    if (!alpha) {
      const num = (el: string): number => {
        const k = key(el);
        return k === null ? 0 : k === "" ? 0 : NUMERIC.test(k) ? Number(k) : NaN;
      };
      if (els.some((el) => Number.isNaN(num(el)))) return null;
      els.sort((x, y) => (num(x) - num(y) || cmpBytes(x, y)) * (a.desc ? -1 : 1));
    } else if (by === "none") {
      els.sort((x, y) => cmpBytes(x, y) * (a.desc ? -1 : 1));
    } else {
      const k = (el: string): string => (key(el) === null ? "" : `~${key(el)}`);
      els = stableSort(els, (x, y) => cmpBytes(k(x), k(y)) * (a.desc ? -1 : 1));
    }
  }
  if (a.limit !== null) {
    const s = Math.max(0, a.limit[0]);
    els = els.slice(s, a.limit[1] < 0 ? els.length : s + a.limit[1]);
  }
  return els;
}

function stableSort(xs: string[], cmp: (x: string, y: string) => number): string[] {
  return xs
    .map((x, i) => [x, i] as const)
    .sort((p, q) => cmp(p[0], q[0]) || p[1] - q[1])
    .map((p) => p[0]);
}

function modelGets(w: World, a: SortArgs, els: string[], forStore: boolean): (string | null)[] {
  if (a.gets.length === 0) return els;
  const out: (string | null)[] = [];
  for (const el of els) {
    for (const g of a.gets) {
      const v = g === "#" ? el : g === "key" ? (w.weights.get(el) ?? null) : g === "hash" ? (w.hashWeights.get(el) ?? null) : null;
      out.push(v === null && forStore ? "" : v);
    }
  }
  return out;
}

function argvOf(a: SortArgs): string[] {
  const argv = ["SORT", "src"];
  if (a.by === "nosort") argv.push("BY", "nosort");
  if (a.by === "key") argv.push("BY", "w_*");
  if (a.by === "hash") argv.push("BY", "h_*->f");
  for (const g of a.gets) argv.push("GET", g === "#" ? "#" : g === "key" ? "w_*" : g === "hash" ? "h_*->f" : "constant");
  if (a.limit !== null) argv.push("LIMIT", String(a.limit[0]), String(a.limit[1]));
  if (a.desc) argv.push("DESC");
  if (a.alpha) argv.push("ALPHA");
  if (a.store) argv.push("STORE", "dst");
  return argv;
}

function load(e: Engine, w: World): void {
  if (w.kind === "list") e.execute(["RPUSH", "src", ...w.elements]);
  if (w.kind === "set") e.execute(["SADD", "src", ...w.elements]);
  if (w.kind === "zset") w.elements.forEach((el, i) => e.execute(["ZADD", "src", String(i), el]));
  for (const [el, v] of w.weights) e.execute(["SET", `w_${el}`, v]);
  for (const [el, v] of w.hashWeights) e.execute(["HSET", `h_${el}`, "f", v]);
}

const element = fc.constantFrom("1", "2", "10", "-3", "2.5", "1e2", "a", "b", "B", "ab", "", "07");
const weight = fc.constantFrom("1", "5", "-2", "0.5", "10", "x", "", "3e1");

const world: fc.Arbitrary<World> = fc
  .record({
    kind: fc.constantFrom("list" as const, "set" as const, "zset" as const),
    elements: fc.array(element, { maxLength: 12 }),
    weights: fc.array(fc.tuple(element, weight), { maxLength: 8 }),
    hashWeights: fc.array(fc.tuple(element, weight), { maxLength: 8 }),
  })
  .map((r) => {
    const elements = r.kind === "list" ? r.elements : [...new Set(r.elements)];
    return { kind: r.kind, elements, weights: new Map(r.weights), hashWeights: new Map(r.hashWeights) };
  });

const sortArgs: fc.Arbitrary<SortArgs> = fc.record({
  by: fc.constantFrom("none" as const, "nosort" as const, "key" as const, "hash" as const),
  gets: fc.array(fc.constantFrom("#" as const, "key" as const, "hash" as const, "const" as const), { maxLength: 3 }),
  desc: fc.boolean(),
  alpha: fc.boolean(),
  limit: fc.option(fc.tuple(fc.integer({ min: -3, max: 14 }), fc.integer({ min: -3, max: 14 })), { nil: null }),
  store: fc.boolean(),
});

/** A set's own order is not part of its meaning: skip the cases where Redis exposes it. */
function exposesSetOrder(w: World, a: SortArgs): boolean {
  if (w.kind !== "set") return false;
  if (a.by === "nosort" && !a.store) return true;
  return a.alpha && (a.by === "key" || a.by === "hash");
}

t.test("SORT matches a naive model on lists, sets and sorted sets", async () => {
  fc.assert(
    fc.property(world, sortArgs, (w, a) => {
      fc.pre(!exposesSetOrder(w, a));
      const e = new Engine({});
      load(e, w);
      const replica = new Engine({});
      load(replica, w);
      const { reply, effects } = e.execute(argvOf(a));
      const els = modelSort(w, a);
      if (els === null) {
        if (wire(reply) !== wire(err("ERR One or more scores can't be converted into double"))) throw new Error(`expected the double error, got ${wire(reply)}`);
        return;
      }
      const out = modelGets(w, a, els, a.store);
      if (!a.store) {
        if (wire(reply) !== wire(bulks(out))) throw new Error(`${argvOf(a).join(" ")}: got ${wire(reply)} want ${wire(bulks(out))}`);
        return;
      }
      if (wire(reply) !== wire(int(out.length))) throw new Error(`store count: got ${wire(reply)} want ${out.length}`);
      const stored = wire(run(e, "LRANGE", "dst", "0", "-1"));
      if (stored !== wire(bulks(out))) throw new Error(`stored ${stored} want ${wire(bulks(out))}`);
      replica.apply(effects as Effect[]);
      if (wire(run(replica, "LRANGE", "dst", "0", "-1")) !== stored) throw new Error("replica diverged");
      if (wire(run(replica, "EXISTS", "dst")) !== wire(int(out.length > 0 ? 1 : 0))) throw new Error("empty result must leave no key");
    }),
    { numRuns: 3000 },
  );
});

t.test("SORT examples from Redis's documentation and tests", async (t) => {
  const e = new Engine({});
  run(e, "RPUSH", "mylist", "2", "1", "3", "10");
  t.same(run(e, "SORT", "mylist"), bulks(["1", "2", "3", "10"]));
  t.same(run(e, "SORT", "mylist", "ALPHA"), bulks(["1", "10", "2", "3"]));
  t.same(run(e, "SORT", "mylist", "DESC", "LIMIT", "1", "2"), bulks(["3", "2"]));
  run(e, "ZADD", "zset", "1", "a", "5", "b", "2", "c", "10", "d", "3", "e");
  t.same(run(e, "SORT", "zset", "BY", "nosort"), bulks(["a", "c", "e", "b", "d"]));
  t.same(run(e, "SORT", "zset", "BY", "nosort", "DESC", "LIMIT", "0", "2"), bulks(["d", "b"]));
  t.same(run(e, "SORT", "zset", "BY", "nosort", "LIMIT", "-10", "100"), bulks(["a", "c", "e", "b", "d"]));
  run(e, "RPUSH", "l", "a");
  run(e, "SET", "x:a->", "100");
  t.same(run(e, "SORT", "l", "BY", "num", "GET", "x:*->"), bulks(["100"]), "a pattern ending in -> is a plain key");
  run(e, "SADD", "bad", "1", "2", "not-a-double");
  t.same(run(e, "SORT", "bad"), err("ERR One or more scores can't be converted into double"));
  t.same(run(e, "SORT_RO", "mylist", "STORE", "x"), err("ERR syntax error"));
  t.same(run(e, "SORT", "mylist", "LIMIT", "1", "x"), err("ERR value is not an integer or out of range"));
  run(e, "SET", "str", "v");
  t.same(run(e, "SORT", "str"), err("WRONGTYPE Operation against a key holding the wrong kind of value"));
  t.same(run(e, "SORT", "missing"), bulks([]));
});

t.test("SORT ... STORE replicates as DEL + RPUSH, and an empty result as DEL", async (t) => {
  const e = new Engine({});
  run(e, "SADD", "s", "c", "a", "b");
  run(e, "RPUSH", "dst", "old");
  const r = e.execute(["SORT", "s", "BY", "nosort", "STORE", "dst"]);
  t.same(r.reply, int(3));
  t.same(
    r.effects.map((x) => x.argv),
    [
      ["DEL", "dst"],
      ["RPUSH", "dst", "a", "b", "c"],
    ],
    "a set stored BY nosort is sorted by bytes, and the effect carries the list",
  );
  const empty = e.execute(["SORT", "missing", "STORE", "dst"]);
  t.same(empty.reply, int(0));
  t.same(
    empty.effects.map((x) => x.argv),
    [["DEL", "dst"]],
  );
  t.same(e.execute(["SORT", "missing", "STORE", "dst"]).effects, [], "nothing to delete: no effect");
  t.same(e.execute(["SORT", "s"]).effects, [], "a SORT without STORE writes nothing");
  const big = new Engine({});
  const members = Array.from({ length: 3000 }, (_, i) => String(i));
  run(big, "RPUSH", "l", ...members);
  const bigEffects = big.execute(["SORT", "l", "STORE", "d"]).effects;
  t.ok(bigEffects.length > 1 && bigEffects.every((x) => x.argv.length <= 1026), "a large result is split into bounded RPUSHes");
  const replica = new Engine({});
  run(replica, "RPUSH", "l", ...members);
  replica.apply(bigEffects as Effect[]);
  const v = replica.db(0).data.get("d");
  t.ok(v instanceof ListObject && v.length === 3000 && v.at(2999) === "2999");
});

t.test("SORT's key positions include the last STORE destination", async (t) => {
  t.same(sortKeyIndexes(["SORT", "abc", "STORE", "def"]), [1, 3]);
  t.same(sortKeyIndexes(["SORT", "abc", "STORE", "invalid", "STORE", "stillbad", "STORE", "def"]), [1, 7]);
  t.same(sortKeyIndexes(["SORT", "abc", "GET", "store", "LIMIT", "0", "1"]), [1]);
  t.same(sortKeyIndexes(["SORT_RO", "abc"]), [1]);
});
