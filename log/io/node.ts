// One log-service node: the I/O shell around the pure parts. It opens its WAL
// in a data directory, builds a RawNode on the WAL's storage, talks to its
// peers over the authenticated TCP transport, ticks on a timer, and runs the
// Ready loop in the order the RawNode contract requires:
//
//   persist (wal.persist; one wal.sync() when the Ready must be durable)
//   -> send the messages -> apply the committed entries -> advance()
//
// Group commit: ticks, peer messages and proposals only mark the node dirty;
// the loop runs once per event-loop turn (setImmediate), so everything that
// arrived in that turn lands in one Ready, one WAL frame and one fdatasync.
//
// Proposals: the local leader stamps a client's command bytes with its
// monotonic clock (stampCommand) and proposes them; the promise resolves with
// the encoded reply when the entry is applied here at the same (index, term),
// and rejects with NotLeaderError on a follower or when leadership is lost
// before the entry is applied (its outcome is then unknown: the client retries
// with its expectedSeq, which tells it whether its records are in).
//
// The applied state lives in memory and is rebuilt on start by re-applying
// the WAL (or from the WAL's snapshot, if one was ever stored).
import { randomInt } from "node:crypto";
import { performance } from "node:perf_hooks";
import { encodeReply, stampCommand } from "../codec";
import { RawNode, type Ready } from "../raft/rawnode";
import { DEFAULT_LIMITS } from "../raft/config";
import type { RoleKind } from "../raft/raft";
import type { NodeId } from "../raft/types";
import { LogStateMachine } from "../state/machine";
import { MemoryRecordStore } from "../state/record-store";
import { Transport, type PeerAddress, type TransportEvent } from "./transport";
import { Wal, type WalOptions } from "./wal";

export interface LogNodeOptions {
  readonly id: NodeId;
  /** Every other member of the group; null when its address is not known yet (see setPeerAddress). */
  readonly peers: Readonly<Record<NodeId, PeerAddress | null>>;
  readonly dataDir: string;
  readonly secret: string | Uint8Array;
  /** 0 for an ephemeral port (read `port` after start). */
  readonly port: number;
  readonly host?: string;
  /** Milliseconds per Raft tick (default 10). */
  readonly tickMs?: number;
  /** Election timeout in ticks: a random value in [electionTicks, 2*electionTicks) (default 10). */
  readonly electionTicks?: number;
  readonly heartbeatTicks?: number;
  /** The leader's monotonic clock in whole ms (default: performance.now()). */
  readonly clockMs?: () => number;
  readonly wal?: WalOptions;
  readonly onTransportEvent?: (e: TransportEvent) => void;
  /** The node stopped on its own (a WAL failure, an entry it cannot apply). */
  readonly onHalt?: (err: Error) => void;
}

export class NotLeaderError extends Error {
  override name = "NotLeaderError";
  constructor(
    readonly leader: NodeId | null,
    detail?: string,
  ) {
    super(`not leader (leader hint ${leader ?? "none"})${detail === undefined ? "" : `: ${detail}`}`);
  }
}

export interface LogNodeStatus {
  readonly id: NodeId;
  readonly role: RoleKind;
  readonly term: number;
  readonly commit: number;
  readonly applied: number;
  readonly leader: NodeId | null;
  readonly lastIndex: number;
  /** Proposals waiting to be applied. */
  readonly pending: number;
  /** Why the node stopped, if it did. */
  readonly halted: string | null;
}

interface PendingProposal {
  readonly term: number;
  readonly resolve: (reply: Buffer) => void;
  readonly reject: (err: Error) => void;
}

export class LogNode {
  readonly id: NodeId;
  readonly wal: Wal;
  private readonly rn: RawNode;
  private readonly transport: Transport;
  private sm: LogStateMachine;
  private readonly store = new MemoryRecordStore();
  private readonly clockMs: () => number;
  private readonly onHalt: (err: Error) => void;
  private readonly pending = new Map<number, PendingProposal>();
  private timer: NodeJS.Timeout | null = null;
  private pumpScheduled = false;
  private closed = false;
  private haltError: Error | null = null;
  private readonly tickMs: number;

  private constructor(opts: LogNodeOptions) {
    this.id = opts.id;
    this.tickMs = opts.tickMs ?? 10;
    this.clockMs = opts.clockMs ?? (() => Math.floor(performance.now()));
    this.onHalt = opts.onHalt ?? (() => {});
    const peerIds = Object.keys(opts.peers).filter((p) => p !== opts.id);
    this.wal = Wal.open(opts.dataDir, opts.wal);
    try {
      const snap = this.wal.storage.snapshot();
      if (snap.index > 0) {
        const r = LogStateMachine.restore(snap.data, this.store);
        if (!r.ok) throw new Error(`${opts.id}: the WAL's snapshot at ${snap.index} does not decode: ${r.error.message}`);
        this.sm = r.value;
      } else this.sm = new LogStateMachine(this.store);
      this.rn = new RawNode(
        {
          ...DEFAULT_LIMITS,
          id: opts.id,
          peers: [opts.id, ...peerIds].sort(),
          electionTicks: opts.electionTicks ?? DEFAULT_LIMITS.electionTicks,
          heartbeatTicks: opts.heartbeatTicks ?? DEFAULT_LIMITS.heartbeatTicks,
          randomInt: (n) => randomInt(n),
          applied: this.sm.appliedIndex,
        },
        this.wal.storage,
      );
    } catch (e) {
      this.wal.close();
      throw e;
    }
    const known: Record<NodeId, PeerAddress> = {};
    for (const p of peerIds) {
      const a = opts.peers[p];
      if (a !== null && a !== undefined) known[p] = a;
    }
    this.transport = new Transport({
      id: opts.id,
      port: opts.port,
      ...(opts.host !== undefined ? { host: opts.host } : {}),
      peers: known,
      secret: opts.secret,
      onMessage: (m) => {
        if (this.closed) return;
        this.rn.step(m);
        this.schedulePump();
      },
      ...(opts.onTransportEvent !== undefined ? { onEvent: opts.onTransportEvent } : {}),
    });
  }

