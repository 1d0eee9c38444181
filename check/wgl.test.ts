// The linearizability checker on hand-made histories (concurrent operations,
// lost replies, stale reads, lost writes) and on generated ones: a history
// produced by executing operations one at a time at points inside their
// intervals is always linearizable; swapping the results of two reads that
// do not overlap never is.
import t from "tap";
import fc from "fast-check";
import { checkHistory, ILLEGAL, type Illegal, summarize, type Model, type Operation, type Outcome } from "./wgl";
import {
  counterModel,
  listModel,
  registerModel,
  type CounterInput,
  type CounterOutput,
  type ListInput,
  type ListOutput,
  type RegisterInput,
  type RegisterOutput,
} from "./models";
import { reduceList, reduceRegister } from "./reduce";

type RegOp = Operation<RegisterInput, RegisterOutput>;

function op<I, O>(client: number, input: I, callAt: number, returnAt: number | null, output?: O): Operation<I, O> {
  const outcome: Outcome<O> = returnAt === null ? { known: false } : { known: true, output: output as O };
  return { client, key: "k", input, outcome, callAt, returnAt: returnAt ?? Infinity };
}
const set = (c: number, v: string, a: number, b: number | null): RegOp => op<RegisterInput, RegisterOutput>(c, { op: "set", value: v }, a, b, "OK");
const get = (c: number, v: string | null, a: number, b: number): RegOp => op<RegisterInput, RegisterOutput>(c, { op: "get" }, a, b, v);

function kindOf<S, I, O>(model: Model<S, I, O>, h: readonly Operation<I, O>[]): string {
  return checkHistory(model, h).kind;
}

t.test("register: hand-made histories", async (t) => {
  t.equal(kindOf(registerModel, []), "ok", "the empty history");
  t.equal(kindOf(registerModel, [set(0, "a", 0, 1), get(1, "a", 2, 3)]), "ok", "sequential");
  t.equal(kindOf(registerModel, [set(0, "a", 0, 10), get(1, null, 1, 2), get(2, "a", 3, 4)]), "ok", "reads around a slow write");
  t.equal(kindOf(registerModel, [set(0, "a", 0, 1), get(1, null, 2, 3)]), "illegal", "a stale read after the write returned");
  t.equal(kindOf(registerModel, [get(1, "z", 0, 1)]), "illegal", "a value nobody wrote");
  t.equal(
    kindOf(registerModel, [set(0, "a", 0, 1), set(0, "b", 2, 10), get(1, "b", 3, 4), get(2, "a", 5, 6)]),
    "illegal",
    "a read goes back in time after another read saw the new value",
  );
  t.equal(
    kindOf(registerModel, [set(0, "a", 0, 1), set(0, "b", 2, 10), get(1, "a", 3, 4), get(2, "b", 5, 6), get(1, "b", 7, 8)]),
    "ok",
    "concurrent reads in real-time order",
  );
});

t.test("register: operations whose reply was lost may have happened", async (t) => {
  t.equal(kindOf(registerModel, [set(0, "a", 0, 1), set(1, "b", 2, null), get(2, "b", 10, 11)]), "ok", "it happened");
  t.equal(kindOf(registerModel, [set(0, "a", 0, 1), set(1, "b", 2, null), get(2, "a", 10, 11)]), "ok", "it did not (yet)");
  t.equal(
    kindOf(registerModel, [set(0, "a", 0, 1), set(1, "b", 2, null), get(2, "a", 3, 4), get(2, "b", 5, 6)]),
    "ok",
    "it happened late, long after its call",
  );
  t.equal(
    kindOf(registerModel, [set(0, "a", 0, 1), set(1, "b", 2, null), get(2, "b", 3, 4), get(2, "a", 5, 6)]),
    "illegal",
    "once seen, it cannot un-happen",
  );
  t.equal(kindOf(registerModel, [set(1, "b", 5, null), get(2, "b", 1, 2)]), "illegal", "it cannot happen before its call");
});

