// Safety checkers, run on every step of a simulation. Each throws a
// SafetyViolation naming the rule of the Raft paper (figure 3) it saw broken.
import type { Raft } from "../raft/raft";
import type { Entry, NodeId } from "../raft/types";
import { entryDigest } from "./app";

export class SafetyViolation extends Error {}

function violated(rule: string, detail: string): never {
  throw new SafetyViolation(`${rule}: ${detail}`);
}

interface LeaderView {
  readonly raft: Raft;
  term: number;
  lastIndex: number;
  lastTerm: number;
}

export interface Acked {
  readonly index: number;
  readonly term: number;
  readonly digest: string;
}

export class Checker {
  private readonly leaderOfTerm = new Map<number, NodeId>();
  private readonly votes = new Map<string, NodeId>();
  /** `${index}:${term}` -> "digest|term of the entry before it", for every entry any log ever held. */
  private readonly entryIds = new Map<string, string>();
  /** Committed index -> [entry term, term of the leader that committed it]. */
  private readonly committed = new Map<number, [number, number]>();
  private committedMax = 0;
  private readonly appliedAt = new Map<number, string>();
  private readonly hashAt = new Map<number, number>();
  private readonly leaderViews = new Map<NodeId, LeaderView>();
  private readonly commitSeen = new Map<NodeId, number>();
  readonly acked = new Map<string, Acked>();
  ackedIndexMax = 0;
  checks = 0;

  /** A node handed these entries to its disk: log matching (same index and term => same entry and same predecessor). */
  onReadyEntries(node: NodeId, entries: readonly Entry[], prevTermOfFirst: number | null): void {
    let prevTerm = prevTermOfFirst;
    for (const e of entries) {
      if (prevTerm === null) violated("log matching", `${node} appends ${e.index} after an entry it cannot name`);
      const id = `${entryDigest(e)}|${prevTerm}`;
      const key = `${e.index}:${e.term}`;
      const seen = this.entryIds.get(key);
      if (seen === undefined) this.entryIds.set(key, id);
      else if (seen !== id) violated("log matching", `${node} holds entry ${key} as ${id}, another log as ${seen}`);
      prevTerm = e.term;
    }
  }

  /** Election safety's precondition: a node grants at most one vote per term, across crashes. */
  onVoteGranted(voter: NodeId, term: number, candidate: NodeId): void {
    const key = `${voter}@${term}`;
    const prev = this.votes.get(key);
    if (prev !== undefined && prev !== candidate) violated("vote once per term", `${voter} voted for ${prev} and ${candidate} in term ${term}`);
    this.votes.set(key, candidate);
  }

  /** State machine safety: every node applies the same entry at each index, reaching the same state. */
  onApply(node: NodeId, e: Entry, stateHash: number): void {
    const d = entryDigest(e);
    const prev = this.appliedAt.get(e.index);
    if (prev === undefined) {
      this.appliedAt.set(e.index, d);
      this.hashAt.set(e.index, stateHash);
      return;
    }
    if (prev !== d) violated("state machine safety", `${node} applied ${d} at ${e.index}, another node ${prev}`);
    if (this.hashAt.get(e.index) !== stateHash) violated("state machine safety", `${node} reached a different state at ${e.index}`);
  }

  onSnapshotInstalled(node: NodeId, index: number, stateHash: number): void {
    const expect = this.hashAt.get(index);
    if (expect === undefined) violated("snapshot", `${node} installed a snapshot at ${index} that no node applied`);
    if (expect !== stateHash) violated("state machine safety", `${node} installed a snapshot at ${index} with a different state`);
  }

  /** A client saw its proposal applied: it must never be lost. */
  onAck(value: string, e: Entry): void {
    this.acked.set(value, { index: e.index, term: e.term, digest: entryDigest(e) });
    this.ackedIndexMax = Math.max(this.ackedIndexMax, e.index);
  }

