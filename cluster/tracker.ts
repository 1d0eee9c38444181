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
import { KeyMap } from "../engine/keymap";

/** The dirty-key maps are swept of committed entries once they pass this many (and doubled since the last sweep). */
const SWEEP_ENTRIES_MIN = 65_536;

export class Tracker {
  /** Seq of the newest record handed to the log (sealed). */
  sealedSeq: number;
  /** Highest seq the log has committed (every seq up to it is committed). */
  committedSeq: number;
  /**
   * Per db: key -> seq of the newest batch that wrote it. Entries at or below
   * committedSeq are clean and ignored; they are dropped all at once when
   * nothing is pending, or by an amortized sweep under steady load.
   */
  private dirty = new Map<number, KeyMap<number>>();
  private entries = 0;
  private entriesAfterSweep = 0;

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
      m = new KeyMap();
      this.dirty.set(db, m);
    }
    const size = m.size;
    m.set(key, this.openSeq);
    if (m.size !== size) this.entries++;
  }

  /** The open batch was handed to the log as `seq`. */
  sealed(seq: number): void {
    this.sealedSeq = seq;
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
    if (this.entries === 0) return;
    if (this.latestPending() === 0) {
      this.dirty = new Map();
      this.entries = this.entriesAfterSweep = 0;
    } else if (this.entries >= SWEEP_ENTRIES_MIN && this.entries >= 2 * this.entriesAfterSweep) {
      this.sweep();
    }
  }

  private sweep(): void {
    let left = 0;
    for (const m of this.dirty.values()) {
      for (const [k, s] of m) {
        if (s <= this.committedSeq) m.delete(k);
        else left++;
      }
    }
    this.entries = this.entriesAfterSweep = left;
  }

  /** Uncommitted dirty keys (INFO, tests). */
  get dirtyKeys(): number {
    let n = 0;
    for (const m of this.dirty.values()) for (const s of m.values()) if (s > this.committedSeq) n++;
    return n;
  }
}