t.test("an illegal history explains itself", async (t) => {
  const r = checkHistory(registerModel, [set(0, "a", 0, 1), set(0, "b", 2, 3), get(1, "a", 4, 5)]);
  const p = r.partitions[0];
  if (p?.kind !== "illegal") {
    t.fail(`expected illegal, got ${p?.kind}`);
    return;
  }
  t.equal(p.explanation.prefix.length, 2, "the two writes linearize");
  t.same(p.explanation.stuck?.input, { op: "get" }, "the stale read is the operation that cannot be placed");
  t.match(p.explanation.stateAfterPrefix, /"b"/);
  t.match(summarize(r), /cannot place: client 1 \[4, 5\] GET -> "a"/);
});

t.test("histories are checked per key", async (t) => {
  const a = (o: RegOp, key: string): RegOp => ({ ...o, key });
  const h = [a(set(0, "x", 0, 1), "k1"), a(set(1, "y", 0, 1), "k2"), a(get(2, "x", 2, 3), "k1"), a(get(2, null, 2, 3), "k2")];
  const r = checkHistory(registerModel, h);
  t.equal(r.kind, "illegal");
  t.same(
    r.partitions.map((p) => [p.key, p.kind]),
    [
      ["k1", "ok"],
      ["k2", "illegal"],
    ],
  );
});

t.test("a search over its budget is unknown, never ok", async (t) => {
  // Many concurrent writes and reads of values in an order no linearization allows forces a long search.
  const h: RegOp[] = [];
  for (let i = 0; i < 14; i++) h.push(set(i, `v${i}`, 0, 100));
  for (let i = 0; i < 14; i++) h.push(get(20 + i, `v${(i * 5) % 14}`, 1, 99));
  h.push(get(40, "nope", 101, 102));
  const r = checkHistory(registerModel, h, { stepsMax: 500 });
  t.equal(r.kind, "unknown");
  const p = r.partitions[0];
  t.match(p?.kind === "unknown" ? p.reason : "", /gave up after 500 search steps/);
});

t.test("counter", async (t) => {
  const m = counterModel;
  const incr = (c: number, v: number | null, a: number, b: number | null): Operation<CounterInput, CounterOutput> => op(c, { op: "incr" }, a, b, v);
  const cget = (c: number, v: number | null, a: number, b: number): Operation<CounterInput, CounterOutput> => op(c, { op: "get" }, a, b, v);
  t.equal(kindOf(m, [incr(0, 2, 0, 10), incr(1, 1, 1, 9), cget(2, 2, 11, 12)]), "ok", "concurrent increments in either order");
  t.equal(kindOf(m, [incr(0, 1, 0, 1), cget(1, null, 2, 3)]), "illegal", "an acknowledged increment is lost");
  t.equal(kindOf(m, [incr(0, 1, 0, 1), incr(1, null, 2, null), cget(2, 2, 5, 6), cget(2, 2, 7, 8)]), "ok", "a lost reply that happened");
  t.equal(kindOf(m, [incr(0, 1, 0, 1), cget(2, 3, 5, 6)]), "illegal", "an increment counted twice");
  t.equal(kindOf(m, [incr(0, 1, 0, 1), incr(1, 1, 2, 3)]), "illegal", "two increments answer the same value");
});

