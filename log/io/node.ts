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
import type { HardState, NodeId } from "../raft/types";
import type { Lease } from "../state/lease";
import { LogStateMachine, type ReadResult, readThrough } from "../state/machine";
import { DEFAULT_MAX_FRAME_BYTES } from "./frame";
import type { WindowLimits } from "../state/shard";
import { MemoryRecordStore } from "../state/record-store";
import type { LeaseView, ShardId } from "../state/types";
import { CompactionPolicy, type CompactionOptions, type CompactionStatus, DEFAULT_COMPACTION } from "./compaction";
import { decodeNodeSnapshot, encodeNodeSnapshot, nodeSnapshotBytesEstimate, nodeSnapshotCrc } from "./node-snapshot";
import { Transport, type PeerAddress, type TransportEvent } from "./transport";
import { DEFAULT_WAL_OPTIONS, Wal, type WalOptions } from "./wal";

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
  /** Injected inter-AZ delay on every message this node sends to a peer (models a multi-AZ network). */
  readonly azDelayMs?: number;
  /** When the node compacts its WAL (default DEFAULT_COMPACTION). */
  readonly compaction?: Partial<CompactionOptions>;
  /** How many of each shard's newest records stay in the window (default NODE_WINDOW_LIMITS); older ones go to the record store. */
  readonly windowLimits?: WindowLimits;
  readonly onTransportEvent?: (e: TransportEvent) => void;
  /** The node stopped on its own (a WAL failure, an entry it cannot apply). */
  readonly onHalt?: (err: Error) => void;
}

/**
 * The node's window: small, since its record store is in memory too; what the
 * window holds is encoded record by record by the state machine's snapshot,
 * while the store's records are copied in bulk (node-snapshot.ts).
 */
export const NODE_WINDOW_LIMITS: WindowLimits = { windowRecordsMax: 64, windowBytesMax: 256 * 1024 };

/** A command that does not decode: it was not proposed. */
export class BadCommandError extends Error {
  override name = "BadCommandError";
}

/** Proposals waiting for the next turn's batch, and the bytes one batch may carry. */
const PROPOSALS_QUEUED_MAX = 65_536;
const PROPOSAL_BATCH_BYTES_MAX = 4 * 1024 * 1024;

interface QueuedProposal {
  readonly data: Buffer;
  readonly resolve: (reply: Buffer) => void;
  readonly reject: (err: Error) => void;
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
  readonly compaction: CompactionStatus;
  /** Every shard's applied state on this node (leases as last recorded, live or not). */
  readonly shards: readonly NodeShardStatus[];
}

export interface NodeShardStatus {
  readonly shard: ShardId;
  readonly tip: number;
  readonly trimPoint: number;
  readonly leaseHolder: string | null;
  readonly leaseId: number | null;
  readonly epoch: number;
}

/** A shard as one node sees it (LogClient.shardInfo). */
export interface ShardInfoView {
  readonly tip: number;
  readonly trimPoint: number;
  /** The live lease, or null when none is live as far as this node can tell. */
  readonly lease: LeaseView | null;
  /**
   * On the leader: time left on the lease by the leader's clock (a lease not yet
   * carried into the leader's term counts as just renewed, as rule 3 will make it).
   * On a follower: time left as of the last entry it applied (a hint: it may be stale).
   */
  readonly leaseRemainingMs: number;
}

/** Told after every batch of applied entries (or installed snapshot), and once when the node stops. */
export interface ApplyListener {
  applied(): void;
  stopped(reason: string): void;
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
  private store = new MemoryRecordStore();
  private readonly listeners = new Set<ApplyListener>();
  private readonly clockMs: () => number;
  private readonly onHalt: (err: Error) => void;
  private readonly pending = new Map<number, PendingProposal>();
  private queued: QueuedProposal[] = [];
  private timer: NodeJS.Timeout | null = null;
  private pumpScheduled = false;
  private closed = false;
  private haltError: Error | null = null;
  private readonly tickMs: number;
  private readonly windowLimits: WindowLimits;
  private readonly compaction: CompactionPolicy;
  private compacting = false;
  private readonly frameBytesMax: number;
  /** The hard state last made durable (term and vote decide whether messages may precede a persist). */
  private persistedHard: HardState;

