import fc from "fast-check";
import t from "tap";
import { ZSetObject, type LexRange, type ScoreRange } from "./zset";

type Pair = [string, number];

/** The naive model: a JS Map, sorted on demand. */
function sortedPairs(m: Map<string, number>): Pair[] {
  return [...m].sort((a, b) => (a[1] !== b[1] ? (a[1] < b[1] ? -1 : 1) : a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

const member = fc.constantFrom("a", "b", "c", "d", "e", "f", "g", "h", "aa", "ab", "", "\u00ff");
const score = fc.oneof(fc.integer({ min: -5, max: 5 }), fc.constantFrom(0.5, -0.5, Infinity, -Infinity, -0));

type Op = { kind: "set"; m: string; s: number } | { kind: "del"; m: string } | { kind: "range"; rank: number; count: number };

function ops(members: fc.Arbitrary<string>): fc.Arbitrary<Op> {
  return fc.oneof(
    { weight: 5, arbitrary: fc.record({ kind: fc.constant("set" as const), m: members, s: score }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant("del" as const), m: members }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant("range" as const), rank: fc.nat(300), count: fc.integer({ min: 1, max: 80 }) }) },
  );
}

function apply(z: ZSetObject, model: Map<string, number>, o: Op): void {
  switch (o.kind) {
    case "set":
      if (z.has(o.m)) z.update(o.m, o.s);
      else z.add(o.m, o.s);
      model.set(o.m, o.s);
      return;
    case "del":
      z.delete(o.m);
      model.delete(o.m);
      return;
    case "range":
      for (const e of z.deleteRange(o.rank, o.count)) model.delete(e.member);
      return;
  }
}

/** Checks every read of `z` against the model's sorted pairs. */
function agrees(z: ZSetObject, model: Map<string, number>): boolean {
  const want = sortedPairs(model);
  if (JSON.stringify(z.entries()) !== JSON.stringify(want) || z.length !== want.length) return false;
  for (let i = 0; i < want.length; i++) {
    const [m, s] = want[i] ?? ["", 0];
    const e = z.at(i);
    if (z.rank(m) !== i || e === null || e.member !== m || !Object.is(e.score, s) || !Object.is(z.score(m), s)) return false;
  }
  const back = z.collect(want.length - 1, true, -1).map((e) => e.member);
  return z.at(want.length) === null && z.at(-1) === null && back.reverse().join(",") === want.map((p) => p[0]).join(",");
}

t.test("the tree keeps rank order, ranks and lookups of a naive model (few members)", async () => {
  fc.assert(
    fc.property(fc.array(ops(member), { maxLength: 150, size: "max" }), (list) => {
      const z = new ZSetObject();
      const model = new Map<string, number>();
      for (const o of list) {
        apply(z, model, o);
        if (!agrees(z, model)) return false;
      }
      return true;
    }),
  );
});

t.test("the tree splits and merges nodes correctly (many members)", async () => {
  const many = fc.integer({ min: 0, max: 5000 }).map((i) => `m${i}`);
  fc.assert(
    fc.property(fc.array(ops(many), { minLength: 500, maxLength: 6000, size: "max" }), (list) => {
      const z = new ZSetObject();
      const model = new Map<string, number>();
      list.forEach((o, i) => {
        apply(z, model, o);
        if (i % 500 === 0 && !agrees(z, model)) throw new Error(`diverged after op ${i}`);
      });
      // Empty it in random-ish chunks, checking as it shrinks (leaf merges, root collapse).
      while (z.length > 0) {
        for (const e of z.deleteRange(Math.floor(z.length / 3), 97)) model.delete(e.member);
        if (!agrees(z, model)) return false;
      }
      return model.size === 0;
    }),
    { numRuns: 20 },
  );
});

t.test("a deep tree stays consistent through growth and shrinkage", async (t) => {
  let seed = 12345;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  const z = new ZSetObject();
  const model = new Map<string, number>();
  for (let i = 0; i < 40000; i++) {
    const m = `m${rand(30000)}`;
    const s = rand(1000) / 7;
    apply(z, model, { kind: "set", m, s });
  }
  t.ok(agrees(z, model), "after growth");
  for (let i = 0; i < 40000 && model.size > 0; i++) {
    if (i % 10 === 0) apply(z, model, { kind: "range", rank: rand(z.length), count: 1 + rand(200) });
    else apply(z, model, { kind: "del", m: `m${rand(30000)}` });
    if (i % 10000 === 0) t.ok(agrees(z, model), `after ${i} removals`);
  }
  t.ok(agrees(z, model), "after shrinkage");
  apply(z, model, { kind: "range", rank: 0, count: z.length });
  t.equal(z.length, 0);
  z.add("again", 1);
  t.same(z.entries(), [["again", 1]]);
});

const rangeArb: fc.Arbitrary<ScoreRange> = fc.record({ min: score, max: score, minex: fc.boolean(), maxex: fc.boolean() });

t.test("score range ends match a linear scan", async () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.oneof(member, fc.integer({ min: 0, max: 400 }).map(String)), score), { maxLength: 400, size: "max" }), rangeArb, (pairs, r) => {
      const z = ZSetObject.fromEntries(pairs);
      const inRange = (s: number): boolean => (r.minex ? s > r.min : s >= r.min) && (r.maxex ? s < r.max : s <= r.max);
      const all = z.entries();
      const first = all.findIndex(([, s]) => inRange(s));
      let last = -1;
      all.forEach(([, s], i) => {
        if (inRange(s)) last = i;
      });
      return z.firstInRange(r) === first && z.lastInRange(r) === last;
    }),
  );
});

