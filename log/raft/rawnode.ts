// The node as the I/O shell drives it (etcd's RawNode): feed it ticks,
// messages and proposals; take a Ready; persist its hard state, entries and
// snapshot (fsync when mustSync); then send its messages; then apply its
// committed entries; then advance(). Nothing here touches a clock, a socket
// or a disk.
import { assert, AssertionError } from "./assert";
import type { Config } from "./config";
import { Raft, type ProposeResult, type RoleKind } from "./raft";
import type { Storage } from "./storage";
import type { Entry, HardState, Message, NodeId, Snapshot } from "./types";

export interface SoftState {
  readonly role: RoleKind;
  readonly leader: NodeId | null;
}

export interface Ready {
  /** Role and leader, when they changed since the last Ready (not persisted). */
  readonly softState: SoftState | null;
  /** Term, vote and commit to persist, when they changed. */
  readonly hardState: HardState | null;
  /** Entries to append to stable storage; they replace any stored entries from entries[0].index on. */
  readonly entries: readonly Entry[];
  /** A snapshot from the leader to persist and install in the state machine. */
  readonly snapshot: Snapshot | null;
  /** True when term, vote, entries or snapshot changed: write them with fsync before sending anything. */
  readonly mustSync: boolean;
  /** To send only after the above is persisted. */
  readonly messages: readonly Message[];
  /** Committed entries to apply, in order, after the above is persisted. */
  readonly committedEntries: readonly Entry[];
}

export interface Status {
  readonly id: NodeId;
  readonly role: RoleKind;
  readonly leader: NodeId | null;
  readonly term: number;
  readonly vote: NodeId | null;
  readonly commit: number;
  readonly applied: number;
  readonly firstIndex: number;
  readonly lastIndex: number;
}

interface Pending {
  readonly ready: Ready;
  readonly selfMessages: readonly Message[];
}

export class RawNode {
  readonly raft: Raft;
  private readonly storage: Storage;
  private prevHard: HardState;
  private prevSoft: SoftState;
  private pending: Pending | null = null;

  constructor(cfg: Config, storage: Storage) {
    this.storage = storage;
    this.raft = new Raft(cfg, storage);
    this.prevHard = this.raft.hardState();
    this.prevSoft = this.softState();
  }

  tick(): void {
    this.raft.tick();
    this.raft.checkInvariants();
  }

  /** Steps a message from the network; false if it was not for us or not from a peer. */
  step(m: Message): boolean {
    if (m.to !== this.raft.id || m.from === this.raft.id || !this.raft.peers.includes(m.from)) return false;
    this.raft.step(m);
    this.raft.checkInvariants();
    return true;
  }

  propose(data: Uint8Array): ProposeResult {
    return this.proposeBatch([data]);
  }

  proposeBatch(datas: readonly Uint8Array[]): ProposeResult {
    const r = this.raft.proposeBatch(datas);
    this.raft.checkInvariants();
    return r;
  }

  campaign(): void {
    this.raft.campaign();
    this.raft.checkInvariants();
  }

  hasReady(): boolean {
    if (this.pending !== null) return false;
    const r = this.raft;
    const u = r.log.unstable;
    return (
      u.entries.length > 0 ||
      u.snapshot !== null ||
      r.msgs.length > 0 ||
      r.msgsAfterPersist.length > 0 ||
      r.log.hasNextCommittedEntries() ||
      !sameHardState(r.hardState(), this.prevHard) ||
      !sameSoftState(this.softState(), this.prevSoft)
    );
  }

  /** The work to do now. Call advance() when it is done; no other Ready until then. */
  ready(): Ready {
    assert(this.pending === null, "ready() called before advance()");
    const r = this.raft;
    const hs = r.hardState();
    const ss = this.softState();
    const entries = r.log.unstable.entries.slice();
    const snapshot = r.log.unstable.snapshot;
    const committedEntries = r.log.nextCommittedEntries();
    const hardChanged = !sameHardState(hs, this.prevHard);
    const rd: Ready = {
      softState: sameSoftState(ss, this.prevSoft) ? null : ss,
      hardState: hardChanged ? hs : null,
      entries,
      snapshot,
      mustSync: entries.length > 0 || snapshot !== null || hs.term !== this.prevHard.term || hs.vote !== this.prevHard.vote,
      messages: r.msgs,
      committedEntries,
    };
    assert(snapshot === null || committedEntries.length === 0, "a Ready never both installs a snapshot and applies entries");
    const lastCommitted = committedEntries[committedEntries.length - 1];
    if (lastCommitted !== undefined) r.log.acceptApplying(lastCommitted.index);
    this.pending = { ready: rd, selfMessages: r.msgsAfterPersist };
    r.msgs = [];
    r.msgsAfterPersist = [];
    this.prevHard = hs;
    this.prevSoft = ss;
    return rd;
  }

  /** The last Ready is persisted, sent and applied. */
  advance(): void {
    const p = this.pending;
    assert(p !== null, "advance() without a Ready");
    const rd = p.ready;
    const log = this.raft.log;
    this.checkPersisted(rd);
    const lastEntry = rd.entries[rd.entries.length - 1];
    if (lastEntry !== undefined) log.stableTo(lastEntry.index, lastEntry.term);
    if (rd.snapshot !== null) {
      log.stableSnapTo(rd.snapshot.index);
      log.appliedTo(Math.max(log.applied, rd.snapshot.index));
    }
    const lastApplied = rd.committedEntries[rd.committedEntries.length - 1];
    if (lastApplied !== undefined) log.appliedTo(lastApplied.index);
    this.pending = null;
    for (const m of p.selfMessages) this.raft.step(m);
    this.raft.checkInvariants();
  }

  status(): Status {
    const r = this.raft;
    return {
      id: r.id,
      role: r.role.kind,
      leader: r.leader(),
      term: r.term,
      vote: r.vote,
      commit: r.log.committed,
      applied: r.log.applied,
      firstIndex: r.log.firstIndex(),
      lastIndex: r.log.lastIndex(),
    };
  }

  private softState(): SoftState {
    return { role: this.raft.role.kind, leader: this.raft.leader() };
  }

  /** Paired check: what the Ready asked to persist reads back from storage before we rely on it. */
  private checkPersisted(rd: Ready): void {
    const s = this.storage;
    if (rd.hardState !== null) {
      const hs = s.hardState();
      assert(hs.term === rd.hardState.term && hs.vote === rd.hardState.vote, "advance() before the hard state was stored");
    }
    const last = rd.entries[rd.entries.length - 1];
    if (last !== undefined) {
      if (!(s.term(last.index) === last.term || s.firstIndex() > last.index)) throw new AssertionError(`advance() before entry ${last.index} was stored`);
    }
    if (rd.snapshot !== null) assert(s.firstIndex() > rd.snapshot.index, "advance() before the snapshot was stored");
  }
}

function sameHardState(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

function sameSoftState(a: SoftState, b: SoftState): boolean {
  return a.role === b.role && a.leader === b.leader;
}
