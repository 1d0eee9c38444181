// A durable server: one node of a shard, primary or replica, decided by the
// log alone.
//
// replica: replays the shard's log from seq 1 into a replica-mode engine
//   (effects only; it never expires keys itself), answers reads after
//   READONLY, redirects the rest to the primary (-MOVED), and, once it has
//   applied the whole log, asks the log for the lease (tryTakeLease at its
//   tip) whenever the current one may have lapsed.
// primary: executes commands in memory; each event-loop turn's effects are
//   one batch appended conditionally (expectedSeq, leaseId); a reply waits
//   until the log has committed everything it depends on (tracker.ts). It
//   renews its lease well within the lease time, counts the lease from when
//   it *sent* the request minus a drift margin, and serves nothing once that
//   local deadline has passed without a renewal. An append or renewal the log
//   refuses means another node holds the lease: it fails its held replies,
//   drops its clients and its in-memory state, and starts over as a replica.
import { performance } from "node:perf_hooks";
import { Engine } from "../engine/engine";
import { err } from "../resp/reply";
import { LogClient, type LogNodeClientAddress } from "../log/client";
import { Appender, type AppendFailure } from "./appender";
import type { Connection } from "./connection";
import { encodeAnnounce, encodeChecksum, encodeEffects, RecordReader, type Announce } from "./record";
import { Server, type DurableGate } from "./server";
import { Tracker } from "./tracker";
import { AckBoard, AckSender } from "./acks";
import { clusterCommands, clusterRedirect } from "./cluster-commands";
import { nodeIdFor, type ClusterNode, type ClusterTopology } from "./topology";
import { shardCommands, shardInfoFields } from "./shard-commands";
import { F_WRITE } from "../engine/command";
import type { Reply } from "../resp/reply";
import { FsStore, listSnapshots } from "../snapshot/store";
import { readSnapshot } from "../snapshot/format";
import {
  CAMPAIGN_BEHIND_RETRY_MS,
  CAMPAIGN_JITTER_MS,
  CAMPAIGN_NO_ANSWER_RETRY_MS,
  CAMPAIGN_NOT_CAUGHT_UP_MS,
  campaignRetryMs,
  driftMarginMs,
  firstLeaseHeadStartMs,
  isRestarted,
  leaseDeadlineMs,
  renewedDeadlineMs,
  renewPeriodMs,
  RENEWS_IN_FLIGHT_MAX,
  restartHoldBackMs,
} from "./lease-rules";

export interface ServerAddress {
  readonly host: string;
  readonly port: number;
}

export interface ShardNodeOptions {
  readonly shard: number;
  readonly host: string;
  readonly port: number;
  /** Every server of the shard (this one included), as clients reach them. */
  readonly servers: readonly ServerAddress[];
  readonly logNodes: readonly LogNodeClientAddress[];
  readonly secret: string;
  readonly leaseMs: number;
  /** CONFIG parameters given on the command line. */
  readonly config: readonly (readonly [string, string])[];
  readonly log: (line: string) => void;
  readonly onShutdown?: () => void;
  /** Directory of the snapshot store: a (re)starting node restores from its newest valid snapshot. */
  readonly snapshotDir?: string;
}

/** Records read per request while replaying or tailing. */
const READ_COUNT_MAX = 1024;
const READ_BYTES_MAX = 4 * 1024 * 1024;
/** Poll interval once a replica has applied the whole log. */
const CAUGHT_UP_POLL_MS = 5;
const LOG_RETRY_MS = 100;
/** Consecutive restarts from a snapshot before a node whose log is trimmed halts. */
const RESYNCS_MAX = 3;
/** A replica whose last ack is older than this shows as disconnected. */
const ACK_STALE_MS = 3000;
/** Commands that read the dataset without naming keys: refused by a primary past its lease. */
const KEYLESS_DATA_COMMANDS = new Set(["dbsize", "keys", "scan", "randomkey", "exec", "debug", "wait", "sort", "sort_ro"]);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const nowMs = (): number => performance.now();

interface Lease {
  readonly leaseId: number;
  readonly epoch: number;
  /** performance.now() after which this node may serve nothing. */
  deadlineMs: number;
}

