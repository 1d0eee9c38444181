import t from "tap";
import fc from "fast-check";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { readSnapshot, snapshotChunks } from "./format";
import { FsStore, listSnapshots, newestSnapshot, retainNewest, seqOfName, snapshotName, StoreError, TEMP_PREFIX } from "./store";
import { buildDataset, newEngine, TestClock } from "./testkit";

async function tempStore(t: { teardown: (fn: () => void) => void }): Promise<FsStore> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mnemo-snap-"));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return new FsStore(path.join(dir, "store")).open();
}

async function collect(it: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of it) parts.push(c);
  return Buffer.concat(parts);
}

t.test("names carry the seq and sort like it", async (t) => {
  t.equal(snapshotName(42), "snapshot-0000000000000042.mnsnap");
  t.equal(seqOfName(snapshotName(9007199254740991)), 9007199254740991);
  t.equal(seqOfName("other.txt"), null);
  t.equal(seqOfName(`${TEMP_PREFIX}${snapshotName(1)}.123.abcd`), null);
  t.throws(() => snapshotName(-1), StoreError);
  fc.assert(fc.property(fc.nat(), fc.nat(), (a, b) => Math.sign(a - b) === Math.sign(snapshotName(a).localeCompare(snapshotName(b)))));
});

t.test("put, get, list and delete", async (t) => {
  const store = await tempStore(t);
  const big = Buffer.alloc(3 * 1024 * 1024 + 17, 7);
  await store.put("a.bin", [Buffer.from("hello "), Buffer.from("world")]);
  await store.put("b.bin", (async function* () {
    yield big.subarray(0, 1000);
    yield big.subarray(1000);
  })());
  t.same(await store.list(), ["a.bin", "b.bin"]);
  t.equal((await collect(store.get("a.bin"))).toString(), "hello world");
  t.ok((await collect(store.get("b.bin"))).equals(big), "a multi-MB object comes back byte for byte");
  await store.put("a.bin", [Buffer.from("replaced")]);
  t.equal((await collect(store.get("a.bin"))).toString(), "replaced", "put replaces atomically");
  await store.delete("a.bin");
  await store.delete("a.bin");
  t.same(await store.list(), ["b.bin"]);
  await t.rejects(collect(store.get("a.bin")), /no object named "a.bin"/);
  for (const bad of ["", "../x", "a/b", ".hidden", `${TEMP_PREFIX}x`]) await t.rejects(store.put(bad, []), StoreError, `name ${JSON.stringify(bad)} refused`);
});

t.test("a writer that fails midway leaves nothing listed and no temporary", async (t) => {
  const store = await tempStore(t);
  const failing = (async function* () {
    yield Buffer.alloc(1000);
    throw new Error("source failed");
  })();
  await t.rejects(store.put(snapshotName(5), failing), /source failed/);
  t.same(await store.list(), []);
  t.same(fs.readdirSync(store.dir), [], "the temporary was removed");
});

t.test("a crash between write and rename leaves no partial snapshot listed", async (t) => {
  const store = await tempStore(t);
  await store.put(snapshotName(1), [Buffer.from("complete")]);
  // A child process streams a snapshot forever; it is killed with SIGKILL once its temporary exists.
  const code = `
    const { FsStore, snapshotName } = require(${JSON.stringify(path.join(__dirname, "store.js"))});
    const s = new FsStore(${JSON.stringify(store.dir)});
    s.put(snapshotName(2), (async function* () {
      for (;;) { yield Buffer.alloc(4096, 1); await new Promise((r) => setTimeout(r, 5)); }
    })());`;
  const child = spawn(process.execPath, ["-e", code], { stdio: "ignore" });
  const deadline = Date.now() + 10_000;
  while (!fs.readdirSync(store.dir).some((n) => n.startsWith(TEMP_PREFIX) && fs.statSync(path.join(store.dir, n)).size > 8192)) {
    if (Date.now() > deadline) throw new Error("the child never started writing");
    await new Promise((r) => setTimeout(r, 10));
  }
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGKILL");
  await exited;
  t.ok(fs.readdirSync(store.dir).some((n) => n.startsWith(TEMP_PREFIX)), "the crashed writer's temporary is on disk");
  t.same(await store.list(), [snapshotName(1)], "only the complete snapshot is listed");
  t.same(await newestSnapshot(store), { name: snapshotName(1), seq: 1 });
  t.equal((await store.sweepTemporaries()).length, 1, "sweep removes the leftover");
  t.same(fs.readdirSync(store.dir), [snapshotName(1)]);
});

t.test("retention keeps the newest N snapshots and leaves other objects alone", async (t) => {
  const store = await tempStore(t);
  await fc.assert(
    fc.asyncProperty(fc.uniqueArray(fc.nat({ max: 1_000_000 }), { minLength: 0, maxLength: 12 }), fc.integer({ min: 1, max: 5 }), async (seqs, keep) => {
      for (const n of await store.list()) await store.delete(n);
      await store.put("notes.txt", [Buffer.from("keep me")]);
      for (const s of seqs) await store.put(snapshotName(s), [Buffer.from(String(s))]);
      const deleted = await retainNewest(store, keep);
      const want = [...seqs].sort((a, b) => b - a);
      const left = (await listSnapshots(store)).map((s) => s.seq);
      return JSON.stringify(left) === JSON.stringify(want.slice(0, keep)) && deleted.length === Math.max(0, seqs.length - keep) && (await store.list()).includes("notes.txt");
    }),
    { numRuns: 25 },
  );
  await t.rejects(retainNewest(store, 0), StoreError);
  t.pass("retention property held");
});

t.test("a snapshot streams through the fs store and loads back", async (t) => {
  const store = await tempStore(t);
  const clock = new TestClock();
  const e = newEngine(clock);
  buildDataset(e, clock, [
    { db: 0, key: "big\x00", type: "string", size: 100_000, blob: "0123456789abcdef\xff", ttlMs: 1000, shrink: false },
    { db: 3, key: "stream", type: "stream", size: 500, blob: "s\x00", ttlMs: null, shrink: false },
    { db: 15, key: "z", type: "zset", size: 400, blob: "m", ttlMs: null, shrink: true },
  ]);
  await store.put(snapshotName(77), snapshotChunks(e, { seq: 77, logChecksum: Buffer.alloc(8, 1) }));
  const newest = await newestSnapshot(store);
  t.equal(newest?.seq, 77);
  const loaded = await readSnapshot(store.get(newest?.name ?? ""), { newEngine: () => newEngine(clock) });
  t.equal(loaded.engine.digest(), e.digest());
  t.equal(loaded.header.seq, 77);
  t.ok(loaded.bytes > 1024 * 1024, `${loaded.bytes} bytes, several chunks`);
});