t.test("list append", async (t) => {
  const m = listModel();
  const push = (c: number, v: string, n: number | null, a: number, b: number | null): Operation<ListInput, ListOutput> =>
    op<ListInput, ListOutput>(c, { op: "rpush", value: v }, a, b, n ?? 0);
  const range = (c: number, items: string[], a: number, b: number): Operation<ListInput, ListOutput> => op<ListInput, ListOutput>(c, { op: "lrange" }, a, b, items);
  t.equal(kindOf(m, [push(0, "x", 1, 0, 1), push(1, "y", 2, 2, 3), range(2, ["x", "y"], 4, 5)]), "ok");
  t.equal(kindOf(listModel(), [push(0, "x", 2, 0, 10), push(1, "y", 1, 0, 10), range(2, ["y", "x"], 11, 12)]), "ok", "concurrent pushes");
  t.equal(kindOf(listModel(), [push(0, "x", 1, 0, 1), push(1, "y", 2, 2, 3), range(2, ["y", "x"], 4, 5)]), "illegal", "reordered");
  t.equal(kindOf(listModel(), [push(0, "x", 1, 0, 1), range(2, ["x", "x"], 4, 5)]), "illegal", "duplicated");
  t.equal(kindOf(listModel(), [push(0, "x", 1, 0, 1), push(1, "y", 2, 2, 3), range(2, ["y"], 4, 5)]), "illegal", "lost");
  t.equal(
    kindOf(listModel(), [push(0, "x", 1, 0, 1), push(1, "y", null, 2, null), push(0, "z", 3, 4, 5), range(2, ["x", "y", "z"], 6, 7)]),
    "ok",
    "a push whose reply was lost, seen in place",
  );
  t.equal(
    kindOf(listModel(), [push(0, "x", 1, 0, 1), push(1, "y", null, 2, null), push(0, "z", 2, 4, 5), range(2, ["x", "z"], 6, 7)]),
    "ok",
    "a push whose reply was lost and that never happened",
  );
});

// ---- generated histories ------------------------------------------------------------------

interface GenOp {
  readonly client: number;
  readonly write: boolean;
  /** Time from the previous operation's linearization point to this one's. */
  readonly gap: number;
  readonly before: number;
  readonly after: number;
  readonly lost: boolean;
}

const genOp = fc.record({
  client: fc.integer({ min: 0, max: 4 }),
  write: fc.boolean(),
  gap: fc.integer({ min: 1, max: 10 }),
  before: fc.integer({ min: 0, max: 25 }),
  after: fc.integer({ min: 0, max: 25 }),
  lost: fc.boolean(),
});

/**
 * Executes the operations on a real register at points 10, 20, ... in order
 * and gives each an interval around its point; `lostP` makes some replies lost.
 * `spread` false gives a sequential history (no two intervals overlap).
 */
function registerHistory(gen: readonly GenOp[], spread: boolean, allowLost: boolean): RegOp[] {
  let value: string | null = null;
  let point = 0;
  return gen.map((g, i) => {
    point += spread ? g.gap * 100 : 100;
    const callAt = spread ? point - g.before : point - 1;
    const returnAt = spread ? point + g.after : point + 1;
    const lost = allowLost && g.lost && g.write;
    if (g.write) {
      value = `v${i}`;
      return op<RegisterInput, RegisterOutput>(g.client, { op: "set", value }, callAt, lost ? null : returnAt, "OK");
    }
    return op<RegisterInput, RegisterOutput>(g.client, { op: "get" }, callAt, returnAt, value);
  });
}

t.test("property: a sequential history is always linearizable", async () => {
  fc.assert(
    fc.property(fc.array(genOp, { maxLength: 60 }), (gen) => checkHistory(registerModel, registerHistory(gen, false, false)).kind === "ok"),
    { numRuns: 300 },
  );
});

t.test("property: executing each operation inside its interval is linearizable, lost replies included", async () => {
  fc.assert(
    fc.property(fc.array(genOp, { maxLength: 40 }), (gen) => checkHistory(registerModel, registerHistory(gen, true, true)).kind === "ok"),
    { numRuns: 300 },
  );
});

