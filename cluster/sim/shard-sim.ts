// One deterministic simulation of a durable shard (`mnemo sim --shard --seed
// N`): the log simulator's Raft group of real LogStateMachines (./sim.ts,
// ./log-app.ts) with its own faults, plus 2-3 simulated servers
// (./shard-server.ts: real Engine, record codec, tracker and lease rules), a
// snapshotter that publishes snapshots and trims the log
// (./shard-snapshotter.ts), and clients (./shard-clients.ts).
//
// Faults drawn per seed, on top of the log's: servers killed (state lost,
// restored from the newest snapshot plus the log) and restarted, servers
// paused past their lease (SIGSTOP) and resumed, partitions between a server
// (or the snapshotter) and some log nodes, the snapshotter killed, and every
// process's clock drifting within the rate the lease margin allows.
//
// Checkers, after every event: (b) at most one server believes it is primary
// and is before its local deadline; on every read served (d) no server serves
// after the log granted a newer lease; on every record applied (c) each
// replica's, the snapshotter's and each restored server's digest equals the
// digest of the committed log replayed to that seq, and each primary's digest
// when it sealed a batch equals it too; clients check reads against what was
// acknowledged before. After healing, a write must be acknowledged within
// the liveness bound; then (a) every acknowledged write is in the committed
// log exactly once and in the final state, and no refused write is in it.
import { driftMarginMs, maxDriftRate } from "../lease-rules";
import type { Engine } from "../../engine/engine";
import { assert } from "../../log/raft/assert";
import type { Entry } from "../../log/raft/types";
import { SafetyViolation } from "../../log/sim/checker";
import { LogApp } from "../../log/sim/log-app";
import type { SimNode } from "../../log/sim/node";
import { Prng } from "../../log/sim/prng";
import { PROBE_LIST, ShardClients, type ClientSettings } from "./shard-clients";
import { ShardReference, SimLogNet } from "./shard-log";
import { SimServer, type ServerWorld, type ShardBug } from "./shard-server";
import { SimSnapshotter, SnapshotStore } from "./shard-snapshotter";
import { runSimWith, type SimOptions, type SimResult } from "../../log/sim/sim";
import type { Workload, WorkloadHost } from "../../log/sim/workload";

/** A recurring fault: about every `everyMs`, lasting up to `lastsMsMax`. */
interface Every {
  readonly everyMs: number;
  readonly lastsMsMax: number;
}

export interface ShardSettings {
  readonly servers: number;
  readonly leaseMs: number;
  readonly driftRate: number;
  readonly client: ClientSettings;
  readonly snapshotEveryMs: number | null;
  readonly trimMargin: number;
  readonly kills: Every | null;
  readonly pauses: Every | null;
  readonly partitions: Every | null;
  readonly faultPhaseMs: number;
  readonly calmMs: number;
  readonly bug: ShardBug | null;
}

export function drawShardSettings(rng: Prng): ShardSettings {
  const leaseMs = rng.pick([100, 250, 500, 1000]);
  const rateMax = maxDriftRate(leaseMs, driftMarginMs(leaseMs));
  const every = (p: number, e: readonly number[], l: readonly number[]): Every | null => (rng.chance(p) ? { everyMs: rng.pick(e), lastsMsMax: rng.pick(l) } : null);
  return {
    servers: rng.pick([2, 3, 3]),
    leaseMs,
    driftRate: Math.min(rateMax, rng.pick([0, 0.001, 0.01, rateMax])),
    client: { clients: rng.range(2, 4), opsPerClient: rng.pick([40, 80, 150]), thinkMsMax: rng.pick([1, 10, 40]), timeoutMs: 3 * leaseMs + 500 },
    snapshotEveryMs: rng.pick([null, 200, 500, 1500]),
    trimMargin: rng.pick([0, 3, 20]),
    kills: every(0.7, [400, 1000, 2500], [20, 300, 1500]),
    pauses: every(0.5, [700, 2000], [0, 1, 2]),
    partitions: every(0.5, [500, 1500], [100, 800, 3000]),
    faultPhaseMs: rng.range(2000, 6000),
    calmMs: 200,
    bug: null,
  };
}

