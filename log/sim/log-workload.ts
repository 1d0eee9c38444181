// The log-API workload: simulated log clients (would-be primaries of one or
// two shards) talk to the simulated log nodes the way log/client.ts talks to
// log/io/client-listener.ts. Proposals go to the node a client believes leads;
// a follower answers "not-leader" with a hint (the command was not proposed);
// the leader stamps the command with its own clock, proposes it, and answers
// with the state machine's reply when it applies the entry at the index and
// term it was given. Reads are served by whichever node is asked, from its
// applied state. Requests and replies cross a lossy, delaying network; a
// client that hears nothing within its timeout records the outcome as
// unknown. Every request and what its client saw is recorded for the
// linearizability checker (check/log-model.ts).
import { encodeEntry } from "../codec";
import { assert, assertNever } from "../raft/assert";
import type { Entry } from "../raft/types";
import { readThrough } from "../state/machine";
import type { Command, Reply, ShardId } from "../state/types";
import type { LogApp } from "./log-app";
import type { SimNode } from "./node";
import type { Prng } from "./prng";
import type { Workload, WorkloadHost } from "./workload";

/** A read as the log serves it. */
export type ReadReply =
  | { readonly kind: "records"; readonly firstSeq: number; readonly records: readonly Uint8Array[]; readonly tip: number }
  | { readonly kind: "trimmed"; readonly trimPoint: number; readonly tip: number };

export type LogRequest =
  | { readonly kind: "command"; readonly command: Command }
  | { readonly kind: "read"; readonly shard: ShardId; readonly fromSeq: number; readonly countMax: number };

export type LogReplySeen = { readonly kind: "command"; readonly reply: Reply } | { readonly kind: "read"; readonly result: ReadReply };

/** One request of one client, as the client saw it: reply null when it never learned the outcome. */
export interface LogEvent {
  readonly client: number;
  readonly request: LogRequest;
  readonly reply: LogReplySeen | null;
  readonly callAt: number;
  /** Infinity when the reply is null. */
  readonly returnAt: number;
}

export interface LogWorkloadSettings {
  readonly clients: number;
  readonly shards: readonly ShardId[];
  readonly leaseMs: number;
  /** Requests each client makes at most (bounds the history). */
  readonly requestsMax: number;
  readonly thinkMsMax: number;
  /** A client gives up on a request after this long without an answer. */
  readonly timeoutMs: number;
  /** After healing, clients go on this long before the liveness probe (a calm phase with progress). */
  readonly calmMs: number;
  readonly readP: number;
  readonly renewP: number;
  readonly trimP: number;
  /** Appends sent with a wrong expectedSeq on purpose. */
  readonly skewP: number;
}

export function describeLogSettings(s: LogWorkloadSettings): string {
  return `log clients ${s.clients}x${s.requestsMax} shards ${JSON.stringify(s.shards)} lease ${s.leaseMs}ms think<=${s.thinkMsMax}ms timeout ${s.timeoutMs}ms calm ${s.calmMs}ms read=${s.readP} renew=${s.renewP} trim=${s.trimP} skew=${s.skewP}`;
}

/** The probe's command: a trim of a shard nobody uses (it never creates the shard). */
const PROBE_SHARD = "probe";

interface ShardView {
  tip: number;
  leaseId: number | null;
  /** After a "lease-live" conflict, campaign again only after the time the log said the lease has left. */
  campaignAfterUs: number;
}

interface Inflight {
  /** Index in `recorded`, or -1 for the probe. */
  readonly event: number;
  readonly sentUs: number;
}

interface LogClient {
  readonly id: number;
  readonly nodeId: string;
  readonly probe: boolean;
  hint: number | null;
  requests: number;
  records: number;
  inflight: Inflight | null;
  readonly views: Map<ShardId, ShardView>;
}

interface Recorded {
  readonly client: number;
  readonly request: LogRequest;
  reply: LogReplySeen | null;
  readonly callAt: number;
  returnAt: number;
  /** Refused before it could take effect (not-leader, node down): not part of the history. */
  excluded: boolean;
}

/** Where a leader put a client's proposal. */
interface Proposed {
  readonly client: LogClient;
  readonly inflight: Inflight;
  readonly term: number;
}

type Answer = { readonly kind: "reply"; readonly reply: LogReplySeen } | { readonly kind: "refused"; readonly hint: number | null } | { readonly kind: "unknown" };

