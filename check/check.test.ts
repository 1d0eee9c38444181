// Unit tests of `mnemo check`'s parts that need no cluster: the RESP reply
// parser, CLUSTER SLOTS and status parsing, the fault plan, and the report's
// measures (lost and duplicated writes, unavailability, failover time).
import t from "tap";
import fc from "fast-check";
import { logNodesOf, parseStatus, serversOf } from "./cluster";
import { FAULT_KINDS, type FaultEvent, faultPlan, whole } from "./faults";
import { buildReport, failovers, formatReport, longestUnavailability, losses } from "./report";
import { encodeCommand, parseReply, type RespValue } from "./resp";
import { primaryFromSlots } from "./router";
import { History } from "./workload";

t.test("RESP replies parse whole or not at all", async (t) => {
  const whole = "*3\r\n$3\r\nabc\r\n:42\r\n*2\r\n+OK\r\n$-1\r\n";
  const p = parseReply(whole, 0);
  t.same(p?.value, {
    kind: "array",
    items: [
      { kind: "bulk", value: "abc" },
      { kind: "int", value: 42 },
      { kind: "array", items: [{ kind: "simple", value: "OK" }, { kind: "bulk", value: null }] },
    ],
  });
  t.equal(p?.end, whole.length);
  const complete = Array.from({ length: whole.length }, (_, cut) => parseReply(whole.slice(0, cut), 0)).filter((x) => x !== null);
  t.equal(complete.length, 0, "no proper prefix parses");
  t.same(parseReply("-MOVED 3999 127.0.0.1:6381\r\n", 0)?.value, { kind: "error", message: "MOVED 3999 127.0.0.1:6381" });
  t.same(parseReply("$4\r\na\r\nb\r\n", 0)?.value, { kind: "bulk", value: "a\r\nb" }, "binary-safe bulk");
  t.throws(() => parseReply("?x\r\n", 0), /unexpected reply type/);
  t.throws(() => parseReply(":12a\r\n", 0), /bad integer/);
  t.throws(() => parseReply("*1\r\n".repeat(20), 0), /nested too deeply/);
});

t.test("property: a request encodes to a RESP array of its arguments", async () => {
  fc.assert(
    fc.property(fc.array(fc.string({ unit: "binary-ascii", maxLength: 20 }), { minLength: 1, maxLength: 6 }), (args) => {
      const p = parseReply(encodeCommand(args).toString("latin1"), 0);
      const v: RespValue | undefined = p?.value;
      return v?.kind === "array" && v.items !== null && v.items.every((it, i) => it.kind === "bulk" && it.value === args[i]);
    }),
  );
});

t.test("CLUSTER SLOTS names the primary", async (t) => {
  const slots = parseReply("*1\r\n*4\r\n:0\r\n:16383\r\n*3\r\n$9\r\n127.0.0.1\r\n:6380\r\n$2\r\nid\r\n*3\r\n$9\r\n127.0.0.1\r\n:6379\r\n$2\r\nid\r\n", 0);
  t.same(primaryFromSlots(slots?.value ?? { kind: "array", items: null }, "h"), { host: "127.0.0.1", port: 6380 });
  t.same(primaryFromSlots({ kind: "error", message: "ERR unknown command 'CLUSTER'" }, "h"), null, "a standalone server");
  const empty = parseReply("*1\r\n*3\r\n:0\r\n:16383\r\n*2\r\n$0\r\n\r\n:7000\r\n", 0);
  t.same(primaryFromSlots(empty?.value ?? { kind: "array", items: null }, "10.0.0.9"), { host: "10.0.0.9", port: 7000 }, "an empty host means the one asked");
});

