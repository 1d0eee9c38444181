import t from "tap";
import fc from "fast-check";
import { createHash } from "node:crypto";
import { crc32c } from "../log/io/wal";
import {
  FRAME_HEADER_BYTES,
  loadSnapshotSync,
  PREAMBLE_BYTES,
  readSnapshot,
  snapshotChunks,
  SnapshotError,
  TRAILER_PAYLOAD_BYTES,
  type SnapshotMeta,
  type WriteOptions,
} from "./format";
import { buildDataset, keysOf, newEngine, observe, TestClock, type KeySpec, type KeyType } from "./testkit";
import type { Engine } from "../engine/engine";

const META: SnapshotMeta = { seq: 123456789, logChecksum: Buffer.from("0123abcd", "latin1"), createdAtMs: 1_700_000_123_456 };

function writeAll(e: Engine, meta: SnapshotMeta = META, opts: WriteOptions = {}): Buffer[] {
  return [...snapshotChunks(e, meta, opts)];
}

const binary = fc.uint8Array({ minLength: 0, maxLength: 24 }).map((b) => Buffer.from(b).toString("latin1"));
const keyType = fc.constantFrom<KeyType>("string", "list", "hash", "set", "intset", "zset", "stream");
const size = fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 1, max: 6 }) }, { weight: 1, arbitrary: fc.integer({ min: 100, max: 700 }) });
const ttl = fc.option(fc.integer({ min: -10_000, max: 100_000 }), { nil: null, freq: 3 });

const specsArb: fc.Arbitrary<KeySpec[]> = fc
  .array(fc.record({ db: fc.integer({ min: 0, max: 15 }), key: binary, type: keyType, size, blob: binary, ttlMs: ttl, shrink: fc.boolean() }), { minLength: 0, maxLength: 25 })
  // A unique prefix per key: types never collide, names stay binary.
  .map((specs) => specs.map((s, i) => ({ ...s, key: `${i}\x00${s.key}`, ttlMs: s.ttlMs !== null && s.ttlMs <= 0 && s.type !== "string" ? null : s.ttlMs })));

function show(v: unknown): string {
  return JSON.stringify(v, (_, x: unknown) => (typeof x === "bigint" ? `${x}n` : x));
}

/** Builds, writes and reads back one dataset; returns what differs (nothing when all is well). */
async function roundTripFailures(specs: readonly KeySpec[], opts: WriteOptions): Promise<string[]> {
  const clock = new TestClock();
  const src = newEngine(clock);
  buildDataset(src, clock, specs);
  const chunks = writeAll(src, META, opts);
  const out: string[] = [];
  const bound = opts.chunkBytes ?? 1 << 20;
  if (chunks.slice(1).some((c) => c.length > bound)) out.push(`a chunk exceeds ${bound} bytes`);
  const loaded = await readSnapshot(chunks, { newEngine: () => newEngine(clock) });
  if (loaded.engine.digest() !== src.digest()) out.push("DEBUG DIGEST differs");
  if (loaded.engine.checksum() !== src.checksum()) out.push("the dataset checksum differs");
  if (loaded.header.digest !== src.checksum()) out.push("the header does not carry the source's checksum");
  if (loaded.keys !== keysOf(src).length) out.push(`key count ${loaded.keys}`);
  // Same instant for both engines, so reads see the same keys alive.
  for (const { db, key } of keysOf(src)) {
    const [a, b] = [show(observe(loaded.engine, db, key)), show(observe(src, db, key))];
    if (a !== b) out.push(`db ${db} key ${show(key)}: ${a} vs ${b}`);
  }
  return out;
}

t.test("random datasets of every type survive write -> read into a fresh engine", async (t) => {
  let runs = 0;
  await fc.assert(
    fc.asyncProperty(specsArb, fc.constantFrom(64, 300, 4096, 1 << 20), async (specs, chunkBytes) => {
      runs++;
      const failures = await roundTripFailures(specs, { chunkBytes });
      if (failures.length > 0) throw new Error(failures.join("\n"));
    }),
    { numRuns: 40 },
  );
  t.equal(runs >= 40, true, `${runs} random datasets round-tripped with identical digests and reads`);
});