export class ShardNode implements DurableGate, ClusterTopology {
  readonly nodeId: string;
  role: "replica" | "primary" | "stopping" = "replica";
  engine!: Engine;
  server!: Server;
  /** Highest seq applied to the engine (a primary: committed). */
  appliedSeq = 0;
  /** The log's tip as last seen. */
  tipSeen = 0;
  caughtUp = false;
  /** The current primary, as the log announced it. */
  primary: Announce | null = null;
  halted: string | null = null;
  /** SAVE/BGSAVE asked the snapshotter for a snapshot that is not published yet. */
  snapshotRequested = false;
  lastLogContactMs = 0;
  private readonly appendClient: LogClient;
  private readonly controlClient: LogClient;
  private readonly readClient: LogClient;
  /** Replicas' acks (primary) and the ack connection to the primary (replica). */
  acks = new AckBoard();
  private ackSender: AckSender | null = null;
  private tail: { close(): void } | null = null;
  private incarnation = 0;
  reader = new RecordReader();
  private lease: Lease | null = null;
  private tracker: Tracker | null = null;
  private appender: Appender | null = null;
  private readonly holdingConns = new Set<Connection>();
  private sealScheduled = false;
  private electionTimer: NodeJS.Timeout | null = null;
  private renewTimer: NodeJS.Timeout | null = null;
  private renewsInFlight = 0;
  /** Restarts from a snapshot since this node last caught up (see resync). */
  private resyncs = 0;
  private startedAtMs = 0;
  private caughtUpAtMs = 0;
  /** A restarted node waits once before its first campaign (see restarted()). */
  private heldBack = false;
  readonly driftMarginMs: number;

  constructor(readonly o: ShardNodeOptions) {
    this.nodeId = nodeIdFor(`shard-${o.shard}/${o.host}:${o.port}`);
    this.appendClient = new LogClient(o.logNodes, o.secret, { requestTimeoutMs: Math.max(2000, o.leaseMs * 2) });
    this.controlClient = new LogClient(o.logNodes, o.secret, { requestTimeoutMs: Math.max(1000, o.leaseMs) });
    this.readClient = new LogClient(o.logNodes, o.secret, { requestTimeoutMs: 5000 });
    this.driftMarginMs = driftMarginMs(o.leaseMs);
  }

  /** Listens and starts as a replica. */
  async start(): Promise<void> {
    await this.startIncarnation();
  }

  private async startIncarnation(): Promise<void> {
    const inc = ++this.incarnation;
    this.startedAtMs = nowMs();
    this.heldBack = false;
    const restored = await this.restore();
    if (inc !== this.incarnation) return;
    const engine = restored?.engine ?? this.newEngine();
    const server = new Server({ port: this.o.port, host: this.o.host, engine, log: this.o.log, ...(this.o.onShutdown !== undefined ? { onShutdown: this.o.onShutdown } : {}) });
    server.gate = this;
    engine.register(shardCommands(this));
    engine.register(clusterCommands(this));
    for (const [section, fields] of shardInfoFields(this)) engine.stats.addInfo(section, fields);
    engine.keyListeners.push((db, key) => this.tracker?.keyWritten(db, key));
    engine.onFirstEffect = () => this.scheduleSeal();
    this.engine = engine;
    this.server = server;
    this.role = "replica";
    this.appliedSeq = restored?.seq ?? 0;
    this.caughtUp = false;
    this.caughtUpAtMs = 0;
    this.reader = new RecordReader(restored?.logChecksum);
    this.primary = null;
    this.acks = new AckBoard();
    this.ackSender?.close();
    this.ackSender = new AckSender(this.nodeId, () => this.appliedSeq);
    if (restored !== null) void this.learnPrimary(inc);
    await listenWithRetry(server);
    void this.follow(inc);
    this.scheduleElection(inc, 0);
  }

  /** A replica-mode engine with this server's configuration. */
  private newEngine(): Engine {
    const engine = new Engine({ role: "replica", recordEffects: false });
    for (const [name, value] of this.o.config) engine.config.set(name, value);
    return engine;
  }

