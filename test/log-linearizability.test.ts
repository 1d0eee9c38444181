// Linearizability of the log service's API under simulated faults: the real
// LogStateMachine on the simulator's Raft nodes (log/sim/log-sim.ts), log
// clients taking leases, appending with expectedSeq, renewing, trimming and
// reading from any node, through message drops, partitions, crashes, pauses
// and leader changes. Each client-observed history is checked against the
// log-API model (check/log-model.ts); a reply that never came counts as
// "may have happened". A failing seed prints its replay command; add it to
// REGRESSION_SEEDS once fixed. MNEMO_LOGLIN_SEEDS sets the number of fresh
// seeds, MNEMO_LOGLIN_SEED_BASE the first one (random by default, printed).
import t from "tap";
import { randomInt } from "node:crypto";
import { formatLogSimCheck, runLogSimCheck, type LogSimCheck } from "../check/log-sim-check";
import { runLogSim } from "../log/sim/log-sim";
import type { LogEvent } from "../log/sim/log-workload";

const REGRESSION_SEEDS: readonly number[] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 42, 1337];
/** About 8 s on the 2-core reference machine (150 seeds: 4.9 s). */
const FRESH_DEFAULT = 200;
const FRESH = Number(process.env.MNEMO_LOGLIN_SEEDS ?? FRESH_DEFAULT);
const BASE = process.env.MNEMO_LOGLIN_SEED_BASE !== undefined ? Number(process.env.MNEMO_LOGLIN_SEED_BASE) : randomInt(1, 2 ** 40);

function failure(r: LogSimCheck): string | null {
  return r.ok ? null : `seed ${r.seed} failed; replay with: ${r.replay}\n${formatLogSimCheck(r)}`;
}

/** What the histories exercised: each outcome the model distinguishes must show up. */
type Coverage = Record<string, number>;

function outcomeOf(e: LogEvent): string {
  const op = e.request.kind === "read" ? "read" : e.request.command.kind;
  if (e.reply === null) return `${op}:unknown`;
  if (e.reply.kind === "read") return `read:${e.reply.result.kind === "records" && e.reply.result.records.length === 0 ? "empty" : e.reply.result.kind}`;
  const r = e.reply.reply.result;
  return `${op}:${"reason" in r ? r.reason : r.kind}`;
}

/** Reads that saw a tip older than an append acknowledged before they were sent. */
function staleReads(h: readonly LogEvent[]): number {
  let n = 0;
  for (const e of h) {
    if (e.reply?.kind !== "read" || e.request.kind !== "read") continue;
    const shard = e.request.shard;
    const tip = e.reply.result.tip;
    const acked = h.some((a) => a.returnAt < e.callAt && a.request.kind === "command" && a.request.command.shard === shard && a.reply?.kind === "command" && a.reply.reply.op === "append" && a.reply.reply.result.kind === "ok" && a.reply.reply.result.lastSeq > tip);
    if (acked) n++;
  }
  return n;
}

t.test("regression seeds", async (t) => {
  for (const seed of REGRESSION_SEEDS) {
    const f = failure(runLogSimCheck(seed));
    if (f !== null) t.fail(f);
  }
  t.pass(`${REGRESSION_SEEDS.length} regression seeds ran`);
});

t.test("same seed, same history", async (t) => {
  const a = runLogSim(77);
  const b = runLogSim(77);
  t.equal(a.sim.digest, b.sim.digest);
  t.same(a.history, b.history);
  t.ok(a.history.length > 0, "clients did something");
});

t.test("the check catches a log that does not fence old lease holders", async (t) => {
  let caught: LogSimCheck | null = null;
  for (let seed = 1; seed <= 40 && caught === null; seed++) {
    const r = runLogSimCheck(seed, { bug: "no-fencing" });
    if (!r.ok) caught = r;
  }
  t.ok(caught !== null, "some seed of 1..40 exposes the planted bug");
  if (caught !== null) {
    t.match(formatLogSimCheck(caught), /not linearizable/);
    t.comment(`seed ${caught.seed} with the planted bug:\n${formatLogSimCheck(caught).split("\n").slice(0, 8).join("\n")}`);
  }
});

t.test(`${FRESH} fresh seeds from ${BASE}`, async (t) => {
  const started = process.hrtime.bigint();
  let failed = 0;
  const coverage: Coverage = {};
  let ops = 0;
  let stale = 0;
  for (let i = 0; i < FRESH; i++) {
    const r = runLogSimCheck(BASE + i);
    const f = failure(r);
    if (f !== null) {
      failed++;
      t.fail(f);
    }
    ops += r.history.length;
    stale += staleReads(r.history);
    for (const e of r.history) coverage[outcomeOf(e)] = (coverage[outcomeOf(e)] ?? 0) + 1;
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  t.comment(`${FRESH} seeds, ${ops} operations (${stale} stale reads) in ${seconds.toFixed(1)} s; ${JSON.stringify(coverage)}`);
  t.equal(failed, 0, `all ${FRESH} fresh seeds held (base ${BASE})`);
  const must = ["append:ok", "append:conflict", "append:leaseMismatch", "append:unknown", "tryTakeLease:granted", "tryTakeLease:lease-live", "tryTakeLease:behind", "tryTakeLease:unknown", "renewLease:ok", "read:records", "read:empty"];
  if (FRESH >= 100) for (const k of must) t.ok((coverage[k] ?? 0) > 0, `the histories include ${k}`);
});
