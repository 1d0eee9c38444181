// The WAL: what was synced survives a reopen; a torn or corrupted tail is cut
// off and everything before it survives; a conflicting leader's overwrite
// wins; compaction drops whole segments and reopen still works; and, as a
// property, any crash recovers a prefix of what was persisted that includes
// everything synced.
import t from "tap";
import fc from "fast-check";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Wal, WalCorruptionError, crc32c, type WalOptions } from "./wal";
import type { Storage } from "../raft/storage";
import type { Entry, HardState, Snapshot } from "../raft/types";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "mnemo-wal-test-"));
t.teardown(() => fs.rmSync(root, { recursive: true, force: true }));
let dirN = 0;
function freshDir(): string {
  return path.join(root, `d${dirN++}`);
}

function ent(index: number, term: number, size = 8): Entry {
  const data = Buffer.alloc(size, (index * 31 + term) & 0xff);
  return { index, term, kind: "normal", data };
}

function ready(hs: HardState | null, entries: Entry[], snapshot: Snapshot | null = null) {
  return { hardState: hs, entries, snapshot };
}

interface View {
  hs: HardState;
  first: number;
  last: number;
  snap: { index: number; term: number; data: number[] };
  ents: { index: number; term: number; kind: string; data: number[] }[];
}

function view(s: Storage): View {
  const first = s.firstIndex();
  const last = s.lastIndex();
  const snap = s.snapshot();
  return {
    hs: s.hardState(),
    first,
    last,
    snap: { index: snap.index, term: snap.term, data: [...snap.data] },
    ents: (last >= first ? s.entries(first, last + 1, Number.MAX_SAFE_INTEGER) : []).map((e) => ({ index: e.index, term: e.term, kind: e.kind, data: [...e.data] })),
  };
}

function lastSegment(dir: string): string {
  const names = fs.readdirSync(dir).filter((n) => n.endsWith(".wal")).sort();
  return path.join(dir, names[names.length - 1] as string);
}

t.test("crc32c matches the standard check value", async (t) => {
  t.equal(crc32c(Buffer.from("123456789")), 0xe3069283);
  t.equal(crc32c(Buffer.from("6789"), crc32c(Buffer.from("12345"))), 0xe3069283);
  // The 8-bytes-a-step loop against the plain byte-at-a-time definition, at any alignment and length.
  const table = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    return c >>> 0;
  });
  const plain = (b: Uint8Array, crc: number, start: number, end: number): number => {
    let c = ~crc >>> 0;
    for (let i = start; i < end; i++) c = ((table[(c ^ (b[i] as number)) & 0xff] as number) ^ (c >>> 8)) >>> 0;
    return ~c >>> 0;
  };
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat(), fc.nat(20), fc.nat(20), (b, seed, cutA, cutB) => {
      const start = Math.min(cutA, b.length);
      const end = Math.max(start, b.length - cutB);
      return crc32c(b, seed >>> 0, start, end) === plain(b, seed >>> 0, start, end);
    }),
  );
});

t.test("hard state and entries round-trip across reopen", async (t) => {
  const dir = freshDir();
  const w = Wal.open(dir);
  t.equal(w.storage.lastIndex(), 0);
  w.persist(ready({ term: 1, vote: "az-a", commit: 0 }, [ent(1, 1), ent(2, 1)]));
  w.persist(ready({ term: 1, vote: "az-a", commit: 2 }, [ent(3, 1, 1000)]));
  w.sync();
  w.persist(ready({ term: 2, vote: null, commit: 3 }, []));
  const before = view(w.storage);
  w.close();
  const r = Wal.open(dir);
  t.same(view(r.storage), before);
  t.same(r.storage.hardState(), { term: 2, vote: null, commit: 3 });
  t.equal(r.storage.lastIndex(), 3);
  t.equal(r.recovery.truncatedBytes, 0);
  // And it keeps appending after a reopen.
  r.persist(ready(null, [ent(4, 2)]));
  r.close();
  const r2 = Wal.open(dir);
  t.equal(r2.storage.lastIndex(), 4);
  t.equal(r2.storage.term(4), 2);
  r2.close();
});

