// What a snapshotter killed mid-way leaves behind is never taken for a
// snapshot: a temporary (killed while writing, see store.test.ts for the
// SIGKILL itself) or a pending object (killed after writing, before it was
// verified and published) is invisible to listSnapshots, and the next
// snapshotter removes both; a corrupt newest snapshot is skipped for the
// previous one. (The cluster path is covered by test/snapshot-cluster.test.ts.)
import t from "tap";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { snapshotChunks } from "./format";
import { FsStore, listSnapshots, snapshotName, TEMP_PREFIX } from "./store";
import { snapshotEngine, Snapshotter } from "./snapshotter";

const ZERO = new Uint8Array(8);

async function bytesOf(keys: number, seq: number): Promise<Buffer[]> {
  const e = snapshotEngine();
  for (let i = 0; i < keys; i++) e.apply([{ db: 0, argv: ["SET", `k${i}`, `v${i}`] }]);
  return [...snapshotChunks(e, { seq, logChecksum: ZERO, createdAtMs: 1 })];
}

t.test("leftovers of a killed snapshotter are never published, and are swept", async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mnemo-snapper-"));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const store = await new FsStore(dir).open();
  await store.put(snapshotName(100), await bytesOf(10, 100));
  // Killed after writing seq 200 but before verifying it: a pending object.
  await store.put(`pending-${snapshotName(200)}`, await bytesOf(20, 200));
  // Killed while writing seq 300: a temporary.
  fs.writeFileSync(path.join(dir, `${TEMP_PREFIX}${snapshotName(300)}.1.abcd`), "partial");
  // A corrupt newest snapshot (seq 250): one flipped byte in the middle.
  const bad = Buffer.concat(await bytesOf(25, 250));
  const mid = Math.floor(bad.length / 2);
  bad[mid] = (bad[mid] ?? 0) ^ 0xff;
  await store.put(snapshotName(250), [bad]);

  t.same((await listSnapshots(store)).map((s) => s.seq), [250, 100], "only complete, published names are snapshots");

  const lines: string[] = [];
  const s = new Snapshotter({ shard: 0, logNodes: [{ id: "az-a", host: "127.0.0.1", port: 1 }], secret: "x", dir, everyRecords: 1, everyBytes: 1, keep: 3, trimMargin: 0, log: (l) => lines.push(l) });
  await s.init();
  await s.stop();
  t.equal(s.newestSeq, 100, "the corrupt newest snapshot is skipped for the previous one");
  t.equal(s.appliedSeq, 100, "the snapshotter continues from the snapshot it loaded");
  t.match(lines.join("\n"), /snapshot-0000000000000250\.mnsnap is not usable/, "the corrupt snapshot is reported");
  const left = fs.readdirSync(dir).sort();
  t.same(left, [snapshotName(100), snapshotName(250)], "temporaries and pending objects are removed");
});