const lexBound = fc.oneof(
  fc.constantFrom({ value: "", inf: -1 as const, ex: true }, { value: "", inf: 1 as const, ex: true }),
  fc.record({ value: member, inf: fc.constant(0 as const), ex: fc.boolean() }),
);

t.test("lex range ends on equal scores match a linear scan, small and large sets alike", async () => {
  fc.assert(
    fc.property(fc.uniqueArray(fc.string({ maxLength: 3 }), { maxLength: 300, size: "max" }), lexBound, lexBound, (members, min, max) => {
      const r: LexRange = { min, max };
      const z = ZSetObject.fromEntries(members.map((m): Pair => [m, 0]));
      const cmp = (a: string, b: { value: string; inf: number }): number => (b.inf !== 0 ? -b.inf : a < b.value ? -1 : a > b.value ? 1 : 0);
      const ok = (m: string): boolean => (min.ex ? cmp(m, min) > 0 : cmp(m, min) >= 0) && (max.ex ? cmp(m, max) < 0 : cmp(m, max) <= 0);
      const all = z.entries();
      const first = all.findIndex(([m]) => ok(m));
      let last = -1;
      all.forEach(([m], i) => {
        if (ok(m)) last = i;
      });
      return z.firstInLexRange(r) === first && z.lastInLexRange(r) === last;
    }),
  );
});

t.test("lex range ends depend only on the contents, not on insertion history", async () => {
  fc.assert(
    fc.property(fc.uniqueArray(fc.tuple(fc.string({ maxLength: 2 }), fc.integer({ min: 0, max: 3 })), { selector: (p) => p[0], minLength: 130, maxLength: 300 }), lexBound, lexBound, (pairs, min, max) => {
      const r: LexRange = { min, max };
      const a = ZSetObject.fromEntries(pairs);
      const b = ZSetObject.fromEntries(pairs.slice().reverse());
      return a.firstInLexRange(r) === b.firstInLexRange(r) && a.lastInLexRange(r) === b.lastInLexRange(r);
    }),
    { numRuns: 50 },
  );
});

t.test("a scan returns every member present for the whole scan, despite changes in between", async () => {
  fc.assert(
    fc.property(fc.uniqueArray(member, { maxLength: 12 }), fc.array(ops(member), { maxLength: 60, size: "max" }), fc.integer({ min: 1, max: 4 }), (initial, changes, count) => {
      const z = ZSetObject.fromEntries(initial.map((m): Pair => [m, 1]));
      z.listpack = false;
      const stable = new Set<string>(initial);
      const seen = new Set<string>();
      const model = new Map<string, number>(z.entries());
      let cursor = 0;
      let step = 0;
      do {
        const r = z.scan(cursor, count);
        for (const e of r.entries) seen.add(e.member);
        cursor = r.next;
        for (const c of changes.slice(step * 2, step * 2 + 2)) {
          const before = new Set(model.keys());
          apply(z, model, c);
          for (const m of before) if (!model.has(m)) stable.delete(m);
        }
        step++;
      } while (cursor !== 0 && step < 1000);
      return cursor === 0 && [...stable].every((m) => seen.has(m));
    }),
  );
});

t.test("-0 survives only outside a listpack, and clone keeps order and encoding", async (t) => {
  const big = ZSetObject.fromEntries([["x", -0]], 0);
  t.ok(Object.is(big.score("x"), -0), "a skiplist keeps -0");
  big.add("y", -0);
  t.ok(Object.is(big.score("y"), -0), "add stores the score as given");
  const z = ZSetObject.fromEntries([
    ["x", -0],
    ["y", 2],
    ["z", -1],
  ]);
  t.ok(Object.is(z.score("x"), 0), "a listpack turns -0 into 0");
  const c = z.clone();
  t.same(c.entries(), [
    ["z", -1],
    ["x", 0],
    ["y", 2],
  ]);
  t.equal(c.encoding, "listpack");
  t.equal(ZSetObject.fromEntries([["m".repeat(65), 1]]).encoding, "skiplist");
  t.same(z.randomEntry(0.99), { member: "z", score: -1 }, "random entries come from the dense slots");
});
