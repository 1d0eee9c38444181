// One deterministic simulation run: a Raft group of real RawNodes on a
// virtual clock, a faulty network, faulty disks and skewed clocks, with
// clients proposing throughout. Faults are drawn from the seed; after the
// fault phase everything heals and a new proposal must commit, and every node
// catch up, within a bound. Checkers run after every event. Same seed, same
// run: nothing here reads a real clock or Math.random. What the clients do and
// what the nodes apply are pluggable (./workload.ts, ReplicatedApp in
// ./node.ts); runSim is the Raft simulation (./proposals.ts on SimApp).
import { AssertionError, assert, assertNever } from "../raft/assert";
import { decodeMessage, encodeMessage } from "../raft/codec";
import type { Raft } from "../raft/raft";
import type { Entry, Message, NodeId } from "../raft/types";
import { fnv64, SimApp } from "./app";
import { Checker, SafetyViolation } from "./checker";
import { Agenda } from "./events";
import { CALM_NETWORK, SimNetwork, type Delivery } from "./network";
import { type AppDecoder, type NodeHost, type ReplicatedApp, SimNode } from "./node";
import { describePlan, drawPlan, type FaultPlan } from "./plan";
import { Prng } from "./prng";
import { ProposalWorkload } from "./proposals";
import type { Workload, WorkloadHost } from "./workload";

export interface SimOptions {
  /** Group size (default 3). */
  readonly nodes?: number;
  /** Replaces parts of the plan drawn from the seed. */
  readonly plan?: Partial<FaultPlan>;
  /** After healing, a new proposal must commit and every node apply it within this (default 20 s). */
  readonly livenessBoundMs?: number;
  /** Receives a line per notable event (role changes, faults), for replaying a failure. */
  readonly trace?: (line: string) => void;
}

export interface SimStats {
  events: number;
  virtualMs: number;
  maxTerm: number;
  leadersElected: number;
  proposals: number;
  acked: number;
  failedProposals: number;
  unknownOutcomes: number;
  committed: number;
  crashes: number;
  buggified: number;
  lostFrames: number;
  tornWrites: number;
  partitions: number;
  pauses: number;
  snapshotsSent: number;
  snapshotsInstalled: number;
  compactions: number;
  messagesSent: number;
  messagesDropped: number;
  messagesCut: number;
  messagesDuplicated: number;
  checks: number;
}

export interface SimResult {
  readonly seed: number;
  readonly ok: boolean;
  readonly failure: string | null;
  readonly replay: string;
  readonly plan: string;
  readonly stats: SimStats;
  /** A digest of the whole run: the same seed gives the same digest. */
  readonly digest: string;
}

type SimEvent<A extends ReplicatedApp> =
  | { readonly kind: "tick"; readonly node: SimNode<A> }
  | { readonly kind: "deliver"; readonly d: Delivery }
  | { readonly kind: "io"; readonly node: SimNode<A>; readonly done: () => void }
  | { readonly kind: "work"; readonly run: () => void }
  | { readonly kind: "crash"; readonly node?: SimNode<A> }
  | { readonly kind: "restart"; readonly node: SimNode<A> }
  | { readonly kind: "pause" }
  | { readonly kind: "partition" }
  | { readonly kind: "partition-end" }
  | { readonly kind: "heal" };

/** Limits that keep any run bounded. */
const EVENTS_MAX = 1_000_000;
const EVENTS_RUN_MAX = 20_000_000;
const LINK_INFLIGHT_MAX = 10_000;

class Sim<A extends ReplicatedApp> implements NodeHost<A>, WorkloadHost<A> {
  readonly checker = new Checker();
  private readonly agenda = new Agenda<SimEvent<A>>(EVENTS_MAX);
  readonly nodes: SimNode<A>[] = [];
  private readonly net: SimNetwork;
  private readonly faultRng: Prng;
  private readonly clientRng: Prng;
  private readonly ioRng: Prng;
  private healedAtUs: number | null = null;
  private done = false;
  private digest = "";
  private digestParts: string[] = [];
  private readonly raftsScratch: Raft[] = [];
  readonly stats: SimStats = {
    events: 0, virtualMs: 0, maxTerm: 0, leadersElected: 0, proposals: 0, acked: 0, failedProposals: 0,
    unknownOutcomes: 0, committed: 0, crashes: 0, buggified: 0, lostFrames: 0, tornWrites: 0, partitions: 0, pauses: 0,
    snapshotsSent: 0, snapshotsInstalled: 0, compactions: 0, messagesSent: 0, messagesDropped: 0,
    messagesCut: 0, messagesDuplicated: 0, checks: 0,
  };

