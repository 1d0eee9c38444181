// One simulated log node: the real RawNode driven the way the I/O shell must
// drive it. A Ready is written to the simulated disk; when the write (and the
// fsync, if mustSync) completes, storage is updated, messages go out, the
// committed entries are applied, and advance() is called. A crash throws away
// everything but the disk.
import { assert } from "../raft/assert";
import type { Config } from "../raft/config";
import { RawNode, type Ready } from "../raft/rawnode";
import type { MemoryStorage } from "../raft/storage";
import type { Entry, Message, NodeId } from "../raft/types";
import { SimApp } from "./app";
import type { Checker } from "./checker";
import { SimDisk, type CrashReport } from "./disk";
import type { Prng } from "./prng";
import { checkpointOf, encodeRecord, recoverStorage } from "./records";

/** What a node needs from the world around it. */
export interface NodeHost {
  readonly checker: Checker;
  /** Calls back `done` after the disk write (and fsync, if asked) completes. */
  scheduleIo(node: SimNode, sync: boolean, done: () => void): void;
  send(m: Message): void;
  applied(node: SimNode, e: Entry): void;
  /** A vote was granted and sent (a fault point). */
  votedFor(node: SimNode): void;
}

/** Readys handled in one turn without touching the disk (each applies at least one entry). */
const PUMP_READIES_MAX = 1_000_000;

export interface NodeStats {
  readies: number;
  compactions: number;
  snapshotsInstalled: number;
  restarts: number;
}

interface Running {
  readonly rn: RawNode;
  readonly storage: MemoryStorage;
  app: SimApp;
  busy: boolean;
}

export interface NodeSettings {
  readonly raft: Omit<Config, "id" | "randomInt" | "applied">;
  readonly compactEvery: number | null;
  readonly compactKeep: number;
}

export class SimNode {
  readonly disk = new SimDisk();
  run: Running | null = null;
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
    private readonly host: NodeHost,
  ) {}

  /** Boots from whatever the disk holds. */
  start(): void {
    assert(this.run === null, `${this.id} is already running`);
    const storage = recoverStorage(this.disk.recover());
    const snap = storage.snapshot();
    const app = SimApp.decode(snap.data);
    assert(app.index === snap.index, `${this.id}: snapshot at ${snap.index} holds state at ${app.index}`);
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
      assert(readies < PUMP_READIES_MAX, `${this.id}: more than ${PUMP_READIES_MAX} Readys without a write`);
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

  private complete(run: Running, rd: Ready): void {
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
      run.app = SimApp.decode(rd.snapshot.data);
      assert(run.app.index === rd.snapshot.index, `${this.id}: snapshot state does not match its index`);
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
  private maybeCompact(run: Running): void {
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
