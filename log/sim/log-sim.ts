// One deterministic simulation of the log service's API: the simulator's
// faults (drops, duplicates, partitions, crashes with lost and torn writes,
// pauses, clock drift, leader changes) around nodes that apply committed
// entries to the real LogStateMachine, with log clients (./log-workload.ts)
// recording what they saw. The caller checks the history for
// linearizability (check/log-model.ts; bin/check.ts `--log-sim`).
import { LogApp, type PlantedBug } from "./log-app";
import { type LogEvent, LogWorkload, type LogWorkloadSettings, describeLogSettings } from "./log-workload";
import { runSimWith, type SimOptions, type SimResult } from "./sim";

export interface LogSimResult {
  readonly sim: SimResult;
  readonly settings: string;
  readonly history: readonly LogEvent[];
}

export function logSimReplayCommand(seed: number): string {
  return `mnemo check --log-sim --seed ${seed}`;
}

export interface LogSimOptions extends SimOptions {
  readonly workload?: Partial<LogWorkloadSettings>;
  /** Plants a bug in every node's state machine (tests of the checker's power). */
  readonly bug?: PlantedBug;
}

export function runLogSim(seed: number, opts: LogSimOptions = {}): LogSimResult {
  const workload = new LogWorkload(opts.workload);
  const bug = opts.bug ?? null;
  const sim = runSimWith(seed, opts, workload, (data) => LogApp.decodeWithBug(data, bug), logSimReplayCommand);
  return { sim, settings: describeLogSettings(workload.settings), history: workload.history() };
}
