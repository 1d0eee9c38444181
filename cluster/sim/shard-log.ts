// The shard simulation's side of the log service: how simulated servers and
// the snapshotter reach the simulated log nodes (a model of log/client.ts over
// a faulty network), and the reference: every committed log record, in order,
// applied to a fresh Engine, which gives the digest each seq must have.
//
// A call goes to one log node; a follower refuses it with a leader hint and
// the caller tries the hint (or another node), as LogClient does, until its
// deadline. The leader stamps the command with its own clock (which drifts
// within the run's rate bound) and answers when it applies the entry at the
// index and term it was given. An attempt whose answer does not come back
// within ATTEMPT_TIMEOUT_MS is tried again elsewhere: like the real client,
// a retried append is safe because it is conditional.
import { decodeEntry, encodeEntry } from "../../log/codec";
import { assert, AssertionError } from "../../log/raft/assert";
import type { Entry } from "../../log/raft/types";
import { readThrough } from "../../log/state/machine";
import type { Command, Reply } from "../../log/state/types";
import { Engine } from "../../engine/engine";
import { RecordReader } from "../record";
import { SafetyViolation } from "../../log/sim/checker";
import type { LogApp } from "../../log/sim/log-app";
import type { ReadReply } from "../../log/sim/log-workload";
import type { SimNode } from "../../log/sim/node";
import type { Prng } from "../../log/sim/prng";
import type { WorkloadHost } from "../../log/sim/workload";

export const SHARD = 0;
/** One attempt at one log node gets this long before the caller tries another. */
const ATTEMPT_TIMEOUT_MS = 150;
/** Pause before an attempt after a refusal (LogClient backs off 25 ms per attempt, up to 250). */
const RETRY_STEP_MS = 25;
const RETRY_MAX_MS = 250;

/** Whoever calls the log: a server or the snapshotter. */
export interface LogCaller {
  readonly name: string;
  /** Bumped when the process restarts: answers to an older incarnation's calls are dropped. */
  readonly incarnation: number;
  /** Runs `fn` when the caller's process can (now, or when a pause ends). */
  deliver(fn: () => void): void;
}

export type LogRequest = { readonly kind: "command"; readonly command: Command } | { readonly kind: "read"; readonly fromSeq: number; readonly countMax: number };

export type LogAnswer =
  | { readonly kind: "reply"; readonly reply: Reply; readonly uncertain: boolean }
  | { readonly kind: "read"; readonly result: ReadReply }
  /** No answer before the deadline; `uncertain`: a proposal may have been made. */
  | { readonly kind: "timeout"; readonly uncertain: boolean };

interface Call {
  readonly caller: LogCaller;
  readonly request: LogRequest;
  readonly deadlineUs: number;
  readonly cb: (a: LogAnswer) => void;
  readonly incarnation: number;
  attempt: number;
  uncertain: boolean;
  done: boolean;
  hint: number | null;
}

interface Proposed {
  readonly call: Call;
  readonly attempt: number;
  readonly term: number;
}

/** The links between callers and log nodes, the clocks of the log nodes, and the calls in flight. */
export class SimLogNet {
  /** `${caller}|${node index}` cut both ways. */
  readonly cuts = new Set<string>();
  healed = false;
  private readonly proposed = new Map<string, Proposed>();
  private readonly clockOffsets = new Map<string, number>();
  private readonly clockRates: number[];

  constructor(
    private readonly host: WorkloadHost<LogApp>,
    private readonly rng: Prng,
    driftRate: number,
  ) {
    this.clockRates = host.nodes.map(() => 1 + (rng.float() * 2 - 1) * driftRate);
  }

  call(caller: LogCaller, request: LogRequest, timeoutMs: number, cb: (a: LogAnswer) => void): void {
    const c: Call = { caller, request, deadlineUs: this.host.nowUs() + timeoutMs * 1000, cb, incarnation: caller.incarnation, attempt: 0, uncertain: false, done: false, hint: null };
    if (request.kind === "command") this.host.stats.proposals++;
    this.host.at(c.deadlineUs, () => {
      if (!c.done && c.uncertain) this.host.stats.unknownOutcomes++;
      this.finish(c, { kind: "timeout", uncertain: c.uncertain });
    });
    this.attempt(c);
  }

  /** Forgets the proposals a crashed node held: their callers learn nothing (they retry elsewhere). */
  crashed(node: SimNode<LogApp>): void {
    for (const key of [...this.proposed.keys()]) if (key.startsWith(`${node.index}:`)) this.proposed.delete(key);
  }

