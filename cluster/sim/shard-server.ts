// A simulated durable server of one shard: the roles, lease timing, campaign
// and step-down of cluster/shard-node.ts, with a real Engine, the real record
// codec (cluster/record.ts), the real reply tracker (cluster/tracker.ts) and
// the lease rules shared with the real server (cluster/lease-rules.ts), on
// the simulator's virtual clock.
//
// The process has its own clock: a rate within the run's bound and its own
// origin, read as performance.now() would be. Timers, answers from the log and
// client requests reach it only while it runs: a paused server (SIGSTOP)
// handles them when it resumes; a killed one loses everything and restarts
// from the newest snapshot plus the log.
import { assert, AssertionError } from "../../log/raft/assert";
import type { Engine } from "../../engine/engine";
import type { Session } from "../../engine/session";
import { err, type Reply } from "../../resp/reply";
import { encodeAnnounce, encodeChecksum, encodeEffects, RecordReader, type Announce } from "../record";
import { Tracker } from "../tracker";
import {
  CAMPAIGN_BEHIND_RETRY_MS,
  CAMPAIGN_JITTER_MS,
  CAMPAIGN_NO_ANSWER_RETRY_MS,
  CAMPAIGN_NOT_CAUGHT_UP_MS,
  campaignRetryMs,
  firstLeaseHeadStartMs,
  isRestarted,
  leaseDeadlineMs,
  renewedDeadlineMs,
  renewPeriodMs,
  RENEWS_IN_FLIGHT_MAX,
  restartHoldBackMs,
} from "../lease-rules";
import { SafetyViolation } from "../../log/sim/checker";
import type { LogApp } from "../../log/sim/log-app";
import type { Prng } from "../../log/sim/prng";
import { Appender, type AppendFailure } from "../appender";
import { SHARD, type LogAnswer, type LogCaller, type ShardReference, type SimLogNet } from "./shard-log";
import { loadSnapshot, replicaEngine, type SnapshotStore } from "./shard-snapshotter";
import type { WorkloadHost } from "../../log/sim/workload";
import type { AppendResult } from "../../log/state/types";

const READ_COUNT_MAX = 64;
const CAUGHT_UP_POLL_MS = 5;
const LOG_RETRY_MS = 100;
const ACTIVE_EXPIRE_EVERY_MS = 100;
/** The real server's unix clock is its wall clock; every simulated one starts near this. */
const UNIX_BASE_MS = 1_700_000_000_000;

export interface ServerSettings {
  readonly leaseMs: number;
  readonly marginMs: number;
  readonly driftRate: number;
  /** Planted bugs, to show the checkers catch them. */
  readonly bug: ShardBug | null;
}

/** deadline-from-reply: counts the lease from the answer, not the request; serve-past-deadline: ignores the local deadline. */
export type ShardBug = "deadline-from-reply" | "serve-past-deadline";

export interface ServerWorld {
  readonly host: WorkloadHost<LogApp>;
  readonly log: SimLogNet;
  readonly ref: ShardReference;
  readonly store: SnapshotStore;
  readonly settings: ServerSettings;
  /** Every server of the shard, in configuration order (the first one wins a fresh shard). */
  readonly names: readonly string[];
  /** A read was served from memory by `s` (checker d). */
  servedRead(s: SimServer): void;
}

interface Held {
  readonly seq: number;
  readonly reply: Reply;
  readonly send: (r: Reply) => void;
}

interface PrimaryState {
  readonly leaseId: number;
  readonly epoch: number;
  deadlineMs: number;
  readonly tracker: Tracker;
  readonly appender: Appender;
  renewsInFlight: number;
}

export class SimServer implements LogCaller {
  alive = true;
  pausedUntilUs = 0;
  incarnation = 0;
  role: "replica" | "primary" = "replica";
  engine: Engine = replicaEngine(() => 0, () => 0);
  reader = new RecordReader();
  appliedSeq = 0;
  tipSeen = 0;
  caughtUp = false;
  primaryKnown: Announce | null = null;
  halted: string | null = null;
  primary: PrimaryState | null = null;
  private held: Held[] = [];
  private readInFlight = false;
  private startedAtMs = 0;
  private caughtUpAtMs = 0;
  private heldBack = false;
  private sealScheduled = false;
  private readonly rate: number;
  private readonly origin: number;
  private readonly wallOffsetMs: number;
  stats = { leases: 0, stepDowns: 0, restores: 0, resyncs: 0 };
  /** A fault point: stop this process for this long right after it next asks the log for the lease. */
  pauseAfterLeaseRequestMs: number | null = null;