t.test("a torn or corrupted last frame is dropped; everything before survives", async (t) => {
  const dir = freshDir();
  const w = Wal.open(dir);
  for (let i = 1; i <= 20; i++) w.persist(ready({ term: 1, vote: "az-b", commit: i - 1 }, [ent(i, 1, 50)]));
  w.sync();
  const good = view(w.storage);
  const goodSize = fs.statSync(lastSegment(dir)).size;
  w.persist(ready({ term: 2, vote: "az-c", commit: 20 }, [ent(21, 2, 300), ent(22, 2, 300)]));
  w.close();
  const file = lastSegment(dir);
  const full = fs.readFileSync(file);
  t.ok(full.length > goodSize);
  const backup = Buffer.from(full);
  const rnd = fc.sample(fc.tuple(fc.integer({ min: goodSize, max: full.length - 1 }), fc.integer({ min: 1, max: 255 })), { numRuns: 60, seed: 7 });
  for (const [cut, flip] of rnd) {
    // Torn: the file ends anywhere in the last frame.
    fs.writeFileSync(file, backup.subarray(0, cut));
    let r = Wal.open(dir);
    t.same(view(r.storage), good, `truncated at ${cut}`);
    r.closeAbruptly();
    // Corrupted: one byte of the last frame flipped.
    const bad = Buffer.from(backup);
    bad[cut] = (bad[cut] as number) ^ flip;
    fs.writeFileSync(file, bad);
    r = Wal.open(dir);
    t.same(view(r.storage), good, `byte ${cut} flipped`);
    t.equal(fs.statSync(file).size, goodSize, "the torn tail is cut off the file");
    r.closeAbruptly();
  }
  // Zero-filled tail (what some file systems leave after a crash).
  fs.writeFileSync(file, Buffer.concat([backup.subarray(0, goodSize), Buffer.alloc(100)]));
  const r = Wal.open(dir);
  t.same(view(r.storage), good);
  t.equal(r.recovery.truncatedBytes, 0, "a zero-filled tail is free space (preallocation), not a torn write");
  r.close();
});

t.test("corruption in an older, synced segment refuses to open", async (t) => {
  const dir = freshDir();
  const w = Wal.open(dir, { segmentBytes: 4096 });
  for (let i = 1; i <= 60; i++) {
    w.persist(ready(null, [ent(i, 1, 200)]));
    w.sync();
  }
  w.close();
  const names = fs.readdirSync(dir).sort();
  t.ok(names.length >= 3);
  const first = path.join(dir, names[0] as string);
  const buf = fs.readFileSync(first);
  buf[100] = (buf[100] as number) ^ 0xff;
  fs.writeFileSync(first, buf);
  t.throws(() => Wal.open(dir), { name: "WalCorruptionError" });
});

t.test("entries overwritten by a conflicting leader are replaced after reopen", async (t) => {
  const dir = freshDir();
  const w = Wal.open(dir);
  w.persist(ready({ term: 1, vote: "az-a", commit: 1 }, [ent(1, 1), ent(2, 1), ent(3, 1), ent(4, 1)]));
  w.sync();
  // A new leader at term 3 disagrees from index 3 on.
  w.persist(ready({ term: 3, vote: null, commit: 2 }, [ent(3, 3, 20)]));
  w.persist(ready(null, [ent(4, 3, 20), ent(5, 3, 20)]));
  w.persist(ready(null, [ent(5, 3, 21)])); // and once more at 5
  w.sync();
  const before = view(w.storage);
  t.same(before.ents.map((e) => [e.index, e.term]), [[1, 1], [2, 1], [3, 3], [4, 3], [5, 3]]);
  w.close();
  const r = Wal.open(dir);
  t.same(view(r.storage), before);
  t.equal(r.storage.entries(5, 6, 1e9)[0]?.data.length, 21);
  r.close();
});

t.test("a snapshot from the leader replaces the log across reopen", async (t) => {
  const dir = freshDir();
  const w = Wal.open(dir);
  w.persist(ready({ term: 1, vote: null, commit: 2 }, [ent(1, 1), ent(2, 1), ent(3, 1)]));
  w.persist(ready({ term: 2, vote: null, commit: 10 }, [], { index: 10, term: 2, data: Buffer.from("state") }));
  w.persist(ready(null, [ent(11, 2)]));
  w.sync();
  const before = view(w.storage);
  t.equal(before.first, 11);
  w.close();
  const r = Wal.open(dir);
  t.same(view(r.storage), before);
  r.close();
});

