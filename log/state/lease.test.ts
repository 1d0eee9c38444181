// Lease exclusion in real time. A small discrete-event simulation: nodes with
// drifting clocks send tryTakeLease / renewLease / append to a log whose leader
// changes (each new leader with an unrelated, drifting clock); messages are
// delayed arbitrarily or lost. Every committed command goes through the real
// state machine. A holder believes it holds its lease from the reply until its
// own clock reads (send time + durationMs - margin). The property: the belief
// windows of two different leases never overlap in real time, and no append is
// accepted under a lease once a newer one has been granted. Two deliberately
// wrong variants (holders counting from the reply; a shell that does not pass
// terms, so clocks of different leaders get compared) must be caught.
import fc from "fast-check";
import t from "tap";
import { LogStateMachine } from "./machine";
import { MemoryRecordStore } from "./record-store";
import type { Command, Reply } from "./types";

interface Clock {
  readonly offset: number;
  readonly rate: number;
}

interface Action {
  readonly node: number;
  readonly gapMs: number;
  readonly op: "take" | "renew" | "append";
  readonly reqDelayMs: number;
  readonly replyDelayMs: number;
  readonly fate: "ok" | "lostRequest" | "lostReply";
  readonly staleSeq: boolean;
}

interface Scenario {
  readonly durationMs: number;
  readonly rho: number;
  readonly nodes: readonly Clock[];
  /** Leader k+1 (term k+1) takes over at real time starts[k]; starts[0] = 0. */
  readonly leaders: readonly (Clock & { readonly startMs: number })[];
  readonly actions: readonly Action[];
}

type Variant = "correct" | "holder-counts-from-reply" | "shell-drops-terms";

const local = (c: Clock, t: number): number => c.offset + c.rate * t;
const realAt = (c: Clock, localMs: number): number => (localMs - c.offset) / c.rate;

/** The margin of lease.ts: m >= 2rd/(1+r) + 1 ms. */
function marginMs(durationMs: number, rho: number): number {
  return Math.ceil((2 * rho * durationMs) / (1 + rho) + 1);
}

interface Outcome {
  /** Per lease id: the real-time windows in which its holder believed it held it. */
  readonly windows: Map<number, [number, number][]>;
  readonly violations: string[];
  readonly grants: number;
}

type Ev =
  | { readonly at: number; readonly n: number; readonly kind: "send"; readonly a: Action }
  | { readonly at: number; readonly n: number; readonly kind: "arrive"; readonly a: Action; readonly cmd: Command; readonly sentLocal: number }
  | { readonly at: number; readonly n: number; readonly kind: "reply"; readonly a: Action; readonly cmd: Command; readonly sentLocal: number; readonly reply: Reply };