  /**
   * Loads the newest snapshot that validates (an invalid one is logged and
   * the next older one tried); null without a store or a usable snapshot.
   * Snapshots are taken at batch boundaries, so the log continues at seq+1
   * with a fresh RecordReader.
   */
  private async restore(): Promise<{ engine: Engine; seq: number; logChecksum: Uint8Array } | null> {
    const dir = this.o.snapshotDir;
    if (dir === undefined) return null;
    let store: FsStore;
    let snaps: { name: string; seq: number }[];
    try {
      store = await new FsStore(dir).open();
      snaps = await listSnapshots(store);
    } catch (e) {
      this.o.log(`snapshot store ${dir} is unusable (${e instanceof Error ? e.message : String(e)}); replaying the log from seq 1`);
      return null;
    }
    for (const s of snaps) {
      const t0 = nowMs();
      try {
        const loaded = await readSnapshot(store.get(s.name), { newEngine: () => this.newEngine() });
        this.o.log(`restored ${loaded.keys} keys from ${s.name} (seq ${loaded.header.seq}) in ${Math.round(nowMs() - t0)} ms; continuing the log from seq ${loaded.header.seq + 1}`);
        return { engine: loaded.engine, seq: loaded.header.seq, logChecksum: loaded.header.logChecksum };
      } catch (e) {
        this.o.log(`snapshot ${s.name} is not usable (${e instanceof Error ? e.message : String(e)}); trying an older one`);
      }
    }
    return null;
  }

  /**
   * A node restored from a snapshot may start past the primary's ANNOUNCE:
   * it learns the primary from the log's lease holder until the next one.
   */
  private async learnPrimary(inc: number): Promise<void> {
    let info;
    try {
      info = await this.controlClient.shardInfo(this.o.shard);
    } catch {
      return;
    }
    const lease = info.lease;
    if (lease === null || inc !== this.incarnation || this.primary !== null) return;
    const s = this.o.servers.find((x) => nodeIdFor(`shard-${this.o.shard}/${x.host}:${x.port}`) === lease.holder);
    if (s === undefined || lease.holder === this.nodeId) return;
    this.primary = { nodeId: lease.holder, host: s.host, port: s.port, epoch: lease.epoch };
    this.ackSender?.setPrimary(s.host, s.port);
  }

  /** Stops serving and closes the log clients. */
  async stop(): Promise<void> {
    this.role = "stopping";
    this.incarnation++;
    this.stopTimers();
    this.appender?.stop();
    this.ackSender?.close();
    this.tail?.close();
    await this.server.close();
    await Promise.all([this.appendClient.close(), this.controlClient.close(), this.readClient.close()]);
  }

  // ------------------------------------------------------------ replica

  /**
   * Replays the log with reads until this node has caught up, then follows
   * it with a tail stream (pushed by any log node) until this incarnation
   * ends or becomes primary.
   */
  private async follow(inc: number): Promise<void> {
    while (this.isReplica(inc) && this.halted === null && !this.caughtUp) {
      let r;
      try {
        r = await this.readClient.read(this.o.shard, this.appliedSeq + 1, READ_COUNT_MAX, READ_BYTES_MAX);
      } catch {
        await sleep(LOG_RETRY_MS);
        continue;
      }
      // Became primary meanwhile: records past the tip are now our own.
      if (!this.isReplica(inc)) return;
      this.lastLogContactMs = nowMs();
      if (r.kind === "trimmed") {
        void this.resync(inc, r.trimPoint, `the log is trimmed to ${r.trimPoint} but this node needs seq ${this.appliedSeq + 1}`);
        return;
      }
      if (!this.applyBatch(r.firstSeq, r.records, r.tip)) return;
      if (r.records.length === 0 && !this.caughtUp) await sleep(CAUGHT_UP_POLL_MS);
    }
    if (!this.isReplica(inc) || this.halted !== null) return;
    this.tail = this.readClient.tail(this.o.shard, this.appliedSeq + 1, {
      onRecords: (firstSeq, records, tip) => {
        if (this.isReplica(inc) && this.halted === null) this.applyBatch(firstSeq, records, tip);
      },
      onTrimmed: (trimPoint) => {
        if (this.isReplica(inc)) void this.resync(inc, trimPoint, `the log is trimmed to ${trimPoint} past this node's position ${this.appliedSeq}`);
      },
      onError: (e) => {
        if (this.isReplica(inc)) this.halt(`following the log failed: ${e.message}`);
      },
    });
  }

