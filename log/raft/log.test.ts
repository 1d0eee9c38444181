// The Raft log: stable/unstable split, conflict detection, the fast back-off
// search, commit/apply cursors, compaction and snapshots in storage.
import t from "tap";
import { RaftLog } from "./log";
import { MemoryStorage } from "./storage";
import type { Entry } from "./types";

const ASSERTION = { name: "AssertionError" };
const ent = (index: number, term: number, data = ""): Entry => ({ index, term, kind: "normal", data: Buffer.from(data) });
const ents = (terms: number[], from = 1): Entry[] => terms.map((term, i) => ent(from + i, term));
const termsOf = (log: RaftLog): number[] => (log.slice(log.firstIndex(), log.lastIndex() + 1, Infinity) ?? []).map((e) => e.term);

function logWith(stable: number[], unstable: number[] = []): RaftLog {
  const s = new MemoryStorage();
  s.append(ents(stable));
  const log = new RaftLog(s, 0, 1 << 20);
  if (unstable.length > 0) log.append(ents(unstable, stable.length + 1));
  return log;
}

t.test("an empty log has index 0, term 0", async (t) => {
  const log = logWith([]);
  t.equal(log.firstIndex(), 1);
  t.equal(log.lastIndex(), 0);
  t.equal(log.term(0), 0);
  t.equal(log.term(1), null);
  t.equal(log.lastTerm(), 0);
});

t.test("terms are read from storage below the unstable offset and from unstable above it", async (t) => {
  const log = logWith([1, 1, 2], [2, 3]);
  t.same(termsOf(log), [1, 1, 2, 2, 3]);
  t.equal(log.unstable.offset, 4);
  t.equal(log.term(5), 3);
  t.equal(log.term(6), null);
});

t.test("appending over stable entries rewrites them in unstable until persisted", async (t) => {
  const log = logWith([1, 1, 1, 1]);
  log.append([ent(3, 2), ent(4, 2), ent(5, 2)]);
  t.same(termsOf(log), [1, 1, 2, 2, 2]);
  t.equal(log.unstable.offset, 3, "unstable now starts where the rewrite starts");
  t.equal(log.storage.term(3), 1, "storage still holds the old entry until the Ready is persisted");
});

t.test("stableTo ignores an acknowledgement for entries that were rewritten since", async (t) => {
  const log = logWith([1], [1, 1]);
  log.append([ent(2, 2)]);
  log.stableTo(3, 1);
  t.equal(log.unstable.entries.length, 1, "the acknowledged (3, 1) is gone: nothing becomes stable");
  (log.storage as MemoryStorage).append([ent(2, 2)]);
  log.stableTo(2, 2);
  t.equal(log.unstable.entries.length, 0);
  t.equal(log.unstable.offset, 3);
});

t.test("findConflict names the first entry that differs or is missing", async (t) => {
  const log = logWith([1, 2, 3]);
  t.equal(log.findConflict([]), 0);
  t.equal(log.findConflict(ents([1, 2, 3])), 0);
  t.equal(log.findConflict(ents([2, 3], 2)), 0);
  t.equal(log.findConflict(ents([2, 3, 4], 2)), 4, "new entries");
  t.equal(log.findConflict(ents([1, 4, 4], 1)), 2, "term mismatch");
});

t.test("maybeAppend: consistency check, truncation of conflicts, commit bounded by the last new entry", async (t) => {
  const log = logWith([1, 2, 3]);
  t.equal(log.maybeAppend(3, 2, 3, [ent(4, 4)]), null, "prev term mismatch");
  t.equal(log.maybeAppend(4, 3, 3, []), null, "prev beyond the end");
  t.equal(log.maybeAppend(1, 1, 10, [ent(2, 4)]), 2);
  t.same(termsOf(log), [1, 4], "conflicting suffix replaced");
  t.equal(log.committed, 2, "commit = min(leader commit, last new entry)");
  t.equal(log.maybeAppend(2, 4, 2, []), 2);
  t.throws(() => log.maybeAppend(1, 1, 2, [ent(2, 5)]), ASSERTION, "a committed entry is never overwritten");
});