  constructor(
    readonly name: string,
    readonly rank: number,
    private readonly w: ServerWorld,
    private readonly rng: Prng,
  ) {
    this.rate = 1 + (rng.float() * 2 - 1) * w.settings.driftRate;
    this.origin = rng.int(1_000_000);
    this.wallOffsetMs = rng.int(100);
  }

  /** performance.now() of this process. */
  nowMs(): number {
    return this.origin + (this.w.host.nowUs() / 1000) * this.rate;
  }

  private get leaseMs(): number {
    return this.w.settings.leaseMs;
  }

  deliver(fn: () => void): void {
    const inc = this.incarnation;
    const run = (): void => {
      if (!this.alive || inc !== this.incarnation) return;
      if (this.pausedUntilUs > this.w.host.nowUs()) return this.w.host.at(this.pausedUntilUs, run);
      fn();
    };
    run();
  }

  /** A timer of this incarnation, `ms` on this process's clock from now. */
  private later(ms: number, fn: () => void): void {
    const h = this.w.host;
    // As with setTimeout, at least 1 ms.
    h.at(h.nowUs() + Math.max(1000, Math.round((ms * 1000) / this.rate)), () => this.deliver(fn));
  }

  /** Believes it is primary and is before its local deadline (what checker b counts). */
  withinLease(): boolean {
    const p = this.primary;
    return this.alive && this.role === "primary" && p !== null && this.nowMs() < p.deadlineMs;
  }

  /** True while this node serves (withinLease, unless a bug is planted). */
  mayServe(): boolean {
    if (this.w.settings.bug === "serve-past-deadline") return this.alive && this.role === "primary" && this.primary !== null;
    return this.withinLease();
  }

  // ------------------------------------------------------------ lifecycle

  /** Starts (or restarts after a kill or step-down) as a replica from the newest snapshot plus the log. */
  start(): void {
    this.alive = true;
    this.incarnation++;
    this.startedAtMs = this.nowMs();
    this.heldBack = false;
    this.role = "replica";
    this.primary = null;
    this.halted = null;
    this.readInFlight = false;
    this.sealScheduled = false;
    this.restore();
    this.caughtUp = false;
    this.caughtUpAtMs = 0;
    this.primaryKnown = null;
    this.poll();
    this.scheduleElection(0);
  }

  kill(): void {
    this.alive = false;
    this.incarnation++;
    this.role = "replica";
    this.primary = null;
    this.held = [];
  }

  private restore(): void {
    const snap = this.w.store.newest();
    const clock = (): number => Math.floor(UNIX_BASE_MS + this.wallOffsetMs + this.w.host.nowUs() / 1000);
    const random = (): number => this.rng.float();
    if (snap === null) {
      this.engine = replicaEngine(clock, random);
      this.reader = new RecordReader();
      this.appliedSeq = 0;
      return;
    }
    this.engine = loadSnapshot(snap, () => replicaEngine(clock, random));
    this.reader = new RecordReader(snap.logChecksum);
    this.appliedSeq = snap.seq;
    this.stats.restores++;
    this.w.ref.check(`${this.name} (restored)`, snap.seq, this.engine.digest());
  }

  private halt(why: string): never {
    this.halted = why;
    throw new SafetyViolation(`${this.name} halted: ${why}`);
  }

  // ------------------------------------------------------------ replica

  private isReplica(inc: number): boolean {
    return this.alive && inc === this.incarnation && this.role === "replica";
  }

  /** Follows the log with reads from whichever node answers (the real server tails a stream after catching up). */
  private poll(): void {
    const inc = this.incarnation;
    if (!this.isReplica(inc) || this.readInFlight) return;
    this.readInFlight = true;
    this.w.log.call(this, { kind: "read", fromSeq: this.appliedSeq + 1, countMax: READ_COUNT_MAX }, 5000, (a) => {
      if (!this.isReplica(inc)) return;
      this.readInFlight = false;
      this.onRead(a);
    });
  }