/** One fixed dataset with every type, big and small, for the corruption tests. */
function fixture(): { engine: Engine; clock: TestClock; bytes: Buffer; frames: number[] } {
  const clock = new TestClock();
  const e = newEngine(clock);
  const specs: KeySpec[] = [];
  const types: KeyType[] = ["string", "list", "hash", "set", "intset", "zset", "stream"];
  for (let i = 0; i < 28; i++) {
    const type = types[i % types.length] ?? "string";
    specs.push({ db: (i * 5) % 16, key: `k${i}\xff\x00`, type, size: i % 4 === 0 ? 300 : 3, blob: `v\r\n${i}\x80`.repeat(4), ttlMs: i % 3 === 0 ? 60_000 : null, shrink: i % 5 === 0 });
  }
  buildDataset(e, clock, specs);
  const chunks = writeAll(e, META, { chunkBytes: 700 });
  // Frame starts: the first chunk is preamble + header frame, each later chunk one frame.
  const frames: number[] = [PREAMBLE_BYTES];
  let at = chunks[0]?.length ?? 0;
  for (const c of chunks.slice(1)) {
    frames.push(at);
    at += c.length;
  }
  return { engine: e, clock, bytes: Buffer.concat(chunks), frames };
}

async function rejects(bytes: Buffer, clock: TestClock, pieces = 1): Promise<string | null> {
  const step = Math.max(1, Math.ceil(bytes.length / pieces));
  const input: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += step) input.push(bytes.subarray(i, i + step));
  try {
    await readSnapshot(input, { newEngine: () => newEngine(clock) });
    return null;
  } catch (e) {
    if (e instanceof SnapshotError) return e.message;
    throw e;
  }
}

t.test("the fixture loads, whatever the input chunking", async (t) => {
  const { engine, clock, bytes } = fixture();
  t.ok(bytes.length > 20_000, `fixture is ${bytes.length} bytes`);
  for (const pieces of [1, 7, 1000, bytes.length]) {
    const r = await readSnapshot(
      (function* () {
        const step = Math.ceil(bytes.length / pieces);
        for (let i = 0; i < bytes.length; i += step) yield bytes.subarray(i, i + step);
      })(),
      { newEngine: () => newEngine(clock) },
    );
    t.equal(r.engine.digest(), engine.digest(), `${pieces} input pieces`);
    t.equal(r.bytes, bytes.length);
  }
  const r = await readSnapshot([bytes], { newEngine: () => newEngine(clock) });
  t.same({ seq: r.header.seq, sum: r.header.logChecksum.toString("latin1"), at: r.header.createdAtMs, dbs: r.header.databases }, { seq: META.seq, sum: "0123abcd", at: META.createdAtMs, dbs: 16 });
});

/** Positions to damage: the first and last 150 bytes, every frame header, and a random sample of the rest. */
function positions(len: number, frames: readonly number[], seed: number, random: number): number[] {
  const out = new Set<number>();
  for (let i = 0; i < Math.min(150, len); i++) {
    out.add(i);
    out.add(len - 1 - i);
  }
  for (const f of frames) for (let i = 0; i < FRAME_HEADER_BYTES; i++) if (f + i < len) out.add(f + i);
  let s = seed;
  for (let i = 0; i < random; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    out.add(s % len);
  }
  return [...out].sort((a, b) => a - b);
}

t.test("flipping any single byte is detected", async (t) => {
  const { clock, bytes, frames } = fixture();
  const at = positions(bytes.length, frames, 42, 600);
  const missed: number[] = [];
  const reasons = new Set<string>();
  for (const p of at) {
    const bad = Buffer.from(bytes);
    bad[p] = (bad[p] ?? 0) ^ (1 + (p % 255));
    const why = await rejects(bad, clock, 1 + (p % 5));
    if (why === null) missed.push(p);
    else reasons.add(why.replace(/\d+/g, "N"));
  }
  t.same(missed, [], `${at.length} positions over ${bytes.length} bytes all rejected`);
  t.comment([...reasons].join("\n"));
});

