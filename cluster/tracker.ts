// The reply tracker of a durable primary: which log seq each reply depends on.
//
// Every event-loop turn's effects become one log record; the record being
// filled is the *open* batch, and its seq is known in advance (one record per
// batch, appended in order): openSeq = sealedSeq + 1. A key written in the open
// batch is dirty until that seq commits. A reply waits for:
//   - the open batch, when its command wrote (its effects are in that batch);
//   - the newest batch that wrote any key it reads, when that is uncommitted;
//   - every pending batch, when it reads no particular key (DBSIZE, KEYS, SCAN,
//     INFO, EXEC ...): it may have observed any of them.
// So no client ever observes a write the log could still lose.
import type { Engine } from "../engine/engine";

/** Dirty-key entries dropped per commit at most; the rest go on the next commit. */
const PRUNE_PER_COMMIT_MAX = 100_000;

export class Tracker {
  /** Seq of the newest record handed to the log (sealed). */
  sealedSeq: number;
  /** Highest seq the log has committed (every seq up to it is committed). */
  committedSeq: number;
  /** Per db: key -> seq of the newest batch that wrote it. */
  private readonly dirty = new Map<number, Map<string, number>>();
  /** Keys written per sealed-but-uncommitted batch, for pruning on commit. */
  private readonly written: { seq: number; keys: [number, string][] }[] = [];
  private openKeys: [number, string][] = [];

  constructor(
    private readonly engine: Engine,
    tipSeq: number,
  ) {
    this.sealedSeq = tipSeq;
    this.committedSeq = tipSeq;
  }

  get openSeq(): number {
    return this.sealedSeq + 1;
  }

  /** True when a batch is open (effects recorded this turn). */
  get openHasEffects(): boolean {
    return this.engine.effectsPending > 0;
  }

  /** The engine changed `key` in `db` (it is in the open batch). */
  keyWritten(db: number, key: string): void {
    let m = this.dirty.get(db);
    if (m === undefined) {
      m = new Map();
      this.dirty.set(db, m);
    }
    m.set(key, this.openSeq);
    this.openKeys.push([db, key]);
  }

  /** The open batch was handed to the log as `seq`. */
  sealed(seq: number): void {
    this.sealedSeq = seq;
    this.written.push({ seq, keys: this.openKeys });
    this.openKeys = [];
  }

  /** The newest pending seq a keyless read may have observed; 0 when nothing is pending. */
  latestPending(): number {
    if (this.openHasEffects) return this.openSeq;
    return this.sealedSeq > this.committedSeq ? this.sealedSeq : 0;
  }

  /** The seq a reply to argv (run in db) waits for; wrote: the command recorded effects. */
  waitFor(db: number, keys: readonly string[] | null, wrote: boolean): number {
    if (wrote) return this.openSeq;
    if (this.latestPending() === 0) return 0;
    if (keys === null || keys.length === 0) return this.latestPending();
    const m = this.dirty.get(db);
    if (m === undefined) return 0;
    let wait = 0;
    for (const k of keys) {
      const s = m.get(k);
      if (s !== undefined && s > this.committedSeq && s > wait) wait = s;
    }
    return wait;
  }

  /** The log committed everything up to `seq`. */
  committed(seq: number): void {
    if (seq <= this.committedSeq) return;
    this.committedSeq = seq;
    let budget = PRUNE_PER_COMMIT_MAX;
    while (this.written.length > 0 && budget > 0) {
      const b = this.written[0] as { seq: number; keys: [number, string][] };
      if (b.seq > seq) break;
      this.written.shift();
      for (const [db, key] of b.keys) {
        const m = this.dirty.get(db);
        if (m !== undefined && m.get(key) === b.seq) m.delete(key);
      }
      budget -= b.keys.length;
    }
  }

  /** Uncommitted dirty keys (INFO, tests). */
  get dirtyKeys(): number {
    let n = 0;
    for (const m of this.dirty.values()) n += m.size;
    return n;
  }
}