  constructor(
    readonly plan: FaultPlan,
    rng: Prng,
    private readonly livenessBoundUs: number,
    private readonly trace: ((line: string) => void) | undefined,
    private readonly workload: Workload<A>,
    decodeApp: AppDecoder<A>,
  ) {
    this.net = new SimNetwork(rng.fork(), plan.network, LINK_INFLIGHT_MAX);
    this.faultRng = rng.fork();
    this.clientRng = rng.fork();
    this.ioRng = rng.fork();
    const ids = Array.from({ length: plan.nodes }, (_, i) => `n${i + 1}`);
    const settings = { raft: { ...plan.raft, peers: ids }, compactEvery: plan.compactEvery, compactKeep: plan.compactKeep };
    for (let i = 0; i < ids.length; i++) {
      const drift = (rng.float() * 2 - 1) * plan.driftMax;
      const tickUs = Math.max(1, Math.round(plan.tickUs * (1 + drift)));
      this.nodes.push(new SimNode<A>(ids[i] as NodeId, i, tickUs, rng.fork(), settings, this, decodeApp));
    }
  }

  run(): void {
    for (const n of this.nodes) {
      n.start();
      this.agenda.schedule(this.faultRng.int(n.tickUs), { kind: "tick", node: n });
    }
    this.workload.start(this, this.faultRng, this.clientRng);
    const p = this.plan;
    if (p.crashes !== null) this.scheduleRecurring(p.crashes.everyMs, { kind: "crash" });
    if (p.partitions !== null) this.scheduleRecurring(p.partitions.everyMs, { kind: "partition" });
    if (p.pauses !== null) this.scheduleRecurring(p.pauses.everyMs, { kind: "pause" });
    this.agenda.schedule(p.faultPhaseMs * 1000, { kind: "heal" });
    while (!this.done) {
      const ev = this.agenda.pop();
      assert(ev !== null, "the agenda ran dry");
      this.stats.events++;
      if (!(this.stats.events <= EVENTS_RUN_MAX)) throw new AssertionError(`run exceeded ${EVENTS_RUN_MAX} events`);
      this.handle(ev);
      this.afterStep();
    }
  }

  result(): SimStats {
    const s = this.stats;
    s.virtualMs = Math.round(this.agenda.nowUs / 1000);
    s.checks = this.checker.checks;
    const ns = this.net.stats;
    s.messagesSent = ns.sent;
    s.messagesDropped = ns.dropped;
    s.messagesCut = ns.cut;
    s.messagesDuplicated = ns.duplicated;
    s.compactions = this.nodes.reduce((n, x) => n + x.stats.compactions, 0);
    s.snapshotsInstalled = this.nodes.reduce((n, x) => n + x.stats.snapshotsInstalled, 0);
    s.committed = Math.max(0, ...this.nodes.map((n) => n.run?.rn.raft.log.committed ?? 0));
    return s;
  }

  runDigest(): string {
    this.flushDigest();
    return fnv64([this.digest, JSON.stringify(this.result())]);
  }

  // ---- WorkloadHost ----------------------------------------------------------

  nowUs(): number {
    return this.agenda.nowUs;
  }

  at(atUs: number, fn: () => void): void {
    this.agenda.schedule(atUs, { kind: "work", run: fn });
  }

  // ---- NodeHost --------------------------------------------------------------

  scheduleIo(node: SimNode<A>, sync: boolean, done: () => void): void {
    const p = this.plan;
    const us = sync ? p.fsyncUsMin + this.ioRng.int(p.fsyncUsMax - p.fsyncUsMin + 1) : 5 + this.ioRng.int(20);
    this.agenda.schedule(this.agenda.nowUs + us, { kind: "io", node, done });
  }