  /**
   * The log no longer holds the records this replica needs: start a new
   * incarnation from the newest snapshot if one covers the trim point
   * (bounded, so a snapshot that fails to load cannot loop), else halt.
   */
  private async resync(inc: number, trimPoint: number, why: string): Promise<void> {
    if (!this.isReplica(inc) || this.halted !== null) return;
    let newest: number | null = null;
    if (this.o.snapshotDir !== undefined && this.resyncs < RESYNCS_MAX) {
      try {
        newest = (await listSnapshots(await new FsStore(this.o.snapshotDir).open()))[0]?.seq ?? null;
      } catch {
        newest = null;
      }
    }
    if (!this.isReplica(inc)) return;
    if (newest === null || newest + 1 < trimPoint || newest <= this.appliedSeq) {
      const hint = this.o.snapshotDir === undefined ? "no snapshot store is configured (--snapshot-dir)" : "no usable snapshot covers it";
      this.halt(`${why} (${hint})`);
      return;
    }
    this.resyncs++;
    this.o.log(`${why}: restarting from the newest snapshot (seq ${newest})`);
    this.incarnation++;
    this.stopTimers();
    this.tail?.close();
    this.tail = null;
    await this.server.close();
    if ((this.role as ShardNode["role"]) === "stopping") return;
    await this.startIncarnation();
  }

  /** Applies records firstSeq.. in order; false if this node halted. */
  private applyBatch(firstSeq: number, records: readonly Buffer[], tip: number): boolean {
    this.lastLogContactMs = nowMs();
    this.tipSeen = Math.max(this.tipSeen, tip);
    if (records.length > 0 && firstSeq !== this.appliedSeq + 1) {
      this.halt(`the log sent records from ${firstSeq} to a node at ${this.appliedSeq}`);
      return false;
    }
    for (const rec of records) if (!this.applyRecord(rec)) return false;
    if (records.length > 0) this.ackSender?.applied();
    this.caughtUp = this.appliedSeq >= tip;
    if (this.caughtUp && this.caughtUpAtMs === 0) this.caughtUpAtMs = nowMs();
    if (this.caughtUp) this.resyncs = 0;
    return true;
  }

  private isReplica(inc: number): boolean {
    return inc === this.incarnation && this.role === "replica";
  }

  private applyRecord(rec: Buffer): boolean {
    const d = this.reader.push(rec);
    this.appliedSeq++;
    if (d === null) return true;
    if (!d.ok) {
      this.halt(`record ${this.appliedSeq}: ${d.error}`);
      return false;
    }
    const r = d.record;
    if (r.kind === "checksum") return true;
    if (r.kind === "announce") {
      this.primary = r;
      if (r.nodeId !== this.nodeId) this.ackSender?.setPrimary(r.host, r.port);
      this.o.log(`seq ${this.appliedSeq}: ${r.host}:${r.port} is the primary (epoch ${r.epoch})`);
      return true;
    }
    try {
      this.engine.apply(r.effects);
    } catch (e) {
      this.halt(`record ${this.appliedSeq} does not apply: ${e instanceof Error ? e.message : String(e)}`);
      return false;
    }
    return true;
  }

  private halt(why: string): void {
    if (this.halted !== null) return;
    this.halted = why;
    this.tail?.close();
    this.tail = null;
    this.o.log(`HALTED: ${why}`);
  }

  private scheduleElection(inc: number, delayMs: number): void {
    if (this.electionTimer !== null) clearTimeout(this.electionTimer);
    this.electionTimer = setTimeout(() => void this.campaign(inc), delayMs);
  }

