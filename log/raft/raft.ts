// The Raft protocol as a pure, synchronous state machine (Ongaro & Ousterhout,
// "In Search of an Understandable Consensus Algorithm", figure 2 and section 5;
// pre-vote and check-quorum from Ongaro's thesis, 9.6). Time is ticks, I/O is
// the caller's: outgoing messages queue in `msgs`, and messages to ourselves
// (our own vote, our own append acknowledgement) wait in `msgsAfterPersist`
// until the application has made the state they vouch for durable.
import { assert, AssertionError, assertNever } from "./assert";
import { validateConfig, type Config } from "./config";
import { RaftLog } from "./log";
import { Progress } from "./progress";
import type { Storage } from "./storage";
import { entryBytes, entriesBytes, type Entry, type HardState, type Message, type NodeId } from "./types";

type Votes = Map<NodeId, boolean>;

/** The role and the state only that role has. Leader-only state lives only in the leader variant. */
export type Role =
  | { readonly kind: "follower"; leader: NodeId | null }
  | { readonly kind: "pre-candidate"; readonly votes: Votes }
  | { readonly kind: "candidate"; readonly votes: Votes }
  | {
      readonly kind: "leader";
      readonly progress: Map<NodeId, Progress>;
      heartbeatElapsed: number;
      /** Payload bytes proposed in this term and not yet committed. */
      uncommittedBytes: number;
    };

export type RoleKind = Role["kind"];
type LeaderRole = Extract<Role, { kind: "leader" }>;
type CandidateRole = Extract<Role, { kind: "pre-candidate" | "candidate" }>;

export type ProposeResult =
  | { readonly kind: "ok"; readonly index: number; readonly lastIndex: number; readonly term: number }
  | { readonly kind: "not-leader"; readonly leader: NodeId | null }
  | { readonly kind: "dropped"; readonly reason: string };

type VoteResult = "won" | "lost" | "pending";

/** Messages waiting for the next Ready; more means the shell stopped calling ready(). */
export const PENDING_MESSAGES_MAX = 1_000_000;

export class Raft {
  readonly id: NodeId;
  readonly peers: readonly NodeId[];
  readonly log: RaftLog;
  term: number;
  vote: NodeId | null;
  role: Role = { kind: "follower", leader: null };
  /** Ticks since we last heard from a leader (follower), started campaigning, or checked the quorum (leader). */
  electionElapsed = 0;
  private randomizedElectionTimeout = 0;
  private readonly quorum: number;
  private readonly matchScratch: number[] = [];
  private readonly cfg: Config;
  /** Messages to send once the current Ready is persisted. */
  msgs: Message[] = [];
  /** Messages to ourselves, stepped only after the state they acknowledge is persisted. */
  msgsAfterPersist: Message[] = [];

