// The simulated network between nodes: every message is encoded to bytes on
// send and decoded on delivery (so no two nodes ever share an object), and on
// the way it may be dropped, delayed, duplicated or reordered (by jitter), or
// cut by a partition, which can be one-way. Settings change when the fault
// phase ends.
import { assert, AssertionError } from "../raft/assert";
import type { NodeId } from "../raft/types";
import type { Prng } from "./prng";

export interface NetworkFaults {
  readonly dropP: number;
  readonly duplicateP: number;
  /** Every message takes delayUs plus up to jitterUs more; jitter reorders. */
  readonly delayUs: number;
  readonly jitterUs: number;
}

export const CALM_NETWORK: NetworkFaults = { dropP: 0, duplicateP: 0, delayUs: 200, jitterUs: 300 };

export interface Delivery {
  readonly atUs: number;
  readonly from: NodeId;
  readonly to: NodeId;
  readonly bytes: Buffer;
}

export interface NetworkStats {
  sent: number;
  delivered: number;
  dropped: number;
  cut: number;
  duplicated: number;
  bytes: number;
}

export class SimNetwork {
  faults: NetworkFaults;
  private readonly blocked = new Set<string>();
  private readonly inflight = new Map<string, number>();
  readonly stats: NetworkStats = { sent: 0, delivered: 0, dropped: 0, cut: 0, duplicated: 0, bytes: 0 };

  constructor(
    private readonly rng: Prng,
    faults: NetworkFaults,
    /** Messages on one link at once; beyond it the link drops (a full socket buffer). */
    private readonly linkInflightMax: number,
  ) {
    this.faults = faults;
  }

  /** The deliveries this send turns into (zero, one or two). */
  send(nowUs: number, from: NodeId, to: NodeId, bytes: Buffer): Delivery[] {
    this.stats.sent++;
    this.stats.bytes += bytes.length;
    if (!this.linkUp(from, to)) {
      this.stats.cut++;
      return [];
    }
    const f = this.faults;
    if (this.rng.chance(f.dropP)) {
      this.stats.dropped++;
      return [];
    }
    const copies = this.rng.chance(f.duplicateP) ? 2 : 1;
    if (copies === 2) this.stats.duplicated++;
    const out: Delivery[] = [];
    const link = `${from}>${to}`;
    for (let i = 0; i < copies; i++) {
      const n = this.inflight.get(link) ?? 0;
      if (n >= this.linkInflightMax) {
        this.stats.dropped++;
        continue;
      }
      this.inflight.set(link, n + 1);
      out.push({ atUs: nowUs + f.delayUs + this.rng.int(f.jitterUs + 1), from, to, bytes });
    }
    return out;
  }

  /** A delivery's time has come: false if a partition cut it on the way. */
  arrive(d: Delivery): boolean {
    const link = `${d.from}>${d.to}`;
    const n = this.inflight.get(link) ?? 0;
    if (!(n > 0)) throw new AssertionError(`arrival on ${link} with nothing in flight`);
    this.inflight.set(link, n - 1);
    if (!this.linkUp(d.from, d.to)) {
      this.stats.cut++;
      return false;
    }
    this.stats.delivered++;
    return true;
  }

  linkUp(from: NodeId, to: NodeId): boolean {
    return !this.blocked.has(`${from}>${to}`);
  }

  /** Cuts from -> to (one way). */
  block(from: NodeId, to: NodeId): void {
    this.blocked.add(`${from}>${to}`);
  }

  healAll(): void {
    this.blocked.clear();
  }

  describeCuts(): string {
    return [...this.blocked].sort().join(",");
  }
}