export function drawLogSettings(rng: Prng): LogWorkloadSettings {
  return {
    clients: rng.range(2, 5),
    shards: rng.pick<readonly ShardId[]>([[0], [0], [0, 1], [7, "s"]]),
    leaseMs: rng.pick([60, 250, 1000]),
    requestsMax: rng.pick([60, 120, 200]),
    thinkMsMax: rng.pick([2, 10, 40]),
    timeoutMs: rng.pick([100, 300, 1000]),
    calmMs: rng.pick([100, 400]),
    readP: rng.pick([0.1, 0.25]),
    renewP: rng.pick([0.05, 0.15]),
    trimP: rng.pick([0, 0.03]),
    skewP: rng.pick([0, 0.05, 0.15]),
  };
}

export class LogWorkload implements Workload<LogApp> {
  private host: WorkloadHost<LogApp> | null = null;
  private rng: Prng | null = null;
  private settingsDrawn: LogWorkloadSettings | null = null;
  private readonly clients: LogClient[] = [];
  private readonly recorded: Recorded[] = [];
  private readonly proposed = new Map<string, Proposed>();
  /** Each node's monotonic clock starts anywhere when the process (incarnation) starts. */
  private readonly clockOffsets = new Map<string, number>();
  private probeTarget: number | null = null;
  private healed_ = false;
  private time = 0;

  constructor(private readonly fixed: Partial<LogWorkloadSettings> = {}) {}

  get settings(): LogWorkloadSettings {
    assert(this.settingsDrawn !== null, "workload not started");
    return this.settingsDrawn;
  }

  start(host: WorkloadHost<LogApp>, startRng: Prng, rng: Prng): void {
    this.host = host;
    this.rng = rng;
    this.settingsDrawn = { ...drawLogSettings(rng.fork()), ...this.fixed };
    host.note(describeLogSettings(this.settingsDrawn));
    for (let i = 0; i < this.settings.clients; i++) this.clients.push(newClient(i, false));
    for (const c of this.clients) host.at(startRng.int(1000), () => this.onClient(c));
  }

  probeIndex(): number | null {
    return this.probeTarget;
  }

  /** What every client saw, in call order, without the requests that were refused. */
  history(): LogEvent[] {
    return this.recorded.filter((r) => !r.excluded).map(({ client, request, reply, callAt, returnAt }) => ({ client, request, reply, callAt, returnAt }));
  }

  healed(): void {
    const h = this.h();
    this.healed_ = true;
    const probe = newClient(this.clients.length, true);
    this.clients.push(probe);
    h.at(h.nowUs() + 1000 * this.settings.calmMs, () => this.onClient(probe));
  }

  crashed(node: SimNode<LogApp>): void {
    // The connection resets: every client waiting on this node learns nothing more.
    for (const [key, p] of this.proposed) {
      if (!key.startsWith(`${node.index}:`)) continue;
      this.proposed.delete(key);
      this.answer(p.client, p.inflight, { kind: "unknown" }, 0);
    }
  }

  applied(node: SimNode<LogApp>, e: Entry): void {
    const key = `${node.index}:${e.index}`;
    const p = this.proposed.get(key);
    if (p === undefined) return;
    this.proposed.delete(key);
    const app = node.run?.app;
    assert(app !== undefined, "applied on a node that is down");
    if (e.term !== p.term || app.lastReply === null) {
      // Another entry took the index: the node says the outcome is unknown (log/io/node.ts does the same).
      this.h().stats.failedProposals++;
      this.answer(p.client, p.inflight, { kind: "unknown" }, this.delayUs());
      return;
    }
    this.h().checker.onAck(`request ${p.inflight.event}/${p.client.id}`, e);
    if (p.client.probe) this.probeTarget = Math.max(e.index, this.h().checker.ackedIndexMax);
    this.answer(p.client, p.inflight, { kind: "reply", reply: { kind: "command", reply: app.lastReply } }, this.delayUs());
  }

  // ---- clients ----------------------------------------------------------------------

  private h(): WorkloadHost<LogApp> {
    assert(this.host !== null, "workload not started");
    return this.host;
  }

  private r(): Prng {
    assert(this.rng !== null, "workload not started");
    return this.rng;
  }

