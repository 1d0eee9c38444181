// The shard simulation's snapshotter and object store. The snapshotter keeps
// its own replica-mode Engine; every round it fixes a target (the log's tip as
// a read reports it), folds the log into its engine up to that seq with the
// real RecordReader (running checksum included), publishes a snapshot (every
// key's DUMP payload and absolute expire time, the seq, the running checksum
// and the digest), verifies it by loading it into a fresh engine, keeps the
// newest few, and trims the log below it, keeping a margin.
//
// Modelled rather than real: the byte format of snapshot/format.ts (its
// reader is asynchronous; the simulation is not), and the store is a list in
// memory that survives every crash.
import { assert, AssertionError } from "../../log/raft/assert";
import { Engine } from "../../engine/engine";
import type { CompactLimits } from "../../engine/encoding";
import { createDumpPayload, decodeDumpPayload } from "../../engine/rdb";
import { RecordReader } from "../record";
import { SafetyViolation } from "../../log/sim/checker";
import type { LogAnswer, LogCaller, ShardReference, SimLogNet } from "./shard-log";
import { SHARD } from "./shard-log";
import type { LogApp } from "../../log/sim/log-app";
import type { Prng } from "../../log/sim/prng";
import type { WorkloadHost } from "../../log/sim/workload";

/** What snapshot/format.ts stores, minus the framing. */
export interface SimSnapshot {
  readonly seq: number;
  readonly logChecksum: Buffer;
  readonly digest: string;
  readonly keys: readonly { readonly db: number; readonly key: string; readonly payload: Buffer; readonly expireAtMs: number | null }[];
}

/** The snapshot format's limits (plain encodings; the real one also records the compact ones). */
const PAYLOAD_LIMITS: CompactLimits = { hashEntries: 0, hashValue: 0, setIntsetEntries: -1, zsetEntries: 0, zsetValue: 0, listFill: -2 };
const READ_COUNT_MAX = 64;
const LOG_TIMEOUT_MS = 5000;

export class SnapshotStore {
  private readonly snaps: SimSnapshot[] = [];
  published = 0;

  constructor(private readonly keep: number) {}

  newest(): SimSnapshot | null {
    return this.snaps[this.snaps.length - 1] ?? null;
  }

  publish(s: SimSnapshot): void {
    const n = this.newest();
    if (!(n === null || s.seq > n.seq)) throw new AssertionError(`snapshot at ${s.seq} after one at ${n?.seq ?? 0}`);
    this.snaps.push(s);
    if (this.snaps.length > this.keep) this.snaps.shift();
    this.published++;
  }
}

export function takeSnapshot(engine: Engine, seq: number, logChecksum: Buffer): SimSnapshot {
  const keys: { db: number; key: string; payload: Buffer; expireAtMs: number | null }[] = [];
  for (const db of engine.dbs) {
    for (const [key, v] of db.data) {
      const payload = createDumpPayload(v, PAYLOAD_LIMITS);
      if (payload === null) throw new AssertionError(`key ${key} cannot be dumped`);
      keys.push({ db: db.id, key, payload, expireAtMs: db.expires.get(key) ?? null });
    }
  }
  return { seq, logChecksum: Buffer.from(logChecksum), digest: engine.digest(), keys };
}

/** A replica-mode engine holding the snapshot's dataset (digest checked). */
export function loadSnapshot(s: SimSnapshot, newEngine: () => Engine): Engine {
  const engine = newEngine();
  for (const k of s.keys) {
    const d = decodeDumpPayload(k.payload);
    if (!(d.ok)) throw new AssertionError(`snapshot key ${k.key} does not decode`);
    const db = engine.db(k.db);
    db.data.set(k.key, d.value);
    if (k.expireAtMs !== null) db.expires.set(k.key, k.expireAtMs);
  }
  const got = engine.digest();
  if (got !== s.digest) throw new SafetyViolation(`snapshot at ${s.seq} loads to digest ${got}, written with ${s.digest}`);
  return engine;
}

export function replicaEngine(clock: () => number, random: () => number): Engine {
  return new Engine({ role: "replica", recordEffects: false, clock, random });
}

export interface SnapshotterSettings {
  readonly everyMs: number;
  readonly trimMargin: number;
}

