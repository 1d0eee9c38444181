// Per-follower progress: probe/replicate/snapshot states and the inflight
// window bounded in messages and in bytes.
import t from "tap";
import { Inflights, Progress } from "./progress";

const limits = { inflightMsgsMax: 3, inflightBytesMax: 1000 };

t.test("the inflight window fills by message count or by bytes, and frees by acknowledgement", async (t) => {
  const w = new Inflights(3, 1000);
  w.add(5, 100);
  w.add(7, 100);
  t.notOk(w.full());
  w.add(9, 100);
  t.ok(w.full(), "three messages");
  w.freeLE(6);
  t.equal(w.count(), 2);
  t.equal(w.bytes(), 200);
  t.notOk(w.full());
  w.add(10, 900);
  t.ok(w.full(), "1100 bytes >= 1000");
  w.freeLE(100);
  t.equal(w.count(), 0);
  t.equal(w.bytes(), 0);
  t.throws(() => {
    const f = new Inflights(1, 10);
    f.add(1, 1);
    f.add(2, 1);
  }, { name: "AssertionError" });
});

t.test("a probe sends one append and waits", async (t) => {
  const p = new Progress(6, limits);
  t.equal(p.state.kind, "probe");
  t.notOk(p.isPaused());
  p.sentEntries(2, 100);
  t.ok(p.isPaused(), "one probe in flight");
  t.equal(p.next, 6, "probing does not advance next");
  p.resume();
  t.notOk(p.isPaused(), "a heartbeat response lets another probe go");
});

t.test("replicate streams appends until the window is full", async (t) => {
  const p = new Progress(1, limits);
  p.maybeUpdate(4);
  p.becomeReplicate();
  t.equal(p.next, 5);
  p.sentEntries(2, 100);
  p.sentEntries(2, 100);
  t.equal(p.next, 9, "optimistic: next moves past what was sent");
  t.notOk(p.isPaused());
  p.sentEntries(1, 100);
  t.ok(p.isPaused(), "window of 3 messages is full");
  t.notOk(p.canSendEntries());
  t.ok(p.maybeUpdate(6));
  if (p.state.kind === "replicate") p.state.inflights.freeLE(6);
  t.notOk(p.isPaused());
  t.ok(p.canSendEntries());
});

t.test("rejections: stale ones are ignored; genuine ones move next back using the hint", async (t) => {
  const p = new Progress(11, limits);
  t.notOk(p.maybeDecrTo(5, 3), "a probe rejection must be for next-1");
  t.ok(p.maybeDecrTo(10, 3));
  t.equal(p.next, 4, "next = hint + 1");
  const r = new Progress(1, limits);
  r.maybeUpdate(8);
  r.becomeReplicate();
  r.sentEntries(4, 100);
  t.notOk(r.maybeDecrTo(7, 0), "below match: stale");
  t.ok(r.maybeDecrTo(10, 0));
  t.equal(r.next, 9, "replicate falls back to match + 1");
});

t.test("snapshot state pauses until acknowledged, then probes after the snapshot", async (t) => {
  const p = new Progress(3, limits);
  p.becomeSnapshot(50);
  t.ok(p.isPaused());
  t.equal(p.next, 51);
  p.becomeProbe();
  t.equal(p.next, 51, "probing resumes after the snapshot index");
  p.becomeSnapshot(60);
  p.abortSnapshot();
  t.equal(p.next, p.match + 1, "an unacknowledged snapshot starts over from match");
});
