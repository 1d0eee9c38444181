// Micro-benchmark of the WAL: persist+sync of 1 and of 100 entries of 100
// bytes per sync (appends/s, p50/p99 latency of one persist+sync), next to the
// raw fdatasync of a 100-byte write on the same file system.
// Run: node dist/log/io/wal-bench.js [dir]
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Entry } from "../raft/types";
import { Wal } from "./wal";

export interface WalBenchResult {
  readonly name: string;
  readonly syncs: number;
  readonly appendsPerSec: number;
  readonly p50Us: number;
  readonly p99Us: number;
}

function pct(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;
}

function summarize(name: string, latNs: number[], appends: number, totalNs: number): WalBenchResult {
  latNs.sort((a, b) => a - b);
  return {
    name,
    syncs: latNs.length,
    appendsPerSec: Math.round(appends / (totalNs / 1e9)),
    p50Us: Math.round(pct(latNs, 0.5) / 1e3),
    p99Us: Math.round(pct(latNs, 0.99) / 1e3),
  };
}

function walCase(dir: string, perSync: number, syncs: number): WalBenchResult {
  const wal = Wal.open(dir);
  const data = Buffer.alloc(100, 0x61);
  const lat: number[] = [];
  let index = 0;
  const start = process.hrtime.bigint();
  for (let s = 0; s < syncs; s++) {
    const t0 = process.hrtime.bigint();
    const entries: Entry[] = [];
    for (let i = 0; i < perSync; i++) entries.push({ index: ++index, term: 1, kind: "normal", data });
    wal.persist({ hardState: { term: 1, vote: "az-a", commit: index - perSync }, entries, snapshot: null });
    wal.sync();
    lat.push(Number(process.hrtime.bigint() - t0));
  }
  const total = Number(process.hrtime.bigint() - start);
  wal.close();
  return summarize(`wal persist+sync, ${perSync} x 100 B per sync`, lat, index, total);
}

function rawCase(dir: string, syncs: number): WalBenchResult {
  fs.mkdirSync(dir, { recursive: true });
  const fd = fs.openSync(path.join(dir, "raw"), "a");
  const buf = Buffer.alloc(100, 0x62);
  const lat: number[] = [];
  const start = process.hrtime.bigint();
  for (let s = 0; s < syncs; s++) {
    const t0 = process.hrtime.bigint();
    fs.writeSync(fd, buf);
    fs.fdatasyncSync(fd);
    lat.push(Number(process.hrtime.bigint() - t0));
  }
  const total = Number(process.hrtime.bigint() - start);
  fs.closeSync(fd);
  return summarize("raw write(100 B)+fdatasync", lat, syncs, total);
}

/** Runs the cases in a temp dir under `parent` (default os.tmpdir()), prints and returns the results. */
export function runWalBench(parent: string = os.tmpdir(), syncs = 2000): WalBenchResult[] {
  const root = fs.mkdtempSync(path.join(parent, "mnemo-wal-bench-"));
  try {
    const results = [walCase(path.join(root, "a"), 1, syncs), walCase(path.join(root, "b"), 100, syncs), rawCase(path.join(root, "c"), syncs)];
    for (const r of results) {
      console.log(`${r.name.padEnd(42)} ${String(r.appendsPerSec).padStart(9)} appends/s  p50 ${r.p50Us} us  p99 ${r.p99Us} us  (${r.syncs} syncs)`);
    }
    return results;
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

if (require.main === module) runWalBench(process.argv[2]);