  private onClient(c: LogClient): void {
    const h = this.h();
    const now = h.nowUs();
    // Once the probe committed, clients stop so that every node can catch up.
    if (this.probeTarget !== null) return;
    const next = (): void => h.at(now + 1000 * (1 + this.r().int(this.settings.thinkMsMax)), () => this.onClient(c));
    if (c.inflight !== null) {
      if (now - c.inflight.sentUs > 1000 * this.settings.timeoutMs) this.giveUp(c);
      next();
      return;
    }
    if (!c.probe && c.requests >= this.settings.requestsMax) return;
    const request = c.probe ? probeRequest() : this.chooseRequest(c);
    const target = request.kind === "read" ? this.r().int(h.nodes.length) : (c.hint ?? this.r().int(h.nodes.length));
    c.requests++;
    let event = -1;
    if (!c.probe) {
      event = this.recorded.length;
      this.recorded.push({ client: c.id, request, reply: null, callAt: ++this.time, returnAt: Infinity, excluded: false });
    }
    const inflight: Inflight = { event, sentUs: now };
    c.inflight = inflight;
    h.stats.proposals += request.kind === "command" ? 1 : 0;
    if (!this.lost()) h.at(now + this.delayUs(), () => this.arrive(c, inflight, target, request));
    next();
  }

  private chooseRequest(c: LogClient): LogRequest {
    const rng = this.r();
    const s = this.settings;
    const shard = rng.pick(s.shards);
    let view = c.views.get(shard);
    if (view === undefined) c.views.set(shard, (view = { tip: 0, leaseId: null, campaignAfterUs: 0 }));
    const waiting = view.leaseId === null && this.h().nowUs() < view.campaignAfterUs;
    if (waiting || rng.chance(s.readP)) return { kind: "read", shard, fromSeq: Math.max(1, view.tip + 1 - rng.int(4)), countMax: 1 + rng.int(4) };
    if (view.leaseId === null) return { kind: "command", command: { kind: "tryTakeLease", shard, nodeId: c.nodeId, expectedSeq: view.tip, durationMs: s.leaseMs } };
    if (rng.chance(s.renewP)) return { kind: "command", command: { kind: "renewLease", shard, leaseId: view.leaseId } };
    if (rng.chance(s.trimP)) return { kind: "command", command: { kind: "trim", shard, uptoSeq: Math.max(0, view.tip - rng.int(6)) } };
    const skew = rng.chance(s.skewP) ? rng.pick([-1, 1]) : 0;
    const records = Array.from({ length: 1 + rng.int(3) }, () => Buffer.from(`c${c.id}.${++c.records}`, "latin1"));
    return { kind: "command", command: { kind: "append", shard, records, expectedSeq: Math.max(0, view.tip + skew), leaseId: view.leaseId } };
  }

  /** The request reaches node `target`. */
  private arrive(c: LogClient, inflight: Inflight, target: number, request: LogRequest): void {
    const h = this.h();
    const node = h.nodes[target] as SimNode<LogApp>;
    const run = node.run;
    // A stopped process reads its socket when it resumes.
    if (run !== null && node.pausedUntilUs > h.nowUs()) return h.at(node.pausedUntilUs, () => this.arrive(c, inflight, target, request));
    if (run === null) return this.answer(c, inflight, { kind: "refused", hint: null }, this.delayUs());
    if (request.kind === "read") {
      const r = readThrough(run.app.machine, run.app.store, request.shard, request.fromSeq, request.countMax, 1 << 20);
      assert(r.kind !== "inStore", "readThrough answered inStore");
      return this.answer(c, inflight, { kind: "reply", reply: { kind: "read", result: r } }, this.delayUs());
    }
    const raft = run.rn.raft;
    if (raft.role.kind !== "leader") return this.answer(c, inflight, { kind: "refused", hint: this.leaderHint(node) }, this.delayUs());
    const data = encodeEntry({ proposedAtMs: this.clockMs(node), command: request.command });
    const r = run.rn.propose(data);
    if (r.kind !== "ok") return this.answer(c, inflight, { kind: "refused", hint: r.kind === "not-leader" ? this.indexOf(r.leader) : null }, this.delayUs());
    this.proposed.set(`${node.index}:${r.index}`, { client: c, inflight, term: r.term });
    node.pump();
  }

  /** An answer leaves for the client; it may be lost on the way. */
  private answer(c: LogClient, inflight: Inflight, a: Answer, delayUs: number): void {
    if (a.kind !== "refused" && this.lost()) return;
    const h = this.h();
    h.at(h.nowUs() + delayUs, () => this.hear(c, inflight, a));
  }