  private onRead(a: LogAnswer): void {
    if (a.kind !== "read") return this.later(LOG_RETRY_MS, () => this.poll());
    const r = a.result;
    if (r.kind === "trimmed") return this.resync(r.trimPoint);
    this.applyBatch(r.firstSeq, r.records, r.tip);
    this.later(r.records.length === 0 || this.caughtUp ? CAUGHT_UP_POLL_MS : 0, () => this.poll());
  }

  /** The log no longer holds what this replica needs: restart from the newest snapshot, which must cover it. */
  private resync(trimPoint: number): void {
    const newest = this.w.store.newest();
    if (newest === null || newest.seq + 1 < trimPoint || newest.seq <= this.appliedSeq) {
      this.halt(`the log is trimmed to ${trimPoint} past this node's position ${this.appliedSeq} and no snapshot covers it (newest ${newest?.seq ?? "none"})`);
    }
    this.stats.resyncs++;
    this.w.host.note(`${this.name} resyncs from the snapshot at ${newest.seq} (log trimmed to ${trimPoint})`);
    this.start();
  }

  private applyBatch(firstSeq: number, records: readonly Uint8Array[], tip: number): void {
    this.tipSeen = Math.max(this.tipSeen, tip);
    if (records.length > 0 && firstSeq !== this.appliedSeq + 1) this.halt(`the log sent records from ${firstSeq} to a node at ${this.appliedSeq}`);
    for (const rec of records) this.applyRecord(Buffer.from(rec));
    this.caughtUp = this.appliedSeq >= tip;
    if (this.caughtUp && this.caughtUpAtMs === 0) this.caughtUpAtMs = this.nowMs();
  }

  private applyRecord(rec: Buffer): void {
    const d = this.reader.push(rec);
    this.appliedSeq++;
    if (d !== null) {
      if (!d.ok) this.halt(`record ${this.appliedSeq}: ${d.error}`);
      const r = d.record;
      if (r.kind === "announce") this.primaryKnown = r;
      else if (r.kind === "effects") this.engine.apply(r.effects);
    }
    if (!this.reader.partial) this.w.ref.check(this.name, this.appliedSeq, this.engine.digest());
  }

  private scheduleElection(delayMs: number): void {
    const inc = this.incarnation;
    this.later(delayMs, () => {
      if (this.isReplica(inc)) this.campaign();
    });
  }

  /** Asks for the lease once this replica has applied the whole log; the log decides. */
  private campaign(): void {
    if (this.halted !== null) return;
    if (!this.caughtUp) return this.scheduleElection(CAMPAIGN_NOT_CAUGHT_UP_MS);
    const expectedSeq = this.appliedSeq;
    const headStartMs = firstLeaseHeadStartMs(expectedSeq, this.rank, this.leaseMs, this.nowMs() - this.caughtUpAtMs);
    if (headStartMs > 0) return this.scheduleElection(headStartMs);
    if (!this.heldBack && this.restarted()) {
      this.heldBack = true;
      return this.scheduleElection(restartHoldBackMs(this.leaseMs));
    }
    const sentAt = this.nowMs();
    const inc = this.incarnation;
    const command = { kind: "tryTakeLease" as const, shard: SHARD, nodeId: this.name, expectedSeq, durationMs: this.leaseMs };
    this.firePauseAfterLeaseRequest();
    this.w.log.call(this, { kind: "command", command }, Math.max(1000, this.leaseMs), (a) => {
      if (!this.isReplica(inc)) return;
      this.onCampaignAnswer(a, sentAt, expectedSeq);
    });
  }

  private onCampaignAnswer(a: LogAnswer, sentAt: number, expectedSeq: number): void {
    if (a.kind !== "reply" || a.reply.op !== "tryTakeLease") return this.scheduleElection(CAMPAIGN_NO_ANSWER_RETRY_MS);
    const r = a.reply.result;
    if (r.kind === "granted") return this.becomePrimary(r.leaseId, r.epoch, sentAt, expectedSeq);
    if (r.reason === "lease-live") {
      const jitterMs = this.rng.int(CAMPAIGN_JITTER_MS);
      return this.scheduleElection(campaignRetryMs(r.remainingMs, this.leaseMs, this.restarted(), jitterMs));
    }
    if (r.reason === "behind") return this.scheduleElection(CAMPAIGN_BEHIND_RETRY_MS);
    this.halt("the log refuses a new shard (shard limit reached)");
  }