  /** Asks for the lease when this replica has applied the whole log; the log decides. */
  private async campaign(inc: number): Promise<void> {
    this.electionTimer = null;
    if (!this.isReplica(inc) || this.halted !== null) return;
    if (!this.caughtUp) return this.scheduleElection(inc, CAMPAIGN_NOT_CAUGHT_UP_MS);
    const expectedSeq = this.appliedSeq;
    // On a fresh shard the first listed server wins the first lease (so the
    // primary is where the docs say): the others give it a head start.
    const rank = Math.max(0, this.o.servers.findIndex((x) => x.host === this.o.host && x.port === this.o.port));
    const headStartMs = firstLeaseHeadStartMs(expectedSeq, rank, this.o.leaseMs, nowMs() - this.caughtUpAtMs);
    if (headStartMs > 0) return this.scheduleElection(inc, headStartMs);
    if (!this.heldBack && this.restarted()) {
      this.heldBack = true;
      return this.scheduleElection(inc, restartHoldBackMs(this.o.leaseMs));
    }
    const sentAt = nowMs();
    let r;
    try {
      r = await this.controlClient.tryTakeLease(this.o.shard, this.nodeId, expectedSeq, this.o.leaseMs);
    } catch {
      return this.scheduleElection(inc, CAMPAIGN_NO_ANSWER_RETRY_MS);
    }
    if (!this.isReplica(inc)) return;
    this.lastLogContactMs = nowMs();
    if (process.env.MNEMO_DEBUG_LEASE === "1") this.o.log(`tryTakeLease at ${expectedSeq}: ${JSON.stringify(r)}`);
    switch (r.kind) {
      case "granted":
        return this.becomePrimary(r.leaseId, r.epoch, sentAt, expectedSeq);
      case "conflict":
        if (r.reason === "lease-live") {
          // A node that just (re)started lets the replicas that were already
          // running take over first: its own restart is what a failover is for.
          const jitterMs = Math.floor(Math.random() * CAMPAIGN_JITTER_MS);
          return this.scheduleElection(inc, campaignRetryMs(r.remainingMs, this.o.leaseMs, this.restarted(), jitterMs));
        }
        if (r.reason === "behind") return this.scheduleElection(inc, CAMPAIGN_BEHIND_RETRY_MS);
        this.halt("the log refuses a new shard (shard limit reached)");
        return;
    }
  }

  /**
   * Still replaying the log, or caught up but no primary known yet (a fresh
   * cluster's first election): answer -LOADING, as Redis does while it loads.
   */
  loading(): boolean {
    if (this.role === "primary") return false;
    if (!this.caughtUp) return true;
    return this.primary === null && nowMs() - this.caughtUpAtMs < 2 * this.o.leaseMs;
  }

  /** This node joined a shard that already has history, moments ago. */
  private restarted(): boolean {
    return isRestarted(this.appliedSeq, nowMs() - this.startedAtMs, this.o.leaseMs);
  }

  // ------------------------------------------------------------ primary

  private becomePrimary(leaseId: number, epoch: number, sentAt: number, tipSeq: number): void {
    const inc = this.incarnation;
    this.role = "primary";
    this.tail?.close();
    this.tail = null;
    this.ackSender?.close();
    this.ackSender = null;
    this.lease = { leaseId, epoch, deadlineMs: leaseDeadlineMs(sentAt, this.o.leaseMs, this.driftMarginMs) };
    const engine = this.engine;
    engine.takeEffects();
    engine.role = "primary";
    engine.recordEffects = true;
    this.tracker = new Tracker(engine, tipSeq);
    const client = this.appendClient;
    const shard = this.o.shard;
    this.appender = new Appender({
      send: (records, expectedSeq, id, done) =>
        void client.append(shard, records, { expectedSeq, leaseId: id }).then(
          (r) => done(r, ""),
          (e: unknown) => done(null, e instanceof Error ? e.message : String(e)),
        ),
      later: (ms, fn) => void setTimeout(fn, ms),
      leaseId,
      tipSeq,
      // Retrying an append is always safe (it is conditional), and a lost lease
      // shows up as a definite refusal; only a log silent for this long ends it.
      giveUpMs: Math.max(30_000, this.o.leaseMs * 10),
      nowMs,
      onCommitted: (seq) => this.committed(seq),
      onFailure: (f) => void this.stepDown(inc, f),
      onCapacity: () => {
        if (this.engine.effectsPending > 0) this.seal();
      },
    });
    const me: Announce = { nodeId: this.nodeId, host: this.o.host, port: this.o.port, epoch };
    this.tracker.sealed(this.submit([encodeAnnounce(me)]));
    this.primary = me;
    this.renewTimer = setInterval(() => void this.renew(inc), renewPeriodMs(this.o.leaseMs));
    this.o.log(`took the lease (epoch ${epoch}) at seq ${tipSeq}: this node is the primary`);
  }

