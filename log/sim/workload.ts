// What a simulation's clients do is a Workload: the simulator owns the nodes,
// the network, the disks, the faults and the checkers, and tells the workload
// when a node applies an entry, crashes, or when the fault phase ends. The
// workload schedules its own client events on the shared virtual clock.
import type { Entry } from "../raft/types";
import type { Checker } from "./checker";
import type { ReplicatedApp, SimNode } from "./node";
import type { FaultPlan } from "./plan";
import type { Prng } from "./prng";

/** Client-side counters every workload keeps, reported with the run. */
export interface WorkloadStats {
  proposals: number;
  acked: number;
  failedProposals: number;
  unknownOutcomes: number;
}

export interface WorkloadHost<A extends ReplicatedApp> {
  readonly plan: FaultPlan;
  readonly nodes: readonly SimNode<A>[];
  readonly checker: Checker;
  readonly stats: WorkloadStats;
  nowUs(): number;
  /** Runs `fn` at virtual time `atUs` (not before now). */
  at(atUs: number, fn: () => void): void;
  /** A line in the run's trace and digest. */
  note(line: string): void;
}

export interface Workload<A extends ReplicatedApp> {
  /**
   * Schedules the first client events. `startRng` draws their start offsets
   * (the fault stream, so that runs of old seeds stay the same); `rng` is the
   * workload's own stream.
   */
  start(host: WorkloadHost<A>, startRng: Prng, rng: Prng): void;
  /** `node` applied `e` (its application already holds the result). */
  applied(node: SimNode<A>, e: Entry): void;
  /** `node` is about to crash: whoever waits on it will never hear back. */
  crashed(node: SimNode<A>): void;
  /** The fault phase ended: the network is calm and every node up; start the liveness probe. */
  healed(): void;
  /** Once the probe committed: the index every node must apply before the run ends. */
  probeIndex(): number | null;
}