  private firePauseAfterLeaseRequest(): void {
    const ms = this.pauseAfterLeaseRequestMs;
    if (ms === null) return;
    this.pauseAfterLeaseRequestMs = null;
    // The request is sent after this turn; the answer waits until the process runs again.
    this.pausedUntilUs = Math.max(this.pausedUntilUs, this.w.host.nowUs() + ms * 1000);
    this.w.host.note(`pause ${this.name} for ${ms}ms right after a lease request`);
  }

  private restarted(): boolean {
    return isRestarted(this.appliedSeq, this.nowMs() - this.startedAtMs, this.leaseMs);
  }

  // ------------------------------------------------------------ primary

  private becomePrimary(leaseId: number, epoch: number, sentAt: number, tipSeq: number): void {
    if (this.appliedSeq !== tipSeq) throw new AssertionError(`${this.name} granted at ${tipSeq} but applied ${this.appliedSeq}`);
    const inc = this.incarnation;
    const s = this.w.settings;
    const from = s.bug === "deadline-from-reply" ? this.nowMs() : sentAt;
    this.role = "primary";
    this.stats.leases++;
    const engine = this.engine;
    engine.takeEffects();
    engine.role = "primary";
    engine.recordEffects = true;
    const tracker = new Tracker(engine, tipSeq);
    engine.keyListeners.push((db, key) => (this.primary?.tracker === tracker ? tracker.keyWritten(db, key) : undefined));
    engine.onFirstEffect = () => this.scheduleSeal();
    const appender = new Appender({
      send: (records, expectedSeq, id, done) => this.sendAppend(records, expectedSeq, id, (r) => done(r, "no answer")),
      later: (ms, fn) => this.later(ms, fn),
      nowMs: () => this.nowMs(),
      leaseId,
      tipSeq,
      giveUpMs: Math.max(30_000, this.leaseMs * 10),
      onCommitted: (seq) => this.committed(seq),
      onFailure: (f) => this.stepDown(inc, f),
      onCapacity: () => (this.engine.effectsPending > 0 ? this.seal() : undefined),
    });
    this.primary = { leaseId, epoch, deadlineMs: leaseDeadlineMs(from, this.leaseMs, s.marginMs), tracker, appender, renewsInFlight: 0 };
    const me: Announce = { nodeId: this.name, host: this.name, port: 1, epoch };
    tracker.sealed(this.submit([encodeAnnounce(me)]));
    this.w.ref.sealedDigest(leaseId, tracker.sealedSeq, engine.digest());
    this.primaryKnown = me;
    this.w.host.note(`${this.name} took the lease (epoch ${epoch}, id ${leaseId}) at seq ${tipSeq}`);
    this.renewLoop(inc);
    this.expireLoop(inc);
  }

  private sendAppend(records: readonly Buffer[], expectedSeq: number, leaseId: number, cb: (r: AppendResult | null) => void): void {
    const command = { kind: "append" as const, shard: SHARD, records, expectedSeq, leaseId };
    this.w.log.call(this, { kind: "command", command }, Math.max(2000, this.leaseMs * 2), (a) => {
      if (a.kind === "reply" && a.reply.op === "append") cb(a.reply.result);
      else cb(null);
    });
  }

  private isPrimary(inc: number): boolean {
    return this.alive && inc === this.incarnation && this.role === "primary" && this.primary !== null;
  }

  private renewLoop(inc: number): void {
    this.later(renewPeriodMs(this.leaseMs), () => {
      if (!this.isPrimary(inc)) return;
      this.renew(inc);
      this.renewLoop(inc);
    });
  }

  private expireLoop(inc: number): void {
    this.later(ACTIVE_EXPIRE_EVERY_MS, () => {
      if (!this.isPrimary(inc)) return;
      if (this.mayServe()) this.engine.activeExpireCycle(2);
      this.expireLoop(inc);
    });
  }

  private renew(inc: number): void {
    const p = this.primary;
    if (p === null || p.renewsInFlight >= RENEWS_IN_FLIGHT_MAX) return;
    p.renewsInFlight++;
    const sentAt = this.nowMs();
    this.firePauseAfterLeaseRequest();
    this.w.log.call(this, { kind: "command", command: { kind: "renewLease", shard: SHARD, leaseId: p.leaseId } }, Math.max(1000, this.leaseMs), (a) => {
      p.renewsInFlight--;
      if (!this.isPrimary(inc) || this.primary !== p || a.kind !== "reply" || a.reply.op !== "renewLease") return;
      const from = this.w.settings.bug === "deadline-from-reply" ? this.nowMs() : sentAt;
      if (a.reply.result.kind === "ok") p.deadlineMs = renewedDeadlineMs(p.deadlineMs, from, this.leaseMs, this.w.settings.marginMs);
      else this.stepDown(inc, { kind: "deposed", detail: `the log refused to renew lease ${p.leaseId}` });
    });
  }

