// One seed of the log-API simulation, checked: the simulator's own checkers
// (Raft safety on every step, liveness after healing, no acknowledged entry
// lost) and linearizability of what the log clients saw.
import { runLogSim, type LogSimOptions } from "../log/sim/log-sim";
import type { LogEvent } from "../log/sim/log-workload";
import type { SimResult } from "../log/sim/sim";
import { logOperations } from "./log-history";
import { logModel } from "./log-model";
import { checkHistory, summarize } from "./wgl";

export interface LogSimCheck {
  readonly seed: number;
  readonly ok: boolean;
  readonly replay: string;
  readonly sim: SimResult;
  readonly settings: string;
  readonly history: readonly LogEvent[];
  /** null when the history is linearizable. */
  readonly linearizability: string | null;
}

/** Search steps per shard; a history that needs more counts as a failure. */
const CHECK_STEPS_MAX = 2_000_000;

export function runLogSimCheck(seed: number, opts: LogSimOptions = {}): LogSimCheck {
  const r = runLogSim(seed, opts);
  const c = checkHistory(logModel({ staleReads: true }), logOperations(r.history), { stepsMax: CHECK_STEPS_MAX });
  const linearizability = c.kind === "ok" ? null : summarize(c);
  return { seed, ok: r.sim.ok && linearizability === null, replay: r.sim.replay, sim: r.sim, settings: r.settings, history: r.history, linearizability };
}

export function formatLogSimCheck(r: LogSimCheck): string {
  const known = r.history.filter((e) => e.reply !== null).length;
  const s = r.sim.stats;
  const lines = [
    `seed ${r.seed}: ${r.ok ? "ok" : "FAILED"}  digest ${r.sim.digest}`,
    `  plan: ${r.sim.plan}`,
    `  ${r.settings}`,
    `  ${s.virtualMs} virtual ms, ${s.events} events; max term ${s.maxTerm}, ${s.leadersElected} leaderships; ${s.crashes} crashes, ${s.partitions} partitions, ${s.pauses} pauses`,
    `  history: ${r.history.length} operations, ${known} answered, ${r.history.length - known} unknown`,
  ];
  if (r.sim.failure !== null) lines.push(`  simulation: ${r.sim.failure}`);
  if (r.linearizability !== null) lines.push(r.linearizability.split("\n").map((l) => `  ${l}`).join("\n"));
  if (!r.ok) lines.unshift(`replay: ${r.replay}`);
  return lines.join("\n");
}