  private hear(c: LogClient, inflight: Inflight, a: Answer): void {
    // A late answer to a request the client gave up on changes nothing: it recorded "unknown".
    if (c.inflight !== inflight) return;
    c.inflight = null;
    const rec = inflight.event >= 0 ? (this.recorded[inflight.event] as Recorded) : null;
    switch (a.kind) {
      case "refused":
        // Refused requests took no effect and do not count against the client's budget.
        c.hint = a.hint;
        c.requests--;
        if (rec !== null) rec.excluded = true;
        return;
      case "unknown":
        c.hint = null;
        this.h().stats.unknownOutcomes++;
        return;
      case "reply":
        if (rec !== null) {
          rec.reply = a.reply;
          rec.returnAt = ++this.time;
          learn(c, rec.request, a.reply, this.h().nowUs());
        }
        this.h().stats.acked += a.reply.kind === "command" ? 1 : 0;
        return;
      default:
        assertNever(a, "answer");
    }
  }

  private giveUp(c: LogClient): void {
    c.inflight = null;
    c.hint = null;
    this.h().stats.unknownOutcomes++;
  }

  private lost(): boolean {
    return !this.healed_ && this.r().chance(this.h().plan.network.dropP);
  }

  private delayUs(): number {
    const n = this.h().plan.network;
    return this.healed_ ? 200 + this.r().int(301) : n.delayUs + this.r().int(n.jitterUs + 1);
  }

  /** The node's monotonic clock in whole ms: its own rate (the drifted tick), its own origin per incarnation. */
  private clockMs(node: SimNode<LogApp>): number {
    const key = `${node.index}/${node.incarnation}`;
    let offset = this.clockOffsets.get(key);
    if (offset === undefined) this.clockOffsets.set(key, (offset = this.r().int(1_000_000)));
    return offset + Math.floor((this.h().nowUs() * this.h().plan.tickUs) / node.tickUs / 1000);
  }

  private leaderHint(node: SimNode<LogApp>): number | null {
    const run = node.run;
    if (run === null) return null;
    const role = run.rn.raft.role;
    return role.kind === "follower" ? this.indexOf(role.leader) : null;
  }

  private indexOf(id: string | null): number | null {
    const i = this.h().nodes.findIndex((n) => n.id === id);
    return i < 0 ? null : i;
  }
}

function newClient(id: number, probe: boolean): LogClient {
  return { id, nodeId: probe ? "probe" : `s${id}`, probe, hint: null, requests: 0, records: 0, inflight: null, views: new Map() };
}

function probeRequest(): LogRequest {
  return { kind: "command", command: { kind: "trim", shard: PROBE_SHARD, uptoSeq: 0 } };
}

/** What a client concludes from an answer, as a primary would. */
function learn(c: LogClient, req: LogRequest, reply: LogReplySeen, nowUs: number): void {
  const shard = req.kind === "read" ? req.shard : req.command.shard;
  const view = c.views.get(shard);
  if (view === undefined) return;
  if (reply.kind === "read") {
    if (view.leaseId === null) view.tip = Math.max(view.tip, reply.result.tip);
    return;
  }
  const rep = reply.reply;
  switch (rep.op) {
    case "tryTakeLease": {
      const r = rep.result;
      if (r.kind === "granted") view.leaseId = r.leaseId;
      else if (r.reason === "behind") view.tip = r.tip;
      // A grant whose reply was lost: the lease is ours after all.
      else if (r.reason === "lease-live" && r.holder.holder === c.nodeId) view.leaseId = r.holder.leaseId;
      else if (r.reason === "lease-live") view.campaignAfterUs = nowUs + 1000 * r.remainingMs;
      return;
    }
    case "append": {
      const r = rep.result;
      if (r.kind === "ok") view.tip = r.lastSeq;
      else if (r.kind === "conflict") view.tip = r.tip;
      else view.leaseId = r.current?.holder === c.nodeId ? r.current.leaseId : null;
      return;
    }
    case "renewLease":
      if (rep.result.kind === "leaseMismatch") view.leaseId = rep.result.current?.holder === c.nodeId ? rep.result.current.leaseId : null;
      return;
    case "trim":
      return;
    default:
      assertNever(rep, "reply");
  }
}