  private scheduleSeal(): void {
    if (this.sealScheduled || this.role !== "primary") return;
    this.sealScheduled = true;
    const inc = this.incarnation;
    // The end of this event-loop turn: every command handled at this instant joins the batch.
    this.w.host.at(this.w.host.nowUs(), () =>
      this.deliver(() => {
        if (inc !== this.incarnation) return;
        this.sealScheduled = false;
        this.seal();
      }),
    );
  }

  private seal(): void {
    const p = this.primary;
    if (this.role !== "primary" || p === null) return;
    if (this.engine.effectsPending === 0 || !p.appender.hasCapacity) return;
    const seq = this.submit(encodeEffects(this.engine.takeEffects()));
    p.tracker.sealed(seq);
    this.w.ref.sealedDigest(p.leaseId, seq, this.engine.digest());
  }

  /** As ShardNode.submit: records in seq order folded into the running checksum, a CHECKSUM record first when due. */
  private submit(records: Buffer[]): number {
    const p = this.primary;
    assert(p !== null, "submit on a replica");
    const running = this.reader.running;
    const out = running.due ? [encodeChecksum(running.value()), ...records] : records;
    for (const r of out) {
      running.fold(r);
      if (out !== records && r === out[0]) running.restart();
    }
    return p.appender.submit(out);
  }

  private committed(seq: number): void {
    const p = this.primary;
    if (p === null) return;
    this.appliedSeq = seq;
    this.tipSeen = Math.max(this.tipSeen, seq);
    p.tracker.committed(seq);
    const ready = this.held.filter((h) => h.seq <= seq);
    this.held = this.held.filter((h) => h.seq > seq);
    for (const h of ready) h.send(h.reply);
  }

  private stepDown(inc: number, f: AppendFailure): void {
    if (!this.isPrimary(inc)) return;
    const p = this.primary as PrimaryState;
    this.stats.stepDowns++;
    this.w.host.note(`${this.name} steps down: ${f.detail}`);
    const maybeApplied = p.appender.unsettledSends;
    p.appender.stop();
    const message =
      f.kind === "deposed" && !maybeApplied
        ? "TRYAGAIN this node lost the primary lease; the command was not applied"
        : `ERR this node lost the primary lease; the log may or may not have applied this command (${f.kind === "deposed" ? "deposed" : "no answer"})`;
    const held = this.held;
    this.held = [];
    for (const h of held) h.send(err(message));
    this.start();
  }

  // ------------------------------------------------------------ clients

  /**
   * One client command, as ShardNode.admit and the tracker decide: a primary
   * within its lease executes it and holds the reply until what it depends
   * on is committed; anything else is refused before it runs.
   */
  handle(argv: readonly string[], session: Session, send: (r: Reply) => void): void {
    const p = this.primary;
    if (this.halted !== null) return send(err(`CLUSTERDOWN this node stopped applying the log: ${this.halted}`));
    if (this.role === "primary" && p !== null) {
      if (!this.mayServe()) return send(err("CLUSTERDOWN the primary's lease is not confirmed; retry shortly"));
      return this.execute(p, argv, session, send);
    }
    if (!this.caughtUp) return send(err("LOADING Mnemo is loading the dataset in memory"));
    const k = this.primaryKnown;
    if (k !== null && k.nodeId !== this.name) return send(err(`MOVED 0 ${k.nodeId}:1`));
    return send(err("CLUSTERDOWN no primary is known"));
  }

  private execute(p: PrimaryState, argv: readonly string[], session: Session, send: (r: Reply) => void): void {
    const before = this.engine.effectsPending;
    const reply = this.engine.call(session, argv.slice());
    const wrote = this.engine.effectsPending > before;
    if (!wrote) this.w.servedRead(this);
    const key = argv[1];
    const seq = p.tracker.waitFor(session.db, wrote || key === undefined ? null : [key], wrote);
    if (seq <= p.tracker.committedSeq) return send(reply);
    this.held.push({ seq, reply, send });
  }
}
