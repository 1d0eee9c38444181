// One simulated log node: the real RawNode driven the way the I/O shell must
// drive it. A Ready is written to the simulated disk; when the write (and the
// fsync, if mustSync) completes, storage is updated, messages go out, the
// committed entries are applied, and advance() is called. A crash throws away
// everything but the disk. The replicated application is pluggable: the
// hash-chain SimApp for the Raft simulation, the log's own state machine for
// the log-API simulation (./log-app.ts).
import { assert, AssertionError } from "../raft/assert";
import type { Config } from "../raft/config";
import { RawNode, type Ready } from "../raft/rawnode";
import type { MemoryStorage } from "../raft/storage";
import type { Entry, Message, NodeId } from "../raft/types";
import type { SimApp } from "./app";
import type { Checker } from "./checker";
import { SimDisk, type CrashReport } from "./disk";
import type { Prng } from "./prng";
import { checkpointOf, encodeRecord, recoverStorage } from "./records";

/** The replicated application a node applies committed entries to. */
export interface ReplicatedApp {
  /** The index of the last entry applied. */
  readonly index: number;
  apply(e: Entry): void;
  /** The state as one number, cheap to compare across nodes. */
  hash(): number;
  /** The state as bytes, for Raft snapshots. */
  encode(): Buffer;
}

/** Rebuilds an application from snapshot bytes (empty bytes: a fresh one). */
export type AppDecoder<A extends ReplicatedApp> = (data: Uint8Array) => A;

/** What a node needs from the world around it. */
export interface NodeHost<A extends ReplicatedApp = SimApp> {
  readonly checker: Checker;
  /** Calls back `done` after the disk write (and fsync, if asked) completes. */
  scheduleIo(node: SimNode<A>, sync: boolean, done: () => void): void;
  send(m: Message): void;
  applied(node: SimNode<A>, e: Entry): void;
  /** A vote was granted and sent (a fault point). */
  votedFor(node: SimNode<A>): void;
}

/** Readys handled in one turn without touching the disk (each applies at least one entry). */
const PUMP_READIES_MAX = 1_000_000;

export interface NodeStats {
  readies: number;
  compactions: number;
  snapshotsInstalled: number;
  restarts: number;
}

interface Running<A extends ReplicatedApp> {
  readonly rn: RawNode;
  readonly storage: MemoryStorage;
  app: A;
  busy: boolean;
}

export interface NodeSettings {
  readonly raft: Omit<Config, "id" | "randomInt" | "applied">;
  readonly compactEvery: number | null;
  readonly compactKeep: number;
}

export class SimNode<A extends ReplicatedApp = SimApp> {
  readonly disk = new SimDisk();
  run: Running<A> | null = null;
  /** Bumped on every crash, so completions of a dead incarnation are ignored. */
  incarnation = 0;
  pausedUntilUs = 0;
  /** What the world last saw of this node, to notice role changes and commits. */
  seenRole = "";
  seenTerm = -1;
  seenCommit = 0;
  readonly stats: NodeStats = { readies: 0, compactions: 0, snapshotsInstalled: 0, restarts: 0 };

  constructor(
    readonly id: NodeId,
    readonly index: number,
    readonly tickUs: number,
    private readonly rng: Prng,
    private readonly settings: NodeSettings,
    private readonly host: NodeHost<A>,
    private readonly decodeApp: AppDecoder<A>,
  ) {}

  /** Boots from whatever the disk holds. */
  start(): void {
    if (this.run !== null) throw new AssertionError(`${this.id} is already running`);
    const storage = recoverStorage(this.disk.recover());
    const snap = storage.snapshot();
    const app = this.decodeApp(snap.data);
    if (app.index !== snap.index) throw new AssertionError(`${this.id}: snapshot at ${snap.index} holds state at ${app.index}`);
    if (snap.index > 0) this.host.checker.onSnapshotInstalled(this.id, snap.index, app.hash());
    const rng = this.rng;
    const rn = new RawNode({ ...this.settings.raft, id: this.id, randomInt: (n) => rng.int(n) }, storage);
    this.run = { rn, storage, app, busy: false };
    this.stats.restarts++;
  }

  crash(rng: Prng): CrashReport {
    this.run = null;
    this.incarnation++;
    this.host.checker.forget(this.id);
    return this.disk.crash(rng);
  }

  /** Takes Readys while the previous one is done and there is work; a write ends the turn. */
  pump(): void {
    for (let readies = 0; ; readies++) {
      if (!(readies < PUMP_READIES_MAX)) throw new AssertionError(`${this.id}: more than ${PUMP_READIES_MAX} Readys without a write`);
      const run = this.run;
      if (run === null || run.busy || !run.rn.hasReady()) return;
      const rd = run.rn.ready();
      this.stats.readies++;
      const first = rd.entries[0];
      if (first !== undefined) this.host.checker.onReadyEntries(this.id, rd.entries, run.rn.raft.log.term(first.index - 1));
      if (rd.hardState === null && rd.snapshot === null && rd.entries.length === 0) {
        this.complete(run, rd);
        continue;
      }
      this.disk.write(encodeRecord({ kind: "ready", hardState: rd.hardState, snapshot: rd.snapshot, entries: rd.entries }));
      run.busy = true;
      const incarnation = this.incarnation;
      this.host.scheduleIo(this, rd.mustSync, () => {
        if (this.incarnation !== incarnation || this.run !== run) return;
        if (rd.mustSync) this.disk.sync();
        run.busy = false;
        this.complete(run, rd);
        this.pump();
      });
      return;
    }
  }

  private complete(run: Running<A>, rd: Ready): void {
    const s = run.storage;
    if (rd.snapshot !== null) s.applySnapshot(rd.snapshot);
    s.append(rd.entries);
    if (rd.hardState !== null) s.setHardState(rd.hardState);
    for (const m of rd.messages) {
      if (m.kind === "vote-resp" && !m.reject) this.host.checker.onVoteGranted(this.id, m.term, m.to);
      this.host.send(m);
    }
    if (rd.messages.some((m) => m.kind === "vote-resp" && !m.reject)) this.host.votedFor(this);
    if (rd.snapshot !== null) {
      run.app = this.decodeApp(rd.snapshot.data);
      if (run.app.index !== rd.snapshot.index) throw new AssertionError(`${this.id}: snapshot state does not match its index`);
      this.host.checker.onSnapshotInstalled(this.id, rd.snapshot.index, run.app.hash());
      this.stats.snapshotsInstalled++;
    }
    for (const e of rd.committedEntries) {
      run.app.apply(e);
      this.host.checker.onApply(this.id, e, run.app.hash());
      this.host.applied(this, e);
    }
    run.rn.advance();
    this.maybeCompact(run);
  }

  /** Snapshots the applied state and drops the log below it; the disk file is rewritten atomically. */
  private maybeCompact(run: Running<A>): void {
    const every = this.settings.compactEvery;
    const s = run.storage;
    if (every === null || run.app.index - s.snapshot().index < every) return;
    s.createSnapshot(run.app.index, run.app.encode());
    const upto = run.app.index - this.settings.compactKeep;
    if (upto >= s.firstIndex()) s.compact(upto);
    this.disk.rewrite([encodeRecord(checkpointOf(s))]);
    this.stats.compactions++;
  }
}