export class SimSnapshotter implements LogCaller {
  readonly name = "snapshotter";
  alive = true;
  pausedUntilUs = 0;
  incarnation = 0;
  private engine: Engine = replicaEngine(() => 0, () => 0);
  private reader = new RecordReader();
  private seq = 0;
  private target = 0;
  rounds = 0;
  trims = 0;

  constructor(
    private readonly host: WorkloadHost<LogApp>,
    private readonly log: SimLogNet,
    private readonly ref: ShardReference,
    readonly store: SnapshotStore,
    private readonly rng: Prng,
    private readonly s: SnapshotterSettings,
  ) {}

  deliver(fn: () => void): void {
    const inc = this.incarnation;
    const run = (): void => {
      if (!this.alive || inc !== this.incarnation) return;
      if (this.pausedUntilUs > this.host.nowUs()) return this.host.at(this.pausedUntilUs, run);
      fn();
    };
    run();
  }

  /** (Re)starts: loads the newest snapshot, then waits for its first round. */
  start(): void {
    this.alive = true;
    this.incarnation++;
    const snap = this.store.newest();
    this.engine = snap === null ? replicaEngine(() => 0, () => 0) : loadSnapshot(snap, () => replicaEngine(() => 0, () => 0));
    this.reader = new RecordReader(snap?.logChecksum);
    this.seq = snap?.seq ?? 0;
    this.target = 0;
    this.later(this.s.everyMs / 2 + this.rng.int(this.s.everyMs), () => this.round());
  }

  kill(): void {
    this.alive = false;
    this.incarnation++;
  }

  private later(ms: number, fn: () => void): void {
    const inc = this.incarnation;
    this.host.at(this.host.nowUs() + Math.round(ms * 1000), () => this.deliver(() => (inc === this.incarnation ? fn() : undefined)));
  }

  private round(): void {
    this.rounds++;
    this.target = 0;
    this.read();
  }

  private read(): void {
    this.log.call(this, { kind: "read", fromSeq: this.seq + 1, countMax: READ_COUNT_MAX }, LOG_TIMEOUT_MS, (a) => this.onRead(a));
  }

  private onRead(a: LogAnswer): void {
    if (a.kind !== "read") return this.later(100, () => this.read());
    const r = a.result;
    if (r.kind === "trimmed") throw new SafetyViolation(`the log is trimmed to ${r.trimPoint} below the snapshotter's position ${this.seq + 1}`);
    if (this.target === 0) this.target = r.tip;
    if (!(r.records.length === 0 || r.firstSeq === this.seq + 1)) throw new AssertionError(`snapshotter got ${r.firstSeq} at ${this.seq}`);
    for (const rec of r.records) {
      if (this.seq >= this.target) break;
      this.apply(Buffer.from(rec));
    }
    if (this.seq < this.target) return this.read();
    this.publish();
  }

  private apply(rec: Buffer): void {
    const d = this.reader.push(rec);
    this.seq++;
    if (d !== null && !d.ok) throw new SafetyViolation(`snapshotter: record ${this.seq}: ${d.error}`);
    if (d !== null && d.record.kind === "effects") this.engine.apply(d.record.effects);
    if (!this.reader.partial) this.ref.check("the snapshotter", this.seq, this.engine.digest());
  }

  private publish(): void {
    const newest = this.store.newest();
    if (this.seq > 0 && !this.reader.partial && (newest === null || this.seq > newest.seq)) {
      const snap = takeSnapshot(this.engine, this.seq, this.reader.checksum);
      // Verify before publishing: the snapshot loads back to the same dataset.
      loadSnapshot(snap, () => replicaEngine(() => 0, () => 0));
      this.ref.check("a published snapshot", snap.seq, snap.digest);
      this.store.publish(snap);
      this.host.note(`snapshot published at seq ${snap.seq} (${snap.keys.length} keys)`);
      const upto = snap.seq - this.s.trimMargin;
      if (upto > 0) {
        this.trims++;
        this.log.call(this, { kind: "command", command: { kind: "trim", shard: SHARD, uptoSeq: upto } }, LOG_TIMEOUT_MS, () => undefined);
      }
    }
    this.later(this.s.everyMs, () => this.round());
  }
}