function simulate(sc: Scenario, variant: Variant): Outcome {
  const m = new LogStateMachine(new MemoryRecordStore(), { windowRecordsMax: 8, windowBytesMax: 1024 });
  const d = sc.durationMs;
  const margin = marginMs(d, sc.rho);
  const nodes = sc.nodes.map(() => ({ leaseId: 0, believedUntilLocal: -Infinity }));
  const windows = new Map<number, [number, number][]>();
  const violations: string[] = [];
  const grantOrder: number[] = [];
  let grants = 0;
  let index = 0;
  let n = 0;
  const queue: Ev[] = [];
  const push = (e: Ev): void => {
    queue.push(e);
  };
  let now = 0;
  for (const a of sc.actions) {
    now += a.gapMs;
    push({ at: now, n: n++, kind: "send", a });
  }
  const tip = (): number => m.shard(0)?.tip ?? 0;
  while (queue.length > 0) {
    queue.sort((x, y) => x.at - y.at || x.n - y.n);
    const ev = queue.shift() as Ev;
    const clock = sc.nodes[ev.a.node] as Clock;
    const node = nodes[ev.a.node] as { leaseId: number; believedUntilLocal: number };
    if (ev.kind === "send") {
      const seq = Math.max(0, tip() - (ev.a.staleSeq ? 1 : 0));
      const cmd: Command =
        ev.a.op === "take"
          ? { kind: "tryTakeLease", shard: 0, nodeId: `n${ev.a.node}`, expectedSeq: seq, durationMs: d }
          : ev.a.op === "renew"
            ? { kind: "renewLease", shard: 0, leaseId: Math.max(1, node.leaseId) }
            : { kind: "append", shard: 0, leaseId: Math.max(1, node.leaseId), expectedSeq: seq, records: [Buffer.from(`n${ev.a.node}`)] };
      if (ev.a.fate !== "lostRequest") push({ at: ev.at + ev.a.reqDelayMs, n: n++, kind: "arrive", a: ev.a, cmd, sentLocal: local(clock, ev.at) });
    } else if (ev.kind === "arrive") {
      let k = 0;
      while (k + 1 < sc.leaders.length && (sc.leaders[k + 1] as { startMs: number }).startMs <= ev.at) k++;
      const leader = sc.leaders[k] as Clock;
      const term = variant === "shell-drops-terms" ? 1 : k + 1;
      const reply = m.apply(++index, { term, proposedAtMs: Math.floor(local(leader, ev.at)) }, ev.cmd);
      m.checkInvariants();
      if (reply.op === "tryTakeLease" && reply.result.kind === "granted") {
        grants++;
        grantOrder.push(reply.result.leaseId);
      }
      if (reply.op === "append" && reply.result.kind === "ok" && ev.cmd.kind === "append" && ev.cmd.leaseId !== grantOrder[grantOrder.length - 1]) {
        violations.push(`append under lease ${ev.cmd.leaseId} accepted after grant ${String(grantOrder[grantOrder.length - 1])}`);
      }
      if (ev.a.fate !== "lostReply") push({ at: ev.at + ev.a.replyDelayMs, n: n++, kind: "reply", a: ev.a, cmd: ev.cmd, sentLocal: ev.sentLocal, reply });
    } else {
      const r = ev.reply;
      const base = variant === "holder-counts-from-reply" ? local(clock, ev.at) : ev.sentLocal;
      let confirmed = 0;
      if (r.op === "tryTakeLease" && r.result.kind === "granted") confirmed = r.result.leaseId;
      if (r.op === "renewLease" && r.result.kind === "ok" && ev.cmd.kind === "renewLease") confirmed = ev.cmd.leaseId;
      if (confirmed !== 0) {
        if (node.leaseId !== confirmed) node.believedUntilLocal = -Infinity;
        node.leaseId = confirmed;
        node.believedUntilLocal = Math.max(node.believedUntilLocal, base + d - margin);
        const end = realAt(clock, node.believedUntilLocal);
        if (end > ev.at) windows.set(confirmed, [...(windows.get(confirmed) ?? []), [ev.at, end]]);
      }
      if ((r.op === "append" || r.op === "renewLease") && r.result.kind === "leaseMismatch") node.believedUntilLocal = -Infinity;
    }
  }
  checkDisjoint(windows, violations);
  return { windows, violations, grants };
}

function checkDisjoint(windows: Map<number, [number, number][]>, violations: string[]): void {
  const all: [number, number, number][] = [];
  for (const [id, ws] of windows) for (const [s, e] of ws) all.push([id, s, e]);
  for (let i = 0; i < all.length; i++) {
    for (let j = i + 1; j < all.length; j++) {
      const [ia, sa, ea] = all[i] as [number, number, number];
      const [ib, sb, eb] = all[j] as [number, number, number];
      if (ia !== ib && Math.max(sa, sb) < Math.min(ea, eb)) {
        violations.push(`leases ${ia} [${sa.toFixed(3)}, ${ea.toFixed(3)}) and ${ib} [${sb.toFixed(3)}, ${eb.toFixed(3)}) overlap`);
      }
    }
  }
}

const unit = fc.oneof(fc.constantFrom(0, 1), fc.double({ min: 0, max: 1, noNaN: true }));