export function describeShardSettings(s: ShardSettings): string {
  const ev = (e: Every | null): string => (e === null ? "off" : `~${e.everyMs}ms/${e.lastsMsMax}`);
  const c = s.client;
  return [
    `servers ${s.servers} lease ${s.leaseMs}ms margin ${driftMarginMs(s.leaseMs)}ms drift<=${s.driftRate.toFixed(4)}`,
    `clients ${c.clients}x${c.opsPerClient} think<=${c.thinkMsMax}ms timeout ${c.timeoutMs}ms`,
    `snapshots ${s.snapshotEveryMs === null ? "off" : `~${s.snapshotEveryMs}ms`} trim margin ${s.trimMargin}`,
    `kills ${ev(s.kills)} pauses ${ev(s.pauses)} partitions ${ev(s.partitions)} faults ${s.faultPhaseMs}ms`,
    s.bug === null ? "" : `PLANTED BUG ${s.bug}`,
  ].join("; ");
}

export interface ShardStats {
  leases: number;
  stepDowns: number;
  restores: number;
  resyncs: number;
  kills: number;
  pauses: number;
  partitions: number;
  snapshots: number;
  trims: number;
  trimPoint: number;
  tip: number;
  opsSent: number;
  opsAcked: number;
  opsRefused: number;
  opsUnknown: number;
  readsChecked: number;
  servedReads: number;
  stepChecks: number;
  /** From the heal to the probe acknowledged and every server caught up. */
  settledAfterHealMs: number;
}

class ShardWorkload implements Workload<LogApp>, ServerWorld {
  private h: WorkloadHost<LogApp> | null = null;
  private rng: Prng | null = null;
  private net: SimLogNet | null = null;
  private reference: ShardReference | null = null;
  readonly store = new SnapshotStore(2);
  readonly servers: SimServer[] = [];
  private snapshotter: SimSnapshotter | null = null;
  private clients: ShardClients | null = null;
  private healed_ = false;
  private healedAtUs = 0;
  private settledAtUs = 0;
  private probeTarget: number | null = null;
  private raftApplied = 0;
  readonly names: string[];
  readonly counts = { kills: 0, pauses: 0, partitions: 0, servedReads: 0, stepChecks: 0 };

  constructor(readonly s: ShardSettings) {
    this.names = Array.from({ length: s.servers }, (_, i) => `srv${i + 1}`);
  }

  get host(): WorkloadHost<LogApp> {
    assert(this.h !== null, "workload not started");
    return this.h;
  }
  get log(): SimLogNet {
    assert(this.net !== null, "workload not started");
    return this.net;
  }
  get ref(): ShardReference {
    assert(this.reference !== null, "workload not started");
    return this.reference;
  }
  get settings(): { leaseMs: number; marginMs: number; driftRate: number; bug: ShardBug | null } {
    return { leaseMs: this.s.leaseMs, marginMs: driftMarginMs(this.s.leaseMs), driftRate: this.s.driftRate, bug: this.s.bug };
  }
  private get r(): Prng {
    assert(this.rng !== null, "workload not started");
    return this.rng;
  }

  start(host: WorkloadHost<LogApp>, startRng: Prng, rng: Prng): void {
    this.h = host;
    this.rng = rng;
    host.note(describeShardSettings(this.s));
    this.net = new SimLogNet(host, rng.fork(), this.s.driftRate);
    this.reference = new ShardReference(() => host.nowUs());
    for (let i = 0; i < this.s.servers; i++) this.servers.push(new SimServer(this.names[i] as string, i, this, rng.fork()));
    for (const s of this.servers) host.at(startRng.int(50_000), () => s.start());
    const every = this.s.snapshotEveryMs;
    if (every !== null) {
      const snap = new SimSnapshotter(host, this.log, this.ref, this.store, rng.fork(), { everyMs: every, trimMargin: this.s.trimMargin });
      this.snapshotter = snap;
      snap.start();
    }
    this.clients = new ShardClients(host, this.servers, rng.fork(), this.s.client);
    this.clients.start(startRng);
    this.recur(this.s.kills, () => this.kill());
    this.recur(this.s.pauses, () => this.pause());
    this.recur(this.s.partitions, () => this.partition());
  }

