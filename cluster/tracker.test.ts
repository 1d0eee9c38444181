// The tracker decides which log seq each reply waits for: a read of a key
// written by an uncommitted batch must wait for it; a read of a clean key
// must not; a keyless read waits for everything pending.
import t from "tap";
import { Engine } from "../engine/engine";
import { Tracker } from "./tracker";

/** Runs commands as the server does (effects stay pending until the turn's batch is sealed). */
function setup(): { engine: { execute(argv: string[]): void; takeEffects(): void }; tracker: Tracker } {
  const e = new Engine({ recordEffects: true });
  const tracker = new Tracker(e, 10);
  e.keyListeners.push((db, key) => tracker.keyWritten(db, key));
  const session = e.newSession();
  return { engine: { execute: (argv) => void e.call(session, argv), takeEffects: () => void e.takeEffects() }, tracker };
}

t.test("a write waits for the open batch; reads of its key wait until that batch commits", async (t) => {
  const { engine, tracker } = setup();
  engine.execute(["SET", "a", "1"]);
  t.equal(tracker.waitFor(0, null, true), 11, "the writer waits for the open batch (tip 10 + 1)");
  t.equal(tracker.waitFor(0, ["a"], false), 11, "a reader of the dirty key waits too");
  t.equal(tracker.waitFor(0, ["b"], false), 0, "a reader of a clean key does not");
  t.equal(tracker.waitFor(1, ["a"], false), 0, "the same name in another db is clean");
  t.equal(tracker.waitFor(0, null, false), 11, "a keyless read waits for everything pending");

  engine.takeEffects();
  tracker.sealed(11);
  engine.execute(["SET", "b", "2"]);
  t.equal(tracker.waitFor(0, ["a", "b"], false), 12, "the newest batch among the keys read");
  t.equal(tracker.waitFor(0, null, false), 12);
  engine.takeEffects();
  tracker.sealed(12);

  tracker.committed(11);
  t.equal(tracker.waitFor(0, ["a"], false), 0, "committed: clean");
  t.equal(tracker.waitFor(0, ["b"], false), 12);
  t.equal(tracker.waitFor(0, null, false), 12);
  tracker.committed(12);
  t.equal(tracker.waitFor(0, ["a", "b"], false), 0);
  t.equal(tracker.waitFor(0, null, false), 0, "nothing pending: keyless reads go at once");
  t.equal(tracker.dirtyKeys, 0, "committed keys are forgotten");
});

t.test("a key rewritten by a later batch stays dirty when the earlier one commits", async (t) => {
  const { engine, tracker } = setup();
  engine.execute(["SET", "k", "1"]);
  engine.takeEffects();
  tracker.sealed(11);
  engine.execute(["SET", "k", "2"]);
  engine.takeEffects();
  tracker.sealed(12);
  tracker.committed(11);
  t.equal(tracker.waitFor(0, ["k"], false), 12);
  t.equal(tracker.dirtyKeys, 1);
});

t.test("under steady load committed keys are swept while later batches are still pending", async (t) => {
  const { engine, tracker } = setup();
  for (let i = 0; i < 70_000; i++) engine.execute(["SET", `k${i}`, "v"]);
  engine.takeEffects();
  tracker.sealed(11);
  engine.execute(["SET", "z", "v"]);
  engine.takeEffects();
  tracker.sealed(12);
  tracker.committed(11);
  t.equal(tracker.waitFor(0, ["k5"], false), 0, "a key of the committed batch is clean");
  t.equal(tracker.waitFor(0, ["z"], false), 12, "the pending batch's key is still dirty");
  t.equal(tracker.dirtyKeys, 1);
});