const scenarioArb: fc.Arbitrary<Scenario> = fc
  .record({ durationMs: fc.integer({ min: 20, max: 3000 }), rho: fc.constantFrom(1e-4, 1e-3, 0.01, 0.05) })
  .chain(({ durationMs: d, rho }) => {
    const clock = fc.record({ offset: fc.integer({ min: 0, max: 1e9 }), u: unit }).map(({ offset, u }) => ({ offset, rate: 1 + rho * (2 * u - 1) }));
    const delay = fc.oneof(fc.nat({ max: 5 }), fc.nat({ max: d }), fc.nat({ max: 3 * d }));
    const action: fc.Arbitrary<Action> = fc.record({
      node: fc.nat({ max: 2 }),
      gapMs: fc.oneof(fc.nat({ max: Math.ceil(d / 10) }), fc.nat({ max: d })),
      op: fc.constantFrom("take", "take", "renew", "renew", "append"),
      reqDelayMs: delay,
      replyDelayMs: delay,
      fate: fc.constantFrom("ok", "ok", "ok", "ok", "lostRequest", "lostReply"),
      staleSeq: fc.nat({ max: 9 }).map((x) => x === 0),
    });
    return fc.record({
      durationMs: fc.constant(d),
      rho: fc.constant(rho),
      nodes: fc.tuple(clock, clock, clock),
      leaders: fc
        .array(fc.record({ clock, gap: fc.nat({ max: 3 * d }) }), { minLength: 1, maxLength: 6 })
        .map((ls) => {
          let at = 0;
          return ls.map(({ clock: c, gap }, i) => ({ ...c, startMs: i === 0 ? 0 : (at += gap) }));
        }),
      actions: fc.array(action, { minLength: 5, maxLength: 80, size: "max" }),
    });
  });

t.test("two holders never both believe they hold the lease, across leader changes, drift, delays and losses", async (t) => {
  let contested = 0;
  fc.assert(
    fc.property(scenarioArb, (sc) => {
      const out = simulate(sc, "correct");
      if ([...out.windows.keys()].length >= 2) contested++;
      if (out.violations.length > 0) throw new Error(out.violations.join("\n"));
    }),
    { numRuns: 1500 },
  );
  t.ok(contested > 500, `${contested} runs saw two or more leases believed in`);
});

t.test("the checker has teeth: wrong variants are caught", async (t) => {
  for (const variant of ["holder-counts-from-reply", "shell-drops-terms"] as const) {
    const r = fc.check(
      fc.property(scenarioArb, (sc) => simulate(sc, variant).violations.length === 0),
      { numRuns: 3000, seed: 42 },
    );
    t.ok(r.failed, `${variant}: a counterexample is found`);
    if (r.failed) t.comment(`${variant}: ${simulate((r.counterexample as [Scenario])[0], variant).violations[0] ?? ""}`);
  }
});

t.test("a scripted takeover: the old holder's window ends before the new grant, even with a faster leader clock", async (t) => {
  const d = 1000;
  const rho = 0.01;
  const sc: Scenario = {
    durationMs: d,
    rho,
    nodes: [
      { offset: 0, rate: 1 - rho },
      { offset: 5e6, rate: 1 + rho },
      { offset: 0, rate: 1 },
    ],
    leaders: [
      { offset: 0, rate: 1 - rho, startMs: 0 },
      { offset: 9e8, rate: 1 + rho, startMs: 500 },
    ],
    actions: [
      { node: 0, gapMs: 0, op: "take", reqDelayMs: 0, replyDelayMs: 0, fate: "ok", staleSeq: false },
      ...Array.from({ length: 80 }, (): Action => ({ node: 1, gapMs: 25, op: "take", reqDelayMs: 0, replyDelayMs: 0, fate: "ok", staleSeq: false })),
    ],
  };
  const out = simulate(sc, "correct");
  t.same(out.violations, []);
  t.equal(out.grants, 2, "node 0, then node 1 once the carried-over lease lapses");
  const [first, second] = [...out.windows.values()].map((ws) => ws[0] as [number, number]);
  t.ok(first !== undefined && second !== undefined && first[1] <= second[0], `${JSON.stringify(first)} ends before ${JSON.stringify(second)}`);
  t.ok(simulate(sc, "shell-drops-terms").violations.length > 0, "comparing the two leaders' clocks would have granted at once");
});