  /** Opens the WAL, listens, dials the peers and starts ticking. */
  static async start(opts: LogNodeOptions): Promise<LogNode> {
    const node = new LogNode(opts);
    try {
      await node.transport.start();
    } catch (e) {
      node.closed = true;
      await node.transport.close();
      node.wal.close();
      throw e;
    }
    node.timer = setInterval(() => node.tick(), node.tickMs);
    node.timer.unref();
    node.schedulePump();
    return node;
  }

  get port(): number {
    return this.transport.port;
  }

  /** The applied state (read-only use: tests, status, reads). */
  get stateMachine(): LogStateMachine {
    return this.sm;
  }

  setPeerAddress(id: NodeId, addr: PeerAddress): void {
    this.transport.setPeer(id, addr);
  }

  status(): LogNodeStatus {
    const s = this.rn.status();
    return {
      id: s.id,
      role: s.role,
      term: s.term,
      commit: s.commit,
      applied: this.sm.appliedIndex,
      leader: s.leader,
      lastIndex: s.lastIndex,
      pending: this.pending.size,
      halted: this.haltError?.message ?? null,
    };
  }

  /**
   * Proposes a client's encoded command (log/codec encodeCommand) on this node,
   * which must be the leader. Resolves with the encoded reply once applied here.
   */
  propose(commandBytes: Uint8Array): Promise<Buffer> {
    if (this.haltError !== null) return Promise.reject(new Error(`log node ${this.id} has stopped: ${this.haltError.message}`));
    if (this.closed) return Promise.reject(new Error(`log node ${this.id} is closed`));
    const s = this.rn.status();
    if (s.role !== "leader") return Promise.reject(new NotLeaderError(s.leader));
    const stamped = stampCommand(commandBytes, this.clockMs());
    if (!stamped.ok) return Promise.reject(new Error(`bad command: ${stamped.error.message}`));
    const r = this.rn.propose(stamped.value);
    switch (r.kind) {
      case "not-leader":
        return Promise.reject(new NotLeaderError(r.leader));
      case "dropped":
        return Promise.reject(new Error(`proposal dropped: ${r.reason}`));
      case "ok":
        break;
    }
    const p = new Promise<Buffer>((resolve, reject) => {
      this.pending.set(r.index, { term: r.term, resolve, reject });
    });
    this.schedulePump();
    return p;
  }

  /** Stops ticking, fails waiting proposals, closes the transport and the WAL (synced). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopTimer();
    this.failPending(() => new Error(`log node ${this.id} closed before the entry was applied; its outcome is unknown`));
    await this.transport.close();
    if (this.haltError === null) this.wal.close();
  }

  private tick(): void {
    if (this.closed) return;
    this.rn.tick();
    this.schedulePump();
  }

  private schedulePump(): void {
    if (this.pumpScheduled || this.closed) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      if (this.closed) return;
      try {
        this.pump();
      } catch (e) {
        this.halt(e instanceof Error ? e : new Error(String(e)));
      }
    });
  }

  /** The Ready loop: each Ready is persisted, synced, sent, applied and advanced in turn. */
  private pump(): void {
    while (!this.closed && this.rn.hasReady()) {
      const rd = this.rn.ready();
      this.wal.persist(rd);
      if (rd.mustSync) this.wal.sync();
      for (const m of rd.messages) if (m.to !== this.id) this.transport.send(m);
      if (!this.apply(rd)) return;
      this.rn.advance();
      if (rd.softState !== null && rd.softState.role !== "leader") {
        this.failPending(() => new NotLeaderError(rd.softState?.leader ?? null, "leadership lost before the entry was applied; its outcome is unknown"));
      }
    }
  }

  /** Installs a snapshot or applies committed entries; false if the node halted. */
  private apply(rd: Ready): boolean {
    if (rd.snapshot !== null) {
      const r = LogStateMachine.restore(rd.snapshot.data, this.store);
      if (!r.ok) {
        this.halt(new Error(`snapshot at ${rd.snapshot.index} does not decode: ${r.error.message}`));
        return false;
      }
      this.sm = r.value;
      for (const [index, p] of this.pending) {
        if (index <= rd.snapshot.index) {
          this.pending.delete(index);
          p.reject(new Error(`entry ${index} was covered by a snapshot; its outcome is unknown`));
        }
      }
    }
    for (const e of rd.committedEntries) {
      const out = this.sm.applyEntry(e);
      if (out.kind === "halt") {
        this.halt(new Error(`entry ${e.index} (term ${e.term}) cannot be applied: ${out.error.message}`));
        return false;
      }
      const p = this.pending.get(e.index);
      if (p === undefined) continue;
      this.pending.delete(e.index);
      if (p.term === e.term && out.kind === "applied") p.resolve(encodeReply(out.reply));
      else p.reject(new NotLeaderError(this.rn.status().leader, `entry ${e.index} of term ${p.term} was replaced by one of term ${e.term}`));
    }
    return true;
  }

  private halt(err: Error): void {
    if (this.haltError !== null) return;
    this.haltError = err;
    this.closed = true;
    this.stopTimer();
    this.failPending(() => new Error(`log node ${this.id} has stopped: ${err.message}`));
    this.wal.closeAbruptly();
    void this.transport.close();
    this.onHalt(err);
  }

  private failPending(mk: () => Error): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) p.reject(mk());
  }

  private stopTimer(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }
}
