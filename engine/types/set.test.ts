import fc from "fast-check";
import t from "tap";
import { compareIntStrings, SetObject } from "./set";

const member = fc.oneof(fc.constantFrom("a", "b", "c", "d", "e", "f"), fc.integer({ min: -20, max: 20 }).map(String));

type Op = { kind: "add" | "remove"; m: string };
const op: fc.Arbitrary<Op> = fc.record({ kind: fc.constantFrom("add" as const, "remove" as const), m: member });

t.test("SetObject behaves like a JS Set", async () => {
  fc.assert(
    fc.property(fc.array(op, { maxLength: 200, size: "max" }), (ops) => {
      const s = new SetObject();
      const model = new Set<string>();
      for (const o of ops) {
        if (o.kind === "add") {
          if (s.add(o.m, 8) !== !model.has(o.m)) return false;
          model.add(o.m);
        } else {
          if (s.remove(o.m) !== model.has(o.m)) return false;
          model.delete(o.m);
        }
        if (s.length !== model.size) return false;
      }
      const sorted = (xs: Iterable<string>): string[] => [...xs].sort();
      return JSON.stringify(sorted(s.toArray())) === JSON.stringify(sorted(model)) && [...model].every((m) => s.has(m));
    }),
  );
});

t.test("an intset replies in numeric order and turns into a hashtable for good", async (t) => {
  const s = SetObject.fromMembers(["10", "-3", "2", "-20", "100"], 8);
  t.equal(s.encoding, "intset");
  t.same(s.ordered(), ["-20", "-3", "2", "10", "100"]);
  s.add("x");
  t.equal(s.encoding, "hashtable");
  s.remove("x");
  t.equal(s.encoding, "hashtable", "removing the string does not convert back");
  const big = SetObject.fromMembers(["1", "2", "3"], 2);
  t.equal(big.encoding, "hashtable", "more members than set-max-intset-entries");
  t.equal(SetObject.fromMembers(["007"]).encoding, "hashtable", "non-canonical integers are strings");
  t.equal(s.clone().encoding, "hashtable");
});

t.test("compareIntStrings orders int64 strings numerically", async () => {
  fc.assert(
    fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), (a, b) => {
      const c = compareIntStrings(a.toString(), b.toString());
      return Math.sign(c) === (a < b ? -1 : a > b ? 1 : 0);
    }),
  );
});

t.test("a scan returns every member present for the whole scan, despite changes in between", async () => {
  fc.assert(
    fc.property(
      fc.uniqueArray(fc.string({ minLength: 1, maxLength: 3 }).map((x) => `m${x}`), { minLength: 0, maxLength: 60, size: "max" }),
      fc.array(op, { maxLength: 100, size: "max" }),
      fc.integer({ min: 1, max: 7 }),
      (initial, changes, count) => {
        const s = SetObject.fromMembers(initial, 0);
        const stable = new Set(initial);
        const seen = new Set<string>();
        let cursor = 0;
        let step = 0;
        do {
          const r = s.scan(cursor, count);
          for (const m of r.members) seen.add(m);
          cursor = r.next;
          // Interleave a few changes between steps.
          for (const c of changes.slice(step * 3, step * 3 + 3)) {
            if (c.kind === "add") s.add(c.m, 0);
            else {
              s.remove(c.m);
              stable.delete(c.m);
            }
          }
          step++;
        } while (cursor !== 0 && step < 1000);
        return cursor === 0 && [...stable].every((m) => seen.has(m));
      },
    ),
  );
});

t.test("randomMember picks every member eventually and only members", async (t) => {
  const s = SetObject.fromMembers(["a", "b", "c", "d"]);
  const seen = new Set<string>();
  for (let i = 0; i < 64; i++) seen.add(s.randomMember(i / 64));
  t.same([...seen].sort(), ["a", "b", "c", "d"]);
  t.equal(s.randomMember(0.9999999999), s.at(3));
});