t.test("compaction drops whole old segments and reopen still works", async (t) => {
  const dir = freshDir();
  const opts: WalOptions = { segmentBytes: 8192 };
  const w = Wal.open(dir, opts);
  for (let i = 1; i <= 400; i++) {
    const term = i < 150 ? 1 : 2;
    w.persist(ready({ term, vote: term === 1 ? null : "az-b", commit: i - 1 }, [ent(i, term, 100)]));
    if (i % 7 === 0) w.sync();
  }
  w.sync();
  const segsBefore = w.segmentInfo().length;
  t.ok(segsBefore > 5, `${segsBefore} segments`);
  w.compact(300, Buffer.from("app state at 300"));
  const segsAfter = w.segmentInfo();
  t.ok(segsAfter.length < segsBefore, `${segsBefore} -> ${segsAfter.length} segments`);
  const oldest = segsAfter[0];
  t.ok(oldest !== undefined && (segsAfter.length === 1 || oldest.maxIndex > 300), "every segment wholly below the snapshot is gone");
  t.equal(fs.readdirSync(dir).filter((n) => n.endsWith(".wal")).length, segsAfter.length);
  t.equal(w.storage.firstIndex(), 301);
  const before = view(w.storage);
  w.close();
  let r = Wal.open(dir, opts);
  t.same(view(r.storage), before);
  t.same([...r.storage.snapshot().data], [...Buffer.from("app state at 300")]);
  // Keep going, compact again (to the end of the log), reopen again.
  for (let i = 401; i <= 500; i++) r.persist(ready({ term: 2, vote: "az-b", commit: i - 1 }, [ent(i, 2, 100)]));
  r.sync();
  r.compact(499, Buffer.from("at 499"));
  const before2 = view(r.storage);
  t.equal(before2.first, 500);
  r.close();
  r = Wal.open(dir, opts);
  t.same(view(r.storage), before2);
  t.ok(r.segmentInfo().length <= 3);
  r.close();
  // Segments that were dropped but come back (an unsynced unlink) change nothing.
});

t.test("bounds: an oversized Ready and too many segments are refused", async (t) => {
  const dir = freshDir();
  const w = Wal.open(dir, { segmentBytes: 1024, maxFrameBytes: 2048, maxSegments: 3 });
  t.throws(() => w.persist(ready(null, [ent(1, 1, 4096)])), RangeError);
  t.equal(w.storage.lastIndex(), 0, "a refused Ready changes nothing");
  t.throws(() => {
    for (let i = 1; i <= 100; i++) {
      w.persist(ready(null, [ent(i, 1, 500)]));
      w.sync();
    }
  }, RangeError);
  w.closeAbruptly();
});

// ---------------------------------------------------------------- property

type Op =
  | { kind: "append"; term: number; back: number; count: number; size: number }
  | { kind: "vote"; termBump: number }
  | { kind: "snap"; back: number }
  | { kind: "flush" }
  | { kind: "sync" }
  | { kind: "compact"; back: number }
  | { kind: "crash"; cuts: number[] };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant("append" as const), term: fc.nat(1), back: fc.nat(3), count: fc.integer({ min: 1, max: 4 }), size: fc.nat(300) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("vote" as const), termBump: fc.nat(1) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("snap" as const), back: fc.nat(5) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("flush" as const) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("sync" as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("compact" as const), back: fc.nat(10) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("crash" as const), cuts: fc.array(fc.integer({ min: 0, max: 1000 }).map((n) => n / 1000), { minLength: 3, maxLength: 3 }) }) },
);

