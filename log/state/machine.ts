// The log service's replicated state machine: per shard, the log of opaque
// records (dense seq from 1), its trim point and its lease. Pure and
// deterministic: it reads no clock and does no I/O. Every replica feeds it the
// same committed Raft entries in the same order and so takes the same
// decisions, because each precondition is checked when the entry is applied.
//
// Time enters only through the entries: the log leader stamps each command
// with its monotonic clock when it proposes it (`stampCommand` in
// log/codec.ts), and the entry's Raft term says whose clock that is. The lease
// rules and the argument that two holders never overlap are in ./lease.ts.
//
// Memory is bounded: each shard keeps its newest records in a window (limits
// below); older ones go to a RecordSink in apply order (./record-store.ts).
import { decodeEntry } from "../codec";
import { assert, AssertionError, assertNever } from "./assert";
import type { Decoded, DecodeFailure } from "./bytes";
import type { RecordSink, RecordStore } from "./record-store";
import { type ShardInfo, ShardState, type WindowLimits } from "./shard";
import { decodeSnapshot, encodeSnapshot, type ShardSnapshot, type SnapshotData } from "./snapshot";
import { type Command, compareShardIds, type Reply, SHARDS_MAX, type ShardId, type Stamp, type TakeLeaseResult } from "./types";

export const DEFAULT_WINDOW_LIMITS: WindowLimits = { windowRecordsMax: 65_536, windowBytesMax: 64 * 1024 * 1024 };

/** A committed Raft entry, as log/raft hands it to the application (structurally). */
export interface CommittedEntry {
  readonly index: number;
  readonly term: number;
  readonly kind: "normal" | "noop";
  readonly data: Uint8Array;
}

export type ApplyOutcome =
  | { readonly kind: "applied"; readonly reply: Reply }
  | { readonly kind: "noop" }
  /** The entry does not decode (or is of a newer format): nothing was applied; stop applying and report. */
  | { readonly kind: "halt"; readonly error: DecodeFailure };

export type ReadResult =
  /** Records firstSeq, firstSeq+1, ... (empty when fromSeq is past the tip). */
  | { readonly kind: "records"; readonly firstSeq: number; readonly records: readonly Buffer[]; readonly tip: number }
  /** fromSeq..toSeq are in the RecordStore, not in memory: read them there, then continue from toSeq+1. */
  | { readonly kind: "inStore"; readonly fromSeq: number; readonly toSeq: number; readonly tip: number }
  | { readonly kind: "trimmed"; readonly trimPoint: number; readonly tip: number };

export class LogStateMachine {
  private applied = 0;
  /** Term and stamp of the last stamped (non-noop) entry applied: the clock domain leases are in. */
  private stampTerm = 0;
  private stampLastMs = 0;
  private readonly shards = new Map<ShardId, ShardState>();

  constructor(
    private readonly sink: RecordSink,
    private readonly limits: WindowLimits = DEFAULT_WINDOW_LIMITS,
  ) {
    assert(limits.windowRecordsMax >= 0 && limits.windowBytesMax >= 0, "negative window limits");
  }

  get appliedIndex(): number {
    return this.applied;
  }

  /** Term and stamp of the last stamped entry applied (read-only: lease hints in the I/O shell). */
  get lastStamp(): Stamp {
    return { term: this.stampTerm, proposedAtMs: this.stampLastMs };
  }

  /** Applies the next committed entry; entries come densely, each index once. */
  applyEntry(e: CommittedEntry): ApplyOutcome {
    if (e.index !== this.applied + 1) throw new AssertionError(`entry ${e.index} applied after ${this.applied}`);
    if (e.kind === "noop") {
      this.applied = e.index;
      return { kind: "noop" };
    }
    const d = decodeEntry(e.data);
    if (!d.ok) return { kind: "halt", error: d.error };
    return { kind: "applied", reply: this.apply(e.index, { term: e.term, proposedAtMs: d.value.proposedAtMs }, d.value.command) };
  }

  /** Applies a decoded command stamped `at`, at Raft index `index`. */
  apply(index: number, at: Stamp, command: Command): Reply {
    if (!(index > this.applied)) throw new AssertionError(`entry ${index} applied after ${this.applied}`);
    if (!(at.term >= this.stampTerm)) throw new AssertionError(`entry of term ${at.term} after term ${this.stampTerm}`);
    if (at.term > this.stampTerm) {
      for (const s of this.shards.values()) s.enterTerm(this.stampLastMs, at);
      this.stampTerm = at.term;
      this.stampLastMs = at.proposedAtMs;
    } else this.stampLastMs = Math.max(this.stampLastMs, at.proposedAtMs);
    this.applied = index;
    return this.execute(index, at, command);
  }

  private execute(index: number, at: Stamp, c: Command): Reply {
    switch (c.kind) {
      case "append": {
        const s = this.shards.get(c.shard);
        const result = s === undefined ? { kind: "leaseMismatch" as const, current: null } : s.append(c.records, c.expectedSeq, c.leaseId, at);
        return { op: "append", result };
      }
      case "tryTakeLease":
        return { op: "tryTakeLease", result: this.tryTakeLease(index, at, c) };
      case "renewLease": {
        const s = this.shards.get(c.shard);
        return { op: "renewLease", result: s === undefined ? { kind: "leaseMismatch", current: null } : s.renewLease(c.leaseId, at) };
      }
      case "trim": {
        const s = this.shards.get(c.shard);
        return { op: "trim", result: s === undefined ? { kind: "ok", trimPoint: 1 } : s.trim(c.uptoSeq) };
      }
      default:
        return assertNever(c, "command");
    }
  }