  send(m: Message): void {
    if (m.kind === "snap") this.stats.snapshotsSent++;
    const from = m.from;
    const to = m.to;
    for (const d of this.net.send(this.agenda.nowUs, from, to, encodeMessage(m))) this.agenda.schedule(d.atUs, { kind: "deliver", d });
  }

  applied(node: SimNode<A>, e: Entry): void {
    this.workload.applied(node, e);
  }

  // ---- events ----------------------------------------------------------------

  private handle(ev: SimEvent<A>): void {
    switch (ev.kind) {
      case "tick":
        return this.onTick(ev.node);
      case "deliver":
        return this.onDeliver(ev.d);
      case "io":
        if (this.deferIfPaused(ev.node, ev)) return;
        ev.done();
        return;
      case "work":
        return ev.run();
      case "crash":
        return ev.node === undefined ? this.onCrash() : this.crashNode(ev.node, this.plan.buggify?.downMsMax ?? 100);
      case "restart":
        if (ev.node.run === null) this.restart(ev.node);
        return;
      case "pause":
        return this.onPause();
      case "partition":
        return this.onPartition();
      case "partition-end":
        if (this.healedAtUs === null) this.net.healAll();
        this.note("partition healed");
        return;
      case "heal":
        return this.onHeal();
      default:
        assertNever(ev, "event");
    }
  }

  private deferIfPaused(node: SimNode<A>, ev: SimEvent<A>): boolean {
    if (node.pausedUntilUs <= this.agenda.nowUs) return false;
    this.agenda.schedule(node.pausedUntilUs, ev);
    return true;
  }

  private onTick(node: SimNode<A>): void {
    const now = this.agenda.nowUs;
    if (node.pausedUntilUs > now) {
      // A stopped process does not tick; it resumes on its own schedule afterwards.
      this.agenda.schedule(node.pausedUntilUs + node.tickUs, { kind: "tick", node });
      return;
    }
    this.agenda.schedule(now + node.tickUs, { kind: "tick", node });
    const run = node.run;
    if (run === null) return;
    run.rn.tick();
    node.pump();
  }

  private onDeliver(d: Delivery): void {
    const node = this.nodeById(d.to);
    // A stopped process reads its socket when it resumes; the message is still on its way.
    if (node.run !== null && this.deferIfPaused(node, { kind: "deliver", d })) return;
    if (!this.net.arrive(d)) return;
    if (node.run === null) return;
    const m = decodeMessage(d.bytes);
    if (!(m.ok)) throw new AssertionError(`a message did not decode: ${m.ok ? "" : m.error}`);
    node.run.rn.step(m.value);
    node.pump();
  }

  private onCrash(): void {
    const p = this.plan.crashes;
    if (this.healedAtUs !== null || p === null) return;
    this.scheduleRecurring(p.everyMs, { kind: "crash" });
    const up = this.nodes.filter((n) => n.run !== null);
    if (up.length === 0) return;
    // Half the time, the leader: that is where the interesting failures are.
    const leaders = up.filter((n) => n.run?.rn.raft.role.kind === "leader");
    const node = leaders.length > 0 && this.faultRng.chance(0.5) ? this.faultRng.pick(leaders) : this.faultRng.pick(up);
    this.crashNode(node, p.lastsMsMax);
  }

  private crashNode(node: SimNode<A>, downMsMax: number): void {
    if (this.healedAtUs !== null || node.run === null) return;
    this.workload.crashed(node);
    const report = node.crash(this.faultRng);
    this.stats.crashes++;
    this.stats.lostFrames += report.lostFrames;
    if (report.torn) this.stats.tornWrites++;
    this.note(`crash ${node.id} (lost ${report.lostFrames} unsynced frames${report.torn ? ", torn" : ""})`);
    const downUs = 1000 * (1 + this.faultRng.int(downMsMax));
    this.agenda.schedule(this.agenda.nowUs + downUs, { kind: "restart", node });
  }

