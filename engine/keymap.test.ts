// KeyMap must behave exactly as a JS Map, whose place it takes as a db's
// keyspace: same answers, same insertion order, and the same iteration
// results when entries are added and deleted while an iterator is open
// (a compaction in between included).
import t from "tap";
import fc from "fast-check";
import { KeyMap } from "./keymap";

type Op =
  | { op: "set"; k: number; v: number }
  | { op: "delete"; k: number }
  | { op: "get"; k: number }
  | { op: "clear" }
  | { op: "open" }
  | { op: "next"; it: number; n: number }
  | { op: "bulk"; from: number; n: number; del: boolean };

const key = (k: number): string => (k % 7 === 0 ? `k${k}\u0000\u00ff` : `key:${k}`);

// Mostly a few hot keys (repeated use of one key takes a shortcut), else many.
const k = fc.oneof(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 300 }));
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 30, arbitrary: fc.record({ op: fc.constant("set" as const), k, v: fc.integer() }) },
  { weight: 20, arbitrary: fc.record({ op: fc.constant("delete" as const), k }) },
  { weight: 10, arbitrary: fc.record({ op: fc.constant("get" as const), k }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("clear" as const) }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant("open" as const) }) },
  { weight: 15, arbitrary: fc.record({ op: fc.constant("next" as const), it: fc.nat(), n: fc.integer({ min: 1, max: 40 }) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant("bulk" as const), from: fc.integer({ min: 0, max: 300 }), n: fc.integer({ min: 1, max: 400 }), del: fc.boolean() }) },
);

t.test("property: KeyMap answers and iterates as Map does, under mutation during iteration", async (t) => {
  fc.assert(
    fc.property(fc.array(opArb, { minLength: 1, maxLength: 200 }), (ops) => {
      const model = new Map<string, number>();
      const km = new KeyMap<number>();
      const its: [Iterator<[string, number]>, Iterator<[string, number]>][] = [];
      for (const o of ops) {
        switch (o.op) {
          case "set":
            model.set(key(o.k), o.v);
            km.set(key(o.k), o.v);
            break;
          case "delete":
            if (model.delete(key(o.k)) !== km.delete(key(o.k))) return false;
            break;
          case "get":
            if (model.get(key(o.k)) !== km.get(key(o.k)) || model.has(key(o.k)) !== km.has(key(o.k))) return false;
            break;
          case "clear":
            model.clear();
            km.clear();
            break;
          case "open":
            its.push([model.entries(), km.entries()]);
            break;
          case "next": {
            const pair = its[o.it % Math.max(1, its.length)];
            if (pair === undefined) break;
            for (let i = 0; i < o.n; i++) {
              const a = pair[0].next();
              const b = pair[1].next();
              if (a.done !== b.done) return false;
              if (a.done === true) break;
              if (a.value[0] !== b.value?.[0] || a.value[1] !== b.value?.[1]) return false;
            }
            break;
          }
          case "bulk":
            // Many inserts or deletes at once: index growth, shrinking and compaction.
            for (let k = o.from; k < o.from + o.n; k++) {
              if (o.del) {
                model.delete(key(k));
                km.delete(key(k));
              } else {
                model.set(key(k), k);
                km.set(key(k), k);
              }
            }
            break;
        }
        if (model.size !== km.size) return false;
      }
      // Whatever happened, the iterators still agree to the end, and so does a fresh walk.
      for (const [a, b] of its) {
        for (;;) {
          const x = a.next();
          const y = b.next();
          if (x.done !== y.done) return false;
          if (x.done === true) break;
          if (x.value[0] !== y.value?.[0] || x.value[1] !== y.value?.[1]) return false;
        }
      }
      return JSON.stringify([...model]) === JSON.stringify([...km]) && JSON.stringify([...model.keys()]) === JSON.stringify([...km.keys()]);
    }),
    { numRuns: 400, seed: 1127 },
  );
  t.pass("400 generated histories");
});

t.test("a million keys: every one found, deletes free their slots, order kept", async (t) => {
  const km = new KeyMap<number>();
  const n = 1_000_000;
  for (let i = 0; i < n; i++) km.set(`key:${String(i).padStart(12, "0")}`, i);
  t.equal(km.size, n);
  let missing = 0;
  for (let i = 0; i < n; i += 7) if (km.get(`key:${String(i).padStart(12, "0")}`) !== i) missing++;
  t.equal(missing, 0, "every sampled key has its value");
  for (let i = 0; i < n; i += 2) km.delete(`key:${String(i).padStart(12, "0")}`);
  t.equal(km.size, n / 2);
  let expect = 1;
  let ordered = true;
  for (const [k, v] of km) {
    if (v !== expect || k !== `key:${String(expect).padStart(12, "0")}`) ordered = false;
    expect += 2;
  }
  t.ok(ordered && expect === n + 1, "the odd keys remain, in insertion order");
  t.equal(km.get("key:000000000000"), undefined);
  t.equal(km.has("key:000000000001"), true);
});

t.test("an iterator open across a compaction continues where Map's would", async (t) => {
  const model = new Map<string, number>();
  const km = new KeyMap<number>();
  for (let i = 0; i < 1000; i++) {
    model.set(key(i), i);
    km.set(key(i), i);
  }
  const a = model.keys();
  const b = km.keys();
  const firstA: (string | undefined)[] = [];
  const firstB: (string | undefined)[] = [];
  for (let i = 0; i < 500; i++) {
    firstA.push(a.next().value);
    firstB.push(b.next().value);
  }
  t.same(firstB, firstA, "the first 500 keys");
  // Deleting 900 of 1,000 entries (most of them behind the iterators) compacts the entries.
  for (let i = 0; i < 1000; i++) {
    if (i % 10 === 3) continue;
    model.delete(key(i));
    km.delete(key(i));
  }
  for (let i = 2000; i < 2005; i++) {
    model.set(key(i), i);
    km.set(key(i), i);
  }
  t.same([...b], [...a], "the rest: survivors past the iterator, then the new keys");
});