t.test("property: swapping the results of two non-overlapping reads that differ is illegal", async () => {
  const arb = fc.array(genOp, { minLength: 2, maxLength: 40 }).chain((gen) => fc.tuple(fc.constant(gen), fc.nat(), fc.nat()));
  fc.assert(
    fc.property(arb, ([gen, x, y]) => {
      const h = registerHistory(gen, false, false);
      const reads = h.map((o, i) => [o, i] as const).filter(([o]) => o.input.op === "get");
      if (reads.length < 2) return true;
      const [a, ia] = reads[x % reads.length] as readonly [RegOp, number];
      const [b, ib] = reads[y % reads.length] as readonly [RegOp, number];
      if (!a.outcome.known || !b.outcome.known || a.outcome.output === b.outcome.output) return true;
      const swapped = [...h];
      swapped[ia] = { ...a, outcome: b.outcome };
      swapped[ib] = { ...b, outcome: a.outcome };
      return checkHistory(registerModel, swapped).kind === "illegal";
    }),
    { numRuns: 300 },
  );
});

t.test("property: counters and lists executed inside their intervals are linearizable", async () => {
  fc.assert(
    fc.property(fc.array(genOp, { maxLength: 40 }), (gen) => {
      let n = 0;
      const items: string[] = [];
      let point = 0;
      const ch: Operation<CounterInput, CounterOutput>[] = [];
      const lh: Operation<ListInput, ListOutput>[] = [];
      gen.forEach((g, i) => {
        point += g.gap * 100;
        const [a, b] = [point - g.before, g.lost && g.write ? null : point + g.after];
        if (g.write) {
          n++;
          items.push(`i${i}`);
          ch.push(op<CounterInput, CounterOutput>(g.client, { op: "incr" }, a, b, n));
          lh.push(op<ListInput, ListOutput>(g.client, { op: "rpush", value: `i${i}` }, a, b, items.length));
        } else {
          ch.push(op<CounterInput, CounterOutput>(g.client, { op: "get" }, a, b, n === 0 ? null : n));
          lh.push(op<ListInput, ListOutput>(g.client, { op: "lrange" }, a, b, [...items]));
        }
      });
      return checkHistory(counterModel, ch).kind === "ok" && checkHistory(listModel(), lh).kind === "ok";
    }),
    { numRuns: 200 },
  );
});

// ---- against brute force ---------------------------------------------------------------------

/** Every order (and every subset of the unanswered operations) tried, one by one. */
function bruteForce<S, I, O>(model: Model<S, I, O>, ops: readonly Operation<I, O>[]): boolean {
  const placed = new Array<boolean>(ops.length).fill(false);
  const go = (state: S): boolean => {
    const open = ops.map((_, i) => i).filter((i) => !placed[i]);
    if (open.every((i) => !(ops[i] as Operation<I, O>).outcome.known)) return true;
    for (const i of open) {
      const o = ops[i] as Operation<I, O>;
      // Not next if some other open operation returned before this one was called.
      if (open.some((j) => j !== i && (ops[j] as Operation<I, O>).outcome.known && (ops[j] as Operation<I, O>).returnAt < o.callAt)) continue;
      const nexts: (S | Illegal)[] = o.outcome.known ? [model.step(state, o.input, o.outcome.output)] : [...model.stepUnknown(state, o.input)];
      placed[i] = true;
      for (const n of nexts) {
        if (n === ILLEGAL || !go(n)) continue;
        placed[i] = false;
        return true;
      }
      placed[i] = false;
    }
    return false;
  };
  return go(model.init());
}

const smallRegisterOp = fc
  .record({
    client: fc.integer({ min: 0, max: 3 }),
    write: fc.boolean(),
    value: fc.constantFrom("a", "b", "c"),
    read: fc.constantFrom<string | null>("a", "b", "c", null),
    callAt: fc.integer({ min: 0, max: 20 }),
    length: fc.integer({ min: 0, max: 10 }),
    lost: fc.boolean(),
  })
  .map(
    (g): RegOp =>
      g.write
        ? op<RegisterInput, RegisterOutput>(g.client, { op: "set", value: g.value }, g.callAt, g.lost ? null : g.callAt + g.length, "OK")
        : op<RegisterInput, RegisterOutput>(g.client, { op: "get" }, g.callAt, g.callAt + g.length, g.read),
  );