t.test("status --json: the processes contract", async (t) => {
  const s = parseStatus(
    `warming up\n${JSON.stringify({
      processes: [
        { name: "az-a", kind: "log", role: "leader", pid: 11, port: 7001, shard: null, extra: true },
        { name: "az-b", kind: "log", role: "follower", pid: 12, port: 7002 },
        { name: "az-c", kind: "log", role: "follower", pid: 13, port: 7003 },
        { name: "s0-primary", kind: "server", role: "primary", pid: 21, port: 6379, shard: 0 },
        { name: "s0-replica-1", kind: "server", role: "replica", pid: 22, port: "6380", shard: 0 },
        { name: "snap", kind: "snapshotter", role: "idle", pid: null },
      ],
    })}`,
  );
  t.same(serversOf(s, "replica")[0], { name: "s0-replica-1", kind: "server", role: "replica", pid: 22, port: 6380, shard: 0 });
  t.equal(logNodesOf(s, "follower").length, 2);
  t.ok(whole(s, 1), "a primary, a replica, three log nodes with a leader");
  t.notOk(whole(s, 2), "two replicas were asked for");
  t.throws(() => parseStatus("{}"), /no processes array/);
  t.throws(() => parseStatus("mnemo: unknown command 'status'"), /no JSON/);
});

t.test("the fault plan starts with a primary kill and cycles through every kind", async (t) => {
  fc.assert(
    fc.property(fc.nat(), fc.integer({ min: 1, max: 30 }), (seed, n) => {
      const plan = faultPlan(n, seed);
      const firstCycle = new Set(plan.slice(0, 5));
      return plan.length === n && plan[0] === "kill-primary" && (n < 5 || firstCycle.size === FAULT_KINDS.length);
    }),
  );
  t.same(faultPlan(7, 3), faultPlan(7, 3), "same seed, same plan");
});

function historyWith(f: (h: History) => void): History {
  const h = new History();
  f(h);
  return h;
}

t.test("lost and duplicated writes, from the final reads", async (t) => {
  const h = historyWith((h) => {
    const push = (v: string, known: boolean, n: number) =>
      h.list.push({ client: 0, key: "L", input: { op: "rpush", value: v }, outcome: known ? { known: true, output: n } : { known: false }, callAt: n, returnAt: known ? n + 1 : Infinity });
    push("a", true, 1);
    push("b", true, 2);
    push("c", false, 3);
    h.list.push({ client: -1, key: "L", input: { op: "lrange" }, outcome: { known: true, output: ["a", "c", "c"] }, callAt: 10, returnAt: 11 });
    const incr = (known: boolean, n: number) =>
      h.counter.push({ client: 0, key: "C", input: { op: "incr" }, outcome: known ? { known: true, output: n } : { known: false }, callAt: n, returnAt: known ? n + 1 : Infinity });
    incr(true, 1);
    incr(true, 2);
    incr(false, 3);
    h.counter.push({ client: -1, key: "C", input: { op: "get" }, outcome: { known: true, output: 1 }, callAt: 10, returnAt: 11 });
  });
  const l = losses(h);
  t.equal(l.lost, 2, "b is missing from the list; the counter is one short of its acknowledged INCRs");
  t.equal(l.duplicated, 1, "c twice");
  t.match(l.details.join("\n"), /acknowledged RPUSH "b" is missing/);
  const r = buildReport({ seed: 1, history: h, faults: [], unreadKeys: [], startedAt: 0, endedAt: 20, problems: [] });
  t.notOk(r.ok);
  t.same([...r.nonLinearizableKeys].sort(), ["C", "L"], "the linearizability check sees it too");
  t.match(formatReport(r), /lost acknowledged writes: 2/);
});

t.test("unavailability windows and failover times", async (t) => {
  const h = historyWith((h) => {
    for (const [callAt, returnAt, acked] of [
      [0, 5, true],
      [6, 10, true],
      [11, 2500, false],
      [1200, 3000, true],
      [3001, 3005, true],
    ] as const)
      h.writes.push({ callAt, returnAt, acked, endpoint: "x" });
  });
  t.same(longestUnavailability(h, 0, 3100), { ms: 2990, fromMs: 10, toMs: 3000 });
  t.same(longestUnavailability(new History(), 100, 400), { ms: 300, fromMs: 0, toMs: 300 }, "no write at all: the whole run");
  const fault = (kind: FaultEvent["kind"], atMs: number): FaultEvent => ({ kind, atMs, target: "p", skipped: null, resumedAtMs: null });
  t.same(
    failovers(h, [fault("kill-primary", 1000), fault("kill-replica", 1100), fault("stop-primary", 3004)]),
    [
      { fault: "kill-primary p", atMs: 1000, recoveryMs: 2000, by: "x" },
      { fault: "stop-primary p", atMs: 3004, recoveryMs: null, by: null },
    ],
  );
});