  private constructor(opts: LogNodeOptions) {
    this.id = opts.id;
    this.tickMs = opts.tickMs ?? 10;
    this.clockMs = opts.clockMs ?? (() => Math.floor(performance.now()));
    this.onHalt = opts.onHalt ?? (() => {});
    this.windowLimits = opts.windowLimits ?? NODE_WINDOW_LIMITS;
    const peerIds = Object.keys(opts.peers).filter((p) => p !== opts.id);
    const compaction = { ...DEFAULT_COMPACTION, ...opts.compaction };
    // A snapshot must fit one WAL frame and one transport frame.
    const frameBytesMax = compaction.snapshotBytesMax + 1024 * 1024;
    this.frameBytesMax = Math.max(DEFAULT_MAX_FRAME_BYTES, frameBytesMax);
    this.wal = Wal.open(opts.dataDir, { ...opts.wal, maxFrameBytes: Math.max(opts.wal?.maxFrameBytes ?? DEFAULT_WAL_OPTIONS.maxFrameBytes, frameBytesMax) });
    try {
      const snap = this.wal.storage.snapshot();
      if (snap.index > 0) {
        const r = decodeNodeSnapshot(snap.data, this.windowLimits);
        if (!r.ok) throw new Error(`${opts.id}: the WAL's snapshot at ${snap.index} does not decode: ${r.error.message}`);
        this.sm = r.value.sm;
        this.store = r.value.store;
      } else this.sm = new LogStateMachine(this.store, this.windowLimits);
      this.compaction = new CompactionPolicy(compaction, snap.index, snap.data.length);
      this.persistedHard = this.wal.storage.hardState();
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
      maxFrameBytes: this.frameBytesMax,
      ...(opts.azDelayMs !== undefined ? { azDelayMs: opts.azDelayMs } : {}),
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
      compaction: this.compaction.status(),
      shards: this.sm.shardIds().map((id) => shardStatus(this.sm, id)),
    };
  }

  /** This node's role now (cheap: no status object). */
  get role(): RoleKind {
    return this.rn.raft.role.kind;
  }

  /** The leader this node knows of, or null. */
  get leaderHint(): NodeId | null {
    return this.rn.raft.leader();
  }

  /** False once the node was closed or halted. */
  get running(): boolean {
    return !this.closed;
  }

  /** Why the node stopped, or null while it runs. */
  get haltReason(): string | null {
    return this.haltError?.message ?? null;
  }

  /**
   * Committed records of a shard from fromSeq on (at most countMax, and past the
   * first at most bytesMax bytes), from the in-memory window or the record store.
   */
  read(shard: ShardId, fromSeq: number, countMax: number, bytesMax: number): ReadResult {
    return readThrough(this.sm, this.store, shard, fromSeq, countMax, bytesMax);
  }

  /** The shard's tip, trim point and live lease as this node sees them. */
  shardInfo(shard: ShardId): ShardInfoView {
    const s = this.sm.shard(shard);
    if (s === null) return { tip: 0, trimPoint: 1, lease: null, leaseRemainingMs: 0 };
    const remaining = s.lease === null ? 0 : this.leaseRemainingMs(s.lease);
    const lease = s.lease === null || remaining <= 0 ? null : { holder: s.lease.holder, leaseId: s.lease.leaseId, epoch: s.lease.epoch };
    return { tip: s.tip, trimPoint: s.trimPoint, lease, leaseRemainingMs: lease === null ? 0 : remaining };
  }

  private leaseRemainingMs(l: Lease): number {
    const d = l.durationMs;
    const stamp = this.sm.lastStamp;
    // Stamps of lease.term are on the clock of that term's leader: compare only within it.
    if (this.role === "leader" && l.term === this.rn.raft.term) return clamp(l.grantedAtMs + d - this.clockMs(), 0, d);
    // Lease rule 3 drops a lease that its own term already saw expire, and renews every other.
    if (this.role === "leader") return stamp.proposedAtMs >= l.grantedAtMs + d ? 0 : d;
    return clamp(l.grantedAtMs + d - stamp.proposedAtMs, 0, d);
  }

