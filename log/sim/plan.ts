// The faults and settings of one simulation run, drawn from its seed, so each
// seed explores a different corner: calm or lossy networks, long or short
// partitions, frequent crashes, tiny flow-control windows, aggressive
// compaction, skewed clocks.
import type { NetworkFaults } from "./network";
import type { Prng } from "./prng";

export interface RaftSettings {
  readonly electionTicks: number;
  readonly heartbeatTicks: number;
  readonly preVote: boolean;
  readonly checkQuorum: boolean;
  readonly inflightMsgsMax: number;
  readonly inflightBytesMax: number;
  readonly msgBytesMax: number;
  readonly uncommittedBytesMax: number;
  readonly applyBytesMax: number;
}

/** A recurring fault: roughly every `everyMs` (uniform in [everyMs/2, 3*everyMs/2]), lasting up to `lastsMsMax`. */
export interface Recurring {
  readonly everyMs: number;
  readonly lastsMsMax: number;
}

/**
 * Fault points in the style of FoundationDB's BUGGIFY: at moments that matter
 * for safety, crash the node with this probability (then restart it soon).
 */
export interface Buggify {
  /** ... right after it becomes leader (before its no-op can spread). */
  readonly afterLeaderP: number;
  /** ... right after it sends a vote (the vote may be unsynced in a faulty shell). */
  readonly afterVoteP: number;
  /** ... right after its commit index advances as leader. */
  readonly afterCommitP: number;
  readonly downMsMax: number;
}

export interface FaultPlan {
  readonly nodes: number;
  readonly faultPhaseMs: number;
  readonly network: NetworkFaults;
  readonly partitions: Recurring | null;
  readonly crashes: Recurring | null;
  readonly pauses: Recurring | null;
  readonly buggify: Buggify | null;
  /** Each node's tick interval is off by up to this fraction (clock drift as tick-rate differences). */
  readonly driftMax: number;
  readonly tickUs: number;
  readonly fsyncUsMin: number;
  readonly fsyncUsMax: number;
  /** A node snapshots and compacts after this many applied entries; null: never. */
  readonly compactEvery: number | null;
  /** Entries kept below the snapshot index when compacting. */
  readonly compactKeep: number;
  readonly clients: number;
  readonly proposeEveryMs: number;
  readonly payloadBytesMax: number;
  readonly raft: RaftSettings;
}

function recurring(rng: Prng, p: number, everyMs: readonly number[], lastsMs: readonly number[]): Recurring | null {
  return rng.chance(p) ? { everyMs: rng.pick(everyMs), lastsMsMax: rng.pick(lastsMs) } : null;
}

function raftSettings(rng: Prng): RaftSettings {
  const electionTicks = rng.range(5, 20);
  return {
    electionTicks,
    heartbeatTicks: rng.range(1, Math.max(1, Math.floor(electionTicks / 3))),
    preVote: rng.chance(0.85),
    checkQuorum: rng.chance(0.85),
    inflightMsgsMax: rng.pick([1, 2, 4, 64, 256]),
    inflightBytesMax: rng.pick([100, 1000, 16_000, 1 << 20]),
    msgBytesMax: rng.pick([1, 300, 4096, 1 << 20]),
    uncommittedBytesMax: rng.pick([500, 4000, 1 << 20]),
    applyBytesMax: rng.pick([1, 1000, 1 << 20]),
  };
}

export function drawPlan(rng: Prng, nodes: number): FaultPlan {
  const plan = generalPlan(rng, nodes);
  return rng.chance(0.25) ? electionStorm(rng, plan) : plan;
}

/**
 * Leaders crash right after winning, committing or voting, one entry per
 * append: the ground where figure 8 and lost-vote bugs live, which random
 * faults alone reach too rarely.
 */
function electionStorm(rng: Prng, p: FaultPlan): FaultPlan {
  return {
    ...p,
    network: { ...p.network, dropP: rng.pick([0.02, 0.1, 0.2]), jitterUs: rng.pick([2000, 10_000]) },
    buggify: { afterLeaderP: rng.pick([0.3, 0.6]), afterVoteP: rng.pick([0.1, 0.3]), afterCommitP: rng.pick([0.1, 0.3]), downMsMax: rng.pick([5, 20, 60]) },
    raft: { ...p.raft, electionTicks: rng.range(4, 8), heartbeatTicks: 1, msgBytesMax: 1 },
  };
}

function generalPlan(rng: Prng, nodes: number): FaultPlan {
  const compact = rng.chance(0.6);
  return {
    nodes,
    faultPhaseMs: rng.range(500, 4000),
    network: {
      dropP: rng.pick([0, 0, 0.01, 0.05, 0.1, 0.2, 0.35]),
      duplicateP: rng.pick([0, 0, 0.01, 0.05, 0.2]),
      delayUs: rng.pick([50, 200, 1000, 5000]),
      jitterUs: rng.pick([0, 200, 2000, 10_000, 40_000]),
    },
    partitions: recurring(rng, 0.6, [200, 500, 1000, 2000], [50, 300, 1000, 3000]),
    crashes: recurring(rng, 0.6, [300, 800, 1500, 3000], [10, 100, 500, 2000]),
    pauses: recurring(rng, 0.3, [300, 1000, 2000], [20, 200, 1000]),
    buggify: rng.chance(0.7)
      ? {
          afterLeaderP: rng.pick([0, 0.1, 0.3, 0.5]),
          afterVoteP: rng.pick([0, 0.05, 0.2, 0.5]),
          afterCommitP: rng.pick([0, 0.01, 0.1, 0.3]),
          downMsMax: rng.pick([5, 20, 300]),
        }
      : null,
    driftMax: rng.pick([0, 0.02, 0.1, 0.3, 0.5]),
    tickUs: 10_000,
    fsyncUsMin: 20,
    fsyncUsMax: rng.pick([100, 500, 2000]),
    compactEvery: compact ? rng.pick([3, 10, 50, 200]) : null,
    compactKeep: rng.pick([0, 0, 2, 20]),
    clients: rng.range(1, 4),
    proposeEveryMs: rng.pick([1, 5, 20]),
    payloadBytesMax: rng.pick([0, 16, 300]),
    raft: raftSettings(rng),
  };
}

export function describePlan(p: FaultPlan): string {
  const rec = (r: Recurring | null): string => (r === null ? "off" : `~${r.everyMs}ms/<=${r.lastsMsMax}ms`);
  const n = p.network;
  const r = p.raft;
  return [
    `faults ${p.faultPhaseMs}ms`,
    `net drop=${n.dropP} dup=${n.duplicateP} delay=${n.delayUs}us+${n.jitterUs}us`,
    `partitions ${rec(p.partitions)}`,
    `crashes ${rec(p.crashes)}`,
    `pauses ${rec(p.pauses)}`,
    p.buggify === null
      ? "buggify off"
      : `buggify leader=${p.buggify.afterLeaderP} vote=${p.buggify.afterVoteP} commit=${p.buggify.afterCommitP} down<=${p.buggify.downMsMax}ms`,
    `drift<=${p.driftMax}`,
    `fsync<=${p.fsyncUsMax}us`,
    `compact ${p.compactEvery ?? "never"}/keep ${p.compactKeep}`,
    `clients ${p.clients}x${p.proposeEveryMs}ms`,
    `raft election=${r.electionTicks} hb=${r.heartbeatTicks} prevote=${r.preVote} checkquorum=${r.checkQuorum}`,
    `window ${r.inflightMsgsMax}msgs/${r.inflightBytesMax}B msg<=${r.msgBytesMax}B`,
  ].join("; ");
}