t.test("truncating at any point is detected", async (t) => {
  const { clock, bytes, frames } = fixture();
  const cuts = new Set([0, ...positions(bytes.length, frames, 7, 400)]);
  for (const f of frames) cuts.add(f);
  const missed: number[] = [];
  for (const c of cuts) if ((await rejects(bytes.subarray(0, c), clock, 3)) === null) missed.push(c);
  t.same(missed, [], `${cuts.size} truncation points all rejected`);
  t.match(await rejects(bytes.subarray(0, frames[frames.length - 1] ?? 0), clock), /truncated/, "a cut before the trailer says truncated");
  t.match(await rejects(Buffer.concat([bytes, Buffer.from([0])]), clock), /follow the trailer/, "extra bytes after the trailer");
});

t.test("a chunk edited with a recomputed CRC is still caught by the trailer", async (t) => {
  const { clock, bytes, frames } = fixture();
  const f = frames[3] ?? 0;
  const len = bytes.readUInt32LE(f + 1);
  const bad = Buffer.from(bytes);
  const p = f + FRAME_HEADER_BYTES + Math.floor(len / 2);
  bad[p] = (bad[p] ?? 0) ^ 0x20;
  bad.writeUInt32LE(crc32c(bad, crc32c(bad, 0, f, f + 5), f + FRAME_HEADER_BYTES, f + FRAME_HEADER_BYTES + len), f + 5);
  t.match(await rejects(bad, clock), /SHA-256|malformed|digest|record|key|db|length|kind|flags/);
  // Swapping two whole data frames keeps every CRC valid.
  const a = frames[2] ?? 0;
  const b = frames[3] ?? 0;
  const c = frames[4] ?? 0;
  const swapped = Buffer.concat([bytes.subarray(0, a), bytes.subarray(b, c), bytes.subarray(a, b), bytes.subarray(c)]);
  t.not(await rejects(swapped, clock), null, "reordered chunks rejected");
});

t.test("header fields, version and magic", async (t) => {
  const { clock, bytes } = fixture();
  const v3 = Buffer.from(bytes);
  v3.writeUInt32LE(3, 8);
  t.match(await rejects(v3, clock), /format version 3 is not supported/);
  const notOurs = Buffer.from(bytes);
  notOurs.write("REDIS001", 0, "latin1");
  t.match(await rejects(notOurs, clock), /bad magic/);
  t.match(await rejects(Buffer.alloc(0), clock), /truncated/);
});

/** Redoes the header frame's CRC, the whole-file SHA-256 and the trailer's CRC after an edit of the preamble or header. */
function reseal(b: Buffer): void {
  const frameCrc = (at: number, end: number): void => {
    b.writeUInt32LE(crc32c(b, crc32c(b, 0, at, at + 5), at + FRAME_HEADER_BYTES, end), at + 5);
  };
  frameCrc(PREAMBLE_BYTES, PREAMBLE_BYTES + FRAME_HEADER_BYTES + 48);
  const trailerAt = b.length - FRAME_HEADER_BYTES - TRAILER_PAYLOAD_BYTES;
  createHash("sha256").update(b.subarray(0, trailerAt)).digest().copy(b, trailerAt + FRAME_HEADER_BYTES + 16);
  frameCrc(trailerAt, b.length);
}

/** The fixture as version 1 wrote it: its version in the preamble, DEBUG DIGEST in the header. */
function asVersion1(engine: Engine): Buffer {
  const b = Buffer.concat(writeAll(engine, { ...META, digest: engine.digest() }, { chunkBytes: 700 }));
  b.writeUInt32LE(1, 8);
  reseal(b);
  return b;
}