  /** Only a grant creates a shard, so no other command can fill the shard table. */
  private tryTakeLease(index: number, at: Stamp, c: Extract<Command, { kind: "tryTakeLease" }>): TakeLeaseResult {
    const existing = this.shards.get(c.shard);
    if (existing !== undefined) return existing.tryTakeLease(c.nodeId, c.expectedSeq, c.durationMs, index, at);
    if (c.expectedSeq !== 0) return { kind: "conflict", reason: "behind", tip: 0 };
    if (this.shards.size >= SHARDS_MAX) return { kind: "conflict", reason: "shard-limit" };
    const s = new ShardState(c.shard, this.sink, this.limits);
    this.shards.set(c.shard, s);
    return s.tryTakeLease(c.nodeId, c.expectedSeq, c.durationMs, index, at);
  }

  /**
   * Committed records from fromSeq on, from memory: at most countMax records and,
   * past the first, at most bytesMax bytes. Below the window it says where to look.
   */
  read(id: ShardId, fromSeq: number, countMax: number, bytesMax: number): ReadResult {
    if (!(Number.isSafeInteger(fromSeq) && fromSeq >= 0 && countMax >= 1)) throw new AssertionError(`bad read(${fromSeq}, ${countMax})`);
    const s = this.shards.get(id);
    const tip = s?.tip ?? 0;
    const trimPoint = s?.trimPoint ?? 1;
    if (fromSeq < trimPoint) return { kind: "trimmed", trimPoint, tip };
    if (s === undefined || fromSeq > tip) return { kind: "records", firstSeq: fromSeq, records: [], tip };
    const w = s.window;
    if (fromSeq < w.startSeq) return { kind: "inStore", fromSeq, toSeq: w.startSeq - 1, tip };
    const records: Buffer[] = [];
    let bytes = 0;
    for (let seq = fromSeq; seq <= tip && records.length < countMax; seq++) {
      const r = w.at(seq);
      if (records.length > 0 && bytes + r.length > bytesMax) break;
      records.push(r);
      bytes += r.length;
    }
    return { kind: "records", firstSeq: fromSeq, records, tip };
  }

  shard(id: ShardId): ShardInfo | null {
    return this.shards.get(id)?.info() ?? null;
  }

  shardIds(): ShardId[] {
    return [...this.shards.keys()].sort(compareShardIds);
  }

  checkInvariants(): void {
    for (const s of this.shards.values()) {
      s.checkInvariants();
      assert(s.lease === null || s.lease.term === this.stampTerm, "a lease outside the current clock domain");
    }
  }

  snapshot(): Buffer {
    const shards: ShardSnapshot[] = this.shardIds().map((id) => {
      const s = this.shards.get(id) as ShardState;
      const w = s.window;
      const windowRecords: Buffer[] = [];
      for (let seq = w.startSeq; seq < w.endSeq; seq++) windowRecords.push(w.at(seq));
      const { tip, trimPoint, bytesAppended, epoch, lease } = s;
      return { shard: id, tip, trimPoint, bytesAppended, epoch, lease, windowStartSeq: w.startSeq, windowRecords };
    });
    const data: SnapshotData = { appliedIndex: this.applied, stampTerm: this.stampTerm, stampLastMs: this.stampLastMs, shards };
    return encodeSnapshot(data);
  }

  /**
   * A state machine from a snapshot. Records below each window must already be
   * in the sink's store; if this node's window is smaller than the snapshot's,
   * the excess is handed to the sink now. Record buffers are views of `data`.
   */
  static restore(data: Uint8Array, sink: RecordSink, limits: WindowLimits = DEFAULT_WINDOW_LIMITS): Decoded<LogStateMachine> {
    const d = decodeSnapshot(data);
    if (!d.ok) return d;
    const m = new LogStateMachine(sink, limits);
    m.applied = d.value.appliedIndex;
    m.stampTerm = d.value.stampTerm;
    m.stampLastMs = d.value.stampLastMs;
    for (const snap of d.value.shards) {
      const s = new ShardState(snap.shard, sink, limits, snap.windowStartSeq);
      s.window.push(snap.windowRecords);
      s.tip = snap.tip;
      s.trimPoint = snap.trimPoint;
      s.bytesAppended = snap.bytesAppended;
      s.epoch = snap.epoch;
      s.lease = snap.lease;
      s.spill();
      m.shards.set(snap.shard, s);
    }
    m.checkInvariants();
    return { ok: true, value: m };
  }
}

/** `read`, with "inStore" answered from a synchronous store (tests, the simulator). */
export function readThrough(m: LogStateMachine, store: RecordStore, id: ShardId, fromSeq: number, countMax: number, bytesMax: number): ReadResult {
  const r = m.read(id, fromSeq, countMax, bytesMax);
  if (r.kind !== "inStore") return r;
  const toSeq = Math.min(r.toSeq, fromSeq + countMax - 1);
  const records = store.getRange(id, fromSeq, toSeq, bytesMax);
  if (!(records.length > 0)) throw new AssertionError(`store lost records ${fromSeq}..${toSeq} of shard ${String(id)}`);
  return { kind: "records", firstSeq: fromSeq, records, tip: r.tip };
}
