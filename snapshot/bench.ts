// Snapshot throughput on a mixed dataset: `node dist/snapshot/bench.js [keys]`.
// Measures encoding (writer to memory), decoding (reader from memory, with
// and without the final checksum check) and the same through the fs store.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { readSnapshot, snapshotChunks } from "./format";
import { FsStore, snapshotName } from "./store";
import { buildDataset, newEngine, TestClock, type KeySpec, type KeyType } from "./testkit";

const MIX: readonly [KeyType, number][] = [
  ["string", 50],
  ["hash", 15],
  ["list", 10],
  ["set", 8],
  ["intset", 5],
  ["zset", 10],
  ["stream", 2],
];

function specs(keys: number): KeySpec[] {
  const out: KeySpec[] = [];
  const total = MIX.reduce((n, [, w]) => n + w, 0);
  for (let i = 0; i < keys; i++) {
    let pick = (i * 7919) % total;
    let type: KeyType = "string";
    for (const [ty, w] of MIX) {
      if (pick < w) {
        type = ty;
        break;
      }
      pick -= w;
    }
    // Mostly small values, one key in 200 a big collection.
    const size = i % 200 === 0 ? 1000 : type === "string" ? 3 : 1 + (i % 12);
    out.push({ db: i % 4, key: `key:${i}:\x00\xfe`, type, size, blob: `value-${i}-\xff\r\n-payload`, ttlMs: i % 5 === 0 ? 3_600_000 : null, shrink: false });
  }
  return out;
}

function mbps(bytes: number, ms: number): string {
  return `${((bytes / 1e6) / (ms / 1000)).toFixed(1)} MB/s`;
}

async function main(): Promise<void> {
  const keys = Number(process.argv[2] ?? 100_000);
  const clock = new TestClock();
  const e = newEngine(clock);
  let t0 = performance.now();
  buildDataset(e, clock, specs(keys));
  console.log(`built ${keys} keys in ${(performance.now() - t0).toFixed(0)} ms`);
  const meta = { seq: 1, logChecksum: Buffer.alloc(8) };
  t0 = performance.now();
  e.digest();
  const digestMs = performance.now() - t0;
  t0 = performance.now();
  e.checksum();
  const checksumMs = performance.now() - t0;
  console.log(`DEBUG DIGEST alone: ${digestMs.toFixed(0)} ms; the dataset checksum (the writer computes it once, the reader once more to verify): ${checksumMs.toFixed(0)} ms`);

  t0 = performance.now();
  const chunks = [...snapshotChunks(e, meta)];
  const writeMs = performance.now() - t0;
  const bytes = chunks.reduce((n, c) => n + c.length, 0);
  console.log(`write (memory): ${bytes} bytes in ${chunks.length} chunks, ${writeMs.toFixed(0)} ms, ${mbps(bytes, writeMs)}, ${((keys / writeMs) * 1000).toFixed(0)} keys/s`);

  t0 = performance.now();
  await readSnapshot(chunks, { newEngine: () => newEngine(clock), verifyDigest: false });
  const readMs = performance.now() - t0;
  console.log(`read (memory, no checksum check): ${readMs.toFixed(0)} ms, ${mbps(bytes, readMs)}`);

  t0 = performance.now();
  const loaded = await readSnapshot(chunks, { newEngine: () => newEngine(clock) });
  const readDigestMs = performance.now() - t0;
  console.log(`read (memory, with checksum check): ${readDigestMs.toFixed(0)} ms, ${mbps(bytes, readDigestMs)}; DEBUG DIGEST equal: ${loaded.engine.digest() === e.digest()}`);

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mnemo-snap-bench-"));
  try {
    const store = await new FsStore(dir).open();
    t0 = performance.now();
    await store.put(snapshotName(1), snapshotChunks(e, meta));
    const putMs = performance.now() - t0;
    t0 = performance.now();
    await readSnapshot(store.get(snapshotName(1)), { newEngine: () => newEngine(clock) });
    const getMs = performance.now() - t0;
    console.log(`fs store: write+fsync ${putMs.toFixed(0)} ms (${mbps(bytes, putMs)}), read+verify ${getMs.toFixed(0)} ms (${mbps(bytes, getMs)})`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

void main();