t.test("a version 1 snapshot (DEBUG DIGEST in its header) is still read and verified", async (t) => {
  const { engine, clock } = fixture();
  const v1 = asVersion1(engine);
  const r = await readSnapshot([v1], { newEngine: () => newEngine(clock) });
  t.equal(r.header.version, 1);
  t.equal(r.header.digest, engine.digest(), "its header holds DEBUG DIGEST");
  t.equal(r.engine.digest(), engine.digest(), "and the loaded dataset matches it");
  // A version 1 header whose digest is not the dataset's is refused.
  const wrong = Buffer.from(v1);
  const headerDigestAt = PREAMBLE_BYTES + FRAME_HEADER_BYTES + 24;
  wrong[headerDigestAt] = (wrong[headerDigestAt] ?? 0) ^ 1;
  reseal(wrong);
  t.match(await rejects(wrong, clock), /loaded dataset's digest .* differs/);
  // The same edit in a version 2 file (whose header holds the checksum) is refused the same way.
  const v2 = Buffer.concat(writeAll(engine, META, { chunkBytes: 700 }));
  v2[headerDigestAt] = (v2[headerDigestAt] ?? 0) ^ 1;
  reseal(v2);
  t.match(await rejects(v2, clock), /loaded dataset's checksum .* differs/);
});

t.test("an empty engine makes a valid snapshot", async (t) => {
  const clock = new TestClock();
  const e = newEngine(clock);
  const r = await readSnapshot(writeAll(e, { seq: 0, logChecksum: Buffer.alloc(8) }), { newEngine: () => newEngine(clock) });
  t.equal(r.keys, 0);
  t.equal(r.engine.digest(), "0".repeat(40));
  t.equal(r.header.seq, 0);
});

t.test("the writer refuses a dataset that changes under it", async (t) => {
  const clock = new TestClock();
  const e = newEngine(clock);
  for (let i = 0; i < 300; i++) e.execute(["SET", `key${i}`, "x".repeat(50)]);
  const gen = snapshotChunks(e, META, { chunkBytes: 256 });
  gen.next();
  e.execute(["SET", "key1", "changed"]);
  t.throws(() => {
    for (let r = gen.next(); r.done !== true; r = gen.next());
  }, /changed while the snapshot was being written/);
  t.throws(() => [...snapshotChunks(e, { seq: -1, logChecksum: Buffer.alloc(8) })], /seq/);
  t.throws(() => [...snapshotChunks(e, { seq: 1, logChecksum: Buffer.alloc(4) })], /8 bytes/);
});

t.test("a snapshot with more databases than the engine is refused", async (t) => {
  const clock = new TestClock();
  const e = newEngine(clock);
  e.execute(["SET", "a", "1"]);
  const small = (): Engine => {
    const x = newEngine(clock);
    x.dbs.length = 4;
    return x;
  };
  await t.rejects(readSnapshot(writeAll(e), { newEngine: small }), /16 databases, the engine 4/);
});

t.test("loadSnapshotSync: the same parser and checks, synchronously, into fresh dbs", async (t) => {
  const clock = new TestClock();
  const e = newEngine(clock);
  for (let i = 0; i < 200; i++) e.execute(["SET", `k${i}`, "v".repeat(i)]);
  e.execute(["SELECT", "7"]);
  e.execute(["HSET", "h", "f", "v"]);
  const progress: number[] = [];
  const chunks = [...snapshotChunks(e, META, { chunkBytes: 512, onProgress: (k) => progress.push(k) })];
  t.equal(progress.at(-1), 201, "the writer reports every key by the end");
  t.ok(progress.every((k, i) => i === 0 || k >= (progress[i - 1] ?? 0)), "progress never goes back");
  const loaded = loadSnapshotSync(chunks, { databases: 16 });
  t.equal(loaded.dbs.length, 16);
  t.equal(loaded.keys, 201);
  t.equal(loaded.dbs[7]?.data.size, 1);
  t.equal(loaded.header.digest, e.checksum());
  t.throws(() => loadSnapshotSync(chunks, { databases: 4 }), /16 databases, the engine 4/);
  const bad = chunks.map((c) => Buffer.from(c));
  const mid = bad[3];
  if (mid !== undefined) mid[mid.length - 1] = (mid[mid.length - 1] ?? 0) ^ 1;
  t.throws(() => loadSnapshotSync(bad, { databases: 16 }), SnapshotError);
  t.throws(() => loadSnapshotSync(chunks.slice(0, -1), { databases: 16 }), /truncated/);
});