  applied(node: SimNode<LogApp>, e: Entry): void {
    this.raftApplied = Math.max(this.raftApplied, e.index);
    this.ref.applied(node, e);
    this.log.applied(node, e);
  }

  crashed(node: SimNode<LogApp>): void {
    this.log.crashed(node);
  }

  servedRead(s: SimServer): void {
    this.counts.servedReads++;
    const p = s.primary;
    assert(p !== null, "a read served by a replica");
    const newest = this.ref.grants[this.ref.grants.length - 1];
    if (newest !== undefined && newest.epoch > p.epoch) {
      throw new SafetyViolation(
        `deposed primary served: ${s.name} (epoch ${p.epoch}) served a read at ${this.host.nowUs()}us after the log granted epoch ${newest.epoch} to ${newest.holder} at ${newest.atUs}us`,
      );
    }
  }

  healed(): void {
    this.healed_ = true;
    this.healedAtUs = this.host.nowUs();
    this.log.healed = true;
    this.log.cuts.clear();
    for (const s of this.servers) s.pauseAfterLeaseRequestMs = null;
    for (const s of this.servers) if (!s.alive) s.start();
    if (this.snapshotter !== null && !this.snapshotter.alive) this.snapshotter.start();
    this.host.note("shard heal: every server up, no partitions");
    this.host.at(this.host.nowUs() + this.s.calmMs * 1000, () => this.clientsOrThrow().startProbe());
  }

  /** Called after every event: runs the per-step checker, and says when the run may end. */
  probeIndex(): number | null {
    this.checkOnePrimary();
    if (this.probeTarget === null && this.healed_ && this.settled()) {
      this.finalCheck();
      this.probeTarget = this.raftApplied;
      this.settledAtUs = this.host.nowUs();
      this.host.note(`shard settled at seq ${this.ref.tip}`);
    }
    return this.probeTarget;
  }

  /** Checker b: at most one server believes it is primary and is within its local deadline. */
  private checkOnePrimary(): void {
    this.counts.stepChecks++;
    let holder: SimServer | null = null;
    for (const s of this.servers) {
      if (!s.withinLease()) continue;
      if (holder !== null) {
        throw new SafetyViolation(
          `two primaries at ${this.host.nowUs()}us: ${holder.name} (epoch ${holder.primary?.epoch}) and ${s.name} (epoch ${s.primary?.epoch}) both within their lease`,
        );
      }
      holder = s;
    }
  }

  /** The probe write was acknowledged, no client waits, and every server has applied the whole log. */
  private settled(): boolean {
    const c = this.clientsOrThrow();
    if (c.probeAckedAtUs === null) return false;
    c.stopped = true;
    if (c.inflight > 0) return false;
    const primaries = this.servers.filter((s) => s.role === "primary");
    if (primaries.length !== 1) return false;
    const tip = this.ref.tip;
    // Effects recorded or sealed but not yet committed (an expiry's DEL) are not in the log yet.
    const p = primaries[0] as SimServer;
    if (p.engine.effectsPending > 0 || (p.primary !== null && p.primary.tracker.sealedSeq !== p.appliedSeq)) return false;
    return this.servers.every((s) => s.alive && s.appliedSeq === tip && (s.role === "primary" || s.caughtUp));
  }