t.test("findConflictByTerm: the last index at or before `index` with a term <= `term`", async (t) => {
  // idx      1 2 3 4 5 6 7 8 9
  // term (L) 1 3 3 3 5 5 5 5 5 (etcd's example)
  const log = logWith([1, 3, 3, 3, 5, 5, 5, 5, 5]);
  t.same(log.findConflictByTerm(6, 2), { index: 1, term: 1 }, "skips every entry with a term above 2");
  t.same(log.findConflictByTerm(9, 5), { index: 9, term: 5 });
  t.same(log.findConflictByTerm(9, 4), { index: 4, term: 3 });
  t.same(log.findConflictByTerm(9, 0), { index: 0, term: 0 });
  t.same(log.findConflictByTerm(20, 3), { index: 4, term: 3 }, "an index beyond the log starts at its end");
});

t.test("slice respects the byte limit but always returns one entry", async (t) => {
  const s = new MemoryStorage();
  s.append([ent(1, 1, "aaaa"), ent(2, 1, "bbbb")]);
  const log = new RaftLog(s, 0, 1 << 20);
  log.append([ent(3, 1, "cccc"), ent(4, 1, "dddd")]);
  t.equal(log.slice(1, 5, 1)?.length, 1);
  t.equal(log.slice(1, 5, 2 * 28)?.length, 2);
  t.equal(log.slice(1, 5, 3 * 28)?.length, 3, "crosses from storage into unstable");
  t.equal(log.slice(1, 5, 1 << 20)?.length, 4);
  t.equal(log.slice(3, 5, 1)?.length, 1);
});

t.test("committed entries are handed out once, in order, bounded in bytes", async (t) => {
  const s = new MemoryStorage();
  s.append(ents([1, 1, 1, 1]));
  const log = new RaftLog(s, 0, 1);
  t.same(log.nextCommittedEntries(), []);
  log.commitTo(3);
  t.same(log.nextCommittedEntries().map((e) => e.index), [1], "one entry per batch under a 1-byte limit");
  log.acceptApplying(1);
  t.same(log.nextCommittedEntries().map((e) => e.index), [2]);
  log.appliedTo(1);
  t.equal(log.applied, 1);
  t.throws(() => log.commitTo(9), ASSERTION, "commit cannot pass the last index");
});

t.test("the commit rule: only an entry of the current term commits by counting", async (t) => {
  const log = logWith([1, 2]);
  t.notOk(log.maybeCommit(2, 3), "index 2 has term 2, not the leader's term 3");
  t.equal(log.committed, 0);
  t.ok(log.maybeCommit(2, 2));
  t.equal(log.committed, 2);
});

t.test("storage compaction keeps the term of the compaction point and refuses to go past the snapshot", async (t) => {
  const s = new MemoryStorage();
  s.append(ents([1, 1, 2, 2, 3]));
  t.throws(() => s.compact(3), ASSERTION, "no snapshot covers 3 yet");
  s.createSnapshot(3, Buffer.from("state@3"));
  s.compact(2);
  t.equal(s.firstIndex(), 3);
  t.equal(s.term(2), 1);
  t.equal(s.term(1), null);
  t.same(s.snapshot().index, 3);
  const log = new RaftLog(s, 3, 1 << 20);
  t.equal(log.slice(2, 4, Infinity), null, "a compacted index cannot be read");
  t.equal(log.slice(3, 4, Infinity)?.length, 1);
  t.equal(log.committed, 3, "entries the application applied count as committed");
});

t.test("restore replaces the log with a snapshot", async (t) => {
  const log = logWith([1, 1, 1]);
  log.restore({ index: 10, term: 4, data: Buffer.from("x") });
  t.equal(log.firstIndex(), 11);
  t.equal(log.lastIndex(), 10);
  t.equal(log.term(10), 4);
  t.equal(log.committed, 10);
  t.notOk(log.hasNextCommittedEntries(), "nothing to apply until the snapshot is installed");
  t.equal(log.snapshot().index, 10);
});