  /** The seq a WAIT issued now waits for: everything written so far. */
  writeOffset(): number {
    const t = this.tracker;
    if (t === null) return this.appliedSeq;
    return t.openHasEffects ? t.openSeq : t.sealedSeq;
  }

  /** True while the lease certainly holds by this node's clock. */
  leaseValid(): boolean {
    return this.role === "primary" && this.lease !== null && nowMs() < this.lease.deadlineMs;
  }

  /**
   * One renewal; several may be out at once (one stuck on a dead log node must
   * not starve the others). Each success extends the lease from its own send time.
   */
  private async renew(inc: number): Promise<void> {
    const lease = this.lease;
    if (this.renewsInFlight >= RENEWS_IN_FLIGHT_MAX || lease === null || this.role !== "primary" || inc !== this.incarnation) return;
    this.renewsInFlight++;
    const sentAt = nowMs();
    let r;
    try {
      r = await this.controlClient.renewLease(this.o.shard, lease.leaseId);
    } catch {
      return;
    } finally {
      this.renewsInFlight--;
    }
    if (inc !== this.incarnation || this.role !== "primary" || this.lease !== lease) return;
    this.lastLogContactMs = nowMs();
    if (r.kind === "ok") lease.deadlineMs = renewedDeadlineMs(lease.deadlineMs, sentAt, this.o.leaseMs, this.driftMarginMs);
    else void this.stepDown(inc, { kind: "deposed", detail: `the log refused to renew lease ${lease.leaseId}` });
  }

  private scheduleSeal(): void {
    if (this.sealScheduled || this.role !== "primary") return;
    this.sealScheduled = true;
    setImmediate(() => {
      this.sealScheduled = false;
      this.seal();
    });
  }

  /** Hands this turn's effects to the log as one batch (or leaves them to grow while the pipeline is full). */
  private seal(): void {
    const appender = this.appender;
    const tracker = this.tracker;
    if (this.role !== "primary" || appender === null || tracker === null) return;
    if (this.engine.effectsPending === 0 || !appender.hasCapacity) return;
    const seq = this.submit(encodeEffects(this.engine.takeEffects()));
    tracker.sealed(seq);
  }

  /**
   * Hands records to the log in seq order, folding them into the running
   * checksum this node carried over from replaying the log, and writes a
   * CHECKSUM record first when one is due.
   */
  private submit(records: Buffer[]): number {
    const running = this.reader.running;
    const out = running.due ? [encodeChecksum(running.value()), ...records] : records;
    for (const r of out) {
      running.fold(r);
      if (out !== records && r === out[0]) running.restart();
    }
    return (this.appender as Appender).submit(out);
  }

  private committed(seq: number): void {
    this.appliedSeq = seq;
    this.tipSeen = Math.max(this.tipSeen, seq);
    this.lastLogContactMs = nowMs();
    this.tracker?.committed(seq);
    for (const c of this.holdingConns) if (c.release(seq)) this.holdingConns.delete(c);
  }

  private async stepDown(inc: number, f: AppendFailure): Promise<void> {
    if (inc !== this.incarnation || this.role !== "primary") return;
    this.o.log(`stepping down: ${f.detail}`);
    this.role = "replica";
    this.stopTimers();
    // A batch that was sent may have landed even when a later answer says the
    // lease is gone (an earlier attempt's answer was lost): only batches never
    // sent are certainly not applied.
    const maybeApplied = this.appender?.unsettledSends ?? false;
    this.appender?.stop();
    this.appender = null;
    this.tracker = null;
    this.lease = null;
    const message =
      f.kind === "deposed" && !maybeApplied
        ? "TRYAGAIN this node lost the primary lease; the command was not applied"
        : `ERR this node lost the primary lease; the log may or may not have applied this command (${f.kind === "deposed" ? "deposed" : "no answer"})`;
    for (const c of this.holdingConns) c.failHeld(message);
    this.holdingConns.clear();
    this.incarnation++;
    await this.server.close();
    if ((this.role as ShardNode["role"]) === "stopping") return;
    await this.startIncarnation();
  }