t.test("property: a crash recovers a prefix of what was persisted, including everything synced", async (t) => {
  let runs = 0;
  let torn = 0;
  fc.assert(
    fc.property(opArb.chain((o) => fc.array(opArb, { minLength: 1, maxLength: 60 }).map((a) => [o, ...a])), (ops) => {
      runs++;
      const dir = freshDir();
      // No preallocation: the spare is written by another thread, which this synchronous property would race.
      const opts: WalOptions = { segmentBytes: 2048, maxPendingBytes: 1500, preallocate: false };
      try {
        let w = Wal.open(dir, opts);
        // Views after each persisted step; `synced` is the index of the newest one known durable.
        let history: View[] = [view(w.storage)];
        let synced = 0;
        let term = 1;
        const hs = (): HardState => ({ term, vote: null, commit: 0 });
        for (const op of ops) {
          const s = w.storage;
          switch (op.kind) {
            case "append": {
              term += op.term;
              const from = Math.max(s.firstIndex(), s.lastIndex() + 1 - op.back);
              const es: Entry[] = [];
              for (let i = 0; i < op.count; i++) es.push(ent(from + i, term, op.size));
              w.persist(ready(op.term > 0 ? hs() : null, es));
              history.push(view(w.storage));
              break;
            }
            case "vote":
              term += op.termBump;
              w.persist(ready({ term, vote: "az-b", commit: 0 }, []));
              history.push(view(w.storage));
              break;
            case "snap": {
              term += 1;
              const idx = Math.max(1, s.lastIndex() + op.back);
              w.persist(ready(hs(), [], { index: idx, term, data: Buffer.from(`s${idx}`) }));
              history.push(view(w.storage));
              break;
            }
            case "flush":
              w.flush();
              break;
            case "sync":
              w.sync();
              synced = history.length - 1;
              break;
            case "compact": {
              const idx = Math.max(s.snapshot().index, s.lastIndex() - op.back);
              if (idx > s.snapshot().index && s.term(idx) === null) break;
              w.compact(idx, Buffer.from(`c${idx}`));
              // Compaction changes the view without losing anything: it replaces the history (all synced).
              history = [view(w.storage)];
              synced = 0;
              break;
            }
            case "crash": {
              // Unsynced bytes may survive in part: cut each segment anywhere between its durable and written size.
              const segs = w.segmentInfo();
              w.closeAbruptly();
              segs.forEach((sg, i) => {
                const frac = op.cuts[i % op.cuts.length] as number;
                const keep = sg.durable + Math.floor((sg.size - sg.durable) * frac);
                if (fs.existsSync(sg.file)) fs.truncateSync(sg.file, keep);
              });
              w = Wal.open(dir, opts);
              if (w.recovery.truncatedBytes > 0) torn++;
              if (process.env.WAL_DEBUG) console.error("crash", segs.map((x) => [x.durable, x.size]), w.recovery);
              const got = view(w.storage);
              const at = history.findIndex((h, i) => i >= synced && JSON.stringify(h) === JSON.stringify(got));
              if (at < 0) {
                throw new Error(`recovered state is no persisted prefix at or after the last sync:\n${JSON.stringify(got).slice(0, 2000)}`);
              }
              history = history.slice(0, at + 1);
              synced = at;
              term = Math.max(1, got.hs.term, got.ents[got.ents.length - 1]?.term ?? 0, got.snap.term);
              break;
            }
          }
        }
        // A clean close and reopen gives exactly the last state.
        const last = history[history.length - 1];
        w.close();
        const r = Wal.open(dir, opts);
        if (JSON.stringify(view(r.storage)) !== JSON.stringify(last)) throw new Error("clean reopen lost something");
        r.close();
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }),
    { numRuns: Number(process.env.WAL_PROPERTY_RUNS ?? 300), seed: process.env.WAL_SEED === undefined ? undefined : Number(process.env.WAL_SEED) },
  );
  t.ok(runs > 0);
  t.ok(torn > 0, `${torn} recoveries cut a torn tail`);
});

t.test("preallocated segments: frames are written over zeros, a crash recovers them, the zeros stay free space", async (t) => {
  const dir = freshDir();
  const opts: WalOptions = { segmentBytes: 4096 };
  const waitSpare = (): Promise<void> => w.settled();
  let w = Wal.open(dir, opts);
  let index = 0;
  const write = (n: number): void => {
    for (let i = 0; i < n; i++) {
      index++;
      w.persist(ready({ term: 1, vote: null, commit: 0 }, [ent(index, 1, 300)]));
      w.sync();
    }
  };
  write(8); // past half a segment: the spare starts filling
  await waitSpare();
  write(6); // rotates into the spare
  const segs = w.segmentInfo();
  t.ok(segs.length >= 2, `${segs.length} segments`);
  const newest = segs[segs.length - 1] as { file: string; size: number };
  t.equal(fs.statSync(newest.file).size, 4096, "the newest segment is preallocated to full size");
  t.ok(newest.size < 4096, "and holds fewer bytes of frames");
  for (const s of segs.slice(0, -1)) t.equal(fs.statSync(s.file).size, s.size, "older segments are cut to their frames");
  const before = view(w.storage);
  w.closeAbruptly();
  w = Wal.open(dir, opts);
  t.same(view(w.storage), before, "everything synced is back");
  t.equal(w.recovery.truncatedBytes, 0, "zeros after the frames are not a torn write");
  t.equal(fs.statSync(lastSegment(dir)).size, 4096, "the preallocated space is kept");
  write(4);
  await waitSpare();
  write(15);
  const after = view(w.storage);
  w.close();
  await w.settled();
  w = Wal.open(dir, opts);
  t.same(view(w.storage), after, "writing on into the preallocated space works across reopens");
  w.close();
  // A torn frame in the zeros is cut off, with the zeros after it.
  const file = lastSegment(dir);
  const fd = fs.openSync(file, "r+");
  const info = Wal.open(dir, opts);
  const end = info.segmentInfo()[info.segmentInfo().length - 1]?.size ?? 0;
  info.close();
  fs.writeSync(fd, Buffer.from([50, 0, 0, 0, 1, 2, 3, 4, 9, 9]), 0, 10, end);
  fs.closeSync(fd);
  w = Wal.open(dir, opts);
  t.same(view(w.storage), after, "a torn frame over the zeros loses nothing synced");
  t.ok(w.recovery.truncatedBytes > 0, "and is reported as a torn write");
  w.close();
});

t.test("compactAsync: the snapshot goes to its own file, then a marker names it; reopen reads it back", async (t) => {
  const dir = freshDir();
  const opts: WalOptions = { segmentBytes: 2048, preallocate: false };
  let w = Wal.open(dir, opts);
  for (let i = 1; i <= 60; i++) {
    w.persist(ready({ term: 1, vote: null, commit: i - 1 }, [ent(i, 1, 100)]));
    w.sync();
  }
  const segsBefore = w.segmentInfo().length;
  const data = Buffer.alloc(50_000, 7);
  const p = w.compactAsync(50, data, 5);
  t.equal(w.storage.snapshot().index, 50, "the snapshot is served at once");
  t.equal(w.storage.firstIndex(), 1, "entries stay until the file is durable");
  t.equal(await p, true);
  t.equal(w.storage.firstIndex(), 46, "then entries are dropped, all but keepEntries");
  t.ok(w.segmentInfo().length < segsBefore, "and whole segments below it");
  t.ok(fs.existsSync(path.join(dir, "0000000000000050.snap")), "the snapshot file exists");
  const before = view(w.storage);
  w.closeAbruptly();
  w = Wal.open(dir, opts);
  const got = view(w.storage);
  const from51 = (v: View): View => ({ ...v, first: 51, ents: v.ents.filter((e) => e.index >= 51) });
  t.same(from51(got), from51(before), "reopen: the same snapshot, hard state and entries after it");
  t.same(Buffer.from(w.storage.snapshot().data), data, "the snapshot's bytes come back from its file");

  // A newer compaction replaces the file; a leader's snapshot arriving meanwhile makes one give up.
  t.equal(await w.compactAsync(55, Buffer.from("fifty-five")), true);
  t.notOk(fs.existsSync(path.join(dir, "0000000000000050.snap")), "the older file is gone");
  const p2 = w.compactAsync(58, Buffer.from("fifty-eight"));
  w.persist(ready({ term: 2, vote: null, commit: 70 }, [], { index: 70, term: 2, data: Buffer.from("from the leader") }));
  w.sync();
  t.equal(await p2, false, "given up: a newer snapshot replaced it");
  w.close();
  await w.settled();
  w = Wal.open(dir, opts);
  t.same(Buffer.from(w.storage.snapshot().data).toString(), "from the leader");
  t.same(
    fs.readdirSync(dir).filter((n) => n.includes(".snap")),
    ["0000000000000055.snap"],
    "only the file the newest marker names is kept",
  );
  w.close();

  // An orphan (written, no marker) is removed; a missing named file is corruption, not silence.
  fs.writeFileSync(path.join(dir, "0000000000000099.snap"), "orphan");
  w = Wal.open(dir, opts);
  w.close();
  t.notOk(fs.existsSync(path.join(dir, "0000000000000099.snap")), "an orphan snapshot file is removed");
  const dir2 = freshDir();
  let w2 = Wal.open(dir2, opts);
  for (let i = 1; i <= 10; i++) w2.persist(ready({ term: 1, vote: null, commit: i - 1 }, [ent(i, 1, 10)]));
  w2.sync();
  await w2.compactAsync(8, Buffer.from("eight"));
  w2.close();
  fs.rmSync(path.join(dir2, "0000000000000008.snap"));
  t.throws(() => (w2 = Wal.open(dir2, opts)), WalCorruptionError, "a missing snapshot file refuses to open");
});