  /**
   * A fault point fired: with probability p, crash `node` within the next two
   * milliseconds or (when `isolate`) cut it off at once for a while, so that
   * what it just wrote stays on it alone.
   */
  private buggify(node: SimNode<A>, p: number, isolate = false): void {
    if (this.healedAtUs !== null || !this.faultRng.chance(p)) return;
    this.stats.buggified++;
    const atUs = this.agenda.nowUs + this.faultRng.int(2000);
    if (!isolate || this.faultRng.chance(0.5)) {
      this.agenda.schedule(atUs, { kind: "crash", node });
      return;
    }
    this.net.healAll();
    for (const other of this.nodes) {
      if (other === node) continue;
      this.net.block(node.id, other.id);
      this.net.block(other.id, node.id);
    }
    this.note(`isolate ${node.id}`);
    const lastsUs = 1000 * (1 + this.faultRng.int(this.plan.buggify?.downMsMax ?? 100));
    this.agenda.schedule(this.agenda.nowUs + lastsUs, { kind: "partition-end" });
  }

  votedFor(node: SimNode<A>): void {
    this.buggify(node, this.plan.buggify?.afterVoteP ?? 0);
  }

  private restart(node: SimNode<A>): void {
    node.start();
    this.note(`restart ${node.id}`);
    node.pump();
  }

  private onPause(): void {
    const p = this.plan.pauses;
    if (this.healedAtUs !== null || p === null) return;
    this.scheduleRecurring(p.everyMs, { kind: "pause" });
    const node = this.faultRng.pick(this.nodes);
    node.pausedUntilUs = Math.max(node.pausedUntilUs, this.agenda.nowUs + 1000 * (1 + this.faultRng.int(p.lastsMsMax)));
    this.stats.pauses++;
    this.note(`pause ${node.id} until ${node.pausedUntilUs}us`);
  }

  private onPartition(): void {
    const p = this.plan.partitions;
    if (this.healedAtUs !== null || p === null) return;
    this.net.healAll();
    const ids = this.nodes.map((n) => n.id);
    const victim = this.faultRng.pick(ids);
    const shape = this.faultRng.int(3); // 0: both ways, 1: victim cannot send, 2: victim cannot hear
    for (const other of ids) {
      if (other === victim) continue;
      if (shape !== 2) this.net.block(victim, other);
      if (shape !== 1) this.net.block(other, victim);
    }
    if (ids.length > 3 && this.faultRng.chance(0.5)) {
      // A second island: split the rest too.
      const b = this.faultRng.pick(ids.filter((x) => x !== victim));
      for (const o of ids) if (o !== b && o !== victim) (this.net.block(b, o), this.net.block(o, b));
    }
    this.stats.partitions++;
    this.note(`partition ${this.net.describeCuts()}`);
    const lastsUs = 1000 * (1 + this.faultRng.int(p.lastsMsMax));
    this.agenda.schedule(this.agenda.nowUs + lastsUs, { kind: "partition-end" });
    this.scheduleRecurring(p.everyMs + p.lastsMsMax, { kind: "partition" });
  }

  private onHeal(): void {
    const now = this.agenda.nowUs;
    this.healedAtUs = now;
    this.net.healAll();
    this.net.faults = { ...CALM_NETWORK };
    for (const n of this.nodes) {
      n.pausedUntilUs = Math.min(n.pausedUntilUs, now);
      if (n.run === null) this.restart(n);
    }
    this.note("heal: network calm, every node up");
    this.workload.healed();
  }

  private scheduleRecurring(everyMs: number, ev: SimEvent<A>): void {
    const us = 1000 * (everyMs / 2 + this.faultRng.int(everyMs + 1));
    this.agenda.schedule(this.agenda.nowUs + us, ev);
  }

  // ---- checks -------------------------------------------------------------------