  /** Checker a, at the end: acknowledged writes exactly once in the log and in the final state; refused ones nowhere. */
  private finalCheck(): void {
    const c = this.clientsOrThrow();
    const ref = this.ref;
    const finals = new Map<string, Set<string>>();
    const primary = this.servers.find((s) => s.role === "primary") as SimServer;
    for (const [value, a] of c.pushAcked) {
      const n = ref.pushed.get(value) ?? 0;
      if (n !== 1) throw new SafetyViolation(`acknowledged RPUSH ${a.key} ${value} is in the committed log ${n} times`);
      let list = finals.get(a.key);
      if (list === undefined) finals.set(a.key, (list = new Set(listOf(primary, a.key))));
      if (!list.has(value)) throw new SafetyViolation(`acknowledged RPUSH ${a.key} ${value} is missing from the final list on ${primary.name}`);
    }
    for (const [value, n] of ref.pushed) {
      if (n > 1) throw new SafetyViolation(`RPUSH value ${value} is in the committed log ${n} times`);
      if (c.pushRefused.has(value)) throw new SafetyViolation(`RPUSH ${value} was refused to its client, but is in the committed log`);
      if (!c.pushAttempted.has(value)) throw new SafetyViolation(`RPUSH ${value} is in the log, but no client sent it`);
    }
    for (const key of c.counters()) {
      const inLog = ref.incrs.get(key) ?? 0;
      const acked = c.incrAcked(key);
      const maybe = c.incrMaybe.get(key) ?? 0;
      if (inLog < acked || inLog > maybe) throw new SafetyViolation(`counter ${key}: ${inLog} INCRs in the log, ${acked} acknowledged, ${maybe} possibly executed`);
    }
    const digest = ref.digests.get(ref.tip);
    for (const s of this.servers) {
      if (s.engine.digest() !== digest) {
        throw new SafetyViolation(`${s.name} ends with digest ${s.engine.digest()}, the log replays to ${digest}: ${diffEngines(s.engine, ref.engine)}`);
      }
    }
    assert(listOf(primary, PROBE_LIST).length > 0, "the probe's write is not in the final state");
  }

  private clientsOrThrow(): ShardClients {
    assert(this.clients !== null, "workload not started");
    return this.clients;
  }

  // ---- faults ----------------------------------------------------------------

  private recur(e: Every | null, fire: () => void): void {
    if (e === null) return;
    const next = (): void => {
      if (this.healed_) return;
      fire();
      this.host.at(this.host.nowUs() + 1000 * (e.everyMs / 2 + this.r.int(e.everyMs + 1)), next);
    };
    this.host.at(1000 * (e.everyMs / 2 + this.r.int(e.everyMs + 1)), next);
  }

  /** Half the time the primary: that is where the interesting failures are. */
  private victim(): SimServer {
    const primary = this.servers.find((s) => s.alive && s.role === "primary");
    return primary !== undefined && this.r.chance(0.5) ? primary : this.r.pick(this.servers);
  }

  private kill(): void {
    const e = this.s.kills as Every;
    const snap = this.snapshotter;
    if (snap !== null && snap.alive && this.r.chance(0.15)) {
      snap.kill();
      this.host.note("kill snapshotter");
      this.host.at(this.host.nowUs() + 1000 * (1 + this.r.int(e.lastsMsMax)), () => (this.healed_ || snap.alive ? undefined : snap.start()));
      return;
    }
    const s = this.victim();
    if (!s.alive) return;
    s.kill();
    this.counts.kills++;
    this.host.note(`kill ${s.name}`);
    this.host.at(this.host.nowUs() + 1000 * (1 + this.r.int(e.lastsMsMax)), () => (this.healed_ || s.alive ? undefined : s.start()));
  }

  /** SIGSTOP: shorter than the lease, about one lease, or well past it. */
  private pause(): void {
    const s = this.victim();
    const lease = this.s.leaseMs;
    const ms = this.r.pick([1 + this.r.int(lease / 2), lease + this.r.int(lease), 2 * lease + this.r.int(2 * lease)]);
    this.counts.pauses++;
    if (this.r.chance(0.5)) {
      // A fault point: between sending a lease request and hearing its answer.
      s.pauseAfterLeaseRequestMs = ms;
      return;
    }
    s.pausedUntilUs = Math.max(s.pausedUntilUs, this.host.nowUs() + ms * 1000);
    this.host.note(`pause ${s.name} for ${ms}ms`);
  }

  private partition(): void {
    const e = this.s.partitions as Every;
    const callers = [...this.servers.map((s) => s.name), ...(this.snapshotter === null ? [] : [this.snapshotter.name])];
    const who = this.r.pick(callers);
    const nodes = this.host.nodes.map((_, i) => i).filter(() => this.r.chance(0.6));
    if (nodes.length === 0) nodes.push(this.r.int(this.host.nodes.length));
    const keys = nodes.map((n) => `${who}|${n}`);
    for (const k of keys) this.log.cuts.add(k);
    this.counts.partitions++;
    this.host.note(`cut ${who} from log nodes ${nodes.join(",")}`);
    this.host.at(this.host.nowUs() + 1000 * (1 + this.r.int(e.lastsMsMax)), () => {
      for (const k of keys) this.log.cuts.delete(k);
    });
  }