  /** A node applied `e`: answers the call that proposed it there. */
  applied(node: SimNode<LogApp>, e: Entry): void {
    const key = `${node.index}:${e.index}`;
    const p = this.proposed.get(key);
    if (p === undefined) return;
    this.proposed.delete(key);
    const app = node.run?.app;
    assert(app !== undefined, "applied on a node that is down");
    // Another entry took the index: the outcome is unknown to the node; the caller retries.
    if (e.term !== p.term || app.lastReply === null) return;
    this.host.checker.onAck(`shard-log ${p.call.caller.name} ${e.index}`, e);
    const reply = app.lastReply;
    this.host.stats.acked++;
    this.back(p.call, node.index, () => this.finish(p.call, { kind: "reply", reply, uncertain: p.call.uncertain }));
  }

  /** The log node's monotonic clock in whole ms: its own rate, its own origin per incarnation. */
  clockMs(node: SimNode<LogApp>): number {
    const key = `${node.index}/${node.incarnation}`;
    let offset = this.clockOffsets.get(key);
    if (offset === undefined) this.clockOffsets.set(key, (offset = this.rng.int(1_000_000)));
    return offset + Math.floor((this.host.nowUs() * (this.clockRates[node.index] as number)) / 1000);
  }

  private attempt(c: Call): void {
    if (c.done) return;
    const n = this.host.nodes.length;
    const target = c.hint ?? (c.request.kind === "read" ? this.rng.int(n) : (c.attempt + this.rng.int(n)) % n);
    c.hint = null;
    const attempt = ++c.attempt;
    if (this.sendable(c.caller, target)) this.host.at(this.host.nowUs() + this.delayUs(), () => this.arrive(c, attempt, target));
    this.host.at(this.host.nowUs() + ATTEMPT_TIMEOUT_MS * 1000, () => {
      if (c.attempt === attempt) this.attempt(c);
    });
  }

  private retry(c: Call, attempt: number, hint: number | null): void {
    if (c.done || c.attempt !== attempt) return;
    c.hint = hint;
    const waitUs = 1000 * Math.min(RETRY_STEP_MS * attempt, RETRY_MAX_MS);
    this.host.at(this.host.nowUs() + (hint !== null ? 1000 : waitUs), () => {
      if (c.attempt === attempt) this.attempt(c);
    });
  }

  private arrive(c: Call, attempt: number, target: number): void {
    const node = this.host.nodes[target] as SimNode<LogApp>;
    const run = node.run;
    // A stopped process reads its socket when it resumes.
    if (run !== null && node.pausedUntilUs > this.host.nowUs()) return this.host.at(node.pausedUntilUs, () => this.arrive(c, attempt, target));
    if (c.done || c.attempt !== attempt) return;
    if (run === null) return this.back(c, target, () => this.retry(c, attempt, null));
    const req = c.request;
    if (req.kind === "read") {
      const r = readThrough(run.app.machine, run.app.store, SHARD, req.fromSeq, req.countMax, 1 << 20);
      assert(r.kind !== "inStore", "readThrough answered inStore");
      return this.back(c, target, () => this.finish(c, { kind: "read", result: r }));
    }
    const role = run.rn.raft.role;
    if (role.kind !== "leader") {
      const hint = role.kind === "follower" ? this.host.nodes.findIndex((x) => x.id === role.leader) : -1;
      return this.back(c, target, () => this.retry(c, attempt, hint < 0 ? null : hint));
    }
    const r = run.rn.propose(encodeEntry({ proposedAtMs: this.clockMs(node), command: req.command }));
    if (r.kind !== "ok") return this.back(c, target, () => this.retry(c, attempt, null));
    c.uncertain = true;
    this.proposed.set(`${node.index}:${r.index}`, { call: c, attempt, term: r.term });
    node.pump();
  }

  /** An answer travels back from log node `from` (it may be lost or cut). */
  private back(c: Call, from: number, fn: () => void): void {
    if (!this.sendable(c.caller, from)) return;
    this.host.at(this.host.nowUs() + this.delayUs(), () => c.caller.deliver(fn));
  }

  private finish(c: Call, a: LogAnswer): void {
    if (c.done) return;
    c.done = true;
    c.caller.deliver(() => (c.caller.incarnation === c.incarnation ? c.cb(a) : undefined));
  }

  private sendable(caller: LogCaller, node: number): boolean {
    if (this.cuts.has(`${caller.name}|${node}`)) return false;
    return this.healed || !this.rng.chance(this.host.plan.network.dropP);
  }

  private delayUs(): number {
    const n = this.host.plan.network;
    return this.healed ? 100 + this.rng.int(200) : n.delayUs + this.rng.int(n.jitterUs + 1);
  }
}

/** A lease grant as the log committed it. */
export interface Grant {
  readonly holder: string;
  readonly leaseId: number;
  readonly epoch: number;
  readonly atUs: number;
}

/**
 * The committed log replayed once, in order, by a fresh engine: the digest
 * every reader must have at each seq, how often each pushed value occurs in
 * the log, and every lease grant with the time the log first applied it.
 */