  constructor(cfg: Config, storage: Storage) {
    validateConfig(cfg);
    this.cfg = cfg;
    this.id = cfg.id;
    this.peers = [...cfg.peers].sort();
    this.quorum = Math.floor(this.peers.length / 2) + 1;
    const hs = storage.hardState();
    this.log = new RaftLog(storage, cfg.applied ?? storage.snapshot().index, cfg.applyBytesMax);
    this.term = hs.term;
    this.vote = hs.vote;
    if (!(hs.vote === null || this.peers.includes(hs.vote))) throw new AssertionError(`stored vote for unknown node ${hs.vote}`);
    this.resetElectionTimeout();
    this.checkInvariants();
  }

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.log.committed };
  }

  /** The leader we know of in this term, if any. */
  leader(): NodeId | null {
    const r = this.role;
    if (r.kind === "leader") return this.id;
    return r.kind === "follower" ? r.leader : null;
  }

  // ---- inputs -------------------------------------------------------------

  tick(): void {
    const r = this.role;
    if (r.kind === "leader") this.tickLeader(r);
    else this.tickElection();
  }

  /** Starts an election now (the election timer does this on its own). */
  campaign(): void {
    if (this.role.kind === "leader") return;
    if (this.cfg.preVote) this.becomePreCandidate();
    else this.becomeCandidate();
  }

  propose(data: Uint8Array): ProposeResult {
    return this.proposeBatch([data]);
  }

  /** Appends several entries at once (one message per follower carries them all). */
  proposeBatch(datas: readonly Uint8Array[]): ProposeResult {
    const r = this.role;
    if (r.kind !== "leader") return { kind: "not-leader", leader: this.leader() };
    assert(datas.length > 0, "empty proposal");
    const first = this.log.lastIndex() + 1;
    const ents: Entry[] = datas.map((data, i) => ({ index: first + i, term: this.term, kind: "normal", data }));
    const bytes = entriesBytes(ents);
    if (r.uncommittedBytes > 0 && r.uncommittedBytes + bytes > this.cfg.uncommittedBytesMax) {
      return { kind: "dropped", reason: "too many uncommitted bytes" };
    }
    r.uncommittedBytes += bytes;
    const last = this.appendAsLeader(ents);
    this.bcastAppend(r);
    return { kind: "ok", index: first, lastIndex: last, term: this.term };
  }

  step(m: Message): void {
    if (m.to !== this.id) throw new AssertionError(`message for ${m.to} stepped into ${this.id}`);
    if (!this.peers.includes(m.from)) throw new AssertionError(`message from a stranger: ${m.from}`);
    if (m.term > this.term) {
      if (!this.onHigherTerm(m)) return;
    } else if (m.term < this.term) {
      this.onLowerTerm(m);
      return;
    }
    switch (m.kind) {
      case "prevote":
      case "vote":
        this.handleVoteRequest(m);
        return;
      default:
        break;
    }
    const r = this.role;
    switch (r.kind) {
      case "leader":
        this.stepLeader(r, m);
        return;
      case "pre-candidate":
      case "candidate":
        this.stepCandidate(r, m);
        return;
      case "follower":
        this.stepFollower(r, m);
        return;
      default:
        assertNever(r, "role");
    }
  }

  // ---- term rules (figure 2, "all servers") -------------------------------

  /** Returns false when the message must be ignored. */
  private onHigherTerm(m: Message): boolean {
    if ((m.kind === "vote" || m.kind === "prevote") && this.inLease()) {
      // Thesis 9.6: within the minimum election timeout of hearing from a leader,
      // neither update the term nor grant a vote, so a rejoining node cannot depose it.
      return false;
    }
    if (m.kind === "prevote") return true; // a pre-vote never changes our term
    if (m.kind === "prevote-resp" && !m.reject) return true; // the term we would campaign in; not ours yet
    const fromLeader = m.kind === "app" || m.kind === "heartbeat" || m.kind === "snap";
    this.becomeFollower(m.term, fromLeader ? m.from : null);
    return true;
  }

  private onLowerTerm(m: Message): void {
    if ((this.cfg.checkQuorum || this.cfg.preVote) && (m.kind === "app" || m.kind === "heartbeat")) {
      // A stale leader, or a node that raised its term while cut off: our reply
      // carries our term, which makes a stale leader step down. Without it a
      // partitioned node that cannot win (pre-vote, lease) would never learn the term.
      this.send({ kind: "app-resp", from: this.id, to: m.from, term: this.term, index: 0, reject: false, hintIndex: 0, hintTerm: 0 });
    } else if (m.kind === "prevote") {
      this.send({ kind: "prevote-resp", from: this.id, to: m.from, term: this.term, reject: true });
    }
  }

  private inLease(): boolean {
    return this.cfg.checkQuorum && this.leader() !== null && this.electionElapsed < this.cfg.electionTicks;
  }

  private handleVoteRequest(m: Extract<Message, { kind: "vote" | "prevote" }>): void {
    const respKind = m.kind === "vote" ? "vote-resp" : "prevote-resp";
    const canVote =
      this.vote === m.from ||
      (this.vote === null && this.leader() === null) ||
      (m.kind === "prevote" && m.term > this.term);
    if (canVote && this.log.isUpToDate(m.lastIndex, m.lastTerm)) {
      // Reply with the request's term: a pre-vote's term is in our future, and
      // the candidate ignores replies from terms other than its own.
      this.send({ kind: respKind, from: this.id, to: m.from, term: m.term, reject: false });
      if (m.kind === "vote") {
        this.restartElectionTimer();
        this.vote = m.from;
      }
    } else {
      this.send({ kind: respKind, from: this.id, to: m.from, term: this.term, reject: true });
    }
  }

  // ---- followers and candidates -------------------------------------------

  private stepFollower(r: Extract<Role, { kind: "follower" }>, m: Message): void {
    switch (m.kind) {
      case "app":
      case "heartbeat":
      case "snap":
        if (!(r.leader === null || r.leader === m.from)) throw new AssertionError(`two leaders in term ${this.term}: ${r.leader} and ${m.from}`);
        r.leader = m.from;
        this.electionElapsed = 0;
        this.handleFromLeader(m);
        return;
      default:
        return; // stale responses to a role we no longer have
    }
  }

  private stepCandidate(r: CandidateRole, m: Message): void {
    switch (m.kind) {
      case "app":
      case "heartbeat":
      case "snap":
        this.becomeFollower(m.term, m.from);
        this.handleFromLeader(m);
        return;
      case "prevote-resp":
      case "vote-resp": {
        if ((m.kind === "vote-resp") !== (r.kind === "candidate")) return; // from the other phase
        if (!r.votes.has(m.from)) r.votes.set(m.from, !m.reject);
        const result = this.tally(r.votes);
        if (result === "won") {
          if (r.kind === "pre-candidate") this.becomeCandidate();
          else this.becomeLeader();
        } else if (result === "lost") {
          this.becomeFollower(this.term, null);
        }
        return;
      }
      default:
        return;
    }
  }

  private handleFromLeader(m: Extract<Message, { kind: "app" | "heartbeat" | "snap" }>): void {
    switch (m.kind) {
      case "app":
        this.handleAppend(m);
        return;
      case "heartbeat":
        this.log.commitTo(m.commit);
        this.send({ kind: "heartbeat-resp", from: this.id, to: m.from, term: this.term });
        return;
      case "snap":
        this.handleSnapshot(m);
        return;
      default:
        assertNever(m, "leader message");
    }
  }

  private handleAppend(m: Extract<Message, { kind: "app" }>): void {
    const reply = (index: number): void => this.send({ kind: "app-resp", from: this.id, to: m.from, term: this.term, index, reject: false, hintIndex: 0, hintTerm: 0 });
    if (m.prevIndex < this.log.committed) {
      reply(this.log.committed);
      return;
    }
    const last = this.log.maybeAppend(m.prevIndex, m.prevTerm, m.commit, m.entries);
    if (last !== null) {
      reply(last);
      return;
    }
    // Fast back-off: name the last entry at or before prevIndex whose term is
    // <= prevTerm; nothing after it in our log can match the leader's.
    const hint = this.log.findConflictByTerm(Math.min(m.prevIndex, this.log.lastIndex()), m.prevTerm);
    this.send({ kind: "app-resp", from: this.id, to: m.from, term: this.term, index: m.prevIndex, reject: true, hintIndex: hint.index, hintTerm: hint.term });
  }

  private handleSnapshot(m: Extract<Message, { kind: "snap" }>): void {
    const s = m.snapshot;
    if (s.index > this.log.committed) {
      if (this.log.matchTerm(s.index, s.term)) this.log.commitTo(s.index);
      else this.log.restore(s);
    }
    this.send({ kind: "app-resp", from: this.id, to: m.from, term: this.term, index: this.log.committed, reject: false, hintIndex: 0, hintTerm: 0 });
  }

  private tickElection(): void {
    this.electionElapsed++;
    if (this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.campaign();
    }
  }

  private tally(votes: Votes): VoteResult {
    let granted = 0;
    let rejected = 0;
    for (const v of votes.values()) {
      if (v) granted++;
      else rejected++;
    }
    if (granted >= this.quorum) return "won";
    if (rejected > this.peers.length - this.quorum) return "lost";
    return "pending";
  }

  // ---- leaders -------------------------------------------------------------

  private stepLeader(r: LeaderRole, m: Message): void {
    switch (m.kind) {
      case "app":
      case "heartbeat":
      case "snap":
        throw new AssertionError(`two leaders in term ${this.term}: ${this.id} and ${m.from}`);
        return;
      case "app-resp": {
        const pr = this.progressOf(r, m.from);
        pr.recentActive = true;
        if (m.reject) this.onAppendRejected(r, pr, m);
        else this.onAppendAccepted(r, pr, m.from, m.index);
        return;
      }
      case "heartbeat-resp": {
        const pr = this.progressOf(r, m.from);
        pr.recentActive = true;
        pr.resume();
        if (pr.match < this.log.lastIndex() || pr.state.kind === "probe") this.sendAppend(r, m.from, true);
        return;
      }
      default:
        return;
    }
  }

  private onAppendAccepted(r: LeaderRole, pr: Progress, from: NodeId, index: number): void {
    const probeConfirmed = pr.match === index && pr.state.kind === "probe";
    if (!pr.maybeUpdate(index) && !probeConfirmed) return;
    const s = pr.state;
    if (s.kind === "probe") {
      pr.becomeReplicate();
    } else if (s.kind === "snapshot") {
      if (pr.match + 1 >= this.log.firstIndex()) {
        pr.becomeProbe();
        pr.becomeReplicate();
      }
    } else {
      s.inflights.freeLE(index);
    }
    // A new commit index reaches the followers with the next append or
    // heartbeat (at most heartbeatTicks later), not in messages of its own:
    // an empty append to every follower per commit doubled the messages, the
    // process wakeups and the socket writes of every append on the log nodes.
    this.maybeCommit(r);
    if (from === this.id) return;
    while (this.sendAppend(r, from, false)) {
      // send as much as the window allows
    }
  }

  private onAppendRejected(r: LeaderRole, pr: Progress, m: Extract<Message, { kind: "app-resp" }>): void {
    // The follower's log matches ours up to pr.match for good (it acknowledged
    // only persisted entries), so a genuine rejection hints at or above match.
    // One below was sent before that acknowledgement, by an append that was in
    // flight when we fell back to probing: acting on it would restart the probe.
    if (pr.state.kind === "replicate" && m.hintIndex < pr.match) return;
    let next = m.hintIndex;
    // The follower's hint term bounds where our logs can agree: skip every
    // entry of ours whose term is above it (at most one probe per term).
    if (m.hintTerm > 0) next = this.log.findConflictByTerm(m.hintIndex, m.hintTerm).index;
    if (!pr.maybeDecrTo(m.index, next)) return;
    if (pr.state.kind === "replicate") pr.becomeProbe();
    this.sendAppend(r, m.from, true);
  }

  /** Commits the highest index a quorum has persisted, if it is from our term (figure 8). */
  private maybeCommit(r: LeaderRole): void {
    const matches = this.matchScratch;
    matches.length = 0;
    for (const p of r.progress.values()) matches.push(p.match);
    matches.sort((a, b) => b - a);
    const quorumIndex = matches[this.quorum - 1] ?? 0;
    const before = this.log.committed;
    if (!this.log.maybeCommit(quorumIndex, this.term)) return;
    const ents = this.log.slice(Math.max(before + 1, this.log.firstIndex()), this.log.committed + 1, Number.MAX_SAFE_INTEGER) ?? [];
    for (const e of ents) if (e.term === this.term && e.kind === "normal") r.uncommittedBytes -= entryBytes(e);
    assert(r.uncommittedBytes >= 0, "uncommitted bytes went negative");
  }

  private tickLeader(r: LeaderRole): void {
    r.heartbeatElapsed++;
    this.electionElapsed++;
    for (const pr of r.progress.values()) {
      const s = pr.state;
      if (s.kind === "snapshot" && ++s.ticks >= this.cfg.electionTicks) pr.abortSnapshot();
    }
    if (this.electionElapsed >= this.cfg.electionTicks) {
      this.electionElapsed = 0;
      if (this.cfg.checkQuorum) {
        if (!this.quorumActive(r)) {
          this.becomeFollower(this.term, null);
          return;
        }
        for (const [id, pr] of r.progress) if (id !== this.id) pr.recentActive = false;
      }
    }
    if (r.heartbeatElapsed >= this.cfg.heartbeatTicks) {
      r.heartbeatElapsed = 0;
      this.bcastHeartbeat(r);
    }
  }

  private quorumActive(r: LeaderRole): boolean {
    let active = 0;
    for (const [id, pr] of r.progress) if (id === this.id || pr.recentActive) active++;
    return active >= this.quorum;
  }

  private bcastAppend(r: LeaderRole): void {
    for (const id of this.peers) if (id !== this.id) this.sendAppend(r, id, true);
  }

  private bcastHeartbeat(r: LeaderRole): void {
    for (const id of this.peers) {
      if (id === this.id) continue;
      const pr = this.progressOf(r, id);
      // Never tell a follower to commit past what we know it holds.
      this.send({ kind: "heartbeat", from: this.id, to: id, term: this.term, commit: Math.min(pr.match, this.log.committed) });
    }
  }

  /** Sends the follower what it lacks, a snapshot if that is compacted; false if nothing was sent. */
  private sendAppend(r: LeaderRole, to: NodeId, sendIfEmpty: boolean): boolean {
    const pr = this.progressOf(r, to);
    if (pr.isPaused()) return false;
    const prevIndex = pr.next - 1;
    const last = this.log.lastIndex();
    if (!(prevIndex <= last)) throw new AssertionError(`progress of ${to} runs past our log (${pr.next} > ${last + 1})`);
    const prevTerm = this.log.term(prevIndex);
    if (prevTerm === null) return this.sendSnapshot(to, pr);
    let entries: Entry[] = [];
    if (pr.canSendEntries() && pr.next <= last) {
      const got = this.log.slice(pr.next, last + 1, this.cfg.msgBytesMax);
      if (got === null) return this.sendSnapshot(to, pr);
      entries = got;
    }
    if (entries.length === 0 && !sendIfEmpty) return false;
    this.send({ kind: "app", from: this.id, to, term: this.term, prevIndex, prevTerm, entries, commit: this.log.committed });
    pr.sentEntries(entries.length, entriesBytes(entries));
    return true;
  }

  private sendSnapshot(to: NodeId, pr: Progress): boolean {
    if (!pr.recentActive) return false; // don't ship a snapshot into the void
    const snapshot = this.log.snapshot();
    assert(snapshot.index > 0 && snapshot.index >= this.log.firstIndex() - 1, "log compacted beyond the newest snapshot");
    pr.becomeSnapshot(snapshot.index);
    this.send({ kind: "snap", from: this.id, to, term: this.term, snapshot });
    return true;
  }

  private appendAsLeader(ents: readonly Entry[]): number {
    const last = this.log.append(ents);
    // Our own acknowledgement counts only once the entries are on our disk.
    this.send({ kind: "app-resp", from: this.id, to: this.id, term: this.term, index: last, reject: false, hintIndex: 0, hintTerm: 0 });
    return last;
  }

  private progressOf(r: LeaderRole, id: NodeId): Progress {
    const pr = r.progress.get(id);
    if (pr === undefined) throw new AssertionError(`no progress for ${id}`);
    return pr;
  }

  // ---- transitions -----------------------------------------------------------

  becomeFollower(term: number, leader: NodeId | null): void {
    if (!(term >= this.term)) throw new AssertionError(`term went backwards: ${this.term} -> ${term}`);
    if (term !== this.term) {
      this.term = term;
      this.vote = null;
    }
    this.role = { kind: "follower", leader };
    // Figure 2: the election timer restarts only on hearing from the current
    // leader or granting a vote. Restarting it on every higher term (as etcd
    // does) lets a candidate that can never win, say one with a stale log and a
    // fast clock, hold off every other election forever when pre-vote is off.
    if (leader !== null) this.restartElectionTimer();
  }

  private restartElectionTimer(): void {
    this.electionElapsed = 0;
    this.resetElectionTimeout();
  }

  private becomePreCandidate(): void {
    // Neither the term nor the vote changes: a pre-vote only asks "would you vote for me?".
    const votes: Votes = new Map([[this.id, true]]);
    this.role = { kind: "pre-candidate", votes };
    for (const id of this.peers) {
      if (id === this.id) continue;
      this.send({ kind: "prevote", from: this.id, to: id, term: this.term + 1, lastIndex: this.log.lastIndex(), lastTerm: this.log.lastTerm() });
    }
    if (this.tally(votes) === "won") this.becomeCandidate();
  }

  private becomeCandidate(): void {
    this.term += 1;
    this.vote = this.id;
    this.role = { kind: "candidate", votes: new Map() };
    this.restartElectionTimer();
    // Our own vote counts once the vote is durable, like everyone else's.
    this.send({ kind: "vote-resp", from: this.id, to: this.id, term: this.term, reject: false });
    for (const id of this.peers) {
      if (id === this.id) continue;
      this.send({ kind: "vote", from: this.id, to: id, term: this.term, lastIndex: this.log.lastIndex(), lastTerm: this.log.lastTerm() });
    }
  }

  private becomeLeader(): void {
    assert(this.role.kind === "candidate" && this.vote === this.id, "only a candidate that voted for itself can lead");
    const next = this.log.lastIndex() + 1;
    const limits = { inflightMsgsMax: this.cfg.inflightMsgsMax, inflightBytesMax: this.cfg.inflightBytesMax };
    const progress = new Map<NodeId, Progress>();
    for (const id of this.peers) progress.set(id, new Progress(next, limits));
    const self = progress.get(this.id) as Progress;
    self.becomeReplicate();
    self.recentActive = true;
    const r: LeaderRole = { kind: "leader", progress, heartbeatElapsed: 0, uncommittedBytes: 0 };
    this.role = r;
    this.electionElapsed = 0;
    // Commit an entry of our own term before anything else (section 5.4.2):
    // until it commits we cannot know which earlier entries are committed.
    this.appendAsLeader([{ index: next, term: this.term, kind: "noop", data: new Uint8Array(0) }]);
    this.bcastAppend(r);
  }

  private resetElectionTimeout(): void {
    const n = this.cfg.electionTicks;
    const jitter = this.cfg.randomInt(n);
    if (!(Number.isInteger(jitter) && jitter >= 0 && jitter < n)) throw new AssertionError(`randomInt(${n}) returned ${jitter}`);
    this.randomizedElectionTimeout = n + jitter;
  }

  private send(m: Message): void {
    assert(this.msgs.length + this.msgsAfterPersist.length < PENDING_MESSAGES_MAX, "outgoing messages over their limit");
    if (m.to === this.id) this.msgsAfterPersist.push(m);
    else this.msgs.push(m);
  }

  // ---- invariants ------------------------------------------------------------

  checkInvariants(): void {
    const log = this.log;
    assert(log.applied <= log.applying && log.applying <= log.committed, "applied <= applying <= committed");
    if (!(log.committed <= log.lastIndex())) throw new AssertionError(`commit ${log.committed} beyond last index ${log.lastIndex()}`);
    if (!(log.lastTerm() <= this.term)) throw new AssertionError(`log term ${log.lastTerm()} ahead of current term ${this.term}`);
    const r = this.role;
    if (r.kind === "leader" || r.kind === "candidate") if (this.vote !== this.id) throw new AssertionError(`${r.kind} did not vote for itself`);
    if (r.kind !== "leader") return;
    const last = log.lastIndex();
    for (const [id, pr] of r.progress) {
      pr.check();
      if (!(pr.next <= last + 1)) throw new AssertionError(`progress of ${id}: next ${pr.next} beyond ${last + 1}`);
    }
  }
}