  /** The per-step checks over the live nodes' Raft state. */
  afterStep(nodes: readonly Raft[]): void {
    this.checks++;
    for (const r of nodes) this.recordCommits(r);
    for (const r of nodes) {
      if (r.role.kind === "leader") this.checkLeader(r);
      else this.leaderViews.delete(r.id);
    }
  }

  /** A crashed node's volatile view is gone; it may lead again in a later term. */
  forget(node: NodeId): void {
    this.leaderViews.delete(node);
    this.commitSeen.delete(node);
  }

  private recordCommits(r: Raft): void {
    const from = this.commitSeen.get(r.id) ?? r.log.firstIndex() - 1;
    const to = r.log.committed;
    if (to <= from) return;
    this.commitSeen.set(r.id, to);
    for (let i = Math.max(from + 1, r.log.firstIndex()); i <= to; i++) {
      const t = r.log.term(i);
      if (t === null) continue;
      const prev = this.committed.get(i);
      if (prev === undefined) {
        this.committed.set(i, [t, r.term]);
        this.checkCompleteAtCommit(i, t, r.term);
      } else if (prev[0] !== t) {
        violated("state machine safety", `${r.id} committed term ${t} at ${i}, another node term ${prev[0]}`);
      } else if (r.term < prev[1]) {
        prev[1] = r.term;
      }
    }
    this.committedMax = Math.max(this.committedMax, to);
  }

  /** Leader completeness, incrementally: leaders of later terms must already hold a newly committed entry. */
  private checkCompleteAtCommit(index: number, term: number, commitTerm: number): void {
    for (const [id, v] of this.leaderViews) {
      if (v.term <= commitTerm || v.raft.role.kind !== "leader" || v.raft.term !== v.term) continue;
      const log = v.raft.log;
      if (index < log.firstIndex()) continue; // inside its snapshot, which the state checks cover
      if (log.term(index) !== term) {
        violated("leader completeness", `${id} leads term ${v.term} without entry ${index} (term ${term}) committed in term ${commitTerm}`);
      }
    }
  }

  private checkLeader(r: Raft): void {
    const last = r.log.lastIndex();
    const v = this.leaderViews.get(r.id);
    if (v === undefined || v.term !== r.term || v.raft !== r) {
      const owner = this.leaderOfTerm.get(r.term);
      if (owner === undefined) this.leaderOfTerm.set(r.term, r.id);
      else if (owner !== r.id) violated("election safety", `${owner} and ${r.id} both led term ${r.term}`);
      this.checkLeaderComplete(r);
    } else {
      // Leader append-only: what it held at the last step is still there, unchanged.
      if (last < v.lastIndex || (v.lastIndex >= r.log.firstIndex() - 1 && r.log.term(v.lastIndex) !== v.lastTerm)) {
        violated("leader append-only", `${r.id} rewrote its log in term ${r.term} (had ${v.lastIndex}/${v.lastTerm}, now ${last})`);
      }
    }
    if (v === undefined || v.raft !== r) {
      this.leaderViews.set(r.id, { raft: r, term: r.term, lastIndex: last, lastTerm: r.log.lastTerm() });
    } else if (v.term !== r.term || v.lastIndex !== last) {
      v.term = r.term;
      v.lastIndex = last;
      v.lastTerm = r.log.lastTerm();
    }
  }

  /** Leader completeness, in full, for a new leader: every entry committed in an earlier term is in its log. */
  private checkLeaderComplete(r: Raft): void {
    const first = r.log.firstIndex();
    for (let i = first; i <= this.committedMax; i++) {
      const c = this.committed.get(i);
      if (c === undefined || c[1] >= r.term) continue;
      const t = r.log.term(i);
      if (t !== c[0]) violated("leader completeness", `${r.id} leads term ${r.term} with ${t === null ? "no entry" : `term ${t}`} at committed ${i} (term ${c[0]})`);
    }
  }

  appliedDigest(index: number): string | undefined {
    return this.appliedAt.get(index);
  }
}