  stats(): ShardStats {
    const sum = (f: (s: SimServer) => number): number => this.servers.reduce((n, s) => n + f(s), 0);
    const c = this.clients?.stats;
    return {
      leases: sum((s) => s.stats.leases),
      stepDowns: sum((s) => s.stats.stepDowns),
      restores: sum((s) => s.stats.restores),
      resyncs: sum((s) => s.stats.resyncs),
      kills: this.counts.kills,
      pauses: this.counts.pauses,
      partitions: this.counts.partitions,
      snapshots: this.store.published,
      trims: this.snapshotter?.trims ?? 0,
      trimPoint: this.reference?.trimPoint ?? 1,
      tip: this.reference?.tip ?? 0,
      opsSent: c?.sent ?? 0,
      opsAcked: c?.acked ?? 0,
      opsRefused: c?.refused ?? 0,
      opsUnknown: c?.unknown ?? 0,
      readsChecked: c?.reads ?? 0,
      servedReads: this.counts.servedReads,
      stepChecks: this.counts.stepChecks,
      settledAfterHealMs: this.settledAtUs === 0 ? -1 : Math.round((this.settledAtUs - this.healedAtUs) / 1000),
    };
  }
}

/** Up to five keys whose value or expire time differ, for a person to read. */
function diffEngines(a: Engine, b: Engine): string {
  const out: string[] = [];
  for (const [i, da] of a.dbs.entries()) {
    const db = b.db(i);
    for (const key of new Set([...da.data.keys(), ...db.data.keys()])) {
      const va = describeKey(a, i, key);
      const vb = describeKey(b, i, key);
      if (va !== vb && out.length < 5) out.push(`db ${i} ${key}: ${va} vs ${vb}`);
    }
  }
  return out.length === 0 ? "no key differs" : out.join("; ");
}

function describeKey(e: Engine, db: number, key: string): string {
  const v = e.db(db).data.get(key);
  if (v === undefined) return "absent";
  const at = e.db(db).expires.get(key);
  return `${typeof v === "string" ? JSON.stringify(v) : v.kind}${at === undefined ? "" : ` expires ${at}`}`;
}

function listOf(s: SimServer, key: string): string[] {
  const r = s.engine.execute(["LRANGE", key, "0", "-1"]).reply;
  return r.kind === "bulks" ? r.values.filter((v): v is string => v !== null) : [];
}

export interface ShardSimOptions extends SimOptions {
  readonly settings?: Partial<ShardSettings>;
}

export interface ShardSimResult {
  readonly sim: SimResult;
  readonly settings: string;
  readonly shard: ShardStats;
}

/**
 * After the heal, a write must be acknowledged and every server caught up
 * within this: measured over 300 seeds, at most 3.2 leases + 0.2 s.
 */
export function livenessBoundMs(leaseMs: number): number {
  return 2000 + 6 * leaseMs;
}

export function shardReplayCommand(seed: number): string {
  return `mnemo sim --shard --seed ${seed}`;
}

export function runShardSim(seed: number, opts: ShardSimOptions = {}): ShardSimResult {
  // The shard's settings come from a stream of their own, so the log's plan for a seed stays as runSim draws it.
  const settings: ShardSettings = { ...drawShardSettings(new Prng(seed).fork().fork()), ...opts.settings };
  const workload = new ShardWorkload(settings);
  const simOpts: SimOptions = {
    livenessBoundMs: livenessBoundMs(settings.leaseMs),
    ...opts,
    plan: { faultPhaseMs: settings.faultPhaseMs, ...opts.plan },
  };
  const sim = runSimWith(seed, simOpts, workload, LogApp.decode, shardReplayCommand);
  return { sim, settings: describeShardSettings(settings), shard: workload.stats() };
}
