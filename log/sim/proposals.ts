// The Raft simulation's workload: clients propose opaque entries to whichever
// node they think leads, follow not-leader hints, give up after a timeout, and
// count an entry as acknowledged when the node they proposed to applies it at
// the index and term it was given. After healing, a probe client proposes once;
// its commit is the liveness criterion.
import { assert, AssertionError, assertNever } from "../raft/assert";
import type { Entry, NodeId } from "../raft/types";
import type { SimApp } from "./app";
import type { SimNode } from "./node";
import type { Prng } from "./prng";
import type { Workload, WorkloadHost } from "./workload";

interface Waiting {
  readonly value: string;
  readonly node: SimNode<SimApp>;
  readonly index: number;
  readonly term: number;
  readonly sinceUs: number;
}

interface Client {
  readonly id: number;
  seq: number;
  hint: number | null;
  waiting: Waiting | null;
  /** The probe client proposes once after healing; its commit is the liveness criterion. */
  readonly probe: boolean;
}

export const CLIENT_TIMEOUT_US = 2_000_000;

export class ProposalWorkload implements Workload<SimApp> {
  private host: WorkloadHost<SimApp> | null = null;
  private rng: Prng | null = null;
  private readonly clients: Client[] = [];
  private readonly waiting = new Map<string, Client>();
  private probeTarget: number | null = null;

  start(host: WorkloadHost<SimApp>, startRng: Prng, rng: Prng): void {
    this.host = host;
    this.rng = rng;
    for (let i = 0; i < host.plan.clients; i++) this.clients.push({ id: i, seq: 0, hint: null, waiting: null, probe: false });
    for (const c of this.clients) host.at(startRng.int(1000), () => this.onClient(c));
  }

  probeIndex(): number | null {
    return this.probeTarget;
  }

  applied(node: SimNode<SimApp>, e: Entry): void {
    const h = this.h();
    const key = `${node.index}:${e.index}`;
    const c = this.waiting.get(key);
    if (c === undefined) return;
    this.waiting.delete(key);
    const w = c.waiting;
    assert(w !== null && w.node === node && w.index === e.index, "client bookkeeping is off");
    c.waiting = null;
    if (e.term === w.term && e.kind === "normal" && Buffer.from(e.data).toString("latin1").startsWith(w.value)) {
      h.checker.onAck(w.value, e);
      h.stats.acked++;
      if (c.probe) this.probeTarget = Math.max(e.index, h.checker.ackedIndexMax);
    } else {
      // Another entry took its index: ours can never commit (it was appended once, there).
      h.stats.failedProposals++;
    }
  }

  crashed(node: SimNode<SimApp>): void {
    for (const c of this.clients) if (c.waiting?.node === node) this.giveUp(c);
  }

  healed(): void {
    const h = this.h();
    const probe: Client = { id: this.clients.length, seq: 0, hint: null, waiting: null, probe: true };
    this.clients.push(probe);
    h.at(h.nowUs(), () => this.onClient(probe));
  }

  private h(): WorkloadHost<SimApp> {
    assert(this.host !== null, "workload not started");
    return this.host;
  }

  private onClient(c: Client): void {
    const h = this.h();
    const rng = this.rng as Prng;
    const now = h.nowUs();
    const next = (): void => h.at(now + 1000 * (1 + rng.int(h.plan.proposeEveryMs)), () => this.onClient(c));
    // Once the probe committed, clients stop proposing so that every node can catch up.
    if (this.probeTarget !== null) return;
    if (c.waiting !== null) {
      if (now - c.waiting.sinceUs > CLIENT_TIMEOUT_US) this.giveUp(c);
      next();
      return;
    }
    const target = c.hint ?? rng.int(h.nodes.length);
    const node = h.nodes[target] as SimNode<SimApp>;
    if (node.run === null || node.pausedUntilUs > now) {
      c.hint = null;
      next();
      return;
    }
    const value = `${c.probe ? "probe" : `c${c.id}`}-${c.seq++};`;
    const pad = rng.int(h.plan.payloadBytesMax + 1);
    const data = Buffer.from(value + "x".repeat(pad), "latin1");
    const r = node.run.rn.propose(data);
    switch (r.kind) {
      case "ok":
        h.stats.proposals++;
        c.waiting = { value, node, index: r.index, term: r.term, sinceUs: now };
        this.waiting.set(`${node.index}:${r.index}`, c);
        break;
      case "not-leader":
        c.hint = r.leader === null ? null : this.nodeIndex(r.leader);
        break;
      case "dropped":
        break;
      default:
        assertNever(r, "propose result");
    }
    node.pump();
    next();
  }

  private giveUp(c: Client): void {
    const w = c.waiting;
    if (w === null) return;
    this.waiting.delete(`${w.node.index}:${w.index}`);
    c.waiting = null;
    c.hint = null;
    this.h().stats.unknownOutcomes++;
  }

  private nodeIndex(id: NodeId): number {
    const i = this.h().nodes.findIndex((n) => n.id === id);
    if (!(i >= 0)) throw new AssertionError(`no node ${id}`);
    return i;
  }
}