  private afterStep(): void {
    const rafts = this.raftsScratch;
    rafts.length = 0;
    for (const n of this.nodes) {
      if (n.run === null) continue;
      const r = n.run.rn.raft;
      rafts.push(r);
      if (r.role.kind === "leader" && r.log.committed > n.seenCommit) this.buggify(n, this.plan.buggify?.afterCommitP ?? 0);
      n.seenCommit = r.log.committed;
      if (n.seenRole !== r.role.kind || n.seenTerm !== r.term) {
        n.seenRole = r.role.kind;
        n.seenTerm = r.term;
        this.stats.maxTerm = Math.max(this.stats.maxTerm, r.term);
        this.note(`${n.id} ${r.role.kind} term ${r.term}`);
        if (r.role.kind === "leader") {
          this.stats.leadersElected++;
          this.buggify(n, this.plan.buggify?.afterLeaderP ?? 0, true);
        }
      }
    }
    this.checker.afterStep(rafts);
    const probe = this.workload.probeIndex();
    if (this.healedAtUs === null || probe === null && this.agenda.nowUs - this.healedAtUs <= this.livenessBoundUs) return;
    const target = Math.max(probe ?? 0, this.checker.ackedIndexMax);
    if (probe !== null && this.nodes.every((n) => (n.run?.app.index ?? 0) >= target)) {
      this.finalCheck();
      this.done = true;
      return;
    }
    if (this.agenda.nowUs - this.healedAtUs > this.livenessBoundUs) {
      const where = this.nodes.map((n) => `${n.id}:${n.run?.rn.raft.role.kind}/applied ${n.run?.app.index}`).join(" ");
      throw new LivenessFailure(
        probe === null
          ? `liveness: no proposal committed within ${this.livenessBoundUs / 1000} ms of healing (${where})`
          : `liveness: nodes did not all apply ${target} within ${this.livenessBoundUs / 1000} ms of healing (${where})`,
      );
    }
  }

  /** No acknowledged proposal lost: every node has applied past every acknowledged entry, and holds it. */
  private finalCheck(): void {
    for (const [value, a] of this.checker.acked) {
      if (this.checker.appliedDigest(a.index) !== a.digest) throw new SafetyViolation(`acknowledged ${value} at ${a.index} is gone`);
    }
    for (const n of this.nodes) {
      const idx = n.run?.app.index ?? 0;
      if (idx < this.checker.ackedIndexMax) throw new SafetyViolation(`${n.id} applied only ${idx} < acknowledged ${this.checker.ackedIndexMax}`);
    }
  }

  note(line: string): void {
    const text = `${(this.agenda.nowUs / 1000).toFixed(3)}ms ${line}`;
    this.digestParts.push(text);
    if (this.digestParts.length >= 64) this.flushDigest();
    if (this.trace !== undefined) this.trace(text);
  }

  private flushDigest(): void {
    if (this.digestParts.length === 0) return;
    this.digest = fnv64([this.digest, this.digestParts.join("\n")]);
    this.digestParts = [];
  }

  private nodeById(id: NodeId): SimNode<A> {
    const n = this.nodes.find((x) => x.id === id);
    if (n === undefined) throw new AssertionError(`no node ${id}`);
    return n;
  }
}

class LivenessFailure extends Error {}

export function replayCommand(seed: number): string {
  return `mnemo sim --seed ${seed}`;
}

/** Runs one simulation; never throws for a failure of the system under test, returns it. */
export function runSim(seed: number, opts: SimOptions = {}): SimResult {
  return runSimWith(seed, opts, new ProposalWorkload(), SimApp.decode, replayCommand);
}

/** One simulation run with the given clients and application. */
export function runSimWith<A extends ReplicatedApp>(
  seed: number,
  opts: SimOptions,
  workload: Workload<A>,
  decodeApp: AppDecoder<A>,
  replay: (seed: number) => string,
): SimResult {
  const rng = new Prng(seed);
  const plan: FaultPlan = { ...drawPlan(rng.fork(), opts.nodes ?? 3), ...opts.plan };
  const sim = new Sim<A>(plan, rng.fork(), (opts.livenessBoundMs ?? 20_000) * 1000, opts.trace, workload, decodeApp);
  let failure: string | null = null;
  try {
    sim.run();
  } catch (e) {
    if (e instanceof SafetyViolation) failure = `safety violation: ${e.message}`;
    else if (e instanceof LivenessFailure) failure = e.message;
    else if (e instanceof AssertionError) failure = `assertion failed: ${e.message}\n${e.stack ?? ""}`;
    else if (e instanceof Error) failure = `exception: ${e.message}\n${e.stack ?? ""}`;
    else throw e;
  }
  return {
    seed,
    ok: failure === null,
    failure,
    replay: replay(seed),
    plan: describePlan(plan),
    stats: sim.result(),
    digest: sim.runDigest(),
  };
}