  /** Registers a listener; returns its removal. A listener that throws is removed. */
  listen(l: ApplyListener): () => void {
    if (this.closed) {
      l.stopped(this.haltError?.message ?? `log node ${this.id} is closed`);
      return () => {};
    }
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  private notifyApplied(): void {
    for (const l of [...this.listeners]) {
      try {
        l.applied();
      } catch {
        this.listeners.delete(l);
      }
    }
  }

  private notifyStopped(reason: string): void {
    const all = [...this.listeners];
    this.listeners.clear();
    for (const l of all) {
      try {
        l.stopped(reason);
      } catch {
        // The node is stopping anyway.
      }
    }
  }

  /**
   * Proposes a client's encoded command (log/codec encodeCommand) on this node,
   * which must be the leader. Resolves with the encoded reply once applied here.
   */
  propose(commandBytes: Uint8Array): Promise<Buffer> {
    if (this.haltError !== null) return Promise.reject(new Error(`log node ${this.id} has stopped: ${this.haltError.message}`));
    if (this.closed) return Promise.reject(new Error(`log node ${this.id} is closed`));
    if (this.role !== "leader") return Promise.reject(new NotLeaderError(this.leaderHint));
    const stamped = stampCommand(commandBytes, this.clockMs());
    if (!stamped.ok) return Promise.reject(new BadCommandError(`bad command: ${stamped.error.message}`));
    if (this.queued.length >= PROPOSALS_QUEUED_MAX) return Promise.reject(new Error("proposal dropped: too many proposals queued"));
    const p = new Promise<Buffer>((resolve, reject) => this.queued.push({ data: stamped.value, resolve, reject }));
    this.schedulePump();
    return p;
  }

  /**
   * Proposes everything queued since the last turn as few batches (one append
   * message per follower per batch, one WAL frame): per-proposal cost on the
   * leader and followers is what limits throughput with many appenders.
   */
  private proposeQueued(): void {
    const q = this.queued;
    if (q.length === 0) return;
    this.queued = [];
    for (let i = 0; i < q.length; ) {
      let bytes = 0;
      let j = i;
      while (j < q.length && (j === i || bytes + (q[j] as QueuedProposal).data.length <= PROPOSAL_BATCH_BYTES_MAX)) bytes += (q[j++] as QueuedProposal).data.length;
      this.proposeBatch(q.slice(i, j));
      i = j;
    }
  }

  private proposeBatch(batch: readonly QueuedProposal[]): void {
    const r = this.rn.proposeBatch(batch.map((p) => p.data));
    switch (r.kind) {
      case "not-leader":
        for (const p of batch) p.reject(new NotLeaderError(r.leader));
        return;
      case "dropped":
        for (const p of batch) p.reject(new Error(`proposal dropped: ${r.reason}`));
        return;
      case "ok":
        batch.forEach((p, i) => this.pending.set(r.index + i, { term: r.term, resolve: p.resolve, reject: p.reject }));
        return;
    }
  }

  /** Stops ticking, fails waiting proposals, closes the transport and the WAL (synced). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopTimer();
    this.failPending(() => new Error(`log node ${this.id} closed before the entry was applied; its outcome is unknown`));
    this.notifyStopped(`log node ${this.id} closed`);
    await this.transport.close();
    if (this.haltError === null) this.wal.close();
    await this.wal.settled();
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
      let applied = false;
      try {
        applied = this.pump();
      } catch (e) {
        this.halt(e instanceof Error ? e : new Error(String(e)));
      }
      if (applied && !this.closed) this.notifyApplied();
    });
  }

  /** The Ready loop: each Ready is persisted, synced, sent, applied and advanced in turn. True if anything was applied. */
  private pump(): boolean {
    let applied = false;
    this.proposeQueued();
    while (!this.closed && this.rn.hasReady()) {
      const rd = this.rn.ready();
      const early = this.maySendBeforePersist(rd);
      if (early) this.send(rd, true);
      this.wal.persist(rd);
      this.compaction.persisted(rd.entries);
      if (rd.mustSync) this.wal.sync();
      if (rd.hardState !== null) this.persistedHard = rd.hardState;
      // Answers to what was just made durable (votes, acknowledgements) go at once;
      // anything else (heartbeats, catch-up appends) after the entries are applied and
      // the clients answered, with the turn's other writes.
      if (!early && rd.mustSync) this.send(rd, true);
      if (!this.apply(rd)) return applied;
      if (!early && !rd.mustSync) this.send(rd, false);
      if (rd.snapshot !== null || rd.committedEntries.length > 0) applied = true;
      this.rn.advance();
      if (this.compaction.due()) this.compact();
      if (rd.softState !== null && rd.softState.role !== "leader") {
        this.failPending(() => new NotLeaderError(rd.softState?.leader ?? null, "leadership lost before the entry was applied; its outcome is unknown"));
      }
    }
    return applied;
  }

  /** Queues the Ready's messages; `now`: write them to the sockets at once rather than at the end of the turn. */
  private send(rd: Ready, now: boolean): void {
    for (const m of rd.messages) if (m.to !== this.id) this.transport.send(m);
    if (now) this.transport.flushAll();
  }

  /**
   * Whether a Ready's messages may go out before its entries are durable here
   * (Raft thesis §10.2.1; etcd does the same): only a leader's appends and
   * heartbeats, only when the Ready has entries to persist and changes
   * neither term nor vote. Safe
   * because the leader counts its own copy towards a commit only once it is
   * durable (its self-acknowledgement waits in msgsAfterPersist until
   * advance()), so an entry commits only when a majority has fsynced it, with
   * or without the leader; followers still persist before they answer. If the
   * leader crashes first, followers merely hold entries of a term that ended,
   * which Raft already allows for any leader that crashes after sending.
   */
  private maySendBeforePersist(rd: Ready): boolean {
    if (this.rn.raft.role.kind !== "leader" || rd.snapshot !== null || rd.entries.length === 0) return false;
    const hs = rd.hardState;
    if (hs !== null && (hs.term !== this.persistedHard.term || hs.vote !== this.persistedHard.vote)) return false;
    return rd.messages.every((m) => m.kind === "app" || m.kind === "heartbeat");
  }

  /**
   * Encodes the whole applied state as the WAL's snapshot (between Readies, so
   * Raft never sees its log change under a Ready it is handling) and hands it
   * to wal.compactAsync, which writes it off the event loop and then drops the
   * segments below it. Skipped while one is in flight, or while the snapshot
   * would be too large.
   */
  private compact(): void {
    if (this.compacting) return;
    const index = this.sm.appliedIndex;
    if (index <= this.wal.storage.snapshot().index) return;
    const estimate = nodeSnapshotBytesEstimate(this.sm, this.store);
    if (estimate > this.compaction.options.snapshotBytesMax) return this.compaction.defer(estimate);
    const started = performance.now();
    const data = encodeNodeSnapshot(this.sm, this.store);
    const encodeMs = performance.now() - started;
    this.compacting = true;
    // The file is written and synced off the event loop; the Ready loop goes on meanwhile.
    this.wal.compactAsync(index, data, this.compaction.options.keepEntries, nodeSnapshotCrc(data)).then(
      (done) => {
        this.compacting = false;
        if (done) this.compaction.compacted(index, data.length, encodeMs, performance.now() - started);
      },
      (err: unknown) => {
        this.compacting = false;
        if (!this.closed) this.halt(new Error(`compaction at ${index} failed: ${err instanceof Error ? err.message : String(err)}`));
      },
    );
  }

  /** Installs a snapshot or applies committed entries; false if the node halted. */
  private apply(rd: Ready): boolean {
    if (rd.snapshot !== null) {
      const r = decodeNodeSnapshot(rd.snapshot.data, this.windowLimits);
      if (!r.ok) {
        this.halt(new Error(`snapshot at ${rd.snapshot.index} does not decode: ${r.error.message}`));
        return false;
      }
      this.sm = r.value.sm;
      this.store = r.value.store;
      this.compaction.installedSnapshot(rd.snapshot.index, rd.snapshot.data.length);
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
    this.notifyStopped(`log node ${this.id} has stopped: ${err.message}`);
    this.onHalt(err);
  }

  private failPending(mk: () => Error): void {
    const all: { reject: (err: Error) => void }[] = [...this.pending.values(), ...this.queued];
    this.pending.clear();
    this.queued = [];
    for (const p of all) p.reject(mk());
  }

  private stopTimer(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }
}

function clamp(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, x));
}

function shardStatus(sm: LogStateMachine, id: ShardId): NodeShardStatus {
  const s = sm.shard(id);
  const l = s?.lease ?? null;
  return {
    shard: id,
    tip: s?.tip ?? 0,
    trimPoint: s?.trimPoint ?? 1,
    leaseHolder: l?.holder ?? null,
    leaseId: l?.leaseId ?? null,
    epoch: s?.epoch ?? 0,
  };
}