t.test("property: the checker agrees with brute force on small register histories", async () => {
  fc.assert(
    fc.property(fc.array(smallRegisterOp, { maxLength: 7 }), (h) => (checkHistory(registerModel, h).kind === "ok") === bruteForce(registerModel, h)),
    { numRuns: 1500 },
  );
});

t.test("property: the checker agrees with brute force on small counter histories", async () => {
  const g = fc
    .record({ incr: fc.boolean(), out: fc.option(fc.integer({ min: 1, max: 4 })), callAt: fc.integer({ min: 0, max: 20 }), length: fc.integer({ min: 0, max: 10 }), lost: fc.boolean() })
    .map((x): Operation<CounterInput, CounterOutput> => op<CounterInput, CounterOutput>(0, { op: x.incr ? "incr" : "get" }, x.callAt, x.incr && x.lost ? null : x.callAt + x.length, x.out));
  fc.assert(
    fc.property(fc.array(g, { maxLength: 7 }), (h) => (checkHistory(counterModel, h).kind === "ok") === bruteForce(counterModel, h)),
    { numRuns: 1500 },
  );
});

// ---- reductions ------------------------------------------------------------------------------

t.test("property: dropping unknown SETs nobody read never changes the verdict", async () => {
  const unique = fc.array(smallRegisterOp, { maxLength: 8 }).map((h) => h.map((o, i) => (o.input.op === "set" ? { ...o, input: { op: "set" as const, value: `${o.input.value}${i}` } } : o)));
  // Reads return values that were written (sometimes), so that reads and lost SETs interact.
  const withReads = unique.chain((h) => {
    const values = h.flatMap((o) => (o.input.op === "set" ? [o.input.value] : []));
    return fc.tuple(fc.constant(h), fc.array(fc.option(fc.constantFrom(...values, "x"), { nil: null }), { minLength: h.length, maxLength: h.length }));
  });
  fc.assert(
    fc.property(withReads, ([h, reads]) => {
      const hh = h.map((o, i) => (o.input.op === "get" && o.outcome.known ? { ...o, outcome: { known: true as const, output: reads[i] ?? null } } : o));
      return checkHistory(registerModel, reduceRegister(hh)).kind === checkHistory(registerModel, hh).kind;
    }),
    { numRuns: 1000 },
  );
});

t.test("property: dropping unknown RPUSHes absent from every LRANGE, given a final read, never changes the verdict", async () => {
  const g = fc.array(
    fc.record({ push: fc.boolean(), lost: fc.boolean(), callAt: fc.integer({ min: 0, max: 20 }), length: fc.integer({ min: 0, max: 8 }), n: fc.integer({ min: 1, max: 4 }), pick: fc.array(fc.nat(5), { maxLength: 3 }) }),
    { maxLength: 7 },
  );
  fc.assert(
    fc.property(g, (gen) => {
      const h: Operation<ListInput, ListOutput>[] = gen.map((x, i) =>
        x.push
          ? op<ListInput, ListOutput>(i, { op: "rpush", value: `v${i}` }, x.callAt, x.lost ? null : x.callAt + x.length, x.n)
          : op<ListInput, ListOutput>(i, { op: "lrange" }, x.callAt, x.callAt + x.length, x.pick.map((k) => `v${k}`)),
      );
      const all = h.flatMap((o) => (o.input.op === "rpush" ? [o.input.value] : [])).filter((_, i) => (gen[i]?.n ?? 0) % 2 === 0);
      h.push(op<ListInput, ListOutput>(-1, { op: "lrange" }, 100, 101, all));
      return checkHistory(listModel(), reduceList(h, -1)).kind === checkHistory(listModel(), h).kind;
    }),
    { numRuns: 1000 },
  );
});
