// What a Raft node is told when it starts: who it is, its peers, its timing in
// ticks, the injected randomness, and a limit on everything that can grow.
import { assert, AssertionError } from "./assert";
import type { NodeId } from "./types";

export interface Config {
  readonly id: NodeId;
  /** Every voter of the group, this node included. Membership is fixed. */
  readonly peers: readonly NodeId[];
  /** A follower that hears nothing for a random number of ticks in [electionTicks, 2*electionTicks) campaigns. */
  readonly electionTicks: number;
  /** The leader sends heartbeats every heartbeatTicks. */
  readonly heartbeatTicks: number;
  /** Campaign in two phases, so a node that rejoins cannot raise the term of a healthy group. */
  readonly preVote: boolean;
  /** The leader steps down when it has not heard from a quorum for electionTicks. */
  readonly checkQuorum: boolean;
  /** Injected randomness: an integer in [0, n). The core never calls Math.random. */
  readonly randomInt: (n: number) => number;
  /** Payload bytes per append message (at least one entry is always sent). */
  readonly msgBytesMax: number;
  /** Flow control per follower: unacknowledged append messages and their bytes. */
  readonly inflightMsgsMax: number;
  readonly inflightBytesMax: number;
  /** Proposals are dropped once this many payload bytes wait uncommitted on the leader. */
  readonly uncommittedBytesMax: number;
  /** Committed entries handed out per Ready, in bytes (at least one entry). */
  readonly applyBytesMax: number;
  /** The index the application's state already reflects; defaults to the stored snapshot's index. */
  readonly applied?: number;
}

export const DEFAULT_LIMITS = {
  electionTicks: 10,
  heartbeatTicks: 1,
  preVote: true,
  checkQuorum: true,
  msgBytesMax: 1 << 20,
  inflightMsgsMax: 256,
  inflightBytesMax: 32 << 20,
  uncommittedBytesMax: 64 << 20,
  applyBytesMax: 16 << 20,
} as const;

export function validateConfig(c: Config): void {
  if (!c.peers.includes(c.id)) throw new AssertionError(`node ${c.id} is not among its peers`);
  assert(new Set(c.peers).size === c.peers.length, "peers must be distinct");
  assert(c.heartbeatTicks >= 1, "heartbeatTicks must be at least 1");
  assert(c.electionTicks > c.heartbeatTicks, "electionTicks must exceed heartbeatTicks");
  for (const k of ["msgBytesMax", "inflightMsgsMax", "inflightBytesMax", "uncommittedBytesMax", "applyBytesMax"] as const) {
    if (!(Number.isSafeInteger(c[k]) && c[k] >= 1)) throw new AssertionError(`${k} must be a positive integer`);
  }
}
