// What the cluster commands need to know about the shard's nodes. The durable
// server implements ClusterTopology from its lease and replica links; the
// commands only read it, so a test can hand them a fixed one.
import { createHash } from "node:crypto";

export interface ClusterNode {
  /** 40 lower-case hex characters, stable for the node's lifetime (see nodeIdFor). */
  readonly id: string;
  /** Where clients reach the node: what CLUSTER SLOTS and -MOVED name. */
  readonly host: string;
  readonly port: number;
  readonly role: "primary" | "replica";
  /** A replica's primary; null for the primary (or a replica that knows no primary). */
  readonly primaryId: string | null;
  /** This node hears from that node (always treated as true for the node itself). */
  readonly linkUp: boolean;
  /**
   * How far the node's copy of the data has got (e.g. the applied log index).
   * A replica at 0 has not synced yet: like Redis, CLUSTER SLOTS leaves it out
   * and CLUSTER SHARDS reports it as "loading".
   */
  readonly replOffset: number;
  /** Unix ms this node last heard from that node (CLUSTER NODES pong field); default: now if linkUp, else 0. */
  readonly lastPongMs?: number;
}

export interface ClusterTopology {
  /** The id of the node answering (one of nodes()). */
  myId(): string;
  /** Every node of the shard: the primary first, then its replicas. */
  nodes(): readonly ClusterNode[];
  /** The cluster's current epoch (e.g. the lease epoch); also the primary's config epoch. */
  currentEpoch(): number;
  /** A name for the shard (logs and docs; Redis 7.0 has no shard ids on the wire). */
  shardName(): string;
}

/** A deterministic 40-hex node id (Redis's node-name shape) for a stable seed such as "shard-0/node-2". */
export function nodeIdFor(seed: string): string {
  return createHash("sha1").update(seed, "latin1").digest("hex");
}

/** The shard's primary: the first node with role "primary", or null while none is known. */
export function primaryOf(topology: ClusterTopology): ClusterNode | null {
  for (const n of topology.nodes()) if (n.role === "primary") return n;
  return null;
}

/** The node answering, or null if the topology does not list it. */
export function myselfOf(topology: ClusterTopology): ClusterNode | null {
  const id = topology.myId();
  for (const n of topology.nodes()) if (n.id === id) return n;
  return null;
}

/** A topology that never changes unless told to (tests, and a fixed single-node setup). */
export class StaticTopology implements ClusterTopology {
  constructor(
    private me: string,
    private list: readonly ClusterNode[],
    private epoch = 1,
    private readonly shard = "shard-0",
  ) {}

  myId(): string {
    return this.me;
  }

  nodes(): readonly ClusterNode[] {
    return this.list;
  }

  currentEpoch(): number {
    return this.epoch;
  }

  shardName(): string {
    return this.shard;
  }

  /** Replaces the node list and epoch (a failover, as the durable server would see it). */
  update(list: readonly ClusterNode[], epoch: number, me: string = this.me): void {
    this.list = list;
    this.epoch = epoch;
    this.me = me;
  }
}