export class ShardReference {
  readonly engine = new Engine({ role: "replica", recordEffects: false, clock: () => 0, random: () => 0 });
  private readonly reader = new RecordReader();
  private raftIndex = 0;
  tip = 0;
  trimPoint = 1;
  readonly digests = new Map<number, string>();
  /** RPUSH value -> times it appears in the committed log. */
  readonly pushed = new Map<string, number>();
  readonly incrs = new Map<string, number>();
  readonly grants: Grant[] = [];
  /** Digests the primaries had when they sealed a seq: `${leaseId}:${seq}`. */
  private readonly sealed = new Map<string, string>();

  constructor(private readonly nowUs: () => number) {
    this.digests.set(0, this.engine.digest());
  }

  /** Called for every entry a log node applies; each committed entry is taken once, in order. */
  applied(node: SimNode<LogApp>, e: Entry): void {
    if (e.index <= this.raftIndex) return;
    if (e.index !== this.raftIndex + 1) throw new AssertionError(`the reference missed entries ${this.raftIndex + 1}..${e.index - 1}`);
    this.raftIndex = e.index;
    const reply = node.run?.app.lastReply ?? null;
    if (e.kind !== "normal" || reply === null) return;
    const d = decodeEntry(e.data);
    assert(d.ok, "a committed entry does not decode");
    const c = d.value.command;
    if (c.shard !== SHARD) return;
    if (c.kind === "append" && reply.op === "append" && reply.result.kind === "ok") {
      if (reply.result.lastSeq !== this.tip + c.records.length) throw new AssertionError(`append to ${reply.result.lastSeq} from tip ${this.tip}`);
      for (const r of c.records) this.record(r, c.leaseId);
    } else if (reply.op === "tryTakeLease" && reply.result.kind === "granted" && c.kind === "tryTakeLease") {
      this.grants.push({ holder: c.nodeId, leaseId: reply.result.leaseId, epoch: reply.result.epoch, atUs: this.nowUs() });
    } else if (reply.op === "trim") {
      this.trimPoint = Math.max(this.trimPoint, reply.result.trimPoint);
    }
  }

  /** A primary sealed `seq` under `leaseId` with this digest; checked when (if) the seq commits. */
  sealedDigest(leaseId: number, seq: number, digest: string): void {
    const known = this.digests.get(seq);
    if (known !== undefined && this.leaseOf.get(seq) === leaseId) {
      if (known !== digest) throw new SafetyViolation(`digest: the primary (lease ${leaseId}) sealed seq ${seq} with digest ${digest}, the log replays to ${known}`);
      return;
    }
    if (seq > this.tip) this.sealed.set(`${leaseId}:${seq}`, digest);
  }

  private readonly leaseOf = new Map<number, number>();

  private record(rec: Buffer, leaseId: number): void {
    const seq = ++this.tip;
    const d = this.reader.push(rec);
    if (d !== null && !d.ok) throw new SafetyViolation(`committed record ${seq} does not decode: ${d.error}`);
    if (d !== null && d.record.kind === "effects") {
      this.engine.apply(d.record.effects);
      for (const ef of d.record.effects) this.count(ef.argv);
    }
    const digest = this.engine.digest();
    this.digests.set(seq, digest);
    this.leaseOf.set(seq, leaseId);
    const key = `${leaseId}:${seq}`;
    const primary = this.sealed.get(key);
    this.sealed.delete(key);
    if (primary !== undefined && primary !== digest) {
      throw new SafetyViolation(`digest: the primary (lease ${leaseId}) sealed seq ${seq} with digest ${primary}, the log replays to ${digest}`);
    }
  }

  private count(argv: readonly string[]): void {
    const op = (argv[0] ?? "").toLowerCase();
    if (op === "rpush") for (const v of argv.slice(2)) this.pushed.set(v, (this.pushed.get(v) ?? 0) + 1);
    if (op === "incr") this.incrs.set(argv[1] ?? "", (this.incrs.get(argv[1] ?? "") ?? 0) + 1);
  }

  /** A reader (replica, snapshotter, restored server) has this digest after applying `seq`. */
  check(who: string, seq: number, digest: string): void {
    const want = this.digests.get(seq);
    if (want === undefined) throw new SafetyViolation(`digest: ${who} applied seq ${seq}, which the log never committed (tip ${this.tip})`);
    if (want !== digest) throw new SafetyViolation(`digest: ${who} has digest ${digest} at seq ${seq}, the log replays to ${want}`);
  }

  /** The newest epoch granted by the log up to now. */
  newestEpoch(): number {
    const g = this.grants[this.grants.length - 1];
    return g === undefined ? 0 : g.epoch;
  }
}