  private stopTimers(): void {
    if (this.electionTimer !== null) clearTimeout(this.electionTimer);
    if (this.renewTimer !== null) clearInterval(this.renewTimer);
    this.electionTimer = null;
    this.renewTimer = null;
  }

  // ------------------------------------------------------------ DurableGate

  admit(conn: Connection, argv: readonly string[]): Reply | null {
    // The hot path: a primary within its lease runs everything.
    if (this.role === "primary" && this.halted === null && this.leaseValid()) return null;
    const c = this.engine.table.lookup(argv[0] ?? "");
    if (c === undefined) return null;
    if (this.loading() && !c.spec.flags.includes("loading")) return err("LOADING Mnemo is loading the dataset in memory");
    const keys = c.keyIndexes(argv);
    const touchesData = keys.length > 0 || c.has(F_WRITE) || KEYLESS_DATA_COMMANDS.has(c.spec.name);
    if (!touchesData) return null;
    if (this.halted !== null) return err(`CLUSTERDOWN this node stopped applying the log: ${this.halted}`);
    if (this.role === "primary") {
      return this.leaseValid() ? null : err("CLUSTERDOWN the primary's lease is not confirmed; retry shortly");
    }
    const moved = clusterRedirect(this, this.engine, conn.session, argv);
    if (moved !== null) return moved;
    return c.has(F_WRITE) ? err("READONLY You can't write against a read only replica.") : null;
  }

  waitSeq(conn: Connection, argv: readonly string[] | null, wrote: boolean): number {
    const t = this.tracker;
    if (t === null) return 0;
    if (!wrote && t.latestPending() === 0) return 0;
    if (argv === null) return t.latestPending();
    let keys: string[] | null = null;
    if (!wrote) {
      const c = this.engine.table.lookup(argv[0] ?? "");
      const idx = c === undefined ? [] : c.keyIndexes(argv);
      if (idx.length > 0) keys = idx.map((i) => argv[i] ?? "");
    }
    return t.waitFor(conn.session.db, keys, wrote);
  }

  holding(conn: Connection): void {
    this.holdingConns.add(conn);
  }

  // ------------------------------------------------------------ ClusterTopology

  myId(): string {
    return this.nodeId;
  }

  nodes(): readonly ClusterNode[] {
    const p = this.primary;
    const primaryId = p?.nodeId ?? null;
    const out: ClusterNode[] = [];
    const seen = new Set<string>();
    const add = (host: string, port: number): void => {
      const id = nodeIdFor(`shard-${this.o.shard}/${host}:${port}`);
      if (seen.has(id)) return;
      seen.add(id);
      const isPrimary = id === primaryId;
      // A primary knows its replicas' progress from their acks; others assume the best.
      const ack = this.role === "primary" && !isPrimary ? this.acks.acks.get(id) : undefined;
      const linkUp = ack === undefined || Date.now() - ack.atMs < ACK_STALE_MS;
      const replOffset = ack?.seq ?? Math.max(1, this.appliedSeq);
      out.push({ id, host, port, role: isPrimary ? "primary" : "replica", primaryId: isPrimary ? null : primaryId, linkUp, replOffset });
    };
    if (p !== null) add(p.host, p.port);
    for (const s of this.o.servers) add(s.host, s.port);
    return out;
  }

  currentEpoch(): number {
    return this.lease?.epoch ?? this.primary?.epoch ?? 0;
  }

  shardName(): string {
    return `shard-${this.o.shard}`;
  }

  /** Facts for INFO, ROLE and `mnemo status`. */
  get pendingReplies(): number {
    let n = 0;
    for (const c of this.holdingConns) n += c.heldReplies;
    return n;
  }

  get leaseEpoch(): number {
    return this.lease?.epoch ?? 0;
  }

  get leaseRemainingMs(): number {
    return this.lease === null ? 0 : Math.max(0, Math.round(this.lease.deadlineMs - nowMs()));
  }
}

async function listenWithRetry(server: Server): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await server.listen();
      return;
    } catch (e) {
      // The previous incarnation's listener may still be closing.
      if (attempt >= 50 || (e as NodeJS.ErrnoException).code !== "EADDRINUSE") throw e;
      await sleep(100);
    }
  }
}
