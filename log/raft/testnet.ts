// A deterministic in-memory group of RawNodes for tests: instant, reliable
// storage; a message queue the test controls (deliver all, one round, or by
// hand); cuts between nodes. Used by the unit and scripted tests; the seeded
// fault simulation lives in log/sim.
import { assert, AssertionError } from "./assert";
import { DEFAULT_LIMITS, type Config } from "./config";
import type { ProposeResult, Raft } from "./raft";
import { RawNode, type Ready } from "./rawnode";
import { MemoryStorage } from "./storage";
import type { Entry, Message, NodeId } from "./types";

export interface NetNode {
  readonly id: NodeId;
  rn: RawNode;
  readonly storage: MemoryStorage;
  /** Every committed entry handed to the application, in order (restarts continue the list). */
  readonly applied: Entry[];
  /** Every Ready this node produced, for tests of the Ready contract. */
  readonly readies: Ready[];
}

/** A tiny LCG, so election timeouts differ per node but every run is the same. */
export function lcg(seed: number): (n: number) => number {
  // murmur3's finaliser, so that nearby seeds start far apart
  let s = seed >>> 0;
  s = Math.imul(s ^ (s >>> 16), 0x85ebca6b);
  s = Math.imul(s ^ (s >>> 13), 0xc2b2ae35);
  s = (s ^ (s >>> 16)) >>> 0;
  return (n) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return Math.floor((s / 0x100000000) * n);
  };
}

export function testConfig(id: NodeId, peers: readonly NodeId[], over: Partial<Config> = {}): Config {
  const seed = [...id].reduce((a, c) => a * 31 + c.charCodeAt(0), 7);
  return {
    ...DEFAULT_LIMITS,
    preVote: false,
    checkQuorum: false,
    id,
    peers,
    randomInt: lcg(seed),
    ...over,
  };
}

export class TestNet {
  readonly ids: readonly NodeId[];
  readonly nodes = new Map<NodeId, NetNode>();
  queue: Message[] = [];
  private readonly cuts = new Set<string>();
  /** Messages for which this returns true are dropped when delivered. */
  dropIf: ((m: Message) => boolean) | null = null;
  delivered = 0;

  constructor(
    ids: readonly NodeId[],
    private readonly over: Partial<Config> = {},
  ) {
    this.ids = ids;
    for (const id of ids) {
      const storage = new MemoryStorage();
      this.nodes.set(id, { id, rn: new RawNode(testConfig(id, ids, over), storage), storage, applied: [], readies: [] });
    }
  }

  node(id: NodeId): NetNode {
    const n = this.nodes.get(id);
    if (n === undefined) throw new AssertionError(`no node ${id}`);
    return n;
  }

  raft(id: NodeId): Raft {
    return this.node(id).rn.raft;
  }

  /** Handles every node's pending Readys: persist, queue the messages, apply. */
  flush(): void {
    for (let progress = true; progress; ) {
      progress = false;
      for (const n of this.nodes.values()) {
        if (!n.rn.hasReady()) continue;
        progress = true;
        const rd = n.rn.ready();
        n.readies.push(rd);
        if (rd.snapshot !== null) n.storage.applySnapshot(rd.snapshot);
        n.storage.append(rd.entries);
        if (rd.hardState !== null) n.storage.setHardState(rd.hardState);
        for (const m of rd.messages) this.queue.push(m);
        for (const e of rd.committedEntries) n.applied.push(e);
        n.rn.advance();
      }
    }
  }

  /** Steps one message into its recipient (unless cut or dropped), then flushes. */
  deliver(m: Message): void {
    this.delivered++;
    if (this.cuts.has(`${m.from}>${m.to}`) || (this.dropIf !== null && this.dropIf(m))) return;
    this.node(m.to).rn.step(m);
    this.flush();
  }

  /** Delivers the messages queued now (not the replies they cause). */
  deliverRound(): void {
    this.flush();
    const batch = this.queue;
    this.queue = [];
    for (const m of batch) this.deliver(m);
  }

  /** Delivers until nothing is left in flight. */
  stabilize(roundsMax = 10_000): void {
    this.flush();
    for (let i = 0; this.queue.length > 0; i++) {
      assert(i < roundsMax, "the group did not stabilize");
      this.deliverRound();
    }
  }

  /** Removes and returns the queued messages matching `pred`. */
  take(pred: (m: Message) => boolean = () => true): Message[] {
    this.flush();
    const out = this.queue.filter(pred);
    this.queue = this.queue.filter((m) => !pred(m));
    return out;
  }

  /**
   * Delivers until nothing is in flight, then ticks the leader until its next
   * heartbeat, which tells the followers the commit index (the leader sends no
   * message of its own for a new commit), and delivers again.
   */
  settle(leader: NodeId): void {
    this.stabilize();
    this.tick(leader, this.over.heartbeatTicks ?? DEFAULT_LIMITS.heartbeatTicks);
    this.stabilize();
  }

  tick(id: NodeId, n = 1): void {
    for (let i = 0; i < n; i++) {
      this.node(id).rn.tick();
      this.flush();
    }
  }

  campaign(id: NodeId): void {
    this.node(id).rn.campaign();
    this.flush();
  }

  propose(id: NodeId, data: string): ProposeResult {
    const r = this.node(id).rn.propose(Buffer.from(data));
    this.flush();
    return r;
  }

  /** Cuts every link to and from `id`. */
  isolate(id: NodeId): void {
    for (const o of this.ids) {
      if (o === id) continue;
      this.cut(id, o);
      this.cut(o, id);
    }
  }

  cut(from: NodeId, to: NodeId): void {
    this.cuts.add(`${from}>${to}`);
  }

  heal(): void {
    this.cuts.clear();
  }

  /** Restarts a node from its storage, as after a clean crash: volatile state is lost. */
  restart(id: NodeId, over: Partial<Config> = {}): void {
    const n = this.node(id);
    this.queue = this.queue.filter((m) => m.to !== id && m.from !== id);
    const applied = n.applied[n.applied.length - 1]?.index ?? n.storage.snapshot().index;
    n.rn = new RawNode(testConfig(id, this.ids, { ...this.over, ...over, applied }), n.storage);
  }

  /** Replaces a node with one whose disk holds entries of the given terms (index 1 on) and the given term. */
  load(id: NodeId, terms: readonly number[], term: number = terms[terms.length - 1] ?? 0): void {
    const storage = new MemoryStorage();
    storage.append(terms.map((t, i) => ({ index: i + 1, term: t, kind: "normal", data: Buffer.from(`${i + 1}/${t}`) })));
    storage.setHardState({ term, vote: null, commit: 0 });
    const rn = new RawNode(testConfig(id, this.ids, this.over), storage);
    this.nodes.set(id, { id, rn, storage, applied: [], readies: [] });
  }

  leaders(): NodeId[] {
    return this.ids.filter((id) => this.raft(id).role.kind === "leader");
  }

  /** The node's whole log, from its first retained entry. */
  logOf(id: NodeId): Entry[] {
    const log = this.raft(id).log;
    return log.slice(log.firstIndex(), log.lastIndex() + 1, Number.MAX_SAFE_INTEGER) ?? [];
  }

  /** "index:term" for each entry, compact for assertions. */
  termsOf(id: NodeId): string {
    return this.logOf(id)
      .map((e) => `${e.index}:${e.term}`)
      .join(" ");
  }

  appliedData(id: NodeId): string[] {
    return this.node(id)
      .applied.filter((e) => e.kind === "normal")
      .map((e) => Buffer.from(e.data).toString());
  }
}
